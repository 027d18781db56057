//! Tail calls for the baseline compiler (`return_call`,
//! `return_call_indirect`): the frame is torn down and the callee entered
//! with a jump, so that it returns straight to this function's caller and
//! a chain of tail calls runs in constant stack.
//!
//! The callee's stack arguments must end where this function's own
//! incoming area ends (the callee pops them: see `crate::abi`), and that
//! area may be larger or smaller than ours. A larger one overlaps our frame,
//! so then the sequence is: stage the stack arguments (and the saved `rbp`)
//! below both the frame and the new area, load the register arguments,
//! restore the callee-saved registers, copy the staged arguments into place,
//! put the return address just below them, restore `rbp` and jump. A new
//! area no larger than ours is written directly.

use super::*;

/// The saved r15/r14 slots of the baseline frame (see `Masm::prologue`).
const SAVED_R15: i32 = -8;
const SAVED_R14: i32 = -16;

impl CodeGen<'_> {
    pub(super) fn visit_return_call(&mut self, f: u32) {
        let ty = self.module.func_type(f).clone();
        self.stack.spill_all(&mut self.masm);
        self.stack.drop_cache();
        self.masm.load(true, RAX, VMCTX, VMCTX_FUNCREFS);
        self.masm.load(true, RAX, RAX, 8 * f as i32);
        self.emit_tail_call(&ty);
    }

    pub(super) fn visit_return_call_indirect(&mut self, type_index: u32, table: u32) {
        let ty = self.module.types[type_index as usize].clone();
        self.load_indirect_funcref(type_index, table);
        self.emit_tail_call(&ty);
    }

    /// Tail-calls the `VMFuncRef` in rax with the top values (all spilled)
    /// as arguments. Uses only rax, r10 and r11 besides the argument
    /// registers.
    pub(super) fn emit_tail_call(&mut self, ty: &FuncType) {
        let abi = abi_for(ty);
        let out = abi.stack_arg_bytes();
        let inn = abi_for(&self.ty).stack_arg_bytes();
        // The new stack-argument area: it ends where ours ends.
        let dst = 16 + inn - out;
        // When it is no larger than ours it lies above rbp + 8, clear of the
        // frame: the arguments go straight there. Otherwise stage them with
        // the saved rbp (16 more keeps rsp aligned) below both the frame and
        // the new area.
        let staged = out > inn;
        if staged {
            self.masm.tail_staging(dst, out + 16);
        }
        let first = self.stack.len() - ty.params().len();
        for (k, loc) in abi.params.iter().enumerate() {
            if let ArgLoc::Stack(n) = *loc {
                let home = self.stack.home(first + k);
                let t = ty.params()[k];
                if staged {
                    self.masm.copy_value(t, RSP, 8 * n as i32, RBP, home);
                } else {
                    self.masm.copy_value(t, RBP, dst + 8 * n as i32, RBP, home);
                }
            }
        }
        if staged {
            self.masm.copy_slot(RSP, out, RBP, 0);
        }
        if abi.retptr {
            // Same results as ours: the callee writes our caller's area.
            self.masm.load(true, RDX, RBP, RETPTR_SLOT);
        }
        for (k, loc) in abi.params.iter().enumerate() {
            let t = ty.params()[k];
            let home = self.stack.home(first + k);
            match *loc {
                ArgLoc::Gpr(r) => self.masm.load(w_of(t), r, RBP, home),
                ArgLoc::Xmm(x) => self.masm.xload(t, x, RBP, home),
                ArgLoc::Stack(_) => {}
            }
        }
        self.masm.load(true, RDI, RAX, FUNCREF_VMCTX);
        self.masm.mov_rr(true, RSI, VMCTX);
        self.masm.load(true, RAX, RAX, FUNCREF_CODE);
        // Nothing reads the frame's slots from here on.
        if self.debug.is_some() {
            self.masm.load(true, DEBUG_FLAG, RBP, DEBUG_FLAG_SLOT);
        }
        self.masm.load(true, MEM_BASE, RBP, SAVED_R14);
        self.masm.load(true, VMCTX, RBP, SAVED_R15);
        self.masm.load(true, R10, RBP, 8);
        if staged {
            for k in 0..out / 8 {
                self.masm.copy_slot(RBP, dst + 8 * k, RSP, 8 * k);
            }
            self.masm.load(true, SCRATCH, RSP, out);
        } else {
            self.masm.load(true, SCRATCH, RBP, 0);
        }
        self.masm.lea(RSP, RBP, dst - 8);
        self.masm.store(true, RSP, 0, R10);
        self.masm.mov_rr(true, RBP, SCRATCH);
        self.masm.jmp_reg(RAX);
        for _ in 0..ty.params().len() {
            let p = self.stack.pop();
            self.stack.free_loc(p.loc);
        }
        self.stack.reset_regs();
        self.reachable = false;
    }
}
