//! Runtime functions compiled code calls through `vmctx.builtins`: memory and
//! table operations too large to inline, the slow path of the stack/interrupt
//! check, the debug hook, and the rarer float conversions. Each returns 0 to
//! continue or non-zero after leaving a pending trap in the activation.

use super::instance::{instance_of_vmctx, InstanceData};
use crate::error::{Trap, TrapCode};
use crate::tiering;
use crate::vm::layout::{self, Builtin, BUILTIN_COUNT};
use crate::vm::{traps, watch};
use std::sync::atomic::Ordering;

/// The builtins table every VMContext points to (built once per process).
pub fn table() -> &'static [usize; BUILTIN_COUNT] {
    static TABLE: std::sync::OnceLock<[usize; BUILTIN_COUNT]> = std::sync::OnceLock::new();
    TABLE.get_or_init(make_table)
}

fn make_table() -> [usize; BUILTIN_COUNT] {
    let mut t = [0usize; BUILTIN_COUNT];
    t[Builtin::MemoryGrow as usize] = memory_grow as *const () as usize;
    t[Builtin::MemoryFill as usize] = memory_fill as *const () as usize;
    t[Builtin::MemoryCopy as usize] = memory_copy as *const () as usize;
    t[Builtin::MemoryInit as usize] = memory_init as *const () as usize;
    t[Builtin::DataDrop as usize] = data_drop as *const () as usize;
    t[Builtin::TableGrow as usize] = table_grow as *const () as usize;
    t[Builtin::TableFill as usize] = table_fill as *const () as usize;
    t[Builtin::TableCopy as usize] = table_copy as *const () as usize;
    t[Builtin::TableInit as usize] = table_init as *const () as usize;
    t[Builtin::ElemDrop as usize] = elem_drop as *const () as usize;
    t[Builtin::StackCheckSlow as usize] = stack_check_slow as *const () as usize;
    t[Builtin::StackCheckOptimized as usize] = stack_check_optimized as *const () as usize;
    t[Builtin::DebugHook as usize] = debug_hook as *const () as usize;
    t[Builtin::TierUpCheck as usize] = tier_up_check as *const () as usize;
    t[Builtin::FloatToInt as usize] = float_to_int as *const () as usize;
    t[Builtin::LazyDebugCompile as usize] = lazy_debug_compile as *const () as usize;
    t[Builtin::Throw as usize] = crate::vm::unwind::throw_stub();
    t[Builtin::ThrowRef as usize] = crate::vm::unwind::throw_ref_stub();
    use super::memory_builtins as mb;
    t[Builtin::MemoryGrowAt as usize] = mb::memory_grow_at as *const () as usize;
    t[Builtin::MemoryFillAt as usize] = mb::memory_fill_at as *const () as usize;
    t[Builtin::MemoryCopyAt as usize] = mb::memory_copy_at as *const () as usize;
    t[Builtin::MemoryInitAt as usize] = mb::memory_init_at as *const () as usize;
    t
}

pub(super) fn trap(code: TrapCode) -> u32 {
    traps::set_pending(Trap::new(code));
    1
}

pub(super) fn inst<'a>(vmctx: *mut u8) -> &'a mut InstanceData {
    instance_of_vmctx(vmctx).expect("builtin called with a VMContext")
}

extern "C" fn memory_grow(vmctx: *mut u8, delta: u32) -> u32 {
    let i = inst(vmctx);
    match i.memory_ptr() {
        // SAFETY: store-owned memory; compiled code holds no Rust borrow of it.
        Some(m) => unsafe { (*m).grow(delta as u64).map_or(u32::MAX, |old| old as u32) },
        None => u32::MAX,
    }
}

fn mem_bytes<'a>(i: &InstanceData) -> &'a mut [u8] {
    // SAFETY: store-owned memory; the slice lives only during this builtin.
    i.memory_ptr()
        .map(|m| unsafe { (*m).data_mut() })
        .unwrap_or(&mut [])
}

fn range(start: u32, len: u32, size: usize) -> Option<std::ops::Range<usize>> {
    let end = start as u64 + len as u64;
    (end <= size as u64).then_some(start as usize..end as usize)
}

extern "C" fn memory_fill(vmctx: *mut u8, dst: u32, val: u32, len: u32) -> u32 {
    let m = mem_bytes(inst(vmctx));
    match range(dst, len, m.len()) {
        Some(r) => {
            let w = (m[r.clone()].as_ptr(), r.len());
            watch::bulk((w.0, 0), w, || m[r].fill(val as u8));
            0
        }
        None => trap(TrapCode::MemoryOutOfBounds),
    }
}

extern "C" fn memory_copy(vmctx: *mut u8, dst: u32, src: u32, len: u32) -> u32 {
    let m = mem_bytes(inst(vmctx));
    match (range(dst, len, m.len()), range(src, len, m.len())) {
        (Some(d), Some(s)) => {
            let (r, w) = (
                (m[s.clone()].as_ptr(), s.len()),
                (m[d.clone()].as_ptr(), d.len()),
            );
            watch::bulk(r, w, || m.copy_within(s, d.start));
            0
        }
        _ => trap(TrapCode::MemoryOutOfBounds),
    }
}

extern "C" fn memory_init(vmctx: *mut u8, seg: u32, dst: u32, src: u32, len: u32) -> u32 {
    let i = inst(vmctx);
    let info = i.module.info();
    let seg_range = if i.dropped_data[seg as usize] {
        0..0
    } else {
        info.data[seg as usize].range.clone()
    };
    let data = &info.bytes[seg_range];
    let m = mem_bytes(i);
    match (range(dst, len, m.len()), range(src, len, data.len())) {
        (Some(d), Some(s)) => {
            let w = (m[d.clone()].as_ptr(), d.len());
            watch::bulk((w.0, 0), w, || m[d].copy_from_slice(&data[s]));
            0
        }
        _ => trap(TrapCode::MemoryOutOfBounds),
    }
}

extern "C" fn data_drop(vmctx: *mut u8, seg: u32) -> u32 {
    inst(vmctx).dropped_data[seg as usize] = true;
    0
}

fn table_obj<'a>(i: &InstanceData, t: u32) -> &'a mut crate::vm::table::Table {
    // Store-owned table, not otherwise borrowed while wasm runs.
    let p = i.table_objs[t as usize];
    // SAFETY: as above.
    unsafe { &mut *p }
}

extern "C" fn table_grow(vmctx: *mut u8, t: u32, init: u64, delta: u32) -> u32 {
    let i = inst(vmctx);
    table_obj(i, t)
        .grow(delta as u64, init)
        .map_or(u32::MAX, |old| old as u32)
}

extern "C" fn table_fill(vmctx: *mut u8, t: u32, dst: u32, val: u64, len: u32) -> u32 {
    let tab = table_obj(inst(vmctx), t);
    match range(dst, len, tab.len() as usize) {
        Some(r) => {
            tab.elements_mut()[r].fill(val);
            0
        }
        None => trap(TrapCode::TableOutOfBounds),
    }
}

extern "C" fn table_copy(vmctx: *mut u8, dt: u32, st: u32, dst: u32, src: u32, len: u32) -> u32 {
    let i = inst(vmctx);
    let (dlen, slen) = (
        table_obj(i, dt).len() as usize,
        table_obj(i, st).len() as usize,
    );
    match (range(dst, len, dlen), range(src, len, slen)) {
        (Some(d), Some(s)) => {
            if dt == st {
                table_obj(i, dt).elements_mut().copy_within(s, d.start);
            } else {
                let vals: Vec<u64> = table_obj(i, st).elements()[s].to_vec();
                table_obj(i, dt).elements_mut()[d].copy_from_slice(&vals);
            }
            0
        }
        _ => trap(TrapCode::TableOutOfBounds),
    }
}

extern "C" fn table_init(vmctx: *mut u8, t: u32, seg: u32, dst: u32, src: u32, len: u32) -> u32 {
    let i = inst(vmctx);
    let module = i.module.clone();
    let items: &[crate::module::ElemItem] = if i.dropped_elems[seg as usize] {
        &[]
    } else {
        &module.info().elems[seg as usize].items
    };
    let tab = table_obj(i, t);
    match (
        range(dst, len, tab.len() as usize),
        range(src, len, items.len()),
    ) {
        (Some(d), Some(s)) => {
            let vals: Vec<u64> = items[s].iter().map(|it| i.elem_value(it)).collect();
            table_obj(i, t).elements_mut()[d].copy_from_slice(&vals);
            0
        }
        _ => trap(TrapCode::TableOutOfBounds),
    }
}

extern "C" fn elem_drop(vmctx: *mut u8, seg: u32) -> u32 {
    inst(vmctx).dropped_elems[seg as usize] = true;
    0
}

/// `Builtin::StackCheckOptimized`: finds the record of the optimized frame
/// at `fp` by the code holding `ret` (the check stub's return address) and
/// goes on as [`stack_check_slow`] with what its header names.
extern "C" fn stack_check_optimized(vmctx: *mut u8, fp: usize, ret: usize) -> u32 {
    use crate::vm::layout::interrupt_state::{CHECK_WORD, OFFSET_WORD};
    let Some(below) = crate::code::record_below_fp(ret) else {
        // Only optimized code with a record calls the stub.
        traps::set_pending(Trap::host(format!(
            "internal error: a stack check at {ret:#x} has no interrupt record"
        )));
        return 1;
    };
    let state = (fp - below as usize) as *mut u64;
    // SAFETY: the record slot lies in the live frame at `fp`, whose cold
    // path wrote its header just before calling the stub.
    let (check, offset) = unsafe { (*state.add(CHECK_WORD), *state.add(OFFSET_WORD)) };
    stack_check_slow(vmctx, check & 0xffff_ffff, offset, fp, state, check >> 32)
}

/// The stack/interrupt check failed: a real overflow, or an interrupt request
/// (trap, or pause: then the debug hook sees the frame, see `runtime::debug`).
extern "C" fn stack_check_slow(
    vmctx: *mut u8,
    func: u64,
    wasm_offset: u64,
    fp: usize,
    state: *mut u64,
    optimized: u64,
) -> u32 {
    let here = &vmctx as *const _ as *const () as usize;
    // SAFETY: the header holds a pointer to the store's limits.
    let limits = unsafe {
        &**(vmctx.add(layout::VMCTX_LIMITS as usize) as *const *const layout::VMRuntimeLimits)
    };
    let real = limits.real_stack_limit.load(Ordering::SeqCst);
    if here < real {
        return trap(TrapCode::StackOverflow);
    }
    // Re-arm the word before taking the flags: a request that sets its flag
    // after the swap then trips the word after this store, so its check
    // comes (the other order lost a pause whose flag landed in between,
    // and it was served at some later, unrelated check).
    limits.stack_limit.store(real, Ordering::SeqCst);
    let flags = limits.interrupt_flags.swap(0, Ordering::SeqCst);
    if flags & super::store::INTERRUPT_TRAP != 0 {
        return trap(TrapCode::Interrupted);
    }
    if flags & super::store::INTERRUPT_SAMPLE != 0 {
        super::osr_return::note_stack(vmctx, func as u32, fp);
    }
    let paused = flags & super::store::INTERRUPT_PAUSE != 0;
    let status = if paused {
        super::debug::run_pause(
            vmctx,
            func as u32,
            wasm_offset as u32,
            fp,
            state,
            optimized as u32,
        )
    } else {
        0
    };
    if optimized == 2 {
        // Debug code past its entry: refresh its r13 copy of the debug byte
        // (at entry r13 is still the caller's).
        super::debug::refresh_debug_flag(vmctx, func as u32, state);
    }
    if status == 0 {
        // A debugger attached (or the stress setting): the frame may move
        // to debug code here (on-stack replacement).
        super::osr::at_check(
            vmctx,
            func as u32,
            wasm_offset as u32,
            fp,
            state,
            optimized as u32,
            paused,
        );
    }
    if super::osr::stress_every(vmctx) > 0 {
        limits.stack_limit.store(usize::MAX, Ordering::SeqCst);
    }
    status
}

extern "C" fn debug_hook(vmctx: *mut u8, func: u32, point: u32, regs: *mut u64, fp: usize) -> u32 {
    super::debug::run_hook(vmctx, func, point, regs, fp)
}

extern "C" fn lazy_debug_compile(vmctx: *mut u8, func: u32) -> *const u8 {
    let i = inst(vmctx);
    match tiering::on_request(&i.shared, tiering::Request::LazyCode(func)) {
        Ok(code) => code,
        Err(e) => {
            traps::set_pending(Trap::host(format!("cannot compile function {func}: {e}")));
            std::ptr::null()
        }
    }
}

extern "C" fn tier_up_check(vmctx: *mut u8, func: u32) -> u32 {
    let i = inst(vmctx);
    // Budget requests cannot fail; the result carries no code.
    let _ = tiering::on_request(&i.shared, tiering::Request::BudgetExhausted(func));
    // If a loop of `func` is running hot, its next check may move it up.
    super::osr_up::trip(vmctx);
    0
}

/// Float → int conversions that need range checks or saturation.
extern "C" fn float_to_int(_vmctx: *mut u8, bits: u64, kind: u32, out: *mut u64) -> u32 {
    use layout::float_to_int::*;
    let x = if kind & SRC_F64 != 0 {
        f64::from_bits(bits)
    } else {
        f32::from_bits(bits as u32) as f64
    };
    let (w, unsigned, sat) = (
        kind & DST_I64 != 0,
        kind & UNSIGNED != 0,
        kind & SATURATING != 0,
    );
    let value: Result<u64, TrapCode> = if x.is_nan() {
        if sat {
            Ok(0)
        } else {
            Err(TrapCode::BadConversionToInteger)
        }
    } else {
        let t = x.trunc();
        let (lo, hi): (f64, f64) = match (w, unsigned) {
            (false, false) => (i32::MIN as f64, 2147483648.0),
            (false, true) => (0.0, 4294967296.0),
            (true, false) => (i64::MIN as f64, 9223372036854775808.0),
            (true, true) => (0.0, 18446744073709551616.0),
        };
        if t >= lo && t < hi {
            Ok(match (w, unsigned) {
                (false, false) => t as i32 as u32 as u64,
                (false, true) => t as u32 as u64,
                (true, false) => t as i64 as u64,
                (true, true) => t as u64,
            })
        } else if sat {
            // Rust's `as` saturates.
            Ok(match (w, unsigned) {
                (false, false) => x as i32 as u32 as u64,
                (false, true) => x as u32 as u64,
                (true, false) => x as i64 as u64,
                (true, true) => x as u64,
            })
        } else {
            Err(TrapCode::IntegerOverflow)
        }
    };
    match value {
        Ok(v) => {
            // SAFETY: `out` is the home slot of the operand in the caller's frame.
            unsafe { *out = v };
            0
        }
        Err(c) => trap(c),
    }
}
