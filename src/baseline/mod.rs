//! The single-pass baseline compiler (x86-64, dynasmrt): like V8's Liftoff,
//! one pass over the operators with validation interleaved, no IR, a virtual
//! operand stack, machine code out. Also the trampolines between host and wasm.

pub mod cache;
pub mod codegen;
pub mod masm;
pub mod regalloc;
pub mod stack;
pub mod trampolines;
pub mod x64;

pub use codegen::{compile_function, CompileOptions};
