//! The debugger's per-function disassembly (printed from a reduced copy of
//! the module, one function at a time) is exactly what wasmprinter prints for
//! that function in the whole module: same instruction offsets, same text.

use std::path::Path;
use wdb::debugger::*;

fn samples() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
}

/// wasmprinter's lines of the whole module, grouped by the function whose
/// body holds each instruction: (offset, text) of instruction lines.
fn whole_module_lines(wasm: &[u8], session: &Session) -> Vec<(u32, Vec<(u32, String)>)> {
    let mut storage = String::new();
    let mut cfg = wasmprinter::Config::new();
    cfg.print_offsets(false);
    let lines = cfg.offsets_and_lines(wasm, &mut storage).unwrap();
    let mut out: Vec<(u32, Vec<(u32, String)>)> = Vec::new();
    for (off, text) in lines {
        let Some(off) = off.map(|o| o as u32) else {
            continue;
        };
        let Some(f) = session.func_at_offset(off) else {
            continue;
        };
        if out.last().map(|(g, _)| *g) != Some(f) {
            out.push((f, Vec::new()));
        }
        out.last_mut()
            .unwrap()
            .1
            .push((off, text.trim_end().to_string()));
    }
    out
}

#[test]
fn every_function_prints_as_in_the_whole_module() {
    for name in ["debugme-g.wasm", "shapes-g.wasm", "imgproc-g.wasm"] {
        let wasm = std::fs::read(samples().join(name)).unwrap();
        let session = Session::start(SessionConfig {
            name: name.into(),
            wasm: wasm.clone(),
            ..SessionConfig::default()
        })
        .expect("session starts");
        let whole = whole_module_lines(&wasm, &session);
        assert!(whole.len() > 20, "{name}: only {} functions", whole.len());
        for (f, expected) in &whole {
            let got: Vec<(u32, String)> = session
                .disassemble(*f)
                .into_iter()
                .filter_map(|l| Some((l.offset?, l.text)))
                .collect();
            assert_eq!(&got, expected, "{name}: function #{f}");
        }
    }
}
