//! Every trap kind of DESIGN.md §3.3 through the public API, in the baseline and
//! debug tiers: trap code, trapping function, wasm offset of the trapping
//! instruction (found independently with wasmparser) and the backtrace.

use std::ops::Range;
use wasmparser::{Operator, Parser, Payload};
use wdb::*;

const TIERS: [Strategy; 2] = [Strategy::Baseline, Strategy::Debug];

struct Setup {
    module: Module,
    store: Store<()>,
    inst: Instance,
    tier: Strategy,
}

fn setup(tier: Strategy, wat: &str) -> Setup {
    let engine = Engine::new(Config {
        strategy: tier,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, wat).unwrap_or_else(|e| panic!("[{tier:?}] compile: {e}"));
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[])
        .unwrap_or_else(|e| panic!("[{tier:?}] instantiate: {e}"));
    Setup {
        module,
        store,
        inst,
        tier,
    }
}

impl Setup {
    fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>> {
        let f = self
            .inst
            .get_func(&self.store, name)
            .unwrap_or_else(|| panic!("no export {name}"));
        let ty = f.ty(&self.store).unwrap();
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        f.call(&mut self.store, args, &mut results)?;
        Ok(results)
    }

    fn ok(&mut self, name: &str, args: &[Val]) -> Vec<Val> {
        let tier = self.tier;
        self.call(name, args)
            .unwrap_or_else(|e| panic!("[{tier:?}] {name}{args:?}: unexpected error {e}"))
    }

    fn i32(&mut self, name: &str, args: &[Val]) -> i32 {
        self.ok(name, args)[0].i32().unwrap()
    }

    fn i64(&mut self, name: &str, args: &[Val]) -> i64 {
        self.ok(name, args)[0].i64().unwrap()
    }

    /// Calls `name`, expects trap `code`, and checks that it names the
    /// exported function and an offset inside its body.
    fn trap(&mut self, name: &str, args: &[Val], code: TrapCode) -> Trap {
        let tier = self.tier;
        let e = match self.call(name, args) {
            Ok(r) => panic!("[{tier:?}] {name}{args:?}: expected trap {code:?}, got {r:?}"),
            Err(e) => e,
        };
        let t = e
            .as_trap()
            .unwrap_or_else(|| panic!("[{tier:?}] {name}{args:?}: not a trap: {e}"))
            .clone();
        assert_eq!(t.code, code, "[{tier:?}] {name}{args:?}: {t}");
        let idx = self.func_index(name);
        assert_eq!(
            t.func,
            Some(idx),
            "[{tier:?}] {name}{args:?}: trapping function ({t})"
        );
        let off = t
            .wasm_offset
            .unwrap_or_else(|| panic!("[{tier:?}] {name}{args:?}: no wasm offset"));
        let body = self.body(idx);
        assert!(
            body.contains(&(off as usize)),
            "[{tier:?}] {name}: offset {off:#x} outside body {body:x?}"
        );
        let top = t
            .backtrace
            .first()
            .unwrap_or_else(|| panic!("[{tier:?}] {name}: empty backtrace"));
        assert_eq!(
            top.func_index, idx,
            "[{tier:?}] {name}: backtrace {:?}",
            t.backtrace
        );
        assert_eq!(
            top.wasm_offset,
            Some(off),
            "[{tier:?}] {name}: innermost frame offset"
        );
        t
    }

    /// Like `trap`, and the offset is the one of the first operator matching `op`.
    fn trap_at(
        &mut self,
        name: &str,
        args: &[Val],
        code: TrapCode,
        op: fn(&Operator) -> bool,
    ) -> Trap {
        let t = self.trap(name, args, code);
        let want = op_offset(&self.module, self.func_index(name), op);
        assert_eq!(
            t.wasm_offset,
            Some(want),
            "[{:?}] {name}{args:?}: offset of the trapping instruction",
            self.tier
        );
        t
    }

    fn func_index(&self, name: &str) -> u32 {
        self.module
            .info()
            .export(name)
            .unwrap_or_else(|| panic!("no export {name}"))
            .index
    }

    fn body(&self, func: u32) -> Range<usize> {
        self.module
            .info()
            .body(func)
            .expect("defined function")
            .range
            .clone()
    }
}

/// (offset, operator) of every instruction of defined function `func`.
fn ops(module: &Module, func: u32) -> Vec<(u32, String)> {
    let info = module.info();
    let want = func - info.num_imported_funcs;
    let mut n = 0;
    for payload in Parser::new(0).parse_all(&info.bytes) {
        if let Payload::CodeSectionEntry(body) = payload.unwrap() {
            if n == want {
                let mut r = body.get_operators_reader().unwrap();
                let mut out = Vec::new();
                while !r.eof() {
                    let (op, off) = r.read_with_offset().unwrap();
                    out.push((off as u32, format!("{op:?}")));
                }
                return out;
            }
            n += 1;
        }
    }
    panic!("no body for function {func}");
}

fn op_offset(module: &Module, func: u32, pred: fn(&Operator) -> bool) -> u32 {
    let info = module.info();
    let want = func - info.num_imported_funcs;
    let mut n = 0;
    for payload in Parser::new(0).parse_all(&info.bytes) {
        if let Payload::CodeSectionEntry(body) = payload.unwrap() {
            if n == want {
                let mut r = body.get_operators_reader().unwrap();
                while !r.eof() {
                    let (op, off) = r.read_with_offset().unwrap();
                    if pred(&op) {
                        return off as u32;
                    }
                }
                panic!(
                    "no matching operator in function {func}: {:?}",
                    ops(module, func)
                );
            }
            n += 1;
        }
    }
    panic!("no body for function {func}");
}

fn i32v(v: i32) -> Val {
    Val::I32(v)
}

const PAGE: i32 = 65536;

#[test]
fn out_of_bounds_load_and_store() {
    let wat = r#"(module (memory 1)
      (func (export "ld") (param i32) (result i32) local.get 0 i32.load)
      (func (export "ld8") (param i32) (result i32) local.get 0 i32.load8_u)
      (func (export "ld64") (param i32) (result i64) local.get 0 i64.load)
      (func (export "ld_off") (param i32) (result i32) local.get 0 i32.load offset=0x10000)
      (func (export "st") (param i32) local.get 0 i32.const 7 i32.store)
      (func (export "st64") (param i32) local.get 0 i64.const -1 i64.store))"#;
    for tier in TIERS {
        let mut s = setup(tier, wat);
        assert_eq!(s.i32("ld", &[i32v(PAGE - 4)]), 0);
        assert_eq!(s.i32("ld8", &[i32v(PAGE - 1)]), 0);
        assert_eq!(s.i64("ld64", &[i32v(PAGE - 8)]), 0);
        s.ok("st", &[i32v(PAGE - 4)]);
        assert_eq!(s.i32("ld", &[i32v(PAGE - 4)]), 7);
        let is_load = |o: &Operator| matches!(o, Operator::I32Load { .. });
        for addr in [PAGE - 3, PAGE - 1, PAGE, PAGE + 100, i32::MAX, -1, -4] {
            s.trap_at("ld", &[i32v(addr)], TrapCode::MemoryOutOfBounds, is_load);
        }
        s.trap_at("ld8", &[i32v(PAGE)], TrapCode::MemoryOutOfBounds, |o| {
            matches!(o, Operator::I32Load8U { .. })
        });
        // An i64 load straddling the end of memory.
        for addr in [PAGE - 7, PAGE - 4, PAGE - 1] {
            s.trap_at("ld64", &[i32v(addr)], TrapCode::MemoryOutOfBounds, |o| {
                matches!(o, Operator::I64Load { .. })
            });
        }
        // A static offset puts even address 0 out of bounds; the 33-bit sum must not wrap.
        s.trap_at("ld_off", &[i32v(0)], TrapCode::MemoryOutOfBounds, is_load);
        s.trap_at("ld_off", &[i32v(-1)], TrapCode::MemoryOutOfBounds, is_load);
        let is_store = |o: &Operator| matches!(o, Operator::I32Store { .. });
        for addr in [PAGE - 3, PAGE, -1] {
            s.trap_at("st", &[i32v(addr)], TrapCode::MemoryOutOfBounds, is_store);
        }
        s.trap_at(
            "st64",
            &[i32v(PAGE - 4)],
            TrapCode::MemoryOutOfBounds,
            |o| matches!(o, Operator::I64Store { .. }),
        );
        // A store that traps writes nothing (the in-bounds half included), and
        // the instance keeps working.
        assert_eq!(s.i32("ld", &[i32v(PAGE - 4)]), 7);
        s.ok("st64", &[i32v(PAGE - 8)]);
        assert_eq!(s.i64("ld64", &[i32v(PAGE - 8)]), -1);
    }
}

#[test]
fn out_of_bounds_after_memory_grow() {
    let wat = r#"(module (memory 1 10)
      (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
      (func (export "ld8") (param i32) (result i32) local.get 0 i32.load8_u)
      (func (export "st8") (param i32 i32) local.get 0 local.get 1 i32.store8)
      (func (export "ld64") (param i32) (result i64) local.get 0 i64.load))"#;
    for tier in TIERS {
        let mut s = setup(tier, wat);
        s.trap("ld8", &[i32v(PAGE)], TrapCode::MemoryOutOfBounds);
        assert_eq!(s.i32("grow", &[i32v(2)]), 1);
        let last = 3 * PAGE - 1;
        s.ok("st8", &[i32v(last), i32v(0xab)]);
        assert_eq!(s.i32("ld8", &[i32v(last)]), 0xab);
        assert_eq!(s.i64("ld64", &[i32v(last - 7)]), 0xab << 56);
        let is_ld8 = |o: &Operator| matches!(o, Operator::I32Load8U { .. });
        s.trap_at(
            "ld8",
            &[i32v(last + 1)],
            TrapCode::MemoryOutOfBounds,
            is_ld8,
        );
        s.trap_at(
            "st8",
            &[i32v(last + 1), i32v(1)],
            TrapCode::MemoryOutOfBounds,
            |o| matches!(o, Operator::I32Store8 { .. }),
        );
        s.trap_at(
            "ld64",
            &[i32v(last - 6)],
            TrapCode::MemoryOutOfBounds,
            |o| matches!(o, Operator::I64Load { .. }),
        );
    }
}

#[test]
fn unreachable_with_backtrace() {
    let wat = r#"(module
      (func $innermost nop unreachable)
      (func $inner (result i32) call $innermost i32.const 0)
      (func $boom (export "boom") (result i32) call $inner))"#;
    for tier in TIERS {
        let mut s = setup(tier, wat);
        let e = s.call("boom", &[]).unwrap_err();
        let t = e.as_trap().expect("a trap").clone();
        assert_eq!(t.code, TrapCode::Unreachable, "[{tier:?}]");
        assert_eq!(t.func, Some(0), "[{tier:?}]");
        let unreachable = op_offset(&s.module, 0, |o| matches!(o, Operator::Unreachable));
        assert_eq!(
            t.wasm_offset,
            Some(unreachable),
            "[{tier:?}] offset of `unreachable`"
        );
        let names: Vec<Option<&str>> = t.backtrace.iter().map(|f| f.func_name.as_deref()).collect();
        assert_eq!(
            names,
            [Some("innermost"), Some("inner"), Some("boom")],
            "[{tier:?}] {:?}",
            t.backtrace
        );
        let idx: Vec<u32> = t.backtrace.iter().map(|f| f.func_index).collect();
        assert_eq!(idx, [0, 1, 2], "[{tier:?}]");
        // Outer frames stop at their call instructions.
        let call1 = op_offset(&s.module, 1, |o| matches!(o, Operator::Call { .. }));
        let call2 = op_offset(&s.module, 2, |o| matches!(o, Operator::Call { .. }));
        let offs: Vec<Option<u32>> = t.backtrace.iter().map(|f| f.wasm_offset).collect();
        assert_eq!(
            offs,
            [Some(unreachable), Some(call1), Some(call2)],
            "[{tier:?}] frame offsets"
        );
        assert!(t
            .backtrace
            .iter()
            .all(|f| f.module_id == s.module.info().id));
        let shown = t.to_string();
        assert!(
            shown.contains("unreachable") && shown.contains("innermost"),
            "[{tier:?}] {shown}"
        );
        // Same trap from the exported function itself.
        let t2 = s.call("boom", &[]).unwrap_err();
        assert_eq!(t2.as_trap_code(), Some(TrapCode::Unreachable));
    }
}

#[test]
fn integer_divide_by_zero() {
    let wat = r#"(module
      (func (export "i32.div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
      (func (export "i32.div_u") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)
      (func (export "i32.rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
      (func (export "i32.rem_u") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_u)
      (func (export "i64.div_s") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_s)
      (func (export "i64.div_u") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_u)
      (func (export "i64.rem_s") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_s)
      (func (export "i64.rem_u") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_u)
      (func (export "const_zero") (param i32) (result i32) local.get 0 i32.const 0 i32.div_u))"#;
    for tier in TIERS {
        let mut s = setup(tier, wat);
        for name in ["i32.div_s", "i32.div_u", "i32.rem_s", "i32.rem_u"] {
            assert_eq!(
                s.i32(name, &[i32v(7), i32v(2)]),
                if name.contains("div") { 3 } else { 1 }
            );
            let t = s.trap(name, &[i32v(7), i32v(0)], TrapCode::IntegerDivideByZero);
            let last = ops(&s.module, s.func_index(name))[2].0;
            assert_eq!(t.wasm_offset, Some(last), "[{tier:?}] {name}");
        }
        for name in ["i64.div_s", "i64.div_u", "i64.rem_s", "i64.rem_u"] {
            assert_eq!(
                s.i64(name, &[Val::I64(7), Val::I64(2)]),
                if name.contains("div") { 3 } else { 1 }
            );
            let t = s.trap(
                name,
                &[Val::I64(i64::MIN), Val::I64(0)],
                TrapCode::IntegerDivideByZero,
            );
            let last = ops(&s.module, s.func_index(name))[2].0;
            assert_eq!(t.wasm_offset, Some(last), "[{tier:?}] {name}");
        }
        s.trap_at(
            "const_zero",
            &[i32v(1)],
            TrapCode::IntegerDivideByZero,
            |o| matches!(o, Operator::I32DivU),
        );
    }
}

#[test]
fn integer_overflow_and_rem_min_minus_one() {
    let wat = r#"(module
      (func (export "i32.div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
      (func (export "i32.rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
      (func (export "i64.div_s") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_s)
      (func (export "i64.rem_s") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_s)
      (func (export "const_min") (result i32) i32.const 0x80000000 i32.const -1 i32.div_s)
      (func (export "const_rem") (result i64) i64.const 0x8000000000000000 i64.const -1 i64.rem_s))"#;
    for tier in TIERS {
        let mut s = setup(tier, wat);
        s.trap_at(
            "i32.div_s",
            &[i32v(i32::MIN), i32v(-1)],
            TrapCode::IntegerOverflow,
            |o| matches!(o, Operator::I32DivS),
        );
        let is = |o: &Operator| matches!(o, Operator::I64DivS);
        s.trap_at(
            "i64.div_s",
            &[Val::I64(i64::MIN), Val::I64(-1)],
            TrapCode::IntegerOverflow,
            is,
        );
        s.trap_at("const_min", &[], TrapCode::IntegerOverflow, |o| {
            matches!(o, Operator::I32DivS)
        });
        assert_eq!(s.i32("i32.div_s", &[i32v(i32::MIN), i32v(1)]), i32::MIN);
        assert_eq!(s.i32("i32.div_s", &[i32v(i32::MAX), i32v(-1)]), -i32::MAX);
        // rem_s MIN % -1 is 0, not a trap (x86 idiv would fault).
        assert_eq!(
            s.i32("i32.rem_s", &[i32v(i32::MIN), i32v(-1)]),
            0,
            "[{tier:?}]"
        );
        assert_eq!(
            s.i64("i64.rem_s", &[Val::I64(i64::MIN), Val::I64(-1)]),
            0,
            "[{tier:?}]"
        );
        assert_eq!(s.i64("const_rem", &[]), 0, "[{tier:?}]");
        assert_eq!(s.i32("i32.rem_s", &[i32v(-7), i32v(2)]), -1);
    }
}

#[test]
fn invalid_conversion_and_conversion_overflow() {
    let wat = r#"(module
      (func (export "i32.trunc_f32_s") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
      (func (export "i32.trunc_f64_s") (param f64) (result i32) local.get 0 i32.trunc_f64_s)
      (func (export "i32.trunc_f64_u") (param f64) (result i32) local.get 0 i32.trunc_f64_u)
      (func (export "i64.trunc_f64_u") (param f64) (result i64) local.get 0 i64.trunc_f64_u)
      (func (export "i64.trunc_f32_s") (param f32) (result i64) local.get 0 i64.trunc_f32_s)
      (func (export "sat") (param f64) (result i32) local.get 0 i32.trunc_sat_f64_s))"#;
    let f32v = |x: f32| Val::F32(x.to_bits());
    let f64v = |x: f64| Val::F64(x.to_bits());
    for tier in TIERS {
        let mut s = setup(tier, wat);
        let bad = TrapCode::BadConversionToInteger;
        let ovf = TrapCode::IntegerOverflow;
        let t = s.trap("i32.trunc_f32_s", &[f32v(f32::NAN)], bad);
        assert_eq!(t.wasm_offset, Some(ops(&s.module, t.func.unwrap())[1].0));
        s.trap("i32.trunc_f64_s", &[f64v(f64::NAN)], bad);
        s.trap("i64.trunc_f64_u", &[f64v(-f64::NAN)], bad);
        s.trap("i32.trunc_f64_s", &[f64v(1e10)], ovf);
        s.trap("i32.trunc_f64_s", &[f64v(-2147483649.0)], ovf);
        s.trap("i32.trunc_f64_s", &[f64v(f64::INFINITY)], ovf);
        s.trap("i32.trunc_f64_u", &[f64v(-1.5)], ovf);
        s.trap("i32.trunc_f64_u", &[f64v(4294967296.0)], ovf);
        s.trap("i64.trunc_f64_u", &[f64v(-1.5)], ovf);
        s.trap("i64.trunc_f32_s", &[f32v(9.3e18)], ovf);
        assert_eq!(s.i32("i32.trunc_f64_s", &[f64v(-2147483648.9)]), i32::MIN);
        assert_eq!(s.i32("i32.trunc_f64_u", &[f64v(-0.9)]), 0);
        assert_eq!(s.i32("i32.trunc_f64_u", &[f64v(4294967295.5)]), -1);
        assert_eq!(
            s.i64("i64.trunc_f64_u", &[f64v(1e19)]),
            10_000_000_000_000_000_000u64 as i64
        );
        assert_eq!(s.i32("sat", &[f64v(f64::NAN)]), 0);
        assert_eq!(s.i32("sat", &[f64v(1e10)]), i32::MAX);
    }
}

const TABLE_WAT: &str = r#"(module
  (type $v_i (func (result i32)))
  (type $i_i (func (param i32) (result i32)))
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $one $double)
  (func $one (type $v_i) i32.const 1)
  (func $double (type $i_i) local.get 0 i32.const 2 i32.mul)
  (func (export "call_v_i") (param i32) (result i32) local.get 0 call_indirect $t (type $v_i))
  (func (export "call_i_i") (param i32) (result i32) i32.const 21 local.get 0 call_indirect $t (type $i_i))
  (func (export "get") (param i32) (result funcref) local.get 0 table.get $t)
  (func (export "set") (param i32) local.get 0 ref.null func table.set $t)
  (func (export "fill") (param i32 i32) local.get 0 ref.null func local.get 1 table.fill $t))"#;

#[test]
fn call_indirect_traps() {
    for tier in TIERS {
        let mut s = setup(tier, TABLE_WAT);
        let is_ci = |o: &Operator| matches!(o, Operator::CallIndirect { .. });
        assert_eq!(s.i32("call_v_i", &[i32v(0)]), 1);
        assert_eq!(s.i32("call_i_i", &[i32v(1)]), 42);
        // Null entry.
        s.trap_at("call_v_i", &[i32v(2)], TrapCode::IndirectCallToNull, is_ci);
        s.trap_at("call_i_i", &[i32v(3)], TrapCode::IndirectCallToNull, is_ci);
        // Wrong signature, both ways.
        s.trap_at("call_v_i", &[i32v(1)], TrapCode::BadSignature, is_ci);
        s.trap_at("call_i_i", &[i32v(0)], TrapCode::BadSignature, is_ci);
        // Past the end of the table.
        for i in [4, 5, 1000, -1, i32::MIN] {
            s.trap_at("call_v_i", &[i32v(i)], TrapCode::TableOutOfBounds, is_ci);
        }
        assert_eq!(s.i32("call_v_i", &[i32v(0)]), 1);
    }
}

#[test]
fn table_access_out_of_bounds() {
    for tier in TIERS {
        let mut s = setup(tier, TABLE_WAT);
        assert!(matches!(s.ok("get", &[i32v(0)])[0], Val::FuncRef(Some(_))));
        assert!(matches!(s.ok("get", &[i32v(3)])[0], Val::FuncRef(None)));
        let is_get = |o: &Operator| matches!(o, Operator::TableGet { .. });
        for i in [4, 1 << 20, -1] {
            s.trap_at("get", &[i32v(i)], TrapCode::TableOutOfBounds, is_get);
        }
        s.trap_at("set", &[i32v(4)], TrapCode::TableOutOfBounds, |o| {
            matches!(o, Operator::TableSet { .. })
        });
        s.ok("fill", &[i32v(4), i32v(0)]);
        let is_fill = |o: &Operator| matches!(o, Operator::TableFill { .. });
        s.trap_at(
            "fill",
            &[i32v(3), i32v(2)],
            TrapCode::TableOutOfBounds,
            is_fill,
        );
        s.trap_at(
            "fill",
            &[i32v(5), i32v(0)],
            TrapCode::TableOutOfBounds,
            is_fill,
        );
        // The failed fill changed nothing.
        assert!(matches!(s.ok("get", &[i32v(0)])[0], Val::FuncRef(Some(_))));
    }
}

#[test]
fn bulk_memory_out_of_bounds() {
    let wat = r#"(module (memory 1)
      (data $d "abcdefgh")
      (func (export "fill") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.fill)
      (func (export "copy") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.copy)
      (func (export "init") (param i32 i32 i32) local.get 0 local.get 1 local.get 2 memory.init $d)
      (func (export "ld8") (param i32) (result i32) local.get 0 i32.load8_u))"#;
    for tier in TIERS {
        let mut s = setup(tier, wat);
        let a = |x: i32, y: i32, z: i32| [i32v(x), i32v(y), i32v(z)];
        let mo = TrapCode::MemoryOutOfBounds;
        // In bounds up to the last byte, and zero-length accesses at the end.
        s.ok("fill", &a(PAGE - 2, 0x55, 2));
        assert_eq!(s.i32("ld8", &[i32v(PAGE - 1)]), 0x55);
        s.ok("fill", &a(PAGE, 0, 0));
        s.ok("copy", &a(PAGE - 2, 0, 2));
        s.ok("copy", &a(PAGE, PAGE, 0));
        s.ok("init", &a(PAGE - 8, 0, 8));
        assert_eq!(s.i32("ld8", &[i32v(PAGE - 1)]), b'h' as i32);
        s.ok("init", &a(PAGE, 8, 0));
        s.trap_at("fill", &a(PAGE - 1, 0, 2), mo, |o| {
            matches!(o, Operator::MemoryFill { .. })
        });
        s.trap("fill", &a(PAGE + 1, 0, 0), mo);
        s.trap("fill", &a(1, 0, -1), mo);
        // A failed fill writes nothing (bulk ops check before writing).
        assert_eq!(s.i32("ld8", &[i32v(PAGE - 1)]), b'h' as i32);
        let is_copy = |o: &Operator| matches!(o, Operator::MemoryCopy { .. });
        s.trap_at("copy", &a(PAGE - 1, 0, 2), mo, is_copy);
        s.trap_at("copy", &a(0, PAGE - 1, 2), mo, is_copy);
        s.trap("copy", &a(0, PAGE + 1, 0), mo);
        s.trap("copy", &a(-1, 0, 4), mo);
        let init = |s: &mut Setup, args: [Val; 3]| {
            let e = s.call("init", &args).unwrap_err();
            let t = e
                .as_trap()
                .unwrap_or_else(|| panic!("[{tier:?}] init{args:?}: {e}"));
            assert!(
                matches!(
                    t.code,
                    TrapCode::MemoryOutOfBounds | TrapCode::OutOfBoundsSegment
                ),
                "[{tier:?}] init{args:?}: {t}"
            );
            assert_eq!(t.code.message(), "out of bounds memory access");
            assert_eq!(t.func, Some(s.func_index("init")));
            let want = op_offset(&s.module, s.func_index("init"), |o| {
                matches!(o, Operator::MemoryInit { .. })
            });
            assert_eq!(t.wasm_offset, Some(want), "[{tier:?}] init{args:?}");
        };
        init(&mut s, a(PAGE - 4, 0, 8));
        init(&mut s, a(0, 4, 5));
        init(&mut s, a(0, 9, 0));
        init(&mut s, a(PAGE + 1, 0, 0));
    }
}

#[test]
fn stack_overflow_is_recoverable() {
    let wat = r#"(module
      (func $recurse (export "recurse") (param $n i32) (result i32)
        local.get $n i32.const 1 i32.add call $recurse i32.const 1 i32.add)
      (func $wide (export "wide") (param f64 f64 f64 f64 f64 f64 f64 f64 f64 f64) (result f64)
        (local f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64 f64)
        local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 local.get 5 local.get 6
        local.get 7 local.get 8 local.get 9 call $wide)
      (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))"#;
    for tier in TIERS {
        let mut s = setup(tier, wat);
        let idx = s.func_index("recurse");
        for round in 0..3 {
            let t = s.trap("recurse", &[i32v(round)], TrapCode::StackOverflow);
            assert!(
                t.backtrace.len() > 100,
                "[{tier:?}] backtrace of {} frames",
                t.backtrace.len()
            );
            assert!(t
                .backtrace
                .iter()
                .take(100)
                .all(|f| f.func_index == idx && f.func_name.as_deref() == Some("recurse")));
            assert!(
                t.to_string().contains("call stack exhausted"),
                "[{tier:?}] {t}"
            );
        }
        let args: Vec<Val> = (0..10).map(|i| Val::F64((i as f64).to_bits())).collect();
        s.trap("wide", &args, TrapCode::StackOverflow);
        assert_eq!(s.i32("add", &[i32v(2), i32v(3)]), 5);
        // And the thread's stack is still good for deep native recursion.
        fn depth(n: u32) -> u32 {
            let buf = std::hint::black_box([0u8; 256]);
            if n == 0 {
                buf[0] as u32
            } else {
                1 + depth(n - 1)
            }
        }
        assert_eq!(depth(1000), 1000);
    }
}

#[test]
fn stack_overflow_on_other_thread() {
    let wat = r#"(module (func $r (export "r") (param i32) (result i32) local.get 0 call $r))"#;
    for tier in TIERS {
        let h = std::thread::Builder::new()
            .stack_size(1 << 20)
            .spawn(move || {
                let mut s = setup(tier, wat);
                for _ in 0..3 {
                    s.trap("r", &[i32v(0)], TrapCode::StackOverflow);
                }
            })
            .unwrap();
        h.join()
            .unwrap_or_else(|_| panic!("[{tier:?}] thread with a 1 MiB stack failed"));
    }
}

fn host_setup(tier: Strategy, host: Func, store: Store<()>, engine: &Engine) -> Setup {
    let wat = r#"(module
      (import "env" "host" (func $host (param i32) (result i32)))
      (func $caller (export "caller") (param i32) (result i32)
        local.get 0 i32.const 1 i32.add call $host)
      (func $outer (export "outer") (param i32) (result i32) local.get 0 call $caller)
      (func (export "ok") (result i32) i32.const 9))"#;
    let module = Module::new(engine, wat).unwrap();
    let mut store = store;
    let inst = Instance::new(&mut store, &module, &[Extern::Func(host)]).unwrap();
    Setup {
        module,
        store,
        inst,
        tier,
    }
}

fn host_ty() -> FuncType {
    FuncType::new([ValType::I32], [ValType::I32])
}

#[test]
fn host_function_error_becomes_host_trap() {
    for tier in TIERS {
        let engine = Engine::new(Config {
            strategy: tier,
            ..Config::default()
        })
        .unwrap();
        let mut store = Store::new(&engine, ());
        let host = Func::new(&mut store, host_ty(), |_c, args, res| {
            if args[0].i32() == Some(3) {
                return Err(Trap::host("boom"));
            }
            res[0] = Val::I32(args[0].i32().unwrap() * 10);
            Ok(())
        })
        .unwrap();
        let mut s = host_setup(tier, host, store, &engine);
        assert_eq!(s.i32("outer", &[i32v(4)]), 50);
        let e = s.call("outer", &[i32v(2)]).unwrap_err();
        let t = e
            .as_trap()
            .unwrap_or_else(|| panic!("[{tier:?}] not a trap: {e}"));
        assert_eq!(t.code, TrapCode::HostError, "[{tier:?}]");
        assert_eq!(t.message.as_deref(), Some("boom"), "[{tier:?}]");
        assert!(e.to_string().contains("boom"), "[{tier:?}] {e}");
        // The innermost wasm frame is the caller of the host function, at its `call`.
        let caller = s.func_index("caller");
        let call_off = op_offset(&s.module, caller, |o| matches!(o, Operator::Call { .. }));
        let wasm: Vec<&FrameInfo> = t
            .backtrace
            .iter()
            .filter(|f| f.func_index != u32::MAX)
            .collect();
        let names: Vec<Option<&str>> = wasm.iter().map(|f| f.func_name.as_deref()).collect();
        assert_eq!(
            names,
            [Some("caller"), Some("outer")],
            "[{tier:?}] {:?}",
            t.backtrace
        );
        assert_eq!(
            wasm[0].wasm_offset,
            Some(call_off),
            "[{tier:?}] {:?}",
            t.backtrace
        );
        if let Some(f) = t.func {
            assert_eq!(f, caller, "[{tier:?}] trap.func");
        }
        assert_eq!(s.i32("ok", &[]), 9);
        assert_eq!(s.i32("caller", &[i32v(0)]), 10);
    }
}

#[test]
fn host_function_panic_becomes_trap() {
    for tier in TIERS {
        let engine = Engine::new(Config {
            strategy: tier,
            ..Config::default()
        })
        .unwrap();
        let mut store = Store::new(&engine, ());
        let host = Func::new(&mut store, host_ty(), |_c, args, res| {
            if args[0].i32() == Some(8) {
                panic!("deliberate panic in a host function");
            }
            res[0] = args[0];
            Ok(())
        })
        .unwrap();
        let mut s = host_setup(tier, host, store, &engine);
        for _ in 0..3 {
            let e = s.call("outer", &[i32v(7)]).unwrap_err();
            let t = e
                .as_trap()
                .unwrap_or_else(|| panic!("[{tier:?}] not a trap: {e}"));
            assert_eq!(t.code, TrapCode::HostError, "[{tier:?}]");
            assert!(
                t.message.as_deref().unwrap_or("").contains("panic"),
                "[{tier:?}] {t}"
            );
            assert!(
                t.backtrace
                    .iter()
                    .any(|f| f.func_name.as_deref() == Some("caller")),
                "[{tier:?}] {:?}",
                t.backtrace
            );
        }
        assert_eq!(s.i32("outer", &[i32v(1)]), 2);
    }
}

#[test]
fn trap_inside_nested_host_to_wasm_call() {
    // wasm -> host -> wasm (traps): the trap reaches the outermost caller and
    // the store stays usable.
    for tier in TIERS {
        let engine = Engine::new(Config {
            strategy: tier,
            ..Config::default()
        })
        .unwrap();
        let wat = r#"(module
          (import "env" "cb" (func $cb (param i32) (result i32)))
          (func $div (export "div") (param i32) (result i32) i32.const 100 local.get 0 i32.div_u)
          (func $top (export "top") (param i32) (result i32) local.get 0 call $cb))"#;
        let module = Module::new(&engine, wat).unwrap();
        let mut store = Store::new(&engine, ());
        let cb = Func::new(&mut store, host_ty(), |mut c, args, res| {
            let Some(Extern::Func(div)) = c.get_export("div") else {
                return Err(Trap::host("no div"));
            };
            let mut out = [Val::I32(0)];
            match div.call(c.store(), args, &mut out) {
                Ok(()) => {
                    res[0] = out[0];
                    Ok(())
                }
                Err(Error::Trap(t)) => Err(*t),
                Err(e) => Err(Trap::host(e.to_string())),
            }
        })
        .unwrap();
        let inst = Instance::new(&mut store, &module, &[Extern::Func(cb)]).unwrap();
        let mut s = Setup {
            module,
            store,
            inst,
            tier,
        };
        assert_eq!(s.i32("top", &[i32v(5)]), 20);
        let e = s.call("top", &[i32v(0)]).unwrap_err();
        assert_eq!(
            e.as_trap_code(),
            Some(TrapCode::IntegerDivideByZero),
            "[{tier:?}] {e}"
        );
        assert_eq!(s.i32("top", &[i32v(50)]), 2);
    }
}

/// Consecutive memory accesses that all fault: every tier names the first
/// one (issue 18: the optimized tier named the second of two stores, as the
/// stores' machine instructions were merged or reordered against their
/// source locations).
#[test]
fn every_tier_names_the_first_faulting_access() {
    let wat = r#"(module (memory 0)
      (func (export "two_stores")
        i32.const 0 i32.const 1 i32.store
        i32.const 0 i32.const 2 i32.store)
      (func (export "two_store32") (param i32)
        local.get 0 i64.const 1 i64.store32 offset=4
        local.get 0 i64.const 2 i64.store32 offset=4)
      (func (export "store_then_load") (result i32)
        i32.const 8 i32.const 3 i32.store
        i32.const 8 i32.load)
      (func (export "load_then_store") (result i32)
        i32.const 16 i32.load
        i32.const 16 i32.const 5 i32.store))"#;
    let all = [
        Strategy::Baseline,
        Strategy::Debug,
        Strategy::Optimized,
        Strategy::Mixed,
        Strategy::Dynamic,
    ];
    for tier in all {
        let mut s = setup(tier, wat);
        s.trap_at("two_stores", &[], TrapCode::MemoryOutOfBounds, |o| {
            matches!(o, Operator::I32Store { .. })
        });
        s.trap_at(
            "two_store32",
            &[i32v(0)],
            TrapCode::MemoryOutOfBounds,
            |o| matches!(o, Operator::I64Store32 { .. }),
        );
        s.trap_at("store_then_load", &[], TrapCode::MemoryOutOfBounds, |o| {
            matches!(o, Operator::I32Store { .. })
        });
        s.trap_at("load_then_store", &[], TrapCode::MemoryOutOfBounds, |o| {
            matches!(o, Operator::I32Load { .. })
        });
    }
}

/// Issue 18: a trap backtrace stops at its limit; it now says how many
/// frames it left out (1001 frames of recursion: 256 kept, 745 counted).
#[test]
fn deep_trap_backtrace_counts_the_frames_left_out() {
    let wat = r#"(module
      (func $r (export "r") (param i32)
        local.get 0
        i32.eqz
        if unreachable end
        local.get 0
        i32.const 1
        i32.sub
        call $r))"#;
    for tier in [Strategy::Baseline, Strategy::Debug, Strategy::Optimized] {
        let mut s = setup(tier, wat);
        for (depth, kept, omitted) in [(1000, 256, 745), (100, 101, 0)] {
            let t = s.trap("r", &[i32v(depth)], TrapCode::Unreachable);
            assert_eq!(
                (t.backtrace.len(), t.frames_omitted),
                (kept, omitted),
                "[{tier:?}] r({depth}): frames kept and left out"
            );
        }
    }
}
