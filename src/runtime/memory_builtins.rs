//! The memory builtins for any memory of an instance (multi-memory and
//! memory64): grow, fill, copy (also between two memories) and init. Compiled
//! code calls them for every memory but a 32-bit memory 0, which keeps the
//! narrower builtins of `builtins.rs`. Addresses and lengths arrive as u64;
//! for a 32-bit memory only their low 32 bits count (the compilers pass i32
//! operands without widening them).

use super::builtins::{inst, trap};
use crate::error::TrapCode;
use crate::vm::memory::LinearMemory;
use crate::vm::watch;

fn memory<'a>(vmctx: *mut u8, mem: u32) -> Option<&'a mut LinearMemory> {
    // SAFETY: store-owned memory; compiled code holds no Rust borrow of it,
    // and the reference lives only during this builtin.
    inst(vmctx).memory_at(mem).map(|m| unsafe { &mut *m })
}

/// An address or length operand of `m`'s index type.
fn operand(m: &LinearMemory, v: u64) -> u64 {
    if m.is64() {
        v
    } else {
        v as u32 as u64
    }
}

/// `start..start+len` when it lies inside `size` bytes.
fn range(start: u64, len: u64, size: usize) -> Option<std::ops::Range<usize>> {
    let end = start.checked_add(len)?;
    (end <= size as u64).then_some(start as usize..end as usize)
}

pub(super) extern "C" fn memory_grow_at(vmctx: *mut u8, mem: u32, delta: u64) -> u64 {
    let Some(m) = memory(vmctx, mem) else {
        return u64::MAX;
    };
    let failed = if m.is64() { u64::MAX } else { u32::MAX as u64 };
    let delta = operand(m, delta);
    m.grow(delta).unwrap_or(failed)
}

pub(super) extern "C" fn memory_fill_at(
    vmctx: *mut u8,
    mem: u32,
    dst: u64,
    val: u32,
    len: u64,
) -> u32 {
    let Some(m) = memory(vmctx, mem) else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    let (dst, len) = (operand(m, dst), operand(m, len));
    let bytes = m.data_mut();
    match range(dst, len, bytes.len()) {
        Some(r) => {
            let w = (bytes[r.clone()].as_ptr(), r.len());
            watch::bulk((w.0, 0), w, || bytes[r].fill(val as u8));
            0
        }
        None => trap(TrapCode::MemoryOutOfBounds),
    }
}

pub(super) extern "C" fn memory_copy_at(
    vmctx: *mut u8,
    dst_mem: u32,
    src_mem: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    let i = inst(vmctx);
    let (Some(d), Some(s)) = (i.memory_at(dst_mem), i.memory_at(src_mem)) else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    // SAFETY: store-owned memories, not otherwise borrowed during this
    // builtin; when both are the same memory only shared views are made
    // before the one mutable view below.
    let (dm, sm) = unsafe { (&*d, &*s) };
    let dst = operand(dm, dst);
    let src = operand(sm, src);
    // The length is an i64 only when both memories are 64-bit.
    let len = if dm.is64() && sm.is64() {
        len
    } else {
        len as u32 as u64
    };
    let (Some(dr), Some(sr)) = (
        range(dst, len, dm.byte_len()),
        range(src, len, sm.byte_len()),
    ) else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    if d == s {
        // SAFETY: as above; the one view of this memory.
        let m = unsafe { (*d).data_mut() };
        let (r, w) = (
            (m[sr.clone()].as_ptr(), len as usize),
            (m[dr.clone()].as_ptr(), len as usize),
        );
        watch::bulk(r, w, || m.copy_within(sr, dr.start));
    } else {
        // SAFETY: two different store-owned memories: disjoint mappings.
        let (dv, sv) = unsafe { ((*d).data_mut(), (*s).data()) };
        let (r, w) = (
            (sv[sr.clone()].as_ptr(), len as usize),
            (dv[dr.clone()].as_ptr(), len as usize),
        );
        watch::bulk(r, w, || dv[dr].copy_from_slice(&sv[sr]));
    }
    0
}

pub(super) extern "C" fn memory_init_at(
    vmctx: *mut u8,
    mem: u32,
    seg: u32,
    dst: u64,
    src: u64,
    len: u64,
) -> u32 {
    let i = inst(vmctx);
    let info = i.module.info();
    let seg_range = if i.dropped_data[seg as usize] {
        0..0
    } else {
        info.data[seg as usize].range.clone()
    };
    let data = &info.bytes[seg_range];
    let Some(m) = memory(vmctx, mem) else {
        return trap(TrapCode::MemoryOutOfBounds);
    };
    // The segment offset and the length are i32 operands.
    let dst = operand(m, dst);
    let (src, len) = (src as u32 as u64, len as u32 as u64);
    let bytes = m.data_mut();
    match (range(dst, len, bytes.len()), range(src, len, data.len())) {
        (Some(d), Some(s)) => {
            let w = (bytes[d.clone()].as_ptr(), d.len());
            watch::bulk((w.0, 0), w, || bytes[d].copy_from_slice(&data[s]));
            0
        }
        _ => trap(TrapCode::MemoryOutOfBounds),
    }
}
