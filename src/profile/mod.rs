//! Sampling profiler and perf map (placeholder API until they land).
#![allow(dead_code, unused_variables)]

pub mod perf_map {
    pub fn enable() {}
    pub fn register_names(
        module_id: u64,
        names: std::sync::Arc<dyn Fn(u32) -> String + Send + Sync>,
    ) {
    }
    pub fn path() -> std::path::PathBuf {
        std::path::PathBuf::from(format!("/tmp/perf-{}.map", std::process::id()))
    }
}

#[derive(Clone, Copy, Debug)]
pub struct ThreadTarget {
    pub tid: i32,
    pub stack_low: usize,
    pub stack_high: usize,
}
impl ThreadTarget {
    pub fn current() -> crate::Result<ThreadTarget> {
        Err(crate::Error::Internal("profiler not built".into()))
    }
}
#[derive(Clone, Debug)]
pub struct RawSample {
    pub at: std::time::Duration,
    pub pcs: Vec<usize>,
}
pub struct Sampler;
impl Sampler {
    pub fn start(target: ThreadTarget, hz: u32) -> crate::Result<Sampler> {
        Err(crate::Error::Internal("profiler not built".into()))
    }
    pub fn sample_count(&self) -> u64 {
        0
    }
    pub fn samples(&self) -> Vec<RawSample> {
        Vec::new()
    }
    pub fn stop(self) -> Vec<RawSample> {
        Vec::new()
    }
}
pub fn report(
    samples: &[RawSample],
    elapsed: std::time::Duration,
    name_of: &dyn Fn(u64, u32) -> String,
) -> crate::debugger::ProfileReport {
    crate::debugger::ProfileReport {
        samples: 0,
        duration: elapsed,
        flat: Vec::new(),
        tree: Vec::new(),
        timeline: Vec::new(),
    }
}
