//! The call graph against the compiler's on public apps: for every app with
//! a `tests/field/truth/<app>/`, `cleave graph` on the app's source is
//! scored with `tools/callgraph-truth/score.py` (visible view, `--tol 2`)
//! against the committed truth of each package listed in its
//! `packages.txt` (`<package> <dir inside the app> [<dir of another
//! package inside it, left out>..]`; rebuilt by
//! `tools/rebuild-field-truth.sh`). Bar, per app (its packages summed):
//! edge precision and recall >= 0.95; over all apps, recall of the edges of
//! calls written inside macros >= 0.8.
//!
//! The apps' sources are not in the repository: they are read from
//! `$FIELD_DIR/<app>` (default `.field/<app>`, as `tools/field-test.sh`
//! keeps them) at the commit of `tests/field/<app>/app.toml`; a missing or
//! stale one is put there by `tools/field-test.sh --fetch-only` (from
//! `$FIELD_MIRROR` or GitHub), and the test fails with one line saying so
//! when that cannot be done.

// The scores are printed for the record (CI log), not only asserted.
#![allow(clippy::print_stderr)]

mod callgraph_scoring;

use std::path::{Path, PathBuf};
use std::process::Command;

use callgraph_scoring::repo;

fn field_dir() -> PathBuf {
    match std::env::var_os("FIELD_DIR") {
        Some(d) => PathBuf::from(d),
        None => repo().join(".field"),
    }
}

/// `key = "value"` of an app.toml.
fn app_field(app: &str, key: &str) -> String {
    let path = repo().join("tests/field").join(app).join("app.toml");
    let text = std::fs::read_to_string(&path).expect("app.toml");
    let doc: toml::Table = text.parse().expect("app.toml is TOML");
    doc.get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

/// The app's source at its pinned commit, fetched when missing.
fn source(app: &str) -> PathBuf {
    let dir = field_dir();
    let commit = app_field(app, "commit");
    let stamp = dir.join(format!("{app}.commit"));
    let current = std::fs::read_to_string(&stamp).unwrap_or_default();
    if current.trim() != commit {
        let status = Command::new("tools/field-test.sh")
            .args(["--fetch-only", app])
            .env("FIELD_DIR", &dir)
            .current_dir(repo())
            .status()
            .expect("tools/field-test.sh runs");
        assert!(
            status.success(),
            "{app}: no source at {} and tools/field-test.sh --fetch-only {app} could not fetch it: \
             set FIELD_DIR to a directory holding it (or FIELD_MIRROR to bare mirrors), or allow network access",
            dir.join(app).display()
        );
    }
    let sub = app_field(app, "dir");
    let root = dir.join(app);
    if sub.is_empty() { root } else { root.join(sub) }
}

/// Sums of one app's packages: (true positives, candidate edges, truth
/// edges) and the macro-originated truth edges (found, of).
#[derive(Default)]
struct Sums {
    tp: u64,
    cand: u64,
    truth: u64,
    macro_found: u64,
    macro_of: u64,
}

fn score_app(app: &str, work: &Path) -> Sums {
    let root = source(app);
    let graph = work.join(format!("{app}.graph.json"));
    // The features the truth was built with: the app's own check's.
    let check = app_field(app, "check_env");
    let words: Vec<&str> = check
        .split(';')
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let features: Vec<String> = words
        .windows(2)
        .filter(|w| w[0] == "--features")
        .map(|w| w[1].to_owned())
        .collect();
    callgraph_scoring::graph(&root, &graph, &features);
    let truth_dir = repo().join("tests/field/truth").join(app);
    let packages = std::fs::read_to_string(truth_dir.join("packages.txt")).expect("packages.txt");
    let mut sums = Sums::default();
    for line in packages
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut words = line.split_whitespace();
        let (Some(package), Some(dir)) = (words.next(), words.next()) else {
            panic!("{app}/packages.txt: `{line}` is not `<package> <dir> [<excluded dir>..]`");
        };
        let excluded: Vec<&str> = words.collect();
        let cand = work.join(format!("{app}-{package}.cand.json"));
        let truth = truth_dir.join(format!("{package}.json"));
        let prefix = if dir == "." { "" } else { dir };
        let s = callgraph_scoring::score(&graph, &cand, &truth, prefix, &excluded);
        let v = &s["visible"];
        let n = |k: &str| v[k].as_u64().expect("a count");
        sums.tp += n("true_positives");
        sums.cand += n("candidate_edges");
        sums.truth += n("truth_edges");
        let m = &v["recall_by_syntax"]["macro"];
        sums.macro_found += m["found"].as_u64().unwrap_or(0);
        sums.macro_of += m["of"].as_u64().unwrap_or(0);
    }
    sums
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

#[test]
fn call_graph_matches_the_compiler_on_public_apps() {
    let work = tempfile::tempdir().expect("tempdir");
    let mut apps: Vec<String> = std::fs::read_dir(repo().join("tests/field/truth"))
        .expect("tests/field/truth")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("packages.txt").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    apps.sort();
    assert!(!apps.is_empty(), "no tests/field/truth/<app>/packages.txt");
    let mut failures = Vec::new();
    let (mut macro_found, mut macro_of) = (0, 0);
    for app in &apps {
        let s = score_app(app, work.path());
        let (p, r) = (ratio(s.tp, s.cand), ratio(s.tp, s.truth));
        let line = format!(
            "{app}: edge-P {p:.3} edge-R {r:.3} ({}/{}/{}), macro edges {}/{}",
            s.tp, s.cand, s.truth, s.macro_found, s.macro_of
        );
        eprintln!("{line}");
        if p < 0.95 || r < 0.95 {
            failures.push(line);
        }
        macro_found += s.macro_found;
        macro_of += s.macro_of;
    }
    let m = ratio(macro_found, macro_of);
    eprintln!("macro-originated edges: recall {m:.3} ({macro_found}/{macro_of})");
    if m < 0.8 {
        failures.push(format!("macro-originated edge recall {m:.3} < 0.8"));
    }
    assert!(
        failures.is_empty(),
        "below the bar:\n{}",
        failures.join("\n")
    );
}
