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
    Regs,
    Globals,
    /// Disassembly around the pc, or of the function holding an offset / function name.
    Disas(Option<String>),
    /// Source lines around the current line.
    List,
    InfoFunctions,
    InfoBreakpoints,
    /// Wait this many milliseconds (batch scripts attaching to a running program).
    Sleep(u64),
}

/// One line per command, for `help`.
pub const HELP: &[&str] = &[
    "break|b LOCATION [if $localN OP VALUE]   LOCATION: 0x1a2 (module offset), FUNC, #INDEX, FILE:LINE",
    "delete [N]   enable N   disable N        breakpoints",
    "stepi|si  nexti|ni  step|s  next|n  finish  continue|c  pause  restart",
    "backtrace|bt  frame|f N  locals  stack  regs  globals  list|l  disas [FUNC|0xOFF]",
    "x ADDR [LEN]                             memory, hex and ASCII",
    "print|p NAME|$localN|$globalN            a source variable (DWARF) or a wasm value",
    "set $localN=V | $globalN=V | mem ADDR=BYTE[,BYTE...]",
    "info functions|breakpoints   profile on|off|report   sleep MS   help   quit|q",
];

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

/// Parses a value for `set`: integer (decimal/hex, may be negative) or float.
fn parse_bits(s: &str) -> Option<u64> {
    if let Some(v) = parse_i64(s) {
        return Some(v as u64);
    }
    s.trim().parse::<f64>().ok().map(f64::to_bits)
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

fn parse_set(rest: &str) -> Result<Command, String> {
    let usage = "usage: set $localN=V | set $globalN=V | set mem ADDR=BYTE[,BYTE...]";
    if let Some(m) = rest.strip_prefix("mem") {
        let (addr, bytes) = m.split_once('=').ok_or(usage)?;
        let addr = parse_u64(addr).ok_or(usage)?;
        let bytes = bytes
            .split(',')
            .map(|b| parse_u64(b).filter(|v| *v <= 0xff).map(|v| v as u8))
            .collect::<Option<Vec<u8>>>()
            .ok_or("bytes must be 0..=255, separated by commas")?;
        return Ok(Command::WriteMemory { addr, bytes });
    }
    let (lhs, rhs) = rest.split_once('=').ok_or(usage)?;
    let bits = parse_bits(rhs).ok_or_else(|| format!("bad value `{}`", rhs.trim()))?;
    let lhs = lhs.trim();
    if let Some(n) = lhs.strip_prefix("$local") {
        let index = n.parse().map_err(|_| usage.to_string())?;
        return Ok(Command::SetLocal {
            frame: 0,
            index,
            bits,
        });
    }
    if let Some(n) = lhs.strip_prefix("$global") {
        let index = n.parse().map_err(|_| usage.to_string())?;
        return Ok(Command::SetGlobal { index, bits });
    }
    Err(usage.into())
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
                return Err("usage: break 0x1a2 | FUNC | #INDEX | FILE:LINE [if $localN == V]".into());
            }
            let (loc, cond) = match rest.split_once(" if ") {
                Some((l, c)) => (l.trim(), Some(parse_condition(c)?)),
                None => (rest, None),
            };
            Ok(e(C::Break {
                at: parse_location(loc)?,
                condition: cond,
            }))
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
        "regs" | "registers" => no_args(Parsed::Show(View::Regs)),
        "globals" => no_args(Parsed::Show(View::Globals)),
        "list" | "l" => no_args(Parsed::Show(View::List)),
        "disas" | "disassemble" => Ok(Parsed::Show(View::Disas(
            (!rest.is_empty()).then(|| rest.to_string()),
        ))),
        "x" => {
            let mut it = rest.split_whitespace();
            let addr = it
                .next()
                .and_then(parse_u64)
                .ok_or("usage: x ADDR [LEN] (e.g. x 0x1000 64)")?;
            let len = match it.next() {
                Some(l) => parse_u64(l)
                    .filter(|l| *l > 0 && *l <= 1 << 20)
                    .ok_or("LEN must be 1..=1048576")? as u32,
                None => 64,
            };
            Ok(e(C::ReadMemory { addr, len }))
        }
        "print" | "p" => {
            if rest.is_empty() {
                Err("usage: print NAME | $localN | $globalN".into())
            } else {
                Ok(e(C::Print {
                    frame: 0,
                    expr: rest.to_string(),
                }))
            }
        }
        "set" => parse_set(rest).map(e),
        "info" | "i" => match rest {
            "functions" | "func" | "f" => Ok(Parsed::Show(View::InfoFunctions)),
            "breakpoints" | "break" | "b" => Ok(Parsed::Show(View::InfoBreakpoints)),
            "frame" => Ok(Parsed::Show(View::Frame(usize::MAX))),
            "locals" => Ok(Parsed::Show(View::Locals)),
            "registers" | "regs" => Ok(Parsed::Show(View::Regs)),
            _ => Err("usage: info functions | info breakpoints".into()),
        },
        "profile" => match rest {
            "on" => Ok(e(C::ProfileOn)),
            "off" => Ok(e(C::ProfileOff)),
            "report" => Ok(e(C::ProfileReport)),
            _ => Err("usage: profile on | off | report".into()),
        },
        "sleep" => rest
            .parse()
            .map(|ms| Parsed::Show(View::Sleep(ms)))
            .map_err(|_| "usage: sleep MILLISECONDS".into()),
        "help" | "h" | "?" => Ok(Parsed::Help),
        _ => Err(format!("unknown command `{word}` (try `help`)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(parse("si").unwrap(), Parsed::Engine(Command::StepInstruction));
        assert_eq!(
            parse("x 0x10 4").unwrap(),
            Parsed::Engine(Command::ReadMemory { addr: 16, len: 4 })
        );
        assert_eq!(
            parse("set $local1=-3").unwrap(),
            Parsed::Engine(Command::SetLocal {
                frame: 0,
                index: 1,
                bits: (-3i64) as u64
            })
        );
        assert_eq!(parse("  # comment").unwrap(), Parsed::Nothing);
    }

    #[test]
    fn bad_input_is_one_line() {
        for bad in ["frobnicate", "b", "b 0xzz", "x", "frame x", "si 3", "set $local=1", "b 12"] {
            let err = parse(bad).unwrap_err();
            assert!(!err.contains('\n') && !err.is_empty(), "{bad}: {err}");
        }
    }
}
