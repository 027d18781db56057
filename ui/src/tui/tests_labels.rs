//! Snapshot test of the per-frame code labels over a real session: a pause
//! while one long call runs in its loop's OSR entry shows that frame as
//! `osr` in the call-stack pane and the function as `▸osr` (the code its
//! frame runs) in the functions pane; its caller runs `baseline·debug`.

use super::draw::draw;
use super::model::{App, Pane};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::backend::TestBackend;
use ratatui::layout::Position;
use ratatui::Terminal;
use std::time::{Duration, Instant};
use wdb::debugger::{FrameTier, RunState, Session, SessionConfig};

/// One long call: `work` loops `n` times and is called once by `main`.
const LONG: &str = r#"
(module
  (func $work (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block
      (loop
        (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br 0)))
    (local.get $acc))
  (func (export "main") (param $n i32) (result i32)
    (i32.add (call $work (local.get $n)) (i32.const 7)))
)
"#;

/// Only to fail instead of hanging when the engine never answers.
const DEADLINE: Duration = Duration::from_secs(60);

fn screen(app: &App, w: u16, h: u16) -> Vec<String> {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| draw(f, app)).expect("draw");
    let buf = t.backend().buffer().clone();
    (0..h)
        .map(|y| {
            (0..w)
                .map(|x| buf.cell(Position::new(x, y)).map_or(" ", |c| c.symbol()))
                .collect()
        })
        .collect()
}

#[test]
fn call_stack_and_functions_panes_show_the_code_each_frame_runs() {
    // The move up needs the OSR entry compiled on a thread of its own; on
    // a loaded machine that may take longer than the wait: then a fresh
    // session waits longer (the pause itself is what is checked).
    let mut wait_ms = 300;
    let app = loop {
        let session = Session::start(SessionConfig {
            name: "long.wat".into(),
            wasm: LONG.as_bytes().to_vec(),
            invoke: Some("main".into()),
            args: vec!["2000000000".into()],
            run: true,
            eager: true,
            ..SessionConfig::default()
        })
        .expect("session");
        let mut app = App::new(Box::new(session));
        std::thread::sleep(Duration::from_millis(wait_ms));
        app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
        let start = Instant::now();
        while !(app.state == RunState::Paused && app.snapshot.is_some()) {
            assert!(start.elapsed() < DEADLINE, "no pause: {:?}", app.message);
            app.drain(4096);
            std::thread::sleep(Duration::from_millis(5));
        }
        let top = app.snapshot.as_ref().unwrap().frames[0].tier;
        if top == FrameTier::Osr {
            break app;
        }
        assert!(wait_ms < 10_000, "work never ran its OSR entry ({top:?})");
        wait_ms *= 3;
    };
    let mut app = app;
    app.zoom = true;
    app.focus(Pane::Frames);
    let rows = screen(&app, 120, 20);
    let text = rows.join("\n");
    let frame = |k: usize, name: &str| {
        rows.iter()
            .find(|r| r.contains(&format!("#{k} ")) && r.contains(name))
            .unwrap_or_else(|| panic!("no frame #{k} in the call-stack pane:\n{text}"))
    };
    assert!(frame(0, "work").contains(" osr "), "{text}");
    assert!(frame(1, "main").contains("baseline·debug"), "{text}");
    app.focus(Pane::Functions);
    let rows = screen(&app, 120, 20);
    let text = rows.join("\n");
    let row = |name: &str| {
        rows.iter()
            .find(|r| r.split_whitespace().any(|t| t == name))
            .unwrap_or_else(|| panic!("no `{name}` in the functions pane:\n{text}"))
    };
    assert!(row("work").contains("▸osr"), "{text}");
    assert!(row("main").contains("▸baseline"), "{text}");
}
