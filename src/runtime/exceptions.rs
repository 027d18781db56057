//! Exception handling in the runtime: tags (store objects that modules
//! define, import and export), the exception objects a `throw` makes, and
//! how an uncaught exception is described.
//!
//! Exception objects live in their store's exception heap
//! (`vm::exn_heap`), which frees the ones nothing can reach any more when a
//! `throw` finds it full; its module doc states where an exnref can be and
//! why freeing is sound. Exnrefs that reach the host are pinned there.

use super::instance::instance_of_vmctx;
use super::store::StoreInner;
use crate::error::Thrown;
use crate::types::ValType;
use crate::vm::layout::value_offsets;
use crate::vm::unwind::{ExnObj, TagObj};

/// A tag of a store (exception handling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

impl Tag {
    /// The payload types of the tag.
    pub fn params<T>(&self, store: &super::Store<T>) -> Vec<ValType> {
        store.inner.tags[self.index as usize].params.to_vec()
    }
}

/// Adds a tag to the store; returns its index there.
pub(crate) fn new_tag(store: &mut StoreInner, params: &[ValType], sig: u32, name: String) -> u32 {
    store.tags.push(Box::new(TagObj {
        params: params.into(),
        sig,
        name,
    }));
    store.tags.len() as u32 - 1
}

/// Gives the unwinder (`vm::unwind`) what it needs from the runtime.
pub(crate) fn register_unwind_hooks() {
    crate::vm::unwind::register_hooks(crate::vm::unwind::RuntimeHooks {
        create,
        uncaught,
        stop_at_throw: super::debug::run_throw,
        debug_byte: super::debug::debug_byte,
    });
}

/// Makes the exception a `throw` of tag `tag` of the instance of `vmctx`
/// raises, with the payload at `values`; returns its exnref (0 when there
/// is no store to keep it in, which compiled code never sees). Collects
/// the store's unreachable exceptions first when its heap is full.
pub(crate) fn create(vmctx: *mut u8, tag: u32, values: *const u64) -> u64 {
    let Some(inst) = instance_of_vmctx(vmctx) else {
        return 0;
    };
    let Some(&tag) = inst.tags.get(tag as usize) else {
        return 0;
    };
    let act = crate::vm::traps::current();
    if act.is_null() {
        return 0;
    }
    // SAFETY: the activation's store pointer is a `Store<T>`, whose first
    // field (`repr(C)`) is the `StoreInner`; no other reference to it is
    // used while compiled code runs this builtin.
    let store = unsafe { &mut *((*act).store as *mut StoreInner) };
    if store.exns.wants_collection() {
        // Before the payload is copied to the heap: until then it is in the
        // thrower's frame, where the stack scan sees exnrefs in it.
        collect(store);
    }
    // SAFETY: tags are store-owned boxes that outlive every instance using them.
    let words = unsafe { (*tag).params.iter().map(|t| t.words()).sum::<usize>() };
    // SAFETY: the thrower passes a values area for the tag's payload.
    let payload: Box<[u64]> = unsafe { std::slice::from_raw_parts(values, words) }.into();
    store.exns.alloc(tag, payload)
}

/// Frees the exceptions of `store` that nothing can reach: the roots
/// besides the stack are its `exnref` globals and table elements.
fn collect(store: &mut StoreInner) {
    let globals = store
        .globals
        .iter()
        .filter(|g| g.ty.ty == ValType::ExnRef)
        .map(|g| g.value as u64);
    let tables = store
        .tables
        .iter()
        .filter(|t| t.ty == ValType::ExnRef)
        .flat_map(|t| t.elements().iter().copied());
    store.exns.collect(globals.chain(tables));
}

/// Pins every exnref among `vals`: the host has them now.
pub(crate) fn pin_vals(store: &StoreInner, vals: &[super::values::Val]) {
    for v in vals {
        if let super::values::Val::ExnRef(e) = *v {
            store.exns.pin(e);
        }
    }
}

impl<T> super::Store<T> {
    /// How many exception objects the store holds now: the reachable ones
    /// and those no collection has freed yet (at most about twice the
    /// reachable ones, or `vm::exn_heap::MIN_THRESHOLD`).
    pub fn exception_objects(&self) -> usize {
        self.inner.exns.len()
    }

    /// How many times the store has collected unreachable exceptions.
    pub fn exception_collections(&self) -> u64 {
        self.inner.exns.collections()
    }
}

/// The description of exception `exn`, which leaves wasm uncaught: the
/// host gets its exnref (`Thrown::raw`), so it is pinned.
pub(crate) fn uncaught(exn: u64) -> Thrown {
    let act = crate::vm::traps::current();
    if !act.is_null() {
        // SAFETY: as for `create`; only the heap's pin set is touched.
        let store = unsafe { &*((*act).store as *const StoreInner) };
        store.exns.pin(exn);
    }
    describe(exn)
}

/// The tag and payload of exception `exn` (a live exnref of this thread's store).
pub(crate) fn describe(exn: u64) -> Thrown {
    // SAFETY: exnrefs point to store-owned exception objects; the callers
    // pass one being thrown (on the stack, so no collection frees it) or
    // pinned, and an exception in flight belongs to the running store.
    let obj = unsafe { &*(exn as *const ExnObj) };
    // SAFETY: as for `create`: tags outlive the exceptions made of them.
    let tag = unsafe { &*obj.tag };
    let offs = value_offsets(&tag.params);
    let values = tag
        .params
        .iter()
        .zip(offs)
        .map(|(t, o)| {
            let w = obj.values[o as usize / 8];
            match t {
                ValType::I32 => format!("i32:{}", w as u32 as i32),
                ValType::I64 => format!("i64:{}", w as i64),
                ValType::F32 => format!("f32:{}", f32::from_bits(w as u32)),
                ValType::F64 => format!("f64:{}", f64::from_bits(w)),
                ValType::V128 => {
                    let hi = obj.values[o as usize / 8 + 1];
                    format!("v128:{:#034x}", (hi as u128) << 64 | w as u128)
                }
                _ if w == 0 => format!("{t}:null"),
                _ => format!("{t}:{w:#x}"),
            }
        })
        .collect();
    Thrown {
        raw: exn,
        tag: tag.name.clone(),
        values,
    }
}
