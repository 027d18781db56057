//! Runs `.wast` spec scripts against the engine and reports every assertion.
//!
//! Used by `wdb wast` and by the spec-suite tests. Each script gets its own
//! store with the `spectest` host module; results never print, they come back
//! as a [`WastReport`].

use crate::engine::Config;
use crate::error::{Error, TrapCode};
use crate::module::GlobalType;
use crate::runtime::{
    Extern, ExternRef, Func, Global, Instance, Linker, Memory, Module, Store, Table, Val,
};
use crate::types::{FuncType, ValType};
use crate::Engine;
use std::collections::HashMap;
use wasmparser::WasmFeatures;
use wast::core::{NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, WastArg, WastDirective, WastExecute, WastInvoke, WastRet, Wat};

/// The outcome of one script.
#[derive(Debug, Default, Clone)]
pub struct WastReport {
    pub passed: usize,
    pub failed: usize,
    /// One line per failure: `file:line: what`.
    pub failures: Vec<String>,
    /// Tier-up budgets that ran out while the script ran (dynamic tier).
    pub tier_up_requests: u64,
}

/// Tier-up budget of scripts under the dynamic tier: tiny, so functions tier
/// up in the middle of a script and scripts run through baseline code,
/// background tier-ups and optimized code alike.
pub const DYNAMIC_BUDGET: i32 = 64;

/// The engine configuration `wdb wast --tier T` and the spec tests use:
/// the defaults, with [`DYNAMIC_BUDGET`] under the dynamic tier.
pub fn config_for(strategy: crate::Strategy) -> Config {
    let mut config = Config {
        strategy,
        ..Config::default()
    };
    if strategy == crate::Strategy::Dynamic {
        config.tiering_budget = DYNAMIC_BUDGET;
    }
    config
}

/// Names [`features_named`] knows, for messages.
pub const FEATURE_SET_NAMES: &str = "3.0 (the default), 2.0, memory64, multi-memory, tail-call, \
     extended-const, exceptions, simd, relaxed-simd";

/// The feature set a spec script is judged by, as Wasmtime's wast runner
/// does: `3.0` (or `wasm-v3`) is everything wdb implements; `2.0` (or
/// `wasm-v2`) is Wasm 2.0, so its scripts' `assert_invalid`s of then-invalid
/// modules (two memories, a 64-bit memory) hold; a proposal's name (or
/// `proposals/NAME`) is Wasm 2.0 plus that proposal as of the suite's copy
/// of it (the `memory64` copy predates multiple memories; the `exceptions`
/// copy is written against the 3.0 draft: tail calls, typed references and
/// rec groups, so it gets 3.0). `None` for other names.
pub fn features_named(name: &str) -> Option<WasmFeatures> {
    let base = WasmFeatures::WASM2;
    Some(match name.strip_prefix("proposals/").unwrap_or(name) {
        "3.0" | "wasm-v3" | "exceptions" => crate::module::features(),
        "2.0" | "wasm-v2" | "simd" => base,
        "memory64" => base | WasmFeatures::MEMORY64,
        "multi-memory" => base | WasmFeatures::MULTI_MEMORY,
        "tail-call" => base | WasmFeatures::TAIL_CALL,
        "extended-const" => base | WasmFeatures::EXTENDED_CONST,
        "relaxed-simd" => base | WasmFeatures::RELAXED_SIMD,
        _ => return None,
    })
}

impl WastReport {
    fn pass(&mut self) {
        self.passed += 1;
    }

    fn fail(&mut self, file: &str, line: usize, what: String) {
        self.failed += 1;
        self.failures.push(format!("{file}:{line}: {what}"));
    }
}

/// Runs the script `text` (named `file` in messages) with a fresh engine.
pub fn run_wast(file: &str, text: &str, config: Config) -> Result<WastReport, Error> {
    let engine = Engine::new(config)?;
    let mut lexer = wast::lexer::Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buf = ParseBuffer::new_with_lexer(lexer).map_err(|e| parse_err(file, text, e))?;
    let script = parser::parse::<wast::Wast>(&buf).map_err(|e| parse_err(file, text, e))?;
    let mut runner = Runner::new(engine, file, text)?;
    for d in script.directives {
        runner.directive(d);
    }
    runner.report.tier_up_requests = runner.engine.tier_up_requests();
    Ok(runner.report)
}

fn parse_err(file: &str, text: &str, mut e: wast::Error) -> Error {
    e.set_text(text);
    Error::Usage(format!("{file}: cannot parse script: {e}"))
}

struct Runner<'t> {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    named: HashMap<String, Instance>,
    definitions: HashMap<String, Module>,
    current: Option<Instance>,
    file: &'t str,
    text: &'t str,
    report: WastReport,
    instances: usize,
}

impl<'t> Runner<'t> {
    fn new(engine: Engine, file: &'t str, text: &'t str) -> Result<Runner<'t>, Error> {
        let mut store = Store::new(&engine, ());
        let mut linker = Linker::new();
        define_spectest(&mut linker, &mut store)?;
        Ok(Runner {
            engine,
            store,
            linker,
            named: HashMap::new(),
            definitions: HashMap::new(),
            current: None,
            file,
            text,
            report: WastReport::default(),
            instances: 0,
        })
    }

    fn line(&self, span: wast::token::Span) -> usize {
        span.linecol_in(self.text).0 + 1
    }

    fn fail(&mut self, span: wast::token::Span, what: String) {
        let line = self.line(span);
        self.report.fail(self.file, line, what);
    }

    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module, Error> {
        let bytes = module.encode().map_err(|e| Error::Text(e.to_string()))?;
        Module::from_binary(&self.engine, bytes)
    }

    fn compile_wat(&self, wat: &mut Wat<'_>) -> Result<Module, Error> {
        let bytes = wat.encode().map_err(|e| Error::Text(e.to_string()))?;
        Module::from_binary(&self.engine, bytes)
    }

    fn instantiate(&mut self, module: &Module) -> Result<Instance, Error> {
        let inst = self.linker.instantiate(&mut self.store, module)?;
        // Under dynamic tiering every other instance is also tiered down at
        // once (lazy debug stubs), so scripts run through every path: baseline
        // with budgets, background tier-up, lazy debug compiles.
        if self.engine.config().strategy == crate::Strategy::Dynamic {
            self.instances += 1;
            if self.instances.is_multiple_of(2) {
                inst.tiering(&self.store).tier_down_all()?;
            }
        }
        Ok(inst)
    }

    fn directive(&mut self, d: WastDirective<'_>) {
        match d {
            WastDirective::Module(mut m) => {
                let span = m.span();
                let name = m.name().map(|n| n.name().to_string());
                match self
                    .compile(&mut m)
                    .and_then(|module| self.instantiate(&module))
                {
                    Ok(inst) => {
                        self.current = Some(inst);
                        if let Some(n) = name {
                            self.named.insert(n, inst);
                        }
                    }
                    Err(e) => {
                        self.current = None;
                        self.fail(span, format!("module failed: {e}"));
                    }
                }
            }
            WastDirective::ModuleDefinition(mut m) => {
                let span = m.span();
                let name = m.name().map(|n| n.name().to_string());
                match self.compile(&mut m) {
                    Ok(module) => {
                        if let Some(n) = name {
                            self.definitions.insert(n, module);
                        }
                    }
                    Err(e) => self.fail(span, format!("module definition failed: {e}")),
                }
            }
            WastDirective::ModuleInstance {
                span,
                instance,
                module,
            } => {
                let def = module.and_then(|m| self.definitions.get(m.name()).cloned());
                match def {
                    Some(module) => match self.instantiate(&module) {
                        Ok(inst) => {
                            self.current = Some(inst);
                            if let Some(n) = instance {
                                self.named.insert(n.name().to_string(), inst);
                            }
                        }
                        Err(e) => self.fail(span, format!("instantiation failed: {e}")),
                    },
                    None => self.fail(span, "unknown module definition".into()),
                }
            }
            WastDirective::Register { span, name, module } => {
                match self.instance(module.map(|m| m.name())) {
                    Some(inst) => {
                        self.linker.instance(&self.store, name, inst);
                    }
                    None => self.fail(span, "register: no such instance".into()),
                }
            }
            WastDirective::Invoke(inv) => {
                let span = inv.span;
                if let Err(e) = self.invoke(&inv) {
                    self.fail(span, format!("invoke {} failed: {e}", inv.name));
                }
            }
            WastDirective::AssertReturn {
                span,
                exec,
                results,
            } => match self.execute(exec) {
                Ok(got) => match compare(&got, &results) {
                    Ok(()) => self.report.pass(),
                    Err(why) => self.fail(span, why),
                },
                Err(e) => self.fail(span, format!("expected values, got error: {e}")),
            },
            WastDirective::AssertTrap {
                span,
                exec,
                message,
            } => match self.execute(exec) {
                Ok(v) => self.fail(span, format!("expected trap \"{message}\", got {v:?}")),
                Err(e) => match e.as_trap_code() {
                    Some(code) if trap_matches(code, message) => self.report.pass(),
                    _ => self.fail(span, format!("expected trap \"{message}\", got: {e}")),
                },
            },
            WastDirective::AssertExhaustion {
                span,
                call,
                message,
            } => match self.invoke(&call) {
                Ok(v) => self.fail(span, format!("expected exhaustion, got {v:?}")),
                Err(e) if e.as_trap_code() == Some(TrapCode::StackOverflow) => self.report.pass(),
                Err(e) => self.fail(span, format!("expected \"{message}\", got: {e}")),
            },
            WastDirective::AssertInvalid {
                span,
                mut module,
                message,
            }
            | WastDirective::AssertMalformed {
                span,
                mut module,
                message,
            } => match self.compile(&mut module) {
                Ok(_) => self.fail(span, format!("module should be rejected: {message}")),
                Err(_) => self.report.pass(),
            },
            WastDirective::AssertUnlinkable {
                span,
                mut module,
                message,
            } => {
                match self
                    .compile_wat(&mut module)
                    .and_then(|m| self.instantiate(&m))
                {
                    Ok(_) => self.fail(span, format!("module should not link: {message}")),
                    Err(_) => self.report.pass(),
                }
            }
            WastDirective::AssertException { span, exec } => match self.execute(exec) {
                Ok(v) => self.fail(span, format!("expected an exception, got {v:?}")),
                Err(e) if e.as_trap_code() == Some(TrapCode::UncaughtException) => {
                    self.report.pass()
                }
                Err(e) => self.fail(span, format!("expected an exception, got: {e}")),
            },
            other => {
                let span = match &other {
                    WastDirective::AssertException { span, .. } => *span,
                    _ => wast::token::Span::from_offset(0),
                };
                self.fail(span, "unsupported directive".into());
            }
        }
    }

    fn instance(&self, name: Option<&str>) -> Option<Instance> {
        match name {
            Some(n) => self.named.get(n).copied(),
            None => self.current,
        }
    }

    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Vec<Val>, Error> {
        match exec {
            WastExecute::Invoke(inv) => self.invoke(&inv),
            WastExecute::Wat(mut wat) => {
                let module = self.compile_wat(&mut wat)?;
                self.instantiate(&module)?;
                Ok(vec![])
            }
            WastExecute::Get { module, global, .. } => {
                let inst = self
                    .instance(module.map(|m| m.name()))
                    .ok_or_else(|| Error::Usage("no instance".into()))?;
                match inst.get_export(&self.store, global) {
                    Some(Extern::Global(g)) => Ok(vec![g.get(&self.store)]),
                    _ => Err(Error::Usage(format!("no global {global}"))),
                }
            }
        }
    }

    fn invoke(&mut self, inv: &WastInvoke<'_>) -> Result<Vec<Val>, Error> {
        let inst = self
            .instance(inv.module.map(|m| m.name()))
            .ok_or_else(|| Error::Usage("no instance".into()))?;
        let f = inst
            .get_func(&self.store, inv.name)
            .ok_or_else(|| Error::Usage(format!("no exported function {}", inv.name)))?;
        let args: Vec<Val> = inv.args.iter().map(arg_val).collect::<Result<_, _>>()?;
        let ty = f
            .ty(&self.store)
            .ok_or_else(|| Error::Internal("no type".into()))?;
        let mut results: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        f.call(&mut self.store, &args, &mut results)?;
        Ok(results)
    }
}

fn arg_val(a: &WastArg<'_>) -> Result<Val, Error> {
    let WastArg::Core(c) = a else {
        return Err(Error::Usage("component arguments are not supported".into()));
    };
    Ok(match c {
        WastArgCore::I32(v) => Val::I32(*v),
        WastArgCore::I64(v) => Val::I64(*v),
        WastArgCore::F32(v) => Val::F32(v.bits),
        WastArgCore::F64(v) => Val::F64(v.bits),
        WastArgCore::V128(v) => Val::V128(u128::from_le_bytes(v.to_le_bytes())),
        WastArgCore::RefNull(h) => {
            if matches!(
                h,
                wast::core::HeapType::Abstract {
                    ty: wast::core::AbstractHeapType::Extern,
                    ..
                }
            ) {
                Val::ExternRef(None)
            } else {
                Val::FuncRef(None)
            }
        }
        WastArgCore::RefExtern(n) => Val::ExternRef(Some(ExternRef::new(*n as u64))),
        _ => return Err(Error::Usage("unsupported argument type".into())),
    })
}

fn compare(got: &[Val], want: &[WastRet<'_>]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("expected {} values, got {}", want.len(), got.len()));
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let WastRet::Core(w) = w else {
            return Err("component results are not supported".into());
        };
        if !matches_ret(g, w) {
            return Err(format!("result {i}: expected {w:?}, got {g}"));
        }
    }
    Ok(())
}

fn matches_ret(g: &Val, w: &WastRetCore<'_>) -> bool {
    match (g, w) {
        (Val::I32(a), WastRetCore::I32(b)) => a == b,
        (Val::I64(a), WastRetCore::I64(b)) => a == b,
        (Val::F32(a), WastRetCore::F32(p)) => f32_matches(*a, p),
        (Val::F64(a), WastRetCore::F64(p)) => f64_matches(*a, p),
        (Val::V128(a), WastRetCore::V128(p)) => v128_matches(*a, p),
        (Val::FuncRef(f), WastRetCore::RefNull(_)) => f.is_none(),
        (Val::ExternRef(e), WastRetCore::RefNull(_)) => e.is_none(),
        (Val::ExternRef(e), WastRetCore::RefExtern(n)) => match (e, n) {
            (Some(e), Some(n)) => e.payload() == *n as u64,
            (Some(_), None) => true,
            _ => false,
        },
        (Val::FuncRef(f), WastRetCore::RefFunc(_)) => f.is_some(),
        (_, WastRetCore::Either(alts)) => alts.iter().any(|a| matches_ret(g, a)),
        _ => false,
    }
}

fn f32_matches(a: u32, p: &NanPattern<wast::token::F32>) -> bool {
    match p {
        NanPattern::CanonicalNan => a & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => a & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(v) => a == v.bits,
    }
}

fn f64_matches(a: u64, p: &NanPattern<wast::token::F64>) -> bool {
    match p {
        NanPattern::CanonicalNan => a & 0x7fff_ffff_ffff_ffff == 0x7ff8_0000_0000_0000,
        NanPattern::ArithmeticNan => a & 0x7ff8_0000_0000_0000 == 0x7ff8_0000_0000_0000,
        NanPattern::Value(v) => a == v.bits,
    }
}

/// Lane by lane: integer lanes compare bits; float lanes may be NaN patterns.
fn v128_matches(a: u128, p: &V128Pattern) -> bool {
    let lane = |bits: u32, i: usize| (a >> (bits as usize * i)) & ((1u128 << bits) - 1);
    match p {
        V128Pattern::I8x16(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(8, i) == *v as u8 as u128),
        V128Pattern::I16x8(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(16, i) == *v as u16 as u128),
        V128Pattern::I32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(32, i) == *v as u32 as u128),
        V128Pattern::I64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, v)| lane(64, i) == *v as u64 as u128),
        V128Pattern::F32x4(l) => l
            .iter()
            .enumerate()
            .all(|(i, p)| f32_matches(lane(32, i) as u32, p)),
        V128Pattern::F64x2(l) => l
            .iter()
            .enumerate()
            .all(|(i, p)| f64_matches(lane(64, i) as u64, p)),
    }
}

/// Whether a trap of kind `code` is what the spec message describes.
fn trap_matches(code: TrapCode, message: &str) -> bool {
    use TrapCode::*;
    let m = message;
    let ok: &[TrapCode] = if m.starts_with("unreachable") {
        &[Unreachable]
    } else if m.starts_with("integer divide by zero") {
        &[IntegerDivideByZero]
    } else if m.starts_with("integer overflow") {
        &[IntegerOverflow]
    } else if m.starts_with("invalid conversion") {
        &[BadConversionToInteger]
    } else if m.starts_with("out of bounds memory") || m.starts_with("memory access out of bounds")
    {
        &[MemoryOutOfBounds, OutOfBoundsSegment]
    } else if m.starts_with("undefined element") || m.starts_with("uninitialized element") {
        &[TableOutOfBounds, IndirectCallToNull]
    } else if m.starts_with("indirect call type mismatch") {
        &[BadSignature]
    } else if m.starts_with("out of bounds table") {
        &[TableOutOfBounds]
    } else if m.starts_with("null function reference") || m.starts_with("null reference") {
        &[NullReference]
    } else if m.starts_with("call stack exhausted") {
        &[StackOverflow]
    } else {
        return code.message().starts_with(m);
    };
    ok.contains(&code)
}

/// Defines in `linker` the `spectest` module every spec script may import
/// (print functions that do nothing, four constant globals, a table and a
/// memory); the fuzzer instantiates mutated spec modules with it too.
pub fn define_spectest(linker: &mut Linker<()>, store: &mut Store<()>) -> Result<(), Error> {
    use ValType::*;
    let prints: [(&str, Vec<ValType>); 7] = [
        ("print", vec![]),
        ("print_i32", vec![I32]),
        ("print_i64", vec![I64]),
        ("print_f32", vec![F32]),
        ("print_f64", vec![F64]),
        ("print_i32_f32", vec![I32, F32]),
        ("print_f64_f64", vec![F64, F64]),
    ];
    for (name, params) in prints {
        let f = Func::new(store, FuncType::new(params, []), |_, _, _| Ok(()))?;
        linker.define("spectest", name, Extern::Func(f));
    }
    let globals = [
        ("global_i32", I32, Val::I32(666)),
        ("global_i64", I64, Val::I64(666)),
        ("global_f32", F32, Val::F32(666.6f32.to_bits())),
        ("global_f64", F64, Val::F64(666.6f64.to_bits())),
    ];
    for (name, ty, v) in globals {
        let g = Global::new(
            store,
            GlobalType {
                ty,
                mutable: false,
                rt: None,
            },
            v,
        )?;
        linker.define("spectest", name, Extern::Global(g));
    }
    let table = Table::new(store, FuncRef, 10, Some(20), Val::FuncRef(None))?;
    linker.define("spectest", "table", Extern::Table(table));
    let memory = Memory::new(store, 1, Some(2))?;
    linker.define("spectest", "memory", Extern::Memory(memory));
    Ok(())
}
