//! A compiled module: validated metadata plus machine code of one tier (or,
//! with [`Strategy::Mixed`], of both tiers alternating by function).

use crate::code::{CodeKind, CodeObject, FuncCode, Tier};
use crate::codecache::{CodeCache, CompileContext, CompiledModule};
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::module::ModuleInfo;
use std::io::Read;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Clone)]
pub struct Module {
    pub(crate) inner: Arc<CompiledModule>,
}

/// Accepts the binary format or the text format. Bytes that are not UTF-8
/// text are taken as binary (so the binary decoder names the bad byte).
pub fn wasm_bytes(bytes: &[u8]) -> Result<Vec<u8>> {
    if bytes.starts_with(b"\0asm") {
        return Ok(bytes.to_vec());
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Ok(bytes.to_vec());
    };
    parse_text(text)
}

/// Parses the text format; errors are one line with line and column.
fn parse_text(text: &str) -> Result<Vec<u8>> {
    let one_line = |e: wast::Error| {
        let (line, col) = e.span().linecol_in(text);
        Error::Text(format!(
            "line {}, column {}: {}",
            line + 1,
            col + 1,
            e.message()
        ))
    };
    let buf = wast::parser::ParseBuffer::new(text).map_err(one_line)?;
    let mut wat = wast::parser::parse::<wast::Wat>(&buf).map_err(one_line)?;
    wat.encode().map_err(one_line)
}

impl Module {
    /// Decodes, validates and compiles a module (binary or text format).
    pub fn new(engine: &Engine, bytes: impl AsRef<[u8]>) -> Result<Module> {
        let bytes = wasm_bytes(bytes.as_ref())?;
        Module::from_binary(engine, bytes)
    }

    pub fn from_file(engine: &Engine, path: impl AsRef<std::path::Path>) -> Result<Module> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            context: format!("cannot read {}", path.display()),
            source: e,
        })?;
        Module::new(engine, bytes)
    }

    pub fn from_binary(engine: &Engine, bytes: Vec<u8>) -> Result<Module> {
        let start = Instant::now();
        let config = engine.config();
        let mut info = ModuleInfo::parse_with(bytes, config.features)?;
        let to_validate = std::mem::take(&mut info.to_validate);
        let sig_ids: Vec<u32> = info.types.iter().map(|t| engine.intern(t).0).collect();
        let cx = CompileContext {
            info: &info,
            sig_ids: &sig_ids,
            strategy: config.strategy,
        };
        let threads = config.compile_threads.max(1);
        let funcs = CodeCache::compile_module(cx, to_validate, threads, config.lazy)?;
        Module::assemble(engine, info, sig_ids, funcs, start)
    }

    /// Decodes, validates and compiles a module read from `reader` (a file, a
    /// pipe, a socket), compiling each function as its body arrives, so
    /// compilation overlaps reading (streaming compilation). The module is
    /// the same, and errors are the same, as [`Module::new`] gives for the
    /// same bytes. The text format is accepted too (read whole, then parsed).
    pub fn from_reader(engine: &Engine, reader: impl std::io::Read) -> Result<Module> {
        let start = Instant::now();
        let mut reader = reader;
        let mut magic = Vec::with_capacity(4);
        (&mut reader)
            .take(4)
            .read_to_end(&mut magic)
            .map_err(|e| Error::Io {
                context: "reading the module".into(),
                source: e,
            })?;
        if magic != b"\0asm" {
            let mut bytes = magic;
            reader.read_to_end(&mut bytes).map_err(|e| Error::Io {
                context: "reading the module".into(),
                source: e,
            })?;
            return Module::new(engine, bytes);
        }
        let streamed =
            crate::streaming::compile(engine, std::io::Cursor::new(magic).chain(reader))?;
        Module::assemble(
            engine,
            streamed.info,
            streamed.sig_ids,
            streamed.funcs,
            start,
        )
    }

    /// Publishes and caches newly compiled code (`None`: lazy compilation).
    fn assemble(
        engine: &Engine,
        info: ModuleInfo,
        sig_ids: Vec<u32>,
        funcs: Option<Vec<(u32, FuncCode)>>,
        start: Instant,
    ) -> Result<Module> {
        let cx = CompileContext {
            info: &info,
            sig_ids: &sig_ids,
            strategy: engine.config().strategy,
        };
        let (cache, code) = CodeCache::assemble(cx, funcs, start.elapsed())?;
        let tier = match code.kind {
            CodeKind::Wasm(t) => t,
            CodeKind::Trampoline => Tier::Baseline,
        };
        Ok(Module {
            inner: Arc::new(CompiledModule {
                engine: engine.clone(),
                info: Arc::new(info),
                sig_ids,
                cache,
                code,
                tier,
                compile_time: start.elapsed(),
            }),
        })
    }

    pub fn info(&self) -> &ModuleInfo {
        &self.inner.info
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn tier(&self) -> Tier {
        self.inner.tier
    }

    /// The tier whose code runs function `func` (a defined function) as compiled
    /// by [`Module::new`].
    pub fn func_tier(&self, func: u32) -> Tier {
        self.inner.func_tier(func)
    }

    /// Why the optimizing tier refuses function `func` (the large-function
    /// guard), or `None` when it takes it.
    pub fn too_large_to_optimize(&self, func: u32) -> Option<String> {
        crate::optimizing::too_large_to_optimize(&self.inner.info, func)
    }

    /// Wall time of decoding, validation and compilation.
    pub fn compile_time(&self) -> Duration {
        self.inner.compile_time
    }

    /// Defined functions that have code in `tier` now (under lazy compilation,
    /// those called so far).
    pub fn compiled_functions(&self, tier: Tier) -> usize {
        let info = &self.inner.info;
        (info.num_imported_funcs..info.num_funcs())
            .filter(|&f| self.inner.code_ptr(f, tier).is_some())
            .count()
    }

    /// Bytes of machine code produced.
    pub fn machine_code_size(&self) -> usize {
        self.inner.code.code_len()
    }

    pub fn code(&self) -> &Arc<CodeObject> {
        &self.inner.code
    }

    /// Code of defined function `func` in `tier`, if compiled.
    pub fn code_ptr(&self, func: u32, tier: Tier) -> Option<*const u8> {
        self.inner.code_ptr(func, tier)
    }

    /// Compile time of `func` in each tier (by `Tier as usize`), if compiled.
    pub fn compile_times(&self, func: u32) -> [Option<Duration>; 3] {
        self.inner.compile_times(func)
    }
}
