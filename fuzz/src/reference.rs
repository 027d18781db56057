//! The reference run in wasmi: instantiate, then call every export with a
//! few deterministic argument sets, recording each outcome; the plan wdb then
//! follows. Calls that exhaust wasmi's fuel are dropped from the plan and the
//! instance is started over (the state they left is unknown).

use crate::outcome::{Kind, Outcome, P, V};
use crate::splitmix;

/// wasmi fuel for instantiation and for each call.
pub const FUEL: u64 = 2_000_000;
/// Argument sets per export.
pub const CALLS_PER_FUNC: usize = 2;
/// Most calls in one plan.
pub const MAX_CALLS: usize = 24;

pub struct Call {
    pub name: String,
    pub args: Vec<(P, u64)>,
}

/// One step of the plan both engines follow.
pub enum Step {
    Call(Call, Outcome),
    /// Start over with a fresh instance (wasmi ran out of fuel in a call).
    Reset,
}

pub struct Reference {
    pub instantiate: Result<(), Kind>,
    pub steps: Vec<Step>,
}

/// Deterministic arguments: edge cases and ordinary values.
pub fn arg_bits(p: P, pick: u64) -> u64 {
    let i = pick as usize;
    match p {
        P::I32 => [0i32, 1, -1, 7, i32::MIN, i32::MAX, 65536, 100][i % 8] as u32 as u64,
        P::I64 => [0i64, 1, -1, 13, i64::MIN, i64::MAX, 1 << 32, 1000][i % 8] as u64,
        P::F32 => [0.0f32, -0.0, 1.5, -3.25, f32::INFINITY, 1e30, 0.5, 2.0][i % 8].to_bits() as u64,
        P::F64 => [0.0f64, -0.0, 1.5, -3.25, f64::NEG_INFINITY, 1e300, 0.5, 2.0][i % 8].to_bits(),
        P::V128 => [
            0u64,
            u64::MAX,
            0x8000_0000_8000_0000,
            0x7f7f_0101_ff00_0080,
            0x3ff0_0000_0000_0000,
            0x7fc0_0000_4049_0fdb,
            1,
            0x0001_0002_0003_0004,
        ][i % 8],
        P::FuncRef | P::ExternRef => 0,
    }
}

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
        wasmi::ValType::V128 => P::V128,
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
        P::V128 => wasmi::Val::V128(wasmi::V128::from(crate::outcome::v128_of(bits))),
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
        wasmi::Val::V128(x) => V::V128(x.as_u128()),
    }
}

/// Runs the module in wasmi; None when the case cannot be judged (wasmi
/// rejects it, or instantiation runs out of fuel).
pub fn run(wasm: &[u8], seed: u64) -> Option<Reference> {
    let mut config = wasmi::Config::default();
    config.consume_fuel(true);
    // Everything the generator may emit (`smith::Proposals`); modules
    // without these features are unaffected.
    config
        .wasm_simd(true)
        .wasm_tail_call(true)
        .wasm_extended_const(true)
        .wasm_multi_memory(true)
        .wasm_memory64(true);
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
