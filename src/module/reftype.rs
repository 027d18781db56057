//! Exact reference types (function references): nullability and heap type,
//! with concrete function types canonicalized engine-wide, for linking and
//! signature identity. At run time every function reference is a funcref.
//!
//! A concrete type's identity is the structure of its function type, where
//! references to other types name their canonical ids (a type may refer
//! only to earlier types or to itself, so ids exist before they are used).
//! That is the spec's type equivalence for function types in singleton
//! recursion groups.

use super::ModuleInfo;
use crate::error::{Error, Result};
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

/// Canonical ids of the function types of one recursion group whose first
/// type is module type `first` (`ids`: the module's earlier types), each
/// with whether it needs its own signature id (it mentions exact reference
/// types, is not final, or shares a group). Two types are the same when
/// their groups are the same and they sit at the same place in them.
pub fn rec_group(
    types: &[(wasmparser::FuncType, bool)],
    first: u32,
    ids: &[u32],
) -> Vec<(u32, bool)> {
    let mut key = String::from("rec[");
    let mut typed = vec![types.len() > 1; types.len()];
    for (k, (ft, is_final)) in types.iter().enumerate() {
        typed[k] |= !is_final;
        key.push_str(if *is_final { " (func" } else { " (sub func" });
        for (sep, list) in [(" (", ft.params()), (") -> (", ft.results())] {
            key.push_str(sep);
            for &t in list {
                key.push(' ');
                let inner = match t {
                    wasmparser::ValType::Ref(rt) => match rt.heap_type() {
                        wasmparser::HeapType::Concrete(i) | wasmparser::HeapType::Exact(i) => {
                            i.as_module_index().filter(|&i| i >= first)
                        }
                        _ => None,
                    }
                    .map(|i| (rt.is_nullable(), i - first)),
                    _ => None,
                };
                if let Some((nullable, i)) = inner {
                    typed[k] = true;
                    key.push_str(&format!(
                        "(ref {} rec.{i})",
                        if nullable { "null" } else { "" }
                    ));
                } else if let Some(r) = exact(t, ids) {
                    typed[k] = true;
                    key.push_str(&format!("{r:?}"));
                } else {
                    key.push_str(&format!("{t:?}"));
                }
            }
        }
        key.push_str("))");
    }
    key.push(']');
    (0..types.len())
        .map(|k| (canonical_id(format!("{key}.{k}")), typed[k]))
        .collect()
}

/// Whether value type `t` is one wdb runs (no GC reference types).
fn supported(t: wasmparser::ValType) -> bool {
    ValType::from_wasmparser(t).is_some()
}

fn needs_gc(offset: usize, what: &str) -> Error {
    Error::Invalid {
        offset,
        message: format!("{what} needs the GC proposal, which wdb does not run"),
    }
}

impl ModuleInfo {
    /// Reads a (validated) type section: function types only, in recursion
    /// groups, without declared supertypes.
    pub(super) fn read_types(&mut self, r: wasmparser::TypeSectionReader<'_>) -> Result<()> {
        for group in r.into_iter_with_offsets() {
            let (offset, group) = group.map_err(Error::invalid)?;
            let offset = offset as usize;
            let first = self.types.len() as u32;
            let mut fts = Vec::new();
            for st in group.into_types() {
                if !st.supertype_idxs.is_empty() {
                    return Err(needs_gc(offset, "a declared supertype"));
                }
                let wasmparser::CompositeInnerType::Func(ft) = st.composite_type.inner else {
                    return Err(needs_gc(offset, "a struct or array type"));
                };
                if !ft
                    .params()
                    .iter()
                    .chain(ft.results())
                    .all(|&t| supported(t))
                {
                    return Err(needs_gc(offset, "a GC reference type"));
                }
                fts.push((ft, st.is_final));
            }
            let ids = rec_group(&fts, first, &self.type_ids);
            for ((ft, _), (id, typed)) in fts.iter().zip(ids) {
                self.type_ids.push(id);
                let mut t = super::convert_func_type(ft);
                if typed {
                    t = t.with_exact_id(id);
                }
                self.types.push(t);
            }
        }
        Ok(())
    }

    /// Refuses GC reference types in imports, tables, globals and element
    /// segments (validation admits them).
    pub(super) fn refuse_gc(&self, payload: &wasmparser::Payload<'_>) -> Result<()> {
        use wasmparser::{Payload as P, TypeRef};
        let ref_ok = |rt: wasmparser::RefType| supported(wasmparser::ValType::Ref(rt));
        let check = |ok: bool, offset: u64| {
            if ok {
                Ok(())
            } else {
                Err(needs_gc(offset as usize, "a GC reference type"))
            }
        };
        match payload {
            P::ImportSection(r) => {
                for imp in r.clone().into_imports_with_offsets() {
                    let (offset, imp) = imp.map_err(Error::invalid)?;
                    let ok = match imp.ty {
                        TypeRef::Global(g) => supported(g.content_type),
                        TypeRef::Table(t) => ref_ok(t.element_type),
                        _ => true,
                    };
                    check(ok, offset)?;
                }
            }
            P::TableSection(r) => {
                for t in r.clone().into_iter_with_offsets() {
                    let (offset, t) = t.map_err(Error::invalid)?;
                    check(ref_ok(t.ty.element_type), offset)?;
                }
            }
            P::GlobalSection(r) => {
                for g in r.clone().into_iter_with_offsets() {
                    let (offset, g) = g.map_err(Error::invalid)?;
                    check(supported(g.ty.content_type), offset)?;
                }
            }
            P::ElementSection(r) => {
                for e in r.clone().into_iter_with_offsets() {
                    let (offset, e) = e.map_err(Error::invalid)?;
                    if let wasmparser::ElementItems::Expressions(rt, _) = e.items {
                        check(ref_ok(rt), offset)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }
}
