//! Exception objects are reclaimed (`vm::exn_heap`): a module that throws
//! and catches about 200,000 times per tier, in the legacy encoding (nested
//! `rethrow`s) and the standard one (`catch_ref`/`throw_ref`, an exception
//! carried in another's payload), while exnrefs are kept in a global, a
//! table, locals of many frames (across a nested host → wasm call) and by
//! the host, keeps the store's exception objects bounded, and every kept
//! exception still has its own payload after the collections.

use wdb::*;

const TIERS: [Strategy; 5] = [
    Strategy::Baseline,
    Strategy::Debug,
    Strategy::Optimized,
    Strategy::Mixed,
    Strategy::Dynamic,
];

/// More objects than a store holds between collections when few are
/// reachable (`vm::exn_heap::MIN_THRESHOLD` is 1,024; this module keeps
/// fewer than 100 reachable at a time).
const BOUND: usize = 2 * 1024 + 100;

const WAT: &str = r#"
(module
  (import "host" "reenter" (func $reenter (param i32) (result i64)))
  (tag $e (param i32))
  (tag $w (param exnref))
  (global $g (mut exnref) (ref.null exn))
  (table $t 4 exnref)

  (func $throw (param i32) (throw $e (local.get 0)))

  ;; Throws $e with payload $v from $d calls down.
  (func $down (param $d i32) (param $v i32)
    (if (local.get $d)
      (then (call $down (i32.sub (local.get $d) (i32.const 1)) (local.get $v)))
      (else (call $throw (local.get $v)))))

  ;; The legacy encoding: throws 0..n-1 and sums what is caught. Every third
  ;; exception is rethrown by the inner catch; the middle catch_all rethrows
  ;; it again to the outer catch.
  (func $legacy (export "legacy") (param $n i32) (result i64)
    (local $i i32) (local $v i32) (local $s i64)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        try
          try
            try
              (call $down (i32.const 3) (local.get $i))
            catch $e
              (local.set $v)
              (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 3)))
                (then (rethrow 1)))
              (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $v))))
            end
          catch_all
            (rethrow 0)
          end
        catch $e
          (local.set $v)
          (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (local.get $v))))
        end
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $s))

  ;; The standard encoding: throws 0..n-1, caught with catch_ref; odd ones
  ;; are thrown again with throw_ref, every fifth is carried in a $w
  ;; exception, taken out and thrown again; the outer try_table catches
  ;; those. Sums the payloads, plus 777 from an exception the loop's frame
  ;; keeps throughout (frames move between tiers at loop headers).
  (func $exnref (export "exnref") (param $n i32) (result i64)
    (local $i i32) (local $v i32) (local $s i64) (local $x exnref) (local $first exnref)
    (local.set $first (call $make (i32.const 777)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (block $outer (result i32)
          (try_table (result i32) (catch $e $outer)
            (block $h (result i32 exnref)
              (try_table (catch_ref $e $h)
                (call $down (i32.const 3) (local.get $i)))
              (unreachable))
            (local.set $x)
            (local.set $v)
            (if (i32.and (local.get $i) (i32.const 1))
              (then (throw_ref (local.get $x))))
            (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 5)))
              (then
                (block $hw (result exnref)
                  (try_table (catch $w $hw) (throw $w (local.get $x)))
                  (unreachable))
                (throw_ref)))
            (local.get $v)))
        (i64.extend_i32_u)
        (local.set $s (i64.add (local.get $s)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (i64.add (local.get $s) (i64.extend_i32_u (call $open (local.get $first)))))

  ;; An exception of $e with payload $v, caught with catch_ref.
  (func $make (export "make") (param $v i32) (result exnref)
    (local $x exnref)
    (block $h (result i32 exnref)
      (try_table (catch_ref $e $h) (call $throw (local.get $v)))
      (unreachable))
    (local.set $x)
    (drop)
    (local.get $x))

  ;; The payload of $e exception $x, thrown again and caught.
  (func $open (export "open") (param $x exnref) (result i32)
    (block $h (result i32)
      (try_table (catch $e $h) (throw_ref (local.get $x)))
      (unreachable)))

  ;; A $w exception carrying $x, and the exception a $w one carries.
  (func $wrap (param $x exnref) (result exnref)
    (block $h (result exnref)
      (try_table (catch_all_ref $h) (throw $w (local.get $x)))
      (unreachable)))
  (func $unwrap (param $x exnref) (result exnref)
    (block $h (result exnref)
      (try_table (catch $w $h) (throw_ref (local.get $x)))
      (unreachable)))

  ;; Keeps exceptions in the global, the table, a local and inside another
  ;; exception (only reachable through its payload), throws 2.2 n times,
  ;; then opens them all.
  (func (export "keep") (param $n i32) (result i64)
    (local $x exnref) (local $s i64)
    (global.set $g (call $make (i32.const 1001)))
    (table.set $t (i32.const 1) (call $make (i32.const 1002)))
    (local.set $x (call $make (i32.const 1003)))
    (table.set $t (i32.const 2) (call $wrap (call $make (i32.const 1004))))
    (local.set $s (i64.add (call $exnref (local.get $n)) (call $legacy (local.get $n))))
    (i64.add (local.get $s)
      (i64.extend_i32_u
        (i32.add
          (i32.add (call $open (global.get $g)) (call $open (table.get $t (i32.const 1))))
          (i32.add (call $open (local.get $x))
            (call $open (call $unwrap (table.get $t (i32.const 2)))))))))

  ;; Across calls: `stash` leaves exceptions only in the global and the
  ;; table, `unstash` opens them.
  (func (export "stash")
    (global.set $g (call $make (i32.const 2001)))
    (table.set $t (i32.const 0) (call $wrap (call $make (i32.const 2002))))
    (table.set $t (i32.const 3) (call $make (i32.const 2003))))
  (func (export "unstash") (result i32)
    (i32.add (call $open (global.get $g))
      (i32.add (call $open (call $unwrap (table.get $t (i32.const 0))))
        (call $open (table.get $t (i32.const 3))))))

  ;; $d frames down, each holding an exception in a local across its call;
  ;; at the bottom the host calls `exnref` and `legacy` with $n (a nested
  ;; activation); on the way up every frame opens its own.
  (func $rec (export "rec") (param $d i32) (param $n i32) (result i64)
    (local $x exnref)
    (if (result i64) (i32.eqz (local.get $d))
      (then (call $reenter (local.get $n)))
      (else
        (local.set $x (call $make (i32.add (i32.const 5000) (local.get $d))))
        (i64.add
          (call $rec (i32.sub (local.get $d) (i32.const 1)) (local.get $n))
          (i64.extend_i32_u (call $open (local.get $x)))))))
)
"#;

fn setup(config: Config) -> (Store<()>, Instance) {
    let engine = Engine::new(config).unwrap();
    let module = Module::new(&engine, WAT).unwrap_or_else(|e| panic!("{e}"));
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    let ty = FuncType::new([ValType::I32], [ValType::I64]);
    linker
        .func_new(
            &mut store,
            "host",
            "reenter",
            ty,
            |mut caller, args, results| {
                let mut sum = 0;
                for name in ["exnref", "legacy"] {
                    let Some(Extern::Func(f)) = caller.get_export(name) else {
                        return Err(Trap::host("no such export"));
                    };
                    let mut out = [Val::I64(0)];
                    f.call(caller.store(), &[args[0]], &mut out)
                        .map_err(|e| Trap::host(e.to_string()))?;
                    sum += out[0].i64().expect("i64");
                }
                results[0] = Val::I64(sum);
                Ok(())
            },
        )
        .unwrap();
    let inst = linker.instantiate(&mut store, &module).unwrap();
    (store, inst)
}

fn call(store: &mut Store<()>, inst: &Instance, name: &str, args: &[Val], what: &str) -> Val {
    let f = inst.get_func(store, name).expect("export");
    let mut out = [Val::I64(0)];
    let n = if name == "stash" { 0 } else { 1 };
    f.call(store, args, &mut out[..n])
        .unwrap_or_else(|e| panic!("[{what}] {name}: {e}"));
    out[0]
}

/// 0 + 1 + … + (n − 1).
fn sum_below(n: i64) -> i64 {
    n * (n - 1) / 2
}

/// Runs the whole module once (about 200,000 throws for `scale` 1) and
/// checks every result and the bound on live exception objects.
fn run(config: Config, what: &str, scale: i32) {
    let (mut store, inst) = setup(config);
    let s = &mut store;
    let check = |s: &Store<()>, step: &str| {
        let live = s.exception_objects();
        assert!(
            live <= BOUND,
            "[{what}] after {step}: {live} exception objects (bound {BOUND})"
        );
    };

    // Exnrefs the host holds across everything below (one more before each
    // step), opened at the end.
    let mut held = Vec::new();
    let mut hold = |s: &mut Store<()>| {
        let v = 70 + held.len() as i32;
        let x = call(s, &inst, "make", &[Val::I32(v)], what);
        assert!(matches!(x, Val::ExnRef(r) if r != 0), "[{what}] make");
        held.push((v, x));
    };
    hold(s);

    let n = 50_000 / scale;
    let got = call(s, &inst, "keep", &[Val::I32(n)], what);
    let want = 2 * sum_below(n as i64) + 777 + 1001 + 1002 + 1003 + 1004;
    assert_eq!(got.i64(), Some(want), "[{what}] keep({n})");
    check(s, "keep");

    hold(s);
    call(s, &inst, "stash", &[], what);
    let m = 20_000 / scale;
    for (name, extra) in [("exnref", 777), ("legacy", 0)] {
        let got = call(s, &inst, name, &[Val::I32(m)], what);
        let want = sum_below(m as i64) + extra;
        assert_eq!(got.i64(), Some(want), "[{what}] {name}({m})");
        check(s, name);
        hold(s);
    }
    let got = call(s, &inst, "unstash", &[], what);
    assert_eq!(got.i32(), Some(2001 + 2002 + 2003), "[{what}] unstash");

    let (d, m) = (40, 20_000 / scale);
    let got = call(s, &inst, "rec", &[Val::I32(d), Val::I32(m)], what);
    let want = 2 * sum_below(m as i64) + 777 + (1..=d as i64).map(|k| 5000 + k).sum::<i64>();
    assert_eq!(got.i64(), Some(want), "[{what}] rec({d}, {m})");
    check(s, "rec");

    for (v, x) in held {
        let got = call(s, &inst, "open", &[x], what);
        assert_eq!(got.i32(), Some(v), "[{what}] the host's exnref of {v}");
    }
    assert!(
        s.exception_collections() >= 50 / scale as u64,
        "[{what}] only {} collections",
        s.exception_collections()
    );
}

#[test]
fn exception_objects_stay_bounded_and_kept_ones_stay_valid_in_every_tier() {
    for strategy in TIERS {
        let config = Config {
            strategy,
            ..Config::default()
        };
        run(config, &format!("{strategy:?}"), 1);
    }
}

/// Frames moved between tiers at loop headers (on-stack replacement, forced
/// at every second check) carry their exnref locals; the collector finds
/// them in the new frames.
#[test]
fn exception_objects_survive_on_stack_replacement() {
    use OsrStressMode::{Alternating, Down, Up};
    for (strategy, mode) in [
        (Strategy::Baseline, Down),
        (Strategy::Optimized, Down),
        (Strategy::Baseline, Up),
        (Strategy::Optimized, Alternating),
    ] {
        let before: u64 = wdb::testing::osr_moves().iter().sum();
        let config = Config {
            strategy,
            osr_stress: 2,
            osr_stress_mode: mode,
            ..Config::default()
        };
        let what = format!("{strategy:?}, osr stress {}", mode.name());
        run(config, &what, 10);
        let after: u64 = wdb::testing::osr_moves().iter().sum();
        assert!(after > before, "[{what}] no frame moved");
    }
}
