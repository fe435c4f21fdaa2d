//! `cleave graph` end to end: output formats, bad input, exit codes.

use std::path::PathBuf;
use std::process::Command as Std;

use assert_cmd::Command;

fn cleave() -> Command {
    Command::cargo_bin("cleave").expect("binary")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn project(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, bytes) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, bytes).expect("write");
    }
    dir
}

const MANIFEST: &[u8] = b"[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

#[test]
fn no_manifest_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = cleave()
        .arg("graph")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no Cargo.toml"), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_path_is_exit_1_not_a_panic() {
    let out = cleave()
        .args(["graph", "/nonexistent/cleave/path"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}

#[test]
fn usage_errors_exit_2() {
    let out = cleave()
        .args(["graph", ".", "--format", "yaml"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn broken_files_are_diagnostics_and_the_rest_is_printed() {
    let dir = project(&[
        ("Cargo.toml", MANIFEST),
        (
            "src/lib.rs",
            b"mod bad;\nmod latin;\nmod gone;\n#[path = \"../../x.rs\"]\nmod out;\npub fn a() { b() }\nfn b() {}\n",
        ),
        ("src/bad.rs", b"pub fn broken( {\n"),
        ("src/latin.rs", b"// caf\xe9\npub fn x() {}\n"),
    ]);
    let out = cleave()
        .arg("graph")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).expect("utf-8");
    for needle in [
        "src/bad.rs:1",
        "src/latin.rs:1",
        "src/lib.rs:3",
        "src/lib.rs:5",
        "not valid UTF-8",
        "outside",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["schema"], "cleave.callgraph/1");
    assert_eq!(doc["edges"][0]["from"], "app::a");
    assert_eq!(doc["edges"][0]["to"], "app::b");
}

#[cfg(unix)]
#[test]
fn symlink_loops_do_not_hang() {
    let dir = project(&[
        ("Cargo.toml", MANIFEST),
        ("src/lib.rs", b"mod looped;\npub fn a() {}\n"),
    ]);
    std::os::unix::fs::symlink("looped.rs", dir.path().join("src/looped.rs")).expect("symlink");
    let out = cleave()
        .arg("graph")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("src/lib.rs:1"));
}

#[test]
fn output_is_byte_identical_across_runs() {
    let run = || {
        cleave()
            .args(["graph", "fixtures/shop-axum"])
            .current_dir(repo())
            .output()
            .expect("runs")
            .stdout
    };
    let first = run();
    assert!(!first.is_empty());
    assert_eq!(first, run());
    let text = String::from_utf8(first).expect("utf-8");
    assert!(
        !text.contains(env!("CARGO_MANIFEST_DIR")),
        "absolute path in output"
    );
}

#[test]
fn dot_output_is_valid_graphviz() {
    let out = cleave()
        .args(["graph", "fixtures/shop-axum", "--format", "dot"])
        .current_dir(repo())
        .output()
        .expect("runs");
    assert!(out.status.success());
    let dot = String::from_utf8(out.stdout).expect("utf-8");
    assert!(dot.starts_with("digraph callgraph {"));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("g.dot");
    std::fs::write(&file, &dot).expect("write");
    // Graphviz itself must accept it (CI installs graphviz).
    let status = Std::new("dot")
        .arg("-Tsvg")
        .arg(&file)
        .arg("-o")
        .arg(dir.path().join("g.svg"))
        .status();
    let status = status.expect("graphviz `dot` is installed (apt-get install graphviz)");
    assert!(status.success(), "dot rejected the output");
}

#[test]
fn entry_restricts_the_graph_to_what_one_route_reaches() {
    let out = cleave()
        .args([
            "graph",
            "fixtures/shop-axum",
            "--entry",
            "GET /api/orders/{id}",
        ])
        .current_dir(repo())
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ids: Vec<&str> = doc["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().expect("id"))
        .collect();
    assert!(
        ids.contains(&"shop::handlers::orders::get_order"),
        "{ids:?}"
    );
    assert!(!ids.contains(&"shop::handlers::cart::add_item"), "{ids:?}");
    // The middleware around the route runs too: its code is in the reach.
    assert!(ids.contains(&"shop::middleware::request_id"), "{ids:?}");
    // So does the extractor of the handler's `CurrentUser` parameter, and
    // what it calls.
    assert!(
        ids.iter()
            .any(|id| id.ends_with("CurrentUser as FromRequestParts>::from_request_parts")),
        "{ids:?}"
    );
    assert!(
        ids.contains(&"shop::services::auth::bearer_token"),
        "{ids:?}"
    );
    assert!(!ids.contains(&"shop::middleware::require_admin"), "{ids:?}");

    let out = cleave()
        .args([
            "graph",
            "fixtures/shop-axum",
            "--entry",
            "GET /api/admin/stats",
        ])
        .current_dir(repo())
        .output()
        .expect("runs");
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let admin: Vec<&str> = doc["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["id"].as_str().expect("id"))
        .collect();
    assert!(
        admin.contains(&"shop::middleware::require_admin"),
        "{admin:?}"
    );

    let out = cleave()
        .args(["graph", "fixtures/shop-axum", "--entry", "GET /nope"])
        .current_dir(repo())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}
