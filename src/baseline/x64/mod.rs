//! The x86-64 back end of the baseline compiler: `asm.rs` encodes single
//! instructions (with `simd.rs` for the vector ones); these two are the only
//! files of the tier with `dynasm!`.

pub mod asm;
pub mod simd;
