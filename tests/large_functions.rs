//! Large functions (the shape of `-O0` code: thousands of locals, hundreds of
//! loops) in every tier: they compile, optimized frames stay small (the
//! interrupt checks share one state record holding only live locals), deep
//! recursion fits the default wasm stack, a pause in optimized code shows
//! dead locals as optimized out, and a function past the large-function
//! guard stays baseline.

use std::sync::{Arc, Mutex};
use wdb::*;

const LOCALS: usize = 5000;
const LOOPS: usize = 300;
const DEPTH: i32 = 100;

/// Local `i`'s type: mostly i64, every 7th i32, every 11th f64.
fn local_type(i: usize) -> &'static str {
    if i % 11 == 5 {
        "f64"
    } else if i % 7 == 3 {
        "i32"
    } else {
        "i64"
    }
}

/// The locals loop `k` works on: (counter i32, x, y, the other i64s, an f64).
fn window(k: usize) -> (usize, usize, usize, Vec<usize>, Option<usize>) {
    let size = (LOCALS - 2 - 100) / LOOPS; // 16; the last 100 locals hold carries
    let locals: Vec<usize> = (2 + k * size..2 + (k + 1) * size).collect();
    let counter = *locals.iter().find(|&&i| local_type(i) == "i32").unwrap();
    let ints: Vec<usize> = locals
        .iter()
        .copied()
        .filter(|&i| local_type(i) == "i64")
        .collect();
    let float = locals.iter().copied().find(|&i| local_type(i) == "f64");
    (counter, ints[0], ints[1], ints[2..].to_vec(), float)
}

/// The i64 local that carries loop `k`'s result to the end (every 20th loop).
fn carry(k: usize) -> usize {
    (LOCALS - 100..LOCALS)
        .filter(|&i| local_type(i) == "i64")
        .nth(k / 20)
        .unwrap()
}

/// The generated function `big(depth) -> i64` (local 0 is `depth`; local 1
/// the accumulator), shaped like `-O0` code: every local is written before
/// it is read. Loop `k` initializes the locals of its own window, counts
/// down an i32 counter while updating them, and folds them into the
/// accumulator; every 20th loop also parks a value in a "carry" local that
/// is read only at the very end (so it is live across the loops in
/// between). First `probe(depth)` reports the stack depth, then the function
/// recurses once with `depth - 1`.
fn big_module() -> String {
    let mut w = String::from(
        "(module\n  (import \"env\" \"probe\" (func $probe (param i32)))\n  \
         (func $big (export \"big\") (param i32) (result i64)\n",
    );
    for i in 1..LOCALS {
        let t = if i == 1 { "i64" } else { local_type(i) };
        w.push_str(&format!("    (local {t})\n"));
    }
    w.push_str("    (call $probe (local.get 0))\n");
    w.push_str(
        "    (if (i32.gt_s (local.get 0) (i32.const 0))\n      \
         (then (local.set 1 (call $big (i32.sub (local.get 0) (i32.const 1))))))\n",
    );
    for k in 0..LOOPS {
        let (counter, x, y, zs, float) = window(k);
        let mut line = |s: String| {
            w.push_str("    ");
            w.push_str(&s);
            w.push('\n');
        };
        line(format!("(local.set {counter} (i32.const {}))", 3 + k % 4));
        line(format!("(local.set {x} (i64.const {k}))"));
        line(format!("(local.set {y} (i64.const 1))"));
        for (j, &z) in zs.iter().enumerate() {
            line(format!("(local.set {z} (i64.const {}))", 7 * k + j));
        }
        if let Some(f) = float {
            line(format!("(local.set {f} (f64.const 0.5))"));
        }
        line("(loop".into());
        line(format!(
            "  (local.set {x} (i64.add (i64.mul (local.get {x}) (i64.const 3)) \
             (i64.extend_i32_u (local.get {counter}))))"
        ));
        line(format!(
            "  (local.set {y} (i64.add (local.get {y}) (local.get {x})))"
        ));
        if let Some(f) = float {
            line(format!(
                "  (local.set {f} (f64.add (f64.mul (local.get {f}) (f64.const 0.5)) (f64.const 1)))"
            ));
        }
        for &z in &zs {
            line(format!(
                "  (local.set {z} (i64.xor (local.get {z}) (local.get {y})))"
            ));
        }
        line(format!(
            "  (local.set {counter} (i32.sub (local.get {counter}) (i32.const 1)))"
        ));
        line(format!("  (br_if 0 (local.get {counter})))"));
        let last = zs.last().copied().unwrap_or(y);
        line(format!(
            "(local.set 1 (i64.add (local.get 1) (i64.add (local.get {y}) (local.get {last}))))"
        ));
        if let Some(f) = float {
            line(format!(
                "(local.set 1 (i64.add (local.get 1) \
                 (i64.trunc_f64_s (f64.mul (local.get {f}) (f64.const 1000)))))"
            ));
        }
        if k % 20 == 0 {
            line(format!("(local.set {} (local.get {x}))", carry(k)));
        }
    }
    for k in (0..LOOPS).step_by(20) {
        w.push_str(&format!(
            "    (local.set 1 (i64.add (local.get 1) (local.get {})))\n",
            carry(k)
        ));
    }
    w.push_str("    (local.get 1))\n)\n");
    w
}

/// What `big(depth)` returns, computed in Rust the way the module does.
fn expected(depth: i32) -> i64 {
    let mut acc: i64 = if depth > 0 { expected(depth - 1) } else { 0 };
    let mut carries = 0i64;
    for k in 0..LOOPS {
        let (_, _, _, zs, float) = window(k);
        let (mut x, mut y, mut f) = (k as i64, 1i64, 0.5f64);
        let mut zs: Vec<i64> = (0..zs.len()).map(|j| (7 * k + j) as i64).collect();
        let mut n = 3 + (k % 4) as u32;
        loop {
            x = x.wrapping_mul(3).wrapping_add(n as i64);
            y = y.wrapping_add(x);
            f = f * 0.5 + 1.0;
            for z in zs.iter_mut() {
                *z ^= y;
            }
            n -= 1;
            if n == 0 {
                break;
            }
        }
        let last = zs.last().copied().unwrap_or(y);
        acc = acc.wrapping_add(y.wrapping_add(last));
        if float.is_some() {
            acc = acc.wrapping_add((f * 1000.0) as i64);
        }
        if k % 20 == 0 {
            carries = carries.wrapping_add(x);
        }
    }
    acc.wrapping_add(carries)
}

/// Runs `big(DEPTH)` under `strategy` on a thread with a large native stack
/// (the wasm stack limit stays the engine's default); returns the result and
/// the stack pointer seen by `probe` at each depth.
fn run_big(strategy: Strategy) -> (i64, Vec<(i32, usize)>) {
    let wat = big_module();
    std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let engine = Engine::new(Config {
                strategy,
                ..Config::default()
            })
            .unwrap();
            let module = Module::new(&engine, &wat).unwrap_or_else(|e| panic!("{strategy:?}: {e}"));
            let mut store = Store::new(&engine, ());
            let seen: Arc<Mutex<Vec<(i32, usize)>>> = Arc::default();
            let s2 = seen.clone();
            let probe = Func::new(
                &mut store,
                FuncType::new(vec![ValType::I32], vec![]),
                move |_c, params, _r| {
                    let here = 0u8;
                    let sp = &here as *const u8 as usize;
                    s2.lock().unwrap().push((params[0].i32().unwrap(), sp));
                    Ok(())
                },
            )
            .unwrap();
            let inst = Instance::new(&mut store, &module, &[Extern::Func(probe)]).unwrap();
            let f = inst.get_func(&store, "big").unwrap();
            let mut r = [Val::I64(0)];
            f.call(&mut store, &[Val::I32(DEPTH)], &mut r)
                .unwrap_or_else(|e| panic!("{strategy:?}: big({DEPTH}) failed: {e}"));
            let seen = seen.lock().unwrap().clone();
            (r[0].i64().unwrap(), seen)
        })
        .unwrap()
        .join()
        .unwrap()
}

/// Bytes of stack one recursion level takes (the same at every level).
fn frame_bytes(seen: &[(i32, usize)]) -> usize {
    let sizes: Vec<usize> = seen.windows(2).map(|w| w[0].1 - w[1].1).collect();
    assert!(sizes.windows(2).all(|w| w[0] == w[1]), "{sizes:?}");
    sizes[0]
}

#[test]
fn a_function_of_5000_locals_and_300_loops_runs_100_deep_in_every_tier() {
    let want = expected(DEPTH);
    let mut frames = Vec::new();
    for strategy in [
        Strategy::Baseline,
        Strategy::Debug,
        Strategy::Optimized,
        Strategy::Mixed,
        Strategy::Dynamic,
    ] {
        let (got, seen) = run_big(strategy);
        assert_eq!(got, want, "{strategy:?}");
        assert_eq!(
            seen.len(),
            DEPTH as usize + 1,
            "{strategy:?}: one probe per level"
        );
        if strategy == Strategy::Optimized {
            frames.push((strategy, frame_bytes(&seen)));
        }
    }
    let optimized = frames
        .iter()
        .find(|(s, _)| *s == Strategy::Optimized)
        .unwrap()
        .1;
    assert!(
        optimized < 64 * 1024,
        "optimized frame of {optimized} bytes (all tiers: {frames:?})"
    );
}

/// A pause at an optimized loop header: the locals live there have their
/// values; a local that is dead there (written, read, never read again) is
/// optimized out; the operand stack and the result are unaffected.
#[test]
fn a_pause_in_optimized_code_shows_dead_locals_as_optimized_out() {
    const WAT: &str = r#"(module
      (import "env" "pause" (func $pause))
      (func (export "f") (param $n i32) (result i32)
        (local $dead i32) (local $i i32) (local $acc i64)
        (local.set $dead (i32.const 77))
        (local.set $acc (i64.extend_i32_u (local.get $dead)))
        (call $pause)
        (i32.const 1000)
        (loop (param i32) (result i32)
          (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if 0 (i32.lt_u (local.get $i) (local.get $n))))
        (i32.wrap_i64 (local.get $acc))
        (i32.add)))"#;
    let engine = Engine::new(Config {
        strategy: Strategy::Optimized,
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
    type Seen = Vec<(Tier, u32, Vec<DebugValue>, Vec<DebugValue>)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    let s2 = seen.clone();
    store.set_debug_hook(Some(Box::new(move |ctx: &DebugContext<'_>| {
        s2.lock().unwrap().push((
            ctx.tier(),
            ctx.wasm_offset,
            ctx.locals().unwrap(),
            ctx.stack().unwrap(),
        ));
        Ok(())
    })));
    let inst = Instance::new(&mut store, &module, &[Extern::Func(pause)]).unwrap();
    let f = inst.get_func(&store, "f").unwrap();
    let mut r = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(10)], &mut r).unwrap();
    assert_eq!(r[0].i32(), Some(1000 + 77 + 45));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "one pause");
    let (tier, _, locals, stack) = &seen[0];
    assert_eq!(*tier, Tier::Optimized);
    assert_eq!(locals.len(), 4);
    // $n and $acc and $i (read in the loop before being written) are live.
    assert!(locals[0].available && locals[0].bits == 10, "{locals:?}");
    assert!(locals[1].is_optimized_out(), "$dead: {:?}", locals[1]);
    assert!(locals[2].available && locals[2].bits == 0, "{locals:?}");
    assert!(locals[3].available && locals[3].bits == 77, "{locals:?}");
    assert_eq!(locals[3].ty, ValType::I64);
    assert_eq!(locals[1].ty, ValType::I32);
    // The loop parameter is on the operand stack.
    assert_eq!(stack.len(), 1);
    assert_eq!(stack[0].bits, 1000);
}

/// A function past the large-function guard (a body over 1 MiB) compiles
/// and runs baseline code under `optimized`, and stays baseline when
/// dynamic tiering is asked to optimize everything (the tier event says why).
#[test]
fn a_function_past_the_guard_stays_baseline() {
    // 7 bytes per line: local.get, i64.const, i64.add, local.set.
    let lines = 160_000;
    let mut wat = String::from("(module (func (export \"f\") (result i64) (local i64)\n");
    for _ in 0..lines {
        wat.push_str("(local.set 0 (i64.add (local.get 0) (i64.const 3)))\n");
    }
    wat.push_str("(local.get 0)))");
    for strategy in [Strategy::Optimized, Strategy::Dynamic] {
        let engine = Engine::new(Config {
            strategy,
            ..Config::default()
        })
        .unwrap();
        let events = engine.subscribe_tiering();
        let module = Module::new(&engine, &wat).unwrap();
        let why = module.too_large_to_optimize(0);
        assert!(
            why.as_deref().unwrap_or("").contains("stays baseline"),
            "{why:?}"
        );
        assert_eq!(module.func_tier(0), Tier::Baseline, "{strategy:?}");
        let mut store = Store::new(&engine, ());
        let inst = Instance::new(&mut store, &module, &[]).unwrap();
        if strategy == Strategy::Dynamic {
            let tiering = inst.tiering(&store);
            tiering.tier_up_all();
            let ev = events
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("a tier event");
            assert!(
                ev.note.as_deref().unwrap_or("").contains("too large"),
                "{ev:?}"
            );
            assert_eq!(tiering.tier(0), Some(Tier::Baseline));
        }
        let f = inst.get_func(&store, "f").unwrap();
        let mut r = [Val::I64(0)];
        f.call(&mut store, &[], &mut r).unwrap();
        assert_eq!(r[0].i64(), Some(3 * lines as i64), "{strategy:?}");
    }
}
