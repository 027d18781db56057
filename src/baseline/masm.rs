//! The baseline compiler's macro assembler: wasm-shaped operations (frame
//! slots, wasm loads and stores, compares that leave a condition, float
//! min/max with wasm's NaN and ±0 rules, the interrupt and tier-up checks,
//! the debug check) built from the instructions of the x64 assembler
//! (`x64/asm.rs`, the only file with `dynasm!`). The code generator talks to
//! this layer only.

use super::x64::asm::{Assembler, R11, R13, R14, R15};
pub use super::x64::asm::{Gpr, Xmm, R10, R8, R9, RAX, RBP, RCX, RDI, RDX, RSI, RSP};
pub use super::x64::simd::{VImm, VLoad, V};
use dynasmrt::DynamicLabel;

mod simd;
pub use simd::{Lanes, VCmp, VFCmp, VShiftKind};

/// Scratch register: never allocated, dead between operations.
pub const SCRATCH: Gpr = R11;
/// Debug code: a copy of the function's debug byte (see `load_debug_flag`).
pub const DEBUG_FLAG: Gpr = R13;
/// Pinned: linear-memory base of the current instance (if it has a memory).
pub const MEM_BASE: Gpr = R14;
/// Pinned: the current VMContext.
pub const VMCTX: Gpr = R15;
/// Scratch xmm register.
pub const XSCRATCH: Xmm = 15;
/// Integer division: the dividend goes in here and the quotient comes out.
pub const DIV_QUOTIENT: Gpr = RAX;
/// Integer division: the remainder comes out here (clobbered either way).
pub const DIV_REMAINDER: Gpr = RDX;
/// Integer division: where the divisor goes (the scratch register).
pub const DIVISOR: Gpr = SCRATCH;
/// The count of a shift or rotate by a register.
pub const SHIFT_COUNT: Gpr = RCX;

/// A source operand.
#[derive(Debug, Clone, Copy)]
pub enum Src {
    Reg(Gpr),
    Imm(i32),
    /// `[base + disp]`
    Mem(Gpr, i32),
}

/// The outcome of a compare: integer orders (signed/unsigned) and the
/// parity of an unordered float compare.
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
    /// Unordered (a NaN took part in a float compare).
    Parity,
    NoParity,
}

impl Cond {
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
    asm: Assembler,
    /// 16-byte constants of vector code, emitted after the code.
    vconsts: Vec<(DynamicLabel, [u8; 16])>,
}

impl Masm {
    /// A macro assembler sized for a function body of `wasm_bytes` bytes.
    pub fn for_body(wasm_bytes: usize, debug: bool) -> Masm {
        Masm {
            asm: Assembler::for_body(wasm_bytes, debug),
            vconsts: Vec::new(),
        }
    }

    pub fn offset(&self) -> u32 {
        self.asm.offset()
    }

    pub fn new_label(&mut self) -> DynamicLabel {
        self.asm.new_label()
    }

    pub fn bind(&mut self, l: DynamicLabel) {
        self.asm.bind(l)
    }

    /// How many labels have been bound (a branch may arrive where this changed).
    pub fn bind_count(&self) -> u32 {
        self.asm.bind_count()
    }

    pub fn label_offset(&self, l: DynamicLabel) -> Option<u32> {
        self.asm.label_offset(l)
    }

    pub fn finish(mut self) -> Result<Vec<u8>, String> {
        self.emit_pool();
        self.asm.finish()
    }

    // ---- frame ----------------------------------------------------------

    /// Pushes rbp/r15/r14, sets rbp, and reserves a frame; returns the offset of
    /// the 32-bit frame-size immediate to patch.
    pub fn prologue(&mut self) -> u32 {
        let a = &mut self.asm;
        a.push(RBP);
        a.mov_rr(true, RBP, RSP);
        a.push(R15);
        a.push(R14);
        a.mov_rr(true, R15, RDI);
        a.sub_rsp_patchable()
    }

    /// Restores r14/r15/rbp and returns, popping `pop` bytes of stack
    /// arguments (the callee pops them: see `crate::abi`).
    pub fn epilogue(&mut self, pop: i32) {
        let a = &mut self.asm;
        a.lea8(RSP, RBP, -16);
        a.pop(R14);
        a.pop(R15);
        a.pop(RBP);
        a.ret_pop(pop);
    }

    // ---- moves ----------------------------------------------------------

    pub fn mov_rr(&mut self, w: bool, dst: Gpr, src: Gpr) {
        self.asm.mov_rr(w, dst, src)
    }

    pub fn mov_imm(&mut self, w: bool, dst: Gpr, imm: i64) {
        self.asm.mov_imm(w, dst, imm)
    }

    pub fn load(&mut self, w: bool, dst: Gpr, base: Gpr, disp: i32) {
        self.asm.load(w, dst, base, disp)
    }

    pub fn store(&mut self, w: bool, base: Gpr, disp: i32, src: Gpr) {
        self.asm.store(w, base, disp, src)
    }

    /// Stores a constant of `w` width to `[base+disp]` (flags preserved).
    pub fn store_imm(&mut self, w: bool, base: Gpr, disp: i32, imm: i64) {
        if !w {
            self.asm.store_imm32(false, base, disp, imm as i32);
        } else if imm >= i32::MIN as i64 && imm <= i32::MAX as i64 {
            self.asm.store_imm32(true, base, disp, imm as i32);
        } else {
            self.asm.mov_imm64(SCRATCH, imm);
            self.asm.store(true, base, disp, SCRATCH);
        }
    }

    /// Zeroes `count` 8-byte slots from `[rbp+lowest]` upwards: `rep stosq`
    /// for many (clobbers rax, rcx and rdi), 16-byte stores of the scratch
    /// xmm register for up to 64 (`rep stosq` takes tens of cycles to
    /// start, which a call of a small function notices). Returns the mask
    /// of the allocatable registers it clobbered.
    pub fn zero_slots(&mut self, lowest: i32, count: u32) -> u16 {
        if count <= 64 {
            self.asm.xorps(XSCRATCH, XSCRATCH);
            for k in 0..(count / 2) as i32 {
                self.asm.store_xmm128(RBP, lowest + 16 * k, XSCRATCH);
            }
            if count % 2 == 1 {
                self.asm
                    .fstore(true, RBP, lowest + 16 * (count / 2) as i32, XSCRATCH);
            }
            return 0;
        }
        self.asm.lea(RDI, RBP, lowest);
        self.asm.mov_imm(false, RCX, count as i64);
        self.asm.mov_imm(false, RAX, 0);
        self.asm.rep_stosq();
        (1 << RDI) | (1 << RCX) | (1 << RAX)
    }

    /// Copies 8 bytes between frame slots through the scratch register.
    pub fn copy_slot(&mut self, dst_base: Gpr, dst: i32, src_base: Gpr, src: i32) {
        self.asm.copy_slot(dst_base, dst, src_base, src)
    }

    /// Performs the register moves `(dst, src)` (64-bit; destinations
    /// distinct, never the scratch register) as if all at once: a move is
    /// made once no other pending one still reads its destination; a cycle
    /// is broken by saving one destination in the scratch register.
    pub fn parallel_moves(&mut self, mut moves: Vec<(Gpr, Gpr)>) {
        moves.retain(|&(d, s)| d != s);
        while !moves.is_empty() {
            let free = moves
                .iter()
                .position(|&(d, _)| !moves.iter().any(|&(_, s)| s == d));
            if let Some(k) = free {
                let (d, s) = moves.swap_remove(k);
                self.asm.mov_rr(true, d, s);
                continue;
            }
            let d = moves[0].0;
            self.asm.mov_rr(true, SCRATCH, d);
            for m in moves.iter_mut() {
                if m.1 == d {
                    m.1 = SCRATCH;
                }
            }
        }
    }

    /// `dst = base + index + disp` (`w`: 64-bit), leaving the sources and
    /// the flags as they are.
    pub fn lea_sum(&mut self, w: bool, dst: Gpr, base: Gpr, index: Option<Gpr>, disp: i32) {
        self.asm.lea_sum(w, dst, base, index, disp)
    }

    pub fn lea(&mut self, dst: Gpr, base: Gpr, disp: i32) {
        self.asm.lea(dst, base, disp)
    }

    pub fn add_rsp(&mut self, n: i32) {
        self.asm.add_rsp(n)
    }

    pub fn sub_rsp(&mut self, n: i32) {
        self.asm.sub_rsp(n)
    }

    // ---- integer arithmetic ----------------------------------------------

    pub fn alu(&mut self, op: Alu, w: bool, dst: Gpr, src: Src) {
        self.asm.alu(op, w, dst, src)
    }

    pub fn test_rr(&mut self, w: bool, a: Gpr, b: Gpr) {
        self.asm.test_rr(w, a, b)
    }

    /// Shift/rotate by the count in `cl`.
    pub fn shift_cl(&mut self, op: Shift, w: bool, dst: Gpr) {
        self.asm.shift_cl(op, w, dst)
    }

    pub fn shift_imm(&mut self, op: Shift, w: bool, dst: Gpr, n: u8) {
        self.asm.shift_imm(op, w, dst, n)
    }

    /// clz (kind 0), ctz (1), popcnt (2): `dst = op(src)`.
    pub fn bitcount(&mut self, kind: u8, w: bool, dst: Gpr, src: Gpr) {
        self.asm.bitcount(kind, w, dst, src)
    }

    /// Sign extension inside a register: from 8, 16 or 32 bits to 32 (w=false) or 64.
    pub fn sign_extend(&mut self, from: u8, w: bool, dst: Gpr, src: Gpr) {
        self.asm.movsx(from, w, dst, src)
    }

    /// `dst = c ? 1 : 0` (through the scratch register).
    pub fn setcc(&mut self, c: Cond, dst: Gpr) {
        self.asm.setcc_r11(c);
        self.asm.movzx_r11b(dst);
    }

    pub fn jcc(&mut self, c: Cond, l: DynamicLabel) {
        self.asm.jcc(c, l)
    }

    pub fn jmp(&mut self, l: DynamicLabel) {
        self.asm.jmp(l)
    }

    /// `dst = src` if the flags say `c`.
    pub fn cmovcc(&mut self, c: Cond, w: bool, dst: Gpr, src: Gpr) {
        self.asm.cmovcc(c, w, dst, src)
    }

    /// `dst = src` if the last test found zero.
    pub fn cmovz(&mut self, w: bool, dst: Gpr, src: Gpr) {
        self.asm.cmovz(w, dst, src)
    }

    /// Wasm integer division or remainder of `DIV_QUOTIENT` by `DIVISOR`:
    /// the quotient lands in `DIV_QUOTIENT`, the remainder in
    /// `DIV_REMAINDER`. Jumps to `div0` on a zero divisor and, for signed
    /// division (`ovf` given), to `ovf` on MIN / -1; signed remainder by -1
    /// is 0.
    pub fn wasm_div(
        &mut self,
        signed: bool,
        rem: bool,
        w: bool,
        div0: DynamicLabel,
        ovf: Option<DynamicLabel>,
    ) {
        self.asm.test_rr(w, DIVISOR, DIVISOR);
        self.asm.jcc(Cond::Eq, div0);
        let done = self.new_label();
        if signed {
            let normal = self.new_label();
            self.asm.alu(Alu::Cmp, w, DIVISOR, Src::Imm(-1));
            self.asm.jcc(Cond::Ne, normal);
            if rem {
                self.asm.mov_imm(true, DIV_REMAINDER, 0);
            } else {
                let ovf = ovf.expect("signed division needs an overflow trap");
                self.asm.neg(w, DIV_QUOTIENT);
                self.asm.jo(ovf);
            }
            self.asm.jmp(done);
            self.asm.bind(normal);
        }
        self.asm.div(signed, w, DIVISOR);
        self.asm.bind(done);
    }

    /// Wasm's trapping float → signed integer truncation (`w`: 64-bit
    /// result): inline, with the range check after a jump over it; jumps to
    /// `nan` for NaN and `ovf` for values out of range.
    pub fn wasm_trunc_signed(
        &mut self,
        f64: bool,
        w: bool,
        dst: Gpr,
        src: Xmm,
        nan: DynamicLabel,
        ovf: DynamicLabel,
    ) {
        self.asm.cvtt_float_to_int(f64, w, dst, src);
        // `cmp d, 1` overflows exactly when d is the minimum (the failure value).
        let check = self.new_label();
        let back = self.new_label();
        self.asm.alu(Alu::Cmp, w, dst, Src::Imm(1));
        self.asm.jo(check);
        self.asm.bind(back);
        // The slow path lives inline after a jump over it (it is rare and short).
        let over = self.new_label();
        self.asm.jmp(over);
        self.asm.bind(check);
        self.asm.ucomi(f64, src, src);
        self.asm.jcc(Cond::Parity, nan);
        // Lower bound: the result is the minimum iff x > MIN - 1 (exact compare per type).
        let (bound_bits, strict) = match (f64, w) {
            (true, false) => ((-2147483649.0f64).to_bits(), true),
            (true, true) => ((-9223372036854775808.0f64).to_bits(), false),
            (false, false) => ((-2147483648.0f32).to_bits() as u64, false),
            (false, true) => ((-9223372036854775808.0f32).to_bits() as u64, false),
        };
        self.fconst(f64, XSCRATCH, bound_bits);
        self.asm.ucomi(f64, src, XSCRATCH);
        self.asm
            .jcc(if strict { Cond::LeU } else { Cond::LtU }, ovf);
        self.fconst(f64, XSCRATCH, 0);
        self.asm.ucomi(f64, src, XSCRATCH);
        self.asm.jcc(Cond::GtU, ovf);
        self.asm.jmp(back);
        self.asm.bind(over);
    }

    /// Wasm's trapping float → unsigned 32-bit truncation, inline: the
    /// 64-bit signed conversion is exact for every value that fits in
    /// `0..2^32`, so any bit above the low 32 (a negative result, one of
    /// 2^32 or more, or the "indefinite" value of NaN and huge inputs) means
    /// a trap: `nan` when the input is NaN, `ovf` otherwise.
    pub fn wasm_trunc_u32(
        &mut self,
        f64: bool,
        dst: Gpr,
        src: Xmm,
        nan: DynamicLabel,
        ovf: DynamicLabel,
    ) {
        self.asm.cvtt_float_to_int(f64, true, dst, src);
        self.asm.mov_rr(true, SCRATCH, dst);
        self.asm.shift_imm(Shift::ShrU, true, SCRATCH, 32);
        let slow = self.new_label();
        let over = self.new_label();
        self.asm.jcc(Cond::Ne, slow);
        self.asm.jmp(over);
        self.asm.bind(slow);
        self.asm.ucomi(f64, src, src);
        self.asm.jcc(Cond::Parity, nan);
        self.asm.jmp(ovf);
        self.asm.bind(over);
    }

    pub fn ud2(&mut self) {
        self.asm.ud2()
    }

    // ---- linear memory ------------------------------------------------------

    /// Load from `[MEM_BASE + addr + disp]` into a GPR.
    pub fn wasm_load(&mut self, kind: Load, w: bool, dst: Gpr, addr: Gpr, disp: i32) {
        self.asm.load_heap(kind, w, dst, MEM_BASE, addr, disp)
    }

    pub fn wasm_load_float(&mut self, f64: bool, dst: Xmm, addr: Gpr, disp: i32) {
        self.asm.load_heap_float(f64, dst, MEM_BASE, addr, disp)
    }

    /// Store the low `bytes` of a GPR to `[MEM_BASE + addr + disp]`.
    pub fn wasm_store(&mut self, bytes: u8, src: Gpr, addr: Gpr, disp: i32) {
        self.asm.store_heap(bytes, src, MEM_BASE, addr, disp)
    }

    pub fn wasm_store_imm(&mut self, bytes: u8, imm: i32, addr: Gpr, disp: i32) {
        self.asm.store_heap_imm(bytes, imm, MEM_BASE, addr, disp)
    }

    pub fn wasm_store_float(&mut self, f64: bool, src: Xmm, addr: Gpr, disp: i32) {
        self.asm.store_heap_float(f64, src, MEM_BASE, addr, disp)
    }

    /// `addr += offset` for a memory offset that does not fit a displacement.
    pub fn add_offset64(&mut self, addr: Gpr, offset: i64) {
        self.asm.mov_imm(true, SCRATCH, offset);
        self.asm.alu(Alu::Add, true, addr, Src::Reg(SCRATCH));
    }

    /// `dst = memory.size` (in pages) of memory 0.
    pub fn memory_size(&mut self, dst: Gpr) {
        use crate::vm::layout::{MEMORY_LENGTH, VMCTX_MEMORY};
        self.asm.load(true, dst, VMCTX, VMCTX_MEMORY);
        self.asm.load(true, dst, dst, MEMORY_LENGTH);
        self.asm.shift_imm(Shift::ShrU, true, dst, 16);
    }

    // ---- globals, tables, function references ---------------------------------

    /// The scratch register points at global `g`'s value.
    fn global_ptr(&mut self, g: u32) {
        self.asm
            .load(true, SCRATCH, VMCTX, crate::vm::layout::VMCTX_GLOBALS);
        self.asm.load(true, SCRATCH, SCRATCH, 8 * g as i32);
    }

    pub fn global_get(&mut self, w: bool, dst: Gpr, g: u32) {
        self.global_ptr(g);
        self.asm.load(w, dst, SCRATCH, 0);
    }

    pub fn global_set(&mut self, w: bool, g: u32, src: Gpr) {
        self.global_ptr(g);
        self.asm.store(w, SCRATCH, 0, src);
    }

    /// `dst` = the vmctx's pointer to table `table`.
    pub fn load_table_ptr(&mut self, dst: Gpr, table: u32) {
        self.asm
            .load(true, dst, VMCTX, crate::vm::layout::VMCTX_TABLES);
        self.asm.load(true, dst, dst, 8 * table as i32);
    }

    pub fn table_size(&mut self, dst: Gpr, table: u32) {
        self.load_table_ptr(dst, table);
        self.asm
            .load(false, dst, dst, crate::vm::layout::TABLE_LENGTH);
    }

    /// `r = min(r, u32::MAX)` (unsigned, 64-bit), leaving a u32; uses the
    /// scratch register.
    pub fn saturate_u32(&mut self, r: Gpr) {
        let done = self.new_label();
        self.asm.mov_rr(true, SCRATCH, r);
        self.asm.shift_imm(Shift::ShrU, true, SCRATCH, 32);
        self.asm.jcc(Cond::Eq, done);
        self.asm.mov_imm(false, r, u32::MAX as i64);
        self.bind(done);
    }

    /// The scratch register points at table `table`'s elements, after
    /// jumping to `oob` unless `index` is in bounds.
    fn table_elements(&mut self, index: Gpr, table: u32, oob: DynamicLabel) {
        use crate::vm::layout::{TABLE_ELEMENTS, TABLE_LENGTH};
        self.load_table_ptr(SCRATCH, table);
        self.asm
            .alu(Alu::Cmp, true, index, Src::Mem(SCRATCH, TABLE_LENGTH));
        self.asm.jcc(Cond::GeU, oob);
        self.asm.load(true, SCRATCH, SCRATCH, TABLE_ELEMENTS);
    }

    /// `index = table[index]`, trapping to `oob`.
    pub fn table_get(&mut self, index: Gpr, table: u32, oob: DynamicLabel) {
        self.table_elements(index, table, oob);
        self.asm.load_indexed8(index, SCRATCH, index);
    }

    /// `table[index] = src`, trapping to `oob`.
    pub fn table_set(&mut self, index: Gpr, src: Gpr, table: u32, oob: DynamicLabel) {
        self.table_elements(index, table, oob);
        self.asm.store_indexed8(SCRATCH, index, src);
    }

    /// `dst` = the VMFuncRef of function `f`.
    pub fn ref_func(&mut self, dst: Gpr, f: u32) {
        self.asm
            .load(true, dst, VMCTX, crate::vm::layout::VMCTX_FUNCREFS);
        self.asm.load(true, dst, dst, 8 * f as i32);
    }

    // ---- floats -----------------------------------------------------------

    pub fn fmov(&mut self, dst: Xmm, src: Xmm) {
        self.asm.fmov(dst, src)
    }

    /// Loads raw float bits into an xmm register.
    pub fn fconst(&mut self, f64: bool, dst: Xmm, bits: u64) {
        if bits == 0 {
            self.asm.xorps(dst, dst);
        } else if f64 {
            self.asm.mov_imm64(SCRATCH, bits as i64);
            self.asm.movq_to_xmm(true, dst, SCRATCH);
        } else {
            self.asm.mov_imm(false, SCRATCH, bits as i32 as i64);
            self.asm.movq_to_xmm(false, dst, SCRATCH);
        }
    }

    pub fn fbin(&mut self, op: FBin, f64: bool, dst: Xmm, src: Xmm) {
        self.asm.fbin(op, f64, dst, src)
    }

    pub fn fbin_mem(&mut self, op: FBin, f64: bool, dst: Xmm, base: Gpr, disp: i32) {
        self.asm.fbin_mem(op, f64, dst, base, disp)
    }

    /// Wasm `min`/`max` with NaN propagation and -0 < +0.
    pub fn fminmax(&mut self, max: bool, f64: bool, dst: Xmm, src: Xmm) {
        let nan = self.new_label();
        let equal = self.new_label();
        let done = self.new_label();
        let a = &mut self.asm;
        a.ucomi(f64, dst, src);
        a.jcc(Cond::Parity, nan);
        a.jcc(Cond::Eq, equal);
        a.sse_minmax(max, f64, dst, src);
        a.jmp(done);
        a.bind(equal);
        // Equal: only ±0 differ; min ORs the sign bits, max ANDs them.
        if max {
            a.andps(dst, src);
        } else {
            a.orps(dst, src);
        }
        a.jmp(done);
        a.bind(nan);
        a.fbin(FBin::Add, f64, dst, src);
        a.bind(done);
    }

    pub fn ucomi(&mut self, f64: bool, a: Xmm, b: Xmm) {
        self.asm.ucomi(f64, a, b)
    }

    pub fn sqrt(&mut self, f64: bool, dst: Xmm) {
        self.asm.sqrt(f64, dst)
    }

    /// Rounding with mode 0 nearest, 1 floor, 2 ceil, 3 trunc.
    pub fn round(&mut self, f64: bool, dst: Xmm, mode: i8) {
        self.asm.round(f64, dst, mode)
    }

    /// Moves raw bits between xmm and gpr.
    pub fn movq_to_gpr(&mut self, f64: bool, dst: Gpr, src: Xmm) {
        self.asm.movq_to_gpr(f64, dst, src)
    }

    pub fn movq_to_xmm(&mut self, f64: bool, dst: Xmm, src: Gpr) {
        self.asm.movq_to_xmm(f64, dst, src)
    }

    /// abs (kind 0) / neg (1) / copysign (2) on the bits, in the scratch
    /// register and `tmp`.
    pub fn fsign_op(&mut self, kind: u8, f64: bool, dst: Xmm, src2: Option<(Xmm, Gpr)>) {
        let a = &mut self.asm;
        a.movq_to_gpr(f64, SCRATCH, dst);
        let bit: i8 = if f64 { 63 } else { 31 };
        match kind {
            0 => a.bit_reset_or_complement(false, f64, SCRATCH, bit),
            1 => a.bit_reset_or_complement(true, f64, SCRATCH, bit),
            _ => {
                let (s, tmp) = src2.expect("copysign needs a second operand");
                a.movq_to_gpr(f64, tmp, s);
                a.bit_reset_or_complement(false, f64, SCRATCH, bit);
                if f64 {
                    a.shift_imm(Shift::ShrU, true, tmp, bit as u8);
                    a.shift_imm(Shift::Shl, true, tmp, bit as u8);
                    a.alu(Alu::Or, true, SCRATCH, Src::Reg(tmp));
                } else {
                    a.alu(Alu::And, false, tmp, Src::Imm(i32::MIN));
                    a.alu(Alu::Or, false, SCRATCH, Src::Reg(tmp));
                }
            }
        }
        a.movq_to_xmm(f64, dst, SCRATCH);
    }

    /// Signed integer → float conversion (`w`: source is 64-bit).
    pub fn cvt_int_to_float(&mut self, f64: bool, w: bool, dst: Xmm, src: Gpr) {
        self.asm.cvt_int_to_float(f64, w, dst, src)
    }

    /// u64 → float: uses `tmp` and scratch.
    pub fn cvt_u64_to_float(&mut self, f64: bool, dst: Xmm, src: Gpr, tmp: Gpr) {
        let big = self.new_label();
        let done = self.new_label();
        let a = &mut self.asm;
        a.test_rr(true, src, src);
        a.js(big);
        a.cvt_int_to_float(f64, true, dst, src);
        a.jmp(done);
        a.bind(big);
        // Halve with the low bit kept sticky, convert, double.
        a.mov_rr(true, tmp, src);
        a.shr1(tmp);
        a.mov_rr(true, SCRATCH, src);
        a.and_one(SCRATCH);
        a.alu(Alu::Or, true, tmp, Src::Reg(SCRATCH));
        a.cvt_int_to_float(f64, true, dst, tmp);
        a.fbin(FBin::Add, f64, dst, dst);
        a.bind(done);
    }

    pub fn cvt_float(&mut self, to_f64: bool, dst: Xmm) {
        self.asm.cvt_float(to_f64, dst)
    }

    // ---- calls ------------------------------------------------------------

    /// `call [base + disp]`
    pub fn call_mem(&mut self, base: Gpr, disp: i32) {
        self.asm.call_mem(base, disp)
    }

    /// `jmp reg`
    pub fn jmp_reg(&mut self, r: Gpr) {
        self.asm.jmp_reg(r)
    }

    /// For a tail call: `rsp = min(rbp + disp, rsp) - size` (through r10),
    /// a staging area below both the frame and `[rbp + disp]`.
    pub fn tail_staging(&mut self, disp: i32, size: i32) {
        self.asm.tail_staging(disp, size)
    }

    pub fn call_label(&mut self, l: DynamicLabel) {
        self.asm.call_label(l)
    }

    pub fn ret(&mut self) {
        self.asm.ret()
    }

    pub fn push_imm(&mut self, v: i32) {
        self.asm.push_imm(v)
    }

    /// Counts a call of the function whose counter is at `disp` in the
    /// vmctx's call-count array.
    pub fn count_call(&mut self, disp: i32) {
        self.asm.load_r15(SCRATCH, crate::vm::layout::VMCTX_CALLS);
        self.asm.inc_mem64_r11(disp);
    }

    /// Charges the tier-up budget at `disp` in the vmctx's budget array and
    /// jumps to `slow` when it runs out. Returns the offset of the 32-bit
    /// cost immediate so a loop can patch in its size once its end is known.
    pub fn budget_charge(&mut self, disp: i32, cost: i32, slow: DynamicLabel) -> u32 {
        self.asm.load_r15(SCRATCH, crate::vm::layout::VMCTX_BUDGETS);
        let at = self.asm.sub_mem32_imm32_patchable(SCRATCH, disp, cost);
        self.asm.js(slow);
        at
    }

    /// The stack/interrupt check: jumps to `slow` when rsp is below the
    /// limit the vmctx's limits pointer (at `limits_disp`) points to.
    pub fn stack_check(&mut self, limits_disp: i32, slow: DynamicLabel) {
        self.asm.load_r15(SCRATCH, limits_disp);
        self.asm.cmp_rsp_r11();
        self.asm.jcc(Cond::LtU, slow);
    }

    /// Compares rsp with `[scratch + disp]` (the scratch register already
    /// holds the limits pointer).
    pub fn cmp_rsp_scratch_mem(&mut self, disp: i32) {
        self.asm.cmp_rsp_r11_disp(disp)
    }

    /// `cmp dword [base + disp], imm`
    pub fn cmp_mem32_imm(&mut self, base: Gpr, disp: i32, imm: i32) {
        self.asm.cmp_mem32_imm(base, disp, imm)
    }

    /// `dst = [base + index*8]`
    pub fn load_indexed8(&mut self, dst: Gpr, base: Gpr, index: Gpr) {
        self.asm.load_indexed8(dst, base, index)
    }

    /// Emits a jump table dispatch on `index` (already bounds-checked): each
    /// entry is an 8-byte `jmp rel32` + padding.
    pub fn jump_table(&mut self, index: Gpr, targets: &[DynamicLabel]) -> bool {
        let table = self.new_label();
        let a = &mut self.asm;
        a.lea_label(SCRATCH, table);
        a.lea_r11_indexed8(SCRATCH, index);
        a.jmp_reg(SCRATCH);
        a.align(8);
        a.bind(table);
        for &t in targets {
            let before = a.offset();
            a.jmp(t);
            let len = a.offset() - before;
            if len > 8 {
                return false;
            }
            for _ in len..8 {
                a.int3();
            }
        }
        true
    }

    // ---- debugging ----------------------------------------------------------

    /// The debug check of a position where a compare's result is still in the
    /// flags: tests the debug byte at `[vmctx + disp]` without touching the
    /// flags (rcx waits in the scratch register meanwhile) and jumps to `slow`
    /// when it is set.
    pub fn debug_check_keep_flags(&mut self, disp: i32, slow: DynamicLabel) {
        let clear = self.new_label();
        let a = &mut self.asm;
        a.mov_rr(true, SCRATCH, RCX);
        a.load_u8(RCX, VMCTX, disp);
        a.jrcxz(clear);
        a.mov_rr(true, RCX, SCRATCH);
        a.jmp(slow);
        a.bind(clear);
        a.mov_rr(true, RCX, SCRATCH);
    }

    /// `DEBUG_FLAG = vmctx.debug_flags[func]` (`disp` = its vmctx offset): debug code
    /// tests this register at every instruction. It is reloaded at entry,
    /// after every call, and refreshed by the runtime in the register save
    /// area whenever the debug hook or the interrupt check's slow path runs.
    pub fn load_debug_flag(&mut self, disp: i32) {
        self.asm.load_u8(DEBUG_FLAG, VMCTX, disp);
    }

    /// The per-instruction test of debug code: jumps to `slow` when the
    /// debug byte is set.
    pub fn debug_check(&mut self, slow: DynamicLabel) {
        self.asm.test_rr(false, DEBUG_FLAG, DEBUG_FLAG);
        self.asm.jcc(Cond::Ne, slow);
    }

    /// Saves the flags in a 16-byte slot (keeps the stack aligned).
    pub fn push_flags(&mut self) {
        self.asm.lea8(RSP, RSP, -8);
        self.asm.pushfq();
    }

    pub fn pop_flags(&mut self) {
        self.asm.popfq();
        self.asm.lea8(RSP, RSP, 8);
    }

    /// Saves every GPR and XMM register into a save area on the stack
    /// (layout: see `layout::DEBUG_REGS_SIZE`); leaves rsp pointing at it.
    /// Paired with `restore_all_regs`.
    pub fn save_all_regs(&mut self) {
        let a = &mut self.asm;
        a.sub_rsp(crate::vm::layout::DEBUG_REGS_SIZE);
        for r in 0..16u8 {
            if r == RSP {
                continue;
            }
            a.store(true, RSP, r as i32 * 8, r);
        }
        for x in 0..16u8 {
            a.store_xmm128(RSP, 128 + x as i32 * 16, x);
        }
    }

    pub fn restore_all_regs(&mut self) {
        let a = &mut self.asm;
        for x in 0..16u8 {
            a.load_xmm128(x, RSP, 128 + x as i32 * 16);
        }
        for r in 0..16u8 {
            if r == RSP {
                continue;
            }
            a.load(true, r, RSP, r as i32 * 8);
        }
        a.add_rsp(crate::vm::layout::DEBUG_REGS_SIZE);
    }
}
