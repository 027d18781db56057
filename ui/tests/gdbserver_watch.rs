//! Watchpoints over gdb-remote: the real LLDB (Debian's lldb-22) sets one on
//! the C sample's corrupted global with `watchpoint set variable` (packet
//! `Z2` on a linear-memory address in LLDB's wasm encoding), continues, and
//! sees the stop (`watch:` in the stop reply) at the store that corrupts it
//! with the old and new values; then a raw client sets and clears `Z3`/`Z4`
//! and a bad `Z2`. Fails naming the package when lldb-22 is missing.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use support::lldb::{after, lldb, require_lldb, server_for, wait_exit};

fn server() -> (Child, u16) {
    server_for("samples/inventory-g.wasm", &[], &[])
}

#[test]
fn lldb_watchpoint_on_the_corrupted_global() {
    require_lldb();
    let (mut wdb, port) = server();
    let connect = format!("process connect --plugin wasm connect://127.0.0.1:{port}");
    let (_, text) = lldb(&[
        "-o",
        &connect,
        "-o",
        "watchpoint set variable settings.reorder_level",
        "-o",
        "c",
        "-o",
        "watchpoint list",
        "-o",
        "kill",
    ]);
    wait_exit(&mut wdb);
    let at = after(&text, 0, "stop reason = watchpoint 1");
    let stop = &text[at..];
    assert!(
        stop.contains("restock(") && stop.contains("inventory.c:113"),
        "{text}"
    );
    assert!(
        text.contains("old value: 5") && text.contains("new value: 0"),
        "{text}"
    );
    assert!(text.contains("addr = 0x00000dd8 size = 4"), "{text}");
}

/// One packet out, one reply in (no-ack mode after the first exchange).
struct Raw(TcpStream);

impl Raw {
    fn ask(&mut self, payload: &str) -> String {
        let sum = payload.bytes().fold(0u8, |a, b| a.wrapping_add(b));
        write!(self.0, "${payload}#{sum:02x}").unwrap();
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        loop {
            self.0.read_exact(&mut byte).unwrap();
            match byte[0] {
                b'+' if buf.is_empty() => continue,
                b'$' if buf.is_empty() => {}
                b'#' => {
                    let mut sum = [0u8; 2];
                    self.0.read_exact(&mut sum).unwrap();
                    let reply = String::from_utf8_lossy(&buf).into_owned();
                    // `O` packets carry the program's output; the answer follows.
                    if reply.len() > 2 && reply.starts_with('O') && reply != "OK" {
                        buf.clear();
                        continue;
                    }
                    return reply;
                }
                b => buf.push(b),
            }
        }
    }
}

#[test]
fn raw_watchpoint_packets() {
    let (mut wdb, port) = server();
    let mut c = Raw(TcpStream::connect(("127.0.0.1", port)).unwrap());
    assert_eq!(c.ask("QStartNoAckMode"), "OK");
    assert_eq!(c.ask("qWatchpointSupportInfo:"), "num:16;");
    // rwatch on reorder_level (0xdd8, memory space 0), awatch on ticks' neighbour.
    assert_eq!(c.ask("Z3,dd8,4"), "OK");
    assert_eq!(c.ask("Z4,dd8,4"), "OK");
    assert_eq!(c.ask("z4,dd8,4"), "OK");
    // Bad: a code address, an odd length.
    assert!(c.ask("Z2,40000000000001a2,4").starts_with('E'));
    assert!(c.ask("Z2,dd8,3").starts_with('E'));
    // The read watchpoint stops in report() with an rwatch field.
    let stop = c.ask("vCont;c");
    assert!(
        stop.starts_with("T05") && stop.contains("rwatch:dd8;"),
        "{stop}"
    );
    assert_eq!(c.ask("z3,dd8,4"), "OK");
    c.ask("k");
    wait_exit(&mut wdb);
}
