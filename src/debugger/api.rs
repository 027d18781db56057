//! The debugger's public vocabulary: commands a client sends, events it
//! receives, and the snapshot of a paused program (DESIGN.md §3.8). The TUI
//! and the batch console are two clients of exactly these types.

use crate::code::Tier;
use crate::types::ValType;
use std::sync::Arc;
use std::time::Duration;

/// Where a breakpoint goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BreakAt {
    /// Module byte offset of an instruction (what wasmprinter and DevTools show).
    Offset(u32),
    /// First instruction of a function, by name (export, name section or DWARF).
    FunctionName(String),
    /// First instruction of a function, by index.
    FunctionIndex(u32),
    /// A source line (needs DWARF); `file` matches by path suffix.
    Line { file: String, line: u32 },
}

/// `$localN == 7` and friends: a condition on the paused frame's locals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub local: u32,
    pub op: CompareOp,
    pub value: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "==",
            CompareOp::Ne => "!=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

/// The `catch throw` catchpoint (numbered with the breakpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catchpoint {
    pub id: u32,
    pub hits: u64,
}

/// A stop at the `catch throw` catchpoint: the exception being thrown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrowStop {
    pub id: u32,
    /// The tag as the thrower's module names it (`tag 0 "__cpp_exception"`).
    pub tag: String,
    /// The payload values, formatted (`i32:70160`).
    pub values: Vec<String>,
}

impl ThrowStop {
    /// gdb-style lines for the stop.
    pub fn lines(&self) -> Vec<String> {
        vec![format!(
            "Catchpoint {} (exception thrown): {}, payload ({})",
            self.id,
            self.tag,
            self.values.join(", ")
        )]
    }
}

/// A breakpoint as the debugger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breakpoint {
    pub id: u32,
    /// Module byte offset of the instruction.
    pub offset: u32,
    pub func_index: u32,
    pub enabled: bool,
    pub hits: u64,
    pub condition: Option<Condition>,
    /// How the user asked for it (`0x1a2`, `mean`, `debugme.c:71`).
    pub spec: String,
}

/// A value for `set`, as written; it takes the type of what it is written to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SetValue {
    /// A decimal integer (or a negative hex one).
    Int(i128),
    /// A number with a fraction or exponent, `inf` or `nan`.
    Float(f64),
    /// `0x…`: an explicit bit pattern, at most as wide as the target.
    Bits(u64),
    /// `0x…` wider than 64 bits (only a v128 takes it).
    Bits128(u128),
}

impl SetValue {
    /// Parses `2`, `-3`, `4294967295`, `1.5`, `-2e-3`, `inf`, `nan`, `0x3ff0000000000000`.
    pub fn parse(s: &str) -> Result<SetValue, String> {
        let s = s.trim();
        let bad = || format!("bad value `{s}` (expected an integer, a float, or 0x bits)");
        let (neg, digits) = match s.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        if let Some(h) = digits
            .strip_prefix("0x")
            .or_else(|| digits.strip_prefix("0X"))
        {
            let v = u128::from_str_radix(h, 16).map_err(|_| bad())?;
            return match u64::try_from(v) {
                Ok(v) if neg => Ok(SetValue::Int(-(v as i128))),
                Ok(v) => Ok(SetValue::Bits(v)),
                Err(_) if neg => Err(bad()),
                Err(_) => Ok(SetValue::Bits128(v)),
            };
        }
        if let Ok(v) = s.parse::<i128>() {
            return Ok(SetValue::Int(v));
        }
        // Rust's float syntax, without its words other than inf/nan.
        let word = digits.to_ascii_lowercase();
        if !digits.starts_with(|c: char| c.is_ascii_digit() || c == '.')
            && !matches!(word.as_str(), "inf" | "infinity" | "nan")
        {
            return Err(bad());
        }
        s.parse::<f64>().map(SetValue::Float).map_err(|_| bad())
    }

    /// The 128 bits of this value as a `v128`: `0x` bits, or an integer in
    /// two's complement.
    pub fn to_v128(self) -> Result<u128, String> {
        match self {
            SetValue::Bits(b) => Ok(b as u128),
            SetValue::Bits128(b) => Ok(b),
            SetValue::Int(v) => Ok(v as u128),
            SetValue::Float(f) => Err(format!(
                "{f} is a float; a v128 takes 0x bits or an integer"
            )),
        }
    }

    /// The raw bits of this value as a `ty`, or why it does not fit: integers
    /// must be in range (signed or unsigned), floats only go to float
    /// targets, integers to floats convert, `0x` bits must fit the width.
    pub fn to_bits(self, ty: ValType) -> Result<u64, String> {
        let range = |lo: i128, hi: i128, v: i128| {
            if v < lo || v > hi {
                Err(format!("{v} does not fit in {ty} (range {lo}..={hi})"))
            } else {
                Ok(v as u64)
            }
        };
        let width = |b: u64, bits: u32| {
            if bits < 64 && b >> bits != 0 {
                Err(format!("{b:#x} is wider than {ty} ({bits} bits)"))
            } else {
                Ok(b)
            }
        };
        match (ty, self) {
            (ValType::I32, SetValue::Int(v)) => {
                range(i32::MIN as i128, u32::MAX as i128, v).map(|b| b & 0xffff_ffff)
            }
            (ValType::I64, SetValue::Int(v)) => range(i64::MIN as i128, u64::MAX as i128, v),
            (ValType::I32 | ValType::F32, SetValue::Bits(b)) => width(b, 32),
            (ValType::I64 | ValType::F64, SetValue::Bits(b)) => Ok(b),
            (ValType::I32 | ValType::I64, SetValue::Float(f)) => Err(format!(
                "{ty} takes an integer, not {f:?} (write 0x… for raw bits)"
            )),
            (ValType::F32, SetValue::Int(v)) => Ok((v as f32).to_bits() as u64),
            (ValType::F64, SetValue::Int(v)) => Ok((v as f64).to_bits()),
            (ValType::F32, SetValue::Float(f)) => {
                let x = f as f32;
                if f.is_finite() && x.is_infinite() {
                    Err(format!("{f:e} is out of range for f32"))
                } else {
                    Ok(x.to_bits() as u64)
                }
            }
            (ValType::F64, SetValue::Float(f)) => Ok(f.to_bits()),
            (ValType::FuncRef | ValType::ExternRef | ValType::ExnRef, _) => {
                Err(format!("a {ty} cannot be set from the debugger"))
            }
            (ValType::V128, _) => Err("a v128 takes 128 bits: only v128 locals can be set".into()),
            (_, SetValue::Bits128(b)) => Err(format!("{b:#x} is wider than {ty}")),
        }
    }
}

/// Commands in. `Session::send` never blocks on the program.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Continue,
    /// One wasm instruction, into calls (`stepi`).
    StepInstruction,
    /// One wasm instruction, over calls (`nexti`).
    NextInstruction,
    /// Run until the current function returns (`finish`).
    Finish,
    /// One source line, into calls (`step`); instruction step without DWARF.
    StepLine,
    /// One source line, over calls (`next`); `nexti` without DWARF.
    NextLine,
    /// Stop the running program (attach: tiers everything down).
    Pause,
    /// Start the program again from the beginning, paused at its entry.
    Restart,
    /// Let the program run on under dynamic tiering: breakpoints stay listed
    /// but stop nothing, functions tier up again (`pause` attaches again).
    Detach,
    Break {
        at: BreakAt,
        condition: Option<Condition>,
    },
    /// Delete one breakpoint, or all with `None`.
    Delete(Option<u32>),
    Enable {
        id: u32,
        enabled: bool,
    },
    /// Read linear memory (answered with `Event::Memory`).
    ReadMemory {
        addr: u64,
        len: u32,
    },
    WriteMemory {
        addr: u64,
        bytes: Vec<u8>,
    },
    /// Read linear memory `memory` (multi-memory; `ReadMemory` is memory 0).
    ReadMemoryAt {
        memory: u32,
        addr: u64,
        len: u32,
    },
    /// Write linear memory `memory`.
    WriteMemoryAt {
        memory: u32,
        addr: u64,
        bytes: Vec<u8>,
    },
    /// Set local `index` of frame `frame` (0 = innermost); the value is
    /// converted to the local's type (see [`SetValue::to_bits`]).
    SetLocal {
        frame: usize,
        index: u32,
        value: SetValue,
    },
    SetGlobal {
        index: u32,
        value: SetValue,
    },
    /// Evaluate a source variable (DWARF) or `$localN`/`$globalN` in a frame.
    Print {
        frame: usize,
        expr: String,
    },
    /// A breakpoint whose condition is any source expression
    /// (`break debugme.c:75 if i == ds->count`): the program stops when it is true.
    BreakIf {
        at: BreakAt,
        condition: String,
    },
    /// A source-level request about a paused frame (DWARF), answered with one
    /// `Event::Message` (or `Event::Error`).
    Source {
        frame: usize,
        request: SourceRequest,
    },
    /// A watchpoint on the lvalue `expr` (evaluated in frame `frame`), in
    /// linear memory, at most 64 bytes (`watch`, `rwatch`, `awatch`).
    Watch {
        frame: usize,
        kind: WatchKind,
        expr: String,
    },
    /// Profile mode on: breakpoints suspended, everything tiered up, sampling.
    ProfileOn,
    /// Profile mode off: everything tiered down again, breakpoints restored.
    ProfileOff,
    /// Ask for the profile so far (answered with `Event::Profile`).
    ProfileReport,
    /// Stop before an instruction that is about to trap (on), or let traps
    /// end the program (off, the default). While on, debug code runs its
    /// hook at every instruction, as during a step. Answered with a `Message`.
    StopAtTraps(bool),
    /// `catch throw` (on): a catchpoint that stops whenever a wasm exception
    /// is thrown, before any frame unwinds; off deletes it (as `delete N`
    /// does). Answered with a `Message`.
    CatchThrow(bool),
    /// End the program and the session.
    Quit,
}

impl Command {
    /// Commands that let a paused program run (until it stops again).
    pub fn resumes(&self) -> bool {
        matches!(
            self,
            Command::Continue
                | Command::StepInstruction
                | Command::NextInstruction
                | Command::Finish
                | Command::StepLine
                | Command::NextLine
        )
    }
}

/// How `print` shows values (`print/x`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrintFormat {
    #[default]
    Natural,
    /// `/x`
    Hex,
    /// `/d`
    Decimal,
    /// `/u`
    Unsigned,
    /// `/c`
    Char,
    /// `/f`
    Float,
}

impl PrintFormat {
    /// `x` for `/x`, empty for the natural format.
    pub fn letter(self) -> &'static str {
        match self {
            PrintFormat::Natural => "",
            PrintFormat::Hex => "x",
            PrintFormat::Decimal => "d",
            PrintFormat::Unsigned => "u",
            PrintFormat::Char => "c",
            PrintFormat::Float => "f",
        }
    }
}

/// Source-level (DWARF) questions about a paused frame.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceRequest {
    /// `print[/F] EXPR`: `$N = VALUE`.
    Print { expr: String, format: PrintFormat },
    /// `ptype EXPR` (`whatis` when `expand` is false).
    Ptype { expr: String, expand: bool },
    /// `set var LHS = RHS` (the whole assignment).
    Assign(String),
    /// `info locals`
    Locals,
    /// `info args`
    Args,
    /// `bt` with each frame's arguments.
    Backtrace,
    /// The `display` list at a stop: (number, format, expression).
    Displays(Vec<(u32, PrintFormat, String)>),
    /// The variables in scope, the children of each `expand` expression and
    /// the value of each `watch` expression, answered with `Event::Values`
    /// (the TUI's Variables and Watch panes).
    Inspect {
        expand: Vec<String>,
        watch: Vec<String>,
    },
    /// Where `watch EXPR` would watch, answered with `Event::WatchTarget`
    /// (or `Event::Error` saying why it cannot be watched): for front ends
    /// that set the watchpoint later, from another frame (DAP data breakpoints).
    WatchTarget(String),
}

/// The bytes a watchpoint on an expression covers, and how to name them
/// from any frame (answer to `SourceRequest::WatchTarget`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchTarget {
    /// The expression as asked.
    pub expr: String,
    /// Linear-memory address and length of its bytes.
    pub addr: u64,
    pub len: u32,
    /// Its C type.
    pub ty: String,
    /// An expression for the same bytes that means the same in every frame
    /// (`*(int *)0x10fec`): what `Command::Watch` takes to watch them.
    pub location: String,
}

/// What a watchpoint stops for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatchKind {
    /// `watch`: a write that changes the value (gdb's rule).
    Write,
    /// `rwatch`: a read.
    Read,
    /// `awatch`: a read or a write.
    Access,
}

impl WatchKind {
    /// gdb's words for it: `Hardware watchpoint 2: total`.
    pub fn title(self) -> &'static str {
        match self {
            WatchKind::Write => "Hardware watchpoint",
            WatchKind::Read => "Hardware read watchpoint",
            WatchKind::Access => "Hardware access (read/write) watchpoint",
        }
    }

    /// The Type column of `info watchpoints`.
    pub fn type_name(self) -> &'static str {
        match self {
            WatchKind::Write => "hw watchpoint",
            WatchKind::Read => "read watchpoint",
            WatchKind::Access => "acc watchpoint",
        }
    }
}

/// A watchpoint as the debugger keeps it (numbered with the breakpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watchpoint {
    pub id: u32,
    pub kind: WatchKind,
    /// The expression as written.
    pub expr: String,
    /// Linear-memory address and length of the watched bytes.
    pub addr: u64,
    pub len: u32,
    pub hits: u64,
    /// How it is armed in the running program.
    pub mechanism: WatchMechanism,
}

/// How a watchpoint catches accesses (`info watchpoints` says which).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchMechanism {
    /// Not armed (the program is not running).
    NotArmed,
    /// This many x86 debug registers (through `perf_event_open`).
    DebugRegisters(u8),
    /// Page protection, and why the debug registers could not hold it.
    PageProtection(String),
}

impl WatchMechanism {
    /// The line `info watchpoints` shows under the watchpoint.
    pub fn describe(&self) -> String {
        match self {
            WatchMechanism::NotArmed => "not armed".into(),
            WatchMechanism::DebugRegisters(1) => "via 1 debug register".into(),
            WatchMechanism::DebugRegisters(n) => format!("via {n} debug registers"),
            WatchMechanism::PageProtection(why) => format!("via page protection ({why})"),
        }
    }
}

/// A stop at a watchpoint: what was accessed, by which instruction, and the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchStop {
    pub id: u32,
    pub kind: WatchKind,
    pub expr: String,
    pub addr: u64,
    pub len: u32,
    /// True for a write.
    pub write: bool,
    /// The value before the write (writes only).
    pub old: Option<String>,
    /// The value now.
    pub value: String,
    /// Module offset and function of the instruction that accessed it
    /// (`None` for a host function or a bulk memory instruction's runtime call).
    pub offset: Option<u32>,
    pub func: Option<String>,
    /// The tier of the code that accessed it.
    pub tier: Option<FrameTier>,
    /// Source position of that instruction.
    pub source: Option<SourcePos>,
    /// The host function that made the access, if one did.
    pub host: Option<String>,
}

impl WatchStop {
    /// gdb's lines (`Hardware watchpoint 2: total`, blank, `Old value = 5`,
    /// `New value = 7`), then the instruction that made the access.
    pub fn lines(&self) -> Vec<String> {
        let mut out = vec![
            format!("{} {}: {}", self.kind.title(), self.id, self.expr),
            String::new(),
        ];
        match &self.old {
            Some(old) => {
                out.push(format!("Old value = {old}"));
                out.push(format!("New value = {}", self.value));
            }
            None => out.push(format!("Value = {}", self.value)),
        }
        let verb = if self.write { "written" } else { "read" };
        let by = match (&self.host, self.offset, &self.func) {
            (Some(h), _, _) => format!("{verb} by host function {h}"),
            (None, Some(o), Some(f)) => {
                let src = self
                    .source
                    .as_ref()
                    .map(|p| {
                        format!(
                            ", {}:{}",
                            p.file.rsplit('/').next().unwrap_or(&p.file),
                            p.line
                        )
                    })
                    .unwrap_or_default();
                let tier = self
                    .tier
                    .map(|t| format!(" [{}]", t.name()))
                    .unwrap_or_default();
                format!("{verb} by the instruction at {o:#x} in {f}{src}{tier}")
            }
            _ => format!(
                "{verb} by a bulk memory instruction (memory.copy, memory.fill or memory.init)"
            ),
        };
        out.push(by);
        out
    }
}

/// Why the program stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// Before the first instruction.
    Entry,
    Breakpoint(u32),
    Step,
    /// `finish` returned to the caller.
    Finish,
    /// `pause` (attach).
    Pause,
    /// A watchpoint saw an access.
    Watchpoint(Box<WatchStop>),
    /// The instruction about to run traps (trap stops on): the spec's
    /// message. Resuming runs it, and the program ends with the trap.
    Trap(String),
    /// The `catch throw` catchpoint: an exception is being thrown by the
    /// top frame; no frame has unwound yet.
    Throw(Box<ThrowStop>),
}

impl StopReason {
    pub fn describe(&self) -> String {
        match self {
            StopReason::Entry => "entry".into(),
            StopReason::Breakpoint(id) => format!("breakpoint {id}"),
            StopReason::Step => "step".into(),
            StopReason::Finish => "finish".into(),
            StopReason::Pause => "paused".into(),
            StopReason::Watchpoint(w) => format!("watchpoint {}", w.id),
            StopReason::Trap(m) => format!("trap: {m}"),
            StopReason::Throw(t) => format!("catchpoint {}: exception thrown", t.id),
        }
    }
}

/// The tier a frame is running, as the debugger shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameTier {
    /// Baseline debug code: every instruction is breakable, values have locations.
    Debug,
    /// Baseline code compiled without debug support (running since before attach).
    Baseline,
    /// Optimized (Cranelift) code, running since before attach.
    Optimized,
    /// An OSR entry: optimized code the frame moved into mid-call at a
    /// loop header (on-stack replacement up).
    Osr,
    /// A host function.
    Host,
}

impl FrameTier {
    pub fn name(self) -> &'static str {
        match self {
            FrameTier::Debug => "baseline·debug",
            FrameTier::Baseline => "baseline",
            FrameTier::Optimized => "optimized",
            FrameTier::Osr => "osr",
            FrameTier::Host => "host",
        }
    }

    /// Optimized code: the function's own or an OSR entry.
    pub fn is_optimized(self) -> bool {
        matches!(self, FrameTier::Optimized | FrameTier::Osr)
    }

    pub fn from_label(l: crate::code::CodeLabel) -> FrameTier {
        match l {
            crate::code::CodeLabel::Tier(t) => FrameTier::from_tier(t),
            crate::code::CodeLabel::Osr => FrameTier::Osr,
        }
    }

    pub fn from_tier(t: Tier) -> FrameTier {
        match t {
            Tier::Debug => FrameTier::Debug,
            Tier::Baseline => FrameTier::Baseline,
            Tier::Optimized => FrameTier::Optimized,
        }
    }
}

/// Where a value lives in the paused machine state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A machine register (`rax`, `xmm3`).
    Register(&'static str),
    /// A frame slot at `rbp + offset`.
    Slot(i32),
    /// A constant folded into the code that uses it.
    Const,
    /// A compare's result still in the CPU flags (fused into the next branch).
    Flags,
    /// Handed to the runtime by the interrupt check of optimized code
    /// (the value's register or slot there is Cranelift's choice).
    Spilled,
    /// Not recoverable here (e.g. a caller frame's register value).
    Unavailable,
    /// Dead where optimized code paused, so the code did not keep it.
    OptimizedOut,
}

impl Place {
    pub fn describe(&self) -> String {
        match self {
            Place::Register(r) => (*r).to_string(),
            Place::Slot(off) if *off < 0 => format!("[rbp-{:#x}]", -(*off as i64)),
            Place::Slot(off) => format!("[rbp+{off:#x}]"),
            Place::Const => "const".into(),
            Place::Flags => "rflags".into(),
            Place::Spilled => "spilled".into(),
            Place::Unavailable => "unavailable".into(),
            Place::OptimizedOut => "optimized out".into(),
        }
    }

    /// The value's bits mean something (it is neither unavailable nor optimized out).
    pub fn has_value(&self) -> bool {
        !matches!(self, Place::Unavailable | Place::OptimizedOut)
    }
}

/// A wasm value in a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Value {
    pub ty: ValType,
    /// Raw bits (32-bit types in the low half). Meaningless when `place` is `Unavailable`.
    pub bits: u64,
    /// The upper 64 bits of a v128 (0 for other types).
    pub hi: u64,
    pub place: Place,
}

/// file:line of an instruction (DWARF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePos {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// One frame of the paused call stack (0 = innermost).
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub func_index: u32,
    pub func_name: String,
    /// Module byte offset of the current instruction (the call, for callers).
    pub offset: u32,
    pub tier: FrameTier,
    pub source: Option<SourcePos>,
    /// `None` when this frame's code keeps no record of them.
    pub locals: Option<Vec<Value>>,
    /// Operand stack, bottom first; `None` when not recorded.
    pub stack: Option<Vec<Value>>,
    /// Something the user should know, e.g. "running optimized code from before the attach".
    pub note: Option<String>,
}

/// The 16 general-purpose registers by hardware number, and xmm0–15 (all 128 bits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registers {
    pub gpr: [u64; 16],
    pub xmm: [u128; 16],
    /// Native pc of the paused instruction.
    pub pc: u64,
}

pub const GPR_NAMES: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];

pub const XMM_NAMES: [&str; 16] = [
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
    "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalValue {
    pub index: u32,
    pub name: Option<String>,
    pub ty: ValType,
    pub mutable: bool,
    pub bits: u64,
    /// The upper 64 bits of a v128 (0 for other types).
    pub hi: u64,
}

/// Everything a client needs to draw a pause.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub reason: StopReason,
    /// Innermost first, at most [`MAX_FRAMES_SHOWN`].
    pub frames: Vec<Frame>,
    /// Frames of the stack beyond `frames` (a deep recursion).
    pub frames_omitted: usize,
    /// Register file at the pause (of the innermost frame).
    pub regs: Option<Registers>,
    pub globals: Vec<GlobalValue>,
    /// Pages of linear memory 0, if any.
    pub memory_pages: Option<u64>,
    /// Tables with their first entries.
    pub tables: Vec<TableView>,
}

/// A table at a pause: funcref entries are function indices; `None` is null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableView {
    pub index: u32,
    pub ty: ValType,
    pub size: u64,
    /// The first entries (at most `TABLE_ENTRIES_SHOWN`).
    pub entries: Vec<Option<u64>>,
}

/// How many frames a snapshot carries (the innermost ones).
pub const MAX_FRAMES_SHOWN: usize = 4097;

/// How many entries of each table a snapshot carries.
pub const TABLE_ENTRIES_SHOWN: usize = 256;

/// Where the program is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Running,
    Paused,
    /// Finished, trapped or killed; `restart` runs it again.
    Ended,
}

/// The session's mode, as the status bar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebugMode {
    /// Dynamic tiering (started with `--run`, nothing attached yet).
    Running,
    /// Attached: every function tiered down to debug code.
    Debug,
    /// Profile mode: every function tiered up, sampling.
    Profile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStream {
    Stdout,
    Stderr,
}

/// How the program ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// An `--invoke`d function returned these values (formatted).
    Returned(Vec<String>),
    /// `_start` returned or called `proc_exit`.
    Exited(i32),
    /// A trap: one line saying what and where.
    Trapped(String),
    /// Ended by `restart` or `quit`.
    Killed,
}

pub use crate::profile::{ProfileReport, ProfileRow};

/// One function as the function list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRow {
    pub index: u32,
    pub name: String,
    /// Tier of the code its slot points to now (`lazy` before the first call after a tier-down).
    pub tier: String,
    /// While paused: the code each of its frames on the stack runs,
    /// innermost first (a frame may run other code than the slot: code from
    /// before a tier change, or an OSR entry).
    pub frames: Vec<FrameTier>,
    pub imported: bool,
    /// Calls so far (counted at entry by code of every tier).
    pub calls: u64,
    /// Module byte offsets of the body: [start, end).
    pub body: (u32, u32),
    pub budget_left: Option<i64>,
}

/// Events out.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Paused(Arc<Snapshot>),
    /// The program runs again (after continue/step).
    Resumed,
    Output {
        stream: OutputStream,
        data: Vec<u8>,
    },
    /// The program ended; inspection of memory and globals still works.
    Ended {
        outcome: Outcome,
        snapshot: Option<Arc<Snapshot>>,
    },
    /// A tier switch is under way (`done` of `total` functions compiled).
    TierProgress {
        mode: DebugMode,
        done: usize,
        total: usize,
    },
    /// The mode changed; `functions` were switched in `elapsed`.
    ModeChanged {
        mode: DebugMode,
        functions: usize,
        elapsed: Duration,
    },
    Breakpoints(Vec<Breakpoint>),
    Memory {
        addr: u64,
        bytes: Vec<u8>,
    },
    Profile(ProfileReport),
    /// Answer to a command that has no structured reply (`set`, `print`, a new breakpoint).
    Message(String),
    /// A command could not be carried out; the session goes on.
    Error(String),
    /// Answer to `SourceRequest::Inspect`: values as trees.
    Values(super::inspect::Inspection),
    /// Answer to `SourceRequest::WatchTarget`.
    WatchTarget(WatchTarget),
    /// The session is over (after `quit`).
    Closed,
}

/// A wasm value for people: integers signed (with hex for large ones),
/// floats as floats, references as `null` or an address.
pub fn format_bits(ty: ValType, bits: u64) -> String {
    match ty {
        ValType::I32 => {
            let v = bits as u32;
            if v < 0x10000 || (v as i32) > -0x10000 && (v as i32) < 0 {
                format!("{}", v as i32)
            } else {
                format!("{} ({v:#x})", v as i32)
            }
        }
        ValType::I64 => {
            let v = bits as i64;
            if (-0x10000..0x10000).contains(&v) {
                format!("{v}")
            } else {
                format!("{v} ({bits:#x})")
            }
        }
        ValType::F32 => format!("{:?}", f32::from_bits(bits as u32)),
        ValType::F64 => format!("{:?}", f64::from_bits(bits)),
        ValType::FuncRef | ValType::ExternRef | ValType::ExnRef if bits == 0 => "null".into(),
        ValType::FuncRef | ValType::ExternRef | ValType::ExnRef => format!("{bits:#x}"),
        ValType::V128 => format!("v128 (low half {bits:#018x})"),
    }
}

/// A value of any type as text: `format_bits`, or hex and lanes for a v128
/// (in the shape `v128::lanes()` says).
pub fn format_value(ty: ValType, bits: u64, hi: u64) -> String {
    match ty {
        ValType::V128 => {
            super::v128::format_v128(super::v128::join(bits, hi), super::v128::lanes())
        }
        _ => format_bits(ty, bits),
    }
}

/// The raw bits in hex, as wide as the type.
pub fn format_hex(ty: ValType, bits: u64) -> String {
    if ty.is_64bit() {
        format!("{bits:#018x}")
    } else {
        format!("{:#010x}", bits as u32)
    }
}

// ---- machine code and the per-instruction profile --------------------------------

/// One native instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeInsn {
    /// Absolute address.
    pub addr: u64,
    pub bytes: Vec<u8>,
    /// Intel syntax (`mov eax, [rbp-18h]`); `(bad)` for bytes that decode to nothing.
    pub text: String,
}

/// The native code of one wasm instruction, or a piece of it: optimized code
/// may split an instruction's code, and out-of-line paths of baseline code
/// (traps, interrupt checks, the debug hook) come after the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeRange {
    /// Module byte offset of the wasm instruction shown above this code.
    pub wasm_offset: u32,
    /// False when this code has no single wasm origin of its own (prologue,
    /// register moves, constants) and is shown under the nearest instruction.
    pub exact: bool,
    /// Offsets into the function's code: [start, end).
    pub start: u32,
    pub end: u32,
    pub insns: Vec<NativeInsn>,
}

/// The machine code of one function in one tier, by wasm instruction. The
/// ranges are in address order and tile the code: each starts where the
/// previous one ends, the first at 0, the last at `len`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineCode {
    pub func_index: u32,
    pub tier: Tier,
    /// Absolute address of the function's first byte.
    pub addr: u64,
    pub len: u32,
    pub ranges: Vec<NativeRange>,
}

impl MachineCode {
    /// The range holding absolute address `pc`.
    pub fn range_at(&self, pc: u64) -> Option<&NativeRange> {
        let off = pc.checked_sub(self.addr)?;
        if off >= u64::from(self.len) {
            return None;
        }
        self.ranges
            .iter()
            .find(|r| u64::from(r.start) <= off && off < u64::from(r.end))
    }

    /// The instruction holding absolute address `pc`.
    pub fn insn_at(&self, pc: u64) -> Option<&NativeInsn> {
        self.range_at(pc)?
            .insns
            .iter()
            .find(|i| i.addr <= pc && pc < i.addr + i.bytes.len() as u64)
    }
}

pub use crate::profile::{InstructionSamples, ProfileDetail, StackFrame, StackSamples};
