//! DWARF line tables and variables (placeholder API until the reader lands).
#![allow(dead_code, unused_variables)]

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineRow {
    pub offset: u32,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub is_stmt: bool,
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    Signed,
    Unsigned,
    Float,
    Bool,
    Char,
    Pointer,
    Other,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarType {
    pub name: String,
    pub size: u32,
    pub kind: ScalarKind,
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarLocation {
    WasmLocal(u32),
    WasmGlobal(u32),
    WasmStack(u32),
    FrameBase { base: Box<VarLocation>, offset: i64 },
    Address(u64),
    Unsupported(String),
}
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub ty: VarType,
    pub location: VarLocation,
    pub is_param: bool,
}
pub trait DwarfEnv {
    fn local(&self, index: u32) -> Option<u64>;
    fn global(&self, index: u32) -> Option<u64>;
    fn stack(&self, index_from_top: u32) -> Option<u64>;
    fn memory(&self, addr: u64, len: u32) -> Option<Vec<u8>>;
}
pub struct DwarfInfo {
    rows: Vec<LineRow>,
}
impl DwarfInfo {
    pub fn parse(module_bytes: &[u8]) -> Result<Option<DwarfInfo>, String> {
        Ok(None)
    }
    pub fn rows(&self) -> &[LineRow] {
        &self.rows
    }
    pub fn line_at(&self, offset: u32) -> Option<&LineRow> {
        None
    }
    pub fn offsets_for_line(&self, file: &str, line: u32) -> Vec<u32> {
        Vec::new()
    }
    pub fn files(&self) -> Vec<String> {
        Vec::new()
    }
    pub fn source_lines(
        &self,
        file: &str,
        search_dirs: &[std::path::PathBuf],
    ) -> Option<Vec<String>> {
        None
    }
    pub fn function_name_at(&self, offset: u32) -> Option<&str> {
        None
    }
    pub fn functions(&self) -> Vec<(String, u32, u32)> {
        Vec::new()
    }
    pub fn variables_at(&self, offset: u32) -> Vec<Variable> {
        Vec::new()
    }
}
impl Variable {
    pub fn read(&self, env: &dyn DwarfEnv) -> Result<Vec<u8>, String> {
        Err("no DWARF".into())
    }
    pub fn format(&self, env: &dyn DwarfEnv) -> Result<String, String> {
        Err("no DWARF".into())
    }
}
