//! The TUI's state (`App`) and how it changes: engine events, keys, mouse
//! and the periodic tick. Drawing lives in `draw`; nothing here touches the
//! terminal, so all of it runs in tests over a fake `Debuggee`.

use super::draw;
use super::text::{contains_ci, outcome_text, parse_number, value_address};
use super::Debuggee;
use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent,
    MouseEventKind,
};
use ratatui::layout::{Position, Rect};
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wdb::debugger::console::{self, Parsed, View};
use wdb::debugger::{
    BreakAt, Breakpoint, Command, DebugMode, DisasLine, Event, FunctionRow, GlobalValue,
    OutputStream, ProfileReport, Registers, RunState, Snapshot, Value,
};

/// Lines of program output kept (older ones are dropped).
pub const OUTPUT_LINES: usize = 10_000;
/// A line longer than this many bytes is broken (bounds memory for output without newlines).
const MAX_LINE_BYTES: usize = 2048;
/// Engine events handled per drawn frame, so a flood of output never freezes the screen.
pub const EVENTS_PER_FRAME: usize = 4096;
/// How often the profile is asked for and the function tiers are refreshed.
const REFRESH: Duration = Duration::from_millis(500);
/// How long `q` waits for the session to close.
const QUIT_WAIT: Duration = Duration::from_millis(1500);
/// Bytes asked for at least by one memory read.
const MEMORY_READ: u32 = 256;

/// The panes, in focus (Tab) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Code,
    Vars,
    Registers,
    Frames,
    Memory,
    Functions,
    Breakpoints,
    Output,
}

impl Pane {
    pub const ALL: [Pane; 8] = [
        Pane::Code,
        Pane::Vars,
        Pane::Registers,
        Pane::Frames,
        Pane::Memory,
        Pane::Functions,
        Pane::Breakpoints,
        Pane::Output,
    ];

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Code => "Code",
            Pane::Vars => "Locals·Stack",
            Pane::Registers => "Registers",
            Pane::Frames => "Call stack",
            Pane::Memory => "Memory",
            Pane::Functions => "Functions",
            Pane::Breakpoints => "Breakpoints",
            Pane::Output => "Output",
        }
    }

    /// Name on a tab, where space is short.
    pub fn tab(self) -> &'static str {
        match self {
            Pane::Code => "Code",
            Pane::Vars => "Vars",
            Pane::Registers => "Regs",
            Pane::Frames => "Stack",
            Pane::Memory => "Mem",
            Pane::Functions => "Funcs",
            Pane::Breakpoints => "Breaks",
            Pane::Output => "Out",
        }
    }
}

/// A cursor in a list and the first line shown (kept by drawing).
#[derive(Debug, Default)]
pub struct Scroll {
    pub sel: usize,
    pub top: Cell<usize>,
}

impl Scroll {
    /// The first line to show so that `sel` is visible in `height` lines; remembered.
    pub fn visible_top(&self, len: usize, height: usize) -> usize {
        let height = height.max(1);
        let mut top = self.top.get();
        let sel = self.sel.min(len.saturating_sub(1));
        if sel < top {
            top = sel;
        } else if sel >= top.saturating_add(height) {
            top = sel.saturating_add(1).saturating_sub(height);
        }
        top = top.min(len.saturating_sub(height));
        self.top.set(top);
        top
    }

    pub fn set(&mut self, sel: usize, len: usize) {
        self.sel = sel.min(len.saturating_sub(1));
    }

    pub fn move_by(&mut self, delta: isize, len: usize) {
        let sel = if delta < 0 {
            self.sel.saturating_sub(delta.unsigned_abs())
        } else {
            self.sel.saturating_add(delta.unsigned_abs())
        };
        self.set(sel, len);
    }

    /// Puts `sel` in the middle of a `height`-line view.
    pub fn center(&mut self, sel: usize, len: usize, height: usize) {
        self.set(sel, len);
        self.top.set(self.sel.saturating_sub(height / 2));
    }
}

/// Where an output line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutKind {
    Stdout,
    Stderr,
    /// A message from the debugger.
    Info,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutLine {
    pub kind: OutKind,
    pub text: String,
}

/// What the code pane shows.
#[derive(Debug, Default)]
pub struct CodeView {
    pub func: Option<u32>,
    pub lines: Arc<Vec<DisasLine>>,
    pub scroll: Scroll,
    /// The source view is the active one (needs DWARF).
    pub source: bool,
    pub src_file: Option<String>,
    pub src_lines: Option<Arc<Vec<String>>>,
    pub src_scroll: Scroll,
    /// Native instructions under each wasm instruction (`m`).
    pub native: bool,
    /// Show this tier's code instead of the running one (`disas /m tier=…`).
    pub native_tier: Option<wdb::Tier>,
    pub machine: Option<Arc<wdb::debugger::MachineCode>>,
    pub machine_err: Option<String>,
    /// First row shown in native view (rows are wasm lines and native instructions).
    pub native_top: Cell<usize>,
}

#[derive(Debug, Default)]
pub struct MemoryView {
    /// First address shown.
    pub addr: Option<u64>,
    /// What the last `Event::Memory` brought.
    pub data_addr: u64,
    pub bytes: Vec<u8>,
    /// Address of a read under way.
    pub pending: Option<(u64, u32)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    /// `:` the console language.
    Command,
    /// `g` an offset, function or (in the memory pane) an address.
    Goto,
    /// `/` text in the code pane.
    Search,
}

impl PromptKind {
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Command => ":",
            PromptKind::Goto => "go to (0xOFFSET, FUNC, #INDEX): ",
            PromptKind::Search => "/",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub input: String,
}

/// One row of the locals/stack pane.
#[derive(Debug, Clone, PartialEq)]
pub enum VarRow {
    Section(String),
    Note(String),
    Value {
        label: String,
        value: Value,
        /// The top of the operand stack.
        top: bool,
    },
    Global(GlobalValue),
}

/// The whole state of the terminal UI.
pub struct App {
    pub dbg: Box<dyn Debuggee>,
    pub name: String,
    pub has_dwarf: bool,
    pub state: RunState,
    pub mode: DebugMode,
    pub snapshot: Option<Arc<Snapshot>>,
    /// Registers at the stop before this one (changed values are highlighted).
    pub prev_regs: Option<Registers>,
    pub frames: Scroll,
    pub vars: Scroll,
    pub regs: Scroll,
    /// Values in hex (`x`).
    pub hex: bool,
    pub code: CodeView,
    disas_cache: HashMap<u32, Arc<Vec<DisasLine>>>,
    pub functions: Vec<FunctionRow>,
    pub func_filter: String,
    pub funcs: Scroll,
    pub breakpoints: Vec<Breakpoint>,
    pub bps: Scroll,
    pub output: VecDeque<OutLine>,
    partial: [Vec<u8>; 2],
    /// Lines scrolled back from the end of the output (0 follows new output).
    pub output_back: usize,
    pub memory: MemoryView,
    pub profile: Option<ProfileReport>,
    pub profile_scroll: Scroll,
    /// The profile view's annotated function (Enter; Esc goes back).
    pub annotated: Option<super::machine::Annotated>,
    /// A tier switch under way: mode, done, total.
    pub tier_progress: Option<(DebugMode, usize, usize)>,
    pub focus: Pane,
    /// Panes by how recently they were focused (tab groups show the latest).
    pub recent: Vec<Pane>,
    /// Height weight of each pane (`+`/`-`), by `Pane::index`.
    pub weights: [u16; 8],
    /// Width of the left column in percent (`<`/`>`).
    pub left_pct: u16,
    /// The focused pane fills the screen (`z`).
    pub zoom: bool,
    pub prompt: Option<Prompt>,
    pub history: Vec<String>,
    history_pos: Option<usize>,
    pub last_search: String,
    /// The line under the panes: (text, is an error).
    pub message: Option<(String, bool)>,
    pub help: bool,
    /// `pause` sent while running; cleared by the pause.
    pub attaching: bool,
    pub outcome: Option<String>,
    pub quit_at: Option<Instant>,
    pub closed: bool,
    /// The terminal area of the last draw (for the mouse and page sizes).
    pub area: Cell<Rect>,
    last_profile_req: Option<Instant>,
    last_refresh: Option<Instant>,
    /// Something changed since the last draw.
    pub dirty: bool,
}

impl App {
    pub fn new(dbg: Box<dyn Debuggee>) -> App {
        let mut app = App {
            name: dbg.name().to_string(),
            has_dwarf: dbg.has_dwarf(),
            state: dbg.state(),
            mode: dbg.mode(),
            functions: dbg.functions(),
            breakpoints: dbg.breakpoints(),
            dbg,
            snapshot: None,
            prev_regs: None,
            frames: Scroll::default(),
            vars: Scroll::default(),
            regs: Scroll::default(),
            hex: false,
            code: CodeView::default(),
            disas_cache: HashMap::new(),
            func_filter: String::new(),
            funcs: Scroll::default(),
            bps: Scroll::default(),
            output: VecDeque::new(),
            partial: [Vec::new(), Vec::new()],
            output_back: 0,
            memory: MemoryView::default(),
            profile: None,
            profile_scroll: Scroll::default(),
            annotated: None,
            tier_progress: None,
            focus: Pane::Code,
            recent: Pane::ALL.to_vec(),
            weights: [3, 2, 2, 1, 2, 2, 2, 1],
            left_pct: 58,
            zoom: false,
            prompt: None,
            history: Vec::new(),
            history_pos: None,
            last_search: String::new(),
            message: None,
            help: false,
            attaching: false,
            outcome: None,
            quit_at: None,
            closed: false,
            area: Cell::new(Rect::new(0, 0, 120, 40)),
            last_profile_req: None,
            last_refresh: None,
            dirty: true,
        };
        if app.has_dwarf {
            app.code.source = true;
        }
        if app.state == RunState::Running {
            app.focus(Pane::Output);
            app.focus(Pane::Functions);
            app.focus = Pane::Code;
        }
        app
    }

    // ----- engine side -------------------------------------------------

    /// Sends a command to the engine.
    pub fn send(&mut self, cmd: Command) {
        if cmd == Command::Pause && self.state == RunState::Running {
            self.attaching = true;
            self.set_message("attaching… (tiering down to debug code)");
        }
        if matches!(cmd, Command::ProfileReport) {
            self.last_profile_req = Some(Instant::now());
        }
        self.dbg.send(cmd);
        self.dirty = true;
    }

    /// Handles up to `max` pending engine events; true if there may be more.
    pub fn drain(&mut self, max: usize) -> bool {
        for _ in 0..max {
            match self.dbg.try_recv() {
                Some(ev) => self.handle_event(ev),
                None => return false,
            }
        }
        true
    }

    pub fn handle_event(&mut self, ev: Event) {
        self.dirty = true;
        match ev {
            Event::Paused(snap) => self.on_pause(snap),
            Event::Resumed => {
                self.state = RunState::Running;
            }
            Event::Output { stream, data } => self.push_output(stream, &data),
            Event::Ended { outcome, snapshot } => {
                self.state = RunState::Ended;
                self.attaching = false;
                let text = format!("program {}", outcome_text(&outcome));
                self.log(OutKind::Info, &text);
                self.message = Some((
                    text.clone(),
                    matches!(outcome, wdb::debugger::Outcome::Trapped(_)),
                ));
                self.outcome = Some(text);
                if let Some(s) = snapshot {
                    self.set_snapshot(s);
                }
                self.refresh_lists();
            }
            Event::TierProgress { mode, done, total } => {
                self.tier_progress = Some((mode, done, total));
            }
            Event::ModeChanged {
                mode,
                functions,
                elapsed,
            } => {
                self.mode = mode;
                self.tier_progress = None;
                let what = match mode {
                    DebugMode::Profile => "profile mode: tiered up",
                    DebugMode::Debug => "debug mode: tiered down",
                    DebugMode::Running => "running: dynamic tiering",
                };
                let text = format!(
                    "{what} ({functions} functions in {:.1} ms)",
                    elapsed.as_secs_f64() * 1000.0
                );
                self.log(OutKind::Info, &text);
                self.set_message(&text);
                if mode == DebugMode::Profile {
                    self.last_profile_req = None;
                }
                self.refresh_lists();
            }
            Event::Breakpoints(list) => {
                self.breakpoints = list;
                let n = self.breakpoints.len();
                self.bps.set(self.bps.sel, n);
            }
            Event::Memory { addr, bytes } => {
                self.memory.data_addr = addr;
                self.memory.bytes = bytes;
                self.memory.pending = None;
                if self.memory.addr.is_none() {
                    self.memory.addr = Some(addr);
                }
            }
            Event::Profile(report) => {
                self.refresh_annotated(&report);
                self.profile = Some(report);
            }
            Event::Message(text) => {
                for line in text.lines() {
                    self.log(OutKind::Info, line);
                }
                if let Some(last) = text.lines().next_back() {
                    self.set_message(last);
                }
            }
            Event::Error(text) => {
                self.log(OutKind::Error, &text);
                self.message = Some((text, true));
            }
            Event::Closed => {
                self.closed = true;
            }
        }
    }

    fn on_pause(&mut self, snap: Arc<Snapshot>) {
        self.state = RunState::Paused;
        self.attaching = false;
        self.tier_progress = None;
        // A pause means the debugger is attached, whatever event got lost.
        self.mode = match self.dbg.mode() {
            DebugMode::Running => DebugMode::Debug,
            m => m,
        };
        let where_ = snap
            .frames
            .first()
            .map(|f| format!(" at {:#x} in {}", f.offset, f.func_name))
            .unwrap_or_default();
        self.set_message(&format!("stopped: {}{where_}", snap.reason.describe()));
        self.set_snapshot(snap);
        self.refresh_lists();
        self.read_memory();
    }

    fn set_snapshot(&mut self, snap: Arc<Snapshot>) {
        self.prev_regs = self.snapshot.as_ref().and_then(|s| s.regs.clone());
        self.snapshot = Some(snap);
        self.frames = Scroll::default();
        self.select_frame(0);
    }

    fn refresh_lists(&mut self) {
        self.functions = self.dbg.functions();
        let n = self.filtered_functions().len();
        self.funcs.set(self.funcs.sel, n);
        self.breakpoints = self.dbg.breakpoints();
        let n = self.breakpoints.len();
        self.bps.set(self.bps.sel, n);
        self.last_refresh = Some(Instant::now());
    }

    /// Periodic work: the profile every 500 ms in profile mode, live tiers, the quit timeout.
    pub fn tick(&mut self, now: Instant) {
        let due =
            |t: Option<Instant>| t.is_none_or(|t| now.saturating_duration_since(t) >= REFRESH);
        if self.mode == DebugMode::Profile && self.quit_at.is_none() && due(self.last_profile_req) {
            self.dbg.send(Command::ProfileReport);
            self.last_profile_req = Some(now);
        }
        if (self.state == RunState::Running || self.mode == DebugMode::Profile)
            && due(self.last_refresh)
        {
            self.refresh_lists();
            self.last_refresh = Some(now);
            self.dirty = true;
        }
        if let Some(t) = self.quit_at {
            if now.saturating_duration_since(t) >= QUIT_WAIT {
                self.closed = true;
            }
        }
    }

    fn push_output(&mut self, stream: OutputStream, data: &[u8]) {
        let (i, kind) = match stream {
            OutputStream::Stdout => (0, OutKind::Stdout),
            OutputStream::Stderr => (1, OutKind::Stderr),
        };
        let mut rest = data;
        while !rest.is_empty() {
            let room = MAX_LINE_BYTES.saturating_sub(self.partial[i].len()).max(1);
            let chunk = &rest[..rest.len().min(room)];
            match chunk.iter().position(|b| *b == b'\n') {
                Some(nl) => {
                    self.partial[i].extend_from_slice(&chunk[..nl]);
                    self.flush_partial(i, kind);
                    rest = &rest[nl + 1..];
                }
                None => {
                    self.partial[i].extend_from_slice(chunk);
                    rest = &rest[chunk.len()..];
                    if self.partial[i].len() >= MAX_LINE_BYTES {
                        self.flush_partial(i, kind);
                    }
                }
            }
        }
    }

    fn flush_partial(&mut self, i: usize, kind: OutKind) {
        let bytes = std::mem::take(&mut self.partial[i]);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        self.push_line(kind, text);
    }

    fn push_line(&mut self, kind: OutKind, text: String) {
        if self.output.len() >= OUTPUT_LINES {
            self.output.pop_front();
        }
        self.output.push_back(OutLine { kind, text });
        if self.output_back > 0 {
            self.output_back = self
                .output_back
                .saturating_add(1)
                .min(self.output.len().saturating_sub(1));
        }
    }

    /// The unfinished last line of each stream (shown after the complete ones).
    pub fn partial_lines(&self) -> Vec<OutLine> {
        let mut v = Vec::new();
        for (i, kind) in [(0, OutKind::Stdout), (1, OutKind::Stderr)] {
            if let Some(p) = self.partial.get(i).filter(|p| !p.is_empty()) {
                v.push(OutLine {
                    kind,
                    text: String::from_utf8_lossy(p).into_owned(),
                });
            }
        }
        v
    }

    fn log(&mut self, kind: OutKind, text: &str) {
        let prefix = if kind == OutKind::Error {
            "wdb: error: "
        } else {
            "wdb: "
        };
        self.push_line(kind, format!("{prefix}{text}"));
    }

    pub fn set_message(&mut self, text: &str) {
        self.message = Some((text.to_string(), false));
    }

    pub(super) fn error(&mut self, text: &str) {
        self.message = Some((text.to_string(), true));
    }

    // ----- derived views -------------------------------------------------

    pub fn selected_frame(&self) -> Option<&wdb::debugger::Frame> {
        self.snapshot
            .as_ref()
            .and_then(|s| s.frames.get(self.frames.sel))
    }

    /// True while the profile replaces the code pane.
    pub fn show_profile(&self) -> bool {
        self.mode == DebugMode::Profile
            || matches!(self.tier_progress, Some((DebugMode::Profile, _, _)))
            || self.annotated.is_some()
    }

    /// The source view can be shown (DWARF and a readable file).
    pub fn source_available(&self) -> bool {
        self.has_dwarf && self.code.src_lines.is_some()
    }

    /// The source view is the active one (steps go by line).
    pub fn source_active(&self) -> bool {
        self.code.source && self.source_available()
    }

    pub fn filtered_functions(&self) -> Vec<&FunctionRow> {
        let f = self.func_filter.trim();
        self.functions
            .iter()
            .filter(|r| f.is_empty() || contains_ci(&r.name, f) || r.index.to_string() == f)
            .collect()
    }

    /// Rows of the locals/stack pane for the selected frame.
    pub fn var_rows(&self) -> Vec<VarRow> {
        let mut rows = Vec::new();
        let Some(snap) = &self.snapshot else {
            return rows;
        };
        if let Some(frame) = snap.frames.get(self.frames.sel) {
            if let Some(note) = &frame.note {
                rows.push(VarRow::Note(note.clone()));
            }
            // The operand stack first: it is what moves at every step.
            rows.push(VarRow::Section("operand stack (top first)".into()));
            match &frame.stack {
                Some(st) if st.is_empty() => rows.push(VarRow::Note("(empty)".into())),
                Some(st) => rows.extend(st.iter().enumerate().rev().map(|(i, v)| VarRow::Value {
                    label: format!("[{i}]"),
                    value: *v,
                    top: i + 1 == st.len(),
                })),
                None => rows.push(VarRow::Note("(not recorded in this frame's code)".into())),
            }
            rows.push(VarRow::Section(format!("locals of {}", frame.func_name)));
            match &frame.locals {
                Some(ls) if ls.is_empty() => rows.push(VarRow::Note("(none)".into())),
                Some(ls) => rows.extend(ls.iter().enumerate().map(|(i, v)| VarRow::Value {
                    label: format!("$local{i}"),
                    value: *v,
                    top: false,
                })),
                None => rows.push(VarRow::Note("(not recorded in this frame's code)".into())),
            }
        }
        if !snap.globals.is_empty() {
            rows.push(VarRow::Section("globals".into()));
            rows.extend(snap.globals.iter().cloned().map(VarRow::Global));
        }
        rows
    }

    /// Inner height of a pane in the current layout (1 if hidden).
    pub fn pane_height(&self, pane: Pane) -> usize {
        draw::screen(self, self.area.get())
            .slots
            .iter()
            .find(|s| s.pane == pane)
            .map(|s| usize::from(s.rect.height.saturating_sub(2)).max(1))
            .unwrap_or(1)
    }

    fn pane_width(&self, pane: Pane) -> usize {
        draw::screen(self, self.area.get())
            .slots
            .iter()
            .find(|s| s.pane == pane)
            .map(|s| usize::from(s.rect.width.saturating_sub(2)))
            .unwrap_or(0)
    }

    /// Bytes per row of the memory pane.
    pub fn memory_row(&self) -> u64 {
        draw::memory_row_bytes(self.pane_width(Pane::Memory))
    }

    // ----- actions -----------------------------------------------------

    pub fn focus(&mut self, pane: Pane) {
        self.focus = pane;
        self.recent.retain(|p| *p != pane);
        self.recent.insert(0, pane);
        self.dirty = true;
    }

    /// Selects frame `i`: its locals, and its code position in the code pane.
    pub fn select_frame(&mut self, i: usize) {
        let Some(snap) = self.snapshot.clone() else {
            return;
        };
        self.frames.set(i, snap.frames.len());
        self.vars = Scroll::default();
        let Some(frame) = snap.frames.get(self.frames.sel) else {
            return;
        };
        let func = self
            .dbg
            .func_at_offset(frame.offset)
            .unwrap_or(frame.func_index);
        let source = frame.source.clone();
        self.show_function(func, Some(frame.offset));
        if let Some(sp) = source {
            self.show_source(&sp.file, sp.line);
        }
    }

    /// Shows function `func` in the code pane with the cursor at `at`.
    pub fn show_function(&mut self, func: u32, at: Option<u32>) {
        if self.code.func != Some(func) {
            let lines = match self.disas_cache.get(&func) {
                Some(l) => l.clone(),
                None => {
                    let l = Arc::new(self.dbg.disassemble(func));
                    self.disas_cache.insert(func, l.clone());
                    l
                }
            };
            self.code.func = Some(func);
            self.code.lines = lines;
            self.code.scroll = Scroll::default();
        }
        let lines = self.code.lines.clone();
        let line = match at {
            Some(off) => line_of_offset(&lines, off),
            None => lines.iter().position(|l| l.offset.is_some()),
        }
        .unwrap_or(0);
        let h = self.pane_height(Pane::Code);
        self.code.scroll.center(line, lines.len(), h);
        self.load_machine();
        if let Some(off) = at {
            if self.has_dwarf {
                if let Some(sp) = self.dbg.source_pos(off) {
                    self.show_source(&sp.file, sp.line);
                }
            }
        }
        self.dirty = true;
    }

    fn show_source(&mut self, file: &str, line: u32) {
        if self.code.src_file.as_deref() != Some(file) {
            self.code.src_lines = self.dbg.source_text(file);
            self.code.src_file = Some(file.to_string());
            self.code.src_scroll = Scroll::default();
        }
        let len = self.code.src_lines.as_ref().map_or(0, |l| l.len());
        let h = self.pane_height(Pane::Code);
        self.code
            .src_scroll
            .center(line.saturating_sub(1) as usize, len, h);
    }

    /// Asks for memory at the memory pane's address (after a stop or a move).
    pub fn read_memory(&mut self) {
        let Some(addr) = self.memory.addr else {
            return;
        };
        let rows = self.pane_height(Pane::Memory) as u64;
        let len = (rows.saturating_mul(self.memory_row()) as u32).clamp(MEMORY_READ, 4096);
        if self.memory.pending == Some((addr, len)) {
            return;
        }
        self.memory.pending = Some((addr, len));
        self.send(Command::ReadMemory { addr, len });
    }

    fn memory_goto(&mut self, addr: u64) {
        self.memory.addr = Some(addr & !0xf);
        self.read_memory();
    }

    pub fn quit(&mut self) {
        if self.quit_at.is_some() {
            self.closed = true;
            return;
        }
        self.dbg.send(Command::Quit);
        self.quit_at = Some(Instant::now());
        self.set_message("quitting…");
    }

    fn running_hint(&mut self) -> bool {
        if self.state == RunState::Running {
            self.error("the program is running: F6 or Ctrl-C pauses it");
            return true;
        }
        false
    }

    fn step(&mut self, line: Command, instruction: Command) {
        if self.running_hint() {
            return;
        }
        let cmd = if self.source_active() {
            line
        } else {
            instruction
        };
        self.send(cmd);
    }

    /// F9/`b`: a breakpoint at the code pane's cursor line, or off again.
    pub fn toggle_breakpoint(&mut self) {
        if self.source_active() {
            let (Some(file), line) = (self.code.src_file.clone(), self.code.src_scroll.sel) else {
                return;
            };
            let line = u32::try_from(line.saturating_add(1)).unwrap_or(u32::MAX);
            let existing = self.breakpoints.iter().find(|b| {
                self.dbg
                    .source_pos(b.offset)
                    .is_some_and(|sp| sp.line == line && sp.file == file)
            });
            match existing {
                Some(b) => {
                    let id = b.id;
                    self.send(Command::Delete(Some(id)));
                }
                None => self.send(Command::Break {
                    at: BreakAt::Line { file, line },
                    condition: None,
                }),
            }
            return;
        }
        let Some(off) = self
            .code
            .lines
            .get(self.code.scroll.sel)
            .and_then(|l| l.offset)
        else {
            self.error("no instruction on this line");
            return;
        };
        match self.breakpoints.iter().find(|b| b.offset == off) {
            Some(b) => {
                let id = b.id;
                self.send(Command::Delete(Some(id)));
            }
            None => self.send(Command::Break {
                at: BreakAt::Offset(off),
                condition: None,
            }),
        }
    }

    /// `g`: an offset, `#index` or function name in the code pane; an address in memory.
    fn goto(&mut self, target: &str) {
        let target = target.trim();
        if target.is_empty() {
            return;
        }
        if self.focus == Pane::Memory {
            match parse_number(target) {
                Some(a) => self.memory_goto(a),
                None => self.error(&format!("bad address `{target}`")),
            }
            return;
        }
        self.code.source = false;
        if let Some(off) = parse_number(target) {
            let Ok(off) = u32::try_from(off) else {
                self.error(&format!("offset `{target}` is too large"));
                return;
            };
            match self.dbg.func_at_offset(off) {
                Some(f) => self.show_function(f, Some(off)),
                None => self.error(&format!("no function body at {off:#x}")),
            }
            return;
        }
        let found = if let Some(i) = target.strip_prefix('#').and_then(|i| i.parse::<u32>().ok()) {
            self.functions.iter().find(|r| r.index == i)
        } else {
            self.functions
                .iter()
                .find(|r| r.name == target)
                .or_else(|| self.functions.iter().find(|r| contains_ci(&r.name, target)))
        };
        match found.map(|r| (r.index, r.imported)) {
            Some((_, true)) => self.error(&format!("`{target}` is imported: no code to show")),
            Some((i, false)) => self.show_function(i, None),
            None => self.error(&format!("no function `{target}`")),
        }
    }

    fn search(&mut self, needle: &str) {
        let needle = if needle.is_empty() {
            self.last_search.clone()
        } else {
            needle.to_string()
        };
        if needle.is_empty() {
            return;
        }
        self.last_search = needle.clone();
        let texts: Vec<String> = if self.source_active() {
            self.code.src_lines.as_deref().cloned().unwrap_or_default()
        } else {
            self.code.lines.iter().map(|l| l.text.clone()).collect()
        };
        let len = texts.len();
        let start = if self.source_active() {
            self.code.src_scroll.sel
        } else {
            self.code.scroll.sel
        };
        let hit = (1..=len)
            .map(|d| start.saturating_add(d) % len.max(1))
            .find(|i| texts.get(*i).is_some_and(|t| contains_ci(t, &needle)));
        let h = self.pane_height(Pane::Code);
        match hit {
            Some(i) if self.source_active() => self.code.src_scroll.center(i, len, h),
            Some(i) => self.code.scroll.center(i, len, h),
            None => self.error(&format!("`{needle}` not found")),
        }
    }

    /// Runs one console line from the `:` prompt.
    pub fn run_command(&mut self, line: &str) {
        if !line.trim().is_empty() && self.history.last().map(String::as_str) != Some(line) {
            self.history.push(line.to_string());
        }
        match console::parse(line) {
            Ok(Parsed::Engine(cmd)) => match cmd {
                Command::Quit => self.quit(),
                Command::Print { expr, .. } => {
                    let frame = self.frames.sel;
                    self.send(Command::Print { frame, expr });
                }
                Command::SetLocal { index, value, .. } => {
                    let frame = self.frames.sel;
                    self.send(Command::SetLocal {
                        frame,
                        index,
                        value,
                    });
                }
                Command::ReadMemory { addr, len } => {
                    self.focus(Pane::Memory);
                    self.memory.addr = Some(addr);
                    self.memory.pending = Some((addr, len));
                    self.send(Command::ReadMemory { addr, len });
                }
                cmd => self.send(cmd),
            },
            Ok(Parsed::Show(view)) => self.show_view(view),
            Ok(Parsed::Help) => self.help = true,
            Ok(Parsed::Nothing) => {}
            Err(e) => self.error(&e),
        }
    }

    fn show_view(&mut self, view: View) {
        match view {
            View::Backtrace => self.focus(Pane::Frames),
            View::Frame(n) => {
                let len = self.snapshot.as_ref().map_or(0, |s| s.frames.len());
                if n == usize::MAX {
                    self.focus(Pane::Frames);
                } else if n < len {
                    self.select_frame(n);
                    self.focus(Pane::Frames);
                } else {
                    self.error(&format!("no frame {n} (the stack has {len})"));
                }
            }
            View::Locals | View::Stack | View::Globals => {
                self.focus(Pane::Vars);
                let rows = self.var_rows();
                let key = match view {
                    View::Locals => "locals",
                    View::Stack => "operand stack",
                    _ => "globals",
                };
                let at = rows
                    .iter()
                    .position(|r| matches!(r, VarRow::Section(s) if s.starts_with(key)));
                match at {
                    Some(i) => {
                        let h = self.pane_height(Pane::Vars);
                        self.vars.set(i, rows.len());
                        self.vars.top.set(i.min(rows.len().saturating_sub(h)));
                    }
                    None => self.error(&format!("no {key} to show")),
                }
            }
            View::Regs => self.focus(Pane::Registers),
            View::Tables => {
                let text = match &self.snapshot {
                    Some(s) if s.tables.is_empty() => "no tables".to_string(),
                    Some(s) => s
                        .tables
                        .iter()
                        .map(|t| {
                            let first: Vec<String> = t
                                .entries
                                .iter()
                                .take(8)
                                .map(|e| e.map_or("null".into(), |v| format!("#{v}")))
                                .collect();
                            format!(
                                "table {} {} [{}]: {}",
                                t.index,
                                t.ty,
                                t.size,
                                first.join(" ")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join("; "),
                    None => "tables: pause the program first".to_string(),
                };
                self.set_message(&text);
            }
            View::Disas(None) => {
                self.code.source = false;
                let i = self.frames.sel;
                self.select_frame(i);
                self.focus(Pane::Code);
            }
            View::Disas(Some(target)) => {
                self.focus(Pane::Code);
                self.goto(&target);
            }
            View::List => {
                if self.has_dwarf {
                    self.code.source = true;
                    self.focus(Pane::Code);
                } else {
                    self.error("no DWARF line info in this module: disassembly only");
                }
            }
            View::InfoFunctions => self.focus(Pane::Functions),
            View::InfoBreakpoints => self.focus(Pane::Breakpoints),
            View::Sleep(_) => self.set_message("`sleep` is for batch scripts"),
            View::Lanes(l) => {
                if let Some(l) = l {
                    wdb::debugger::v128::set_lanes(l);
                }
                let name = wdb::debugger::v128::lanes().name();
                self.set_message(&format!("v128 lanes: {name}"));
            }
            View::Machine { what, tier, .. } => {
                self.focus(Pane::Code);
                self.code.native = true;
                self.code.source = false;
                self.code.native_tier = tier;
                match what {
                    Some(w) => self.goto(&w),
                    None => {
                        let i = self.frames.sel;
                        self.select_frame(i);
                    }
                }
                self.load_machine();
                if let Some(e) = self.code.machine_err.clone() {
                    self.error(&e);
                }
            }
            View::ProfileLines => self.open_profile_text(None),
            View::ProfileAnnotate(f) => match self.functions.iter().find(|r| r.name == f) {
                Some(r) => {
                    let i = r.index;
                    self.open_profile_text(Some(i));
                }
                None => self.error(&format!("no function `{f}`")),
            },
        }
    }

    // ----- input -------------------------------------------------------

    pub fn handle_input(&mut self, ev: TermEvent) {
        match ev {
            TermEvent::Key(k) => self.handle_key(k),
            TermEvent::Mouse(m) => self.handle_mouse(m),
            TermEvent::Resize(..) => self.dirty = true,
            _ => {}
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        self.dirty = true;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl && matches!(key.code, KeyCode::Char('c') | KeyCode::Char('C')) {
            self.prompt = None;
            self.help = false;
            if self.state == RunState::Running {
                self.send(Command::Pause);
            } else {
                self.set_message("press q to quit");
            }
            return;
        }
        if self.help {
            self.help = false;
            return;
        }
        if self.prompt.is_some() {
            self.prompt_key(key);
            return;
        }
        if key.code == KeyCode::Esc && self.focus == Pane::Code && self.annotated.is_some() {
            self.annotated = None;
            return;
        }
        if self.message.is_some() && key.code == KeyCode::Esc && self.focus != Pane::Functions {
            self.message = None;
            return;
        }
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        match key.code {
            KeyCode::F(5) => return self.cont(),
            KeyCode::F(6) => return self.pause(),
            KeyCode::F(9) => return self.toggle_breakpoint(),
            KeyCode::F(10) => return self.step(Command::NextLine, Command::NextInstruction),
            KeyCode::F(11) if shift => return self.finish(),
            KeyCode::F(23) => return self.finish(),
            KeyCode::F(11) => return self.step(Command::StepLine, Command::StepInstruction),
            KeyCode::Tab => return self.cycle_focus(1),
            KeyCode::BackTab => return self.cycle_focus(-1),
            _ => {}
        }
        if self.focus == Pane::Functions && self.filter_key(key) {
            return;
        }
        if let KeyCode::Char(c) = key.code {
            if !ctrl && !key.modifiers.contains(KeyModifiers::ALT) && self.char_key(c) {
                return;
            }
        }
        self.nav_key(key);
    }

    fn cont(&mut self) {
        if !self.running_hint() {
            self.send(Command::Continue);
        }
    }

    fn pause(&mut self) {
        if self.state == RunState::Running {
            self.send(Command::Pause);
        } else {
            self.set_message("the program is not running");
        }
    }

    fn finish(&mut self) {
        if !self.running_hint() {
            self.send(Command::Finish);
        }
    }

    fn cycle_focus(&mut self, dir: isize) {
        let n = Pane::ALL.len();
        let i = self.focus.index();
        let next = if dir < 0 {
            (i + n - 1) % n
        } else {
            (i + 1) % n
        };
        if let Some(p) = Pane::ALL.get(next) {
            self.focus(*p);
        }
    }

    /// Typing filters the function list; true if the key was taken.
    fn filter_key(&mut self, key: KeyEvent) -> bool {
        match key.code {
            KeyCode::Char(c)
                if !key
                    .modifiers
                    .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                self.func_filter.push(c);
                self.funcs = Scroll::default();
                true
            }
            KeyCode::Backspace => {
                self.func_filter.pop();
                self.funcs = Scroll::default();
                true
            }
            KeyCode::Esc if !self.func_filter.is_empty() => {
                self.func_filter.clear();
                self.funcs = Scroll::default();
                true
            }
            KeyCode::Esc => {
                self.focus(Pane::Code);
                true
            }
            KeyCode::Enter => {
                let row = self
                    .filtered_functions()
                    .get(self.funcs.sel)
                    .map(|r| (r.index, r.imported, r.name.clone()));
                match row {
                    Some((_, true, name)) => {
                        self.error(&format!("`{name}` is imported: no code to show"))
                    }
                    Some((i, false, _)) => {
                        self.code.source = false;
                        self.show_function(i, None);
                        self.focus(Pane::Code);
                    }
                    None => {}
                }
                true
            }
            _ => false,
        }
    }

    /// Single-letter commands; true if the key was taken.
    fn char_key(&mut self, c: char) -> bool {
        match c {
            'c' => self.cont(),
            'b' => self.toggle_breakpoint(),
            'n' => self.step(Command::NextLine, Command::NextInstruction),
            's' => self.step(Command::StepLine, Command::StepInstruction),
            'f' => self.finish(),
            'p' => {
                if self.mode == DebugMode::Profile {
                    self.send(Command::ProfileOff);
                } else {
                    // Profile mode measures the program at full speed: a
                    // paused program goes on running.
                    self.send(Command::ProfileOn);
                    if self.state == RunState::Paused {
                        self.send(Command::Continue);
                    }
                }
            }
            'g' => self.open_prompt(PromptKind::Goto),
            '/' => {
                self.focus(Pane::Code);
                self.open_prompt(PromptKind::Search);
            }
            ':' => self.open_prompt(PromptKind::Command),
            '?' => self.help = true,
            'q' => self.quit(),
            'x' => {
                self.hex = !self.hex;
                self.set_message(if self.hex {
                    "values in hex"
                } else {
                    "values in decimal"
                });
            }
            'v' => {
                if self.has_dwarf {
                    self.code.source = !self.code.source;
                    if self.code.source && self.code.src_lines.is_none() {
                        self.error("no source file for this code");
                    }
                } else {
                    self.error("no DWARF line info in this module: disassembly only");
                }
            }
            'z' => self.zoom = !self.zoom,
            'm' if self.focus == Pane::Code => self.toggle_native(),
            '+' | '=' => {
                let w = &mut self.weights[self.focus.index()];
                *w = w.saturating_add(1).min(12);
            }
            '-' | '_' => {
                let w = &mut self.weights[self.focus.index()];
                *w = w.saturating_sub(1).max(1);
            }
            '<' | ',' => self.left_pct = self.left_pct.saturating_sub(5).max(25),
            '>' | '.' => self.left_pct = self.left_pct.saturating_add(5).min(80),
            'd' if self.focus == Pane::Breakpoints => self.delete_selected_breakpoint(),
            'e' | ' ' if self.focus == Pane::Breakpoints => self.toggle_selected_breakpoint(),
            _ => return false,
        }
        true
    }

    fn delete_selected_breakpoint(&mut self) {
        if let Some(id) = self.breakpoints.get(self.bps.sel).map(|b| b.id) {
            self.send(Command::Delete(Some(id)));
        }
    }

    fn toggle_selected_breakpoint(&mut self) {
        if let Some((id, en)) = self
            .breakpoints
            .get(self.bps.sel)
            .map(|b| (b.id, b.enabled))
        {
            self.send(Command::Enable { id, enabled: !en });
        }
    }

    fn open_prompt(&mut self, kind: PromptKind) {
        self.prompt = Some(Prompt {
            kind,
            input: String::new(),
        });
        self.history_pos = None;
    }

    fn prompt_key(&mut self, key: KeyEvent) {
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        match key.code {
            KeyCode::Esc => self.prompt = None,
            KeyCode::Enter => {
                let Some(p) = self.prompt.take() else {
                    return;
                };
                match p.kind {
                    PromptKind::Command => self.run_command(&p.input),
                    PromptKind::Goto => self.goto(&p.input),
                    PromptKind::Search => self.search(&p.input),
                }
            }
            KeyCode::Backspace if prompt.input.is_empty() => self.prompt = None,
            KeyCode::Backspace => {
                prompt.input.pop();
            }
            KeyCode::Up | KeyCode::Down if prompt.kind == PromptKind::Command => {
                let n = self.history.len();
                if n == 0 {
                    return;
                }
                let pos = match (self.history_pos, key.code) {
                    (None, KeyCode::Up) => Some(n - 1),
                    (None, _) => None,
                    (Some(i), KeyCode::Up) => Some(i.saturating_sub(1)),
                    (Some(i), _) if i + 1 < n => Some(i + 1),
                    (Some(_), _) => None,
                };
                self.history_pos = pos;
                prompt.input = pos
                    .and_then(|i| self.history.get(i).cloned())
                    .unwrap_or_default();
            }
            KeyCode::Char(c)
                if !key.modifiers.contains(KeyModifiers::CONTROL) && prompt.input.len() < 512 =>
            {
                prompt.input.push(c);
            }
            KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                prompt.input.clear()
            }
            _ => {}
        }
    }

    /// Arrows, pages, Home/End and Enter in the focused pane.
    fn nav_key(&mut self, key: KeyEvent) {
        let page = self.pane_height(self.focus).saturating_sub(1).max(1) as isize;
        let delta: isize = match key.code {
            KeyCode::Up | KeyCode::Char('k') => -1,
            KeyCode::Down | KeyCode::Char('j') => 1,
            KeyCode::PageUp => -page,
            KeyCode::PageDown => page,
            KeyCode::Home => isize::MIN / 2,
            KeyCode::End => isize::MAX / 2,
            KeyCode::Enter => return self.enter(),
            _ => return,
        };
        self.scroll(self.focus, delta);
    }

    /// Moves the cursor (or view) of `pane` by `delta` lines.
    pub fn scroll(&mut self, pane: Pane, delta: isize) {
        self.dirty = true;
        match pane {
            Pane::Code if self.show_profile() => {
                if self.scroll_annotated(delta) {
                    return;
                }
                let n = self.profile.as_ref().map_or(0, |p| p.flat.len());
                self.profile_scroll.move_by(delta, n);
            }
            Pane::Code if self.source_active() => {
                let n = self.code.src_lines.as_ref().map_or(0, |l| l.len());
                self.code.src_scroll.move_by(delta, n);
            }
            Pane::Code => {
                let n = self.code.lines.len();
                self.code.scroll.move_by(delta, n);
            }
            Pane::Vars => {
                let n = self.var_rows().len();
                self.vars.move_by(delta, n);
            }
            Pane::Registers => {
                // Scrolls the view; the pane has no cursor.
                let n = draw::register_rows(self, self.pane_width(Pane::Registers));
                let h = self.pane_height(Pane::Registers);
                let top = self.regs.top.get();
                let max = n.saturating_sub(h);
                let top = if delta < 0 {
                    top.saturating_sub(delta.unsigned_abs())
                } else {
                    top.saturating_add(delta.unsigned_abs()).min(max)
                };
                self.regs.top.set(top);
                self.regs.sel = top;
            }
            Pane::Frames => {
                let n = self.snapshot.as_ref().map_or(0, |s| s.frames.len());
                let mut s = Scroll {
                    sel: self.frames.sel,
                    top: Cell::new(0),
                };
                s.move_by(delta, n);
                if s.sel != self.frames.sel {
                    self.select_frame(s.sel);
                }
            }
            Pane::Memory => {
                let Some(addr) = self.memory.addr else {
                    return;
                };
                let row = self.memory_row();
                let bytes = row.saturating_mul(delta.unsigned_abs() as u64);
                let addr = if delta < 0 {
                    addr.saturating_sub(bytes)
                } else {
                    addr.saturating_add(bytes).min(u64::from(u32::MAX) & !0xf)
                };
                self.memory.addr = Some(addr);
                self.read_memory();
            }
            Pane::Functions => {
                let n = self.filtered_functions().len();
                self.funcs.move_by(delta, n);
            }
            Pane::Breakpoints => {
                let n = self.breakpoints.len();
                self.bps.move_by(delta, n);
            }
            Pane::Output => {
                let n = self.output.len();
                self.output_back = if delta < 0 {
                    self.output_back.saturating_add(delta.unsigned_abs())
                } else {
                    self.output_back.saturating_sub(delta.unsigned_abs())
                }
                .min(n.saturating_sub(1));
            }
        }
    }

    fn enter(&mut self) {
        match self.focus {
            Pane::Vars => {
                let rows = self.var_rows();
                let addr = match rows.get(self.vars.sel) {
                    Some(VarRow::Value { value, .. }) => value_address(value),
                    Some(VarRow::Global(g)) if !g.ty.is_float() && !g.ty.is_ref() => {
                        Some(if g.ty == wdb::ValType::I32 {
                            u64::from(g.bits as u32)
                        } else {
                            g.bits
                        })
                    }
                    _ => None,
                };
                match addr {
                    Some(a) => {
                        self.focus(Pane::Memory);
                        self.memory_goto(a);
                        self.set_message(&format!("memory at {a:#x}"));
                    }
                    None => self.error("select an integer value to follow it into memory"),
                }
            }
            Pane::Frames => self.focus(Pane::Code),
            Pane::Code if self.show_profile() && self.annotated.is_none() => self.open_annotated(),
            Pane::Breakpoints => {
                if let Some((f, off)) = self
                    .breakpoints
                    .get(self.bps.sel)
                    .map(|b| (b.func_index, b.offset))
                {
                    self.code.source = false;
                    self.show_function(f, Some(off));
                    self.focus(Pane::Code);
                }
            }
            Pane::Memory => self.open_prompt(PromptKind::Goto),
            _ => {}
        }
    }

    pub fn handle_mouse(&mut self, m: MouseEvent) {
        let pos = Position::new(m.column, m.row);
        let screen = draw::screen(self, self.area.get());
        let Some(pane) = screen
            .slots
            .iter()
            .find(|s| s.rect.contains(pos))
            .map(|s| s.pane)
        else {
            return;
        };
        match m.kind {
            MouseEventKind::ScrollUp => self.scroll(pane, -3),
            MouseEventKind::ScrollDown => self.scroll(pane, 3),
            MouseEventKind::Down(MouseButton::Left) => self.focus(pane),
            _ => {}
        }
    }

    /// Exit status of `wdb debug`.
    pub fn exit_code(&self) -> u8 {
        0
    }
}

/// Index of the line holding `off`, or the last one before it.
fn line_of_offset(lines: &[DisasLine], off: u32) -> Option<usize> {
    lines
        .iter()
        .position(|l| l.offset == Some(off))
        .or_else(|| {
            lines
                .iter()
                .enumerate()
                .filter(|(_, l)| l.offset.is_some_and(|o| o <= off))
                .map(|(i, _)| i)
                .next_back()
        })
}
