//! Integer and float operators for the baseline compiler, each family one
//! helper over the value stack and the macro assembler.

use super::*;

impl CodeGen<'_> {
    // ---- integer operators --------------------------------------------------------------

    pub(super) fn ibin(&mut self, w: bool, op: Alu) {
        let rhs = self.pop();
        let lhs = self.pop();
        let ty = lhs.ty;
        if self.ibin_lea(w, op, lhs, rhs) {
            return;
        }
        let dst = self.take_gpr(lhs);
        let src = self.src_of(rhs);
        self.masm.alu(op, w, dst, src);
        self.free_src(src);
        self.push_gpr(ty, dst);
    }

    /// `add`/`sub` of a local the cache holds in a register: one `lea` into
    /// a new register instead of a copy and the operation (as Liftoff
    /// does). False (nothing done) for any other shape.
    fn ibin_lea(&mut self, w: bool, op: Alu, lhs: Popped, rhs: Popped) -> bool {
        let Loc::Local(l) = lhs.loc else {
            return false;
        };
        if !matches!(self.stack.cached(l), Cached::Gpr(_)) {
            return false;
        }
        let fits = |c: u64| !w || (c as i64) == (c as i64 as i32 as i64);
        let (index, disp) = match (op, rhs.loc) {
            (Alu::Add, Loc::Const(c)) if fits(c) => (None, c as i32),
            // A 64-bit `- i32::MIN` has no 32-bit displacement.
            (Alu::Sub, Loc::Const(c)) if fits(c) && (!w || c as i32 != i32::MIN) => {
                (None, (c as i32).wrapping_neg())
            }
            (Alu::Add, Loc::Gpr(r)) => (Some(r), 0),
            (Alu::Add, Loc::Local(m)) if matches!(self.stack.cached(m), Cached::Gpr(_)) => {
                (Some(self.stack.use_gpr(&mut self.masm, rhs)), 0)
            }
            _ => return false,
        };
        let base = self.stack.use_gpr(&mut self.masm, lhs);
        // A value register of the stack's (not the cache's) takes the sum.
        let dst = match rhs.loc {
            Loc::Gpr(r) => r,
            _ => self.stack.alloc_gpr(&mut self.masm),
        };
        self.masm.lea_sum(w, dst, base, index, disp);
        self.stack.free_gpr(base);
        if let Some(i) = index.filter(|&i| i != dst) {
            self.stack.free_gpr(i);
        }
        self.push_gpr(lhs.ty, dst);
        true
    }

    pub(super) fn iunop(&mut self, ty: ValType, f: impl FnOnce(&mut Masm, Gpr)) {
        let r = self.pop_gpr();
        f(&mut self.masm, r);
        self.push_gpr(ty, r);
    }

    pub(super) fn eqz(&mut self, w: bool) {
        let p = self.pop();
        let r = self.stack.use_gpr(&mut self.masm, p);
        self.masm.test_rr(w, r, r);
        self.push_cond(Cond::Eq, r);
    }

    /// Pushes the boolean `c` of the flags just set; `r` is a free-able
    /// register (or a local cache's one, which stays as it is).
    pub(super) fn push_cond(&mut self, c: Cond, r: Gpr) {
        if self.can_fuse() {
            self.stack.free_gpr(r);
            self.stack.push(ValType::I32, Loc::Flags(c));
        } else {
            let r = if self.stack.is_cache_reg(r) {
                // Allocation spills with moves only: the flags survive.
                let d = self.stack.alloc_gpr(&mut self.masm);
                self.stack.free_gpr(r);
                d
            } else {
                r
            };
            self.masm.setcc(c, r);
            self.push_gpr(ValType::I32, r);
        }
    }

    pub(super) fn icmp(&mut self, w: bool, c: Cond) {
        let rhs = self.pop();
        let lhs = self.pop();
        let dst = self.stack.use_gpr(&mut self.masm, lhs);
        let src = self.src_of(rhs);
        self.masm.alu(Alu::Cmp, w, dst, src);
        self.free_src(src);
        self.push_cond(c, dst);
    }

    pub(super) fn bitcount(&mut self, w: bool, kind: u8) {
        let ty = if w { ValType::I64 } else { ValType::I32 };
        let r = self.pop_gpr();
        self.masm.bitcount(kind, w, r, r);
        self.push_gpr(ty, r);
    }

    pub(super) fn shift(&mut self, w: bool, op: Shift) {
        let rhs = self.pop();
        let lhs = self.pop();
        let ty = lhs.ty;
        if let Loc::Const(c) = rhs.loc {
            let dst = self.take_gpr(lhs);
            let n = (c as u32) & if w { 63 } else { 31 };
            self.masm.shift_imm(op, w, dst, n as u8);
            self.push_gpr(ty, dst);
            return;
        }
        self.stack.evict_gpr(&mut self.masm, SHIFT_COUNT);
        let mut cnt = self.take_gpr(rhs);
        let mut dst = self.take_gpr(lhs);
        if dst == SHIFT_COUNT {
            // The value may not live in the count register: move it out.
            let nd = self
                .stack
                .alloc_gpr_except(&mut self.masm, 1 << SHIFT_COUNT);
            self.masm.mov_rr(true, nd, SHIFT_COUNT);
            self.stack.free_gpr(SHIFT_COUNT);
            dst = nd;
        }
        if cnt != SHIFT_COUNT {
            self.stack.claim_gpr(SHIFT_COUNT);
            self.masm.mov_rr(true, SHIFT_COUNT, cnt);
            self.stack.free_gpr(cnt);
            cnt = SHIFT_COUNT;
        }
        self.masm.shift_cl(op, w, dst);
        self.stack.free_gpr(cnt);
        self.push_gpr(ty, dst);
    }

    pub(super) fn idiv(&mut self, w: bool, signed: bool, rem: bool) {
        let ty = if w { ValType::I64 } else { ValType::I32 };
        let rhs = self.pop();
        let lhs = self.pop();
        self.stack.evict_gpr(&mut self.masm, DIV_QUOTIENT);
        self.stack.evict_gpr(&mut self.masm, DIV_REMAINDER);
        let d = self.take_gpr(rhs);
        self.masm.mov_rr(true, DIVISOR, d);
        self.stack.free_gpr(d);
        let n = self.take_gpr(lhs);
        self.masm.mov_rr(true, DIV_QUOTIENT, n);
        self.stack.free_gpr(n);
        self.stack.claim_gpr(DIV_QUOTIENT);
        self.stack.claim_gpr(DIV_REMAINDER);
        let div0 = self.trap_label(TrapCode::IntegerDivideByZero, self.wasm);
        let ovf = (signed && !rem).then(|| self.trap_label(TrapCode::IntegerOverflow, self.wasm));
        self.masm.wasm_div(signed, rem, w, div0, ovf);
        if rem {
            self.stack.free_gpr(DIV_QUOTIENT);
            self.push_gpr(ty, DIV_REMAINDER);
        } else {
            self.stack.free_gpr(DIV_REMAINDER);
            self.push_gpr(ty, DIV_QUOTIENT);
        }
    }

    // ---- float operators -----------------------------------------------------------------

    pub(super) fn fbin(&mut self, f64: bool, op: FBin) {
        let rhs = self.pop();
        let lhs = self.pop();
        let ty = lhs.ty;
        let dst = self.take_xmm(lhs);
        // A local the cache holds is read from its register.
        let cached = match rhs.loc {
            Loc::Local(l) => self.stack.cached_xmm(l),
            _ => None,
        };
        if let Some(x) = cached {
            self.masm.fbin(op, f64, dst, x);
            self.stack.free_xmm(x);
        } else if let Some(m) = self.stack.mem_of(&rhs) {
            self.masm.fbin_mem(op, f64, dst, RBP, m);
        } else {
            let src = self.take_xmm(rhs);
            self.masm.fbin(op, f64, dst, src);
            self.stack.free_xmm(src);
        }
        self.push_xmm(ty, dst);
    }

    pub(super) fn fminmax(&mut self, f64: bool, max: bool) {
        let rhs = self.pop();
        let lhs = self.pop();
        let ty = lhs.ty;
        let dst = self.take_xmm(lhs);
        let src = self.take_xmm(rhs);
        self.masm.fminmax(max, f64, dst, src);
        self.stack.free_xmm(src);
        self.push_xmm(ty, dst);
    }

    pub(super) fn fcopysign(&mut self, f64: bool) {
        let rhs = self.pop();
        let lhs = self.pop();
        let ty = lhs.ty;
        let dst = self.take_xmm(lhs);
        let src = self.take_xmm(rhs);
        let tmp = self.stack.alloc_gpr(&mut self.masm);
        self.masm.fsign_op(2, f64, dst, Some((src, tmp)));
        self.stack.free_gpr(tmp);
        self.stack.free_xmm(src);
        self.push_xmm(ty, dst);
    }

    pub(super) fn funop(&mut self, f64: bool, f: impl FnOnce(&mut Masm, Xmm)) {
        let ty = if f64 { ValType::F64 } else { ValType::F32 };
        let x = self.pop_xmm();
        f(&mut self.masm, x);
        self.push_xmm(ty, x);
    }

    pub(super) fn funop_to(&mut self, _src_f64: bool, to: ValType, f: impl FnOnce(&mut Masm, Xmm)) {
        let x = self.pop_xmm();
        f(&mut self.masm, x);
        self.push_xmm(to, x);
    }

    pub(super) fn fcmp(&mut self, f64: bool, c: FCmp) {
        let rhs = self.pop();
        let lhs = self.pop();
        let a = self.take_xmm(lhs);
        let b = self.take_xmm(rhs);
        let d = self.stack.alloc_gpr(&mut self.masm);
        match c {
            FCmp::Eq | FCmp::Ne => {
                self.masm.ucomi(f64, a, b);
                let (c1, c2) = if c == FCmp::Eq {
                    (Cond::Eq, Cond::NoParity)
                } else {
                    (Cond::Ne, Cond::Parity)
                };
                let t = self.stack.alloc_gpr(&mut self.masm);
                self.masm.setcc(c1, d);
                self.masm.setcc(c2, t);
                self.masm.alu(
                    if c == FCmp::Eq { Alu::And } else { Alu::Or },
                    false,
                    d,
                    Src::Reg(t),
                );
                self.stack.free_gpr(t);
            }
            FCmp::Lt | FCmp::Le => {
                self.masm.ucomi(f64, b, a);
                self.masm
                    .setcc(if c == FCmp::Lt { Cond::GtU } else { Cond::GeU }, d);
            }
            FCmp::Gt | FCmp::Ge => {
                self.masm.ucomi(f64, a, b);
                self.masm
                    .setcc(if c == FCmp::Gt { Cond::GtU } else { Cond::GeU }, d);
            }
        }
        self.stack.free_xmm(a);
        self.stack.free_xmm(b);
        self.push_gpr(ValType::I32, d);
    }

    pub(super) fn int_to_float(&mut self, f64: bool, w: bool, signed: bool) {
        let ty = if f64 { ValType::F64 } else { ValType::F32 };
        let r = self.pop_gpr();
        let x = self.stack.alloc_xmm(&mut self.masm);
        if signed {
            self.masm.cvt_int_to_float(f64, w, x, r);
        } else if !w {
            self.masm.mov_rr(false, r, r);
            self.masm.cvt_int_to_float(f64, true, x, r);
        } else {
            let tmp = self.stack.alloc_gpr(&mut self.masm);
            self.masm.cvt_u64_to_float(f64, x, r, tmp);
            self.stack.free_gpr(tmp);
        }
        self.stack.free_gpr(r);
        self.push_xmm(ty, x);
    }

    /// Trapping float → signed int, inline with an out-of-line range check.
    pub(super) fn trunc_signed(&mut self, f64: bool, w: bool) {
        let ty = if w { ValType::I64 } else { ValType::I32 };
        let x = self.pop_xmm();
        let d = self.stack.alloc_gpr(&mut self.masm);
        let conv = self.trap_label(TrapCode::BadConversionToInteger, self.wasm);
        let ovf = self.trap_label(TrapCode::IntegerOverflow, self.wasm);
        self.masm.wasm_trunc_signed(f64, w, d, x, conv, ovf);
        self.stack.free_xmm(x);
        self.push_gpr(ty, d);
    }

    /// Trapping float → unsigned i32, inline (`MacroAssembler::wasm_trunc_u32`).
    pub(super) fn trunc_u32(&mut self, f64: bool) {
        let x = self.pop_xmm();
        let d = self.stack.alloc_gpr(&mut self.masm);
        let conv = self.trap_label(TrapCode::BadConversionToInteger, self.wasm);
        let ovf = self.trap_label(TrapCode::IntegerOverflow, self.wasm);
        self.masm.wasm_trunc_u32(f64, d, x, conv, ovf);
        self.stack.free_xmm(x);
        self.push_gpr(ValType::I32, d);
    }

    /// The other unsigned and the saturating truncations go through the runtime.
    pub(super) fn trunc_builtin(&mut self, f64: bool, w: bool, unsigned: bool, sat: bool) {
        use crate::vm::layout::float_to_int::*;
        let ty = if w { ValType::I64 } else { ValType::I32 };
        let mut kind = 0;
        if f64 {
            kind |= SRC_F64;
        }
        if w {
            kind |= DST_I64;
        }
        if unsigned {
            kind |= UNSIGNED;
        }
        if sat {
            kind |= SATURATING;
        }
        // (vmctx, bits, kind, out) -> status; the result lands in the home slot.
        self.builtin(
            Builtin::FloatToInt,
            &[Arg::Stack(0), Arg::Imm(kind as i64), Arg::SlotAddr(0)],
            1,
            None,
            true,
        );
        self.stack.push(ty, Loc::Stack);
    }

    pub(super) fn reinterpret_to_int(&mut self, f64: bool) {
        let ty = if f64 { ValType::I64 } else { ValType::I32 };
        let x = self.pop_xmm();
        let r = self.stack.alloc_gpr(&mut self.masm);
        self.masm.movq_to_gpr(f64, r, x);
        self.stack.free_xmm(x);
        self.push_gpr(ty, r);
    }

    pub(super) fn reinterpret_to_float(&mut self, f64: bool) {
        let ty = if f64 { ValType::F64 } else { ValType::F32 };
        let r = self.pop_gpr();
        let x = self.stack.alloc_xmm(&mut self.masm);
        self.masm.movq_to_xmm(f64, x, r);
        self.stack.free_gpr(r);
        self.push_xmm(ty, x);
    }
}
