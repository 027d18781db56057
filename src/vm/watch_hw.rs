//! Hardware watchpoints: the x86 debug registers, through `perf_event_open`
//! (`PERF_TYPE_BREAKPOINT`, one event per aligned piece of 1, 2, 4 or 8
//! bytes, at most [`REGISTERS`] per thread) with `sigtrap`, so the kernel
//! sends the accessing thread a synchronous SIGTRAP (`TRAP_PERF`) carrying
//! the event's `sig_data`.
//!
//! x86 data breakpoints trap *after* the access: the saved pc is the
//! instruction following it. [`accessing_pc`] maps it back to the
//! instruction that made the access, through the code's native → wasm
//! offset table (decoding forward from the start of the wasm instruction's
//! code). Everything called from the signal handler here is lock- and
//! allocation-free.

use crate::code;

/// Debug registers of one thread (DR0–DR3).
pub const REGISTERS: usize = 4;

/// `siginfo_t::si_code` of a perf event's SIGTRAP.
const TRAP_PERF: i32 = 6;
/// Tag in the upper bits of `sig_data`, so a stray TRAP_PERF is told apart.
const TAG: u64 = 0x7764_6277_0000_0000;

const PERF_TYPE_BREAKPOINT: u32 = 5;
const HW_BREAKPOINT_W: u32 = 2;
const HW_BREAKPOINT_RW: u32 = 3;
const PERF_FLAG_FD_CLOEXEC: libc::c_ulong = 8;
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;
const PERF_EVENT_IOC_DISABLE: libc::c_ulong = 0x2401;
// Bits of perf_event_attr's flag word.
const EXCLUDE_KERNEL: u64 = 1 << 5;
const EXCLUDE_HV: u64 = 1 << 6;
const REMOVE_ON_EXEC: u64 = 1 << 36;
const SIGTRAP: u64 = 1 << 37;

/// `struct perf_event_attr` up to `sig_data` (PERF_ATTR_SIZE_VER7, 128 bytes).
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    bp_addr: u64,
    bp_len: u64,
    branch_sample_type: u64,
    sample_regs_user: u64,
    sample_stack_user: u32,
    clockid: i32,
    sample_regs_intr: u64,
    aux_watermark: u32,
    sample_max_stack: u16,
    reserved_2: u16,
    aux_sample_size: u32,
    reserved_3: u32,
    sig_data: u64,
}

const _: () = assert!(std::mem::size_of::<PerfEventAttr>() == 128);

/// The aligned pieces (address, length) covering `start..start+len`, or the
/// number of debug registers they would need when that is more than
/// [`REGISTERS`].
pub fn pieces(start: usize, len: usize) -> Result<([(usize, usize); REGISTERS], usize), usize> {
    let mut out = [(0, 0); REGISTERS];
    let (mut p, end, mut n) = (start, start + len, 0);
    while p < end {
        let size = [8, 4, 2, 1]
            .into_iter()
            .find(|&s| p.is_multiple_of(s) && p + s <= end)
            .unwrap_or(1);
        if n < REGISTERS {
            out[n] = (p, size);
        }
        n += 1;
        p += size;
    }
    if n > REGISTERS {
        Err(n)
    } else {
        Ok((out, n))
    }
}

/// Why the kernel refused a breakpoint event, in words.
fn refusal(errno: i32) -> String {
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    match errno {
        libc::EACCES | libc::EPERM => format!(
            "perf_event_open refused breakpoint events (perf_event_paranoid = {paranoid})"
        ),
        libc::ENOSPC => "the thread's 4 debug registers are in use".into(),
        libc::ENOENT | libc::EOPNOTSUPP | libc::ENODEV => {
            "this kernel or machine has no hardware breakpoints".into()
        }
        libc::ENOSYS => "perf_event_open is not available".into(),
        libc::EINVAL => "perf_event_open rejected the breakpoint event (EINVAL; kernels before 5.13 have no sigtrap)".into(),
        e => format!(
            "perf_event_open failed: {}",
            std::io::Error::from_raw_os_error(e)
        ),
    }
}

/// Opens one breakpoint event on `len` bytes at `addr` for the calling
/// thread: writes only (`rw` false) or reads and writes. Its SIGTRAP carries
/// `id` (see [`sig_data`]).
pub fn open(addr: usize, len: usize, rw: bool, id: u16) -> Result<i32, String> {
    let attr = PerfEventAttr {
        kind: PERF_TYPE_BREAKPOINT,
        size: std::mem::size_of::<PerfEventAttr>() as u32,
        sample_period: 1,
        flags: EXCLUDE_KERNEL | EXCLUDE_HV | REMOVE_ON_EXEC | SIGTRAP,
        bp_type: if rw {
            HW_BREAKPOINT_RW
        } else {
            HW_BREAKPOINT_W
        },
        bp_addr: addr as u64,
        bp_len: len as u64,
        sig_data: TAG | id as u64,
        ..PerfEventAttr::default()
    };
    // SAFETY: perf_event_open reads `attr` (fully initialised, `size` bytes)
    // and returns a new file descriptor or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_perf_event_open,
            &attr as *const PerfEventAttr,
            0 as libc::pid_t,
            -1 as libc::c_int,
            -1 as libc::c_int,
            PERF_FLAG_FD_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(refusal(
            std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
        ));
    }
    Ok(fd as i32)
}

/// Turns the breakpoint of `fd` on or off (the thread that opened it may be
/// running or not).
pub fn set_enabled(fd: i32, on: bool) {
    let req = if on {
        PERF_EVENT_IOC_ENABLE
    } else {
        PERF_EVENT_IOC_DISABLE
    };
    // SAFETY: an ioctl without argument on a perf event descriptor we own.
    unsafe { libc::ioctl(fd, req as _, 0) };
}

/// Releases the breakpoint of `fd` (its debug register is free again).
pub fn close(fd: i32) {
    // SAFETY: `fd` is a perf event descriptor this module opened and owns.
    unsafe { libc::close(fd) };
}

/// The id passed to [`open`], if `info` is the SIGTRAP of one of our events.
///
/// # Safety
/// `info` is the siginfo the kernel passed to a SIGTRAP handler.
pub unsafe fn sig_data(info: *const libc::siginfo_t) -> Option<u16> {
    // SAFETY: the kernel's siginfo is 128 bytes; for TRAP_PERF the union at
    // offset 16 holds si_addr (8 bytes), then si_perf_data (8 bytes).
    let (code, data) = unsafe {
        (
            (*info).si_code,
            *((info as *const u8).add(24) as *const u64),
        )
    };
    (code == TRAP_PERF && data & !0xffff == TAG).then_some(data as u16)
}

/// The instruction that made the access a data breakpoint reported with the
/// saved pc `after` (the next instruction): 0 when `after` is not in wasm
/// code (a runtime builtin such as `memory.fill`'s made the access).
pub fn accessing_pc(after: usize, gregs: &[i64; 23]) -> usize {
    use iced_x86::{Decoder, DecoderOptions};
    if !code::is_wasm_pc(after) {
        return 0;
    }
    // A `rep movs`/`rep stos` not finished yet traps with the pc on itself.
    if let Some(ins) = decode_at(after) {
        if (ins.has_rep_prefix() || ins.has_repne_prefix())
            && ins.is_string_instruction()
            && gregs[libc::REG_RCX as usize] != 0
        {
            return after;
        }
    }
    let Some(start) = code::instruction_start(after - 1) else {
        return after - 1;
    };
    if start >= after || after - start > 4096 {
        return after - 1;
    }
    // SAFETY: `start..after` lies in one function of a registered code
    // object (the wasm instruction holding `after - 1`), mapped while its
    // frame runs.
    let bytes = unsafe { std::slice::from_raw_parts(start as *const u8, after - start) };
    let mut dec = Decoder::with_ip(64, bytes, start as u64, DecoderOptions::NONE);
    while dec.can_decode() {
        let ins = dec.decode();
        if ins.is_invalid() {
            break;
        }
        if ins.next_ip() == after as u64 {
            return ins.ip() as usize;
        }
    }
    after - 1
}

/// The instruction at `pc` (up to 15 bytes, not past its page).
fn decode_at(pc: usize) -> Option<iced_x86::Instruction> {
    use iced_x86::{Decoder, DecoderOptions};
    let avail = (4096 - (pc & 4095)).min(15);
    // SAFETY: `pc` is the saved pc of this thread, inside mapped code.
    let bytes = unsafe { std::slice::from_raw_parts(pc as *const u8, avail) };
    let ins = Decoder::with_ip(64, bytes, pc as u64, DecoderOptions::NONE).decode();
    (!ins.is_invalid()).then_some(ins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_are_aligned_and_cover_the_range() {
        let (p, n) = pieces(0x1000, 4).unwrap();
        assert_eq!(&p[..n], &[(0x1000, 4)]);
        let (p, n) = pieces(0x1001, 3).unwrap();
        assert_eq!(&p[..n], &[(0x1001, 1), (0x1002, 2)]);
        let (p, n) = pieces(0x1008, 32).unwrap();
        assert_eq!(n, 4);
        assert!(p[..n].iter().all(|&(a, l)| l == 8 && a % 8 == 0));
        assert_eq!(pieces(0x1000, 64), Err(8));
        let (p, n) = pieces(0x1003, 8).unwrap();
        assert_eq!(
            &p[..n],
            &[(0x1003, 1), (0x1004, 4), (0x1008, 2), (0x100a, 1)]
        );
        assert_eq!(pieces(0x1001, 16), Err(5));
    }
}
