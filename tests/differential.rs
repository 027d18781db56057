//! Differential testing against the `wasmi` interpreter on modules generated
//! by `wasm-smith` (Wasm 2.0 without SIMD, no imports), in the baseline, the
//! optimized and the mixed tier: instantiation outcome, then every exported
//! function called with a few deterministic argument sets, comparing results
//! (floats by bits, NaNs by NaN-ness) and traps (trap or not, and the kind).
//!
//! A fixed set of seeds runs every time (`WDB_DIFF_CASES` raises the count,
//! `WDB_DIFF_SEED` shifts the first seed, `WDB_DIFF_DUMP=DIR` saves the
//! modules, `WDB_DIFF_VERBOSE` prints what each case did).
//!
//! Generated code may loop forever: wasmi runs first with fuel; a call that
//! exhausts it is dropped from the plan and both engines continue on a fresh
//! instance (wdb never runs that call). wdb runs with a watchdog that
//! interrupts after a few seconds as a safety net. Stack exhaustion depends
//! on each engine's limits, so a case where only one engine runs out of stack
//! ends there without a verdict.
//!
//! The tiers are also compared with each other: a trap must be reported at
//! the same wasm offsets (the whole backtrace) in every tier, which checks the
//! optimizing tier's source locations against the baseline's offset map, and
//! every reported place must be plausible (the innermost offset names an
//! operator that can raise that trap, the outer ones calls).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DEFAULT_CASES: u64 = 1000;
const FUEL: u64 = 2_000_000;
const CALLS_PER_FUNC: usize = 2;
const MAX_CALLS: usize = 24;
const WATCHDOG: Duration = Duration::from_secs(3);

/// A value both engines can produce, compared by bits.
#[derive(Debug, Clone, Copy)]
enum V {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    /// A reference: only null-ness is comparable across engines.
    Ref(bool),
}

impl PartialEq for V {
    fn eq(&self, other: &V) -> bool {
        match (*self, *other) {
            (V::I32(a), V::I32(b)) => a == b,
            (V::I64(a), V::I64(b)) => a == b,
            (V::F32(a), V::F32(b)) => {
                a == b || (f32::from_bits(a).is_nan() && f32::from_bits(b).is_nan())
            }
            (V::F64(a), V::F64(b)) => {
                a == b || (f64::from_bits(a).is_nan() && f64::from_bits(b).is_nan())
            }
            (V::Ref(a), V::Ref(b)) => a == b,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallToNull,
    DivideByZero,
    Overflow,
    BadConversion,
    StackOverflow,
    BadSignature,
    /// A trap the other engine has no name for.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Values(Vec<V>),
    Trap(Kind),
}

/// Parameter types of an export, as both engines see them.
#[derive(Debug, Clone, Copy)]
enum P {
    I32,
    I64,
    F32,
    F64,
    FuncRef,
    ExternRef,
}

struct Call {
    name: String,
    args: Vec<(P, u64)>,
}

/// One step of the plan both engines follow.
enum Step {
    Call(Call, Outcome),
    /// Start over with a fresh instance (wasmi ran out of fuel in a call, so
    /// the state it left is not comparable).
    Reset,
}

struct Reference {
    instantiate: Result<(), Kind>,
    steps: Vec<Step>,
}

// ---- generation -------------------------------------------------------------

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[allow(clippy::field_reassign_with_default)] // wasm_smith::Config has dozens of fields; set the few that matter
fn smith_config() -> wasm_smith::Config {
    let mut c = wasm_smith::Config::default();
    // Wasm 2.0 without SIMD: what wdb implements.
    c.simd_enabled = false;
    c.relaxed_simd_enabled = false;
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.gc_enabled = false;
    c.exceptions_enabled = false;
    c.tail_call_enabled = false;
    c.memory64_enabled = false;
    c.extended_const_enabled = false;
    c.wide_arithmetic_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.compact_imports_enabled = false;
    c.max_memories = 1;
    c.max_tables = 2;
    // Deterministic NaNs wherever they become observable.
    c.canonicalize_nans = true;
    // No imports; every function exported.
    c.max_imports = 0;
    c.export_everything = true;
    c.min_types = 1;
    c.min_funcs = 1;
    // Small modules with bounded memories and tables (so both engines agree
    // on growth: the declared maximum is the only limit).
    c.max_funcs = 12;
    c.max_instructions = 300;
    c.max_globals = 8;
    c.max_types = 16;
    c.max_data_segments = 4;
    c.max_element_segments = 4;
    c.max_elements = 16;
    c.max_exports = 32;
    c.max_nesting_depth = 8;
    c.max_memory32_bytes = 1 << 20;
    c.memory_max_size_required = true;
    c.max_table_elements = 64;
    c.table_max_size_required = true;
    c
}

fn generate(seed: u64) -> Option<Vec<u8>> {
    let mut st = seed;
    let len = 4096 + (splitmix(&mut st) % 12288) as usize;
    let bytes: Vec<u8> = (0..len).map(|_| splitmix(&mut st) as u8).collect();
    let mut u = arbitrary::Unstructured::new(&bytes);
    let module = wasm_smith::Module::new(smith_config(), &mut u).ok()?;
    Some(module.to_bytes())
}

/// Deterministic arguments: edge cases and ordinary values.
fn arg_bits(p: P, pick: u64) -> u64 {
    let i = pick as usize;
    match p {
        P::I32 => [0i32, 1, -1, 7, i32::MIN, i32::MAX, 65536, 100][i % 8] as u32 as u64,
        P::I64 => [0i64, 1, -1, 13, i64::MIN, i64::MAX, 1 << 32, 1000][i % 8] as u64,
        P::F32 => [0.0f32, -0.0, 1.5, -3.25, f32::INFINITY, 1e30, 0.5, 2.0][i % 8].to_bits() as u64,
        P::F64 => [0.0f64, -0.0, 1.5, -3.25, f64::NEG_INFINITY, 1e300, 0.5, 2.0][i % 8].to_bits(),
        P::FuncRef | P::ExternRef => 0,
    }
}

// ---- wasmi ---------------------------------------------------------------------

fn wasmi_kind(e: &wasmi::Error) -> Option<Kind> {
    use wasmi::TrapCode as T;
    if e.to_string().contains("fuel") {
        return None;
    }
    Some(match e.as_trap_code() {
        Some(T::UnreachableCodeReached) => Kind::Unreachable,
        Some(T::MemoryOutOfBounds) => Kind::MemoryOutOfBounds,
        Some(T::TableOutOfBounds) => Kind::TableOutOfBounds,
        Some(T::IndirectCallToNull) => Kind::IndirectCallToNull,
        Some(T::IntegerDivisionByZero) => Kind::DivideByZero,
        Some(T::IntegerOverflow) => Kind::Overflow,
        Some(T::BadConversionToInteger) => Kind::BadConversion,
        Some(T::StackOverflow) => Kind::StackOverflow,
        Some(T::BadSignature) => Kind::BadSignature,
        Some(T::OutOfFuel) => return None,
        Some(_) => Kind::Other,
        // Active segments that do not fit are instantiation errors in wasmi,
        // traps in the spec (and in wdb).
        None => {
            let d = format!("{:?}", e.kind());
            if d.contains("ElementSegmentDoesNotFit") {
                Kind::TableOutOfBounds
            } else if d.contains("OutOfBoundsAccess") {
                Kind::MemoryOutOfBounds
            } else {
                Kind::Other
            }
        }
    })
}

fn p_of_wasmi(t: &wasmi::ValType) -> Option<P> {
    Some(match t {
        wasmi::ValType::I32 => P::I32,
        wasmi::ValType::I64 => P::I64,
        wasmi::ValType::F32 => P::F32,
        wasmi::ValType::F64 => P::F64,
        wasmi::ValType::FuncRef => P::FuncRef,
        wasmi::ValType::ExternRef => P::ExternRef,
        _ => return None,
    })
}

fn to_wasmi(p: P, bits: u64) -> wasmi::Val {
    match p {
        P::I32 => wasmi::Val::I32(bits as u32 as i32),
        P::I64 => wasmi::Val::I64(bits as i64),
        P::F32 => wasmi::Val::F32(wasmi::F32::from_bits(bits as u32)),
        P::F64 => wasmi::Val::F64(wasmi::F64::from_bits(bits)),
        P::FuncRef => wasmi::Val::FuncRef(wasmi::Nullable::Null),
        P::ExternRef => wasmi::Val::ExternRef(wasmi::Nullable::Null),
    }
}

fn from_wasmi(v: &wasmi::Val) -> V {
    match v {
        wasmi::Val::I32(x) => V::I32(*x),
        wasmi::Val::I64(x) => V::I64(*x),
        wasmi::Val::F32(x) => V::F32(x.to_bits()),
        wasmi::Val::F64(x) => V::F64(x.to_bits()),
        wasmi::Val::FuncRef(r) => V::Ref(r.is_null()),
        wasmi::Val::ExternRef(r) => V::Ref(r.is_null()),
        wasmi::Val::V128(_) => V::Ref(false),
    }
}

/// Runs the module in wasmi; None when the case cannot be judged (wasmi
/// rejects it or instantiation runs out of fuel).
fn run_wasmi(wasm: &[u8], seed: u64) -> Option<Reference> {
    let mut config = wasmi::Config::default();
    config.consume_fuel(true);
    let engine = wasmi::Engine::new(&config);
    let module = wasmi::Module::new(&engine, wasm).ok()?;
    let linker = wasmi::Linker::<()>::new(&engine);
    let instantiate = || -> Result<(wasmi::Store<()>, wasmi::Instance), Option<Kind>> {
        let mut store = wasmi::Store::new(&engine, ());
        store.set_fuel(FUEL).map_err(|_| None)?;
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .map_err(|e| wasmi_kind(&e))?;
        Ok((store, instance))
    };
    let (mut store, mut instance) = match instantiate() {
        Ok(si) => si,
        Err(k) => {
            return Some(Reference {
                instantiate: Err(k?),
                steps: Vec::new(),
            })
        }
    };
    let mut steps = Vec::new();
    let mut calls = 0;
    let exports: Vec<(String, wasmi::FuncType)> = module
        .exports()
        .filter_map(|e| match e.ty() {
            wasmi::ExternType::Func(ft) => Some((e.name().to_string(), ft.clone())),
            _ => None,
        })
        .collect();
    let mut st = seed ^ 0xA5A5_5A5A;
    'outer: for round in 0..CALLS_PER_FUNC {
        for (name, ft) in &exports {
            if calls >= MAX_CALLS {
                break 'outer;
            }
            let Some(ps) = ft
                .params()
                .iter()
                .map(p_of_wasmi)
                .collect::<Option<Vec<P>>>()
            else {
                continue;
            };
            let args: Vec<(P, u64)> = ps
                .iter()
                .map(|&p| (p, arg_bits(p, splitmix(&mut st) % 8 + round as u64)))
                .collect();
            let inputs: Vec<wasmi::Val> = args.iter().map(|&(p, b)| to_wasmi(p, b)).collect();
            let mut outputs: Vec<wasmi::Val> = ft
                .results()
                .iter()
                .map(|t| wasmi::Val::default_for_ty(*t))
                .collect();
            let f = instance.get_func(&store, name)?;
            store.set_fuel(FUEL).ok()?;
            let outcome = match f.call(&mut store, &inputs, &mut outputs) {
                Ok(()) => Outcome::Values(outputs.iter().map(from_wasmi).collect()),
                Err(e) => match wasmi_kind(&e) {
                    Some(k) => Outcome::Trap(k),
                    None => {
                        // Out of fuel: the state it left is unknown; start over.
                        (store, instance) = instantiate().ok()?;
                        steps.push(Step::Reset);
                        continue;
                    }
                },
            };
            calls += 1;
            steps.push(Step::Call(
                Call {
                    name: name.clone(),
                    args,
                },
                outcome,
            ));
        }
    }
    Some(Reference {
        instantiate: Ok(()),
        steps,
    })
}

// ---- wdb -------------------------------------------------------------------------

fn wdb_kind(e: &wdb::Error) -> Result<Kind, String> {
    use wdb::TrapCode as T;
    Ok(match e.as_trap_code() {
        Some(T::Unreachable) => Kind::Unreachable,
        Some(T::MemoryOutOfBounds) | Some(T::OutOfBoundsSegment) => Kind::MemoryOutOfBounds,
        Some(T::TableOutOfBounds) => Kind::TableOutOfBounds,
        Some(T::IndirectCallToNull) => Kind::IndirectCallToNull,
        Some(T::IntegerDivideByZero) => Kind::DivideByZero,
        Some(T::IntegerOverflow) => Kind::Overflow,
        Some(T::BadConversionToInteger) => Kind::BadConversion,
        Some(T::StackOverflow) => Kind::StackOverflow,
        Some(T::BadSignature) => Kind::BadSignature,
        Some(T::Interrupted) => return Err("interrupted".into()),
        Some(_) => Kind::Other,
        None => return Err(format!("not a trap: {e}")),
    })
}

fn to_wdb(p: P, bits: u64) -> wdb::Val {
    match p {
        P::I32 => wdb::Val::I32(bits as u32 as i32),
        P::I64 => wdb::Val::I64(bits as i64),
        P::F32 => wdb::Val::F32(bits as u32),
        P::F64 => wdb::Val::F64(bits),
        P::FuncRef => wdb::Val::FuncRef(None),
        P::ExternRef => wdb::Val::ExternRef(None),
    }
}

fn from_wdb(v: &wdb::Val) -> V {
    match *v {
        wdb::Val::I32(x) => V::I32(x),
        wdb::Val::I64(x) => V::I64(x),
        wdb::Val::F32(x) => V::F32(x),
        wdb::Val::F64(x) => V::F64(x),
        wdb::Val::FuncRef(f) => V::Ref(f.is_none()),
        wdb::Val::ExternRef(r) => V::Ref(r.is_none()),
        wdb::Val::V128(_) => panic!("the generated modules use no SIMD"),
    }
}

/// Interrupts the store registered last if its deadline passes.
struct Watchdog {
    slot: Arc<Mutex<Option<(Instant, wdb::InterruptHandle)>>>,
}

impl Watchdog {
    fn new() -> Watchdog {
        let slot: Arc<Mutex<Option<(Instant, wdb::InterruptHandle)>>> = Arc::new(Mutex::new(None));
        let weak = Arc::downgrade(&slot);
        std::thread::spawn(move || {
            while let Some(slot) = weak.upgrade() {
                {
                    let mut s = slot.lock().unwrap();
                    if let Some((deadline, h)) = s.as_ref() {
                        if Instant::now() > *deadline {
                            h.interrupt();
                            *s = None;
                        }
                    }
                }
                drop(slot);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        Watchdog { slot }
    }

    fn arm(&self, h: wdb::InterruptHandle, after: Duration) {
        *self.slot.lock().unwrap() = Some((Instant::now() + after, h));
    }

    fn disarm(&self) {
        *self.slot.lock().unwrap() = None;
    }
}

/// What a comparison concluded.
enum Verdict {
    Agree {
        calls: usize,
    },
    /// Could not be judged past some point (stack limits differ, watchdog).
    Inconclusive {
        calls: usize,
    },
}

/// Where a trap happened: its kind and the backtrace as (function, wasm
/// offset), innermost first.
type TrapPlace = (Kind, Vec<(u32, Option<u32>)>);

fn trap_place(kind: Kind, e: &wdb::Error) -> TrapPlace {
    let frames = e
        .as_trap()
        .map(|t| {
            t.backtrace
                .iter()
                .map(|f| (f.func_index, f.wasm_offset))
                .collect()
        })
        .unwrap_or_default();
    (kind, frames)
}

/// The operator at each code offset of a module (its `Debug` name).
fn operators(wasm: &[u8]) -> std::collections::HashMap<u32, String> {
    let mut ops = std::collections::HashMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            let Ok(mut reader) = body.get_operators_reader() else {
                continue;
            };
            while let Ok((op, offset)) = reader.read_with_offset() {
                let name = format!("{op:?}");
                let name = name.split([' ', '{', '(']).next().unwrap_or("").to_string();
                ops.insert(offset as u32, name);
            }
        }
    }
    ops
}

/// Whether operator `op` can raise a trap of kind `kind`.
fn can_raise(kind: Kind, op: &str) -> bool {
    let trunc = op.contains("Trunc") && !op.contains("Sat") && op.starts_with('I');
    match kind {
        Kind::Unreachable => op == "Unreachable",
        Kind::MemoryOutOfBounds => {
            op.contains("Load")
                || op.contains("Store")
                || matches!(op, "MemoryFill" | "MemoryCopy" | "MemoryInit")
        }
        Kind::TableOutOfBounds => {
            matches!(
                op,
                "TableGet" | "TableSet" | "TableFill" | "TableCopy" | "TableInit" | "CallIndirect"
            )
        }
        Kind::IndirectCallToNull | Kind::BadSignature => op == "CallIndirect",
        Kind::DivideByZero => op.contains("Div") || op.contains("Rem"),
        Kind::Overflow => op.contains("DivS") || trunc,
        Kind::BadConversion => trunc,
        Kind::StackOverflow | Kind::Other => true,
    }
}

/// Whether a trap place names operators that can have caused it: the
/// innermost frame an operator that raises `kind`, the others calls.
fn plausible(place: &TrapPlace, ops: &std::collections::HashMap<u32, String>) -> bool {
    let (kind, frames) = place;
    frames.iter().enumerate().all(|(i, (_, off))| {
        let Some(op) = off.and_then(|o| ops.get(&o)) else {
            return false;
        };
        if i == 0 {
            can_raise(*kind, op)
        } else {
            matches!(op.as_str(), "Call" | "CallIndirect")
        }
    })
}

/// Runs the reference plan in wdb. `places` receives, for each call that
/// trapped (by step number; `usize::MAX` = instantiation), where it trapped.
fn compare_wdb(
    engine: &wdb::Engine,
    wasm: &[u8],
    reference: &Reference,
    dog: &Watchdog,
    what: &str,
    places: &mut Vec<(usize, TrapPlace)>,
) -> Result<Verdict, String> {
    let module = wdb::Module::new(engine, wasm)
        .map_err(|e| format!("{what}: wdb rejects the module: {e}"))?;
    let instantiate = || {
        let mut store = wdb::Store::new(engine, ());
        dog.arm(store.interrupt_handle(), WATCHDOG);
        let inst = wdb::Instance::new(&mut store, &module, &[]);
        dog.disarm();
        inst.map(|i| (store, i))
    };
    let (mut store, mut instance) = match (instantiate(), &reference.instantiate) {
        (Ok(si), Ok(())) => si,
        (Err(e), Err(k)) => {
            let got = wdb_kind(&e).map_err(|m| format!("{what}: instantiation: {m}"))?;
            if got != Kind::StackOverflow {
                places.push((usize::MAX, trap_place(got, &e)));
            }
            if got != *k {
                return Err(format!(
                    "{what}: instantiation traps with {got:?}, wasmi with {k:?}"
                ));
            }
            return Ok(Verdict::Agree { calls: 0 });
        }
        (Ok(_), Err(k)) => {
            if *k == Kind::StackOverflow {
                return Ok(Verdict::Inconclusive { calls: 0 });
            }
            return Err(format!(
                "{what}: instantiation succeeds, wasmi traps with {k:?}"
            ));
        }
        (Err(e), Ok(())) => {
            if wdb_kind(&e) == Ok(Kind::StackOverflow) {
                return Ok(Verdict::Inconclusive { calls: 0 });
            }
            return Err(format!(
                "{what}: instantiation fails ({e}), wasmi instantiates"
            ));
        }
    };
    let mut n = 0;
    for step in &reference.steps {
        let (call, want) = match step {
            Step::Call(c, o) => (c, o),
            Step::Reset => {
                (store, instance) =
                    instantiate().map_err(|e| format!("{what}: re-instantiation fails: {e}"))?;
                continue;
            }
        };
        let f = instance
            .get_func(&store, &call.name)
            .ok_or_else(|| format!("{what}: no export {}", call.name))?;
        let ty = f.ty(&store).ok_or("unknown signature")?;
        let args: Vec<wdb::Val> = call.args.iter().map(|&(p, b)| to_wdb(p, b)).collect();
        let mut out: Vec<wdb::Val> = ty
            .results()
            .iter()
            .map(|t| wdb::Val::default_for(*t))
            .collect();
        dog.arm(store.interrupt_handle(), WATCHDOG);
        let r = f.call(&mut store, &args, &mut out);
        dog.disarm();
        let got = match r {
            Ok(()) => Outcome::Values(out.iter().map(from_wdb).collect()),
            Err(e) => match wdb_kind(&e) {
                Ok(k) => {
                    if k != Kind::StackOverflow {
                        places.push((n, trap_place(k, &e)));
                    }
                    Outcome::Trap(k)
                }
                Err(m) if m == "interrupted" => return Ok(Verdict::Inconclusive { calls: n }),
                Err(m) => return Err(format!("{what}: call {} {:?}: {m}", call.name, call.args)),
            },
        };
        if got != *want {
            let overflow = |o: &Outcome| *o == Outcome::Trap(Kind::StackOverflow);
            if overflow(&got) || overflow(want) {
                return Ok(Verdict::Inconclusive { calls: n });
            }
            return Err(format!(
                "{what}: call #{n} {}({:?}):\n  wdb:   {got:?}\n  wasmi: {want:?}",
                call.name, call.args
            ));
        }
        n += 1;
    }
    Ok(Verdict::Agree { calls: n })
}

#[test]
fn differential_against_wasmi() {
    // wasmi and deep generated code want more native stack than a test thread has.
    std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(run_cases)
        .unwrap()
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p));
}

fn run_cases() {
    let cases: u64 = std::env::var("WDB_DIFF_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    let first: u64 = std::env::var("WDB_DIFF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let strategies = [
        wdb::Strategy::Baseline,
        wdb::Strategy::Optimized,
        wdb::Strategy::Mixed,
    ];
    let engines: Vec<wdb::Engine> = strategies
        .iter()
        .map(|&strategy| {
            wdb::Engine::new(wdb::Config {
                strategy,
                ..wdb::Config::default()
            })
            .unwrap()
        })
        .collect();
    let verbose = std::env::var_os("WDB_DIFF_VERBOSE").is_some();
    let dog = Watchdog::new();
    let features = wdb::module::features();
    let (mut judged, mut calls, mut skipped, mut inconclusive) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    let start = Instant::now();
    for seed in first..first + cases {
        let Some(wasm) = generate(seed) else {
            skipped += 1;
            continue;
        };
        if wasmparser::Validator::new_with_features(features)
            .validate_all(&wasm)
            .is_err()
        {
            // The generator strayed outside wdb's feature set.
            skipped += 1;
            continue;
        }
        if let Some(dir) = std::env::var_os("WDB_DIFF_DUMP") {
            // Keep the module for a closer look (`wasm-tools print`, `wdb run`).
            let _ = std::fs::write(
                std::path::Path::new(&dir).join(format!("seed-{seed}.wasm")),
                &wasm,
            );
        }
        let Some(reference) = run_wasmi(&wasm, seed) else {
            skipped += 1;
            continue;
        };
        judged += 1;
        if verbose {
            let calls = reference
                .steps
                .iter()
                .filter(|s| matches!(s, Step::Call(..)))
                .count();
            let traps = reference
                .steps
                .iter()
                .filter(|s| matches!(s, Step::Call(_, Outcome::Trap(_))))
                .count();
            let resets = reference.steps.len() - calls;
            eprintln!(
                "seed {seed}: {} bytes, instantiate {:?}, {calls} calls, {traps} traps, {resets} resets",
                wasm.len(),
                reference.instantiate
            );
        }
        // Trap places per tier: every tier must name the same frames and offsets.
        let mut all_places: Vec<Vec<(usize, TrapPlace)>> = Vec::new();
        for (strategy, engine) in strategies.iter().zip(&engines) {
            let what = format!("seed {seed} [{strategy:?}]");
            let mut places = Vec::new();
            let verdict = compare_wdb(engine, &wasm, &reference, &dog, &what, &mut places);
            all_places.push(places);
            match verdict {
                Ok(Verdict::Agree { calls: n }) => calls += n,
                Ok(Verdict::Inconclusive { calls: n }) => {
                    calls += n;
                    inconclusive += 1;
                }
                Err(m) => failures.push(m),
            }
        }
        // Every place must name operators that can have trapped; the
        // optimizing tier must name the baseline's place where that is valid.
        let ops = operators(&wasm);
        for (k, places) in all_places.iter().enumerate() {
            for (n, place) in places {
                if !plausible(place, &ops) {
                    failures.push(format!(
                        "seed {seed} [{:?}]: step {n} traps at implausible {place:?}",
                        strategies[k]
                    ));
                    continue;
                }
                if k == 0 {
                    continue;
                }
                if let Some((_, base)) = all_places[0].iter().find(|(m, _)| m == n) {
                    if base != place {
                        failures.push(format!(
                            "seed {seed}: step {n} traps at {place:?} in {:?}, at {base:?} in baseline",
                            strategies[k]
                        ));
                    }
                }
            }
        }
    }
    eprintln!(
        "differential: {cases} seeds from {first}: {judged} modules judged, {calls} calls compared, \
         {skipped} skipped, {inconclusive} inconclusive, {} failures, {:.1} s",
        failures.len(),
        start.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} disagreements:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        judged * 2 >= cases as usize,
        "too few modules could be judged: {judged} of {cases}"
    );
}

/// The safety net the cases rely on: an endless loop is interrupted in every tier.
#[test]
fn watchdog_interrupts_endless_loops() {
    let wat = r#"(module
        (func $spin (loop br 0))
        (func (export "run") call $spin)
        (func (export "recurse") (param i32) (result i32)
            (loop (br_if 0 (local.get 0)))
            local.get 0))"#;
    let dog = Watchdog::new();
    for strategy in [
        wdb::Strategy::Baseline,
        wdb::Strategy::Optimized,
        wdb::Strategy::Mixed,
    ] {
        let engine = wdb::Engine::new(wdb::Config {
            strategy,
            ..wdb::Config::default()
        })
        .unwrap();
        let module = wdb::Module::new(&engine, wat).unwrap();
        for (name, args) in [("run", vec![]), ("recurse", vec![wdb::Val::I32(1)])] {
            let mut store = wdb::Store::new(&engine, ());
            let inst = wdb::Instance::new(&mut store, &module, &[]).unwrap();
            let f = inst.get_func(&store, name).unwrap();
            let ty = f.ty(&store).unwrap();
            let mut out: Vec<wdb::Val> = ty
                .results()
                .iter()
                .map(|t| wdb::Val::default_for(*t))
                .collect();
            dog.arm(store.interrupt_handle(), Duration::from_millis(200));
            let start = Instant::now();
            let e = f.call(&mut store, &args, &mut out).unwrap_err();
            dog.disarm();
            assert_eq!(
                e.as_trap_code(),
                Some(wdb::TrapCode::Interrupted),
                "{strategy:?} {name}: {e}"
            );
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "{strategy:?} {name}: interrupt took {:?}",
                start.elapsed()
            );
        }
    }
}
