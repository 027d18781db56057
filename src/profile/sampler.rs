//! The sampling half of the profiler: a per-thread CPU-clock timer delivers
//! SIGPROF to the sampled thread, whose handler copies the interrupted pc and
//! the frame-pointer chain into a preallocated lock-free ring; a drain thread
//! (and every call to [`Sampler::samples`]) moves them into ordinary memory.
//!
//! The handler is async-signal-safe: it allocates nothing, takes no lock and
//! does not consult the code registry; symbolization happens later.

use super::{RawSample, ThreadTarget};
use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Most pcs recorded per sample (the interrupted pc included).
pub const MAX_FRAMES: usize = 64;
/// Samples the ring holds before the handler starts dropping them.
const RING_SLOTS: usize = 2048;
/// How often the drain thread empties the ring.
const DRAIN_EVERY: Duration = Duration::from_millis(20);
/// Highest sampling rate accepted.
pub const MAX_HZ: u32 = 10_000;

/// One sample as the handler writes it. Every word is atomic so the drain
/// side may read slots the handler has published without any `unsafe`.
struct Slot {
    at_ns: AtomicU64,
    len: AtomicUsize,
    pcs: [AtomicUsize; MAX_FRAMES],
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            at_ns: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            pcs: [const { AtomicUsize::new(0) }; MAX_FRAMES],
        }
    }
}

/// Single-producer (the handler on the target thread), single-consumer (the
/// drain side, serialized by the sampler's mutex) ring. `HEAD` and `TAIL` only
/// grow; slot `i % RING_SLOTS` holds sample `i`.
static RING: [Slot; RING_SLOTS] = [const { Slot::new() }; RING_SLOTS];
static HEAD: AtomicUsize = AtomicUsize::new(0);
static TAIL: AtomicUsize = AtomicUsize::new(0);
static DROPPED: AtomicU64 = AtomicU64::new(0);

/// True while a sampler wants samples (read by the handler).
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Handlers currently running on any thread; `stop` waits for zero.
static IN_HANDLER: AtomicUsize = AtomicUsize::new(0);
static TARGET_TID: AtomicI32 = AtomicI32::new(0);
static STACK_LOW: AtomicUsize = AtomicUsize::new(0);
static STACK_HIGH: AtomicUsize = AtomicUsize::new(0);
/// CLOCK_MONOTONIC nanoseconds at which the running sampler started.
static START_NS: AtomicU64 = AtomicU64::new(0);
/// The target thread's CPU clock, and its reading at the last sample: the
/// timer runs on the monotonic clock (CPU-clock timers only fire on scheduler
/// ticks, 250 Hz here), and a tick in which the thread used less than half a
/// period of CPU since the previous tick is skipped, so a blocked thread
/// costs no samples.
static CPU_CLOCK: AtomicI32 = AtomicI32::new(0);
/// The running sampler's timer and period. The timer is one-shot and the
/// handler, which runs on the sampled thread, arms it again: an hrtimer is
/// queued on the CPU that arms it, so expiries stay on the sampled thread's
/// CPU instead of costing a cross-CPU interrupt each (expensive in a VM).
static TIMER: AtomicUsize = AtomicUsize::new(0);
/// TIMER holds a live timer (timer ids start at 0).
static TIMER_LIVE: AtomicBool = AtomicBool::new(false);
static PERIOD_NS: AtomicU64 = AtomicU64::new(0);
static LAST_CPU_NS: AtomicU64 = AtomicU64::new(0);
static MIN_CPU_NS: AtomicU64 = AtomicU64::new(0);

/// True from `Sampler::start` until that sampler has fully stopped.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// The SIGPROF disposition found when ours was installed (chained to for
/// signals that are not ours), or the errno of a failed installation.
static PREV: OnceLock<std::result::Result<libc::sigaction, i32>> = OnceLock::new();

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

fn os_error(what: &str, code: i32) -> Error {
    Error::Internal(format!(
        "profiler: {what}: {}",
        std::io::Error::from_raw_os_error(code)
    ))
}

fn install_handler() -> Result<()> {
    let prev = PREV.get_or_init(|| {
        // SAFETY: sigaction with a fully initialised struct; the handler is an
        // `extern "C"` function with the SA_SIGINFO signature.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_sigprof as *const () as usize;
            sa.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
            libc::sigemptyset(&mut sa.sa_mask);
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(libc::SIGPROF, &sa, &mut old) != 0 {
                return Err(errno());
            }
            Ok(old)
        }
    });
    match prev {
        Ok(_) => Ok(()),
        Err(code) => Err(os_error("cannot install the SIGPROF handler", *code)),
    }
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    // SAFETY: clock_gettime writes into a local timespec; async-signal-safe.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(clock, &mut ts);
        ts
    };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// Arms the one-shot timer `timer` to expire in `period_ns`. Async-signal-safe
/// (`timer_settime` is); returns false when the kernel refuses.
fn arm_once(timer: usize, period_ns: u64) -> bool {
    if period_ns == 0 {
        return false;
    }
    let spec = libc::itimerspec {
        it_interval: libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: libc::timespec {
            tv_sec: (period_ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (period_ns % 1_000_000_000) as libc::c_long,
        },
    };
    // SAFETY: `timer` is the running sampler's timer (deleted only after
    // ACTIVE is cleared and handlers have finished); `spec` is valid.
    unsafe { libc::timer_settime(timer as libc::timer_t, 0, &spec, std::ptr::null_mut()) == 0 }
}

fn monotonic_ns() -> u64 {
    // SAFETY: clock_gettime writes into a local timespec; it is
    // async-signal-safe, so the handler may call this too.
    let ts = unsafe {
        let mut ts: libc::timespec = std::mem::zeroed();
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts);
        ts
    };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

extern "C" fn on_sigprof(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: errno is thread-local; saving and restoring it keeps the
    // interrupted code's view intact.
    let saved_errno = unsafe { *libc::__errno_location() };
    IN_HANDLER.fetch_add(1, Ordering::SeqCst);
    // SAFETY: gettid is a plain async-signal-safe syscall.
    let ours = ACTIVE.load(Ordering::SeqCst)
        && unsafe { libc::gettid() } == TARGET_TID.load(Ordering::SeqCst);
    if ours && !ctx.is_null() {
        let cpu = clock_ns(CPU_CLOCK.load(Ordering::Relaxed));
        let last = LAST_CPU_NS.swap(cpu, Ordering::Relaxed);
        if cpu.wrapping_sub(last) >= MIN_CPU_NS.load(Ordering::Relaxed) {
            // SAFETY: the kernel passes a valid ucontext to SA_SIGINFO handlers.
            let uc = unsafe { &*(ctx as *const libc::ucontext_t) };
            record(uc);
        }
        if TIMER_LIVE.load(Ordering::Relaxed) {
            arm_once(
                TIMER.load(Ordering::Relaxed),
                PERIOD_NS.load(Ordering::Relaxed),
            );
        }
    }
    IN_HANDLER.fetch_sub(1, Ordering::SeqCst);
    if !ours {
        chain(sig, info, ctx);
    }
    // SAFETY: see above.
    unsafe { *libc::__errno_location() = saved_errno };
}

/// Hands a SIGPROF that is not ours to the handler installed before ours, if
/// that was a function (the default action, termination, is never taken).
fn chain(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let Some(Ok(old)) = PREV.get() else { return };
    if old.sa_sigaction <= libc::SIG_IGN {
        return;
    }
    // SAFETY: re-dispatch to the previously installed handler with the
    // arguments the kernel gave us, using the signature its flags declare.
    unsafe {
        if old.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(old.sa_sigaction);
            f(sig, info, ctx);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(old.sa_sigaction);
            f(sig);
        }
    }
}

/// Writes one sample into the ring. Runs in the signal handler.
fn record(uc: &libc::ucontext_t) {
    let gregs = &uc.uc_mcontext.gregs;
    let rip = gregs[libc::REG_RIP as usize] as usize;
    let rbp = gregs[libc::REG_RBP as usize] as usize;
    let rsp = gregs[libc::REG_RSP as usize] as usize;

    let head = HEAD.load(Ordering::Relaxed);
    let tail = TAIL.load(Ordering::Acquire);
    if head.wrapping_sub(tail) >= RING_SLOTS {
        DROPPED.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let slot = &RING[head % RING_SLOTS];
    slot.pcs[0].store(rip, Ordering::Relaxed);
    let mut n = 1;

    // Frames live between the interrupted stack pointer and the stack's top;
    // that range is mapped, so reading it cannot fault. Off the thread's
    // stack (an alternate signal stack, say) the walk does not start.
    let low = STACK_LOW.load(Ordering::Relaxed).max(rsp);
    let high = STACK_HIGH.load(Ordering::Relaxed);
    let mut fp = rbp;
    while n < MAX_FRAMES {
        if !fp.is_multiple_of(8) || fp < low || high < 16 || fp > high - 16 {
            break;
        }
        // SAFETY: `fp` and `fp + 8` lie inside [rsp, stack_high), mapped
        // memory of the interrupted thread's stack, and are 8-aligned.
        let (next, ret) = unsafe {
            (
                std::ptr::read_volatile(fp as *const usize),
                std::ptr::read_volatile((fp + 8) as *const usize),
            )
        };
        if ret == 0 {
            break;
        }
        slot.pcs[n].store(ret, Ordering::Relaxed);
        n += 1;
        if next <= fp {
            break;
        }
        fp = next;
    }
    slot.len.store(n, Ordering::Relaxed);
    let at = monotonic_ns().saturating_sub(START_NS.load(Ordering::Relaxed));
    slot.at_ns.store(at, Ordering::Relaxed);
    HEAD.store(head.wrapping_add(1), Ordering::Release);
}

/// Moves every published sample out of the ring. Callers hold the sampler's
/// mutex, which makes them the ring's single consumer.
fn drain_into(out: &mut Vec<RawSample>) {
    let tail = TAIL.load(Ordering::Relaxed);
    let head = HEAD.load(Ordering::Acquire);
    let mut i = tail;
    while i != head {
        let slot = &RING[i % RING_SLOTS];
        let len = slot.len.load(Ordering::Relaxed).clamp(1, MAX_FRAMES);
        out.push(RawSample {
            at: Duration::from_nanos(slot.at_ns.load(Ordering::Relaxed)),
            pcs: slot.pcs[..len]
                .iter()
                .map(|p| p.load(Ordering::Relaxed))
                .collect(),
        });
        i = i.wrapping_add(1);
    }
    TAIL.store(head, Ordering::Release);
}

struct Shared {
    samples: Mutex<Vec<RawSample>>,
    stop: AtomicBool,
}

impl Shared {
    fn drain(&self) {
        let mut out = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        drain_into(&mut out);
    }
}

/// Samples one thread's call stack at a fixed rate of its CPU time.
pub struct Sampler {
    target: ThreadTarget,
    /// The POSIX timer (a `timer_t`, kept as an integer so the sampler is `Send`).
    timer: usize,
    head_at_start: usize,
    dropped_at_start: u64,
    shared: Arc<Shared>,
    drainer: Option<std::thread::JoinHandle<()>>,
    stopped: bool,
}

impl Sampler {
    /// Starts sampling `target` at about `hz` samples per second of the
    /// target's CPU time. Only one sampler may run at a time.
    pub fn start(target: ThreadTarget, hz: u32) -> Result<Sampler> {
        if hz == 0 || hz > MAX_HZ {
            return Err(Error::Usage(format!(
                "sampling rate must be between 1 and {MAX_HZ} Hz, not {hz}"
            )));
        }
        if target.stack_low >= target.stack_high || target.tid <= 0 {
            return Err(Error::Usage("profiler: invalid thread target".into()));
        }
        if RUNNING
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(Error::Usage("a profiler is already running".into()));
        }
        match Sampler::arm(target, hz) {
            Ok(s) => Ok(s),
            Err(e) => {
                ACTIVE.store(false, Ordering::SeqCst);
                wait_for_handlers();
                RUNNING.store(false, Ordering::SeqCst);
                Err(e)
            }
        }
    }

    fn arm(target: ThreadTarget, hz: u32) -> Result<Sampler> {
        install_handler()?;
        TARGET_TID.store(target.tid, Ordering::SeqCst);
        STACK_LOW.store(target.stack_low, Ordering::SeqCst);
        STACK_HIGH.store(target.stack_high, Ordering::SeqCst);
        START_NS.store(monotonic_ns(), Ordering::SeqCst);
        CPU_CLOCK.store(target.cpu_clock, Ordering::SeqCst);
        LAST_CPU_NS.store(clock_ns(target.cpu_clock), Ordering::SeqCst);
        MIN_CPU_NS.store(500_000_000 / u64::from(hz.max(1)), Ordering::SeqCst);
        // No handler writes while ACTIVE is false: forget leftovers.
        let head = HEAD.load(Ordering::SeqCst);
        TAIL.store(head, Ordering::SeqCst);
        let dropped = DROPPED.load(Ordering::SeqCst);
        ACTIVE.store(true, Ordering::SeqCst);

        // SAFETY: timer_create with a zero-initialised sigevent filled in for
        // SIGEV_THREAD_ID delivery; `timer` receives the new timer's id.
        let timer = unsafe {
            let mut sev: libc::sigevent = std::mem::zeroed();
            sev.sigev_notify = libc::SIGEV_THREAD_ID;
            sev.sigev_signo = libc::SIGPROF;
            sev.sigev_notify_thread_id = target.tid;
            let mut timer: libc::timer_t = std::ptr::null_mut();
            if libc::timer_create(libc::CLOCK_MONOTONIC, &mut sev, &mut timer) != 0 {
                return Err(os_error("timer_create", errno()));
            }
            timer
        };
        let period_ns = (1_000_000_000 / u64::from(hz)).max(1);
        TIMER.store(timer as usize, Ordering::SeqCst);
        PERIOD_NS.store(period_ns, Ordering::SeqCst);
        TIMER_LIVE.store(true, Ordering::SeqCst);
        if !arm_once(timer as usize, period_ns) {
            let code = errno();
            TIMER_LIVE.store(false, Ordering::SeqCst);
            ACTIVE.store(false, Ordering::SeqCst);
            wait_for_handlers();
            // SAFETY: deleting the timer just created, once.
            unsafe { libc::timer_delete(timer) };
            return Err(os_error("timer_settime", code));
        }

        let shared = Arc::new(Shared {
            samples: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let for_thread = shared.clone();
        let drainer = std::thread::Builder::new()
            .name("wdb-profile".into())
            .spawn(move || {
                while !for_thread.stop.load(Ordering::SeqCst) {
                    for_thread.drain();
                    std::thread::park_timeout(DRAIN_EVERY);
                }
            });
        let drainer = match drainer {
            Ok(d) => d,
            Err(e) => {
                // SAFETY: deleting the timer just created, once.
                unsafe { libc::timer_delete(timer) };
                return Err(Error::Io {
                    context: "starting the profiler's drain thread".into(),
                    source: e,
                });
            }
        };
        Ok(Sampler {
            target,
            timer: timer as usize,
            head_at_start: head,
            dropped_at_start: dropped,
            shared,
            drainer: Some(drainer),
            stopped: false,
        })
    }

    /// The thread being sampled.
    pub fn target(&self) -> ThreadTarget {
        self.target
    }

    /// Samples taken so far (including those not yet drained).
    pub fn sample_count(&self) -> u64 {
        HEAD.load(Ordering::Acquire)
            .wrapping_sub(self.head_at_start) as u64
    }

    /// Samples lost because the ring was full.
    pub fn dropped(&self) -> u64 {
        DROPPED
            .load(Ordering::Relaxed)
            .wrapping_sub(self.dropped_at_start)
    }

    /// All samples so far (drains the ring first).
    pub fn samples(&self) -> Vec<RawSample> {
        let mut out = self
            .shared
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        drain_into(&mut out);
        out.clone()
    }

    /// Stops the timer and returns all samples.
    pub fn stop(mut self) -> Vec<RawSample> {
        self.shutdown();
        let mut out = self
            .shared
            .samples
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *out)
    }

    fn shutdown(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        // No handler arms the timer again once ACTIVE is clear and the
        // handlers in flight are done; then it can go.
        ACTIVE.store(false, Ordering::SeqCst);
        wait_for_handlers();
        TIMER_LIVE.store(false, Ordering::SeqCst);
        // SAFETY: the timer was created by `arm` and is deleted exactly once.
        unsafe { libc::timer_delete(self.timer as libc::timer_t) };
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(d) = self.drainer.take() {
            d.thread().unpark();
            let _ = d.join();
        }
        self.shared.drain();
        RUNNING.store(false, Ordering::SeqCst);
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Waits (briefly) for handlers that saw `ACTIVE` before it was cleared.
fn wait_for_handlers() {
    let deadline = std::time::Instant::now() + Duration::from_secs(1);
    while IN_HANDLER.load(Ordering::SeqCst) != 0 && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
}
