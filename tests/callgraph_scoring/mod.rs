//! What the call-graph tests (`callgraph_truth.rs` on the fixtures,
//! `callgraph_field.rs` on public apps) share: `cleave graph` on a project,
//! and `tools/callgraph-truth`'s scripts scoring it against a compiler truth.

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python(args: &[&str]) -> String {
    let out = Command::new("python3")
        .args(args)
        .current_dir(repo())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// `cleave graph ROOT --format json` (ROOT relative to the repository or
/// absolute), written to `graph`.
pub fn graph(root: &Path, graph: &Path, features: &[String]) {
    let out = assert_cmd::Command::cargo_bin("cleave")
        .expect("binary")
        .args([
            "graph",
            root.to_str().expect("utf-8 path"),
            "--format",
            "json",
        ])
        .args(features.iter().flat_map(|f| ["--features", f.as_str()]))
        .current_dir(repo())
        .output()
        .expect("cleave runs");
    assert!(
        out.status.success(),
        "cleave graph {} failed: {}",
        root.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(graph, &out.stdout).expect("write graph");
}

/// `score.py TRUTH` (`--tol 2 --json`) of the package of `graph` under
/// `prefix` ("" for the root), leaving out the dirs in `exclude`; the
/// candidate is written to `cand`.
pub fn score(
    graph: &Path,
    cand: &Path,
    truth: &Path,
    prefix: &str,
    exclude: &[&str],
) -> serde_json::Value {
    let mut args = vec![
        "tools/callgraph-truth/from_cleave.py",
        graph.to_str().expect("utf-8 path"),
        "-o",
        cand.to_str().expect("utf-8 path"),
    ];
    if !prefix.is_empty() {
        args.extend(["--prefix", prefix]);
    }
    for x in exclude {
        args.extend(["--exclude", x]);
    }
    python(&args);
    let text = python(&[
        "tools/callgraph-truth/score.py",
        truth.to_str().expect("utf-8 path"),
        cand.to_str().expect("utf-8 path"),
        "--tol",
        "2",
        "--json",
    ]);
    serde_json::from_str(&text).expect("score.py prints JSON")
}
