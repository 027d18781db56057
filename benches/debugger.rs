//! Debugger benchmarks (a bench binary that prints tables;
//! `cargo bench -p wdb --bench debugger`):
//! - attach latency: `pause` sent → `Paused` received, tier-down included, on
//!   samples/big.wasm and on a long-running sample in optimized code;
//! - single-step latency: median time per `stepi` round trip;
//! - run time of debug code with no breakpoints against plain baseline code:
//!   debug code in every function, and a debug session with no breakpoints;
//! - profile-mode switch times (tier everything up, and back down);
//! - profiler overhead: optimized code with and without the 1 kHz sampler;
//! - `print` latency of a 100-field struct and a 1,000-element array (a C
//!   program generated here and built with clang-14 `-O0 -g`).

use std::sync::Arc;
use std::time::{Duration, Instant};
use wdb::debugger::*;
use wdb::profile::{Sampler, ThreadTarget};
use wdb::wasi::WasiCtx;
use wdb::*;

/// A module of samples/ (`NAME`) or at a path in the repository (`DIR/NAME`).
fn sample(name: &str) -> Vec<u8> {
    let dir = if name.contains('/') { "" } else { "samples/" };
    let path = format!("{}/{dir}{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn wait<T>(s: &Session, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(600);
    while Instant::now() < until {
        if let Some(e) = s.recv_timeout(Duration::from_millis(20)) {
            if let Some(t) = pick(&e) {
                return t;
            }
        }
    }
    panic!("timed out");
}

fn session(name: &str, args: &[&str], run: bool) -> Session {
    Session::start(SessionConfig {
        name: name.into(),
        wasm: sample(name),
        args: args.iter().map(|s| s.to_string()).collect(),
        run,
        ..SessionConfig::default()
    })
    .unwrap()
}

/// `pause` → `Paused` on a program started at full speed, after `after`.
fn attach_latency(name: &str, args: &[&str], after: Duration) -> Option<(Duration, FrameTier)> {
    let s = session(name, args, true);
    std::thread::sleep(after);
    let t0 = Instant::now();
    s.send(Command::Pause);
    let got = wait(&s, |e| match e {
        Event::Paused(p) => Some(Some(p.frames[0].tier)),
        Event::Ended { .. } => Some(None),
        _ => None,
    });
    let dt = t0.elapsed();
    got.map(|t| (dt, t))
}

/// On-stack replacement at an attach: `pause` → `Paused` (at the running
/// frame's interrupt check), then `stepi` → `Paused` in debug code of the same
/// function (the frame moved; its debug code compiled if it was not).
/// Returns both latencies and the tiers before and after, or None when the
/// program ended first.
fn osr_latency(
    name: &str,
    args: &[&str],
    strategy: Strategy,
    after: Duration,
) -> Option<(Duration, Duration, FrameTier, FrameTier, bool)> {
    let s = Session::start(SessionConfig {
        name: name.into(),
        wasm: sample(name),
        args: args.iter().map(|s| s.to_string()).collect(),
        run: true,
        strategy: Some(strategy),
        ..SessionConfig::default()
    })
    .unwrap();
    std::thread::sleep(after);
    let paused = |s: &Session| {
        wait(s, |e| match e {
            Event::Paused(p) => Some(Some(p.clone())),
            Event::Ended { .. } => Some(None),
            _ => None,
        })
    };
    let t0 = Instant::now();
    s.send(Command::Pause);
    let p = paused(&s)?;
    let a = t0.elapsed();
    let t1 = Instant::now();
    s.send(Command::StepInstruction);
    let q = paused(&s)?;
    let b = t1.elapsed();
    let same = q.frames[0].func_index == p.frames[0].func_index;
    Some((a, b, p.frames[0].tier, q.frames[0].tier, same))
}

fn run_program(engine: &Engine, wasm: &[u8], args: &[&str]) -> Duration {
    let module = Module::new(engine, wasm).unwrap();
    let mut wasi = WasiCtx::new();
    let mut argv = vec!["prog".to_string()];
    argv.extend(args.iter().map(|s| s.to_string()));
    wasi.args(argv).capture_output();
    let mut store = Store::new(engine, wasi);
    let mut linker = Linker::new();
    wdb::wasi::add_to_linker(&mut linker, &mut store, |w| w).unwrap();
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let f = inst.get_func(&store, "_start").unwrap();
    let t0 = Instant::now();
    match f.call(&mut store, &[], &mut []) {
        Ok(()) => {}
        Err(Error::Trap(t)) if t.code == TrapCode::Exit => {}
        Err(e) => panic!("{e}"),
    }
    t0.elapsed()
}

/// A debug session with no breakpoints: started paused at entry (every
/// function compiled first, as `run_program`'s are), then `continue` until
/// the program ends; the time from `continue` to the end.
fn run_session(name: &str, wasm: &[u8], args: &[&str]) -> Duration {
    let s = Session::start(SessionConfig {
        name: name.into(),
        wasm: wasm.to_vec(),
        args: args.iter().map(|s| s.to_string()).collect(),
        eager: true,
        ..SessionConfig::default()
    })
    .unwrap();
    wait(&s, |e| matches!(e, Event::Paused(_)).then_some(()));
    let t0 = Instant::now();
    s.send(Command::Continue);
    wait(&s, |e| match e {
        Event::Ended { outcome, .. } => {
            assert!(matches!(outcome, Outcome::Exited(0)), "{name}: {outcome:?}");
            Some(())
        }
        _ => None,
    });
    t0.elapsed()
}

fn engine(strategy: Strategy) -> Engine {
    Engine::new(Config {
        strategy,
        ..Config::default()
    })
    .unwrap()
}

fn main() {
    // WDB_BENCH_ONLY=attach,step,debug,profile,overhead runs some sections.
    let only = std::env::var("WDB_BENCH_ONLY").ok();
    let want = |k: &str| only.as_ref().is_none_or(|o| o.split(',').any(|x| x == k));
    let runs = 7;
    if want("osr") {
        println!(
            "## OSR down at an attach (median of {runs}): `pause` → paused at the running frame's check, then `stepi` → paused in debug code\n"
        );
        println!("| program | tier before | pause ms | stepi ms | total ms | frame tier at the pause → after stepi | same function |");
        println!("|---|---|---:|---:|---:|---|---|");
        for (name, args, strategy, after) in [
            (
                "big.wasm",
                vec![],
                Strategy::Baseline,
                Duration::from_millis(2),
            ),
            (
                "big.wasm",
                vec![],
                Strategy::Dynamic,
                Duration::from_millis(2),
            ),
            (
                "debugme.wasm",
                vec!["100000000"],
                Strategy::Baseline,
                Duration::from_millis(300),
            ),
            (
                "debugme.wasm",
                vec!["100000000"],
                Strategy::Optimized,
                Duration::from_millis(300),
            ),
            (
                "debugme.wasm",
                vec!["100000000"],
                Strategy::Dynamic,
                Duration::from_millis(1500),
            ),
            // A large -O0 program (4.9 MB, built by benches/corpus/build.sh)
            // paused in its compression loops.
            (
                "benches/corpus/zstd-g.wasm",
                vec!["0.05"],
                Strategy::Baseline,
                Duration::from_millis(1500),
            ),
            (
                "benches/corpus/zstd-g.wasm",
                vec!["0.05"],
                Strategy::Dynamic,
                Duration::from_millis(1500),
            ),
            // Later: the background compile of the debug code had time.
            (
                "benches/corpus/zstd-g.wasm",
                vec!["0.05"],
                Strategy::Baseline,
                Duration::from_millis(4000),
            ),
        ] {
            let (mut pa, mut st, mut tot, mut tiers, mut same) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new(), true);
            for _ in 0..runs {
                if let Some((a, b, t0, t1, s)) = osr_latency(name, &args, strategy, after) {
                    pa.push(a);
                    st.push(b);
                    tot.push(a + b);
                    tiers.push(format!("{} → {}", t0.name(), t1.name()));
                    same &= s;
                }
            }
            tiers.sort();
            tiers.dedup();
            if pa.is_empty() {
                println!(
                    "| {name} {} | {strategy:?} | (ended first) | | | | |",
                    args.join(" ")
                );
            } else {
                println!(
                    "| {name} {} after {} ms | {strategy:?} | {} | {} | {} | {} | {} |",
                    args.join(" "),
                    after.as_millis(),
                    ms(median(pa)),
                    ms(median(st)),
                    ms(median(tot)),
                    tiers.join(", "),
                    if same { "yes" } else { "not always" }
                );
            }
        }
        println!();
    }
    if want("attach") {
        println!(
            "## Attach latency (pause request → paused, tier-down included; median of {runs})\n"
        );
        println!("| program | when | latency ms | frame tier at the pause |");
        println!("|---|---|---:|---|");
        for (name, args, after, what) in [
            (
                "big.wasm",
                vec![],
                Duration::from_millis(2),
                "2 ms after start (baseline code, 1400 functions)",
            ),
            (
                "debugme.wasm",
                vec!["100000000"],
                Duration::from_millis(1500),
                "1.5 s after start (smooth_step optimized; the long loop of simulate is still the baseline frame it started in)",
            ),
        ] {
            let mut lat = Vec::new();
            let mut tiers = Vec::new();
            for _ in 0..runs {
                if let Some((d, t)) = attach_latency(name, &args, after) {
                    lat.push(d);
                    tiers.push(t.name());
                }
            }
            tiers.sort();
            tiers.dedup();
            if lat.is_empty() {
                println!("| {name} | {what} | (ended before the pause) | |");
            } else {
                println!(
                    "| {name} | {what} | {} | {} |",
                    ms(median(lat)),
                    tiers.join(", ")
                );
            }
        }
    }
    if want("step") {
        println!(
            "\n## Single-step latency (`stepi` sent → `Paused` received, snapshot included)\n"
        );
        println!("| program | steps | median µs | p90 µs |");
        println!("|---|---:|---:|---:|");
        for (name, args) in [
            ("debugme-g.wasm", vec!["100"]),
            ("sha256-g.wasm", vec!["0.001"]),
        ] {
            let s = session(name, &args, false);
            wait(&s, |e| matches!(e, Event::Paused(_)).then_some(()));
            let mut times = Vec::new();
            for _ in 0..2000 {
                let t0 = Instant::now();
                s.send(Command::StepInstruction);
                let more = wait(&s, |e| match e {
                    Event::Paused(_) => Some(true),
                    Event::Ended { .. } => Some(false),
                    _ => None,
                });
                if !more {
                    break;
                }
                times.push(t0.elapsed());
            }
            let n = times.len();
            times.sort();
            println!(
                "| {name} | {n} | {:.1} | {:.1} |",
                times[n / 2].as_secs_f64() * 1e6,
                times[n * 9 / 10].as_secs_f64() * 1e6
            );
        }
    }
    if want("debug") {
        println!("\n## Debug code with no breakpoints vs plain baseline code (median of 5 runs)\n");
        println!(
            "\"debug everywhere\": every function's debug code (`Strategy::Debug`, a check \
             before every instruction); \"session\": a debug session with no breakpoints \
             run to its end (only functions something may stop in run debug code).\n"
        );
        println!(
            "| program | baseline ms | debug everywhere ms | session ms | everywhere / baseline | session / baseline |"
        );
        println!("|---|---:|---:|---:|---:|---:|");
        let progs: [(&str, &[&str]); 6] = [
            ("fib.wasm", &["0.2"]),
            ("sha256.wasm", &["0.2"]),
            ("matmul.wasm", &["0.2"]),
            ("nbody.wasm", &["0.2"]),
            ("sieve.wasm", &["0.2"]),
            ("qsort.wasm", &["0.2"]),
        ];
        let (base_e, debug_e) = (engine(Strategy::Baseline), engine(Strategy::Debug));
        let (mut logs, mut session_logs) = (Vec::new(), Vec::new());
        for (name, args) in progs {
            let wasm = sample(name);
            let (mut bs, mut ds, mut ss) = (Vec::new(), Vec::new(), Vec::new());
            // Interleaved, so that drift of a loaded machine hits all three alike.
            for _ in 0..5 {
                bs.push(run_program(&base_e, &wasm, args));
                ds.push(run_program(&debug_e, &wasm, args));
                ss.push(run_session(name, &wasm, args));
            }
            let (b, d, se) = (median(bs), median(ds), median(ss));
            let r = d.as_secs_f64() / b.as_secs_f64();
            let rs = se.as_secs_f64() / b.as_secs_f64();
            logs.push(r.ln());
            session_logs.push(rs.ln());
            println!(
                "| {name} {} | {} | {} | {} | {r:.2} | {rs:.2} |",
                args.join(" "),
                ms(b),
                ms(d),
                ms(se)
            );
        }
        let geo = |l: &[f64]| (l.iter().sum::<f64>() / l.len() as f64).exp();
        println!(
            "| **geomean** | | | | **{:.2}** | **{:.2}** |",
            geo(&logs),
            geo(&session_logs)
        );
    }
    if want("profile") {
        println!("\n## Profile-mode switches on a running program (debugme.wasm, 65 functions)\n");
        println!("| switch | median ms |");
        println!("|---|---:|");
        let (mut up, mut down) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let s = session("debugme.wasm", &["100000000"], false);
            wait(&s, |e| matches!(e, Event::Paused(_)).then_some(()));
            s.send(Command::Continue);
            std::thread::sleep(Duration::from_millis(200));
            s.send(Command::ProfileOn);
            up.push(wait(&s, |e| match e {
                Event::ModeChanged {
                    mode: DebugMode::Profile,
                    elapsed,
                    ..
                } => Some(*elapsed),
                _ => None,
            }));
            std::thread::sleep(Duration::from_millis(100));
            s.send(Command::ProfileOff);
            down.push(wait(&s, |e| match e {
                Event::ModeChanged {
                    mode: DebugMode::Debug,
                    elapsed,
                    ..
                } => Some(*elapsed),
                _ => None,
            }));
        }
        println!(
            "| profile on (tier everything up, compiles included) | {} |",
            ms(median(up))
        );
        println!(
            "| profile off (tier everything down, lazy) | {} |",
            ms(median(down))
        );
    }
    if want("overhead") {
        println!("\n## Profiler overhead (optimized code, 1 kHz sampler on the running thread; median of 9, alternating)\n");
        println!("| program | no sampler ms | sampler ms | overhead | samples |");
        println!("|---|---:|---:|---:|---:|");
        let opt = engine(Strategy::Optimized);
        for (name, args) in [
            ("sha256.wasm", &["0.5"][..]),
            ("matmul.wasm", &["0.5"][..]),
            ("fib.wasm", &["0.5"][..]),
        ] {
            let wasm = Arc::new(sample(name));
            let _ = run_program(&opt, &wasm, args); // warm the code cache
                                                    // Runs alternate (without, with the sampler), each on a fresh
                                                    // thread, so drift on this shared machine hits both alike.
            let run = |sample: bool| {
                let (tx, rx) = std::sync::mpsc::channel();
                let (e, w) = (opt.clone(), wasm.clone());
                let args: Vec<&'static str> = args.to_vec();
                let h = std::thread::spawn(move || {
                    tx.send(ThreadTarget::current().unwrap()).unwrap();
                    run_program(&e, &w, &args)
                });
                let target = rx.recv().unwrap();
                let sampler = sample.then(|| Sampler::start(target, 1000).unwrap());
                let d = h.join().unwrap();
                (d, sampler.map(|s| s.stop().len()))
            };
            let (mut plain, mut sampled, mut counts) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..9 {
                plain.push(run(false).0);
                let (d, n) = run(true);
                sampled.push(d);
                counts.extend(n);
            }
            let (plain, sampled) = (median(plain), median(sampled));
            counts.sort();
            let over = 100.0 * (sampled.as_secs_f64() / plain.as_secs_f64() - 1.0);
            println!(
                "| {name} {} | {} | {} | {over:+.1}% | {} |",
                args.join(" "),
                ms(plain),
                ms(sampled),
                counts[counts.len() / 2]
            );
        }
    }
    if want("print") {
        print_latency();
    }
}

/// A C program with a 100-field struct and a 1,000-element array, built to
/// wasm32-wasi with clang-14 `-O0 -g` in a scratch directory; the line to stop
/// at (after both are filled) is returned too.
fn print_program() -> (Vec<u8>, u32) {
    let mut c = String::from("struct wide {\n");
    for i in 0..100 {
        c.push_str(&format!("  int f{i};\n"));
    }
    c.push_str("};\nstruct wide w;\nint values[1000];\n");
    c.push_str("int main(void) {\n  int *p = &w.f0;\n");
    c.push_str("  for (int i = 0; i < 100; i++) p[i] = i * 3;\n");
    c.push_str("  for (int i = 0; i < 1000; i++) values[i] = i * i;\n");
    c.push_str("  return w.f99 + values[999] == 0;\n}\n");
    let stop = c.lines().count() as u32 - 1;
    let dir = std::env::temp_dir().join(format!("wdb-print-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join("wide.c");
    let out = dir.join("wide.wasm");
    std::fs::write(&src, c).unwrap();
    let status = std::process::Command::new("clang-14")
        .args(["--target=wasm32-wasi", "-O0", "-g", "-o"])
        .arg(&out)
        .arg(&src)
        .status()
        .expect("clang-14 (Debian package clang-14) runs");
    assert!(
        status.success(),
        "clang-14 failed to build {}",
        src.display()
    );
    let wasm = std::fs::read(&out).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (wasm, stop)
}

/// `print` of the struct and of the array at a stop: request → answer, in the
/// engine (no UI), median of 21 after one warm-up.
fn print_latency() {
    let (wasm, line) = print_program();
    let s = Session::start(SessionConfig {
        name: "wide.wasm".into(),
        wasm,
        run: false,
        ..SessionConfig::default()
    })
    .unwrap();
    wait(&s, |e| matches!(e, Event::Paused(_)).then_some(()));
    s.send(Command::Break {
        at: BreakAt::Line {
            file: "wide.c".into(),
            line,
        },
        condition: None,
    });
    s.send(Command::Continue);
    wait(&s, |e| match e {
        Event::Paused(p) => matches!(p.reason, StopReason::Breakpoint(_)).then_some(()),
        Event::Ended { .. } => panic!("ended before the breakpoint"),
        _ => None,
    });
    println!("\n## `print` latency at a stop (median of 21)\n");
    println!("| expression | value | median ms |");
    println!("|---|---|---:|");
    for (expr, what) in [
        ("w", "struct of 100 ints"),
        (
            "values",
            "array of 1,000 ints (200 shown, gdb's default `print elements`)",
        ),
    ] {
        let mut times = Vec::new();
        let mut text = String::new();
        for _ in 0..22 {
            let t0 = Instant::now();
            s.send(Command::Print {
                frame: 0,
                expr: expr.into(),
            });
            text = wait(&s, |e| match e {
                Event::Message(m) => Some(m.clone()),
                Event::Error(m) => panic!("print {expr}: {m}"),
                _ => None,
            });
            times.push(t0.elapsed());
        }
        times.remove(0);
        assert!(
            text.contains("f99 = 297") || text.contains("39601..."),
            "{text}"
        );
        println!(
            "| `print {expr}` | {what}, {} chars | {} |",
            text.len(),
            ms(median(times))
        );
    }
    s.send(Command::Quit);
}
