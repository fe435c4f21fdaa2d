//! The generated `template.yaml` of each bundled fixture passes `cfn-lint`
//! (which runs the SAM translator on it): with the proposed plan, and with
//! a plan whose `[deploy]` table sets every option (JSON logs, X-Ray, log
//! retention, variables resolved from Secrets Manager and SSM) under both
//! adapters. `cfn-lint` comes from PyPI; `tools/test.sh` installs it into
//! `.venv`. A missing `cfn-lint` fails the test with one line saying so.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

const FIXTURES: [&str; 3] = ["shop-axum", "forum-actix", "notes-rocket"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `cfn-lint` from `.venv` (where tools/test.sh installs it) or the PATH.
fn cfn_lint() -> PathBuf {
    let venv = repo().join(".venv/bin/cfn-lint");
    if venv.is_file() {
        return venv;
    }
    let on_path = Process::new("cfn-lint").arg("--version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return PathBuf::from("cfn-lint");
    }
    panic!(
        "cfn-lint is not installed: run tools/test.sh (it installs cfn-lint into .venv) or `pip install cfn-lint`"
    );
}

/// Analyses `fixture` into a plan in `dir`, appends `deploy` to it, and
/// generates the workspace; returns the template's path.
fn generate(dir: &Path, fixture: &str, deploy: &str, adapter: &str) -> PathBuf {
    let plan = dir.join("cleave.toml");
    let analyzed = Command::cargo_bin("cleave")
        .expect("binary")
        .current_dir(repo())
        .args(["analyze", &format!("fixtures/{fixture}"), "--plan"])
        .arg(&plan)
        .output()
        .expect("runs");
    assert!(
        analyzed.status.success(),
        "{}",
        String::from_utf8_lossy(&analyzed.stderr)
    );
    let mut text = std::fs::read_to_string(&plan).expect("plan written");
    text.push_str(deploy);
    std::fs::write(&plan, text).expect("plan");
    let out = dir.join("out");
    let generated = Command::cargo_bin("cleave")
        .expect("binary")
        .current_dir(repo())
        .args([
            "generate",
            &format!("fixtures/{fixture}"),
            "--adapter",
            adapter,
            "--out",
        ])
        .arg(&out)
        .arg("--plan")
        .arg(&plan)
        .output()
        .expect("runs");
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    out.join("template.yaml")
}

fn lint(template: &Path, what: &str) {
    let out = Process::new(cfn_lint())
        .arg(template)
        .output()
        .expect("cfn-lint runs");
    assert!(
        out.status.success(),
        "{what}: cfn-lint found problems in template.yaml:\n{}{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        std::fs::read_to_string(template).unwrap_or_default()
    );
}

const DEPLOY: &str = r#"
[deploy]
log_retention_days = 14
log_format = "json"
tracing = true

[deploy.env]
PORT = "ssm:/cleave-test/port"
SITE_LABEL = "ssm:/cleave-test/label"
SESSION_SIGNING_KEY = "secretsmanager:cleave-test/app:SecretString:signing_key"
"#;

#[test]
fn templates_of_the_fixtures_pass_cfn_lint() {
    let lint_bin = cfn_lint();
    assert!(!lint_bin.as_os_str().is_empty());
    for fixture in FIXTURES {
        let dir = tempfile::tempdir().expect("tempdir");
        let template = generate(dir.path(), fixture, "", "native");
        let text = std::fs::read_to_string(&template).expect("template");
        assert!(!text.contains("FunctionName:"), "{fixture}:\n{text}");
        lint(&template, fixture);
    }
}

#[test]
fn templates_with_every_deploy_option_pass_cfn_lint() {
    for (fixture, adapter) in [
        ("shop-axum", "native"),
        ("forum-actix", "web-adapter"),
        ("notes-rocket", "native"),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let template = generate(dir.path(), fixture, DEPLOY, adapter);
        let text = std::fs::read_to_string(&template).expect("template");
        // Under the web adapter, PORT is the adapter's.
        let port = if adapter == "native" {
            "          PORT: \"{{resolve:ssm:/cleave-test/port}}\""
        } else {
            "          PORT: \"8000\""
        };
        for expected in [
            port,
            "{{resolve:ssm:/cleave-test/label}}",
            "{{resolve:secretsmanager:cleave-test/app:SecretString:signing_key}}",
            "LogFormat: JSON",
            "RetentionInDays: 14",
            "Tracing: Active",
        ] {
            assert!(
                text.contains(expected),
                "{fixture}: no {expected} in\n{text}"
            );
        }
        lint(&template, &format!("{fixture} with [deploy]"));
    }
}
