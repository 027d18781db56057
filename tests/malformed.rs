//! Malformed input never panics, in any of the five tiers: modules of the
//! pinned spec suite, truncated and with single bytes flipped (deterministic
//! LCG), and a slice of the `wdb-fuzz` mutator's cases, are compiled,
//! instantiated (with the `spectest` imports) and run in baseline, debug,
//! optimized, mixed and dynamic; the tiers must agree on every outcome (see
//! `wdb_fuzz::malformed`). Errors for truncated binaries name a byte offset.

use std::panic::{catch_unwind, AssertUnwindSafe};
use wdb::*;
use wdb_fuzz::malformed::Malformed;
use wdb_fuzz::Tally;

/// Every 8th module of the suite, at most this many.
const SAMPLE_EVERY: usize = 8;
const MAX_MODULES: usize = 150;
const FLIPS_PER_MODULE: usize = 16;
/// Cases of the fuzzer's own mutator (seed 0).
const MUTATOR_CASES: u64 = 1000;

/// Deterministic 64-bit LCG (Knuth's MMIX constants).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The truncations and flips of one module, each with what it is.
fn mutations(m: usize, name: &str, bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![(format!("{name} (unmutated)"), bytes.to_vec())];
    let len = bytes.len();
    // Truncations: every length for short modules, a spread for long ones.
    let cuts: Vec<usize> = if len <= 48 {
        (0..len).collect()
    } else {
        let mut v: Vec<usize> = (0..12)
            .chain((1..12).map(|k| len * k / 12))
            .chain(len - 3..len)
            .collect();
        v.dedup();
        v
    };
    for cut in cuts {
        out.push((
            format!("{name} truncated to {cut} of {len} bytes"),
            bytes[..cut].to_vec(),
        ));
    }
    // Single-byte flips; the seed is the module's index in the sample.
    let seed = m as u64 + 1;
    let mut rng = Lcg(seed);
    for k in 0..FLIPS_PER_MODULE {
        let pos = if k < 2 {
            8 + rng.below(len.saturating_sub(8))
        } else {
            rng.below(len)
        };
        let val = match k % 4 {
            0 => 0xff,
            1 => 0x00,
            2 => 0x80,
            _ => rng.next() as u8,
        };
        if pos >= len {
            continue;
        }
        let mut mutated = bytes.to_vec();
        mutated[pos] = if mutated[pos] == val { val ^ 0x41 } else { val };
        out.push((
            format!(
                "{name} with byte {pos} set to {:#04x} (seed {seed}, flip {k})",
                mutated[pos]
            ),
            mutated,
        ));
    }
    out
}

fn check_all(
    fuzz: &Malformed,
    cases: impl Iterator<Item = (String, wdb_fuzz::CaseResult)>,
) -> Tally {
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for (n, (what, r)) in cases.enumerate() {
        for f in &r.findings {
            failures.push(format!("{what}: {f}"));
        }
        tally.add(n as u64, &r);
    }
    assert!(
        failures.is_empty(),
        "{} findings in {} tiers:\n{}",
        failures.len(),
        fuzz.tiers.len(),
        failures.join("\n")
    );
    if let Some(m) = tally.cap_violation() {
        panic!("{m}");
    }
    tally
}

#[test]
fn mutated_spec_modules_never_panic_and_every_tier_agrees() {
    let fuzz = Malformed::new(&wdb_fuzz::tiers::ALL).unwrap();
    assert_eq!(fuzz.tiers.len(), 5);
    let sample: Vec<(usize, &(String, Vec<u8>))> = fuzz
        .corpus
        .iter()
        .step_by(SAMPLE_EVERY)
        .take(MAX_MODULES)
        .enumerate()
        .collect();
    let cases = sample.iter().flat_map(|(m, (name, bytes))| {
        mutations(*m, name, bytes)
            .into_iter()
            .map(|(what, b)| (what, fuzz.check_bytes(&b)))
    });
    let tally = check_all(&fuzz, cases);
    eprintln!("truncations and flips: {}", tally.summary());
    // Some mutated modules still compile and run.
    assert!(tally.calls > 0, "{}", tally.summary());
}

#[test]
fn fuzzer_mutations_never_panic_and_every_tier_agrees() {
    let fuzz = Malformed::new(&wdb_fuzz::tiers::ALL).unwrap();
    let cases =
        (0..MUTATOR_CASES).map(|case| (format!("case {case} (seed 0)"), fuzz.check_case(0, case)));
    let tally = check_all(&fuzz, cases);
    eprintln!("mutator cases 0..{MUTATOR_CASES}: {}", tally.summary());
    assert_eq!(tally.skipped, 0);
    assert!(tally.judged > 0 && tally.calls > 0, "{}", tally.summary());
}

#[test]
fn truncated_module_error_names_byte_offset() {
    let engine = Engine::new(Config::default()).unwrap();
    let wat = r#"(module
      (type (func (param i32) (result i32)))
      (memory 1)
      (global $g (mut i32) (i32.const 5))
      (func (export "f") (param i32) (result i32)
        local.get 0 global.get $g i32.add i32.const 3 i32.mul)
      (data (i32.const 0) "hello, world"))"#;
    let bytes = wat::parse_str(wat).unwrap();
    assert!(Module::new(&engine, &bytes).is_ok());
    let mut invalid = 0;
    for cut in 8..bytes.len() {
        match Module::new(&engine, &bytes[..cut]) {
            // A cut at a section boundary leaves a shorter module that may be valid
            // (e.g. without its data section) or inconsistent.
            Ok(_) => {}
            Err(e @ Error::Invalid { offset, .. }) => {
                assert!(
                    offset <= cut,
                    "cut at {cut}: offset {offset} is past the end"
                );
                let shown = e.to_string();
                assert!(shown.contains("byte offset"), "cut at {cut}: {shown}");
                invalid += 1;
            }
            Err(e) => panic!("cut at {cut}: expected Error::Invalid with an offset, got {e:?}"),
        }
    }
    assert!(
        invalid > bytes.len() / 2,
        "{invalid} invalid of {} cuts",
        bytes.len() - 8
    );
    // Shorter than the header: not a valid binary either way.
    for cut in 0..8 {
        assert!(Module::new(&engine, &bytes[..cut]).is_err(), "cut at {cut}");
    }
    // The same in the middle of the code section, in every tier.
    let code_start = {
        let m = Module::new(&engine, &bytes).unwrap();
        m.info().bodies[0].range.start
    };
    for strategy in wdb_fuzz::tiers::ALL {
        let engine = Engine::new(Config {
            strategy,
            ..Config::default()
        })
        .unwrap();
        let e = Module::new(&engine, &bytes[..code_start + 3])
            .err()
            .expect("truncated code section");
        assert!(
            matches!(e, Error::Invalid { offset, .. } if offset <= code_start + 3),
            "{e:?}"
        );
    }
}

#[test]
fn garbage_is_an_error_not_a_panic() {
    let engine = Engine::new(Config::default()).unwrap();
    let mut rng = Lcg(42);
    for len in [0usize, 1, 3, 4, 7, 8, 9, 16, 100, 1000] {
        // Valid header followed by random bytes, and random bytes alone.
        let mut with_header = b"\0asm\x01\0\0\0".to_vec();
        let tail: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        with_header.extend_from_slice(&tail);
        let r = catch_unwind(AssertUnwindSafe(|| {
            let _ = Module::new(&engine, &with_header);
            let _ = Module::new(&engine, &tail);
        }));
        assert!(r.is_ok(), "panic on random input of {len} bytes (seed 42)");
    }
    let e = Module::new(&engine, b"\0asm\x02\0\0\0")
        .err()
        .expect("bad version");
    assert!(matches!(e, Error::Invalid { .. }), "{e:?}");
    let e = Module::new(&engine, b"(module (func (result i32) i64.const 1))")
        .err()
        .expect("type error");
    assert!(
        matches!(e, Error::Invalid { .. } | Error::Compile { .. }),
        "{e:?}"
    );
    let e = Module::new(&engine, b"(module (func")
        .err()
        .expect("bad text");
    assert!(matches!(e, Error::Text(_)), "{e:?}");
}
