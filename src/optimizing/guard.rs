//! The large-function guard: a function too big to optimize in reasonable
//! time stays baseline, in every strategy (`optimized`, `mixed`, `dynamic`
//! tier-up and profile mode alike).
//!
//! The rule: a function stays baseline when its body is larger than
//! [`MAX_BODY_BYTES`], or when its locals times its control blocks (`block`,
//! `loop`, `if`) exceed [`MAX_LOCALS_X_BLOCKS`]. The optimizing tier's SSA
//! construction and its liveness pass both grow with locals × blocks, and
//! everything else with the body size; within these limits one function
//! compiles in well under a second (BENCHMARKS.md, "large functions").

use crate::module::ModuleInfo;

/// Largest body (bytes, local declarations included) the optimizing tier takes.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// Largest locals × control blocks the optimizing tier takes.
pub const MAX_LOCALS_X_BLOCKS: u64 = 50_000_000;

/// Why function `func` (a defined function) stays baseline, or `None` when
/// the optimizing tier may compile it.
pub fn too_large_to_optimize(info: &ModuleInfo, func: u32) -> Option<String> {
    let body = info.body(func)?;
    let size = body.range.len();
    if size > MAX_BODY_BYTES {
        return Some(format!(
            "body of {size} bytes > {MAX_BODY_BYTES}: too large to optimize, stays baseline"
        ));
    }
    // Cheap bounds first: without enough locals or bytes for that many blocks
    // (each takes at least two bytes), the product cannot reach the limit.
    let mut reader = info.read_body(func, None).ok()?;
    let locals = reader.locals.len() as u64;
    if locals * (size as u64 / 2) <= MAX_LOCALS_X_BLOCKS {
        return None;
    }
    let mut blocks = 0u64;
    while !reader.ops.eof() {
        match reader.ops.read() {
            Ok(
                wasmparser::Operator::Block { .. }
                | wasmparser::Operator::Loop { .. }
                | wasmparser::Operator::If { .. },
            ) => blocks += 1,
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    (locals * blocks > MAX_LOCALS_X_BLOCKS).then(|| {
        format!(
            "{locals} locals x {blocks} blocks > {MAX_LOCALS_X_BLOCKS}: \
             too large to optimize, stays baseline"
        )
    })
}
