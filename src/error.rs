//! Errors in layers: compile errors, link errors, traps, and one root [`Error`].

use std::fmt;

/// Why a wasm execution stopped abnormally. Codes are stable: compiled code
/// stores them in trap tables and the runtime reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TrapCode {
    Unreachable = 1,
    MemoryOutOfBounds = 2,
    IntegerDivideByZero = 3,
    IntegerOverflow = 4,
    BadConversionToInteger = 5,
    IndirectCallToNull = 6,
    BadSignature = 7,
    TableOutOfBounds = 8,
    StackOverflow = 9,
    /// A host function returned an error; the message travels separately.
    HostError = 10,
    /// The program asked to exit (WASI `proc_exit`); not a failure.
    Exit = 11,
    /// The embedder interrupted execution.
    Interrupted = 12,
    /// Element or data segment access out of bounds (`table.init`, `memory.init`).
    OutOfBoundsSegment = 13,
    NullReference = 14,
    /// A wasm exception no handler caught (exception handling).
    UncaughtException = 15,
}

impl TrapCode {
    pub fn from_u8(v: u8) -> Option<TrapCode> {
        use TrapCode::*;
        Some(match v {
            1 => Unreachable,
            2 => MemoryOutOfBounds,
            3 => IntegerDivideByZero,
            4 => IntegerOverflow,
            5 => BadConversionToInteger,
            6 => IndirectCallToNull,
            7 => BadSignature,
            8 => TableOutOfBounds,
            9 => StackOverflow,
            10 => HostError,
            11 => Exit,
            12 => Interrupted,
            13 => OutOfBoundsSegment,
            14 => NullReference,
            15 => UncaughtException,
            _ => return None,
        })
    }

    /// The message the spec test suite uses for this trap.
    pub fn message(self) -> &'static str {
        use TrapCode::*;
        match self {
            Unreachable => "unreachable",
            MemoryOutOfBounds => "out of bounds memory access",
            IntegerDivideByZero => "integer divide by zero",
            IntegerOverflow => "integer overflow",
            BadConversionToInteger => "invalid conversion to integer",
            IndirectCallToNull => "uninitialized element",
            BadSignature => "indirect call type mismatch",
            TableOutOfBounds => "out of bounds table access",
            StackOverflow => "call stack exhausted",
            HostError => "host function error",
            Exit => "exit",
            Interrupted => "interrupted",
            OutOfBoundsSegment => "out of bounds memory access",
            NullReference => "null reference",
            UncaughtException => "uncaught exception",
        }
    }
}

impl fmt::Display for TrapCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

/// One wasm frame of a trap backtrace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameInfo {
    /// Identity of the module the function belongs to.
    pub module_id: u64,
    pub func_index: u32,
    pub func_name: Option<String>,
    /// Module byte offset of the instruction (None if unknown, e.g. a host frame).
    pub wasm_offset: Option<u32>,
}

impl fmt::Display for FrameInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.func_name {
            Some(n) => write!(f, "{n} (func {})", self.func_index)?,
            None => write!(f, "func {}", self.func_index)?,
        }
        if let Some(off) = self.wasm_offset {
            write!(f, " at 0x{off:x}")?;
        }
        Ok(())
    }
}

/// A wasm trap: what, where, and how we got there.
#[derive(Debug, Clone)]
pub struct Trap {
    pub code: TrapCode,
    /// Function index where the trap happened (None if outside wasm code).
    pub func: Option<u32>,
    pub wasm_offset: Option<u32>,
    /// Innermost frame first (at most `vm::traps::MAX_BACKTRACE`).
    pub backtrace: Vec<FrameInfo>,
    /// Wasm frames beyond `backtrace` (a deep recursion).
    pub frames_omitted: usize,
    /// For host errors and exits: the message or exit status.
    pub message: Option<String>,
    pub exit_code: Option<i32>,
    /// For `UncaughtException`: the exception that escaped.
    pub exception: Option<Box<Thrown>>,
}

/// An exception that left wasm uncaught: its tag and payload, and the raw
/// `exnref` (valid while its store lives), so a host function can pass it
/// on to its wasm caller, which may catch it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thrown {
    pub raw: u64,
    /// The tag as the thrower's module names it (`tag 2`, `tag $e (export "e")`).
    pub tag: String,
    /// The payload values, formatted (`i32:7`).
    pub values: Vec<String>,
}

impl Trap {
    pub fn new(code: TrapCode) -> Trap {
        Trap {
            code,
            func: None,
            wasm_offset: None,
            backtrace: Vec::new(),
            frames_omitted: 0,
            message: None,
            exit_code: None,
            exception: None,
        }
    }

    pub fn host(message: impl Into<String>) -> Trap {
        Trap {
            message: Some(message.into()),
            ..Trap::new(TrapCode::HostError)
        }
    }

    pub fn exit(code: i32) -> Trap {
        Trap {
            exit_code: Some(code),
            ..Trap::new(TrapCode::Exit)
        }
    }
}

impl fmt::Display for Trap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.code, &self.message) {
            (TrapCode::HostError, Some(m)) => write!(f, "{m}")?,
            (TrapCode::Exit, _) => write!(f, "exit with code {}", self.exit_code.unwrap_or(0))?,
            (TrapCode::UncaughtException, _) => match &self.exception {
                Some(e) if e.values.is_empty() => {
                    write!(f, "wasm trap: uncaught exception, {}", e.tag)?
                }
                Some(e) => write!(
                    f,
                    "wasm trap: uncaught exception, {} ({})",
                    e.tag,
                    e.values.join(", ")
                )?,
                None => write!(f, "wasm trap: uncaught exception")?,
            },
            (code, _) => write!(f, "wasm trap: {code}")?,
        }
        if let Some(top) = self.backtrace.first() {
            write!(f, " in {top}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Trap {}

/// The root error type of the engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid module at byte offset 0x{offset:x}: {message}")]
    Invalid { offset: usize, message: String },
    #[error("invalid text format at {0}")]
    Text(String),
    #[error("compile error in function {func} at byte offset 0x{offset:x}: {message}")]
    Compile {
        func: u32,
        offset: usize,
        message: String,
    },
    #[error("link error: {0}")]
    Link(String),
    #[error("{0}")]
    Trap(Box<Trap>),
    #[error("{0}")]
    Usage(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn as_trap(&self) -> Option<&Trap> {
        match self {
            Error::Trap(t) => Some(t),
            _ => None,
        }
    }

    pub fn as_trap_code(&self) -> Option<TrapCode> {
        self.as_trap().map(|t| t.code)
    }

    pub(crate) fn invalid(e: wasmparser::BinaryReaderError) -> Error {
        // Some decoder messages span lines; errors are one line.
        let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        Error::Invalid {
            offset: e.offset() as usize,
            message,
        }
    }
}

impl From<Trap> for Error {
    fn from(t: Trap) -> Error {
        Error::Trap(Box::new(t))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
