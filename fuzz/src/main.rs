//! `wdb-fuzz`: differential and malformed-module fuzzing of every wdb tier.
//!
//! ```text
//! wdb-fuzz differential --seeds A..B [--tiers LIST] [--proposals LIST] [--osr-stress MODE:N] [--jobs N] [--chunk N]
//! wdb-fuzz malformed --cases N|A..B [--seed S] [--tiers LIST] [--jobs N] [--chunk N]
//! ```
//! Common options: `--case-timeout SECS` (a worker silent this long is hung),
//! `--progress SECS` (seconds between progress lines, 0 = none), `--dump DIR`
//! (write the module of every case with a finding). Exit status: 0 when
//! nothing was found, 1 when something was (or too many cases were
//! inconclusive), 2 on bad usage.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use wdb_fuzz::chunks::{self, Mode, Plan};
use wdb_fuzz::smith::Proposals;
use wdb_fuzz::{Status, INCONCLUSIVE_CAP_PERCENT};

const USAGE: &str =
    "usage: wdb-fuzz differential --seeds A..B [--tiers LIST] [--proposals LIST] [--osr-stress MODE:N] [--jobs N] [--chunk N]
       wdb-fuzz malformed --cases N|A..B [--seed S] [--tiers LIST] [--jobs N] [--chunk N]
options: --case-timeout SECS  --progress SECS  --dump DIR
tiers: baseline,debug,optimized,mixed,dynamic (default: all)
proposals (generated modules may use them): simd,tail-call,extended-const,multi-memory,memory64
  (default: none)
osr stress (test-only: every Nth loop-header check moves its frame): off, or
  down|up|alternating[:N] (N defaults to 2)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Generated code and wasmi want more native stack than a main thread has.
    let thread = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || run(&args));
    match thread.map(|h| h.join()) {
        Ok(Ok(Ok(code))) => code,
        Ok(Ok(Err(m))) => {
            eprintln!("wdb-fuzz: {m}");
            ExitCode::from(2)
        }
        // A panic that escaped (its message went to stderr): the exit
        // status of a panicking Rust program.
        Ok(Err(_)) => ExitCode::from(101),
        Err(e) => {
            eprintln!("wdb-fuzz: cannot start the fuzzing thread: {e}");
            ExitCode::from(2)
        }
    }
}

/// The parsed command line.
struct Args {
    mode: Mode,
    worker: bool,
    cases: std::ops::Range<u64>,
    seed: u64,
    tiers: Vec<wdb::Strategy>,
    proposals: Proposals,
    osr: wdb_fuzz::tiers::OsrStress,
    jobs: usize,
    chunk: Option<u64>,
    case_timeout: u64,
    progress: u64,
    dump: Option<PathBuf>,
}

/// `A..B`, or `N` meaning `0..N` (`single` false) or `N..N+1` (`single`).
fn parse_range(s: &str, single: bool, flag: &str) -> Result<std::ops::Range<u64>, String> {
    let num = |x: &str| {
        x.trim()
            .replace('_', "")
            .parse::<u64>()
            .map_err(|_| format!("{flag} {s}: `{x}` is not a number"))
    };
    let r = match s.split_once("..") {
        Some((a, b)) => num(a)?..num(b)?,
        None if single => {
            let n = num(s)?;
            n..n.saturating_add(1)
        }
        None => 0..num(s)?,
    };
    if r.start >= r.end {
        return Err(format!("{flag} {s}: the range is empty"));
    }
    Ok(r)
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    let mut first = it.next().ok_or(USAGE)?.as_str();
    let worker = first == "worker";
    if worker {
        first = it.next().ok_or(USAGE)?.as_str();
    }
    let mode = match first {
        "differential" => Mode::Differential,
        "malformed" => Mode::Malformed,
        "-h" | "--help" | "help" => return Err(USAGE.into()),
        other => return Err(format!("unknown mode `{other}`\n{USAGE}")),
    };
    let mut a = Args {
        mode,
        worker,
        cases: 0..0,
        seed: 0,
        tiers: wdb_fuzz::tiers::ALL.to_vec(),
        proposals: Proposals::default(),
        osr: Default::default(),
        jobs: 1,
        chunk: None,
        case_timeout: 120,
        progress: 30,
        dump: None,
    };
    let mut have_cases = false;
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let number = |v: String| {
            v.replace('_', "")
                .parse::<u64>()
                .map_err(|_| format!("{flag} {v}: not a number"))
        };
        match flag.as_str() {
            "--seeds" if mode == Mode::Differential => {
                a.cases = parse_range(&value()?, true, flag)?;
                have_cases = true;
            }
            "--cases" => {
                a.cases = parse_range(&value()?, worker, flag)?;
                have_cases = true;
            }
            "--seed" => a.seed = number(value()?)?,
            "--tiers" => a.tiers = wdb_fuzz::tiers::parse(&value()?)?,
            "--proposals" => a.proposals = Proposals::parse(&value()?)?,
            "--osr-stress" => a.osr = wdb_fuzz::tiers::OsrStress::parse(&value()?)?,
            "--jobs" => a.jobs = number(value()?)?.clamp(1, 256) as usize,
            "--chunk" => a.chunk = Some(number(value()?)?.max(1)),
            "--case-timeout" => a.case_timeout = number(value()?)?.max(1),
            "--progress" => a.progress = number(value()?)?,
            "--dump" => a.dump = Some(PathBuf::from(value()?)),
            other => return Err(format!("unknown option `{other}`\n{USAGE}")),
        }
    }
    if !have_cases {
        return Err(match mode {
            Mode::Differential => format!("differential needs --seeds A..B\n{USAGE}"),
            Mode::Malformed => format!("malformed needs --cases N\n{USAGE}"),
        });
    }
    Ok(a)
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let a = parse_args(args)?;
    if a.worker {
        return worker(&a).map(|()| ExitCode::SUCCESS);
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find my own binary: {e}"))?;
    let plan = Plan {
        mode: a.mode,
        seed: a.seed,
        tiers: a.tiers.clone(),
        proposals: a.proposals,
        osr: a.osr,
        cases: a.cases.clone(),
        jobs: a.jobs,
        chunk: a.chunk.unwrap_or(match a.mode {
            Mode::Differential => 100,
            Mode::Malformed => 2000,
        }),
        case_timeout: Duration::from_secs(a.case_timeout),
        exe,
        progress_every: a.progress,
    };
    let what = match a.mode {
        Mode::Differential => format!("seeds {}..{}", a.cases.start, a.cases.end),
        Mode::Malformed => format!(
            "cases {}..{} of seed {}",
            a.cases.start, a.cases.end, a.seed
        ),
    };
    eprintln!(
        "[{}] {what}, tiers {}, proposals {}, OSR stress {}, {} job(s), {} cases per worker",
        a.mode.name(),
        wdb_fuzz::tiers::list(&a.tiers),
        a.proposals.list(),
        a.osr,
        plan.jobs,
        plan.chunk
    );
    let start = Instant::now();
    let tally = chunks::run(&plan)?;
    let secs = start.elapsed().as_secs_f64();
    for (case, text) in &tally.findings {
        match a.mode {
            Mode::Differential => println!("seed {case}: {text}"),
            Mode::Malformed => println!("case {case} (--seed {}): {text}", a.seed),
        }
    }
    if let Some(dir) = &a.dump {
        dump(&a, &tally, dir)?;
    }
    println!(
        "{} {what} [{}]: {} in {secs:.0} s ({:.1} cases/s)",
        a.mode.name(),
        wdb_fuzz::tiers::list(&a.tiers),
        tally.summary(),
        tally.cases as f64 / secs.max(0.001)
    );
    let mut failed = !tally.findings.is_empty();
    if let Some(m) = tally.cap_violation() {
        println!("FAILED: {m} (inconclusive and skipped cases are capped at {INCONCLUSIVE_CAP_PERCENT}% each)");
        failed = true;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Writes the module of every case with a finding into `dir`.
fn dump(a: &Args, tally: &wdb_fuzz::Tally, dir: &std::path::Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("--dump {}: {e}", dir.display()))?;
    let corpus = match a.mode {
        Mode::Malformed if !tally.findings.is_empty() => wdb_fuzz::malformed::spec_modules(),
        _ => Vec::new(),
    };
    let mut cases: Vec<u64> = tally.findings.iter().map(|(c, _)| *c).collect();
    cases.dedup();
    for case in cases {
        let (name, bytes) = match a.mode {
            Mode::Differential => (
                format!("differential-seed-{case}.wasm"),
                wdb_fuzz::smith::generate_with(case, a.proposals),
            ),
            Mode::Malformed => (
                format!("malformed-seed-{}-case-{case}.wasm", a.seed),
                Some(wdb_fuzz::malformed::case_module(&corpus, a.seed, case).1),
            ),
        };
        if let Some(bytes) = bytes {
            let path = dir.join(name);
            std::fs::write(&path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

/// A fault injected on purpose (`WDB_FUZZ_INJECT=KIND:CASE[:after:EARLIER]`),
/// so tests can check that crashes are caught, named and bisected. KIND is
/// `abort` (SIGABRT), `exit` (exit code 3), `panic` (a panic that escapes) or
/// `hang`; with `after:EARLIER` the fault fires only when case EARLIER ran
/// before in the same worker.
struct Inject {
    kind: String,
    case: u64,
    after: Option<u64>,
}

fn inject_from_env() -> Option<Inject> {
    let v = std::env::var("WDB_FUZZ_INJECT").ok()?;
    let mut p = v.split(':');
    let kind = p.next()?.to_string();
    let case = p.next()?.parse().ok()?;
    let after = match (p.next(), p.next()) {
        (Some("after"), Some(e)) => Some(e.parse().ok()?),
        _ => None,
    };
    Some(Inject { kind, case, after })
}

fn fire(inject: &Inject) {
    match inject.kind.as_str() {
        "abort" => std::process::abort(),
        "exit" => std::process::exit(3),
        "panic" => panic!("injected panic"),
        "hang" => loop {
            std::thread::sleep(Duration::from_secs(1));
        },
        _ => {}
    }
}

/// Worker mode: runs the cases, reporting each on stdout (see `chunks`).
fn worker(a: &Args) -> Result<(), String> {
    use std::io::Write;
    let inject = inject_from_env();
    let mut ran = std::collections::HashSet::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut say = |line: String| -> Result<(), String> {
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("writing to the parent: {e}"))
    };
    let diff;
    let mal;
    let check: Box<dyn Fn(u64) -> wdb_fuzz::CaseResult + '_> = match a.mode {
        Mode::Differential => {
            diff = wdb_fuzz::differential::Differential::stressed(&a.tiers, a.proposals, a.osr)?;
            Box::new(|seed| diff.check_seed(seed))
        }
        Mode::Malformed => {
            mal = wdb_fuzz::malformed::Malformed::new(&a.tiers)?;
            Box::new(|case| mal.check_case(a.seed, case))
        }
    };
    for case in a.cases.clone() {
        say(format!("case {case}"))?;
        if let Some(i) = &inject {
            if i.case == case && i.after.is_none_or(|e| ran.contains(&e)) {
                fire(i);
            }
        }
        ran.insert(case);
        let r = check(case);
        for f in &r.findings {
            say(format!("find {case} {}", f.replace('\n', " ")))?;
        }
        let s = match r.status {
            Status::Judged => 'J',
            Status::Inconclusive => 'I',
            Status::Skipped => 'S',
        };
        say(format!("end {case} {s} {} {}", r.calls, r.tierups))?;
    }
    say("done".into())
}
