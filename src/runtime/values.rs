//! Values as the embedder sees them, and their raw 64-bit form.

use super::func::Func;
use crate::types::ValType;
use crate::vm::layout::VMFuncRef;
use std::fmt;

/// An opaque host reference. Its payload is a host-chosen 64-bit value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternRef(u64);

impl ExternRef {
    pub fn new(payload: u64) -> ExternRef {
        ExternRef(payload)
    }

    pub fn payload(self) -> u64 {
        self.0
    }

    pub(crate) fn to_raw(self) -> u64 {
        self.0.wrapping_add(1)
    }

    pub(crate) fn from_raw(raw: u64) -> Option<ExternRef> {
        (raw != 0).then(|| ExternRef(raw - 1))
    }
}

/// A WebAssembly value.
#[derive(Debug, Clone, Copy)]
pub enum Val {
    I32(i32),
    I64(i64),
    /// Raw bits, so NaN payloads survive.
    F32(u32),
    F64(u64),
    /// A 128-bit vector, lane 0 in the low bits (little-endian lanes).
    V128(u128),
    FuncRef(Option<Func>),
    ExternRef(Option<ExternRef>),
    /// An exception reference: opaque, 0 is null (valid while its store lives).
    ExnRef(u64),
}

impl Val {
    pub fn ty(&self) -> ValType {
        match self {
            Val::I32(_) => ValType::I32,
            Val::I64(_) => ValType::I64,
            Val::F32(_) => ValType::F32,
            Val::F64(_) => ValType::F64,
            Val::V128(_) => ValType::V128,
            Val::FuncRef(_) => ValType::FuncRef,
            Val::ExternRef(_) => ValType::ExternRef,
            Val::ExnRef(_) => ValType::ExnRef,
        }
    }

    pub fn default_for(ty: ValType) -> Val {
        match ty {
            ValType::I32 => Val::I32(0),
            ValType::I64 => Val::I64(0),
            ValType::F32 => Val::F32(0),
            ValType::F64 => Val::F64(0),
            ValType::V128 => Val::V128(0),
            ValType::FuncRef => Val::FuncRef(None),
            ValType::ExternRef => Val::ExternRef(None),
            ValType::ExnRef => Val::ExnRef(0),
        }
    }

    /// The raw 64-bit form (a v128 gives its low half: see [`Val::to_raw128`]).
    pub fn to_raw(&self) -> u64 {
        match *self {
            Val::V128(v) => v as u64,
            Val::I32(v) => v as u32 as u64,
            Val::I64(v) => v as u64,
            Val::F32(v) => v as u64,
            Val::F64(v) => v,
            Val::FuncRef(f) => f.map_or(0, |f| f.raw as u64),
            Val::ExternRef(e) => e.map_or(0, |e| e.to_raw()),
            Val::ExnRef(e) => e,
        }
    }

    pub(crate) fn from_raw(ty: ValType, raw: u64, store_id: u64) -> Val {
        match ty {
            ValType::I32 => Val::I32(raw as u32 as i32),
            ValType::I64 => Val::I64(raw as i64),
            ValType::F32 => Val::F32(raw as u32),
            ValType::F64 => Val::F64(raw),
            ValType::V128 => Val::V128(raw as u128),
            ValType::FuncRef => Val::FuncRef((raw != 0).then_some(Func {
                store: store_id,
                raw: raw as *const VMFuncRef,
            })),
            ValType::ExternRef => Val::ExternRef(ExternRef::from_raw(raw)),
            ValType::ExnRef => Val::ExnRef(raw),
        }
    }

    /// The raw form of any value, 128 bits wide (scalars in the low 64).
    pub fn to_raw128(&self) -> u128 {
        match *self {
            Val::V128(v) => v,
            _ => self.to_raw() as u128,
        }
    }

    pub(crate) fn from_raw128(ty: ValType, raw: u128, store_id: u64) -> Val {
        match ty {
            ValType::V128 => Val::V128(raw),
            _ => Val::from_raw(ty, raw as u64, store_id),
        }
    }

    /// Stores the value at word `at` of a values array (two words for a v128).
    pub(crate) fn write_words(&self, words: &mut [u64], at: usize) {
        let raw = self.to_raw128();
        words[at] = raw as u64;
        if let Val::V128(_) = self {
            words[at + 1] = (raw >> 64) as u64;
        }
    }

    /// Reads a value of type `ty` from word `at` of a values array.
    pub(crate) fn read_words(ty: ValType, words: &[u64], at: usize, store_id: u64) -> Val {
        let hi = if ty.is_v128() { words[at + 1] } else { 0 };
        Val::from_raw128(ty, (hi as u128) << 64 | words[at] as u128, store_id)
    }

    pub fn v128(&self) -> Option<u128> {
        if let Val::V128(v) = self {
            Some(*v)
        } else {
            None
        }
    }

    pub fn i32(&self) -> Option<i32> {
        if let Val::I32(v) = self {
            Some(*v)
        } else {
            None
        }
    }

    pub fn i64(&self) -> Option<i64> {
        if let Val::I64(v) = self {
            Some(*v)
        } else {
            None
        }
    }
}

/// Whether a float magnitude prints in exponent form (as `%g` does): plain
/// decimals of very small or very large values run to hundreds of digits.
/// Both forms give the shortest digits that read back to the same value.
fn extreme(abs: f64) -> bool {
    abs != 0.0 && abs.is_finite() && !(1e-5..1e16).contains(&abs)
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::I32(v) => write!(f, "{v}"),
            Val::I64(v) => write!(f, "{v}"),
            Val::F32(b) => {
                let v = f32::from_bits(*b);
                if extreme(v.abs() as f64) {
                    write!(f, "{v:e}")
                } else {
                    write!(f, "{v}")
                }
            }
            Val::F64(b) => {
                let v = f64::from_bits(*b);
                if extreme(v.abs()) {
                    write!(f, "{v:e}")
                } else {
                    write!(f, "{v}")
                }
            }
            Val::V128(v) => write!(f, "0x{v:032x}"),
            Val::FuncRef(None) | Val::ExternRef(None) => write!(f, "null"),
            Val::FuncRef(Some(func)) => write!(f, "funcref:{:p}", func.raw),
            Val::ExternRef(Some(e)) => write!(f, "externref:{}", e.payload()),
            Val::ExnRef(0) => write!(f, "null"),
            Val::ExnRef(e) => write!(f, "exnref:{e:#x}"),
        }
    }
}

fn parse_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let v = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(h) => i128::from_str_radix(h, 16).ok()?,
        None => body.parse::<i128>().ok()?,
    };
    Some(if neg { -v } else { v })
}

impl Val {
    /// Parses a value of type `t` from text: decimal or 0x hex integers
    /// (negative allowed, unsigned range accepted), floats, `null` for references.
    pub fn parse(t: ValType, s: &str) -> Result<Val, String> {
        let bad = || format!("`{s}` is not a valid {t}");
        Ok(match t {
            ValType::I32 => {
                let v = parse_int(s).ok_or_else(bad)?;
                if v < i32::MIN as i128 || v > u32::MAX as i128 {
                    return Err(bad());
                }
                Val::I32(v as i64 as i32)
            }
            ValType::I64 => {
                let v = parse_int(s).ok_or_else(bad)?;
                if v < i64::MIN as i128 || v > u64::MAX as i128 {
                    return Err(bad());
                }
                Val::I64(v as i64)
            }
            ValType::F32 => Val::F32(s.parse::<f32>().map_err(|_| bad())?.to_bits()),
            ValType::F64 => Val::F64(s.parse::<f64>().map_err(|_| bad())?.to_bits()),
            ValType::V128 => {
                // 0x followed by up to 32 hex digits: the whole vector, lane 0 lowest.
                let h = s
                    .strip_prefix("0x")
                    .or_else(|| s.strip_prefix("0X"))
                    .ok_or_else(bad)?;
                if h.is_empty() || h.len() > 32 {
                    return Err(bad());
                }
                Val::V128(u128::from_str_radix(h, 16).map_err(|_| bad())?)
            }
            ValType::FuncRef | ValType::ExternRef | ValType::ExnRef => {
                if s == "null" {
                    Val::default_for(t)
                } else {
                    return Err(format!("only `null` can be passed for a {t} argument"));
                }
            }
        })
    }
}
