//! Wasm-shaped vector operations of the baseline's macro assembler: each
//! SIMD operator's semantics (lane shapes, saturation, NaN rules, the
//! relaxed operators' chosen results) as a short sequence of the x64
//! assembler's vector instructions (`x64/simd.rs`). Operands are xmm
//! registers the caller owns; the result lands in the first one unless a
//! method says otherwise. `XSCRATCH` (xmm15) is clobbered freely, and so are
//! the other operands. 16-byte constants come from the function's constant
//! pool (after its code).

use super::{Alu, Cond, Gpr, Masm, Src, Xmm, MEM_BASE, SCRATCH, XSCRATCH};
use crate::baseline::x64::simd::{VImm, VLoad, VShift, V};
use crate::types::ValType;

/// A vector's lane shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lanes {
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
}

impl Lanes {
    pub fn bytes(self) -> u8 {
        match self {
            Lanes::I8 => 1,
            Lanes::I16 => 2,
            Lanes::I32 | Lanes::F32 => 4,
            Lanes::I64 | Lanes::F64 => 8,
        }
    }
}

/// An integer lane compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VCmp {
    Eq,
    Ne,
    LtS,
    LtU,
    GtS,
    GtU,
    LeS,
    LeU,
    GeS,
    GeU,
}

/// A float lane compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VFCmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// A lane shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VShiftKind {
    Shl,
    ShrS,
    ShrU,
}

fn splat_bytes<const N: usize>(lane: [u8; N]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (i, b) in out.iter_mut().enumerate() {
        *b = lane[i % N];
    }
    out
}

fn splat32(v: u32) -> [u8; 16] {
    splat_bytes(v.to_le_bytes())
}

fn splat64(v: u64) -> [u8; 16] {
    splat_bytes(v.to_le_bytes())
}

impl Masm {
    // ---- moving whole values ------------------------------------------------

    /// Loads a value of a type that lives in xmm registers (f32, f64, v128).
    pub fn xload(&mut self, ty: ValType, dst: Xmm, base: Gpr, disp: i32) {
        self.asm.xload(ty, dst, base, disp)
    }

    /// Stores a value of a type that lives in xmm registers (f32, f64, v128).
    pub fn xstore(&mut self, ty: ValType, base: Gpr, disp: i32, src: Xmm) {
        self.asm.xstore(ty, base, disp, src)
    }

    /// Copies a value of type `ty` between memory operands: 8 bytes through
    /// the scratch register, a v128's 16 through the scratch xmm register.
    pub fn copy_value(&mut self, ty: ValType, dst_base: Gpr, dst: i32, src_base: Gpr, src: i32) {
        if ty.is_v128() {
            self.asm.vload(XSCRATCH, src_base, src);
            self.asm.vstore(dst_base, dst, XSCRATCH);
        } else {
            self.asm.copy_slot(dst_base, dst, src_base, src);
        }
    }

    /// Reads global `g` of type `ty` (f32, f64 or v128; v128 cells are 16 bytes).
    pub fn global_get_xmm(&mut self, ty: ValType, dst: Xmm, g: u32) {
        self.global_ptr(g);
        self.asm.xload(ty, dst, SCRATCH, 0);
    }

    pub fn global_set_xmm(&mut self, ty: ValType, g: u32, src: Xmm) {
        self.global_ptr(g);
        self.asm.xstore(ty, SCRATCH, 0, src);
    }

    // ---- constants and single instructions ---------------------------------------

    /// The pool label of a 16-byte constant (each distinct value once).
    fn pool(&mut self, bytes: [u8; 16]) -> dynasmrt::DynamicLabel {
        if let Some(&(l, _)) = self.vconsts.iter().find(|(_, b)| *b == bytes) {
            return l;
        }
        let l = self.asm.new_label();
        self.vconsts.push((l, bytes));
        l
    }

    /// Emits the constant pool (after all code).
    pub(super) fn emit_pool(&mut self) {
        for (l, bytes) in std::mem::take(&mut self.vconsts) {
            self.asm.data16(l, &bytes);
        }
    }

    /// `dst = v128.const bytes`.
    pub fn vconst(&mut self, dst: Xmm, bytes: [u8; 16]) {
        if bytes == [0; 16] {
            self.asm.v(V::Pxor, dst, dst);
        } else if bytes == [0xff; 16] {
            self.asm.v(V::Pcmpeqd, dst, dst);
        } else {
            let l = self.pool(bytes);
            self.asm.v_rip(V::Movdqu, dst, l);
        }
    }

    /// `op dst, src`
    pub fn vop(&mut self, op: V, dst: Xmm, src: Xmm) {
        self.asm.v(op, dst, src)
    }

    /// `op dst, [constant]`
    pub fn vop_const(&mut self, op: V, dst: Xmm, bytes: [u8; 16]) {
        let l = self.pool(bytes);
        self.asm.v_rip(op, dst, l)
    }

    pub fn vimm(&mut self, op: VImm, dst: Xmm, src: Xmm, imm: u8) {
        self.asm.v_imm(op, dst, src, imm)
    }

    /// `dst = !dst`
    pub fn v_not(&mut self, dst: Xmm) {
        self.asm.v(V::Pcmpeqd, XSCRATCH, XSCRATCH);
        self.asm.v(V::Pxor, dst, XSCRATCH);
    }

    /// `v128.andnot`: `a = a & !b`.
    pub fn v_andnot(&mut self, a: Xmm, b: Xmm) {
        self.asm.v(V::Pandn, b, a);
        self.asm.fmov(a, b);
    }

    /// `v128.bitselect`: `a = (a & c) | (b & !c)`.
    pub fn v_bitselect(&mut self, a: Xmm, b: Xmm, c: Xmm) {
        self.asm.v(V::Pand, a, c);
        self.asm.v(V::Pandn, c, b);
        self.asm.v(V::Por, a, c);
    }

    // ---- reductions to a general register -----------------------------------------

    /// `v128.any_true`: `dst = (x != 0)`.
    pub fn v_any_true(&mut self, dst: Gpr, x: Xmm) {
        self.asm.v(V::Ptest, x, x);
        self.setcc(Cond::Ne, dst);
    }

    /// `*.all_true`: `dst = no lane of x is zero`.
    pub fn v_all_true(&mut self, lanes: Lanes, dst: Gpr, x: Xmm) {
        let eq = match lanes {
            Lanes::I8 => V::Pcmpeqb,
            Lanes::I16 => V::Pcmpeqw,
            Lanes::I32 | Lanes::F32 => V::Pcmpeqd,
            Lanes::I64 | Lanes::F64 => V::Pcmpeqq,
        };
        self.asm.v(V::Pxor, XSCRATCH, XSCRATCH);
        self.asm.v(eq, XSCRATCH, x);
        self.asm.v(V::Ptest, XSCRATCH, XSCRATCH);
        self.setcc(Cond::Eq, dst);
    }

    /// `*.bitmask`: the lanes' sign bits.
    pub fn v_bitmask(&mut self, lanes: Lanes, dst: Gpr, x: Xmm) {
        match lanes {
            Lanes::I16 => {
                self.asm.fmov(XSCRATCH, x);
                self.asm.v(V::Packsswb, XSCRATCH, XSCRATCH);
                self.asm.v_movmsk(1, dst, XSCRATCH);
                self.asm.alu(Alu::And, false, dst, Src::Imm(0xff));
            }
            l => self.asm.v_movmsk(l.bytes(), dst, x),
        }
    }

    // ---- lanes ----------------------------------------------------------------------

    /// `*.splat` of an integer in `src` into `dst`.
    pub fn v_splat_gpr(&mut self, lanes: Lanes, dst: Xmm, src: Gpr) {
        match lanes {
            Lanes::I64 => {
                self.asm.movq_to_xmm(true, dst, src);
                self.asm.v_imm(VImm::Pshufd, dst, dst, 0x44);
            }
            l => {
                self.asm.movq_to_xmm(false, dst, src);
                self.v_splat_lane0(l, dst);
            }
        }
    }

    /// Copies lane 0 (of `lanes`' width) into every lane, in place.
    pub fn v_splat_lane0(&mut self, lanes: Lanes, x: Xmm) {
        match lanes {
            Lanes::I8 => {
                self.asm.v(V::Pxor, XSCRATCH, XSCRATCH);
                self.asm.v(V::Pshufb, x, XSCRATCH);
            }
            Lanes::I16 => {
                self.asm.v_imm(VImm::Pshuflw, x, x, 0);
                self.asm.v_imm(VImm::Pshufd, x, x, 0);
            }
            Lanes::I32 | Lanes::F32 => self.asm.v_imm(VImm::Pshufd, x, x, 0),
            Lanes::I64 | Lanes::F64 => self.asm.v(V::Movddup, x, x),
        }
    }

    /// `*.extract_lane` of an integer lane into `dst` (`signed`: sign-extend
    /// an 8- or 16-bit lane to 32 bits, else zero-extend).
    pub fn v_extract_gpr(&mut self, lanes: Lanes, signed: bool, dst: Gpr, x: Xmm, lane: u8) {
        let bytes = lanes.bytes();
        self.asm.v_extract_gpr(bytes, dst, x, lane);
        if signed && bytes < 4 {
            self.asm.movsx(bytes * 8, false, dst, dst);
        }
    }

    /// `f32x4/f64x2.extract_lane`: moves the lane to lane 0, in place.
    pub fn v_extract_float(&mut self, f64: bool, x: Xmm, lane: u8) {
        let imm = if f64 {
            [0x44, 0xee][lane as usize & 1]
        } else {
            lane & 3
        };
        if imm != 0 && imm != 0x44 {
            self.asm.v_imm(VImm::Pshufd, x, x, imm);
        }
    }

    /// `*.replace_lane` of an integer lane with `src`.
    pub fn v_replace_gpr(&mut self, lanes: Lanes, x: Xmm, src: Gpr, lane: u8) {
        self.asm.v_insert_gpr(lanes.bytes(), x, src, lane)
    }

    /// `f32x4/f64x2.replace_lane` with the scalar in `src`.
    pub fn v_replace_float(&mut self, f64: bool, x: Xmm, src: Xmm, lane: u8) {
        match (f64, lane) {
            (false, l) => self.asm.v_imm(VImm::Insertps, x, src, (l & 3) << 4),
            (true, 0) => self.asm.v(V::Movsd, x, src),
            (true, _) => self.asm.v(V::Unpcklpd, x, src),
        }
    }

    /// `i8x16.shuffle`: `a = lanes of a ++ b`.
    pub fn v_shuffle(&mut self, a: Xmm, b: Xmm, lanes: [u8; 16]) {
        let pick = |lo: bool| lanes.map(|l| if (l < 16) == lo { l & 15 } else { 0x80 });
        self.vop_const(V::Pshufb, a, pick(true));
        self.vop_const(V::Pshufb, b, pick(false));
        self.asm.v(V::Por, a, b);
    }

    /// `i8x16.swizzle`: `a = a[idx]` with 0 for indices past 15.
    pub fn v_swizzle(&mut self, a: Xmm, idx: Xmm) {
        // Indices 16..=255 saturate to 0x80 and up: pshufb zeroes those.
        self.vop_const(V::Paddusb, idx, [0x70; 16]);
        self.asm.v(V::Pshufb, a, idx);
    }

    // ---- memory -------------------------------------------------------------------

    /// A vector load from linear memory at `addr + disp`.
    pub fn wasm_vload(&mut self, kind: VLoad, dst: Xmm, addr: Gpr, disp: i32) {
        self.asm.v_load_heap(kind, dst, MEM_BASE, addr, disp)
    }

    /// `v128.loadN_splat`.
    pub fn wasm_vload_splat(&mut self, lanes: Lanes, dst: Xmm, addr: Gpr, disp: i32) {
        match lanes.bytes() {
            8 => self.wasm_vload(VLoad::Dup64, dst, addr, disp),
            4 => {
                self.wasm_vload(VLoad::Zero32, dst, addr, disp);
                self.v_splat_lane0(Lanes::I32, dst);
            }
            n => {
                self.asm.v_insert_heap(n, dst, addr, disp, 0);
                self.v_splat_lane0(lanes, dst);
            }
        }
    }

    pub fn wasm_vstore(&mut self, src: Xmm, addr: Gpr, disp: i32) {
        self.asm.v_store_heap(src, MEM_BASE, addr, disp)
    }

    /// `v128.loadN_lane`: lane `lane` of `x` from memory.
    pub fn wasm_vload_lane(&mut self, lanes: Lanes, x: Xmm, addr: Gpr, disp: i32, lane: u8) {
        self.asm.v_insert_heap(lanes.bytes(), x, addr, disp, lane)
    }

    /// `v128.storeN_lane`.
    pub fn wasm_vstore_lane(&mut self, lanes: Lanes, x: Xmm, addr: Gpr, disp: i32, lane: u8) {
        self.asm.v_extract_heap(lanes.bytes(), x, addr, disp, lane)
    }

    // ---- integer lanes --------------------------------------------------------------

    /// Integer lane compare: `a = mask(a cmp b)`; `b` is clobbered.
    pub fn v_icmp(&mut self, lanes: Lanes, cmp: VCmp, a: Xmm, b: Xmm) {
        let (eq, gt, mins, minu, maxs, maxu) = match lanes {
            Lanes::I8 => (
                V::Pcmpeqb,
                V::Pcmpgtb,
                V::Pminsb,
                V::Pminub,
                V::Pmaxsb,
                V::Pmaxub,
            ),
            Lanes::I16 => (
                V::Pcmpeqw,
                V::Pcmpgtw,
                V::Pminsw,
                V::Pminuw,
                V::Pmaxsw,
                V::Pmaxuw,
            ),
            Lanes::I32 | Lanes::F32 => (
                V::Pcmpeqd,
                V::Pcmpgtd,
                V::Pminsd,
                V::Pminud,
                V::Pmaxsd,
                V::Pmaxud,
            ),
            Lanes::I64 | Lanes::F64 => {
                // No 64-bit min/max: order compares use pcmpgtq both ways.
                match cmp {
                    VCmp::Eq | VCmp::Ne => self.asm.v(V::Pcmpeqq, a, b),
                    VCmp::GtS | VCmp::LeS => self.asm.v(V::Pcmpgtq, a, b),
                    _ => {
                        self.asm.v(V::Pcmpgtq, b, a);
                        self.asm.fmov(a, b);
                    }
                }
                if matches!(cmp, VCmp::Ne | VCmp::LeS | VCmp::GeS) {
                    self.v_not(a);
                }
                return;
            }
        };
        // a >= b iff max(a, b) == a; a <= b iff min(a, b) == a.
        let via = |m: &mut Masm, op: V, a: Xmm, b: Xmm| {
            m.asm.fmov(XSCRATCH, a);
            m.asm.v(op, XSCRATCH, b);
            m.asm.v(eq, a, XSCRATCH);
        };
        match cmp {
            VCmp::Eq => self.asm.v(eq, a, b),
            VCmp::Ne => {
                self.asm.v(eq, a, b);
                self.v_not(a);
            }
            VCmp::GtS => self.asm.v(gt, a, b),
            VCmp::LtS => {
                self.asm.v(gt, b, a);
                self.asm.fmov(a, b);
            }
            VCmp::GeS => via(self, maxs, a, b),
            VCmp::LeS => via(self, mins, a, b),
            VCmp::GeU => via(self, maxu, a, b),
            VCmp::LeU => via(self, minu, a, b),
            VCmp::GtU => {
                via(self, minu, a, b);
                self.v_not(a);
            }
            VCmp::LtU => {
                via(self, maxu, a, b);
                self.v_not(a);
            }
        }
    }

    /// `i64x2.mul`: `a = a * b` (low 64 bits), with `t` as a temporary.
    pub fn v_i64_mul(&mut self, a: Xmm, b: Xmm, t: Xmm) {
        let s = XSCRATCH;
        self.asm.fmov(t, a);
        self.asm.v_shift_imm(VShift::Psrlq, t, 32);
        self.asm.v(V::Pmuludq, t, b);
        self.asm.fmov(s, b);
        self.asm.v_shift_imm(VShift::Psrlq, s, 32);
        self.asm.v(V::Pmuludq, s, a);
        self.asm.v(V::Paddq, t, s);
        self.asm.v_shift_imm(VShift::Psllq, t, 32);
        self.asm.v(V::Pmuludq, a, b);
        self.asm.v(V::Paddq, a, t);
    }

    /// `*.abs` of integer lanes.
    pub fn v_iabs(&mut self, lanes: Lanes, a: Xmm) {
        match lanes {
            Lanes::I8 => self.asm.v(V::Pabsb, a, a),
            Lanes::I16 => self.asm.v(V::Pabsw, a, a),
            Lanes::I32 => self.asm.v(V::Pabsd, a, a),
            _ => {
                self.asm.v(V::Pxor, XSCRATCH, XSCRATCH);
                self.asm.v(V::Pcmpgtq, XSCRATCH, a);
                self.asm.v(V::Pxor, a, XSCRATCH);
                self.asm.v(V::Psubq, a, XSCRATCH);
            }
        }
    }

    /// `*.neg` of integer lanes.
    pub fn v_ineg(&mut self, lanes: Lanes, a: Xmm) {
        let sub = match lanes {
            Lanes::I8 => V::Psubb,
            Lanes::I16 => V::Psubw,
            Lanes::I32 => V::Psubd,
            _ => V::Psubq,
        };
        self.asm.fmov(XSCRATCH, a);
        self.asm.v(V::Pxor, a, a);
        self.asm.v(sub, a, XSCRATCH);
    }

    /// `i8x16.popcnt` through a nibble table (`t`: a temporary).
    pub fn v_popcnt(&mut self, a: Xmm, t: Xmm) {
        const LUT: [u8; 16] = [0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4];
        self.asm.fmov(t, a);
        self.asm.v_shift_imm(VShift::Psrlw, t, 4);
        self.vop_const(V::Pand, t, [0x0f; 16]);
        self.vop_const(V::Pand, a, [0x0f; 16]);
        self.vconst(XSCRATCH, LUT);
        self.asm.v(V::Pshufb, XSCRATCH, a);
        self.vconst(a, LUT);
        self.asm.v(V::Pshufb, a, t);
        self.asm.v(V::Paddb, a, XSCRATCH);
    }

    /// `i16x8.q15mulr_sat_s`: pmulhrsw, with its one overflow (0x8000 from
    /// -1 * -1) turned into 0x7fff.
    pub fn v_q15mulr(&mut self, a: Xmm, b: Xmm) {
        self.asm.v(V::Pmulhrsw, a, b);
        self.vconst(XSCRATCH, splat_bytes(0x8000u16.to_le_bytes()));
        self.asm.v(V::Pcmpeqw, XSCRATCH, a);
        self.asm.v(V::Pxor, a, XSCRATCH);
    }

    /// A lane shift of `a` by the count in `n` (already reduced modulo the
    /// lane width; clobbered), with `t` as a temporary.
    pub fn v_shift(&mut self, lanes: Lanes, kind: VShiftKind, a: Xmm, n: Gpr, t: Xmm) {
        let s = XSCRATCH;
        use VShiftKind::*;
        match (lanes, kind) {
            (Lanes::I8, Shl) => {
                self.asm.movq_to_xmm(false, s, n);
                self.asm.v(V::Psllw, a, s);
                // Each byte keeps its bits `0xff << n`.
                self.asm.v(V::Pcmpeqd, t, t);
                self.asm.v(V::Psllw, t, s);
                self.asm.v(V::Pxor, s, s);
                self.asm.v(V::Pshufb, t, s);
                self.asm.v(V::Pand, a, t);
            }
            (Lanes::I8, ShrU) => {
                self.asm.movq_to_xmm(false, s, n);
                self.asm.v(V::Psrlw, a, s);
                // Each byte keeps its bits `0xff >> n`.
                self.asm.v(V::Pcmpeqd, t, t);
                self.asm.v(V::Psrlw, t, s);
                self.asm.v_shift_imm(VShift::Psrlw, t, 8);
                self.asm.v(V::Packuswb, t, t);
                self.asm.v(V::Pand, a, t);
            }
            (Lanes::I8, ShrS) => {
                // Each byte as the high half of a word, shifted by n + 8.
                self.asm.alu(Alu::Add, false, n, Src::Imm(8));
                self.asm.movq_to_xmm(false, s, n);
                self.asm.fmov(t, a);
                self.asm.v(V::Punpckhbw, t, t);
                self.asm.v(V::Psraw, t, s);
                self.asm.v(V::Punpcklbw, a, a);
                self.asm.v(V::Psraw, a, s);
                self.asm.v(V::Packsswb, a, t);
            }
            (Lanes::I64, ShrS) => {
                // ((a ^ sign) >>u n) ^ sign
                self.asm.movq_to_xmm(false, s, n);
                self.asm.v(V::Pxor, t, t);
                self.asm.v(V::Pcmpgtq, t, a);
                self.asm.v(V::Pxor, a, t);
                self.asm.v(V::Psrlq, a, s);
                self.asm.v(V::Pxor, a, t);
            }
            (l, k) => {
                let op = match (l, k) {
                    (Lanes::I16, Shl) => V::Psllw,
                    (Lanes::I16, ShrS) => V::Psraw,
                    (Lanes::I16, ShrU) => V::Psrlw,
                    (Lanes::I32, Shl) => V::Pslld,
                    (Lanes::I32, ShrS) => V::Psrad,
                    (Lanes::I32, ShrU) => V::Psrld,
                    (_, Shl) => V::Psllq,
                    _ => V::Psrlq,
                };
                self.asm.movq_to_xmm(false, s, n);
                self.asm.v(op, a, s);
            }
        }
    }

    /// Whether `v_shift_by` does this shift: one instruction with an
    /// immediate count (16-, 32- and 64-bit lanes; not i64x2.shr_s, which
    /// SSE lacks).
    pub fn v_shift_has_imm(lanes: Lanes, kind: VShiftKind) -> bool {
        !matches!(
            (lanes, kind),
            (Lanes::I8, _) | (Lanes::I64, VShiftKind::ShrS)
        )
    }

    /// A lane shift of `a` by the constant `n` (already reduced modulo the
    /// lane width), for the shifts `v_shift_has_imm` accepts.
    pub fn v_shift_by(&mut self, lanes: Lanes, kind: VShiftKind, a: Xmm, n: u8) {
        use VShiftKind::*;
        let op = match (lanes, kind) {
            (Lanes::I16, Shl) => VShift::Psllw,
            (Lanes::I16, ShrS) => VShift::Psraw,
            (Lanes::I16, ShrU) => VShift::Psrlw,
            (Lanes::I32, Shl) => VShift::Pslld,
            (Lanes::I32, ShrS) => VShift::Psrad,
            (Lanes::I32, ShrU) => VShift::Psrld,
            (_, Shl) => VShift::Psllq,
            _ => VShift::Psrlq,
        };
        self.asm.v_shift_imm(op, a, n);
    }

    /// `extend_low/high`: widens half of `a`'s lanes, in place.
    pub fn v_extend(&mut self, from: Lanes, signed: bool, high: bool, a: Xmm) {
        if high {
            self.asm.v_imm(VImm::Pshufd, a, a, 0xee);
        }
        let op = match (from, signed) {
            (Lanes::I8, true) => V::Pmovsxbw,
            (Lanes::I8, false) => V::Pmovzxbw,
            (Lanes::I16, true) => V::Pmovsxwd,
            (Lanes::I16, false) => V::Pmovzxwd,
            (_, true) => V::Pmovsxdq,
            (_, false) => V::Pmovzxdq,
        };
        self.asm.v(op, a, a);
    }

    /// `extmul_low/high`: `a = widen(a) * widen(b)`; `b` is clobbered.
    pub fn v_extmul(&mut self, from: Lanes, signed: bool, high: bool, a: Xmm, b: Xmm) {
        match from {
            Lanes::I8 | Lanes::I16 => {
                self.v_extend(from, signed, high, a);
                self.v_extend(from, signed, high, b);
                let mul = if from == Lanes::I8 {
                    V::Pmullw
                } else {
                    V::Pmulld
                };
                self.asm.v(mul, a, b);
            }
            _ => {
                // pmul(u)dq multiplies lanes 0 and 2.
                let sel = if high { 0xfa } else { 0x50 };
                self.asm.v_imm(VImm::Pshufd, a, a, sel);
                self.asm.v_imm(VImm::Pshufd, b, b, sel);
                self.asm
                    .v(if signed { V::Pmuldq } else { V::Pmuludq }, a, b);
            }
        }
    }

    /// `extadd_pairwise`: sums of adjacent lane pairs, widened.
    pub fn v_extadd_pairwise(&mut self, from: Lanes, signed: bool, a: Xmm) {
        match (from, signed) {
            (Lanes::I8, true) => {
                // pmaddubsw takes its first operand unsigned.
                self.vconst(XSCRATCH, [1; 16]);
                self.asm.v(V::Pmaddubsw, XSCRATCH, a);
                self.asm.fmov(a, XSCRATCH);
            }
            (Lanes::I8, false) => self.vop_const(V::Pmaddubsw, a, [1; 16]),
            (_, true) => self.vop_const(V::Pmaddwd, a, splat_bytes(1u16.to_le_bytes())),
            (_, false) => {
                // Bias to signed, add pairwise, unbias by 2 * 0x8000.
                self.vop_const(V::Pxor, a, splat_bytes(0x8000u16.to_le_bytes()));
                self.vop_const(V::Pmaddwd, a, splat_bytes(1u16.to_le_bytes()));
                self.vop_const(V::Paddd, a, splat32(0x1_0000));
            }
        }
    }

    /// `i16x8.relaxed_dot_i8x16_i7x16_s` (both operands signed): pairwise
    /// sums of 16-bit products, wrapping; `b` is clobbered, `t` a temporary.
    pub fn v_dot_i8(&mut self, a: Xmm, b: Xmm, t: Xmm) {
        self.asm.fmov(t, a);
        self.v_extend(Lanes::I8, true, true, t);
        self.v_extend(Lanes::I8, true, false, a);
        self.asm.fmov(XSCRATCH, b);
        self.v_extend(Lanes::I8, true, true, XSCRATCH);
        self.asm.v(V::Pmullw, t, XSCRATCH);
        self.v_extend(Lanes::I8, true, false, b);
        self.asm.v(V::Pmullw, a, b);
        self.asm.v(V::Phaddw, a, t);
    }

    // ---- float lanes ----------------------------------------------------------------

    /// Float lane compare: `a = mask(a cmp b)`; `b` is clobbered.
    pub fn v_fcmp(&mut self, f64: bool, cmp: VFCmp, a: Xmm, b: Xmm) {
        let op = if f64 { VImm::Cmppd } else { VImm::Cmpps };
        // cmpps predicates: 0 eq, 1 lt, 2 le, 4 neq (true when unordered).
        match cmp {
            VFCmp::Eq => self.asm.v_imm(op, a, b, 0),
            VFCmp::Ne => self.asm.v_imm(op, a, b, 4),
            VFCmp::Lt => self.asm.v_imm(op, a, b, 1),
            VFCmp::Le => self.asm.v_imm(op, a, b, 2),
            VFCmp::Gt => {
                self.asm.v_imm(op, b, a, 1);
                self.asm.fmov(a, b);
            }
            VFCmp::Ge => {
                self.asm.v_imm(op, b, a, 2);
                self.asm.fmov(a, b);
            }
        }
    }

    /// Wasm `min`/`max` per lane: NaN in, canonical NaN out; -0 < +0.
    pub fn v_fminmax(&mut self, f64: bool, max: bool, a: Xmm, b: Xmm) {
        let s = XSCRATCH;
        let (min_op, max_op, sub, cmp) = if f64 {
            (V::Minpd, V::Maxpd, V::Subpd, VImm::Cmppd)
        } else {
            (V::Minps, V::Maxps, V::Subps, VImm::Cmpps)
        };
        // x86 min/max return the second operand on NaN or equal: do both
        // orders and merge.
        let op = if max { max_op } else { min_op };
        self.asm.fmov(s, b);
        self.asm.v(op, s, a);
        self.asm.v(op, a, b);
        if max {
            // Differences (NaN, +0 vs -0) into s; the subtraction makes
            // +0 win and quiets NaN.
            self.asm.v(V::Xorps, a, s);
            self.asm.v(V::Orps, s, a);
            self.asm.v(sub, s, a);
            self.asm.v_imm(cmp, a, s, 3);
        } else {
            // OR merges -0 and NaNs.
            self.asm.v(V::Orps, s, a);
            self.asm.v_imm(cmp, a, s, 3);
            self.asm.v(V::Orps, s, a);
        }
        // NaN lanes: clear the payload below the quiet bit.
        if f64 {
            self.asm.v_shift_imm(VShift::Psrlq, a, 13);
        } else {
            self.asm.v_shift_imm(VShift::Psrld, a, 10);
        }
        self.asm.v(V::Andnps, a, s);
    }

    /// `pmin` (`b < a ? b : a`) / `pmax` (`a < b ? b : a`) per lane.
    pub fn v_pminmax(&mut self, f64: bool, max: bool, a: Xmm, b: Xmm) {
        let op = match (f64, max) {
            (false, false) => V::Minps,
            (false, true) => V::Maxps,
            (true, false) => V::Minpd,
            (true, true) => V::Maxpd,
        };
        self.asm.v(op, b, a);
        self.asm.fmov(a, b);
    }

    /// `abs` (`neg` false) or `neg` of float lanes, on the sign bits.
    pub fn v_fsign(&mut self, f64: bool, neg: bool, a: Xmm) {
        let sign = if f64 {
            splat64(1 << 63)
        } else {
            splat32(1 << 31)
        };
        if neg {
            self.vop_const(V::Xorps, a, sign);
        } else {
            self.vop_const(V::Andps, a, sign.map(|b| !b));
        }
    }

    /// `f32x4.convert_i32x4_u`: the low 16 bits exactly, the high ones
    /// halved, converted and doubled.
    pub fn v_convert_u32_f32(&mut self, a: Xmm) {
        let s = XSCRATCH;
        self.asm.v(V::Pxor, s, s);
        self.asm.v_imm(VImm::Pblendw, s, a, 0x55);
        self.asm.v(V::Psubd, a, s);
        self.asm.v(V::Cvtdq2ps, s, s);
        self.asm.v_shift_imm(VShift::Psrld, a, 1);
        self.asm.v(V::Cvtdq2ps, a, a);
        self.asm.v(V::Addps, a, a);
        self.asm.v(V::Addps, a, s);
    }

    /// `f64x2.convert_low_i32x4_u`: 2^52 + x as bits, minus 2^52.
    pub fn v_convert_low_u32_f64(&mut self, a: Xmm) {
        self.vop_const(V::Unpcklps, a, splat32(0x4330_0000));
        self.vop_const(V::Subpd, a, splat64(4503599627370496.0f64.to_bits()));
    }

    /// `i32x4.trunc_sat_f32x4_s`.
    pub fn v_trunc_sat_f32_s(&mut self, a: Xmm) {
        let s = XSCRATCH;
        // NaN lanes to 0.
        self.asm.fmov(s, a);
        self.asm.v_imm(VImm::Cmpps, s, s, 0);
        self.asm.v(V::Pand, a, s);
        // s's sign bit: set for lanes >= 0.
        self.asm.v(V::Pxor, s, a);
        self.asm.v(V::Cvttps2dq, a, a);
        // Lanes >= 0 that came out negative overflowed: make them 0x7fffffff.
        self.asm.v(V::Pand, s, a);
        self.asm.v_shift_imm(VShift::Psrad, s, 31);
        self.asm.v(V::Pxor, a, s);
    }

    /// `i32x4.trunc_sat_f32x4_u` (`t`: a temporary).
    pub fn v_trunc_sat_f32_u(&mut self, a: Xmm, t: Xmm) {
        let s = XSCRATCH;
        // NaN and negative lanes to 0.
        self.asm.v(V::Xorps, t, t);
        self.asm.v(V::Maxps, a, t);
        // t = 2^31 as f32.
        self.asm.v(V::Pcmpeqd, t, t);
        self.asm.v_shift_imm(VShift::Psrld, t, 1);
        self.asm.v(V::Cvtdq2ps, t, t);
        // s = a - 2^31 converted (lanes >= 2^32 to 0x7fffffff, below 2^31 to 0).
        self.asm.fmov(s, a);
        self.asm.v(V::Subps, s, t);
        self.asm.v_imm(VImm::Cmpps, t, s, 2);
        self.asm.v(V::Cvttps2dq, s, s);
        self.asm.v(V::Pxor, s, t);
        self.asm.v(V::Pxor, t, t);
        self.asm.v(V::Pmaxsd, s, t);
        // Lanes below 2^31 convert exactly; the others gave 0x80000000.
        self.asm.v(V::Cvttps2dq, a, a);
        self.asm.v(V::Paddd, a, s);
    }

    /// `i32x4.trunc_sat_f64x2_s_zero`.
    pub fn v_trunc_sat_f64_s(&mut self, a: Xmm) {
        let s = XSCRATCH;
        // s = NaN ? 0 : i32::MAX as f64; a = min(a, s).
        self.asm.fmov(s, a);
        self.asm.v_imm(VImm::Cmppd, s, s, 0);
        self.vop_const(V::Andps, s, splat64(2147483647.0f64.to_bits()));
        self.asm.v(V::Minpd, a, s);
        self.asm.v(V::Cvttpd2dq, a, a);
    }

    /// `i32x4.trunc_sat_f64x2_u_zero`.
    pub fn v_trunc_sat_f64_u(&mut self, a: Xmm) {
        let s = XSCRATCH;
        self.asm.v(V::Xorps, s, s);
        self.asm.v(V::Maxpd, a, s);
        self.vop_const(V::Minpd, a, splat64(4294967295.0f64.to_bits()));
        self.asm.v_imm(VImm::Roundpd, a, a, 3);
        // 2^52 + x: x is now the low 32 bits of each double.
        self.vop_const(V::Addpd, a, splat64(4503599627370496.0f64.to_bits()));
        self.asm.v_imm(VImm::Shufps, a, s, 0x88);
    }

    /// Relaxed `madd`/`nmadd` (fused, FMA3): `c = ±(a * b) + c`.
    pub fn v_fma(&mut self, f64: bool, negate: bool, c: Xmm, a: Xmm, b: Xmm) {
        self.asm.v_fma231(f64, negate, c, a, b)
    }
}
