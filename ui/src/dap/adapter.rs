//! The adapter: DAP requests in, debugger-session commands out; session
//! events in, DAP events out. It holds only protocol bookkeeping (which
//! breakpoint ids a client's breakpoint stands for, variable references of
//! the current stop, whether a resume is waiting for its stop). Inspection
//! requests (stack, scopes, variables, evaluate, memory, disassembly) are in
//! `inspect.rs`.

use super::types::*;
use crate::cli::parse_dirs;
use crate::link::Link;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;
use wdb::debugger::console::{self, Console, Parsed};
use wdb::debugger::{
    BreakAt, Command, Event, Outcome, OutputStream, RunState, Session, SessionConfig, StopReason,
};

/// What a variables reference stands for (valid until the program resumes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VarRef {
    Scope {
        frame: usize,
        kind: ScopeKind,
    },
    /// The general-purpose or the xmm registers (children of Registers).
    RegGroup {
        xmm: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Locals,
    Arguments,
    WasmLocals,
    Stack,
    Registers,
    Globals,
}

/// The exception filter that stops at traps.
const TRAPS_FILTER: &str = "traps";
/// The exception filter that stops where a wasm exception is thrown (the
/// console's `catch throw`).
const THROWS_FILTER: &str = "throws";

/// The failure of a request: its message goes back in the error response.
pub type Fail = String;

pub struct Adapter {
    out: Box<dyn Write + Send>,
    seq: i64,
    pub link: Option<Link>,
    pub console: Console,
    stop_on_entry: bool,
    configured: bool,
    /// A resume was sent; the next `Paused` is a stop to report.
    running: bool,
    restarting: bool,
    /// The resume came from the repl: tell the client with `continued`.
    repl_resumed: bool,
    ended: bool,
    source_bps: HashMap<String, Vec<u32>>,
    function_bps: Vec<u32>,
    instruction_bps: Vec<u32>,
    pub var_refs: Vec<VarRef>,
    /// Data ids handed out and the data breakpoints set (`data.rs`).
    pub data: super::data::DataBreakpoints,
    /// `WDB_DAP_LOG=FILE`: every message in (`->`) and out (`<-`), one a line.
    log: Option<std::fs::File>,
    /// The adapter is done (disconnect, or the session closed).
    pub done: bool,
}

fn args<T: DeserializeOwned>(req: &Value) -> Result<T, Fail> {
    let a = req.get("arguments").cloned().unwrap_or(json!({}));
    serde_json::from_value(a).map_err(|e| {
        format!(
            "invalid arguments for `{}`: {e}",
            req["command"].as_str().unwrap_or("?")
        )
    })
}

/// wdb's program has one thread, id 1.
pub fn thread(id: i64) -> Result<(), Fail> {
    if id == 1 {
        Ok(())
    } else {
        Err(format!("no thread {id} (the program has one thread, 1)"))
    }
}

/// `0x1a2` or `418`.
pub fn parse_reference(s: &str) -> Result<u64, Fail> {
    let t = s.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse(),
    };
    v.map_err(|_| format!("bad reference `{s}` (expected e.g. 0x1a2)"))
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

impl Adapter {
    pub fn new(out: Box<dyn Write + Send>) -> Adapter {
        Adapter {
            out,
            seq: 0,
            link: None,
            console: Console::new(),
            stop_on_entry: false,
            configured: false,
            running: false,
            restarting: false,
            repl_resumed: false,
            ended: false,
            source_bps: HashMap::new(),
            function_bps: Vec::new(),
            instruction_bps: Vec::new(),
            var_refs: Vec::new(),
            data: Default::default(),
            log: std::env::var_os("WDB_DAP_LOG").and_then(|p| std::fs::File::create(p).ok()),
            done: false,
        }
    }

    /// Appends one message to the `WDB_DAP_LOG` file, if there is one.
    pub fn log(&mut self, dir: &str, v: &Value) {
        if let Some(f) = &mut self.log {
            let _ = writeln!(f, "{dir} {v}");
        }
    }

    fn send(&mut self, mut v: Value) {
        self.seq += 1;
        v["seq"] = json!(self.seq);
        self.log("<-", &v);
        if super::wire::write_message(&mut self.out, &v).is_err() {
            // The client is gone.
            self.done = true;
        }
    }

    pub fn event(&mut self, name: &str, body: Value) {
        self.send(json!({"type": "event", "event": name, "body": body}));
    }

    fn respond(&mut self, req_seq: i64, command: &str, result: Result<Value, Fail>) {
        let v = match result {
            Ok(body) => json!({"type": "response", "request_seq": req_seq,
                "success": true, "command": command, "body": body}),
            Err(message) => json!({"type": "response", "request_seq": req_seq,
                "success": false, "command": command, "message": message,
                "body": {"error": {"id": 1, "format": message}}}),
        };
        self.send(v);
    }

    /// A body that is not JSON: answered with an error, the session goes on.
    pub fn malformed(&mut self, why: String) {
        self.respond(0, "unknown", Err(why));
    }

    pub fn link(&mut self) -> Result<&mut Link, Fail> {
        self.link
            .as_mut()
            .ok_or_else(|| "no program yet: send `launch` first".to_string())
    }

    pub fn request(&mut self, req: Value) {
        self.log("->", &req);
        let seq = req["seq"].as_i64().unwrap_or(0);
        let command = req["command"].as_str().unwrap_or("").to_string();
        if req["type"] != "request" || command.is_empty() {
            self.respond(
                seq,
                if command.is_empty() {
                    "unknown"
                } else {
                    &command
                },
                Err("expected a request: {\"type\":\"request\",\"command\":...}".into()),
            );
            return;
        }
        let result = self.dispatch(&command, &req);
        self.respond(seq, &command, result);
        match command.as_str() {
            "launch" if self.link.is_some() => self.event("initialized", json!({})),
            "disconnect" => self.done = true,
            _ => {}
        }
    }

    fn dispatch(&mut self, command: &str, req: &Value) -> Result<Value, Fail> {
        match command {
            "initialize" => {
                let a: InitializeArguments = args(req)?;
                if !a.lines_start_at1 || !a.columns_start_at1 {
                    return Err("wdb counts lines and columns from 1".into());
                }
                Ok(serde_json::to_value(capabilities()).unwrap_or_default())
            }
            "launch" => self.launch(args(req)?),
            "setBreakpoints" => self.set_breakpoints(args(req)?),
            "setFunctionBreakpoints" => self.set_function_breakpoints(args(req)?),
            "setInstructionBreakpoints" => self.set_instruction_breakpoints(args(req)?),
            "setExceptionBreakpoints" => self.set_exception_breakpoints(args(req)?),
            "dataBreakpointInfo" => self.data_breakpoint_info(args(req)?),
            "setDataBreakpoints" => self.set_data_breakpoints(args(req)?),
            "exceptionInfo" => {
                let a: ThreadArguments = args(req)?;
                thread(a.thread_id)?;
                let snap = self.link()?.snapshot.clone();
                let paused = self.link()?.state() == RunState::Paused;
                match snap.as_ref().map(|s| &s.reason) {
                    Some(StopReason::Trap(m)) if paused => {
                        Ok(json!({"exceptionId": "trap", "description": m, "breakMode": "always"}))
                    }
                    Some(StopReason::Throw(t)) if paused => Ok(json!({
                        "exceptionId": "throw",
                        "description": t.lines().join("\n"),
                        "breakMode": "always",
                    })),
                    _ => Err("the program is not stopped at a trap or a throw".into()),
                }
            }
            "configurationDone" => self.configuration_done(),
            "threads" => Ok(json!({"threads": [{"id": 1, "name": "main"}]})),
            "continue" => {
                let a: ThreadArguments = args(req)?;
                thread(a.thread_id)?;
                self.resume(Command::Continue)?;
                Ok(json!({"allThreadsContinued": true}))
            }
            "next" | "stepIn" | "stepOut" => {
                let a: StepArguments = args(req)?;
                thread(a.thread_id)?;
                let instruction = a.granularity.as_deref() == Some("instruction");
                let cmd = match (command, instruction) {
                    ("next", false) => Command::NextLine,
                    ("next", true) => Command::NextInstruction,
                    ("stepIn", false) => Command::StepLine,
                    ("stepIn", true) => Command::StepInstruction,
                    _ => Command::Finish,
                };
                self.resume(cmd)?;
                Ok(json!({}))
            }
            "pause" => {
                let a: ThreadArguments = args(req)?;
                thread(a.thread_id)?;
                let link = self.link()?;
                if link.state() != RunState::Running {
                    return Err("the program is not running".into());
                }
                link.session.send(Command::Pause);
                self.running = true;
                Ok(json!({}))
            }
            "stackTrace" => self.stack_trace(args(req)?),
            "scopes" => self.scopes(args(req)?),
            "variables" => self.variables(args(req)?),
            "setVariable" => self.set_variable(args(req)?),
            "evaluate" => self.evaluate(args(req)?),
            "disassemble" => self.disassemble(args(req)?),
            "readMemory" => self.read_memory(args(req)?),
            "writeMemory" => self.write_memory(args(req)?),
            "restart" => {
                let link = self.link()?;
                link.session.send(Command::Restart);
                self.restarting = true;
                self.running = true;
                self.ended = false;
                self.var_refs.clear();
                Ok(json!({}))
            }
            "terminate" => {
                let link = self.link()?;
                link.session.send(Command::Quit);
                Ok(json!({}))
            }
            "disconnect" => {
                let _a: DisconnectArguments = args(req)?;
                if let Some(link) = &self.link {
                    link.session.send(Command::Quit);
                }
                Ok(json!({}))
            }
            other => Err(format!("wdb does not support the `{other}` request")),
        }
    }

    fn launch(&mut self, a: LaunchArguments) -> Result<Value, Fail> {
        if self.link.is_some() {
            return Err("already launched (use `restart`)".into());
        }
        if let Some(cwd) = &a.cwd {
            std::env::set_current_dir(cwd).map_err(|e| format!("cannot use cwd {cwd}: {e}"))?;
        }
        let run = match a.tier.as_deref() {
            None | Some("debug") => false,
            Some("dynamic") => true,
            Some(t) => return Err(format!("unknown tier `{t}` (debug or dynamic)")),
        };
        let wasm =
            std::fs::read(&a.program).map_err(|e| format!("cannot read {}: {e}", a.program))?;
        let cfg = SessionConfig {
            name: a.program.clone(),
            wasm,
            invoke: a.invoke.clone(),
            args: a.args.clone(),
            dirs: parse_dirs(&a.dirs)?,
            env: a.env.into_iter().collect(),
            run: run || a.no_debug,
            ..SessionConfig::default()
        };
        let session = Session::start(cfg).map_err(|e| e.to_string())?;
        self.link = Some(Link::new(session));
        self.stop_on_entry = a.stop_on_entry;
        self.running = run || a.no_debug;
        Ok(json!({}))
    }

    /// Waits for the first pause at the entry (the program thread reports it
    /// right after the start) or for the program's end.
    fn wait_first_stop(&mut self) -> Result<(), Fail> {
        for _ in 0..2000 {
            let link = self.link()?;
            if link.snapshot.is_some() || link.outcome.is_some() {
                return Ok(());
            }
            if let Some(ev) = link.next_event(Duration::from_millis(10)) {
                self.session_event(ev);
            }
        }
        Err("the program did not stop at its entry".into())
    }

    fn configuration_done(&mut self) -> Result<Value, Fail> {
        if self.configured {
            return Err("configurationDone was sent already".into());
        }
        self.link()?;
        self.configured = true;
        if self.running {
            return Ok(json!({}));
        }
        self.wait_first_stop()?;
        if self.link()?.outcome.is_some() {
            return Ok(json!({}));
        }
        if self.stop_on_entry {
            self.stopped(StopReason::Entry);
        } else {
            self.resume(Command::Continue)?;
        }
        Ok(json!({}))
    }

    fn resume(&mut self, cmd: Command) -> Result<(), Fail> {
        let link = self.link()?;
        match link.state() {
            RunState::Running => return Err("the program is running".into()),
            RunState::Ended => return Err("the program has ended (use `restart`)".into()),
            RunState::Paused => {}
        }
        link.session.send(cmd);
        self.running = true;
        self.var_refs.clear();
        Ok(())
    }

    fn stopped(&mut self, reason: StopReason) {
        self.var_refs.clear();
        let (r, ids) = match reason {
            StopReason::Entry => ("entry", vec![]),
            StopReason::Breakpoint(id) => ("breakpoint", vec![id]),
            StopReason::Step | StopReason::Finish => ("step", vec![]),
            StopReason::Pause => ("pause", vec![]),
            StopReason::Watchpoint(ref w) => ("data breakpoint", vec![w.id]),
            StopReason::Trap(_) | StopReason::Throw(_) => ("exception", vec![]),
        };
        let (text, description) = match &reason {
            StopReason::Trap(m) => (Some(m.clone()), reason.describe()),
            StopReason::Throw(t) => (Some(t.lines().join("\n")), reason.describe()),
            StopReason::Watchpoint(w) => {
                let (description, text) = self.data_stop_text(w);
                (Some(text), description)
            }
            _ => (None, reason.describe()),
        };
        let body = StoppedEvent {
            reason: r,
            text,
            description: Some(description),
            thread_id: 1,
            all_threads_stopped: true,
            hit_breakpoint_ids: ids,
        };
        self.event("stopped", serde_json::to_value(body).unwrap_or_default());
    }

    /// One event from the session.
    pub fn session_event(&mut self, ev: Event) {
        // The console keeps its own view of the last pause (for repl commands).
        if matches!(ev, Event::Paused(_) | Event::Ended { .. } | Event::Resumed) {
            let session = self.link.as_ref().map(|l| &l.session);
            if let Some(s) = session {
                self.console.render_event(s, &ev);
            }
        }
        match ev {
            Event::Output { stream, data } => {
                let category = match stream {
                    OutputStream::Stdout => "stdout",
                    OutputStream::Stderr => "stderr",
                };
                let text = String::from_utf8_lossy(&data).into_owned();
                self.event("output", json!({"category": category, "output": text}));
            }
            Event::Paused(snap) => {
                if !self.running {
                    return; // the refreshed pause after a `set`
                }
                if self.restarting {
                    self.restarting = false;
                    if !self.stop_on_entry {
                        if let Some(link) = &self.link {
                            link.session.send(Command::Continue);
                        }
                        return;
                    }
                }
                self.running = false;
                self.stopped(snap.reason.clone());
            }
            Event::Resumed if std::mem::take(&mut self.repl_resumed) => {
                self.event(
                    "continued",
                    json!({"threadId": 1, "allThreadsContinued": true}),
                );
            }
            Event::Resumed => {}
            Event::Ended { outcome, .. } => {
                if self.restarting && outcome == Outcome::Killed {
                    return;
                }
                self.running = false;
                if self.ended {
                    return;
                }
                self.ended = true;
                let code = match &outcome {
                    Outcome::Exited(c) => *c as i64,
                    Outcome::Returned(values) => {
                        let text = format!("returned: {}\n", values.join(", "));
                        self.event("output", json!({"category": "console", "output": text}));
                        0
                    }
                    Outcome::Trapped(m) => {
                        let text = format!("{m}\n");
                        self.event("output", json!({"category": "stderr", "output": text}));
                        134
                    }
                    Outcome::Killed => 137,
                };
                self.event("exited", json!({ "exitCode": code }));
                self.event("terminated", json!({}));
            }
            // The session is over (after `terminate`); the client still
            // sends `disconnect`, or goes away.
            _ => {}
        }
    }

    /// Deletes breakpoints by id (those already gone are skipped).
    fn delete(&mut self, ids: Vec<u32>) -> Result<(), Fail> {
        let link = self.link()?;
        let live: Vec<u32> = link.session.breakpoints().iter().map(|b| b.id).collect();
        for id in ids.into_iter().filter(|i| live.contains(i)) {
            link.ask(Command::Delete(Some(id)), |e| {
                matches!(e, Event::Breakpoints(_))
            })?;
        }
        Ok(())
    }

    /// Sets one breakpoint: the ids the session gave it, or why not.
    fn add(&mut self, cmd: Command) -> Result<Vec<u32>, Fail> {
        let link = self.link()?;
        let before: Vec<u32> = link.session.breakpoints().iter().map(|b| b.id).collect();
        link.ask(cmd, |e| matches!(e, Event::Breakpoints(_)))?;
        Ok(link
            .session
            .breakpoints()
            .iter()
            .map(|b| b.id)
            .filter(|i| !before.contains(i))
            .collect())
    }

    fn set_breakpoints(&mut self, a: SetBreakpointsArguments) -> Result<Value, Fail> {
        self.link()?;
        let path = a
            .source
            .path
            .clone()
            .or(a.source.name.clone())
            .ok_or("setBreakpoints needs source.path")?;
        let old = self.source_bps.remove(&path).unwrap_or_default();
        self.delete(old)?;
        let file = file_name(&path).to_string();
        let mut ids_all = Vec::new();
        let mut out = Vec::new();
        for bp in &a.breakpoints {
            let location = format!("{file}:{}", bp.line);
            let cmd = match &bp.condition {
                Some(c) if !c.trim().is_empty() => {
                    match console::parse(&format!("break {location} if {c}")) {
                        Ok(Parsed::Engine(cmd)) => Ok(cmd),
                        Ok(_) => Err(format!("bad condition `{c}`")),
                        Err(e) => Err(e),
                    }
                }
                _ => Ok(Command::Break {
                    at: BreakAt::Line {
                        file: file.clone(),
                        line: bp.line,
                    },
                    condition: None,
                }),
            };
            let result = cmd.and_then(|c| self.add(c));
            let source = SourceOut {
                name: file.clone(),
                path: Some(path.clone()),
            };
            out.push(match result {
                Ok(ids) => {
                    ids_all.extend(&ids);
                    BreakpointOut {
                        id: ids.first().copied(),
                        verified: !ids.is_empty(),
                        message: None,
                        source: Some(source),
                        line: Some(bp.line),
                        instruction_reference: None,
                    }
                }
                Err(e) => BreakpointOut {
                    id: None,
                    verified: false,
                    message: Some(e),
                    source: Some(source),
                    line: Some(bp.line),
                    instruction_reference: None,
                },
            });
        }
        self.source_bps.insert(path, ids_all);
        Ok(json!({ "breakpoints": out }))
    }

    /// The filters: `traps`, stop before an instruction that traps;
    /// `throws`, stop where an exception is thrown.
    fn set_exception_breakpoints(
        &mut self,
        a: SetExceptionBreakpointsArguments,
    ) -> Result<Value, Fail> {
        let link = self.link()?;
        let (mut traps, mut throws) = (false, false);
        let mut out = Vec::new();
        for f in &a.filters {
            if f == TRAPS_FILTER {
                traps = true;
                out.push(json!({"verified": true}));
            } else if f == THROWS_FILTER {
                throws = true;
                out.push(json!({"verified": true}));
            } else {
                out.push(json!({"verified": false,
                    "message": format!("unknown filter `{f}` (wdb has `{TRAPS_FILTER}` and `{THROWS_FILTER}`)")}));
            }
        }
        link.message(Command::StopAtTraps(traps))?;
        link.message(Command::CatchThrow(throws))?;
        Ok(json!({ "breakpoints": out }))
    }

    fn set_function_breakpoints(
        &mut self,
        a: SetFunctionBreakpointsArguments,
    ) -> Result<Value, Fail> {
        self.link()?;
        let old = std::mem::take(&mut self.function_bps);
        self.delete(old)?;
        let mut out = Vec::new();
        for bp in &a.breakpoints {
            let r = self.add(Command::Break {
                at: BreakAt::FunctionName(bp.name.clone()),
                condition: None,
            });
            out.push(self.breakpoint_out(r, true));
        }
        Ok(json!({ "breakpoints": out }))
    }

    fn set_instruction_breakpoints(
        &mut self,
        a: SetInstructionBreakpointsArguments,
    ) -> Result<Value, Fail> {
        self.link()?;
        let old = std::mem::take(&mut self.instruction_bps);
        self.delete(old)?;
        let mut out = Vec::new();
        for bp in &a.breakpoints {
            let r = parse_reference(&bp.instruction_reference).and_then(|base| {
                let off = (base as i64 + bp.offset) as u64;
                let off =
                    u32::try_from(off).map_err(|_| format!("offset {off:#x} is too large"))?;
                self.add(Command::Break {
                    at: BreakAt::Offset(off),
                    condition: None,
                })
            });
            out.push(self.breakpoint_out(r, false));
        }
        Ok(json!({ "breakpoints": out }))
    }

    /// A function or instruction breakpoint's reply (its ids are kept).
    fn breakpoint_out(&mut self, r: Result<Vec<u32>, Fail>, function: bool) -> BreakpointOut {
        match r {
            Ok(ids) => {
                let first = ids.first().copied();
                if function {
                    self.function_bps.extend(&ids);
                } else {
                    self.instruction_bps.extend(&ids);
                }
                let bp = first.and_then(|id| {
                    self.link
                        .as_ref()?
                        .session
                        .breakpoints()
                        .into_iter()
                        .find(|b| b.id == id)
                });
                let pos = bp
                    .as_ref()
                    .and_then(|b| self.link.as_ref()?.session.source_pos(b.offset));
                BreakpointOut {
                    id: first,
                    verified: first.is_some(),
                    message: None,
                    source: pos.as_ref().and_then(|p| {
                        Some(super::inspect::source_out(
                            &self.link.as_ref()?.session,
                            &p.file,
                        ))
                    }),
                    line: pos.map(|p| p.line),
                    instruction_reference: bp.map(|b| format!("{:#x}", b.offset)),
                }
            }
            Err(e) => BreakpointOut {
                id: None,
                verified: false,
                message: Some(e),
                source: None,
                line: None,
                instruction_reference: None,
            },
        }
    }

    /// Runs a console line for the repl: its text, waiting for its answer.
    pub fn console_line(&mut self, line: &str) -> Result<String, Fail> {
        use wdb::debugger::console::Wait;
        let link = self
            .link
            .as_mut()
            .ok_or("no program yet: send `launch` first")?;
        let (mut lines, wait) = self.console.execute(&link.session, line);
        let limit = match wait {
            Wait::Nothing => Duration::from_millis(30),
            Wait::Sleep(ms) => Duration::from_millis(ms),
            Wait::Answer | Wait::Profile => Duration::from_secs(30),
            Wait::ModeChange => Duration::from_secs(600),
            Wait::Stop | Wait::Closed => Duration::ZERO,
        };
        if wait == Wait::Stop {
            self.running = true;
            self.repl_resumed = true;
            self.var_refs.clear();
        }
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            let Some(link) = self.link.as_mut() else {
                break;
            };
            let Some(ev) = link.next_event(Duration::from_millis(10)) else {
                continue;
            };
            let answer = matches!(
                (&ev, wait),
                (
                    Event::Memory { .. } | Event::Message(_) | Event::Error(_),
                    Wait::Answer
                ) | (
                    Event::ModeChanged { .. } | Event::Error(_),
                    Wait::ModeChange
                ) | (Event::Profile(_) | Event::Error(_), Wait::Profile)
            );
            match &ev {
                Event::Message(_)
                | Event::Error(_)
                | Event::Memory { .. }
                | Event::Profile(_)
                | Event::ModeChanged { .. }
                | Event::Breakpoints(_) => {
                    if let Some(l) = self.link.as_ref() {
                        lines.extend(self.console.render_event(&l.session, &ev));
                    }
                }
                _ => self.session_event(ev.clone()),
            }
            if answer {
                break;
            }
        }
        Ok(lines.join("\n"))
    }
}

fn capabilities() -> Capabilities {
    Capabilities {
        supports_configuration_done_request: true,
        supports_function_breakpoints: true,
        supports_conditional_breakpoints: true,
        supports_evaluate_for_hovers: true,
        supports_set_variable: true,
        supports_restart_request: true,
        supports_terminate_request: true,
        supports_stepping_granularity: true,
        supports_instruction_breakpoints: true,
        supports_disassemble_request: true,
        supports_read_memory_request: true,
        supports_write_memory_request: true,
        supports_value_formatting_options: false,
        supports_exception_info_request: true,
        supports_data_breakpoints: true,
        supports_data_breakpoint_bytes: true,
        exception_breakpoint_filters: vec![
            ExceptionBreakpointsFilter {
                filter: TRAPS_FILTER,
                label: "Traps",
                description: "Stop before an instruction that traps (out-of-bounds access, \
                              division by zero, unreachable, ...). While on, every instruction \
                              is checked before it runs, so the program runs slower.",
                default: false,
            },
            ExceptionBreakpointsFilter {
                filter: THROWS_FILTER,
                label: "Thrown exceptions",
                description: "Stop where a wasm exception is thrown (every C++ throw and \
                              rethrow), before any frame unwinds, as `catch throw` does.",
                default: false,
            },
        ],
    }
}
