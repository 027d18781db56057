//! gdb-remote framing: `$payload#cs` packets, `+`/`-` acknowledgements, the
//! `\x03` interrupt byte, binary escapes (`}` xor 0x20) and hex helpers.
//! Decoding is incremental (bytes arrive in any chunks) and never fails: a
//! bad checksum is reported as such so the server can ask for a resend.

/// One unit of client input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A packet whose checksum matched (payload with escapes undone).
    Packet(Vec<u8>),
    /// A packet whose checksum did not match.
    BadChecksum,
    /// The interrupt byte (`\x03`) outside a packet.
    Interrupt,
    /// `+` / `-` from the client.
    Ack,
    Nak,
}

#[derive(Debug, Default, PartialEq, Eq)]
enum State {
    #[default]
    Idle,
    Payload,
    Escape,
    Check1,
    Check2(u8),
}

/// Incremental decoder of client bytes.
#[derive(Debug, Default)]
pub struct Decoder {
    state: State,
    payload: Vec<u8>,
    sum: u8,
}

/// Longest payload accepted; longer packets are cut off and fail their checksum.
const MAX_PAYLOAD: usize = 1 << 20;

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Decoder {
    /// Feeds bytes; appends every complete unit to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Input>) {
        for &b in bytes {
            match self.state {
                State::Idle => match b {
                    b'$' => {
                        self.payload.clear();
                        self.sum = 0;
                        self.state = State::Payload;
                    }
                    b'+' => out.push(Input::Ack),
                    b'-' => out.push(Input::Nak),
                    0x03 => out.push(Input::Interrupt),
                    _ => {} // noise between packets is ignored, as gdb does
                },
                State::Payload => {
                    match b {
                        b'#' => {
                            self.state = State::Check1;
                            continue;
                        }
                        b'}' => self.state = State::Escape,
                        _ if self.payload.len() < MAX_PAYLOAD => self.payload.push(b),
                        _ => {}
                    }
                    self.sum = self.sum.wrapping_add(b);
                }
                State::Escape => {
                    self.sum = self.sum.wrapping_add(b);
                    if self.payload.len() < MAX_PAYLOAD {
                        self.payload.push(b ^ 0x20);
                    }
                    self.state = State::Payload;
                }
                State::Check1 => self.state = State::Check2(b),
                State::Check2(hi) => {
                    self.state = State::Idle;
                    let want = match (hex_digit(hi), hex_digit(b)) {
                        (Some(h), Some(l)) => Some(h << 4 | l),
                        _ => None,
                    };
                    if want == Some(self.sum) && self.payload.len() < MAX_PAYLOAD {
                        out.push(Input::Packet(std::mem::take(&mut self.payload)));
                    } else {
                        self.payload.clear();
                        out.push(Input::BadChecksum);
                    }
                }
            }
        }
    }
}

/// Frames a reply: `$payload#cs`, escaping `$`, `#`, `}` and `*`.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 4);
    out.push(b'$');
    let mut sum = 0u8;
    for &b in payload {
        if matches!(b, b'$' | b'#' | b'}' | b'*') {
            out.push(b'}');
            out.push(b ^ 0x20);
            sum = sum.wrapping_add(b'}').wrapping_add(b ^ 0x20);
        } else {
            out.push(b);
            sum = sum.wrapping_add(b);
        }
    }
    out.push(b'#');
    out.extend_from_slice(format!("{sum:02x}").as_bytes());
    out
}

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Bytes from hex; `None` on an odd length or a non-hex digit.
pub fn from_hex(s: &[u8]) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.chunks(2)
        .map(|p| Some(hex_digit(p[0])? << 4 | hex_digit(p[1])?))
        .collect()
}

/// A hex number (at most 16 digits).
pub fn parse_hex_u64(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 16 {
        return None;
    }
    s.iter()
        .try_fold(0u64, |acc, &c| Some(acc << 4 | hex_digit(c)? as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Vec<Input> {
        let mut d = Decoder::default();
        let mut out = Vec::new();
        // Byte by byte, to exercise every state boundary.
        for b in bytes {
            d.feed(std::slice::from_ref(b), &mut out);
        }
        out
    }

    #[test]
    fn frames_round_trip() {
        let f = frame(b"T05thread:1;");
        assert_eq!(decode(&f), vec![Input::Packet(b"T05thread:1;".to_vec())]);
        let bin = [b'$', b'#', b'}', b'*', 0, 0xff];
        assert_eq!(decode(&frame(&bin)), vec![Input::Packet(bin.to_vec())]);
        assert_eq!(frame(b"OK"), b"$OK#9a");
    }

    #[test]
    fn bad_input_is_reported_not_fatal() {
        let got = decode(b"+$qC#00\x03$?#3f-junk$m0,zz#xx");
        assert_eq!(
            got,
            vec![
                Input::Ack,
                Input::BadChecksum,
                Input::Interrupt,
                Input::Packet(b"?".to_vec()),
                Input::Nak,
                Input::BadChecksum
            ]
        );
    }

    #[test]
    fn hex_helpers() {
        assert_eq!(to_hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(from_hex(b"00aB10"), Some(vec![0, 0xab, 0x10]));
        assert_eq!(from_hex(b"0"), None);
        assert_eq!(from_hex(b"zz"), None);
        assert_eq!(parse_hex_u64(b"4000000000000123"), Some(0x4000000000000123));
        assert_eq!(parse_hex_u64(b""), None);
        assert_eq!(parse_hex_u64(b"12345678901234567"), None);
    }
}
