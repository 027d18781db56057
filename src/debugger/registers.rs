//! How the console shows the paused code's machine registers: `regs` /
//! `info registers` (the 16 general-purpose registers and pc, then xmm0–15
//! with all 128 bits in hex and as lanes in the current shape) and `info
//! registers NAME` (one register; an xmm register in every lane shape).

use super::api::{Registers, GPR_NAMES, XMM_NAMES};
use super::v128::{format_v128, lane_text, lanes, Lanes};

/// Every register: a 4×4 grid of GPRs, pc, then one line per xmm register.
pub fn all_lines(r: &Registers) -> Vec<String> {
    let mut out = Vec::new();
    for row in 0..4 {
        let cells: Vec<String> = (0..4)
            .map(|c| {
                let i = row * 4 + c;
                format!("{:<4}{:#018x}", GPR_NAMES[i], r.gpr[i])
            })
            .collect();
        out.push(cells.join("  "));
    }
    out.push(format!("{:<4}{:#018x}", "pc", r.pc));
    for (name, v) in XMM_NAMES.iter().zip(r.xmm) {
        out.push(format!("{name:<6}{}", format_v128(v, lanes())));
    }
    out
}

/// One register by name (`rax`, `pc`/`rip`, `xmm3`; a leading `$` is
/// allowed, as in gdb): a GPR in hex and decimal, an xmm register in hex and
/// then in each lane shape, one line each.
pub fn one(r: &Registers, name: &str) -> Result<Vec<String>, String> {
    let n = name.trim().trim_start_matches('$').to_ascii_lowercase();
    if n == "pc" || n == "rip" {
        return Ok(vec![format!("{n:<6}{:#018x}", r.pc)]);
    }
    if let Some(i) = GPR_NAMES.iter().position(|g| *g == n) {
        let v = r.gpr[i];
        return Ok(vec![format!("{n:<6}{v:#018x}  {}", v as i64)]);
    }
    if let Some(i) = XMM_NAMES.iter().position(|x| *x == n) {
        let v = r.xmm[i];
        let mut out = vec![format!("{n:<6}{v:#034x}")];
        for l in Lanes::ALL {
            let count = 128 / l.bits() as usize;
            let lanes: Vec<String> = (0..count).map(|k| lane_text(v, l, k)).collect();
            out.push(format!("  {} [{}]", l.name(), lanes.join(" ")));
        }
        return Ok(out);
    }
    Err(format!("no register `{name}` (rax..r15, pc, xmm0..xmm15)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regs() -> Registers {
        let mut xmm = [0u128; 16];
        xmm[3] = 0x4000_0000_3f80_0000_ffff_fffe_0000_0001;
        Registers {
            gpr: [7; 16],
            xmm,
            pc: 0x1234,
        }
    }

    #[test]
    fn an_xmm_register_shows_all_128_bits_in_every_shape() {
        let lines = one(&regs(), "$xmm3").unwrap();
        assert_eq!(lines[0], "xmm3  0x400000003f800000fffffffe00000001");
        assert_eq!(lines[3], "  i32x4 [1 -2 1065353216 1073741824]");
        assert_eq!(lines[5], "  f32x4 [1e-45 NaN 1.0 2.0]");
        assert_eq!(lines.len(), 7);
        assert_eq!(
            one(&regs(), "rax").unwrap(),
            ["rax   0x0000000000000007  7"]
        );
        assert!(one(&regs(), "xmm16")
            .unwrap_err()
            .contains("no register `xmm16`"));
    }

    #[test]
    fn the_register_list_ends_with_the_full_xmm_registers() {
        let lines = all_lines(&regs());
        assert_eq!(lines.len(), 4 + 1 + 16);
        assert!(
            lines[4 + 1 + 3].starts_with("xmm3  0x400000003f800000fffffffe00000001 "),
            "{lines:?}"
        );
        assert_eq!(lines[4], "pc  0x0000000000001234");
    }
}
