//! Linear memory: one reservation of the whole reachable address range, with
//! only the accessible prefix readable and writable.
//!
//! Invariants: the base never moves; growth only changes page protections
//! (nothing is copied); every address compiled code can form from a 32-bit
//! index plus a 32-bit static offset plus an 8-byte access lies inside the
//! reservation, so an access past the accessible prefix faults in the guard
//! region and becomes a wasm trap. Compiled code therefore needs no bounds checks.
//!
//! A 64-bit memory (memory64) is different: its index space is far larger than
//! any reservation, so compiled code checks `index + offset + width <= length`
//! explicitly. Its reservation is its maximum size (capped at
//! [`MAX_RESERVATION64`]), without a guard region; the base never moves either.

use super::layout::VMMemory;
use memmap2::{MmapMut, MmapOptions};
use std::sync::atomic::Ordering;

pub const WASM_PAGE_SIZE: u64 = 65536;
/// Maximum pages of a 32-bit memory.
pub const MAX_PAGES: u64 = 65536;
/// index (< 4 GiB) + static offset (< 4 GiB) + access width (≤ 8 bytes)
/// stays below this, so the reservation covers everything code can touch.
pub const RESERVATION: usize = (8 << 30) + (64 << 10);
/// The largest reservation of a 64-bit memory (64 GiB): a memory64 declared
/// larger (or without a maximum) cannot grow past this (`memory.grow` returns
/// -1, which the spec allows).
pub const MAX_RESERVATION64: u64 = 64 << 30;

pub struct LinearMemory {
    reservation: MmapMut,
    vm: Box<VMMemory>,
    pages: u64,
    max_pages: u64,
    declared_max: Option<u64>,
    is64: bool,
}

// SAFETY: the raw base pointer refers to the reservation owned by this value;
// access is synchronised by the store (one thread runs wasm of a store at a time).
unsafe impl Send for LinearMemory {}

impl LinearMemory {
    /// A 32-bit memory.
    pub fn new(initial_pages: u64, max_pages: Option<u64>) -> std::io::Result<LinearMemory> {
        Self::new_typed(initial_pages, max_pages, false)
    }

    /// A 32-bit memory, or a 64-bit one when `is64`.
    pub fn new_typed(
        initial_pages: u64,
        max_pages: Option<u64>,
        is64: bool,
    ) -> std::io::Result<LinearMemory> {
        let declared_max = max_pages;
        let limit = if is64 {
            MAX_RESERVATION64 / WASM_PAGE_SIZE
        } else {
            MAX_PAGES
        };
        let max_pages = max_pages.unwrap_or(limit).min(limit);
        if initial_pages > max_pages {
            return Err(std::io::Error::other(
                "initial memory size exceeds its maximum",
            ));
        }
        let reservation_len = if is64 {
            (max_pages.max(1) * WASM_PAGE_SIZE) as usize
        } else {
            RESERVATION
        };
        let mut reservation = MmapOptions::new()
            .len(reservation_len)
            .no_reserve_swap()
            .map_anon()?;
        let base = reservation.as_mut_ptr();
        // SAFETY: `base..base+RESERVATION` is the mapping we own; making it
        // inaccessible does not invalidate any Rust reference (none exist yet).
        let rc = unsafe { libc::mprotect(base.cast(), reservation_len, libc::PROT_NONE) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let vm = Box::new(VMMemory {
            base,
            length: 0.into(),
        });
        let mut mem = LinearMemory {
            reservation,
            vm,
            pages: 0,
            max_pages,
            declared_max,
            is64,
        };
        if initial_pages > 0 && mem.grow(initial_pages).is_none() {
            return Err(std::io::Error::other("cannot commit initial memory"));
        }
        Ok(mem)
    }

    /// Grows by `delta` pages in place. Returns the old size in pages, or None
    /// when the maximum would be exceeded or the OS refuses.
    pub fn grow(&mut self, delta: u64) -> Option<u64> {
        let old = self.pages;
        let new = old.checked_add(delta)?;
        if new > self.max_pages {
            return None;
        }
        if delta == 0 {
            return Some(old);
        }
        let start = (old * WASM_PAGE_SIZE) as usize;
        let len = (delta * WASM_PAGE_SIZE) as usize;
        // SAFETY: `[start, start+len)` lies inside the reservation (new ≤
        // max_pages, and the reservation holds max_pages pages: 65536 pages =
        // 4 GiB < RESERVATION for a 32-bit memory); making it read-write
        // exposes fresh zero pages.
        let rc = unsafe {
            libc::mprotect(
                self.vm.base.add(start).cast(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
            )
        };
        if rc != 0 {
            return None;
        }
        self.pages = new;
        self.vm
            .length
            .store((new * WASM_PAGE_SIZE) as usize, Ordering::Release);
        Some(old)
    }

    /// A 64-bit memory (i64 addresses, explicit bounds checks)?
    pub fn is64(&self) -> bool {
        self.is64
    }

    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The maximum the memory was declared with, if any.
    pub fn declared_max(&self) -> Option<u64> {
        self.declared_max
    }

    pub fn byte_len(&self) -> usize {
        (self.pages * WASM_PAGE_SIZE) as usize
    }

    pub fn base(&self) -> *mut u8 {
        self.vm.base
    }

    pub fn vm_ptr(&self) -> *const VMMemory {
        &*self.vm
    }

    /// The accessible bytes.
    pub fn data(&self) -> &[u8] {
        // SAFETY: the first byte_len bytes are mapped read-write and owned by self.
        unsafe { std::slice::from_raw_parts(self.vm.base, self.byte_len()) }
    }

    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`, and `&mut self` gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.vm.base, self.byte_len()) }
    }
}

impl Drop for LinearMemory {
    fn drop(&mut self) {
        // Watchpoints inside this memory go with it (their pages are unmapped).
        super::watch::forget_range(self.vm.base, self.reservation.len());
    }
}
