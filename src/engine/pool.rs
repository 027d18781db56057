//! The background compile pool: worker threads that run compile jobs so the
//! thread running wasm never waits for the optimizing compiler. Workers run
//! at a lower priority than the rest of the process (see
//! [`crate::vm::thread`]): on a machine with few cores a tier-up compile
//! must not take the time of the thread running wasm, which it is meant to
//! speed up. Urgent jobs (an OSR entry a running frame waits for) go ahead
//! of the queue.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex};

pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// The queue the workers share; `closed` when the pool is dropped.
#[derive(Default)]
struct Queue {
    jobs: Mutex<(VecDeque<Job>, bool)>,
    ready: Condvar,
}

pub struct CompilePool {
    queue: Arc<Queue>,
    threads: usize,
}

impl CompilePool {
    /// Starts `threads` workers (at least one). They exit when the pool is dropped.
    pub fn new(threads: usize) -> CompilePool {
        let threads = threads.max(1);
        let queue = Arc::new(Queue::default());
        let mut started = 0;
        for i in 0..threads {
            let q = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("wdb-compile-{i}"))
                .stack_size(8 << 20)
                .spawn(move || worker(&q));
            if spawned.is_ok() {
                started += 1;
            }
        }
        CompilePool {
            queue,
            threads: started,
        }
    }

    /// Default size: one worker per core but one (the core running wasm), at least one.
    pub fn default_threads() -> usize {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .saturating_sub(1)
            .max(1)
    }

    /// Queues a job behind the others; returns false if no worker can run it.
    pub fn submit(&self, job: Job) -> bool {
        self.push(job, false)
    }

    /// Queues a job ahead of the others (a running frame waits for it).
    pub fn submit_urgent(&self, job: Job) -> bool {
        self.push(job, true)
    }

    fn push(&self, job: Job, front: bool) -> bool {
        if self.threads == 0 {
            return false;
        }
        let mut q = self.queue.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if front {
            q.0.push_front(job);
        } else {
            q.0.push_back(job);
        }
        self.queue.ready.notify_one();
        true
    }
}

impl Drop for CompilePool {
    fn drop(&mut self) {
        let mut q = self.queue.jobs.lock().unwrap_or_else(|e| e.into_inner());
        q.1 = true;
        self.queue.ready.notify_all();
    }
}

fn worker(queue: &Queue) {
    crate::vm::thread::lower_priority(crate::vm::thread::COMPILE_NICE);
    loop {
        let job = {
            let mut q = queue.jobs.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(job) = q.0.pop_front() {
                    break job;
                }
                if q.1 {
                    return;
                }
                q = queue.ready.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        // A panicking job must not take the worker down.
        drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)));
    }
}
