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
//! In debug code the debugger may write a local's slot at any breakable
//! position, so there a register holds one local at most and no constant is
//! remembered: after the debug hook returns, the code reloads every cached
//! register from its local's slot (`reloads`).

use super::masm::Gpr;

/// What the cache knows about one local.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cached {
    /// Nothing: read the frame slot.
    None,
    /// The register holds the local's value (an i32 zero-extended).
    Gpr(Gpr),
    /// The local holds this constant (raw bits).
    Const(u64),
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
    }

    /// Local `l` is about to be overwritten: forgets its value. Returns a
    /// register the cache no longer needs (the caller frees it).
    pub fn forget(&mut self, l: u32) -> Option<Gpr> {
        self.version += 1;
        match self.get(l) {
            Cached::None => None,
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
                    Some(r)
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
        for l in std::mem::take(&mut self.reg_locals[r as usize]) {
            self.locals[l as usize] = Cached::None;
        }
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

    /// Forgets everything; returns the mask of registers the cache held
    /// (the caller frees them).
    pub fn clear(&mut self) -> u16 {
        self.version += 1;
        let owned = self.owned;
        for r in 0..16u8 {
            if owned & (1 << r) != 0 {
                self.evict(r);
            }
        }
        for l in std::mem::take(&mut self.consts) {
            if let Some(c @ Cached::Const(_)) = self.locals.get_mut(l as usize) {
                *c = Cached::None;
            }
        }
        self.pinned = 0;
        owned
    }
}

impl LocalCache {
    /// Changes whenever the cache does.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Every (register, local) pair: what debug code reloads after its hook.
    pub fn reloads(&self) -> Vec<(Gpr, u32)> {
        (0..16u8)
            .filter_map(|r| self.reg_locals[r as usize].first().map(|&l| (r, l)))
            .collect()
    }
}
