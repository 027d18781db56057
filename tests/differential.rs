//! Differential testing against the `wasmi` interpreter on modules generated
//! by `wasm-smith`, in all five tiers (baseline, debug, optimized, mixed, and
//! dynamic with a tiny tier-up budget): instantiation outcome, then every
//! exported function called with a few deterministic argument sets, comparing
//! results (floats by bits, NaNs by NaN-ness), traps (kind) and trap places
//! (the whole backtrace must be plausible and the same in every tier).
//!
//! The generator, oracle and tiers are the `wdb-fuzz` crate's (its binary
//! runs the same check at scale: `cargo run --release -p wdb-fuzz --
//! differential --seeds A..B`). A fixed slice of seeds runs every time
//! (`WDB_DIFF_CASES` raises the count, `WDB_DIFF_SEED` shifts the first seed).
//! Cases that cannot be judged (wasmi out of fuel at instantiation, stack
//! limits that differ, the watchdog) are counted and capped.

use std::time::{Duration, Instant};
use wdb_fuzz::differential::Differential;
use wdb_fuzz::smith::Proposals;
use wdb_fuzz::tiers::OsrStress;
use wdb_fuzz::watchdog::Watchdog;
use wdb_fuzz::Tally;

const DEFAULT_CASES: u64 = 150;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

#[test]
fn differential_against_wasmi_in_every_tier() {
    let cases = env_u64("WDB_DIFF_CASES").unwrap_or(DEFAULT_CASES);
    let first = env_u64("WDB_DIFF_SEED").unwrap_or(0);
    on_big_stack(move || {
        run_cases(
            &wdb_fuzz::tiers::ALL,
            Proposals::default(),
            first,
            cases,
            true,
        )
    });
}

/// Tail calls and extended constant expressions in generated modules, every tier.
#[test]
fn differential_with_tail_calls_and_extended_const() {
    let proposals = Proposals::parse("tail-call,extended-const").unwrap();
    on_big_stack(move || run_cases(&wdb_fuzz::tiers::ALL, proposals, 20_000, 60, true));
}

/// 128-bit SIMD in generated modules, every tier.
#[test]
fn differential_with_simd() {
    let proposals = Proposals::parse("simd").unwrap();
    on_big_stack(move || run_cases(&wdb_fuzz::tiers::ALL, proposals, 30_000, 60, true));
}

/// Several memories, 64-bit ones among them, in generated modules, every tier.
#[test]
fn differential_with_multiple_and_64_bit_memories() {
    let proposals = Proposals::parse("multi-memory,memory64").unwrap();
    on_big_stack(move || run_cases(&wdb_fuzz::tiers::ALL, proposals, 40_000, 60, true));
}

/// Under OSR stress, in each mode (down, up, alternating): every second
/// loop-header check moves its frame to other code while the generated
/// code runs, and the results, traps and trap places still agree with
/// wasmi's. The modes run one after the other (the move counters are
/// process-wide, and no other test here stresses); each must make its moves.
#[test]
fn differential_under_osr_stress() {
    on_big_stack(|| {
        use wdb::OsrStressMode::{Alternating, Down, Up};
        use wdb::Strategy::{Baseline, Debug, Dynamic, Optimized};
        // (mode, tiers, first seed, the move kinds it must make: see
        // `wdb::testing::osr_moves`).
        let slices: [(wdb::OsrStressMode, &[wdb::Strategy], u64, &[usize]); 3] = [
            (Down, &[Baseline, Optimized, Debug], 50_000, &[0, 1, 2]),
            (Up, &[Baseline, Debug], 51_000, &[4]),
            (
                Alternating,
                &[Baseline, Optimized, Dynamic],
                52_000,
                &[0, 1, 4],
            ),
        ];
        for (mode, tiers, first, kinds) in slices {
            let before = wdb::testing::osr_moves();
            let skips = wdb::testing::osr_up_skips();
            let osr = OsrStress { every: 2, mode };
            run_stressed(tiers, Proposals::default(), osr, first, STRESS_CASES, false);
            let after = wdb::testing::osr_moves();
            eprintln!(
                "  moves {before:?} → {after:?}; up skipped (no entry, frame) \
                 {skips:?} → {:?}",
                wdb::testing::osr_up_skips()
            );
            for &k in kinds {
                assert!(
                    after[k] > before[k],
                    "{}: no move of kind {k} ({before:?} → {after:?})",
                    mode.name()
                );
            }
        }
    });
}

/// Seeds per OSR stress mode (every check calls the runtime: slow code).
const STRESS_CASES: u64 = 40;

/// wasmi and deep generated code want more native stack than a test thread has.
fn on_big_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p));
}

/// Checks seeds `first..first + cases`; `tierups`: the slice must see
/// functions tier up under `dynamic`.
fn run_cases(tiers: &[wdb::Strategy], proposals: Proposals, first: u64, cases: u64, tierups: bool) {
    run_stressed(
        tiers,
        proposals,
        OsrStress::default(),
        first,
        cases,
        tierups,
    );
}

/// [`run_cases`] with every tier's engine under the OSR stress setting `osr`.
fn run_stressed(
    tiers: &[wdb::Strategy],
    proposals: Proposals,
    osr: OsrStress,
    first: u64,
    cases: u64,
    tierups: bool,
) {
    let diff = Differential::stressed(tiers, proposals, osr).unwrap();
    let start = Instant::now();
    let mut tally = Tally::default();
    for seed in first..first + cases {
        tally.add(seed, &diff.check_seed(seed));
    }
    eprintln!(
        "differential [{}]{}: seeds {first}..{}: {} in {:.1} s",
        proposals.list(),
        match osr.every {
            0 => String::new(),
            n => format!(" OSR stress {} every {n}", osr.mode.name()),
        },
        first + cases,
        tally.summary(),
        start.elapsed().as_secs_f64()
    );
    let failures: Vec<String> = tally
        .findings
        .iter()
        .map(|(seed, f)| format!("seed {seed}: {f}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
    if let Some(m) = tally.cap_violation() {
        panic!("{m}");
    }
    // The slice must actually exercise what it claims: calls in every tier
    // and tier-ups under `dynamic` while the plan runs.
    assert!(
        tally.calls >= tally.judged * tiers.len() as u64,
        "only {} calls over {} judged modules",
        tally.calls,
        tally.judged
    );
    if tierups && tiers.contains(&wdb::Strategy::Dynamic) {
        assert!(
            tally.tierups > 0,
            "no function tiered up under dynamic: {}",
            tally.summary()
        );
    }
}

/// The safety net the cases rely on: an endless loop is interrupted in every tier.
#[test]
fn watchdog_interrupts_endless_loops_in_every_tier() {
    let wat = r#"(module
        (func $spin (loop br 0))
        (func (export "run") call $spin)
        (func (export "recurse") (param i32) (result i32)
            (loop (br_if 0 (local.get 0)))
            local.get 0))"#;
    let dog = Watchdog::new();
    for tier in wdb_fuzz::tiers::engines(&wdb_fuzz::tiers::ALL).unwrap() {
        let module = wdb::Module::new(&tier.engine, wat).unwrap();
        for (name, args) in [("run", vec![]), ("recurse", vec![wdb::Val::I32(1)])] {
            let mut store = wdb::Store::new(&tier.engine, ());
            let inst = wdb::Instance::new(&mut store, &module, &[]).unwrap();
            let f = inst.get_func(&store, name).unwrap();
            let ty = f.ty(&store).unwrap();
            let mut out: Vec<wdb::Val> = ty
                .results()
                .iter()
                .map(|t| wdb::Val::default_for(*t))
                .collect();
            dog.arm(store.interrupt_handle(), Duration::from_millis(200));
            let e = f.call(&mut store, &args, &mut out).unwrap_err();
            dog.disarm();
            assert_eq!(
                e.as_trap_code(),
                Some(wdb::TrapCode::Interrupted),
                "{} {name}: {e}",
                tier.name()
            );
        }
    }
}

/// The oracle notices a wrong answer, a wrong trap and a wrong trap place
/// (so a passing run means the tiers agreed, not that nothing was compared).
#[test]
fn the_oracle_reports_disagreements() {
    let diff = Differential::new(&[wdb::Strategy::Baseline, wdb::Strategy::Optimized]).unwrap();
    let module = |body: &str| {
        wat::parse_str(format!(
            r#"(module (memory 1 1)
                 (func (export "f") (param i32) (result i32) {body}))"#
        ))
        .unwrap()
    };
    let times3 = module("local.get 0 i32.const 3 i32.mul");
    let r = diff.check_module(&times3, 1);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.status, wdb_fuzz::Status::Judged);
    assert!(r.calls >= 4, "{r:?}");
    // wasmi runs x*3, wdb x*4: a wrong result in both tiers.
    let times4 = module("local.get 0 i32.const 4 i32.mul");
    let r = diff.check_pair(&times3, &times4, 1);
    assert_eq!(r.findings.len(), 2, "{:?}", r.findings);
    assert!(
        r.findings[0].contains("[baseline]: call #0"),
        "{:?}",
        r.findings
    );
    // A trap where wasmi returns.
    let traps = module("unreachable");
    let r = diff.check_pair(&times3, &traps, 1);
    assert!(
        r.findings.iter().any(|f| f.contains("Trap(Unreachable)")),
        "{:?}",
        r.findings
    );
    // Calls that trap (x = 0 divides by zero) agree, their places checked.
    let div = module("i32.const 1 local.get 0 i32.div_u");
    let r = diff.check_module(&div, 1);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}
