//! The vector instructions of the baseline's x86-64 assembler: one method per
//! instruction form on xmm registers, with dynasmrt. Encodings: legacy SSE
//! (SSE2, SSE3 `movddup`, SSSE3 `pshufb`/`pabs*`/`pmaddubsw`/`pmulhrsw`/
//! `phaddw`, SSE4.1, and SSE4.2 for `pcmpgtq` alone); the one VEX form is FMA3
//! (`vfmadd231ps/pd`, `vfnmadd231ps/pd`) for relaxed SIMD's fused multiply-add,
//! emitted only when the CPU has FMA. Memory operands of wasm loads and stores
//! are `[r14 + addr + disp]` (r14 = linear memory base).

// dynasm! expands register operands through `u8::from`, which clippy flags.
#![allow(clippy::useless_conversion)]

use super::asm::{Assembler, Gpr, Xmm, R14};
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

macro_rules! two_operand {
    ($($name:ident = $mn:ident),* $(,)?) => {
        /// Two-operand vector instructions: `dst = dst op src`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum V {
            $($name),*
        }

        impl Assembler {
            /// `op dst, src`
            pub fn v(&mut self, op: V, dst: Xmm, src: Xmm) {
                match op {
                    $(V::$name => dynasm!(self.ops ; .arch x64 ; $mn Rx(dst), Rx(src))),*
                }
            }

            /// `op dst, [rip + l]` (a 16-byte constant bound at `l`).
            pub fn v_rip(&mut self, op: V, dst: Xmm, l: DynamicLabel) {
                match op {
                    $(V::$name => dynasm!(self.ops ; .arch x64 ; $mn Rx(dst), [=>l])),*
                }
            }
        }
    };
}

two_operand! {
    Paddb = paddb, Paddw = paddw, Paddd = paddd, Paddq = paddq,
    Psubb = psubb, Psubw = psubw, Psubd = psubd, Psubq = psubq,
    Pmullw = pmullw, Pmulld = pmulld, Pmuludq = pmuludq, Pmuldq = pmuldq,
    Pmulhrsw = pmulhrsw,
    Paddsb = paddsb, Paddusb = paddusb, Paddsw = paddsw, Paddusw = paddusw,
    Psubsb = psubsb, Psubusb = psubusb, Psubsw = psubsw, Psubusw = psubusw,
    Pminsb = pminsb, Pminub = pminub, Pminsw = pminsw, Pminuw = pminuw,
    Pminsd = pminsd, Pminud = pminud,
    Pmaxsb = pmaxsb, Pmaxub = pmaxub, Pmaxsw = pmaxsw, Pmaxuw = pmaxuw,
    Pmaxsd = pmaxsd, Pmaxud = pmaxud,
    Pavgb = pavgb, Pavgw = pavgw,
    Pabsb = pabsb, Pabsw = pabsw, Pabsd = pabsd,
    Pand = pand, Pandn = pandn, Por = por, Pxor = pxor,
    Pcmpeqb = pcmpeqb, Pcmpeqw = pcmpeqw, Pcmpeqd = pcmpeqd, Pcmpeqq = pcmpeqq,
    Pcmpgtb = pcmpgtb, Pcmpgtw = pcmpgtw, Pcmpgtd = pcmpgtd, Pcmpgtq = pcmpgtq,
    Packsswb = packsswb, Packuswb = packuswb, Packssdw = packssdw, Packusdw = packusdw,
    Pmovsxbw = pmovsxbw, Pmovzxbw = pmovzxbw, Pmovsxwd = pmovsxwd, Pmovzxwd = pmovzxwd,
    Pmovsxdq = pmovsxdq, Pmovzxdq = pmovzxdq,
    Pmaddwd = pmaddwd, Pmaddubsw = pmaddubsw, Phaddw = phaddw, Pshufb = pshufb,
    Punpcklbw = punpcklbw, Punpckhbw = punpckhbw,
    Psllw = psllw, Pslld = pslld, Psllq = psllq,
    Psrlw = psrlw, Psrld = psrld, Psrlq = psrlq, Psraw = psraw, Psrad = psrad,
    Ptest = ptest,
    Addps = addps, Addpd = addpd, Subps = subps, Subpd = subpd,
    Mulps = mulps, Mulpd = mulpd, Divps = divps, Divpd = divpd,
    Minps = minps, Minpd = minpd, Maxps = maxps, Maxpd = maxpd,
    Sqrtps = sqrtps, Sqrtpd = sqrtpd,
    Andps = andps, Andnps = andnps, Orps = orps, Xorps = xorps,
    Cvtdq2ps = cvtdq2ps, Cvttps2dq = cvttps2dq, Cvtdq2pd = cvtdq2pd,
    Cvttpd2dq = cvttpd2dq, Cvtpd2ps = cvtpd2ps, Cvtps2pd = cvtps2pd,
    Unpcklps = unpcklps, Unpcklpd = unpcklpd, Movddup = movddup, Movsd = movsd,
    Movdqu = movdqu,
}

macro_rules! with_imm {
    ($($name:ident = $mn:ident),* $(,)?) => {
        /// Vector instructions with an 8-bit immediate: `dst = op(dst, src, imm)`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum VImm {
            $($name),*
        }

        impl Assembler {
            /// `op dst, src, imm`
            pub fn v_imm(&mut self, op: VImm, dst: Xmm, src: Xmm, imm: u8) {
                let imm = imm as i8;
                match op {
                    $(VImm::$name => dynasm!(self.ops ; .arch x64 ; $mn Rx(dst), Rx(src), BYTE imm)),*
                }
            }
        }
    };
}

with_imm! {
    Pshufd = pshufd, Pshuflw = pshuflw, Shufps = shufps, Pblendw = pblendw,
    Roundps = roundps, Roundpd = roundpd, Cmpps = cmpps, Cmppd = cmppd, Insertps = insertps,
}

macro_rules! shift_imm {
    ($($name:ident = $mn:ident),* $(,)?) => {
        /// Lane shifts by an immediate count.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum VShift {
            $($name),*
        }

        impl Assembler {
            /// `op dst, imm`
            pub fn v_shift_imm(&mut self, op: VShift, dst: Xmm, n: u8) {
                let n = n as i8;
                match op {
                    $(VShift::$name => dynasm!(self.ops ; .arch x64 ; $mn Rx(dst), BYTE n)),*
                }
            }
        }
    };
}

shift_imm! {
    Psllw = psllw, Pslld = pslld, Psllq = psllq, Psrlw = psrlw, Psrld = psrld, Psrlq = psrlq,
    Psraw = psraw, Psrad = psrad,
}

/// How a vector load reads memory (the lane width decides the instruction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VLoad {
    /// All 16 bytes (`movdqu`).
    Full,
    /// 8 bytes widened by sign/zero extension (`pmovsx*`/`pmovzx*`).
    S8x8,
    U8x8,
    S16x4,
    U16x4,
    S32x2,
    U32x2,
    /// 4 bytes into lane 0, the rest zero (`movss`).
    Zero32,
    /// 8 bytes into lane 0, the rest zero (`movq`).
    Zero64,
    /// 8 bytes into both lanes (`movddup`).
    Dup64,
}

impl Assembler {
    /// A vector load from `[r14 + addr + disp]`.
    pub fn v_load_heap(&mut self, kind: VLoad, dst: Xmm, heap: Gpr, addr: Gpr, disp: i32) {
        debug_assert_eq!(heap, R14);
        match kind {
            VLoad::Full => dynasm!(self.ops ; .arch x64 ; movdqu Rx(dst), [r14 + Rq(addr) + disp]),
            VLoad::S8x8 => {
                dynasm!(self.ops ; .arch x64 ; pmovsxbw Rx(dst), QWORD [r14 + Rq(addr) + disp])
            }
            VLoad::U8x8 => {
                dynasm!(self.ops ; .arch x64 ; pmovzxbw Rx(dst), QWORD [r14 + Rq(addr) + disp])
            }
            VLoad::S16x4 => {
                dynasm!(self.ops ; .arch x64 ; pmovsxwd Rx(dst), QWORD [r14 + Rq(addr) + disp])
            }
            VLoad::U16x4 => {
                dynasm!(self.ops ; .arch x64 ; pmovzxwd Rx(dst), QWORD [r14 + Rq(addr) + disp])
            }
            VLoad::S32x2 => {
                dynasm!(self.ops ; .arch x64 ; pmovsxdq Rx(dst), QWORD [r14 + Rq(addr) + disp])
            }
            VLoad::U32x2 => {
                dynasm!(self.ops ; .arch x64 ; pmovzxdq Rx(dst), QWORD [r14 + Rq(addr) + disp])
            }
            VLoad::Zero32 => {
                dynasm!(self.ops ; .arch x64 ; movss Rx(dst), DWORD [r14 + Rq(addr) + disp])
            }
            VLoad::Zero64 => {
                dynasm!(self.ops ; .arch x64 ; movq Rx(dst), QWORD [r14 + Rq(addr) + disp])
            }
            VLoad::Dup64 => {
                dynasm!(self.ops ; .arch x64 ; movddup Rx(dst), QWORD [r14 + Rq(addr) + disp])
            }
        }
    }

    /// `movdqu [r14 + addr + disp], src`
    pub fn v_store_heap(&mut self, src: Xmm, heap: Gpr, addr: Gpr, disp: i32) {
        debug_assert_eq!(heap, R14);
        dynasm!(self.ops ; .arch x64 ; movdqu [r14 + Rq(addr) + disp], Rx(src));
    }

    /// `pinsrb/w/d/q dst, [r14 + addr + disp], lane` (`bytes`: the lane width).
    pub fn v_insert_heap(&mut self, bytes: u8, dst: Xmm, addr: Gpr, disp: i32, lane: u8) {
        let l = lane as i8;
        match bytes {
            1 => {
                dynasm!(self.ops ; .arch x64 ; pinsrb Rx(dst), BYTE [r14 + Rq(addr) + disp], BYTE l)
            }
            2 => {
                dynasm!(self.ops ; .arch x64 ; pinsrw Rx(dst), WORD [r14 + Rq(addr) + disp], BYTE l)
            }
            4 => {
                dynasm!(self.ops ; .arch x64 ; pinsrd Rx(dst), DWORD [r14 + Rq(addr) + disp], BYTE l)
            }
            _ => {
                dynasm!(self.ops ; .arch x64 ; pinsrq Rx(dst), QWORD [r14 + Rq(addr) + disp], BYTE l)
            }
        }
    }

    /// `pextrb/w/d/q [r14 + addr + disp], src, lane`
    pub fn v_extract_heap(&mut self, bytes: u8, src: Xmm, addr: Gpr, disp: i32, lane: u8) {
        let l = lane as i8;
        match bytes {
            1 => {
                dynasm!(self.ops ; .arch x64 ; pextrb BYTE [r14 + Rq(addr) + disp], Rx(src), BYTE l)
            }
            2 => {
                dynasm!(self.ops ; .arch x64 ; pextrw WORD [r14 + Rq(addr) + disp], Rx(src), BYTE l)
            }
            4 => {
                dynasm!(self.ops ; .arch x64 ; pextrd DWORD [r14 + Rq(addr) + disp], Rx(src), BYTE l)
            }
            _ => {
                dynasm!(self.ops ; .arch x64 ; pextrq QWORD [r14 + Rq(addr) + disp], Rx(src), BYTE l)
            }
        }
    }

    /// `pinsrb/w/d/q dst, src, lane` from a general register.
    pub fn v_insert_gpr(&mut self, bytes: u8, dst: Xmm, src: Gpr, lane: u8) {
        let l = lane as i8;
        match bytes {
            1 => dynasm!(self.ops ; .arch x64 ; pinsrb Rx(dst), Rd(src), BYTE l),
            2 => dynasm!(self.ops ; .arch x64 ; pinsrw Rx(dst), Rd(src), BYTE l),
            4 => dynasm!(self.ops ; .arch x64 ; pinsrd Rx(dst), Rd(src), BYTE l),
            _ => dynasm!(self.ops ; .arch x64 ; pinsrq Rx(dst), Rq(src), BYTE l),
        }
    }

    /// `pextrb/w/d/q dst, src, lane` into a general register (zero-extended).
    pub fn v_extract_gpr(&mut self, bytes: u8, dst: Gpr, src: Xmm, lane: u8) {
        let l = lane as i8;
        match bytes {
            1 => dynasm!(self.ops ; .arch x64 ; pextrb Rd(dst), Rx(src), BYTE l),
            2 => dynasm!(self.ops ; .arch x64 ; pextrw Rd(dst), Rx(src), BYTE l),
            4 => dynasm!(self.ops ; .arch x64 ; pextrd Rd(dst), Rx(src), BYTE l),
            _ => dynasm!(self.ops ; .arch x64 ; pextrq Rq(dst), Rx(src), BYTE l),
        }
    }

    /// `pmovmskb` (lane bytes 1), `movmskps` (4) or `movmskpd` (8): the lanes'
    /// top bits into `dst`.
    pub fn v_movmsk(&mut self, bytes: u8, dst: Gpr, src: Xmm) {
        match bytes {
            1 => dynasm!(self.ops ; .arch x64 ; pmovmskb Rd(dst), Rx(src)),
            4 => dynasm!(self.ops ; .arch x64 ; movmskps Rd(dst), Rx(src)),
            _ => dynasm!(self.ops ; .arch x64 ; movmskpd Rd(dst), Rx(src)),
        }
    }

    /// FMA3: `dst = a * b + dst` (`negate`: `dst = -(a * b) + dst`), per lane:
    /// `vf(n)madd231ps/pd dst, a, b`. Encoded here byte by byte: dynasm 5.1's
    /// table gives the pd forms no VEX.W bit (it would emit the ps ones).
    pub fn v_fma231(&mut self, f64: bool, negate: bool, dst: Xmm, a: Xmm, b: Xmm) {
        let inv = |r: u8, bit: u8| (((r >> 3) & 1) ^ 1) << bit;
        // VEX3: map 0F38, pp = 66, L = 0, vvvv = !a.
        let p1 = inv(dst, 7) | (1 << 6) | inv(b, 5) | 0b00010;
        let p2 = ((f64 as u8) << 7) | ((!a & 15) << 3) | 0b01;
        let opcode = if negate { 0xbc } else { 0xb8 };
        let modrm = 0xc0 | ((dst & 7) << 3) | (b & 7);
        self.ops.extend([0xc4, p1, p2, opcode, modrm]);
    }

    /// 16 bytes of data at `l`, 16-aligned (the constant pool after the code).
    pub fn data16(&mut self, l: DynamicLabel, bytes: &[u8; 16]) {
        dynasm!(self.ops ; .arch x64 ; .align 16 ; =>l);
        self.ops.extend(bytes.iter().copied());
    }
}
