//! Tables of references. Elements are raw reference words: a funcref is a
//! pointer to a `VMFuncRef` (0 = null), an externref is a host id + 1 (0 = null).

use super::layout::VMTable;
use crate::types::ValType;

pub struct Table {
    elements: Vec<u64>,
    vm: Box<VMTable>,
    pub ty: ValType,
    /// The exact element type of a table a module defined, when it is not
    /// plain `funcref`/`externref` (linking compares it).
    pub rt: Option<crate::module::reftype::RefType>,
    /// Indexed by i64 (table64); linking compares it.
    pub is64: bool,
    max: Option<u64>,
}

// SAFETY: the raw pointer in `vm` points into `elements`, owned by self.
unsafe impl Send for Table {}

/// Largest table we agree to allocate (elements).
pub const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

impl Table {
    pub fn new(ty: ValType, initial: u64, max: Option<u64>, init: u64) -> Option<Table> {
        if initial > MAX_TABLE_ELEMENTS {
            return None;
        }
        let mut elements = vec![init; initial as usize];
        let vm = Box::new(VMTable {
            elements: elements.as_mut_ptr(),
            length: initial,
        });
        Some(Table {
            elements,
            vm,
            ty,
            rt: None,
            is64: false,
            max,
        })
    }

    pub fn len(&self) -> u64 {
        self.elements.len() as u64
    }

    pub fn max(&self) -> Option<u64> {
        self.max
    }

    pub fn get(&self, i: u64) -> Option<u64> {
        self.elements.get(i as usize).copied()
    }

    pub fn elements(&self) -> &[u64] {
        &self.elements
    }

    pub fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }

    /// Returns the old length, or None if the table cannot grow that far.
    pub fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.len();
        let new = old.checked_add(delta)?;
        if new > self.max.unwrap_or(u32::MAX as u64) || new > MAX_TABLE_ELEMENTS {
            return None;
        }
        self.elements.resize(new as usize, init);
        self.vm.elements = self.elements.as_mut_ptr();
        self.vm.length = new;
        Some(old)
    }

    pub fn vm_ptr(&mut self) -> *mut VMTable {
        &mut *self.vm
    }
}
