//! `wdb dap` on stdio with bad input: truncated JSON, wrong argument types,
//! requests out of order (before `launch`, while paused, running or ended)
//! and unknown requests get error responses and the session goes on; a client that goes away mid-run ends the adapter (and
//! with it the program, which runs inside it), leaving no process behind.

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

struct Dap {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Value>,
    seq: i64,
    /// Events that arrived while a response was awaited.
    events: VecDeque<Value>,
}

fn sample() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/debugme-g.wasm")
        .display()
        .to_string()
}

impl Dap {
    fn start() -> Dap {
        let mut child = Command::new(env!("CARGO_BIN_EXE_wdb"))
            .arg("dap")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start wdb dap");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                if r.read_exact(&mut body).is_err() {
                    return;
                }
                let v: Value = serde_json::from_slice(&body).expect("adapter sends JSON");
                if tx.send(v).is_err() {
                    return;
                }
            }
        });
        let stdin = child.stdin.take();
        Dap {
            child,
            stdin,
            rx,
            seq: 0,
            events: VecDeque::new(),
        }
    }

    fn raw(&mut self, body: &[u8]) {
        let s = self.stdin.as_mut().unwrap();
        write!(s, "Content-Length: {}\r\n\r\n", body.len()).unwrap();
        s.write_all(body).unwrap();
        s.flush().unwrap();
    }

    /// Sends a request; returns its response (events before it are skipped).
    fn request(&mut self, command: &str, arguments: Value) -> Value {
        self.seq += 1;
        let seq = self.seq;
        let body =
            json!({"seq": seq, "type": "request", "command": command, "arguments": arguments});
        self.raw(body.to_string().as_bytes());
        self.response(Some(seq))
    }

    fn response(&mut self, seq: Option<i64>) -> Value {
        loop {
            let v = self
                .rx
                .recv_timeout(Duration::from_secs(60))
                .expect("a response from wdb dap");
            if v["type"] == "response" && seq.is_none_or(|s| v["request_seq"] == s) {
                return v;
            }
            if v["type"] == "event" {
                self.events.push_back(v);
            }
        }
    }

    /// The next event called `name` (other events before it are skipped).
    fn event(&mut self, name: &str) -> Value {
        while let Some(v) = self.events.pop_front() {
            if v["event"] == name {
                return v;
            }
        }
        loop {
            let v = self
                .rx
                .recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| panic!("a `{name}` event from wdb dap"));
            if v["event"] == name {
                return v;
            }
        }
    }

    /// Sends a request that must fail; returns its message.
    fn refused(&mut self, command: &str, arguments: Value) -> String {
        let r = self.request(command, arguments.clone());
        assert_eq!(r["success"], false, "{command} {arguments} -> {r}");
        r["message"].as_str().unwrap_or_default().to_string()
    }
}

#[test]
fn malformed_and_out_of_order_requests_get_errors_and_the_session_goes_on() {
    let mut d = Dap::start();

    // Truncated JSON.
    d.raw(br#"{"seq":1,"type":"request","comm"#);
    let r = d.response(None);
    assert_eq!(r["success"], false, "{r}");
    assert!(
        r["message"].as_str().unwrap().contains("malformed JSON"),
        "{r}"
    );

    // Not a request at all.
    d.raw(br#"[1,2,3]"#);
    assert_eq!(d.response(None)["success"], false);

    // Requests out of order: nothing launched yet.
    let r = d.request("stackTrace", json!({"threadId": 1}));
    assert_eq!(r["success"], false);
    assert!(r["message"].as_str().unwrap().contains("launch"), "{r}");
    let r = d.request("configurationDone", json!({}));
    assert_eq!(r["success"], false, "{r}");
    let r = d.request(
        "setBreakpoints",
        json!({"source": {"path": "debugme.c"}, "breakpoints": [{"line": 75}]}),
    );
    assert_eq!(r["success"], false, "{r}");

    // Wrong types.
    let r = d.request("launch", json!({"program": 42}));
    assert_eq!(r["success"], false);
    assert!(
        r["message"]
            .as_str()
            .unwrap()
            .contains("invalid arguments for `launch`"),
        "{r}"
    );
    let r = d.request("initialize", json!({"linesStartAt1": "yes"}));
    assert_eq!(r["success"], false, "{r}");

    // Unknown request.
    let r = d.request("frobnicate", json!({}));
    assert_eq!(r["success"], false);
    assert!(r["message"].as_str().unwrap().contains("frobnicate"), "{r}");

    // The session goes on: a real start works.
    let r = d.request("initialize", json!({"adapterID": "wdb"}));
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(r["body"]["supportsSteppingGranularity"], true);
    let r = d.request(
        "launch",
        json!({"program": sample(), "args": ["0"], "stopOnEntry": true}),
    );
    assert_eq!(r["success"], true, "{r}");
    let r = d.request("launch", json!({"program": sample()}));
    assert_eq!(r["success"], false, "a second launch is refused: {r}");
    let r = d.request("configurationDone", json!({}));
    assert_eq!(r["success"], true, "{r}");
    let r = d.request("stackTrace", json!({"threadId": 1}));
    assert_eq!(r["success"], true, "{r}");
    let r = d.request("variables", json!({"variablesReference": 999}));
    assert_eq!(r["success"], false, "{r}");
    let r = d.request("readMemory", json!({"memoryReference": "0xzz", "count": 4}));
    assert_eq!(r["success"], false, "{r}");
    // Wrong types and bad values while paused; the session still answers.
    let r = d.request("stackTrace", json!({"threadId": "one"}));
    assert_eq!(r["success"], false, "{r}");
    let r = d.request("scopes", json!({"frameId": 99}));
    assert_eq!(r["success"], false, "{r}");
    let r = d.request("evaluate", json!({"expression": 7}));
    assert_eq!(r["success"], false, "{r}");
    let r = d.request("setExceptionBreakpoints", json!({"filters": "traps"}));
    assert_eq!(r["success"], false, "{r}");
    let r = d.request(
        "writeMemory",
        json!({"memoryReference": "0x0", "data": "!!"}),
    );
    assert_eq!(r["success"], false, "{r}");
    let r = d.request("next", json!({"threadId": 2}));
    assert_eq!(r["success"], false, "{r}");
    let r = d.request("stackTrace", json!({"threadId": 1}));
    assert_eq!(r["success"], true, "{r}");
    let r = d.request("disconnect", json!({"terminateDebuggee": true}));
    assert_eq!(r["success"], true, "{r}");
    let status = wait_exit(&mut d.child);
    assert!(status.success(), "{status:?}");
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    // A liveness bound, not a timing assertion: the adapter must go away.
    for _ in 0..600 {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("wdb dap is still running after its client went away");
}

#[test]
fn client_gone_mid_run_ends_the_adapter() {
    let mut d = Dap::start();
    d.request("initialize", json!({"adapterID": "wdb"}));
    // Long enough to be running when the client leaves.
    let r = d.request(
        "launch",
        json!({"program": sample(), "args": ["1000000000"]}),
    );
    assert_eq!(r["success"], true, "{r}");
    let r = d.request("configurationDone", json!({}));
    assert_eq!(r["success"], true, "{r}");
    // Wait until it runs (its first output), then vanish.
    loop {
        let v =
            d.rx.recv_timeout(Duration::from_secs(60))
                .expect("output from the program");
        if v["event"] == "output" {
            break;
        }
    }
    drop(d.stdin.take());
    let status = wait_exit(&mut d.child);
    assert!(status.success(), "{status:?}");
}

#[test]
fn requests_out_of_order_and_of_the_wrong_shape_while_paused_running_and_ended() {
    let mut d = Dap::start();

    // Before `launch`: each needs a program.
    for (command, arguments) in [
        ("dataBreakpointInfo", json!({"name": "sum"})),
        ("setDataBreakpoints", json!({"breakpoints": []})),
        ("continue", json!({"threadId": 1})),
        ("pause", json!({"threadId": 1})),
        ("restart", json!({})),
        ("terminate", json!({})),
        ("exceptionInfo", json!({"threadId": 1})),
        (
            "evaluate",
            json!({"expression": "info breakpoints", "context": "repl"}),
        ),
    ] {
        let m = d.refused(command, arguments);
        assert!(m.contains("launch"), "{command}: {m}");
    }
    // Not requests: a numeric command, arguments that are not an object.
    d.raw(br#"{"seq":1,"type":"request","command":5}"#);
    assert_eq!(d.response(None)["success"], false);
    d.raw(br#"{"seq":2,"type":"event","event":"stopped"}"#);
    assert_eq!(d.response(None)["success"], false);
    let m = d.refused("initialize", json!(5));
    assert!(m.contains("invalid arguments for `initialize`"), "{m}");

    let r = d.request("initialize", json!({"adapterID": "wdb"}));
    assert_eq!(r["body"]["supportsDataBreakpoints"], true, "{r}");
    let r = d.request(
        "launch",
        json!({"program": sample(), "args": ["1000000000"], "stopOnEntry": true}),
    );
    assert_eq!(r["success"], true, "{r}");
    let r = d.request("configurationDone", json!({}));
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(d.event("stopped")["body"]["reason"], "entry");
    d.refused("configurationDone", json!({}));

    // Paused: wrong types and values.
    for (command, arguments) in [
        ("dataBreakpointInfo", json!({"name": 5})),
        (
            "dataBreakpointInfo",
            json!({"name": "x", "variablesReference": "1"}),
        ),
        (
            "dataBreakpointInfo",
            json!({"name": "x", "variablesReference": 999}),
        ),
        ("dataBreakpointInfo", json!({"name": "x", "frameId": 99})),
        (
            "dataBreakpointInfo",
            json!({"name": "0xzz", "asAddress": true}),
        ),
        ("setDataBreakpoints", json!({"breakpoints": "all"})),
        (
            "setDataBreakpoints",
            json!({"breakpoints": [{"dataId": 7}]}),
        ),
        (
            "setDataBreakpoints",
            json!({"breakpoints": [{"dataId": "*(int *)0x10"}]}),
        ),
        (
            "setBreakpoints",
            json!({"source": {"path": "debugme.c"}, "breakpoints": [{"line": "75"}]}),
        ),
        (
            "disassemble",
            json!({"memoryReference": "0x0", "instructionCount": "4"}),
        ),
        ("setVariable", json!({"variablesReference": 1, "name": "x"})),
        ("exceptionInfo", json!({"threadId": 1})),
        ("pause", json!({"threadId": 1})),
        ("stepIn", json!({"threadId": 1, "granularity": 3})),
    ] {
        d.refused(command, arguments);
    }
    // An address with a byte count wdb cannot watch: no id, and why.
    let r = d.request(
        "dataBreakpointInfo",
        json!({"name": "0x1000", "asAddress": true, "bytes": 3}),
    );
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(r["body"]["dataId"], Value::Null, "{r}");
    let frames = d.request("stackTrace", json!({"threadId": 1}));
    assert_eq!(frames["success"], true, "{frames}");
    let scopes = d.request("scopes", json!({"frameId": 1}));
    let globals = scopes["body"]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "Globals")
        .unwrap()["variablesReference"]
        .clone();

    // Running: what needs a stop is refused, the rest still answers.
    let r = d.request("continue", json!({"threadId": 1}));
    assert_eq!(r["success"], true, "{r}");
    for command in ["continue", "next", "stepOut"] {
        let m = d.refused(command, json!({"threadId": 1}));
        assert!(m.contains("running"), "{command}: {m}");
    }
    let m = d.refused("stackTrace", json!({"threadId": 1}));
    assert!(m.contains("running"), "{m}");
    let m = d.refused("setDataBreakpoints", json!({"breakpoints": []}));
    assert!(m.contains("running"), "{m}");
    d.refused("dataBreakpointInfo", json!({"name": "x"}));
    // A reference of the last stop is gone once the program runs.
    d.refused("variables", json!({"variablesReference": globals}));
    let r = d.request("threads", json!({}));
    assert_eq!(r["success"], true, "{r}");
    let r = d.request("pause", json!({"threadId": 1}));
    assert_eq!(r["success"], true, "{r}");
    assert_eq!(d.event("stopped")["body"]["reason"], "pause");
    let r = d.request("stackTrace", json!({"threadId": 1}));
    assert_eq!(r["success"], true, "{r}");

    // Ended: stepping and inspection are refused, disconnect still works.
    let r = d.request("terminate", json!({}));
    assert_eq!(r["success"], true, "{r}");
    d.event("terminated");
    for command in ["next", "continue"] {
        let m = d.refused(command, json!({"threadId": 1}));
        assert!(m.contains("ended"), "{command}: {m}");
    }
    d.refused("stackTrace", json!({"threadId": 1}));
    d.refused("dataBreakpointInfo", json!({"name": "sum"}));
    let r = d.request("disconnect", json!({}));
    assert_eq!(r["success"], true, "{r}");
    assert!(wait_exit(&mut d.child).success());
}
