//! Tests of the terminal UI over a fake debuggee: rendering on `TestBackend`
//! at several sizes, keys and the commands they send, the profile view, an
//! output flood, and the event loop end to end.

use super::draw::draw;
use super::model::{App, Pane, VarRow, OUTPUT_LINES};
use super::{event_loop, Debuggee, Input};
use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind,
};
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Position;
use ratatui::style::Color;
use ratatui::Terminal;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wdb::debugger::*;
use wdb::ValType;

/// What the fake shares with the test after the app owns it.
#[derive(Default)]
pub(super) struct Shared {
    sent: RefCell<Vec<Command>>,
    events: RefCell<VecDeque<Event>>,
    mode: Cell<Option<DebugMode>>,
    catch_throw: Cell<bool>,
}

pub(super) struct Fake {
    shared: Rc<Shared>,
    state: RunState,
    dwarf: bool,
}

impl Fake {
    fn new(state: RunState, dwarf: bool) -> (Fake, Rc<Shared>) {
        let shared = Rc::new(Shared::default());
        (
            Fake {
                shared: shared.clone(),
                state,
                dwarf,
            },
            shared,
        )
    }
}

fn func(index: u32, name: &str, tier: &str, body: (u32, u32)) -> FunctionRow {
    FunctionRow {
        index,
        name: name.into(),
        tier: tier.into(),
        frames: Vec::new(),
        imported: index == 0,
        calls: u64::from(index) * 1000,
        body,
        budget_left: Some(1000 - i64::from(index)),
    }
}

fn fake_functions() -> Vec<FunctionRow> {
    vec![
        func(0, "fd_write", "host", (0, 0)),
        func(1, "_start", "optimized", (0x80, 0xa0)),
        func(2, "main", "debug", (0x180, 0x1c0)),
        func(3, "mean", "debug", (0x100, 0x140)),
        func(
            4,
            "an_extremely_long_function_name_that_will_never_fit_in_any_reasonable_pane_width_at_all",
            "lazy",
            (0x200, 0x210),
        ),
    ]
}

impl Debuggee for Fake {
    fn send(&self, cmd: Command) {
        match &cmd {
            Command::Quit => self.shared.events.borrow_mut().push_back(Event::Closed),
            Command::ProfileOn => self.shared.mode.set(Some(DebugMode::Profile)),
            Command::CatchThrow(on) => self.shared.catch_throw.set(*on),
            _ => {}
        }
        self.shared.sent.borrow_mut().push(cmd);
    }
    fn try_recv(&self) -> Option<Event> {
        self.shared.events.borrow_mut().pop_front()
    }
    fn state(&self) -> RunState {
        self.state
    }
    fn mode(&self) -> DebugMode {
        self.shared.mode.get().unwrap_or(match self.state {
            RunState::Running => DebugMode::Running,
            _ => DebugMode::Debug,
        })
    }
    fn name(&self) -> &str {
        "debugme.wasm"
    }
    fn functions(&self) -> Vec<FunctionRow> {
        fake_functions()
    }
    fn breakpoints(&self) -> Vec<Breakpoint> {
        Vec::new()
    }
    fn catchpoint(&self) -> Option<Catchpoint> {
        self.shared
            .catch_throw
            .get()
            .then_some(Catchpoint { id: 1, hits: 0 })
    }
    fn func_at_offset(&self, offset: u32) -> Option<u32> {
        fake_functions()
            .iter()
            .find(|f| offset >= f.body.0 && offset < f.body.1)
            .map(|f| f.index)
    }
    fn disassemble(&self, func: u32) -> Vec<DisasLine> {
        let Some(row) = fake_functions().into_iter().find(|f| f.index == func) else {
            return Vec::new();
        };
        let mut v = vec![DisasLine {
            offset: None,
            text: format!("(func ${} (param i32) (result f64)", row.name),
        }];
        let ops = [
            "local.get 0",
            "i32.load offset=64",
            "local.set 1",
            "i32.const 0",
            "local.set 2",
            "block",
            "loop",
            "local.get 2",
            "local.get 1",
            "i32.gt_s",
            "br_if 1",
            "end",
            "end",
            "f64.convert_i32_s",
        ];
        let mut off = row.body.0 + 2;
        for op in ops {
            v.push(DisasLine {
                offset: Some(off),
                text: op.into(),
            });
            off += 4;
        }
        v
    }
    fn source_pos(&self, offset: u32) -> Option<SourcePos> {
        (self.dwarf && (0x100..0x140).contains(&offset)).then(|| SourcePos {
            file: "debugme.c".into(),
            line: 70 + (offset - 0x100) / 8,
            column: 5,
        })
    }
    fn source_text(&self, file: &str) -> Option<Arc<Vec<String>>> {
        (self.dwarf && file == "debugme.c").then(|| {
            Arc::new(
                (1..=120)
                    .map(|i| format!("\tsource line {i}: sum += ds->values[i];"))
                    .collect(),
            )
        })
    }
    fn has_dwarf(&self) -> bool {
        self.dwarf
    }
    fn machine_code(
        &self,
        func: u32,
        tier: wdb::Tier,
        _compile: bool,
    ) -> Result<MachineCode, String> {
        fake_machine_code(func, tier).ok_or_else(|| format!("no code for #{func}"))
    }
    fn machine_code_at(&self, pc: u64) -> Option<MachineCode> {
        fake_machine_code(3, wdb::Tier::Debug).filter(|c| c.range_at(pc).is_some())
    }
    fn annotate(&self, report: &ProfileReport, func: u32) -> Vec<String> {
        vec![
            format!("mean (#{func}): {} samples", report.samples),
            "  80.0%  0x00010e  i32.const 0".into(),
            "  80.0%        0x7f00deadbeef <+64>:  add ecx, 3".into(),
            "   2.5%  0x000112  local.set 2".into(),
        ]
    }
    fn hot_lines(&self, report: &ProfileReport) -> Vec<String> {
        vec![format!(
            "Profile: {} samples, by wasm instruction",
            report.samples
        )]
    }
}

/// Fake machine code of a function: a prologue with no wasm origin of its
/// own, then two instructions per wasm instruction; `mean`'s pc (0x10e) is
/// the second instruction of its range.
fn fake_machine_code(func: u32, tier: wdb::Tier) -> Option<MachineCode> {
    let row = fake_functions()
        .into_iter()
        .find(|f| f.index == func && !f.imported)?;
    let addr = 0x7f00_dead_beaf_u64;
    let insn = |at: u32, text: String| NativeInsn {
        addr: addr + u64::from(at),
        bytes: vec![0x90; 8],
        text,
    };
    let first = row.body.0 + 2;
    let mut ranges = vec![NativeRange {
        wasm_offset: first,
        exact: false,
        start: 0,
        end: 0x10,
        insns: vec![insn(0, "push rbp".into()), insn(8, "mov rbp, rsp".into())],
    }];
    for i in 0..14u32 {
        let start = 0x10 + 0x10 * i;
        ranges.push(NativeRange {
            wasm_offset: first + 4 * i,
            exact: true,
            start,
            end: start + 0x10,
            insns: vec![
                insn(
                    start,
                    format!("mov eax, dword ptr [rbp-{:#x}]", 8 * (i + 1)),
                ),
                insn(start + 8, format!("add ecx, {i}")),
            ],
        });
    }
    Some(MachineCode {
        func_index: func,
        tier,
        addr,
        len: 0x10 + 0x10 * 14,
        ranges,
    })
}

pub(super) fn val(ty: ValType, bits: u64, place: Place) -> Value {
    Value {
        ty,
        bits,
        hi: 0,
        place,
    }
}

pub(super) fn snapshot(dwarf: bool) -> Arc<Snapshot> {
    let src = |line| {
        dwarf.then(|| SourcePos {
            file: "debugme.c".into(),
            line,
            column: 5,
        })
    };
    let mut gpr = [0u64; 16];
    for (i, g) in gpr.iter_mut().enumerate() {
        *g = 0x1000 + i as u64;
    }
    let mut xmm = [0u128; 16];
    xmm[0] = u128::from(2.5f64.to_bits());
    Arc::new(Snapshot {
        reason: StopReason::Breakpoint(1),
        frames_omitted: 0,
        frames: vec![
            Frame {
                func_index: 3,
                func_name: "mean".into(),
                offset: 0x10e,
                tier: FrameTier::Debug,
                source: src(71),
                locals: Some(vec![
                    val(ValType::I32, 0x1000, Place::Register("rax")),
                    val(ValType::I32, 777_777, Place::Slot(-0x18)),
                    val(ValType::I32, (-3i32) as u32 as u64, Place::Slot(-0x20)),
                ]),
                stack: Some(vec![
                    val(ValType::I32, 42, Place::Register("rcx")),
                    val(ValType::F64, 2.5f64.to_bits(), Place::Slot(-0x28)),
                ]),
                note: None,
            },
            Frame {
                func_index: 2,
                func_name: "main".into(),
                offset: 0x18a,
                tier: FrameTier::Debug,
                source: None,
                locals: Some(vec![val(ValType::I64, 5, Place::Slot(-0x10))]),
                stack: Some(Vec::new()),
                note: None,
            },
            Frame {
                func_index: 1,
                func_name: "_start".into(),
                offset: 0x86,
                tier: FrameTier::Optimized,
                source: None,
                locals: None,
                stack: None,
                note: Some("running optimized code from before the attach".into()),
            },
        ],
        regs: Some(Registers {
            gpr,
            xmm,
            pc: 0x7f00_dead_beef,
        }),
        globals: vec![GlobalValue {
            index: 0,
            name: Some("__stack_pointer".into()),
            ty: ValType::I32,
            mutable: true,
            bits: 65536,
            hi: 0,
        }],
        memory_pages: Some(2),
        tables: Vec::new(),
    })
}

pub(super) fn paused_app(dwarf: bool) -> (App, Rc<Shared>) {
    let (fake, shared) = Fake::new(RunState::Paused, dwarf);
    let mut app = App::new(Box::new(fake));
    app.handle_event(Event::Paused(snapshot(dwarf)));
    (app, shared)
}

pub(super) fn render(app: &App, w: u16, h: u16) -> (String, Buffer) {
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("terminal");
    t.draw(|f| draw(f, app)).expect("draw");
    let buf = t.backend().buffer().clone();
    let mut s = String::new();
    for y in 0..h {
        for x in 0..w {
            s.push_str(buf.cell(Position::new(x, y)).map_or(" ", |c| c.symbol()));
        }
        s.push('\n');
    }
    (s, buf)
}

pub(super) fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn typ(app: &mut App, s: &str) {
    for c in s.chars() {
        app.handle_key(key(KeyCode::Char(c)));
    }
}

fn sent(shared: &Shared) -> Vec<Command> {
    shared.sent.borrow().clone()
}

/// Row of the screen holding `needle`.
pub(super) fn row_of(screen: &str, needle: &str) -> Option<usize> {
    screen.lines().position(|l| l.contains(needle))
}

#[test]
fn paused_screen_renders_at_common_sizes() {
    let (app, _) = paused_app(false);
    for (w, h) in [(120, 40), (80, 24), (300, 100)] {
        let (s, buf) = render(&app, w, h);
        assert!(s.contains("DEBUG — tiered down"), "{w}x{h}:\n{s}");
        assert!(s.contains("breakpoint 1"), "{w}x{h}:\n{s}");
        assert!(s.contains("baseline·debug"), "{w}x{h}:\n{s}");
        assert!(s.contains("rax"), "{w}x{h}:\n{s}");
        assert!(s.contains("777777"), "{w}x{h}:\n{s}");
        // The current instruction (0x10e: `i32.const 0`) is highlighted.
        let row = row_of(&s, "0x10e  i32.const 0")
            .or_else(|| row_of(&s, "0x10e i32.const 0"))
            .unwrap_or_else(|| panic!("{w}x{h}: no pc line\n{s}"));
        let line = s.lines().nth(row).unwrap_or_default();
        let col = line.find("0x10e").unwrap_or(0);
        let x = line[..col].chars().count() as u16;
        let cell = buf.cell(Position::new(x, row as u16)).expect("cell");
        assert_eq!(cell.bg, Color::Yellow, "{w}x{h}: pc line not highlighted");
        assert!(s.contains('▶'));
    }
    let (s, _) = render(&app, 120, 40);
    // Registers, call stack with tiers, globals, the caller's note.
    for needle in [
        "0000000000001000",
        "00007f00deadbeef",
        "#2",
        "optimized",
        "__stack_pointer",
        "65536",
    ] {
        assert!(s.contains(needle), "missing {needle}:\n{s}");
    }
    let (s, _) = render(&app, 300, 100);
    for needle in ["main", "_start", "[rbp-0x18]", "rcx", "2.5", "Functions"] {
        assert!(s.contains(needle), "missing {needle}:\n{s}");
    }
    // A narrow Registers pane has the xmm registers (all 128 bits) below the
    // GPRs: scrolling to the end shows them.
    let mut app = app;
    render(&app, 120, 40);
    app.focus(Pane::Registers);
    app.handle_key(key(KeyCode::End));
    let (s, _) = render(&app, 120, 40);
    assert!(
        s.contains("xmm15 00000000000000000000000000000000"),
        "xmm15 at the end:\n{s}"
    );
}

#[test]
fn tiny_and_odd_sizes_do_not_panic() {
    let (mut app, _) = paused_app(true);
    for (w, h) in [
        (10, 5),
        (1, 1),
        (2, 1),
        (1, 3),
        (59, 10),
        (61, 7),
        (99, 25),
        (160, 12),
    ] {
        render(&app, w, h);
    }
    app.help = true;
    render(&app, 10, 5);
    render(&app, 120, 40);
    app.help = false;
    app.handle_key(key(KeyCode::Char(':')));
    typ(&mut app, &"x".repeat(300));
    render(&app, 10, 5);
    render(&app, 1, 1);
    app.handle_key(key(KeyCode::Esc));
    app.zoom = true;
    render(&app, 3, 3);
    // Mouse events anywhere, including outside the last drawn area.
    for (x, y) in [(0, 0), (5, 5), (500, 500)] {
        for kind in [MouseEventKind::ScrollDown, MouseEventKind::ScrollUp] {
            app.handle_mouse(MouseEvent {
                kind,
                column: x,
                row: y,
                modifiers: KeyModifiers::NONE,
            });
        }
    }
}

#[test]
fn long_names_are_cut_with_an_ellipsis() {
    let (mut app, _) = paused_app(false);
    // Back from Code: Output, Watch, Breakpoints, Functions.
    for _ in 0..4 {
        app.handle_key(key(KeyCode::BackTab));
    }
    assert_eq!(app.focus, Pane::Functions);
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("an_extremely_long"), "{s}");
    assert!(s.contains('…'), "{s}");
}

#[test]
fn t_toggles_catch_throw_and_the_help_says_so() {
    let (mut app, shared) = paused_app(false);
    app.handle_key(key(KeyCode::Char('t')));
    assert_eq!(sent(&shared).last(), Some(&Command::CatchThrow(true)));
    app.handle_key(key(KeyCode::Char('t')));
    assert_eq!(sent(&shared).last(), Some(&Command::CatchThrow(false)));
    app.handle_key(key(KeyCode::Char('?')));
    let (s, _) = render(&app, 120, 50);
    assert!(s.contains("catch throw on/off"), "{s}");
}

#[test]
fn breakpoint_toggle_and_steps_send_commands() {
    let (mut app, shared) = paused_app(false);
    app.handle_key(key(KeyCode::Char('b')));
    assert_eq!(
        sent(&shared).last(),
        Some(&Command::Break {
            at: BreakAt::Offset(0x10e),
            condition: None
        })
    );
    app.handle_event(Event::Breakpoints(vec![Breakpoint {
        id: 4,
        offset: 0x10e,
        func_index: 3,
        enabled: true,
        hits: 0,
        condition: None,
        spec: "0x10e".into(),
    }]));
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains('●'), "{s}");
    app.handle_key(key(KeyCode::F(9)));
    assert_eq!(sent(&shared).last(), Some(&Command::Delete(Some(4))));
    // The cursor moves; the breakpoint follows it.
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Char('b')));
    assert_eq!(
        sent(&shared).last(),
        Some(&Command::Break {
            at: BreakAt::Offset(0x112),
            condition: None
        })
    );
    app.handle_key(key(KeyCode::Char('n')));
    assert_eq!(sent(&shared).last(), Some(&Command::NextInstruction));
    app.handle_key(key(KeyCode::Char('s')));
    assert_eq!(sent(&shared).last(), Some(&Command::StepInstruction));
    app.handle_key(key(KeyCode::F(10)));
    assert_eq!(sent(&shared).last(), Some(&Command::NextInstruction));
    app.handle_key(KeyEvent::new(KeyCode::F(11), KeyModifiers::SHIFT));
    assert_eq!(sent(&shared).last(), Some(&Command::Finish));
    app.handle_key(key(KeyCode::F(5)));
    assert_eq!(sent(&shared).last(), Some(&Command::Continue));
    app.handle_event(Event::Resumed);
    let before = sent(&shared).len();
    app.handle_key(key(KeyCode::Char('n')));
    assert_eq!(sent(&shared).len(), before, "no step while running");
    app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(sent(&shared).last(), Some(&Command::Pause));
}

#[test]
fn source_view_steps_by_line_and_shows_side_by_side() {
    let (mut app, shared) = paused_app(true);
    assert!(app.source_active());
    app.handle_key(key(KeyCode::Char('n')));
    assert_eq!(sent(&shared).last(), Some(&Command::NextLine));
    app.handle_key(key(KeyCode::Char('s')));
    assert_eq!(sent(&shared).last(), Some(&Command::StepLine));
    app.handle_key(key(KeyCode::Char('b')));
    assert_eq!(
        sent(&shared).last(),
        Some(&Command::Break {
            at: BreakAt::Line {
                file: "debugme.c".into(),
                line: 71
            },
            condition: None
        })
    );
    let (s, _) = render(&app, 200, 50);
    assert!(s.contains("source line 71"), "{s}");
    assert!(s.contains("i32.const 0"), "side by side:\n{s}");
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("source line 71"), "{s}");
    assert!(!s.contains("i32.const 0"), "source only:\n{s}");
    app.handle_key(key(KeyCode::Char('v')));
    assert!(!app.source_active());
    app.handle_key(key(KeyCode::Char('n')));
    assert_eq!(sent(&shared).last(), Some(&Command::NextInstruction));
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("i32.const 0"), "{s}");
}

#[test]
fn command_line_runs_the_console_language() {
    let (mut app, shared) = paused_app(false);
    app.handle_key(key(KeyCode::Char(':')));
    typ(&mut app, "bt");
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains(":bt"), "{s}");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Frames);
    assert!(sent(&shared).is_empty(), "bt is shown, not sent");

    app.handle_key(key(KeyCode::Char(':')));
    typ(&mut app, "break mean");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        sent(&shared).last(),
        Some(&Command::Break {
            at: BreakAt::FunctionName("mean".into()),
            condition: None
        })
    );

    app.handle_key(key(KeyCode::Char(':')));
    typ(&mut app, "frobnicate");
    app.handle_key(key(KeyCode::Enter));
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("unknown command `frobnicate`"), "{s}");

    // History, then `frame 1` selects the caller and its code.
    app.handle_key(key(KeyCode::Char(':')));
    app.handle_key(key(KeyCode::Up));
    assert_eq!(
        app.prompt.as_ref().map(|p| p.input.as_str()),
        Some("frobnicate")
    );
    app.handle_key(key(KeyCode::Esc));
    app.handle_key(key(KeyCode::Char(':')));
    typ(&mut app, "frame 1");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.frames.sel, 1);
    assert_eq!(app.code.func, Some(2));
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains('▷'), "caller position marked:\n{s}");

    app.handle_key(key(KeyCode::Char(':')));
    typ(&mut app, "print $local0");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        sent(&shared).last(),
        Some(&Command::Print {
            frame: 1,
            expr: "$local0".into()
        })
    );
    app.handle_event(Event::Message("$local0 = 5".into()));
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("$local0 = 5"), "{s}");

    app.handle_key(key(KeyCode::Char(':')));
    typ(&mut app, "help");
    app.handle_key(key(KeyCode::Enter));
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("wdb help") && s.contains("backtrace|bt"), "{s}");
    app.handle_key(key(KeyCode::Char('z')));
    assert!(!app.help);
}

#[test]
fn goto_and_search_move_the_code_cursor() {
    let (mut app, shared) = paused_app(false);
    app.handle_key(key(KeyCode::Char('g')));
    typ(&mut app, "0x18e");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.code.func, Some(2));
    assert_eq!(
        app.code
            .lines
            .get(app.code.scroll.sel)
            .and_then(|l| l.offset),
        Some(0x18e)
    );
    app.handle_key(key(KeyCode::Char('g')));
    typ(&mut app, "mean");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.code.func, Some(3));
    app.handle_key(key(KeyCode::Char('/')));
    typ(&mut app, "br_if");
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(
        app.code
            .lines
            .get(app.code.scroll.sel)
            .map(|l| l.text.as_str()),
        Some("br_if 1")
    );
    app.handle_key(key(KeyCode::Char('g')));
    typ(&mut app, "0xffffff");
    app.handle_key(key(KeyCode::Enter));
    assert!(app
        .message
        .as_ref()
        .is_some_and(|(m, err)| *err && m.contains("no function")));
    assert!(sent(&shared).is_empty());
}

#[test]
fn enter_follows_a_value_into_memory_and_x_toggles_hex() {
    let (mut app, shared) = paused_app(false);
    app.focus(Pane::Vars);
    // Down to the row of $local0 = 0x1000 (after the operand stack).
    let row = app
        .var_rows()
        .iter()
        .position(|r| matches!(r, VarRow::Value { label, .. } if label == "$local0"))
        .expect("a $local0 row");
    for _ in 0..row {
        app.handle_key(key(KeyCode::Down));
    }
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Memory);
    assert!(matches!(
        sent(&shared).last(),
        Some(Command::ReadMemory { addr: 0x1000, .. })
    ));
    app.handle_event(Event::Memory {
        addr: 0x1000,
        bytes: b"Hello, wdb!\0\x01\x02\x03\x04".repeat(16),
    });
    let (s, _) = render(&app, 120, 40);
    assert!(
        s.contains("00001000") && s.contains("48 65 6c 6c 6f"),
        "{s}"
    );
    assert!(s.contains("|Hello, w"), "{s}");
    let (s, _) = render(&app, 300, 100);
    assert!(
        s.contains("|Hello, wdb!.....|"),
        "16 bytes a row when wide:\n{s}"
    );
    let row = app.memory_row();
    app.handle_key(key(KeyCode::Down));
    assert_eq!(
        sent(&shared).last(),
        Some(&Command::ReadMemory {
            addr: 0x1000 + row,
            len: match sent(&shared).last() {
                Some(Command::ReadMemory { len, .. }) => *len,
                _ => 0,
            }
        })
    );
    // `:x $mem1 ADDR` shows memory 1; moving keeps reading memory 1.
    app.run_command("x $mem1 0x20 16");
    assert!(matches!(
        sent(&shared).last(),
        Some(Command::ReadMemoryAt {
            memory: 1,
            addr: 0x20,
            len: 16
        })
    ));
    app.handle_event(Event::Memory {
        addr: 0x20,
        bytes: b"second memory!!!".repeat(8),
    });
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("$mem1 0x20"), "the title names the memory:\n{s}");
    app.handle_key(key(KeyCode::Down));
    assert!(matches!(
        sent(&shared).last(),
        Some(Command::ReadMemoryAt { memory: 1, .. })
    ));
    app.run_command("x 0x1000 16");
    app.handle_key(key(KeyCode::Char('x')));
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("0xbde31"), "777777 in hex:\n{s}");
    assert!(s.contains("0xfffffffd"), "-3 in hex:\n{s}");
}

#[test]
fn registers_changed_since_the_last_stop_are_highlighted() {
    let (mut app, _) = paused_app(false);
    let mut snap = (*snapshot(false)).clone();
    if let Some(r) = snap.regs.as_mut() {
        r.gpr[3] = 0xabcdef;
    }
    snap.reason = StopReason::Step;
    app.handle_event(Event::Paused(Arc::new(snap)));
    let (s, buf) = render(&app, 120, 40);
    let row = row_of(&s, "0000000000abcdef").expect("rbx shown");
    let col = s
        .lines()
        .nth(row)
        .and_then(|l| l.find("0000000000abcdef"))
        .unwrap_or(0);
    let x = s.lines().nth(row).map_or(0, |l| l[..col].chars().count()) as u16;
    let cell = buf.cell(Position::new(x, row as u16)).expect("cell");
    assert_eq!(cell.fg, Color::Yellow);
    let row = row_of(&s, "  rax 0000000000001000").expect("rax shown");
    let line = s.lines().nth(row).unwrap_or_default();
    let x = line[..line.find("0000000000001000").unwrap_or(0)]
        .chars()
        .count() as u16;
    assert_ne!(
        buf.cell(Position::new(x, row as u16)).map(|c| c.fg),
        Some(Color::Yellow)
    );
}

#[test]
fn profile_mode_shows_hot_functions_and_a_sparkline() {
    let (mut app, shared) = paused_app(false);
    app.handle_key(key(KeyCode::Char('p')));
    // Profile mode runs the paused program on at full speed.
    let cmds = sent(&shared);
    assert_eq!(
        cmds[cmds.len() - 2..],
        [Command::ProfileOn, Command::Continue]
    );
    app.handle_event(Event::Resumed);
    app.handle_event(Event::TierProgress {
        mode: DebugMode::Profile,
        done: 3,
        total: 4,
    });
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("tiering up"), "{s}");
    app.handle_event(Event::ModeChanged {
        mode: DebugMode::Profile,
        functions: 4,
        elapsed: Duration::from_millis(12),
    });
    let t0 = Instant::now();
    app.tick(t0);
    assert_eq!(sent(&shared).last(), Some(&Command::ProfileReport));
    let n = sent(&shared).len();
    app.tick(t0 + Duration::from_millis(100));
    assert_eq!(sent(&shared).len(), n, "not before 500 ms");
    app.tick(t0 + Duration::from_millis(600));
    assert_eq!(sent(&shared).len(), n + 1);
    app.handle_event(Event::Profile(ProfileReport {
        samples: 1000,
        duration: Duration::from_millis(2500),
        flat: vec![
            ProfileRow {
                func_index: Some(5),
                name: "smooth_step".into(),
                tier: "optimized".into(),
                self_samples: 800,
                total_samples: 900,
            },
            ProfileRow {
                func_index: Some(2),
                name: "main".into(),
                tier: "optimized".into(),
                self_samples: 150,
                total_samples: 1000,
            },
        ],
        tree: vec!["  90.0%  main > smooth_step".into()],
        timeline: vec![1, 5, 9, 20, 40, 40, 38, 40, 41, 39],
        detail: ProfileDetail::default(),
    }));
    for (w, h) in [(120, 40), (80, 24), (300, 100)] {
        let (s, _) = render(&app, w, h);
        assert!(s.contains("PROFILE — tiered up"), "{w}x{h}\n{s}");
        assert!(
            s.contains("smooth_step") && s.contains("80.0%"),
            "{w}x{h}\n{s}"
        );
        assert!(s.contains("optimized"), "{w}x{h}\n{s}");
        assert!(s.contains("1000 samples"), "{w}x{h}\n{s}");
        if h >= 40 {
            assert!(s.contains('█'), "sparkline {w}x{h}\n{s}");
        }
    }
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("tiers:"), "{s}");
    render(&app, 10, 5);
    app.handle_key(key(KeyCode::Char('p')));
    assert_eq!(sent(&shared).last(), Some(&Command::ProfileOff));
}

#[test]
fn running_program_attaches_on_ctrl_c() {
    let (fake, shared) = Fake::new(RunState::Running, false);
    let mut app = App::new(Box::new(fake));
    app.handle_event(Event::Output {
        stream: OutputStream::Stdout,
        data: b"progress 10%\nprogress 20%\n".to_vec(),
    });
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("RUNNING"), "{s}");
    assert!(s.contains("progress 20%"), "{s}");
    assert!(s.contains("F6 or Ctrl-C"), "{s}");
    assert!(
        s.contains("optimized"),
        "live tiers in the function list:\n{s}"
    );
    app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(sent(&shared).last(), Some(&Command::Pause));
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("attaching…"), "{s}");
    app.handle_event(Event::TierProgress {
        mode: DebugMode::Debug,
        done: 1,
        total: 4,
    });
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("tiering down 1/4"), "{s}");
    app.handle_event(Event::ModeChanged {
        mode: DebugMode::Debug,
        functions: 4,
        elapsed: Duration::from_millis(3),
    });
    let mut snap = (*snapshot(false)).clone();
    snap.reason = StopReason::Pause;
    app.handle_event(Event::Paused(Arc::new(snap)));
    assert!(!app.attaching);
    let (s, _) = render(&app, 120, 40);
    assert!(
        s.contains("DEBUG — tiered down") && s.contains("paused"),
        "{s}"
    );
    assert!(s.contains("▶   0x10e i32.const 0"), "{s}");
    // Ctrl-C when paused only hints.
    let n = sent(&shared).len();
    app.handle_key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(sent(&shared).len(), n);
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("press q to quit"), "{s}");
}

#[test]
fn output_flood_is_bounded() {
    let (fake, shared) = Fake::new(RunState::Running, false);
    let mut app = App::new(Box::new(fake));
    {
        let mut q = shared.events.borrow_mut();
        for i in 0..100_000 {
            q.push_back(Event::Output {
                stream: if i % 10 == 0 {
                    OutputStream::Stderr
                } else {
                    OutputStream::Stdout
                },
                data: format!("line {i}\n").into_bytes(),
            });
        }
    }
    let start = Instant::now();
    let mut frames = 0;
    while app.drain(super::model::EVENTS_PER_FRAME) {
        frames += 1;
        assert!(frames < 1000);
    }
    render(&app, 120, 40);
    assert!(start.elapsed() < Duration::from_secs(10));
    assert!(frames >= 100_000 / super::model::EVENTS_PER_FRAME);
    assert_eq!(app.output.len(), OUTPUT_LINES);
    assert_eq!(
        app.output.back().map(|l| l.text.as_str()),
        Some("line 99999")
    );
    // One enormous line without a newline, split into chunks and bounded too.
    app.handle_event(Event::Output {
        stream: OutputStream::Stdout,
        data: vec![b'x'; 10 << 20],
    });
    assert_eq!(app.output.len(), OUTPUT_LINES);
    assert!(app.output.iter().all(|l| l.text.len() <= 4096));
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("xxxx"), "{s}");
    // Scrolling back and forth stays in range.
    app.focus(Pane::Output);
    app.handle_key(key(KeyCode::Home));
    assert_eq!(app.output_back, OUTPUT_LINES - 1);
    render(&app, 120, 40);
    app.handle_key(key(KeyCode::End));
    assert_eq!(app.output_back, 0);
}

#[test]
fn output_keeps_partial_lines_and_control_characters_harmless() {
    let (mut app, _) = paused_app(false);
    app.handle_event(Event::Output {
        stream: OutputStream::Stdout,
        data: b"Enter a number: ".to_vec(),
    });
    app.handle_event(Event::Output {
        stream: OutputStream::Stderr,
        data: b"\x1b[31mred\x1b[0m\tand tab\r\n".to_vec(),
    });
    app.handle_event(Event::Output {
        stream: OutputStream::Stdout,
        data: "é".as_bytes()[..1].to_vec(),
    });
    app.handle_event(Event::Output {
        stream: OutputStream::Stdout,
        data: [&"é".as_bytes()[1..], b"!\n"].concat(),
    });
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("Enter a number: é!"), "{s}");
    assert!(s.contains("�[31mred�[0m    and tab"), "{s}");
    assert!(!s.contains('\x1b'));
}

#[test]
fn functions_filter_by_typing_and_open_code() {
    let (mut app, shared) = paused_app(false);
    app.focus(Pane::Functions);
    typ(&mut app, "mai");
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("filter: mai"), "{s}");
    assert_eq!(app.filtered_functions().len(), 1);
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Code);
    assert_eq!(app.code.func, Some(2));
    app.focus(Pane::Functions);
    app.handle_key(key(KeyCode::Esc));
    assert!(app.func_filter.is_empty());
    // `q` typed in the pane filters instead of quitting.
    typ(&mut app, "q");
    assert!(sent(&shared).is_empty());
}

#[test]
fn breakpoints_pane_deletes_and_disables() {
    let (mut app, shared) = paused_app(false);
    app.handle_event(Event::Breakpoints(vec![Breakpoint {
        id: 7,
        offset: 0x112,
        func_index: 3,
        enabled: true,
        hits: 2,
        condition: Some(Condition {
            local: 2,
            op: CompareOp::Eq,
            value: 7,
        }),
        spec: "mean".into(),
    }]));
    app.focus(Pane::Breakpoints);
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("if $local2 == 7") && s.contains("hits 2"), "{s}");
    app.handle_key(key(KeyCode::Char('e')));
    assert_eq!(
        sent(&shared).last(),
        Some(&Command::Enable {
            id: 7,
            enabled: false
        })
    );
    app.handle_key(key(KeyCode::Char('d')));
    assert_eq!(sent(&shared).last(), Some(&Command::Delete(Some(7))));
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(app.focus, Pane::Code);
}

#[test]
fn ended_program_shows_the_outcome() {
    let (mut app, _) = paused_app(false);
    app.handle_event(Event::Ended {
        outcome: Outcome::Trapped("integer divide by zero in mean at 0x10e".into()),
        snapshot: None,
    });
    let (s, _) = render(&app, 120, 40);
    assert!(s.contains("program trapped: integer divide by zero"), "{s}");
}

struct Script(VecDeque<TermEvent>);

impl Input for Script {
    fn next(&mut self, _timeout: Duration) -> io::Result<Option<TermEvent>> {
        Ok(self.0.pop_front())
    }
}

#[test]
fn event_loop_runs_until_the_session_closes() {
    let (fake, shared) = Fake::new(RunState::Paused, false);
    shared
        .events
        .borrow_mut()
        .push_back(Event::Paused(snapshot(false)));
    let mut app = App::new(Box::new(fake));
    let mut term = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    let mut script = Script(
        [
            TermEvent::Key(key(KeyCode::Tab)),
            TermEvent::Resize(100, 30),
            TermEvent::Key(key(KeyCode::Char('n'))),
            TermEvent::Key(key(KeyCode::Char('q'))),
        ]
        .into_iter()
        .collect(),
    );
    let start = Instant::now();
    let code = event_loop(&mut term, &mut app, &mut script).expect("loop");
    assert_eq!(code, 0);
    assert!(start.elapsed() < Duration::from_secs(5));
    let cmds = sent(&shared);
    assert!(cmds.contains(&Command::Quit), "{cmds:?}");
    assert!(app.closed);
}

#[test]
fn quit_gives_up_waiting_after_a_while() {
    let (mut app, shared) = paused_app(false);
    app.quit();
    shared.events.borrow_mut().clear();
    assert!(!app.closed);
    app.tick(Instant::now() + Duration::from_secs(5));
    assert!(app.closed);
}

#[test]
fn a_wide_function_list_shows_call_counts() {
    let (mut app, _) = paused_app(false);
    app.focus(Pane::Functions);
    app.handle_key(key(KeyCode::Char('z')));
    let (s, _) = render(&app, 200, 50);
    assert!(s.contains("calls"), "{s}");
    assert!(s.contains("4000"), "{s}");
}

#[test]
fn m_shows_native_code_under_each_wasm_instruction() {
    let (mut app, _) = paused_app(false);
    app.handle_key(key(KeyCode::Char('m')));
    assert!(app.code.native, "m turns the native view on");
    assert!(app.code.machine.is_some(), "{:?}", app.code.machine_err);
    let (s, buf) = render(&app, 120, 60);
    // The code pane, as a snapshot: wasm lines, the native code under each,
    // the prologue marked as having no wasm origin of its own.
    let pane: Vec<String> = s
        .lines()
        .filter_map(|l| l.split('│').nth(1))
        .map(|l| l.trim().to_string())
        .filter(|l| l.contains("<+") || l.starts_with("0x1"))
        .take(9)
        .collect();
    let expected = [
        "0x102 local.get 0",
        "~    0x7f00deadbeaf <+0> push rbp",
        "~    0x7f00deadbeb7 <+8> mov rbp, rsp",
        "0x7f00deadbebf <+16> mov eax, dword ptr [rbp-0x8]",
        "0x7f00deadbec7 <+24> add ecx, 0",
        "0x106 i32.load offset=64",
        "0x7f00deadbecf <+32> mov eax, dword ptr [rbp-0x10]",
        "0x7f00deadbed7 <+40> add ecx, 1",
        "0x10a local.set 1",
    ];
    assert_eq!(pane, expected, "\n{s}");
    assert!(s.contains("native baseline·debug"), "{s}");
    // The native pc (0x7f00deadbeef, inside 0x10e's code) is highlighted.
    let row = row_of(&s, "0x7f00deadbeef").unwrap_or_else(|| panic!("no pc line\n{s}"));
    let line = s.lines().nth(row).unwrap_or_default();
    let x = line[..line.find("0x7f00deadbeef").unwrap_or(0)]
        .chars()
        .count() as u16;
    let cell = buf.cell(Position::new(x, row as u16)).expect("cell");
    assert_eq!(cell.bg, Color::Yellow, "native pc not highlighted\n{s}");
    assert!(line.contains('▶'), "{line}");
    for (w, h) in [(80, 24), (300, 100), (20, 6)] {
        render(&app, w, h);
    }
    // Moving the cursor and m again: back to wasm only.
    app.handle_key(key(KeyCode::Down));
    app.handle_key(key(KeyCode::Char('m')));
    let (s, _) = render(&app, 120, 40);
    assert!(!s.contains("<+16>"), "{s}");
}

#[test]
fn profile_view_opens_a_hot_function_annotated() {
    let (mut app, shared) = paused_app(false);
    app.handle_key(key(KeyCode::Char('p')));
    app.handle_event(Event::ModeChanged {
        mode: DebugMode::Profile,
        functions: 4,
        elapsed: Duration::from_millis(12),
    });
    app.handle_event(Event::Profile(ProfileReport {
        samples: 400,
        duration: Duration::from_millis(400),
        flat: vec![ProfileRow {
            func_index: Some(3),
            name: "mean".into(),
            tier: "optimized".into(),
            self_samples: 320,
            total_samples: 320,
        }],
        tree: Vec::new(),
        timeline: vec![100; 4],
        detail: ProfileDetail::default(),
    }));
    app.focus(Pane::Code);
    app.handle_key(key(KeyCode::Enter));
    assert_eq!(sent(&shared).last(), Some(&Command::ProfileReport));
    let (s, buf) = render(&app, 120, 40);
    assert!(s.contains("annotate mean"), "{s}");
    assert!(s.contains("mean (#3): 400 samples"), "{s}");
    let row = row_of(&s, "80.0%  0x00010e").unwrap_or_else(|| panic!("{s}"));
    let line = s.lines().nth(row).unwrap_or_default();
    let x = line[..line.find("80.0%").unwrap_or(0)].chars().count() as u16;
    assert_eq!(
        buf.cell(Position::new(x, row as u16)).map(|c| c.fg),
        Some(Color::Red),
        "hot lines stand out\n{s}"
    );
    // Esc goes back to the table of functions.
    app.handle_key(key(KeyCode::Esc));
    let (s, _) = render(&app, 120, 40);
    assert!(!s.contains("annotate mean") && s.contains("80.0%"), "{s}");
}
