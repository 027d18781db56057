//! The state the client side of a session and its program thread share:
//! run state and mode, the control block (breakpoints, steps, pause), handles
//! into the live instance, and attaching/detaching the debugger.

use super::DisasLine;
use crate::debugger::api::*;
use crate::debugger::dwarf::DwarfInfo;
use crate::runtime::{DebugFlags, InterruptHandle, Module};
use crate::tiering::Tiering;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

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
    /// Stop before an instruction that would trap.
    pub stop_at_traps: bool,
    /// `catch throw` (catchpoints.rs).
    pub catch_throw: Option<crate::debugger::api::Catchpoint>,
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

/// Everything the client side and the program thread share.
pub(crate) struct Shared {
    pub name: String,
    pub module: Module,
    /// The DWARF, parsed on a background thread (see dwarf_load.rs): use `dwarf()`.
    pub dwarf_cell: OnceLock<Option<DwarfInfo>>,
    /// Stop positions answered before `dwarf_cell` was ready (dwarf_load.rs).
    pub(super) early_rows: Mutex<super::dwarf_load::EarlyRows>,
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
    /// Breakpoint conditions on source expressions, `print`'s `$N` (source.rs).
    pub source: crate::debugger::source::SourceState,
    /// Function index -> its disassembly, printed when first asked for.
    pub(super) disas: Mutex<HashMap<u32, Arc<Vec<DisasLine>>>>,
    /// Module offsets of instructions that can trap (a bit each), built the
    /// first time trap stops look at one.
    pub trap_sites: OnceLock<Vec<u64>>,
    pub(super) source_cache: Mutex<std::collections::HashMap<String, Option<Arc<Vec<String>>>>>,
    /// Watchpoints (watchpoints.rs).
    pub(super) watches: Mutex<Vec<super::watchpoints::WatchEntry>>,
    /// While paused: (function, the code its frame runs) for every frame of
    /// the last stop, innermost first (`info functions`, the functions pane).
    pub stopped_frames: Mutex<Vec<(u32, crate::debugger::FrameTier)>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) const STATE_RUNNING: u8 = 0;
pub(super) const STATE_PAUSED: u8 = 1;
pub(super) const STATE_ENDED: u8 = 2;

pub(super) fn mode_code(m: DebugMode) -> u8 {
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
        if s != RunState::Paused {
            lock(&self.stopped_frames).clear();
        }
    }

    /// Remembers which code each frame of `snap` runs (see `stopped_frames`).
    pub fn set_stopped_frames(&self, snap: &crate::debugger::Snapshot) {
        *lock(&self.stopped_frames) = snap
            .frames
            .iter()
            .filter(|f| f.tier != crate::debugger::FrameTier::Host)
            .map(|f| (f.func_index, f.tier))
            .collect();
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
        if let (Some(d), Some(b)) = (self.dwarf(), info.body(f)) {
            if let Some(n) = d.function_name_at(b.range.start as u32 + 1) {
                return n.to_string();
            }
        }
        format!("func[{f}]")
    }

    pub fn source_pos(&self, offset: u32) -> Option<SourcePos> {
        let row = self.line_row(offset)?;
        (row.line != 0).then_some(SourcePos {
            file: row.file,
            line: row.line,
            column: row.column,
        })
    }

    /// `pause` while running: attach (tier everything down) and stop at the
    /// next breakable position or interrupt check.
    pub(super) fn request_pause(&self) {
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

    /// Tiers everything down to debug code (unless already attached).
    pub(super) fn attach(&self, live: &Live) {
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
    pub(super) fn detach(&self) {
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
}
