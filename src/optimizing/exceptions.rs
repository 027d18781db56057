//! Exception handling in the optimizing tier: `try_table`, `throw`,
//! `throw_ref`, and the legacy `try`/`catch`/`catch_all`/`rethrow`/`delegate`.
//!
//! Every call inside a `try` region is a Cranelift `try_call` whose one
//! (catch-all) handler is the region's handler block; `finish` records it
//! as a `code::HandlerSite` and the unwinder (`vm::unwind`) resumes there
//! with the exnref as the block's parameter. The handler block compares the
//! exception's tag with each clause's in order and branches to the first
//! that matches with the payload (and the exnref); when none does, it throws
//! the exception on from the enclosing region.

use super::ir_type;
use super::translate::{Res, Translator};
use crate::vm::layout::*;
use crate::vm::unwind::{CatchClause, EXN_TAG, EXN_VALUES};
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, BlockCall, ExceptionTableData, ExceptionTableItem, InstBuilder,
    MemFlagsData, SigRef, Signature, StackSlotData, StackSlotKind, Value,
};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::Variable;
use wasmparser::BlockType;

/// One open `try_table` or legacy `try`.
pub(crate) struct TryInfo {
    frame: usize,
    /// The handler block (one I64 parameter: the exnref).
    handler: Block,
    catches: Vec<wasmparser::Catch>,
    /// Legacy `try`: the variable holding the caught exception (`rethrow`).
    legacy: Option<Variable>,
    in_catch: bool,
    next: Option<Block>,
}

#[derive(Default)]
pub(crate) struct ExnState {
    /// Handler blocks of the regions calls are in now, innermost last.
    scopes: Vec<Block>,
    tries: Vec<TryInfo>,
    throw_sig: Option<SigRef>,
    throw_ref_sig: Option<SigRef>,
}

impl Translator<'_, '_> {
    /// An indirect call of `code` with signature `sig`: a `try_call` into the
    /// innermost region's handler when there is one. Returns the results.
    pub(crate) fn call_indirect_in_region(
        &mut self,
        sig: SigRef,
        code: Value,
        args: &[Value],
    ) -> Vec<Value> {
        let Some(&handler) = self.exn.scopes.last() else {
            let call = self.b.ins().call_indirect(sig, code, args);
            return self.b.inst_results(call).to_vec();
        };
        let rets: Vec<_> = self.b.func.dfg.signatures[sig]
            .returns
            .iter()
            .map(|p| p.value_type)
            .collect();
        let cont = self.b.create_block();
        for &t in &rets {
            self.b.append_block_param(cont, t);
        }
        let ret_args: Vec<BlockArg> = (0..rets.len() as u32).map(BlockArg::TryCallRet).collect();
        let normal = BlockCall::new(cont, ret_args, &mut self.b.func.dfg.value_lists);
        let on_exn = BlockCall::new(
            handler,
            [BlockArg::TryCallExn(0)],
            &mut self.b.func.dfg.value_lists,
        );
        let et = self
            .b
            .func
            .dfg
            .exception_tables
            .push(ExceptionTableData::new(
                sig,
                normal,
                [ExceptionTableItem::Default(on_exn)],
            ));
        self.b.ins().try_call_indirect(code, args, et);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
        self.b.block_params(cont).to_vec()
    }

    fn builtin_ptr(&mut self, b: Builtin) -> Value {
        let flags = self.readonly();
        let vmctx = self.vmctx;
        let table = self.b.ins().load(I64, flags, vmctx, VMCTX_BUILTINS);
        self.b.ins().load(I64, flags, table, 8 * b as i32)
    }

    fn exn_sig(&mut self, with_values: bool) -> SigRef {
        let slot = if with_values {
            self.exn.throw_sig
        } else {
            self.exn.throw_ref_sig
        };
        if let Some(s) = slot {
            return s;
        }
        let mut sig = Signature::new(CallConv::SystemV);
        sig.params.push(AbiParam::new(I64));
        if with_values {
            sig.params.push(AbiParam::new(I32));
        }
        sig.params.push(AbiParam::new(I64));
        let s = self.b.import_signature(sig);
        if with_values {
            self.exn.throw_sig = Some(s);
        } else {
            self.exn.throw_ref_sig = Some(s);
        }
        s
    }

    /// Throws `exn` again (from the innermost region); ends the block.
    fn rethrow(&mut self, exn: Value) {
        let sig = self.exn_sig(false);
        let f = self.builtin_ptr(Builtin::ThrowRef);
        let vmctx = self.vmctx;
        self.call_indirect_in_region(sig, f, &[vmctx, exn]);
        self.b
            .ins()
            .trap(super::user_trap(crate::error::TrapCode::Unreachable));
        self.reachable = false;
    }

    pub(crate) fn visit_throw(&mut self, tag: u32) -> Res {
        let t = *self.module.tags.get(tag as usize).ok_or("no such tag")?;
        let params = self.module.types[t as usize].params().to_vec();
        let first = self.stack.len() - params.len();
        let vals: Vec<Value> = self.stack.drain(first..).collect();
        let size = (values_size(&params) as u32).max(8);
        let slot = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            size,
            4,
        ));
        for (v, off) in vals.into_iter().zip(value_offsets(&params)) {
            self.b.ins().stack_store(I64, v, slot, off);
        }
        let addr = self.b.ins().stack_addr(I64, slot, 0);
        let sig = self.exn_sig(true);
        let f = self.builtin_ptr(Builtin::Throw);
        let vmctx = self.vmctx;
        let tag_v = self.b.ins().iconst(I32, tag as i64);
        self.call_indirect_in_region(sig, f, &[vmctx, tag_v, addr]);
        self.b
            .ins()
            .trap(super::user_trap(crate::error::TrapCode::Unreachable));
        self.reachable = false;
        Ok(())
    }

    pub(crate) fn visit_throw_ref(&mut self) {
        let exn = self.pop();
        self.rethrow(exn);
    }

    fn new_handler(&mut self) -> Block {
        let h = self.b.create_block();
        self.b.append_block_param(h, I64);
        h
    }

    pub(crate) fn visit_try_table(&mut self, t: &wasmparser::TryTable) -> Res {
        self.visit_block(t.ty)?;
        let handler = self.new_handler();
        self.exn.scopes.push(handler);
        self.exn.tries.push(TryInfo {
            frame: self.frames.len() - 1,
            handler,
            catches: t.catches.clone(),
            legacy: None,
            in_catch: false,
            next: None,
        });
        Ok(())
    }

    pub(crate) fn visit_try(&mut self, bt: BlockType) -> Res {
        self.visit_block(bt)?;
        let handler = self.new_handler();
        let var = self.b.declare_var(I64);
        self.exn.scopes.push(handler);
        self.exn.tries.push(TryInfo {
            frame: self.frames.len() - 1,
            handler,
            catches: Vec::new(),
            legacy: Some(var),
            in_catch: false,
            next: None,
        });
        Ok(())
    }

    /// Jumps to `miss` unless the exception `exn` has tag `tag`.
    fn test_tag(&mut self, exn: Value, tag: u32, miss: Block) {
        let tags = self.vmctx_field(VMCTX_TAGS);
        let want = self.load_fixed(tags, 8 * tag as i32);
        let got = self
            .b
            .ins()
            .load(I64, MemFlagsData::trusted(), exn, EXN_TAG);
        let eq = self.b.ins().icmp(IntCC::Equal, want, got);
        let hit = self.b.create_block();
        self.b.ins().brif(eq, hit, &[], miss, &[]);
        self.b.seal_block(hit);
        self.b.switch_to_block(hit);
    }

    /// The payload of exception `exn` of tag `tag`.
    fn payload(&mut self, exn: Value, tag: u32) -> Vec<Value> {
        let t = self.module.tags[tag as usize];
        let params = self.module.types[t as usize].params().to_vec();
        if params.is_empty() {
            return Vec::new();
        }
        let flags = MemFlagsData::trusted();
        let base = self.b.ins().load(I64, flags, exn, EXN_VALUES);
        params
            .iter()
            .zip(value_offsets(&params))
            .map(|(&t, off)| self.b.ins().load(ir_type(t), flags, base, off))
            .collect()
    }

    /// `end` of any frame.
    pub(crate) fn visit_end_any(&mut self) -> Res {
        let top = self.frames.len() - 1;
        let Some(info) = self.exn.tries.last() else {
            self.visit_end();
            return Ok(());
        };
        if info.frame != top {
            self.visit_end();
            return Ok(());
        }
        let info = self.exn.tries.pop().expect("try info");
        if info.legacy.is_none() {
            return self.end_try_table(info);
        }
        self.finish_try_part();
        if !info.in_catch {
            self.exn.scopes.pop();
            self.b.seal_block(info.handler);
            self.b.switch_to_block(info.handler);
            let exn = self.b.block_params(info.handler)[0];
            self.rethrow(exn);
        } else if let (Some(miss), Some(var)) = (info.next, info.legacy) {
            self.b.seal_block(miss);
            self.b.switch_to_block(miss);
            let exn = self.b.use_var(var);
            self.rethrow(exn);
        }
        self.visit_end();
        Ok(())
    }

    fn finish_try_part(&mut self) {
        if self.reachable {
            let f = self.frames.last_mut().expect("a frame");
            f.dest_reached = true;
            let (dest, n) = (f.dest, f.nresults);
            let a: Vec<BlockArg> = self.peek_n(n).iter().map(|&v| BlockArg::Value(v)).collect();
            self.b.ins().jump(dest, &a);
        }
        self.reachable = false;
    }

    fn end_try_table(&mut self, info: TryInfo) -> Res {
        self.exn.scopes.pop();
        self.visit_end();
        let cont = self.reachable.then(|| self.b.current_block()).flatten();
        let stack_len = self.stack.len();
        self.b.seal_block(info.handler);
        self.b.switch_to_block(info.handler);
        let exn = self.b.block_params(info.handler)[0];
        for c in info.catches.iter().map(CatchClause::of) {
            let (mut vals, miss) = match c.tag {
                Some(tag) => {
                    let miss = self.b.create_block();
                    self.test_tag(exn, tag, miss);
                    (self.payload(exn, tag), Some(miss))
                }
                None => (Vec::new(), None),
            };
            if c.exnref {
                vals.push(exn);
            }
            self.stack.append(&mut vals);
            self.visit_br(c.label);
            self.stack.truncate(stack_len);
            let Some(miss) = miss else {
                // Nothing after a catch-all clause is reached.
                self.reachable = cont.is_some();
                if let Some(b) = cont {
                    self.b.switch_to_block(b);
                }
                return Ok(());
            };
            self.b.seal_block(miss);
            self.b.switch_to_block(miss);
        }
        self.rethrow(exn);
        self.reachable = cont.is_some();
        if let Some(b) = cont {
            self.b.switch_to_block(b);
        }
        Ok(())
    }

    /// `catch tag` (`Some`) or `catch_all` (`None`) of a legacy `try`.
    pub(crate) fn visit_catch(&mut self, tag: Option<u32>) {
        self.finish_try_part();
        let base = self.frames.last().expect("frame").base;
        let info = self.exn.tries.last_mut().expect("catch inside a try");
        let var = info.legacy.expect("a legacy try");
        let first = !info.in_catch;
        info.in_catch = true;
        let prev = info.next.take();
        let handler = info.handler;
        let exn = if first {
            self.exn.scopes.pop();
            self.b.seal_block(handler);
            self.b.switch_to_block(handler);
            let exn = self.b.block_params(handler)[0];
            self.b.def_var(var, exn);
            exn
        } else {
            let b = prev.unwrap_or_else(|| self.b.create_block());
            self.b.seal_block(b);
            self.b.switch_to_block(b);
            self.b.use_var(var)
        };
        self.stack.truncate(base);
        if let Some(tag) = tag {
            let miss = self.b.create_block();
            self.test_tag(exn, tag, miss);
            let mut v = self.payload(exn, tag);
            self.stack.append(&mut v);
            self.exn.tries.last_mut().expect("try").next = Some(miss);
        }
        self.reachable = true;
        self.osr_frame_continues(self.frames.len() - 1, base, false);
    }

    pub(crate) fn visit_delegate(&mut self, depth: u32) {
        self.finish_try_part();
        let info = self.exn.tries.pop().expect("delegate ends a try");
        self.exn.scopes.pop();
        let target = self.frames.len() - 2 - depth as usize;
        let inside = self
            .exn
            .tries
            .iter()
            .filter(|t| t.frame <= target && !t.in_catch)
            .count();
        let saved = std::mem::take(&mut self.exn.scopes);
        self.exn.scopes = saved[..inside.min(saved.len())].to_vec();
        self.b.seal_block(info.handler);
        self.b.switch_to_block(info.handler);
        let exn = self.b.block_params(info.handler)[0];
        self.rethrow(exn);
        self.exn.scopes = saved;
        self.visit_end();
    }

    pub(crate) fn visit_rethrow(&mut self, depth: u32) -> Res {
        let target = self.frames.len() - 1 - depth as usize;
        let var = self
            .exn
            .tries
            .iter()
            .find(|t| t.frame == target)
            .and_then(|t| t.legacy)
            .ok_or("rethrow outside a catch")?;
        let exn = self.b.use_var(var);
        self.rethrow(exn);
        Ok(())
    }

    /// In unreachable code: `catch`/`catch_all`/`delegate` of a live `try`.
    pub(crate) fn visit_unreachable_exn(&mut self, op: &wasmparser::Operator<'_>) -> Res<bool> {
        use wasmparser::Operator as O;
        match *op {
            O::TryTable { .. } | O::Try { .. } => self.dead_depth += 1,
            O::Catch { tag_index } if self.dead_depth == 0 => self.visit_catch(Some(tag_index)),
            O::CatchAll if self.dead_depth == 0 => self.visit_catch(None),
            O::Delegate { relative_depth } if self.dead_depth == 0 => {
                self.visit_delegate(relative_depth)
            }
            O::Delegate { .. } => self.dead_depth -= 1,
            O::End if self.dead_depth == 0 => self.visit_end_any()?,
            O::Catch { .. } | O::CatchAll => {}
            _ => return Ok(false),
        }
        Ok(true)
    }
}
