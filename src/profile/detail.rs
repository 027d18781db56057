//! The profile below function level: each sample's leaf pc attributed to its
//! native instruction and wasm instruction (through the code registry's offset
//! maps), and each sample's stack kept with a wasm offset per frame, so that
//! `profile annotate` can rank instructions and source lines and
//! `wdb profile --out` can write stacks with lines.
//!
//! Runs in normal context, while the sampled code is alive (the module's code
//! cache keeps it): a pc of freed code counts as host code.

use super::RawSample;
use crate::code::{self, CodeKind, Tier};
use std::collections::HashMap;

/// Samples whose leaf pc was one native instruction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstructionSamples {
    pub module_id: u64,
    pub func_index: u32,
    pub tier: Tier,
    /// Module byte offset of the wasm instruction the pc belongs to.
    pub wasm_offset: u32,
    /// Absolute address of the sampled instruction.
    pub pc: u64,
    pub samples: u64,
}

/// One frame of a sampled call stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackFrame {
    /// Not wasm code (runtime, host function, trampoline) — only as a leaf.
    Host,
    /// A wasm function at an instruction (the call, for callers).
    Wasm {
        module_id: u64,
        func_index: u32,
        wasm_offset: u32,
    },
}

/// One distinct call stack, outermost frame first, and how often it was sampled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSamples {
    pub frames: Vec<StackFrame>,
    pub samples: u64,
}

/// The profile below function level: samples by native instruction (and so
/// by wasm instruction and source line), and the distinct stacks (for
/// flame graphs and `wdb profile --out`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileDetail {
    /// Sorted by samples, largest first.
    pub instructions: Vec<InstructionSamples>,
    /// Sorted by samples, largest first.
    pub stacks: Vec<StackSamples>,
}

/// What one pc stands for: the wasm instruction, and the tier of its code.
#[derive(Clone, Copy)]
struct Site {
    module_id: u64,
    func_index: u32,
    wasm_offset: u32,
    tier: Tier,
}

/// Looks pcs up once each (samples repeat the same pcs).
#[derive(Default)]
struct Sites {
    cache: HashMap<usize, Option<Site>>,
}

impl Sites {
    fn at(&mut self, pc: usize) -> Option<Site> {
        *self.cache.entry(pc).or_insert_with(|| {
            let info = code::lookup_pc(pc)?;
            match (info.kind, info.func_index, info.wasm_offset) {
                (CodeKind::Wasm(tier), Some(func), Some(off)) if func != u32::MAX => Some(Site {
                    module_id: info.module_id,
                    func_index: func,
                    wasm_offset: off,
                    tier,
                }),
                _ => None,
            }
        })
    }
}

fn frame(s: Site) -> StackFrame {
    StackFrame::Wasm {
        module_id: s.module_id,
        func_index: s.func_index,
        wasm_offset: s.wasm_offset,
    }
}

/// Samples by native instruction and by distinct stack.
pub(crate) fn detail(samples: &[RawSample]) -> ProfileDetail {
    let mut sites = Sites::default();
    let mut by_pc: HashMap<usize, (Site, u64)> = HashMap::new();
    let mut by_stack: HashMap<Vec<StackFrame>, u64> = HashMap::new();
    let mut stack = Vec::with_capacity(super::MAX_FRAMES);
    for s in samples {
        stack.clear();
        // Callers outermost first; a return address points after its call.
        for &ret in s.pcs.iter().skip(1).rev() {
            if let Some(site) = sites.at(ret.wrapping_sub(1)) {
                stack.push(frame(site));
            }
        }
        let leaf = s.pcs.first().copied();
        match leaf.and_then(|pc| sites.at(pc).map(|site| (pc, site))) {
            Some((pc, site)) => {
                by_pc.entry(pc).or_insert((site, 0)).1 += 1;
                stack.push(frame(site));
            }
            None => stack.push(StackFrame::Host),
        }
        match by_stack.get_mut(stack.as_slice()) {
            Some(n) => *n += 1,
            None => {
                by_stack.insert(stack.clone(), 1);
            }
        }
    }
    let mut instructions: Vec<InstructionSamples> = by_pc
        .into_iter()
        .map(|(pc, (s, n))| InstructionSamples {
            module_id: s.module_id,
            func_index: s.func_index,
            tier: s.tier,
            wasm_offset: s.wasm_offset,
            pc: pc as u64,
            samples: n,
        })
        .collect();
    instructions.sort_by(|a, b| b.samples.cmp(&a.samples).then(a.pc.cmp(&b.pc)));
    let mut stacks: Vec<StackSamples> = by_stack
        .into_iter()
        .map(|(frames, samples)| StackSamples { frames, samples })
        .collect();
    stacks.sort_by(|a, b| {
        b.samples
            .cmp(&a.samples)
            .then_with(|| stack_key(&a.frames).cmp(&stack_key(&b.frames)))
    });
    ProfileDetail {
        instructions,
        stacks,
    }
}

/// A total order on stacks, so reports are stable.
fn stack_key(frames: &[StackFrame]) -> Vec<(u64, u32, u32)> {
    frames
        .iter()
        .map(|f| match *f {
            StackFrame::Host => (u64::MAX, u32::MAX, u32::MAX),
            StackFrame::Wasm {
                module_id,
                func_index,
                wasm_offset,
            } => (module_id, func_index, wasm_offset),
        })
        .collect()
}
