//! The debugger engine end to end through `Session`: stepping every
//! instruction gives the same results as running, breakpoints at every
//! instruction are hit in execution order with the operand stacks that
//! stepping saw, attaching to optimized code shows its locals, profile mode
//! cycles keep results right, and source-level debugging on the C sample.

use std::time::{Duration, Instant};
use wdb::debugger::*;

#[path = "support/session.rs"]
mod session;
use session::{next_stop, paused, wait_any as wait, Stop, TIMEOUT};

fn start(wat: &str, invoke: &str, args: &[&str], run: bool) -> Session {
    start_stressed(wat, invoke, args, run, 0, wdb::OsrStressMode::Down)
}

/// A session whose engine moves frames at every `osr_stress`th loop-header
/// check (0 = never), the way `mode` says (see `Config::osr_stress`).
fn start_stressed(
    wat: &str,
    invoke: &str,
    args: &[&str],
    run: bool,
    osr_stress: u32,
    osr_stress_mode: wdb::OsrStressMode,
) -> Session {
    Session::start(SessionConfig {
        name: "test.wat".into(),
        wasm: wat.as_bytes().to_vec(),
        invoke: Some(invoke.into()),
        args: args.iter().map(|s| s.to_string()).collect(),
        run,
        osr_stress,
        osr_stress_mode,
        ..SessionConfig::default()
    })
    .expect("session starts")
}

fn run_plain(wat: &str, invoke: &str, args: &[&str]) -> Outcome {
    let s = start(wat, invoke, args, true);
    match next_stop(&s) {
        Stop::Ended(o) => o,
        Stop::Paused(_) => panic!("paused without a reason"),
    }
}

const FIB: &str = include_str!("../samples/fib.wat");
const LOOP: &str = include_str!("../samples/loop.wat");
const STACK: &str = include_str!("../samples/stack.wat");

/// Programs and calls used by the stepping tests.
fn cases() -> Vec<(&'static str, &'static str, Vec<&'static str>)> {
    vec![
        (FIB, "fib", vec!["6"]),
        (STACK, "deep", vec!["3"]),
        (STACK, "mixed", vec!["3", "1.5"]),
        (STACK, "max3", vec!["4", "9", "-2"]),
        (LOOP, "sum_to", vec!["12"]),
        (LOOP, "factorial", vec!["9"]),
        (SPEC_LIKE, "fac-rec", vec!["7"]),
        (SPEC_LIKE, "fac-iter", vec!["10"]),
        (SPEC_LIKE, "select-mix", vec!["3"]),
        (SPEC_LIKE, "floats", vec!["2.5"]),
        (SPEC_LIKE, "multi", vec!["4"]),
        (SPEC_LIKE, "br-table", vec!["2"]),
        (SPEC_LIKE, "memory-sum", vec!["16"]),
        (SPEC_LIKE, "loop-carry", vec!["5"]),
        (SPEC_LIKE, "vec-carry", vec!["4"]),
    ]
}

/// Functions in the style of the spec suite's fac.wast, br_table.wast,
/// select.wast and memory.wast, with every control construct and value type.
const SPEC_LIKE: &str = r#"
(module
  (memory 1)
  (global $g (mut i32) (i32.const 5))
  (func $fac-rec (export "fac-rec") (param i64) (result i64)
    (if (result i64) (i64.eq (local.get 0) (i64.const 0))
      (then (i64.const 1))
      (else (i64.mul (local.get 0) (call $fac-rec (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "fac-iter") (param i64) (result i64)
    (local i64 i64)
    (local.set 1 (local.get 0))
    (local.set 2 (i64.const 1))
    (block
      (loop
        (if (i64.eq (local.get 1) (i64.const 0))
          (then (br 2))
          (else
            (local.set 2 (i64.mul (local.get 1) (local.get 2)))
            (local.set 1 (i64.sub (local.get 1) (i64.const 1)))))
        (br 0)))
    (local.get 2))
  (func (export "select-mix") (param i32) (result i32)
    (global.set $g (i32.add (global.get $g) (local.get 0)))
    (select (i32.mul (local.get 0) (i32.const 3)) (global.get $g) (i32.and (local.get 0) (i32.const 1))))
  (func (export "floats") (param f64) (result f64)
    (local f32)
    (local.set 1 (f32.demote_f64 (local.get 0)))
    (f64.add (f64.promote_f32 (f32.mul (local.get 1) (local.get 1))) (f64.sqrt (local.get 0))))
  (func $pair (param i32) (result i32 i32)
    (local.get 0) (i32.mul (local.get 0) (local.get 0)))
  (func (export "multi") (param i32) (result i32)
    (call $pair (local.get 0))
    (i32.sub))
  (func (export "br-table") (param i32) (result i32)
    (block (result i32)
      (block (result i32)
        (block (result i32)
          (i32.const 10) (local.get 0) (br_table 0 1 2))
        (i32.const 1) (i32.add))
      (i32.const 2) (i32.mul)))
  (func (export "memory-sum") (param i32) (result i32)
    (local i32 i32)
    (block
      (loop
        (br_if 1 (i32.ge_u (local.get 1) (local.get 0)))
        (i32.store8 (local.get 1) (local.get 1))
        (local.set 2 (i32.add (local.get 2) (i32.load8_u (local.get 1))))
        (local.set 1 (i32.add (local.get 1) (i32.const 1)))
        (br 0)))
    (local.get 2))
  ;; A value below the loop and a loop parameter on the operand stack.
  (func (export "loop-carry") (param i32) (result i64)
    (local i32)
    (i64.const 7)
    (i64.const 0)
    (loop (param i64) (result i64)
      (i64.add (i64.extend_i32_u (local.get 1)))
      (local.tee 1 (i32.add (local.get 1) (i32.const 1)))
      (local.get 0)
      (i32.lt_u)
      (br_if 0))
    (i64.add))
  ;; The same with a v128 local and a v128 loop parameter.
  (func (export "vec-carry") (param i32) (result i32)
    (local v128 i32)
    (local.set 1 (v128.const i32x4 1 2 3 4))
    (v128.const i32x4 0 0 0 0)
    (loop (param v128) (result v128)
      (i32x4.add (local.get 1))
      (local.tee 2 (i32.add (local.get 2) (i32.const 1)))
      (local.get 0)
      (i32.lt_u)
      (br_if 0))
    (i32x4.extract_lane 2))
)
"#;

/// (offset, operand stack as (type, bits)) at every instruction, by `stepi`.
type Trace = Vec<(u32, Vec<(wdb::ValType, u64)>)>;

fn step_everything(wat: &str, invoke: &str, args: &[&str]) -> (Trace, Outcome) {
    step_everything_stressed(wat, invoke, args, 0, wdb::OsrStressMode::Down)
}

fn step_everything_stressed(
    wat: &str,
    invoke: &str,
    args: &[&str],
    osr_stress: u32,
    mode: wdb::OsrStressMode,
) -> (Trace, Outcome) {
    let s = start_stressed(wat, invoke, args, false, osr_stress, mode);
    let mut trace = Vec::new();
    let mut p = paused(&s);
    assert_eq!(p.reason, StopReason::Entry);
    loop {
        let f = &p.frames[0];
        let stack = f.stack.as_ref().expect("debug frames record the stack");
        trace.push((f.offset, stack.iter().map(|v| (v.ty, v.bits)).collect()));
        s.send(Command::StepInstruction);
        match next_stop(&s) {
            Stop::Paused(next) => {
                assert_eq!(next.reason, StopReason::Step);
                p = next;
            }
            Stop::Ended(o) => return (trace, o),
        }
        assert!(trace.len() < 100_000, "runaway stepping");
    }
}

#[test]
fn stepping_every_instruction_gives_the_normal_results() {
    for (wat, f, args) in cases() {
        let want = run_plain(wat, f, &args);
        let (trace, got) = step_everything(wat, f, &args);
        assert_eq!(got, want, "{f}{args:?}: stepped result");
        assert!(trace.len() > 5, "{f}: {} steps", trace.len());
    }
}

/// OSR stress while stepping, in every mode: at every second loop-header
/// check the debug frame is torn down and rebuilt from a record of its live
/// state (`down`: the path optimized frames take, dead locals poisoned), or
/// moved up into the loop's OSR entry, whose header check moves it straight
/// back down through its record (`up`; `alternating` does both by turns).
/// Every step still stops, with the same operand stacks, and the results are
/// the normal ones. The modes run one after the other: the move counters
/// are process-wide, and only this test stresses.
#[test]
fn stepping_every_instruction_under_osr_stress_sees_the_same_states() {
    for mode in wdb::OsrStressMode::ALL {
        let before = wdb::testing::osr_moves();
        for (wat, f, args) in cases() {
            let (want, want_out) = step_everything(wat, f, &args);
            let (got, got_out) = step_everything_stressed(wat, f, &args, 2, mode);
            let m = mode.name();
            assert_eq!(got_out, want_out, "{m}: {f}{args:?}: result under stress");
            assert_eq!(got, want, "{m}: {f}{args:?}: stepped states under stress");
        }
        let after = wdb::testing::osr_moves();
        // Kinds: 3 debug → debug (down), 4 up into an OSR entry.
        let (k, not) = match mode {
            wdb::OsrStressMode::Down => (3, 4),
            _ => (4, 3),
        };
        assert!(
            after[k] > before[k] && after[not] == before[not],
            "{}: moves of kind {k} and none of kind {not} ({before:?} → {after:?})",
            mode.name()
        );
    }
}

#[test]
fn a_breakpoint_at_every_instruction_is_hit_in_execution_order() {
    for (wat, f, args) in cases() {
        let (trace, want) = step_everything(wat, f, &args);
        let s = start(wat, f, &args, false);
        let entry = paused(&s);
        let func = entry.frames[0].func_index;
        let mut all: Vec<u32> = Vec::new();
        for fi in 0..s.functions().len() as u32 {
            all.extend(s.instruction_offsets(fi));
        }
        for &off in &all {
            s.send(Command::Break {
                at: BreakAt::Offset(off),
                condition: None,
            });
        }
        assert_eq!(s.breakpoints().len(), all.len());
        let _ = func;
        // The entry pause sits on the first instruction, which stepping recorded too.
        let mut hits = vec![(
            entry.frames[0].offset,
            entry.frames[0]
                .stack
                .clone()
                .unwrap()
                .iter()
                .map(|v| (v.ty, v.bits))
                .collect::<Vec<_>>(),
        )];
        let outcome = loop {
            s.send(Command::Continue);
            match next_stop(&s) {
                Stop::Paused(p) => {
                    assert!(
                        matches!(p.reason, StopReason::Breakpoint(_)),
                        "{:?}",
                        p.reason
                    );
                    let f0 = &p.frames[0];
                    hits.push((
                        f0.offset,
                        f0.stack
                            .clone()
                            .unwrap()
                            .iter()
                            .map(|v| (v.ty, v.bits))
                            .collect(),
                    ));
                }
                Stop::Ended(o) => break o,
            }
        };
        assert_eq!(outcome, want, "{f}");
        assert_eq!(hits.len(), trace.len(), "{f}: hits vs steps");
        for (k, (h, t)) in hits.iter().zip(&trace).enumerate() {
            assert_eq!(h, t, "{f}: hit {k} (offset and operand stack)");
        }
        let counted: u64 = s.breakpoints().iter().map(|b| b.hits).sum();
        assert_eq!(counted as usize, hits.len() - 1, "{f}: hit counts");
    }
}

#[test]
fn locals_stack_and_registers_agree_with_independent_values() {
    // sum_to(n): at the `local.get $sum` after the loop, $sum = n(n+1)/2 and $i = n+1.
    let s = start(LOOP, "sum_to", &["9"], false);
    paused(&s);
    // Condition on a local: stop in the loop only when $i == 4.
    let f = 0;
    let offs = s.instruction_offsets(f);
    let dis = s.disassemble(f);
    let add_at = dis
        .iter()
        .filter(|l| l.text.contains("i32.add"))
        .filter_map(|l| l.offset)
        .next()
        .expect("an i32.add in sum_to");
    assert!(offs.contains(&add_at));
    s.send(Command::Break {
        at: BreakAt::Offset(add_at),
        condition: Some(Condition {
            local: 1,
            op: CompareOp::Eq,
            value: 4,
        }),
    });
    s.send(Command::Continue);
    let p = paused(&s);
    assert_eq!(p.reason, StopReason::Breakpoint(1));
    let fr = &p.frames[0];
    let locals = fr.locals.as_ref().unwrap();
    assert_eq!(locals[0].bits, 9, "$n");
    assert_eq!(locals[1].bits, 4, "$i (the condition)");
    // Every value has a location; register values equal the register file.
    let regs = p.regs.as_ref().expect("debug frames save registers");
    for v in locals.iter().chain(fr.stack.as_ref().unwrap()) {
        match v.place {
            Place::Register(name) => {
                if let Some(i) = GPR_NAMES.iter().position(|n| *n == name) {
                    let mask = if v.ty.is_64bit() {
                        u64::MAX
                    } else {
                        0xffff_ffff
                    };
                    assert_eq!(regs.gpr[i] & mask, v.bits, "{name}");
                }
            }
            Place::Slot(off) => assert!(off < 0, "slot below rbp"),
            Place::Const => {}
            other => panic!("unexpected place {other:?} in debug code"),
        }
    }
    // `set` a local, then the result follows it: make the loop stop early.
    s.send(Command::Delete(None));
    s.send(Command::SetLocal {
        frame: 0,
        index: 0,
        value: SetValue::Int(5),
    });
    wait(&s, "the set answer", |e| match e {
        Event::Message(m) if m.contains("set") => Some(()),
        Event::Error(e) => panic!("{e}"),
        _ => None,
    });
    // The pause is reported again with the new value.
    let p = paused(&s);
    assert_eq!(p.frames[0].locals.as_ref().unwrap()[0].bits, 5);
    s.send(Command::Continue);
    match next_stop(&s) {
        // sum 1..=5 = 15 (the loop ends when $i passes the new $n)
        Stop::Ended(o) => assert_eq!(o, Outcome::Returned(vec!["15".into()])),
        Stop::Paused(p) => panic!("unexpected pause {:?}", p.reason),
    }
}

/// A hot inner loop function called from an outer loop: it tiers up while
/// the program runs, so a pause finds optimized code.
const HOT: &str = r#"
(module
  (global $calls (mut i32) (i32.const 0))
  (func $work (export "work") (param $n i32) (result i32)
    (local $i i32) (local $acc i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
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
        (local.set $x (i32.xor (local.get $x) (call $work (i32.const 200000))))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br 0)))
    (local.get $x))
)
"#;

#[test]
fn attaching_to_optimized_code_and_profile_cycles() {
    let rounds = "3000";
    let want = run_plain(HOT, "main", &["4"]);
    let s = start(HOT, "main", &[rounds], true);
    // Wait until `work` runs optimized code.
    let until = Instant::now() + TIMEOUT;
    loop {
        let fs = s.functions();
        if fs.iter().any(|f| f.name == "work" && f.tier == "optimized") {
            break;
        }
        assert!(Instant::now() < until, "work never tiered up: {fs:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(50));
    s.send(Command::Pause);
    let p = paused(&s);
    assert_eq!(p.reason, StopReason::Pause);
    // `work` spends ~100 000 loop iterations per check of `main`'s loop, so
    // the pause lands in work's optimized loop header.
    let opt = &p.frames[0];
    assert_eq!(opt.tier, FrameTier::Optimized, "{:?}", p.frames);
    assert_eq!(opt.func_name, "work");
    assert!(opt.note.as_deref().unwrap_or("").contains("optimized"));
    let locals = opt
        .locals
        .as_ref()
        .expect("optimized code hands its locals over");
    assert_eq!(locals.len(), 3);
    assert_eq!(locals[0].bits, 200000, "$n of work");
    assert!(locals[1].bits <= 200000, "$i of work");
    assert!(locals.iter().all(|v| v.place == Place::Spilled));
    assert_eq!(p.frames[1].func_name, "main");
    let outer = p.frames[1].locals.as_ref().map(|l| l[0].bits);
    assert!(outer.is_none() || outer == Some(3000), "$rounds of main");
    // Everything is tiered down now; a breakpoint in `work` is hit on its next call.
    assert!(s
        .functions()
        .iter()
        .all(|f| f.imported || f.tier == "baseline·debug"));
    s.send(Command::Break {
        at: BreakAt::FunctionName("work".into()),
        condition: None,
    });
    s.send(Command::Continue);
    let p = paused(&s);
    assert_eq!(p.reason, StopReason::Breakpoint(1));
    assert_eq!(p.frames[0].func_name, "work");
    assert_eq!(p.frames[0].tier, FrameTier::Debug);
    // Profile mode on and off a few times; the breakpoint is suspended meanwhile.
    for _ in 0..2 {
        s.send(Command::ProfileOn);
        wait(&s, "profile mode", |e| match e {
            Event::ModeChanged {
                mode: DebugMode::Profile,
                functions,
                ..
            } => Some(*functions),
            Event::Error(e) => panic!("{e}"),
            _ => None,
        });
        assert!(s
            .functions()
            .iter()
            .all(|f| f.imported || f.tier == "optimized"));
        s.send(Command::ProfileOff);
        wait(&s, "debug mode", |e| match e {
            Event::ModeChanged {
                mode: DebugMode::Debug,
                ..
            } => Some(()),
            _ => None,
        });
    }
    s.send(Command::Delete(None));
    s.send(Command::ProfileOn);
    s.send(Command::Continue);
    match wait(&s, "the end", |e| match e {
        Event::Ended { outcome, .. } => Some(outcome.clone()),
        _ => None,
    }) {
        Outcome::Returned(v) => assert_eq!(v.len(), 1),
        o => panic!("{o:?}"),
    }
    // The same program with 4 rounds, with and without the debugger, agree.
    let s = start(HOT, "main", &["4"], false);
    paused(&s);
    s.send(Command::ProfileOn);
    s.send(Command::Continue);
    let got = wait(&s, "the end", |e| match e {
        Event::Ended { outcome, .. } => Some(outcome.clone()),
        _ => None,
    });
    assert_eq!(got, want);
}

#[test]
fn bad_commands_answer_with_one_line_and_the_session_goes_on() {
    let s = start(FIB, "fib", &["3"], false);
    paused(&s);
    for bad in [
        Command::Break {
            at: BreakAt::Offset(0x7fff_0000),
            condition: None,
        },
        Command::Break {
            at: BreakAt::FunctionName("nope".into()),
            condition: None,
        },
        Command::Break {
            at: BreakAt::Line {
                file: "x.c".into(),
                line: 3,
            },
            condition: None,
        },
        Command::ReadMemory { addr: 0, len: 4 },
        Command::SetLocal {
            frame: 0,
            index: 99,
            value: SetValue::Int(0),
        },
        Command::Print {
            frame: 7,
            expr: "$local0".into(),
        },
        Command::Delete(Some(42)),
    ] {
        s.send(bad.clone());
        let e = wait(&s, "an error", |e| match e {
            Event::Error(m) => Some(m.clone()),
            _ => None,
        });
        assert!(!e.contains('\n') && !e.is_empty(), "{bad:?}: {e}");
    }
    s.send(Command::Continue);
    assert!(matches!(next_stop(&s), Stop::Ended(Outcome::Returned(_))));
    // After the end: restart runs it again, paused at entry.
    s.send(Command::Restart);
    assert_eq!(paused(&s).reason, StopReason::Entry);
    s.send(Command::Quit);
    wait(&s, "closed", |e| matches!(e, Event::Closed).then_some(()));
}

/// Sends a command and returns the Message or Error it is answered with.
fn answer(s: &Session, cmd: Command) -> Result<String, String> {
    s.send(cmd);
    wait(s, "an answer", |e| match e {
        Event::Message(m) => Some(Ok(m.clone())),
        Event::Error(m) => Some(Err(m.clone())),
        _ => None,
    })
}

fn line_of(source: &str, text: &str) -> u32 {
    source
        .lines()
        .position(|l| l.contains(text))
        .map(|i| i as u32 + 1)
        .unwrap_or_else(|| panic!("no `{text}` in the source"))
}

#[test]
fn source_level_debugging_of_the_c_sample() {
    let source = include_str!("../samples/c/debugme.c");
    let body = line_of(source, "sum += ds->values[i];");
    let header = line_of(source, "for (int i = 0; i <= ds->count; i++)");
    let s = Session::start(SessionConfig {
        name: "samples/debugme-g.wasm".into(),
        wasm: include_bytes!("../samples/debugme-g.wasm").to_vec(),
        args: vec!["10".into()],
        ..SessionConfig::default()
    })
    .unwrap();
    assert!(s.has_dwarf());
    paused(&s);
    s.send(Command::Break {
        at: BreakAt::Line {
            file: "debugme.c".into(),
            line: body,
        },
        condition: None,
    });
    s.send(Command::Continue);
    let p = paused(&s);
    assert_eq!(p.reason, StopReason::Breakpoint(1));
    let f = &p.frames[0];
    assert_eq!(f.func_name, "mean");
    let pos = f.source.as_ref().unwrap();
    assert!(
        pos.file.ends_with("debugme.c") && pos.line == body,
        "{pos:?}"
    );
    assert_eq!(p.frames[1].func_name, "compute_stats");
    let print = |name: &str| {
        let text = answer(
            &s,
            Command::Print {
                frame: 0,
                expr: name.into(),
            },
        )
        .unwrap();
        // gdb's shape: `$N = VALUE`.
        let (n, value) = text.split_once(" = ").unwrap();
        assert!(n.starts_with('$'), "{text}");
        value.to_string()
    };
    assert_eq!(print("sum"), "0");
    assert_eq!(print("i"), "0");
    // The list is 12, 45, 7, ...: walk the loop by lines and watch `sum`.
    let values = [12, 45, 7, 30];
    let mut sum = 0;
    for (k, v) in values.iter().enumerate() {
        // From the body, `next` goes to the loop header (i++), then back to the body.
        s.send(Command::NextLine);
        let p = paused(&s);
        assert_eq!(p.reason, StopReason::Step);
        assert_eq!(p.frames[0].source.as_ref().unwrap().line, header);
        sum += v;
        assert_eq!(print("sum"), sum.to_string());
        assert_eq!(print("i"), k.to_string());
        s.send(Command::NextLine);
        let p = paused(&s);
        assert_eq!(p.frames[0].source.as_ref().unwrap().line, body);
        assert_eq!(p.reason, StopReason::Breakpoint(1));
    }
    // `ds` is a pointer into linear memory; its `count` field follows values[16].
    let ds = print("ds");
    assert!(ds.starts_with("(const struct dataset *) 0x"), "{ds}");
    assert!(answer(
        &s,
        Command::Print {
            frame: 0,
            expr: "nosuch".into()
        }
    )
    .unwrap_err()
    .contains("no symbol `nosuch`"));
    // `finish` out of mean() (after deleting the breakpoint) lands in compute_stats.
    s.send(Command::Delete(None));
    s.send(Command::Finish);
    let p = loop {
        let p = paused(&s);
        if p.reason == StopReason::Finish {
            break p;
        }
    };
    assert_eq!(p.frames[0].func_name, "compute_stats");
    s.send(Command::Continue);
    assert_eq!(
        wait(&s, "the end", |e| match e {
            Event::Ended { outcome, .. } => Some(outcome.clone()),
            _ => None,
        }),
        Outcome::Exited(0)
    );
}

#[test]
fn a_pause_in_baseline_code_from_before_the_attach_shows_its_locals() {
    // sum_to runs one long loop in the baseline code it started in (pinned
    // to baseline: under dynamic tiering the loop moves up, OSR).
    let s = Session::start(SessionConfig {
        name: "test.wat".into(),
        wasm: LOOP.as_bytes().to_vec(),
        invoke: Some("sum_to".into()),
        args: vec!["2000000000".into()],
        run: true,
        strategy: Some(wdb::Strategy::Baseline),
        ..SessionConfig::default()
    })
    .expect("session starts");
    std::thread::sleep(Duration::from_millis(200));
    s.send(Command::Pause);
    let p = paused(&s);
    let f = &p.frames[0];
    assert_eq!(f.func_name, "sum_to");
    assert_eq!(f.tier, FrameTier::Baseline, "{:?}", p.frames);
    assert!(f
        .note
        .as_deref()
        .unwrap_or("")
        .contains("before the attach"));
    let locals = f.locals.as_ref().expect("locals at the interrupt check");
    assert_eq!(locals[0].bits, 2_000_000_000, "$n");
    assert!(locals[1].bits > 1 && locals[1].bits <= 2_000_000_000, "$i");
    assert!(matches!(locals[0].place, Place::Slot(_)));
    assert_eq!(f.stack.as_ref().map(Vec::len), Some(0));
    // The registers saved by the check's slow path are there too.
    assert!(p.regs.is_some());
    s.send(Command::Quit);
    wait(&s, "closed", |e| matches!(e, Event::Closed).then_some(()));
}

/// Debug code keeps a local in a register between merge points (the local
/// cache): a local the debugger sets while paused is what the code then
/// reads, not the register's stale copy.
#[test]
fn a_local_set_while_paused_is_seen_by_code_that_cached_it() {
    const WAT: &str = r#"
(module
  (memory 1)
  (data (i32.const 0) "\07")
  (func (export "f") (param $p i32) (result i32) (local $x i32)
    (local.set $x (i32.load (local.get $p)))
    (drop (i32.load (local.get $x)))
    nop
    (i32.add (local.get $x) (i32.const 2))))
"#;
    let s = start(WAT, "f", &["0"], false);
    paused(&s);
    let nop_at = s
        .disassemble(0)
        .iter()
        .filter(|l| l.text.contains("nop"))
        .find_map(|l| l.offset)
        .expect("a nop in f");
    s.send(Command::Break {
        at: BreakAt::Offset(nop_at),
        condition: None,
    });
    s.send(Command::Continue);
    let p = paused(&s);
    assert_eq!(p.frames[0].locals.as_ref().unwrap()[1].bits, 7, "$x");
    s.send(Command::Delete(None));
    s.send(Command::SetLocal {
        frame: 0,
        index: 1,
        value: SetValue::Int(40),
    });
    wait(&s, "the set answer", |e| match e {
        Event::Message(m) if m.contains("set") => Some(()),
        Event::Error(e) => panic!("{e}"),
        _ => None,
    });
    let p = paused(&s);
    assert_eq!(p.frames[0].locals.as_ref().unwrap()[1].bits, 40);
    s.send(Command::Continue);
    match next_stop(&s) {
        Stop::Ended(o) => assert_eq!(o, Outcome::Returned(vec!["42".into()])),
        Stop::Paused(p) => panic!("unexpected pause {:?}", p.reason),
    }
}

/// Stopping at traps sees a 64-bit table's whole i64 index: an index of
/// 2^32 + 1 (whose low half, 1, names a function) stops before the
/// `call_indirect` that traps, not after it.
#[test]
fn stop_at_traps_reads_a_64_bit_table_index_whole() {
    let wat = r#"(module
      (type $v (func (result i32)))
      (table i64 2 funcref)
      (func $one (result i32) (i32.const 1))
      (elem (table 0) (i64.const 0) func $one $one)
      (func (export "call") (param i64) (result i32)
        (call_indirect (type $v) (local.get 0))))"#;
    let s = start(wat, "call", &["4294967297"], false);
    paused(&s);
    s.send(Command::StopAtTraps(true));
    s.send(Command::Continue);
    let p = paused(&s);
    assert!(matches!(p.reason, StopReason::Trap(_)), "{:?}", p.reason);
    // Still in `call`, at the call_indirect: the trap has not happened yet.
    assert_eq!(p.frames.len(), 1);
}

/// On a large `-g` module the DWARF is still being parsed (on its own thread)
/// when the program stops at entry: the entry stop's source position is the
/// whole table's all the same, and source-level commands sent at once wait for
/// the parse and then work (a breakpoint by line, `print` of C variables).
#[test]
fn source_level_commands_right_after_the_entry_stop_of_a_large_module() {
    let wasm = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/corpus/zstd-g.wasm"
    ))
    .unwrap();
    let whole = wdb::debugger::dwarf::DwarfInfo::parse(&wasm)
        .unwrap()
        .unwrap();
    let source = include_str!("../benches/corpus/c/zstd_bench.c");
    let line = line_of(source, "size_t cap = ZSTD_compressBound(n);");
    let s = Session::start(SessionConfig {
        name: "benches/corpus/zstd-g.wasm".into(),
        wasm,
        args: vec!["0.001".into()],
        ..SessionConfig::default()
    })
    .unwrap();
    let p = paused(&s);
    assert_eq!(p.reason, StopReason::Entry);
    let f = &p.frames[0];
    let expected = whole.line_at(f.offset).filter(|r| r.line != 0);
    assert_eq!(
        f.source
            .as_ref()
            .map(|p| (p.file.clone(), p.line, p.column)),
        expected.map(|r| (r.file.clone(), r.line, r.column)),
    );
    s.send(Command::Break {
        at: BreakAt::Line {
            file: "zstd_bench.c".into(),
            line,
        },
        condition: None,
    });
    s.send(Command::Continue);
    let p = paused(&s);
    assert_eq!(p.reason, StopReason::Breakpoint(1));
    assert_eq!(p.frames[0].func_name, "main");
    let pos = p.frames[0].source.as_ref().unwrap();
    assert!(
        pos.file.ends_with("zstd_bench.c") && pos.line == line,
        "{pos:?}"
    );
    let text = answer(
        &s,
        Command::Print {
            frame: 0,
            expr: "n".into(),
        },
    )
    .unwrap();
    let n: u64 = text.split_once(" = ").unwrap().1.parse().unwrap();
    assert!(n >= 4096, "{text}");
    s.send(Command::Quit);
}
