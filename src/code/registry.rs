//! The process-wide code registry: which code object holds a native pc.
//!
//! Readers — the trap and profiling signal handlers among them — take no lock:
//! they announce themselves in [`READERS`], load the current immutable
//! snapshot and read the object through a raw pointer. Writers (publish and a
//! code object's drop) serialize on [`WRITER`], swap in a new snapshot, and
//! free the old one — and let a dropping object unmap its memory — only after
//! every reader that could have seen it has left. So a lookup never blocks,
//! never allocates and never drops an object, even on a thread that faults
//! while it holds the writer lock.

use super::CodeObject;
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, Weak};

/// One registered object: its address range, a pointer for lock-free
/// readers, and a weak handle for callers that need to keep it.
struct Entry {
    start: usize,
    end: usize,
    object: *const CodeObject,
    handle: Weak<CodeObject>,
}

/// An immutable, sorted (by `start`) list of the registered objects.
struct Snapshot {
    entries: Vec<Entry>,
}

// SAFETY: the raw pointers are only dereferenced while the object is
// registered; unregistering waits until no reader can still hold them.
unsafe impl Send for Snapshot {}
// SAFETY: as above; the snapshot itself is never mutated once published.
unsafe impl Sync for Snapshot {}

/// The current snapshot (null before the first publish).
static SNAPSHOT: AtomicPtr<Snapshot> = AtomicPtr::new(ptr::null_mut());
/// Readers inside a snapshot right now.
static READERS: AtomicUsize = AtomicUsize::new(0);
/// Serializes writers; never taken by readers.
static WRITER: Mutex<()> = Mutex::new(());

/// Runs `f` on the current snapshot. Lock-free and allocation-free.
fn read<R>(f: impl FnOnce(&[Entry]) -> R) -> R {
    // Announce first, then load: a writer that sees no readers after its swap
    // knows every later reader loads the new snapshot (both are SeqCst).
    READERS.fetch_add(1, SeqCst);
    let snap = SNAPSHOT.load(SeqCst);
    let result = if snap.is_null() {
        f(&[])
    } else {
        // SAFETY: a snapshot is freed only after READERS drops to zero once
        // it is no longer current, and we are counted in READERS.
        f(unsafe { &(*snap).entries })
    };
    READERS.fetch_sub(1, SeqCst);
    result
}

fn find(entries: &[Entry], pc: usize) -> Option<&Entry> {
    let i = entries.partition_point(|e| e.start <= pc);
    let e = entries.get(i.checked_sub(1)?)?;
    (pc < e.end).then_some(e)
}

/// Calls `f` with the object containing `pc`. Lock-free; safe in signal handlers.
pub(super) fn with_object_at<R>(pc: usize, f: impl FnOnce(&CodeObject) -> R) -> Option<R> {
    read(|entries| {
        let e = find(entries, pc)?;
        // SAFETY: the object stays alive while it is in a snapshot we read
        // (its drop unregisters and waits for us first).
        Some(f(unsafe { &*e.object }))
    })
}

/// A strong reference to the object containing `pc`, if it is still alive.
/// The reference is taken inside the read and released outside it, so if it
/// turns out to be the last one, the drop runs after this reader has left.
pub(super) fn upgrade_at(pc: usize) -> Option<Arc<CodeObject>> {
    read(|entries| find(entries, pc)?.handle.upgrade())
}

/// Every registered object that is still alive.
pub(super) fn live_objects() -> Vec<Arc<CodeObject>> {
    read(|entries| entries.iter().filter_map(|e| e.handle.upgrade()).collect())
}

/// Replaces the snapshot with `edit` applied to a copy of it, then frees the
/// old one once no reader can still see it. Returns after that point.
fn write(edit: impl FnOnce(&mut Vec<Entry>)) {
    let _writer = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    let old = SNAPSHOT.load(SeqCst);
    let mut entries: Vec<Entry> = if old.is_null() {
        Vec::new()
    } else {
        // SAFETY: only writers free snapshots, and we hold the writer lock.
        unsafe { &(*old).entries }
            .iter()
            .map(|e| Entry {
                start: e.start,
                end: e.end,
                object: e.object,
                handle: e.handle.clone(),
            })
            .collect()
    };
    edit(&mut entries);
    let new = Box::into_raw(Box::new(Snapshot { entries }));
    SNAPSHOT.store(new, SeqCst);
    // Readers are short (a binary search and a few loads) and never wait, so
    // this spin ends quickly.
    while READERS.load(SeqCst) != 0 {
        std::thread::yield_now();
    }
    if !old.is_null() {
        // SAFETY: `old` is no longer current and no reader is inside any
        // snapshot, so nothing can still reference it.
        drop(unsafe { Box::from_raw(old) });
    }
}

/// Registers a freshly published object.
pub(super) fn insert(obj: &Arc<CodeObject>) {
    let entry = Entry {
        start: obj.start(),
        end: obj.end(),
        object: Arc::as_ptr(obj),
        handle: Arc::downgrade(obj),
    };
    write(|entries| {
        let i = entries.partition_point(|e| e.start < entry.start);
        entries.insert(i, entry);
    });
}

/// Unregisters the object starting at `start`; returns once no reader can
/// still reach it.
pub(super) fn remove(start: usize) {
    write(|entries| entries.retain(|e| e.start != start));
}

/// Runs `f` while holding the writer lock (a test hook).
pub(super) fn with_writer_held<R>(f: impl FnOnce() -> R) -> R {
    let _writer = WRITER.lock().unwrap_or_else(|e| e.into_inner());
    f()
}
