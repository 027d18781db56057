//! The profile below function level: a program whose time goes to one known
//! loop (`smooth_step` in samples/c/debugme.c, lines 118–125) has most of its
//! samples attributed to that loop's wasm instructions and source lines;
//! `profile report --lines` and `profile annotate` show them with the native
//! code under each; `wdb profile --out` writes a file that speedscope's own
//! file-format schema accepts (checked with ajv, tests/npm).

use std::path::Path;
use std::process::Command as Process;
use std::time::{Duration, Instant};
use wdb::debugger::console::{Console, Wait};
use wdb::debugger::{Command, Event, ProfileReport, Session, SessionConfig};

const DEBUGME: &str = "samples/debugme-g.wasm";
/// Iterations of debugme's simulation: about a second of optimized code.
const ITERATIONS: &str = "3000000";
/// The loop of `smooth_step` in samples/c/debugme.c.
const LOOP_LINES: std::ops::RangeInclusive<u32> = 118..=125;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the ui package sits inside the workspace root")
}

/// Runs debugme in profile mode to the end; returns the session (still
/// holding the code the samples point into) and the report.
fn profile_debugme() -> (Session, ProfileReport) {
    let wasm = std::fs::read(root().join(DEBUGME)).expect("debugme-g.wasm");
    let s = Session::start(SessionConfig {
        name: DEBUGME.into(),
        wasm,
        args: vec![ITERATIONS.into()],
        run: true,
        ..SessionConfig::default()
    })
    .expect("session");
    s.send(Command::ProfileOn);
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        assert!(Instant::now() < deadline, "the program did not end");
        match s.recv_timeout(Duration::from_millis(200)) {
            Some(Event::Ended { outcome, .. }) => {
                assert_eq!(outcome, wdb::debugger::Outcome::Exited(0));
                break;
            }
            Some(Event::Error(e)) => panic!("{e}"),
            _ => {}
        }
    }
    s.send(Command::ProfileReport);
    loop {
        match s.recv_timeout(Duration::from_secs(30)) {
            Some(Event::Profile(r)) => return (s, r),
            Some(_) => {}
            None => panic!("no profile report"),
        }
    }
}

/// Module offsets of `func`'s outermost `loop` … `end`.
fn loop_range(s: &Session, func: u32) -> (u32, u32) {
    let lines = s.disassemble(func);
    let start = lines
        .iter()
        .position(|l| l.text.trim_start().starts_with("loop"))
        .expect("a loop");
    let mut depth = 0;
    for l in &lines[start..] {
        let t = l.text.trim_start();
        if t.starts_with("loop") || t.starts_with("block") || t.starts_with("if") {
            depth += 1;
        } else if t.starts_with("end") {
            depth -= 1;
            if depth == 0 {
                return (
                    lines[start].offset.expect("offset"),
                    l.offset.expect("offset"),
                );
            }
        }
    }
    panic!("no end of the loop");
}

fn console_text(s: &Session, line: &str) -> String {
    let mut c = Console::new();
    let (mut out, wait) = c.execute(s, line);
    assert_eq!(wait, Wait::Profile, "{line}: {out:?}");
    loop {
        let ev = s.recv_timeout(Duration::from_secs(30)).expect("report");
        let done = matches!(ev, Event::Profile(_));
        out.extend(c.render_event(s, &ev));
        if done {
            return out.join("\n");
        }
    }
}

#[test]
fn samples_land_on_the_hot_loop_instructions_and_lines() {
    let (s, r) = profile_debugme();
    assert!(r.samples >= 100, "too few samples: {}", r.samples);
    let own = s.module().info().id;
    let smooth = s
        .functions()
        .into_iter()
        .find(|f| f.name == "smooth_step")
        .expect("smooth_step")
        .index;
    let (lo, hi) = loop_range(&s, smooth);
    let total = r.samples;
    let by_insn: u64 = r.detail.instructions.iter().map(|i| i.samples).sum();
    assert!(by_insn <= total);
    let in_loop: u64 = r
        .detail
        .instructions
        .iter()
        .filter(|i| i.module_id == own && i.func_index == smooth)
        .filter(|i| (lo..=hi).contains(&i.wasm_offset))
        .map(|i| i.samples)
        .sum();
    assert!(
        in_loop * 2 > total,
        "{in_loop} of {total} samples in smooth_step's loop {lo:#x}..={hi:#x}"
    );
    let on_lines: u64 = r
        .detail
        .instructions
        .iter()
        .filter(|i| i.module_id == own)
        .filter(|i| {
            s.source_pos(i.wasm_offset)
                .is_some_and(|p| p.file.ends_with("debugme.c") && LOOP_LINES.contains(&p.line))
        })
        .map(|i| i.samples)
        .sum();
    assert!(
        on_lines * 2 > total,
        "{on_lines} of {total} samples on debugme.c:{LOOP_LINES:?}"
    );
    // Every stack's leaf is one sample of an instruction (or host code).
    let stacks: u64 = r.detail.stacks.iter().map(|st| st.samples).sum();
    assert_eq!(stacks, total);

    let lines = console_text(&s, "profile report --lines");
    assert!(lines.contains("by wasm instruction"), "{lines}");
    assert!(lines.contains("smooth_step"), "{lines}");
    assert!(lines.contains("Hottest source lines:"), "{lines}");
    let hottest_line = lines
        .lines()
        .skip_while(|l| !l.starts_with("Hottest source lines:"))
        .nth(1)
        .unwrap_or_default();
    assert!(
        LOOP_LINES
            .clone()
            .any(|n| hottest_line.contains(&format!("debugme.c:{n} "))),
        "the hottest line is in the loop: {hottest_line}\n{lines}"
    );

    let ann = console_text(&s, "profile annotate smooth_step");
    assert!(ann.contains(&format!("smooth_step (#{smooth}): ")), "{ann}");
    assert!(ann.contains("optimized"), "{ann}");
    assert!(ann.contains("Hottest wasm instructions:"), "{ann}");
    assert!(ann.contains("Annotated (optimized code at 0x"), "{ann}");
    // Native code with its own share under a hot wasm instruction.
    assert!(
        ann.lines()
            .any(|l| l.contains("<+") && l.trim_start().starts_with(|c: char| c.is_ascii_digit())),
        "{ann}"
    );
    let none = console_text(&s, "profile annotate parse_numbers");
    assert!(none.contains("samples") || none.contains("%"), "{none}");
    let mut c = Console::new();
    let (bad, wait) = c.execute(&s, "profile annotate no_such_function");
    assert_eq!(wait, Wait::Nothing);
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert!(
        bad[0].contains("no function named `no_such_function`"),
        "{bad:?}"
    );
}

/// The `wdb` binary Cargo built for these tests.
fn wdb_path() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_wdb"))
}

/// Validates `file` with speedscope's schema; returns the validator's summary.
fn speedscope_check(file: &Path) -> std::process::Output {
    let npm = root().join("tests/npm");
    assert!(
        npm.join("node_modules/speedscope/dist/release/file-format-schema.json")
            .exists()
            && npm.join("node_modules/ajv").exists(),
        "the npm packages `speedscope` and `ajv` are missing: run `npm ci` in tests/npm \
         (scripts/test.sh does)"
    );
    Process::new("node")
        .arg(npm.join("validate-speedscope.mjs"))
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run node (Debian package nodejs): {e}"))
}

#[test]
fn profile_out_writes_a_speedscope_file() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("profile-out");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("debugme.speedscope.json");
    let out = Process::new(wdb_path())
        .args(["profile", DEBUGME, "--out"])
        .arg(&file)
        .args(["--", ITERATIONS])
        .current_dir(root())
        .output()
        .expect("run wdb");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("profile written to"), "{stderr}");
    let check = speedscope_check(&file);
    let summary = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success(),
        "speedscope's schema rejects the file:\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for want in [
        "\"smooth_step\"",
        "\"simulate\"",
        "\"main\"",
        "debugme.c:12",
    ] {
        assert!(summary.contains(want), "missing {want} in {summary}");
    }
    // The checker itself rejects what is not speedscope's format.
    let bad = dir.join("bad.json");
    std::fs::write(
        &bad,
        br#"{"shared":{"frames":[]},"profiles":[{"type":"sampled"}]}"#,
    )
    .unwrap();
    assert!(!speedscope_check(&bad).status.success());
    // An unwritable --out is one error line before anything runs.
    let out = Process::new(wdb_path())
        .args([
            "profile",
            DEBUGME,
            "--out",
            "/no/such/dir/p.json",
            "--",
            "1",
        ])
        .current_dir(root())
        .output()
        .expect("run wdb");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("/no/such/dir/p.json"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
