//! Scheduling of the process's own background threads: compile workers run
//! at a lower priority than the thread running wasm, so on a machine with
//! few cores a tier-up compile takes only time that thread leaves idle.

/// How much lower (in `nice` steps) than the rest of the process a
/// background compile thread runs: enough that the thread running wasm wins
/// a shared core most of the time, not so much that compiles starve on a
/// busy machine (CFS weights nice 10 about 1/10 of nice 0).
pub const COMPILE_NICE: i32 = 10;

/// Lowers the calling thread's priority by `steps` nice levels. Linux
/// applies `setpriority(PRIO_PROCESS, tid)` to that one thread. False when
/// the system refused (the thread then runs at the normal priority).
pub fn lower_priority(steps: i32) -> bool {
    // SAFETY: gettid and getpriority/setpriority take plain integers and
    // touch no memory of ours.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        *libc::__errno_location() = 0;
        let now = libc::getpriority(libc::PRIO_PROCESS, tid);
        if now == -1 && *libc::__errno_location() != 0 {
            return false;
        }
        libc::setpriority(libc::PRIO_PROCESS, tid, (now + steps).min(19)) == 0
    }
}
