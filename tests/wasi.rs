//! WASI preview 1: every function through small wasm modules, the sandbox
//! (each way out of a preopened directory is refused), bad guest pointers,
//! `proc_exit`, and the C sample programs compared with their expected output.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wdb::wasi::{self, abi, errno, WasiCtx};
use wdb::*;

// ---------------------------------------------------------------------------
// A "shim" module: imports every WASI function and exports a wasm wrapper for
// each under the same name, so tests drive WASI from Rust with real guest
// memory (exported as "memory", 2 pages).

/// (name, params: i = i32, I = i64, has an i32 result)
const SIGS: &[(&str, &str, bool)] = &[
    ("args_get", "ii", true),
    ("args_sizes_get", "ii", true),
    ("environ_get", "ii", true),
    ("environ_sizes_get", "ii", true),
    ("clock_res_get", "ii", true),
    ("clock_time_get", "iIi", true),
    ("fd_advise", "iIIi", true),
    ("fd_allocate", "iII", true),
    ("fd_close", "i", true),
    ("fd_datasync", "i", true),
    ("fd_fdstat_get", "ii", true),
    ("fd_fdstat_set_flags", "ii", true),
    ("fd_fdstat_set_rights", "iII", true),
    ("fd_filestat_get", "ii", true),
    ("fd_filestat_set_size", "iI", true),
    ("fd_filestat_set_times", "iIIi", true),
    ("fd_pread", "iiiIi", true),
    ("fd_prestat_get", "ii", true),
    ("fd_prestat_dir_name", "iii", true),
    ("fd_pwrite", "iiiIi", true),
    ("fd_read", "iiii", true),
    ("fd_readdir", "iiiIi", true),
    ("fd_renumber", "ii", true),
    ("fd_seek", "iIii", true),
    ("fd_sync", "i", true),
    ("fd_tell", "ii", true),
    ("fd_write", "iiii", true),
    ("path_create_directory", "iii", true),
    ("path_filestat_get", "iiiii", true),
    ("path_filestat_set_times", "iiiiIIi", true),
    ("path_link", "iiiiiii", true),
    ("path_open", "iiiiiIIii", true),
    ("path_readlink", "iiiiii", true),
    ("path_remove_directory", "iii", true),
    ("path_rename", "iiiiii", true),
    ("path_symlink", "iiiii", true),
    ("path_unlink_file", "iii", true),
    ("poll_oneoff", "iiii", true),
    ("proc_exit", "i", false),
    ("proc_raise", "i", true),
    ("sched_yield", "", true),
    ("random_get", "ii", true),
    ("sock_accept", "iii", true),
    ("sock_recv", "iiiiii", true),
    ("sock_send", "iiiii", true),
    ("sock_shutdown", "ii", true),
];

const MEM_SIZE: u32 = 2 * 65536;

fn shim_wat(with_memory: bool) -> String {
    let mut s = String::from("(module\n");
    let ty = |p: &str, r: bool| {
        let params: Vec<&str> = p
            .chars()
            .map(|c| if c == 'I' { "i64" } else { "i32" })
            .collect();
        let mut t = String::new();
        if !params.is_empty() {
            t += &format!("(param {})", params.join(" "));
        }
        if r {
            t += " (result i32)";
        }
        t
    };
    for (name, p, r) in SIGS {
        s += &format!(
            "  (import \"wasi_snapshot_preview1\" \"{name}\" (func ${name} {}))\n",
            ty(p, *r)
        );
    }
    if with_memory {
        s += "  (memory (export \"memory\") 2)\n";
    }
    for (name, p, r) in SIGS {
        let gets: String = (0..p.len()).map(|i| format!("local.get {i} ")).collect();
        s += &format!(
            "  (func (export \"{name}\") {} {gets} call ${name})\n",
            ty(p, *r)
        );
    }
    s + ")\n"
}

fn engine() -> Engine {
    Engine::new(Config::default()).expect("engine")
}

fn get_ctx(c: &mut WasiCtx) -> &mut WasiCtx {
    c
}

fn instantiate(wat: &str, ctx: WasiCtx) -> (Store<WasiCtx>, Instance) {
    let engine = engine();
    let module = Module::new(&engine, wat).expect("module");
    let mut store = Store::new(&engine, ctx);
    let mut linker = Linker::new();
    wasi::add_to_linker(&mut linker, &mut store, get_ctx).expect("add_to_linker");
    let inst = linker
        .instantiate(&mut store, &module)
        .expect("instantiate");
    (store, inst)
}

// Scratch addresses in the shim's memory.
const OUT: u32 = 64; // results written by WASI (8 bytes)
const OUT2: u32 = 72;
const IOV: u32 = 128; // iovec array
const PATH: u32 = 1024; // first path
const PATH2: u32 = 2048; // second path
const BUF: u32 = 4096; // data buffer

struct Shim {
    store: Store<WasiCtx>,
    inst: Instance,
}

impl Shim {
    fn new(ctx: WasiCtx) -> Shim {
        let (store, inst) = instantiate(&shim_wat(true), ctx);
        Shim { store, inst }
    }

    fn ctx(&mut self) -> &mut WasiCtx {
        self.store.data_mut()
    }

    /// Calls the wrapper of WASI function `name`; returns its errno.
    fn try_call(&mut self, name: &str, args: &[u64]) -> Result<i32> {
        let (_, p, r) = SIGS.iter().find(|s| s.0 == name).expect("known function");
        assert_eq!(p.len(), args.len(), "arity of {name}");
        let vals: Vec<Val> = p
            .chars()
            .zip(args)
            .map(|(c, &a)| {
                if c == 'I' {
                    Val::I64(a as i64)
                } else {
                    Val::I32(a as u32 as i32)
                }
            })
            .collect();
        let f = self.inst.get_func(&self.store, name).expect("export");
        let mut res = if *r { vec![Val::I32(0)] } else { vec![] };
        f.call(&mut self.store, &vals, &mut res)?;
        Ok(res.first().and_then(|v| v.i32()).unwrap_or(0))
    }

    fn call(&mut self, name: &str, args: &[u64]) -> u16 {
        let e = self
            .try_call(name, args)
            .unwrap_or_else(|e| panic!("{name} trapped: {e}"));
        u16::try_from(e).expect("errno fits u16")
    }

    fn mem(&mut self) -> &mut [u8] {
        let m = self.inst.get_memory(&self.store, "memory").expect("memory");
        m.data_mut(&mut self.store)
    }

    fn write(&mut self, at: u32, bytes: &[u8]) {
        self.mem()[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
    }

    fn read(&mut self, at: u32, len: u32) -> Vec<u8> {
        self.mem()[at as usize..(at + len) as usize].to_vec()
    }

    fn u32_at(&mut self, at: u32) -> u32 {
        u32::from_le_bytes(self.read(at, 4).try_into().unwrap())
    }

    fn u64_at(&mut self, at: u32) -> u64 {
        u64::from_le_bytes(self.read(at, 8).try_into().unwrap())
    }

    /// Places a path at `at`; returns (ptr, len) as call arguments.
    fn path(&mut self, at: u32, p: &str) -> [u64; 2] {
        self.write(at, p.as_bytes());
        [at as u64, p.len() as u64]
    }

    fn open(
        &mut self,
        dir: u32,
        p: &str,
        oflags: u16,
        rights: u64,
        fdflags: u16,
    ) -> Result<u32, u16> {
        self.open_ex(dir, abi::LOOKUP_SYMLINK_FOLLOW, p, oflags, rights, fdflags)
    }

    fn open_ex(
        &mut self,
        dir: u32,
        lookup: u32,
        p: &str,
        oflags: u16,
        rights: u64,
        fdflags: u16,
    ) -> Result<u32, u16> {
        let [pp, pl] = self.path(PATH, p);
        let args = [
            dir as u64,
            lookup as u64,
            pp,
            pl,
            oflags as u64,
            rights,
            abi::RIGHTS_ALL,
            fdflags as u64,
            OUT as u64,
        ];
        match self.call("path_open", &args) {
            0 => Ok(self.u32_at(OUT)),
            e => Err(e),
        }
    }

    fn fd_write(&mut self, fd: u32, data: &[u8]) -> Result<u32, u16> {
        self.write(BUF, data);
        self.write(
            IOV,
            &[BUF.to_le_bytes(), (data.len() as u32).to_le_bytes()].concat(),
        );
        match self.call("fd_write", &[fd as u64, IOV as u64, 1, OUT as u64]) {
            0 => Ok(self.u32_at(OUT)),
            e => Err(e),
        }
    }

    fn fd_read(&mut self, fd: u32, max: u32) -> Result<Vec<u8>, u16> {
        self.write(IOV, &[BUF.to_le_bytes(), max.to_le_bytes()].concat());
        match self.call("fd_read", &[fd as u64, IOV as u64, 1, OUT as u64]) {
            0 => {
                let n = self.u32_at(OUT);
                Ok(self.read(BUF, n))
            }
            e => Err(e),
        }
    }

    fn seek(&mut self, fd: u32, off: i64, whence: u8) -> Result<u64, u16> {
        match self.call(
            "fd_seek",
            &[fd as u64, off as u64, whence as u64, OUT as u64],
        ) {
            0 => Ok(self.u64_at(OUT)),
            e => Err(e),
        }
    }

    /// `path_filestat_get` → (filetype, size).
    fn stat(&mut self, dir: u32, p: &str, follow: bool) -> Result<(u8, u64), u16> {
        let [pp, pl] = self.path(PATH, p);
        match self.call(
            "path_filestat_get",
            &[dir as u64, follow as u64, pp, pl, BUF as u64],
        ) {
            0 => {
                let st = self.read(BUF, 64);
                Ok((st[16], u64::from_le_bytes(st[32..40].try_into().unwrap())))
            }
            e => Err(e),
        }
    }

    fn path_op(&mut self, name: &str, dir: u32, p: &str) -> u16 {
        let [pp, pl] = self.path(PATH, p);
        self.call(name, &[dir as u64, pp, pl])
    }
}

/// A fresh directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("wdb-wasi-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A shim with `sandbox/` of a temp dir preopened as fd 3 ("/sandbox"), and
/// a secret file next to (outside) it.
fn sandbox_shim(name: &str) -> (TempDir, Shim) {
    let tmp = TempDir::new(name);
    std::fs::create_dir(tmp.path().join("sandbox")).unwrap();
    std::fs::write(tmp.path().join("secret.txt"), b"top secret").unwrap();
    let mut ctx = WasiCtx::new();
    ctx.capture_output().set_stdin(Vec::new());
    ctx.preopen_dir(tmp.path().join("sandbox"), "/sandbox")
        .unwrap();
    (tmp, Shim::new(ctx))
}

const RW: u64 = abi::RIGHTS_ALL;
const RO: u64 = abi::RIGHTS_ALL
    & !(abi::RIGHT_FD_WRITE
        | abi::RIGHT_FD_ALLOCATE
        | abi::RIGHT_FD_FILESTAT_SET_SIZE
        | abi::RIGHT_FD_DATASYNC);

fn is_refused(e: u16) -> bool {
    e == errno::NOTCAPABLE || e == errno::PERM
}

// ---------------------------------------------------------------------------
// Programs with a `_start`.

const HELLO: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "hello, world\n")
  (data (i32.const 32) "oops\n")
  (data (i32.const 0) "\10\00\00\00\0d\00\00\00")    ;; iovec: 16, 13
  (data (i32.const 8) "\20\00\00\00\05\00\00\00")    ;; iovec: 32, 5
  (global $code (export "code") (mut i32) (i32.const -1))
  (func (export "_start")
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 100)))
    (drop (call $fd_write (i32.const 2) (i32.const 8) (i32.const 1) (i32.const 104)))
    (call $proc_exit (i32.const 7))
    unreachable))"#;

fn run_start(store: &mut Store<WasiCtx>, inst: &Instance) -> Result<()> {
    let f = inst.get_func(store, "_start").expect("_start");
    f.call(store, &[], &mut [])
}

#[test]
fn fd_write_to_captured_stdout_and_stderr_then_proc_exit() {
    let mut ctx = WasiCtx::new();
    ctx.capture_output();
    let (mut store, inst) = instantiate(HELLO, ctx);
    let err = run_start(&mut store, &inst).expect_err("proc_exit ends the program");
    let trap = err.as_trap().expect("a trap");
    assert_eq!(trap.code, TrapCode::Exit);
    assert_eq!(trap.exit_code, Some(7));
    assert_eq!(store.data_mut().take_stdout(), b"hello, world\n");
    assert_eq!(store.data_mut().take_stderr(), b"oops\n");
    // Taken: empty now.
    assert!(store.data_mut().take_stdout().is_empty());
    let m = inst.get_memory(&store, "memory").unwrap();
    assert_eq!(&m.data(&store)[100..104], &13u32.to_le_bytes(), "nwritten");
}

#[test]
fn proc_exit_zero_is_an_exit_trap() {
    let mut s = Shim::new({
        let mut c = WasiCtx::new();
        c.capture_output();
        c
    });
    let e = s.try_call("proc_exit", &[0]).unwrap_err();
    assert_eq!(e.as_trap_code(), Some(TrapCode::Exit));
    assert_eq!(e.as_trap().unwrap().exit_code, Some(0));
}

#[test]
fn every_function_links() {
    let names = wasi::function_names();
    assert_eq!(names.len(), SIGS.len());
    for (n, _, _) in SIGS {
        assert!(names.contains(n), "{n} defined");
    }
    // The shim imports all of them with their exact types.
    let _ = Shim::new(WasiCtx::new());
}

// ---------------------------------------------------------------------------
// Arguments, environment, clocks, randomness, stdin.

#[test]
fn args_and_environment_round_trip() {
    let mut ctx = WasiCtx::new();
    ctx.args(vec![
        "prog.wasm".into(),
        "hello".into(),
        "wörld".into(),
        "".into(),
    ]);
    ctx.env("HOME", "/home/x")
        .env("EMPTY", "")
        .env("HOME", "/replaced");
    let mut s = Shim::new(ctx);

    assert_eq!(s.call("args_sizes_get", &[OUT as u64, OUT2 as u64]), 0);
    let argc = s.u32_at(OUT);
    let size = s.u32_at(OUT2);
    assert_eq!(argc, 4);
    let want = b"prog.wasm\0hello\0w\xc3\xb6rld\0\0";
    assert_eq!(size as usize, want.len());
    assert_eq!(s.call("args_get", &[256, BUF as u64]), 0);
    assert_eq!(s.read(BUF, size), want);
    let ptrs: Vec<u32> = (0..argc).map(|i| s.u32_at(256 + 4 * i)).collect();
    assert_eq!(ptrs, vec![BUF, BUF + 10, BUF + 16, BUF + 23]);

    assert_eq!(s.call("environ_sizes_get", &[OUT as u64, OUT2 as u64]), 0);
    assert_eq!(s.u32_at(OUT), 2);
    let size = s.u32_at(OUT2);
    assert_eq!(s.call("environ_get", &[256, BUF as u64]), 0);
    assert_eq!(s.read(BUF, size), b"EMPTY=\0HOME=/replaced\0");
    assert_eq!(s.u32_at(260), BUF + 7);
}

#[test]
fn clocks() {
    let mut s = Shim::new(WasiCtx::new());
    for id in 0..4u64 {
        assert_eq!(s.call("clock_res_get", &[id, OUT as u64]), 0);
        let res = s.u64_at(OUT);
        assert!(res > 0 && res <= 1_000_000, "resolution of clock {id}");
    }
    assert_eq!(s.call("clock_res_get", &[9, OUT as u64]), errno::INVAL);
    assert_eq!(s.call("clock_time_get", &[9, 0, OUT as u64]), errno::INVAL);

    assert_eq!(
        s.call(
            "clock_time_get",
            &[abi::CLOCK_REALTIME as u64, 1, OUT as u64]
        ),
        0
    );
    let wall = s.u64_at(OUT);
    let host = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    assert!(
        host.abs_diff(wall) < 5_000_000_000,
        "realtime close to the host's"
    );

    assert_eq!(
        s.call(
            "clock_time_get",
            &[abi::CLOCK_MONOTONIC as u64, 1, OUT as u64]
        ),
        0
    );
    let t0 = s.u64_at(OUT);
    std::thread::sleep(Duration::from_millis(5));
    assert_eq!(
        s.call(
            "clock_time_get",
            &[abi::CLOCK_MONOTONIC as u64, 1, OUT as u64]
        ),
        0
    );
    let t1 = s.u64_at(OUT);
    assert!(t1 >= t0 + 5_000_000, "monotonic advances: {t0} -> {t1}");
    assert_eq!(
        s.call(
            "clock_time_get",
            &[abi::CLOCK_PROCESS_CPUTIME as u64, 1, OUT as u64]
        ),
        0
    );
}

#[test]
fn random_get_fills_the_buffer() {
    let mut s = Shim::new(WasiCtx::new());
    assert_eq!(s.call("random_get", &[BUF as u64, 256]), 0);
    let a = s.read(BUF, 256);
    assert_eq!(s.call("random_get", &[BUF as u64, 256]), 0);
    let b = s.read(BUF, 256);
    assert_ne!(a, b);
    assert!(
        a.iter().filter(|&&x| x == 0).count() < 32,
        "not mostly zeros"
    );
    assert_eq!(s.call("random_get", &[BUF as u64, 0]), 0);
    assert_eq!(
        s.call("random_get", &[(MEM_SIZE - 4) as u64, 8]),
        errno::FAULT
    );
}

#[test]
fn stdin_from_a_buffer() {
    let mut ctx = WasiCtx::new();
    ctx.set_stdin(b"line one\nline two\n".to_vec());
    let mut s = Shim::new(ctx);
    // Two iovecs: 4 bytes then 100.
    s.write(
        IOV,
        &[
            BUF.to_le_bytes(),
            4u32.to_le_bytes(),
            (BUF + 100).to_le_bytes(),
            100u32.to_le_bytes(),
        ]
        .concat(),
    );
    assert_eq!(s.call("fd_read", &[0, IOV as u64, 2, OUT as u64]), 0);
    assert_eq!(s.u32_at(OUT), 18);
    assert_eq!(s.read(BUF, 4), b"line");
    assert_eq!(s.read(BUF + 100, 14), b" one\nline two\n");
    assert_eq!(s.fd_read(0, 10), Ok(vec![]), "end of input");
    assert_eq!(
        s.fd_write(0, b"x"),
        Err(errno::BADF),
        "stdin is not writable"
    );
    assert_eq!(s.fd_read(1, 10), Err(errno::BADF), "stdout is not readable");
}

#[test]
fn stdio_fdstat_is_a_tty_like_character_device() {
    let mut s = Shim::new(WasiCtx::new());
    for fd in 0..3u64 {
        assert_eq!(s.call("fd_fdstat_get", &[fd, BUF as u64]), 0);
        let st = s.read(BUF, 24);
        assert_eq!(st[0], abi::FILETYPE_CHARACTER_DEVICE);
        let rights = u64::from_le_bytes(st[8..16].try_into().unwrap());
        assert_eq!(
            rights & (abi::RIGHT_FD_SEEK | abi::RIGHT_FD_TELL),
            0,
            "isatty needs no seek/tell"
        );
    }
    assert_eq!(s.seek(1, 0, abi::WHENCE_CUR), Err(errno::SPIPE));
    assert_eq!(s.call("fd_tell", &[1, OUT as u64]), errno::SPIPE);
    assert_eq!(s.call("fd_fdstat_get", &[3, BUF as u64]), errno::BADF);
    assert_eq!(s.call("fd_filestat_get", &[1, BUF as u64]), 0);
    assert_eq!(s.read(BUF + 16, 1)[0], abi::FILETYPE_CHARACTER_DEVICE);
}

// ---------------------------------------------------------------------------
// Files and directories in a preopened temp dir.

#[test]
fn preopens_are_listed_by_prestat() {
    let (tmp, mut s) = sandbox_shim("prestat");
    std::fs::create_dir(tmp.path().join("other")).unwrap();
    s.ctx()
        .preopen_dir(tmp.path().join("other"), "data")
        .unwrap();
    assert_eq!(s.call("fd_prestat_get", &[3, OUT as u64]), 0);
    assert_eq!(s.read(OUT, 1)[0], abi::PREOPENTYPE_DIR);
    assert_eq!(s.u32_at(OUT + 4), 8);
    assert_eq!(s.call("fd_prestat_dir_name", &[3, BUF as u64, 8]), 0);
    assert_eq!(s.read(BUF, 8), b"/sandbox");
    assert_eq!(
        s.call("fd_prestat_dir_name", &[3, BUF as u64, 3]),
        errno::NAMETOOLONG
    );
    assert_eq!(s.call("fd_prestat_get", &[4, OUT as u64]), 0);
    assert_eq!(s.u32_at(OUT + 4), 4);
    // wasi-libc stops scanning at the first EBADF.
    assert_eq!(s.call("fd_prestat_get", &[5, OUT as u64]), errno::BADF);
    assert_eq!(s.call("fd_prestat_get", &[1, OUT as u64]), errno::BADF);
    assert_eq!(s.call("fd_fdstat_get", &[3, BUF as u64]), 0);
    assert_eq!(s.read(BUF, 1)[0], abi::FILETYPE_DIRECTORY);
}

#[test]
fn preopen_of_a_missing_directory_is_an_error() {
    let mut ctx = WasiCtx::new();
    let missing = std::env::temp_dir().join(format!("wdb-wasi-missing-{}", std::process::id()));
    assert!(ctx.preopen_dir(&missing, "/x").is_err());
    let tmp = TempDir::new("preopen-file");
    std::fs::write(tmp.path().join("f"), b"").unwrap();
    assert!(
        ctx.preopen_dir(tmp.path().join("f"), "/f").is_err(),
        "a file is not a directory"
    );
}

#[test]
fn file_create_write_seek_read_stat() {
    let (tmp, mut s) = sandbox_shim("files");
    let creat = abi::OFLAGS_CREAT | abi::OFLAGS_TRUNC;
    let fd = s.open(3, "notes.txt", creat, RW, 0).expect("create");
    assert!(fd >= 4);
    assert_eq!(s.fd_write(fd, b"hello file"), Ok(10));
    assert_eq!(
        std::fs::read(tmp.path().join("sandbox/notes.txt")).unwrap(),
        b"hello file"
    );
    assert_eq!(s.call("fd_tell", &[fd as u64, OUT as u64]), 0);
    assert_eq!(s.u64_at(OUT), 10);
    assert_eq!(s.seek(fd, 6, abi::WHENCE_SET), Ok(6));
    assert_eq!(s.fd_read(fd, 100), Ok(b"file".to_vec()));
    assert_eq!(s.seek(fd, -4, abi::WHENCE_END), Ok(6));
    assert_eq!(s.seek(fd, -2, abi::WHENCE_CUR), Ok(4));
    assert_eq!(s.seek(fd, -1, abi::WHENCE_SET), Err(errno::INVAL));
    assert_eq!(s.seek(fd, 0, 7), Err(errno::INVAL));
    // pwrite / pread leave the position alone.
    s.write(BUF, b"XY");
    s.write(IOV, &[BUF.to_le_bytes(), 2u32.to_le_bytes()].concat());
    assert_eq!(
        s.call("fd_pwrite", &[fd as u64, IOV as u64, 1, 0, OUT as u64]),
        0
    );
    assert_eq!(s.u32_at(OUT), 2);
    s.write(
        IOV,
        &[(BUF + 10).to_le_bytes(), 5u32.to_le_bytes()].concat(),
    );
    assert_eq!(
        s.call("fd_pread", &[fd as u64, IOV as u64, 1, 0, OUT as u64]),
        0
    );
    assert_eq!(s.read(BUF + 10, 5), b"XYllo");
    assert_eq!(s.seek(fd, 0, abi::WHENCE_CUR), Ok(4));
    // Status and size.
    assert_eq!(s.call("fd_filestat_get", &[fd as u64, BUF as u64]), 0);
    let st = s.read(BUF, 64);
    assert_eq!(st[16], abi::FILETYPE_REGULAR_FILE);
    assert_eq!(u64::from_le_bytes(st[32..40].try_into().unwrap()), 10);
    assert_eq!(s.call("fd_filestat_set_size", &[fd as u64, 3]), 0);
    assert_eq!(
        s.stat(3, "notes.txt", true),
        Ok((abi::FILETYPE_REGULAR_FILE, 3))
    );
    assert_eq!(s.call("fd_allocate", &[fd as u64, 0, 100]), 0);
    assert_eq!(
        s.stat(3, "notes.txt", true),
        Ok((abi::FILETYPE_REGULAR_FILE, 100))
    );
    assert_eq!(s.call("fd_advise", &[fd as u64, 0, 10, 1]), 0);
    assert_eq!(s.call("fd_advise", &[fd as u64, 0, 10, 9]), errno::INVAL);
    assert_eq!(s.call("fd_sync", &[fd as u64]), 0);
    assert_eq!(s.call("fd_datasync", &[fd as u64]), 0);
    // Times.
    let t = 1_600_000_000_000_000_000u64;
    assert_eq!(
        s.call(
            "fd_filestat_set_times",
            &[
                fd as u64,
                t,
                t,
                (abi::FSTFLAGS_ATIM | abi::FSTFLAGS_MTIM) as u64
            ]
        ),
        0
    );
    assert_eq!(s.call("fd_filestat_get", &[fd as u64, BUF as u64]), 0);
    assert_eq!(s.u64_at(BUF + 48), t, "mtim");
    let both = (abi::FSTFLAGS_MTIM | abi::FSTFLAGS_MTIM_NOW) as u64;
    assert_eq!(
        s.call("fd_filestat_set_times", &[fd as u64, 0, 0, both]),
        errno::INVAL
    );
    let [pp, pl] = s.path(PATH, "notes.txt");
    assert_eq!(
        s.call(
            "path_filestat_set_times",
            &[3, 1, pp, pl, 0, t + 1, abi::FSTFLAGS_MTIM as u64]
        ),
        0
    );
    assert_eq!(s.call("fd_filestat_get", &[fd as u64, BUF as u64]), 0);
    assert_eq!(s.u64_at(BUF + 48), t + 1);
    // fdstat and flags.
    assert_eq!(s.call("fd_fdstat_get", &[fd as u64, BUF as u64]), 0);
    assert_eq!(s.read(BUF, 1)[0], abi::FILETYPE_REGULAR_FILE);
    assert_eq!(
        s.call(
            "fd_fdstat_set_flags",
            &[fd as u64, abi::FDFLAGS_NONBLOCK as u64]
        ),
        0
    );
    assert_eq!(
        s.call(
            "fd_fdstat_set_flags",
            &[fd as u64, abi::FDFLAGS_APPEND as u64]
        ),
        errno::NOTSUP
    );
    // Close; then the descriptor is gone.
    assert_eq!(s.call("fd_close", &[fd as u64]), 0);
    assert_eq!(s.call("fd_close", &[fd as u64]), errno::BADF);
    assert_eq!(s.fd_write(fd, b"x"), Err(errno::BADF));
    // Exclusive create of an existing file; open of a missing one.
    assert_eq!(
        s.open(3, "notes.txt", abi::OFLAGS_CREAT | abi::OFLAGS_EXCL, RW, 0),
        Err(errno::EXIST)
    );
    assert_eq!(s.open(3, "missing.txt", 0, RO, 0), Err(errno::NOENT));
    // O_RDONLY | O_CREAT, of an existing file and of a new one.
    let ro = s.open(3, "notes.txt", abi::OFLAGS_CREAT, RO, 0).unwrap();
    assert_eq!(s.fd_read(ro, 2), Ok(b"XY".to_vec()));
    assert_eq!(s.fd_write(ro, b"no"), Err(errno::BADF));
    let fresh = s.open(3, "fresh.txt", abi::OFLAGS_CREAT, RO, 0).unwrap();
    assert_eq!(s.fd_read(fresh, 2), Ok(vec![]));
    assert!(tmp.path().join("sandbox/fresh.txt").is_file());
    assert_eq!(
        s.open(3, "notes.txt", abi::OFLAGS_DIRECTORY, RO, 0),
        Err(errno::NOTDIR)
    );
    assert_eq!(s.open(3, "notes.txt/", 0, RO, 0), Err(errno::NOTDIR));
}

#[test]
fn append_mode_and_read_only_descriptors() {
    let (tmp, mut s) = sandbox_shim("append");
    std::fs::write(tmp.path().join("sandbox/log"), b"one\n").unwrap();
    let fd = s.open(3, "log", 0, RW, abi::FDFLAGS_APPEND).unwrap();
    assert_eq!(s.seek(fd, 0, abi::WHENCE_SET), Ok(0));
    assert_eq!(s.fd_write(fd, b"two\n"), Ok(4));
    assert_eq!(
        std::fs::read(tmp.path().join("sandbox/log")).unwrap(),
        b"one\ntwo\n"
    );
    assert_eq!(s.call("fd_fdstat_get", &[fd as u64, BUF as u64]), 0);
    assert_eq!(
        u16::from_le_bytes(s.read(BUF + 2, 2).try_into().unwrap()),
        abi::FDFLAGS_APPEND
    );
    let ro = s.open(3, "log", 0, RO, 0).unwrap();
    assert_eq!(s.fd_read(ro, 3), Ok(b"one".to_vec()));
    assert_eq!(s.fd_write(ro, b"x"), Err(errno::BADF));
    assert_eq!(
        s.call("fd_filestat_set_size", &[ro as u64, 0]),
        errno::NOTCAPABLE
    );
    // Rights can only shrink.
    assert_eq!(
        s.call("fd_fdstat_set_rights", &[ro as u64, abi::RIGHT_FD_READ, 0]),
        0
    );
    assert_eq!(s.seek(ro, 0, abi::WHENCE_SET), Err(errno::NOTCAPABLE));
    assert_eq!(
        s.call("fd_fdstat_set_rights", &[ro as u64, RW, 0]),
        errno::NOTCAPABLE
    );
    // A directory cannot be opened for writing, nor read like a file.
    std::fs::create_dir(tmp.path().join("sandbox/d")).unwrap();
    assert_eq!(s.open(3, "d", 0, RW, 0), Err(errno::ISDIR));
    let d = s.open(3, "d", abi::OFLAGS_DIRECTORY, RO, 0).unwrap();
    assert_eq!(s.fd_read(d, 4), Err(errno::ISDIR));
    // Paths are resolved only through directory descriptors.
    assert_eq!(s.open(fd, "x", 0, RO, 0), Err(errno::NOTDIR));
    assert_eq!(s.open(1, "x", 0, RO, 0), Err(errno::NOTDIR));
    assert_eq!(s.open(99, "x", 0, RO, 0), Err(errno::BADF));
}

/// Parses a `fd_readdir` buffer into (next cookie, name, type).
fn parse_dirents(buf: &[u8]) -> Vec<(u64, String, u8)> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 24 <= buf.len() {
        let next = u64::from_le_bytes(buf[at..at + 8].try_into().unwrap());
        let len = u32::from_le_bytes(buf[at + 16..at + 20].try_into().unwrap()) as usize;
        let ty = buf[at + 20];
        if at + 24 + len > buf.len() {
            break;
        }
        out.push((
            next,
            String::from_utf8(buf[at + 24..at + 24 + len].to_vec()).unwrap(),
            ty,
        ));
        at += 24 + len;
    }
    out
}

#[test]
fn readdir_lists_every_entry_and_pages_with_cookies() {
    let (tmp, mut s) = sandbox_shim("readdir");
    let root = tmp.path().join("sandbox");
    std::fs::write(root.join("b.txt"), b"b").unwrap();
    std::fs::write(root.join("a.txt"), b"a").unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
    assert_eq!(
        s.call("fd_readdir", &[3, BUF as u64, 4096, 0, OUT as u64]),
        0
    );
    let used = s.u32_at(OUT);
    assert!(used < 4096);
    let all = parse_dirents(&s.read(BUF, used));
    let names: Vec<&str> = all.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(names, vec![".", "..", "a.txt", "b.txt", "link", "sub"]);
    let types: Vec<u8> = all.iter().map(|e| e.2).collect();
    use abi::*;
    assert_eq!(
        types,
        vec![
            FILETYPE_DIRECTORY,
            FILETYPE_DIRECTORY,
            FILETYPE_REGULAR_FILE,
            FILETYPE_REGULAR_FILE,
            FILETYPE_SYMBOLIC_LINK,
            FILETYPE_DIRECTORY
        ]
    );
    // Page through with a small buffer: a full buffer means "ask again".
    let mut cookie = 0u64;
    let mut paged = Vec::new();
    for _ in 0..20 {
        assert_eq!(
            s.call("fd_readdir", &[3, BUF as u64, 40, cookie, OUT as u64]),
            0
        );
        let used = s.u32_at(OUT);
        let got = parse_dirents(&s.read(BUF, used));
        if let Some(last) = got.last() {
            cookie = last.0;
        }
        paged.extend(got.into_iter().map(|e| e.1));
        if used < 40 {
            break;
        }
    }
    assert_eq!(paged, names);
    // Not a directory.
    let fd = s.open(3, "a.txt", 0, RO, 0).unwrap();
    assert_eq!(
        s.call("fd_readdir", &[fd as u64, BUF as u64, 100, 0, OUT as u64]),
        errno::NOTDIR
    );
    // A subdirectory opened through path_open lists too.
    let sub = s.open(3, "sub", abi::OFLAGS_DIRECTORY, RO, 0).unwrap();
    assert_eq!(
        s.call("fd_readdir", &[sub as u64, BUF as u64, 4096, 0, OUT as u64]),
        0
    );
    let used = s.u32_at(OUT);
    assert_eq!(parse_dirents(&s.read(BUF, used)).len(), 2);
}

#[test]
fn mkdir_rename_unlink_rmdir() {
    let (tmp, mut s) = sandbox_shim("ops");
    let root = tmp.path().join("sandbox");
    assert_eq!(s.path_op("path_create_directory", 3, "dir"), 0);
    assert!(root.join("dir").is_dir());
    assert_eq!(s.path_op("path_create_directory", 3, "dir"), errno::EXIST);
    assert_eq!(
        s.path_op("path_create_directory", 3, "dir/inner/deeper"),
        errno::NOENT
    );
    assert_eq!(s.path_op("path_create_directory", 3, "."), errno::EXIST);
    let fd = s.open(3, "dir/file", abi::OFLAGS_CREAT, RW, 0).unwrap();
    assert_eq!(s.fd_write(fd, b"content"), Ok(7));
    assert_eq!(s.call("fd_close", &[fd as u64]), 0);
    assert_eq!(
        s.stat(3, "dir", true),
        Ok((
            abi::FILETYPE_DIRECTORY,
            std::fs::metadata(root.join("dir")).unwrap().len()
        ))
    );
    // Rename across two directory descriptors.
    assert_eq!(s.path_op("path_create_directory", 3, "other"), 0);
    let other = s.open(3, "other", abi::OFLAGS_DIRECTORY, RO, 0).unwrap();
    let [a, al] = s.path(PATH, "dir/file");
    let [b, bl] = s.path(PATH2, "moved");
    assert_eq!(s.call("path_rename", &[3, a, al, other as u64, b, bl]), 0);
    assert_eq!(std::fs::read(root.join("other/moved")).unwrap(), b"content");
    assert!(!root.join("dir/file").exists());
    assert_eq!(
        s.call("path_rename", &[3, a, al, other as u64, b, bl]),
        errno::NOENT
    );
    // Hard link.
    let [a, al] = s.path(PATH, "other/moved");
    let [b, bl] = s.path(PATH2, "hard");
    assert_eq!(s.call("path_link", &[3, 0, a, al, 3, b, bl]), 0);
    assert_eq!(std::fs::read(root.join("hard")).unwrap(), b"content");
    // Unlink and rmdir.
    assert_eq!(
        s.path_op("path_remove_directory", 3, "other"),
        errno::NOTEMPTY
    );
    assert_eq!(s.path_op("path_unlink_file", 3, "other"), errno::ISDIR);
    assert_eq!(s.path_op("path_unlink_file", 3, "other/moved"), 0);
    assert_eq!(
        s.path_op("path_unlink_file", 3, "other/moved"),
        errno::NOENT
    );
    assert_eq!(s.path_op("path_remove_directory", 3, "other"), 0);
    assert_eq!(s.path_op("path_remove_directory", 3, "hard"), errno::NOTDIR);
    assert_eq!(s.path_op("path_remove_directory", 3, "."), errno::INVAL);
    assert_eq!(s.path_op("path_unlink_file", 3, "hard"), 0);
    assert_eq!(s.path_op("path_remove_directory", 3, "dir/"), 0);
    assert!(
        std::fs::read_dir(&root).unwrap().next().is_none(),
        "sandbox empty again"
    );
}

#[test]
fn symlinks_inside_the_sandbox() {
    let (tmp, mut s) = sandbox_shim("symlinks");
    let root = tmp.path().join("sandbox");
    std::fs::create_dir(root.join("d")).unwrap();
    std::fs::write(root.join("d/target.txt"), b"reached").unwrap();
    // Created by the guest: relative targets only.
    let [t, tl] = s.path(PATH2, "d/target.txt");
    let [l, ll] = s.path(PATH, "ln");
    assert_eq!(s.call("path_symlink", &[t, tl, 3, l, ll]), 0);
    let [t2, t2l] = s.path(PATH2, "/etc/passwd");
    let [l2, l2l] = s.path(PATH, "abs");
    assert!(
        is_refused(s.call("path_symlink", &[t2, t2l, 3, l2, l2l])),
        "absolute link target"
    );
    assert!(!root.join("abs").exists());
    // readlink, with a short buffer too.
    let [pp, pl] = s.path(PATH, "ln");
    assert_eq!(
        s.call("path_readlink", &[3, pp, pl, BUF as u64, 100, OUT as u64]),
        0
    );
    assert_eq!(s.u32_at(OUT), 12);
    assert_eq!(s.read(BUF, 12), b"d/target.txt");
    assert_eq!(
        s.call("path_readlink", &[3, pp, pl, BUF as u64, 4, OUT as u64]),
        0
    );
    assert_eq!(s.u32_at(OUT), 4);
    let [pp, pl] = s.path(PATH, "d");
    assert_eq!(
        s.call("path_readlink", &[3, pp, pl, BUF as u64, 100, OUT as u64]),
        errno::INVAL
    );
    // Followed or not.
    let fd = s.open(3, "ln", 0, RO, 0).unwrap();
    assert_eq!(s.fd_read(fd, 100), Ok(b"reached".to_vec()));
    assert_eq!(s.open_ex(3, 0, "ln", 0, RO, 0), Err(errno::LOOP));
    assert_eq!(
        s.stat(3, "ln", false).unwrap().0,
        abi::FILETYPE_SYMBOLIC_LINK
    );
    assert_eq!(
        s.stat(3, "ln", true).unwrap(),
        (abi::FILETYPE_REGULAR_FILE, 7)
    );
    // Links with `..` that stay inside, chains, a directory link in the middle.
    std::os::unix::fs::symlink("../d", root.join("d/self")).unwrap();
    std::os::unix::fs::symlink("ln", root.join("chain")).unwrap();
    std::os::unix::fs::symlink("d", root.join("dirlink")).unwrap();
    assert_eq!(s.stat(3, "d/self/self/target.txt", true).unwrap().1, 7);
    assert_eq!(s.stat(3, "chain", true).unwrap().1, 7);
    assert_eq!(s.stat(3, "dirlink/target.txt", false).unwrap().1, 7);
    assert_eq!(s.stat(3, "dirlink/../d/target.txt", false).unwrap().1, 7);
    // A loop.
    std::os::unix::fs::symlink("loop2", root.join("loop1")).unwrap();
    std::os::unix::fs::symlink("loop1", root.join("loop2")).unwrap();
    assert_eq!(s.stat(3, "loop1", true), Err(errno::LOOP));
    // Unlinking a link removes the link only.
    assert_eq!(s.path_op("path_unlink_file", 3, "ln"), 0);
    assert!(root.join("d/target.txt").exists());
}

// ---------------------------------------------------------------------------
// Sandbox escapes: each is refused with ENOTCAPABLE (or EPERM).

fn assert_all_refused(s: &mut Shim, path: &str) {
    let e = s.open(3, path, 0, RO, 0).unwrap_err();
    assert!(
        is_refused(e),
        "open {path}: errno {} ({})",
        e,
        errno::name(e)
    );
    let e = s.open(3, path, abi::OFLAGS_CREAT, RW, 0).unwrap_err();
    assert!(is_refused(e), "create {path}: errno {e}");
    let e = s.stat(3, path, true).unwrap_err();
    assert!(is_refused(e), "stat {path}: errno {e}");
    for op in [
        "path_create_directory",
        "path_unlink_file",
        "path_remove_directory",
    ] {
        let e = s.path_op(op, 3, path);
        assert!(is_refused(e), "{op} {path}: errno {e}");
    }
    let [a, al] = s.path(PATH, path);
    let [b, bl] = s.path(PATH2, "inside");
    let e = s.call("path_rename", &[3, a, al, 3, b, bl]);
    assert!(is_refused(e), "rename from {path}: errno {e}");
    let e = s.call("path_rename", &[3, b, bl, 3, a, al]);
    assert!(is_refused(e), "rename to {path}: errno {e}");
}

#[test]
fn escape_with_dotdot_is_refused() {
    let (tmp, mut s) = sandbox_shim("dotdot");
    std::fs::create_dir(tmp.path().join("sandbox/sub")).unwrap();
    std::fs::write(tmp.path().join("sandbox/inside"), b"in").unwrap();
    for p in [
        "..",
        "../secret.txt",
        "sub/../../secret.txt",
        "./sub/../..",
        "sub/../../sandbox/inside",
    ] {
        assert_all_refused(&mut s, p);
    }
    assert_eq!(
        s.stat(3, "sub/../inside", false).unwrap().1,
        2,
        "`..` that stays inside is fine"
    );
    // A subdirectory descriptor is a root of its own: `..` cannot leave it.
    let sub = s.open(3, "sub", abi::OFLAGS_DIRECTORY, RO, 0).unwrap();
    let e = s.open(sub, "../inside", 0, RO, 0).unwrap_err();
    assert!(is_refused(e));
    assert!(tmp.path().join("secret.txt").exists());
    assert_eq!(
        std::fs::read(tmp.path().join("secret.txt")).unwrap(),
        b"top secret"
    );
}

#[test]
fn escape_with_absolute_path_is_refused() {
    let (tmp, mut s) = sandbox_shim("absolute");
    let secret = tmp.path().join("secret.txt");
    for p in ["/", "/etc/passwd", secret.to_str().unwrap(), "//sandbox"] {
        assert_all_refused(&mut s, p);
    }
}

#[test]
fn escape_through_symlink_is_refused() {
    let (tmp, mut s) = sandbox_shim("symlink-out");
    let root = tmp.path().join("sandbox");
    std::os::unix::fs::symlink(tmp.path().join("secret.txt"), root.join("abs_link")).unwrap();
    std::os::unix::fs::symlink("../secret.txt", root.join("rel_link")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("etc_link")).unwrap();
    for p in ["abs_link", "rel_link", "etc_link"] {
        let e = s.open(3, p, 0, RO, 0).unwrap_err();
        assert!(is_refused(e), "open {p}: errno {e}");
        let e = s
            .open(3, p, abi::OFLAGS_CREAT | abi::OFLAGS_TRUNC, RW, 0)
            .unwrap_err();
        assert!(is_refused(e), "truncate {p}: errno {e}");
        let e = s.stat(3, p, true).unwrap_err();
        assert!(is_refused(e), "stat {p}: errno {e}");
        // Not following the link only looks at the link itself.
        assert_eq!(s.stat(3, p, false).unwrap().0, abi::FILETYPE_SYMBOLIC_LINK);
    }
    assert_eq!(
        std::fs::read(tmp.path().join("secret.txt")).unwrap(),
        b"top secret"
    );
}

#[test]
fn escape_through_symlink_in_the_middle_is_refused() {
    let (tmp, mut s) = sandbox_shim("symlink-mid");
    let root = tmp.path().join("sandbox");
    std::fs::create_dir(tmp.path().join("outside")).unwrap();
    std::fs::write(tmp.path().join("outside/file"), b"outside").unwrap();
    std::fs::create_dir(root.join("d")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("outside"), root.join("abs_dir")).unwrap();
    std::os::unix::fs::symlink("../../outside", root.join("d/rel_dir")).unwrap();
    std::os::unix::fs::symlink("..", root.join("up")).unwrap();
    for p in [
        "abs_dir/file",
        "d/rel_dir/file",
        "up/secret.txt",
        "up/sandbox/d",
        "d/../abs_dir/x",
        "abs_dir/new",
    ] {
        assert_all_refused(&mut s, p);
    }
    let [l, ll] = s.path(PATH, "abs_dir/evil");
    let [t, tl] = s.path(PATH2, "x");
    assert!(is_refused(s.call("path_symlink", &[t, tl, 3, l, ll])));
    assert!(!tmp.path().join("outside/new").exists());
    assert!(!tmp.path().join("outside/evil").exists());
    assert!(tmp.path().join("outside/file").exists());
}

// ---------------------------------------------------------------------------
// Bad guest input never panics: it gives an errno.

#[test]
fn bad_pointers_give_an_errno() {
    let (_tmp, mut s) = sandbox_shim("badptr");
    let end = MEM_SIZE as u64;
    let iov_oob = end - 4;
    // The iovec array out of bounds; a buffer out of bounds; a huge count.
    assert_eq!(
        s.call("fd_write", &[1, iov_oob, 1, OUT as u64]),
        errno::FAULT
    );
    s.write(
        IOV,
        &[(MEM_SIZE - 2).to_le_bytes(), 10u32.to_le_bytes()].concat(),
    );
    assert_eq!(
        s.call("fd_write", &[1, IOV as u64, 1, OUT as u64]),
        errno::FAULT
    );
    assert_eq!(
        s.call("fd_read", &[0, IOV as u64, 1, OUT as u64]),
        errno::FAULT
    );
    assert_eq!(
        s.call("fd_write", &[1, IOV as u64, 0xffff_ffff, OUT as u64]),
        errno::FAULT
    );
    s.write(
        IOV,
        &[0xffff_fff0u32.to_le_bytes(), 0x20u32.to_le_bytes()].concat(),
    );
    assert_eq!(
        s.call("fd_write", &[1, IOV as u64, 1, OUT as u64]),
        errno::FAULT,
        "ptr + len wraps"
    );
    // Result pointers out of bounds.
    s.write(IOV, &[BUF.to_le_bytes(), 1u32.to_le_bytes()].concat());
    assert_eq!(s.call("fd_write", &[1, IOV as u64, 1, end]), errno::FAULT);
    assert_eq!(
        s.call("fd_write", &[1, IOV as u64, 1, 0xffff_fffe]),
        errno::FAULT
    );
    assert_eq!(
        s.call("args_sizes_get", &[end - 2, OUT as u64]),
        errno::FAULT
    );
    assert_eq!(
        s.call("args_get", &[end, end]),
        0,
        "no arguments: nothing to write"
    );
    assert_eq!(
        s.call("environ_sizes_get", &[OUT as u64, 0xffff_ffff]),
        errno::FAULT
    );
    assert_eq!(s.call("clock_time_get", &[1, 0, end - 7]), errno::FAULT);
    assert_eq!(s.call("clock_res_get", &[1, 0xffff_ffff]), errno::FAULT);
    assert_eq!(
        s.call("random_get", &[0xffff_0000, 0x10_0000]),
        errno::FAULT
    );
    assert_eq!(s.call("fd_fdstat_get", &[1, end - 8]), errno::FAULT);
    assert_eq!(s.call("fd_filestat_get", &[3, end - 8]), errno::FAULT);
    assert_eq!(s.call("fd_prestat_get", &[3, end - 4]), errno::FAULT);
    assert_eq!(
        s.call("fd_prestat_dir_name", &[3, end - 4, 100]),
        errno::FAULT
    );
    assert_eq!(
        s.call("fd_readdir", &[3, end - 10, 100, 0, OUT as u64]),
        errno::FAULT
    );
    assert_eq!(s.call("fd_seek", &[3, 0, 0, end]), errno::FAULT);
    assert_eq!(
        s.call("poll_oneoff", &[end - 10, BUF as u64, 1, OUT as u64]),
        errno::FAULT
    );
    assert_eq!(
        s.call(
            "poll_oneoff",
            &[BUF as u64, BUF as u64, 0x1000_0000, OUT as u64]
        ),
        errno::FAULT
    );
    // Paths out of bounds or not UTF-8.
    assert_eq!(
        s.call("path_create_directory", &[3, end - 2, 5]),
        errno::FAULT
    );
    assert_eq!(
        s.call("path_create_directory", &[3, 0xffff_ffff, 0xffff_ffff]),
        errno::FAULT
    );
    s.write(PATH, b"bad\xff\xfename");
    assert_eq!(
        s.call("path_create_directory", &[3, PATH as u64, 9]),
        errno::ILSEQ
    );
    let open = |s: &mut Shim, path: u64, len: u64, out: u64| {
        s.call(
            "path_open",
            &[3, 1, path, len, abi::OFLAGS_CREAT as u64, RW, RW, 0, out],
        )
    };
    assert_eq!(open(&mut s, PATH as u64, 9, OUT as u64), errno::ILSEQ);
    assert_eq!(open(&mut s, end, 1, OUT as u64), errno::FAULT);
    s.write(PATH, b"ok.txt");
    assert_eq!(
        open(&mut s, PATH as u64, 6, end),
        errno::FAULT,
        "fd result out of bounds"
    );
    assert_eq!(
        s.path_op("path_unlink_file", 3, "ok.txt"),
        errno::NOENT,
        "nothing was created"
    );
    s.write(PATH, b"a\0b");
    assert_eq!(
        open(&mut s, PATH as u64, 3, OUT as u64),
        errno::INVAL,
        "NUL in a path"
    );
    assert_eq!(
        open(&mut s, PATH as u64, 0, OUT as u64),
        errno::NOENT,
        "empty path"
    );
}

#[test]
fn iovecs_totalling_over_4_gib_are_einval() {
    // 40000 pages (2.6 GB, never touched): two iovecs of 2.5 GB each.
    let wat = r#"(module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "fd_read" (func $r (param i32 i32 i32 i32) (result i32)))
      (memory 40000)
      (data (i32.const 0) "\00\01\00\00\00\00\00\95\00\01\00\00\00\00\00\95")
      (func (export "write") (result i32) (call $w (i32.const 1) (i32.const 0) (i32.const 2) (i32.const 16)))
      (func (export "read") (result i32) (call $r (i32.const 0) (i32.const 0) (i32.const 2) (i32.const 16))))"#;
    let mut ctx = WasiCtx::new();
    ctx.capture_output().set_stdin(vec![1; 10]);
    let (mut store, inst) = instantiate(wat, ctx);
    for name in ["write", "read"] {
        let f = inst.get_func(&store, name).unwrap();
        let mut r = [Val::I32(0)];
        f.call(&mut store, &[], &mut r).unwrap();
        assert_eq!(r[0].i32(), Some(errno::INVAL as i32), "{name}");
    }
    assert!(store.data_mut().take_stdout().is_empty());
}

#[test]
fn a_module_without_memory_gets_efault() {
    let mut ctx = WasiCtx::new();
    ctx.capture_output();
    let (mut store, inst) = instantiate(&shim_wat(false), ctx);
    let f = inst.get_func(&store, "fd_write").unwrap();
    let mut r = [Val::I32(0)];
    f.call(
        &mut store,
        &[Val::I32(1), Val::I32(0), Val::I32(1), Val::I32(0)],
        &mut r,
    )
    .unwrap();
    assert_eq!(r[0].i32(), Some(errno::FAULT as i32));
    let f = inst.get_func(&store, "sched_yield").unwrap();
    f.call(&mut store, &[], &mut r).unwrap();
    assert_eq!(r[0].i32(), Some(0));
}

#[test]
fn extreme_arguments_to_every_function_never_trap() {
    let (tmp, mut s) = sandbox_shim("extreme");
    std::fs::write(tmp.path().join("sandbox/f"), b"data").unwrap();
    let values: [u64; 8] = [
        0,
        1,
        3,
        0xffff,
        MEM_SIZE as u64 - 1,
        0x7fff_ffff,
        0xffff_ffff,
        u64::MAX,
    ];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for (name, params, _) in SIGS {
        if *name == "proc_exit" || *name == "poll_oneoff" {
            continue;
        }
        for _ in 0..150 {
            let args: Vec<u64> = params
                .chars()
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    values[(seed % values.len() as u64) as usize]
                })
                .collect();
            let r = s.try_call(name, &args);
            assert!(r.is_ok(), "{name}{args:?} trapped: {:?}", r.err());
        }
    }
    assert!(tmp.path().join("secret.txt").exists());
}

// ---------------------------------------------------------------------------
// poll_oneoff, descriptors, unsupported functions.

/// Writes a subscription at `at`.
fn subscription(
    s: &mut Shim,
    at: u32,
    userdata: u64,
    tag: u8,
    word: u32,
    timeout: u64,
    flags: u16,
) {
    let mut b = [0u8; 48];
    b[0..8].copy_from_slice(&userdata.to_le_bytes());
    b[8] = tag;
    b[16..20].copy_from_slice(&word.to_le_bytes());
    b[24..32].copy_from_slice(&timeout.to_le_bytes());
    b[40..42].copy_from_slice(&flags.to_le_bytes());
    s.write(at, &b);
}

#[test]
fn poll_oneoff_clock_and_stdin() {
    let mut ctx = WasiCtx::new();
    ctx.set_stdin(b"abc".to_vec()).capture_output();
    let mut s = Shim::new(ctx);
    let (subs, events) = (BUF, BUF + 1024);
    // A 20 ms relative timeout on the monotonic clock.
    subscription(
        &mut s,
        subs,
        42,
        abi::EVENTTYPE_CLOCK,
        abi::CLOCK_MONOTONIC,
        20_000_000,
        0,
    );
    let t = Instant::now();
    assert_eq!(
        s.call("poll_oneoff", &[subs as u64, events as u64, 1, OUT as u64]),
        0
    );
    assert!(t.elapsed() >= Duration::from_millis(20));
    assert_eq!(s.u32_at(OUT), 1);
    assert_eq!(s.u64_at(events), 42);
    assert_eq!(s.read(events + 8, 3), [0, 0, abi::EVENTTYPE_CLOCK]);
    // An absolute deadline already passed.
    subscription(
        &mut s,
        subs,
        7,
        abi::EVENTTYPE_CLOCK,
        abi::CLOCK_REALTIME,
        1,
        abi::SUBCLOCK_ABSTIME,
    );
    assert_eq!(
        s.call("poll_oneoff", &[subs as u64, events as u64, 1, OUT as u64]),
        0
    );
    assert_eq!(s.u64_at(events), 7);
    // stdin readable (3 bytes) wins over a 10 s timeout at once.
    subscription(
        &mut s,
        subs,
        1,
        abi::EVENTTYPE_CLOCK,
        abi::CLOCK_MONOTONIC,
        10_000_000_000,
        0,
    );
    subscription(&mut s, subs + 48, 2, abi::EVENTTYPE_FD_READ, 0, 0, 0);
    subscription(&mut s, subs + 96, 3, abi::EVENTTYPE_FD_WRITE, 1, 0, 0);
    subscription(&mut s, subs + 144, 4, abi::EVENTTYPE_FD_READ, 77, 0, 0);
    let t = Instant::now();
    assert_eq!(
        s.call("poll_oneoff", &[subs as u64, events as u64, 4, OUT as u64]),
        0
    );
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(s.u32_at(OUT), 3);
    assert_eq!(s.u64_at(events), 2);
    assert_eq!(s.read(events + 10, 1)[0], abi::EVENTTYPE_FD_READ);
    assert_eq!(s.u64_at(events + 16), 3, "nbytes");
    assert_eq!(s.u64_at(events + 32), 3);
    assert_eq!(s.read(events + 32 + 10, 1)[0], abi::EVENTTYPE_FD_WRITE);
    assert_eq!(s.u64_at(events + 64), 4);
    assert_eq!(
        u16::from_le_bytes(s.read(events + 64 + 8, 2).try_into().unwrap()),
        errno::BADF
    );
    // At end of input stdin is ready with a hangup.
    assert_eq!(s.fd_read(0, 10), Ok(b"abc".to_vec()));
    subscription(&mut s, subs, 5, abi::EVENTTYPE_FD_READ, 0, 0, 0);
    assert_eq!(
        s.call("poll_oneoff", &[subs as u64, events as u64, 1, OUT as u64]),
        0
    );
    assert_eq!(s.u64_at(events + 16), 0);
    assert_eq!(
        u16::from_le_bytes(s.read(events + 24, 2).try_into().unwrap()),
        abi::EVENTRW_HANGUP
    );
    // Errors: no subscriptions, a bad clock id, a bad tag.
    assert_eq!(
        s.call("poll_oneoff", &[subs as u64, events as u64, 0, OUT as u64]),
        errno::INVAL
    );
    subscription(&mut s, subs, 6, abi::EVENTTYPE_CLOCK, 99, 0, 0);
    assert_eq!(
        s.call("poll_oneoff", &[subs as u64, events as u64, 1, OUT as u64]),
        0
    );
    assert_eq!(
        u16::from_le_bytes(s.read(events + 8, 2).try_into().unwrap()),
        errno::INVAL
    );
    subscription(&mut s, subs, 6, 9, 0, 0, 0);
    assert_eq!(
        s.call("poll_oneoff", &[subs as u64, events as u64, 1, OUT as u64]),
        errno::INVAL
    );
}

/// Run in a child process (see `poll_oneoff_on_the_process_stdin`) with a
/// pipe as its stdin: poll times out before input, then sees input arrive.
#[test]
fn inherited_stdin_child() {
    if std::env::var_os("WDB_WASI_STDIN_CHILD").is_none() {
        return;
    }
    let mut ctx = WasiCtx::new();
    ctx.capture_output();
    let mut s = Shim::new(ctx);
    let (subs, events) = (BUF, BUF + 1024);
    subscription(
        &mut s,
        subs,
        1,
        abi::EVENTTYPE_CLOCK,
        abi::CLOCK_MONOTONIC,
        50_000_000,
        0,
    );
    subscription(&mut s, subs + 48, 2, abi::EVENTTYPE_FD_READ, 0, 0, 0);
    assert_eq!(
        s.call("poll_oneoff", &[subs as u64, events as u64, 2, OUT as u64]),
        0
    );
    assert_eq!(
        (s.u32_at(OUT), s.u64_at(events)),
        (1, 1),
        "the clock fires first: no input yet"
    );
    eprintln!("{STDIN_MARKER}");
    subscription(
        &mut s,
        subs,
        1,
        abi::EVENTTYPE_CLOCK,
        abi::CLOCK_MONOTONIC,
        10_000_000_000,
        0,
    );
    let t = Instant::now();
    assert_eq!(
        s.call("poll_oneoff", &[subs as u64, events as u64, 2, OUT as u64]),
        0
    );
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(
        (s.u32_at(OUT), s.u64_at(events)),
        (1, 2),
        "stdin becomes readable"
    );
    let mut got = Vec::new();
    while got.len() < 5 {
        got.extend(s.fd_read(0, 100).unwrap());
    }
    assert_eq!(got, b"hello");
    assert_eq!(s.fd_read(0, 100), Ok(vec![]), "end of input");
    assert_eq!(
        s.call(
            "poll_oneoff",
            &[subs as u64 + 48, events as u64, 1, OUT as u64]
        ),
        0
    );
    assert_eq!(
        u16::from_le_bytes(s.read(events + 24, 2).try_into().unwrap()),
        abi::EVENTRW_HANGUP
    );
}

const STDIN_MARKER: &str = "child: waiting for stdin";

#[test]
fn poll_oneoff_on_the_process_stdin() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "inherited_stdin_child",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("WDB_WASI_STDIN_CHILD", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the test binary");
    let mut stdin = child.stdin.take().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    // Input is sent only once the child has seen a poll time out without it.
    let mut log = String::new();
    while !log.contains(STDIN_MARKER) {
        if stderr.read_line(&mut log).unwrap() == 0 {
            break;
        }
    }
    let _ = stdin.write_all(b"hello");
    drop(stdin);
    stderr.read_to_string(&mut log).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &log;
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(text.contains("1 passed"), "the child ran the test:\n{text}");
}

/// Run in a child process (see `inherited_output_is_written_through`):
/// writes to the real stdout and stderr without a newline, then dies by
/// SIGKILL, so only bytes already handed to the OS can reach the parent.
#[test]
fn inherited_output_child() {
    if std::env::var_os("WDB_WASI_OUTPUT_CHILD").is_none() {
        return;
    }
    let mut s = Shim::new(WasiCtx::new());
    assert_eq!(s.fd_write(1, b"[written through to stdout]"), Ok(27));
    assert_eq!(s.fd_write(2, b"[written through to stderr]"), Ok(27));
    let _ = std::process::Command::new("kill")
        .args(["-9", &std::process::id().to_string()])
        .status();
    std::thread::sleep(Duration::from_secs(10));
}

#[test]
fn inherited_output_is_written_through() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "inherited_output_child",
            "--test-threads=1",
            "--nocapture",
        ])
        .env("WDB_WASI_OUTPUT_CHILD", "1")
        .output()
        .expect("run the test binary");
    assert!(!out.status.success(), "the child was killed");
    assert!(String::from_utf8_lossy(&out.stdout).contains("[written through to stdout]"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[written through to stderr]"));
}

#[test]
fn renumber_and_close_descriptors() {
    let (tmp, mut s) = sandbox_shim("renumber");
    std::fs::write(tmp.path().join("sandbox/a"), b"AAA").unwrap();
    let fd = s.open(3, "a", 0, RO, 0).unwrap();
    assert_eq!(fd, 4, "lowest free descriptor");
    // Moving a file over stdin makes it the program's input.
    assert_eq!(s.call("fd_renumber", &[fd as u64, 0]), 0);
    assert_eq!(s.fd_read(0, 10), Ok(b"AAA".to_vec()));
    assert_eq!(s.fd_read(fd, 1), Err(errno::BADF));
    assert_eq!(s.call("fd_renumber", &[0, 50]), errno::BADF);
    assert_eq!(s.call("fd_renumber", &[50, 0]), errno::BADF);
    assert_eq!(s.call("fd_close", &[0]), 0);
    assert_eq!(
        s.open(3, "a", 0, RO, 0),
        Ok(0),
        "closed descriptors are reused"
    );
}

#[test]
fn unsupported_functions_answer_with_an_errno() {
    let mut s = Shim::new(WasiCtx::new());
    assert_eq!(s.call("proc_raise", &[6]), errno::NOSYS);
    assert_eq!(s.call("sched_yield", &[]), 0);
    assert_eq!(s.call("sock_accept", &[1, 0, OUT as u64]), errno::NOTSUP);
    assert_eq!(s.call("sock_accept", &[40, 0, OUT as u64]), errno::BADF);
    assert_eq!(
        s.call("sock_recv", &[0, IOV as u64, 1, 0, OUT as u64, OUT2 as u64]),
        errno::NOTSUP
    );
    assert_eq!(
        s.call("sock_send", &[1, IOV as u64, 1, 0, OUT as u64]),
        errno::NOTSUP
    );
    assert_eq!(s.call("sock_shutdown", &[1, 3]), errno::NOTSUP);
    assert_eq!(s.call("sock_shutdown", &[9, 3]), errno::BADF);
    for f in ["fd_close", "fd_sync", "fd_datasync"] {
        assert_eq!(s.call(f, &[1000]), errno::BADF, "{f}");
    }
}

// ---------------------------------------------------------------------------
// The C sample programs (clang + wasi-libc), compared with samples/expected.

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples")
}

/// Manifest rows: (test, module, args, exit).
fn manifest() -> Vec<(String, String, Vec<String>, i32)> {
    let text =
        std::fs::read_to_string(samples_dir().join("expected/manifest.tsv")).expect("manifest");
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .skip(1) // header
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert_eq!(cols.len(), 4, "manifest line {l:?}");
            let args = cols[2].split_whitespace().map(str::to_string).collect();
            (
                cols[0].to_string(),
                cols[1].to_string(),
                args,
                cols[3].trim().parse().expect("exit code"),
            )
        })
        .collect()
}

fn drop_timing(out: &str) -> String {
    out.lines()
        .filter(|l| !l.starts_with("kernel_ms"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn run_sample(test: &str, strategy: Strategy) {
    let rows = manifest();
    let (_, module, args, exit) = rows
        .iter()
        .find(|r| r.0 == test)
        .unwrap_or_else(|| panic!("{test} in manifest"));
    let engine = Engine::new(Config {
        strategy,
        ..Config::default()
    })
    .expect("engine");
    let module_path = samples_dir().join(module);
    let m = Module::from_file(&engine, &module_path).expect("sample module");
    let mut ctx = WasiCtx::new();
    ctx.args(
        std::iter::once(module.clone())
            .chain(args.iter().cloned())
            .collect(),
    )
    .capture_output();
    let mut store = Store::new(&engine, ctx);
    let mut linker = Linker::new();
    wasi::add_to_linker(&mut linker, &mut store, get_ctx).unwrap();
    let inst = linker
        .instantiate(&mut store, &m)
        .expect("instantiate sample");
    let code = match run_start(&mut store, &inst) {
        Ok(()) => 0,
        Err(e) => match e.as_trap() {
            Some(t) if t.code == TrapCode::Exit => t.exit_code.unwrap_or(0),
            _ => panic!("{test}: {e}"),
        },
    };
    let stdout = String::from_utf8(store.data_mut().take_stdout()).expect("utf-8 output");
    let stderr = String::from_utf8_lossy(&store.data_mut().take_stderr()).into_owned();
    let expected = std::fs::read_to_string(samples_dir().join(format!("expected/{test}.txt")))
        .expect("expected output");
    assert_eq!(code, *exit, "{test}: exit code (stderr: {stderr})");
    assert_eq!(
        drop_timing(&stdout),
        drop_timing(&expected),
        "{test}: stdout"
    );
    if *exit != 0 {
        assert!(
            !stderr.is_empty(),
            "{test}: a failing run explains itself on stderr"
        );
    }
}

/// The strategy a sample runs under: baseline unless its row names one.
fn strategy_of(named: &[Strategy]) -> Strategy {
    named.first().copied().unwrap_or(Strategy::Baseline)
}

macro_rules! samples {
    ($($f:ident => $name:literal $(in $s:ident)?,)*) => {
        $(#[test] fn $f() { run_sample($name, strategy_of(&[$(Strategy::$s)?])); })*

        #[test]
        fn samples_manifest_is_fully_covered() {
            let covered = [$($name),*];
            for (test, ..) in manifest() {
                assert!(covered.contains(&test.as_str()), "manifest test {test} has no #[test] here");
            }
        }
    };
}

samples! {
    sample_fib => "fib",
    sample_fib_g => "fib-g",
    sample_nbody => "nbody",
    sample_matmul => "matmul",
    sample_sha256 => "sha256",
    sample_sha256_g => "sha256-g",
    sample_sieve => "sieve",
    sample_qsort => "qsort",
    sample_interp => "interp",
    sample_memstr => "memstr",
    sample_debugme => "debugme",
    sample_debugme_g => "debugme-g",
    sample_fib_badarg => "fib-badarg",
    sample_big => "big",
    // Vector code (-msimd128), in baseline code like the rest.
    sample_nbody_simd => "nbody-simd",
    sample_matmul_simd => "matmul-simd",
    sample_sha256_simd => "sha256-simd",
    sample_sieve_simd => "sieve-simd",
    sample_interp_simd => "interp-simd",
    sample_imgproc => "imgproc",
    sample_imgproc_g => "imgproc-g",
}
