//! Drawing the Registers pane: the general-purpose registers and pc in
//! columns of 64-bit hex, beside (or, in a narrow pane, below) xmm0–15 with
//! all 128 bits in hex, followed by their lanes in the current shape where
//! the column has room. Values that changed since the last stop are yellow.

use super::{lines_in, pane_block, DIM};
use crate::tui::layout::Slot;
use crate::tui::model::App;
use crate::tui::text::{fit, pad, pad_left};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::Frame;
use wdb::debugger::v128::{lane_text, lanes};
use wdb::debugger::{GPR_NAMES, XMM_NAMES};

/// Width of a general-purpose register cell: name, 16 hex digits, gap.
const GPR_COL: usize = 24;
/// Least width of an xmm cell: name, 32 hex digits, gap.
const XMM_COL: usize = 40;
/// The GPRs and pc.
const GPRS: usize = 17;
const XMMS: usize = 16;

/// How the pane is cut: `gpr_cols` columns of GPRs, `rows` rows, and
/// `xmm_cols` columns of xmm registers `xmm_w` wide beside them; or, when
/// `stacked` (one of each does not fit side by side), the GPRs in
/// `gpr_cols` columns and then one xmm register a row, the pane's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cut {
    gpr_cols: usize,
    xmm_cols: usize,
    xmm_w: usize,
    /// Rows of the GPR columns (and of the xmm columns beside them).
    rows: usize,
    stacked: bool,
}

impl Cut {
    fn total_rows(&self) -> usize {
        if self.stacked {
            self.rows + XMMS
        } else {
            self.rows
        }
    }
}

/// The fewest rows that hold every register side by side at `width`.
fn cut(width: usize) -> Cut {
    for rows in 1..=GPRS {
        let gpr_cols = GPRS.div_ceil(rows);
        let xmm_cols = XMMS.div_ceil(rows);
        let used = gpr_cols * GPR_COL;
        if used + xmm_cols * XMM_COL <= width {
            return Cut {
                gpr_cols,
                xmm_cols,
                xmm_w: (width - used) / xmm_cols,
                rows,
                stacked: false,
            };
        }
    }
    let gpr_cols = (width / GPR_COL).max(1);
    Cut {
        gpr_cols,
        xmm_cols: 1,
        xmm_w: width,
        rows: GPRS.div_ceil(gpr_cols),
        stacked: true,
    }
}

/// Rows the registers pane needs at `width` (for scrolling).
pub(in crate::tui) fn register_rows(app: &App, width: usize) -> usize {
    match app.snapshot.as_ref().and_then(|s| s.regs.as_ref()) {
        Some(_) => cut(width).total_rows(),
        None => 1,
    }
}

/// One register cell: its name, its value and whether it changed.
struct Cell {
    name: &'static str,
    text: String,
    changed: bool,
}

pub(in crate::tui) fn draw_registers(f: &mut Frame, app: &App, slot: &Slot) {
    let block = pane_block(app, slot, format!("— xmm lanes {}", lanes().name()));
    let inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    let Some(regs) = app.snapshot.as_ref().and_then(|s| s.regs.as_ref()) else {
        lines_in(
            f,
            inner,
            vec![Line::styled("no registers (not paused)", DIM)],
        );
        return;
    };
    let prev = app.prev_regs.as_ref();
    let mut gpr: Vec<Cell> = GPR_NAMES
        .iter()
        .zip(regs.gpr)
        .enumerate()
        .map(|(i, (name, v))| Cell {
            name,
            text: format!("{v:016x}"),
            changed: prev.is_some_and(|p| p.gpr[i] != v),
        })
        .collect();
    gpr.push(Cell {
        name: "pc",
        text: format!("{:016x}", regs.pc),
        changed: prev.is_some_and(|p| p.pc != regs.pc),
    });
    let shape = lanes();
    let xmm: Vec<Cell> = XMM_NAMES
        .iter()
        .zip(regs.xmm)
        .enumerate()
        .map(|(i, (name, v))| {
            let n = 128 / shape.bits() as usize;
            let ls: Vec<String> = (0..n).map(|k| lane_text(v, shape, k)).collect();
            Cell {
                name,
                text: format!("{v:032x} [{}]", ls.join(" ")),
                changed: prev.is_some_and(|p| p.xmm[i] != v),
            }
        })
        .collect();
    let w = usize::from(inner.width);
    let c = cut(w);
    // The pane's rows, each a list of (cell, width).
    let mut grid: Vec<Vec<(Option<&Cell>, usize)>> = (0..c.rows)
        .map(|r| {
            let g = (0..c.gpr_cols).map(|k| (gpr.get(k * c.rows + r), GPR_COL));
            let x = (0..if c.stacked { 0 } else { c.xmm_cols })
                .map(|k| (xmm.get(k * c.rows + r), c.xmm_w));
            g.chain(x).collect()
        })
        .collect();
    if c.stacked {
        grid.extend(xmm.iter().map(|x| vec![(Some(x), w)]));
    }
    let h = usize::from(inner.height);
    let top = app.regs.top.get().min(grid.len().saturating_sub(h));
    let mut out = Vec::new();
    for row in grid.iter().skip(top).take(h) {
        let mut spans = Vec::new();
        for &(cell, cw) in row {
            let Some(cell) = cell else {
                spans.push(Span::raw(" ".repeat(cw)));
                continue;
            };
            let st = if cell.changed {
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD)
            } else {
                Style::new()
            };
            spans.push(Span::styled(pad_left(cell.name, 5), DIM));
            let room = cw.saturating_sub(5);
            spans.push(Span::styled(
                pad(
                    &fit(&format!(" {}", cell.text), room.saturating_sub(2)),
                    room,
                ),
                st,
            ));
        }
        out.push(Line::from(spans));
    }
    lines_in(f, inner, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registers_fit_side_by_side_in_as_few_rows_as_the_width_allows() {
        // 2 GPR columns (9 rows) and 2 xmm columns.
        let c = cut(2 * GPR_COL + 2 * XMM_COL);
        assert_eq!(
            (c.gpr_cols, c.xmm_cols, c.rows, c.stacked),
            (2, 2, 9, false)
        );
        // A little less: 16 rows, two GPR columns beside one wide xmm column.
        let c = cut(2 * GPR_COL + 2 * XMM_COL - 1);
        assert_eq!(
            (c.gpr_cols, c.xmm_cols, c.rows, c.stacked),
            (2, 1, 16, false)
        );
        assert_eq!(c.xmm_w, 2 * XMM_COL - 1);
        // Too narrow for both: the GPRs in two columns, then the xmm registers.
        let c = cut(GPR_COL + XMM_COL - 1);
        assert_eq!((c.gpr_cols, c.rows, c.stacked), (2, 9, true));
        assert_eq!(c.total_rows(), 9 + 16);
        assert_eq!(cut(10).total_rows(), 17 + 16);
    }
}
