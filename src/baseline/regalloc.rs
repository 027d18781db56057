//! The baseline compiler's register allocator: a free bitset per register
//! class and nothing else. When a class runs out it asks its caller to free
//! a register through the `spill` callback (the value stack knows which
//! value to move to memory; the allocator knows nothing about emission).

use super::masm::{Gpr, Xmm, R10, R8, R9, RAX, RCX, RDI, RDX, RSI};

/// Allocatable general-purpose registers in preference order (all
/// caller-saved; the scratch register and the pinned ones are not here).
pub const ALLOCATABLE_GPRS: [Gpr; 8] = [RAX, RCX, RDX, RSI, RDI, R8, R9, R10];
/// Allocatable xmm registers (xmm15 is scratch).
pub const ALLOCATABLE_XMMS: u16 = 0x7fff;

const fn gpr_mask() -> u16 {
    let mut m = 0u16;
    let mut i = 0;
    while i < ALLOCATABLE_GPRS.len() {
        m |= 1 << ALLOCATABLE_GPRS[i];
        i += 1;
    }
    m
}

#[derive(Debug, Clone, Copy)]
pub struct RegAlloc {
    gpr_free: u16,
    xmm_free: u16,
}

impl Default for RegAlloc {
    fn default() -> Self {
        RegAlloc {
            gpr_free: gpr_mask(),
            xmm_free: ALLOCATABLE_XMMS,
        }
    }
}

impl RegAlloc {
    /// Everything free again.
    pub fn reset(&mut self) {
        *self = RegAlloc::default();
    }

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

    pub fn claim_xmm(&mut self, x: Xmm) {
        debug_assert!(self.xmm_free & (1 << x) != 0);
        self.xmm_free &= !(1 << x);
    }

    pub fn free_xmm(&mut self, x: Xmm) {
        self.xmm_free |= 1 << x;
    }

    /// A GPR outside `avoid` (a bit mask) in preference order; while none is
    /// free, `spill(self, avoid)` must free one.
    pub fn alloc_gpr(&mut self, avoid: u16, spill: &mut dyn FnMut(&mut RegAlloc, u16)) -> Gpr {
        loop {
            let avail = self.gpr_free & !avoid;
            if avail != 0 {
                for &r in &ALLOCATABLE_GPRS {
                    if avail & (1 << r) != 0 {
                        self.gpr_free &= !(1 << r);
                        return r;
                    }
                }
            }
            spill(self, avoid);
        }
    }

    /// The lowest free xmm register; while none is free, `spill(self)` must
    /// free one.
    pub fn alloc_xmm(&mut self, spill: &mut dyn FnMut(&mut RegAlloc)) -> Xmm {
        loop {
            if self.xmm_free != 0 {
                let x = self.xmm_free.trailing_zeros() as Xmm;
                self.xmm_free &= !(1 << x);
                return x;
            }
            spill(self);
        }
    }
}
