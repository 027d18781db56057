//! Helpers shared by the integration tests that declare `mod support;`.

pub mod spec_report;
