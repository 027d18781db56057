//! Dynamic tiering: baseline code charges a per-function budget; when it runs
//! out the function is compiled by Cranelift on a background worker and its
//! code-table slot is swapped atomically, so later calls run optimized code
//! while frames already running keep the code they entered (no OSR). Tools
//! force everything down to debug code (`tier_down_all`) or up to optimized
//! code (`tier_up_all`) at any time, from any thread.
//!
//! Invariants: code is never freed while its module lives (the module's code
//! cache owns it), so a frame can always return into old code, and repeated
//! tier switches reuse cached code instead of growing code memory.
//!
//! Layering: the policy sits on the code cache ([`crate::codecache`]), the
//! code table ([`crate::vm::code_table`]) and the engine's compile pool; it
//! does not know the runtime, which reaches it through one hook
//! ([`on_request`]) and hands out [`Tiering`] handles.

pub(crate) mod precompile;

use crate::code::Tier;
use crate::codecache::CompiledModule;
use crate::error::Result;
use crate::vm::code_table::CodeTable;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod debug_code;

/// What the tiering of an instance is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Mode {
    /// Functions move up when their budget runs out (or stay where the
    /// engine's strategy put them if it does not tier).
    Dynamic = 0,
    /// A debugger is attached: every function runs debug baseline code, or
    /// only those that may have to stop and the others plain baseline code
    /// ([`Tiering::set_debug_code`]).
    Debug = 1,
    /// Everything is (being) moved to optimized code (profile mode).
    Optimized = 2,
}

pub use crate::engine::TierEvent;

/// The per-instance state compiled code and tier-up workers share: the
/// code table (in `vm`) plus the policy's own state.
pub struct InstanceShared {
    pub(crate) module: Arc<CompiledModule>,
    /// Code table, budgets and call counts.
    pub table: CodeTable,
    /// Queued for the optimizing tier (so a function is queued once).
    queued: Box<[AtomicBool]>,
    /// Budget ran out at least once (tier-up requested).
    requested: Box<[AtomicBool]>,
    mode: AtomicU8,
    budget: i32,
    /// Debug code compiled ahead of need (see `precompile`).
    precompile: precompile::Precompile,
    /// While a debugger is attached: which defined functions run debug code
    /// (the others run plain baseline code; see `debug_code.rs`).
    want_debug: Box<[AtomicBool]>,
    /// Some function began to want debug code: frames of it deeper on the
    /// stack are moved to it at the next interrupt check (`runtime::osr`).
    callers_pending: AtomicBool,
}

impl InstanceShared {
    pub(crate) fn new(
        module: Arc<CompiledModule>,
        table: CodeTable,
        budget: i32,
    ) -> InstanceShared {
        InstanceShared {
            queued: (0..table.len()).map(|_| AtomicBool::new(false)).collect(),
            want_debug: (0..table.len()).map(|_| AtomicBool::new(true)).collect(),
            callers_pending: AtomicBool::new(false),
            requested: (0..table.len()).map(|_| AtomicBool::new(false)).collect(),
            table,
            mode: AtomicU8::new(Mode::Dynamic as u8),
            budget,
            module,
            precompile: Default::default(),
        }
    }

    fn defined(&self, func: u32) -> Option<usize> {
        let k = func.checked_sub(self.module.info().num_imported_funcs)? as usize;
        (k < self.table.len()).then_some(k)
    }

    pub fn mode(&self) -> Mode {
        match self.mode.load(Ordering::SeqCst) {
            1 => Mode::Debug,
            2 => Mode::Optimized,
            _ => Mode::Dynamic,
        }
    }

    pub fn tier(&self, func: u32) -> Option<Tier> {
        self.table.tier(self.defined(func)?)
    }

    /// Points function `func`'s code-table slot at its `tier` code (which must
    /// be in the module's cache). One atomic store; running frames are unaffected.
    fn install(&self, func: u32, tier: Tier, compile_time: Duration) -> bool {
        match self.module.code_ptr(func, tier) {
            Some(code) => self.install_code(func, tier, code, compile_time),
            None => false,
        }
    }

    /// Points `func`'s slot at `code`, which runs (or leads to) `tier` code.
    fn install_code(&self, func: u32, tier: Tier, code: *const u8, compile_time: Duration) -> bool {
        let Some(from) = self
            .defined(func)
            .and_then(|k| self.table.set(k, code, tier))
        else {
            return false;
        };
        if from != tier {
            let engine = self.module.engine();
            engine.emit(TierEvent {
                module_id: self.module.info().id,
                func_index: func,
                func_name: self.module.info().func_name(func).map(str::to_string),
                from,
                to: tier,
                compile_time,
                at: engine.inner.started.elapsed(),
                note: None,
            });
        }
        true
    }

    /// How hot `func` ran so far: budget exhausted first, then calls plus
    /// budget spent (V8 charges budgets by code size, so both count work).
    fn heat(&self, func: u32) -> (bool, u64) {
        let t = &self.table;
        let requested = self
            .defined(func)
            .is_some_and(|k| self.requested[k].load(Ordering::Relaxed));
        let left = t
            .budgets
            .get(func as usize)
            .map_or(self.budget, |b| b.load(Ordering::Relaxed));
        let calls = t
            .calls
            .get(func as usize)
            .map_or(0, |c| c.load(Ordering::Relaxed));
        // Past its first exhaustion the budget only polls (see `osr_poll`).
        let spent = if requested {
            self.budget as u64
        } else {
            (self.budget as i64 - left as i64).max(0) as u64
        };
        (requested, calls.saturating_add(spent))
    }

    /// Whether a baseline frame of `func` at a loop header should move up
    /// (on-stack replacement). In profile mode always. Under dynamic tiering
    /// only once `func`'s own optimized code is in: a frame still looping in
    /// baseline code then has outlived a whole optimized compile of its
    /// function, so an OSR entry (a compile of about the same cost) likely
    /// pays; a frame that returns sooner gets the optimized code at its next
    /// call, and the OSR entry is never compiled.
    pub(crate) fn wants_osr(&self, func: u32) -> bool {
        match self.mode() {
            Mode::Debug => false,
            Mode::Optimized => true,
            Mode::Dynamic => {
                self.defined(func)
                    .is_some_and(|k| self.requested[k].load(Ordering::Relaxed))
                    && self.tier(func) == Some(Tier::Optimized)
            }
        }
    }

    /// Makes baseline code of `func` call the runtime again after a little
    /// more work ([`Self::osr_poll`]); false when its baseline code charges no
    /// budget (only code compiled for dynamic tiering does), so the caller
    /// must ask another way.
    pub(crate) fn poll_later(&self, func: u32) -> bool {
        if self.module.engine().config().strategy != crate::engine::Strategy::Dynamic {
            return false;
        }
        match self.table.budgets.get(func as usize) {
            Some(b) => {
                b.store(self.osr_poll(func), Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// How much budget a baseline frame of `func` spends before it asks
    /// about on-stack replacement again (its next budget check trips the
    /// interrupt word, so the loop-header check after it calls the runtime):
    /// an eighth of the tier-up budget, and at least 32 charges of its whole
    /// body (a loop charges its body's size per iteration, so a frame looping
    /// in a huge function asks at most every few dozen iterations, two
    /// runtime calls each).
    pub(crate) fn osr_poll(&self, func: u32) -> i32 {
        let body = self
            .module
            .info()
            .body(func)
            .map_or(0, |b| b.range.len() as i64);
        (self.budget as i64 / 8)
            .max(32 * body)
            .clamp(1_000, i32::MAX as i64 - 1) as i32
    }

    fn all_defined(&self) -> Vec<u32> {
        let base = self.module.info().num_imported_funcs;
        (0..self.table.len() as u32).map(|k| base + k).collect()
    }
}

/// What compiled code asks of the tiering through the runtime's builtins.
pub(crate) enum Request {
    /// A lazy stub ran (lazy compilation, or a lazy tier-down): function
    /// `func` needs the code its slot's tier names.
    LazyCode(u32),
    /// Function `func`'s tier-up budget ran out.
    BudgetExhausted(u32),
}

/// The one hook through which the runtime reaches the tiering policy.
/// Returns the code to continue in for [`Request::LazyCode`], null otherwise.
pub(crate) fn on_request(shared: &Arc<InstanceShared>, request: Request) -> Result<*const u8> {
    match request {
        Request::LazyCode(func) => compile_lazily(shared, func),
        Request::BudgetExhausted(func) => {
            budget_exhausted(shared, func);
            Ok(std::ptr::null())
        }
    }
}

/// Called by a lazy stub: the code of the tier `func`'s slot names (debug
/// code after a lazy tier-down; the strategy's tier under lazy compilation),
/// compiled now if needed. The slot is pointed at it if it still points at
/// the stub (a tier switch meanwhile wins).
fn compile_lazily(shared: &Arc<InstanceShared>, func: u32) -> Result<*const u8> {
    let stub = shared.module.lazy_stub(func)?;
    // A switch of the slot's tier while we compile is seen by the check
    // below; a few switches in a row end with the code compiled last.
    for _ in 0..3 {
        let tier = shared.tier(func).unwrap_or(Tier::Debug);
        if tier == Tier::Debug {
            precompile::wait_for(shared, func, Duration::from_secs(2));
        }
        shared.module.ensure_tier(&[func], tier, 1)?;
        let code = shared.module.code_ptr(func, tier).ok_or_else(|| {
            crate::Error::Internal(format!("{} code missing after compile", tier.name()))
        })?;
        let Some(k) = shared.defined(func) else {
            return Ok(code);
        };
        if !shared.table.replace(k, stub, code, tier) || shared.mode() != Mode::Debug {
            return Ok(code);
        }
        // A tier-down (or a change of which functions run debug code)
        // began meanwhile: it stores what it wants before it installs, so
        // the slot, and this call, must lead to the code wanted now.
        let want = shared.debug_session_tier(k);
        if want == tier {
            return Ok(code);
        }
        shared.install_code(func, want, stub, Duration::ZERO);
    }
    let tier = shared.tier(func).unwrap_or(Tier::Debug);
    if tier == Tier::Debug {
        precompile::wait_for(shared, func, Duration::from_secs(2));
    }
    shared.module.ensure_tier(&[func], tier, 1)?;
    shared.module.code_ptr(func, tier).ok_or_else(|| {
        crate::Error::Internal(format!("{} code missing after compile", tier.name()))
    })
}

/// Called (through the `TierUpCheck` builtin) when a function's budget runs out.
/// The first time, `func` is queued for the optimizing tier; after that the
/// budget is only a poll for on-stack replacement (see [`InstanceShared::osr_poll`]).
fn budget_exhausted(shared: &Arc<InstanceShared>, func: u32) {
    let Some(k) = shared.defined(func) else {
        return;
    };
    let first = !shared.requested[k].swap(true, Ordering::SeqCst);
    if first {
        shared
            .module
            .engine()
            .inner
            .tier_up_requests
            .fetch_add(1, Ordering::Relaxed);
    }
    let dynamic = shared.mode() == Mode::Dynamic;
    if first && dynamic {
        queue_optimize(shared, func);
    }
    if let Some(b) = shared.table.budgets.get(func as usize) {
        // Not again until the optimized code is in (its install makes
        // baseline frames still running poll, see `osr_poll`), or a tier
        // switch resets the budgets.
        let polls = dynamic && shared.tier(func) == Some(Tier::Optimized);
        let next = if polls {
            shared.osr_poll(func)
        } else {
            i32::MAX
        };
        b.store(next, Ordering::SeqCst);
    }
}

/// Queues `func` for the optimizing tier on the engine's worker pool.
fn queue_optimize(shared: &Arc<InstanceShared>, func: u32) {
    let Some(k) = shared.defined(func) else {
        return;
    };
    if shared.tier(func) == Some(Tier::Optimized) || shared.queued[k].swap(true, Ordering::SeqCst) {
        return;
    }
    // Too large to optimize: it stays queued (so it is never asked again)
    // and stays baseline; `--trace-tiering` says why.
    if let Some(why) = crate::optimizing::too_large_to_optimize(shared.module.info(), func) {
        let engine = shared.module.engine();
        let tier = shared.tier(func).unwrap_or(Tier::Baseline);
        engine.emit(TierEvent {
            module_id: shared.module.info().id,
            func_index: func,
            func_name: shared.module.info().func_name(func).map(str::to_string),
            from: tier,
            to: tier,
            compile_time: Duration::ZERO,
            at: engine.inner.started.elapsed(),
            note: Some(why),
        });
        return;
    }
    let job_shared = shared.clone();
    let job = Box::new(move || {
        let s = job_shared;
        let t0 = Instant::now();
        let ok = s.module.ensure_tier(&[func], Tier::Optimized, 1).is_ok();
        let spent = t0.elapsed();
        // A debugger may have taken over while we compiled: debug code wins.
        if ok && s.mode() != Mode::Debug && s.install(func, Tier::Optimized, spent) {
            // Baseline frames still looping in `func` ask about on-stack
            // replacement after a little more work (see `wants_osr`).
            if let Some(b) = s.table.budgets.get(func as usize) {
                b.store(s.osr_poll(func), Ordering::SeqCst);
            }
        }
        if let Some(k) = s.defined(func) {
            s.queued[k].store(false, Ordering::SeqCst);
        }
    });
    // Profile mode's tier-up is waited for (the profile is wrong until it
    // is done): normal priority. Dynamic tier-up is background work.
    let pool = shared.module.engine().pool();
    let queued = if shared.mode() == Mode::Optimized {
        pool.submit_foreground(job)
    } else {
        pool.submit(job)
    };
    if !queued {
        shared.queued[k].store(false, Ordering::SeqCst);
    }
}

/// What one function looks like to the tiering.
#[derive(Debug, Clone)]
pub struct FuncTierInfo {
    pub func_index: u32,
    pub name: Option<String>,
    pub tier: Tier,
    /// Budget left before tier-up (the full budget when it has not run).
    pub budget_left: i32,
    /// Calls so far.
    pub calls: u64,
    /// Compile time per tier: baseline, debug, optimized.
    pub compile_times: [Option<Duration>; 3],
}

/// The result of a whole-instance tier switch.
#[derive(Debug, Clone, Copy)]
pub struct TierSwitch {
    pub functions: usize,
    /// Functions compiled (eager) or left to compile on first call (lazy);
    /// the rest reused cached code.
    pub compiled: usize,
    pub time: Duration,
}

/// A thread-safe handle to one instance's tiers.
#[derive(Clone)]
pub struct Tiering {
    shared: Arc<InstanceShared>,
}

impl Tiering {
    pub(crate) fn new(shared: Arc<InstanceShared>) -> Tiering {
        Tiering { shared }
    }

    pub fn mode(&self) -> Mode {
        self.shared.mode()
    }

    pub fn tier(&self, func: u32) -> Option<Tier> {
        self.shared.tier(func)
    }

    /// Every function to debug baseline code. Functions whose debug code was
    /// compiled before get it at once; the others get a lazy stub that compiles
    /// their debug code on their first call (so attaching to a large module
    /// costs one pointer store per function). Frames running other code keep
    /// running it.
    pub fn tier_down_all(&self) -> Result<TierSwitch> {
        let t0 = Instant::now();
        self.shared.mode.store(Mode::Debug as u8, Ordering::SeqCst);
        let funcs = self.debuggable();
        self.shared.want_all_debug();
        let mut lazy = 0;
        for &f in &funcs {
            if !self.shared.install(f, Tier::Debug, Duration::ZERO) {
                let stub = self.shared.module.lazy_stub(f)?;
                self.shared
                    .install_code(f, Tier::Debug, stub, Duration::ZERO);
                lazy += 1;
            }
        }
        Ok(TierSwitch {
            functions: funcs.len(),
            compiled: lazy,
            time: t0.elapsed(),
        })
    }

    /// Starts compiling every function's debug code on a low-priority
    /// background thread, functions on the stack and hot ones first (see
    /// `precompile`), so that a pause finds it ready. `sample` asks the
    /// program thread to report its stack at its next interrupt check.
    /// Once per instance; nothing is installed until a tier-down.
    pub fn precompile_debug(&self, sample: Box<dyn Fn() + Send + 'static>) {
        precompile::start(&self.shared, sample);
    }

    /// Like [`Tiering::tier_down_all`] but compiles all debug code now, in parallel.
    pub fn tier_down_all_eager(&self) -> Result<TierSwitch> {
        let t0 = Instant::now();
        let funcs = self.debuggable();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let compiled = self
            .shared
            .module
            .ensure_tier(&funcs, Tier::Debug, threads)?;
        let s = self.tier_down_all()?;
        Ok(TierSwitch {
            compiled,
            time: t0.elapsed(),
            ..s
        })
    }

    /// The defined functions the debug tier compiles: all of them (vector
    /// code included).
    fn debuggable(&self) -> Vec<u32> {
        self.shared.all_defined()
    }

    /// Queues every function for the optimizing tier; each is swapped in as
    /// its compile finishes (cached code is swapped in at once). Returns the
    /// number of functions queued or swapped.
    pub fn tier_up_all(&self) -> usize {
        self.shared
            .mode
            .store(Mode::Optimized as u8, Ordering::SeqCst);
        let mut funcs = self.shared.all_defined();
        // Hottest first (the workers take jobs in order): functions whose
        // budget ran out, then by calls plus budget spent.
        funcs.sort_by_key(|&f| std::cmp::Reverse(self.shared.heat(f)));
        for &f in &funcs {
            if self.shared.module.code_ptr(f, Tier::Optimized).is_some() {
                self.shared.install(f, Tier::Optimized, Duration::ZERO);
            } else {
                queue_optimize(&self.shared, f);
            }
        }
        funcs.len()
    }

    /// Back to dynamic tiering (a debugger detached): debug code is replaced by
    /// the strategy's own code and budgets start again.
    pub fn resume_dynamic(&self) {
        self.shared
            .mode
            .store(Mode::Dynamic as u8, Ordering::SeqCst);
        let module = &self.shared.module;
        for f in self.shared.all_defined() {
            let home = module.func_tier(f);
            // Debug code, or plain baseline code a debug session chose
            // ([`Tiering::set_debug_code`]) where the strategy's is other.
            let now = self.shared.tier(f);
            let chosen =
                now == Some(Tier::Debug) || (now == Some(Tier::Baseline) && home != Tier::Baseline);
            // Never compiled in its own tier (lazy compilation): its stub.
            if chosen && !self.shared.install(f, home, Duration::ZERO) {
                if let Ok(stub) = module.lazy_stub(f) {
                    self.shared.install_code(f, home, stub, Duration::ZERO);
                }
            }
        }
        self.shared.table.reset_budgets(self.shared.budget);
        for r in self.shared.requested.iter() {
            r.store(false, Ordering::SeqCst);
        }
    }

    /// Number of defined functions currently in each tier (baseline, debug, optimized).
    pub fn counts(&self) -> [usize; 3] {
        let mut c = [0; 3];
        for k in 0..self.shared.table.len() {
            if let Some(t) = self.shared.table.tier(k) {
                c[t as usize] += 1;
            }
        }
        c
    }

    /// Waits until every function is in `tier` (true) or `timeout` passes (false).
    pub fn wait_all(&self, tier: Tier, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        loop {
            if (0..self.shared.table.len()).all(|k| self.shared.table.tier(k) == Some(tier)) {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// The per-function view: tier, budget left, compile times.
    pub fn functions(&self) -> Vec<FuncTierInfo> {
        let module = &self.shared.module;
        self.shared
            .all_defined()
            .into_iter()
            .map(|f| FuncTierInfo {
                func_index: f,
                name: module.info().func_name(f).map(str::to_string),
                tier: self.shared.tier(f).unwrap_or(Tier::Baseline),
                budget_left: self.shared.table.budgets[f as usize].load(Ordering::Relaxed),
                calls: self.shared.table.calls[f as usize].load(Ordering::Relaxed),
                compile_times: module.compile_times(f),
            })
            .collect()
    }
}
