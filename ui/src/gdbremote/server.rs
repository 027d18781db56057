//! The gdb-remote packet handler: turns LLDB's packets (its wasm process
//! plugin's set, see `mod.rs`) into debugger-session commands and the
//! session's events into stop replies. It keeps no debugger state of its own
//! beyond what the protocol needs: the ack mode, which breakpoint ids stand
//! for an address, and whether a resume is waiting for its stop.

mod watch;

use super::addr::WasmAddr;
use super::packet::{from_hex, parse_hex_u64, to_hex};
use crate::link::Link;
use std::collections::HashMap;
use std::io::Write;
use wdb::debugger::{
    BreakAt, Command, Event, Frame, FrameTier, Outcome, RunState, Snapshot, StopReason,
};
use wdb::TrapCode;

const TRIPLE: &str = "wasm32-unknown-unknown-wasm";
/// Largest packet we take (hex): LLDB sizes its memory reads by it.
const PACKET_SIZE: usize = 0x20000;
const SIGINT: u8 = 2;
const SIGILL: u8 = 4;
const SIGTRAP: u8 = 5;
const SIGFPE: u8 = 8;
const SIGSEGV: u8 = 11;
/// SIGABRT: what a wasm trap ends the program with (exit status 134).
const SIGABRT: u8 = 6;
const SIGKILL: u8 = 9;

/// What the main loop should do after a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum After {
    Continue,
    /// `k`: the program is killed; close the connection.
    Close,
    /// `D`: the program runs on without the client.
    Detached,
}

pub struct Server<W: Write> {
    pub link: Link,
    out: W,
    /// Acknowledge packets with `+` (until `QStartNoAckMode`).
    ack: bool,
    /// A resume (or an interrupt) is waiting for the program to stop.
    running: bool,
    interrupted: bool,
    /// Breakpoint ids the session gave each code offset set with `Z0`.
    breakpoints: HashMap<u32, Vec<u32>>,
    /// Module path reported in the library list.
    path: String,
    last: Vec<u8>,
    /// `QEnableErrorStrings`: error replies carry their text.
    error_strings: bool,
    next_offsets: HashMap<u32, Vec<u32>>,
}

fn le_bytes(bits: u64, wide: bool) -> Vec<u8> {
    let b = bits.to_le_bytes();
    if wide {
        b.to_vec()
    } else {
        b[..4].to_vec()
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl<W: Write> Server<W> {
    pub fn new(link: Link, out: W, path: String) -> Server<W> {
        Server {
            link,
            out,
            ack: true,
            running: false,
            interrupted: false,
            breakpoints: HashMap::new(),
            path,
            last: Vec::new(),
            error_strings: false,
            next_offsets: HashMap::new(),
        }
    }

    pub fn is_running(&self) -> bool {
        self.running
    }

    fn send(&mut self, payload: &[u8]) {
        let framed = super::packet::frame(payload);
        let _ = self.out.write_all(&framed);
        let _ = self.out.flush();
        self.last = framed;
    }

    fn send_str(&mut self, payload: &str) {
        self.send(payload.as_bytes());
    }

    fn raw(&mut self, bytes: &[u8]) {
        let _ = self.out.write_all(bytes);
        let _ = self.out.flush();
    }

    /// A client unit: packet, ack, interrupt.
    pub fn input(&mut self, inp: super::packet::Input) -> After {
        use super::packet::Input;
        match inp {
            Input::Ack => After::Continue,
            Input::Nak => {
                let last = self.last.clone();
                self.raw(&last);
                After::Continue
            }
            Input::BadChecksum => {
                if self.ack {
                    self.raw(b"-");
                } else {
                    self.send_str("E01");
                }
                After::Continue
            }
            Input::Interrupt => {
                if self.running && !self.interrupted && self.link.state() == RunState::Running {
                    self.interrupted = true;
                    self.link.session.send(Command::Pause);
                }
                After::Continue
            }
            Input::Packet(p) => {
                if self.ack {
                    self.raw(b"+");
                }
                self.packet(&p)
            }
        }
    }

    /// An event from the session (while waiting for a stop, or stray output).
    pub fn event(&mut self, ev: Event) {
        match ev {
            Event::Output { data, .. } => {
                if self.running {
                    let payload = format!("O{}", to_hex(&data));
                    self.send_str(&payload);
                } else {
                    let mut o = std::io::stdout().lock();
                    let _ = o.write_all(&data);
                    let _ = o.flush();
                }
            }
            Event::Paused(snap) if self.running => {
                self.running = false;
                let reply = self.stop_reply(&snap);
                self.interrupted = false;
                self.send_str(&reply);
            }
            Event::Ended { outcome, .. } if self.running => {
                self.running = false;
                self.interrupted = false;
                let reply = exit_reply(&outcome);
                self.send_str(&reply);
            }
            _ => {}
        }
    }

    fn stop_reply(&self, snap: &Snapshot) -> String {
        let pc = snap
            .frames
            .first()
            .map(|f| WasmAddr::code(f.offset).raw())
            .unwrap_or(0);
        let field;
        let (signal, reason) = match &snap.reason {
            StopReason::Breakpoint(_) => (SIGTRAP, "reason:breakpoint;"),
            StopReason::Step | StopReason::Finish => (SIGTRAP, "reason:trace;"),
            StopReason::Pause if self.interrupted => (SIGINT, "reason:signal;"),
            StopReason::Pause | StopReason::Entry | StopReason::Throw(_) => (SIGTRAP, ""),
            StopReason::Watchpoint(w) => {
                field = watch::stop_field(w);
                (SIGTRAP, field.as_str())
            }
            StopReason::Trap(m) => {
                // The signal a native program would get for this fault.
                let signal = match (1..=14)
                    .filter_map(TrapCode::from_u8)
                    .find(|c| c.message() == m)
                {
                    Some(TrapCode::Unreachable) => SIGILL,
                    Some(
                        TrapCode::IntegerDivideByZero
                        | TrapCode::IntegerOverflow
                        | TrapCode::BadConversionToInteger,
                    ) => SIGFPE,
                    Some(_) | None => SIGSEGV,
                };
                return format!(
                    "T{signal:02x}thread:1;threads:1;thread-pcs:{pc:x};00:{};reason:signal;description:{};",
                    to_hex(&pc.to_le_bytes()),
                    to_hex(format!("wasm trap: {m}").as_bytes())
                );
            }
        };
        format!(
            "T{signal:02x}thread:1;threads:1;thread-pcs:{pc:x};00:{};{reason}",
            to_hex(&pc.to_le_bytes())
        )
    }

    /// `monitor CMD` (LLDB: `process plugin packet monitor CMD`): `traps on`
    /// and `traps off` switch trap stops (off from the start). Its text goes
    /// out as `O` packets before the reply.
    fn monitor(&mut self, hex: &str) -> Result<Reply, String> {
        let cmd = from_hex(hex.as_bytes())
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or("qRcmd needs a hex-encoded command")?;
        let on = match cmd.trim() {
            "traps on" => true,
            "traps off" => false,
            other => {
                return Err(format!(
                    "unknown monitor command `{other}` (wdb has `traps on`, `traps off`)"
                ))
            }
        };
        let text = self.link.message(Command::StopAtTraps(on))?;
        self.send_str(&format!("O{}", to_hex(format!("{text}\n").as_bytes())));
        Ok(Reply::Text("OK".into()))
    }

    fn status_reply(&self) -> String {
        if let Some(o) = &self.link.outcome {
            return exit_reply(o);
        }
        match &self.link.snapshot {
            Some(s) => self.stop_reply(s),
            None => format!("S{SIGTRAP:02x}"),
        }
    }

    /// Frames LLDB sees (wasm frames of the module; host frames left out).
    fn wasm_frames(&self) -> Vec<Frame> {
        self.link
            .snapshot
            .as_ref()
            .map(|s| {
                s.frames
                    .iter()
                    .filter(|f| f.tier != FrameTier::Host)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The return address of a caller frame: the instruction after its call.
    fn return_offset(&mut self, f: &Frame) -> u32 {
        let offs = self
            .next_offsets
            .entry(f.func_index)
            .or_insert_with(|| self.link.session.instruction_offsets(f.func_index));
        match offs.binary_search(&f.offset) {
            Ok(i) if i + 1 < offs.len() => offs[i + 1],
            _ => f.offset,
        }
    }

    fn paused(&self) -> Result<(), String> {
        if self.running || self.link.state() == RunState::Running {
            return Err("the program is running".into());
        }
        if self.link.outcome.is_some() {
            return Err("the program has ended".into());
        }
        Ok(())
    }

    fn packet(&mut self, p: &[u8]) -> After {
        let text = String::from_utf8_lossy(p).into_owned();
        let reply = match self.dispatch(p, &text) {
            Ok(Reply::Text(s)) => Some(s.into_bytes()),
            Ok(Reply::Bytes(b)) => Some(b),
            Ok(Reply::None) => None,
            Ok(Reply::After(a, s)) => {
                if let Some(s) = s {
                    self.send_str(&s);
                }
                return a;
            }
            // E replies carry a number, and their text once the client
            // asked for it with QEnableErrorStrings.
            Err(e) if self.error_strings => {
                Some(format!("E01;{}", to_hex(e.as_bytes())).into_bytes())
            }
            Err(_) => Some(b"E01".to_vec()),
        };
        if let Some(r) = reply {
            self.send(&r);
        }
        After::Continue
    }

    fn dispatch(&mut self, p: &[u8], text: &str) -> Result<Reply, String> {
        let t = |s: &str| Ok(Reply::Text(s.to_string()));
        // `;thread:N;` suffixes (QThreadSuffixSupported) name our only thread.
        let base = text.split(";thread:").next().unwrap_or(text);
        match base {
            "?" => return Ok(Reply::Text(self.status_reply())),
            "QStartNoAckMode" => {
                self.send_str("OK");
                self.ack = false;
                return Ok(Reply::None);
            }
            "QEnableErrorStrings" => {
                self.error_strings = true;
                return t("OK");
            }
            "QThreadSuffixSupported" | "QListThreadsInStopReply" | "qSymbol::" => return t("OK"),
            "qHostInfo" => {
                return Ok(Reply::Text(format!(
                    "triple:{};ptrsize:4;endian:little;",
                    to_hex(TRIPLE.as_bytes())
                )))
            }
            "qProcessInfo" => {
                return Ok(Reply::Text(format!(
                    "pid:{:x};parent-pid:{:x};real-uid:0;real-gid:0;effective-uid:0;effective-gid:0;triple:{};endian:little;ptrsize:4;",
                    std::process::id(),
                    std::process::id(),
                    to_hex(TRIPLE.as_bytes())
                )))
            }
            "qC" => return t("QC1"),
            "qfThreadInfo" => return t("m1"),
            "qsThreadInfo" => return t("l"),
            "qAttached" => return t("1"),
            "vCont?" => return t("vCont;c;C;s;S"),
            "qRegisterInfo0" => {
                return t("name:pc;alt-name:pc;bitsize:64;offset:0;encoding:uint;format:hex;set:General Purpose Registers;gcc:16;dwarf:16;generic:pc;")
            }
            "g" => {
                self.paused()?;
                return Ok(Reply::Text(to_hex(&self.pc().to_le_bytes())));
            }
            "k" => {
                self.link.session.send(Command::Quit);
                return Ok(Reply::After(After::Close, Some(format!("X{SIGKILL:02x}"))));
            }
            "D" => {
                if self.link.outcome.is_none() {
                    self.link.session.send(Command::Detach);
                }
                return Ok(Reply::After(After::Detached, Some("OK".into())));
            }
            _ => {}
        }
        if base.starts_with("qRegisterInfo") {
            return t("E45");
        }
        if let Some(rest) = base.strip_prefix("qSupported") {
            let _ = rest;
            return Ok(Reply::Text(format!(
                "PacketSize={PACKET_SIZE:x};QStartNoAckMode+;qXfer:libraries:read+;vContSupported+"
            )));
        }
        if let Some(rest) = base.strip_prefix("qRcmd,") {
            return self.monitor(rest);
        }
        if base.starts_with("qThreadStopInfo") {
            return Ok(Reply::Text(self.status_reply()));
        }
        if base.starts_with('H') {
            return t("OK");
        }
        if let Some(rest) = base.strip_prefix("qXfer:libraries:read::") {
            return self.libraries(rest);
        }
        if let Some(rest) = base.strip_prefix('p') {
            let reg = parse_hex_u64(rest.as_bytes()).ok_or("bad register number")?;
            self.paused()?;
            if reg != 0 {
                return t("E45");
            }
            return Ok(Reply::Text(to_hex(&self.pc().to_le_bytes())));
        }
        if let Some(rest) = base.strip_prefix('m') {
            let (addr, len) = addr_len(rest)?;
            let bytes = self.read(addr, len)?;
            return Ok(Reply::Text(to_hex(&bytes)));
        }
        if let Some(rest) = base.strip_prefix('x') {
            let (addr, len) = addr_len(rest)?;
            if len == 0 {
                return t("OK");
            }
            let bytes = self.read(addr, len)?;
            return Ok(Reply::Bytes(bytes));
        }
        if let Some(rest) = base.strip_prefix('M') {
            let (head, data) = rest.split_once(':').ok_or("M needs ADDR,LEN:DATA")?;
            let (addr, len) = addr_len(head)?;
            let bytes = from_hex(data.as_bytes()).ok_or("bad hex data")?;
            if bytes.len() as u64 != len {
                return Err(format!("M says {len} bytes but carries {}", bytes.len()));
            }
            self.write(addr, bytes)?;
            return t("OK");
        }
        if let Some(rest) = base.strip_prefix("Z0,") {
            let off = self.code_offset(rest)?;
            self.paused_or_ended()?;
            if !self.breakpoints.contains_key(&off) {
                self.link
                    .ask(
                        Command::Break {
                            at: BreakAt::Offset(off),
                            condition: None,
                        },
                        |e| matches!(e, Event::Breakpoints(_)),
                    )
                    .map_err(|e| e.to_string())?;
                let spec = format!("{off:#x}");
                let ids = self
                    .link
                    .session
                    .breakpoints()
                    .into_iter()
                    .filter(|b| b.offset == off && b.spec == spec)
                    .map(|b| b.id)
                    .collect();
                self.breakpoints.insert(off, ids);
            }
            return t("OK");
        }
        if let Some(rest) = base.strip_prefix("z0,") {
            let off = self.code_offset(rest)?;
            for id in self.breakpoints.remove(&off).unwrap_or_default() {
                self.link.ask(Command::Delete(Some(id)), |e| {
                    matches!(e, Event::Breakpoints(_))
                })?;
            }
            return t("OK");
        }
        if let Some(r) = self.watch_packet(base) {
            return r;
        }
        if base.starts_with('Z') || base.starts_with('z') {
            // Hardware breakpoints: not offered.
            return t("");
        }
        if let Some(rest) = base.strip_prefix("vCont;") {
            let action = rest.split(';').next().unwrap_or("");
            let kind = action.split(':').next().unwrap_or("");
            return match kind.chars().next() {
                Some('c') | Some('C') => self.resume(Command::Continue),
                Some('s') | Some('S') => self.resume(Command::StepInstruction),
                _ => Err(format!("unsupported vCont action `{action}`")),
            };
        }
        if base == "c" || base.starts_with('C') {
            return self.resume(Command::Continue);
        }
        if base == "s" || base.starts_with('S') {
            return self.resume(Command::StepInstruction);
        }
        if let Some(rest) = base.strip_prefix("qWasmCallStack") {
            let _ = rest;
            self.paused()?;
            let frames = self.wasm_frames();
            let mut bytes = Vec::with_capacity(frames.len() * 8);
            for (i, f) in frames.iter().enumerate() {
                let off = if i == 0 {
                    f.offset
                } else {
                    self.return_offset(f)
                };
                bytes.extend_from_slice(&WasmAddr::code(off).raw().to_le_bytes());
            }
            return Ok(Reply::Text(to_hex(&bytes)));
        }
        for (prefix, kind) in [
            ("qWasmLocal:", Var::Local),
            ("qWasmGlobal:", Var::Global),
            ("qWasmStackValue:", Var::Stack),
        ] {
            if let Some(rest) = base.strip_prefix(prefix) {
                return self.variable(kind, rest).map(|b| Reply::Text(to_hex(&b)));
            }
        }
        let _ = p;
        // Unknown packet: the empty reply says "not supported".
        t("")
    }

    fn pc(&self) -> u64 {
        self.link
            .snapshot
            .as_ref()
            .and_then(|s| s.frames.first())
            .map(|f| WasmAddr::code(f.offset).raw())
            .unwrap_or(0)
    }

    fn paused_or_ended(&self) -> Result<(), String> {
        if self.running {
            return Err("the program is running".into());
        }
        Ok(())
    }

    fn code_offset(&self, rest: &str) -> Result<u32, String> {
        let addr = rest.split(',').next().unwrap_or("");
        let raw = parse_hex_u64(addr.as_bytes()).ok_or_else(|| format!("bad address `{addr}`"))?;
        match WasmAddr::decode(raw) {
            Some(WasmAddr::Object { index: 0, offset }) => Ok(offset),
            _ => Err(format!("{raw:#x} is not a code address of module 0")),
        }
    }

    fn resume(&mut self, cmd: Command) -> Result<Reply, String> {
        if self.link.outcome.is_some() {
            let o = self.link.outcome.clone().unwrap_or(Outcome::Killed);
            return Ok(Reply::Text(exit_reply(&o)));
        }
        if self.running {
            return Err("the program is already running".into());
        }
        self.running = true;
        self.interrupted = false;
        self.link.session.send(cmd);
        Ok(Reply::None)
    }

    fn libraries(&self, rest: &str) -> Result<Reply, String> {
        let (off, len) = addr_len(rest)?;
        let xml = format!(
            "<library-list><library name=\"{}\"><section address=\"{:#x}\"/></library></library-list>",
            xml_escape(&self.path),
            WasmAddr::code(0).raw()
        );
        let bytes = xml.as_bytes();
        let start = (off as usize).min(bytes.len());
        let end = start.saturating_add(len as usize).min(bytes.len());
        let mut out = vec![if end == bytes.len() { b'l' } else { b'm' }];
        out.extend_from_slice(&bytes[start..end]);
        Ok(Reply::Bytes(out))
    }

    fn read(&mut self, raw: u64, len: u64) -> Result<Vec<u8>, String> {
        let len = len.min(PACKET_SIZE as u64 / 2);
        match WasmAddr::decode(raw).ok_or_else(|| format!("{raw:#x} is no wasm address"))? {
            WasmAddr::Object { index: 0, offset } => {
                let bytes = &self.link.session.module().info().bytes;
                let start = offset as usize;
                if start >= bytes.len() {
                    return Err(format!("{offset:#x} is past the module's end"));
                }
                let end = (start + len as usize).min(bytes.len());
                Ok(bytes[start..end].to_vec())
            }
            WasmAddr::Memory { index: 0, offset } => {
                if self.running {
                    return Err("the program is running".into());
                }
                let mut len = len;
                if let Some(size) = self.link.memory_size() {
                    if offset as u64 >= size {
                        return Err(format!("{offset:#x} is past the end of memory ({size:#x})"));
                    }
                    len = len.min(size - offset as u64);
                }
                self.link.read_memory(offset as u64, len as u32)
            }
            _ => Err(format!("{raw:#x}: wdb debugs one module with one memory")),
        }
    }

    fn write(&mut self, raw: u64, bytes: Vec<u8>) -> Result<(), String> {
        self.paused()?;
        match WasmAddr::decode(raw) {
            Some(WasmAddr::Memory { index: 0, offset }) => self
                .link
                .message(Command::WriteMemory {
                    addr: offset as u64,
                    bytes,
                })
                .map(|_| ()),
            _ => Err(format!("{raw:#x} is not writable linear memory")),
        }
    }

    fn variable(&mut self, kind: Var, rest: &str) -> Result<Vec<u8>, String> {
        self.paused()?;
        let (frame, index) = rest
            .split_once(';')
            .and_then(|(f, i)| Some((f.parse::<usize>().ok()?, i.parse::<usize>().ok()?)))
            .ok_or_else(|| format!("expected FRAME;INDEX, got `{rest}`"))?;
        let frames = self.wasm_frames();
        let f = frames
            .get(frame)
            .ok_or_else(|| format!("no frame {frame} (the stack has {})", frames.len()))?;
        let value = match kind {
            Var::Local => f
                .locals
                .as_ref()
                .ok_or("this frame keeps no record of its locals")?
                .get(index)
                .copied()
                .ok_or_else(|| format!("no local {index}"))?,
            Var::Stack => {
                let stack = f
                    .stack
                    .as_ref()
                    .ok_or("this frame keeps no record of its operand stack")?;
                // DW_OP_WASM_location 2 counts from the top, as wdb's DWARF reader does.
                let i = stack.len().checked_sub(1 + index).ok_or_else(|| {
                    format!("no operand {index} (the stack holds {})", stack.len())
                })?;
                stack[i]
            }
            Var::Global => {
                let g = self
                    .link
                    .snapshot
                    .as_ref()
                    .and_then(|s| s.globals.get(index).cloned())
                    .ok_or_else(|| format!("no global {index}"))?;
                return Ok(le_bytes(g.bits, g.ty.is_64bit()));
            }
        };
        if value.place == wdb::debugger::Place::Unavailable {
            return Err("the value is not recoverable in this frame".into());
        }
        Ok(le_bytes(value.bits, value.ty.is_64bit()))
    }
}

#[derive(Clone, Copy)]
enum Var {
    Local,
    Global,
    Stack,
}

enum Reply {
    Text(String),
    Bytes(Vec<u8>),
    None,
    After(After, Option<String>),
}

fn addr_len(s: &str) -> Result<(u64, u64), String> {
    let (a, l) = s
        .split_once(',')
        .ok_or_else(|| format!("expected ADDR,LEN, got `{s}`"))?;
    let a = parse_hex_u64(a.as_bytes()).ok_or_else(|| format!("bad hex address `{a}`"))?;
    let l = parse_hex_u64(l.as_bytes()).ok_or_else(|| format!("bad hex length `{l}`"))?;
    Ok((a, l))
}

fn exit_reply(o: &Outcome) -> String {
    match o {
        Outcome::Exited(c) => format!("W{:02x}", *c as u8),
        Outcome::Returned(_) => "W00".into(),
        Outcome::Trapped(m) => format!("X{SIGABRT:02x};description:{}", to_hex(m.as_bytes())),
        Outcome::Killed => format!("X{SIGKILL:02x}"),
    }
}
