//! Sampling profiler and perf map (placeholder until it lands).
