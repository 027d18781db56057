//! The command language shared by the batch console and the TUI's command
//! line: gdb-like names with short forms, parsed into engine commands or
//! views of the last pause. Bad input gives one helpful line, never a panic.

use super::api::*;

/// What a console line asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// Something the engine does.
    Engine(Command),
    /// Something shown from what the client already has (the last pause).
    Show(View),
    Help,
    /// An empty line or a comment.
    Nothing,
}

/// Views of the last pause and of the module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    Backtrace,
    /// Select frame N (and show it).
    Frame(usize),
    Locals,
    Stack,
    /// All registers, or one by name (`info registers xmm3`).
    Regs(Option<String>),
    Globals,
    /// Tables and their first entries.
    Tables,
    /// Disassembly around the pc, or of the function holding an offset / function name.
    Disas(Option<String>),
    /// Source lines around the current line.
    List,
    InfoFunctions,
    InfoBreakpoints,
    InfoWatchpoints,
    /// Wait this many milliseconds (batch scripts attaching to a running program).
    Sleep(u64),
    /// Show v128 values in this lane shape (`None`: say which one is used).
    Lanes(Option<super::v128::Lanes>),
    /// Native code under each wasm instruction (`disas /m`; `/r` adds raw
    /// bytes), of the selected frame or of a function (`what`), in the tier
    /// its code runs or in `tier` (compiled on demand).
    Machine {
        what: Option<String>,
        tier: Option<crate::code::Tier>,
        raw: bool,
    },
    /// The hottest wasm instructions and source lines (`profile report --lines`).
    ProfileLines,
    /// One function's instructions with their samples and native code
    /// (`profile annotate FUNC`).
    ProfileAnnotate(String),
}

/// One line per command, for `help`.
pub const HELP: &[&str] = &[
    "break|b LOCATION [if EXPR]               LOCATION: 0x1a2 (module offset), FUNC, #INDEX, FILE:LINE",
    "delete [N]   enable N   disable N        breakpoints",
    "stepi|si  nexti|ni  step|s  next|n  finish  continue|c  pause  restart  detach",
    "backtrace|bt  frame|f N  locals  stack  regs  globals  tables  list|l  disas [FUNC|0xOFF]",
    "x ADDR [LEN]                             memory, hex and ASCII",
    "lanes [i8x16|i16x8|i32x4|i64x2|f32x4|f64x2]   how v128 values are split (default i32x4)",
    "print|p[/x|/d|/u|/c|/f] EXPR             C/C++ expression (DWARF names, $localN, $globalN)",
    "ptype EXPR|TYPE   whatis EXPR   display[/F] EXPR   undisplay [N]   set var LHS = VALUE",
    "info locals|args (source)   info wasm-locals   locals (wasm)   info registers [REG] (xmm: 128 bits)",
    "set $localN=V | $globalN=V | mem ADDR=BYTE[,BYTE...]",
    "watch|rwatch|awatch EXPR                 stop when an lvalue in linear memory (<= 64 bytes) is written/read/either",
    "catch throw                              stop when a wasm exception is thrown (tag, payload); `delete N` removes it",
    "info functions|breakpoints|watchpoints   profile on|off|report   sleep MS   help   quit|q",
    "disas /m|/r [FUNC|0xOFF] [tier=debug|baseline|optimized]   native code under each wasm instruction",
    "profile report --lines   profile annotate FUNC   hottest instructions and source lines",
];

/// The longest `sleep` (a script waiting for a running program).
pub const MAX_SLEEP_MS: u64 = 60_000;

fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u64::from_str_radix(h, 16).ok()
    } else {
        s.parse().ok()
    }
}

fn parse_i64(s: &str) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix('-') {
        Some(rest) => parse_u64(rest).map(|v| (v as i64).wrapping_neg()),
        None => parse_u64(s).map(|v| v as i64),
    }
}

fn parse_location(s: &str) -> Result<BreakAt, String> {
    if s.starts_with("0x") || s.starts_with("0X") {
        return parse_u64(s)
            .and_then(|v| u32::try_from(v).ok())
            .map(BreakAt::Offset)
            .ok_or_else(|| format!("bad offset `{s}` (expected e.g. 0x1a2)"));
    }
    if let Some(i) = s.strip_prefix('#') {
        return i
            .parse()
            .map(BreakAt::FunctionIndex)
            .map_err(|_| format!("bad function index `{s}` (expected e.g. #3)"));
    }
    if let Some((file, line)) = s.rsplit_once(':') {
        if let Ok(line) = line.parse() {
            return Ok(BreakAt::Line {
                file: file.to_string(),
                line,
            });
        }
    }
    if s.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "`{s}`: write an offset as 0x{:x}, a function index as #{s}",
            s.parse::<u64>().unwrap_or(0)
        ));
    }
    Ok(BreakAt::FunctionName(s.to_string()))
}

fn parse_condition(s: &str) -> Result<Condition, String> {
    let bad = || format!("bad condition `{s}` (expected e.g. $local2 == 7)");
    let s = s.trim();
    let ops = [
        ("==", CompareOp::Eq),
        ("!=", CompareOp::Ne),
        ("<=", CompareOp::Le),
        (">=", CompareOp::Ge),
        ("<", CompareOp::Lt),
        (">", CompareOp::Gt),
    ];
    let (lhs, op, rhs) = ops
        .iter()
        .find_map(|(sym, op)| s.split_once(sym).map(|(l, r)| (l, *op, r)))
        .ok_or_else(bad)?;
    let local = lhs
        .trim()
        .strip_prefix("$local")
        .and_then(|n| n.parse().ok())
        .ok_or_else(bad)?;
    let value = parse_i64(rhs).ok_or_else(bad)?;
    Ok(Condition { local, op, value })
}

/// `print/x` -> (`x` format); `print` -> natural.
fn parse_format(word: &str) -> Result<PrintFormat, String> {
    let Some((_, f)) = word.split_once('/') else {
        return Ok(PrintFormat::Natural);
    };
    Ok(match f {
        "x" => PrintFormat::Hex,
        "d" => PrintFormat::Decimal,
        "u" => PrintFormat::Unsigned,
        "c" => PrintFormat::Char,
        "f" => PrintFormat::Float,
        _ => return Err(format!("unknown format `/{f}` (use /x /d /u /c /f)")),
    })
}

fn source(request: SourceRequest) -> Parsed {
    Parsed::Engine(Command::Source { frame: 0, request })
}

/// An optional leading `$memN` (memory N of a multi-memory module, like
/// gdb's convenience variables); memory 0 without it. Returns the index
/// and the rest of the arguments.
fn memory_index(args: &str) -> Result<(u32, &str), String> {
    let args = args.trim_start();
    let Some(tail) = args.strip_prefix("$mem") else {
        return Ok((0, args));
    };
    let (n, rest) = tail.split_at(
        tail.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len()),
    );
    let index = n
        .parse::<u32>()
        .map_err(|_| format!("bad memory index `$mem{n}`: use $mem0, $mem1, ..."))?;
    Ok((index, rest))
}

fn parse_set(rest: &str) -> Result<Command, String> {
    let usage =
        "usage: set var LHS = VALUE | set $localN=V | set $globalN=V | set mem [$memN] ADDR=BYTE[,BYTE...]";
    for prefix in ["variable ", "var "] {
        if let Some(assignment) = rest.strip_prefix(prefix) {
            return Ok(Command::Source {
                frame: 0,
                request: SourceRequest::Assign(assignment.trim().to_string()),
            });
        }
    }
    if let Some(m) = rest.strip_prefix("mem") {
        let (memory, m) = memory_index(m)?;
        let (addr, bytes) = m.split_once('=').ok_or(usage)?;
        let addr = parse_u64(addr).ok_or(usage)?;
        let bytes = bytes
            .split(',')
            .map(|b| parse_u64(b).filter(|v| *v <= 0xff).map(|v| v as u8))
            .collect::<Option<Vec<u8>>>()
            .ok_or("bytes must be 0..=255, separated by commas")?;
        return Ok(match memory {
            0 => Command::WriteMemory { addr, bytes },
            memory => Command::WriteMemoryAt {
                memory,
                addr,
                bytes,
            },
        });
    }
    let (lhs, rhs) = rest.split_once('=').ok_or(usage)?;
    let lhs = lhs.trim();
    if !lhs.starts_with('$') {
        return Ok(Command::Source {
            frame: 0,
            request: SourceRequest::Assign(rest.trim().to_string()),
        });
    }
    let value = SetValue::parse(rhs)?;
    if let Some(n) = lhs.strip_prefix("$local") {
        let index = n.parse().map_err(|_| usage.to_string())?;
        return Ok(Command::SetLocal {
            frame: 0,
            index,
            value,
        });
    }
    if let Some(n) = lhs.strip_prefix("$global") {
        let index = n.parse().map_err(|_| usage.to_string())?;
        return Ok(Command::SetGlobal { index, value });
    }
    Err(usage.into())
}

/// `disas [/m|/r|/mr] [FUNC|0xOFF] [tier=T]`: wasm text, or native code by
/// wasm instruction when a flag or a tier is given.
fn parse_disas(rest: &str) -> Result<View, String> {
    let mut native = false;
    let mut raw = false;
    let mut tier = None;
    let mut what: Option<String> = None;
    for word in rest.split_whitespace() {
        if let Some(flags) = word.strip_prefix('/') {
            for c in flags.chars() {
                match c {
                    'm' | 's' => native = true,
                    'r' => raw = true,
                    _ => return Err(format!("unknown disas flag `/{c}` (use /m or /r)")),
                }
            }
        } else if let Some(t) = word.strip_prefix("tier=") {
            tier = Some(super::machine_code::parse_tier(t).ok_or_else(|| {
                format!("unknown tier `{t}` (use tier=debug, tier=baseline or tier=optimized)")
            })?);
        } else if what.is_none() {
            what = Some(word.to_string());
        } else {
            return Err(
                "usage: disas [/m|/r] [FUNC|0xOFFSET] [tier=debug|baseline|optimized]".into(),
            );
        }
    }
    if native || raw || tier.is_some() {
        Ok(View::Machine { what, tier, raw })
    } else {
        Ok(View::Disas(what))
    }
}

/// Parses one console line.
pub fn parse(line: &str) -> Result<Parsed, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(Parsed::Nothing);
    }
    let (word, rest) = match line.split_once(char::is_whitespace) {
        Some((w, r)) => (w, r.trim()),
        None => (line, ""),
    };
    // `print/x`, `display/x`: the format belongs to the command word.
    let (word, format) = match word.split_once('/') {
        Some((w, _)) if matches!(w, "print" | "p" | "display" | "output" | "call") => {
            (w, parse_format(word)?)
        }
        _ => (word, PrintFormat::Natural),
    };
    let no_args = |p: Parsed| {
        if rest.is_empty() {
            Ok(p)
        } else {
            Err(format!("`{word}` takes no arguments"))
        }
    };
    use Command as C;
    let e = Parsed::Engine;
    match word {
        "break" | "b" => {
            if rest.is_empty() {
                return Err(
                    "usage: break 0x1a2 | FUNC | #INDEX | FILE:LINE [if $localN == V]".into(),
                );
            }
            let (loc, cond) = match rest.split_once(" if ") {
                Some((l, c)) => (l.trim(), Some(c.trim())),
                None => (rest, None),
            };
            let at = parse_location(loc)?;
            match cond {
                None => Ok(e(C::Break {
                    at,
                    condition: None,
                })),
                Some("") => Err("`if` needs a condition".into()),
                // `$localN OP VALUE` is checked by the engine without DWARF.
                Some(c) => match parse_condition(c) {
                    Ok(k) => Ok(e(C::Break {
                        at,
                        condition: Some(k),
                    })),
                    Err(_) => Ok(e(C::BreakIf {
                        at,
                        condition: c.to_string(),
                    })),
                },
            }
        }
        "delete" | "d" => {
            if rest.is_empty() {
                Ok(e(C::Delete(None)))
            } else {
                rest.parse()
                    .map(|n| e(C::Delete(Some(n))))
                    .map_err(|_| format!("bad breakpoint number `{rest}`"))
            }
        }
        "enable" | "disable" => rest
            .parse()
            .map(|id| {
                e(C::Enable {
                    id,
                    enabled: word == "enable",
                })
            })
            .map_err(|_| format!("usage: {word} N (a breakpoint number)")),
        "stepi" | "si" => no_args(e(C::StepInstruction)),
        "nexti" | "ni" => no_args(e(C::NextInstruction)),
        "step" | "s" => no_args(e(C::StepLine)),
        "next" | "n" => no_args(e(C::NextLine)),
        "finish" | "fin" => no_args(e(C::Finish)),
        "continue" | "c" | "cont" => no_args(e(C::Continue)),
        "pause" => no_args(e(C::Pause)),
        "restart" | "run" | "r" => no_args(e(C::Restart)),
        "quit" | "q" | "exit" => no_args(e(C::Quit)),
        "backtrace" | "bt" | "where" => no_args(Parsed::Show(View::Backtrace)),
        "frame" | "f" => rest
            .parse()
            .map(|n| Parsed::Show(View::Frame(n)))
            .map_err(|_| "usage: frame N (0 = innermost)".into()),
        "locals" => no_args(Parsed::Show(View::Locals)),
        "stack" => no_args(Parsed::Show(View::Stack)),
        "regs" | "registers" => Ok(Parsed::Show(View::Regs(
            Some(rest).filter(|r| !r.is_empty()).map(str::to_string),
        ))),
        "globals" => no_args(Parsed::Show(View::Globals)),
        "tables" => no_args(Parsed::Show(View::Tables)),
        "detach" => no_args(e(C::Detach)),
        "list" | "l" => no_args(Parsed::Show(View::List)),
        "disas" | "disassemble" => parse_disas(rest).map(Parsed::Show),
        "x" => {
            let (memory, rest) = memory_index(rest)?;
            let mut it = rest.split_whitespace();
            let addr = it
                .next()
                .and_then(parse_u64)
                .ok_or("usage: x [$memN] ADDR [LEN] (e.g. x 0x1000 64, x $mem1 0x10 16)")?;
            let len = match it.next() {
                Some(l) => parse_u64(l)
                    .filter(|l| *l > 0 && *l <= 1 << 20)
                    .ok_or("LEN must be 1..=1048576")? as u32,
                None => 64,
            };
            Ok(e(match memory {
                0 => C::ReadMemory { addr, len },
                memory => C::ReadMemoryAt { memory, addr, len },
            }))
        }
        "print" | "p" | "output" | "call" => {
            if rest.is_empty() {
                Err("usage: print[/x|/d|/u|/c|/f] EXPR".into())
            } else if format == PrintFormat::Natural {
                Ok(e(C::Print {
                    frame: 0,
                    expr: rest.to_string(),
                }))
            } else {
                Ok(source(SourceRequest::Print {
                    expr: rest.to_string(),
                    format,
                }))
            }
        }
        "ptype" | "whatis" => {
            if rest.is_empty() {
                Err(format!("usage: {word} EXPR | TYPE"))
            } else {
                Ok(source(SourceRequest::Ptype {
                    expr: rest.to_string(),
                    expand: word == "ptype",
                }))
            }
        }
        "display" => {
            if rest.is_empty() {
                Err("usage: display[/x|/d|/u|/c|/f] EXPR".into())
            } else {
                Ok(source(SourceRequest::Displays(vec![(
                    0,
                    format,
                    rest.to_string(),
                )])))
            }
        }
        "undisplay" => {
            if rest.split_whitespace().all(|n| n.parse::<u32>().is_ok()) {
                Ok(Parsed::Nothing)
            } else {
                Err("usage: undisplay [N...]".into())
            }
        }
        "watch" | "rwatch" | "awatch" => {
            let kind = match word {
                "watch" => WatchKind::Write,
                "rwatch" => WatchKind::Read,
                _ => WatchKind::Access,
            };
            if rest.is_empty() {
                Err(format!(
                    "usage: {word} EXPR (an lvalue in linear memory, e.g. `{word} total` or `{word} *(int *)0x1000`)"
                ))
            } else {
                Ok(e(C::Watch {
                    frame: 0,
                    kind,
                    expr: rest.to_string(),
                }))
            }
        }
        "catch" => match rest {
            "throw" => Ok(e(C::CatchThrow(true))),
            _ => Err("usage: catch throw (stop when a wasm exception is thrown)".into()),
        },
        "set" => parse_set(rest).map(e),
        "info" | "i" => match rest {
            "functions" | "func" | "f" => Ok(Parsed::Show(View::InfoFunctions)),
            "breakpoints" | "break" | "b" => Ok(Parsed::Show(View::InfoBreakpoints)),
            "watchpoints" | "watch" => Ok(Parsed::Show(View::InfoWatchpoints)),
            "frame" => Ok(Parsed::Show(View::Frame(usize::MAX))),
            "locals" => Ok(source(SourceRequest::Locals)),
            "args" => Ok(source(SourceRequest::Args)),
            "wasm-locals" => Ok(Parsed::Show(View::Locals)),
            "registers" | "regs" | "all-registers" => Ok(Parsed::Show(View::Regs(None))),
            "tables" => Ok(Parsed::Show(View::Tables)),
            _ => match rest.split_once(' ') {
                Some(("registers" | "regs" | "all-registers", r)) => {
                    Ok(Parsed::Show(View::Regs(Some(r.trim().to_string()))))
                }
                _ => Err("usage: info functions | breakpoints | watchpoints | locals | args | wasm-locals | frame | registers [REG] | all-registers | tables".into()),
            },
        },
        "profile" => match rest.split_whitespace().collect::<Vec<_>>()[..] {
            ["on"] => Ok(e(C::ProfileOn)),
            ["off"] => Ok(e(C::ProfileOff)),
            ["report"] => Ok(e(C::ProfileReport)),
            ["report", "--lines"] => Ok(Parsed::Show(View::ProfileLines)),
            ["annotate", func] => Ok(Parsed::Show(View::ProfileAnnotate(func.to_string()))),
            ["annotate"] => Err("usage: profile annotate FUNC (a name, #INDEX or 0xOFFSET)".into()),
            _ => Err("usage: profile on | off | report [--lines] | annotate FUNC".into()),
        },
        "sleep" => match rest.parse::<u64>() {
            Ok(ms) if ms <= MAX_SLEEP_MS => Ok(Parsed::Show(View::Sleep(ms))),
            Ok(ms) => Err(format!(
                "sleep takes at most {MAX_SLEEP_MS} ms (one minute), got {ms}"
            )),
            Err(_) => Err("usage: sleep MILLISECONDS".into()),
        },
        "lanes" => match rest {
            "" => Ok(Parsed::Show(View::Lanes(None))),
            l => super::v128::Lanes::parse(l)
                .map(|l| Parsed::Show(View::Lanes(Some(l))))
                .ok_or_else(|| "usage: lanes i8x16|i16x8|i32x4|i64x2|f32x4|f64x2".into()),
        },
        "help" | "h" | "?" => Ok(Parsed::Help),
        _ => Err(format!("unknown command `{word}` (try `help`)")),
    }
}

/// The function a `disas`/`annotate` argument names: `0xOFFSET` inside its
/// body, `#INDEX` or a name.
pub fn resolve_function(session: &super::Session, w: &str) -> Result<u32, String> {
    let n = session.module().info().num_funcs();
    match parse_location(w)? {
        BreakAt::Offset(o) => session
            .func_at_offset(o)
            .ok_or_else(|| format!("{o:#x} is not inside a function body")),
        BreakAt::FunctionIndex(i) if i < n => Ok(i),
        BreakAt::FunctionIndex(i) => Err(format!("no function #{i} (the module has {n})")),
        BreakAt::FunctionName(name) => session
            .functions()
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.index)
            .ok_or_else(|| format!("no function named `{name}` (see `info functions`)")),
        BreakAt::Line { .. } => Err(format!("`{w}`: give a function or an offset, not a line")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_disas_and_profile_views() {
        assert_eq!(parse("disas").unwrap(), Parsed::Show(View::Disas(None)));
        assert_eq!(
            parse("disas /m").unwrap(),
            Parsed::Show(View::Machine {
                what: None,
                tier: None,
                raw: false
            })
        );
        assert_eq!(
            parse("disas /r mean tier=optimized").unwrap(),
            Parsed::Show(View::Machine {
                what: Some("mean".into()),
                tier: Some(crate::code::Tier::Optimized),
                raw: true
            })
        );
        assert_eq!(
            parse("profile report --lines").unwrap(),
            Parsed::Show(View::ProfileLines)
        );
        assert_eq!(
            parse("profile annotate mean").unwrap(),
            Parsed::Show(View::ProfileAnnotate("mean".into()))
        );
        for bad in [
            "disas /x",
            "disas /m f tier=fast",
            "disas a b",
            "profile annotate",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(!err.contains('\n') && !err.is_empty(), "{bad}: {err}");
        }
    }

    #[test]
    fn parses_the_command_language() {
        assert_eq!(
            parse("b 0x1a2 if $local2 == 7").unwrap(),
            Parsed::Engine(Command::Break {
                at: BreakAt::Offset(0x1a2),
                condition: Some(Condition {
                    local: 2,
                    op: CompareOp::Eq,
                    value: 7
                })
            })
        );
        assert_eq!(
            parse("break debugme.c:71").unwrap(),
            Parsed::Engine(Command::Break {
                at: BreakAt::Line {
                    file: "debugme.c".into(),
                    line: 71
                },
                condition: None
            })
        );
        assert_eq!(
            parse("si").unwrap(),
            Parsed::Engine(Command::StepInstruction)
        );
        assert_eq!(
            parse("x 0x10 4").unwrap(),
            Parsed::Engine(Command::ReadMemory { addr: 16, len: 4 })
        );
        assert_eq!(
            parse("x $mem1 0x10 4").unwrap(),
            Parsed::Engine(Command::ReadMemoryAt {
                memory: 1,
                addr: 16,
                len: 4
            })
        );
        assert_eq!(
            parse("x $mem0 0x10 4").unwrap(),
            Parsed::Engine(Command::ReadMemory { addr: 16, len: 4 })
        );
        assert_eq!(
            parse("set mem $mem2 0x8=1,2").unwrap(),
            Parsed::Engine(Command::WriteMemoryAt {
                memory: 2,
                addr: 8,
                bytes: vec![1, 2]
            })
        );
        assert!(parse("x $memx 0x10").is_err());
        assert_eq!(
            parse("set $local1=-3").unwrap(),
            Parsed::Engine(Command::SetLocal {
                frame: 0,
                index: 1,
                value: SetValue::Int(-3)
            })
        );
        assert_eq!(
            parse("set $global2 = 1.5").unwrap(),
            Parsed::Engine(Command::SetGlobal {
                index: 2,
                value: SetValue::Float(1.5)
            })
        );
        assert_eq!(parse("  # comment").unwrap(), Parsed::Nothing);
    }

    #[test]
    fn bad_input_is_one_line() {
        for bad in [
            "frobnicate",
            "b",
            "b 0xzz",
            "x",
            "frame x",
            "si 3",
            "set $local=1",
            "set $local0=x1",
            "set $local0=1.5.2",
            "b 12",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(!err.contains('\n') && !err.is_empty(), "{bad}: {err}");
        }
    }
}

// ---- the console: commands in, stable text out ---------------------------------

/// What the client should wait for after a console line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Nothing: the answer is printed already or arrives at once.
    Nothing,
    /// The program resumed: wait until it stops or ends.
    Stop,
    /// One answer from the program thread (memory, print, set).
    Answer,
    /// Profile mode switching on (`ModeChanged`).
    ModeChange,
    /// A profile report.
    Profile,
    /// The session closing.
    Closed,
    /// Sleep this long (milliseconds), showing what happens meanwhile.
    Sleep(u64),
}

/// A console over a session: keeps the last pause and the selected frame,
/// turns lines into commands and events into text.
#[derive(Default)]
pub struct Console {
    last: Option<std::sync::Arc<Snapshot>>,
    frame: usize,
    /// `display` expressions: (number, format, text).
    displays: Vec<(u32, PrintFormat, String)>,
    next_display: u32,
    /// The displays were asked for at the last stop; their answer is due.
    displays_due: bool,
    /// The program was resumed by this console: the next pause is a stop (not the refreshed
    /// pause after `set`).
    resumed: bool,
    /// How to show the profile report asked for (`--lines`, `annotate`).
    profile_view: Option<View>,
}

fn frame_line(i: usize, f: &Frame) -> String {
    let src = f
        .source
        .as_ref()
        .map(|p| format!(" {}:{}", super::session::short_file(&p.file), p.line))
        .unwrap_or_default();
    format!(
        "#{i:<2} {:#08x} in {} (#{}){src} [{}]",
        f.offset,
        f.func_name,
        f.func_index,
        f.tier.name()
    )
}

fn value_line(name: &str, v: &Value) -> String {
    if !v.place.has_value() {
        return format!(
            "{name:<10} {:<4} <{}>",
            v.ty.to_string(),
            v.place.describe()
        );
    }
    format!(
        "{name:<10} {:<4} {:<24} {}",
        v.ty.to_string(),
        format_value(v.ty, v.bits, v.hi),
        v.place.describe()
    )
}

/// Hex + ASCII dump, 16 bytes per line.
pub fn hexdump(addr: u64, bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, chunk)| {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let ascii: String = chunk
                .iter()
                .map(|&b| {
                    if (0x20..0x7f).contains(&b) {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            format!(
                "{:#010x}: {:<47}  |{ascii}|",
                addr + 16 * i as u64,
                hex.join(" ")
            )
        })
        .collect()
}

impl Console {
    pub fn new() -> Console {
        Console::default()
    }

    /// The last pause, if the program is paused.
    pub fn snapshot(&self) -> Option<&Snapshot> {
        self.last.as_deref()
    }

    pub fn selected_frame(&self) -> usize {
        self.frame
    }

    fn current(&self) -> Result<(&Snapshot, &Frame), String> {
        let s = self
            .last
            .as_deref()
            .ok_or("the program is not paused (use `pause`, or `restart`)")?;
        let f = s
            .frames
            .get(self.frame)
            .or_else(|| s.frames.first())
            .ok_or("no frames")?;
        Ok((s, f))
    }

    /// True once after a stop at which the `display` list was sent for evaluation: the client
    /// should wait for that answer too.
    pub fn take_displays_due(&mut self) -> bool {
        std::mem::take(&mut self.displays_due)
    }

    /// `undisplay [N...]`.
    fn undisplay(&mut self, rest: &str) -> Vec<String> {
        if rest.is_empty() {
            self.displays.clear();
            return Vec::new();
        }
        let mut out = Vec::new();
        for n in rest
            .split_whitespace()
            .filter_map(|n| n.parse::<u32>().ok())
        {
            let before = self.displays.len();
            self.displays.retain(|d| d.0 != n);
            if self.displays.len() == before {
                out.push(format!("error: no display number {n}"));
            }
        }
        out
    }

    /// Runs one line: sends engine commands, answers views from the last pause.
    pub fn execute(&mut self, session: &super::Session, line: &str) -> (Vec<String>, Wait) {
        let parsed = match parse(line) {
            Ok(p) => p,
            Err(e) => return (vec![format!("error: {e}")], Wait::Nothing),
        };
        let trimmed = line.trim();
        if let Some(rest) = trimmed.strip_prefix("undisplay") {
            return (self.undisplay(rest.trim()), Wait::Nothing);
        }
        // `display EXPR`: remembered here, shown now and at every stop.
        let parsed = match parsed {
            Parsed::Engine(Command::Source {
                request: SourceRequest::Displays(mut list),
                ..
            }) if list.len() == 1 => {
                self.next_display += 1;
                list[0].0 = self.next_display;
                self.displays.push(list[0].clone());
                if self.last.is_none() {
                    return (Vec::new(), Wait::Nothing);
                }
                Parsed::Engine(Command::Source {
                    frame: 0,
                    request: SourceRequest::Displays(list),
                })
            }
            // With DWARF, `bt` shows each frame's arguments (the engine reads them).
            Parsed::Show(View::Backtrace) if session.has_dwarf() && self.last.is_some() => {
                Parsed::Engine(Command::Source {
                    frame: 0,
                    request: SourceRequest::Backtrace,
                })
            }
            p => p,
        };
        match parsed {
            Parsed::Nothing => (Vec::new(), Wait::Nothing),
            Parsed::Help => (HELP.iter().map(|s| s.to_string()).collect(), Wait::Nothing),
            Parsed::Show(View::Sleep(ms)) => (Vec::new(), Wait::Sleep(ms)),
            Parsed::Show(v @ (View::ProfileLines | View::ProfileAnnotate(_))) => {
                if let View::ProfileAnnotate(f) = &v {
                    if let Err(e) = resolve_function(session, f) {
                        return (vec![format!("error: {e}")], Wait::Nothing);
                    }
                }
                self.profile_view = Some(v);
                session.send(Command::ProfileReport);
                (Vec::new(), Wait::Profile)
            }
            Parsed::Show(v) => match self.view(session, v) {
                Ok(lines) => (lines, Wait::Nothing),
                Err(e) => (vec![format!("error: {e}")], Wait::Nothing),
            },
            Parsed::Engine(cmd) => {
                let cmd = match cmd {
                    Command::Print { expr, .. } => Command::Print {
                        frame: self.frame,
                        expr,
                    },
                    Command::Source { request, .. } => Command::Source {
                        frame: self.frame,
                        request,
                    },
                    Command::Watch { kind, expr, .. } => Command::Watch {
                        frame: self.frame,
                        kind,
                        expr,
                    },
                    c => c,
                };
                let running = session.state() == RunState::Running;
                let wait = match &cmd {
                    c if c.resumes() && session.state() == RunState::Paused => Wait::Stop,
                    Command::Pause if running => Wait::Stop,
                    Command::Restart => Wait::Stop,
                    Command::ReadMemory { .. }
                    | Command::WriteMemory { .. }
                    | Command::ReadMemoryAt { .. }
                    | Command::WriteMemoryAt { .. }
                    | Command::SetLocal { .. }
                    | Command::SetGlobal { .. }
                    | Command::Print { .. }
                    | Command::Source { .. }
                    | Command::Watch { .. }
                        if !running =>
                    {
                        Wait::Answer
                    }
                    Command::ProfileOn if session.mode() != DebugMode::Profile => Wait::ModeChange,
                    Command::ProfileReport => Wait::Profile,
                    Command::Quit => Wait::Closed,
                    _ => Wait::Nothing,
                };
                if wait == Wait::Stop {
                    self.last = None;
                    self.frame = 0;
                    self.resumed = true;
                }
                session.send(cmd);
                (Vec::new(), wait)
            }
        }
    }

    fn view(&mut self, session: &super::Session, v: View) -> Result<Vec<String>, String> {
        Ok(match v {
            View::Backtrace => {
                let (s, _) = self.current()?;
                let mut lines: Vec<String> = s
                    .frames
                    .iter()
                    .enumerate()
                    .flat_map(|(i, f)| {
                        let mut v = vec![frame_line(i, f)];
                        if let Some(n) = &f.note {
                            v.push(format!("      note: {n}"));
                        }
                        v
                    })
                    .collect();
                if s.frames_omitted > 0 {
                    let shown = s.frames.len();
                    lines.push(format!(
                        "({} more frames not shown: the backtrace stops at {shown} of {} frames)",
                        s.frames_omitted,
                        shown + s.frames_omitted
                    ));
                }
                lines
            }
            View::Frame(n) => {
                let (s, _) = self.current()?;
                let (count, total) = (s.frames.len(), s.frames.len() + s.frames_omitted);
                let n = if n == usize::MAX { self.frame } else { n };
                if n >= total {
                    return Err(format!("no frame {n} (the stack has {total})"));
                }
                if n >= count {
                    return Err(format!(
                        "frame {n} is beyond the {count} frames shown (the stack has {total})"
                    ));
                }
                self.frame = n;
                let (_, f) = self.current()?;
                let mut v = vec![frame_line(n, f)];
                if let Some(n) = &f.note {
                    v.push(format!("      note: {n}"));
                }
                v
            }
            View::Locals => {
                let (_, f) = self.current()?;
                match &f.locals {
                    None => vec!["locals: not recorded by this frame's code".into()],
                    Some(ls) if ls.is_empty() => vec!["no locals".into()],
                    Some(ls) => {
                        let names = session.module().info().local_names.get(&f.func_index);
                        ls.iter()
                            .enumerate()
                            .map(|(i, v)| {
                                let name = names
                                    .and_then(|m| m.get(&(i as u32)))
                                    .map(|n| format!("${n}"))
                                    .unwrap_or_else(|| format!("$local{i}"));
                                value_line(&name, v)
                            })
                            .collect()
                    }
                }
            }
            View::Stack => {
                let (_, f) = self.current()?;
                match &f.stack {
                    None => vec!["operand stack: not recorded in this frame".into()],
                    Some(st) if st.is_empty() => vec!["operand stack: empty".into()],
                    Some(st) => st
                        .iter()
                        .enumerate()
                        .rev()
                        .map(|(i, v)| value_line(&format!("[{i}]"), v))
                        .collect(),
                }
            }
            View::Regs(name) => {
                let (s, _) = self.current()?;
                let r = s
                    .regs
                    .as_ref()
                    .ok_or("registers: not saved by this frame's code (optimized)")?;
                match name {
                    None => super::registers::all_lines(r),
                    Some(n) => super::registers::one(r, &n)?,
                }
            }
            View::Globals => {
                let (s, _) = self.current()?;
                if s.globals.is_empty() {
                    vec!["no globals".into()]
                } else {
                    s.globals
                        .iter()
                        .map(|g| {
                            format!(
                                "$global{:<3} {:<4} {:<5} {}{}",
                                g.index,
                                g.ty.to_string(),
                                if g.mutable { "mut" } else { "const" },
                                format_value(g.ty, g.bits, g.hi),
                                g.name
                                    .as_ref()
                                    .map(|n| format!("  ({n})"))
                                    .unwrap_or_default()
                            )
                        })
                        .collect()
                }
            }
            View::Tables => {
                let (s, _) = self.current()?;
                if s.tables.is_empty() {
                    return Ok(vec!["no tables".into()]);
                }
                let mut out = Vec::new();
                for t in &s.tables {
                    out.push(format!("table {} ({}, {} entries)", t.index, t.ty, t.size));
                    for (i, e) in t.entries.iter().enumerate() {
                        let what = match (e, t.ty) {
                            (None, _) => "null".to_string(),
                            (Some(f), crate::types::ValType::FuncRef) => {
                                format!("{} (#{f})", session.func_name(*f as u32))
                            }
                            (Some(v), _) => format!("externref {}", v - 1),
                        };
                        out.push(format!("  [{i}] {what}"));
                    }
                    if t.size > t.entries.len() as u64 {
                        out.push(format!("  … {} more", t.size - t.entries.len() as u64));
                    }
                }
                out
            }
            View::Disas(what) => self.disas(session, what)?,
            View::Machine { what, tier, raw } => self.machine(session, what, tier, raw)?,
            View::ProfileLines | View::ProfileAnnotate(_) => {
                return Err("this view needs a profile report (`profile report --lines`)".into())
            }
            View::List => {
                let (_, f) = self.current()?;
                let pos = f
                    .source
                    .as_ref()
                    .ok_or("no source line here (no DWARF for this code)")?;
                let text = session
                    .source_text(&pos.file)
                    .ok_or_else(|| format!("cannot read {}", pos.file))?;
                let lo = pos.line.saturating_sub(5).max(1);
                let hi = (pos.line + 5).min(text.len() as u32);
                (lo..=hi)
                    .map(|n| {
                        let mark = if n == pos.line { "=>" } else { "  " };
                        format!(
                            "{mark}{n:>5}  {}",
                            text.get(n as usize - 1).map(String::as_str).unwrap_or("")
                        )
                    })
                    .collect()
            }
            View::InfoFunctions => session
                .functions()
                .iter()
                .map(|f| {
                    if f.imported {
                        format!("#{:<5} {:<32} imported", f.index, f.name)
                    } else {
                        let frames = match &f.frames[..] {
                            [] => String::new(),
                            fs => format!(
                                "  frames: {}",
                                fs.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
                            ),
                        };
                        format!(
                            "#{:<5} {:<32} {:<15} {:>10} calls  body {:#x}-{:#x}{frames}",
                            f.index, f.name, f.tier, f.calls, f.body.0, f.body.1
                        )
                    }
                })
                .collect(),
            View::InfoBreakpoints => {
                let bps = session.breakpoints();
                let catch = session.catchpoint();
                if bps.is_empty() && catch.is_none() {
                    vec!["no breakpoints".into()]
                } else {
                    let mut v = vec!["Num  Enb  Offset     Hits  Where".to_string()];
                    for b in bps {
                        let cond = b
                            .condition
                            .map(|k| format!(" if $local{} {} {}", k.local, k.op.symbol(), k.value))
                            .unwrap_or_default();
                        v.push(format!(
                            "{:<4} {:<4} {:#09x}  {:<5} {} ({}){cond}",
                            b.id,
                            if b.enabled { "y" } else { "n" },
                            b.offset,
                            b.hits,
                            session.func_name(b.func_index),
                            b.spec
                        ));
                    }
                    if let Some(cp) = catch {
                        v.push(format!(
                            "{:<4} {:<4} {:<9}  {:<5} exception throw",
                            cp.id, "y", "catch", cp.hits
                        ));
                    }
                    v
                }
            }
            View::InfoWatchpoints => watch_table(&session.watchpoints()),
            View::Sleep(_) => Vec::new(),
            View::Lanes(l) => {
                if let Some(l) = l {
                    super::v128::set_lanes(l);
                }
                vec![format!("v128 lanes: {}", super::v128::lanes().name())]
            }
        })
    }

    fn disas(&self, session: &super::Session, what: Option<String>) -> Result<Vec<String>, String> {
        let (func, pc) = match what {
            None => {
                let (_, f) = self.current()?;
                (f.func_index, Some(f.offset))
            }
            Some(w) => (resolve_function(session, &w)?, None),
        };
        let lines = session.disassemble(func);
        if lines.is_empty() {
            return Err(format!("no code for function #{func}"));
        }
        let bps: Vec<u32> = session
            .breakpoints()
            .iter()
            .filter(|b| b.enabled)
            .map(|b| b.offset)
            .collect();
        let at = pc
            .and_then(|pc| lines.iter().position(|l| l.offset == Some(pc)))
            .unwrap_or(0);
        let (lo, hi) = if pc.is_some() {
            (at.saturating_sub(6), (at + 10).min(lines.len()))
        } else {
            (0, lines.len())
        };
        Ok(lines[lo..hi]
            .iter()
            .map(|l| {
                let mark = match l.offset {
                    Some(o) if Some(o) == pc => "=>",
                    Some(o) if bps.contains(&o) => " *",
                    _ => "  ",
                };
                match l.offset {
                    Some(o) => format!("{mark} {o:#08x}  {}", l.text.trim_start()),
                    None => format!("{mark} {:8}  {}", "", l.text.trim_start()),
                }
            })
            .collect())
    }

    /// `disas /m`: native code by wasm instruction, around the selected
    /// frame's position or of a whole function.
    fn machine(
        &self,
        session: &super::Session,
        what: Option<String>,
        tier: Option<crate::code::Tier>,
        raw: bool,
    ) -> Result<Vec<String>, String> {
        use super::machine_code::tier_word;
        use crate::code::Tier;
        let (code, at, pc) = match what {
            None => {
                let (s, f) = self.current()?;
                let running = match f.tier {
                    FrameTier::Host => {
                        return Err(format!(
                            "{} is a host function: no machine code",
                            f.func_name
                        ))
                    }
                    FrameTier::Debug => Tier::Debug,
                    FrameTier::Baseline => Tier::Baseline,
                    FrameTier::Optimized | FrameTier::Osr => Tier::Optimized,
                };
                // The innermost frame's pc says exactly which code runs.
                let pc = (self.frame == 0)
                    .then(|| s.regs.as_ref().map(|r| r.pc))
                    .flatten()
                    .filter(|&p| p != 0);
                let by_pc = pc
                    .filter(|_| tier.is_none_or(|t| t == running))
                    .and_then(|p| session.machine_code_at(p))
                    .filter(|c| c.func_index == f.func_index);
                let code = match by_pc {
                    Some(c) => c,
                    None => session.machine_code(
                        f.func_index,
                        tier.unwrap_or(running),
                        tier.is_some(),
                    )?,
                };
                let pc = pc.filter(|&p| code.range_at(p).is_some());
                (code, Some(f.offset), pc)
            }
            Some(w) => {
                let func = resolve_function(session, &w)?;
                let code = match tier {
                    Some(t) => session.machine_code(func, t, true)?,
                    None => {
                        let row = session.functions().into_iter().find(|r| r.index == func);
                        let current = row.and_then(|r| super::machine_code::parse_tier(&r.tier));
                        let mut found = None;
                        for t in current.into_iter().chain([
                            Tier::Debug,
                            Tier::Baseline,
                            Tier::Optimized,
                        ]) {
                            if let Ok(c) = session.machine_code(func, t, false) {
                                found = Some(c);
                                break;
                            }
                        }
                        found.ok_or_else(|| {
                            format!(
                                "{} has no machine code yet (add tier={} to compile it)",
                                session.func_name(func),
                                tier_word(Tier::Optimized)
                            )
                        })?
                    }
                };
                (code, None, None)
            }
        };
        Ok(super::annotate::machine_text(session, &code, at, pc, raw))
    }

    /// Text for an event (and remembers pauses for the views).
    pub fn render_event(&mut self, session: &super::Session, ev: &Event) -> Vec<String> {
        match ev {
            Event::Paused(s) => {
                self.last = Some(s.clone());
                self.frame = 0;
                if std::mem::take(&mut self.resumed)
                    && !self.displays.is_empty()
                    && !s.frames.is_empty()
                {
                    session.send(Command::Source {
                        frame: 0,
                        request: SourceRequest::Displays(self.displays.clone()),
                    });
                    self.displays_due = true;
                }
                let mut out = match &s.reason {
                    StopReason::Watchpoint(w) => {
                        let mut v = vec![String::new()];
                        v.extend(w.lines());
                        v
                    }
                    StopReason::Throw(t) => t.lines(),
                    _ => Vec::new(),
                };
                let Some(f) = s.frames.first() else {
                    out.push(format!("{} (no frames)", s.reason.describe()));
                    return out;
                };
                let src = f
                    .source
                    .as_ref()
                    .map(|p| format!(", {}:{}", super::session::short_file(&p.file), p.line))
                    .unwrap_or_default();
                out.push(format!(
                    "Stopped ({}) in {} (#{}) at {:#x}{src} [{}]",
                    s.reason.describe(),
                    f.func_name,
                    f.func_index,
                    f.offset,
                    f.tier.name()
                ));
                if let Some(n) = &f.note {
                    out.push(format!("note: {n}"));
                }
                if let Some(line) = session
                    .disassemble(f.func_index)
                    .iter()
                    .find(|l| l.offset == Some(f.offset))
                {
                    out.push(format!("=> {:#08x}  {}", f.offset, line.text.trim_start()));
                }
                if let Some(p) = &f.source {
                    if let Some(text) = session.source_text(&p.file) {
                        if let Some(l) = text.get(p.line as usize - 1) {
                            out.push(format!("{:>5}  {l}", p.line));
                        }
                    }
                }
                out
            }
            Event::Resumed => Vec::new(),
            Event::Output { .. } => Vec::new(),
            Event::Ended { outcome, .. } => {
                self.last = None;
                vec![match outcome {
                    Outcome::Returned(v) if v.is_empty() => "Program returned".into(),
                    Outcome::Returned(v) => format!("Program returned: {}", v.join(", ")),
                    Outcome::Exited(c) => format!("Program exited with code {c}"),
                    Outcome::Trapped(m) => format!("Program trapped: {m}"),
                    Outcome::Killed => "Program killed".into(),
                }]
            }
            Event::TierProgress { done, total, .. } => {
                vec![format!("tiering up: {done}/{total} functions optimized")]
            }
            Event::ModeChanged {
                mode,
                functions,
                elapsed,
            } => vec![match mode {
                DebugMode::Profile => format!(
                    "Profile mode on: {functions} functions tiered up in {:.1} ms; sampling at 1 kHz; perf map {}",
                    elapsed.as_secs_f64() * 1000.0,
                    crate::profile::perf_map::path().display()
                ),
                DebugMode::Debug => format!(
                    "Debug mode: {functions} functions tiered down in {:.2} ms",
                    elapsed.as_secs_f64() * 1000.0
                ),
                DebugMode::Running => "Detached: running under dynamic tiering".into(),
            }],
            Event::Breakpoints(_) => Vec::new(),
            Event::Memory { addr, bytes } => hexdump(*addr, bytes),
            Event::Profile(r) if self.profile_view.is_some() => {
                match self.profile_view.take() {
                    Some(View::ProfileAnnotate(f)) => match resolve_function(session, &f) {
                        Ok(func) => super::annotate::annotate(session, r, func),
                        Err(e) => vec![format!("error: {e}")],
                    },
                    _ => super::annotate::hot_lines(session, r),
                }
            }
            Event::Profile(r) => {
                let mut out = vec![format!(
                    "Profile: {} samples over {:.2} s",
                    r.samples,
                    r.duration.as_secs_f64()
                )];
                out.push(format!(
                    "{:>7} {:>7} {:>8}  {:<16} function",
                    "self%", "total%", "samples", "tier"
                ));
                let n = r.samples.max(1) as f64;
                for row in &r.flat {
                    out.push(format!(
                        "{:>6.1}% {:>6.1}% {:>8}  {:<16} {}",
                        100.0 * row.self_samples as f64 / n,
                        100.0 * row.total_samples as f64 / n,
                        row.self_samples,
                        row.tier,
                        row.name
                    ));
                }
                if !r.tree.is_empty() {
                    out.push("Call tree:".into());
                    out.extend(r.tree.iter().cloned());
                }
                out
            }
            Event::Message(m) => m.lines().map(str::to_string).collect(),
            Event::Error(e) => vec![format!("error: {e}")],
            Event::WatchTarget(t) => vec![format!(
                "{}: {} bytes at {:#x} ({}), watched as {}",
                t.expr, t.len, t.addr, t.ty, t.location
            )],
            Event::Closed | Event::Values(_) => Vec::new(),
        }
    }
}

/// `info watchpoints`, in gdb's columns (plus the linear-memory range).
fn watch_table(list: &[Watchpoint]) -> Vec<String> {
    if list.is_empty() {
        return vec!["No watchpoints.".into()];
    }
    let mut v = vec!["Num     Type            Disp Enb Address            What".to_string()];
    for w in list {
        v.push(format!(
            "{:<7} {:<15} keep y   {:<18} {}",
            w.id,
            w.kind.type_name(),
            format!("{:#x}+{}", w.addr, w.len),
            w.expr
        ));
        if w.hits > 0 {
            let s = if w.hits == 1 { "" } else { "s" };
            v.push(format!("\tbreakpoint already hit {} time{s}", w.hits));
        }
        v.push(format!("\t{}", w.mechanism.describe()));
    }
    v
}
