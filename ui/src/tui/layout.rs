//! Where the panes go: the screen split into slots (tab groups on small
//! screens) from the model's focus, weights and zoom, and the sizes of panes
//! that paging and memory reads need.

use super::model::{App, Pane};
use ratatui::layout::{Constraint, Layout, Rect};

static PANES: [Pane; 10] = Pane::ALL;
/// The lower right tab group on large screens.
static AUX: [Pane; 4] = [
    Pane::Memory,
    Pane::Functions,
    Pane::Breakpoints,
    Pane::Watch,
];
/// The right column as one tab group on small screens.
static SIDE: [Pane; 8] = [
    Pane::Variables,
    Pane::Vars,
    Pane::Watch,
    Pane::Registers,
    Pane::Frames,
    Pane::Memory,
    Pane::Functions,
    Pane::Breakpoints,
];
/// Everything but the code as one tab group on narrow screens.
static NARROW: &[Pane] = Pane::ALL.split_at(1).1;

/// One pane's place on the screen; `group` are the panes sharing it as tabs.
#[derive(Debug, Clone)]
pub struct Slot {
    pub rect: Rect,
    pub pane: Pane,
    pub group: &'static [Pane],
}

#[derive(Debug, Clone)]
pub struct Screen {
    pub slots: Vec<Slot>,
    pub command: Rect,
    pub status: Rect,
}

fn alone(p: Pane) -> &'static [Pane] {
    let i = p.index();
    PANES.get(i..=i).unwrap_or(&[])
}

/// The member of `group` focused most recently.
fn pick(app: &App, group: &'static [Pane]) -> Pane {
    // Without DWARF the Variables pane has nothing to show: only when asked for.
    let useful = |p: &Pane| app.has_dwarf || *p != Pane::Variables || app.focus == *p;
    app.recent
        .iter()
        .copied()
        .find(|p| group.contains(p) && useful(p))
        .or_else(|| group.first().copied())
        .unwrap_or(Pane::Code)
}

fn weight(app: &App, p: Pane) -> Constraint {
    Constraint::Fill(app.weights.get(p.index()).copied().unwrap_or(1).max(1))
}

/// Where every pane goes in `area`.
pub fn screen(app: &App, area: Rect) -> Screen {
    let [main, command, status] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let mut slots = Vec::new();
    let mut slot = |rect: Rect, group: &'static [Pane]| {
        slots.push(Slot {
            rect,
            pane: pick(app, group),
            group,
        })
    };
    if app.zoom {
        slot(main, alone(app.focus));
    } else if main.width < 60 {
        let [code, rest] =
            Layout::vertical([weight(app, Pane::Code), Constraint::Fill(2)]).areas(main);
        slot(code, alone(Pane::Code));
        slot(rest, NARROW);
    } else {
        let [left, right] = Layout::horizontal([
            Constraint::Percentage(app.left_pct.clamp(20, 85)),
            Constraint::Fill(1),
        ])
        .areas(main);
        let [code, out] =
            Layout::vertical([weight(app, Pane::Code), weight(app, Pane::Output)]).areas(left);
        slot(code, alone(Pane::Code));
        slot(out, alone(Pane::Output));
        if main.height >= 60 {
            let parts: Vec<Constraint> = SIDE.iter().map(|p| weight(app, *p)).collect();
            let rects = Layout::vertical(parts).split(right);
            for (p, r) in SIDE.iter().zip(rects.iter()) {
                slot(*r, alone(*p));
            }
        } else if main.width >= 100 && main.height >= 26 {
            let aux = pick(app, &AUX);
            // Source variables above the wasm ones when there is DWARF.
            let right = if app.has_dwarf {
                let [variables, rest] =
                    Layout::vertical([weight(app, Pane::Variables), Constraint::Fill(7)])
                        .areas(right);
                slot(variables, alone(Pane::Variables));
                rest
            } else {
                right
            };
            let [vars, regs, frames, rest] = Layout::vertical([
                weight(app, Pane::Vars),
                weight(app, Pane::Registers),
                weight(app, Pane::Frames),
                weight(app, aux),
            ])
            .areas(right);
            slot(vars, alone(Pane::Vars));
            slot(regs, alone(Pane::Registers));
            slot(frames, alone(Pane::Frames));
            slot(rest, &AUX);
        } else {
            slot(right, &SIDE);
        }
    }
    Screen {
        slots,
        command,
        status,
    }
}

impl App {
    /// Inner height of a pane in the current layout (1 if hidden).
    pub fn pane_height(&self, pane: Pane) -> usize {
        screen(self, self.area.get())
            .slots
            .iter()
            .find(|s| s.pane == pane)
            .map(|s| usize::from(s.rect.height.saturating_sub(2)).max(1))
            .unwrap_or(1)
    }

    pub fn pane_width(&self, pane: Pane) -> usize {
        screen(self, self.area.get())
            .slots
            .iter()
            .find(|s| s.pane == pane)
            .map(|s| usize::from(s.rect.width.saturating_sub(2)))
            .unwrap_or(0)
    }

    /// Bytes per row of the memory pane.
    pub fn memory_row(&self) -> u64 {
        super::draw::memory_row_bytes(self.pane_width(Pane::Memory))
    }
}
