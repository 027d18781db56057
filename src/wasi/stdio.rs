//! Standard streams of a WASI program: stdout and stderr go to the process
//! (written through and flushed at every `fd_write`, so nothing is lost on a
//! trap or an exit) or into in-memory buffers; stdin comes from the process
//! or from a buffer.
//!
//! `poll_oneoff` on the process's stdin needs to wait for input with a
//! timeout; safe Rust has no `poll(2)`, so the first such poll starts a
//! thread that reads stdin into a shared queue ([`StdinPump`]), and from then
//! on every stdin read takes from that queue.

use super::errno::{self, Errno};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

/// Where stdout or stderr goes.
pub enum Output {
    /// The process's own stream (write-through).
    Inherit(Stream),
    /// An in-memory buffer (`WasiCtx::capture_output`).
    Capture(Vec<u8>),
    /// A callback (`WasiCtx::output_to`): the debugger streams output as events.
    Sink(Stream, OutputSink),
}

/// Receives what the program writes, as it writes it.
pub type OutputSink = std::sync::Arc<dyn Fn(Stream, &[u8]) + Send + Sync>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Output {
    /// Writes `parts` in order, then flushes (write-through).
    pub fn write(&mut self, parts: &[&[u8]]) -> Result<(), Errno> {
        fn all(mut out: impl Write, parts: &[&[u8]]) -> std::io::Result<()> {
            for p in parts {
                out.write_all(p)?;
            }
            out.flush()
        }
        match self {
            Output::Capture(buf) => {
                parts.iter().for_each(|p| buf.extend_from_slice(p));
                Ok(())
            }
            Output::Sink(stream, sink) => {
                let joined: Vec<u8> = parts.concat();
                sink(*stream, &joined);
                Ok(())
            }
            Output::Inherit(Stream::Stdout) => {
                all(std::io::stdout().lock(), parts).map_err(|e| errno::from_io(&e))
            }
            Output::Inherit(Stream::Stderr) => {
                all(std::io::stderr().lock(), parts).map_err(|e| errno::from_io(&e))
            }
        }
    }

    pub fn flush(&mut self) {
        match self {
            Output::Capture(_) | Output::Sink(..) => {}
            Output::Inherit(Stream::Stdout) => {
                let _ = std::io::stdout().flush();
            }
            Output::Inherit(Stream::Stderr) => {
                let _ = std::io::stderr().flush();
            }
        }
    }

    pub fn take(&mut self) -> Vec<u8> {
        match self {
            Output::Capture(buf) => std::mem::take(buf),
            Output::Inherit(_) | Output::Sink(..) => Vec::new(),
        }
    }
}

/// Where stdin comes from.
pub enum Input {
    /// The process's stdin; the pump once a poll has needed one.
    Inherit(Option<Arc<StdinPump>>),
    /// A buffer and the read position in it.
    Buffer(Vec<u8>, usize),
}

/// Readiness of stdin for `poll_oneoff`.
pub enum Readiness {
    /// Readable: bytes available now (0 with `hangup` at end of input).
    Ready {
        nbytes: u64,
        hangup: bool,
    },
    NotReady,
}

impl Input {
    /// Reads at most `max` bytes. Blocks only on the process's stdin, and
    /// only until some input (or its end) arrives.
    pub fn read(&mut self, max: usize) -> Result<Vec<u8>, Errno> {
        if max == 0 {
            return Ok(Vec::new());
        }
        match self {
            Input::Buffer(data, pos) => {
                let start = (*pos).min(data.len());
                let n = max.min(data.len() - start);
                *pos = start + n;
                Ok(data[start..start + n].to_vec())
            }
            Input::Inherit(Some(pump)) => Ok(pump.read(max)),
            Input::Inherit(None) => {
                let mut buf = vec![0u8; max.min(64 * 1024)];
                loop {
                    match std::io::stdin().lock().read(&mut buf) {
                        Ok(n) => {
                            buf.truncate(n);
                            return Ok(buf);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Err(e) => return Err(errno::from_io(&e)),
                    }
                }
            }
        }
    }

    pub fn readiness(&mut self) -> Readiness {
        match self {
            Input::Buffer(data, pos) => {
                let left = data.len().saturating_sub(*pos) as u64;
                Readiness::Ready {
                    nbytes: left,
                    hangup: left == 0,
                }
            }
            Input::Inherit(pump) => pump.get_or_insert_with(StdinPump::start).readiness(),
        }
    }

    /// Waits until stdin may have become readable or `deadline` passes.
    /// Returns at once for a buffer.
    pub fn wait(&mut self, deadline: Option<Instant>) {
        if let Input::Inherit(Some(pump)) = self {
            pump.wait(deadline);
        }
    }
}

#[derive(Default)]
struct PumpState {
    queue: VecDeque<u8>,
    eof: bool,
}

/// A thread that reads the process's stdin into a queue.
pub struct StdinPump {
    state: Mutex<PumpState>,
    changed: Condvar,
}

impl StdinPump {
    fn start() -> Arc<StdinPump> {
        let pump = Arc::new(StdinPump {
            state: Mutex::new(PumpState::default()),
            changed: Condvar::new(),
        });
        let p = pump.clone();
        let spawned = std::thread::Builder::new()
            .name("wasi-stdin".into())
            .spawn(move || {
                let mut buf = vec![0u8; 16 * 1024];
                loop {
                    let r = std::io::stdin().lock().read(&mut buf);
                    let mut st = p.state.lock().unwrap_or_else(|e| e.into_inner());
                    match r {
                        Ok(n) if n > 0 => st.queue.extend(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        _ => {
                            // End of input, or an error that will not go away.
                            st.eof = true;
                            p.changed.notify_all();
                            return;
                        }
                    }
                    p.changed.notify_all();
                }
            });
        if spawned.is_err() {
            // No thread: report end of input rather than waiting forever.
            pump.state.lock().unwrap_or_else(|e| e.into_inner()).eof = true;
        }
        pump
    }

    fn readiness(&self) -> Readiness {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !st.queue.is_empty() || st.eof {
            Readiness::Ready {
                nbytes: st.queue.len() as u64,
                hangup: st.queue.is_empty(),
            }
        } else {
            Readiness::NotReady
        }
    }

    fn wait(&self, deadline: Option<Instant>) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while st.queue.is_empty() && !st.eof {
            match deadline {
                None => st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return;
                    }
                    st = self
                        .changed
                        .wait_timeout(st, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
    }

    fn read(&self, max: usize) -> Vec<u8> {
        self.wait(None);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let n = max.min(st.queue.len());
        st.queue.drain(..n).collect()
    }
}
