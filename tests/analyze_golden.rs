//! `cleave analyze` on each bundled fixture against its hand-written truth:
//! the routes equal `expected/routes.txt` (`METHOD /path -> handler`) and
//! the hazards equal `expected/hazards.txt` (`code file:line`), and the
//! environment variables `expected/config.txt` (`NAME need file:line`),
//! exactly.
//! The proposed plan equals `expected/cleave.toml`; that one is cleave's
//! own output, so `UPDATE_EXPECT=1 cargo test` rewrites it after a
//! deliberate change (the hand-written truths are never rewritten).

use std::path::PathBuf;

use assert_cmd::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

fn diff(want: &[String], got: &[String]) -> String {
    let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
    format!("missing: {missing:#?}\nextra: {extra:#?}")
}

fn check(fixture: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = dir.path().join("cleave.toml");
    let out = Command::cargo_bin("cleave")
        .expect("binary")
        .current_dir(repo())
        .args([
            "analyze",
            &format!("fixtures/{fixture}"),
            "--format",
            "json",
            "--plan",
        ])
        .arg(&plan)
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(doc["schema"], "cleave.analysis/1");

    let routes: Vec<String> = lines(
        &doc["entrypoints"]
            .as_array()
            .expect("entrypoints")
            .iter()
            .filter(|e| e["kind"] == "http")
            .map(|e| {
                format!(
                    "{} {} -> {}",
                    e["method"].as_str().expect("method"),
                    e["path"].as_str().expect("path"),
                    e["handler"].as_str().expect("handler")
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let want = lines(
        &std::fs::read_to_string(repo().join(format!("fixtures/{fixture}/expected/routes.txt")))
            .expect("routes.txt"),
    );
    assert_eq!(routes, want, "{fixture} routes:\n{}", diff(&want, &routes));

    let hazards: Vec<String> = lines(
        &doc["hazards"]
            .as_array()
            .expect("hazards")
            .iter()
            .map(|h| {
                format!(
                    "{} {}:{}",
                    h["code"].as_str().expect("code"),
                    h["file"].as_str().expect("file"),
                    h["line"]
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let want = lines(
        &std::fs::read_to_string(repo().join(format!("fixtures/{fixture}/expected/hazards.txt")))
            .expect("hazards.txt"),
    );
    assert_eq!(
        hazards,
        want,
        "{fixture} hazards:\n{}",
        diff(&want, &hazards)
    );

    let config: Vec<String> = lines(
        &doc["config"]
            .as_array()
            .expect("config")
            .iter()
            .map(|v| {
                let need = match (v["required"].as_bool(), v["default"].as_str()) {
                    (Some(true), _) => "required".to_owned(),
                    (_, Some(d)) => format!("default={d}"),
                    _ => "optional".to_owned(),
                };
                let reads: Vec<String> = v["reads"]
                    .as_array()
                    .expect("reads")
                    .iter()
                    .map(|r| format!("{}:{}", r["file"].as_str().expect("file"), r["line"]))
                    .collect();
                format!(
                    "{} {need} {}",
                    v["name"].as_str().expect("name"),
                    reads.join(" ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let want = lines(
        &std::fs::read_to_string(repo().join(format!("fixtures/{fixture}/expected/config.txt")))
            .expect("config.txt"),
    );
    assert_eq!(config, want, "{fixture} config:\n{}", diff(&want, &config));

    // Every route is in exactly one proposed function.
    let mut proposed: Vec<String> = doc["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .flat_map(|f| f["routes"].as_array().expect("routes").iter())
        .map(|r| r.as_str().expect("route").to_owned())
        .collect();
    proposed.sort();
    let mut distinct: Vec<String> = routes
        .iter()
        .map(|r| r.split(" -> ").next().expect("route").to_owned())
        .collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(proposed, distinct);

    let plan_text = std::fs::read_to_string(&plan).expect("plan written");
    let golden = repo().join(format!("fixtures/{fixture}/expected/cleave.toml"));
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(&golden, &plan_text).expect("update golden");
    }
    let want =
        std::fs::read_to_string(&golden).expect("expected/cleave.toml (UPDATE_EXPECT=1 to create)");
    assert_eq!(
        plan_text, want,
        "{fixture}: proposal differs from expected/cleave.toml"
    );
}

#[test]
fn shop_axum() {
    check("shop-axum");
}

#[test]
fn forum_actix() {
    check("forum-actix");
}

#[test]
fn notes_rocket() {
    check("notes-rocket");
}

#[test]
fn helpdesk_actix() {
    check("helpdesk-actix");
}

#[test]
fn shortlinks_axum() {
    check("shortlinks-axum");
}

#[test]
fn a_project_without_routes_gets_a_clean_report() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"tool\"\nversion = \"0.1.0\"\n",
    )
    .expect("write");
    std::fs::write(
        dir.path().join("src/main.rs"),
        "fn main() { println!(\"hi\"); }\n",
    )
    .expect("write");
    let out = Command::cargo_bin("cleave")
        .expect("binary")
        .arg("analyze")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("No HTTP routes found"), "{text}");
    assert!(
        !dir.path().join("cleave.toml").exists(),
        "no plan for no routes"
    );
}

#[test]
fn an_empty_directory_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::cargo_bin("cleave")
        .expect("binary")
        .arg("analyze")
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
}
