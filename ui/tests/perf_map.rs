//! `wdb run --perf-map`: the process writes `/tmp/perf-PID.map` naming the
//! machine code of every tier it runs (baseline, debug, optimized, and both
//! under dynamic tiering), one `START SIZE NAME [tier]` line per function.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `wdb run --perf-map ARGS`, returns (stdout, the map's lines) and
/// removes the map.
fn run_with_map(args: &[&str]) -> (String, Vec<String>) {
    let child = Command::new(env!("CARGO_BIN_EXE_wdb"))
        .args(["run", "--perf-map"])
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start wdb");
    let map = PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
    let out = child.wait_with_output().expect("wait for wdb");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "wdb run {args:?}: {stderr}");
    let text = std::fs::read_to_string(&map)
        .unwrap_or_else(|e| panic!("{}: {e} (wdb run {args:?}; stderr {stderr})", map.display()));
    let _ = std::fs::remove_file(&map);
    let lines = text.lines().map(str::to_string).collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), lines)
}

/// (start, size, name) of a map line; panics on a malformed one.
fn parse(line: &str) -> (u64, u64, &str) {
    let mut it = line.splitn(3, ' ');
    let start = u64::from_str_radix(it.next().unwrap(), 16).expect("hex start");
    let size = u64::from_str_radix(it.next().expect("size"), 16).expect("hex size");
    let name = it.next().expect("name");
    assert!(start > 0 && size > 0, "{line}");
    (start, size, name)
}

/// The lines naming `func` in `tier`.
fn entries<'a>(lines: &'a [String], func: &str, tier: &str) -> Vec<&'a String> {
    let want = format!(" {func} [{tier}]");
    lines.iter().filter(|l| l.ends_with(&want)).collect()
}

#[test]
fn every_tier_writes_named_functions() {
    for (tier, tag) in [
        ("baseline", "baseline"),
        ("debug", "baseline·debug"),
        ("optimized", "optimized"),
    ] {
        let (stdout, lines) = run_with_map(&["--tier", tier, "samples/fib.wasm", "--", "0.01"]);
        assert!(stdout.contains("checksum "), "{tier}: {stdout}");
        for l in &lines {
            parse(l);
        }
        // fib.wasm keeps its name section: the recursive kernel and main are named.
        for f in ["fib", "main"] {
            assert_eq!(
                entries(&lines, f, tag).len(),
                1,
                "{tier}: one `{f} [{tag}]` line in\n{}",
                lines.join("\n")
            );
        }
        assert!(
            lines.iter().all(|l| !l.contains("wasm[")),
            "{tier}: every function of a module with names is named:\n{}",
            lines.join("\n")
        );
    }
}

#[test]
fn dynamic_tiering_adds_the_optimized_code() {
    // A tiny budget: the hot kernel tiers up while the program runs. The
    // compile workers run at nice +10 behind every other function the tiny
    // budget queues (dlmalloc, __floatscan, ...), so the run must outlast
    // them on a loaded 2-core machine: at 0.01 (0.1 s) CI once exited before
    // fib's turn came. 0.2 runs about 2 s in a dev build.
    let (_, lines) = run_with_map(&[
        "--tier",
        "dynamic",
        "--tiering-budget",
        "1000",
        "samples/fib.wasm",
        "--",
        "0.2",
    ]);
    assert_eq!(entries(&lines, "fib", "baseline").len(), 1, "{lines:?}");
    // One optimized object for fib; an OSR entry, made when a long call
    // moved up mid-loop (issue 11), is `NAME [osr]`, not a second
    // `NAME [optimized]`.
    assert_eq!(entries(&lines, "fib", "optimized").len(), 1, "{lines:?}");
    for l in lines.iter().filter(|l| l.ends_with(" [osr]")) {
        let (_, _, name) = parse(l);
        assert!(!name.starts_with("wasm["), "an OSR entry is named: {l}");
    }
    let (a, _, _) = parse(entries(&lines, "fib", "baseline")[0]);
    let (b, _, _) = parse(entries(&lines, "fib", "optimized")[0]);
    assert_ne!(a, b, "two tiers, two code addresses");
}

/// A mixed module's code is one object holding both tiers: each function's
/// line names the tier that compiled it (not the object's label).
#[test]
fn mixed_tiers_are_named_per_function() {
    let (stdout, lines) = run_with_map(&["--tier", "mixed", "samples/fib.wasm", "--", "0.01"]);
    assert!(stdout.contains("checksum "), "{stdout}");
    let named: Vec<&String> = lines.iter().filter(|l| !l.contains("trampoline")).collect();
    for tag in ["baseline", "optimized"] {
        assert!(
            named.iter().any(|l| l.ends_with(&format!(" [{tag}]"))),
            "no `[{tag}]` function under --tier mixed:\n{}",
            lines.join("\n")
        );
    }
    for f in ["fib", "main"] {
        let n = ["baseline", "optimized"]
            .iter()
            .map(|t| entries(&lines, f, t).len())
            .sum::<usize>();
        assert_eq!(n, 1, "one line for `{f}`:\n{}", lines.join("\n"));
    }
}

#[test]
fn without_the_flag_no_map_is_written() {
    let child = Command::new(env!("CARGO_BIN_EXE_wdb"))
        .args(["run", "samples/fib.wasm", "--", "0.01"])
        .current_dir(root())
        .stdout(Stdio::null())
        .spawn()
        .expect("cannot start wdb");
    let map = PathBuf::from(format!("/tmp/perf-{}.map", child.id()));
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert!(
        !map.exists(),
        "{} written without --perf-map",
        map.display()
    );
}
