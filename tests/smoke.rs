//! Smoke tests of the baseline tier: arithmetic, calls, memory, traps.

use wdb::*;

fn run(wat: &str, name: &str, args: &[Val]) -> Result<Vec<Val>> {
    let engine = Engine::new(Config::default())?;
    let module = Module::new(&engine, wat)?;
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[])?;
    let f = inst.get_func(&store, name).expect("export");
    let ty = f.ty(&store).unwrap();
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    f.call(&mut store, args, &mut results)?;
    Ok(results)
}

#[test]
fn fib() {
    let wat = r#"(module (func $fib (export "fib") (param i32) (result i32)
        local.get 0 i32.const 2 i32.lt_s
        if (result i32) local.get 0
        else local.get 0 i32.const 1 i32.sub call $fib local.get 0 i32.const 2 i32.sub call $fib i32.add end))"#;
    let r = run(wat, "fib", &[Val::I32(20)]).unwrap();
    assert_eq!(r[0].i32(), Some(6765));
}

#[test]
fn traps_div_zero() {
    let wat = r#"(module (func (export "d") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s))"#;
    assert_eq!(
        run(wat, "d", &[Val::I32(7), Val::I32(2)]).unwrap()[0].i32(),
        Some(3)
    );
    let e = run(wat, "d", &[Val::I32(7), Val::I32(0)]).unwrap_err();
    assert_eq!(e.as_trap_code(), Some(TrapCode::IntegerDivideByZero));
    let e = run(wat, "d", &[Val::I32(i32::MIN), Val::I32(-1)]).unwrap_err();
    assert_eq!(e.as_trap_code(), Some(TrapCode::IntegerOverflow));
}

#[test]
fn memory_oob() {
    let wat =
        r#"(module (memory 1) (func (export "ld") (param i32) (result i32) local.get 0 i32.load))"#;
    assert_eq!(run(wat, "ld", &[Val::I32(0)]).unwrap()[0].i32(), Some(0));
    let e = run(wat, "ld", &[Val::I32(65533)]).unwrap_err();
    assert_eq!(e.as_trap_code(), Some(TrapCode::MemoryOutOfBounds));
}

#[test]
fn stack_overflow() {
    let wat = r#"(module (func $r (export "r") (param i32) (result i32) local.get 0 call $r))"#;
    let e = run(wat, "r", &[Val::I32(0)]).unwrap_err();
    assert_eq!(e.as_trap_code(), Some(TrapCode::StackOverflow));
}

/// `Config::features` decides what validates: two memories are invalid
/// under Wasm 2.0's set and valid under the default (3.0) one; an engine
/// asked for a feature wdb lacks (threads) refuses with an error naming it.
#[test]
fn config_features_choose_what_validates() {
    let wat = "(module (memory 1) (memory 1))";
    let v2 = Engine::new(Config {
        features: wdb::wast::features_named("2.0").unwrap(),
        ..Config::default()
    })
    .unwrap();
    let err = Module::new(&v2, wat)
        .err()
        .expect("invalid under 2.0")
        .to_string();
    assert!(err.contains("multiple memories"), "{err}");
    assert!(Module::new(&Engine::new(Config::default()).unwrap(), wat).is_ok());
    let err = Engine::new(Config {
        features: wdb::wasm_features() | wasmparser::WasmFeatures::THREADS,
        ..Config::default()
    })
    .err()
    .expect("threads are not implemented")
    .to_string();
    assert!(err.contains("THREADS"), "{err}");
}
