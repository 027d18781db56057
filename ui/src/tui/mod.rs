//! The full-screen terminal debugger (ratatui + crossterm), a client of
//! `wdb::debugger::Session`. (Placeholder until the TUI lands.)

use wdb::debugger::Session;

/// Runs the TUI until the user quits; returns the process exit code.
pub fn run(session: Session) -> Result<u8, String> {
    drop(session);
    Err("the terminal UI is not built yet; use --batch".into())
}
