//! cleave's back end: from an analysis and a plan to generated files — the
//! review report and the function workspace (DESIGN.md §7).
//!
//! `generate` renders the whole workspace in memory as a [`Tree`] (relative
//! path -> bytes), reading the monolith's files only through a [`Source`];
//! `write::write` is the one place that touches the disk. Same input, same
//! bytes: every collection is sorted, no timestamps, no absolute paths.

mod code_edits;
mod docs;
#[cfg(test)]
mod generate_tests;
pub mod manifest;
pub mod native;
pub mod report;
mod serving;
mod shim;
mod worker;
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
    /// An empty directory is listed too, with a trailing `/` (`static/`):
    /// a build step may fill it, and `include_dir!` needs it to exist. In a
    /// [`Tree`] such an entry (empty contents) is written as a directory.
    fn files(&self, dir: &str, skip: &[String]) -> Vec<String>;
}

/// The project on disk under `root`, as `cleave generate` reads it.
#[derive(Debug)]
pub struct DirSource {
    root: std::path::PathBuf,
}

impl DirSource {
    pub fn new(root: impl Into<std::path::PathBuf>) -> Self {
        DirSource { root: root.into() }
    }
}

impl Source for DirSource {
    fn read(&self, rel: &str) -> std::io::Result<Vec<u8>> {
        if rel.split('/').any(|p| p == "..") {
            return Err(std::io::Error::other("path leaves the project"));
        }
        std::fs::read(self.root.join(rel))
    }

    fn files(&self, dir: &str, skip: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        list(&self.root, dir, skip, &mut out);
        out.sort();
        out
    }
}

/// Appends the files under `root/rel` to `out` (see [`Source::files`]).
fn list(root: &std::path::Path, rel: &str, skip: &[String], out: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    let before = out.len();
    for e in entries.flatten() {
        let Some(name) = e.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        // Hidden files stay behind, but for sqlx's offline query data,
        // which `sqlx::query!` reads while compiling.
        if (name.starts_with('.') && name != ".sqlx") || name == "target" {
            continue;
        }
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        match e.file_type() {
            Ok(t) if t.is_dir() && !skip.contains(&path) => list(root, &path, skip, out),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
    if !rel.is_empty() && out.len() == before {
        out.push(format!("{rel}/"));
    }
}

/// The contents of `file`, one entry of [`Source::files`]: nothing for an
/// empty directory.
fn contents(source: &dyn Source, file: &str) -> std::io::Result<Vec<u8>> {
    if file.ends_with('/') {
        return Ok(Vec::new());
    }
    source.read(file)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty directory (one `include_dir!` reads, filled by a build step)
    /// is listed, copied and written; hidden files and `target/` are not.
    #[test]
    fn empty_directories_are_kept() {
        let src = tempfile::tempdir().expect("tempdir");
        let root = src.path();
        for d in [
            "crate/static",
            "crate/src",
            "crate/target/debug",
            "crate/dot",
        ] {
            std::fs::create_dir_all(root.join(d)).expect("mkdir");
        }
        std::fs::write(root.join("crate/src/lib.rs"), "").expect("write");
        std::fs::write(root.join("crate/dot/.gitkeep"), "").expect("write");
        std::fs::write(root.join("crate/.env"), "X=1").expect("write");
        let source = DirSource::new(root);
        let files = source.files("crate", &[]);
        assert_eq!(files, ["crate/dot/", "crate/src/lib.rs", "crate/static/"]);

        let tree: Tree = files
            .iter()
            .map(|f| (f.clone(), contents(&source, f).expect("contents")))
            .collect();
        let out = tempfile::tempdir().expect("tempdir");
        let ws = out.path().join("ws");
        write::write(&tree, &ws, false).expect("write");
        assert!(ws.join("crate/static").is_dir());
        assert!(ws.join("crate/dot").is_dir());
        assert!(ws.join("crate/src/lib.rs").is_file());
        assert!(source.read("../outside").is_err());
    }
}
