//! Trap handling: activations, signal handlers on an alternate stack, and the
//! unwind to the entry trampoline.
//!
//! An *activation* is one entry from the host into wasm. The entry trampoline
//! saves `rsp`/`rbp` into it; when compiled code faults (guard page, `ud2` trap
//! site), the handler records what happened, walks the frame-pointer chain for
//! a backtrace, and resumes at the landing pad with the saved `rsp`/`rbp`, which
//! returns "trapped" from the trampoline. Faults outside wasm code go to the
//! previously installed handler.

use crate::code::{self, CodeKind};
use crate::error::{Trap, TrapCode};
use std::cell::{Cell, RefCell};
use std::sync::OnceLock;

pub const MAX_BACKTRACE: usize = 256;

/// One host → wasm entry. `#[repr(C)]`: the entry trampoline writes the first two fields.
#[repr(C)]
pub struct Activation {
    /// `rsp` inside the entry trampoline after it saved callee-saved registers.
    pub saved_rsp: usize,
    /// `rbp` of the entry trampoline frame.
    pub saved_rbp: usize,
    pub prev: *mut Activation,
    /// Type-erased `*mut Store<T>` for host calls.
    pub store: *mut u8,
    /// Set by the signal handler.
    pub faulted: bool,
    pub fault_signal: i32,
    pub fault_pc: usize,
    pub backtrace: [usize; MAX_BACKTRACE],
    pub backtrace_len: usize,
    /// Wasm frames beyond `MAX_BACKTRACE` (counted, not recorded).
    pub backtrace_omitted: usize,
    /// A trap raised by the runtime (builtins, host functions) before it
    /// returned failure to compiled code.
    pub pending: Option<Trap>,
}

impl Activation {
    pub fn new(store: *mut u8) -> Box<Activation> {
        Box::new(Activation {
            saved_rsp: 0,
            saved_rbp: 0,
            prev: std::ptr::null_mut(),
            store,
            faulted: false,
            fault_signal: 0,
            fault_pc: 0,
            backtrace: [0; MAX_BACKTRACE],
            backtrace_len: 0,
            backtrace_omitted: 0,
            pending: None,
        })
    }
}

thread_local! {
    static CURRENT: Cell<*mut Activation> = const { Cell::new(std::ptr::null_mut()) };
    static ALT_STACK: RefCell<Option<AltStack>> = const { RefCell::new(None) };
}

/// The innermost activation of this thread (null if none).
pub fn current() -> *mut Activation {
    CURRENT.with(|c| c.get())
}

/// Pushes `act` as the innermost activation.
///
/// # Safety
/// `act` must point to a live activation that stays alive until the matching `pop`.
pub unsafe fn push(act: *mut Activation) {
    CURRENT.with(|c| {
        // SAFETY: guaranteed by the caller.
        unsafe { (*act).prev = c.get() };
        c.set(act);
    });
}

/// Pops `act`, which must be the innermost activation.
///
/// # Safety
/// As for [`push`]: `act` is the live activation pushed last.
pub unsafe fn pop(act: *mut Activation) {
    CURRENT.with(|c| {
        // SAFETY: guaranteed by the caller.
        c.set(unsafe { (*act).prev });
    });
}

/// Records a trap raised by the runtime for the innermost activation.
pub fn set_pending(trap: Trap) {
    let act = current();
    if !act.is_null() {
        // SAFETY: the innermost activation is alive while wasm (and thus the
        // runtime code calling this) runs on this thread.
        unsafe { (*act).pending = Some(trap) };
    }
}

/// Turns the state of a trapped activation into a [`Trap`].
pub fn take_trap(act: &mut Activation) -> Trap {
    let mut trap = if act.faulted {
        let info = code::lookup_pc(act.fault_pc);
        let code = match (&info, act.fault_signal) {
            (Some(i), _) if i.trap.is_some() => i.trap.flatten(),
            (_, libc::SIGFPE) => Some(TrapCode::IntegerDivideByZero),
            (_, libc::SIGILL) => Some(TrapCode::Unreachable),
            _ => Some(TrapCode::MemoryOutOfBounds),
        };
        match code {
            Some(c) => Trap::new(c),
            None => act
                .pending
                .take()
                .unwrap_or_else(|| Trap::new(TrapCode::HostError)),
        }
    } else {
        act.pending
            .take()
            .unwrap_or_else(|| Trap::host("trap without a cause (internal error)"))
    };
    if trap.backtrace.is_empty() {
        let mut frames = Vec::new();
        for (i, &pc) in act.backtrace[..act.backtrace_len].iter().enumerate() {
            // Return addresses point after the call; look up the call itself.
            let look = if i == 0 { pc } else { pc - 1 };
            if let Some(info) = code::lookup_pc(look) {
                if let (CodeKind::Wasm(_), Some(f)) = (info.kind, info.func_index) {
                    frames.push(crate::error::FrameInfo {
                        module_id: info.module_id,
                        func_index: f,
                        func_name: None,
                        wasm_offset: info.wasm_offset,
                    });
                }
            }
        }
        if let Some(top) = frames.first() {
            trap.func = Some(top.func_index);
            trap.wasm_offset = top.wasm_offset;
        }
        trap.backtrace = frames;
        trap.frames_omitted = act.backtrace_omitted;
    }
    act.faulted = false;
    act.backtrace_len = 0;
    act.backtrace_omitted = 0;
    trap
}

/// Records the frame-pointer chain from `fp` into the activation (no allocation).
///
/// # Safety
/// `fp` must be a frame pointer of wasm code running in `act`.
pub unsafe fn record_backtrace(act: &mut Activation, pc: usize, mut fp: usize) {
    act.backtrace[0] = pc;
    let mut n = 1;
    let mut omitted = 0;
    while fp != 0 && fp != act.saved_rbp && fp.is_multiple_of(8) {
        // SAFETY: frames of wasm code and trampolines keep the rbp chain; the
        // walk stops at the entry trampoline's frame.
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        if !code::is_wasm_pc(ret) {
            break;
        }
        if n < MAX_BACKTRACE {
            act.backtrace[n] = ret;
            n += 1;
        } else if next != act.saved_rbp {
            // (A return into the entry trampoline is no wasm frame.)
            omitted += 1;
        }
        if next <= fp {
            break;
        }
        fp = next;
    }
    act.backtrace_len = n;
    act.backtrace_omitted = omitted;
}

// ---- signal handling ------------------------------------------------------

struct PrevHandlers {
    segv: libc::sigaction,
    bus: libc::sigaction,
    ill: libc::sigaction,
    fpe: libc::sigaction,
    trap: libc::sigaction,
}

static PREV: OnceLock<PrevHandlers> = OnceLock::new();
static LANDING: OnceLock<usize> = OnceLock::new();

/// The landing pad (None before the first engine installed the handlers).
pub fn landing_pad() -> Option<usize> {
    LANDING.get().copied()
}

/// Installs the process-wide handlers once. `landing` is the landing pad address.
pub fn install_handlers(landing: usize) {
    LANDING.get_or_init(|| landing);
    PREV.get_or_init(|| {
        // SAFETY: plain sigaction calls with fully initialised structs.
        unsafe {
            let install = |sig: libc::c_int| {
                let mut sa: libc::sigaction = std::mem::zeroed();
                sa.sa_sigaction = handler as *const () as usize;
                sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER;
                libc::sigemptyset(&mut sa.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                libc::sigaction(sig, &sa, &mut old);
                old
            };
            PrevHandlers {
                segv: install(libc::SIGSEGV),
                bus: install(libc::SIGBUS),
                ill: install(libc::SIGILL),
                fpe: install(libc::SIGFPE),
                trap: install(libc::SIGTRAP),
            }
        }
    });
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid ucontext for SA_SIGINFO handlers.
    let uc = unsafe { &mut *(ctx as *mut libc::ucontext_t) };
    let gregs = &mut uc.uc_mcontext.gregs;
    let pc = gregs[libc::REG_RIP as usize] as usize;
    // Watchpoints (vm/watch.rs): a fault on a watched page single-steps the
    // access; the SIGTRAP after that step ends it.
    // A debug register's SIGTRAP (TRAP_PERF) comes after the access; it may
    // stand for a single step's too (one SIGTRAP pending at a time).
    if sig == libc::SIGTRAP {
        // SAFETY: the kernel's siginfo and the saved registers of this thread.
        let stepped = unsafe { super::watch::on_trap(gregs) };
        // SAFETY: as above.
        let hw = unsafe { super::watch_hw::sig_data(info) }
            // SAFETY: as above.
            .is_some_and(|id| unsafe { super::watch::on_hw_trap(id, gregs) });
        if stepped || hw {
            return;
        }
    } else if sig == libc::SIGSEGV {
        // SAFETY: the kernel fills si_addr for SIGSEGV.
        let fault = unsafe { (*info).si_addr() } as usize;
        // SAFETY: as above.
        if unsafe { super::watch::on_segv(fault, gregs) } {
            return;
        }
    }
    super::watch::abort_step(gregs);
    let act = current();
    if sig != libc::SIGTRAP && !act.is_null() && code::is_wasm_pc(pc) {
        if let Some(&landing) = LANDING.get() {
            // SAFETY: the activation is alive while its wasm code runs.
            let act = unsafe { &mut *act };
            act.faulted = true;
            act.fault_signal = sig;
            act.fault_pc = pc;
            // SAFETY: rbp of faulting wasm code is a valid frame chain.
            unsafe { record_backtrace(act, pc, gregs[libc::REG_RBP as usize] as usize) };
            gregs[libc::REG_RIP as usize] = landing as i64;
            gregs[libc::REG_RSP as usize] = act.saved_rsp as i64;
            gregs[libc::REG_RBP as usize] = act.saved_rbp as i64;
            return;
        }
    }
    // Not ours: hand over to the previous handler, or die with the default action.
    let Some(prev) = PREV.get() else { return };
    let old = match sig {
        libc::SIGSEGV => &prev.segv,
        libc::SIGBUS => &prev.bus,
        libc::SIGILL => &prev.ill,
        libc::SIGTRAP => &prev.trap,
        _ => &prev.fpe,
    };
    // SAFETY: re-dispatch to the handler that was installed before ours, with
    // the same arguments, or restore the default disposition and return so the
    // faulting instruction re-executes and kills the process.
    unsafe {
        if old.sa_flags & libc::SA_SIGINFO != 0 && old.sa_sigaction > 1 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(old.sa_sigaction);
            f(sig, info, ctx);
        } else if old.sa_sigaction > 1 {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(old.sa_sigaction);
            f(sig);
        } else if sig != libc::SIGTRAP {
            libc::signal(sig, libc::SIG_DFL);
        }
        // (A stray SIGTRAP with no handler before ours is ignored: resetting
        // it would take the watchpoint single steps down with it.)
    }
}

/// Minimum alternate-stack size our handler wants.
const ALT_STACK_SIZE: usize = 64 * 1024;

struct AltStack {
    mem: *mut libc::c_void,
    size: usize,
}

impl Drop for AltStack {
    fn drop(&mut self) {
        // SAFETY: disable the alt stack before unmapping the memory we own.
        unsafe {
            let ss = libc::stack_t {
                ss_sp: std::ptr::null_mut(),
                ss_flags: libc::SS_DISABLE,
                ss_size: 0,
            };
            libc::sigaltstack(&ss, std::ptr::null_mut());
            libc::munmap(self.mem, self.size);
        }
    }
}

/// Makes sure this thread has an alternate signal stack big enough for our handler.
pub fn ensure_alt_stack() {
    ALT_STACK.with(|cell| {
        if cell.borrow().is_some() {
            return;
        }
        // SAFETY: query the current alt stack; allocate our own if it is too small.
        unsafe {
            let mut old: libc::stack_t = std::mem::zeroed();
            libc::sigaltstack(std::ptr::null(), &mut old);
            if old.ss_flags & libc::SS_DISABLE == 0 && old.ss_size >= ALT_STACK_SIZE {
                return;
            }
            let mem = libc::mmap(
                std::ptr::null_mut(),
                ALT_STACK_SIZE,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if mem == libc::MAP_FAILED {
                return;
            }
            let ss = libc::stack_t {
                ss_sp: mem,
                ss_flags: 0,
                ss_size: ALT_STACK_SIZE,
            };
            libc::sigaltstack(&ss, std::ptr::null_mut());
            *cell.borrow_mut() = Some(AltStack {
                mem,
                size: ALT_STACK_SIZE,
            });
        }
    });
}

/// Lowest usable address of this thread's stack (cached).
pub fn thread_stack_low() -> usize {
    thread_local! { static LOW: Cell<usize> = const { Cell::new(0) }; }
    LOW.with(|low| {
        if low.get() == 0 {
            // SAFETY: pthread_getattr_np on the current thread with an attr we destroy.
            unsafe {
                let mut attr: libc::pthread_attr_t = std::mem::zeroed();
                if libc::pthread_getattr_np(libc::pthread_self(), &mut attr) == 0 {
                    let mut addr: *mut libc::c_void = std::ptr::null_mut();
                    let mut size: libc::size_t = 0;
                    libc::pthread_attr_getstack(&attr, &mut addr, &mut size);
                    libc::pthread_attr_destroy(&mut attr);
                    low.set(addr as usize);
                }
            }
        }
        low.get()
    })
}
