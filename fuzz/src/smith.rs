//! The module generator: wasm-smith with a configuration limited to what wdb
//! implements (Wasm 2.0 without SIMD by default, plus the proposals a run
//! names with `--proposals`; no imports, every function exported, bounded
//! memories and tables), driven by bytes derived from a seed.

use crate::splitmix;

/// Proposals beyond Wasm 2.0 (without SIMD) that a run enables in the
/// generator, where wasmi implements them too. The default (none) keeps the
/// seed-to-module mapping of the recorded large runs (TESTING.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Proposals {
    /// 128-bit SIMD (not relaxed SIMD: its results may differ by engine).
    pub simd: bool,
    pub tail_call: bool,
    pub extended_const: bool,
    /// Up to three memories per module.
    pub multi_memory: bool,
    /// 64-bit memories (i64 addresses).
    pub memory64: bool,
}

impl Proposals {
    /// Every name `--proposals` takes.
    pub const NAMES: [&'static str; 5] = [
        "simd",
        "tail-call",
        "extended-const",
        "multi-memory",
        "memory64",
    ];

    /// Parses a comma-separated list of [`Proposals::NAMES`] (`none` or
    /// empty: none).
    pub fn parse(list: &str) -> Result<Proposals, String> {
        let mut p = Proposals::default();
        for part in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match part {
                "simd" => p.simd = true,
                "tail-call" => p.tail_call = true,
                "extended-const" => p.extended_const = true,
                "multi-memory" => p.multi_memory = true,
                "memory64" => p.memory64 = true,
                "none" => {}
                other => {
                    return Err(format!(
                        "unknown proposal `{other}` in --proposals (expected some of {})",
                        Proposals::NAMES.join(",")
                    ))
                }
            }
        }
        Ok(p)
    }

    /// The comma-separated form (`none` when empty), as `parse` takes it.
    pub fn list(&self) -> String {
        let on = [
            self.simd,
            self.tail_call,
            self.extended_const,
            self.multi_memory,
            self.memory64,
        ];
        let names: Vec<&str> = Proposals::NAMES
            .iter()
            .zip(on)
            .filter_map(|(n, on)| on.then_some(*n))
            .collect();
        if names.is_empty() {
            "none".into()
        } else {
            names.join(",")
        }
    }
}

/// The generator's configuration for Wasm 2.0 without SIMD.
pub fn config() -> wasm_smith::Config {
    config_with(Proposals::default())
}

#[allow(clippy::field_reassign_with_default)] // wasm_smith::Config has dozens of fields; set the few that matter
pub fn config_with(proposals: Proposals) -> wasm_smith::Config {
    let mut c = wasm_smith::Config::default();
    // Wasm 2.0 without SIMD, plus the chosen proposals: what wdb implements.
    c.simd_enabled = proposals.simd;
    c.relaxed_simd_enabled = false;
    c.threads_enabled = false;
    c.shared_everything_threads_enabled = false;
    c.gc_enabled = false;
    c.exceptions_enabled = false;
    c.tail_call_enabled = proposals.tail_call;
    c.memory64_enabled = proposals.memory64;
    c.extended_const_enabled = proposals.extended_const;
    c.wide_arithmetic_enabled = false;
    c.custom_page_sizes_enabled = false;
    c.compact_imports_enabled = false;
    c.max_memories = if proposals.multi_memory { 3 } else { 1 };
    c.max_tables = 2;
    // Deterministic NaNs wherever they become observable.
    c.canonicalize_nans = true;
    // No imports; every function exported.
    c.max_imports = 0;
    c.export_everything = true;
    c.min_types = 1;
    c.min_funcs = 1;
    // Small modules with bounded memories and tables (so both engines agree
    // on growth: the declared maximum is the only limit).
    c.max_funcs = 12;
    c.max_instructions = 300;
    c.max_globals = 8;
    c.max_types = 16;
    c.max_data_segments = 4;
    c.max_element_segments = 4;
    c.max_elements = 16;
    c.max_exports = 32;
    c.max_nesting_depth = 8;
    c.max_memory32_bytes = 1 << 20;
    c.max_memory64_bytes = 1 << 20;
    c.memory_max_size_required = true;
    c.max_table_elements = 64;
    c.table_max_size_required = true;
    c
}

/// The module of `seed` (Wasm 2.0 without SIMD), or None when the generator
/// made none (it ran out of input bytes).
pub fn generate(seed: u64) -> Option<Vec<u8>> {
    generate_with(seed, Proposals::default())
}

/// The module of `seed` with `proposals` enabled in the generator (with
/// memory64 that includes 64-bit tables).
pub fn generate_with(seed: u64, proposals: Proposals) -> Option<Vec<u8>> {
    let mut st = seed;
    let len = 4096 + (splitmix(&mut st) % 12288) as usize;
    let bytes: Vec<u8> = (0..len).map(|_| splitmix(&mut st) as u8).collect();
    let mut u = arbitrary::Unstructured::new(&bytes);
    let module = wasm_smith::Module::new(config_with(proposals), &mut u).ok()?;
    Some(module.to_bytes())
}

/// Whether wdb's validator accepts the module (the generator can stray
/// outside wdb's feature set).
pub fn in_wdb_features(wasm: &[u8]) -> bool {
    wasmparser::Validator::new_with_features(wdb::wasm_features())
        .validate_all(wasm)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_table64(wasm: &[u8]) -> bool {
        use wasmparser::{Payload, TypeRef};
        wasmparser::Parser::new(0).parse_all(wasm).any(|p| match p {
            Ok(Payload::TableSection(r)) => r.into_iter().any(|t| t.is_ok_and(|t| t.ty.table64)),
            Ok(Payload::ImportSection(r)) => r
                .into_imports()
                .any(|i| i.is_ok_and(|i| matches!(i.ty, TypeRef::Table(t) if t.table64))),
            _ => false,
        })
    }

    /// With memory64 the generator makes 64-bit tables, and they are kept:
    /// the CI slice of `tests/differential.rs` (seeds 40000..40060) and the
    /// large runs reach them in wdb's tiers.
    #[test]
    fn memory64_modules_keep_their_64_bit_tables() {
        let p = Proposals::parse("multi-memory,memory64").unwrap();
        let modules: Vec<Vec<u8>> = (40_000..40_060)
            .filter_map(|s| generate_with(s, p))
            .collect();
        let n = modules.iter().filter(|m| has_table64(m)).count();
        assert!(
            n >= 5,
            "{n} of {} modules have a 64-bit table",
            modules.len()
        );
        assert!(modules.iter().all(|m| in_wdb_features(m)));
        eprintln!("{n} of {} modules have a 64-bit table", modules.len());
    }
}
