//! Exception handling in the baseline compiler: `try_table`, `throw`,
//! `throw_ref`, and the legacy `try`/`catch`/`catch_all`/`rethrow`/`delegate`.
//!
//! Every call made inside a `try` region is recorded with the region's
//! landing label (`code::HandlerSite`). The unwinder (`vm::unwind`) resumes
//! there with `rsp` at the body's level, the callee-saved registers (the
//! VMContext, the memory base, the debug byte) as they were at the call, and
//! the exnref in `rax`. Everything below the region's operand-stack base was
//! spilled when the region began, so it is in its home slots. The landing
//! code compares the exception's tag with each clause's in order and
//! branches to the first that matches with the payload (and the exnref);
//! when none does, it throws the exception on from the enclosing region.
//!
//! A legacy `try` keeps its exception in a hidden slot at the bottom of the
//! frame (`[rsp + 8 k]`, `k` = how many legacy `try`s enclose it) for
//! `rethrow`; the slots are reserved in the frame size.

use super::*;
use crate::vm::unwind::CatchClause;

/// One open `try_table` or `try`.
pub(super) struct TryInfo {
    /// Index of its frame in `frames`.
    frame: usize,
    landing: DynamicLabel,
    /// `try_table`: the clauses.
    catches: Vec<wasmparser::Catch>,
    /// Legacy `try`: its exception slot, whether a `catch` was seen (its
    /// region then ended), and the label of the next clause's tag test.
    legacy: Option<usize>,
    in_catch: bool,
    next: Option<DynamicLabel>,
}

/// The exception-handling state of one function being compiled.
#[derive(Default)]
pub(super) struct ExnState {
    /// Landing labels of the regions calls are in now, innermost last.
    scopes: Vec<DynamicLabel>,
    /// (return address, landing label) of each call in a region.
    sites: Vec<(u32, DynamicLabel)>,
    tries: Vec<TryInfo>,
    /// Hidden exception slots the frame needs (legacy `try` nesting depth).
    pub(super) slots: usize,
}

impl CodeGen<'_> {
    /// Records the call that just ended (its return address is here) in the
    /// innermost region, if any.
    pub(super) fn note_call_site(&mut self) {
        if let Some(&l) = self.exn.scopes.last() {
            self.exn.sites.push((self.masm.offset(), l));
        }
    }

    /// The handler sites, once the code is final: the landing pads expect
    /// `rsp` at the body's level, `16 + frame_size` below `rbp`.
    pub(super) fn handler_sites(&self, frame_size: u32) -> Res<Vec<crate::code::HandlerSite>> {
        let mut v = Vec::with_capacity(self.exn.sites.len());
        for &(ret, l) in &self.exn.sites {
            let landing = self
                .masm
                .label_offset(l)
                .ok_or("exception landing pad not bound")?;
            v.push(crate::code::HandlerSite {
                ret,
                landing,
                sp_to_fp: 16 + frame_size,
            });
        }
        v.sort_by_key(|h| h.ret);
        Ok(v)
    }

    /// Calls `ThrowRef` with the exnref in `rax`; never returns.
    fn rethrow_rax(&mut self) {
        self.masm.mov_rr(true, RSI, RAX);
        self.masm.mov_rr(true, RDI, VMCTX);
        self.call_builtin_raw(Builtin::ThrowRef);
        self.note_call_site();
        self.masm.ud2();
    }

    pub(super) fn visit_throw(&mut self, tag: u32) -> Res {
        let t = *self.module.tags.get(tag as usize).ok_or("no such tag")?;
        let params = self.module.types[t as usize].params().to_vec();
        self.stack.spill_all(&mut self.masm);
        let first = self.stack.len() - params.len();
        let size = (values_size(&params) + 15) & !15;
        self.masm.sub_rsp(size);
        for (k, off) in value_offsets(&params).into_iter().enumerate() {
            self.masm
                .copy_slot(RSP, off, RBP, self.stack.home(first + k));
        }
        self.masm.mov_rr(true, RDX, RSP);
        self.masm.mov_imm(false, RSI, tag as i64);
        self.masm.mov_rr(true, RDI, VMCTX);
        self.call_builtin_raw(Builtin::Throw);
        self.note_call_site();
        self.masm.ud2();
        for _ in 0..params.len() {
            self.stack.pop();
        }
        self.stack.reset_regs();
        self.reachable = false;
        Ok(())
    }

    pub(super) fn visit_throw_ref(&mut self) {
        let p = self.pop();
        self.stack.spill_all(&mut self.masm);
        self.stack.load_gpr(&mut self.masm, p, RAX);
        self.stack.free_loc(p.loc);
        self.stack.reset_regs();
        self.rethrow_rax();
        self.reachable = false;
    }

    pub(super) fn visit_try_table(&mut self, t: &wasmparser::TryTable) {
        self.visit_block(FrameKind::TryTable, t.ty);
        let landing = self.masm.new_label();
        self.exn.scopes.push(landing);
        self.exn.tries.push(TryInfo {
            frame: self.frames.len() - 1,
            landing,
            catches: t.catches.clone(),
            legacy: None,
            in_catch: false,
            next: None,
        });
    }

    pub(super) fn visit_try(&mut self, bt: BlockType) {
        self.visit_block(FrameKind::Try, bt);
        let landing = self.masm.new_label();
        let slot = self.exn.tries.iter().filter(|t| t.legacy.is_some()).count();
        self.exn.slots = self.exn.slots.max(slot + 1);
        self.exn.scopes.push(landing);
        self.exn.tries.push(TryInfo {
            frame: self.frames.len() - 1,
            landing,
            catches: Vec::new(),
            legacy: Some(slot),
            in_catch: false,
            next: None,
        });
    }

    /// `end` of any frame.
    pub(super) fn visit_end_any(&mut self) -> Res {
        let idx = self.frames.len() - 1;
        match self.frames[idx].kind {
            FrameKind::TryTable => self.end_try_table(),
            FrameKind::Try => {
                self.finish_try_part();
                let info = self.exn.tries.pop().expect("try info");
                if !info.in_catch {
                    // No catch: the landing pad throws the exception on.
                    self.exn.scopes.pop();
                    self.masm.bind(info.landing);
                    self.rethrow_rax();
                } else if let Some(next) = info.next {
                    // No clause matched.
                    self.masm.bind(next);
                    self.load_exn_slot(info.legacy.unwrap_or(0));
                    self.rethrow_rax();
                }
                self.visit_end()
            }
            _ => self.visit_end(),
        }
    }

    /// Ends the `try` body or a catch body: its values go to the frame's
    /// end.
    fn finish_try_part(&mut self) {
        let idx = self.frames.len() - 1;
        if self.reachable {
            self.stack.spill_all(&mut self.masm);
            let (base, n) = (self.frames[idx].base, self.frames[idx].results.len());
            self.move_results(base, n);
            let l = self.frames[idx].label;
            self.masm.jmp(l);
            self.note_branch(idx);
        }
        self.reachable = false;
    }

    fn exn_slot(slot: usize) -> i32 {
        8 * slot as i32
    }

    fn load_exn_slot(&mut self, slot: usize) {
        self.masm.load(true, RAX, RSP, Self::exn_slot(slot));
    }

    /// Compares the tag of the exception in `rax` with tag `tag` of this
    /// module; jumps to `miss` when they differ.
    fn test_tag(&mut self, tag: u32, miss: DynamicLabel) {
        self.masm.load(true, RCX, VMCTX, VMCTX_TAGS);
        self.masm.load(true, RCX, RCX, 8 * tag as i32);
        self.masm.alu(
            Alu::Cmp,
            true,
            RCX,
            Src::Mem(RAX, crate::vm::unwind::EXN_TAG),
        );
        self.masm.jcc(Cond::Ne, miss);
    }

    /// Pushes the payload of the exception in `rax` (tag `tag`'s
    /// parameters) onto the operand stack, in home slots.
    fn push_payload(&mut self, tag: u32) {
        let t = self.module.tags[tag as usize];
        let params = self.module.types[t as usize].params().to_vec();
        if params.is_empty() {
            return;
        }
        self.masm
            .load(true, RDX, RAX, crate::vm::unwind::EXN_VALUES);
        for (ty, off) in params.iter().zip(value_offsets(&params)) {
            let home = self.stack.home(self.stack.len());
            self.masm.copy_slot(RBP, home, RDX, off);
            self.stack.push(*ty, Loc::Stack);
        }
    }

    /// Pushes the exnref in `rax`.
    fn push_exnref(&mut self) {
        let home = self.stack.home(self.stack.len());
        self.masm.store(true, RBP, home, RAX);
        self.stack.push(ValType::ExnRef, Loc::Stack);
    }

    fn end_try_table(&mut self) -> Res {
        let info = self.exn.tries.pop().expect("try_table info");
        self.exn.scopes.pop();
        let (base, results) = {
            let f = &self.frames[info.frame];
            (f.base, f.results.clone())
        };
        self.visit_end()?;
        let reachable = self.reachable;
        let over = self.masm.new_label();
        if reachable {
            self.masm.jmp(over);
        }
        self.masm.bind(info.landing);
        self.offset_map.push((self.masm.offset(), self.wasm));
        for c in info.catches.iter().map(CatchClause::of) {
            self.reset_stack(base, &[]);
            let miss = self.masm.new_label();
            if let Some(tag) = c.tag {
                self.test_tag(tag, miss);
                self.push_payload(tag);
            }
            if c.exnref {
                self.push_exnref();
            }
            self.branch_to(c.label);
            self.masm.bind(miss);
        }
        self.rethrow_rax();
        self.masm.bind(over);
        self.reset_stack(base, &results);
        self.reachable = reachable;
        Ok(())
    }

    /// `catch tag` (`Some`) or `catch_all` (`None`) of a legacy `try`.
    pub(super) fn visit_catch(&mut self, tag: Option<u32>) {
        self.finish_try_part();
        let idx = self.frames.len() - 1;
        let base = self.frames[idx].base;
        let info = self.exn.tries.last_mut().expect("catch inside a try");
        let slot = info.legacy.unwrap_or(0);
        let first = !info.in_catch;
        info.in_catch = true;
        let prev = info.next.take();
        let landing = info.landing;
        if first {
            self.exn.scopes.pop();
            self.masm.bind(landing);
            self.offset_map.push((self.masm.offset(), self.wasm));
            self.masm.store(true, RSP, Self::exn_slot(slot), RAX);
        } else if let Some(p) = prev {
            self.masm.bind(p);
            self.load_exn_slot(slot);
        } else {
            // After a catch_all no clause is reached (validation allows none).
            let l = self.masm.new_label();
            self.masm.bind(l);
            self.load_exn_slot(slot);
        }
        self.reset_stack(base, &[]);
        if let Some(tag) = tag {
            let miss = self.masm.new_label();
            self.test_tag(tag, miss);
            self.push_payload(tag);
            self.exn.tries.last_mut().expect("try").next = Some(miss);
        }
        self.reachable = true;
    }

    /// `delegate depth`: the `try` body's exceptions go to the handler of
    /// the frame `depth` levels out.
    pub(super) fn visit_delegate(&mut self, depth: u32) -> Res {
        self.finish_try_part();
        let info = self.exn.tries.pop().expect("delegate ends a try");
        self.exn.scopes.pop();
        // Frames out from the try's own: `depth` 0 is the one around it.
        let target = self.frames.len() - 2 - depth as usize;
        let inside = self
            .exn
            .tries
            .iter()
            .filter(|t| t.frame <= target && !t.in_catch)
            .count();
        let saved = std::mem::take(&mut self.exn.scopes);
        self.exn.scopes = saved[..inside.min(saved.len())].to_vec();
        self.masm.bind(info.landing);
        self.rethrow_rax();
        self.exn.scopes = saved;
        self.visit_end()
    }

    /// `rethrow depth`: throws the exception of the enclosing catch again.
    pub(super) fn visit_rethrow(&mut self, depth: u32) -> Res {
        let target = self.frames.len() - 1 - depth as usize;
        let slot = self
            .exn
            .tries
            .iter()
            .find(|t| t.frame == target)
            .and_then(|t| t.legacy)
            .ok_or("rethrow outside a catch")?;
        self.stack.spill_all(&mut self.masm);
        self.load_exn_slot(slot);
        self.rethrow_rax();
        self.reachable = false;
        Ok(())
    }

    /// Exception-handling operators in unreachable code that are not just
    /// block structure: a `catch` or `delegate` of a live `try`.
    pub(super) fn visit_unreachable_exn(&mut self, op: &Operator<'_>) -> Res<bool> {
        use Operator as O;
        let Some(f) = self.frames.last() else {
            return Ok(false);
        };
        if f.dead {
            if matches!(op, O::Delegate { .. }) {
                self.frames.pop();
                return Ok(true);
            }
            return Ok(matches!(op, O::Catch { .. } | O::CatchAll));
        }
        match *op {
            O::Catch { tag_index } => self.visit_catch(Some(tag_index)),
            O::CatchAll => self.visit_catch(None),
            O::Delegate { relative_depth } => self.visit_delegate(relative_depth)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}
