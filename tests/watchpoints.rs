//! Watchpoints on linear memory (`watch`, `rwatch`, `awatch`): the stop names
//! the instruction that made the access, its source line and the old/new
//! values, for code of every tier the program can be running while attached
//! (debug code, and baseline/optimized frames from before the attach), for
//! bulk memory instructions, and for writes made by host functions (WASI
//! `fd_read`). Bad input gives one clear line.
//!
//! Every test runs twice: with the debug registers (`hardware`, which fails
//! with the kernel's reason when they are refused) and with page protection
//! only (`pages`). `the_debug_registers_are_used_when_granted` checks which
//! mechanism arms which watchpoint.

use std::path::Path;
use std::time::{Duration, Instant};
use wdb::debugger::console::{Console, Wait};
use wdb::debugger::*;

const INVENTORY: &str = include_str!("../samples/c/inventory.c");

/// How the watchpoints of a test are armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mech {
    Hardware,
    Pages,
    /// Debug registers on, each watchpoint checked by the test itself.
    Mixed,
}

/// The mechanism of the running test (under the lock below).
static MECH: std::sync::Mutex<Mech> = std::sync::Mutex::new(Mech::Hardware);

/// Watchpoints live in one process-wide table and protect pages of the
/// process: tests that set them run one at a time, each with its mechanism.
fn one_at_a_time(m: Mech) -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    *MECH.lock().unwrap_or_else(|e| e.into_inner()) = m;
    use_hardware_watchpoints(m != Mech::Pages);
    guard
}

/// Fails unless the newest watchpoint is armed by the test's mechanism
/// (with the reason the debug registers were refused, if they were).
fn check_mechanism(s: &Session) {
    let m = *MECH.lock().unwrap_or_else(|e| e.into_inner());
    let Some(w) = s.watchpoints().pop().filter(|_| m != Mech::Mixed) else {
        return;
    };
    match (m, &w.mechanism) {
        (Mech::Hardware, WatchMechanism::DebugRegisters(_)) => {}
        (Mech::Pages, WatchMechanism::PageProtection(_)) => {}
        (_, other) => panic!(
            "watchpoint {} (`{}`) is armed {}, not by {m:?}",
            w.id,
            w.expr,
            other.describe()
        ),
    }
}

fn line_of(text: &str) -> u32 {
    INVENTORY
        .lines()
        .position(|l| l.contains(text))
        .map(|i| i as u32 + 1)
        .unwrap_or_else(|| panic!("no `{text}` in inventory.c"))
}

fn start(cfg: SessionConfig) -> (Session, Console) {
    let s = Session::start(cfg).expect("session starts");
    let mut c = Console::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(ev) = s.recv_timeout(Duration::from_millis(50)) {
            c.render_event(&s, &ev);
            if matches!(ev, Event::Paused(_)) {
                return (s, c);
            }
        }
    }
    panic!("no entry stop");
}

fn inventory() -> (Session, Console) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/inventory-g.wasm");
    start(SessionConfig {
        name: path.display().to_string(),
        wasm: std::fs::read(&path).unwrap(),
        ..SessionConfig::default()
    })
}

fn wat(text: &str, invoke: Option<&str>, args: &[&str], run: bool, stdin: &[u8]) -> Session {
    Session::start(SessionConfig {
        name: "watch.wat".into(),
        wasm: text.as_bytes().to_vec(),
        invoke: invoke.map(str::to_string),
        args: args.iter().map(|s| s.to_string()).collect(),
        run,
        stdin: stdin.to_vec(),
        // Compiled up front, so the running frames are plain baseline or
        // optimized code until the attach (as the tests below expect).
        eager: true,
        ..SessionConfig::default()
    })
    .expect("session starts")
}

/// Runs one console line to completion; returns its text and the last pause.
fn run(
    s: &Session,
    c: &mut Console,
    line: &str,
) -> (Vec<String>, Option<std::sync::Arc<Snapshot>>) {
    let (mut out, wait) = c.execute(s, line);
    let mut pause = None;
    let arms = ["watch ", "rwatch ", "awatch "]
        .iter()
        .any(|w| line.starts_with(w));
    let deadline = Instant::now() + Duration::from_secs(60);
    if wait == Wait::Nothing {
        while let Some(ev) = s.recv_timeout(Duration::from_millis(100)) {
            out.extend(c.render_event(s, &ev));
        }
        return (out, pause);
    }
    while Instant::now() < deadline {
        let Some(ev) = s.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        if matches!(ev, Event::Output { .. } | Event::TierProgress { .. }) {
            continue;
        }
        out.extend(c.render_event(s, &ev));
        if let Event::Paused(p) = &ev {
            pause = Some(p.clone());
        }
        match (&ev, wait) {
            (Event::Paused(_) | Event::Ended { .. }, Wait::Stop) => return (out, pause),
            (Event::Message(m), Wait::Answer) => {
                if arms && m.starts_with("Hardware") {
                    check_mechanism(s);
                }
                return (out, pause);
            }
            (Event::Error(_), Wait::Answer) => return (out, pause),
            _ => {}
        }
    }
    panic!("no answer to `{line}`: {out:?}");
}

fn watch_stop(p: &Option<std::sync::Arc<Snapshot>>) -> WatchStop {
    match p.as_ref().map(|p| &p.reason) {
        Some(StopReason::Watchpoint(w)) => (**w).clone(),
        other => panic!("expected a watchpoint stop, got {other:?}"),
    }
}

/// The wasm text of the instruction at `offset` of function `func`.
fn instruction(s: &Session, func: u32, offset: u32) -> String {
    s.disassemble(func)
        .into_iter()
        .find(|l| l.offset == Some(offset))
        .map(|l| l.text.trim().to_string())
        .unwrap_or_else(|| panic!("no instruction at {offset:#x}"))
}

fn watch_catches_the_store_that_corrupts_the_global_in_debug_code(m: Mech) {
    let _one_at_a_time = one_at_a_time(m);
    let (s, mut c) = inventory();
    let (out, _) = run(&s, &mut c, "watch settings.reorder_level");
    assert_eq!(out, ["Hardware watchpoint 1: settings.reorder_level"]);
    let (out, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert_eq!(w.old.as_deref(), Some("5"));
    assert_eq!(w.value, "0");
    assert!(w.write);
    assert_eq!(w.func.as_deref(), Some("restock"));
    assert_eq!(w.tier, Some(FrameTier::Debug));
    let line = line_of("settings.last_label[i] = i < 7");
    assert_eq!(w.source.as_ref().map(|p| p.line), Some(line));
    let f = s.func_at_offset(w.offset.unwrap()).unwrap();
    assert!(
        instruction(&s, f, w.offset.unwrap()).starts_with("i32.store8"),
        "the accessing instruction is the byte store"
    );
    // gdb's shape, then where it stopped.
    let text = out.join("\n");
    assert!(
        text.contains(
            "Hardware watchpoint 1: settings.reorder_level\n\nOld value = 5\nNew value = 0\n"
        ),
        "{text}"
    );
    assert!(text.contains("Stopped (watchpoint 1) in restock"), "{text}");
    let top = &p.as_ref().unwrap().frames[0];
    assert_eq!(top.func_name, "restock");
    let (out, _) = run(&s, &mut c, "info watchpoints");
    assert!(
        out[1].starts_with("1       hw watchpoint   keep y"),
        "{out:?}"
    );
    assert_eq!(out[2], "\tbreakpoint already hit 1 time");
    assert!(out[3].starts_with("\tvia "), "{out:?}");
    // Nothing else writes it: the program runs to its end.
    let (out, _) = run(&s, &mut c, "continue");
    assert_eq!(
        out.last().map(String::as_str),
        Some("Program exited with code 0"),
        "{out:?}"
    );
}

fn rwatch_and_awatch_in_debug_code(m: Mech) {
    let _one_at_a_time = one_at_a_time(m);
    let (s, mut c) = inventory();
    let (out, _) = run(&s, &mut c, "rwatch settings.reorder_level");
    assert_eq!(out, ["Hardware read watchpoint 1: settings.reorder_level"]);
    let (out, _) = run(&s, &mut c, "info watchpoints");
    assert!(out[1].contains("read watchpoint"), "{out:?}");
    let (_, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert!(!w.write);
    assert_eq!((w.old, w.value.as_str()), (None, "0"));
    assert_eq!(w.func.as_deref(), Some("report"));
    assert_eq!(w.source.map(|p| p.line), Some(line_of("line REPORT")));
    let (out, _) = run(&s, &mut c, "delete 1");
    assert_eq!(out, ["Deleted watchpoint 1"]);

    // awatch: the corrupting write (old/new), then the read in report().
    let (s, mut c) = inventory();
    let (out, _) = run(&s, &mut c, "awatch settings.reorder_level");
    assert_eq!(
        out,
        ["Hardware access (read/write) watchpoint 1: settings.reorder_level"]
    );
    let (out, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert!(w.write, "{out:?}");
    assert_eq!((w.old.as_deref(), w.value.as_str()), (Some("5"), "0"));
    assert_eq!(w.func.as_deref(), Some("restock"));
    let (_, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert!(!w.write);
    assert_eq!(w.func.as_deref(), Some("report"));
}

fn several_watchpoints_at_once_and_a_quiet_page_neighbour(m: Mech) {
    let _one_at_a_time = one_at_a_time(m);
    let (s, mut c) = inventory();
    // `ticks` shares the data page with the settings but is written later.
    let (first, _) = run(&s, &mut c, "watch ticks");
    let (second, _) = run(&s, &mut c, "watch settings.reorder_level");
    let (out, _) = run(&s, &mut c, "info watchpoints");
    assert_eq!(out.len(), 5, "{first:?} {second:?} {out:?}");
    let (_, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert_eq!((w.id, w.func.as_deref()), (2, Some("restock")));
    let (_, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert_eq!(
        (w.id, w.old.as_deref(), w.value.as_str()),
        (1, Some("0"), "1")
    );
    assert_eq!(w.source.map(|p| p.line), Some(line_of("ticks++;")));
}

/// A loop that stores its counter at 0x2000 and reads 0x3000, at full speed.
const SPIN: &str = r#"(module
  (memory (export "memory") 1)
  (func $spin (export "spin") (param $n i32) (result i32)
    (local $i i32)
    (loop $l
      (i32.store (i32.const 0x2000) (local.get $i))
      (drop (i32.load (i32.const 0x3000)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i)))"#;

fn watch_in_a_frame_that_ran_plain_code_at_the_attach(m: Mech) {
    let _one_at_a_time = one_at_a_time(m);
    let s = wat(SPIN, Some("spin"), &["2000000000"], true, b"");
    let mut c = Console::new();
    std::thread::sleep(Duration::from_millis(200));
    let (_, p) = run(&s, &mut c, "pause");
    let tier = p.as_ref().expect("paused").frames[0].tier;
    assert!(
        // Plain code: baseline, optimized, or the loop's OSR entry (dynamic tiering
        // moves the long loop up mid-call).
        matches!(
            tier,
            FrameTier::Baseline | FrameTier::Optimized | FrameTier::Osr
        ),
        "{tier:?}"
    );
    run(&s, &mut c, "watch *(int *)0x2000");
    let (out, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    // Since on-stack replacement, the paused frame continues in debug code
    // from its check; page protection catches the store whichever code the
    // frame runs.
    assert!(w.tier.is_some(), "{out:?}");
    assert_eq!(w.func.as_deref(), Some("spin"));
    assert!(
        instruction(&s, 0, w.offset.unwrap()).starts_with("i32.store"),
        "{out:?}"
    );
    let old: u64 = w.old.unwrap().parse().unwrap();
    let new: u64 = w.value.parse().unwrap();
    assert_eq!(new, old + 1, "{out:?}");

    // A read watch on the other address, in the same old frame.
    run(&s, &mut c, "delete 1");
    run(&s, &mut c, "rwatch *(int *)0x3000");
    let (out, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert!(!w.write, "{out:?}");
    assert!(
        instruction(&s, 0, w.offset.unwrap()).starts_with("i32.load"),
        "{out:?}"
    );
    s.send(Command::Quit);
}

fn bulk_memory_instructions_are_caught(m: Mech) {
    let _one_at_a_time = one_at_a_time(m);
    let text = r#"(module
      (memory (export "memory") 1)
      (func $bulk
        (memory.fill (i32.const 0x1ff0) (i32.const 7) (i32.const 64))
        (memory.copy (i32.const 0x4000) (i32.const 0x1ff0) (i32.const 16)))
      (func (export "fill") (result i32)
        (call $bulk)
        (i32.load (i32.const 0x4000))))"#;
    let s = wat(text, Some("fill"), &[], false, b"");
    let mut c = Console::new();
    // The entry stop.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(ev) = s.recv_timeout(Duration::from_millis(50)) {
            if matches!(ev, Event::Paused(_)) {
                c.render_event(&s, &ev);
                break;
            }
        }
    }
    run(&s, &mut c, "watch *(int *)0x2000");
    run(&s, &mut c, "rwatch *(char *)0x1ff4");
    let (out, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert_eq!(
        (w.id, w.old.as_deref(), w.value.as_str()),
        (1, Some("0"), "117901063"),
        "{out:?}"
    );
    assert!(
        out.iter()
            .any(|l| l.contains("written by a bulk memory instruction")),
        "{out:?}"
    );
    // The stop is at the instruction right after the bulk one, not at a later check.
    let after = |p: &Option<std::sync::Arc<Snapshot>>, op: &str| {
        let top = &p.as_ref().unwrap().frames[0];
        let lines = s.disassemble(top.func_index);
        let ops: Vec<(u32, String)> = lines
            .iter()
            .filter_map(|l| Some((l.offset?, l.text.trim().to_string())))
            .collect();
        let i = ops
            .iter()
            .position(|(off, _)| *off == top.offset)
            .unwrap_or_else(|| panic!("the pc {:#x} is not an instruction", top.offset));
        assert!(
            i > 0 && ops[i - 1].1.starts_with(op),
            "stopped at {:?}, not right after {op}: {ops:?}",
            ops[i]
        );
    };
    after(&p, "memory.fill");
    // memory.copy reads the watched byte.
    let (out, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert_eq!(
        (w.id, w.write, w.value.as_str()),
        (2, false, "7 '\\a'"),
        "{out:?}"
    );
    after(&p, "memory.copy");
    let (out, _) = run(&s, &mut c, "continue");
    assert_eq!(
        out.last().map(String::as_str),
        Some("Program returned: 117901063"),
        "{out:?}"
    );
}

fn a_host_function_writing_a_watched_buffer_stops_too(m: Mech) {
    let _one_at_a_time = one_at_a_time(m);
    // fd_read(stdin) into a buffer at 0x1000 (iovec at 0x100), then exit.
    let text = r#"(module
      (import "wasi_snapshot_preview1" "fd_read" (func $fd_read (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (i32.store (i32.const 0x100) (i32.const 0x1000))
        (i32.store (i32.const 0x104) (i32.const 16))
        (drop (call $fd_read (i32.const 0) (i32.const 0x100) (i32.const 1) (i32.const 0x200)))
        (drop (i32.load (i32.const 0x1000)))))"#;
    let s = wat(text, None, &[], false, b"wdb!rest of input");
    let mut c = Console::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(ev) = s.recv_timeout(Duration::from_millis(50)) {
            if matches!(ev, Event::Paused(_)) {
                c.render_event(&s, &ev);
                break;
            }
        }
    }
    run(&s, &mut c, "watch *(int *)0x1000");
    let (out, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert_eq!(w.host.as_deref(), Some("fd_read"), "{out:?}");
    assert_eq!(w.old.as_deref(), Some("0"));
    assert_eq!(w.value, u32::from_le_bytes(*b"wdb!").to_string());
    assert!(
        out.iter().any(|l| l == "written by host function fd_read"),
        "{out:?}"
    );
    // The stop is in the caller, right after the call.
    let top = &p.as_ref().unwrap().frames[0];
    assert_eq!(top.tier, FrameTier::Debug);
    let (out, _) = run(&s, &mut c, "continue");
    assert_eq!(
        out.last().map(String::as_str),
        Some("Program exited with code 0"),
        "{out:?}"
    );
}

fn bad_watch_input_is_one_clear_line(m: Mech) {
    let _one_at_a_time = one_at_a_time(m);
    let (s, mut c) = inventory();
    let cases = [
        ("watch", "error: usage: watch EXPR"),
        ("watch 1 + 2", "error: cannot watch `1 + 2`: not an lvalue"),
        ("watch nosuch", "error: cannot watch `nosuch`: no symbol `nosuch`"),
        ("watch pool", "error: cannot watch `pool`: it is 192 bytes; a watchpoint covers at most 64"),
        ("rwatch $global0", "error: cannot watch `$global0`: it lives in a wasm local or global"),
        ("watch *(int *)0xfffffff0", "error: cannot watch `*(int *)0xfffffff0`: 4 bytes at 0xfffffff0 are outside linear memory"),
        ("delete 99", "error: no breakpoint 99"),
    ];
    for (line, want) in cases {
        let (out, _) = run(&s, &mut c, line);
        assert_eq!(out.len(), 1, "`{line}`: {out:?}");
        assert!(out[0].starts_with(want), "`{line}`: {out:?}");
    }
    let (out, _) = run(&s, &mut c, "info watchpoints");
    assert_eq!(out, ["No watchpoints."]);
}

/// The debug registers arm what fits them (aligned pieces of 1–8 bytes, four
/// per thread); page protection takes the rest, and `info watchpoints` says
/// which. Fails with the kernel's reason if it refuses breakpoint events.
#[test]
fn the_debug_registers_are_used_when_granted() {
    let _one_at_a_time = one_at_a_time(Mech::Mixed);
    let (s, mut c) = inventory();
    let how = |s: &Session| s.watchpoints().pop().map(|w| w.mechanism).unwrap();
    run(&s, &mut c, "watch settings.reorder_level");
    match how(&s) {
        WatchMechanism::DebugRegisters(1) => {}
        other => panic!(
            "`watch` of an int is not in one debug register: {}",
            other.describe()
        ),
    }
    // 16 bytes, 8-aligned: two registers.
    run(&s, &mut c, "watch settings");
    assert_eq!(how(&s), WatchMechanism::DebugRegisters(2));
    run(&s, &mut c, "rwatch ticks");
    assert_eq!(how(&s), WatchMechanism::DebugRegisters(1));
    // All four are taken: the next one falls back to page protection.
    run(&s, &mut c, "awatch port");
    match how(&s) {
        WatchMechanism::PageProtection(why) => {
            assert!(why.contains("debug registers are in use"), "{why}")
        }
        other => panic!("a fifth register? {}", other.describe()),
    }
    // More pieces than registers: page protection too.
    run(&s, &mut c, "delete 2");
    run(&s, &mut c, "watch pool[0]");
    match how(&s) {
        WatchMechanism::PageProtection(why) => {
            assert!(
                why.contains("need") && why.contains("debug registers"),
                "{why}"
            )
        }
        other => panic!("{}", other.describe()),
    }
    let (out, _) = run(&s, &mut c, "info watchpoints");
    let text = out.join("\n");
    assert!(text.contains("\tvia 1 debug register"), "{text}");
    assert!(
        text.contains("\tvia page protection (the thread's 4 debug registers are in use)"),
        "{text}"
    );
    // (pool[0] is written first; the settings' store is the one to see.)
    run(&s, &mut c, "delete 5");
    let (out, p) = run(&s, &mut c, "continue");
    let w = watch_stop(&p);
    assert_eq!((w.id, w.func.as_deref()), (1, Some("restock")), "{out:?}");
    s.send(Command::Quit);

    // Switched off, every watchpoint uses page protection and says so.
    use_hardware_watchpoints(false);
    let (s, mut c) = inventory();
    run(&s, &mut c, "watch settings.reorder_level");
    assert_eq!(
        how(&s),
        WatchMechanism::PageProtection("debug registers switched off".into())
    );
    s.send(Command::Quit);
}

/// Each test above with the debug registers and with page protection only.
macro_rules! both_mechanisms {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::Mech;
            #[test]
            fn hardware() {
                super::$name(Mech::Hardware)
            }
            #[test]
            fn pages() {
                super::$name(Mech::Pages)
            }
        }
    )*};
}

both_mechanisms!(
    watch_catches_the_store_that_corrupts_the_global_in_debug_code,
    rwatch_and_awatch_in_debug_code,
    several_watchpoints_at_once_and_a_quiet_page_neighbour,
    watch_in_a_frame_that_ran_plain_code_at_the_attach,
    bulk_memory_instructions_are_caught,
    a_host_function_writing_a_watched_buffer_stops_too,
    bad_watch_input_is_one_clear_line
);
