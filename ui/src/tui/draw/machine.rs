//! Drawing machine code: the code pane's native view (native instructions
//! under each wasm instruction, the current native pc highlighted, code with
//! no wasm origin of its own marked `~`) and the profile view's annotated
//! function (hot lines coloured by their share of the samples).

use super::{code_line, lines_in, pc_offset, CALLER_STYLE, DIM, PC_STYLE};
use crate::tui::app::{App, Pane};
use crate::tui::machine::{Annotated, NativeRow};
use crate::tui::text::{clean, fit, pad, pad_left};
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::Frame;
use wdb::debugger::MachineCode;

/// Native instructions in the code pane.
const NATIVE: Style = Style::new().fg(Color::Cyan);

/// The code pane with native instructions under each wasm instruction.
pub(super) fn draw_native(f: &mut Frame, app: &App, area: Rect, active: bool, code: &MachineCode) {
    let w = usize::from(area.width);
    let h = usize::from(area.height).max(1);
    let rows = app.native_rows(code);
    let sel = rows
        .iter()
        .position(|r| *r == NativeRow::Wasm(app.code.scroll.sel))
        .unwrap_or(0);
    // The selected wasm line and the start of its native code stay in view.
    let mut top = app.code.native_top.get();
    let below = (h / 3).min(6);
    if sel < top {
        top = sel;
    } else if sel + below >= top + h {
        top = (sel + below + 1).saturating_sub(h).min(sel);
    }
    top = top.min(rows.len().saturating_sub(h));
    app.code.native_top.set(top);
    let pc = pc_offset(app);
    let native_pc = app.native_pc(code);
    let focused = active && app.focus == Pane::Code;
    let mut out = Vec::with_capacity(h);
    for (n, row) in rows.iter().enumerate().skip(top).take(h) {
        match *row {
            NativeRow::Wasm(i) => {
                let Some(l) = app.code.lines.get(i) else {
                    continue;
                };
                let bp = l
                    .offset
                    .and_then(|o| app.breakpoints.iter().find(|b| b.offset == o));
                let bp_mark = match bp {
                    Some(b) if b.enabled => Span::styled("●", Style::new().fg(Color::Red)),
                    Some(_) => Span::styled("○", Style::new().fg(Color::Red)),
                    None => Span::raw(" "),
                };
                let at_pc = pc.filter(|(o, _)| l.offset == Some(*o));
                let pc_mark = match at_pc {
                    Some((_, true)) => "▶",
                    Some((_, false)) => "▷",
                    None => " ",
                };
                let off = l.offset.map(|o| format!("{o:#x}")).unwrap_or_default();
                let body = format!("{pc_mark}{} {}", pad_left(&off, 8), clean(&l.text));
                let style = match at_pc {
                    Some(_) => CALLER_STYLE,
                    None => Style::new().add_modifier(Modifier::BOLD),
                };
                let cursor = (n == sel).then_some(focused);
                out.push(code_line(bp_mark, &body, style, cursor, active, w));
            }
            NativeRow::Insn(k, j) => {
                let Some(r) = code.ranges.get(k) else {
                    continue;
                };
                let Some(insn) = r.insns.get(j) else { continue };
                let here = native_pc == Some(insn.addr);
                let mark = if here { "▶" } else { " " };
                let origin = if r.exact { ' ' } else { '~' };
                let body = format!(
                    "{mark}{origin}    {:#x} <+{}> {}",
                    insn.addr,
                    insn.addr - code.addr,
                    insn.text
                );
                let style = if here {
                    PC_STYLE
                } else if r.exact {
                    NATIVE
                } else {
                    DIM
                };
                out.push(code_line(Span::raw(" "), &body, style, None, active, w));
            }
        }
    }
    if !active {
        out = out.into_iter().map(|l| l.patch_style(DIM)).collect();
    }
    lines_in(f, area, out);
}

/// The share in a line of `profile annotate` text (`  12.5%  …`), if any.
fn share(line: &str) -> Option<f64> {
    let t = line.trim_start();
    let (num, _) = t.split_once('%')?;
    num.parse().ok()
}

/// The annotated function (or the hottest instructions) in the profile view.
pub(super) fn draw_annotated(f: &mut Frame, app: &App, area: Rect, a: &Annotated) {
    if area.height == 0 {
        return;
    }
    let w = usize::from(area.width);
    let title = format!("annotate {} — Esc: back to the profile", a.name);
    let mut out = vec![Line::styled(
        fit(&title, w),
        Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
    )];
    let h = usize::from(area.height).saturating_sub(1);
    let top = a.scroll.visible_top(a.lines.len(), h);
    for (i, l) in a.lines.iter().enumerate().skip(top).take(h) {
        let mut st = match share(l) {
            Some(p) if p >= 10.0 => Style::new().fg(Color::Red),
            Some(p) if p >= 2.0 => Style::new().fg(Color::Yellow),
            Some(_) => Style::new().fg(Color::Green),
            None => Style::new(),
        };
        if i == a.scroll.sel && app.focus == Pane::Code {
            st = st.add_modifier(Modifier::REVERSED);
        }
        out.push(Line::styled(pad(&clean(l), w), st));
    }
    lines_in(f, area, out);
}
