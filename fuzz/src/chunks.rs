//! Runs a range of cases in worker subprocesses, a chunk at a time, so that a
//! host crash (a signal, an abort, a panic that escapes, a hang) ends only
//! its worker: the case it happened in is known from the worker's progress
//! lines, rerun alone to confirm, and bisected when it only crashes after
//! earlier cases; the run then goes on after it.
//!
//! Worker protocol (one line each on the worker's stdout): `case K` before
//! case K, `find K TEXT` for each finding, `end K S CALLS TIERUPS` after it
//! (S is `J`udged, `I`nconclusive or `S`kipped), `done` at the end.

use crate::{CaseResult, Status, Tally};
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which cases a worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Differential,
    Malformed,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Differential => "differential",
            Mode::Malformed => "malformed",
        }
    }
}

/// A run of cases in subprocesses.
#[derive(Debug, Clone)]
pub struct Plan {
    pub mode: Mode,
    /// The malformed mode's seed (the differential mode's cases are seeds).
    pub seed: u64,
    pub tiers: Vec<wdb::Strategy>,
    /// Proposals the differential mode's generator may use.
    pub proposals: crate::smith::Proposals,
    /// The differential mode's OSR stress setting (test-only; 0 = off).
    pub osr: crate::tiers::OsrStress,
    pub cases: Range<u64>,
    /// Workers at a time.
    pub jobs: usize,
    /// Cases per worker.
    pub chunk: u64,
    /// A worker that reports nothing for this long is hung and killed.
    pub case_timeout: Duration,
    /// The `wdb-fuzz` binary (the workers are the same program).
    pub exe: PathBuf,
    /// Seconds between progress lines on stderr (0: none).
    pub progress_every: u64,
}

/// How a worker ended.
enum Exit {
    /// All its cases ran.
    Done,
    /// It died or hung in case `Some(k)` (None: outside any case).
    Crashed { case: Option<u64>, how: String },
}

/// Runs the plan and returns the tally; Err when a worker cannot even start
/// (bad arguments, missing binary).
pub fn run(plan: &Plan) -> Result<Tally, String> {
    let next = AtomicU64::new(plan.cases.start);
    let tally = Arc::new(Mutex::new(Tally::default()));
    let fatal: Mutex<Option<String>> = Mutex::new(None);
    let start = Instant::now();
    let total = plan.cases.end - plan.cases.start;
    std::thread::scope(|s| {
        let mut handles = Vec::new();
        for _ in 0..plan.jobs.max(1) {
            handles.push(s.spawn(|| loop {
                let a = next.fetch_add(plan.chunk, Ordering::SeqCst);
                if a >= plan.cases.end || fatal.lock().unwrap().is_some() {
                    break;
                }
                let b = (a + plan.chunk).min(plan.cases.end);
                if let Err(m) = run_chunk(plan, a..b, &tally) {
                    *fatal.lock().unwrap() = Some(m);
                    break;
                }
            }));
        }
        let mut last = Instant::now();
        while handles.iter().any(|h| !h.is_finished()) {
            std::thread::sleep(Duration::from_millis(200));
            if plan.progress_every > 0 && last.elapsed().as_secs() >= plan.progress_every {
                last = Instant::now();
                let t = tally.lock().unwrap().clone();
                eprintln!("{}", progress_line(plan.mode, &t, total, start.elapsed()));
            }
        }
    });
    if let Some(m) = fatal.into_inner().unwrap() {
        return Err(m);
    }
    let mut t = tally.lock().unwrap().clone();
    t.findings.sort_by_key(|(case, _)| *case);
    Ok(t)
}

/// `[mode] done/total cases (p%), findings, inconclusive, rate, eta`.
pub fn progress_line(mode: Mode, t: &Tally, total: u64, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(0.001);
    let rate = t.cases as f64 / secs;
    let eta = if rate > 0.0 {
        format!("{:.0} s", (total.saturating_sub(t.cases)) as f64 / rate)
    } else {
        "?".into()
    };
    format!(
        "[{}] {}/{} cases ({:.1}%), {} disagreements/crashes, {} inconclusive, {:.1} cases/s, {:.0} s elapsed, eta {eta}",
        mode.name(),
        t.cases,
        total,
        t.cases as f64 * 100.0 / total.max(1) as f64,
        t.findings.len(),
        t.inconclusive,
        rate,
        secs
    )
}

/// Runs cases `range` in workers until all ran, recording crashes as
/// findings.
fn run_chunk(plan: &Plan, range: Range<u64>, tally: &Mutex<Tally>) -> Result<(), String> {
    let mut from = range.start;
    while from < range.end {
        let mut local = Tally::default();
        let exit = spawn_worker(plan, from..range.end, Some(&mut local))?;
        tally.lock().unwrap().merge(&local);
        match exit {
            Exit::Done => return Ok(()),
            Exit::Crashed { case: None, how } => {
                return Err(format!(
                    "{} worker for cases {from}..{} failed outside any case: {how}",
                    plan.mode.name(),
                    range.end
                ))
            }
            Exit::Crashed { case: Some(k), how } => {
                let text = if how.starts_with("hung") {
                    how
                } else {
                    bisect(plan, from, k, &how)?
                };
                let mut r = CaseResult::new(Status::Judged);
                r.findings.push(text);
                tally.lock().unwrap().add(k, &r);
                from = k + 1;
            }
        }
    }
    Ok(())
}

/// Describes the crash in case `k` (first seen running cases `from..`): alone
/// if it reproduces alone, else the shortest run `s..=k` that reproduces it.
fn bisect(plan: &Plan, from: u64, k: u64, how: &str) -> Result<String, String> {
    let crashes = |s: u64| -> Result<Option<String>, String> {
        Ok(match spawn_worker(plan, s..k + 1, None)? {
            Exit::Done => None,
            Exit::Crashed { how, .. } => Some(how),
        })
    };
    if let Some(alone) = crashes(k)? {
        return Ok(format!("crash: {alone}"));
    }
    if from == k || crashes(from)?.is_none() {
        return Ok(format!(
            "crash not reproducible (first run: {how}); rerunning the case alone or after cases {from}.. does not crash"
        ));
    }
    // [lo..=k] crashes, [hi..=k] does not.
    let (mut lo, mut hi) = (from, k);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if crashes(mid)?.is_some() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(format!(
        "crash only after earlier cases: {how}; cases {lo}..={k} in one process reproduce it, case {k} alone does not"
    ))
}

fn signal_name(sig: i32) -> &'static str {
    match sig {
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        _ => "signal",
    }
}

/// Runs one worker over `cases`; with `tally`, records what it reports.
fn spawn_worker(
    plan: &Plan,
    cases: Range<u64>,
    mut tally: Option<&mut Tally>,
) -> Result<Exit, String> {
    let mut child = Command::new(&plan.exe)
        .arg("worker")
        .arg(plan.mode.name())
        .arg("--seed")
        .arg(plan.seed.to_string())
        .arg("--tiers")
        .arg(crate::tiers::list(&plan.tiers))
        .arg("--proposals")
        .arg(plan.proposals.list())
        .arg("--osr-stress")
        .arg(plan.osr.to_string())
        .arg("--cases")
        .arg(format!("{}..{}", cases.start, cases.end))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start worker {}: {e}", plan.exe.display()))?;
    let stdout = child.stdout.take().ok_or("worker has no stdout")?;
    let mut stderr = child.stderr.take().ok_or("worker has no stderr")?;
    // The last few KB of stderr, for crash reports (read continuously so the
    // pipe never fills).
    let tail = Arc::new(Mutex::new(Vec::<u8>::new()));
    let tail_w = tail.clone();
    let err_thread = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf) {
            if n == 0 {
                break;
            }
            let mut t = tail_w.lock().unwrap();
            t.extend_from_slice(&buf[..n]);
            if t.len() > 8192 {
                let cut = t.len() - 4096;
                t.drain(..cut);
            }
        }
    });
    let (tx, rx) = mpsc::channel::<String>();
    let out_thread = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut current: Option<u64> = None;
    let mut findings: Vec<String> = Vec::new();
    let mut done = false;
    let mut hung = false;
    loop {
        match rx.recv_timeout(plan.case_timeout) {
            Ok(line) => {
                let mut parts = line.splitn(3, ' ');
                let (tag, k) = (parts.next().unwrap_or(""), parts.next());
                let k: Option<u64> = k.and_then(|k| k.parse().ok());
                match (tag, k) {
                    ("case", Some(k)) => {
                        current = Some(k);
                        findings.clear();
                    }
                    ("find", Some(_)) => findings.push(parts.next().unwrap_or("").to_string()),
                    ("end", Some(k)) => {
                        let mut f = parts.next().unwrap_or("").split(' ');
                        let status = match f.next() {
                            Some("J") => Status::Judged,
                            Some("I") => Status::Inconclusive,
                            _ => Status::Skipped,
                        };
                        let mut r = CaseResult::new(status);
                        r.calls = f.next().and_then(|x| x.parse().ok()).unwrap_or(0);
                        r.tierups = f.next().and_then(|x| x.parse().ok()).unwrap_or(0);
                        r.findings = std::mem::take(&mut findings);
                        if let Some(t) = tally.as_deref_mut() {
                            t.add(k, &r);
                        }
                        current = None;
                    }
                    ("done", _) => done = true,
                    _ => {}
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {
                hung = true;
                // Our own child, by its handle.
                let _ = child.kill();
                break;
            }
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("waiting for the worker: {e}"))?;
    let _ = out_thread.join();
    let _ = err_thread.join();
    if done && status.success() && !hung {
        return Ok(Exit::Done);
    }
    let stderr_tail = {
        let t = tail.lock().unwrap();
        let s = String::from_utf8_lossy(&t).to_string();
        let lines: Vec<&str> = s.lines().rev().take(4).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
    };
    let how = if hung {
        format!(
            "hung: no progress for {} s, worker killed",
            plan.case_timeout.as_secs()
        )
    } else {
        use std::os::unix::process::ExitStatusExt;
        let what = match (status.code(), status.signal()) {
            (_, Some(sig)) => format!("killed by signal {sig} ({})", signal_name(sig)),
            (Some(c), _) => format!("exit code {c}"),
            _ => "ended".into(),
        };
        if stderr_tail.is_empty() {
            what
        } else {
            format!("{what}; stderr: {stderr_tail}")
        }
    };
    Ok(Exit::Crashed { case: current, how })
}
