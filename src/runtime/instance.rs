//! Instances: linking imports, allocating the VMContext and the code table,
//! creating memories, tables and globals, applying segments, running `start`.

use super::func::Func;
use super::module::Module;
use super::store::{GlobalCell, Store, StoreInner};
use super::values::Val;
use crate::error::{Error, Result, Trap, TrapCode};
use crate::module::reftype::RefType;
use crate::module::{ConstExpr, ElemItem, ExportKind, ImportKind, SegmentMode};
use crate::types::ValType;
use crate::vm::code_table::{CodeTable, InitialSlot};
use crate::vm::layout::*;
use crate::vm::memory::LinearMemory;
use crate::vm::table::Table as TableObj;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Table {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Global {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instance {
    pub(crate) store: u64,
    pub(crate) index: u32,
}

/// Anything that can be imported or exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extern {
    Func(Func),
    Memory(Memory),
    Table(Table),
    Global(Global),
    Tag(super::exceptions::Tag),
}

impl Extern {
    pub fn kind_name(&self) -> &'static str {
        match self {
            Extern::Func(_) => "function",
            Extern::Memory(_) => "memory",
            Extern::Table(_) => "table",
            Extern::Global(_) => "global",
            Extern::Tag(_) => "tag",
        }
    }
}

/// The runtime record of an instance. Compiled code reaches it through
/// `vmctx[VMCTX_INSTANCE]`; every pointer inside refers to store-owned boxes.
pub(crate) struct InstanceData {
    pub vmctx: Arc<VmctxBuf>,
    pub module: Module,
    /// Code table, budgets and tiers, shared with the tier-up workers.
    pub shared: Arc<crate::tiering::InstanceShared>,
    pub funcref_ptrs: Box<[*const VMFuncRef]>,
    pub table_ptrs: Box<[*mut VMTable]>,
    pub table_objs: Vec<*mut TableObj>,
    pub global_ptrs: Box<[*mut u64]>,
    pub memory: *mut LinearMemory,
    /// Every memory, by memory index (imported ones first).
    pub memories: Box<[*mut LinearMemory]>,
    /// Their `VMMemory` records (`vmctx[VMCTX_MEMORIES]` points here).
    pub memory_vms: Box<[*const crate::vm::layout::VMMemory]>,
    pub sig_ids: Box<[u32]>,
    /// Each tag's identity (`vm::unwind::TagObj`), by tag index.
    pub tags: Box<[*const crate::vm::unwind::TagObj]>,
    pub dropped_elems: Vec<bool>,
    pub dropped_data: Vec<bool>,
    pub exports: HashMap<String, Extern>,
}

impl InstanceData {
    pub fn memory_ptr(&self) -> Option<*mut LinearMemory> {
        (!self.memory.is_null()).then_some(self.memory)
    }

    /// Memory `index` of the instance, if it has one.
    pub fn memory_at(&self, index: u32) -> Option<*mut LinearMemory> {
        self.memories.get(index as usize).copied()
    }

    pub fn vmctx_ptr(&self) -> *mut u8 {
        self.vmctx.0.as_ptr() as *mut u8
    }

    /// Sets the debug byte of function `func` (debug code calls the hook when set).
    pub fn set_debug_flag(&mut self, func: u32, on: bool) {
        let base = self.vmctx_ptr();
        // SAFETY: the vmctx buffer has one debug byte per function after the header.
        unsafe { *base.add(VMCTX_DEBUG_FLAGS as usize + func as usize) = on as u8 };
    }

    /// The raw reference value of an element-segment item.
    pub fn elem_value(&self, item: &ElemItem) -> u64 {
        match item {
            ElemItem::Func(f) => self.funcref_ptrs[*f as usize] as u64,
            ElemItem::Expr(e) => self.const_value(e) as u64,
        }
    }

    /// The raw value of a constant expression (128 bits: a v128 fills them).
    pub fn const_value(&self, e: &ConstExpr) -> u128 {
        match *e {
            ConstExpr::Ops(ref ops) => crate::module::ConstOp::eval(ops, |g| {
                // SAFETY: global pointers refer to store-owned cells.
                unsafe { *self.global_ptrs[g as usize] }
            }) as u128,
            ConstExpr::I32(v) => v as u32 as u128,
            ConstExpr::I64(v) => v as u64 as u128,
            ConstExpr::F32(b) => b as u128,
            ConstExpr::F64(b) => b as u128,
            ConstExpr::V128(v) => v,
            ConstExpr::RefNull(_) => 0,
            ConstExpr::RefFunc(f) => self.funcref_ptrs[f as usize] as u128,
            // SAFETY: global pointers refer to store-owned 16-byte cells.
            ConstExpr::GlobalGet(g) => unsafe { *(self.global_ptrs[g as usize] as *const u128) },
        }
    }
}

/// The instance record behind a VMContext pointer.
pub(crate) fn instance_of_vmctx<'a>(vmctx: *mut u8) -> Option<&'a mut InstanceData> {
    if vmctx.is_null() {
        return None;
    }
    // SAFETY: every VMContext we create stores its instance record pointer at
    // VMCTX_INSTANCE, and the record lives as long as the store.
    unsafe {
        let p = *(vmctx.add(VMCTX_INSTANCE as usize) as *const *mut InstanceData);
        p.as_mut()
    }
}

/// Fills in function names of a trap's frames.
pub(crate) fn name_frames(store: &StoreInner, trap: &mut Trap) {
    for f in &mut trap.backtrace {
        if let Some(inst) = store
            .instances
            .iter()
            .find(|i| i.module.info().id == f.module_id)
        {
            f.func_name = inst
                .module
                .info()
                .func_name(f.func_index)
                .map(|s| s.to_string());
        }
    }
}

fn link_err(msg: String) -> Error {
    Error::Link(msg)
}

impl Instance {
    /// Instantiates `module` with `imports` given in the module's import order.
    pub fn new<T>(store: &mut Store<T>, module: &Module, imports: &[Extern]) -> Result<Instance> {
        let info = module.inner.info.clone();
        if imports.len() != info.imports.len() {
            return Err(link_err(format!(
                "expected {} imports, got {}",
                info.imports.len(),
                imports.len()
            )));
        }
        let sid = store.inner.id;
        let mut func_ptrs: Vec<*const VMFuncRef> = Vec::with_capacity(info.funcs.len());
        let mut tables: Vec<u32> = Vec::new();
        let mut memories: Vec<u32> = Vec::new();
        let mut globals: Vec<u32> = Vec::new();
        let mut tags: Vec<u32> = Vec::new();
        for (imp, ext) in info.imports.iter().zip(imports) {
            let what = format!("import \"{}\" \"{}\"", imp.module, imp.name);
            let store_of = match ext {
                Extern::Func(f) => f.store,
                Extern::Memory(m) => m.store,
                Extern::Table(t) => t.store,
                Extern::Global(g) => g.store,
                Extern::Tag(t) => t.store,
            };
            if store_of != sid {
                return Err(link_err(format!("{what}: value from another store")));
            }
            match (&imp.kind, ext) {
                (ImportKind::Func(t), Extern::Func(f)) => {
                    let want = module.inner.sig_ids[*t as usize];
                    if f.sig().0 != want {
                        let got = f.ty(store).map(|t| t.to_string()).unwrap_or_default();
                        return Err(link_err(format!(
                            "{what}: incompatible import type: expected function {}, got {got}",
                            info.types[*t as usize]
                        )));
                    }
                    func_ptrs.push(f.raw);
                }
                (ImportKind::Table(tt), Extern::Table(t)) => {
                    let obj = &store.inner.tables[t.index as usize];
                    let ok = obj.ty == tt.elem
                        && obj.is64 == tt.table64
                        && RefType::of(obj.ty, obj.rt) == RefType::of(tt.elem, tt.rt)
                        && obj.len() >= tt.min
                        && match tt.max {
                            None => true,
                            Some(m) => obj.max().is_some_and(|om| om <= m),
                        };
                    if !ok {
                        return Err(link_err(format!(
                            "{what}: incompatible import type for table"
                        )));
                    }
                    tables.push(t.index);
                }
                (ImportKind::Memory(mt), Extern::Memory(m)) => {
                    let obj = &store.inner.memories[m.index as usize];
                    let ok = obj.is64() == mt.is64
                        && obj.pages() >= mt.min
                        && match mt.max {
                            None => true,
                            Some(mx) => obj.declared_max().is_some_and(|om| om <= mx),
                        };
                    if !ok {
                        return Err(link_err(format!(
                            "{what}: incompatible import type for memory"
                        )));
                    }
                    memories.push(m.index);
                }
                (ImportKind::Global(gt), Extern::Global(g)) => {
                    let cell = &store.inner.globals[g.index as usize];
                    if !cell.ty.matches(gt) {
                        return Err(link_err(format!(
                            "{what}: incompatible import type for global"
                        )));
                    }
                    globals.push(g.index);
                }
                (ImportKind::Tag(t), Extern::Tag(tag)) => {
                    let got = store.inner.tags[tag.index as usize].sig;
                    if got != module.inner.sig_ids[*t as usize] {
                        return Err(link_err(format!(
                            "{what}: incompatible import type for tag"
                        )));
                    }
                    tags.push(tag.index);
                }
                (_, e) => {
                    return Err(link_err(format!(
                        "{what}: incompatible import type: got a {}",
                        e.kind_name()
                    )));
                }
            }
        }

        // Defined memories, tables, globals.
        for mt in &info.memories[info.num_imported_memories as usize..] {
            let mem = LinearMemory::new_typed(mt.min, mt.max, mt.is64).map_err(|e| Error::Io {
                context: "cannot reserve linear memory".into(),
                source: e,
            })?;
            store.inner.memories.push(Box::new(mem));
            memories.push(store.inner.memories.len() as u32 - 1);
        }
        for tt in &info.tables[info.num_imported_tables as usize..] {
            let mut t = TableObj::new(tt.elem, tt.min, tt.max, 0)
                .ok_or_else(|| Error::Link(format!("table of {} elements is too large", tt.min)))?;
            t.rt = tt.rt;
            t.is64 = tt.table64;
            store.inner.tables.push(Box::new(t));
            tables.push(store.inner.tables.len() as u32 - 1);
        }
        for gt in &info.globals[info.num_imported_globals as usize..] {
            store
                .inner
                .globals
                .push(Box::new(GlobalCell { value: 0, ty: *gt }));
            globals.push(store.inner.globals.len() as u32 - 1);
        }
        for (k, &t) in info.tags[info.num_imported_tags as usize..]
            .iter()
            .enumerate()
        {
            let index = info.num_imported_tags + k as u32;
            let mut name = format!("tag {index}");
            if let Some(e) = info
                .exports
                .iter()
                .find(|e| e.kind == ExportKind::Tag && e.index == index)
            {
                name = format!("{name} \"{}\"", e.name);
            }
            let params = info.types[t as usize].params().to_vec();
            let sig = module.inner.sig_ids[t as usize];
            tags.push(super::exceptions::new_tag(
                &mut store.inner,
                &params,
                sig,
                name,
            ));
        }

        let nfuncs = info.funcs.len();
        let words = (VMCTX_HEADER_SIZE as usize + nfuncs).div_ceil(8);
        let vmctx_buf = Arc::new(VmctxBuf(
            (0..words).map(|_| std::cell::UnsafeCell::new(0)).collect(),
        ));
        let vmctx = vmctx_buf.0.as_ptr() as *mut u8;
        let slots = (info.num_imported_funcs as usize..nfuncs)
            .map(|f| {
                Ok(InitialSlot {
                    code: module.inner.initial_code(f as u32)?,
                    tier: module.func_tier(f as u32),
                    sig: module.inner.sig_ids[info.funcs[f] as usize],
                    func_index: f as u32,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let table = CodeTable::new(vmctx, nfuncs, slots, store.engine().config().tiering_budget);
        let shared = Arc::new(crate::tiering::InstanceShared::new(
            module.inner.clone(),
            table,
            store.engine().config().tiering_budget,
        ));
        func_ptrs.extend(shared.table.slots().iter().map(|r| r as *const VMFuncRef));
        let mut data = Box::new(InstanceData {
            vmctx: vmctx_buf,
            module: module.clone(),
            shared,
            funcref_ptrs: func_ptrs.into_boxed_slice(),
            table_ptrs: tables
                .iter()
                .map(|&t| store.inner.tables[t as usize].vm_ptr())
                .collect(),
            table_objs: tables
                .iter()
                .map(|&t| &mut *store.inner.tables[t as usize] as *mut TableObj)
                .collect(),
            global_ptrs: globals
                .iter()
                .map(|&g| &mut store.inner.globals[g as usize].value as *mut u128 as *mut u64)
                .collect(),
            memory: memories.first().map_or(std::ptr::null_mut(), |&m| {
                &mut *store.inner.memories[m as usize] as *mut _
            }),
            memories: memories
                .iter()
                .map(|&m| &mut *store.inner.memories[m as usize] as *mut LinearMemory)
                .collect(),
            memory_vms: memories
                .iter()
                .map(|&m| store.inner.memories[m as usize].vm_ptr())
                .collect(),
            sig_ids: module.inner.sig_ids.clone().into_boxed_slice(),
            tags: tags
                .iter()
                .map(|&t| &*store.inner.tags[t as usize] as *const crate::vm::unwind::TagObj)
                .collect(),
            dropped_elems: vec![false; info.elems.len()],
            dropped_data: vec![false; info.data.len()],
            exports: HashMap::new(),
        });
        // The VMContext header.
        let hdr = data.vmctx_ptr();
        let put = |off: i32, v: usize| {
            // SAFETY: `off` is a header offset inside the vmctx buffer.
            unsafe { *(hdr.add(off as usize) as *mut usize) = v };
        };
        put(
            VMCTX_LIMITS,
            std::sync::Arc::as_ptr(&store.inner.limits) as usize,
        );
        put(
            VMCTX_MEMORY,
            data.memory_ptr().map_or(0, |m| {
                // SAFETY: m points to a store-owned memory.
                unsafe { (*m).vm_ptr() as usize }
            }),
        );
        put(VMCTX_MEMORIES, data.memory_vms.as_ptr() as usize);
        put(VMCTX_FUNCREFS, data.funcref_ptrs.as_ptr() as usize);
        put(VMCTX_GLOBALS, data.global_ptrs.as_ptr() as usize);
        put(VMCTX_TABLES, data.table_ptrs.as_ptr() as usize);
        put(
            VMCTX_BUILTINS,
            crate::runtime::builtins::table().as_ptr() as usize,
        );
        put(VMCTX_INSTANCE, &mut *data as *mut InstanceData as usize);
        put(VMCTX_BUDGETS, data.shared.table.budgets.as_ptr() as usize);
        put(VMCTX_SIG_IDS, data.sig_ids.as_ptr() as usize);
        put(VMCTX_CALLS, data.shared.table.calls.as_ptr() as usize);
        put(VMCTX_TAGS, data.tags.as_ptr() as usize);

        // Globals' initial values.
        for (k, init) in info.global_inits.iter().enumerate() {
            let g = info.num_imported_globals as usize + k;
            let v = data.const_value(init);
            // SAFETY: store-owned 16-byte global cell.
            unsafe { *(data.global_ptrs[g] as *mut u128) = v };
        }
        // Defined tables with an initialiser start filled with its value.
        for (t, init) in &info.table_inits {
            let v = data.const_value(init) as u64;
            // SAFETY: store-owned table, not borrowed elsewhere here.
            let table = unsafe { &mut *data.table_objs[*t as usize] };
            table.elements_mut().fill(v);
        }

        // Exports.
        for e in &info.exports {
            let ext = match e.kind {
                ExportKind::Func => Extern::Func(Func {
                    store: sid,
                    raw: data.funcref_ptrs[e.index as usize],
                }),
                ExportKind::Memory => Extern::Memory(Memory {
                    store: sid,
                    index: memories[e.index as usize],
                }),
                ExportKind::Table => Extern::Table(Table {
                    store: sid,
                    index: tables[e.index as usize],
                }),
                ExportKind::Global => Extern::Global(Global {
                    store: sid,
                    index: globals[e.index as usize],
                }),
                ExportKind::Tag => Extern::Tag(super::exceptions::Tag {
                    store: sid,
                    index: tags[e.index as usize],
                }),
            };
            data.exports.insert(e.name.clone(), ext);
        }

        store.inner.instances.push(data);
        let index = store.inner.instances.len() as u32 - 1;
        let instance = Instance { store: sid, index };

        // Segments, in order; a failure traps but earlier writes stay.
        let data = &mut store.inner.instances[index as usize];
        for (i, seg) in info.elems.iter().enumerate() {
            match &seg.mode {
                SegmentMode::Active { index: t, offset } => {
                    let off = data.const_value(offset) as u64;
                    let off = if info.tables[*t as usize].table64 {
                        off
                    } else {
                        off as u32 as u64
                    };
                    let vals: Vec<u64> = seg.items.iter().map(|it| data.elem_value(it)).collect();
                    // SAFETY: store-owned table.
                    let table = unsafe { &mut *data.table_objs[*t as usize] };
                    if off
                        .checked_add(vals.len() as u64)
                        .is_none_or(|end| end > table.len())
                    {
                        return Err(Trap::new(TrapCode::TableOutOfBounds).into());
                    }
                    table.elements_mut()[off as usize..off as usize + vals.len()]
                        .copy_from_slice(&vals);
                    data.dropped_elems[i] = true;
                }
                SegmentMode::Declared => data.dropped_elems[i] = true,
                SegmentMode::Passive => {}
            }
        }
        for (i, seg) in info.data.iter().enumerate() {
            if let SegmentMode::Active { index: m, offset } = &seg.mode {
                let Some(mem) = data.memory_at(*m) else {
                    return Err(Error::Internal("data segment without memory".into()));
                };
                // SAFETY: store-owned memory; no other borrow of it is live.
                let mem = unsafe { &mut *mem };
                let off = data.const_value(offset) as u64;
                let off = if mem.is64() { off } else { off as u32 as u64 };
                let Ok(off) = usize::try_from(off) else {
                    return Err(Trap::new(TrapCode::MemoryOutOfBounds).into());
                };
                let bytes = &info.bytes[seg.range.clone()];
                if off
                    .checked_add(bytes.len())
                    .is_none_or(|end| end > mem.byte_len())
                {
                    return Err(Trap::new(TrapCode::MemoryOutOfBounds).into());
                }
                mem.data_mut()[off..off + bytes.len()].copy_from_slice(bytes);
                data.dropped_data[i] = true;
            }
        }

        if let Some(start) = info.start {
            let f = Func {
                store: sid,
                raw: store.inner.instances[index as usize].funcref_ptrs[start as usize],
            };
            f.call(store, &[], &mut [])?;
        }
        Ok(instance)
    }

    fn data<'a, T>(&self, store: &'a Store<T>) -> &'a InstanceData {
        &store.inner.instances[self.index as usize]
    }

    pub fn get_export<T>(&self, store: &Store<T>, name: &str) -> Option<Extern> {
        if self.store != store.inner.id {
            return None;
        }
        self.data(store).exports.get(name).copied()
    }

    pub fn get_func<T>(&self, store: &Store<T>, name: &str) -> Option<Func> {
        match self.get_export(store, name)? {
            Extern::Func(f) => Some(f),
            _ => None,
        }
    }

    pub fn get_memory<T>(&self, store: &Store<T>, name: &str) -> Option<Memory> {
        match self.get_export(store, name)? {
            Extern::Memory(m) => Some(m),
            _ => None,
        }
    }

    pub fn get_global<T>(&self, store: &Store<T>, name: &str) -> Option<Global> {
        match self.get_export(store, name)? {
            Extern::Global(g) => Some(g),
            _ => None,
        }
    }

    /// Export names in module order.
    pub fn exports<T>(&self, store: &Store<T>) -> Vec<(String, Extern)> {
        let d = self.data(store);
        d.module
            .info()
            .exports
            .iter()
            .filter_map(|e| Some((e.name.clone(), *d.exports.get(&e.name)?)))
            .collect()
    }

    pub fn module<T>(&self, store: &Store<T>) -> Module {
        self.data(store).module.clone()
    }

    /// The function with index `func` of this instance.
    pub fn func_by_index<T>(&self, store: &Store<T>, func: u32) -> Option<Func> {
        let d = self.data(store);
        d.funcref_ptrs.get(func as usize).map(|&raw| Func {
            store: self.store,
            raw,
        })
    }

    /// A handle to this instance's tiers, usable from any thread while wasm runs.
    pub fn tiering<T>(&self, store: &Store<T>) -> crate::tiering::Tiering {
        crate::tiering::Tiering::new(self.data(store).shared.clone())
    }

    /// Turns the debug hook of function `func` on or off (debug code only).
    pub fn set_debug_flag<T>(&self, store: &mut Store<T>, func: u32, on: bool) {
        store.inner.instances[self.index as usize].set_debug_flag(func, on);
    }

    /// A handle that sets debug flags from any thread, while wasm runs.
    pub fn debug_flags<T>(&self, store: &Store<T>) -> DebugFlags {
        let data = &store.inner.instances[self.index as usize];
        DebugFlags {
            buf: data.vmctx.clone(),
            count: data.module.info().num_funcs(),
        }
    }
}

/// The VMContext's storage. Compiled code reads and writes it through raw
/// pointers, and `DebugFlags` writes its debug bytes from other threads, so
/// every word is an `UnsafeCell`; the `Arc` keeps the bytes valid for a
/// `DebugFlags` handle that outlives the store.
pub struct VmctxBuf(Box<[std::cell::UnsafeCell<u64>]>);

// SAFETY: the buffer is plain memory; all access goes through raw pointers in
// the runtime and compiled code, and cross-thread writes (debug bytes) are atomic.
unsafe impl Send for VmctxBuf {}
// SAFETY: as above.
unsafe impl Sync for VmctxBuf {}

/// Sets per-function debug bytes of one instance from any thread; debug code
/// calls the debug hook at every instruction of a function whose byte is set.
#[derive(Clone)]
pub struct DebugFlags {
    buf: Arc<VmctxBuf>,
    count: u32,
}

impl DebugFlags {
    pub fn count(&self) -> u32 {
        self.count
    }

    pub fn set(&self, func: u32, on: bool) {
        if func >= self.count {
            return;
        }
        let base = self.buf.0.as_ptr() as *mut u8;
        // SAFETY: the buffer holds one debug byte per function after the
        // header (`func < count`), kept alive by the Arc; the store is atomic
        // because wasm on another thread reads the byte concurrently.
        let byte = unsafe {
            std::sync::atomic::AtomicU8::from_ptr(
                base.add(VMCTX_DEBUG_FLAGS as usize + func as usize),
            )
        };
        byte.store(on as u8, std::sync::atomic::Ordering::SeqCst);
    }

    /// The first debug byte and how many there are (for the watchpoint
    /// table, which sets them from a signal handler; valid while `self` lives).
    pub fn raw(&self) -> (*const u8, u32) {
        let base = self.buf.0.as_ptr() as *const u8;
        (base.wrapping_add(VMCTX_DEBUG_FLAGS as usize), self.count)
    }

    pub fn set_all(&self, on: bool) {
        for f in 0..self.count {
            self.set(f, on);
        }
    }
}

impl Memory {
    pub fn new<T>(store: &mut Store<T>, min: u64, max: Option<u64>) -> Result<Memory> {
        let mem = LinearMemory::new(min, max).map_err(|e| Error::Io {
            context: "cannot reserve linear memory".into(),
            source: e,
        })?;
        store.inner.memories.push(Box::new(mem));
        Ok(Memory {
            store: store.inner.id,
            index: store.inner.memories.len() as u32 - 1,
        })
    }

    pub fn data<'a, T>(&self, store: &'a Store<T>) -> &'a [u8] {
        store.inner.memories[self.index as usize].data()
    }

    pub fn data_mut<'a, T>(&self, store: &'a mut Store<T>) -> &'a mut [u8] {
        store.inner.memories[self.index as usize].data_mut()
    }

    pub fn pages<T>(&self, store: &Store<T>) -> u64 {
        store.inner.memories[self.index as usize].pages()
    }

    /// Grows by `delta` pages; returns the old size or None.
    pub fn grow<T>(&self, store: &mut Store<T>, delta: u64) -> Option<u64> {
        store.inner.memories[self.index as usize].grow(delta)
    }

    pub fn base_ptr<T>(&self, store: &Store<T>) -> *const u8 {
        store.inner.memories[self.index as usize].base()
    }
}

impl Table {
    pub fn new<T>(
        store: &mut Store<T>,
        ty: ValType,
        min: u64,
        max: Option<u64>,
        init: Val,
    ) -> Result<Table> {
        let t = TableObj::new(ty, min, max, init.to_raw())
            .ok_or_else(|| Error::Usage("table too large".into()))?;
        store.inner.tables.push(Box::new(t));
        Ok(Table {
            store: store.inner.id,
            index: store.inner.tables.len() as u32 - 1,
        })
    }

    pub fn size<T>(&self, store: &Store<T>) -> u64 {
        store.inner.tables[self.index as usize].len()
    }

    pub fn get<T>(&self, store: &Store<T>, i: u64) -> Option<Val> {
        let t = &store.inner.tables[self.index as usize];
        let v = t.get(i).map(|raw| Val::from_raw(t.ty, raw, store.inner.id));
        if let Some(v) = v {
            super::exceptions::pin_vals(&store.inner, &[v]);
        }
        v
    }
}

impl Global {
    pub fn new<T>(store: &mut Store<T>, ty: crate::module::GlobalType, v: Val) -> Result<Global> {
        if v.ty() != ty.ty {
            return Err(Error::Usage("global value does not match its type".into()));
        }
        store.inner.globals.push(Box::new(GlobalCell {
            value: v.to_raw128(),
            ty,
        }));
        Ok(Global {
            store: store.inner.id,
            index: store.inner.globals.len() as u32 - 1,
        })
    }

    pub fn get<T>(&self, store: &Store<T>) -> Val {
        let c = &store.inner.globals[self.index as usize];
        let v = Val::from_raw128(c.ty.ty, c.value, store.inner.id);
        super::exceptions::pin_vals(&store.inner, &[v]);
        v
    }

    pub fn set<T>(&self, store: &mut Store<T>, v: Val) -> Result<()> {
        let c = &mut store.inner.globals[self.index as usize];
        if !c.ty.mutable || v.ty() != c.ty.ty {
            return Err(Error::Usage(
                "cannot set an immutable global or a value of another type".into(),
            ));
        }
        c.value = v.to_raw128();
        Ok(())
    }
}
