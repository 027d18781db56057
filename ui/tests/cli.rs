//! The `wdb` binary (package `wdb-ui`), run as a process: every public behaviour
//! of `run`, `wast`, `compile` and `--help` (DESIGN.md §4), the `.wat` samples
//! against `samples/expected/wat.tsv`, and the WASI samples against
//! `samples/expected/manifest.tsv`.

use std::path::Path;
use std::process::Command;

/// Exit status of a trap (128 + SIGABRT, as Wasmtime).
const TRAP_EXIT: i32 = 134;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the ui package sits inside the workspace root")
}

/// The `wdb` binary Cargo built for these tests.
fn wdb_path() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wdb"))
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl std::fmt::Debug for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

fn wdb(args: &[&str]) -> Out {
    let out = Command::new(wdb_path())
        .args(args)
        .current_dir(root())
        .output()
        .expect("cannot run wdb");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Out {
    fn ok(self) -> Out {
        assert_eq!(self.code, 0, "{self:?}");
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        self
    }

    fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// A usage or load error: non-zero exit, exactly one line on stderr, no panic.
    fn error(self) -> Out {
        assert_ne!(self.code, 0, "{self:?}");
        assert_ne!(self.code, TRAP_EXIT, "{self:?}");
        assert!(!self.stderr.contains("panicked"), "{self:?}");
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "one line of error: {self:?}"
        );
        self
    }

    fn err_has(self, parts: &[&str]) -> Out {
        for p in parts {
            assert!(self.stderr.contains(p), "stderr lacks {p:?}: {self:?}");
        }
        self
    }
}

/// A file in Cargo's scratch directory for integration tests (under `target/`).
fn temp_file(name: &str, bytes: &[u8]) -> String {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-test");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_string_lossy().into_owned()
}

const TIERS: [&str; 2] = ["baseline", "debug"];

#[test]
fn run_invoke_prints_result() {
    let out = wdb(&["run", "samples/fib.wat", "--invoke", "fib", "--", "20"]).ok();
    assert_eq!(out.stdout, "6765\n");
    for tier in TIERS {
        let out = wdb(&[
            "run",
            "samples/fib.wat",
            "--tier",
            tier,
            "--invoke",
            "fib",
            "--",
            "20",
        ])
        .ok();
        assert_eq!(out.stdout, "6765\n", "--tier {tier}");
        let out = wdb(&[
            "run",
            "--tier",
            tier,
            "--invoke",
            "fib",
            "samples/fib.wat",
            "--",
            "10",
        ])
        .ok();
        assert_eq!(out.stdout, "55\n", "options before the file, --tier {tier}");
    }
}

const TYPES_WAT: &str = r#"(module
  (func (export "multi") (param i32) (result i32 i64 f64 i32)
    local.get 0
    local.get 0 i64.extend_i32_s i64.const 1000000000000 i64.mul
    local.get 0 f64.convert_i32_s f64.const 0.5 f64.mul
    i32.const -1)
  (func (export "none"))
  (func (export "seven") (result i32) i32.const 7)
  (func (export "i64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.sub)
  (func (export "f32") (param f32 f32) (result f32) local.get 0 local.get 1 f32.mul)
  (func (export "f64") (param f64) (result f64) local.get 0 f64.sqrt)
  (func (export "i32") (param i32) (result i32) local.get 0)
  (memory (export "mem") 1)
  (global (export "g") i32 (i32.const 1)))"#;

#[test]
fn run_prints_every_result_on_its_own_line() {
    let f = temp_file("types1.wat", TYPES_WAT.as_bytes());
    for tier in TIERS {
        let out = wdb(&["run", &f, "--tier", tier, "--invoke", "multi", "--", "3"]).ok();
        assert_eq!(
            out.lines(),
            ["3", "3000000000000", "1.5", "-1"],
            "--tier {tier}"
        );
        let out = wdb(&["run", &f, "--tier", tier, "--invoke", "none"]).ok();
        assert_eq!(out.stdout, "", "no results, no output");
        let out = wdb(&["run", &f, "--tier", tier, "--invoke", "seven", "--"]).ok();
        assert_eq!(out.stdout, "7\n");
    }
}

#[test]
fn run_parses_and_prints_every_number_type() {
    let f = temp_file("types2.wat", TYPES_WAT.as_bytes());
    let run = |args: &[&str]| {
        let mut v = vec!["run", f.as_str(), "--invoke"];
        v.extend_from_slice(args);
        wdb(&v).ok().stdout
    };
    assert_eq!(
        run(&["i64", "--", "9223372036854775807", "-1"]),
        "-9223372036854775808\n"
    );
    assert_eq!(
        run(&["i64", "--", "-9223372036854775808", "1"]),
        "9223372036854775807\n"
    );
    assert_eq!(run(&["i64", "--", "5000000000", "0x10"]), "4999999984\n");
    assert_eq!(run(&["f32", "--", "1.5", "-2"]), "-3\n");
    assert_eq!(
        run(&["f32", "--", "0.1", "3"]),
        format!("{}\n", 0.1f32 * 3.0)
    );
    assert_eq!(run(&["f64", "--", "2.25"]), "1.5\n");
    assert_eq!(run(&["f64", "--", "2"]), format!("{}\n", 2f64.sqrt()));
    assert_eq!(run(&["f64", "--", "-1"]), "NaN\n");
    assert_eq!(run(&["f64", "--", "inf"]), "inf\n");
    assert_eq!(run(&["i32", "--", "-2147483648"]), "-2147483648\n");
    assert_eq!(run(&["i32", "--", "0x7fffffff"]), "2147483647\n");
    assert_eq!(
        run(&["i32", "--", "4294967295"]),
        "-1\n",
        "u32 range wraps to i32"
    );
}

#[test]
fn run_argument_errors_are_one_line() {
    let f = temp_file("types3.wat", TYPES_WAT.as_bytes());
    // Wrong argument count.
    wdb(&["run", "samples/fib.wat", "--invoke", "fib", "--", "1", "2"])
        .error()
        .err_has(&["1 argument", "2 given"]);
    wdb(&["run", "samples/fib.wat", "--invoke", "fib"])
        .error()
        .err_has(&["1 argument", "0 given"]);
    wdb(&["run", &f, "--invoke", "none", "--", "1"])
        .error()
        .err_has(&["0 argument"]);
    // Bad argument types.
    wdb(&["run", "samples/fib.wat", "--invoke", "fib", "--", "abc"])
        .error()
        .err_has(&["abc", "i32"]);
    wdb(&["run", "samples/fib.wat", "--invoke", "fib", "--", "1.5"])
        .error()
        .err_has(&["1.5", "i32"]);
    wdb(&[
        "run",
        "samples/fib.wat",
        "--invoke",
        "fib",
        "--",
        "4294967296",
    ])
    .error()
    .err_has(&["4294967296"]);
    wdb(&[
        "run",
        &f,
        "--invoke",
        "i64",
        "--",
        "1",
        "18446744073709551616",
    ])
    .error()
    .err_has(&["argument 2", "i64"]);
    wdb(&["run", &f, "--invoke", "f32", "--", "x", "1"])
        .error()
        .err_has(&["argument 1", "f32"]);
    wdb(&["run", &f, "--invoke", "f64", "--", "1.0.0"])
        .error()
        .err_has(&["f64"]);
}

#[test]
fn run_unknown_export_lists_exported_functions() {
    let out = wdb(&["run", "samples/fib.wat", "--invoke", "fibonacci", "--", "1"]).error();
    out.err_has(&["fibonacci", "fib.wat", "exported functions: fib"]);
    let f = temp_file("types4.wat", TYPES_WAT.as_bytes());
    let out = wdb(&["run", &f, "--invoke", "mem"]).error();
    // A memory is not a function; the list names functions only.
    let out = out.err_has(&["mem", "multi", "none", "seven", "i64", "f32", "f64", "i32"]);
    let listed = out
        .stderr
        .split("exported functions:")
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        !listed.contains("mem") && !listed.contains(" g"),
        "{listed}"
    );
    // Without --invoke wdb runs `_start`, which fib.wat lacks.
    wdb(&["run", "samples/fib.wat"])
        .error()
        .err_has(&["_start", "fib"]);
}

#[test]
fn run_missing_file() {
    wdb(&["run", "samples/no-such-file.wasm"])
        .error()
        .err_has(&["samples/no-such-file.wasm"]);
    wdb(&["compile", "samples/no-such-file.wasm"])
        .error()
        .err_has(&["no-such-file.wasm"]);
    wdb(&["wast", "samples/no-such-file.wast"])
        .error()
        .err_has(&["no-such-file.wast"]);
}

#[test]
fn run_invalid_binary_names_byte_offset() {
    // A binary header followed by garbage.
    let f = temp_file("bad1.wasm", b"\0asm\x01\0\0\0\x01\x05\x01\x60\xff\xff");
    wdb(&["run", &f, "--invoke", "f"])
        .error()
        .err_has(&["bad1.wasm", "byte offset"]);
    // A wrong version.
    let f = temp_file("bad2.wasm", b"\0asm\x02\0\0\0");
    wdb(&["run", &f])
        .error()
        .err_has(&["bad2.wasm", "byte offset"]);
    wdb(&["compile", &f])
        .error()
        .err_has(&["bad2.wasm", "byte offset"]);
    // A function body that does not validate names its offset.
    let bytes =
        wdb::wasm_bytes(b"(module (func (export \"f\") (result i32) i32.const 1 i32.const 2))")
            .unwrap();
    let f = temp_file("bad3.wasm", &bytes);
    wdb(&["run", &f, "--invoke", "f"])
        .error()
        .err_has(&["bad3.wasm", "byte offset"]);
    // Plain garbage in a .wasm file (no magic number, not UTF-8): an invalid
    // binary, not a text-format error.
    let garbage: Vec<u8> = (0u32..64)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8 | 0x80)
        .collect();
    let f = temp_file("garbage.wasm", &garbage);
    wdb(&["run", &f])
        .error()
        .err_has(&["garbage.wasm", "byte offset"]);
}

#[test]
fn run_invalid_text() {
    let f = temp_file(
        "bad.wat",
        b"(module (func (export \"f\") (result i32)\n  i32.const 1\n  i32.add))\n",
    );
    wdb(&["run", &f, "--invoke", "f"])
        .error()
        .err_has(&["bad.wat"]);
    let f = temp_file("unclosed.wat", b"(module (func\n");
    wdb(&["run", &f, "--invoke", "f"])
        .error()
        .err_has(&["unclosed.wat"]);
    let f = temp_file("words.wat", b"this is not wat\n");
    wdb(&["run", &f]).error().err_has(&["words.wat"]);
}

#[test]
fn run_trap_exits_134_and_names_trap_and_function() {
    for tier in TIERS {
        let out = wdb(&[
            "run",
            "samples/trap.wat",
            "--tier",
            tier,
            "--invoke",
            "boom",
        ]);
        assert_eq!(out.code, TRAP_EXIT, "{out:?}");
        assert!(!out.stderr.contains("panicked"), "{out:?}");
        assert_eq!(out.stdout, "");
        let first = out.stderr.lines().next().unwrap_or("");
        assert!(
            first.contains("trap.wat")
                && first.contains("unreachable")
                && first.contains("innermost"),
            "{out:?}"
        );
        // The backtrace names every frame, innermost first.
        let (a, b, c) = (
            out.stderr.find("innermost"),
            out.stderr.find("inner ("),
            out.stderr.find("boom"),
        );
        assert!(
            a.is_some() && b.is_some() && c.is_some() && a < b && b < c,
            "{out:?}"
        );
        let out = wdb(&[
            "run",
            "samples/trap.wat",
            "--tier",
            tier,
            "--invoke",
            "divide",
            "--",
            "1",
            "0",
        ]);
        assert_eq!(out.code, TRAP_EXIT, "{out:?}");
        out.err_has(&["integer divide by zero", "divide", "0x"]);
    }
}

#[test]
fn unknown_tier_is_an_error() {
    wdb(&[
        "run",
        "samples/fib.wat",
        "--tier",
        "turbo",
        "--invoke",
        "fib",
        "--",
        "1",
    ])
    .error()
    .err_has(&["turbo"]);
    let f = temp_file("ok0.wast", b"(module)\n");
    wdb(&["wast", "--tier", "turbo", &f])
        .error()
        .err_has(&["turbo"]);
    wdb(&["compile", "--tier", "turbo", "samples/fib.wat"])
        .error()
        .err_has(&["turbo"]);
}

/// `wdb wast --features` judges a script by an older feature set: two
/// memories are invalid under Wasm 2.0 and valid under 3.0 (the default).
#[test]
fn wast_features_choose_the_rules() {
    let f = temp_file(
        "two_memories.wast",
        b"(assert_invalid (module (memory 1) (memory 1)) \"multiple memories\")\n",
    );
    let out = wdb(&["wast", "--features", "2.0", &f]).ok();
    assert_eq!(
        out.stdout.lines().last(),
        Some("1 passed, 0 failed"),
        "{out:?}"
    );
    let out = wdb(&["wast", &f]);
    assert_eq!(
        out.stdout.lines().last(),
        Some("0 passed, 1 failed"),
        "{out:?}"
    );
    wdb(&["wast", "--features", "wasm-v9", &f])
        .error()
        .err_has(&["wasm-v9", "2.0", "memory64"]);
}

const PASSING_WAST: &str = r#"
(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
(assert_return (invoke "add" (i32.const -1) (i32.const 1)) (i32.const 0))
(assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
(assert_invalid (module (func (result i32) i64.const 0)) "type mismatch")
"#;

#[test]
fn wast_reports_passed_and_failed() {
    let good = temp_file("good.wast", PASSING_WAST.as_bytes());
    for tier in TIERS {
        let out = wdb(&["wast", "--tier", tier, &good]).ok();
        assert_eq!(
            out.stdout.lines().last(),
            Some("4 passed, 0 failed"),
            "--tier {tier}: {out:?}"
        );
        assert!(
            out.stdout.lines().next().unwrap().contains("good.wast"),
            "one line per file: {out:?}"
        );
    }
    let bad_text = format!("{PASSING_WAST}(assert_return (invoke \"add\" (i32.const 2) (i32.const 2)) (i32.const 5))\n");
    let bad = temp_file("bad.wast", bad_text.as_bytes());
    for tier in TIERS {
        let out = wdb(&["wast", "--tier", tier, &bad]);
        assert_ne!(out.code, 0, "{out:?}");
        assert!(!out.stderr.contains("panicked"), "{out:?}");
        assert_eq!(
            out.stdout.lines().last(),
            Some("4 passed, 1 failed"),
            "{out:?}"
        );
        assert!(
            out.stdout.contains("bad.wast"),
            "the failure names its file: {out:?}"
        );
    }
    // Several files: one line each, then the total.
    let out = wdb(&["wast", &good, &bad]);
    assert_ne!(out.code, 0);
    assert_eq!(
        out.stdout.lines().last(),
        Some("8 passed, 1 failed"),
        "{out:?}"
    );
    // A script that does not parse counts as a failure, not a crash.
    let broken = temp_file("broken.wast", b"(module (func\n");
    let out = wdb(&["wast", &broken]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(!out.stderr.contains("panicked"), "{out:?}");
    assert!(out.stdout.contains("1 failed"), "{out:?}");
}

/// `functions: F, code: B bytes, time: T ms, throughput: X MB/s`, parsed.
fn parse_compile_line(line: &str) -> Option<(u64, u64, f64, f64)> {
    let mut parts = line.split(", ");
    let num = |p: Option<&str>, pre: &str, post: &str| -> Option<String> {
        let s = p?.strip_prefix(pre)?.strip_suffix(post)?;
        let ok = !s.is_empty() && s.chars().all(|c| c.is_ascii_digit() || c == '.');
        ok.then(|| s.to_string())
    };
    let f = num(parts.next(), "functions: ", "")?.parse().ok()?;
    let b = num(parts.next(), "code: ", " bytes")?.parse().ok()?;
    let t = num(parts.next(), "time: ", " ms")?.parse().ok()?;
    let x = num(parts.next(), "throughput: ", " MB/s")?.parse().ok()?;
    parts.next().is_none().then_some((f, b, t, x))
}

#[test]
fn compile_prints_one_line_of_stats() {
    for args in [
        &["compile", "samples/big.wasm"][..],
        &["compile", "samples/big.wasm", "--threads", "4"][..],
    ] {
        let out = wdb(args).ok();
        assert_eq!(out.lines().len(), 1, "{out:?}");
        let (f, b, t, x) =
            parse_compile_line(out.lines()[0]).unwrap_or_else(|| panic!("bad line: {out:?}"));
        assert!(f >= 1400, "{f} functions");
        assert!(b > 2_000_000, "{b} bytes");
        assert!(t > 0.0 && x > 0.0);
        // X = B / T (in MB/s), up to the printed rounding.
        let want = b as f64 / 1e6 / (t / 1000.0);
        assert!(
            (x - want).abs() <= want * 0.05 + 0.2,
            "throughput {x} vs {want}"
        );
    }
    let out = wdb(&["compile", "samples/fib.wat", "--tier", "debug"]).ok();
    let (f, ..) = parse_compile_line(out.lines()[0]).unwrap_or_else(|| panic!("bad line: {out:?}"));
    assert_eq!(f, 1);
}

#[test]
fn help_and_usage() {
    let out = wdb(&["--help"]).ok();
    for cmd in ["run", "wast", "compile"] {
        assert!(out.stdout.contains(cmd), "{out:?}");
    }
    for cmd in ["run", "wast", "compile"] {
        let out = wdb(&[cmd, "--help"]).ok();
        assert!(out.stdout.contains("Usage"), "{out:?}");
    }
    let out = wdb(&["run", "--help"]).ok();
    for opt in ["--invoke", "--tier", "--dir", "--env"] {
        assert!(out.stdout.contains(opt), "{out:?}");
    }
    let out = wdb(&[]);
    assert_ne!(out.code, 0);
    assert!(!out.stderr.contains("panicked"));
    let out = wdb(&["frobnicate"]);
    assert_ne!(out.code, 0);
    assert!(!out.stderr.contains("panicked"));
}

/// Rows of a tab-separated expectations file, without comments and header.
fn tsv(name: &str, header: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(root().join("samples/expected").join(name)).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.starts_with(header))
        .map(|l| l.split('\t').map(|s| s.to_string()).collect())
        .collect()
}

#[test]
fn wat_samples_match_expected_results() {
    let rows = tsv("wat.tsv", "file\t");
    assert!(rows.len() >= 30, "{} rows", rows.len());
    let mut checked = 0;
    for row in &rows {
        let [file, export, args, expected] = &row[..] else {
            panic!("bad row {row:?}")
        };
        if !file.ends_with(".wat") {
            continue;
        }
        for tier in TIERS {
            let path = format!("samples/{file}");
            let mut argv = vec![
                "run",
                path.as_str(),
                "--tier",
                tier,
                "--invoke",
                export.as_str(),
                "--",
            ];
            argv.extend(args.split_whitespace());
            let out = wdb(&argv);
            let what = format!("wdb {} => {expected}: {out:?}", argv.join(" "));
            assert!(!out.stderr.contains("panicked"), "{what}");
            if let Some(kind) = expected.strip_prefix("trap:") {
                // Kinds are the spec's trap messages in kebab case.
                let message = kind.replace('-', " ");
                assert_eq!(out.code, TRAP_EXIT, "{what}");
                assert!(out.stderr.contains(&message), "{what}");
                assert_eq!(out.stdout, "", "{what}");
            } else {
                assert_eq!(out.code, 0, "{what}");
                assert_eq!(
                    out.lines(),
                    expected.split_whitespace().collect::<Vec<_>>(),
                    "{what}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 60, "{checked} runs");
}

#[test]
fn wasi_samples_match_expected_output() {
    let rows = tsv("manifest.tsv", "test\t");
    assert!(rows.len() >= 10, "{} rows", rows.len());
    for row in &rows {
        let [test, module, args, exit] = &row[..] else {
            panic!("bad row {row:?}")
        };
        let path = format!("samples/{module}");
        let mut argv = vec!["run", path.as_str(), "--"];
        argv.extend(args.split_whitespace());
        let out = wdb(&argv);
        let what = format!("wdb {}: {out:?}", argv.join(" "));
        assert!(!out.stderr.contains("panicked"), "{what}");
        assert_eq!(out.code.to_string(), *exit, "{what}");
        let expected =
            std::fs::read_to_string(root().join(format!("samples/expected/{test}.txt"))).unwrap();
        let strip = |s: &str| {
            s.lines()
                .filter(|l| !l.starts_with("kernel_ms"))
                .map(|l| format!("{l}\n"))
                .collect::<String>()
        };
        assert_eq!(strip(&out.stdout), strip(&expected), "{what}");
    }
}

// ---- debug --batch and profile ----------------------------------------------------

#[test]
fn debug_batch_steps_breaks_and_inspects() {
    let script = temp_file(
        "fib.cmds",
        b"# a comment\nbt\nsi\nsi\nstack\nb 0x30\ninfo breakpoints\nc\nc\nbt\nlocals\nprint $local0\nfrobnicate\nframe 9\ndisas\ndelete\nc\n",
    );
    let out = wdb(&[
        "debug",
        "--batch",
        "-x",
        &script,
        "samples/fib.wat",
        "--invoke",
        "fib",
        "--",
        "4",
    ])
    .ok();
    let text = &out.stdout;
    for want in [
        "Stopped (entry) in fib (#0) at 0x22 [baseline·debug]",
        "=> 0x000022  local.get $n",
        "(wdb) si\nStopped (step) in fib (#0) at 0x24",
        "[1]        i32  2",
        "Breakpoint 1 at 0x30: fib",
        "Stopped (breakpoint 1) in fib (#0) at 0x30 [baseline·debug]",
        "#1  0x000031 in fib (#0) [baseline·debug]",
        "$n         i32  3",
        "$1 = 3",
        "error: unknown command `frobnicate` (try `help`)",
        "error: no frame 9",
        "=> 0x000030  i32.sub",
        "Program returned: 3",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

#[test]
fn debug_batch_attaches_to_a_running_program() {
    let script = temp_file("attach.cmds", b"sleep 300\npause\nbt\nc\n");
    let out = wdb(&[
        "debug",
        "--batch",
        "--run",
        "-x",
        &script,
        "samples/loop.wat",
        "--invoke",
        "sum_to",
        "--",
        "1000000000",
    ])
    .ok();
    assert!(
        out.stdout.contains("Debug mode: 2 functions tiered down"),
        "{out:?}"
    );
    assert!(out.stdout.contains("Stopped (paused) in sum_to"), "{out:?}");
    assert!(out.stdout.contains("Program returned: "), "{out:?}");
}

/// The attach flow of issue 11 in the batch console: `pause` lands in the
/// running loop of plain baseline or optimized code, and `si` then steps that
/// same function in debug code (on-stack replacement).
#[test]
fn debug_batch_pause_steps_the_running_frame() {
    let script = temp_file("osr.cmds", b"sleep 300\npause\nsi\nsi\nsi\nsi\nsi\nquit\n");
    for (tier, label) in [("baseline", "[baseline]"), ("optimized", "[optimized]")] {
        let out = wdb(&[
            "debug",
            "--batch",
            "--run",
            "--tier",
            tier,
            "-x",
            &script,
            "samples/loop.wat",
            "--invoke",
            "sum_to",
            "--",
            "2000000000",
        ]);
        let text = &out.stdout;
        let paused: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("Stopped (paused) in sum_to"))
            .collect();
        assert_eq!(paused.len(), 1, "{tier}: {out:?}");
        assert!(paused[0].ends_with(label), "{tier}: {}", paused[0]);
        let steps: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("Stopped (step)"))
            .collect();
        assert_eq!(steps.len(), 5, "{tier}: {out:?}");
        for s in steps {
            assert!(
                s.starts_with("Stopped (step) in sum_to (#0)") && s.ends_with("[baseline·debug]"),
                "{tier}: {s}"
            );
        }
    }
}

#[test]
fn debug_errors_are_one_line() {
    wdb(&["debug", "--batch", "no/such/file.wasm"])
        .error()
        .err_has(&["no/such/file.wasm"]);
    let bad = temp_file("bad.wasm", b"\0asm\x01\0\0\0\x01\x05");
    wdb(&["debug", "--batch", &bad])
        .error()
        .err_has(&["bad.wasm"]);
    wdb(&["debug", "--batch", "samples/fib.wat", "--invoke", "nope"])
        .error()
        .err_has(&["no exported function `nope`", "fib"]);
    wdb(&["debug", "-x", "x.cmds", "samples/fib.wat"])
        .error()
        .err_has(&["--batch"]);
}

#[test]
fn profile_prints_results_and_a_profile() {
    let out = wdb(&["profile", "samples/fib.wat", "--invoke", "fib", "--", "32"]).ok();
    assert_eq!(out.lines(), vec!["2178309"], "{out:?}");
    for want in [
        "Profile mode on:",
        "Profile: ",
        "self%",
        "fib",
        "perf map: /tmp/perf-",
    ] {
        assert!(out.stderr.contains(want), "missing {want:?}: {out:?}");
    }
}

/// Issue 18: `set` wrote the parsed bits whatever the target's type (`2` into
/// an f64 gave 1e-323, `1.5` into an f32 gave 0.0) and wrapped integers that
/// do not fit. Values now take the type of the local or global they go to.
#[test]
fn debug_batch_set_converts_to_the_targets_type() {
    let wat = temp_file(
        "set.wat",
        br#"(module
          (global (mut f64) (f64.const 0))
          (global (mut f32) (f32.const 0))
          (global (mut i64) (i64.const 0))
          (func (export "f") (param f64 f32 i32) (result f64 f32 i32 f64 f32 i64)
            local.get 0 local.get 1 local.get 2
            global.get 0 global.get 1 global.get 2))"#,
    );
    let script = temp_file(
        "set.cmds",
        b"set $local0=2\nset $local1=1.5\nset $local2=4294967296\nset $local2=-2147483649\n\
set $local2=1.5\nset $local2=0x1ffffffff\nset $local2=4294967295\nset $global0=-2.5e-3\n\
set $global1=3\nset $global2=18446744073709551616\nset $global2=-7\nset $local1=1e300\n\
set $local1=0x3fc00000\nset $local9=1\nprint $local0\nprint $local1\nprint $global0\nc\n",
    );
    let out = wdb(&[
        "debug", "--batch", "-x", &script, &wat, "--invoke", "f", "--", "9", "9", "9",
    ])
    .ok();
    let text = &out.stdout;
    for want in [
        "$local0 set to 2.0",
        "$local1 set to 1.5",
        "error: $local2: 4294967296 does not fit in i32 (range -2147483648..=4294967295)",
        "error: $local2: -2147483649 does not fit in i32",
        "error: $local2: i32 takes an integer, not 1.5",
        "error: $local2: 0x1ffffffff is wider than i32 (32 bits)",
        "$local2 set to -1",
        "$global0 set to -0.0025",
        "$global1 set to 3.0",
        "error: $global2: 18446744073709551616 does not fit in i64",
        "$global2 set to -7",
        "error: $local1: 1e300 is out of range for f32",
        "$local1 set to 1.5",
        "error: no local 9 (the function has 3)",
        // print answers in gdb's shape: value history number, C value.
        "$1 = 2\n",
        "$2 = 1.5\n",
        "$3 = -0.0025000000000000001\n",
        "Program returned: 2, 1.5, -1, -0.0025, 3, -7",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
}

/// Issue 18: inputs that were accepted but meaningless, or that hung.
#[test]
fn hostile_inputs_get_one_clear_error() {
    // An empty .wasm is an empty module file, not a text-format error.
    let empty = temp_file("empty.wasm", b"");
    for cmd in ["run", "compile"] {
        let out = wdb(&[cmd, &empty])
            .error()
            .err_has(&["empty.wasm", "empty"]);
        assert!(!out.stderr.contains("text"), "{out:?}");
    }
    wdb(&["debug", "--batch", &empty])
        .error()
        .err_has(&["empty.wasm", "empty"]);
    // Devices and directories are not read (reading /dev/zero never ends).
    for path in ["/dev/zero", "/dev/null", "samples"] {
        wdb(&["run", path])
            .error()
            .err_has(&[path, "not a regular file"]);
        wdb(&["debug", "--batch", path])
            .error()
            .err_has(&[path, "not a regular file"]);
    }
    // A module file beyond the size limit is refused before reading (sparse).
    let huge = temp_file("huge.wasm", b"");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len(8 << 30)
        .unwrap();
    wdb(&["run", &huge])
        .error()
        .err_has(&["huge.wasm", "too large", "8589934592 bytes"]);
    // A pipe is fine (bash process substitution is the common case).
    let fifo = std::env::temp_dir().join(format!("wdb-cli-fifo-{}", std::process::id()));
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo (coreutils)");
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            std::fs::write(
                fifo,
                "(module (func (export \"f\") (result i32) i32.const 7))",
            )
        })
    };
    let out = wdb(&["run", fifo.to_str().unwrap(), "--invoke", "f"]).ok();
    assert_eq!(out.stdout.trim(), "7", "{out:?}");
    writer.join().unwrap().unwrap();
    let _ = std::fs::remove_file(&fifo);
    // Bad --dir and --env values are echoed and rejected.
    for bad in ["::/", "::", "/tmp::"] {
        wdb(&[
            "run",
            "--dir",
            bad,
            "samples/fib.wat",
            "--invoke",
            "fib",
            "--",
            "3",
        ])
        .error()
        .err_has(&["--dir", &format!("`{bad}`")]);
    }
    for bad in ["=v", "=", "noequals"] {
        wdb(&[
            "run",
            "--env",
            bad,
            "samples/fib.wat",
            "--invoke",
            "fib",
            "--",
            "3",
        ])
        .error()
        .err_has(&["--env", &format!("`{bad}`")]);
        wdb(&["debug", "--batch", "--env", bad, "samples/fib.wat"])
            .error()
            .err_has(&["--env", &format!("`{bad}`")]);
    }
}

/// Issue 18: extreme floats printed as 300-digit decimals.
#[test]
fn extreme_floats_print_compactly() {
    let wat = temp_file(
        "floats.wat",
        br#"(module
          (func (export "tiny") (result f64) f64.const 0x1p-1074)
          (func (export "huge") (result f64) f64.const 0x1.fffffffffffffp+1023)
          (func (export "small") (result f64) f64.const 1.5e-300)
          (func (export "tiny32") (result f32) f32.const 0x1p-149)
          (func (export "huge32") (result f32) f32.const 0x1.fffffep+127)
          (func (export "plain") (result f64) f64.const 1234.5))"#,
    );
    for (f, want) in [
        ("tiny", "5e-324"),
        ("huge", "1.7976931348623157e308"),
        ("small", "1.5e-300"),
        ("tiny32", "1e-45"),
        ("huge32", "3.4028235e38"),
        ("plain", "1234.5"),
    ] {
        let out = wdb(&["run", &wat, "--invoke", f]).ok();
        assert_eq!(out.stdout.trim(), want, "{f}: {out:?}");
    }
}

/// Runs `wdb` with `input` on its standard input.
fn wdb_stdin(args: &[&str], input: &[u8]) -> Out {
    use std::io::Write;
    let mut child = Command::new(wdb_path())
        .args(args)
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("cannot run wdb");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wdb did not finish");
    feeder.join().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Issue 18: console input that was accepted but meaningless, or that ended
/// or hung the session.
#[test]
fn debug_batch_rejects_meaningless_input_and_goes_on() {
    let wat = temp_file(
        "deep.wat",
        br#"(module
          (func $r (export "r") (param i32) (result i32)
            local.get 0
            i32.eqz
            if (result i32)
              i32.const 0
            else
              local.get 0
              i32.const 1
              i32.sub
              call $r
              i32.const 1
              i32.add
            end))"#,
    );
    let mut input = Vec::new();
    input.extend_from_slice(b"b r if $local99 == 1\nb 0x0 if $local0 == 1\n");
    input.extend_from_slice(b"sleep 999999999\n");
    input.extend_from_slice(b"bad \xff\xfe utf-8\n");
    input.extend_from_slice(
        b"b r if $local0 == 0\nc\nbt\nframe 4500\nframe 6000\nframe 3\ndelete\nc\n",
    );
    let out = wdb_stdin(
        &["debug", "--batch", &wat, "--invoke", "r", "--", "5000"],
        &input,
    )
    .ok();
    let text = &out.stdout;
    for want in [
        "error: no local 99 in r (it has 1: $local0)",
        "error: sleep takes at most",
        "error: line 4 of standard input is not valid UTF-8",
        "Stopped (breakpoint",
        "#4096 ",
        "(904 more frames not shown: the backtrace stops at 4097 of 5001 frames)",
        "error: frame 4500 is beyond the 4097 frames shown (the stack has 5001)",
        "error: no frame 6000 (the stack has 5001)",
        "#3  ",
        "Program returned: 5000",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{}", tail(text));
    }
    // The rejected breakpoints took no number: the good one is the first.
    assert!(
        text.contains("Breakpoint 1 at 0x20: r if $local0 == 0") && !text.contains("Breakpoint 2"),
        "a bad condition was accepted:\n{}",
        tail(text)
    );
}

/// The first and last lines of a long output.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() <= 60 {
        return text.to_string();
    }
    format!(
        "{}\n[...]\n{}",
        lines[..30].join("\n"),
        lines[lines.len() - 30..].join("\n")
    )
}

/// Issue 18: a trap backtrace beyond its limit says how many frames it left out.
#[test]
fn run_trap_backtrace_says_how_many_frames_it_left_out() {
    let wat = temp_file(
        "deeptrap.wat",
        br#"(module (func $r (export "r") (param i32)
          local.get 0 i32.eqz if unreachable end
          local.get 0 i32.const 1 i32.sub call $r))"#,
    );
    let out = wdb(&["run", &wat, "--invoke", "r", "--", "1000"]);
    assert_eq!(out.code, TRAP_EXIT, "{out:?}");
    let frames = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("    at "))
        .count();
    assert_eq!(frames, 256, "{out:?}");
    assert!(out.stderr.contains("    ... 745 more frames"), "{out:?}");
}

// ---- `-` (standard input, streaming) and --lazy ------------------------------------

/// Drops the timing lines of the samples' output.
fn drop_timing(s: &str) -> String {
    s.lines()
        .filter(|l| !l.starts_with("kernel_ms"))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn run_reads_the_module_from_stdin_like_a_file() {
    for (module, args) in [
        ("sha256-g.wasm", "0.01"),
        ("debugme.wasm", "1000"),
        ("interp.wasm", "0.01"),
    ] {
        let path = format!("samples/{module}");
        let bytes = std::fs::read(root().join(&path)).unwrap();
        let from_file = wdb(&["run", &path, "--", args]).ok();
        assert!(from_file.stdout.lines().count() >= 3, "{from_file:?}");
        for extra in [&[][..], &["--lazy"][..], &["--tier", "baseline"][..]] {
            let mut argv = vec!["run"];
            argv.extend_from_slice(extra);
            argv.extend(["-", "--", args]);
            let from_stdin = wdb_stdin(&argv, &bytes).ok();
            assert_eq!(
                drop_timing(&from_stdin.stdout),
                drop_timing(&from_file.stdout),
                "wdb {}",
                argv.join(" ")
            );
        }
        let lazy = wdb(&["run", "--lazy", &path, "--", args]).ok();
        assert_eq!(drop_timing(&lazy.stdout), drop_timing(&from_file.stdout));
    }
    // The text format, and --invoke, from standard input.
    let wat = std::fs::read(root().join("samples/fib.wat")).unwrap();
    let out = wdb_stdin(&["run", "-", "--invoke", "fib", "--", "20"], &wat).ok();
    assert_eq!(out.stdout.trim(), "6765", "{out:?}");
}

#[test]
fn truncated_stdin_fails_like_a_truncated_file() {
    let bytes = std::fs::read(root().join("samples/fib-g.wasm")).unwrap();
    for len in [9, 100, 3000, 20_000, bytes.len() - 10] {
        let cut = temp_file("cut.wasm", &bytes[..len]);
        let from_file = wdb(&["run", &cut]).error();
        let from_stdin = wdb_stdin(&["run", "-"], &bytes[..len]).error();
        let file_msg = from_file.stderr.replace(&cut, "<stdin>");
        assert_eq!(from_stdin.stderr, file_msg, "cut at {len}");
        assert!(from_stdin.stderr.contains("byte offset"), "{from_stdin:?}");
    }
    wdb_stdin(&["run", "-"], b"")
        .error()
        .err_has(&["<stdin>", "empty"]);
}

#[test]
fn compile_reads_stdin_and_lazy_validates_only() {
    let bytes = std::fs::read(root().join("samples/big.wasm")).unwrap();
    let file = wdb(&["compile", "samples/big.wasm"]).ok();
    let (f, b, ..) = parse_compile_line(file.lines()[0]).unwrap();
    for args in [
        &["compile", "-"][..],
        &["compile", "-", "--threads", "2"][..],
        &["compile", "-", "--lazy"][..],
    ] {
        let out = wdb_stdin(args, &bytes).ok();
        assert_eq!(out.lines().len(), 1, "{out:?}");
        let (f2, b2, t, _) =
            parse_compile_line(out.lines()[0]).unwrap_or_else(|| panic!("bad line: {out:?}"));
        assert_eq!((f2, b2), (f, b), "{args:?}");
        assert!(t > 0.0);
    }
    let out = wdb(&["compile", "samples/big.wasm", "--lazy"]).ok();
    assert_eq!(parse_compile_line(out.lines()[0]).unwrap().0, f);
    // An invalid body is reported without --lazy and with it alike.
    let bad = b"(module (func (result i32) i64.const 1))";
    let eager = wdb_stdin(&["compile", "-"], bad).error();
    let lazy = wdb_stdin(&["compile", "-", "--lazy"], bad).error();
    assert_eq!(eager.stderr, lazy.stderr);
    assert!(eager.stderr.contains("type mismatch"), "{eager:?}");
}

#[test]
fn debug_reads_the_module_from_stdin() {
    let script = temp_file("stdin.cmds", b"bt\nc\n");
    let wat = std::fs::read(root().join("samples/fib.wat")).unwrap();
    for extra in [&[][..], &["--eager"][..]] {
        let mut argv = vec!["debug", "--batch", "-x", &script];
        argv.extend_from_slice(extra);
        argv.extend(["-", "--invoke", "fib", "--", "4"]);
        let out = wdb_stdin(&argv, &wat).ok();
        assert!(
            out.stdout
                .contains("Stopped (entry) in fib (#0) at 0x22 [baseline·debug]"),
            "{out:?}"
        );
        assert!(out.stdout.contains("Program returned: 3"), "{out:?}");
    }
}
