//! WASI preview 1 (`wasi_snapshot_preview1`) host functions.
//!
//! A [`WasiCtx`] holds what a WASI program sees of the world: its arguments
//! and environment, its descriptor table (stdin/stdout/stderr and the
//! preopened directories, the only part of the host file system it can
//! reach), and the clocks. [`add_to_linker`] defines every function of the
//! `wasi_snapshot_preview1` module in a [`Linker`], so any module built by
//! clang + wasi-libc or by Rust for `wasm32-wasip1` links.
//!
//! Every function checks its guest pointers against the calling instance's
//! memory (module `mem`) and answers a WASI errno; none panics or aborts the host.
//! `proc_exit` is the one function that stops the program: it returns
//! `Trap::exit(code)`. Paths are resolved inside the sandbox by module `fs`.
//!
//! Module layout: `abi` (constants and layouts), `errno`, `mem` (guest
//! memory), `fs` (descriptor table, path resolution), `stdio` (streams),
//! `fdops` (`fd_*`), `pathops` (`path_*`), `misc` (args, environment, clocks,
//! random, poll, process, sockets).

pub mod abi;
pub mod command;
pub mod errno;
mod fdops;
mod fs;
mod mem;
mod misc;
mod pathops;
mod stdio;

use crate::error::{Error, Result, Trap};
use crate::runtime::{Linker, Store, Val};
use crate::types::{FuncType, ValType};
use errno::Errno;
use fs::{DirFd, Entry, FdTable, Kind};
use mem::GuestMem;
use std::fs::File;
use std::path::Path;
use std::time::Instant;
use stdio::{Input, Output};
pub use stdio::{OutputSink, Stream};

/// The state of one WASI program.
pub struct WasiCtx {
    /// Arguments, each without its terminating NUL.
    args: Vec<Vec<u8>>,
    /// Environment variables as `KEY=VALUE`, without NUL.
    env: Vec<Vec<u8>>,
    fds: FdTable,
    stdin: Input,
    stdout: Output,
    stderr: Output,
    /// Origin of the monotonic clock.
    start: Instant,
    /// `/dev/urandom`, opened at the first `random_get`.
    urandom: Option<File>,
    /// Counter of the fallback generator used when `/dev/urandom` is unavailable.
    rand_counter: u64,
}

impl Default for WasiCtx {
    fn default() -> Self {
        WasiCtx::new()
    }
}

impl WasiCtx {
    /// A context with no arguments, no environment and no preopened
    /// directories, inheriting the process's stdin, stdout and stderr.
    pub fn new() -> WasiCtx {
        let mut fds = FdTable::default();
        let tty = abi::RIGHTS_TTY;
        fds.insert_at(0, Entry::new(Kind::Stdin, tty & !abi::RIGHT_FD_WRITE, 0, 0));
        fds.insert_at(1, Entry::new(Kind::Stdout, tty & !abi::RIGHT_FD_READ, 0, 0));
        fds.insert_at(2, Entry::new(Kind::Stderr, tty & !abi::RIGHT_FD_READ, 0, 0));
        WasiCtx {
            args: Vec::new(),
            env: Vec::new(),
            fds,
            stdin: Input::Inherit(None),
            stdout: Output::Inherit(Stream::Stdout),
            stderr: Output::Inherit(Stream::Stderr),
            start: Instant::now(),
            urandom: None,
            rand_counter: 0,
        }
    }

    /// Sets the program's arguments; `args[0]` is the program name.
    /// (An interior NUL would cut an argument short in C, so it ends it here too.)
    pub fn args(&mut self, args: Vec<String>) -> &mut Self {
        self.args = args
            .into_iter()
            .map(|a| cut_at_nul(a.into_bytes()))
            .collect();
        self
    }

    /// Sets environment variable `key` (replacing an earlier value).
    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        let prefix = format!("{key}=");
        self.env.retain(|e| !e.starts_with(prefix.as_bytes()));
        self.env
            .push(cut_at_nul(format!("{key}={value}").into_bytes()));
        self
    }

    /// Makes host directory `host` visible to the guest as `guest` (the
    /// next descriptor, 3 and up). Fails if `host` is not a directory.
    pub fn preopen_dir(&mut self, host: impl AsRef<Path>, guest: &str) -> Result<&mut Self> {
        let host = host.as_ref();
        let path = fs::preopen_path(host).map_err(|e| Error::Io {
            context: format!("cannot preopen directory {}", host.display()),
            source: e,
        })?;
        let dir = DirFd {
            host: path,
            preopen: Some(guest.to_string()),
            listing: None,
        };
        let entry = Entry::new(Kind::Dir(dir), abi::RIGHTS_DIR, abi::RIGHTS_ALL, 0);
        self.fds
            .insert(entry)
            .map_err(|e| Error::Usage(format!("cannot preopen: {}", errno::name(e))))?;
        Ok(self)
    }

    /// Sends stdout and stderr to in-memory buffers (see `take_stdout`,
    /// `take_stderr`) instead of the process's streams.
    pub fn capture_output(&mut self) -> &mut Self {
        self.stdout = Output::Capture(Vec::new());
        self.stderr = Output::Capture(Vec::new());
        self
    }

    /// Sends stdout and stderr to `sink` as the program writes them.
    pub fn output_to(&mut self, sink: stdio::OutputSink) -> &mut Self {
        self.stdout = Output::Sink(Stream::Stdout, sink.clone());
        self.stderr = Output::Sink(Stream::Stderr, sink);
        self
    }

    /// What the program wrote to stdout since the last call (empty unless captured).
    pub fn take_stdout(&mut self) -> Vec<u8> {
        self.stdout.take()
    }

    /// What the program wrote to stderr since the last call (empty unless captured).
    pub fn take_stderr(&mut self) -> Vec<u8> {
        self.stderr.take()
    }

    /// Makes stdin read from `bytes` (then end of input).
    pub fn set_stdin(&mut self, bytes: Vec<u8>) -> &mut Self {
        self.stdin = Input::Buffer(bytes, 0);
        self
    }

    fn flush(&mut self) {
        self.stdout.flush();
        self.stderr.flush();
    }
}

fn cut_at_nul(mut v: Vec<u8>) -> Vec<u8> {
    if let Some(i) = v.iter().position(|&b| b == 0) {
        v.truncate(i);
    }
    v
}

/// The parameters of a call, read as the unsigned integers WASI uses.
pub(crate) struct Args<'a>(&'a [Val]);

impl Args<'_> {
    fn raw(&self, i: usize) -> u64 {
        match self.0.get(i) {
            Some(Val::I32(v)) => *v as u32 as u64,
            Some(Val::I64(v)) => *v as u64,
            _ => 0,
        }
    }

    pub fn u32(&self, i: usize) -> u32 {
        self.raw(i) as u32
    }

    pub fn u64(&self, i: usize) -> u64 {
        self.raw(i)
    }
}

/// A WASI function: its errno result comes back as `Err` (or `Ok` = success).
type Impl = fn(&mut WasiCtx, &mut GuestMem<'_>, &Args<'_>) -> Result<(), Errno>;

/// Every function of `wasi_snapshot_preview1` except `proc_exit`, with its
/// parameter types (`i` = i32, `I` = i64); each returns an i32 errno.
const FUNCS: &[(&str, &str, Impl)] = &[
    ("args_get", "ii", misc::args_get),
    ("args_sizes_get", "ii", misc::args_sizes_get),
    ("environ_get", "ii", misc::environ_get),
    ("environ_sizes_get", "ii", misc::environ_sizes_get),
    ("clock_res_get", "ii", misc::clock_res_get),
    ("clock_time_get", "iIi", misc::clock_time_get),
    ("fd_advise", "iIIi", fdops::fd_advise),
    ("fd_allocate", "iII", fdops::fd_allocate),
    ("fd_close", "i", fdops::fd_close),
    ("fd_datasync", "i", fdops::fd_datasync),
    ("fd_fdstat_get", "ii", fdops::fd_fdstat_get),
    ("fd_fdstat_set_flags", "ii", fdops::fd_fdstat_set_flags),
    ("fd_fdstat_set_rights", "iII", fdops::fd_fdstat_set_rights),
    ("fd_filestat_get", "ii", fdops::fd_filestat_get),
    ("fd_filestat_set_size", "iI", fdops::fd_filestat_set_size),
    (
        "fd_filestat_set_times",
        "iIIi",
        fdops::fd_filestat_set_times,
    ),
    ("fd_pread", "iiiIi", fdops::fd_pread),
    ("fd_prestat_get", "ii", fdops::fd_prestat_get),
    ("fd_prestat_dir_name", "iii", fdops::fd_prestat_dir_name),
    ("fd_pwrite", "iiiIi", fdops::fd_pwrite),
    ("fd_read", "iiii", fdops::fd_read),
    ("fd_readdir", "iiiIi", fdops::fd_readdir),
    ("fd_renumber", "ii", fdops::fd_renumber),
    ("fd_seek", "iIii", fdops::fd_seek),
    ("fd_sync", "i", fdops::fd_sync),
    ("fd_tell", "ii", fdops::fd_tell),
    ("fd_write", "iiii", fdops::fd_write),
    (
        "path_create_directory",
        "iii",
        pathops::path_create_directory,
    ),
    ("path_filestat_get", "iiiii", pathops::path_filestat_get),
    (
        "path_filestat_set_times",
        "iiiiIIi",
        pathops::path_filestat_set_times,
    ),
    ("path_link", "iiiiiii", pathops::path_link),
    ("path_open", "iiiiiIIii", pathops::path_open),
    ("path_readlink", "iiiiii", pathops::path_readlink),
    (
        "path_remove_directory",
        "iii",
        pathops::path_remove_directory,
    ),
    ("path_rename", "iiiiii", pathops::path_rename),
    ("path_symlink", "iiiii", pathops::path_symlink),
    ("path_unlink_file", "iii", pathops::path_unlink_file),
    ("poll_oneoff", "iiii", misc::poll_oneoff),
    ("proc_raise", "i", misc::proc_raise),
    ("sched_yield", "", misc::sched_yield),
    ("random_get", "ii", misc::random_get),
    ("sock_accept", "iii", misc::sock_accept),
    ("sock_recv", "iiiiii", misc::sock_recv),
    ("sock_send", "iiiii", misc::sock_send),
    ("sock_shutdown", "ii", misc::sock_shutdown),
];

/// Names of every function [`add_to_linker`] defines.
pub fn function_names() -> Vec<&'static str> {
    let mut v: Vec<&str> = FUNCS.iter().map(|f| f.0).collect();
    v.push("proc_exit");
    v
}

/// Defines every `wasi_snapshot_preview1` function in `linker`. The
/// functions find their [`WasiCtx`] in the store's data through `get`.
pub fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    store: &mut Store<T>,
    get: fn(&mut T) -> &mut WasiCtx,
) -> Result<()> {
    for &(name, params, imp) in FUNCS {
        let ty = FuncType::new(
            params
                .chars()
                .map(|c| if c == 'I' { ValType::I64 } else { ValType::I32 }),
            [ValType::I32],
        );
        linker.func_new(
            store,
            abi::MODULE,
            name,
            ty,
            move |mut caller, params, results| {
                let (data, memory) = caller.data_and_memory_mut();
                let ctx = get(data);
                let mut mem = GuestMem::for_call(memory.unwrap_or_default(), name);
                let errno = match imp(ctx, &mut mem, &Args(params)) {
                    Ok(()) => errno::SUCCESS,
                    Err(e) => e,
                };
                if let Some(r) = results.first_mut() {
                    *r = Val::I32(errno as i32);
                }
                Ok(())
            },
        )?;
    }
    linker.func_new(
        store,
        abi::MODULE,
        "proc_exit",
        FuncType::new([ValType::I32], []),
        move |mut caller, params, _| {
            get(caller.data_mut()).flush();
            Err(Trap::exit(Args(params).u32(0) as i32))
        },
    )?;
    Ok(())
}
