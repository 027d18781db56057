//! Memories other than a 32-bit memory 0 (multi-memory and memory64) for the
//! optimizing compiler.
//!
//! A 32-bit memory 0 keeps the path of `memory.rs` (base loaded once in the
//! entry block, no bounds checks). Memory k loads its `VMMemory` from
//! `vmctx.memories[k]` and its base with a fixed load (Cranelift shares and
//! hoists it); a 32-bit memory k relies on its own guard region. A 64-bit
//! memory checks `index + offset + width <= length` before the access,
//! trapping `MemoryOutOfBounds` at the access (the add traps on overflow).
//! Bulk operations call the `*At` builtins with the memory index.

use super::translate::{Res, Translator};
use super::user_trap;
use crate::error::TrapCode;
use crate::vm::layout::*;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{InstBuilder, Value};
use wasmparser::MemArg;

impl Translator<'_, '_> {
    pub(crate) fn memory_is64(&self, mem: u32) -> bool {
        self.module
            .memories
            .get(mem as usize)
            .is_some_and(|m| m.is64)
    }

    /// A 32-bit memory 0: the fast path of `memory.rs`.
    pub(crate) fn plain_memory(&self, mem: u32) -> bool {
        mem == 0 && !self.memory_is64(0)
    }

    fn vm_memory_of(&mut self, mem: u32) -> Res<Value> {
        if mem == 0 {
            Ok(self.vm_memory())
        } else {
            self.vm_memory_at(mem)
        }
    }

    /// An i32 operand widened to i64 (i64 operands as they are).
    fn wide(&mut self, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) == I32 {
            self.b.ins().uextend(I64, v)
        } else {
            v
        }
    }

    /// `heap_address` for memory `mem` when it is not a plain memory 0.
    pub(crate) fn heap_address_at(&mut self, mem: u32, memarg: &MemArg) -> Res<(Value, i32)> {
        let index = self.pop();
        let vm = self.vm_memory_of(mem)?;
        let base = match (mem, self.mem_base) {
            (0, Some(b)) => b,
            _ => self.load_fixed(vm, MEMORY_BASE),
        };
        let index = if self.memory_is64(mem) {
            let oob = user_trap(TrapCode::MemoryOutOfBounds);
            // Every load and store accesses its natural alignment's width.
            let width = 1u64 << memarg.max_align;
            match memarg.offset.checked_add(width) {
                Some(end) => {
                    let end = self.b.ins().iconst(I64, end as i64);
                    let end = self.b.ins().uadd_overflow_trap(index, end, oob);
                    // The length changes only inside calls (memory.grow).
                    let flags = self.mutable(self.regions.vmctx);
                    let len = self.b.ins().load(I64, flags, vm, MEMORY_LENGTH);
                    let out = self.b.ins().icmp(IntCC::UnsignedGreaterThan, end, len);
                    self.b.ins().trapnz(out, oob);
                }
                None => {
                    let always = self.b.ins().iconst(I32, 1);
                    self.b.ins().trapnz(always, oob);
                }
            }
            index
        } else {
            self.b.ins().uextend(I64, index)
        };
        let addr = self.b.ins().iadd(base, index);
        match i32::try_from(memarg.offset) {
            Ok(off) => Ok((addr, off)),
            Err(_) => Ok((self.b.ins().iadd_imm_u(addr, memarg.offset as i64), 0)),
        }
    }

    pub(crate) fn memory_size_at(&mut self, mem: u32) -> Res {
        let vm = self.vm_memory_of(mem)?;
        let flags = self.mutable(self.regions.vmctx);
        let bytes = self.b.ins().load(I64, flags, vm, MEMORY_LENGTH);
        let mut pages = self.b.ins().ushr_imm_u(bytes, 16);
        if !self.memory_is64(mem) {
            pages = self.b.ins().ireduce(I32, pages);
        }
        self.push(pages);
        Ok(())
    }

    pub(crate) fn memory_grow_at(&mut self, mem: u32) {
        let delta = self.pop();
        let delta = self.wide(delta);
        let m = self.b.ins().iconst(I32, mem as i64);
        let mut v = self.call_builtin(Builtin::MemoryGrowAt, &[m, delta]);
        if !self.memory_is64(mem) {
            v = self.b.ins().ireduce(I32, v);
        }
        self.push(v);
    }

    pub(crate) fn memory_fill_at(&mut self, mem: u32) {
        let [d, v, n] = self.pop3();
        let (d, n) = (self.wide(d), self.wide(n));
        let m = self.b.ins().iconst(I32, mem as i64);
        self.call_builtin_checked(Builtin::MemoryFillAt, &[m, d, v, n]);
    }

    pub(crate) fn memory_copy_at(&mut self, dst_mem: u32, src_mem: u32) {
        let [d, s, n] = self.pop3();
        let (d, s, n) = (self.wide(d), self.wide(s), self.wide(n));
        let dm = self.b.ins().iconst(I32, dst_mem as i64);
        let sm = self.b.ins().iconst(I32, src_mem as i64);
        self.call_builtin_checked(Builtin::MemoryCopyAt, &[dm, sm, d, s, n]);
    }

    pub(crate) fn memory_init_at(&mut self, seg: u32, mem: u32) {
        let [d, s, n] = self.pop3();
        let (d, s, n) = (self.wide(d), self.wide(s), self.wide(n));
        let m = self.b.ins().iconst(I32, mem as i64);
        let seg = self.b.ins().iconst(I32, seg as i64);
        self.call_builtin_checked(Builtin::MemoryInitAt, &[m, seg, d, s, n]);
    }
}
