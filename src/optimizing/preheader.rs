//! Record values written before an innermost loop (its preheader), so that
//! the loop's interrupt check writes only what the loop can change.
//!
//! A check's cold path stores the live locals and the operand stack into
//! the function's record slot (`env.rs`, `interrupt_state`). A value stored
//! there is *used* inside the loop, on the cold path, and regalloc2 keeps
//! such a use in mind on the hot path: a value that is live across the loop
//! but unused in it (an outer loop's counter, a limit) got reloaded at the
//! loop header and spilled again at the back edge, every iteration. Before
//! an innermost loop (no loop nested in it: no other check of the function
//! runs between its entry and its header check, so nothing else writes the
//! slot meanwhile) the values the loop cannot change — live locals it does
//! not write, operand-stack values below the loop's parameters — go into
//! their places in the record once; the check's cold path writes the rest
//! (header, tags, the locals the loop writes, the loop's parameters). The
//! record the runtime reads at the check is the same, complete record.
//!
//! Not for the loop an OSR entry jumps into (it bypasses the preheader), for
//! bodies whose liveness analysis gave up, nor for loops with more than
//! [`MAX_HOISTED`] such values (the stores run at every entry of the loop).

use super::translate::Translator;
use crate::types::ValType;
use crate::vm::layout::interrupt_state::{record_words, tag_words, HEADER_WORDS};
use cranelift_codegen::ir::types::{F32, F64, I32, I64};
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value};

/// Most values written before one loop; a loop with more keeps them all on
/// its check's cold path.
pub(crate) const MAX_HOISTED: usize = 64;

/// The values of a loop check's record already written in its preheader.
pub(crate) struct Hoisted {
    /// Module offset of the loop.
    pub offset: u32,
    /// By value index of the record (live locals, then the operand stack).
    pub written: Vec<bool>,
}

impl Translator<'_, '_> {
    /// The wasm type of an operand-stack value (by its IR type).
    pub(crate) fn stack_val_type(&self, v: Value) -> ValType {
        match self.b.func.dfg.value_type(v) {
            I32 => ValType::I32,
            I64 => ValType::I64,
            F32 => ValType::F32,
            F64 => ValType::F64,
            _ => ValType::V128,
        }
    }

    /// Types of a check's record values: the `live` locals, then the
    /// operand stack as it is now.
    pub(crate) fn record_types(&self, live: &[u32]) -> Vec<ValType> {
        let mut types: Vec<ValType> = live.iter().map(|&i| self.locals[i as usize].1).collect();
        for &v in &self.stack {
            types.push(self.stack_val_type(v));
        }
        types
    }

    /// Before the loop at the current offset, whose parameters are the
    /// operand stack from `base` up: writes the record values the loop
    /// cannot change, when it is an innermost loop, and notes them for its
    /// check (`take_hoisted`).
    pub(crate) fn hoist_record_values(&mut self, base: usize) {
        self.hoisted = None;
        let Some(writes) = self.liveness.innermost_writes(self.offset) else {
            return;
        };
        let live = self.liveness.at_loop(self.offset).into_owned();
        let mut written: Vec<bool> = live
            .iter()
            .map(|i| writes.binary_search(i).is_err())
            .collect();
        written.extend((0..self.stack.len()).map(|k| k < base));
        let count = written.iter().filter(|&&w| w).count();
        if count == 0 || count > MAX_HOISTED {
            return;
        }
        let types = self.record_types(&live);
        let slot = self.record_slot(record_words(&types));
        let addr = self.b.ins().stack_addr(I64, slot, 0);
        let flags = MemFlagsData::trusted();
        let unaligned = MemFlagsData::new().with_notrap();
        let mut at = HEADER_WORDS + tag_words(types.len());
        for (k, &t) in types.iter().enumerate() {
            if written[k] {
                let v = match live.get(k) {
                    Some(&i) => self.b.use_var(self.locals[i as usize].0),
                    None => self.stack[k - live.len()],
                };
                let f = if t.is_v128() { unaligned } else { flags };
                self.b.ins().store(f, v, addr, 8 * at as i32);
            }
            at += t.words();
        }
        self.hoisted = Some(Hoisted {
            offset: self.offset,
            written,
        });
    }

    /// What the preheader of the loop whose check is being emitted wrote
    /// (none for another check).
    pub(crate) fn take_hoisted(&mut self, entry: bool) -> Option<Vec<bool>> {
        let h = self.hoisted.take()?;
        (!entry && h.offset == self.offset).then_some(h.written)
    }
}
