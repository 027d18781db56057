//! The background compile pool: worker threads that run compile jobs so the
//! thread running wasm never waits for the optimizing compiler.

use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

pub type Job = Box<dyn FnOnce() + Send + 'static>;

pub struct CompilePool {
    tx: Mutex<Sender<Job>>,
    threads: usize,
}

impl CompilePool {
    /// Starts `threads` workers (at least one). They exit when the pool is dropped.
    pub fn new(threads: usize) -> CompilePool {
        let threads = threads.max(1);
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for i in 0..threads {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("wdb-compile-{i}"))
                .stack_size(8 << 20)
                .spawn(move || worker(rx));
            if spawned.is_ok() {
                started += 1;
            }
        }
        CompilePool {
            tx: Mutex::new(tx),
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

    /// Queues a job; returns false if no worker can run it.
    pub fn submit(&self, job: Job) -> bool {
        self.threads > 0
            && self
                .tx
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .send(job)
                .is_ok()
    }
}

fn worker(rx: Arc<Mutex<Receiver<Job>>>) {
    loop {
        let job = {
            let guard = rx.lock().unwrap_or_else(|e| e.into_inner());
            guard.recv()
        };
        match job {
            // A panicking job must not take the worker down.
            Ok(job) => drop(std::panic::catch_unwind(std::panic::AssertUnwindSafe(job))),
            Err(_) => return,
        }
    }
}
