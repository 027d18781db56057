//! An instance's code table and the per-function counters compiled code
//! updates: the `VMFuncRef` slot of each defined function (with the tier of
//! the code it points to), tier-up budgets and call counts.
//!
//! Changing which code a function runs is one atomic store to its slot;
//! frames already running keep the code they entered. Everything here is
//! atomic, so compiled code, the runtime and tier-up workers share it freely.

use super::layout::VMFuncRef;
use crate::code::Tier;
use std::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, AtomicU8, Ordering};

/// The code table of one instance's defined functions, plus per-function
/// budgets and call counts by function index (imports included).
pub struct CodeTable {
    /// Slots of the defined functions (`slots[k]` is defined function `k`).
    slots: Box<[VMFuncRef]>,
    /// The tier of the code each slot points to.
    tiers: Box<[AtomicU8]>,
    /// Tier-up budgets by function index (compiled code decrements them).
    pub budgets: Box<[AtomicI32]>,
    /// Calls by function index (compiled code of every tier counts them).
    pub calls: Box<[AtomicU64]>,
}

// SAFETY: the raw vmctx pointer inside each VMFuncRef is only dereferenced by
// compiled code running in the owning store; slot code pointers and all
// counters are atomics.
unsafe impl Send for CodeTable {}
// SAFETY: as above; all mutable state is atomic.
unsafe impl Sync for CodeTable {}

/// One defined function's initial slot contents.
pub struct InitialSlot {
    pub code: *const u8,
    pub tier: Tier,
    pub sig: u32,
    pub func_index: u32,
}

impl CodeTable {
    /// A table for `num_funcs` functions (imports included) whose defined
    /// functions start with `slots`, each budget set to `budget`.
    pub fn new(
        vmctx: *mut u8,
        num_funcs: usize,
        slots: impl IntoIterator<Item = InitialSlot>,
        budget: i32,
    ) -> CodeTable {
        let (slots, tiers): (Vec<VMFuncRef>, Vec<AtomicU8>) = slots
            .into_iter()
            .map(|s| {
                (
                    VMFuncRef {
                        code: AtomicPtr::new(s.code as *mut u8),
                        vmctx,
                        sig: s.sig,
                        func_index: s.func_index,
                    },
                    AtomicU8::new(s.tier as u8),
                )
            })
            .unzip();
        CodeTable {
            slots: slots.into_boxed_slice(),
            tiers: tiers.into_boxed_slice(),
            budgets: (0..num_funcs).map(|_| AtomicI32::new(budget)).collect(),
            calls: (0..num_funcs).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// Number of defined functions.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The slots of the defined functions, in order (their addresses are
    /// funcref values and never change).
    pub fn slots(&self) -> &[VMFuncRef] {
        &self.slots
    }

    /// The tier of the code slot `k` points to.
    pub fn tier(&self, k: usize) -> Option<Tier> {
        Tier::from_u8(self.tiers.get(k)?.load(Ordering::SeqCst))
    }

    /// Points slot `k` at `code`, which runs (or leads to) `tier` code, and
    /// returns the tier it had. One atomic store of the code pointer.
    pub fn set(&self, k: usize, code: *const u8, tier: Tier) -> Option<Tier> {
        let before = self.tiers.get(k)?.swap(tier as u8, Ordering::SeqCst);
        self.slots[k].code.store(code as *mut u8, Ordering::Release);
        Tier::from_u8(before)
    }

    /// Points slot `k` at `code` (running `tier` code) only if it still
    /// points at `expected`; true if it did. One compare-and-swap of the code
    /// pointer, then the tier.
    pub fn replace(&self, k: usize, expected: *const u8, code: *const u8, tier: Tier) -> bool {
        let Some(slot) = self.slots.get(k) else {
            return false;
        };
        let swapped = slot
            .code
            .compare_exchange(
                expected as *mut u8,
                code as *mut u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok();
        if swapped {
            self.tiers[k].store(tier as u8, Ordering::SeqCst);
        }
        swapped
    }

    /// Sets every budget back to `budget`.
    pub fn reset_budgets(&self, budget: i32) {
        for b in self.budgets.iter() {
            b.store(budget, Ordering::SeqCst);
        }
    }
}
