//! The C++ exceptions sample (`samples/c/ledger.cpp`, built with `-fwasm-exceptions` by
//! `samples/build-cpp-eh.sh` in the legacy and the exnref encoding) under `wdb run` in
//! every tier prints exactly what a native build of the same source prints. The oracle is
//! the native program, compiled here with g++ (package g++, in scripts/test.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const MODULES: [&str; 2] = ["ledger-g.wasm", "ledger-exnref-g.wasm"];
const TIERS: [&str; 5] = ["baseline", "debug", "optimized", "mixed", "dynamic"];

/// Builds and runs the native program; returns its stdout (it must exit 0).
fn native_output() -> String {
    let dir = std::env::temp_dir().join(format!("wdb-cpp-exceptions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let exe = dir.join("ledger");
    let cc = Command::new("g++")
        .args(["-O0", "-o"])
        .arg(&exe)
        .arg(root().join("samples/c/ledger.cpp"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run g++ (install package g++): {e}"));
    assert!(
        cc.status.success(),
        "g++ ledger.cpp: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new(&exe).output().expect("run native ledger");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "native ledger exited {}", out.status);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_cpp_exceptions_sample_prints_what_the_native_build_prints_in_every_tier() {
    let native = native_output();
    // The program really throws: a parse error, an int, an unknown command, rethrows.
    assert!(
        native.contains("parse error at 4:3: bad amount '4x'"),
        "{native}"
    );
    assert!(native.contains("refused with code 402"), "{native}");
    assert!(native.contains("unknown command"), "{native}");
    assert!(
        native.contains("failed lines: 5, ledger errors rethrown: 3"),
        "{native}"
    );
    for module in MODULES {
        for tier in TIERS {
            let out = Command::new(env!("CARGO_BIN_EXE_wdb"))
                .args(["run", "--tier", tier, &format!("samples/{module}")])
                .current_dir(root())
                .output()
                .expect("cannot run wdb");
            assert!(
                out.status.success(),
                "wdb run --tier {tier} {module}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                native,
                "wdb run --tier {tier} {module}"
            );
        }
    }
}
