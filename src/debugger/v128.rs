//! How the debugger shows a `v128`: the 128 bits in hex, then the lanes in
//! the current lane shape (`i8x16` .. `f64x2`; `i32x4` until a `lanes`
//! command changes it). The shape is one process-wide setting, shared by the
//! batch console and the TUI.

use std::sync::atomic::{AtomicU8, Ordering};

/// A way to split 128 bits into lanes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lanes {
    I8x16,
    I16x8,
    I32x4,
    I64x2,
    F32x4,
    F64x2,
}

impl Lanes {
    pub const ALL: [Lanes; 6] = [
        Lanes::I8x16,
        Lanes::I16x8,
        Lanes::I32x4,
        Lanes::I64x2,
        Lanes::F32x4,
        Lanes::F64x2,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Lanes::I8x16 => "i8x16",
            Lanes::I16x8 => "i16x8",
            Lanes::I32x4 => "i32x4",
            Lanes::I64x2 => "i64x2",
            Lanes::F32x4 => "f32x4",
            Lanes::F64x2 => "f64x2",
        }
    }

    pub fn parse(s: &str) -> Option<Lanes> {
        Lanes::ALL.into_iter().find(|l| l.name() == s)
    }

    /// The next shape (the TUI cycles through them).
    pub fn next(self) -> Lanes {
        let i = Lanes::ALL.iter().position(|&l| l == self).unwrap_or(0);
        Lanes::ALL[(i + 1) % Lanes::ALL.len()]
    }

    /// Bits per lane.
    pub fn bits(self) -> u32 {
        match self {
            Lanes::I8x16 => 8,
            Lanes::I16x8 => 16,
            Lanes::I32x4 | Lanes::F32x4 => 32,
            Lanes::I64x2 | Lanes::F64x2 => 64,
        }
    }
}

static SHAPE: AtomicU8 = AtomicU8::new(2); // Lanes::I32x4

/// The lane shape values are shown in.
pub fn lanes() -> Lanes {
    Lanes::ALL[SHAPE.load(Ordering::Relaxed) as usize % Lanes::ALL.len()]
}

pub fn set_lanes(l: Lanes) {
    let i = Lanes::ALL.iter().position(|&x| x == l).unwrap_or(2);
    SHAPE.store(i as u8, Ordering::Relaxed);
}

/// The value of lane `i` in shape `l` as text (signed integers, floats).
pub fn lane_text(v: u128, l: Lanes, i: usize) -> String {
    let b = l.bits();
    let raw = (v >> (b as usize * i)) & ((1u128 << b) - 1);
    match l {
        Lanes::I8x16 => (raw as u8 as i8).to_string(),
        Lanes::I16x8 => (raw as u16 as i16).to_string(),
        Lanes::I32x4 => (raw as u32 as i32).to_string(),
        Lanes::I64x2 => (raw as u64 as i64).to_string(),
        Lanes::F32x4 => format!("{:?}", f32::from_bits(raw as u32)),
        Lanes::F64x2 => format!("{:?}", f64::from_bits(raw as u64)),
    }
}

/// `0x<32 hex digits> i32x4 [a b c d]` (lane 0 first).
pub fn format_v128(v: u128, l: Lanes) -> String {
    let n = 128 / l.bits() as usize;
    let lanes: Vec<String> = (0..n).map(|i| lane_text(v, l, i)).collect();
    format!("{v:#034x} {} [{}]", l.name(), lanes.join(" "))
}

/// `i32x4 [a b c d] 0x<32 hex digits>`: lanes first, for narrow columns
/// (the TUI) where the end of the text may be cut off.
pub fn format_v128_lanes_first(v: u128, l: Lanes) -> String {
    let n = 128 / l.bits() as usize;
    let lanes: Vec<String> = (0..n).map(|i| lane_text(v, l, i)).collect();
    format!("{} [{}] {v:#034x}", l.name(), lanes.join(" "))
}

/// The two halves of a v128 as one number.
pub fn join(lo: u64, hi: u64) -> u128 {
    (hi as u128) << 64 | lo as u128
}

/// `print $localN` / `print $globalN` of a `v128` (the expression layer knows
/// no vector type): `$local2 = 0x… i32x4 [..] (v128)`. `None` for anything
/// else, which goes to the expression evaluator.
pub fn print_wasm_v128(snap: &super::Snapshot, frame: usize, expr: &str) -> Option<String> {
    let e = expr.trim();
    let (ty, bits, hi) = if let Some(n) = e.strip_prefix("$local") {
        let n: usize = n.parse().ok()?;
        let v = snap.frames.get(frame)?.locals.as_ref()?.get(n)?;
        (v.ty, v.bits, v.hi)
    } else {
        let n: usize = e.strip_prefix("$global")?.parse().ok()?;
        let g = snap.globals.get(n)?;
        (g.ty, g.bits, g.hi)
    };
    (ty == crate::types::ValType::V128)
        .then(|| format!("{e} = {} (v128)", format_v128(join(bits, hi), lanes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_split_little_endian() {
        let v = join(0xffff_fffe_0000_0001, 0x4000_0000_3f80_0000);
        assert_eq!(
            format_v128(v, Lanes::I32x4),
            "0x400000003f800000fffffffe00000001 i32x4 [1 -2 1065353216 1073741824]"
        );
        assert_eq!(lane_text(v, Lanes::F32x4, 2), "1.0");
        assert_eq!(lane_text(v, Lanes::I8x16, 4), "-2");
        assert_eq!(lane_text(v, Lanes::I64x2, 0), "-8589934591");
        assert_eq!(Lanes::parse("f64x2"), Some(Lanes::F64x2));
        assert_eq!(Lanes::F64x2.next(), Lanes::I8x16);
    }
}
