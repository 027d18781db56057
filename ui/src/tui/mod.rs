//! The full-screen terminal debugger (ratatui + crossterm), a client of
//! `wdb::debugger::Session`: panes for code, source variables, watch
//! expressions, wasm locals and the operand stack, registers, the call
//! stack, memory, functions, breakpoints and output, a `:` command line in
//! the console language, and a profile view. The UI talks to the engine only
//! through the `Debuggee` trait, so it runs in tests over a fake. Keys become
//! `action::Action`s, `update` applies them to the `model`, engine events
//! arrive in `events`, and `draw` (placed by `layout`) only reads the model.

mod action;
mod draw;
mod events;
mod layout;
mod machine;
mod model;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_labels;
#[cfg(test)]
mod tests_simd;
#[cfg(test)]
mod tests_variables;
mod text;
mod update;
mod variables;

pub use model::App;

use crossterm::event::{self, DisableMouseCapture, EnableMouseCapture, Event as TermEvent};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::Terminal;
use std::io::{self, Stdout};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wdb::debugger::{
    Breakpoint, Catchpoint, Command, DebugMode, DisasLine, Event, FunctionRow, MachineCode,
    ProfileReport, RunState, Session, SourcePos, Watchpoint,
};
use wdb::Tier;

/// What the UI needs from a debugging session (implemented by `Session`).
pub trait Debuggee {
    fn send(&self, cmd: Command);
    fn try_recv(&self) -> Option<Event>;
    fn state(&self) -> RunState;
    fn mode(&self) -> DebugMode;
    fn name(&self) -> &str;
    fn functions(&self) -> Vec<FunctionRow>;
    fn breakpoints(&self) -> Vec<Breakpoint>;
    /// The watchpoints (`info watchpoints`); none by default.
    fn watchpoints(&self) -> Vec<Watchpoint> {
        Vec::new()
    }
    /// The `catch throw` catchpoint, if set; none by default.
    fn catchpoint(&self) -> Option<Catchpoint> {
        None
    }
    fn func_at_offset(&self, offset: u32) -> Option<u32>;
    fn disassemble(&self, func: u32) -> Vec<DisasLine>;
    fn source_pos(&self, offset: u32) -> Option<SourcePos>;
    fn source_text(&self, file: &str) -> Option<Arc<Vec<String>>>;
    fn has_dwarf(&self) -> bool;
    /// Machine code of `func` in `tier` (compiled first with `compile`).
    fn machine_code(&self, func: u32, tier: Tier, compile: bool) -> Result<MachineCode, String>;
    /// Machine code of the function whose code holds `pc`.
    fn machine_code_at(&self, pc: u64) -> Option<MachineCode>;
    /// `profile annotate FUNC` text for `report`.
    fn annotate(&self, report: &ProfileReport, func: u32) -> Vec<String>;
    /// `profile report --lines` text for `report`.
    fn hot_lines(&self, report: &ProfileReport) -> Vec<String>;
}

impl Debuggee for Session {
    fn send(&self, cmd: Command) {
        Session::send(self, cmd)
    }
    fn try_recv(&self) -> Option<Event> {
        Session::try_recv(self)
    }
    fn state(&self) -> RunState {
        Session::state(self)
    }
    fn mode(&self) -> DebugMode {
        Session::mode(self)
    }
    fn name(&self) -> &str {
        Session::name(self)
    }
    fn functions(&self) -> Vec<FunctionRow> {
        Session::functions(self)
    }
    fn breakpoints(&self) -> Vec<Breakpoint> {
        Session::breakpoints(self)
    }
    fn watchpoints(&self) -> Vec<Watchpoint> {
        Session::watchpoints(self)
    }
    fn catchpoint(&self) -> Option<Catchpoint> {
        Session::catchpoint(self)
    }
    fn func_at_offset(&self, offset: u32) -> Option<u32> {
        Session::func_at_offset(self, offset)
    }
    fn disassemble(&self, func: u32) -> Vec<DisasLine> {
        Session::disassemble(self, func)
    }
    fn source_pos(&self, offset: u32) -> Option<SourcePos> {
        Session::source_pos(self, offset)
    }
    fn source_text(&self, file: &str) -> Option<Arc<Vec<String>>> {
        Session::source_text(self, file)
    }
    fn has_dwarf(&self) -> bool {
        Session::has_dwarf(self)
    }
    fn machine_code(&self, func: u32, tier: Tier, compile: bool) -> Result<MachineCode, String> {
        Session::machine_code(self, func, tier, compile)
    }
    fn machine_code_at(&self, pc: u64) -> Option<MachineCode> {
        Session::machine_code_at(self, pc)
    }
    fn annotate(&self, report: &ProfileReport, func: u32) -> Vec<String> {
        wdb::debugger::annotate::annotate(self, report, func)
    }
    fn hot_lines(&self, report: &ProfileReport) -> Vec<String> {
        wdb::debugger::annotate::hot_lines(self, report)
    }
}

/// Where terminal input comes from (the real terminal, or a script in tests).
pub trait Input {
    /// The next input event, waiting at most `timeout`.
    fn next(&mut self, timeout: Duration) -> io::Result<Option<TermEvent>>;
}

struct TerminalInput;

impl Input for TerminalInput {
    fn next(&mut self, timeout: Duration) -> io::Result<Option<TermEvent>> {
        if event::poll(timeout)? {
            event::read().map(Some)
        } else {
            Ok(None)
        }
    }
}

/// How long one loop waits for a key before looking at the engine again.
const POLL: Duration = Duration::from_millis(30);
/// Input events handled per loop before drawing.
const INPUT_PER_FRAME: usize = 256;
/// Redraw at least this often while the program runs (live tiers, output).
const LIVE_REDRAW: Duration = Duration::from_millis(250);

/// The UI loop on any backend: input, engine events, tick, draw; until the session closes.
pub fn event_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    input: &mut dyn Input,
) -> Result<u8, String> {
    let mut last_draw: Option<Instant> = None;
    // Engine events still queued: look at the keyboard without waiting.
    let mut backlog = false;
    loop {
        let now = Instant::now();
        let stale = last_draw.is_none_or(|t| now.saturating_duration_since(t) >= LIVE_REDRAW);
        if app.dirty || stale {
            terminal
                .draw(|f| draw::draw(f, app))
                .map_err(|e| format!("terminal: {e}"))?;
            app.dirty = false;
            last_draw = Some(now);
        }
        if app.closed {
            return Ok(app.exit_code());
        }
        let mut timeout = if backlog { Duration::ZERO } else { POLL };
        for _ in 0..INPUT_PER_FRAME {
            match input.next(timeout).map_err(|e| format!("terminal: {e}"))? {
                Some(ev) => app.handle_input(ev),
                None => break,
            }
            timeout = Duration::ZERO;
        }
        backlog = app.drain(model::EVENTS_PER_FRAME);
        app.tick(Instant::now());
    }
}

/// Puts the terminal back as it was (raw mode off, main screen, no mouse capture).
fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal when dropped (normal return, error or unwinding).
struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    fn enter() -> io::Result<TerminalGuard> {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        enable_raw_mode()?;
        let mut out = io::stdout();
        if let Err(e) = execute!(out, EnterAlternateScreen, EnableMouseCapture) {
            restore_terminal();
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(out)) {
            Ok(terminal) => Ok(TerminalGuard { terminal }),
            Err(e) => {
                restore_terminal();
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.show_cursor();
        restore_terminal();
    }
}

/// Runs the TUI until the user quits; returns the process exit code.
// `wdb debug` calls this; until the subcommand is wired up nothing else does.
#[allow(dead_code)]
pub fn run(session: Session) -> Result<u8, String> {
    let mut app = App::new(Box::new(session));
    let mut guard =
        TerminalGuard::enter().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    let result = event_loop(&mut guard.terminal, &mut app, &mut TerminalInput);
    drop(guard);
    result
}
