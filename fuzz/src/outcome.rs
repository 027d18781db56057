//! Values, trap kinds and call outcomes in a form both engines (and every wdb
//! tier) can be compared in: floats by bits with any NaN equal to any NaN,
//! references by null-ness, traps by kind.

/// A value, compared by bits.
#[derive(Debug, Clone, Copy)]
pub enum V {
    I32(i32),
    I64(i64),
    F32(u32),
    F64(u64),
    /// A reference: only null-ness is comparable across engines.
    Ref(bool),
    V128(u128),
}

impl PartialEq for V {
    fn eq(&self, other: &V) -> bool {
        match (*self, *other) {
            (V::I32(a), V::I32(b)) => a == b,
            (V::I64(a), V::I64(b)) => a == b,
            (V::F32(a), V::F32(b)) => {
                a == b || (f32::from_bits(a).is_nan() && f32::from_bits(b).is_nan())
            }
            (V::F64(a), V::F64(b)) => {
                a == b || (f64::from_bits(a).is_nan() && f64::from_bits(b).is_nan())
            }
            (V::Ref(a), V::Ref(b)) => a == b,
            (V::V128(a), V::V128(b)) => a == b,
            _ => false,
        }
    }
}

/// A trap, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Unreachable,
    MemoryOutOfBounds,
    TableOutOfBounds,
    IndirectCallToNull,
    DivideByZero,
    Overflow,
    BadConversion,
    StackOverflow,
    BadSignature,
    NullReference,
    /// A trap the other engine has no name for.
    Other,
}

/// What a call did.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Values(Vec<V>),
    Trap(Kind),
}

impl Outcome {
    pub fn is_stack_overflow(&self) -> bool {
        *self == Outcome::Trap(Kind::StackOverflow)
    }
}

/// Parameter types of an export, as both engines see them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum P {
    I32,
    I64,
    F32,
    F64,
    FuncRef,
    ExternRef,
    /// A vector argument: its 64 bits of pattern fill both halves.
    V128,
}

/// The 128 bits of a vector argument made from 64 bits of pattern.
pub fn v128_of(bits: u64) -> u128 {
    (u128::from(bits) << 64) | u128::from(bits.rotate_left(17))
}

/// Why a wdb call produced no comparable outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotATrap {
    /// The watchdog interrupted it.
    Interrupted,
    /// An error that is no trap at all (a wdb bug when a call returns it).
    Other(String),
}

/// The kind of a wdb trap.
pub fn wdb_kind(e: &wdb::Error) -> Result<Kind, NotATrap> {
    use wdb::TrapCode as T;
    Ok(match e.as_trap_code() {
        Some(T::Unreachable) => Kind::Unreachable,
        Some(T::MemoryOutOfBounds) | Some(T::OutOfBoundsSegment) => Kind::MemoryOutOfBounds,
        Some(T::TableOutOfBounds) => Kind::TableOutOfBounds,
        Some(T::IndirectCallToNull) => Kind::IndirectCallToNull,
        Some(T::IntegerDivideByZero) => Kind::DivideByZero,
        Some(T::IntegerOverflow) => Kind::Overflow,
        Some(T::BadConversionToInteger) => Kind::BadConversion,
        Some(T::StackOverflow) => Kind::StackOverflow,
        Some(T::BadSignature) => Kind::BadSignature,
        Some(T::NullReference) => Kind::NullReference,
        Some(T::Interrupted) => return Err(NotATrap::Interrupted),
        Some(_) => Kind::Other,
        None => return Err(NotATrap::Other(format!("not a trap: {e}"))),
    })
}

pub fn to_wdb(p: P, bits: u64) -> wdb::Val {
    match p {
        P::I32 => wdb::Val::I32(bits as u32 as i32),
        P::I64 => wdb::Val::I64(bits as i64),
        P::F32 => wdb::Val::F32(bits as u32),
        P::F64 => wdb::Val::F64(bits),
        P::FuncRef => wdb::Val::FuncRef(None),
        P::ExternRef => wdb::Val::ExternRef(None),
        P::V128 => wdb::Val::V128(v128_of(bits)),
    }
}

pub fn from_wdb(v: &wdb::Val) -> V {
    match *v {
        wdb::Val::I32(x) => V::I32(x),
        wdb::Val::I64(x) => V::I64(x),
        wdb::Val::F32(x) => V::F32(x),
        wdb::Val::F64(x) => V::F64(x),
        wdb::Val::FuncRef(f) => V::Ref(f.is_none()),
        wdb::Val::ExternRef(r) => V::Ref(r.is_none()),
        wdb::Val::ExnRef(r) => V::Ref(r == 0),
        wdb::Val::V128(x) => V::V128(x),
    }
}

/// Where a trap happened: its kind and the backtrace as (function, wasm
/// offset), innermost first.
pub type TrapPlace = (Kind, Vec<(u32, Option<u32>)>);

pub fn trap_place(kind: Kind, e: &wdb::Error) -> TrapPlace {
    let frames = e
        .as_trap()
        .map(|t| {
            t.backtrace
                .iter()
                .map(|f| (f.func_index, f.wasm_offset))
                .collect()
        })
        .unwrap_or_default();
    (kind, frames)
}

/// The operator at each code offset of a module (its `Debug` name).
pub fn operators(wasm: &[u8]) -> std::collections::HashMap<u32, String> {
    let mut ops = std::collections::HashMap::new();
    for payload in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CodeSectionEntry(body)) = payload {
            let Ok(mut reader) = body.get_operators_reader() else {
                continue;
            };
            while let Ok((op, offset)) = reader.read_with_offset() {
                let name = format!("{op:?}");
                let name = name.split([' ', '{', '(']).next().unwrap_or("").to_string();
                ops.insert(offset as u32, name);
            }
        }
    }
    ops
}

/// Whether operator `op` can raise a trap of kind `kind`.
pub fn can_raise(kind: Kind, op: &str) -> bool {
    let trunc = op.contains("Trunc") && !op.contains("Sat") && op.starts_with('I');
    match kind {
        Kind::Unreachable => op == "Unreachable",
        Kind::MemoryOutOfBounds => {
            op.contains("Load")
                || op.contains("Store")
                || matches!(op, "MemoryFill" | "MemoryCopy" | "MemoryInit")
        }
        Kind::TableOutOfBounds => {
            matches!(
                op,
                "TableGet"
                    | "TableSet"
                    | "TableFill"
                    | "TableCopy"
                    | "TableInit"
                    | "CallIndirect"
                    | "ReturnCallIndirect"
            )
        }
        Kind::IndirectCallToNull | Kind::BadSignature => {
            matches!(op, "CallIndirect" | "ReturnCallIndirect")
        }
        Kind::DivideByZero => op.contains("Div") || op.contains("Rem"),
        Kind::Overflow => op.contains("DivS") || trunc,
        Kind::BadConversion => trunc,
        Kind::NullReference => op == "CallRef",
        Kind::StackOverflow | Kind::Other => true,
    }
}

/// Whether a trap place names operators that can have caused it: the
/// innermost frame an operator that raises `kind`, the others calls.
pub fn plausible(place: &TrapPlace, ops: &std::collections::HashMap<u32, String>) -> bool {
    let (kind, frames) = place;
    frames.iter().enumerate().all(|(i, (_, off))| {
        let Some(op) = off.and_then(|o| ops.get(&o)) else {
            return false;
        };
        if i == 0 {
            can_raise(*kind, op)
        } else {
            matches!(op.as_str(), "Call" | "CallIndirect")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trap_places_must_name_an_operator_that_traps() {
        let wasm = wat::parse_str(
            r#"(module (func $f (param i32) (result i32)
                 i32.const 1 local.get 0 i32.div_u)
               (func (export "g") (result i32) i32.const 0 call $f))"#,
        )
        .unwrap();
        let ops = operators(&wasm);
        let at = |name: &str| {
            ops.iter()
                .find(|(_, op)| op.as_str() == name)
                .map(|(o, _)| *o)
                .unwrap()
        };
        let (div, call, konst) = (at("I32DivU"), at("Call"), at("I32Const"));
        let place = |frames: Vec<(u32, Option<u32>)>| (Kind::DivideByZero, frames);
        assert!(plausible(
            &place(vec![(0, Some(div)), (1, Some(call))]),
            &ops
        ));
        assert!(!plausible(
            &place(vec![(0, Some(konst)), (1, Some(call))]),
            &ops
        ));
        assert!(!plausible(
            &place(vec![(0, Some(div)), (1, Some(div))]),
            &ops
        ));
        assert!(!plausible(&place(vec![(0, None)]), &ops));
        assert!(!plausible(&(Kind::Unreachable, vec![(0, Some(div))]), &ops));
    }

    #[test]
    fn nans_compare_by_nan_ness_other_floats_by_bits() {
        assert_eq!(V::F32(0x7fc0_0000), V::F32(0xffc0_0001));
        assert_ne!(V::F32(0.0f32.to_bits()), V::F32((-0.0f32).to_bits()));
        assert_ne!(V::F64(1), V::F64(2));
        assert_ne!(V::I32(1), V::I64(1));
    }
}
