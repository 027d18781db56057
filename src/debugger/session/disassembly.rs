//! The wasm-text disassembly of a session's functions (wasmprinter), made one
//! function at a time when first asked for, for `disas` and the TUI's code
//! pane.
//!
//! wasmprinter prints whole modules, and printing a large module (code, data
//! segments and all) takes most of a second. So each function is printed from
//! a reduced copy of the module: every section but the code section, the data
//! section and custom sections other than `name`, and a code section in which
//! every other body is empty (`end`). Names, types and indices stay those of
//! the real module; offsets inside the printed body map back to the real one.

use super::Shared;
use crate::module::ModuleInfo;
use std::ops::Range;
use std::sync::Arc;

/// One line of disassembly: the instruction's module byte offset (None for
/// lines such as closing parentheses) and wasmprinter's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisasLine {
    pub offset: Option<u32>,
    pub text: String,
}

const SECTION_CUSTOM: u8 = 0;
const SECTION_CODE: u8 = 10;
const SECTION_DATA: u8 = 11;

impl Shared {
    /// The lines of function `func` (empty for an imported function or one
    /// wasmprinter cannot print).
    pub(super) fn disassembly(&self, func: u32) -> Arc<Vec<DisasLine>> {
        let mut cache = self.disas.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(func)
            .or_insert_with(|| Arc::new(print_function(self.module.info(), func)))
            .clone()
    }
}

/// Reads an unsigned LEB128 at `*pos`.
fn leb(bytes: &[u8], pos: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*pos)?;
        *pos += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn push_leb(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// The sections of a (validated) module: id, whole range (header included)
/// and contents range.
fn sections(bytes: &[u8]) -> Vec<(u8, Range<usize>, Range<usize>)> {
    let mut out = Vec::new();
    let mut pos = 8;
    while pos < bytes.len() {
        let start = pos;
        let id = bytes[pos];
        pos += 1;
        let Some(size) = leb(bytes, &mut pos) else {
            break;
        };
        let end = pos.saturating_add(size as usize).min(bytes.len());
        out.push((id, start..end, pos..end));
        pos = end;
    }
    out
}

/// The custom section's name, if the section is `name`.
fn is_name_section(bytes: &[u8], contents: &Range<usize>) -> bool {
    let mut pos = contents.start;
    let Some(len) = leb(bytes, &mut pos) else {
        return false;
    };
    bytes.get(pos..pos + len as usize) == Some(b"name")
}

/// The reduced module that prints only `local` (a defined function's index
/// among the bodies), and where that body starts in it.
fn reduced_module(info: &ModuleInfo, local: usize) -> Option<(Vec<u8>, usize)> {
    let bytes = &info.bytes;
    let body = info.bodies.get(local)?.range.clone();
    let mut out = bytes.get(..8)?.to_vec();
    let mut body_start = None;
    for (id, whole, contents) in sections(bytes) {
        match id {
            SECTION_CODE => {
                let mut code = Vec::new();
                push_leb(&mut code, info.bodies.len() as u64);
                for i in 0..info.bodies.len() {
                    if i == local {
                        push_leb(&mut code, body.len() as u64);
                        body_start = Some(code.len());
                        code.extend_from_slice(bytes.get(body.clone())?);
                    } else {
                        // No locals, `end`.
                        code.extend_from_slice(&[2, 0, 0x0b]);
                    }
                }
                out.push(SECTION_CODE);
                push_leb(&mut out, code.len() as u64);
                body_start = body_start.map(|s| s + out.len());
                out.extend_from_slice(&code);
            }
            SECTION_DATA => {}
            SECTION_CUSTOM if !is_name_section(bytes, &contents) => {}
            _ => out.extend_from_slice(bytes.get(whole)?),
        }
    }
    Some((out, body_start?))
}

/// Prints function `func` of the module, offsets in the real module's bytes.
fn print_function(info: &ModuleInfo, func: u32) -> Vec<DisasLine> {
    let Some(local) = func.checked_sub(info.num_imported_funcs) else {
        return Vec::new();
    };
    let Some(body) = info.bodies.get(local as usize).map(|b| b.range.clone()) else {
        return Vec::new();
    };
    let Some((reduced, start)) = reduced_module(info, local as usize) else {
        return Vec::new();
    };
    let in_body = start..start + body.len();
    let mut storage = String::new();
    let mut cfg = wasmprinter::Config::new();
    cfg.print_offsets(false);
    let Ok(lines) = cfg.offsets_and_lines(&reduced, &mut storage) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut inside = false;
    for (off, text) in lines {
        match off.map(|o| o as usize) {
            Some(o) if in_body.contains(&o) => {
                inside = true;
                out.push(DisasLine {
                    offset: Some((o - start + body.start) as u32),
                    text: text.trim_end().to_string(),
                });
            }
            Some(_) => inside = false,
            None if inside => out.push(DisasLine {
                offset: None,
                text: text.trim_end().to_string(),
            }),
            None => {}
        }
    }
    out
}
