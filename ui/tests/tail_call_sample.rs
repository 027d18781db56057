//! The tail-call sample (`samples/c/tokens.c`: tokenizer states that tail-call
//! each other with `musttail`, built with `clang-22 -mtail-call -O0 -g` into
//! `return_call`s): 2.6 million tail calls run in every tier and print what a
//! native gcc build prints (package g++, which brings gcc, in scripts/test.sh);
//! in the debugger `bt` inside a state notes on its caller that frames were
//! replaced by tail calls, and `step` follows a tail call into the next state.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const TIERS: [&str; 5] = ["baseline", "debug", "optimized", "mixed", "dynamic"];

fn native_output() -> String {
    let dir = std::env::temp_dir().join(format!("wdb-tail-sample-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("tokens");
    let cc = Command::new("gcc")
        .args(["-O2", "-o"])
        .arg(&exe)
        .arg(root().join("samples/c/tokens.c"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run gcc (install package g++ or gcc): {e}"));
    assert!(
        cc.status.success(),
        "gcc tokens.c: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new(&exe).output().expect("run native tokens");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "native tokens exited {}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_tail_call_sample_matches_the_native_build_in_every_tier() {
    let native = native_output();
    assert!(
        native.contains("repeated: 2600000 chars, 800000 tokens"),
        "{native}"
    );
    for tier in TIERS {
        let out = Command::new(env!("CARGO_BIN_EXE_wdb"))
            .args(["run", "--tier", tier, "samples/tokens-g.wasm"])
            .current_dir(root())
            .output()
            .expect("cannot run wdb");
        assert!(
            out.status.success(),
            "wdb run --tier {tier} tokens-g.wasm: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), native, "tier {tier}");
    }
}

#[test]
fn the_tail_call_sample_is_debuggable() {
    let dir = std::env::temp_dir().join(format!("wdb-tail-debug-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cmds = dir.join("cmds");
    std::fs::write(
        &cmds,
        "break in_number\nc\nbt\nnext\nnext\nnext\nnext\nstep\nbt\ndisas in_number\ndelete\nc\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wdb"))
        .args(["debug", "--batch", "-x"])
        .arg(&cmds)
        .arg("samples/tokens-g.wasm")
        .current_dir(root())
        .output()
        .expect("cannot run wdb");
    let _ = std::fs::remove_dir_all(&dir);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    let mut rest: &str = &text;
    for want in [
        "Breakpoint 1 at 0x873: in_number, tokens.c:68",
        "Stopped (breakpoint 1) in in_number (#12) at 0x873, tokens.c:68",
        // One state frame (at=4: the '0' of "2025"), then its caller: the
        // states in between were replaced by tail calls.
        "#0  in_number (text=0x1003b \"In 2025, Wasm 3.0",
        "at=4, len=60",
        "#1  0x000387 in tokenize (",
        "note: called in_space (#8); frames replaced by tail calls are not shown",
        "#2  0x0001df in __original_main () at tokens.c:88",
        // Over the lines of the state to its tail call, which `step` follows.
        "tokens.c:72",
        "TAIL return in_number(text, at + 1, len, c);",
        "(wdb) step\nStopped (step) in in_number (#12) at 0x844, tokens.c:67",
        "(wdb) bt\n#0  in_number (",
        "#1  0x000387 in tokenize (",
        "note: called in_space (#8); frames replaced by tail calls are not shown",
        "0x000921  return_call $in_number",
        "repeated: 2600000 chars, 800000 tokens",
        "Program exited with code 0",
    ] {
        match rest.find(want) {
            Some(i) => rest = &rest[i + want.len()..],
            None => panic!("missing {want:?} (in order) in:\n{text}"),
        }
    }
}
