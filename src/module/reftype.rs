//! Exact reference types (function references): nullability and heap type,
//! with concrete function types canonicalized engine-wide, for linking and
//! signature identity. At run time every function reference is a funcref.
//!
//! A concrete type's identity is the structure of its function type, where
//! references to other types name their canonical ids (a type may refer
//! only to earlier types or to itself, so ids exist before they are used).
//! That is the spec's type equivalence for function types in singleton
//! recursion groups.

use crate::types::ValType;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// A heap type without GC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Heap {
    Func,
    NoFunc,
    Extern,
    NoExtern,
    /// A function type, by canonical id (see [`canonical_id`]).
    Concrete(u32),
}

/// A reference type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RefType {
    pub nullable: bool,
    pub heap: Heap,
}

impl RefType {
    /// The reference type a plain `funcref`/`externref` value type means.
    pub fn plain(ty: ValType) -> Option<RefType> {
        let heap = match ty {
            ValType::FuncRef => Heap::Func,
            ValType::ExternRef => Heap::Extern,
            _ => return None,
        };
        Some(RefType {
            nullable: true,
            heap,
        })
    }

    /// `exact` if given, else the plain type of `ty`.
    pub fn of(ty: ValType, exact: Option<RefType>) -> Option<RefType> {
        exact.or_else(|| RefType::plain(ty))
    }

    /// Subtyping: `self <: other`.
    pub fn is_subtype_of(self, other: RefType) -> bool {
        use Heap::*;
        let heap = self.heap == other.heap
            || matches!(
                (self.heap, other.heap),
                (NoFunc, Func | Concrete(_)) | (Concrete(_), Func) | (NoExtern, Extern)
            );
        heap && (!self.nullable || other.nullable)
    }
}

/// The engine-wide id of a function type's canonical form `key`.
fn canonical_id(key: String) -> u32 {
    static IDS: OnceLock<Mutex<HashMap<String, u32>>> = OnceLock::new();
    let mut ids = IDS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let next = ids.len() as u32;
    *ids.entry(key).or_insert(next)
}

/// The exact reference type of `rt` in a module whose earlier types have
/// canonical ids `ids` (`this`: the id being defined, for a self reference).
pub fn convert(rt: wasmparser::RefType, ids: &[u32]) -> Option<RefType> {
    use wasmparser::{AbstractHeapType as A, HeapType as H};
    let heap = match rt.heap_type() {
        H::Concrete(i) | H::Exact(i) => Heap::Concrete(*ids.get(i.as_module_index()? as usize)?),
        H::Abstract { shared: false, ty } => match ty {
            A::Func => Heap::Func,
            A::NoFunc => Heap::NoFunc,
            A::Extern => Heap::Extern,
            A::NoExtern => Heap::NoExtern,
            _ => return None,
        },
        H::Abstract { .. } => return None,
    };
    Some(RefType {
        nullable: rt.is_nullable(),
        heap,
    })
}

/// The exact reference type of value type `t`, when it differs from the
/// plain one its [`ValType`] implies.
pub fn exact(t: wasmparser::ValType, ids: &[u32]) -> Option<RefType> {
    let wasmparser::ValType::Ref(rt) = t else {
        return None;
    };
    let r = convert(rt, ids)?;
    let plain = RefType::plain(ValType::from_wasmparser(t)?)?;
    (r != plain).then_some(r)
}

/// The canonical id of function type `ft`, defined as type `index` of its
/// module, and whether it mentions exact reference types.
pub fn func_type_id(ft: &wasmparser::FuncType, index: u32, ids: &[u32]) -> (u32, bool) {
    let mut typed = false;
    let mut key = String::from("func");
    for (sep, list) in [("(", ft.params()), (")->(", ft.results())] {
        key.push_str(sep);
        for &t in list {
            key.push(' ');
            match t {
                wasmparser::ValType::Ref(rt) => {
                    let self_ref = matches!(
                        rt.heap_type(),
                        wasmparser::HeapType::Concrete(i) | wasmparser::HeapType::Exact(i)
                            if i.as_module_index() >= Some(index)
                    );
                    if self_ref {
                        typed = true;
                        key.push_str(if rt.is_nullable() {
                            "(ref null self)"
                        } else {
                            "(ref self)"
                        });
                    } else if let Some(r) = exact(t, ids) {
                        typed = true;
                        key.push_str(&format!("{r:?}"));
                    } else {
                        key.push_str(&format!("{t:?}"));
                    }
                }
                _ => key.push_str(&format!("{t:?}")),
            }
        }
    }
    key.push(')');
    (canonical_id(key), typed)
}
