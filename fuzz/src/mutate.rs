//! Byte-level mutations of a valid module: truncations, byte and bit flips,
//! "interesting" bytes (LEB128 continuation bits, sign bits), insertions,
//! deletions, duplicated ranges and splices with another module. Each
//! mutation is deterministic in its random state and describes itself.

use crate::splitmix;

/// Bytes that tend to hit decoder edge cases: LEB128 continuation and sign
/// bits, section and type codes, opcodes of blocks and their ends.
const INTERESTING: [u8; 12] = [
    0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x41, 0x0b, 0x60, 0x70, 0x6f, 0xfd,
];

fn below(st: &mut u64, n: usize) -> usize {
    (splitmix(st) % n.max(1) as u64) as usize
}

/// A position, mostly past the 8-byte header (mutating the header only
/// tests that it is checked).
fn pos(st: &mut u64, len: usize) -> usize {
    if len > 8 && below(st, 16) != 0 {
        8 + below(st, len - 8)
    } else {
        below(st, len)
    }
}

/// Applies 1 to 4 mutations (mostly one) to `bytes`; `other` is a second
/// module for splices. Returns the descriptions of what was done.
pub fn mutate(st: &mut u64, bytes: &mut Vec<u8>, other: &[u8]) -> Vec<String> {
    let rounds = match below(st, 8) {
        0..=4 => 1,
        5 | 6 => 2,
        _ => 1 + below(st, 4),
    };
    (0..rounds).map(|_| mutate_once(st, bytes, other)).collect()
}

fn mutate_once(st: &mut u64, b: &mut Vec<u8>, other: &[u8]) -> String {
    let len = b.len();
    if len == 0 {
        b.push(splitmix(st) as u8);
        return "append a byte".into();
    }
    match below(st, 10) {
        0 => {
            let at = pos(st, len);
            b.truncate(at);
            format!("truncate to {at}")
        }
        1 | 2 => {
            let at = pos(st, len);
            let v = INTERESTING[below(st, INTERESTING.len())];
            b[at] = v;
            format!("byte {at} = {v:#04x}")
        }
        3 | 4 => {
            let at = pos(st, len);
            let bit = below(st, 8);
            b[at] ^= 1 << bit;
            format!("byte {at} bit {bit} flipped")
        }
        5 => {
            let at = pos(st, len);
            let v = splitmix(st) as u8;
            b[at] = v;
            format!("byte {at} = {v:#04x}")
        }
        6 => {
            let at = pos(st, len + 1).min(len);
            let n = 1 + below(st, 4);
            let ins: Vec<u8> = (0..n)
                .map(|_| {
                    if below(st, 2) == 0 {
                        INTERESTING[below(st, INTERESTING.len())]
                    } else {
                        splitmix(st) as u8
                    }
                })
                .collect();
            b.splice(at..at, ins.iter().copied());
            format!("insert {ins:02x?} at {at}")
        }
        7 => {
            let at = pos(st, len);
            let n = (1 + below(st, 16)).min(len - at);
            b.drain(at..at + n);
            format!("delete {n} bytes at {at}")
        }
        8 => {
            let from = pos(st, len);
            let n = (1 + below(st, 32)).min(len - from);
            let chunk: Vec<u8> = b[from..from + n].to_vec();
            let to = pos(st, len + 1).min(len);
            b.splice(to..to, chunk);
            format!("copy {n} bytes from {from} to {to}")
        }
        _ => {
            // Splice: our head with the other module's tail (sections of one
            // module after the other's).
            let at = pos(st, len);
            let from = if other.len() > 8 {
                8 + below(st, other.len() - 8)
            } else {
                0
            };
            b.truncate(at);
            b.extend_from_slice(&other[from.min(other.len())..]);
            format!("splice at {at} with the other module from {from}")
        }
    }
}
