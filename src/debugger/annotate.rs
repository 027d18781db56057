//! The console's text for machine code and the per-instruction profile:
//! `disas /m` (wasm instruction, then its native instructions), `profile
//! report --lines` (hottest wasm instructions and source lines) and `profile
//! annotate FUNC` (a function's instructions with their share of the samples
//! and the native code under each, as `perf annotate` shows it).
//!
//! Only formatting lives here; the data comes from [`MachineCode`] and
//! [`ProfileDetail`](super::ProfileDetail).

use super::api::{InstructionSamples, MachineCode, NativeRange, ProfileReport};
use super::session::short_file;
use super::Session;
use crate::code::Tier;
use std::collections::HashMap;

/// Rows in the "hottest" lists.
const HOTTEST: usize = 20;
/// Wasm instructions shown before and after the current one by `disas /m`.
const BEFORE: usize = 6;
const AFTER: usize = 12;

/// Marks native code with no wasm origin of its own.
const NO_ORIGIN: char = '~';
const LEGEND: &str = "~ = no wasm origin of its own, shown under the nearest instruction";

/// wasmprinter's text of each instruction of `func`, by module offset.
fn wasm_text(session: &Session, func: u32) -> HashMap<u32, String> {
    session
        .disassemble(func)
        .into_iter()
        .filter_map(|l| l.offset.map(|o| (o, l.text.trim().to_string())))
        .collect()
}

/// One native instruction: mark, address, offset in the function, bytes, text.
pub fn native_line(
    code: &MachineCode,
    r: &NativeRange,
    i: &super::api::NativeInsn,
    current: bool,
    raw: bool,
) -> String {
    let mark = if current { "=>" } else { "  " };
    let origin = if r.exact { ' ' } else { NO_ORIGIN };
    let off = format!("<+{}>:", i.addr - code.addr);
    let bytes = if raw {
        let hex: Vec<String> = i.bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{:<30} ", hex.join(" "))
    } else {
        String::new()
    };
    format!(
        "{mark}{origin}     {:#014x} {off:<9} {bytes}{}",
        i.addr, i.text
    )
}

/// `disas /m`: each wasm instruction, then its native instructions. With
/// `at` (the frame's wasm offset) only a window around it is shown; `pc` is
/// the native instruction marked `=>` (else the first of `at`'s code).
pub fn machine_text(
    session: &Session,
    code: &MachineCode,
    at: Option<u32>,
    pc: Option<u64>,
    raw: bool,
) -> Vec<String> {
    let wasm = wasm_text(session, code.func_index);
    let bps: Vec<u32> = session
        .breakpoints()
        .iter()
        .filter(|b| b.enabled)
        .map(|b| b.offset)
        .collect();
    let cur = pc.or_else(|| {
        let a = at?;
        code.ranges
            .iter()
            .find(|r| r.exact && r.wasm_offset == a && !r.insns.is_empty())
            .map(|r| r.insns[0].addr)
    });
    // The window starts from the wasm instruction's first code in address
    // order (its inline code); the pc may lie elsewhere (a debug stub, an
    // out-of-line path), and its range is then added after the window.
    let (lo, hi) = match at {
        None => (0, code.ranges.len()),
        Some(a) => {
            let k = code
                .ranges
                .iter()
                .position(|r| r.exact && r.wasm_offset == a)
                .or_else(|| {
                    let c = cur?;
                    code.ranges
                        .iter()
                        .position(|r| r.insns.iter().any(|i| i.addr == c))
                })
                .unwrap_or(0);
            (k.saturating_sub(BEFORE), (k + AFTER).min(code.ranges.len()))
        }
    };
    let mut shown: Vec<&NativeRange> = code.ranges[lo..hi].iter().collect();
    let extra = cur.and_then(|c| {
        let r = code
            .ranges
            .iter()
            .find(|r| r.insns.iter().any(|i| i.addr == c))?;
        (!shown.iter().any(|s| std::ptr::eq(*s, r))).then_some(r)
    });
    let mut out = vec![format!(
        "{} (#{}): {} code at {:#x}, {} bytes{}",
        session.func_name(code.func_index),
        code.func_index,
        code.tier.name(),
        code.addr,
        code.len,
        if shown.iter().chain(extra.iter()).any(|r| !r.exact) {
            format!("; {LEGEND}")
        } else {
            String::new()
        }
    )];
    if let Some(r) = extra {
        shown.push(r);
    }
    let mut last: Option<(u32, bool)> = None;
    for (n, r) in shown.iter().enumerate() {
        if extra.is_some() && n + 1 == shown.len() {
            out.push("   …".into());
            last = None;
        }
        if last != Some((r.wasm_offset, r.exact)) {
            let mark = if at == Some(r.wasm_offset) && r.exact {
                "=>"
            } else if bps.contains(&r.wasm_offset) {
                " *"
            } else {
                "  "
            };
            let text = wasm.get(&r.wasm_offset).map_or("?", String::as_str);
            let tail = if r.exact { "" } else { "   ~" };
            out.push(format!("{mark} {:#08x}  {text}{tail}", r.wasm_offset));
            last = Some((r.wasm_offset, r.exact));
        }
        for i in &r.insns {
            out.push(native_line(code, r, i, Some(i.addr) == cur, raw));
        }
    }
    out
}

fn pct(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 * 100.0 / total as f64
    }
}

/// `file:line` and the line's text, if DWARF knows the offset.
fn source_of(session: &Session, offset: u32) -> Option<(String, u32, String)> {
    let p = session.source_pos(offset)?;
    let text = session
        .source_text(&p.file)
        .and_then(|t| {
            t.get((p.line as usize).saturating_sub(1))
                .map(|l| l.trim().to_string())
        })
        .unwrap_or_default();
    Some((p.file, p.line, text))
}

/// (file, line), samples, the line's text.
type LineRow = ((String, u32), u64, String);

/// Sums samples by source line, hottest first.
fn by_line(session: &Session, by_offset: &[(u32, u64)]) -> Vec<LineRow> {
    let mut lines: HashMap<(String, u32), (u64, String)> = HashMap::new();
    for &(off, n) in by_offset {
        if let Some((file, line, text)) = source_of(session, off) {
            let e = lines.entry((file, line)).or_insert((0, text));
            e.0 += n;
        }
    }
    let mut v: Vec<_> = lines.into_iter().map(|(k, (n, t))| (k, n, t)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v
}

fn line_rows(lines: &[LineRow], total: u64) -> Vec<String> {
    lines
        .iter()
        .take(HOTTEST)
        .map(|((file, line), n, text)| {
            format!(
                "{:>6.1}% {n:>8}  {}:{line:<6} {text}",
                pct(*n, total),
                short_file(file)
            )
        })
        .collect()
}

/// `profile report --lines`: the hottest wasm instructions of the whole
/// program and, with DWARF, the hottest source lines.
pub fn hot_lines(session: &Session, r: &ProfileReport) -> Vec<String> {
    let own = session.module().info().id;
    let total = r.samples;
    let mut out = vec![format!(
        "Profile: {} samples over {:.2} s, by wasm instruction",
        r.samples,
        r.duration.as_secs_f64()
    )];
    let mut by_insn: HashMap<(u64, u32, u32), u64> = HashMap::new();
    for i in &r.detail.instructions {
        *by_insn
            .entry((i.module_id, i.func_index, i.wasm_offset))
            .or_default() += i.samples;
    }
    if by_insn.is_empty() {
        out.push("no samples in wasm code (is profile mode on?)".into());
        return out;
    }
    let mut rows: Vec<_> = by_insn.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out.push(format!(
        "{:>7} {:>8}  {:<20} {:<8}  instruction",
        "self%", "samples", "function", "offset"
    ));
    let mut texts: HashMap<u32, HashMap<u32, String>> = HashMap::new();
    for &((module, func, off), n) in rows.iter().take(HOTTEST) {
        let (name, text) = if module == own {
            let t = texts
                .entry(func)
                .or_insert_with(|| wasm_text(session, func))
                .get(&off)
                .cloned()
                .unwrap_or_default();
            (session.func_name(func), t)
        } else {
            (format!("wasm[{module}]::func[{func}]"), String::new())
        };
        let src = if module == own {
            source_of(session, off)
                .map(|(f, l, _)| format!("  {}:{l}", short_file(&f)))
                .unwrap_or_default()
        } else {
            String::new()
        };
        out.push(format!(
            "{:>6.1}% {n:>8}  {name:<20} {off:#08x}  {text}{src}",
            pct(n, total)
        ));
    }
    let own_offsets: Vec<(u32, u64)> = rows
        .iter()
        .filter(|((m, _, _), _)| *m == own)
        .map(|((_, _, off), n)| (*off, *n))
        .collect();
    let lines = by_line(session, &own_offsets);
    if !lines.is_empty() {
        out.push("Hottest source lines:".into());
        out.extend(line_rows(&lines, total));
    }
    out
}

/// `profile annotate FUNC`: where in `func` the samples landed — source
/// lines, wasm instructions, and the native code of the tier sampled most,
/// in percent of the function's own samples.
pub fn annotate(session: &Session, r: &ProfileReport, func: u32) -> Vec<String> {
    let own = session.module().info().id;
    let name = session.func_name(func);
    let ins: Vec<&InstructionSamples> = r
        .detail
        .instructions
        .iter()
        .filter(|i| i.module_id == own && i.func_index == func)
        .collect();
    let fsamples: u64 = ins.iter().map(|i| i.samples).sum();
    if fsamples == 0 {
        return vec![format!(
            "no samples in {name} (#{func}) out of {} (see `profile report`)",
            r.samples
        )];
    }
    let mut per_tier: HashMap<Tier, u64> = HashMap::new();
    for i in &ins {
        *per_tier.entry(i.tier).or_default() += i.samples;
    }
    let mut tiers: Vec<(Tier, u64)> = per_tier.into_iter().collect();
    tiers.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.name().cmp(b.0.name())));
    let hot_tier = tiers[0].0;
    let codes: HashMap<Tier, MachineCode> = tiers
        .iter()
        .filter_map(|&(t, _)| session.machine_code(func, t, false).ok().map(|c| (t, c)))
        .collect();
    // Samples by wasm instruction: the range holding the pc (so code with no
    // origin of its own counts where it is shown), and by native pc.
    let mut per_wasm: HashMap<u32, u64> = HashMap::new();
    let mut per_pc: HashMap<u64, u64> = HashMap::new();
    for i in &ins {
        let off = codes
            .get(&i.tier)
            .and_then(|c| c.range_at(i.pc))
            .map_or(i.wasm_offset, |r| r.wasm_offset);
        *per_wasm.entry(off).or_default() += i.samples;
        *per_pc.entry(i.pc).or_default() += i.samples;
    }
    let tier_list: Vec<String> = tiers
        .iter()
        .map(|(t, n)| format!("{} {:.1}%", t.name(), pct(*n, fsamples)))
        .collect();
    let mut out = vec![format!(
        "{name} (#{func}): {fsamples} samples, {:.1}% of {}; {}; percentages below are of the function's samples",
        pct(fsamples, r.samples),
        r.samples,
        tier_list.join(", ")
    )];
    let mut offsets: Vec<(u32, u64)> = per_wasm.iter().map(|(&o, &n)| (o, n)).collect();
    offsets.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let lines = by_line(session, &offsets);
    if !lines.is_empty() {
        out.push("Hottest source lines:".into());
        out.extend(line_rows(&lines, fsamples));
    }
    let wasm = wasm_text(session, func);
    out.push("Hottest wasm instructions:".into());
    for &(off, n) in offsets.iter().take(HOTTEST) {
        let src = source_of(session, off)
            .map(|(f, l, _)| format!("  {}:{l}", short_file(&f)))
            .unwrap_or_default();
        out.push(format!(
            "{:>6.1}% {n:>8}  {off:#08x}  {}{src}",
            pct(n, fsamples),
            wasm.get(&off).map_or("?", String::as_str)
        ));
    }
    let code = codes.get(&hot_tier);
    out.push(match code {
        Some(c) => format!(
            "Annotated ({} code at {:#x}, {} bytes; {LEGEND}):",
            c.tier.name(),
            c.addr,
            c.len
        ),
        None => format!("Annotated (the {} code is gone):", hot_tier.name()),
    });
    let cell = |n: u64| {
        if n == 0 {
            String::new()
        } else {
            format!("{:.1}%", pct(n, fsamples))
        }
    };
    for l in session.disassemble(func) {
        let Some(off) = l.offset else {
            out.push(format!("{:>7}  {:8}  {}", "", "", l.text.trim()));
            continue;
        };
        let n = per_wasm.get(&off).copied().unwrap_or(0);
        out.push(format!("{:>7}  {off:#08x}  {}", cell(n), l.text.trim()));
        let Some(c) = code.filter(|_| n > 0) else {
            continue;
        };
        for r in c.ranges.iter().filter(|r| r.wasm_offset == off) {
            for i in &r.insns {
                let k = per_pc.get(&i.addr).copied().unwrap_or(0);
                out.push(format!(
                    "{:>7}{}",
                    cell(k),
                    native_line(c, r, i, false, false)
                ));
            }
        }
    }
    out
}
