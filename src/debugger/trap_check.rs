//! Stopping at a trap before it happens: with trap stops on, every function
//! runs its debug hook at every instruction, and this module looks at the
//! instruction about to run and the paused operand stack to tell whether it
//! will trap (and with which of the spec's messages). The program then
//! pauses with the whole state of the trapping frame; resuming runs the
//! instruction, which traps as it would have. Traps that cannot be seen
//! from one instruction and its operands (stack exhaustion, host errors, a
//! value whose location is not recoverable) are not predicted: they end the
//! program as before.

use crate::error::TrapCode;
use crate::module::ModuleInfo;
use crate::runtime::debug::{DebugContext, DebugValue};
use crate::types::ValType;
use wasmparser::{BinaryReader, MemArg, MemArgTarget, Operator, OperatorsReader};

/// The trap the instruction at `ctx.wasm_offset` of `module_bytes` is about to raise.
pub(crate) fn predict(module_bytes: &[u8], ctx: &DebugContext<'_>) -> Option<TrapCode> {
    let at = ctx.wasm_offset as usize;
    let reader = BinaryReader::new(module_bytes.get(at..)?, at as u64);
    let op = OperatorsReader::new(reader).read().ok()?;
    if matches!(op, Operator::Unreachable) {
        return Some(TrapCode::Unreachable);
    }
    if !can_trap(&op) {
        return None;
    }
    let stack = ctx.stack()?;
    // The operand `k` places below the top (0 = top), when it can be read.
    let operand = |k: usize| -> Option<DebugValue> {
        let v = *stack.get(stack.len().checked_sub(k + 1)?)?;
        v.available.then_some(v)
    };
    if let Some((memarg, size, store)) = access(&op) {
        if memarg.target != MemArgTarget::Memory(0) {
            return None;
        }
        let addr = operand(usize::from(store))?;
        let base = match addr.ty {
            ValType::I64 => addr.bits,
            _ => addr.bits & 0xffff_ffff,
        };
        let len = ctx.memory().map(|m| m.len() as u64).unwrap_or(0);
        let end = base
            .checked_add(memarg.offset)
            .and_then(|a| a.checked_add(size));
        return match end {
            Some(e) if e <= len => None,
            _ => Some(TrapCode::MemoryOutOfBounds),
        };
    }
    if let Some((wide, signed, rem)) = division(&op) {
        let divisor = operand(0)?.bits;
        let dividend = operand(1)?.bits;
        let (divisor, dividend, min) = if wide {
            (divisor, dividend, i64::MIN as u64)
        } else {
            (divisor & 0xffff_ffff, dividend & 0xffff_ffff, 0x8000_0000)
        };
        let minus_one = if wide { u64::MAX } else { 0xffff_ffff };
        return if divisor == 0 {
            Some(TrapCode::IntegerDivideByZero)
        } else if signed && !rem && dividend == min && divisor == minus_one {
            Some(TrapCode::IntegerOverflow)
        } else {
            None
        };
    }
    if let Some((from64, lo, hi)) = truncation(&op) {
        let v = operand(0)?;
        let x = if from64 {
            f64::from_bits(v.bits)
        } else {
            f64::from(f32::from_bits(v.bits as u32))
        };
        if x.is_nan() {
            return Some(TrapCode::BadConversionToInteger);
        }
        // In range when the truncated value lies in [lo, hi).
        let t = x.trunc();
        return (!(t >= lo && t < hi)).then_some(TrapCode::IntegerOverflow);
    }
    match op {
        Operator::CallIndirect { table_index, .. } => {
            // An i64 index (of a 64-bit table) is compared whole.
            let index = operand(0)?;
            let index = match index.ty {
                ValType::I64 => index.bits,
                _ => index.bits & 0xffff_ffff,
            };
            let tables = ctx.tables(0);
            let (_, size, _) = tables.get(table_index as usize)?;
            if index >= *size {
                return Some(TrapCode::TableOutOfBounds);
            }
            let entries = ctx.tables(index as usize + 1);
            let (_, _, list) = entries.get(table_index as usize)?;
            match list.get(index as usize) {
                Some(None) => Some(TrapCode::IndirectCallToNull),
                _ => None,
            }
        }
        Operator::MemoryFill { mem: 0 } => {
            let n = operand(0)?.bits & 0xffff_ffff;
            let dst = operand(2)?.bits & 0xffff_ffff;
            beyond(ctx, dst + n)
        }
        Operator::MemoryCopy {
            dst_mem: 0,
            src_mem: 0,
        } => {
            let n = operand(0)?.bits & 0xffff_ffff;
            let src = operand(1)?.bits & 0xffff_ffff;
            let dst = operand(2)?.bits & 0xffff_ffff;
            beyond(ctx, src.max(dst) + n)
        }
        _ => None,
    }
}

/// A bit for each module offset holding an instruction that can trap, so
/// that the hook decodes and reads operands only there.
pub(crate) fn trap_sites(info: &ModuleInfo) -> Vec<u64> {
    let mut bits = vec![0u64; info.bytes.len().div_ceil(64)];
    for f in info.num_imported_funcs..info.num_funcs() {
        let Ok(mut body) = info.read_body(f, None) else {
            continue;
        };
        while !body.ops.eof() {
            let Ok((op, at)) = body.ops.read_with_offset() else {
                break;
            };
            let Ok(at) = usize::try_from(at) else {
                break;
            };
            if can_trap(&op) {
                if let Some(w) = bits.get_mut(at / 64) {
                    *w |= 1 << (at % 64);
                }
            }
        }
    }
    bits
}

/// The instructions `predict` knows how to check.
fn can_trap(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::Unreachable
            | Operator::CallIndirect { .. }
            | Operator::MemoryFill { .. }
            | Operator::MemoryCopy { .. }
    ) || access(op).is_some()
        || division(op).is_some()
        || truncation(op).is_some()
}

/// Out of bounds when `end` lies past linear memory 0.
fn beyond(ctx: &DebugContext<'_>, end: u64) -> Option<TrapCode> {
    let len = ctx.memory().map(|m| m.len() as u64).unwrap_or(0);
    (end > len).then_some(TrapCode::MemoryOutOfBounds)
}

/// A memory access: its memarg, how many bytes it touches, and whether it
/// is a store (the address is then below the stored value).
fn access(op: &Operator<'_>) -> Option<(MemArg, u64, bool)> {
    use Operator::*;
    Some(match *op {
        I32Load8S { memarg } | I32Load8U { memarg } => (memarg, 1, false),
        I64Load8S { memarg } | I64Load8U { memarg } => (memarg, 1, false),
        I32Load16S { memarg } | I32Load16U { memarg } => (memarg, 2, false),
        I64Load16S { memarg } | I64Load16U { memarg } => (memarg, 2, false),
        I32Load { memarg } | F32Load { memarg } => (memarg, 4, false),
        I64Load32S { memarg } | I64Load32U { memarg } => (memarg, 4, false),
        I64Load { memarg } | F64Load { memarg } => (memarg, 8, false),
        V128Load { memarg } => (memarg, 16, false),
        I32Store8 { memarg } | I64Store8 { memarg } => (memarg, 1, true),
        I32Store16 { memarg } | I64Store16 { memarg } => (memarg, 2, true),
        I32Store { memarg } | F32Store { memarg } | I64Store32 { memarg } => (memarg, 4, true),
        I64Store { memarg } | F64Store { memarg } => (memarg, 8, true),
        V128Store { memarg } => (memarg, 16, true),
        _ => return None,
    })
}

/// Integer division and remainder: (64-bit, signed, remainder).
fn division(op: &Operator<'_>) -> Option<(bool, bool, bool)> {
    use Operator::*;
    Some(match op {
        I32DivS => (false, true, false),
        I32DivU => (false, false, false),
        I32RemS => (false, true, true),
        I32RemU => (false, false, true),
        I64DivS => (true, true, false),
        I64DivU => (true, false, false),
        I64RemS => (true, true, true),
        I64RemU => (true, false, true),
        _ => return None,
    })
}

/// Trapping float-to-integer conversions: (from f64, lowest valid
/// truncated value, first invalid value above the range).
fn truncation(op: &Operator<'_>) -> Option<(bool, f64, f64)> {
    use Operator::*;
    const I32: (f64, f64) = (-2147483648.0, 2147483648.0);
    const U32: (f64, f64) = (0.0, 4294967296.0);
    const I64: (f64, f64) = (-9223372036854775808.0, 9223372036854775808.0);
    const U64: (f64, f64) = (0.0, 18446744073709551616.0);
    let (from64, (lo, hi)) = match op {
        I32TruncF32S => (false, I32),
        I32TruncF32U => (false, U32),
        I32TruncF64S => (true, I32),
        I32TruncF64U => (true, U32),
        I64TruncF32S => (false, I64),
        I64TruncF32U => (false, U64),
        I64TruncF64S => (true, I64),
        I64TruncF64U => (true, U64),
        _ => return None,
    };
    Some((from64, lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_ranges() {
        // -0.9 truncates to -0, which is a valid unsigned value.
        let (_, lo, hi) = truncation(&Operator::I32TruncF64U).unwrap();
        let ok = |x: f64| {
            let t = x.trunc();
            t >= lo && t < hi
        };
        assert!(ok(-0.9));
        assert!(!ok(-1.0));
        assert!(ok(4294967295.9));
        assert!(!ok(4294967296.0));
    }
}
