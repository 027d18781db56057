//! The exception heap: the exception objects a store's `throw`s make, and
//! the collector that frees the ones nothing can reach any more.
//!
//! An `exnref` is the address of an [`ExnObj`]; compiled code, tables,
//! globals, exception payloads and the host pass it around as a plain word,
//! with no stack maps and no reference counts. So the collector is
//! conservative (as JavaScriptCore's and Boehm's stack scans are) and runs
//! only where the runtime can see every place such a word can be: at a
//! `throw`, before the new object is made (`runtime::exceptions::create`),
//! when the store holds at least `threshold` objects. The threshold is then
//! set to twice the objects that survive (at least [`MIN_THRESHOLD`]), so
//! the work per throw is bounded and the number of objects stays within
//! twice the reachable ones (plus the minimum).
//!
//! **Invariant** (what makes freeing sound): every exnref that wasm, the
//! runtime or the host can still use is, at a `throw`, in one of
//! - this thread's stack between the collector's `rsp` and the entry
//!   trampoline frame of the outermost activation: all wasm frames of every
//!   activation (nested host → wasm calls included) and the host frames
//!   between them. Baseline code spills its operand stack before every call,
//!   optimized code keeps values that live across a call in stack slots or
//!   callee-saved registers, every frame saves the callee-saved registers it
//!   uses on the stack, the throw stub saves the thrower's, and the collector
//!   saves its own before scanning, so a register can hold nothing the scan
//!   misses. The payload being thrown is in the thrower's frame. A legacy
//!   `catch`'s exception (kept for `rethrow`) is in its frame slot or
//!   variable, the in-flight exception of `vm::unwind::raise` in its frame
//!   (or a callee-saved register). Stores are used by one thread at a time
//!   (a `Store` is neither `Send` nor shared), so no other thread's stack
//!   can hold one of its exnrefs;
//! - a global or a table element of type `exnref` of the store;
//! - the payload of an object that is itself reachable (payload words of
//!   `exnref` type are traced);
//! - the exception a host function passes on (`vm::unwind`'s pending slot);
//! - the host: every exnref that reaches the host (results of
//!   `Func::call`, host function parameters, `Global::get`, `Table::get`,
//!   the `Thrown::raw` of an uncaught exception) is *pinned*: kept until the
//!   store is dropped, as before there was a collector, because the host may
//!   keep it anywhere.
//!
//! Any word equal to an object's address, or pointing inside the object or
//! its payload, keeps it (an integer that happens to look like one keeps
//! garbage, never the reverse). Objects not found are freed. A debugger's
//! view of a frame shows exnrefs as numbers and never reads through stale
//! ones; its `catch throw` stop describes the exception while the throw is
//! still on the stack.

use super::unwind::{ExnObj, TagObj};
use crate::types::ValType;
use std::cell::RefCell;
use std::collections::HashSet;

/// The fewest objects a store holds before it collects.
pub const MIN_THRESHOLD: usize = 1024;

/// A store's exception objects.
// Boxes keep addresses stable: exnrefs point at them.
#[allow(clippy::vec_box)]
pub struct ExnHeap {
    objs: Vec<Box<ExnObj>>,
    threshold: usize,
    /// Exnrefs the host has seen (see the module doc); a `RefCell` because
    /// `Global::get` and `Table::get` borrow the store shared.
    pinned: RefCell<HashSet<u64>>,
    collections: u64,
}

impl Default for ExnHeap {
    fn default() -> Self {
        ExnHeap {
            objs: Vec::new(),
            threshold: MIN_THRESHOLD,
            pinned: RefCell::new(HashSet::new()),
            collections: 0,
        }
    }
}

/// Where an object or its payload lies: `[start, end)`, which object, and
/// whether it is the object itself (not its payload).
#[derive(Clone, Copy)]
struct Range {
    start: usize,
    end: usize,
    obj: u32,
    head: bool,
}

impl ExnHeap {
    /// Objects held now (reachable or not yet collected).
    pub fn len(&self) -> usize {
        self.objs.len()
    }

    /// Collections run so far.
    pub fn collections(&self) -> u64 {
        self.collections
    }

    /// Whether the next allocation should collect first.
    pub fn wants_collection(&self) -> bool {
        self.objs.len() >= self.threshold
    }

    /// Makes an exception of tag `tag` with `payload`; returns its exnref.
    pub fn alloc(&mut self, tag: *const TagObj, payload: Box<[u64]>) -> u64 {
        let mut obj = Box::new(ExnObj {
            tag,
            values_ptr: std::ptr::null(),
            values: payload,
        });
        obj.values_ptr = obj.values.as_ptr();
        let raw = &*obj as *const ExnObj as u64;
        self.objs.push(obj);
        raw
    }

    /// Keeps `exn` until the store is dropped: the host has it.
    pub fn pin(&self, exn: u64) {
        if exn != 0 {
            self.pinned.borrow_mut().insert(exn);
        }
    }

    /// Frees every object not reachable from the places the module doc
    /// lists; `roots` are the store's `exnref` globals and table elements.
    /// Called only from the runtime during a `throw` (on the thread running
    /// the store's wasm), or with no wasm running.
    #[inline(never)]
    pub fn collect(&mut self, roots: impl IntoIterator<Item = u64>) {
        self.collections += 1;
        let mut ranges = Vec::with_capacity(self.objs.len() * 2);
        for (i, o) in self.objs.iter().enumerate() {
            let a = &**o as *const ExnObj as usize;
            ranges.push(Range {
                start: a,
                end: a + std::mem::size_of::<ExnObj>(),
                obj: i as u32,
                head: true,
            });
            if !o.values.is_empty() {
                let p = o.values.as_ptr() as usize;
                ranges.push(Range {
                    start: p,
                    end: p + 8 * o.values.len(),
                    obj: i as u32,
                    head: false,
                });
            }
        }
        ranges.sort_unstable_by_key(|r| r.start);
        let mut marks = Marks {
            ranges: &ranges,
            lo: ranges.first().map_or(usize::MAX, |r| r.start),
            hi: ranges.iter().map(|r| r.end).max().unwrap_or(0),
            marked: vec![false; self.objs.len()],
            work: Vec::new(),
        };
        for w in roots {
            marks.visit(w);
        }
        for &p in self.pinned.borrow().iter() {
            marks.visit(p);
        }
        marks.visit(super::unwind::pending_exception());
        if !scan_stack(&mut |w| marks.visit(w)) {
            // Not on the stack wasm runs on (cannot happen: only a throw
            // collects): freeing nothing is the safe answer.
            self.threshold = (2 * self.objs.len()).max(MIN_THRESHOLD);
            return;
        }
        while let Some(i) = marks.work.pop() {
            let o = &self.objs[i];
            // SAFETY: tags are store-owned boxes, alive while the store is
            // (and a collection runs only while it is).
            let params = unsafe { &(*o.tag).params };
            if !params.contains(&ValType::ExnRef) {
                continue;
            }
            let offs = super::layout::value_offsets(params);
            for (t, off) in params.iter().zip(offs) {
                if *t == ValType::ExnRef {
                    marks.visit(o.values[off as usize / 8]);
                }
            }
        }
        // Pins of words that are no object (a value the host made up) go.
        self.pinned.borrow_mut().retain(|&p| {
            marks
                .find(p)
                .is_some_and(|r| r.head && r.start == p as usize)
        });
        let marked = marks.marked;
        let mut k = 0;
        self.objs.retain(|_| {
            k += 1;
            marked[k - 1]
        });
        self.threshold = (2 * self.objs.len()).max(MIN_THRESHOLD);
    }
}

/// The mark state of one collection.
struct Marks<'a> {
    ranges: &'a [Range],
    lo: usize,
    hi: usize,
    marked: Vec<bool>,
    work: Vec<usize>,
}

impl Marks<'_> {
    fn find(&self, w: u64) -> Option<Range> {
        let w = w as usize;
        if w < self.lo || w >= self.hi {
            return None;
        }
        let i = self.ranges.partition_point(|r| r.start <= w);
        let r = *self.ranges.get(i.checked_sub(1)?)?;
        (w < r.end).then_some(r)
    }

    fn visit(&mut self, w: u64) {
        if let Some(r) = self.find(w) {
            let i = r.obj as usize;
            if !self.marked[i] {
                self.marked[i] = true;
                self.work.push(i);
            }
        }
    }
}

/// Calls `visit` with every word of this thread's stack from here to the
/// entry trampoline frame of the outermost activation, and with the
/// callee-saved registers as they are here. False (nothing scanned) when
/// that range is not on this thread's stack.
#[inline(never)]
fn scan_stack(visit: &mut dyn FnMut(u64)) -> bool {
    let mut act = super::traps::current();
    let mut top = 0usize;
    while !act.is_null() {
        // SAFETY: activations on this thread's chain are alive until popped,
        // which happens only after the wasm call under them returned.
        unsafe {
            top = top.max((*act).saved_rbp);
            act = (*act).prev;
        }
    }
    let mut regs = [0u64; 6];
    let sp: usize;
    // SAFETY: stores six registers into `regs` and reads rsp; touches
    // nothing else.
    unsafe {
        std::arch::asm!(
            "mov [{r}], rbx",
            "mov [{r} + 8], rbp",
            "mov [{r} + 16], r12",
            "mov [{r} + 24], r13",
            "mov [{r} + 32], r14",
            "mov [{r} + 40], r15",
            "mov {sp}, rsp",
            r = in(reg) regs.as_mut_ptr(),
            sp = out(reg) sp,
            options(nostack, preserves_flags),
        );
    }
    for w in std::hint::black_box(regs) {
        visit(w);
    }
    if top == 0 {
        // No wasm running: nothing of it is on the stack.
        return true;
    }
    if top < sp || sp < super::traps::thread_stack_low() {
        return false;
    }
    // The trampoline frame's saved rbp and return address too.
    let end = top + 16;
    let mut p = sp & !7;
    while p < end {
        // SAFETY: `[sp, end)` is this thread's stack, mapped and readable:
        // this function's frame up to the outermost activation's entry
        // trampoline frame, all of which is live below our callers.
        visit(unsafe { std::ptr::read_volatile(p as *const u64) });
        p += 8;
    }
    true
}
