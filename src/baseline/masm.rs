//! x86-64 macro assembler for the baseline compiler: wasm-shaped operations on
//! registers, frame slots and immediates. This is the only file of the
//! baseline tier that contains `dynasm!`; the code generator never sees an
//! x86 instruction.

// dynasm! expands register operands through `u8::from`, which clippy flags.
#![allow(clippy::useless_conversion)]

use crate::types::ValType;
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};

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
/// Scratch register: never allocated, dead between operations.
pub const SCRATCH: Gpr = 11;
/// Debug code: a copy of the function's debug byte (see `load_debug_flag`).
pub const DEBUG_FLAG: Gpr = 13;
/// Pinned: linear-memory base of the current instance (if it has a memory).
pub const MEM_BASE: Gpr = 14;
/// Pinned: the current VMContext.
pub const VMCTX: Gpr = 15;
/// Scratch xmm register.
pub const XSCRATCH: Xmm = 15;

/// A source operand.
#[derive(Debug, Clone, Copy)]
pub enum Src {
    Reg(Gpr),
    Imm(i32),
    /// `[base + disp]`
    Mem(Gpr, i32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
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
    /// Float "above" (unsigned-style flags after ucomis)
    Parity,
    NoParity,
}

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

    pub fn negate(self) -> Cond {
        use Cond::*;
        match self {
            Eq => Ne,
            Ne => Eq,
            LtS => GeS,
            GeS => LtS,
            LtU => GeU,
            GeU => LtU,
            GtS => LeS,
            LeS => GtS,
            GtU => LeU,
            LeU => GtU,
            Parity => NoParity,
            NoParity => Parity,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alu {
    Add,
    Sub,
    And,
    Or,
    Xor,
    Cmp,
    Imul,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    Shl,
    ShrS,
    ShrU,
    Rotl,
    Rotr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FBin {
    Add,
    Sub,
    Mul,
    Div,
}

/// Access width and extension of a memory load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    U8,
    S8,
    U16,
    S16,
    U32,
    S32,
    I64,
}

pub struct Masm {
    pub ops: VecAssembler<X64Relocation>,
    /// Labels bound so far (a branch may arrive where this changed).
    binds: u32,
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

impl Default for Masm {
    fn default() -> Self {
        Masm::new()
    }
}

impl Masm {
    pub fn new() -> Masm {
        Masm {
            binds: 0,
            ops: VecAssembler::new(0),
        }
    }

    /// An assembler sized for a function body of `wasm_bytes` bytes, so the
    /// buffers rarely grow (growing was a visible share of compile time).
    pub fn for_body(wasm_bytes: usize) -> Masm {
        let labels = wasm_bytes / 4 + 16;
        Masm {
            binds: 0,
            ops: VecAssembler::new_with_capacity(0, wasm_bytes * 6 + 256, 0, 0, labels, 0, labels),
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

    // ---- frame ----------------------------------------------------------

    /// Pushes rbp/r15/r14, sets rbp, and reserves a frame; returns the offset of
    /// the 32-bit frame-size immediate to patch.
    pub fn prologue(&mut self) -> u32 {
        dynasm!(self.ops
            ; .arch x64
            ; push rbp
            ; mov rbp, rsp
            ; push r15
            ; push r14
            ; mov r15, rdi
        );
        // `sub rsp, imm32` = 48 81 EC imm32
        self.ops.extend([0x48, 0x81, 0xEC]);
        let at = self.offset();
        self.ops.extend([0, 0, 0, 0]);
        at
    }

    pub fn epilogue(&mut self) {
        dynasm!(self.ops
            ; .arch x64
            ; lea rsp, [rbp - 16]
            ; pop r14
            ; pop r15
            ; pop rbp
            ; ret
        );
    }

    // ---- moves ----------------------------------------------------------

    pub fn mov_rr(&mut self, w: bool, dst: Gpr, src: Gpr) {
        if w {
            if dst != src {
                dynasm!(self.ops ; .arch x64 ; mov Rq(dst), Rq(src));
            }
        } else {
            dynasm!(self.ops ; .arch x64 ; mov Rd(dst), Rd(src));
        }
    }

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

    /// Stores a constant of `w` width to `[base+disp]` (flags preserved).
    pub fn store_imm(&mut self, w: bool, base: Gpr, disp: i32, imm: i64) {
        if !w {
            dynasm!(self.ops ; .arch x64 ; mov DWORD [Rq(base) + disp], DWORD imm as i32);
        } else if imm >= i32::MIN as i64 && imm <= i32::MAX as i64 {
            dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(base) + disp], DWORD imm as i32);
        } else {
            dynasm!(self.ops ; .arch x64 ; mov Rq(SCRATCH), QWORD imm ; mov QWORD [Rq(base) + disp], Rq(SCRATCH));
        }
    }

    /// Copies 8 bytes between frame slots through the scratch register.
    pub fn copy_slot(&mut self, dst_base: Gpr, dst: i32, src_base: Gpr, src: i32) {
        dynasm!(self.ops
            ; .arch x64
            ; mov Rq(SCRATCH), QWORD [Rq(src_base) + src]
            ; mov QWORD [Rq(dst_base) + dst], Rq(SCRATCH)
        );
    }

    pub fn lea(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; lea Rq(dst), [Rq(base) + disp]);
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

    /// clz/ctz/popcnt: `dst = op(src)` (lzcnt, tzcnt, popcnt are required CPU features).
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

    /// Sign extension inside a register: from 8, 16 or 32 bits to 32 (w=false) or 64.
    pub fn sign_extend(&mut self, from: u8, w: bool, dst: Gpr, src: Gpr) {
        match (from, w) {
            (8, false) => dynasm!(self.ops ; .arch x64 ; movsx Rd(dst), Rb(src)),
            (8, true) => dynasm!(self.ops ; .arch x64 ; movsx Rq(dst), Rb(src)),
            (16, false) => dynasm!(self.ops ; .arch x64 ; movsx Rd(dst), Rw(src)),
            (16, true) => dynasm!(self.ops ; .arch x64 ; movsx Rq(dst), Rw(src)),
            _ => dynasm!(self.ops ; .arch x64 ; movsxd Rq(dst), Rd(src)),
        }
    }

    /// `setcc scratch; movzx dst32, scratch8`
    pub fn setcc(&mut self, c: Cond, dst: Gpr) {
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
        dynasm!(self.ops ; .arch x64 ; movzx Rd(dst), r11b);
    }

    pub fn jcc(&mut self, c: Cond, l: DynamicLabel) {
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

    pub fn jmp(&mut self, l: DynamicLabel) {
        dynasm!(self.ops ; .arch x64 ; jmp =>l);
    }

    /// `cmovcc dst, src` where the condition is "src should be taken if zero flag set"
    pub fn cmovz(&mut self, w: bool, dst: Gpr, src: Gpr) {
        if w {
            dynasm!(self.ops ; .arch x64 ; cmovz Rq(dst), Rq(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; cmovz Rd(dst), Rd(src));
        }
    }

    /// Signed or unsigned division of rax (by `divisor`), result in rax/rdx.
    pub fn div(&mut self, signed: bool, w: bool, divisor: Gpr) {
        match (signed, w) {
            (true, true) => dynasm!(self.ops ; .arch x64 ; cqo ; idiv Rq(divisor)),
            (true, false) => dynasm!(self.ops ; .arch x64 ; cdq ; idiv Rd(divisor)),
            (false, true) => dynasm!(self.ops ; .arch x64 ; xor edx, edx ; div Rq(divisor)),
            (false, false) => dynasm!(self.ops ; .arch x64 ; xor edx, edx ; div Rd(divisor)),
        }
    }

    /// `neg r; jo l` (negation overflows exactly for the minimum value).
    pub fn neg_jo(&mut self, w: bool, r: Gpr, l: DynamicLabel) {
        if w {
            dynasm!(self.ops ; .arch x64 ; neg Rq(r) ; jo =>l);
        } else {
            dynasm!(self.ops ; .arch x64 ; neg Rd(r) ; jo =>l);
        }
    }

    pub fn jo(&mut self, l: DynamicLabel) {
        dynasm!(self.ops ; .arch x64 ; jo =>l);
    }

    pub fn ud2(&mut self) {
        dynasm!(self.ops ; .arch x64 ; ud2);
    }

    pub fn int3(&mut self) {
        dynasm!(self.ops ; .arch x64 ; int3);
    }

    // ---- memory -----------------------------------------------------------

    /// Load from `[MEM_BASE + addr + disp]` into a GPR.
    pub fn wasm_load(&mut self, kind: Load, w: bool, dst: Gpr, addr: Gpr, disp: i32) {
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

    pub fn wasm_load_float(&mut self, f64: bool, dst: Xmm, addr: Gpr, disp: i32) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movsd Rx(dst), QWORD [r14 + Rq(addr) + disp]);
        } else {
            dynasm!(self.ops ; .arch x64 ; movss Rx(dst), DWORD [r14 + Rq(addr) + disp]);
        }
    }

    /// Store the low `bytes` of a GPR to `[MEM_BASE + addr + disp]`.
    pub fn wasm_store(&mut self, bytes: u8, src: Gpr, addr: Gpr, disp: i32) {
        match bytes {
            1 => dynasm!(self.ops ; .arch x64 ; mov BYTE [r14 + Rq(addr) + disp], Rb(src)),
            2 => dynasm!(self.ops ; .arch x64 ; mov WORD [r14 + Rq(addr) + disp], Rw(src)),
            4 => dynasm!(self.ops ; .arch x64 ; mov DWORD [r14 + Rq(addr) + disp], Rd(src)),
            _ => dynasm!(self.ops ; .arch x64 ; mov QWORD [r14 + Rq(addr) + disp], Rq(src)),
        }
    }

    pub fn wasm_store_imm(&mut self, bytes: u8, imm: i32, addr: Gpr, disp: i32) {
        match bytes {
            1 => dynasm!(self.ops ; .arch x64 ; mov BYTE [r14 + Rq(addr) + disp], BYTE imm as i8),
            2 => dynasm!(self.ops ; .arch x64 ; mov WORD [r14 + Rq(addr) + disp], WORD imm as i16),
            4 => dynasm!(self.ops ; .arch x64 ; mov DWORD [r14 + Rq(addr) + disp], DWORD imm),
            _ => dynasm!(self.ops ; .arch x64 ; mov QWORD [r14 + Rq(addr) + disp], DWORD imm),
        }
    }

    pub fn wasm_store_float(&mut self, f64: bool, src: Xmm, addr: Gpr, disp: i32) {
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

    pub fn fstore(&mut self, f64: bool, base: Gpr, disp: i32, src: Xmm) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movsd QWORD [Rq(base) + disp], Rx(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; movss DWORD [Rq(base) + disp], Rx(src));
        }
    }

    /// Loads a whole v128 (unaligned).
    pub fn vload(&mut self, dst: Xmm, base: Gpr, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; movdqu Rx(dst), [Rq(base) + disp]);
    }

    /// Stores a whole v128 (unaligned).
    pub fn vstore(&mut self, base: Gpr, disp: i32, src: Xmm) {
        dynasm!(self.ops ; .arch x64 ; movdqu [Rq(base) + disp], Rx(src));
    }

    /// Loads a value of a type that lives in xmm registers.
    pub fn xload(&mut self, ty: ValType, dst: Xmm, base: Gpr, disp: i32) {
        match ty {
            ValType::V128 => self.vload(dst, base, disp),
            t => self.fload(t == ValType::F64, dst, base, disp),
        }
    }

    /// Stores a value of a type that lives in xmm registers.
    pub fn xstore(&mut self, ty: ValType, base: Gpr, disp: i32, src: Xmm) {
        match ty {
            ValType::V128 => self.vstore(base, disp, src),
            t => self.fstore(t == ValType::F64, base, disp, src),
        }
    }

    pub fn fmov(&mut self, dst: Xmm, src: Xmm) {
        if dst != src {
            dynasm!(self.ops ; .arch x64 ; movaps Rx(dst), Rx(src));
        }
    }

    /// Loads raw float bits into an xmm register.
    pub fn fconst(&mut self, f64: bool, dst: Xmm, bits: u64) {
        if bits == 0 {
            dynasm!(self.ops ; .arch x64 ; xorps Rx(dst), Rx(dst));
        } else if f64 {
            dynasm!(self.ops ; .arch x64 ; mov r11, QWORD bits as i64 ; movq Rx(dst), r11);
        } else {
            dynasm!(self.ops ; .arch x64 ; mov r11d, DWORD bits as i32 ; movd Rx(dst), r11d);
        }
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

    /// Wasm `min`/`max` with NaN propagation and -0 < +0.
    pub fn fminmax(&mut self, max: bool, f64: bool, dst: Xmm, src: Xmm) {
        let nan = self.new_label();
        let equal = self.new_label();
        let done = self.new_label();
        self.ucomi(f64, dst, src);
        dynasm!(self.ops ; .arch x64 ; jp =>nan ; je =>equal);
        match (max, f64) {
            (false, false) => dynasm!(self.ops ; .arch x64 ; minss Rx(dst), Rx(src)),
            (false, true) => dynasm!(self.ops ; .arch x64 ; minsd Rx(dst), Rx(src)),
            (true, false) => dynasm!(self.ops ; .arch x64 ; maxss Rx(dst), Rx(src)),
            (true, true) => dynasm!(self.ops ; .arch x64 ; maxsd Rx(dst), Rx(src)),
        }
        dynasm!(self.ops ; .arch x64 ; jmp =>done ; =>equal);
        // Equal: only ±0 differ; min ORs the sign bits, max ANDs them.
        if max {
            dynasm!(self.ops ; .arch x64 ; andps Rx(dst), Rx(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; orps Rx(dst), Rx(src));
        }
        dynasm!(self.ops ; .arch x64 ; jmp =>done ; =>nan);
        self.fbin(FBin::Add, f64, dst, src);
        dynasm!(self.ops ; .arch x64 ; =>done);
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

    /// Moves raw bits between xmm and gpr.
    pub fn movq_to_gpr(&mut self, f64: bool, dst: Gpr, src: Xmm) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movq Rq(dst), Rx(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; movd Rd(dst), Rx(src));
        }
    }

    pub fn movq_to_xmm(&mut self, f64: bool, dst: Xmm, src: Gpr) {
        if f64 {
            dynasm!(self.ops ; .arch x64 ; movq Rx(dst), Rq(src));
        } else {
            dynasm!(self.ops ; .arch x64 ; movd Rx(dst), Rd(src));
        }
    }

    /// abs / neg / copysign on bits in r11 (scratch) and `tmp`.
    pub fn fsign_op(&mut self, kind: u8, f64: bool, dst: Xmm, src2: Option<(Xmm, Gpr)>) {
        self.movq_to_gpr(f64, SCRATCH, dst);
        let bit: i8 = if f64 { 63 } else { 31 };
        match kind {
            0 => {
                if f64 {
                    dynasm!(self.ops ; .arch x64 ; btr r11, BYTE bit);
                } else {
                    dynasm!(self.ops ; .arch x64 ; btr r11d, BYTE bit);
                }
            }
            1 => {
                if f64 {
                    dynasm!(self.ops ; .arch x64 ; btc r11, BYTE bit);
                } else {
                    dynasm!(self.ops ; .arch x64 ; btc r11d, BYTE bit);
                }
            }
            _ => {
                let (s, tmp) = src2.expect("copysign needs a second operand");
                self.movq_to_gpr(f64, tmp, s);
                if f64 {
                    dynasm!(self.ops
                        ; .arch x64
                        ; btr r11, BYTE bit
                        ; shr Rq(tmp), BYTE bit
                        ; shl Rq(tmp), BYTE bit
                        ; or r11, Rq(tmp)
                    );
                } else {
                    dynasm!(self.ops
                        ; .arch x64
                        ; btr r11d, BYTE bit
                        ; and Rd(tmp), DWORD i32::MIN
                        ; or r11d, Rd(tmp)
                    );
                }
            }
        }
        self.movq_to_xmm(f64, dst, SCRATCH);
    }

    /// Signed integer → float conversion (`w`: source is 64-bit).
    pub fn cvt_int_to_float(&mut self, f64: bool, w: bool, dst: Xmm, src: Gpr) {
        match (f64, w) {
            (false, false) => dynasm!(self.ops ; .arch x64 ; cvtsi2ss Rx(dst), Rd(src)),
            (false, true) => dynasm!(self.ops ; .arch x64 ; cvtsi2ss Rx(dst), Rq(src)),
            (true, false) => dynasm!(self.ops ; .arch x64 ; cvtsi2sd Rx(dst), Rd(src)),
            (true, true) => dynasm!(self.ops ; .arch x64 ; cvtsi2sd Rx(dst), Rq(src)),
        }
    }

    /// u64 → float: uses `tmp` and scratch.
    pub fn cvt_u64_to_float(&mut self, f64: bool, dst: Xmm, src: Gpr, tmp: Gpr) {
        let big = self.new_label();
        let done = self.new_label();
        dynasm!(self.ops ; .arch x64 ; test Rq(src), Rq(src) ; js =>big);
        self.cvt_int_to_float(f64, true, dst, src);
        dynasm!(self.ops
            ; .arch x64
            ; jmp =>done
            ; =>big
            ; mov Rq(tmp), Rq(src)
            ; shr Rq(tmp), 1
            ; mov r11, Rq(src)
            ; and r11, 1
            ; or Rq(tmp), r11
        );
        self.cvt_int_to_float(f64, true, dst, tmp);
        self.fbin(FBin::Add, f64, dst, dst);
        dynasm!(self.ops ; .arch x64 ; =>done);
    }

    pub fn cvt_float(&mut self, to_f64: bool, dst: Xmm) {
        if to_f64 {
            dynasm!(self.ops ; .arch x64 ; cvtss2sd Rx(dst), Rx(dst));
        } else {
            dynasm!(self.ops ; .arch x64 ; cvtsd2ss Rx(dst), Rx(dst));
        }
    }

    /// Truncating float → signed integer (`w`: 64-bit result). Result is the
    /// "integer indefinite" value (min int) on overflow or NaN.
    pub fn cvtt_float_to_int(&mut self, f64: bool, w: bool, dst: Gpr, src: Xmm) {
        match (f64, w) {
            (false, false) => dynasm!(self.ops ; .arch x64 ; cvttss2si Rd(dst), Rx(src)),
            (false, true) => dynasm!(self.ops ; .arch x64 ; cvttss2si Rq(dst), Rx(src)),
            (true, false) => dynasm!(self.ops ; .arch x64 ; cvttsd2si Rd(dst), Rx(src)),
            (true, true) => dynasm!(self.ops ; .arch x64 ; cvttsd2si Rq(dst), Rx(src)),
        }
    }

    // ---- calls ------------------------------------------------------------

    /// `call [base + disp]`
    pub fn call_mem(&mut self, base: Gpr, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; call QWORD [Rq(base) + disp]);
    }

    pub fn call_label(&mut self, l: DynamicLabel) {
        dynasm!(self.ops ; .arch x64 ; call =>l);
    }

    pub fn ret(&mut self) {
        dynasm!(self.ops ; .arch x64 ; ret);
    }

    pub fn push_imm(&mut self, v: i32) {
        dynasm!(self.ops ; .arch x64 ; push DWORD v);
    }

    /// Counts a call: `r11 = vmctx.calls; add qword [r11 + disp], 1`.
    pub fn count_call(&mut self, disp: i32) {
        dynasm!(self.ops ; .arch x64
            ; mov r11, QWORD [r15 + crate::vm::layout::VMCTX_CALLS]
            ; add QWORD [r11 + disp], 1
        );
    }

    /// Charges the tier-up budget of a function: `r11 = vmctx.budgets;
    /// sub dword [r11 + disp], cost; js slow`. Returns the offset of the 32-bit
    /// cost immediate so a loop can patch in its size once its end is known.
    pub fn budget_charge(&mut self, disp: i32, cost: i32, slow: DynamicLabel) -> u32 {
        dynasm!(self.ops ; .arch x64 ; mov r11, QWORD [r15 + crate::vm::layout::VMCTX_BUDGETS]);
        // sub dword [r11 + disp32], imm32 = 41 81 AB disp32 imm32
        self.ops.extend([0x41, 0x81, 0xAB]);
        self.ops.extend(disp.to_le_bytes());
        let at = self.offset();
        self.ops.extend(cost.to_le_bytes());
        dynasm!(self.ops ; .arch x64 ; js =>slow);
        at
    }

    /// `cmp rsp, [r11]` / `jb l` for stack checks, with `r11` = limits pointer.
    pub fn stack_check(&mut self, limits_disp: i32, slow: DynamicLabel) {
        dynasm!(self.ops
            ; .arch x64
            ; mov r11, QWORD [r15 + limits_disp]
            ; cmp rsp, QWORD [r11]
            ; jb =>slow
        );
    }

    /// `cmp rsp, [r11 + disp]` (r11 already holds the limits pointer)
    pub fn cmp_rsp_scratch_mem(&mut self, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; cmp rsp, QWORD [r11 + disp]);
    }

    /// `cmp dword [base + disp], imm`
    pub fn cmp_mem32_imm(&mut self, base: Gpr, disp: i32, imm: i32) {
        dynasm!(self.ops ; .arch x64 ; cmp DWORD [Rq(base) + disp], DWORD imm);
    }

    /// `mov dst, [base + index*8]`
    pub fn load_indexed8(&mut self, dst: Gpr, base: Gpr, index: Gpr) {
        dynasm!(self.ops ; .arch x64 ; mov Rq(dst), QWORD [Rq(base) + Rq(index) * 8]);
    }

    /// `mov [base + index*8], src`
    pub fn store_indexed8(&mut self, base: Gpr, index: Gpr, src: Gpr) {
        dynasm!(self.ops ; .arch x64 ; mov QWORD [Rq(base) + Rq(index) * 8], Rq(src));
    }

    /// Emits a jump table dispatch on `index` (already bounds-checked): each
    /// entry is an 8-byte `jmp rel32` + padding.
    pub fn jump_table(&mut self, index: Gpr, targets: &[DynamicLabel]) -> bool {
        let table = self.new_label();
        dynasm!(self.ops
            ; .arch x64
            ; lea r11, [=>table]
            ; lea r11, [r11 + Rq(index) * 8]
            ; jmp r11
            ; .align 8
            ; =>table
        );
        for &t in targets {
            let before = self.offset();
            dynasm!(self.ops ; .arch x64 ; jmp =>t);
            let len = self.offset() - before;
            if len > 8 {
                return false;
            }
            for _ in len..8 {
                self.int3();
            }
        }
        true
    }

    /// Saves every GPR and XMM register into a save area on the stack and
    /// returns; paired with `restore_all_regs`. Layout: see
    /// `layout::DEBUG_REGS_SIZE`. Leaves rsp pointing at the area.
    /// The debug check of a position where a compare's result is still in the
    /// flags: tests the debug byte at `[r15 + disp]` without touching the
    /// flags (rcx waits in r11 meanwhile) and jumps to `slow` when it is set.
    pub fn debug_check_keep_flags(&mut self, disp: i32, slow: DynamicLabel) {
        dynasm!(self.ops ; .arch x64
            ; mov r11, rcx
            ; movzx ecx, BYTE [Rq(VMCTX) + disp]
            ; jrcxz >clear
            ; mov rcx, r11
            ; jmp =>slow
            ; clear:
            ; mov rcx, r11
        );
    }

    /// `r13 = vmctx.debug_flags[func]` (`disp` = its vmctx offset): debug code
    /// tests this register at every instruction. It is reloaded at entry,
    /// after every call, and refreshed by the runtime in the register save
    /// area whenever the debug hook or the interrupt check's slow path runs.
    pub fn load_debug_flag(&mut self, disp: i32) {
        dynasm!(self.ops ; .arch x64 ; movzx r13d, BYTE [Rq(VMCTX) + disp]);
    }

    /// The per-instruction test of debug code: `test r13d, r13d; jne slow`.
    pub fn debug_check(&mut self, slow: DynamicLabel) {
        dynasm!(self.ops ; .arch x64 ; test r13d, r13d ; jne =>slow);
    }

    /// Saves the flags in a 16-byte slot (keeps the stack aligned).
    pub fn push_flags(&mut self) {
        dynasm!(self.ops ; .arch x64 ; lea rsp, [rsp - 8] ; pushfq);
    }

    pub fn pop_flags(&mut self) {
        dynasm!(self.ops ; .arch x64 ; popfq ; lea rsp, [rsp + 8]);
    }

    pub fn save_all_regs(&mut self) {
        dynasm!(self.ops ; .arch x64 ; sub rsp, DWORD crate::vm::layout::DEBUG_REGS_SIZE);
        for r in 0..16u8 {
            if r == RSP {
                continue;
            }
            let d = r as i32 * 8;
            dynasm!(self.ops ; .arch x64 ; mov QWORD [rsp + d], Rq(r));
        }
        for x in 0..16u8 {
            let d = 128 + x as i32 * 16;
            dynasm!(self.ops ; .arch x64 ; movdqu [rsp + d], Rx(x));
        }
    }

    pub fn restore_all_regs(&mut self) {
        for x in 0..16u8 {
            let d = 128 + x as i32 * 16;
            dynasm!(self.ops ; .arch x64 ; movdqu Rx(x), [rsp + d]);
        }
        for r in 0..16u8 {
            if r == RSP {
                continue;
            }
            let d = r as i32 * 8;
            dynasm!(self.ops ; .arch x64 ; mov Rq(r), QWORD [rsp + d]);
        }
        dynasm!(self.ops ; .arch x64 ; add rsp, DWORD crate::vm::layout::DEBUG_REGS_SIZE);
    }

    pub fn finish(self) -> Result<Vec<u8>, String> {
        self.ops.finalize().map_err(|e| e.to_string())
    }
}
