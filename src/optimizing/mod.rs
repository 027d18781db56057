//! The optimizing tier: wasm → Cranelift IR → machine code. (Being written.)
