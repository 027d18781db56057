//! The virtual machine's runtime structures: VMContext layout, linear memory,
//! tables, traps and signal handling.

pub mod code_table;
pub mod layout;
pub mod memory;
pub mod table;
pub mod traps;
