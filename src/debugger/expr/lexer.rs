//! Tokens of C/C++ debugger expressions, each with its 1-based column.

use super::ExprError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    /// `$local3`, `$global0`, `$1`, `$`, `$$`: the text after `$`.
    Dollar(String),
    Int {
        value: u64,
        unsigned: bool,
        long: bool,
    },
    Float {
        value: f64,
        single: bool,
    },
    Char(u8),
    Str(Vec<u8>),
    /// Punctuation and operators: `+`, `->`, `<<=`...
    Punct(&'static str),
    End,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub tok: Tok,
    pub col: usize,
}

const PUNCTS: &[&str] = &[
    "<<=", ">>=", "->", "::", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=",
    "-=", "*=", "/=", "%=", "&=", "|=", "^=", "+", "-", "*", "/", "%", "&", "|", "^", "~", "!",
    "<", ">", "=", "(", ")", "[", "]", ".", ",", "?", ":", "@",
];

pub fn lex(text: &str) -> Result<Vec<Token>, ExprError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let col = i + 1;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c.is_ascii_alphabetic() || c == b'_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Ident(text[start..i].to_string()),
                col,
            });
            continue;
        }
        if c == b'$' {
            let start = i + 1;
            i += 1;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Dollar(text[start..i].to_string()),
                col,
            });
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            let (tok, len) = number(&text[i..]).map_err(|m| ExprError::new(col, m))?;
            out.push(Token { tok, col });
            i += len;
            continue;
        }
        if c == b'\'' {
            let (value, len) = quoted(&b[i + 1..], b'\'').map_err(|m| ExprError::new(col, m))?;
            if value.len() != 1 {
                return Err(ExprError::new(
                    col,
                    "a character literal holds one character",
                ));
            }
            out.push(Token {
                tok: Tok::Char(value[0]),
                col,
            });
            i += len + 1;
            continue;
        }
        if c == b'"' {
            let (value, len) = quoted(&b[i + 1..], b'"').map_err(|m| ExprError::new(col, m))?;
            out.push(Token {
                tok: Tok::Str(value),
                col,
            });
            i += len + 1;
            continue;
        }
        match PUNCTS.iter().find(|p| text[i..].starts_with(**p)) {
            Some(p) => {
                out.push(Token {
                    tok: Tok::Punct(p),
                    col,
                });
                i += p.len();
            }
            None => {
                let ch = text[i..].chars().next().unwrap_or('?');
                return Err(ExprError::new(col, format!("unexpected character `{ch}`")));
            }
        }
    }
    out.push(Token {
        tok: Tok::End,
        col: b.len() + 1,
    });
    Ok(out)
}

/// A numeric literal at the start of `s`: the token and its length.
fn number(s: &str) -> Result<(Tok, usize), String> {
    let b = s.as_bytes();
    let hex = s.starts_with("0x") || s.starts_with("0X");
    let mut i = if hex { 2 } else { 0 };
    let digits_start = i;
    let mut is_float = false;
    while i < b.len() {
        let c = b[i];
        let ok = if hex {
            c.is_ascii_hexdigit()
        } else if c == b'.' {
            is_float = true;
            true
        } else if (c == b'e' || c == b'E') && !hex {
            is_float = true;
            if matches!(b.get(i + 1), Some(b'+' | b'-')) {
                i += 1;
            }
            true
        } else {
            c.is_ascii_digit()
        };
        if !ok {
            break;
        }
        i += 1;
    }
    let body = &s[digits_start..i];
    let mut unsigned = false;
    let mut long = false;
    let mut single = false;
    while i < b.len() {
        match b[i] {
            b'u' | b'U' if !is_float => unsigned = true,
            b'l' | b'L' => long = true,
            b'f' | b'F' if is_float => single = true,
            _ => break,
        }
        i += 1;
    }
    if i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
        return Err(format!("invalid number `{}`", &s[..=i]));
    }
    if is_float {
        let value: f64 = body
            .parse()
            .map_err(|_| format!("invalid number `{}`", &s[..i]))?;
        return Ok((Tok::Float { value, single }, i));
    }
    let value = if hex {
        u64::from_str_radix(body, 16)
    } else if body.len() > 1 && body.starts_with('0') {
        u64::from_str_radix(&body[1..], 8)
    } else {
        body.parse()
    }
    .map_err(|_| format!("invalid number `{}`", &s[..i]))?;
    Ok((
        Tok::Int {
            value,
            unsigned,
            long,
        },
        i,
    ))
}

/// The bytes of a quoted literal whose opening quote was just before `b`; returns them and the
/// length consumed including the closing quote.
fn quoted(b: &[u8], quote: u8) -> Result<(Vec<u8>, usize), String> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let Some(&c) = b.get(i) else {
            return Err("unterminated literal".into());
        };
        i += 1;
        if c == quote {
            return Ok((out, i));
        }
        if c != b'\\' {
            out.push(c);
            continue;
        }
        let Some(&e) = b.get(i) else {
            return Err("unterminated literal".into());
        };
        i += 1;
        let v = match e {
            b'n' => b'\n',
            b't' => b'\t',
            b'r' => b'\r',
            b'0'..=b'7' => {
                let mut v: u32 = u32::from(e - b'0');
                let mut n = 1;
                while n < 3 && b.get(i).is_some_and(|d| (b'0'..=b'7').contains(d)) {
                    v = v * 8 + u32::from(b[i] - b'0');
                    i += 1;
                    n += 1;
                }
                (v & 0xff) as u8
            }
            b'x' => {
                let start = i;
                while b.get(i).is_some_and(u8::is_ascii_hexdigit) {
                    i += 1;
                }
                let digits = std::str::from_utf8(&b[start..i]).unwrap_or("");
                u8::from_str_radix(digits, 16).map_err(|_| "bad \\x escape".to_string())?
            }
            b'a' => 7,
            b'b' => 8,
            b'f' => 12,
            b'v' => 11,
            b'e' => 27,
            other => other,
        };
        out.push(v);
    }
}
