//! Sampling profiler and perf map.
//!
//! [`Sampler`] samples one thread's native call stack on a timer of that
//! thread's CPU clock (SIGPROF, frame-pointer walk in the handler, lock-free
//! ring); [`report`] symbolizes the samples against the code registry into a
//! flat profile, a call tree and a timeline by wasm function.
//! [`detail`] attributes samples to native and wasm instructions and keeps
//! the distinct stacks, which [`export`] writes for flame-graph viewers.
//! [`perf_map`] writes `/tmp/perf-PID.map` so Linux `perf` can name JIT code.

mod detail;
pub mod export;
pub mod perf_map;
mod report;
mod sampler;

pub use detail::{InstructionSamples, ProfileDetail, StackFrame, StackSamples};
pub use report::{report, ProfileReport, ProfileRow, HOST_ROW};
pub use sampler::{Sampler, MAX_FRAMES, MAX_HZ};

use crate::error::{Error, Result};
use std::time::Duration;

/// The thread to sample, captured on that thread.
#[derive(Clone, Copy, Debug)]
pub struct ThreadTarget {
    /// Kernel thread id.
    pub tid: i32,
    /// Lowest address of the thread's stack.
    pub stack_low: usize,
    /// One past the highest address of the thread's stack.
    pub stack_high: usize,
    /// The thread's CPU-time clock (from `pthread_getcpuclockid`).
    pub cpu_clock: libc::clockid_t,
}

impl ThreadTarget {
    /// Describes the calling thread.
    pub fn current() -> Result<ThreadTarget> {
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        // SAFETY: pthread_getattr_np on the calling thread fills `attr`, which
        // is destroyed after the stack bounds are read out of it;
        // pthread_getcpuclockid writes one clockid_t.
        let (low, size, clock) = unsafe {
            let me = libc::pthread_self();
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            let rc = libc::pthread_getattr_np(me, &mut attr);
            if rc != 0 {
                return Err(internal("pthread_getattr_np", rc));
            }
            let mut addr: *mut libc::c_void = std::ptr::null_mut();
            let mut size: libc::size_t = 0;
            let rc = libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
            libc::pthread_attr_destroy(&mut attr);
            if rc != 0 {
                return Err(internal("pthread_attr_getstack", rc));
            }
            let mut clock: libc::clockid_t = 0;
            let rc = libc::pthread_getcpuclockid(me, &mut clock);
            if rc != 0 {
                return Err(internal("pthread_getcpuclockid", rc));
            }
            (addr as usize, size, clock)
        };
        let high = low
            .checked_add(size)
            .ok_or_else(|| Error::Internal("profiler: thread stack bounds overflow".into()))?;
        Ok(ThreadTarget {
            tid,
            stack_low: low,
            stack_high: high,
            cpu_clock: clock,
        })
    }

    /// CPU time the thread has used so far (fails once the thread has exited).
    pub fn cpu_time(&self) -> Result<Duration> {
        // SAFETY: clock_gettime writes into a local timespec.
        let ts = unsafe {
            let mut ts: libc::timespec = std::mem::zeroed();
            if libc::clock_gettime(self.cpu_clock, &mut ts) != 0 {
                return Err(internal(
                    "clock_gettime on the thread's CPU clock",
                    std::io::Error::last_os_error().raw_os_error().unwrap_or(0),
                ));
            }
            ts
        };
        Ok(Duration::new(
            ts.tv_sec.max(0) as u64,
            ts.tv_nsec.clamp(0, 999_999_999) as u32,
        ))
    }
}

fn internal(what: &str, code: i32) -> Error {
    Error::Internal(format!(
        "profiler: {what}: {}",
        std::io::Error::from_raw_os_error(code)
    ))
}

/// One sample: pcs leaf first (the interrupted pc, then return addresses from
/// the frame-pointer chain).
#[derive(Clone, Debug)]
pub struct RawSample {
    /// When the sample was taken, since the sampler started.
    pub at: Duration,
    pub pcs: Vec<usize>,
}
