//! The wdb tiers a run checks, parsed from `--tiers`, and one engine per tier
//! configured for fuzzing (the `dynamic` tier with a tiny tier-up budget so
//! functions move up while a case runs).

use std::sync::mpsc::Receiver;

/// Tier-up budget of the `dynamic` tier: a few calls or loop iterations of a
/// generated function, so most cases run code of both tiers.
pub const DYNAMIC_BUDGET: i32 = 200;

/// Every tier, in the order runs compare them (the first is the reference for
/// trap places).
pub const ALL: [wdb::Strategy; 5] = [
    wdb::Strategy::Baseline,
    wdb::Strategy::Debug,
    wdb::Strategy::Optimized,
    wdb::Strategy::Mixed,
    wdb::Strategy::Dynamic,
];

/// The name `--tiers` and reports use.
pub fn name(s: wdb::Strategy) -> &'static str {
    match s {
        wdb::Strategy::Baseline => "baseline",
        wdb::Strategy::Debug => "debug",
        wdb::Strategy::Optimized => "optimized",
        wdb::Strategy::Mixed => "mixed",
        wdb::Strategy::Dynamic => "dynamic",
    }
}

/// Parses a comma-separated tier list (`baseline,debug,...`); order follows
/// [`ALL`], duplicates collapse.
pub fn parse(list: &str) -> Result<Vec<wdb::Strategy>, String> {
    let mut want = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let s = wdb::Strategy::parse(part).ok_or_else(|| {
            format!(
                "unknown tier `{part}` in --tiers (expected some of {})",
                wdb::Strategy::NAMES.join(",")
            )
        })?;
        want.push(s);
    }
    if want.is_empty() {
        return Err("--tiers names no tier".into());
    }
    Ok(ALL.iter().copied().filter(|s| want.contains(s)).collect())
}

/// The comma-separated form of a tier list.
pub fn list(tiers: &[wdb::Strategy]) -> String {
    tiers.iter().map(|&s| name(s)).collect::<Vec<_>>().join(",")
}

/// A tier's engine and, for `dynamic`, its tier-change events.
pub struct TierEngine {
    pub strategy: wdb::Strategy,
    pub engine: wdb::Engine,
    events: Option<Receiver<wdb::tiering::TierEvent>>,
}

impl TierEngine {
    pub fn new(strategy: wdb::Strategy) -> Result<TierEngine, String> {
        TierEngine::stressed(strategy, OsrStress::default())
    }

    /// An engine that also moves frames at loop headers (test-only OSR
    /// stress, see `wdb::Config::osr_stress`).
    pub fn stressed(strategy: wdb::Strategy, osr: OsrStress) -> Result<TierEngine, String> {
        let engine = wdb::Engine::new(wdb::Config {
            strategy,
            tiering_budget: DYNAMIC_BUDGET,
            tiering_threads: 1,
            osr_stress: osr.every,
            osr_stress_mode: osr.mode,
            ..wdb::Config::default()
        })
        .map_err(|e| format!("{} engine: {e}", name(strategy)))?;
        let events = (strategy == wdb::Strategy::Dynamic).then(|| engine.subscribe_tiering());
        Ok(TierEngine {
            strategy,
            engine,
            events,
        })
    }

    pub fn name(&self) -> &'static str {
        name(self.strategy)
    }

    /// Tier-ups since the last call (background compiles that finished).
    pub fn take_tierups(&self) -> u64 {
        self.events.as_ref().map_or(0, |rx| {
            rx.try_iter()
                .filter(|ev| ev.to == wdb::Tier::Optimized)
                .count() as u64
        })
    }
}

/// One engine per tier.
pub fn engines(tiers: &[wdb::Strategy]) -> Result<Vec<TierEngine>, String> {
    stressed_engines(tiers, OsrStress::default())
}

/// One engine per tier, each with the OSR stress setting `osr`.
pub fn stressed_engines(
    tiers: &[wdb::Strategy],
    osr: OsrStress,
) -> Result<Vec<TierEngine>, String> {
    tiers
        .iter()
        .map(|&s| TierEngine::stressed(s, osr))
        .collect()
}

/// The test-only OSR stress setting of a run: every `every`th loop-header
/// check moves its frame the way `mode` says (0 = off).
#[derive(Debug, Clone, Copy, Default)]
pub struct OsrStress {
    pub every: u32,
    pub mode: wdb::OsrStressMode,
}

impl OsrStress {
    /// Parses `--osr-stress MODE:N` (`off`, or `down`, `up`, `alternating`
    /// with N ≥ 1: every Nth loop-header check; `MODE` alone means N = 2).
    pub fn parse(s: &str) -> Result<OsrStress, String> {
        if s == "off" {
            return Ok(OsrStress::default());
        }
        let (mode, every) = s.split_once(':').unwrap_or((s, "2"));
        let mode = wdb::OsrStressMode::ALL
            .into_iter()
            .find(|m| m.name() == mode)
            .ok_or_else(|| format!("--osr-stress {s}: expected off or down|up|alternating[:N]"))?;
        let every = every
            .parse::<u32>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("--osr-stress {s}: N must be a number ≥ 1"))?;
        Ok(OsrStress { every, mode })
    }
}

impl std::fmt::Display for OsrStress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.every {
            0 => write!(f, "off"),
            n => write!(f, "{}:{n}", self.mode.name()),
        }
    }
}
