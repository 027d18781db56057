//! The VMContext layout in one place (the calling convention is in `crate::abi`).
//!
//! Both compilers (baseline and optimizing) and the runtime read every offset
//! from here; nothing else may hard-code a layout.
//!
//! # Calling convention (wasm → wasm, any tier to any tier)
//! Cranelift's `tail` convention with the VMContexts (and a results-area
//! pointer for two or more results) as leading arguments; the callee pops
//! its stack arguments. Defined, with every location, in `crate::abi`.
//! A v128 travels in an xmm register, or on the stack in a 16-byte aligned
//! pair of slots; results areas and values arrays give it 16 bytes
//! (`value_offsets`).
//!
//! # Code table
//! Every function index of an instance has a pointer to a [`VMFuncRef`]
//! (`vmctx.funcrefs[i]`). Calls, `call_indirect` and `ref.func` all go through
//! it; changing a function's tier is one atomic store to `VMFuncRef::code`.

use std::sync::atomic::{AtomicPtr, AtomicUsize};

/// One function's entry in the code table. A funcref value is a pointer to one.
#[repr(C)]
pub struct VMFuncRef {
    /// Current native entry point in the wasm calling convention.
    pub code: AtomicPtr<u8>,
    /// Context passed as the first argument.
    pub vmctx: *mut u8,
    /// Canonical signature id (engine-wide).
    pub sig: u32,
    /// Function index inside its defining instance (u32::MAX for host functions).
    pub func_index: u32,
}

pub const FUNCREF_CODE: i32 = 0;
pub const FUNCREF_VMCTX: i32 = 8;
pub const FUNCREF_SIG: i32 = 16;

/// Bits of `VMRuntimeLimits::interrupt_flags`: trap at the next check
/// (`InterruptHandle::interrupt`).
pub const INTERRUPT_TRAP: usize = 1;
/// Stop in the debug hook at the next check (`InterruptHandle::pause`).
pub const INTERRUPT_PAUSE: usize = 2;
/// Report the functions on the stack at the next check (to the debug-code
/// precompiler, `tiering::precompile`; `InterruptHandle::sample_stack`).
pub const INTERRUPT_SAMPLE: usize = 4;

/// Per-store limits shared by all instances of a store.
#[repr(C)]
pub struct VMRuntimeLimits {
    /// The interrupt word: compiled code compares `rsp` against it at every
    /// function entry and loop header. Setting it to `usize::MAX` forces every
    /// running function into the runtime at its next check.
    pub stack_limit: AtomicUsize,
    /// The real stack limit (restored after an interrupt is handled).
    pub real_stack_limit: AtomicUsize,
    /// Bit flags of pending interrupt requests (see `vm::interrupt`).
    pub interrupt_flags: AtomicUsize,
}

pub const LIMITS_STACK_LIMIT: i32 = 0;

/// A linear memory as compiled code sees it. The base never moves.
#[repr(C)]
pub struct VMMemory {
    pub base: *mut u8,
    /// Accessible length in bytes.
    pub length: AtomicUsize,
}

pub const MEMORY_BASE: i32 = 0;
pub const MEMORY_LENGTH: i32 = 8;

/// A table as compiled code sees it. `elements` may move when the table grows.
#[repr(C)]
pub struct VMTable {
    pub elements: *mut u64,
    pub length: u64,
}

pub const TABLE_ELEMENTS: i32 = 0;
pub const TABLE_LENGTH: i32 = 8;

/// Byte offset of each value in a values array or results area: values are
/// packed in order, 8 bytes each, 16 for a v128 (`ValType::words`). The
/// trampolines' values arrays and the results area of a call use this layout.
pub fn value_offsets(types: &[crate::types::ValType]) -> Vec<i32> {
    let mut at = 0;
    types
        .iter()
        .map(|t| {
            let o = at;
            at += 8 * t.words() as i32;
            o
        })
        .collect()
}

/// Bytes a values array or results area for `types` takes.
pub fn values_size(types: &[crate::types::ValType]) -> i32 {
    types.iter().map(|t| 8 * t.words() as i32).sum()
}

// ---- VMContext header (fixed offsets) --------------------------------------
/// `*const VMRuntimeLimits`
pub const VMCTX_LIMITS: i32 = 0;
/// `*const VMMemory` of memory 0 (null when the module has no memory).
pub const VMCTX_MEMORY: i32 = 8;
/// `*const *const VMFuncRef`, indexed by function index.
pub const VMCTX_FUNCREFS: i32 = 16;
/// `*const *mut u64`: pointer to each global's cell (16 bytes, 16-aligned;
/// scalars in the low 8).
pub const VMCTX_GLOBALS: i32 = 24;
/// `*const *mut VMTable`, indexed by table index.
pub const VMCTX_TABLES: i32 = 32;
/// `*const usize`: the runtime builtins table (see [`Builtin`]).
pub const VMCTX_BUILTINS: i32 = 40;
/// `*mut` the runtime's instance record (opaque to compiled code).
pub const VMCTX_INSTANCE: i32 = 48;
/// `*mut i32`: per-function tier-up budgets (baseline code charges them).
pub const VMCTX_BUDGETS: i32 = 56;
/// `*const u32`: canonical signature ids by module type index.
pub const VMCTX_SIG_IDS: i32 = 64;
/// `*mut u64`: per-function call counts (code of every tier bumps its
/// function's count at entry; the debugger and the function list show them).
pub const VMCTX_CALLS: i32 = 72;
/// `*const *const vm::unwind::TagObj`: each tag's identity, by tag index.
pub const VMCTX_TAGS: i32 = 80;
/// `*const *const VMMemory`, indexed by memory index (imported memories
/// first; memory 0 is also at `VMCTX_MEMORY`).
pub const VMCTX_MEMORIES: i32 = 88;
/// Size of the fixed header.
pub const VMCTX_HEADER_SIZE: i32 = 96;
/// After the header: one debug byte per function (non-zero = debug code of
/// that function calls the debug hook at every instruction).
pub const VMCTX_DEBUG_FLAGS: i32 = VMCTX_HEADER_SIZE;

/// Runtime functions compiled code calls through `vmctx.builtins[i]`.
/// All take the caller's VMContext first and return a status or value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Builtin {
    /// `(vmctx, delta_pages: u32) -> u32` old size or -1.
    MemoryGrow = 0,
    /// `(vmctx, dst, val, len) -> u32` 0 or trap.
    MemoryFill,
    /// `(vmctx, dst, src, len) -> u32`
    MemoryCopy,
    /// `(vmctx, seg, dst, src, len) -> u32`
    MemoryInit,
    /// `(vmctx, seg)`
    DataDrop,
    /// `(vmctx, table, init, delta) -> u32` old size or -1.
    TableGrow,
    /// `(vmctx, table, dst, val, len) -> u32`
    TableFill,
    /// `(vmctx, dst_table, src_table, dst, src, len) -> u32`
    TableCopy,
    /// `(vmctx, table, seg, dst, src, len) -> u32`
    TableInit,
    /// `(vmctx, seg)`
    ElemDrop,
    /// `(vmctx, func, wasm_offset, fp, state, kind) -> u32`: a
    /// stack/interrupt check failed; 0 = continue. `state` is an
    /// `interrupt_state` record (optimized code: `kind` 1) or the register
    /// save area of baseline code, whose `kind` has bit 2 for debug code and
    /// bit 4 for the check at function entry.
    StackCheckSlow,
    /// `(vmctx, func, instr, regs, fp) -> u32`: debug hook; 0 = continue.
    DebugHook,
    /// `(vmctx, func) -> u32`: a tier-up budget ran out; 0 = continue.
    TierUpCheck,
    /// Float conversions that need more than a few instructions:
    /// `(bits: u64, kind: u32, out: *mut u64) -> u32` 0 or trap code.
    FloatToInt,
    /// `(callee vmctx, func) -> code`: a lazy tier-down stub was called;
    /// compiles (or finds) the function's debug code and returns its entry
    /// (null after leaving a pending trap).
    LazyDebugCompile,
    /// `(vmctx, tag, values: *const u64) -> !`: throws a new exception of
    /// tag `tag` whose payload is at `values` (`value_offsets` layout). A
    /// stub in `vm::unwind`, not a Rust function: it never returns.
    Throw,
    /// `(vmctx, exnref) -> !`: throws `exnref` again (null traps).
    ThrowRef,
    /// The memory builtins for any memory (multi-memory, memory64); the ones
    /// above serve memory 0 when it is a 32-bit memory. Addresses and lengths
    /// are passed as u64; for a 32-bit memory only their low 32 bits count.
    /// `(vmctx, mem, delta) -> u64` old size in pages, or -1 (u32::MAX for
    /// a 32-bit memory, u64::MAX for a 64-bit one).
    MemoryGrowAt,
    /// `(vmctx, mem, dst, val, len) -> u32`
    MemoryFillAt,
    /// `(vmctx, dst_mem, src_mem, dst, src, len) -> u32`
    MemoryCopyAt,
    /// `(vmctx, mem, seg, dst, src, len) -> u32`
    MemoryInitAt,
    /// `(vmctx, fp, ret) -> u32`: a check of optimized code failed (its
    /// stub calls this). `fp` is the optimized frame's frame pointer, `ret`
    /// the stub's return address in it: together they locate the frame's
    /// `interrupt_state` record, whose header names the function, offset
    /// and kind; then as [`Builtin::StackCheckSlow`].
    StackCheckOptimized,
}

pub const BUILTIN_COUNT: usize = 22;

/// Kinds for [`Builtin::FloatToInt`]: bit 0 = source f64, bit 1 = result i64,
/// bit 2 = unsigned, bit 3 = saturating.
pub mod float_to_int {
    pub const SRC_F64: u32 = 1;
    pub const DST_I64: u32 = 2;
    pub const UNSIGNED: u32 = 4;
    pub const SATURATING: u32 = 8;
}

/// Size of the register save area the debug stub passes to the debug hook:
/// 16 general-purpose registers (8 bytes each, in hardware encoding order) then
/// 16 xmm registers (16 bytes each).
pub const DEBUG_REGS_SIZE: i32 = 16 * 8 + 16 * 16;

/// The record optimized code hands to `Builtin::StackCheckSlow` (the
/// interrupt check's slow path) so that a pause there can show the frame's
/// locals and operand stack, and so that the frame's state can move to other
/// code (on-stack replacement).
///
/// Each optimized function has ONE stack slot for it, sized for its largest
/// check; a check writes it only on its cold path (when the check fails),
/// just before calling the stub, and it is valid until the stub returns.
/// Only the locals live at the check are recorded: a local is live when
/// some path from the check may read it before writing it (see
/// `optimizing::liveness`); the others are dead there (`<optimized out>`),
/// and any value will do for them when the frame is rebuilt.
///
/// Words (`n = recorded + stack`):
/// - `[0]`: number of recorded locals | number of operand-stack values << 32;
/// - `[1]`: number of locals of the function (parameters included);
/// - `[2]`: the results area of a function with two or more results (the
///   pointer its caller passed in `rdx`; 0 otherwise), so that a debug frame
///   built from the record returns its results to the same place;
/// - `[3]`: the function index (low half) and the check's kind bits (high
///   half, `runtime::osr`); `[4]`: the check's wasm offset. The runtime
///   reads them from here (stores of immediates on the cold path, instead of
///   constants passed in registers that regalloc keeps across the loop);
///   it finds the record itself by the frame pointer and the code's
///   `OptFrame::record_below_fp`, so no address is passed either;
/// - then `n` 32-bit tags, two per word (the first in the low half), padded
///   to a word: recorded locals in ascending index order, then the stack
///   bottom first. A tag is `local index | type code << 24` (the index is 0
///   for stack values; see [`interrupt_state::tag`]); references on the
///   operand stack are tagged i64;
/// - then the values in tag order, one word each (32-bit values in the low
///   half, the high half unspecified), two words for a v128 (low half first).
pub mod interrupt_state {
    use crate::types::ValType;

    /// Header words before the tags.
    pub const HEADER_WORDS: usize = 5;
    /// Word of the function index (low half) and the kind bits (high half).
    pub const CHECK_WORD: usize = 3;
    /// Word of the check's wasm offset.
    pub const OFFSET_WORD: usize = 4;

    pub fn type_code(t: ValType) -> u8 {
        match t {
            ValType::I32 => 0,
            ValType::I64 => 1,
            ValType::F32 => 2,
            ValType::F64 => 3,
            ValType::FuncRef => 4,
            ValType::ExternRef => 5,
            ValType::V128 => 6,
            ValType::ExnRef => 7,
        }
    }

    pub fn from_code(c: u8) -> ValType {
        match c {
            0 => ValType::I32,
            1 => ValType::I64,
            2 => ValType::F32,
            3 => ValType::F64,
            4 => ValType::FuncRef,
            6 => ValType::V128,
            7 => ValType::ExnRef,
            _ => ValType::ExternRef,
        }
    }

    /// The tag of a value: `local` index (0 for stack values) and type.
    pub fn tag(local: u32, t: ValType) -> u32 {
        debug_assert!(local < 1 << 24, "wasm functions have at most 50,000 locals");
        local | (type_code(t) as u32) << 24
    }

    /// Words taken by the tags of `n` values.
    pub fn tag_words(n: usize) -> usize {
        n.div_ceil(2)
    }

    /// Words of a record of values of `types` (a v128 takes two value words).
    pub fn record_words(types: &[ValType]) -> usize {
        HEADER_WORDS + tag_words(types.len()) + types.iter().map(|t| t.words()).sum::<usize>()
    }

    /// A record, decoded.
    #[derive(Debug, Clone, Default, PartialEq, Eq)]
    pub struct Record {
        /// Locals of the function (parameters included).
        pub num_locals: u32,
        /// Live locals: index, type, raw bits (ascending index; all 128
        /// bits only for a v128).
        pub locals: Vec<(u32, ValType, u128)>,
        /// The operand stack, bottom first: type and raw bits.
        pub stack: Vec<(ValType, u128)>,
        /// The results area (0 when the function has fewer than two results).
        pub results_area: u64,
    }

    /// Decodes the record at `p`.
    ///
    /// # Safety
    /// `p` must point to a record optimized code wrote (the `state` argument
    /// of `Builtin::StackCheckSlow` with kind 1) whose check has not returned.
    pub unsafe fn read(p: *const u64) -> Record {
        // SAFETY: the caller guarantees a complete record at `p`; its header
        // gives the number of tag and value words that follow.
        unsafe {
            let counts = *p;
            let (nl, ns) = ((counts & 0xffff_ffff) as usize, (counts >> 32) as usize);
            let n = nl + ns;
            let tags = p.add(HEADER_WORDS) as *const u32;
            let mut values = p.add(HEADER_WORDS + tag_words(n));
            let mut r = Record {
                num_locals: *p.add(1) as u32,
                locals: Vec::with_capacity(nl),
                stack: Vec::with_capacity(ns),
                results_area: *p.add(2),
            };
            for i in 0..n {
                let t = *tags.add(i);
                let ty = from_code((t >> 24) as u8);
                let mut bits = *values as u128;
                if ty.is_v128() {
                    bits |= (*values.add(1) as u128) << 64;
                }
                values = values.add(ty.words());
                if i < nl {
                    r.locals.push((t & 0xff_ffff, ty, bits));
                } else {
                    r.stack.push((ty, bits));
                }
            }
            r
        }
    }
}
