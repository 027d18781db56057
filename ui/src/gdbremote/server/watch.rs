//! Watchpoint packets: `Z2`/`Z3`/`Z4` (write, read, access) and `z2`–`z4`,
//! on linear-memory addresses in LLDB's wasm encoding (space 0, memory 0),
//! mapped onto the session's `watch`/`rwatch`/`awatch` of `*(T *)ADDR`; the
//! `watch:`/`rwatch:`/`awatch:` field of a stop reply; and
//! `qWatchpointSupportInfo`. No state of its own: a watchpoint is found
//! again by its address, length and kind in the session's list.

use super::{Reply, Server};
use crate::gdbremote::addr::WasmAddr;
use crate::gdbremote::packet::parse_hex_u64;
use std::io::Write;
use wdb::debugger::{Command, Event, WatchKind, WatchStop};

/// How many watchpoints LLDB may set (the engine's table is shared by the process).
const SLOTS: u32 = 16;

fn kind_of(z: char) -> Option<WatchKind> {
    match z {
        '2' => Some(WatchKind::Write),
        '3' => Some(WatchKind::Read),
        '4' => Some(WatchKind::Access),
        _ => None,
    }
}

/// The C type of an access of `len` bytes (what `*(T *)ADDR` watches).
fn type_of(len: u64) -> Result<&'static str, String> {
    Ok(match len {
        1 => "unsigned char",
        2 => "unsigned short",
        4 => "unsigned int",
        8 => "unsigned long long",
        _ => {
            return Err(format!(
                "watchpoints cover 1, 2, 4 or 8 bytes here, not {len}"
            ))
        }
    })
}

/// The stop-reply field for a watchpoint stop (`watch:ADDR;`).
pub(super) fn stop_field(w: &WatchStop) -> String {
    let key = match w.kind {
        WatchKind::Write => "watch",
        WatchKind::Read => "rwatch",
        WatchKind::Access => "awatch",
    };
    let addr = WasmAddr::Memory {
        index: 0,
        offset: w.addr as u32,
    }
    .raw();
    format!("{key}:{addr:x};")
}

impl<W: Write> Server<W> {
    /// Answers a watchpoint packet; `None` when `base` is not one.
    pub(super) fn watch_packet(&mut self, base: &str) -> Option<Result<Reply, String>> {
        if base == "qWatchpointSupportInfo" || base.starts_with("qWatchpointSupportInfo:") {
            return Some(Ok(Reply::Text(format!("num:{SLOTS};"))));
        }
        let mut chars = base.chars();
        let (set, kind) = match (chars.next(), chars.next().and_then(kind_of), chars.next()) {
            (Some('Z'), Some(k), Some(',')) => (true, k),
            (Some('z'), Some(k), Some(',')) => (false, k),
            _ => return None,
        };
        Some(self.watch_set_or_clear(set, kind, &base[3..]))
    }

    fn watch_set_or_clear(
        &mut self,
        set: bool,
        kind: WatchKind,
        rest: &str,
    ) -> Result<Reply, String> {
        let mut parts = rest.split(',');
        let raw = parts
            .next()
            .and_then(|a| parse_hex_u64(a.as_bytes()))
            .ok_or("bad watchpoint address")?;
        let len = parts
            .next()
            .and_then(|l| parse_hex_u64(l.split(';').next().unwrap_or(l).as_bytes()))
            .ok_or("bad watchpoint length")?;
        let offset = match WasmAddr::decode(raw) {
            Some(WasmAddr::Memory { index: 0, offset }) => offset as u64,
            _ => return Err(format!("{raw:#x} is not an address in linear memory 0")),
        };
        self.paused_or_ended()?;
        let existing = self
            .link
            .session
            .watchpoints()
            .into_iter()
            .find(|w| w.addr == offset && w.len as u64 == len && w.kind == kind);
        if set {
            if existing.is_none() {
                let expr = format!("*({} *){offset:#x}", type_of(len)?);
                self.link
                    .message(Command::Watch {
                        frame: 0,
                        kind,
                        expr,
                    })
                    .map_err(|e| e.to_string())?;
            }
        } else if let Some(w) = existing {
            self.link.ask(Command::Delete(Some(w.id)), |e| {
                matches!(e, Event::Message(_))
            })?;
        }
        Ok(Reply::Text("OK".into()))
    }
}
