//! The single pass: wasm operators in, machine code out, with the function
//! validator interleaved. No IR: each operator is turned into code at once,
//! working on the virtual operand stack (`stack.rs`) and the macro assembler
//! (`masm.rs`).
//!
//! Frame layout (rbp-relative):
//! `[rbp+16..]` stack arguments, `[rbp+8]` return address, `[rbp]` saved rbp,
//! `[rbp-8]` saved r15, `[rbp-16]` saved r14, `[rbp-24]` results pointer,
//! `[rbp-32-8i]` local i, then one home slot per operand-stack depth.

mod control;
mod exceptions;
mod funcref;
mod memidx;
mod numeric;
mod scratch;
mod simd;
mod tailcall;

use super::cache::{CacheState, Cached};
use super::masm::*;
use super::stack::{Loc, Popped, ValueStack, ARG_GPRS};
use crate::abi::{abi_for, ArgLoc};
use crate::code::{DebugSideTable, FuncCode, StackRecorder, TrapSite, ValueLoc};
use crate::error::{Result, TrapCode};
use crate::module::{BodyError, FuncBodyReader, ModuleInfo};
use crate::types::{FuncType, ValType};
use crate::vm::layout::*;
use dynasmrt::DynamicLabel;
use scratch::Scratch;
use wasmparser::{BlockType, FuncValidator, MemArg, Operator, ValidatorResources};

/// Compile options for one function.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompileOptions {
    /// Debug code: a breakable position at every instruction and a debug side table.
    pub debug: bool,
    /// Charge the tier-up budget at function entry and every loop iteration
    /// (in proportion to the wasm bytes of the function / loop body).
    pub tier_up: bool,
}

const RETPTR_SLOT: i32 = -24;
/// Debug code saves the caller's r13 here (it holds the debug byte meanwhile).
const DEBUG_FLAG_SLOT: i32 = -32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Func,
    Block,
    Loop,
    If,
    /// Exception handling: `try_table` and the legacy `try`.
    TryTable,
    Try,
}

struct Frame {
    kind: FrameKind,
    /// Branch target: the loop header for loops, the end otherwise.
    label: DynamicLabel,
    else_label: Option<DynamicLabel>,
    has_else: bool,
    /// Canonical operand-stack height of the frame's values.
    base: usize,
    params: Vec<ValType>,
    results: Vec<ValType>,
    /// Entered in unreachable code: no code is generated for it.
    dead: bool,
    branched_to: bool,
    /// Loops: wasm offset of the header and where to patch the budget cost.
    loop_start: u32,
    budget_patch: Option<u32>,
    /// What the local cache holds on every branch to `label` seen so far
    /// (`None`: no branch yet); loops ignore it (their label is the header).
    merge: Option<CacheState>,
    /// `if`: the cache on the edge to the else arm (or to the end).
    else_state: Option<CacheState>,
}

impl Frame {
    fn branch_types(&self) -> &[ValType] {
        if self.kind == FrameKind::Loop {
            &self.params
        } else {
            &self.results
        }
    }
}

enum OutOfLine {
    Trap {
        label: DynamicLabel,
        code: Option<TrapCode>,
        wasm: u32,
    },
    /// Interrupt/stack check slow path: `back` resumes after the check.
    StackCheck {
        label: DynamicLabel,
        back: DynamicLabel,
        wasm: u32,
        entry: bool,
    },
    /// The tier-up budget ran out.
    TierUp {
        label: DynamicLabel,
        back: DynamicLabel,
        wasm: u32,
    },
    /// Debug hook for breakable positions (index, wasm offset): consecutive
    /// positions with no machine code between them share one check, and its
    /// slow path calls the hook for each in order (the machine state is the
    /// same for all of them; the side table gives each its operand stack).
    Debug {
        label: DynamicLabel,
        back: DynamicLabel,
        /// Its (index, wasm offset) pairs: `debug_points[points.0..points.1]`.
        points: (u32, u32),
        /// A compare's result is in the flags: save them around the hook.
        keep_flags: bool,
        /// Registers of the local cache and the local each holds, reloaded
        /// from the slots after the hook (the debugger may have set a local):
        /// `debug_reloads[reloads.0..reloads.1]`.
        reloads: (u32, u32),
    },
}

pub struct CodeGen<'a> {
    masm: Masm,
    module: &'a ModuleInfo,
    sig_ids: &'a [u32],
    func_index: u32,
    ty: FuncType,
    locals: Vec<ValType>,
    stack: ValueStack,
    frames: Vec<Frame>,
    reachable: bool,
    frame_size_patch: u32,
    offset_map: Vec<(u32, u32)>,
    trap_sites: Vec<TrapSite>,
    ool: Vec<OutOfLine>,
    /// Out-of-line items queued while `ool` is emitted.
    ool_next: Vec<OutOfLine>,
    /// The points and reloads of `OutOfLine::Debug` items.
    debug_points: Vec<(u32, u32)>,
    debug_reloads: Vec<(Gpr, i32, bool)>,
    /// This thread's reusable buffers, less those moved into the fields above.
    scratch: Box<Scratch>,
    /// Wasm offset of the operator being compiled.
    wasm: u32,
    debug: Option<DebugSideTable>,
    /// Records the operand stack of each debug position into `debug`.
    debug_stacks: StackRecorder,
    debug_common: Option<DynamicLabel>,
    /// Locals and stack at the interrupt checks (see `code::CheckTable`).
    checks: crate::code::CheckTable,
    /// The last debug check: native offset after it, labels bound by then,
    /// its item in `ool`.
    /// (code end, bind count, local cache version, OOL item) of the last debug check.
    last_debug_check: Option<(u32, u32, u32, usize)>,
    /// The last runtime-trap stub and its wasm offset (reused for the same offset).
    runtime_trap: Option<(u32, DynamicLabel)>,
    has_memory: bool,
    tier_up: bool,
    /// (byte offset, value) of 32-bit immediates to patch when the code is done.
    patches: Vec<(u32, i32)>,
    body_len: usize,
    exn: exceptions::ExnState,
}

type Res<T = ()> = std::result::Result<T, String>;

/// Compiles function `func_index` of `module`. With a validator, the body is
/// validated in the same pass.
pub fn compile_function(
    module: &ModuleInfo,
    sig_ids: &[u32],
    func_index: u32,
    validator: Option<FuncValidator<ValidatorResources>>,
    opts: CompileOptions,
) -> Result<FuncCode> {
    let mut validator = validator;
    let res = (|| -> std::result::Result<FuncCode, BodyError> {
        let FuncBodyReader {
            locals,
            mut ops,
            start,
            len,
        } = module.read_body(func_index, validator.as_mut())?;
        let mut err_at = start;
        let wide = simd::may_hold_v128(module, module.func_type(func_index), &locals, &ops);
        let mut cg = CodeGen::new(module, sig_ids, func_index, locals, opts, len, wide);
        // The prologue (stack check, budget) is attributed to the body's first byte.
        cg.wasm = start as u32;
        cg.prologue();
        while !ops.eof() {
            let (op, offset) = ops.read_with_offset()?;
            let offset = offset as usize;
            err_at = offset;
            if let Some(v) = validator.as_mut() {
                v.op(offset as u64, &op)?;
            }
            cg.wasm = offset as u32;
            cg.visit(&op).map_err(|m| BodyError::at(offset, m))?;
        }
        ops.finish()?;
        cg.finish().map_err(|m| BodyError::at(err_at, m))
    })();
    res.map_err(|f| f.into_error(func_index))
}

fn w_of(t: ValType) -> bool {
    t.is_64bit()
}

impl<'a> CodeGen<'a> {
    fn new(
        module: &'a ModuleInfo,
        sig_ids: &'a [u32],
        func_index: u32,
        locals: Vec<ValType>,
        opts: CompileOptions,
        body_len: usize,
        wide: bool,
    ) -> CodeGen<'a> {
        let ty = module.func_type(func_index).clone();
        let stack = ValueStack::new(&locals, wide, opts.debug);
        let mut scratch = Scratch::take(body_len, opts.debug);
        let debug = opts.debug.then(|| {
            DebugSideTable::new_in(
                locals
                    .iter()
                    .enumerate()
                    .map(|(i, t)| (*t, ValueLoc::Frame(stack.local_slot(i as u32))))
                    .collect(),
                std::mem::take(&mut scratch.table),
            )
        });
        let mut masm = Masm::for_body(body_len, opts.debug);
        let label = masm.new_label();
        let frames = vec![Frame {
            kind: FrameKind::Func,
            label,
            else_label: None,
            has_else: false,
            base: 0,
            params: Vec::new(),
            results: ty.results().to_vec(),
            dead: false,
            branched_to: false,
            loop_start: 0,
            budget_patch: None,
            merge: None,
            else_state: None,
        }];
        CodeGen {
            masm,
            module,
            sig_ids,
            func_index,
            ty,
            locals,
            stack,
            frames,
            reachable: true,
            frame_size_patch: 0,
            offset_map: std::mem::take(&mut scratch.offset_map),
            trap_sites: std::mem::take(&mut scratch.trap_sites),
            ool: std::mem::take(&mut scratch.ool),
            ool_next: std::mem::take(&mut scratch.ool_next),
            debug_points: std::mem::take(&mut scratch.debug_points),
            debug_reloads: std::mem::take(&mut scratch.debug_reloads),
            wasm: 0,
            debug,
            debug_stacks: std::mem::take(&mut scratch.recorder),
            scratch,
            debug_common: None,
            last_debug_check: None,
            checks: Default::default(),
            runtime_trap: None,
            has_memory: !module.memories.is_empty(),
            tier_up: opts.tier_up && !opts.debug,
            patches: Vec::new(),
            body_len,
            exn: Default::default(),
        }
    }

    // ---- prologue / epilogue ------------------------------------------------

    /// The stack/interrupt check (DESIGN §3.4) with its slow path out of line;
    /// `entry`: at function entry, where a real overflow traps before any call.
    fn stack_check(&mut self, entry: bool) {
        self.record_check(entry);
        let slow = self.masm.new_label();
        let back = self.masm.new_label();
        self.masm.stack_check(VMCTX_LIMITS, slow);
        self.masm.bind(back);
        self.ool.push(OutOfLine::StackCheck {
            label: slow,
            back,
            wasm: self.wasm,
            entry,
        });
    }

    /// Records where the operand stack is at a loop-header check (the
    /// locals are in their frame slots there, listed once per function; the
    /// entry check is described by the prologue).
    fn record_check(&mut self, entry: bool) {
        if entry {
            return;
        }
        if self.checks.locals.len() != self.locals.len() {
            self.checks.locals = (0..self.locals.len())
                .map(|i| {
                    (
                        self.locals[i],
                        ValueLoc::Frame(self.stack.local_slot(i as u32)),
                    )
                })
                .collect();
        }
        let mut stack = Vec::new();
        self.stack.snapshot(&mut stack);
        // The then-arm of an `if` with parameters works on copies of them;
        // the originals below the copies (kept for the else-arm, dead in
        // the then-arm) are no wasm values: the record lists the operand
        // stack the program sees (what the optimizing tier's record and OSR
        // entries hold). Innermost first, so outer indices stay valid.
        for f in self.frames.iter().rev() {
            if f.kind == FrameKind::If && !f.has_else && !f.params.is_empty() {
                let end = (f.base + f.params.len()).min(stack.len());
                stack.drain(f.base.min(end)..end);
            }
        }
        self.checks.loops.push((self.wasm, stack));
    }

    /// vmctx offset of this function's debug byte.
    fn debug_flag_disp(&self) -> i32 {
        VMCTX_DEBUG_FLAGS + self.func_index as i32
    }

    fn prologue(&mut self) {
        self.frame_size_patch = self.masm.prologue();
        let abi = abi_for(&self.ty);
        // At the entry check the parameters are still where the caller put
        // them and the other locals are zero.
        self.checks.entry_locals = self
            .locals
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                let loc = match abi.params.get(i) {
                    Some(ArgLoc::Gpr(r)) => ValueLoc::Gpr(*r),
                    Some(ArgLoc::Xmm(x)) => ValueLoc::Xmm(*x),
                    Some(ArgLoc::Stack(n)) => ValueLoc::Frame(16 + 8 * *n as i32),
                    None => ValueLoc::Const(0),
                };
                (t, loc)
            })
            .collect();
        // Stack/interrupt check before the frame is touched.
        self.stack_check(true);
        self.masm.count_call(8 * self.func_index as i32);
        if self.debug.is_some() {
            self.masm.store(true, RBP, DEBUG_FLAG_SLOT, DEBUG_FLAG);
            self.masm.load_debug_flag(self.debug_flag_disp());
        }

        if abi.retptr {
            self.masm.store(true, RBP, RETPTR_SLOT, RDX);
        }
        for (i, loc) in abi.params.iter().enumerate() {
            let t = self.locals[i];
            let slot = self.stack.local_slot(i as u32);
            match *loc {
                ArgLoc::Gpr(r) => self.masm.store(w_of(t), RBP, slot, r),
                ArgLoc::Xmm(x) => self.masm.xstore(t, RBP, slot, x),
                ArgLoc::Stack(n) => self.masm.copy_value(t, RBP, slot, RBP, 16 + 8 * n as i32),
            }
        }
        let nparams = self.ty.params().len();
        let nlocals = self.locals.len();
        let mut clobbered = 0u16;
        if nlocals > nparams {
            // Every register is free here (the parameters are stored). The
            // locals' slots are contiguous from the last one up to the first
            // non-parameter's (v128 alignment gaps included).
            let lowest = self.stack.local_slot(nlocals as u32 - 1);
            let top =
                self.stack.local_slot(nparams as u32) + 8 * self.locals[nparams].words() as i32;
            clobbered = self.masm.zero_slots(lowest, ((top - lowest) / 8) as u32);
        }
        // Parameters stay in their argument registers as the local cache's
        // (as Liftoff keeps them): the first reads need no load. An i32's
        // upper half is unspecified at the call (`crate::abi`) and the cache
        // holds i32s zero-extended.
        for (i, loc) in abi.params.iter().enumerate() {
            if let ArgLoc::Xmm(x) = *loc {
                if matches!(self.locals[i], ValType::F32 | ValType::F64) {
                    self.stack.alloc_xmm_specific(x);
                    if !self.stack.cache_xmm(i as u32, x) {
                        self.stack.free_xmm(x);
                    }
                }
            }
            if let ArgLoc::Gpr(r) = *loc {
                let t = self.locals[i];
                if clobbered & (1 << r) != 0 || t.in_xmm() {
                    continue;
                }
                if !w_of(t) {
                    self.masm.mov_rr(false, r, r);
                }
                self.stack.claim_gpr(r);
                if !self.stack.cache_gpr(i as u32, r) {
                    self.stack.free_gpr(r);
                }
            }
        }
        if self.has_memory {
            self.masm.load(true, MEM_BASE, VMCTX, VMCTX_MEMORY);
            self.masm.load(true, MEM_BASE, MEM_BASE, MEMORY_BASE);
        }
        // Calls charge the whole body: V8 charges by code size too.
        self.charge_budget(self.body_len.clamp(1, i32::MAX as usize) as i32);
    }

    /// Emits a budget charge (if tier-up is on); returns the cost's patch offset.
    fn charge_budget(&mut self, cost: i32) -> Option<u32> {
        if !self.tier_up {
            return None;
        }
        let slow = self.masm.new_label();
        let back = self.masm.new_label();
        let at = self
            .masm
            .budget_charge(4 * self.func_index as i32, cost, slow);
        self.masm.bind(back);
        self.ool.push(OutOfLine::TierUp {
            label: slow,
            back,
            wasm: self.wasm,
        });
        Some(at)
    }

    fn finish(mut self) -> Res<FuncCode> {
        self.emit_out_of_line()?;
        // Patch the frame size: everything below the saved registers, 16-aligned.
        // The return-pointer and saved-r13 slots, locals, operand homes.
        // Hidden exception slots (legacy `try`) lie at the bottom, at [rsp].
        let size = (self.stack.frame_bytes() + 8 * self.exn.slots).next_multiple_of(16);
        if size > i32::MAX as usize / 2 {
            return Err("frame too large".into());
        }
        let patch = self.frame_size_patch as usize;
        // Recorded in this thread's buffers, copied out at their exact size.
        self.offset_map.sort_by_key(|&(n, _)| n);
        let offset_map = self.offset_map.clone();
        self.trap_sites.sort_by_key(|t| t.native);
        let traps = self.trap_sites.clone();
        let debug = match self.debug.take() {
            Some(table) => {
                let (table, bufs) = table.finish();
                self.scratch.table = bufs;
                Some(table)
            }
            None => None,
        };
        let handlers = self.handler_sites(size as u32)?;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.offset_map = std::mem::take(&mut self.offset_map);
        scratch.trap_sites = std::mem::take(&mut self.trap_sites);
        scratch.ool = std::mem::take(&mut self.ool);
        scratch.ool_next = std::mem::take(&mut self.ool_next);
        scratch.debug_points = std::mem::take(&mut self.debug_points);
        scratch.debug_reloads = std::mem::take(&mut self.debug_reloads);
        scratch.recorder = std::mem::take(&mut self.debug_stacks);
        Scratch::give_back(scratch);
        let mut bytes = self.masm.finish()?;
        bytes[patch..patch + 4].copy_from_slice(&(size as u32).to_le_bytes());
        for &(at, v) in &self.patches {
            bytes[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
        }
        self.checks.frame_size = size as u32;
        Ok(FuncCode {
            bytes,
            offset_map,
            traps,
            debug,
            checks: std::mem::take(&mut self.checks),
            opt_frame: None,
            handlers,
            osr_loop: None,
        })
    }

    fn emit_out_of_line(&mut self) -> Res {
        // Items are emitted in order; those that emitting queues (trap
        // stubs, in `self.ool`) follow in a next round.
        let mut ool = std::mem::replace(&mut self.ool, std::mem::take(&mut self.ool_next));
        while !ool.is_empty() {
            self.emit_ool_items(&mut ool)?;
            std::mem::swap(&mut ool, &mut self.ool);
        }
        // Both buffers are empty now; keep both for reuse.
        self.ool_next = ool;
        self.emit_debug_common();
        Ok(())
    }

    /// Emits (and removes) `items`; whatever they queue goes to `self.ool`.
    fn emit_ool_items(&mut self, items: &mut Vec<OutOfLine>) -> Res {
        for item in items.drain(..) {
            match item {
                OutOfLine::Trap { label, code, wasm } => {
                    self.masm.bind(label);
                    self.offset_map.push((self.masm.offset(), wasm));
                    self.trap_sites.push(TrapSite {
                        native: self.masm.offset(),
                        code,
                        wasm_offset: wasm,
                    });
                    self.masm.ud2();
                }
                OutOfLine::StackCheck {
                    label,
                    back,
                    wasm,
                    entry,
                } => {
                    self.masm.bind(label);
                    self.offset_map.push((self.masm.offset(), wasm));
                    if entry {
                        // A real overflow traps right here, before any call.
                        let overflow = self.trap_label(TrapCode::StackOverflow, wasm);
                        self.masm.load(true, SCRATCH, VMCTX, VMCTX_LIMITS);
                        self.masm.cmp_rsp_scratch_mem(8);
                        self.masm.jcc(Cond::LtU, overflow);
                    }
                    self.masm.save_all_regs();
                    self.masm.mov_rr(true, RDI, VMCTX);
                    self.masm.mov_imm(false, RSI, self.func_index as i64);
                    self.masm.mov_imm(false, RDX, wasm as i64);
                    self.masm.mov_rr(true, RCX, RBP);
                    self.masm.mov_rr(true, R8, RSP);
                    // Bits: 2 = debug code, 4 = the entry check (see
                    // `layout::Builtin::StackCheckSlow`).
                    let kind = if self.debug.is_some() { 2 } else { 0 } | if entry { 4 } else { 0 };
                    self.masm.mov_imm(false, R9, kind);
                    self.call_builtin_raw(Builtin::StackCheckSlow);
                    // On-stack replacement resumes here (`runtime::osr`).
                    let resume = self.masm.offset();
                    if entry {
                        self.checks.entry_resume = Some(resume);
                    } else {
                        self.checks.loop_resume.push((wasm, resume));
                    }
                    self.masm.store(true, RSP, SCRATCH as i32 * 8, RAX);
                    self.masm.restore_all_regs();
                    self.masm.test_rr(false, SCRATCH, SCRATCH);
                    let rt = self.runtime_trap_label(wasm);
                    self.masm.jcc(Cond::Ne, rt);
                    self.masm.jmp(back);
                }
                OutOfLine::TierUp { label, back, wasm } => {
                    self.masm.bind(label);
                    self.offset_map.push((self.masm.offset(), wasm));
                    self.masm.save_all_regs();
                    self.masm.mov_rr(true, RDI, VMCTX);
                    self.masm.mov_imm(false, RSI, self.func_index as i64);
                    self.call_builtin_raw(Builtin::TierUpCheck);
                    self.masm.store(true, RSP, SCRATCH as i32 * 8, RAX);
                    self.masm.restore_all_regs();
                    self.masm.test_rr(false, SCRATCH, SCRATCH);
                    let rt = self.runtime_trap_label(wasm);
                    self.masm.jcc(Cond::Ne, rt);
                    self.masm.jmp(back);
                }
                OutOfLine::Debug {
                    label,
                    back,
                    points,
                    keep_flags,
                    reloads,
                } => {
                    self.masm.bind(label);
                    if keep_flags {
                        self.masm.push_flags();
                    }
                    for k in points.0..points.1 {
                        let (index, wasm) = self.debug_points[k as usize];
                        self.offset_map.push((self.masm.offset(), wasm));
                        let common = self.debug_common_label();
                        self.masm.push_imm(index as i32);
                        self.masm.call_label(common);
                        self.masm.lea(RSP, RSP, 8);
                        // The common stub leaves the hook's status in r11.
                        self.masm.test_rr(false, SCRATCH, SCRATCH);
                        let rt = self.runtime_trap_label(wasm);
                        self.masm.jcc(Cond::Ne, rt);
                    }
                    for k in reloads.0..reloads.1 {
                        let (r, slot, w) = self.debug_reloads[k as usize];
                        self.masm.load(w, r, RBP, slot);
                    }
                    if keep_flags {
                        self.masm.pop_flags();
                    }
                    self.masm.jmp(back);
                }
            }
        }
        Ok(())
    }

    /// The debug checks' common stub, after all other out-of-line code.
    fn emit_debug_common(&mut self) {
        if let Some(common) = self.debug_common {
            if self.masm.label_offset(common).is_none() {
                self.masm.bind(common);
                self.offset_map.push((self.masm.offset(), self.wasm));
                // [rsp] = return address, [rsp+8] = breakable position index.
                self.masm.save_all_regs();
                self.masm.mov_rr(true, RDI, VMCTX);
                self.masm.mov_imm(false, RSI, self.func_index as i64);
                self.masm.load(false, RDX, RSP, DEBUG_REGS_SIZE + 8);
                self.masm.mov_rr(true, RCX, RSP);
                self.masm.mov_rr(true, R8, RBP);
                self.call_builtin_raw(Builtin::DebugHook);
                self.masm.store(true, RSP, SCRATCH as i32 * 8, RAX);
                self.masm.restore_all_regs();
                self.masm.ret();
            }
        }
    }

    fn debug_common_label(&mut self) -> DynamicLabel {
        if let Some(l) = self.debug_common {
            return l;
        }
        let l = self.masm.new_label();
        self.debug_common = Some(l);
        l
    }

    fn trap_label(&mut self, code: TrapCode, wasm: u32) -> DynamicLabel {
        let label = self.masm.new_label();
        self.ool.push(OutOfLine::Trap {
            label,
            code: Some(code),
            wasm,
        });
        label
    }

    /// Label of a `ud2` that reports the trap the runtime left pending, at
    /// wasm offset `wasm` (one per offset, so the trap names its instruction).
    fn runtime_trap_label(&mut self, wasm: u32) -> DynamicLabel {
        if let Some((w, l)) = self.runtime_trap {
            if w == wasm {
                return l;
            }
        }
        let label = self.masm.new_label();
        self.ool.push(OutOfLine::Trap {
            label,
            code: None,
            wasm,
        });
        self.runtime_trap = Some((wasm, label));
        label
    }

    fn call_builtin_raw(&mut self, b: Builtin) {
        self.masm.load(true, RAX, VMCTX, VMCTX_BUILTINS);
        self.masm.call_mem(RAX, 8 * b as i32);
    }

    // ---- per-operator hooks ----------------------------------------------------

    fn before_op(&mut self) {
        let native = self.masm.offset();
        self.offset_map.push((native, self.wasm));
        if !self.reachable {
            return;
        }
        if let Some(dt) = self.debug.as_mut() {
            // Only the entries that changed since the last position are
            // stored: the side table stays linear in the code size.
            let unchanged = self.stack.take_unchanged();
            let stack = &self.stack;
            let index = self
                .debug_stacks
                .record(dt, self.wasm, unchanged, stack.len(), |i| {
                    stack.value_loc(i)
                });
            let flags_live =
                matches!(self.stack.entries.last(), Some(e) if matches!(e.loc, Loc::Flags(_)));
            // No code since the last check and no branch can land here:
            // share that check.
            if let Some((end, binds, version, item)) = self.last_debug_check {
                if end == self.masm.offset()
                    && binds == self.masm.bind_count()
                    && version == self.stack.cache_version()
                {
                    if let Some(OutOfLine::Debug {
                        points, keep_flags, ..
                    }) = self.ool.get_mut(item)
                    {
                        if *keep_flags || !flags_live {
                            // Its points are the last ones listed (it is
                            // the last check); extend them in place.
                            debug_assert_eq!(points.1 as usize, self.debug_points.len());
                            if points.1 as usize != self.debug_points.len() {
                                let start = self.debug_points.len() as u32;
                                self.debug_points
                                    .extend_from_within(points.0 as usize..points.1 as usize);
                                *points = (start, self.debug_points.len() as u32);
                            }
                            self.debug_points.push((index, self.wasm));
                            points.1 += 1;
                            return;
                        }
                    }
                }
            }
            let label = self.masm.new_label();
            let back = self.masm.new_label();
            let disp = self.debug_flag_disp();
            if flags_live {
                self.masm.debug_check_keep_flags(disp, label);
            } else {
                self.masm.debug_check(label);
            }
            self.masm.bind(back);
            let reloads_start = self.debug_reloads.len() as u32;
            let (stack, locals, reloads) = (&self.stack, &self.locals, &mut self.debug_reloads);
            stack.for_each_cache_reload(|r, l| {
                reloads.push((r, stack.local_slot(l), w_of(locals[l as usize])));
            });
            let reloads = (reloads_start, self.debug_reloads.len() as u32);
            let points_start = self.debug_points.len() as u32;
            self.debug_points.push((index, self.wasm));
            self.ool.push(OutOfLine::Debug {
                label,
                back,
                points: (points_start, points_start + 1),
                keep_flags: flags_live,
                reloads,
            });
            self.last_debug_check = Some((
                self.masm.offset(),
                self.masm.bind_count(),
                self.stack.cache_version(),
                self.ool.len() - 1,
            ));
        }
    }

    // ---- value-stack helpers ---------------------------------------------------

    fn pop(&mut self) -> Popped {
        self.stack.pop()
    }

    fn pop_gpr(&mut self) -> Gpr {
        let p = self.stack.pop();
        self.stack.in_gpr(&mut self.masm, p)
    }

    fn pop_xmm(&mut self) -> Xmm {
        let p = self.stack.pop();
        self.stack.in_xmm(&mut self.masm, p)
    }

    fn take_gpr(&mut self, p: Popped) -> Gpr {
        self.stack.in_gpr(&mut self.masm, p)
    }

    fn take_xmm(&mut self, p: Popped) -> Xmm {
        self.stack.in_xmm(&mut self.masm, p)
    }

    fn push_gpr(&mut self, ty: ValType, r: Gpr) {
        self.stack.push(ty, Loc::Gpr(r));
    }

    fn push_xmm(&mut self, ty: ValType, x: Xmm) {
        self.stack.push(ty, Loc::Xmm(x));
    }

    /// An ALU source operand for a popped value; caller frees it with `free_src`.
    fn src_of(&mut self, p: Popped) -> Src {
        match p.loc {
            Loc::Gpr(r) => Src::Reg(r),
            Loc::Const(c) if !w_of(p.ty) || (c as i64) == (c as i64 as i32 as i64) => {
                Src::Imm(c as i32)
            }
            Loc::Local(l) if matches!(self.stack.cached(l), Cached::Gpr(_)) => {
                Src::Reg(self.stack.use_gpr(&mut self.masm, p))
            }
            Loc::Stack | Loc::Local(_) => Src::Mem(RBP, self.stack.mem_of(&p).unwrap()),
            _ => Src::Reg(self.take_gpr(p)),
        }
    }

    fn free_src(&mut self, s: Src) {
        if let Src::Reg(r) = s {
            self.stack.free_gpr(r);
        }
    }

    fn block_types(&self, bt: BlockType) -> (Vec<ValType>, Vec<ValType>) {
        match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (
                vec![],
                vec![ValType::from_wasmparser(t).unwrap_or(ValType::I32)],
            ),
            BlockType::FuncType(i) => {
                let ft = &self.module.types[i as usize];
                (ft.params().to_vec(), ft.results().to_vec())
            }
        }
    }

    // ---- the visitor -----------------------------------------------------------

    fn visit(&mut self, op: &Operator<'_>) -> Res {
        use Operator as O;
        if !self.reachable {
            return self.visit_unreachable(op);
        }
        self.stack.unpin_all();
        if let Some(e) = self.stack.entries.last() {
            if matches!(e.loc, Loc::Flags(_))
                && !matches!(
                    op,
                    O::If { .. } | O::BrIf { .. } | O::Select | O::TypedSelect { .. }
                )
            {
                self.materialize_flags();
            }
        }
        self.before_op();
        match *op {
            // ---- control ----
            O::Nop => {}
            O::Unreachable => {
                self.trap_here(TrapCode::Unreachable);
                self.reachable = false;
            }
            O::Block { blockty } => self.visit_block(FrameKind::Block, blockty),
            O::Loop { blockty } => self.visit_block(FrameKind::Loop, blockty),
            O::If { blockty } => self.visit_block(FrameKind::If, blockty),
            O::Else => self.visit_else(),
            O::End => self.visit_end_any()?,
            O::TryTable { ref try_table } => self.visit_try_table(try_table),
            O::Throw { tag_index } => self.visit_throw(tag_index)?,
            O::ThrowRef => self.visit_throw_ref(),
            O::Try { blockty } => self.visit_try(blockty),
            O::Catch { tag_index } => self.visit_catch(Some(tag_index)),
            O::CatchAll => self.visit_catch(None),
            O::Delegate { relative_depth } => self.visit_delegate(relative_depth)?,
            O::Rethrow { relative_depth } => self.visit_rethrow(relative_depth)?,
            O::Br { relative_depth } => self.visit_br(relative_depth),
            O::BrIf { relative_depth } => self.visit_br_if(relative_depth),
            O::BrTable { ref targets } => {
                let mut ts = Vec::with_capacity(targets.len() as usize);
                for t in targets.targets() {
                    ts.push(t.map_err(|e| e.to_string())?);
                }
                self.visit_br_table(&ts, targets.default())?;
            }
            O::Return => {
                self.emit_return();
                self.reachable = false;
            }
            O::Call { function_index } => self.visit_call(function_index),
            O::CallIndirect {
                type_index,
                table_index,
            } => self.visit_call_indirect(type_index, table_index),
            O::ReturnCall { function_index } => self.visit_return_call(function_index),
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.visit_return_call_indirect(type_index, table_index),
            O::CallRef { type_index } => self.visit_call_ref(type_index),
            O::ReturnCallRef { type_index } => self.visit_return_call_ref(type_index),
            O::RefAsNonNull => self.visit_ref_as_non_null(),
            O::BrOnNull { relative_depth } => self.visit_br_on_null(relative_depth),
            O::BrOnNonNull { relative_depth } => self.visit_br_on_non_null(relative_depth),
            O::Drop => {
                let p = self.pop();
                self.stack.free_loc(p.loc);
            }
            O::Select | O::TypedSelect { .. } => self.visit_select(),

            // ---- locals and globals ----
            O::LocalGet { local_index } => {
                let t = self.locals[local_index as usize];
                match self.stack.cached(local_index) {
                    Cached::Const(c) => self.stack.push(t, Loc::Const(c)),
                    _ => self.stack.push(t, Loc::Local(local_index)),
                }
            }
            O::LocalSet { local_index } => self.visit_local_set(local_index, false),
            O::LocalTee { local_index } => self.visit_local_set(local_index, true),
            O::GlobalGet { global_index } => self.visit_global_get(global_index),
            O::GlobalSet { global_index } => self.visit_global_set(global_index),

            // ---- memory ----
            O::I32Load { memarg } => self.load(memarg, ValType::I32, Load::U32),
            O::I64Load { memarg } => self.load(memarg, ValType::I64, Load::I64),
            O::F32Load { memarg } => self.load_float(memarg, false),
            O::F64Load { memarg } => self.load_float(memarg, true),
            O::I32Load8S { memarg } => self.load(memarg, ValType::I32, Load::S8),
            O::I32Load8U { memarg } => self.load(memarg, ValType::I32, Load::U8),
            O::I32Load16S { memarg } => self.load(memarg, ValType::I32, Load::S16),
            O::I32Load16U { memarg } => self.load(memarg, ValType::I32, Load::U16),
            O::I64Load8S { memarg } => self.load(memarg, ValType::I64, Load::S8),
            O::I64Load8U { memarg } => self.load(memarg, ValType::I64, Load::U8),
            O::I64Load16S { memarg } => self.load(memarg, ValType::I64, Load::S16),
            O::I64Load16U { memarg } => self.load(memarg, ValType::I64, Load::U16),
            O::I64Load32S { memarg } => self.load(memarg, ValType::I64, Load::S32),
            O::I64Load32U { memarg } => self.load(memarg, ValType::I64, Load::U32),
            O::I32Store { memarg } => self.store(memarg, 4),
            O::I64Store { memarg } => self.store(memarg, 8),
            O::F32Store { memarg } => self.store_float(memarg, false),
            O::F64Store { memarg } => self.store_float(memarg, true),
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(memarg, 1),
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store(memarg, 2),
            O::I64Store32 { memarg } => self.store(memarg, 4),
            O::MemorySize { mem } if !self.plain_memory(mem) => self.memory_size_at(mem),
            O::MemoryGrow { mem } if !self.plain_memory(mem) => self.memory_grow_at(mem),
            O::MemoryFill { mem } if !self.plain_memory(mem) => self.memory_fill_at(mem),
            O::MemoryCopy { dst_mem, src_mem }
                if !self.plain_memory(dst_mem) || !self.plain_memory(src_mem) =>
            {
                self.memory_copy_at(dst_mem, src_mem)
            }
            O::MemoryInit { data_index, mem } if !self.plain_memory(mem) => {
                self.memory_init_at(data_index, mem)
            }
            O::MemorySize { .. } => {
                let r = self.stack.alloc_gpr(&mut self.masm);
                self.masm.memory_size(r);
                self.push_gpr(ValType::I32, r);
            }
            O::MemoryGrow { .. } => self.builtin(
                Builtin::MemoryGrow,
                &[Arg::Stack(0)],
                1,
                Some(ValType::I32),
                false,
            ),
            O::MemoryFill { .. } => self.builtin(
                Builtin::MemoryFill,
                &[Arg::Stack(0), Arg::Stack(1), Arg::Stack(2)],
                3,
                None,
                true,
            ),
            O::MemoryCopy { .. } => self.builtin(
                Builtin::MemoryCopy,
                &[Arg::Stack(0), Arg::Stack(1), Arg::Stack(2)],
                3,
                None,
                true,
            ),
            O::MemoryInit { data_index, .. } => self.builtin(
                Builtin::MemoryInit,
                &[
                    Arg::Imm(data_index as i64),
                    Arg::Stack(0),
                    Arg::Stack(1),
                    Arg::Stack(2),
                ],
                3,
                None,
                true,
            ),
            O::DataDrop { data_index } => self.builtin(
                Builtin::DataDrop,
                &[Arg::Imm(data_index as i64)],
                0,
                None,
                false,
            ),

            // ---- constants ----
            O::I32Const { value } => self
                .stack
                .push(ValType::I32, Loc::Const(value as u32 as u64)),
            O::I64Const { value } => self.stack.push(ValType::I64, Loc::Const(value as u64)),
            O::F32Const { value } => self
                .stack
                .push(ValType::F32, Loc::Const(value.bits() as u64)),
            O::F64Const { value } => self.stack.push(ValType::F64, Loc::Const(value.bits())),

            // ---- integer ----
            O::I32Eqz => self.eqz(false),
            O::I64Eqz => self.eqz(true),
            O::I32Eq => self.icmp(false, Cond::Eq),
            O::I32Ne => self.icmp(false, Cond::Ne),
            O::I32LtS => self.icmp(false, Cond::LtS),
            O::I32LtU => self.icmp(false, Cond::LtU),
            O::I32GtS => self.icmp(false, Cond::GtS),
            O::I32GtU => self.icmp(false, Cond::GtU),
            O::I32LeS => self.icmp(false, Cond::LeS),
            O::I32LeU => self.icmp(false, Cond::LeU),
            O::I32GeS => self.icmp(false, Cond::GeS),
            O::I32GeU => self.icmp(false, Cond::GeU),
            O::I64Eq => self.icmp(true, Cond::Eq),
            O::I64Ne => self.icmp(true, Cond::Ne),
            O::I64LtS => self.icmp(true, Cond::LtS),
            O::I64LtU => self.icmp(true, Cond::LtU),
            O::I64GtS => self.icmp(true, Cond::GtS),
            O::I64GtU => self.icmp(true, Cond::GtU),
            O::I64LeS => self.icmp(true, Cond::LeS),
            O::I64LeU => self.icmp(true, Cond::LeU),
            O::I64GeS => self.icmp(true, Cond::GeS),
            O::I64GeU => self.icmp(true, Cond::GeU),
            O::I32Clz => self.bitcount(false, 0),
            O::I32Ctz => self.bitcount(false, 1),
            O::I32Popcnt => self.bitcount(false, 2),
            O::I64Clz => self.bitcount(true, 0),
            O::I64Ctz => self.bitcount(true, 1),
            O::I64Popcnt => self.bitcount(true, 2),
            O::I32Add => self.ibin(false, Alu::Add),
            O::I32Sub => self.ibin(false, Alu::Sub),
            O::I32Mul => self.ibin(false, Alu::Imul),
            O::I32And => self.ibin(false, Alu::And),
            O::I32Or => self.ibin(false, Alu::Or),
            O::I32Xor => self.ibin(false, Alu::Xor),
            O::I64Add => self.ibin(true, Alu::Add),
            O::I64Sub => self.ibin(true, Alu::Sub),
            O::I64Mul => self.ibin(true, Alu::Imul),
            O::I64And => self.ibin(true, Alu::And),
            O::I64Or => self.ibin(true, Alu::Or),
            O::I64Xor => self.ibin(true, Alu::Xor),
            O::I32DivS => self.idiv(false, true, false),
            O::I32DivU => self.idiv(false, false, false),
            O::I32RemS => self.idiv(false, true, true),
            O::I32RemU => self.idiv(false, false, true),
            O::I64DivS => self.idiv(true, true, false),
            O::I64DivU => self.idiv(true, false, false),
            O::I64RemS => self.idiv(true, true, true),
            O::I64RemU => self.idiv(true, false, true),
            O::I32Shl => self.shift(false, Shift::Shl),
            O::I32ShrS => self.shift(false, Shift::ShrS),
            O::I32ShrU => self.shift(false, Shift::ShrU),
            O::I32Rotl => self.shift(false, Shift::Rotl),
            O::I32Rotr => self.shift(false, Shift::Rotr),
            O::I64Shl => self.shift(true, Shift::Shl),
            O::I64ShrS => self.shift(true, Shift::ShrS),
            O::I64ShrU => self.shift(true, Shift::ShrU),
            O::I64Rotl => self.shift(true, Shift::Rotl),
            O::I64Rotr => self.shift(true, Shift::Rotr),
            O::I32Extend8S => self.iunop(ValType::I32, |m, r| m.sign_extend(8, false, r, r)),
            O::I32Extend16S => self.iunop(ValType::I32, |m, r| m.sign_extend(16, false, r, r)),
            O::I64Extend8S => self.iunop(ValType::I64, |m, r| m.sign_extend(8, true, r, r)),
            O::I64Extend16S => self.iunop(ValType::I64, |m, r| m.sign_extend(16, true, r, r)),
            O::I64Extend32S | O::I64ExtendI32S => {
                self.iunop(ValType::I64, |m, r| m.sign_extend(32, true, r, r))
            }
            O::I64ExtendI32U | O::I32WrapI64 => {
                let ty = if matches!(op, O::I32WrapI64) {
                    ValType::I32
                } else {
                    ValType::I64
                };
                self.iunop(ty, |m, r| m.mov_rr(false, r, r))
            }

            // ---- float ----
            O::F32Add => self.fbin(false, FBin::Add),
            O::F32Sub => self.fbin(false, FBin::Sub),
            O::F32Mul => self.fbin(false, FBin::Mul),
            O::F32Div => self.fbin(false, FBin::Div),
            O::F64Add => self.fbin(true, FBin::Add),
            O::F64Sub => self.fbin(true, FBin::Sub),
            O::F64Mul => self.fbin(true, FBin::Mul),
            O::F64Div => self.fbin(true, FBin::Div),
            O::F32Min => self.fminmax(false, false),
            O::F32Max => self.fminmax(false, true),
            O::F64Min => self.fminmax(true, false),
            O::F64Max => self.fminmax(true, true),
            O::F32Copysign => self.fcopysign(false),
            O::F64Copysign => self.fcopysign(true),
            O::F32Abs => self.funop(false, |m, x| m.fsign_op(0, false, x, None)),
            O::F64Abs => self.funop(true, |m, x| m.fsign_op(0, true, x, None)),
            O::F32Neg => self.funop(false, |m, x| m.fsign_op(1, false, x, None)),
            O::F64Neg => self.funop(true, |m, x| m.fsign_op(1, true, x, None)),
            O::F32Sqrt => self.funop(false, |m, x| m.sqrt(false, x)),
            O::F64Sqrt => self.funop(true, |m, x| m.sqrt(true, x)),
            O::F32Nearest => self.funop(false, |m, x| m.round(false, x, 0)),
            O::F64Nearest => self.funop(true, |m, x| m.round(true, x, 0)),
            O::F32Floor => self.funop(false, |m, x| m.round(false, x, 1)),
            O::F64Floor => self.funop(true, |m, x| m.round(true, x, 1)),
            O::F32Ceil => self.funop(false, |m, x| m.round(false, x, 2)),
            O::F64Ceil => self.funop(true, |m, x| m.round(true, x, 2)),
            O::F32Trunc => self.funop(false, |m, x| m.round(false, x, 3)),
            O::F64Trunc => self.funop(true, |m, x| m.round(true, x, 3)),
            O::F32Eq => self.fcmp(false, FCmp::Eq),
            O::F32Ne => self.fcmp(false, FCmp::Ne),
            O::F32Lt => self.fcmp(false, FCmp::Lt),
            O::F32Gt => self.fcmp(false, FCmp::Gt),
            O::F32Le => self.fcmp(false, FCmp::Le),
            O::F32Ge => self.fcmp(false, FCmp::Ge),
            O::F64Eq => self.fcmp(true, FCmp::Eq),
            O::F64Ne => self.fcmp(true, FCmp::Ne),
            O::F64Lt => self.fcmp(true, FCmp::Lt),
            O::F64Gt => self.fcmp(true, FCmp::Gt),
            O::F64Le => self.fcmp(true, FCmp::Le),
            O::F64Ge => self.fcmp(true, FCmp::Ge),

            // ---- conversions ----
            O::F32DemoteF64 => self.funop_to(true, ValType::F32, |m, x| m.cvt_float(false, x)),
            O::F64PromoteF32 => self.funop_to(false, ValType::F64, |m, x| m.cvt_float(true, x)),
            O::F32ConvertI32S => self.int_to_float(false, false, true),
            O::F32ConvertI64S => self.int_to_float(false, true, true),
            O::F64ConvertI32S => self.int_to_float(true, false, true),
            O::F64ConvertI64S => self.int_to_float(true, true, true),
            O::F32ConvertI32U => self.int_to_float(false, false, false),
            O::F32ConvertI64U => self.int_to_float(false, true, false),
            O::F64ConvertI32U => self.int_to_float(true, false, false),
            O::F64ConvertI64U => self.int_to_float(true, true, false),
            O::I32TruncF32S => self.trunc_signed(false, false),
            O::I32TruncF64S => self.trunc_signed(true, false),
            O::I64TruncF32S => self.trunc_signed(false, true),
            O::I64TruncF64S => self.trunc_signed(true, true),
            O::I32TruncF32U => self.trunc_u32(false),
            O::I32TruncF64U => self.trunc_u32(true),
            O::I64TruncF32U => self.trunc_builtin(false, true, true, false),
            O::I64TruncF64U => self.trunc_builtin(true, true, true, false),
            O::I32TruncSatF32S => self.trunc_builtin(false, false, false, true),
            O::I32TruncSatF64S => self.trunc_builtin(true, false, false, true),
            O::I64TruncSatF32S => self.trunc_builtin(false, true, false, true),
            O::I64TruncSatF64S => self.trunc_builtin(true, true, false, true),
            O::I32TruncSatF32U => self.trunc_builtin(false, false, true, true),
            O::I32TruncSatF64U => self.trunc_builtin(true, false, true, true),
            O::I64TruncSatF32U => self.trunc_builtin(false, true, true, true),
            O::I64TruncSatF64U => self.trunc_builtin(true, true, true, true),
            O::I32ReinterpretF32 => self.reinterpret_to_int(false),
            O::I64ReinterpretF64 => self.reinterpret_to_int(true),
            O::F32ReinterpretI32 => self.reinterpret_to_float(false),
            O::F64ReinterpretI64 => self.reinterpret_to_float(true),

            // ---- references and tables ----
            O::RefNull { hty } => {
                let t = if matches!(
                    hty,
                    wasmparser::HeapType::Abstract {
                        ty: wasmparser::AbstractHeapType::Extern,
                        ..
                    }
                ) {
                    ValType::ExternRef
                } else {
                    ValType::FuncRef
                };
                self.stack.push(t, Loc::Const(0));
            }
            O::RefIsNull => self.eqz(true),
            O::RefFunc { function_index } => {
                let r = self.stack.alloc_gpr(&mut self.masm);
                self.masm.ref_func(r, function_index);
                self.push_gpr(ValType::FuncRef, r);
            }
            O::TableGet { table } => self.table_get(table),
            O::TableSet { table } => self.table_set(table),
            O::TableSize { table } => {
                let r = self.stack.alloc_gpr(&mut self.masm);
                // The length is below 2^32: the 32-bit load zero-extends.
                self.masm.table_size(r, table);
                let ty = self.table_index_type(table);
                self.push_gpr(ty, r);
            }
            O::TableGrow { table } => {
                self.builtin(
                    Builtin::TableGrow,
                    &[Arg::Imm(table as i64), Arg::Stack(0), Arg::TableIndex(1)],
                    2,
                    Some(ValType::I32),
                    false,
                );
                // The old size, or -1 (u32::MAX): sizes stay below 2^31.
                if self.module.tables[table as usize].table64 {
                    self.iunop(ValType::I64, |m, r| m.sign_extend(32, true, r, r));
                }
            }
            O::TableFill { table } => self.builtin(
                Builtin::TableFill,
                &[
                    Arg::Imm(table as i64),
                    Arg::TableIndex(0),
                    Arg::Stack(1),
                    Arg::TableIndex(2),
                ],
                3,
                None,
                true,
            ),
            O::TableCopy {
                dst_table,
                src_table,
            } => self.builtin(
                Builtin::TableCopy,
                &[
                    Arg::Imm(dst_table as i64),
                    Arg::Imm(src_table as i64),
                    Arg::TableIndex(0),
                    Arg::TableIndex(1),
                    Arg::TableIndex(2),
                ],
                3,
                None,
                true,
            ),
            O::TableInit { elem_index, table } => self.builtin(
                Builtin::TableInit,
                &[
                    Arg::Imm(table as i64),
                    Arg::Imm(elem_index as i64),
                    Arg::TableIndex(0),
                    Arg::Stack(1),
                    Arg::Stack(2),
                ],
                3,
                None,
                true,
            ),
            O::ElemDrop { elem_index } => self.builtin(
                Builtin::ElemDrop,
                &[Arg::Imm(elem_index as i64)],
                0,
                None,
                false,
            ),

            _ => {
                if !self.visit_simd(op)? {
                    return Err(format!("unsupported instruction {op:?}"));
                }
            }
        }
        Ok(())
    }

    /// In unreachable code only the block structure is followed.
    fn visit_unreachable(&mut self, op: &Operator<'_>) -> Res {
        use Operator as O;
        self.offset_map.push((self.masm.offset(), self.wasm));
        if self.visit_unreachable_exn(op)? {
            return Ok(());
        }
        match op {
            O::Block { .. }
            | O::Loop { .. }
            | O::If { .. }
            | O::TryTable { .. }
            | O::Try { .. } => {
                let label = self.masm.new_label();
                self.frames.push(Frame {
                    kind: FrameKind::Block,
                    label,
                    else_label: None,
                    has_else: false,
                    base: self.stack.len(),
                    params: vec![],
                    results: vec![],
                    dead: true,
                    branched_to: false,
                    loop_start: 0,
                    budget_patch: None,
                    merge: None,
                    else_state: None,
                });
            }
            O::Else => {
                let f = self.frames.last().unwrap();
                if !f.dead {
                    self.visit_else();
                }
            }
            O::End => {
                let f = self.frames.last().unwrap();
                if f.dead {
                    self.frames.pop();
                } else {
                    self.visit_end_any()?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    // ---- locals, globals, select ---------------------------------------------------

    /// `local.set`/`local.tee`: the value is stored to the local's slot
    /// (always: the local cache is write-through) and, when it is in a
    /// register or a constant, the local cache remembers it.
    fn visit_local_set(&mut self, l: u32, tee: bool) {
        let p = self.pop();
        if p.loc == Loc::Local(l) {
            if tee {
                self.stack.push(p.ty, p.loc);
            }
            return;
        }
        self.stack.detach_local(&mut self.masm, l);
        // An integer local the cache does not hold, copied into another:
        // through a register, which the cache then keeps as the
        // destination's (the next read of it, e.g. a tee's, needs no load).
        let p = match p.loc {
            Loc::Local(src) if !p.ty.in_xmm() && matches!(self.stack.cached(src), Cached::None) => {
                let r = self.stack.in_gpr(&mut self.masm, p);
                Popped {
                    loc: Loc::Gpr(r),
                    ..p
                }
            }
            _ => p,
        };
        // A copy of another local: what the cache knows about the source.
        let src_cached = match p.loc {
            Loc::Local(src) => self.stack.cached(src),
            _ => Cached::None,
        };
        self.stack.cache_forget(l);
        let slot = self.stack.local_slot(l);
        let w = w_of(p.ty);
        match p.loc {
            Loc::Gpr(r) => self.masm.store(w, RBP, slot, r),
            Loc::Xmm(x) => self.masm.xstore(p.ty, RBP, slot, x),
            Loc::Const(c) => self.masm.store_imm(w, RBP, slot, c as i64),
            Loc::Stack => self
                .masm
                .copy_value(p.ty, RBP, slot, RBP, self.stack.home(p.depth)),
            Loc::Local(src) => match src_cached {
                Cached::Gpr(r) => self.masm.store(w, RBP, slot, r),
                Cached::Xmm(x) => self.masm.xstore(p.ty, RBP, slot, x),
                Cached::Const(c) => self.masm.store_imm(w, RBP, slot, c as i64),
                Cached::None => {
                    self.masm
                        .copy_value(p.ty, RBP, slot, RBP, self.stack.local_slot(src))
                }
            },
            Loc::Flags(_) => unreachable!("flags are materialised before local.set"),
        }
        match (p.loc, src_cached) {
            (Loc::Gpr(r), _) => {
                if self.stack.cache_gpr(l, r) {
                    // The register now belongs to the cache; a tee pushes
                    // the local, which reads it from there.
                    if tee {
                        self.stack.push(p.ty, Loc::Local(l));
                    }
                } else if tee {
                    self.stack.push(p.ty, p.loc);
                } else {
                    self.stack.free_gpr(r);
                }
                return;
            }
            // An f32/f64 in an xmm register: the cache keeps it likewise.
            (Loc::Xmm(x), _) if matches!(p.ty, ValType::F32 | ValType::F64) => {
                if self.stack.cache_xmm(l, x) {
                    if tee {
                        self.stack.push(p.ty, Loc::Local(l));
                    }
                } else if tee {
                    self.stack.push(p.ty, p.loc);
                } else {
                    self.stack.free_xmm(x);
                }
                return;
            }
            (Loc::Const(c), _) | (Loc::Local(_), Cached::Const(c)) => {
                self.stack.cache_const(l, c);
                if tee {
                    self.stack.push(p.ty, Loc::Const(c));
                }
                return;
            }
            (Loc::Local(_), Cached::Gpr(r)) => self.stack.cache_share(l, r),
            _ => {}
        }
        if tee {
            match p.loc {
                // Keep the value where it is; a lazy local now reads the new value.
                Loc::Gpr(_) | Loc::Xmm(_) | Loc::Const(_) | Loc::Stack | Loc::Flags(_) => {
                    self.stack.push(p.ty, p.loc)
                }
                Loc::Local(_) => self.stack.push(p.ty, Loc::Local(l)),
            }
        } else {
            self.stack.free_loc(p.loc);
        }
    }

    fn visit_global_get(&mut self, g: u32) {
        let t = self.module.globals[g as usize].ty;
        if t.in_xmm() {
            let x = self.stack.alloc_xmm(&mut self.masm);
            self.masm.global_get_xmm(t, x, g);
            self.push_xmm(t, x);
        } else {
            let r = self.stack.alloc_gpr(&mut self.masm);
            self.masm.global_get(w_of(t), r, g);
            self.push_gpr(t, r);
        }
    }

    fn visit_global_set(&mut self, g: u32) {
        let p = self.pop();
        if p.ty.in_xmm() {
            let x = self.take_xmm(p);
            self.masm.global_set_xmm(p.ty, g, x);
            self.stack.free_xmm(x);
        } else {
            let r = self.take_gpr(p);
            self.masm.global_set(w_of(p.ty), g, r);
            self.stack.free_gpr(r);
        }
    }

    fn visit_select(&mut self) {
        if self.select_on_flags() {
            return;
        }
        self.materialize_flags();
        let c = self.pop_gpr();
        let b = self.pop();
        let a = self.pop();
        if a.ty.in_xmm() {
            let xa = self.take_xmm(a);
            let xb = self.take_xmm(b);
            let skip = self.masm.new_label();
            self.masm.test_rr(false, c, c);
            self.masm.jcc(Cond::Ne, skip);
            self.masm.fmov(xa, xb);
            self.masm.bind(skip);
            self.stack.free_xmm(xb);
            self.stack.free_gpr(c);
            self.push_xmm(a.ty, xa);
        } else {
            let ra = self.take_gpr(a);
            let rb = self.take_gpr(b);
            self.masm.test_rr(false, c, c);
            self.masm.cmovz(w_of(a.ty), ra, rb);
            self.stack.free_gpr(rb);
            self.stack.free_gpr(c);
            self.push_gpr(a.ty, ra);
        }
    }

    /// `select` of two integers on a compare's flags: one `cmov` on the
    /// compare's condition. False (nothing done) when the condition is not
    /// in the flags, the values are floats, or either is a constant (loading
    /// a zero would clear the flags).
    fn select_on_flags(&mut self) -> bool {
        let n = self.stack.len();
        let Loc::Flags(c) = self.stack.entries[n - 1].loc else {
            return false;
        };
        let is_const = |cg: &Self, e: super::stack::Entry| match e.loc {
            Loc::Const(_) => true,
            Loc::Local(l) => matches!(cg.stack.cached(l), Cached::Const(_)),
            _ => false,
        };
        let (a, b) = (self.stack.entries[n - 3], self.stack.entries[n - 2]);
        if a.ty.in_xmm() || is_const(self, a) || is_const(self, b) {
            return false;
        }
        self.pop();
        let b = self.pop();
        let a = self.pop();
        // Register moves and loads only from here: the flags survive.
        let ra = self.take_gpr(a);
        let rb = self.stack.use_gpr(&mut self.masm, b);
        // `select` picks `a` when the condition holds (is non-zero).
        self.masm.cmovcc(c.negate(), w_of(a.ty), ra, rb);
        self.stack.free_gpr(rb);
        self.push_gpr(a.ty, ra);
        true
    }

    // ---- memory ---------------------------------------------------------------------

    /// Pops the address; returns (register holding the index, displacement).
    /// The register may be the local cache's (read it only; release it with
    /// `free_gpr`).
    fn address(&mut self, memarg: MemArg) -> (Gpr, i32) {
        if memarg.target != wasmparser::MemArgTarget::Memory(0) || self.memory_is64(0) {
            return self.address_at(memarg);
        }
        if memarg.offset <= i32::MAX as u64 {
            let p = self.pop();
            let a = self.stack.use_gpr(&mut self.masm, p);
            (a, memarg.offset as i32)
        } else {
            let a = self.pop_gpr();
            self.masm.add_offset64(a, memarg.offset as i64);
            (a, 0)
        }
    }

    fn load(&mut self, memarg: MemArg, ty: ValType, kind: Load) {
        let (a, disp) = self.address(memarg);
        let dst = if self.stack.is_cache_reg(a) {
            self.stack.alloc_gpr(&mut self.masm)
        } else {
            a
        };
        self.masm.wasm_load(kind, w_of(ty), dst, a, disp);
        if dst != a {
            self.stack.free_gpr(a);
        }
        self.push_gpr(ty, dst);
    }

    fn load_float(&mut self, memarg: MemArg, f64: bool) {
        let (a, disp) = self.address(memarg);
        let x = self.stack.alloc_xmm(&mut self.masm);
        self.masm.wasm_load_float(f64, x, a, disp);
        self.stack.free_gpr(a);
        self.push_xmm(if f64 { ValType::F64 } else { ValType::F32 }, x);
    }

    fn store(&mut self, memarg: MemArg, bytes: u8) {
        let v = self.pop();
        if let Loc::Const(c) = v.loc {
            if bytes < 8 || (c as i64) == (c as i64 as i32 as i64) {
                let (a, disp) = self.address(memarg);
                self.masm.wasm_store_imm(bytes, c as i32, a, disp);
                self.stack.free_gpr(a);
                return;
            }
        }
        let r = self.stack.use_gpr(&mut self.masm, v);
        let (a, disp) = self.address(memarg);
        self.masm.wasm_store(bytes, r, a, disp);
        self.stack.free_gpr(a);
        self.stack.free_gpr(r);
    }

    fn store_float(&mut self, memarg: MemArg, f64: bool) {
        let v = self.pop();
        let x = self.take_xmm(v);
        let (a, disp) = self.address(memarg);
        self.masm.wasm_store_float(f64, x, a, disp);
        self.stack.free_gpr(a);
        self.stack.free_xmm(x);
    }

    // ---- tables -----------------------------------------------------------------------

    /// The type of table `table`'s indices (i64 for a 64-bit table).
    fn table_index_type(&self, table: u32) -> ValType {
        if self.module.tables[table as usize].table64 {
            ValType::I64
        } else {
            ValType::I32
        }
    }

    /// Table indices are compared with all 64 bits (`Masm::table_get`), so
    /// an i64 index of a 64-bit table needs nothing more.
    fn table_get(&mut self, table: u32) {
        let ty = self.module.tables[table as usize].elem;
        let i = self.pop_gpr();
        let oob = self.trap_label(TrapCode::TableOutOfBounds, self.wasm);
        self.masm.table_get(i, table, oob);
        self.push_gpr(ty, i);
    }

    fn table_set(&mut self, table: u32) {
        let v = self.pop_gpr();
        let i = self.pop_gpr();
        let oob = self.trap_label(TrapCode::TableOutOfBounds, self.wasm);
        self.masm.table_set(i, v, table, oob);
        self.stack.free_gpr(i);
        self.stack.free_gpr(v);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FCmp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

/// An argument of a builtin call.
#[derive(Debug, Clone, Copy)]
enum Arg {
    Imm(i64),
    /// The k-th of the popped values (bottom first), by value.
    Stack(usize),
    /// The address of the k-th popped value's home slot.
    SlotAddr(usize),
    /// The k-th popped value, a table index or length, as the builtins take
    /// it (u32): an i64 (of a 64-bit table) saturates to `u32::MAX`, out of
    /// bounds of every table as the i64 value is.
    TableIndex(usize),
}
