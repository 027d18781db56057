//! Watchpoints on linear memory, for code of every tier and for host code
//! alike: by the debug registers when they can hold the range, else by page
//! protection.
//!
//! Hardware ([`super::watch_hw`]): a range that splits into at most four
//! aligned pieces of 1, 2, 4 or 8 bytes, while the thread has debug registers
//! free and the kernel grants breakpoint events, gets one breakpoint per
//! piece (writes only for `watch`, reads and writes otherwise: x86 has no
//! read-only data breakpoints). The SIGTRAP after an access ([`on_hw_trap`])
//! compares the bytes with the snapshot: a write watch hits when they
//! changed, a read watch when they did not (gdb's rule on x86), an access
//! watch always. Other bytes of the page cost nothing.
//!
//! Page protection, otherwise: a watched range (at most [`MAX_LEN`] bytes) makes the OS pages holding it
//! read-only (write watches) or inaccessible (read and access watches). An
//! access to such a page faults; the SIGSEGV handler ([`on_segv`]) unprotects
//! the page and sets the trap flag, so exactly one instruction runs; the
//! SIGTRAP that follows ([`on_trap`]) protects the page again and decides
//! whether the access touched a watched range: a read that overlapped it
//! (the instruction is decoded to know its address and width), or a write
//! that changed its bytes (compared with a snapshot). A hit is recorded in
//! the slot and the program is asked to stop at its next wasm instruction
//! boundary: every debug byte of the instance is set, r13 (the running debug
//! frame's copy of its byte) too, and a pause is requested at the interrupt
//! check for frames of baseline or optimized code from before the attach.
//! Accesses to a watched page outside the watched bytes resume silently.
//!
//! Host code (WASI functions) does not fault: [`HostAccess`] lifts the
//! protection for the duration of a host call and checks the ranges the call
//! reads and writes itself.
//!
//! Invariants: the table is a fixed array of slots read without locks (the
//! signal handlers read it; they take no lock and allocate nothing); slots
//! change only under `WRITER` and only while the program using them is
//! stopped (paused in the debugger, or between runs), so no instruction is
//! half-way through a single step on a page whose protection changes.

use super::layout::INTERRUPT_PAUSE;
use super::memory::LinearMemory;
use super::watch_hw::{self as hw, REGISTERS};
use crate::code::{self, CodeKind, Tier};
use std::any::Any;
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicU8, AtomicUsize, Ordering::*};
use std::sync::Mutex;

/// Most bytes one watchpoint covers.
pub const MAX_LEN: usize = 64;
/// Slots in the process-wide table (several sessions may run in one process).
pub const SLOTS: usize = 64;

/// What a watchpoint reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `watch`: writes that change the value.
    Write = 1,
    /// `rwatch`: reads.
    Read = 2,
    /// `awatch`: reads and writes.
    Access = 3,
}

impl Kind {
    fn from_bits(b: u8) -> Kind {
        match b {
            1 => Kind::Write,
            2 => Kind::Read,
            _ => Kind::Access,
        }
    }
}

/// How a watchpoint is armed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    /// Debug registers, this many.
    DebugRegisters(u8),
    /// Page protection, and why not the debug registers.
    PageProtection(String),
}

/// Whether [`arm`] tries the debug registers first (default on).
static HARDWARE: AtomicBool = AtomicBool::new(true);

/// Lets [`arm`] use the debug registers (`true`, the default) or only page
/// protection (`false`; to compare the two).
pub fn set_hardware(on: bool) {
    HARDWARE.store(on, SeqCst);
}

/// A recorded hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit {
    pub write: bool,
    /// Native pc of the accessing instruction (0: a host function).
    pub pc: usize,
    /// The host function that made the access, if it was one.
    pub host: Option<&'static str>,
}

const FREE: u8 = 0;
const ACTIVE: u8 = 2;
const HIT_NONE: u8 = 0;
const HIT_READ: u8 = 1;
const HIT_WRITE: u8 = 2;

struct Slot {
    state: AtomicU8,
    /// Set while the debugger is stopped (pages writable, no checks).
    suspended: AtomicU8,
    kind: AtomicU8,
    start: AtomicUsize,
    len: AtomicUsize,
    snap: [AtomicU64; MAX_LEN / 8],
    flags: AtomicUsize,
    flag_count: AtomicUsize,
    interrupt_flags: AtomicUsize,
    stack_limit: AtomicUsize,
    hit: AtomicU8,
    hit_pc: AtomicUsize,
    hit_host_ptr: AtomicUsize,
    hit_host_len: AtomicUsize,
    /// Debug registers in use (0: the slot uses page protection).
    hw: AtomicU8,
    /// Their perf event descriptors.
    hw_fds: [AtomicI32; REGISTERS],
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    state: AtomicU8::new(FREE),
    suspended: AtomicU8::new(0),
    kind: AtomicU8::new(0),
    start: AtomicUsize::new(0),
    len: AtomicUsize::new(0),
    snap: [const { AtomicU64::new(0) }; MAX_LEN / 8],
    flags: AtomicUsize::new(0),
    flag_count: AtomicUsize::new(0),
    interrupt_flags: AtomicUsize::new(0),
    stack_limit: AtomicUsize::new(0),
    hit: AtomicU8::new(HIT_NONE),
    hit_pc: AtomicUsize::new(0),
    hit_host_ptr: AtomicUsize::new(0),
    hit_host_len: AtomicUsize::new(0),
    hw: AtomicU8::new(0),
    hw_fds: [const { AtomicI32::new(-1) }; REGISTERS],
};

static TABLE: [Slot; SLOTS] = [EMPTY; SLOTS];
/// Active slots; 0 makes every check a single load.
static ARMED: AtomicUsize = AtomicUsize::new(0);
static WRITER: Mutex<()> = Mutex::new(());
const PAGE: usize = 4096;

fn page_of(addr: usize) -> usize {
    addr & !(PAGE - 1)
}

impl Slot {
    fn active(&self) -> bool {
        self.state.load(Acquire) == ACTIVE && self.suspended.load(Acquire) == 0
    }
    fn range(&self) -> (usize, usize) {
        let s = self.start.load(Acquire);
        (s, s + self.len.load(Acquire))
    }
    fn covers_page(&self, page: usize) -> bool {
        let (s, e) = self.range();
        page_of(s) <= page && page <= page_of(e - 1)
    }
    fn kind(&self) -> Kind {
        Kind::from_bits(self.kind.load(Acquire))
    }
    /// True when the slot uses debug registers (no page protection).
    fn is_hw(&self) -> bool {
        self.hw.load(Acquire) != 0
    }
    /// Turns the slot's debug registers on or off.
    fn hw_enable(&self, on: bool) {
        for fd in &self.hw_fds[..self.hw.load(Acquire) as usize] {
            hw::set_enabled(fd.load(Acquire), on);
        }
    }
    /// Frees the slot's debug registers.
    fn hw_release(&self) {
        let n = self.hw.swap(0, AcqRel) as usize;
        for fd in &self.hw_fds[..n] {
            hw::close(fd.swap(-1, AcqRel));
        }
    }
    /// True when the watched bytes differ from the snapshot.
    ///
    /// # Safety
    /// The watched bytes must be readable.
    unsafe fn changed(&self) -> bool {
        let (s, e) = self.range();
        let mut i = 0;
        while s + i < e {
            let n = (e - s - i).min(8);
            let mut word = [0u8; 8];
            // SAFETY: guaranteed by the caller; `n` bytes lie inside the range.
            unsafe { std::ptr::copy_nonoverlapping((s + i) as *const u8, word.as_mut_ptr(), n) };
            if u64::from_le_bytes(word) != self.snap[i / 8].load(Relaxed) {
                return true;
            }
            i += 8;
        }
        false
    }
    /// # Safety
    /// The watched bytes must be readable.
    unsafe fn take_snapshot(&self) {
        let (s, e) = self.range();
        let mut i = 0;
        while s + i < e {
            let n = (e - s - i).min(8);
            let mut word = [0u8; 8];
            // SAFETY: guaranteed by the caller.
            unsafe { std::ptr::copy_nonoverlapping((s + i) as *const u8, word.as_mut_ptr(), n) };
            self.snap[i / 8].store(u64::from_le_bytes(word), Relaxed);
            i += 8;
        }
    }
    /// Records the first hit since the last stop and asks the program to stop.
    fn record(&self, write: bool, pc: usize, host: Option<&'static str>) {
        let code = if write { HIT_WRITE } else { HIT_READ };
        if self
            .hit
            .compare_exchange(HIT_NONE, code, AcqRel, Acquire)
            .is_ok()
        {
            self.hit_pc.store(pc, Release);
            let (p, l) = host.map_or((0, 0), |h| (h.as_ptr() as usize, h.len()));
            self.hit_host_ptr.store(p, Release);
            self.hit_host_len.store(l, Release);
        }
        self.request_stop();
    }

    /// Makes the instance stop at its next breakable position or interrupt check.
    fn request_stop(&self) {
        let flags = self.flags.load(Acquire);
        for i in 0..self.flag_count.load(Acquire) {
            // SAFETY: the stop target stays valid while the slot is armed
            // (`arm`'s contract); debug bytes are read atomically by wasm.
            unsafe { AtomicU8::from_ptr((flags + i) as *mut u8).store(1, SeqCst) };
        }
        let (f, l) = (
            self.interrupt_flags.load(Acquire),
            self.stack_limit.load(Acquire),
        );
        if f != 0 && l != 0 {
            // SAFETY: as above.
            unsafe {
                (*(f as *const AtomicUsize)).fetch_or(INTERRUPT_PAUSE, SeqCst);
                (*(l as *const AtomicUsize)).store(usize::MAX, SeqCst);
            }
        }
    }
}

/// The protection page `page` needs for the active slots (lock-free).
fn page_prot(page: usize) -> libc::c_int {
    let mut prot = libc::PROT_READ | libc::PROT_WRITE;
    for s in TABLE.iter() {
        if s.active() && !s.is_hw() && s.covers_page(page) {
            if s.kind() == Kind::Write {
                prot &= !libc::PROT_WRITE;
            } else {
                return libc::PROT_NONE;
            }
        }
    }
    prot
}

fn protect(page: usize, prot: libc::c_int) {
    // SAFETY: `page` lies in a linear memory's accessible prefix (arm checked
    // it); changing its protection invalidates no Rust reference: every
    // access to a protected page is caught by the handlers below.
    unsafe { libc::mprotect(page as *mut libc::c_void, PAGE, prot) };
}

fn reprotect_slot_pages(i: usize) {
    if TABLE[i].is_hw() {
        return;
    }
    let (s, e) = TABLE[i].range();
    let mut p = page_of(s);
    while p <= page_of(e - 1) {
        protect(p, page_prot(p));
        p += PAGE;
    }
}

/// Where a hit asks the instance running in the watched memory to stop: its
/// debug bytes (all set) and its interrupt words (a pause request). The
/// runtime's handles own that memory; `keep` holds them while the slot is
/// armed, since the handlers use the raw pointers.
pub struct StopTarget {
    pub debug_bytes: *const u8,
    pub debug_byte_count: u32,
    pub interrupt_flags: *const AtomicUsize,
    pub stack_limit: *const AtomicUsize,
    pub keep: Box<dyn Any + Send>,
}

/// The owners of each armed slot's stop target (see [`StopTarget`]).
static KEEP: Mutex<Vec<Option<Box<dyn Any + Send>>>> = Mutex::new(Vec::new());

fn keep(slot: usize, handles: Option<Box<dyn Any + Send>>) {
    let mut k = KEEP.lock().unwrap_or_else(|e| e.into_inner());
    if k.len() < SLOTS {
        k.resize_with(SLOTS, || None);
    }
    k[slot] = handles;
}

/// Opens the debug registers for slot `i` (armed on `len` bytes at `start`
/// for the calling thread), or says why they cannot hold it.
fn open_hw(i: usize, start: usize, len: usize, kind: Kind) -> Result<u8, String> {
    if !HARDWARE.load(SeqCst) {
        return Err("debug registers switched off".into());
    }
    let (pieces, n) = hw::pieces(start, len)
        .map_err(|n| format!("{len} bytes need {n} debug registers; a thread has {REGISTERS}"))?;
    let s = &TABLE[i];
    for (k, &(addr, l)) in pieces[..n].iter().enumerate() {
        match hw::open(addr, l, kind != Kind::Write, (i * REGISTERS + k) as u16) {
            Ok(fd) => s.hw_fds[k].store(fd, Release),
            Err(e) => {
                for fd in &s.hw_fds[..k] {
                    hw::close(fd.swap(-1, AcqRel));
                }
                return Err(e);
            }
        }
    }
    Ok(n as u8)
}

/// Arms a watchpoint on `len` bytes at offset `offset` of `memory` and
/// returns its slot and how it is armed. A hit stops the instance `stop`
/// names. Called on the thread that runs the program (the debug registers
/// are that thread's).
pub fn arm(
    memory: &LinearMemory,
    offset: u64,
    len: usize,
    kind: Kind,
    stop: StopTarget,
) -> Result<(usize, Mechanism), String> {
    if len == 0 || len > MAX_LEN {
        return Err(format!(
            "a watchpoint covers 1 to {MAX_LEN} bytes, not {len}"
        ));
    }
    let end = offset.saturating_add(len as u64);
    if end > memory.byte_len() as u64 {
        return Err(format!(
            "{len} bytes at {offset:#x} are outside linear memory ({:#x} bytes)",
            memory.byte_len()
        ));
    }
    let _w = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    let i = TABLE
        .iter()
        .position(|s| s.state.load(Acquire) == FREE)
        .ok_or_else(|| format!("too many watchpoints (at most {SLOTS})"))?;
    let s = &TABLE[i];
    let (fp, count) = (stop.debug_bytes, stop.debug_byte_count);
    let (intr, limit) = (stop.interrupt_flags, stop.stack_limit);
    s.start
        .store(memory.base() as usize + offset as usize, Release);
    s.len.store(len, Release);
    s.kind.store(kind as u8, Release);
    s.flags.store(fp as usize, Release);
    s.flag_count.store(count as usize, Release);
    s.interrupt_flags.store(intr as usize, Release);
    s.stack_limit.store(limit as usize, Release);
    s.hit.store(HIT_NONE, Release);
    s.suspended.store(0, Release);
    keep(i, Some(stop.keep));
    // SAFETY: the range lies in the memory's accessible prefix (checked
    // above); slots are armed while their program is stopped, when the other
    // watchpoints of its memory are suspended (pages readable).
    unsafe { s.take_snapshot() };
    let start = s.start.load(Acquire);
    let mechanism = match open_hw(i, start, len, kind) {
        Ok(n) => {
            s.hw.store(n, Release);
            Mechanism::DebugRegisters(n)
        }
        Err(why) => Mechanism::PageProtection(why),
    };
    s.state.store(ACTIVE, Release);
    ARMED.fetch_add(1, SeqCst);
    reprotect_slot_pages(i);
    Ok((i, mechanism))
}

/// Removes a watchpoint and restores its pages.
pub fn disarm(slot: usize) {
    let Some(s) = TABLE.get(slot) else { return };
    let _w = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    if s.state.load(Acquire) != ACTIVE {
        return;
    }
    s.state.store(FREE, Release);
    ARMED.fetch_sub(1, SeqCst);
    if s.is_hw() {
        s.hw_release();
    } else {
        reprotect_slot_pages(slot);
    }
    keep(slot, None);
}

/// The debugger stopped: the watched pages become plain memory until
/// [`resume`] (the debugger reads and writes them freely meanwhile).
pub fn suspend(slot: usize) {
    let Some(s) = TABLE.get(slot) else { return };
    let _w = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    if s.state.load(Acquire) == ACTIVE && s.suspended.swap(1, AcqRel) == 0 {
        if s.is_hw() {
            s.hw_enable(false);
        } else {
            reprotect_slot_pages(slot);
        }
    }
}

/// The program resumes: snapshots the watched bytes (the "old value" of the
/// next hit) and protects the pages again. A hit not reported yet (several
/// watchpoints hit before one stop) asks for the next stop at once.
pub fn resume(slot: usize) {
    let Some(s) = TABLE.get(slot) else { return };
    let _w = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    if s.state.load(Acquire) != ACTIVE {
        return;
    }
    if s.hit.load(Acquire) != HIT_NONE {
        s.request_stop();
    }
    if s.suspended.load(Acquire) != 0 {
        // SAFETY: suspended pages are readable.
        unsafe { s.take_snapshot() };
        s.suspended.store(0, Release);
        if s.is_hw() {
            s.hw_enable(true);
        } else {
            reprotect_slot_pages(slot);
        }
    }
}

/// The snapshot of a slot's bytes (the value before the last hit).
pub fn snapshot(slot: usize) -> Vec<u8> {
    let Some(s) = TABLE.get(slot) else {
        return Vec::new();
    };
    let len = s.len.load(Acquire);
    let mut out = Vec::with_capacity(len);
    for w in &s.snap {
        out.extend_from_slice(&w.load(Relaxed).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Takes the hit recorded in `slot` since it was last resumed.
pub fn take_hit(slot: usize) -> Option<Hit> {
    let s = TABLE.get(slot)?;
    let code = s.hit.swap(HIT_NONE, AcqRel);
    if code == HIT_NONE {
        return None;
    }
    let (p, l) = (s.hit_host_ptr.load(Acquire), s.hit_host_len.load(Acquire));
    let host = (p != 0).then(|| {
        // SAFETY: the pointer and length came from a `&'static str` in `record`.
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(p as *const u8, l)) }
    });
    Some(Hit {
        write: code == HIT_WRITE,
        pc: s.hit_pc.load(Acquire),
        host,
    })
}

/// True if `slot` has a hit waiting (a cheap check for the debug hook).
pub fn has_hit(slot: usize) -> bool {
    TABLE
        .get(slot)
        .is_some_and(|s| s.hit.load(Acquire) != HIT_NONE)
}

/// True while any watchpoint is armed in the process.
pub fn any_armed() -> bool {
    ARMED.load(Relaxed) != 0
}

/// A linear memory is going away: drop every slot inside it.
pub fn forget_range(base: *const u8, len: usize) {
    if !any_armed() {
        return;
    }
    let (lo, hi) = (base as usize, base as usize + len);
    let _w = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    for s in TABLE.iter() {
        let st = s.start.load(Acquire);
        if s.state.load(Acquire) == ACTIVE && st >= lo && st < hi {
            s.state.store(FREE, Release);
            ARMED.fetch_sub(1, SeqCst);
            s.hw_release();
        }
    }
    let mut k = KEEP.lock().unwrap_or_else(|e| e.into_inner());
    for (i, s) in TABLE.iter().enumerate() {
        if s.state.load(Acquire) == FREE {
            if let Some(h) = k.get_mut(i) {
                *h = None;
            }
        }
    }
}

// ---- host calls -------------------------------------------------------------

/// One host call's view of the watchpoints of one linear memory: while it
/// lives the watched pages are writable (so host code and system calls can
/// use the memory directly); [`HostAccess::note`] checks each range the call
/// reads or writes, and dropping it checks the write watchpoints' bytes and
/// protects the pages again.
pub struct HostAccess {
    base: usize,
    len: usize,
    name: &'static str,
    /// Slots of this memory that were lifted (bit i = slot i).
    lifted: u64,
}

impl HostAccess {
    /// `base..base+len` is the memory the call may touch.
    pub fn begin(base: *const u8, len: usize, name: &'static str) -> HostAccess {
        let mut h = HostAccess {
            base: base as usize,
            len,
            name,
            lifted: 0,
        };
        if !any_armed() || len == 0 {
            return h;
        }
        let _w = WRITER.lock().unwrap_or_else(|e| e.into_inner());
        for (i, s) in TABLE.iter().enumerate() {
            let (st, _) = s.range();
            if s.active() && st >= h.base && st < h.base + len {
                s.suspended.store(1, Release);
                h.lifted |= 1 << i;
            }
        }
        for i in 0..SLOTS {
            if h.lifted & (1 << i) != 0 {
                reprotect_slot_pages(i);
            }
        }
        h
    }

    /// The call reads (`write` false) or writes `len` bytes at memory offset `off`.
    pub fn note(&self, off: u64, len: u64, write: bool) {
        if self.lifted == 0 || len == 0 {
            return;
        }
        let (lo, hi) = (self.base as u64 + off, self.base as u64 + off + len);
        for (i, s) in TABLE.iter().enumerate() {
            if self.lifted & (1 << i) == 0 {
                continue;
            }
            let (st, e) = s.range();
            let overlaps = lo < e as u64 && hi > st as u64;
            let wanted = match s.kind() {
                Kind::Write => false, // decided by the value at the end
                Kind::Read => !write,
                Kind::Access => true,
            };
            if overlaps && wanted {
                s.record(write, 0, Some(self.name));
            }
        }
    }
}

impl Drop for HostAccess {
    fn drop(&mut self) {
        if self.lifted == 0 {
            return;
        }
        let _w = WRITER.lock().unwrap_or_else(|e| e.into_inner());
        for (i, s) in TABLE.iter().enumerate() {
            if self.lifted & (1 << i) == 0 || s.state.load(Acquire) != ACTIVE {
                continue;
            }
            // SAFETY: the pages are writable (lifted) and inside the memory.
            if unsafe { s.changed() } {
                if s.kind() == Kind::Read {
                    // Reads after this write compare with what it wrote.
                    // SAFETY: as above.
                    unsafe { s.take_snapshot() };
                } else {
                    s.record(true, 0, Some(self.name));
                }
            }
            s.suspended.store(0, Release);
            reprotect_slot_pages(i);
        }
        let _ = self.len;
    }
}

// ---- signal handlers --------------------------------------------------------

/// The single step in progress on this thread.
#[derive(Clone, Copy)]
struct Stepping {
    pages: [usize; 4],
    npages: usize,
    pc: usize,
    write: bool,
    /// Slots the access may have hit (bit i = slot i).
    candidates: u64,
    /// Slots whose hit is decided now (reads, access watches).
    certain: u64,
}

thread_local! {
    static STEP: Cell<Option<Stepping>> = const { Cell::new(None) };
    /// Set while the debugger itself runs on this thread (its reads of
    /// watched bytes are no hits).
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// Set while [`on_hw_trap`] runs on this thread.
    static IN_HW_TRAP: Cell<bool> = const { Cell::new(false) };
    /// Set while a bulk memory builtin runs on this thread ([`bulk`]).
    static BULK: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f`, the body of a bulk memory builtin (`memory.fill`, `copy`,
/// `init`) that reads `read` and writes `write` (host address ranges), and
/// then checks those ranges against the hardware watchpoints: x86 cannot
/// tell a read from a write of the same value, and the builtin's own code
/// has no offset tables, so the builtin's ranges decide. (Page protection
/// single-steps these accesses like any other.)
pub fn bulk<R>(read: (*const u8, usize), write: (*const u8, usize), f: impl FnOnce() -> R) -> R {
    if !any_armed() {
        return f();
    }
    let was = BULK.with(|b| b.replace(true));
    let r = f();
    BULK.with(|b| b.set(was));
    let overlaps = |(p, n): (*const u8, usize), (st, e): (usize, usize)| {
        n != 0 && (p as usize) < e && (p as usize) + n > st
    };
    for s in TABLE.iter() {
        if !s.active() || !s.is_hw() {
            continue;
        }
        let range = s.range();
        if overlaps(write, range) {
            // SAFETY: hardware slots leave their pages readable.
            match (s.kind(), unsafe { s.changed() }) {
                // Reads after this write compare with what it wrote.
                // SAFETY: as above.
                (Kind::Read, true) => unsafe { s.take_snapshot() },
                (Kind::Write, true) | (Kind::Access, _) => {
                    s.record(true, 0, None);
                    continue;
                }
                _ => {}
            }
        }
        if overlaps(read, range) && s.kind() != Kind::Write {
            s.record(false, 0, None);
        }
    }
    r
}

/// Runs `f` (the debugger's own work on the program thread) with accesses to
/// watched pages stepped over silently.
pub fn quietly<R>(f: impl FnOnce() -> R) -> R {
    let was = QUIET.with(|q| q.replace(true));
    let r = f();
    QUIET.with(|q| q.set(was));
    r
}

const TRAP_FLAG: i64 = 0x100;

/// Address range the instruction at `pc` accesses around `fault` (decoded
/// from its memory operands), or `fault..fault+1` when it cannot tell.
fn access_range(pc: usize, fault: usize, gregs: &[i64; 23]) -> (usize, usize) {
    use iced_x86::{Decoder, DecoderOptions, OpKind, Register};
    // Up to 15 bytes, not past the end of the page holding pc (the code is
    // mapped there; the next page may not be).
    let avail = (PAGE - (pc & (PAGE - 1))).min(15);
    // SAFETY: `pc` is the address of an instruction the CPU just fetched.
    let bytes = unsafe { std::slice::from_raw_parts(pc as *const u8, avail) };
    let mut dec = Decoder::with_ip(64, bytes, pc as u64, DecoderOptions::NONE);
    let ins = dec.decode();
    let fallback = (fault, fault + 1);
    if ins.is_invalid() {
        return fallback;
    }
    let reg = |r: Register, _: usize, _: usize| -> Option<u64> {
        let idx = match r.full_register() {
            Register::RAX => libc::REG_RAX,
            Register::RCX => libc::REG_RCX,
            Register::RDX => libc::REG_RDX,
            Register::RBX => libc::REG_RBX,
            Register::RSP => libc::REG_RSP,
            Register::RBP => libc::REG_RBP,
            Register::RSI => libc::REG_RSI,
            Register::RDI => libc::REG_RDI,
            Register::R8 => libc::REG_R8,
            Register::R9 => libc::REG_R9,
            Register::R10 => libc::REG_R10,
            Register::R11 => libc::REG_R11,
            Register::R12 => libc::REG_R12,
            Register::R13 => libc::REG_R13,
            Register::R14 => libc::REG_R14,
            Register::R15 => libc::REG_R15,
            Register::ES | Register::CS | Register::SS | Register::DS => return Some(0),
            _ => return None,
        };
        let v = gregs[idx as usize] as u64;
        Some(match r.size() {
            4 => v & 0xffff_ffff,
            2 => v & 0xffff,
            1 => v & 0xff,
            _ => v,
        })
    };
    let size = ins.memory_size().size().max(1);
    for op in 0..ins.op_count() {
        let memory = matches!(
            ins.op_kind(op),
            OpKind::Memory
                | OpKind::MemorySegRSI
                | OpKind::MemorySegESI
                | OpKind::MemoryESRDI
                | OpKind::MemoryESEDI
        );
        if !memory {
            continue;
        }
        if let Some(va) = ins.virtual_address(op, 0, reg) {
            let (lo, hi) = (va as usize, va as usize + size);
            if page_of(fault) >= page_of(lo) && page_of(fault) <= page_of(hi - 1) {
                return (lo, hi);
            }
        }
    }
    fallback
}

/// SIGSEGV at `fault`: true when it is an access to a watched page, which is
/// now stepping (the caller returns to re-run the instruction).
///
/// # Safety
/// Called from the SIGSEGV handler with the thread's saved registers.
pub(crate) unsafe fn on_segv(fault: usize, gregs: &mut [i64; 23]) -> bool {
    if ARMED.load(Acquire) == 0 {
        return false;
    }
    let page = page_of(fault);
    let pc = gregs[libc::REG_RIP as usize] as usize;
    let mut candidates = 0u64;
    let mut any = false;
    for (i, s) in TABLE.iter().enumerate() {
        if s.active() && !s.is_hw() && s.covers_page(page) {
            any = true;
            candidates |= 1 << i;
        }
    }
    if !any {
        return false;
    }
    let write = gregs[libc::REG_ERR as usize] & 2 != 0;
    let (lo, hi) = if QUIET.with(|q| q.get()) {
        (0, 0)
    } else {
        access_range(pc, fault, gregs)
    };
    let mut hits = 0u64;
    let mut certain = 0u64;
    for (i, s) in TABLE.iter().enumerate() {
        // Debug registers on the stepped access are decided here too: the
        // step's SIGTRAP and theirs are one signal (the second is dropped).
        if candidates & (1 << i) == 0 && !(s.active() && s.is_hw()) {
            continue;
        }
        let (st, e) = s.range();
        if !(lo < e && hi > st) {
            continue;
        }
        match (s.kind(), write) {
            (Kind::Write, true) => hits |= 1 << i,
            (Kind::Write, false) | (Kind::Read, true) => {}
            (Kind::Read, false) | (Kind::Access, _) => {
                hits |= 1 << i;
                certain |= 1 << i;
            }
        }
    }
    let mut st = STEP.with(|c| c.get()).unwrap_or(Stepping {
        pages: [0; 4],
        npages: 0,
        pc,
        write,
        candidates: 0,
        certain: 0,
    });
    if st.npages == st.pages.len() {
        return false;
    }
    st.pages[st.npages] = page;
    st.npages += 1;
    st.candidates |= hits;
    st.certain |= certain;
    st.write |= write;
    STEP.with(|c| c.set(Some(st)));
    protect(page, libc::PROT_READ | libc::PROT_WRITE);
    gregs[libc::REG_EFL as usize] |= TRAP_FLAG;
    true
}

/// Ends a single step: protects its pages again and records its hits.
fn finish_step(st: Stepping, gregs: &mut [i64; 23]) {
    let mut hit_any = false;
    for (i, s) in TABLE.iter().enumerate() {
        if st.candidates & (1 << i) == 0 || !s.active() {
            continue;
        }
        let hit = st.certain & (1 << i) != 0 || {
            // SAFETY: the step's pages are still writable and readable.
            unsafe { s.changed() }
        };
        if hit {
            s.record(st.write && s.kind() != Kind::Read, st.pc, None);
            hit_any = true;
        }
    }
    for &p in &st.pages[..st.npages] {
        protect(p, page_prot(p));
    }
    if hit_any {
        stop_debug_frame(gregs);
    }
}

/// After a hit: the next breakable position of the running debug frame
/// calls the hook (r13 is its copy of the debug byte).
fn stop_debug_frame(gregs: &mut [i64; 23]) {
    let now = gregs[libc::REG_RIP as usize] as usize;
    if let Some(info) = code::lookup_pc(now) {
        if info.kind == CodeKind::Wasm(Tier::Debug) {
            gregs[libc::REG_R13 as usize] = 1;
        }
    }
}

/// SIGTRAP of debug register `id` (see [`open_hw`]): decides whether the
/// access that just ran hit its slot. True when `id` is one of ours.
///
/// # Safety
/// Called from the SIGTRAP handler with the thread's saved registers.
pub(crate) unsafe fn on_hw_trap(id: u16, gregs: &mut [i64; 23]) -> bool {
    let Some(s) = TABLE.get(id as usize / REGISTERS) else {
        return false;
    };
    // A trap that was on its way when the slot was suspended or freed, or
    // an access by the debugger itself, is no hit.
    // Reading the watched bytes below trips a read breakpoint again: that
    // nested trap is ours too, and no access of the program.
    // A bulk builtin reports its ranges itself ([`bulk`]).
    let busy = QUIET.with(|q| q.get()) || BULK.with(|b| b.get()) || IN_HW_TRAP.with(|c| c.get());
    if !s.active() || !s.is_hw() || busy {
        return true;
    }
    IN_HW_TRAP.with(|c| c.set(true));
    // SAFETY: hardware slots leave their pages readable.
    let changed = unsafe { s.changed() };
    let hit = match s.kind() {
        Kind::Write => changed,
        Kind::Read if changed => {
            // A write: the next reads compare with what it wrote.
            // SAFETY: as above.
            unsafe { s.take_snapshot() };
            false
        }
        Kind::Read | Kind::Access => true,
    };
    if hit {
        let after = gregs[libc::REG_RIP as usize] as usize;
        s.record(changed, hw::accessing_pc(after, gregs), None);
        stop_debug_frame(gregs);
    }
    IN_HW_TRAP.with(|c| c.set(false));
    true
}

/// SIGTRAP: true when it ends a watchpoint single step of this thread.
///
/// # Safety
/// Called from the SIGTRAP handler with the thread's saved registers.
pub(crate) unsafe fn on_trap(gregs: &mut [i64; 23]) -> bool {
    let Some(st) = STEP.with(|c| c.take()) else {
        return false;
    };
    gregs[libc::REG_EFL as usize] &= !TRAP_FLAG;
    finish_step(st, gregs);
    true
}

/// A real fault while a single step was in progress (the instruction trapped):
/// protect the pages again and leave the trap flag off.
pub(crate) fn abort_step(gregs: &mut [i64; 23]) {
    if let Some(st) = STEP.with(|c| c.take()) {
        gregs[libc::REG_EFL as usize] &= !TRAP_FLAG;
        for &p in &st.pages[..st.npages] {
            protect(p, page_prot(p));
        }
    }
}
