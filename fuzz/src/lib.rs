//! wdb-fuzz: differential fuzzing of every wdb tier against wasmi on
//! generated modules, and malformed-module fuzzing on mutations of the spec
//! suite. The library holds the generator, the oracles and the runners; the
//! `wdb-fuzz` binary drives them in subprocess chunks at scale, and the
//! repository's tests run slices of the same code.

pub mod chunks;
pub mod differential;
pub mod malformed;
pub mod mutate;
pub mod outcome;
pub mod reference;
pub mod smith;
pub mod spectest;
pub mod tiers;
pub mod watchdog;

/// SplitMix64: the one pseudo-random source of the fuzzer (deterministic, so
/// every case is reproducible from its number and seed).
pub fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// What one case concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every tier was compared with the reference over the whole plan.
    Judged,
    /// Compared only up to some point, or not at all: the reference could not
    /// judge it (fuel, wasmi limits) or the engines' limits differ (stack
    /// depth, watchdog).
    Inconclusive,
    /// No case to run: the generator produced no module in wdb's feature set.
    Skipped,
}

/// The result of one case: its status, counters and anything wrong.
#[derive(Debug, Clone)]
pub struct CaseResult {
    pub status: Status,
    /// Calls compared (summed over tiers).
    pub calls: u64,
    /// Tier-ups observed under the `dynamic` tier.
    pub tierups: u64,
    /// Disagreements, panics and implausible trap places, one line each.
    pub findings: Vec<String>,
}

impl CaseResult {
    pub fn new(status: Status) -> CaseResult {
        CaseResult {
            status,
            calls: 0,
            tierups: 0,
            findings: Vec::new(),
        }
    }
}

/// Counters over many cases.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub cases: u64,
    pub judged: u64,
    pub inconclusive: u64,
    pub skipped: u64,
    pub calls: u64,
    pub tierups: u64,
    /// (case, one-line description): disagreements and crashes.
    pub findings: Vec<(u64, String)>,
}

impl Tally {
    pub fn add(&mut self, case: u64, r: &CaseResult) {
        self.cases += 1;
        match r.status {
            Status::Judged => self.judged += 1,
            Status::Inconclusive => self.inconclusive += 1,
            Status::Skipped => self.skipped += 1,
        }
        self.calls += r.calls;
        self.tierups += r.tierups;
        for f in &r.findings {
            self.findings.push((case, f.clone()));
        }
    }

    pub fn merge(&mut self, other: &Tally) {
        self.cases += other.cases;
        self.judged += other.judged;
        self.inconclusive += other.inconclusive;
        self.skipped += other.skipped;
        self.calls += other.calls;
        self.tierups += other.tierups;
        self.findings.extend(other.findings.iter().cloned());
    }

    /// Why the run fails on its counts alone (too many cases that were not
    /// judged), if it does: at most `INCONCLUSIVE_CAP_PERCENT` percent of the
    /// cases may be inconclusive and as many skipped.
    pub fn cap_violation(&self) -> Option<String> {
        let cap = |n: u64| n * 100 > self.cases * INCONCLUSIVE_CAP_PERCENT;
        if self.cases == 0 {
            return Some("no cases ran".into());
        }
        if cap(self.inconclusive) {
            return Some(format!(
                "{} of {} cases inconclusive, more than the {INCONCLUSIVE_CAP_PERCENT}% cap",
                self.inconclusive, self.cases
            ));
        }
        if cap(self.skipped) {
            return Some(format!(
                "{} of {} cases skipped (no module generated), more than the {INCONCLUSIVE_CAP_PERCENT}% cap",
                self.skipped, self.cases
            ));
        }
        None
    }

    /// The summary line: `N cases, M disagreements/crashes (...)`.
    pub fn summary(&self) -> String {
        format!(
            "{} cases, {} disagreements/crashes ({} judged, {} inconclusive, {} skipped, {} calls compared, {} tier-ups)",
            self.cases,
            self.findings.len(),
            self.judged,
            self.inconclusive,
            self.skipped,
            self.calls,
            self.tierups
        )
    }
}

/// Most cases, in percent, that may be inconclusive (or skipped) before a run
/// fails: a run that mostly cannot judge its cases tests nothing.
pub const INCONCLUSIVE_CAP_PERCENT: u64 = 5;

static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());
static HOOK: std::sync::Once = std::sync::Once::new();

/// Runs `f`, turning a panic into `Err` with its message and place. The first
/// call replaces the panic hook with one that records instead of printing
/// (panics on other threads still reach stderr through it).
pub fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| info.payload().downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "(non-text payload)".into());
            let place = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            let line = format!("{msg}{place}");
            eprintln!("panic: {line}");
            *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = line;
        }));
    });
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|_| {
        let line = LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).clone();
        line.split_whitespace().collect::<Vec<_>>().join(" ")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally(judged: u64, inconclusive: u64, skipped: u64) -> Tally {
        let mut t = Tally::default();
        let mut case = 0;
        for (n, s) in [
            (judged, Status::Judged),
            (inconclusive, Status::Inconclusive),
            (skipped, Status::Skipped),
        ] {
            for _ in 0..n {
                t.add(case, &CaseResult::new(s));
                case += 1;
            }
        }
        t
    }

    #[test]
    fn inconclusive_and_skipped_cases_are_capped() {
        assert_eq!(tally(95, 5, 0).cap_violation(), None);
        assert_eq!(tally(95, 0, 5).cap_violation(), None);
        let m = tally(94, 6, 0).cap_violation().unwrap();
        assert!(m.contains("6 of 100 cases inconclusive"), "{m}");
        let m = tally(90, 4, 6).cap_violation().unwrap();
        assert!(m.contains("6 of 100 cases skipped"), "{m}");
        assert!(Tally::default().cap_violation().is_some());
    }

    #[test]
    fn the_summary_line_counts_cases_and_findings() {
        let mut t = tally(3, 1, 0);
        let mut r = CaseResult::new(Status::Judged);
        r.findings.push("x".into());
        r.findings.push("y".into());
        t.add(9, &r);
        assert!(
            t.summary()
                .starts_with("5 cases, 2 disagreements/crashes (4 judged, 1 inconclusive"),
            "{}",
            t.summary()
        );
    }
}
