//! The engine side of breakable positions: when debug code reaches an
//! instruction of a function whose debug flag is set, it saves every register
//! and calls here; `DebugContext` reads locals and operand-stack values through
//! the debug side table of the code that is running.

use super::instance::instance_of_vmctx;
use crate::code::{self, DebugSideTable, ValueLoc};
use crate::error::Trap;
use crate::types::ValType;
use crate::vm::layout::DEBUG_REGS_SIZE;
use crate::vm::traps;

/// A paused instruction of debug code.
pub struct DebugContext<'a> {
    pub func_index: u32,
    /// Index of the breakable position inside the function.
    pub point: u32,
    pub wasm_offset: u32,
    pub module_id: u64,
    /// Saved registers: 16 GPRs (hardware order) then 16 xmm (16 bytes each).
    regs: *mut u64,
    fp: usize,
    table: &'a DebugSideTable,
}

/// A value as the debugger reports it: type, raw bits, where it lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebugValue {
    pub ty: ValType,
    pub bits: u64,
    pub loc: ValueLoc,
}

impl DebugContext<'_> {
    fn read(&self, ty: ValType, loc: ValueLoc) -> DebugValue {
        // SAFETY: `regs` is the save area of the debug stub and `fp` the frame
        // of the paused function; side-table locations point inside them.
        let raw = unsafe {
            match loc {
                ValueLoc::Gpr(r) => *self.regs.add(r as usize),
                ValueLoc::Xmm(x) => *self.regs.add(16 + 2 * x as usize),
                ValueLoc::Frame(off) => *((self.fp as isize + off as isize) as *const u64),
                ValueLoc::Const(c) => c,
            }
        };
        let bits = if ty.is_64bit() {
            raw
        } else {
            raw & 0xffff_ffff
        };
        DebugValue { ty, bits, loc }
    }

    pub fn locals(&self) -> Vec<DebugValue> {
        self.table
            .locals
            .iter()
            .map(|&(t, l)| self.read(t, l))
            .collect()
    }

    /// The operand stack, bottom first.
    pub fn stack(&self) -> Vec<DebugValue> {
        self.table
            .stack_at(self.point as usize)
            .iter()
            .map(|&(t, l)| self.read(t, l))
            .collect()
    }

    /// All 16 general-purpose registers at the pause.
    pub fn gprs(&self) -> [u64; 16] {
        let mut out = [0; 16];
        for (i, v) in out.iter_mut().enumerate() {
            // SAFETY: the save area holds 16 GPR slots.
            *v = unsafe { *self.regs.add(i) };
        }
        out[4] = self.fp as u64; // rsp is not saved; report the frame pointer's region
        out
    }

    pub fn frame_pointer(&self) -> usize {
        self.fp
    }
}

pub(crate) fn run_hook(vmctx: *mut u8, func: u32, point: u32, regs: *mut u64, fp: usize) -> u32 {
    // The stub's return address sits just above the save area; it lies in the
    // code that is running, whose side table we need.
    // SAFETY: `regs` points to the save area built by the debug stub.
    let ret = unsafe { *((regs as *mut u8).add(DEBUG_REGS_SIZE as usize) as *const usize) };
    let Some(obj) = code::object_at(ret) else {
        return 0;
    };
    let Some(f) = obj.func_at(ret) else { return 0 };
    let Some(table) = f.debug.as_ref() else {
        return 0;
    };
    let Some(p) = table.points.get(point as usize) else {
        return 0;
    };
    let act = traps::current();
    if act.is_null() {
        return 0;
    }
    let Some(inst) = instance_of_vmctx(vmctx) else {
        return 0;
    };
    let store_id = inst.store_id;
    let _ = store_id;
    let ctx = DebugContext {
        func_index: func,
        point,
        wasm_offset: p.wasm_offset,
        module_id: obj.module_id,
        regs,
        fp,
        table,
    };
    // SAFETY: the activation's store is the store running this code; only its
    // debug hook is touched here (type-erased access through StoreInner, which
    // is the first field of every Store<T>).
    let inner = unsafe { &mut *((*act).store as *mut super::store::StoreInner) };
    let result: Result<(), Trap> = match inner.debug_hook.as_mut() {
        Some(h) => h(&ctx),
        None => Ok(()),
    };
    match result {
        Ok(()) => 0,
        Err(t) => {
            traps::set_pending(t);
            1
        }
    }
}
