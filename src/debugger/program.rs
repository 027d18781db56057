//! The program thread: instantiates the module with WASI, runs it, and stops
//! in the debug hook when a breakpoint, a step or a pause says so. While
//! stopped it serves inspection commands; when the program ends it waits for
//! `restart` or `quit`.

use super::api::*;
use super::session::{Control, Live, SessionConfig, Shared, Step, StepKind};
use crate::code::ValueLoc;
use crate::engine::Engine;
use crate::error::{Error, Trap, TrapCode};
use crate::runtime::debug::{DebugContext, DebugValue, HookKind};
use crate::wasi::command::{self, CommandSpec, Prepared};
use crate::wasi::{Stream, WasiCtx};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

const KILLED: &str = "killed by the debugger";

fn prepare(shared: &Arc<Shared>, engine: &Engine, cfg: &SessionConfig) -> Result<Prepared, String> {
    let mut wasi = WasiCtx::new();
    wasi.set_stdin(cfg.stdin.clone());
    let out = shared.clone();
    wasi.output_to(Arc::new(move |stream, data: &[u8]| {
        out.emit(Event::Output {
            stream: match stream {
                Stream::Stdout => OutputStream::Stdout,
                Stream::Stderr => OutputStream::Stderr,
            },
            data: data.to_vec(),
        })
    }));
    let spec = CommandSpec {
        name: &shared.name,
        invoke: cfg.invoke.as_deref(),
        args: &cfg.args,
        dirs: &cfg.dirs,
        env: &cfg.env,
    };
    command::prepare(engine, &shared.module, wasi, &spec)
}

/// The program thread. `ready` gets the outcome of the first instantiation.
pub(crate) fn main(
    shared: Arc<Shared>,
    engine: Engine,
    cfg: SessionConfig,
    commands: Receiver<Command>,
    ready: Sender<Result<(), String>>,
) {
    let commands = Arc::new(Mutex::new(commands));
    let mut first = true;
    let mut run_mode = cfg.run;
    loop {
        let prepared = prepare(&shared, &engine, &cfg);
        let mut p = match prepared {
            Ok(p) => p,
            Err(e) => {
                if first {
                    let _ = ready.send(Err(e));
                    return;
                }
                shared.set_state(RunState::Ended);
                shared.emit(Event::Ended {
                    outcome: Outcome::Trapped(e),
                    snapshot: None,
                });
                if wait_after_end(&shared, &commands, None) {
                    continue;
                }
                break;
            }
        };
        let live = Live {
            tiering: p.instance.tiering(&p.store),
            flags: p.instance.debug_flags(&p.store),
            interrupt: p.store.interrupt_handle(),
            thread: crate::profile::ThreadTarget::current().ok(),
        };
        *shared.live.lock().unwrap_or_else(|e| e.into_inner()) = Some(live.clone());
        // Debug code compiles in the background from the start, so that a
        // pause (and the step after it) finds it ready.
        let interrupt = live.interrupt.clone();
        live.tiering
            .precompile_debug(Box::new(move || interrupt.sample_stack()));
        {
            let mut c = shared.control();
            *c = Control {
                breakpoints: std::mem::take(&mut c.breakpoints),
                next_id: c.next_id,
                stop_at_traps: c.stop_at_traps,
                ..Control::default()
            };
            for b in &mut c.breakpoints {
                b.hits = 0;
            }
            if run_mode {
                shared.set_mode(DebugMode::Running);
            } else {
                if let Err(e) = live.tiering.tier_down_all() {
                    shared.emit(Event::Error(format!("cannot tier down: {e}")));
                }
                shared.set_mode(DebugMode::Debug);
                c.stop_at_entry = true;
            }
            shared.apply_flags(&c);
        }
        shared.quit.store(false, Ordering::SeqCst);
        shared.restart.store(false, Ordering::SeqCst);
        let hook_shared = shared.clone();
        let hook_commands = commands.clone();
        p.store
            .set_debug_hook(Some(Box::new(move |ctx: &DebugContext<'_>| {
                on_hook(&hook_shared, &hook_commands, ctx)
            })));
        shared.set_state(RunState::Running);
        if first {
            let _ = ready.send(Ok(()));
            first = false;
        }
        let result = p.func.call(&mut p.store, &p.params, &mut p.results);
        shared.watches_ended();
        let killed = shared.quit.load(Ordering::SeqCst) || shared.restart.load(Ordering::SeqCst);
        let outcome = match result {
            Ok(()) if cfg.invoke.is_some() => {
                Outcome::Returned(p.results.iter().map(|v| v.to_string()).collect())
            }
            Ok(()) => Outcome::Exited(0),
            Err(Error::Trap(t)) if t.code == TrapCode::Exit => {
                Outcome::Exited(t.exit_code.unwrap_or(0))
            }
            Err(_) if killed => Outcome::Killed,
            Err(Error::Trap(t)) => Outcome::Trapped(format!("{}: {t}", shared.name)),
            Err(e) => Outcome::Trapped(format!("{}: {e}", shared.name)),
        };
        p.store.set_debug_hook(None);
        shared.stop_profiler_at_end();
        *shared.live.lock().unwrap_or_else(|e| e.into_inner()) = None;
        shared.set_state(RunState::Ended);
        shared.emit(Event::Ended {
            outcome,
            snapshot: None,
        });
        run_mode = false;
        if shared.quit.load(Ordering::SeqCst) {
            break;
        }
        if shared.restart.swap(false, Ordering::SeqCst) {
            drain(&commands);
            continue;
        }
        let memory = p.instance.get_memory(&p.store, "memory");
        let mem_bytes = memory.map(|m| m.data(&p.store).to_vec());
        if !wait_after_end(&shared, &commands, mem_bytes.as_deref()) {
            break;
        }
    }
    shared.emit(Event::Closed);
}

/// Drops commands queued for a run that was killed.
fn drain(commands: &Arc<Mutex<Receiver<Command>>>) {
    let rx = commands.lock().unwrap_or_else(|e| e.into_inner());
    while rx.try_recv().is_ok() {}
}

/// After the program ended: serve what can still be served until `restart`
/// (true) or `quit` (false).
fn wait_after_end(
    shared: &Arc<Shared>,
    commands: &Arc<Mutex<Receiver<Command>>>,
    memory: Option<&[u8]>,
) -> bool {
    let rx = commands.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let Ok(cmd) = rx.recv() else { return false };
        match cmd {
            Command::Restart => {
                shared.restart.store(false, Ordering::SeqCst);
                return true;
            }
            Command::Quit => return false,
            Command::ReadMemory { addr, len }
            | Command::ReadMemoryAt {
                memory: 0,
                addr,
                len,
            } => read_memory(shared, memory, addr, len),
            _ => shared.emit(Event::Error(
                "the program has ended; `restart` runs it again".into(),
            )),
        }
    }
}

fn read_memory(shared: &Shared, memory: Option<&[u8]>, addr: u64, len: u32) {
    let Some(m) = memory else {
        shared.emit(Event::Error("the module has no linear memory".into()));
        return;
    };
    let end = addr.saturating_add(len as u64);
    if end > m.len() as u64 {
        shared.emit(Event::Error(format!(
            "cannot read {len} bytes at {addr:#x}: memory is {:#x} bytes",
            m.len()
        )));
        return;
    }
    shared.emit(Event::Memory {
        addr,
        bytes: m[addr as usize..end as usize].to_vec(),
    });
}

/// Decides whether the program stops here, and why.
fn should_stop(shared: &Shared, c: &mut Control, ctx: &DebugContext<'_>) -> Option<StopReason> {
    if ctx.kind == HookKind::Throw {
        return shared.throw_stop(c, ctx);
    }
    if let Some(w) = shared.watch_stop(ctx) {
        c.pause_requested = false;
        c.step = None;
        return Some(w);
    }
    if ctx.kind == HookKind::PauseRequest {
        if c.pause_requested || c.stop_at_entry {
            c.pause_requested = false;
            c.stop_at_entry = false;
            c.step = None;
            return Some(StopReason::Pause);
        }
        return None;
    }
    if c.profile {
        return None;
    }
    if c.stop_at_entry {
        c.stop_at_entry = false;
        c.step = None;
        return Some(StopReason::Entry);
    }
    if c.pause_requested {
        c.pause_requested = false;
        c.step = None;
        return Some(StopReason::Pause);
    }
    if ctx.module_id == shared.module.info().id {
        let mut locals: Option<Vec<DebugValue>> = None;
        let mut hit = None;
        for b in c
            .breakpoints
            .iter_mut()
            .filter(|b| b.enabled && b.offset == ctx.wasm_offset)
        {
            let ok = match &b.condition {
                None => true,
                Some(k) => {
                    let ls = locals.get_or_insert_with(|| ctx.locals().unwrap_or_default());
                    match ls.get(k.local as usize) {
                        Some(v) => compare(v, k),
                        None => false,
                    }
                }
            };
            let ok = ok && shared.source_condition(b.id, ctx);
            if ok {
                b.hits += 1;
                hit.get_or_insert(b.id);
            }
        }
        if let Some(id) = hit {
            c.step = None;
            return Some(StopReason::Breakpoint(id));
        }
        if c.stop_at_traps && ctx.kind == HookKind::Instruction {
            let info = shared.module.info();
            let sites = shared
                .trap_sites
                .get_or_init(|| super::trap_check::trap_sites(info));
            let at = ctx.wasm_offset as usize;
            let may_trap = sites.get(at / 64).is_some_and(|w| w >> (at % 64) & 1 != 0);
            if let Some(t) = may_trap
                .then(|| super::trap_check::predict(&info.bytes, ctx))
                .flatten()
            {
                c.step = None;
                return Some(StopReason::Trap(t.message().to_string()));
            }
        }
    }
    let s = c.step.as_ref()?;
    let fp = ctx.frame_pointer();
    let stop = match s.kind {
        StepKind::Into => true,
        StepKind::Over => fp >= s.fp,
        StepKind::Out => fp > s.fp,
        StepKind::LineInto | StepKind::LineOver => {
            if s.kind == StepKind::LineOver && fp < s.fp {
                false
            } else {
                match shared.source_pos(ctx.wasm_offset) {
                    None => false,
                    Some(p) => fp != s.fp || s.line.as_ref() != Some(&(p.file, p.line)),
                }
            }
        }
    };
    if !stop {
        return None;
    }
    let reason = if s.kind == StepKind::Out {
        StopReason::Finish
    } else {
        StopReason::Step
    };
    c.step = None;
    Some(reason)
}

/// Checks a breakpoint condition against function `func` (named `name`),
/// where it is evaluated: the local must exist and hold a number.
pub(crate) fn check_condition(
    info: &crate::module::ModuleInfo,
    func: u32,
    name: &str,
    condition: Option<&Condition>,
) -> Result<(), String> {
    let Some(k) = condition else {
        return Ok(());
    };
    let locals = info
        .read_body(func, None)
        .map_err(|_| format!("cannot read the locals of {name}"))?
        .locals;
    match locals.get(k.local as usize) {
        None => {
            let list = match locals.len() {
                0 => String::new(),
                1 => ": $local0".to_string(),
                n => format!(": $local0..$local{}", n - 1),
            };
            Err(format!(
                "no local {} in {name} (it has {}{list})",
                k.local,
                locals.len()
            ))
        }
        Some(
            t @ (crate::types::ValType::FuncRef
            | crate::types::ValType::ExternRef
            | crate::types::ValType::ExnRef),
        ) => Err(format!(
            "$local{} of {name} is a {t}; conditions compare numbers",
            k.local
        )),
        Some(_) => Ok(()),
    }
}

fn compare(v: &DebugValue, k: &Condition) -> bool {
    let x: i64 = match v.ty {
        crate::types::ValType::I32 => v.bits as u32 as i32 as i64,
        crate::types::ValType::F32 => f32::from_bits(v.bits as u32) as i64,
        crate::types::ValType::F64 => f64::from_bits(v.bits) as i64,
        _ => v.bits as i64,
    };
    match k.op {
        CompareOp::Eq => x == k.value,
        CompareOp::Ne => x != k.value,
        CompareOp::Lt => x < k.value,
        CompareOp::Le => x <= k.value,
        CompareOp::Gt => x > k.value,
        CompareOp::Ge => x >= k.value,
    }
}

fn on_hook(
    shared: &Arc<Shared>,
    commands: &Arc<Mutex<Receiver<Command>>>,
    ctx: &DebugContext<'_>,
) -> Result<(), Trap> {
    if shared.quit.load(Ordering::SeqCst) || shared.restart.load(Ordering::SeqCst) {
        return Err(Trap::host(KILLED));
    }
    // The debugger's own reads of watched memory are no watchpoint hits.
    crate::vm::watch::quietly(|| {
        let reason = {
            let mut c = shared.control();
            should_stop(shared, &mut c, ctx)
        };
        match reason {
            Some(r) => paused(shared, commands, ctx, r),
            None => Ok(()),
        }
    })
}

fn place(d: &DebugValue) -> Place {
    if d.is_optimized_out() {
        return Place::OptimizedOut;
    }
    if !d.available {
        return Place::Unavailable;
    }
    match d.loc {
        None => Place::Spilled,
        Some(ValueLoc::Gpr(r)) => Place::Register(GPR_NAMES[r as usize & 15]),
        Some(ValueLoc::Xmm(x)) => Place::Register(XMM_NAMES[x as usize & 15]),
        Some(ValueLoc::Frame(off)) => Place::Slot(off),
        Some(ValueLoc::Const(_)) => Place::Const,
        Some(ValueLoc::Flags(_)) => Place::Flags,
    }
}

fn values(v: Vec<DebugValue>) -> Vec<Value> {
    v.iter()
        .map(|d| Value {
            ty: d.ty,
            bits: d.bits,
            hi: d.hi,
            place: place(d),
        })
        .collect()
}

fn note_for(tier: FrameTier, top: bool) -> Option<String> {
    note_for_frame(tier, top, false)
}

/// The note on a frame that runs code from before the attach; `moves`: the
/// top frame continues in debug code when it resumes (on-stack replacement).
fn note_for_frame(tier: FrameTier, top: bool, moves: bool) -> Option<String> {
    let code = match tier {
        FrameTier::Optimized => "optimized",
        FrameTier::Osr => "optimized (OSR entry)",
        _ => "baseline",
    };
    if top && moves && tier == FrameTier::Baseline {
        // Plain baseline code runs every function nothing can stop in
        // (`tiering::debug_code`), as well as code from before an attach.
        return Some(
            "plain baseline code (from before the attach, or of a function nothing \
             stops in), paused at its interrupt check; it continues in debug code from \
             here (on-stack replacement); locals and stack as at its interrupt check"
                .into(),
        );
    }
    if top && moves && tier.is_optimized() {
        return Some(format!(
            "{code} code from before the attach, paused at its interrupt check; \
             it continues in debug code from here (on-stack replacement); \
             live locals and stack as handed over by its interrupt check"
        ));
    }
    match tier {
        FrameTier::Optimized | FrameTier::Osr if top => Some(format!(
            "{code} code from before the attach: it runs on until it returns; \
             locals and stack as handed over by its interrupt check"
        )),
        FrameTier::Optimized | FrameTier::Osr => Some(format!(
            "{code} code from before the attach: it runs on until it returns"
        )),
        FrameTier::Baseline if top => Some(
            "baseline code from before the attach: it runs on until it returns; \
             locals and stack as at its interrupt check, no stepping inside it"
                .into(),
        ),
        FrameTier::Baseline => {
            Some("baseline code from before the attach: it runs on until it returns".into())
        }
        _ => None,
    }
}

/// A frame replaced by a tail call leaves no trace on the stack, but where a
/// caller's `call` names another function than the frame below it, tail
/// calls ran in between: say so on the caller (`return_call` from a
/// `call_indirect` target cannot be told apart and gets no note).
fn note_tail_calls(info: &crate::module::ModuleInfo, frames: &mut [Frame]) {
    for i in 1..frames.len() {
        if frames[i].tier == FrameTier::Host || frames[i - 1].tier == FrameTier::Host {
            continue;
        }
        let at = frames[i].offset as usize;
        let Some(code) = info.bytes.get(at..) else {
            continue;
        };
        // `call` is opcode 0x10 with the function index as a LEB128 u32.
        let mut r = wasmparser::BinaryReader::new(code, at as u64);
        if r.read_u8().ok() != Some(0x10) {
            continue;
        }
        let Ok(function_index) = r.read_var_u32() else {
            continue;
        };
        let callee = frames[i - 1].func_index;
        if function_index != callee && function_index >= info.num_imported_funcs {
            let note = format!(
                "called {} (#{function_index}); frames replaced by tail calls are not shown",
                info.func_name(function_index).unwrap_or("?")
            );
            frames[i].note = Some(match frames[i].note.take() {
                Some(n) => format!("{n}; {note}"),
                None => note,
            });
        }
    }
}

fn snapshot(shared: &Shared, ctx: &DebugContext<'_>, reason: StopReason) -> Snapshot {
    let info = shared.module.info();
    let top_tier = FrameTier::from_label(ctx.label());
    let mut frames = vec![Frame {
        func_index: ctx.func_index,
        func_name: shared.func_name(ctx.func_index),
        offset: ctx.wasm_offset,
        tier: top_tier,
        source: shared.source_pos(ctx.wasm_offset),
        locals: ctx.locals().map(values),
        stack: ctx.stack().map(values),
        // A throw stop is no interrupt check: the thrower's frame is seen as
        // a caller's is (its registers are gone).
        note: if ctx.kind == HookKind::Throw {
            note_for(top_tier, false)
        } else {
            note_for_frame(top_tier, true, ctx.continues_in_debug_code())
        },
    }];
    let (callers, frames_omitted) = ctx.callers_limited(MAX_FRAMES_SHOWN - 1);
    for c in callers {
        let tier = match c.tier {
            Some(_) if c.osr => FrameTier::Osr,
            Some(t) => FrameTier::from_tier(t),
            None => FrameTier::Host,
        };
        let offset = c.wasm_offset.unwrap_or(0);
        let ours = c.module_id == info.id;
        frames.push(Frame {
            func_index: c.func_index,
            func_name: if ours {
                shared.func_name(c.func_index)
            } else {
                format!("wasm[{}]::func[{}]", c.module_id, c.func_index)
            },
            offset,
            tier,
            source: if ours {
                shared.source_pos(offset)
            } else {
                None
            },
            locals: c.locals.map(values),
            stack: None,
            note: note_for(tier, false),
        });
    }
    note_tail_calls(info, &mut frames);
    let export_names: std::collections::HashMap<u32, &str> = info
        .exports
        .iter()
        .filter(|e| matches!(e.kind, crate::module::ExportKind::Global))
        .map(|e| (e.index, e.name.as_str()))
        .collect();
    let globals = ctx
        .globals_wide()
        .into_iter()
        .enumerate()
        .map(|(i, (t, bits))| GlobalValue {
            index: i as u32,
            name: export_names.get(&(i as u32)).map(|s| s.to_string()),
            ty: t.ty,
            mutable: t.mutable,
            bits: bits as u64,
            hi: (bits >> 64) as u64,
        })
        .collect();
    Snapshot {
        reason,
        frames,
        frames_omitted,
        regs: ctx.registers().map(|(gpr, xmm)| Registers {
            gpr,
            xmm,
            pc: ctx.pc() as u64,
        }),
        globals,
        memory_pages: ctx.memory().map(|m| m.len() as u64 / 65536),
        tables: ctx
            .tables(TABLE_ENTRIES_SHOWN)
            .into_iter()
            .enumerate()
            .map(|(i, (ty, size, entries))| TableView {
                index: i as u32,
                ty,
                size,
                entries,
            })
            .collect(),
    }
}

/// Stopped: report the snapshot, then serve commands until one resumes.
fn paused(
    shared: &Arc<Shared>,
    commands: &Arc<Mutex<Receiver<Command>>>,
    ctx: &DebugContext<'_>,
    reason: StopReason,
) -> Result<(), Trap> {
    if let Some(live) = shared.live() {
        live.interrupt.cancel_pause();
    }
    shared.watches_stopped(ctx);
    let mut snap = Arc::new(snapshot(shared, ctx, reason.clone()));
    shared.set_state(RunState::Paused);
    shared.set_stopped_frames(&snap);
    shared.emit(Event::Paused(snap.clone()));
    let rx = commands.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let Ok(cmd) = rx.recv() else {
            return Err(Trap::host(KILLED));
        };
        let step = |kind: StepKind| {
            let line = shared.source_pos(ctx.wasm_offset).map(|p| (p.file, p.line));
            Step {
                kind,
                fp: ctx.frame_pointer(),
                line,
                stack_funcs: snap.frames.iter().map(|f| f.func_index).collect(),
            }
        };
        let has_line = shared.source_pos(ctx.wasm_offset).is_some();
        let next_step = match cmd {
            Command::Continue => Some(None),
            Command::StepInstruction => Some(Some(step(StepKind::Into))),
            Command::NextInstruction => Some(Some(step(StepKind::Over))),
            Command::Finish => Some(Some(step(StepKind::Out))),
            Command::StepLine if has_line => Some(Some(step(StepKind::LineInto))),
            Command::StepLine => Some(Some(step(StepKind::Into))),
            Command::NextLine if has_line => Some(Some(step(StepKind::LineOver))),
            Command::NextLine => Some(Some(step(StepKind::Over))),
            Command::Quit | Command::Restart => return Err(Trap::host(KILLED)),
            other => {
                if serve(shared, ctx, &snap, other) {
                    snap = Arc::new(snapshot(shared, ctx, reason.clone()));
                    shared.set_stopped_frames(&snap);
                    shared.emit(Event::Paused(snap.clone()));
                }
                None
            }
        };
        if let Some(step) = next_step {
            {
                let mut c = shared.control();
                c.step = step;
                shared.apply_flags(&c);
            }
            shared.watches_resumed();
            shared.set_state(RunState::Running);
            shared.emit(Event::Resumed);
            return Ok(());
        }
    }
}

/// Serves an inspection or modification command while paused; true when
/// the paused state changed (a new snapshot is due).
fn serve(shared: &Shared, ctx: &DebugContext<'_>, snap: &Snapshot, cmd: Command) -> bool {
    match cmd {
        Command::ReadMemory { addr, len } => {
            read_memory(shared, ctx.memory(), addr, len);
            false
        }
        Command::ReadMemoryAt { memory, addr, len } => {
            match ctx.memory_at(memory) {
                Some(m) => read_memory(shared, Some(m), addr, len),
                None => shared.emit(Event::Error(format!("the module has no memory {memory}"))),
            }
            false
        }
        Command::WriteMemoryAt {
            memory,
            addr,
            bytes,
        } => match ctx.write_memory_at(memory, addr, &bytes) {
            Ok(()) => {
                shared.emit(Event::Message(format!(
                    "wrote {} byte(s) at {addr:#x} of memory {memory}",
                    bytes.len()
                )));
                true
            }
            Err(e) => {
                shared.emit(Event::Error(e));
                false
            }
        },
        Command::WriteMemory { addr, bytes } => match ctx.write_memory(addr, &bytes) {
            Ok(()) => {
                shared.emit(Event::Message(format!(
                    "wrote {} byte(s) at {addr:#x}",
                    bytes.len()
                )));
                true
            }
            Err(e) => {
                shared.emit(Event::Error(e));
                false
            }
        },
        Command::SetLocal {
            frame,
            index,
            value,
        } => {
            if frame != 0 {
                shared.emit(Event::Error(
                    "only the innermost frame's locals can be set".into(),
                ));
                return false;
            }
            let done = snap
                .frames
                .first()
                .and_then(|f| f.locals.as_ref())
                .ok_or_else(|| "this frame's code keeps no record of its locals".to_string())
                .and_then(|locals| {
                    let ty = locals.get(index as usize).map(|v| v.ty).ok_or_else(|| {
                        format!("no local {index} (the function has {})", locals.len())
                    })?;
                    if ty == crate::types::ValType::V128 {
                        let v = value.to_v128().map_err(|e| format!("$local{index}: {e}"))?;
                        ctx.set_local_v128(index, v)?;
                        let text = format_value(ty, v as u64, (v >> 64) as u64);
                        return Ok(format!("$local{index} set to {text}"));
                    }
                    let bits = value
                        .to_bits(ty)
                        .map_err(|e| format!("$local{index}: {e}"))?;
                    ctx.set_local(index, bits)?;
                    Ok(format!("$local{index} set to {}", format_bits(ty, bits)))
                });
            answer(shared, done)
        }
        Command::SetGlobal { index, value } => {
            let done = snap
                .globals
                .get(index as usize)
                .ok_or_else(|| format!("no global {index} (the module has {})", snap.globals.len()))
                .and_then(|g| {
                    let ty = g.ty;
                    if !g.mutable {
                        // Optimized code may have folded or hoisted its loads.
                        return Err(format!(
                            "$global{index} is immutable ({ty} const): only mutable globals can be set"
                        ));
                    }
                    if ty == crate::types::ValType::V128 {
                        let v = value.to_v128().map_err(|e| format!("$global{index}: {e}"))?;
                        ctx.set_global_v128(index, v)?;
                        let text = format_value(ty, v as u64, (v >> 64) as u64);
                        return Ok(format!("$global{index} set to {text}"));
                    }
                    let bits = value
                        .to_bits(ty)
                        .map_err(|e| format!("$global{index}: {e}"))?;
                    ctx.set_global(index, bits)?;
                    Ok(format!("$global{index} set to {}", format_bits(ty, bits)))
                });
            answer(shared, done)
        }
        Command::Print { frame, expr } => match super::v128::print_wasm_v128(snap, frame, &expr) {
            Some(text) => {
                shared.emit(Event::Message(text));
                false
            }
            None => shared.source_request(
                ctx,
                snap,
                frame,
                SourceRequest::Print {
                    expr,
                    format: PrintFormat::Natural,
                },
            ),
        },
        Command::Source { frame, request } => shared.source_request(ctx, snap, frame, request),
        Command::Watch { frame, kind, expr } => {
            shared.watch_command(ctx, snap, frame, kind, expr);
            false
        }
        Command::Pause => {
            shared.emit(Event::Message("already paused".into()));
            false
        }
        other => {
            shared.emit(Event::Error(format!("{other:?} is not available here")));
            false
        }
    }
}

/// Emits the outcome of a modification; true when it changed the state.
fn answer(shared: &Shared, done: Result<String, String>) -> bool {
    match done {
        Ok(m) => {
            shared.emit(Event::Message(m));
            true
        }
        Err(e) => {
            shared.emit(Event::Error(e));
            false
        }
    }
}
