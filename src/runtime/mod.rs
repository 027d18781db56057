//! The runtime API: modules, stores, instances, functions, linking.

pub mod builtins;
pub mod debug;
pub mod exceptions;
pub mod func;
pub mod instance;
pub mod linker;
mod memory_builtins;
pub mod module;
pub mod osr;
pub mod osr_return;
pub mod osr_up;
pub mod store;
pub mod values;

pub use exceptions::Tag;
pub use func::{Caller, Func};
pub use instance::{DebugFlags, Extern, Global, Instance, Memory, Table};
pub use linker::Linker;
pub use module::Module;
pub use store::{InterruptHandle, Store};
pub use values::{ExternRef, Val};
