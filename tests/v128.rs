//! `v128` through the runtime. Parameters and results through the one calling
//! convention: from the
//! host into wasm (entry trampoline), wasm → wasm with `call` and
//! `call_indirect`, and wasm → host functions (host trampoline), with enough
//! vector parameters that some go on the stack (16-byte aligned pairs of
//! slots), mixed with scalars, and one, two or more results (the results
//! area); `v128` globals from wasm and from the host; traps of vector loads
//! and stores at the end of memory, with the trapping instruction's offset.
//! Runs in the optimized, baseline and debug tiers.
//!
//! Every callee folds all its parameters into its results with a lane-wise
//! formula the test recomputes in Rust, so a lost, swapped, misaligned or
//! truncated value changes the answer.

use wdb::*;

/// The tiers every test here runs in.
const STRATEGIES: [Strategy; 3] = [Strategy::Optimized, Strategy::Baseline, Strategy::Debug];

/// The signatures under test: `n` parameters cycling through `pattern`,
/// results from `RESULTS`.
fn signatures() -> Vec<FuncType> {
    let patterns: [&[ValType]; 3] = [
        &[ValType::V128],
        &[ValType::V128, ValType::I32, ValType::F64],
        &[ValType::I64, ValType::V128, ValType::F32, ValType::V128],
    ];
    let results: [&[ValType]; 4] = [
        &[ValType::V128],
        &[],
        &[ValType::I32, ValType::V128, ValType::F64],
        &[ValType::V128, ValType::V128, ValType::I64],
    ];
    let mut out = Vec::new();
    for n in 0..=13usize {
        for (p, pat) in patterns.iter().enumerate() {
            let params: Vec<ValType> = (0..n).map(|j| pat[j % pat.len()]).collect();
            let res = results[(n + p) % results.len()];
            out.push(FuncType::new(params, res.iter().copied()));
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
        ValType::V128 => "v128",
        _ => unreachable!("no reference types here"),
    }
}

fn sig_text(ty: &FuncType) -> String {
    let mut s = String::new();
    for p in ty.params() {
        s += &format!(" (param {})", wat_type(*p));
    }
    for r in ty.results() {
        s += &format!(" (result {})", wat_type(*r));
    }
    s
}

/// Wasm that turns local `j` of type `t` into an i64x2 and folds it into
/// local `acc`: `acc = acc * 31 + x` lane-wise.
fn fold_param(j: usize, t: ValType, acc: usize) -> String {
    let x = match t {
        ValType::V128 => format!("local.get {j}"),
        ValType::I32 => format!("local.get {j} i64.extend_i32_u i64x2.splat"),
        ValType::I64 => format!("local.get {j} i64x2.splat"),
        ValType::F32 => format!("local.get {j} i32.reinterpret_f32 i64.extend_i32_u i64x2.splat"),
        ValType::F64 => format!("local.get {j} i64.reinterpret_f64 i64x2.splat"),
        _ => unreachable!(),
    };
    format!(
        "local.get {acc} i64x2.splat (i64.const 31) i64x2.mul {x} i64x2.add local.set {acc}\n",
        acc = acc
    )
    .replace("i64x2.splat (i64.const 31)", "(i64x2.splat (i64.const 31))")
}

/// Wasm pushing result `k` of type `t` from the fold in local `acc`.
fn result_of(k: usize, t: ValType, acc: usize) -> String {
    let bump = format!(
        "local.get {acc} (i64x2.splat (i64.const {})) i64x2.add",
        k + 1
    );
    match t {
        ValType::V128 => bump,
        ValType::I64 => format!("{bump} i64x2.extract_lane 1"),
        ValType::I32 => format!("{bump} i64x2.extract_lane 0 i32.wrap_i64"),
        ValType::F64 => format!("{bump} i64x2.extract_lane 1 f64.reinterpret_i64"),
        _ => unreachable!(),
    }
}

/// The callee: folds its parameters, returns the results.
fn callee(ty: &FuncType) -> String {
    let n = ty.params().len();
    let mut body = String::new();
    for (j, t) in ty.params().iter().enumerate() {
        body += &fold_param(j, *t, n);
    }
    for (k, t) in ty.results().iter().enumerate() {
        body += &result_of(k, *t, n);
        body.push('\n');
    }
    format!("(func{} (local v128)\n{body})", sig_text(ty))
}

// ---- the same formula in Rust -------------------------------------------------------

fn lanes(v: u128) -> [u64; 2] {
    [v as u64, (v >> 64) as u64]
}

fn fold(params: &[Val]) -> [u64; 2] {
    let mut acc = [0u64; 2];
    for p in params {
        let x = match *p {
            Val::V128(v) => lanes(v),
            Val::I32(v) => [v as u32 as u64; 2],
            Val::I64(v) => [v as u64; 2],
            Val::F32(b) => [b as u64; 2],
            Val::F64(b) => [b; 2],
            _ => unreachable!(),
        };
        for l in 0..2 {
            acc[l] = acc[l].wrapping_mul(31).wrapping_add(x[l]);
        }
    }
    acc
}

fn expected(ty: &FuncType, params: &[Val]) -> Vec<Val> {
    let acc = fold(params);
    ty.results()
        .iter()
        .enumerate()
        .map(|(k, t)| {
            let b = [
                acc[0].wrapping_add(k as u64 + 1),
                acc[1].wrapping_add(k as u64 + 1),
            ];
            match t {
                ValType::V128 => Val::V128((b[1] as u128) << 64 | b[0] as u128),
                ValType::I64 => Val::I64(b[1] as i64),
                ValType::I32 => Val::I32(b[0] as u32 as i32),
                ValType::F64 => Val::F64(b[1]),
                _ => unreachable!(),
            }
        })
        .collect()
}

fn args(ty: &FuncType, seed: u64) -> Vec<Val> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    ty.params()
        .iter()
        .map(|t| match t {
            ValType::V128 => Val::V128((next() as u128) << 64 | next() as u128),
            ValType::I32 => Val::I32(next() as i32),
            ValType::I64 => Val::I64(next() as i64),
            ValType::F32 => Val::F32(next() as u32 & 0x3fff_ffff),
            ValType::F64 => Val::F64(next() & 0x3fff_ffff_ffff_ffff),
            _ => unreachable!(),
        })
        .collect()
}

fn same(a: &[Val], b: &[Val]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_raw128() == y.to_raw128())
}

/// A module with, per signature `i`: `callee_i`, `host_i` (imported),
/// `direct_i` (calls the callee), `indirect_i` (through the table) and
/// `via_host_i` (calls the import).
fn module_text(sigs: &[FuncType]) -> String {
    let mut m = String::from("(module\n");
    for (i, ty) in sigs.iter().enumerate() {
        m += &format!("(type $t{i} (func{}))\n", sig_text(ty));
        m += &format!("(import \"host\" \"f{i}\" (func $host{i} (type $t{i})))\n");
    }
    m += &format!("(table {} funcref)\n", sigs.len());
    for (i, ty) in sigs.iter().enumerate() {
        let n = ty.params().len();
        let gets: String = (0..n).map(|j| format!("local.get {j} ")).collect();
        m += &callee(ty).replacen("(func", &format!("(func $callee{i}"), 1);
        m += &format!("\n(elem (i32.const {i}) $callee{i})\n");
        m += &format!(
            "(func (export \"callee_{i}\") (type $t{i}) {gets} call $callee{i})\n\
             (func (export \"direct_{i}\") (type $t{i}) {gets} call $callee{i})\n\
             (func (export \"indirect_{i}\") (type $t{i}) {gets} (i32.const {i}) call_indirect (type $t{i}))\n\
             (func (export \"via_host_{i}\") (type $t{i}) {gets} call $host{i})\n"
        );
    }
    m + ")"
}

#[test]
fn v128_crosses_every_boundary_of_the_calling_convention() {
    for strategy in STRATEGIES {
        v128_crosses_every_boundary_of_the_calling_convention_in(strategy);
    }
}

fn v128_crosses_every_boundary_of_the_calling_convention_in(strategy: Strategy) {
    eprintln!("v128_crosses_every_boundary_of_the_calling_convention: {strategy:?}");
    let sigs = signatures();
    let engine = Engine::new(Config {
        strategy,
        ..Config::default()
    })
    .unwrap();
    let text = module_text(&sigs);
    let module = Module::new(&engine, &text).unwrap_or_else(|e| panic!("{e}"));
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new();
    for (i, ty) in sigs.iter().enumerate() {
        let t = ty.clone();
        let f = Func::new(&mut store, ty.clone(), move |_, params, results| {
            results.copy_from_slice(&expected(&t, params));
            Ok(())
        })
        .unwrap();
        linker.define("host", &format!("f{i}"), Extern::Func(f));
    }
    let inst = linker.instantiate(&mut store, &module).unwrap();
    let mut checked = 0;
    for (i, ty) in sigs.iter().enumerate() {
        for (e, name) in ["callee", "direct", "indirect", "via_host"]
            .iter()
            .enumerate()
        {
            let f = inst
                .get_func(&store, &format!("{name}_{i}"))
                .unwrap_or_else(|| panic!("no {name}_{i}"));
            let a = args(ty, (i * 4 + e) as u64 + 1);
            let mut got: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
            f.call(&mut store, &a, &mut got)
                .unwrap_or_else(|err| panic!("{name}_{i} {ty}: {err}"));
            let want = expected(ty, &a);
            assert!(
                same(&got, &want),
                "{name}_{i} {ty}: got {got:?}, want {want:?}"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, sigs.len() * 4);
}

#[test]
fn v128_globals_and_host_values_round_trip() {
    for strategy in STRATEGIES {
        v128_globals_and_host_values_round_trip_in(strategy);
    }
}

fn v128_globals_and_host_values_round_trip_in(strategy: Strategy) {
    eprintln!("v128_globals_and_host_values_round_trip: {strategy:?}");
    let engine = Engine::new(Config {
        strategy,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (global $g (export "g") (mut v128) (v128.const i32x4 1 2 3 4))
            (global $c (export "c") v128 (v128.const i64x2 -1 7))
            (func (export "swap") (param v128) (result v128)
              global.get $g
              local.get 0
              global.set $g))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Linker::new().instantiate(&mut store, &module).unwrap();
    let g = inst.get_global(&store, "g").unwrap();
    let c = inst.get_global(&store, "c").unwrap();
    let v1234 = 4u128 << 96 | 3u128 << 64 | 2u128 << 32 | 1;
    assert_eq!(g.get(&store).v128(), Some(v1234));
    assert_eq!(c.get(&store).v128(), Some(7u128 << 64 | u64::MAX as u128));
    let swap = inst.get_func(&store, "swap").unwrap();
    let mut out = [Val::V128(0)];
    let new = 0x0123_4567_89ab_cdef_fedc_ba98_7654_3210u128;
    swap.call(&mut store, &[Val::V128(new)], &mut out).unwrap();
    assert_eq!(out[0].v128(), Some(v1234));
    assert_eq!(g.get(&store).v128(), Some(new));
    g.set(&mut store, Val::V128(5)).unwrap();
    swap.call(&mut store, &[Val::V128(6)], &mut out).unwrap();
    assert_eq!(out[0].v128(), Some(5));
}

/// Offset of the first operator of defined function `defined` that `pred` accepts.
fn op_offset(bytes: &[u8], defined: usize, pred: fn(&wasmparser::Operator) -> bool) -> u32 {
    let mut n = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
            if n == defined {
                let mut r = body.get_operators_reader().unwrap();
                while !r.eof() {
                    let (op, off) = r.read_with_offset().unwrap();
                    if pred(&op) {
                        return off as u32;
                    }
                }
            }
            n += 1;
        }
    }
    panic!("no matching operator in function {defined}");
}

#[test]
fn vector_accesses_trap_at_the_end_of_memory() {
    for strategy in STRATEGIES {
        vector_accesses_trap_at_the_end_of_memory_in(strategy);
    }
}

fn vector_accesses_trap_at_the_end_of_memory_in(strategy: Strategy) {
    eprintln!("vector_accesses_trap_at_the_end_of_memory: {strategy:?}");
    use wasmparser::Operator as O;
    let wat = r#"(module (memory 1)
      (func (export "ld") (param i32) (result v128) local.get 0 v128.load)
      (func (export "st") (param i32) local.get 0 (v128.const i32x4 1 2 3 4) v128.store)
      (func (export "ld_lane") (param i32) (result v128)
        local.get 0 (v128.const i64x2 0 0) v128.load64_lane 1)
      (func (export "st_lane") (param i32)
        local.get 0 (v128.const i32x4 5 6 7 8) v128.store32_lane 3)
      (func (export "ld_splat") (param i32) (result v128) local.get 0 v128.load32_splat)
      (func (export "ld_ext") (param i32) (result v128) local.get 0 v128.load8x8_s))"#;
    let engine = Engine::new(Config {
        strategy,
        ..Config::default()
    })
    .unwrap();
    let bytes = wat::parse_str(wat).unwrap();
    let module = Module::new(&engine, &bytes).unwrap();
    let mut store = Store::new(&engine, ());
    let inst = Linker::new().instantiate(&mut store, &module).unwrap();
    const PAGE: i32 = 65536;
    let mut call = |name: &str, addr: i32| -> Result<Option<u128>> {
        let f = inst.get_func(&store, name).unwrap();
        let ty = f.ty(&store).unwrap();
        let mut out: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        f.call(&mut store, &[Val::I32(addr)], &mut out)?;
        Ok(out.first().and_then(|v| v.v128()))
    };
    // In bounds: the last 16 bytes.
    call("st", PAGE - 16).unwrap();
    let v1234 = 4u128 << 96 | 3u128 << 64 | 2u128 << 32 | 1;
    assert_eq!(call("ld", PAGE - 16).unwrap(), Some(v1234));
    assert_eq!(
        call("ld_splat", PAGE - 4).unwrap(),
        Some(4u128 * 0x0000_0001_0000_0001_0000_0001_0000_0001)
    );
    type Case = (&'static str, i32, fn(&O) -> bool, usize);
    let cases: [Case; 6] = [
        ("ld", PAGE - 15, |o| matches!(o, O::V128Load { .. }), 0),
        ("st", PAGE - 8, |o| matches!(o, O::V128Store { .. }), 1),
        (
            "ld_lane",
            PAGE - 7,
            |o| matches!(o, O::V128Load64Lane { .. }),
            2,
        ),
        (
            "st_lane",
            PAGE - 3,
            |o| matches!(o, O::V128Store32Lane { .. }),
            3,
        ),
        (
            "ld_splat",
            PAGE - 2,
            |o| matches!(o, O::V128Load32Splat { .. }),
            4,
        ),
        (
            "ld_ext",
            PAGE - 4,
            |o| matches!(o, O::V128Load8x8S { .. }),
            5,
        ),
    ];
    for (name, addr, pred, defined) in cases {
        for a in [addr, PAGE, -1] {
            let e = call(name, a).expect_err(name);
            let t = e
                .as_trap()
                .unwrap_or_else(|| panic!("{name}({a}): not a trap: {e}"));
            assert_eq!(t.code, TrapCode::MemoryOutOfBounds, "{name}({a}): {t}");
            assert_eq!(
                t.wasm_offset,
                Some(op_offset(&bytes, defined, pred)),
                "{name}({a}): offset of the trapping instruction"
            );
        }
    }
    // A trapping store wrote nothing; the instance keeps working.
    assert_eq!(call("ld", PAGE - 16).unwrap(), Some(v1234));
}
