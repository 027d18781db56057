//! The perf map: `/tmp/perf-PID.map`, one `START SIZE NAME` line (hex, no
//! `0x`) per published function, which Linux `perf report` uses to name JIT
//! code. Off until [`enable`]; then every publish appends its functions.

use crate::code::{self, CodeKind, CodeObject};
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Names a module's functions by function index.
pub type NameFn = Arc<dyn Fn(u32) -> String + Send + Sync>;

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Lock order: `STATE` before `NAMES`.
static STATE: Mutex<State> = Mutex::new(State {
    file: None,
    entries: Vec::new(),
});
static NAMES: Mutex<BTreeMap<u64, NameFn>> = Mutex::new(BTreeMap::new());

struct State {
    /// Open (for appending) once enabled.
    file: Option<File>,
    /// Every entry written, so the file can be rewritten when names arrive.
    entries: Vec<Entry>,
}

#[derive(Clone, Copy)]
struct Entry {
    start: usize,
    size: usize,
    what: What,
}

#[derive(Clone, Copy)]
enum What {
    Trampoline,
    Wasm {
        module_id: u64,
        func: u32,
        tier: &'static str,
    },
}

/// Where the map is written: `/tmp/perf-PID.map`.
pub fn path() -> PathBuf {
    PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()))
}

/// True once [`enable`] has succeeded.
pub fn is_enabled() -> bool {
    ENABLED.load(Ordering::SeqCst)
}

/// Turns the perf map on for the whole process: writes (truncating any stale
/// file of the same name) entries for all code published so far, and from now
/// on entries for every publish. Calling it again does nothing.
pub fn enable() -> Result<()> {
    {
        let mut st = lock(&STATE);
        if st.file.is_some() {
            return Ok(());
        }
        let p = path();
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&p)
            .and_then(|f| f.set_len(0).map(|()| f))
            .map_err(|e| Error::Io {
                context: format!("cannot create {}", p.display()),
                source: e,
            })?;
        st.file = Some(file);
        code::add_publish_hook(on_publish);
        // Set before walking the registry: code published from here on is
        // written by its publish; code published before is seen by the walk
        // (an object may be written twice, which perf tolerates).
        ENABLED.store(true, Ordering::SeqCst);
    }
    for obj in code::live_objects() {
        write_object(&obj);
    }
    Ok(())
}

/// Lets the runtime name a module's functions (by function index). When the
/// map is on and already holds entries of the module, the file is rewritten
/// with the new names. `names` must not publish code.
pub fn register_names(module_id: u64, names: NameFn) {
    lock(&NAMES).insert(module_id, names);
    if !is_enabled() {
        return;
    }
    let mut st = lock(&STATE);
    let touches = st
        .entries
        .iter()
        .any(|e| matches!(e.what, What::Wasm { module_id: m, .. } if m == module_id));
    if !touches {
        return;
    }
    let text: String = st.entries.iter().map(line).collect();
    if let Some(f) = st.file.as_mut() {
        // The file is opened for appending: after truncation writes start at 0.
        let _ = f.set_len(0).and_then(|()| f.write_all(text.as_bytes()));
    }
}

/// Forgets a module's names (entries written so far keep them).
pub fn unregister_names(module_id: u64) {
    lock(&NAMES).remove(&module_id);
}

/// The publish hook [`enable`] registers: writes every new code object.
fn on_publish(obj: &CodeObject) {
    if ENABLED.load(Ordering::SeqCst) {
        write_object(obj);
    }
}

#[cold]
fn write_object(obj: &CodeObject) {
    let entries: Vec<Entry> = obj
        .funcs
        .iter()
        .filter(|f| f.len > 0)
        .map(|f| Entry {
            start: obj.start() + f.start,
            size: f.len,
            what: match obj.kind {
                // Per function (a mixed module's object holds both tiers);
                // an OSR entry is `name [osr]`.
                CodeKind::Wasm(_) if f.func_index != u32::MAX => What::Wasm {
                    module_id: obj.module_id,
                    func: f.func_index,
                    tier: f.label().name(),
                },
                _ => What::Trampoline,
            },
        })
        .collect();
    if entries.is_empty() {
        return;
    }
    let mut st = lock(&STATE);
    let text: String = entries.iter().map(line).collect();
    if let Some(f) = st.file.as_mut() {
        // A failed write must not fail the publish; the map just lacks lines.
        let _ = f.write_all(text.as_bytes());
        st.entries.extend(entries);
    }
}

/// One map line, newline included.
fn line(e: &Entry) -> String {
    let name = match e.what {
        What::Trampoline => "wdb trampoline".to_string(),
        What::Wasm {
            module_id,
            func,
            tier,
        } => {
            let names = lock(&NAMES).get(&module_id).cloned();
            let name = names.map(|n| n(func)).unwrap_or_default();
            let name = if name.trim().is_empty() {
                format!("wasm[{module_id}]::func[{func}]")
            } else {
                // One entry per line: no line breaks inside a name.
                name.replace(['\n', '\r'], " ")
            };
            format!("{name} [{tier}]")
        }
    };
    format!("{:x} {:x} {name}\n", e.start, e.size)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
