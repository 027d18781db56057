//! The single pass: wasm operators in, machine code out, with the function
//! validator interleaved. No IR: each operator is turned into code at once,
//! working on the virtual operand stack (`stack.rs`) and the macro assembler
//! (`masm.rs`).
//!
//! Frame layout (rbp-relative):
//! `[rbp+16..]` stack arguments, `[rbp+8]` return address, `[rbp]` saved rbp,
//! `[rbp-8]` saved r15, `[rbp-16]` saved r14, `[rbp-24]` results pointer,
//! `[rbp-32-8i]` local i, then one home slot per operand-stack depth.

use super::masm::*;
use super::stack::{Loc, Popped, ValueStack, ARG_GPRS};
use crate::abi::{abi_for, ArgLoc};
use crate::code::{DebugPoint, DebugSideTable, FuncCode, TrapSite, ValueLoc};
use crate::error::{Error, Result, TrapCode};
use crate::module::ModuleInfo;
use crate::types::{FuncType, ValType};
use crate::vm::layout::*;
use dynasmrt::DynamicLabel;
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FrameKind {
    Func,
    Block,
    Loop,
    If,
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
    /// Debug hook for breakable position `index`.
    Debug {
        label: DynamicLabel,
        back: DynamicLabel,
        index: u32,
        wasm: u32,
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
    /// Wasm offset of the operator being compiled.
    wasm: u32,
    debug: Option<DebugSideTable>,
    debug_common: Option<DynamicLabel>,
    /// Runtime-trap stubs by wasm offset (the last one is reused for the same offset).
    runtime_traps: Vec<(u32, DynamicLabel)>,
    has_memory: bool,
    tier_up: bool,
    /// (byte offset, value) of 32-bit immediates to patch when the code is done.
    patches: Vec<(u32, i32)>,
    body_len: usize,
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
    let body = module
        .body(func_index)
        .ok_or_else(|| Error::Internal(format!("no body for function {func_index}")))?;
    let bytes = &module.bytes[body.range.clone()];
    let mut reader = wasmparser::BinaryReader::new(bytes, body.range.start as u64);
    reader.set_features(crate::module::features());
    let body = wasmparser::FunctionBody::new(reader);
    let mut validator = validator;
    let mut err_at = body.range().start as usize;
    let res = (|| -> std::result::Result<FuncCode, CompileFailure> {
        let ty = module.func_type(func_index).clone();
        let mut locals: Vec<ValType> = ty.params().to_vec();
        let mut lr = body.get_locals_reader()?;
        for _ in 0..lr.get_count() {
            let offset = lr.original_position() as usize;
            let (count, t) = lr.read()?;
            if let Some(v) = validator.as_mut() {
                v.define_locals(offset as u64, count, t)?;
            }
            let vt = ValType::from_wasmparser(t)
                .ok_or_else(|| CompileFailure::at(offset, "unsupported local type"))?;
            if locals.len() + count as usize > 50_000 {
                return Err(CompileFailure::at(offset, "too many locals"));
            }
            locals.extend(std::iter::repeat_n(vt, count as usize));
        }
        let mut cg = CodeGen::new(module, sig_ids, func_index, ty, locals, opts, bytes.len());
        // The prologue (stack check, budget) is attributed to the body's first byte.
        cg.wasm = body.range().start as u32;
        cg.prologue();
        let mut ops = body.get_operators_reader()?;
        while !ops.eof() {
            let (op, offset) = ops.read_with_offset()?;
            let offset = offset as usize;
            err_at = offset;
            if let Some(v) = validator.as_mut() {
                v.op(offset as u64, &op)?;
            }
            cg.wasm = offset as u32;
            cg.visit(&op).map_err(|m| CompileFailure::at(offset, &m))?;
        }
        ops.finish()?;
        cg.finish().map_err(|m| CompileFailure::at(err_at, &m))
    })();
    res.map_err(|f| match f {
        CompileFailure::Invalid(e) => Error::invalid(e),
        CompileFailure::Unsupported { offset, message } => Error::Compile {
            func: func_index,
            offset,
            message,
        },
    })
}

enum CompileFailure {
    Invalid(wasmparser::BinaryReaderError),
    Unsupported { offset: usize, message: String },
}

impl CompileFailure {
    fn at(offset: usize, m: &str) -> CompileFailure {
        CompileFailure::Unsupported {
            offset,
            message: m.to_string(),
        }
    }
}

impl From<wasmparser::BinaryReaderError> for CompileFailure {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        CompileFailure::Invalid(e)
    }
}

fn w_of(t: ValType) -> bool {
    t.is_64bit()
}

impl<'a> CodeGen<'a> {
    fn new(
        module: &'a ModuleInfo,
        sig_ids: &'a [u32],
        func_index: u32,
        ty: FuncType,
        locals: Vec<ValType>,
        opts: CompileOptions,
        body_len: usize,
    ) -> CodeGen<'a> {
        let stack = ValueStack::new(locals.len());
        let debug = opts.debug.then(|| DebugSideTable {
            locals: locals
                .iter()
                .enumerate()
                .map(|(i, t)| (*t, ValueLoc::Frame(stack.local_slot(i as u32))))
                .collect(),
            points: Vec::new(),
            stack: Vec::new(),
        });
        let mut masm = Masm::for_body(body_len);
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
            offset_map: Vec::with_capacity(body_len / 2 + 8),
            trap_sites: Vec::new(),
            ool: Vec::new(),
            wasm: 0,
            debug,
            debug_common: None,
            runtime_traps: Vec::new(),
            has_memory: !module.memories.is_empty(),
            tier_up: opts.tier_up && !opts.debug,
            patches: Vec::new(),
            body_len,
        }
    }

    // ---- prologue / epilogue ------------------------------------------------

    fn prologue(&mut self) {
        self.frame_size_patch = self.masm.prologue();
        // Stack/interrupt check before the frame is touched.
        let slow = self.masm.new_label();
        let back = self.masm.new_label();
        self.masm.stack_check(VMCTX_LIMITS, slow);
        self.masm.bind(back);
        self.ool.push(OutOfLine::StackCheck {
            label: slow,
            back,
            wasm: self.wasm,
            entry: true,
        });

        let abi = abi_for(&self.ty);
        if abi.retptr {
            self.masm.store(true, RBP, RETPTR_SLOT, RDX);
        }
        for (i, loc) in abi.params.iter().enumerate() {
            let t = self.locals[i];
            let slot = self.stack.local_slot(i as u32);
            match *loc {
                ArgLoc::Gpr(r) => self.masm.store(w_of(t), RBP, slot, r),
                ArgLoc::Xmm(x) => self.masm.fstore(t == ValType::F64, RBP, slot, x),
                ArgLoc::Stack(n) => self.masm.copy_slot(RBP, slot, RBP, 16 + 8 * n as i32),
            }
        }
        let nparams = self.ty.params().len();
        let nlocals = self.locals.len();
        if nlocals > nparams {
            self.masm.mov_imm(true, SCRATCH, 0);
            for i in nparams..nlocals {
                self.masm
                    .store(true, RBP, self.stack.local_slot(i as u32), SCRATCH);
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
        let below = 8 + 8 * self.locals.len() + 8 * self.stack.max_depth;
        let size = below.next_multiple_of(16);
        if size > i32::MAX as usize / 2 {
            return Err("frame too large".into());
        }
        let patch = self.frame_size_patch as usize;
        let mut offset_map = std::mem::take(&mut self.offset_map);
        offset_map.sort_by_key(|&(n, _)| n);
        let mut traps = std::mem::take(&mut self.trap_sites);
        traps.sort_by_key(|t| t.native);
        let debug = self.debug.take();
        let mut bytes = self.masm.finish()?;
        bytes[patch..patch + 4].copy_from_slice(&(size as u32).to_le_bytes());
        for &(at, v) in &self.patches {
            bytes[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
        }
        Ok(FuncCode {
            bytes,
            offset_map,
            traps,
            debug,
        })
    }

    fn emit_out_of_line(&mut self) -> Res {
        let ool = std::mem::take(&mut self.ool);
        for item in ool {
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
                    self.call_builtin_raw(Builtin::StackCheckSlow);
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
                    index,
                    wasm,
                } => {
                    self.masm.bind(label);
                    self.offset_map.push((self.masm.offset(), wasm));
                    let common = self.debug_common_label();
                    self.masm.push_imm(index as i32);
                    self.masm.call_label(common);
                    self.masm.lea(RSP, RSP, 8);
                    // The common stub leaves the hook's status in r11.
                    self.masm.test_rr(false, SCRATCH, SCRATCH);
                    let rt = self.runtime_trap_label(wasm);
                    self.masm.jcc(Cond::Ne, rt);
                    self.masm.jmp(back);
                }
            }
        }
        // Emitting the items above may have queued more (trap stubs).
        if !self.ool.is_empty() {
            return self.emit_out_of_line();
        }
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
        Ok(())
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
        if let Some(&(w, l)) = self.runtime_traps.last() {
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
        self.runtime_traps.push((wasm, label));
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
            let index = {
                let start = dt.stack.len() as u32;
                self.stack.snapshot(&mut dt.stack);
                let len = dt.stack.len() as u32 - start;
                dt.points.push(DebugPoint {
                    wasm_offset: self.wasm,
                    stack_start: start,
                    stack_len: len,
                });
                dt.points.len() as u32 - 1
            };
            let label = self.masm.new_label();
            let back = self.masm.new_label();
            self.masm
                .cmp_byte_zero(VMCTX, VMCTX_DEBUG_FLAGS + self.func_index as i32);
            self.masm.jcc(Cond::Ne, label);
            self.masm.bind(back);
            self.ool.push(OutOfLine::Debug {
                label,
                back,
                index,
                wasm: self.wasm,
            });
        }
    }

    // ---- value-stack helpers ---------------------------------------------------

    fn pop(&mut self) -> Popped {
        self.stack.pop()
    }

    fn pop_gpr(&mut self) -> Gpr {
        let p = self.stack.pop();
        self.stack.to_gpr(&mut self.masm, p)
    }

    fn pop_xmm(&mut self) -> Xmm {
        let p = self.stack.pop();
        self.stack.to_xmm(&mut self.masm, p)
    }

    fn take_gpr(&mut self, p: Popped) -> Gpr {
        self.stack.to_gpr(&mut self.masm, p)
    }

    fn take_xmm(&mut self, p: Popped) -> Xmm {
        self.stack.to_xmm(&mut self.masm, p)
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
        if let Some(e) = self.stack.entries.last() {
            if matches!(e.loc, Loc::Flags(_)) && !matches!(op, O::If { .. } | O::BrIf { .. }) {
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
            O::End => self.visit_end()?,
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
            O::Drop => {
                let p = self.pop();
                self.stack.free_loc(p.loc);
            }
            O::Select | O::TypedSelect { .. } => self.visit_select(),

            // ---- locals and globals ----
            O::LocalGet { local_index } => {
                let t = self.locals[local_index as usize];
                self.stack.push(t, Loc::Local(local_index));
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
            O::MemorySize { .. } => {
                let r = self.stack.alloc_gpr(&mut self.masm);
                self.masm.load(true, r, VMCTX, VMCTX_MEMORY);
                self.masm.load(true, r, r, MEMORY_LENGTH);
                self.masm.shift_imm(Shift::ShrU, true, r, 16);
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
            O::I32TruncF32U => self.trunc_builtin(false, false, true, false),
            O::I32TruncF64U => self.trunc_builtin(true, false, true, false),
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
                self.masm.load(true, r, VMCTX, VMCTX_FUNCREFS);
                self.masm.load(true, r, r, 8 * function_index as i32);
                self.push_gpr(ValType::FuncRef, r);
            }
            O::TableGet { table } => self.table_get(table),
            O::TableSet { table } => self.table_set(table),
            O::TableSize { table } => {
                let r = self.stack.alloc_gpr(&mut self.masm);
                self.load_table_ptr(r, table);
                self.masm.load(false, r, r, TABLE_LENGTH);
                self.push_gpr(ValType::I32, r);
            }
            O::TableGrow { table } => self.builtin(
                Builtin::TableGrow,
                &[Arg::Imm(table as i64), Arg::Stack(0), Arg::Stack(1)],
                2,
                Some(ValType::I32),
                false,
            ),
            O::TableFill { table } => self.builtin(
                Builtin::TableFill,
                &[
                    Arg::Imm(table as i64),
                    Arg::Stack(0),
                    Arg::Stack(1),
                    Arg::Stack(2),
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
                    Arg::Stack(0),
                    Arg::Stack(1),
                    Arg::Stack(2),
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
                    Arg::Stack(0),
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

            _ => return Err(format!("unsupported instruction {op:?}")),
        }
        Ok(())
    }

    /// In unreachable code only the block structure is followed.
    fn visit_unreachable(&mut self, op: &Operator<'_>) -> Res {
        use Operator as O;
        self.offset_map.push((self.masm.offset(), self.wasm));
        match op {
            O::Block { .. } | O::Loop { .. } | O::If { .. } => {
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
                    self.visit_end()?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    // ---- control flow ----------------------------------------------------------

    /// Turns a pending flags entry on top of the stack into a register.
    fn materialize_flags(&mut self) {
        let top = self.stack.len() - 1;
        if let Loc::Flags(c) = self.stack.entries[top].loc {
            // Allocation may spill, which uses only flag-preserving moves.
            let r = self.stack.alloc_gpr(&mut self.masm);
            self.masm.setcc(c, r);
            self.stack.entries[top].loc = Loc::Gpr(r);
        }
    }

    /// Pops an i32 condition and spills the stack; returns the condition code
    /// that holds when the value is non-zero.
    fn pop_condition(&mut self) -> Cond {
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

    /// Whether a compare may leave its result in the flags (not in debug code,
    /// whose per-instruction check clobbers them).
    fn can_fuse(&self) -> bool {
        self.debug.is_none()
    }

    fn visit_block(&mut self, kind: FrameKind, bt: BlockType) {
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
            self.masm.bind(label);
            let slow = self.masm.new_label();
            let back = self.masm.new_label();
            self.masm.stack_check(VMCTX_LIMITS, slow);
            self.masm.bind(back);
            self.ool.push(OutOfLine::StackCheck {
                label: slow,
                back,
                wasm: self.wasm,
                entry: false,
            });
            budget_patch = self.charge_budget(0);
        }
        if kind == FrameKind::If && !params.is_empty() {
            // The then-arm works on copies so the else-arm still finds its params.
            for (k, &t) in params.iter().enumerate() {
                let src = self.stack.home(base + k);
                let dst = self.stack.home(self.stack.len());
                self.masm.copy_slot(RBP, dst, RBP, src);
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
    fn move_results(&mut self, base: usize, n: usize) {
        let top = self.stack.len() - n;
        if top == base {
            return;
        }
        for k in 0..n {
            let (src, dst) = (self.stack.home(top + k), self.stack.home(base + k));
            self.masm.copy_slot(RBP, dst, RBP, src);
        }
    }

    fn visit_else(&mut self) {
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

    fn reset_stack(&mut self, base: usize, types: &[ValType]) {
        while self.stack.len() > base {
            let p = self.stack.pop();
            self.stack.free_loc(p.loc);
        }
        self.stack.reset_regs();
        for &t in types {
            self.stack.push(t, Loc::Stack);
        }
    }

    fn visit_end(&mut self) -> Res {
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
    fn branch_to(&mut self, depth: u32) {
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

    fn needs_moves(&self, depth: u32) -> bool {
        let f = &self.frames[self.frames.len() - 1 - depth as usize];
        if f.kind == FrameKind::Func {
            return true;
        }
        let n = f.branch_types().len();
        n > 0 && self.stack.len() - n != f.base
    }

    fn visit_br(&mut self, depth: u32) {
        self.stack.spill_all(&mut self.masm);
        self.branch_to(depth);
        self.reachable = false;
    }

    fn visit_br_if(&mut self, depth: u32) {
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

    fn visit_br_table(&mut self, targets: &[u32], default: u32) -> Res {
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
    fn emit_return(&mut self) {
        let results = self.ty.results().to_vec();
        match results.len() {
            0 => {}
            1 => {
                let p = self.pop();
                if results[0].is_float() {
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
                for k in 0..n {
                    self.masm
                        .copy_slot(RAX, 8 * k as i32, RBP, self.stack.home(top + k));
                }
            }
        }
        self.masm.epilogue();
    }

    // ---- calls ---------------------------------------------------------------------

    /// Loads the top `ty.params().len()` values (all spilled) into argument
    /// locations and reserves the outgoing area; returns the area size.
    fn setup_call_args(&mut self, ty: &FuncType) -> i32 {
        let abi = abi_for(ty);
        let nres = ty.results().len();
        let stack_bytes = 8 * abi.stack_slots as i32;
        let area = if abi.retptr {
            stack_bytes + 8 * nres as i32
        } else {
            stack_bytes
        };
        let area = (area + 15) & !15;
        self.masm.sub_rsp(area);
        let first = self.stack.len() - ty.params().len();
        for (k, loc) in abi.params.iter().enumerate() {
            let t = ty.params()[k];
            let home = self.stack.home(first + k);
            match *loc {
                ArgLoc::Gpr(r) => self.masm.load(w_of(t), r, RBP, home),
                ArgLoc::Xmm(x) => self.masm.fload(t == ValType::F64, x, RBP, home),
                ArgLoc::Stack(n) => self.masm.copy_slot(RSP, 8 * n as i32, RBP, home),
            }
        }
        if abi.retptr {
            self.masm.lea(RDX, RSP, stack_bytes);
        }
        area
    }

    /// After the call: drop arguments, push results, release the area.
    fn finish_call(&mut self, ty: &FuncType, area: i32) {
        for _ in 0..ty.params().len() {
            self.stack.pop();
        }
        self.stack.reset_regs();
        let results = ty.results();
        if results.len() == 1 {
            let t = results[0];
            if t.is_float() {
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
            let stack_bytes = 8 * abi_for(ty).stack_slots as i32;
            for (k, &t) in results.iter().enumerate() {
                let home = self.stack.home(self.stack.len());
                self.masm
                    .copy_slot(RBP, home, RSP, stack_bytes + 8 * k as i32);
                self.stack.push(t, Loc::Stack);
            }
        }
        self.masm.add_rsp(area);
    }

    fn visit_call(&mut self, f: u32) {
        let ty = self.module.func_type(f).clone();
        self.stack.spill_all(&mut self.masm);
        let area = self.setup_call_args(&ty);
        self.masm.load(true, RAX, VMCTX, VMCTX_FUNCREFS);
        self.masm.load(true, RAX, RAX, 8 * f as i32);
        self.emit_call_funcref();
        self.finish_call(&ty, area);
    }

    /// Calls the VMFuncRef in rax.
    fn emit_call_funcref(&mut self) {
        self.masm.load(true, RDI, RAX, FUNCREF_VMCTX);
        self.masm.mov_rr(true, RSI, VMCTX);
        self.masm.call_mem(RAX, FUNCREF_CODE);
        if self.has_memory {
            // r14 is callee-saved, nothing to reload.
        }
    }

    fn visit_call_indirect(&mut self, type_index: u32, table: u32) {
        let ty = self.module.types[type_index as usize].clone();
        let idx = self.pop();
        self.stack.spill_all(&mut self.masm);
        // The index goes to rax before arguments take their registers.
        self.stack.load_gpr(&mut self.masm, idx, RAX);
        self.stack.free_loc(idx.loc);
        let oob = self.trap_label(TrapCode::TableOutOfBounds, self.wasm);
        let null = self.trap_label(TrapCode::IndirectCallToNull, self.wasm);
        let bad_sig = self.trap_label(TrapCode::BadSignature, self.wasm);
        self.load_table_ptr(SCRATCH, table);
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
        let area = self.setup_call_args(&ty);
        self.emit_call_funcref();
        self.finish_call(&ty, area);
    }

    /// Calls a runtime builtin with `args` (Stack(k) = k-th of the top `npop`
    /// values, bottom first). Pops `npop` values, pushes `result`, and if
    /// `traps`, a non-zero return reports the pending runtime trap.
    fn builtin(
        &mut self,
        b: Builtin,
        args: &[Arg],
        npop: usize,
        result: Option<ValType>,
        traps: bool,
    ) {
        self.stack.spill_all(&mut self.masm);
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
            }
        }
        self.masm.mov_rr(true, RDI, VMCTX);
        self.call_builtin_raw(b);
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

    fn trap_here(&mut self, code: TrapCode) {
        self.trap_sites.push(TrapSite {
            native: self.masm.offset(),
            code: Some(code),
            wasm_offset: self.wasm,
        });
        self.masm.ud2();
    }

    // ---- locals, globals, select ---------------------------------------------------

    fn visit_local_set(&mut self, l: u32, tee: bool) {
        let p = self.pop();
        if p.loc == Loc::Local(l) {
            if tee {
                self.stack.push(p.ty, p.loc);
            }
            return;
        }
        self.stack.detach_local(&mut self.masm, l);
        let slot = self.stack.local_slot(l);
        let w = w_of(p.ty);
        match p.loc {
            Loc::Gpr(r) => self.masm.store(w, RBP, slot, r),
            Loc::Xmm(x) => self.masm.fstore(p.ty == ValType::F64, RBP, slot, x),
            Loc::Const(c) => self.masm.store_imm(w, RBP, slot, c as i64),
            Loc::Stack => self
                .masm
                .copy_slot(RBP, slot, RBP, self.stack.home(p.depth)),
            Loc::Local(src) => self
                .masm
                .copy_slot(RBP, slot, RBP, self.stack.local_slot(src)),
            Loc::Flags(_) => unreachable!("flags are materialised before local.set"),
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

    fn global_ptr(&mut self, g: u32) {
        self.masm.load(true, SCRATCH, VMCTX, VMCTX_GLOBALS);
        self.masm.load(true, SCRATCH, SCRATCH, 8 * g as i32);
    }

    fn visit_global_get(&mut self, g: u32) {
        let t = self.module.globals[g as usize].ty;
        if t.is_float() {
            let x = self.stack.alloc_xmm(&mut self.masm);
            self.global_ptr(g);
            self.masm.fload(t == ValType::F64, x, SCRATCH, 0);
            self.push_xmm(t, x);
        } else {
            let r = self.stack.alloc_gpr(&mut self.masm);
            self.global_ptr(g);
            self.masm.load(w_of(t), r, SCRATCH, 0);
            self.push_gpr(t, r);
        }
    }

    fn visit_global_set(&mut self, g: u32) {
        let p = self.pop();
        if p.ty.is_float() {
            let x = self.take_xmm(p);
            self.global_ptr(g);
            self.masm.fstore(p.ty == ValType::F64, SCRATCH, 0, x);
            self.stack.free_xmm(x);
        } else {
            let r = self.take_gpr(p);
            self.global_ptr(g);
            self.masm.store(w_of(p.ty), SCRATCH, 0, r);
            self.stack.free_gpr(r);
        }
    }

    fn visit_select(&mut self) {
        let c = self.pop_gpr();
        let b = self.pop();
        let a = self.pop();
        if a.ty.is_float() {
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

    // ---- memory ---------------------------------------------------------------------

    /// Pops the address; returns (register holding the index, displacement).
    fn address(&mut self, memarg: MemArg) -> (Gpr, i32) {
        let a = self.pop_gpr();
        if memarg.offset <= i32::MAX as u64 {
            (a, memarg.offset as i32)
        } else {
            self.masm.mov_imm(true, SCRATCH, memarg.offset as i64);
            self.masm.alu(Alu::Add, true, a, Src::Reg(SCRATCH));
            (a, 0)
        }
    }

    fn load(&mut self, memarg: MemArg, ty: ValType, kind: Load) {
        let (a, disp) = self.address(memarg);
        self.masm.wasm_load(kind, w_of(ty), a, a, disp);
        self.push_gpr(ty, a);
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
        let r = self.take_gpr(v);
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

    // ---- integer operators --------------------------------------------------------------

    fn ibin(&mut self, w: bool, op: Alu) {
        let rhs = self.pop();
        let lhs = self.pop();
        let ty = lhs.ty;
        let dst = self.take_gpr(lhs);
        let src = self.src_of(rhs);
        self.masm.alu(op, w, dst, src);
        self.free_src(src);
        self.push_gpr(ty, dst);
    }

    fn iunop(&mut self, ty: ValType, f: impl FnOnce(&mut Masm, Gpr)) {
        let r = self.pop_gpr();
        f(&mut self.masm, r);
        self.push_gpr(ty, r);
    }

    fn eqz(&mut self, w: bool) {
        let r = self.pop_gpr();
        self.masm.test_rr(w, r, r);
        self.push_cond(Cond::Eq, r);
    }

    /// Pushes the boolean `c` of the flags just set; `r` is a free-able register.
    fn push_cond(&mut self, c: Cond, r: Gpr) {
        if self.can_fuse() {
            self.stack.free_gpr(r);
            self.stack.push(ValType::I32, Loc::Flags(c));
        } else {
            self.masm.setcc(c, r);
            self.push_gpr(ValType::I32, r);
        }
    }

    fn icmp(&mut self, w: bool, c: Cond) {
        let rhs = self.pop();
        let lhs = self.pop();
        let dst = self.take_gpr(lhs);
        let src = self.src_of(rhs);
        self.masm.alu(Alu::Cmp, w, dst, src);
        self.free_src(src);
        self.push_cond(c, dst);
    }

    fn bitcount(&mut self, w: bool, kind: u8) {
        let ty = if w { ValType::I64 } else { ValType::I32 };
        let r = self.pop_gpr();
        self.masm.bitcount(kind, w, r, r);
        self.push_gpr(ty, r);
    }

    fn shift(&mut self, w: bool, op: Shift) {
        let rhs = self.pop();
        let lhs = self.pop();
        let ty = lhs.ty;
        if let Loc::Const(c) = rhs.loc {
            let dst = self.take_gpr(lhs);
            let n = (c as u32) & if w { 63 } else { 31 };
            self.masm.shift_imm(op, w, dst, n as u8);
            self.push_gpr(ty, dst);
            return;
        }
        self.stack.evict_gpr(&mut self.masm, RCX);
        let mut cnt = self.take_gpr(rhs);
        let mut dst = self.take_gpr(lhs);
        if dst == RCX {
            // The value may not live in rcx: move it out.
            let nd = self.stack.alloc_gpr_except(&mut self.masm, 1 << RCX);
            self.masm.mov_rr(true, nd, RCX);
            self.stack.free_gpr(RCX);
            dst = nd;
        }
        if cnt != RCX {
            self.stack.claim_gpr(RCX);
            self.masm.mov_rr(true, RCX, cnt);
            self.stack.free_gpr(cnt);
            cnt = RCX;
        }
        self.masm.shift_cl(op, w, dst);
        self.stack.free_gpr(cnt);
        self.push_gpr(ty, dst);
    }

    fn idiv(&mut self, w: bool, signed: bool, rem: bool) {
        let ty = if w { ValType::I64 } else { ValType::I32 };
        let rhs = self.pop();
        let lhs = self.pop();
        self.stack.evict_gpr(&mut self.masm, RAX);
        self.stack.evict_gpr(&mut self.masm, RDX);
        let d = self.take_gpr(rhs);
        self.masm.mov_rr(true, SCRATCH, d);
        self.stack.free_gpr(d);
        let n = self.take_gpr(lhs);
        self.masm.mov_rr(true, RAX, n);
        self.stack.free_gpr(n);
        self.stack.claim_gpr(RAX);
        self.stack.claim_gpr(RDX);
        let div0 = self.trap_label(TrapCode::IntegerDivideByZero, self.wasm);
        self.masm.test_rr(w, SCRATCH, SCRATCH);
        self.masm.jcc(Cond::Eq, div0);
        let done = self.masm.new_label();
        if signed {
            let normal = self.masm.new_label();
            self.masm.alu(Alu::Cmp, w, SCRATCH, Src::Imm(-1));
            self.masm.jcc(Cond::Ne, normal);
            if rem {
                self.masm.mov_imm(true, RDX, 0);
            } else {
                let ovf = self.trap_label(TrapCode::IntegerOverflow, self.wasm);
                self.masm.neg_jo(w, RAX, ovf);
            }
            self.masm.jmp(done);
            self.masm.bind(normal);
        }
        self.masm.div(signed, w, SCRATCH);
        self.masm.bind(done);
        if rem {
            self.stack.free_gpr(RAX);
            self.push_gpr(ty, RDX);
        } else {
            self.stack.free_gpr(RDX);
            self.push_gpr(ty, RAX);
        }
    }

    // ---- float operators -----------------------------------------------------------------

    fn fbin(&mut self, f64: bool, op: FBin) {
        let rhs = self.pop();
        let lhs = self.pop();
        let ty = lhs.ty;
        let dst = self.take_xmm(lhs);
        if let Some(m) = self.stack.mem_of(&rhs) {
            self.masm.fbin_mem(op, f64, dst, RBP, m);
        } else {
            let src = self.take_xmm(rhs);
            self.masm.fbin(op, f64, dst, src);
            self.stack.free_xmm(src);
        }
        self.push_xmm(ty, dst);
    }

    fn fminmax(&mut self, f64: bool, max: bool) {
        let rhs = self.pop();
        let lhs = self.pop();
        let ty = lhs.ty;
        let dst = self.take_xmm(lhs);
        let src = self.take_xmm(rhs);
        self.masm.fminmax(max, f64, dst, src);
        self.stack.free_xmm(src);
        self.push_xmm(ty, dst);
    }

    fn fcopysign(&mut self, f64: bool) {
        let rhs = self.pop();
        let lhs = self.pop();
        let ty = lhs.ty;
        let dst = self.take_xmm(lhs);
        let src = self.take_xmm(rhs);
        let tmp = self.stack.alloc_gpr(&mut self.masm);
        self.masm.fsign_op(2, f64, dst, Some((src, tmp)));
        self.stack.free_gpr(tmp);
        self.stack.free_xmm(src);
        self.push_xmm(ty, dst);
    }

    fn funop(&mut self, f64: bool, f: impl FnOnce(&mut Masm, Xmm)) {
        let ty = if f64 { ValType::F64 } else { ValType::F32 };
        let x = self.pop_xmm();
        f(&mut self.masm, x);
        self.push_xmm(ty, x);
    }

    fn funop_to(&mut self, _src_f64: bool, to: ValType, f: impl FnOnce(&mut Masm, Xmm)) {
        let x = self.pop_xmm();
        f(&mut self.masm, x);
        self.push_xmm(to, x);
    }

    fn fcmp(&mut self, f64: bool, c: FCmp) {
        let rhs = self.pop();
        let lhs = self.pop();
        let a = self.take_xmm(lhs);
        let b = self.take_xmm(rhs);
        let d = self.stack.alloc_gpr(&mut self.masm);
        match c {
            FCmp::Eq | FCmp::Ne => {
                self.masm.ucomi(f64, a, b);
                let (c1, c2) = if c == FCmp::Eq {
                    (Cond::Eq, Cond::NoParity)
                } else {
                    (Cond::Ne, Cond::Parity)
                };
                let t = self.stack.alloc_gpr(&mut self.masm);
                self.masm.setcc(c1, d);
                self.masm.setcc(c2, t);
                self.masm.alu(
                    if c == FCmp::Eq { Alu::And } else { Alu::Or },
                    false,
                    d,
                    Src::Reg(t),
                );
                self.stack.free_gpr(t);
            }
            FCmp::Lt | FCmp::Le => {
                self.masm.ucomi(f64, b, a);
                self.masm
                    .setcc(if c == FCmp::Lt { Cond::GtU } else { Cond::GeU }, d);
            }
            FCmp::Gt | FCmp::Ge => {
                self.masm.ucomi(f64, a, b);
                self.masm
                    .setcc(if c == FCmp::Gt { Cond::GtU } else { Cond::GeU }, d);
            }
        }
        self.stack.free_xmm(a);
        self.stack.free_xmm(b);
        self.push_gpr(ValType::I32, d);
    }

    fn int_to_float(&mut self, f64: bool, w: bool, signed: bool) {
        let ty = if f64 { ValType::F64 } else { ValType::F32 };
        let r = self.pop_gpr();
        let x = self.stack.alloc_xmm(&mut self.masm);
        if signed {
            self.masm.cvt_int_to_float(f64, w, x, r);
        } else if !w {
            self.masm.mov_rr(false, r, r);
            self.masm.cvt_int_to_float(f64, true, x, r);
        } else {
            let tmp = self.stack.alloc_gpr(&mut self.masm);
            self.masm.cvt_u64_to_float(f64, x, r, tmp);
            self.stack.free_gpr(tmp);
        }
        self.stack.free_gpr(r);
        self.push_xmm(ty, x);
    }

    /// Trapping float → signed int, inline with an out-of-line range check.
    fn trunc_signed(&mut self, f64: bool, w: bool) {
        let ty = if w { ValType::I64 } else { ValType::I32 };
        let x = self.pop_xmm();
        let d = self.stack.alloc_gpr(&mut self.masm);
        self.masm.cvtt_float_to_int(f64, w, d, x);
        // `cmp d, 1` overflows exactly when d is the minimum (the failure value).
        let check = self.masm.new_label();
        let back = self.masm.new_label();
        self.masm.alu(Alu::Cmp, w, d, Src::Imm(1));
        self.masm.jo(check);
        self.masm.bind(back);
        // The slow path lives inline after a jump over it (it is rare and short).
        let over = self.masm.new_label();
        self.masm.jmp(over);
        self.masm.bind(check);
        let conv = self.trap_label(TrapCode::BadConversionToInteger, self.wasm);
        let ovf = self.trap_label(TrapCode::IntegerOverflow, self.wasm);
        self.masm.ucomi(f64, x, x);
        self.masm.jcc(Cond::Parity, conv);
        // Lower bound: the result is the minimum iff x > MIN - 1 (exact compare per type).
        let (bound_bits, strict) = match (f64, w) {
            (true, false) => ((-2147483649.0f64).to_bits(), true),
            (true, true) => ((-9223372036854775808.0f64).to_bits(), false),
            (false, false) => ((-2147483648.0f32).to_bits() as u64, false),
            (false, true) => ((-9223372036854775808.0f32).to_bits() as u64, false),
        };
        self.masm.fconst(f64, XSCRATCH, bound_bits);
        self.masm.ucomi(f64, x, XSCRATCH);
        self.masm
            .jcc(if strict { Cond::LeU } else { Cond::LtU }, ovf);
        self.masm.fconst(f64, XSCRATCH, 0);
        self.masm.ucomi(f64, x, XSCRATCH);
        self.masm.jcc(Cond::GtU, ovf);
        self.masm.jmp(back);
        self.masm.bind(over);
        self.stack.free_xmm(x);
        self.push_gpr(ty, d);
    }

    /// Unsigned and saturating truncations go through the runtime.
    fn trunc_builtin(&mut self, f64: bool, w: bool, unsigned: bool, sat: bool) {
        use crate::vm::layout::float_to_int::*;
        let ty = if w { ValType::I64 } else { ValType::I32 };
        let mut kind = 0;
        if f64 {
            kind |= SRC_F64;
        }
        if w {
            kind |= DST_I64;
        }
        if unsigned {
            kind |= UNSIGNED;
        }
        if sat {
            kind |= SATURATING;
        }
        // (vmctx, bits, kind, out) -> status; the result lands in the home slot.
        self.builtin(
            Builtin::FloatToInt,
            &[Arg::Stack(0), Arg::Imm(kind as i64), Arg::SlotAddr(0)],
            1,
            None,
            true,
        );
        self.stack.push(ty, Loc::Stack);
    }

    fn reinterpret_to_int(&mut self, f64: bool) {
        let ty = if f64 { ValType::I64 } else { ValType::I32 };
        let x = self.pop_xmm();
        let r = self.stack.alloc_gpr(&mut self.masm);
        self.masm.movq_to_gpr(f64, r, x);
        self.stack.free_xmm(x);
        self.push_gpr(ty, r);
    }

    fn reinterpret_to_float(&mut self, f64: bool) {
        let ty = if f64 { ValType::F64 } else { ValType::F32 };
        let r = self.pop_gpr();
        let x = self.stack.alloc_xmm(&mut self.masm);
        self.masm.movq_to_xmm(f64, x, r);
        self.stack.free_gpr(r);
        self.push_xmm(ty, x);
    }

    // ---- tables -----------------------------------------------------------------------

    fn load_table_ptr(&mut self, dst: Gpr, table: u32) {
        self.masm.load(true, dst, VMCTX, VMCTX_TABLES);
        self.masm.load(true, dst, dst, 8 * table as i32);
    }

    fn table_get(&mut self, table: u32) {
        let ty = self.module.tables[table as usize].elem;
        let i = self.pop_gpr();
        let oob = self.trap_label(TrapCode::TableOutOfBounds, self.wasm);
        self.load_table_ptr(SCRATCH, table);
        self.masm
            .alu(Alu::Cmp, true, i, Src::Mem(SCRATCH, TABLE_LENGTH));
        self.masm.jcc(Cond::GeU, oob);
        self.masm.load(true, SCRATCH, SCRATCH, TABLE_ELEMENTS);
        self.masm.load_indexed8(i, SCRATCH, i);
        self.push_gpr(ty, i);
    }

    fn table_set(&mut self, table: u32) {
        let v = self.pop_gpr();
        let i = self.pop_gpr();
        let oob = self.trap_label(TrapCode::TableOutOfBounds, self.wasm);
        self.load_table_ptr(SCRATCH, table);
        self.masm
            .alu(Alu::Cmp, true, i, Src::Mem(SCRATCH, TABLE_LENGTH));
        self.masm.jcc(Cond::GeU, oob);
        self.masm.load(true, SCRATCH, SCRATCH, TABLE_ELEMENTS);
        self.masm.store_indexed8(SCRATCH, i, v);
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
}
