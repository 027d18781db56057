//! The `wdb-fuzz` binary on small slices (what CI runs of each mode), and its
//! crash handling: faults injected into a worker (`WDB_FUZZ_INJECT`) must be
//! caught, named with their case, bisected and make the run fail.

use std::process::{Command, Output};

fn fuzz(args: &[&str], inject: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wdb-fuzz"));
    cmd.args(args).arg("--progress").arg("0");
    match inject {
        Some(i) => cmd.env("WDB_FUZZ_INJECT", i),
        None => cmd.env_remove("WDB_FUZZ_INJECT"),
    };
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run wdb-fuzz");
    let (out, err) = (
        String::from_utf8_lossy(&stdout).to_string(),
        String::from_utf8_lossy(&stderr).to_string(),
    );
    (status.code().unwrap_or(-1), out, err)
}

#[test]
fn differential_slice_in_every_tier() {
    let (code, out, err) = fuzz(
        &[
            "differential",
            "--seeds",
            "5000..5080",
            "--jobs",
            "2",
            "--chunk",
            "40",
        ],
        None,
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("differential seeds 5000..5080 [baseline,debug,optimized,mixed,dynamic]: 80 cases, 0 disagreements/crashes"),
        "{out}"
    );
}

#[test]
fn malformed_slice_in_every_tier() {
    let (code, out, err) = fuzz(
        &[
            "malformed",
            "--cases",
            "2000",
            "--seed",
            "7",
            "--jobs",
            "2",
            "--chunk",
            "1000",
        ],
        None,
    );
    assert_eq!(code, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("malformed cases 0..2000 of seed 7 [baseline,debug,optimized,mixed,dynamic]: 2000 cases, 0 disagreements/crashes"),
        "{out}"
    );
}

#[test]
fn a_crash_is_named_by_its_case_and_the_run_goes_on() {
    let (code, out, err) = fuzz(
        &[
            "malformed",
            "--cases",
            "30",
            "--chunk",
            "30",
            "--tiers",
            "baseline",
        ],
        Some("abort:13"),
    );
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("case 13 (--seed 0): crash: killed by signal 6 (SIGABRT)"),
        "{out}"
    );
    // Every case counted once, the crash as the one finding.
    assert!(out.contains(": 30 cases, 1 disagreements/crashes"), "{out}");
}

#[test]
fn a_crash_that_needs_earlier_cases_is_bisected() {
    let (code, out, err) = fuzz(
        &[
            "malformed",
            "--cases",
            "40",
            "--chunk",
            "40",
            "--tiers",
            "baseline",
        ],
        Some("exit:31:after:22"),
    );
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("case 31 (--seed 0): crash only after earlier cases: exit code 3")
            && out.contains("cases 22..=31 in one process reproduce it"),
        "{out}"
    );
    assert!(out.contains(": 40 cases, 1 disagreements/crashes"), "{out}");
}

#[test]
fn a_hang_and_an_escaping_panic_are_caught() {
    let (code, out, err) = fuzz(
        &[
            "differential",
            "--seeds",
            "0..6",
            "--tiers",
            "baseline",
            "--case-timeout",
            "8",
        ],
        Some("hang:2"),
    );
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(
        out.contains("seed 2: hung: no progress for 8 s, worker killed"),
        "{out}"
    );
    assert!(out.contains(": 6 cases, 1 disagreements/crashes"), "{out}");
    let (code, out, err) = fuzz(
        &["differential", "--seeds", "0..4", "--tiers", "optimized"],
        Some("panic:1"),
    );
    assert_eq!(code, 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("seed 1: crash: exit code 101"), "{out}");
}

#[test]
fn bad_usage_is_one_clear_error() {
    for (args, want) in [
        (vec!["differential"], "differential needs --seeds A..B"),
        (
            vec!["differential", "--seeds", "0..4", "--tiers", "fast"],
            "unknown tier `fast` in --tiers",
        ),
        (vec!["malformed", "--cases", "9..3"], "the range is empty"),
        (vec!["malformed", "--cases", "x"], "`x` is not a number"),
        (vec!["fuzz"], "unknown mode `fuzz`"),
    ] {
        let (code, out, err) = fuzz(&args, None);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(
            err.starts_with("wdb-fuzz: ") && err.contains(want),
            "{args:?}: {err}"
        );
    }
}
