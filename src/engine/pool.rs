//! The background compile pool: worker threads that run compile jobs so the
//! thread running wasm never waits for the optimizing compiler. Workers run
//! at a lower priority than the rest of the process (see
//! [`crate::vm::thread`]): on a machine with few cores a tier-up compile
//! must not take the time of the thread running wasm, which it is meant to
//! speed up. Work someone waits for runs on a second set of workers at the
//! normal priority: an OSR entry a running frame waits for (ahead of the
//! others) and profile mode's tier-up of every function (the user waits for
//! a true profile; at a lowered priority it starved whenever another
//! process kept the cores busy). A thread cannot raise its priority back
//! without privileges, so the two kinds of work need their own threads.

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
    /// Background work (dynamic tier-up), for workers at a lowered priority.
    queue: Arc<Queue>,
    /// Work someone waits for, for workers at the normal priority.
    foreground: Arc<Queue>,
    threads: usize,
}

impl CompilePool {
    /// Starts `threads` workers (at least one). They exit when the pool is dropped.
    pub fn new(threads: usize) -> CompilePool {
        let threads = threads.max(1);
        let queue = Arc::new(Queue::default());
        let foreground = Arc::new(Queue::default());
        let mut started = 0;
        for i in 0..threads {
            for (q, lowered, name) in [
                (&queue, true, "compile"),
                (&foreground, false, "compile-fg"),
            ] {
                let q = q.clone();
                let spawned = std::thread::Builder::new()
                    .name(format!("wdb-{name}-{i}"))
                    .stack_size(8 << 20)
                    .spawn(move || worker(&q, lowered));
                if spawned.is_ok() && lowered {
                    started += 1;
                }
            }
        }
        CompilePool {
            queue,
            foreground,
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

    /// Queues background work behind the others; returns false if no
    /// worker can run it.
    pub fn submit(&self, job: Job) -> bool {
        self.push(&self.queue, job, false)
    }

    /// Queues work someone waits for behind the other such work, for the
    /// normal-priority workers (profile mode's tier-up).
    pub fn submit_foreground(&self, job: Job) -> bool {
        self.push(&self.foreground, job, false)
    }

    /// Queues a job ahead of all others, for the normal-priority workers (a
    /// running frame waits for it).
    pub fn submit_urgent(&self, job: Job) -> bool {
        self.push(&self.foreground, job, true)
    }

    fn push(&self, queue: &Queue, job: Job, front: bool) -> bool {
        if self.threads == 0 {
            return false;
        }
        let mut q = queue.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if front {
            q.0.push_front(job);
        } else {
            q.0.push_back(job);
        }
        queue.ready.notify_one();
        true
    }
}

impl Drop for CompilePool {
    fn drop(&mut self) {
        for queue in [&self.queue, &self.foreground] {
            let mut q = queue.jobs.lock().unwrap_or_else(|e| e.into_inner());
            q.1 = true;
            queue.ready.notify_all();
        }
    }
}

fn worker(queue: &Queue, lowered: bool) {
    if lowered {
        crate::vm::thread::lower_priority(crate::vm::thread::COMPILE_NICE);
    }
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
