//! End to end: the real `wdb debug` terminal UI driven through tmux. Opens a
//! program, sets breakpoints from the command line (by name and by a byte
//! offset read off the code pane), continues, steps, shows native code
//! under wasm (`m`, every tier), opens a struct in the Variables pane,
//! switches to profile mode and quits, reading the screen with `tmux
//! capture-pane` after each step; on vector code, `L` switches the lane
//! shape of `v128` values; F6 attaches to a running loop and `s` steps that
//! frame. Fails, naming the package, when tmux is not installed.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

const WIDTH: u16 = 160;
const HEIGHT: u16 = 48;
/// Generous: CI machines are slow and profile mode compiles every function.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A tmux server of its own (own socket, no user config) running one command.
struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn tmux(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"]);
        c
    }

    /// Starts `wdb debug ARGS` in a 160×48 window; after wdb exits the
    /// shell prints its exit status and stays, so the screen can be read.
    fn start(tag: &str, args: &[&str]) -> Tmux {
        let t = Tmux {
            socket: format!("wdb-tui-test-{}-{tag}", std::process::id()),
            session: "wdb".into(),
        };
        let bin = env!("CARGO_BIN_EXE_wdb");
        let mut cmd = format!("'{bin}' debug");
        for a in args {
            cmd.push_str(&format!(" '{a}'"));
        }
        let script = format!("{cmd}; echo wdb-exit-status=$?; sleep 600");
        let status = t
            .tmux()
            .args(["new-session", "-d", "-s", &t.session])
            .args(["-x", &WIDTH.to_string(), "-y", &HEIGHT.to_string()])
            .arg("-c")
            .arg(repo_root())
            .args(["sh", "-c", &script])
            .status()
            .expect("run tmux");
        assert!(status.success(), "tmux new-session failed");
        t
    }

    fn capture(&self) -> String {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-t", &self.session])
            .output()
            .expect("tmux capture-pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Types text literally.
    fn text(&self, s: &str) {
        let ok = self
            .tmux()
            .args(["send-keys", "-t", &self.session, "-l", s])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux send-keys -l {s:?}");
    }

    /// Sends tmux key names (`Enter`, `F5`, `q`).
    fn keys(&self, keys: &[&str]) {
        let ok = self
            .tmux()
            .args(["send-keys", "-t", &self.session])
            .args(keys)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "tmux send-keys {keys:?}");
    }

    /// A `:` command line.
    fn command(&self, line: &str) {
        self.text(":");
        sleep(Duration::from_millis(100));
        self.text(line);
        sleep(Duration::from_millis(100));
        self.keys(&["Enter"]);
    }

    /// Waits until the screen satisfies `pred`; fails with the screen.
    fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.capture();
            if pred(&screen) {
                return screen;
            }
            if screen.contains("wdb-exit-status=") {
                panic!("wdb exited while waiting for {what}; the screen:\n{screen}");
            }
            if start.elapsed() > TIMEOUT {
                panic!("timed out waiting for {what}; the screen:\n{screen}");
            }
            sleep(Duration::from_millis(150));
        }
    }

    fn wait_text(&self, needle: &str) -> String {
        self.wait_for(&format!("`{needle}`"), |s| s.contains(needle))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn have_tmux() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Module offsets shown in the disassembly (the left column, where the code
/// pane is), with their screen rows and whether it is the pc line: a marker
/// cell (' ', '▶', '▷'), spaces, `0x…`, one space, an instruction.
fn disas_offsets(screen: &str) -> Vec<(usize, u32, bool)> {
    let left = usize::from(WIDTH) * 55 / 100;
    let mut v = Vec::new();
    for (row, line) in screen.lines().enumerate() {
        let chars: Vec<char> = line.chars().take(left).collect();
        let mut i = 0;
        while i + 2 < chars.len() {
            let starts = chars[i] == '0'
                && chars[i + 1] == 'x'
                && i > 0
                && chars[i - 1] == ' '
                && (i < 2 || matches!(chars[i - 2], ' ' | '▶' | '▷'));
            if starts {
                let hex: String = chars[i + 2..]
                    .iter()
                    .take_while(|c| c.is_ascii_hexdigit())
                    .collect();
                let after = chars.get(i + 2 + hex.len()).copied();
                // The instruction follows after its indentation.
                let then = chars[i + 2 + hex.len()..]
                    .iter()
                    .find(|c| **c != ' ')
                    .copied();
                if !hex.is_empty()
                    && after == Some(' ')
                    && then.is_some_and(|c| c.is_ascii_lowercase())
                {
                    if let Ok(off) = u32::from_str_radix(&hex, 16) {
                        let pc = chars[..i].iter().rev().take(10).any(|c| *c == '▶');
                        v.push((row, off, pc));
                    }
                }
                i += 2 + hex.len();
            } else {
                i += 1;
            }
        }
    }
    v
}

/// A wasm instruction line of the code pane (`0x10e i32.add`) directly
/// followed by a native instruction (`0x7f… <+16> mov eax, …`).
fn native_under_wasm(screen: &str) -> bool {
    let left = usize::from(WIDTH) * 55 / 100;
    let rows: Vec<String> = screen
        .lines()
        .map(|l| l.chars().take(left).collect())
        .collect();
    let is_wasm = |l: &str| {
        l.split_whitespace()
            .skip_while(|w| !w.starts_with("0x"))
            .take(2)
            .collect::<Vec<_>>()
            .as_slice()
            .last()
            .is_some_and(|w| w.contains('.') || *w == "block" || *w == "loop")
    };
    let is_native = |l: &str| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words.windows(3).any(|w| {
            w[0].starts_with("0x")
                && w[1].starts_with("<+")
                && w[1].ends_with('>')
                && w[2]
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
    };
    rows.windows(2)
        .any(|w| is_wasm(&w[0]) && !is_native(&w[0]) && is_native(&w[1]))
}

/// The row after the "operand stack" heading holds a value (not "(empty)").
fn stack_has_values(screen: &str) -> bool {
    let lines: Vec<&str> = screen.lines().collect();
    lines.iter().enumerate().any(|(i, l)| {
        l.contains("operand stack")
            && lines
                .get(i + 1)
                .is_some_and(|next| next.contains('▸') && !next.contains("(empty)"))
    })
}

#[test]
fn debug_session_in_tmux() {
    assert!(
        have_tmux(),
        "tui_tmux: tmux is not installed: install the Debian package `tmux` \
         (scripts/test.sh does so on a fresh machine)"
    );

    // `wdb debug` with no file opens the bundled sample; it comes up and quits.
    {
        let t = Tmux::start("nofile", &[]);
        t.wait_for("the status bar", |s| {
            s.contains("DEBUG — tiered down") || s.contains("RUNNING")
        });
        t.keys(&["q"]);
        let s = t.wait_text("wdb-exit-status=");
        assert!(s.contains("wdb-exit-status=0"), "{s}");
    }

    // The debugging walkthrough on the -O0 -g build (DWARF, `mean` not inlined).
    let t = Tmux::start("debugme", &["samples/debugme-g.wasm"]);
    t.wait_text("DEBUG — tiered down");

    t.command("break mean");
    t.command("info breakpoints");
    t.wait_for("breakpoint on mean in the Breakpoints pane", |s| {
        s.lines().any(|l| l.contains('●') && l.contains("mean"))
    });

    t.keys(&["c"]);
    let screen = t.wait_for("the stop at the breakpoint in mean", |s| {
        s.lines()
            .last_non_empty()
            .is_some_and(|l| l.contains("breakpoint") && l.contains("mean"))
    });

    // A byte offset off the code pane: a few instructions after the pc.
    let offsets = disas_offsets(&screen);
    let pc_at = offsets.iter().position(|(_, _, pc)| *pc);
    let pick = pc_at
        .and_then(|i| offsets.get(i + 3).or(offsets.get(i + 1)))
        .or(offsets.last())
        .map(|(_, off, _)| *off)
        .unwrap_or_else(|| panic!("no offsets in the code pane:\n{screen}"));
    let hex = format!("{pick:#x}");
    t.command(&format!("break {hex}"));
    t.wait_for(&format!("a breakpoint marker at {hex}"), |s| {
        s.lines()
            .any(|l| l.contains(&format!("{hex} ")) && l.contains('●'))
    });

    // Instruction steps (the disassembly side active) fill the operand stack.
    t.keys(&["v"]);
    let mut filled = false;
    for step in 0..10 {
        t.keys(&["s"]);
        sleep(Duration::from_millis(300));
        let s = t.wait_for("the step to finish", |s| {
            s.lines()
                .last_non_empty()
                .is_some_and(|l| l.contains("step") || l.contains("breakpoint"))
        });
        if step >= 2 && stack_has_values(&s) {
            filled = true;
            break;
        }
    }
    let s = t.capture();
    assert!(
        filled,
        "no values on the operand stack after stepping:\n{s}"
    );
    assert!(s.contains("i32"), "{s}");

    // `m`: native instructions under each wasm instruction of the debug
    // code the frame runs; then the optimized code of the same function.
    t.command("disas /m");
    let s = t.wait_for("native code under wasm instructions", native_under_wasm);
    assert!(s.contains("native baseline·debug"), "{s}");
    // `m` (the code pane has the focus now) hides it and shows it again.
    t.keys(&["m"]);
    t.wait_for("native code hidden", |s| {
        !s.contains(" · native ") && !native_under_wasm(s)
    });
    t.keys(&["m"]);
    t.wait_for("native code shown by m", |s| {
        s.contains("native baseline·debug") && native_under_wasm(s)
    });
    t.command("disas /m mean tier=optimized");
    let s = t.wait_for("optimized code of mean", |s| {
        s.contains("native optimized") && native_under_wasm(s)
    });
    assert!(!s.contains("native baseline·debug"), "{s}");
    t.command("disas /m mean tier=baseline");
    t.wait_for("baseline code of mean", |s| {
        s.contains("native baseline ") && native_under_wasm(s)
    });
    t.keys(&["m"]);
    t.wait_for("native code hidden", |s| {
        !s.contains(" · native ") && !native_under_wasm(s)
    });

    // The Variables pane (Tab from the code pane) at debugme.c:75: `ds`
    // opens with → into the struct it points to, ← closes it again.
    t.command("break debugme.c:75");
    t.keys(&["c"]);
    t.wait_for("the stop at debugme.c:75", |s| {
        s.lines()
            .last_non_empty()
            .is_some_and(|l| l.contains("breakpoint 3"))
    });
    t.keys(&["Tab"]);
    t.wait_for("ds in the Variables pane", |s| {
        s.contains("Variables") && s.contains("▸ ds") && s.contains("0x11508")
    });
    t.keys(&["Right"]);
    // The children arrive with the next answer from the program thread.
    let s = t.wait_for("ds opened", |s| {
        s.contains("▾ ds") && s.contains("▸ values")
    });
    let rows: Vec<&str> = s.lines().collect();
    let at = rows
        .iter()
        .position(|l| l.contains("▾ ds"))
        .unwrap_or_else(|| panic!("{s}"));
    let below = rows[at + 1..].iter().take(2).copied().collect::<Vec<_>>();
    assert!(
        below
            .first()
            .is_some_and(|l| l.contains("▸ values") && l.contains("{12, 45, 7")),
        "{s}"
    );
    assert!(
        below
            .get(1)
            .is_some_and(|l| l.contains("count") && l.contains("16")),
        "{s}"
    );
    t.keys(&["Left"]);
    t.wait_for("ds closed", |s| s.contains("▸ ds") && !s.contains("▾ ds"));

    // Profile mode: everything tiered up.
    t.keys(&["p"]);
    t.wait_text("PROFILE — tiered up");
    t.wait_text("optimized");

    t.keys(&["q"]);
    let s = t.wait_text("wdb-exit-status=");
    assert!(s.contains("wdb-exit-status=0"), "{s}");
    assert!(
        !s.contains("PROFILE — tiered up"),
        "terminal not restored:\n{s}"
    );
}

/// Vector code: stopped in imgproc's auto-vectorized `sum`, its `v128`
/// locals show as hex and i32x4 lanes; `L` switches every value to the next
/// shape (named in the footer); `:info registers xmm2` shows all 128 bits.
#[test]
fn simd_lanes_in_tmux() {
    assert!(
        have_tmux(),
        "tui_tmux: tmux is not installed: install the Debian package `tmux` \
         (scripts/test.sh does so on a fresh machine)"
    );
    let t = Tmux::start("simd", &["samples/imgproc-g.wasm"]);
    t.wait_text("DEBUG — tiered down");
    t.command("break sum");
    t.keys(&["c"]);
    t.wait_for("the stop at the breakpoint in sum", |s| {
        s.lines()
            .last_non_empty()
            .is_some_and(|l| l.contains("breakpoint") && l.contains("sum"))
    });
    // Lanes first, then the hex (cut off in a narrow column).
    t.wait_for("v128 locals in i32x4 lanes", |s| {
        s.matches("v128 i32x4 [0 0 0 0] 0x000").count() == 2 && s.contains("L lanes i32x4")
    });
    t.keys(&["L"]);
    t.wait_for("v128 locals in i64x2 lanes", |s| {
        s.matches("v128 i64x2 [0 0] 0x000").count() == 2
            && s.contains("L lanes i64x2")
            && !s.contains("i32x4 [")
    });
    t.command("info registers xmm2");
    t.wait_for("xmm2 on the message line", |s| {
        s.lines()
            .any(|l| l.starts_with("xmm2  0x") && l.contains(" · i8x16 ["))
    });
    t.keys(&["q"]);
    let s = t.wait_text("wdb-exit-status=");
    assert!(s.contains("wdb-exit-status=0"), "{s}");
}

/// The function and offset the status bar names while paused
/// (`paused · sum_to 0x2f`).
fn status_stop(screen: &str) -> Option<(String, u32)> {
    let line = screen.lines().last_non_empty()?;
    let at = line.rfind(" · ")?;
    let mut words = line[at + " · ".len()..].split_whitespace();
    let func = words.next()?.to_string();
    let hex = words.next()?.strip_prefix("0x")?;
    Some((func, u32::from_str_radix(hex, 16).ok()?))
}

/// The attach flow of issue 11 in the terminal UI: F6 while `sum_to` runs
/// its long loop in optimized code pauses that very frame (on-stack
/// replacement into its debug code), and `s` then steps it instruction by
/// instruction: five steps stop at consecutive instructions of `sum_to`
/// (or back at the loop header after the back edge).
#[test]
fn attach_steps_the_running_frame_in_tmux() {
    assert!(
        have_tmux(),
        "tui_tmux: tmux is not installed: install the Debian package `tmux` \
         (scripts/test.sh does so on a fresh machine)"
    );
    let t = Tmux::start(
        "attach",
        &[
            "--run",
            "--tier",
            "optimized",
            "samples/loop.wat",
            "--invoke",
            "sum_to",
            "--",
            "2000000000",
        ],
    );
    t.wait_text("F6/^C pause");
    sleep(Duration::from_millis(300));
    t.keys(&["F6"]);
    let mut screen = t.wait_for("the pause in sum_to", |s| {
        status_stop(s).is_some_and(|(f, _)| f == "sum_to")
    });
    let frame0 = |s: &str, tier: &str| {
        s.lines()
            .any(|l| l.contains("#0  sum_to") && l.contains(tier))
    };
    assert!(
        frame0(&screen, "optimized"),
        "the pause lands in the running optimized frame:\n{screen}"
    );
    for step in 0..5 {
        let (_, pc) = status_stop(&screen).unwrap_or_else(|| panic!("{screen}"));
        let offsets: Vec<u32> = disas_offsets(&screen).iter().map(|o| o.1).collect();
        let next = offsets.iter().copied().find(|&o| o > pc);
        t.keys(&["s"]);
        screen = t.wait_for("the step to stop", |s| {
            status_stop(s).is_some_and(|(_, at)| at != pc)
        });
        let (func, at) = status_stop(&screen).unwrap_or_else(|| panic!("{screen}"));
        assert_eq!(func, "sum_to", "step {step} left the function:\n{screen}");
        assert!(
            frame0(&screen, "baseline·debug"),
            "step {step}: the frame should run debug code now:\n{screen}"
        );
        assert!(
            Some(at) == next || (at < pc && offsets.contains(&at)),
            "step {step}: {pc:#x} -> {at:#x}, expected the next instruction {next:x?} \
             or a branch back:\n{screen}"
        );
    }
    t.keys(&["q"]);
    let s = t.wait_text("wdb-exit-status=");
    assert!(s.contains("wdb-exit-status="), "{s}");
}

trait LastNonEmpty<'a> {
    fn last_non_empty(self) -> Option<&'a str>;
}

impl<'a, I: DoubleEndedIterator<Item = &'a str>> LastNonEmpty<'a> for I {
    fn last_non_empty(mut self) -> Option<&'a str> {
        self.rfind(|l| !l.trim().is_empty())
    }
}

#[test]
fn offsets_are_read_off_a_code_pane() {
    let screen =
        "│ ▶   0x10e i32.const 0     │\n│     0x112 local.set 2  │ 0x3 \n│●    0x116 block\n";
    let v = disas_offsets(screen);
    assert_eq!(
        v,
        vec![(0, 0x10e, true), (1, 0x112, false), (2, 0x116, false)]
    );
    assert!(stack_has_values(
        "operand stack (top first)\n[1]▸  i32  42  rcx\n"
    ));
    assert!(!stack_has_values("operand stack (top first)\n(empty)\n"));
    assert!(native_under_wasm(
        "│    0x10e i32.add        │\n│      0x7f00deadbeef <+16> add eax, ecx │\n"
    ));
    assert!(!native_under_wasm(
        "│    0x10e i32.add        │\n│    0x112 local.set 2 │\n"
    ));
    assert_eq!(
        status_stop(" DEBUG \n\n paused · sum_to 0x2f   F5/c cont\n"),
        Some(("sum_to".to_string(), 0x2f))
    );
}
