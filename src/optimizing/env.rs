//! The seam between IR building and the runtime: every access to the
//! VMContext (header fields, globals, tables, the code table, builtins, the
//! stack/interrupt limit) and every signature is built here, with offsets read
//! from `vm::layout` only.
//!
//! Memory flags encode what may be assumed about each load: header fields and
//! the pointers they lead to never change while an instance lives and are
//! valid anywhere in the function ("fixed": readonly and movable, so Cranelift
//! shares them, hoists them out of loops and drops unused ones — the memory
//! base is loaded once, never reloaded after calls); fields of a `VMFuncRef`
//! taken from a table never change either, but are only valid after the null
//! check (readonly, not movable); table lengths and element pointers, mutable
//! globals and code pointers do change (plain loads, reloaded after calls);
//! the interrupt word is changed by other threads (an atomic load that is
//! never merged or hoisted).

use super::translate::Translator;
use super::{ir_type, user_trap, RUNTIME_TRAP};
use crate::code::{publish, CodeKind, CodeObject};
use crate::error::TrapCode;
use crate::types::FuncType;
use crate::vm::layout::*;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{
    self, AbiParam, AliasRegion, AliasRegionData, Function, InstBuilder, MemFlagsData, SigRef,
    Signature, Value,
};
use cranelift_codegen::ir::{ExtFuncData, ExternalName, UserExternalName, UserFuncName};
use cranelift_codegen::isa::{CallConv, OwnedTargetIsa};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use std::sync::{Arc, OnceLock};

/// The native signature of a wasm function type (see `crate::abi`).
pub(crate) fn wasm_signature(ty: &FuncType) -> Signature {
    let mut sig = Signature::new(CallConv::Tail);
    sig.params.push(AbiParam::new(I64)); // callee vmctx
    sig.params.push(AbiParam::new(I64)); // caller vmctx
    if ty.results().len() >= 2 {
        sig.params.push(AbiParam::new(I64)); // results area
    }
    sig.params
        .extend(ty.params().iter().map(|t| AbiParam::new(ir_type(*t))));
    if let [r] = ty.results() {
        sig.returns.push(AbiParam::new(ir_type(*r)));
    }
    sig
}

/// Alias regions: memory operations in different regions never alias.
#[derive(Clone, Copy)]
pub(crate) struct Regions {
    pub vmctx: AliasRegion,
    pub heap: AliasRegion,
    pub globals: AliasRegion,
    pub tables: AliasRegion,
}

impl Regions {
    pub fn new(func: &mut Function) -> Regions {
        let mut region = |user_id: u32, name: &'static str| {
            func.dfg.alias_regions.insert(AliasRegionData {
                user_id,
                description: name.into(),
            })
        };
        Regions {
            vmctx: region(1, "vmctx"),
            heap: region(2, "heap"),
            globals: region(3, "globals"),
            tables: region(4, "tables"),
        }
    }
}

impl Translator<'_, '_> {
    /// Flags of loads of values that never change, through pointers that are
    /// valid only where they are used (behind a null check).
    pub(crate) fn readonly(&self) -> MemFlagsData {
        MemFlagsData::trusted()
            .with_readonly()
            .with_alias_region(Some(self.regions.vmctx))
    }

    /// Flags of loads of values that never change, through pointers that are
    /// valid everywhere in the function (chains from the VMContext).
    pub(crate) fn fixed(&self) -> MemFlagsData {
        self.readonly().with_can_move()
    }

    /// Flags of runtime-owned cells that change (code pointers, table fields, globals).
    pub(crate) fn mutable(&self, region: AliasRegion) -> MemFlagsData {
        MemFlagsData::trusted().with_alias_region(Some(region))
    }

    /// Flags of linear-memory accesses: may fault (that is the bounds check).
    /// The trap code alternates between consecutive accesses (the parity of
    /// the access's index in `heap_offsets`), so `super::finish` can tell a
    /// load folded into the next access's address from that access.
    pub(crate) fn heap_flags(&self) -> MemFlagsData {
        let parity = self.heap_offsets.len().saturating_sub(1) % 2;
        MemFlagsData::new()
            .with_trap_code(Some(super::HEAP_TRAPS[parity]))
            .with_alias_region(Some(self.regions.heap))
    }

    /// A fixed 64-bit load of `[base + off]` (`base` reached from the VMContext).
    pub(crate) fn load_fixed(&mut self, base: Value, off: i32) -> Value {
        let flags = self.fixed();
        self.b.ins().load(I64, flags, base, off)
    }

    /// A field of the VMContext header.
    pub(crate) fn vmctx_field(&mut self, off: i32) -> Value {
        let vmctx = self.vmctx;
        self.load_fixed(vmctx, off)
    }

    /// `[vmctx[field] + 8 * index]`: an entry of a header array of pointers.
    fn vmctx_array_entry(&mut self, field: i32, index: u32) -> Result<Value, String> {
        let arr = self.vmctx_field(field);
        let off = i32::try_from(8 * index as u64).map_err(|_| "index too large".to_string())?;
        Ok(self.load_fixed(arr, off))
    }

    /// The `VMFuncRef` of function `f` (its address never changes).
    pub(crate) fn funcref(&mut self, f: u32) -> Result<Value, String> {
        self.vmctx_array_entry(VMCTX_FUNCREFS, f)
    }

    /// Address of global `g`'s 8-byte cell.
    pub(crate) fn global_addr(&mut self, g: u32) -> Result<Value, String> {
        self.vmctx_array_entry(VMCTX_GLOBALS, g)
    }

    /// The `VMTable` of table `t`.
    pub(crate) fn table_ptr(&mut self, t: u32) -> Result<Value, String> {
        self.vmctx_array_entry(VMCTX_TABLES, t)
    }

    /// The `VMMemory` of memory 0.
    pub(crate) fn vm_memory(&mut self) -> Value {
        self.vmctx_field(VMCTX_MEMORY)
    }

    /// The `VMMemory` of memory `mem` (its address never changes).
    pub(crate) fn vm_memory_at(&mut self, mem: u32) -> Result<Value, String> {
        self.vmctx_array_entry(VMCTX_MEMORIES, mem)
    }

    /// The memory base (it never moves; a fixed load, so it is not reloaded
    /// after calls and is hoisted out of loops).
    pub(crate) fn load_memory_base(&mut self) -> Value {
        let mem = self.vm_memory();
        self.load_fixed(mem, MEMORY_BASE)
    }

    /// The signature of module type `type_index`, imported once per function.
    pub(crate) fn sig_ref(&mut self, type_index: u32) -> SigRef {
        if let Some(s) = self.sig_refs.get(&type_index) {
            return *s;
        }
        let sig = wasm_signature(&self.module.types[type_index as usize]);
        let s = self.b.import_signature(sig);
        self.sig_refs.insert(type_index, s);
        s
    }

    /// Calls runtime builtin `b` with `(vmctx, args...)`; returns its u32 status/value.
    pub(crate) fn call_builtin(&mut self, b: Builtin, args: &[Value]) -> Value {
        let sig = match self.builtin_sigs[b as usize] {
            Some(s) => s,
            None => {
                let mut sig = Signature::new(CallConv::SystemV);
                sig.params.push(AbiParam::new(I64));
                for &a in args {
                    sig.params
                        .push(AbiParam::new(self.b.func.dfg.value_type(a)));
                }
                let ret = if b == Builtin::MemoryGrowAt { I64 } else { I32 };
                sig.returns.push(AbiParam::new(ret));
                let s = self.b.import_signature(sig);
                self.builtin_sigs[b as usize] = Some(s);
                s
            }
        };
        // Not movable: builtins are called on cold paths, and hoisting the
        // pointer out of a loop would only tie up a register.
        let flags = self.readonly();
        let vmctx = self.vmctx;
        let table = self.b.ins().load(I64, flags, vmctx, VMCTX_BUILTINS);
        let f = self.b.ins().load(I64, flags, table, 8 * b as i32);
        let mut all = Vec::with_capacity(args.len() + 1);
        all.push(self.vmctx);
        all.extend_from_slice(args);
        let call = self.b.ins().call_indirect(sig, f, &all);
        self.b.inst_results(call)[0]
    }

    /// Calls a builtin that returns non-zero after leaving a pending trap.
    pub(crate) fn call_builtin_checked(&mut self, b: Builtin, args: &[Value]) {
        let status = self.call_builtin(b, args);
        self.b.ins().trapnz(status, RUNTIME_TRAP);
    }

    /// The stack/interrupt check (V8's stack guard): `sp < limits.stack_limit`
    /// goes to a cold path that calls the runtime. At function entry a real
    /// overflow traps before anything is called.
    pub(crate) fn stack_check(&mut self, entry: bool) {
        let limits = self.vmctx_field(VMCTX_LIMITS);
        let limit_addr = if LIMITS_STACK_LIMIT == 0 {
            limits
        } else {
            self.b.ins().iadd_imm_u(limits, LIMITS_STACK_LIMIT as i64)
        };
        let limit = self
            .b
            .ins()
            .atomic_load(I64, MemFlagsData::trusted(), limit_addr);
        // At a loop header rsp is what it was at entry, so `sp < limit`
        // holds only while the word says "always fail" (`usize::MAX`, how
        // every interrupt and the stress setting trip it): compare with
        // that, so the stack pointer is not kept in a register (or a spill
        // slot, reloaded at every iteration) for the sake of the check.
        let sp = self.b.ins().get_stack_pointer(I64);
        let below = if entry {
            self.b.ins().icmp(IntCC::UnsignedLessThan, sp, limit)
        } else {
            self.b.ins().icmp_imm_s(IntCC::Equal, limit, -1)
        };
        let slow = self.b.create_block();
        let cont = self.b.create_block();
        self.b.ins().brif(below, slow, &[], cont, &[]);
        self.b.seal_block(slow);
        self.b.set_cold_block(slow);
        self.b.switch_to_block(slow);
        if entry {
            let off = std::mem::offset_of!(VMRuntimeLimits, real_stack_limit) as i32;
            let real = self.b.ins().load(I64, MemFlagsData::trusted(), limits, off);
            let overflow = self.b.ins().icmp(IntCC::UnsignedLessThan, sp, real);
            self.b
                .ins()
                .trapnz(overflow, user_trap(TrapCode::StackOverflow));
        }
        // The slow path calls a stub that preserves every register, so values
        // live across a loop stay in registers instead of being spilled for
        // the sake of a call that almost never happens.
        // A direct call (resolved in `finish`): its address is part of the
        // call sequence, so it is not hoisted into a register out of loops.
        let callee = match self.stub_ref {
            Some(f) => f,
            None => {
                let signature = self.b.import_signature(stub_signature());
                let name = self.b.func.declare_imported_user_function(STUB_NAME);
                let f = self.b.import_function(ExtFuncData {
                    name: ExternalName::user(name),
                    signature,
                    colocated: false,
                    patchable: false,
                });
                self.stub_ref = Some(f);
                f
            }
        };
        // The function, the check's offset and kind reach the runtime through
        // the record; only the VMContext is passed in a register. The
        // record's address is not passed either: the runtime finds it from
        // the caller's frame pointer and the stub's return address
        // (`OptFrame::record_below_fp`). An address argument made Cranelift
        // hoist the slot's `stack_addr` out of every loop and keep it live
        // (spilled and reloaded) across the hot path.
        let vmctx = self.vmctx;
        self.interrupt_state(entry);
        self.b.ins().call(callee, &[vmctx]);
        self.b.ins().jump(cont, &[]);
        self.b.seal_block(cont);
        self.b.switch_to_block(cont);
    }
}

impl Translator<'_, '_> {
    /// Writes the `interrupt_state` record of this check (the locals live
    /// here, then the operand stack; layout in `vm::layout`) into the
    /// function's one record slot. Emitted only on the cold path, so the
    /// values stay in registers on the hot one, and it names only values
    /// that are live here anyway.
    fn interrupt_state(&mut self, entry: bool) {
        use crate::vm::layout::interrupt_state::{
            record_words, tag, tag_words, CHECK_WORD, HEADER_WORDS, OFFSET_WORD,
        };
        let live = if entry {
            self.liveness.at_entry()
        } else {
            self.liveness.at_loop(self.offset)
        }
        .into_owned();
        let types = self.record_types(&live);
        // Values the loop's preheader wrote already (`preheader.rs`).
        let hoisted = self.take_hoisted(entry);
        let tags: Vec<u32> = types
            .iter()
            .enumerate()
            .map(|(k, &t)| tag(live.get(k).copied().unwrap_or(0), t))
            .collect();
        let n = tags.len();
        let slot = self.record_slot(record_words(&types));
        let base = self.b.ins().stack_addr(I64, slot, 0);
        let flags = MemFlagsData::trusted();
        let store_word = |t: &mut Self, word: u64, at: usize| {
            let c = t.b.ins().iconst(I64, word as i64);
            t.b.ins().store(flags, c, base, 8 * at as i32);
        };
        store_word(self, live.len() as u64 | (self.stack.len() as u64) << 32, 0);
        store_word(self, self.locals.len() as u64, 1);
        match self.retptr {
            Some(area) => {
                self.b.ins().store(flags, area, base, 16);
            }
            None => store_word(self, 0, 2),
        }
        // Kind bits (`runtime::osr`): optimized code, and the entry check.
        let kind = if entry { 1 | 4 } else { 1 };
        for (half, v) in [(0, self.func_index), (1, kind)] {
            let c = self.b.ins().iconst(I32, v as i64);
            let at = 8 * CHECK_WORD as i32 + 4 * half;
            self.b.ins().store(flags, c, base, at);
        }
        store_word(self, self.offset as u64, OFFSET_WORD);
        // Tags as 32-bit halves of their words: stores of 32-bit
        // immediates, so no 64-bit constant is materialized (and hoisted
        // into a register across the loop) for them.
        for (k, &t) in tags.iter().enumerate() {
            let c = self.b.ins().iconst(I32, t as i64);
            let at = 8 * HEADER_WORDS as i32 + 4 * k as i32;
            self.b.ins().store(flags, c, base, at);
        }
        if n % 2 == 1 {
            let c = self.b.ins().iconst(I32, 0);
            let at = 8 * HEADER_WORDS as i32 + 4 * n as i32;
            self.b.ins().store(flags, c, base, at);
        }
        // Values in tag order; a v128 takes two words (the slot is only
        // 8-aligned, so vectors are stored unaligned). A hoisted value is
        // not named here at all: naming it would make it a use in the loop.
        let unaligned = MemFlagsData::new().with_notrap();
        let mut at = HEADER_WORDS + tag_words(n);
        for (k, &t) in types.iter().enumerate() {
            if !hoisted.as_ref().is_some_and(|h| h[k]) {
                let v = match live.get(k) {
                    Some(&i) => self.b.use_var(self.locals[i as usize].0),
                    None => self.stack[k - live.len()],
                };
                let f = if t.is_v128() { unaligned } else { flags };
                self.b.ins().store(f, v, base, 8 * at as i32);
            }
            at += t.words();
        }
    }

    /// The function's record slot, grown to at least `words` words.
    pub(crate) fn record_slot(&mut self, words: usize) -> ir::StackSlot {
        let size = (8 * words) as u32;
        match self.record_slot {
            Some(s) => {
                let data = &mut self.b.func.sized_stack_slots[s];
                data.size = data.size.max(size);
                s
            }
            None => {
                let s = self
                    .b
                    .create_sized_stack_slot(ir::StackSlotData::new_with_key(
                        ir::StackSlotKind::ExplicitSlot,
                        size,
                        3,
                        ir::StackSlotKey::new(RECORD_SLOT_KEY),
                    ));
                self.record_slot = Some(s);
                s
            }
        }
    }
}

// ---- the stack-check stub ------------------------------------------------------

/// The name optimized code calls the stack-check stub by: the only external
/// function it names (`super::finish` resolves it).
pub(crate) const STUB_NAME: UserExternalName = UserExternalName {
    namespace: 2,
    index: 0,
};

/// The key of the function's one record slot (`record_slot`), by which
/// `super::finish` finds its place in the frame.
pub(crate) const RECORD_SLOT_KEY: u64 = 0x7265_636f_7264;

/// `(vmctx)`, preserving every register, no result.
fn stub_signature() -> Signature {
    let mut sig = Signature::new(CallConv::PreserveAll);
    sig.params.push(AbiParam::new(I64));
    sig
}

static STUB: OnceLock<Result<Arc<CodeObject>, String>> = OnceLock::new();

/// Address of the process-wide stack-check stub: it calls
/// `Builtin::StackCheckOptimized` of the caller's VMContext with the
/// caller's frame pointer (saved by the stub's own prologue) and the
/// stub's return address, by which the runtime finds the caller's record;
/// when that reports a pending trap, the stub traps itself (a trap site with
/// no code: the runtime reads the pending trap; the backtrace names the wasm
/// caller). Compiled once with Cranelift in the `preserve_all` convention
/// and published as a trampoline.
pub(crate) fn stack_check_stub(isa: &OwnedTargetIsa) -> crate::Result<usize> {
    let obj = STUB.get_or_init(|| {
        let mut func = Function::with_name_signature(UserFuncName::user(1, 0), stub_signature());
        let mut fctx = FunctionBuilderContext::new();
        let mut b = FunctionBuilder::new(&mut func, &mut fctx);
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        b.seal_block(entry);
        let vmctx = b.block_params(entry)[0];
        let flags = MemFlagsData::trusted().with_readonly();
        let table = b.ins().load(I64, flags, vmctx, VMCTX_BUILTINS);
        let f = b
            .ins()
            .load(I64, flags, table, 8 * Builtin::StackCheckOptimized as i32);
        // The stub's prologue saved the caller's frame pointer at [rbp],
        // and above it is the return address into the caller.
        let own_fp = b.ins().get_frame_pointer(I64);
        let fp = b.ins().load(I64, flags, own_fp, 0);
        let ret = b.ins().load(I64, flags, own_fp, 8);
        let mut sig = Signature::new(CallConv::SystemV);
        for _ in 0..3 {
            sig.params.push(AbiParam::new(I64));
        }
        sig.returns.push(AbiParam::new(I32));
        let sig = b.import_signature(sig);
        let call = b.ins().call_indirect(sig, f, &[vmctx, fp, ret]);
        let status = b.inst_results(call)[0];
        b.ins().trapnz(status, RUNTIME_TRAP);
        b.ins().return_(&[]);
        b.finalize(isa.frontend_config());
        let mut ctx = Context::for_function(func);
        let code = ctx
            .compile(&**isa, &mut ControlPlane::default())
            .map_err(|e| format!("compiling the stack-check stub: {:?}", e.inner))?;
        let code = super::finish(code, u32::MAX, 0, &[]).map_err(|e| e.to_string())?;
        publish(CodeKind::Trampoline, 0, vec![(u32::MAX, code)]).map_err(|e| e.to_string())
    });
    match obj {
        Ok(o) => Ok(o.func_ptr(0) as usize),
        Err(e) => Err(crate::Error::Internal(e.clone())),
    }
}
