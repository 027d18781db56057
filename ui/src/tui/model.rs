//! The TUI's model: everything the screen shows and the UI remembers
//! (`App` and the types of its parts), with views derived from it. Actions
//! change it in `update`, engine events in `events`; `draw` only reads it.

use super::text::contains_ci;
use super::Debuggee;
use ratatui::layout::Rect;
use std::cell::Cell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wdb::debugger::{
    Breakpoint, DebugMode, DisasLine, FunctionRow, GlobalValue, ProfileReport, Registers, RunState,
    Snapshot, Value,
};

/// Lines of program output kept (older ones are dropped).
pub const OUTPUT_LINES: usize = 10_000;
/// A line longer than this many bytes is broken (bounds memory for output without newlines).
pub(super) const MAX_LINE_BYTES: usize = 2048;
/// Engine events handled per drawn frame, so a flood of output never freezes the screen.
pub const EVENTS_PER_FRAME: usize = 4096;
/// How often the profile is asked for and the function tiers are refreshed.
pub(super) const REFRESH: Duration = Duration::from_millis(500);
/// How long `q` waits for the session to close.
pub(super) const QUIT_WAIT: Duration = Duration::from_millis(1500);

/// The panes, in focus (Tab) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pane {
    Code,
    /// Source variables (DWARF) as a tree.
    Variables,
    /// wasm locals and the operand stack.
    Vars,
    Registers,
    Frames,
    Memory,
    Functions,
    Breakpoints,
    /// Watch expressions, re-evaluated at every stop.
    Watch,
    Output,
}

impl Pane {
    pub const ALL: [Pane; 10] = [
        Pane::Code,
        Pane::Variables,
        Pane::Vars,
        Pane::Registers,
        Pane::Frames,
        Pane::Memory,
        Pane::Functions,
        Pane::Breakpoints,
        Pane::Watch,
        Pane::Output,
    ];

    pub fn index(self) -> usize {
        Pane::ALL.iter().position(|p| *p == self).unwrap_or(0)
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Code => "Code",
            Pane::Variables => "Variables",
            Pane::Watch => "Watch",
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
            Pane::Variables => "Vars",
            Pane::Watch => "Watch",
            Pane::Vars => "Wasm",
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
    /// Which linear memory is shown (`:x $memN ADDR` picks it; 0 by default).
    pub memory: u32,
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
    /// `a` in the Watch pane: an expression to watch.
    Watch,
}

impl PromptKind {
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Command => ":",
            PromptKind::Goto => "go to (0xOFFSET, FUNC, #INDEX): ",
            PromptKind::Search => "/",
            PromptKind::Watch => "watch expression: ",
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
    pub(super) disas_cache: HashMap<u32, Arc<Vec<DisasLine>>>,
    pub functions: Vec<FunctionRow>,
    pub func_filter: String,
    pub funcs: Scroll,
    pub breakpoints: Vec<Breakpoint>,
    pub bps: Scroll,
    /// The watchpoints, listed under the watch expressions in the Watch pane.
    pub watchpoints: Vec<wdb::debugger::Watchpoint>,
    pub output: VecDeque<OutLine>,
    pub(super) partial: [Vec<u8>; 2],
    /// Lines scrolled back from the end of the output (0 follows new output).
    pub output_back: usize,
    pub memory: MemoryView,
    /// The Variables and Watch panes.
    pub source_vars: super::variables::SourceVars,
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
    pub weights: [u16; 10],
    /// Width of the left column in percent (`<`/`>`).
    pub left_pct: u16,
    /// The focused pane fills the screen (`z`).
    pub zoom: bool,
    pub prompt: Option<Prompt>,
    pub history: Vec<String>,
    pub(super) history_pos: Option<usize>,
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
    pub(super) last_profile_req: Option<Instant>,
    pub(super) last_refresh: Option<Instant>,
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
            watchpoints: dbg.watchpoints(),
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
            source_vars: Default::default(),
            profile: None,
            profile_scroll: Scroll::default(),
            annotated: None,
            tier_progress: None,
            focus: Pane::Code,
            recent: Pane::ALL.to_vec(),
            weights: [3, 3, 2, 2, 1, 2, 2, 2, 2, 1],
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
}
