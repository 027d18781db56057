//! The `catch throw` catchpoint of a session: set and deleted like a
//! breakpoint (numbered with them, listed by `info breakpoints`), and the
//! stop it makes when the engine reports a throw (`HookKind::Throw`, from
//! `vm::unwind::raise` before any frame unwinds).

use super::shared::Control;
use super::Shared;
use crate::debugger::api::*;
use crate::runtime::debug::DebugContext;

impl Shared {
    /// `catch throw` (on) or deleting the catchpoint (off).
    pub(crate) fn catch_throw(&self, on: bool) {
        if on && self.mode() == DebugMode::Running {
            // As a breakpoint does: stepping from the stop needs debug code.
            if let Some(live) = self.live() {
                self.attach(&live);
            }
        }
        let mut c = self.control();
        let message = match (&c.catch_throw, on) {
            (Some(cp), true) => format!("Catchpoint {} (throw) is already set", cp.id),
            (None, true) => {
                c.next_id += 1;
                let id = c.next_id;
                c.catch_throw = Some(Catchpoint { id, hits: 0 });
                format!("Catchpoint {id} (throw)")
            }
            (Some(cp), false) => {
                let id = cp.id;
                c.catch_throw = None;
                format!("Deleted catchpoint {id}")
            }
            (None, false) => "no catchpoint".into(),
        };
        // A throw may come from any function: debug code everywhere while set.
        self.apply_flags(&c);
        drop(c);
        self.emit(Event::Message(message));
    }

    /// Deletes the catchpoint if it is number `id` (`None`: whatever its
    /// number); true if one was deleted.
    pub(crate) fn delete_catchpoint(&self, id: Option<u32>) -> bool {
        let mut c = self.control();
        if c.catch_throw
            .as_ref()
            .is_some_and(|cp| id.is_none_or(|i| i == cp.id))
        {
            c.catch_throw = None;
            self.apply_flags(&c);
            return true;
        }
        false
    }

    /// True if `id` is the catchpoint's number.
    pub(crate) fn is_catchpoint(&self, id: u32) -> bool {
        self.control()
            .catch_throw
            .as_ref()
            .is_some_and(|cp| cp.id == id)
    }

    /// The stop a throw makes: with a catchpoint set (and not profiling),
    /// always; the thrower's frame is the top frame.
    pub(crate) fn throw_stop(&self, c: &mut Control, ctx: &DebugContext<'_>) -> Option<StopReason> {
        if c.profile {
            return None;
        }
        let cp = c.catch_throw.as_mut()?;
        let thrown = ctx.thrown()?;
        cp.hits += 1;
        let id = cp.id;
        c.step = None;
        c.pause_requested = false;
        // LLVM's libunwind throws every C++ exception from
        // `_Unwind_RaiseException` with the `__cpp_exception` tag, whose
        // payload is the address of the exception's `_Unwind_Exception`
        // (linkers leave the tag unnamed).
        let mut tag = thrown.tag;
        if ctx.module_id == self.module.info().id
            && self.func_name(ctx.func_index) == "_Unwind_RaiseException"
        {
            let header = thrown
                .values
                .first()
                .and_then(|v| v.strip_prefix("i32:")?.parse::<i32>().ok());
            let ty = header.zip(ctx.memory()).and_then(|(at, memory)| {
                crate::debugger::cxx_exception::thrown_type(memory, at as u32)
            });
            match ty {
                Some(t) => {
                    tag.push_str(&format!(" (__cpp_exception, a C++ exception of type {t})"))
                }
                None => tag.push_str(" (__cpp_exception, a C++ exception)"),
            }
        }
        Some(StopReason::Throw(Box::new(ThrowStop {
            id,
            tag,
            values: thrown.values,
        })))
    }
}
