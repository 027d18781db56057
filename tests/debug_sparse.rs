//! A debug session runs debug code only in the functions something may stop
//! in (README "Debug code only where something stops"): every other
//! function runs plain baseline code, and a frame moves to debug code at
//! its next interrupt check, or when its call returns, as soon as
//! something needs it to. Checked here: which code the functions run as
//! breakpoints, catchpoints and trap stops come and go; a breakpoint set
//! while a loop runs in plain code is hit, also in a caller already on the
//! stack; `stepi`, `nexti` and `finish` from a pause in plain code stop
//! where they would in debug code, with the same values; after `continue`
//! the frame runs plain code again.

use std::collections::HashMap;
use std::time::{Duration, Instant};
use wdb::debugger::*;

#[path = "support/session.rs"]
mod session;
use session::{paused, quit, wait, TIMEOUT};

/// `main` calls `mid` `rounds` times, `mid` calls `work`, whose loop runs
/// 2,000,000 times; `sum_to` is loop.wat's; `never` is never called.
const PROGRAM: &str = r#"
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
  (func $mid (param $k i32) (result i32)
    (local $r i32)
    (local.set $r (call $work (i32.const 2000000)))
    (local.set $r (i32.add (local.get $r) (local.get $k)))
    (local.set $r (i32.mul (local.get $r) (i32.const 3)))
    (local.get $r))
  (func $never (result i32) (i32.const 7))
  (func (export "main") (param $rounds i32) (result i32)
    (local $j i32) (local $x i32)
    (block
      (loop
        (br_if 1 (i32.ge_u (local.get $j) (local.get $rounds)))
        (local.set $x (i32.xor (local.get $x) (call $mid (local.get $j))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br 0)))
    (local.get $x))
  (func $sum_to (export "sum_to") (param $n i32) (result i32)
    (local $i i32)
    (local $sum i32)
    local.get $n
    i32.const 0
    i32.le_s
    if
      i32.const 0
      return
    end
    i32.const 1
    local.set $i
    loop $continue
      local.get $sum
      local.get $i
      i32.add
      local.set $sum
      local.get $i
      i32.const 1
      i32.add
      local.tee $i
      local.get $n
      i32.le_s
      br_if $continue
    end
    local.get $sum))
"#;

/// A session paused at the entry of `invoke`, every function compiled.
fn start(invoke: &str, args: &[&str]) -> Session {
    let s = Session::start(SessionConfig {
        name: "sparse.wat".into(),
        wasm: PROGRAM.as_bytes().to_vec(),
        invoke: Some(invoke.into()),
        args: args.iter().map(|s| s.to_string()).collect(),
        eager: true,
        ..SessionConfig::default()
    })
    .expect("session starts");
    assert_eq!(paused(&s).reason, StopReason::Entry);
    s
}

/// `continue`, and wait until the program runs.
fn resume(s: &Session) {
    s.send(Command::Continue);
    wait(s, "the program to resume", |e| {
        matches!(e, Event::Resumed).then_some(())
    });
}

fn func(s: &Session, name: &str) -> u32 {
    s.functions()
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no function {name}"))
        .index
}

/// The offset of the instruction after the one at `offset` in function `f`.
fn next_offset(s: &Session, f: u32, offset: u32) -> u32 {
    let all = s.instruction_offsets(f);
    let k = all
        .iter()
        .position(|&o| o == offset)
        .unwrap_or_else(|| panic!("{offset:#x} is no instruction of function {f}"));
    all[k + 1]
}

/// The offset of the first instruction of `f` whose text starts with `text`.
fn offset_of(s: &Session, f: u32, text: &str) -> u32 {
    s.disassemble(f)
        .into_iter()
        .find(|l| l.text.trim_start().starts_with(text))
        .and_then(|l| l.offset)
        .unwrap_or_else(|| panic!("no `{text}` in function {f}"))
}

/// Each defined function's code (name → tier), as `info functions` shows it.
fn tiers(s: &Session) -> HashMap<String, String> {
    s.functions()
        .into_iter()
        .filter(|f| !f.imported)
        .map(|f| (f.name, f.tier))
        .collect()
}

/// Waits until every defined function runs debug code when `debug(name)`
/// and plain baseline code otherwise (a lazy compile racing with the switch
/// may show the other tier for a moment).
fn expect_tiers(s: &Session, what: &str, debug: impl Fn(&str) -> bool) {
    let until = Instant::now() + TIMEOUT;
    loop {
        let now = tiers(s);
        let ok = now.iter().all(|(name, tier)| {
            let want = if debug(name) {
                "baseline·debug"
            } else {
                "baseline"
            };
            tier == want
        });
        if ok {
            return;
        }
        assert!(Instant::now() < until, "{what}: {now:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// 1 + 2 + ... + (i - 1), wrapping: `sum` at sum_to's loop header.
fn triangle(i: u64) -> u64 {
    (i * (i - 1) / 2) & 0xffff_ffff
}

fn local(f: &Frame, k: usize) -> u64 {
    f.locals.as_ref().expect("the frame shows its locals")[k].bits
}

#[test]
fn only_functions_something_may_stop_in_run_debug_code() {
    let s = start("main", &["1000000"]);
    resume(&s);
    expect_tiers(&s, "no breakpoints", |_| false);
    s.send(Command::Break {
        at: BreakAt::FunctionName("never".into()),
        condition: None,
    });
    expect_tiers(&s, "a breakpoint in never", |n| n == "never");
    // A throw may come from anywhere and shows the thrower's locals.
    s.send(Command::CatchThrow(true));
    expect_tiers(&s, "catch throw", |_| true);
    s.send(Command::CatchThrow(false));
    expect_tiers(&s, "catch throw deleted", |n| n == "never");
    // Any instruction may trap.
    s.send(Command::StopAtTraps(true));
    expect_tiers(&s, "stop at traps", |_| true);
    s.send(Command::StopAtTraps(false));
    expect_tiers(&s, "trap stops off", |n| n == "never");
    s.send(Command::Delete(None));
    expect_tiers(&s, "breakpoint deleted", |_| false);
    // A pause makes every function run debug code until the program goes on.
    s.send(Command::Pause);
    let p = paused(&s);
    assert_eq!(p.reason, StopReason::Pause);
    expect_tiers(&s, "paused", |_| true);
    resume(&s);
    expect_tiers(&s, "running again", |_| false);
    quit(&s);
}

#[test]
fn a_breakpoint_set_while_a_loop_runs_in_plain_code_is_hit() {
    let s = start("sum_to", &["2000000000"]);
    let f = func(&s, "sum_to");
    resume(&s);
    std::thread::sleep(Duration::from_millis(200));
    // The loop runs plain baseline code: a pause lands at its header check.
    s.send(Command::Pause);
    let p = paused(&s);
    assert_eq!(p.frames[0].func_name, "sum_to", "{:?}", p.frames);
    assert_eq!(p.frames[0].tier, FrameTier::Baseline, "{:?}", p.frames);
    resume(&s);
    std::thread::sleep(Duration::from_millis(100));
    let before = wdb::testing::osr_moves();
    // The first instruction of the loop body.
    let body = next_offset(&s, f, offset_of(&s, f, "loop"));
    s.send(Command::Break {
        at: BreakAt::Offset(body),
        condition: None,
    });
    let p = paused(&s);
    assert!(
        matches!(p.reason, StopReason::Breakpoint(_)),
        "{:?}",
        p.reason
    );
    let top = &p.frames[0];
    assert_eq!(top.func_name, "sum_to");
    assert_eq!(top.offset, body);
    assert_eq!(top.tier, FrameTier::Debug, "{:?}", p.frames);
    // The frame moved from plain code, with its values.
    let after = wdb::testing::osr_moves();
    assert!(
        after[0] > before[0],
        "no plain → debug move: {before:?} {after:?}"
    );
    assert_eq!(local(top, 0), 2_000_000_000, "$n");
    let i = local(top, 1);
    assert!(i > 1 && i <= 2_000_000_000, "$i = {i}");
    assert_eq!(local(top, 2), triangle(i), "$sum at $i = {i}");
    quit(&s);
}

#[test]
fn a_breakpoint_in_a_caller_already_on_the_stack_is_hit_after_the_call() {
    let s = start("main", &["1000"]);
    let mid = func(&s, "mid");
    // Right after `call $work`.
    let after_call = next_offset(&s, mid, offset_of(&s, mid, "call"));
    resume(&s);
    // `work`'s loop takes nearly all the time: `mid` waits on the stack.
    std::thread::sleep(Duration::from_millis(300));
    s.send(Command::Break {
        at: BreakAt::Offset(after_call),
        condition: None,
    });
    let p = paused(&s);
    assert!(
        matches!(p.reason, StopReason::Breakpoint(_)),
        "{:?}",
        p.reason
    );
    let names: Vec<&str> = p.frames.iter().map(|f| f.func_name.as_str()).collect();
    assert_eq!(names, ["mid", "main"], "{:?}", p.frames);
    assert_eq!(p.frames[0].offset, after_call);
    assert_eq!(p.frames[0].tier, FrameTier::Debug);
    // mid's $k is main's $j (main's local 1, after $rounds), and the
    // call's result is on the stack.
    assert_eq!(
        local(&p.frames[0], 0),
        local(&p.frames[1], 1),
        "{:?}",
        p.frames
    );
    assert_eq!(p.frames[0].stack.as_ref().map(Vec::len), Some(1));
    quit(&s);
}

#[test]
fn stepi_from_a_pause_in_plain_code_goes_on_in_the_same_function_with_the_same_values() {
    let s = start("sum_to", &["2000000000"]);
    let f = func(&s, "sum_to");
    resume(&s);
    std::thread::sleep(Duration::from_millis(200));
    s.send(Command::Pause);
    let p = paused(&s);
    let top = &p.frames[0];
    assert_eq!(top.func_name, "sum_to", "{:?}", p.frames);
    assert_eq!(top.tier, FrameTier::Baseline, "{:?}", p.frames);
    let note = top.note.as_deref().unwrap_or("");
    assert!(note.contains("continues in debug code"), "{note}");
    let (i, sum) = (local(top, 1), local(top, 2));
    assert_eq!(sum, triangle(i), "$sum at $i = {i}");
    let mut at = top.offset;
    for step in 0..3 {
        s.send(Command::StepInstruction);
        let q = paused(&s);
        let fr = &q.frames[0];
        assert_eq!(fr.func_name, "sum_to", "step {step}: {:?}", q.frames);
        assert_eq!(fr.tier, FrameTier::Debug, "step {step}");
        assert_eq!(fr.offset, next_offset(&s, f, at), "step {step}");
        // local.get, local.get, i32.add: no local changes yet.
        assert_eq!((local(fr, 1), local(fr, 2)), (i, sum), "step {step}");
        at = fr.offset;
    }
    // Going on, the frame leaves debug code at its next loop header: the
    // next pause finds it in plain code again.
    resume(&s);
    std::thread::sleep(Duration::from_millis(100));
    s.send(Command::Pause);
    let p = paused(&s);
    assert_eq!(p.frames[0].func_name, "sum_to");
    assert_eq!(p.frames[0].tier, FrameTier::Baseline, "{:?}", p.frames);
    let i2 = local(&p.frames[0], 1);
    assert!(i2 > i, "the loop went on: {i2} after {i}");
    assert_eq!(local(&p.frames[0], 2), triangle(i2), "$sum at $i = {i2}");
    quit(&s);
}

#[test]
fn finish_and_nexti_from_a_pause_in_plain_code_stop_right_after_the_call() {
    let s = start("main", &["1000000"]);
    resume(&s);
    std::thread::sleep(Duration::from_millis(300));
    s.send(Command::Pause);
    let p = paused(&s);
    let names: Vec<&str> = p.frames.iter().map(|f| f.func_name.as_str()).collect();
    assert_eq!(names, ["work", "mid", "main"], "{:?}", p.frames);
    assert_eq!(p.frames[0].tier, FrameTier::Baseline, "{:?}", p.frames);
    // The callers continue in debug code when their calls return.
    for f in &p.frames[1..] {
        assert_eq!(f.tier, FrameTier::Debug, "{:?}", p.frames);
    }
    let (mid, main) = (&p.frames[1], &p.frames[2]);
    s.send(Command::Finish);
    let q = paused(&s);
    assert_eq!(q.reason, StopReason::Finish);
    let top = &q.frames[0];
    assert_eq!(top.func_name, "mid", "{:?}", q.frames);
    assert_eq!(top.offset, next_offset(&s, mid.func_index, mid.offset));
    assert_eq!(top.tier, FrameTier::Debug);
    assert_eq!(local(top, 0), local(mid, 0), "mid's $k");
    // `nexti` walks mid's own instructions.
    s.send(Command::NextInstruction);
    let r = paused(&s);
    assert_eq!(r.frames[0].func_name, "mid");
    assert_eq!(
        r.frames[0].offset,
        next_offset(&s, mid.func_index, top.offset)
    );
    s.send(Command::Finish);
    let q = paused(&s);
    assert_eq!(q.reason, StopReason::Finish);
    let top = &q.frames[0];
    assert_eq!(top.func_name, "main", "{:?}", q.frames);
    assert_eq!(top.offset, next_offset(&s, main.func_index, main.offset));
    assert_eq!(local(top, 1), local(main, 1), "main's $j");
    assert_eq!(local(top, 0), 1_000_000, "main's $rounds");
    quit(&s);
}
