//! The optimizing tier: wasm operators → Cranelift IR (with cranelift-frontend)
//! → machine code, producing the same [`FuncCode`] the baseline produces.
//!
//! Layout of the tier:
//! - `mod.rs` (here): the entry point, the per-thread translator context,
//!   the host ISA, and turning Cranelift's output (trap records, source
//!   locations) into wdb's trap sites and offset map;
//! - `env.rs`: everything that knows the VMContext layout (loads of header
//!   fields, signatures, builtin calls, the stack/interrupt check and its
//!   state record) — the one seam between IR building and the runtime;
//! - `liveness.rs`: which locals are live at each interrupt check;
//! - `preheader.rs`: record values written once before an innermost loop;
//! - `translate.rs`: the operator match and the numeric operators;
//! - `control.rs`: blocks, loops, ifs, branches, returns and calls;
//! - `memory.rs`: linear-memory and table operators;
//! - `simd.rs`: the 128-bit vector operators (SIMD and relaxed SIMD).
//!
//! Invariants kept here:
//! - Code follows the one calling convention of `vm::layout` (System V, callee
//!   VMContext, caller VMContext, results pointer for two or more results,
//!   then the wasm parameters), so either tier calls either tier.
//! - Every wasm operator sets the source location to its module byte offset;
//!   the offset map and trap sites are built from those locations, so traps,
//!   backtraces and samples in optimized code name wasm offsets.
//! - Linear-memory accesses carry no bounds checks: a fault at a wasm pc
//!   without a trap site is `MemoryOutOfBounds` at that pc's wasm offset.
//!   x64 isel folds a plain load into the instruction that uses its value
//!   (which carries the user's offset); `finish` gives such an instruction
//!   a trap site naming the load's own offset, so trap offsets stay exact.
//!   A store is followed by a barrier (`sequence_point`): Cranelift's
//!   dead-store elimination would otherwise remove a store that a later
//!   store to the same address overwrites, and the fault would name the
//!   later store.
//! - Function entries and loop headers check the stack/interrupt limit; the
//!   cold path calls a stub that preserves every register (`env.rs`), so the
//!   check does not force loop values out of registers. The cold path writes
//!   the check's state record (`vm::layout::interrupt_state`) into one stack
//!   slot per function, with only the locals live there: a check neither
//!   grows the frame nor keeps dead locals alive.

mod control;
mod env;
mod exceptions;
mod funcref;
mod guard;
pub(crate) mod liveness;
mod memidx;
mod memory;
mod osr_entry;
mod preheader;
mod simd;
mod translate;

pub use guard::too_large_to_optimize;

use crate::code::{FuncCode, OptFrame, TrapSite};
use crate::error::{Error, Result, TrapCode};
use crate::module::ModuleInfo;
use crate::types::ValType;
use cranelift_codegen::binemit::Reloc;
use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir::{self, SourceLoc, UserFuncName};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};
use cranelift_codegen::{Context, FinalizedRelocTarget};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use std::cell::RefCell;
use std::sync::OnceLock;
use translate::Translator;
use wasmparser::{FuncValidator, ValidatorResources};

/// Trap code of a `trap` that reports the trap the runtime left pending
/// (after a builtin returned failure): its trap site has `code: None`.
const RUNTIME_TRAP: ir::TrapCode = ir::TrapCode::unwrap_user(200);

/// Trap codes of linear-memory accesses, by the parity of the access's
/// index among the function's accesses (see `finish`).
const HEAP_TRAPS: [ir::TrapCode; 2] = [
    ir::TrapCode::unwrap_user(201),
    ir::TrapCode::unwrap_user(202),
];

/// The Cranelift trap code for a wasm trap: user codes are wdb's own codes.
fn user_trap(code: TrapCode) -> ir::TrapCode {
    ir::TrapCode::unwrap_user(code as u8)
}

/// What a Cranelift trap record means for wdb: `None` = not recorded (heap
/// accesses: a fault without a trap site is already `MemoryOutOfBounds`).
fn map_trap(code: ir::TrapCode) -> Option<Option<TrapCode>> {
    Some(Some(match code {
        ir::TrapCode::HEAP_OUT_OF_BOUNDS => return None,
        ir::TrapCode::STACK_OVERFLOW => TrapCode::StackOverflow,
        ir::TrapCode::INTEGER_OVERFLOW => TrapCode::IntegerOverflow,
        ir::TrapCode::INTEGER_DIVISION_BY_ZERO => TrapCode::IntegerDivideByZero,
        ir::TrapCode::BAD_CONVERSION_TO_INTEGER => TrapCode::BadConversionToInteger,
        RUNTIME_TRAP => return Some(None),
        other => TrapCode::from_u8(other.as_raw().get())?,
    }))
}

/// The Cranelift type of a wasm value type (references are 64-bit pointers).
fn ir_type(t: ValType) -> ir::Type {
    match t {
        ValType::I32 => ir::types::I32,
        ValType::I64 | ValType::FuncRef | ValType::ExternRef | ValType::ExnRef => ir::types::I64,
        ValType::F32 => ir::types::F32,
        ValType::F64 => ir::types::F64,
        ValType::V128 => ir::types::I8X16,
    }
}

/// The ISA with the IR verifier (index 1) and without (index 0).
static ISA: [OnceLock<std::result::Result<OwnedTargetIsa, String>>; 2] =
    [OnceLock::new(), OnceLock::new()];

/// Largest body (bytes) that debug builds run Cranelift's IR verifier on.
/// The verifier checks what the translator builds, and small functions (the
/// spec suite, the fuzzer, unit tests) exercise every path of it; on the
/// megabyte `-O0` functions of real programs it would take a large share of
/// the compile time (release builds never verify, as Wasmtime does not).
const VERIFY_MAX_BODY: usize = 16 << 10;

/// Whether a function body of `len` bytes is verified.
fn verify(len: usize) -> bool {
    cfg!(debug_assertions) && len <= VERIFY_MAX_BODY
}

/// The host ISA with wdb's flags: frame pointers kept (stack walks), no stack
/// probes (the prologue check guards the stack). Unwind records are kept
/// only to learn where each prologue saves callee-saved registers
/// ([`opt_frame`], for on-stack replacement); traps unwind by the saved
/// activation, not by tables. `verify`: run the IR verifier.
fn isa(verify: bool) -> Result<&'static OwnedTargetIsa> {
    let isa = ISA[verify as usize].get_or_init(|| {
        let mut flags = settings::builder();
        for (k, v) in [
            ("opt_level", "speed"),
            ("preserve_frame_pointers", "true"),
            ("enable_probestack", "false"),
            ("unwind_info", "true"),
            ("enable_verifier", if verify { "true" } else { "false" }),
        ] {
            flags
                .set(k, v)
                .map_err(|e| format!("cranelift flag {k}: {e}"))?;
        }
        let builder = cranelift_native::builder().map_err(|e| e.to_string())?;
        builder
            .finish(settings::Flags::new(flags))
            .map_err(|e| e.to_string())
    });
    isa.as_ref()
        .map_err(|e| Error::Internal(format!("cannot set up the optimizing compiler: {e}")))
}

/// Reused by every function a thread compiles.
struct Contexts {
    fctx: FunctionBuilderContext,
    ctx: Context,
}

thread_local! {
    static CONTEXTS: RefCell<Option<Contexts>> = const { RefCell::new(None) };
}

/// Compiles function `func_index` of `module` with Cranelift. With a
/// validator, the body is validated in the same pass. Errors follow the
/// baseline's conventions: invalid code is `Error::Invalid` with its byte
/// offset, unsupported code `Error::Compile`.
pub fn compile_function(
    module: &ModuleInfo,
    sig_ids: &[u32],
    func_index: u32,
    validator: Option<FuncValidator<ValidatorResources>>,
) -> Result<FuncCode> {
    compile_variant(module, sig_ids, func_index, validator, None)
}

/// The OSR entry of function `func_index` for its loop at module offset
/// `loop_offset` (see `osr_entry`): a variant of the function that starts
/// at that loop header from a baseline frame's locals.
pub fn compile_osr_entry(
    module: &ModuleInfo,
    sig_ids: &[u32],
    func_index: u32,
    loop_offset: u32,
) -> Result<FuncCode> {
    compile_variant(module, sig_ids, func_index, None, Some(loop_offset))
}

fn compile_variant(
    module: &ModuleInfo,
    sig_ids: &[u32],
    func_index: u32,
    validator: Option<FuncValidator<ValidatorResources>>,
    osr: Option<u32>,
) -> Result<FuncCode> {
    let len = module.body(func_index).map_or(0, |b| b.range.len());
    let isa = isa(verify(len))?;
    let mut cx = CONTEXTS
        .with(|c| c.borrow_mut().take())
        .unwrap_or_else(|| Contexts {
            fctx: FunctionBuilderContext::new(),
            ctx: Context::new(),
        });
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        compile_with(&mut cx, isa, module, sig_ids, func_index, validator, osr)
    }));
    match run {
        Ok(res) => {
            if res.is_err() {
                // A failed translation leaves the builder context half-used.
                cx.fctx = FunctionBuilderContext::new();
            }
            CONTEXTS.with(|c| *c.borrow_mut() = Some(cx));
            res
        }
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .map(|s| s.as_str())
                .or_else(|| p.downcast_ref::<&str>().copied())
                .unwrap_or("panic");
            Err(Error::Internal(format!(
                "optimizing compiler failed on function {func_index}: {msg}"
            )))
        }
    }
}

// Why translation stopped: the body error both tiers share.
use crate::module::BodyError as Failure;

fn compile_with(
    cx: &mut Contexts,
    isa: &OwnedTargetIsa,
    module: &ModuleInfo,
    sig_ids: &[u32],
    func_index: u32,
    validator: Option<FuncValidator<ValidatorResources>>,
    osr: Option<u32>,
) -> Result<FuncCode> {
    let body = module
        .body(func_index)
        .ok_or_else(|| Error::Internal(format!("no body for function {func_index}")))?;
    let ty = module.func_type(func_index).clone();
    cx.ctx.clear();
    cx.ctx.func.signature = env::wasm_signature(&ty);
    cx.ctx.func.name = UserFuncName::user(0, func_index);
    let builder = FunctionBuilder::new(&mut cx.ctx.func, &mut cx.fctx);
    let heap = translate_body(
        builder,
        isa,
        module,
        sig_ids,
        func_index,
        body.range.clone(),
        validator,
        osr,
    )
    .map_err(|f| f.into_error(func_index))?;
    let code = cx
        .ctx
        .compile(&**isa, &mut ControlPlane::default())
        .map_err(|e| Error::Compile {
            func: func_index,
            offset: body.range.start,
            message: format!("cranelift: {:?}", e.inner),
        })?;
    finish(code, func_index, env::stack_check_stub(isa)?, &heap)
}

#[allow(clippy::too_many_arguments)]
fn translate_body(
    builder: FunctionBuilder<'_>,
    isa: &OwnedTargetIsa,
    module: &ModuleInfo,
    sig_ids: &[u32],
    func_index: u32,
    range: std::ops::Range<usize>,
    mut validator: Option<FuncValidator<ValidatorResources>>,
    osr: Option<u32>,
) -> std::result::Result<Vec<u32>, Failure> {
    let ty = module.func_type(func_index).clone();
    let crate::module::FuncBodyReader {
        locals, mut ops, ..
    } = module.read_body(func_index, validator.as_mut())?;
    // The locals each interrupt check records (a second, unvalidated read of
    // the operators; the validating pass below reports bad bodies).
    let live = match module.read_body(func_index, None) {
        Ok(pre) => liveness::analyze(pre.ops, pre.locals.len()),
        Err(_) => liveness::Liveness::everything(locals.len()),
    };
    let mut t = Translator::new(
        builder,
        module,
        sig_ids,
        ty,
        &locals,
        live,
        func_index,
        range.start as u32,
    );
    if osr.is_none() {
        t.entry_check();
    }
    if let Some(at) = osr {
        t.begin_osr_entry(at)
            .map_err(|message| Failure::Unsupported {
                offset: at as usize,
                message,
            })?;
    }
    let mut last = range.start;
    while !ops.eof() {
        let (op, offset) = ops.read_with_offset()?;
        let offset = offset as usize;
        last = offset;
        if let Some(v) = validator.as_mut() {
            v.op(offset as u64, &op)?;
        }
        t.visit(&op, offset as u32)
            .map_err(|message| Failure::Unsupported { offset, message })?;
    }
    ops.finish()?;
    t.end_osr_entry().map_err(|message| Failure::Unsupported {
        offset: last,
        message,
    })?;
    let heap = std::mem::take(&mut t.heap_offsets);
    t.finalize(isa.frontend_config())
        .map_err(|message| Failure::Unsupported {
            offset: last,
            message,
        })?;
    Ok(heap)
}

/// Copies the machine code out, resolves the calls to the stack-check stub
/// (at `stub`), and turns Cranelift's metadata into wdb's. `heap`: module
/// offsets of the function's linear-memory accesses, ascending.
pub(crate) fn finish(
    code: &cranelift_codegen::CompiledCode,
    func_index: u32,
    stub: usize,
    heap: &[u32],
) -> Result<FuncCode> {
    let buf = &code.buffer;
    let mut bytes = buf.data().to_vec();
    for r in buf.relocs() {
        // The stub is the only external function optimized code names.
        let is_stub = matches!(
            &r.target,
            FinalizedRelocTarget::ExternalName(ir::ExternalName::User(_))
        );
        if !is_stub || r.kind != Reloc::Abs8 {
            return Err(Error::Internal(format!(
                "function {func_index}: unexpected relocation {:?}",
                r.kind
            )));
        }
        let at = r.offset as usize;
        let value = (stub as i64).wrapping_add(r.addend) as u64;
        bytes[at..at + 8].copy_from_slice(&value.to_le_bytes());
    }
    let offset_map = offset_map(buf.get_srclocs_sorted(), bytes.len() as u32);
    let wasm_at = |native: u32| -> u32 {
        let i = offset_map.partition_point(|&(n, _)| n <= native);
        offset_map.get(i.saturating_sub(1)).map_or(0, |&(_, w)| w)
    };
    let mut traps: Vec<TrapSite> = buf
        .traps()
        .iter()
        .filter_map(|t| {
            let code = map_trap(t.code)?;
            Some(TrapSite {
                native: t.offset,
                code,
                wasm_offset: wasm_at(t.offset),
            })
        })
        .collect();
    // A linear-memory access that faults: when isel folded the load into
    // the instruction using its value, that instruction carries the user's
    // wasm offset. Folding needs the load and its user in one block with no
    // side effect (every access is one) between them, and the translator
    // emits operators in order, so no access lies between the load and the
    // user's operator; that operator may itself be the next access (the load
    // feeds its address). The access is thus the last one at or before the
    // user's offset with the parity its trap code names. These sites come
    // after the others, so a pc with two records keeps the other code
    // (divisors are never folded).
    let heap_sites = buf.traps().iter().filter_map(|t| {
        let parity = HEAP_TRAPS.iter().position(|&c| c == t.code)?;
        let user = wasm_at(t.offset);
        let mut k = heap.partition_point(|&o| o <= user).checked_sub(1)?;
        if k % 2 != parity {
            k = k.checked_sub(1)?;
        }
        let own = heap[k];
        (own != user).then_some(TrapSite {
            native: t.offset,
            code: Some(TrapCode::MemoryOutOfBounds),
            wasm_offset: own,
        })
    });
    traps.extend(heap_sites.collect::<Vec<_>>());
    traps.sort_by_key(|t| t.native);
    traps.dedup_by_key(|t| t.native);
    Ok(FuncCode {
        bytes,
        offset_map,
        traps,
        debug: None,
        checks: Default::default(),
        opt_frame: Some(opt_frame(buf)),
        handlers: handler_sites(buf),
        osr_loop: None,
    })
}

/// The frame size and the callee-saved registers' slots, from Cranelift's
/// frame layout and its unwind records (on-stack replacement reads them).
fn opt_frame(buf: &cranelift_codegen::MachBufferFinalized<cranelift_codegen::Final>) -> OptFrame {
    use cranelift_codegen::isa::unwind::UnwindInst;
    let sp_to_fp = buf.frame_layout().map_or(0, |l| l.frame_to_fp_offset);
    let mut down = 0i32;
    let mut saved = Vec::new();
    let mut grows_incoming = false;
    for (_, u) in &buf.unwind_info {
        match u {
            UnwindInst::DefineNewFrame {
                offset_downward_to_clobbers,
                offset_upward_to_caller_sp,
            } => {
                down = *offset_downward_to_clobbers as i32;
                // The setup area is the return address and saved rbp; more
                // means the incoming area was grown.
                grows_incoming = *offset_upward_to_caller_sp != 16;
            }
            UnwindInst::SaveReg {
                clobber_offset,
                reg,
            } if reg.class() == cranelift_codegen::RegClass::Int => {
                saved.push((reg.hw_enc(), *clobber_offset as i32 - down));
            }
            _ => {}
        }
    }
    // `fp - record`: Cranelift gives the slot's offset from the bottom of
    // the frame (sp in the body) and sp's distance below fp.
    let record_below_fp = buf.frame_layout().and_then(|l| {
        let key = ir::StackSlotKey::new(env::RECORD_SLOT_KEY);
        l.stackslots
            .values()
            .find(|s| s.key == Some(key))
            .map(|s| l.frame_to_fp_offset - s.offset)
    });
    OptFrame {
        sp_to_fp,
        saved,
        grows_incoming,
        record_below_fp,
    }
}

/// The offset map of optimized code from Cranelift's source-location ranges:
/// one entry where each wasm instruction's code starts. Code with no wasm
/// origin of its own (register moves, spills, the epilogue's tail, the
/// constant pool; any range without a location or not covered by one) gets
/// an entry that repeats the previous entry's wasm offset, so lookups
/// attribute it to the instruction before it, as ever, and
/// `debugger::machine_code` can show it marked. The invariants that encode
/// this: a real entry never repeats its predecessor's offset (consecutive
/// ranges of one instruction merge, and so does a gap between two of them),
/// and the prologue, before the first entry, gets none.
fn offset_map(
    srclocs: &[cranelift_codegen::MachSrcLoc<cranelift_codegen::Final>],
    len: u32,
) -> Vec<(u32, u32)> {
    let mut map: Vec<(u32, u32)> = Vec::new();
    // Whether the last entry starts code without an origin.
    let mut in_gap = false;
    let gap = |map: &mut Vec<(u32, u32)>, in_gap: &mut bool, at: u32| {
        if let Some(&(_, w)) = map.last() {
            if !*in_gap && at < len {
                map.push((at, w));
                *in_gap = true;
            }
        }
    };
    let mut covered = 0;
    for s in srclocs {
        if s.start == s.end {
            continue;
        }
        if s.start > covered {
            gap(&mut map, &mut in_gap, covered);
        }
        covered = covered.max(s.end);
        if s.loc.is_default() {
            gap(&mut map, &mut in_gap, s.start);
            continue;
        }
        let w = s.loc.bits();
        if in_gap && map.len() >= 2 && map[map.len() - 2].1 == w {
            // A gap between two ranges of one instruction is that instruction's.
            map.pop();
            in_gap = false;
            continue;
        }
        match map.last_mut() {
            Some(last) if last.0 == s.start => {
                last.1 = w;
                in_gap = false;
            }
            Some(last) if !in_gap && last.1 == w => {}
            _ => {
                map.push((s.start, w));
                in_gap = false;
            }
        }
    }
    if covered < len {
        gap(&mut map, &mut in_gap, covered);
    }
    map
}

/// The source location of a module byte offset.
fn srcloc(offset: u32) -> SourceLoc {
    SourceLoc::new(offset)
}

/// The call sites with an exception handler (`try_call`s inside a `try`
/// region): each has one catch-all handler block, whose code picks the clause.
fn handler_sites(
    buf: &cranelift_codegen::MachBufferFinalized<cranelift_codegen::Final>,
) -> Vec<crate::code::HandlerSite> {
    use cranelift_codegen::FinalizedMachExceptionHandler as H;
    let mut sites: Vec<crate::code::HandlerSite> = buf
        .call_sites()
        .filter_map(|c| {
            let landing = c.exception_handlers.iter().find_map(|h| match h {
                H::Default(off) => Some(*off),
                _ => None,
            })?;
            Some(crate::code::HandlerSite {
                ret: c.ret_addr,
                landing,
                sp_to_fp: c.frame_offset?,
            })
        })
        .collect();
    sites.sort_by_key(|h| h.ret);
    sites
}
