//! The baseline code generator's register shortcuts, checked for values in
//! plain and debug code: call arguments moved straight into their registers
//! (permutations of the caller's own parameters, which sit in those same
//! registers, so the moves form cycles), and the local cache kept across
//! merge points (block, `if`/`else`, `br_if`, `br_table` and loop ends) only
//! where every incoming edge agrees. Every module also passes the check
//! that plain and debug code agree at their interrupt checks and call sites
//! (on-stack replacement relies on it). Float locals kept in xmm registers
//! and `select` on a compare's flags are checked the same way.

use wdb::*;

fn run(wat: &str, strategy: Strategy, name: &str, args: &[Val]) -> Vec<Val> {
    let engine = Engine::new(Config {
        strategy,
        ..Default::default()
    })
    .unwrap();
    let module = Module::new(&engine, wat).unwrap();
    wdb::testing::check_layouts_agree(&module).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    let f = inst.get_func(&store, name).expect("export");
    let ty = f.ty(&store).unwrap();
    let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
    f.call(&mut store, args, &mut results)
        .unwrap_or_else(|e| panic!("{name} [{strategy:?}]: {e}"));
    results
}

const TIERS: [Strategy; 2] = [Strategy::Baseline, Strategy::Debug];

/// `g(a, b, c, d) = 1000 a + 100 b + 10 c + d` called with its caller's
/// parameters permuted (swaps, a 4-cycle, one register used twice, constants
/// and an i64), directly and through a table.
const CALLS: &str = r#"(module
  (type $g4 (func (param i32 i32 i32 i32) (result i32)))
  (table 2 funcref)
  (elem (i32.const 1) $g)
  (func $g (type $g4)
    local.get 0 i32.const 1000 i32.mul
    local.get 1 i32.const 100 i32.mul i32.add
    local.get 2 i32.const 10 i32.mul i32.add
    local.get 3 i32.add)
  (func $h (param i64 i32 i64) (result i64)
    local.get 0 i64.const 100 i64.mul
    local.get 1 i64.extend_i32_u i64.const 10 i64.mul i64.add
    local.get 2 i64.add)
  (func (export "swaps") (param i32 i32 i32 i32) (result i32)
    local.get 1 local.get 0 local.get 3 local.get 2 call $g)
  (func (export "rotate") (param i32 i32 i32 i32) (result i32)
    local.get 1 local.get 2 local.get 3 local.get 0 call $g)
  (func (export "twice") (param i32 i32 i32 i32) (result i32)
    local.get 3 local.get 3 i32.const 7 local.get 0 call $g)
  (func (export "computed") (param i32 i32 i32 i32) (result i32)
    local.get 3 local.get 2 i32.const 1 i32.add local.get 1 local.get 0 i32.const 1 i32.sub call $g)
  (func (export "indirect") (param i32 i32 i32 i32) (result i32)
    local.get 2 local.get 3 local.get 0 local.get 1
    local.get 0 i32.const 0 i32.mul i32.const 1 i32.add
    call_indirect (type $g4))
  (func (export "wide") (param i64 i32 i64) (result i64)
    local.get 2 local.get 1 local.get 0 call $h)
  (func (export "nested") (param i32 i32 i32 i32) (result i32)
    local.get 3 local.get 2 local.get 1 local.get 0 call $g
    local.get 0 local.get 1 local.get 2 local.get 3 call $g
    i32.add))
"#;

#[test]
fn call_arguments_are_permuted_correctly() {
    let g = |a: i32, b: i32, c: i32, d: i32| 1000 * a + 100 * b + 10 * c + d;
    let args = [Val::I32(1), Val::I32(2), Val::I32(3), Val::I32(4)];
    for tier in TIERS {
        let call = |name: &str| run(CALLS, tier, name, &args)[0].i32().unwrap();
        assert_eq!(call("swaps"), g(2, 1, 4, 3), "[{tier:?}]");
        assert_eq!(call("rotate"), g(2, 3, 4, 1), "[{tier:?}]");
        assert_eq!(call("twice"), g(4, 4, 7, 1), "[{tier:?}]");
        assert_eq!(call("computed"), g(4, 4, 2, 0), "[{tier:?}]");
        assert_eq!(call("indirect"), g(3, 4, 1, 2), "[{tier:?}]");
        assert_eq!(call("nested"), g(4, 3, 2, 1) + g(1, 2, 3, 4), "[{tier:?}]");
        let r = run(
            CALLS,
            tier,
            "wide",
            &[Val::I64(1 << 40), Val::I32(-1), Val::I64(5)],
        );
        let want = 5i64 * 100 + (u32::MAX as i64) * 10 + (1i64 << 40);
        assert_eq!(r[0].i64(), Some(want), "[{tier:?}]");
    }
}

/// Locals cached (in registers or as constants) before a merge and changed
/// on only some of its incoming edges.
const MERGES: &str = r#"(module
  (func (export "if_one_arm") (param i32 i32) (result i32) (local i32)
    i32.const 5 local.set 2
    local.get 0 if local.get 1 local.set 2 end
    local.get 2)
  (func (export "if_else") (param i32 i32) (result i32) (local i32 i32)
    local.get 1 local.set 2
    local.get 1 i32.const 3 i32.add local.set 3
    local.get 0
    if local.get 3 local.set 2
    else i32.const 9 local.set 3 end
    local.get 2 i32.const 100 i32.mul local.get 3 i32.add)
  (func (export "br_if_out") (param i32 i32) (result i32) (local i32)
    local.get 1 local.set 2
    block
      local.get 0 i32.const 1 i32.and br_if 0
      i32.const 77 local.set 2
      local.get 0 i32.const 2 i32.and br_if 0
      local.get 2 local.get 1 i32.add local.set 2
    end
    local.get 2)
  (func (export "table") (param i32 i32) (result i32) (local i32)
    local.get 1 local.set 2
    block block block
      local.get 0 br_table 0 1 2
    end
      local.get 2 i32.const 1 i32.add local.set 2 br 1
    end
      i32.const 40 local.set 2
    end
    local.get 2 local.get 1 i32.add)
  (func (export "after_loop") (param i32 i32) (result i32) (local i32 i32)
    local.get 1 local.set 3
    loop
      local.get 2 local.get 0 i32.add local.set 2
      local.get 0 i32.const 1 i32.sub local.tee 0
      br_if 0
    end
    local.get 2 local.get 3 i32.mul)
  (func (export "result_block") (param i32 i32) (result i32) (local i32)
    local.get 1 local.set 2
    block (result i32)
      local.get 2
      local.get 0 br_if 0
      drop
      i32.const 11 local.set 2
      local.get 2 i32.const 1 i32.add
    end
    local.get 2 i32.const 1000 i32.mul i32.add))
"#;

#[test]
fn local_cache_across_merges() {
    for tier in TIERS {
        let call = |name: &str, a: i32, b: i32| {
            run(MERGES, tier, name, &[Val::I32(a), Val::I32(b)])[0]
                .i32()
                .unwrap()
        };
        assert_eq!(call("if_one_arm", 0, 8), 5, "[{tier:?}]");
        assert_eq!(call("if_one_arm", 1, 8), 8, "[{tier:?}]");
        assert_eq!(call("if_else", 1, 4), 700 + 7, "[{tier:?}]");
        assert_eq!(call("if_else", 0, 4), 400 + 9, "[{tier:?}]");
        assert_eq!(call("br_if_out", 1, 4), 4, "[{tier:?}]");
        assert_eq!(call("br_if_out", 2, 4), 77, "[{tier:?}]");
        assert_eq!(call("br_if_out", 0, 4), 81, "[{tier:?}]");
        assert_eq!(call("table", 0, 3), 3 + 1 + 3, "[{tier:?}]");
        assert_eq!(call("table", 1, 3), 40 + 3, "[{tier:?}]");
        assert_eq!(call("table", 2, 3), 3 + 3, "[{tier:?}]");
        assert_eq!(call("table", 9, 3), 3 + 3, "[{tier:?}]");
        assert_eq!(call("after_loop", 4, 3), (4 + 3 + 2 + 1) * 3, "[{tier:?}]");
        assert_eq!(call("result_block", 1, 6), 6 + 6000, "[{tier:?}]");
        assert_eq!(call("result_block", 0, 6), 12 + 11000, "[{tier:?}]");
    }
}

/// `select` right after a compare picks on the compare's flags (a `cmov`),
/// except for constants and floats, which take the general path.
const SELECTS: &str = r#"(module
  (func (export "lt_s") (param i32 i32) (result i32)
    local.get 0 local.get 1 local.get 0 local.get 1 i32.lt_s select)
  (func (export "gt_u") (param i32 i32) (result i32)
    local.get 0 local.get 1 local.get 0 local.get 1 i32.gt_u select)
  (func (export "eqz") (param i32 i32) (result i32)
    local.get 1 i32.const 3 i32.add local.get 0 local.get 1 i32.eqz select)
  (func (export "wide_le_s") (param i64 i64) (result i64)
    local.get 1 local.get 0 local.get 0 local.get 1 i64.le_s select)
  (func (export "with_zero") (param i32 i32) (result i32)
    local.get 0 i32.const 0 local.get 0 local.get 1 i32.ne select)
  (func (export "float") (param i32 i32) (result f64)
    f64.const 1.5 f64.const -2 local.get 0 local.get 1 i32.ge_u select))
"#;

#[test]
fn select_on_compare_flags() {
    for tier in TIERS {
        let call = |name: &str, a: i32, b: i32| {
            run(SELECTS, tier, name, &[Val::I32(a), Val::I32(b)])[0]
                .i32()
                .unwrap()
        };
        assert_eq!(call("lt_s", -5, 3), -5, "[{tier:?}]");
        assert_eq!(call("lt_s", 5, 3), 3, "[{tier:?}]");
        assert_eq!(call("gt_u", -5, 3), -5, "[{tier:?}]");
        assert_eq!(call("gt_u", 2, 3), 3, "[{tier:?}]");
        assert_eq!(call("eqz", 9, 0), 3, "[{tier:?}]");
        assert_eq!(call("eqz", 9, 1), 9, "[{tier:?}]");
        assert_eq!(call("with_zero", 7, 7), 0, "[{tier:?}]");
        assert_eq!(call("with_zero", 7, 8), 7, "[{tier:?}]");
        let wide = |a: i64, b: i64| {
            run(SELECTS, tier, "wide_le_s", &[Val::I64(a), Val::I64(b)])[0]
                .i64()
                .unwrap()
        };
        assert_eq!(wide(-1 << 40, 4), 4, "[{tier:?}]");
        assert_eq!(wide(1 << 40, 4), 1 << 40, "[{tier:?}]");
        let float =
            |a: i32, b: i32| as_f64(&run(SELECTS, tier, "float", &[Val::I32(a), Val::I32(b)])[0]);
        assert_eq!(float(3, 2), 1.5, "[{tier:?}]");
        assert_eq!(float(1, 2), -2.0, "[{tier:?}]");
    }
}

/// f32/f64 locals that plain code keeps in xmm registers: set, teed, read
/// as operands, across a call (which clobbers every xmm register), an
/// `if`/`else` and a loop.
const FLOATS: &str = r#"(module
  (func $id (param f64) (result f64) local.get 0)
  (func (export "mix") (param f64 f32 i32) (result f64) (local f64 f64)
    local.get 0 local.get 0 f64.mul local.tee 3
    local.get 1 f64.promote_f32 f64.add local.set 4
    local.get 3 call $id
    local.get 4 f64.sub
    local.get 2 if (result f64) local.get 4 local.get 3 f64.div else local.get 0 end
    f64.add
    local.get 4 local.get 4 f64.mul f64.add)
  (func (export "sum") (param i32) (result f64) (local f64 f64)
    f64.const 0.25 local.set 2
    loop
      local.get 1 local.get 2 f64.add local.set 1
      local.get 2 f64.const 1.5 f64.mul local.set 2
      local.get 0 i32.const 1 i32.sub local.tee 0 br_if 0
    end
    local.get 1 local.get 2 f64.sub))
"#;

fn as_f64(v: &Val) -> f64 {
    match v {
        Val::F64(bits) => f64::from_bits(*bits),
        v => panic!("not an f64: {v:?}"),
    }
}

#[test]
fn float_locals_in_registers() {
    let mix = |a: f64, b: f32, c: i32| {
        let t3 = a * a;
        let t4 = t3 + b as f64;
        let arm = if c != 0 { t4 / t3 } else { a };
        ((t3 - t4) + arm) + t4 * t4
    };
    let sum = |n: i32| {
        let (mut acc, mut x) = (0.0f64, 0.25f64);
        for _ in 0..n {
            acc += x;
            x *= 1.5;
        }
        acc - x
    };
    for tier in TIERS {
        for (a, b, c) in [(3.0, 0.5f32, 1), (3.0, 0.5, 0), (-1.25, 7.75, 5)] {
            let args = [
                Val::F64(f64::to_bits(a)),
                Val::F32(b.to_bits()),
                Val::I32(c),
            ];
            let got = as_f64(&run(FLOATS, tier, "mix", &args)[0]);
            assert_eq!(
                got.to_bits(),
                mix(a, b, c).to_bits(),
                "[{tier:?}] mix({a}, {b}, {c})"
            );
        }
        for n in [1, 2, 7] {
            let got = as_f64(&run(FLOATS, tier, "sum", &[Val::I32(n)])[0]);
            assert_eq!(got.to_bits(), sum(n).to_bits(), "[{tier:?}] sum({n})");
        }
    }
}
