//! Snapshot tests of the Variables and Watch panes over a real session:
//! `samples/debugme-g.wasm` stopped in `mean`, `ds` opened into `count` and
//! `values`, watch expressions re-evaluated at each step with changed values
//! marked, and `w` sending the console's `watch`.

use super::action::Action;
use super::draw::draw;
use super::model::{App, Pane};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Position;
use ratatui::style::Color;
use ratatui::Terminal;
use std::time::{Duration, Instant};
use wdb::debugger::{RunState, Session, SessionConfig};

const WASM: &[u8] = include_bytes!("../../../samples/debugme-g.wasm");
const SOURCE: &str = include_str!("../../../samples/c/debugme.c");
/// Only to fail instead of hanging when the engine never answers.
const DEADLINE: Duration = Duration::from_secs(60);

fn start() -> App {
    let session = Session::start(SessionConfig {
        name: "debugme-g.wasm".into(),
        wasm: WASM.to_vec(),
        sources: vec![("debugme.c".into(), SOURCE.into())],
        args: vec!["1000".into()],
        ..SessionConfig::default()
    })
    .expect("session");
    App::new(Box::new(session))
}

/// Handles engine events until `done` holds.
fn wait(app: &mut App, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    loop {
        app.drain(4096);
        if done(app) {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "no {what}: {:?}", app.message);
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn settled(app: &App) -> bool {
    app.state == RunState::Paused && app.source_vars.values.is_some() && !app.source_vars.pending
}

/// Stopped at the breakpoint in `mean`, its variables in.
fn in_mean() -> App {
    let mut app = start();
    wait(&mut app, "entry stop", |a| a.state == RunState::Paused);
    app.run_command("break debugme.c:75");
    app.update(Action::Continue);
    wait(&mut app, "stop in mean", |a| {
        settled(a) && a.selected_frame().is_some_and(|f| f.func_name == "mean")
    });
    app
}

/// The focused pane zoomed to the whole screen: its rows, trimmed.
fn pane(app: &App, w: u16, h: u16) -> (Vec<String>, Buffer) {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| draw(f, app)).expect("draw");
    let buf = t.backend().buffer().clone();
    let mut rows = Vec::new();
    for y in 1..h.saturating_sub(3) {
        let mut s = String::new();
        for x in 1..w.saturating_sub(1) {
            s.push_str(buf.cell(Position::new(x, y)).map_or(" ", |c| c.symbol()));
        }
        rows.push(s.trim_end().to_string());
    }
    while rows.last().is_some_and(|r| r.is_empty()) {
        rows.pop();
    }
    (rows, buf)
}

fn select(app: &mut App, name: &str) {
    let i = app
        .source_vars
        .var_rows()
        .iter()
        .position(|r| r.node.name == name)
        .unwrap_or_else(|| panic!("no row {name}"));
    let n = app.source_vars.var_rows().len();
    app.source_vars.scroll.set(i, n);
}

#[test]
fn variables_pane_opens_a_struct_through_its_pointer() {
    let mut app = in_mean();
    app.focus(Pane::Variables);
    app.zoom = true;
    let (rows, _) = pane(&app, 72, 12);
    assert_eq!(
        rows,
        [
            "▸ ds  const struct dataset * 0x11508",
            "  i   int                    0",
            "  sum int                    0",
        ],
        "\n{}",
        rows.join("\n")
    );
    // → opens `ds`: the members of the struct it points to.
    select(&mut app, "ds");
    app.update(Action::Expand);
    wait(&mut app, "children of ds", |a| {
        settled(a) && a.source_vars.var_rows().len() > 3
    });
    let (rows, _) = pane(&app, 72, 12);
    assert_eq!(
        rows,
        [
            "▾ ds       const struct dataset * 0x11508",
            "  ▸ values int [16]               {12, 45, 7, 30, 18, 52, 3, 41, 27, …",
            "    count  int                    16",
            "  i        int                    0",
            "  sum      int                    0",
        ],
        "\n{}",
        rows.join("\n")
    );
    // Enter opens the array; ← on an element goes back to it, ← again closes it.
    select(&mut app, "values");
    app.update(Action::Enter);
    wait(&mut app, "elements of values", |a| {
        settled(a) && a.source_vars.var_rows().len() > 4
    });
    let names: Vec<String> = app
        .source_vars
        .var_rows()
        .iter()
        .map(|r| format!("{}={}", r.node.expr, r.node.value))
        .collect();
    assert_eq!(
        names.get(2).map(String::as_str),
        Some("ds->values[0]=12"),
        "{names:?}"
    );
    assert_eq!(
        names.get(17).map(String::as_str),
        Some("ds->values[15]=53"),
        "{names:?}"
    );
    assert_eq!(names.len(), 5 + 16, "{names:?}");
    select(&mut app, "[3]");
    app.update(Action::Collapse);
    assert_eq!(app.source_vars.scroll.sel, 1, "← goes to the parent");
    app.update(Action::Collapse);
    assert_eq!(app.source_vars.var_rows().len(), 5);
    // `w`: a watchpoint on the selected variable through the console's `watch`.
    select(&mut app, "count");
    app.update(Action::Watchpoint);
    assert!(
        app.message.is_some(),
        "the engine's reply to `watch ds->count` is shown"
    );
    assert!(
        app.history.iter().any(|h| h == "watch ds->count"),
        "{:?}",
        app.history
    );
}

#[test]
fn watch_pane_marks_values_that_changed_at_the_stop() {
    let mut app = in_mean();
    app.run_command("watch-expr sum");
    app.run_command("watch-expr ds->count * 2");
    app.run_command("watch-expr nosuch");
    assert_eq!(app.focus, Pane::Watch);
    wait(&mut app, "watch values", |a| {
        settled(a) && a.source_vars.watch_rows().len() == 3
    });
    app.zoom = true;
    let (rows, _) = pane(&app, 72, 10);
    assert_eq!(
        rows,
        [
            "  sum           int 0",
            "  ds->count * 2 int 32",
            "  nosuch            no symbol `nosuch` in the current context",
        ],
        "\n{}",
        rows.join("\n")
    );
    // Line steps until `sum` changes: its row is marked, the others not.
    for _ in 0..8 {
        let before = app.snapshot.clone();
        app.update(Action::Next);
        wait(&mut app, "the step", |a| {
            settled(a)
                && match (&before, &a.snapshot) {
                    (Some(b), Some(s)) => !std::sync::Arc::ptr_eq(b, s),
                    _ => false,
                }
        });
        let sum = app.source_vars.watch_rows()[0].node.value.clone();
        if sum != "0" {
            break;
        }
    }
    let rows = app.source_vars.watch_rows();
    assert_eq!(rows[0].node.value, "12", "sum after the first addition");
    assert!(rows[0].changed && !rows[1].changed && !rows[2].changed);
    let (lines, buf) = pane(&app, 72, 10);
    let x = lines[0]
        .find("12")
        .map(|b| lines[0][..b].chars().count())
        .unwrap_or(0) as u16;
    assert_eq!(
        buf.cell(Position::new(x + 1, 1)).map(|c| c.fg),
        Some(Color::Red),
        "changed value not marked\n{}",
        lines.join("\n")
    );
    // `d` deletes the selected expression.
    let n = app.source_vars.watch_rows().len();
    app.source_vars.watch_scroll.set(2, n);
    app.update(Action::DeleteWatch);
    assert_eq!(app.source_vars.watch, ["sum", "ds->count * 2"]);
}

#[test]
fn watch_pane_lists_the_watchpoints() {
    let mut app = in_mean();
    app.run_command("watch sum");
    app.run_command("rwatch ds->count");
    wait(&mut app, "two watchpoints", |a| a.watchpoints.len() == 2);
    app.run_command("info watchpoints");
    assert_eq!(app.focus, Pane::Watch);
    app.zoom = true;
    let (rows, _) = pane(&app, 72, 12);
    let list: Vec<&String> = rows
        .iter()
        .skip_while(|r| r.as_str() != "Watchpoints")
        .collect();
    assert_eq!(list.len(), 3, "\n{}", rows.join("\n"));
    assert!(
        list[1].starts_with("2   hw watchpoint   sum  0x") && !list[1].contains("hit"),
        "\n{}",
        rows.join("\n")
    );
    assert!(
        list[2].starts_with("3   read watchpoint ds->count  0x") && list[2].ends_with("+4"),
        "\n{}",
        rows.join("\n")
    );
    // The write to `sum` stops the program; the row counts the hit.
    app.update(Action::Continue);
    wait(&mut app, "the watchpoint stop", |a| {
        settled(a) && a.watchpoints.iter().any(|w| w.hits > 0)
    });
    let (rows, _) = pane(&app, 72, 12);
    assert!(
        rows.iter()
            .any(|r| r.starts_with("2   hw watchpoint   sum") && r.ends_with("hit 1 time")),
        "\n{}",
        rows.join("\n")
    );
    app.run_command("delete 2");
    wait(&mut app, "one watchpoint left", |a| {
        a.watchpoints.len() == 1
    });
    let (rows, _) = pane(&app, 72, 12);
    assert!(
        !rows.iter().any(|r| r.contains("sum  0x")),
        "\n{}",
        rows.join("\n")
    );
}
