//! Executable code: publishing machine code W^X, and the process-wide code
//! registry that maps a native pc to (function, tier, wasm offset).
//!
//! Code memory is written while it is only readable and writable, then turned
//! read+execute; it is never writable and executable at once. The registry is
//! consulted by the signal handler, so lookups allocate nothing.

mod debug_table;

pub use debug_table::{DebugPoint, DebugSideTable, StackRecorder, NO_NODE};

use crate::error::TrapCode;
use memmap2::Mmap;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

/// Which compiler made a piece of code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    Baseline,
    /// Baseline code compiled in debug mode.
    Debug,
    Optimized,
}

impl Tier {
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
}

impl PublishedFunc {
    pub fn wasm_offset_at(&self, native: u32) -> Option<u32> {
        let i = self.offset_map.partition_point(|&(n, _)| n <= native);
        if i == 0 {
            return self.offset_map.first().map(|&(_, w)| w);
        }
        Some(self.offset_map[i - 1].1)
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
        let mut reg = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
        reg.remove(&self.start());
    }
}

static REGISTRY: RwLock<BTreeMap<usize, std::sync::Weak<CodeObject>>> =
    RwLock::new(BTreeMap::new());

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
        published.push(PublishedFunc {
            func_index,
            start: at,
            len: f.bytes.len(),
            offset_map: f.offset_map,
            traps: f.traps,
            debug: f.debug,
            checks: f.checks,
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
    REGISTRY
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(obj.start(), Arc::downgrade(&obj));
    crate::profile::perf_map::on_publish(&obj);
    Ok(obj)
}

/// Every live code object, by start address (for the perf map). The registry
/// lock is released before any of them could be dropped.
pub fn live_objects() -> Vec<Arc<CodeObject>> {
    let reg = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let objs = reg.values().filter_map(std::sync::Weak::upgrade).collect();
    drop(reg);
    objs
}

/// The result of looking up a native pc.
pub struct PcInfo {
    pub kind: CodeKind,
    pub module_id: u64,
    pub func_index: Option<u32>,
    pub wasm_offset: Option<u32>,
    /// Some if the pc is a recorded trap site.
    pub trap: Option<Option<TrapCode>>,
}

/// Looks up `pc`. Allocation-free; safe to call from the signal handler
/// (it takes a read lock that writers hold only briefly, never across wasm code).
pub fn lookup_pc(pc: usize) -> Option<PcInfo> {
    let obj = {
        let reg = REGISTRY.read().ok()?;
        let (_, weak) = reg.range(..=pc).next_back()?;
        weak.upgrade()?
        // The read lock ends here: if `obj` turns out to be the last
        // reference, its Drop takes the write lock.
    };
    if pc >= obj.end() {
        return None;
    }
    let mut info = PcInfo {
        kind: obj.kind,
        module_id: obj.module_id,
        func_index: None,
        wasm_offset: None,
        trap: None,
    };
    if let Some(f) = obj.func_at(pc) {
        let native = (pc - obj.start() - f.start) as u32;
        info.func_index = Some(f.func_index);
        if let Some(t) = f.trap_at(native) {
            info.trap = Some(t.code);
            info.wasm_offset = Some(t.wasm_offset);
        } else {
            info.wasm_offset = f.wasm_offset_at(native);
        }
    }
    Some(info)
}

/// True if `pc` is inside any registered code.
pub fn is_wasm_pc(pc: usize) -> bool {
    lookup_pc(pc).is_some()
}

/// Finds the code object containing `pc` (for the debugger).
pub fn object_at(pc: usize) -> Option<Arc<CodeObject>> {
    let obj = {
        let reg = REGISTRY.read().ok()?;
        let (_, weak) = reg.range(..=pc).next_back()?;
        weak.upgrade()?
    };
    (pc < obj.end()).then_some(obj)
}
