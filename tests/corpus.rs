//! The corpus of real C programs (benches/corpus: SQLite, zstd, zlib, Lua, each
//! at -O2 and at -O0 -g) run at a small scale in every tier through the engine
//! API, their output compared with the native build's (benches/corpus/expected).
//! A trap names the innermost function with its body size and local count.
//! Every program runs in every tier, the `-O0 -g` builds (megabytes of code
//! in functions of thousands of locals) included; each module is compiled
//! on every core.

use std::path::{Path, PathBuf};
use wdb::wasi::command::{self, CommandSpec, Prepared};
use wdb::wasi::WasiCtx;
use wdb::{Config, Engine, Error, Module, Strategy, TrapCode};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/corpus")
}

/// Manifest rows: (test, module, args, expected file).
fn manifest() -> Vec<[String; 4]> {
    let path = corpus_dir().join("expected/manifest.tsv");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run benches/corpus/build.sh)", path.display()));
    let rows: Vec<[String; 4]> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1) // header
        .map(|l| {
            let cols: Vec<String> = l.split('\t').map(str::to_string).collect();
            cols.try_into().unwrap_or_else(|c: Vec<String>| {
                panic!("manifest line {l:?}: {} columns, want 4", c.len())
            })
        })
        .collect();
    assert!(rows.len() >= 8, "{}: {} rows", path.display(), rows.len());
    rows
}

fn drop_timing(out: &str) -> String {
    out.lines()
        .filter(|l| !l.starts_with("kernel_ms"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Body size in bytes and declared local count of function `func`.
fn func_shape(module: &Module, func: u32) -> Option<(usize, u64)> {
    let info = module.info();
    let body = info.body(func)?;
    let bytes = &info.bytes[body.range.clone()];
    let reader = wasmparser::BinaryReader::new(bytes, body.range.start as u64);
    let locals = wasmparser::FunctionBody::new(reader)
        .get_locals_reader()
        .ok()?
        .into_iter()
        .map(|l| l.map(|(n, _)| u64::from(n)))
        .sum::<Result<u64, _>>()
        .ok()?;
    Some((bytes.len(), locals))
}

/// Runs one manifest row in `strategy`; Err describes what went wrong.
fn run_one(strategy: Strategy, row: &[String; 4]) -> Result<(), String> {
    let [test, module, args, expected] = row;
    let path = corpus_dir().join(module);
    let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Every core compiles: the -O0 modules are megabytes of code.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let engine = Engine::new(Config {
        strategy,
        compile_threads: threads,
        ..Config::default()
    })
    .map_err(|e| e.to_string())?;
    let m = Module::new(&engine, bytes).map_err(|e| format!("{module}: compile: {e}"))?;
    let args: Vec<String> = args.split_whitespace().map(str::to_string).collect();
    let mut ctx = WasiCtx::new();
    ctx.capture_output();
    let spec = CommandSpec {
        name: module,
        invoke: None,
        args: &args,
        dirs: &[],
        env: &[],
    };
    let Prepared {
        mut store,
        func,
        params,
        mut results,
        ..
    } = command::prepare(&engine, &m, ctx, &spec)?;
    let outcome = func.call(&mut store, &params, &mut results);
    let stdout = String::from_utf8_lossy(&store.data_mut().take_stdout()).into_owned();
    let stderr = String::from_utf8_lossy(&store.data_mut().take_stderr()).into_owned();
    match outcome {
        Ok(()) => {}
        Err(Error::Trap(t)) if t.code == TrapCode::Exit && t.exit_code.unwrap_or(0) == 0 => {}
        Err(Error::Trap(t)) => {
            let mut why = format!("{test}: trap: {t}");
            if let Some(f) = t.func.or_else(|| t.backtrace.first().map(|f| f.func_index)) {
                let name = t
                    .backtrace
                    .iter()
                    .find(|b| b.func_index == f)
                    .and_then(|b| b.func_name.clone())
                    .unwrap_or_else(|| format!("func {f}"));
                if let Some((size, locals)) = func_shape(&m, f) {
                    why += &format!(" in {name} (func {f}: {size} body bytes, {locals} locals)");
                }
            }
            let depth = t.backtrace.len();
            why += &format!("; {depth} frames; stderr: {}", stderr.trim());
            return Err(why);
        }
        Err(e) => return Err(format!("{test}: {e}; stderr: {}", stderr.trim())),
    }
    let want_path = corpus_dir().join("expected").join(expected);
    let want =
        std::fs::read_to_string(&want_path).map_err(|e| format!("{}: {e}", want_path.display()))?;
    if drop_timing(&stdout) != drop_timing(&want) {
        return Err(format!(
            "{test}: stdout differs from {expected}:\n--- got\n{stdout}--- want\n{want}stderr: {}",
            stderr.trim()
        ));
    }
    if !stdout.contains("kernel_ms ") {
        return Err(format!("{test}: no kernel_ms line in {stdout:?}"));
    }
    Ok(())
}

/// Every corpus program in one tier; all failures are listed together.
fn run_tier(tier: &str) {
    let strategy = Strategy::parse(tier).expect("tier name");
    let mut failures = Vec::new();
    for row in manifest() {
        // The wasm stack lives on the calling thread: give it what `wdb run`'s
        // main thread has (8 MiB).
        let r = std::thread::Builder::new()
            .name(format!("corpus-{}", row[0]))
            .stack_size(8 << 20)
            .spawn(move || run_one(strategy, &row))
            .expect("spawn")
            .join()
            .unwrap_or_else(|_| Err("panicked".to_string()));
        if let Err(e) = r {
            failures.push(e);
        }
    }
    assert!(
        failures.is_empty(),
        "tier {tier}: {} corpus program(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_baseline() {
    run_tier("baseline");
}

#[test]
fn corpus_debug() {
    run_tier("debug");
}

#[test]
fn corpus_optimized() {
    run_tier("optimized");
}

#[test]
fn corpus_mixed() {
    run_tier("mixed");
}

#[test]
fn corpus_dynamic() {
    run_tier("dynamic");
}
