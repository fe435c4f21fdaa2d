//! The parse-only baseline, shared by the `analyze` bench (with cleave's
//! allocator) and the `parse_system` bench (with the system allocator).

use std::io::Write;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// The `.rs` files of a tree, as the baseline and the byte counts see it.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ignore::WalkBuilder::new(dir)
        .hidden(true)
        .filter_entry(|e| e.file_name() != "target")
        .build()
        .flatten()
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .map(ignore::DirEntry::into_path)
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .collect();
    files.sort();
    files
}

/// `--parse-only DIR`: read and parse every `.rs` file on all cores; prints
/// `files lines bytes parse_errors`.
pub fn parse_only(dir: &Path) -> Result<(), String> {
    let files = rust_files(dir);
    let (lines, bytes, errors) = files
        .par_iter()
        .map(|f| {
            let Ok(text) = std::fs::read_to_string(f) else {
                return (0, 0, 1);
            };
            let ok = syn::parse_file(&text).is_ok();
            proc_macro2::extra::invalidate_current_thread_spans();
            (text.lines().count(), text.len(), usize::from(!ok))
        })
        .reduce(|| (0, 0, 0), |a, b| (a.0 + b.0, a.1 + b.1, a.2 + b.2));
    let mut out = std::io::stdout().lock();
    writeln!(out, "{} {lines} {bytes} {errors}", files.len()).map_err(|e| e.to_string())
}
