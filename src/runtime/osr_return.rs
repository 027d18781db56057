//! On-stack replacement at the return from a call (DESIGN §3.9): while a
//! debugger is attached, the callers of a stopped frame that run plain
//! baseline code are made to continue in their debug code when the call
//! returns, by pointing the call's return address at the same call site in
//! the debug code (V8 patches the return addresses of live Liftoff frames
//! the same way).
//!
//! Plain and debug code of one function keep the operand stack in the same
//! places at every call site (`check_layouts_agree` checks it), so the only
//! difference when the call returns is r13: plain code left the caller's r13
//! in it, debug code keeps that in a frame slot and its debug byte in r13.
//! Debug code's landing point for a moved frame stores r13 into the slot,
//! then reloads the debug byte, as it does after every call.
//!
//! Optimized callers are left alone: they run on until they return (their
//! frame note says so). Moving them would need a deoptimization record at
//! every call site, which costs optimized code stores at every call.

use super::instance::{instance_of_vmctx, InstanceData};
use super::osr::{KIND_DEBUG, KIND_ENTRY, KIND_OPTIMIZED, SAVED_R13};
use crate::code::{self, CodeKind, Tier};
use crate::tiering::Mode;
use crate::vm::osr as mach;
use crate::vm::traps;

/// Walk at most this many frames (a deep recursion is patched lazily: the
/// frames beyond are patched at a later stop, if any).
const MAX_FRAMES: usize = 100_000;

/// Longest wait for the precompiler's compile of a function in progress.
pub(crate) const WAIT_PRECOMPILE: std::time::Duration = std::time::Duration::from_secs(2);

/// From a stop of the frame at `fp` (a pause at a check, a breakpoint or a
/// step in debug code) of the instance `vmctx`, on the thread running it:
/// if a debugger is attached, every caller frame of this instance's module
/// that runs plain baseline code continues in debug code when its call
/// returns. `r13`: the r13 of the stopped frame's caller, if known
/// ([`caller_r13`]). Returns the number of frames moved.
pub(crate) fn patch_callers(vmctx: *mut u8, fp: usize, r13: Option<u64>) -> usize {
    patch_callers_if(vmctx, fp, r13, |_| true)
}

/// The r13 the caller of the frame at `fp` had at its call, for a frame
/// stopped in code of kind `kind` (`osr::KIND_*` bits) whose registers are
/// saved at `regs`: debug code past its entry check keeps it in its slot,
/// plain baseline code (and debug code at its entry check) in r13 itself;
/// optimized code's is not known here.
pub(crate) fn caller_r13(fp: usize, kind: u32, regs: *const u64) -> Option<u64> {
    if kind & KIND_OPTIMIZED != 0 || regs.is_null() {
        return None;
    }
    Some(if kind & KIND_DEBUG != 0 && kind & KIND_ENTRY == 0 {
        // SAFETY: debug code past its entry saved the caller's r13 there.
        unsafe { mach::read_slot(fp, SAVED_R13) }
    } else {
        // SAFETY: baseline code's save area holds the 16 GPRs.
        unsafe { *regs.add(13) }
    })
}

/// Like [`patch_callers`], for the callers whose function `which` names
/// (a debug session moves only the frames of functions that want debug
/// code when a breakpoint is set while the program runs).
///
/// A moved frame's slot for its caller's r13 (which plain code leaves in
/// the register) gets that value too, as far as the walk knows it: the
/// call site's landing in debug code stores it there itself, but an
/// exception handler of the debug code is entered without it, and the
/// frame's return restores r13 from that slot.
pub(crate) fn patch_callers_if(
    vmctx: *mut u8,
    fp: usize,
    r13: Option<u64>,
    which: impl Fn(u32) -> bool,
) -> usize {
    let Some(inst) = instance_of_vmctx(vmctx) else {
        return 0;
    };
    if inst.shared.mode() != Mode::Debug {
        return 0;
    }
    let module_id = inst.module.info().id;
    // The frames to move first, then the debug code they lack compiled
    // together (on every core), then the moves.
    let mut frames: Vec<PlainCaller> = Vec::new();
    // The r13 the frame at `next` (the caller) has at its call.
    let mut live = r13;
    for (fp, next, ret, obj) in wasm_callers(fp, MAX_FRAMES) {
        if obj.kind == CodeKind::Wasm(Tier::Baseline)
            && obj.module_id == module_id
            && obj.func_at(ret).is_some_and(|f| which(f.func_index))
        {
            frames.push((fp, next, ret, obj.clone(), live));
        }
        live = match obj.func_at(ret) {
            // SAFETY: debug code past its entry keeps its caller's r13 there.
            Some(f) if f.debug.is_some() => Some(unsafe { mach::read_slot(next, SAVED_R13) }),
            Some(f) => match &f.opt_frame {
                Some(of) => match of.saved.iter().find(|&&(r, _)| r == 13) {
                    // SAFETY: the optimized frame saved r13 there.
                    Some(&(_, off)) => Some(unsafe { mach::read_slot(next, off) }),
                    None => live,
                },
                // Plain baseline code leaves r13 alone.
                None => live,
            },
            None => None,
        };
    }
    compile_debug_code(inst, &frames);
    let mut moved = 0;
    for (fp, next, ret, obj, live) in frames {
        if let Some(to) = debug_return(inst, &obj, ret, &which) {
            // SAFETY: `fp + 8` holds the return address of a call that is
            // on this thread's stack; `to` is the same call site in the
            // caller's debug code, which expects the state plain code's
            // call returns with (same stack places; r13 taken over there).
            unsafe { mach::patch_return(fp + 8, to) };
            if let Some(v) = live {
                // SAFETY: `next` is the caller's frame; both codes
                // reserve the slot, which plain code leaves unused.
                unsafe { mach::write_slot(next, SAVED_R13, v) };
            }
            moved += 1;
        }
    }
    moved
}

/// A caller frame in plain baseline code to move: its frame pointer, its
/// caller's frame pointer, its return address, its code, and the r13 its
/// caller has at the call (if known).
type PlainCaller = (
    usize,
    usize,
    usize,
    std::sync::Arc<code::CodeObject>,
    Option<u64>,
);

/// Compiles the debug code the functions of plain-code `frames` lack, on
/// as many threads as there are cores (after waiting for any of them the
/// precompiler is compiling right now).
fn compile_debug_code(inst: &InstanceData, frames: &[PlainCaller]) {
    let mut missing: Vec<u32> = Vec::new();
    for (_, _, ret, obj, _) in frames {
        if let Some(f) = obj.func_at(*ret) {
            if f.debug.is_none() && !missing.contains(&f.func_index) {
                missing.push(f.func_index);
            }
        }
    }
    missing.retain(|&f| inst.module.code_ptr(f, Tier::Debug).is_none());
    if missing.is_empty() {
        return;
    }
    for &f in &missing {
        crate::tiering::precompile::wait_for(&inst.shared, f, WAIT_PRECOMPILE);
    }
    missing.retain(|&f| inst.module.code_ptr(f, Tier::Debug).is_none());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    // A failure leaves those frames where they are (`debug_return` says so).
    let _ = inst
        .shared
        .module
        .ensure_tier(&missing, Tier::Debug, threads);
}

/// Where a call returning to `ret` in plain baseline code continues in the
/// function's debug code, if the two agree on the call site.
fn debug_return(
    inst: &InstanceData,
    obj: &code::CodeObject,
    ret: usize,
    which: &impl Fn(u32) -> bool,
) -> Option<usize> {
    let f = obj.func_at(ret)?;
    if f.debug.is_some() || !which(f.func_index) {
        return None;
    }
    let native = (ret - obj.start() - f.start) as u32;
    let (wasm, _, stack) = f.checks.calls.iter().find(|(_, n, _)| *n == native)?;
    crate::tiering::precompile::wait_for(&inst.shared, f.func_index, WAIT_PRECOMPILE);
    inst.shared
        .module
        .ensure_tier(&[f.func_index], Tier::Debug, 1)
        .ok()?;
    let ptr = inst.module.code_ptr(f.func_index, Tier::Debug)? as usize;
    let dobj = code::object_at(ptr)?;
    let df = dobj.func_at(ptr)?;
    df.debug.as_ref()?;
    let (land, dstack) = df.checks.call_at(*wasm)?;
    if dstack != &stack[..] || df.checks.frame_size != f.checks.frame_size {
        return None;
    }
    Some(dobj.start() + df.start + land as usize)
}

/// From an interrupt check that found `INTERRUPT_SAMPLE` set: tells the
/// debug-code precompiler (`tiering::precompile`) which functions of this
/// instance's module are on the stack, innermost first (`func` runs the
/// frame at `fp`), so it compiles their debug code first.
pub(crate) fn note_stack(vmctx: *mut u8, func: u32, fp: usize) {
    let Some(inst) = instance_of_vmctx(vmctx) else {
        return;
    };
    let mut funcs = vec![func];
    on_stack(inst, fp, SAMPLE_FRAMES, &mut funcs);
    crate::tiering::precompile::urgent(&inst.shared, &funcs);
}

/// Frames a stack sample walks (a deep recursion repeats its functions).
const SAMPLE_FRAMES: usize = 256;

/// Appends the functions of `inst`'s module whose frames are the callers of
/// the frame at `fp` (on this thread, the innermost `max` frames), innermost
/// first, once each.
pub(crate) fn on_stack(inst: &InstanceData, fp: usize, max: usize, out: &mut Vec<u32>) {
    let module_id = inst.module.info().id;
    for (_, _, ret, obj) in wasm_callers(fp, max) {
        if obj.module_id == module_id {
            if let Some(f) = obj.func_at(ret) {
                if !out.contains(&f.func_index) {
                    out.push(f.func_index);
                }
            }
        }
    }
}

/// The wasm frames on this thread from the frame at `fp` outwards (at most
/// `max`), as (frame pointer, caller's frame pointer, return address into
/// the caller, the caller's code), up to the entry trampoline's frame.
fn wasm_callers(
    fp: usize,
    max: usize,
) -> impl Iterator<Item = (usize, usize, usize, std::sync::Arc<code::CodeObject>)> {
    let act = traps::current();
    let stop = if act.is_null() {
        0
    } else {
        // SAFETY: the activation of this thread is live while wasm runs.
        unsafe { (*act).saved_rbp }
    };
    let mut fp = if act.is_null() { 0 } else { fp };
    let mut left = max;
    std::iter::from_fn(move || {
        if left == 0 || fp == 0 || fp == stop || !fp.is_multiple_of(8) {
            return None;
        }
        left -= 1;
        // SAFETY: wasm code keeps the rbp chain up to the entry trampoline's
        // frame (`stop`); `fp` is a frame of this thread below it.
        let (next, ret) = unsafe {
            (
                mach::read_slot(fp, 0) as usize,
                mach::read_slot(fp, 8) as usize,
            )
        };
        let obj = code::object_at(ret)?;
        if !matches!(obj.kind, CodeKind::Wasm(_)) {
            return None;
        }
        let at = fp;
        // A chain that does not grow towards the stack base ends here.
        fp = if next > fp { next } else { 0 };
        Some((at, next, ret, obj))
    })
}
