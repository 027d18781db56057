//! Control flow and calls for the baseline compiler: blocks, loops, `if`,
//! branches with their value moves, `br_table` jump tables, returns, direct and
//! indirect calls in the shared calling convention.

use super::*;
use crate::baseline::cache::intersect;

impl CodeGen<'_> {
    // ---- control flow ----------------------------------------------------------

    /// Turns a pending flags entry on top of the stack into a register.
    pub(super) fn materialize_flags(&mut self) {
        let top = self.stack.len() - 1;
        if let Loc::Flags(c) = self.stack.entries[top].loc {
            // Allocation may spill, which uses only flag-preserving moves.
            let r = self.stack.alloc_gpr(&mut self.masm);
            self.masm.setcc(c, r);
            self.stack.set_loc(top, Loc::Gpr(r));
        }
    }

    /// Pops an i32 condition and spills the stack; returns the condition code
    /// that holds when the value is non-zero.
    pub(super) fn pop_condition(&mut self) -> Cond {
        let p = self.pop();
        if let Loc::Flags(c) = p.loc {
            self.stack.spill_all(&mut self.masm);
            return c;
        }
        // A local is tested where the cache has it (read only).
        let r = self.stack.use_gpr(&mut self.masm, p);
        self.stack.spill_all(&mut self.masm);
        self.masm.test_rr(false, r, r);
        self.stack.free_gpr(r);
        Cond::Ne
    }

    /// Whether a compare may leave its result in the flags for the next
    /// `br_if`/`if` (debug code tests its debug byte there without touching
    /// the flags: `Masm::debug_check_keep_flags`).
    pub(super) fn can_fuse(&self) -> bool {
        true
    }

    pub(super) fn visit_block(&mut self, kind: FrameKind, bt: BlockType) {
        let (params, results) = self.block_types(bt);
        let mut else_label = None;
        let mut else_state = None;
        if kind == FrameKind::If {
            let c = self.pop_condition();
            let l = self.masm.new_label();
            self.masm.jcc(c.negate(), l);
            else_label = Some(l);
            else_state = Some(self.stack.cache_state());
        } else {
            self.stack.spill_all(&mut self.masm);
        }
        let base = self.stack.len() - params.len();
        let label = self.masm.new_label();
        let mut budget_patch = None;
        if kind == FrameKind::Loop {
            // A merge point: the back edges know nothing of this cache.
            self.stack.drop_cache();
            self.masm.bind(label);
            self.stack_check(false);
            budget_patch = self.charge_budget(0);
        }
        if kind == FrameKind::If && !params.is_empty() {
            // The then-arm works on copies so the else-arm still finds its params.
            for (k, &t) in params.iter().enumerate() {
                let src = self.stack.home(base + k);
                let dst = self.stack.home(self.stack.len());
                self.masm.copy_value(t, RBP, dst, RBP, src);
                self.stack.push(t, Loc::Stack);
            }
        }
        self.frames.push(Frame {
            kind,
            label,
            else_label,
            has_else: false,
            base,
            params,
            results,
            dead: false,
            branched_to: false,
            loop_start: self.wasm,
            budget_patch,
            merge: None,
            else_state,
        });
    }

    /// Moves the top `n` values to the home slots starting at `base` (all spilled).
    pub(super) fn move_results(&mut self, base: usize, n: usize) {
        let top = self.stack.len() - n;
        if top == base {
            return;
        }
        for k in 0..n {
            let (src, dst) = (self.stack.home(top + k), self.stack.home(base + k));
            let t = self.stack.entries[top + k].ty;
            self.masm.copy_value(t, RBP, dst, RBP, src);
        }
    }

    pub(super) fn visit_else(&mut self) {
        let idx = self.frames.len() - 1;
        if self.reachable {
            self.stack.spill_all(&mut self.masm);
            let (base, n) = (self.frames[idx].base, self.frames[idx].results.len());
            self.move_results(base, n);
            let l = self.frames[idx].label;
            self.masm.jmp(l);
            self.note_branch(idx);
        }
        let f = &mut self.frames[idx];
        f.has_else = true;
        let else_label = f.else_label.expect("else without if");
        let base = f.base;
        let params = f.params.clone();
        let state = f.else_state.take().unwrap_or_default();
        self.masm.bind(else_label);
        self.reset_stack(base, &params);
        // The else arm starts as the `if` left the cache.
        self.stack.restore_cache(&state);
        self.reachable = true;
    }

    /// A branch (or the end of an arm) to frame `idx`'s label: the label
    /// keeps only what the local cache holds on every edge to it.
    pub(super) fn note_branch(&mut self, idx: usize) {
        self.frames[idx].branched_to = true;
        if self.frames[idx].kind == FrameKind::Loop {
            return;
        }
        let state = self.stack.cache_state();
        let f = &mut self.frames[idx];
        f.merge = Some(match f.merge.take() {
            None => state,
            Some(m) => intersect(m, &state),
        });
    }

    pub(super) fn reset_stack(&mut self, base: usize, types: &[ValType]) {
        while self.stack.len() > base {
            let p = self.stack.pop();
            self.stack.free_loc(p.loc);
        }
        self.stack.reset_regs();
        for &t in types {
            self.stack.push(t, Loc::Stack);
        }
    }

    pub(super) fn visit_end(&mut self) -> Res {
        let idx = self.frames.len() - 1;
        if self.frames[idx].kind == FrameKind::Func {
            if self.reachable {
                self.emit_return();
            }
            self.frames.pop();
            self.reachable = false;
            return Ok(());
        }
        let (base, nres) = (self.frames[idx].base, self.frames[idx].results.len());
        // The cache after the end: what the fall-through and every branch
        // here agree on (spilling and result moves leave the cache as is).
        let mut merged: Option<CacheState> = None;
        let mut meet = |s: CacheState| {
            merged = Some(match merged.take() {
                None => s,
                Some(m) => intersect(m, &s),
            })
        };
        if self.reachable {
            self.stack.spill_all(&mut self.masm);
            self.move_results(base, nres);
            meet(self.stack.cache_state());
        }
        let mut f = self.frames.pop().unwrap();
        if f.kind != FrameKind::Loop {
            if let Some(m) = f.merge.take() {
                meet(m);
            }
        }
        if f.kind == FrameKind::If && !f.has_else {
            meet(f.else_state.take().unwrap_or_default());
        }
        if let Some(at) = f.budget_patch {
            let cost = (self.wasm.saturating_sub(f.loop_start)).max(1) as i32;
            self.patches.push((at, cost));
        }
        let mut reachable = self.reachable || f.branched_to;
        if f.kind == FrameKind::If && !f.has_else {
            // The false edge lands where the end is (no jump over nothing).
            self.masm.bind(f.else_label.unwrap());
            reachable = true;
        }
        if f.kind != FrameKind::Loop {
            self.masm.bind(f.label);
        } else {
            reachable = self.reachable;
        }
        self.reset_stack(base, &f.results);
        if let Some(m) = merged {
            self.stack.restore_cache(&m);
        }
        self.reachable = reachable;
        Ok(())
    }

    /// Jumps (or returns) to frame `depth` with the top values as its arguments.
    /// Everything must already be spilled.
    pub(super) fn branch_to(&mut self, depth: u32) {
        let idx = self.frames.len() - 1 - depth as usize;
        if self.frames[idx].kind == FrameKind::Func {
            self.emit_return();
            return;
        }
        let n = self.frames[idx].branch_types().len();
        let base = self.frames[idx].base;
        self.move_results(base, n);
        self.note_branch(idx);
        let l = self.frames[idx].label;
        self.masm.jmp(l);
    }

    pub(super) fn needs_moves(&self, depth: u32) -> bool {
        let f = &self.frames[self.frames.len() - 1 - depth as usize];
        if f.kind == FrameKind::Func {
            return true;
        }
        let n = f.branch_types().len();
        n > 0 && self.stack.len() - n != f.base
    }

    pub(super) fn visit_br(&mut self, depth: u32) {
        self.stack.spill_all(&mut self.masm);
        self.branch_to(depth);
        self.reachable = false;
    }

    pub(super) fn visit_br_if(&mut self, depth: u32) {
        let c = self.pop_condition();
        if self.needs_moves(depth) {
            let skip = self.masm.new_label();
            self.masm.jcc(c.negate(), skip);
            self.branch_to(depth);
            self.masm.bind(skip);
        } else {
            let idx = self.frames.len() - 1 - depth as usize;
            self.note_branch(idx);
            let l = self.frames[idx].label;
            self.masm.jcc(c, l);
        }
    }

    pub(super) fn visit_br_table(&mut self, targets: &[u32], default: u32) -> Res {
        let idx = self.pop_gpr();
        self.stack.spill_all(&mut self.masm);
        let mut stubs: Vec<(DynamicLabel, u32)> = Vec::new();
        let mut label_for = |cg: &mut Self, depth: u32| -> DynamicLabel {
            if let Some(&(l, _)) = stubs.iter().find(|(_, d)| *d == depth) {
                return l;
            }
            let fi = cg.frames.len() - 1 - depth as usize;
            if !cg.needs_moves(depth) {
                cg.note_branch(fi);
                return cg.frames[fi].label;
            }
            let l = cg.masm.new_label();
            stubs.push((l, depth));
            l
        };
        let default_label = label_for(self, default);
        let labels: Vec<DynamicLabel> = targets.iter().map(|&t| label_for(self, t)).collect();
        self.masm
            .alu(Alu::Cmp, false, idx, Src::Imm(targets.len() as i32));
        self.masm.jcc(Cond::GeU, default_label);
        if !self.masm.jump_table(idx, &labels) {
            return Err("br_table entry too large".into());
        }
        self.stack.free_gpr(idx);
        for (l, depth) in stubs {
            self.masm.bind(l);
            self.branch_to(depth);
        }
        self.reachable = false;
        Ok(())
    }

    /// Returns from the function with the top values as results.
    pub(super) fn emit_return(&mut self) {
        let results = self.ty.results().to_vec();
        match results.len() {
            0 => {}
            1 => {
                let p = self.pop();
                if results[0].in_xmm() {
                    self.stack.load_xmm(&mut self.masm, p, 0);
                } else {
                    self.stack.load_gpr(&mut self.masm, p, RAX);
                }
                self.stack.push(p.ty, p.loc);
            }
            n => {
                self.stack.spill_all(&mut self.masm);
                self.masm.load(true, RAX, RBP, RETPTR_SLOT);
                let top = self.stack.len() - n;
                for (k, off) in value_offsets(&results).into_iter().enumerate() {
                    let home = self.stack.home(top + k);
                    self.masm.copy_value(results[k], RAX, off, RBP, home);
                }
            }
        }
        if self.debug.is_some() {
            self.masm.load(true, DEBUG_FLAG, RBP, DEBUG_FLAG_SLOT);
        }
        let pop = abi_for(&self.ty).stack_arg_bytes();
        self.masm.epilogue(pop);
    }

    // ---- calls ---------------------------------------------------------------------

    /// Loads the top `ty.params().len()` values (all spilled) into argument
    /// locations: below a results area (two or more results), the
    /// stack-argument area, which the callee pops. Returns the size of the
    /// results area, which `finish_call` releases.
    pub(super) fn setup_call_args(&mut self, ty: &FuncType) -> i32 {
        self.setup_call_args_with(ty, false)
    }

    /// The first half of a call's argument set-up without the round trip
    /// through the home slots: spills everything below the arguments and
    /// the arguments that do not go in general registers, then moves those
    /// that do straight there from wherever they are (registers, cached
    /// locals, constants, slots), together with `extra` (a popped value for
    /// another register: the table index of `call_indirect`). Drops the
    /// local cache. `setup_call_args_with(ty, true)` does the rest.
    pub(super) fn place_gpr_args(&mut self, ty: &FuncType, extra: Option<(Gpr, Popped)>) {
        let abi = abi_for(ty);
        let n = ty.params().len();
        let first = self.stack.len() - n;
        for i in 0..first {
            self.stack.spill(&mut self.masm, i);
        }
        let mut moves = Vec::with_capacity(n + 1);
        for (k, loc) in abi.params.iter().enumerate() {
            let i = first + k;
            let ArgLoc::Gpr(d) = *loc else {
                self.stack.spill(&mut self.masm, i);
                continue;
            };
            let e = self.stack.entries[i];
            let p = Popped {
                ty: e.ty,
                loc: e.loc,
                depth: i,
            };
            let src = self.arg_src(p);
            moves.push((d, src, w_of(e.ty)));
        }
        if let Some((d, p)) = extra {
            let src = self.arg_src(p);
            moves.push((d, src, w_of(p.ty)));
        }
        // The registers still hold what the cache knew; nothing is
        // allocated from here to the call.
        self.stack.drop_cache();
        // Register to register first, as a parallel move (a register that
        // is another move's source is read before it is written), then
        // constants and slots, which read no allocatable register.
        let regs = moves
            .iter()
            .filter_map(|&(d, s, _)| match s {
                ArgSrc::Reg(r) => Some((d, r)),
                _ => None,
            })
            .collect();
        self.masm.parallel_moves(regs);
        for (d, s, w) in moves {
            match s {
                ArgSrc::Reg(_) => {}
                ArgSrc::Imm(c) => self.masm.mov_imm(w, d, c),
                ArgSrc::Slot(off) => self.masm.load(w, d, RBP, off),
            }
        }
    }

    /// Where an integer value to move into an argument register is now
    /// (spilling it first if it is in an xmm register or the flags, which
    /// never happens for a validated integer argument).
    fn arg_src(&mut self, p: Popped) -> ArgSrc {
        match p.loc {
            Loc::Gpr(r) => ArgSrc::Reg(r),
            Loc::Const(c) => ArgSrc::Imm(c as i64),
            Loc::Stack => ArgSrc::Slot(self.stack.home(p.depth)),
            Loc::Local(l) => match self.stack.cached(l) {
                Cached::Gpr(r) => ArgSrc::Reg(r),
                Cached::Const(c) => ArgSrc::Imm(c as i64),
                Cached::None | Cached::Xmm(_) => ArgSrc::Slot(self.stack.local_slot(l)),
            },
            Loc::Xmm(_) | Loc::Flags(_) => unreachable!("integer argument outside a GPR"),
        }
    }

    /// `setup_call_args`; with `gprs_placed`, the general-register
    /// arguments are already in place (`place_gpr_args`).
    fn setup_call_args_with(&mut self, ty: &FuncType, gprs_placed: bool) -> i32 {
        let abi = abi_for(ty);
        let results_area = if abi.retptr {
            (values_size(ty.results()) + 15) & !15
        } else {
            0
        };
        self.masm.sub_rsp(results_area + abi.stack_arg_bytes());
        let first = self.stack.len() - ty.params().len();
        for (k, loc) in abi.params.iter().enumerate() {
            let t = ty.params()[k];
            let home = self.stack.home(first + k);
            match *loc {
                ArgLoc::Gpr(_) if gprs_placed => {}
                ArgLoc::Gpr(r) => self.masm.load(w_of(t), r, RBP, home),
                ArgLoc::Xmm(x) => self.masm.xload(t, x, RBP, home),
                ArgLoc::Stack(n) => self.masm.copy_value(t, RSP, 8 * n as i32, RBP, home),
            }
        }
        if abi.retptr {
            self.masm.lea(RDX, RSP, abi.stack_arg_bytes());
        }
        results_area
    }

    /// After the call (the callee popped its stack arguments): drop the
    /// arguments, push the results, release the results area.
    pub(super) fn finish_call(&mut self, ty: &FuncType, results_area: i32) {
        for _ in 0..ty.params().len() {
            self.stack.pop();
        }
        self.stack.reset_regs();
        let results = ty.results();
        if results.len() == 1 {
            let t = results[0];
            if t.in_xmm() {
                self.stack.alloc_xmm_specific(0);
                self.push_xmm(t, 0);
            } else {
                self.stack.claim_gpr(RAX);
                if t == ValType::I32 {
                    self.masm.mov_rr(false, RAX, RAX);
                }
                self.push_gpr(t, RAX);
            }
        } else if results.len() > 1 {
            for (&t, off) in results.iter().zip(value_offsets(results)) {
                let home = self.stack.home(self.stack.len());
                self.masm.copy_value(t, RBP, home, RSP, off);
                self.stack.push(t, Loc::Stack);
            }
        }
        self.masm.add_rsp(results_area);
    }

    pub(super) fn visit_call(&mut self, f: u32) {
        let ty = self.module.func_type(f).clone();
        self.place_gpr_args(&ty, None);
        let area = self.setup_call_args_with(&ty, true);
        self.masm.load(true, RAX, VMCTX, VMCTX_FUNCREFS);
        self.masm.load(true, RAX, RAX, 8 * f as i32);
        // A function of this module runs with this instance's context: the
        // callee's context then does not wait for the loads of its funcref.
        let own = f >= self.module.num_imported_funcs;
        self.emit_call_funcref_to(ty.params().len(), own);
        self.finish_call(&ty, area);
    }

    /// Calls the VMFuncRef in rax, with the top `nargs` values as arguments
    /// (consumed by the call: the call site's record leaves them out).
    pub(super) fn emit_call_funcref(&mut self, nargs: usize) {
        self.emit_call_funcref_to(nargs, false)
    }

    /// `emit_call_funcref`; `own`: the callee is a function of this
    /// instance, whose context is ours.
    fn emit_call_funcref_to(&mut self, nargs: usize, own: bool) {
        if own {
            self.masm.mov_rr(true, RDI, VMCTX);
        } else {
            self.masm.load(true, RDI, RAX, FUNCREF_VMCTX);
        }
        self.masm.mov_rr(true, RSI, VMCTX);
        let mut stack = Vec::new();
        self.stack.snapshot(&mut stack);
        stack.truncate(stack.len() - nargs);
        self.masm.call_mem(RAX, FUNCREF_CODE);
        self.note_call_site();
        // r14 is callee-saved, nothing to reload; the debug byte may have
        // changed while the callee ran.
        if self.debug.is_some() {
            // A frame that made this call in plain code and moved to debug
            // code meanwhile (on-stack replacement) returns to `land`: it
            // still holds the caller's r13, which debug code keeps in a slot.
            let reload = self.masm.new_label();
            self.masm.jmp(reload);
            let land = self.masm.offset();
            self.masm.store(true, RBP, DEBUG_FLAG_SLOT, DEBUG_FLAG);
            self.masm.bind(reload);
            self.checks.calls.push((self.wasm, land, stack));
            self.masm.load_debug_flag(self.debug_flag_disp());
        } else {
            let ret = self.masm.offset();
            self.checks.calls.push((self.wasm, ret, stack));
        }
    }

    pub(super) fn visit_call_indirect(&mut self, type_index: u32, table: u32) {
        let ty = self.module.types[type_index as usize].clone();
        // The arguments go to their registers and the index to rax at once;
        // the check below uses only rax and the scratch register.
        let idx = self.pop();
        self.place_gpr_args(&ty, Some((RAX, idx)));
        self.check_indirect_funcref(type_index, table);
        let area = self.setup_call_args_with(&ty, true);
        self.emit_call_funcref(ty.params().len());
        self.finish_call(&ty, area);
    }

    /// Pops the table index, spills the stack and leaves the checked
    /// `VMFuncRef` (in bounds, not null, signature `type_index`) in rax.
    pub(super) fn load_indirect_funcref(&mut self, type_index: u32, table: u32) {
        let idx = self.pop();
        self.stack.spill_all(&mut self.masm);
        // Rax and the argument registers are written next (a local the
        // cache held is read from its slot).
        self.stack.drop_cache();
        // The index goes to rax before arguments take their registers.
        self.stack.load_gpr(&mut self.masm, idx, RAX);
        self.stack.free_loc(idx.loc);
        self.check_indirect_funcref(type_index, table);
    }

    /// With the table index in rax: leaves the checked `VMFuncRef` in rax.
    fn check_indirect_funcref(&mut self, type_index: u32, table: u32) {
        let oob = self.trap_label(TrapCode::TableOutOfBounds, self.wasm);
        let null = self.trap_label(TrapCode::IndirectCallToNull, self.wasm);
        let bad_sig = self.trap_label(TrapCode::BadSignature, self.wasm);
        self.masm.load_table_ptr(SCRATCH, table);
        self.masm
            .alu(Alu::Cmp, true, RAX, Src::Mem(SCRATCH, TABLE_LENGTH));
        self.masm.jcc(Cond::GeU, oob);
        self.masm.load(true, SCRATCH, SCRATCH, TABLE_ELEMENTS);
        self.masm.load_indexed8(RAX, SCRATCH, RAX);
        self.masm.test_rr(true, RAX, RAX);
        self.masm.jcc(Cond::Eq, null);
        self.masm
            .cmp_mem32_imm(RAX, FUNCREF_SIG, self.sig_ids[type_index as usize] as i32);
        self.masm.jcc(Cond::Ne, bad_sig);
    }

    /// Calls a runtime builtin with `args` (Stack(k) = k-th of the top `npop`
    /// values, bottom first). Pops `npop` values, pushes `result`, and if
    /// `traps`, a non-zero return reports the pending runtime trap.
    pub(super) fn builtin(
        &mut self,
        b: Builtin,
        args: &[Arg],
        npop: usize,
        result: Option<ValType>,
        traps: bool,
    ) {
        self.stack.spill_all(&mut self.masm);
        self.stack.drop_cache();
        let first = self.stack.len() - npop;
        for (i, a) in args.iter().enumerate() {
            let r = ARG_GPRS[i + 1];
            match *a {
                Arg::Imm(v) => self.masm.mov_imm(true, r, v),
                Arg::Stack(k) => {
                    let t = self.stack.entries[first + k].ty;
                    self.masm.load(w_of(t), r, RBP, self.stack.home(first + k));
                }
                Arg::SlotAddr(k) => self.masm.lea(r, RBP, self.stack.home(first + k)),
                Arg::TableIndex(k) => {
                    let t = self.stack.entries[first + k].ty;
                    self.masm.load(w_of(t), r, RBP, self.stack.home(first + k));
                    if t == ValType::I64 {
                        self.masm.saturate_u32(r);
                    }
                }
            }
        }
        self.masm.mov_rr(true, RDI, VMCTX);
        self.call_builtin_raw(b);
        // The runtime may have set the debug byte meanwhile (a watchpoint hit by
        // memory.fill/copy/init): the next instruction's check must see it.
        if self.debug.is_some() {
            self.masm.load_debug_flag(self.debug_flag_disp());
        }
        for _ in 0..npop {
            self.stack.pop();
        }
        self.stack.reset_regs();
        if traps {
            self.masm.test_rr(false, RAX, RAX);
            let rt = self.runtime_trap_label(self.wasm);
            self.masm.jcc(Cond::Ne, rt);
        }
        if let Some(t) = result {
            self.stack.claim_gpr(RAX);
            if t == ValType::I32 {
                self.masm.mov_rr(false, RAX, RAX);
            }
            self.push_gpr(t, RAX);
        }
    }

    pub(super) fn trap_here(&mut self, code: TrapCode) {
        self.trap_sites.push(TrapSite {
            native: self.masm.offset(),
            code: Some(code),
            wasm_offset: self.wasm,
        });
        self.masm.ud2();
    }
}

/// Where a general-register argument of a direct call comes from.
#[derive(Debug, Clone, Copy)]
pub(super) enum ArgSrc {
    Reg(Gpr),
    Imm(i64),
    /// A frame slot (`[rbp + off]`).
    Slot(i32),
}
