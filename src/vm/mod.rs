//! The virtual machine's runtime structures: VMContext layout, linear memory,
//! tables, traps and signal handling, exception unwinding.

pub mod code_table;
pub mod exn_heap;
pub mod layout;
pub mod memory;
pub mod osr;
pub mod table;
pub mod thread;
pub mod traps;
pub mod unwind;
pub mod watch;
pub mod watch_hw;

/// Gives the calling thread the nice value `nice` (higher runs later), so a
/// background thread does not take CPU time from the program. Best effort:
/// a failure leaves the priority as it was.
pub(crate) fn lower_thread_priority(nice: i32) {
    // SAFETY: plain syscalls without memory arguments; on Linux the nice
    // value of PRIO_PROCESS with the caller's thread id is per thread.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, nice);
    }
}
