//! `cleave review --html` end to end: the report of fixtures/shop-axum,
//! loaded in a real browser (headless Chromium), shows every function of the
//! plan, every hazard code, the picture and the graph, and loads nothing from
//! the network.
//!
//! Needs Chromium at /usr/bin/chromium (Debian: `apt-get install chromium`),
//! or its path in `CLEAVE_CHROMIUM`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

fn cleave() -> Command {
    Command::cargo_bin("cleave").expect("binary")
}

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/shop-axum")
}

fn chromium() -> PathBuf {
    let path = std::env::var_os("CLEAVE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} not found: install Chromium (`apt-get install chromium`) or set CLEAVE_CHROMIUM",
        path.display()
    );
    path
}

/// The DOM of `page` after Chromium loaded it, with a fresh profile and
/// nothing in the background that would talk to the network.
fn rendered_dom(page: &Path) -> String {
    let profile = tempfile::tempdir().expect("tempdir");
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .timeout(Duration::from_secs(120))
        .output()
        .expect("chromium runs");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 DOM")
}

/// Values of every `attr="…"` in `html`.
fn attribute_values<'h>(html: &'h str, attr: &str) -> Vec<&'h str> {
    let needle = format!(" {attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(at, _)| {
            let rest = &html[at + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

#[test]
fn report_renders_in_a_browser_and_loads_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = dir.path().join("cleave.toml");
    let html = dir.path().join("r.html");

    cleave()
        .arg("analyze")
        .arg(fixture())
        .arg("--plan")
        .arg(&plan)
        .assert()
        .success();
    let review = cleave()
        .arg("review")
        .arg(fixture())
        .arg("--plan")
        .arg(&plan)
        .arg("--html")
        .arg(&html)
        .args(["--format", "json"])
        .output()
        .expect("review runs");
    assert!(
        review.status.success(),
        "{}",
        String::from_utf8_lossy(&review.stderr)
    );
    let review: serde_json::Value = serde_json::from_slice(&review.stdout).expect("review JSON");

    // The plan's functions (`[[function]]`; its `[[worker]]`s are not split routes).
    let plan_text = std::fs::read_to_string(&plan).expect("plan");
    let plan_doc: toml::Table = plan_text.parse().expect("the plan is TOML");
    let functions: Vec<&str> = plan_doc["function"]
        .as_array()
        .expect("[[function]]")
        .iter()
        .map(|f| f["name"].as_str().expect("name"))
        .collect();
    assert!(functions.len() > 1, "the plan splits the shop: {plan_text}");
    let mut codes: Vec<&str> = review["hazards"]
        .as_array()
        .expect("hazards")
        .iter()
        .map(|h| h["code"].as_str().expect("code"))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert!(!codes.is_empty(), "the shop has hazards");

    let dom = rendered_dom(&html);
    let inline_svg = |id: &str| -> &str {
        let at = dom
            .find(&format!("<svg id=\"{id}\""))
            .unwrap_or_else(|| panic!("no inline <svg id=\"{id}\">"));
        &dom[at..dom[at..].find("</svg>").map_or(dom.len(), |e| at + e)]
    };
    let svg = inline_svg("function-map");
    let graph = inline_svg("function-graph");
    for name in &functions {
        assert!(
            dom.contains(&format!(">{name}<")),
            "function `{name}` not shown"
        );
        assert!(
            svg.contains(&format!(">{name}</text>")),
            "function `{name}` not in the picture"
        );
        assert!(
            graph.contains(&format!(">{name} (")),
            "function `{name}` not in the graph"
        );
    }
    // The graph joins functions through the shared core.
    assert!(
        graph.contains("<line class=\"edge\""),
        "no shared code drawn"
    );
    for code in &codes {
        assert!(
            dom.contains(&format!(">{code}<")),
            "hazard `{code}` not shown"
        );
        assert!(
            svg.contains(&format!(">{code}</text>")),
            "hazard `{code}` not in the picture"
        );
    }

    // Self-contained: every reference stays in the page.
    let text = std::fs::read_to_string(&html).expect("report");
    for page in [text.as_str(), dom.as_str()] {
        for attr in ["src", "href", "xlink:href", "action", "data", "poster"] {
            for v in attribute_values(page, attr) {
                assert!(
                    v.starts_with('#') || v.starts_with("data:"),
                    "{attr}=\"{v}\" would load a resource"
                );
            }
        }
    }
    assert!(!text.contains("@import"));

    // Deterministic: the same review gives the same bytes.
    let again = dir.path().join("again.html");
    cleave()
        .arg("review")
        .arg(fixture())
        .arg("--plan")
        .arg(&plan)
        .arg("--html")
        .arg(&again)
        .assert()
        .success();
    assert_eq!(text, std::fs::read_to_string(&again).expect("report"));
}
