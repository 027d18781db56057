//! The virtual machine's runtime structures: VMContext layout, linear memory,
//! tables, traps and signal handling, exception unwinding.

pub mod code_table;
pub mod layout;
pub mod memory;
pub mod osr;
pub mod table;
pub mod thread;
pub mod traps;
pub mod unwind;
pub mod watch;
pub mod watch_hw;
