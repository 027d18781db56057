//! The baseline compiler's virtual operand stack and register allocator.
//!
//! Each operand-stack entry lives in a register, in its home frame slot, is a
//! constant not yet materialised, or is a lazy reference to a local. Every
//! depth has a fixed home slot, so control-flow merges only need everything
//! in its home slot. Registers come from `regalloc.rs`; when a class runs
//! out, the stack first drops a register of the local cache (`cache.rs`),
//! then spills its deepest register-held entry of that class.

use super::cache::{CacheState, Cached, Freed, LocalCache};
use super::masm::{Gpr, Masm, Xmm, R8, R9, RBP, RCX, RDI, RDX, RSI};
use super::regalloc::RegAlloc;
use crate::code::ValueLoc;
use crate::types::ValType;

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
    regs: RegAlloc,
    /// Frame offset of each local's slot (8 bytes; 16 for a v128, which
    /// lies at `[slot, slot + 16)`).
    local_slots: Vec<i32>,
    /// Frame offset of the home slot of depth 0.
    homes_base: i32,
    /// Locals whose value a register or a constant also holds.
    cache: LocalCache,
    /// Bytes between the home slots of consecutive depths: 16 when the
    /// function may hold a v128 on its operand stack, else 8.
    home_stride: i32,
}

/// The frame offsets `spill_entry` needs (homes, their stride, locals).
#[derive(Clone, Copy)]
struct Slots<'a> {
    homes_base: i32,
    home_stride: i32,
    local_slots: &'a [i32],
}

/// Moves entry `i` to its home slot (`homes_base - 8 i`). Uses only `mov`
/// (flags survive). A free function so the allocator's spill callback can
/// call it while the allocator itself is borrowed.
fn spill_entry(
    entries: &mut [Entry],
    unchanged: &mut usize,
    slots: Slots<'_>,
    regs: &mut RegAlloc,
    cache: &LocalCache,
    masm: &mut Masm,
    i: usize,
) {
    let e = entries[i];
    let home = slots.homes_base - slots.home_stride * i as i32;
    let w = e.ty.is_64bit();
    match e.loc {
        Loc::Stack => return,
        Loc::Flags(_) => unreachable!("flags are materialised before anything can spill them"),
        Loc::Gpr(r) => {
            masm.store(w, RBP, home, r);
            regs.free_gpr(r);
        }
        Loc::Xmm(x) => {
            masm.xstore(e.ty, RBP, home, x);
            regs.free_xmm(x);
        }
        Loc::Const(c) => masm.store_imm(w, RBP, home, c as i64),
        Loc::Local(l) => match cache.get(l) {
            Cached::Gpr(r) => masm.store(w, RBP, home, r),
            Cached::Xmm(x) => masm.xstore(e.ty, RBP, home, x),
            Cached::Const(c) => masm.store_imm(w, RBP, home, c as i64),
            Cached::None => masm.copy_value(e.ty, RBP, home, RBP, slots.local_slots[l as usize]),
        },
    }
    *unchanged = (*unchanged).min(i);
    entries[i].loc = Loc::Stack;
}

impl ValueStack {
    /// The stack of a function with these locals (parameters first); `wide`:
    /// its operand stack may hold v128 values (16-byte home slots).
    /// `debug`: the local cache works as debug code needs (see `cache.rs`).
    pub fn new(locals: &[ValType], wide: bool, debug: bool) -> ValueStack {
        // Locals start below the saved registers, the results pointer and
        // the saved r13 (`[rbp - 32]`); a v128 takes a 16-aligned pair.
        let mut top = -32;
        let local_slots = locals
            .iter()
            .map(|t| {
                top -= 8 * t.words() as i32;
                if t.is_v128() {
                    top &= !15;
                }
                top
            })
            .collect();
        let home_stride = if wide { 16 } else { 8 };
        if wide {
            top &= !15;
        }
        ValueStack {
            entries: Vec::with_capacity(32),
            unchanged: 0,
            max_depth: 0,
            regs: RegAlloc::default(),
            local_slots,
            homes_base: top - home_stride,
            home_stride,
            cache: LocalCache::new(locals.len(), debug),
        }
    }

    pub fn local_slot(&self, i: u32) -> i32 {
        self.local_slots[i as usize]
    }

    pub fn home(&self, depth: usize) -> i32 {
        self.homes_base - self.home_stride * depth as i32
    }

    /// Bytes of the frame below `rbp` the locals and the home slots of
    /// `max_depth` operands take (saved registers included), 16-aligned.
    pub fn frame_bytes(&self) -> usize {
        let low = self.homes_base - self.home_stride * (self.max_depth as i32 - 1);
        (-low.min(-32) as usize).next_multiple_of(16) - 16
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

    pub fn claim_gpr(&mut self, r: Gpr) {
        self.regs.claim_gpr(r);
    }

    /// Releases `r`: frees it, or unpins it if the local cache holds it
    /// (a read-only use from `use_gpr`).
    pub fn free_gpr(&mut self, r: Gpr) {
        if self.cache.owns(r) {
            self.cache.unpin(r);
        } else {
            self.regs.free_gpr(r);
        }
    }

    /// Releases `x`: frees it, or unpins it if the local cache holds it.
    pub fn free_xmm(&mut self, x: Xmm) {
        if self.cache.owns_xmm(x) {
            self.cache.unpin_xmm(x);
        } else {
            self.regs.free_xmm(x);
        }
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

    /// Allocates a GPR not in `avoid` (bit mask), spilling the deepest entry
    /// held in an acceptable GPR while none is free.
    pub fn alloc_gpr_except(&mut self, masm: &mut Masm, avoid: u16) -> Gpr {
        let ValueStack {
            entries,
            unchanged,
            regs,
            homes_base,
            home_stride,
            local_slots,
            cache,
            ..
        } = self;
        let bases = Slots {
            homes_base: *homes_base,
            home_stride: *home_stride,
            local_slots,
        };
        regs.alloc_gpr(avoid, &mut |regs, avoid| {
            // Dropping a cached local costs no code (its slot is right).
            if let Some(r) = cache.victim(avoid) {
                cache.evict(r);
                regs.free_gpr(r);
                return;
            }
            let victim = entries
                .iter()
                .position(|e| matches!(e.loc, Loc::Gpr(r) if avoid & (1 << r) == 0))
                .expect("register allocator: nothing to spill");
            spill_entry(entries, unchanged, bases, regs, cache, masm, victim);
        })
    }

    /// Allocates an xmm register, spilling the deepest xmm-held entry while
    /// none is free.
    pub fn alloc_xmm(&mut self, masm: &mut Masm) -> Xmm {
        let ValueStack {
            entries,
            unchanged,
            regs,
            homes_base,
            home_stride,
            local_slots,
            cache,
            ..
        } = self;
        let bases = Slots {
            homes_base: *homes_base,
            home_stride: *home_stride,
            local_slots,
        };
        regs.alloc_xmm(&mut |regs| {
            // Dropping a cached local costs no code (its slot is right).
            if let Some(x) = cache.xvictim() {
                cache.evict_xmm(x);
                regs.free_xmm(x);
                return;
            }
            let victim = entries
                .iter()
                .position(|e| matches!(e.loc, Loc::Xmm(_)))
                .expect("register allocator: nothing to spill");
            spill_entry(entries, unchanged, bases, regs, cache, masm, victim);
        })
    }

    pub fn alloc_xmm_specific(&mut self, x: Xmm) {
        self.regs.claim_xmm(x);
    }

    /// After `local.set l` stored the f32/f64 in `x` (which the caller
    /// owns): the cache takes `x` over. False when it does not (debug
    /// code): the caller still owns `x`.
    pub fn cache_xmm(&mut self, l: u32, x: Xmm) -> bool {
        self.cache.set_xmm(l, x)
    }

    /// Makes sure no stack entry or cached local holds `r` (spilling it)
    /// and claims nothing.
    pub fn evict_gpr(&mut self, masm: &mut Masm, r: Gpr) {
        if self.cache.evict(r) {
            self.regs.free_gpr(r);
        }
        if let Some(i) = self.entries.iter().position(|e| e.loc == Loc::Gpr(r)) {
            self.spill(masm, i);
        }
    }

    // ---- spilling -------------------------------------------------------------

    /// Moves entry `i` to its home slot. Uses only `mov` (flags survive).
    pub fn spill(&mut self, masm: &mut Masm, i: usize) {
        let slots = Slots {
            homes_base: self.homes_base,
            home_stride: self.home_stride,
            local_slots: &self.local_slots,
        };
        spill_entry(
            &mut self.entries,
            &mut self.unchanged,
            slots,
            &mut self.regs,
            &self.cache,
            masm,
            i,
        );
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
        if let Loc::Local(l) = p.loc {
            if let Cached::Gpr(c) = self.cache.get(l) {
                // Copy out of the cache (the caller may overwrite its register).
                self.cache.pin(c);
                let r = self.alloc_gpr(masm);
                self.cache.unpin(c);
                masm.mov_rr(p.ty.is_64bit(), r, c);
                return r;
            }
        }
        let r = self.alloc_gpr(masm);
        self.load_gpr(masm, p, r);
        r
    }

    /// Brings a popped value into a GPR for reading only; release it with
    /// `free_gpr`. A local comes from (or goes into) the local cache.
    pub fn use_gpr(&mut self, masm: &mut Masm, p: Popped) -> Gpr {
        let Loc::Local(l) = p.loc else {
            return self.in_gpr(masm, p);
        };
        match self.cache.get(l) {
            Cached::Gpr(c) => {
                self.cache.pin(c);
                c
            }
            Cached::Const(_) | Cached::Xmm(_) => self.in_gpr(masm, p),
            Cached::None => {
                let r = self.alloc_gpr(masm);
                self.load_gpr(masm, p, r);
                if self.cache.set_reg(l, r) {
                    self.cache.pin(r);
                }
                r
            }
        }
    }

    /// Whether `r` is the local cache's (read-only for the operator).
    pub fn is_cache_reg(&self, r: Gpr) -> bool {
        self.cache.owns(r)
    }

    /// The local cache's version (it changes whenever the cache does).
    pub fn cache_version(&self) -> u32 {
        self.cache.version()
    }

    /// Calls `f` with each register the local cache holds and a local it holds.
    pub fn for_each_cache_reload(&self, f: impl FnMut(Gpr, u32)) {
        self.cache.for_each_reload(f)
    }

    /// What the local cache knows about local `l`.
    pub fn cached(&self, l: u32) -> Cached {
        self.cache.get(l)
    }

    /// Local `l` is about to be overwritten: the cache forgets it.
    pub fn cache_forget(&mut self, l: u32) {
        match self.cache.forget(l) {
            Some(Freed::Gpr(r)) => self.regs.free_gpr(r),
            Some(Freed::Xmm(x)) => self.regs.free_xmm(x),
            None => {}
        }
    }

    /// After `local.set l` stored `r` (which the caller owns): the cache
    /// takes `r` over as local `l`'s. False when it does not (debug code):
    /// the caller still owns `r`.
    pub fn cache_gpr(&mut self, l: u32, r: Gpr) -> bool {
        self.cache.set_reg(l, r)
    }

    /// After `local.set l` of a local that the cache holds in `r`.
    pub fn cache_share(&mut self, l: u32, r: Gpr) {
        self.cache.set_reg(l, r);
    }

    /// After `local.set l` stored the constant `c`.
    pub fn cache_const(&mut self, l: u32, c: u64) {
        self.cache.set_const(l, c);
    }

    /// The operator is done: nothing it used stays pinned.
    pub fn unpin_all(&mut self) {
        self.cache.unpin_all();
    }

    /// Registers are about to be clobbered (calls): the cache forgets all.
    pub fn drop_cache(&mut self) {
        let (owned, xowned) = self.cache.clear();
        for r in 0..16u8 {
            if owned & (1 << r) != 0 {
                self.regs.free_gpr(r);
            }
            if xowned & (1 << r) != 0 {
                self.regs.free_xmm(r);
            }
        }
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
            Loc::Local(l) => match self.cache.get(l) {
                Cached::Gpr(c) => masm.mov_rr(w, r, c),
                Cached::Const(c) => masm.mov_imm(w, r, c as i64),
                Cached::None | Cached::Xmm(_) => masm.load(w, r, RBP, self.local_slot(l)),
            },
        }
    }

    pub fn in_xmm(&mut self, masm: &mut Masm, p: Popped) -> Xmm {
        if let Loc::Xmm(x) = p.loc {
            return x;
        }
        if let Loc::Local(l) = p.loc {
            if let Cached::Xmm(c) = self.cache.get(l) {
                // Copy out of the cache (the caller may overwrite its register).
                self.cache.pin_xmm(c);
                let x = self.alloc_xmm(masm);
                self.cache.unpin_xmm(c);
                masm.fmov(x, c);
                return x;
            }
        }
        let x = self.alloc_xmm(masm);
        self.load_xmm(masm, p, x);
        x
    }

    /// The xmm register the local cache holds local `l` in, pinned for the
    /// current operator (read it only; release it with `free_xmm`).
    pub fn cached_xmm(&mut self, l: u32) -> Option<Xmm> {
        let Cached::Xmm(x) = self.cache.get(l) else {
            return None;
        };
        self.cache.pin_xmm(x);
        Some(x)
    }

    pub fn load_xmm(&mut self, masm: &mut Masm, p: Popped, x: Xmm) {
        let f64 = p.ty == ValType::F64;
        match p.loc {
            Loc::Xmm(s) => masm.fmov(x, s),
            Loc::Gpr(_) | Loc::Flags(_) => unreachable!("float value in a general register"),
            Loc::Const(c) => masm.fconst(f64, x, c),
            Loc::Stack => masm.xload(p.ty, x, RBP, self.home(p.depth)),
            Loc::Local(l) => match self.cache.get(l) {
                Cached::Xmm(c) => masm.fmov(x, c),
                _ => masm.xload(p.ty, x, RBP, self.local_slot(l)),
            },
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

    /// What the local cache knows now: what a branch carries to its target.
    pub fn cache_state(&self) -> CacheState {
        self.cache.state()
    }

    /// At a merge point, right after `reset_regs`: the local cache starts
    /// from what every incoming edge agrees on.
    pub fn restore_cache(&mut self, state: &[(u32, Cached)]) {
        let owned = self.cache.restore(state);
        for r in 0..16u8 {
            if owned & (1 << r) != 0 {
                self.regs.claim_gpr(r);
            }
        }
    }

    /// Resets the register file: everything is free (entries must all be on the stack).
    pub fn reset_regs(&mut self) {
        self.cache.clear();
        self.regs.reset();
    }
}

pub const ARG_GPRS: [Gpr; 6] = [RDI, RSI, RDX, RCX, R8, R9];
