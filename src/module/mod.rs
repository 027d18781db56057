//! Modules: decoding and validation with wasmparser, and the metadata the
//! runtime, both compilers and the debugger need (types, imports, exports,
//! segments, names, custom sections, function body ranges).

mod body;
pub mod reftype;
mod stream;
mod vector_use;

pub use body::{BodyError, FuncBodyReader};
pub(crate) use stream::{StreamEvent, StreamParser};

use crate::error::{Error, Result};
use crate::types::{FuncType, ValType};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use wasmparser::{
    ExternalKind, FuncToValidate, Parser, Payload, TypeRef, ValidPayload, Validator,
    ValidatorResources, WasmFeatures,
};

/// Wasm 2.0 (with its 128-bit SIMD), relaxed SIMD, tail calls, extended
/// constant expressions, exception handling (the standard `exnref` form
/// and the legacy `try`/`catch`/`rethrow`/`delegate` form), multiple
/// memories, 64-bit memories and typed function references.
pub fn features() -> WasmFeatures {
    WasmFeatures::WASM2
        | WasmFeatures::RELAXED_SIMD
        | WasmFeatures::TAIL_CALL
        | WasmFeatures::EXTENDED_CONST
        | WasmFeatures::EXCEPTIONS
        | WasmFeatures::LEGACY_EXCEPTIONS
        | WasmFeatures::MULTI_MEMORY
        | WasmFeatures::MEMORY64
        | WasmFeatures::FUNCTION_REFERENCES
        // Recursion groups of function types, and `global.get` of defined
        // globals in constant expressions, come with GC in the validator;
        // GC types themselves are refused (see `reftype`).
        | WasmFeatures::GC
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConstExpr {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    V128(u128),
    RefNull(ValType),
    RefFunc(u32),
    GlobalGet(u32),
    /// An extended constant expression (more than one operator: integer
    /// `add`/`sub`/`mul` over constants and `global.get`), in order.
    Ops(std::sync::Arc<[ConstOp]>),
}

/// One operator of an extended constant expression (validation has
/// checked the types and the stack).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConstOp {
    I32(i32),
    I64(i64),
    GlobalGet(u32),
    I32Add,
    I32Sub,
    I32Mul,
    I64Add,
    I64Sub,
    I64Mul,
}

impl ConstOp {
    /// Runs `ops` on a stack of raw values; `global` reads a global's bits.
    pub fn eval(ops: &[ConstOp], mut global: impl FnMut(u32) -> u64) -> u64 {
        let mut stack: Vec<u64> = Vec::with_capacity(4);
        for op in ops {
            let v = match *op {
                ConstOp::I32(v) => v as u32 as u64,
                ConstOp::I64(v) => v as u64,
                ConstOp::GlobalGet(g) => global(g),
                bin => {
                    let b = stack.pop().unwrap_or(0);
                    let a = stack.pop().unwrap_or(0);
                    let (a32, b32) = (a as u32, b as u32);
                    match bin {
                        ConstOp::I32Add => a32.wrapping_add(b32) as u64,
                        ConstOp::I32Sub => a32.wrapping_sub(b32) as u64,
                        ConstOp::I32Mul => a32.wrapping_mul(b32) as u64,
                        ConstOp::I64Add => a.wrapping_add(b),
                        ConstOp::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    }
                }
            };
            stack.push(v);
        }
        stack.pop().unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
pub enum ImportKind {
    Func(u32),
    Table(TableType),
    Memory(MemoryType),
    Global(GlobalType),
    /// A tag of this function type index (exception handling).
    Tag(u32),
}

#[derive(Debug, Clone)]
pub struct Import {
    pub module: String,
    pub name: String,
    pub kind: ImportKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableType {
    pub elem: ValType,
    /// The exact element type when it is not plain `funcref`/`externref`.
    pub rt: Option<reftype::RefType>,
    pub min: u64,
    pub max: Option<u64>,
    /// Indexed by i64 (table64, part of memory64): every index operand and
    /// `table.size`/`table.grow`'s results are i64.
    pub table64: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryType {
    pub min: u64,
    pub max: Option<u64>,
    /// A 64-bit memory (memory64): i64 addresses and sizes.
    pub is64: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalType {
    pub ty: ValType,
    pub mutable: bool,
    /// The exact reference type when it is not plain `funcref`/`externref`.
    pub rt: Option<reftype::RefType>,
}

impl GlobalType {
    /// Whether an export of type `self` can be imported as `import`:
    /// immutable globals are covariant, mutable ones invariant.
    pub fn matches(&self, import: &GlobalType) -> bool {
        if self.ty != import.ty || self.mutable != import.mutable {
            return false;
        }
        match (
            reftype::RefType::of(self.ty, self.rt),
            reftype::RefType::of(import.ty, import.rt),
        ) {
            (Some(a), Some(b)) if self.mutable => a == b,
            (Some(a), Some(b)) => a.is_subtype_of(b),
            _ => true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Func,
    Table,
    Memory,
    Global,
    Tag,
}

#[derive(Debug, Clone)]
pub struct Export {
    pub name: String,
    pub kind: ExportKind,
    pub index: u32,
}

#[derive(Debug, Clone)]
pub enum SegmentMode {
    Passive,
    Active { index: u32, offset: ConstExpr },
    Declared,
}

#[derive(Debug, Clone)]
pub enum ElemItem {
    Func(u32),
    Expr(ConstExpr),
}

#[derive(Debug, Clone)]
pub struct ElemSegment {
    pub mode: SegmentMode,
    pub ty: ValType,
    pub items: Vec<ElemItem>,
}

#[derive(Debug, Clone)]
pub struct DataSegment {
    pub mode: SegmentMode,
    /// Byte range of the data inside the module bytes.
    pub range: Range<usize>,
}

/// A defined function's body inside the module bytes.
#[derive(Debug, Clone)]
pub struct FuncBody {
    /// Range of the body (locals and code) in the module bytes.
    pub range: Range<usize>,
}

/// A body that arrived while the module is still streaming in: its range in
/// the module bytes and a copy of those bytes (the module's byte vector is
/// still growing). Set once by the reader, read by the compile workers.
#[derive(Debug)]
pub(crate) struct StreamedBody {
    pub body: FuncBody,
    pub bytes: Box<[u8]>,
}

/// Everything known about a validated module.
pub struct ModuleInfo {
    pub id: u64,
    pub bytes: Vec<u8>,
    pub types: Vec<FuncType>,
    /// Canonical id of every type (see [`reftype`]).
    pub type_ids: Vec<u32>,
    pub imports: Vec<Import>,
    /// Type index of every function (imported ones first).
    pub funcs: Vec<u32>,
    pub num_imported_funcs: u32,
    pub tables: Vec<TableType>,
    pub num_imported_tables: u32,
    pub memories: Vec<MemoryType>,
    pub num_imported_memories: u32,
    pub globals: Vec<GlobalType>,
    pub num_imported_globals: u32,
    /// Function type index of every tag (imported ones first).
    pub tags: Vec<u32>,
    pub num_imported_tags: u32,
    /// Initialisers of defined globals.
    pub global_inits: Vec<ConstExpr>,
    /// Initialisers of defined tables that have one (function references),
    /// by table index.
    pub table_inits: Vec<(u32, ConstExpr)>,
    pub exports: Vec<Export>,
    pub start: Option<u32>,
    pub elems: Vec<ElemSegment>,
    pub data: Vec<DataSegment>,
    pub bodies: Vec<FuncBody>,
    pub func_names: HashMap<u32, String>,
    pub local_names: HashMap<u32, HashMap<u32, String>>,
    pub module_name: Option<String>,
    /// (name, byte range of the payload).
    pub custom_sections: Vec<(String, Range<usize>)>,
    /// Size of the code section in bytes.
    pub code_section_size: usize,
    /// The features the module was validated with (function bodies are
    /// read with the same).
    pub features: WasmFeatures,
    /// Functions validated module-wide, waiting for body validation.
    pub(crate) to_validate: Vec<FuncToValidate<ValidatorResources>>,
    /// Functions that have `ref.func` references outside function bodies
    /// (not needed by the runtime; kept for the debugger).
    pub declared_refs: Vec<u32>,
    /// While a module streams in (see [`StreamParser`]): one cell per defined
    /// function, filled as its body arrives. Empty in a complete module, whose
    /// bodies are in `bodies` and `bytes`.
    pub(crate) streamed: Box<[OnceLock<StreamedBody>]>,
}

static NEXT_MODULE_ID: AtomicU64 = AtomicU64::new(1);

impl ModuleInfo {
    pub fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.funcs[func as usize] as usize]
    }

    pub fn num_funcs(&self) -> u32 {
        self.funcs.len() as u32
    }

    pub fn num_defined_funcs(&self) -> u32 {
        self.funcs.len() as u32 - self.num_imported_funcs
    }

    pub fn func_name(&self, func: u32) -> Option<&str> {
        self.func_names.get(&func).map(|s| s.as_str())
    }

    pub fn body(&self, func: u32) -> Option<&FuncBody> {
        let k = func.checked_sub(self.num_imported_funcs)? as usize;
        match self.bodies.get(k) {
            Some(b) => Some(b),
            None => self.streamed.get(k)?.get().map(|s| &s.body),
        }
    }

    /// The bytes of defined function `func`'s body and their module offset.
    pub(crate) fn body_bytes(&self, func: u32) -> Option<(&[u8], usize)> {
        let k = func.checked_sub(self.num_imported_funcs)? as usize;
        match self.bodies.get(k) {
            Some(b) => Some((self.bytes.get(b.range.clone())?, b.range.start)),
            None => {
                let s = self.streamed.get(k)?.get()?;
                Some((&s.bytes, s.body.range.start))
            }
        }
    }

    pub fn export(&self, name: &str) -> Option<&Export> {
        self.exports.iter().find(|e| e.name == name)
    }

    pub fn custom_section(&self, name: &str) -> Option<&[u8]> {
        self.custom_sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| &self.bytes[r.clone()])
    }

    /// The function whose body contains module byte `offset`.
    pub fn func_at_offset(&self, offset: usize) -> Option<u32> {
        let i = self.bodies.partition_point(|b| b.range.start <= offset);
        let b = self.bodies.get(i.checked_sub(1)?)?;
        (offset < b.range.end).then_some(self.num_imported_funcs + (i - 1) as u32)
    }

    /// An empty module with a fresh id, to be filled payload by payload.
    fn empty() -> ModuleInfo {
        ModuleInfo {
            id: NEXT_MODULE_ID.fetch_add(1, Ordering::Relaxed),
            bytes: Vec::new(),
            types: Vec::new(),
            type_ids: Vec::new(),
            imports: Vec::new(),
            funcs: Vec::new(),
            num_imported_funcs: 0,
            tables: Vec::new(),
            num_imported_tables: 0,
            memories: Vec::new(),
            num_imported_memories: 0,
            globals: Vec::new(),
            num_imported_globals: 0,
            tags: Vec::new(),
            num_imported_tags: 0,
            global_inits: Vec::new(),
            table_inits: Vec::new(),
            exports: Vec::new(),
            start: None,
            elems: Vec::new(),
            data: Vec::new(),
            bodies: Vec::new(),
            func_names: HashMap::new(),
            local_names: HashMap::new(),
            module_name: None,
            custom_sections: Vec::new(),
            code_section_size: 0,
            features: features(),
            to_validate: Vec::new(),
            declared_refs: Vec::new(),
            streamed: Box::new([]),
        }
    }

    /// Decodes and validates `bytes` (module-level; function bodies are
    /// validated when they are compiled).
    pub fn parse(bytes: Vec<u8>) -> Result<ModuleInfo> {
        ModuleInfo::parse_with(bytes, features())
    }

    /// [`ModuleInfo::parse`] under the feature set `features` (a subset of
    /// [`features`]: e.g. Wasm 2.0's, for a Wasm 2.0 script).
    pub fn parse_with(bytes: Vec<u8>, features: WasmFeatures) -> Result<ModuleInfo> {
        let mut info = ModuleInfo::empty();
        info.features = features;
        let mut validator = new_validator(features);
        for payload in new_parser(features).parse_all(&bytes) {
            let payload = payload.map_err(Error::invalid)?;
            if let Some(fv) = info.take_payload(&mut validator, payload)? {
                info.to_validate.push(fv);
            }
        }
        info.bytes = bytes;
        Ok(info)
    }

    /// Validates one payload module-wide and records what it says. A code
    /// section entry's range goes to `bodies`; its validator is returned.
    fn take_payload(
        &mut self,
        validator: &mut Validator,
        payload: Payload<'_>,
    ) -> Result<Option<FuncToValidate<ValidatorResources>>> {
        let mut func = None;
        if let ValidPayload::Func(fv, body) = validator.payload(&payload).map_err(Error::invalid)? {
            let r = body.range();
            self.bodies.push(FuncBody {
                range: r.start as usize..r.end as usize,
            });
            func = Some(fv);
        }
        self.refuse_gc(&payload)?;
        if let Payload::TypeSection(r) = payload {
            self.read_types(r)?;
            return Ok(func);
        }
        self.read_payload(payload).map_err(Error::invalid)?;
        Ok(func)
    }

    /// A copy of everything but the function bodies and what follows the
    /// code section, for compiling bodies while the rest streams in: one
    /// empty [`StreamedBody`] cell per defined function, and the same id.
    fn header_copy(&self) -> ModuleInfo {
        ModuleInfo {
            id: self.id,
            bytes: Vec::new(),
            types: self.types.clone(),
            type_ids: self.type_ids.clone(),
            imports: self.imports.clone(),
            funcs: self.funcs.clone(),
            num_imported_funcs: self.num_imported_funcs,
            tables: self.tables.clone(),
            num_imported_tables: self.num_imported_tables,
            memories: self.memories.clone(),
            num_imported_memories: self.num_imported_memories,
            globals: self.globals.clone(),
            num_imported_globals: self.num_imported_globals,
            tags: self.tags.clone(),
            num_imported_tags: self.num_imported_tags,
            global_inits: self.global_inits.clone(),
            table_inits: self.table_inits.clone(),
            exports: self.exports.clone(),
            start: self.start,
            elems: self.elems.clone(),
            data: Vec::new(),
            bodies: Vec::new(),
            func_names: self.func_names.clone(),
            local_names: self.local_names.clone(),
            module_name: self.module_name.clone(),
            custom_sections: Vec::new(),
            code_section_size: self.code_section_size,
            features: self.features,
            to_validate: Vec::new(),
            declared_refs: self.declared_refs.clone(),
            streamed: (0..self.num_defined_funcs())
                .map(|_| OnceLock::new())
                .collect(),
        }
    }

    fn read_payload(&mut self, payload: Payload<'_>) -> wasmparser::Result<()> {
        match payload {
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp?;
                    let kind = match imp.ty {
                        TypeRef::Func(t) => {
                            self.funcs.push(t);
                            self.num_imported_funcs += 1;
                            ImportKind::Func(t)
                        }
                        TypeRef::Table(t) => {
                            let t = convert_table_type(&t, &self.type_ids);
                            self.tables.push(t);
                            self.num_imported_tables += 1;
                            ImportKind::Table(t)
                        }
                        TypeRef::Memory(m) => {
                            let m = MemoryType {
                                min: m.initial,
                                max: m.maximum,
                                is64: m.memory64,
                            };
                            self.memories.push(m);
                            self.num_imported_memories += 1;
                            ImportKind::Memory(m)
                        }
                        TypeRef::Global(g) => {
                            let g = convert_global_type(&g, &self.type_ids);
                            self.globals.push(g);
                            self.num_imported_globals += 1;
                            ImportKind::Global(g)
                        }
                        TypeRef::Tag(t) => {
                            self.tags.push(t.func_type_idx);
                            self.num_imported_tags += 1;
                            ImportKind::Tag(t.func_type_idx)
                        }
                        _ => unreachable!("rejected by the validator"),
                    };
                    self.imports.push(Import {
                        module: imp.module.to_string(),
                        name: imp.name.to_string(),
                        kind,
                    });
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    self.funcs.push(t?);
                }
            }
            Payload::TableSection(r) => {
                for t in r {
                    let t = t?;
                    if let wasmparser::TableInit::Expr(e) = &t.init {
                        let index = self.tables.len() as u32;
                        self.table_inits.push((index, convert_const_expr(e)?));
                    }
                    self.tables.push(convert_table_type(&t.ty, &self.type_ids));
                }
            }
            Payload::MemorySection(r) => {
                for m in r {
                    let m = m?;
                    self.memories.push(MemoryType {
                        min: m.initial,
                        max: m.maximum,
                        is64: m.memory64,
                    });
                }
            }
            Payload::GlobalSection(r) => {
                for g in r {
                    let g = g?;
                    self.globals
                        .push(convert_global_type(&g.ty, &self.type_ids));
                    self.global_inits.push(convert_const_expr(&g.init_expr)?);
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let e = e?;
                    let kind = match e.kind {
                        ExternalKind::Func => ExportKind::Func,
                        ExternalKind::Table => ExportKind::Table,
                        ExternalKind::Memory => ExportKind::Memory,
                        ExternalKind::Global => ExportKind::Global,
                        ExternalKind::Tag => ExportKind::Tag,
                        _ => unreachable!("rejected by the validator"),
                    };
                    self.exports.push(Export {
                        name: e.name.to_string(),
                        kind,
                        index: e.index,
                    });
                }
            }
            Payload::TagSection(r) => {
                for t in r {
                    self.tags.push(t?.func_type_idx);
                }
            }
            Payload::StartSection { func, .. } => self.start = Some(func),
            Payload::ElementSection(r) => {
                for e in r {
                    let e = e?;
                    let mode = match e.kind {
                        wasmparser::ElementKind::Passive => SegmentMode::Passive,
                        wasmparser::ElementKind::Declared => SegmentMode::Declared,
                        wasmparser::ElementKind::Active {
                            table_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: table_index.unwrap_or(0),
                            offset: convert_const_expr(&offset_expr)?,
                        },
                    };
                    let (ty, items) = match e.items {
                        wasmparser::ElementItems::Functions(fs) => {
                            let mut items = Vec::new();
                            for f in fs {
                                let f = f?;
                                self.declared_refs.push(f);
                                items.push(ElemItem::Func(f));
                            }
                            (ValType::FuncRef, items)
                        }
                        wasmparser::ElementItems::Expressions(rt, es) => {
                            let ty = ValType::from_wasmparser(wasmparser::ValType::Ref(rt))
                                .unwrap_or(ValType::FuncRef);
                            let mut items = Vec::new();
                            for ex in es {
                                items.push(ElemItem::Expr(convert_const_expr(&ex?)?));
                            }
                            (ty, items)
                        }
                    };
                    self.elems.push(ElemSegment { mode, ty, items });
                }
            }
            Payload::DataSection(r) => {
                for d in r {
                    let d = d?;
                    let mode = match d.kind {
                        wasmparser::DataKind::Passive => SegmentMode::Passive,
                        wasmparser::DataKind::Active {
                            memory_index,
                            offset_expr,
                        } => SegmentMode::Active {
                            index: memory_index,
                            offset: convert_const_expr(&offset_expr)?,
                        },
                    };
                    let end = d.range.end as usize;
                    self.data.push(DataSegment {
                        mode,
                        range: end - d.data.len()..end,
                    });
                }
            }
            Payload::CodeSectionStart {
                unchecked_range: r, ..
            } => self.code_section_size = (r.end - r.start) as usize,
            Payload::CustomSection(c) => {
                let start = c.data_offset() as usize;
                self.custom_sections
                    .push((c.name().to_string(), start..start + c.data().len()));
                if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                    // A malformed name section is ignored, as the spec asks.
                    let _ = self.read_names(names);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn read_names(&mut self, names: wasmparser::NameSectionReader<'_>) -> wasmparser::Result<()> {
        for n in names {
            match n? {
                wasmparser::Name::Module { name, .. } => self.module_name = Some(name.to_string()),
                wasmparser::Name::Function(map) => {
                    for naming in map {
                        let naming = naming?;
                        self.func_names
                            .insert(naming.index, naming.name.to_string());
                    }
                }
                wasmparser::Name::Local(map) => {
                    for f in map {
                        let f = f?;
                        let mut locals = HashMap::new();
                        for naming in f.names {
                            let naming = naming?;
                            locals.insert(naming.index, naming.name.to_string());
                        }
                        self.local_names.insert(f.index, locals);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn new_validator(features: WasmFeatures) -> Validator {
    Validator::new_with_features(features)
}

fn new_parser(features: WasmFeatures) -> Parser {
    let mut parser = Parser::new(0);
    parser.set_features(features);
    parser
}

pub fn convert_func_type(ft: &wasmparser::FuncType) -> FuncType {
    let conv = |t: &wasmparser::ValType| ValType::from_wasmparser(*t).unwrap_or(ValType::I32);
    FuncType::new(ft.params().iter().map(conv), ft.results().iter().map(conv))
}

fn convert_table_type(t: &wasmparser::TableType, ids: &[u32]) -> TableType {
    let elem = ValType::from_wasmparser(wasmparser::ValType::Ref(t.element_type))
        .unwrap_or(ValType::FuncRef);
    TableType {
        elem,
        rt: reftype::exact(wasmparser::ValType::Ref(t.element_type), ids),
        min: t.initial,
        max: t.maximum,
        table64: t.table64,
    }
}

fn convert_global_type(g: &wasmparser::GlobalType, ids: &[u32]) -> GlobalType {
    GlobalType {
        rt: reftype::exact(g.content_type, ids),
        ty: ValType::from_wasmparser(g.content_type).unwrap_or(ValType::I32),
        mutable: g.mutable,
    }
}

fn convert_const_expr(e: &wasmparser::ConstExpr<'_>) -> wasmparser::Result<ConstExpr> {
    use wasmparser::Operator as O;
    let mut r = e.get_operators_reader();
    let op = r.read()?;
    let mut rest = e.get_operators_reader();
    rest.read()?;
    if !matches!(rest.read()?, O::End) {
        return extended_const_expr(e);
    }
    Ok(match op {
        O::I32Const { value } => ConstExpr::I32(value),
        O::I64Const { value } => ConstExpr::I64(value),
        O::F32Const { value } => ConstExpr::F32(value.bits()),
        O::F64Const { value } => ConstExpr::F64(value.bits()),
        O::V128Const { value } => ConstExpr::V128(u128::from_le_bytes(*value.bytes())),
        O::RefNull { hty } => ConstExpr::RefNull(
            if matches!(
                hty,
                wasmparser::HeapType::Abstract {
                    ty: wasmparser::AbstractHeapType::Extern
                        | wasmparser::AbstractHeapType::NoExtern,
                    ..
                }
            ) {
                ValType::ExternRef
            } else {
                ValType::FuncRef
            },
        ),
        O::RefFunc { function_index } => ConstExpr::RefFunc(function_index),
        O::GlobalGet { global_index } => ConstExpr::GlobalGet(global_index),
        _ => {
            // Validation admits nothing else as a single operator.
            let _ = r.original_position();
            ConstExpr::I32(0)
        }
    })
}

/// An extended constant expression (validated: only the operators of
/// [`ConstOp`]).
fn extended_const_expr(e: &wasmparser::ConstExpr<'_>) -> wasmparser::Result<ConstExpr> {
    use wasmparser::Operator as O;
    let mut r = e.get_operators_reader();
    let mut ops = Vec::new();
    loop {
        let op = match r.read()? {
            O::End => break,
            O::I32Const { value } => ConstOp::I32(value),
            O::I64Const { value } => ConstOp::I64(value),
            O::GlobalGet { global_index } => ConstOp::GlobalGet(global_index),
            O::I32Add => ConstOp::I32Add,
            O::I32Sub => ConstOp::I32Sub,
            O::I32Mul => ConstOp::I32Mul,
            O::I64Add => ConstOp::I64Add,
            O::I64Sub => ConstOp::I64Sub,
            O::I64Mul => ConstOp::I64Mul,
            // The section was validated before it is read: validation
            // admits no other operator in a constant expression.
            _ => ConstOp::I32(0),
        };
        ops.push(op);
    }
    Ok(ConstExpr::Ops(ops.into()))
}
