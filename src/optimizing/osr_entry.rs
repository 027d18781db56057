//! OSR entries (DESIGN §3.9, on-stack replacement up): a variant of a
//! function whose entry takes a baseline frame's state at one loop header
//! and continues at that header in optimized code.
//!
//! The variant has the function's own signature (so it returns to the
//! baseline frame's caller exactly as the function would, popping the same
//! stack arguments); its caller-VMContext parameter carries a pointer to the
//! state instead: one 8-byte word per local, in local order (the operand
//! stack is empty at the header: other loops get no entry). The entry block
//! branches on that pointer (never null) to a block that loads every local
//! and jumps to the loop header; the ordinary body follows on the other
//! edge, so every value still has a dominating definition.

use super::ir_type;
use super::translate::{Res, Translator};
use crate::types::ValType;
use cranelift_codegen::ir::{Block, InstBuilder, MemFlagsData};

impl Translator<'_, '_> {
    /// Emits the dispatch of an OSR entry for the loop at `loop_offset`
    /// (before the first operator): the header block it jumps to is taken
    /// by [`Self::loop_header`] when that loop is translated.
    pub(crate) fn begin_osr_entry(&mut self, loop_offset: u32) -> Res {
        if self.locals.iter().any(|&(_, t)| t == ValType::V128) {
            return Err("no OSR entry for functions with v128 locals".into());
        }
        let entry = self.b.current_block().ok_or("no entry block")?;
        let state = self.b.block_params(entry)[1];
        let load_state = self.b.create_block();
        let body = self.b.create_block();
        let header = self.b.create_block();
        self.b.ins().brif(state, load_state, &[], body, &[]);
        self.b.seal_block(load_state);
        self.b.seal_block(body);
        self.b.switch_to_block(load_state);
        let flags = MemFlagsData::trusted();
        for i in 0..self.locals.len() {
            let (var, t) = self.locals[i];
            let v = self.b.ins().load(ir_type(t), flags, state, 8 * i as i32);
            self.b.def_var(var, v);
        }
        self.b.ins().jump(header, &[]);
        self.b.switch_to_block(body);
        self.osr_header = Some((loop_offset, header));
        Ok(())
    }

    /// The header block of the loop being translated at the current
    /// offset: the OSR entry's target if this is its loop (which must have
    /// no parameters and an empty operand stack below), else `fresh`.
    pub(crate) fn loop_header(
        &mut self,
        nparams: usize,
        fresh: impl FnOnce(&mut Self) -> Block,
    ) -> Res<Block> {
        match self.osr_header {
            Some((at, header)) if at == self.offset => {
                if nparams != 0 || !self.stack.is_empty() {
                    return Err("the OSR entry's loop has values on the operand stack".into());
                }
                self.osr_header = None;
                Ok(header)
            }
            _ => Ok(fresh(self)),
        }
    }

    /// After the body: the OSR entry found its loop.
    pub(crate) fn end_osr_entry(&self) -> Res {
        match self.osr_header {
            Some((at, _)) => Err(format!("no reachable loop at {at:#x} for the OSR entry")),
            None => Ok(()),
        }
    }
}
