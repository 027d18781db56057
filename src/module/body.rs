//! Reading a defined function's body for compilation, shared by both tiers:
//! the body parsed with the features wdb validates against, its locals
//! (validated when a validator is given), and the operator reader after them.

use super::ModuleInfo;
use crate::error::Error;
use crate::types::ValType;
use wasmparser::{FuncValidator, OperatorsReader, ValidatorResources};

/// Most locals a function may declare (a guard against absurd frames).
const MAX_LOCALS: usize = 50_000;

/// Why a function body could not be compiled.
#[derive(Debug)]
pub enum BodyError {
    /// Malformed or invalid: a validation error with its byte offset.
    Invalid(wasmparser::BinaryReaderError),
    /// Valid but not supported by the compiler.
    Unsupported { offset: usize, message: String },
}

impl BodyError {
    pub fn at(offset: usize, message: impl Into<String>) -> BodyError {
        BodyError::Unsupported {
            offset,
            message: message.into(),
        }
    }

    pub fn into_error(self, func: u32) -> Error {
        match self {
            BodyError::Invalid(e) => Error::invalid(e),
            BodyError::Unsupported { offset, message } => Error::Compile {
                func,
                offset,
                message,
            },
        }
    }
}

impl From<wasmparser::BinaryReaderError> for BodyError {
    fn from(e: wasmparser::BinaryReaderError) -> Self {
        BodyError::Invalid(e)
    }
}

/// A body ready to compile.
pub struct FuncBodyReader<'a> {
    /// Parameters then declared locals.
    pub locals: Vec<ValType>,
    /// The operators, after the local declarations.
    pub ops: OperatorsReader<'a>,
    /// Module byte offset of the body's first byte.
    pub start: usize,
    /// Length of the body in bytes.
    pub len: usize,
}

impl ModuleInfo {
    /// Reads defined function `func`'s body up to its first operator.
    pub fn read_body(
        &self,
        func: u32,
        validator: Option<&mut FuncValidator<ValidatorResources>>,
    ) -> Result<FuncBodyReader<'_>, BodyError> {
        let (bytes, start) = self
            .body_bytes(func)
            .ok_or_else(|| BodyError::at(0, format!("function {func} has no body")))?;
        let mut reader = wasmparser::BinaryReader::new(bytes, start as u64);
        // Parse with the validator's features, so encodings that later proposals
        // reinterpret (e.g. memory.grow's reserved byte) are rejected here too.
        reader.set_features(self.features);
        let body = wasmparser::FunctionBody::new(reader);
        let mut locals: Vec<ValType> = self.func_type(func).params().to_vec();
        let mut validator = validator;
        let mut lr = body.get_locals_reader()?;
        for _ in 0..lr.get_count() {
            let offset = lr.original_position() as usize;
            let (count, t) = lr.read()?;
            if let Some(v) = validator.as_mut() {
                v.define_locals(offset as u64, count, t)?;
            }
            let vt = ValType::from_wasmparser(t)
                .ok_or_else(|| BodyError::at(offset, "unsupported local type"))?;
            if locals.len() + count as usize > MAX_LOCALS {
                return Err(BodyError::at(offset, "too many locals"));
            }
            locals.extend(std::iter::repeat_n(vt, count as usize));
        }
        let ops = body.get_operators_reader()?;
        Ok(FuncBodyReader {
            locals,
            ops,
            start,
            len: bytes.len(),
        })
    }

    /// Validates defined function `func`'s body without compiling it (lazy
    /// compilation validates every body up front, as V8 does with lazy
    /// validation off). Reports the same errors, at the same offsets, as
    /// compiling it with a validator would.
    pub(crate) fn validate_body(
        &self,
        func: u32,
        validator: FuncValidator<ValidatorResources>,
    ) -> Result<(), crate::error::Error> {
        let mut validator = validator;
        let res = (|| -> Result<(), BodyError> {
            let mut body = self.read_body(func, Some(&mut validator))?;
            while !body.ops.eof() {
                let (op, offset) = body.ops.read_with_offset()?;
                validator.op(offset, &op)?;
            }
            body.ops.finish()?;
            Ok(())
        })();
        res.map_err(|e| e.into_error(func))
    }
}
