//! Typed function references for the baseline compiler: `call_ref`,
//! `return_call_ref`, `ref.as_non_null`, `br_on_null` and `br_on_non_null`.
//!
//! A function reference is a `VMFuncRef` pointer (null is 0) whatever its
//! static type, so these are null checks around the existing call and
//! branch sequences. Validation has already checked the callee's type, so
//! `call_ref` needs no signature check.

use super::*;

impl CodeGen<'_> {
    /// Pops the function reference, spills the stack and leaves the
    /// (non-null) `VMFuncRef` in rax; a null one traps with `NullReference`.
    fn load_callee_ref(&mut self) {
        let f = self.pop();
        self.stack.spill_all(&mut self.masm);
        self.stack.load_gpr(&mut self.masm, f, RAX);
        self.stack.free_loc(f.loc);
        let null = self.trap_label(TrapCode::NullReference, self.wasm);
        self.masm.test_rr(true, RAX, RAX);
        self.masm.jcc(Cond::Eq, null);
    }

    pub(super) fn visit_call_ref(&mut self, type_index: u32) {
        let ty = self.module.types[type_index as usize].clone();
        self.load_callee_ref();
        let area = self.setup_call_args(&ty);
        self.emit_call_funcref(ty.params().len());
        self.finish_call(&ty, area);
    }

    pub(super) fn visit_return_call_ref(&mut self, type_index: u32) {
        let ty = self.module.types[type_index as usize].clone();
        self.load_callee_ref();
        self.emit_tail_call(&ty);
    }

    pub(super) fn visit_ref_as_non_null(&mut self) {
        let p = self.pop();
        let r = self.take_gpr(p);
        let null = self.trap_label(TrapCode::NullReference, self.wasm);
        self.masm.test_rr(true, r, r);
        self.masm.jcc(Cond::Eq, null);
        self.push_gpr(p.ty, r);
    }

    /// `br_on_null`: branches with the values below the reference when it
    /// is null; otherwise the reference stays on the stack.
    pub(super) fn visit_br_on_null(&mut self, depth: u32) {
        self.stack.spill_all(&mut self.masm);
        let p = self.pop();
        self.stack.load_gpr(&mut self.masm, p, SCRATCH);
        self.masm.test_rr(true, SCRATCH, SCRATCH);
        self.branch_if(Cond::Eq, depth);
        // Spilled (or constant): where it was still holds it, as branch
        // moves write lower slots only.
        self.stack.push(p.ty, p.loc);
    }

    /// `br_on_non_null`: branches with the reference on top when it is not
    /// null; otherwise drops it.
    pub(super) fn visit_br_on_non_null(&mut self, depth: u32) {
        self.stack.spill_all(&mut self.masm);
        let p = self.pop();
        self.stack.load_gpr(&mut self.masm, p, SCRATCH);
        self.stack.push(p.ty, p.loc);
        self.masm.test_rr(true, SCRATCH, SCRATCH);
        self.branch_if(Cond::Ne, depth);
        let p = self.pop();
        self.stack.free_loc(p.loc);
    }

    /// Branches to frame `depth` when the flags say `c` (the stack is
    /// spilled), as `br_if` does.
    fn branch_if(&mut self, c: Cond, depth: u32) {
        if self.needs_moves(depth) {
            let skip = self.masm.new_label();
            self.masm.jcc(c.negate(), skip);
            self.branch_to(depth);
            self.masm.bind(skip);
        } else {
            let idx = self.frames.len() - 1 - depth as usize;
            self.note_branch(idx);
            let l = self.frames[idx].label;
            self.masm.jcc(c, l);
        }
    }
}
