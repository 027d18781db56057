//! The TUI's machine-code state: the code pane's native view (`m`: native
//! instructions under each wasm instruction of the code the selected frame
//! runs) and the profile view's annotated function (Enter on a hot function).
//! Drawing is in `draw::machine`.

use super::app::{App, Pane, Scroll};
use std::sync::Arc;
use wdb::debugger::machine_code::parse_tier;
use wdb::debugger::{MachineCode, ProfileReport};
use wdb::Tier;

/// A profiled function shown annotated in the profile view.
#[derive(Debug, Default)]
pub struct Annotated {
    /// None: the hottest instructions of the whole program (`profile report --lines`).
    pub func: Option<u32>,
    pub name: String,
    pub lines: Vec<String>,
    pub scroll: Scroll,
}

/// One row of the code pane in native view: a wasm line, or a native
/// instruction under it (range index, instruction index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NativeRow {
    Wasm(usize),
    Insn(usize, usize),
}

impl App {
    /// `m` in the code pane: native instructions under each wasm instruction, or not.
    pub fn toggle_native(&mut self) {
        if self.show_profile() {
            self.error("the code pane shows the profile: Enter annotates a function");
            return;
        }
        self.code.native = !self.code.native;
        if self.code.native {
            self.code.source = false;
            self.load_machine();
            if let Some(e) = self.code.machine_err.clone() {
                self.error(&e);
            } else if let Some(c) = &self.code.machine {
                let text = format!(
                    "native code: {} bytes of {} code (m hides it)",
                    c.len,
                    c.tier.name()
                );
                self.set_message(&text);
            }
        } else {
            self.code.native_tier = None;
            self.set_message("native code hidden");
        }
    }

    /// (Re)loads the machine code of the function in the code pane: the code
    /// the selected frame runs if it is that function's frame, else the
    /// code of the function's current tier.
    pub fn load_machine(&mut self) {
        self.code.machine = None;
        self.code.machine_err = None;
        if !self.code.native {
            return;
        }
        let Some(func) = self.code.func else {
            return;
        };
        if let Some(t) = self.code.native_tier {
            match self.dbg.machine_code(func, t, true) {
                Ok(c) => self.code.machine = Some(Arc::new(c)),
                Err(e) => self.code.machine_err = Some(e),
            }
            return;
        }
        let frame = self
            .selected_frame()
            .filter(|fr| fr.func_index == func)
            .map(|fr| fr.tier);
        let pc = self
            .snapshot
            .as_ref()
            .filter(|_| self.frames.sel == 0)
            .and_then(|s| s.regs.as_ref())
            .map(|r| r.pc)
            .filter(|&p| p != 0);
        let by_pc = pc
            .filter(|_| frame.is_some())
            .and_then(|p| self.dbg.machine_code_at(p))
            .filter(|c| c.func_index == func);
        if let Some(c) = by_pc {
            self.code.machine = Some(Arc::new(c));
            return;
        }
        let wanted = match frame {
            Some(t) => parse_tier(t.name()),
            None => self
                .functions
                .iter()
                .find(|r| r.index == func)
                .and_then(|r| parse_tier(&r.tier)),
        };
        let mut last_err = None;
        for t in wanted
            .into_iter()
            .chain([Tier::Debug, Tier::Baseline, Tier::Optimized])
        {
            match self.dbg.machine_code(func, t, false) {
                Ok(c) => {
                    self.code.machine = Some(Arc::new(c));
                    return;
                }
                Err(e) => last_err = Some(e),
            }
        }
        self.code.machine_err = last_err;
    }

    /// The rows of the native view: each wasm line, then the native
    /// instructions of every range shown under it (address order).
    pub fn native_rows(&self, code: &MachineCode) -> Vec<NativeRow> {
        let mut rows = Vec::with_capacity(self.code.lines.len() * 4);
        for (i, l) in self.code.lines.iter().enumerate() {
            rows.push(NativeRow::Wasm(i));
            let Some(off) = l.offset else { continue };
            for (k, r) in code.ranges.iter().enumerate() {
                if r.wasm_offset == off {
                    rows.extend((0..r.insns.len()).map(|j| NativeRow::Insn(k, j)));
                }
            }
        }
        rows
    }

    /// The native pc to highlight: the innermost frame's pc, or the first
    /// instruction of the selected frame's wasm instruction.
    pub fn native_pc(&self, code: &MachineCode) -> Option<u64> {
        if self.state == wdb::debugger::RunState::Running {
            return None;
        }
        let fr = self
            .selected_frame()
            .filter(|fr| fr.func_index == code.func_index)?;
        let pc = self
            .snapshot
            .as_ref()
            .filter(|_| self.frames.sel == 0)
            .and_then(|s| s.regs.as_ref())
            .map(|r| r.pc)
            .filter(|&p| code.insn_at(p).is_some());
        pc.or_else(|| {
            code.ranges
                .iter()
                .find(|r| r.exact && r.wasm_offset == fr.offset && !r.insns.is_empty())
                .map(|r| r.insns[0].addr)
        })
    }

    /// Enter in the profile view: the selected function, annotated.
    pub fn open_annotated(&mut self) {
        let Some(p) = &self.profile else {
            self.error("no profile yet");
            return;
        };
        let Some(row) = p.flat.get(self.profile_scroll.sel) else {
            return;
        };
        let Some(func) = row.func_index else {
            self.error("host and runtime code has no wasm instructions to annotate");
            return;
        };
        self.open_profile_text(Some(func));
    }

    /// Shows `func` annotated (or, with None, the hottest instructions and
    /// lines of the program) in the profile view, from the last report; a
    /// fresh report is asked for and replaces it when it comes.
    pub fn open_profile_text(&mut self, func: Option<u32>) {
        let name = match func {
            Some(f) => self
                .functions
                .iter()
                .find(|r| r.index == f)
                .map_or_else(|| format!("func[{f}]"), |r| r.name.clone()),
            None => "hottest instructions".into(),
        };
        self.annotated = Some(Annotated {
            func,
            name,
            lines: vec!["waiting for a profile report…".into()],
            scroll: Scroll::default(),
        });
        if let Some(p) = self.profile.take() {
            self.refresh_annotated(&p);
            self.profile = Some(p);
        }
        self.focus(Pane::Code);
        self.send(wdb::debugger::Command::ProfileReport);
    }

    /// A new profile report: the annotated function follows it.
    pub fn refresh_annotated(&mut self, report: &ProfileReport) {
        if let Some(a) = &mut self.annotated {
            a.lines = match a.func {
                Some(f) => self.dbg.annotate(report, f),
                None => self.dbg.hot_lines(report),
            };
            let n = a.lines.len();
            a.scroll.set(a.scroll.sel, n);
        }
    }

    /// Scrolls the annotated function; false when none is open.
    pub fn scroll_annotated(&mut self, delta: isize) -> bool {
        match &mut self.annotated {
            Some(a) if self.focus == Pane::Code => {
                let n = a.lines.len();
                a.scroll.move_by(delta, n);
                true
            }
            _ => false,
        }
    }
}
