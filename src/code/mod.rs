//! Executable code: publishing machine code W^X, and the process-wide code
//! registry that maps a native pc to (function, tier, wasm offset).
//!
//! Code memory is written while it is only readable and writable, then turned
//! read+execute; it is never writable and executable at once. The registry is
//! consulted by the signal handler, so lookups take no lock, allocate nothing
//! and never drop a code object (see [`registry`]).

mod registry;

mod debug_table;

pub use debug_table::{DebugSideTable, StackRecorder, TableBuffers};

use crate::error::TrapCode;
use memmap2::Mmap;
use std::sync::{Arc, RwLock};

/// Which compiler made a piece of code. The discriminant is the tier's one
/// byte encoding (atomics, per-tier arrays): `tier as usize` indexes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Tier {
    Baseline = 0,
    /// Baseline code compiled in debug mode.
    Debug = 1,
    Optimized = 2,
}

impl Tier {
    /// Every tier, in encoding order.
    pub const ALL: [Tier; 3] = [Tier::Baseline, Tier::Debug, Tier::Optimized];

    /// The tier encoded as `v` (see the type's doc).
    pub fn from_u8(v: u8) -> Option<Tier> {
        Tier::ALL.get(v as usize).copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            Tier::Baseline => "baseline",
            Tier::Debug => "baseline·debug",
            Tier::Optimized => "optimized",
        }
    }
}

/// A trap site: the native offset of a trapping instruction and what it means.
#[derive(Debug, Clone, Copy)]
pub struct TrapSite {
    pub native: u32,
    /// None: the trap was raised by the runtime and waits in the activation.
    pub code: Option<TrapCode>,
    pub wasm_offset: u32,
}

/// Where a value lives at a breakable position of debug code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueLoc {
    /// General-purpose register by hardware number (0 = rax … 15 = r15).
    Gpr(u8),
    /// Xmm register by number.
    Xmm(u8),
    /// Frame slot at `rbp + offset`.
    Frame(i32),
    /// A constant (raw bits).
    Const(u64),
    /// An i32 boolean still in the CPU flags (a compare fused into the
    /// following `br_if`/`if`): x86 condition code `cc` (the `tttn` nibble of
    /// `jcc`) evaluated on the flags the debug stub saved.
    Flags(u8),
}

/// Evaluates x86 condition code `cc` on an RFLAGS value.
pub fn eval_condition(cc: u8, rflags: u64) -> bool {
    let f = |bit: u32| rflags >> bit & 1 == 1;
    let (cf, pf, zf, sf, of) = (f(0), f(2), f(6), f(7), f(11));
    let base = match cc >> 1 {
        0 => of,
        1 => cf,
        2 => zf,
        3 => cf || zf,
        4 => sf,
        5 => pf,
        6 => sf != of,
        _ => zf || sf != of,
    };
    base != (cc & 1 == 1)
}

/// A call site of baseline code: (wasm offset, native offset, operand stack
/// at the call); see [`CheckTable::calls`].
pub type CallSite = (u32, u32, Vec<(crate::types::ValType, ValueLoc)>);

/// Where locals and operand-stack values live at the interrupt checks of
/// baseline code, so that a pause there shows them even in code compiled
/// without debug support.
#[derive(Debug, Clone, Default)]
pub struct CheckTable {
    /// At function entry: parameters where the caller put them (registers the
    /// check's slow path saved, or argument slots), the other locals zero.
    pub entry_locals: Vec<(crate::types::ValType, ValueLoc)>,
    /// At loop headers: every local in its frame slot.
    pub locals: Vec<(crate::types::ValType, ValueLoc)>,
    /// Loop-header checks: wasm offset and the operand stack there.
    pub loops: Vec<(u32, Vec<(crate::types::ValType, ValueLoc)>)>,
    /// Bytes the prologue reserves below the saved r15/r14 (`sub rsp, N`).
    /// Plain baseline and debug code of one function reserve the same, so a
    /// frame can move between them at a check (on-stack replacement).
    pub frame_size: u32,
    /// Native offset, in the function, of the instruction right after the
    /// entry check's call into the runtime (where an on-stack replacement
    /// resumes: the save area is restored from there on).
    pub entry_resume: Option<u32>,
    /// The same for each loop-header check: (wasm offset, native offset).
    pub loop_resume: Vec<(u32, u32)>,
    /// Wasm-to-wasm call sites, in code order: (wasm offset, native offset,
    /// operand stack at the call). Plain code: the call's return address;
    /// debug code: where a frame that made the call in plain code continues
    /// when the call returns (it takes over the caller's r13, see
    /// `runtime::osr_return`). Both codes keep the stack in the same places.
    pub calls: Vec<CallSite>,
}

impl CheckTable {
    /// Where the check at `wasm_offset` (the entry check when `entry`)
    /// resumes after its runtime call.
    pub fn resume_at(&self, wasm_offset: u32, entry: bool) -> Option<u32> {
        if entry {
            return self.entry_resume;
        }
        self.loop_resume
            .iter()
            .find(|(w, _)| *w == wasm_offset)
            .map(|&(_, n)| n)
    }

    /// The call site at `wasm_offset`: (native offset, operand stack).
    pub fn call_at(&self, wasm_offset: u32) -> Option<(u32, &[(crate::types::ValType, ValueLoc)])> {
        self.calls
            .iter()
            .find(|(w, _, _)| *w == wasm_offset)
            .map(|(_, n, s)| (*n, &s[..]))
    }

    /// The operand stack at the loop-header check at `wasm_offset`.
    pub fn loop_stack(&self, wasm_offset: u32) -> Option<&[(crate::types::ValType, ValueLoc)]> {
        self.loops
            .iter()
            .find(|(w, _)| *w == wasm_offset)
            .map(|(_, s)| &s[..])
    }
}

/// What the runtime needs to know about an optimized function's frame to
/// take it apart at an interrupt check (on-stack replacement): its size and
/// where its prologue saved the caller's callee-saved registers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptFrame {
    /// `fp - sp` in the body (Cranelift keeps `sp` fixed after the prologue).
    pub sp_to_fp: u32,
    /// (hardware register number, offset from fp) of each saved register.
    pub saved: Vec<(u8, i32)>,
    /// True when the prologue grew the incoming stack-argument area (for
    /// tail calls that need more): the frame then does not have the shape
    /// of a baseline frame above `fp`, and stays optimized.
    pub grows_incoming: bool,
    /// `fp - record` of the function's `interrupt_state` record slot (see
    /// `vm::layout::interrupt_state`), if it has one: the check stub finds
    /// the record by it.
    pub record_below_fp: Option<u32>,
}

/// A call site inside a `try` region (exception handling): an exception
/// thrown by the callee (or by the throw the call is) resumes at `landing`
/// with `rsp = fp - sp_to_fp`, `rax` = the exnref and the callee-saved
/// registers as they were at the call; the code there picks the catch clause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandlerSite {
    /// Native offset of the call's return address.
    pub ret: u32,
    pub landing: u32,
    pub sp_to_fp: u32,
}

/// Machine code of one function plus its metadata, before publishing.
#[derive(Debug, Clone, Default)]
pub struct FuncCode {
    pub bytes: Vec<u8>,
    /// (native offset, wasm module offset), one entry per instruction, sorted.
    pub offset_map: Vec<(u32, u32)>,
    pub traps: Vec<TrapSite>,
    pub debug: Option<DebugSideTable>,
    /// Baseline code: the state at its interrupt checks.
    pub checks: CheckTable,
    /// Optimized code: its frame (None for other code).
    pub opt_frame: Option<OptFrame>,
    /// Call sites with an exception handler, sorted by `ret`.
    pub handlers: Vec<HandlerSite>,
    /// An OSR entry (optimized code entered mid-call at a loop header, see
    /// `optimizing::osr_entry`): the wasm offset of its loop.
    pub osr_loop: Option<u32>,
}

/// A published function inside a [`CodeObject`].
#[derive(Debug)]
pub struct PublishedFunc {
    pub func_index: u32,
    pub start: usize,
    pub len: usize,
    pub offset_map: Vec<(u32, u32)>,
    pub traps: Vec<TrapSite>,
    pub debug: Option<DebugSideTable>,
    /// Baseline code: the state at its interrupt checks.
    pub checks: CheckTable,
    /// Optimized code: its frame.
    pub opt_frame: Option<OptFrame>,
    /// Call sites with an exception handler, sorted by `ret`.
    pub handlers: Vec<HandlerSite>,
    /// An OSR entry: the wasm offset of its loop.
    pub osr_loop: Option<u32>,
    /// Which compiler made this function (a mixed module's first object
    /// holds functions of both tiers under one label).
    pub tier: Tier,
}

/// Which code a function's machine code is, as the debugger and profiler
/// label it per frame: a tier, or an OSR entry (optimized code that a
/// baseline frame moved into at a loop header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodeLabel {
    Tier(Tier),
    Osr,
}

impl CodeLabel {
    pub fn name(self) -> &'static str {
        match self {
            CodeLabel::Tier(t) => t.name(),
            CodeLabel::Osr => "osr",
        }
    }

    /// The tier whose compiler made the code.
    pub fn tier(self) -> Tier {
        match self {
            CodeLabel::Tier(t) => t,
            CodeLabel::Osr => Tier::Optimized,
        }
    }
}

impl PublishedFunc {
    /// What this code is, per frame (see [`CodeLabel`]).
    pub fn label(&self) -> CodeLabel {
        match self.osr_loop {
            Some(_) => CodeLabel::Osr,
            None => CodeLabel::Tier(self.tier),
        }
    }

    pub fn wasm_offset_at(&self, native: u32) -> Option<u32> {
        let i = self.offset_map.partition_point(|&(n, _)| n <= native);
        if i == 0 {
            return self.offset_map.first().map(|&(_, w)| w);
        }
        Some(self.offset_map[i - 1].1)
    }

    /// The handler of the call whose return address is at `native`.
    pub fn handler_at(&self, native: u32) -> Option<&HandlerSite> {
        let i = self.handlers.partition_point(|h| h.ret < native);
        self.handlers.get(i).filter(|h| h.ret == native)
    }

    pub fn trap_at(&self, native: u32) -> Option<&TrapSite> {
        let i = self.traps.partition_point(|t| t.native < native);
        self.traps.get(i).filter(|t| t.native == native)
    }
}

/// What a code object holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    /// Wasm functions of one module instance family, in one tier.
    Wasm(Tier),
    /// Entry and host trampolines.
    Trampoline,
}

/// A published, executable region.
pub struct CodeObject {
    map: Mmap,
    pub kind: CodeKind,
    /// Identity of the module the code was compiled from (0 for trampolines).
    pub module_id: u64,
    /// Sorted by start.
    pub funcs: Vec<PublishedFunc>,
}

impl CodeObject {
    pub fn start(&self) -> usize {
        self.map.as_ptr() as usize
    }

    pub fn end(&self) -> usize {
        self.start() + self.map.len()
    }

    pub fn func_ptr(&self, i: usize) -> *const u8 {
        (self.start() + self.funcs[i].start) as *const u8
    }

    pub fn func_at(&self, pc: usize) -> Option<&PublishedFunc> {
        let off = pc.checked_sub(self.start())?;
        let i = self.funcs.partition_point(|f| f.start <= off);
        let f = self.funcs.get(i.checked_sub(1)?)?;
        (off < f.start + f.len).then_some(f)
    }

    pub fn code_len(&self) -> usize {
        self.map.len()
    }

    /// The machine code of `f`, one of this object's functions (for disassembly).
    pub fn func_bytes(&self, f: &PublishedFunc) -> &[u8] {
        self.map.get(f.start..f.start + f.len).unwrap_or(&[])
    }
}

/// Bytes of executable code currently mapped (all code objects).
static LIVE_CODE_BYTES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Bytes of executable code currently mapped, process-wide.
pub fn live_code_bytes() -> usize {
    LIVE_CODE_BYTES.load(std::sync::atomic::Ordering::SeqCst)
}

impl Drop for CodeObject {
    fn drop(&mut self) {
        LIVE_CODE_BYTES.fetch_sub(self.map.len(), std::sync::atomic::Ordering::SeqCst);
        // Unregistering waits until no lookup can still see this object, so
        // the memory below is unmapped only after the last reader is done.
        registry::remove(self.start());
    }
}

/// Functions called with every code object right after it is published
/// (the perf map registers one when it is turned on). A hook must not publish.
static PUBLISH_HOOKS: RwLock<Vec<fn(&CodeObject)>> = RwLock::new(Vec::new());

/// Calls `hook` with every code object published from now on.
pub fn add_publish_hook(hook: fn(&CodeObject)) {
    let mut hooks = PUBLISH_HOOKS.write().unwrap_or_else(|e| e.into_inner());
    if !hooks.iter().any(|h| std::ptr::fn_addr_eq(*h, hook)) {
        hooks.push(hook);
    }
}

/// Copies `funcs` into fresh executable memory and registers it.
pub fn publish(
    kind: CodeKind,
    module_id: u64,
    funcs: Vec<(u32, FuncCode)>,
) -> std::io::Result<Arc<CodeObject>> {
    const ALIGN: usize = 16;
    let total: usize = funcs
        .iter()
        .map(|(_, f)| f.bytes.len().next_multiple_of(ALIGN))
        .sum::<usize>()
        .max(1);
    let mut map = memmap2::MmapOptions::new()
        .len(total)
        .populate()
        .map_anon()?;
    let mut published = Vec::with_capacity(funcs.len());
    let mut at = 0;
    for (func_index, f) in funcs {
        map[at..at + f.bytes.len()].copy_from_slice(&f.bytes);
        // Fill alignment padding with int3.
        let padded = f.bytes.len().next_multiple_of(ALIGN);
        map[at + f.bytes.len()..at + padded].fill(0xcc);
        // Only Cranelift code has an optimized frame, only debug code a
        // debug side table.
        let tier = match kind {
            _ if f.opt_frame.is_some() => Tier::Optimized,
            _ if f.debug.is_some() => Tier::Debug,
            CodeKind::Wasm(t) => t,
            CodeKind::Trampoline => Tier::Baseline,
        };
        published.push(PublishedFunc {
            func_index,
            start: at,
            len: f.bytes.len(),
            offset_map: f.offset_map,
            traps: f.traps,
            debug: f.debug,
            checks: f.checks,
            tier,
            opt_frame: f.opt_frame,
            handlers: f.handlers,
            osr_loop: f.osr_loop,
        });
        at += padded;
    }
    let map = map.make_exec()?;
    LIVE_CODE_BYTES.fetch_add(map.len(), std::sync::atomic::Ordering::SeqCst);
    let obj = Arc::new(CodeObject {
        map,
        kind,
        module_id,
        funcs: published,
    });
    registry::insert(&obj);
    let hooks = PUBLISH_HOOKS
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    for hook in hooks {
        hook(&obj);
    }
    Ok(obj)
}

/// Every live code object, by start address (for the perf map).
pub fn live_objects() -> Vec<Arc<CodeObject>> {
    registry::live_objects()
}

/// The result of looking up a native pc.
pub struct PcInfo {
    /// The code's kind; for wasm, the tier of the function at the pc.
    pub kind: CodeKind,
    pub module_id: u64,
    pub func_index: Option<u32>,
    pub wasm_offset: Option<u32>,
    /// Some if the pc is a recorded trap site.
    pub trap: Option<Option<TrapCode>>,
    /// The pc is in an OSR entry (optimized code, see [`CodeLabel::Osr`]).
    pub osr: bool,
}

/// Looks up `pc`. Lock-free and allocation-free: safe to call from a signal
/// handler on any thread, including one that is publishing or dropping code.
pub fn lookup_pc(pc: usize) -> Option<PcInfo> {
    registry::with_object_at(pc, |obj| {
        let mut info = PcInfo {
            kind: obj.kind,
            module_id: obj.module_id,
            func_index: None,
            wasm_offset: None,
            trap: None,
            osr: false,
        };
        if let Some(f) = obj.func_at(pc) {
            let native = (pc - obj.start() - f.start) as u32;
            info.func_index = Some(f.func_index);
            if let CodeKind::Wasm(_) = obj.kind {
                // Per function: a mixed module's object holds both tiers.
                info.kind = CodeKind::Wasm(f.tier);
                info.osr = f.osr_loop.is_some();
            }
            if let Some(t) = f.trap_at(native) {
                info.trap = Some(t.code);
                info.wasm_offset = Some(t.wasm_offset);
            } else {
                info.wasm_offset = f.wasm_offset_at(native);
            }
        }
        info
    })
}

/// `fp - record` of the `interrupt_state` record of the optimized code
/// holding `pc` (see [`OptFrame::record_below_fp`]). Lock-free (see
/// [`lookup_pc`]).
pub fn record_below_fp(pc: usize) -> Option<u32> {
    registry::with_object_at(pc, |obj| {
        obj.func_at(pc)?.opt_frame.as_ref()?.record_below_fp
    })
    .flatten()
}

/// Native address where the code of the wasm instruction holding `pc`
/// begins (its offset-map entry). Lock-free (see [`lookup_pc`]).
pub fn instruction_start(pc: usize) -> Option<usize> {
    registry::with_object_at(pc, |obj| {
        let f = obj.func_at(pc)?;
        let native = (pc - obj.start() - f.start) as u32;
        let i = f.offset_map.partition_point(|&(n, _)| n <= native);
        let n = i.checked_sub(1).map_or(0, |i| f.offset_map[i].0);
        Some(obj.start() + f.start + n as usize)
    })
    .flatten()
}

/// True if `pc` is inside any registered code. Lock-free (see [`lookup_pc`]).
pub fn is_wasm_pc(pc: usize) -> bool {
    registry::with_object_at(pc, |_| ()).is_some()
}

/// Finds the code object containing `pc` (for the debugger). Not for signal
/// handlers: the returned reference may be the last one.
pub fn object_at(pc: usize) -> Option<Arc<CodeObject>> {
    registry::upgrade_at(pc)
}

/// Holds the registry's writer lock while `f` runs (tests: a fault inside
/// `f` must still be handled, since the signal handler takes no lock).
#[doc(hidden)]
pub fn with_registry_writer_held<R>(f: impl FnOnce() -> R) -> R {
    registry::with_writer_held(f)
}
