//! The debugger's `catch throw` in the batch console: on the C++ exceptions
//! sample (both encodings) it stops at each C++ throw and rethrow with the tag,
//! the thrown object's C++ type (read from libc++abi's exception header) and
//! the payload, `bt` shows the throwing source lines several frames deep,
//! `step` lands in the handler (a landing pad of the throwing function), and
//! `info breakpoints` / `delete` list and remove the catchpoint; on a small
//! wat module (`try_table` and legacy `try`/`catch`) the stop shows the tag's
//! name and typed payload and `stepi` lands on the handler's first instruction.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn temp_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wdb-catch-throw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `wdb debug --batch -x SCRIPT ARGS...`; returns stdout (it must exit 0).
fn debug_batch(script: &str, args: &[&str]) -> String {
    let cmds = temp_file(&format!("{}.cmds", args[0].replace('/', "_")), script);
    let out = Command::new(env!("CARGO_BIN_EXE_wdb"))
        .args(["debug", "--batch", "-x"])
        .arg(&cmds)
        .args(args)
        .current_dir(root())
        .output()
        .expect("cannot run wdb");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "wdb debug {args:?} exited {}:\n{text}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

/// The text after the first line containing `needle` (panics if none).
fn after<'a>(text: &'a str, needle: &str) -> &'a str {
    let i = text
        .find(needle)
        .unwrap_or_else(|| panic!("missing {needle:?} in:\n{text}"));
    &text[i + needle.len()..]
}

#[test]
fn catch_throw_stops_at_cpp_throws_and_steps_into_the_handler() {
    let script = "catch throw\ninfo breakpoints\nc\nbt\nstep\ninfo breakpoints\nc\nbt\n\
                  delete 1\ninfo breakpoints\nc\n";
    for module in ["samples/ledger-g.wasm", "samples/ledger-exnref-g.wasm"] {
        let text = debug_batch(script, &[module]);
        let t = after(&text, "(wdb) catch throw\nCatchpoint 1 (throw)\n");
        let t = after(t, "1    y    catch      0     exception throw\n");
        // The first throw: line 4's bad amount, from parse_amount.
        let t = after(
            t,
            "Catchpoint 1 (exception thrown): tag 0 (__cpp_exception, a C++ exception of type ParseError), payload (i32:",
        );
        let t = after(
            t,
            "Stopped (catchpoint 1: exception thrown) in _Unwind_RaiseException",
        );
        let t = after(t, "throw 0\n(wdb) bt\n");
        let t = after(t, "in __cxa_throw ()\n");
        let t = after(t, "in parse_amount(char const*, int, int) (text=");
        let t = after(t, "\"4x\", line=4, column=3) at ledger.cpp:73\n");
        let t = after(t, "in apply(");
        let t = after(t, "line=4) at ledger.cpp:111\n");
        let t = after(t, "in apply_counted(");
        let t = after(t, "at ledger.cpp:129\n");
        let t = after(t, "in run(");
        let t = after(t, "at ledger.cpp:142\n");
        // Nothing ran between the throw and the stop: the program printed no
        // "leave parse_amount" yet.
        assert!(
            !text[..text.len() - t.len()].contains("leave parse_amount\n  parse error"),
            "{module}: output after the throw before the stop:\n{text}"
        );
        // `step` from the throw: into parse_amount's landing pad (the Guard's
        // cleanup), at the throwing line.
        let t = after(
            t,
            "(wdb) step\nStopped (step) in parse_amount(char const*, int, int)",
        );
        let t = after(t, ", ledger.cpp:73 [baseline·debug]\n");
        let t = after(t, "1    y    catch      1     exception throw\n");
        // The next throw is apply_counted's `throw;` (a rethrow) of the same
        // exception object.
        let t = after(
            t,
            "Catchpoint 1 (exception thrown): tag 0 (__cpp_exception, a C++ exception of type ParseError), payload (i32:",
        );
        let t = after(
            t,
            "Stopped (catchpoint 1: exception thrown) in _Unwind_RaiseException",
        );
        let t = after(t, "in __cxa_rethrow ()\n");
        let t = after(t, "in apply_counted(");
        let t = after(t, "at ledger.cpp:132\n");
        let t = after(t, "(wdb) delete 1\nDeleted catchpoint 1\n");
        let t = after(t, "(wdb) info breakpoints\nno breakpoints\n");
        // Without the catchpoint the program runs to its end, as natively.
        let t = after(t, "failed lines: 5, ledger errors rethrown: 3\n");
        after(t, "Program exited with code 0");
        assert_eq!(
            text.matches("Stopped (catchpoint").count(),
            2,
            "{module}:\n{text}"
        );
    }
}

const WAT: &str = r#"(module
  (tag $oops (export "oops") (param i32 i64))
  (func $inner (param $n i32) (result i32)
    (if (i32.gt_s (local.get $n) (i32.const 2))
      (then (throw $oops (local.get $n) (i64.const -5))))
    (local.get $n))
  (func $middle (param $n i32) (result i32)
    (call $inner (i32.add (local.get $n) (i32.const 1))))
  (func $main (export "main") (param $n i32) (result i32)
    (block $h (result i32 i64)
      (try_table (catch $oops $h)
        (return (call $middle (local.get $n))))
      unreachable)
    drop
    i32.const 100
    i32.add)
  (func $legacy (export "legacy") (param $n i32) (result i32)
    try (result i32)
      local.get $n
      call $middle
    catch $oops
      drop
      i32.const 200
      i32.add
    end))
"#;

#[test]
fn catch_throw_on_a_wat_module_shows_tag_and_payload_and_stepi_lands_in_the_handler() {
    let wat = temp_file("throws.wat", WAT);
    let wat = wat.to_str().unwrap();
    for (export, handler, result) in [("main", "0x72", "106"), ("legacy", "0x82", "206")] {
        let text = debug_batch(
            "catch throw\nc\nbt\nstepi\nbt\nc\n",
            &[wat, "--invoke", export, "--", "5"],
        );
        let t = after(
            &text,
            "Catchpoint 1 (exception thrown): tag 0 \"oops\", payload (i32:6, i64:-5)\n",
        );
        let t = after(
            t,
            "Stopped (catchpoint 1: exception thrown) in inner (#0) at 0x50 [baseline·debug]\n",
        );
        let t = after(t, "=> 0x000050  throw $oops\n(wdb) bt\n");
        let t = after(t, "#0  0x000050 in inner (#0) [baseline·debug]\n");
        let t = after(t, "#1  0x00005d in middle (#1) [baseline·debug]\n");
        let t = after(t, "#2  0x0000");
        let t = after(t, &format!(" in {export} (#"));
        let t = after(t, &format!("(wdb) stepi\nStopped (step) in {export} (#"));
        let t = after(t, &format!(" at {handler} [baseline·debug]\n"));
        let t = after(t, "  drop\n(wdb) bt\n");
        let t = after(
            t,
            &format!(
                "#0  {:#08x} in {export}",
                u32::from_str_radix(&handler[2..], 16).unwrap()
            ),
        );
        after(t, &format!("Program returned: {result}"));
    }
}
