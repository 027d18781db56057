//! Functions: calling wasm from the host (through the entry trampoline and an
//! activation), host functions written as Rust closures (through the host
//! trampoline), and `Caller`, the host function's view of the store.

use super::store::Store;
use super::values::Val;
use crate::error::{Error, Result, Trap};
use crate::types::{FuncType, SigId};
use crate::vm::layout::{value_offsets, values_size, VMFuncRef};
use crate::vm::traps::{self, Activation};
use std::sync::atomic::Ordering;

/// A function in a store: a pointer to its code-table entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Func {
    pub(crate) store: u64,
    pub(crate) raw: *const VMFuncRef,
}

// SAFETY: a Func is an opaque handle; it is only dereferenced together with
// `&mut Store` of the store that owns the entry, after checking the store id.
unsafe impl Send for Func {}
// SAFETY: as above.
unsafe impl Sync for Func {}

type RawHostFn = dyn Fn(*mut u8, *mut u8, *mut u64) -> Result<(), Trap> + Send + Sync;

pub(crate) struct HostFuncCtx {
    pub call: Box<RawHostFn>,
}

pub(crate) struct HostFunc {
    pub funcref: VMFuncRef,
    pub ctx: HostFuncCtx,
}

/// What a host function sees of its caller.
pub struct Caller<'a, T> {
    pub(crate) store: &'a mut Store<T>,
    /// VMContext of the calling instance (null when called from the host).
    pub(crate) vmctx: *mut u8,
}

impl<T> Caller<'_, T> {
    pub fn data(&self) -> &T {
        self.store.data()
    }

    pub fn data_mut(&mut self) -> &mut T {
        self.store.data_mut()
    }

    pub fn store(&mut self) -> &mut Store<T> {
        self.store
    }

    /// The calling instance's export `name`.
    pub fn get_export(&self, name: &str) -> Option<super::Extern> {
        let inst = super::instance::instance_of_vmctx(self.vmctx)?;
        inst.exports.get(name).copied()
    }

    /// The calling instance's memory 0 together with the embedder data.
    pub fn data_and_memory_mut(&mut self) -> (&mut T, Option<&mut [u8]>) {
        let mem = super::instance::instance_of_vmctx(self.vmctx).and_then(|i| i.memory_ptr());
        // SAFETY: the memory is owned by this store, which we borrow mutably;
        // the slice cannot outlive the borrow of `self`.
        let mem = mem.map(|m| unsafe { (*m).data_mut() });
        (self.store.data_mut(), mem)
    }
}

/// The runtime side of every host trampoline.
///
/// # Safety
/// Called only by host trampolines, with a `HostFuncCtx` pointer, the caller's
/// VMContext (or null) and a values array sized for the signature.
pub(crate) unsafe extern "C" fn host_entry(
    ctx: *mut u8,
    caller_vmctx: *mut u8,
    values: *mut u64,
) -> u32 {
    // SAFETY: per the contract above.
    let ctx = unsafe { &*(ctx as *const HostFuncCtx) };
    let act = traps::current();
    if act.is_null() {
        return 1;
    }
    // SAFETY: the activation lives while wasm runs on this thread.
    let store = unsafe { (*act).store };
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        (ctx.call)(store, caller_vmctx, values)
    }));
    match r {
        Ok(Ok(())) => 0,
        Ok(Err(trap)) => match trap.exception.as_ref() {
            // An exception that left wasm called by the host function goes
            // on to the wasm that called the host function (status 2: the
            // host trampoline throws it there).
            Some(e) if trap.code == crate::error::TrapCode::UncaughtException && e.raw != 0 => {
                crate::vm::unwind::set_pending_exception(e.raw);
                2
            }
            _ => {
                traps::set_pending(trap);
                1
            }
        },
        Err(_) => {
            traps::set_pending(Trap::host("host function panicked"));
            1
        }
    }
}

impl Func {
    /// A host function.
    pub fn new<T: 'static>(
        store: &mut Store<T>,
        ty: FuncType,
        f: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<(), Trap> + Send + Sync + 'static,
    ) -> Result<Func> {
        let engine = store.engine().clone();
        let sig = engine.intern(&ty);
        let code = engine.host_trampoline(&ty, host_entry)?;
        let store_id = store.inner.id;
        let shim_ty = ty.clone();
        let call = Box::new(
            move |store: *mut u8, vmctx: *mut u8, values: *mut u64| -> Result<(), Trap> {
                // SAFETY: the activation's store pointer is the `Store<T>` that owns
                // this function (functions never cross stores); `values` is sized for the signature.
                let store = unsafe { &mut *(store as *mut Store<T>) };
                let n = values_words(&shim_ty);
                // SAFETY: as above.
                let raw = unsafe { std::slice::from_raw_parts_mut(values, n) };
                let offs = value_offsets(shim_ty.params());
                let params: Vec<Val> = shim_ty
                    .params()
                    .iter()
                    .zip(offs)
                    .map(|(t, o)| Val::read_words(*t, raw, o as usize / 8, store_id))
                    .collect();
                super::exceptions::pin_vals(&store.inner, &params);
                let mut results: Vec<Val> = shim_ty
                    .results()
                    .iter()
                    .map(|t| Val::default_for(*t))
                    .collect();
                f(Caller { store, vmctx }, &params, &mut results)?;
                let offs = value_offsets(shim_ty.results());
                for ((v, t), o) in results.iter().zip(shim_ty.results()).zip(offs) {
                    if v.ty() != *t {
                        return Err(Trap::host(format!(
                            "host function returned {} for a {t} result",
                            v.ty()
                        )));
                    }
                    v.write_words(raw, o as usize / 8);
                }
                Ok(())
            },
        );
        let mut host = Box::new(HostFunc {
            funcref: VMFuncRef {
                code: std::sync::atomic::AtomicPtr::new(code as *mut u8),
                vmctx: std::ptr::null_mut(),
                sig: sig.0,
                func_index: u32::MAX,
            },
            ctx: HostFuncCtx { call },
        });
        host.funcref.vmctx = &mut host.ctx as *mut HostFuncCtx as *mut u8;
        let raw = &host.funcref as *const VMFuncRef;
        store.inner.host_funcs.push(host);
        Ok(Func {
            store: store_id,
            raw,
        })
    }

    pub fn sig(&self) -> SigId {
        // SAFETY: a Func points to a live entry of its store (checked by callers
        // through the store id where a store is at hand).
        SigId(unsafe { (*self.raw).sig })
    }

    pub fn ty<T>(&self, store: &Store<T>) -> Option<FuncType> {
        store.engine().sig_type(self.sig())
    }

    pub fn raw(&self) -> *const VMFuncRef {
        self.raw
    }

    /// Calls the function with `params`, writing `results`.
    pub fn call<T>(&self, store: &mut Store<T>, params: &[Val], results: &mut [Val]) -> Result<()> {
        if self.store != store.inner.id {
            return Err(Error::Usage(
                "function used with a store it does not belong to".into(),
            ));
        }
        let ty = self
            .ty(store)
            .ok_or_else(|| Error::Internal("unknown signature".into()))?;
        if params.len() != ty.params().len() {
            return Err(Error::Usage(format!(
                "expected {} argument(s) for a function of type {ty}, got {}",
                ty.params().len(),
                params.len()
            )));
        }
        for (i, (p, t)) in params.iter().zip(ty.params()).enumerate() {
            if p.ty() != *t {
                return Err(Error::Usage(format!(
                    "argument {i} should be {t}, got {}",
                    p.ty()
                )));
            }
            if let Val::FuncRef(Some(f)) = p {
                if f.store != store.inner.id {
                    return Err(Error::Usage("funcref argument from another store".into()));
                }
            }
        }
        if results.len() != ty.results().len() {
            return Err(Error::Usage(format!(
                "expected {} result slot(s)",
                ty.results().len()
            )));
        }
        let mut values = vec![0u64; values_words(&ty)];
        for (p, o) in params.iter().zip(value_offsets(ty.params())) {
            p.write_words(&mut values, o as usize / 8);
        }
        // SAFETY: the entry belongs to this store (checked above) and lives as long as it.
        let entry = unsafe { &*self.raw };
        if entry.func_index == u32::MAX {
            // A host function called from the host: no wasm involved.
            // SAFETY: host entries keep a HostFuncCtx in `vmctx`.
            let ctx = unsafe { &*(entry.vmctx as *const HostFuncCtx) };
            (ctx.call)(
                store as *mut Store<T> as *mut u8,
                std::ptr::null_mut(),
                values.as_mut_ptr(),
            )?;
        } else {
            invoke_wasm(store, entry, &ty, &mut values)?;
        }
        for ((r, t), o) in results
            .iter_mut()
            .zip(ty.results())
            .zip(value_offsets(ty.results()))
        {
            *r = Val::read_words(*t, &values, o as usize / 8, store.inner.id);
        }
        super::exceptions::pin_vals(&store.inner, results);
        Ok(())
    }
}

/// Words of the values array a call of `ty` goes through: the larger of
/// the parameters' and the results' layouts (`vm::layout::value_offsets`), at least one.
pub(crate) fn values_words(ty: &FuncType) -> usize {
    let bytes = values_size(ty.params()).max(values_size(ty.results()));
    (bytes as usize / 8).max(1)
}

/// Reserve kept below the wasm stack limit for host calls and the runtime.
const HOST_STACK_RESERVE: usize = 256 * 1024;

fn invoke_wasm<T>(
    store: &mut Store<T>,
    entry: &VMFuncRef,
    ty: &FuncType,
    values: &mut [u64],
) -> Result<()> {
    let tramp = store.engine().entry_trampoline(ty)?;
    traps::ensure_alt_stack();
    let mut act = Activation::new(store as *mut Store<T> as *mut u8);
    let outermost = traps::current().is_null();
    if outermost {
        let here = &act as *const _ as usize;
        let low = traps::thread_stack_low();
        let max = store.engine().config().max_wasm_stack;
        let limit = (low + HOST_STACK_RESERVE).max(here.saturating_sub(max));
        let limits = &store.inner.limits;
        limits.real_stack_limit.store(limit, Ordering::SeqCst);
        if store.engine().config().osr_stress > 0 {
            // Every check calls the runtime (`runtime::osr` stress).
            limits.stack_limit.store(usize::MAX, Ordering::SeqCst);
        } else if limits.interrupt_flags.load(Ordering::SeqCst) == 0 {
            limits.stack_limit.store(limit, Ordering::SeqCst);
        }
    }
    let act_ptr: *mut Activation = &mut *act;
    // SAFETY: `act` lives on this frame until after the matching pop below.
    unsafe { traps::push(act_ptr) };
    let code = entry.code.load(Ordering::Acquire);
    // SAFETY: `tramp` is the entry trampoline for `ty`; `entry` is a live code-table
    // entry of this store whose code follows the wasm calling convention for `ty`;
    // `values` holds max(params, results) slots; the activation outlives the call.
    let rc = unsafe { tramp(entry.vmctx, code, values.as_mut_ptr(), act_ptr as *mut u8) };
    // SAFETY: the activation pushed above.
    unsafe { traps::pop(act_ptr) };
    if rc != 0 {
        let mut trap = traps::take_trap(&mut act);
        super::instance::name_frames(&store.inner, &mut trap);
        return Err(trap.into());
    }
    Ok(())
}
