//! Running `wdb debug --gdbserver` and the real LLDB (Debian's lldb-22, its
//! wasm process plugin) against it: the server on a free port, LLDB in batch
//! mode with its transcript, and checks along the transcript. A test that
//! needs LLDB fails, naming the package, when lldb-22 is missing.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::Duration;

/// The repository's root (samples are found from here).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Starts `wdb debug --gdbserver 127.0.0.1:0` on `sample` (relative to the
/// repository) with `options` before `--` and `args` after it; returns the
/// server and the port it reports on its first line.
pub fn server_for(sample: &str, options: &[&str], args: &[&str]) -> (Child, u16) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wdb"))
        .args(["debug", "--gdbserver", "127.0.0.1:0"])
        .arg(root().join(sample))
        .args(options)
        .arg("--")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start wdb");
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let port = line
        .trim()
        .strip_prefix("wdb: listening on 127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .parse()
        .unwrap();
    // Keep draining stderr so the server never blocks on it.
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = err.read_to_string(&mut sink);
    });
    (child, port)
}

/// Waits for the server to end, which it must once its client is gone.
pub fn wait_exit(child: &mut Child) -> ExitStatus {
    // A liveness bound, not a timing assertion: the server must go away.
    for _ in 0..600 {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    panic!("wdb is still running after its client went away");
}

/// Fails the test, naming the package, unless lldb-22 runs.
pub fn require_lldb() {
    let found = Command::new("lldb-22")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "lldb-22 not found: install the Debian package lldb-22 (scripts/test.sh does)"
    );
}

/// Runs `lldb-22 -b -x ARGS` (batch mode, no init files); returns how it
/// ended and its transcript (stdout, then stderr), which is also printed.
pub fn lldb(args: &[&str]) -> (Output, String) {
    require_lldb();
    let out = Command::new("lldb-22")
        .args(["-b", "-x"])
        .args(args)
        .output()
        .expect("run lldb-22");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    (out, text)
}

/// Index of `needle` in `text` after `from`, or a panic showing the transcript.
pub fn after(text: &str, from: usize, needle: &str) -> usize {
    match text[from..].find(needle) {
        Some(i) => from + i + needle.len(),
        None => panic!("`{needle}` not found after byte {from} in the LLDB transcript:\n{text}"),
    }
}
