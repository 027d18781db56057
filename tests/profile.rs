//! The sampling profiler and the perf map: a hot wasm loop shows up on top of
//! the flat profile under its caller in the tree, in both tiers; a sleeping
//! thread costs no samples (CPU clock); the perf map names module functions.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};
use wdb::debugger::ProfileReport;
use wdb::profile::{self, perf_map, RawSample, Sampler, ThreadTarget};
use wdb::*;

const HOT: &str = r#"(module
  (func $spin (export "spin") (param $n i32) (result i32) (local $acc i32)
    block $done loop $l
      local.get $n i32.eqz br_if $done
      local.get $acc i32.const 31 i32.mul local.get $n i32.xor local.set $acc
      local.get $n i32.const 1 i32.sub local.set $n
      br $l end end
    local.get $acc)
  (func $main (export "main") (param $rounds i32) (result i32) (local $acc i32)
    block $done loop $l
      local.get $rounds i32.eqz br_if $done
      local.get $acc i32.const 100000 call $spin i32.add local.set $acc
      local.get $rounds i32.const 1 i32.sub local.set $rounds
      br $l end end
    local.get $acc)
)"#;

/// Only one sampler may run at a time; tests of this file run in parallel.
static ONE_SAMPLER: Mutex<()> = Mutex::new(());

fn one_sampler() -> std::sync::MutexGuard<'static, ()> {
    ONE_SAMPLER.lock().unwrap_or_else(|e| e.into_inner())
}

/// Parses a tree line `  61.3%  1234  name` into (depth, name).
fn tree_line(line: &str) -> (usize, &str) {
    let rest = line.split_once('%').expect("percent").1.trim_start();
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix("  ").expect("two spaces before the name");
    let indent = rest.len() - rest.trim_start_matches(' ').len();
    (indent / 2, rest.trim_start_matches(' '))
}

struct Profiled {
    samples: Vec<RawSample>,
    elapsed: Duration,
    report: ProfileReport,
}

/// Runs `main` of [`HOT`] in a loop on a fresh thread under `strategy` while a
/// sampler samples it for about 300 ms of its CPU time.
fn profile_hot(strategy: Strategy) -> Profiled {
    let _one = one_sampler();
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let worker = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let engine = Engine::new(Config {
                strategy,
                ..Config::default()
            })
            .unwrap();
            let module = Module::new(&engine, HOT).unwrap();
            let mut store = Store::new(&engine, ());
            let inst = Instance::new(&mut store, &module, &[]).unwrap();
            let main = inst.get_func(&store, "main").unwrap();
            let names = module.info().func_names.clone();
            tx.send((ThreadTarget::current().unwrap(), module.info().id, names))
                .unwrap();
            let mut r = [Val::I32(0)];
            while !stop.load(Ordering::SeqCst) {
                main.call(&mut store, &[Val::I32(10)], &mut r).unwrap();
            }
        })
    };
    let (target, module_id, names) = rx.recv().unwrap();
    let started = Instant::now();
    let cpu0 = target.cpu_time().unwrap();
    let sampler = Sampler::start(target, 1000).unwrap();
    // Generous: the machine may be busy, so wait on the target's CPU time.
    while started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
        let cpu = target.cpu_time().unwrap() - cpu0;
        if cpu >= Duration::from_millis(300) && sampler.sample_count() > 60 {
            break;
        }
    }
    let partial = sampler.samples();
    let samples = sampler.stop();
    assert!(partial.len() <= samples.len());
    let elapsed = started.elapsed();

    let name_of = |m: u64, f: u32| {
        if m == module_id {
            names.get(&f).cloned().unwrap_or_else(|| format!("func{f}"))
        } else {
            format!("wasm[{m}]::func[{f}]")
        }
    };
    // Symbolize while the worker still holds the module (and so its code).
    let report = profile::report(&samples, elapsed, &name_of);
    stop.store(true, Ordering::SeqCst);
    worker.join().unwrap();
    Profiled {
        samples,
        elapsed,
        report,
    }
}

fn check_hot(p: &Profiled, tier: &str) {
    let r = &p.report;
    assert!(p.samples.len() > 50, "only {} samples", p.samples.len());
    assert_eq!(r.samples, p.samples.len() as u64);
    assert!(p.samples.iter().all(|s| !s.pcs.is_empty()));
    let top = &r.flat[0];
    assert_eq!(top.name, "spin", "flat profile: {:#?}", r.flat);
    assert_eq!(top.func_index, Some(0));
    assert_eq!(top.tier, tier);
    assert!(
        top.self_samples * 2 > r.samples,
        "flat profile: {:#?}",
        r.flat
    );
    assert!(top.total_samples >= top.self_samples);
    let main = r
        .flat
        .iter()
        .find(|row| row.name == "main")
        .expect("main row");
    assert!(
        main.total_samples * 2 >= top.self_samples,
        "main should be on the stack of most spin samples: {:#?}",
        r.flat
    );
    // The tree has main with spin right under it.
    let lines: Vec<(usize, &str)> = r.tree.iter().map(|l| tree_line(l)).collect();
    let at = lines
        .iter()
        .position(|&(_, n)| n == "main")
        .unwrap_or_else(|| panic!("no main in the tree: {:#?}", r.tree));
    let (depth, _) = lines[at];
    assert_eq!(depth, 0, "main is an outermost wasm frame: {:#?}", r.tree);
    assert_eq!(
        lines.get(at + 1).copied(),
        Some((depth + 1, "spin")),
        "tree: {:#?}",
        r.tree
    );
    // The timeline covers the run and counts every sample.
    assert!(r.timeline.len() as u128 >= p.elapsed.as_millis() / 100);
    assert_eq!(r.timeline.iter().sum::<u64>(), r.samples);
}

#[test]
fn hot_loop_baseline() {
    let p = profile_hot(Strategy::Baseline);
    check_hot(&p, "baseline");
}

#[test]
fn hot_loop_optimized() {
    let p = profile_hot(Strategy::Optimized);
    check_hot(&p, "optimized");
}

#[test]
fn sleeping_thread_costs_no_samples() {
    let _one = one_sampler();
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        tx.send(ThreadTarget::current().unwrap()).unwrap();
        std::thread::sleep(Duration::from_millis(400));
    });
    let target = rx.recv().unwrap();
    let sampler = Sampler::start(target, 1000).unwrap();
    worker.join().unwrap();
    let samples = sampler.stop();
    assert!(
        samples.len() <= 10,
        "{} samples of a sleeping thread",
        samples.len()
    );
}

#[test]
fn one_sampler_at_a_time() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Sampler>();
    let _one = one_sampler();
    let me = ThreadTarget::current().unwrap();
    assert!(me.stack_low < me.stack_high);
    let a = Sampler::start(me, 100).unwrap();
    assert!(Sampler::start(me, 100).is_err());
    drop(a);
    let b = Sampler::start(me, 100).unwrap();
    assert!(Sampler::start(me, 0).is_err());
    b.stop();
    assert!(Sampler::start(me, 0).is_err());
    assert!(Sampler::start(me, 1_000_000).is_err());
}

#[test]
fn report_survives_junk() {
    let samples = vec![
        RawSample {
            at: Duration::from_secs(u64::MAX / 4),
            pcs: vec![],
        },
        RawSample {
            at: Duration::ZERO,
            pcs: vec![0, 1, usize::MAX, 0x1000],
        },
    ];
    let r = profile::report(&samples, Duration::from_millis(250), &|m, f| {
        format!("{m}:{f}")
    });
    assert_eq!(r.samples, 2);
    assert_eq!(r.flat.len(), 1);
    assert_eq!(r.flat[0].name, profile::HOST_ROW);
    assert_eq!(r.flat[0].func_index, None);
    assert_eq!(r.flat[0].self_samples, 2);
    assert_eq!(r.tree.len(), 1);
    assert_eq!(tree_line(&r.tree[0]), (0, profile::HOST_ROW));
    assert!(r.tree[0].starts_with(" 100.0%     2  "), "{:?}", r.tree[0]);
    assert_eq!(r.timeline.first(), Some(&1));
    let empty = profile::report(&[], Duration::ZERO, &|_, _| String::new());
    assert!(empty.flat.is_empty() && empty.tree.is_empty() && empty.timeline.is_empty());
}

#[test]
fn perf_map_names_module_functions() {
    perf_map::enable().unwrap();
    assert!(perf_map::is_enabled());
    let engine = Engine::new(Config::default()).unwrap();
    let module = Module::new(&engine, HOT).unwrap();
    let id = module.info().id;
    let names: HashMap<u32, String> = module.info().func_names.clone();
    perf_map::register_names(
        id,
        Arc::new(move |f| names.get(&f).cloned().unwrap_or_default()),
    );
    let mut store = Store::new(&engine, ());
    let _inst = Instance::new(&mut store, &module, &[]).unwrap();
    // Optimized code of another module: default names, tier in the name.
    let opt = Engine::new(Config {
        strategy: Strategy::Optimized,
        ..Config::default()
    })
    .unwrap();
    let unnamed = Module::new(&opt, HOT).unwrap();

    let text = std::fs::read_to_string(perf_map::path()).unwrap();
    for l in text.lines() {
        let mut parts = l.splitn(3, ' ');
        let start = parts.next().unwrap();
        let size = parts.next().unwrap();
        assert!(usize::from_str_radix(start, 16).is_ok(), "{l}");
        assert!(usize::from_str_radix(size, 16).unwrap() > 0, "{l}");
        assert!(!parts.next().unwrap().is_empty(), "{l}");
    }
    assert!(
        text.lines().any(|l| l.ends_with(" spin [baseline]")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.ends_with(" main [baseline]")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.ends_with(" wdb trampoline")),
        "{text}"
    );
    let default = format!(" wasm[{}]::func[1] [optimized]", unnamed.info().id);
    assert!(text.lines().any(|l| l.ends_with(&default)), "{text}");
    // The named module's spin line points at its code.
    let start = module.code().start() + module.code().funcs[0].start;
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!("{start:x} ")) && l.ends_with("spin [baseline]")),
        "{text}"
    );
    // Leave no map behind in /tmp (later writes go to the unlinked file).
    let _ = std::fs::remove_file(perf_map::path());
}
