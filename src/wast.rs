//! Runs `.wast` spec scripts against the engine. (Being written.)
