//! A compiled module: validated metadata plus machine code of one tier (or,
//! with [`Strategy::Mixed`], of both tiers alternating by function).

use crate::baseline::CompileOptions;
use crate::code::{self, CodeKind, CodeObject, FuncCode, Tier};
use crate::engine::{Engine, Strategy};
use crate::error::{Error, Result};
use crate::module::ModuleInfo;
use std::sync::{Arc, Mutex};
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
    /// Code of each defined function per tier, compiled once and kept while the
    /// module lives: frames may still run old code, and tier switches in both
    /// directions reuse it, so memory stays bounded however often tiers change.
    pub cache: Mutex<Vec<FuncCodes>>,
    /// Lazy tier-down stubs of the defined functions (made on first tier-down).
    pub lazy_stubs: std::sync::OnceLock<(Arc<CodeObject>, Vec<u32>)>,
}

/// A defined function's code in each tier (indexed by [`tier_slot`]).
#[derive(Default, Clone)]
pub(crate) struct FuncCodes {
    pub code: [Option<(Arc<CodeObject>, usize)>; 3],
    pub compile_time: [Option<Duration>; 3],
}

pub(crate) fn tier_slot(t: Tier) -> usize {
    match t {
        Tier::Baseline => 0,
        Tier::Debug => 1,
        Tier::Optimized => 2,
    }
}

impl FuncCodes {
    pub fn ptr(&self, t: Tier) -> Option<*const u8> {
        self.code[tier_slot(t)]
            .as_ref()
            .map(|(o, i)| o.func_ptr(*i))
    }
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
            Strategy::Baseline | Strategy::Mixed | Strategy::Dynamic => Tier::Baseline,
            Strategy::Debug => Tier::Debug,
            Strategy::Optimized => Tier::Optimized,
        };
        let threads = engine.config().compile_threads.max(1);
        let funcs = compile_all(&info, &sig_ids, to_validate, strategy, threads)?;
        let code = code::publish(CodeKind::Wasm(tier), info.id, funcs).map_err(|e| Error::Io {
            context: "mapping code memory".into(),
            source: e,
        })?;
        let per_func_time = start.elapsed() / info.num_defined_funcs().max(1);
        let cache = (0..info.num_defined_funcs())
            .map(|k| {
                let mut c = FuncCodes::default();
                let slot = tier_slot(tier_of(&info, strategy, k));
                c.code[slot] = Some((code.clone(), k as usize));
                c.compile_time[slot] = Some(per_func_time);
                c
            })
            .collect();
        Ok(Module {
            inner: Arc::new(ModuleInner {
                engine: engine.clone(),
                info: Arc::new(info),
                sig_ids,
                cache: Mutex::new(cache),
                lazy_stubs: std::sync::OnceLock::new(),
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
            &self.inner.info,
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

    /// The lazy tier-down stub of defined function `func`.
    pub(crate) fn lazy_stub(&self, func: u32) -> Result<*const u8> {
        let info = &self.inner.info;
        let k = func
            .checked_sub(info.num_imported_funcs)
            .ok_or_else(|| Error::Internal("imported function".into()))?;
        if self.inner.lazy_stubs.get().is_none() {
            let (code, offsets) = crate::baseline::trampolines::lazy_stubs(
                info.num_imported_funcs,
                info.num_defined_funcs(),
            );
            let obj = code::publish(CodeKind::Trampoline, info.id, vec![(u32::MAX, code)])
                .map_err(|e| Error::Io {
                    context: "mapping code memory".into(),
                    source: e,
                })?;
            let _ = self.inner.lazy_stubs.set((obj, offsets));
        }
        let (obj, offsets) = self.inner.lazy_stubs.get().expect("set above");
        Ok((obj.func_ptr(0) as usize + offsets[k as usize] as usize) as *const u8)
    }

    /// Code of defined function `func` in `tier`, if compiled.
    pub fn code_ptr(&self, func: u32, tier: Tier) -> Option<*const u8> {
        let k = func.checked_sub(self.inner.info.num_imported_funcs)? as usize;
        self.inner
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(k)?
            .ptr(tier)
    }

    /// Compile time of `func` in each tier (baseline, debug, optimized), if compiled.
    pub fn compile_times(&self, func: u32) -> [Option<Duration>; 3] {
        let k = func.saturating_sub(self.inner.info.num_imported_funcs) as usize;
        let cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
        cache.get(k).map(|c| c.compile_time).unwrap_or_default()
    }

    /// Makes sure every function in `funcs` (defined-function indices into the
    /// module's function space) has code of `tier`, compiling what is missing
    /// on up to `threads` threads and publishing it together. Returns how many
    /// functions were compiled.
    pub(crate) fn ensure_tier(&self, funcs: &[u32], tier: Tier, threads: usize) -> Result<usize> {
        let missing: Vec<u32> = {
            let cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
            let base = self.inner.info.num_imported_funcs;
            funcs
                .iter()
                .copied()
                .filter(|&f| cache[(f - base) as usize].ptr(tier).is_none())
                .collect()
        };
        if missing.is_empty() {
            return Ok(0);
        }
        let info = &*self.inner.info;
        let sig_ids = &self.inner.sig_ids;
        let strategy = self.inner.engine.config().strategy;
        let compile = |f: u32| -> Result<(u32, FuncCode, Duration)> {
            let t0 = Instant::now();
            let code = match tier {
                Tier::Optimized => crate::optimizing::compile_function(info, sig_ids, f, None)?,
                Tier::Baseline | Tier::Debug => {
                    let opts = CompileOptions {
                        debug: tier == Tier::Debug,
                        tier_up: tier == Tier::Baseline && strategy == Strategy::Dynamic,
                    };
                    crate::baseline::compile_function(info, sig_ids, f, None, opts)?
                }
            };
            Ok((f, code, t0.elapsed()))
        };
        let threads = threads.clamp(1, missing.len());
        let chunk = missing.len().div_ceil(threads);
        let mut compiled: Vec<(u32, FuncCode, Duration)> = Vec::with_capacity(missing.len());
        if threads == 1 {
            for &f in &missing {
                compiled.push(compile(f)?);
            }
        } else {
            let parts: Vec<Result<Vec<_>>> = std::thread::scope(|s| {
                let hs: Vec<_> = missing
                    .chunks(chunk)
                    .map(|part| {
                        let compile = &compile;
                        s.spawn(move || {
                            part.iter().map(|&f| compile(f)).collect::<Result<Vec<_>>>()
                        })
                    })
                    .collect();
                hs.into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(Error::Internal("compiler thread panicked".into()))
                        })
                    })
                    .collect()
            });
            for p in parts {
                compiled.extend(p?);
            }
        }
        let times: Vec<(u32, Duration)> = compiled.iter().map(|(f, _, t)| (*f, *t)).collect();
        let obj = code::publish(
            CodeKind::Wasm(tier),
            info.id,
            compiled.into_iter().map(|(f, c, _)| (f, c)).collect(),
        )
        .map_err(|e| Error::Io {
            context: "mapping code memory".into(),
            source: e,
        })?;
        let mut cache = self.inner.cache.lock().unwrap_or_else(|e| e.into_inner());
        let base = info.num_imported_funcs;
        let slot = tier_slot(tier);
        for (i, (f, t)) in times.into_iter().enumerate() {
            let c = &mut cache[(f - base) as usize];
            // Another thread may have won the race; keep the first code.
            if c.code[slot].is_none() {
                c.code[slot] = Some((obj.clone(), i));
                c.compile_time[slot] = Some(t);
            }
        }
        Ok(missing.len())
    }
}

type ToValidate = wasmparser::FuncToValidate<wasmparser::ValidatorResources>;

/// Which tier compiles defined function number `defined` (0 = first defined
/// function). Functions past the large-function guard stay baseline.
fn tier_of(info: &ModuleInfo, strategy: Strategy, defined: u32) -> Tier {
    let tier = match strategy {
        Strategy::Baseline | Strategy::Dynamic => Tier::Baseline,
        Strategy::Debug => Tier::Debug,
        Strategy::Optimized => Tier::Optimized,
        Strategy::Mixed if defined.is_multiple_of(2) => Tier::Baseline,
        Strategy::Mixed => Tier::Optimized,
    };
    let func = info.num_imported_funcs + defined;
    if tier == Tier::Optimized && crate::tiering::guard::too_large_to_optimize(info, func).is_some()
    {
        return Tier::Baseline;
    }
    tier
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
        let code = match tier_of(info, strategy, i as u32) {
            Tier::Baseline => crate::baseline::compile_function(
                info,
                sig_ids,
                f,
                v,
                CompileOptions {
                    debug: false,
                    tier_up: strategy == Strategy::Dynamic,
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
