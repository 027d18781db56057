//! Arguments, environment, clocks, randomness, `poll_oneoff`, process and
//! socket functions.

use super::abi::*;
use super::errno::{self, Errno};
use super::fs::Kind;
use super::mem::GuestMem;
use super::stdio::Readiness;
use super::{Args, WasiCtx};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{Read, Seek};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Writes a list of NUL-terminated strings the way `args_get` and
/// `environ_get` do: pointers at `ptrs`, the bytes at `buf`.
fn write_strings(
    mem: &mut GuestMem<'_>,
    list: &[Vec<u8>],
    ptrs: u32,
    buf: u32,
) -> Result<(), Errno> {
    let total: u64 = list.iter().map(|s| s.len() as u64 + 1).sum();
    mem.check(ptrs, list.len() as u64 * 4)?;
    mem.check(buf, total)?;
    // Both ranges are inside memory, so the offsets below fit in u32.
    let mut at = buf;
    for (i, s) in list.iter().enumerate() {
        mem.write_u32(ptrs.wrapping_add(i as u32 * 4), at)?;
        mem.write_bytes(at, s)?;
        mem.write_u8(at.wrapping_add(s.len() as u32), 0)?;
        at = at.wrapping_add(s.len() as u32 + 1);
    }
    Ok(())
}

fn write_sizes(
    mem: &mut GuestMem<'_>,
    list: &[Vec<u8>],
    count_ptr: u32,
    size_ptr: u32,
) -> Result<(), Errno> {
    let total: u64 = list.iter().map(|s| s.len() as u64 + 1).sum();
    let total = u32::try_from(total).map_err(|_| errno::OVERFLOW)?;
    mem.check(count_ptr, 4)?;
    mem.check(size_ptr, 4)?;
    mem.write_u32(count_ptr, list.len() as u32)?;
    mem.write_u32(size_ptr, total)
}

pub fn args_get(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    write_strings(mem, &ctx.args, a.u32(0), a.u32(1))
}

pub fn args_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    write_sizes(mem, &ctx.args, a.u32(0), a.u32(1))
}

pub fn environ_get(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    write_strings(mem, &ctx.env, a.u32(0), a.u32(1))
}

pub fn environ_sizes_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    write_sizes(mem, &ctx.env, a.u32(0), a.u32(1))
}

fn duration_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Now on clock `id`, in nanoseconds. The monotonic clock counts from the
/// context's creation; the CPU-time clocks are approximated by it too (safe
/// Rust cannot read the process's CPU time).
fn now_ns(ctx: &WasiCtx, id: u32) -> Result<u64, Errno> {
    match id {
        CLOCK_REALTIME => Ok(SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(duration_ns)
            .unwrap_or(0)),
        CLOCK_MONOTONIC | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME => {
            Ok(duration_ns(ctx.start.elapsed()))
        }
        _ => Err(errno::INVAL),
    }
}

pub fn clock_res_get(
    _ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let res = match a.u32(0) {
        CLOCK_REALTIME | CLOCK_MONOTONIC | CLOCK_PROCESS_CPUTIME | CLOCK_THREAD_CPUTIME => 1u64,
        _ => return Err(errno::INVAL),
    };
    mem.write_u64(a.u32(1), res)
}

pub fn clock_time_get(
    ctx: &mut WasiCtx,
    mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    let t = now_ns(ctx, a.u32(0))?;
    mem.write_u64(a.u32(2), t)
}

pub fn random_get(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let buf = mem.slice_mut(a.u32(0), a.u32(1))?;
    if ctx.urandom.is_none() {
        ctx.urandom = std::fs::File::open("/dev/urandom").ok();
    }
    if let Some(f) = &mut ctx.urandom {
        if f.read_exact(buf).is_ok() {
            return Ok(());
        }
    }
    // Fallback: SipHash with the standard library's random keys over a counter.
    let state = RandomState::new();
    for chunk in buf.chunks_mut(8) {
        ctx.rand_counter = ctx.rand_counter.wrapping_add(1);
        let mut h = state.build_hasher();
        h.write_u64(ctx.rand_counter);
        h.write_u128(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
        );
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
    Ok(())
}

pub fn sched_yield(
    _ctx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    _a: &Args<'_>,
) -> Result<(), Errno> {
    std::thread::yield_now();
    Ok(())
}

/// Signals are not supported.
pub fn proc_raise(_ctx: &mut WasiCtx, _mem: &mut GuestMem<'_>, _a: &Args<'_>) -> Result<(), Errno> {
    Err(errno::NOSYS)
}

/// Sockets are not supported: EBADF for a descriptor that is not open,
/// ENOTSUP for any other (no descriptor is ever a socket).
fn no_sockets(ctx: &mut WasiCtx, fd: u32) -> Result<(), Errno> {
    ctx.fds.get(fd)?;
    Err(errno::NOTSUP)
}

pub fn sock_accept(ctx: &mut WasiCtx, _mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    no_sockets(ctx, a.u32(0))
}

pub fn sock_recv(ctx: &mut WasiCtx, _mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    no_sockets(ctx, a.u32(0))
}

pub fn sock_send(ctx: &mut WasiCtx, _mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    no_sockets(ctx, a.u32(0))
}

pub fn sock_shutdown(
    ctx: &mut WasiCtx,
    _mem: &mut GuestMem<'_>,
    a: &Args<'_>,
) -> Result<(), Errno> {
    no_sockets(ctx, a.u32(0))
}

/// One decoded subscription of `poll_oneoff`.
enum Sub {
    /// Fires at `deadline` (None: never, the timeout is beyond any `Instant`).
    Clock {
        deadline: Option<Instant>,
    },
    /// A clock subscription that could not be accepted (its event carries the error).
    BadClock(Errno),
    Read(u32),
    Write(u32),
}

/// Deadline of a clock subscription.
fn clock_deadline(
    ctx: &WasiCtx,
    id: u32,
    timeout: u64,
    flags: u16,
) -> Result<Option<Instant>, Errno> {
    let now = Instant::now();
    if flags & SUBCLOCK_ABSTIME == 0 {
        now_ns(ctx, id)?;
        return Ok(now.checked_add(Duration::from_nanos(timeout)));
    }
    match id {
        CLOCK_REALTIME => {
            let wall = now_ns(ctx, id)?;
            Ok(now.checked_add(Duration::from_nanos(timeout.saturating_sub(wall))))
        }
        _ => {
            now_ns(ctx, id)?;
            Ok(ctx.start.checked_add(Duration::from_nanos(timeout)))
        }
    }
}

/// Whether `fd` is readable (`write`: writable) now: `Ok(Some((nbytes, hangup)))`
/// when ready, `Ok(None)` when not yet, `Err` for the event's error.
fn fd_readiness(ctx: &mut WasiCtx, fd: u32, write: bool) -> Result<Option<(u64, bool)>, Errno> {
    let ent = ctx.fds.get(fd)?;
    ent.need(RIGHT_POLL_FD_READWRITE)?;
    match &mut ent.kind {
        Kind::Dir(_) => Err(errno::BADF),
        Kind::Stdin if !write => match ctx.stdin.readiness() {
            Readiness::Ready { nbytes, hangup } => Ok(Some((nbytes, hangup))),
            Readiness::NotReady => Ok(None),
        },
        Kind::File(f) if !write => {
            let size = f.metadata().map_err(|e| errno::from_io(&e))?.len();
            let pos = f.stream_position().map_err(|e| errno::from_io(&e))?;
            Ok(Some((size.saturating_sub(pos), false)))
        }
        _ => Ok(Some((0, false))),
    }
}

/// `poll_oneoff(in, out, nsubscriptions, nevents)`: clock subscriptions
/// (relative and absolute, every clock) and fd_read / fd_write on any
/// descriptor. Files and output streams are always ready; stdin is ready
/// when input (or its end) is available.
pub fn poll_oneoff(ctx: &mut WasiCtx, mem: &mut GuestMem<'_>, a: &Args<'_>) -> Result<(), Errno> {
    let (in_ptr, out_ptr, n, nevents_ptr) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3));
    if n == 0 {
        return Err(errno::INVAL);
    }
    mem.check(in_ptr, n as u64 * SUBSCRIPTION_SIZE as u64)?;
    mem.check(out_ptr, n as u64 * EVENT_SIZE as u64)?;
    mem.check(nevents_ptr, 4)?;
    let mut subs = Vec::with_capacity(n as usize);
    for i in 0..n {
        // Inside memory (checked above), so no overflow.
        let s = in_ptr.wrapping_add(i * SUBSCRIPTION_SIZE);
        let userdata = mem.read_u64(s)?;
        let sub = match mem.read_u8(s.wrapping_add(8))? {
            EVENTTYPE_CLOCK => {
                let id = mem.read_u32(s.wrapping_add(16))?;
                let timeout = mem.read_u64(s.wrapping_add(24))?;
                let flags = mem.read_u16(s.wrapping_add(40))?;
                match clock_deadline(ctx, id, timeout, flags) {
                    Ok(deadline) => Sub::Clock { deadline },
                    Err(e) => Sub::BadClock(e),
                }
            }
            EVENTTYPE_FD_READ => Sub::Read(mem.read_u32(s.wrapping_add(16))?),
            EVENTTYPE_FD_WRITE => Sub::Write(mem.read_u32(s.wrapping_add(16))?),
            _ => return Err(errno::INVAL),
        };
        subs.push((userdata, sub));
    }
    loop {
        let now = Instant::now();
        // (userdata, error, type, nbytes, flags)
        let mut events: Vec<(u64, Errno, u8, u64, u16)> = Vec::new();
        let mut earliest: Option<Instant> = None;
        let mut waits_on_stdin = false;
        for (userdata, sub) in &subs {
            match sub {
                Sub::Clock { deadline: Some(d) } if *d <= now => {
                    events.push((*userdata, 0, EVENTTYPE_CLOCK, 0, 0))
                }
                Sub::Clock { deadline: Some(d) } => {
                    earliest = Some(earliest.map_or(*d, |e| e.min(*d)))
                }
                Sub::Clock { deadline: None } => {}
                Sub::BadClock(e) => events.push((*userdata, *e, EVENTTYPE_CLOCK, 0, 0)),
                Sub::Read(fd) | Sub::Write(fd) => {
                    let write = matches!(sub, Sub::Write(_));
                    let ty = if write {
                        EVENTTYPE_FD_WRITE
                    } else {
                        EVENTTYPE_FD_READ
                    };
                    match fd_readiness(ctx, *fd, write) {
                        Ok(Some((nbytes, hangup))) => events.push((
                            *userdata,
                            0,
                            ty,
                            nbytes,
                            if hangup { EVENTRW_HANGUP } else { 0 },
                        )),
                        Ok(None) => waits_on_stdin = true,
                        Err(e) => events.push((*userdata, e, ty, 0, 0)),
                    }
                }
            }
        }
        if !events.is_empty() {
            for (i, (userdata, err, ty, nbytes, flags)) in events.iter().enumerate() {
                let e = out_ptr.wrapping_add(i as u32 * EVENT_SIZE);
                let mut b = [0u8; EVENT_SIZE as usize];
                b[0..8].copy_from_slice(&userdata.to_le_bytes());
                b[8..10].copy_from_slice(&err.to_le_bytes());
                b[10] = *ty;
                b[16..24].copy_from_slice(&nbytes.to_le_bytes());
                b[24..26].copy_from_slice(&flags.to_le_bytes());
                mem.write_bytes(e, &b)?;
            }
            return mem.write_u32(nevents_ptr, events.len() as u32);
        }
        if waits_on_stdin {
            ctx.stdin.wait(earliest);
        } else {
            // Only clocks remain; a deadline beyond any Instant sleeps in long steps.
            let step = earliest.map_or(Duration::from_secs(3600), |d| {
                d.saturating_duration_since(now)
            });
            std::thread::sleep(step);
        }
    }
}
