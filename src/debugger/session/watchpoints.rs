//! Watchpoints of a session (`watch`, `rwatch`, `awatch`, `info watchpoints`,
//! `delete`): the list, numbered with the breakpoints; arming each in the
//! engine's watch table (`vm::watch`: debug registers, else page
//! protection) against the running
//! instance; suspending them while the program is stopped (the debugger reads
//! memory freely) and arming them again on resume; turning a recorded hit
//! into a stop with gdb's old/new values and the instruction that made it.
//!
//! Invariant: a watchpoint's slot is armed only while its instance runs, and
//! changes (arm, delete) happen only while the program is paused or ended.

use super::shared::{lock, Shared};
use crate::code::{self, CodeKind};
use crate::debugger::api::*;
use crate::runtime::debug::DebugContext;
use crate::vm::watch;

/// One watchpoint and its slot in the engine's table (while armed).
pub(crate) struct WatchEntry {
    pub wp: Watchpoint,
    pub slot: Option<usize>,
}

/// Lets watchpoints use the debug registers (`true`, the default) or only
/// page protection (`false`), process-wide, for watchpoints armed from now on.
pub fn use_hardware_watchpoints(on: bool) {
    watch::set_hardware(on);
}

fn engine_kind(k: WatchKind) -> watch::Kind {
    match k {
        WatchKind::Write => watch::Kind::Write,
        WatchKind::Read => watch::Kind::Read,
        WatchKind::Access => watch::Kind::Access,
    }
}

impl Shared {
    /// The watchpoints, in the order they were set.
    pub(crate) fn watchpoints(&self) -> Vec<Watchpoint> {
        lock(&self.watches).iter().map(|e| e.wp.clone()).collect()
    }

    /// True if `id` names a watchpoint.
    pub(crate) fn is_watchpoint(&self, id: u32) -> bool {
        lock(&self.watches).iter().any(|e| e.wp.id == id)
    }

    /// Arms one watchpoint in the paused instance (suspended: we are
    /// stopped) and notes how in `wp`.
    fn arm_entry(&self, ctx: &DebugContext<'_>, wp: &mut Watchpoint) -> Result<usize, String> {
        let live = self.live().ok_or("the program is not running")?;
        let mem = ctx
            .linear_memory()
            .ok_or("the module has no linear memory")?;
        let (debug_bytes, debug_byte_count) = live.flags.raw();
        let (interrupt_flags, stack_limit) = live.interrupt.raw();
        let stop = watch::StopTarget {
            debug_bytes,
            debug_byte_count,
            interrupt_flags,
            stack_limit,
            keep: Box::new((live.flags.clone(), live.interrupt.clone())),
        };
        let (slot, how) = watch::arm(mem, wp.addr, wp.len as usize, engine_kind(wp.kind), stop)?;
        wp.mechanism = match how {
            watch::Mechanism::DebugRegisters(n) => WatchMechanism::DebugRegisters(n),
            watch::Mechanism::PageProtection(why) => WatchMechanism::PageProtection(why),
        };
        watch::suspend(slot);
        Ok(slot)
    }

    /// `watch EXPR` (and `rwatch`, `awatch`) while paused.
    pub(crate) fn watch_command(
        &self,
        ctx: &DebugContext<'_>,
        snap: &Snapshot,
        frame: usize,
        kind: WatchKind,
        expr: String,
    ) {
        let (addr, len) = match self.watch_target(ctx, snap, frame, &expr) {
            Ok(t) => t,
            Err(e) => {
                self.emit(Event::Error(format!("cannot watch `{expr}`: {e}")));
                return;
            }
        };
        let id = {
            let mut c = self.control();
            c.next_id += 1;
            c.next_id
        };
        let mut wp = Watchpoint {
            id,
            kind,
            expr,
            addr,
            len: len as u32,
            hits: 0,
            mechanism: WatchMechanism::NotArmed,
        };
        match self.arm_entry(ctx, &mut wp) {
            Ok(slot) => {
                // Listed before the answer goes out, so `info watchpoints`
                // right after the answer sees it.
                let message = format!("{} {id}: {}", kind.title(), wp.expr);
                lock(&self.watches).push(WatchEntry {
                    wp,
                    slot: Some(slot),
                });
                self.emit(Event::Message(message));
            }
            Err(e) => self.emit(Event::Error(format!("cannot watch `{}`: {e}", wp.expr))),
        }
    }

    /// `delete N` of a watchpoint, or `delete` of all (paused or ended).
    pub(crate) fn delete_watches(&self, id: Option<u32>) -> usize {
        let mut list = lock(&self.watches);
        let mut n = 0;
        list.retain(|e| {
            let gone = id.is_none_or(|i| i == e.wp.id);
            if gone {
                if let Some(s) = e.slot {
                    watch::disarm(s);
                }
                n += 1;
            }
            !gone
        });
        n
    }

    /// The program stopped: watched pages become plain memory, and
    /// watchpoints set before a restart are armed in the new instance.
    pub(crate) fn watches_stopped(&self, ctx: &DebugContext<'_>) {
        let mut list = lock(&self.watches);
        for e in list.iter_mut() {
            match e.slot {
                Some(s) => watch::suspend(s),
                None => match self.arm_entry(ctx, &mut e.wp) {
                    Ok(s) => e.slot = Some(s),
                    Err(err) => self.emit(Event::Error(format!(
                        "watchpoint {} (`{}`) not armed: {err}",
                        e.wp.id, e.wp.expr
                    ))),
                },
            }
        }
    }

    /// The program resumes: watched bytes snapshotted, pages protected again.
    pub(crate) fn watches_resumed(&self) {
        for e in lock(&self.watches).iter() {
            if let Some(s) = e.slot {
                watch::resume(s);
            }
        }
    }

    /// The instance is gone: every slot is released (armed again at the next run's first stop).
    pub(crate) fn watches_ended(&self) {
        for e in lock(&self.watches).iter_mut() {
            if let Some(s) = e.slot.take() {
                watch::disarm(s);
            }
            e.wp.mechanism = WatchMechanism::NotArmed;
        }
    }

    /// A stop at a watchpoint, if one saw an access since the program resumed.
    pub(crate) fn watch_stop(&self, ctx: &DebugContext<'_>) -> Option<StopReason> {
        if !watch::any_armed() {
            return None;
        }
        let mut list = lock(&self.watches);
        if !list.iter().any(|e| e.slot.is_some_and(watch::has_hit)) {
            return None;
        }
        // One watchpoint per stop; another one hit meanwhile stops again at
        // once when the program resumes (`watch::resume`).
        let mut first = None;
        for e in list.iter_mut() {
            let Some(slot) = e.slot else { continue };
            let Some(hit) = watch::take_hit(slot) else {
                continue;
            };
            e.wp.hits += 1;
            first = Some((e.wp.clone(), hit, watch::snapshot(slot)));
            break;
        }
        drop(list);
        let (wp, hit, old) = first?;
        let now = ctx
            .memory()
            .and_then(|m| m.get(wp.addr as usize..(wp.addr + wp.len as u64) as usize))
            .map(<[u8]>::to_vec)
            .unwrap_or_default();
        let info = (hit.pc != 0).then(|| code::lookup_pc(hit.pc)).flatten();
        let (offset, func, tier) = match &info {
            Some(i) if i.module_id == self.module.info().id => (
                i.wasm_offset,
                i.func_index.map(|f| self.func_name(f)),
                match i.kind {
                    CodeKind::Wasm(_) if i.osr => Some(FrameTier::Osr),
                    CodeKind::Wasm(t) => Some(FrameTier::from_tier(t)),
                    CodeKind::Trampoline => None,
                },
            ),
            _ => (None, None, None),
        };
        let show_old = hit.write && wp.kind != WatchKind::Read;
        Some(StopReason::Watchpoint(Box::new(WatchStop {
            id: wp.id,
            kind: wp.kind,
            expr: wp.expr.clone(),
            addr: wp.addr,
            len: wp.len,
            write: hit.write,
            old: show_old.then(|| self.watch_value(ctx, &wp, &old)),
            value: self.watch_value(ctx, &wp, &now),
            offset,
            func,
            tier,
            source: offset.and_then(|o| self.source_pos(o)),
            host: hit.host.map(str::to_string),
        })))
    }
}
