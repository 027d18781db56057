//! `wdb debug --gdbserver [HOST:]PORT FILE`: a gdb-remote server for LLDB's
//! WebAssembly process plugin (`process connect --plugin wasm
//! connect://HOST:PORT`) and its `wasm` platform (which launches
//! `wdb --gdbserver=PORT FILE ARGS`, see `cli::platform_form`).
//!
//! The packets are the ones LLDB 22's `ProcessWasm`, `ThreadWasm`,
//! `UnwindWasm` and `DynamicLoaderWasmDYLD` send: the usual gdb-remote set
//! (`qSupported`, `qHostInfo`, `qProcessInfo`, `?`, `p`/`g`, `m`/`x`/`M`,
//! `Z0`/`z0`, `vCont`, `D`, `k`, `\x03`), `qXfer:libraries:read` for the
//! module, and the wasm extensions `qWasmCallStack`, `qWasmLocal`,
//! `qWasmGlobal` and `qWasmStackValue`. Addresses use LLDB's 64-bit wasm
//! encoding (`addr`). The server is a client of the debugger session like the
//! TUI: the program waits paused at its entry until the client resumes it.
//! Trap stops are on: an instruction about to trap stops the program with
//! the signal a native program would get (SIGSEGV, SIGFPE, SIGILL).

mod addr;
pub mod packet;
mod server;

use crate::cli::DebugArgs;
use crate::link::Link;
use packet::{Decoder, Input};
use server::{After, Server};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::Duration;
use wdb::debugger::{Command, Event, Outcome, Session};

/// How often the loop looks at the other side while waiting on one.
const POLL: Duration = Duration::from_millis(10);

/// `PORT`, `:PORT` or `HOST:PORT` (127.0.0.1 unless a host is given).
pub fn listen_address(spec: &str) -> Result<String, String> {
    let (host, port) = match spec.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() => (h.to_string(), p),
        Some((_, p)) => ("127.0.0.1".to_string(), p),
        None => ("127.0.0.1".to_string(), spec),
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("--gdbserver expects [HOST:]PORT, got `{spec}`"))?;
    Ok(format!("{host}:{port}"))
}

pub fn serve(a: DebugArgs, spec: &str) -> Result<ExitCode, String> {
    let addr = listen_address(spec)?;
    let file = a
        .file
        .clone()
        .ok_or("--gdbserver needs the module to debug: wdb debug --gdbserver PORT FILE")?;
    if a.run || a.batch || a.commands.is_some() {
        return Err(
            "--gdbserver takes no --run, --batch or -x: the client drives the program".into(),
        );
    }
    let cfg = crate::batch::session_config(&a)?;
    let session = Session::start(cfg).map_err(|e| e.to_string())?;
    let listener = TcpListener::bind(&addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener
        .local_addr()
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    eprintln!("wdb: listening on {local}");
    let (stream, peer) = listener
        .accept()
        .map_err(|e| format!("cannot accept a connection on {local}: {e}"))?;
    drop(listener);
    eprintln!("wdb: client connected from {peer}");
    let path = std::fs::canonicalize(&file)
        .unwrap_or(file)
        .display()
        .to_string();
    let link = Link::new(session);
    // Trap stops (a signal stop before the trapping instruction runs, as a
    // native program stops at a fatal signal) check every instruction that
    // can trap, which makes the program far slower: they are off until the
    // client asks (`process plugin packet monitor traps on`).
    run(link, stream, path)
}

/// Reads client bytes on a thread of its own (so that `\x03` arrives while
/// the main loop waits for the program); the channel closes on disconnect.
fn reader(mut stream: TcpStream) -> Receiver<Input> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut decoder = Decoder::default();
        let mut buf = [0u8; 8192];
        loop {
            let n = match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let mut units = Vec::new();
            decoder.feed(&buf[..n], &mut units);
            for u in units {
                if tx.send(u).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

fn run(link: Link, stream: TcpStream, path: String) -> Result<ExitCode, String> {
    let _ = stream.set_nodelay(true);
    let input = reader(
        stream
            .try_clone()
            .map_err(|e| format!("cannot use the connection: {e}"))?,
    );
    let mut server = Server::new(link, stream, path);
    let after = loop {
        // While the program runs, wait on it (checking for an interrupt);
        // while it is stopped, wait on the client.
        if server.is_running() {
            if let Some(ev) = server.link.next_event(POLL) {
                server.event(ev);
            }
            match input.try_recv() {
                Ok(u) => match server.input(u) {
                    After::Continue => {}
                    a => break a,
                },
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
                Err(std::sync::mpsc::TryRecvError::Disconnected) => break After::Close,
            }
        } else {
            match input.recv_timeout(POLL) {
                Ok(u) => match server.input(u) {
                    After::Continue => {}
                    a => break a,
                },
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break After::Close,
            }
            while let Some(ev) = server.link.next_event(Duration::ZERO) {
                server.event(ev);
            }
        }
    };
    let mut link = server.link;
    match after {
        After::Detached => {
            eprintln!("wdb: client detached; the program runs on");
            Ok(wait_for_end(&mut link))
        }
        _ => {
            link.session.send(Command::Quit);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// After `D`: print the program's output until it ends; its exit code.
fn wait_for_end(link: &mut Link) -> ExitCode {
    use std::io::Write;
    if let Some(o) = &link.outcome {
        return exit_code(o);
    }
    loop {
        match link.next_event(Duration::from_millis(100)) {
            Some(Event::Output { data, .. }) => {
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(&data);
                let _ = o.flush();
            }
            Some(Event::Ended { outcome, .. }) => {
                if let Outcome::Trapped(m) = &outcome {
                    eprintln!("wdb: {m}");
                }
                return exit_code(&outcome);
            }
            Some(Event::Closed) => return ExitCode::SUCCESS,
            _ => {}
        }
    }
}

fn exit_code(o: &Outcome) -> ExitCode {
    match o {
        Outcome::Exited(c) => ExitCode::from(*c as u8),
        Outcome::Trapped(_) => ExitCode::from(134),
        Outcome::Returned(_) | Outcome::Killed => ExitCode::SUCCESS,
    }
}
