//! The call graph against the compiler's: for every fixture crate and the
//! call-graph tool's sample, `cleave graph` is scored with
//! `tools/callgraph-truth/score.py` against the committed truth (rebuilt by
//! `tools/rebuild-truth.sh`). Bar, on the "visible" view: edge precision and
//! recall >= 0.95, node recall >= 0.98.

// The scores are printed for the record (CI log), not only asserted.
#![allow(clippy::print_stderr)]

mod callgraph_scoring;

use std::path::Path;

use callgraph_scoring as scoring;

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

fn score(case: &Case, dir: &Path) -> serde_json::Value {
    let graph = dir.join("graph.json");
    scoring::graph(Path::new(case.root), &graph, &[]);
    scoring::score(
        &graph,
        &dir.join("cand.json"),
        &scoring::repo().join(case.truth),
        case.prefix,
        &[],
    )
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
