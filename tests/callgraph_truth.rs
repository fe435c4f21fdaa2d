//! The call graph against the compiler's: for every fixture crate and the
//! call-graph tool's sample, `cleave graph` is scored with
//! `tools/callgraph-truth/score.py` against the committed truth (rebuilt by
//! `tools/rebuild-truth.sh`). Bar, on the "visible" view: edge precision and
//! recall >= 0.95, node recall >= 0.98.

// The scores are printed for the record (CI log), not only asserted.
#![allow(clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

struct Case {
    /// The project `cleave graph` runs on.
    root: &'static str,
    /// The compiler's graph of one package of it.
    truth: &'static str,
    /// That package's directory inside `root`, for a workspace.
    prefix: &'static str,
}

const CASES: &[Case] = &[
    Case {
        root: "tools/callgraph-truth/sample",
        truth: "tools/callgraph-truth/sample/truth.json",
        prefix: "",
    },
    Case {
        root: "fixtures/shop-axum",
        truth: "fixtures/shop-axum/expected/truth.json",
        prefix: "",
    },
    Case {
        root: "fixtures/notes-rocket",
        truth: "fixtures/notes-rocket/expected/truth.json",
        prefix: "",
    },
    Case {
        root: "fixtures/helpdesk-actix",
        truth: "fixtures/helpdesk-actix/expected/truth.json",
        prefix: "",
    },
    Case {
        root: "fixtures/shortlinks-axum",
        truth: "fixtures/shortlinks-axum/expected/truth.json",
        prefix: "",
    },
    Case {
        root: "fixtures/forum-actix",
        truth: "fixtures/forum-actix/expected/truth-forum-domain.json",
        prefix: "crates/forum-domain",
    },
    Case {
        root: "fixtures/forum-actix",
        truth: "fixtures/forum-actix/expected/truth-forum-http.json",
        prefix: "crates/forum-http",
    },
    Case {
        root: "fixtures/forum-actix",
        truth: "fixtures/forum-actix/expected/truth-forum-server.json",
        prefix: "crates/forum-server",
    },
];

fn repo() -> PathBuf {
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

fn score(case: &Case, dir: &Path) -> serde_json::Value {
    let graph = dir.join("graph.json");
    let cand = dir.join("cand.json");
    let out = assert_cmd::Command::cargo_bin("cleave")
        .expect("binary")
        .args(["graph", case.root, "--format", "json"])
        .current_dir(repo())
        .output()
        .expect("cleave runs");
    assert!(
        out.status.success(),
        "cleave graph {} failed: {}",
        case.root,
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&graph, &out.stdout).expect("write graph");
    let mut args = vec![
        "tools/callgraph-truth/from_cleave.py",
        graph.to_str().expect("utf-8 path"),
        "-o",
    ];
    args.push(cand.to_str().expect("utf-8 path"));
    if !case.prefix.is_empty() {
        args.extend(["--prefix", case.prefix]);
    }
    python(&args);
    let text = python(&[
        "tools/callgraph-truth/score.py",
        case.truth,
        cand.to_str().expect("utf-8"),
        "--tol",
        "2",
        "--json",
    ]);
    serde_json::from_str(&text).expect("score.py prints JSON")
}

#[test]
fn call_graph_matches_the_compiler_on_every_fixture() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for case in CASES {
        let s = score(case, dir.path());
        let v = &s["visible"];
        let (p, r, n) = (
            v["edge_precision"].as_f64().expect("precision"),
            v["edge_recall"].as_f64().expect("recall"),
            v["node_recall"].as_f64().expect("node recall"),
        );
        let line = format!(
            "{} [{}]: edge-P {p:.3} edge-R {r:.3} node-R {n:.3}",
            case.root, case.truth
        );
        eprintln!("{line}");
        if p < 0.95 || r < 0.95 || n < 0.98 {
            failures.push(line);
        }
    }
    assert!(
        failures.is_empty(),
        "below the bar:\n{}",
        failures.join("\n")
    );
}
