//! The optimizing tier's interrupt-state records when part of a record is
//! stored ahead of its loop (`src/optimizing/preheader.rs`): a pause at the
//! header of an inner loop, and at the header of the loop around it, reads
//! every live local (i32, i64, f64, v128), the operand-stack value below the
//! inner loop and the results area with the program's own values, and the
//! function then returns its two results as it would without the pauses.

use std::sync::{Arc, Mutex};
use wdb::*;

/// `f(n)`: a first loop (a sibling of the outer one, so the two share a
/// record region), then `n` outer iterations, each summing five inner
/// iterations with a 7 left on the operand stack below the inner loop.
/// `$big` is dead after the first loop; `$n`, `$x` and `$v` are live across
/// every loop and never written in one; `$i` is written in the outer loop
/// only. The host's `pause` asks for a pause, taken at the next check:
/// at `i == 2` the inner loop's header, at `i == 5` the outer loop's.
const WAT: &str = r#"(module
  (import "env" "pause" (func $pause))
  (func (export "f") (param $n i32) (result i64 i32)
    (local $i i32) (local $j i32) (local $acc i64) (local $big i64) (local $x f64)
    (local $v v128)
    (local.set $big (i64.const 0x123456789abc))
    (local.set $x (f64.const 2.5))
    (local.set $v (v128.const i64x2 0x1111222233334444 0x5555666677778888))
    (loop $warm
      (local.set $acc (i64.add (local.get $acc) (local.get $big)))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br_if $warm (i32.lt_u (local.get $j) (i32.const 3))))
    (loop $outer
      (if (i32.eq (local.get $i) (i32.const 2)) (then (call $pause)))
      (local.set $j (i32.const 0))
      i32.const 7
      (loop $inner
        (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $j))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br_if $inner (i32.lt_u (local.get $j) (i32.const 5))))
      i64.extend_i32_u
      local.get $acc
      i64.add
      local.set $acc
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.eq (local.get $i) (i32.const 6)) (then (call $pause)))
      (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
    (i64.add (local.get $acc) (i64.trunc_f64_s (local.get $x)))
    (i64.add (i64x2.extract_lane 1 (local.get $v)))
    (local.get $i)))"#;

const BIG: u64 = 0x1234_5678_9abc;
const V_LO: u64 = 0x1111_2222_3333_4444;
const V_HI: u64 = 0x5555_6666_7777_8888;

type Seen = Vec<(Tier, Vec<DebugValue>, Vec<DebugValue>)>;

fn run(strategy: Strategy) -> (Seen, i64, i32) {
    let engine = Engine::new(Config {
        strategy,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    let mut store = Store::new(&engine, ());
    let handle = store.interrupt_handle();
    let pause = Func::new(
        &mut store,
        FuncType::new(vec![], vec![]),
        move |_c, _p, _r| {
            handle.pause();
            Ok(())
        },
    )
    .unwrap();
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let s2 = seen.clone();
    store.set_debug_hook(Some(Box::new(move |ctx: &DebugContext<'_>| {
        s2.lock()
            .unwrap()
            .push((ctx.tier(), ctx.locals().unwrap(), ctx.stack().unwrap()));
        Ok(())
    })));
    let inst = Instance::new(&mut store, &module, &[Extern::Func(pause)]).unwrap();
    let f = inst.get_func(&store, "f").unwrap();
    let mut r = [Val::I64(0), Val::I32(0)];
    f.call(&mut store, &[Val::I32(10)], &mut r).unwrap();
    let seen = std::mem::take(&mut *seen.lock().unwrap());
    (seen, r[0].i64().unwrap(), r[1].i32().unwrap())
}

/// Checks one pause's locals: `$i`, `$j`, `$acc` as given (`$j` None: dead
/// there, so optimized out), the invariant ones with their values, `$big`
/// optimized out (dead after the first loop).
fn check_locals(locals: &[DebugValue], i: u64, j: Option<u64>, acc: u64, what: &str) {
    assert_eq!(locals.len(), 7, "{what}: {locals:?}");
    let val = |k: usize| {
        assert!(locals[k].available, "{what}: local {k}: {:?}", locals[k]);
        locals[k].bits
    };
    assert_eq!(val(0), 10, "{what}: $n");
    assert_eq!(val(1), i, "{what}: $i");
    match j {
        Some(j) => assert_eq!(val(2), j, "{what}: $j"),
        None => assert!(locals[2].is_optimized_out(), "{what}: $j {:?}", locals[2]),
    }
    assert_eq!(val(3), acc, "{what}: $acc");
    assert!(locals[4].is_optimized_out(), "{what}: $big {:?}", locals[4]);
    assert_eq!(val(5), 2.5f64.to_bits(), "{what}: $x");
    assert_eq!((val(6), locals[6].hi), (V_LO, V_HI), "{what}: $v");
}

#[test]
fn pauses_in_nested_optimized_loops_read_the_values_stored_ahead() {
    let (seen, sum, i) = run(Strategy::Optimized);
    // Every outer iteration adds 0+1+2+3+4 and the 7 below the inner loop.
    assert_eq!(sum as u64, 3 * BIG + 10 * 17 + 2 + V_HI);
    assert_eq!(i, 10);
    assert_eq!(seen.len(), 2, "two pauses: {seen:?}");
    let (tier, locals, stack) = &seen[0];
    assert_eq!(*tier, Tier::Optimized);
    check_locals(locals, 2, Some(0), 3 * BIG + 2 * 17, "inner loop header");
    assert_eq!(stack.len(), 1, "{stack:?}");
    assert_eq!(stack[0].bits, 7);
    let (tier, locals, stack) = &seen[1];
    assert_eq!(*tier, Tier::Optimized);
    // `$j` is set before any read in the outer loop's body: dead here.
    check_locals(locals, 6, None, 3 * BIG + 6 * 17, "outer loop header");
    assert!(stack.is_empty(), "{stack:?}");
}

/// The same pauses in baseline code give the same values (the baseline
/// keeps every local, `$big` included).
#[test]
fn the_baseline_agrees() {
    let (seen, sum, i) = run(Strategy::Baseline);
    assert_eq!(sum as u64, 3 * BIG + 10 * 17 + 2 + V_HI);
    assert_eq!(i, 10);
    assert_eq!(seen.len(), 2, "two pauses: {seen:?}");
    let (_, locals, stack) = &seen[0];
    assert_eq!(locals[1].bits, 2);
    assert_eq!(locals[3].bits, 3 * BIG + 2 * 17);
    assert_eq!(locals[4].bits, BIG);
    assert_eq!(stack.len(), 1, "{stack:?}");
    assert_eq!(stack[0].bits, 7);
}
