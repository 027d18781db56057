//! `wdb debug` and `wdb profile`: start a debugger session, then either hand
//! it to the TUI or drive it from a command script (`--batch`, `-x FILE`,
//! standard input), printing the console's stable text.

use crate::cli::{input_name, parse_dirs, parse_envs, read_input, DebugArgs};
use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};
use wdb::debugger::console::{Console, Wait};
use wdb::debugger::{Command, DebugMode, Event, Outcome, Session, SessionConfig};

/// The bundled debugging sample (`wdb debug` with no file).
const SAMPLE_WASM: &[u8] = include_bytes!("../../samples/debugme-g.wasm");
const SAMPLE_SOURCE: &str = include_str!("../../samples/c/debugme.c");
/// Iterations of the sample's simulation: a few seconds in debug code.
const SAMPLE_ARGS: &[&str] = &["2000000"];

pub(crate) fn session_config(a: &DebugArgs) -> Result<SessionConfig, String> {
    let mut cfg = SessionConfig {
        invoke: a.invoke.clone(),
        args: a.args.clone(),
        dirs: parse_dirs(&a.dirs)?,
        env: parse_envs(&a.envs)?,
        run: a.run,
        strategy: a.tier.as_deref().map(crate::cli::strategy).transpose()?,
        eager: a.eager,
        ..SessionConfig::default()
    };
    match &a.file {
        Some(f) => {
            cfg.name = input_name(f);
            cfg.wasm = read_input(f)?;
        }
        None => {
            cfg.name = "debugme.wasm (bundled sample)".into();
            cfg.wasm = SAMPLE_WASM.to_vec();
            cfg.sources = vec![("debugme.c".into(), SAMPLE_SOURCE.into())];
            if cfg.args.is_empty() && cfg.invoke.is_none() {
                cfg.args = SAMPLE_ARGS.iter().map(|s| s.to_string()).collect();
            }
        }
    }
    Ok(cfg)
}

pub fn debug(a: DebugArgs) -> Result<ExitCode, String> {
    let cfg = session_config(&a)?;
    if !a.batch && a.commands.is_some() {
        return Err("-x COMMANDS needs --batch (the TUI takes commands on its `:` line)".into());
    }
    let session = Session::start(cfg).map_err(|e| e.to_string())?;
    if !a.batch {
        return crate::tui::run(session).map(ExitCode::from);
    }
    let mut console = Console::new();
    let mut out = Printer::default();
    if !a.run {
        out.wait(&session, &mut console, Wait::Stop);
    }
    let script: Option<Lines> = match &a.commands {
        Some(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            // A script is read as it is executed (a pipe or even a device works).
            Some(Lines::new(
                Box::new(std::io::BufReader::new(file)),
                path.display().to_string(),
            ))
        }
        None => None,
    };
    let stdin = Lines::new(Box::new(std::io::stdin().lock()), "standard input".into());
    let mut closed = false;
    for line in script.into_iter().flatten().chain(stdin) {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                out.line(&format!("error: {e}"));
                continue;
            }
        };
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        out.line(&format!("(wdb) {trimmed}"));
        let (text, wait) = console.execute(&session, trimmed);
        for l in text {
            out.line(&l);
        }
        if out.wait(&session, &mut console, wait) {
            closed = true;
            break;
        }
    }
    if !closed {
        session.send(Command::Quit);
        out.wait(&session, &mut console, Wait::Closed);
    }
    Ok(ExitCode::SUCCESS)
}

/// The longest console line.
const MAX_LINE: usize = 1 << 16;

/// Console lines from a script or standard input. A line that is not UTF-8
/// is an error item (the session goes on); a read error ends the input.
struct Lines {
    source: Box<dyn BufRead>,
    name: String,
    number: usize,
    done: bool,
}

impl Lines {
    fn new(source: Box<dyn BufRead>, name: String) -> Lines {
        Lines {
            source,
            name,
            number: 0,
            done: false,
        }
    }
}

impl Iterator for Lines {
    type Item = Result<String, String>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut buf = Vec::new();
        match (&mut self.source)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut buf)
        {
            Ok(0) => {
                self.done = true;
                None
            }
            Ok(n) if n == MAX_LINE && buf.last() != Some(&b'\n') => {
                self.done = true;
                Some(Err(format!(
                    "line {} of {} is longer than {MAX_LINE} bytes; the rest is not read",
                    self.number + 1,
                    self.name
                )))
            }
            Ok(_) => {
                self.number += 1;
                Some(String::from_utf8(buf).map_err(|_| {
                    format!(
                        "line {} of {} is not valid UTF-8 (skipped)",
                        self.number, self.name
                    )
                }))
            }
            Err(e) => {
                self.done = true;
                Some(Err(format!("cannot read {}: {e}", self.name)))
            }
        }
    }
}

/// Prints console text and program output in arrival order.
#[derive(Default)]
struct Printer {
    /// The last program output did not end with a newline.
    open_line: bool,
}

impl Printer {
    fn line(&mut self, s: &str) {
        let mut o = std::io::stdout().lock();
        if self.open_line {
            let _ = writeln!(o);
            self.open_line = false;
        }
        let _ = writeln!(o, "{s}");
        let _ = o.flush();
    }

    fn output(&mut self, data: &[u8]) {
        let mut o = std::io::stdout().lock();
        let _ = o.write_all(data);
        let _ = o.flush();
        if let Some(&last) = data.last() {
            self.open_line = last != b'\n';
        }
    }

    /// Shows events until `wait` is satisfied; true when the session closed.
    fn wait(&mut self, session: &Session, console: &mut Console, mut wait: Wait) -> bool {
        let start = Instant::now();
        let limit = match wait {
            Wait::Nothing => Duration::from_millis(30),
            Wait::Stop => Duration::MAX,
            Wait::Answer | Wait::Profile => Duration::from_secs(30),
            Wait::ModeChange => Duration::from_secs(600),
            Wait::Closed => Duration::from_secs(10),
            Wait::Sleep(ms) => Duration::from_millis(ms),
        };
        let mut answered = false;
        loop {
            let left = limit.saturating_sub(start.elapsed());
            if left.is_zero() {
                if matches!(wait, Wait::Answer | Wait::Profile | Wait::ModeChange) && !answered {
                    self.line("error: no answer from the program");
                }
                return false;
            }
            let Some(ev) = session.recv_timeout(left.min(Duration::from_millis(50))) else {
                if answered || wait == Wait::Nothing {
                    return false;
                }
                continue;
            };
            match &ev {
                Event::Output { data, .. } => {
                    self.output(data);
                    continue;
                }
                Event::TierProgress { .. } => continue,
                Event::Paused(_) if answered => {
                    // The refreshed pause after `set`: remember it quietly.
                    console.render_event(session, &ev);
                    continue;
                }
                _ => {}
            }
            for l in console.render_event(session, &ev) {
                self.line(&l);
            }
            let done = match (&ev, wait) {
                (Event::Closed, _) => return true,
                // The `display` list is shown after the stop.
                (Event::Paused(_), Wait::Stop) if console.take_displays_due() => {
                    wait = Wait::Answer;
                    false
                }
                (Event::Paused(_), Wait::Stop) => true,
                (Event::Ended { outcome, .. }, Wait::Stop) => *outcome != Outcome::Killed,
                (Event::Memory { .. } | Event::Message(_) | Event::Error(_), Wait::Answer) => {
                    answered = true;
                    false
                }
                (Event::ModeChanged { mode, .. }, Wait::ModeChange) => *mode == DebugMode::Profile,
                (Event::Error(_), Wait::ModeChange | Wait::Profile) => true,
                (Event::Profile(_), Wait::Profile) => true,
                _ => false,
            };
            if done {
                return false;
            }
        }
    }
}

/// `wdb profile FILE`: run with every function tiered up and sampled, then
/// print the profile (to stderr; the program's output goes to stdout).
pub fn profile(
    file: PathBuf,
    invoke: Option<String>,
    args: Vec<String>,
    out: Option<PathBuf>,
) -> Result<ExitCode, String> {
    let wasm = read_input(&file)?;
    // Fail before running when the profile could not be written.
    if let Some(o) = &out {
        std::fs::write(o, b"").map_err(|e| format!("cannot write {}: {e}", o.display()))?;
    }
    if let Err(e) = wdb::profile::perf_map::enable() {
        eprintln!("wdb: no perf map: {e}");
    }
    let session = Session::start(SessionConfig {
        name: file.display().to_string(),
        wasm,
        invoke,
        args,
        run: true,
        // Profile mode optimizes everything at once anyway.
        eager: true,
        ..SessionConfig::default()
    })
    .map_err(|e| e.to_string())?;
    session.send(Command::ProfileOn);
    let mut console = Console::new();
    let mut code = 0u8;
    let mut stdout = std::io::stdout();
    loop {
        let Some(ev) = session.recv_timeout(Duration::from_millis(100)) else {
            continue;
        };
        match &ev {
            Event::Output { data, .. } => {
                let _ = stdout.write_all(data);
                let _ = stdout.flush();
            }
            Event::Ended { outcome, .. } => {
                match outcome {
                    Outcome::Exited(c) => code = *c as u8,
                    Outcome::Returned(v) => {
                        for r in v {
                            let _ = writeln!(stdout, "{r}");
                        }
                    }
                    Outcome::Trapped(m) => {
                        eprintln!("wdb: {m}");
                        code = 134;
                    }
                    Outcome::Killed => code = 1,
                }
                break;
            }
            Event::ModeChanged { .. } | Event::Error(_) => {
                for l in console.render_event(&session, &ev) {
                    eprintln!("{l}");
                }
            }
            _ => {}
        }
    }
    session.send(Command::ProfileReport);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(ev @ Event::Profile(_)) = session.recv_timeout(Duration::from_millis(100)) {
            for l in console.render_event(&session, &ev) {
                eprintln!("{l}");
            }
            if let (Some(o), Event::Profile(r)) = (&out, &ev) {
                write_speedscope(&session, r, &file, o)?;
                eprintln!("profile written to {} (speedscope format)", o.display());
            }
            break;
        }
    }
    eprintln!("perf map: {}", wdb::profile::perf_map::path().display());
    Ok(ExitCode::from(code))
}

/// Milliseconds of CPU time one sample stands for (the session samples at 1 kHz).
const SAMPLE_MS: f64 = 1.0;

/// Writes `report`'s stacks to `out` in speedscope's format, with function
/// names and (with DWARF) source lines.
fn write_speedscope(
    session: &Session,
    report: &wdb::debugger::ProfileReport,
    file: &std::path::Path,
    out: &std::path::Path,
) -> Result<(), String> {
    use wdb::profile::export::{speedscope, FrameSource, Names};
    let own = session.module().info().id;
    let function = |m: u64, f: u32| {
        if m == own {
            session.func_name(f)
        } else {
            format!("wasm[{m}]::func[{f}]")
        }
    };
    let source = |m: u64, off: u32| {
        (m == own)
            .then(|| session.source_pos(off))
            .flatten()
            .map(|p| FrameSource {
                file: p.file,
                line: p.line,
                column: p.column,
            })
    };
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = speedscope(
        &report.detail,
        &name,
        SAMPLE_MS,
        &Names {
            function: &function,
            source: &source,
        },
    );
    std::fs::write(out, text).map_err(|e| format!("cannot write {}: {e}", out.display()))
}
