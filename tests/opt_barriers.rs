//! Exact trap offsets for runs of linear-memory accesses, the shapes where
//! the optimizing tier folds a load into the instruction using it (and the
//! fault is mapped back to the load by its trap record,
//! `src/optimizing/mod.rs`, `finish`): in every tier, a faulting access is
//! reported at its own wasm offset, never at a later access or at the
//! instruction that uses a loaded value.

use wasmparser::{Operator, Parser, Payload};
use wdb::*;

const PAGE: i32 = 65536;

const TIERS: [Strategy; 5] = [
    Strategy::Baseline,
    Strategy::Debug,
    Strategy::Optimized,
    Strategy::Mixed,
    Strategy::Dynamic,
];

/// One function per case: (export, body). Memory is one page; its first word
/// holds a pointer past the end (for the pointer chase).
const CASES: &[(&str, &str)] = &[
    // Two loads, then the add that could fold the first one.
    (
        "two_loads",
        "(param i32) (result i32)
         local.get 0 i32.load local.set 1
         local.get 0 i32.load offset=4
         local.get 1 i32.add",
    ),
    // The second load reads the first one's value (its address).
    (
        "pointer_chase",
        "(param i32) (result i32) local.get 0 i32.load i32.load",
    ),
    // The same slot stored twice: the first store must stay.
    (
        "same_store_twice",
        "(param i32) (result i32)
         local.get 0 i32.const 1 i32.store
         local.get 0 local.get 0 i32.store
         i32.const 0",
    ),
    // A store, then a narrower store to the same address.
    (
        "store_then_store8",
        "(param i32) (result i32)
         local.get 0 local.get 0 i32.store
         local.get 0 local.get 0 i32.store8
         i32.const 0",
    ),
    // A store observed by a load of another slot, then a store to its slot.
    (
        "store_load_store",
        "(param i32) (result i32)
         local.get 0 local.get 0 i32.store
         local.get 0 i32.load offset=8 local.set 1
         local.get 0 local.get 1 i32.store
         local.get 1",
    ),
    // A load, an extending load, then a use of the first.
    (
        "load_then_load8",
        "(param i32) (result i32)
         local.get 0 i32.load local.set 1
         local.get 0 i32.load8_u offset=4
         local.get 1 i32.add",
    ),
    // A load whose value is incremented and stored back to the same slot.
    (
        "read_modify_write",
        "(param i32) (result i32)
         local.get 0 local.get 0 i32.load i32.const 1 i32.add i32.store
         local.get 0 i64.load offset=8 i32.wrap_i64",
    ),
    // Stores and loads of every width in a run, then uses.
    (
        "mixed_run",
        "(param i32) (result i32)
         local.get 0 i64.const 5 i64.store
         local.get 0 f32.load offset=8 local.set 2
         local.get 0 local.get 0 i32.store16 offset=12
         local.get 0 f64.load offset=16 local.set 3
         local.get 0 i32.load offset=24
         local.get 2 i32.trunc_sat_f32_s i32.add
         local.get 3 i32.trunc_sat_f64_s i32.add",
    ),
];

fn module_wat() -> String {
    let mut w = String::from("(module (memory 1) (data (i32.const 0) \"\\f0\\ff\\01\\00\")\n");
    for (name, body) in CASES {
        let body = body.replace("(param i32) (result i32)", "");
        w.push_str(&format!(
            "(func (export \"{name}\") (param i32) (result i32) (local i32 f32 f64) {body})\n"
        ));
    }
    w.push(')');
    w
}

/// Module offsets of the memory accesses of defined function `k`, in order.
fn accesses(bytes: &[u8], k: usize) -> Vec<u32> {
    let mut n = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        if let Payload::CodeSectionEntry(body) = payload.unwrap() {
            if n == k {
                let mut r = body.get_operators_reader().unwrap();
                let mut out = Vec::new();
                while !r.eof() {
                    let (op, off) = r.read_with_offset().unwrap();
                    let name = format!("{op:?}");
                    if name.contains("Load") || name.contains("Store") {
                        out.push(off as u32);
                    }
                    if matches!(op, Operator::End) && r.eof() {
                        break;
                    }
                }
                return out;
            }
            n += 1;
        }
    }
    panic!("no function {k}");
}

/// Calls `name(arg)` in `tier`: the result, or the trap's wasm offset.
fn call(tier: Strategy, name: &str, arg: i32) -> (std::result::Result<i32, u32>, Vec<u8>) {
    let engine = Engine::new(Config {
        strategy: tier,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, module_wat()).unwrap();
    let bytes = module.info().bytes.to_vec();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let f = inst.get_func(&store, name).unwrap();
    let mut r = [Val::I32(0)];
    let out = match f.call(&mut store, &[Val::I32(arg)], &mut r) {
        Ok(()) => Ok(r[0].i32().unwrap()),
        Err(e) => {
            let t = e
                .as_trap()
                .unwrap_or_else(|| panic!("[{tier:?}] {name}({arg}): {e}"));
            assert_eq!(
                t.code,
                TrapCode::MemoryOutOfBounds,
                "[{tier:?}] {name}: {t}"
            );
            Err(t.wasm_offset.expect("a wasm offset"))
        }
    };
    (out, bytes)
}

/// (case, argument, which access faults first: its index in the body, or
/// `None` when the call returns).
const RUNS: &[(&str, i32, Option<usize>)] = &[
    ("two_loads", PAGE, Some(0)),
    ("two_loads", PAGE - 4, Some(1)),
    ("two_loads", 0, None),
    ("pointer_chase", PAGE, Some(0)),
    ("pointer_chase", 0, Some(1)),
    ("same_store_twice", PAGE - 2, Some(0)),
    ("same_store_twice", 12, None),
    ("store_then_store8", PAGE - 2, Some(0)),
    ("store_then_store8", PAGE - 1, Some(0)),
    ("store_load_store", PAGE - 2, Some(0)),
    ("store_load_store", PAGE - 8, Some(1)),
    ("store_load_store", 32, None),
    ("load_then_load8", PAGE, Some(0)),
    ("load_then_load8", PAGE - 4, Some(1)),
    ("read_modify_write", PAGE - 2, Some(0)),
    ("read_modify_write", PAGE - 12, Some(2)),
    ("read_modify_write", 40, None),
    ("mixed_run", PAGE - 4, Some(0)),
    ("mixed_run", PAGE - 10, Some(1)),
    ("mixed_run", PAGE - 13, Some(2)),
    ("mixed_run", PAGE - 20, Some(3)),
    ("mixed_run", PAGE - 26, Some(4)),
    ("mixed_run", 64, None),
];

#[test]
fn every_tier_names_the_faulting_access_in_runs_of_accesses() {
    let mut failures = Vec::new();
    for &(name, arg, faults) in RUNS {
        let k = CASES.iter().position(|(n, _)| *n == name).unwrap();
        let mut results = Vec::new();
        for tier in TIERS {
            let (got, bytes) = call(tier, name, arg);
            let offs = accesses(&bytes, k);
            match (faults, got) {
                (Some(i), Err(off)) if off == offs[i] => {}
                (None, Ok(v)) => results.push((tier, v)),
                (want, got) => failures.push(format!(
                    "[{tier:?}] {name}({arg}): want {:?}, got {got:?} (accesses at {offs:?})",
                    want.map(|i| offs[i])
                )),
            }
        }
        // Calls that return agree in every tier.
        if let Some(&(_, first)) = results.first() {
            for &(tier, v) in &results {
                if v != first {
                    failures.push(format!("[{tier:?}] {name}({arg}) = {v}, baseline {first}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
