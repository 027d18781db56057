//! Judges a spec script's report against `tests/spec_expected_failures.txt`
//! (shared by the spec tests: `mod support;` in each).

use wdb::wast::WastReport;

/// The failures listed for `file` under `tier`, as `FILE:LINE` locations.
pub fn expected_failures(tier: &str, file: &str) -> Vec<String> {
    let text = include_str!("../spec_expected_failures.txt");
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let (t, loc) = (parts.next()?, parts.next()?);
            (t == tier && loc.starts_with(&format!("{file}:"))).then(|| loc.to_string())
        })
        .collect()
}

/// Fails the test on an unlisted failure, or on a listed failure that now
/// passes (the list must be kept exact).
pub fn assert_as_listed(file: &str, tier: &str, report: &WastReport) {
    let expected = expected_failures(tier, file);
    let listed = |f: &String| expected.iter().any(|loc| f.starts_with(&format!("{loc}:")));
    let unexpected: Vec<&str> = report
        .failures
        .iter()
        .filter(|f| !listed(f))
        .map(String::as_str)
        .collect();
    let fixed: Vec<&str> = expected
        .iter()
        .filter(|loc| {
            !report
                .failures
                .iter()
                .any(|f| f.starts_with(&format!("{loc}:")))
        })
        .map(String::as_str)
        .collect();
    assert!(
        unexpected.is_empty() && fixed.is_empty(),
        "{file} [{tier}]: {} passed, {} failed\nunexpected failures:\n{}\nlisted failures that now pass:\n{}",
        report.passed,
        report.failed,
        unexpected.join("\n"),
        fixed.join("\n"),
    );
}
