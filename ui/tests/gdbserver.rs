//! `wdb debug --gdbserver`: the real LLDB (Debian's lldb-22, its wasm process
//! plugin) debugging the C sample, and a raw gdb-remote client sending bad
//! packets. The LLDB test fails, naming the package, when lldb-22 is missing.

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::Duration;
use support::lldb::{after, lldb, require_lldb, root, server_for, wait_exit};

/// Starts the server on the C sample on a free port; returns it and the port it reports.
fn server(args: &[&str]) -> (Child, u16) {
    server_for("samples/debugme-g.wasm", &[], args)
}

// ---- LLDB ---------------------------------------------------------------------------

#[test]
fn lldb_debugs_the_c_sample() {
    require_lldb();
    // Enough iterations to still be running when interrupted.
    let (mut wdb, port) = server(&["1000000000"]);
    let script = format!(
        "process connect --plugin wasm connect://127.0.0.1:{port}
b debugme.c:75
c
bt
frame variable
p ds->count
p sum
register read pc
si
register read pc
memory read --format x --size 4 --count 17 ds
breakpoint delete --force
script import time
script exec(\"lldb.debugger.SetAsync(True)\\nlldb.process.Continue()\\ntime.sleep(1)\\nlldb.debugger.HandleCommand('process interrupt')\\nwhile lldb.process.GetState() != lldb.eStateStopped: time.sleep(0.05)\\nlldb.debugger.SetAsync(False)\")
process status
kill
"
    );
    let dir = std::env::temp_dir().join(format!("wdb-lldb-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("script.lldb");
    std::fs::write(&file, script).unwrap();
    let (out, text) = lldb(&["-s", &file.display().to_string()]);
    let _ = std::fs::remove_dir_all(&dir);

    // Connected, stopped at the entry.
    let mut at = after(&text, 0, " stopped");
    // The breakpoint resolves from DWARF and is hit in mean().
    at = after(&text, at, "Breakpoint 1: where = debugme-g.wasm`mean");
    at = after(&text, at, "debugme.c:75");
    at = after(&text, at, "stop reason = breakpoint 1.1");
    at = after(&text, at, "frame #0: 0x4000000000");
    at = after(&text, at, "debugme-g.wasm`mean(ds=");
    at = after(&text, at, "at debugme.c:75");
    // bt: mean <- compute_stats <- main (wasi-libc names it __main_argc_argv).
    at = after(&text, at, "(lldb) bt");
    at = after(&text, at, "`mean(ds=");
    at = after(&text, at, "`compute_stats(ds=");
    at = after(&text, at, "debugme.c:109");
    at = after(&text, at, "`__main_argc_argv(argc=2,");
    // frame variable: the parameter and both locals, read through qWasmLocal and memory.
    at = after(&text, at, "(lldb) frame variable");
    at = after(&text, at, "(const dataset *) ds = 0x");
    at = after(&text, at, "(int) sum = 0");
    at = after(&text, at, "(int) i = 0");
    at = after(&text, at, "(lldb) p ds->count");
    at = after(&text, at, "(const int) 16");
    at = after(&text, at, "(lldb) p sum");
    at = after(&text, at, "(int) 0");
    // pc in LLDB's wasm encoding (module bytes, module 0), then one instruction on.
    at = after(&text, at, "(lldb) register read pc");
    let pc_at = after(&text, at, "pc = 0x");
    let pc1 = u64::from_str_radix(&text[pc_at..pc_at + 16], 16).unwrap();
    assert_eq!(pc1 >> 32, 0x4000_0000, "{text}");
    at = after(&text, pc_at, "(lldb) si");
    at = after(&text, at, "stop reason = instruction step into");
    at = after(&text, at, "(lldb) register read pc");
    let pc_at = after(&text, at, "pc = 0x");
    let pc2 = u64::from_str_radix(&text[pc_at..pc_at + 16], 16).unwrap();
    // mean's `local.get 3` at 0xd6b, then the `i32.load` at 0xd6d (the
    // sample's code; wasm-objdump shows the same offsets).
    assert_eq!(pc1, 0x4000_0000_0000_0d6b, "{text}");
    assert_eq!(
        pc2, 0x4000_0000_0000_0d6d,
        "si moves one instruction: {text}"
    );
    // Linear memory: ds->values[] and count as parsed.
    at = after(&text, pc_at, "memory read");
    at = after(&text, at, "0x0000000c 0x0000002d 0x00000007 0x0000001e");
    at = after(&text, at, "0x00000010");
    // Interrupting the running program.
    at = after(&text, at, "(lldb) process status");
    at = after(&text, at, "stop reason = signal SIGINT");
    at = after(&text, at, "(lldb) kill");
    after(&text, at, "exited with status = 9");
    assert!(out.status.success(), "lldb failed:\n{text}");
    let status = wait_exit(&mut wdb);
    assert!(status.success(), "{status:?}");
}

#[test]
fn lldb_stops_at_a_trap_with_a_signal() {
    require_lldb();
    // boom -> inner -> innermost, which executes `unreachable`.
    let (mut wdb, port) = server_for("samples/trap.wat", &["--invoke", "boom"], &[]);
    let connect = format!("process connect --plugin wasm connect://127.0.0.1:{port}");
    let (out, text) = lldb(&[
        "-o",
        &connect,
        "-o",
        "process plugin packet monitor traps on",
        "-o",
        "c",
        // Batch mode treats a signal stop as a crash: these run after it.
        "-k",
        "bt",
        "-k",
        "register read pc",
        "-k",
        "c",
    ]);
    // Stopped before the trapping instruction, as a native program stops at SIGILL.
    let mut at = after(&text, 0, "(lldb) c");
    at = after(&text, at, "stop reason = wasm trap: unreachable");
    at = after(&text, at, "frame #0: 0x400000000000009a trap.wat`innermost");
    at = after(&text, at, "->  0x400000000000009a <+1>: unreachable");
    at = after(&text, at, "(lldb) bt");
    at = after(
        &text,
        at,
        "* frame #0: 0x400000000000009a trap.wat`innermost",
    );
    at = after(&text, at, "frame #1: 0x40000000000000a0 trap.wat`inner");
    at = after(&text, at, "frame #2: 0x40000000000000a7 trap.wat`boom");
    at = after(&text, at, "(lldb) register read pc");
    at = after(&text, at, "pc = 0x400000000000009a");
    // Continuing runs the instruction: the trap ends the program.
    at = after(&text, at, "(lldb) c");
    after(&text, at, "exited with status = 6");
    assert!(out.status.success(), "lldb failed:\n{text}");
    wait_exit(&mut wdb);
}

// ---- raw packets ------------------------------------------------------------------------

fn frame(payload: &str) -> Vec<u8> {
    let sum = payload.bytes().fold(0u8, |a, b| a.wrapping_add(b));
    format!("${payload}#{sum:02x}").into_bytes()
}

struct Client {
    s: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    fn connect(port: u16) -> Client {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        Client { s, buf: Vec::new() }
    }

    fn fill(&mut self) {
        let mut b = [0u8; 4096];
        let n = self.s.read(&mut b).expect("a reply from wdb");
        assert!(n > 0, "wdb closed the connection");
        self.buf.extend_from_slice(&b[..n]);
    }

    /// The next single byte (`+` / `-`).
    fn byte(&mut self) -> u8 {
        while self.buf.is_empty() {
            self.fill();
        }
        self.buf.remove(0)
    }

    /// The next packet's payload (checksum verified).
    fn packet(&mut self) -> String {
        loop {
            if let Some(start) = self.buf.iter().position(|&b| b == b'$') {
                if let Some(h) = self.buf[start..].iter().position(|&b| b == b'#') {
                    let end = start + h;
                    if self.buf.len() >= end + 3 {
                        let payload = self.buf[start + 1..end].to_vec();
                        let cs = std::str::from_utf8(&self.buf[end + 1..end + 3]).unwrap();
                        let sum = payload.iter().fold(0u8, |a, b| a.wrapping_add(*b));
                        assert_eq!(u8::from_str_radix(cs, 16).unwrap(), sum);
                        self.buf.drain(..end + 3);
                        return String::from_utf8_lossy(&payload).into_owned();
                    }
                }
            }
            self.fill();
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.s.write_all(bytes).unwrap();
    }

    /// Sends a packet in ack mode: expects `+`, returns the reply.
    fn ask(&mut self, payload: &str) -> String {
        self.send(&frame(payload));
        assert_eq!(self.byte(), b'+', "ack for {payload}");
        let r = self.packet();
        self.send(b"+");
        r
    }
}

#[test]
fn bad_packets_get_errors_and_the_session_goes_on() {
    let (mut wdb, port) = server(&["1000000000"]);
    let mut c = Client::connect(port);
    // A bad checksum is refused with `-` (the client would resend).
    c.send(b"$qC#00");
    assert_eq!(c.byte(), b'-');
    // Unknown packets get the empty reply.
    assert_eq!(c.ask("qFrobnicate"), "");
    // Bad hex and bad addresses get errors.
    assert_eq!(c.ask("mzz,4"), "E01");
    assert_eq!(c.ask("m4000000000000000"), "E01");
    assert_eq!(c.ask("Z0,8000000000000000,1"), "E01");
    assert_eq!(c.ask("qWasmLocal:x;y"), "E01");
    assert_eq!(c.ask("M0,2:zz"), "E01");
    // The session goes on.
    assert_eq!(c.ask("qC"), "QC1");
    let stop = c.ask("?");
    assert!(stop.starts_with("T05thread:1;"), "{stop}");
    assert!(c.ask("qHostInfo").contains(&format!(
        "triple:{};",
        "wasm32-unknown-unknown-wasm"
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )));
    let libs = c.ask("qXfer:libraries:read::0,1000");
    assert!(
        libs.starts_with("l<library-list><library name=\""),
        "{libs}"
    );
    assert!(libs.contains("debugme-g.wasm\"><section address=\"0x4000000000000000\"/>"));
    // Module bytes by code address: the wasm magic.
    assert_eq!(c.ask("m4000000000000000,4"), "0061736d");
    // qWasmCallStack: the entry pc, 8 bytes little-endian.
    let cs = c.ask("qWasmCallStack:1");
    assert_eq!(cs.len() % 16, 0);
    assert!(cs[..16].ends_with("00000040"), "{cs}");
    // monitor traps off/on: the answer as an `O` packet, then OK.
    let hex = |t: &str| t.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(
        c.ask(&format!("qRcmd,{}", hex("traps off"))),
        format!("O{}", hex("traps end the program\n"))
    );
    assert_eq!(c.packet(), "OK");
    c.send(b"+");
    assert_eq!(
        c.ask(&format!("qRcmd,{}", hex("traps on"))),
        format!("O{}", hex("stopping before an instruction that traps\n"))
    );
    assert_eq!(c.packet(), "OK");
    c.send(b"+");
    assert_eq!(c.ask(&format!("qRcmd,{}", hex("frobnicate"))), "E01");
    assert_eq!(c.ask("qRcmd,zz"), "E01");
    assert_eq!(c.ask("QStartNoAckMode"), "OK");
    // Run, interrupt, run again, and vanish mid-run.
    c.send(&frame("vCont;c"));
    // Output packets may come first; wait for the program's first line.
    let p = c.packet();
    assert!(p.starts_with('O'), "unexpected {p}");
    c.send(b"\x03");
    let stop = loop {
        let p = c.packet();
        if !p.starts_with('O') {
            break p;
        }
    };
    assert!(stop.starts_with("T02thread:1;"), "{stop}");
    c.send(&frame("vCont;c"));
    drop(c);
    let status = wait_exit(&mut wdb);
    assert!(status.success(), "{status:?}");
}

#[test]
fn lldb_wasm_platform_launches_wdb() {
    require_lldb();
    let wdb = env!("CARGO_BIN_EXE_wdb");
    let module = root().join("samples/debugme-g.wasm");
    let runtime = format!("settings set platform.plugin.wasm.runtime-path {wdb}");
    let file = format!("file {}", module.display());
    let (out, text) = lldb(&[
        "-o",
        "platform select wasm",
        "-o",
        &runtime,
        "-o",
        "settings set -- platform.plugin.wasm.port-arg --gdbserver=",
        "-o",
        &file,
        "-o",
        "b debugme.c:75",
        "-o",
        "run 0",
        "-o",
        "frame variable",
        "-o",
        "kill",
    ]);
    let mut at = after(&text, 0, "(lldb) run 0");
    at = after(&text, at, "wdb: listening on 127.0.0.1:");
    at = after(&text, at, "stop reason = breakpoint 1.1");
    at = after(&text, at, "debugme-g.wasm`mean(ds=");
    at = after(&text, at, "(lldb) frame variable");
    at = after(&text, at, "(int) i = 0");
    at = after(&text, at, "(lldb) kill");
    after(&text, at, "exited with status = 9");
    assert!(out.status.success(), "lldb failed:\n{text}");
}

#[test]
fn detach_lets_the_program_run_to_its_end() {
    let (mut wdb, port) = server(&["0"]);
    let mut c = Client::connect(port);
    assert_eq!(c.ask("D"), "OK");
    drop(c);
    let mut stdout = String::new();
    wdb.stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(
        stdout.contains("average 31.00, variance 317.00"),
        "{stdout}"
    );
    assert!(wait_exit(&mut wdb).success());
}
