//! Native code beside wasm (`disas /m`): the ranges shown under consecutive
//! wasm instructions tile a function's code exactly in every tier, every
//! instruction decodes, every wasm instruction of the body appears in
//! order in baseline and debug code, and optimized code marks what has no
//! wasm origin of its own; then the console's `disas /m`, `/r` and
//! `tier=` on a paused program.

use wdb::debugger::console::{Console, Wait};
use wdb::debugger::{Event, MachineCode, Session, SessionConfig};
use wdb::Tier;

/// Every kind of code the compilers make: loops, a br_table jump table,
/// trapping division, calls, memory, select, if/else, floats.
const KERNEL: &str = r#"(module
  (memory 1)
  (func $helper (param i32) (result i32) local.get 0 i32.const 3 i32.mul)
  (func $kernel (export "kernel") (param $n i32) (result i32) (local $i i32) (local $acc i32) (local $f f64)
    block $done
      loop $l
        local.get $i local.get $n i32.ge_s br_if $done
        block $c block $b block $a
          local.get $i i32.const 3 i32.rem_u
          br_table $a $b $c
        end
          local.get $acc local.get $i call $helper i32.add local.set $acc br $c
        end
          local.get $acc i32.const 1000 local.get $i i32.const 1 i32.add i32.div_s i32.xor local.set $acc
          br $c
        end
        local.get $i i32.const 4 i32.mul local.get $acc i32.store
        local.get $acc local.get $i i32.const 4 i32.mul i32.load i32.const 7 i32.and
        local.get $acc local.get $i i32.lt_s select local.set $acc
        local.get $f local.get $i f64.convert_i32_s f64.add local.set $f
        local.get $i i32.const 1 i32.add local.set $i
        br $l
      end
    end
    local.get $acc i32.const 0 i32.gt_s
    if (result i32) local.get $acc else local.get $f i32.trunc_sat_f64_s end)
)"#;

fn session() -> Session {
    Session::start(SessionConfig {
        name: "kernel.wat".into(),
        wasm: KERNEL.as_bytes().to_vec(),
        invoke: Some("kernel".into()),
        args: vec!["100".into()],
        ..SessionConfig::default()
    })
    .expect("session")
}

/// The ranges tile [0, len), and each range's instructions tile the range.
fn assert_tiles(code: &MachineCode, what: &str) {
    assert!(!code.ranges.is_empty(), "{what}: no ranges");
    assert!(code.len > 0, "{what}: no code");
    let mut at = 0;
    for r in &code.ranges {
        assert_eq!(r.start, at, "{what}: gap or overlap before {r:?}");
        assert!(r.end >= r.start, "{what}: {r:?}");
        let mut pc = code.addr + u64::from(r.start);
        for i in &r.insns {
            assert_eq!(i.addr, pc, "{what}: instructions do not tile {r:?}");
            assert!(!i.bytes.is_empty(), "{what}: {i:?}");
            // Data inside code (Cranelift's constant pool, alignment padding)
            // has no wasm origin and is marked inexact; instructions must decode.
            if r.exact {
                assert_ne!(i.text, "(bad)", "{what}: undecodable bytes at {i:?}");
            }
            pc += i.bytes.len() as u64;
        }
        assert_eq!(
            pc,
            code.addr + u64::from(r.end),
            "{what}: the last instruction of {:#x} crosses into the next range",
            r.wasm_offset
        );
        at = r.end;
    }
    assert_eq!(at, code.len, "{what}: the ranges stop short of the end");
}

#[test]
fn native_ranges_tile_the_code_in_every_tier() {
    let s = session();
    let kernel = 1;
    let offsets = s.instruction_offsets(kernel);
    assert!(offsets.len() > 60, "{offsets:?}");
    for tier in [Tier::Debug, Tier::Baseline] {
        let code = s.machine_code(kernel, tier, true).expect("machine code");
        assert_eq!(code.tier, tier);
        let what = tier.name();
        assert_tiles(&code, what);
        // The prologue has no wasm origin of its own and comes first.
        assert!(!code.ranges[0].exact, "{what}: {:?}", code.ranges[0]);
        // The body: one range per wasm instruction, in order, up to the
        // final `end`; out-of-line paths (traps, checks) follow it.
        let last = *offsets.last().expect("instructions");
        let body: Vec<u32> = code
            .ranges
            .iter()
            .skip(1)
            .map(|r| r.wasm_offset)
            .take_while(|&w| w != last)
            .chain([last])
            .collect();
        let mut dedup = body.clone();
        dedup.dedup();
        assert_eq!(dedup, offsets, "{what}: wasm instructions out of order");
        let rest = &code.ranges[body.len() + 1..];
        assert!(!rest.is_empty(), "{what}: no out-of-line code");
        assert!(
            rest.iter()
                .all(|r| !r.exact || offsets.contains(&r.wasm_offset)),
            "{what}: out-of-line code under no instruction"
        );
        // The division's trap path is shown under the division.
        let div = offsets
            .iter()
            .copied()
            .find(|&o| {
                s.disassemble(kernel)
                    .iter()
                    .any(|l| l.offset == Some(o) && l.text.contains("i32.div_s"))
            })
            .expect("i32.div_s");
        let under_div = code
            .ranges
            .iter()
            .filter(|r| r.wasm_offset == div)
            .flat_map(|r| &r.insns)
            .map(|i| i.text.as_str())
            .collect::<Vec<_>>();
        assert!(
            under_div.iter().any(|t| t.starts_with("idiv")),
            "{what}: {under_div:?}"
        );
        assert!(
            under_div.iter().any(|t| t.starts_with("ud2")),
            "{what}: no trap under the division: {under_div:?}"
        );
    }
    // Optimized code: tiles too; Cranelift's prologue and moves have no wasm
    // origin of their own; everything else names an instruction of the body.
    let code = s
        .machine_code(kernel, Tier::Optimized, true)
        .expect("optimized code");
    assert_tiles(&code, "optimized");
    assert!(!code.ranges[0].exact, "{:?}", code.ranges[0]);
    for r in &code.ranges {
        assert!(offsets.contains(&r.wasm_offset), "{r:?}");
    }
    let exact: std::collections::HashSet<u32> = code
        .ranges
        .iter()
        .filter(|r| r.exact)
        .map(|r| r.wasm_offset)
        .collect();
    // Cranelift folds local.get, constants and compares into their users, so
    // only some wasm instructions keep code of their own (16 of the kernel's).
    assert!(exact.len() >= 10, "{exact:?}");
    let all = code.ranges.iter().flat_map(|r| &r.insns).count();
    assert!(all > 30, "{all}");
    // Imported or missing functions: one clear error.
    assert!(s
        .machine_code(99, Tier::Debug, true)
        .unwrap_err()
        .contains("no function #99"));
}

/// Waits for the session's pause at entry.
fn wait_for_entry(s: &Session, c: &mut Console) {
    loop {
        let ev = s
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("entry pause");
        c.render_event(s, &ev);
        if matches!(ev, Event::Paused(_)) {
            break;
        }
    }
}

/// Runs console lines and collects their text (and the events they wait for).
fn run(s: &Session, c: &mut Console, line: &str) -> Vec<String> {
    let (mut out, wait) = c.execute(s, line);
    if wait == Wait::Stop {
        loop {
            let ev = s
                .recv_timeout(std::time::Duration::from_secs(30))
                .expect("the program stops");
            out.extend(c.render_event(s, &ev));
            if matches!(ev, Event::Paused(_) | Event::Ended { .. }) {
                break;
            }
        }
    }
    out
}

#[test]
fn console_disas_m_shows_native_code_under_wasm() {
    let s = session();
    let mut c = Console::new();
    wait_for_entry(&s, &mut c);
    let div = s
        .disassemble(1)
        .into_iter()
        .find(|l| l.text.contains("i32.div_s"))
        .and_then(|l| l.offset)
        .expect("div");
    run(&s, &mut c, &format!("break {div:#x}"));
    let stop = run(&s, &mut c, "continue").join("\n");
    assert!(stop.contains(&format!("at {div:#x}")), "{stop}");
    let text = run(&s, &mut c, "disas /m").join("\n");
    assert!(
        text.contains("kernel (#1): baseline·debug code at 0x"),
        "{text}"
    );
    assert!(
        text.contains(&format!("=> {div:#08x}  i32.div_s")),
        "{text}"
    );
    assert!(text.contains("idiv "), "{text}");
    // The native pc is marked, and it lies in the division's code.
    let pc_line = text
        .lines()
        .find(|l| l.starts_with("=>") && l.contains("<+"))
        .unwrap_or_else(|| panic!("no native pc in\n{text}"));
    assert!(pc_line.contains("0x"), "{pc_line}");
    let raw = run(&s, &mut c, "disas /r").join("\n");
    assert!(
        raw.lines().any(|l| l.contains("<+") && l.contains(" f7 ")),
        "raw bytes of idiv (f7 /7) in\n{raw}"
    );
    let opt = run(&s, &mut c, "disas /m kernel tier=optimized").join("\n");
    assert!(opt.contains("kernel (#1): optimized code at 0x"), "{opt}");
    assert!(opt.contains("no wasm origin of its own"), "{opt}");
    assert!(opt.lines().any(|l| l.starts_with("  ~")), "{opt}");
    let helper = run(&s, &mut c, "disas /m $helper tier=baseline").join("\n");
    assert!(
        helper.contains("error: no function named `$helper`"),
        "{helper}"
    );
    let helper = run(&s, &mut c, "disas /m #0 tier=baseline").join("\n");
    assert!(helper.contains("helper (#0): baseline code"), "{helper}");
    assert!(helper.contains("i32.mul"), "{helper}");
    for bad in ["disas /m #7", "disas /q", "disas /m kernel tier=fast"] {
        let out = run(&s, &mut c, bad);
        assert_eq!(out.len(), 1, "{bad}: {out:?}");
        assert!(out[0].starts_with("error: "), "{bad}: {out:?}");
    }
}

/// The optimizing tier's interrupt checks pass the runtime no address: it
/// finds the check's record by the frame (`OptFrame::record_below_fp`). A
/// record address passed to the check stub was a value Cranelift hoisted
/// out of every loop (the slot's `stack_addr`), so it stayed live across
/// the hot path, in a register or spilled and reloaded at every iteration:
/// sieve's innermost store loop did a second store and a load per
/// iteration for it. No optimized code of the samples' kernels materializes
/// a stack address now (`lea REG, [rsp...]`); the old code had two to four.
#[test]
fn optimized_checks_keep_no_record_address_live() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (sample, func) in [("fib", "fib"), ("sieve", "sieve"), ("nbody", "advance")] {
        let wasm = std::fs::read(root.join(format!("samples/{sample}.wasm"))).expect("sample");
        let s = Session::start(SessionConfig {
            name: format!("{sample}.wasm"),
            wasm,
            args: vec!["0.001".into()],
            ..SessionConfig::default()
        })
        .expect("session");
        let mut c = Console::new();
        wait_for_entry(&s, &mut c);
        let text = run(&s, &mut c, &format!("disas /m {func} tier=optimized")).join("\n");
        assert!(
            text.contains(&format!("{func} (#")) && text.contains("optimized code at 0x"),
            "{sample}: {text}"
        );
        assert!(
            text.lines()
                .any(|l| l.contains("cmp") && l.contains("0xffffffffffffffff")),
            "{sample}: no loop check in {func}:\n{text}"
        );
        let leas: Vec<&str> = text
            .lines()
            .filter(|l| l.contains(" lea ") && l.contains("[rsp"))
            .collect();
        assert!(
            leas.is_empty(),
            "{sample}: {func} takes a stack address: {leas:#?}"
        );
    }
}
