//! DAP framing: `Content-Length: N\r\n\r\n` followed by N bytes of JSON, in
//! both directions. Reading never panics: a message whose body is not JSON
//! is handed on as `Incoming::Malformed` (the adapter answers it with an
//! error), a broken header or the end of input ends the stream.

use serde_json::Value;
use std::io::{BufRead, Write};

/// Largest message body accepted (a `writeMemory` of a few MiB fits).
const MAX_BODY: usize = 64 << 20;

#[derive(Debug)]
pub enum Incoming {
    Message(Value),
    /// The body was not valid JSON: the error, and the `seq` if one was visible.
    Malformed(String),
}

/// Reads one message; `None` at the end of input or on a broken header.
pub fn read_message(r: &mut impl BufRead) -> Option<Incoming> {
    let mut length: Option<usize> = None;
    loop {
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if length.is_some() {
                break;
            }
            continue; // stray blank line before a header
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let n = length?;
    if n > MAX_BODY {
        return None;
    }
    let mut body = vec![0u8; n];
    r.read_exact(&mut body).ok()?;
    Some(match serde_json::from_slice::<Value>(&body) {
        Ok(v) => Incoming::Message(v),
        Err(e) => Incoming::Malformed(format!("malformed JSON at column {}: {e}", e.column())),
    })
}

/// Writes one message.
pub fn write_message(w: &mut impl Write, v: &Value) -> std::io::Result<()> {
    let body = serde_json::to_vec(v)?;
    write!(w, "Content-Length: {}\r\n\r\n", body.len())?;
    w.write_all(&body)?;
    w.flush()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (DAP's `readMemory`/`writeMemory` data).
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(B64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for (i, c) in s.trim_end_matches('=').bytes().enumerate() {
        let v = B64
            .iter()
            .position(|&x| x == c)
            .ok_or_else(|| format!("bad base64 character {:?} at {i}", c as char))?;
        acc = acc << 6 | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_malformed_bodies() {
        let mut input: &[u8] =
            b"Content-Length: 13\r\n\r\n{\"seq\":1}    Content-Length: 5\r\n\r\n{\"se:";
        match read_message(&mut input) {
            Some(Incoming::Message(v)) => assert_eq!(v["seq"], 1),
            other => panic!("{other:?}"),
        }
        // A truncated body is answered, and the stream goes on to its end.
        assert!(matches!(
            read_message(&mut input),
            Some(Incoming::Malformed(_))
        ));
        assert!(read_message(&mut input).is_none());
    }

    #[test]
    fn base64_round_trip() {
        for data in [&b""[..], b"a", b"ab", b"abc", b"abcd", &[0, 255, 128, 7, 9]] {
            let e = base64_encode(data);
            assert_eq!(base64_decode(&e).unwrap(), data);
        }
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert!(base64_decode("a$").is_err());
    }
}
