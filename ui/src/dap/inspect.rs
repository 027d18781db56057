//! Inspection requests of the adapter: stack trace, scopes, variables,
//! setVariable, evaluate, disassemble, readMemory and writeMemory. Values
//! come from the session's pause snapshot and its `print` command (DWARF
//! variables are evaluated by the engine, not here).

use super::adapter::{parse_reference, Adapter, Fail, ScopeKind, VarRef};
use super::types::*;
use super::wire::{base64_decode, base64_encode};
use serde_json::{json, Value};
use std::sync::Arc;
use wdb::debugger::console::{self, Parsed};
use wdb::debugger::{
    format_value, Command, Frame, FrameTier, Place, RunState, Session, Snapshot, SourceRequest,
    GPR_NAMES, XMM_NAMES,
};
use wdb::ValType;

/// How many bytes one `readMemory` returns at most.
const MAX_READ: u64 = 1 << 20;

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// A source file for the client: where it is on this machine (found as the
/// TUI finds it), or the path DWARF names when it is nowhere to be found.
pub fn source_out(session: &Session, file: &str) -> SourceOut {
    let path = session
        .source_path(file)
        .and_then(|p| std::fs::canonicalize(p).ok())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| file.to_string());
    SourceOut {
        name: file_name(file).to_string(),
        path: Some(path),
    }
}

impl Adapter {
    /// The current pause, or why there is none.
    pub(super) fn snapshot(&mut self) -> Result<Arc<Snapshot>, Fail> {
        let link = self.link()?;
        match link.state() {
            RunState::Running => return Err("the program is running".into()),
            RunState::Ended => return Err("the program has ended".into()),
            RunState::Paused => {}
        }
        link.snapshot
            .clone()
            .ok_or_else(|| "the program has not stopped yet".into())
    }

    fn frame(&mut self, frame_id: i64) -> Result<(Arc<Snapshot>, usize, Frame), Fail> {
        let snap = self.snapshot()?;
        let i = usize::try_from(frame_id - 1).map_err(|_| format!("no frame {frame_id}"))?;
        let f = snap
            .frames
            .get(i)
            .cloned()
            .ok_or_else(|| format!("no frame {frame_id}"))?;
        Ok((snap, i, f))
    }

    pub fn stack_trace(&mut self, a: StackTraceArguments) -> Result<Value, Fail> {
        super::adapter::thread(a.thread_id)?;
        let snap = self.snapshot()?;
        let session = &self.link()?.session;
        let start = a.start_frame.unwrap_or(0);
        let levels = match a.levels {
            Some(0) | None => usize::MAX,
            Some(n) => n,
        };
        let frames: Vec<StackFrameOut> = snap
            .frames
            .iter()
            .enumerate()
            .skip(start)
            .take(levels)
            .map(|(i, f)| StackFrameOut {
                id: i as i64 + 1,
                name: format!("{} [{}]", f.func_name, f.tier.name()),
                source: f.source.as_ref().map(|p| source_out(session, &p.file)),
                line: f.source.as_ref().map(|p| p.line).unwrap_or(0),
                column: f.source.as_ref().map(|p| p.column.max(1)).unwrap_or(0),
                instruction_pointer_reference: format!("{:#x}", f.offset),
                presentation_hint: match f.tier {
                    FrameTier::Debug => None,
                    _ => Some("subtle"),
                },
            })
            .collect();
        Ok(json!({"stackFrames": frames, "totalFrames": snap.frames.len()}))
    }

    fn reference(&mut self, r: VarRef) -> i64 {
        if let Some(i) = self.var_refs.iter().position(|x| *x == r) {
            return i as i64 + 1;
        }
        self.var_refs.push(r);
        self.var_refs.len() as i64
    }

    pub fn scopes(&mut self, a: ScopesArguments) -> Result<Value, Fail> {
        let (snap, i, f) = self.frame(a.frame_id)?;
        let vars = self
            .link()?
            .session
            .dwarf()
            .map(|d| d.variables_at(f.offset))
            .unwrap_or_default();
        let mut kinds = Vec::new();
        if vars.iter().any(|v| !v.is_param) {
            kinds.push((ScopeKind::Locals, "Locals", Some("locals")));
        }
        if vars.iter().any(|v| v.is_param) {
            kinds.push((ScopeKind::Arguments, "Arguments", Some("arguments")));
        }
        if f.locals.is_some() {
            kinds.push((ScopeKind::WasmLocals, "Wasm locals", None));
        }
        if f.stack.is_some() {
            kinds.push((ScopeKind::Stack, "Operand stack", None));
        }
        if i == 0 && snap.regs.is_some() {
            kinds.push((ScopeKind::Registers, "Registers", Some("registers")));
        }
        kinds.push((ScopeKind::Globals, "Globals", None));
        let scopes: Vec<ScopeOut> = kinds
            .into_iter()
            .map(|(kind, name, hint)| ScopeOut {
                name: name.to_string(),
                presentation_hint: hint,
                variables_reference: self.reference(VarRef::Scope { frame: i, kind }),
                expensive: false,
            })
            .collect();
        Ok(json!({ "scopes": scopes }))
    }

    pub fn variables(&mut self, a: VariablesArguments) -> Result<Value, Fail> {
        let r = usize::try_from(a.variables_reference - 1)
            .ok()
            .and_then(|i| self.var_refs.get(i).copied())
            .ok_or_else(|| {
                format!(
                    "no variables reference {} at this stop",
                    a.variables_reference
                )
            })?;
        let snap = self.snapshot()?;
        let leaf = |name: String, value: String, ty: String| VariableOut {
            name,
            value,
            ty: Some(ty),
            variables_reference: 0,
            memory_reference: None,
        };
        let vars: Vec<VariableOut> = match r {
            VarRef::RegGroup { xmm } => {
                let regs = snap.regs.as_ref().ok_or("no registers at this stop")?;
                if xmm {
                    XMM_NAMES
                        .iter()
                        .zip(regs.xmm)
                        .map(|(n, v)| {
                            let text = format_value(ValType::V128, v as u64, (v >> 64) as u64);
                            leaf(n.to_string(), text, "v128".into())
                        })
                        .collect()
                } else {
                    GPR_NAMES
                        .iter()
                        .zip(regs.gpr)
                        .map(|(n, v)| leaf(n.to_string(), format!("{v:#018x}"), "u64".into()))
                        .collect()
                }
            }
            VarRef::Scope { frame, kind } => {
                let f = snap.frames.get(frame).cloned().ok_or("the frame is gone")?;
                match kind {
                    ScopeKind::Locals | ScopeKind::Arguments => {
                        self.source_variables(frame, &f, kind == ScopeKind::Arguments)?
                    }
                    ScopeKind::WasmLocals => f
                        .locals
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            let value = if v.place == Place::Unavailable {
                                "<unavailable>".to_string()
                            } else {
                                format_value(v.ty, v.bits, v.hi)
                            };
                            leaf(
                                format!("$local{i}"),
                                value,
                                format!("{} @ {}", v.ty, v.place.describe()),
                            )
                        })
                        .collect(),
                    ScopeKind::Stack => f
                        .stack
                        .unwrap_or_default()
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            leaf(
                                format!("[{i}]"),
                                format_value(v.ty, v.bits, v.hi),
                                format!("{} @ {}", v.ty, v.place.describe()),
                            )
                        })
                        .collect(),
                    ScopeKind::Registers => {
                        let regs = snap.regs.as_ref().ok_or("no registers at this stop")?;
                        let gpr = self.reference(VarRef::RegGroup { xmm: false });
                        let xmm = self.reference(VarRef::RegGroup { xmm: true });
                        vec![
                            leaf("pc".into(), format!("{:#x}", regs.pc), "native pc".into()),
                            VariableOut {
                                name: "general purpose".into(),
                                value: format!("rsp = {:#x}", regs.gpr[4]),
                                ty: None,
                                variables_reference: gpr,
                                memory_reference: None,
                            },
                            VariableOut {
                                name: "xmm".into(),
                                value: "xmm0–xmm15".into(),
                                ty: None,
                                variables_reference: xmm,
                                memory_reference: None,
                            },
                        ]
                    }
                    ScopeKind::Globals => snap
                        .globals
                        .iter()
                        .map(|g| {
                            let name = match &g.name {
                                Some(n) => format!("$global{} ({n})", g.index),
                                None => format!("$global{}", g.index),
                            };
                            let m = if g.mutable { "mut " } else { "" };
                            leaf(
                                name,
                                format_value(g.ty, g.bits, g.hi),
                                format!("{m}{}", g.ty),
                            )
                        })
                        .collect(),
                }
            }
        };
        Ok(json!({ "variables": vars }))
    }

    /// DWARF variables of a frame, evaluated by the session's `print`.
    fn source_variables(
        &mut self,
        frame: usize,
        f: &Frame,
        params: bool,
    ) -> Result<Vec<VariableOut>, Fail> {
        let link = self.link()?;
        let vars = link
            .session
            .dwarf()
            .map(|d| d.variables_at(f.offset))
            .unwrap_or_default();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for v in vars.into_iter().filter(|v| v.is_param == params) {
            if !seen.insert(v.name.clone()) {
                continue; // shadowed by an inner scope
            }
            let value = match link.message(Command::Print {
                frame,
                expr: v.name.clone(),
            }) {
                Ok(m) => print_value(&m, &v.name, &v.ty.name),
                Err(e) => format!("<{e}>"),
            };
            out.push(VariableOut {
                name: v.name.clone(),
                value,
                ty: Some(v.ty.name.clone()),
                variables_reference: 0,
                memory_reference: None,
            });
        }
        Ok(out)
    }

    pub fn set_variable(&mut self, a: SetVariableArguments) -> Result<Value, Fail> {
        let r = usize::try_from(a.variables_reference - 1)
            .ok()
            .and_then(|i| self.var_refs.get(i).copied())
            .ok_or("no such variables reference at this stop")?;
        let (frame, kind) = match r {
            VarRef::Scope { frame, kind } => (frame, kind),
            VarRef::RegGroup { .. } => return Err("registers cannot be set".into()),
        };
        let name = a.name.split(' ').next().unwrap_or(&a.name).to_string();
        let cmd = match kind {
            // Source variables: the engine's `set var` (C assignment, DWARF types).
            ScopeKind::Locals | ScopeKind::Arguments => Command::Source {
                frame,
                request: SourceRequest::Assign(format!("{name} = {}", a.value)),
            },
            ScopeKind::WasmLocals | ScopeKind::Globals => {
                match console::parse(&format!("set {name}={}", a.value))? {
                    Parsed::Engine(Command::SetLocal { index, value, .. })
                        if kind == ScopeKind::WasmLocals =>
                    {
                        Command::SetLocal {
                            frame,
                            index,
                            value,
                        }
                    }
                    Parsed::Engine(c @ Command::SetGlobal { .. }) if kind == ScopeKind::Globals => {
                        c
                    }
                    _ => return Err(format!("cannot set `{}`", a.name)),
                }
            }
            ScopeKind::Stack | ScopeKind::Registers => {
                return Err("operand-stack values and registers cannot be set".into())
            }
        };
        let answer = self.link()?.message(cmd)?;
        // The session sends the refreshed pause right after its answer.
        for _ in 0..100 {
            match self
                .link()?
                .next_event(std::time::Duration::from_millis(10))
            {
                Some(wdb::debugger::Event::Paused(_)) => break,
                Some(ev) => self.session_event(ev),
                None => {}
            }
        }
        let snap = self.snapshot()?;
        let value = match kind {
            ScopeKind::Globals => {
                let i: usize = name.trim_start_matches("$global").parse().unwrap_or(0);
                snap.globals
                    .get(i)
                    .map(|g| format_value(g.ty, g.bits, g.hi))
            }
            ScopeKind::WasmLocals => {
                let i: usize = name.trim_start_matches("$local").parse().unwrap_or(0);
                snap.frames.get(frame).and_then(|f| {
                    f.locals
                        .as_ref()?
                        .get(i)
                        .map(|v| format_value(v.ty, v.bits, v.hi))
                })
            }
            // `name = value` as the engine printed it.
            _ => answer
                .strip_prefix(&format!("{name} = "))
                .map(str::to_string),
        };
        Ok(json!({ "value": value.unwrap_or(answer) }))
    }

    pub fn evaluate(&mut self, a: EvaluateArguments) -> Result<Value, Fail> {
        let expr = a.expression.trim().to_string();
        let frame = a
            .frame_id
            .map(|id| usize::try_from(id - 1).unwrap_or(0))
            .unwrap_or(0);
        if a.context.as_deref() == Some("repl") && console::parse(&expr).is_ok() {
            let text = self.console_line(&expr)?;
            return Ok(json!({"result": text, "variablesReference": 0}));
        }
        self.snapshot()?;
        let m = self.link()?.message(Command::Print {
            frame,
            expr: expr.clone(),
        })?;
        let (value, ty) = split_print(&m, &expr);
        let mut body = json!({"result": value, "variablesReference": 0});
        if let Some(t) = ty {
            body["type"] = json!(t);
        }
        Ok(body)
    }

    pub fn disassemble(&mut self, a: DisassembleArguments) -> Result<Value, Fail> {
        let base = parse_reference(&a.memory_reference)? as i64 + a.offset;
        let link = self.link()?;
        let session = &link.session;
        let count = usize::try_from(a.instruction_count).map_err(|_| "bad instructionCount")?;
        // Instructions of the function holding `base`, and its neighbours as needed.
        let func = u32::try_from(base)
            .ok()
            .and_then(|b| session.func_at_offset(b))
            .ok_or_else(|| format!("{base:#x} is not inside any function body"))?;
        let lines = |f: u32| -> Vec<(u32, String)> {
            session
                .disassemble(f)
                .into_iter()
                .filter_map(|l| Some((l.offset?, l.text.trim().to_string())))
                .collect()
        };
        let mut list = lines(func);
        let mut at = list
            .iter()
            .position(|(o, _)| *o as i64 >= base)
            .unwrap_or(list.len()) as i64;
        let want_start = at + a.instruction_offset;
        let (mut lo, mut hi) = (func, func);
        while want_start < 0 && lo > 0 {
            lo -= 1;
            let mut prev = lines(lo);
            if prev.is_empty() {
                continue;
            }
            at += prev.len() as i64;
            prev.append(&mut list);
            list = prev;
            if at + a.instruction_offset >= 0 {
                break;
            }
        }
        let start = at + a.instruction_offset;
        let funcs = session.functions().len() as u32;
        while start + count as i64 > list.len() as i64 && hi + 1 < funcs {
            hi += 1;
            list.extend(lines(hi));
        }
        let out: Vec<InstructionOut> = (0..count as i64)
            .map(|k| {
                let idx = start + k;
                match usize::try_from(idx).ok().and_then(|i| list.get(i)) {
                    Some((off, text)) => {
                        let pos = session.source_pos(*off);
                        InstructionOut {
                            address: format!("{off:#x}"),
                            instruction: text.clone(),
                            instruction_bytes: None,
                            location: pos.as_ref().map(|p| source_out(session, &p.file)),
                            line: pos.map(|p| p.line),
                            presentation_hint: None,
                        }
                    }
                    None => InstructionOut {
                        address: format!("{:#x}", base.max(0)),
                        instruction: "??".into(),
                        instruction_bytes: None,
                        location: None,
                        line: None,
                        presentation_hint: Some("invalid"),
                    },
                }
            })
            .collect();
        Ok(json!({ "instructions": out }))
    }

    pub fn read_memory(&mut self, a: ReadMemoryArguments) -> Result<Value, Fail> {
        let addr = parse_reference(&a.memory_reference)? as i64 + a.offset;
        let addr = u64::try_from(addr).map_err(|_| format!("address {addr} is negative"))?;
        let count = u64::try_from(a.count).map_err(|_| "count is negative")?;
        self.snapshot()?;
        let link = self.link()?;
        let size = link.memory_size().unwrap_or(0);
        let readable = size.saturating_sub(addr).min(count).min(MAX_READ);
        let bytes = if readable > 0 {
            link.read_memory(addr, readable as u32)?
        } else {
            Vec::new()
        };
        Ok(json!({
            "address": format!("{addr:#x}"),
            "data": base64_encode(&bytes),
            "unreadableBytes": count - bytes.len() as u64,
        }))
    }

    pub fn write_memory(&mut self, a: WriteMemoryArguments) -> Result<Value, Fail> {
        let addr = parse_reference(&a.memory_reference)? as i64 + a.offset;
        let addr = u64::try_from(addr).map_err(|_| format!("address {addr} is negative"))?;
        let bytes = base64_decode(&a.data)?;
        let n = bytes.len();
        self.snapshot()?;
        self.link()?.message(Command::WriteMemory { addr, bytes })?;
        Ok(json!({ "bytesWritten": n }))
    }
}

/// The value part of the session's `name = value (type)` answer.
fn print_value(message: &str, name: &str, ty: &str) -> String {
    if let Some(v) = strip_history(message) {
        return v.to_string();
    }
    let v = message
        .strip_prefix(&format!("{name} = "))
        .unwrap_or(message);
    v.strip_suffix(&format!(" ({ty})")).unwrap_or(v).to_string()
}

/// Splits `expr = value (type)` into value and type.
fn split_print(message: &str, expr: &str) -> (String, Option<String>) {
    if let Some(v) = strip_history(message) {
        return (v.to_string(), None);
    }
    let v = message
        .strip_prefix(&format!("{expr} = "))
        .unwrap_or(message);
    match (v.rfind(" ("), v.ends_with(')')) {
        (Some(i), true) => (v[..i].to_string(), Some(v[i + 2..v.len() - 1].to_string())),
        _ => (v.to_string(), None),
    }
}

/// The value of gdb's `$N = value` answer (`print` numbers its results), or
/// `None` for other answers.
fn strip_history(message: &str) -> Option<&str> {
    let rest = message.strip_prefix('$')?;
    let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 {
        return None;
    }
    rest[digits..].strip_prefix(" = ")
}
