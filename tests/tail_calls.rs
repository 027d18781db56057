//! Tail calls in every tier: chains of 10⁷ `return_call` and
//! `return_call_indirect` run in constant stack (the same recursion with
//! `call` overflows the stack), across tiers (mixed: neighbouring functions
//! are baseline and optimized code; dynamic: functions change tier while the
//! chain runs), with stack arguments that grow and shrink between calls and
//! with two results passed through; a trap after tail calls has a backtrace
//! without the replaced frames.

use wdb::*;

const TIERS: [Strategy; 5] = [
    Strategy::Baseline,
    Strategy::Debug,
    Strategy::Optimized,
    Strategy::Mixed,
    Strategy::Dynamic,
];

/// 10⁷: with one frame per call this needs far more than the 4 MiB wasm
/// stack (every frame takes at least 16 bytes).
const DEPTH: i64 = 10_000_000;

/// `$a` and `$b` tail-call each other (`$a` has no stack arguments, `$b`
/// eight: the area grows and shrinks at every step), `$c` tail-calls itself
/// through the table with two results, `$count` with `return_call`. The
/// `call_*` twins recurse with ordinary calls.
const WAT: &str = r#"
(module
  (type $ta (func (param i64 i64) (result i64)))
  (type $tb (func (param i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 f64) (result i64)))
  (type $tc (func (param i64 i64) (result i64 i64)))
  (table 3 funcref)
  (elem (i32.const 0) func $a $b $c)

  ;; n, acc
  (func $a (export "a") (type $ta)
    local.get 0
    i64.eqz
    if (result i64)
      local.get 1
    else
      local.get 0 i64.const 1 i64.sub
      local.get 1
      i64.const 1 i64.const 2 i64.const 3 i64.const 4 i64.const 5
      i64.const 6 i64.const 7 i64.const 8 i64.const 9 i64.const 10
      f64.const 0.5
      return_call $b
    end)

  ;; n, acc, ten extras (stack arguments), a float
  (func $b (type $tb)
    local.get 0
    local.get 1
    local.get 2 i64.add local.get 3 i64.add local.get 4 i64.add
    local.get 5 i64.add local.get 6 i64.add local.get 7 i64.add
    local.get 8 i64.add local.get 9 i64.add local.get 10 i64.add
    local.get 11 i64.add
    local.get 12 i64.trunc_f64_s i64.add
    i32.const 0
    return_call_indirect (type $ta))

  ;; n, acc -> (acc, n0) two results through the results area
  (func $c (export "c") (type $tc)
    local.get 0
    i64.eqz
    if (result i64 i64)
      local.get 1
      i64.const -1
    else
      local.get 0 i64.const 1 i64.sub
      local.get 1 local.get 0 i64.add
      i32.const 2
      return_call_indirect (type $tc)
    end)

  (func $count (export "count") (param i64) (result i64)
    local.get 0
    i64.eqz
    if (result i64)
      i64.const 7
    else
      local.get 0 i64.const 1 i64.sub
      return_call $count
    end)

  (func $call_count (export "call_count") (param i64) (result i64)
    local.get 0
    i64.eqz
    if (result i64)
      i64.const 7
    else
      local.get 0 i64.const 1 i64.sub
      call $call_count
    end)

  ;; a trap two tail calls below an ordinary call: outer -> mid ~> leaf
  (func $leaf (param i32) (result i32)
    local.get 0
    i32.eqz
    if unreachable end
    local.get 0)
  (func $mid (param i32) (result i32)
    local.get 0
    return_call $leaf)
  (func $outer (export "outer") (param i32) (result i32)
    local.get 0
    call $mid
    i32.const 1
    i32.add)
)
"#;

struct Setup {
    store: Store<()>,
    inst: Instance,
}

fn setup(strategy: Strategy) -> Setup {
    let engine = Engine::new(Config {
        strategy,
        tiering_budget: 1000,
        ..Config::default()
    })
    .unwrap();
    let module = Module::new(&engine, WAT).unwrap_or_else(|e| panic!("[{strategy:?}] {e}"));
    let mut store = Store::new(&engine, ());
    let inst = Instance::new(&mut store, &module, &[]).unwrap();
    Setup { store, inst }
}

impl Setup {
    fn call(&mut self, name: &str, args: &[Val]) -> Result<Vec<Val>> {
        let f = self.inst.get_func(&self.store, name).unwrap();
        let ty = f.ty(&self.store).unwrap();
        let mut out: Vec<Val> = ty.results().iter().map(|t| Val::default_for(*t)).collect();
        f.call(&mut self.store, args, &mut out)?;
        Ok(out)
    }

    fn i64s(&mut self, strategy: Strategy, name: &str, args: &[Val]) -> Vec<i64> {
        self.call(name, args)
            .unwrap_or_else(|e| panic!("[{strategy:?}] {name}: {e}"))
            .iter()
            .map(|v| v.i64().unwrap())
            .collect()
    }
}

#[test]
fn ten_million_tail_calls_run_in_constant_stack_in_every_tier() {
    for strategy in TIERS {
        let mut s = setup(strategy);
        let n = DEPTH;
        assert_eq!(
            s.i64s(strategy, "count", &[Val::I64(n)]),
            [7],
            "[{strategy:?}]"
        );
        // $a and $b alternate: n steps of $b, each adds 55 (1..10) and 0.
        assert_eq!(
            s.i64s(strategy, "a", &[Val::I64(n), Val::I64(3)]),
            [3 + 55 * n],
            "[{strategy:?}]"
        );
        assert_eq!(
            s.i64s(strategy, "c", &[Val::I64(n), Val::I64(0)]),
            [n * (n + 1) / 2, -1],
            "[{strategy:?}]"
        );
    }
}

#[test]
fn the_same_recursion_with_call_overflows_the_stack() {
    for strategy in TIERS {
        let mut s = setup(strategy);
        let e = s
            .call("call_count", &[Val::I64(DEPTH)])
            .expect_err("10^7 nested calls must not fit in the stack");
        let t = e
            .as_trap()
            .unwrap_or_else(|| panic!("[{strategy:?}] not a trap: {e}"));
        assert_eq!(t.code, TrapCode::StackOverflow, "[{strategy:?}] {t}");
        // A shallow one works.
        assert_eq!(
            s.i64s(strategy, "call_count", &[Val::I64(1000)]),
            [7],
            "[{strategy:?}]"
        );
    }
}

#[test]
fn a_trap_after_tail_calls_shows_no_replaced_frames() {
    for strategy in TIERS {
        let mut s = setup(strategy);
        assert_eq!(
            s.call("outer", &[Val::I32(4)]).unwrap()[0].i32(),
            Some(5),
            "[{strategy:?}]"
        );
        let e = s.call("outer", &[Val::I32(0)]).unwrap_err();
        let t = e
            .as_trap()
            .unwrap_or_else(|| panic!("[{strategy:?}] not a trap: {e}"));
        assert_eq!(t.code, TrapCode::Unreachable, "[{strategy:?}] {t}");
        // Functions: a, b, c, count, call_count, leaf = 5, mid = 6, outer = 7.
        let funcs: Vec<u32> = t.backtrace.iter().map(|f| f.func_index).collect();
        assert_eq!(funcs, [5, 7], "[{strategy:?}] {t}");
    }
}

// ---- the debugger ------------------------------------------------------------

mod debugger {
    use std::sync::Arc;
    use std::time::{Duration, Instant};
    use wdb::debugger::*;

    /// `outer` calls `mid`, which tail-calls `leaf`.
    const PROGRAM: &str = r#"
(module
  (func $leaf (param i32) (result i32)
    local.get 0
    i32.const 100
    i32.add)
  (func $mid (param i32) (result i32)
    local.get 0
    i32.const 1
    i32.add
    return_call $leaf)
  (func $outer (export "outer") (param i32) (result i32)
    local.get 0
    call $mid
    i32.const 2
    i32.mul)
)
"#;

    fn start() -> Session {
        Session::start(SessionConfig {
            name: "tail.wat".into(),
            wasm: PROGRAM.as_bytes().to_vec(),
            invoke: Some("outer".into()),
            args: vec!["5".into()],
            run: false,
            ..SessionConfig::default()
        })
        .expect("session starts")
    }

    enum Stop {
        Paused(Arc<Snapshot>),
        Ended(Outcome),
    }

    fn next_stop(s: &Session) -> Stop {
        let until = Instant::now() + Duration::from_secs(60);
        while Instant::now() < until {
            match s.recv_timeout(Duration::from_millis(50)) {
                Some(Event::Paused(p)) => return Stop::Paused(p),
                Some(Event::Ended { outcome, .. }) => return Stop::Ended(outcome),
                Some(Event::Error(e)) => panic!("{e}"),
                _ => {}
            }
        }
        panic!("timed out waiting for a stop");
    }

    fn paused(s: &Session) -> Arc<Snapshot> {
        match next_stop(s) {
            Stop::Paused(p) => p,
            Stop::Ended(o) => panic!("expected a pause, the program ended: {o:?}"),
        }
    }

    fn names(p: &Snapshot) -> Vec<&str> {
        p.frames.iter().map(|f| f.func_name.as_str()).collect()
    }

    fn ends_with_212(s: &Session) {
        s.send(Command::Delete(None));
        s.send(Command::Continue);
        loop {
            match next_stop(s) {
                Stop::Ended(o) => {
                    assert_eq!(o, Outcome::Returned(vec!["212".into()]));
                    return;
                }
                Stop::Paused(_) => s.send(Command::Continue),
            }
        }
    }

    /// Pauses at the first instruction of `mid`.
    fn at_mid() -> Session {
        let s = start();
        assert_eq!(paused(&s).reason, StopReason::Entry);
        s.send(Command::Break {
            at: BreakAt::FunctionName("mid".into()),
            condition: None,
        });
        s.send(Command::Continue);
        let p = paused(&s);
        assert_eq!(names(&p), ["mid", "outer"]);
        s
    }

    #[test]
    fn backtrace_in_a_tail_callee_skips_the_replaced_frame_and_says_so() {
        let s = start();
        assert_eq!(paused(&s).reason, StopReason::Entry);
        s.send(Command::Break {
            at: BreakAt::FunctionName("leaf".into()),
            condition: None,
        });
        s.send(Command::Continue);
        let p = paused(&s);
        assert_eq!(p.reason, StopReason::Breakpoint(1));
        assert_eq!(names(&p), ["leaf", "outer"], "{:?}", p.frames);
        let note = p.frames[1].note.as_deref().unwrap_or("");
        assert!(
            note.contains("called mid") && note.contains("replaced by tail calls"),
            "{note:?}"
        );
        assert!(p.frames[0].note.is_none(), "{:?}", p.frames[0].note);
        // outer's frame still shows its own local.
        assert_eq!(p.frames[1].locals.as_ref().unwrap()[0].bits, 5);
        ends_with_212(&s);
    }

    #[test]
    fn stepping_into_return_call_enters_the_callee() {
        let s = at_mid();
        let mut p;
        loop {
            s.send(Command::StepInstruction);
            p = paused(&s);
            if p.frames[0].func_name != "mid" {
                break;
            }
        }
        assert_eq!(names(&p), ["leaf", "outer"]);
        assert_eq!(p.frames[0].locals.as_ref().unwrap()[0].bits, 6);
        ends_with_212(&s);
    }

    #[test]
    fn next_over_return_call_and_finish_return_to_the_caller() {
        for cmd in [Command::NextInstruction, Command::Finish] {
            let s = at_mid();
            let mut p;
            loop {
                s.send(cmd.clone());
                p = paused(&s);
                if p.frames[0].func_name != "mid" {
                    break;
                }
            }
            assert_eq!(names(&p), ["outer"], "{cmd:?}");
            // Stopped after the call, with leaf's result on the stack.
            let stack = p.frames[0].stack.as_ref().unwrap();
            assert_eq!(stack.last().map(|v| v.bits), Some(106), "{cmd:?}");
            ends_with_212(&s);
        }
    }
}
