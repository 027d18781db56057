//! Text helpers for the terminal UI: truncation with '…', padding, control
//! character clean-up and the formatting of wasm values and outcomes.

use wdb::debugger::{GlobalValue, Outcome, Place, Value};
use wdb::ValType;

/// `s` cut to at most `width` characters, ending in '…' when cut.
pub fn fit(s: &str, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(width).collect();
    if chars.next().is_none() {
        return head;
    }
    let mut out: String = head.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `s` fitted into exactly `width` characters (left-aligned).
pub fn pad(s: &str, width: usize) -> String {
    let mut out = fit(s, width);
    let n = out.chars().count();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(n)));
    out
}

/// `s` fitted into exactly `width` characters (right-aligned).
pub fn pad_left(s: &str, width: usize) -> String {
    let f = fit(s, width);
    let n = f.chars().count();
    let mut out: String = std::iter::repeat_n(' ', width.saturating_sub(n)).collect();
    out.push_str(&f);
    out
}

/// Text safe to put on the screen: tabs expanded, carriage returns dropped,
/// other control characters (escape sequences from the guest) made visible.
pub fn clean(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => {
                let n = out.chars().count();
                out.extend(std::iter::repeat_n(' ', 4 - n % 4));
            }
            '\r' | '\n' => {}
            c if c.is_control() => out.push('�'),
            c => out.push(c),
        }
    }
    out
}

/// Raw bits of a value of type `ty`, as a decimal (or float) or as hex.
pub fn bits_text(ty: ValType, bits: u64, hex: bool) -> String {
    match ty {
        ValType::I32 if hex => format!("{:#x}", bits as u32),
        ValType::I32 => (bits as u32 as i32).to_string(),
        ValType::I64 if hex => format!("{bits:#x}"),
        ValType::I64 => (bits as i64).to_string(),
        ValType::F32 if hex => format!("{:#010x}", bits as u32),
        ValType::F32 => format!("{:?}", f32::from_bits(bits as u32)),
        ValType::F64 if hex => format!("{bits:#018x}"),
        ValType::F64 => format!("{:?}", f64::from_bits(bits)),
        ValType::FuncRef | ValType::ExternRef | ValType::ExnRef => format!("ref {bits:#x}"),
        ValType::V128 => format!("v128 lo {bits:#018x}"),
    }
}

/// A `v128` in the current lane shape: lanes first, so that a narrow value
/// column cuts off the hex rather than the lanes.
fn v128_text(lo: u64, hi: u64) -> String {
    use wdb::debugger::v128;
    v128::format_v128_lanes_first(v128::join(lo, hi), v128::lanes())
}

/// A frame value as the locals/stack pane shows it.
pub fn value_text(v: &Value, hex: bool) -> String {
    match v.place {
        Place::Unavailable => "<unavailable>".into(),
        Place::OptimizedOut => "<optimized out>".into(),
        _ if v.ty == ValType::V128 => v128_text(v.bits, v.hi),
        _ => bits_text(v.ty, v.bits, hex),
    }
}

pub fn global_text(g: &GlobalValue, hex: bool) -> String {
    if g.ty == ValType::V128 {
        return v128_text(g.bits, g.hi);
    }
    bits_text(g.ty, g.bits, hex)
}

/// A value usable as a linear-memory address (integers only).
pub fn value_address(v: &Value) -> Option<u64> {
    match (v.place, v.ty) {
        (Place::Unavailable | Place::OptimizedOut, _) => None,
        (_, ValType::I32) => Some(u64::from(v.bits as u32)),
        (_, ValType::I64) => Some(v.bits),
        _ => None,
    }
}

/// One line saying how the program ended.
pub fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Returned(v) if v.is_empty() => "returned".into(),
        Outcome::Returned(v) => format!("returned {}", v.join(", ")),
        Outcome::Exited(code) => format!("exited with code {code}"),
        Outcome::Trapped(what) => format!("trapped: {what}"),
        Outcome::Killed => "killed".into(),
    }
}

/// Parses `0x1a2` (hex) or `418` (decimal).
pub fn parse_number(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Case-insensitive substring test.
pub fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_and_padding() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abcd", 4), "abcd");
        assert_eq!(fit("abc", 0), "");
        assert_eq!(fit("abc", 1), "…");
        assert_eq!(pad("ab", 4), "ab  ");
        assert_eq!(pad_left("ab", 4), "  ab");
        assert_eq!(clean("a\tb\x1b[1m\r"), "a   b�[1m");
    }

    #[test]
    fn values() {
        assert_eq!(bits_text(ValType::I32, 0xffff_ffff, false), "-1");
        assert_eq!(bits_text(ValType::I32, 0xffff_ffff, true), "0xffffffff");
        assert_eq!(bits_text(ValType::F64, 1.5f64.to_bits(), false), "1.5");
        assert_eq!(parse_number("0x10"), Some(16));
        assert_eq!(parse_number("10"), Some(10));
        assert_eq!(parse_number("zz"), None);
    }
}
