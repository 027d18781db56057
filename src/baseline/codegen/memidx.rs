//! Memories other than a 32-bit memory 0 (multi-memory and memory64) for the
//! baseline compiler.
//!
//! Memory 0 of 32 bits keeps the fast path: its base is pinned in r14 and
//! an access is `[r14 + index + offset]`, with no bounds check (the guard
//! region catches it). Any other memory loads its `VMMemory` from
//! `vmctx.memories[k]`; the access keeps the same `[r14 + addr + offset]`
//! form with `addr = index + (base_k - r14)` (wrapping arithmetic), so the
//! load and store emitters are shared. A 32-bit memory k has its own guard
//! region. A 64-bit memory is checked explicitly before the access:
//! `index + offset + width <= length`, trapping `MemoryOutOfBounds` at the
//! access's own wasm offset.
//!
//! memory.size reads the length directly; grow, fill, copy and init call the
//! `*At` builtins with the memory index (or indices) as immediates.

use super::*;

impl CodeGen<'_> {
    /// A 32-bit memory 0: the pinned-base, guard-page fast path.
    pub(super) fn plain_memory(&self, mem: u32) -> bool {
        mem == 0 && !self.memory_is64(0)
    }

    pub(super) fn memory_is64(&self, mem: u32) -> bool {
        self.module
            .memories
            .get(mem as usize)
            .is_some_and(|m| m.is64)
    }

    /// `dst = vmctx.memories[mem]` (the memory's `VMMemory`).
    fn load_vm_memory(&mut self, dst: Gpr, mem: u32) {
        self.masm.load(true, dst, VMCTX, VMCTX_MEMORIES);
        self.masm.load(true, dst, dst, 8 * mem as i32);
    }

    /// `address` for a memory that is not a plain memory 0: pops the index
    /// and returns (register, displacement) for an `[r14 + reg + disp]`
    /// access of `1 << memarg.max_align` bytes (every load and store
    /// accesses its natural alignment's width).
    pub(super) fn address_at(&mut self, memarg: MemArg) -> (Gpr, i32) {
        let mem = match memarg.target {
            wasmparser::MemArgTarget::Memory(m) => m,
            _ => 0,
        };
        let a = self.pop_gpr();
        let t = self.stack.alloc_gpr(&mut self.masm);
        self.load_vm_memory(t, mem);
        if self.memory_is64(mem) {
            let oob = self.trap_label(TrapCode::MemoryOutOfBounds, self.wasm);
            let width = 1u64 << memarg.max_align;
            match memarg.offset.checked_add(width) {
                Some(end) => {
                    // SCRATCH = index + offset + width; a carry or a value
                    // above the length is out of bounds.
                    self.masm.mov_imm(true, SCRATCH, end as i64);
                    self.masm.alu(Alu::Add, true, SCRATCH, Src::Reg(a));
                    self.masm.jcc(Cond::LtU, oob);
                    self.masm
                        .alu(Alu::Cmp, true, SCRATCH, Src::Mem(t, MEMORY_LENGTH));
                    self.masm.jcc(Cond::GtU, oob);
                }
                None => self.masm.jmp(oob),
            }
        }
        self.masm.load(true, t, t, MEMORY_BASE);
        self.masm.alu(Alu::Add, true, a, Src::Reg(t));
        self.masm.alu(Alu::Sub, true, a, Src::Reg(MEM_BASE));
        self.stack.free_gpr(t);
        match i32::try_from(memarg.offset) {
            Ok(disp) => (a, disp),
            Err(_) => {
                // Only a 64-bit memory has offsets this large, and the check
                // above passed, so the sum stays inside the memory.
                self.masm.add_offset64(a, memarg.offset as i64);
                (a, 0)
            }
        }
    }

    pub(super) fn memory_size_at(&mut self, mem: u32) {
        let r = self.stack.alloc_gpr(&mut self.masm);
        self.load_vm_memory(r, mem);
        self.masm.load(true, r, r, MEMORY_LENGTH);
        self.masm.shift_imm(Shift::ShrU, true, r, 16);
        let ty = if self.memory_is64(mem) {
            ValType::I64
        } else {
            ValType::I32
        };
        self.push_gpr(ty, r);
    }

    pub(super) fn memory_grow_at(&mut self, mem: u32) {
        let ty = if self.memory_is64(mem) {
            ValType::I64
        } else {
            ValType::I32
        };
        self.builtin(
            Builtin::MemoryGrowAt,
            &[Arg::Imm(mem as i64), Arg::Stack(0)],
            1,
            Some(ty),
            false,
        );
    }

    pub(super) fn memory_fill_at(&mut self, mem: u32) {
        self.builtin(
            Builtin::MemoryFillAt,
            &[
                Arg::Imm(mem as i64),
                Arg::Stack(0),
                Arg::Stack(1),
                Arg::Stack(2),
            ],
            3,
            None,
            true,
        );
    }

    pub(super) fn memory_copy_at(&mut self, dst_mem: u32, src_mem: u32) {
        self.builtin(
            Builtin::MemoryCopyAt,
            &[
                Arg::Imm(dst_mem as i64),
                Arg::Imm(src_mem as i64),
                Arg::Stack(0),
                Arg::Stack(1),
                Arg::Stack(2),
            ],
            3,
            None,
            true,
        );
    }

    pub(super) fn memory_init_at(&mut self, seg: u32, mem: u32) {
        self.builtin(
            Builtin::MemoryInitAt,
            &[
                Arg::Imm(mem as i64),
                Arg::Imm(seg as i64),
                Arg::Stack(0),
                Arg::Stack(1),
                Arg::Stack(2),
            ],
            3,
            None,
            true,
        );
    }
}
