//! The engine: configuration, the signature registry, trampolines, the
//! background compile pool and tier-change events, shared by every store and
//! module. Cheap to clone (an `Arc`). It sits below the runtime and tiering:
//! it imports neither.

pub(crate) mod pool;

use crate::baseline::trampolines;
use crate::code::{self, CodeKind, CodeObject, Tier};
use crate::error::{Error, Result};
use crate::types::{FuncType, SigId, SigRegistry};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Which code the engine runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Single-pass baseline code.
    #[default]
    Baseline,
    /// Baseline code compiled in debug mode (breakable at every instruction).
    Debug,
    /// Every function compiled by the optimizing tier (Cranelift).
    Optimized,
    /// Tiers alternate by defined-function index (even: baseline, odd:
    /// optimized), like V8's `--wasm-tier-mask-for-testing`: exercises calls
    /// between the tiers.
    Mixed,
    /// Start with baseline code that charges a tier-up budget; functions whose
    /// budget runs out are compiled by Cranelift on background threads and
    /// swapped in for later calls (V8's dynamic tiering).
    Dynamic,
}

impl Strategy {
    /// Names accepted by [`Strategy::parse`] (and the CLI's `--tier`).
    pub const NAMES: &'static [&'static str] =
        &["baseline", "debug", "optimized", "mixed", "dynamic"];

    pub fn parse(s: &str) -> Option<Strategy> {
        Some(match s {
            "baseline" => Strategy::Baseline,
            "debug" => Strategy::Debug,
            "optimized" => Strategy::Optimized,
            "mixed" => Strategy::Mixed,
            "dynamic" => Strategy::Dynamic,
            _ => return None,
        })
    }
}

/// Which way the test-only OSR stress setting ([`Config::osr_stress`])
/// moves a frame at a stressed loop-header check (see `runtime::osr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OsrStressMode {
    /// Plain baseline and optimized code → debug code; debug code → plain
    /// baseline (or, with a debugger, rebuilt from its own record).
    #[default]
    Down,
    /// Baseline code (plain or debug) → the loop's OSR entry (optimized),
    /// compiled on the spot; with a debugger attached the entry's header
    /// check moves the frame back down at once.
    Up,
    /// The other way from the code the frame runs: optimized → debug,
    /// debug → up, plain baseline alternately down and up.
    Alternating,
}

impl OsrStressMode {
    /// Every mode, in the order tests run them.
    pub const ALL: [OsrStressMode; 3] = [
        OsrStressMode::Down,
        OsrStressMode::Up,
        OsrStressMode::Alternating,
    ];

    pub fn name(self) -> &'static str {
        match self {
            OsrStressMode::Down => "down",
            OsrStressMode::Up => "up",
            OsrStressMode::Alternating => "alternating",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    pub strategy: Strategy,
    /// Most bytes of native stack wasm may use on one thread.
    pub max_wasm_stack: usize,
    /// Threads for compiling a module (1 = on the calling thread).
    pub compile_threads: usize,
    /// Tier-up budget of each function under [`Strategy::Dynamic`], in wasm
    /// code bytes executed: baseline code charges a function's body size per
    /// call and a loop body's size per iteration (as V8 charges by code size).
    pub tiering_budget: i32,
    /// Background compile threads for tier-up (0 = cores − 1, at least 1).
    pub tiering_threads: usize,
    /// Test-only: every Nth loop-header check moves its frame to other code
    /// (on-stack replacement, see `runtime::osr`); 0 = off. Every check then
    /// calls the runtime, so code runs far slower.
    pub osr_stress: u32,
    /// Test-only: which way `osr_stress` moves frames.
    pub osr_stress_mode: OsrStressMode,
    /// Lazy compilation (V8's default for wasm): a module's function bodies
    /// are all validated when it is compiled, but each function is compiled
    /// on its first call, through a stub in its code-table slot.
    pub lazy: bool,
    /// The WebAssembly features modules are validated with: by default
    /// everything wdb implements ([`crate::wasm_features`]); a subset judges
    /// modules as an older standard would (a Wasm 2.0 spec script under
    /// Wasm 2.0's rules, see [`crate::wast::features_named`]).
    pub features: wasmparser::WasmFeatures,
}

/// Default tier-up budget: tuned on the samples (see BENCHMARKS.md) so that hot
/// functions move up within milliseconds while cold code stays baseline.
pub const DEFAULT_TIERING_BUDGET: i32 = 2_000_000;

impl Default for Config {
    fn default() -> Config {
        Config {
            strategy: Strategy::Baseline,
            max_wasm_stack: 4 << 20,
            compile_threads: 1,
            tiering_budget: DEFAULT_TIERING_BUDGET,
            tiering_threads: 0,
            osr_stress: 0,
            osr_stress_mode: OsrStressMode::Down,
            lazy: false,
            features: crate::module::features(),
        }
    }
}

/// One tier change, for `--trace-tiering` and the UI.
#[derive(Debug, Clone)]
pub struct TierEvent {
    pub module_id: u64,
    pub func_index: u32,
    pub func_name: Option<String>,
    pub from: Tier,
    pub to: Tier,
    /// Compile time spent for this change (zero when cached code was reused).
    pub compile_time: std::time::Duration,
    /// Since the engine was created.
    pub at: std::time::Duration,
    /// Why nothing changed (`from == to`): the large-function guard kept it.
    pub note: Option<String>,
}

#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub config: Config,
    pub sigs: SigRegistry,
    entry: Mutex<HashMap<FuncType, Arc<CodeObject>>>,
    host: Mutex<HashMap<FuncType, Arc<CodeObject>>>,
    pool: std::sync::OnceLock<pool::CompilePool>,
    events: Mutex<Vec<std::sync::mpsc::Sender<TierEvent>>>,
    pub started: std::time::Instant,
    /// Tier-up requests so far (budgets that ran out), see [`Engine::tier_up_requests`].
    pub tier_up_requests: std::sync::atomic::AtomicU64,
}

static LANDING: std::sync::OnceLock<Arc<CodeObject>> = std::sync::OnceLock::new();

impl Engine {
    pub fn new(config: Config) -> Result<Engine> {
        check_cpu()?;
        let beyond = config.features.difference(crate::module::features());
        if !beyond.is_empty() {
            return Err(Error::Usage(format!(
                "WebAssembly features not implemented: {:?}",
                beyond.iter_names().map(|(n, _)| n).collect::<Vec<_>>()
            )));
        }
        let landing = LANDING.get_or_init(|| {
            code::publish(
                CodeKind::Trampoline,
                0,
                vec![(u32::MAX, trampolines::landing_pad())],
            )
            .expect("cannot map the landing pad")
        });
        crate::vm::traps::install_handlers(landing.func_ptr(0) as usize);
        Ok(Engine {
            inner: Arc::new(EngineInner {
                config,
                sigs: SigRegistry::default(),
                entry: Mutex::new(HashMap::new()),
                host: Mutex::new(HashMap::new()),
                pool: std::sync::OnceLock::new(),
                events: Mutex::new(Vec::new()),
                started: std::time::Instant::now(),
                tier_up_requests: std::sync::atomic::AtomicU64::new(0),
            }),
        })
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn intern(&self, ty: &FuncType) -> SigId {
        self.inner.sigs.intern(ty)
    }

    pub fn sig_type(&self, id: SigId) -> Option<FuncType> {
        self.inner.sigs.lookup(id)
    }

    /// The background compile pool (started on first use).
    pub(crate) fn pool(&self) -> &pool::CompilePool {
        self.inner.pool.get_or_init(|| {
            let n = match self.inner.config.tiering_threads {
                0 => pool::CompilePool::default_threads(),
                n => n,
            };
            pool::CompilePool::new(n)
        })
    }

    /// How many times a function's tier-up budget ran out in code of this
    /// engine (each is a request to the optimizing tier, whatever came of it).
    pub fn tier_up_requests(&self) -> u64 {
        self.inner
            .tier_up_requests
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Receives one [`TierEvent`] per tier change from now on.
    pub fn subscribe_tiering(&self) -> std::sync::mpsc::Receiver<TierEvent> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.inner
            .events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx);
        rx
    }

    pub(crate) fn emit(&self, ev: TierEvent) {
        let mut subs = self.inner.events.lock().unwrap_or_else(|e| e.into_inner());
        subs.retain(|s| s.send(ev.clone()).is_ok());
    }

    pub(crate) fn entry_trampoline(&self, ty: &FuncType) -> Result<trampolines::EntryFn> {
        let obj = cached(&self.inner.entry, ty, || trampolines::entry_trampoline(ty))?;
        // SAFETY: the code object holds an entry trampoline with the EntryFn ABI
        // and lives in the engine's cache for as long as the engine.
        Ok(unsafe { std::mem::transmute::<*const u8, trampolines::EntryFn>(obj.func_ptr(0)) })
    }

    /// The trampoline through which compiled code calls a host function of
    /// type `ty`; it enters the runtime at `host_entry`.
    pub(crate) fn host_trampoline(
        &self,
        ty: &FuncType,
        host_entry: trampolines::HostEntryFn,
    ) -> Result<*const u8> {
        let obj = cached(&self.inner.host, ty, || {
            trampolines::host_trampoline(ty, host_entry)
        })?;
        Ok(obj.func_ptr(0))
    }
}

fn cached(
    map: &Mutex<HashMap<FuncType, Arc<CodeObject>>>,
    ty: &FuncType,
    make: impl FnOnce() -> crate::code::FuncCode,
) -> Result<Arc<CodeObject>> {
    let mut m = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(o) = m.get(ty) {
        return Ok(o.clone());
    }
    let obj = code::publish(CodeKind::Trampoline, 0, vec![(u32::MAX, make())]).map_err(|e| {
        Error::Io {
            context: "mapping trampoline code".into(),
            source: e,
        }
    })?;
    m.insert(ty.clone(), obj.clone());
    Ok(obj)
}

/// The baseline compiler emits lzcnt, tzcnt, popcnt, SSE4.1 rounding and
/// vector instructions up to SSE4.2 (`pcmpgtq`; see `baseline/x64/simd.rs`).
fn check_cpu() -> Result<()> {
    let ok = std::arch::is_x86_feature_detected!("lzcnt")
        && std::arch::is_x86_feature_detected!("bmi1")
        && std::arch::is_x86_feature_detected!("popcnt")
        && std::arch::is_x86_feature_detected!("sse4.1")
        && std::arch::is_x86_feature_detected!("sse4.2");
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(
            "this CPU lacks lzcnt/bmi1/popcnt/sse4.1/sse4.2, which wdb's code generator requires"
                .into(),
        ))
    }
}
