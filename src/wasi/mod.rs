//! WASI preview 1 (`wasi_snapshot_preview1`) host functions. (Being written.)
