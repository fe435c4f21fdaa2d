//! `generate` on the bundled fixtures with each adapter: what
//! `--adapter web-adapter` changes (`template.yaml`, the manifests, the
//! runner, the documents), and that everything else is what the `native`
//! adapter generates.

use std::path::{Path, PathBuf};

use cleave_analyzer::analysis::{self, Analysis};
use cleave_analyzer::plan::{self, Plan};

use crate::{Adapter, DirSource, Input, Tree, generate};

const FIXTURES: [&str; 3] = ["shop-axum", "forum-actix", "notes-rocket"];

/// The environment every function gets behind the web adapter.
const WEB_ADAPTER_PROPERTIES: &str = r#"      Layers:
        - !Sub arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerArm64:30
      Environment:
        Variables:
          AWS_LWA_PORT: "8000"
          AWS_LWA_READINESS_CHECK_PROTOCOL: tcp
          PORT: "8000"
"#;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

/// The fixture's routes in two functions, `first` and `second`.
fn two_functions(analysis: &Analysis) -> Plan {
    let mut routes: Vec<String> = analysis
        .entrypoints
        .iter()
        .filter(|e| e.kind.is_route())
        .map(|e| e.route())
        .collect();
    routes.sort();
    routes.dedup();
    let (one, two) = routes.split_at(routes.len() / 2);
    let list = |routes: &[String]| {
        routes
            .iter()
            .map(|r| format!("{r:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        "version = 1\ntarget = \"aws-lambda\"\n\n[[function]]\nname = \"first\"\nroutes = [{}]\n\n[[function]]\nname = \"second\"\nroutes = [{}]\n",
        list(one),
        list(two)
    );
    let (plan, problems) = plan::parse(&text, "plan.toml");
    plan.unwrap_or_else(|| panic!("the plan parses: {problems:?}\n{text}"))
}

fn generated(name: &str, adapter: Adapter) -> Tree {
    generated_with(name, adapter, "").1
}

/// The fixture generated with [`two_functions`] plus `extra` appended to
/// the plan (a `[deploy]` table); also the analysis.
fn generated_with(name: &str, adapter: Adapter, extra: &str) -> (Analysis, Tree) {
    generated_full(name, adapter, extra, None)
}

/// [`generated_with`], and `--monolith-url`.
fn generated_full(
    name: &str,
    adapter: Adapter,
    extra: &str,
    monolith_url: Option<&str>,
) -> (Analysis, Tree) {
    let root = fixture(name);
    let analysis = analysis::analyze(&root).expect("the fixture is analysed");
    let mut plan = two_functions(&analysis);
    if !extra.is_empty() {
        let (parsed, problems) =
            plan::parse(&format!("{}\n{extra}", plan_text(&plan)), "plan.toml");
        assert!(problems.is_empty(), "{problems:?}");
        plan = parsed.expect("the plan parses");
    }
    let source = DirSource::new(root);
    let tree = generate(&Input {
        analysis: &analysis,
        plan: &plan,
        plan_file: "plan.toml",
        source: &source,
        adapter,
        monolith_url,
        placement: None,
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"))
    .tree;
    (analysis, tree)
}

/// A plan's functions written back as TOML.
fn plan_text(plan: &Plan) -> String {
    let mut out = String::from("version = 1\ntarget = \"aws-lambda\"\n");
    for f in &plan.functions {
        let routes: Vec<String> = f.routes.iter().map(|r| format!("{r:?}")).collect();
        out.push_str(&format!(
            "\n[[function]]\nname = {:?}\nroutes = [{}]\n",
            f.name,
            routes.join(", ")
        ));
    }
    out
}

/// The lines of a top-level section of `template.yaml` (`Parameters`,
/// `Conditions`, `Globals`), up to the next one.
fn section<'t>(template: &'t str, name: &str) -> &'t str {
    let start = template
        .find(&format!("\n{name}:\n"))
        .unwrap_or_else(|| panic!("{name} in\n{template}"))
        + 1;
    let rest = &template[start..];
    let end = rest.find("\n\n").map(|i| i + 1).unwrap_or(rest.len());
    &rest[..end]
}

fn text<'t>(tree: &'t Tree, path: &str) -> &'t str {
    let bytes = tree
        .get(path)
        .unwrap_or_else(|| panic!("{path} is generated"));
    std::str::from_utf8(bytes).expect("UTF-8")
}

/// `template.yaml`'s resources: `(logical id, its lines)`.
fn resources(template: &str) -> Vec<(String, String)> {
    let start = template.find("\nResources:\n").expect("Resources") + 1;
    let end = template.find("\nOutputs:").expect("Outputs");
    let mut out: Vec<(String, String)> = Vec::new();
    for line in template[start..end].lines().skip(1) {
        if let Some(id) = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' '))
            .and_then(|l| l.strip_suffix(':'))
        {
            out.push((id.to_owned(), String::new()));
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// The function resources of `template.yaml` (not their log groups).
fn functions(template: &str) -> Vec<(String, String)> {
    resources(template)
        .into_iter()
        .filter(|(_, body)| body.contains("    Type: AWS::Serverless::Function\n"))
        .collect()
}

#[test]
fn web_adapter_functions_run_behind_the_layer_with_its_port() {
    for name in FIXTURES {
        let tree = generated(name, Adapter::WebAdapter);
        let template = text(&tree, "template.yaml");
        let functions = functions(template);
        assert_eq!(
            functions
                .iter()
                .map(|(id, _)| id.as_str())
                .collect::<Vec<_>>(),
            ["FirstFunction", "SecondFunction"],
            "{name}"
        );
        for (id, body) in &functions {
            for expected in [
                "      BuildMethod: rust-cargolambda\n",
                "      Handler: bootstrap\n",
                "      Runtime: provided.al2023\n",
                "      Architectures:\n        - arm64\n",
                WEB_ADAPTER_PROPERTIES,
            ] {
                assert!(
                    body.contains(expected),
                    "{name} {id} lacks\n{expected}\nin\n{body}"
                );
            }
        }
        // Not for OS-only runtimes: the adapter runs as an extension there.
        assert!(
            !template
                .lines()
                .any(|l| !l.starts_with('#') && l.contains("AWS_LAMBDA_EXEC_WRAPPER")),
            "{name}:\n{template}"
        );
    }
}

#[test]
fn web_adapter_functions_do_not_depend_on_lambda_http() {
    for name in FIXTURES {
        let tree = generated(name, Adapter::WebAdapter);
        for (path, bytes) in &tree {
            if path.ends_with("Cargo.toml") || path.starts_with("functions/") {
                let text = String::from_utf8_lossy(bytes);
                assert!(!text.contains("lambda_http"), "{name}: {path}:\n{text}");
            }
        }
        for function in ["first", "second"] {
            let main = text(&tree, &format!("functions/{function}/src/main.rs"));
            assert!(main.contains("ELSEWHERE"), "{name}: the guard is kept");
            let manifest = text(&tree, &format!("functions/{function}/Cargo.toml"));
            assert!(!manifest.contains("native"), "{name}:\n{manifest}");
        }
        // `cargo lambda watch` cannot serve functions that do not speak the Runtime API.
        assert!(
            !text(&tree, "Cargo.toml").contains("[workspace.metadata.lambda"),
            "{name}"
        );
    }
}

#[test]
fn the_native_adapter_runs_in_process_on_lambda_http() {
    for name in FIXTURES {
        let tree = generated(name, Adapter::Native);
        let template = text(&tree, "template.yaml");
        // The app's own variables are in Globals; a function sets none of its own.
        for (id, body) in functions(template) {
            assert!(
                !body.contains("Layers:") && !body.contains("Environment:"),
                "{name} {id}:\n{body}"
            );
        }
        let shim = text(&tree, "crates/cleave-lambda/Cargo.toml");
        assert!(
            shim.contains("\nlambda_http = { version = \"1.3\", optional = true }\n"),
            "{name}:\n{shim}"
        );
        let root = text(&tree, "Cargo.toml");
        assert!(
            root.contains("[workspace.metadata.lambda.watch.router]"),
            "{name}"
        );
        for function in ["first", "second"] {
            let manifest = text(&tree, &format!("functions/{function}/Cargo.toml"));
            assert!(
                manifest.contains("features = [\"native\"]"),
                "{name}:\n{manifest}"
            );
        }
        let readme = text(&tree, "README.md");
        assert!(readme.contains("Adapter: `native`"), "{name}");
        assert!(readme.contains("cargo lambda watch -A 127.0.0.1"), "{name}");
        assert!(
            text(&tree, "MIGRATION.md").contains("Adapter: `native`"),
            "{name}"
        );
    }
}

/// The app is the same either way: only the manifests (which switch the
/// shim's `native` feature) and the deployment documents differ.
#[test]
fn the_adapters_differ_only_in_manifests_and_documents() {
    for name in FIXTURES {
        let native = generated(name, Adapter::Native);
        let web = generated(name, Adapter::WebAdapter);
        assert_eq!(
            native.keys().collect::<Vec<_>>(),
            web.keys().collect::<Vec<_>>(),
            "{name}"
        );
        let mut differ: Vec<&str> = native
            .iter()
            .filter(|(path, bytes)| web.get(*path) != Some(*bytes))
            .map(|(path, _)| path.as_str())
            .collect();
        differ.sort();
        assert_eq!(
            differ,
            [
                "Cargo.toml",
                "MIGRATION.md",
                "README.md",
                "crates/cleave-lambda/Cargo.toml",
                "functions/first/Cargo.toml",
                "functions/second/Cargo.toml",
                "template.yaml",
            ],
            "{name}"
        );
    }
}

#[test]
fn web_adapter_documents_name_the_adapter_and_its_trade_off() {
    for name in FIXTURES {
        let tree = generated(name, Adapter::WebAdapter);
        let readme = text(&tree, "README.md");
        for expected in [
            "Adapter: `web-adapter`",
            "extra hop",
            "extra process",
            "cold start",
            "`cargo lambda watch` cannot serve these functions",
            "PORT=8000 cargo run -p first",
            "sam local start-api",
        ] {
            assert!(
                readme.contains(expected),
                "{name}: README lacks {expected:?}"
            );
        }
        assert!(!readme.contains("cargo lambda watch -A"), "{name}");
        let migration = text(&tree, "MIGRATION.md");
        assert!(migration.contains("Adapter: `web-adapter`"), "{name}");
        assert!(migration.contains("extra local HTTP hop"), "{name}");
        // The edits are explained for this runner, not the in-process one.
        for stale in [
            "under lambda_http",
            "Lambda or local server",
            "no socket to bind",
        ] {
            assert!(
                !migration.contains(stale),
                "{name}: {stale:?} in\n{migration}"
            );
        }
    }
}

#[test]
fn web_adapter_output_is_deterministic_and_every_rendered_file_is_headed() {
    for name in FIXTURES {
        let first = generated(name, Adapter::WebAdapter);
        assert!(first == generated(name, Adapter::WebAdapter), "{name}");
        let mut rendered = vec![
            "Cargo.toml".to_owned(),
            "MIGRATION.md".to_owned(),
            "README.md".to_owned(),
            "template.yaml".to_owned(),
        ];
        for function in ["first", "second"] {
            rendered.push(format!("functions/{function}/Cargo.toml"));
            rendered.push(format!("functions/{function}/src/main.rs"));
        }
        for path in rendered {
            let head = text(&first, &path).lines().next().unwrap_or("");
            assert!(
                head.contains("@generated by cleave from ")
                    && head.contains("with plan `plan.toml`"),
                "{name}: {path} starts with {head:?}"
            );
        }
    }
}

/// MIGRATION.md's "Hazards in the start-up code" section.
fn start_up_section(migration: &str) -> &str {
    let start = migration
        .find("## Hazards in the start-up code")
        .expect("a start-up hazards section");
    let end = start
        + migration[start..]
            .find("\n## Functions")
            .expect("then Functions");
    &migration[start..end]
}

#[test]
fn hazards_no_route_reaches_are_listed_as_start_up_hazards() {
    for name in FIXTURES {
        let root = fixture(name);
        let analysis = analysis::analyze(&root).expect("the fixture is analysed");
        let tree = generated(name, Adapter::Native);
        let migration = text(&tree, "MIGRATION.md");
        let section = start_up_section(migration);
        for h in &analysis.hazards {
            let line = format!("at `{}:{}` (`{}`)", h.file, h.line, h.item);
            // Workers keep starting in `main` as in the monolith, with the
            // hazards written where they are spawned.
            assert_eq!(
                section.contains(&line),
                h.entrypoints.is_empty(),
                "{name}: {} {line} (reached by {:?})",
                h.code,
                h.entrypoints
            );
        }
    }
    // The shop's SQLite file and schema DDL run in `main`'s start-up.
    let shop = generated("shop-axum", Adapter::Native);
    let migration = text(&shop, "MIGRATION.md");
    assert!(
        migration.contains("**startup-work** at `src/db.rs:"),
        "{migration}"
    );
}

#[test]
fn the_first_function_takes_the_api_default_route() {
    for name in FIXTURES {
        for adapter in [Adapter::Native, Adapter::WebAdapter] {
            let tree = generated(name, adapter);
            let template = text(&tree, "template.yaml");
            let with_default: Vec<String> = resources(template)
                .into_iter()
                .filter(|(_, body)| {
                    body.contains("\n        DefaultRoute:\n          Type: HttpApi\n")
                })
                .map(|(id, _)| id)
                .collect();
            assert_eq!(with_default, ["FirstFunction"], "{name}");
            assert!(
                text(&tree, "MIGRATION.md").contains("sends such requests to `first`"),
                "{name}"
            );
        }
    }
}

#[test]
fn start_up_hazards_are_those_the_serving_main_reaches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let files = [
        (
            "Cargo.toml",
            "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naxum = \"0.8\"\ntokio = { version = \"1\", features = [\"full\"] }\n",
        ),
        (
            "src/lib.rs",
            "use axum::{routing::get, Router};\n\npub fn router() -> Router {\n    Router::new().route(\"/a\", get(a)).route(\"/b\", get(b))\n}\n\nasync fn a() -> &'static str {\n    \"a\"\n}\n\nasync fn b() -> &'static str {\n    \"b\"\n}\n\npub fn load_config() -> String {\n    std::fs::read_to_string(\"config/app.toml\").unwrap_or_default()\n}\n\npub fn export_report() {\n    std::fs::write(\"report.csv\", \"a,b\").ok();\n}\n",
        ),
        (
            "src/main.rs",
            "#[tokio::main]\nasync fn main() {\n    let _config = app::load_config();\n    let listener = tokio::net::TcpListener::bind(\"127.0.0.1:3000\").await.unwrap();\n    axum::serve(listener, app::router()).await.unwrap();\n}\n",
        ),
        (
            "src/bin/report.rs",
            "fn main() {\n    app::export_report();\n}\n",
        ),
    ];
    for (path, text) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }
    let analysis = analysis::analyze(root).expect("analysed");
    let items: Vec<&str> = analysis
        .hazards
        .iter()
        .filter(|h| h.entrypoints.is_empty())
        .map(|h| h.item.as_str())
        .collect();
    // No route reaches `load_config`; the serving binary's start-up does.
    assert!(items.contains(&"app::load_config"), "{items:?}");
    let plan = two_functions(&analysis);
    let source = DirSource::new(root);
    let tree = generate(&Input {
        analysis: &analysis,
        plan: &plan,
        plan_file: "plan.toml",
        source: &source,
        adapter: Adapter::Native,
        monolith_url: None,
        placement: None,
    })
    .expect("generated")
    .tree;
    let migration = text(&tree, "MIGRATION.md");
    let section = start_up_section(migration);
    assert!(section.contains("(`app::load_config`)"), "{section}");
    assert!(!section.contains("export_report"), "{section}");
}

/// Inputs at the workspace's root that crates find by searching upward
/// (diesel's `embed_migrations!()`, `diesel.toml`) are at the generated
/// root too, where that search from a copied crate ends.
#[test]
fn root_migrations_and_diesel_toml_are_carried_to_the_generated_root() {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("mkdir");
        for entry in std::fs::read_dir(from).expect("read_dir").flatten() {
            let name = entry.file_name();
            if name == "target" {
                continue;
            }
            let (src, dst) = (entry.path(), to.join(&name));
            if src.is_dir() {
                copy(&src, &dst);
            } else {
                std::fs::copy(&src, &dst).expect("copy");
            }
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("forum");
    copy(&fixture("forum-actix"), &root);
    std::fs::create_dir_all(root.join("migrations/2024-01-01_init")).expect("mkdir");
    std::fs::write(
        root.join("migrations/2024-01-01_init/up.sql"),
        "CREATE TABLE t (id INT);\n",
    )
    .expect("write");
    std::fs::write(
        root.join("diesel.toml"),
        "[print_schema]\nfile = \"x.rs\"\n",
    )
    .expect("write");
    let analysis = analysis::analyze(&root).expect("analysed");
    let plan = two_functions(&analysis);
    let tree = generate(&Input {
        analysis: &analysis,
        plan: &plan,
        plan_file: "plan.toml",
        source: &DirSource::new(root),
        adapter: Adapter::Native,
        monolith_url: None,
        placement: None,
    })
    .expect("generated")
    .tree;
    assert_eq!(
        text(&tree, "migrations/2024-01-01_init/up.sql"),
        "CREATE TABLE t (id INT);\n"
    );
    assert!(text(&tree, "diesel.toml").contains("print_schema"));
}

/// Every variable the analysis found is a stack parameter that
/// `Globals.Function.Environment` passes on: secrets `NoEcho` and without
/// the app's development fallback, defaults as the code spells them, an
/// optional one set only when given.
#[test]
fn every_variable_is_a_parameter_in_the_functions_environment() {
    for name in FIXTURES {
        let (analysis, tree) = generated_with(name, Adapter::Native, "");
        let template = text(&tree, "template.yaml");
        let parameters = section(template, "Parameters");
        let globals = section(template, "Globals");
        let conditions = section(template, "Conditions");
        assert!(!analysis.config.is_empty(), "{name} reads variables");
        for v in &analysis.config {
            let id = format!(
                "Env{}",
                crate::docs::logical_id(&v.name.to_ascii_lowercase())
            );
            let start = parameters.find(&format!("\n  {id}:\n")).unwrap_or_else(|| {
                panic!("{name}: no parameter {id} for {}:\n{parameters}", v.name)
            });
            let body: String = parameters[start + 1..]
                .lines()
                .skip(1)
                .take_while(|l| l.starts_with("    "))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(body.contains("Type: String"), "{name} {id}:\n{body}");
            assert_eq!(
                body.contains("NoEcho: true"),
                v.secret,
                "{name} {id}:\n{body}"
            );
            let default = body
                .lines()
                .find_map(|l| l.trim().strip_prefix("Default: "));
            match (&v.required, &v.default, v.secret) {
                (true, _, _) | (false, Some(_), true) => {
                    assert_eq!(default, None, "{name} {id}:\n{body}")
                }
                (false, Some(d), false) => {
                    assert_eq!(default, Some(format!("{d:?}").as_str()), "{name} {id}")
                }
                (false, None, _) => {
                    assert_eq!(default, Some("\"\""), "{name} {id}");
                    assert!(
                        conditions
                            .contains(&format!("  Has{id}: !Not [!Equals [\"\", !Ref {id}]]")),
                        "{name} {id}:\n{conditions}"
                    );
                }
            }
            let wired = if v.required || v.default.is_some() {
                format!("        {}: !Ref {id}\n", v.name)
            } else {
                format!(
                    "        {}: !If [Has{id}, !Ref {id}, !Ref AWS::NoValue]\n",
                    v.name
                )
            };
            assert!(globals.contains(&wired), "{name}: no\n{wired}in\n{globals}");
        }
        // The table in MIGRATION.md names each one and where it is read.
        let migration = text(&tree, "MIGRATION.md");
        for v in &analysis.config {
            let r = &v.reads[0];
            assert!(
                migration.contains(&format!("| `{}` | `{}:{}`", v.name, r.file, r.line)),
                "{name}: {} not in MIGRATION.md",
                v.name
            );
        }
    }
}

#[test]
fn no_function_name_is_hard_coded_and_outputs_give_each_function() {
    for name in FIXTURES {
        let tree = generated(name, Adapter::Native);
        let template = text(&tree, "template.yaml");
        assert!(!template.contains("FunctionName:"), "{name}:\n{template}");
        let outputs = &template[template.find("\nOutputs:\n").expect("Outputs")..];
        for id in ["FirstFunction", "SecondFunction"] {
            assert!(
                outputs.contains(&format!("  {id}Arn:\n"))
                    && outputs.contains(&format!("Value: !GetAtt {id}.Arn")),
                "{name}:\n{outputs}"
            );
        }
    }
}

#[test]
fn vpc_is_optional_through_a_condition() {
    let tree = generated("shop-axum", Adapter::Native);
    let template = text(&tree, "template.yaml");
    let parameters = section(template, "Parameters");
    for p in ["VpcSubnetIds", "VpcSecurityGroupIds"] {
        assert!(
            parameters.contains(&format!(
                "  {p}:\n    Type: CommaDelimitedList\n    Default: \"\"\n"
            )),
            "{parameters}"
        );
    }
    let conditions = section(template, "Conditions");
    assert!(
        conditions.contains(
            "  HasVpc: !And [!Not [!Equals [\"\", !Join [\"\", !Ref VpcSubnetIds]]], !Not [!Equals [\"\", !Join [\"\", !Ref VpcSecurityGroupIds]]]]\n"
        ),
        "{conditions}"
    );
    assert!(
        section(template, "Globals").contains(
            "    VpcConfig: !If [HasVpc, {SubnetIds: !Ref VpcSubnetIds, SecurityGroupIds: !Ref VpcSecurityGroupIds}, !Ref AWS::NoValue]\n"
        ),
        "{template}"
    );
}

#[test]
fn each_function_logs_to_its_own_group_with_retention() {
    let plain = generated("notes-rocket", Adapter::Native);
    let (_, tuned) = generated_with(
        "notes-rocket",
        Adapter::Native,
        "[deploy]\nlog_retention_days = 90\nlog_format = \"json\"\ntracing = true\n",
    );
    for (tree, days, format, tracing) in [(&plain, 30, "Text", false), (&tuned, 90, "JSON", true)] {
        let template = text(tree, "template.yaml");
        let all = resources(template);
        for (id, body) in functions(template) {
            assert!(
                body.contains(&format!(
                    "      LoggingConfig:\n        LogGroup: !Ref {id}Logs\n        LogFormat: {format}\n"
                )),
                "{id}:\n{body}"
            );
            let logs = all
                .iter()
                .find(|(l, _)| *l == format!("{id}Logs"))
                .map(|(_, b)| b.as_str())
                .unwrap_or_else(|| panic!("no {id}Logs"));
            assert_eq!(
                logs,
                format!(
                    "    Type: AWS::Logs::LogGroup\n    Properties:\n      RetentionInDays: {days}\n"
                )
            );
        }
        assert_eq!(
            section(template, "Globals").contains("    Tracing: Active\n"),
            tracing,
            "{template}"
        );
    }
}

/// `[deploy.env]`: the value comes from Secrets Manager or SSM through a
/// dynamic reference in each function's properties (not a parameter), and
/// each function may read exactly those secrets and parameters.
#[test]
fn deploy_env_resolves_secrets_and_grants_reading_exactly_those() {
    let (_, tree) = generated_with(
        "shop-axum",
        Adapter::Native,
        "[deploy.env]\nDATABASE_URL = \"secretsmanager:prod/shop:SecretString:url\"\nUPLOAD_DIR = \"ssm:/shop/upload-dir\"\n",
    );
    let template = text(&tree, "template.yaml");
    assert!(
        !section(template, "Parameters").contains("EnvDatabaseUrl"),
        "{template}"
    );
    assert!(
        !section(template, "Globals").contains("DATABASE_URL"),
        "{template}"
    );
    assert!(section(template, "Globals").contains("        PORT: !Ref EnvPort\n"));
    for (id, body) in functions(template) {
        for expected in [
            "          DATABASE_URL: \"{{resolve:secretsmanager:prod/shop:SecretString:url}}\"\n",
            "          UPLOAD_DIR: \"{{resolve:ssm:/shop/upload-dir}}\"\n",
            "            - Effect: Allow\n              Action: secretsmanager:GetSecretValue\n              Resource:\n                - !Sub \"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:prod/shop-??????\"\n",
            "            - Effect: Allow\n              Action: ssm:GetParameter\n              Resource:\n                - !Sub \"arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/shop/upload-dir\"\n",
        ] {
            assert!(body.contains(expected), "{id} lacks\n{expected}in\n{body}");
        }
    }
    let migration = text(&tree, "MIGRATION.md");
    assert!(
        migration.contains("| resolved from Secrets Manager |"),
        "{migration}"
    );
    assert!(
        migration.contains("| resolved from SSM Parameter Store |"),
        "{migration}"
    );
}

/// The lines of `body` (a resource, a section) from the one that is
/// `first` to the next at the same indent or less.
fn block<'t>(body: &'t str, first: &str) -> &'t str {
    let start = body
        .find(&format!("{first}\n"))
        .unwrap_or_else(|| panic!("no {first:?} in\n{body}"));
    let indent = first.len() - first.trim_start().len();
    let rest = &body[start..];
    let mut end = rest.len();
    let mut offset = 0;
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        if i > 0 && !line.trim().is_empty() && line.len() - line.trim_start().len() <= indent {
            end = offset;
            break;
        }
        offset += line.len();
    }
    &rest[..end]
}

/// `--monolith-url`: the API's default route is an HTTP proxy to the
/// monolith (the request's own path), every route event stays on its
/// function on that API, and each function can hand its routes back to
/// the monolith by a parameter (its resources then not deployed).
#[test]
fn monolith_url_proxies_the_default_route_and_keeps_routes_on_functions() {
    for name in FIXTURES {
        for adapter in [Adapter::Native, Adapter::WebAdapter] {
            let (_, tree) = generated_full(
                name,
                adapter,
                "",
                Some("https://monolith.example.com:8443/"),
            );
            let template = text(&tree, "template.yaml");
            let parameters = section(template, "Parameters");
            assert!(
                parameters.contains(
                    "  MonolithUrl:\n    Type: String\n    Default: \"https://monolith.example.com:8443\"\n"
                ),
                "{name}:\n{parameters}"
            );
            let all = resources(template);
            let api = &all
                .iter()
                .find(|(id, _)| id == "HttpApi")
                .unwrap_or_else(|| panic!("{name}: no HttpApi in\n{template}"))
                .1;
            assert!(
                api.starts_with("    Type: AWS::Serverless::HttpApi\n"),
                "{api}"
            );
            let default = block(api, "          $default:");
            for expected in [
                "              isDefaultRoute: true\n",
                "                type: http_proxy\n",
                "                httpMethod: ANY\n",
                "                uri: !Ref MonolithUrl\n",
                "                  \"overwrite:path\": \"$request.path\"\n",
            ] {
                assert!(
                    default.contains(expected),
                    "{name}: {expected:?} in\n{default}"
                );
            }
            // No function takes the default route; every event is on the API.
            assert!(
                !template.contains("        DefaultRoute:\n"),
                "{name}:\n{template}"
            );
            for (id, body) in functions(template) {
                assert!(
                    body.starts_with(&format!(
                        "    Type: AWS::Serverless::Function\n    Condition: {id}OnLambda\n"
                    )),
                    "{name} {id}:\n{body}"
                );
                let events = body.matches("          Type: HttpApi\n").count();
                assert!(events > 0, "{name} {id}");
                assert_eq!(
                    body.matches("            ApiId: !Ref HttpApi\n").count(),
                    events,
                    "{name} {id}:\n{body}"
                );
                assert!(
                    parameters.contains(&format!(
                        "  {id}Routes:\n    Type: String\n    Default: function\n    AllowedValues: [function, monolith]\n"
                    )),
                    "{name} {id}:\n{parameters}"
                );
                assert!(
                    section(template, "Conditions").contains(&format!(
                        "  {id}OnLambda: !Equals [!Ref {id}Routes, function]\n"
                    )),
                    "{name} {id}"
                );
                let logs = &all
                    .iter()
                    .find(|(l, _)| *l == format!("{id}Logs"))
                    .expect("logs")
                    .1;
                assert!(
                    logs.contains(&format!("    Condition: {id}OnLambda\n")),
                    "{logs}"
                );
            }
            assert!(
                template.contains("https://${HttpApi}.execute-api."),
                "{name}"
            );
            assert!(!template.contains("ServerlessHttpApi"), "{name}");
            // The documents say where unmatched requests go and the order to move.
            let migration = text(&tree, "MIGRATION.md");
            assert!(
                migration.contains("HTTP proxy to the running monolith"),
                "{name}:\n{migration}"
            );
            assert!(!migration.contains("sends such requests to"), "{name}");
            let readme = text(&tree, "README.md");
            let start = readme
                .find("\n## Moving routes a few at a time\n")
                .unwrap_or_else(|| panic!("{name}: no strangler section in\n{readme}"));
            let moving = &readme[start + 1..];
            let moving = &moving[..moving.find("\n## ").unwrap_or(moving.len())];
            for function in ["first", "second"] {
                assert_eq!(
                    moving
                        .lines()
                        .filter(|l| l.trim_start().starts_with(char::is_numeric)
                            && l.contains(&format!("`{function}` (`")))
                        .count(),
                    1,
                    "{name}: {function} once in the order:\n{moving}"
                );
            }
        }
    }
    // Without the flag: SAM's implicit API, and the first function takes the
    // default route (the_first_function_takes_the_api_default_route).
    let plain = generated("shop-axum", Adapter::Native);
    let template = text(&plain, "template.yaml");
    assert!(
        !template.contains("MonolithUrl") && !template.contains("ApiId:"),
        "{template}"
    );
    assert!(!text(&plain, "README.md").contains("## Moving routes"));
}

#[test]
fn monolith_url_is_an_origin() {
    use crate::docs::Monolith;
    for good in [
        "https://monolith.example.com",
        "https://monolith.example.com/",
        "http://10.0.0.12:8080",
        "https://app-1.internal:443/",
    ] {
        let m = Monolith::parse(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        assert_eq!(m.url, good.trim_end_matches('/'));
    }
    for bad in [
        "",
        "monolith.example.com",
        "ftp://monolith.example.com",
        "https://",
        "https://monolith.example.com/api",
        "https://monolith.example.com?x=1",
        "https://user:pw@monolith.example.com",
        "https://monolith.example.com:0",
        "https://monolith.example.com:99999",
        "https://monolith..example.com",
        "https://mono lith.example.com",
        "https://monolith.example.com:8080:1",
        "https://\"x\".com",
    ] {
        let err = Monolith::parse(bad).expect_err(bad);
        assert!(err.contains("https://host[:port]"), "{bad}: {err}");
    }
    // generate says so, naming the flag.
    let root = fixture("notes-rocket");
    let analysis = analysis::analyze(&root).expect("the fixture is analysed");
    let plan = two_functions(&analysis);
    let source = DirSource::new(root);
    let err = generate(&Input {
        analysis: &analysis,
        plan: &plan,
        plan_file: "plan.toml",
        source: &source,
        adapter: Adapter::Native,
        monolith_url: Some("https://monolith.example.com/v1"),
        placement: None,
    })
    .expect_err("a URL with a path is refused");
    assert!(err.to_string().starts_with("--monolith-url: "), "{err}");
}

/// A function resource's `HttpApi` events: `METHOD /path` (API Gateway's).
fn events_of(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut path = None;
    for line in body.lines() {
        if let Some(p) = line.strip_prefix("            Path: ") {
            path = Some(p.trim_matches('"').to_owned());
        } else if let (Some(m), Some(p)) = (line.strip_prefix("            Method: "), &path) {
            out.push(format!("{m} {p}"));
            path = None;
        }
    }
    out
}

/// An API Gateway path as the watch router keys it: `/a/{id}/{rest+}` ->
/// `/a/{p1}/{*rest}`.
fn watch_key(path: &str) -> String {
    let mut n = 0;
    path.split('/')
        .map(|s| {
            if s.starts_with('{') && s.ends_with("+}") {
                "{*rest}".to_owned()
            } else if s.starts_with('{') {
                n += 1;
                format!("{{p{n}}}")
            } else {
                s.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// HEAD goes to the GET route's function on API Gateway (an event of its
/// own) as under `cargo lambda watch`, and not to the default route.
#[test]
fn head_reaches_the_get_owner_on_api_gateway_as_under_watch() {
    for name in FIXTURES {
        let (analysis, tree) = generated_with(name, Adapter::Native, "");
        let plan = two_functions(&analysis);
        let template = text(&tree, "template.yaml");
        let mut heads = 0;
        for (id, body) in functions(template) {
            let function = id.trim_end_matches("Function").to_ascii_lowercase();
            let events = events_of(&body);
            for e in &events {
                if let Some(path) = e.strip_prefix("GET ") {
                    assert!(
                        events.contains(&format!("HEAD {path}")),
                        "{name} {id}: GET {path} without HEAD in {events:?}"
                    );
                }
                // The fixtures plan no HEAD route: each one is a GET's.
                if let Some(path) = e.strip_prefix("HEAD ") {
                    heads += 1;
                    assert!(events.contains(&format!("GET {path}")), "{name} {id}: {e}");
                }
            }
            // The watch router sends the same HEAD requests to the same function.
            let owner = plan
                .functions
                .iter()
                .flat_map(|f| f.routes.iter().map(|r| (r.clone(), f.name.clone())))
                .collect();
            let router = crate::workspace::watch_router(&owner);
            for e in events.iter().filter_map(|e| e.strip_prefix("HEAD ")) {
                if let Some(methods) = router.get(&watch_key(e)) {
                    assert!(
                        methods.contains(&("HEAD".to_owned(), function.clone())),
                        "{name}: HEAD {e} is {function}'s on API Gateway, {methods:?} under watch"
                    );
                }
            }
        }
        assert!(heads > 0, "{name}: no HEAD event");
    }
}

/// A planned HEAD route of the same shape keeps HEAD, on API Gateway and
/// under watch, whatever its parameters are called.
#[test]
fn a_planned_head_route_keeps_head() {
    let pairs = |list: &[&str]| -> Vec<(String, String)> {
        list.iter()
            .filter_map(|r| r.split_once(' '))
            .map(|(m, p)| (m.to_owned(), p.to_owned()))
            .collect()
    };
    let all = pairs(&[
        "GET /x/{id}",
        "HEAD /x/{slug}",
        "GET /y",
        "ANY /y",
        "POST /z",
    ]);
    assert_eq!(
        crate::docs::with_head(&pairs(&["GET /x/{id}", "GET /y", "POST /z"]), &all),
        pairs(&["GET /x/{id}", "GET /y", "POST /z", "HEAD /y"])
    );
    let owner = [
        ("GET /x/{id}", "a"),
        ("HEAD /x/{slug}", "b"),
        ("GET /y", "a"),
        ("ANY /y", "c"),
    ]
    .into_iter()
    .map(|(r, f)| (r.to_owned(), f.to_owned()))
    .collect();
    let router = crate::workspace::watch_router(&owner);
    let head = |path: &str| {
        router[path]
            .iter()
            .find(|(m, _)| m == "HEAD")
            .map(|(_, f)| f.as_str())
    };
    assert_eq!(head("/x/{p1}"), Some("b"));
    assert_eq!(head("/y"), Some("a"));
}

/// `[deploy] alias` + `deployment`: each function publishes a version
/// behind the alias, CodeDeploy shifts it, and an alarm on the new
/// version's errors (its own, per function) rolls it back.
#[test]
fn alias_and_deployment_roll_back_on_each_functions_errors() {
    let (_, tree) = generated_with(
        "notes-rocket",
        Adapter::Native,
        "[deploy]\nalias = \"live\"\ndeployment = \"Linear10PercentEvery1Minute\"\n",
    );
    let template = text(&tree, "template.yaml");
    let all = resources(template);
    let functions = functions(template);
    assert_eq!(functions.len(), 2);
    for (id, body) in &functions {
        for expected in [
            "      AutoPublishAlias: live\n".to_owned(),
            format!(
                "      DeploymentPreference:\n        Type: Linear10PercentEvery1Minute\n        Alarms:\n          - !Ref {id}Errors\n"
            ),
        ] {
            assert!(body.contains(&expected), "{id} lacks\n{expected}in\n{body}");
        }
        let alarm = &all
            .iter()
            .find(|(a, _)| *a == format!("{id}Errors"))
            .unwrap_or_else(|| panic!("no {id}Errors"))
            .1;
        for expected in [
            "    Type: AWS::CloudWatch::Alarm\n".to_owned(),
            "      Namespace: AWS/Lambda\n      MetricName: Errors\n".to_owned(),
            format!("          Value: !Sub \"${{{id}}}:live\"\n"),
            format!("          Value: !Ref {id}\n"),
            format!(
                "        - Name: ExecutedVersion\n          Value: !GetAtt {id}.Version.Version\n"
            ),
            "      ComparisonOperator: GreaterThanThreshold\n".to_owned(),
        ] {
            assert!(
                alarm.contains(&expected),
                "{id}Errors lacks\n{expected}in\n{alarm}"
            );
        }
    }
    assert!(text(&tree, "README.md").contains("### Rolling back"));
    // An alias alone: versions and the alias, no CodeDeploy, no alarm.
    let (_, alias_only) = generated_with(
        "notes-rocket",
        Adapter::Native,
        "[deploy]\nalias = \"live\"\n",
    );
    let template = text(&alias_only, "template.yaml");
    assert!(
        template.contains("      AutoPublishAlias: live\n"),
        "{template}"
    );
    assert!(
        !template.contains("DeploymentPreference") && !template.contains("AWS::CloudWatch::Alarm")
    );
    // Neither: as before.
    let plain = generated("notes-rocket", Adapter::Native);
    assert!(!text(&plain, "template.yaml").contains("AutoPublishAlias"));
}

/// `[deploy] pool_max` caps each pool in the copied code, lists every
/// pool in MIGRATION.md, and without it the copied file is the monolith's.
#[test]
fn pool_max_caps_the_pools_in_the_copied_code() {
    let (analysis, tree) = generated_with("shop-axum", Adapter::Native, "[deploy]\npool_max = 2\n");
    let pools: Vec<&cleave_analyzer::hazards::Hazard> = analysis
        .hazards
        .iter()
        .filter(|h| h.code == "connection-pool")
        .collect();
    assert!(!pools.is_empty());
    let migration = text(&tree, "MIGRATION.md");
    for h in &pools {
        assert!(
            migration.contains(&format!(
                "- `{}:{}` (`{}`): capped at 2",
                h.file, h.line, h.item
            )),
            "{migration}"
        );
    }
    let copied = |tree: &Tree| -> String {
        let (_, bytes) = tree
            .iter()
            .find(|(path, _)| path.ends_with("/src/db.rs"))
            .expect("db.rs is copied");
        String::from_utf8(bytes.clone()).expect("UTF-8")
    };
    let capped = copied(&tree);
    assert!(
        capped.contains(".max_connections(::std::cmp::min(max_connections, 2))"),
        "{capped}"
    );
    assert!(
        migration.contains("- `src/db.rs:62`: `.max_connections(max_connections)` became"),
        "{migration}"
    );
    let monolith = std::fs::read_to_string(fixture("shop-axum").join("src/db.rs")).expect("read");
    let written = "        .max_connections(max_connections)\n";
    assert!(monolith.contains(written));
    assert!(copied(&generated("shop-axum", Adapter::Native)).contains(written));
    assert_eq!(capped.lines().count(), monolith.lines().count());
}

/// The start-up code's schema work is wrapped so deployed functions skip
/// it; template.yaml sets the variable that skips it, MIGRATION.md lists
/// the step and says how to run it once per deployment.
#[test]
fn start_up_migrations_are_skipped_on_aws_and_listed() {
    let (analysis, tree) = generated_with("shop-axum", Adapter::Native, "");
    let steps: Vec<&cleave_analyzer::hazards::Hazard> = analysis
        .hazards
        .iter()
        .filter(|h| h.code == "startup-work" && h.entrypoints.is_empty())
        .collect();
    assert!(!steps.is_empty());
    let migration = text(&tree, "MIGRATION.md");
    for h in &steps {
        assert!(
            migration.contains(&format!(
                "- `{}:{}` (`{}`): skipped on AWS",
                h.file, h.line, h.item
            )),
            "{migration}"
        );
    }
    assert!(
        migration.contains("Run the migrations once per deployment"),
        "{migration}"
    );
    let template = text(&tree, "template.yaml");
    assert!(
        template.contains("        CLEAVE_SKIP_MIGRATIONS: \"1\"\n"),
        "{template}"
    );
    let (_, db) = tree
        .iter()
        .find(|(path, _)| path.ends_with("/src/db.rs"))
        .expect("db.rs is copied");
    let db = String::from_utf8(db.clone()).expect("UTF-8");
    assert!(
        db.contains("        if ::std::env::var_os(\"CLEAVE_SKIP_MIGRATIONS\").is_none() { sqlx::query(statement).execute(pool).await?; }\n"),
        "{db}"
    );
}

/// The workspace `generate` writes for the project at `root` (native
/// adapter, no `--monolith-url`).
fn generate_native(root: &Path, analysis: &Analysis, plan: &Plan) -> Tree {
    let source = DirSource::new(root.to_path_buf());
    generate(&Input {
        analysis,
        plan,
        plan_file: "plan.toml",
        source: &source,
        adapter: Adapter::Native,
        monolith_url: None,
        placement: None,
    })
    .unwrap_or_else(|e| panic!("{e}"))
    .tree
}

/// Copies the tree at `from` into `to` (sources and manifests; `expected`
/// and `target` left out).
fn copy_fixture(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read the fixture") {
        let entry = entry.expect("an entry");
        let name = entry.file_name();
        if name == "expected" || name == "target" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            std::fs::create_dir_all(&dst).expect("mkdir");
            copy_fixture(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).expect("copy");
        }
    }
}

/// The plan's `features` that the serving package declares are turned on
/// in every function's dependency on it (as `cargo build --features`
/// turned them on in the monolith); another package's are not its to ask.
#[test]
fn plan_features_of_the_serving_package_reach_every_function() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_fixture(&fixture("shop-axum"), dir.path());
    let manifest = dir.path().join("Cargo.toml");
    let own = std::fs::read_to_string(&manifest).expect("the manifest");
    std::fs::write(&manifest, format!("{own}\n[features]\naudit = []\n")).expect("write");
    let features = vec!["audit".to_owned(), "other/x".to_owned()];
    let options = analysis::Options {
        features: vec!["audit".to_owned()],
        ..Default::default()
    };
    let analysis = analysis::analyze_with(dir.path(), &options).expect("analysed");
    let mut plan = two_functions(&analysis);
    plan.features = features;
    let tree = generate_native(dir.path(), &analysis, &plan);
    for f in ["first", "second"] {
        let manifest = text(&tree, &format!("functions/{f}/Cargo.toml"));
        let dep = manifest
            .lines()
            .find(|l| l.starts_with("shop"))
            .unwrap_or_else(|| panic!("the dependency on the app in\n{manifest}"));
        assert!(dep.contains("features = [\"audit\"]"), "{dep}");
    }
}

/// What macros read at compile time, relative to the manifest
/// (`sqlx::migrate!("./db/schema")`) or to rustc's working directory
/// (`grass::include!("data/x.scss")`): every file of the serving package
/// that is not Rust source is copied into the main crate, but its tests,
/// benches, examples and `node_modules`; a root package's also at the root.
#[test]
fn the_serving_packages_data_files_are_copied() {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_fixture(&fixture("shop-axum"), dir.path());
    let main = dir.path().join("src/main.rs");
    let own = std::fs::read_to_string(&main).expect("main.rs");
    std::fs::write(
        &main,
        format!(
            "{own}\nstatic MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!(\"./db/schema\");\n"
        ),
    )
    .expect("write");
    std::fs::create_dir_all(dir.path().join("db/schema")).expect("mkdir");
    std::fs::write(
        dir.path().join("db/schema/0001_init.sql"),
        "create table t (id int);\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("db/notes.txt"), "not named by the code\n").expect("write");
    for left_out in [
        "tests/data/a.json",
        "node_modules/x/index.js",
        "web/node_modules/y.js",
    ] {
        let path = dir.path().join(left_out);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, "{}\n").expect("write");
    }
    let analysis = analysis::analyze(dir.path()).expect("analysed");
    let plan = two_functions(&analysis);
    let tree = generate_native(dir.path(), &analysis, &plan);
    let copied: Vec<&str> = tree
        .keys()
        .filter_map(|p| p.strip_prefix("crates/shop-main/"))
        .filter(|p| !p.starts_with("src/"))
        .collect();
    assert_eq!(
        copied,
        [
            "Cargo.toml",
            "README.md",
            "db/notes.txt",
            "db/schema/0001_init.sql"
        ]
    );
    // The package is the monolith's root, where rustc ran: its data files
    // are at the generated root too (cwd-relative reads), but for names
    // the generated workspace writes there.
    let at_root: Vec<&String> = tree.keys().filter(|p| p.starts_with("db/")).collect();
    assert_eq!(at_root, ["db/notes.txt", "db/schema/0001_init.sql"]);
    assert!(
        text(&tree, "README.md").contains("cleave"),
        "the generated README stays"
    );
}

/// A workspace member analysed on its own whose framework dependency comes
/// from the workspace above (`axum = { workspace = true }`): the version is
/// in a manifest cleave does not read, so `generate` names the line and
/// sends the user to the workspace's root (it asked to "update axum").
#[test]
fn a_framework_inherited_from_a_workspace_above_is_refused_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).expect("mkdir");
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"mint\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ntokio = { workspace = true }\naxum = { workspace = true, features = [\"http2\"] }\n",
    )
    .expect("write");
    std::fs::write(
        root.join("src/main.rs"),
        "use axum::{routing::get, Router};\nasync fn a() {}\nasync fn b() {}\n#[tokio::main]\nasync fn main() {\n    let app = Router::new().route(\"/a\", get(a)).route(\"/b\", get(b));\n    let l = tokio::net::TcpListener::bind(\"127.0.0.1:0\").await.unwrap();\n    axum::serve(l, app).await.unwrap();\n}\n",
    )
    .expect("write");
    let analysis = analysis::analyze(root).expect("analysed");
    let plan = two_functions(&analysis);
    let source = DirSource::new(root.to_path_buf());
    let err = generate(&Input {
        analysis: &analysis,
        plan: &plan,
        plan_file: "plan.toml",
        source: &source,
        adapter: Adapter::Native,
        monolith_url: None,
        placement: None,
    })
    .err()
    .unwrap_or_else(|| panic!("refused"));
    assert_eq!(
        err.to_string(),
        "Cargo.toml:8: `axum` is inherited from a workspace above the analysed directory (`workspace = true`), whose version cleave does not read from here; run cleave on that workspace's root"
    );
}
