//! `wdb dap` on stdio with bad input: truncated JSON, wrong argument types,
//! requests out of order and unknown requests get error responses and the
//! session goes on; a client that goes away mid-run ends the adapter (and
//! with it the program, which runs inside it), leaving no process behind.

use serde_json::{json, Value};
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
        }
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
