//! The DWARF adapter of a paused frame: values of its locals, globals and
//! operand stack, and linear memory, for DWARF location expressions.

use crate::debugger::api::*;
use crate::debugger::dwarf::DwarfEnv;

/// Values for DWARF expressions: a frame's locals plus linear memory.
pub(crate) struct FrameEnv<'a> {
    pub locals: &'a [Value],
    pub globals: &'a [GlobalValue],
    pub stack: &'a [Value],
    pub memory: Option<&'a [u8]>,
}

impl DwarfEnv for FrameEnv<'_> {
    fn local(&self, index: u32) -> Option<u64> {
        self.locals
            .get(index as usize)
            .filter(|v| v.place.has_value())
            .map(|v| v.bits)
    }
    fn global(&self, index: u32) -> Option<u64> {
        self.globals.get(index as usize).map(|g| g.bits)
    }
    fn stack(&self, index_from_top: u32) -> Option<u64> {
        let n = self.stack.len();
        let i = n.checked_sub(1 + index_from_top as usize)?;
        self.stack.get(i).map(|v| v.bits)
    }
    fn memory(&self, addr: u64, len: u32) -> Option<Vec<u8>> {
        let m = self.memory?;
        let end = addr.checked_add(len as u64)?;
        m.get(addr as usize..end as usize).map(<[u8]>::to_vec)
    }
}
