//! Symbolization of raw samples into a profile by wasm function: a flat
//! profile (self and total samples), a call tree and a timeline.
//!
//! Runs in normal context: it consults the code registry, which the signal
//! handler must not.

use super::RawSample;
use crate::code::{self, CodeKind, Tier};
use std::collections::HashMap;
use std::time::Duration;

/// One row of the profile (by wasm function).
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileRow {
    pub func_index: Option<u32>,
    pub name: String,
    pub tier: String,
    pub self_samples: u64,
    pub total_samples: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProfileReport {
    pub samples: u64,
    pub duration: Duration,
    /// Sorted by self samples, largest first.
    pub flat: Vec<ProfileRow>,
    /// Call tree as indented text lines ("  62.1%  main > simulate > smooth_step").
    pub tree: Vec<String>,
    /// Samples per 100 ms since profiling began (for a sparkline).
    pub timeline: Vec<u64>,
    /// By instruction and by stack.
    pub detail: super::ProfileDetail,
}

/// Name of the row that collects samples whose leaf is not wasm code
/// (runtime, host functions, trampolines).
pub const HOST_ROW: &str = "[host/runtime]";

/// Width of one timeline bucket.
const BUCKET: Duration = Duration::from_millis(100);
/// Most timeline buckets (bad timestamps must not allocate without bound).
const MAX_BUCKETS: usize = 1 << 20;
/// Tree nodes below this share of all samples (in tenths of a percent) are pruned.
const PRUNE_PER_MILLE: u64 = 5;

/// What one pc stands for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Frame {
    Host,
    Wasm { module_id: u64, func: u32 },
}

#[derive(Default)]
struct Row {
    self_samples: u64,
    total_samples: u64,
    /// Bit per tier the function was seen running in (see `tier_bit`).
    tiers: u8,
}

struct Node {
    frame: Frame,
    count: u64,
    children: Vec<usize>,
}

const TIERS: [Tier; 3] = [Tier::Baseline, Tier::Debug, Tier::Optimized];

fn tier_bit(t: Tier) -> u8 {
    match t {
        Tier::Baseline => 1,
        Tier::Debug => 2,
        Tier::Optimized => 4,
    }
}

fn tier_names(bits: u8) -> String {
    TIERS
        .iter()
        .filter(|t| bits & tier_bit(**t) != 0)
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join("+")
}

/// Symbolizes pcs, remembering answers (samples repeat the same pcs).
#[derive(Default)]
struct Symbolizer {
    cache: HashMap<usize, Option<(Frame, Tier)>>,
}

impl Symbolizer {
    fn wasm(&mut self, pc: usize) -> Option<(Frame, Tier)> {
        *self.cache.entry(pc).or_insert_with(|| {
            let info = code::lookup_pc(pc)?;
            match (info.kind, info.func_index) {
                (CodeKind::Wasm(tier), Some(func)) if func != u32::MAX => Some((
                    Frame::Wasm {
                        module_id: info.module_id,
                        func,
                    },
                    tier,
                )),
                _ => None,
            }
        })
    }
}

/// Builds the report of `samples`, taken over `elapsed`; `name_of` names a
/// wasm function by module id and function index. Call it while the sampled
/// code is still alive: pcs of code freed since count as `[host/runtime]`.
pub fn report(
    samples: &[RawSample],
    elapsed: Duration,
    name_of: &dyn Fn(u64, u32) -> String,
) -> ProfileReport {
    let mut sym = Symbolizer::default();
    let mut rows: HashMap<Frame, Row> = HashMap::new();
    let mut nodes = vec![Node {
        frame: Frame::Host,
        count: 0,
        children: Vec::new(),
    }];
    let mut path: Vec<Frame> = Vec::with_capacity(super::MAX_FRAMES);
    let mut seen: Vec<Frame> = Vec::with_capacity(super::MAX_FRAMES);

    for s in samples {
        // Outermost frame first: callers (return addresses point after the
        // call, so look up pc - 1), then the leaf.
        path.clear();
        for &ret in s.pcs.iter().skip(1).rev() {
            if let Some((frame, tier)) = sym.wasm(ret.wrapping_sub(1)) {
                path.push(frame);
                rows.entry(frame).or_default().tiers |= tier_bit(tier);
            }
        }
        let leaf = match s.pcs.first().and_then(|&pc| sym.wasm(pc)) {
            Some((frame, tier)) => {
                rows.entry(frame).or_default().tiers |= tier_bit(tier);
                frame
            }
            None => Frame::Host,
        };
        path.push(leaf);
        rows.entry(leaf).or_default().self_samples += 1;

        seen.clear();
        for &f in &path {
            if !seen.contains(&f) {
                seen.push(f);
                rows.entry(f).or_default().total_samples += 1;
            }
        }

        let mut at = 0;
        nodes[0].count += 1;
        for &f in &path {
            let found = nodes[at]
                .children
                .iter()
                .copied()
                .find(|&c| nodes[c].frame == f);
            at = match found {
                Some(c) => c,
                None => {
                    nodes.push(Node {
                        frame: f,
                        count: 0,
                        children: Vec::new(),
                    });
                    let c = nodes.len() - 1;
                    nodes[at].children.push(c);
                    c
                }
            };
            nodes[at].count += 1;
        }
    }

    let mut names: HashMap<Frame, String> = HashMap::new();
    let mut name = |f: Frame| -> String {
        names
            .entry(f)
            .or_insert_with(|| match f {
                Frame::Host => HOST_ROW.to_string(),
                Frame::Wasm { module_id, func } => name_of(module_id, func),
            })
            .clone()
    };

    let mut flat: Vec<ProfileRow> = rows
        .iter()
        .map(|(&f, r)| ProfileRow {
            func_index: match f {
                Frame::Host => None,
                Frame::Wasm { func, .. } => Some(func),
            },
            name: name(f),
            tier: match f {
                Frame::Host => "host".to_string(),
                Frame::Wasm { .. } => tier_names(r.tiers),
            },
            self_samples: r.self_samples,
            total_samples: r.total_samples,
        })
        .collect();
    flat.sort_by(|a, b| {
        b.self_samples
            .cmp(&a.self_samples)
            .then(b.total_samples.cmp(&a.total_samples))
            .then_with(|| a.name.cmp(&b.name))
            .then(a.func_index.cmp(&b.func_index))
    });

    let total = samples.len() as u64;
    let mut tree = Vec::new();
    emit_tree(&nodes, 0, 0, total, &mut name, &mut tree);

    ProfileReport {
        samples: total,
        duration: elapsed,
        flat,
        tree,
        timeline: timeline(samples, elapsed),
        detail: super::detail::detail(samples),
    }
}

/// Appends the lines of `node`'s children (and their subtrees) at `depth`.
fn emit_tree(
    nodes: &[Node],
    node: usize,
    depth: usize,
    total: u64,
    name: &mut dyn FnMut(Frame) -> String,
    out: &mut Vec<String>,
) {
    let mut kids: Vec<(usize, String)> = nodes[node]
        .children
        .iter()
        .filter(|&&c| nodes[c].count.saturating_mul(1000) >= total.saturating_mul(PRUNE_PER_MILLE))
        .map(|&c| (c, name(nodes[c].frame)))
        .collect();
    kids.sort_by(|a, b| {
        nodes[b.0]
            .count
            .cmp(&nodes[a.0].count)
            .then_with(|| a.1.cmp(&b.1))
    });
    for (c, n) in kids {
        let count = nodes[c].count;
        let pct = if total == 0 {
            0.0
        } else {
            count as f64 * 100.0 / total as f64
        };
        out.push(format!(
            "{pct:>6.1}%  {count:>4}  {}{n}",
            "  ".repeat(depth)
        ));
        emit_tree(nodes, c, depth + 1, total, name, out);
    }
}

/// Samples per 100 ms bucket, covering at least `elapsed`.
fn timeline(samples: &[RawSample], elapsed: Duration) -> Vec<u64> {
    let bucket = |d: Duration| (d.as_nanos() / BUCKET.as_nanos()).min(MAX_BUCKETS as u128) as usize;
    let by_elapsed =
        bucket(elapsed) + usize::from(!elapsed.as_nanos().is_multiple_of(BUCKET.as_nanos()));
    let by_samples = samples.iter().map(|s| bucket(s.at) + 1).max().unwrap_or(0);
    let n = by_elapsed.max(by_samples).min(MAX_BUCKETS);
    let mut out = vec![0u64; n];
    for s in samples {
        if let Some(b) = out.get_mut(bucket(s.at)) {
            *b += 1;
        }
    }
    out
}
