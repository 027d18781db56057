//! The 128-bit vector operators (Wasm SIMD and relaxed SIMD) as Cranelift IR.
//!
//! Invariants: every `v128` on the operand stack, in a local or a block
//! parameter has the Cranelift type `I8X16`; an operator bitcasts its operands
//! to the lane type it works on and its result back (`pop_as`, `push_v`), and
//! those bitcasts cost no instructions. Vector loads are kept apart from their
//! users by a sequence point (as scalar loads are, see `memory.rs`), so a fault
//! names the load's offset. Relaxed operators take one of the results the
//! spec allows: swizzle, laneselect, min/max and truncations behave as their
//! deterministic counterparts; madd/nmadd are fused; the dot products treat
//! the second operand as signed.

use super::memory::Ext;
use super::translate::{Res, Translator};
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F32X4, F64X2, I16X8, I32, I32X4, I64X2, I8X16};
use cranelift_codegen::ir::{ConstantData, Endianness, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::FunctionBuilder;
use wasmparser::{MemArg, Operator};

/// How a vector load builds its value.
#[derive(Clone, Copy)]
enum VLoad {
    Full,
    /// Eight/four/two narrow lanes, widened (`v128.load8x8_s` ..).
    Widen(Ext),
    /// One scalar broadcast to every lane.
    Splat(Type),
    /// One scalar in lane 0, the rest zero.
    Zero(Type),
}

type Bld<'a, 'b> = &'a mut FunctionBuilder<'b>;

/// Bitcast flags: vector bitcasts that change the lane count need a byte order.
fn cast_flags() -> MemFlagsData {
    MemFlagsData::new().with_endianness(Endianness::Little)
}

fn cast(b: Bld<'_, '_>, ty: Type, v: Value) -> Value {
    if b.func.dfg.value_type(v) == ty {
        v
    } else {
        b.ins().bitcast(ty, cast_flags(), v)
    }
}

/// A vector constant of type `ty` from its 16 little-endian bytes.
pub(crate) fn vconst(b: Bld<'_, '_>, ty: Type, bytes: [u8; 16]) -> Value {
    let c = b
        .func
        .dfg
        .constants
        .insert(ConstantData::from(bytes.to_vec()));
    b.ins().vconst(ty, c)
}

/// `pmin`/`pmax`: `b < a ? b : a` and `a < b ? b : a`, NaNs pass `a` through.
fn pseudo_min(b: Bld<'_, '_>, x: Value, y: Value) -> Value {
    let c = b.ins().fcmp(FloatCC::LessThan, y, x);
    let ty = b.func.dfg.value_type(x);
    let c = cast(b, ty, c);
    b.ins().bitselect(c, y, x)
}

fn pseudo_max(b: Bld<'_, '_>, x: Value, y: Value) -> Value {
    let c = b.ins().fcmp(FloatCC::LessThan, x, y);
    let ty = b.func.dfg.value_type(x);
    let c = cast(b, ty, c);
    b.ins().bitselect(c, y, x)
}

/// Pairwise dot product of signed 8-bit lanes into 16-bit lanes (wrapping).
fn dot_i8(b: Bld<'_, '_>, x: Value, y: Value) -> Value {
    let xl = b.ins().swiden_low(x);
    let yl = b.ins().swiden_low(y);
    let lo = b.ins().imul(xl, yl);
    let xh = b.ins().swiden_high(x);
    let yh = b.ins().swiden_high(y);
    let hi = b.ins().imul(xh, yh);
    b.ins().iadd_pairwise(lo, hi)
}

/// Pairwise dot product of signed 16-bit lanes into 32-bit lanes.
fn dot_i16(b: Bld<'_, '_>, x: Value, y: Value) -> Value {
    let xl = b.ins().swiden_low(x);
    let yl = b.ins().swiden_low(y);
    let lo = b.ins().imul(xl, yl);
    let xh = b.ins().swiden_high(x);
    let yh = b.ins().swiden_high(y);
    let hi = b.ins().imul(xh, yh);
    b.ins().iadd_pairwise(lo, hi)
}

impl<'b> Translator<'_, 'b> {
    /// Pops a vector as lane type `ty`.
    fn pop_as(&mut self, ty: Type) -> Value {
        let v = self.pop();
        cast(&mut self.b, ty, v)
    }

    /// Pushes a vector in the canonical `I8X16` type.
    fn push_v(&mut self, v: Value) {
        let v = cast(&mut self.b, I8X16, v);
        self.push(v);
    }

    fn vun(&mut self, ty: Type, f: impl FnOnce(Bld<'_, 'b>, Value) -> Value) {
        let a = self.pop_as(ty);
        let v = f(&mut self.b, a);
        self.push_v(v);
    }

    fn vbin(&mut self, ty: Type, f: impl FnOnce(Bld<'_, 'b>, Value, Value) -> Value) {
        let y = self.pop_as(ty);
        let x = self.pop_as(ty);
        let v = f(&mut self.b, x, y);
        self.push_v(v);
    }

    fn vtern(&mut self, ty: Type, f: impl FnOnce(Bld<'_, 'b>, Value, Value, Value) -> Value) {
        let z = self.pop_as(ty);
        let y = self.pop_as(ty);
        let x = self.pop_as(ty);
        let v = f(&mut self.b, x, y, z);
        self.push_v(v);
    }

    fn vicmp(&mut self, ty: Type, cc: IntCC) {
        self.vbin(ty, |b, x, y| b.ins().icmp(cc, x, y));
    }

    fn vfcmp(&mut self, ty: Type, cc: FloatCC) {
        self.vbin(ty, |b, x, y| b.ins().fcmp(cc, x, y));
    }

    /// Shifts by the popped i32, taken modulo the lane width as wasm asks.
    fn vshift(&mut self, ty: Type, f: impl FnOnce(Bld<'_, 'b>, Value, Value) -> Value) {
        let n = self.pop();
        let x = self.pop_as(ty);
        let n = self.b.ins().band_imm_u(n, i64::from(ty.lane_bits() - 1));
        let v = f(&mut self.b, x, n);
        self.push_v(v);
    }

    /// Pops a scalar and a vector (the vector below), for a lane replace.
    fn replace_lane(&mut self, ty: Type, lane: u8) {
        let mut x = self.pop();
        let v = self.pop_as(ty);
        let lane_ty = ty.lane_type();
        if lane_ty.bits() < 32 {
            x = self.b.ins().ireduce(lane_ty, x);
        }
        let r = self.b.ins().insertlane(v, x, lane);
        self.push_v(r);
    }

    fn extract_lane(&mut self, ty: Type, lane: u8, ext: Option<bool>) {
        let v = self.pop_as(ty);
        let x = self.b.ins().extractlane(v, lane);
        let x = match ext {
            Some(true) => self.b.ins().sextend(I32, x),
            Some(false) => self.b.ins().uextend(I32, x),
            None => x,
        };
        self.push(x);
    }

    fn splat(&mut self, ty: Type) {
        let mut x = self.pop();
        if ty.lane_bits() < 32 {
            x = self.b.ins().ireduce(ty.lane_type(), x);
        }
        let v = self.b.ins().splat(ty, x);
        self.push_v(v);
    }

    fn vload(&mut self, memarg: MemArg, kind: VLoad) -> Res {
        let (addr, off) = self.heap_address(&memarg)?;
        let flags = self.heap_flags();
        let ins = self.b.ins();
        let v = match kind {
            VLoad::Full => ins.load(I8X16, flags, addr, off),
            VLoad::Widen(Ext::S8) => ins.sload8x8(flags, addr, off),
            VLoad::Widen(Ext::U8) => ins.uload8x8(flags, addr, off),
            VLoad::Widen(Ext::S16) => ins.sload16x4(flags, addr, off),
            VLoad::Widen(Ext::U16) => ins.uload16x4(flags, addr, off),
            VLoad::Widen(Ext::S32) => ins.sload32x2(flags, addr, off),
            VLoad::Widen(_) => ins.uload32x2(flags, addr, off),
            VLoad::Splat(ty) => {
                let x = ins.load(ty.lane_type(), flags, addr, off);
                self.b.ins().splat(ty, x)
            }
            VLoad::Zero(ty) => {
                let x = ins.load(ty.lane_type(), flags, addr, off);
                self.b.ins().scalar_to_vector(ty, x)
            }
        };
        self.push_v(v);
        Ok(())
    }

    fn vstore(&mut self, memarg: MemArg) -> Res {
        let v = self.pop();
        let (addr, off) = self.heap_address(&memarg)?;
        let flags = self.heap_flags();
        self.b.ins().store(flags, v, addr, off);
        Ok(())
    }

    fn load_lane(&mut self, memarg: MemArg, ty: Type, lane: u8) -> Res {
        let v = self.pop_as(ty);
        let (addr, off) = self.heap_address(&memarg)?;
        let flags = self.heap_flags();
        let x = self.b.ins().load(ty.lane_type(), flags, addr, off);
        let r = self.b.ins().insertlane(v, x, lane);
        self.push_v(r);
        Ok(())
    }

    fn store_lane(&mut self, memarg: MemArg, ty: Type, lane: u8) -> Res {
        let v = self.pop_as(ty);
        let (addr, off) = self.heap_address(&memarg)?;
        let flags = self.heap_flags();
        let x = self.b.ins().extractlane(v, lane);
        self.b.ins().store(flags, x, addr, off);
        Ok(())
    }

    /// Translates a vector operator; `Ok(false)` when `op` is not one.
    pub(crate) fn visit_simd(&mut self, op: &Operator<'_>) -> Res<bool> {
        use Operator as O;
        match *op {
            // ---- memory ----
            O::V128Load { memarg } => self.vload(memarg, VLoad::Full)?,
            O::V128Load8x8S { memarg } => self.vload(memarg, VLoad::Widen(Ext::S8))?,
            O::V128Load8x8U { memarg } => self.vload(memarg, VLoad::Widen(Ext::U8))?,
            O::V128Load16x4S { memarg } => self.vload(memarg, VLoad::Widen(Ext::S16))?,
            O::V128Load16x4U { memarg } => self.vload(memarg, VLoad::Widen(Ext::U16))?,
            O::V128Load32x2S { memarg } => self.vload(memarg, VLoad::Widen(Ext::S32))?,
            O::V128Load32x2U { memarg } => self.vload(memarg, VLoad::Widen(Ext::U32))?,
            O::V128Load8Splat { memarg } => self.vload(memarg, VLoad::Splat(I8X16))?,
            O::V128Load16Splat { memarg } => self.vload(memarg, VLoad::Splat(I16X8))?,
            O::V128Load32Splat { memarg } => self.vload(memarg, VLoad::Splat(I32X4))?,
            O::V128Load64Splat { memarg } => self.vload(memarg, VLoad::Splat(I64X2))?,
            O::V128Load32Zero { memarg } => self.vload(memarg, VLoad::Zero(I32X4))?,
            O::V128Load64Zero { memarg } => self.vload(memarg, VLoad::Zero(I64X2))?,
            O::V128Store { memarg } => self.vstore(memarg)?,
            O::V128Load8Lane { memarg, lane } => self.load_lane(memarg, I8X16, lane)?,
            O::V128Load16Lane { memarg, lane } => self.load_lane(memarg, I16X8, lane)?,
            O::V128Load32Lane { memarg, lane } => self.load_lane(memarg, I32X4, lane)?,
            O::V128Load64Lane { memarg, lane } => self.load_lane(memarg, I64X2, lane)?,
            O::V128Store8Lane { memarg, lane } => self.store_lane(memarg, I8X16, lane)?,
            O::V128Store16Lane { memarg, lane } => self.store_lane(memarg, I16X8, lane)?,
            O::V128Store32Lane { memarg, lane } => self.store_lane(memarg, I32X4, lane)?,
            O::V128Store64Lane { memarg, lane } => self.store_lane(memarg, I64X2, lane)?,

            // ---- constants, shuffles, lanes ----
            O::V128Const { value } => {
                let v = vconst(&mut self.b, I8X16, *value.bytes());
                self.push(v);
            }
            O::I8x16Shuffle { lanes } => {
                let (x, y) = self.pop2();
                let mask = self.b.func.dfg.immediates.push(lanes.to_vec().into());
                let v = self.b.ins().shuffle(x, y, mask);
                self.push(v);
            }
            O::I8x16Swizzle | O::I8x16RelaxedSwizzle => {
                self.vbin(I8X16, |b, x, y| b.ins().swizzle(x, y))
            }
            O::I8x16Splat => self.splat(I8X16),
            O::I16x8Splat => self.splat(I16X8),
            O::I32x4Splat => self.splat(I32X4),
            O::I64x2Splat => self.splat(I64X2),
            O::F32x4Splat => self.splat(F32X4),
            O::F64x2Splat => self.splat(F64X2),
            O::I8x16ExtractLaneS { lane } => self.extract_lane(I8X16, lane, Some(true)),
            O::I8x16ExtractLaneU { lane } => self.extract_lane(I8X16, lane, Some(false)),
            O::I16x8ExtractLaneS { lane } => self.extract_lane(I16X8, lane, Some(true)),
            O::I16x8ExtractLaneU { lane } => self.extract_lane(I16X8, lane, Some(false)),
            O::I32x4ExtractLane { lane } => self.extract_lane(I32X4, lane, None),
            O::I64x2ExtractLane { lane } => self.extract_lane(I64X2, lane, None),
            O::F32x4ExtractLane { lane } => self.extract_lane(F32X4, lane, None),
            O::F64x2ExtractLane { lane } => self.extract_lane(F64X2, lane, None),
            O::I8x16ReplaceLane { lane } => self.replace_lane(I8X16, lane),
            O::I16x8ReplaceLane { lane } => self.replace_lane(I16X8, lane),
            O::I32x4ReplaceLane { lane } => self.replace_lane(I32X4, lane),
            O::I64x2ReplaceLane { lane } => self.replace_lane(I64X2, lane),
            O::F32x4ReplaceLane { lane } => self.replace_lane(F32X4, lane),
            O::F64x2ReplaceLane { lane } => self.replace_lane(F64X2, lane),

            // ---- integer comparisons ----
            O::I8x16Eq => self.vicmp(I8X16, IntCC::Equal),
            O::I8x16Ne => self.vicmp(I8X16, IntCC::NotEqual),
            O::I8x16LtS => self.vicmp(I8X16, IntCC::SignedLessThan),
            O::I8x16LtU => self.vicmp(I8X16, IntCC::UnsignedLessThan),
            O::I8x16GtS => self.vicmp(I8X16, IntCC::SignedGreaterThan),
            O::I8x16GtU => self.vicmp(I8X16, IntCC::UnsignedGreaterThan),
            O::I8x16LeS => self.vicmp(I8X16, IntCC::SignedLessThanOrEqual),
            O::I8x16LeU => self.vicmp(I8X16, IntCC::UnsignedLessThanOrEqual),
            O::I8x16GeS => self.vicmp(I8X16, IntCC::SignedGreaterThanOrEqual),
            O::I8x16GeU => self.vicmp(I8X16, IntCC::UnsignedGreaterThanOrEqual),
            O::I16x8Eq => self.vicmp(I16X8, IntCC::Equal),
            O::I16x8Ne => self.vicmp(I16X8, IntCC::NotEqual),
            O::I16x8LtS => self.vicmp(I16X8, IntCC::SignedLessThan),
            O::I16x8LtU => self.vicmp(I16X8, IntCC::UnsignedLessThan),
            O::I16x8GtS => self.vicmp(I16X8, IntCC::SignedGreaterThan),
            O::I16x8GtU => self.vicmp(I16X8, IntCC::UnsignedGreaterThan),
            O::I16x8LeS => self.vicmp(I16X8, IntCC::SignedLessThanOrEqual),
            O::I16x8LeU => self.vicmp(I16X8, IntCC::UnsignedLessThanOrEqual),
            O::I16x8GeS => self.vicmp(I16X8, IntCC::SignedGreaterThanOrEqual),
            O::I16x8GeU => self.vicmp(I16X8, IntCC::UnsignedGreaterThanOrEqual),
            O::I32x4Eq => self.vicmp(I32X4, IntCC::Equal),
            O::I32x4Ne => self.vicmp(I32X4, IntCC::NotEqual),
            O::I32x4LtS => self.vicmp(I32X4, IntCC::SignedLessThan),
            O::I32x4LtU => self.vicmp(I32X4, IntCC::UnsignedLessThan),
            O::I32x4GtS => self.vicmp(I32X4, IntCC::SignedGreaterThan),
            O::I32x4GtU => self.vicmp(I32X4, IntCC::UnsignedGreaterThan),
            O::I32x4LeS => self.vicmp(I32X4, IntCC::SignedLessThanOrEqual),
            O::I32x4LeU => self.vicmp(I32X4, IntCC::UnsignedLessThanOrEqual),
            O::I32x4GeS => self.vicmp(I32X4, IntCC::SignedGreaterThanOrEqual),
            O::I32x4GeU => self.vicmp(I32X4, IntCC::UnsignedGreaterThanOrEqual),
            O::I64x2Eq => self.vicmp(I64X2, IntCC::Equal),
            O::I64x2Ne => self.vicmp(I64X2, IntCC::NotEqual),
            O::I64x2LtS => self.vicmp(I64X2, IntCC::SignedLessThan),
            O::I64x2GtS => self.vicmp(I64X2, IntCC::SignedGreaterThan),
            O::I64x2LeS => self.vicmp(I64X2, IntCC::SignedLessThanOrEqual),
            O::I64x2GeS => self.vicmp(I64X2, IntCC::SignedGreaterThanOrEqual),

            // ---- float comparisons ----
            O::F32x4Eq => self.vfcmp(F32X4, FloatCC::Equal),
            O::F32x4Ne => self.vfcmp(F32X4, FloatCC::NotEqual),
            O::F32x4Lt => self.vfcmp(F32X4, FloatCC::LessThan),
            O::F32x4Gt => self.vfcmp(F32X4, FloatCC::GreaterThan),
            O::F32x4Le => self.vfcmp(F32X4, FloatCC::LessThanOrEqual),
            O::F32x4Ge => self.vfcmp(F32X4, FloatCC::GreaterThanOrEqual),
            O::F64x2Eq => self.vfcmp(F64X2, FloatCC::Equal),
            O::F64x2Ne => self.vfcmp(F64X2, FloatCC::NotEqual),
            O::F64x2Lt => self.vfcmp(F64X2, FloatCC::LessThan),
            O::F64x2Gt => self.vfcmp(F64X2, FloatCC::GreaterThan),
            O::F64x2Le => self.vfcmp(F64X2, FloatCC::LessThanOrEqual),
            O::F64x2Ge => self.vfcmp(F64X2, FloatCC::GreaterThanOrEqual),

            // ---- bitwise ----
            O::V128Not => self.vun(I8X16, |b, x| b.ins().bnot(x)),
            O::V128And => self.vbin(I8X16, |b, x, y| b.ins().band(x, y)),
            O::V128AndNot => self.vbin(I8X16, |b, x, y| b.ins().band_not(x, y)),
            O::V128Or => self.vbin(I8X16, |b, x, y| b.ins().bor(x, y)),
            O::V128Xor => self.vbin(I8X16, |b, x, y| b.ins().bxor(x, y)),
            O::V128Bitselect
            | O::I8x16RelaxedLaneselect
            | O::I16x8RelaxedLaneselect
            | O::I32x4RelaxedLaneselect
            | O::I64x2RelaxedLaneselect => {
                self.vtern(I8X16, |b, x, y, c| b.ins().bitselect(c, x, y))
            }
            O::V128AnyTrue => {
                let v = self.pop_as(I8X16);
                let t = self.b.ins().vany_true(v);
                let r = self.b.ins().uextend(I32, t);
                self.push(r);
            }
            O::I8x16AllTrue => self.all_true(I8X16),
            O::I16x8AllTrue => self.all_true(I16X8),
            O::I32x4AllTrue => self.all_true(I32X4),
            O::I64x2AllTrue => self.all_true(I64X2),
            O::I8x16Bitmask => self.bitmask(I8X16),
            O::I16x8Bitmask => self.bitmask(I16X8),
            O::I32x4Bitmask => self.bitmask(I32X4),
            O::I64x2Bitmask => self.bitmask(I64X2),

            // ---- integer arithmetic ----
            O::I8x16Abs => self.vun(I8X16, |b, x| b.ins().iabs(x)),
            O::I16x8Abs => self.vun(I16X8, |b, x| b.ins().iabs(x)),
            O::I32x4Abs => self.vun(I32X4, |b, x| b.ins().iabs(x)),
            O::I64x2Abs => self.vun(I64X2, |b, x| b.ins().iabs(x)),
            O::I8x16Neg => self.vun(I8X16, |b, x| b.ins().ineg(x)),
            O::I16x8Neg => self.vun(I16X8, |b, x| b.ins().ineg(x)),
            O::I32x4Neg => self.vun(I32X4, |b, x| b.ins().ineg(x)),
            O::I64x2Neg => self.vun(I64X2, |b, x| b.ins().ineg(x)),
            O::I8x16Popcnt => self.vun(I8X16, |b, x| b.ins().popcnt(x)),
            O::I8x16Add => self.vbin(I8X16, |b, x, y| b.ins().iadd(x, y)),
            O::I16x8Add => self.vbin(I16X8, |b, x, y| b.ins().iadd(x, y)),
            O::I32x4Add => self.vbin(I32X4, |b, x, y| b.ins().iadd(x, y)),
            O::I64x2Add => self.vbin(I64X2, |b, x, y| b.ins().iadd(x, y)),
            O::I8x16Sub => self.vbin(I8X16, |b, x, y| b.ins().isub(x, y)),
            O::I16x8Sub => self.vbin(I16X8, |b, x, y| b.ins().isub(x, y)),
            O::I32x4Sub => self.vbin(I32X4, |b, x, y| b.ins().isub(x, y)),
            O::I64x2Sub => self.vbin(I64X2, |b, x, y| b.ins().isub(x, y)),
            O::I16x8Mul => self.vbin(I16X8, |b, x, y| b.ins().imul(x, y)),
            O::I32x4Mul => self.vbin(I32X4, |b, x, y| b.ins().imul(x, y)),
            O::I64x2Mul => self.vbin(I64X2, |b, x, y| b.ins().imul(x, y)),
            O::I8x16AddSatS => self.vbin(I8X16, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I8x16AddSatU => self.vbin(I8X16, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I16x8AddSatS => self.vbin(I16X8, |b, x, y| b.ins().sadd_sat(x, y)),
            O::I16x8AddSatU => self.vbin(I16X8, |b, x, y| b.ins().uadd_sat(x, y)),
            O::I8x16SubSatS => self.vbin(I8X16, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I8x16SubSatU => self.vbin(I8X16, |b, x, y| b.ins().usub_sat(x, y)),
            O::I16x8SubSatS => self.vbin(I16X8, |b, x, y| b.ins().ssub_sat(x, y)),
            O::I16x8SubSatU => self.vbin(I16X8, |b, x, y| b.ins().usub_sat(x, y)),
            O::I8x16MinS => self.vbin(I8X16, |b, x, y| b.ins().smin(x, y)),
            O::I8x16MinU => self.vbin(I8X16, |b, x, y| b.ins().umin(x, y)),
            O::I8x16MaxS => self.vbin(I8X16, |b, x, y| b.ins().smax(x, y)),
            O::I8x16MaxU => self.vbin(I8X16, |b, x, y| b.ins().umax(x, y)),
            O::I16x8MinS => self.vbin(I16X8, |b, x, y| b.ins().smin(x, y)),
            O::I16x8MinU => self.vbin(I16X8, |b, x, y| b.ins().umin(x, y)),
            O::I16x8MaxS => self.vbin(I16X8, |b, x, y| b.ins().smax(x, y)),
            O::I16x8MaxU => self.vbin(I16X8, |b, x, y| b.ins().umax(x, y)),
            O::I32x4MinS => self.vbin(I32X4, |b, x, y| b.ins().smin(x, y)),
            O::I32x4MinU => self.vbin(I32X4, |b, x, y| b.ins().umin(x, y)),
            O::I32x4MaxS => self.vbin(I32X4, |b, x, y| b.ins().smax(x, y)),
            O::I32x4MaxU => self.vbin(I32X4, |b, x, y| b.ins().umax(x, y)),
            O::I8x16AvgrU => self.vbin(I8X16, |b, x, y| b.ins().avg_round(x, y)),
            O::I16x8AvgrU => self.vbin(I16X8, |b, x, y| b.ins().avg_round(x, y)),
            O::I16x8Q15MulrSatS | O::I16x8RelaxedQ15mulrS => {
                self.vbin(I16X8, |b, x, y| b.ins().sqmul_round_sat(x, y))
            }
            O::I8x16Shl => self.vshift(I8X16, |b, x, n| b.ins().ishl(x, n)),
            O::I16x8Shl => self.vshift(I16X8, |b, x, n| b.ins().ishl(x, n)),
            O::I32x4Shl => self.vshift(I32X4, |b, x, n| b.ins().ishl(x, n)),
            O::I64x2Shl => self.vshift(I64X2, |b, x, n| b.ins().ishl(x, n)),
            O::I8x16ShrS => self.vshift(I8X16, |b, x, n| b.ins().sshr(x, n)),
            O::I16x8ShrS => self.vshift(I16X8, |b, x, n| b.ins().sshr(x, n)),
            O::I32x4ShrS => self.vshift(I32X4, |b, x, n| b.ins().sshr(x, n)),
            O::I64x2ShrS => self.vshift(I64X2, |b, x, n| b.ins().sshr(x, n)),
            O::I8x16ShrU => self.vshift(I8X16, |b, x, n| b.ins().ushr(x, n)),
            O::I16x8ShrU => self.vshift(I16X8, |b, x, n| b.ins().ushr(x, n)),
            O::I32x4ShrU => self.vshift(I32X4, |b, x, n| b.ins().ushr(x, n)),
            O::I64x2ShrU => self.vshift(I64X2, |b, x, n| b.ins().ushr(x, n)),

            // ---- widening, narrowing, pairwise ----
            O::I8x16NarrowI16x8S => self.vbin(I16X8, |b, x, y| b.ins().snarrow(x, y)),
            O::I8x16NarrowI16x8U => self.vbin(I16X8, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8NarrowI32x4S => self.vbin(I32X4, |b, x, y| b.ins().snarrow(x, y)),
            O::I16x8NarrowI32x4U => self.vbin(I32X4, |b, x, y| b.ins().unarrow(x, y)),
            O::I16x8ExtendLowI8x16S => self.vun(I8X16, |b, x| b.ins().swiden_low(x)),
            O::I16x8ExtendHighI8x16S => self.vun(I8X16, |b, x| b.ins().swiden_high(x)),
            O::I16x8ExtendLowI8x16U => self.vun(I8X16, |b, x| b.ins().uwiden_low(x)),
            O::I16x8ExtendHighI8x16U => self.vun(I8X16, |b, x| b.ins().uwiden_high(x)),
            O::I32x4ExtendLowI16x8S => self.vun(I16X8, |b, x| b.ins().swiden_low(x)),
            O::I32x4ExtendHighI16x8S => self.vun(I16X8, |b, x| b.ins().swiden_high(x)),
            O::I32x4ExtendLowI16x8U => self.vun(I16X8, |b, x| b.ins().uwiden_low(x)),
            O::I32x4ExtendHighI16x8U => self.vun(I16X8, |b, x| b.ins().uwiden_high(x)),
            O::I64x2ExtendLowI32x4S => self.vun(I32X4, |b, x| b.ins().swiden_low(x)),
            O::I64x2ExtendHighI32x4S => self.vun(I32X4, |b, x| b.ins().swiden_high(x)),
            O::I64x2ExtendLowI32x4U => self.vun(I32X4, |b, x| b.ins().uwiden_low(x)),
            O::I64x2ExtendHighI32x4U => self.vun(I32X4, |b, x| b.ins().uwiden_high(x)),
            O::I16x8ExtMulLowI8x16S | O::I32x4ExtMulLowI16x8S | O::I64x2ExtMulLowI32x4S => {
                let ty = narrow_of(op);
                self.vbin(ty, |b, x, y| {
                    let x = b.ins().swiden_low(x);
                    let y = b.ins().swiden_low(y);
                    b.ins().imul(x, y)
                })
            }
            O::I16x8ExtMulHighI8x16S | O::I32x4ExtMulHighI16x8S | O::I64x2ExtMulHighI32x4S => {
                let ty = narrow_of(op);
                self.vbin(ty, |b, x, y| {
                    let x = b.ins().swiden_high(x);
                    let y = b.ins().swiden_high(y);
                    b.ins().imul(x, y)
                })
            }
            O::I16x8ExtMulLowI8x16U | O::I32x4ExtMulLowI16x8U | O::I64x2ExtMulLowI32x4U => {
                let ty = narrow_of(op);
                self.vbin(ty, |b, x, y| {
                    let x = b.ins().uwiden_low(x);
                    let y = b.ins().uwiden_low(y);
                    b.ins().imul(x, y)
                })
            }
            O::I16x8ExtMulHighI8x16U | O::I32x4ExtMulHighI16x8U | O::I64x2ExtMulHighI32x4U => {
                let ty = narrow_of(op);
                self.vbin(ty, |b, x, y| {
                    let x = b.ins().uwiden_high(x);
                    let y = b.ins().uwiden_high(y);
                    b.ins().imul(x, y)
                })
            }
            O::I16x8ExtAddPairwiseI8x16S | O::I32x4ExtAddPairwiseI16x8S => {
                let ty = if matches!(op, O::I16x8ExtAddPairwiseI8x16S) {
                    I8X16
                } else {
                    I16X8
                };
                self.vun(ty, |b, x| {
                    let lo = b.ins().swiden_low(x);
                    let hi = b.ins().swiden_high(x);
                    b.ins().iadd_pairwise(lo, hi)
                })
            }
            O::I16x8ExtAddPairwiseI8x16U | O::I32x4ExtAddPairwiseI16x8U => {
                let ty = if matches!(op, O::I16x8ExtAddPairwiseI8x16U) {
                    I8X16
                } else {
                    I16X8
                };
                self.vun(ty, |b, x| {
                    let lo = b.ins().uwiden_low(x);
                    let hi = b.ins().uwiden_high(x);
                    b.ins().iadd_pairwise(lo, hi)
                })
            }
            O::I32x4DotI16x8S => self.vbin(I16X8, dot_i16),
            O::I16x8RelaxedDotI8x16I7x16S => self.vbin(I8X16, dot_i8),
            O::I32x4RelaxedDotI8x16I7x16AddS => {
                let acc = self.pop_as(I32X4);
                let y = self.pop_as(I8X16);
                let x = self.pop_as(I8X16);
                let d = dot_i8(&mut self.b, x, y);
                let lo = self.b.ins().swiden_low(d);
                let hi = self.b.ins().swiden_high(d);
                let p = self.b.ins().iadd_pairwise(lo, hi);
                let v = self.b.ins().iadd(p, acc);
                self.push_v(v);
            }

            // ---- float arithmetic ----
            O::F32x4Add => self.vbin(F32X4, |b, x, y| b.ins().fadd(x, y)),
            O::F64x2Add => self.vbin(F64X2, |b, x, y| b.ins().fadd(x, y)),
            O::F32x4Sub => self.vbin(F32X4, |b, x, y| b.ins().fsub(x, y)),
            O::F64x2Sub => self.vbin(F64X2, |b, x, y| b.ins().fsub(x, y)),
            O::F32x4Mul => self.vbin(F32X4, |b, x, y| b.ins().fmul(x, y)),
            O::F64x2Mul => self.vbin(F64X2, |b, x, y| b.ins().fmul(x, y)),
            O::F32x4Div => self.vbin(F32X4, |b, x, y| b.ins().fdiv(x, y)),
            O::F64x2Div => self.vbin(F64X2, |b, x, y| b.ins().fdiv(x, y)),
            O::F32x4Min | O::F32x4RelaxedMin => self.vbin(F32X4, |b, x, y| b.ins().fmin(x, y)),
            O::F64x2Min | O::F64x2RelaxedMin => self.vbin(F64X2, |b, x, y| b.ins().fmin(x, y)),
            O::F32x4Max | O::F32x4RelaxedMax => self.vbin(F32X4, |b, x, y| b.ins().fmax(x, y)),
            O::F64x2Max | O::F64x2RelaxedMax => self.vbin(F64X2, |b, x, y| b.ins().fmax(x, y)),
            O::F32x4PMin => self.vbin(F32X4, pseudo_min),
            O::F64x2PMin => self.vbin(F64X2, pseudo_min),
            O::F32x4PMax => self.vbin(F32X4, pseudo_max),
            O::F64x2PMax => self.vbin(F64X2, pseudo_max),
            O::F32x4Abs => self.vun(F32X4, |b, x| b.ins().fabs(x)),
            O::F64x2Abs => self.vun(F64X2, |b, x| b.ins().fabs(x)),
            O::F32x4Neg => self.vun(F32X4, |b, x| b.ins().fneg(x)),
            O::F64x2Neg => self.vun(F64X2, |b, x| b.ins().fneg(x)),
            O::F32x4Sqrt => self.vun(F32X4, |b, x| b.ins().sqrt(x)),
            O::F64x2Sqrt => self.vun(F64X2, |b, x| b.ins().sqrt(x)),
            O::F32x4Ceil => self.vun(F32X4, |b, x| b.ins().ceil(x)),
            O::F64x2Ceil => self.vun(F64X2, |b, x| b.ins().ceil(x)),
            O::F32x4Floor => self.vun(F32X4, |b, x| b.ins().floor(x)),
            O::F64x2Floor => self.vun(F64X2, |b, x| b.ins().floor(x)),
            O::F32x4Trunc => self.vun(F32X4, |b, x| b.ins().trunc(x)),
            O::F64x2Trunc => self.vun(F64X2, |b, x| b.ins().trunc(x)),
            O::F32x4Nearest => self.vun(F32X4, |b, x| b.ins().nearest(x)),
            O::F64x2Nearest => self.vun(F64X2, |b, x| b.ins().nearest(x)),
            O::F32x4RelaxedMadd => self.vtern(F32X4, |b, x, y, z| b.ins().fma(x, y, z)),
            O::F64x2RelaxedMadd => self.vtern(F64X2, |b, x, y, z| b.ins().fma(x, y, z)),
            O::F32x4RelaxedNmadd => self.vtern(F32X4, |b, x, y, z| {
                let x = b.ins().fneg(x);
                b.ins().fma(x, y, z)
            }),
            O::F64x2RelaxedNmadd => self.vtern(F64X2, |b, x, y, z| {
                let x = b.ins().fneg(x);
                b.ins().fma(x, y, z)
            }),

            // ---- conversions ----
            O::I32x4TruncSatF32x4S | O::I32x4RelaxedTruncF32x4S => {
                self.vun(F32X4, |b, x| b.ins().fcvt_to_sint_sat(I32X4, x))
            }
            O::I32x4TruncSatF32x4U | O::I32x4RelaxedTruncF32x4U => {
                self.vun(F32X4, |b, x| b.ins().fcvt_to_uint_sat(I32X4, x))
            }
            O::I32x4TruncSatF64x2SZero | O::I32x4RelaxedTruncF64x2SZero => {
                self.vun(F64X2, |b, x| {
                    let c = b.ins().fcvt_to_sint_sat(I64X2, x);
                    let z = vconst(b, I64X2, [0; 16]);
                    b.ins().snarrow(c, z)
                })
            }
            O::I32x4TruncSatF64x2UZero | O::I32x4RelaxedTruncF64x2UZero => {
                self.vun(F64X2, |b, x| {
                    let c = b.ins().fcvt_to_uint_sat(I64X2, x);
                    let z = vconst(b, I64X2, [0; 16]);
                    b.ins().uunarrow(c, z)
                })
            }
            O::F32x4ConvertI32x4S => self.vun(I32X4, |b, x| b.ins().fcvt_from_sint(F32X4, x)),
            O::F32x4ConvertI32x4U => self.vun(I32X4, |b, x| b.ins().fcvt_from_uint(F32X4, x)),
            O::F64x2ConvertLowI32x4S => self.vun(I32X4, |b, x| {
                let w = b.ins().swiden_low(x);
                b.ins().fcvt_from_sint(F64X2, w)
            }),
            O::F64x2ConvertLowI32x4U => self.vun(I32X4, |b, x| {
                let w = b.ins().uwiden_low(x);
                b.ins().fcvt_from_uint(F64X2, w)
            }),
            O::F32x4DemoteF64x2Zero => self.vun(F64X2, |b, x| b.ins().fvdemote(x)),
            O::F64x2PromoteLowF32x4 => self.vun(F32X4, |b, x| b.ins().fvpromote_low(x)),

            _ => return Ok(false),
        }
        Ok(true)
    }

    fn all_true(&mut self, ty: Type) {
        let v = self.pop_as(ty);
        let t = self.b.ins().vall_true(v);
        let r = self.b.ins().uextend(I32, t);
        self.push(r);
    }

    fn bitmask(&mut self, ty: Type) {
        let v = self.pop_as(ty);
        let r = self.b.ins().vhigh_bits(I32, v);
        self.push(r);
    }
}

/// The operand lane type of an `extmul` operator.
fn narrow_of(op: &Operator<'_>) -> Type {
    use Operator as O;
    match op {
        O::I16x8ExtMulLowI8x16S
        | O::I16x8ExtMulHighI8x16S
        | O::I16x8ExtMulLowI8x16U
        | O::I16x8ExtMulHighI8x16U => I8X16,
        O::I32x4ExtMulLowI16x8S
        | O::I32x4ExtMulHighI16x8S
        | O::I32x4ExtMulLowI16x8U
        | O::I32x4ExtMulHighI16x8U => I16X8,
        _ => I32X4,
    }
}
