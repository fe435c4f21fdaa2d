//! cleave's back end: from an analysis and a plan to generated files — the
//! review report and the function workspace. Renders everything in memory;
//! only `write` touches the disk.

pub mod report;
