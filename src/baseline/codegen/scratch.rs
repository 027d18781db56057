//! Buffers a compiler thread reuses from one function to the next, so that
//! compiling a function does not grow fresh vectors from empty (allocation
//! and regrowth were most of debug code's compile time): the out-of-line
//! queues, the debug checks' position and reload lists, and the offset map,
//! trap list and debug side table, which are recorded here and copied out at
//! their exact size when the function is done.

use super::OutOfLine;
use crate::baseline::masm::Gpr;
use crate::code::{StackRecorder, TableBuffers, TrapSite};
use std::cell::Cell;

#[derive(Default)]
pub(super) struct Scratch {
    pub ool: Vec<OutOfLine>,
    /// Where emitting out-of-line code queues more of it (trap stubs).
    pub ool_next: Vec<OutOfLine>,
    /// (breakable position, wasm offset) of every debug check, by check.
    pub debug_points: Vec<(u32, u32)>,
    /// (register, local slot, 64-bit) reloaded after each debug check's hook.
    pub debug_reloads: Vec<(Gpr, i32, bool)>,
    pub offset_map: Vec<(u32, u32)>,
    pub trap_sites: Vec<TrapSite>,
    pub table: TableBuffers,
    pub recorder: StackRecorder,
}

/// Offset-map entries beyond which a thread does not keep its buffers
/// (about 20,000 instructions of debug code; the buffers are then ~2 MiB).
const KEEP_ENTRIES: usize = 1 << 16;

thread_local! {
    static SPARE: Cell<Option<Box<Scratch>>> = const { Cell::new(None) };
}

impl Scratch {
    /// This thread's buffers, emptied (fresh ones the first time), with
    /// room for a body of `body_len` bytes of wasm: one instruction per two
    /// bytes, as in `samples/big.wasm` (2.4 bytes per instruction). Debug
    /// code has a breakable position, a check and a trap stub for each.
    pub fn take(body_len: usize, debug: bool) -> Box<Scratch> {
        let mut s = SPARE.take().unwrap_or_default();
        s.ool.clear();
        s.ool_next.clear();
        s.debug_points.clear();
        s.debug_reloads.clear();
        s.offset_map.clear();
        s.trap_sites.clear();
        s.recorder.reset();
        let ops = body_len / 2 + 16;
        if debug {
            s.ool.reserve(ops);
            s.ool_next.reserve(ops);
            s.debug_points.reserve(ops);
            s.offset_map.reserve(3 * ops);
            s.trap_sites.reserve(ops);
            s.table.reserve(ops);
        } else {
            s.offset_map.reserve(ops);
        }
        s
    }

    /// Keeps `s` for this thread's next function, unless a large function
    /// grew it: compiler threads live long, and what they keep stays small.
    pub fn give_back(s: Box<Scratch>) {
        if s.offset_map.capacity() <= KEEP_ENTRIES {
            SPARE.set(Some(s));
        }
    }
}
