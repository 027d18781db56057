//! Exception handling beyond the spec suite: the legacy form
//! (`tests/wast/legacy_exceptions.wast`) in every tier; throws that cross
//! tiers (baseline code throws, optimized code catches, and the reverse),
//! directly and through a host function that calls back into wasm; and how
//! an uncaught exception is reported (tag, payload, wasm backtrace); which
//! encoding each build of the C++ exceptions sample uses.

use wdb::*;

const TIERS: [Strategy; 5] = [
    Strategy::Baseline,
    Strategy::Debug,
    Strategy::Optimized,
    Strategy::Mixed,
    Strategy::Dynamic,
];

#[test]
fn the_legacy_form_runs_in_every_tier() {
    let src = include_str!("wast/legacy_exceptions.wast");
    for s in TIERS {
        let report = wdb::wast::run_wast("legacy_exceptions.wast", src, wdb::wast::config_for(s))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            report.failures.is_empty() && report.passed == 16,
            "[{s:?}] {} passed, failures:\n{}",
            report.passed,
            report.failures.join("\n")
        );
    }
}

/// Under `Strategy::Mixed`, defined functions alternate: even ones are
/// baseline code, odd ones optimized code. `$host` (an import) calls the
/// export its argument names (0: `throw_b`, 1: `throw_o`) with 7.
const WAT: &str = r#"
(module
  (import "host" "call" (func $host (param i32) (result i32)))
  (tag $e (export "e") (param i32))

  ;; defined 0 (mixed: baseline)
  (func $throw_b (export "throw_b") (param i32) (result i32)
    (throw $e (local.get 0)))

  ;; defined 1 (mixed: optimized): catches what baseline code throws
  (func (export "catch_o") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (if (result i32) (local.get 0)
          (then (call $host (i32.const 0)))
          (else (call $throw_b (i32.const 7)))))
      (return))
    (i32.const 1000)
    (i32.add))

  ;; defined 2 (mixed: baseline): catches what optimized code throws
  (func (export "catch_b") (param i32) (result i32)
    (block $h (result i32)
      (try_table (result i32) (catch $e $h)
        (if (result i32) (local.get 0)
          (then (call $host (i32.const 1)))
          (else (call $throw_o (i32.const 7)))))
      (return))
    (i32.const 2000)
    (i32.add))

  ;; defined 3 (mixed: optimized)
  (func $throw_o (export "throw_o") (param i32) (result i32)
    (throw $e (local.get 0)))
)
"#;

fn setup(strategy: Strategy) -> (Store<()>, Instance) {
    let engine = Engine::new(Config {
        strategy,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, WAT).unwrap_or_else(|e| panic!("[{strategy:?}] {e}"));
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    let ty = FuncType::new([ValType::I32], [ValType::I32]);
    linker
        .func_new(
            &mut store,
            "host",
            "call",
            ty,
            |mut caller, args, results| {
                let name = if args[0].i32() == Some(0) {
                    "throw_b"
                } else {
                    "throw_o"
                };
                let Some(Extern::Func(f)) = caller.get_export(name) else {
                    return Err(Trap::host("no such export"));
                };
                let mut out = [Val::I32(0)];
                // The exception wasm throws here leaves as an error; returning
                // it passes the exception on to the wasm caller.
                f.call(caller.store(), &[Val::I32(7)], &mut out)
                    .map_err(|e| {
                        e.as_trap()
                            .cloned()
                            .unwrap_or_else(|| Trap::host("not a trap"))
                    })?;
                results[0] = out[0];
                Ok(())
            },
        )
        .unwrap();
    let inst = linker.instantiate(&mut store, &module).unwrap();
    (store, inst)
}

fn call(store: &mut Store<()>, inst: &Instance, name: &str, arg: i32) -> Result<i32> {
    let f = inst.get_func(store, name).expect("export");
    let mut out = [Val::I32(0)];
    f.call(store, &[Val::I32(arg)], &mut out)?;
    Ok(out[0].i32().expect("i32 result"))
}

#[test]
fn throws_cross_tiers_and_host_frames() {
    for s in TIERS {
        let (mut store, inst) = setup(s);
        if s == Strategy::Mixed {
            let tiering = inst.tiering(&store);
            // Function 0 is the import.
            assert_eq!(tiering.tier(1), Some(Tier::Baseline), "throw_b");
            assert_eq!(tiering.tier(2), Some(Tier::Optimized), "catch_o");
            assert_eq!(tiering.tier(3), Some(Tier::Baseline), "catch_b");
            assert_eq!(tiering.tier(4), Some(Tier::Optimized), "throw_o");
        }
        for (name, arg, want) in [
            ("catch_o", 0, 1007),
            ("catch_o", 1, 1007),
            ("catch_b", 0, 2007),
            ("catch_b", 1, 2007),
        ] {
            let got = call(&mut store, &inst, name, arg)
                .unwrap_or_else(|e| panic!("[{s:?}] {name}({arg}): {e}"));
            assert_eq!(got, want, "[{s:?}] {name}({arg})");
        }
    }
}

#[test]
fn an_uncaught_exception_is_reported_with_its_tag_payload_and_backtrace() {
    for s in TIERS {
        let (mut store, inst) = setup(s);
        for name in ["throw_b", "throw_o"] {
            let e = call(&mut store, &inst, name, 42).expect_err("uncaught");
            let trap = e.as_trap().expect("a trap");
            assert_eq!(trap.code, TrapCode::UncaughtException, "[{s:?}] {name}");
            let thrown = trap.exception.as_ref().expect("the exception");
            assert_eq!(thrown.tag, "tag 0 \"e\"", "[{s:?}] {name}");
            assert_eq!(thrown.values, ["i32:42"], "[{s:?}] {name}");
            let top = trap.backtrace.first().expect("a wasm frame");
            assert_eq!(top.func_name.as_deref(), Some(name), "[{s:?}]");
            assert_eq!(
                e.to_string(),
                format!("wasm trap: uncaught exception, tag 0 \"e\" (i32:42) in {top}"),
                "[{s:?}]"
            );
        }
    }
}

/// The committed C++ exceptions sample (`samples/build-cpp-eh.sh`) comes in
/// both encodings: `ledger-g.wasm` uses the legacy `try` (and no
/// `try_table`), `ledger-exnref-g.wasm` `try_table` (and no `try`).
#[test]
fn the_cpp_sample_builds_use_the_legacy_and_the_exnref_encoding() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples");
    for (module, legacy) in [("ledger-g.wasm", true), ("ledger-exnref-g.wasm", false)] {
        let bytes = std::fs::read(dir.join(module)).unwrap();
        let (mut tries, mut try_tables) = (0, 0);
        for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
            if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
                let mut ops = body.get_operators_reader().unwrap();
                while !ops.eof() {
                    match ops.read().unwrap() {
                        wasmparser::Operator::Try { .. } => tries += 1,
                        wasmparser::Operator::TryTable { .. } => try_tables += 1,
                        _ => {}
                    }
                }
            }
        }
        assert_eq!(
            (tries > 0, try_tables > 0),
            (legacy, !legacy),
            "{module}: {tries} try, {try_tables} try_table"
        );
    }
}
