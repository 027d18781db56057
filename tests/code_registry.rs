//! The code registry under the trap handler: a fault must be handled on a
//! thread that holds the registry's writer lock (the handler takes no lock),
//! and traps stay exact while other threads publish and drop code.

use std::sync::mpsc;
use std::time::Duration;
use wdb::*;

const TRAPPING: &str = r#"(module
  (memory 1)
  (func (export "oob") (result i32)
    i32.const 70000
    i32.load))"#;

/// Runs `oob` once and returns the trap.
fn run_oob(strategy: Strategy) -> Trap {
    let engine = Engine::new(Config {
        strategy,
        ..Config::default()
    })
    .expect("engine");
    let module = Module::new(&engine, TRAPPING).expect("compile");
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).expect("instantiate");
    let f = inst.get_func(&store, "oob").expect("export oob");
    let mut results = [Val::I32(0)];
    match f.call(&mut store, &[], &mut results) {
        Err(Error::Trap(t)) => *t,
        other => panic!("expected a trap, got {other:?}"),
    }
}

/// A hang guard: the body runs on its own thread; a deadlock fails the test
/// instead of hanging the suite.
fn within_a_minute<R: Send + 'static>(what: &str, body: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(body());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| {
            panic!("{what}: no answer within a minute (deadlock in the trap path?)")
        })
}

#[test]
fn a_fault_while_holding_the_registry_writer_lock_is_a_trap() {
    for strategy in [Strategy::Baseline, Strategy::Optimized] {
        // Compile outside the lock (publishing needs it), then fault inside.
        let trap = within_a_minute("trap under the writer lock", move || {
            let engine = Engine::new(Config {
                strategy,
                ..Config::default()
            })
            .expect("engine");
            let module = Module::new(&engine, TRAPPING).expect("compile");
            let mut store = Store::new(&engine, ());
            let inst = Instance::new(&mut store, &module, &[]).expect("instantiate");
            let f = inst.get_func(&store, "oob").expect("export oob");
            let mut results = [Val::I32(0)];
            // The first call publishes the entry trampoline (which needs the
            // writer lock); the second reuses it.
            let first = f.call(&mut store, &[], &mut results);
            assert!(matches!(first, Err(Error::Trap(_))), "{first:?}");
            let outcome =
                wdb::testing::with_registry_writer_held(|| f.call(&mut store, &[], &mut results));
            match outcome {
                Err(Error::Trap(t)) => *t,
                other => panic!("expected a trap, got {other:?}"),
            }
        });
        assert_eq!(trap.code, TrapCode::MemoryOutOfBounds, "[{strategy:?}]");
        assert!(
            trap.wasm_offset.is_some(),
            "[{strategy:?}] trap without a place"
        );
    }
}

#[test]
fn traps_stay_exact_while_other_threads_publish_and_drop_code() {
    let expected = run_oob(Strategy::Baseline).wasm_offset;
    assert!(expected.is_some());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Churn: modules compiled and dropped (publish + unregister) in a loop.
    let churners: Vec<_> = (0..2)
        .map(|_| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let engine = Engine::new(Config::default()).expect("engine");
                let mut n = 0u32;
                while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                    let m = Module::new(&engine, TRAPPING).expect("compile");
                    drop(m);
                    n += 1;
                }
                n
            })
        })
        .collect();
    let traps = within_a_minute("traps during churn", move || {
        (0..200)
            .map(|i| {
                let strategy = if i % 2 == 0 {
                    Strategy::Baseline
                } else {
                    Strategy::Optimized
                };
                run_oob(strategy)
            })
            .collect::<Vec<_>>()
    });
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let churned: u32 = churners
        .into_iter()
        .map(|h| h.join().expect("churner"))
        .sum();
    assert!(
        churned > 0,
        "no code was published and dropped during the run"
    );
    for t in traps {
        assert_eq!(t.code, TrapCode::MemoryOutOfBounds);
        assert_eq!(t.wasm_offset, expected, "trap place changed under churn");
    }
}
