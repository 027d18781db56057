//! The debugger on vector code, which the baseline compiles like any other
//! code. Pausing the running vector loop lands in its baseline frame; stepping
//! runs debug code instruction by instruction up to the `i32x4.add`, where
//! the operand stack holds the accumulator and `splat(i)`: their lanes (from
//! an xmm register or a 16-byte slot, as the side table says) must equal what
//! the loop counter says they are (computed here independently), the text
//! shows hex and lanes in the chosen shape, and `set` on a `v128` local
//! changes the program's result as predicted.

use std::sync::Arc;
use std::time::{Duration, Instant};
use wdb::debugger::v128::{format_v128, join, set_lanes, Lanes};
use wdb::debugger::*;
use wdb::ValType;

const TIMEOUT: Duration = Duration::from_secs(60);

/// `vsum` adds `splat(i)` to an accumulator that starts as `[1 2 3 4]`, so
/// at the loop header `acc = [1+S 2+S 3+S 4+S]` with `S = i(i-1)/2` (i32
/// lanes, wrapping). `main` (scalar, baseline code) calls it.
const VSUM: &str = r#"
(module
  (func $vsum (param $n i32) (result i32)
    (local $i i32) (local $acc v128)
    (local.set $acc (v128.const i32x4 1 2 3 4))
    (block
      (loop
        (br_if 1 (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $acc (i32x4.add (local.get $acc) (i32x4.splat (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br 0)))
    (i32x4.extract_lane 3 (local.get $acc)))
  (func (export "main") (param $n i32) (result i32)
    (call $vsum (local.get $n)))
)
"#;

fn wait<T>(s: &Session, what: &str, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let until = Instant::now() + TIMEOUT;
    while Instant::now() < until {
        if let Some(e) = s.recv_timeout(Duration::from_millis(50)) {
            if let Some(t) = pick(&e) {
                return t;
            }
        }
    }
    panic!("timed out waiting for {what}");
}

fn paused(s: &Session) -> Arc<Snapshot> {
    wait(s, "a pause", |e| match e {
        Event::Paused(p) => Some(p.clone()),
        Event::Ended { outcome, .. } => panic!("the program ended: {outcome:?}"),
        _ => None,
    })
}

#[test]
fn pausing_vector_code_shows_v128_lanes() {
    let s = Session::start(SessionConfig {
        name: "vsum.wat".into(),
        wasm: VSUM.as_bytes().to_vec(),
        invoke: Some("main".into()),
        args: vec!["2000000000".into()],
        run: true,
        ..SessionConfig::default()
    })
    .expect("session starts");
    std::thread::sleep(Duration::from_millis(100));
    s.send(Command::Pause);
    let mut p = paused(&s);
    assert_eq!(p.frames[0].func_name, "vsum", "{:?}", p.frames);
    assert_ne!(p.frames[0].tier, FrameTier::Optimized);
    // Step to the `i32x4.add`: two vectors on the operand stack.
    let vectors = |p: &Snapshot| {
        p.frames[0]
            .stack
            .as_ref()
            .is_some_and(|st| st.len() == 2 && st.iter().all(|v| v.ty == ValType::V128))
    };
    let mut steps = 0;
    while !vectors(&p) {
        steps += 1;
        assert!(
            steps < 40,
            "no i32x4.add within 40 steps: {:?}",
            p.frames[0]
        );
        s.send(Command::StepInstruction);
        p = paused(&s);
    }
    let f = &p.frames[0];
    assert_eq!(f.func_name, "vsum", "{:?}", p.frames);
    assert_eq!(f.tier, FrameTier::Debug);
    let locals = f.locals.as_ref().expect("debug code's side table");
    assert_eq!(locals.len(), 3, "{locals:?}");
    assert_eq!(locals[0].bits, 2_000_000_000, "$n");
    assert_eq!(locals[2].ty, ValType::V128);
    let i = locals[1].bits as u32;
    assert!(i > 0, "the loop ran");
    let sum = (i as u64 * (i as u64 - 1) / 2) as u32;
    let acc = join(locals[2].bits, locals[2].hi);
    let lanes: Vec<u32> = (0..4).map(|k| (acc >> (32 * k)) as u32).collect();
    let want: Vec<u32> = (1..=4).map(|k: u32| k.wrapping_add(sum)).collect();
    assert_eq!(lanes, want, "acc at i = {i}");
    // The operand stack: the accumulator and `splat(i)`.
    let stack = f.stack.as_ref().unwrap();
    assert_eq!(join(stack[0].bits, stack[0].hi), acc, "{stack:?}");
    let splat = join(stack[1].bits, stack[1].hi);
    assert_eq!(
        splat,
        u128::from_le_bytes([i.to_le_bytes(); 4].concat().try_into().unwrap())
    );
    // Hex and lanes, in the default shape and after `lanes i8x16`.
    let text = format_value(ValType::V128, locals[2].bits, locals[2].hi);
    let lane_text: Vec<String> = want.iter().map(|v| (*v as i32).to_string()).collect();
    assert_eq!(
        text,
        format!("{acc:#034x} i32x4 [{}]", lane_text.join(" ")),
        "default shape"
    );
    set_lanes(Lanes::I8x16);
    let bytes: Vec<String> = acc
        .to_le_bytes()
        .iter()
        .map(|b| (*b as i8).to_string())
        .collect();
    assert_eq!(
        format_v128(acc, Lanes::I8x16),
        format!("{acc:#034x} i8x16 [{}]", bytes.join(" "))
    );
    assert_eq!(
        format_value(ValType::V128, locals[2].bits, locals[2].hi),
        format_v128(acc, Lanes::I8x16)
    );
    set_lanes(Lanes::I32x4);
    s.send(Command::Print {
        frame: 0,
        expr: "$local2".into(),
    });
    let printed = wait(&s, "print $local2", |e| match e {
        Event::Message(m) => Some(m.clone()),
        Event::Error(e) => panic!("{e}"),
        _ => None,
    });
    assert_eq!(printed, format!("$local2 = {text} (v128)"));
    // Step past `local.set $acc`: the operand stack is empty again and the
    // local holds acc + splat(i).
    while p.frames[0].stack.as_ref().is_some_and(|st| !st.is_empty()) {
        s.send(Command::StepInstruction);
        p = paused(&s);
    }
    let locals = p.frames[0].locals.clone().unwrap();
    let added = join(locals[2].bits, locals[2].hi);
    let want: Vec<u32> = (1..=4)
        .map(|k: u32| k.wrapping_add(sum).wrapping_add(i))
        .collect();
    let lanes: Vec<u32> = (0..4).map(|k| (added >> (32 * k)) as u32).collect();
    assert_eq!(lanes, want, "acc after the add");
    // `set` on the v128 local (128-bit hex), and `$n = i + 1` so the loop
    // ends after this iteration: `vsum` returns lane 3 of what was set.
    let new = 0x0000_002a_0000_0003_0000_0002_0000_0001u128;
    s.send(Command::SetLocal {
        frame: 0,
        index: 2,
        value: SetValue::parse(&format!("{new:#x}")).unwrap(),
    });
    let said = wait(&s, "the set", |e| match e {
        Event::Message(m) => Some(m.clone()),
        Event::Error(e) => panic!("{e}"),
        _ => None,
    });
    assert_eq!(
        said,
        format!("$local2 set to {}", format_v128(new, Lanes::I32x4))
    );
    s.send(Command::SetLocal {
        frame: 0,
        index: 0,
        value: SetValue::Int(i as i128 + 1),
    });
    wait(&s, "the set of $n", |e| match e {
        Event::Message(m) => Some(m.clone()),
        Event::Error(e) => panic!("{e}"),
        _ => None,
    });
    s.send(Command::Continue);
    let outcome = wait(&s, "the end", |e| match e {
        Event::Ended { outcome, .. } => Some(outcome.clone()),
        _ => None,
    });
    assert_eq!(outcome, Outcome::Returned(vec!["42".into()]));
}

/// The number N of a value's place `xmmN`, if it is in an xmm register.
fn xmm_of(v: &Value) -> Option<usize> {
    match v.place {
        Place::Register(r) => r.strip_prefix("xmm")?.parse().ok(),
        _ => None,
    }
}

/// Stepping `vsum` instruction by instruction in debug code: wherever the
/// side table places a value in `xmmN`, the registers of the pause hold it,
/// all 128 bits of a `v128` (the low bits of a float), and `info registers
/// xmmN` prints those bits and their lanes.
#[test]
fn xmm_registers_show_all_128_bits_of_the_values_they_hold() {
    let s = Session::start(SessionConfig {
        name: "vsum.wat".into(),
        wasm: VSUM.as_bytes().to_vec(),
        invoke: Some("main".into()),
        args: vec!["3".into()],
        ..SessionConfig::default()
    })
    .expect("session starts");
    let mut p = paused(&s);
    let mut vectors_in_xmm = 0;
    for _ in 0..200 {
        let regs = p.regs.as_ref().expect("debug code saves the registers");
        let f = &p.frames[0];
        let values = f.locals.iter().chain(f.stack.iter()).flatten();
        for v in values {
            let Some(n) = xmm_of(v) else { continue };
            let held = regs.xmm[n];
            match v.ty {
                ValType::V128 => {
                    let want = join(v.bits, v.hi);
                    assert_eq!(held, want, "xmm{n} at {:#x}", f.offset);
                    let name = format!("xmm{n}");
                    let lines = wdb::debugger::registers::one(regs, &name).unwrap();
                    assert_eq!(lines[0], format!("{name:<6}{want:#034x}"));
                    // Upper halves that are not zero show the whole register is read.
                    if held >> 64 != 0 {
                        vectors_in_xmm += 1;
                    }
                }
                ValType::F64 => assert_eq!(held as u64, v.bits, "xmm{n}"),
                ValType::F32 => assert_eq!(held as u32, v.bits as u32, "xmm{n}"),
                t => panic!("a {t} in xmm{n}"),
            }
        }
        s.send(Command::StepInstruction);
        match wait(&s, "a step", |e| match e {
            Event::Paused(p) => Some(Some(p.clone())),
            Event::Ended { .. } => Some(None),
            _ => None,
        }) {
            Some(q) => p = q,
            None => break,
        }
    }
    assert!(
        vectors_in_xmm > 0,
        "no v128 with a non-zero upper half in an xmm register at any step"
    );
}

/// `work` adds `$k = [1 1 1 1]` to the mutable v128 global `$g` until `$i`
/// reaches the mutable i32 global `$limit`; `main` returns lane 3 of `$g`
/// read after the call (in `main`'s own code, optimized under the optimized
/// strategy).
const GLOBALS: &str = r#"
(module
  (global $g (mut v128) (v128.const i32x4 0 0 0 0))
  (global $k v128 (v128.const i32x4 1 1 1 1))
  (global $limit (mut i32) (i32.const 0x7fffffff))
  (global $seven i32 (i32.const 7))
  (func $work
    (local $i i32)
    (block
      (loop
        (br_if 1 (i32.ge_u (local.get $i) (global.get $limit)))
        (global.set $g (i32x4.add (global.get $g) (global.get $k)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br 0))))
  (func (export "main") (result i32)
    (call $work)
    (i32x4.extract_lane 3 (global.get $g)))
)
"#;

fn answer(s: &Session, what: &str) -> Result<String, String> {
    wait(s, what, |e| match e {
        Event::Message(m) => Some(Ok(m.clone())),
        Event::Error(e) => Some(Err(e.clone())),
        _ => None,
    })
}

fn set_global(s: &Session, index: u32, value: &str) -> Result<String, String> {
    s.send(Command::SetGlobal {
        index,
        value: SetValue::parse(value).unwrap(),
    });
    answer(s, &format!("set $global{index}"))
}

/// Pausing the running loop (plain baseline code, or optimized code whose
/// caller stays optimized): `$g`'s lanes equal the loop counter there; `set`
/// writes all 128 bits of `$g` and sets `$limit` three iterations ahead, so
/// `main` returns lane 3 of what was set plus 3. Immutable globals (v128
/// and i32) are refused with one line.
#[test]
fn set_writes_a_v128_global_in_baseline_and_optimized_code() {
    for (strategy, tier) in [
        (wdb::Strategy::Baseline, FrameTier::Baseline),
        (wdb::Strategy::Optimized, FrameTier::Optimized),
    ] {
        let s = Session::start(SessionConfig {
            name: "globals.wat".into(),
            wasm: GLOBALS.as_bytes().to_vec(),
            invoke: Some("main".into()),
            run: true,
            strategy: Some(strategy),
            eager: true,
            ..SessionConfig::default()
        })
        .expect("session starts");
        std::thread::sleep(Duration::from_millis(200));
        s.send(Command::Pause);
        let p = paused(&s);
        let f = &p.frames[0];
        assert_eq!(f.func_name, "work", "{strategy:?}: {:?}", p.frames);
        assert_eq!(f.tier, tier, "{:?}", p.frames);
        if tier == FrameTier::Optimized {
            // `main`, which reads `$g` after the call, stays optimized.
            assert_eq!(p.frames[1].tier, tier, "{:?}", p.frames);
        }
        let i = f.locals.as_ref().expect("locals at the check")[0].bits as u32;
        let g = &p.globals[0];
        assert_eq!(g.ty, ValType::V128);
        let lanes = join(g.bits, g.hi);
        assert_eq!(
            lanes,
            u128::from_le_bytes([i.to_le_bytes(); 4].concat().try_into().unwrap()),
            "{strategy:?}: $g at $i = {i}"
        );
        let new = 0x0000_03e8_0000_0000_ffff_ffff_0000_0007u128;
        // (The lane shape is shared with the other test, which changes it.)
        let said = set_global(&s, 0, &format!("{new:#x}")).expect("set $g");
        assert!(
            said.starts_with(&format!("$global0 set to {new:#034x} ")),
            "{said}"
        );
        let err = set_global(&s, 1, "0").unwrap_err();
        assert_eq!(
            err,
            "$global1 is immutable (v128 const): only mutable globals can be set"
        );
        let err = set_global(&s, 3, "8").unwrap_err();
        assert_eq!(
            err,
            "$global3 is immutable (i32 const): only mutable globals can be set"
        );
        let err = set_global(&s, 0, "1.5").unwrap_err();
        assert!(err.starts_with("$global0: 1.5 is a float"), "{err}");
        set_global(&s, 2, &(i + 3).to_string()).expect("set $limit");
        let p = paused(&s);
        assert_eq!(join(p.globals[0].bits, p.globals[0].hi), new);
        s.send(Command::Continue);
        let outcome = wait(&s, "the end", |e| match e {
            Event::Ended { outcome, .. } => Some(outcome.clone()),
            _ => None,
        });
        assert_eq!(
            outcome,
            Outcome::Returned(vec!["1003".into()]),
            "{strategy:?}: set at $i = {i}"
        );
    }
}
