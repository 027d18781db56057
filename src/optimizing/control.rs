//! Structured control flow and calls.
//!
//! Every wasm frame has a `dest` block whose parameters are the frame's
//! results; loops also have a `header` block whose parameters are the loop's
//! parameters (branches to a loop go there). An `if` branches to a fresh
//! then-block or to its `else_block`; the else arm starts from the same SSA
//! values the `if` found as its parameters, so no block parameters are needed
//! there. The function itself is the outermost frame; its `dest` is the exit
//! block, which returns.
//!
//! Invariants: a block is sealed once all its predecessors exist (dest blocks
//! at their frame's `end`, loop headers at the loop's `end`, everything else
//! at once); `dest` is only switched to when something branches there.

use super::translate::{Res, Translator};
use super::{ir_type, user_trap};
use crate::error::TrapCode;
use crate::types::FuncType;
use crate::vm::layout::*;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{
    Block, BlockArg, BlockCall, InstBuilder, JumpTableData, MemFlagsData, SigRef, StackSlotData,
    StackSlotKind, Value,
};
use std::collections::HashMap;
use wasmparser::BlockType;

pub(crate) enum FrameKind {
    Func,
    Block,
    Loop {
        header: Block,
    },
    If {
        else_block: Block,
        params: Vec<Value>,
        has_else: bool,
    },
}

pub(crate) struct Frame {
    pub kind: FrameKind,
    /// Where `end` continues; its parameters are the results.
    pub dest: Block,
    /// Operand-stack height below the frame's parameters.
    pub base: usize,
    pub nparams: usize,
    pub nresults: usize,
    /// Something branches to `dest`.
    pub dest_reached: bool,
}

pub(crate) fn args(vals: &[Value]) -> Vec<BlockArg> {
    vals.iter().map(|&v| BlockArg::Value(v)).collect()
}

impl Translator<'_, '_> {
    pub(crate) fn push_func_frame(&mut self) {
        let n = self.ty.results().len();
        self.frames.push(Frame {
            kind: FrameKind::Func,
            dest: self.exit,
            base: 0,
            nparams: 0,
            nresults: n,
            dest_reached: false,
        });
    }

    fn new_block_with(&mut self, types: &[crate::types::ValType]) -> Block {
        let b = self.b.create_block();
        for &t in types {
            self.b.append_block_param(b, ir_type(t));
        }
        b
    }

    pub(crate) fn visit_block(&mut self, bt: BlockType) -> Res {
        let (params, results) = self.block_types(bt)?;
        let dest = self.new_block_with(&results);
        self.osr_frame_start(self.stack.len() - params.len());
        self.frames.push(Frame {
            kind: FrameKind::Block,
            dest,
            base: self.stack.len() - params.len(),
            nparams: params.len(),
            nresults: results.len(),
            dest_reached: false,
        });
        Ok(())
    }

    pub(crate) fn visit_loop(&mut self, bt: BlockType) -> Res {
        let (params, results) = self.block_types(bt)?;
        let header = self.new_block_with(&params);
        let dest = self.new_block_with(&results);
        let base = self.stack.len() - params.len();
        // An OSR entry's loop, or a loop before it (see `osr_entry`).
        let osr_here = self.osr_loop_here();
        // An OSR entry jumps to its loop's header past the preheader.
        if !osr_here {
            self.hoist_record_values(base);
        }
        self.osr_frame_start(base);
        let a = args(&self.stack[base..]);
        self.b.ins().jump(header, &a);
        self.osr_loop_entered(header, base, osr_here)?;
        self.stack.truncate(base);
        self.b.switch_to_block(header);
        let loop_params = self.b.block_params(header).to_vec();
        self.osr_loop_header(base, osr_here);
        self.stack.extend_from_slice(&loop_params);
        self.stack_check(false);
        self.frames.push(Frame {
            kind: FrameKind::Loop { header },
            dest,
            base,
            nparams: params.len(),
            nresults: results.len(),
            dest_reached: false,
        });
        Ok(())
    }

    pub(crate) fn visit_if(&mut self, bt: BlockType) -> Res {
        let (params, results) = self.block_types(bt)?;
        let cond = self.pop();
        // Before the branch: the `else` arm starts from these definitions too.
        self.osr_frame_start(self.stack.len() - params.len());
        let then_block = self.b.create_block();
        let else_block = self.b.create_block();
        let dest = self.new_block_with(&results);
        self.b.ins().brif(cond, then_block, &[], else_block, &[]);
        self.b.seal_block(then_block);
        self.b.seal_block(else_block);
        self.b.switch_to_block(then_block);
        let base = self.stack.len() - params.len();
        self.frames.push(Frame {
            kind: FrameKind::If {
                else_block,
                params: self.stack[base..].to_vec(),
                has_else: false,
            },
            dest,
            base,
            nparams: params.len(),
            nresults: results.len(),
            dest_reached: false,
        });
        Ok(())
    }

    /// Jumps to the current frame's `dest` with the top values.
    fn fall_to_dest(&mut self) {
        let f = self.frames.last_mut().expect("a frame");
        f.dest_reached = true;
        let (dest, n) = (f.dest, f.nresults);
        let a = args(self.peek_n(n));
        self.b.ins().jump(dest, &a);
    }

    pub(crate) fn visit_else(&mut self) {
        if self.reachable {
            self.fall_to_dest();
        }
        let f = self.frames.last_mut().expect("else inside an if");
        let base = f.base;
        let FrameKind::If {
            else_block,
            params,
            has_else,
        } = &mut f.kind
        else {
            panic!("else outside an if (unvalidated code)");
        };
        *has_else = true;
        let (else_block, params) = (*else_block, params.clone());
        self.stack.truncate(base);
        self.stack.extend_from_slice(&params);
        self.b.switch_to_block(else_block);
        self.reachable = true;
        self.osr_frame_continues(self.frames.len() - 1, base, false);
    }

    pub(crate) fn visit_end(&mut self) {
        if self.reachable {
            self.fall_to_dest();
        }
        let mut f = self.frames.pop().expect("end of a frame");
        match &f.kind {
            FrameKind::If {
                else_block,
                params,
                has_else: false,
            } => {
                // No else arm: the parameters flow through unchanged.
                self.b.switch_to_block(*else_block);
                let a = args(params);
                self.b.ins().jump(f.dest, &a);
                f.dest_reached = true;
            }
            FrameKind::Loop { header } => self.b.seal_block(*header),
            _ => {}
        }
        self.stack.truncate(f.base);
        self.b.seal_block(f.dest);
        let index = self.frames.len();
        if !f.dest_reached {
            self.reachable = false;
            self.osr_frame_continues(index, f.base, true);
            return;
        }
        self.b.switch_to_block(f.dest);
        self.stack.extend_from_slice(self.b.block_params(f.dest));
        self.reachable = true;
        self.osr_frame_continues(index, f.base, true);
        if let FrameKind::Func = f.kind {
            self.emit_return();
        }
    }

    /// The exit block: return the results (two or more through the results area).
    fn emit_return(&mut self) {
        let n = self.ty.results().len();
        let vals = self.stack.split_off(self.stack.len() - n);
        match (n, self.retptr) {
            (0, _) => {
                self.b.ins().return_(&[]);
            }
            (1, _) => {
                self.b.ins().return_(&vals);
            }
            (_, Some(area)) => {
                let offs = value_offsets(self.ty.results());
                for (v, off) in vals.into_iter().zip(offs) {
                    self.b.ins().store(MemFlagsData::trusted(), v, area, off);
                }
                self.b.ins().return_(&[]);
            }
            (_, None) => unreachable!("a results pointer exists for two or more results"),
        }
        self.reachable = false;
    }

    /// The block a branch to `depth` goes to and how many values it takes.
    pub(crate) fn branch_target(&mut self, depth: u32) -> (Block, usize) {
        let i = self.frames.len() - 1 - depth as usize;
        let f = &mut self.frames[i];
        match f.kind {
            FrameKind::Loop { header } => (header, f.nparams),
            _ => {
                f.dest_reached = true;
                (f.dest, f.nresults)
            }
        }
    }

    pub(crate) fn visit_br(&mut self, depth: u32) {
        let (target, n) = self.branch_target(depth);
        let a = args(self.peek_n(n));
        self.b.ins().jump(target, &a);
        self.reachable = false;
    }

    pub(crate) fn visit_br_if(&mut self, depth: u32) {
        let cond = self.pop();
        let (target, n) = self.branch_target(depth);
        let a = args(self.peek_n(n));
        let next = self.b.create_block();
        self.b.ins().brif(cond, target, &a, next, &[]);
        self.b.seal_block(next);
        self.b.switch_to_block(next);
    }

    pub(crate) fn visit_br_table(&mut self, targets: &[u32], default: u32) {
        let index = self.pop();
        let mut calls: Vec<BlockCall> = Vec::with_capacity(targets.len());
        let (_, n) = self.branch_target(default);
        if n == 0 {
            let pool = |t: &mut Self, depth: u32| {
                let (block, _) = t.branch_target(depth);
                BlockCall::new(block, [], &mut t.b.func.dfg.value_lists)
            };
            let def = pool(self, default);
            for &d in targets {
                calls.push(pool(self, d));
            }
            let jt = self.b.create_jump_table(JumpTableData::new(def, &calls));
            self.b.ins().br_table(index, jt);
        } else {
            // With arguments, each distinct target gets one edge block that
            // passes them, so the jump table itself carries none.
            let mut edges: HashMap<u32, Block> = HashMap::new();
            let mut edge_of = |t: &mut Self, depth: u32| -> BlockCall {
                let block = *edges.entry(depth).or_insert_with(|| t.b.create_block());
                BlockCall::new(block, [], &mut t.b.func.dfg.value_lists)
            };
            let def = edge_of(self, default);
            for &d in targets {
                let c = edge_of(self, d);
                calls.push(c);
            }
            let jt = self.b.create_jump_table(JumpTableData::new(def, &calls));
            self.b.ins().br_table(index, jt);
            let a = args(self.peek_n(n));
            let mut edges: Vec<(u32, Block)> = edges.into_iter().collect();
            edges.sort_by_key(|&(d, _)| d);
            for (depth, edge) in edges {
                self.b.seal_block(edge);
                self.b.switch_to_block(edge);
                let (target, _) = self.branch_target(depth);
                self.b.ins().jump(target, &a);
            }
        }
        self.reachable = false;
    }

    // ---- calls ---------------------------------------------------------------------

    pub(crate) fn visit_call(&mut self, f: u32, tail: bool) -> Res {
        let type_index = *self
            .module
            .funcs
            .get(f as usize)
            .ok_or("no such function")?;
        let funcref = self.funcref(f)?;
        let sig = self.sig_ref(type_index);
        let ty = self.module.types[type_index as usize].clone();
        let callee = if f >= self.module.num_imported_funcs {
            Callee::Defined
        } else {
            Callee::Imported
        };
        if tail {
            self.tail_call_funcref(funcref, &ty, sig, callee);
        } else {
            self.call_funcref(funcref, &ty, sig, callee);
        }
        Ok(())
    }

    pub(crate) fn visit_call_indirect(&mut self, type_index: u32, table: u32, tail: bool) -> Res {
        let ty = self
            .module
            .types
            .get(type_index as usize)
            .ok_or("no such type")?
            .clone();
        let funcref = self.indirect_funcref(type_index, table)?;
        let sig = self.sig_ref(type_index);
        if tail {
            self.tail_call_funcref(funcref, &ty, sig, Callee::FromTable);
        } else {
            self.call_funcref(funcref, &ty, sig, Callee::FromTable);
        }
        Ok(())
    }

    /// Pops the table index and returns the checked `VMFuncRef` of slot
    /// `index` of `table` (in bounds, not null, signature `type_index`).
    fn indirect_funcref(&mut self, type_index: u32, table: u32) -> Res<Value> {
        let expected = *self
            .sig_ids
            .get(type_index as usize)
            .ok_or("no signature id")?;
        let index = self.pop();
        let funcref = self.table_element(table, index)?;
        self.b
            .ins()
            .trapz(funcref, user_trap(TrapCode::IndirectCallToNull));
        let flags = self.readonly();
        let sig_id = self.b.ins().load(I32, flags, funcref, FUNCREF_SIG);
        let bad = self
            .b
            .ins()
            .icmp_imm_u(IntCC::NotEqual, sig_id, expected as i64);
        self.b.ins().trapnz(bad, user_trap(TrapCode::BadSignature));
        Ok(funcref)
    }

    /// Tail-calls through a `VMFuncRef`: the frame is replaced (Cranelift's
    /// `return_call_indirect` in the `tail` convention), a results area is
    /// passed on (the callee has this function's results).
    pub(crate) fn tail_call_funcref(
        &mut self,
        funcref: Value,
        ty: &FuncType,
        sig: SigRef,
        callee: Callee,
    ) {
        let code_flags = self.mutable(self.regions.vmctx);
        let code = self.b.ins().load(I64, code_flags, funcref, FUNCREF_CODE);
        let callee_vmctx = self.callee_vmctx(funcref, callee);
        let nparams = ty.params().len();
        let mut call_args = Vec::with_capacity(nparams + 3);
        call_args.push(callee_vmctx);
        call_args.push(self.vmctx);
        if let Some(area) = self.retptr {
            call_args.push(area);
        }
        let first = self.stack.len() - nparams;
        call_args.extend(self.stack.drain(first..));
        self.b.ins().return_call_indirect(sig, code, &call_args);
        self.reachable = false;
    }

    /// The VMContext a call through `funcref` passes its callee: this
    /// function's own for a function defined in this module (its code table
    /// entry holds the same one), else the entry's.
    fn callee_vmctx(&mut self, funcref: Value, callee: Callee) -> Value {
        let flags = match callee {
            Callee::Defined => return self.vmctx,
            Callee::Imported => self.fixed(),
            Callee::FromTable => self.readonly(),
        };
        self.b.ins().load(I64, flags, funcref, FUNCREF_VMCTX)
    }

    /// Calls through a `VMFuncRef` (the code table entry): pops the arguments,
    /// pushes the results.
    pub(crate) fn call_funcref(
        &mut self,
        funcref: Value,
        ty: &FuncType,
        sig: SigRef,
        callee: Callee,
    ) {
        // The code pointer changes when the callee changes tier: load it at every call.
        let code_flags = self.mutable(self.regions.vmctx);
        let code = self.b.ins().load(I64, code_flags, funcref, FUNCREF_CODE);
        let callee_vmctx = self.callee_vmctx(funcref, callee);
        let nparams = ty.params().len();
        let nres = ty.results().len();
        let mut call_args = Vec::with_capacity(nparams + 3);
        call_args.push(callee_vmctx);
        call_args.push(self.vmctx);
        let area = (nres >= 2).then(|| self.results_area(values_size(ty.results()) as u32));
        if let Some(slot) = area {
            let p = self.b.ins().stack_addr(I64, slot, 0);
            call_args.push(p);
        }
        let first = self.stack.len() - nparams;
        call_args.extend(self.stack.drain(first..));
        let rets = self.call_indirect_in_region(sig, code, &call_args);
        match area {
            None => {
                if nres == 1 {
                    self.push(rets[0]);
                }
            }
            Some(slot) => {
                for (&t, off) in ty.results().iter().zip(value_offsets(ty.results())) {
                    let v = self.b.ins().stack_load(I64, ir_type(t), slot, off);
                    self.push(v);
                }
            }
        }
    }

    /// The stack slot callees store two or more results into (one per function,
    /// as large as the largest call needs: `size` bytes).
    fn results_area(&mut self, size: u32) -> cranelift_codegen::ir::StackSlot {
        match self.results_slot {
            Some(s) => {
                let data = &mut self.b.func.sized_stack_slots[s];
                data.size = data.size.max(size);
                s
            }
            None => {
                let s = self.b.create_sized_stack_slot(StackSlotData::new(
                    StackSlotKind::ExplicitSlot,
                    size,
                    3,
                ));
                self.results_slot = Some(s);
                s
            }
        }
    }
}

/// Where a call's `VMFuncRef` comes from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Callee {
    /// A function defined in this module: the entry's VMContext is this
    /// function's own.
    Defined,
    /// An imported function: the entry is in this VMContext (valid
    /// anywhere), its VMContext the exporter's.
    Imported,
    /// A table element or a `ref.func` value: valid only after its null
    /// check.
    FromTable,
}
