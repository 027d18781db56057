//! DWARF debug information of a wasm module: line table, functions, variables and their types.
//!
//! Everything is read once by [`DwarfInfo::parse`] into owned tables, so a `DwarfInfo` does not
//! borrow the module bytes. Addresses in wasm DWARF are offsets from the start of the Code
//! section's payload; this module converts them to module offsets (offsets from the start of the
//! wasm file) everywhere, and drops anything that does not land inside the Code section (code
//! removed by the linker is described at address 0 or at a tombstone address).
//!
//! Variable locations are reduced to the handful of shapes clang emits for wasm
//! ([`VarLocation`]); evaluating one needs the paused program's locals, globals, operand stack
//! and linear memory through [`DwarfEnv`]. Malformed DWARF never panics: parsing reports one
//! line of error text, and locations or types that cannot be understood become
//! [`VarLocation::Unsupported`] or an `Other` type.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use gimli::constants;
use gimli::{AttributeValue, DebuggingInformationEntry, EndianSlice, LittleEndian, UnitOffset};
use wasmparser::{Encoding, Parser, Payload};

use super::dwarf_types::{
    self as types, Builtins, TypeId, TypeKind, TypeReader, TypeTable, TypeView,
};

type Slice<'a> = EndianSlice<'a, LittleEndian>;
type Dwarf<'a> = gimli::Dwarf<Slice<'a>>;
type Unit<'a> = gimli::Unit<Slice<'a>>;
type Entry<'a> = DebuggingInformationEntry<Slice<'a>>;

/// wasm-ld's address for data it removed ("tombstone").
const TOMBSTONE: u64 = 0xffff_ffff;
/// Pointer dereferences accepted in one location expression.
const MAX_DEREFS: usize = 8;
/// Bytes shown when formatting a struct or an array.
const MAX_SHOWN_BYTES: u32 = 64;

/// The DWARF of one module, read into owned tables.
#[derive(Debug, Clone)]
pub struct DwarfInfo {
    /// Line-table rows sorted by offset (stable: program order among equal offsets).
    rows: Vec<LineRow>,
    /// For each row, the index of its sequence in `seq_ends`.
    row_seq: Vec<u32>,
    /// Module offset one past the end of each sequence.
    seq_ends: Vec<u32>,
    /// Files named by line-table rows, sorted, deduplicated.
    files: Vec<String>,
    /// Subprograms with code, sorted by start.
    functions: Vec<Function>,
    /// Every (start, end, index into `functions`) range, sorted by start.
    func_ranges: Vec<(u32, u32, usize)>,
    /// Every type the variables refer to, and the named ones.
    types: TypeTable,
    builtins: Builtins,
    /// Variables with static storage (globals, file statics, C++ static members), by name.
    globals: Vec<Variable>,
}

/// One row of the line table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    /// Module offset of the first instruction of the row.
    pub offset: u32,
    /// Source file (comp_dir joined when relative).
    pub file: String,
    /// Line, 1-based; 0 for code not attributable to a line.
    pub line: u32,
    /// Column, 1-based; 0 for "left edge".
    pub column: u32,
    /// Whether this is a recommended breakpoint location.
    pub is_stmt: bool,
    /// Whether the compiler marked this row as the end of the function's prologue.
    pub prologue_end: bool,
}

/// How a variable's bytes are to be interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    Signed,
    Unsigned,
    Float,
    Bool,
    Char,
    Pointer,
    /// Structs, unions, arrays, void, anything else: shown as bytes.
    Other,
}

/// A variable's type, resolved through typedefs and qualifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarType {
    /// C-like spelling, e.g. "int", "double", "const struct dataset *", "int[16]".
    pub name: String,
    /// Size in bytes.
    pub size: u32,
    pub kind: ScalarKind,
}

/// Where a variable's value lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarLocation {
    /// The value is wasm local `n` of the current frame.
    WasmLocal(u32),
    /// The value is wasm global `n`.
    WasmGlobal(u32),
    /// The value is operand-stack slot `n` counted from the top.
    WasmStack(u32),
    /// value in linear memory at (value of `base`) + offset
    FrameBase { base: Box<VarLocation>, offset: i64 },
    /// a fixed linear-memory address (DW_OP_addr)
    Address(u64),
    /// anything else, described
    Unsupported(String),
}

/// A formal parameter or local variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub ty: VarType,
    /// The full type, in [`DwarfInfo::types`].
    pub type_id: TypeId,
    pub location: VarLocation,
    pub is_param: bool,
}

/// What evaluating a variable needs from the paused program.
///
/// Values of wasm locals, globals and stack slots are their raw bits; 32-bit values are expected
/// zero-extended (an `i32` frame pointer of 0x10000 is `0x10000`, not sign-extended).
pub trait DwarfEnv {
    fn local(&self, index: u32) -> Option<u64>;
    fn global(&self, index: u32) -> Option<u64>;
    fn stack(&self, index_from_top: u32) -> Option<u64>;
    fn memory(&self, addr: u64, len: u32) -> Option<Vec<u8>>;
}

/// A subprogram with code.
#[derive(Debug, Clone)]
struct Function {
    name: String,
    start: u32,
    end: u32,
    scope: Scope,
}

/// A function body or a lexical block: its ranges, its variables and the blocks inside it.
#[derive(Debug, Clone, Default)]
struct Scope {
    /// Module offset ranges; empty means "as the enclosing scope".
    ranges: Vec<(u32, u32)>,
    vars: Vec<RawVar>,
    children: Vec<Scope>,
}

impl Scope {
    fn contains(&self, offset: u32) -> bool {
        self.ranges.is_empty() || self.ranges.iter().any(|&(s, e)| s <= offset && offset < e)
    }
}

#[derive(Debug, Clone)]
struct RawVar {
    name: String,
    ty: VarType,
    type_id: TypeId,
    location: RawLocation,
    is_param: bool,
}

#[derive(Debug, Clone)]
enum RawLocation {
    Fixed(VarLocation),
    /// A location list: (start, end, location) in module offsets.
    List(Vec<(u32, u32, VarLocation)>),
}

impl RawLocation {
    fn at(&self, offset: u32) -> VarLocation {
        match self {
            RawLocation::Fixed(loc) => loc.clone(),
            RawLocation::List(list) => list
                .iter()
                .find(|(s, e, _)| *s <= offset && offset < *e)
                .map(|(_, _, loc)| loc.clone())
                .unwrap_or_else(|| VarLocation::Unsupported("optimized out here".to_string())),
        }
    }
}

impl DwarfInfo {
    /// None when the module has no DWARF (.debug_info/.debug_line); Err(one line) when it is malformed.
    pub fn parse(module_bytes: &[u8]) -> Result<Option<DwarfInfo>, String> {
        Self::parse_units(module_bytes, None)
    }

    /// Only the line table of the units whose address ranges contain module offset `offset`
    /// (no functions, variables or types): its [`line_at`](Self::line_at)`(offset)` is the whole
    /// table's, as a unit's line program describes code inside the unit's ranges. Much cheaper
    /// than [`parse`](Self::parse) on a large module.
    pub fn parse_lines_at(module_bytes: &[u8], offset: u32) -> Result<Option<DwarfInfo>, String> {
        Self::parse_units(module_bytes, Some(offset))
    }

    /// Everything, or with `lines_at`, the line programs of the units covering that offset.
    fn parse_units(
        module_bytes: &[u8],
        lines_at: Option<u32>,
    ) -> Result<Option<DwarfInfo>, String> {
        let mut sections: HashMap<&str, &[u8]> = HashMap::new();
        let mut code: Option<(u64, u64)> = None;
        for payload in Parser::new(0).parse_all(module_bytes) {
            match payload.map_err(|e| format!("invalid wasm module: {e}"))? {
                Payload::Version {
                    encoding: Encoding::Component,
                    ..
                } => return Ok(None),
                Payload::CodeSectionStart {
                    unchecked_range, ..
                } => {
                    code.get_or_insert((unchecked_range.start, unchecked_range.end));
                }
                Payload::CustomSection(reader) if reader.name().starts_with(".debug_") => {
                    sections.entry(reader.name()).or_insert(reader.data());
                }
                _ => {}
            }
        }
        if !sections.contains_key(".debug_info") && !sections.contains_key(".debug_line") {
            return Ok(None);
        }
        let Some((code_start, code_end)) = code else {
            return Ok(None);
        };
        let (Ok(code_start), Ok(code_end)) = (u32::try_from(code_start), u32::try_from(code_end))
        else {
            return Err("code section beyond 4 GiB".to_string());
        };
        if code_end < code_start || code_end as usize > module_bytes.len() {
            return Err("code section past the end of the module".to_string());
        }
        let load = |id: gimli::SectionId| -> Result<Slice<'_>, std::convert::Infallible> {
            let data = sections.get(id.name()).copied().unwrap_or(&[]);
            Ok(EndianSlice::new(data, LittleEndian))
        };
        let Ok(dwarf) = Dwarf::load(load);
        let mut builder = Builder {
            code: CodeMap {
                base: code_start,
                len: code_end - code_start,
            },
            rows: Vec::new(),
            seq_ends: Vec::new(),
            functions: Vec::new(),
            types: TypeTable::new(),
            globals: Vec::new(),
        };
        let mut headers = dwarf.units();
        while let Some(header) = headers
            .next()
            .map_err(|e| format!("malformed DWARF: .debug_info: {e}"))?
        {
            let at = header.offset().0;
            let unit = dwarf
                .unit(header)
                .map_err(|e| format!("malformed DWARF: unit at .debug_info+{at:#x}: {e}"))?;
            if let Some(offset) = lines_at {
                if unit_covers(&dwarf, &unit, builder.code, offset) {
                    builder.read_lines(&dwarf, &unit).map_err(|e| {
                        format!("malformed DWARF: line table of unit at {at:#x}: {e}")
                    })?;
                }
                continue;
            }
            builder
                .read_lines(&dwarf, &unit)
                .map_err(|e| format!("malformed DWARF: line table of unit at {at:#x}: {e}"))?;
            builder
                .read_functions(&dwarf, &unit)
                .map_err(|e| format!("malformed DWARF: unit at .debug_info+{at:#x}: {e}"))?;
        }
        Ok(Some(builder.finish()))
    }

    /// No DWARF: no lines, functions or variables; only the built-in types.
    pub fn empty() -> DwarfInfo {
        let mut types = TypeTable::new();
        let builtins = types.builtins();
        DwarfInfo {
            rows: Vec::new(),
            row_seq: Vec::new(),
            seq_ends: Vec::new(),
            files: Vec::new(),
            functions: Vec::new(),
            func_ranges: Vec::new(),
            types,
            builtins,
            globals: Vec::new(),
        }
    }

    /// All line-table rows, sorted by offset (sequence ends excluded).
    pub fn rows(&self) -> &[LineRow] {
        &self.rows
    }

    /// The row covering module offset `offset` (the last row with row.offset <= offset inside the same sequence), if any.
    pub fn line_at(&self, offset: u32) -> Option<&LineRow> {
        let i = self
            .rows
            .partition_point(|r| r.offset <= offset)
            .checked_sub(1)?;
        let end = self.seq_ends[self.row_seq[i] as usize];
        (offset < end).then(|| &self.rows[i])
    }

    /// Module offsets where `line` of a file whose path ends with `file` begins (is_stmt rows; the lowest offset per contiguous run / per function is enough). Empty if none.
    ///
    /// A run is a stretch of consecutive rows of one sequence with the same file and line; each
    /// run contributes its first `is_stmt` row.
    pub fn offsets_for_line(&self, file: &str, line: u32) -> Vec<u32> {
        let file = clean_path(file);
        let mut out = Vec::new();
        let mut in_run = false;
        let mut taken = false;
        for (i, row) in self.rows.iter().enumerate() {
            let matches = row.line == line && path_matches(&row.file, &file);
            if !matches {
                in_run = false;
                continue;
            }
            let continues = in_run
                && i > 0
                && self.row_seq[i - 1] == self.row_seq[i]
                && self.rows[i - 1].file == row.file;
            if !continues {
                taken = false;
            }
            in_run = true;
            if row.is_stmt && !taken {
                out.push(row.offset);
                taken = true;
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Source files named by the line table (full paths as DWARF gives them, comp_dir joined when relative).
    pub fn files(&self) -> Vec<String> {
        self.files.clone()
    }

    /// Reads a source file named by DWARF (path suffix match against files()), trying the path as given, then relative to `search_dirs`, then by file name in `search_dirs`. Lines without '\n'.
    pub fn source_lines(&self, file: &str, search_dirs: &[PathBuf]) -> Option<Vec<String>> {
        let bytes = std::fs::read(self.source_path(file, search_dirs)?).ok()?;
        let text = String::from_utf8_lossy(&bytes);
        Some(text.lines().map(str::to_string).collect())
    }

    /// Where a source file named by DWARF is on this machine (the search of
    /// [`DwarfInfo::source_lines`]): a path that exists, or `None`.
    pub fn source_path(&self, file: &str, search_dirs: &[PathBuf]) -> Option<PathBuf> {
        let wanted = clean_path(file);
        let mut names: Vec<&str> = self
            .files
            .iter()
            .filter(|f| path_matches(f, &wanted))
            .map(String::as_str)
            .collect();
        // An exact match first, then shorter paths.
        names.sort_by_key(|f| (*f != wanted, f.len()));
        if names.is_empty() {
            names.push(&wanted);
        }
        for name in names {
            let path = Path::new(name);
            let mut candidates = vec![path.to_path_buf()];
            let parts: Vec<_> = path
                .components()
                .filter(|c| matches!(c, std::path::Component::Normal(_)))
                .collect();
            for dir in search_dirs {
                if path.is_relative() {
                    candidates.push(dir.join(path));
                }
                // Ever shorter suffixes of the path, down to the file name.
                for k in 0..parts.len() {
                    let suffix: PathBuf = parts[k..].iter().collect();
                    candidates.push(dir.join(suffix));
                }
            }
            if let Some(found) = candidates.into_iter().find(|c| c.is_file()) {
                return Some(found);
            }
        }
        None
    }

    /// Where `break FUNC` stops in the function whose code starts at module offset `entry`: past
    /// the prologue, as gdb does, so that parameters already hold their values there.
    ///
    /// The first row of the function marked `prologue_end` (gdb 13 honours the flag too); without
    /// one, the first statement row at an address after the function's first row and on another
    /// line (the start of the function's second line, gdb's fallback). None when DWARF does not
    /// describe the function or no row qualifies.
    pub fn after_prologue(&self, entry: u32) -> Option<u32> {
        let f = self.function_at(entry)?;
        let from = self.rows.partition_point(|r| r.offset < f.start);
        let rows: Vec<&LineRow> = self.rows[from..]
            .iter()
            .take_while(|r| r.offset < f.end)
            .collect();
        if let Some(r) = rows.iter().find(|r| r.prologue_end && r.offset >= entry) {
            return Some(r.offset);
        }
        let first = rows.first()?;
        rows.iter()
            .find(|r| {
                r.is_stmt
                    && r.offset > first.offset
                    && r.offset > entry
                    && r.line != 0
                    && r.line != first.line
            })
            .map(|r| r.offset)
    }

    /// Name of the DW_TAG_subprogram whose [low_pc, high_pc) holds module offset `offset`.
    pub fn function_name_at(&self, offset: u32) -> Option<&str> {
        self.function_at(offset).map(|f| f.name.as_str())
    }

    /// All subprograms with code: (name, module offset range start, end).
    pub fn functions(&self) -> Vec<(String, u32, u32)> {
        self.functions
            .iter()
            .map(|f| (f.name.clone(), f.start, f.end))
            .collect()
    }

    /// Variables (formal parameters and locals, including nested lexical blocks whose ranges contain `offset`) visible at module offset `offset`, innermost scope first for shadowing.
    pub fn variables_at(&self, offset: u32) -> Vec<Variable> {
        let Some(function) = self.function_at(offset) else {
            return Vec::new();
        };
        let mut chain = vec![&function.scope];
        while let Some(inner) = chain
            .last()
            .and_then(|s| s.children.iter().find(|c| c.contains(offset)))
        {
            chain.push(inner);
        }
        chain
            .iter()
            .rev()
            .flat_map(|scope| scope.vars.iter())
            .map(|v| Variable {
                name: v.name.clone(),
                ty: v.ty.clone(),
                type_id: v.type_id,
                location: v.location.at(offset),
                is_param: v.is_param,
            })
            .collect()
    }

    /// Every type the module's variables use, and its named types.
    pub fn types(&self) -> &TypeTable {
        &self.types
    }

    /// `int`, `double`... for literals and arithmetic.
    pub fn builtins(&self) -> Builtins {
        self.builtins
    }

    /// Variables with static storage: globals, file statics, C++ static members.
    pub fn globals(&self) -> &[Variable] {
        &self.globals
    }

    /// The innermost function's parameters, in order, at module offset `offset`.
    pub fn params_at(&self, offset: u32) -> Vec<Variable> {
        let Some(function) = self.function_at(offset) else {
            return Vec::new();
        };
        function
            .scope
            .vars
            .iter()
            .filter(|v| v.is_param)
            .map(|v| Variable {
                name: v.name.clone(),
                ty: v.ty.clone(),
                type_id: v.type_id,
                location: v.location.at(offset),
                is_param: true,
            })
            .collect()
    }

    fn function_at(&self, offset: u32) -> Option<&Function> {
        let i = self
            .func_ranges
            .partition_point(|&(s, _, _)| s <= offset)
            .checked_sub(1)?;
        // Ranges of different functions do not overlap in practice; look back a little in case.
        self.func_ranges[..=i]
            .iter()
            .rev()
            .take(4)
            .find(|&&(s, e, _)| s <= offset && offset < e)
            .map(|&(_, _, f)| &self.functions[f])
    }
}

impl Variable {
    /// Reads the raw little-endian bytes of the value (ty.size bytes; for WasmLocal/Global/Stack values take the low ty.size bytes of the u64).
    pub fn read(&self, env: &dyn DwarfEnv) -> Result<Vec<u8>, String> {
        read_location(&self.location, self.ty.size, env)
    }

    /// Reads and formats: ints per signedness and size, floats (f32/f64), bool, char as 'c' (97), pointers as 0x... hex; `Other` (structs, arrays) as hex bytes, truncated to 64 bytes with "…".
    ///
    /// Values wider than 8 bytes (e.g. `long double`) are shown as bytes too.
    pub fn format(&self, env: &dyn DwarfEnv) -> Result<String, String> {
        let size = self.ty.size;
        if self.ty.kind == ScalarKind::Other || size > 8 {
            let shown = size.min(MAX_SHOWN_BYTES);
            let bytes = read_location(&self.location, shown, env)?;
            let mut text = bytes
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ");
            if size > shown {
                text.push_str(" …");
            }
            if text.is_empty() {
                text.push_str("(no bytes)");
            }
            return Ok(text);
        }
        let bytes = self.read(env)?;
        Ok(format_scalar(self.ty.kind, &bytes))
    }
}

/// Formats a scalar of `kind` from its little-endian bytes; odd sizes fall back to hex bytes.
fn format_scalar(kind: ScalarKind, bytes: &[u8]) -> String {
    let hex = || {
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if !matches!(bytes.len(), 1 | 2 | 4 | 8) {
        return hex();
    }
    let mut raw = [0u8; 8];
    raw[..bytes.len()].copy_from_slice(bytes);
    let unsigned = u64::from_le_bytes(raw);
    let bits = bytes.len() as u32 * 8;
    let signed = if bits == 64 {
        unsigned as i64
    } else {
        let shift = 64 - bits;
        ((unsigned << shift) as i64) >> shift
    };
    match kind {
        ScalarKind::Signed => signed.to_string(),
        ScalarKind::Unsigned => unsigned.to_string(),
        ScalarKind::Float => match bytes.len() {
            4 => format!("{:?}", f32::from_bits(unsigned as u32)),
            8 => format!("{:?}", f64::from_bits(unsigned)),
            _ => hex(),
        },
        ScalarKind::Bool => match unsigned {
            0 => "false".to_string(),
            1 => "true".to_string(),
            n => format!("true ({n})"),
        },
        ScalarKind::Char => {
            let shown = if bytes.len() == 1 {
                let b = unsigned as u8;
                if b.is_ascii() {
                    char::from(b).escape_default().to_string()
                } else {
                    format!("\\x{b:02x}")
                }
            } else {
                match u32::try_from(unsigned).ok().and_then(char::from_u32) {
                    Some(c) => c.escape_default().to_string(),
                    None => format!("\\u{{{unsigned:x}}}"),
                }
            };
            let number = if bytes.len() == 1 && signed < 0 {
                signed.to_string()
            } else {
                unsigned.to_string()
            };
            format!("'{shown}' ({number})")
        }
        ScalarKind::Pointer => format!("0x{:0width$x}", unsigned, width = bytes.len() * 2),
        ScalarKind::Other => hex(),
    }
}

/// Reads `size` bytes of the value at `location`.
fn read_location(location: &VarLocation, size: u32, env: &dyn DwarfEnv) -> Result<Vec<u8>, String> {
    let from_value = |value: u64| -> Result<Vec<u8>, String> {
        if size > 8 {
            return Err(format!("a {size}-byte value cannot live in a wasm value"));
        }
        Ok(value.to_le_bytes()[..size as usize].to_vec())
    };
    match location {
        VarLocation::WasmLocal(_) | VarLocation::WasmGlobal(_) | VarLocation::WasmStack(_) => {
            from_value(value_of(location, env)?)
        }
        VarLocation::FrameBase { .. } | VarLocation::Address(_) => {
            let addr = address_of(location, env)?;
            read_memory(env, addr, size)
        }
        VarLocation::Unsupported(what) => Err(what.clone()),
    }
}

fn read_memory(env: &dyn DwarfEnv, addr: u64, len: u32) -> Result<Vec<u8>, String> {
    match env.memory(addr, len) {
        Some(bytes) if bytes.len() == len as usize => Ok(bytes),
        _ => Err(format!("cannot read {len} bytes of memory at {addr:#x}")),
    }
}

/// The value a location holds, as a 64-bit number (a 4-byte load for memory locations).
fn value_of(location: &VarLocation, env: &dyn DwarfEnv) -> Result<u64, String> {
    match location {
        VarLocation::WasmLocal(i) => env
            .local(*i)
            .ok_or_else(|| format!("wasm local {i} is not available")),
        VarLocation::WasmGlobal(i) => env
            .global(*i)
            .ok_or_else(|| format!("wasm global {i} is not available")),
        VarLocation::WasmStack(i) => env
            .stack(*i)
            .ok_or_else(|| format!("operand stack slot {i} is not available")),
        VarLocation::FrameBase { .. } | VarLocation::Address(_) => {
            let addr = address_of(location, env)?;
            let bytes = read_memory(env, addr, 4)?;
            let mut raw = [0u8; 4];
            raw.copy_from_slice(&bytes);
            Ok(u64::from(u32::from_le_bytes(raw)))
        }
        VarLocation::Unsupported(what) => Err(what.clone()),
    }
}

impl VarLocation {
    /// The linear-memory address of a memory location.
    pub fn address(&self, env: &dyn DwarfEnv) -> Result<u64, String> {
        address_of(self, env)
    }
}

/// The linear-memory address of a memory location.
fn address_of(location: &VarLocation, env: &dyn DwarfEnv) -> Result<u64, String> {
    match location {
        VarLocation::FrameBase { base, offset } => value_of(base, env)?
            .checked_add_signed(*offset)
            .ok_or_else(|| "address out of range".to_string()),
        VarLocation::Address(addr) => Ok(*addr),
        _ => Err("not a memory location".to_string()),
    }
}

/// Maps DWARF code addresses (Code-payload relative) to module offsets.
#[derive(Debug, Clone, Copy)]
struct CodeMap {
    base: u32,
    len: u32,
}

impl CodeMap {
    /// A start address: inside the code, and not 0 (the function count, never code).
    fn start(self, addr: u64) -> Option<u32> {
        let a = u32::try_from(addr).ok()?;
        (a > 0 && a < self.len).then(|| self.base + a)
    }

    /// An end address (exclusive): may equal the code length.
    fn end(self, addr: u64) -> Option<u32> {
        let a = u32::try_from(addr).ok()?;
        (a > 0 && a <= self.len).then(|| self.base + a)
    }

    fn range(self, begin: u64, end: u64) -> Option<(u32, u32)> {
        let (b, e) = (self.start(begin)?, self.end(end)?);
        (b < e).then_some((b, e))
    }
}

/// A symbolic value on the DWARF expression stack.
#[derive(Debug, Clone)]
enum Sym {
    Const(u64),
    /// The value held by a location, plus an offset.
    Value(VarLocation, i64),
}

impl Sym {
    fn add(self, n: i64) -> Option<Sym> {
        match self {
            Sym::Const(c) => Some(Sym::Const(c.wrapping_add(n as u64))),
            Sym::Value(loc, off) => Some(Sym::Value(loc, off.checked_add(n)?)),
        }
    }

    /// The memory location whose address is this value.
    fn memory(self) -> VarLocation {
        match self {
            Sym::Const(c) => VarLocation::Address(c),
            Sym::Value(base, offset) => VarLocation::FrameBase {
                base: Box::new(base),
                offset,
            },
        }
    }
}

/// Subprogram or block being read, while its children are visited.
struct Open {
    depth: isize,
    kind: OpenKind,
    scope: Scope,
}

enum OpenKind {
    Function {
        name: String,
        frame_base: Option<Sym>,
    },
    Block,
    /// A DIE whose children are not variables of the enclosing scope (types, call sites...).
    Opaque,
}

struct Builder {
    code: CodeMap,
    /// (row, sequence index) in program order.
    rows: Vec<(LineRow, u32)>,
    seq_ends: Vec<u32>,
    functions: Vec<Function>,
    types: TypeTable,
    globals: Vec<Variable>,
}

impl Builder {
    fn read_lines(&mut self, dwarf: &Dwarf<'_>, unit: &Unit<'_>) -> gimli::Result<()> {
        let Some(program) = unit.line_program.clone() else {
            return Ok(());
        };
        let comp_dir = unit
            .comp_dir
            .map(|d| d.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut file_names: HashMap<u64, String> = HashMap::new();
        let mut pending: Vec<LineRow> = Vec::new();
        let mut valid = true;
        let mut rows = program.rows();
        while let Some((header, row)) = rows.next_row()? {
            if row.end_sequence() {
                let end = self.code.end(row.address());
                match end {
                    Some(end) if valid && !pending.is_empty() => {
                        let seq = self.seq_ends.len() as u32;
                        self.seq_ends.push(end);
                        self.rows.extend(pending.drain(..).map(|r| (r, seq)));
                    }
                    _ => pending.clear(),
                }
                valid = true;
                continue;
            }
            let Some(offset) = self.code.start(row.address()) else {
                valid = false;
                continue;
            };
            if !valid {
                continue;
            }
            if pending.last().is_some_and(|r| r.offset > offset) {
                // Addresses must not decrease inside a sequence.
                valid = false;
                continue;
            }
            let file = match file_names.get(&row.file_index()) {
                Some(f) => f.clone(),
                None => {
                    let name = file_path(dwarf, unit, header, row.file_index(), &comp_dir);
                    file_names.insert(row.file_index(), name.clone());
                    name
                }
            };
            let column = match row.column() {
                gimli::ColumnType::LeftEdge => 0,
                gimli::ColumnType::Column(c) => u32::try_from(c.get()).unwrap_or(u32::MAX),
            };
            pending.push(LineRow {
                offset,
                file,
                line: row
                    .line()
                    .map_or(0, |l| u32::try_from(l.get()).unwrap_or(u32::MAX)),
                column,
                is_stmt: row.is_stmt(),
                prologue_end: row.prologue_end(),
            });
        }
        Ok(())
    }

    fn read_functions(&mut self, dwarf: &Dwarf<'_>, unit: &Unit<'_>) -> gimli::Result<()> {
        let prefixes = scope_prefixes(dwarf, unit)?;
        let cplus = is_cplus(unit);
        let mut ctx = UnitCtx {
            dwarf,
            unit,
            code: self.code,
            reader: TypeReader {
                dwarf,
                unit,
                memo: HashMap::new(),
                prefixes: &prefixes,
                cplus,
            },
            table: &mut self.types,
        };
        let mut globals = Vec::new();
        let mut stack: Vec<Open> = Vec::new();
        let mut cursor = unit.entries();
        while let Some(entry) = cursor.next_dfs()? {
            let depth = entry.depth();
            while stack.last().is_some_and(|o| o.depth >= depth) {
                if let Some(open) = stack.pop() {
                    close(&mut self.functions, open, &mut stack);
                }
            }
            let in_code_scope = stack
                .last()
                .is_some_and(|o| !matches!(o.kind, OpenKind::Opaque));
            let tag = entry.tag();
            match tag {
                constants::DW_TAG_variable if !in_function(&stack) => {
                    if let Some(var) = ctx.global(entry) {
                        globals.push(var);
                    }
                    if entry.has_children() {
                        stack.push(Open {
                            depth,
                            kind: OpenKind::Opaque,
                            scope: Scope::default(),
                        });
                    }
                }
                constants::DW_TAG_subprogram => {
                    let name = ctx.die_name(entry, 0).unwrap_or_else(|| "<unknown>".into());
                    let frame_base = match entry.attr_value(constants::DW_AT_frame_base) {
                        Some(AttributeValue::Exprloc(expr)) => {
                            ctx.eval(expr, None).ok().and_then(|(mut s, _)| s.pop())
                        }
                        _ => None,
                    };
                    let ranges = ctx.ranges(entry);
                    stack.push(Open {
                        depth,
                        kind: OpenKind::Function { name, frame_base },
                        scope: Scope {
                            ranges,
                            ..Scope::default()
                        },
                    });
                }
                constants::DW_TAG_lexical_block | constants::DW_TAG_inlined_subroutine
                    if in_code_scope =>
                {
                    let ranges = ctx.ranges(entry);
                    stack.push(Open {
                        depth,
                        kind: OpenKind::Block,
                        scope: Scope {
                            ranges,
                            ..Scope::default()
                        },
                    });
                }
                constants::DW_TAG_variable | constants::DW_TAG_formal_parameter
                    if in_code_scope =>
                {
                    let frame_base = stack.iter().rev().find_map(|o| match &o.kind {
                        OpenKind::Function { frame_base, .. } => Some(frame_base.clone()),
                        _ => None,
                    });
                    let var = ctx.variable(entry, frame_base.flatten());
                    if let (Some(var), Some(open)) = (var, stack.last_mut()) {
                        open.scope.vars.push(var);
                    }
                    if entry.has_children() {
                        stack.push(Open {
                            depth,
                            kind: OpenKind::Opaque,
                            scope: Scope::default(),
                        });
                    }
                }
                _ if entry.has_children() && depth > 0 => stack.push(Open {
                    depth,
                    kind: OpenKind::Opaque,
                    scope: Scope::default(),
                }),
                _ => {}
            }
        }
        while let Some(open) = stack.pop() {
            close(&mut self.functions, open, &mut stack);
        }
        self.globals.append(&mut globals);
        Ok(())
    }
}

/// Finishes a scope: a function with code is kept, a block goes into its parent.
fn close(functions: &mut Vec<Function>, open: Open, stack: &mut [Open]) {
    {
        match open.kind {
            OpenKind::Function { name, .. } => {
                let Some(start) = open.scope.ranges.iter().map(|r| r.0).min() else {
                    return;
                };
                let end = open.scope.ranges.iter().map(|r| r.1).max().unwrap_or(start);
                functions.push(Function {
                    name,
                    start,
                    end,
                    scope: open.scope,
                });
            }
            OpenKind::Block => {
                if let Some(parent) = stack.last_mut() {
                    if !matches!(parent.kind, OpenKind::Opaque) {
                        parent.scope.children.push(open.scope);
                    }
                }
            }
            OpenKind::Opaque => {}
        }
    }
}

/// Whether the scopes being read include a function (its variables are not globals).
fn in_function(stack: &[Open]) -> bool {
    stack
        .iter()
        .any(|o| matches!(o.kind, OpenKind::Function { .. } | OpenKind::Block))
}

/// Whether a unit is C++ (type names without `struct`/`enum`).
fn is_cplus(unit: &Unit<'_>) -> bool {
    let mut cursor = unit.entries();
    let Ok(Some(root)) = cursor.next_dfs() else {
        return false;
    };
    matches!(
        root.attr_value(constants::DW_AT_language),
        Some(AttributeValue::Language(
            constants::DW_LANG_C_plus_plus
                | constants::DW_LANG_C_plus_plus_03
                | constants::DW_LANG_C_plus_plus_11
                | constants::DW_LANG_C_plus_plus_14
        ))
    )
}

/// `ns::Class::` for every DIE nested in named namespaces, classes, structs, unions or enums.
fn scope_prefixes(
    dwarf: &Dwarf<'_>,
    unit: &Unit<'_>,
) -> gimli::Result<HashMap<UnitOffset, String>> {
    let mut out = HashMap::new();
    let mut scopes: Vec<(isize, String)> = Vec::new();
    let mut cursor = unit.entries();
    while let Some(entry) = cursor.next_dfs()? {
        let depth = entry.depth();
        while scopes.last().is_some_and(|(d, _)| *d >= depth) {
            scopes.pop();
        }
        if !scopes.is_empty() {
            let prefix: String = scopes.iter().map(|(_, n)| format!("{n}::")).collect();
            out.insert(entry.offset(), prefix);
        }
        let scope = matches!(
            entry.tag(),
            constants::DW_TAG_namespace
                | constants::DW_TAG_class_type
                | constants::DW_TAG_structure_type
                | constants::DW_TAG_union_type
        );
        if scope && entry.has_children() {
            let name = match entry.attr_value(constants::DW_AT_name) {
                Some(v) => dwarf
                    .attr_string(unit, v)
                    .ok()
                    .map(|s| s.to_string_lossy().into_owned()),
                None if entry.tag() == constants::DW_TAG_namespace => {
                    Some("(anonymous namespace)".to_string())
                }
                None => None,
            };
            // Members of unnamed types are not qualified by them.
            if let Some(name) = name {
                scopes.push((depth, name));
            }
        }
    }
    Ok(out)
}

impl Builder {
    fn finish(self) -> DwarfInfo {
        let mut rows = self.rows;
        rows.sort_by_key(|(r, _)| r.offset);
        let (rows, row_seq): (Vec<LineRow>, Vec<u32>) = rows.into_iter().unzip();
        let files: BTreeSet<&str> = rows.iter().map(|r| r.file.as_str()).collect();
        let files = files.into_iter().map(str::to_string).collect();
        let mut functions = self.functions;
        functions.sort_by_key(|f| (f.start, f.end));
        let mut func_ranges: Vec<(u32, u32, usize)> = functions
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.scope.ranges.iter().map(move |&(s, e)| (s, e, i)))
            .collect();
        func_ranges.sort_unstable();
        let mut types = self.types;
        let builtins = types.builtins();
        // One global per name: a definition with a location wins over a declaration.
        let mut globals: Vec<Variable> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        for g in self.globals {
            match by_name.get(&g.name) {
                Some(&i) if matches!(globals[i].location, VarLocation::Unsupported(_)) => {
                    globals[i] = g
                }
                Some(_) => {}
                None => {
                    by_name.insert(g.name.clone(), globals.len());
                    globals.push(g);
                }
            }
        }
        DwarfInfo {
            rows,
            row_seq,
            seq_ends: self.seq_ends,
            files,
            functions,
            func_ranges,
            types,
            builtins,
            globals,
        }
    }
}

/// Whether module offset `offset` lies in one of `unit`'s address ranges (unreadable ranges
/// count as covering it, so the unit's line program is read rather than missed).
fn unit_covers(dwarf: &Dwarf<'_>, unit: &Unit<'_>, code: CodeMap, offset: u32) -> bool {
    let Ok(mut ranges) = dwarf.unit_ranges(unit) else {
        return true;
    };
    loop {
        match ranges.next() {
            Ok(Some(r)) => {
                if code
                    .range(r.begin, r.end)
                    .is_some_and(|(b, e)| b <= offset && offset < e)
                {
                    return true;
                }
            }
            Ok(None) => return false,
            Err(_) => return true,
        }
    }
}

/// The full path of file `index` of a line program.
fn file_path(
    dwarf: &Dwarf<'_>,
    unit: &Unit<'_>,
    header: &gimli::LineProgramHeader<Slice<'_>>,
    index: u64,
    comp_dir: &str,
) -> String {
    let Some(entry) = header.file(index) else {
        return format!("<file {index}>");
    };
    let text = |value| {
        dwarf
            .attr_string(unit, value)
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let name = text(entry.path_name());
    let mut path = name.clone();
    if !is_absolute(&path) {
        if let Some(dir) = entry.directory(header).map(text) {
            path = join_path(&dir, &path);
        }
        if !is_absolute(&path) && !comp_dir.is_empty() {
            path = join_path(comp_dir, &path);
        }
    }
    let cleaned = clean_path(&path);
    if cleaned.is_empty() {
        name
    } else {
        cleaned
    }
}

fn is_absolute(path: &str) -> bool {
    let b = path.as_bytes();
    path.starts_with('/')
        || path.starts_with('\\')
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

fn join_path(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else if dir.ends_with('/') || dir.ends_with('\\') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// Drops `.` components and doubled separators ("./build/./a.c" -> "build/a.c").
fn clean_path(path: &str) -> String {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// Whether `full` is `suffix` or ends with it at a path-component boundary.
fn path_matches(full: &str, suffix: &str) -> bool {
    if suffix.is_empty() {
        return false;
    }
    if full == suffix {
        return true;
    }
    full.strip_suffix(suffix)
        .is_some_and(|head| suffix.starts_with('/') || head.ends_with('/'))
}

/// Reading context for one unit: its DIEs, resolved types and the code mapping.
struct UnitCtx<'d, 'a> {
    dwarf: &'d Dwarf<'a>,
    unit: &'d Unit<'a>,
    code: CodeMap,
    reader: TypeReader<'d, 'a>,
    table: &'d mut TypeTable,
}

impl<'a> UnitCtx<'_, 'a> {
    fn string(&self, value: AttributeValue<Slice<'a>>) -> Option<String> {
        let s = self.dwarf.attr_string(self.unit, value).ok()?;
        Some(s.to_string_lossy().into_owned())
    }

    /// DW_AT_name (qualified with its C++ namespaces and classes), else the name of the DIE
    /// this one is an instance or a definition of.
    fn die_name(&self, entry: &Entry<'a>, hops: u32) -> Option<String> {
        if let Some(name) = entry
            .attr_value(constants::DW_AT_name)
            .and_then(|v| self.string(v))
        {
            return Some(match self.reader.prefixes.get(&entry.offset()) {
                Some(p) => format!("{p}{name}"),
                None => name,
            });
        }
        if hops >= 4 {
            return None;
        }
        [
            constants::DW_AT_abstract_origin,
            constants::DW_AT_specification,
        ]
        .into_iter()
        .find_map(|at| {
            let target = self.entry_ref(entry.attr_value(at)?)?;
            self.die_name(&target, hops + 1)
        })
    }

    fn unit_offset(&self, value: AttributeValue<Slice<'a>>) -> Option<UnitOffset> {
        match value {
            AttributeValue::UnitRef(off) => Some(off),
            AttributeValue::DebugInfoRef(off) => off.to_unit_offset(&self.unit.header),
            _ => None,
        }
    }

    fn entry_ref(&self, value: AttributeValue<Slice<'a>>) -> Option<Entry<'a>> {
        self.unit.entry(self.unit_offset(value)?).ok()
    }

    /// Code ranges of a DIE, as module offsets.
    fn ranges(&self, entry: &Entry<'a>) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        let Ok(mut iter) = self.dwarf.die_ranges(self.unit, entry) else {
            return out;
        };
        while let Ok(Some(r)) = iter.next() {
            if let Some(range) = self.code.range(r.begin, r.end) {
                out.push(range);
            }
            if out.len() > 4096 {
                break;
            }
        }
        out
    }

    /// The type of a variable DIE (through its abstract origin or specification).
    fn var_type(&mut self, entry: &Entry<'a>) -> (TypeId, VarType) {
        let type_ref = entry.attr_value(constants::DW_AT_type).or_else(|| {
            [
                constants::DW_AT_abstract_origin,
                constants::DW_AT_specification,
            ]
            .into_iter()
            .find_map(|at| {
                let origin = self.entry_ref(entry.attr_value(at)?)?;
                origin.attr_value(constants::DW_AT_type)
            })
        });
        let id = self.reader.type_ref(self.table, type_ref, 0);
        (id, summary(self.table, id))
    }

    /// A variable with static storage outside functions (a global, a file static, a C++
    /// static member's definition); None for declarations.
    fn global(&mut self, entry: &Entry<'a>) -> Option<Variable> {
        let AttributeValue::Exprloc(expr) = entry.attr_value(constants::DW_AT_location)? else {
            return None;
        };
        let name = self.die_name(entry, 0)?;
        let (type_id, ty) = self.var_type(entry);
        let location = match self.location(expr, None) {
            VarLocation::Address(TOMBSTONE) => VarLocation::Unsupported("optimized out".into()),
            loc => loc,
        };
        Some(Variable {
            name,
            ty,
            type_id,
            location,
            is_param: false,
        })
    }

    fn variable(&mut self, entry: &Entry<'a>, frame_base: Option<Sym>) -> Option<RawVar> {
        let name = self.die_name(entry, 0)?;
        let (type_id, ty) = self.var_type(entry);
        let location = match entry.attr_value(constants::DW_AT_location) {
            Some(AttributeValue::Exprloc(expr)) => {
                RawLocation::Fixed(self.location(expr, frame_base.as_ref()))
            }
            Some(value) => match self.dwarf.attr_locations(self.unit, value) {
                Ok(Some(mut iter)) => {
                    let mut list = Vec::new();
                    while let Ok(Some(item)) = iter.next() {
                        if let Some((s, e)) = self.code.range(item.range.begin, item.range.end) {
                            list.push((s, e, self.location(item.data, frame_base.as_ref())));
                        }
                        if list.len() > 4096 {
                            break;
                        }
                    }
                    RawLocation::List(list)
                }
                _ => {
                    RawLocation::Fixed(VarLocation::Unsupported("unreadable location".to_string()))
                }
            },
            None => {
                let what = match entry.attr_value(constants::DW_AT_const_value) {
                    Some(v) => match v.sdata_value() {
                        Some(n) => format!("constant {n}"),
                        None => "constant".to_string(),
                    },
                    None => "optimized out".to_string(),
                };
                RawLocation::Fixed(VarLocation::Unsupported(what))
            }
        };
        Some(RawVar {
            name,
            ty,
            type_id,
            location,
            is_param: entry.tag() == constants::DW_TAG_formal_parameter,
        })
    }

    /// Runs a DWARF expression symbolically; returns the stack and whether it ended in DW_OP_stack_value.
    fn eval(
        &self,
        expr: gimli::Expression<Slice<'a>>,
        frame_base: Option<&Sym>,
    ) -> Result<(Vec<Sym>, bool), String> {
        use gimli::Operation as Op;
        let mut ops = expr.operations(self.unit.encoding());
        let mut stack: Vec<Sym> = Vec::new();
        let mut is_value = false;
        let mut pieces = 0;
        let mut derefs = 0;
        let underflow = || "malformed location expression".to_string();
        while let Some(op) = ops
            .next()
            .map_err(|e| format!("bad location expression: {e}"))?
        {
            if pieces > 0 {
                return Err("composite location (pieces)".to_string());
            }
            match op {
                Op::Nop => {}
                Op::WasmLocal { index } => stack.push(Sym::Value(VarLocation::WasmLocal(index), 0)),
                Op::WasmGlobal { index } => {
                    stack.push(Sym::Value(VarLocation::WasmGlobal(index), 0))
                }
                Op::WasmStack { index } => stack.push(Sym::Value(VarLocation::WasmStack(index), 0)),
                Op::FrameOffset { offset } => {
                    let base = frame_base.ok_or_else(|| "no frame base".to_string())?;
                    stack.push(base.clone().add(offset).ok_or_else(underflow)?);
                }
                Op::Address { address } => stack.push(Sym::Const(address)),
                Op::AddressIndex { index } => {
                    let address = self
                        .dwarf
                        .address(self.unit, index)
                        .map_err(|e| format!("bad address index: {e}"))?;
                    stack.push(Sym::Const(address));
                }
                Op::UnsignedConstant { value } => stack.push(Sym::Const(value)),
                Op::SignedConstant { value } => stack.push(Sym::Const(value as u64)),
                Op::PlusConstant { value } => {
                    let top = stack.pop().ok_or_else(underflow)?;
                    stack.push(top.add(value as i64).ok_or_else(underflow)?);
                }
                Op::Plus | Op::Minus => {
                    let b = stack.pop().ok_or_else(underflow)?;
                    let a = stack.pop().ok_or_else(underflow)?;
                    let minus = matches!(op, Op::Minus);
                    let sum = match (a, b) {
                        (Sym::Const(a), Sym::Const(b)) if minus => {
                            Some(Sym::Const(a.wrapping_sub(b)))
                        }
                        (x, Sym::Const(c)) if minus => {
                            (c as i64).checked_neg().and_then(|n| x.add(n))
                        }
                        (x, Sym::Const(c)) | (Sym::Const(c), x) if !minus => x.add(c as i64),
                        _ => None,
                    };
                    stack.push(sum.ok_or_else(|| "computed location".to_string())?);
                }
                Op::Deref {
                    size: 4,
                    space: false,
                    ..
                } => {
                    derefs += 1;
                    if derefs > MAX_DEREFS {
                        return Err("too many dereferences".to_string());
                    }
                    let top = stack.pop().ok_or_else(underflow)?;
                    stack.push(Sym::Value(top.memory(), 0));
                }
                Op::StackValue => is_value = true,
                Op::Piece { .. } => pieces += 1,
                Op::Register { register } => {
                    return Err(format!("register {} location", register.0));
                }
                other => {
                    let text: String = format!("{other:?}").chars().take(60).collect();
                    return Err(format!("unsupported location ({text})"));
                }
            }
            if stack.len() > 64 {
                return Err("location expression too deep".to_string());
            }
        }
        Ok((stack, is_value))
    }

    /// The location a DW_AT_location expression describes.
    fn location(
        &self,
        expr: gimli::Expression<Slice<'a>>,
        frame_base: Option<&Sym>,
    ) -> VarLocation {
        let (mut stack, is_value) = match self.eval(expr, frame_base) {
            Ok(r) => r,
            Err(what) => return VarLocation::Unsupported(what),
        };
        let Some(top) = stack.pop() else {
            return VarLocation::Unsupported("optimized out".to_string());
        };
        if !is_value {
            return top.memory();
        }
        match top {
            Sym::Value(loc, 0) => loc,
            Sym::Value(..) => VarLocation::Unsupported("computed value".to_string()),
            Sym::Const(c) => VarLocation::Unsupported(format!("constant {c}")),
        }
    }
}

/// The short description of a type that [`Variable::format`] uses.
fn summary(table: &TypeTable, id: TypeId) -> VarType {
    let stripped = table.strip(id);
    let kind = match &table.get(stripped).kind {
        TypeKind::Base { enc, .. } => match enc {
            types::Encoding::Signed => ScalarKind::Signed,
            types::Encoding::Unsigned => ScalarKind::Unsigned,
            types::Encoding::Float => ScalarKind::Float,
            types::Encoding::Bool => ScalarKind::Bool,
            types::Encoding::SignedChar | types::Encoding::UnsignedChar => ScalarKind::Char,
            types::Encoding::Other => ScalarKind::Other,
        },
        TypeKind::Enum { signed: true, .. } => ScalarKind::Signed,
        TypeKind::Enum { .. } => ScalarKind::Unsigned,
        TypeKind::Pointer { .. } | TypeKind::Reference { .. } => ScalarKind::Pointer,
        _ => ScalarKind::Other,
    };
    VarType {
        name: table.name(id),
        size: u32::try_from(table.size(id)).unwrap_or(u32::MAX),
        kind,
    }
}
