//! The translator: one `match` over wasmparser's operators, grouped by
//! family, building Cranelift IR on an operand stack of SSA values. Control
//! flow lives in `control.rs`, memory and tables in `memory.rs`, VMContext
//! access in `env.rs`; the numeric operators are here.
//!
//! Invariants: the operand stack holds one SSA value per wasm value, with the
//! Cranelift type `ir_type` gives it; wasm locals are frontend variables; code
//! after an unconditional transfer is not translated until the next `else` or
//! `end` of a live frame (`reachable == false`).

use super::control::Frame;
use super::env::Regions;
use super::liveness::Liveness;
use super::{ir_type, srcloc, user_trap};
use crate::error::TrapCode;
use crate::module::ModuleInfo;
use crate::types::{FuncType, ValType};
use crate::vm::layout::BUILTIN_COUNT;
use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::immediates::{Ieee32, Ieee64};
use cranelift_codegen::ir::types::{F32, F64, I16, I32, I64, I8};
use cranelift_codegen::ir::{
    Block, FuncRef, InstBuilder, MemFlagsData, SigRef, StackSlot, Type, Value,
};
use cranelift_codegen::isa::TargetFrontendConfig;
use cranelift_frontend::{FunctionBuilder, Variable};
use std::collections::HashMap;
use wasmparser::{BlockType, Operator};

pub(crate) type Res<T = ()> = std::result::Result<T, String>;

pub(crate) struct Translator<'m, 'b> {
    pub b: FunctionBuilder<'b>,
    pub module: &'m ModuleInfo,
    pub sig_ids: &'m [u32],
    pub ty: FuncType,
    pub locals: Vec<(Variable, ValType)>,
    pub stack: Vec<Value>,
    pub frames: Vec<Frame>,
    /// False after an unconditional transfer, until a live `else`/`end`.
    pub reachable: bool,
    /// Blocks entered while unreachable (they are skipped whole).
    pub dead_depth: u32,
    pub vmctx: Value,
    /// The results area of a function with two or more results.
    pub retptr: Option<Value>,
    pub mem_base: Option<Value>,
    pub regions: Regions,
    pub sig_refs: HashMap<u32, SigRef>,
    pub builtin_sigs: [Option<SigRef>; BUILTIN_COUNT],
    /// Shared area where callees with two or more results store them.
    pub results_slot: Option<StackSlot>,
    /// The return block: its parameters are the function's results.
    pub exit: Block,
    /// The stack-check stub (see `env::stack_check_stub`), once imported.
    pub stub_ref: Option<FuncRef>,
    pub func_index: u32,
    /// Module offset of the operator being translated.
    pub offset: u32,
    /// Locals live at each interrupt check.
    pub liveness: Liveness,
    /// The one stack slot every check's state record is written to.
    pub record_slot: Option<StackSlot>,
    /// Record values the preheader of the loop being entered wrote.
    pub hoisted: Option<super::preheader::Hoisted>,
    /// Module offsets of the linear-memory accesses translated, ascending.
    pub heap_offsets: Vec<u32>,
    /// Where an OSR entry's translation stands (see `osr_entry`).
    pub osr: super::osr_entry::OsrEntry,
    /// An OSR entry's operand-stack variables (see `osr_entry`).
    pub osr_vars: super::osr_entry::OsrVars,
    /// Exception handling: the open `try` regions.
    pub exn: super::exceptions::ExnState,
}

impl<'m, 'b> Translator<'m, 'b> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        mut b: FunctionBuilder<'b>,
        module: &'m ModuleInfo,
        sig_ids: &'m [u32],
        ty: FuncType,
        local_types: &[ValType],
        liveness: Liveness,
        func_index: u32,
        body_offset: u32,
    ) -> Translator<'m, 'b> {
        b.set_srcloc(srcloc(body_offset));
        let regions = Regions::new(b.func);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let params = b.block_params(entry).to_vec();
        let vmctx = params[0];
        let retptr = (ty.results().len() >= 2).then(|| params[2]);
        let first_param = if retptr.is_some() { 3 } else { 2 };
        let mut locals = Vec::with_capacity(local_types.len());
        for (i, &t) in local_types.iter().enumerate() {
            let var = b.declare_var(ir_type(t));
            let init = if i < ty.params().len() {
                params[first_param + i]
            } else {
                match t {
                    ValType::F32 => b.ins().f32const(Ieee32::with_bits(0)),
                    ValType::F64 => b.ins().f64const(Ieee64::with_bits(0)),
                    ValType::V128 => super::simd::vconst(&mut b, ir_type(t), [0; 16]),
                    t => b.ins().iconst(ir_type(t), 0),
                }
            };
            b.def_var(var, init);
            locals.push((var, t));
        }
        let exit = b.create_block();
        for &r in ty.results() {
            b.append_block_param(exit, ir_type(r));
        }
        let mut t = Translator {
            b,
            module,
            sig_ids,
            ty,
            locals,
            stack: Vec::new(),
            frames: Vec::new(),
            reachable: true,
            dead_depth: 0,
            vmctx,
            retptr,
            mem_base: None,
            regions,
            sig_refs: HashMap::new(),
            builtin_sigs: [None; BUILTIN_COUNT],
            results_slot: None,
            exit,
            stub_ref: None,
            func_index,
            offset: body_offset,
            liveness,
            record_slot: None,
            hoisted: None,
            heap_offsets: Vec::new(),
            osr: Default::default(),
            osr_vars: Default::default(),
            exn: Default::default(),
        };
        if !module.memories.is_empty() {
            t.mem_base = Some(t.load_memory_base());
        }
        t.push_func_frame();
        t
    }

    /// The function-entry check (an OSR entry has none: it is no call, and
    /// its parameters are not the function's). Optimized code counts no
    /// calls: the counts rank functions for tier-up and for `profile on`,
    /// and an optimized function has been ranked already (V8's TurboFan
    /// code does not count either), and a read-modify-write of one shared
    /// word at every entry is a dependency chain through memory in a
    /// recursive kernel like fib.
    pub fn entry_check(&mut self) {
        self.stack_check(true);
    }

    /// Emits the return block and finishes the function.
    pub fn finalize(self, cfg: TargetFrontendConfig) -> Res {
        if !self.frames.is_empty() {
            return Err("function body does not end".into());
        }
        self.b.finalize(cfg);
        Ok(())
    }

    // ---- operand stack --------------------------------------------------------

    pub fn pop(&mut self) -> Value {
        self.stack
            .pop()
            .expect("operand stack underflow (unvalidated code)")
    }

    pub fn pop2(&mut self) -> (Value, Value) {
        let b = self.pop();
        let a = self.pop();
        (a, b)
    }

    pub fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    /// The top `n` values, bottom first (not popped).
    pub fn peek_n(&self, n: usize) -> &[Value] {
        &self.stack[self.stack.len() - n..]
    }

    pub fn block_types(&self, bt: BlockType) -> Res<(Vec<ValType>, Vec<ValType>)> {
        Ok(match bt {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (
                vec![],
                vec![ValType::from_wasmparser(t).ok_or("unsupported block type")?],
            ),
            BlockType::FuncType(i) => {
                let ft = self
                    .module
                    .types
                    .get(i as usize)
                    .ok_or("bad block type index")?;
                (ft.params().to_vec(), ft.results().to_vec())
            }
        })
    }

    // ---- the visitor ------------------------------------------------------------

    pub fn visit(&mut self, op: &Operator<'_>, offset: u32) -> Res {
        use Operator as O;
        if !self.reachable {
            return self.visit_unreachable(op);
        }
        self.b.set_srcloc(srcloc(offset));
        self.offset = offset;
        match *op {
            // ---- control ----
            O::Nop => {}
            O::Unreachable => {
                // Keep this block from being a "just trap" block: Cranelift
                // would fold a branch into it into a conditional trap carrying
                // the branch's source location instead of this operator's.
                self.b.ins().nop();
                self.b.ins().trap(user_trap(TrapCode::Unreachable));
                self.reachable = false;
            }
            O::Block { blockty } => self.visit_block(blockty)?,
            O::Loop { blockty } => self.visit_loop(blockty)?,
            O::If { blockty } => self.visit_if(blockty)?,
            O::Else => self.visit_else(),
            O::End => self.visit_end_any()?,
            O::TryTable { ref try_table } => self.visit_try_table(try_table)?,
            O::Throw { tag_index } => self.visit_throw(tag_index)?,
            O::ThrowRef => self.visit_throw_ref(),
            O::Try { blockty } => self.visit_try(blockty)?,
            O::Catch { tag_index } => self.visit_catch(Some(tag_index)),
            O::CatchAll => self.visit_catch(None),
            O::Delegate { relative_depth } => self.visit_delegate(relative_depth),
            O::Rethrow { relative_depth } => self.visit_rethrow(relative_depth)?,
            O::Br { relative_depth } => self.visit_br(relative_depth),
            O::BrIf { relative_depth } => self.visit_br_if(relative_depth),
            O::BrTable { ref targets } => {
                let mut ts = Vec::with_capacity(targets.len() as usize);
                for t in targets.targets() {
                    ts.push(t.map_err(|e| e.to_string())?);
                }
                self.visit_br_table(&ts, targets.default());
            }
            O::Return => self.visit_br(self.frames.len() as u32 - 1),
            O::Call { function_index } => self.visit_call(function_index, false)?,
            O::CallIndirect {
                type_index,
                table_index,
            } => self.visit_call_indirect(type_index, table_index, false)?,
            O::ReturnCall { function_index } => self.visit_call(function_index, true)?,
            O::ReturnCallIndirect {
                type_index,
                table_index,
            } => self.visit_call_indirect(type_index, table_index, true)?,
            O::CallRef { type_index } => self.visit_call_ref(type_index, false)?,
            O::ReturnCallRef { type_index } => self.visit_call_ref(type_index, true)?,
            O::RefAsNonNull => self.visit_ref_as_non_null(),
            O::BrOnNull { relative_depth } => self.visit_br_on_null(relative_depth),
            O::BrOnNonNull { relative_depth } => self.visit_br_on_non_null(relative_depth),
            O::Drop => {
                self.pop();
            }
            O::Select | O::TypedSelect { .. } => {
                let c = self.pop();
                let (a, b) = self.pop2();
                let v = self.b.ins().select(c, a, b);
                self.push(v);
            }

            // ---- locals and globals ----
            O::LocalGet { local_index } => {
                let var = self.local(local_index)?;
                let v = self.b.use_var(var);
                self.push(v);
            }
            O::LocalSet { local_index } => {
                let var = self.local(local_index)?;
                let v = self.pop();
                self.b.def_var(var, v);
            }
            O::LocalTee { local_index } => {
                let var = self.local(local_index)?;
                let v = *self.stack.last().ok_or("operand stack underflow")?;
                self.b.def_var(var, v);
            }
            O::GlobalGet { global_index } => self.global_get(global_index)?,
            O::GlobalSet { global_index } => self.global_set(global_index)?,

            // ---- memory ----
            O::I32Load { memarg } => self.load(memarg, I32, super::memory::Ext::None)?,
            O::I64Load { memarg } => self.load(memarg, I64, super::memory::Ext::None)?,
            O::F32Load { memarg } => self.load(memarg, F32, super::memory::Ext::None)?,
            O::F64Load { memarg } => self.load(memarg, F64, super::memory::Ext::None)?,
            O::I32Load8S { memarg } => self.load(memarg, I32, super::memory::Ext::S8)?,
            O::I32Load8U { memarg } => self.load(memarg, I32, super::memory::Ext::U8)?,
            O::I32Load16S { memarg } => self.load(memarg, I32, super::memory::Ext::S16)?,
            O::I32Load16U { memarg } => self.load(memarg, I32, super::memory::Ext::U16)?,
            O::I64Load8S { memarg } => self.load(memarg, I64, super::memory::Ext::S8)?,
            O::I64Load8U { memarg } => self.load(memarg, I64, super::memory::Ext::U8)?,
            O::I64Load16S { memarg } => self.load(memarg, I64, super::memory::Ext::S16)?,
            O::I64Load16U { memarg } => self.load(memarg, I64, super::memory::Ext::U16)?,
            O::I64Load32S { memarg } => self.load(memarg, I64, super::memory::Ext::S32)?,
            O::I64Load32U { memarg } => self.load(memarg, I64, super::memory::Ext::U32)?,
            O::I32Store { memarg }
            | O::I64Store { memarg }
            | O::F32Store { memarg }
            | O::F64Store { memarg } => self.store(memarg, None)?,
            O::I32Store8 { memarg } | O::I64Store8 { memarg } => self.store(memarg, Some(I8))?,
            O::I32Store16 { memarg } | O::I64Store16 { memarg } => self.store(memarg, Some(I16))?,
            O::I64Store32 { memarg } => self.store(memarg, Some(I32))?,
            O::MemorySize { mem } => self.memory_size(mem)?,
            O::MemoryGrow { mem } => self.memory_grow(mem)?,
            O::MemoryFill { mem } => self.memory_fill(mem)?,
            O::MemoryCopy { dst_mem, src_mem } => self.memory_copy(dst_mem, src_mem)?,
            O::MemoryInit { data_index, mem } => self.memory_init(data_index, mem)?,
            O::DataDrop { data_index } => self.data_drop(data_index),

            // ---- constants ----
            O::I32Const { value } => {
                let v = self.b.ins().iconst(I32, value as i64);
                self.push(v);
            }
            O::I64Const { value } => {
                let v = self.b.ins().iconst(I64, value);
                self.push(v);
            }
            O::F32Const { value } => {
                let v = self.b.ins().f32const(Ieee32::with_bits(value.bits()));
                self.push(v);
            }
            O::F64Const { value } => {
                let v = self.b.ins().f64const(Ieee64::with_bits(value.bits()));
                self.push(v);
            }

            // ---- integer comparisons ----
            O::I32Eqz | O::I64Eqz | O::RefIsNull => {
                let a = self.pop();
                let c = self.b.ins().icmp_imm_u(IntCC::Equal, a, 0);
                let v = self.b.ins().uextend(I32, c);
                self.push(v);
            }
            O::I32Eq | O::I64Eq => self.icmp(IntCC::Equal),
            O::I32Ne | O::I64Ne => self.icmp(IntCC::NotEqual),
            O::I32LtS | O::I64LtS => self.icmp(IntCC::SignedLessThan),
            O::I32LtU | O::I64LtU => self.icmp(IntCC::UnsignedLessThan),
            O::I32GtS | O::I64GtS => self.icmp(IntCC::SignedGreaterThan),
            O::I32GtU | O::I64GtU => self.icmp(IntCC::UnsignedGreaterThan),
            O::I32LeS | O::I64LeS => self.icmp(IntCC::SignedLessThanOrEqual),
            O::I32LeU | O::I64LeU => self.icmp(IntCC::UnsignedLessThanOrEqual),
            O::I32GeS | O::I64GeS => self.icmp(IntCC::SignedGreaterThanOrEqual),
            O::I32GeU | O::I64GeU => self.icmp(IntCC::UnsignedGreaterThanOrEqual),

            // ---- integer arithmetic ----
            O::I32Clz | O::I64Clz => self.unop(|b, a| b.ins().clz(a)),
            O::I32Ctz | O::I64Ctz => self.unop(|b, a| b.ins().ctz(a)),
            O::I32Popcnt | O::I64Popcnt => self.unop(|b, a| b.ins().popcnt(a)),
            O::I32Add | O::I64Add => self.binop(|b, x, y| b.ins().iadd(x, y)),
            O::I32Sub | O::I64Sub => self.binop(|b, x, y| b.ins().isub(x, y)),
            O::I32Mul | O::I64Mul => self.binop(|b, x, y| b.ins().imul(x, y)),
            O::I32And | O::I64And => self.binop(|b, x, y| b.ins().band(x, y)),
            O::I32Or | O::I64Or => self.binop(|b, x, y| b.ins().bor(x, y)),
            O::I32Xor | O::I64Xor => self.binop(|b, x, y| b.ins().bxor(x, y)),
            // Cranelift's x64 lowering checks for zero (and -1 for srem) and
            // records distinct trap codes on the divide instructions, so a
            // #DE fault at `idiv` maps to IntegerOverflow, a zero divisor to
            // IntegerDivideByZero.
            O::I32DivS | O::I64DivS => self.binop(|b, x, y| b.ins().sdiv(x, y)),
            O::I32DivU | O::I64DivU => self.binop(|b, x, y| b.ins().udiv(x, y)),
            O::I32RemS | O::I64RemS => self.binop(|b, x, y| b.ins().srem(x, y)),
            O::I32RemU | O::I64RemU => self.binop(|b, x, y| b.ins().urem(x, y)),
            // Cranelift masks shift and rotate counts by the type width, as wasm does.
            O::I32Shl | O::I64Shl => self.binop(|b, x, y| b.ins().ishl(x, y)),
            O::I32ShrS | O::I64ShrS => self.binop(|b, x, y| b.ins().sshr(x, y)),
            O::I32ShrU | O::I64ShrU => self.binop(|b, x, y| b.ins().ushr(x, y)),
            O::I32Rotl | O::I64Rotl => self.binop(|b, x, y| b.ins().rotl(x, y)),
            O::I32Rotr | O::I64Rotr => self.binop(|b, x, y| b.ins().rotr(x, y)),
            O::I32Extend8S => self.sign_extend_from(I8, I32),
            O::I32Extend16S => self.sign_extend_from(I16, I32),
            O::I64Extend8S => self.sign_extend_from(I8, I64),
            O::I64Extend16S => self.sign_extend_from(I16, I64),
            O::I64Extend32S => self.sign_extend_from(I32, I64),
            O::I64ExtendI32S => self.unop(|b, a| b.ins().sextend(I64, a)),
            O::I64ExtendI32U => self.unop(|b, a| b.ins().uextend(I64, a)),
            O::I32WrapI64 => self.unop(|b, a| b.ins().ireduce(I32, a)),

            // ---- float arithmetic ----
            O::F32Add | O::F64Add => self.binop(|b, x, y| b.ins().fadd(x, y)),
            O::F32Sub | O::F64Sub => self.binop(|b, x, y| b.ins().fsub(x, y)),
            O::F32Mul | O::F64Mul => self.binop(|b, x, y| b.ins().fmul(x, y)),
            O::F32Div | O::F64Div => self.binop(|b, x, y| b.ins().fdiv(x, y)),
            // Cranelift's fmin/fmax have wasm semantics (NaN propagates, -0 < +0).
            O::F32Min | O::F64Min => self.binop(|b, x, y| b.ins().fmin(x, y)),
            O::F32Max | O::F64Max => self.binop(|b, x, y| b.ins().fmax(x, y)),
            O::F32Copysign | O::F64Copysign => self.binop(|b, x, y| b.ins().fcopysign(x, y)),
            O::F32Abs | O::F64Abs => self.unop(|b, a| b.ins().fabs(a)),
            O::F32Neg | O::F64Neg => self.unop(|b, a| b.ins().fneg(a)),
            O::F32Sqrt | O::F64Sqrt => self.unop(|b, a| b.ins().sqrt(a)),
            O::F32Ceil | O::F64Ceil => self.unop(|b, a| b.ins().ceil(a)),
            O::F32Floor | O::F64Floor => self.unop(|b, a| b.ins().floor(a)),
            O::F32Trunc | O::F64Trunc => self.unop(|b, a| b.ins().trunc(a)),
            O::F32Nearest | O::F64Nearest => self.unop(|b, a| b.ins().nearest(a)),

            // ---- float comparisons ----
            O::F32Eq | O::F64Eq => self.fcmp(FloatCC::Equal),
            O::F32Ne | O::F64Ne => self.fcmp(FloatCC::NotEqual),
            O::F32Lt | O::F64Lt => self.fcmp(FloatCC::LessThan),
            O::F32Gt | O::F64Gt => self.fcmp(FloatCC::GreaterThan),
            O::F32Le | O::F64Le => self.fcmp(FloatCC::LessThanOrEqual),
            O::F32Ge | O::F64Ge => self.fcmp(FloatCC::GreaterThanOrEqual),

            // ---- conversions ----
            O::F32DemoteF64 => self.unop(|b, a| b.ins().fdemote(F32, a)),
            O::F64PromoteF32 => self.unop(|b, a| b.ins().fpromote(F64, a)),
            O::F32ConvertI32S | O::F32ConvertI64S => {
                self.unop(|b, a| b.ins().fcvt_from_sint(F32, a))
            }
            O::F64ConvertI32S | O::F64ConvertI64S => {
                self.unop(|b, a| b.ins().fcvt_from_sint(F64, a))
            }
            O::F32ConvertI32U | O::F32ConvertI64U => {
                self.unop(|b, a| b.ins().fcvt_from_uint(F32, a))
            }
            O::F64ConvertI32U | O::F64ConvertI64U => {
                self.unop(|b, a| b.ins().fcvt_from_uint(F64, a))
            }
            // Trapping conversions: Cranelift traps with BAD_CONVERSION_TO_INTEGER
            // on NaN and INTEGER_OVERFLOW out of range, as wasm asks.
            O::I32TruncF32S | O::I32TruncF64S => self.unop(|b, a| b.ins().fcvt_to_sint(I32, a)),
            O::I64TruncF32S | O::I64TruncF64S => self.unop(|b, a| b.ins().fcvt_to_sint(I64, a)),
            O::I32TruncF32U | O::I32TruncF64U => self.unop(|b, a| b.ins().fcvt_to_uint(I32, a)),
            O::I64TruncF32U | O::I64TruncF64U => self.unop(|b, a| b.ins().fcvt_to_uint(I64, a)),
            O::I32TruncSatF32S | O::I32TruncSatF64S => {
                self.unop(|b, a| b.ins().fcvt_to_sint_sat(I32, a))
            }
            O::I64TruncSatF32S | O::I64TruncSatF64S => {
                self.unop(|b, a| b.ins().fcvt_to_sint_sat(I64, a))
            }
            O::I32TruncSatF32U | O::I32TruncSatF64U => {
                self.unop(|b, a| b.ins().fcvt_to_uint_sat(I32, a))
            }
            O::I64TruncSatF32U | O::I64TruncSatF64U => {
                self.unop(|b, a| b.ins().fcvt_to_uint_sat(I64, a))
            }
            O::I32ReinterpretF32 => self.bitcast(I32),
            O::I64ReinterpretF64 => self.bitcast(I64),
            O::F32ReinterpretI32 => self.bitcast(F32),
            O::F64ReinterpretI64 => self.bitcast(F64),

            // ---- references and tables ----
            O::RefNull { .. } => {
                let v = self.b.ins().iconst(I64, 0);
                self.push(v);
            }
            O::RefFunc { function_index } => {
                let v = self.funcref(function_index)?;
                self.push(v);
            }
            O::TableGet { table } => self.table_get(table)?,
            O::TableSet { table } => self.table_set(table)?,
            O::TableSize { table } => self.table_size(table)?,
            O::TableGrow { table } => self.table_grow(table),
            O::TableFill { table } => self.table_fill(table),
            O::TableCopy {
                dst_table,
                src_table,
            } => self.table_copy(dst_table, src_table),
            O::TableInit { elem_index, table } => self.table_init(elem_index, table),
            O::ElemDrop { elem_index } => self.elem_drop(elem_index),

            _ => {
                if !self.visit_simd(op)? {
                    return Err(format!("unsupported instruction {op:?}"));
                }
            }
        }
        Ok(())
    }

    /// Code after an unconditional transfer: follow the block structure only.
    fn visit_unreachable(&mut self, op: &Operator<'_>) -> Res {
        use Operator as O;
        if self.visit_unreachable_exn(op)? {
            return Ok(());
        }
        match op {
            O::Block { .. } | O::Loop { .. } | O::If { .. } => self.dead_depth += 1,
            O::Else if self.dead_depth == 0 => self.visit_else(),
            O::End if self.dead_depth == 0 => self.visit_end(),
            O::End => self.dead_depth -= 1,
            _ => {}
        }
        Ok(())
    }

    fn local(&self, index: u32) -> Res<Variable> {
        self.locals
            .get(index as usize)
            .map(|l| l.0)
            .ok_or_else(|| format!("no local {index}"))
    }

    // ---- globals -------------------------------------------------------------------

    fn global_get(&mut self, g: u32) -> Res {
        let gt = *self
            .module
            .globals
            .get(g as usize)
            .ok_or("no such global")?;
        let addr = self.global_addr(g)?;
        // Immutable globals never change after instantiation.
        let flags = if gt.mutable {
            self.mutable(self.regions.globals)
        } else {
            self.fixed()
        };
        let v = self.b.ins().load(ir_type(gt.ty), flags, addr, 0);
        self.push(v);
        Ok(())
    }

    fn global_set(&mut self, g: u32) -> Res {
        let v = self.pop();
        let addr = self.global_addr(g)?;
        let flags = self.mutable(self.regions.globals);
        self.b.ins().store(flags, v, addr, 0);
        Ok(())
    }

    // ---- numeric helpers -------------------------------------------------------------

    fn unop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'b>, Value) -> Value) {
        let a = self.pop();
        let v = f(&mut self.b, a);
        self.push(v);
    }

    fn binop(&mut self, f: impl FnOnce(&mut FunctionBuilder<'b>, Value, Value) -> Value) {
        let (x, y) = self.pop2();
        let v = f(&mut self.b, x, y);
        self.push(v);
    }

    fn icmp(&mut self, cc: IntCC) {
        let (x, y) = self.pop2();
        let c = self.b.ins().icmp(cc, x, y);
        let v = self.b.ins().uextend(I32, c);
        self.push(v);
    }

    fn fcmp(&mut self, cc: FloatCC) {
        let (x, y) = self.pop2();
        let c = self.b.ins().fcmp(cc, x, y);
        let v = self.b.ins().uextend(I32, c);
        self.push(v);
    }

    fn sign_extend_from(&mut self, narrow: Type, to: Type) {
        let a = self.pop();
        let n = self.b.ins().ireduce(narrow, a);
        let v = self.b.ins().sextend(to, n);
        self.push(v);
    }

    fn bitcast(&mut self, to: Type) {
        let a = self.pop();
        let v = self.b.ins().bitcast(to, MemFlagsData::new(), a);
        self.push(v);
    }
}
