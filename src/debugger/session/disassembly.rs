//! The wasm-text disassembly of a session's module (wasmprinter), made once
//! and cut into functions, for `disas` and the TUI's code pane.

use super::Shared;

/// One line of disassembly: the instruction's module byte offset (None for
/// lines such as closing parentheses) and wasmprinter's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisasLine {
    pub offset: Option<u32>,
    pub text: String,
}

impl Shared {
    pub(super) fn disassembly(&self) -> &Vec<(u32, Vec<DisasLine>)> {
        self.disas.get_or_init(|| {
            let info = self.module.info();
            let mut storage = String::new();
            let mut out: Vec<(u32, Vec<DisasLine>)> = Vec::new();
            let mut cfg = wasmprinter::Config::new();
            cfg.print_offsets(false);
            let Ok(lines) = cfg.offsets_and_lines(&info.bytes, &mut storage) else {
                return out;
            };
            let mut current: Option<u32> = None;
            for (off, text) in lines {
                let text = text.trim_end().to_string();
                match off.and_then(|o| info.func_at_offset(o as usize)) {
                    Some(f) => {
                        if current != Some(f) {
                            out.push((f, Vec::new()));
                            current = Some(f);
                        }
                        if let Some((_, v)) = out.last_mut() {
                            v.push(DisasLine {
                                offset: off.map(|o| o as u32),
                                text,
                            });
                        }
                    }
                    None if off.is_none() && current.is_some() => {
                        if let Some((_, v)) = out.last_mut() {
                            v.push(DisasLine { offset: None, text });
                        }
                    }
                    None => current = None,
                }
            }
            out
        })
    }
}
