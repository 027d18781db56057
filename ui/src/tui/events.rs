//! How engine events change the TUI's state: pauses, output, mode
//! changes, memory, profiles and messages, and the periodic tick.

use super::model::{
    App, OutKind, OutLine, Scroll, MAX_LINE_BYTES, OUTPUT_LINES, QUIT_WAIT, REFRESH,
};
use super::text::outcome_text;
use std::sync::Arc;
use std::time::Instant;
use wdb::debugger::{Command, DebugMode, Event, OutputStream, RunState, Snapshot};

impl App {
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
                // The answer to `watch`/`delete` comes after the list changed.
                self.watchpoints = self.dbg.watchpoints();
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
            Event::Values(v) => self.on_values(v),
            // Asked only by the DAP server.
            Event::WatchTarget(_) => {}
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
        self.values_at_stop();
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
        self.watchpoints = self.dbg.watchpoints();
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
}
