//! Linear memory and tables.
//!
//! Memory accesses compute `base + zext(index) + offset` with no bounds check:
//! the reservation behind a 32-bit memory (see `vm::memory`) covers every such
//! address, and a fault in its inaccessible part becomes `MemoryOutOfBounds`.
//! The base is loaded once, in the entry block. Table accesses check the index
//! against `VMTable.length` and reload the element pointer every time (it moves
//! when the table grows). Bulk operations call the runtime builtins.

use super::translate::{Res, Translator};
use super::user_trap;
use crate::error::TrapCode;
use crate::vm::layout::*;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::types::{I32, I64};
use cranelift_codegen::ir::{InstBuilder, Type, Value};
use wasmparser::MemArg;

/// How a load widens its value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ext {
    None,
    S8,
    U8,
    S16,
    U16,
    S32,
    U32,
}

impl Translator<'_, '_> {
    /// Pops the index; returns the native address and the static displacement.
    pub(crate) fn heap_address(&mut self, memarg: &MemArg) -> Res<(Value, i32)> {
        let wasmparser::MemArgTarget::Memory(mem) = memarg.target else {
            return Err("GC array accesses are not supported".into());
        };
        // Where this access's fault is reported, when x64 isel folds it into
        // the instruction that uses its value (`super::finish`).
        if self.heap_offsets.last() != Some(&self.offset) {
            self.heap_offsets.push(self.offset);
        }
        if mem != 0 || self.memory_is64(0) {
            return self.heap_address_at(mem, memarg);
        }
        let base = self.mem_base.ok_or("memory access without a memory")?;
        let index = self.pop();
        let index = self.b.ins().uextend(I64, index);
        let addr = self.b.ins().iadd(base, index);
        match i32::try_from(memarg.offset) {
            Ok(off) => Ok((addr, off)),
            Err(_) => {
                if memarg.offset > u32::MAX as u64 {
                    return Err("memory offset beyond 32 bits".into());
                }
                Ok((self.b.ins().iadd_imm_u(addr, memarg.offset as i64), 0))
            }
        }
    }

    pub(crate) fn load(&mut self, memarg: MemArg, ty: Type, ext: Ext) -> Res {
        let (addr, off) = self.heap_address(&memarg)?;
        let flags = self.heap_flags();
        let ins = self.b.ins();
        let v = match ext {
            // x64 isel may fold a plain load into the instruction that uses
            // its value; the fault is still reported at the load's own wasm
            // offset (a trap site made from the access's trap record).
            Ext::None => ins.load(ty, flags, addr, off),
            Ext::S8 => ins.sload8(ty, flags, addr, off),
            Ext::U8 => ins.uload8(ty, flags, addr, off),
            Ext::S16 => ins.sload16(ty, flags, addr, off),
            Ext::U16 => ins.uload16(ty, flags, addr, off),
            Ext::S32 => ins.sload32(flags, addr, off),
            Ext::U32 => ins.uload32(flags, addr, off),
        };
        self.push(v);
        Ok(())
    }

    /// Stores the popped value, narrowed to `narrow` if given.
    pub(crate) fn store(&mut self, memarg: MemArg, narrow: Option<Type>) -> Res {
        let v = self.pop();
        let (addr, off) = self.heap_address(&memarg)?;
        let flags = self.heap_flags();
        let ins = self.b.ins();
        match narrow.map(|t| t.bits()) {
            None => ins.store(flags, v, addr, off),
            Some(8) => ins.istore8(flags, v, addr, off),
            Some(16) => ins.istore16(flags, v, addr, off),
            _ => ins.istore32(flags, v, addr, off),
        };
        // Cranelift's dead-store elimination would drop this store when a
        // later store to the same address (same trap code) overwrites it, and
        // a fault would then name the later store; the barrier keeps it.
        self.b.ins().sequence_point();
        Ok(())
    }

    pub(crate) fn memory_size(&mut self, mem: u32) -> Res {
        if !self.plain_memory(mem) {
            return self.memory_size_at(mem);
        }
        let vm = self.vm_memory();
        // The length changes only inside calls (memory.grow), never behind our back.
        let flags = self.mutable(self.regions.vmctx);
        let bytes = self.b.ins().load(I64, flags, vm, MEMORY_LENGTH);
        let pages = self.b.ins().ushr_imm_u(bytes, 16);
        let v = self.b.ins().ireduce(I32, pages);
        self.push(v);
        Ok(())
    }

    pub(crate) fn memory_grow(&mut self, mem: u32) -> Res {
        if !self.plain_memory(mem) {
            self.memory_grow_at(mem);
            return Ok(());
        }
        let delta = self.pop();
        let v = self.call_builtin(Builtin::MemoryGrow, &[delta]);
        self.push(v);
        Ok(())
    }

    /// Pops three operands (bottom first).
    pub(crate) fn pop3(&mut self) -> [Value; 3] {
        let c = self.pop();
        let (a, b) = self.pop2();
        [a, b, c]
    }

    pub(crate) fn memory_fill(&mut self, mem: u32) -> Res {
        if !self.plain_memory(mem) {
            self.memory_fill_at(mem);
            return Ok(());
        }
        let a = self.pop3();
        self.call_builtin_checked(Builtin::MemoryFill, &a);
        Ok(())
    }

    pub(crate) fn memory_copy(&mut self, dst: u32, src: u32) -> Res {
        if !self.plain_memory(dst) || !self.plain_memory(src) {
            self.memory_copy_at(dst, src);
            return Ok(());
        }
        let a = self.pop3();
        self.call_builtin_checked(Builtin::MemoryCopy, &a);
        Ok(())
    }

    pub(crate) fn memory_init(&mut self, seg: u32, mem: u32) -> Res {
        if !self.plain_memory(mem) {
            self.memory_init_at(seg, mem);
            return Ok(());
        }
        let [d, s, n] = self.pop3();
        let seg = self.b.ins().iconst(I32, seg as i64);
        self.call_builtin_checked(Builtin::MemoryInit, &[seg, d, s, n]);
        Ok(())
    }

    pub(crate) fn data_drop(&mut self, seg: u32) {
        let seg = self.b.ins().iconst(I32, seg as i64);
        self.call_builtin(Builtin::DataDrop, &[seg]);
    }

    // ---- tables ---------------------------------------------------------------------

    /// Checks `index` against the table length (TableOutOfBounds) and returns
    /// the address of the element.
    fn table_element_addr(&mut self, table: u32, index: Value) -> Res<Value> {
        let tab = self.table_ptr(table)?;
        let flags = self.mutable(self.regions.tables);
        let len = self.b.ins().load(I64, flags, tab, TABLE_LENGTH);
        // A 64-bit table's index is compared whole.
        let index = if self.b.func.dfg.value_type(index) == I64 {
            index
        } else {
            self.b.ins().uextend(I64, index)
        };
        let oob = self
            .b
            .ins()
            .icmp(IntCC::UnsignedGreaterThanOrEqual, index, len);
        self.b
            .ins()
            .trapnz(oob, user_trap(TrapCode::TableOutOfBounds));
        let elems = self.b.ins().load(I64, flags, tab, TABLE_ELEMENTS);
        let scaled = self.b.ins().ishl_imm_u(index, 3);
        Ok(self.b.ins().iadd(elems, scaled))
    }

    /// Loads element `index` of `table` (bounds-checked).
    pub(crate) fn table_element(&mut self, table: u32, index: Value) -> Res<Value> {
        let addr = self.table_element_addr(table, index)?;
        let flags = self.mutable(self.regions.tables);
        Ok(self.b.ins().load(I64, flags, addr, 0))
    }

    pub(crate) fn table_get(&mut self, table: u32) -> Res {
        let index = self.pop();
        let v = self.table_element(table, index)?;
        self.push(v);
        Ok(())
    }

    pub(crate) fn table_set(&mut self, table: u32) -> Res {
        let (index, v) = self.pop2();
        let addr = self.table_element_addr(table, index)?;
        let flags = self.mutable(self.regions.tables);
        self.b.ins().store(flags, v, addr, 0);
        Ok(())
    }

    pub(crate) fn table_size(&mut self, table: u32) -> Res {
        let tab = self.table_ptr(table)?;
        let flags = self.mutable(self.regions.tables);
        let len = self.b.ins().load(I64, flags, tab, TABLE_LENGTH);
        let v = if self.module.tables[table as usize].table64 {
            len
        } else {
            self.b.ins().ireduce(I32, len)
        };
        self.push(v);
        Ok(())
    }

    fn imm32(&mut self, v: u32) -> Value {
        self.b.ins().iconst(I32, v as i64)
    }

    /// A table index or length as the builtins take it (u32): an i64 (of a
    /// 64-bit table) saturates to `u32::MAX`, which is out of bounds of
    /// every table (at most `MAX_TABLE_ELEMENTS`), as the i64 value is.
    fn table_operand32(&mut self, v: Value) -> Value {
        if self.b.func.dfg.value_type(v) != I64 {
            return v;
        }
        let max = self.b.ins().iconst(I64, u32::MAX as i64);
        let sat = self.b.ins().umin(v, max);
        self.b.ins().ireduce(I32, sat)
    }

    pub(crate) fn table_grow(&mut self, table: u32) {
        let (init, delta) = self.pop2();
        let delta = self.table_operand32(delta);
        let t = self.imm32(table);
        let v = self.call_builtin(Builtin::TableGrow, &[t, init, delta]);
        // The old size, or -1 (u32::MAX): sizes stay below 2^31.
        let v = if self.module.tables[table as usize].table64 {
            self.b.ins().sextend(I64, v)
        } else {
            v
        };
        self.push(v);
    }

    pub(crate) fn table_fill(&mut self, table: u32) {
        let [d, v, n] = self.pop3();
        let (d, n) = (self.table_operand32(d), self.table_operand32(n));
        let t = self.imm32(table);
        self.call_builtin_checked(Builtin::TableFill, &[t, d, v, n]);
    }

    pub(crate) fn table_copy(&mut self, dst_table: u32, src_table: u32) {
        let [d, s, n] = self.pop3();
        let [d, s, n] = [d, s, n].map(|v| self.table_operand32(v));
        let dt = self.imm32(dst_table);
        let st = self.imm32(src_table);
        self.call_builtin_checked(Builtin::TableCopy, &[dt, st, d, s, n]);
    }

    pub(crate) fn table_init(&mut self, seg: u32, table: u32) {
        let [d, s, n] = self.pop3();
        let d = self.table_operand32(d);
        let t = self.imm32(table);
        let seg = self.imm32(seg);
        self.call_builtin_checked(Builtin::TableInit, &[t, seg, d, s, n]);
    }

    pub(crate) fn elem_drop(&mut self, seg: u32) {
        let seg = self.imm32(seg);
        self.call_builtin(Builtin::ElemDrop, &[seg]);
    }
}
