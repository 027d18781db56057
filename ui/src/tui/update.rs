//! How the TUI's state changes: `update` carries out one `Action` (from
//! `action::from_key`), plus the commands, views and cursor moves actions
//! are made of, and the mouse. Engine events are in `events`; nothing here
//! touches the terminal.

use super::action::{self, Action, FilterEdit, PromptEdit};
use super::layout;
use super::model::{App, Pane, Prompt, PromptKind, Scroll, VarRow};
use super::text::{contains_ci, parse_number, value_address};
use crossterm::event::{
    Event as TermEvent, KeyEvent, KeyEventKind, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Position;
use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;
use wdb::debugger::console::{self, Parsed, View};
use wdb::debugger::{BreakAt, Command, DebugMode, DisasLine, RunState};

/// Bytes asked for at least by one memory read.
const MEMORY_READ: u32 = 256;

impl App {
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
        self.request_values();
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
        self.send(match self.memory.memory {
            0 => Command::ReadMemory { addr, len },
            memory => Command::ReadMemoryAt { memory, addr, len },
        });
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
        if let Some(expr) = line.trim().strip_prefix("watch-expr") {
            if expr.trim().is_empty() {
                self.error("usage: watch-expr EXPR (shown in the Watch pane at every stop)");
            } else if expr.starts_with(char::is_whitespace) {
                self.add_watch(expr);
            } else {
                self.error(&format!("unknown command `{}`", line.trim()));
            }
            return;
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
                    self.memory.memory = 0;
                    self.memory.addr = Some(addr);
                    self.memory.pending = Some((addr, len));
                    self.send(Command::ReadMemory { addr, len });
                }
                Command::ReadMemoryAt { memory, addr, len } => {
                    self.focus(Pane::Memory);
                    self.memory.memory = memory;
                    self.memory.addr = Some(addr);
                    self.memory.pending = Some((addr, len));
                    self.send(Command::ReadMemoryAt { memory, addr, len });
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
            // Listed at the bottom of the Watch pane.
            View::InfoWatchpoints => {
                self.watchpoints = self.dbg.watchpoints();
                if self.watchpoints.is_empty() {
                    self.set_message("No watchpoints.");
                }
                self.focus(Pane::Watch);
            }
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

    /// A key press: its action (see `action::from_key`), carried out.
    pub fn handle_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        self.dirty = true;
        if let Some(a) = action::from_key(self, key) {
            self.update(a);
        }
    }

    /// Carries out one action.
    pub fn update(&mut self, action: Action) {
        self.dirty = true;
        match action {
            Action::Interrupt => {
                self.prompt = None;
                self.help = false;
                if self.state == RunState::Running {
                    self.send(Command::Pause);
                } else {
                    self.set_message("press q to quit");
                }
            }
            Action::CloseHelp => self.help = false,
            Action::Prompt(edit) => self.prompt_edit(edit),
            Action::OpenPrompt(kind) => self.open_prompt(kind),
            Action::Search => {
                self.focus(Pane::Code);
                self.open_prompt(PromptKind::Search);
            }
            Action::CloseAnnotated => self.annotated = None,
            Action::ClearMessage => self.message = None,
            Action::Continue => self.cont(),
            Action::Pause => self.pause(),
            Action::Finish => self.finish(),
            Action::Step => self.step(Command::StepLine, Command::StepInstruction),
            Action::Next => self.step(Command::NextLine, Command::NextInstruction),
            Action::ToggleBreakpoint => self.toggle_breakpoint(),
            Action::CycleFocus(dir) => self.cycle_focus(dir),
            Action::Focus(p) => self.focus(p),
            Action::Filter(edit) => {
                match edit {
                    FilterEdit::Char(c) => self.func_filter.push(c),
                    FilterEdit::Backspace => {
                        self.func_filter.pop();
                    }
                    FilterEdit::Clear => self.func_filter.clear(),
                }
                self.funcs = Scroll::default();
            }
            Action::OpenFunction => self.open_selected_function(),
            Action::ToggleProfile => {
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
            Action::Help => self.help = true,
            Action::Quit => self.quit(),
            Action::ToggleHex => {
                self.hex = !self.hex;
                self.set_message(if self.hex {
                    "values in hex"
                } else {
                    "values in decimal"
                });
            }
            Action::ToggleSource => {
                if self.has_dwarf {
                    self.code.source = !self.code.source;
                    if self.code.source && self.code.src_lines.is_none() {
                        self.error("no source file for this code");
                    }
                } else {
                    self.error("no DWARF line info in this module: disassembly only");
                }
            }
            Action::ToggleZoom => self.zoom = !self.zoom,
            Action::ToggleCatchThrow => {
                let on = self.dbg.catchpoint().is_none();
                self.send(Command::CatchThrow(on));
            }
            Action::ToggleNative => self.toggle_native(),
            Action::Weight(d) => {
                if let Some(w) = self.weights.get_mut(self.focus.index()) {
                    *w = w.saturating_add_signed(d).clamp(1, 12);
                }
            }
            Action::LeftWidth(d) => {
                self.left_pct = self.left_pct.saturating_add_signed(d).clamp(25, 80)
            }
            Action::DeleteBreakpoint => self.delete_selected_breakpoint(),
            Action::ToggleBreakpointEnabled => self.toggle_selected_breakpoint(),
            Action::Scroll(delta) => self.scroll(self.focus, delta),
            Action::Enter => self.enter(),
            Action::Expand => self.expand_selected(),
            Action::Collapse => self.collapse_selected(),
            Action::DeleteWatch => self.delete_watch(),
            Action::Watchpoint => self.watchpoint_on_selected(),
        }
    }

    fn open_selected_function(&mut self) {
        let row = self
            .filtered_functions()
            .get(self.funcs.sel)
            .map(|r| (r.index, r.imported, r.name.clone()));
        match row {
            Some((_, true, name)) => self.error(&format!("`{name}` is imported: no code to show")),
            Some((i, false, _)) => {
                self.code.source = false;
                self.show_function(i, None);
                self.focus(Pane::Code);
            }
            None => {}
        }
    }

    fn prompt_edit(&mut self, edit: PromptEdit) {
        let Some(prompt) = self.prompt.as_mut() else {
            return;
        };
        match edit {
            PromptEdit::Cancel => self.prompt = None,
            PromptEdit::Submit => {
                let Some(p) = self.prompt.take() else {
                    return;
                };
                match p.kind {
                    PromptKind::Command => self.run_command(&p.input),
                    PromptKind::Goto => self.goto(&p.input),
                    PromptKind::Search => self.search(&p.input),
                    PromptKind::Watch => self.add_watch(&p.input),
                }
            }
            PromptEdit::Backspace if prompt.input.is_empty() => self.prompt = None,
            PromptEdit::Backspace => {
                prompt.input.pop();
            }
            PromptEdit::History { older } => {
                let n = self.history.len();
                if n == 0 {
                    return;
                }
                let pos = match (self.history_pos, older) {
                    (None, true) => Some(n - 1),
                    (None, false) => None,
                    (Some(i), true) => Some(i.saturating_sub(1)),
                    (Some(i), false) if i + 1 < n => Some(i + 1),
                    (Some(_), false) => None,
                };
                self.history_pos = pos;
                prompt.input = pos
                    .and_then(|i| self.history.get(i).cloned())
                    .unwrap_or_default();
            }
            PromptEdit::Char(c) if prompt.input.len() < 512 => prompt.input.push(c),
            PromptEdit::Char(_) => {}
            PromptEdit::Clear => prompt.input.clear(),
        }
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

    pub(super) fn open_prompt(&mut self, kind: PromptKind) {
        self.prompt = Some(Prompt {
            kind,
            input: String::new(),
        });
        self.history_pos = None;
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
            Pane::Variables | Pane::Watch => self.scroll_tree(pane, delta),
            Pane::Vars => {
                let n = self.var_rows().len();
                self.vars.move_by(delta, n);
            }
            Pane::Registers => {
                // Scrolls the view; the pane has no cursor.
                let n = super::draw::register_rows(self, self.pane_width(Pane::Registers));
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
            Pane::Variables | Pane::Watch => self.toggle_selected(),
            _ => {}
        }
    }

    pub fn handle_mouse(&mut self, m: MouseEvent) {
        let pos = Position::new(m.column, m.row);
        let screen = layout::screen(self, self.area.get());
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
