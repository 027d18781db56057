//! Breakpoints of a session: resolving a location (offset, function, line)
//! to instructions, the break/delete/enable commands, and the per-function
//! debug bytes that make debug code call the hook only where it must.

use super::shared::{lock, Control, StepKind};
use super::{short_file, Shared};
use crate::debugger::api::*;

impl Shared {
    /// Sets every function's debug byte from the control state: all on while
    /// stepping into or pausing, otherwise the functions with breakpoints
    /// (and, while stepping over or out, the functions on the stack). The
    /// same functions run debug code; every other function runs plain
    /// baseline code (`tiering::debug_code`), except while something may
    /// stop at any instruction: a pause request, the entry stop, `stepi`/`step`,
    /// trap stops, `catch throw` (the thrower's locals) and watchpoints (the
    /// stop lands right after the access), when every function runs debug code.
    pub fn apply_flags(&self, c: &Control) {
        let Some(live) = self.live() else { return };
        if c.profile || (self.mode() == DebugMode::Running && !c.pause_requested) {
            live.flags.set_all(false);
            live.interrupt.refresh();
            return;
        }
        let all = c.pause_requested
            || c.stop_at_entry
            || c.stop_at_traps
            || matches!(
                c.step.as_ref().map(|s| &s.kind),
                Some(StepKind::Into | StepKind::LineInto)
            );
        let everywhere = all || c.catch_throw.is_some() || !lock(&self.watches).is_empty();
        if everywhere {
            self.debug_code_where(&live, |_| true);
        }
        if all {
            live.flags.set_all(true);
            live.interrupt.refresh();
            return;
        }
        let n = live.flags.count();
        let mut on = vec![false; n as usize];
        for b in c.breakpoints.iter().filter(|b| b.enabled) {
            if let Some(x) = on.get_mut(b.func_index as usize) {
                *x = true;
            }
        }
        if let Some(s) = &c.step {
            for &f in &s.stack_funcs {
                if let Some(x) = on.get_mut(f as usize) {
                    *x = true;
                }
            }
        }
        if !everywhere {
            self.debug_code_where(&live, |f| on.get(f as usize).copied().unwrap_or(false));
        }
        for (f, &v) in on.iter().enumerate() {
            live.flags.set(f as u32, v);
        }
        // Running debug code keeps a copy of its byte: have it re-read (and
        // a running frame moves to the code its function wants).
        live.interrupt.refresh();
    }

    /// Debug code for the functions `wanted` names, plain baseline code
    /// for the others.
    fn debug_code_where(&self, live: &super::Live, wanted: impl Fn(u32) -> bool) {
        if let Err(e) = live.tiering.set_debug_code(wanted) {
            self.emit(Event::Error(format!("cannot tier down: {e}")));
        }
    }

    /// Module offset of the first instruction of function `f`'s body.
    pub(super) fn first_instruction(&self, f: u32) -> Option<u32> {
        let info = self.module.info();
        let mut body = info.read_body(f, None).ok()?;
        body.ops.read_with_offset().ok().map(|(_, off)| off as u32)
    }

    /// Module offsets of every instruction of function `f`.
    pub fn instruction_offsets(&self, f: u32) -> Vec<u32> {
        let info = self.module.info();
        let Ok(mut body) = info.read_body(f, None) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        while !body.ops.eof() {
            match body.ops.read_with_offset() {
                Ok((_, off)) => out.push(off as u32),
                Err(_) => break,
            }
        }
        out
    }

    pub(super) fn resolve_function(&self, name: &str) -> Option<u32> {
        let info = self.module.info();
        (0..info.num_funcs()).find(|&f| info.body(f).is_some() && self.func_name(f) == name)
    }

    /// Resolves a breakpoint location to (offset, function) pairs.
    pub(super) fn resolve(&self, at: &BreakAt) -> Result<Vec<(u32, u32)>, String> {
        let info = self.module.info();
        let func_start = |f: u32| -> Result<Vec<(u32, u32)>, String> {
            if f < info.num_imported_funcs {
                return Err(format!(
                    "function {f} is imported; it has no code to stop in"
                ));
            }
            let off = self
                .first_instruction(f)
                .ok_or_else(|| format!("no function {f}"))?;
            Ok(vec![(off, f)])
        };
        match at {
            BreakAt::Offset(off) => {
                let f = info
                    .func_at_offset(*off as usize)
                    .ok_or_else(|| format!("offset {off:#x} is not inside any function body"))?;
                if !self.instruction_offsets(f).contains(off) {
                    return Err(format!(
                        "offset {off:#x} is inside {} but not at the start of an instruction",
                        self.func_name(f)
                    ));
                }
                Ok(vec![(*off, f)])
            }
            BreakAt::FunctionIndex(f) => {
                if *f >= info.num_funcs() {
                    return Err(format!(
                        "no function #{f} (the module has {})",
                        info.num_funcs()
                    ));
                }
                func_start(*f)
            }
            BreakAt::FunctionName(n) => {
                let f = self
                    .resolve_function(n)
                    .ok_or_else(|| format!("no function named `{n}` (see `info functions`)"))?;
                let mut at = func_start(f)?;
                // By source name, past the prologue as gdb does (parameters are stored there);
                // `break #N` and `break 0x…` stay at the wasm instruction.
                if let Some(d) = self.dwarf() {
                    if let Some(off) = d.after_prologue(at[0].0) {
                        if info.func_at_offset(off as usize) == Some(f)
                            && self.instruction_offsets(f).contains(&off)
                        {
                            at = vec![(off, f)];
                        }
                    }
                }
                Ok(at)
            }
            BreakAt::Line { file, line } => {
                let d = self.dwarf().ok_or(
                    "this module has no DWARF line information; break by offset or function",
                )?;
                let offs = d.offsets_for_line(file, *line);
                if offs.is_empty() {
                    return Err(format!("no code for {file}:{line}"));
                }
                Ok(offs
                    .into_iter()
                    .filter_map(|o| info.func_at_offset(o as usize).map(|f| (o, f)))
                    .collect())
            }
        }
    }

    /// Break / Delete / Enable: handled at once, whatever the program is doing.
    /// Trap stops on or off; turning them on attaches like a breakpoint does.
    pub(crate) fn stop_at_traps(&self, on: bool) {
        if on && self.mode() == DebugMode::Running {
            if let Some(live) = self.live() {
                self.attach(&live);
            }
        }
        let mut c = self.control();
        c.stop_at_traps = on;
        self.apply_flags(&c);
        drop(c);
        self.emit(Event::Message(if on {
            "stopping before an instruction that traps".into()
        } else {
            "traps end the program".into()
        }));
    }

    pub(crate) fn breakpoint_command(&self, cmd: Command) {
        // A breakpoint set while the program runs detached attaches: every
        // later execution of the instruction runs debug code.
        if matches!(cmd, Command::Break { .. }) && self.mode() == DebugMode::Running {
            if let Some(live) = self.live() {
                self.attach(&live);
            }
        }
        let mut c = self.control();
        match cmd {
            Command::Break { at, condition } => match self.resolve(&at).and_then(|places| {
                for &(_, f) in &places {
                    let info = self.module.info();
                    crate::debugger::program::check_condition(
                        info,
                        f,
                        &self.func_name(f),
                        condition.as_ref(),
                    )?;
                }
                Ok(places)
            }) {
                Ok(places) => {
                    for (offset, func) in places {
                        c.next_id += 1;
                        let id = c.next_id;
                        let spec = match &at {
                            BreakAt::Offset(o) => format!("{o:#x}"),
                            BreakAt::FunctionName(n) => n.clone(),
                            BreakAt::FunctionIndex(i) => format!("#{i}"),
                            BreakAt::Line { file, line } => format!("{file}:{line}"),
                        };
                        let cond = condition
                            .as_ref()
                            .map(|k| format!(" if $local{} {} {}", k.local, k.op.symbol(), k.value))
                            .unwrap_or_default();
                        let src = self
                            .source_pos(offset)
                            .map(|p| format!(", {}:{}", short_file(&p.file), p.line))
                            .unwrap_or_default();
                        self.emit(Event::Message(format!(
                            "Breakpoint {id} at {offset:#x}: {}{src}{cond}",
                            self.func_name(func)
                        )));
                        c.breakpoints.push(Breakpoint {
                            id,
                            offset,
                            func_index: func,
                            enabled: true,
                            hits: 0,
                            condition: condition.clone(),
                            spec,
                        });
                    }
                }
                Err(e) => self.emit(Event::Error(e)),
            },
            Command::Delete(None) => {
                let n = c.breakpoints.len() + usize::from(c.catch_throw.take().is_some());
                c.breakpoints.clear();
                self.emit(Event::Message(format!("Deleted {n} breakpoint(s)")));
            }
            Command::Delete(Some(id)) => {
                let before = c.breakpoints.len();
                c.breakpoints.retain(|b| b.id != id);
                if c.breakpoints.len() == before {
                    self.emit(Event::Error(format!("no breakpoint {id}")));
                } else {
                    self.emit(Event::Message(format!("Deleted breakpoint {id}")));
                }
            }
            Command::Enable { id, enabled } => {
                match c.breakpoints.iter_mut().find(|b| b.id == id) {
                    Some(b) => {
                        b.enabled = enabled;
                        let what = if enabled { "Enabled" } else { "Disabled" };
                        self.emit(Event::Message(format!("{what} breakpoint {id}")));
                    }
                    None => self.emit(Event::Error(format!("no breakpoint {id}"))),
                }
            }
            _ => {}
        }
        self.apply_flags(&c);
        self.emit(Event::Breakpoints(c.breakpoints.clone()));
    }
}
