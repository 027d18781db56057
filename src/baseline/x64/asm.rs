//! The x86-64 assembler of the baseline compiler: one method per machine
//! instruction (or fixed idiom such as `cdq; idiv`), with dynasmrt. This is
//! the only file of the baseline tier that contains `dynasm!`; the macro
//! assembler (`baseline/masm.rs`) builds wasm-shaped operations from these.

// dynasm! expands register operands through `u8::from`, which clippy flags.
#![allow(clippy::useless_conversion)]

use crate::baseline::masm::{Alu, Cond, FBin, Load, Shift, Src};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, AssemblyOffset, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};

pub type Gpr = u8;
pub type Xmm = u8;

pub const RAX: Gpr = 0;
pub const RCX: Gpr = 1;
pub const RDX: Gpr = 2;
pub const RSP: Gpr = 4;
pub const RBP: Gpr = 5;
pub const RSI: Gpr = 6;
pub const RDI: Gpr = 7;
pub const R8: Gpr = 8;
pub const R9: Gpr = 9;
pub const R10: Gpr = 10;
pub const R11: Gpr = 11;
pub const R13: Gpr = 13;
pub const R14: Gpr = 14;
pub const R15: Gpr = 15;

impl Cond {
    /// The condition's x86 `tttn` code (as in `jcc`), for the debug side table.
    pub fn x86_code(self) -> u8 {
        match self {
            Cond::Eq => 0x4,
            Cond::Ne => 0x5,
            Cond::LtS => 0xc,
            Cond::LtU => 0x2,
            Cond::GtS => 0xf,
            Cond::GtU => 0x7,
            Cond::LeS => 0xe,
            Cond::LeU => 0x6,
            Cond::GeS => 0xd,
            Cond::GeU => 0x3,
            Cond::Parity => 0xa,
            Cond::NoParity => 0xb,
        }
    }
}

/// Code bytes reserved per wasm byte for debug code (measured on
/// `samples/big.wasm`; see `Assembler::for_body`).
const DEBUG_BYTES_PER_WASM_BYTE: usize = 32;

/// Label references beyond which a thread does not keep its assembler's
/// tables for the next function (they grow with the labels, ~3 per
/// instruction of debug code).
const KEEP_FIXUPS: usize = 1 << 16;

thread_local! {
    /// The label and relocation tables of the last function this thread
    /// assembled (emptied, capacity kept), for the next one.
    static SPARE: std::cell::Cell<Option<Spare>> = const { std::cell::Cell::new(None) };
}

/// What `SPARE` keeps: the assembler and the fixup list.
type Spare = (VecAssembler<X64Relocation>, Vec<(u32, DynamicLabel)>);

pub struct Assembler {
    pub ops: VecAssembler<X64Relocation>,
    /// Labels bound so far (a branch may arrive where this changed).
    binds: u32,
    /// Forward `jmp`/`jcc`/`call` to a label: (offset of the rel32 field,
    /// target), resolved in `finish`. The same bytes as dynasm's label
    /// references, without its general relocation records (one per
    /// instruction and more in debug code).
    fixups: Vec<(u32, DynamicLabel)>,
}

macro_rules! alu_forms {
    ($s:ident, $ins:ident, $w:expr, $dst:expr, $src:expr) => {
        match ($w, $src) {
            (true, Src::Reg(r)) => dynasm!($s.ops ; .arch x64 ; $ins Rq($dst), Rq(r)),
            (false, Src::Reg(r)) => dynasm!($s.ops ; .arch x64 ; $ins Rd($dst), Rd(r)),
            (true, Src::Imm(i)) => dynasm!($s.ops ; .arch x64 ; $ins Rq($dst), DWORD i),
            (false, Src::Imm(i)) => dynasm!($s.ops ; .arch x64 ; $ins Rd($dst), DWORD i),
            (true, Src::Mem(b, d)) => dynasm!($s.ops ; .arch x64 ; $ins Rq($dst), QWORD [Rq(b) + d]),
            (false, Src::Mem(b, d)) => dynasm!($s.ops ; .arch x64 ; $ins Rd($dst), DWORD [Rq(b) + d]),
        }
    };
}

impl Default for Assembler {
    fn default() -> Self {
        Assembler::new()
    }
}

impl Assembler {
    pub fn new() -> Assembler {
        Assembler {
            binds: 0,
            ops: VecAssembler::new(0),
            fixups: Vec::new(),
        }
    }

    /// An assembler sized for a function body of `wasm_bytes` bytes, so the
    /// buffers rarely grow (growing was a visible share of compile time).
    /// Debug code (`debug`) is several times larger than plain code: a check
    /// and its out-of-line hook call at every instruction. The label and
    /// relocation tables of the last function this thread finished are
    /// reused (see [`Assembler::finish`]).
    pub fn for_body(wasm_bytes: usize, debug: bool) -> Assembler {
        let per_byte = if debug { DEBUG_BYTES_PER_WASM_BYTE } else { 6 };
        let bytes = wasm_bytes * per_byte + 256;
        let (ops, mut fixups) = match SPARE.take() {
            Some((mut ops, fixups)) => {
                ops.reserve_ops(bytes);
                (ops, fixups)
            }
            None => {
                let labels = if debug {
                    wasm_bytes * 2
                } else {
                    wasm_bytes / 4
                } + 16;
                (
                    VecAssembler::new_with_capacity(0, bytes, 0, 0, labels, 0, 16),
                    Vec::with_capacity(labels),
                )
            }
        };
        fixups.clear();
        Assembler {
            binds: 0,
            ops,
            fixups,
        }
    }

    pub fn offset(&self) -> u32 {
        self.ops.offset().0 as u32
    }

    pub fn new_label(&mut self) -> DynamicLabel {
        self.ops.new_dynamic_label()
    }

    pub fn bind(&mut self, l: DynamicLabel) {
        self.binds += 1;
        dynasm!(self.ops ; .arch x64 ; =>l);
    }

    /// How many labels have been bound (see `binds`).
    pub fn bind_count(&self) -> u32 {
        self.binds
    }

    pub fn label_offset(&self, l: DynamicLabel) -> Option<u32> {
        self.ops
            .labels()
            .resolve_dynamic(l)
            .ok()
            .map(|o| o.0 as u32)
    }

    pub fn align(&mut self, n: usize) {
        dynasm!(self.ops ; .arch x64 ; .align n);
    }

    /// The finished code, in a vector of its own size. The label and
    /// relocation tables stay with this thread for its next function.
    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        // Resolved while the labels are known (`take` forgets them).
        for &(at, l) in &self.fixups {
            let target = self
                .ops
                .labels()
                .resolve_dynamic(l)
                .map_err(|e| e.to_string())?;
            // rel32 counts from the instruction's end, which its field ends.
            let rel = (target.0 as i64 - (at as i64 + 4)) as i32;
            let mut m = self.ops.alter();
            m.goto(AssemblyOffset(at as usize));
            m.push_i32(rel);
        }
        let mut bytes = self.ops.take().map_err(|e| e.to_string())?;
        bytes.shrink_to_fit();
        // Kept unless a large function grew them (threads live long).
        if self.fixups.capacity() <= KEEP_FIXUPS {
            SPARE.set(Some((self.ops, self.fixups)));
        }
        Ok(bytes)
    }

    // ---- moves ----------------------------------------------------------

    pub fn push(&mut self, r: Gpr) {
        if r == RBP {
            // A dynamic register would get a needless REX prefix.
            dynasm!(self.ops ; .arch x64 ; push rbp);
        } else {
            dynasm!(self.ops ; .arch x64 ; push Rq(r));
        }
    }

    pub fn pop(&mut self, r: Gpr) {
        if r == RBP {
            dynasm!(self.ops ; .arch x64 ; pop rbp);
        } else {
            dynasm!(self.ops ; .arch x64 ; pop Rq(r));
        }
    }

    pub fn push_imm(&mut self, v: i32) {
        dynasm!(self.ops ; .arch x64 ; push DWORD v);
    }

    pub fn pushfq(&mut self) {
        dynasm!(self.ops ; .arch x64 ; pushfq);
    }

    pub fn popfq(&mut self) {
        dynasm!(self.ops ; .arch x64 ; popfq);
    }

    /// `mov dst, src` (64-bit: nothing when they are the same register).
    pub fn mov_rr(&mut self, w: bool, dst: Gpr, src: Gpr) {
        if w {
            if dst != src {
                dynasm!(self.ops ; .arch x64 ; mov Rq(dst), Rq(src));
            }
        } else {
            dynasm!(self.ops ; .arch x64 ; mov Rd(dst), Rd(src));
        }
    }

    /// The shortest `mov`/`xor` that puts `imm` in `dst`.
    pub fn mov_imm(&mut self, w: bool, dst: Gpr, imm: i64) {
        if imm == 0 {
            dynasm!(self.ops ; .arch x64 ; xor Rd(dst), Rd(dst));
        } else if !w || (imm >= 0 && imm <= u32::MAX as i64) {
            dynasm!(self.ops ; .arch x64 ; mov Rd(dst), DWORD imm as i32);
        } else if imm >= i32::MIN as i64 && imm <= i32::MAX as i64 {
            dynasm!(self.ops ; .arch x64 ; mov Rq(dst), DWORD imm as i32);
        } else {
            dynasm!(self.ops ; .arch x64 ; mov Rq(dst), QWORD imm);
        }
    }

    /// `mov dst, imm64` (always the 10-byte form).
    pub fn mov_imm64(&mut self, dst: Gpr, imm: i64) {
        dynasm!(self.ops ; .arch x64 ; mov Rq(dst), QWORD imm);
    }

    pub fn load(&mut self, w: bool, dst: Gpr, base: Gpr, disp: i32) {
        if w {
            dynasm!(self.ops ; .arch x64 ; mov Rq(dst), QWORD [Rq(base) + disp]);
        } else {
            dynasm!(self.ops ; .arch x64 ; mov Rd(dst), DWORD [Rq(base) + disp]);
        }
    }

    pub fn store(&mut self, w: bool, base: Gpr, disp: i32, src: Gpr) {
        if w {
            dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(base) + disp], Rq(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; mov DWORD [Rq(base) + disp], Rd(src));
        }
    }

    /// `mov dword/qword [base + disp], imm32` (qword: sign-extended).
    pub fn store_imm32(&mut self, w: bool, base: Gpr, disp: i32, imm: i32) {
        if w {
            dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(base) + disp], DWORD imm);
        } else {
            dynasm!(self.ops ; .arch x64 ; mov DWORD [Rq(base) + disp], DWORD imm);
        }
    }

    /// Copies 8 bytes between memory operands through r11.
    pub fn copy_slot(&mut self, dst_base: Gpr, dst: i32, src_base: Gpr, src: i32) {
        self.load(true, R11, src_base, src);
        self.store(true, dst_base, dst, R11);
    }

    /// `movzx dst32, byte [base + disp]`
    pub fn load_u8(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; movzx Rd(dst), BYTE [Rq(base) + disp]);
    }

    /// `mov dst, [base + index*8]`
    pub fn load_indexed8(&mut self, dst: Gpr, base: Gpr, index: Gpr) {
        dynasm!(self.ops ; .arch x64 ; mov Rq(dst), QWORD [Rq(base) + Rq(index) * 8]);
    }

    /// `mov [base + index*8], src`
    pub fn store_indexed8(&mut self, base: Gpr, index: Gpr, src: Gpr) {
        dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(base) + Rq(index) * 8], Rq(src));
    }

    pub fn lea(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; lea Rq(dst), [Rq(base) + disp]);
    }

    /// `dst = base + index + disp` without touching `base`, `index` or the
    /// flags (`w`: 64-bit; a 32-bit sum is the address's low half,
    /// zero-extended).
    pub fn lea_sum(&mut self, w: bool, dst: Gpr, base: Gpr, index: Option<Gpr>, disp: i32) {
        match (w, index) {
            (true, None) => dynasm!(self.ops ; .arch x64 ; lea Rq(dst), [Rq(base) + disp]),
            (false, None) => dynasm!(self.ops ; .arch x64 ; lea Rd(dst), [Rq(base) + disp]),
            (true, Some(i)) => {
                dynasm!(self.ops ; .arch x64 ; lea Rq(dst), [Rq(base) + Rq(i) + disp])
            }
            (false, Some(i)) => {
                dynasm!(self.ops ; .arch x64 ; lea Rd(dst), [Rq(base) + Rq(i) + disp])
            }
        }
    }

    /// `lea dst, [base + disp8]`
    pub fn lea8(&mut self, dst: Gpr, base: Gpr, disp: i8) {
        if base == RBP {
            // A dynamic base always gets a SIB byte.
            dynasm!(self.ops ; .arch x64 ; lea Rq(dst), [BYTE rbp + disp]);
        } else {
            dynasm!(self.ops ; .arch x64 ; lea Rq(dst), [BYTE Rq(base) + disp]);
        }
    }

    /// `lea dst, [r11 + index*8]`
    pub fn lea_r11_indexed8(&mut self, dst: Gpr, index: Gpr) {
        dynasm!(self.ops ; .arch x64 ; lea Rq(dst), [r11 + Rq(index) * 8]);
    }

    /// `mov dst, qword [r15 + disp]` (fixed base: no SIB byte).
    pub fn load_r15(&mut self, dst: Gpr, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; mov Rq(dst), QWORD [r15 + disp]);
    }

    /// `lea dst, [rip + label]`
    pub fn lea_label(&mut self, dst: Gpr, l: DynamicLabel) {
        dynasm!(self.ops ; .arch x64 ; lea Rq(dst), [=>l]);
    }

    pub fn add_rsp(&mut self, n: i32) {
        if n != 0 {
            dynasm!(self.ops ; .arch x64 ; add rsp, DWORD n);
        }
    }

    pub fn sub_rsp(&mut self, n: i32) {
        if n != 0 {
            dynasm!(self.ops ; .arch x64 ; sub rsp, DWORD n);
        }
    }

    /// `sub rsp, imm32` with the immediate left zero; returns its offset.
    pub fn sub_rsp_patchable(&mut self) -> u32 {
        // 48 81 EC imm32
        self.ops.extend([0x48, 0x81, 0xEC]);
        let at = self.offset();
        self.ops.extend([0, 0, 0, 0]);
        at
    }

    // ---- integer arithmetic ----------------------------------------------

    pub fn alu(&mut self, op: Alu, w: bool, dst: Gpr, src: Src) {
        match op {
            Alu::Add => alu_forms!(self, add, w, dst, src),
            Alu::Sub => alu_forms!(self, sub, w, dst, src),
            Alu::And => alu_forms!(self, and, w, dst, src),
            Alu::Or => alu_forms!(self, or, w, dst, src),
            Alu::Xor => alu_forms!(self, xor, w, dst, src),
            Alu::Cmp => alu_forms!(self, cmp, w, dst, src),
            Alu::Imul => match (w, src) {
                (true, Src::Reg(r)) => dynasm!(self.ops ; .arch x64 ; imul Rq(dst), Rq(r)),
                (false, Src::Reg(r)) => dynasm!(self.ops ; .arch x64 ; imul Rd(dst), Rd(r)),
                (true, Src::Imm(i)) => {
                    dynasm!(self.ops ; .arch x64 ; imul Rq(dst), Rq(dst), DWORD i)
                }
                (false, Src::Imm(i)) => {
                    dynasm!(self.ops ; .arch x64 ; imul Rd(dst), Rd(dst), DWORD i)
                }
                (true, Src::Mem(b, d)) => {
                    dynasm!(self.ops ; .arch x64 ; imul Rq(dst), QWORD [Rq(b) + d])
                }
                (false, Src::Mem(b, d)) => {
                    dynasm!(self.ops ; .arch x64 ; imul Rd(dst), DWORD [Rq(b) + d])
                }
            },
        }
    }

    /// `and dst64, 1` (imm8 form).
    pub fn and_one(&mut self, dst: Gpr) {
        dynasm!(self.ops ; .arch x64 ; and Rq(dst), 1);
    }

    /// `add qword [r11 + disp], 1`
    pub fn inc_mem64_r11(&mut self, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; add QWORD [r11 + disp], 1);
    }

    /// `sub dword [r11 + disp32], imm32`; returns the offset of the immediate
    /// so it can be patched later.
    pub fn sub_mem32_imm32_patchable(&mut self, base: Gpr, disp: i32, imm: i32) -> u32 {
        assert_eq!(base, R11, "only [r11 + disp32] is encoded here");
        // 41 81 AB disp32 imm32
        self.ops.extend([0x41, 0x81, 0xAB]);
        self.ops.extend(disp.to_le_bytes());
        let at = self.offset();
        self.ops.extend(imm.to_le_bytes());
        at
    }

    /// `cmp dword [base + disp], imm`
    pub fn cmp_mem32_imm(&mut self, base: Gpr, disp: i32, imm: i32) {
        dynasm!(self.ops ; .arch x64 ; cmp DWORD [Rq(base) + disp], DWORD imm);
    }

    /// `cmp rsp, qword [r11]`
    pub fn cmp_rsp_r11(&mut self) {
        dynasm!(self.ops ; .arch x64 ; cmp rsp, QWORD [r11]);
    }

    /// `cmp rsp, qword [r11 + disp]`
    pub fn cmp_rsp_r11_disp(&mut self, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; cmp rsp, QWORD [r11 + disp]);
    }

    pub fn test_rr(&mut self, w: bool, a: Gpr, b: Gpr) {
        if w {
            dynasm!(self.ops ; .arch x64 ; test Rq(a), Rq(b));
        } else {
            dynasm!(self.ops ; .arch x64 ; test Rd(a), Rd(b));
        }
    }

    /// Shift/rotate by the count in `cl`.
    pub fn shift_cl(&mut self, op: Shift, w: bool, dst: Gpr) {
        match (op, w) {
            (Shift::Shl, true) => dynasm!(self.ops ; .arch x64 ; shl Rq(dst), cl),
            (Shift::Shl, false) => dynasm!(self.ops ; .arch x64 ; shl Rd(dst), cl),
            (Shift::ShrS, true) => dynasm!(self.ops ; .arch x64 ; sar Rq(dst), cl),
            (Shift::ShrS, false) => dynasm!(self.ops ; .arch x64 ; sar Rd(dst), cl),
            (Shift::ShrU, true) => dynasm!(self.ops ; .arch x64 ; shr Rq(dst), cl),
            (Shift::ShrU, false) => dynasm!(self.ops ; .arch x64 ; shr Rd(dst), cl),
            (Shift::Rotl, true) => dynasm!(self.ops ; .arch x64 ; rol Rq(dst), cl),
            (Shift::Rotl, false) => dynasm!(self.ops ; .arch x64 ; rol Rd(dst), cl),
            (Shift::Rotr, true) => dynasm!(self.ops ; .arch x64 ; ror Rq(dst), cl),
            (Shift::Rotr, false) => dynasm!(self.ops ; .arch x64 ; ror Rd(dst), cl),
        }
    }

    pub fn shift_imm(&mut self, op: Shift, w: bool, dst: Gpr, n: u8) {
        let n = n as i8;
        match (op, w) {
            (Shift::Shl, true) => dynasm!(self.ops ; .arch x64 ; shl Rq(dst), BYTE n),
            (Shift::Shl, false) => dynasm!(self.ops ; .arch x64 ; shl Rd(dst), BYTE n),
            (Shift::ShrS, true) => dynasm!(self.ops ; .arch x64 ; sar Rq(dst), BYTE n),
            (Shift::ShrS, false) => dynasm!(self.ops ; .arch x64 ; sar Rd(dst), BYTE n),
            (Shift::ShrU, true) => dynasm!(self.ops ; .arch x64 ; shr Rq(dst), BYTE n),
            (Shift::ShrU, false) => dynasm!(self.ops ; .arch x64 ; shr Rd(dst), BYTE n),
            (Shift::Rotl, true) => dynasm!(self.ops ; .arch x64 ; rol Rq(dst), BYTE n),
            (Shift::Rotl, false) => dynasm!(self.ops ; .arch x64 ; rol Rd(dst), BYTE n),
            (Shift::Rotr, true) => dynasm!(self.ops ; .arch x64 ; ror Rq(dst), BYTE n),
            (Shift::Rotr, false) => dynasm!(self.ops ; .arch x64 ; ror Rd(dst), BYTE n),
        }
    }

    /// `shr dst64, 1` (the short form).
    pub fn shr1(&mut self, dst: Gpr) {
        dynasm!(self.ops ; .arch x64 ; shr Rq(dst), 1);
    }

    /// `btr`/`btc` (`complement`) of bit `bit`.
    pub fn bit_reset_or_complement(&mut self, complement: bool, w: bool, dst: Gpr, bit: i8) {
        match (complement, w) {
            (false, true) => dynasm!(self.ops ; .arch x64 ; btr Rq(dst), BYTE bit),
            (false, false) => dynasm!(self.ops ; .arch x64 ; btr Rd(dst), BYTE bit),
            (true, true) => dynasm!(self.ops ; .arch x64 ; btc Rq(dst), BYTE bit),
            (true, false) => dynasm!(self.ops ; .arch x64 ; btc Rd(dst), BYTE bit),
        }
    }

    /// lzcnt (kind 0), tzcnt (1), popcnt (2): `dst = op(src)`.
    pub fn bitcount(&mut self, kind: u8, w: bool, dst: Gpr, src: Gpr) {
        match (kind, w) {
            (0, true) => dynasm!(self.ops ; .arch x64 ; lzcnt Rq(dst), Rq(src)),
            (0, false) => dynasm!(self.ops ; .arch x64 ; lzcnt Rd(dst), Rd(src)),
            (1, true) => dynasm!(self.ops ; .arch x64 ; tzcnt Rq(dst), Rq(src)),
            (1, false) => dynasm!(self.ops ; .arch x64 ; tzcnt Rd(dst), Rd(src)),
            (_, true) => dynasm!(self.ops ; .arch x64 ; popcnt Rq(dst), Rq(src)),
            (_, false) => dynasm!(self.ops ; .arch x64 ; popcnt Rd(dst), Rd(src)),
        }
    }

    /// movsx from 8, 16 or 32 bits to 32 (w=false) or 64.
    pub fn movsx(&mut self, from: u8, w: bool, dst: Gpr, src: Gpr) {
        match (from, w) {
            (8, false) => dynasm!(self.ops ; .arch x64 ; movsx Rd(dst), Rb(src)),
            (8, true) => dynasm!(self.ops ; .arch x64 ; movsx Rq(dst), Rb(src)),
            (16, false) => dynasm!(self.ops ; .arch x64 ; movsx Rd(dst), Rw(src)),
            (16, true) => dynasm!(self.ops ; .arch x64 ; movsx Rq(dst), Rw(src)),
            _ => dynasm!(self.ops ; .arch x64 ; movsxd Rq(dst), Rd(src)),
        }
    }

    /// `setcc r11b`
    pub fn setcc_r11(&mut self, c: Cond) {
        match c {
            Cond::Eq => dynasm!(self.ops ; .arch x64 ; sete r11b),
            Cond::Ne => dynasm!(self.ops ; .arch x64 ; setne r11b),
            Cond::LtS => dynasm!(self.ops ; .arch x64 ; setl r11b),
            Cond::LtU => dynasm!(self.ops ; .arch x64 ; setb r11b),
            Cond::GtS => dynasm!(self.ops ; .arch x64 ; setg r11b),
            Cond::GtU => dynasm!(self.ops ; .arch x64 ; seta r11b),
            Cond::LeS => dynasm!(self.ops ; .arch x64 ; setle r11b),
            Cond::LeU => dynasm!(self.ops ; .arch x64 ; setbe r11b),
            Cond::GeS => dynasm!(self.ops ; .arch x64 ; setge r11b),
            Cond::GeU => dynasm!(self.ops ; .arch x64 ; setae r11b),
            Cond::Parity => dynasm!(self.ops ; .arch x64 ; setp r11b),
            Cond::NoParity => dynasm!(self.ops ; .arch x64 ; setnp r11b),
        }
    }

    /// `movzx dst32, r11b`
    pub fn movzx_r11b(&mut self, dst: Gpr) {
        dynasm!(self.ops ; .arch x64 ; movzx Rd(dst), r11b);
    }

    /// The rel32 displacement from the end of a `len`-byte jump emitted here
    /// to `l`, when `l` is bound already (a backward jump): such a jump is
    /// encoded at once, the same bytes dynasm gives a label, without a
    /// relocation to record and resolve (debug code jumps back after every
    /// check).
    fn backward_rel32(&self, l: DynamicLabel, len: u32) -> Option<i32> {
        let target = self.label_offset(l)?;
        Some((target as i64 - (self.offset() + len) as i64) as i32)
    }

    pub fn jcc(&mut self, c: Cond, l: DynamicLabel) {
        if let Some(rel) = self.backward_rel32(l, 6) {
            self.ops.push(0x0f);
            self.ops.push(0x80 | c.x86_code());
            self.ops.push_i32(rel);
            return;
        }
        self.ops.push(0x0f);
        self.ops.push(0x80 | c.x86_code());
        self.forward_rel32(l);
    }

    /// A rel32 field to `l` (not bound yet), filled in `finish`.
    fn forward_rel32(&mut self, l: DynamicLabel) {
        self.fixups.push((self.offset(), l));
        self.ops.push_i32(0);
    }

    /// `jcc` through dynasm's label relocation (the reference encoding
    /// `jcc` reproduces; see the unit test).
    #[cfg(test)]
    fn jcc_dynasm(&mut self, c: Cond, l: DynamicLabel) {
        match c {
            Cond::Eq => dynasm!(self.ops ; .arch x64 ; je =>l),
            Cond::Ne => dynasm!(self.ops ; .arch x64 ; jne =>l),
            Cond::LtS => dynasm!(self.ops ; .arch x64 ; jl =>l),
            Cond::LtU => dynasm!(self.ops ; .arch x64 ; jb =>l),
            Cond::GtS => dynasm!(self.ops ; .arch x64 ; jg =>l),
            Cond::GtU => dynasm!(self.ops ; .arch x64 ; ja =>l),
            Cond::LeS => dynasm!(self.ops ; .arch x64 ; jle =>l),
            Cond::LeU => dynasm!(self.ops ; .arch x64 ; jbe =>l),
            Cond::GeS => dynasm!(self.ops ; .arch x64 ; jge =>l),
            Cond::GeU => dynasm!(self.ops ; .arch x64 ; jae =>l),
            Cond::Parity => dynasm!(self.ops ; .arch x64 ; jp =>l),
            Cond::NoParity => dynasm!(self.ops ; .arch x64 ; jnp =>l),
        }
    }

    /// `js l` (sign flag set).
    pub fn js(&mut self, l: DynamicLabel) {
        dynasm!(self.ops ; .arch x64 ; js =>l);
    }

    pub fn jo(&mut self, l: DynamicLabel) {
        dynasm!(self.ops ; .arch x64 ; jo =>l);
    }

    /// `jrcxz l` (rel8: `l` must be within 127 bytes).
    pub fn jrcxz(&mut self, l: DynamicLabel) {
        dynasm!(self.ops ; .arch x64 ; jrcxz =>l);
    }

    pub fn jmp(&mut self, l: DynamicLabel) {
        if let Some(rel) = self.backward_rel32(l, 5) {
            self.ops.push(0xe9);
            self.ops.push_i32(rel);
            return;
        }
        self.ops.push(0xe9);
        self.forward_rel32(l);
    }

    pub fn jmp_reg(&mut self, r: Gpr) {
        dynasm!(self.ops ; .arch x64 ; jmp Rq(r));
    }

    /// `cmovz dst, src`
    pub fn cmovz(&mut self, w: bool, dst: Gpr, src: Gpr) {
        if w {
            dynasm!(self.ops ; .arch x64 ; cmovz Rq(dst), Rq(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; cmovz Rd(dst), Rd(src));
        }
    }

    /// `cmov<c> dst, src` (encoded by hand: the condition is a value).
    pub fn cmovcc(&mut self, c: Cond, w: bool, dst: Gpr, src: Gpr) {
        let rex = 0x40 | if w { 8 } else { 0 } | if dst >= 8 { 4 } else { 0 } | (src >> 3);
        if rex != 0x40 {
            self.ops.push(rex);
        }
        self.ops.push(0x0f);
        self.ops.push(0x40 | c.x86_code());
        self.ops.push(0xc0 | ((dst & 7) << 3) | (src & 7));
    }

    /// `cqo/cdq; idiv divisor` or `xor edx, edx; div divisor`: rax/rdx.
    pub fn div(&mut self, signed: bool, w: bool, divisor: Gpr) {
        match (signed, w) {
            (true, true) => dynasm!(self.ops ; .arch x64 ; cqo ; idiv Rq(divisor)),
            (true, false) => dynasm!(self.ops ; .arch x64 ; cdq ; idiv Rd(divisor)),
            (false, true) => dynasm!(self.ops ; .arch x64 ; xor edx, edx ; div Rq(divisor)),
            (false, false) => dynasm!(self.ops ; .arch x64 ; xor edx, edx ; div Rd(divisor)),
        }
    }

    pub fn neg(&mut self, w: bool, r: Gpr) {
        if w {
            dynasm!(self.ops ; .arch x64 ; neg Rq(r));
        } else {
            dynasm!(self.ops ; .arch x64 ; neg Rd(r));
        }
    }

    pub fn ud2(&mut self) {
        dynasm!(self.ops ; .arch x64 ; ud2);
    }

    pub fn int3(&mut self) {
        dynasm!(self.ops ; .arch x64 ; int3);
    }

    /// `rep stosq`: rcx quadwords of rax to [rdi..] (upwards).
    pub fn rep_stosq(&mut self) {
        dynasm!(self.ops ; .arch x64 ; rep stosq);
    }

    // ---- calls ------------------------------------------------------------

    /// `call [base + disp]`
    pub fn call_mem(&mut self, base: Gpr, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; call QWORD [Rq(base) + disp]);
    }

    pub fn call_label(&mut self, l: DynamicLabel) {
        self.ops.push(0xe8);
        self.forward_rel32(l);
    }

    pub fn ret(&mut self) {
        dynasm!(self.ops ; .arch x64 ; ret);
    }

    /// `ret` or `ret pop` (the callee pops `pop` bytes of stack arguments).
    pub fn ret_pop(&mut self, pop: i32) {
        if pop == 0 {
            dynasm!(self.ops ; .arch x64 ; ret);
        } else {
            let pop = u16::try_from(pop).expect("stack arguments fit in 64 KiB");
            dynasm!(self.ops ; .arch x64 ; ret pop as _);
        }
    }

    // ---- linear memory: [heap + addr + disp] -------------------------------

    /// Load from `[heap + addr + disp]` into a GPR.
    pub fn load_heap(&mut self, kind: Load, w: bool, dst: Gpr, heap: Gpr, addr: Gpr, disp: i32) {
        debug_assert_eq!(heap, R14);
        match kind {
            Load::U8 => dynasm!(self.ops ; .arch x64 ; movzx Rd(dst), BYTE [r14 + Rq(addr) + disp]),
            Load::S8 if w => {
                dynasm!(self.ops ; .arch x64 ; movsx Rq(dst), BYTE [r14 + Rq(addr) + disp])
            }
            Load::S8 => dynasm!(self.ops ; .arch x64 ; movsx Rd(dst), BYTE [r14 + Rq(addr) + disp]),
            Load::U16 => {
                dynasm!(self.ops ; .arch x64 ; movzx Rd(dst), WORD [r14 + Rq(addr) + disp])
            }
            Load::S16 if w => {
                dynasm!(self.ops ; .arch x64 ; movsx Rq(dst), WORD [r14 + Rq(addr) + disp])
            }
            Load::S16 => {
                dynasm!(self.ops ; .arch x64 ; movsx Rd(dst), WORD [r14 + Rq(addr) + disp])
            }
            Load::U32 => dynasm!(self.ops ; .arch x64 ; mov Rd(dst), DWORD [r14 + Rq(addr) + disp]),
            Load::S32 => {
                dynasm!(self.ops ; .arch x64 ; movsxd Rq(dst), DWORD [r14 + Rq(addr) + disp])
            }
            Load::I64 => dynasm!(self.ops ; .arch x64 ; mov Rq(dst), QWORD [r14 + Rq(addr) + disp]),
        }
    }

    pub fn load_heap_float(&mut self, f64: bool, dst: Xmm, heap: Gpr, addr: Gpr, disp: i32) {
        debug_assert_eq!(heap, R14);
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movsd Rx(dst), QWORD [r14 + Rq(addr) + disp]);
        } else {
            dynasm!(self.ops ; .arch x64 ; movss Rx(dst), DWORD [r14 + Rq(addr) + disp]);
        }
    }

    /// Store the low `bytes` of a GPR to `[heap + addr + disp]`.
    pub fn store_heap(&mut self, bytes: u8, src: Gpr, heap: Gpr, addr: Gpr, disp: i32) {
        debug_assert_eq!(heap, R14);
        match bytes {
            1 => dynasm!(self.ops ; .arch x64 ; mov BYTE [r14 + Rq(addr) + disp], Rb(src)),
            2 => dynasm!(self.ops ; .arch x64 ; mov WORD [r14 + Rq(addr) + disp], Rw(src)),
            4 => dynasm!(self.ops ; .arch x64 ; mov DWORD [r14 + Rq(addr) + disp], Rd(src)),
            _ => dynasm!(self.ops ; .arch x64 ; mov QWORD [r14 + Rq(addr) + disp], Rq(src)),
        }
    }

    pub fn store_heap_imm(&mut self, bytes: u8, imm: i32, heap: Gpr, addr: Gpr, disp: i32) {
        debug_assert_eq!(heap, R14);
        match bytes {
            1 => dynasm!(self.ops ; .arch x64 ; mov BYTE [r14 + Rq(addr) + disp], BYTE imm as i8),
            2 => dynasm!(self.ops ; .arch x64 ; mov WORD [r14 + Rq(addr) + disp], WORD imm as i16),
            4 => dynasm!(self.ops ; .arch x64 ; mov DWORD [r14 + Rq(addr) + disp], DWORD imm),
            _ => dynasm!(self.ops ; .arch x64 ; mov QWORD [r14 + Rq(addr) + disp], DWORD imm),
        }
    }

    pub fn store_heap_float(&mut self, f64: bool, src: Xmm, heap: Gpr, addr: Gpr, disp: i32) {
        debug_assert_eq!(heap, R14);
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movsd QWORD [r14 + Rq(addr) + disp], Rx(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; movss DWORD [r14 + Rq(addr) + disp], Rx(src));
        }
    }

    // ---- floats -----------------------------------------------------------

    pub fn fload(&mut self, f64: bool, dst: Xmm, base: Gpr, disp: i32) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movsd Rx(dst), QWORD [Rq(base) + disp]);
        } else {
            dynasm!(self.ops ; .arch x64 ; movss Rx(dst), DWORD [Rq(base) + disp]);
        }
    }

    /// `rsp = min(rbp + disp, rsp) - size`, through r10 (a tail call's
    /// staging area below both the frame and `[rbp + disp]`).
    pub fn tail_staging(&mut self, disp: i32, size: i32) {
        dynasm!(self.ops ; .arch x64
            ; lea r10, [rbp + disp]
            ; cmp r10, rsp
            ; cmova r10, rsp
            ; sub r10, size
            ; mov rsp, r10
        );
    }

    /// Loads a value of a type that lives in xmm registers (f32, f64, v128).
    pub fn xload(&mut self, ty: crate::types::ValType, dst: Xmm, base: Gpr, disp: i32) {
        match ty {
            crate::types::ValType::V128 => self.vload(dst, base, disp),
            t => self.fload(t == crate::types::ValType::F64, dst, base, disp),
        }
    }

    /// Stores a value of a type that lives in xmm registers (f32, f64, v128).
    pub fn xstore(&mut self, ty: crate::types::ValType, base: Gpr, disp: i32, src: Xmm) {
        match ty {
            crate::types::ValType::V128 => self.vstore(base, disp, src),
            t => self.fstore(t == crate::types::ValType::F64, base, disp, src),
        }
    }

    /// `movdqu xmm, [base + disp]`: a whole v128, unaligned.
    pub fn vload(&mut self, dst: Xmm, base: Gpr, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; movdqu Rx(dst), [Rq(base) + disp]);
    }

    /// `movdqu [base + disp], xmm`: a whole v128, unaligned.
    pub fn vstore(&mut self, base: Gpr, disp: i32, src: Xmm) {
        dynasm!(self.ops ; .arch x64 ; movdqu [Rq(base) + disp], Rx(src));
    }

    pub fn fstore(&mut self, f64: bool, base: Gpr, disp: i32, src: Xmm) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movsd QWORD [Rq(base) + disp], Rx(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; movss DWORD [Rq(base) + disp], Rx(src));
        }
    }

    /// `movdqu [base + disp], src`
    pub fn store_xmm128(&mut self, base: Gpr, disp: i32, src: Xmm) {
        dynasm!(self.ops ; .arch x64 ; movdqu [Rq(base) + disp], Rx(src));
    }

    /// `movdqu dst, [base + disp]`
    pub fn load_xmm128(&mut self, dst: Xmm, base: Gpr, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; movdqu Rx(dst), [Rq(base) + disp]);
    }

    /// `movaps dst, src` (nothing when they are the same register).
    pub fn fmov(&mut self, dst: Xmm, src: Xmm) {
        if dst != src {
            dynasm!(self.ops ; .arch x64 ; movaps Rx(dst), Rx(src));
        }
    }

    pub fn xorps(&mut self, dst: Xmm, src: Xmm) {
        dynasm!(self.ops ; .arch x64 ; xorps Rx(dst), Rx(src));
    }

    pub fn andps(&mut self, dst: Xmm, src: Xmm) {
        dynasm!(self.ops ; .arch x64 ; andps Rx(dst), Rx(src));
    }

    pub fn orps(&mut self, dst: Xmm, src: Xmm) {
        dynasm!(self.ops ; .arch x64 ; orps Rx(dst), Rx(src));
    }

    pub fn fbin(&mut self, op: FBin, f64: bool, dst: Xmm, src: Xmm) {
        match (op, f64) {
            (FBin::Add, false) => dynasm!(self.ops ; .arch x64 ; addss Rx(dst), Rx(src)),
            (FBin::Add, true) => dynasm!(self.ops ; .arch x64 ; addsd Rx(dst), Rx(src)),
            (FBin::Sub, false) => dynasm!(self.ops ; .arch x64 ; subss Rx(dst), Rx(src)),
            (FBin::Sub, true) => dynasm!(self.ops ; .arch x64 ; subsd Rx(dst), Rx(src)),
            (FBin::Mul, false) => dynasm!(self.ops ; .arch x64 ; mulss Rx(dst), Rx(src)),
            (FBin::Mul, true) => dynasm!(self.ops ; .arch x64 ; mulsd Rx(dst), Rx(src)),
            (FBin::Div, false) => dynasm!(self.ops ; .arch x64 ; divss Rx(dst), Rx(src)),
            (FBin::Div, true) => dynasm!(self.ops ; .arch x64 ; divsd Rx(dst), Rx(src)),
        }
    }

    pub fn fbin_mem(&mut self, op: FBin, f64: bool, dst: Xmm, base: Gpr, disp: i32) {
        match (op, f64) {
            (FBin::Add, false) => {
                dynasm!(self.ops ; .arch x64 ; addss Rx(dst), DWORD [Rq(base) + disp])
            }
            (FBin::Add, true) => {
                dynasm!(self.ops ; .arch x64 ; addsd Rx(dst), QWORD [Rq(base) + disp])
            }
            (FBin::Sub, false) => {
                dynasm!(self.ops ; .arch x64 ; subss Rx(dst), DWORD [Rq(base) + disp])
            }
            (FBin::Sub, true) => {
                dynasm!(self.ops ; .arch x64 ; subsd Rx(dst), QWORD [Rq(base) + disp])
            }
            (FBin::Mul, false) => {
                dynasm!(self.ops ; .arch x64 ; mulss Rx(dst), DWORD [Rq(base) + disp])
            }
            (FBin::Mul, true) => {
                dynasm!(self.ops ; .arch x64 ; mulsd Rx(dst), QWORD [Rq(base) + disp])
            }
            (FBin::Div, false) => {
                dynasm!(self.ops ; .arch x64 ; divss Rx(dst), DWORD [Rq(base) + disp])
            }
            (FBin::Div, true) => {
                dynasm!(self.ops ; .arch x64 ; divsd Rx(dst), QWORD [Rq(base) + disp])
            }
        }
    }

    /// minss/minsd/maxss/maxsd (x86 semantics: the second operand on NaN or ±0).
    pub fn sse_minmax(&mut self, max: bool, f64: bool, dst: Xmm, src: Xmm) {
        match (max, f64) {
            (false, false) => dynasm!(self.ops ; .arch x64 ; minss Rx(dst), Rx(src)),
            (false, true) => dynasm!(self.ops ; .arch x64 ; minsd Rx(dst), Rx(src)),
            (true, false) => dynasm!(self.ops ; .arch x64 ; maxss Rx(dst), Rx(src)),
            (true, true) => dynasm!(self.ops ; .arch x64 ; maxsd Rx(dst), Rx(src)),
        }
    }

    pub fn ucomi(&mut self, f64: bool, a: Xmm, b: Xmm) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; ucomisd Rx(a), Rx(b));
        } else {
            dynasm!(self.ops ; .arch x64 ; ucomiss Rx(a), Rx(b));
        }
    }

    pub fn sqrt(&mut self, f64: bool, dst: Xmm) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; sqrtsd Rx(dst), Rx(dst));
        } else {
            dynasm!(self.ops ; .arch x64 ; sqrtss Rx(dst), Rx(dst));
        }
    }

    /// roundss/roundsd with mode 0 nearest, 1 floor, 2 ceil, 3 trunc.
    pub fn round(&mut self, f64: bool, dst: Xmm, mode: i8) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; roundsd Rx(dst), Rx(dst), BYTE mode);
        } else {
            dynasm!(self.ops ; .arch x64 ; roundss Rx(dst), Rx(dst), BYTE mode);
        }
    }

    /// movq/movd xmm → gpr.
    pub fn movq_to_gpr(&mut self, f64: bool, dst: Gpr, src: Xmm) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movq Rq(dst), Rx(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; movd Rd(dst), Rx(src));
        }
    }

    /// movq/movd gpr → xmm.
    pub fn movq_to_xmm(&mut self, f64: bool, dst: Xmm, src: Gpr) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movq Rx(dst), Rq(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; movd Rx(dst), Rd(src));
        }
    }

    /// cvtsi2ss/cvtsi2sd (`w`: source is 64-bit).
    pub fn cvt_int_to_float(&mut self, f64: bool, w: bool, dst: Xmm, src: Gpr) {
        match (f64, w) {
            (false, false) => dynasm!(self.ops ; .arch x64 ; cvtsi2ss Rx(dst), Rd(src)),
            (false, true) => dynasm!(self.ops ; .arch x64 ; cvtsi2ss Rx(dst), Rq(src)),
            (true, false) => dynasm!(self.ops ; .arch x64 ; cvtsi2sd Rx(dst), Rd(src)),
            (true, true) => dynasm!(self.ops ; .arch x64 ; cvtsi2sd Rx(dst), Rq(src)),
        }
    }

    /// cvtss2sd / cvtsd2ss in place.
    pub fn cvt_float(&mut self, to_f64: bool, dst: Xmm) {
        if to_f64 {
            dynasm!(self.ops ; .arch x64 ; cvtss2sd Rx(dst), Rx(dst));
        } else {
            dynasm!(self.ops ; .arch x64 ; cvtsd2ss Rx(dst), Rx(dst));
        }
    }

    /// cvttss2si/cvttsd2si (`w`: 64-bit result; min int on overflow or NaN).
    pub fn cvtt_float_to_int(&mut self, f64: bool, w: bool, dst: Gpr, src: Xmm) {
        match (f64, w) {
            (false, false) => dynasm!(self.ops ; .arch x64 ; cvttss2si Rd(dst), Rx(src)),
            (false, true) => dynasm!(self.ops ; .arch x64 ; cvttss2si Rq(dst), Rx(src)),
            (true, false) => dynasm!(self.ops ; .arch x64 ; cvttsd2si Rd(dst), Rx(src)),
            (true, true) => dynasm!(self.ops ; .arch x64 ; cvttsd2si Rq(dst), Rx(src)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONDS: [Cond; 12] = [
        Cond::Eq,
        Cond::Ne,
        Cond::LtS,
        Cond::LtU,
        Cond::GtS,
        Cond::GtU,
        Cond::LeS,
        Cond::LeU,
        Cond::GeS,
        Cond::GeU,
        Cond::Parity,
        Cond::NoParity,
    ];

    /// Jumps and calls to labels bound before and after them, each kind in
    /// both directions, through the assembler's own fixups or through dynasm.
    fn jumps(through_dynasm: bool) -> Result<Vec<u8>, String> {
        let mut a = Assembler::new();
        let back = a.new_label();
        let fwd = a.new_label();
        a.bind(back);
        a.push(RAX);
        for c in CONDS {
            for l in [fwd, back] {
                if through_dynasm {
                    a.jcc_dynasm(c, l);
                } else {
                    a.jcc(c, l);
                }
            }
        }
        for l in [fwd, back] {
            if through_dynasm {
                dynasm!(a.ops ; .arch x64 ; jmp =>l ; call =>l);
            } else {
                a.jmp(l);
                a.call_label(l);
            }
        }
        a.bind(fwd);
        a.ret();
        a.finish()
    }

    #[test]
    fn label_jumps_are_encoded_as_dynasm_encodes_them() {
        let ours = jumps(false).unwrap();
        assert_eq!(ours, jumps(true).unwrap());
        // Every jump and call in its rel32 form: 12 jcc × 2 × 6 bytes, jmp
        // and call × 2 × 5, then the push and the ret.
        let mut frame = Assembler::new();
        frame.push(RAX);
        frame.ret();
        let frame = frame.finish().unwrap().len();
        assert_eq!(ours.len(), 12 * 2 * 6 + 2 * 2 * 5 + frame);
    }

    #[test]
    fn a_jump_to_a_label_never_bound_is_an_error() {
        let mut a = Assembler::new();
        let l = a.new_label();
        a.jmp(l);
        assert!(a.finish().is_err());
        // The thread's spare tables are clean for the next function.
        let mut b = Assembler::for_body(16, true);
        let l = b.new_label();
        b.jmp(l);
        b.bind(l);
        assert_eq!(b.finish().unwrap(), vec![0xe9, 0, 0, 0, 0]);
    }
}
