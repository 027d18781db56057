//! Waiting for a debugging session's events (`tests/debugger.rs`,
//! `tests/osr.rs`): the next pause, the next stop of any kind, the end.
//! Each waits at most [`TIMEOUT`], so a hang fails the test instead.

// Each test binary that includes this file uses a part of it.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};
use wdb::debugger::{Event, Outcome, Session, Snapshot};

/// Only to fail instead of hanging when the engine never answers.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Waits for an event `pick` accepts (other events are dropped); the
/// program ending first fails the test.
pub fn wait<T>(s: &Session, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    wait_any(s, what, |e| {
        if let Event::Ended { outcome, .. } = e {
            panic!("the program ended while waiting for {what}: {outcome:?}");
        }
        pick(e)
    })
}

/// Like [`wait`], but also after the program ended.
pub fn wait_any<T>(s: &Session, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let until = Instant::now() + TIMEOUT;
    while Instant::now() < until {
        if let Some(e) = s.recv_timeout(Duration::from_millis(50)) {
            if let Some(t) = pick(&e) {
                return t;
            }
        }
    }
    panic!("timed out waiting for {what}");
}

/// How the program stopped.
pub enum Stop {
    Paused(Arc<Snapshot>),
    Ended(Outcome),
}

/// The next pause or the end.
pub fn next_stop(s: &Session) -> Stop {
    wait_any(s, "a stop", |e| match e {
        Event::Paused(p) => Some(Stop::Paused(p.clone())),
        Event::Ended { outcome, .. } => Some(Stop::Ended(outcome.clone())),
        _ => None,
    })
}

/// The next pause (the program ending instead fails the test).
pub fn paused(s: &Session) -> Arc<Snapshot> {
    match next_stop(s) {
        Stop::Paused(p) => p,
        Stop::Ended(o) => panic!("expected a pause, the program ended: {o:?}"),
    }
}

/// Sends `quit` and waits until the session closed.
pub fn quit(s: &Session) {
    s.send(wdb::debugger::Command::Quit);
    wait_any(s, "the session to close", |e| {
        matches!(e, Event::Closed).then_some(())
    });
}
