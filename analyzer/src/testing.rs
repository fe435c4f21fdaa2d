//! Test support: multi-file fixtures written as one string.
//!
//! ```text
//! //- /Cargo.toml
//! [package]
//! name = "app"
//! //- /src/lib.rs
//! pub fn f() {}
//! ```
//! Files are written to a temporary directory; paths are relative to it.

use std::path::Path;

/// Analyses `fixture`, written to a temporary directory; `manifest` (a
/// `//- /Cargo.toml` file) is prepended unless the fixture has its own.
pub fn analyze(fixture: &str, manifest: &str) -> crate::analysis::Analysis {
    analyze_with(fixture, manifest, &crate::analysis::Options::default())
}

/// [`analyze`] with what a plan tells the analysis.
pub fn analyze_with(
    fixture: &str,
    manifest: &str,
    options: &crate::analysis::Options,
) -> crate::analysis::Analysis {
    let dir = tempfile::tempdir().expect("tempdir");
    if fixture.contains("//- /Cargo.toml") {
        write_fixture(dir.path(), fixture);
    } else {
        write_fixture(dir.path(), &format!("{manifest}{fixture}"));
    }
    crate::analysis::analyze_with(dir.path(), options).expect("analyse")
}

/// Writes the files of `fixture` under `dir`.
pub fn write_fixture(dir: &Path, fixture: &str) {
    let mut current: Option<(String, String)> = None;
    let mut files = Vec::new();
    for line in fixture.lines() {
        if let Some(path) = line.trim_start().strip_prefix("//- /") {
            if let Some(f) = current.take() {
                files.push(f);
            }
            current = Some((path.trim().to_owned(), String::new()));
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
            text.push('\n');
        }
    }
    files.extend(current);
    for (path, text) in files {
        let full = dir.join(&path);
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).expect("create fixture dir");
        }
        std::fs::write(full, dedent(&text)).expect("write fixture file");
    }
}

fn dedent(text: &str) -> String {
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}
