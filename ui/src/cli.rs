//! Command-line parsing and the `run`, `wast` and `compile` subcommands
//! (`debug` and `profile` are in `batch`).

use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use wdb::wasi::command::{self, CommandSpec, Prepared};
use wdb::wasi::WasiCtx;
use wdb::{Config, Engine, Error, Module, Strategy, Trap, TrapCode, Val};

/// Exit status for a wasm trap (as Wasmtime does: 128 + SIGABRT).
const TRAP_EXIT: u8 = 134;

#[derive(Parser)]
#[command(name = "wdb", version, about = "WebAssembly runtime and JIT debugger", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a module: a WASI command (`_start`) or one exported function.
    Run(RunArgs),
    /// Run .wast spec scripts and report every assertion.
    Wast(WastArgs),
    /// Compile a module and report compile speed.
    Compile(CompileArgs),
    /// Debug a module: full-screen TUI, or a command script with --batch.
    Debug(DebugArgs),
    /// Run a module with every function optimized and print a profile.
    Profile(ProfileArgs),
    /// Serve the Debug Adapter Protocol (VS Code, nvim-dap) on stdio or a TCP port.
    Dap(DapArgs),
}

#[derive(Args)]
pub struct DapArgs {
    /// Listen on this TCP port (127.0.0.1) instead of speaking on stdio; 0 picks one.
    #[arg(long, value_name = "N")]
    pub port: Option<u16>,
}

#[derive(Args)]
pub struct DebugArgs {
    /// The module (.wasm or .wat; `-` reads it from standard input); without
    /// one, the bundled debugging sample.
    pub file: Option<PathBuf>,
    /// Compile every function before starting, instead of each on its first
    /// call (the default, so that a large module is paused at entry at once).
    #[arg(long)]
    pub eager: bool,
    /// Call this exported function instead of `_start`; ARGS are its arguments.
    #[arg(long, value_name = "NAME")]
    pub invoke: Option<String>,
    /// Start running at full speed (dynamic tiering); attach later with `pause`.
    #[arg(long)]
    pub run: bool,
    /// How code runs before an attach: baseline, optimized or dynamic (the
    /// default). A pause moves the running frame to debug code either way.
    #[arg(long, value_name = "TIER")]
    pub tier: Option<String>,
    /// No TUI: read commands from -x FILE and then standard input, print text.
    #[arg(long)]
    pub batch: bool,
    /// Run the debugger commands in this file first.
    #[arg(short = 'x', value_name = "COMMANDS")]
    pub commands: Option<PathBuf>,
    /// Serve LLDB's gdb-remote protocol on [HOST:]PORT (127.0.0.1; port 0 picks one).
    #[arg(long, value_name = "[HOST:]PORT")]
    pub gdbserver: Option<String>,
    /// Preopen a host directory for WASI, optionally under another guest path.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    pub dirs: Vec<String>,
    /// Set a WASI environment variable.
    #[arg(long = "env", value_name = "K=V")]
    pub envs: Vec<String>,
    /// Program arguments (WASI) or function arguments (--invoke).
    #[arg(last = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
}

#[derive(Args)]
struct ProfileArgs {
    file: PathBuf,
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Also write the samples to FILE in speedscope's format (flame graphs
    /// by wasm function and source line; open it at speedscope.app).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[arg(last = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Args)]
struct RunArgs {
    /// The module (.wasm binary or .wat text); `-` reads it from standard
    /// input, compiling functions as their bytes arrive.
    file: PathBuf,
    /// Compile each function on its first call instead of all before running
    /// (every body is still validated first).
    #[arg(long)]
    lazy: bool,
    /// Benchmarks: read the whole module before compiling (no streaming).
    #[arg(long, hide = true)]
    no_streaming: bool,
    /// Benchmarks: print to stderr when the entry function is called (Unix
    /// time) and, with --lazy, after the run, the compile time it took then.
    #[arg(long, hide = true)]
    startup_time: bool,
    /// Call this exported function instead of `_start`; ARGS are its arguments.
    #[arg(long, value_name = "NAME")]
    invoke: Option<String>,
    /// Which code to run (dynamic: baseline first, hot functions move to
    /// optimized code on a background thread).
    #[arg(long, default_value = "dynamic", value_name = "TIER")]
    tier: String,
    /// Print one line per tier change (function, from -> to, compile time, when).
    #[arg(long)]
    trace_tiering: bool,
    /// Tier-up budget per function, in wasm code bytes executed (dynamic tier).
    #[arg(long, value_name = "N")]
    tiering_budget: Option<i32>,
    /// Write /tmp/perf-PID.map naming every function's machine code, of every
    /// tier, for Linux `perf report`.
    #[arg(long)]
    perf_map: bool,
    /// Preopen a host directory for WASI, optionally under another guest path.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,
    /// Set a WASI environment variable.
    #[arg(long = "env", value_name = "K=V")]
    envs: Vec<String>,
    /// Program arguments (WASI) or function arguments (--invoke).
    #[arg(last = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Args)]
struct WastArgs {
    /// Which code to run the scripts in.
    #[arg(long, default_value = "baseline", value_name = "TIER")]
    tier: String,
    /// The feature set scripts are validated with: 3.0 (everything, the
    /// default), 2.0, or a proposal's name (memory64, multi-memory,
    /// tail-call, extended-const, exceptions, simd, relaxed-simd): Wasm 2.0
    /// plus that proposal, for the spec suite's copy of the proposal.
    #[arg(long, default_value = "3.0", value_name = "SET")]
    features: String,
    /// .wast scripts.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Args)]
struct CompileArgs {
    /// The module; `-` reads it from standard input (compiled as it streams in).
    file: PathBuf,
    /// Validate only: functions would be compiled on their first call.
    #[arg(long)]
    lazy: bool,
    #[arg(long, default_value = "baseline", value_name = "TIER")]
    tier: String,
    /// Compiler threads (1 = single-threaded).
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

pub fn dispatch(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Run(a) => run(a),
        Command::Wast(a) => wast(a),
        Command::Compile(a) => compile(a),
        Command::Debug(a) => match a.gdbserver.clone() {
            Some(spec) => crate::gdbremote::serve(a, &spec),
            None => crate::batch::debug(a),
        },
        Command::Dap(a) => crate::dap::serve(a.port),
        Command::Profile(a) => crate::batch::profile(a.file, a.invoke, a.args, a.out),
    }
}

/// LLDB's wasm platform launches `RUNTIME PORT-ARG+PORT [RUNTIME-ARGS] FILE
/// [ARGS]`; with `runtime-path` = wdb and `port-arg` = `--gdbserver=` that is
/// `wdb --gdbserver=PORT [OPTIONS] FILE [ARGS]`, which this rewrites to
/// `wdb debug --gdbserver PORT [OPTIONS] FILE -- [ARGS]`. Other command lines
/// pass unchanged.
pub fn platform_form(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let Some(port) = args
        .get(1)
        .and_then(|a| a.to_str())
        .and_then(|a| a.strip_prefix("--gdbserver="))
    else {
        return args;
    };
    let mut out: Vec<std::ffi::OsString> = vec![
        args[0].clone(),
        "debug".into(),
        "--gdbserver".into(),
        port.into(),
    ];
    let mut rest = args[2..].iter();
    // Options of `wdb debug` up to the module; these take a separate value.
    while let Some(a) = rest.next() {
        let s = a.to_string_lossy();
        out.push(a.clone());
        if !s.starts_with("--") {
            out.push("--".into());
            break;
        }
        if matches!(s.as_ref(), "--dir" | "--env" | "--invoke") {
            if let Some(v) = rest.next() {
                out.push(v.clone());
            }
        }
    }
    out.extend(rest.cloned());
    out
}

/// Splits `--dir HOST[::GUEST]` values; both parts must be non-empty.
pub fn parse_dirs(dirs: &[String]) -> Result<Vec<(PathBuf, String)>, String> {
    dirs.iter()
        .map(|d| {
            let (host, guest) = d.split_once("::").unwrap_or((d, d));
            if host.is_empty() || guest.is_empty() {
                return Err(format!(
                    "--dir expects HOST or HOST::GUEST (both non-empty), got `{d}`"
                ));
            }
            Ok((PathBuf::from(host), guest.to_string()))
        })
        .collect()
}

/// Splits `--env K=V` values; the name K must be non-empty.
pub fn parse_envs(envs: &[String]) -> Result<Vec<(String, String)>, String> {
    envs.iter()
        .map(|kv| match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            Some(_) => Err(format!(
                "--env expects K=V with a non-empty name K, got `{kv}`"
            )),
            None => Err(format!("--env expects K=V, got `{kv}`")),
        })
        .collect()
}

/// The largest module or script file `wdb` reads.
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

/// Reads a module (or script) file: a regular file or a pipe, not empty, at
/// most [`MAX_INPUT_BYTES`]. Devices and directories are refused before
/// reading (`/dev/zero` would be read forever).
pub fn read_input(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    if is_stdin(path) {
        let mut bytes = Vec::new();
        InputReader::new(std::io::stdin().lock())
            .read_to_end(&mut bytes)
            .map_err(|e| format!("{STDIN_NAME}: {e}"))?;
        if bytes.is_empty() {
            return Err(empty_input(STDIN_NAME));
        }
        return Ok(bytes);
    }
    let file = open_input(path)?;
    let shown = path.display();
    // Sized from the file's length (`take` hides it from `read_to_end`, which
    // would otherwise grow the buffer by doubling: a copy of everything read
    // so far at each step, several for a module of tens of megabytes).
    let size = file.metadata().map_or(0, |m| m.len()).min(MAX_INPUT_BYTES) as usize;
    let mut bytes = Vec::with_capacity(size + 1);
    file.take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {shown}: {e}"))?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large(
            &shown.to_string(),
            &format!("more than {MAX_INPUT_BYTES}"),
        ));
    }
    if bytes.is_empty() {
        return Err(empty_input(&shown.to_string()));
    }
    Ok(bytes)
}

/// The name `-` (standard input) is shown by.
pub const STDIN_NAME: &str = "<stdin>";

/// Whether a FILE argument names standard input.
pub fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// How a FILE argument is shown in messages.
pub fn input_name(path: &Path) -> String {
    if is_stdin(path) {
        STDIN_NAME.to_string()
    } else {
        path.display().to_string()
    }
}

fn too_large(shown: &str, n: &str) -> String {
    format!("{shown}: too large ({n} bytes; wdb reads inputs of at most {MAX_INPUT_BYTES} bytes)")
}

fn empty_input(shown: &str) -> String {
    format!("{shown}: empty file, not a module (a binary module starts with \\0asm)")
}

/// Opens a module (or script) file after checking that it is a regular file
/// or a pipe of at most [`MAX_INPUT_BYTES`] (devices and directories are
/// refused before reading: `/dev/zero` would be read forever).
fn open_input(path: &Path) -> Result<std::fs::File, String> {
    use std::os::unix::fs::FileTypeExt;
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let ft = meta.file_type();
    if !ft.is_file() && !ft.is_fifo() {
        let what = if ft.is_dir() {
            "a directory"
        } else if ft.is_char_device() {
            "a character device"
        } else if ft.is_block_device() {
            "a block device"
        } else if ft.is_socket() {
            "a socket"
        } else {
            "a special file"
        };
        return Err(format!(
            "{shown}: not a regular file ({what}); wdb reads modules from files and pipes"
        ));
    }
    if ft.is_file() && meta.len() > MAX_INPUT_BYTES {
        return Err(too_large(&shown.to_string(), &meta.len().to_string()));
    }
    if ft.is_file() && meta.len() == 0 {
        return Err(empty_input(&shown.to_string()));
    }
    std::fs::File::open(path).map_err(|e| format!("cannot read {shown}: {e}"))
}

/// A module source that counts what it reads and fails past
/// [`MAX_INPUT_BYTES`].
struct InputReader<R> {
    inner: R,
    read: u64,
}

impl<R: std::io::Read> InputReader<R> {
    fn new(inner: R) -> Self {
        InputReader { inner, read: 0 }
    }
}

impl<R: std::io::Read> std::io::Read for InputReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > MAX_INPUT_BYTES {
            return Err(std::io::Error::other(format!(
                "too large (more than {MAX_INPUT_BYTES} bytes; wdb reads inputs of at most \
                 {MAX_INPUT_BYTES} bytes)"
            )));
        }
        Ok(n)
    }
}

/// Reads, validates and compiles a module from FILE (`-`: standard input),
/// streaming: functions are compiled as their bytes arrive.
fn load_streaming(engine: &Engine, file: &Path) -> Result<Module, String> {
    let name = input_name(file);
    let (module, read) = if is_stdin(file) {
        let mut r = InputReader::new(std::io::stdin().lock());
        (Module::from_reader(engine, &mut r), r.read)
    } else {
        let mut r = InputReader::new(open_input(file)?);
        (Module::from_reader(engine, &mut r), r.read)
    };
    match module {
        Err(_) if read == 0 => Err(empty_input(&name)),
        m => m.map_err(|e| format!("{name}: {e}")),
    }
}

pub(crate) fn strategy(tier: &str) -> Result<Strategy, String> {
    Strategy::parse(tier).ok_or_else(|| {
        format!(
            "unknown tier `{tier}` (available: {})",
            Strategy::NAMES.join(", ")
        )
    })
}

fn engine_with(config: Config) -> Result<Engine, String> {
    Engine::new(config).map_err(|e| e.to_string())
}

/// Prints tier changes to stderr as they happen.
fn trace_tiering(engine: &Engine) {
    let rx = engine.subscribe_tiering();
    std::thread::spawn(move || {
        for ev in rx {
            let name = ev
                .func_name
                .clone()
                .unwrap_or_else(|| format!("func {}", ev.func_index));
            if let Some(note) = &ev.note {
                eprintln!(
                    "[tier {:>9.3} ms] {name} (func {}): {note}",
                    ev.at.as_secs_f64() * 1000.0,
                    ev.func_index
                );
                continue;
            }
            eprintln!(
                "[tier {:>9.3} ms] {name} (func {}): {} -> {} ({:.2} ms compile)",
                ev.at.as_secs_f64() * 1000.0,
                ev.func_index,
                ev.from.name(),
                ev.to.name(),
                ev.compile_time.as_secs_f64() * 1000.0
            );
        }
    });
}

// ---- run --------------------------------------------------------------------------

fn run(a: RunArgs) -> Result<ExitCode, String> {
    let mut config = Config {
        strategy: strategy(&a.tier)?,
        lazy: a.lazy,
        ..Config::default()
    };
    if let Some(b) = a.tiering_budget {
        if b <= 0 {
            return Err(format!("--tiering-budget must be positive, got {b}"));
        }
        config.tiering_budget = b;
    }
    let engine = engine_with(config)?;
    if a.trace_tiering {
        trace_tiering(&engine);
    }
    if a.perf_map {
        // On before the module compiles, so its first code is in the map too.
        wdb::profile::perf_map::enable().map_err(|e| e.to_string())?;
    }
    let module = if a.no_streaming {
        let bytes = read_input(&a.file)?;
        Module::new(&engine, bytes).map_err(|e| format!("{}: {e}", input_name(&a.file)))?
    } else {
        load_streaming(&engine, &a.file)?
    };
    if a.perf_map {
        let info = module.info();
        let names = info.func_names.clone();
        let exports: std::collections::HashMap<u32, String> = info
            .exports
            .iter()
            .filter(|e| matches!(e.kind, wdb::ExportKind::Func))
            .map(|e| (e.index, e.name.clone()))
            .collect();
        wdb::profile::perf_map::register_names(
            info.id,
            std::sync::Arc::new(move |f: u32| {
                names
                    .get(&f)
                    .or_else(|| exports.get(&f))
                    .cloned()
                    .unwrap_or_default()
            }),
        );
    }
    let name = input_name(&a.file);
    let spec = CommandSpec {
        name: &name,
        invoke: a.invoke.as_deref(),
        args: &a.args,
        dirs: &parse_dirs(&a.dirs)?,
        env: &parse_envs(&a.envs)?,
    };
    let Prepared {
        mut store,
        func,
        params,
        mut results,
        ..
    } = command::prepare(&engine, &module, WasiCtx::new(), &spec)?;
    if a.startup_time {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        eprintln!("wdb: startup: entry called at {:.6}", now.as_secs_f64());
    }
    let outcome = func.call(&mut store, &params, &mut results);
    if a.startup_time && a.lazy {
        let entry = a.invoke.as_deref().unwrap_or("_start");
        let info = module.info();
        if let Some(e) = info.exports.iter().find(|e| e.name == entry) {
            let ms = |t: Option<std::time::Duration>| t.map_or(0.0, |t| t.as_secs_f64() * 1e3);
            let times = module.compile_times(e.index);
            let tier = module.func_tier(e.index) as usize;
            eprintln!("wdb: startup: entry compile {:.3} ms", ms(times[tier]));
        }
    }
    match outcome {
        Ok(()) => {
            for r in &results {
                println!("{}", show(r));
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(Error::Trap(t)) if t.code == TrapCode::Exit => {
            Ok(ExitCode::from(t.exit_code.unwrap_or(0) as u8))
        }
        Err(Error::Trap(t)) => {
            report_trap(&name, &t);
            Ok(ExitCode::from(TRAP_EXIT))
        }
        Err(e) => Err(e.to_string()),
    }
}

fn report_trap(name: &str, t: &Trap) {
    eprintln!("wdb: {name}: {t}");
    for f in &t.backtrace {
        eprintln!("    at {f}");
    }
    if t.frames_omitted > 0 {
        eprintln!("    ... {} more frames", t.frames_omitted);
    }
}

fn show(v: &Val) -> String {
    v.to_string()
}

// ---- wast ---------------------------------------------------------------------------

fn wast(a: WastArgs) -> Result<ExitCode, String> {
    let strategy = strategy(&a.tier)?;
    let features = wdb::wast::features_named(&a.features).ok_or_else(|| {
        format!(
            "unknown feature set '{}' (known: {})",
            a.features,
            wdb::wast::FEATURE_SET_NAMES
        )
    })?;
    let (mut passed, mut failed) = (0, 0);
    for file in &a.files {
        let text = String::from_utf8(read_input(file)?)
            .map_err(|e| format!("{}: not UTF-8 text: {e}", file.display()))?;
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let mut config = wdb::wast::config_for(strategy);
        config.features = features;
        match wdb::wast::run_wast(&name, &text, config) {
            Ok(r) => {
                println!(
                    "{}: {} passed, {} failed",
                    file.display(),
                    r.passed,
                    r.failed
                );
                for f in &r.failures {
                    println!("    {f}");
                }
                passed += r.passed;
                failed += r.failed;
            }
            Err(e) => {
                println!("{}: 0 passed, 1 failed", file.display());
                println!("    {e}");
                failed += 1;
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

// ---- compile ------------------------------------------------------------------------

fn compile(a: CompileArgs) -> Result<ExitCode, String> {
    let engine = engine_with(Config {
        strategy: strategy(&a.tier)?,
        compile_threads: a.threads.max(1),
        lazy: a.lazy,
        ..Config::default()
    })?;
    let name = input_name(&a.file);
    let start = Instant::now();
    let module = if is_stdin(&a.file) {
        // Timed from the first byte's request: reading overlaps compiling.
        load_streaming(&engine, &a.file)?
    } else {
        let bytes = read_input(&a.file)?;
        let bytes = wdb::wasm_bytes(&bytes).map_err(|e| format!("{name}: {e}"))?;
        let start_compile = Instant::now();
        let m = Module::from_binary(&engine, bytes).map_err(|e| format!("{name}: {e}"))?;
        return report_compile(&m, start_compile);
    };
    report_compile(&module, start)
}

/// Prints `compile`'s one line for a module compiled since `start`.
fn report_compile(module: &Module, start: Instant) -> Result<ExitCode, String> {
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let info = module.info();
    let code = info.code_section_size;
    let mbps = if ms > 0.0 {
        code as f64 / 1e6 / (ms / 1000.0)
    } else {
        0.0
    };
    println!(
        "functions: {}, code: {} bytes, time: {:.2} ms, throughput: {:.1} MB/s",
        info.num_defined_funcs(),
        code,
        ms,
        mbps
    );
    Ok(ExitCode::SUCCESS)
}
