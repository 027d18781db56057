//! Source-level debugging against an oracle no one on the project wrote: gdb.
//!
//! `samples/c/inventory.c` is built natively with gcc into a temporary directory; gdb runs it in
//! batch mode to fixed breakpoints and prints expressions; wdb's console does the same on the
//! wasm build (`samples/inventory-g.wasm`, `-O0 -g`), and every value must be equal (values
//! compared, not whitespace; addresses masked where native and wasm32 addresses differ). The
//! `-O2 -g` builds are compared the same way, except that wdb may answer `<optimized out>`
//! where it has no location: it must never print a different value.

use std::path::{Path, PathBuf};
use std::process::Command as Proc;
use std::time::{Duration, Instant};
use wdb::debugger::console::{Console, Wait};
use wdb::debugger::{Event, Session, SessionConfig};

const SOURCE: &str = include_str!("../samples/c/inventory.c");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Fails naming the Debian package when a tool the test drives is missing.
fn require(tool: &str, package: &str) {
    let found = Proc::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "`{tool}` is not installed: install the Debian package `{package}` (scripts/test.sh does)"
    );
}

/// 1-based line of the first line of the sample containing `text`.
fn line_of(text: &str) -> u32 {
    SOURCE
        .lines()
        .position(|l| l.contains(text))
        .map(|i| i as u32 + 1)
        .unwrap_or_else(|| panic!("no `{text}` in inventory.c"))
}

fn temp_dir(tag: &str) -> PathBuf {
    // Cargo's scratch directory for integration tests (under `target/`, reused by every run):
    // nothing is left behind in /tmp.
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("source-level-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The native build of the sample with gcc.
fn native(opt: &str) -> PathBuf {
    require("gcc", "gcc");
    let dir = temp_dir(opt);
    let exe = dir.join("inventory");
    let out = Proc::new("gcc")
        .args([opt, "-g", "-w", "-o"])
        .arg(&exe)
        .arg(root().join("samples/c/inventory.c"))
        .output()
        .expect("gcc runs");
    assert!(
        out.status.success(),
        "gcc failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// How a value is compared.
#[derive(Clone, Copy, PartialEq)]
enum Cmp {
    /// As printed.
    Exact,
    /// Addresses (`0x…`, `<sym+N>`) masked: native and wasm32 addresses differ.
    Addr,
    /// Addresses masked and gdb's ` <vtable for C+16>` after a vtable pointer dropped (wasm has
    /// no symbol for a vtable's address).
    Object,
}

/// A stop: where (`break` argument), then what to print there.
struct Stop {
    at: String,
    exprs: Vec<(&'static str, Cmp)>,
}

const MARK: &str = "@@wdb-expr ";

/// gdb's answer to each expression at the stop (the text after `$N = `, or `error: …`).
fn gdb_values(exe: &Path, stop: &Stop) -> Vec<String> {
    require("gdb", "gdb");
    // One `-ex` per command: an error in one does not end the script; stderr joins stdout
    // so that each error lands between its markers.
    let mut args: Vec<String> = [
        "set pagination off",
        "set width 0",
        "set confirm off",
        &format!("break {}", stop.at),
        "run",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (i, (e, _)) in stop.exprs.iter().enumerate() {
        args.push(format!("echo {MARK}{i}\\n"));
        args.push(command(e));
    }
    args.push(format!("echo {MARK}end\\n"));
    args.push("kill".into());
    let mut cmd = String::from("exec gdb -batch -nx");
    for a in &args {
        cmd.push_str(" -ex '");
        cmd.push_str(&a.replace('\'', "'\\''"));
        cmd.push('\'');
    }
    cmd.push_str(&format!(" '{}' 2>&1", exe.display()));
    let out = Proc::new("sh")
        .args(["-c", &cmd])
        .output()
        .expect("gdb runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    split_answers(&stdout, stop.exprs.len())
        .into_iter()
        .map(|v| {
            let first = v.lines().next().unwrap_or("");
            let is_error = !v.is_empty()
                && !v.contains(" = ")
                && !first.starts_with("type = ")
                && (first.starts_with("No symbol")
                    || first.starts_with("There is no member")
                    || first.starts_with("Cannot access")
                    || first.starts_with("Attempt to")
                    || first.starts_with("A syntax error")
                    || first.starts_with("Division by zero")
                    || first.starts_with("Invalid cast")
                    || first.starts_with("value has been optimized out")
                    || first.starts_with("Argument to arithmetic"));
            if is_error {
                format!("error: {v}")
            } else {
                v
            }
        })
        .collect()
}

/// `print/x E` for `/x E`, `info locals` as is, else `print E`.
fn command(e: &str) -> String {
    if e.starts_with("info ") || e.starts_with("ptype ") || e.starts_with("whatis ") {
        e.to_string()
    } else if let Some(rest) = e.strip_prefix('/') {
        format!("print/{rest}")
    } else {
        format!("print {e}")
    }
}

/// The text between the markers, `$N = ` dropped.
fn split_answers(out: &str, n: usize) -> Vec<String> {
    let mut answers = vec![String::new(); n];
    let mut current: Option<usize> = None;
    for line in out.lines() {
        if let Some(tag) = line.strip_prefix(MARK) {
            current = tag.parse().ok();
            continue;
        }
        if let Some(i) = current {
            if i < n {
                let line = strip_history(line);
                if !answers[i].is_empty() {
                    answers[i].push('\n');
                }
                answers[i].push_str(&line);
            }
        }
    }
    answers
}

fn strip_history(line: &str) -> String {
    if let Some(rest) = line.strip_prefix('$') {
        if let Some((n, v)) = rest.split_once(" = ") {
            if n.chars().all(|c| c.is_ascii_digit()) {
                return v.to_string();
            }
        }
    }
    line.to_string()
}

/// Runs one console line to completion, returning its text.
fn run(session: &Session, console: &mut Console, line: &str) -> Vec<String> {
    let (mut out, wait) = console.execute(session, line);
    let mut wait = wait;
    let deadline = Instant::now() + Duration::from_secs(60);
    if wait == Wait::Nothing {
        // Messages answering engine commands that need no wait (`break`).
        while let Some(ev) = session.recv_timeout(Duration::from_millis(50)) {
            out.extend(console.render_event(session, &ev));
        }
        return out;
    }
    while Instant::now() < deadline {
        let Some(ev) = session.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        if matches!(ev, Event::Output { .. } | Event::TierProgress { .. }) {
            continue;
        }
        if matches!(ev, Event::Paused(_)) && wait != Wait::Stop {
            // The refreshed pause after `set var`: remembered quietly, as the batch console does.
            console.render_event(session, &ev);
            continue;
        }
        out.extend(console.render_event(session, &ev));
        match (&ev, wait) {
            (Event::Paused(_), Wait::Stop) if console.take_displays_due() => wait = Wait::Answer,
            (Event::Paused(_) | Event::Ended { .. }, Wait::Stop) => return out,
            (Event::Message(_) | Event::Error(_), Wait::Answer) => return out,
            _ => {}
        }
    }
    panic!("no answer to `{line}`: {out:?}");
}

fn start(wasm: &str) -> (Session, Console) {
    let path = root().join("samples").join(wasm);
    let s = Session::start(SessionConfig {
        name: path.display().to_string(),
        wasm: std::fs::read(&path).unwrap(),
        ..SessionConfig::default()
    })
    .expect("session starts");
    let mut c = Console::new();
    // The entry stop.
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(ev) = s.recv_timeout(Duration::from_millis(50)) {
            c.render_event(&s, &ev);
            if matches!(ev, Event::Paused(_)) {
                return (s, c);
            }
        }
    }
    panic!("no entry stop");
}

/// wdb's answer to each expression at the stop.
fn wdb_values(wasm: &str, stop: &Stop) -> Vec<String> {
    let (s, mut c) = start(wasm);
    let set = run(&s, &mut c, &format!("break {}", stop.at));
    assert!(
        set.iter().any(|l| l.starts_with("Breakpoint ")),
        "{wasm}: break {}: {set:?}",
        stop.at
    );
    let stopped = run(&s, &mut c, "continue");
    assert!(
        stopped
            .iter()
            .any(|l| l.starts_with("Stopped (breakpoint ")),
        "{wasm}: no stop at {}: {stopped:?}",
        stop.at
    );
    stop.exprs
        .iter()
        .map(|(e, _)| {
            let lines: Vec<String> = run(&s, &mut c, &command(e))
                .iter()
                .map(|l| strip_history(l))
                .collect();
            lines.join("\n")
        })
        .collect()
}

/// Whitespace-insensitive, with addresses masked for `Cmp::Addr`.
fn normalize(v: &str, cmp: Cmp) -> String {
    let mut s: String = v.split_whitespace().collect::<Vec<_>>().join(" ");
    if cmp == Cmp::Object {
        while let Some(i) = s.find(" <vtable for ") {
            let end = s[i..].find('>').map_or(s.len(), |e| i + e + 1);
            s.replace_range(i..end, "");
        }
    }
    if cmp != Cmp::Exact {
        let mut out = String::new();
        let mut rest = s.as_str();
        while let Some(i) = rest.find("0x") {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 2..];
            let n = tail
                .find(|c: char| !c.is_ascii_hexdigit())
                .unwrap_or(tail.len());
            out.push_str("ADDR");
            rest = &tail[n..];
        }
        out.push_str(rest);
        // `<pool+48>` natively is `<pool+40>` on wasm32 (8-byte pointers in the struct).
        let mut masked = String::new();
        let mut rest = out.as_str();
        while let Some(i) = rest.find('<') {
            masked.push_str(&rest[..i]);
            let tail = &rest[i..];
            let end = tail.find('>').map(|e| e + 1).unwrap_or(tail.len());
            let sym = &tail[..end];
            match sym.split_once('+') {
                Some((name, _)) if !sym.contains(' ') => masked.push_str(&format!("{name}+N>")),
                _ => masked.push_str(sym),
            }
            rest = &tail[end..];
        }
        masked.push_str(rest);
        s = masked;
    }
    s
}

fn o0_stops() -> Vec<Stop> {
    use Cmp::*;
    vec![
        Stop {
            at: format!("inventory.c:{}", line_of("fill_board(&board);")),
            exprs: vec![
                ("settings", Addr),
                ("*a", Addr),
                ("a->name", Exact),
                ("a->fl", Exact),
                ("b->fl.level", Exact),
                ("a->tag", Exact),
                ("c->tag", Exact),
                ("c->tag.f", Exact),
                ("c->tag.bytes", Exact),
                ("a->price * 2", Exact),
                ("-a->count", Exact),
                ("board", Exact),
                ("ratio", Exact),
                ("pi_ish", Exact),
                ("big_total", Exact),
                ("initial", Exact),
                ("machine", Exact),
                ("port", Exact),
                ("/x port", Exact),
                ("/d initial", Exact),
                ("/c 65", Exact),
                ("/x -1", Exact),
                ("/u (char)-1", Exact),
                ("greeting", Addr),
                ("*greeting", Exact),
                ("greeting[4]", Exact),
                ("a->next->name", Exact),
                ("a->next->next->count", Exact),
                ("a->next->next->next", Addr),
                ("a", Addr),
                ("pool[1].cat", Exact),
                ("pool[3]", Addr),
                ("pool_used", Exact),
                ("sizeof(struct flags)", Exact),
                ("sizeof(union number)", Exact),
                ("sizeof(board)", Exact),
                ("sizeof board.cells[0]", Exact),
                ("'A' + 1", Exact),
                ("10 / 3", Exact),
                ("10 % 3", Exact),
                ("7 / 2.0", Exact),
                ("1 << 4", Exact),
                ("a->count == 3 && b->count > 30", Exact),
                ("a->count < b->count ? 1 : 2", Exact),
                ("(int)pi_ish", Exact),
                ("(unsigned char)300", Exact),
                ("(short)-1", Exact),
                ("(float)1 / 3", Exact),
                ("ticks", Exact),
                ("CAT_PART", Exact),
                ("CAT_PART | CAT_SPARE", Exact),
                ("(enum category)6", Exact),
                ("&pool[1]", Addr),
                ("*&pool[2].count", Exact),
                ("&board.cells[1][2]", Addr),
                ("board.cells[1]", Exact),
                ("*pool[0].name@3", Exact),
                ("settings.last_label", Exact),
                ("pool[1].price + pool[2].price", Exact),
                ("b->count * b->price", Exact),
                ("!a->count", Exact),
                ("~a->count", Exact),
                ("(a->fl.shelf + 1) * 3", Exact),
                ("whatis a", Exact),
                ("whatis board.cells", Exact),
                ("whatis a->fl", Exact),
                ("whatis &board.cells[1]", Exact),
                ("whatis settings.title", Exact),
                ("ptype a->fl", Exact),
                ("ptype union number", Exact),
                ("ptype enum category", Exact),
                ("ptype u32", Exact),
                ("info locals", Addr),
                ("nosuch", Exact),
            ],
        },
        Stop {
            at: format!("inventory.c:{}", line_of("/* line STOCK_VALUE */")),
            exprs: vec![
                ("total", Exact),
                ("p->count", Exact),
                ("min_count", Exact),
                ("*p", Addr),
                ("p->count * p->price", Exact),
                ("head->name", Exact),
                ("p == head", Exact),
                ("p->next->next - p", Exact),
                ("info args", Addr),
                ("info locals", Addr),
            ],
        },
        Stop {
            // A condition on locals of two nested blocks.
            at: format!(
                "inventory.c:{} if r == 1 && c == 2",
                line_of("g->cells[r][c] = (short)(r * 10 + c);")
            ),
            exprs: vec![
                ("r", Exact),
                ("c", Exact),
                ("g->total", Exact),
                ("*g", Exact),
                ("g->cells[0]", Exact),
                ("g->cells[1][1] + g->cells[0][3]", Exact),
            ],
        },
        Stop {
            at: format!("inventory.c:{}", line_of("it->count += amount;")),
            exprs: vec![
                ("settings.last_label", Exact),
                ("settings.reorder_level", Exact),
                ("it->count", Exact),
                ("amount", Exact),
                ("label", Addr),
                ("i", Exact),
                ("*it", Addr),
            ],
        },
        Stop {
            at: format!("inventory.c:{}", line_of("/* line REPORT */")),
            exprs: vec![
                ("n", Exact),
                ("value", Exact),
                ("settings.reorder_level", Exact),
                ("*g", Exact),
                ("g->cells[2]", Exact),
                ("settings", Addr),
            ],
        },
    ]
}

fn compare(wasm: &str, exe: &Path, stops: &[Stop], optimized: bool) -> usize {
    let mut compared = 0;
    let mut failures = Vec::new();
    for stop in stops {
        let want = gdb_values(exe, stop);
        let got = wdb_values(wasm, stop);
        for (((e, cmp), g), w) in stop.exprs.iter().zip(&got).zip(&want) {
            let (gn, wn) = (normalize(g, *cmp), normalize(w, *cmp));
            if w.starts_with("error:") || (optimized && w.contains("<optimized out>")) {
                // gdb has no value: wdb must not invent one (an error or optimized out).
                if !optimized {
                    let ok = g.starts_with("error:");
                    if !ok {
                        failures.push(format!("{} `{e}`: gdb: {w}\n  wdb: {g}", stop.at));
                    }
                }
                continue;
            }
            // No location in wdb: `<optimized out>`, or an error saying so when an operand is.
            let gone = (gn.contains("<optimized out>") && !gn.contains('{'))
                || (g.starts_with("error:") && g.contains("optimized out"));
            if optimized && gone {
                continue;
            }
            compared += 1;
            if gn != wn {
                failures.push(format!("{} `{e}`:\n  gdb: {wn}\n  wdb: {gn}", stop.at));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{wasm}: {} of the values differ from gdb's:\n{}",
        failures.len(),
        failures.join("\n")
    );
    compared
}

#[test]
fn print_equals_gdb_at_o0() {
    let exe = native("-O0");
    let n = compare("inventory-g.wasm", &exe, &o0_stops(), false);
    assert!(n > 80, "only {n} values compared");
}

fn o2_stops() -> Vec<Stop> {
    use Cmp::*;
    let globals = [
        ("settings", Addr),
        ("board", Exact),
        ("pool[1]", Addr),
        ("pool[0].count", Exact),
        ("ticks", Exact),
        ("greeting", Addr),
        ("settings.reorder_level", Exact),
        ("board.cells[2][3] * 2", Exact),
    ];
    // Globals are compared where both compilers must have stored them: at a call to printf
    // (external code may read them) and after it; in the middle of restock() gcc and clang
    // order the stores of the label loop differently, so only locals are compared there.
    let at = |text: &str, with_globals: bool, locals: &[&'static str]| Stop {
        at: format!("inventory.c:{}", line_of(text)),
        exprs: globals
            .iter()
            .copied()
            .filter(|_| with_globals)
            .chain(locals.iter().map(|l| (*l, Exact)))
            .collect(),
    };
    vec![
        at(
            "/* line REPORT */",
            true,
            &["n", "value", "g->total", "head->count"],
        ),
        at(
            "it->count += amount;",
            false,
            &["amount", "it->count", "i", "label[0]"],
        ),
        at(
            "/* line STOCK_VALUE */",
            true,
            &["total", "p->count", "min_count"],
        ),
    ]
}

#[test]
fn optimized_code_prints_no_wrong_value() {
    let exe = native("-O2");
    let n = compare("inventory-O2g.wasm", &exe, &o2_stops(), true);
    assert!(n > 10, "only {n} values compared");
}

/// Runs `lines` in a fresh session; returns each line's output.
fn session(wasm: &str, lines: &[&str]) -> Vec<Vec<String>> {
    let (s, mut c) = start(wasm);
    lines.iter().map(|l| run(&s, &mut c, l)).collect()
}

fn one(out: &[String]) -> &str {
    assert_eq!(out.len(), 1, "{out:?}");
    &out[0]
}

#[test]
fn backtrace_display_set_var_and_conditions() {
    let line = line_of("/* line STOCK_VALUE */");
    let report = line_of("double value = stock_value(head, 2);");
    let out = session(
        "inventory-g.wasm",
        &[
            &format!("break inventory.c:{line} if p->count > 30 && p->cat == CAT_PART"),
            "info breakpoints",
            "continue",
            "print p->name",
            "bt",
            "display total",
            "display/x p->count",
            "next",
            "undisplay 1",
            "next",
            "set var p->count = 99",
            "print p->count",
            "print p->fl.level = -2",
            "print p->fl",
            "print/x p->fl",
            "print nosuch + 1",
            "print p->nofield",
            "print 1 +",
            "print (struct nosuch *)p",
            "info args",
        ],
    );
    assert!(
        out[1]
            .iter()
            .any(|l| l.contains("if p->count > 30 && p->cat == CAT_PART")),
        "{:?}",
        out[1]
    );
    assert!(
        out[2][0].starts_with("Stopped (breakpoint 1) in stock_value"),
        "{:?}",
        out[2]
    );
    assert_eq!(
        strip_history(one(&out[3])),
        "\"bolt\\000\\000\\000\\000\\000\\000\\000\""
    );
    let bt = &out[4];
    assert!(
        bt[0].starts_with("#0  stock_value (head=0x")
            && bt[0].ends_with(&format!(" <pool>, min_count=2) at inventory.c:{line}")),
        "{bt:?}"
    );
    assert!(
        bt[1].contains(" in report (head=0x")
            && bt[1].contains(" <pool>, g=0x")
            && bt[1].ends_with(&format!(" <board>) at inventory.c:{report}")),
        "{bt:?}"
    );
    assert_eq!(one(&out[5]), "1: total = 37.5");
    assert_eq!(one(&out[6]), "2: /x p->count = 0x32");
    // Each stop shows the displays after the stop's lines.
    let next = &out[7];
    assert!(next[0].starts_with("Stopped (step)"), "{next:?}");
    assert_eq!(
        &next[next.len() - 2..],
        ["1: total = 50", "2: /x p->count = 0x32"]
    );
    assert!(out[8].is_empty(), "{:?}", out[8]);
    assert!(
        out[9].iter().all(|l| !l.starts_with("1:"))
            && out[9].last().unwrap().starts_with("2: /x p->count"),
        "{:?}",
        out[9]
    );
    assert_eq!(one(&out[10]), "p->count = 99");
    assert_eq!(strip_history(one(&out[11])), "99");
    assert_eq!(strip_history(one(&out[12])), "-2");
    assert_eq!(
        strip_history(one(&out[13])),
        "{fragile = 0, heavy = 0, shelf = 5, level = -2}"
    );
    assert_eq!(
        strip_history(one(&out[14])),
        "{fragile = 0x0, heavy = 0x0, shelf = 0x5, level = 0x1e}"
    );
    assert_eq!(
        one(&out[15]),
        "error: no symbol `nosuch` in the current context (column 1)"
    );
    assert_eq!(
        one(&out[16]),
        "error: there is no member named `nofield` in `const struct item` (column 2)"
    );
    assert_eq!(one(&out[17]), "error: expected an expression (column 4)");
    assert_eq!(
        one(&out[18]),
        "error: no type named `struct nosuch` (column 2)"
    );
    assert!(
        out[19][0].starts_with("head = 0x") && out[19][1] == "min_count = 2",
        "{:?}",
        out[19]
    );
}

#[test]
fn the_overwritten_global_is_seen_from_report() {
    let out = session(
        "inventory-g.wasm",
        &[
            &format!("break inventory.c:{}", line_of("/* line REPORT */")),
            "continue",
            "print settings.reorder_level",
            "print settings.last_label",
            "print/x *(int *)&settings.reorder_level",
            "print &settings.reorder_level == (int *)(settings.last_label + 8)",
        ],
    );
    assert_eq!(strip_history(one(&out[2])), "0");
    assert_eq!(strip_history(one(&out[3])), "\"bolt\\000\\000\\000\"");
    assert_eq!(strip_history(one(&out[4])), "0x0");
    assert_eq!(strip_history(one(&out[5])), "1");
}

#[test]
fn cplus_classes_namespaces_and_references() {
    let src = include_str!("../samples/c/shapes.cpp");
    let line = |t: &str| src.lines().position(|l| l.contains(t)).unwrap() + 1;
    let out = session(
        "shapes-g.wasm",
        &[
            &format!("break shapes.cpp:{}", line("// line RECT_AREA")),
            "continue",
            "print *this",
            "print width * height",
            "print a",
            "print geo::Shape::count",
            "print this->origin",
            "print this->kind",
            "ptype this",
            "info locals",
        ],
    );
    let this = strip_history(one(&out[2]));
    assert!(
        this.starts_with("{<geo::Shape> = {_vptr$Shape = 0x")
            && this.ends_with(
                "kind = geo::Kind::Rect, origin = {x = 1, y = 2}, next = 0x0, static count = 2, \
                 static _vtable$ = <optimized out>}, width = 3, height = 4, \
                 static _vtable$ = <optimized out>}"
            ),
        "{this}"
    );
    assert_eq!(strip_history(one(&out[3])), "12");
    assert_eq!(strip_history(one(&out[4])), "12");
    assert_eq!(strip_history(one(&out[5])), "2");
    assert_eq!(strip_history(one(&out[6])), "{x = 1, y = 2}");
    assert_eq!(strip_history(one(&out[7])), "geo::Kind::Rect");
    assert!(
        out[8][0].starts_with("type = const class geo::Rect : public geo::Shape {"),
        "{:?}",
        out[8]
    );
    assert!(out[8].iter().any(|l| l == "    int width;"), "{:?}", out[8]);
    assert_eq!(one(&out[9]), "a = 12");

    let out = session(
        "shapes-g.wasm",
        &[
            &format!("break shapes.cpp:{}", line("// line SHIFT")),
            "continue",
            "info args",
            "print p.x + dx",
            "set var moves = 7",
            "print moves",
            "whatis p",
            "bt",
        ],
    );
    assert_eq!(out[2], ["p = {x = 1, y = 2}", "dx = 3", "moves = 1"]);
    assert_eq!(strip_history(one(&out[3])), "4");
    assert_eq!(one(&out[4]), "moves = 7");
    assert_eq!(strip_history(one(&out[5])), "7");
    assert_eq!(one(&out[6]), "type = const geo::Point");
    // References to aggregates show as `...` in frames, as gdb's default.
    assert!(
        out[7][0].starts_with("#0  shift(") && out[7][0].contains("(p=..., dx=3, moves=7)"),
        "{:?}",
        out[7]
    );
}

/// The line gdb puts `break FUNC` on in the native build (`Breakpoint 1 at …: file …, line N.`).
fn gdb_break_line(exe: &Path, func: &str) -> u32 {
    require("gdb", "gdb");
    let out = Proc::new("gdb")
        .args(["-batch", "-nx", "-ex"])
        .arg(format!("break {func}"))
        .arg(exe)
        .output()
        .expect("gdb runs");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    text.split(", line ")
        .nth(1)
        .and_then(|t| t.split('.').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line in gdb's answer to `break {func}`: {text}"))
}

/// `break FUNC` stops past the prologue, on the line gdb stops on, with the parameters' values
/// gdb shows there (before the prologue they are still 0).
#[test]
fn break_on_a_function_skips_the_prologue_as_gdb_does() {
    use Cmp::*;
    let exe = native("-O0");
    let funcs = ["stock_value", "restock", "new_item", "list_length"];
    for func in funcs {
        let want = gdb_break_line(&exe, func);
        let out = session("inventory-g.wasm", &[&format!("break {func}"), "continue"]);
        assert!(
            out[0][0].ends_with(&format!("inventory.c:{want}")),
            "break {func}: gdb says line {want}: {:?}",
            out[0]
        );
        assert!(
            out[1][0].starts_with(&format!("Stopped (breakpoint 1) in {func} "))
                && out[1][0].contains(&format!(", inventory.c:{want} ")),
            "break {func}: gdb stops at line {want}: {:?}",
            out[1]
        );
    }
    let stops: Vec<Stop> = [
        (
            "stock_value",
            vec![
                ("info args", Addr),
                ("min_count", Exact),
                ("head->name", Exact),
            ],
        ),
        (
            "restock",
            vec![("info args", Addr), ("amount", Exact), ("*it", Addr)],
        ),
        (
            "new_item",
            vec![
                ("info args", Addr),
                ("count", Exact),
                ("price", Exact),
                ("cat", Exact),
            ],
        ),
        ("list_length", vec![("head->next->name", Exact)]),
    ]
    .into_iter()
    .map(|(at, exprs)| Stop {
        at: at.to_string(),
        exprs,
    })
    .collect();
    let n = compare("inventory-g.wasm", &exe, &stops, false);
    assert!(n >= 11, "only {n} values compared");
}

/// The C++ sample built natively with clang++ (the compiler of the wasm build, so that the
/// DWARF has the same shape: `_vptr$Shape`, the artificial `_vtable$` statics).
fn native_cpp(tag: &str) -> PathBuf {
    require("clang++-22", "clang-22");
    let dir = temp_dir(tag);
    let exe = dir.join("shapes");
    let out = Proc::new("clang++-22")
        .args(["-O0", "-g", "-w", "-o"])
        .arg(&exe)
        .arg(root().join("samples/c/shapes.cpp"))
        .output()
        .expect("clang++-22 runs");
    assert!(
        out.status.success(),
        "clang++-22 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

/// Objects of derived classes as gdb prints them: base parts as `{<geo::Shape> = {…}, …}`,
/// static members in place, members of a base through the derived object, casts to a base.
#[test]
fn cplus_base_classes_equal_gdb() {
    use Cmp::*;
    let exe = native_cpp("cpp");
    let src = include_str!("../samples/c/shapes.cpp");
    let line = |t: &str| src.lines().position(|l| l.contains(t)).unwrap() + 1;
    let stops = vec![
        Stop {
            at: format!("shapes.cpp:{}", line("double total = total_area(&c);")),
            exprs: vec![
                ("c", Object),
                ("r", Object),
                ("c.origin", Exact),
                ("c.origin.x + c.radius", Exact),
                ("r.kind", Exact),
                ("r.origin.y * r.width", Exact),
                ("c.count", Exact),
                ("r.count + 1", Exact),
                ("(geo::Shape)r", Object),
                ("*c.next", Object),
                ("((geo::Shape *)&r)->origin", Exact),
                ("*(geo::Rect *)c.next", Object),
                ("((geo::Rect *)c.next)->height", Exact),
                ("whatis c.origin", Exact),
                ("whatis (geo::Shape)c", Exact),
                ("c.nosuch", Exact),
            ],
        },
        Stop {
            at: format!("shapes.cpp:{}", line("// line RECT_AREA")),
            exprs: vec![
                ("*this", Object),
                ("this->origin", Exact),
                ("origin.x + width", Exact),
                ("kind", Exact),
                ("count", Exact),
                ("height * 2", Exact),
            ],
        },
    ];
    let n = compare("shapes-g.wasm", &exe, &stops, false);
    assert!(n >= 20, "only {n} values compared");
}

/// `ptype` of C++ classes as gdb writes it: the keyword, bases with their access, data members
/// under access labels (`_vptr` hidden, clang's private `_vtable$` shown as gdb shows it), a blank
/// line, then the member functions (`virtual`, `const`, `(void)`; implicit ones hidden).
#[test]
fn cplus_ptype_equals_gdb() {
    use Cmp::*;
    let exe = native_cpp("cpp-ptype");
    let src = include_str!("../samples/c/shapes.cpp");
    let line = |t: &str| src.lines().position(|l| l.contains(t)).unwrap() + 1;
    let stops = vec![
        Stop {
            at: format!("shapes.cpp:{}", line("// line RECT_AREA")),
            exprs: vec![
                ("ptype this", Exact),
                ("ptype *this", Exact),
                ("ptype geo::Shape", Exact),
                ("ptype geo::Circle", Exact),
                ("ptype geo::Point", Exact),
                ("ptype this->origin", Exact),
                ("ptype this->next", Exact),
            ],
        },
        Stop {
            at: format!("shapes.cpp:{}", line("double total = total_area(&c);")),
            exprs: vec![
                ("ptype c", Exact),
                ("ptype r", Exact),
                ("ptype &c", Exact),
                ("ptype start", Exact),
                ("ptype geo::Kind", Exact),
                ("ptype c.kind", Exact),
            ],
        },
    ];
    let n = compare("shapes-g.wasm", &exe, &stops, false);
    assert!(n >= 11, "only {n} values compared");
}
