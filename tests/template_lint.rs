//! The generated `template.yaml` of each bundled fixture passes `cfn-lint`
//! and the SAM translator: with the proposed plan, with a plan whose
//! `[deploy]` table sets every option (JSON logs, X-Ray, log retention,
//! variables resolved from Secrets Manager and SSM) under both adapters,
//! and with `--monolith-url`, whose template is also read as data: the
//! API's default route an HTTP proxy to the monolith, every planned route
//! on its function. `cfn-lint` validates SAM resources against SAM's
//! schema without translating them, so `tools/sam-translate.py` runs the
//! translator (`aws-sam-translator`, what `sam deploy` uses) too, and
//! `sam validate --lint` (the SAM CLI) last. All come from PyPI;
//! `tools/test.sh` installs them into `.venv`. A missing one fails the test
//! with one line saying so.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;
use support::{parse_plan, parse_plan_workers, parse_yaml, template_functions};

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

/// The Python of `.venv` (where tools/test.sh installs the SAM translator)
/// or the PATH's `python3`, if it can import `samtranslator`.
fn sam_python() -> PathBuf {
    let venv = repo().join(".venv/bin/python");
    let python = if venv.is_file() {
        venv
    } else {
        PathBuf::from("python3")
    };
    let found = Process::new(&python)
        .args(["-c", "import samtranslator"])
        .output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "the SAM translator is not installed: run tools/test.sh (it installs aws-sam-translator into .venv) or `pip install aws-sam-translator`"
    );
    python
}

/// The CloudFormation template SAM makes of `template`.
fn sam_translate(template: &Path, what: &str) -> Value {
    let out = Process::new(sam_python())
        .arg(repo().join("tools/sam-translate.py"))
        .arg(template)
        .output()
        .expect("the SAM translator runs");
    assert!(
        out.status.success(),
        "{what}: SAM refuses template.yaml:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the translator prints JSON")
}

/// Analyses `fixture` into a plan in `dir`, appends `deploy` to it, and
/// generates the workspace (with `flags` after the usual ones); returns
/// the template's path.
fn generate(dir: &Path, fixture: &str, deploy: &str, adapter: &str, flags: &[&str]) -> PathBuf {
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
        .args(flags)
        .output()
        .expect("runs");
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    out.join("template.yaml")
}

/// The SAM CLI from `.venv` (where tools/test.sh installs it) or the PATH.
fn sam_cli() -> PathBuf {
    let venv = repo().join(".venv/bin/sam");
    if venv.is_file() {
        return venv;
    }
    let on_path = Process::new("sam").arg("--version").output();
    if on_path.is_ok_and(|o| o.status.success()) {
        return PathBuf::from("sam");
    }
    panic!(
        "the SAM CLI is not installed: run tools/test.sh (it installs aws-sam-cli into .venv) or `pip install aws-sam-cli`"
    );
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
    sam_translate(template, what);
    // `sam validate --lint`: SAM's own check, offline (the region only
    // names the partition; no credentials are read).
    let out = Process::new(sam_cli())
        .args(["validate", "--lint", "--region", "us-east-1", "--template"])
        .arg(template)
        .env("SAM_CLI_TELEMETRY", "0")
        .output()
        .expect("sam runs");
    assert!(
        out.status.success(),
        "{what}: `sam validate --lint` failed on template.yaml:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
}

const DEPLOY: &str = r#"
[deploy]
log_retention_days = 14
log_format = "json"
tracing = true
alias = "live"
deployment = "Canary10Percent5Minutes"

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
        let template = generate(dir.path(), fixture, "", "native", &[]);
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
        let template = generate(dir.path(), fixture, DEPLOY, adapter, &[]);
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
            "AutoPublishAlias: live",
            "Type: Canary10Percent5Minutes",
            "Type: AWS::CloudWatch::Alarm",
        ] {
            assert!(
                text.contains(expected),
                "{fixture}: no {expected} in\n{text}"
            );
        }
        lint(&template, &format!("{fixture} with [deploy]"));
        // SAM turns each preference into a CodeDeploy deployment group that
        // watches that function's own alarm.
        let cfn = sam_translate(&template, fixture);
        let resources = cfn["Resources"].as_object().expect("resources");
        let doc = parse_yaml(&text);
        for (name, function) in template_functions(&doc) {
            let alarm = function["Properties"]["DeploymentPreference"]["Alarms"][0]
                .as_str()
                .unwrap_or_else(|| panic!("{fixture} {name}: no alarm"))
                .to_owned();
            let watched = resources.values().any(|r| {
                r["Type"] == "AWS::CodeDeploy::DeploymentGroup"
                    && r["Properties"]["AlarmConfiguration"]["Alarms"][0]["Name"]
                        == serde_json::json!({"Ref": alarm})
                    && r["Properties"]["DeploymentConfigName"]
                        .to_string()
                        .contains("Canary10Percent5Minutes")
            });
            assert!(
                watched,
                "{fixture} {name}: no deployment group watches {alarm}"
            );
        }
    }
}

/// `"GET /a/{id}/{*rest}"` or an event's `GET`, `/a/{slug}/{rest+}` ->
/// `GET /a/{}/{+}`: the requests a route or event matches.
fn shape(method: &str, path: &str) -> String {
    let path: Vec<&str> = path
        .split('/')
        .map(|s| match s {
            s if s.starts_with("{*") || s.ends_with("+}") || s.ends_with(":.*}") => "{+}",
            s if s.starts_with('{') => "{}",
            s => s,
        })
        .collect();
    format!("{method} {}", path.join("/"))
}

const MONOLITH: &str = "https://monolith.example.com";

/// `--monolith-url`: read as YAML, the HTTP API's default route is an HTTP
/// proxy to the monolith (the request's own path), each planned route is an
/// event of its function on that API (deployed unless its parameter hands
/// it to the monolith), and no function takes the default route; translated
/// by SAM, the API's OpenAPI body has the same. cfn-lint passes.
#[test]
fn monolith_url_proxies_the_default_route_and_planned_routes_stay_on_functions() {
    // With every [deploy] option once: the alarms follow their functions' conditions.
    for (fixture, adapter, deploy) in [
        ("shop-axum", "native", ""),
        ("forum-actix", "web-adapter", DEPLOY),
    ] {
        let dir = tempfile::tempdir().expect("tempdir");
        let template = generate(
            dir.path(),
            fixture,
            deploy,
            adapter,
            &["--monolith-url", MONOLITH],
        );
        let plan_text = std::fs::read_to_string(dir.path().join("cleave.toml")).expect("plan");
        let plan = parse_plan(&plan_text);
        // Scheduled workers need the native adapter's Lambda runtime.
        let workers = match adapter {
            "native" => parse_plan_workers(&plan_text),
            _ => Vec::new(),
        };
        let text = std::fs::read_to_string(&template).expect("template");
        let doc = parse_yaml(&text);
        // Tags (`!Ref`) read as their scalar: `uri: !Ref MonolithUrl` is "MonolithUrl".
        assert_eq!(
            doc["Parameters"]["MonolithUrl"]["Default"].as_str(),
            Some(MONOLITH)
        );
        let api = &doc["Resources"]["HttpApi"];
        assert_eq!(
            api["Type"].as_str(),
            Some("AWS::Serverless::HttpApi"),
            "{fixture}"
        );
        let default = &api["Properties"]["DefinitionBody"]["paths"]["$default"]["x-amazon-apigateway-any-method"];
        assert_eq!(default["isDefaultRoute"].as_bool(), Some(true), "{fixture}");
        let integration = &default["x-amazon-apigateway-integration"];
        assert_eq!(
            integration["type"].as_str(),
            Some("http_proxy"),
            "{fixture}"
        );
        assert_eq!(integration["httpMethod"].as_str(), Some("ANY"), "{fixture}");
        assert_eq!(
            integration["uri"].as_str(),
            Some("MonolithUrl"),
            "{fixture}"
        );
        assert_eq!(
            integration["requestParameters"]["overwrite:path"].as_str(),
            Some("$request.path"),
            "{fixture}"
        );
        let functions = template_functions(&doc);
        assert_eq!(functions.len(), plan.len() + workers.len(), "{fixture}");
        assert!(
            fixture != "shop-axum" || !workers.is_empty(),
            "shop-axum's cart sweep is a worker"
        );
        // A worker function serves no route: no condition, its schedule its only event.
        for (name, schedule) in &workers {
            let resource = &functions[name];
            assert!(resource["Condition"].is_badvalue(), "{fixture} {name}");
            let event = &resource["Properties"]["Events"]["Schedule"];
            assert_eq!(event["Type"].as_str(), Some("Schedule"), "{fixture} {name}");
            assert_eq!(
                event["Properties"]["Schedule"].as_str(),
                Some(schedule.as_str()),
                "{fixture} {name}"
            );
        }
        for f in &plan {
            let resource = &functions[&f.name];
            let condition = resource["Condition"].as_str().expect("a condition");
            let id = condition.strip_suffix("OnLambda").expect("<id>OnLambda");
            assert_eq!(
                doc["Parameters"][format!("{id}Routes").as_str()]["Default"].as_str(),
                Some("function"),
                "{fixture} {}",
                f.name
            );
            let mut events = Vec::new();
            for event in resource["Properties"]["Events"]
                .as_hash()
                .expect("events")
                .values()
            {
                let props = &event["Properties"];
                assert_eq!(
                    props["ApiId"].as_str(),
                    Some("HttpApi"),
                    "{fixture} {}",
                    f.name
                );
                let (Some(m), Some(p)) = (props["Method"].as_str(), props["Path"].as_str()) else {
                    panic!(
                        "{fixture} {}: an event without a path takes the default route",
                        f.name
                    );
                };
                events.push(shape(m, p));
            }
            for route in &f.routes {
                let (m, p) = route.split_once(' ').expect("METHOD /path");
                assert!(
                    events.contains(&shape(m, p)),
                    "{fixture}: {route} is not an event of {} ({events:?})",
                    f.name
                );
            }
        }
        lint(&template, &format!("{fixture} with --monolith-url"));
        // What SAM makes of it: the same default route in the API's body,
        // and each route on its function behind its condition.
        let cfn = sam_translate(&template, fixture);
        let body = &cfn["Resources"]["HttpApi"]["Properties"]["Body"];
        let proxy = &body["paths"]["$default"]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"];
        assert_eq!(proxy["type"], "http_proxy", "{fixture}: {body}");
        assert_eq!(
            proxy["uri"],
            serde_json::json!({"Ref": "MonolithUrl"}),
            "{fixture}"
        );
        let paths = body["paths"].as_object().expect("paths");
        for f in &plan {
            let resource = &functions[&f.name];
            let id = resource["Condition"]
                .as_str()
                .and_then(|c| c.strip_suffix("OnLambda"));
            let id = id.expect("the function's id");
            for route in &f.routes {
                let (m, p) = route.split_once(' ').expect("METHOD /path");
                let wanted = shape(m, p);
                let method = if m == "ANY" {
                    "x-amazon-apigateway-any-method".to_owned()
                } else {
                    m.to_ascii_lowercase()
                };
                let on = paths
                    .iter()
                    .filter(|(path, _)| shape(m, path) == wanted)
                    .filter_map(|(_, item)| item.get(&method))
                    .any(|op| {
                        let s = op.to_string();
                        // The function, or its alias with `[deploy] alias`.
                        s.contains(&format!("\"{id}OnLambda\""))
                            && (s.contains(&format!("${{{id}.Arn}}"))
                                || s.contains(&format!("${{{id}Aliaslive}}")))
                    });
                assert!(
                    on,
                    "{fixture}: {route} is not on {id} in the API body:\n{body}"
                );
            }
        }
    }
}
