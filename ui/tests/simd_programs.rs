//! `wdb run` on real C programs built with `clang -O2 -msimd128` (the
//! imgproc sample and the auto-vectorized benchmark samples): every tier
//! (baseline, debug, optimized, mixed, dynamic) prints exactly what V8 prints
//! (Node's `node:wasi` through `benches/runners/node_wasi.mjs`), timing lines
//! aside. The modules really hold vector code (`ModuleInfo::uses_v128`).
//! Needs `node` (package nodejs, in scripts/test.sh).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

const PROGRAMS: [&str; 6] = [
    "imgproc.wasm",
    "nbody-simd.wasm",
    "matmul-simd.wasm",
    "sha256-simd.wasm",
    "sieve-simd.wasm",
    "interp-simd.wasm",
];

const SCALE: &str = "0.01";

fn without_timing(s: &[u8]) -> String {
    String::from_utf8_lossy(s)
        .lines()
        .filter(|l| !l.starts_with("kernel_ms"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn v8_output(module: &str) -> String {
    let out = Command::new("node")
        .args([
            "--no-warnings",
            "--no-turbo-fast-api-calls",
            "benches/runners/node_wasi.mjs",
            "run",
            &format!("samples/{module}"),
            SCALE,
        ])
        .current_dir(root())
        .output()
        .unwrap_or_else(|e| panic!("cannot run node (install package nodejs): {e}"));
    assert!(
        out.status.success(),
        "node {module}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    without_timing(&out.stdout)
}

fn wdb_output(module: &str, tier: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wdb"))
        .args([
            "run",
            "--tier",
            tier,
            &format!("samples/{module}"),
            "--",
            SCALE,
        ])
        .current_dir(root())
        .output()
        .expect("cannot run wdb");
    assert!(
        out.status.success(),
        "wdb run --tier {tier} {module}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    without_timing(&out.stdout)
}

/// Functions of the module with vector code.
fn vector_functions(module: &str) -> usize {
    let engine = wdb::Engine::new(wdb::Config::default()).expect("engine");
    let m = wdb::Module::from_file(&engine, root().join("samples").join(module))
        .unwrap_or_else(|e| panic!("{module}: {e}"));
    let info = m.info();
    let first = info.num_imported_funcs;
    (first..first + info.num_defined_funcs())
        .filter(|&f| info.uses_v128(f))
        .count()
}

#[test]
fn vector_programs_print_what_v8_prints() {
    for module in PROGRAMS {
        assert!(vector_functions(module) > 0, "{module}: no vector code");
        let want = v8_output(module);
        assert!(want.contains("checksum"), "{module}: V8 printed {want:?}");
        for tier in ["baseline", "debug", "optimized", "mixed", "dynamic"] {
            assert_eq!(wdb_output(module, tier), want, "{module} --tier {tier}");
        }
    }
}
