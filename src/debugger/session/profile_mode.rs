//! Profile mode of a session: `profile on` tiers everything up on a helper
//! thread and starts the sampler, `profile off` tiers back down, and
//! `profile report` symbolizes what was sampled.

use super::shared::lock;
use super::Shared;
use crate::code::Tier;
use crate::debugger::api::*;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

impl Shared {
    /// The program ended: keep what was sampled for `profile report`.
    pub fn stop_profiler_at_end(&self) {
        self.stop_profiler();
    }

    pub(super) fn stop_profiler(&self) {
        let mut p = lock(&self.profiling);
        if let Some(s) = p.sampler.take() {
            let mut got = s.stop();
            p.samples.append(&mut got);
            if let Some(t) = p.started.take() {
                p.elapsed += t.elapsed();
            }
        }
    }

    /// `profile on`: suspend breakpoints, tier everything up (progress as
    /// events), start the sampler. Runs on its own thread.
    pub(super) fn profile_on(self: &Arc<Self>) {
        let Some(live) = self.live() else {
            self.emit(Event::Error(
                "the program is not running (restart it first)".into(),
            ));
            return;
        };
        if self.mode() == DebugMode::Profile || self.switching.swap(true, Ordering::SeqCst) {
            self.emit(Event::Error("profile mode is already on".into()));
            return;
        }
        {
            let mut c = self.control();
            c.profile = true;
            c.step = None;
            c.pause_requested = false;
            c.stop_at_entry = false;
            self.apply_flags(&c);
        }
        live.interrupt.cancel_pause();
        // So that Linux `perf` names the optimized code too.
        if let Err(e) = crate::profile::perf_map::enable() {
            self.emit(Event::Error(format!("no perf map: {e}")));
        }
        let me = self.clone();
        std::thread::Builder::new()
            .name("wdb-profile-on".into())
            .spawn(move || {
                let t0 = Instant::now();
                let total = live.tiering.tier_up_all();
                // A frame running a long loop moves up at its next loop
                // header check (on-stack replacement, `runtime::osr_up`).
                live.interrupt.refresh();
                loop {
                    let done = live.tiering.counts()[2];
                    me.emit(Event::TierProgress {
                        mode: DebugMode::Profile,
                        done,
                        total,
                    });
                    if live
                        .tiering
                        .wait_all(Tier::Optimized, Duration::from_millis(100))
                    {
                        break;
                    }
                    if me.state() == RunState::Ended || !me.control().profile {
                        break;
                    }
                }
                me.set_mode(DebugMode::Profile);
                if let Some(target) = live.thread {
                    match crate::profile::Sampler::start(target, 1000) {
                        Ok(s) => {
                            let mut p = lock(&me.profiling);
                            p.sampler = Some(s);
                            p.started = Some(Instant::now());
                        }
                        Err(e) => me.emit(Event::Error(format!("cannot start the profiler: {e}"))),
                    }
                }
                me.switching.store(false, Ordering::SeqCst);
                me.emit(Event::ModeChanged {
                    mode: DebugMode::Profile,
                    functions: total,
                    elapsed: t0.elapsed(),
                });
            })
            .map(|_| ())
            .unwrap_or_else(|e| self.emit(Event::Error(format!("cannot start a thread: {e}"))));
    }

    /// `profile off`: stop sampling, tier everything down, restore breakpoints.
    pub(super) fn profile_off(&self) {
        if self.mode() != DebugMode::Profile {
            self.emit(Event::Error("profile mode is not on".into()));
            return;
        }
        self.stop_profiler();
        let t0 = Instant::now();
        let functions = match self.live() {
            Some(live) => match live.tiering.tier_down_all() {
                Ok(s) => s.functions,
                Err(e) => {
                    self.emit(Event::Error(format!("cannot tier down: {e}")));
                    0
                }
            },
            None => 0,
        };
        {
            let mut c = self.control();
            c.profile = false;
            self.apply_flags(&c);
        }
        self.set_mode(DebugMode::Debug);
        self.emit(Event::ModeChanged {
            mode: DebugMode::Debug,
            functions,
            elapsed: t0.elapsed(),
        });
    }

    pub fn profile_report(&self) -> ProfileReport {
        let p = lock(&self.profiling);
        let mut samples = p.samples.clone();
        if let Some(s) = &p.sampler {
            samples.extend(s.samples());
        }
        let elapsed = p.elapsed + p.started.map(|t| t.elapsed()).unwrap_or_default();
        drop(p);
        let id = self.module.info().id;
        crate::profile::report(&samples, elapsed, &|module, f| {
            if module == id {
                self.func_name(f)
            } else {
                format!("wasm[{module}]::func[{f}]")
            }
        })
    }
}
