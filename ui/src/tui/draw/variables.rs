//! Drawing the Variables and Watch panes: one row per value, indented by
//! its depth in the tree (`▸` closed, `▾` open), its type, and its value;
//! values that changed since the last stop in bold red, errors in red.

use super::{lines_in, pane_block, ERR};
use crate::tui::layout::Slot;
use crate::tui::model::{App, Pane};
use crate::tui::text::{clean, fit, pad};
use crate::tui::variables::TreeRow;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::Frame;
use wdb::debugger::RunState;

const CHANGED: Style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
const TYPE: Style = Style::new().fg(Color::Green);

pub(in crate::tui) fn draw_variables(f: &mut Frame, app: &App, slot: &Slot) {
    let extra = app
        .snapshot
        .as_ref()
        .and_then(|s| s.frames.get(app.frames.sel))
        .map(|fr| format!("— #{} {}", app.frames.sel, fr.func_name))
        .unwrap_or_default();
    let block = pane_block(app, slot, extra);
    let inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    let empty = if !app.has_dwarf {
        Some("no DWARF debug info: wasm locals are under Locals·Stack")
    } else if app.state == RunState::Running {
        Some("(the program is running)")
    } else if app.snapshot.is_none() {
        Some("(no frame)")
    } else if app.source_vars.values.is_none() {
        Some("…")
    } else {
        None
    };
    let rows = app.source_vars.var_rows();
    let note = empty.or(rows.is_empty().then_some("no variables in scope here"));
    draw_tree(
        f,
        app,
        inner,
        &rows,
        app.source_vars.scroll.sel,
        Pane::Variables,
        note,
    );
}

pub(in crate::tui) fn draw_watch(f: &mut Frame, app: &App, slot: &Slot) {
    let n = app.source_vars.watch.len();
    let wps = app.watchpoints.len();
    let extra = match (n, wps) {
        (0, 0) => String::new(),
        (n, 0) => format!("({n})"),
        (n, w) => format!("({n}) · {w} watchpoint{}", if w == 1 { "" } else { "s" }),
    };
    let block = pane_block(app, slot, extra);
    let mut inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    if wps > 0 && inner.height > 2 {
        // The watchpoints (`info watchpoints`) under the expressions: a header and a row each,
        // at most half the pane.
        let h = (wps as u16 + 1).min(inner.height / 2).max(2);
        let list = Rect {
            y: inner.y + inner.height - h,
            height: h,
            ..inner
        };
        inner.height -= h;
        lines_in(f, list, watchpoint_lines(app, usize::from(list.width)));
    }
    let rows = app.source_vars.watch_rows();
    let note = if n == 0 {
        Some("no watch expressions: `a` or :watch-expr EXPR adds one")
    } else if rows.is_empty() {
        Some("(evaluated at the next stop)")
    } else {
        None
    };
    let sel = app.source_vars.watch_scroll.sel;
    draw_tree(f, app, inner, &rows, sel, Pane::Watch, note);
}

fn draw_tree(
    f: &mut Frame,
    app: &App,
    area: ratatui::layout::Rect,
    rows: &[TreeRow<'_>],
    sel: usize,
    pane: Pane,
    note: Option<&str>,
) {
    let w = usize::from(area.width);
    let h = usize::from(area.height).max(1);
    if let Some(n) = note {
        let st = Style::new()
            .fg(Color::Yellow)
            .add_modifier(Modifier::ITALIC);
        lines_in(f, area, vec![Line::styled(fit(n, w), st)]);
        return;
    }
    let name_w = rows
        .iter()
        .map(|r| 2 * r.depth + 2 + r.node.name.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, (w / 3).max(4));
    let ty_w = rows
        .iter()
        .map(|r| r.node.ty.chars().count())
        .max()
        .unwrap_or(0)
        .min((w / 3).max(3));
    let value_w = w.saturating_sub(name_w + ty_w + 2).max(1);
    let scroll = if pane == Pane::Variables {
        &app.source_vars.scroll
    } else {
        &app.source_vars.watch_scroll
    };
    let top = scroll.visible_top(rows.len(), h);
    let focused = app.focus == pane;
    let mut out = Vec::with_capacity(h);
    for (i, r) in rows.iter().enumerate().skip(top).take(h) {
        let mark = match (r.node.expandable, r.open) {
            (true, true) => "▾ ",
            (true, false) => "▸ ",
            _ => "  ",
        };
        let name = format!("{}{mark}{}", "  ".repeat(r.depth), clean(&r.node.name));
        let value_style = if r.node.error {
            ERR
        } else if r.changed {
            CHANGED
        } else {
            Style::new()
        };
        let mut line = Line::from(vec![
            Span::raw(pad(&name, name_w)),
            Span::raw(" "),
            Span::styled(pad(&clean(&r.node.ty), ty_w), TYPE),
            Span::raw(" "),
            Span::styled(pad(&clean(&r.node.value), value_w), value_style),
        ]);
        if i == sel {
            line = line.patch_style(if focused {
                Style::new().add_modifier(Modifier::REVERSED)
            } else {
                Style::new().add_modifier(Modifier::UNDERLINED)
            });
        }
        out.push(line);
    }
    lines_in(f, area, out);
}

/// `info watchpoints` as rows: number, type, expression, watched bytes, hits.
fn watchpoint_lines(app: &App, w: usize) -> Vec<Line<'static>> {
    let head = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
    let mut out = vec![Line::styled(fit("Watchpoints", w), head)];
    for wp in &app.watchpoints {
        let hits = match wp.hits {
            0 => String::new(),
            1 => "  hit 1 time".to_string(),
            n => format!("  hit {n} times"),
        };
        let text = format!(
            "{:<3} {:<15} {}  {:#x}+{}{hits}",
            wp.id,
            wp.kind.type_name(),
            clean(&wp.expr),
            wp.addr,
            wp.len
        );
        out.push(Line::raw(fit(&text, w)));
    }
    out
}
