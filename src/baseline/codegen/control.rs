//! Control flow and calls for the baseline compiler: blocks, loops, `if`,
//! branches with their value moves, `br_table` jump tables, returns, direct and
//! indirect calls in the shared calling convention.

use super::*;

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
        let r = self.take_gpr(p);
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
        if kind == FrameKind::If {
            let c = self.pop_condition();
            let l = self.masm.new_label();
            self.masm.jcc(c.negate(), l);
            else_label = Some(l);
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
            self.frames[idx].branched_to = true;
        }
        let f = &mut self.frames[idx];
        f.has_else = true;
        let else_label = f.else_label.expect("else without if");
        let base = f.base;
        let params = f.params.clone();
        self.masm.bind(else_label);
        self.reset_stack(base, &params);
        self.reachable = true;
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
        if self.reachable {
            self.stack.spill_all(&mut self.masm);
            self.move_results(base, nres);
        }
        let f = self.frames.pop().unwrap();
        if let Some(at) = f.budget_patch {
            let cost = (self.wasm.saturating_sub(f.loop_start)).max(1) as i32;
            self.patches.push((at, cost));
        }
        let mut reachable = self.reachable || f.branched_to;
        if f.kind == FrameKind::If && !f.has_else {
            if self.reachable {
                self.masm.jmp(f.label);
            }
            self.masm.bind(f.else_label.unwrap());
            reachable = true;
        }
        if f.kind != FrameKind::Loop {
            self.masm.bind(f.label);
        } else {
            reachable = self.reachable;
        }
        self.reset_stack(base, &f.results);
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
        self.frames[idx].branched_to = true;
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
            self.frames[idx].branched_to = true;
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
                cg.frames[fi].branched_to = true;
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
        self.stack.spill_all(&mut self.masm);
        self.stack.drop_cache();
        let area = self.setup_call_args(&ty);
        self.masm.load(true, RAX, VMCTX, VMCTX_FUNCREFS);
        self.masm.load(true, RAX, RAX, 8 * f as i32);
        self.emit_call_funcref();
        self.finish_call(&ty, area);
    }

    /// Calls the VMFuncRef in rax.
    pub(super) fn emit_call_funcref(&mut self) {
        self.masm.load(true, RDI, RAX, FUNCREF_VMCTX);
        self.masm.mov_rr(true, RSI, VMCTX);
        let mut stack = Vec::new();
        self.stack.snapshot(&mut stack);
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
        self.load_indirect_funcref(type_index, table);
        let area = self.setup_call_args(&ty);
        self.emit_call_funcref();
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
