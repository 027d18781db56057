//! The debugger engine: a program running on its own thread, driven by
//! commands and reporting events (DESIGN.md §3.8). Attaching tiers every
//! function down to baseline debug code; profile mode tiers everything up.
//! The TUI and the batch console (`console`) are clients of `Session`.

pub mod annotate;
mod api;
pub mod console;
mod cxx_exception;
pub mod dwarf;
pub mod dwarf_types;
pub mod expr;
pub mod inspect;
pub mod machine_code;
mod program;
mod ptype_class;
pub mod registers;
mod session;
mod source;
mod trap_check;
pub mod v128;
pub mod values;

pub use api::*;
pub use session::{use_hardware_watchpoints, DisasLine, Session, SessionConfig};
