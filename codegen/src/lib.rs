//! cleave's back end: from an analysis and a plan to generated files — the
//! review report and the function workspace (DESIGN.md §7).
//!
//! `generate` renders the whole workspace in memory as a [`Tree`] (relative
//! path -> bytes), reading the monolith's files only through a [`Source`];
//! `write::write` is the one place that touches the disk. Same input, same
//! bytes: every collection is sorted, no timestamps, no absolute paths.

mod docs;
#[cfg(test)]
mod generate_tests;
pub mod manifest;
pub mod report;
mod serving;
mod shim;
mod workspace;
pub mod write;

use std::collections::BTreeMap;

pub use workspace::{Adapter, Generated, Input, generate};

/// A rendered directory tree: relative `/`-separated path -> contents.
pub type Tree = BTreeMap<String, Vec<u8>>;

/// Read access to the analysed project (paths relative to its root).
pub trait Source {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>>;
    /// Every file under `dir`, recursively, relative to the root, sorted;
    /// skipping `target/`, hidden entries and the subdirectories in `skip`.
    fn files(&self, dir: &str, skip: &[String]) -> Vec<String>;
}

#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// Something about the input that the user has to change.
    #[error("{file}: {message}")]
    Input { file: String, message: String },
}

fn input_err(file: impl Into<String>, message: impl Into<String>) -> GenerateError {
    GenerateError::Input {
        file: file.into(),
        message: message.into(),
    }
}
