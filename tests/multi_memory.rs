//! Several memories per instance across tiers: one `Strategy::Mixed` engine
//! (even defined functions baseline code, odd ones optimized) runs a module
//! with an imported memory 0, a 32-bit memory 1 and a 64-bit memory 2.
//! Functions of each tier store into memories 1 and 2 and call a function of
//! the other tier that reads them back; one tier grows a memory and the other
//! sees the new size; `memory.copy` runs between memories 1 and 2 in both
//! directions; out-of-bounds loads of the 64-bit memory trap in both tiers
//! at the right function; the host views of the exported memories see what
//! wasm wrote, and memory 0 only what was written to it.

use wdb::*;

const WAT: &str = r#"(module
  (import "host" "mem0" (memory 1))
  (memory $m1 (export "mem1") 1 4)
  (memory $m2 (export "mem2") i64 1 4)
  ;; 0 baseline
  (func $b_put (export "b_put") (param $a i32) (param $v i32) (result i32)
    (i32.store $m1 (local.get $a) (local.get $v))
    (i32.store $m2 (i64.extend_i32_u (local.get $a)) (i32.mul (local.get $v) (i32.const 3)))
    (i32.store (local.get $a) (i32.const -1))
    (call $o_get (local.get $a)))
  ;; 1 optimized
  (func $o_get (export "o_get") (param $a i32) (result i32)
    (i32.add (i32.load $m1 (local.get $a))
             (i32.load $m2 (i64.extend_i32_u (local.get $a)))))
  ;; 2 baseline
  (func $b_get (export "b_get") (param $a i32) (result i32)
    (i32.add (i32.load $m1 (local.get $a))
             (i32.load $m2 (i64.extend_i32_u (local.get $a)))))
  ;; 3 optimized
  (func $o_put (export "o_put") (param $a i32) (param $v i32) (result i32)
    (i32.store $m1 (local.get $a) (local.get $v))
    (i32.store $m2 (i64.extend_i32_u (local.get $a)) (i32.mul (local.get $v) (i32.const 3)))
    (call $b_get (local.get $a)))
  ;; 4 baseline, 5 optimized
  (func (export "b_grow1") (param i32) (result i32) (memory.grow $m1 (local.get 0)))
  (func (export "o_size1") (result i32) (memory.size $m1))
  ;; 6 baseline, 7 optimized
  (func (export "b_grow2") (param i64) (result i64) (memory.grow $m2 (local.get 0)))
  (func (export "o_size2") (result i64) (memory.size $m2))
  ;; 8 baseline, 9 optimized
  (func (export "b_copy12") (param i64 i32 i32)
    (memory.copy $m2 $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "o_copy21") (param i32 i64 i32)
    (memory.copy $m1 $m2 (local.get 0) (local.get 1) (local.get 2)))
  ;; 10 baseline, 11 optimized
  (func (export "b_load2") (param i64) (result i32) (i32.load $m2 (local.get 0)))
  (func (export "o_load2") (param i64) (result i32) (i32.load $m2 (local.get 0)))
)"#;

struct Setup {
    store: Store<()>,
    inst: Instance,
    mem0: Memory,
}

fn setup() -> Setup {
    let engine = Engine::new(Config {
        strategy: Strategy::Mixed,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, WAT).unwrap();
    for f in 0..12 {
        let want = if f % 2 == 0 {
            Tier::Baseline
        } else {
            Tier::Optimized
        };
        assert_eq!(module.func_tier(f), want, "function {f}");
    }
    let mut store = Store::new(&engine, ());
    let mem0 = Memory::new(&mut store, 1, None).unwrap();
    let inst = Instance::new(&mut store, &module, &[Extern::Memory(mem0)]).unwrap();
    Setup { store, inst, mem0 }
}

impl Setup {
    fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>> {
        let f = self.inst.get_func(&self.store, name).unwrap();
        let ty = f.ty(&self.store).unwrap();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        f.call(&mut self.store, args, &mut results)?;
        Ok(results)
    }

    /// The one i32 or i64 result (i32 results as i32 values, widened).
    fn val(&mut self, name: &str, args: &[Val]) -> i64 {
        let r = self
            .call(name, args)
            .unwrap_or_else(|e| panic!("{name}{args:?}: {e}"));
        match r.first() {
            Some(Val::I32(v)) => *v as i64,
            Some(Val::I64(v)) => *v,
            other => panic!("{name}: unexpected result {other:?}"),
        }
    }

    fn word(&self, mem: &str, at: usize) -> u32 {
        let m = self.inst.get_memory(&self.store, mem).unwrap();
        let d = m.data(&self.store);
        u32::from_le_bytes(d[at..at + 4].try_into().unwrap())
    }
}

#[test]
fn both_tiers_read_what_the_other_wrote_in_memories_1_and_2() {
    let mut s = setup();
    assert_eq!(s.val("b_put", &[Val::I32(16), Val::I32(7)]), 28);
    assert_eq!(s.val("o_put", &[Val::I32(32), Val::I32(5)]), 20);
    assert_eq!(s.val("o_get", &[Val::I32(16)]), 28);
    assert_eq!(s.val("b_get", &[Val::I32(32)]), 20);
    assert_eq!(s.word("mem1", 16), 7);
    assert_eq!(s.word("mem2", 16), 21);
    assert_eq!(s.word("mem1", 32), 5);
    assert_eq!(s.word("mem2", 32), 15);
    // Memory 0 got only its own store.
    let d0 = s.mem0.data(&s.store);
    assert_eq!(&d0[16..20], &[0xff; 4]);
    assert_eq!(&d0[32..36], &[0; 4]);
}

#[test]
fn one_tier_grows_and_the_other_sees_the_size() {
    let mut s = setup();
    assert_eq!(s.val("b_grow1", &[Val::I32(1)]), 1);
    assert_eq!(s.val("o_size1", &[]), 2);
    assert_eq!(s.val("b_grow1", &[Val::I32(3)]), -1, "past the maximum");
    assert_eq!(s.val("b_grow2", &[Val::I64(2)]), 1);
    assert_eq!(s.val("o_size2", &[]), 3);
    assert_eq!(s.val("b_grow2", &[Val::I64(2)]), -1, "past the maximum");
    // The new pages of memory 1 are usable from the optimized tier.
    assert_eq!(s.val("o_put", &[Val::I32(65536 + 8), Val::I32(2)]), 8);
}

#[test]
fn memory_copy_between_memories_in_both_tiers() {
    let mut s = setup();
    s.val("b_put", &[Val::I32(16), Val::I32(0x1234)]);
    s.call("b_copy12", &[Val::I64(100), Val::I32(16), Val::I32(4)])
        .unwrap();
    assert_eq!(s.word("mem2", 100), 0x1234);
    s.call("o_copy21", &[Val::I32(200), Val::I64(100), Val::I32(4)])
        .unwrap();
    assert_eq!(s.word("mem1", 200), 0x1234);
    for (f, args) in [
        ("b_copy12", [Val::I64(65534), Val::I32(0), Val::I32(4)]),
        ("o_copy21", [Val::I32(65534), Val::I64(0), Val::I32(4)]),
    ] {
        let e = s.call(f, &args).expect_err("copy past the end");
        assert_eq!(e.as_trap_code(), Some(TrapCode::MemoryOutOfBounds), "{f}");
    }
}

#[test]
fn memory64_bounds_are_checked_in_both_tiers() {
    let mut s = setup();
    let last = 65536 - 4;
    for (name, func) in [("b_load2", 10), ("o_load2", 11)] {
        assert_eq!(s.val(name, &[Val::I64(last)]), 0, "{name}");
        for addr in [last + 1, 65536, 1 << 32, 1 << 40, -1, i64::MAX] {
            let e = s.call(name, &[Val::I64(addr)]).expect_err("out of bounds");
            let t = e.as_trap().unwrap_or_else(|| panic!("{name}({addr}): {e}"));
            assert_eq!(t.code, TrapCode::MemoryOutOfBounds, "{name}({addr})");
            assert_eq!(t.func, Some(func), "{name}({addr}) names its function");
        }
    }
}

/// The debugger reads and writes memory 1 (`x $mem1 ...`, `set mem $mem1
/// ...`), memory 0 stays apart, and the program sees the write.
#[test]
fn the_debugger_reads_and_writes_memory_1() {
    use std::time::{Duration, Instant};
    use wdb::debugger::*;
    const PROGRAM: &str = r#"(module
      (memory $m0 1)
      (memory $m1 1)
      (data (memory $m0) (i32.const 0) "zero")
      (data (memory $m1) (i32.const 0) "one!")
      (func (export "main") (result i32) (i32.load $m1 (i32.const 8))))"#;
    let s = Session::start(SessionConfig {
        name: "mm.wat".into(),
        wasm: PROGRAM.as_bytes().to_vec(),
        invoke: Some("main".into()),
        ..SessionConfig::default()
    })
    .expect("session starts");
    let next = |what: &str| -> Event {
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            if let Some(
                e @ (Event::Paused(_)
                | Event::Memory { .. }
                | Event::Message(_)
                | Event::Error(_)
                | Event::Ended { .. }),
            ) = s.recv_timeout(Duration::from_millis(50))
            {
                return e;
            }
        }
        panic!("timed out waiting for {what}");
    };
    assert!(matches!(next("the entry stop"), Event::Paused(_)));
    let read = |memory: u32, addr: u64, len: u32| {
        s.send(Command::ReadMemoryAt { memory, addr, len });
        loop {
            match next("memory") {
                Event::Memory { bytes, .. } => return bytes,
                // A write is followed by a fresh snapshot.
                Event::Paused(_) => continue,
                e => panic!("{e:?}"),
            }
        }
    };
    assert_eq!(read(1, 0, 4), b"one!");
    assert_eq!(read(0, 0, 4), b"zero");
    s.send(Command::WriteMemoryAt {
        memory: 1,
        addr: 8,
        bytes: vec![1, 2, 3, 4],
    });
    assert!(matches!(next("the write"), Event::Message(m) if m.contains("memory 1")));
    assert_eq!(read(1, 8, 4), [1, 2, 3, 4]);
    assert_eq!(read(0, 8, 4), [0; 4], "memory 0 is apart");
    s.send(Command::ReadMemoryAt {
        memory: 7,
        addr: 0,
        len: 4,
    });
    match next("an error") {
        Event::Error(m) => assert_eq!(m, "the module has no memory 7"),
        e => panic!("{e:?}"),
    }
    s.send(Command::WriteMemoryAt {
        memory: 1,
        addr: 65535,
        bytes: vec![1, 2],
    });
    match next("an error") {
        Event::Error(m) => assert!(m.starts_with("cannot write 2 bytes at 0xffff"), "{m}"),
        e => panic!("{e:?}"),
    }
    s.send(Command::Continue);
    match next("the end") {
        Event::Ended {
            outcome: Outcome::Returned(v),
            ..
        } => assert_eq!(v, vec!["67305985".to_string()], "0x04030201"),
        e => panic!("{e:?}"),
    }
}

/// 64-bit tables (table64, part of memory64): `tests/wast/table64.wast`
/// (i64 indices in every table instruction, indices of 2^32 and more trap
/// rather than wrap, copies between 32- and 64-bit tables, i64 segment
/// offsets, linking by index type) in all five tiers.
#[test]
fn table64_script_runs_in_every_tier() {
    let src = include_str!("wast/table64.wast");
    for s in [
        Strategy::Baseline,
        Strategy::Debug,
        Strategy::Dynamic,
        Strategy::Optimized,
        Strategy::Mixed,
    ] {
        let report = wdb::wast::run_wast("table64.wast", src, wdb::wast::config_for(s))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            report.failures.is_empty() && report.passed == 55,
            "[{s:?}] {} passed, failures:\n{}",
            report.passed,
            report.failures.join("\n")
        );
    }
}
