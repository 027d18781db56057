//! wdb engine: a WebAssembly runtime with a single-pass baseline compiler and
//! a Cranelift optimizing tier, built to be debugged instruction by instruction.
//!
//! The engine never prints and never reads keys; the `wdb` binary (package
//! `wdb-ui`) is one client of this API.
//!
//! The path of a module (DESIGN.md §2), one private module per stage, with the
//! public API re-exported below:
//!
//! ```text
//! bytes ─► module (decode, validate) ─► baseline | optimizing (compile)
//!       ─► code (publish W^X, pc registry) ─► codecache (code per tier)
//!       ─► vm (VMContext, memory, tables, code table, traps)
//!       ─► tiering (policy) ─► runtime (Engine/Store/Instance API)
//!       ─► debugger, profile, wasi, wast (tools on top)
//! ```

mod abi;
mod baseline;
mod code;
mod codecache;
mod engine;
mod error;
mod module;
mod optimizing;
mod runtime;
mod streaming;
mod types;
mod vm;

/// The debugger engine: sessions, commands, events, snapshots, DWARF.
pub mod debugger;
/// Profile mode: the sampler, reports and the perf map.
pub mod profile;
/// Tier changes of a running instance: modes, per-function tiers, switches.
pub mod tiering;
/// WASI preview 1 for guests, and the command launcher.
pub mod wasi;
/// The `.wast` script runner.
pub mod wast;

pub use code::{live_code_bytes, Tier, ValueLoc};
pub use engine::{Config, Engine, OsrStressMode, Strategy, TierEvent, DEFAULT_TIERING_BUDGET};
pub use error::{Error, FrameInfo, Result, Thrown, Trap, TrapCode};
pub use module::{features as wasm_features, ExportKind, GlobalType};
pub use runtime::debug::{CallerFrame, DebugContext, DebugValue, HookKind};
pub use runtime::module::wasm_bytes;
pub use runtime::{
    Caller, DebugFlags, Extern, ExternRef, Func, Global, Instance, InterruptHandle, Linker, Memory,
    Module, Store, Table, Tag, Val,
};
pub use types::{FuncType, ValType};

/// Test hooks: not part of the API.
#[doc(hidden)]
pub mod testing {
    pub use crate::code::with_registry_writer_held;
    pub use crate::runtime::osr::{check_layouts_agree, moves as osr_moves};
    pub use crate::runtime::osr_up::{moves_up as osr_moves_up, up_skips as osr_up_skips};
}
