//! On-stack replacement up (DESIGN §3.9) from loops that carry values on
//! the operand stack: values pushed before the loop (inside blocks, `if`
//! arms and outer loops around it), loop parameters, and v128 locals and
//! stack values. A baseline frame moves into the loop's OSR entry mid-call
//! (forced at every Nth loop-header check by the stress setting, and by
//! dynamic tiering once the loop runs hot), an optimized frame holding v128
//! values moves down to debug code, and every result is the one the loop
//! computes.

use wdb::{Config, Engine, Instance, Module, OsrStressMode, Store, Strategy, Val};

const LOOPS: &str = r#"
(module
  ;; A value below the loop, inside a block around it.
  (func (export "below") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (i32.const 1000)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc
          (i32.add (local.get $acc) (i32.mul (local.get $i) (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i32.add (local.get $acc)))

  ;; A loop parameter (the accumulator travels on the stack), with an f64
  ;; and an i64 below the loop.
  (func (export "params") (param $n i32) (result i64)
    (local $k i32) (local $t i64)
    (f64.const 2.5)
    (i64.const 7)
    (i64.const 0)
    (loop $l (param i64) (result i64)
      (i64.add (i64.mul (i64.extend_i32_u (local.get $k)) (i64.const 3)))
      (local.tee $k (i32.add (local.get $k) (i32.const 1)))
      (local.get $n)
      (i32.lt_u)
      (br_if $l))
    (i64.add)
    (local.set $t)
    (i64.trunc_f64_s (f64.mul (f64.const 4)))
    (i64.add (local.get $t)))

  ;; v128: a local, a value below the loop and the loop's parameter.
  (func (export "vec") (param $n i32) (result i32)
    (local $v v128) (local $i i32)
    (v128.const i32x4 1 2 3 4)
    (local.set $v (v128.const i32x4 10 20 30 40))
    (v128.const i32x4 0 0 0 0)
    (loop $l (param v128) (result v128)
      (i32x4.add (local.get $v))
      (local.set $v (i32x4.add (local.get $v) (i32x4.splat (local.get $i))))
      (local.tee $i (i32.add (local.get $i) (i32.const 1)))
      (local.get $n)
      (i32.lt_u)
      (br_if $l))
    (i32x4.add)
    (local.set $v)
    (i32.xor
      (i32x4.extract_lane 0 (local.get $v))
      (i32x4.extract_lane 3 (local.get $v))))

  ;; Loops inside loops inside an `if` arm, values below each of them.
  (func (export "nested") (param $n i32) (param $m i32) (result i32)
    (local $i i32) (local $j i32) (local $acc i32)
    (i32.const 5)
    (if (param i32) (result i32) (i32.gt_u (local.get $n) (i32.const 0))
      (then
        (i32.const 100)
        (loop $outer
          (local.set $j (i32.const 0))
          (i32.const 3)
          (block $inner_done
            (loop $inner
              (br_if $inner_done (i32.ge_u (local.get $j) (local.get $m)))
              (local.set $acc
                (i32.add
                  (i32.mul (local.get $acc) (i32.const 31))
                  (i32.add (local.get $i) (local.get $j))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $inner)))
          (local.set $acc (i32.add (local.get $acc)))
          (br_if $outer
            (i32.lt_u
              (local.tee $i (i32.add (local.get $i) (i32.const 1)))
              (local.get $n))))
        (i32.add)
        (i32.add (local.get $acc)))
      (else
        (i32.add (i32.const 1)))))
)
"#;

fn below(n: u32) -> i32 {
    let acc = (0..n).fold(0u32, |a, i| a.wrapping_add(i.wrapping_mul(i)));
    1000u32.wrapping_add(acc) as i32
}

fn params(n: u32) -> i64 {
    // The loop runs at least once (its condition is at the bottom).
    let acc = (0..n.max(1)).fold(0u64, |a, k| a.wrapping_add(k as u64 * 3));
    7u64.wrapping_add(acc).wrapping_add(10) as i64
}

fn vec(n: u32) -> i32 {
    let mut v = [10u32, 20, 30, 40];
    let mut acc = [0u32; 4];
    for i in 0..n.max(1) {
        for l in 0..4 {
            acc[l] = acc[l].wrapping_add(v[l]);
            v[l] = v[l].wrapping_add(i);
        }
    }
    let r: Vec<u32> = (0..4).map(|l| acc[l].wrapping_add(l as u32 + 1)).collect();
    (r[0] ^ r[3]) as i32
}

fn nested(n: u32, m: u32) -> i32 {
    if n == 0 {
        return 6;
    }
    let mut acc = 0u32;
    for i in 0..n {
        for j in 0..m {
            acc = acc.wrapping_mul(31).wrapping_add(i.wrapping_add(j));
        }
        acc = acc.wrapping_add(3);
    }
    105u32.wrapping_add(acc) as i32
}

/// Calls every function of `LOOPS` in a fresh instance of `engine` and
/// checks the results.
fn run_all(engine: &Engine, n: u32) {
    let module = Module::new(engine, LOOPS).unwrap();
    let mut store = Store::new(engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let mut call = |name: &str, args: &[Val]| -> Val {
        let f = inst.get_func(&store, name).unwrap();
        let mut r = [Val::I32(0)];
        f.call(&mut store, args, &mut r)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        r[0]
    };
    let arg = Val::I32(n as i32);
    assert_eq!(call("below", &[arg]).i32(), Some(below(n)), "below");
    assert_eq!(call("params", &[arg]).i64(), Some(params(n)), "params");
    assert_eq!(call("vec", &[arg]).i32(), Some(vec(n)), "vec");
    let m = Val::I32(7);
    assert_eq!(
        call("nested", &[arg, m]).i32(),
        Some(nested(n, 7)),
        "nested"
    );
}

/// The stress setting moves a baseline frame (plain or debug code) into
/// its loop's OSR entry at every Nth loop-header check; with N = 1, 2, 3
/// that is the first loop a function reaches and the loops inside it. No
/// frame is refused (none has values the entry cannot take), and the
/// results are the loops' own.
#[test]
fn stressed_frames_with_stack_values_params_and_v128_move_up() {
    for strategy in [Strategy::Baseline, Strategy::Debug] {
        for every in 1..=3 {
            let engine = Engine::new(Config {
                strategy,
                osr_stress: every,
                osr_stress_mode: OsrStressMode::Up,
                ..Config::default()
            })
            .unwrap();
            let moves = wdb::testing::osr_moves()[4];
            let skips = wdb::testing::osr_up_skips();
            run_all(&engine, 50);
            assert!(
                wdb::testing::osr_moves()[4] > moves,
                "{strategy:?} every {every}: no frame moved up"
            );
            assert_eq!(
                wdb::testing::osr_up_skips(),
                skips,
                "{strategy:?} every {every}: frames stayed in baseline code (no entry, frame)"
            );
        }
    }
}

/// Optimized frames whose loops hold v128 values (a local, a value below
/// the loop, the loop's parameter) move down to debug code under stress
/// (the handover carries all 128 bits), and frames alternate between the
/// tiers with the same results.
#[test]
fn stressed_v128_frames_move_down_and_alternate() {
    for (strategy, mode, every) in [
        (Strategy::Optimized, OsrStressMode::Down, 1),
        (Strategy::Optimized, OsrStressMode::Down, 2),
        (Strategy::Baseline, OsrStressMode::Alternating, 1),
        (Strategy::Optimized, OsrStressMode::Alternating, 2),
    ] {
        let engine = Engine::new(Config {
            strategy,
            osr_stress: every,
            osr_stress_mode: mode,
            ..Config::default()
        })
        .unwrap();
        let before = wdb::testing::osr_moves();
        run_all(&engine, 50);
        let after = wdb::testing::osr_moves();
        assert!(
            after[1] > before[1],
            "{strategy:?} {} every {every}: no optimized frame moved down ({before:?} → {after:?})",
            mode.name()
        );
    }
    // `vec` alone: its optimized frame, v128 values live, moves down.
    let engine = Engine::new(Config {
        strategy: Strategy::Optimized,
        osr_stress: 1,
        osr_stress_mode: OsrStressMode::Down,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, LOOPS).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let f = inst.get_func(&store, "vec").unwrap();
    let before = wdb::testing::osr_moves()[1];
    let mut r = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(30)], &mut r).unwrap();
    assert_eq!(r[0].i32(), Some(vec(30)));
    assert!(
        wdb::testing::osr_moves()[1] > before,
        "vec: the optimized frame did not move down"
    );
}

/// Without stress, under dynamic tiering: a hot loop with a loop parameter
/// and values below it moves up mid-call (a tier event says so for that
/// function), and the result is the loop's.
#[test]
fn a_hot_loop_with_a_parameter_moves_up_mid_call() {
    let engine = Engine::new(Config {
        strategy: Strategy::Dynamic,
        tiering_budget: 10_000,
        ..Config::default()
    })
    .unwrap();
    let events = engine.subscribe_tiering();
    let module = Module::new(&engine, LOOPS).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    // (export, function index, iterations)
    for (name, index, n) in [("params", 1, 200_000_000u32), ("vec", 2, 100_000_000)] {
        let f = inst.get_func(&store, name).unwrap();
        let mut r = [Val::I32(0)];
        f.call(&mut store, &[Val::I32(n as i32)], &mut r).unwrap();
        match name {
            "params" => assert_eq!(r[0].i64(), Some(params(n))),
            _ => assert_eq!(r[0].i32(), Some(vec(n))),
        }
        let moved = events.try_iter().any(|e| {
            e.func_index == index
                && e.note
                    .as_deref()
                    .is_some_and(|n| n.contains("on-stack replacement baseline -> optimized"))
        });
        assert!(moved, "{name}: its loop did not move up");
    }
}
