//! Differential mode: a generated module (see [`crate::smith`]) runs in wasmi
//! first, then in every wdb tier along the same plan; results, trap kinds and
//! instantiation outcomes must match wasmi's, and trap places (the whole wasm
//! backtrace) must be plausible and the same in every tier.
//!
//! Stack exhaustion depends on each engine's limits, so a case where only one
//! side runs out of stack is inconclusive from there on; so is a call the
//! watchdog interrupts (wasmi finished it within its fuel, wdb did not within
//! [`WATCHDOG`]).

use crate::outcome::{
    from_wdb, operators, plausible, to_wdb, trap_place, wdb_kind, Kind, NotATrap, Outcome,
    TrapPlace,
};
use crate::reference::{Reference, Step};
use crate::smith::Proposals;
use crate::tiers::TierEngine;
use crate::watchdog::Watchdog;
use crate::{catch, CaseResult, Status};
use std::time::Duration;

/// How long one wdb call or instantiation may run before it is interrupted.
pub const WATCHDOG: Duration = Duration::from_secs(3);

/// What comparing one tier concluded.
enum Verdict {
    Agree {
        calls: usize,
    },
    /// Could not be judged past some point (stack limits differ, watchdog).
    Inconclusive {
        calls: usize,
    },
}

/// The engines and watchdog of a differential run (made once, used for every
/// seed).
pub struct Differential {
    pub tiers: Vec<TierEngine>,
    proposals: Proposals,
    dog: Watchdog,
}

impl Differential {
    /// Generated modules in Wasm 2.0 without SIMD.
    pub fn new(tiers: &[wdb::Strategy]) -> Result<Differential, String> {
        Differential::with_proposals(tiers, Proposals::default())
    }

    /// Generated modules that may also use `proposals`.
    pub fn with_proposals(
        tiers: &[wdb::Strategy],
        proposals: Proposals,
    ) -> Result<Differential, String> {
        Differential::stressed(tiers, proposals, crate::tiers::OsrStress::default())
    }

    /// Like [`Differential::with_proposals`], every tier's engine under the
    /// OSR stress setting `osr` (frames move between codes at loop headers).
    pub fn stressed(
        tiers: &[wdb::Strategy],
        proposals: Proposals,
        osr: crate::tiers::OsrStress,
    ) -> Result<Differential, String> {
        Ok(Differential {
            tiers: crate::tiers::stressed_engines(tiers, osr)?,
            proposals,
            dog: Watchdog::new(),
        })
    }

    /// Checks the module of `seed` in every tier.
    pub fn check_seed(&self, seed: u64) -> CaseResult {
        let Some(wasm) = crate::smith::generate_with(seed, self.proposals) else {
            return CaseResult::new(Status::Skipped);
        };
        if !crate::smith::in_wdb_features(&wasm) {
            return CaseResult::new(Status::Skipped);
        }
        self.check_module(&wasm, seed)
    }

    /// Checks one valid module; `seed` picks the call arguments.
    pub fn check_module(&self, wasm: &[u8], seed: u64) -> CaseResult {
        self.check_pair(wasm, wasm, seed)
    }

    /// Runs `reference` in wasmi and `wasm` in wdb along the same plan (the
    /// two differ only when testing the oracle itself).
    pub fn check_pair(&self, reference: &[u8], wasm: &[u8], seed: u64) -> CaseResult {
        // wasmi is the oracle, not the subject: its panics make a case
        // inconclusive, not a finding.
        let reference = match catch(|| crate::reference::run(reference, seed)) {
            Ok(Some(r)) => r,
            Ok(None) | Err(_) => return CaseResult::new(Status::Inconclusive),
        };
        let mut result = CaseResult::new(Status::Judged);
        // Trap places per tier: every tier must name the same frames and offsets.
        let mut all_places: Vec<Vec<(usize, TrapPlace)>> = Vec::new();
        for tier in &self.tiers {
            let what = format!("[{}]", tier.name());
            let mut places = Vec::new();
            let verdict =
                catch(|| compare_wdb(tier, wasm, &reference, &self.dog, &what, &mut places))
                    .unwrap_or_else(|p| Err(format!("{what}: panic: {p}")));
            result.tierups += tier.take_tierups();
            all_places.push(places);
            match verdict {
                Ok(Verdict::Agree { calls }) => result.calls += calls as u64,
                Ok(Verdict::Inconclusive { calls }) => {
                    result.calls += calls as u64;
                    result.status = Status::Inconclusive;
                }
                Err(m) => result.findings.push(m),
            }
        }
        // Every place must name operators that can have trapped, and every
        // tier the first tier's place for the same step.
        let ops = operators(wasm);
        for (k, places) in all_places.iter().enumerate() {
            let tier = self.tiers[k].name();
            for (n, place) in places {
                let step = step_name(*n);
                if !plausible(place, &ops) {
                    result
                        .findings
                        .push(format!("[{tier}]: {step} traps at implausible {place:?}"));
                    continue;
                }
                if k == 0 {
                    continue;
                }
                if let Some((_, first)) = all_places[0].iter().find(|(m, _)| m == n) {
                    if first != place {
                        result.findings.push(format!(
                            "{step} traps at {place:?} in {tier}, at {first:?} in {}",
                            self.tiers[0].name()
                        ));
                    }
                }
            }
        }
        result
    }
}

fn step_name(n: usize) -> String {
    if n == usize::MAX {
        "instantiation".into()
    } else {
        format!("call #{n}")
    }
}

/// Runs the reference plan in one tier. `places` receives, for each call that
/// trapped (by call number; `usize::MAX` = instantiation), where it trapped.
fn compare_wdb(
    tier: &TierEngine,
    wasm: &[u8],
    reference: &Reference,
    dog: &Watchdog,
    what: &str,
    places: &mut Vec<(usize, TrapPlace)>,
) -> Result<Verdict, String> {
    let engine = &tier.engine;
    let module = wdb::Module::new(engine, wasm)
        .map_err(|e| format!("{what}: wdb rejects the module: {e}"))?;
    let instantiate = || {
        let mut store = wdb::Store::new(engine, ());
        dog.arm(store.interrupt_handle(), WATCHDOG);
        let inst = wdb::Instance::new(&mut store, &module, &[]);
        dog.disarm();
        inst.map(|i| (store, i))
    };
    let (mut store, mut instance) = match (instantiate(), &reference.instantiate) {
        (Ok(si), Ok(())) => si,
        (Err(e), Err(k)) => {
            let got = match wdb_kind(&e) {
                Ok(got) => got,
                Err(NotATrap::Interrupted) => return Ok(Verdict::Inconclusive { calls: 0 }),
                Err(NotATrap::Other(m)) => return Err(format!("{what}: instantiation: {m}")),
            };
            if got != Kind::StackOverflow {
                places.push((usize::MAX, trap_place(got, &e)));
            }
            if got != *k {
                if got == Kind::StackOverflow || *k == Kind::StackOverflow {
                    return Ok(Verdict::Inconclusive { calls: 0 });
                }
                return Err(format!(
                    "{what}: instantiation traps with {got:?}, wasmi with {k:?}"
                ));
            }
            return Ok(Verdict::Agree { calls: 0 });
        }
        (Ok(_), Err(k)) => {
            if *k == Kind::StackOverflow {
                return Ok(Verdict::Inconclusive { calls: 0 });
            }
            return Err(format!(
                "{what}: instantiation succeeds, wasmi traps with {k:?}"
            ));
        }
        (Err(e), Ok(())) => {
            if matches!(
                wdb_kind(&e),
                Ok(Kind::StackOverflow) | Err(NotATrap::Interrupted)
            ) {
                return Ok(Verdict::Inconclusive { calls: 0 });
            }
            return Err(format!(
                "{what}: instantiation fails ({e}), wasmi instantiates"
            ));
        }
    };
    let mut n = 0;
    for step in &reference.steps {
        let (call, want) = match step {
            Step::Call(c, o) => (c, o),
            Step::Reset => {
                (store, instance) =
                    instantiate().map_err(|e| format!("{what}: re-instantiation fails: {e}"))?;
                continue;
            }
        };
        let f = instance
            .get_func(&store, &call.name)
            .ok_or_else(|| format!("{what}: no export {}", call.name))?;
        let ty = f
            .ty(&store)
            .ok_or_else(|| format!("{what}: export {} has no signature", call.name))?;
        let args: Vec<wdb::Val> = call.args.iter().map(|&(p, b)| to_wdb(p, b)).collect();
        let mut out: Vec<wdb::Val> = ty
            .results()
            .iter()
            .map(|t| wdb::Val::default_for(*t))
            .collect();
        dog.arm(store.interrupt_handle(), WATCHDOG);
        let r = f.call(&mut store, &args, &mut out);
        dog.disarm();
        let got = match r {
            Ok(()) => Outcome::Values(out.iter().map(from_wdb).collect()),
            Err(e) => match wdb_kind(&e) {
                Ok(k) => {
                    if k != Kind::StackOverflow {
                        places.push((n, trap_place(k, &e)));
                    }
                    Outcome::Trap(k)
                }
                Err(NotATrap::Interrupted) => return Ok(Verdict::Inconclusive { calls: n }),
                Err(NotATrap::Other(m)) => {
                    return Err(format!("{what}: call {} {:?}: {m}", call.name, call.args))
                }
            },
        };
        if got != *want {
            if got.is_stack_overflow() || want.is_stack_overflow() {
                return Ok(Verdict::Inconclusive { calls: n });
            }
            return Err(format!(
                "{what}: call #{n} {}({:?}): wdb {got:?}, wasmi {want:?}",
                call.name, call.args
            ));
        }
        n += 1;
    }
    Ok(Verdict::Agree { calls: n })
}
