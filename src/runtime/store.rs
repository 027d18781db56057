//! The store owns every runtime object (memories, tables, globals, instances,
//! host functions); handles name objects by store id and index, so a handle
//! from another store is an error, not undefined behaviour.

use super::func::HostFunc;
use super::instance::InstanceData;
use crate::engine::Engine;
use crate::module::GlobalType;
use crate::vm::layout::VMRuntimeLimits;
use crate::vm::memory::LinearMemory;
use crate::vm::table::Table as TableObj;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

static NEXT_STORE_ID: AtomicU64 = AtomicU64::new(1);

/// A global's storage. Compiled code points at `value`.
#[repr(C)]
pub struct GlobalCell {
    /// The value's raw bits: scalars in the low 64, a v128 fills all 128
    /// (compiled code reaches the cell through `VMCTX_GLOBALS`).
    pub value: u128,
    pub ty: GlobalType,
}

/// Called by debug code at every instruction of a function whose debug flag
/// is set. Returns Err to stop execution with a trap.
pub type DebugHookFn =
    dyn FnMut(&crate::runtime::debug::DebugContext<'_>) -> Result<(), crate::Trap> + Send;

// Boxes keep addresses stable: compiled code and VMContexts point into them.
#[allow(clippy::vec_box)]
pub struct StoreInner {
    pub(crate) id: u64,
    pub(crate) engine: Engine,
    pub(crate) memories: Vec<Box<LinearMemory>>,
    pub(crate) tables: Vec<Box<TableObj>>,
    pub(crate) globals: Vec<Box<GlobalCell>>,
    pub(crate) instances: Vec<Box<InstanceData>>,
    pub(crate) host_funcs: Vec<Box<HostFunc>>,
    /// Tags (exception handling); a tag's identity is its box's address.
    pub(crate) tags: Vec<Box<crate::vm::unwind::TagObj>>,
    /// The exceptions thrown in this store that may still be reachable
    /// (see `vm::exn_heap`).
    pub(crate) exns: crate::vm::exn_heap::ExnHeap,
    pub(crate) limits: Arc<VMRuntimeLimits>,
    pub(crate) debug_hook: Option<Box<DebugHookFn>>,
}

/// A store with embedder data `T` (visible to host functions).
/// `repr(C)`: the runtime reaches `inner` through a type-erased pointer.
#[repr(C)]
pub struct Store<T> {
    pub(crate) inner: StoreInner,
    data: T,
}

impl<T> Store<T> {
    pub fn new(engine: &Engine, data: T) -> Store<T> {
        super::exceptions::register_unwind_hooks();
        Store {
            inner: StoreInner {
                id: NEXT_STORE_ID.fetch_add(1, Ordering::Relaxed),
                engine: engine.clone(),
                memories: Vec::new(),
                tables: Vec::new(),
                globals: Vec::new(),
                instances: Vec::new(),
                host_funcs: Vec::new(),
                tags: Vec::new(),
                exns: Default::default(),
                limits: Arc::new(VMRuntimeLimits {
                    stack_limit: usize::MAX.into(),
                    real_stack_limit: 0.into(),
                    interrupt_flags: 0.into(),
                }),
                debug_hook: None,
            },
            data,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn data(&self) -> &T {
        &self.data
    }

    pub fn data_mut(&mut self) -> &mut T {
        &mut self.data
    }

    pub fn into_data(self) -> T {
        self.data
    }

    /// Installs the hook debug code calls at every instruction of functions
    /// whose debug flag is on (see `Instance::set_debug_flag`).
    pub fn set_debug_hook(&mut self, hook: Option<Box<DebugHookFn>>) {
        self.inner.debug_hook = hook;
    }

    /// A handle another thread can use to interrupt wasm running in this store.
    pub fn interrupt_handle(&self) -> InterruptHandle {
        InterruptHandle {
            limits: self.inner.limits.clone(),
        }
    }
}

pub use crate::vm::layout::{INTERRUPT_PAUSE, INTERRUPT_SAMPLE, INTERRUPT_TRAP};

/// Stops running wasm at its next function entry or loop header (V8's stack guard).
#[derive(Clone)]
pub struct InterruptHandle {
    limits: Arc<VMRuntimeLimits>,
}

impl InterruptHandle {
    pub fn interrupt(&self) {
        self.limits
            .interrupt_flags
            .fetch_or(INTERRUPT_TRAP, Ordering::SeqCst);
        self.limits.stack_limit.store(usize::MAX, Ordering::SeqCst);
    }

    /// Makes running wasm call the debug hook (with `HookKind::PauseRequest`)
    /// at its next function entry or loop header, in any tier.
    pub fn pause(&self) {
        self.limits
            .interrupt_flags
            .fetch_or(INTERRUPT_PAUSE, Ordering::SeqCst);
        self.limits.stack_limit.store(usize::MAX, Ordering::SeqCst);
    }

    /// Makes running wasm report the functions on its stack at its next
    /// function entry or loop header (one runtime call; see
    /// `Tiering::precompile_debug`).
    pub fn sample_stack(&self) {
        self.limits
            .interrupt_flags
            .fetch_or(INTERRUPT_SAMPLE, Ordering::SeqCst);
        self.limits.stack_limit.store(usize::MAX, Ordering::SeqCst);
    }

    /// Makes running debug code re-read its function's debug byte at its next
    /// loop header or call (after breakpoints change while it runs).
    pub fn refresh(&self) {
        self.limits.stack_limit.store(usize::MAX, Ordering::SeqCst);
    }

    /// The interrupt flags and the interrupt word (for the watchpoint
    /// table's signal handler; valid while `self` lives).
    pub fn raw(&self) -> (*const AtomicUsize, *const AtomicUsize) {
        (&self.limits.interrupt_flags, &self.limits.stack_limit)
    }

    /// Withdraws a pause request that has not been seen yet.
    pub fn cancel_pause(&self) {
        self.limits
            .interrupt_flags
            .fetch_and(!INTERRUPT_PAUSE, Ordering::SeqCst);
    }
}
