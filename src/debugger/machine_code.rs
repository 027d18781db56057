//! Native code beside wasm: a function's machine code in one tier, decoded
//! with `iced-x86` and split by wasm instruction through the code's offset map
//! (baseline and debug code record one entry per instruction and per
//! out-of-line path; optimized code maps Cranelift's source locations, see
//! `optimizing::offset_map`).
//!
//! Invariants: the ranges of a [`MachineCode`] tile the function's code in
//! address order (no gaps, no overlaps), each range is decoded on its own
//! (every range starts at an instruction boundary, so embedded data such as a
//! jump table cannot push the decoding of the next one off), and code without
//! a wasm origin of its own is shown under the nearest instruction with
//! `exact == false`.

use super::api::{MachineCode, NativeInsn, NativeRange};
use super::Session;
use crate::code::{self, CodeKind, CodeObject, PublishedFunc, Tier};
use iced_x86::{
    Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter, Mnemonic, OpKind,
    SymbolResolver, SymbolResult,
};

/// Names branch targets inside the function by their offset (`<+36>`), as gdb does.
struct InFunction {
    addr: u64,
    len: u64,
}

impl SymbolResolver for InFunction {
    fn symbol(
        &mut self,
        _instruction: &Instruction,
        _operand: u32,
        _instruction_operand: Option<u32>,
        address: u64,
        _address_size: u32,
    ) -> Option<SymbolResult<'_>> {
        let off = address.checked_sub(self.addr)?;
        (off < self.len).then(|| SymbolResult::with_string(address, format!("<+{off}>")))
    }
}

fn formatter(addr: u64, len: u64) -> IntelFormatter {
    let mut f = IntelFormatter::with_options(Some(Box::new(InFunction { addr, len })), None);
    let o = f.options_mut();
    o.set_hex_prefix("0x");
    o.set_hex_suffix("");
    o.set_uppercase_hex(false);
    o.set_space_after_operand_separator(true);
    o.set_show_branch_size(false);
    o.set_branch_leading_zeros(false);
    o.set_rip_relative_addresses(true);
    f
}

/// Decodes `bytes`, which start at absolute address `ip`. Bytes that decode
/// to no instruction become one `(bad)` line each; a jump table right after
/// its `jmp` (Cranelift's br_table) is shown as `.long` entries.
pub fn decode(bytes: &[u8], ip: u64, fmt: &mut IntelFormatter) -> Vec<NativeInsn> {
    let mut out = Vec::new();
    let mut decoder = Decoder::with_ip(64, bytes, ip, DecoderOptions::NONE);
    let mut insn = Instruction::default();
    let mut text = String::new();
    // Where the last `lea r, [rip + disp]` pointed (a jump table's start).
    let mut table_at: Option<u64> = None;
    while decoder.can_decode() {
        let at = decoder.position();
        decoder.decode_out(&mut insn);
        if insn.is_invalid() {
            out.push(NativeInsn {
                addr: ip + at as u64,
                bytes: vec![bytes[at]],
                text: "(bad)".into(),
            });
            let _ = decoder.set_position(at + 1);
            decoder.set_ip(ip + at as u64 + 1);
            continue;
        }
        text.clear();
        fmt.format(&insn, &mut text);
        out.push(NativeInsn {
            addr: insn.ip(),
            bytes: bytes[at..at + insn.len()].to_vec(),
            text: text.clone(),
        });
        if insn.mnemonic() == Mnemonic::Lea && insn.is_ip_rel_memory_operand() {
            table_at = Some(insn.ip_rel_memory_address());
        } else if insn.mnemonic() == Mnemonic::Jmp
            && insn.op0_kind() == OpKind::Register
            && table_at == Some(insn.next_ip())
        {
            // Cranelift's br_table: `lea r, [rip+T]; movsxd; add; jmp r`
            // with the table of 32-bit offsets at T, right after the jump,
            // up to the end of this instruction's code.
            let from = at + insn.len();
            for (k, entry) in bytes[from..].chunks(4).enumerate() {
                let text = match <[u8; 4]>::try_from(entry) {
                    Ok(e) => format!(".long {:#x}  ; jump table", i32::from_le_bytes(e)),
                    Err(_) => ".byte (jump table padding)".to_string(),
                };
                out.push(NativeInsn {
                    addr: insn.next_ip() + 4 * k as u64,
                    bytes: entry.to_vec(),
                    text,
                });
            }
            break;
        }
    }
    out
}

/// The machine code of `f` (in `obj`, compiled by `tier`), split by wasm
/// instruction. `instructions`: module offsets of the function's wasm
/// instructions, ascending.
pub fn machine_code(
    obj: &CodeObject,
    f: &PublishedFunc,
    tier: Tier,
    instructions: &[u32],
) -> MachineCode {
    let bytes = obj.func_bytes(f);
    let addr = (obj.start() + f.start) as u64;
    let len = bytes.len() as u32;
    let is_insn = |w: u32| instructions.binary_search(&w).is_ok();
    let first = instructions.first().copied().unwrap_or(0);
    let map = &f.offset_map;
    // (start, wasm offset, exact)
    let mut cuts: Vec<(u32, u32, bool)> = Vec::with_capacity(map.len() + 1);
    // The prologue comes before the first entry.
    let head = map.first().map_or(len, |e| e.0.min(len));
    if head > 0 || map.is_empty() {
        let w = map
            .first()
            .map(|e| e.1)
            .filter(|&w| is_insn(w))
            .unwrap_or(first);
        cuts.push((0, w, false));
    }
    for (i, &(start, w)) in map.iter().enumerate() {
        if start > len {
            continue;
        }
        // Optimized code repeats an entry's offset where code without an
        // origin of its own starts (see `optimizing::offset_map`).
        let gap = tier == Tier::Optimized && i > 0 && map[i - 1].1 == w;
        let nearest = cuts.last().map_or(first, |c| c.1);
        let (w, exact) = if is_insn(w) {
            (w, !gap)
        } else {
            (nearest, false)
        };
        cuts.push((start, w, exact));
    }
    let mut fmt = formatter(addr, u64::from(len));
    let ranges = cuts
        .iter()
        .enumerate()
        .map(|(i, &(start, wasm_offset, exact))| {
            let end = cuts.get(i + 1).map_or(len, |c| c.0).max(start);
            let insns = decode(
                &bytes[start as usize..end as usize],
                addr + u64::from(start),
                &mut fmt,
            );
            NativeRange {
                wasm_offset,
                exact,
                start,
                end,
                insns,
            }
        })
        .collect();
    MachineCode {
        func_index: f.func_index,
        tier,
        addr,
        len,
        ranges,
    }
}

impl Session {
    /// The machine code of function `func` in `tier`, by wasm instruction.
    /// With `compile`, code of a tier the function has not been compiled to
    /// yet is compiled now (the running program keeps the code it has).
    pub fn machine_code(
        &self,
        func: u32,
        tier: Tier,
        compile: bool,
    ) -> Result<MachineCode, String> {
        let module = self.module();
        let info = module.info();
        if func >= info.num_funcs() {
            return Err(format!(
                "no function #{func} (the module has {})",
                info.num_funcs()
            ));
        }
        if func < info.num_imported_funcs {
            return Err(format!(
                "{} (#{func}) is imported: it has no machine code",
                self.func_name(func)
            ));
        }
        let ptr = match module.code_ptr(func, tier) {
            Some(p) => p,
            None if compile => {
                module.inner.ensure_tier(&[func], tier, 1).map_err(|e| {
                    format!(
                        "cannot compile {} ({}): {e}",
                        self.func_name(func),
                        tier.name()
                    )
                })?;
                module.code_ptr(func, tier).ok_or_else(|| {
                    format!(
                        "no {} code for {} after compiling it",
                        tier.name(),
                        self.func_name(func)
                    )
                })?
            }
            None => {
                return Err(format!(
                    "{} has no {} code yet (add tier={} to compile it)",
                    self.func_name(func),
                    tier.name(),
                    tier_word(tier)
                ))
            }
        };
        self.machine_code_at(ptr as u64)
            .ok_or_else(|| format!("the code of {} is not mapped", self.func_name(func)))
    }

    /// The machine code of this module's function whose code holds `pc`.
    pub fn machine_code_at(&self, pc: u64) -> Option<MachineCode> {
        let pc = usize::try_from(pc).ok()?;
        let obj = code::object_at(pc)?;
        let CodeKind::Wasm(tier) = obj.kind else {
            return None;
        };
        if obj.module_id != self.module().info().id {
            return None;
        }
        let f = obj.func_at(pc)?;
        // A mixed module's first code object holds functions of both tiers.
        let tier = if std::sync::Arc::ptr_eq(&obj, self.module().code()) {
            self.module().func_tier(f.func_index)
        } else {
            tier
        };
        let mut offsets = self.instruction_offsets(f.func_index);
        offsets.sort_unstable();
        Some(machine_code(&obj, f, tier, &offsets))
    }
}

/// How a tier is spelled on the command line (`tier=optimized`).
pub fn tier_word(t: Tier) -> &'static str {
    match t {
        Tier::Baseline => "baseline",
        Tier::Debug => "debug",
        Tier::Optimized => "optimized",
    }
}

/// Parses `debug`, `baseline` or `optimized`.
pub fn parse_tier(s: &str) -> Option<Tier> {
    match s {
        "debug" | "baseline·debug" => Some(Tier::Debug),
        "baseline" => Some(Tier::Baseline),
        "optimized" | "opt" => Some(Tier::Optimized),
        _ => None,
    }
}
