//! Source-level values and types as gdb prints them: `{count = 16, values = {3, 7, ...}}`,
//! `(struct item *) 0x11508 <pool>`, `0x4d0 "text"`, `65 'A'`, repeats and the 200-element
//! limit, doubles to 17 significant digits, `print/x` and friends, and `ptype`'s expansion.

use super::api::PrintFormat;
use super::dwarf::VarLocation;
use super::dwarf_types::{Aggregate, Encoding, TypeId, TypeKind, TypeView};
use super::expr::eval::{Evaluator, Loc, Val};

/// Elements of an array or characters of a string printed before `...` (gdb's `print elements`).
pub const PRINT_MAX: usize = 200;
/// Runs longer than this print as `x <repeats N times>` (gdb's `print repeats`).
const REPEATS: usize = 10;
/// Nesting of structs and arrays printed before `{...}`.
const MAX_NEST: u32 = 24;

pub struct Printer<'e, 'a> {
    pub ev: &'e Evaluator<'a>,
    pub format: PrintFormat,
}

impl Printer<'_, '_> {
    /// A value as `print` shows it (`top`: with the type of a pointer in front).
    pub fn value(&self, v: &Val, top: bool) -> String {
        self.value_depth(v, top, 0)
    }

    fn value_depth(&self, v: &Val, top: bool, depth: u32) -> String {
        if let Loc::Gone(_) = v.loc {
            return "<optimized out>".into();
        }
        if depth > MAX_NEST {
            return "{...}".into();
        }
        let t = &self.ev.types;
        let ty = t.strip(v.ty);
        match &t.def(ty).kind {
            TypeKind::Struct { members, .. } => {
                let mut parts = Vec::new();
                for m in members.iter() {
                    if m.is_static {
                        // gdb shows static members in place: `static count = 2`.
                        let Some(n) = &m.name else { continue };
                        let qualified = format!("{}::{n}", t.base_name(ty));
                        // Compiler-made statics (the vtable) have no value to show, as in gdb.
                        let found = self
                            .ev
                            .name(&qualified, 0)
                            .ok()
                            .filter(|_| !m.is_artificial);
                        let text = match found {
                            Some(sv) => self.value_depth(&sv, false, depth + 1),
                            None => "<optimized out>".to_string(),
                        };
                        parts.push(format!("static {n} = {text}"));
                        continue;
                    }
                    let member = match &m.name {
                        Some(n) => self.ev.member(v.clone(), n, 0),
                        None => Ok(Val {
                            ty: m.ty,
                            loc: shift(&v.loc, m.offset),
                        }),
                    };
                    let text = match member {
                        Ok(mv) => self.value_depth(&mv, false, depth + 1),
                        Err(e) => format!("<error: {}>", e.msg),
                    };
                    match (&m.name, m.is_base) {
                        (_, true) => parts.push(format!("<{}> = {text}", t.name(m.ty))),
                        (Some(n), _) => parts.push(format!("{n} = {text}")),
                        (None, _) => parts.push(text),
                    }
                }
                format!("{{{}}}", parts.join(", "))
            }
            TypeKind::Array { elem, count } => self.array(v, *elem, count.unwrap_or(0), depth),
            TypeKind::Pointer { target, .. } => self.pointer(v, *target, top),
            TypeKind::Reference { target, .. } => {
                // References were followed when the value was made; print the referent.
                let r = Val {
                    ty: *target,
                    loc: v.loc.clone(),
                };
                self.value_depth(&r, false, depth + 1)
            }
            TypeKind::Void => "void".into(),
            TypeKind::Function { .. } => "{function}".into(),
            TypeKind::Unknown => "<unknown type>".into(),
            _ => self.scalar(v),
        }
    }

    fn scalar(&self, v: &Val) -> String {
        let t = &self.ev.types;
        let ty = t.strip(v.ty);
        let size = t.size(ty);
        let bytes = match self.ev.bytes(v, size, 0) {
            Ok(b) => b,
            Err(e) => return format!("<error: {}>", e.msg),
        };
        let kind = &t.def(ty).kind;
        if let TypeKind::Base {
            enc: Encoding::Float,
            ..
        } = kind
        {
            let f = match bytes.len() {
                4 => f64::from(f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]])),
                8 => f64::from_le_bytes(bytes[..8].try_into().unwrap_or([0; 8])),
                _ => return hex_bytes(&bytes),
            };
            return match self.format {
                PrintFormat::Natural | PrintFormat::Float => {
                    format_g(f, if bytes.len() == 4 { 9 } else { 17 })
                }
                _ => self.integer(f as i128, 64),
            };
        }
        if bytes.is_empty() || bytes.len() > 8 {
            return hex_bytes(&bytes);
        }
        let mut raw = [0u8; 8];
        raw[..bytes.len()].copy_from_slice(&bytes);
        let u = u64::from_le_bytes(raw);
        let bits = bytes.len() * 8;
        let signed = self.ev.is_signed(ty);
        let value: i128 = if signed && bits < 64 {
            let shift = 64 - bits;
            i128::from(((u << shift) as i64) >> shift)
        } else if signed {
            i128::from(u as i64)
        } else {
            i128::from(u)
        };
        if self.format != PrintFormat::Natural && self.format != PrintFormat::Float {
            // A bitfield shows as wide as it is (`/x` of a 5-bit -8 is 0x18).
            let width = match v.loc {
                Loc::Bits { bits, .. } => bits.clamp(1, 64),
                _ => (bytes.len() * 8) as u32,
            };
            return self.integer(value, width);
        }
        match kind {
            TypeKind::Base { enc, .. } => match enc {
                Encoding::Bool => match value {
                    0 => "false".into(),
                    1 => "true".into(),
                    n => n.to_string(),
                },
                Encoding::SignedChar | Encoding::UnsignedChar => {
                    format!("{value} {}", char_literal(u as u8))
                }
                _ => value.to_string(),
            },
            TypeKind::Enum { values, .. } => enum_text(values, value),
            _ => value.to_string(),
        }
    }

    /// An integer in the format asked for (`/x`, `/d`, `/u`, `/c`).
    fn integer(&self, value: i128, bits: u32) -> String {
        let bits = bits.clamp(1, 64);
        let mask = if bits >= 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        let unsigned = (value as u128) & mask;
        match self.format {
            PrintFormat::Hex => format!("{unsigned:#x}"),
            PrintFormat::Unsigned => unsigned.to_string(),
            PrintFormat::Decimal => {
                let shift = 128 - bits;
                (((unsigned << shift) as i128) >> shift).to_string()
            }
            PrintFormat::Char => {
                let b = unsigned as u8;
                format!("{} {}", b as i8, char_literal(b))
            }
            _ => value.to_string(),
        }
    }

    fn pointer(&self, v: &Val, target: TypeId, top: bool) -> String {
        let t = &self.ev.types;
        let addr = match self.ev.bytes(v, 4, 0) {
            Ok(b) => u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Err(e) => return format!("<error: {}>", e.msg),
        };
        if self.format != PrintFormat::Natural {
            return self.integer(i128::from(addr), 32);
        }
        let target_kind = &t.def(t.strip(target)).kind;
        let is_char = matches!(
            target_kind,
            TypeKind::Base {
                enc: Encoding::SignedChar | Encoding::UnsignedChar,
                size: 1
            }
        );
        if is_char {
            if addr == 0 {
                return "0x0".into();
            }
            return format!("{addr:#x}{} {}", self.symbol(addr), self.c_string(addr));
        }
        let sym = self.symbol(addr);
        let text = format!("{addr:#x}{sym}");
        if top {
            format!("({}) {text}", t.name(v.ty))
        } else {
            text
        }
    }

    /// ` <pool+48>` for an address inside a global.
    fn symbol(&self, addr: u64) -> String {
        if addr == 0 {
            return String::new();
        }
        for g in self.ev.dwarf.globals() {
            if let VarLocation::Address(a) = g.location {
                let size = self.ev.types.size(g.type_id).max(1);
                if a <= addr && addr < a + size {
                    return if addr == a {
                        format!(" <{}>", g.name)
                    } else {
                        format!(" <{}+{}>", g.name, addr - a)
                    };
                }
            }
        }
        String::new()
    }

    /// The NUL-terminated string at `addr`, quoted.
    fn c_string(&self, addr: u64) -> String {
        let mut bytes = Vec::new();
        let mut truncated = false;
        loop {
            match self.ev.m.memory(addr + bytes.len() as u64, 1) {
                Some(b) if b.len() == 1 => {
                    if b[0] == 0 {
                        break;
                    }
                    if bytes.len() == PRINT_MAX {
                        truncated = true;
                        break;
                    }
                    bytes.push(b[0]);
                }
                _ => {
                    if bytes.is_empty() {
                        return format!("<error: Cannot access memory at address {addr:#x}>");
                    }
                    break;
                }
            }
        }
        let mut s = string_segments(&bytes);
        if truncated {
            s.push_str("...");
        }
        s
    }

    fn array(&self, v: &Val, elem: TypeId, count: u64, depth: u32) -> String {
        let t = &self.ev.types;
        let is_char = matches!(
            t.def(t.strip(elem)).kind,
            TypeKind::Base {
                enc: Encoding::SignedChar | Encoding::UnsignedChar,
                size: 1
            }
        );
        if is_char && self.format == PrintFormat::Natural {
            let shown = (count as usize).min(PRINT_MAX);
            let mut bytes = match self.ev.bytes(v, shown as u64, 0) {
                Ok(b) => b,
                Err(e) => return format!("<error: {}>", e.msg),
            };
            let truncated = (count as usize) > PRINT_MAX;
            if !truncated && bytes.last() == Some(&0) {
                bytes.pop();
            }
            let mut s = string_segments(&bytes);
            if truncated {
                s.push_str("...");
            }
            return s;
        }
        let shown = (count as usize).min(PRINT_MAX);
        let mut items: Vec<String> = Vec::with_capacity(shown);
        for i in 0..shown {
            let e = match self.ev.index(v.clone(), i as i128, 0) {
                Ok(e) => e,
                Err(e) => {
                    items.push(format!("<error: {}>", e.msg));
                    break;
                }
            };
            items.push(self.value_depth(&e, false, depth + 1));
        }
        let mut parts = Vec::new();
        let mut i = 0;
        while i < items.len() {
            let mut j = i + 1;
            while j < items.len() && items[j] == items[i] {
                j += 1;
            }
            let run = j - i;
            if run > REPEATS {
                parts.push(format!("{} <repeats {run} times>", items[i]));
                i = j;
            } else {
                parts.push(items[i].clone());
                i += 1;
            }
        }
        let mut s = format!("{{{}", parts.join(", "));
        if (count as usize) > PRINT_MAX {
            s.push_str("...");
        }
        s.push('}');
        s
    }

    /// `ptype`: the type with its outermost struct, union or enum written out.
    pub fn ptype(&self, ty: TypeId) -> String {
        let t = &self.ev.types;
        let mut ty = ty;
        while let TypeKind::Typedef { target } = t.def(ty).kind {
            ty = target;
        }
        let mut core = ty;
        for _ in 0..MAX_NEST {
            match t.def(core).kind {
                TypeKind::Pointer { target, .. }
                | TypeKind::Reference { target, .. }
                | TypeKind::Const(target)
                | TypeKind::Volatile(target)
                | TypeKind::Array { elem: target, .. } => core = target,
                TypeKind::Typedef { target } => core = target,
                _ => break,
            }
        }
        let body = match &t.def(core).kind {
            TypeKind::Struct { .. } | TypeKind::Enum { .. } => self.body(core),
            _ => return t.name(ty),
        };
        let full = t.name(ty);
        let base = t.base_name(core);
        // Replace the base name in the spelling by the body (keeps `const`, `*`, `[3]`).
        match full.find(&base) {
            Some(i) => format!("{}{body}{}", &full[..i], &full[i + base.len()..]),
            None => body,
        }
    }

    fn body(&self, ty: TypeId) -> String {
        let t = &self.ev.types;
        let head = t.base_name(ty);
        match &t.def(ty).kind {
            TypeKind::Enum {
                values,
                scoped,
                underlying,
                ..
            } => {
                let mut next = 0i64;
                let items: Vec<String> = values
                    .iter()
                    .map(|(n, v)| {
                        let s = if *v == next {
                            n.clone()
                        } else {
                            format!("{n} = {v}")
                        };
                        next = v.wrapping_add(1);
                        s
                    })
                    .collect();
                // C++ as gdb writes it: `enum class geo::Kind : int {…}` (the underlying
                // type whenever the DWARF names one; C keeps `enum state {…}`).
                let head = if t.def(ty).cplus {
                    let class = if *scoped { "class " } else { "" };
                    let under = underlying
                        .map(|u| format!(" : {}", t.name(t.strip(u))))
                        .unwrap_or_default();
                    format!("enum {class}{head}{under}")
                } else {
                    head
                };
                format!("{head} {{{}}}", items.join(", "))
            }
            TypeKind::Struct { .. } if t.def(ty).cplus => super::ptype_class::class_body(t, ty),
            TypeKind::Struct { members, kind, .. } => {
                let mut out = format!("{head} {{\n");
                let bases: Vec<String> = members
                    .iter()
                    .filter(|m| m.is_base)
                    .map(|m| format!("public {}", t.name(m.ty)))
                    .collect();
                if !bases.is_empty() {
                    out = format!("{head} : {} {{\n", bases.join(", "));
                }
                if *kind == Aggregate::Class {
                    out.push_str("  public:\n");
                }
                for m in members.iter().filter(|m| !m.is_base) {
                    let name = m.name.clone().unwrap_or_default();
                    let decl = declare(t, m.ty, &name);
                    let stat = if m.is_static { "static " } else { "" };
                    let bits = m.bits.map(|(_, n)| format!(" : {n}")).unwrap_or_default();
                    out.push_str(&format!("    {stat}{decl}{bits};\n"));
                }
                out.push('}');
                out
            }
            _ => head,
        }
    }
}

/// `type name` with C's declarator syntax (`char name[12]`, `struct item *next`).
pub fn declare(t: &dyn TypeView, ty: TypeId, name: &str) -> String {
    let spelled = t.name(ty);
    if name.is_empty() {
        return spelled;
    }
    // Put the name where the declarator's innermost part is: before the first `[` or `)`
    // of the suffix, or at the end.
    let (base, decl) = split_declarator(&spelled);
    if decl.is_empty() {
        return format!("{base} {name}");
    }
    let decl = decl.trim_start();
    if let Some(i) = decl.find(')') {
        return format!("{base} {}{name}{}", &decl[..i], &decl[i..]);
    }
    if let Some(i) = decl.find('[') {
        let head = decl[..i].trim_end();
        return format!("{base} {head}{name}{}", &decl[i..]);
    }
    format!("{base} {decl}{name}")
}

/// (`struct item`, `*`) from `struct item *`; (`short`, `[3][4]`) from `short [3][4]`.
fn split_declarator(s: &str) -> (&str, &str) {
    let i = s.find(['*', '&', '[', '(']).unwrap_or(s.len());
    (s[..i].trim_end(), &s[i..])
}

fn shift(loc: &Loc, by: u64) -> Loc {
    match loc {
        Loc::Memory(a) => Loc::Memory(a + by),
        Loc::Bytes(b) => Loc::Bytes(b.get(by as usize..).unwrap_or(&[]).to_vec()),
        other => other.clone(),
    }
}

fn hex_bytes(b: &[u8]) -> String {
    let hex: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("0x{}", hex.iter().rev().cloned().collect::<String>())
}

/// An enum value by name, `(A | B)` for flags, or the number.
fn enum_text(values: &[(String, i64)], v: i128) -> String {
    if let Some((n, _)) = values.iter().find(|(_, x)| i128::from(*x) == v) {
        return n.clone();
    }
    let flags = !values.is_empty()
        && values
            .iter()
            .all(|(_, x)| *x >= 0 && (*x as u64).count_ones() <= 1);
    if flags && v > 0 {
        let mut left = v;
        let mut names = Vec::new();
        for (n, x) in values {
            let x = i128::from(*x);
            if x != 0 && left & x == x {
                names.push(n.clone());
                left &= !x;
            }
        }
        if !names.is_empty() {
            if left != 0 {
                names.push(format!("unknown: {left:#x}"));
            }
            return format!("({})", names.join(" | "));
        }
    }
    v.to_string()
}

/// `'A'`, `'\n'`, `'\000'` as gdb writes a character.
pub fn char_literal(b: u8) -> String {
    format!("'{}'", escape(b, b'\''))
}

fn escape(b: u8, quote: u8) -> String {
    match b {
        b'\n' => "\\n".into(),
        b'\t' => "\\t".into(),
        b'\r' => "\\r".into(),
        7 => "\\a".into(),
        8 => "\\b".into(),
        12 => "\\f".into(),
        11 => "\\v".into(),
        27 => "\\033".into(),
        b'\\' => "\\\\".into(),
        _ if b == quote => format!("\\{}", b as char),
        0x20..=0x7e => (b as char).to_string(),
        _ => format!("\\{b:03o}"),
    }
}

/// gdb's string: quoted runs, and runs of more than 10 equal characters as
/// `'c' <repeats N times>`, joined by `, `.
fn string_segments(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "\"\"".into();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut quoted = String::new();
    let mut i = 0;
    while i < bytes.len() {
        let mut j = i + 1;
        while j < bytes.len() && bytes[j] == bytes[i] {
            j += 1;
        }
        let run = j - i;
        if run > REPEATS {
            if !quoted.is_empty() {
                parts.push(format!("\"{quoted}\""));
                quoted.clear();
            }
            parts.push(format!("{} <repeats {run} times>", char_literal(bytes[i])));
            i = j;
        } else {
            for _ in 0..run {
                quoted.push_str(&escape(bytes[i], b'"'));
            }
            i = j;
        }
    }
    if !quoted.is_empty() {
        parts.push(format!("\"{quoted}\""));
    }
    parts.join(", ")
}

/// C's `%.{p}g`: `p` significant digits, trailing zeros dropped (gdb prints doubles with 17,
/// floats with 9).
pub fn format_g(x: f64, p: usize) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() {
            "-nan(0x8000000000000)"
        } else {
            "nan(0x8000000000000)"
        }
        .into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{:.*e}", p - 1, x);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if exp < -4 || exp >= p as i32 {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = (p as i32 - 1 - exp).max(0) as usize;
    trim_zeros(&format!("{x:.decimals$}"))
}

fn trim_zeros(s: &str) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g_format_matches_c() {
        assert_eq!(format_g(1.1, 17), "1.1000000000000001");
        assert_eq!(format_g(12.5, 17), "12.5");
        assert_eq!(format_g(0.75, 9), "0.75");
        assert_eq!(format_g(1.0 / 3.0, 17), "0.33333333333333331");
        assert_eq!(format_g(f64::from(1.0f32 / 3.0), 9), "0.333333343");
        assert_eq!(format_g(1e20, 17), "1e+20");
        assert_eq!(format_g(1.5e-7, 17), "1.4999999999999999e-07");
        assert_eq!(format_g(100.0, 17), "100");
    }

    #[test]
    fn strings_like_gdb() {
        assert_eq!(
            string_segments(b"hammer\0\0\0\0\0"),
            "\"hammer\\000\\000\\000\\000\\000\""
        );
        assert_eq!(string_segments(&[0; 11]), "'\\000' <repeats 11 times>");
        assert_eq!(string_segments(b"DCBA"), "\"DCBA\"");
        assert_eq!(char_literal(b'W'), "'W'");
        assert_eq!(char_literal(0), "'\\000'");
    }
}
