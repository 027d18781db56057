//! A compiled module: validated metadata plus machine code of one tier (or,
//! with [`Strategy::Mixed`], of both tiers alternating by function).

use crate::baseline::CompileOptions;
use crate::code::{self, CodeKind, CodeObject, FuncCode, Tier};
use crate::engine::{Engine, Strategy};
use crate::error::{Error, Result};
use crate::module::ModuleInfo;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<ModuleInner>,
}

pub(crate) struct ModuleInner {
    pub engine: Engine,
    pub info: Arc<ModuleInfo>,
    /// Canonical signature id per type index.
    pub sig_ids: Vec<u32>,
    pub code: Arc<CodeObject>,
    pub tier: Tier,
    pub compile_time: Duration,
}

/// Accepts the binary format or the text format. Bytes that are not UTF-8
/// text are taken as binary (so the binary decoder names the bad byte).
pub fn wasm_bytes(bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.to_vec());
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(bytes.to_vec());
    };
    parse_text(text)
}

/// Parses the text format; errors are one line with line and column.
fn parse_text(text: &str) -> Result<Vec<u8>> {
    let one_line = |e: wast::Error| {
        let (line, col) = e.span().linecol_in(text);
        Error::Text(format!(
            "line {}, column {}: {}",
            line + 1,
            col + 1,
            e.message()
        ))
    };
    let buf = wast::parser::ParseBuffer::new(text).map_err(one_line)?;
    let mut wat = wast::parser::parse::<wast::Wat>(&buf).map_err(one_line)?;
    wat.encode().map_err(one_line)
}

impl Module {
    /// Decodes, validates and compiles a module (binary or text format).
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = wasm_bytes(bytes.as_ref())?;
        Module::from_binary(engine, bytes)
    }

    pub fn from_file(engine: &Engine, path: impl AsRef<std::path::Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            context: format!("cannot read {}", path.display()),
            source: e,
        })?;
        Module::new(engine, bytes)
    }

    pub fn from_binary(engine: &Engine, bytes: Vec<u8>) -> Result<Module> {
        let start = Instant::now();
        let mut info = ModuleInfo::parse(bytes)?;
        let to_validate = std::mem::take(&mut info.to_validate);
        let sig_ids: Vec<u32> = info.types.iter().map(|t| engine.intern(t).0).collect();
        let strategy = engine.config().strategy;
        // A mixed module's code object is labelled baseline; `func_tier` says
        // which compiler made each function.
        let tier = match strategy {
            Strategy::Baseline | Strategy::Mixed => Tier::Baseline,
            Strategy::Debug => Tier::Debug,
            Strategy::Optimized => Tier::Optimized,
        };
        let threads = engine.config().compile_threads.max(1);
        let funcs = compile_all(&info, &sig_ids, to_validate, strategy, threads)?;
        let code = code::publish(CodeKind::Wasm(tier), info.id, funcs).map_err(|e| Error::Io {
            context: "mapping code memory".into(),
            source: e,
        })?;
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info: Arc::new(info),
                sig_ids,
                code,
                tier,
                compile_time: start.elapsed(),
            }),
        })
    }

    pub fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn tier(&self) -> Tier {
        self.inner.tier
    }

    /// The tier whose code runs function `func` (a defined function) as compiled
    /// by [`Module::new`].
    pub fn func_tier(&self, func: u32) -> Tier {
        tier_of(
            self.inner.engine.config().strategy,
            func.saturating_sub(self.inner.info.num_imported_funcs),
        )
    }

    /// Wall time of decoding, validation and compilation.
    pub fn compile_time(&self) -> Duration {
        self.inner.compile_time
    }

    /// Bytes of machine code produced.
    pub fn machine_code_size(&self) -> usize {
        self.inner.code.code_len()
    }

    pub fn code(&self) -> &Arc<CodeObject> {
        &self.inner.code
    }
}

type ToValidate = wasmparser::FuncToValidate<wasmparser::ValidatorResources>;

/// Which tier compiles defined function number `defined` (0 = first defined function).
fn tier_of(strategy: Strategy, defined: u32) -> Tier {
    match strategy {
        Strategy::Baseline => Tier::Baseline,
        Strategy::Debug => Tier::Debug,
        Strategy::Optimized => Tier::Optimized,
        Strategy::Mixed if defined.is_multiple_of(2) => Tier::Baseline,
        Strategy::Mixed => Tier::Optimized,
    }
}

fn compile_all(
    info: &ModuleInfo,
    sig_ids: &[u32],
    to_validate: Vec<ToValidate>,
    strategy: Strategy,
    threads: usize,
) -> Result<Vec<(u32, FuncCode)>> {
    let base = info.num_imported_funcs;
    let compile_one = |i: usize, fv: ToValidate| -> Result<(u32, FuncCode)> {
        let f = base + i as u32;
        let v = Some(fv.into_validator(Default::default()));
        let code = match tier_of(strategy, i as u32) {
            Tier::Baseline => crate::baseline::compile_function(
                info,
                sig_ids,
                f,
                v,
                CompileOptions {
                    debug: false,
                    tier_up: false,
                },
            )?,
            Tier::Debug => crate::baseline::compile_function(
                info,
                sig_ids,
                f,
                v,
                CompileOptions {
                    debug: true,
                    tier_up: false,
                },
            )?,
            Tier::Optimized => crate::optimizing::compile_function(info, sig_ids, f, v)?,
        };
        Ok((f, code))
    };
    if threads <= 1 || to_validate.len() < 2 {
        return to_validate
            .into_iter()
            .enumerate()
            .map(|(i, fv)| compile_one(i, fv))
            .collect();
    }
    let n = to_validate.len();
    let mut items: Vec<Option<ToValidate>> = to_validate.into_iter().map(Some).collect();
    let chunk = n.div_ceil(threads);
    let mut results: Vec<Result<Vec<(u32, FuncCode)>>> = Vec::new();
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks_mut(chunk)
            .enumerate()
            .map(|(c, part)| {
                let compile_one = &compile_one;
                s.spawn(move || {
                    part.iter_mut()
                        .enumerate()
                        .map(|(k, fv)| {
                            compile_one(c * chunk + k, fv.take().expect("each function once"))
                        })
                        .collect::<Result<Vec<_>>>()
                })
            })
            .collect();
        for h in handles {
            results.push(
                h.join()
                    .unwrap_or_else(|_| Err(Error::Internal("compiler thread panicked".into()))),
            );
        }
    });
    let mut out = Vec::with_capacity(n);
    for r in results {
        out.extend(r?);
    }
    Ok(out)
}
