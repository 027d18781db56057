//! Typed function references for the optimizing tier: `call_ref`,
//! `return_call_ref`, `ref.as_non_null`, `br_on_null` and `br_on_non_null`.
//!
//! A function reference is a `VMFuncRef` pointer (null is 0) whatever its
//! static type; validation has checked the callee's type, so a call needs a
//! null check and no signature check.

use super::control::{args, Callee};
use super::translate::{Res, Translator};
use super::user_trap;
use crate::error::TrapCode;
use cranelift_codegen::ir::{InstBuilder, Value};

impl Translator<'_, '_> {
    /// Pops a reference and traps with `NullReference` when it is null.
    fn pop_non_null(&mut self) -> Value {
        let r = self.pop();
        self.b.ins().trapz(r, user_trap(TrapCode::NullReference));
        r
    }

    pub(crate) fn visit_call_ref(&mut self, type_index: u32, tail: bool) -> Res {
        let ty = self
            .module
            .types
            .get(type_index as usize)
            .ok_or("no such type")?
            .clone();
        let funcref = self.pop_non_null();
        let sig = self.sig_ref(type_index);
        if tail {
            self.tail_call_funcref(funcref, &ty, sig, Callee::FromTable);
        } else {
            self.call_funcref(funcref, &ty, sig, Callee::FromTable);
        }
        Ok(())
    }

    pub(crate) fn visit_ref_as_non_null(&mut self) {
        let r = self.pop_non_null();
        self.push(r);
    }

    /// `br_on_null`: branches with the values below the reference when it
    /// is null; otherwise the reference stays on the stack.
    pub(crate) fn visit_br_on_null(&mut self, depth: u32) {
        let r = self.pop();
        let (target, n) = self.branch_target(depth);
        let a = args(self.peek_n(n));
        let next = self.b.create_block();
        self.b.ins().brif(r, next, &[], target, &a);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
        self.push(r);
    }

    /// `br_on_non_null`: branches with the reference on top when it is not
    /// null; otherwise drops it.
    pub(crate) fn visit_br_on_non_null(&mut self, depth: u32) {
        let r = *self.peek_n(1).first().expect("validated stack");
        let (target, n) = self.branch_target(depth);
        let a = args(self.peek_n(n));
        let next = self.b.create_block();
        self.b.ins().brif(r, target, &a, next, &[]);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
        self.pop();
    }
}
