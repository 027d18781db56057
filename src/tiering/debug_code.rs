//! Which functions of a debug session run debug code. Debug code tests its
//! function's debug byte before every wasm instruction, which on `-O0`
//! programs about doubles the instructions a hot function runs. So while
//! nothing has to be able to stop everywhere, only the functions something
//! may stop in (a breakpoint, the frames of a `next` or `finish`) run debug
//! code, and every other function runs plain baseline code, whose interrupt
//! checks at function entry and loop headers are where a pause lands (V8
//! runs Liftoff code and "floods" only the functions it must stop in).
//!
//! A frame already running moves between the two at its next interrupt
//! check (`runtime::osr::at_check`, which asks [`InstanceShared::wants_debug`]),
//! and frames deeper on the stack of a function that begins to want debug
//! code continue in it when their calls return (`runtime::osr_return`,
//! after [`InstanceShared::take_callers_pending`]).
//!
//! Invariant: a function's wish is stored before its code-table slot
//! changes, so a lazy compile racing with a switch installs what is wanted
//! last (`compile_lazily`).

use super::{InstanceShared, Mode, Tiering};
use crate::code::Tier;
use crate::error::Result;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl InstanceShared {
    /// Every function wants debug code (a tier-down of everything).
    pub(super) fn want_all_debug(&self) {
        for w in self.want_debug.iter() {
            w.store(true, Ordering::SeqCst);
        }
        self.callers_pending.store(true, Ordering::SeqCst);
    }

    /// The tier a debug session wants defined function number `k` in.
    pub(super) fn debug_session_tier(&self, k: usize) -> Tier {
        match self.want_debug.get(k).map(|w| w.load(Ordering::SeqCst)) {
            Some(false) => Tier::Baseline,
            _ => Tier::Debug,
        }
    }

    /// True when a debugger is attached and function `func` should run
    /// debug code: frames of it move there at their next interrupt check.
    pub(crate) fn wants_debug(&self, func: u32) -> bool {
        self.mode() == Mode::Debug
            && self
                .defined(func)
                .is_some_and(|k| self.debug_session_tier(k) == Tier::Debug)
    }

    /// True (once) when some function began to want debug code since the
    /// last call: its frames deeper on the stack should move to debug code
    /// when their calls return.
    pub(crate) fn take_callers_pending(&self) -> bool {
        self.mode() == Mode::Debug && self.callers_pending.swap(false, Ordering::SeqCst)
    }
}

impl Tiering {
    /// A debugger is attached: function `f` runs debug code when `wanted(f)`,
    /// plain baseline code otherwise. Only slots whose tier differs change
    /// (code compiled before is installed at once, other functions get a
    /// lazy stub that compiles the wanted code on their first call). Frames
    /// running the other code move at their next interrupt check, which
    /// the caller should trigger (`InterruptHandle::refresh`). Returns the
    /// number of slots changed.
    pub fn set_debug_code(&self, wanted: impl Fn(u32) -> bool) -> Result<usize> {
        let shared = &self.shared;
        shared.mode.store(Mode::Debug as u8, Ordering::SeqCst);
        let funcs = shared.all_defined();
        let (mut changed, mut newly) = (0, false);
        for (k, &f) in funcs.iter().enumerate() {
            let want = wanted(f);
            let was = shared.want_debug[k].swap(want, Ordering::SeqCst);
            newly |= want && !was;
            let tier = if want { Tier::Debug } else { Tier::Baseline };
            if shared.table.tier(k) == Some(tier) {
                continue;
            }
            if !shared.install(f, tier, Duration::ZERO) {
                let stub = shared.module.lazy_stub(f)?;
                shared.install_code(f, tier, stub, Duration::ZERO);
            }
            changed += 1;
        }
        if newly {
            shared.callers_pending.store(true, Ordering::SeqCst);
        }
        Ok(changed)
    }
}
