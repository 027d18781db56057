//! Which wasm locals are live at the optimizing tier's interrupt checks
//! (function entry and loop headers): a local is live at a point when some
//! path from there may read it before writing it. Only live locals go into
//! the check's `interrupt_state` record (`vm::layout`), so the record's cold
//! path does not keep dead locals alive across loops.
//!
//! The analysis is a backward dataflow over the structured body: operators
//! are decoded once into a compact event list (local reads and writes,
//! block structure, branches), then walked backward with a bit set of live
//! locals. A branch to a block takes the live set at the block's end; a
//! branch to a loop takes the current estimate of the loop header's set,
//! which starts empty and only grows, so the walk repeats until no header
//! set changes (loop nesting depth + 2 walks for structured code). Past
//! [`MAX_WALKS`] walks, or for a body it cannot decode, the answer is
//! conservative: every local live everywhere.
//!
//! The same decoding finds the *innermost* loops (no loop nested inside)
//! and the locals each writes. Between such a loop's entry and its header
//! check no other check of the function runs, so the values the loop cannot
//! change (live locals it does not write) can be written into the record
//! once before the loop instead of on every check's cold path
//! (`optimizing::preheader`).

use wasmparser::Operator;

/// Walks before giving up on a fixpoint and calling every local live.
const MAX_WALKS: usize = 64;

/// Live locals (ascending indices, parameters included) at every check.
#[derive(Debug, Clone, Default)]
pub(crate) struct Liveness {
    /// At function entry.
    pub entry: Vec<u32>,
    /// (module offset of the `loop` operator, live at its header), by offset.
    pub loops: Vec<(u32, Vec<u32>)>,
    /// The analysis gave up: every local is live everywhere.
    pub all: bool,
    num_locals: u32,
    /// (module offset of an innermost `loop`, the locals it writes,
    /// ascending), by offset.
    pub innermost: Vec<(u32, Vec<u32>)>,
}

impl Liveness {
    /// Every local live everywhere (the safe answer).
    pub fn everything(num_locals: usize) -> Liveness {
        Liveness {
            all: true,
            num_locals: num_locals as u32,
            ..Default::default()
        }
    }

    /// Locals live at the entry check.
    pub fn at_entry(&self) -> std::borrow::Cow<'_, [u32]> {
        if self.all {
            return (0..self.num_locals).collect::<Vec<_>>().into();
        }
        self.entry.as_slice().into()
    }

    /// Locals live at the header of the loop whose operator is at `offset`
    /// (every local for a loop the analysis did not see).
    pub fn at_loop(&self, offset: u32) -> std::borrow::Cow<'_, [u32]> {
        if !self.all {
            if let Ok(i) = self.loops.binary_search_by_key(&offset, |(o, _)| *o) {
                return self.loops[i].1.as_slice().into();
            }
        }
        (0..self.num_locals).collect::<Vec<_>>().into()
    }

    /// The locals written inside the loop at `offset` when it is an
    /// innermost loop the analysis saw (`None` otherwise).
    pub fn innermost_writes(&self, offset: u32) -> Option<&[u32]> {
        if self.all {
            return None;
        }
        let i = self
            .innermost
            .binary_search_by_key(&offset, |(o, _)| *o)
            .ok()?;
        Some(&self.innermost[i].1)
    }
}

/// What a block's `end` closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Func,
    Block,
    If,
    /// The k-th loop of the body.
    Loop(u32),
}

/// The operators that matter for liveness, in body order.
#[derive(Debug, Clone, Copy)]
enum Ev {
    Get(u32),
    Set(u32),
    /// Start of a block, loop or if (the `end` says which).
    Start(Kind),
    Else,
    End(Kind),
    Br(u32),
    BrIf(u32),
    /// Depths `tables[start..start + len]` (deduplicated, default included).
    BrTable(u32, u32),
    /// `return`, `unreachable`: nothing after is read.
    Exit,
}

/// A set of local indices.
#[derive(Clone, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
    fn new(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn insert(&mut self, i: u32) {
        self.0[i as usize / 64] |= 1 << (i % 64);
    }
    fn remove(&mut self, i: u32) {
        self.0[i as usize / 64] &= !(1 << (i % 64));
    }
    fn clear(&mut self) {
        self.0.fill(0);
    }
    fn union(&mut self, other: &Bits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }
    fn copy_from(&mut self, other: &Bits) {
        self.0.copy_from_slice(&other.0);
    }
    fn to_list(&self) -> Vec<u32> {
        let mut out = Vec::new();
        for (w, &word) in self.0.iter().enumerate() {
            let mut x = word;
            while x != 0 {
                out.push(w as u32 * 64 + x.trailing_zeros());
                x &= x - 1;
            }
        }
        out
    }
}

/// Sorted union of two ascending lists.
fn merge(a: &[u32], b: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The decoded body.
struct Events {
    evs: Vec<Ev>,
    tables: Vec<u32>,
    /// Module offset of each loop operator, in body order.
    loop_offsets: Vec<u32>,
    /// Innermost loops: offset and the locals written inside (sorted).
    innermost: Vec<(u32, Vec<u32>)>,
}

/// A loop open during decoding: its offset, the locals written inside it
/// so far, and whether a loop is nested in it.
struct OpenLoop {
    offset: u32,
    writes: Vec<u32>,
    nested: bool,
}

/// Decodes the operators into events; `None` for a body that does not
/// decode or nest (the translator reports it).
fn decode(ops: wasmparser::OperatorsReader<'_>, num_locals: u32) -> Option<Events> {
    let mut ops = ops;
    let mut out = Events {
        evs: Vec::new(),
        tables: Vec::new(),
        loop_offsets: Vec::new(),
        innermost: Vec::new(),
    };
    let mut open: Vec<Kind> = vec![Kind::Func];
    let mut loops: Vec<OpenLoop> = Vec::new();
    let local = |i: u32| (i < num_locals).then_some(i);
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset().ok()?;
        let ev = match op {
            Operator::LocalGet { local_index } => Ev::Get(local(local_index)?),
            Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
                let i = local(local_index)?;
                if let Some(l) = loops.last_mut() {
                    l.writes.push(i);
                }
                Ev::Set(i)
            }
            Operator::Block { .. } => {
                open.push(Kind::Block);
                Ev::Start(Kind::Block)
            }
            Operator::If { .. } => {
                open.push(Kind::If);
                Ev::Start(Kind::If)
            }
            Operator::Loop { .. } => {
                let k = Kind::Loop(out.loop_offsets.len() as u32);
                out.loop_offsets.push(offset as u32);
                open.push(k);
                if let Some(l) = loops.last_mut() {
                    l.nested = true;
                }
                loops.push(OpenLoop {
                    offset: offset as u32,
                    writes: Vec::new(),
                    nested: false,
                });
                Ev::Start(k)
            }
            Operator::Else => match open.last() {
                Some(Kind::If) => Ev::Else,
                _ => return None,
            },
            Operator::End => {
                let kind = open.pop()?;
                if let Kind::Loop(_) = kind {
                    let mut l = loops.pop()?;
                    if !l.nested {
                        l.writes.sort_unstable();
                        l.writes.dedup();
                        out.innermost.push((l.offset, l.writes));
                    }
                }
                Ev::End(kind)
            }
            Operator::Br { relative_depth } => Ev::Br(relative_depth),
            Operator::BrIf { relative_depth }
            | Operator::BrOnNull { relative_depth }
            | Operator::BrOnNonNull { relative_depth } => Ev::BrIf(relative_depth),
            Operator::BrTable { targets } => {
                let start = out.tables.len();
                out.tables.push(targets.default());
                for t in targets.targets() {
                    out.tables.push(t.ok()?);
                }
                out.tables[start..].sort_unstable();
                let mut n = start;
                for k in start..out.tables.len() {
                    if k == start || out.tables[k] != out.tables[n - 1] {
                        out.tables[n] = out.tables[k];
                        n += 1;
                    }
                }
                out.tables.truncate(n);
                Ev::BrTable(start as u32, (n - start) as u32)
            }
            // Exception handlers are reached from any call in their region:
            // such bodies keep every local (the conservative answer).
            Operator::TryTable { .. } | Operator::Try { .. } => return None,
            Operator::Return
            | Operator::Unreachable
            | Operator::ReturnCall { .. }
            | Operator::ReturnCallIndirect { .. }
            | Operator::ReturnCallRef { .. } => Ev::Exit,
            _ => continue,
        };
        out.evs.push(ev);
    }
    open.is_empty().then_some(out)
}

/// An open block during the backward walk.
struct Open {
    kind: Kind,
    /// Live at the block's end (blocks, ifs, the function).
    end: Bits,
    /// Live at the start of an if's else arm, once walked.
    else_live: Option<Bits>,
}

/// Liveness of the locals of a body whose operators `ops` reads.
pub(crate) fn analyze(ops: wasmparser::OperatorsReader<'_>, num_locals: usize) -> Liveness {
    let Some(ev) = decode(ops, num_locals as u32) else {
        return Liveness::everything(num_locals);
    };
    let mut headers: Vec<Vec<u32>> = vec![Vec::new(); ev.loop_offsets.len()];
    for _ in 0..MAX_WALKS {
        let Some((entry, changed)) = walk(&ev, num_locals, &mut headers) else {
            return Liveness::everything(num_locals);
        };
        if !changed {
            let mut loops: Vec<(u32, Vec<u32>)> =
                ev.loop_offsets.iter().copied().zip(headers).collect();
            loops.sort_by_key(|(o, _)| *o);
            let mut innermost = ev.innermost;
            innermost.sort_by_key(|(o, _)| *o);
            return Liveness {
                entry,
                loops,
                all: false,
                num_locals: num_locals as u32,
                innermost,
            };
        }
    }
    Liveness::everything(num_locals)
}

/// One backward walk: the entry set, and whether a loop header set grew.
/// `None` for a branch depth outside the body (not validated yet).
fn walk(ev: &Events, n: usize, headers: &mut [Vec<u32>]) -> Option<(Vec<u32>, bool)> {
    let mut live = Bits::new(n);
    let mut scratch = Bits::new(n);
    let mut open: Vec<Open> = Vec::new();
    let mut spare: Vec<Bits> = Vec::new();
    let mut changed = false;
    // Live at the target of a branch `depth` levels out, into `into`.
    fn target(
        open: &[Open],
        headers: &[Vec<u32>],
        depth: u32,
        into: &mut Bits,
        union: bool,
    ) -> Option<()> {
        let f = open.get(open.len().checked_sub(1 + depth as usize)?)?;
        match f.kind {
            Kind::Loop(k) => {
                if !union {
                    into.clear();
                }
                for &i in &headers[k as usize] {
                    into.insert(i);
                }
            }
            _ if union => into.union(&f.end),
            _ => into.copy_from(&f.end),
        }
        Some(())
    }
    for e in ev.evs.iter().rev() {
        match *e {
            Ev::Get(i) => live.insert(i),
            Ev::Set(i) => live.remove(i),
            Ev::End(kind) => {
                let mut end = spare.pop().unwrap_or_else(|| Bits::new(n));
                if matches!(kind, Kind::Func) {
                    end.clear();
                } else {
                    end.copy_from(&live);
                }
                open.push(Open {
                    kind,
                    end,
                    else_live: None,
                });
            }
            Ev::Else => {
                let f = open.last_mut()?;
                f.else_live = Some(live.clone());
                live.copy_from(&f.end);
            }
            Ev::Start(kind) => {
                let f = open.pop()?;
                if f.kind != kind {
                    return None;
                }
                match kind {
                    Kind::If => match &f.else_live {
                        Some(e) => live.union(e),
                        None => live.union(&f.end),
                    },
                    Kind::Loop(k) => {
                        let now = live.to_list();
                        let old = &mut headers[k as usize];
                        let grown = merge(old, &now);
                        if grown.len() != old.len() {
                            *old = grown;
                            changed = true;
                        }
                    }
                    _ => {}
                }
                spare.push(f.end);
            }
            Ev::Br(d) => target(&open, headers, d, &mut live, false)?,
            Ev::BrIf(d) => target(&open, headers, d, &mut live, true)?,
            Ev::BrTable(start, len) => {
                scratch.clear();
                for &d in &ev.tables[start as usize..(start + len) as usize] {
                    target(&open, headers, d, &mut scratch, true)?;
                }
                live.copy_from(&scratch);
            }
            Ev::Exit => live.clear(),
        }
    }
    // What is left open is the function frame.
    if open.len() != 1 || open[0].kind != Kind::Func {
        return None;
    }
    Some((live.to_list(), changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live(wat: &str) -> Liveness {
        let bytes = wat::parse_str(wat).expect("valid wat");
        let info = crate::module::ModuleInfo::parse(bytes).expect("valid module");
        let f = info.num_imported_funcs;
        let body = info.read_body(f, None).expect("body");
        analyze(body.ops, body.locals.len())
    }

    #[test]
    fn loop_header_sets() {
        // Local 0 (param) is read in the loop; local 1 is written before
        // any read in the loop; local 2 is read after the loop only; local 3
        // is never read.
        let l = live(
            r#"(module (func (param i32) (local i32 i32 i32)
                (loop
                  (local.set 1 (local.get 0))
                  (local.set 3 (local.get 1))
                  (br_if 0 (local.get 0)))
                (drop (local.get 2))))"#,
        );
        assert!(!l.all);
        assert_eq!(l.entry, vec![0, 2]);
        assert_eq!(l.loops.len(), 1);
        assert_eq!(l.loops[0].1, vec![0, 2]);
    }

    #[test]
    fn back_edges_and_nesting_reach_a_fixpoint() {
        // Local 1 is read at the top of the outer loop only through the
        // inner loop's exit and the outer back edge.
        let l = live(
            r#"(module (func (param i32) (local i32 i32)
                (loop $outer
                  (drop (local.get 1))
                  (loop $inner
                    (local.set 2 (i32.const 1))
                    (br_if $inner (local.get 2)))
                  (local.set 1 (i32.const 0))
                  (br_if $outer (local.get 0)))))"#,
        );
        assert_eq!(l.entry, vec![0, 1]);
        // outer header: 0 (br_if) and 1 (read first); inner header: 0 only
        // (1 is written after the inner loop before any read).
        assert_eq!(l.loops[0].1, vec![0, 1]);
        assert_eq!(l.loops[1].1, vec![0]);
    }

    #[test]
    fn if_arms_and_br_table_join() {
        let l = live(
            r#"(module (func (param i32) (local i32 i32 i32)
                (loop
                  (if (local.get 0)
                    (then (drop (local.get 1)))
                    (else (local.set 2 (i32.const 0)) (drop (local.get 2))))
                  (block (block
                    (br_table 0 1 2 (local.get 0)))
                    (drop (local.get 3)))
                  )))"#,
        );
        // The br_table reaches the header (0, 1) and the read of local 3.
        assert_eq!(l.loops[0].1, vec![0, 1, 3]);
        assert_eq!(l.entry, vec![0, 1, 3]);
    }

    #[test]
    fn innermost_loops_and_their_writes() {
        let l = live(
            r#"(module (func (param i32) (local i32 i32 i32)
                (loop $outer
                  (local.set 3 (i32.const 0))
                  (loop $inner
                    (local.set 2 (local.get 0))
                    (local.set 1 (local.get 2))
                    (local.set 2 (i32.const 1))
                    (br_if $inner (local.get 2)))
                  (br_if $outer (local.get 0)))
                (loop $flat
                  (br_if $flat (local.get 3)))))"#,
        );
        assert_eq!(l.innermost.len(), 2, "{:?}", l.innermost);
        let (outer, inner, flat) = (l.loops[0].0, l.loops[1].0, l.loops[2].0);
        assert_eq!(l.innermost_writes(outer), None);
        assert_eq!(l.innermost_writes(inner), Some(&[1, 2][..]));
        assert_eq!(l.innermost_writes(flat), Some(&[][..]));
        assert_eq!(Liveness::everything(4).innermost_writes(inner), None);
    }

    #[test]
    fn undecodable_bodies_are_conservative() {
        let l = Liveness::everything(3);
        assert_eq!(&*l.at_loop(7), &[0, 1, 2]);
        assert_eq!(&*l.at_entry(), &[0, 1, 2]);
    }
}
