//! The per-module code cache: machine code of every defined function in each
//! tier, compiled once and kept while the module lives, plus the lazy stubs
//! (lazy compilation and lazy tier-down). It sits below the runtime (which owns one per module) and
//! knows nothing of instances or tiering policy.
//!
//! Invariant: code, once cached, is never replaced or freed while the module
//! lives — frames may still return into it, and tier switches in both
//! directions reuse it, so memory stays bounded however often tiers change.

use crate::baseline::CompileOptions;
use crate::code::{self, CodeKind, CodeObject, FuncCode, Tier};
use crate::engine::{Engine, Strategy};
use crate::error::{Error, Result};
use crate::module::ModuleInfo;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What compiling a function of a module needs to know.
#[derive(Clone, Copy)]
pub(crate) struct CompileContext<'a> {
    pub info: &'a ModuleInfo,
    /// Canonical signature id per type index.
    pub sig_ids: &'a [u32],
    pub strategy: Strategy,
}

/// A defined function's code in each tier (indexed by `Tier as usize`).
#[derive(Default, Clone)]
struct FuncCodes {
    code: [Option<(Arc<CodeObject>, usize)>; 3],
    compile_time: [Option<Duration>; 3],
}

impl FuncCodes {
    fn ptr(&self, t: Tier) -> Option<*const u8> {
        self.code[t as usize].as_ref().map(|(o, i)| o.func_ptr(*i))
    }
}

/// Code of every defined function of one module, per tier.
pub(crate) struct CodeCache {
    funcs: Mutex<Vec<FuncCodes>>,
    /// Lazy tier-down stubs of the defined functions (made on first tier-down).
    lazy_stubs: OnceLock<(Arc<CodeObject>, Vec<u32>)>,
}

type ToValidate = wasmparser::FuncToValidate<wasmparser::ValidatorResources>;

/// Which tier compiles defined function number `defined` (0 = first defined
/// function) when a module is first compiled under `strategy`. Functions past
/// the large-function guard ([`crate::optimizing::too_large_to_optimize`])
/// stay baseline.
pub(crate) fn tier_of(info: &ModuleInfo, strategy: Strategy, defined: u32) -> Tier {
    let tier = match strategy {
        Strategy::Baseline | Strategy::Dynamic => Tier::Baseline,
        Strategy::Debug => Tier::Debug,
        Strategy::Optimized => Tier::Optimized,
        Strategy::Mixed if defined.is_multiple_of(2) => Tier::Baseline,
        Strategy::Mixed => Tier::Optimized,
    };
    let func = info.num_imported_funcs + defined;
    if tier == Tier::Optimized && crate::optimizing::too_large_to_optimize(info, func).is_some() {
        return Tier::Baseline;
    }
    tier
}

fn io_error(e: std::io::Error) -> Error {
    Error::Io {
        context: "mapping code memory".into(),
        source: e,
    }
}

/// Compiles function `f` in `tier`, validating it first when `validator` is given.
pub(crate) fn compile_one(
    cx: CompileContext,
    f: u32,
    tier: Tier,
    validator: Option<wasmparser::FuncValidator<wasmparser::ValidatorResources>>,
) -> Result<FuncCode> {
    match tier {
        Tier::Optimized => crate::optimizing::compile_function(cx.info, cx.sig_ids, f, validator),
        Tier::Baseline | Tier::Debug => {
            let opts = CompileOptions {
                debug: tier == Tier::Debug,
                tier_up: tier == Tier::Baseline && cx.strategy == Strategy::Dynamic,
            };
            crate::baseline::compile_function(cx.info, cx.sig_ids, f, validator, opts)
        }
    }
}

/// Runs `job` over `items` on up to `threads` scoped threads, keeping order.
/// Threads take the next item as they finish one (function sizes vary by
/// orders of magnitude, so fixed shares would leave a thread idle). On an
/// error, items after it are skipped and the error of the lowest-numbered
/// failing item is returned, as a single thread would.
fn run_parallel<I: Send, R: Send>(
    items: Vec<I>,
    threads: usize,
    job: impl Fn(usize, I) -> Result<R> + Sync,
) -> Result<Vec<R>> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let n = items.len();
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        return items
            .into_iter()
            .enumerate()
            .map(|(i, it)| job(i, it))
            .collect();
    }
    let items: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let next = AtomicUsize::new(0);
    // Items at or past this index are not started (the lowest failure so far).
    let stop = AtomicUsize::new(n);
    let parts: Vec<Vec<(usize, Result<R>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (job, items, next, stop) = (&job, &items, &next, &stop);
                s.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n || i >= stop.load(Ordering::Relaxed) {
                            return done;
                        }
                        let item = items[i]
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .take()
                            .expect("each item once");
                        let r = job(i, item);
                        if r.is_err() {
                            stop.fetch_min(i, Ordering::Relaxed);
                        }
                        done.push((i, r));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    vec![(0, Err(Error::Internal("compiler thread panicked".into())))]
                })
            })
            .collect()
    });
    let mut all: Vec<(usize, Result<R>)> = parts.into_iter().flatten().collect();
    all.sort_by_key(|(i, r)| (*i, r.is_ok()));
    let mut out = Vec::with_capacity(n);
    for (_, r) in all {
        out.push(r?);
    }
    if out.len() != n {
        return Err(Error::Internal(format!(
            "parallel compile finished {} of {n} items",
            out.len()
        )));
    }
    Ok(out)
}

impl CodeCache {
    /// Validates and compiles every defined function in the tier `cx.strategy`
    /// gives it (with `lazy`: validates only; see [`CodeCache::assemble`]).
    /// Returns the compiled functions in index order, or `None` when lazy.
    pub fn compile_module(
        cx: CompileContext,
        to_validate: Vec<ToValidate>,
        threads: usize,
        lazy: bool,
    ) -> Result<Option<Vec<(u32, FuncCode)>>> {
        let base = cx.info.num_imported_funcs;
        if lazy {
            run_parallel(to_validate, threads, |i, fv| {
                let f = base + i as u32;
                cx.info
                    .validate_body(f, fv.into_validator(Default::default()))
            })?;
            return Ok(None);
        }
        let funcs = run_parallel(to_validate, threads, |i, fv| {
            let f = base + i as u32;
            let tier = tier_of(cx.info, cx.strategy, i as u32);
            let code = compile_one(cx, f, tier, Some(fv.into_validator(Default::default())))?;
            Ok((f, code))
        })?;
        Ok(Some(funcs))
    }

    /// Publishes the code of a newly compiled module as one object and
    /// caches it: `funcs` holds every defined function in index order, each
    /// compiled in the tier [`tier_of`] gives it, or is `None` under lazy
    /// compilation (nothing compiled yet; each function gets its code on its
    /// first call, through its lazy stub). Returns the cache and the object
    /// (a mixed module's object is labelled baseline; [`tier_of`] says which
    /// compiler made each function; a lazy module's object is empty).
    pub fn assemble(
        cx: CompileContext,
        funcs: Option<Vec<(u32, FuncCode)>>,
        spent: Duration,
    ) -> Result<(CodeCache, Arc<CodeObject>)> {
        let label = match cx.strategy {
            Strategy::Baseline | Strategy::Mixed | Strategy::Dynamic => Tier::Baseline,
            Strategy::Debug => Tier::Debug,
            Strategy::Optimized => Tier::Optimized,
        };
        let compiled = funcs.is_some();
        let code = code::publish(CodeKind::Wasm(label), cx.info.id, funcs.unwrap_or_default())
            .map_err(io_error)?;
        let per_func_time = spent / cx.info.num_defined_funcs().max(1);
        let funcs = (0..cx.info.num_defined_funcs())
            .map(|k| {
                let mut c = FuncCodes::default();
                if compiled {
                    let slot = tier_of(cx.info, cx.strategy, k) as usize;
                    c.code[slot] = Some((code.clone(), k as usize));
                    c.compile_time[slot] = Some(per_func_time);
                }
                c
            })
            .collect();
        let cache = CodeCache {
            funcs: Mutex::new(funcs),
            lazy_stubs: OnceLock::new(),
        };
        Ok((cache, code))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<FuncCodes>> {
        self.funcs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Code of defined function `func` (an index into the module's function
    /// space) in `tier`, if compiled.
    pub fn code_ptr(&self, info: &ModuleInfo, func: u32, tier: Tier) -> Option<*const u8> {
        let k = func.checked_sub(info.num_imported_funcs)? as usize;
        self.lock().get(k)?.ptr(tier)
    }

    /// Compile time of `func` in each tier (by `Tier as usize`), if compiled.
    pub fn compile_times(&self, info: &ModuleInfo, func: u32) -> [Option<Duration>; 3] {
        let k = func.saturating_sub(info.num_imported_funcs) as usize;
        self.lock()
            .get(k)
            .map(|c| c.compile_time)
            .unwrap_or_default()
    }

    /// The lazy stub of defined function `func` (all made on first use).
    pub fn lazy_stub(&self, info: &ModuleInfo, func: u32) -> Result<*const u8> {
        let k = func
            .checked_sub(info.num_imported_funcs)
            .ok_or_else(|| Error::Internal("imported function".into()))?;
        if self.lazy_stubs.get().is_none() {
            let (code, offsets) = crate::baseline::trampolines::lazy_stubs(
                info.num_imported_funcs,
                info.num_defined_funcs(),
            );
            let obj = code::publish(CodeKind::Trampoline, info.id, vec![(u32::MAX, code)])
                .map_err(io_error)?;
            let _ = self.lazy_stubs.set((obj, offsets));
        }
        let (obj, offsets) = self
            .lazy_stubs
            .get()
            .ok_or_else(|| Error::Internal("lazy stubs missing after publish".into()))?;
        let offset = *offsets
            .get(k as usize)
            .ok_or_else(|| Error::Internal(format!("no lazy stub for function {func}")))?;
        Ok((obj.func_ptr(0) as usize + offset as usize) as *const u8)
    }

    /// Makes sure every function in `funcs` (indices into the module's
    /// function space, all defined) has code of `tier`, compiling what is
    /// missing on up to `threads` threads and publishing it together. Returns
    /// how many functions were compiled.
    pub fn ensure_tier(
        &self,
        cx: CompileContext,
        funcs: &[u32],
        tier: Tier,
        threads: usize,
    ) -> Result<usize> {
        let base = cx.info.num_imported_funcs;
        let missing: Vec<u32> = {
            let cache = self.lock();
            funcs
                .iter()
                .copied()
                .filter(|&f| cache[(f - base) as usize].ptr(tier).is_none())
                .collect()
        };
        if missing.is_empty() {
            return Ok(0);
        }
        let count = missing.len();
        let compiled = run_parallel(missing, threads, |_, f| {
            let t0 = Instant::now();
            let code = compile_one(cx, f, tier, None)?;
            Ok((f, code, t0.elapsed()))
        })?;
        let times: Vec<(u32, Duration)> = compiled.iter().map(|(f, _, t)| (*f, *t)).collect();
        let obj = code::publish(
            CodeKind::Wasm(tier),
            cx.info.id,
            compiled.into_iter().map(|(f, c, _)| (f, c)).collect(),
        )
        .map_err(io_error)?;
        let mut cache = self.lock();
        let slot = tier as usize;
        for (i, (f, t)) in times.into_iter().enumerate() {
            let c = &mut cache[(f - base) as usize];
            // Another thread may have won the race; keep the first code.
            if c.code[slot].is_none() {
                c.code[slot] = Some((obj.clone(), i));
                c.compile_time[slot] = Some(t);
            }
        }
        Ok(count)
    }
}

/// A module's validated metadata and its code in every tier: what the runtime
/// instantiates and the tiering moves between tiers.
pub(crate) struct CompiledModule {
    pub engine: Engine,
    pub info: Arc<ModuleInfo>,
    /// Canonical signature id per type index.
    pub sig_ids: Vec<u32>,
    /// The code object made when the module was compiled.
    pub code: Arc<CodeObject>,
    /// The label of `code` (a mixed module's is baseline; see [`tier_of`]).
    pub tier: Tier,
    pub compile_time: Duration,
    pub cache: CodeCache,
}

impl CompiledModule {
    pub fn info(&self) -> &ModuleInfo {
        &self.info
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn context(&self) -> CompileContext<'_> {
        CompileContext {
            info: &self.info,
            sig_ids: &self.sig_ids,
            strategy: self.engine.config().strategy,
        }
    }

    /// The tier whose code runs defined function `func` as first compiled.
    pub fn func_tier(&self, func: u32) -> Tier {
        tier_of(
            &self.info,
            self.engine.config().strategy,
            func.saturating_sub(self.info.num_imported_funcs),
        )
    }

    /// The lazy stub of defined function `func`: compiles the code its
    /// code-table slot's tier names on the first call (see `tiering`).
    pub fn lazy_stub(&self, func: u32) -> Result<*const u8> {
        self.cache.lazy_stub(&self.info, func)
    }

    /// What defined function `func`'s code-table slot points to in a new
    /// instance: its code in [`CompiledModule::func_tier`], or (lazy
    /// compilation) its lazy stub.
    pub fn initial_code(&self, func: u32) -> Result<*const u8> {
        match self.code_ptr(func, self.func_tier(func)) {
            Some(code) => Ok(code),
            None => self.lazy_stub(func),
        }
    }

    /// Code of defined function `func` in `tier`, if compiled.
    pub fn code_ptr(&self, func: u32, tier: Tier) -> Option<*const u8> {
        self.cache.code_ptr(&self.info, func, tier)
    }

    /// Compile time of `func` in each tier (by `Tier as usize`), if compiled.
    pub fn compile_times(&self, func: u32) -> [Option<Duration>; 3] {
        self.cache.compile_times(&self.info, func)
    }

    /// See [`CodeCache::ensure_tier`].
    pub fn ensure_tier(&self, funcs: &[u32], tier: Tier, threads: usize) -> Result<usize> {
        self.cache.ensure_tier(self.context(), funcs, tier, threads)
    }
}
