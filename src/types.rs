//! Value types, function types and the engine-wide interning of signatures.
//!
//! Both tiers and the runtime agree on one canonical id per distinct function
//! type, so `call_indirect` compares two `u32`s no matter which module a
//! function came from.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// A WebAssembly value type (Wasm 2.0, with the 128-bit vector type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValType {
    I32,
    I64,
    F32,
    F64,
    V128,
    FuncRef,
    ExternRef,
    /// A reference to an exception (`exnref`, exception handling).
    ExnRef,
}

impl ValType {
    pub fn from_wasmparser(ty: wasmparser::ValType) -> Option<ValType> {
        use wasmparser::ValType as W;
        Some(match ty {
            W::I32 => ValType::I32,
            W::I64 => ValType::I64,
            W::F32 => ValType::F32,
            W::F64 => ValType::F64,
            W::V128 => ValType::V128,
            // Typed function references (`(ref null? $t)`, `(ref func)`,
            // `nofunc`) are funcrefs at run time; validation and linking
            // keep the exact type (see `crate::module::reftype`).
            W::Ref(r) => match r.heap_type() {
                wasmparser::HeapType::Concrete(_) | wasmparser::HeapType::Exact(_) => {
                    ValType::FuncRef
                }
                wasmparser::HeapType::Abstract { shared: false, ty } => {
                    use wasmparser::AbstractHeapType as A;
                    match ty {
                        A::Func | A::NoFunc => ValType::FuncRef,
                        A::Extern | A::NoExtern => ValType::ExternRef,
                        A::Exn | A::NoExn => ValType::ExnRef,
                        _ => return None,
                    }
                }
                wasmparser::HeapType::Abstract { .. } => return None,
            },
        })
    }

    pub fn is_float(self) -> bool {
        matches!(self, ValType::F32 | ValType::F64)
    }

    pub fn is_ref(self) -> bool {
        matches!(
            self,
            ValType::FuncRef | ValType::ExternRef | ValType::ExnRef
        )
    }

    /// True for types wider than 32 bits (64-bit scalars, references, v128).
    pub fn is_64bit(self) -> bool {
        !matches!(self, ValType::I32 | ValType::F32)
    }

    pub fn is_v128(self) -> bool {
        self == ValType::V128
    }

    /// Values that travel in xmm registers at calls: floats and vectors.
    pub fn in_xmm(self) -> bool {
        matches!(self, ValType::F32 | ValType::F64 | ValType::V128)
    }

    /// 8-byte words the value takes in a values array, a results area or a
    /// global cell (see `vm::layout::value_offsets`).
    pub fn words(self) -> usize {
        if self == ValType::V128 {
            2
        } else {
            1
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValType::I32 => "i32",
            ValType::I64 => "i64",
            ValType::F32 => "f32",
            ValType::F64 => "f64",
            ValType::V128 => "v128",
            ValType::FuncRef => "funcref",
            ValType::ExternRef => "externref",
            ValType::ExnRef => "exnref",
        })
    }
}

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    params: Arc<[ValType]>,
    results: Arc<[ValType]>,
    /// The canonical id of the exact type when it mentions typed function
    /// references (see `crate::module::reftype`), which the value types
    /// alone do not tell apart.
    exact: Option<u32>,
}

impl FuncType {
    pub fn new(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> FuncType {
        FuncType {
            params: params.into_iter().collect(),
            results: results.into_iter().collect(),
            exact: None,
        }
    }

    /// This type with the canonical id of its exact form.
    pub fn with_exact_id(mut self, id: u32) -> FuncType {
        self.exact = Some(id);
        self
    }

    pub fn params(&self) -> &[ValType] {
        &self.params
    }

    pub fn results(&self) -> &[ValType] {
        &self.results
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |v: &[ValType]| {
            v.iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        write!(f, "[{}] -> [{}]", list(&self.params), list(&self.results))
    }
}

/// Canonical signature id, unique per distinct [`FuncType`] within one engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SigId(pub u32);

/// Engine-wide interner of function types.
#[derive(Default)]
pub(crate) struct SigRegistry {
    inner: Mutex<SigRegistryInner>,
}

#[derive(Default)]
struct SigRegistryInner {
    ids: HashMap<FuncType, SigId>,
    types: Vec<FuncType>,
}

impl SigRegistry {
    pub fn intern(&self, ty: &FuncType) -> SigId {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(id) = inner.ids.get(ty) {
            return *id;
        }
        let id = SigId(inner.types.len() as u32);
        inner.types.push(ty.clone());
        inner.ids.insert(ty.clone(), id);
        id
    }

    pub fn lookup(&self, id: SigId) -> Option<FuncType> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.types.get(id.0 as usize).cloned()
    }
}
