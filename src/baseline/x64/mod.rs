//! The x86-64 back end of the baseline compiler: `asm.rs` encodes single
//! instructions (the only file of the tier with `dynasm!`).

pub mod asm;
