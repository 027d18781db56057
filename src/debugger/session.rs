//! The session: the program runs on its own thread; `Session::send` takes
//! commands without ever waiting for it, and everything it reports comes back
//! as `Event`s. The program thread stops inside the engine's debug hook (at a
//! breakable position of debug code, or at an interrupt check after `pause`)
//! and serves inspection commands from there until it is resumed.

use super::api::*;
use super::dwarf::{DwarfEnv, DwarfInfo};
use super::program;
use crate::code::Tier;
use crate::engine::{Config, Engine, Strategy};
use crate::runtime::{DebugFlags, InterruptHandle, Module};
use crate::tiering::Tiering;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

/// What to debug and how to start it.
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    /// Shown in messages (usually the file path).
    pub name: String,
    /// The module, binary or text.
    pub wasm: Vec<u8>,
    /// Exported function to call instead of `_start`.
    pub invoke: Option<String>,
    /// argv for `_start` (without the program name), or `--invoke` arguments.
    pub args: Vec<String>,
    pub dirs: Vec<(PathBuf, String)>,
    pub env: Vec<(String, String)>,
    /// Start at full speed under dynamic tiering instead of paused at entry.
    pub run: bool,
    /// The guest's stdin (the terminal belongs to the debugger).
    pub stdin: Vec<u8>,
    /// Directories to look for source files in (besides the paths DWARF names).
    pub source_dirs: Vec<PathBuf>,
    /// Source files carried in memory (file name, text), e.g. the bundled sample's.
    pub sources: Vec<(String, String)>,
}

/// One line of disassembly: the instruction's module byte offset (None for
/// lines such as closing parentheses) and wasmprinter's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisasLine {
    pub offset: Option<u32>,
    pub text: String,
}

/// How a step ends.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StepKind {
    /// Any next instruction (`stepi`).
    Into,
    /// The next instruction in this frame or a caller (`nexti`).
    Over,
    /// The first instruction back in a caller (`finish`).
    Out,
    /// The next instruction on another source line, in any frame (`step`).
    LineInto,
    /// The next instruction on another source line in this frame or a caller (`next`).
    LineOver,
}

#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub kind: StepKind,
    /// Frame pointer of the frame the step started in (stacks grow down:
    /// a larger value is a caller).
    pub fp: usize,
    pub line: Option<(String, u32)>,
    /// Functions on the stack when the step began (their debug flags stay on).
    pub stack_funcs: Vec<u32>,
}

/// Breakpoints and what the program should stop for; shared by the client
/// side and the program thread.
#[derive(Default)]
pub(crate) struct Control {
    pub breakpoints: Vec<Breakpoint>,
    pub next_id: u32,
    pub step: Option<Step>,
    pub pause_requested: bool,
    pub stop_at_entry: bool,
    /// Profile mode: breakpoints and steps suspended.
    pub profile: bool,
}

/// Handles into the running instance, valid while it exists.
#[derive(Clone)]
pub(crate) struct Live {
    pub tiering: Tiering,
    pub flags: DebugFlags,
    pub interrupt: InterruptHandle,
    pub thread: Option<crate::profile::ThreadTarget>,
}

/// The profiler state of the session.
#[derive(Default)]
pub(crate) struct Profiling {
    pub sampler: Option<crate::profile::Sampler>,
    pub started: Option<Instant>,
    pub elapsed: Duration,
    pub samples: Vec<crate::profile::RawSample>,
}

pub(crate) struct Shared {
    pub name: String,
    pub module: Module,
    pub dwarf: Option<DwarfInfo>,
    pub source_dirs: Vec<PathBuf>,
    pub sources: Vec<(String, String)>,
    pub control: Mutex<Control>,
    pub live: Mutex<Option<Live>>,
    pub events: Sender<Event>,
    pub state: AtomicU8,
    pub mode: AtomicU8,
    pub quit: AtomicBool,
    pub restart: AtomicBool,
    pub profiling: Mutex<Profiling>,
    /// A tier switch runs on a helper thread (one at a time).
    pub switching: AtomicBool,
    disas: OnceLock<Vec<(u32, Vec<DisasLine>)>>,
    source_cache: Mutex<std::collections::HashMap<String, Option<Arc<Vec<String>>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

const STATE_RUNNING: u8 = 0;
const STATE_PAUSED: u8 = 1;
const STATE_ENDED: u8 = 2;

fn mode_code(m: DebugMode) -> u8 {
    match m {
        DebugMode::Running => 0,
        DebugMode::Debug => 1,
        DebugMode::Profile => 2,
    }
}

impl Shared {
    pub fn emit(&self, e: Event) {
        let _ = self.events.send(e);
    }

    pub fn set_state(&self, s: RunState) {
        let v = match s {
            RunState::Running => STATE_RUNNING,
            RunState::Paused => STATE_PAUSED,
            RunState::Ended => STATE_ENDED,
        };
        self.state.store(v, Ordering::SeqCst);
    }

    pub fn state(&self) -> RunState {
        match self.state.load(Ordering::SeqCst) {
            STATE_RUNNING => RunState::Running,
            STATE_PAUSED => RunState::Paused,
            _ => RunState::Ended,
        }
    }

    pub fn set_mode(&self, m: DebugMode) {
        self.mode.store(mode_code(m), Ordering::SeqCst);
    }

    pub fn mode(&self) -> DebugMode {
        match self.mode.load(Ordering::SeqCst) {
            0 => DebugMode::Running,
            1 => DebugMode::Debug,
            _ => DebugMode::Profile,
        }
    }

    pub fn live(&self) -> Option<Live> {
        lock(&self.live).clone()
    }

    pub fn control(&self) -> MutexGuard<'_, Control> {
        lock(&self.control)
    }

    /// Display name of a function: name section, export, DWARF, or `func[N]`.
    pub fn func_name(&self, f: u32) -> String {
        let info = self.module.info();
        if let Some(n) = info.func_name(f) {
            return n.to_string();
        }
        if let Some(e) = info
            .exports
            .iter()
            .find(|e| matches!(e.kind, crate::module::ExportKind::Func) && e.index == f)
        {
            return e.name.clone();
        }
        if let (Some(d), Some(b)) = (&self.dwarf, info.body(f)) {
            if let Some(n) = d.function_name_at(b.range.start as u32 + 1) {
                return n.to_string();
            }
        }
        format!("func[{f}]")
    }

    pub fn source_pos(&self, offset: u32) -> Option<SourcePos> {
        let row = self.dwarf.as_ref()?.line_at(offset)?;
        (row.line != 0).then(|| SourcePos {
            file: row.file.clone(),
            line: row.line,
            column: row.column,
        })
    }

    /// Sets every function's debug byte from the control state: all on while
    /// stepping into or pausing, otherwise the functions with breakpoints
    /// (and, while stepping over or out, the functions on the stack).
    pub fn apply_flags(&self, c: &Control) {
        let Some(live) = self.live() else { return };
        if c.profile || (self.mode() == DebugMode::Running && !c.pause_requested) {
            live.flags.set_all(false);
            live.interrupt.refresh();
            return;
        }
        let all = c.pause_requested
            || c.stop_at_entry
            || matches!(
                c.step.as_ref().map(|s| &s.kind),
                Some(StepKind::Into | StepKind::LineInto)
            );
        if all {
            live.flags.set_all(true);
            live.interrupt.refresh();
            return;
        }
        let n = live.flags.count();
        let mut on = vec![false; n as usize];
        for b in c.breakpoints.iter().filter(|b| b.enabled) {
            if let Some(x) = on.get_mut(b.func_index as usize) {
                *x = true;
            }
        }
        if let Some(s) = &c.step {
            for &f in &s.stack_funcs {
                if let Some(x) = on.get_mut(f as usize) {
                    *x = true;
                }
            }
        }
        for (f, &v) in on.iter().enumerate() {
            live.flags.set(f as u32, v);
        }
        // Running debug code keeps a copy of its byte: have it re-read.
        live.interrupt.refresh();
    }

    /// Module offset of the first instruction of function `f`'s body.
    fn first_instruction(&self, f: u32) -> Option<u32> {
        let info = self.module.info();
        let mut body = info.read_body(f, None).ok()?;
        body.ops.read_with_offset().ok().map(|(_, off)| off as u32)
    }

    /// Module offsets of every instruction of function `f`.
    pub fn instruction_offsets(&self, f: u32) -> Vec<u32> {
        let info = self.module.info();
        let Ok(mut body) = info.read_body(f, None) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while !body.ops.eof() {
            match body.ops.read_with_offset() {
                Ok((_, off)) => out.push(off as u32),
                Err(_) => break,
            }
        }
        out
    }

    fn resolve_function(&self, name: &str) -> Option<u32> {
        let info = self.module.info();
        (0..info.num_funcs()).find(|&f| info.body(f).is_some() && self.func_name(f) == name)
    }

    /// Resolves a breakpoint location to (offset, function) pairs.
    fn resolve(&self, at: &BreakAt) -> Result<Vec<(u32, u32)>, String> {
        let info = self.module.info();
        let func_start = |f: u32| -> Result<Vec<(u32, u32)>, String> {
            if f < info.num_imported_funcs {
                return Err(format!(
                    "function {f} is imported; it has no code to stop in"
                ));
            }
            let off = self
                .first_instruction(f)
                .ok_or_else(|| format!("no function {f}"))?;
            Ok(vec![(off, f)])
        };
        match at {
            BreakAt::Offset(off) => {
                let f = info
                    .func_at_offset(*off as usize)
                    .ok_or_else(|| format!("offset {off:#x} is not inside any function body"))?;
                if !self.instruction_offsets(f).contains(off) {
                    return Err(format!(
                        "offset {off:#x} is inside {} but not at the start of an instruction",
                        self.func_name(f)
                    ));
                }
                Ok(vec![(*off, f)])
            }
            BreakAt::FunctionIndex(f) => {
                if *f >= info.num_funcs() {
                    return Err(format!(
                        "no function #{f} (the module has {})",
                        info.num_funcs()
                    ));
                }
                func_start(*f)
            }
            BreakAt::FunctionName(n) => {
                let f = self
                    .resolve_function(n)
                    .ok_or_else(|| format!("no function named `{n}` (see `info functions`)"))?;
                func_start(f)
            }
            BreakAt::Line { file, line } => {
                let d = self.dwarf.as_ref().ok_or(
                    "this module has no DWARF line information; break by offset or function",
                )?;
                let offs = d.offsets_for_line(file, *line);
                if offs.is_empty() {
                    return Err(format!("no code for {file}:{line}"));
                }
                Ok(offs
                    .into_iter()
                    .filter_map(|o| info.func_at_offset(o as usize).map(|f| (o, f)))
                    .collect())
            }
        }
    }

    /// Break / Delete / Enable: handled at once, whatever the program is doing.
    fn breakpoint_command(&self, cmd: Command) {
        // A breakpoint set while the program runs detached attaches: every
        // later execution of the instruction runs debug code.
        if matches!(cmd, Command::Break { .. }) && self.mode() == DebugMode::Running {
            if let Some(live) = self.live() {
                self.attach(&live);
            }
        }
        let mut c = self.control();
        match cmd {
            Command::Break { at, condition } => match self.resolve(&at).and_then(|places| {
                for &(_, f) in &places {
                    let info = self.module.info();
                    super::program::check_condition(info, f, &self.func_name(f), condition.as_ref())?;
                }
                Ok(places)
            }) {
                Ok(places) => {
                    for (offset, func) in places {
                        c.next_id += 1;
                        let id = c.next_id;
                        let spec = match &at {
                            BreakAt::Offset(o) => format!("{o:#x}"),
                            BreakAt::FunctionName(n) => n.clone(),
                            BreakAt::FunctionIndex(i) => format!("#{i}"),
                            BreakAt::Line { file, line } => format!("{file}:{line}"),
                        };
                        let cond = condition
                            .as_ref()
                            .map(|k| format!(" if $local{} {} {}", k.local, k.op.symbol(), k.value))
                            .unwrap_or_default();
                        let src = self
                            .source_pos(offset)
                            .map(|p| format!(", {}:{}", short_file(&p.file), p.line))
                            .unwrap_or_default();
                        self.emit(Event::Message(format!(
                            "Breakpoint {id} at {offset:#x}: {}{src}{cond}",
                            self.func_name(func)
                        )));
                        c.breakpoints.push(Breakpoint {
                            id,
                            offset,
                            func_index: func,
                            enabled: true,
                            hits: 0,
                            condition: condition.clone(),
                            spec,
                        });
                    }
                }
                Err(e) => self.emit(Event::Error(e)),
            },
            Command::Delete(None) => {
                let n = c.breakpoints.len();
                c.breakpoints.clear();
                self.emit(Event::Message(format!("Deleted {n} breakpoint(s)")));
            }
            Command::Delete(Some(id)) => {
                let before = c.breakpoints.len();
                c.breakpoints.retain(|b| b.id != id);
                if c.breakpoints.len() == before {
                    self.emit(Event::Error(format!("no breakpoint {id}")));
                } else {
                    self.emit(Event::Message(format!("Deleted breakpoint {id}")));
                }
            }
            Command::Enable { id, enabled } => {
                match c.breakpoints.iter_mut().find(|b| b.id == id) {
                    Some(b) => {
                        b.enabled = enabled;
                        let what = if enabled { "Enabled" } else { "Disabled" };
                        self.emit(Event::Message(format!("{what} breakpoint {id}")));
                    }
                    None => self.emit(Event::Error(format!("no breakpoint {id}"))),
                }
            }
            _ => {}
        }
        self.apply_flags(&c);
        self.emit(Event::Breakpoints(c.breakpoints.clone()));
    }

    /// `pause` while running: attach (tier everything down) and stop at the
    /// next breakable position or interrupt check.
    fn request_pause(&self) {
        let Some(live) = self.live() else {
            self.emit(Event::Error("the program is not running".into()));
            return;
        };
        self.attach(&live);
        {
            let mut c = self.control();
            if c.profile {
                c.profile = false;
                self.stop_profiler();
            }
            c.pause_requested = true;
            self.apply_flags(&c);
        }
        live.interrupt.pause();
    }

    /// The program ended: keep what was sampled for `profile report`.
    pub fn stop_profiler_at_end(&self) {
        self.stop_profiler();
    }

    /// Tiers everything down to debug code (unless already attached).
    fn attach(&self, live: &Live) {
        if self.mode() == DebugMode::Debug {
            return;
        }
        let t0 = Instant::now();
        match live.tiering.tier_down_all() {
            Ok(s) => {
                self.set_mode(DebugMode::Debug);
                self.emit(Event::ModeChanged {
                    mode: DebugMode::Debug,
                    functions: s.functions,
                    elapsed: t0.elapsed(),
                });
            }
            Err(e) => self.emit(Event::Error(format!("cannot tier down: {e}"))),
        }
    }

    /// `detach`: breakpoints stop nothing, functions tier up again.
    fn detach(&self) {
        let Some(live) = self.live() else { return };
        self.stop_profiler();
        {
            let mut c = self.control();
            c.profile = false;
            c.step = None;
            c.pause_requested = false;
            c.stop_at_entry = false;
            self.set_mode(DebugMode::Running);
            self.apply_flags(&c);
        }
        live.interrupt.cancel_pause();
        live.tiering.resume_dynamic();
        self.emit(Event::ModeChanged {
            mode: DebugMode::Running,
            functions: live.tiering.functions().len(),
            elapsed: Duration::ZERO,
        });
    }

    fn stop_profiler(&self) {
        let mut p = lock(&self.profiling);
        if let Some(s) = p.sampler.take() {
            let mut got = s.stop();
            p.samples.append(&mut got);
            if let Some(t) = p.started.take() {
                p.elapsed += t.elapsed();
            }
        }
    }

    /// `profile on`: suspend breakpoints, tier everything up (progress as
    /// events), start the sampler. Runs on its own thread.
    fn profile_on(self: &Arc<Self>) {
        let Some(live) = self.live() else {
            self.emit(Event::Error(
                "the program is not running (restart it first)".into(),
            ));
            return;
        };
        if self.mode() == DebugMode::Profile || self.switching.swap(true, Ordering::SeqCst) {
            self.emit(Event::Error("profile mode is already on".into()));
            return;
        }
        {
            let mut c = self.control();
            c.profile = true;
            c.step = None;
            c.pause_requested = false;
            c.stop_at_entry = false;
            self.apply_flags(&c);
        }
        live.interrupt.cancel_pause();
        // So that Linux `perf` names the optimized code too.
        if let Err(e) = crate::profile::perf_map::enable() {
            self.emit(Event::Error(format!("no perf map: {e}")));
        }
        let me = self.clone();
        std::thread::Builder::new()
            .name("wdb-profile-on".into())
            .spawn(move || {
                let t0 = Instant::now();
                let total = live.tiering.tier_up_all();
                loop {
                    let done = live.tiering.counts()[2];
                    me.emit(Event::TierProgress {
                        mode: DebugMode::Profile,
                        done,
                        total,
                    });
                    if live
                        .tiering
                        .wait_all(Tier::Optimized, Duration::from_millis(100))
                    {
                        break;
                    }
                    if me.state() == RunState::Ended || !me.control().profile {
                        break;
                    }
                }
                me.set_mode(DebugMode::Profile);
                if let Some(target) = live.thread {
                    match crate::profile::Sampler::start(target, 1000) {
                        Ok(s) => {
                            let mut p = lock(&me.profiling);
                            p.sampler = Some(s);
                            p.started = Some(Instant::now());
                        }
                        Err(e) => me.emit(Event::Error(format!("cannot start the profiler: {e}"))),
                    }
                }
                me.switching.store(false, Ordering::SeqCst);
                me.emit(Event::ModeChanged {
                    mode: DebugMode::Profile,
                    functions: total,
                    elapsed: t0.elapsed(),
                });
            })
            .map(|_| ())
            .unwrap_or_else(|e| self.emit(Event::Error(format!("cannot start a thread: {e}"))));
    }

    /// `profile off`: stop sampling, tier everything down, restore breakpoints.
    fn profile_off(&self) {
        if self.mode() != DebugMode::Profile {
            self.emit(Event::Error("profile mode is not on".into()));
            return;
        }
        self.stop_profiler();
        let t0 = Instant::now();
        let functions = match self.live() {
            Some(live) => match live.tiering.tier_down_all() {
                Ok(s) => s.functions,
                Err(e) => {
                    self.emit(Event::Error(format!("cannot tier down: {e}")));
                    0
                }
            },
            None => 0,
        };
        {
            let mut c = self.control();
            c.profile = false;
            self.apply_flags(&c);
        }
        self.set_mode(DebugMode::Debug);
        self.emit(Event::ModeChanged {
            mode: DebugMode::Debug,
            functions,
            elapsed: t0.elapsed(),
        });
    }

    pub fn profile_report(&self) -> ProfileReport {
        let p = lock(&self.profiling);
        let mut samples = p.samples.clone();
        if let Some(s) = &p.sampler {
            samples.extend(s.samples());
        }
        let elapsed = p.elapsed + p.started.map(|t| t.elapsed()).unwrap_or_default();
        drop(p);
        let id = self.module.info().id;
        crate::profile::report(&samples, elapsed, &|module, f| {
            if module == id {
                self.func_name(f)
            } else {
                format!("wasm[{module}]::func[{f}]")
            }
        })
    }

    fn disassembly(&self) -> &Vec<(u32, Vec<DisasLine>)> {
        self.disas.get_or_init(|| {
            let info = self.module.info();
            let mut storage = String::new();
            let mut out: Vec<(u32, Vec<DisasLine>)> = Vec::new();
            let mut cfg = wasmprinter::Config::new();
            cfg.print_offsets(false);
            let Ok(lines) = cfg.offsets_and_lines(&info.bytes, &mut storage) else {
                return out;
            };
            let mut current: Option<u32> = None;
            for (off, text) in lines {
                let text = text.trim_end().to_string();
                match off.and_then(|o| info.func_at_offset(o as usize)) {
                    Some(f) => {
                        if current != Some(f) {
                            out.push((f, Vec::new()));
                            current = Some(f);
                        }
                        if let Some((_, v)) = out.last_mut() {
                            v.push(DisasLine {
                                offset: off.map(|o| o as u32),
                                text,
                            });
                        }
                    }
                    None if off.is_none() && current.is_some() => {
                        if let Some((_, v)) = out.last_mut() {
                            v.push(DisasLine { offset: None, text });
                        }
                    }
                    None => current = None,
                }
            }
            out
        })
    }
}

/// The last path component, for compact messages.
pub(crate) fn short_file(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A debugging session (see the module docs).
pub struct Session {
    shared: Arc<Shared>,
    /// Commands for the program thread (served while paused or ended).
    to_program: Sender<Command>,
    events: Receiver<Event>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Session {
    /// Loads the module and starts the program thread: paused before the
    /// first instruction, or running at full speed with `cfg.run`.
    pub fn start(cfg: SessionConfig) -> crate::Result<Session> {
        let engine = Engine::new(Config {
            strategy: Strategy::Dynamic,
            ..Config::default()
        })?;
        let module = Module::new(&engine, &cfg.wasm).map_err(|e| match e {
            crate::Error::Invalid { offset, message } => crate::Error::Usage(format!(
                "{}: invalid module at byte offset {offset:#x}: {message}",
                cfg.name
            )),
            e => crate::Error::Usage(format!("{}: {e}", cfg.name)),
        })?;
        // Malformed DWARF only costs source-level features.
        let dwarf = DwarfInfo::parse(&module.info().bytes).unwrap_or_default();
        let (etx, erx) = channel();
        let (ctx, crx) = channel();
        let mut source_dirs = cfg.source_dirs.clone();
        if let Some(parent) = std::path::Path::new(&cfg.name).parent() {
            source_dirs.push(parent.to_path_buf());
            source_dirs.push(parent.join("c"));
        }
        let shared = Arc::new(Shared {
            name: cfg.name.clone(),
            module,
            dwarf,
            source_dirs,
            sources: cfg.sources.clone(),
            control: Mutex::new(Control::default()),
            live: Mutex::new(None),
            events: etx,
            state: AtomicU8::new(STATE_RUNNING),
            mode: AtomicU8::new(mode_code(if cfg.run {
                DebugMode::Running
            } else {
                DebugMode::Debug
            })),
            quit: AtomicBool::new(false),
            restart: AtomicBool::new(false),
            profiling: Mutex::new(Profiling::default()),
            switching: AtomicBool::new(false),
            disas: OnceLock::new(),
            source_cache: Mutex::new(Default::default()),
        });
        {
            let module = shared.module.clone();
            let names: Arc<dyn Fn(u32) -> String + Send + Sync> = {
                let s = shared.clone();
                Arc::new(move |f| s.func_name(f))
            };
            crate::profile::perf_map::register_names(module.info().id, names);
        }
        let (rtx, rrx) = channel();
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("wdb-program".into())
                .stack_size(64 << 20)
                .spawn(move || program::main(shared, engine, cfg, crx, rtx))
                .map_err(|e| {
                    crate::Error::Internal(format!("cannot start the program thread: {e}"))
                })?
        };
        match rrx.recv() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = thread.join();
                return Err(crate::Error::Usage(e));
            }
            Err(_) => {
                let _ = thread.join();
                return Err(crate::Error::Internal(
                    "the program thread ended early".into(),
                ));
            }
        }
        Ok(Session {
            shared,
            to_program: ctx,
            events: erx,
            thread: Some(thread),
        })
    }

    /// Sends a command; never blocks on the program.
    pub fn send(&self, cmd: Command) {
        let s = &self.shared;
        match cmd {
            Command::Break { .. } | Command::Delete(_) | Command::Enable { .. } => {
                s.breakpoint_command(cmd)
            }
            Command::ProfileOn => s.profile_on(),
            Command::ProfileOff => s.profile_off(),
            Command::ProfileReport => s.emit(Event::Profile(s.profile_report())),
            Command::Detach => match s.state() {
                RunState::Ended => s.emit(Event::Error("the program has ended".into())),
                state => {
                    s.detach();
                    if state == RunState::Paused {
                        s.set_state(RunState::Running);
                        let _ = self.to_program.send(Command::Continue);
                    }
                }
            },
            Command::Pause => match s.state() {
                RunState::Running => s.request_pause(),
                RunState::Paused => s.emit(Event::Message("already paused".into())),
                RunState::Ended => s.emit(Event::Error(
                    "the program has ended; `restart` runs it again".into(),
                )),
            },
            Command::Quit | Command::Restart => {
                if cmd == Command::Quit {
                    s.quit.store(true, Ordering::SeqCst);
                } else {
                    s.restart.store(true, Ordering::SeqCst);
                }
                if s.state() == RunState::Running {
                    if let Some(live) = s.live() {
                        live.interrupt.interrupt();
                    }
                }
                let _ = self.to_program.send(cmd);
            }
            cmd => match s.state() {
                RunState::Running => s.emit(Event::Error(
                    "the program is running; `pause` it first".into(),
                )),
                _ => {
                    if cmd.resumes() && s.state() == RunState::Paused {
                        // The client resumes; mark it now so that an
                        // inspection command sent next is not queued behind the run.
                        s.set_state(RunState::Running);
                    }
                    let _ = self.to_program.send(cmd);
                }
            },
        }
    }

    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Event> {
        match self.events.recv_timeout(timeout) {
            Ok(e) => Some(e),
            Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => None,
        }
    }

    pub fn try_recv(&self) -> Option<Event> {
        self.events.try_recv().ok()
    }

    pub fn state(&self) -> RunState {
        self.shared.state()
    }

    pub fn mode(&self) -> DebugMode {
        self.shared.mode()
    }

    /// Display name of the program.
    pub fn name(&self) -> &str {
        &self.shared.name
    }

    /// The module being debugged.
    pub fn module(&self) -> &Module {
        &self.shared.module
    }

    /// Display name of function `f`.
    pub fn func_name(&self, f: u32) -> String {
        self.shared.func_name(f)
    }

    /// Every function with its current tier.
    pub fn functions(&self) -> Vec<FunctionRow> {
        let info = self.shared.module.info();
        let live = self.shared.live();
        let tiers: std::collections::HashMap<u32, (Tier, i32, u64)> = live
            .map(|l| {
                l.tiering
                    .functions()
                    .into_iter()
                    .map(|f| (f.func_index, (f.tier, f.budget_left, f.calls)))
                    .collect()
            })
            .unwrap_or_default();
        (0..info.num_funcs())
            .map(|f| {
                let imported = f < info.num_imported_funcs;
                let body = info
                    .body(f)
                    .map(|b| (b.range.start as u32, b.range.end as u32))
                    .unwrap_or((0, 0));
                let (tier, budget, calls) = match tiers.get(&f) {
                    Some((t, b, c)) => (
                        FrameTier::from_tier(*t).name().to_string(),
                        Some(*b as i64),
                        *c,
                    ),
                    None if imported => ("host".to_string(), None, 0),
                    None => ("-".to_string(), None, 0),
                };
                FunctionRow {
                    index: f,
                    name: self.shared.func_name(f),
                    tier,
                    imported,
                    calls,
                    body,
                    budget_left: budget,
                }
            })
            .collect()
    }

    pub fn breakpoints(&self) -> Vec<Breakpoint> {
        self.shared.control().breakpoints.clone()
    }

    /// Index of the function whose body holds module offset `offset`.
    pub fn func_at_offset(&self, offset: u32) -> Option<u32> {
        self.shared.module.info().func_at_offset(offset as usize)
    }

    /// Module offsets of every instruction of function `f`.
    pub fn instruction_offsets(&self, f: u32) -> Vec<u32> {
        self.shared.instruction_offsets(f)
    }

    /// wasmprinter text of one function, one instruction per line with offsets.
    pub fn disassemble(&self, func: u32) -> Vec<DisasLine> {
        self.shared
            .disassembly()
            .iter()
            .find(|(f, _)| *f == func)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    /// Source position of an instruction (DWARF).
    pub fn source_pos(&self, offset: u32) -> Option<SourcePos> {
        self.shared.source_pos(offset)
    }

    /// Lines of a source file named by DWARF, if it can be read.
    pub fn source_text(&self, file: &str) -> Option<Arc<Vec<String>>> {
        let d = self.shared.dwarf.as_ref()?;
        let mut cache = lock(&self.shared.source_cache);
        cache
            .entry(file.to_string())
            .or_insert_with(|| {
                let name = short_file(file);
                self.shared
                    .sources
                    .iter()
                    .find(|(n, _)| short_file(n) == name)
                    .map(|(_, text)| text.lines().map(str::to_string).collect())
                    .or_else(|| d.source_lines(file, &self.shared.source_dirs))
                    .map(Arc::new)
            })
            .clone()
    }

    /// True when the module has DWARF line info.
    pub fn has_dwarf(&self) -> bool {
        self.shared.dwarf.is_some()
    }

    /// The DWARF of the module, if any.
    pub fn dwarf(&self) -> Option<&DwarfInfo> {
        self.shared.dwarf.as_ref()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.shared.quit.store(true, Ordering::SeqCst);
        if let Some(live) = self.shared.live() {
            live.interrupt.interrupt();
        }
        let _ = self.to_program.send(Command::Quit);
        self.shared.stop_profiler();
        if let Some(t) = self.thread.take() {
            // A program blocked in a host call (e.g. a long sleep) cannot be
            // interrupted; do not hang the client on it.
            let deadline = Instant::now() + Duration::from_secs(2);
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// Values for DWARF expressions: a frame's locals plus linear memory.
pub(crate) struct FrameEnv<'a> {
    pub locals: &'a [Value],
    pub globals: &'a [GlobalValue],
    pub stack: &'a [Value],
    pub memory: Option<&'a [u8]>,
}

impl DwarfEnv for FrameEnv<'_> {
    fn local(&self, index: u32) -> Option<u64> {
        self.locals
            .get(index as usize)
            .filter(|v| v.place != Place::Unavailable)
            .map(|v| v.bits)
    }
    fn global(&self, index: u32) -> Option<u64> {
        self.globals.get(index as usize).map(|g| g.bits)
    }
    fn stack(&self, index_from_top: u32) -> Option<u64> {
        let n = self.stack.len();
        let i = n.checked_sub(1 + index_from_top as usize)?;
        self.stack.get(i).map(|v| v.bits)
    }
    fn memory(&self, addr: u64, len: u32) -> Option<Vec<u8>> {
        let m = self.memory?;
        let end = addr.checked_add(len as u64)?;
        m.get(addr as usize..end as usize).map(<[u8]>::to_vec)
    }
}
