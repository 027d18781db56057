//! On-stack replacement, the machine half: the landing pad that rebuilds a
//! frame as debug code at an interrupt check, and the two stack writes the
//! runtime's policy (`runtime::osr`) needs: patching the return address of
//! the check's runtime call, and reading/writing frame slots.
//!
//! A frame moves to another function's code only at an interrupt check,
//! while the check's runtime call is on the stack. Two ways:
//! - **in place** (plain baseline ⇄ debug code: same frame layout at every
//!   check): the runtime fixes the few slots that differ and points the
//!   return address of its call at the other code's resume point;
//! - **through the pad** (optimized code, or a frame rebuilt from a
//!   handed-over record): the runtime prepares a [`FrameImage`] of the new
//!   frame (register save area, frame slots) and points the return address
//!   at the pad. The pad saves every register, asks [`osr_finish`] to fill
//!   in the caller's callee-saved registers (from the old frame's save slots
//!   or, where the old code never touched them, from the registers
//!   themselves), moves `rsp`, copies the image in and jumps to the new
//!   code's resume point, which restores the save area and continues.
//!
//! Invariants: at most one image is pending per thread (armed just before
//! the runtime call returns, taken by the pad right after); the image's
//! memory lives in a thread-local until the next one replaces it.

// dynasm! expands register operands through `u8::from`, which clippy flags.
#![allow(clippy::useless_conversion)]

use crate::code::{self, CodeKind, CodeObject, FuncCode};
use crate::vm::layout::DEBUG_REGS_SIZE;
use dynasmrt::{dynasm, DynasmApi};
use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

/// The new frame, from its lowest address (the new `rsp`: the register save
/// area of the code it continues in) up to the frame pointer (exclusive).
#[derive(Debug, Clone)]
pub struct FrameImage {
    /// Frame pointer of the frame (unchanged by the move).
    pub fp: usize,
    /// The words; word `i` lands at `fp - 8 * words.len() + 8 * i`.
    pub words: Vec<u64>,
    /// Where to continue (the new code's resume point after its check call).
    pub target: usize,
    /// The caller's callee-saved registers the image must hold: (hardware
    /// register, where the old frame saved it as an offset from `fp` (None:
    /// the old code never touched the register, so it still holds the
    /// caller's value), the image word to write it to).
    pub callee_saved: Vec<(u8, Option<i32>, usize)>,
}

impl FrameImage {
    /// The lowest address of the image (the new `rsp`).
    pub fn base(&self) -> usize {
        self.fp - 8 * self.words.len()
    }

    /// The image word at `fp + off` (`off` negative), if inside the image.
    pub fn word_at(&mut self, off: i32) -> Option<&mut u64> {
        let n = self.words.len() as i64;
        let i = n + (off as i64).div_euclid(8);
        (off < 0 && off % 8 == 0 && i >= 0).then(|| &mut self.words[i as usize])
    }
}

/// What the pad reads after [`osr_finish`]: new rsp, image address, image
/// length in bytes, jump target.
#[repr(C)]
struct PadPlan {
    rsp: u64,
    src: u64,
    len: u64,
    target: u64,
}

thread_local! {
    static PENDING: RefCell<Option<FrameImage>> = const { RefCell::new(None) };
    /// The image being copied (kept alive until the next one).
    static ACTIVE: RefCell<Option<FrameImage>> = const { RefCell::new(None) };
    static PLAN: RefCell<PadPlan> = const {
        RefCell::new(PadPlan { rsp: 0, src: 0, len: 0, target: 0 })
    };
}

/// Called by the pad with its register save area (layout as
/// `DEBUG_REGS_SIZE`): completes the pending image and returns the plan.
extern "C" fn osr_finish(regs: *const u64) -> *const PadPlan {
    let mut image = PENDING
        .with(|p| p.borrow_mut().take())
        .expect("the OSR pad runs only after `arm`");
    for &(reg, saved, word) in &image.callee_saved.clone() {
        let value = match saved {
            // SAFETY: the old frame is intact until the pad copies the image
            // over it; `off` is a save slot its prologue wrote.
            Some(off) => unsafe { *((image.fp as isize + off as isize) as *const u64) },
            // SAFETY: the pad's save area holds 16 GPR slots.
            None => unsafe { *regs.add(reg as usize & 15) },
        };
        image.words[word] = value;
    }
    let plan = PadPlan {
        rsp: image.base() as u64,
        src: image.words.as_ptr() as u64,
        len: 8 * image.words.len() as u64,
        target: image.target as u64,
    };
    ACTIVE.with(|a| *a.borrow_mut() = Some(image));
    PLAN.with(|p| {
        *p.borrow_mut() = plan;
        p.as_ptr() as *const PadPlan
    })
}

fn pad_code() -> FuncCode {
    let mut ops = dynasmrt::VecAssembler::<dynasmrt::x64::X64Relocation>::new(0);
    let finish = osr_finish as extern "C" fn(*const u64) -> *const PadPlan as usize as i64;
    dynasm!(ops ; .arch x64
        ; and rsp, -16
        ; sub rsp, DEBUG_REGS_SIZE
    );
    for r in 0..16u8 {
        if r != 4 {
            dynasm!(ops ; .arch x64 ; mov QWORD [rsp + 8 * r as i32], Rq(r));
        }
    }
    for x in 0..16u8 {
        dynasm!(ops ; .arch x64 ; movdqu [rsp + 128 + 16 * x as i32], Rx(x));
    }
    dynasm!(ops ; .arch x64
        ; mov rdi, rsp
        ; mov rax, QWORD finish
        ; call rax
        ; mov rsi, [rax + 8]
        ; mov rcx, [rax + 16]
        ; mov r11, [rax + 24]
        ; mov rsp, [rax]
        ; mov rdi, rsp
        ; cld
        ; rep movsb
        ; xor eax, eax
        ; jmp r11
    );
    FuncCode {
        bytes: ops.finalize().expect("the OSR pad has no labels"),
        ..Default::default()
    }
}

static PAD: OnceLock<Result<Arc<CodeObject>, String>> = OnceLock::new();

/// Address of the pad (published once per process).
pub fn pad() -> Result<usize, String> {
    let obj = PAD.get_or_init(|| {
        code::publish(CodeKind::Trampoline, 0, vec![(u32::MAX, pad_code())])
            .map_err(|e| format!("cannot publish the OSR pad: {e}"))
    });
    match obj {
        Ok(o) => Ok(o.func_ptr(0) as usize),
        Err(e) => Err(e.clone()),
    }
}

/// Arms the pad with `image` (the next pad run on this thread uses it).
pub fn arm(image: FrameImage) {
    PENDING.with(|p| *p.borrow_mut() = Some(image));
}

/// Reads the word at `fp + off`.
///
/// # Safety
/// `fp + off` must be a slot of a live frame of this thread.
pub unsafe fn read_slot(fp: usize, off: i32) -> u64 {
    // SAFETY: the caller guarantees a live, aligned frame slot.
    unsafe { *((fp as isize + off as isize) as *const u64) }
}

/// Writes the word at `fp + off`.
///
/// # Safety
/// `fp + off` must be a slot of a live frame of this thread that no code
/// reads with another meaning before the frame resumes.
pub unsafe fn write_slot(fp: usize, off: i32, value: u64) {
    // SAFETY: the caller guarantees a live, aligned frame slot.
    unsafe { *((fp as isize + off as isize) as *mut u64) = value }
}

/// Makes the runtime call whose return address is at `slot` return to `to`.
///
/// # Safety
/// `slot` must hold the return address of a call that is still on this
/// thread's stack, and `to` must be code that expects exactly the machine
/// state that call returns with.
pub unsafe fn patch_return(slot: usize, to: usize) {
    // SAFETY: the caller guarantees `slot` is a live return-address slot.
    unsafe { *(slot as *mut usize) = to }
}

/// Code of the up pad (OSR up, `runtime::osr_up`): entered when a baseline
/// check's runtime call returns, with `rsp` at the check's register save
/// area and `rbp` the baseline frame. It takes the OSR entry's arguments
/// (rdi, rsi, rdx) and address (r11), and the caller's r13–r15, from the
/// save area, pops the baseline frame and jumps to the entry, which then
/// runs as the function called by the frame's caller.
fn up_pad_code() -> FuncCode {
    let mut ops = dynasmrt::VecAssembler::<dynasmrt::x64::X64Relocation>::new(0);
    dynasm!(ops ; .arch x64
        ; mov rdi, [rsp + 8 * 7]
        ; mov rsi, [rsp + 8 * 6]
        ; mov rdx, [rsp + 8 * 2]
        ; mov r11, [rsp + 8 * 11]
        ; mov r13, [rsp + 8 * 13]
        ; mov r14, [rsp + 8 * 14]
        ; mov r15, [rsp + 8 * 15]
        ; mov rsp, rbp
        ; pop rbp
        ; jmp r11
    );
    FuncCode {
        bytes: ops.finalize().expect("the up pad has no labels"),
        ..Default::default()
    }
}

static UP_PAD: OnceLock<Result<Arc<CodeObject>, String>> = OnceLock::new();

/// Address of the up pad (published once per process).
pub fn up_pad() -> Result<usize, String> {
    let obj = UP_PAD.get_or_init(|| {
        code::publish(CodeKind::Trampoline, 0, vec![(u32::MAX, up_pad_code())])
            .map_err(|e| format!("cannot publish the OSR up pad: {e}"))
    });
    match obj {
        Ok(o) => Ok(o.func_ptr(0) as usize),
        Err(e) => Err(e.clone()),
    }
}
