//! `cleave generate` on the two fixtures whose server is hard to find:
//! `helpdesk-actix` builds its actix server in a fn, keeps it unawaited in
//! a struct and awaits it later (zero2prod's `Application`), and
//! `shortlinks-axum` (axum 0.7) serves from the `serve` arm of a clap
//! command line, several library calls down.
//!
//! For each fixture, three tests:
//! - **replay**: analyze into the `auto` plan, generate, check that
//!   `template.yaml` gives each function exactly its routes, `cargo build`
//!   the workspace, run the monolith and every function side by side (each
//!   started as the monolith is, the functions on one shared database) and
//!   replay a request script: each request goes to the function owning its
//!   route (a request no route matches goes to every function) and must be
//!   answered as the monolith answers it (status, content type, location,
//!   body with tokens and clocks masked); then every function must 404
//!   each route another function owns.
//! - **watch**: the same workspace under `cargo lambda watch -A 127.0.0.1`
//!   (the Lambda runtime API; functions started as Lambda starts them, with
//!   no arguments), the script's routed requests at the original URLs.
//! - **web adapter**: generate with `--adapter web-adapter`: every function
//!   is behind the Lambda Web Adapter layer in the template, no manifest
//!   names `lambda_http`; then the built functions, started as the adapter
//!   starts them (no arguments, `PORT` set, `AWS_LAMBDA_RUNTIME_API` set,
//!   which they must ignore), replay the script like the native ones.
//!
//! The heavy parts run one at a time (a lock), since they build and run
//! servers on a small machine; the replay and watch tests of a fixture
//! share one generated workspace and build.

mod support;

use std::collections::HashMap;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use serde_json::Value;
use support::{
    E2e, PlanFunction, Proc, REQUEST_TIMEOUT, Reply, Request, cargo_lambda, concrete, free_port,
    parse_plan, parse_yaml, progress, read, repo, reset_dir, send, template_functions,
};

const TEST: &str = "generate_shapes";

// ---------------------------------------------------------------------------
// The fixtures

/// A fixture and how to run it.
struct Shape {
    label: &'static str,
    dir: &'static str,
    /// The monolith's binary.
    bin: &'static str,
    /// How the monolith is started (the server's subcommand).
    args: &'static [&'static str],
    /// The settings every copy gets, besides `PORT` and `DATABASE_URL`.
    env: &'static [(&'static str, &'static str)],
    script: fn() -> Vec<Step>,
    /// JSON fields whose values differ between two correct runs.
    masked: &'static [&'static str],
}

const HELPDESK: Shape = Shape {
    label: "helpdesk",
    dir: "fixtures/helpdesk-actix",
    bin: "helpdesk",
    args: &[],
    env: &[
        ("HELPDESK_AGENT_EMAIL", "agent@e2e.local"),
        ("HELPDESK_AGENT_PASSWORD", "e2e-password"),
        ("HELPDESK_NAME", "e2e desk"),
    ],
    script: helpdesk_script,
    masked: &["token", "opened_at"],
};

const SHORTLINKS: Shape = Shape {
    label: "shortlinks",
    dir: "fixtures/shortlinks-axum",
    bin: "shortlinks",
    args: &["serve"],
    env: &[
        ("SHORTLINKS_ADMIN_TOKEN", "e2e-admin"),
        ("SHORTLINKS_PUBLIC_URL", "https://sho.rt"),
    ],
    script: shortlinks_script,
    masked: &["key"],
};

// ---------------------------------------------------------------------------
// The tests

#[test]
fn helpdesk_functions_answer_like_the_monolith() {
    replay_side_by_side(&HELPDESK);
}

#[test]
fn shortlinks_functions_answer_like_the_monolith() {
    replay_side_by_side(&SHORTLINKS);
}

#[test]
fn helpdesk_under_cargo_lambda_watch() {
    through_cargo_lambda_watch(&HELPDESK);
}

#[test]
fn shortlinks_under_cargo_lambda_watch() {
    through_cargo_lambda_watch(&SHORTLINKS);
}

#[test]
fn helpdesk_behind_the_web_adapter() {
    behind_the_web_adapter(&HELPDESK);
}

#[test]
fn shortlinks_behind_the_web_adapter() {
    behind_the_web_adapter(&SHORTLINKS);
}

fn replay_side_by_side(shape: &Shape) {
    let _serial = serial();
    let built = built(shape);
    let run = built.dir.join("run-replay");
    reset_dir(&run);
    let mut problems = check_events(shape, &built.ws, &built.plan);

    let mono = start(
        shape,
        "monolith",
        as_monolith(shape, &built.monolith),
        &run,
        "monolith",
    );
    let mut functions = Vec::new();
    for (function, binary) in built.plan.iter().zip(&built.functions) {
        let command = as_monolith(shape, binary);
        let server = start(shape, &function.name, command, &run, "functions");
        functions.push((function.clone(), server));
    }
    let split = Split::Functions(&functions);
    problems.extend(replay(shape, mono.port, &split, true));
    problems.extend(foreign_routes_get_404(shape, &functions));
    report(shape, "replay", &problems, &run);
}

fn through_cargo_lambda_watch(shape: &Shape) {
    let _serial = serial();
    let cargo_lambda = cargo_lambda();
    let built = built(shape);
    let run = built.dir.join("run-watch");
    reset_dir(&run);
    let mono = start(
        shape,
        "monolith",
        as_monolith(shape, &built.monolith),
        &run,
        "monolith",
    );

    let env_file = run.join("watch.env");
    // Quoted: cargo-lambda's reader rejects an unquoted `=` in a value.
    let lines: Vec<String> = app_env(shape, &run, "watch")
        .iter()
        .map(|(k, v)| {
            assert!(!v.contains(['"', '\\', '$']), "{k}={v} needs escaping");
            format!("{k}=\"{v}\"")
        })
        .collect();
    fs::write(&env_file, lines.join("\n") + "\n").expect("write env file");
    let port = free_port();
    let mut command = Command::new(cargo_lambda);
    command
        .args([
            "lambda",
            "watch",
            "--ignore-changes",
            "-A",
            "127.0.0.1",
            "-P",
        ])
        .arg(port.to_string())
        .arg("--env-file")
        .arg(&env_file)
        .current_dir(&built.ws)
        .env("CARGO_TARGET_DIR", &built.e2e.target)
        .env("CARGO", env!("CARGO"))
        .env_remove("PORT")
        .env_remove("AWS_LAMBDA_RUNTIME_API");
    let mut watch = Proc::spawn("cargo lambda watch", &mut command, &run.join("watch.log"));
    watch.wait_until_listening(port);

    let mut problems = replay(shape, mono.port, &Split::Watch(port), false);
    if !problems.is_empty() {
        problems.push(format!(
            "(cargo lambda watch log, tail:)\n{}",
            watch.log_tail(30)
        ));
    }
    drop(watch);
    report(shape, "cargo lambda watch", &problems, &run);
}

fn behind_the_web_adapter(shape: &Shape) {
    let _serial = serial();
    let e2e = E2e::new(&format!("shapes-{}-web-adapter", shape.label));
    let fixture = repo().join(shape.dir);
    let plan_path = e2e.root.join("plan.toml");
    let ws = e2e.root.join("ws");
    let run = e2e.root.join("run");
    reset_dir(&run);
    support::analyze(&fixture, &plan_path);
    support::generate(&fixture, &plan_path, &ws, Some("web-adapter"));
    let plan = parse_plan(&read(&plan_path));

    let mut problems = check_web_adapter_template(&ws, &plan);
    let mut manifests = vec![ws.join("Cargo.toml")];
    manifests.extend(
        plan.iter()
            .map(|f| ws.join("functions").join(&f.name).join("Cargo.toml")),
    );
    for manifest in manifests {
        if read(&manifest).contains("lambda_http") {
            problems.push(format!("{} names lambda_http", manifest.display()));
        }
    }

    let monolith = build_monolith(&e2e, shape);
    let names: Vec<&str> = plan.iter().map(|f| f.name.as_str()).collect();
    let binaries = e2e.build(
        e2e.cargo().args(["build", "--workspace"]).current_dir(&ws),
        &format!("{}-web-adapter", shape.label),
        &names,
    );
    let mono = start(
        shape,
        "monolith",
        as_monolith(shape, &monolith),
        &run,
        "monolith",
    );
    // As on Lambda behind the adapter: the runtime API is set (the adapter
    // uses it; the app must not), and the binary gets no arguments.
    let runtime_api = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let runtime_api = runtime_api.local_addr().expect("addr").to_string();
    let mut functions = Vec::new();
    for (function, binary) in plan.iter().zip(&binaries) {
        let mut command = Command::new(binary);
        command.env("AWS_LAMBDA_RUNTIME_API", &runtime_api);
        let server = start(shape, &function.name, command, &run, "functions");
        functions.push((function.clone(), server));
    }
    let split = Split::Functions(&functions);
    problems.extend(replay(shape, mono.port, &split, true));
    problems.extend(foreign_routes_get_404(shape, &functions));
    report(shape, "web adapter", &problems, &run);
}

// ---------------------------------------------------------------------------
// Generating and building once per fixture

/// The heavy tests take turns.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fixture's `auto` workspace, generated and built.
struct Built {
    e2e: E2e,
    dir: PathBuf,
    plan: Vec<PlanFunction>,
    ws: PathBuf,
    monolith: PathBuf,
    /// One binary per plan function, in plan order.
    functions: Vec<PathBuf>,
}

/// Generates and builds a fixture's workspace the first time a test asks
/// (the replay and watch tests of a fixture share it).
fn built(shape: &Shape) -> &'static Built {
    static HELPDESK_BUILT: OnceLock<Built> = OnceLock::new();
    static SHORTLINKS_BUILT: OnceLock<Built> = OnceLock::new();
    let cell = match shape.label {
        "helpdesk" => &HELPDESK_BUILT,
        _ => &SHORTLINKS_BUILT,
    };
    cell.get_or_init(|| build_workspace(shape))
}

fn build_workspace(shape: &Shape) -> Built {
    let e2e = E2e::new(&format!("shapes-{}", shape.label));
    let dir = e2e.root.clone();
    let fixture = repo().join(shape.dir);
    let plan_path = dir.join("plan.toml");
    let ws = dir.join("ws");
    support::analyze(&fixture, &plan_path);
    support::generate(&fixture, &plan_path, &ws, None);
    let plan = parse_plan(&read(&plan_path));
    assert!(
        plan.len() > 1,
        "{}: the auto plan has one function",
        shape.label
    );
    let monolith = build_monolith(&e2e, shape);
    let names: Vec<&str> = plan.iter().map(|f| f.name.as_str()).collect();
    let functions = e2e.build(
        e2e.cargo().args(["build", "--workspace"]).current_dir(&ws),
        shape.label,
        &names,
    );
    progress(
        TEST,
        &format!(
            "{}: generated and built {} functions",
            shape.label,
            plan.len()
        ),
    );
    Built {
        e2e,
        dir,
        plan,
        ws,
        monolith,
        functions,
    }
}

fn build_monolith(e2e: &E2e, shape: &Shape) -> PathBuf {
    let manifest = repo().join(shape.dir).join("Cargo.toml");
    let mut command = e2e.cargo();
    command
        .args(["build", "--bin", shape.bin, "--manifest-path"])
        .arg(manifest);
    e2e.build(
        &mut command,
        &format!("{}-monolith", shape.label),
        &[shape.bin],
    )
    .remove(0)
}

// ---------------------------------------------------------------------------
// Running copies of the app

/// A running copy, stopped when dropped.
struct Server {
    _proc: Proc,
    port: u16,
}

/// The settings of one copy: its own port, the database `db` under `run`.
fn app_env(shape: &Shape, run: &Path, db: &str) -> Vec<(String, String)> {
    let mut env = vec![(
        "DATABASE_URL".to_owned(),
        format!("sqlite:{}?mode=rwc", run.join(format!("{db}.db")).display()),
    )];
    env.extend(
        shape
            .env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    env
}

/// Starts `command` on a free port with the database `db` under `run`.
/// `AWS_LAMBDA_RUNTIME_API` is removed unless the command sets it.
fn start(shape: &Shape, name: &str, mut command: Command, run: &Path, db: &str) -> Server {
    let port = free_port();
    if !command
        .get_envs()
        .any(|(k, _)| k == "AWS_LAMBDA_RUNTIME_API")
    {
        command.env_remove("AWS_LAMBDA_RUNTIME_API");
    }
    command
        .envs(app_env(shape, run, db))
        .env("PORT", port.to_string());
    let mut proc = Proc::spawn(name, &mut command, &run.join(format!("{name}.log")));
    proc.wait_until_listening(port);
    Server { _proc: proc, port }
}

/// `binary` with the arguments that start the monolith's server.
fn as_monolith(shape: &Shape, binary: &Path) -> Command {
    let mut command = Command::new(binary);
    command.args(shape.args);
    command
}

fn report(shape: &Shape, what: &str, problems: &[String], run: &Path) {
    assert!(
        problems.is_empty(),
        "{}, {what}: {} problem(s):\n\n{}\n\nlogs: {}",
        shape.label,
        problems.len(),
        problems.join("\n\n"),
        run.display()
    );
    progress(TEST, &format!("{}, {what}: no difference", shape.label));
}

// ---------------------------------------------------------------------------
// The template

/// Each function's `HttpApi` events are exactly its routes (one per route
/// shape), and the first function also takes the API's default route.
fn check_events(shape: &Shape, ws: &Path, plan: &[PlanFunction]) -> Vec<String> {
    let template = parse_yaml(&read(&ws.join("template.yaml")));
    let mut functions = template_functions(&template);
    // Scheduled workers' functions are checked by tests/generate_workers.rs.
    functions
        .retain(|_, r| r["Properties"]["Events"]["Schedule"]["Type"].as_str() != Some("Schedule"));
    let mut problems = Vec::new();
    for (at, function) in plan.iter().enumerate() {
        let Some(resource) = functions.get(&function.name) else {
            problems.push(format!("template.yaml has no function `{}`", function.name));
            continue;
        };
        let mut events: Vec<String> = Vec::new();
        for event in resource["Properties"]["Events"]
            .as_hash()
            .into_iter()
            .flat_map(|h| h.values())
        {
            let method = event["Properties"]["Method"].as_str();
            let path = event["Properties"]["Path"].as_str();
            events.push(match (method, path) {
                (Some(m), Some(p)) => format!("{m} {p}"),
                _ => "(default route)".to_owned(),
            });
        }
        events.sort();
        let plan_routes: Vec<&String> = plan.iter().flat_map(|f| &f.routes).collect();
        let mut want = with_head(&function.routes, &plan_routes);
        if at == 0 {
            want.push("(default route)".to_owned());
        }
        want.sort();
        if events != want {
            problems.push(format!(
                "{}: template.yaml gives `{}` the events {events:?}, the plan the routes {want:?}",
                shape.label, function.name
            ));
        }
    }
    if functions.len() != plan.len() {
        problems.push(format!(
            "{}: template.yaml has {} functions, the plan {}",
            shape.label,
            functions.len(),
            plan.len()
        ));
    }
    problems
}

/// Every function runs behind the Lambda Web Adapter layer, which reaches
/// the app on `PORT` with a TCP readiness check, and no exec wrapper.
fn check_web_adapter_template(ws: &Path, plan: &[PlanFunction]) -> Vec<String> {
    let text = read(&ws.join("template.yaml"));
    let functions = template_functions(&parse_yaml(&text));
    let mut problems = Vec::new();
    let mut names: Vec<&String> = functions.keys().collect();
    names.sort();
    let mut want: Vec<&String> = plan.iter().map(|f| &f.name).collect();
    want.sort();
    if names != want {
        problems.push(format!("template functions {names:?}, plan {want:?}"));
    }
    for (name, resource) in &functions {
        let properties = &resource["Properties"];
        let layers: Vec<&str> = properties["Layers"]
            .as_vec()
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str())
            .collect();
        if !layers
            .iter()
            .any(|l| l.contains(":layer:LambdaAdapterLayer"))
        {
            problems.push(format!(
                "`{name}`: no Lambda Web Adapter layer in {layers:?}"
            ));
        }
        let vars = &properties["Environment"]["Variables"];
        let port = vars["PORT"].as_str();
        if port.is_none() || port != vars["AWS_LWA_PORT"].as_str() {
            problems.push(format!(
                "`{name}`: PORT {port:?} and AWS_LWA_PORT {:?} must be set and equal",
                vars["AWS_LWA_PORT"].as_str()
            ));
        }
        if vars["AWS_LWA_READINESS_CHECK_PROTOCOL"].as_str() != Some("tcp") {
            problems.push(format!("`{name}`: readiness check is not tcp"));
        }
        for (key, want) in [("Runtime", "provided.al2023"), ("Handler", "bootstrap")] {
            if properties[key].as_str() != Some(want) {
                problems.push(format!("`{name}`: {key} is not {want}"));
            }
        }
    }
    if text
        .lines()
        .any(|l| !l.trim_start().starts_with('#') && l.contains("AWS_LAMBDA_EXEC_WRAPPER"))
    {
        problems.push("sets AWS_LAMBDA_EXEC_WRAPPER (not run on OS-only runtimes)".to_owned());
    }
    problems
}

// ---------------------------------------------------------------------------
// The request script

/// One request of a script, and what the monolith must answer.
#[derive(Clone, Debug)]
struct Step {
    /// The route it exercises (`METHOD /pattern`), or `None` for a request
    /// no route takes (the fallback, a 405).
    route: Option<&'static str>,
    method: &'static str,
    /// `${name}` is replaced by a captured value.
    path: &'static str,
    headers: Vec<(&'static str, &'static str)>,
    body: Option<&'static str>,
    /// The monolith's status (a check on the script itself).
    expect: u16,
    /// `(name, JSON pointer)`: values read from the answer for later steps.
    captures: Vec<(&'static str, &'static str)>,
}

impl Step {
    fn to(route: &'static str, path: &'static str, expect: u16) -> Self {
        let method = route.split_once(' ').map(|(m, _)| m).unwrap_or("GET");
        Self {
            route: Some(route),
            method,
            path,
            headers: Vec::new(),
            body: None,
            expect,
            captures: Vec::new(),
        }
    }

    fn unrouted(method: &'static str, path: &'static str, expect: u16) -> Self {
        Self {
            route: None,
            method,
            path,
            headers: Vec::new(),
            body: None,
            expect,
            captures: Vec::new(),
        }
    }

    fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }

    fn json(mut self, body: &'static str) -> Self {
        self.body = Some(body);
        self.header("content-type", "application/json")
    }

    fn capture(mut self, name: &'static str, pointer: &'static str) -> Self {
        self.captures.push((name, pointer));
        self
    }

    fn request(&self, vars: &HashMap<String, String>) -> Request {
        let fill = |text: &str| {
            vars.iter().fold(text.to_owned(), |t, (k, v)| {
                t.replace(&format!("${{{k}}}"), v)
            })
        };
        Request {
            method: self.method.to_owned(),
            path: fill(self.path),
            headers: self
                .headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), fill(v)))
                .collect(),
            body: self.body.map(fill).unwrap_or_default().into_bytes(),
        }
    }
}

fn helpdesk_script() -> Vec<Step> {
    let agent = |step: Step| step.header("authorization", "Bearer ${token}");
    vec![
        Step::to("GET /health_check", "/health_check", 200),
        Step::to("POST /api/sessions", "/api/sessions", 401)
            .json(r#"{"email":"agent@e2e.local","password":"wrong"}"#),
        Step::to("POST /api/sessions", "/api/sessions", 201)
            .json(r#"{"email":"Agent@e2e.local","password":"e2e-password"}"#)
            .capture("token", "/token"),
        Step::to("GET /api/stats", "/api/stats", 401),
        Step::to("POST /api/tickets", "/api/tickets", 201)
            .json(r#"{"requester":"ann@example.com","subject":"Printer","body":"It is on fire."}"#)
            .capture("t1", "/id"),
        Step::to("POST /api/tickets", "/api/tickets", 400)
            .json(r#"{"requester":"nobody","subject":"x","body":"y"}"#),
        Step::to("POST /api/tickets", "/api/tickets", 400).json("{"),
        Step::to("POST /api/tickets", "/api/tickets", 201)
            .json(r#"{"requester":"bob@example.org","subject":"VPN","body":"No connection."}"#)
            .capture("t2", "/id"),
        Step::to("GET /api/tickets", "/api/tickets", 200),
        Step::to("GET /api/tickets", "/api/tickets?status=open", 200),
        Step::to("GET /api/tickets", "/api/tickets?status=lost", 400),
        Step::to("GET /api/tickets/{id}", "/api/tickets/${t1}", 200),
        Step::to("GET /api/tickets/{id}", "/api/tickets/999", 404),
        Step::to(
            "POST /api/tickets/{id}/replies",
            "/api/tickets/${t1}/replies",
            401,
        )
        .json(r#"{"body":"Unplug it."}"#),
        agent(Step::to(
            "POST /api/tickets/{id}/replies",
            "/api/tickets/${t1}/replies",
            201,
        ))
        .json(r#"{"body":"Unplug it."}"#),
        Step::to(
            "GET /api/tickets/{id}/replies",
            "/api/tickets/${t1}/replies",
            200,
        ),
        Step::to(
            "GET /api/tickets/{id}/replies",
            "/api/tickets/999/replies",
            404,
        ),
        agent(Step::to(
            "PUT /api/tickets/{id}/status",
            "/api/tickets/${t2}/status",
            200,
        ))
        .json(r#"{"status":"closed"}"#),
        agent(Step::to(
            "PUT /api/tickets/{id}/status",
            "/api/tickets/${t2}/status",
            400,
        ))
        .json(r#"{"status":"lost"}"#),
        Step::to("GET /api/tickets/{id}", "/api/tickets/${t1}", 200),
        agent(Step::to("GET /api/stats", "/api/stats", 200)),
        Step::unrouted("GET", "/nowhere", 404),
        Step::unrouted("DELETE", "/api/tickets", 405),
        agent(Step::to("DELETE /api/sessions", "/api/sessions", 204)),
        agent(Step::to("GET /api/stats", "/api/stats", 401)),
    ]
}

fn shortlinks_script() -> Vec<Step> {
    let admin = |step: Step| step.header("authorization", "Bearer e2e-admin");
    let ann = |step: Step| step.header("x-api-key", "${ann}");
    let bob = |step: Step| step.header("x-api-key", "${bob}");
    vec![
        Step::to("GET /healthz", "/healthz", 200),
        Step::to("GET /api/keys", "/api/keys", 401),
        admin(Step::to("POST /api/keys", "/api/keys", 201))
            .json(r#"{"owner":"ann"}"#)
            .capture("ann", "/key"),
        admin(Step::to("POST /api/keys", "/api/keys", 201))
            .json(r#"{"owner":"bob"}"#)
            .capture("bob", "/key"),
        admin(Step::to("POST /api/keys", "/api/keys", 400)).json(r#"{"owner":" "}"#),
        admin(Step::to("GET /api/keys", "/api/keys", 200)),
        Step::to("POST /api/links", "/api/links", 401).json(r#"{"target":"https://a.io"}"#),
        ann(Step::to("POST /api/links", "/api/links", 201))
            .json(r#"{"target":"https://example.com/docs"}"#)
            .capture("code", "/code"),
        ann(Step::to("POST /api/links", "/api/links", 201))
            .json(r#"{"target":"http://x.org","code":"x-org"}"#),
        bob(Step::to("POST /api/links", "/api/links", 409))
            .json(r#"{"target":"http://y.org","code":"x-org"}"#),
        bob(Step::to("POST /api/links", "/api/links", 400)).json(r#"{"target":"ftp://y.org"}"#),
        Step::to("GET /{code}", "/x-org", 307),
        Step::to("GET /{code}", "/${code}", 307),
        Step::to("GET /{code}", "/nope", 404),
        ann(Step::to("GET /api/links", "/api/links", 200)),
        bob(Step::to("GET /api/links", "/api/links", 200)),
        ann(Step::to("GET /api/links/{code}", "/api/links/x-org", 200)),
        bob(Step::to("GET /api/links/{code}", "/api/links/x-org", 403)),
        ann(Step::to(
            "GET /api/links/{code}/stats",
            "/api/links/x-org/stats",
            200,
        )),
        bob(Step::to(
            "DELETE /api/links/{code}",
            "/api/links/x-org",
            403,
        )),
        ann(Step::to(
            "DELETE /api/links/{code}",
            "/api/links/x-org",
            204,
        )),
        Step::to("GET /{code}", "/x-org", 404),
        Step::unrouted("GET", "/a/b/c", 404),
        Step::unrouted("PUT", "/api/links", 405),
    ]
}

/// The routes of `expected/routes.txt`, `METHOD /path`.
fn monolith_routes(shape: &Shape) -> Vec<String> {
    read(&repo().join(shape.dir).join("expected/routes.txt"))
        .lines()
        .filter_map(|l| l.split(" -> ").next())
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

// ---------------------------------------------------------------------------
// Replaying the script

enum Split<'a> {
    /// The generated functions, each on its own port.
    Functions(&'a [(PlanFunction, Server)]),
    /// `cargo lambda watch` on one port.
    Watch(u16),
}

impl Split<'_> {
    /// Where a step goes: the function owning its route; a request no route
    /// takes goes to every function (each must answer as the app does).
    fn targets(&self, step: &Step) -> Vec<(String, u16)> {
        match (self, step.route) {
            (Split::Watch(port), _) => vec![("cargo lambda watch".to_owned(), *port)],
            (Split::Functions(functions), Some(route)) => functions
                .iter()
                .filter(|(f, _)| f.routes.iter().any(|r| r == route))
                .map(|(f, s)| (f.name.clone(), s.port))
                .collect(),
            (Split::Functions(functions), None) => functions
                .iter()
                .map(|(f, s)| (f.name.clone(), s.port))
                .collect(),
        }
    }

    fn timeout(&self) -> Duration {
        match self {
            Split::Functions(_) => REQUEST_TIMEOUT,
            // The workspace is built before the watch starts, so a first
            // request only waits for `cargo run` to find it fresh.
            Split::Watch(_) => Duration::from_secs(120),
        }
    }
}

/// The parts of a response that must match, with what is random masked.
#[derive(Debug, PartialEq)]
struct View {
    status: u16,
    content_type: Option<String>,
    location: Option<String>,
    body: Body,
}

#[derive(Debug, PartialEq)]
enum Body {
    Json(Value),
    Bytes(String),
}

impl View {
    fn of(reply: &Reply, masked: &[&str]) -> Self {
        let content_type = reply.header("content-type").map(str::to_owned);
        let json = content_type
            .as_deref()
            .filter(|t| t.contains("json"))
            .and_then(|_| serde_json::from_slice::<Value>(&reply.body).ok());
        let body = match json {
            Some(mut json) => {
                mask(&mut json, masked);
                Body::Json(json)
            }
            None => Body::Bytes(String::from_utf8_lossy(&reply.body).into_owned()),
        };
        Self {
            status: reply.status,
            content_type,
            location: reply.header("location").map(str::to_owned),
            body,
        }
    }
}

fn mask(json: &mut Value, masked: &[&str]) {
    match json {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if masked.contains(&key.as_str()) && !value.is_null() {
                    *value = Value::from("<masked>");
                } else {
                    mask(value, masked);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| mask(v, masked)),
        _ => {}
    }
}

fn capture(step: &Step, reply: &Reply, vars: &mut HashMap<String, String>) {
    let Ok(json) = serde_json::from_slice::<Value>(&reply.body) else {
        return;
    };
    for (name, pointer) in &step.captures {
        if let Some(value) = json.pointer(pointer) {
            let text = value
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_string());
            vars.insert((*name).to_owned(), text);
        }
    }
}

/// Replays the script against the monolith and the split; returns every
/// difference. Under `cargo lambda watch` only routed requests are sent
/// (its router answers the others itself). `full`: every route of
/// `expected/routes.txt` must have been answered with a 2xx or 3xx.
fn replay(shape: &Shape, monolith: u16, split: &Split, full: bool) -> Vec<String> {
    let mut problems = Vec::new();
    let mut mono_vars = HashMap::new();
    let mut split_vars = HashMap::new();
    let mut covered: Vec<&str> = Vec::new();
    for step in (shape.script)() {
        if matches!(split, Split::Watch(_)) && step.route.is_none() {
            continue;
        }
        let request = step.request(&mono_vars);
        let mono = send(monolith, &request, REQUEST_TIMEOUT)
            .unwrap_or_else(|e| panic!("monolith: {} {}: {e}", request.method, request.path));
        assert_eq!(
            mono.status,
            step.expect,
            "script: the monolith answered {} {} with {} ({}); the script expects {}",
            request.method,
            request.path,
            mono.status,
            String::from_utf8_lossy(&mono.body),
            step.expect
        );
        capture(&step, &mono, &mut mono_vars);
        if let Some(route) = step.route
            && (200..400).contains(&mono.status)
        {
            covered.push(route);
        }
        let expected = View::of(&mono, shape.masked);

        let request = step.request(&split_vars);
        let targets = split.targets(&step);
        if targets.is_empty() {
            problems.push(format!("no function owns {:?}", step.route));
        }
        for (name, port) in targets {
            let reply = match send(port, &request, split.timeout()) {
                Ok(reply) => reply,
                Err(e) => {
                    problems.push(format!(
                        "{} {} -> {name}: no answer: {e}",
                        request.method, request.path
                    ));
                    if let Split::Watch(_) = split {
                        // cargo lambda watch holds a request whose function
                        // died until it times out: the rest would too.
                        return problems;
                    }
                    continue;
                }
            };
            if step.route.is_some() {
                capture(&step, &reply, &mut split_vars);
            }
            let actual = View::of(&reply, shape.masked);
            if actual != expected {
                problems.push(format!(
                    "{} {} -> {name}\n  monolith: {expected:?}\n  {name}: {actual:?}",
                    request.method, request.path
                ));
            }
        }
    }
    if full {
        let missing: Vec<String> = monolith_routes(shape)
            .into_iter()
            .filter(|r| !covered.contains(&r.as_str()))
            .collect();
        assert!(
            missing.is_empty(),
            "script: no successful request for {missing:?}"
        );
    }
    problems
}

/// Each function answers 404 to every route another function owns.
fn foreign_routes_get_404(shape: &Shape, functions: &[(PlanFunction, Server)]) -> Vec<String> {
    let routes = monolith_routes(shape);
    let mut problems = Vec::new();
    let mut tried = 0;
    for (function, server) in functions {
        for route in routes.iter().filter(|r| !function.routes.contains(r)) {
            let (method, pattern) = route.split_once(' ').expect("METHOD /path");
            let request = Request {
                method: if method == "ANY" { "GET" } else { method }.to_owned(),
                path: concrete(pattern),
                headers: Vec::new(),
                body: Vec::new(),
            };
            tried += 1;
            match send(server.port, &request, REQUEST_TIMEOUT) {
                Ok(reply) if reply.status == 404 => {}
                Ok(reply) => problems.push(format!(
                    "{} {} (owned by `{}`) -> `{}`: expected 404, got {:?}",
                    request.method,
                    request.path,
                    functions
                        .iter()
                        .find(|(f, _)| f.routes.contains(route))
                        .map_or("?", |(f, _)| f.name.as_str()),
                    function.name,
                    View::of(&reply, shape.masked)
                )),
                Err(e) => problems.push(format!(
                    "{} {} -> `{}`: no answer: {e}",
                    request.method, request.path, function.name
                )),
            }
        }
    }
    assert!(
        tried > 0,
        "{}: no function has a foreign route",
        shape.label
    );
    problems
}

/// A function's routes with the `HEAD` events `template.yaml` adds: one
/// beside each `GET` route (the monolith answers HEAD there, and the
/// `cargo lambda watch` router sends it to the GET route's function),
/// unless the plan has a `HEAD` route of that shape.
fn with_head(routes: &[String], plan_routes: &[&String]) -> Vec<String> {
    use cleave_analyzer::partition::route_shape;
    let mut planned: std::collections::BTreeSet<String> =
        plan_routes.iter().map(|r| route_shape(r)).collect();
    let mut out = routes.to_vec();
    for r in routes {
        if let Some(path) = r.strip_prefix("GET ")
            && planned.insert(route_shape(&format!("HEAD {path}")))
        {
            out.push(format!("HEAD {path}"));
        }
    }
    out
}
