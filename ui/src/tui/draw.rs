//! Drawing the TUI from `App`: the pane layout (also used for mouse hits and
//! page sizes), each pane, the profile view, the status bar, the command
//! line and the help overlay. Everything is clipped to its area, so any
//! terminal size draws without panicking.

use super::layout::{screen, Slot};
use super::model::{App, OutKind, Pane, PromptKind, VarRow};
use super::text::{clean, fit, global_text, pad, pad_left, value_text};
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Gauge, Paragraph, Sparkline};
use ratatui::Frame;
use std::collections::BTreeMap;
use wdb::debugger::{console, DebugMode, RunState};

mod machine;
mod registers;
mod variables;

pub(super) use registers::register_rows;

const PC_STYLE: Style = Style::new().fg(Color::Black).bg(Color::Yellow);
const CALLER_STYLE: Style = Style::new().fg(Color::Black).bg(Color::Cyan);
const DIM: Style = Style::new().fg(Color::DarkGray);
const ERR: Style = Style::new().fg(Color::Red);

/// Draws the whole UI.
pub fn draw(f: &mut Frame, app: &App) {
    let area = f.area();
    app.area.set(area);
    let scr = screen(app, area);
    for slot in &scr.slots {
        draw_slot(f, app, slot);
    }
    draw_status(f, app, scr.status);
    draw_command(f, app, scr.command);
    if app.help {
        draw_help(f, area);
    }
}

fn pane_block<'a>(app: &App, slot: &Slot, extra: String) -> Block<'a> {
    pane_block_named(app, slot, slot.pane.title(), extra)
}

fn pane_block_named<'a>(app: &App, slot: &Slot, name: &str, extra: String) -> Block<'a> {
    let focused = app.focus == slot.pane;
    let border = if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        DIM
    };
    let mut spans = vec![Span::raw(" ")];
    if slot.group.len() > 1 {
        for (i, p) in slot.group.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled("│", DIM));
            }
            let st = if *p == slot.pane {
                Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
            } else {
                DIM
            };
            spans.push(Span::styled(p.tab(), st));
        }
        spans.push(Span::raw(" "));
    } else {
        spans.push(Span::styled(
            name.to_string(),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(" "));
    }
    if !extra.is_empty() {
        spans.push(Span::raw(format!("{extra} ")));
    }
    Block::bordered()
        .border_style(border)
        .title(Line::from(spans))
}

fn draw_slot(f: &mut Frame, app: &App, slot: &Slot) {
    if slot.rect.width == 0 || slot.rect.height == 0 {
        return;
    }
    match slot.pane {
        Pane::Code if app.show_profile() => draw_profile(f, app, slot),
        Pane::Code => draw_code(f, app, slot),
        Pane::Vars => draw_vars(f, app, slot),
        Pane::Variables => variables::draw_variables(f, app, slot),
        Pane::Watch => variables::draw_watch(f, app, slot),
        Pane::Registers => registers::draw_registers(f, app, slot),
        Pane::Frames => draw_frames(f, app, slot),
        Pane::Memory => draw_memory(f, app, slot),
        Pane::Functions => draw_functions(f, app, slot),
        Pane::Breakpoints => draw_breakpoints(f, app, slot),
        Pane::Output => draw_output(f, app, slot),
    }
}

/// A list of lines in `area`, each padded to the full width (for highlights).
fn lines_in(f: &mut Frame, area: Rect, lines: Vec<Line<'static>>) {
    f.render_widget(Paragraph::new(lines), area);
}

fn text_lines(texts: &[&str], style: Style) -> Vec<Line<'static>> {
    texts
        .iter()
        .map(|t| Line::styled(t.to_string(), style))
        .collect()
}

// ----- code -----------------------------------------------------------

fn code_title(app: &App) -> String {
    let Some(func) = app.code.func else {
        return String::new();
    };
    let name = app
        .functions
        .iter()
        .find(|r| r.index == func)
        .map(|r| r.name.clone())
        .or_else(|| {
            app.snapshot
                .as_ref()
                .and_then(|s| s.frames.iter().find(|fr| fr.func_index == func))
                .map(|fr| fr.func_name.clone())
        })
        .unwrap_or_else(|| format!("func {func}"));
    let tier = match app.selected_frame() {
        Some(fr) if fr.func_index == func && app.state != RunState::Running => {
            fr.tier.name().to_string()
        }
        _ => app
            .functions
            .iter()
            .find(|r| r.index == func)
            .map(|r| r.tier.clone())
            .unwrap_or_default(),
    };
    let mut t = format!("— {} #{func}", fit(&name, 40));
    if !tier.is_empty() {
        t.push_str(&format!(" · {tier}"));
    }
    if app.source_active() {
        if let Some(file) = &app.code.src_file {
            t.push_str(&format!(" · {}", fit(file, 40)));
        }
    }
    if app.code.native {
        match &app.code.machine {
            Some(c) => t.push_str(&format!(" · native {}", c.tier.name())),
            None => t.push_str(" · no native code"),
        }
    }
    if app.state == RunState::Running {
        t.push_str(" (running)");
    }
    t
}

fn draw_code(f: &mut Frame, app: &App, slot: &Slot) {
    let block = pane_block(app, slot, code_title(app));
    let inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    if app.code.func.is_none() {
        let text: Vec<&str> = if app.attaching {
            vec!["attaching… every function is tiered down to debug code"]
        } else if app.state == RunState::Running {
            vec![
                "The program runs at full speed under dynamic tiering.",
                "F6 or Ctrl-C pauses it: the debugger attaches and the code shows here.",
                "p switches to profile mode.",
            ]
        } else if let Some(o) = &app.outcome {
            vec![o.as_str()]
        } else {
            vec!["No code to show: `g` goes to an offset or function."]
        };
        lines_in(f, inner, text_lines(&text, DIM));
        return;
    }
    let both = app.area.get().width >= 160 && app.source_available();
    if both {
        let [src, sep, dis] = Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Length(1),
            Constraint::Fill(1),
        ])
        .areas(inner);
        draw_source(f, app, src, app.code.source);
        let bar: Vec<Line> = (0..sep.height).map(|_| Line::styled("│", DIM)).collect();
        lines_in(f, sep, bar);
        draw_disas(f, app, dis, !app.code.source);
    } else if app.source_active() {
        draw_source(f, app, inner, true);
    } else {
        draw_disas(f, app, inner, true);
    }
}

/// (offset, is the innermost frame) of the position to highlight.
fn pc_offset(app: &App) -> Option<(u32, bool)> {
    if app.state == RunState::Running {
        return None;
    }
    app.selected_frame()
        .map(|fr| (fr.offset, app.frames.sel == 0))
}

fn draw_disas(f: &mut Frame, app: &App, area: Rect, active: bool) {
    if let Some(code) = app.code.machine.as_ref().filter(|_| app.code.native) {
        return machine::draw_native(f, app, area, active, code);
    }
    let w = usize::from(area.width);
    let h = usize::from(area.height);
    let lines = &app.code.lines;
    let top = app.code.scroll.visible_top(lines.len(), h);
    let pc = pc_offset(app);
    let focused = active && app.focus == Pane::Code;
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate().skip(top).take(h) {
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
            Some((_, true)) => PC_STYLE,
            Some((_, false)) => CALLER_STYLE,
            None => Style::new(),
        };
        let cursor = (i == app.code.scroll.sel).then_some(focused);
        out.push(code_line(bp_mark, &body, style, cursor, active, w));
    }
    if !active {
        out = out.into_iter().map(|l| l.patch_style(DIM)).collect();
    }
    lines_in(f, area, out);
}

fn draw_source(f: &mut Frame, app: &App, area: Rect, active: bool) {
    let w = usize::from(area.width);
    let h = usize::from(area.height);
    let Some(src) = &app.code.src_lines else {
        let file = app.code.src_file.clone().unwrap_or_default();
        lines_in(
            f,
            area,
            vec![Line::styled(format!("source `{file}` not readable"), DIM)],
        );
        return;
    };
    let file = app.code.src_file.clone().unwrap_or_default();
    let cur_line = if app.state == RunState::Running {
        None
    } else {
        app.selected_frame().and_then(|fr| {
            fr.source
                .clone()
                .or_else(|| app.dbg.source_pos(fr.offset))
                .filter(|sp| sp.file == file)
                .map(|sp| sp.line)
        })
    };
    let bp_lines: Vec<(u32, bool)> = app
        .breakpoints
        .iter()
        .filter_map(|b| {
            app.dbg
                .source_pos(b.offset)
                .filter(|sp| sp.file == file)
                .map(|sp| (sp.line, b.enabled))
        })
        .collect();
    let top = app.code.src_scroll.visible_top(src.len(), h);
    let focused = active && app.focus == Pane::Code;
    let inner_frame = app.frames.sel == 0;
    let mut out = Vec::new();
    for (i, text) in src.iter().enumerate().skip(top).take(h) {
        let n = u32::try_from(i.saturating_add(1)).unwrap_or(u32::MAX);
        let bp_mark = match bp_lines.iter().find(|(l, _)| *l == n) {
            Some((_, true)) => Span::styled("●", Style::new().fg(Color::Red)),
            Some((_, false)) => Span::styled("○", Style::new().fg(Color::Red)),
            None => Span::raw(" "),
        };
        let here = cur_line == Some(n);
        let mark = match (here, inner_frame) {
            (true, true) => "▶",
            (true, false) => "▷",
            _ => " ",
        };
        let body = format!("{mark}{} │ {}", pad_left(&n.to_string(), 5), clean(text));
        let style = match (here, inner_frame) {
            (true, true) => PC_STYLE,
            (true, false) => CALLER_STYLE,
            _ => Style::new(),
        };
        let cursor = (i == app.code.src_scroll.sel).then_some(focused);
        out.push(code_line(bp_mark, &body, style, cursor, active, w));
    }
    if !active {
        out = out.into_iter().map(|l| l.patch_style(DIM)).collect();
    }
    lines_in(f, area, out);
}

// ----- profile ----------------------------------------------------------

fn tier_counts(app: &App) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in app.functions.iter().filter(|r| !r.imported) {
        *counts.entry(r.tier.as_str()).or_default() += 1;
    }
    if counts.is_empty() {
        return "tiers: (no functions)".into();
    }
    let mut parts: Vec<(usize, &str)> = counts.iter().map(|(t, n)| (*n, *t)).collect();
    parts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    let list: Vec<String> = parts.iter().map(|(n, t)| format!("{t} {n}")).collect();
    format!("tiers: {}", list.join(" · "))
}

fn draw_profile(f: &mut Frame, app: &App, slot: &Slot) {
    let extra = match &app.profile {
        Some(p) => format!(
            "— {} samples · {:.1} s",
            p.samples,
            p.duration.as_secs_f64()
        ),
        None => String::new(),
    };
    let block = pane_block_named(app, slot, "Profile", extra);
    let inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    let gauge_h = u16::from(app.tier_progress.is_some());
    let spark_h = if inner.height >= 14 {
        4
    } else if inner.height >= 8 {
        2
    } else {
        0
    };
    let [gauge, counts, spark, header, table] = Layout::vertical([
        Constraint::Length(gauge_h),
        Constraint::Length(1),
        Constraint::Length(spark_h),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    if let Some((mode, done, total)) = app.tier_progress {
        let ratio = if total == 0 {
            1.0
        } else {
            (done as f64 / total as f64).clamp(0.0, 1.0)
        };
        let verb = if mode == DebugMode::Profile {
            "tiering up"
        } else {
            "tiering down"
        };
        f.render_widget(
            Gauge::default()
                .gauge_style(Style::new().fg(Color::Magenta))
                .ratio(ratio)
                .label(format!("{verb}: {done}/{total} functions compiled")),
            gauge,
        );
    }
    lines_in(
        f,
        counts,
        vec![Line::raw(fit(&tier_counts(app), usize::from(counts.width)))],
    );
    let Some(p) = &app.profile else {
        lines_in(
            f,
            table,
            vec![Line::styled("waiting for the first profile report…", DIM)],
        );
        return;
    };
    if spark.height > 0 {
        let n = usize::from(spark.width);
        let start = p.timeline.len().saturating_sub(n);
        let data: Vec<u64> = p.timeline.get(start..).unwrap_or(&[]).to_vec();
        f.render_widget(
            Sparkline::default()
                .block(Block::new().title(Line::styled("samples per 100 ms", DIM)))
                .style(Style::new().fg(Color::Green))
                .data(data),
            spark,
        );
    }
    if let Some(a) = &app.annotated {
        let area = Rect {
            height: header.height + table.height,
            ..header
        };
        return machine::draw_annotated(f, app, area, a);
    }
    let w = usize::from(table.width);
    // The samples column goes first when space is short.
    let samples_w = if w >= 60 { 9 } else { 0 };
    let name_w = w.saturating_sub(7 + 8 + samples_w + 10 + 4).max(8);
    let row = |s: &str, t: &str, n: &str, name: &str, tier: &str| {
        let mut r = format!("{} {} ", pad_left(s, 7), pad_left(t, 8));
        if samples_w > 0 {
            r.push_str(&pad_left(n, samples_w));
            r.push(' ');
        }
        r.push_str(&pad(name, name_w));
        r.push(' ');
        r.push_str(&fit(tier, 10));
        r
    };
    lines_in(
        f,
        header,
        vec![Line::styled(
            fit(&row("self", "total", "samples", "function", "tier"), w),
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
        )],
    );
    let h = usize::from(table.height);
    let top = app.profile_scroll.visible_top(p.flat.len(), h);
    let total = p.samples.max(1) as f64;
    let mut out = Vec::new();
    for (i, r) in p.flat.iter().enumerate().skip(top).take(h) {
        let text = row(
            &format!("{:.1}%", r.self_samples as f64 * 100.0 / total),
            &format!("{:.1}%", r.total_samples as f64 * 100.0 / total),
            &r.self_samples.to_string(),
            &r.name,
            &r.tier,
        );
        let mut st = if r.tier.contains("optim") {
            Style::new().fg(Color::Green)
        } else {
            Style::new()
        };
        if i == app.profile_scroll.sel && app.focus == Pane::Code {
            st = st.add_modifier(Modifier::REVERSED);
        }
        out.push(Line::styled(pad(&text, w), st));
    }
    lines_in(f, table, out);
}

// ----- locals and stack --------------------------------------------------

fn draw_vars(f: &mut Frame, app: &App, slot: &Slot) {
    let extra = match app.selected_frame() {
        Some(fr) => format!("— #{} {}", app.frames.sel, fit(&fr.func_name, 24)),
        None => String::new(),
    } + if app.hex { " (hex)" } else { "" };
    let block = pane_block(app, slot, extra);
    let inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    let rows = app.var_rows();
    if rows.is_empty() {
        let msg = if app.state == RunState::Running {
            "running: pause to see values"
        } else {
            "no values"
        };
        lines_in(f, inner, vec![Line::styled(msg, DIM)]);
        return;
    }
    let w = usize::from(inner.width);
    let h = usize::from(inner.height);
    let label_w = rows
        .iter()
        .map(|r| match r {
            VarRow::Value { label, .. } => label.chars().count() + 1,
            VarRow::Global(g) => g.name.as_ref().map_or(9, |n| n.chars().count()),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
        .clamp(7, (w / 3).max(7));
    let ty_w = 4;
    let place_w = if w >= 40 {
        (w / 4).clamp(10, 14)
    } else {
        (w / 4).max(4)
    };
    let value_w = w.saturating_sub(label_w + ty_w + place_w + 3).max(1);
    let top = app.vars.visible_top(rows.len(), h);
    let focused = app.focus == Pane::Vars;
    let mut out = Vec::new();
    for (i, row) in rows.iter().enumerate().skip(top).take(h) {
        let (text, mut st) = match row {
            VarRow::Section(s) => (
                fit(s, w),
                Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ),
            VarRow::Note(s) => (
                fit(s, w),
                Style::new()
                    .fg(Color::Yellow)
                    .add_modifier(Modifier::ITALIC),
            ),
            VarRow::Value { label, value, top } => {
                let label = if *top {
                    format!("{label}▸")
                } else {
                    label.clone()
                };
                (
                    format!(
                        "{} {} {} {}",
                        pad(&label, label_w),
                        pad(&value.ty.to_string(), ty_w),
                        pad(&value_text(value, app.hex), value_w),
                        pad(&value.place.describe(), place_w)
                    ),
                    Style::new(),
                )
            }
            VarRow::Global(g) => {
                let label = g
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("$global{}", g.index));
                (
                    format!(
                        "{} {} {} {}",
                        pad(&label, label_w),
                        pad(&g.ty.to_string(), ty_w),
                        pad(&global_text(g, app.hex), value_w),
                        pad(if g.mutable { "mut" } else { "const" }, place_w)
                    ),
                    Style::new(),
                )
            }
        };
        if i == app.vars.sel && focused {
            st = st.add_modifier(Modifier::REVERSED);
        }
        out.push(Line::styled(pad(&text, w), st));
    }
    lines_in(f, inner, out);
}

// ----- call stack -------------------------------------------------------------

fn draw_frames(f: &mut Frame, app: &App, slot: &Slot) {
    let n = app.snapshot.as_ref().map_or(0, |s| s.frames.len());
    let block = pane_block(app, slot, format!("({n})"));
    let inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    let Some(snap) = &app.snapshot else {
        lines_in(f, inner, vec![Line::styled("no frames (not paused)", DIM)]);
        return;
    };
    let w = usize::from(inner.width);
    let h = usize::from(inner.height);
    let top = app.frames.visible_top(n, h);
    let focused = app.focus == Pane::Frames;
    let mut out = Vec::new();
    for (i, fr) in snap.frames.iter().enumerate().skip(top).take(h) {
        let src = fr
            .source
            .as_ref()
            .map(|s| {
                let file = s.file.rsplit('/').next().unwrap_or(&s.file);
                format!(" {file}:{}", s.line)
            })
            .unwrap_or_default();
        let tier = pad(fr.tier.name(), 14);
        let fixed = 29 + src.chars().count();
        let name_w = w.saturating_sub(fixed).max(6);
        let mark = if i == app.frames.sel { "▶" } else { " " };
        let text = format!(
            "{mark}#{} {} {} {tier}{src}",
            pad(&i.to_string(), 2),
            pad(&fr.func_name, name_w),
            pad_left(&format!("{:#x}", fr.offset), 8),
        );
        let mut st = match fr.tier {
            wdb::debugger::FrameTier::Optimized | wdb::debugger::FrameTier::Osr => {
                Style::new().fg(Color::Magenta)
            }
            wdb::debugger::FrameTier::Host => DIM,
            _ => Style::new(),
        };
        if i == app.frames.sel {
            st = st.add_modifier(if focused {
                Modifier::REVERSED
            } else {
                Modifier::BOLD
            });
        }
        out.push(Line::styled(pad(&text, w), st));
    }
    lines_in(f, inner, out);
}

// ----- memory -----------------------------------------------------------------

/// Bytes per memory row for a pane `width` characters wide.
pub fn memory_row_bytes(width: usize) -> u64 {
    if width >= 10 + 16 * 3 + 1 + 16 {
        16
    } else if width >= 10 + 8 * 3 + 1 + 8 {
        8
    } else {
        4
    }
}

fn draw_memory(f: &mut Frame, app: &App, slot: &Slot) {
    let extra = match (app.memory.addr, app.memory.memory) {
        (Some(a), 0) => format!("— {a:#x}"),
        (Some(a), m) => format!("— $mem{m} {a:#x}"),
        (None, _) => String::new(),
    };
    let block = pane_block(app, slot, extra);
    let inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    let Some(addr) = app.memory.addr else {
        lines_in(
            f,
            inner,
            text_lines(
                &[
                    "Enter on an integer in Locals·Stack follows it here;",
                    "`g` in this pane or `:x ADDR` reads any address.",
                ],
                DIM,
            ),
        );
        return;
    };
    let w = usize::from(inner.width);
    let row = memory_row_bytes(w);
    let m = &app.memory;
    let end = m.data_addr.saturating_add(m.bytes.len() as u64);
    let byte_at = |a: u64| -> Option<u8> {
        if a >= m.data_addr && a < end {
            usize::try_from(a - m.data_addr)
                .ok()
                .and_then(|i| m.bytes.get(i).copied())
        } else {
            None
        }
    };
    let mut out = Vec::new();
    for r in 0..u64::from(inner.height) {
        let a = addr.saturating_add(r.saturating_mul(row));
        let mut hex = String::new();
        let mut ascii = String::new();
        for i in 0..row {
            match byte_at(a.saturating_add(i)) {
                Some(b) => {
                    hex.push_str(&format!("{b:02x} "));
                    ascii.push(if b.is_ascii_graphic() || b == b' ' {
                        char::from(b)
                    } else {
                        '.'
                    });
                }
                None => {
                    hex.push_str("?? ");
                    ascii.push(' ');
                }
            }
        }
        out.push(Line::from(vec![
            Span::styled(format!("{a:08x}  "), DIM),
            Span::raw(hex),
            Span::styled(format!("|{ascii}|"), Style::new().fg(Color::Cyan)),
        ]));
    }
    lines_in(f, inner, out);
}

// ----- functions and breakpoints -------------------------------------------------

fn draw_functions(f: &mut Frame, app: &App, slot: &Slot) {
    let rows = app.filtered_functions();
    let filter = if app.func_filter.is_empty() {
        if app.focus == Pane::Functions {
            "(type to filter)".to_string()
        } else {
            String::new()
        }
    } else {
        format!("filter: {}", fit(&app.func_filter, 20))
    };
    let block = pane_block(app, slot, format!("({}) {filter}", rows.len()));
    let inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    let w = usize::from(inner.width);
    let h = usize::from(inner.height);
    // Call counts when the pane is wide enough to keep names readable.
    let show_calls = w >= 60;
    let calls_w = if show_calls { 9 } else { 0 };
    // On narrow panes the name matters more than the budget.
    let show_budget = w >= 44;
    let budget_w = if show_budget { 11 } else { 0 };
    let name_w = w.saturating_sub(6 + 12 + calls_w + budget_w).max(4);
    let mut out = Vec::new();
    // A header row when the pane has room to spare.
    let h = if h > 6 {
        out.push(Line::styled(
            pad(
                &format!(
                    "{} {} {} {}{}",
                    pad("#", 6),
                    pad("name", name_w),
                    pad("tier", 11),
                    if show_calls {
                        format!("{} ", pad_left("calls", 8))
                    } else {
                        String::new()
                    },
                    if show_budget {
                        pad_left("budget", 10)
                    } else {
                        String::new()
                    }
                ),
                w,
            ),
            DIM,
        ));
        h - 1
    } else {
        h
    };
    let top = app.funcs.visible_top(rows.len(), h);
    let focused = app.focus == Pane::Functions;
    for (i, r) in rows.iter().enumerate().skip(top).take(h) {
        // While paused, a function with frames on the stack shows the code
        // its innermost frame runs (`▸osr`), which may differ from its slot.
        let tier = if r.imported {
            "import".to_string()
        } else if let Some(t) = r.frames.first() {
            format!("▸{}", t.name())
        } else {
            r.tier.clone()
        };
        let tier = tier.as_str();
        let budget = if show_budget {
            pad_left(
                &r.budget_left.map(|b| b.to_string()).unwrap_or_default(),
                10,
            )
        } else {
            String::new()
        };
        let calls = match (show_calls, r.imported) {
            (false, _) => String::new(),
            (true, true) => " ".repeat(9),
            (true, false) => format!("{} ", pad_left(&compact_count(r.calls), 8)),
        };
        let text = format!(
            "{} {} {} {calls}{}",
            pad(&format!("#{}", r.index), 6),
            pad(&r.name, name_w),
            pad(tier, 11),
            budget
        );
        let mut st = if tier.contains("optim") {
            Style::new().fg(Color::Green)
        } else if r.imported {
            DIM
        } else {
            Style::new()
        };
        if i == app.funcs.sel && focused {
            st = st.add_modifier(Modifier::REVERSED);
        }
        out.push(Line::styled(pad(&text, w), st));
    }
    lines_in(f, inner, out);
}

/// 1234 → "1234", 1234567 → "1.2M": counts in 8 columns.
fn compact_count(n: u64) -> String {
    match n {
        0..=99_999 => n.to_string(),
        100_000..=99_999_999 => format!("{:.1}M", n as f64 / 1e6),
        _ => format!("{:.1}G", n as f64 / 1e9),
    }
}

fn draw_breakpoints(f: &mut Frame, app: &App, slot: &Slot) {
    let block = pane_block(app, slot, format!("({})", app.breakpoints.len()));
    let inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    if app.breakpoints.is_empty() {
        lines_in(
            f,
            inner,
            vec![Line::styled("none: F9/b in the code, or :break FUNC", DIM)],
        );
        return;
    }
    let w = usize::from(inner.width);
    let h = usize::from(inner.height);
    let top = app.bps.visible_top(app.breakpoints.len(), h);
    let focused = app.focus == Pane::Breakpoints;
    let spec_w = app
        .breakpoints
        .iter()
        .map(|b| b.spec.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 16);
    let mut out = Vec::new();
    for (i, b) in app.breakpoints.iter().enumerate().skip(top).take(h) {
        let cond = b
            .condition
            .as_ref()
            .map(|c| format!(" if $local{} {} {}", c.local, c.op.symbol(), c.value))
            .unwrap_or_default();
        let text = format!(
            "{}{} {} {} #{} hits {}{cond}",
            if b.enabled { "●" } else { "○" },
            pad(&b.id.to_string(), 3),
            pad(&b.spec, spec_w),
            pad_left(&format!("{:#x}", b.offset), 7),
            b.func_index,
            b.hits
        );
        let mut st = if b.enabled { Style::new() } else { DIM };
        if i == app.bps.sel && focused {
            st = st.add_modifier(Modifier::REVERSED);
        }
        out.push(Line::styled(pad(&text, w), st));
    }
    lines_in(f, inner, out);
}

// ----- output -----------------------------------------------------------------------

fn draw_output(f: &mut Frame, app: &App, slot: &Slot) {
    let partial = app.partial_lines();
    let total = app.output.len() + partial.len();
    let extra = if app.output_back > 0 {
        format!("({total} lines, ↑{})", app.output_back)
    } else {
        format!("({total} lines)")
    };
    let block = pane_block(app, slot, extra);
    let inner = block.inner(slot.rect);
    f.render_widget(block, slot.rect);
    let w = usize::from(inner.width);
    let h = usize::from(inner.height);
    let end = total.saturating_sub(app.output_back);
    let start = end.saturating_sub(h);
    let mut out = Vec::new();
    for i in start..end {
        let line = if i < app.output.len() {
            app.output.get(i)
        } else {
            partial.get(i - app.output.len())
        };
        let Some(line) = line else {
            continue;
        };
        let st = match line.kind {
            OutKind::Stdout => Style::new(),
            OutKind::Stderr => Style::new().fg(Color::LightRed),
            OutKind::Info => Style::new().fg(Color::Cyan),
            OutKind::Error => ERR.add_modifier(Modifier::BOLD),
        };
        out.push(Line::styled(fit(&clean(&line.text), w), st));
    }
    lines_in(f, inner, out);
}

// ----- status bar, command line, help -------------------------------------------------

/// The mode as the status bar names it.
pub fn mode_text(mode: DebugMode) -> &'static str {
    match mode {
        DebugMode::Debug => "DEBUG — tiered down",
        DebugMode::Running => "RUNNING",
        DebugMode::Profile => "PROFILE — tiered up",
    }
}

fn state_text(app: &App) -> String {
    if app.quit_at.is_some() {
        return "quitting…".into();
    }
    if let Some((mode, done, total)) = app.tier_progress {
        let verb = if mode == DebugMode::Profile {
            "tiering up"
        } else {
            "tiering down"
        };
        return format!("{verb} {done}/{total}");
    }
    if app.attaching {
        return "attaching…".into();
    }
    match app.state {
        RunState::Running => "running".into(),
        RunState::Paused => match &app.snapshot {
            Some(s) => {
                let at = s
                    .frames
                    .first()
                    .map(|fr| format!(" · {} {:#x}", fr.func_name, fr.offset))
                    .unwrap_or_default();
                format!("{}{at}", s.reason.describe())
            }
            None => "paused".into(),
        },
        RunState::Ended => app.outcome.clone().unwrap_or_else(|| "ended".into()),
    }
}

/// Whether a pause shows any `v128` (a frame's locals or operand stack, or a global).
fn shows_v128(s: &wdb::debugger::Snapshot) -> bool {
    let v128 = |t: wdb::ValType| t == wdb::ValType::V128;
    s.globals.iter().any(|g| v128(g.ty))
        || s.frames.iter().any(|f| {
            let values = f.locals.iter().chain(f.stack.iter()).flatten();
            values.map(|v| v.ty).any(v128)
        })
}

fn draw_status(f: &mut Frame, app: &App, area: Rect) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let w = usize::from(area.width);
    let badge_style = match app.mode {
        DebugMode::Debug => Style::new().fg(Color::Black).bg(Color::Green),
        DebugMode::Running => Style::new().fg(Color::Black).bg(Color::Yellow),
        DebugMode::Profile => Style::new().fg(Color::Black).bg(Color::Magenta),
    }
    .add_modifier(Modifier::BOLD);
    let badge = fit(&format!(" {} ", mode_text(app.mode)), w);
    let state = format!(" {} ", state_text(app));
    let hints = match app.state {
        RunState::Running => "F6/^C pause  p profile  : cmd  ? help  q quit",
        _ => "F5/c cont  F10/n next  F11/s step  f finish  F9/b break  p profile  : cmd  ? help  q quit",
    };
    // With vectors on screen, the lane-shape key and the shape in use come first.
    let hints = match app.snapshot.as_deref().filter(|s| shows_v128(s)) {
        Some(_) => format!("L lanes {}  {hints}", wdb::debugger::v128::lanes().name()),
        None => hints.to_string(),
    };
    let hints = hints.as_str();
    let used = badge.chars().count() + state.chars().count();
    let room = w.saturating_sub(used);
    let state = fit(&state, w.saturating_sub(badge.chars().count()));
    let hint = pad_left(&fit(hints, room.saturating_sub(1)), room);
    let line = Line::from(vec![
        Span::styled(badge, badge_style),
        Span::styled(state, Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(hint, DIM),
    ]);
    f.render_widget(
        Paragraph::new(line).style(Style::new().bg(Color::Rgb(30, 30, 40))),
        area,
    );
}

fn draw_command(f: &mut Frame, app: &App, area: Rect) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let w = usize::from(area.width);
    if let Some(p) = &app.prompt {
        let label = p.kind.label();
        let text = format!("{label}{}", p.input);
        // Keep the end of long input visible.
        let n = text.chars().count();
        let skip = n.saturating_add(1).saturating_sub(w);
        let shown: String = text.chars().skip(skip).collect();
        let x = area
            .x
            .saturating_add(u16::try_from(shown.chars().count()).unwrap_or(u16::MAX))
            .min(area.right().saturating_sub(1));
        let style = if p.kind == PromptKind::Command {
            Style::new().add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(Color::Cyan)
        };
        f.render_widget(Paragraph::new(Line::styled(shown, style)), area);
        f.set_cursor_position(Position::new(x, area.y));
        return;
    }
    let line = match &app.message {
        Some((m, true)) => Line::styled(fit(&clean(m), w), ERR.add_modifier(Modifier::BOLD)),
        Some((m, false)) => Line::raw(fit(&clean(m), w)),
        None => Line::styled(
            fit(
                &format!(
                    "{} — Tab: next pane · : command · / search · g go to · ? help",
                    app.name
                ),
                w,
            ),
            DIM,
        ),
    };
    f.render_widget(Paragraph::new(line), area);
}

const KEYS: &[&str] = &[
    "F5 c      continue            F6 ^C     pause (attach)",
    "F10 n     step over           F11 s     step into",
    "S-F11 f   finish              F9 b      breakpoint at cursor",
    "p         profile mode on/off v         source / disassembly",
    "g         go to offset/func   /         search in code",
    ":         command line        x         hex / decimal values",
    "L         v128 lanes: i8x16 → i16x8 → i32x4 → i64x2 → f32x4 → f64x2 (also :lanes SHAPE)",
    "Tab S-Tab focus               arrows PgUp PgDn Home End  scroll",
    "Enter     follow value into memory, open function/frame/breakpoint",
    "+ -       pane height         < >       column width     z  zoom",
    "d e       delete / enable breakpoint (Breakpoints pane)",
    "m         native code under each wasm instruction (Code pane)",
    "Enter     in the profile: annotate the function (Esc: back)",
    "→ ← Enter open / close a struct, array or pointer (Variables, Watch)",
    "w         watchpoint on the selected variable (Variables pane)",
    "t         catch throw on/off: stop when a wasm exception is thrown",
    "a d       add / delete a watch expression (Watch; :watch-expr EXPR)",
    "Functions pane: type to filter, Esc clears     q  quit",
];

fn draw_help(f: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = vec![Line::styled(
        "Keys",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    lines.extend(KEYS.iter().map(|k| Line::raw(*k)));
    lines.push(Line::raw(""));
    lines.push(Line::styled(
        "Command line (:)",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    lines.extend(console::HELP.iter().map(|h| Line::raw(*h)));
    lines.push(Line::raw(""));
    lines.push(Line::styled("any key closes this help", DIM));
    let want_h = u16::try_from(lines.len().saturating_add(2)).unwrap_or(u16::MAX);
    let w = area.width.min(110);
    let h = area.height.min(want_h);
    let rect = Rect::new(
        area.x.saturating_add(area.width.saturating_sub(w) / 2),
        area.y.saturating_add(area.height.saturating_sub(h) / 2),
        w,
        h,
    );
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .title(" wdb help ")
                .border_style(Style::new().fg(Color::Cyan)),
        ),
        rect,
    );
}

/// One line of the code pane: breakpoint mark, then the text in `style`;
/// `cursor` is Some(focused) on the cursor line (reversed when the pane has
/// the focus, underlined when only the view is active).
fn code_line(
    bp_mark: Span<'static>,
    body: &str,
    mut style: Style,
    cursor: Option<bool>,
    active: bool,
    w: usize,
) -> Line<'static> {
    match cursor {
        Some(true) => style = style.add_modifier(Modifier::REVERSED),
        Some(false) if active => style = style.add_modifier(Modifier::UNDERLINED),
        _ => {}
    }
    Line::from(vec![
        bp_mark,
        Span::styled(pad(body, w.saturating_sub(1)), style),
    ])
}
