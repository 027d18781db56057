//! The baseline compiler's local cache: which general registers and
//! constants hold the current value of which locals, within a run of code
//! with no merge point (V8's Liftoff keeps locals in registers the same way).
//!
//! The cache is write-through: every `local.set` still stores to the local's
//! frame slot, so the slots are always right and dropping the cache costs no
//! code. That keeps every contract on frame slots (the checks' records for
//! on-stack replacement, traps, the debug side table) as it was; the cache
//! only saves the loads. `clear` runs at every merge point (loop headers,
//! block ends, `else`) and wherever registers are clobbered (calls).
//!
//! A register the cache holds is claimed in the allocator; one register may
//! hold several locals (`local.get a; local.set b` copies). A read-only use
//! pins the register until it is released, so that allocation during the
//! same operator does not take it away.
//!
//! At a merge point the cache keeps what every incoming edge agrees on: each
//! branch to a block's end records the cache it carries (`state`), the end
//! intersects those with its fall-through (`intersect`) and starts from the
//! result (`restore`). V8's Liftoff likewise keeps locals in registers across
//! block merges. Loop headers still start empty (their back edges come later,
//! and the interrupt check there is where on-stack replacement moves frames).
//!
//! Plain code also keeps f32/f64 locals in xmm registers (`Cached::Xmm`),
//! one local per register, between merge points only.
//!
//! In debug code the debugger may write a local's slot at any breakable
//! position, so there a register holds one local at most and no constant is
//! remembered: after the debug hook returns, the code reloads every cached
//! register from its local's slot (`reloads`).

use super::masm::{Gpr, Xmm};

/// `xlocal` of an xmm register that holds no local.
const NO_LOCAL: u32 = u32::MAX;

/// A register the cache gave up (the caller frees it in the allocator).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freed {
    Gpr(Gpr),
    Xmm(Xmm),
}

/// What the cache knows about one local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cached {
    /// Nothing: read the frame slot.
    None,
    /// The register holds the local's value (an i32 zero-extended).
    Gpr(Gpr),
    /// The local holds this constant (raw bits).
    Const(u64),
    /// The xmm register holds the local's value (an f32 or f64 local; plain
    /// code only, one local per register, dropped at merge points).
    Xmm(Xmm),
}

pub struct LocalCache {
    /// Debug code: one local per register, no constants (see the module doc).
    debug: bool,
    /// Bumped at every change, so that two positions can tell they see the
    /// same cache.
    version: u32,
    locals: Vec<Cached>,
    /// The locals each register holds.
    reg_locals: [Vec<u32>; 16],
    /// Registers the cache holds (claimed in the allocator).
    owned: u16,
    /// Registers in use by the current operator: never evicted.
    pinned: u16,
    /// Last use of each register, to evict the least recently used one.
    used: [u32; 16],
    clock: u32,
    /// Locals that are `Cached::Const` (so `clear` need not scan every local).
    consts: Vec<u32>,
    /// The local each xmm register holds (`NO_LOCAL`: none).
    xlocal: [u32; 16],
    /// Xmm registers the cache holds (claimed in the allocator), those in
    /// use by the current operator, and their last uses.
    xowned: u16,
    xpinned: u16,
    xused: [u32; 16],
}

impl LocalCache {
    pub fn new(num_locals: usize, debug: bool) -> LocalCache {
        LocalCache {
            debug,
            version: 0,
            locals: vec![Cached::None; num_locals],
            reg_locals: Default::default(),
            owned: 0,
            pinned: 0,
            used: [0; 16],
            clock: 0,
            consts: Vec::new(),
            xlocal: [NO_LOCAL; 16],
            xowned: 0,
            xpinned: 0,
            xused: [0; 16],
        }
    }

    pub fn get(&self, l: u32) -> Cached {
        self.locals.get(l as usize).copied().unwrap_or(Cached::None)
    }

    pub fn owns(&self, r: Gpr) -> bool {
        self.owned & (1 << r) != 0
    }

    pub fn pin(&mut self, r: Gpr) {
        self.pinned |= 1 << r;
        self.clock += 1;
        self.used[r as usize] = self.clock;
    }

    pub fn unpin(&mut self, r: Gpr) {
        self.pinned &= !(1 << r);
    }

    pub fn unpin_all(&mut self) {
        self.pinned = 0;
        self.xpinned = 0;
    }

    pub fn owns_xmm(&self, x: Xmm) -> bool {
        self.xowned & (1 << x) != 0
    }

    pub fn pin_xmm(&mut self, x: Xmm) {
        self.xpinned |= 1 << x;
        self.clock += 1;
        self.xused[x as usize] = self.clock;
    }

    pub fn unpin_xmm(&mut self, x: Xmm) {
        self.xpinned &= !(1 << x);
    }

    /// Local `l` (an f32 or f64 local, not cached) now has its value in
    /// `x`, which the caller owned and the cache now holds. False (the
    /// caller keeps `x`) in debug code.
    pub fn set_xmm(&mut self, l: u32, x: Xmm) -> bool {
        if self.debug || self.owns_xmm(x) {
            return false;
        }
        self.version += 1;
        debug_assert_eq!(self.get(l), Cached::None);
        self.locals[l as usize] = Cached::Xmm(x);
        self.xlocal[x as usize] = l;
        self.xowned |= 1 << x;
        self.clock += 1;
        self.xused[x as usize] = self.clock;
        true
    }

    /// Drops the local `x` holds; returns whether the cache held `x` (the
    /// caller frees it).
    pub fn evict_xmm(&mut self, x: Xmm) -> bool {
        if !self.owns_xmm(x) {
            return false;
        }
        self.version += 1;
        let l = std::mem::replace(&mut self.xlocal[x as usize], NO_LOCAL);
        if let Some(c) = self.locals.get_mut(l as usize) {
            *c = Cached::None;
        }
        self.xowned &= !(1 << x);
        self.xpinned &= !(1 << x);
        true
    }

    /// The least recently used xmm register the cache holds, not pinned.
    pub fn xvictim(&self) -> Option<Xmm> {
        let cand = self.xowned & !self.xpinned;
        (0..16u8)
            .filter(|x| cand & (1 << x) != 0)
            .min_by_key(|&x| self.xused[x as usize])
    }

    /// Local `l` is about to be overwritten: forgets its value. Returns a
    /// register the cache no longer needs (the caller frees it).
    pub fn forget(&mut self, l: u32) -> Option<Freed> {
        self.version += 1;
        match self.get(l) {
            Cached::None => None,
            Cached::Xmm(x) => {
                self.locals[l as usize] = Cached::None;
                self.xlocal[x as usize] = NO_LOCAL;
                if self.xpinned & (1 << x) == 0 {
                    self.xowned &= !(1 << x);
                    Some(Freed::Xmm(x))
                } else {
                    None
                }
            }
            Cached::Const(_) => {
                self.locals[l as usize] = Cached::None;
                None
            }
            Cached::Gpr(r) => {
                self.locals[l as usize] = Cached::None;
                let list = &mut self.reg_locals[r as usize];
                if let Some(k) = list.iter().position(|&x| x == l) {
                    list.swap_remove(k);
                }
                if list.is_empty() && self.pinned & (1 << r) == 0 {
                    self.owned &= !(1 << r);
                    Some(Freed::Gpr(r))
                } else {
                    None
                }
            }
        }
    }

    /// Local `l` (not cached: `forget` it first) now has its value in `r`,
    /// which the cache then holds. The caller transfers its ownership of
    /// `r` (or `r` already is the cache's). False when debug code would
    /// share `r` between locals: the caller keeps `r`.
    pub fn set_reg(&mut self, l: u32, r: Gpr) -> bool {
        if self.debug && !self.reg_locals[r as usize].is_empty() {
            return false;
        }
        self.version += 1;
        debug_assert_eq!(self.get(l), Cached::None);
        self.locals[l as usize] = Cached::Gpr(r);
        self.reg_locals[r as usize].push(l);
        self.owned |= 1 << r;
        self.clock += 1;
        self.used[r as usize] = self.clock;
        true
    }

    /// Local `l` (not cached) now holds the constant `c`.
    pub fn set_const(&mut self, l: u32, c: u64) {
        if self.debug {
            return;
        }
        self.version += 1;
        debug_assert_eq!(self.get(l), Cached::None);
        self.locals[l as usize] = Cached::Const(c);
        self.consts.push(l);
    }

    /// Drops every local `r` holds; returns whether the cache held `r`
    /// (the caller frees it).
    pub fn evict(&mut self, r: Gpr) -> bool {
        if !self.owns(r) {
            return false;
        }
        self.version += 1;
        // Cleared in place: the list keeps its allocation for the next local.
        let list = &mut self.reg_locals[r as usize];
        for &l in list.iter() {
            self.locals[l as usize] = Cached::None;
        }
        list.clear();
        self.owned &= !(1 << r);
        self.pinned &= !(1 << r);
        true
    }

    /// The least recently used register the cache holds, outside `avoid`
    /// and not pinned.
    pub fn victim(&self, avoid: u16) -> Option<Gpr> {
        let cand = self.owned & !self.pinned & !avoid;
        (0..16u8)
            .filter(|r| cand & (1 << r) != 0)
            .min_by_key(|&r| self.used[r as usize])
    }

    /// Forgets everything; returns the masks of the general and the xmm
    /// registers the cache held (the caller frees them).
    pub fn clear(&mut self) -> (u16, u16) {
        self.version += 1;
        let owned = self.owned;
        for r in 0..16u8 {
            if owned & (1 << r) != 0 {
                self.evict(r);
            }
        }
        let xowned = self.xowned;
        for x in 0..16u8 {
            if xowned & (1 << x) != 0 {
                self.evict_xmm(x);
            }
        }
        for l in std::mem::take(&mut self.consts) {
            if let Some(c @ Cached::Const(_)) = self.locals.get_mut(l as usize) {
                *c = Cached::None;
            }
        }
        self.pinned = 0;
        (owned, xowned)
    }
}

/// What the cache knows at one point, as (local, value) pairs sorted by
/// local, each local once: what a branch carries to its target.
pub type CacheState = Vec<(u32, Cached)>;

/// The pairs `a` and `b` agree on (both sorted by local).
pub fn intersect(mut a: CacheState, b: &[(u32, Cached)]) -> CacheState {
    a.retain(|&(l, c)| {
        b.binary_search_by_key(&l, |&(bl, _)| bl)
            .is_ok_and(|k| b[k].1 == c)
    });
    a
}

impl LocalCache {
    /// Everything the cache knows now (see `CacheState`).
    pub fn state(&self) -> CacheState {
        let mut v: CacheState = Vec::new();
        for r in 0..16u8 {
            for &l in &self.reg_locals[r as usize] {
                v.push((l, Cached::Gpr(r)));
            }
        }
        for &l in &self.consts {
            if let c @ Cached::Const(_) = self.get(l) {
                v.push((l, c));
            }
        }
        v.sort_unstable_by_key(|&(l, _)| l);
        v.dedup_by_key(|&mut (l, _)| l);
        v
    }

    /// Starts from `state` (the cache must be empty); returns the mask of
    /// registers it now holds (the caller claims them in the allocator).
    pub fn restore(&mut self, state: &[(u32, Cached)]) -> u16 {
        debug_assert_eq!(self.owned, 0);
        for &(l, c) in state {
            match c {
                Cached::Gpr(r) => {
                    self.set_reg(l, r);
                }
                Cached::Const(k) => self.set_const(l, k),
                // Not carried across merges (`state` has none).
                Cached::Xmm(_) | Cached::None => {}
            }
        }
        self.owned
    }

    /// Changes whenever the cache does.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Calls `f` with every (register, local) pair, registers in order:
    /// what debug code reloads after its hook.
    pub fn for_each_reload(&self, mut f: impl FnMut(Gpr, u32)) {
        // A register holding a local is owned (not every owned one holds one).
        let mut owned = self.owned;
        while owned != 0 {
            let r = owned.trailing_zeros() as u8;
            owned &= owned - 1;
            if let Some(&l) = self.reg_locals[r as usize].first() {
                f(r, l);
            }
        }
    }
}
