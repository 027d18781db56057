//! Debug code ahead of need: while a debugger session runs, one background
//! thread at low priority compiles every function's debug code, so that a
//! pause moves the running frame (and its callers) into code that is ready
//! instead of compiling it then (on-stack replacement down, `runtime::osr`).
//!
//! Order: functions on the stack first (the thread asks the program thread
//! for them now and then: one runtime call at its next interrupt check,
//! see `runtime::osr_return::note_stack`), then by heat (calls plus
//! tier-up budget spent, as `tier_up_all` orders them), then smaller bodies
//! first. A pause puts the paused frames' functions at the front
//! ([`urgent`]). Code compiled here goes into the module's code cache, where
//! the lazy tier-down stubs and the OSR paths find it; a slot that still
//! points at its lazy stub after a tier-down is pointed at the new code.
//!
//! The thread holds only a weak reference to the instance and ends when
//! every function has debug code or the instance is gone.

use super::{InstanceShared, Mode};
use crate::code::Tier;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

/// Wasm body bytes compiled per batch: small enough that an urgent request
/// waits at most a few milliseconds behind the batch in progress.
const BATCH_BYTES: usize = 16 * 1024;
/// How often the thread asks the program thread for its stack.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// The thread's nice value (0 = normal, 19 = lowest).
const NICE: i32 = 10;

/// The per-instance state of the precompiler.
#[derive(Default)]
pub(crate) struct Precompile {
    started: AtomicBool,
    /// Functions to compile before any other, in order.
    urgent: Mutex<Vec<u32>>,
    /// The batch being compiled now.
    compiling: Mutex<Vec<u32>>,
    /// Notified when a batch is done.
    done: Condvar,
}

/// Asks the program thread to report its stack (see the module docs).
type SampleStack = Box<dyn Fn() + Send + 'static>;

/// Starts the precompiler of `shared` (once per instance).
pub(crate) fn start(shared: &Arc<InstanceShared>, sample: SampleStack) {
    if shared.precompile.started.swap(true, Ordering::SeqCst) {
        return;
    }
    let weak = Arc::downgrade(shared);
    let spawned = std::thread::Builder::new()
        .name("wdb-debug-precompile".into())
        .stack_size(8 << 20)
        .spawn(move || {
            crate::vm::lower_thread_priority(NICE);
            run(weak, sample)
        });
    if spawned.is_err() {
        // No thread: debug code compiles when it is needed, as without one.
        shared.precompile.started.store(false, Ordering::SeqCst);
    }
}

/// Puts `funcs` (e.g. a pause's frames, innermost first) at the front of
/// the precompiler's queue, if it runs.
pub(crate) fn urgent(shared: &InstanceShared, funcs: &[u32]) {
    let p = &shared.precompile;
    if !p.started.load(Ordering::SeqCst) {
        return;
    }
    let missing: Vec<u32> = funcs
        .iter()
        .copied()
        .filter(|&f| shared.module.code_ptr(f, Tier::Debug).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut q = p.urgent.lock().unwrap_or_else(|e| e.into_inner());
    q.retain(|f| !missing.contains(f));
    q.splice(0..0, missing);
}

/// If the precompiler is compiling `func` right now, waits until it is
/// done (at most `limit`): finishing that compile is sooner than starting
/// another of the same function.
pub(crate) fn wait_for(shared: &InstanceShared, func: u32, limit: Duration) {
    let p = &shared.precompile;
    if !p.started.load(Ordering::SeqCst) {
        return;
    }
    let until = Instant::now() + limit;
    let mut c = p.compiling.lock().unwrap_or_else(|e| e.into_inner());
    while c.contains(&func) {
        let now = Instant::now();
        if now >= until {
            return;
        }
        c = match p.done.wait_timeout(c, until - now) {
            Ok((g, _)) => g,
            Err(e) => e.into_inner().0,
        };
    }
}

fn run(weak: Weak<InstanceShared>, sample: SampleStack) {
    let mut left: Vec<u32> = match weak.upgrade() {
        Some(s) => s.all_defined(),
        None => return,
    };
    let mut sampled: Option<Instant> = None;
    loop {
        let Some(shared) = weak.upgrade() else {
            return;
        };
        if sampled.is_none_or(|t| t.elapsed() >= SAMPLE_EVERY) {
            sample();
            sampled = Some(Instant::now());
        }
        let module = &shared.module;
        left.retain(|&f| module.code_ptr(f, Tier::Debug).is_none());
        // The first urgent function alone (its code is published as soon
        // as it is compiled), else a batch of the hottest.
        let first_urgent = {
            let mut q = shared
                .precompile
                .urgent
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            q.retain(|&f| module.code_ptr(f, Tier::Debug).is_none());
            (!q.is_empty()).then(|| q.remove(0))
        };
        if left.is_empty() && first_urgent.is_none() {
            return;
        }
        let batch = match first_urgent {
            Some(f) => vec![f],
            None => next_batch(&shared, &mut left),
        };
        set_compiling(&shared.precompile, batch.clone());
        let ok = module.ensure_tier(&batch, Tier::Debug, 1).is_ok();
        set_compiling(&shared.precompile, Vec::new());
        if !ok {
            // A function that does not compile is left to its lazy stub
            // (which reports the error where it is called).
            left.retain(|f| !batch.contains(f));
            continue;
        }
        install_ready(&shared, &batch);
    }
}

fn set_compiling(p: &Precompile, batch: Vec<u32>) {
    *p.compiling.lock().unwrap_or_else(|e| e.into_inner()) = batch;
    p.done.notify_all();
}

/// Takes the next batch off `left`: the hottest functions, then the
/// smallest, up to [`BATCH_BYTES`] of body (at least one function).
fn next_batch(shared: &InstanceShared, left: &mut Vec<u32>) -> Vec<u32> {
    let info = shared.module.info();
    let size = |f: u32| info.body(f).map_or(0, |b| b.range.len());
    left.sort_by_cached_key(|&f| (std::cmp::Reverse(shared.heat(f)), size(f)));
    let mut bytes = 0;
    let mut n = 0;
    while n < left.len() && (n == 0 || bytes + size(left[n]) <= BATCH_BYTES) {
        bytes += size(left[n]);
        n += 1;
    }
    left.drain(..n).collect()
}

/// After a tier-down, slots of `funcs` that still point at their lazy stub
/// get the debug code just compiled (saving the stub's trip through the
/// runtime).
fn install_ready(shared: &InstanceShared, funcs: &[u32]) {
    if shared.mode() != Mode::Debug {
        return;
    }
    for &f in funcs {
        let (Some(k), Ok(stub), Some(code)) = (
            shared.defined(f),
            shared.module.lazy_stub(f),
            shared.module.code_ptr(f, Tier::Debug),
        ) else {
            continue;
        };
        if shared.tier(f) == Some(Tier::Debug) {
            shared.table.replace(k, stub, code, Tier::Debug);
        }
    }
}
