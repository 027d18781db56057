//! `wdb dap` driven by Microsoft's DebugClient (@vscode/debugadapter-testsupport)
//! under node's test runner: tests/npm/dap.test.mjs holds the scenarios. Fails,
//! naming what to install, when node or the npm packages are missing.

use std::path::Path;
use std::process::Command;

#[test]
fn debug_client_scenarios_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let npm = root.join("tests/npm");
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.map(|o| o.status.success()).unwrap_or(false),
        "`node` not found: install the Debian package nodejs (scripts/test.sh does)"
    );
    assert!(
        npm.join("node_modules/@vscode/debugadapter-testsupport").is_dir(),
        "tests/npm/node_modules is missing: run `npm ci` in tests/npm (scripts/test.sh does; Debian package npm)"
    );
    let out = Command::new("node")
        .args(["--test", "--test-reporter=spec", "dap.test.mjs"])
        .current_dir(&npm)
        .env("WDB", env!("CARGO_BIN_EXE_wdb"))
        .output()
        .expect("run node");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(
        out.status.success(),
        "DebugClient scenarios failed:\n{text}"
    );
    assert!(text.contains("pass 7"), "expected 7 passing tests:\n{text}");
}
