//! Dynamic tiering: functions move up while they run, whole instances move
//! down and up on demand from another thread, running frames keep their code,
//! and repeated switches do not grow code memory.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use wdb::tiering::Mode;
use wdb::*;

const CALLS: &str = r#"(module
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 0) $fib $sum)
  (func $fib (export "fib") (type $t)
    local.get 0 i32.const 2 i32.lt_s
    if (result i32) local.get 0
    else
      local.get 0 i32.const 1 i32.sub call $fib
      local.get 0 i32.const 2 i32.sub i32.const 0 call_indirect (type $t)
      i32.add
    end)
  (func $sum (export "sum") (type $t) (local $acc i32)
    block $done loop $l
      local.get 0 i32.eqz br_if $done
      local.get 0 i32.const 7 i32.and i32.const 0 call_indirect (type $t) drop
      local.get $acc local.get 0 i32.add local.set $acc
      local.get 0 i32.const 1 i32.sub local.set 0
      br $l end end
    local.get $acc)
)"#;

fn setup(strategy: Strategy, budget: i32) -> (Store<()>, Instance) {
    let engine = Engine::new(Config {
        strategy,
        tiering_budget: budget,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, CALLS).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    (store, inst)
}

fn call1(store: &mut Store<()>, inst: &Instance, name: &str, arg: i32) -> i32 {
    let f = inst.get_func(store, name).unwrap();
    let mut r = [Val::I32(0)];
    f.call(store, &[Val::I32(arg)], &mut r).unwrap();
    r[0].i32().unwrap()
}

fn fib(n: i32) -> i32 {
    if n < 2 {
        n
    } else {
        fib(n - 1) + fib(n - 2)
    }
}

#[test]
fn hot_functions_move_up_in_the_background() {
    let (mut store, inst) = setup(Strategy::Dynamic, 10_000);
    let tiering = inst.tiering(&store);
    let events = store.engine().subscribe_tiering();
    assert_eq!(tiering.tier(0), Some(Tier::Baseline));
    for _ in 0..50 {
        assert_eq!(call1(&mut store, &inst, "fib", 18), fib(18));
        if tiering.tier(0) == Some(Tier::Optimized) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        tiering.tier(0),
        Some(Tier::Optimized),
        "fib should have tiered up"
    );
    let ev = events
        .recv_timeout(Duration::from_secs(5))
        .expect("a tier event");
    assert_eq!((ev.from, ev.to), (Tier::Baseline, Tier::Optimized));
    assert_eq!(call1(&mut store, &inst, "fib", 20), fib(20));
    let view = tiering.functions();
    assert_eq!(view.len(), 2);
    assert!(
        view[0].compile_times[2].is_some(),
        "optimized compile time recorded"
    );
}

#[test]
fn flipping_tiers_from_another_thread_while_calls_run() {
    let (mut store, inst) = setup(Strategy::Dynamic, 500);
    let tiering = inst.tiering(&store);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flipper = {
        let (tiering, stop) = (tiering.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut flips = 0;
            while flips < 300 && !stop.load(std::sync::atomic::Ordering::SeqCst) {
                tiering.tier_down_all().unwrap();
                tiering.tier_up_all();
                if flips % 3 == 0 {
                    tiering.resume_dynamic();
                }
                flips += 1;
            }
            flips
        })
    };
    let mut rounds = 0;
    while !flipper.is_finished() || rounds < 20 {
        assert_eq!(call1(&mut store, &inst, "fib", 15), fib(15));
        assert_eq!(call1(&mut store, &inst, "sum", 300), (1..=300).sum::<i32>());
        rounds += 1;
        if rounds > 20_000 {
            break;
        }
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(flipper.join().unwrap() > 0);
    assert!(
        tiering.wait_all(Tier::Optimized, Duration::from_secs(20))
            || tiering.mode() != Mode::Optimized
    );
    assert_eq!(call1(&mut store, &inst, "fib", 20), fib(20));
}

#[test]
fn running_frame_keeps_its_code_and_the_next_call_uses_the_new_code() {
    // Debug code calls the hook at every instruction when the function's flag is
    // set; optimized code never does. The loop asks for tier-up midway.
    let engine = Engine::new(Config {
        strategy: Strategy::Debug,
        ..Config::default()
    })
    .unwrap();
    let wat = r#"(module
      (import "host" "tick" (func $tick (param i32)))
      (func (export "spin") (param $n i32) (result i32) (local $i i32)
        block $done loop $l
          local.get $i local.get $n i32.ge_u br_if $done
          local.get $i call $tick
          local.get $i i32.const 1 i32.add local.set $i
          br $l end end
        local.get $i))"#;
    let module = Module::new(&engine, wat).unwrap();
    let mut store = Store::new(&engine, ());
    let slot: Arc<Mutex<Option<wdb::tiering::Tiering>>> = Arc::new(Mutex::new(None));
    let hook_slot = slot.clone();
    let tick = Func::new(
        &mut store,
        FuncType::new([ValType::I32], []),
        move |_, args, _| {
            if args[0].i32() == Some(10) {
                let t = hook_slot.lock().unwrap().clone().unwrap();
                t.tier_up_all();
                assert!(
                    t.wait_all(Tier::Optimized, Duration::from_secs(20)),
                    "spin swapped to optimized"
                );
            }
            Ok(())
        },
    )
    .unwrap();
    let inst = Instance::new(&mut store, &module, &[Extern::Func(tick)]).unwrap();
    *slot.lock().unwrap() = Some(inst.tiering(&store));
    let hits = Arc::new(Mutex::new(Vec::<u32>::new()));
    let h = hits.clone();
    store.set_debug_hook(Some(Box::new(move |ctx| {
        h.lock().unwrap().push(ctx.wasm_offset);
        Ok(())
    })));
    inst.set_debug_flag(&mut store, 1, true);
    let spin = inst.get_func(&store, "spin").unwrap();
    let mut r = [Val::I32(0)];
    spin.call(&mut store, &[Val::I32(100)], &mut r).unwrap();
    assert_eq!(r[0].i32(), Some(100));
    let first = hits.lock().unwrap().len();
    // Every iteration ran debug code, including the 89 after the swap.
    assert!(
        first > 100 * 8,
        "the running frame kept its debug code: {first} hook calls"
    );
    assert_eq!(inst.tiering(&store).tier(1), Some(Tier::Optimized));
    spin.call(&mut store, &[Val::I32(100)], &mut r).unwrap();
    assert_eq!(r[0].i32(), Some(100));
    assert_eq!(
        hits.lock().unwrap().len(),
        first,
        "the next call ran optimized code"
    );
}

#[test]
fn repeated_tier_cycles_keep_code_memory_bounded() {
    let (mut store, inst) = setup(Strategy::Dynamic, 1_000_000);
    let tiering = inst.tiering(&store);
    let mut after_first = 0;
    for cycle in 0..100 {
        tiering.tier_down_all().unwrap();
        assert_eq!(call1(&mut store, &inst, "fib", 10), 55);
        tiering.tier_up_all();
        assert!(tiering.wait_all(Tier::Optimized, Duration::from_secs(20)));
        assert_eq!(call1(&mut store, &inst, "fib", 10), 55);
        if cycle == 1 {
            after_first = wdb::live_code_bytes();
        }
    }
    // Other tests in this process may publish code concurrently; this module's
    // share must not grow, so allow only their noise, not 100 cycles' worth.
    let now = wdb::live_code_bytes();
    assert!(
        now <= after_first + (1 << 20),
        "code memory grew from {after_first} to {now}"
    );
    assert_eq!(tiering.counts(), [0, 0, 2]);
}

/// A debugger's background compile (`Tiering::precompile_debug`): every
/// function gets debug code while the program keeps running its own code
/// (no slot changes tier), the thread asks the program for its stack, and
/// an attach afterwards installs ready debug code everywhere, leaving no
/// function to a lazy stub.
#[test]
fn debug_code_compiles_in_the_background_before_an_attach() {
    let (mut store, inst) = setup(Strategy::Baseline, Config::default().tiering_budget);
    let tiering = inst.tiering(&store);
    let asked = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let handle = store.interrupt_handle();
    let a = asked.clone();
    tiering.precompile_debug(Box::new(move || {
        a.store(true, std::sync::atomic::Ordering::SeqCst);
        handle.sample_stack();
    }));
    // The program runs meanwhile (and serves the stack request at a check).
    assert_eq!(call1(&mut store, &inst, "fib", 20), fib(20));
    let until = std::time::Instant::now() + Duration::from_secs(120);
    while !tiering
        .functions()
        .iter()
        .all(|f| f.compile_times[Tier::Debug as usize].is_some())
    {
        assert!(
            std::time::Instant::now() < until,
            "debug code not compiled in the background: {:?}",
            tiering.functions()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(asked.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(
        tiering.counts(),
        [2, 0, 0],
        "a slot changed without an attach"
    );
    let s = tiering.tier_down_all().unwrap();
    assert_eq!(
        s.compiled, 0,
        "functions left to lazy stubs after precompiling"
    );
    assert_eq!(tiering.counts(), [0, 2, 0]);
    assert_eq!(call1(&mut store, &inst, "sum", 100), 5050);
}
