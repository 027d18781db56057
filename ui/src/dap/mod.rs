//! `wdb dap [--port N]`: a Debug Adapter Protocol server (VS Code, nvim-dap,
//! any DAP client) over standard input/output, or over one TCP connection.
//! Like the TUI, it is a client of the debugger session: `adapter` maps
//! requests to session commands and events, `inspect` answers inspection
//! requests, `data` handles data breakpoints (watchpoints), `types` holds the typed protocol messages, `wire` the framing.
//! When the client goes away (end of input, closed socket, `disconnect`),
//! the program is ended and the adapter exits. With `WDB_DAP_LOG=FILE` the
//! adapter writes every message it reads and sends to FILE.

mod adapter;
mod data;
mod inspect;
mod types;
mod wire;

use adapter::Adapter;
use std::io::{BufReader, Write};
use std::net::TcpListener;
use std::process::ExitCode;
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::Duration;
use wdb::debugger::Command;
use wire::Incoming;

/// How long the loop waits on the client before it looks at the program.
const POLL: Duration = Duration::from_millis(5);

pub fn serve(port: Option<u16>) -> Result<ExitCode, String> {
    match port {
        None => {
            let input = reader(BufReader::new(std::io::stdin()));
            run(input, Box::new(std::io::stdout()))
        }
        Some(p) => {
            let addr = format!("127.0.0.1:{p}");
            let listener =
                TcpListener::bind(&addr).map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            let local = listener
                .local_addr()
                .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
            eprintln!("wdb: listening on {local}");
            let (stream, _) = listener
                .accept()
                .map_err(|e| format!("cannot accept a connection on {local}: {e}"))?;
            let _ = stream.set_nodelay(true);
            let write = stream
                .try_clone()
                .map_err(|e| format!("cannot use the connection: {e}"))?;
            run(reader(BufReader::new(stream)), Box::new(write))
        }
    }
}

/// Reads messages on a thread of its own; the channel closes at the end of input.
fn reader<R: std::io::BufRead + Send + 'static>(mut r: R) -> Receiver<Incoming> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        while let Some(m) = wire::read_message(&mut r) {
            if tx.send(m).is_err() {
                return;
            }
        }
    });
    rx
}

fn run(input: Receiver<Incoming>, out: Box<dyn Write + Send>) -> Result<ExitCode, String> {
    let mut adapter = Adapter::new(out);
    while !adapter.done {
        match input.recv_timeout(POLL) {
            Ok(Incoming::Message(m)) => adapter.request(m),
            Ok(Incoming::Malformed(why)) => adapter.malformed(why),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        while let Some(ev) = adapter
            .link
            .as_mut()
            .and_then(|l| l.next_event(Duration::ZERO))
        {
            adapter.session_event(ev);
        }
    }
    // Whatever ended the conversation, the program ends with it.
    if let Some(link) = adapter.link.take() {
        link.session.send(Command::Quit);
        drop(link);
    }
    Ok(ExitCode::SUCCESS)
}
