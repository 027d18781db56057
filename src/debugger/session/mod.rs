//! The session: the program runs on its own thread; `Session::send` takes
//! commands without ever waiting for it, and everything it reports comes back
//! as `Event`s. The program thread stops inside the engine's debug hook (at a
//! breakable position of debug code, or at an interrupt check after `pause`)
//! and serves inspection commands from there until it is resumed.

mod breakpoints;
mod catchpoints;
mod disassembly;
mod dwarf_load;
mod profile_mode;
mod shared;
mod watchpoints;

pub use disassembly::DisasLine;
use shared::{lock, mode_code, Profiling, STATE_RUNNING};
pub(crate) use shared::{Control, Live, Shared, Step, StepKind};
pub use watchpoints::use_hardware_watchpoints;

use super::api::*;
use super::dwarf::DwarfInfo;
use super::program;
use crate::code::Tier;
use crate::engine::{Config, Engine, Strategy};
use crate::runtime::Module;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, OnceLock};
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
    /// How code is compiled before an attach (`wdb debug --tier`); None =
    /// dynamic tiering.
    pub strategy: Option<Strategy>,
    /// Test-only: `Config::osr_stress` of the session's engine.
    pub osr_stress: u32,
    /// Test-only: `Config::osr_stress_mode` of the session's engine.
    pub osr_stress_mode: crate::OsrStressMode,
    /// The guest's stdin (the terminal belongs to the debugger).
    pub stdin: Vec<u8>,
    /// Directories to look for source files in (besides the paths DWARF names).
    pub source_dirs: Vec<PathBuf>,
    /// Source files carried in memory (file name, text), e.g. the bundled sample's.
    pub sources: Vec<(String, String)>,
    /// Compile every function when the module loads. By default each is
    /// compiled on its first call (lazy compilation; every body is still
    /// validated at load), so attaching to a large module is instant.
    pub eager: bool,
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
            strategy: cfg.strategy.unwrap_or(Strategy::Dynamic),
            osr_stress: cfg.osr_stress,
            osr_stress_mode: cfg.osr_stress_mode,
            lazy: !cfg.eager,
            // Validation (lazy) or compilation (eager) up front uses every core.
            compile_threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            ..Config::default()
        })?;
        let module = Module::new(&engine, &cfg.wasm).map_err(|e| match e {
            crate::Error::Invalid { offset, message } => crate::Error::Usage(format!(
                "{}: invalid module at byte offset {offset:#x}: {message}",
                cfg.name
            )),
            e => crate::Error::Usage(format!("{}: {e}", cfg.name)),
        })?;
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
            dwarf_cell: OnceLock::new(),
            early_rows: Mutex::new(Default::default()),
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
            source: Default::default(),
            disas: Mutex::new(HashMap::new()),
            trap_sites: OnceLock::new(),
            source_cache: Mutex::new(Default::default()),
            watches: Mutex::new(Vec::new()),
            stopped_frames: Mutex::new(Vec::new()),
        });
        {
            let module = shared.module.clone();
            let names: Arc<dyn Fn(u32) -> String + Send + Sync> = {
                let s = shared.clone();
                Arc::new(move |f| s.func_name(f))
            };
            crate::profile::perf_map::register_names(module.info().id, names);
        }
        shared.parse_dwarf_in_background();
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
            Command::CatchThrow(on) => s.catch_throw(on),
            Command::Delete(Some(id)) if s.is_catchpoint(id) => {
                s.delete_catchpoint(Some(id));
                s.emit(Event::Message(format!("Deleted catchpoint {id}")));
            }
            // Watchpoints change only while the program is stopped.
            Command::Delete(Some(id)) if s.is_watchpoint(id) => {
                if s.state() == RunState::Running {
                    s.emit(Event::Error(
                        "the program is running; `pause` it before deleting a watchpoint".into(),
                    ));
                } else {
                    s.delete_watches(Some(id));
                    s.emit(Event::Message(format!("Deleted watchpoint {id}")));
                }
            }
            Command::Delete(None) if !s.watchpoints().is_empty() => {
                if s.state() == RunState::Running {
                    s.emit(Event::Error(
                        "the program is running; `pause` it before deleting watchpoints".into(),
                    ));
                } else {
                    let n = s.delete_watches(None);
                    s.emit(Event::Message(format!("Deleted {n} watchpoint(s)")));
                    s.breakpoint_command(cmd);
                }
            }
            Command::Break { .. } | Command::Delete(_) | Command::Enable { .. } => {
                s.breakpoint_command(cmd)
            }
            Command::BreakIf { at, condition } => s.break_if(at, condition),
            Command::ProfileOn => s.profile_on(),
            Command::ProfileOff => s.profile_off(),
            Command::ProfileReport => s.emit(Event::Profile(s.profile_report())),
            Command::StopAtTraps(on) => s.stop_at_traps(on),
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
        let stopped = lock(&self.shared.stopped_frames).clone();
        (0..info.num_funcs())
            .map(|f| {
                let imported = f < info.num_imported_funcs;
                let body = info
                    .body(f)
                    .map(|b| (b.range.start as u32, b.range.end as u32))
                    .unwrap_or((0, 0));
                let (tier, budget, calls) = match tiers.get(&f) {
                    Some((t, b, c)) => (
                        match crate::optimizing::too_large_to_optimize(info, f) {
                            Some(_) if *t == Tier::Baseline => "baseline (too large)".to_string(),
                            _ => FrameTier::from_tier(*t).name().to_string(),
                        },
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
                    frames: stopped
                        .iter()
                        .filter(|&&(g, _)| g == f)
                        .map(|&(_, t)| t)
                        .collect(),
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

    /// The `catch throw` catchpoint, if set, with its hit count.
    pub fn catchpoint(&self) -> Option<Catchpoint> {
        self.shared.control().catch_throw.clone()
    }

    /// The watchpoints (`watch`, `rwatch`, `awatch`), with their hit counts.
    pub fn watchpoints(&self) -> Vec<Watchpoint> {
        self.shared.watchpoints()
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
        self.shared.disassembly(func).as_ref().clone()
    }

    /// Source position of an instruction (DWARF).
    pub fn source_pos(&self, offset: u32) -> Option<SourcePos> {
        self.shared.source_pos(offset)
    }

    /// Lines of a source file named by DWARF, if it can be read.
    pub fn source_text(&self, file: &str) -> Option<Arc<Vec<String>>> {
        let d = self.shared.dwarf()?;
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

    /// Where a source file named by DWARF is on this machine (the path as
    /// given, or found by suffix in the program's directory and the source dirs).
    pub fn source_path(&self, file: &str) -> Option<PathBuf> {
        self.shared
            .dwarf()?
            .source_path(file, &self.shared.source_dirs)
    }

    /// True when the module has DWARF line info.
    pub fn has_dwarf(&self) -> bool {
        self.shared.dwarf().is_some()
    }

    /// The DWARF of the module, if any.
    pub fn dwarf(&self) -> Option<&DwarfInfo> {
        self.shared.dwarf()
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
