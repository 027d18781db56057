//! Data breakpoints of the adapter: `dataBreakpointInfo` asks the session
//! where a watchpoint on a variable, an expression or an address would
//! watch (the engine's `SourceRequest::WatchTarget`), `setDataBreakpoints`
//! replaces the client's set with the session's watchpoints
//! (`watch`/`rwatch`/`awatch` of that place), and a watchpoint stop becomes
//! a `stopped` event with the old and new values. The adapter keeps only
//! the ids it handed out and the watchpoints it set.

use super::adapter::{parse_reference, Adapter, Fail, ScopeKind, VarRef};
use super::types::*;
use serde_json::{json, Value};
use wdb::debugger::{Command, Event, SourceRequest, WatchKind, WatchStop};

/// The access types a data breakpoint offers, as DAP names them.
const ACCESS_TYPES: [&str; 3] = ["write", "read", "readWrite"];

/// The data ids handed out (with what the client called each) and the
/// watchpoints of the client's current set.
#[derive(Debug, Clone, Default)]
pub struct DataBreakpoints {
    /// dataId (an expression for the bytes that means the same in every
    /// frame, `*(int *)0x10fec`) -> what the client called it (`sum`).
    issued: Vec<(String, String)>,
    /// Watchpoint ids of the current set.
    set: Vec<u32>,
}

impl DataBreakpoints {
    fn label(&self, data_id: &str) -> Option<&str> {
        self.issued
            .iter()
            .find(|(id, _)| id == data_id)
            .map(|(_, l)| l.as_str())
    }
}

fn kind_of(access: Option<&str>) -> Result<WatchKind, Fail> {
    match access.unwrap_or("write") {
        "write" => Ok(WatchKind::Write),
        "read" => Ok(WatchKind::Read),
        "readWrite" => Ok(WatchKind::Access),
        other => Err(format!(
            "unknown accessType `{other}` (write, read or readWrite)"
        )),
    }
}

/// The unsigned C type of `bytes` bytes, for a data breakpoint on an address.
fn int_type(bytes: i64) -> Result<&'static str, String> {
    Ok(match bytes {
        1 => "unsigned char",
        2 => "unsigned short",
        4 => "unsigned int",
        8 => "unsigned long long",
        _ => {
            return Err(format!(
                "wdb watches 1, 2, 4 or 8 bytes at an address, not {bytes}"
            ))
        }
    })
}

/// A `dataBreakpointInfo` answer for something that cannot be watched.
fn unavailable(why: impl Into<String>) -> Value {
    json!({"dataId": null, "description": why.into()})
}

impl Adapter {
    pub fn data_breakpoint_info(&mut self, a: DataBreakpointInfoArguments) -> Result<Value, Fail> {
        let snap = self.snapshot()?;
        let frame_of = |id: Option<i64>| -> Result<usize, Fail> {
            let f = id.unwrap_or(1);
            usize::try_from(f - 1)
                .ok()
                .filter(|i| *i < snap.frames.len())
                .ok_or_else(|| format!("no frame {f}"))
        };
        // (frame, expression for the engine, the client's name for it)
        let (frame, expr, label) = match a.variables_reference.filter(|r| *r != 0) {
            _ if a.as_address => {
                let addr = parse_reference(&a.name)?;
                let bytes = a.bytes.unwrap_or(4);
                let ty = match int_type(bytes) {
                    Ok(t) => t,
                    Err(e) => return Ok(unavailable(e)),
                };
                let label = format!("{bytes} bytes at {addr:#x}");
                (0, format!("*({ty} *){addr:#x}"), label)
            }
            None => (frame_of(a.frame_id)?, a.name.clone(), a.name.clone()),
            Some(r) => {
                let scope = usize::try_from(r - 1)
                    .ok()
                    .and_then(|i| self.var_refs.get(i).copied())
                    .ok_or_else(|| format!("no variables reference {r} at this stop"))?;
                // `$local3`, `$global0 (__stack_pointer)`: the first word names it.
                let word = a.name.split(' ').next().unwrap_or(&a.name).to_string();
                match scope {
                    VarRef::Scope {
                        frame,
                        kind: ScopeKind::Locals | ScopeKind::Arguments | ScopeKind::WasmLocals,
                    } => (frame, word, a.name.clone()),
                    VarRef::Scope {
                        kind: ScopeKind::Globals,
                        ..
                    } => (0, word, a.name.clone()),
                    VarRef::Scope {
                        kind: ScopeKind::Stack,
                        ..
                    } => {
                        return Ok(unavailable(
                            "operand-stack values are not in linear memory; only linear memory can be watched",
                        ))
                    }
                    VarRef::Scope {
                        kind: ScopeKind::Registers,
                        ..
                    }
                    | VarRef::RegGroup { .. } => {
                        return Ok(unavailable(
                            "machine registers are not in linear memory; only linear memory can be watched",
                        ))
                    }
                }
            }
        };
        let answer = self.link()?.ask(
            Command::Source {
                frame,
                request: SourceRequest::WatchTarget(expr),
            },
            |e| matches!(e, Event::WatchTarget(_)),
        );
        let t = match answer {
            Ok(Event::WatchTarget(t)) => t,
            Ok(_) => return Err("unexpected answer".into()),
            Err(why) => return Ok(unavailable(why)),
        };
        if self.data.label(&t.location).is_none() {
            self.data.issued.push((t.location.clone(), label.clone()));
        }
        let description = if a.as_address {
            label
        } else {
            format!("{label} ({}, {} bytes at {:#x})", t.ty, t.len, t.addr)
        };
        Ok(json!({
            "dataId": t.location,
            "description": description,
            "accessTypes": ACCESS_TYPES,
            "canPersist": false,
        }))
    }

    /// Replaces the whole set, as DAP asks. A request naming a data id this
    /// adapter did not hand out, or an unknown access type, is refused as a
    /// whole and the set stays as it was.
    pub fn set_data_breakpoints(&mut self, a: SetDataBreakpointsArguments) -> Result<Value, Fail> {
        let mut wanted = Vec::new();
        for bp in &a.breakpoints {
            if self.data.label(&bp.data_id).is_none() {
                return Err(format!(
                    "unknown dataId `{}` (ask `dataBreakpointInfo` for one)",
                    bp.data_id
                ));
            }
            wanted.push((bp, kind_of(bp.access_type.as_deref())?));
        }
        let old = self.data.set.clone();
        let link = self.link()?;
        if link.state() == wdb::debugger::RunState::Running {
            return Err("the program is running; pause it to change data breakpoints".into());
        }
        let live: Vec<u32> = link.session.watchpoints().iter().map(|w| w.id).collect();
        for id in old {
            if live.contains(&id) {
                link.ask(Command::Delete(Some(id)), |e| {
                    matches!(e, Event::Message(_))
                })?;
            }
        }
        self.data.set.clear();
        let mut out = Vec::new();
        for (bp, kind) in wanted {
            let extra = [&bp.condition, &bp.hit_condition]
                .into_iter()
                .flatten()
                .any(|c| !c.trim().is_empty());
            if extra {
                out.push(json!({"verified": false,
                    "message": "wdb's data breakpoints take no condition or hit count"}));
                continue;
            }
            let link = self.link()?;
            let before: Vec<u32> = link.session.watchpoints().iter().map(|w| w.id).collect();
            let r = link.message(Command::Watch {
                frame: 0,
                kind,
                expr: bp.data_id.clone(),
            });
            let id = link
                .session
                .watchpoints()
                .iter()
                .map(|w| w.id)
                .find(|i| !before.contains(i));
            match (r, id) {
                (Ok(_), Some(id)) => {
                    self.data.set.push(id);
                    out.push(json!({"id": id, "verified": true}));
                }
                (Err(e), _) => out.push(json!({"verified": false, "message": e})),
                (Ok(m), None) => out.push(json!({"verified": false, "message": m})),
            }
        }
        Ok(json!({ "breakpoints": out }))
    }

    /// The `description` and `text` of a stop at a watchpoint: gdb's lines
    /// under the name the client gave the data, and the values in one line.
    pub fn data_stop_text(&self, w: &WatchStop) -> (String, String) {
        let mut named = w.clone();
        if let Some(l) = self.data.label(&w.expr) {
            named.expr = l.to_string();
        }
        let values = match &w.old {
            Some(old) => format!("Old value = {old}, New value = {}", w.value),
            None => format!("Value = {}", w.value),
        };
        let description = format!("data breakpoint {} ({}): {values}", w.id, named.expr);
        (description, named.lines().join("\n"))
    }
}
