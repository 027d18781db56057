//! Streaming compilation (as V8 does it): a module read from a byte stream is
//! compiled function by function as the bodies arrive, so compiling overlaps
//! reading from a file, a pipe or a socket.
//!
//! The calling thread reads and parses ([`StreamParser`]); as soon as the code
//! section starts, compile workers (`Config::compile_threads`, at least one,
//! so reading never waits for compiling) take each body with its validator.
//! The compilers see the module header with the body in its streamed cell,
//! exactly as they see a complete module, so they need no streaming of their
//! own. Under lazy compilation the workers only validate.
//!
//! Errors are the ones [`crate::Module::new`] gives for the same bytes: a
//! decoding or module-level validation error anywhere wins over an error in
//! a function body (the whole buffer is decoded before any body is compiled
//! there), and of body errors the one of the lowest function index is
//! reported. After a body error, bodies of higher index are not compiled.

use crate::code::FuncCode;
use crate::codecache::{compile_one, tier_of, CompileContext};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::module::{ModuleInfo, StreamEvent, StreamParser};
use std::io::Read;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::sync::Mutex;
use wasmparser::{FuncToValidate, ValidatorResources};

type Job = (u32, FuncToValidate<ValidatorResources>);

/// A module read, validated and (unless lazy) compiled from a stream.
pub(crate) struct Streamed {
    pub info: ModuleInfo,
    /// Canonical signature id per type index.
    pub sig_ids: Vec<u32>,
    /// Every defined function's code in index order; `None` when lazy.
    pub funcs: Option<Vec<(u32, FuncCode)>>,
}

/// What the workers share.
struct Work<'a> {
    cx: CompileContext<'a>,
    lazy: bool,
    jobs: Mutex<Receiver<Job>>,
    /// Code by defined-function index.
    done: Mutex<Vec<Option<FuncCode>>>,
    /// Lowest defined-function index whose body failed (`u32::MAX`: none).
    failed: AtomicU32,
    errors: Mutex<Vec<(u32, Error)>>,
}

/// Reads `reader` to its end, validating and compiling as bytes arrive.
pub(crate) fn compile(engine: &Engine, reader: impl Read) -> Result<Streamed> {
    let config = engine.config();
    let mut parser = StreamParser::new(reader, config.features);
    let header = match parser.next_event()? {
        Some(StreamEvent::Header(h)) => h,
        _ => return Err(Error::Internal("stream parser gave no header".into())),
    };
    let sig_ids: Vec<u32> = header.types.iter().map(|t| engine.intern(t).0).collect();
    let n = header.num_defined_funcs() as usize;
    let (tx, rx) = channel::<Job>();
    let work = Work {
        cx: CompileContext {
            info: &header,
            sig_ids: &sig_ids,
            strategy: config.strategy,
        },
        lazy: config.lazy,
        jobs: Mutex::new(rx),
        done: Mutex::new((0..n).map(|_| None).collect()),
        failed: AtomicU32::new(u32::MAX),
        errors: Mutex::new(Vec::new()),
    };
    let threads = config.compile_threads.clamp(1, n.max(1));
    let parsed: Result<()> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads).map(|_| s.spawn(|| worker(&work))).collect();
        let tx = tx;
        let parsed = loop {
            match parser.next_event() {
                Ok(Some(StreamEvent::Body { func, validator })) => {
                    // The workers only stop early by panicking (reported below).
                    let _ = tx.send((func, validator));
                }
                Ok(Some(StreamEvent::Header(_))) => {}
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        if parsed.is_err() {
            // Nothing compiled will be used: the workers skip what is queued.
            work.failed.store(0, Ordering::SeqCst);
        }
        drop(tx);
        let mut panicked = false;
        for w in workers {
            panicked |= w.join().is_err();
        }
        if panicked && parsed.is_ok() {
            return Err(Error::Internal("compiler thread panicked".into()));
        }
        parsed
    });
    parsed?;
    let mut errors = std::mem::take(&mut *lock(&work.errors));
    if let Some(i) = (0..errors.len()).min_by_key(|&i| errors[i].0) {
        return Err(errors.swap_remove(i).1);
    }
    let done = std::mem::take(&mut *lock(&work.done));
    drop(work);
    drop(header);
    let info = parser.finish();
    let base = info.num_imported_funcs;
    let funcs = if config.lazy {
        None
    } else {
        let funcs: Option<Vec<(u32, FuncCode)>> = done
            .into_iter()
            .enumerate()
            .map(|(k, c)| c.map(|c| (base + k as u32, c)))
            .collect();
        Some(funcs.ok_or_else(|| Error::Internal("a streamed function was not compiled".into()))?)
    };
    Ok(Streamed {
        info,
        sig_ids,
        funcs,
    })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One compile worker: takes bodies until the reader is done.
fn worker(work: &Work) {
    let info = work.cx.info;
    loop {
        let job = lock(&work.jobs).recv();
        let Ok((func, fv)) = job else {
            return;
        };
        let k = func - info.num_imported_funcs;
        if k > work.failed.load(Ordering::SeqCst) {
            continue;
        }
        let validator = fv.into_validator(Default::default());
        let result = if work.lazy {
            info.validate_body(func, validator).map(|()| None)
        } else {
            let tier = tier_of(info, work.cx.strategy, k);
            compile_one(work.cx, func, tier, Some(validator)).map(Some)
        };
        match result {
            Ok(code) => lock(&work.done)[k as usize] = code,
            Err(e) => {
                work.failed.fetch_min(k, Ordering::SeqCst);
                lock(&work.errors).push((k, e));
            }
        }
    }
}
