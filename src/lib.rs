//! wdb engine: a WebAssembly runtime with a single-pass baseline compiler and
//! a Cranelift optimizing tier, built to be debugged instruction by instruction.
//!
//! The engine never prints and never reads keys; the `wdb` binary (package
//! `wdb-ui`) is one client of this API.

pub mod abi;
pub mod baseline;
pub mod code;
pub(crate) mod codecache;
pub mod debugger;
pub mod engine;
pub mod error;
pub mod module;
pub mod optimizing;
pub mod profile;
pub mod runtime;
pub mod tiering;
pub mod types;
pub mod vm;
pub mod wasi;
pub mod wast;

pub use code::Tier;
pub use engine::{Config, Engine, Strategy};
pub use error::{Error, FrameInfo, Result, Trap, TrapCode};
pub use runtime::debug::{CallerFrame, DebugContext, DebugValue, HookKind};
pub use runtime::{
    Caller, Extern, ExternRef, Func, Global, Instance, InterruptHandle, Linker, Memory, Module,
    Store, Table, Val,
};
pub use types::{FuncType, ValType};
