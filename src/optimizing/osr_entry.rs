//! OSR entries (DESIGN §3.9, on-stack replacement up): a variant of a
//! function whose entry takes a baseline frame's state at one loop header
//! and continues at that header in optimized code.
//!
//! The variant has the function's own signature (so it returns to the
//! baseline frame's caller exactly as the function would, popping the same
//! stack arguments); its caller-VMContext parameter carries a pointer to the
//! state instead: every local in local order, then the operand stack at the
//! header bottom first (the loop's parameters last), one 8-byte word each
//! (two for a v128, low half first). The entry block branches on that
//! pointer (never null) to a block that loads the state and jumps to the
//! loop header; the ordinary body follows on the other edge.
//!
//! Locals are frontend variables, so their values merge by themselves where
//! the two paths meet. Operand-stack values are plain SSA values, so the
//! values *below* the loop's parameters (pushed before the loop began, on
//! the ordinary path only) are made variables too, keyed by stack depth and
//! type: every frame that starts before the loop defines them for the
//! depths below its base, and the translator reads them back wherever a
//! block reachable from the entry meets code from before the loop: every
//! loop header up to the entry's loop (a loop around it is entered again
//! through its back edge), and the `else`, `catch` and end of each frame
//! around the entry's loop. Code inside a frame never touches the values
//! below its base, so these are the only places they are read.

use super::ir_type;
use super::translate::{Res, Translator};
use crate::types::ValType;
use cranelift_codegen::ir::{Block, BlockArg, InstBuilder, MemFlagsData, Type, Value};
use cranelift_frontend::Variable;
use std::collections::HashMap;

/// Where the translation of an OSR entry stands (`Off` for ordinary code).
#[derive(Default)]
pub(crate) enum OsrEntry {
    #[default]
    Off,
    /// Before the entry's loop (module offset `at`): `load` is the block the
    /// entry branches to, filled when the loop is reached.
    Before { at: u32, load: Block, state: Value },
    /// After the loop's header: frames `0..around` enclose the loop.
    After { around: usize },
}

/// The operand-stack variables of an OSR entry (see the module docs).
#[derive(Default)]
pub(crate) struct OsrVars {
    vars: HashMap<(usize, Type), Variable>,
}

/// Bytes one value of IR type `t` takes in the state.
fn state_size(t: Type) -> i32 {
    if t.bytes() > 8 {
        16
    } else {
        8
    }
}

impl Translator<'_, '_> {
    /// Emits the dispatch of an OSR entry for the loop at `loop_offset`
    /// (before the first operator); the block that loads the state is
    /// filled when that loop is translated ([`Self::osr_loop_entered`]).
    pub(crate) fn begin_osr_entry(&mut self, loop_offset: u32) -> Res {
        let entry = self.b.current_block().ok_or("no entry block")?;
        let state = self.b.block_params(entry)[1];
        let load = self.b.create_block();
        let body = self.b.create_block();
        self.b.ins().brif(state, load, &[], body, &[]);
        self.b.seal_block(load);
        self.b.seal_block(body);
        self.b.switch_to_block(body);
        self.osr = OsrEntry::Before {
            at: loop_offset,
            load,
            state,
        };
        Ok(())
    }

    fn osr_var(&mut self, depth: usize, t: Type) -> Variable {
        if let Some(&v) = self.osr_vars.vars.get(&(depth, t)) {
            return v;
        }
        let v = self.b.declare_var(t);
        self.osr_vars.vars.insert((depth, t), v);
        v
    }

    /// A frame whose values below it start at depth `base` begins: before
    /// the entry's loop, those values become their variables' definitions.
    pub(crate) fn osr_frame_start(&mut self, base: usize) {
        if !matches!(self.osr, OsrEntry::Before { .. }) {
            return;
        }
        for i in 0..base {
            let v = self.stack[i];
            let t = self.b.func.dfg.value_type(v);
            let var = self.osr_var(i, t);
            self.b.def_var(var, v);
        }
    }

    /// Reads the values below depth `base` back from their variables (in
    /// the block being built).
    fn osr_reread(&mut self, base: usize) {
        for i in 0..base {
            let t = self.b.func.dfg.value_type(self.stack[i]);
            let var = self.osr_var(i, t);
            self.stack[i] = self.b.use_var(var);
        }
    }

    /// True when the loop being translated is the entry's.
    pub(crate) fn osr_loop_here(&self) -> bool {
        matches!(self.osr, OsrEntry::Before { at, .. } if at == self.offset)
    }

    /// The entry's loop (`here`, from [`Self::osr_loop_here`]) or any loop
    /// before it: called after the ordinary path jumped to `header` and
    /// before switching to it, with the loop's parameters on top of the
    /// operand stack above depth `base`. For the entry's loop, fills the
    /// block that loads the state: locals, then the values below the loop,
    /// then its parameters (as the header's arguments).
    pub(crate) fn osr_loop_entered(&mut self, header: Block, base: usize, here: bool) -> Res {
        let OsrEntry::Before { load, state, .. } = self.osr else {
            return Ok(());
        };
        if !here {
            return Ok(());
        }
        self.b.switch_to_block(load);
        let mut off = 0i32;
        let mut next = |t: Type| {
            let at = off;
            off += state_size(t);
            at
        };
        let word = MemFlagsData::trusted();
        // 16-byte values sit at 8-byte offsets: no alignment promised.
        let wide = MemFlagsData::new().with_notrap();
        for i in 0..self.locals.len() {
            let (var, vt) = self.locals[i];
            let t = ir_type(vt);
            let flags = if vt == ValType::V128 { wide } else { word };
            let v = self.b.ins().load(t, flags, state, next(t));
            self.b.def_var(var, v);
        }
        let mut params = Vec::new();
        for i in 0..self.stack.len() {
            let t = self.b.func.dfg.value_type(self.stack[i]);
            let flags = if state_size(t) > 8 { wide } else { word };
            let v = self.b.ins().load(t, flags, state, next(t));
            if i < base {
                let var = self.osr_var(i, t);
                self.b.def_var(var, v);
            } else {
                params.push(BlockArg::Value(v));
            }
        }
        self.b.ins().jump(header, &params);
        self.osr = OsrEntry::After {
            around: self.frames.len(),
        };
        Ok(())
    }

    /// In a loop's header (the entry's or one before it), before its
    /// parameters are pushed: the values below depth `base` come back from
    /// their variables (the header is entered from the entry, or again
    /// through a back edge from code after it).
    pub(crate) fn osr_loop_header(&mut self, base: usize, here: bool) {
        if here || matches!(self.osr, OsrEntry::Before { .. }) {
            self.osr_reread(base);
        }
    }

    /// The frame at index `frame`, whose values below start at depth
    /// `base`, continues in a new block (its `else`, a `catch`, or its end
    /// when `ends`) with the translator's stack already set: if the frame
    /// encloses the entry's loop, the values below come back from their
    /// variables (they differ on the two paths).
    pub(crate) fn osr_frame_continues(&mut self, frame: usize, base: usize, ends: bool) {
        let OsrEntry::After { around } = self.osr else {
            return;
        };
        if frame >= around {
            return;
        }
        if self.reachable {
            self.osr_reread(base);
        }
        if ends {
            self.osr = OsrEntry::After { around: frame };
        }
    }

    /// After the body: the OSR entry found its loop.
    pub(crate) fn end_osr_entry(&self) -> Res {
        match self.osr {
            OsrEntry::Before { at, .. } => {
                Err(format!("no reachable loop at {at:#x} for the OSR entry"))
            }
            _ => Ok(()),
        }
    }
}
