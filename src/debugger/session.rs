//! The session: owns the program thread, forwards commands, hands out events.

use super::api::*;
use std::path::PathBuf;
use std::time::Duration;

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
    /// The guest's stdin (the terminal belongs to the debugger).
    pub stdin: Vec<u8>,
}

/// One line of disassembly: the instruction's module byte offset (None for
/// lines such as the function header) and wasmprinter's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisasLine {
    pub offset: Option<u32>,
    pub text: String,
}

/// A debugging session (see the module docs).
pub struct Session {
    _private: (),
}

impl Session {
    /// Loads the module and starts the program thread.
    pub fn start(_cfg: SessionConfig) -> crate::Result<Session> {
        Err(crate::Error::Internal("debugger not built yet".into()))
    }
    /// Sends a command; never blocks on the program.
    pub fn send(&self, _cmd: Command) {}
    /// The next event, waiting at most `timeout`.
    pub fn recv_timeout(&self, _timeout: Duration) -> Option<Event> {
        None
    }
    pub fn try_recv(&self) -> Option<Event> {
        None
    }
    pub fn state(&self) -> RunState {
        RunState::Ended
    }
    pub fn mode(&self) -> DebugMode {
        DebugMode::Debug
    }
    /// Display name of the program.
    pub fn name(&self) -> &str {
        ""
    }
    /// Every function with its current tier.
    pub fn functions(&self) -> Vec<FunctionRow> {
        Vec::new()
    }
    pub fn breakpoints(&self) -> Vec<Breakpoint> {
        Vec::new()
    }
    /// Index of the function whose body holds module offset `offset`.
    pub fn func_at_offset(&self, _offset: u32) -> Option<u32> {
        None
    }
    /// wasmprinter text of one function, one instruction per line with offsets.
    pub fn disassemble(&self, _func: u32) -> Vec<DisasLine> {
        Vec::new()
    }
    /// Source position of an instruction (DWARF).
    pub fn source_pos(&self, _offset: u32) -> Option<SourcePos> {
        None
    }
    /// Lines of a source file named by DWARF, if it can be read.
    pub fn source_text(&self, _file: &str) -> Option<Arc<Vec<String>>> {
        None
    }
    /// True when the module has DWARF line info.
    pub fn has_dwarf(&self) -> bool {
        false
    }
}
use std::sync::Arc;
