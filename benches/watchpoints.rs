//! Watchpoint cost (`cargo bench --workspace --bench watchpoints`): the run
//! time of `samples/sha256-g.wasm` in debug code (stopped at entry, then
//! `continue` to its end) with no watchpoint and with one, in the cases page
//! protection makes cheap and dear:
//! - `watch K[0]`: a write watch on a table the program only reads (its page
//!   is read-only; reads run at full speed);
//! - `watch` of the last word of memory (the heap's page; written a few
//!   times, each a stop);
//! - `rwatch K[0]`: a read watch on the table read in every round (every read
//!   of that page faults and is single-stepped, and every read of K[0] stops:
//!   this case measures stops more than the mechanism);
//! - `watch` of a word of the shadow-stack page (every store there faults).
//!
//! Each watch case runs twice: with the debug registers (the default when
//! the kernel grants them) and with page protection only.
//!
//! `-- 0.02 --only=shadow` runs the cases whose name holds `shadow` (and the
//! run without a watchpoint).
//!
//! Prints one table: median of 3 runs, and the ratio to the run without.

use std::time::{Duration, Instant};
use wdb::debugger::*;

fn sample(name: &str) -> Vec<u8> {
    let path = format!("{}/samples/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The next event `pick` accepts (at most ten minutes).
fn wait<T>(s: &Session, mut pick: impl FnMut(&Event) -> Option<T>) -> T {
    let until = Instant::now() + Duration::from_secs(600);
    while Instant::now() < until {
        if let Some(e) = s.recv_timeout(Duration::from_millis(20)) {
            if let Some(t) = pick(&e) {
                return t;
            }
        }
    }
    panic!("timed out");
}

/// One run: entry stop, the watchpoint (`watch` names it, or a closure over
/// the entry snapshot), then `continue` to the end, timed.
/// A watchpoint to set: its kind and the expression (from a snapshot).
type WatchSpec<'a> = (WatchKind, &'a dyn Fn(&Snapshot) -> String);

fn run(scale: &str, watch: Option<WatchSpec<'_>>) -> Duration {
    let s = Session::start(SessionConfig {
        name: "sha256-g.wasm".into(),
        wasm: sample("sha256-g.wasm"),
        args: vec![scale.into()],
        ..SessionConfig::default()
    })
    .expect("session");
    let snap = wait(&s, |e| match e {
        Event::Paused(p) => Some(p.clone()),
        _ => None,
    });
    if let Some((kind, expr)) = watch {
        s.send(Command::Watch {
            frame: 0,
            kind,
            expr: expr(&snap),
        });
        wait(&s, |e| match e {
            Event::Message(m) if m.contains("watchpoint") => Some(()),
            Event::Error(e) => panic!("{e}"),
            _ => None,
        });
    }
    let t0 = Instant::now();
    s.send(Command::Continue);
    let mut stops = 0;
    loop {
        match wait(&s, |e| match e {
            Event::Paused(_) => Some(false),
            Event::Ended { .. } => Some(true),
            _ => None,
        }) {
            true => break,
            false => {
                stops += 1;
                s.send(Command::Continue);
            }
        }
    }
    let took = t0.elapsed();
    if stops > 0 {
        eprintln!("  ({stops} watchpoint stops)");
    }
    s.send(Command::Quit);
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let scale = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "0.02".into());
    let stack_word = |s: &Snapshot| {
        // __stack_pointer at entry: main's frame lies just below it.
        let sp = s.globals.first().map_or(0x10000, |g| g.bits);
        format!("*(int *){:#x}", (sp - 256) & !3)
    };
    type Case<'a> = (
        &'a str,
        Option<(WatchKind, &'a dyn Fn(&Snapshot) -> String)>,
    );
    let k0 = |_: &Snapshot| "K[0]".to_string();
    let far = |s: &Snapshot| {
        // The last word of memory.
        let pages = s.memory_pages.unwrap_or(2);
        format!("*(int *){:#x}", pages * 65536 - 4)
    };
    let cases: Vec<Case> = vec![
        ("no watchpoint", None),
        ("watch K[0] (read-only page)", Some((WatchKind::Write, &k0))),
        ("watch, last word of memory", Some((WatchKind::Write, &far))),
        (
            "rwatch K[0] (page read every round)",
            Some((WatchKind::Read, &k0)),
        ),
        (
            "watch, shadow-stack page",
            Some((WatchKind::Write, &stack_word)),
        ),
    ];
    println!("sha256-g.wasm {scale} in debug code, continue from entry to exit (median of 3)");
    println!("{:<48} {:>10} {:>8}", "case", "ms", "ratio");
    let mut base = None;
    let only = std::env::args().find_map(|a| a.strip_prefix("--only=").map(str::to_string));
    for (name, w) in cases {
        if w.is_some() && only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let mechanisms: &[(bool, &str)] = if w.is_some() {
            &[(true, "debug registers"), (false, "pages")]
        } else {
            &[(true, "")]
        };
        for &(hw, how) in mechanisms {
            use_hardware_watchpoints(hw);
            let times: Vec<Duration> = (0..3).map(|_| run(&scale, w)).collect();
            let m = median(times);
            let b = *base.get_or_insert(m);
            let label = if how.is_empty() {
                name.to_string()
            } else {
                format!("{name}, {how}")
            };
            println!(
                "{:<48} {:>10.1} {:>7.2}x",
                label,
                m.as_secs_f64() * 1000.0,
                m.as_secs_f64() / b.as_secs_f64()
            );
        }
    }
}
