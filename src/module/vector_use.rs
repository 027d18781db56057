//! Whether a defined function touches `v128` values (every tier compiles
//! such functions; tools and tests ask which functions hold vector code).

use super::ModuleInfo;
use crate::types::{FuncType, ValType};
use wasmparser::{BlockType, Operator};

/// First byte of every SIMD and relaxed-SIMD opcode.
const SIMD_PREFIX: u8 = 0xfd;

impl ModuleInfo {
    /// True when function `func` has a `v128` parameter, result or local, or
    /// an instruction that makes, takes or moves one (a vector operator, or a
    /// call, global access, block or `select` typed with `v128`). An
    /// unreadable body counts as vector-free (its compiler reports it).
    pub fn uses_v128(&self, func: u32) -> bool {
        let Ok(mut body) = self.read_body(func, None) else {
            return false;
        };
        let ty = self.func_type(func);
        if ty.results().contains(&ValType::V128) || body.locals.contains(&ValType::V128) {
            return true;
        }
        let has = |t: &FuncType| t.params().iter().chain(t.results()).any(|t| t.is_v128());
        let typed = |i: u32| self.types.get(i as usize).is_some_and(has);
        while !body.ops.eof() {
            // The opcode's first byte, from the body's own bytes (a streamed
            // module's bodies are not in `self.bytes` yet).
            if body.ops.get_binary_reader().read_u8().ok() == Some(SIMD_PREFIX) {
                return true;
            }
            let Ok(op) = body.ops.read() else {
                return false;
            };
            let uses = match op {
                Operator::Call { function_index } | Operator::ReturnCall { function_index } => {
                    // (Not validated yet: an index out of range is the
                    // validator's error to report, not ours.)
                    self.funcs
                        .get(function_index as usize)
                        .is_some_and(|&t| typed(t))
                }
                Operator::CallIndirect { type_index, .. }
                | Operator::ReturnCallIndirect { type_index, .. }
                | Operator::CallRef { type_index }
                | Operator::ReturnCallRef { type_index } => typed(type_index),
                Operator::GlobalGet { global_index } | Operator::GlobalSet { global_index } => self
                    .globals
                    .get(global_index as usize)
                    .is_some_and(|g| g.ty.is_v128()),
                Operator::Block { blockty }
                | Operator::Loop { blockty }
                | Operator::If { blockty } => match blockty {
                    BlockType::Empty => false,
                    BlockType::Type(t) => t == wasmparser::ValType::V128,
                    BlockType::FuncType(i) => typed(i),
                },
                Operator::TypedSelect { ty } => ty == wasmparser::ValType::V128,
                _ => false,
            };
            if uses {
                return true;
            }
        }
        false
    }
}
