//! Writes a profile for an existing viewer: speedscope's file format
//! (<https://www.speedscope.app/file-format-schema.json>), a "sampled"
//! profile whose frames are wasm functions — one frame per source line where
//! the module has DWARF — and whose samples are the distinct stacks of a
//! [`ProfileDetail`], weighted in milliseconds of CPU time.
//!
//! The JSON is written by hand (the format is small); every string goes
//! through [`json_string`], so names from the module cannot break the file.

use super::report::HOST_ROW;
use super::{ProfileDetail, StackFrame};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Where a frame's code came from in the source (from DWARF); frames are
/// written per line (the column is dropped).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameSource {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

/// What the exporter needs to know about the module.
pub struct Names<'a> {
    /// Name of a function by module id and function index.
    pub function: &'a dyn Fn(u64, u32) -> String,
    /// Source position of a module byte offset (module id, offset), if known.
    pub source: &'a dyn Fn(u64, u32) -> Option<FrameSource>,
}

/// A JSON string literal for `s`.
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The speedscope file for `detail`, named `name`; each sample weighs
/// `ms_per_sample` milliseconds.
pub fn speedscope(detail: &ProfileDetail, name: &str, ms_per_sample: f64, names: &Names) -> String {
    // Frames are keyed by what a viewer shows: function, file, line.
    let mut frames: Vec<(String, Option<FrameSource>)> = Vec::new();
    let mut index: HashMap<(String, Option<FrameSource>), usize> = HashMap::new();
    let mut stacks: Vec<(Vec<usize>, u64)> = Vec::with_capacity(detail.stacks.len());
    for s in &detail.stacks {
        let mut ids = Vec::with_capacity(s.frames.len());
        for f in &s.frames {
            let key = match *f {
                StackFrame::Host => (HOST_ROW.to_string(), None),
                StackFrame::Wasm {
                    module_id,
                    func_index,
                    wasm_offset,
                } => (
                    (names.function)(module_id, func_index),
                    // One frame per line: columns would split a line's samples.
                    (names.source)(module_id, wasm_offset).map(|s| FrameSource { column: 0, ..s }),
                ),
            };
            let id = match index.get(&key) {
                Some(&i) => i,
                None => {
                    frames.push(key.clone());
                    index.insert(key, frames.len() - 1);
                    frames.len() - 1
                }
            };
            ids.push(id);
        }
        stacks.push((ids, s.samples));
    }
    let total: u64 = stacks.iter().map(|(_, n)| n).sum();
    let mut out = String::new();
    out.push_str("{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",");
    let _ = write!(
        out,
        "\"exporter\":{},\"name\":{},\"activeProfileIndex\":0,",
        json_string(&format!("wdb {}", env!("CARGO_PKG_VERSION"))),
        json_string(name)
    );
    out.push_str("\"shared\":{\"frames\":[");
    for (i, (fname, src)) in frames.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "{{\"name\":{}", json_string(fname));
        if let Some(s) = src {
            let _ = write!(
                out,
                ",\"file\":{},\"line\":{}",
                json_string(&s.file),
                s.line
            );
            if s.column > 0 {
                let _ = write!(out, ",\"col\":{}", s.column);
            }
        }
        out.push('}');
    }
    out.push_str("]},\"profiles\":[{\"type\":\"sampled\",");
    let _ = write!(
        out,
        "\"name\":{},\"unit\":\"milliseconds\",\"startValue\":0,\"endValue\":{},",
        json_string(name),
        number(total as f64 * ms_per_sample)
    );
    out.push_str("\"samples\":[");
    for (i, (ids, _)) in stacks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('[');
        for (k, id) in ids.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            let _ = write!(out, "{id}");
        }
        out.push(']');
    }
    out.push_str("],\"weights\":[");
    for (i, (_, n)) in stacks.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&number(*n as f64 * ms_per_sample));
    }
    out.push_str("]}]}\n");
    out
}

/// A finite JSON number.
fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "0".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(json_string("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
