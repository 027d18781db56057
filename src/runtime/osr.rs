//! On-stack replacement at interrupt checks (DESIGN §3.9), the policy half:
//! which frame moves to which code, and the new frame's contents. The
//! machine half (the pad, stack writes) is `vm::osr`.
//!
//! - **Down** (a debugger is attached: the instance's tiering mode is
//!   `Debug`): a frame running plain baseline or optimized code that reaches
//!   an interrupt check (function entry or loop header) continues in the
//!   function's debug code at the same wasm offset, with the same locals and
//!   operand stack. Plain baseline code has debug code's frame layout at
//!   every check (`tests/osr.rs` checks it for every spec function), so that
//!   move is in place; an optimized frame is rebuilt from the record its
//!   check hands over (`vm::layout::interrupt_state`): live locals exact,
//!   dead ones zero (never read again).
//! - **Stress** (test-only, `Config::osr_stress = N`): every Nth loop-header
//!   check moves its frame even without a debugger. `OsrStressMode::Down`:
//!   plain baseline → debug, optimized → debug, debug → plain baseline, and,
//!   while a debugger is attached, debug → debug rebuilt through the same
//!   record path as optimized code (dead locals poisoned, so a wrong
//!   liveness shows). `Up`: plain baseline or debug → the loop's OSR entry
//!   (`runtime::osr_up`, compiled on the spot; frames it cannot take are
//!   counted by reason); with a debugger attached the entry's header check
//!   moves the frame straight back down. `Alternating`: optimized → debug,
//!   debug → up, plain baseline down and up by turns.
//!
//! Frames deeper on the stack move at the return from their call instead
//! (`runtime::osr_return`); optimized ones run on until they return.
//! Anything unexpected (metadata missing, layouts differ, too little stack)
//! leaves the frame where it is: OSR is an improvement, never a requirement.

use super::instance::{instance_of_vmctx, InstanceData};
use crate::code::{self, CheckTable, CodeObject, OptFrame, Tier, ValueLoc};
use crate::engine::OsrStressMode;
use crate::tiering::Mode;
use crate::types::ValType;
use crate::vm::layout::{
    interrupt_state, DEBUG_REGS_SIZE, MEMORY_BASE, VMCTX_DEBUG_FLAGS, VMCTX_LIMITS, VMCTX_MEMORY,
};
use crate::vm::osr::{self as mach, FrameImage};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bits of the `kind` argument of `Builtin::StackCheckSlow`.
pub(crate) const KIND_OPTIMIZED: u32 = 1;
pub(crate) const KIND_DEBUG: u32 = 2;
pub(crate) const KIND_ENTRY: u32 = 4;

/// Baseline frame slots (see `baseline::codegen`): saved r15, saved r14,
/// the results area, and debug code's copy of the caller's r13.
const SAVED_R15: i32 = -8;
const SAVED_R14: i32 = -16;
const RESULTS_AREA: i32 = -24;
pub(super) const SAVED_R13: i32 = -32;
const R13: u8 = 13;
const R14: u8 = 14;
const R15: u8 = 15;

/// What dead locals get in stress mode (a liveness bug then shows).
const POISON: u64 = 0x5a5a_5a5a_5a5a_5a5a;

/// Stack kept free below a rebuilt frame (the runtime calls it makes).
const STACK_MARGIN: usize = 64 * 1024;

/// The check that called the runtime.
#[derive(Clone, Copy)]
struct Check {
    vmctx: *mut u8,
    func: u32,
    wasm_offset: u32,
    fp: usize,
    /// Baseline code: its register save area; optimized code: its record.
    state: *mut u64,
    kind: u32,
}

impl Check {
    fn entry(&self) -> bool {
        self.kind & KIND_ENTRY != 0
    }
    fn optimized(&self) -> bool {
        self.kind & KIND_OPTIMIZED != 0
    }
    fn debug(&self) -> bool {
        self.kind & KIND_DEBUG != 0
    }
    /// Where baseline code's call into the runtime returns to.
    fn baseline_ret_slot(&self) -> usize {
        self.state as usize - 8
    }
    fn reg(&self, r: u8) -> u64 {
        // SAFETY: baseline checks pass their 16-GPR save area as `state`.
        unsafe { *self.state.add(r as usize & 15) }
    }
    fn set_reg(&self, r: u8, v: u64) {
        // SAFETY: as in `reg`; the stub restores the area when it resumes.
        unsafe { *self.state.add(r as usize & 15) = v }
    }
}

thread_local! {
    static STRESS_COUNT: Cell<u64> = const { Cell::new(0) };
    /// Alternating stress: whether the last plain-code move went up.
    static STRESS_TURN: Cell<bool> = const { Cell::new(false) };
}

/// Moves made, process-wide, by kind: plain → debug, optimized → debug,
/// debug → plain (stress, or a debug session's function that wants no
/// debug code), debug → debug (stress with a debugger),
/// baseline or debug → OSR entry (stress up).
static MOVES: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];

/// Moves made so far by kind (see `MOVES`; tests).
pub fn moves() -> [u64; 5] {
    MOVES.each_ref().map(|m| m.load(Ordering::Relaxed))
}

/// True when a paused frame in code of kind `kind` continues in debug code
/// when it resumes (the debugger says so in its note).
pub(crate) fn moves_down_on_resume(vmctx: *mut u8, kind: u32) -> bool {
    kind & KIND_DEBUG == 0
        && instance_of_vmctx(vmctx).is_some_and(|i| i.shared.mode() == Mode::Debug)
}

/// The stress setting of the engine running `vmctx` (0 = off).
pub(crate) fn stress_every(vmctx: *mut u8) -> u32 {
    instance_of_vmctx(vmctx).map_or(0, |i| i.module.engine().config().osr_stress)
}

/// From the interrupt check's runtime call, after any pause was served
/// (`paused`: a pause request was handed to the debugger here): moves the
/// frame to other code if the policy says so.
///
/// With a debugger attached, a frame runs debug code when its function
/// wants it (`tiering::debug_code`: a breakpoint, a step, or everything
/// while something may stop anywhere) or a pause landed here (a step may
/// follow); a debug frame of a function that wants none goes back to plain
/// baseline code, and frames deeper on the stack of functions that began to
/// want debug code continue in it when their calls return.
pub(crate) fn at_check(
    vmctx: *mut u8,
    func: u32,
    wasm_offset: u32,
    fp: usize,
    state: *mut u64,
    kind: u32,
    paused: bool,
) {
    let Some(inst) = instance_of_vmctx(vmctx) else {
        return;
    };
    let c = Check {
        vmctx,
        func,
        wasm_offset,
        fp,
        state,
        kind,
    };
    let debugging = inst.shared.mode() == Mode::Debug;
    let want = debugging && (paused || inst.shared.wants_debug(func));
    if inst.shared.take_callers_pending() {
        let shared = &inst.shared;
        let r13 = super::osr_return::caller_r13(fp, kind, state);
        super::osr_return::patch_callers_if(vmctx, fp, r13, |f| shared.wants_debug(f));
    }
    let config = inst.module.engine().config();
    let every = config.osr_stress as u64;
    let stress = every > 0
        && !c.entry()
        && STRESS_COUNT.with(|n| {
            n.set(n.get() + 1);
            n.get().is_multiple_of(every)
        });
    let up = super::osr_up::LoopCheck {
        inst,
        vmctx,
        func,
        wasm_offset,
        fp,
        regs: state,
        debug: c.debug(),
    };
    if !debugging && !c.entry() && !c.optimized() && super::osr_up::at_loop_check(&up) {
        return;
    }
    if stress && !c.optimized() && stress_goes_up(config.osr_stress_mode, c.debug()) {
        // Up into the loop's OSR entry; with a debugger attached, the
        // entry's header check brings the frame straight back down through
        // its record (the `optimized → debug` arm below).
        if super::osr_up::stress_up(&up) {
            MOVES[4].fetch_add(1, Ordering::Relaxed);
        }
        return;
    }
    // A debug frame goes back to plain code only with its debug byte clear
    // (nothing can stop in it; a watchpoint hit sets every byte).
    let unflood = debugging && !want && debug_byte(&c) == 0;
    let moved = match (c.debug(), c.optimized()) {
        (true, _) if stress && want => rebuild_debug(inst, &c).map(|()| 3),
        (true, _) if (stress && !debugging) || unflood => debug_to_plain(inst, &c).map(|()| 2),
        (true, _) => None,
        // (Under stress with a debugger, OSR entries always come back down.)
        (false, true)
            if want
                || (debugging && every > 0)
                || (stress && config.osr_stress_mode != OsrStressMode::Up) =>
        {
            optimized_to_debug(inst, &c).map(|()| 1)
        }
        (false, false) if want || stress => plain_to_debug(inst, &c).map(|()| 0),
        _ => None,
    };
    if let Some(k) = moved {
        MOVES[k].fetch_add(1, Ordering::Relaxed);
    }
}

/// At a stressed check of a baseline frame (plain or debug): whether it
/// goes up this time (see [`OsrStressMode`]). Alternating takes plain code
/// down and up by turns, per thread; debug code always goes up (down from
/// debug code is the `Down` mode's own move).
fn stress_goes_up(mode: OsrStressMode, debug: bool) -> bool {
    match mode {
        OsrStressMode::Down => false,
        OsrStressMode::Up => true,
        OsrStressMode::Alternating if debug => true,
        OsrStressMode::Alternating => STRESS_TURN.with(|t| {
            t.set(!t.get());
            t.get()
        }),
    }
}

/// The code object and start address of `func`'s code at `ptr`.
fn code_at(ptr: usize) -> Option<(Arc<CodeObject>, usize)> {
    let obj = code::object_at(ptr)?;
    let start = obj.start() + obj.func_at(ptr)?.start;
    Some((obj, start))
}

/// `func`'s debug code (compiled now if needed, or by the precompiler if
/// it is compiling it right now).
fn debug_code(inst: &InstanceData, func: u32) -> Option<(Arc<CodeObject>, usize)> {
    let wait = super::osr_return::WAIT_PRECOMPILE;
    crate::tiering::precompile::wait_for(&inst.shared, func, wait);
    tier_code(inst, func, Tier::Debug)
}

/// `func`'s code in `tier` (compiled now if needed).
fn tier_code(inst: &InstanceData, func: u32, tier: Tier) -> Option<(Arc<CodeObject>, usize)> {
    inst.shared.module.ensure_tier(&[func], tier, 1).ok()?;
    code_at(inst.module.code_ptr(func, tier)? as usize)
}

fn checks_of(obj: &CodeObject, start: usize) -> Option<&CheckTable> {
    obj.func_at(start).map(|f| &f.checks)
}

/// Plain baseline and debug code agree on the frame at this check.
fn same_frame(a: &CheckTable, b: &CheckTable, c: &Check) -> bool {
    a.frame_size == b.frame_size
        && (c.entry()
            || (a.locals == b.locals
                && a.loop_stack(c.wasm_offset).is_some()
                && a.loop_stack(c.wasm_offset) == b.loop_stack(c.wasm_offset)))
}

/// The debug byte of `func` (what debug code keeps in r13).
fn debug_byte(c: &Check) -> u64 {
    // SAFETY: the vmctx has one debug byte per function after the header;
    // `func` is a function of this instance (it is running).
    unsafe {
        std::sync::atomic::AtomicU8::from_ptr(
            c.vmctx.add(VMCTX_DEBUG_FLAGS as usize + c.func as usize),
        )
        .load(Ordering::SeqCst) as u64
    }
}

/// In place: the frame is plain baseline code's; continue in debug code.
fn plain_to_debug(inst: &InstanceData, c: &Check) -> Option<()> {
    let ret = mach_read(c.baseline_ret_slot());
    let (robj, rstart) = code_at(ret)?;
    let (dobj, dstart) = debug_code(inst, c.func)?;
    let (from, to) = (checks_of(&robj, rstart)?, checks_of(&dobj, dstart)?);
    if !same_frame(from, to, c) {
        return None;
    }
    let resume = to.resume_at(c.wasm_offset, c.entry())?;
    if !c.entry() {
        // Debug code keeps the caller's r13 in a slot and its debug byte in
        // r13; plain code left the caller's r13 in the register.
        // SAFETY: the slot is inside the frame (both codes reserve it).
        unsafe { mach::write_slot(c.fp, SAVED_R13, c.reg(R13)) };
        c.set_reg(R13, debug_byte(c));
    }
    // SAFETY: the slot holds the return address of this check's runtime
    // call; debug code's resume point expects the same save area.
    unsafe { mach::patch_return(c.baseline_ret_slot(), dstart + resume as usize) };
    Some(())
}

/// In place (stress only): the frame is debug code's; continue in plain
/// baseline code.
fn debug_to_plain(inst: &InstanceData, c: &Check) -> Option<()> {
    let ret = mach_read(c.baseline_ret_slot());
    let (robj, rstart) = code_at(ret)?;
    let (pobj, pstart) = tier_code(inst, c.func, Tier::Baseline)?;
    let (from, to) = (checks_of(&robj, rstart)?, checks_of(&pobj, pstart)?);
    if !same_frame(from, to, c) {
        return None;
    }
    let resume = to.resume_at(c.wasm_offset, c.entry())?;
    if !c.entry() {
        // SAFETY: debug code saved the caller's r13 in this slot.
        c.set_reg(R13, unsafe { mach::read_slot(c.fp, SAVED_R13) });
    }
    // SAFETY: as in `plain_to_debug`.
    unsafe { mach::patch_return(c.baseline_ret_slot(), pstart + resume as usize) };
    Some(())
}

fn mach_read(slot: usize) -> usize {
    // SAFETY: callers pass the return-address slot of the live runtime call.
    unsafe { mach::read_slot(slot, 0) as usize }
}

/// A frame's state as handed over: locals (None = dead there), operand
/// stack bottom first (each value's bits, a v128's all 128 of them), the
/// results area.
struct Handover {
    locals: Vec<Option<u128>>,
    stack: Vec<u128>,
    results_area: u64,
}

/// The optimized code that the frame at `fp` of `func`, stopped at an
/// interrupt check, runs: the function's optimized code or one of its OSR
/// entries, the one the check's stub returns into. Returns the object, the
/// function's start and the slot of that return address.
pub(crate) fn optimized_code_of(
    inst: &InstanceData,
    func: u32,
    fp: usize,
) -> Option<(Arc<CodeObject>, usize, usize)> {
    let mut codes: Vec<(Arc<CodeObject>, usize)> = inst
        .module
        .code_ptr(func, Tier::Optimized)
        .and_then(|p| code_at(p as usize))
        .into_iter()
        .collect();
    for o in super::osr_up::entries_of(inst.module.info().id, func) {
        let start = o.start() + o.funcs.first()?.start;
        codes.push((o, start));
    }
    let returns_into = |o: &CodeObject, start: usize| -> Option<usize> {
        let f = o.func_at(start)?;
        let frame = f.opt_frame.as_ref().filter(|f| !f.grows_incoming)?;
        // The stub's return address into the optimized code sits right
        // below the optimized frame (Cranelift keeps rsp fixed in the body).
        let ret_slot = fp.checked_sub(frame.sp_to_fp as usize + 8)?;
        let ret = mach_read(ret_slot);
        (ret >= start && ret < start + f.len).then_some(ret_slot)
    };
    codes
        .into_iter()
        .find_map(|(o, start)| returns_into(&o, start).map(|slot| (o, start, slot)))
}

/// Through the pad: the frame is optimized code's; rebuild it as debug code
/// from the record its check handed over.
fn optimized_to_debug(inst: &InstanceData, c: &Check) -> Option<()> {
    let (oobj, ostart, ret_slot) = optimized_code_of(inst, c.func, c.fp)?;
    let of = oobj.func_at(ostart)?;
    let frame: &OptFrame = of.opt_frame.as_ref()?;
    // SAFETY: optimized checks pass their record, complete until they return.
    let r = unsafe { interrupt_state::read(c.state) };
    let mut locals = vec![None; r.num_locals as usize];
    for &(i, _, bits) in &r.locals {
        *locals.get_mut(i as usize)? = Some(bits);
    }
    let stack = r.stack.iter().map(|&(_, b)| b).collect();
    let h = Handover {
        locals,
        stack,
        results_area: r.results_area,
    };
    let saved = frame.saved.clone();
    rebuild(inst, c, h, &saved, ret_slot, 0)
}

/// Through the pad (stress with a debugger): rebuild a debug frame from a
/// record of itself, with the locals dead here poisoned.
fn rebuild_debug(inst: &InstanceData, c: &Check) -> Option<()> {
    let ret = mach_read(c.baseline_ret_slot());
    let (robj, rstart) = code_at(ret)?;
    let checks = checks_of(&robj, rstart)?;
    let read = |ty: ValType, loc: ValueLoc| -> Option<u128> {
        // SAFETY: the save area holds 16 GPR slots then 16 xmm slots of
        // two words each.
        let xmm = |x: u8, half: usize| unsafe { *c.state.add(16 + 2 * (x as usize & 15) + half) };
        // SAFETY: frame slots of the live frame (locals, homes, stack args).
        let slot = |off: i32| unsafe { mach::read_slot(c.fp, off) };
        let wide = |lo: u64, hi: u64| lo as u128 | (hi as u128) << 64;
        if ty.is_v128() {
            return match loc {
                ValueLoc::Xmm(x) => Some(wide(xmm(x, 0), xmm(x, 1))),
                ValueLoc::Frame(off) => Some(wide(slot(off), slot(off + 8))),
                _ => None,
            };
        }
        let raw = match loc {
            ValueLoc::Gpr(r) => c.reg(r),
            ValueLoc::Xmm(x) => xmm(x, 0),
            ValueLoc::Frame(off) => slot(off),
            ValueLoc::Const(v) => v,
            ValueLoc::Flags(_) => return None,
        };
        Some(mask(ty, raw) as u128)
    };
    let live = live_locals(inst, c)?;
    let locals = if c.entry() {
        &checks.entry_locals
    } else {
        &checks.locals
    };
    let mut values = Vec::with_capacity(locals.len());
    for (i, &(ty, loc)) in locals.iter().enumerate() {
        values.push(if live.contains(&(i as u32)) {
            Some(read(ty, loc)?)
        } else {
            None
        });
    }
    let stack = match c.entry() {
        true => Vec::new(),
        false => checks
            .loop_stack(c.wasm_offset)?
            .iter()
            .map(|&(t, l)| read(t, l))
            .collect::<Option<Vec<_>>>()?,
    };
    // SAFETY: debug code keeps the results area in its slot after entry.
    let results_area = match c.entry() {
        true => c.reg(2),
        false => unsafe { mach::read_slot(c.fp, RESULTS_AREA) },
    };
    let h = Handover {
        locals: values,
        stack,
        results_area,
    };
    // Debug code saved the caller's r15 and r14 (and, past entry, r13).
    let mut saved = vec![(R15, SAVED_R15), (R14, SAVED_R14)];
    if !c.entry() {
        saved.push((R13, SAVED_R13));
    }
    rebuild(inst, c, h, &saved, c.baseline_ret_slot(), POISON)
}

/// The locals live at this check (as the optimizing tier's liveness says).
fn live_locals(inst: &InstanceData, c: &Check) -> Option<Vec<u32>> {
    let body = inst.module.info().read_body(c.func, None).ok()?;
    let n = body.locals.len();
    let live = crate::optimizing::liveness::analyze(body.ops, n);
    Some(if c.entry() {
        live.at_entry().into_owned()
    } else {
        live.at_loop(c.wasm_offset).into_owned()
    })
}

fn mask(ty: ValType, raw: u64) -> u64 {
    if ty.is_64bit() {
        raw
    } else {
        raw & 0xffff_ffff
    }
}

/// Builds the debug frame for `h` and arms the pad; `saved` says where the
/// old frame keeps the caller's callee-saved registers, `ret_slot` is the
/// return address to point at the pad, `dead` the value dead locals get.
fn rebuild(
    inst: &InstanceData,
    c: &Check,
    h: Handover,
    saved: &[(u8, i32)],
    ret_slot: usize,
    dead: u64,
) -> Option<()> {
    let (dobj, dstart) = debug_code(inst, c.func)?;
    let to = checks_of(&dobj, dstart)?;
    let resume = to.resume_at(c.wasm_offset, c.entry())?;
    let types = inst.module.info().read_body(c.func, None).ok()?.locals;
    if types.len() != h.locals.len() {
        return None;
    }
    let words = (DEBUG_REGS_SIZE as usize + 16 + to.frame_size as usize) / 8;
    let mut img = FrameImage {
        fp: c.fp,
        words: vec![0; words],
        target: dstart + resume as usize,
        callee_saved: Vec::new(),
    };
    // Enough stack below the new frame?
    // SAFETY: the vmctx header holds the store's limits.
    let limits = unsafe {
        &**(c.vmctx.add(VMCTX_LIMITS as usize) as *const *const crate::vm::layout::VMRuntimeLimits)
    };
    let real = limits.real_stack_limit.load(Ordering::SeqCst);
    if img.base() < real.saturating_add(STACK_MARGIN) {
        return None;
    }
    let xmm = |x: u8| 16 + 2 * (x as usize & 15);
    // Values into the image: register save area or frame slot (a v128
    // takes two words: an xmm slot or a 16-byte frame slot).
    let put = |img: &mut FrameImage, loc: ValueLoc, ty: ValType, bits: u128| -> Option<()> {
        if ty.is_v128() {
            let (lo, hi) = (bits as u64, (bits >> 64) as u64);
            match loc {
                ValueLoc::Xmm(x) => {
                    img.words[xmm(x)] = lo;
                    img.words[xmm(x) + 1] = hi;
                }
                ValueLoc::Frame(off) if off > 0 => {}
                ValueLoc::Frame(off) => {
                    *img.word_at(off)? = lo;
                    *img.word_at(off + 8)? = hi;
                }
                _ => return None,
            }
            return Some(());
        }
        let bits = mask(ty, bits as u64);
        match loc {
            ValueLoc::Gpr(r) => img.words[r as usize & 15] = bits,
            ValueLoc::Xmm(x) => img.words[xmm(x)] = bits,
            // Stack arguments stay where the caller put them.
            ValueLoc::Frame(off) if off > 0 => {}
            ValueLoc::Frame(off) => *img.word_at(off)? = bits,
            ValueLoc::Const(_) => {}
            ValueLoc::Flags(_) => return None,
        }
        Some(())
    };
    let value = |i: usize| h.locals[i].unwrap_or(dead as u128 | (dead as u128) << 64);
    // The caller's callee-saved registers, and where the new frame keeps
    // them: debug code never touches rbx and r12; it saves r15 and r14 in
    // its prologue, and r13 after its entry check.
    let word = |off: i32| (words as i64 + off as i64 / 8) as usize;
    let mut homes: Vec<(u8, usize)> = vec![
        (3, 3),
        (12, 12),
        (R15, word(SAVED_R15)),
        (R14, word(SAVED_R14)),
    ];
    img.words[R15 as usize] = c.vmctx as u64;
    // The resume point restores rbp from the save area too.
    img.words[5] = c.fp as u64;
    if c.entry() {
        homes.push((R13, R13 as usize));
        for (i, &(ty, loc)) in to.entry_locals.iter().enumerate() {
            if i < h.locals.len() {
                put(&mut img, loc, ty, value(i))?;
            }
        }
        img.words[2] = h.results_area;
        img.words[7] = c.vmctx as u64;
    } else {
        homes.push((R13, word(SAVED_R13)));
        for (i, &(ty, loc)) in to.locals.iter().enumerate() {
            put(&mut img, loc, ty, value(i))?;
        }
        let stack = to.loop_stack(c.wasm_offset)?;
        if stack.len() != h.stack.len() {
            return None;
        }
        for (&(ty, loc), &bits) in stack.iter().zip(&h.stack) {
            put(&mut img, loc, ty, bits)?;
        }
        *img.word_at(RESULTS_AREA)? = h.results_area;
        img.words[R13 as usize] = debug_byte(c);
        img.words[R14 as usize] = memory_base(c.vmctx);
    }
    for (reg, home) in homes {
        let from = saved.iter().find(|&&(r, _)| r == reg).map(|&(_, off)| off);
        img.callee_saved.push((reg, from, home));
    }
    let pad = mach::pad().ok()?;
    mach::arm(img);
    // SAFETY: `ret_slot` holds the return address of this check's runtime
    // call (checked above for optimized code); the pad expects the state
    // that call returns with (rbp = this frame).
    unsafe { mach::patch_return(ret_slot, pad) };
    Some(())
}

/// Linear memory 0's base (what baseline code keeps in r14), or 0.
fn memory_base(vmctx: *mut u8) -> u64 {
    // SAFETY: the vmctx header holds a pointer to memory 0's VMMemory (null
    // without a memory), whose base never moves.
    unsafe {
        let mem = *(vmctx.add(VMCTX_MEMORY as usize) as *const *const u8);
        if mem.is_null() {
            0
        } else {
            *(mem.add(MEMORY_BASE as usize) as *const u64)
        }
    }
}

/// The contract in-place moves rely on (DESIGN §3.9): for every defined
/// function of `module`, plain baseline code (with and without tier-up
/// budgets) and debug code reserve the same frame, keep locals and the
/// operand stack in the same places at every check, and have a resume
/// point at each. Returns the number of checks compared, or what differs.
pub fn check_layouts_agree(module: &super::Module) -> Result<usize, String> {
    use crate::baseline::{compile_function, CompileOptions};
    let m = &module.inner;
    let info = &*m.info;
    let mut checks = 0;
    for f in info.num_imported_funcs..info.num_funcs() {
        let compile = |debug: bool, tier_up: bool| {
            compile_function(info, &m.sig_ids, f, None, CompileOptions { debug, tier_up })
                .map(|c| c.checks)
                .map_err(|e| format!("function {f}: {e}"))
        };
        let debug = compile(true, false)?;
        for tier_up in [false, true] {
            let plain = compile(false, tier_up)?;
            let differs = |what: &str| {
                Err(format!(
                    "function {f} (tier-up {tier_up}): {what} differ between plain and debug code"
                ))
            };
            if plain.frame_size != debug.frame_size {
                return differs("frame sizes");
            }
            if plain.entry_locals != debug.entry_locals {
                return differs("entry locals");
            }
            if plain.locals != debug.locals {
                return differs("locals at loop headers");
            }
            if plain.loops != debug.loops {
                return differs("loop-header checks or their operand stacks");
            }
            for (w, _) in &plain.loops {
                if plain.resume_at(*w, false).is_none() || debug.resume_at(*w, false).is_none() {
                    return differs(&format!("resume points of the check at {w:#x}"));
                }
            }
            if plain.entry_resume.is_none() || debug.entry_resume.is_none() {
                return differs("entry resume points");
            }
            let sites = |t: &CheckTable| {
                t.calls
                    .iter()
                    .map(|(w, _, s)| (*w, s.clone()))
                    .collect::<Vec<_>>()
            };
            if sites(&plain) != sites(&debug) {
                return differs("call sites or their operand stacks");
            }
            checks += 1 + plain.loops.len() + plain.calls.len();
        }
    }
    Ok(checks)
}
