//! On-stack replacement up (DESIGN §3.9): a frame running baseline code
//! (plain or debug) in a hot loop continues in optimized code at the loop's
//! header, mid-call, once an OSR entry for that loop is compiled.
//!
//! When: under dynamic tiering, once the function's budget ran out and its
//! optimized code is in (the frame outlived its function's compile, see
//! `tiering::InstanceShared::wants_osr`); in profile mode (the tiering's
//! `Optimized` mode), always, at any loop-header check: the entry takes the
//! locals and the operand stack there (loop parameters and v128 values
//! included).
//!
//! How: the first such check asks for the loop's OSR entry
//! (`optimizing::compile_osr_entry`) on the engine's compile pool, ahead of
//! queued tier-ups, and the frame's budget polls (or, in code that charges
//! none, the interrupt word stays tripped) so a later check comes back
//! here; once the entry is ready, a check copies the frame's locals and
//! operand stack into a state buffer and makes its runtime call
//! return to the up pad (`vm::osr::up_pad`), which pops the baseline frame
//! and jumps into the entry as if the frame's caller had called it.
//! Entries are kept for the life of the process (like code of other tiers,
//! they may still run).

use super::instance::InstanceData;
use crate::code::{self, CodeObject, Tier, ValueLoc};
use crate::types::ValType;
use crate::vm::layout::{VMRuntimeLimits, VMCTX_LIMITS};
use crate::vm::osr as mach;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Baseline frame slots (see `baseline::codegen`).
const SAVED_R15: i32 = -8;
const SAVED_R14: i32 = -16;
const RESULTS_AREA: i32 = -24;
const SAVED_R13: i32 = -32;

enum Entry {
    Compiling,
    Ready(Arc<CodeObject>, Duration),
    Failed,
}

type Key = (u64, u32, u32);

fn entries() -> &'static Mutex<HashMap<Key, Entry>> {
    static E: std::sync::OnceLock<Mutex<HashMap<Key, Entry>>> = std::sync::OnceLock::new();
    E.get_or_init(Default::default)
}

thread_local! {
    /// The state handed to the last OSR entry (it reads it at once).
    static STATE: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// Frames moved up so far, process-wide (tests).
static MOVED: AtomicU64 = AtomicU64::new(0);

/// Frames moved from baseline to optimized code so far.
pub fn moves_up() -> u64 {
    MOVED.load(Ordering::Relaxed)
}

/// The OSR entries compiled for function `func` of module `module_id`.
pub(crate) fn entries_of(module_id: u64, func: u32) -> Vec<Arc<CodeObject>> {
    let map = entries().lock().unwrap_or_else(|e| e.into_inner());
    map.iter()
        .filter(|((m, f, _), _)| *m == module_id && *f == func)
        .filter_map(|(_, e)| match e {
            Entry::Ready(o, _) => Some(o.clone()),
            _ => None,
        })
        .collect()
}

fn limits(vmctx: *mut u8) -> &'static VMRuntimeLimits {
    // SAFETY: the vmctx header holds the store's limits, which live as long
    // as the store that runs this code.
    unsafe { &**(vmctx.add(VMCTX_LIMITS as usize) as *const *const VMRuntimeLimits) }
}

/// Makes the next interrupt check of this store call the runtime.
pub(crate) fn trip(vmctx: *mut u8) {
    limits(vmctx)
        .stack_limit
        .store(usize::MAX, Ordering::SeqCst);
}

/// A baseline frame (plain or debug code) stopped at a loop-header check:
/// what moving it up needs to know.
pub(crate) struct LoopCheck<'a> {
    pub inst: &'a InstanceData,
    pub vmctx: *mut u8,
    pub func: u32,
    /// The loop's module offset.
    pub wasm_offset: u32,
    pub fp: usize,
    /// The check's register save area: 16 GPRs, then 16 xmm registers of
    /// two words each.
    pub regs: *mut u64,
    /// Debug code (else plain baseline code).
    pub debug: bool,
}

impl LoopCheck<'_> {
    fn key(&self) -> Key {
        (self.inst.module.info().id, self.func, self.wasm_offset)
    }

    /// Where the check's runtime call returns to (just below the save area).
    fn ret_slot(&self) -> usize {
        self.regs as usize - 8
    }
}

/// From a loop-header check: moves the frame up if it should and can.
/// True when it moved.
pub(crate) fn at_loop_check(c: &LoopCheck) -> bool {
    if !c.inst.shared.wants_osr(c.func) {
        return false;
    }
    let key = c.key();
    let ready = {
        let mut map = entries().lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&key) {
            Some(Entry::Ready(o, t)) => Some((o.clone(), *t)),
            Some(Entry::Failed) => return false,
            Some(Entry::Compiling) => None,
            None => {
                map.insert(key, Entry::Compiling);
                compile(c.inst, key);
                None
            }
        }
    };
    let Some((obj, spent)) = ready else {
        // Come back to see whether it is ready: after a little more work of
        // this frame (its budget polls), or at the very next check where the
        // code charges no budget. Tripping every check while a compile runs
        // made each iteration of the loop a runtime call.
        if c.debug || !c.inst.shared.poll_later(c.func) {
            trip(c.vmctx);
        }
        return false;
    };
    let moved = frame_words(c).and_then(|words| transfer(c, words, &obj));
    if moved.is_err() {
        return false;
    }
    MOVED.fetch_add(1, Ordering::Relaxed);
    let engine = c.inst.module.engine();
    let from = if c.debug { Tier::Debug } else { Tier::Baseline };
    engine.emit(crate::engine::TierEvent {
        module_id: key.0,
        func_index: c.func,
        func_name: c.inst.module.info().func_name(c.func).map(str::to_string),
        from,
        to: Tier::Optimized,
        compile_time: spent,
        at: engine.inner.started.elapsed(),
        note: Some(format!(
            "on-stack replacement {} -> optimized at the loop at {:#x} \
             (OSR entry compiled in {:.2} ms)",
            from.name(),
            c.wasm_offset,
            spent.as_secs_f64() * 1000.0
        )),
    });
    true
}

/// Compiles the OSR entry for `key` on the engine's compile pool, ahead of
/// queued tier-ups (so it does not wait behind a whole-module tier-up, and
/// does not take a core of its own from the thread running wasm).
fn compile(inst: &InstanceData, key: Key) {
    let module = inst.shared.module.clone();
    let (_, func, at) = key;
    let job = move || {
        let entry = match compile_entry(&module, func, at) {
            Some((o, t)) => Entry::Ready(o, t),
            None => Entry::Failed,
        };
        entries()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, entry);
    };
    if !inst.module.engine().pool().submit_urgent(Box::new(job)) {
        entries()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, Entry::Failed);
    }
}

/// Native stack of a thread that compiles an OSR entry.
const COMPILE_STACK: usize = 8 << 20;

/// Compiles and publishes `func`'s OSR entry for the loop at `at`.
fn compile_entry(
    module: &crate::codecache::CompiledModule,
    func: u32,
    at: u32,
) -> Option<(Arc<CodeObject>, Duration)> {
    let t0 = Instant::now();
    let mut c =
        crate::optimizing::compile_osr_entry(module.info(), &module.sig_ids, func, at).ok()?;
    c.osr_loop = Some(at);
    let o = code::publish(
        code::CodeKind::Wasm(Tier::Optimized),
        module.info().id,
        vec![(func, c)],
    )
    .ok()?;
    Some((o, t0.elapsed()))
}

/// Why a stressed frame did not move up (see [`up_skips`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Skip {
    /// No OSR entry: the optimizing tier refused it, or another thread is
    /// still compiling it.
    NoEntry = 0,
    /// The frame is not what its check says (code or layout unexpected).
    Frame = 1,
}

/// Stressed checks that could not move their frame up, by [`Skip`] reason.
static SKIPS: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

/// Stressed loop-header checks whose frame stayed in baseline code, by
/// reason: no OSR entry, unexpected frame (tests).
pub fn up_skips() -> [u64; 2] {
    SKIPS.each_ref().map(|m| m.load(Ordering::Relaxed))
}

/// Stress (test-only, `runtime::osr`): moves the frame into the loop's OSR
/// entry now, compiling the entry on the spot (on a thread of its own,
/// waited for) when this is its first time. No tier event: the move is the
/// test's, not the tiering's. False when the frame stays, the reason
/// counted in [`up_skips`].
pub(crate) fn stress_up(c: &LoopCheck) -> bool {
    // The frame is read first so that a frame that cannot move is counted
    // for its own reason before any entry is compiled.
    let moved = frame_words(c).and_then(|words| {
        let obj = entry_now(c.inst, c.key()).ok_or(Skip::NoEntry)?;
        transfer(c, words, &obj)
    });
    match moved {
        Ok(()) => true,
        Err(why) => {
            SKIPS[why as usize].fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

/// The OSR entry for `key`, compiled now (and kept) if there is none yet.
fn entry_now(inst: &InstanceData, key: Key) -> Option<Arc<CodeObject>> {
    {
        let map = entries().lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&key) {
            Some(Entry::Ready(o, _)) => return Some(o.clone()),
            Some(Entry::Failed | Entry::Compiling) => return None,
            None => {}
        }
    }
    let module = inst.shared.module.clone();
    let (_, func, at) = key;
    let made = std::thread::Builder::new()
        .name("wdb-osr-compile".into())
        .stack_size(COMPILE_STACK)
        .spawn(move || compile_entry(&module, func, at))
        .ok()?
        .join()
        .ok()?;
    let mut map = entries().lock().unwrap_or_else(|e| e.into_inner());
    // Another thread may have put one in meanwhile: that one may already
    // run, so it stays (ours never ran).
    let e = map.entry(key).or_insert(match made {
        Some((o, t)) => Entry::Ready(o, t),
        None => Entry::Failed,
    });
    match e {
        Entry::Ready(o, _) => Some(o.clone()),
        _ => None,
    }
}

/// The state an OSR entry takes (see `optimizing::osr_entry`) read from
/// the frame: every local in local order, then the operand stack at the
/// header bottom first, one word each, two for a v128 (low half first).
fn frame_words(c: &LoopCheck) -> Result<Vec<u64>, Skip> {
    // SAFETY: baseline checks pass their save area right above the return
    // address of their runtime call.
    let ret = unsafe { mach::read_slot(c.ret_slot(), 0) } as usize;
    let bobj = code::object_at(ret).ok_or(Skip::Frame)?;
    let bf = bobj.func_at(ret).ok_or(Skip::Frame)?;
    if bf.func_index != c.func || bf.debug.is_some() != c.debug {
        return Err(Skip::Frame);
    }
    let checks = &bf.checks;
    let stack = checks.loop_stack(c.wasm_offset).ok_or(Skip::Frame)?;
    let mut words = Vec::with_capacity(checks.locals.len() + stack.len());
    // At loop headers every local is in its frame slot.
    for &(ty, loc) in &checks.locals {
        if !matches!(loc, ValueLoc::Frame(_)) {
            return Err(Skip::Frame);
        }
        push_value(c, ty, loc, &mut words)?;
    }
    for &(ty, loc) in stack {
        push_value(c, ty, loc, &mut words)?;
    }
    Ok(words)
}

/// Appends the value of type `ty` at `loc` in the stopped frame to `out`.
fn push_value(c: &LoopCheck, ty: ValType, loc: ValueLoc, out: &mut Vec<u64>) -> Result<(), Skip> {
    let xmm = |x: u8, half: usize| {
        // SAFETY: the save area holds 16 GPR slots, then 16 xmm slots of
        // two words each.
        unsafe { *c.regs.add(16 + 2 * (x as usize & 15) + half) }
    };
    // SAFETY: frame slots of the live frame (locals and operand homes).
    let slot = |off: i32| unsafe { mach::read_slot(c.fp, off) };
    // SAFETY: the save area's first 16 slots hold the GPRs.
    let gpr = |r: u8| unsafe { *c.regs.add(r as usize & 15) };
    let (lo, hi) = match loc {
        ValueLoc::Frame(off) if ty.is_v128() => (slot(off), slot(off + 8)),
        ValueLoc::Frame(off) => (slot(off), 0),
        ValueLoc::Xmm(x) => (xmm(x, 0), xmm(x, 1)),
        ValueLoc::Gpr(r) if !ty.is_v128() => (gpr(r), 0),
        ValueLoc::Const(v) if !ty.is_v128() => (v, 0),
        _ => return Err(Skip::Frame),
    };
    if ty.is_v128() {
        out.extend([lo, hi]);
    } else if ty.is_64bit() {
        out.push(lo);
    } else {
        out.push(lo & 0xffff_ffff);
    }
    Ok(())
}

/// Hands the frame's state (`words`, from [`frame_words`]) to the OSR entry
/// in `obj` through the up pad.
fn transfer(c: &LoopCheck, words: Vec<u64>, obj: &CodeObject) -> Result<(), Skip> {
    let f = obj.funcs.first().ok_or(Skip::NoEntry)?;
    let target = obj.start() + f.start;
    let pad = mach::up_pad().map_err(|_| Skip::Frame)?;
    let state = STATE.with(|s| {
        let mut s = s.borrow_mut();
        *s = words;
        s.as_ptr() as u64
    });
    let two_results = c.inst.module.info().func_type(c.func).results().len() >= 2;
    let set = |r: usize, v: u64| {
        // SAFETY: the save area holds 16 GPR slots; the pad reads them.
        unsafe { *c.regs.add(r) = v }
    };
    // SAFETY: frame slots the baseline prologue wrote (saved r15, r14, the
    // results area, and in debug code the caller's r13).
    let slot = |off: i32| unsafe { mach::read_slot(c.fp, off) };
    set(7, c.vmctx as u64);
    set(6, state);
    if two_results {
        set(2, slot(RESULTS_AREA));
    }
    set(11, target as u64);
    if c.debug {
        set(13, slot(SAVED_R13));
    }
    set(14, slot(SAVED_R14));
    set(15, slot(SAVED_R15));
    // SAFETY: the return-address slot of this check's runtime call; the up
    // pad expects the state that call returns with.
    unsafe { mach::patch_return(c.ret_slot(), pad) };
    Ok(())
}
