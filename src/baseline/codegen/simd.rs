//! The 128-bit vector operators (Wasm SIMD and relaxed SIMD) for the
//! baseline compiler: operand handling on the value stack (a `v128` lives in
//! an xmm register, its 16-byte home slot, or a local's 16-byte slot) and
//! one call into the macro assembler's vector operations (`masm/simd.rs`)
//! per operator. Relaxed operators give the same results as the optimizing
//! tier: swizzle, laneselect, min/max, truncation and q15mulr as their
//! deterministic counterparts, madd/nmadd fused (FMA3), the dot products
//! with both operands signed.

use super::*;
use wasmparser::OperatorsReader;

/// Eight i16 lanes of 1 (the multiplier that turns `pmaddwd` into a pairwise add).
const ONES_I16X8: [u8; 16] = [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0];

/// Whether a function may hold a v128 on its operand stack (then its home
/// slots are 16 bytes): a v128 parameter, result or local, a module that
/// names v128 in a type or global, or a vector opcode byte (0xfd) anywhere
/// in the body (a byte of an immediate may match too: that only costs
/// frame space).
pub(super) fn may_hold_v128(
    module: &ModuleInfo,
    ty: &FuncType,
    locals: &[ValType],
    ops: &OperatorsReader<'_>,
) -> bool {
    let has = |t: &FuncType| t.params().iter().chain(t.results()).any(|t| t.is_v128());
    if has(ty) || locals.iter().any(|t| t.is_v128()) {
        return true;
    }
    if module.types.iter().any(has) || module.globals.iter().any(|g| g.ty.is_v128()) {
        return true;
    }
    let mut r = ops.get_binary_reader();
    let n = r.bytes_remaining();
    r.read_bytes(n).is_ok_and(|b| b.contains(&0xfd))
}

impl CodeGen<'_> {
    fn vpush(&mut self, x: Xmm) {
        self.push_xmm(ValType::V128, x);
    }

    /// `a = f(a)` on the top vector.
    fn vun(&mut self, f: impl FnOnce(&mut Masm, Xmm)) {
        let a = self.pop_xmm();
        f(&mut self.masm, a);
        self.vpush(a);
    }

    /// `a = f(a, t)` with a temporary xmm register `t`.
    fn vun_t(&mut self, f: impl FnOnce(&mut Masm, Xmm, Xmm)) {
        let a = self.pop_xmm();
        let t = self.stack.alloc_xmm(&mut self.masm);
        f(&mut self.masm, a, t);
        self.stack.free_xmm(t);
        self.vpush(a);
    }

    /// `a = f(a, b)` on the top two vectors.
    fn vbin(&mut self, f: impl FnOnce(&mut Masm, Xmm, Xmm)) {
        let b = self.pop_xmm();
        let a = self.pop_xmm();
        f(&mut self.masm, a, b);
        self.stack.free_xmm(b);
        self.vpush(a);
    }

    /// `vbin` with a temporary xmm register.
    fn vbin_t(&mut self, f: impl FnOnce(&mut Masm, Xmm, Xmm, Xmm)) {
        let b = self.pop_xmm();
        let a = self.pop_xmm();
        let t = self.stack.alloc_xmm(&mut self.masm);
        f(&mut self.masm, a, b, t);
        self.stack.free_xmm(t);
        self.stack.free_xmm(b);
        self.vpush(a);
    }

    /// A single two-operand instruction.
    fn vop2(&mut self, op: V) {
        self.vbin(|m, a, b| m.vop(op, a, b));
    }

    /// A single instruction applied to the top vector in place.
    fn vop1(&mut self, op: V) {
        self.vun(|m, a| m.vop(op, a, a));
    }

    /// `*.all_true`, `*.bitmask`, `v128.any_true`: vector in, i32 out.
    fn vreduce(&mut self, f: impl FnOnce(&mut Masm, Gpr, Xmm)) {
        let x = self.pop_xmm();
        let r = self.stack.alloc_gpr(&mut self.masm);
        f(&mut self.masm, r, x);
        self.stack.free_xmm(x);
        self.push_gpr(ValType::I32, r);
    }

    fn vsplat(&mut self, lanes: Lanes) {
        match lanes {
            Lanes::F32 | Lanes::F64 => {
                let x = self.pop_xmm();
                self.masm.v_splat_lane0(lanes, x);
                self.vpush(x);
            }
            _ => {
                let r = self.pop_gpr();
                let x = self.stack.alloc_xmm(&mut self.masm);
                self.masm.v_splat_gpr(lanes, x, r);
                self.stack.free_gpr(r);
                self.vpush(x);
            }
        }
    }

    fn vextract(&mut self, lanes: Lanes, signed: bool, lane: u8) {
        let x = self.pop_xmm();
        match lanes {
            Lanes::F32 | Lanes::F64 => {
                let f64 = lanes == Lanes::F64;
                self.masm.v_extract_float(f64, x, lane);
                self.push_xmm(if f64 { ValType::F64 } else { ValType::F32 }, x);
            }
            _ => {
                let r = self.stack.alloc_gpr(&mut self.masm);
                self.masm.v_extract_gpr(lanes, signed, r, x, lane);
                self.stack.free_xmm(x);
                let ty = if lanes == Lanes::I64 {
                    ValType::I64
                } else {
                    ValType::I32
                };
                self.push_gpr(ty, r);
            }
        }
    }

    fn vreplace(&mut self, lanes: Lanes, lane: u8) {
        match lanes {
            Lanes::F32 | Lanes::F64 => {
                let s = self.pop_xmm();
                let x = self.pop_xmm();
                self.masm.v_replace_float(lanes == Lanes::F64, x, s, lane);
                self.stack.free_xmm(s);
                self.vpush(x);
            }
            _ => {
                let r = self.pop_gpr();
                let x = self.pop_xmm();
                self.masm.v_replace_gpr(lanes, x, r, lane);
                self.stack.free_gpr(r);
                self.vpush(x);
            }
        }
    }

    fn vload(&mut self, memarg: MemArg, f: impl FnOnce(&mut Masm, Xmm, Gpr, i32)) {
        let (a, disp) = self.address(memarg);
        let x = self.stack.alloc_xmm(&mut self.masm);
        f(&mut self.masm, x, a, disp);
        self.stack.free_gpr(a);
        self.vpush(x);
    }

    fn vload_lane(&mut self, memarg: MemArg, lanes: Lanes, lane: u8) {
        let x = self.pop_xmm();
        let (a, disp) = self.address(memarg);
        self.masm.wasm_vload_lane(lanes, x, a, disp, lane);
        self.stack.free_gpr(a);
        self.vpush(x);
    }

    fn vstore(&mut self, memarg: MemArg, lane: Option<(Lanes, u8)>) {
        let x = self.pop_xmm();
        let (a, disp) = self.address(memarg);
        match lane {
            None => self.masm.wasm_vstore(x, a, disp),
            Some((lanes, l)) => self.masm.wasm_vstore_lane(lanes, x, a, disp, l),
        }
        self.stack.free_gpr(a);
        self.stack.free_xmm(x);
    }

    fn vshift(&mut self, lanes: Lanes, kind: VShiftKind) {
        let p = self.pop();
        let bits = 8 * lanes.bytes() as i32;
        if let Loc::Const(c) = p.loc {
            if Masm::v_shift_has_imm(lanes, kind) {
                let a = self.pop_xmm();
                let n = (c as u32 & (bits as u32 - 1)) as u8;
                self.masm.v_shift_by(lanes, kind, a, n);
                self.vpush(a);
                return;
            }
        }
        let n = self.stack.in_gpr(&mut self.masm, p);
        self.masm.alu(Alu::And, false, n, Src::Imm(bits - 1));
        let a = self.pop_xmm();
        let t = self.stack.alloc_xmm(&mut self.masm);
        self.masm.v_shift(lanes, kind, a, n, t);
        self.stack.free_xmm(t);
        self.stack.free_gpr(n);
        self.vpush(a);
    }

    /// `c = f(a, b, c)`, the result in the third operand's register.
    fn vtern(&mut self, f: impl FnOnce(&mut Masm, Xmm, Xmm, Xmm)) {
        let c = self.pop_xmm();
        let b = self.pop_xmm();
        let a = self.pop_xmm();
        f(&mut self.masm, a, b, c);
        self.stack.free_xmm(a);
        self.stack.free_xmm(b);
        self.vpush(c);
    }

    fn vfma(&mut self, f64: bool, negate: bool) -> Res {
        if !std::arch::is_x86_feature_detected!("fma") {
            return Err("relaxed madd/nmadd need a CPU with FMA3 in the baseline tier".into());
        }
        self.vtern(|m, a, b, c| m.v_fma(f64, negate, c, a, b));
        Ok(())
    }

    /// Compiles a vector operator; `false` if `op` is not one.
    pub(super) fn visit_simd(&mut self, op: &Operator<'_>) -> Res<bool> {
        use Lanes::*;
        use Operator as O;
        use VShiftKind::*;
        match *op {
            // ---- memory ----
            O::V128Load { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload(VLoad::Full, x, a, d))
            }
            O::V128Load8x8S { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload(VLoad::S8x8, x, a, d))
            }
            O::V128Load8x8U { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload(VLoad::U8x8, x, a, d))
            }
            O::V128Load16x4S { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload(VLoad::S16x4, x, a, d))
            }
            O::V128Load16x4U { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload(VLoad::U16x4, x, a, d))
            }
            O::V128Load32x2S { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload(VLoad::S32x2, x, a, d))
            }
            O::V128Load32x2U { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload(VLoad::U32x2, x, a, d))
            }
            O::V128Load32Zero { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload(VLoad::Zero32, x, a, d))
            }
            O::V128Load64Zero { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload(VLoad::Zero64, x, a, d))
            }
            O::V128Load8Splat { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload_splat(I8, x, a, d))
            }
            O::V128Load16Splat { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload_splat(I16, x, a, d))
            }
            O::V128Load32Splat { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload_splat(I32, x, a, d))
            }
            O::V128Load64Splat { memarg } => {
                self.vload(memarg, |m, x, a, d| m.wasm_vload_splat(I64, x, a, d))
            }
            O::V128Store { memarg } => self.vstore(memarg, None),
            O::V128Load8Lane { memarg, lane } => self.vload_lane(memarg, I8, lane),
            O::V128Load16Lane { memarg, lane } => self.vload_lane(memarg, I16, lane),
            O::V128Load32Lane { memarg, lane } => self.vload_lane(memarg, I32, lane),
            O::V128Load64Lane { memarg, lane } => self.vload_lane(memarg, I64, lane),
            O::V128Store8Lane { memarg, lane } => self.vstore(memarg, Some((I8, lane))),
            O::V128Store16Lane { memarg, lane } => self.vstore(memarg, Some((I16, lane))),
            O::V128Store32Lane { memarg, lane } => self.vstore(memarg, Some((I32, lane))),
            O::V128Store64Lane { memarg, lane } => self.vstore(memarg, Some((I64, lane))),

            // ---- constants, shuffles, lanes ----
            O::V128Const { value } => {
                let x = self.stack.alloc_xmm(&mut self.masm);
                self.masm.vconst(x, *value.bytes());
                self.vpush(x);
            }
            O::I8x16Shuffle { lanes } => self.vbin(|m, a, b| m.v_shuffle(a, b, lanes)),
            O::I8x16Swizzle | O::I8x16RelaxedSwizzle => self.vbin(|m, a, b| m.v_swizzle(a, b)),
            O::I8x16Splat => self.vsplat(I8),
            O::I16x8Splat => self.vsplat(I16),
            O::I32x4Splat => self.vsplat(I32),
            O::I64x2Splat => self.vsplat(I64),
            O::F32x4Splat => self.vsplat(F32),
            O::F64x2Splat => self.vsplat(F64),
            O::I8x16ExtractLaneS { lane } => self.vextract(I8, true, lane),
            O::I8x16ExtractLaneU { lane } => self.vextract(I8, false, lane),
            O::I16x8ExtractLaneS { lane } => self.vextract(I16, true, lane),
            O::I16x8ExtractLaneU { lane } => self.vextract(I16, false, lane),
            O::I32x4ExtractLane { lane } => self.vextract(I32, false, lane),
            O::I64x2ExtractLane { lane } => self.vextract(I64, false, lane),
            O::F32x4ExtractLane { lane } => self.vextract(F32, false, lane),
            O::F64x2ExtractLane { lane } => self.vextract(F64, false, lane),
            O::I8x16ReplaceLane { lane } => self.vreplace(I8, lane),
            O::I16x8ReplaceLane { lane } => self.vreplace(I16, lane),
            O::I32x4ReplaceLane { lane } => self.vreplace(I32, lane),
            O::I64x2ReplaceLane { lane } => self.vreplace(I64, lane),
            O::F32x4ReplaceLane { lane } => self.vreplace(F32, lane),
            O::F64x2ReplaceLane { lane } => self.vreplace(F64, lane),

            // ---- integer comparisons ----
            O::I8x16Eq => self.vicmp(I8, VCmp::Eq),
            O::I8x16Ne => self.vicmp(I8, VCmp::Ne),
            O::I8x16LtS => self.vicmp(I8, VCmp::LtS),
            O::I8x16LtU => self.vicmp(I8, VCmp::LtU),
            O::I8x16GtS => self.vicmp(I8, VCmp::GtS),
            O::I8x16GtU => self.vicmp(I8, VCmp::GtU),
            O::I8x16LeS => self.vicmp(I8, VCmp::LeS),
            O::I8x16LeU => self.vicmp(I8, VCmp::LeU),
            O::I8x16GeS => self.vicmp(I8, VCmp::GeS),
            O::I8x16GeU => self.vicmp(I8, VCmp::GeU),
            O::I16x8Eq => self.vicmp(I16, VCmp::Eq),
            O::I16x8Ne => self.vicmp(I16, VCmp::Ne),
            O::I16x8LtS => self.vicmp(I16, VCmp::LtS),
            O::I16x8LtU => self.vicmp(I16, VCmp::LtU),
            O::I16x8GtS => self.vicmp(I16, VCmp::GtS),
            O::I16x8GtU => self.vicmp(I16, VCmp::GtU),
            O::I16x8LeS => self.vicmp(I16, VCmp::LeS),
            O::I16x8LeU => self.vicmp(I16, VCmp::LeU),
            O::I16x8GeS => self.vicmp(I16, VCmp::GeS),
            O::I16x8GeU => self.vicmp(I16, VCmp::GeU),
            O::I32x4Eq => self.vicmp(I32, VCmp::Eq),
            O::I32x4Ne => self.vicmp(I32, VCmp::Ne),
            O::I32x4LtS => self.vicmp(I32, VCmp::LtS),
            O::I32x4LtU => self.vicmp(I32, VCmp::LtU),
            O::I32x4GtS => self.vicmp(I32, VCmp::GtS),
            O::I32x4GtU => self.vicmp(I32, VCmp::GtU),
            O::I32x4LeS => self.vicmp(I32, VCmp::LeS),
            O::I32x4LeU => self.vicmp(I32, VCmp::LeU),
            O::I32x4GeS => self.vicmp(I32, VCmp::GeS),
            O::I32x4GeU => self.vicmp(I32, VCmp::GeU),
            O::I64x2Eq => self.vicmp(I64, VCmp::Eq),
            O::I64x2Ne => self.vicmp(I64, VCmp::Ne),
            O::I64x2LtS => self.vicmp(I64, VCmp::LtS),
            O::I64x2GtS => self.vicmp(I64, VCmp::GtS),
            O::I64x2LeS => self.vicmp(I64, VCmp::LeS),
            O::I64x2GeS => self.vicmp(I64, VCmp::GeS),

            // ---- float comparisons ----
            O::F32x4Eq => self.vfcmp(false, VFCmp::Eq),
            O::F32x4Ne => self.vfcmp(false, VFCmp::Ne),
            O::F32x4Lt => self.vfcmp(false, VFCmp::Lt),
            O::F32x4Gt => self.vfcmp(false, VFCmp::Gt),
            O::F32x4Le => self.vfcmp(false, VFCmp::Le),
            O::F32x4Ge => self.vfcmp(false, VFCmp::Ge),
            O::F64x2Eq => self.vfcmp(true, VFCmp::Eq),
            O::F64x2Ne => self.vfcmp(true, VFCmp::Ne),
            O::F64x2Lt => self.vfcmp(true, VFCmp::Lt),
            O::F64x2Gt => self.vfcmp(true, VFCmp::Gt),
            O::F64x2Le => self.vfcmp(true, VFCmp::Le),
            O::F64x2Ge => self.vfcmp(true, VFCmp::Ge),

            // ---- bitwise ----
            O::V128Not => self.vun(|m, a| m.v_not(a)),
            O::V128And => self.vop2(V::Pand),
            O::V128AndNot => self.vbin(|m, a, b| m.v_andnot(a, b)),
            O::V128Or => self.vop2(V::Por),
            O::V128Xor => self.vop2(V::Pxor),
            O::V128Bitselect
            | O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => {
                let c = self.pop_xmm();
                let b = self.pop_xmm();
                let a = self.pop_xmm();
                self.masm.v_bitselect(a, b, c);
                self.stack.free_xmm(b);
                self.stack.free_xmm(c);
                self.vpush(a);
            }
            O::V128AnyTrue => self.vreduce(|m, r, x| m.v_any_true(r, x)),
            O::I8x16AllTrue => self.vreduce(|m, r, x| m.v_all_true(I8, r, x)),
            O::I16x8AllTrue => self.vreduce(|m, r, x| m.v_all_true(I16, r, x)),
            O::I32x4AllTrue => self.vreduce(|m, r, x| m.v_all_true(I32, r, x)),
            O::I64x2AllTrue => self.vreduce(|m, r, x| m.v_all_true(I64, r, x)),
            O::I8x16Bitmask => self.vreduce(|m, r, x| m.v_bitmask(I8, r, x)),
            O::I16x8Bitmask => self.vreduce(|m, r, x| m.v_bitmask(I16, r, x)),
            O::I32x4Bitmask => self.vreduce(|m, r, x| m.v_bitmask(I32, r, x)),
            O::I64x2Bitmask => self.vreduce(|m, r, x| m.v_bitmask(I64, r, x)),

            // ---- integer arithmetic ----
            O::I8x16Abs => self.vun(|m, a| m.v_iabs(I8, a)),
            O::I16x8Abs => self.vun(|m, a| m.v_iabs(I16, a)),
            O::I32x4Abs => self.vun(|m, a| m.v_iabs(I32, a)),
            O::I64x2Abs => self.vun(|m, a| m.v_iabs(I64, a)),
            O::I8x16Neg => self.vun(|m, a| m.v_ineg(I8, a)),
            O::I16x8Neg => self.vun(|m, a| m.v_ineg(I16, a)),
            O::I32x4Neg => self.vun(|m, a| m.v_ineg(I32, a)),
            O::I64x2Neg => self.vun(|m, a| m.v_ineg(I64, a)),
            O::I8x16Popcnt => self.vun_t(|m, a, t| m.v_popcnt(a, t)),
            O::I8x16Add => self.vop2(V::Paddb),
            O::I16x8Add => self.vop2(V::Paddw),
            O::I32x4Add => self.vop2(V::Paddd),
            O::I64x2Add => self.vop2(V::Paddq),
            O::I8x16Sub => self.vop2(V::Psubb),
            O::I16x8Sub => self.vop2(V::Psubw),
            O::I32x4Sub => self.vop2(V::Psubd),
            O::I64x2Sub => self.vop2(V::Psubq),
            O::I16x8Mul => self.vop2(V::Pmullw),
            O::I32x4Mul => self.vop2(V::Pmulld),
            O::I64x2Mul => self.vbin_t(|m, a, b, t| m.v_i64_mul(a, b, t)),
            O::I8x16AddSatS => self.vop2(V::Paddsb),
            O::I8x16AddSatU => self.vop2(V::Paddusb),
            O::I16x8AddSatS => self.vop2(V::Paddsw),
            O::I16x8AddSatU => self.vop2(V::Paddusw),
            O::I8x16SubSatS => self.vop2(V::Psubsb),
            O::I8x16SubSatU => self.vop2(V::Psubusb),
            O::I16x8SubSatS => self.vop2(V::Psubsw),
            O::I16x8SubSatU => self.vop2(V::Psubusw),
            O::I8x16MinS => self.vop2(V::Pminsb),
            O::I8x16MinU => self.vop2(V::Pminub),
            O::I8x16MaxS => self.vop2(V::Pmaxsb),
            O::I8x16MaxU => self.vop2(V::Pmaxub),
            O::I16x8MinS => self.vop2(V::Pminsw),
            O::I16x8MinU => self.vop2(V::Pminuw),
            O::I16x8MaxS => self.vop2(V::Pmaxsw),
            O::I16x8MaxU => self.vop2(V::Pmaxuw),
            O::I32x4MinS => self.vop2(V::Pminsd),
            O::I32x4MinU => self.vop2(V::Pminud),
            O::I32x4MaxS => self.vop2(V::Pmaxsd),
            O::I32x4MaxU => self.vop2(V::Pmaxud),
            O::I8x16AvgrU => self.vop2(V::Pavgb),
            O::I16x8AvgrU => self.vop2(V::Pavgw),
            O::I16x8Q15MulrSatS | O::I16x8RelaxedQ15mulrS => self.vbin(|m, a, b| m.v_q15mulr(a, b)),
            O::I8x16Shl => self.vshift(I8, Shl),
            O::I16x8Shl => self.vshift(I16, Shl),
            O::I32x4Shl => self.vshift(I32, Shl),
            O::I64x2Shl => self.vshift(I64, Shl),
            O::I8x16ShrS => self.vshift(I8, ShrS),
            O::I16x8ShrS => self.vshift(I16, ShrS),
            O::I32x4ShrS => self.vshift(I32, ShrS),
            O::I64x2ShrS => self.vshift(I64, ShrS),
            O::I8x16ShrU => self.vshift(I8, ShrU),
            O::I16x8ShrU => self.vshift(I16, ShrU),
            O::I32x4ShrU => self.vshift(I32, ShrU),
            O::I64x2ShrU => self.vshift(I64, ShrU),

            // ---- widening, narrowing, pairwise ----
            O::I8x16NarrowI16x8S => self.vop2(V::Packsswb),
            O::I8x16NarrowI16x8U => self.vop2(V::Packuswb),
            O::I16x8NarrowI32x4S => self.vop2(V::Packssdw),
            O::I16x8NarrowI32x4U => self.vop2(V::Packusdw),
            O::I16x8ExtendLowI8x16S => self.vun(|m, a| m.v_extend(I8, true, false, a)),
            O::I16x8ExtendHighI8x16S => self.vun(|m, a| m.v_extend(I8, true, true, a)),
            O::I16x8ExtendLowI8x16U => self.vun(|m, a| m.v_extend(I8, false, false, a)),
            O::I16x8ExtendHighI8x16U => self.vun(|m, a| m.v_extend(I8, false, true, a)),
            O::I32x4ExtendLowI16x8S => self.vun(|m, a| m.v_extend(I16, true, false, a)),
            O::I32x4ExtendHighI16x8S => self.vun(|m, a| m.v_extend(I16, true, true, a)),
            O::I32x4ExtendLowI16x8U => self.vun(|m, a| m.v_extend(I16, false, false, a)),
            O::I32x4ExtendHighI16x8U => self.vun(|m, a| m.v_extend(I16, false, true, a)),
            O::I64x2ExtendLowI32x4S => self.vun(|m, a| m.v_extend(I32, true, false, a)),
            O::I64x2ExtendHighI32x4S => self.vun(|m, a| m.v_extend(I32, true, true, a)),
            O::I64x2ExtendLowI32x4U => self.vun(|m, a| m.v_extend(I32, false, false, a)),
            O::I64x2ExtendHighI32x4U => self.vun(|m, a| m.v_extend(I32, false, true, a)),
            O::I16x8ExtMulLowI8x16S => self.vbin(|m, a, b| m.v_extmul(I8, true, false, a, b)),
            O::I16x8ExtMulHighI8x16S => self.vbin(|m, a, b| m.v_extmul(I8, true, true, a, b)),
            O::I16x8ExtMulLowI8x16U => self.vbin(|m, a, b| m.v_extmul(I8, false, false, a, b)),
            O::I16x8ExtMulHighI8x16U => self.vbin(|m, a, b| m.v_extmul(I8, false, true, a, b)),
            O::I32x4ExtMulLowI16x8S => self.vbin(|m, a, b| m.v_extmul(I16, true, false, a, b)),
            O::I32x4ExtMulHighI16x8S => self.vbin(|m, a, b| m.v_extmul(I16, true, true, a, b)),
            O::I32x4ExtMulLowI16x8U => self.vbin(|m, a, b| m.v_extmul(I16, false, false, a, b)),
            O::I32x4ExtMulHighI16x8U => self.vbin(|m, a, b| m.v_extmul(I16, false, true, a, b)),
            O::I64x2ExtMulLowI32x4S => self.vbin(|m, a, b| m.v_extmul(I32, true, false, a, b)),
            O::I64x2ExtMulHighI32x4S => self.vbin(|m, a, b| m.v_extmul(I32, true, true, a, b)),
            O::I64x2ExtMulLowI32x4U => self.vbin(|m, a, b| m.v_extmul(I32, false, false, a, b)),
            O::I64x2ExtMulHighI32x4U => self.vbin(|m, a, b| m.v_extmul(I32, false, true, a, b)),
            O::I16x8ExtAddPairwiseI8x16S => self.vun(|m, a| m.v_extadd_pairwise(I8, true, a)),
            O::I16x8ExtAddPairwiseI8x16U => self.vun(|m, a| m.v_extadd_pairwise(I8, false, a)),
            O::I32x4ExtAddPairwiseI16x8S => self.vun(|m, a| m.v_extadd_pairwise(I16, true, a)),
            O::I32x4ExtAddPairwiseI16x8U => self.vun(|m, a| m.v_extadd_pairwise(I16, false, a)),
            O::I32x4DotI16x8S => self.vop2(V::Pmaddwd),
            O::I16x8RelaxedDotI8x16I7x16S => self.vbin_t(|m, a, b, t| m.v_dot_i8(a, b, t)),
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let c = self.pop_xmm();
                let b = self.pop_xmm();
                let a = self.pop_xmm();
                let t = self.stack.alloc_xmm(&mut self.masm);
                self.masm.v_dot_i8(a, b, t);
                // i16x8 lanes of 1: pmaddwd with it sums adjacent i16 pairs into i32s.
                self.masm.vop_const(V::Pmaddwd, a, ONES_I16X8);
                self.masm.vop(V::Paddd, a, c);
                self.stack.free_xmm(t);
                self.stack.free_xmm(b);
                self.stack.free_xmm(c);
                self.vpush(a);
            }

            // ---- float arithmetic ----
            O::F32x4Add => self.vop2(V::Addps),
            O::F64x2Add => self.vop2(V::Addpd),
            O::F32x4Sub => self.vop2(V::Subps),
            O::F64x2Sub => self.vop2(V::Subpd),
            O::F32x4Mul => self.vop2(V::Mulps),
            O::F64x2Mul => self.vop2(V::Mulpd),
            O::F32x4Div => self.vop2(V::Divps),
            O::F64x2Div => self.vop2(V::Divpd),
            O::F32x4Min | O::F32x4RelaxedMin => {
                self.vbin(|m, a, b| m.v_fminmax(false, false, a, b))
            }
            O::F64x2Min | O::F64x2RelaxedMin => self.vbin(|m, a, b| m.v_fminmax(true, false, a, b)),
            O::F32x4Max | O::F32x4RelaxedMax => self.vbin(|m, a, b| m.v_fminmax(false, true, a, b)),
            O::F64x2Max | O::F64x2RelaxedMax => self.vbin(|m, a, b| m.v_fminmax(true, true, a, b)),
            O::F32x4PMin => self.vbin(|m, a, b| m.v_pminmax(false, false, a, b)),
            O::F64x2PMin => self.vbin(|m, a, b| m.v_pminmax(true, false, a, b)),
            O::F32x4PMax => self.vbin(|m, a, b| m.v_pminmax(false, true, a, b)),
            O::F64x2PMax => self.vbin(|m, a, b| m.v_pminmax(true, true, a, b)),
            O::F32x4Abs => self.vun(|m, a| m.v_fsign(false, false, a)),
            O::F64x2Abs => self.vun(|m, a| m.v_fsign(true, false, a)),
            O::F32x4Neg => self.vun(|m, a| m.v_fsign(false, true, a)),
            O::F64x2Neg => self.vun(|m, a| m.v_fsign(true, true, a)),
            O::F32x4Sqrt => self.vop1(V::Sqrtps),
            O::F64x2Sqrt => self.vop1(V::Sqrtpd),
            O::F32x4Ceil => self.vun(|m, a| m.vimm(VImm::Roundps, a, a, 2)),
            O::F64x2Ceil => self.vun(|m, a| m.vimm(VImm::Roundpd, a, a, 2)),
            O::F32x4Floor => self.vun(|m, a| m.vimm(VImm::Roundps, a, a, 1)),
            O::F64x2Floor => self.vun(|m, a| m.vimm(VImm::Roundpd, a, a, 1)),
            O::F32x4Trunc => self.vun(|m, a| m.vimm(VImm::Roundps, a, a, 3)),
            O::F64x2Trunc => self.vun(|m, a| m.vimm(VImm::Roundpd, a, a, 3)),
            O::F32x4Nearest => self.vun(|m, a| m.vimm(VImm::Roundps, a, a, 0)),
            O::F64x2Nearest => self.vun(|m, a| m.vimm(VImm::Roundpd, a, a, 0)),
            O::F32x4RelaxedMadd => self.vfma(false, false)?,
            O::F64x2RelaxedMadd => self.vfma(true, false)?,
            O::F32x4RelaxedNmadd => self.vfma(false, true)?,
            O::F64x2RelaxedNmadd => self.vfma(true, true)?,

            // ---- conversions ----
            O::I32x4TruncSatF32x4S | O::I32x4RelaxedTruncF32x4S => {
                self.vun(|m, a| m.v_trunc_sat_f32_s(a))
            }
            O::I32x4TruncSatF32x4U | O::I32x4RelaxedTruncF32x4U => {
                self.vun_t(|m, a, t| m.v_trunc_sat_f32_u(a, t))
            }
            O::I32x4TruncSatF64x2SZero | O::I32x4RelaxedTruncF64x2SZero => {
                self.vun(|m, a| m.v_trunc_sat_f64_s(a))
            }
            O::I32x4TruncSatF64x2UZero | O::I32x4RelaxedTruncF64x2UZero => {
                self.vun(|m, a| m.v_trunc_sat_f64_u(a))
            }
            O::F32x4ConvertI32x4S => self.vop1(V::Cvtdq2ps),
            O::F32x4ConvertI32x4U => self.vun(|m, a| m.v_convert_u32_f32(a)),
            O::F64x2ConvertLowI32x4S => self.vop1(V::Cvtdq2pd),
            O::F64x2ConvertLowI32x4U => self.vun(|m, a| m.v_convert_low_u32_f64(a)),
            O::F32x4DemoteF64x2Zero => self.vop1(V::Cvtpd2ps),
            O::F64x2PromoteLowF32x4 => self.vop1(V::Cvtps2pd),

            _ => return Ok(false),
        }
        Ok(true)
    }

    fn vicmp(&mut self, lanes: Lanes, cmp: VCmp) {
        self.vbin(|m, a, b| m.v_icmp(lanes, cmp, a, b));
    }

    fn vfcmp(&mut self, f64: bool, cmp: VFCmp) {
        self.vbin(|m, a, b| m.v_fcmp(f64, cmp, a, b));
    }
}
