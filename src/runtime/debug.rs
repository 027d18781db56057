//! The engine side of pausing: debug code calls here at breakable positions
//! of functions whose debug flag is set, and the interrupt check calls here
//! when a pause was requested. `DebugContext` reads (and writes) the paused
//! machine state: locals and operand-stack values through the debug side
//! table or the record optimized code hands over, the register file, caller
//! frames along the frame-pointer chain, globals and linear memory.

use super::instance::{instance_of_vmctx, InstanceData};
use crate::code::{self, CodeKind, DebugSideTable, Tier, ValueLoc};
use crate::error::Trap;
use crate::module::GlobalType;
use crate::types::ValType;
use crate::vm::layout::{interrupt_state, DEBUG_REGS_SIZE};
use crate::vm::traps;

type ValueLists<'a> = (&'a [(ValType, ValueLoc)], &'a [(ValType, ValueLoc)]);

/// Where the paused code stopped.
#[derive(Clone, Copy)]
enum Site<'a> {
    /// A breakable position of debug code (registers saved by the debug stub).
    Debug {
        point: u32,
        regs: *mut u64,
        table: &'a DebugSideTable,
    },
    /// The interrupt check of baseline code (with debug support or without):
    /// the check point says where locals and stack values are.
    BaselineCheck {
        regs: *mut u64,
        /// (locals, operand stack) at this check, if its code recorded them.
        at: Option<ValueLists<'a>>,
        tier: Tier,
    },
    /// The interrupt check of optimized code, with its state record.
    OptimizedCheck { state: *const u64 },
    /// A `throw` about to unwind (`vm::unwind::raise`): the thrower's frame,
    /// whose registers are gone; locals in frame slots of debug code only.
    Throw {
        table: Option<&'a DebugSideTable>,
        tier: Tier,
    },
}

/// Why the runtime is calling the debug hook.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    /// A breakable position of debug code.
    Instruction,
    /// The interrupt check, after `InterruptHandle::pause`.
    PauseRequest,
    /// An exception is being thrown (before any frame unwinds); see
    /// [`DebugContext::thrown`].
    Throw,
}

/// A paused function.
pub struct DebugContext<'a> {
    pub func_index: u32,
    pub wasm_offset: u32,
    pub module_id: u64,
    pub kind: HookKind,
    vmctx: *mut u8,
    fp: usize,
    /// Native pc of the paused position (0 when unknown).
    pc: usize,
    site: Site<'a>,
    /// Paused at a check of plain baseline or optimized code that continues
    /// in debug code when it resumes (on-stack replacement, `runtime::osr`).
    moves_down: bool,
    /// Paused in an OSR entry (optimized code a baseline frame moved into).
    osr: bool,
    /// The exception being thrown (exnref), for [`HookKind::Throw`]; else 0.
    exn: u64,
}

/// A value as the debugger reports it: type, raw bits, where it lives
/// (`None`: handed over by optimized code, its home there is unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebugValue {
    pub ty: ValType,
    pub bits: u64,
    /// The upper 64 bits of a v128 (0 for other types).
    pub hi: u64,
    pub loc: Option<ValueLoc>,
    /// False when the value cannot be recovered: a caller's register
    /// (`loc` says which), or a local optimized code did not keep because it
    /// is dead there (`loc` is `None`: see [`DebugValue::is_optimized_out`]).
    pub available: bool,
}

impl DebugValue {
    /// A local that optimized code did not keep (dead at the paused check).
    pub fn optimized_out(ty: ValType) -> DebugValue {
        DebugValue {
            ty,
            bits: 0,
            hi: 0,
            loc: None,
            available: false,
        }
    }

    /// Dead where optimized code paused, so not kept (gdb's `<optimized out>`).
    pub fn is_optimized_out(&self) -> bool {
        !self.available && self.loc.is_none()
    }
}

/// A frame further up the call stack.
#[derive(Debug, Clone)]
pub struct CallerFrame {
    pub module_id: u64,
    pub func_index: u32,
    /// Offset of the call instruction.
    pub wasm_offset: Option<u32>,
    pub tier: Option<Tier>,
    /// The caller runs an OSR entry (optimized code, see `code::CodeLabel`).
    pub osr: bool,
    /// Locals of debug-code frames (frame slots survive the call).
    pub locals: Option<Vec<DebugValue>>,
}

fn mask(ty: ValType, raw: u64) -> u64 {
    if ty.is_64bit() {
        raw
    } else {
        raw & 0xffff_ffff
    }
}

impl DebugContext<'_> {
    /// The tier of the paused code.
    pub fn tier(&self) -> Tier {
        match self.site {
            Site::Debug { .. } => Tier::Debug,
            Site::BaselineCheck { tier, .. } => tier,
            Site::OptimizedCheck { .. } => Tier::Optimized,
            Site::Throw { tier, table } => {
                if table.is_some() {
                    Tier::Debug
                } else {
                    tier
                }
            }
        }
    }

    /// Which code the paused frame runs, per frame: its tier, or an OSR
    /// entry (see [`code::CodeLabel`]).
    pub fn label(&self) -> code::CodeLabel {
        if self.osr {
            code::CodeLabel::Osr
        } else {
            code::CodeLabel::Tier(self.tier())
        }
    }

    /// The exception being thrown (tag, payload), at a [`HookKind::Throw`] stop.
    pub fn thrown(&self) -> Option<crate::error::Thrown> {
        (self.exn != 0).then(|| super::exceptions::describe(self.exn))
    }

    /// True when the paused frame runs plain baseline or optimized code and
    /// continues in its debug code from this check on (on-stack replacement).
    pub fn continues_in_debug_code(&self) -> bool {
        self.moves_down
    }

    /// Index of the breakable position (debug code only).
    pub fn point(&self) -> Option<u32> {
        match self.site {
            Site::Debug { point, .. } => Some(point),
            _ => None,
        }
    }

    pub fn frame_pointer(&self) -> usize {
        self.fp
    }

    pub fn pc(&self) -> usize {
        self.pc
    }

    fn read(&self, regs: *mut u64, ty: ValType, loc: ValueLoc) -> DebugValue {
        // SAFETY: `regs` is the save area of the stub that called the hook and
        // `fp` the paused function's frame; side-table locations lie inside them.
        let raw = unsafe {
            match loc {
                ValueLoc::Gpr(r) => *regs.add(r as usize),
                ValueLoc::Xmm(x) => *regs.add(16 + 2 * x as usize),
                ValueLoc::Frame(off) => *((self.fp as isize + off as isize) as *const u64),
                ValueLoc::Const(c) => c,
                // The slow path saved the flags above the stub's return
                // address and position index.
                ValueLoc::Flags(cc) => {
                    let rflags =
                        *((regs as *const u8).add(DEBUG_REGS_SIZE as usize + 16) as *const u64);
                    code::eval_condition(cc, rflags) as u64
                }
            }
        };
        // SAFETY: as above; a v128 fills 16 bytes of its slot or register.
        let hi = unsafe {
            match loc {
                ValueLoc::Xmm(x) if ty.is_v128() => *regs.add(17 + 2 * x as usize),
                ValueLoc::Frame(off) if ty.is_v128() => {
                    *((self.fp as isize + off as isize + 8) as *const u64)
                }
                _ => 0,
            }
        };
        DebugValue {
            ty,
            bits: mask(ty, raw),
            hi,
            loc: Some(loc),
            available: true,
        }
    }

    /// The optimized state record, decoded.
    fn record(&self) -> Option<interrupt_state::Record> {
        let Site::OptimizedCheck { state } = self.site else {
            return None;
        };
        // SAFETY: `state` is the record optimized code built in its frame for
        // this check; it lives until the check returns.
        Some(unsafe { interrupt_state::read(state) })
    }

    /// Locals from the optimized record: the live ones with their values,
    /// the dead ones `<optimized out>` (types from the function's declaration).
    fn record_locals(&self) -> Option<Vec<DebugValue>> {
        let r = self.record()?;
        let types = self
            .instance()
            .and_then(|i| i.module.info().read_body(self.func_index, None).ok())
            .map(|b| b.locals)
            .unwrap_or_default();
        let mut out: Vec<DebugValue> = (0..r.num_locals as usize)
            .map(|i| DebugValue::optimized_out(types.get(i).copied().unwrap_or(ValType::I32)))
            .collect();
        for (i, ty, raw) in r.locals {
            if let Some(slot) = out.get_mut(i as usize) {
                *slot = DebugValue {
                    ty,
                    bits: mask(ty, raw as u64),
                    hi: (raw >> 64) as u64,
                    loc: None,
                    available: true,
                };
            }
        }
        Some(out)
    }

    fn record_stack(&self) -> Option<Vec<DebugValue>> {
        let r = self.record()?;
        Some(
            r.stack
                .into_iter()
                .map(|(ty, raw)| DebugValue {
                    ty,
                    bits: mask(ty, raw as u64),
                    hi: (raw >> 64) as u64,
                    loc: None,
                    available: true,
                })
                .collect(),
        )
    }

    /// Locals of the paused frame; `None` for baseline code without debug support.
    pub fn locals(&self) -> Option<Vec<DebugValue>> {
        match self.site {
            Site::Debug { regs, table, .. } => Some(
                table
                    .locals
                    .iter()
                    .map(|&(t, l)| self.read(regs, t, l))
                    .collect(),
            ),
            Site::OptimizedCheck { .. } => self.record_locals(),
            Site::BaselineCheck { regs, at, .. } => {
                at.map(|(locals, _)| locals.iter().map(|&(t, l)| self.read(regs, t, l)).collect())
            }
            Site::Throw { table, .. } => table.map(|t| {
                t.locals
                    .iter()
                    .map(|&(ty, loc)| frame_value(self.fp, ty, loc))
                    .collect()
            }),
        }
    }

    /// Operand-stack entries the paused function's debug side table stores
    /// for all its breakable positions together; `None` outside debug code.
    pub fn side_table_entries(&self) -> Option<usize> {
        match self.site {
            Site::Debug { table, .. } => Some(table.stored_entries()),
            _ => None,
        }
    }

    /// The operand stack, bottom first.
    pub fn stack(&self) -> Option<Vec<DebugValue>> {
        match self.site {
            Site::Debug { point, regs, table } => Some(
                table
                    .stack_at(point as usize)
                    .iter()
                    .map(|&(t, l)| self.read(regs, t, l))
                    .collect(),
            ),
            Site::OptimizedCheck { .. } => self.record_stack(),
            Site::BaselineCheck { regs, at, .. } => {
                at.map(|(_, stack)| stack.iter().map(|&(t, l)| self.read(regs, t, l)).collect())
            }
            Site::Throw { .. } => None,
        }
    }

    /// General-purpose registers (hardware order; rsp and rbp of the paused
    /// frame) and all 128 bits of xmm0–15, where the code saved them.
    pub fn registers(&self) -> Option<([u64; 16], [u128; 16])> {
        let regs = match self.site {
            Site::Debug { regs, .. } | Site::BaselineCheck { regs, .. } => regs,
            Site::OptimizedCheck { .. } | Site::Throw { .. } => return None,
        };
        let mut gpr = [0; 16];
        let mut xmm = [0; 16];
        for i in 0..16 {
            // SAFETY: the save area holds 16 GPR slots then 16 xmm slots of 16 bytes.
            unsafe {
                gpr[i] = *regs.add(i);
                let (lo, hi) = (*regs.add(16 + 2 * i), *regs.add(17 + 2 * i));
                xmm[i] = (hi as u128) << 64 | lo as u128;
            }
        }
        gpr[5] = self.fp as u64;
        // rsp of the paused code: above the save area (and the stub's return
        // address and position index, for debug code).
        let above = match self.site {
            Site::Debug { point, table, .. } => {
                // Return address and position index, and the saved flags
                // (16 bytes) when a compare result waits in them.
                let flags = matches!(table.top_at(point as usize), Some((_, ValueLoc::Flags(_))));
                DEBUG_REGS_SIZE as usize + 16 + if flags { 16 } else { 0 }
            }
            _ => DEBUG_REGS_SIZE as usize,
        };
        gpr[4] = regs as u64 + above as u64;
        Some((gpr, xmm))
    }

    /// Writes `v128` local `index` of the paused frame (both halves of its
    /// xmm register in the save area, or its 16-byte slot).
    pub fn set_local_v128(&self, index: u32, v: u128) -> Result<(), String> {
        let Site::Debug { regs, table, .. } = self.site else {
            return Err("locals can be changed only in baseline debug frames".into());
        };
        let &(ty, loc) = table
            .locals
            .get(index as usize)
            .ok_or_else(|| format!("no local {index}"))?;
        if !ty.is_v128() {
            return Err(format!("local {index} is a {ty}, not a v128"));
        }
        let (lo, hi) = (v as u64, (v >> 64) as u64);
        // SAFETY: as in `read`: an xmm register's two words in the save area,
        // or the 16 bytes of the local's frame slot.
        unsafe {
            match loc {
                ValueLoc::Xmm(x) => {
                    *regs.add(16 + 2 * x as usize) = lo;
                    *regs.add(17 + 2 * x as usize) = hi;
                }
                ValueLoc::Frame(off) => {
                    let p = (self.fp as isize + off as isize) as *mut u64;
                    *p = lo;
                    *p.add(1) = hi;
                }
                _ => return Err(format!("local {index} is not in a writable place here")),
            }
        }
        Ok(())
    }

    /// Writes local `index` of the paused frame. Values in registers are
    /// written to the save area, which the stub restores on resume.
    pub fn set_local(&self, index: u32, bits: u64) -> Result<(), String> {
        match self.site {
            Site::Debug { regs, table, .. } => {
                let &(ty, loc) = table
                    .locals
                    .get(index as usize)
                    .ok_or_else(|| format!("no local {index}"))?;
                let bits = mask(ty, bits);
                // SAFETY: as in `read`: the location lies in the save area or the frame.
                unsafe {
                    match loc {
                        ValueLoc::Gpr(r) => *regs.add(r as usize) = bits,
                        ValueLoc::Xmm(x) => *regs.add(16 + 2 * x as usize) = bits,
                        ValueLoc::Frame(off) => {
                            let p = (self.fp as isize + off as isize) as *mut u64;
                            if ty.is_64bit() {
                                *p = bits;
                            } else {
                                *(p as *mut u32) = bits as u32;
                            }
                        }
                        ValueLoc::Const(_) | ValueLoc::Flags(_) => {
                            return Err(format!("local {index} is not in a writable place here"))
                        }
                    }
                }
                Ok(())
            }
            _ => Err("locals can be changed only in baseline debug frames".into()),
        }
    }

    fn instance(&self) -> Option<&mut InstanceData> {
        instance_of_vmctx(self.vmctx)
    }

    /// Every global of the paused instance (imported ones first): type and raw bits.
    pub fn globals(&self) -> Vec<(GlobalType, u64)> {
        self.globals_wide()
            .into_iter()
            .map(|(t, v)| (t, v as u64))
            .collect()
    }

    /// Every global with all 128 bits of its cell (a v128 fills them).
    pub fn globals_wide(&self) -> Vec<(GlobalType, u128)> {
        let Some(inst) = self.instance() else {
            return Vec::new();
        };
        let info = inst.module.info();
        info.globals
            .iter()
            .zip(inst.global_ptrs.iter())
            // SAFETY: global pointers refer to store-owned 16-byte cells.
            .map(|(t, &p)| {
                let v = unsafe { *(p as *const u128) };
                let v = if t.ty.is_v128() {
                    v
                } else {
                    mask(t.ty, v as u64) as u128
                };
                (*t, v)
            })
            .collect()
    }

    pub fn set_global(&self, index: u32, bits: u64) -> Result<(), String> {
        let inst = self.instance().ok_or("no instance")?;
        let ty = *inst
            .module
            .info()
            .globals
            .get(index as usize)
            .ok_or_else(|| format!("no global {index}"))?;
        let p = inst.global_ptrs[index as usize];
        // SAFETY: global pointers refer to store-owned cells; the program is paused.
        unsafe { *p = mask(ty.ty, bits) };
        Ok(())
    }

    /// Writes all 128 bits of `v128` global `index` (its 16-byte cell).
    pub fn set_global_v128(&self, index: u32, v: u128) -> Result<(), String> {
        let inst = self.instance().ok_or("no instance")?;
        let ty = *inst
            .module
            .info()
            .globals
            .get(index as usize)
            .ok_or_else(|| format!("no global {index}"))?;
        if !ty.ty.is_v128() {
            return Err(format!("global {index} is a {}, not a v128", ty.ty));
        }
        let p = inst.global_ptrs[index as usize];
        // SAFETY: global pointers refer to store-owned 16-byte cells (read
        // whole by `globals_wide`); the program is paused.
        unsafe { (p as *mut u128).write_unaligned(v) };
        Ok(())
    }

    /// Linear memory 0 of the paused instance.
    pub fn memory(&self) -> Option<&[u8]> {
        let inst = self.instance()?;
        let mem = inst.memory_ptr()?;
        // SAFETY: the memory is owned by the store and outlives the pause.
        Some(unsafe { (*mem).data() })
    }

    /// Linear memory 0 itself (to arm watchpoints in it).
    pub(crate) fn linear_memory(&self) -> Option<&crate::vm::memory::LinearMemory> {
        let inst = self.instance()?;
        let mem = inst.memory_ptr()?;
        // SAFETY: the memory is owned by the store and outlives the pause.
        Some(unsafe { &*mem })
    }

    /// Writes `bytes` at `addr` of linear memory 0.
    pub fn write_memory(&self, addr: u64, bytes: &[u8]) -> Result<(), String> {
        self.write_memory_at(0, addr, bytes)
    }

    /// Linear memory `index` of the paused instance (multi-memory).
    pub fn memory_at(&self, index: u32) -> Option<&[u8]> {
        let inst = self.instance()?;
        let mem = inst.memory_at(index)?;
        // SAFETY: the memory is owned by the store and outlives the pause.
        Some(unsafe { (*mem).data() })
    }

    /// Writes `bytes` at `addr` of linear memory `index`.
    pub fn write_memory_at(&self, index: u32, addr: u64, bytes: &[u8]) -> Result<(), String> {
        let inst = self.instance().ok_or("no instance")?;
        let mem = match inst.memory_at(index) {
            Some(m) => m,
            None if index == 0 => return Err("the module has no linear memory".into()),
            None => return Err(format!("the module has no memory {index}")),
        };
        // SAFETY: the memory is owned by the store and outlives the pause; the
        // program thread is stopped inside this hook, so nothing else touches it.
        let data = unsafe { (*mem).data_mut() };
        let end = addr.saturating_add(bytes.len() as u64);
        if end > data.len() as u64 {
            return Err(format!(
                "cannot write {} bytes at {addr:#x}: memory is {:#x} bytes",
                bytes.len(),
                data.len()
            ));
        }
        data[addr as usize..end as usize].copy_from_slice(bytes);
        Ok(())
    }

    /// Every table of the paused instance: element type, size, and the first
    /// `max` entries (funcref entries as function indices, `None` = null).
    pub fn tables(&self, max: usize) -> Vec<(ValType, u64, Vec<Option<u64>>)> {
        let Some(inst) = self.instance() else {
            return Vec::new();
        };
        inst.table_objs
            .iter()
            .map(|&t| {
                // SAFETY: table objects are owned by the store; the program is paused.
                let t = unsafe { &*t };
                let entries = t
                    .elements()
                    .iter()
                    .take(max)
                    .map(|&raw| {
                        if raw == 0 {
                            None
                        } else if t.ty == ValType::FuncRef {
                            // SAFETY: non-null funcref entries point to VMFuncRefs,
                            // which live as long as their instance.
                            Some(unsafe {
                                (*(raw as *const crate::vm::layout::VMFuncRef)).func_index
                            } as u64)
                        } else {
                            Some(raw)
                        }
                    })
                    .collect();
                (t.ty, t.len(), entries)
            })
            .collect()
    }

    /// Frames of the callers, innermost first, along the frame-pointer chain
    /// (at most 4096).
    pub fn callers(&self) -> Vec<CallerFrame> {
        self.callers_limited(4096).0
    }

    /// The innermost `limit` callers, and how many more frames the chain has.
    pub fn callers_limited(&self, limit: usize) -> (Vec<CallerFrame>, usize) {
        let act = traps::current();
        let stop = if act.is_null() {
            0
        } else {
            // SAFETY: the activation of this thread is live while wasm runs.
            unsafe { (*act).saved_rbp }
        };
        let mut out = Vec::new();
        let mut omitted = 0;
        let mut fp = self.fp;
        while fp != 0 && fp != stop && fp.is_multiple_of(8) {
            // SAFETY: wasm code and trampolines keep the rbp chain; the walk
            // stops at the entry trampoline's frame and at non-wasm return addresses.
            let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
            let Some(obj) = code::object_at(ret) else {
                break;
            };
            let CodeKind::Wasm(_) = obj.kind else {
                break;
            };
            let Some(f) = obj.func_at(ret) else { break };
            if out.len() >= limit {
                omitted += 1;
                if next <= fp {
                    break;
                }
                fp = next;
                continue;
            }
            let native = (ret - 1 - obj.start() - f.start) as u32;
            let wasm_offset = f.wasm_offset_at(native);
            let locals = match (&f.debug, wasm_offset) {
                (Some(table), Some(_)) => Some(
                    table
                        .locals
                        .iter()
                        .map(|&(ty, loc)| frame_value(next, ty, loc))
                        .collect(),
                ),
                _ => None,
            };
            out.push(CallerFrame {
                module_id: obj.module_id,
                func_index: f.func_index,
                wasm_offset,
                // Per function: a mixed module's object holds both tiers.
                tier: Some(f.tier),
                osr: f.osr_loop.is_some(),
                locals,
            });
            if next <= fp {
                break;
            }
            fp = next;
        }
        (out, omitted)
    }
}

/// A value of a frame that is not running (a caller, or a thrower): frame
/// slots and constants are known, registers are not.
fn frame_value(fp: usize, ty: ValType, loc: ValueLoc) -> DebugValue {
    match loc {
        // SAFETY: `fp` is the frame pointer of a live wasm frame (a caller of
        // the paused code, or the thrower while `raise` runs); its slots are
        // live while the frames above it run.
        ValueLoc::Frame(off) => DebugValue {
            ty,
            bits: mask(ty, unsafe { *((fp as isize + off as isize) as *const u64) }),
            // SAFETY: as above (a v128 slot is 16 bytes).
            hi: if ty.is_v128() {
                unsafe { *((fp as isize + off as isize + 8) as *const u64) }
            } else {
                0
            },
            loc: Some(loc),
            available: true,
        },
        ValueLoc::Const(c) => DebugValue {
            ty,
            bits: c,
            hi: 0,
            loc: Some(loc),
            available: true,
        },
        _ => DebugValue {
            ty,
            bits: 0,
            hi: 0,
            loc: Some(loc),
            available: false,
        },
    }
}

/// Debug code keeps a copy of its function's debug byte in r13; the stubs
/// that call the runtime restore registers from `regs`, so writing the byte's
/// current value there makes a change (breakpoint set, step, detach) take
/// effect in the running frame.
pub(crate) fn refresh_debug_flag(vmctx: *mut u8, func: u32, regs: *mut u64) {
    if regs.is_null() {
        return;
    }
    let count = instance_of_vmctx(vmctx).map_or(0, |i| i.module.info().num_funcs());
    if func >= count {
        return;
    }
    // SAFETY: the vmctx has one debug byte per function after the header
    // (`func < count`); `regs` is the 16-GPR save area of the calling stub.
    unsafe {
        let byte = std::sync::atomic::AtomicU8::from_ptr(
            vmctx.add(crate::vm::layout::VMCTX_DEBUG_FLAGS as usize + func as usize),
        )
        .load(std::sync::atomic::Ordering::SeqCst);
        *regs.add(13) = byte as u64;
    }
}

/// The current debug byte of function `func` of module `module_id`, when
/// `vmctx` is an instance of that module.
pub(crate) fn debug_byte(vmctx: *mut u8, module_id: u64, func: u32) -> Option<u8> {
    let inst = instance_of_vmctx(vmctx)?;
    if inst.module.info().id != module_id || func >= inst.module.info().num_funcs() {
        return None;
    }
    // SAFETY: the vmctx has one debug byte per function after the header.
    Some(unsafe {
        std::sync::atomic::AtomicU8::from_ptr(
            vmctx.add(crate::vm::layout::VMCTX_DEBUG_FLAGS as usize + func as usize),
        )
        .load(std::sync::atomic::Ordering::SeqCst)
    })
}

fn call_store_hook(ctx: &DebugContext<'_>) -> u32 {
    let act = traps::current();
    if act.is_null() {
        return 0;
    }
    // SAFETY: the activation's store is the store running this code; only its
    // debug hook is touched here (type-erased access through StoreInner, which
    // is the first field of every Store<T>). The hook is taken out while it
    // runs, so a nested call cannot alias it.
    let inner = unsafe { &mut *((*act).store as *mut super::store::StoreInner) };
    let Some(mut hook) = inner.debug_hook.take() else {
        return 0;
    };
    let result: Result<(), Trap> = hook(ctx);
    // SAFETY: as above.
    let inner = unsafe { &mut *((*act).store as *mut super::store::StoreInner) };
    if inner.debug_hook.is_none() {
        inner.debug_hook = Some(hook);
    }
    match result {
        Ok(()) => 0,
        Err(t) => {
            traps::set_pending(t);
            1
        }
    }
}

/// From debug code: a breakable position of a function whose debug flag is set.
pub(crate) fn run_hook(vmctx: *mut u8, func: u32, point: u32, regs: *mut u64, fp: usize) -> u32 {
    // The stub's return address sits just above the save area; it lies in the
    // code that is running, whose side table we need.
    // SAFETY: `regs` points to the save area built by the debug stub.
    let ret = unsafe { *((regs as *mut u8).add(DEBUG_REGS_SIZE as usize) as *const usize) };
    let Some(obj) = code::object_at(ret) else {
        return 0;
    };
    let Some(f) = obj.func_at(ret) else { return 0 };
    let Some(table) = f.debug.as_ref() else {
        return 0;
    };
    let Some(p) = table.points.get(point as usize) else {
        return 0;
    };
    let ctx = DebugContext {
        func_index: func,
        wasm_offset: p.wasm_offset,
        module_id: obj.module_id,
        kind: HookKind::Instruction,
        vmctx,
        fp,
        pc: ret,
        site: Site::Debug { point, regs, table },
        moves_down: false,
        osr: false,
        exn: 0,
    };
    let r13 = super::osr_return::caller_r13(fp, super::osr::KIND_DEBUG, regs);
    super::osr_return::patch_callers(vmctx, fp, r13);
    let status = call_store_hook(&ctx);
    refresh_debug_flag(vmctx, func, regs);
    status
}

/// From the interrupt check after a pause request. `state` is the register
/// save area (baseline) or the optimized state record.
pub(crate) fn run_pause(
    vmctx: *mut u8,
    func: u32,
    wasm_offset: u32,
    fp: usize,
    state: *mut u64,
    kind: u32,
) -> u32 {
    let Some(inst) = instance_of_vmctx(vmctx) else {
        return 0;
    };
    let module_id = inst.module.info().id;
    let tier = if kind & 2 != 0 {
        Tier::Debug
    } else {
        Tier::Baseline
    };
    // The running code says where things are: baseline code's call into
    // the runtime returns into it (just below its save area).
    let optimized = kind & super::osr::KIND_OPTIMIZED != 0;
    let obj = (!optimized)
        // SAFETY: baseline checks pass their save area, right above the
        // return address of their runtime call.
        .then(|| unsafe { *(state as *const usize).sub(1) })
        .and_then(|p| code::object_at(p).map(|o| (o, p)));
    let checks = obj
        .as_ref()
        .and_then(|(o, p)| o.func_at(*p))
        .map(|f| &f.checks);
    let site = if optimized {
        Site::OptimizedCheck { state }
    } else {
        let at = checks.and_then(|c| {
            if kind & 4 != 0 {
                Some((&c.entry_locals[..], &[][..]))
            } else {
                c.loops
                    .iter()
                    .find(|(w, _)| *w == wasm_offset)
                    .map(|(_, stack)| (&c.locals[..], &stack[..]))
            }
        });
        Site::BaselineCheck {
            regs: state,
            at,
            tier,
        }
    };
    let ctx = DebugContext {
        func_index: func,
        wasm_offset,
        module_id,
        kind: HookKind::PauseRequest,
        vmctx,
        fp,
        pc: 0,
        site,
        moves_down: super::osr::moves_down_on_resume(vmctx, kind),
        osr: optimized
            && super::osr::optimized_code_of(inst, func, fp).is_some_and(|(o, start, _)| {
                o.func_at(start).is_some_and(|f| f.osr_loop.is_some())
            }),
        exn: 0,
    };
    // The paused frames' debug code first, on the precompiler's thread
    // (the stepi that moves this frame down then finds it ready).
    super::osr_return::note_stack(vmctx, func, fp);
    let r13 = super::osr_return::caller_r13(fp, kind, state);
    super::osr_return::patch_callers(vmctx, fp, r13);
    call_store_hook(&ctx)
}

/// From `vm::unwind::raise`, before any frame unwinds: exception `exn` is
/// thrown by the wasm frame `fp` (or a host trampoline's) whose call returns
/// to `ret`. Runs the store's debug hook (a debugger's `catch throw`); the
/// walk to the handler starts only after it returns, so the thrower's frames
/// are all still there. Nonzero: the hook ended the run (the trap is pending).
pub(crate) fn run_throw(vmctx: *mut u8, exn: u64, ret: usize, fp: usize) -> u32 {
    let act = traps::current();
    if act.is_null() {
        return 0;
    }
    // SAFETY: the activation's store is a live `Store<T>` whose first field
    // is its `StoreInner`; only the hook's presence is read.
    if unsafe {
        (*((*act).store as *const super::store::StoreInner))
            .debug_hook
            .is_none()
    } {
        return 0;
    }
    let Some(obj) = code::object_at(ret) else {
        return 0;
    };
    let CodeKind::Wasm(_) = obj.kind else {
        return 0;
    };
    let Some(f) = obj.func_at(ret.saturating_sub(1)) else {
        return 0;
    };
    // Per function: a mixed module's object holds both tiers.
    let tier = f.tier;
    let native = (ret - 1 - obj.start() - f.start) as u32;
    let ctx = DebugContext {
        func_index: f.func_index,
        wasm_offset: f.wasm_offset_at(native).unwrap_or(0),
        module_id: obj.module_id,
        kind: HookKind::Throw,
        vmctx,
        fp,
        pc: ret,
        site: Site::Throw {
            table: f.debug.as_ref(),
            tier,
        },
        moves_down: false,
        osr: f.osr_loop.is_some(),
        exn,
    };
    call_store_hook(&ctx)
}
