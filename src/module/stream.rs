//! Incremental decoding and validation of a module read from a byte stream
//! (a file, a pipe, a socket), for streaming compilation as V8 does it.
//!
//! wasmparser's incremental parser (`Parser::parse(data, eof)`) is fed what
//! has arrived so far. Everything before the code section is complete when
//! the code section starts, so a copy of that header (with one empty body
//! cell per defined function) is handed out first; then each function body is
//! handed out as soon as its bytes are in, with its validator. Sections after
//! the code section (data, names, custom) are parsed as they arrive, and at
//! the end the complete [`ModuleInfo`] is the same as [`ModuleInfo::parse`]
//! makes of the same bytes.
//!
//! Errors are the same, at the same byte offsets, as for the whole buffer:
//! the parser's state and input are the same, and the end of the stream is
//! only declared (`eof = true`) once the reader has no more bytes.

use super::{new_parser, new_validator, FuncBody, ModuleInfo, StreamedBody};
use crate::error::{Error, Result};
use std::io::Read;
use std::sync::Arc;
use wasmparser::{Chunk, FuncToValidate, Parser, Payload, Validator, ValidatorResources};

/// Bytes asked of the reader at a time (a pipe returns what it has; a file
/// fills it): small enough that bodies go to the compilers as they arrive.
const READ_CHUNK: usize = 256 << 10;

/// What the stream parser has found next.
pub(crate) enum StreamEvent {
    /// Everything before the function bodies, complete. Bodies arrive in its
    /// `streamed` cells. Always the first event.
    Header(Arc<ModuleInfo>),
    /// Defined function `func`'s body is in the header's cell; validate it
    /// with `validator`.
    Body {
        func: u32,
        validator: FuncToValidate<ValidatorResources>,
    },
}

/// Reads, decodes and validates a module from `R` (see the module docs).
pub(crate) struct StreamParser<R> {
    reader: R,
    /// Every byte read so far (the module bytes, once complete).
    buf: Vec<u8>,
    /// Bytes of `buf` the parser has consumed.
    pos: usize,
    eof: bool,
    parser: Parser,
    validator: Validator,
    /// The module as parsed so far (bodies as ranges into `buf`).
    info: ModuleInfo,
    header: Option<Arc<ModuleInfo>>,
    /// The header was made but not yet returned.
    header_pending: bool,
    done: bool,
}

impl<R: Read> StreamParser<R> {
    /// A parser validating under `features` (see [`ModuleInfo::parse_with`]).
    pub fn new(reader: R, features: wasmparser::WasmFeatures) -> StreamParser<R> {
        let mut info = ModuleInfo::empty();
        info.features = features;
        StreamParser {
            reader,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            parser: new_parser(features),
            validator: new_validator(features),
            info,
            header: None,
            header_pending: false,
            done: false,
        }
    }

    /// The next event, or `None` once the module has ended.
    pub fn next_event(&mut self) -> Result<Option<StreamEvent>> {
        loop {
            if self.header_pending {
                self.header_pending = false;
                let header = self.header.clone().expect("made before it is pending");
                return Ok(Some(StreamEvent::Header(header)));
            }
            if self.done {
                return Ok(None);
            }
            let chunk = self
                .parser
                .parse(&self.buf[self.pos..], self.eof)
                .map_err(Error::invalid)?;
            let (consumed, payload) = match chunk {
                Chunk::NeedMoreData(hint) => {
                    self.fill(hint)?;
                    continue;
                }
                Chunk::Parsed { consumed, payload } => (consumed, payload),
            };
            self.pos += consumed;
            let code_start = matches!(payload, Payload::CodeSectionStart { .. });
            let end = matches!(payload, Payload::End(_));
            let body = match &payload {
                Payload::CodeSectionEntry(b) => Some(b.range()),
                _ => None,
            };
            let func = self.info.take_payload(&mut self.validator, payload)?;
            if code_start || (end && self.header.is_none()) {
                self.header = Some(Arc::new(self.info.header_copy()));
                self.header_pending = true;
            }
            self.done = end;
            if let (Some(validator), Some(range)) = (func, body) {
                let k = self.info.bodies.len() - 1;
                let func = self.info.num_imported_funcs + k as u32;
                let cell = self
                    .header
                    .as_ref()
                    .and_then(|h| h.streamed.get(k))
                    .ok_or_else(|| {
                        Error::Internal(format!("body of function {func} before its header"))
                    })?;
                let range = range.start as usize..range.end as usize;
                let _ = cell.set(StreamedBody {
                    bytes: self.buf[range.clone()].into(),
                    body: FuncBody { range },
                });
                return Ok(Some(StreamEvent::Body { func, validator }));
            }
        }
    }

    /// Reads at least one more byte (at least `hint` if the stream has them),
    /// or notes the end of the stream.
    fn fill(&mut self, hint: usize) -> Result<()> {
        let want = hint.clamp(1, usize::MAX / 2).max(READ_CHUNK);
        let have = self.buf.len();
        self.buf.resize(have + want, 0);
        let mut got = 0;
        // One read suffices unless the parser needs more than it returned:
        // a pipe hands over what it holds, so bodies reach the compilers early.
        while got < hint.min(want) {
            match self.reader.read(&mut self.buf[have + got..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(have + got);
                    return Err(Error::Io {
                        context: format!("reading the module (after {} bytes)", have + got),
                        source: e,
                    });
                }
            }
        }
        self.buf.truncate(have + got);
        Ok(())
    }

    /// The complete module, once [`StreamParser::next_event`] returned `None`.
    pub fn finish(self) -> ModuleInfo {
        let mut info = self.info;
        let mut bytes = self.buf;
        bytes.truncate(self.pos);
        info.bytes = bytes;
        info
    }
}
