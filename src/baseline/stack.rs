//! The baseline compiler's virtual operand stack and register allocator.
//!
//! Each operand-stack entry lives in a register, in its home frame slot, is a
//! constant not yet materialised, or is a lazy reference to a local. Every
//! depth has a fixed home slot, so control-flow merges only need everything
//! in its home slot. The allocator is a free bitset per register class; when
//! it runs out it spills the deepest register-held entry.

use super::masm::{Gpr, Masm, Xmm, R10, R8, R9, RAX, RBP, RCX, RDI, RDX, RSI};
use crate::code::ValueLoc;
use crate::types::ValType;

/// Allocatable general-purpose registers (all caller-saved; r11 is scratch).
pub const ALLOCATABLE_GPRS: [Gpr; 8] = [RAX, RCX, RDX, RSI, RDI, R8, R9, R10];
/// Allocatable xmm registers (xmm15 is scratch).
pub const ALLOCATABLE_XMMS: u16 = 0x7fff;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loc {
    Gpr(Gpr),
    Xmm(Xmm),
    /// In its home slot.
    Stack,
    /// Raw bits of a constant.
    Const(u64),
    /// A lazy `local.get`.
    Local(u32),
    /// An i32 boolean still in the CPU flags: only ever the top entry, right
    /// after the compare that made it, so the next `if`/`br_if` can branch on
    /// the flags directly. Any other operator materialises it first.
    Flags(super::masm::Cond),
}

#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub ty: ValType,
    pub loc: Loc,
}

/// A value taken off the stack: remembers its depth (for its home slot).
#[derive(Debug, Clone, Copy)]
pub struct Popped {
    pub ty: ValType,
    pub loc: Loc,
    pub depth: usize,
}

pub struct ValueStack {
    /// The entries, bottom first. Change them only through the methods here:
    /// they keep `unchanged` (the debug side table relies on it).
    pub entries: Vec<Entry>,
    /// Entries below this depth are unchanged since the last `take_unchanged`.
    unchanged: usize,
    pub max_depth: usize,
    gpr_free: u16,
    xmm_free: u16,
    /// Frame offset of local 0; local i is at `locals_base - 8 i`.
    locals_base: i32,
    /// Frame offset of the home slot of depth 0.
    homes_base: i32,
}

fn gpr_mask() -> u16 {
    ALLOCATABLE_GPRS.iter().fold(0u16, |m, &r| m | (1 << r))
}

impl ValueStack {
    pub fn new(num_locals: usize) -> ValueStack {
        ValueStack {
            entries: Vec::with_capacity(32),
            unchanged: 0,
            max_depth: 0,
            gpr_free: gpr_mask(),
            xmm_free: ALLOCATABLE_XMMS,
            locals_base: -40,
            homes_base: -40 - 8 * num_locals as i32,
        }
    }

    pub fn local_slot(&self, i: u32) -> i32 {
        self.locals_base - 8 * i as i32
    }

    pub fn home(&self, depth: usize) -> i32 {
        self.homes_base - 8 * depth as i32
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// The depth below which no entry changed since the last call, and
    /// starts counting again from the current depth.
    pub fn take_unchanged(&mut self) -> usize {
        std::mem::replace(&mut self.unchanged, self.entries.len())
    }

    /// Entry `i` is about to change.
    fn touch(&mut self, i: usize) {
        self.unchanged = self.unchanged.min(i);
    }

    /// Moves entry `i` to `loc`.
    pub fn set_loc(&mut self, i: usize, loc: Loc) {
        self.touch(i);
        self.entries[i].loc = loc;
    }

    pub fn push(&mut self, ty: ValType, loc: Loc) {
        self.touch(self.entries.len());
        self.entries.push(Entry { ty, loc });
        if self.entries.len() > self.max_depth {
            self.max_depth = self.entries.len();
        }
    }

    pub fn pop(&mut self) -> Popped {
        let e = self
            .entries
            .pop()
            .expect("operand stack underflow (validated code)");
        self.touch(self.entries.len());
        Popped {
            ty: e.ty,
            loc: e.loc,
            depth: self.entries.len(),
        }
    }

    // ---- registers ----------------------------------------------------------

    pub fn is_gpr_free(&self, r: Gpr) -> bool {
        self.gpr_free & (1 << r) != 0
    }

    pub fn claim_gpr(&mut self, r: Gpr) {
        debug_assert!(self.is_gpr_free(r));
        self.gpr_free &= !(1 << r);
    }

    pub fn free_gpr(&mut self, r: Gpr) {
        self.gpr_free |= 1 << r;
    }

    pub fn free_xmm(&mut self, x: Xmm) {
        self.xmm_free |= 1 << x;
    }

    pub fn free_loc(&mut self, loc: Loc) {
        match loc {
            Loc::Gpr(r) => self.free_gpr(r),
            Loc::Xmm(x) => self.free_xmm(x),
            _ => {}
        }
    }

    pub fn alloc_gpr(&mut self, masm: &mut Masm) -> Gpr {
        self.alloc_gpr_except(masm, 0)
    }

    /// Allocates a GPR not in `avoid` (bit mask), spilling if needed.
    pub fn alloc_gpr_except(&mut self, masm: &mut Masm, avoid: u16) -> Gpr {
        loop {
            let avail = self.gpr_free & !avoid;
            if avail != 0 {
                // Prefer the order of ALLOCATABLE_GPRS.
                for &r in &ALLOCATABLE_GPRS {
                    if avail & (1 << r) != 0 {
                        self.gpr_free &= !(1 << r);
                        return r;
                    }
                }
            }
            // Spill the deepest entry held in an acceptable GPR.
            let victim = self
                .entries
                .iter()
                .position(|e| matches!(e.loc, Loc::Gpr(r) if avoid & (1 << r) == 0))
                .expect("register allocator: nothing to spill");
            self.spill(masm, victim);
        }
    }

    pub fn alloc_xmm(&mut self, masm: &mut Masm) -> Xmm {
        loop {
            if self.xmm_free != 0 {
                let x = self.xmm_free.trailing_zeros() as Xmm;
                self.xmm_free &= !(1 << x);
                return x;
            }
            let victim = self
                .entries
                .iter()
                .position(|e| matches!(e.loc, Loc::Xmm(_)))
                .expect("register allocator: nothing to spill");
            self.spill(masm, victim);
        }
    }

    pub fn alloc_xmm_specific(&mut self, x: Xmm) {
        debug_assert!(self.xmm_free & (1 << x) != 0);
        self.xmm_free &= !(1 << x);
    }

    /// Makes sure no stack entry holds `r` (spilling it) and claims nothing.
    pub fn evict_gpr(&mut self, masm: &mut Masm, r: Gpr) {
        if let Some(i) = self.entries.iter().position(|e| e.loc == Loc::Gpr(r)) {
            self.spill(masm, i);
        }
    }

    // ---- spilling -------------------------------------------------------------

    /// Moves entry `i` to its home slot. Uses only `mov` (flags survive).
    pub fn spill(&mut self, masm: &mut Masm, i: usize) {
        let e = self.entries[i];
        let home = self.home(i);
        let w = e.ty.is_64bit();
        match e.loc {
            Loc::Stack => return,
            Loc::Flags(_) => unreachable!("flags are materialised before anything can spill them"),
            Loc::Gpr(r) => {
                masm.store(w, RBP, home, r);
                self.free_gpr(r);
            }
            Loc::Xmm(x) => {
                masm.fstore(e.ty == ValType::F64, RBP, home, x);
                self.free_xmm(x);
            }
            Loc::Const(c) => masm.store_imm(w, RBP, home, c as i64),
            Loc::Local(l) => masm.copy_slot(RBP, home, RBP, self.local_slot(l)),
        }
        self.set_loc(i, Loc::Stack);
    }

    pub fn spill_all(&mut self, masm: &mut Masm) {
        for i in 0..self.entries.len() {
            self.spill(masm, i);
        }
    }

    /// Before writing local `l`: entries that lazily refer to it are copied home.
    pub fn detach_local(&mut self, masm: &mut Masm, l: u32) {
        for i in 0..self.entries.len() {
            if self.entries[i].loc == Loc::Local(l) {
                self.spill(masm, i);
            }
        }
    }

    // ---- materialising --------------------------------------------------------

    /// Brings a popped value into a GPR the caller then owns.
    pub fn in_gpr(&mut self, masm: &mut Masm, p: Popped) -> Gpr {
        if let Loc::Gpr(r) = p.loc {
            return r;
        }
        let r = self.alloc_gpr(masm);
        self.load_gpr(masm, p, r);
        r
    }

    /// Loads a popped value into `r` (which the caller already owns).
    pub fn load_gpr(&mut self, masm: &mut Masm, p: Popped, r: Gpr) {
        let w = p.ty.is_64bit();
        match p.loc {
            Loc::Gpr(s) => {
                masm.mov_rr(w, r, s);
            }
            Loc::Xmm(_) => unreachable!("integer value in an xmm register"),
            Loc::Flags(c) => masm.setcc(c, r),
            Loc::Const(c) => masm.mov_imm(w, r, c as i64),
            Loc::Stack => masm.load(w, r, RBP, self.home(p.depth)),
            Loc::Local(l) => masm.load(w, r, RBP, self.local_slot(l)),
        }
    }

    pub fn in_xmm(&mut self, masm: &mut Masm, p: Popped) -> Xmm {
        if let Loc::Xmm(x) = p.loc {
            return x;
        }
        let x = self.alloc_xmm(masm);
        self.load_xmm(masm, p, x);
        x
    }

    pub fn load_xmm(&mut self, masm: &mut Masm, p: Popped, x: Xmm) {
        let f64 = p.ty == ValType::F64;
        match p.loc {
            Loc::Xmm(s) => masm.fmov(x, s),
            Loc::Gpr(_) | Loc::Flags(_) => unreachable!("float value in a general register"),
            Loc::Const(c) => masm.fconst(f64, x, c),
            Loc::Stack => masm.fload(f64, x, RBP, self.home(p.depth)),
            Loc::Local(l) => masm.fload(f64, x, RBP, self.local_slot(l)),
        }
    }

    /// A memory operand for a popped value that is not in a register.
    pub fn mem_of(&self, p: &Popped) -> Option<i32> {
        match p.loc {
            Loc::Stack => Some(self.home(p.depth)),
            Loc::Local(l) => Some(self.local_slot(l)),
            _ => None,
        }
    }

    /// Where entry `i` lives, for the debug side table.
    pub fn value_loc(&self, i: usize) -> (ValType, ValueLoc) {
        let e = self.entries[i];
        let loc = match e.loc {
            Loc::Gpr(r) => ValueLoc::Gpr(r),
            Loc::Xmm(x) => ValueLoc::Xmm(x),
            Loc::Stack => ValueLoc::Frame(self.home(i)),
            Loc::Const(c) => ValueLoc::Const(c),
            Loc::Local(l) => ValueLoc::Frame(self.local_slot(l)),
            Loc::Flags(c) => ValueLoc::Flags(c.x86_code()),
        };
        (e.ty, loc)
    }

    /// Where each entry lives, for the debug side table.
    pub fn snapshot(&self, out: &mut Vec<(ValType, ValueLoc)>) {
        out.extend((0..self.entries.len()).map(|i| self.value_loc(i)));
    }

    /// Resets the register file: everything is free (entries must all be on the stack).
    pub fn reset_regs(&mut self) {
        self.gpr_free = gpr_mask();
        self.xmm_free = ALLOCATABLE_XMMS;
    }
}

pub const ARG_GPRS: [Gpr; 6] = [RDI, RSI, RDX, RCX, R8, R9];
