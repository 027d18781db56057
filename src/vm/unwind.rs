//! Exception unwinding: the throw stubs compiled code calls, the walk over
//! the wasm frames to the innermost handler, and the jump there.
//!
//! A `throw` (or `throw_ref`, or a host function whose callee left an
//! exception uncaught) calls one of the stubs below in place of a builtin.
//! The stub saves the callee-saved registers and `rbp`, and calls [`raise`],
//! which has the runtime make the exception object (through the
//! [`RuntimeHooks`] it registered) and walks the frame-pointer chain from
//! the thrower: at each frame it asks the code registry whether the call the
//! frame is in has a handler (`code::HandlerSite`, recorded by both
//! compilers for calls inside a `try` region). If not, it restores the
//! callee-saved registers that frame saved for its caller (baseline frames:
//! `r15`/`r14` below `rbp`, and `r13` in debug code; optimized frames: the
//! slots `code::OptFrame::saved` lists; trampolines save none) and moves on.
//! At a handler it returns a [`Resume`] record and the stub restores those
//! registers, `rsp`/`rbp`, puts the exnref in `rax` and jumps to the landing
//! pad, whose code picks the catch clause (or throws the exception on).
//! An exception no frame of this activation catches ends the activation like
//! a trap ([`TrapCode::UncaughtException`], with the tag and the payload).
//!
//! No Rust frame is ever skipped: [`raise`] returns normally and the jump
//! happens in the stub.

use super::traps;
use crate::code::{self, CodeKind};
use crate::error::{Trap, TrapCode};
use std::cell::{Cell, UnsafeCell};

/// A tag (exception handling): its identity is its address.
#[repr(C)]
pub struct TagObj {
    /// The payload types (the tag's function type's parameters).
    pub params: Box<[crate::types::ValType]>,
    /// The engine-wide signature id of its function type (import matching
    /// compares type identity, as for functions).
    pub sig: u32,
    /// How messages name it (`tag 0`, `tag 1 "e0"`).
    pub name: String,
}

/// An exception object; an `exnref` is a pointer to one. Compiled code reads
/// the tag at [`EXN_TAG`] and the payload (in `layout::value_offsets`
/// layout) through the pointer at [`EXN_VALUES`].
#[repr(C)]
pub struct ExnObj {
    pub tag: *const TagObj,
    pub values_ptr: *const u64,
    pub values: Box<[u64]>,
}

pub const EXN_TAG: i32 = 0;
pub const EXN_VALUES: i32 = 8;

/// What a landing pad does for one `try_table` clause (both compilers
/// follow it): with a `tag`, compare the exception's tag (at [`EXN_TAG`])
/// with the instance's tag `tag` (`VMCTX_TAGS`), go on to the next clause
/// when they differ, else push the payload (the tag's parameters, through
/// [`EXN_VALUES`]); then push the exnref when `exnref`; branch to `label`.
/// A legacy `catch tag` is the clause `{ tag, exnref: false }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchClause {
    pub tag: Option<u32>,
    pub exnref: bool,
    pub label: u32,
}

impl CatchClause {
    pub fn of(c: &wasmparser::Catch) -> CatchClause {
        use wasmparser::Catch as C;
        let (tag, exnref, label) = match *c {
            C::One { tag, label } => (Some(tag), false, label),
            C::OneRef { tag, label } => (Some(tag), true, label),
            C::All { label } => (None, false, label),
            C::AllRef { label } => (None, true, label),
        };
        CatchClause { tag, exnref, label }
    }
}

/// Where to resume: read by the stubs (offsets are part of their code).
#[repr(C)]
#[derive(Default, Clone, Copy)]
pub struct Resume {
    pub pc: usize,
    pub sp: usize,
    pub fp: usize,
    /// rbx, r12, r13, r14, r15.
    pub regs: [usize; 5],
    pub payload: usize,
}

/// What the unwinder needs from the runtime above it. The runtime registers
/// it ([`register_hooks`], from `Store::new`, before any wasm runs), so this
/// layer names no runtime function.
pub struct RuntimeHooks {
    /// Makes the exception a `throw` raises: `(vmctx, tag index, payload)`
    /// to its exnref (0: none can be made).
    pub create: fn(*mut u8, u32, *const u64) -> u64,
    /// Describes an exception that leaves wasm uncaught (the host gets it).
    pub uncaught: fn(u64) -> crate::error::Thrown,
    /// A debugger's look at a throw: `(vmctx, exnref, return address into
    /// the thrower, its frame pointer)`; nonzero: the run ended.
    pub stop_at_throw: fn(*mut u8, u64, usize, usize) -> u32,
    /// The current debug byte of function `func` of module `module_id` for
    /// the instance of `vmctx` (debug code's r13).
    pub debug_byte: fn(*mut u8, u64, u32) -> Option<u8>,
}

static HOOKS: std::sync::OnceLock<RuntimeHooks> = std::sync::OnceLock::new();

/// Registers the runtime's hooks (the first registration stays).
pub fn register_hooks(hooks: RuntimeHooks) {
    let _ = HOOKS.set(hooks);
}

thread_local! {
    static RESUME: UnsafeCell<Resume> = const { UnsafeCell::new(Resume {
        pc: 0, sp: 0, fp: 0, regs: [0; 5], payload: 0,
    }) };
    /// An exception a host function passes on to its wasm caller.
    static PENDING: Cell<u64> = const { Cell::new(0) };
}

/// Leaves `exn` for the host trampoline returning to wasm now (status 2).
pub fn set_pending_exception(exn: u64) {
    PENDING.with(|p| p.set(exn));
}

/// The exception a host function left for its wasm caller and the host
/// trampoline has not thrown yet (0 if none): a root of the collector.
pub fn pending_exception() -> u64 {
    PENDING.with(|p| p.get())
}

/// What `raise` does first.
const KIND_THROW: u64 = 0;
const KIND_THROW_REF: u64 = 1;
const KIND_PENDING: u64 = 2;

// The stubs. Entry: rdi = vmctx, rsi/rdx = arguments (see `Builtin::Throw`
// and `Builtin::ThrowRef`), [rsp] = the return address into the thrower,
// rbp = the thrower's frame. They never return.
std::arch::global_asm!(
    ".pushsection .text.wdb_exn,\"ax\",@progbits",
    ".p2align 4",
    ".globl wdb_exn_throw",
    "wdb_exn_throw:",
    "mov ecx, 0",
    "jmp 2f",
    ".p2align 4",
    ".globl wdb_exn_throw_ref",
    "wdb_exn_throw_ref:",
    "mov ecx, 1",
    "jmp 2f",
    ".p2align 4",
    ".globl wdb_exn_rethrow_pending",
    "wdb_exn_rethrow_pending:",
    "mov ecx, 2",
    "2:",
    // rsp = 8 mod 16 at entry; 56 more makes it 16-aligned for the call.
    "sub rsp, 56",
    "mov [rsp], rbx",
    "mov [rsp + 8], r12",
    "mov [rsp + 16], r13",
    "mov [rsp + 24], r14",
    "mov [rsp + 32], r15",
    "mov [rsp + 40], rbp",
    "lea r8, [rsp + 56]",
    "mov r9, rsp",
    "call {raise}",
    "mov rbx, [rax + 24]",
    "mov r12, [rax + 32]",
    "mov r13, [rax + 40]",
    "mov r14, [rax + 48]",
    "mov r15, [rax + 56]",
    "mov r11, [rax]",
    "mov rsp, [rax + 8]",
    "mov rbp, [rax + 16]",
    "xor edx, edx",
    "mov rax, [rax + 64]",
    "jmp r11",
    ".popsection",
    raise = sym raise,
);

extern "C" {
    fn wdb_exn_throw();
    fn wdb_exn_throw_ref();
    fn wdb_exn_rethrow_pending();
}

/// `Builtin::Throw`: `(vmctx, tag index, values) -> !`.
pub fn throw_stub() -> usize {
    wdb_exn_throw as *const () as usize
}

/// `Builtin::ThrowRef`: `(vmctx, exnref) -> !` (a null exnref traps).
pub fn throw_ref_stub() -> usize {
    wdb_exn_throw_ref as *const () as usize
}

/// Called (not as a builtin) by host trampolines whose host function
/// returned status 2: throws the exception left by [`set_pending_exception`].
pub fn rethrow_pending_stub() -> usize {
    wdb_exn_rethrow_pending as *const () as usize
}

/// A handler found by the walk: landing pad, its frame's rsp below rbp, and
/// for debug code the (module id, function) whose debug byte r13 mirrors.
type Handler = (usize, u32, Option<(u64, u32)>);

/// Callee-saved registers a frame saved for its caller: (index into
/// `Resume::regs`, offset from the frame's rbp).
fn saved_regs(pc: usize, out: &mut Vec<(usize, i32)>) -> Option<Option<Handler>> {
    out.clear();
    let obj = code::object_at(pc)?;
    if obj.kind == CodeKind::Trampoline {
        return Some(None);
    }
    let f = obj.func_at(pc.saturating_sub(1))?;
    let native = (pc - obj.start() - f.start) as u32;
    if let Some(h) = f.handler_at(native) {
        return Some(Some((
            obj.start() + f.start + h.landing as usize,
            h.sp_to_fp,
            f.debug.is_some().then_some((obj.module_id, f.func_index)),
        )));
    }
    match &f.opt_frame {
        Some(of) => {
            for &(reg, off) in &of.saved {
                if let Some(i) = reg_index(reg) {
                    out.push((i, off));
                }
            }
        }
        None => {
            // Baseline frames (`baseline::masm::prologue`): r15 at -8, r14 at
            // -16; debug code keeps the caller's r13 at -32.
            out.push((4, -8));
            out.push((3, -16));
            if f.debug.is_some() {
                out.push((2, -32));
            }
        }
    }
    Some(None)
}

/// Index in `Resume::regs` of a callee-saved register (hardware number).
fn reg_index(hw: u8) -> Option<usize> {
    match hw {
        3 => Some(0),
        12 => Some(1),
        13 => Some(2),
        14 => Some(3),
        15 => Some(4),
        _ => None,
    }
}

/// The Rust half of the stubs: finds the handler and returns where to go.
///
/// # Safety
/// Called only by the stubs above, from wasm code (or a host trampoline)
/// running in an activation: `ret_slot` points at the return address into
/// the thrower and `regs` at the saved rbx, r12–r15, rbp.
unsafe extern "C" fn raise(
    vmctx: *mut u8,
    a: u64,
    b: *const u64,
    kind: u64,
    ret_slot: *const usize,
    regs: *const usize,
) -> *const Resume {
    let act = traps::current();
    // SAFETY: per the contract, the stub saved six words at `regs` and the
    // return address at `ret_slot`.
    let (mut pc, mut fp, mut saved) = unsafe {
        (
            *ret_slot,
            *regs.add(5),
            [
                *regs,
                *regs.add(1),
                *regs.add(2),
                *regs.add(3),
                *regs.add(4),
            ],
        )
    };
    let (first_pc, first_fp) = (pc, fp);
    let hooks = HOOKS.get();
    let exn = match kind {
        KIND_THROW => hooks.map_or(0, |h| (h.create)(vmctx, a as u32, b)),
        KIND_THROW_REF => a,
        KIND_PENDING => PENDING.with(|p| p.replace(0)),
        _ => 0,
    };
    let mut resume = Resume {
        payload: exn as usize,
        ..Resume::default()
    };
    let mut found = false;
    // A debugger stops here first (`catch throw`), with every frame intact,
    // for a `throw` (a new exception; not `throw_ref` or a rethrow passing
    // one on); nonzero: it ended the run, and the trap it left is pending.
    let ended = exn != 0
        && kind == KIND_THROW
        && hooks.is_some_and(|h| (h.stop_at_throw)(vmctx, exn, first_pc, first_fp) != 0);
    if exn != 0 && !act.is_null() && !ended {
        // SAFETY: the activation is alive while its wasm code runs.
        let stop = unsafe { (*act).saved_rbp };
        let mut restore = Vec::new();
        while fp != 0 && fp != stop && fp.is_multiple_of(8) {
            match saved_regs(pc, &mut restore) {
                None => break,
                Some(Some((landing, sp_to_fp, debug))) => {
                    resume.pc = landing;
                    resume.sp = fp - sp_to_fp as usize;
                    resume.fp = fp;
                    resume.regs = saved;
                    // Debug code's r13 mirrors its debug byte; a debugger may
                    // have changed it while stopped at this throw (a step
                    // into the handler), so the handler reads it afresh. Its
                    // vmctx is in r15 (`baseline::masm::VMCTX`), as restored.
                    let handler_vmctx = resume.regs[4] as *mut u8;
                    if let Some(byte) = debug
                        .zip(hooks)
                        .and_then(|((m, f), h)| (h.debug_byte)(handler_vmctx, m, f))
                    {
                        resume.regs[2] = byte as usize;
                    }
                    found = true;
                    break;
                }
                Some(None) => {
                    for &(i, off) in &restore {
                        // SAFETY: the frame saved this register there (its
                        // prologue or Cranelift's unwind record says so).
                        saved[i] = unsafe { *((fp as isize + off as isize) as *const usize) };
                    }
                    // SAFETY: every frame of wasm code and trampolines keeps
                    // the rbp chain.
                    let (next, ret) =
                        unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
                    if next <= fp {
                        break;
                    }
                    fp = next;
                    pc = ret;
                }
            }
        }
    }
    if !found {
        let trap = if ended {
            // SAFETY: `ended` implies a live activation holding the trap.
            unsafe { (*act).pending.take() }.unwrap_or_else(|| Trap::new(TrapCode::NullReference))
        } else if exn == 0 {
            Trap::new(TrapCode::NullReference)
        } else {
            Trap {
                exception: hooks.map(|h| Box::new((h.uncaught)(exn))),
                ..Trap::new(TrapCode::UncaughtException)
            }
        };
        // Without an activation there is nowhere to go: compiled code only
        // runs inside one, so this cannot happen.
        assert!(!act.is_null(), "exception thrown outside any activation");
        // SAFETY: as above.
        let act = unsafe { &mut *act };
        act.pending = Some(trap);
        // SAFETY: `first_fp` is the thrower's frame pointer.
        unsafe { traps::record_backtrace(act, first_pc, first_fp) };
        resume.pc = traps::landing_pad().unwrap_or(0);
        resume.sp = act.saved_rsp;
        resume.fp = act.saved_rbp;
        resume.regs = saved;
    }
    RESUME.with(|r| {
        // SAFETY: this thread's record; the stub reads it right after we return.
        unsafe { *r.get() = resume };
        r.get() as *const Resume
    })
}
