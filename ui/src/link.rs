//! The protocol servers' hold on a debugger session: it keeps the last pause
//! and the program's end, and turns "send a command, wait for its answer"
//! into one call. Events that are not the answer (program output, a stop,
//! the end) are kept in arrival order for the server's main loop.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wdb::debugger::{Command, Event, Outcome, RunState, Session, Snapshot};

/// How long an inspection command may take before the server gives up on it.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);

pub struct Link {
    pub session: Session,
    /// The last pause (also refreshed after `set`).
    pub snapshot: Option<Arc<Snapshot>>,
    /// How the program ended, once it has.
    pub outcome: Option<Outcome>,
    pending: VecDeque<Event>,
}

impl Link {
    pub fn new(session: Session) -> Link {
        Link {
            session,
            snapshot: None,
            outcome: None,
            pending: VecDeque::new(),
        }
    }

    fn note(&mut self, ev: &Event) {
        match ev {
            Event::Paused(s) => {
                self.snapshot = Some(s.clone());
                self.outcome = None;
            }
            Event::Ended { outcome, .. } => self.outcome = Some(outcome.clone()),
            _ => {}
        }
    }

    /// The next event for the main loop, waiting at most `timeout`.
    pub fn next_event(&mut self, timeout: Duration) -> Option<Event> {
        if let Some(ev) = self.pending.pop_front() {
            return Some(ev);
        }
        let ev = if timeout.is_zero() {
            self.session.try_recv()
        } else {
            self.session.recv_timeout(timeout)
        }?;
        self.note(&ev);
        Some(ev)
    }

    pub fn state(&self) -> RunState {
        self.session.state()
    }

    /// Sends `cmd` and waits for the event `answer` accepts (or an error):
    /// the answer, or the error's text. Other events are kept for `next_event`.
    pub fn ask(&mut self, cmd: Command, answer: impl Fn(&Event) -> bool) -> Result<Event, String> {
        self.session.send(cmd);
        let deadline = Instant::now() + ANSWER_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err("no answer from the program".into());
            }
            let Some(ev) = self.session.recv_timeout(left) else {
                continue;
            };
            self.note(&ev);
            if answer(&ev) {
                return Ok(ev);
            }
            match ev {
                Event::Error(e) => return Err(e),
                Event::Closed => {
                    self.pending.push_back(Event::Closed);
                    return Err("the session is closed".into());
                }
                other => self.pending.push_back(other),
            }
        }
    }

    /// Reads `len` bytes of linear memory at `addr`.
    pub fn read_memory(&mut self, addr: u64, len: u32) -> Result<Vec<u8>, String> {
        match self.ask(Command::ReadMemory { addr, len }, |e| {
            matches!(e, Event::Memory { .. })
        })? {
            Event::Memory { bytes, .. } => Ok(bytes),
            _ => Err("unexpected answer".into()),
        }
    }

    /// Sends a command answered by a `Message` (set, write memory, print).
    pub fn message(&mut self, cmd: Command) -> Result<String, String> {
        match self.ask(cmd, |e| matches!(e, Event::Message(_)))? {
            Event::Message(m) => Ok(m),
            _ => Err("unexpected answer".into()),
        }
    }

    /// Size in bytes of linear memory 0 at the last pause, if known.
    pub fn memory_size(&self) -> Option<u64> {
        self.snapshot
            .as_ref()
            .and_then(|s| s.memory_pages)
            .map(|p| p * 65536)
    }
}
