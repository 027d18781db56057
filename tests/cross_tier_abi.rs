//! The one calling convention, checked across every pair of tiers: signatures
//! with 0–20 parameters of mixed types (enough integers and floats that stack
//! arguments are used) and 0–5 results, called with `call` and `call_indirect`
//! from baseline and optimized callers into baseline and optimized callees,
//! into host functions (wasm → host, and wasm → host → wasm re-entry), and
//! from the host into both tiers; and tail-called (`return_call`,
//! `return_call_indirect`) into all of these from baseline and optimized
//! functions with fewer and with more stack arguments than the target.
//!
//! One engine with `Strategy::Mixed` provides the pairs: even defined
//! functions are baseline code, odd ones optimized code, and each module lays
//! its functions out so every (caller tier, callee tier) pair occurs.
//!
//! Each callee folds all its parameters into every result with a formula the
//! test recomputes in Rust, so a lost, swapped or truncated argument or result
//! changes the values. Callers also keep three values of their own alive
//! across the call and return them, which checks that callees preserve what
//! the convention says they preserve.
//!
//! `v128` shapes (vectors in xmm registers, in 16-byte aligned pairs of stack
//! slots, in the results area) run the same way: between every pair of tiers
//! (`Strategy::Mixed`) with every call mechanism, tail calls included, and
//! where the optimizing tier is on both sides (`Strategy::Optimized`); wasm →
//! host, host → wasm (both tiers) and re-entry.

use wdb::*;

const TYPES: [ValType; 4] = [ValType::I32, ValType::I64, ValType::F32, ValType::F64];

/// The signatures under test.
fn signatures() -> Vec<FuncType> {
    let mut out = Vec::new();
    for n in 0..=20usize {
        for pattern in 0..4usize {
            let mut lcg = (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            let mut rnd = || {
                lcg = lcg
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                (lcg >> 33) as usize
            };
            let params: Vec<ValType> = (0..n)
                .map(|j| match pattern {
                    0 => TYPES[j % 4],
                    1 => [ValType::I64, ValType::I32][j % 2],
                    2 => [ValType::F64, ValType::F32][j % 2],
                    _ => TYPES[rnd() % 4],
                })
                .collect();
            let nres = (n + pattern) % 6;
            let results: Vec<ValType> = (0..nres).map(|k| TYPES[(k + n + 3) % 4]).collect();
            out.push(FuncType::new(params, results));
        }
    }
    out
}

fn wat_type(t: ValType) -> &'static str {
    match t {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::FuncRef => "funcref",
        ValType::ExternRef => "externref",
        ValType::ExnRef => "exnref",
        ValType::V128 => "v128",
    }
}

/// The argument passed for parameter `j` of type `t`.
fn arg(j: usize, t: ValType) -> Val {
    let j64 = j as u64 + 1;
    match t {
        ValType::I32 => Val::I32(0x9E37_79B9u32.wrapping_mul(j64 as u32) as i32),
        ValType::I64 => Val::I64(0x9E37_79B9_7F4A_7C15u64.wrapping_mul(j64) as i64),
        ValType::F32 => Val::F32(((j as f32 - 7.0) * 1.25 + 0.5).to_bits()),
        ValType::F64 => Val::F64(((j as f64 - 9.0) * 1e9 + 0.375).to_bits()),
        ValType::V128 => Val::V128(
            (0x0123_4567_89ab_cdef_u128 * j as u128 + 0x5a5a) << 64
                | 0xfedc_ba98_7654_3210_u128.wrapping_mul(j as u128 + 3) as u64 as u128,
        ),
        _ => unreachable!(),
    }
}

fn const_of(v: Val) -> String {
    match v {
        Val::I32(x) => format!("i32.const {x}"),
        Val::I64(x) => format!("i64.const {x}"),
        Val::F32(b) => format!("f32.const {:?}", f32::from_bits(b)),
        Val::F64(b) => format!("f64.const {:?}", f64::from_bits(b)),
        Val::V128(v) => format!(
            "v128.const i64x2 {} {}",
            v as u64 as i64,
            (v >> 64) as u64 as i64
        ),
        _ => unreachable!(),
    }
}

/// The callee's results for `params`: result k folds every parameter (a
/// v128 as its two 64-bit lanes); a v128 result is `[acc, !acc]`.
fn expected(ty: &FuncType, params: &[Val]) -> Vec<Val> {
    (0..ty.results().len())
        .map(|k| {
            let mut acc = k as i64 + 1;
            for p in params {
                let v = match *p {
                    Val::I32(x) => x as i64,
                    Val::I64(x) => x,
                    Val::F32(b) => b as i64,
                    Val::F64(b) => b as i64,
                    Val::V128(v) => {
                        acc = acc.wrapping_mul(31).wrapping_add(v as u64 as i64);
                        (v >> 64) as u64 as i64
                    }
                    _ => unreachable!(),
                };
                acc = acc.wrapping_mul(31).wrapping_add(v);
            }
            match ty.results()[k] {
                ValType::I32 => Val::I32(acc as i32),
                ValType::I64 => Val::I64(acc),
                ValType::F32 => Val::F32((((acc >> 40) as i32) as f32).to_bits()),
                ValType::F64 => Val::F64(((acc >> 11) as f64).to_bits()),
                ValType::V128 => Val::V128((!acc as u64 as u128) << 64 | acc as u64 as u128),
                _ => unreachable!(),
            }
        })
        .collect()
}

/// The callee body in wat: the same formula as [`expected`].
fn callee_body(ty: &FuncType) -> String {
    let mut s = String::new();
    for (k, &rt) in ty.results().iter().enumerate() {
        s += &format!("    i64.const {}\n", k + 1);
        for (j, &pt) in ty.params().iter().enumerate() {
            let widen = match pt {
                ValType::I32 => "i64.extend_i32_s",
                ValType::I64 => "",
                ValType::F32 => "i32.reinterpret_f32 i64.extend_i32_u",
                ValType::F64 => "i64.reinterpret_f64",
                ValType::V128 => {
                    s += &format!(
                        "    i64.const 31 i64.mul local.get {j} i64x2.extract_lane 0 i64.add\n"
                    );
                    "i64x2.extract_lane 1"
                }
                _ => unreachable!(),
            };
            s += &format!("    i64.const 31 i64.mul local.get {j} {widen} i64.add\n");
        }
        s += match rt {
            ValType::I32 => "    i32.wrap_i64\n",
            ValType::I64 => "",
            ValType::F32 => "    i64.const 40 i64.shr_s i32.wrap_i64 f32.convert_i32_s\n",
            ValType::F64 => "    i64.const 11 i64.shr_s f64.convert_i64_s\n",
            ValType::V128 => "    i64x2.splat v128.const i64x2 0 -1 v128.xor\n",
            _ => unreachable!(),
        };
    }
    s
}

/// Call targets: (export-free name, function index, table slot).
const TARGETS: [(&str, u32); 5] = [
    ("callee_b", 3),
    ("callee_o", 4),
    ("host", 0),
    ("reenter_b", 1),
    ("reenter_o", 2),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mech {
    Call,
    CallIndirect,
    /// The caller calls a function of its own tier that tail-calls the
    /// target: `Grow` from a function with no stack arguments (the target's
    /// stack arguments need more room than it has), `Shrink` from one with
    /// [`SHRINK_PARAMS`] i64 parameters (more than any target has).
    ReturnCallGrow,
    ReturnCallShrink,
    ReturnCallIndirectGrow,
    ReturnCallIndirectShrink,
}

const MECHS: [Mech; 6] = [
    Mech::Call,
    Mech::CallIndirect,
    Mech::ReturnCallGrow,
    Mech::ReturnCallShrink,
    Mech::ReturnCallIndirectGrow,
    Mech::ReturnCallIndirectShrink,
];

/// Parameters of the tail callers of the `Shrink` kinds.
const SHRINK_PARAMS: usize = 30;

impl Mech {
    fn name(self) -> &'static str {
        match self {
            Mech::Call => "call",
            Mech::CallIndirect => "ind",
            Mech::ReturnCallGrow => "rcgrow",
            Mech::ReturnCallShrink => "rcshrink",
            Mech::ReturnCallIndirectGrow => "rcigrow",
            Mech::ReturnCallIndirectShrink => "rcishrink",
        }
    }

    fn is_tail(self) -> bool {
        !matches!(self, Mech::Call | Mech::CallIndirect)
    }

    fn indirect(self) -> bool {
        matches!(
            self,
            Mech::CallIndirect | Mech::ReturnCallIndirectGrow | Mech::ReturnCallIndirectShrink
        )
    }

    /// Parameters of the tail caller (`Shrink`: that many i64).
    fn tail_params(self) -> usize {
        match self {
            Mech::ReturnCallShrink | Mech::ReturnCallIndirectShrink => SHRINK_PARAMS,
            _ => 0,
        }
    }
}

/// Name of the caller in `tier` ("b"/"o") that reaches target `t` with `mech`.
fn caller_name(tier: &str, t: usize, mech: Mech) -> String {
    format!("{}_{tier}_to_{}", mech.name(), TARGETS[t].0)
}

/// The module for one signature. Imports 0..3 are host functions; defined
/// function 0 (baseline) and 1 (optimized) are the callees; then callers in
/// pairs: even defined index = baseline caller, odd = optimized caller.
fn module_text(ty: &FuncType) -> String {
    let params: String = ty
        .params()
        .iter()
        .map(|t| format!(" {}", wat_type(*t)))
        .collect();
    let results: String = ty
        .results()
        .iter()
        .map(|t| format!(" {}", wat_type(*t)))
        .collect();
    let mut s = format!("(module\n  (type $S (func (param{params}) (result{results})))\n");
    s += "  (import \"host\" \"f\" (func (type $S)))\n";
    s += "  (import \"host\" \"reenter_b\" (func (type $S)))\n";
    s += "  (import \"host\" \"reenter_o\" (func (type $S)))\n";
    let body = callee_body(ty);
    s += &format!("  (func (export \"callee_b\") (type $S)\n{body}  )\n");
    s += &format!("  (func (export \"callee_o\") (type $S)\n{body}  )\n");
    let args: String = ty
        .params()
        .iter()
        .enumerate()
        .map(|(j, &t)| format!("    {}\n", const_of(arg(j, t))))
        .collect();
    // The tail callers (defined after the callers, in the same tier order).
    let mut tail_callers = String::new();
    for mech in MECHS {
        for (t, target) in TARGETS.iter().enumerate() {
            for tier in ["b", "o"] {
                let (instr, table) = match mech.indirect() {
                    false => ("call", target.1.to_string()),
                    true => ("call_indirect", "(type $S)".to_string()),
                };
                let slot = if mech.indirect() {
                    format!("    i32.const {t}\n")
                } else {
                    String::new()
                };
                let call = if mech.is_tail() {
                    let name = format!("$tail_{}", caller_name(tier, t, mech));
                    let n = mech.tail_params();
                    let tparams: String = " i64".repeat(n);
                    tail_callers += &format!(
                        "  (func {name} (param{tparams}) (result{results})\n\
                         {args}{slot}    return_{instr} {table}\n  )\n"
                    );
                    let targs: String = (0..n)
                        .map(|j| format!("    i64.const {}\n", j * 7 + 1))
                        .collect();
                    format!("{targs}    call {name}\n")
                } else {
                    format!("{slot}    {instr} {table}\n")
                };
                s += &format!(
                    "  (func (export \"{}\") (param i64 f64 i32) (result i64 f64 i32{results})\n\
                     \x20   local.get 0 i64.const 3 i64.mul\n\
                     \x20   local.get 1 f64.const 1 f64.add\n\
                     \x20   local.get 2 i32.const 0x55 i32.xor\n\
                     {}{call}  )\n",
                    caller_name(tier, t, mech),
                    if mech.is_tail() { "" } else { &args },
                );
            }
        }
    }
    s += &tail_callers;
    // Table slot t holds target t.
    let elems: String = TARGETS.iter().map(|(_, f)| format!(" {f}")).collect();
    s += &format!(
        "  (table {} funcref)\n  (elem (i32.const 0) func{elems})\n)\n",
        TARGETS.len()
    );
    s
}

struct Setup {
    store: Store<()>,
    instance: Instance,
    module: Module,
}

fn instantiate(engine: &Engine, ty: &FuncType) -> Setup {
    let text = module_text(ty);
    let module = Module::new(engine, &text).unwrap_or_else(|e| panic!("{ty}: {e}\n{text}"));
    let mut store = Store::new(engine, ());
    let compute = ty.clone();
    let host = Func::new(&mut store, ty.clone(), move |_c, params, results| {
        results.copy_from_slice(&expected(&compute, params));
        Ok(())
    })
    .unwrap();
    let reenter = |store: &mut Store<()>, target: &'static str| {
        Func::new(store, ty.clone(), move |mut caller, params, results| {
            let Some(Extern::Func(f)) = caller.get_export(target) else {
                return Err(Trap::host("callee export missing"));
            };
            f.call(caller.store(), params, results)
                .map_err(|e| Trap::host(e.to_string()))
        })
        .unwrap()
    };
    let rb = reenter(&mut store, "callee_b");
    let ro = reenter(&mut store, "callee_o");
    let instance = Instance::new(
        &mut store,
        &module,
        &[Extern::Func(host), Extern::Func(rb), Extern::Func(ro)],
    )
    .unwrap_or_else(|e| panic!("{ty}: {e}"));
    Setup {
        store,
        instance,
        module,
    }
}

fn mixed_engine() -> Engine {
    Engine::new(Config {
        strategy: Strategy::Mixed,
        ..Config::default()
    })
    .unwrap()
}

fn same(a: &[Val], b: &[Val]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.ty() == y.ty() && x.to_raw128() == y.to_raw128())
}

/// Calls every caller using `mech` (restricted to `targets`) and checks its results.
fn check_callers(mech: Mech, targets: &[usize]) {
    check_callers_in(&mixed_engine(), &signatures(), mech, targets);
}

fn check_callers_in(engine: &Engine, sigs: &[FuncType], mech: Mech, targets: &[usize]) {
    let keep = [
        Val::I64(0x1234_5678_9abc_def0),
        Val::F64(2.5f64.to_bits()),
        Val::I32(-77),
    ];
    let keep_out = [
        Val::I64(0x1234_5678_9abc_def0i64.wrapping_mul(3)),
        Val::F64(3.5f64.to_bits()),
        Val::I32(-77 ^ 0x55),
    ];
    let mut calls = 0;
    for ty in sigs {
        let mut s = instantiate(engine, ty);
        let args: Vec<Val> = ty
            .params()
            .iter()
            .enumerate()
            .map(|(j, &t)| arg(j, t))
            .collect();
        let mut want = keep_out.to_vec();
        want.extend(expected(ty, &args));
        for &t in targets {
            for tier in ["b", "o"] {
                let name = caller_name(tier, t, mech);
                let f = s.instance.get_func(&s.store, &name).unwrap();
                let mut out: Vec<Val> = want.iter().map(|v| Val::default_for(v.ty())).collect();
                f.call(&mut s.store, &keep, &mut out)
                    .unwrap_or_else(|e| panic!("{name} {ty}: {e}"));
                assert!(
                    same(&out, &want),
                    "{name} {ty}:\n got {out:?}\nwant {want:?}"
                );
                calls += 1;
            }
        }
    }
    assert_eq!(calls, sigs.len() * targets.len() * 2);
}

#[test]
fn layout_puts_callers_in_both_tiers() {
    let engine = mixed_engine();
    let ty = FuncType::new([ValType::I32], [ValType::I64, ValType::F32]);
    let s = instantiate(&engine, &ty);
    assert_eq!(s.module.func_tier(3), Tier::Baseline);
    assert_eq!(s.module.func_tier(4), Tier::Optimized);
    // Callers, then tail callers, follow the callees in (baseline,
    // optimized) pairs.
    let tail_mechs = MECHS.iter().filter(|m| m.is_tail()).count();
    for k in 0..(2 * (MECHS.len() + tail_mechs) * TARGETS.len()) as u32 {
        let want = if k % 2 == 0 {
            Tier::Baseline
        } else {
            Tier::Optimized
        };
        assert_eq!(s.module.func_tier(5 + k), want);
    }
}

#[test]
fn signatures_cover_the_shapes() {
    let sigs = signatures();
    assert!(sigs
        .iter()
        .any(|t| t.params().len() == 20 && t.results().len() == 5));
    for r in 0..=5 {
        assert!(sigs.iter().any(|t| t.results().len() == r), "{r} results");
    }
    // More than 6 integer and more than 8 float arguments: stack arguments.
    assert!(sigs
        .iter()
        .any(|t| t.params().iter().filter(|p| !p.is_float()).count() > 6));
    assert!(sigs
        .iter()
        .any(|t| t.params().iter().filter(|p| p.is_float()).count() > 8));
}

#[test]
fn return_call_between_all_tier_pairs() {
    // Into wasm callees of both tiers, host functions and re-entry.
    check_callers(Mech::ReturnCallGrow, &[0, 1, 2, 3, 4]);
    check_callers(Mech::ReturnCallShrink, &[0, 1, 2, 3, 4]);
}

#[test]
fn return_call_indirect_between_all_tier_pairs() {
    check_callers(Mech::ReturnCallIndirectGrow, &[0, 1, 2, 3, 4]);
    check_callers(Mech::ReturnCallIndirectShrink, &[0, 1, 2, 3, 4]);
}

#[test]
fn call_between_all_tier_pairs() {
    check_callers(Mech::Call, &[0, 1]);
}

#[test]
fn call_indirect_between_all_tier_pairs() {
    check_callers(Mech::CallIndirect, &[0, 1]);
}

#[test]
fn wasm_to_host_from_both_tiers() {
    check_callers(Mech::Call, &[2]);
    check_callers(Mech::CallIndirect, &[2]);
}

#[test]
fn wasm_to_host_to_wasm_reentry() {
    check_callers(Mech::Call, &[3, 4]);
    check_callers(Mech::CallIndirect, &[3, 4]);
}

#[test]
fn host_to_wasm_in_both_tiers() {
    for strategy in [Strategy::Mixed, Strategy::Optimized, Strategy::Baseline] {
        let engine = Engine::new(Config {
            strategy,
            ..Config::default()
        })
        .unwrap();
        for ty in &signatures() {
            let mut s = instantiate(&engine, ty);
            let args: Vec<Val> = ty
                .params()
                .iter()
                .enumerate()
                .map(|(j, &t)| arg(j, t))
                .collect();
            let want = expected(ty, &args);
            for name in ["callee_b", "callee_o"] {
                let f = s.instance.get_func(&s.store, name).unwrap();
                let mut out: Vec<Val> = want.iter().map(|v| Val::default_for(v.ty())).collect();
                f.call(&mut s.store, &args, &mut out)
                    .unwrap_or_else(|e| panic!("{strategy:?} {name} {ty}: {e}"));
                assert!(
                    same(&out, &want),
                    "{strategy:?} {name} {ty}:\n got {out:?}\nwant {want:?}"
                );
            }
        }
    }
}

/// Signatures with `v128` parameters and results among scalars: more than
/// eight xmm-class parameters (vectors on the stack, in aligned pairs, after
/// an odd number of 8-byte slots too) and up to four results (the results
/// area, where a v128 takes 16 bytes).
fn v128_signatures() -> Vec<FuncType> {
    let patterns: [&[ValType]; 3] = [
        &[ValType::V128],
        &[ValType::V128, ValType::I32, ValType::F64],
        &[
            ValType::I64,
            ValType::V128,
            ValType::F32,
            ValType::I32,
            ValType::V128,
        ],
    ];
    let results: [&[ValType]; 4] = [
        &[ValType::V128],
        &[],
        &[ValType::I32, ValType::V128, ValType::F64],
        &[ValType::V128, ValType::F32, ValType::V128, ValType::I64],
    ];
    let mut out = Vec::new();
    for n in 0..=16usize {
        for (p, pat) in patterns.iter().enumerate() {
            let params: Vec<ValType> = (0..n).map(|j| pat[j % pat.len()]).collect();
            out.push(FuncType::new(params, results[(n + p) % 4].iter().copied()));
        }
    }
    out
}

fn optimized_engine() -> Engine {
    Engine::new(Config {
        strategy: Strategy::Optimized,
        ..Config::default()
    })
    .unwrap()
}

#[test]
fn v128_signatures_cover_the_shapes() {
    let sigs = v128_signatures();
    let xmm = |t: &FuncType| t.params().iter().filter(|p| p.in_xmm()).count();
    assert!(sigs
        .iter()
        .any(|t| xmm(t) > 8 && t.params()[8..].contains(&ValType::V128)));
    assert!(sigs
        .iter()
        .any(|t| t.results().iter().filter(|r| **r == ValType::V128).count() == 2));
    assert!(sigs.iter().any(|t| t.results() == [ValType::V128]));
}

#[test]
fn v128_between_optimized_functions_and_the_host() {
    let engine = optimized_engine();
    let sigs = v128_signatures();
    for mech in [Mech::Call, Mech::CallIndirect] {
        check_callers_in(&engine, &sigs, mech, &[0, 1, 2, 3, 4]);
    }
}

#[test]
fn v128_from_the_host_into_optimized_code() {
    let engine = optimized_engine();
    for ty in &v128_signatures() {
        let mut s = instantiate(&engine, ty);
        let args: Vec<Val> = ty
            .params()
            .iter()
            .enumerate()
            .map(|(j, &t)| arg(j, t))
            .collect();
        let want = expected(ty, &args);
        let f = s.instance.get_func(&s.store, "callee_o").unwrap();
        let mut out: Vec<Val> = want.iter().map(|v| Val::default_for(v.ty())).collect();
        f.call(&mut s.store, &args, &mut out)
            .unwrap_or_else(|e| panic!("{ty}: {e}"));
        assert!(same(&out, &want), "{ty}:\n got {out:?}\nwant {want:?}");
    }
}

#[test]
fn v128_between_all_tier_pairs() {
    let engine = mixed_engine();
    let sigs = v128_signatures();
    for mech in MECHS {
        check_callers_in(&engine, &sigs, mech, &[0, 1, 2, 3, 4]);
    }
}

#[test]
fn v128_from_the_host_into_both_tiers() {
    for strategy in [Strategy::Mixed, Strategy::Baseline] {
        let engine = Engine::new(Config {
            strategy,
            ..Config::default()
        })
        .unwrap();
        for ty in &v128_signatures() {
            let mut s = instantiate(&engine, ty);
            let args: Vec<Val> = ty
                .params()
                .iter()
                .enumerate()
                .map(|(j, &t)| arg(j, t))
                .collect();
            let want = expected(ty, &args);
            for name in ["callee_b", "callee_o"] {
                let f = s.instance.get_func(&s.store, name).unwrap();
                let mut out: Vec<Val> = want.iter().map(|v| Val::default_for(v.ty())).collect();
                f.call(&mut s.store, &args, &mut out)
                    .unwrap_or_else(|e| panic!("{strategy:?} {name} {ty}: {e}"));
                assert!(
                    same(&out, &want),
                    "{strategy:?} {name} {ty}:\n got {out:?}\nwant {want:?}"
                );
            }
        }
    }
}
