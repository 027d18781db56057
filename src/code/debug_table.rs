//! The debug side table of baseline debug code: for every breakable position,
//! where each local and operand-stack value lives.
//!
//! Operand stacks are stored as a tree of shared prefixes: each node is one
//! stack entry plus the node of the entry below it, and a position names the
//! node of its top entry. Consecutive positions share everything below the
//! deepest entry that changed between them, so the table grows with the
//! number of stack changes, not with positions × stack depth (a function of
//! N constants then N−1 adds has O(N) nodes, not O(N²) entries).

use super::ValueLoc;
use crate::types::ValType;

/// No node: the operand stack is empty at (or below) this point.
pub const NO_NODE: u32 = u32::MAX;

/// One breakable position of debug code.
#[derive(Debug, Clone)]
pub struct DebugPoint {
    pub wasm_offset: u32,
    /// Node of the top operand-stack entry (`NO_NODE` when the stack is empty).
    pub stack_top: u32,
    /// Operand-stack depth.
    pub stack_len: u32,
}

/// One operand-stack entry and the node below it.
#[derive(Debug, Clone, Copy)]
struct StackNode {
    below: u32,
    ty: ValType,
    loc: ValueLoc,
}

/// For each breakable position: where each local and operand-stack value lives.
#[derive(Debug, Clone, Default)]
pub struct DebugSideTable {
    /// Local `i` lives at `locals[i]` during the whole function.
    pub locals: Vec<(ValType, ValueLoc)>,
    /// Breakable positions in instruction order; `points[k]` is position `k`.
    pub points: Vec<DebugPoint>,
    nodes: Vec<StackNode>,
}

impl DebugSideTable {
    pub fn new(locals: Vec<(ValType, ValueLoc)>) -> DebugSideTable {
        DebugSideTable {
            locals,
            points: Vec::new(),
            nodes: Vec::new(),
        }
    }

    /// The operand stack at position `k`, bottom first (empty for an unknown position).
    pub fn stack_at(&self, k: usize) -> Vec<(ValType, ValueLoc)> {
        let Some(p) = self.points.get(k) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(p.stack_len as usize);
        let mut n = p.stack_top;
        while n != NO_NODE && out.len() < p.stack_len as usize {
            let node = self.nodes[n as usize];
            out.push((node.ty, node.loc));
            n = node.below;
        }
        out.reverse();
        out
    }

    /// The top operand-stack entry at position `k`.
    pub fn top_at(&self, k: usize) -> Option<(ValType, ValueLoc)> {
        let p = self.points.get(k)?;
        let node = self.nodes.get(p.stack_top as usize)?;
        Some((node.ty, node.loc))
    }

    /// Stack entries stored for all positions together (the table's size
    /// beyond one record per position and per local).
    pub fn stored_entries(&self) -> usize {
        self.nodes.len()
    }

    /// Stores entry (`ty`, `loc`) on top of node `below`; returns its node.
    pub fn push_entry(&mut self, below: u32, ty: ValType, loc: ValueLoc) -> u32 {
        debug_assert!(below == NO_NODE || (below as usize) < self.nodes.len());
        self.nodes.push(StackNode { below, ty, loc });
        self.nodes.len() as u32 - 1
    }

    /// A table for `locals` that records into `bufs` (their contents are
    /// dropped, their capacity is kept: a compiler thread reuses them from
    /// one function to the next, see [`DebugSideTable::finish`]).
    pub fn new_in(locals: Vec<(ValType, ValueLoc)>, bufs: TableBuffers) -> DebugSideTable {
        let TableBuffers {
            mut points,
            mut nodes,
        } = bufs;
        points.clear();
        nodes.clear();
        DebugSideTable {
            locals,
            points,
            nodes,
        }
    }

    /// The finished table, with vectors of exactly its size, and the
    /// buffers it was recorded into, for the next function.
    pub fn finish(self) -> (DebugSideTable, TableBuffers) {
        let table = DebugSideTable {
            locals: self.locals,
            points: self.points.as_slice().to_vec(),
            nodes: self.nodes.as_slice().to_vec(),
        };
        let bufs = TableBuffers {
            points: self.points,
            nodes: self.nodes,
        };
        (table, bufs)
    }

    /// Adds position `points.len()` whose stack has `stack_len` entries, the
    /// top one at node `stack_top`; returns the position.
    pub fn push_point(&mut self, wasm_offset: u32, stack_top: u32, stack_len: u32) -> u32 {
        self.points.push(DebugPoint {
            wasm_offset,
            stack_top,
            stack_len,
        });
        self.points.len() as u32 - 1
    }
}

/// Buffers a compiler thread keeps between functions to record debug side
/// tables into (growing a table's vectors was a visible share of compile time).
#[derive(Debug, Default)]
pub struct TableBuffers {
    points: Vec<DebugPoint>,
    nodes: Vec<StackNode>,
}

impl TableBuffers {
    /// Room for `points` positions and as many stack entries.
    pub fn reserve(&mut self, points: usize) {
        self.points.reserve(points);
        self.nodes.reserve(points);
    }
}

/// Records operand stacks into a [`DebugSideTable`] incrementally: it keeps
/// the node of every entry of the last recorded stack, and a new position only
/// stores the entries at or above the lowest depth that changed since.
#[derive(Debug, Default)]
pub struct StackRecorder {
    /// Node of entry `i` of the last recorded stack.
    nodes: Vec<u32>,
}

impl StackRecorder {
    /// Forgets the last recorded stack (for a new function), keeping the buffer.
    pub fn reset(&mut self) {
        self.nodes.clear();
    }

    /// Records a position whose stack is `entries` (bottom first), where
    /// entries below depth `unchanged` are the same as at the last call.
    pub fn record(
        &mut self,
        table: &mut DebugSideTable,
        wasm_offset: u32,
        unchanged: usize,
        len: usize,
        entry: impl Fn(usize) -> (ValType, ValueLoc),
    ) -> u32 {
        self.nodes.truncate(unchanged.min(len));
        for i in self.nodes.len()..len {
            let (ty, loc) = entry(i);
            let below = self.nodes.last().copied().unwrap_or(NO_NODE);
            self.nodes.push(table.push_entry(below, ty, loc));
        }
        let top = self.nodes.last().copied().unwrap_or(NO_NODE);
        table.push_point(wasm_offset, top, len as u32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_share_unchanged_prefixes() {
        let mut t = DebugSideTable::new(Vec::new());
        let mut r = StackRecorder::default();
        let e = |i: usize| (ValType::I32, ValueLoc::Const(i as u64));
        // Pushes: each position adds one node.
        for len in 0..5 {
            r.record(&mut t, len as u32, len, len, e);
        }
        assert_eq!(t.stored_entries(), 4);
        assert_eq!(t.stack_at(4), (0..4).map(e).collect::<Vec<_>>());
        assert!(t.stack_at(0).is_empty());
        assert_eq!(t.top_at(0), None);
        // A changed entry at depth 1: entries 1.. are stored again.
        let changed = |i: usize| (ValType::I64, ValueLoc::Gpr(i as u8));
        let k = r.record(&mut t, 9, 1, 3, |i| if i == 0 { e(0) } else { changed(i) });
        assert_eq!(t.stored_entries(), 6);
        assert_eq!(t.stack_at(k as usize), vec![e(0), changed(1), changed(2)]);
        assert_eq!(t.top_at(k as usize), Some(changed(2)));
        // Earlier positions are unaffected.
        assert_eq!(t.stack_at(3), (0..3).map(e).collect::<Vec<_>>());
        assert!(t.stack_at(99).is_empty());
    }

    #[test]
    fn finished_tables_are_exact_copies_and_buffers_are_reused() {
        let e = |i: usize| (ValType::I32, ValueLoc::Const(i as u64));
        let mut bufs = TableBuffers::default();
        let mut tables = Vec::new();
        for round in 0..2usize {
            let mut t = DebugSideTable::new_in(vec![e(round)], bufs);
            let mut r = StackRecorder::default();
            for len in 0..3 + round {
                r.record(&mut t, len as u32, len, len, e);
            }
            let (done, b) = t.finish();
            assert!(b.points.capacity() >= done.points.len());
            bufs = b;
            tables.push(done);
        }
        // The second table starts empty: nothing of the first leaks into it.
        assert_eq!(tables[1].points.len(), 4);
        assert_eq!(tables[1].stored_entries(), 3);
        assert_eq!(tables[1].stack_at(3), (0..3).map(e).collect::<Vec<_>>());
        assert_eq!(tables[0].stack_at(2), (0..2).map(e).collect::<Vec<_>>());
        assert_eq!(tables[1].locals, vec![e(1)]);
    }
}
