//! `cleave generate` on fixtures/notes-rocket (rocket 0.5), end to end.
//!
//! For the presets `auto` and `route`: analyze into a plan, generate a
//! workspace, `cargo build --workspace` it unedited; in the `auto` workspace
//! also `cargo test -p cleave-lambda -p cleave-lambda-rocket` (the unit
//! tests of the server shim's route guard and the rocket facade's guard and
//! Lambda forwarder). Then the monolith and every generated
//! function run side by side on their own ports and one request script is
//! replayed against both: every route of `expected/routes.txt`, auth
//! successes and failures (401 and 403), both ranked handlers of
//! `/api/notes/<id>` / `<slug>`, the `<path..>` catch-all (GET and HEAD),
//! the query routes, the `cfg(debug_assertions)` route `POST /admin/reset`,
//! and the 404/401/422/400 catcher bodies. Each request goes to the function
//! that owns its route in the plan; a request for no route goes to every
//! function. Responses are compared on status, headers (all but `date`,
//! `content-length`, `x-request-id`) and body (JSON as values, tokens and
//! times masked). Every function must answer 404 for a route it does not own.
//!
//! The in-process-state hazard: `notes` keeps users, sessions and notes in
//! the memory of each process. A token issued by the function that owns
//! `POST /auth/login` means nothing to another function, and a note created
//! through a function that rejected the token never exists. A step that
//! depends on state made by another function (its token, or a step listed in
//! `after`) is *crossed*: the monolith's answer is still checked, and the
//! split's answer must be the 401 an unknown token gets. With `auto`
//! (auth and admin routes in one function) only the token-using note writes
//! cross; with `route` nearly every authenticated step does.
//!
//! Then the `auto` workspace under `cargo lambda watch` (the real Lambda
//! runtime API; the functions run `lambda_http::run` on their own tokio
//! runtime): requests at the original URLs and one through
//! `/lambda-url/<function>/..`, compared with a fresh monolith. Last,
//! `template.yaml` is parsed and checked against the plan.
//!
//! Builds use `CARGO_TARGET_DIR` when set, else `target/e2e` in this
//! repository; cargo-lambda comes from `CARGO_LAMBDA` or `.venv/bin`.

#[path = "support_rocket.rs"]
mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use cleave_analyzer::plan::PlanFunction;
use serde_json::Value;
use support::{E2e, Reply, Request, Server, Watch, Yaml, parse_yaml, repo, send, tail};

const FIXTURE: &str = "fixtures/notes-rocket";
/// The fixture's library package; a function may not take its name.
const LIBRARY: &str = "notes";
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Through `cargo lambda watch` the first request to a function may build it.
const WATCH_TIMEOUT: Duration = Duration::from_secs(600);

/// The two tests build in the same target dir: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());
static MONOLITH: OnceLock<PathBuf> = OnceLock::new();

#[test]
fn auto_preset_builds_and_answers_like_the_monolith_also_under_cargo_lambda_watch() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let e2e = E2e::new("rocket");
    let mut timings = Timings::default();
    let mut problems = Vec::new();
    let split = prepare(&e2e, "auto", &mut timings, &mut problems);

    let started = Instant::now();
    let test = e2e
        .cargo()
        .args(["test", "-p", "cleave-lambda", "-p", "cleave-lambda-rocket"])
        .args(["--features", "cleave-lambda-rocket/native"])
        .current_dir(&split.ws)
        .output()
        .expect("cargo runs");
    timings.add(
        "auto: cargo test -p cleave-lambda -p cleave-lambda-rocket",
        started,
    );
    let stdout = String::from_utf8_lossy(&test.stdout);
    let ran = stdout.matches("guard::tests::").count();
    let forwarder = stdout.matches("forward::tests::").count();
    if !test.status.success() {
        problems.push(format!(
            "`cargo test` of the shim failed:\n{}",
            output_tail(&test)
        ));
    } else if ran < 7 || forwarder < 2 {
        problems.push(format!(
            "`cargo test` of the shim ran {ran} guard tests (7 wanted) and {forwarder} forwarder tests (2 wanted):\n{}",
            output_tail(&test)
        ));
    }

    problems.extend(side_by_side(&e2e, &split, &mut timings));
    problems.extend(check_template(&split));
    problems.extend(deterministic(&e2e, &split));

    let started = Instant::now();
    problems.extend(through_cargo_lambda_watch(&e2e, &split));
    timings.add("auto: cargo lambda watch", started);

    progress(&timings.render());
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn route_preset_builds_and_answers_like_the_monolith() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let e2e = E2e::new("rocket");
    let mut timings = Timings::default();
    let mut problems = Vec::new();
    let split = prepare(&e2e, "route", &mut timings, &mut problems);
    problems.extend(side_by_side(&e2e, &split, &mut timings));
    problems.extend(check_template(&split));
    progress(&timings.render());
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

// ---------------------------------------------------------------------------
// Plan, generate, build

struct Split {
    preset: String,
    ws: PathBuf,
    run: PathBuf,
    plan: Vec<PlanFunction>,
}

impl Split {
    fn owner(&self, route: &str) -> Option<&str> {
        self.plan
            .iter()
            .find(|f| f.routes.iter().any(|r| r == route))
            .map(|f| f.name.as_str())
    }
}

fn cleave(args: &[&std::ffi::OsStr]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cleave"));
    command.args(args).current_dir(repo());
    command.output().expect("cleave runs")
}

fn output_tail(out: &Output) -> String {
    format!(
        "{}\n{}",
        tail(&String::from_utf8_lossy(&out.stdout), 30),
        tail(&String::from_utf8_lossy(&out.stderr), 40)
    )
}

/// Analyze, generate and build one preset; panics when that fails (nothing
/// after it could run).
fn prepare(e2e: &E2e, preset: &str, timings: &mut Timings, problems: &mut Vec<String>) -> Split {
    let dir = e2e.root.join(preset);
    let ws = dir.join("ws");
    let run = dir.join("run");
    let _ = std::fs::remove_dir_all(&ws);
    let _ = std::fs::remove_dir_all(&run);
    std::fs::create_dir_all(&run).expect("run dir");
    let plan_path = dir.join("plan.toml");
    let _ = std::fs::remove_file(&plan_path);

    let started = Instant::now();
    let fixture = repo().join(FIXTURE);
    let out = cleave(&[
        "analyze".as_ref(),
        fixture.as_os_str(),
        "--granularity".as_ref(),
        preset.as_ref(),
        "--plan".as_ref(),
        plan_path.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "analyze failed:\n{}",
        output_tail(&out)
    );
    let text = std::fs::read_to_string(&plan_path).expect("the plan");
    // The proposal never names a function after a package of the monolith
    // (`generate` would refuse it).
    assert!(
        !text.contains(&format!("name = \"{LIBRARY}\"\n")),
        "[{preset}] the proposal names a function after the library package:\n{text}"
    );
    let (plan, diagnostics) = cleave_analyzer::plan::parse(&text, "plan.toml");
    let plan = plan.unwrap_or_else(|| panic!("the plan does not parse: {diagnostics:?}"));
    let out = cleave(&[
        "generate".as_ref(),
        fixture.as_os_str(),
        "--plan".as_ref(),
        plan_path.as_os_str(),
        "--out".as_ref(),
        ws.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "generate failed:\n{}",
        output_tail(&out)
    );
    timings.add(&format!("{preset}: analyze + generate"), started);

    let started = Instant::now();
    let build = e2e
        .cargo()
        .args(["build", "--workspace"])
        .current_dir(&ws)
        .output()
        .expect("cargo runs");
    timings.add(
        &format!(
            "{preset}: cargo build --workspace ({} functions)",
            plan.functions.len()
        ),
        started,
    );
    assert!(
        build.status.success(),
        "[{preset}] the generated workspace does not build:\n{}",
        output_tail(&build)
    );
    let warnings = String::from_utf8_lossy(&build.stderr)
        .lines()
        .filter(|l| l.starts_with("warning") && !l.contains("generated") && !l.contains("profiles"))
        .map(str::to_owned)
        .collect::<Vec<_>>();
    if !warnings.is_empty() {
        problems.push(format!(
            "[{preset}] the build warns:\n{}",
            warnings.join("\n")
        ));
    }
    Split {
        preset: preset.to_owned(),
        ws,
        run,
        plan: plan.functions,
    }
}

/// The monolith's binary, built once and copied out of the target dir (a
/// function's binary could take its name there).
fn monolith(e2e: &E2e, timings: &mut Timings) -> PathBuf {
    MONOLITH
        .get_or_init(|| {
            let started = Instant::now();
            let manifest = repo().join(FIXTURE).join("Cargo.toml");
            let out = e2e
                .cargo()
                .args(["build", "--bin", "notes", "--manifest-path"])
                .arg(&manifest)
                .output()
                .expect("cargo runs");
            assert!(
                out.status.success(),
                "the monolith does not build:\n{}",
                output_tail(&out)
            );
            let copy = e2e
                .root
                .join(format!("monolith-notes{}", std::env::consts::EXE_SUFFIX));
            std::fs::copy(e2e.target.join("debug").join("notes"), &copy)
                .expect("copy the monolith");
            timings.add("build the monolith", started);
            copy
        })
        .clone()
}

// ---------------------------------------------------------------------------
// The request script

#[derive(Debug, Clone)]
struct Step {
    name: &'static str,
    /// The plan route whose function gets the request; `None`: every function.
    route: Option<&'static str>,
    method: &'static str,
    path: &'static str,
    /// Sent as `Authorization: Bearer <token of that step>`, or this literal.
    token: Option<&'static str>,
    body: Option<(&'static str, &'static str)>,
    /// Steps whose effects this one reads.
    after: &'static [&'static str],
    /// The monolith's status: checks that the script tests what it says.
    expect: u16,
    /// The route that answers in the monolith, when it is not `route` (a
    /// rank-1 route forwarding to a rank-2 one): if another function owns
    /// it, the split answers the guard's 404.
    answered_by: Option<&'static str>,
}

const fn step(
    name: &'static str,
    route: &'static str,
    method: &'static str,
    path: &'static str,
    expect: u16,
) -> Step {
    Step {
        name,
        route: Some(route),
        method,
        path,
        token: None,
        body: None,
        after: &[],
        expect,
        answered_by: None,
    }
}

impl Step {
    const fn everywhere(
        name: &'static str,
        method: &'static str,
        path: &'static str,
        expect: u16,
    ) -> Step {
        let mut s = step(name, "", method, path, expect);
        s.route = None;
        s
    }
    const fn token(mut self, from: &'static str) -> Self {
        self.token = Some(from);
        self
    }
    const fn json(mut self, body: &'static str) -> Self {
        self.body = Some(("application/json", body));
        self
    }
    const fn text(mut self, body: &'static str) -> Self {
        self.body = Some(("text/plain", body));
        self
    }
    const fn after(mut self, steps: &'static [&'static str]) -> Self {
        self.after = steps;
        self
    }
    const fn answered_by(mut self, route: &'static str) -> Self {
        self.answered_by = Some(route);
        self
    }
}

const ADMIN: &str = r#"{"username":"admin","password":"admin-password"}"#;
const ALICE: &str = r#"{"username":"alice","password":"correct horse battery"}"#;

/// Reads come before writes, so every read sees the seed data in both.
fn script() -> Vec<Step> {
    vec![
        step("index", "GET /", "GET", "/", 200),
        step(
            "static css",
            "GET /static/{*path}",
            "GET",
            "/static/app.css",
            200,
        ),
        step(
            "static nested",
            "GET /static/{*path}",
            "GET",
            "/static/docs/index.html",
            200,
        ),
        step(
            "static missing",
            "GET /static/{*path}",
            "GET",
            "/static/missing.txt",
            404,
        ),
        step(
            "static HEAD",
            "GET /static/{*path}",
            "HEAD",
            "/static/app.js",
            200,
        ),
        step("tags", "GET /api/tags", "GET", "/api/tags", 200),
        step("tag", "GET /api/tags/{name}", "GET", "/api/tags/meta", 200),
        step(
            "unknown tag",
            "GET /api/tags/{name}",
            "GET",
            "/api/tags/nope",
            404,
        ),
        step("notes", "GET /api/notes", "GET", "/api/notes", 200),
        step(
            "notes page",
            "GET /api/notes",
            "GET",
            "/api/notes?offset=0&limit=1",
            200,
        ),
        step(
            "notes bad page",
            "GET /api/notes",
            "GET",
            "/api/notes?limit=0",
            422,
        ),
        step(
            "search",
            "GET /api/notes/search",
            "GET",
            "/api/notes/search?q=welcome",
            200,
        ),
        step(
            "search limit",
            "GET /api/notes/search",
            "GET",
            "/api/notes/search?q=WELCOME&limit=1",
            200,
        ),
        step(
            "search without q",
            "GET /api/notes/search",
            "GET",
            "/api/notes/search",
            404,
        )
        .answered_by("GET /api/notes/{slug}"),
        step(
            "note by id (rank 1)",
            "GET /api/notes/{id}",
            "GET",
            "/api/notes/1",
            200,
        ),
        step(
            "note by slug (rank 2)",
            "GET /api/notes/{slug}",
            "GET",
            "/api/notes/welcome",
            200,
        ),
        step(
            "unknown id",
            "GET /api/notes/{id}",
            "GET",
            "/api/notes/999",
            404,
        ),
        step(
            "unknown slug",
            "GET /api/notes/{slug}",
            "GET",
            "/api/notes/no-such-note",
            404,
        ),
        step(
            "create, no token",
            "POST /api/notes",
            "POST",
            "/api/notes",
            401,
        )
        .json(r#"{"title":"x"}"#),
        step(
            "create, bad token",
            "POST /api/notes",
            "POST",
            "/api/notes",
            401,
        )
        .json(r#"{"title":"x"}"#)
        .token("not-a-token"),
        step(
            "create, not JSON",
            "POST /api/notes",
            "POST",
            "/api/notes",
            404,
        )
        .text("title"),
        step(
            "update, no token",
            "PUT /api/notes/{id}",
            "PUT",
            "/api/notes/1",
            401,
        )
        .json("{}"),
        step(
            "delete, bad token",
            "DELETE /api/notes/{id}",
            "DELETE",
            "/api/notes/1",
            401,
        )
        .token("not-a-token"),
        step(
            "login, wrong password",
            "POST /auth/login",
            "POST",
            "/auth/login",
            401,
        )
        .json(r#"{"username":"admin","password":"wrong"}"#),
        step(
            "login admin",
            "POST /auth/login",
            "POST",
            "/auth/login",
            200,
        )
        .json(ADMIN),
        step("create note", "POST /api/notes", "POST", "/api/notes", 201)
            .json(r#"{"title":"E2E note","body":"b","tags":["e2e"]}"#)
            .token("login admin"),
        step(
            "update note",
            "PUT /api/notes/{id}",
            "PUT",
            "/api/notes/2",
            200,
        )
        .json(r#"{"body":"changed"}"#)
        .token("login admin")
        .after(&["create note"]),
        step(
            "delete note",
            "DELETE /api/notes/{id}",
            "DELETE",
            "/api/notes/2",
            204,
        )
        .token("login admin")
        .after(&["create note"]),
        step("me, no token", "GET /auth/me", "GET", "/auth/me", 401),
        step("me", "GET /auth/me", "GET", "/auth/me", 200).token("login admin"),
        step(
            "register alice",
            "POST /auth/register",
            "POST",
            "/auth/register",
            201,
        )
        .json(ALICE),
        step(
            "register alice again",
            "POST /auth/register",
            "POST",
            "/auth/register",
            409,
        )
        .json(ALICE)
        .after(&["register alice"]),
        step(
            "register, bad JSON",
            "POST /auth/register",
            "POST",
            "/auth/register",
            400,
        )
        .json("{bad"),
        step(
            "login alice",
            "POST /auth/login",
            "POST",
            "/auth/login",
            200,
        )
        .json(ALICE)
        .after(&["register alice"]),
        step(
            "stats as a member",
            "GET /admin/stats",
            "GET",
            "/admin/stats",
            403,
        )
        .token("register alice"),
        step("stats", "GET /admin/stats", "GET", "/admin/stats", 200)
            .token("login admin")
            .after(&["register alice"]),
        step("users", "GET /admin/users", "GET", "/admin/users", 200)
            .token("login admin")
            .after(&["register alice"]),
        step(
            "logout alice",
            "POST /auth/logout",
            "POST",
            "/auth/logout",
            204,
        )
        .token("register alice"),
        step("me after logout", "GET /auth/me", "GET", "/auth/me", 401)
            .token("register alice")
            .after(&["logout alice"]),
        step(
            "delete alice",
            "DELETE /admin/users/{id}",
            "DELETE",
            "/admin/users/2",
            200,
        )
        .token("login admin")
        .after(&["register alice"]),
        step(
            "delete self",
            "DELETE /admin/users/{id}",
            "DELETE",
            "/admin/users/1",
            409,
        )
        .token("login admin"),
        step("health", "GET /health", "GET", "/health", 200),
        step(
            "reset, no token",
            "POST /admin/reset",
            "POST",
            "/admin/reset",
            401,
        ),
        step(
            "reset (debug build)",
            "POST /admin/reset",
            "POST",
            "/admin/reset",
            204,
        )
        .token("login admin"),
        Step::everywhere("no such path", "GET", "/nothing/here", 404),
        Step::everywhere("no such method", "PATCH", "/api/notes/1", 404),
    ]
}

/// Requests through `cargo lambda watch` that do not depend on another
/// function's state (a fresh monolith on the other side).
fn watch_script() -> Vec<Step> {
    let keep = [
        "index",
        "static css",
        "notes page",
        "search",
        "note by id (rank 1)",
        "note by slug (rank 2)",
        "unknown slug",
        "tag",
        "create, no token",
        "login admin",
        "me",
        "register alice",
        "health",
    ];
    script()
        .into_iter()
        .filter(|s| keep.contains(&s.name))
        .collect()
}

// ---------------------------------------------------------------------------
// Replay and compare

/// Where the split side of a step goes: `(label, port, path)` per target.
type Targets<'a> = dyn Fn(&Step) -> Vec<(String, u16, String)> + 'a;

struct Replay<'a> {
    label: String,
    split: &'a Split,
    monolith: u16,
    targets: &'a Targets<'a>,
    /// Compare every header but the volatile ones (local servers); else only
    /// the app's own (through `cargo lambda watch`, which adds CORS headers).
    all_headers: bool,
    timeout: Duration,
}

/// Tokens by the step that got them, per side.
#[derive(Default)]
struct Tokens {
    monolith: BTreeMap<&'static str, String>,
    split: BTreeMap<&'static str, String>,
}

fn request(step: &Step, path: &str, token: Option<&String>) -> Request {
    let mut headers = Vec::new();
    if let Some(token) = token {
        headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
    }
    let mut body = Vec::new();
    if let Some((content_type, text)) = step.body {
        headers.push(("Content-Type".to_owned(), content_type.to_owned()));
        body = text.as_bytes().to_vec();
    }
    Request {
        method: step.method.to_owned(),
        path: path.to_owned(),
        headers,
        body,
    }
}

fn token_of(reply: &Reply) -> Option<String> {
    let json: Value = serde_json::from_slice(&reply.body).ok()?;
    json.get("token")?.as_str().map(str::to_owned)
}

fn replay(r: &Replay<'_>, script: &[Step]) -> Vec<String> {
    let mut problems = Vec::new();
    let mut tokens = Tokens::default();
    // Steps whose state the split does not share with a later step: crossed.
    let mut answered: BTreeMap<&'static str, (Option<&str>, bool)> = BTreeMap::new();
    let (mut compared, mut crossings, mut guarded) = (0, 0, 0);
    for step in script {
        let owner = step.route.and_then(|route| r.split.owner(route));
        let token_step = step.token.filter(|t| answered.contains_key(t));
        let crossed = step.after.iter().chain(token_step.iter()).any(|dep| {
            answered
                .get(dep)
                .is_some_and(|(dep_owner, dep_crossed)| *dep_crossed || *dep_owner != owner)
        });
        let token = |side: &BTreeMap<&'static str, String>| -> Option<String> {
            step.token
                .map(|t| side.get(t).cloned().unwrap_or_else(|| t.to_owned()))
        };
        let mono = match send(
            r.monolith,
            &request(step, step.path, token(&tokens.monolith).as_ref()),
            REQUEST_TIMEOUT,
        ) {
            Ok(reply) => reply,
            Err(e) => {
                problems.push(format!("[{}] {}: the monolith: {e}", r.label, step.name));
                continue;
            }
        };
        if mono.status != step.expect {
            problems.push(format!(
                "[{}] {}: the monolith answered {} (the script expects {}): {}",
                r.label,
                step.name,
                mono.status,
                step.expect,
                String::from_utf8_lossy(&mono.body)
            ));
        }
        if let Some(t) = token_of(&mono) {
            tokens.monolith.insert(step.name, t);
        }
        for (target, port, path) in (r.targets)(step) {
            let reply = match send(
                port,
                &request(step, &path, token(&tokens.split).as_ref()),
                r.timeout,
            ) {
                Ok(reply) => reply,
                Err(e) => {
                    problems.push(format!("[{}] {}: {target}: {e}", r.label, step.name));
                    continue;
                }
            };
            let what = format!(
                "[{}] {} ({} {path}) on {target}",
                r.label, step.name, step.method
            );
            let foreign_answer = step
                .answered_by
                .and_then(|route| r.split.owner(route))
                .is_some_and(|o| Some(o) != owner);
            if crossed {
                crossings += 1;
                // The in-process-state hazard: the token or the data lives in another process.
                if reply.status != 401 {
                    problems.push(format!(
                        "{what}: expected the 401 of a token this function never issued, got {}: {}",
                        reply.status,
                        String::from_utf8_lossy(&reply.body)
                    ));
                }
            } else if foreign_answer {
                guarded += 1;
                let want = not_found_body(step.method, step.path);
                if reply.status != 404 || json(&reply.body).as_ref() != Some(&want) {
                    problems.push(format!(
                        "{what}: the answering route belongs to another function, expected the guard's 404 {want}, got {} {}",
                        reply.status,
                        String::from_utf8_lossy(&reply.body)
                    ));
                }
            } else {
                compared += 1;
                problems.extend(compare(&what, &mono, &reply, r.all_headers));
            }
            if let Some(t) = token_of(&reply) {
                tokens.split.insert(step.name, t);
            }
        }
        answered.insert(step.name, (owner, crossed));
    }
    progress(&format!(
        "[{}] {} steps: {compared} answers compared with the monolith's, {crossings} crossed (401 asserted), {guarded} answered by another function's route (guard 404 asserted)",
        r.label,
        script.len()
    ));
    problems
}

fn json(body: &[u8]) -> Option<Value> {
    let mut value: Value = serde_json::from_slice(body).ok()?;
    mask(&mut value);
    Some(value)
}

/// Values that differ between processes by nature: tokens, times, counters.
fn mask(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if [
                    "token",
                    "created_at",
                    "updated_at",
                    "uptime_secs",
                    "requests_served",
                ]
                .contains(&key.as_str())
                {
                    *v = Value::String("<masked>".to_owned());
                } else {
                    mask(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

/// The app's 404 catcher body for `method path` (without the query).
fn not_found_body(method: &str, path: &str) -> Value {
    let path = path.split('?').next().unwrap_or(path);
    serde_json::json!({ "error": "not_found", "message": format!("nothing at {method} {path}") })
}

/// Headers that differ between two processes by nature.
const VOLATILE: [&str; 3] = ["date", "content-length", "x-request-id"];
/// The headers the app (not a proxy in front of it) sets.
const APP_HEADERS: [&str; 4] = ["content-type", "location", "x-api-version", "set-cookie"];

fn compare(what: &str, mono: &Reply, split: &Reply, all_headers: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if mono.status != split.status {
        problems.push(format!(
            "{what}: status {} (monolith {}): {}",
            split.status,
            mono.status,
            String::from_utf8_lossy(&split.body)
        ));
        return problems;
    }
    let headers = |reply: &Reply| -> BTreeSet<(String, String)> {
        reply
            .headers
            .iter()
            .filter(|(n, _)| {
                if all_headers {
                    !VOLATILE.contains(&n.as_str())
                } else {
                    APP_HEADERS.contains(&n.as_str())
                }
            })
            .cloned()
            .collect()
    };
    let (a, b) = (headers(mono), headers(split));
    if a != b {
        problems.push(format!(
            "{what}: headers differ: only the monolith {:?}, only the function {:?}",
            a.difference(&b).collect::<Vec<_>>(),
            b.difference(&a).collect::<Vec<_>>()
        ));
    }
    if mono.header("x-request-id").is_some() != split.header("x-request-id").is_some() {
        problems.push(format!(
            "{what}: X-Request-Id (set by a fairing) present on one side only"
        ));
    }
    let same_body = match (json(&mono.body), json(&split.body)) {
        (Some(a), Some(b)) => a == b,
        _ => mono.body == split.body,
    };
    if !same_body {
        problems.push(format!(
            "{what}: body {} (monolith {})",
            String::from_utf8_lossy(&split.body),
            String::from_utf8_lossy(&mono.body)
        ));
    }
    problems
}

/// A concrete path for a route pattern: `{x}` -> `1`, `{*x}` -> `app.css`.
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|s| {
            if s.starts_with("{*") {
                "app.css"
            } else if s.starts_with('{') {
                "1"
            } else {
                s
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The monolith and every function on its own port; the script replayed;
/// every function asked for routes it does not own.
fn side_by_side(e2e: &E2e, split: &Split, timings: &mut Timings) -> Vec<String> {
    let monolith_bin = monolith(e2e, timings);
    let started = Instant::now();
    let mono = Server::start("monolith", &monolith_bin, split.run.join("monolith.log"));
    let mut servers: BTreeMap<String, Server> = BTreeMap::new();
    for f in &split.plan {
        let binary =
            e2e.target
                .join("debug")
                .join(format!("{}{}", f.name, std::env::consts::EXE_SUFFIX));
        let log = split.run.join(format!("{}.log", f.name));
        servers.insert(f.name.clone(), Server::start(&f.name, &binary, log));
    }
    timings.add(
        &format!("{}: start {} processes", split.preset, servers.len() + 1),
        started,
    );

    let started = Instant::now();
    let targets = |step: &Step| -> Vec<(String, u16, String)> {
        let chosen: Vec<&Server> = match step.route.and_then(|r| split.owner(r)) {
            Some(owner) => servers.get(owner).into_iter().collect(),
            None => servers.values().collect(),
        };
        chosen
            .into_iter()
            .map(|s| (s.name.clone(), s.port, step.path.to_owned()))
            .collect()
    };
    let mut problems = replay(
        &Replay {
            label: split.preset.clone(),
            split,
            monolith: mono.port,
            targets: &targets,
            all_headers: true,
            timeout: REQUEST_TIMEOUT,
        },
        &script(),
    );
    // Every plan route is in the script (so every route was replayed).
    let covered: BTreeSet<&str> = script().iter().filter_map(|s| s.route).collect();
    for f in &split.plan {
        for route in &f.routes {
            if !covered.contains(route.as_str()) {
                problems.push(format!(
                    "[{}] the script misses the route {route}",
                    split.preset
                ));
            }
        }
    }
    // A route another function owns: 404 with the app's 404 body, before any
    // guard of that route (no 401 for a write route without a token).
    for f in &split.plan {
        let Some(server) = servers.get(&f.name) else {
            continue;
        };
        let foreign: Vec<&String> = split
            .plan
            .iter()
            .filter(|g| g.name != f.name)
            .flat_map(|g| g.routes.iter())
            .filter(|r| !f.routes.contains(r))
            .collect();
        let picks = [
            foreign.iter().find(|r| r.starts_with("GET ")),
            foreign.iter().find(|r| !r.starts_with("GET ")),
        ];
        for route in picks.into_iter().flatten() {
            let Some((method, pattern)) = route.split_once(' ') else {
                continue;
            };
            let path = concrete(pattern);
            let req = Request {
                method: method.to_owned(),
                path: path.clone(),
                headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
                body: b"{}".to_vec(),
            };
            match send(server.port, &req, REQUEST_TIMEOUT) {
                Ok(reply) => {
                    let want = not_found_body(method, &path);
                    if reply.status != 404 || json(&reply.body).as_ref() != Some(&want) {
                        problems.push(format!(
                            "[{}] {} answered {} {path} (owned by another function) with {} {}",
                            split.preset,
                            f.name,
                            method,
                            reply.status,
                            String::from_utf8_lossy(&reply.body)
                        ));
                    }
                }
                Err(e) => problems.push(format!("[{}] {}: {e}", split.preset, f.name)),
            }
        }
    }
    problems.extend(foreign_handler_does_not_run(split, &servers));
    timings.add(&format!("{}: replay", split.preset), started);
    if !problems.is_empty() {
        for s in servers.values().chain(std::iter::once(&mono)) {
            problems.push(format!(
                "{} log (tail):\n{}",
                s.name,
                tail(&std::fs::read_to_string(&s.log).unwrap_or_default(), 15)
            ));
        }
    }
    problems
}

/// The guard stops a request for another function's route before that
/// route's handler (and its request guards) run, not just its answer: with
/// a token this function issued, `POST /api/notes` sent to a function that
/// owns login and `/health` but not the notes must not create a note there.
fn foreign_handler_does_not_run(split: &Split, servers: &BTreeMap<String, Server>) -> Vec<String> {
    let Some(server) = split
        .owner("POST /auth/login")
        .filter(|f| {
            split.owner("GET /health") == Some(f) && split.owner("POST /api/notes") != Some(f)
        })
        .and_then(|f| servers.get(f))
    else {
        return Vec::new();
    };
    let call = |method: &str, path: &str, headers: Vec<(String, String)>, body: &str| {
        send(
            server.port,
            &Request {
                method: method.to_owned(),
                path: path.to_owned(),
                headers,
                body: body.as_bytes().to_vec(),
            },
            REQUEST_TIMEOUT,
        )
    };
    let notes = || -> Option<Value> {
        let reply = call("GET", "/health", Vec::new(), "").ok()?;
        json(&reply.body)?.get("notes").cloned()
    };
    let json_type = ("Content-Type".to_owned(), "application/json".to_owned());
    let token = call("POST", "/auth/login", vec![json_type.clone()], ADMIN)
        .ok()
        .and_then(|reply| token_of(&reply));
    let Some(token) = token else {
        return vec![format!("[{}] {}: login failed", split.preset, server.name)];
    };
    let before = notes();
    let reply = call(
        "POST",
        "/api/notes",
        vec![
            json_type,
            ("Authorization".to_owned(), format!("Bearer {token}")),
        ],
        r#"{"title":"must not exist"}"#,
    );
    let after = notes();
    let mut problems = Vec::new();
    if reply.as_ref().map(|r| r.status).ok() != Some(404) {
        problems.push(format!(
            "[{}] {}: POST /api/notes was not a 404: {reply:?}",
            split.preset, server.name
        ));
    }
    if before.is_none() || before != after {
        problems.push(format!(
            "[{}] {}: the handler of another function's route ran (notes {before:?} -> {after:?})",
            split.preset, server.name
        ));
    }
    problems
}

// ---------------------------------------------------------------------------
// cargo lambda watch

fn cargo_lambda() -> PathBuf {
    let path = std::env::var_os("CARGO_LAMBDA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/cargo-lambda"));
    assert!(
        path.is_file(),
        "cargo-lambda not found at {} (set CARGO_LAMBDA, or: python3 -m venv .venv && .venv/bin/pip install cargo-lambda)",
        path.display()
    );
    path
}

/// The watch router maps paths to functions; two paths that differ only in
/// a parameter's name (`/api/notes/{id}`, `/api/notes/{slug}`) make its
/// router (matchit) refuse to start. The generated router must already have
/// merged them: returns each path whose shape an earlier path has.
fn same_shape_router_paths(ws: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(ws.join("Cargo.toml")).expect("workspace manifest");
    let Some(start) = text.find("[workspace.metadata.lambda.watch.router]") else {
        return vec!["the workspace manifest has no watch router".to_owned()];
    };
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    let mut clashes = Vec::new();
    for line in text[start..].lines().skip(1) {
        if line.starts_with('[') {
            break;
        }
        if let Some(path) = line.strip_prefix('"').and_then(|l| l.split('"').next()) {
            let shape = path
                .split('/')
                .map(|s| {
                    if s.starts_with("{*") {
                        "{*}"
                    } else if s.starts_with('{') {
                        "{}"
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            if let Some(first) = seen.insert(shape, path.to_owned()) {
                clashes.push(format!("{path} has the shape of {first}"));
            }
        }
    }
    clashes
}

fn through_cargo_lambda_watch(e2e: &E2e, split: &Split) -> Vec<String> {
    let cargo_lambda = cargo_lambda();
    let mut problems = Vec::new();
    let clashes = same_shape_router_paths(&split.ws);
    if !clashes.is_empty() {
        problems.push(format!(
            "[{}] the watch router has paths cargo lambda watch refuses: {clashes:?}",
            split.preset
        ));
    }
    let monolith_bin = MONOLITH.get().cloned().expect("the monolith was built");
    let mono = Server::start(
        "monolith (watch)",
        &monolith_bin,
        split.run.join("monolith-watch.log"),
    );
    let watch = Watch::start(
        &cargo_lambda,
        &split.ws,
        &e2e.target,
        split.run.join("watch.log"),
    );
    let by_url = split
        .owner("GET /api/notes/{id}")
        .unwrap_or_default()
        .to_owned();
    let targets = |step: &Step| -> Vec<(String, u16, String)> {
        let mut out = vec![(
            "cargo lambda watch".to_owned(),
            watch.port,
            step.path.to_owned(),
        )];
        if step.name == "note by id (rank 1)" {
            out.push((
                "cargo lambda watch, function URL".to_owned(),
                watch.port,
                format!("/lambda-url/{by_url}{}", step.path),
            ));
        }
        out
    };
    problems.extend(replay(
        &Replay {
            label: format!("{} under cargo lambda watch", split.preset),
            split,
            monolith: mono.port,
            targets: &targets,
            all_headers: false,
            timeout: WATCH_TIMEOUT,
        },
        &watch_script(),
    ));
    if !problems.is_empty() {
        problems.push(format!(
            "cargo lambda watch log (tail):\n{}",
            tail(&std::fs::read_to_string(&watch.log).unwrap_or_default(), 30)
        ));
    }
    drop(watch);
    drop(mono);
    problems
}

// ---------------------------------------------------------------------------
// template.yaml

fn check_template(split: &Split) -> Vec<String> {
    let label = &split.preset;
    let text = std::fs::read_to_string(split.ws.join("template.yaml")).expect("template.yaml");
    let yaml = parse_yaml(&text);
    let mut problems = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            problems.push(format!("[{label}] template.yaml: {what}"));
        }
    };
    expect(
        yaml.str_at(&["Transform"]) == Some("AWS::Serverless-2016-10-31"),
        "no SAM transform".to_owned(),
    );
    let Some(Yaml::Map(resources)) = yaml.get("Resources") else {
        return vec![format!("[{label}] template.yaml has no Resources map")];
    };
    let plan_shapes: BTreeSet<String> = split
        .plan
        .iter()
        .flat_map(|f| &f.routes)
        .map(|r| cleave_analyzer::partition::route_shape(r))
        .collect();
    let functions: Vec<&(String, Yaml)> = resources
        .iter()
        .filter(|(_, r)| r.str_at(&["Type"]) == Some("AWS::Serverless::Function"))
        // Scheduled workers' functions are checked by tests/generate_workers.rs.
        .filter(|(_, r)| {
            r.str_at(&["Properties", "Events", "Schedule", "Type"]) != Some("Schedule")
        })
        .collect();
    expect(
        functions.len() == split.plan.len(),
        format!(
            "{} functions for {} in the plan",
            functions.len(),
            split.plan.len()
        ),
    );
    let mut shapes: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    // Functions holding the API's default route (an HttpApi event with no
    // path and method): the first of the plan, and only it.
    let mut default_routes: Vec<String> = Vec::new();
    for f in &split.plan {
        let Some((id, resource)) = functions.iter().map(|(id, r)| (id, r)).find(|(_, r)| {
            r.str_at(&["Metadata", "BuildProperties", "Binary"]) == Some(f.name.as_str())
        }) else {
            expect(false, format!("no function named {}", f.name));
            continue;
        };
        let at = |p: &[&str]| resource.str_at(p).map(str::to_owned);
        expect(
            at(&["Metadata", "BuildMethod"]).as_deref() == Some("rust-cargolambda"),
            format!("{id}: BuildMethod"),
        );
        expect(
            at(&["Metadata", "BuildProperties", "Binary"]).as_deref() == Some(f.name.as_str()),
            format!("{id}: Binary"),
        );
        expect(
            at(&["Properties", "Runtime"]).as_deref() == Some("provided.al2023"),
            format!("{id}: Runtime"),
        );
        expect(
            at(&["Properties", "Handler"]).as_deref() == Some("bootstrap"),
            format!("{id}: Handler"),
        );
        expect(
            at(&["Properties", "MemorySize"]) == Some(f.memory_mb.to_string()),
            format!("{id}: MemorySize"),
        );
        expect(
            at(&["Properties", "Timeout"]) == Some(f.timeout_s.to_string()),
            format!("{id}: Timeout"),
        );
        let mut events = BTreeSet::new();
        if let Some(Yaml::Map(list)) = resource.at(&["Properties", "Events"]) {
            for (name, event) in list {
                expect(
                    event.str_at(&["Type"]) == Some("HttpApi"),
                    format!("{id}: event {name} is not HttpApi"),
                );
                if event.at(&["Properties"]).is_none() {
                    default_routes.push(f.name.clone());
                    continue;
                }
                let method = event
                    .str_at(&["Properties", "Method"])
                    .unwrap_or_default()
                    .to_owned();
                let path = event
                    .str_at(&["Properties", "Path"])
                    .unwrap_or_default()
                    .to_owned();
                let shape = path
                    .split('/')
                    .map(|s| if s.starts_with('{') { "{}" } else { s })
                    .collect::<Vec<_>>()
                    .join("/");
                shapes
                    .entry((method.clone(), shape))
                    .or_default()
                    .push(path.clone());
                events.insert(format!("{method} {path}"));
            }
        }
        // One event per route shape: API Gateway cannot tell routes apart
        // that differ only in a parameter's name; the first one stands for all.
        let mut seen_shapes = BTreeSet::new();
        let plan_routes: Vec<&String> = split.plan.iter().flat_map(|f| &f.routes).collect();
        let routes = with_head(&f.routes, &plan_routes);
        let mut want: BTreeSet<String> = routes
            .iter()
            .filter(|r| seen_shapes.insert(cleave_analyzer::partition::route_shape(r)))
            .map(|r| api_gateway_route(r))
            .collect();
        // rocket's `/static/<path..>` answers `/static` too, which API
        // Gateway's `{path+}` does not match: the bare path has an event of
        // its own, unless a route of the plan has that shape.
        for r in &routes {
            let (method, path) = r.split_once(' ').expect("METHOD PATH");
            let Some((prefix, last)) = path.rsplit_once('/') else {
                continue;
            };
            if !last.starts_with("{*") {
                continue;
            }
            let bare = format!("{method} {}", if prefix.is_empty() { "/" } else { prefix });
            let shape = cleave_analyzer::partition::route_shape(&bare);
            if !plan_shapes.contains(&shape) && seen_shapes.insert(shape) {
                want.insert(bare);
            }
        }
        expect(
            events == want,
            format!("{id}: events {events:?}, plan {want:?}"),
        );
    }
    let first: Vec<String> = split.plan.iter().take(1).map(|f| f.name.clone()).collect();
    expect(
        default_routes == first,
        format!(
            "the API's default route is on {default_routes:?}, expected the first function {first:?}"
        ),
    );
    let clashes: Vec<_> = shapes.iter().filter(|(_, paths)| paths.len() > 1).collect();
    expect(
        clashes.is_empty(),
        format!(
            "[{label}] template.yaml has routes that differ only in a parameter's name, which API Gateway cannot tell apart: {clashes:?}"
        ),
    );
    problems
}

/// `GET /static/{*path}` -> `GET /static/{path+}` (API Gateway's greedy parameter).
fn api_gateway_route(route: &str) -> String {
    route
        .split('/')
        .map(|s| match s.strip_prefix("{*") {
            Some(rest) => format!("{{{}+}}", rest.trim_end_matches('}')),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

// ---------------------------------------------------------------------------
// Determinism

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path
                    .strip_prefix(base)
                    .expect("under base")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Generating again from the same plan gives the same bytes, and no file
/// holds an absolute path of this machine. (Once `cargo build` has touched
/// the first tree, only `Cargo.lock` may differ.)
fn deterministic(e2e: &E2e, split: &Split) -> Vec<String> {
    let again = e2e.root.join(&split.preset).join("again");
    let _ = std::fs::remove_dir_all(&again);
    let fixture = repo().join(FIXTURE);
    let plan = e2e.root.join(&split.preset).join("plan.toml");
    let out = cleave(&[
        "generate".as_ref(),
        fixture.as_os_str(),
        "--plan".as_ref(),
        plan.as_os_str(),
        "--out".as_ref(),
        again.as_os_str(),
    ]);
    if !out.status.success() {
        return vec![format!("generating again failed:\n{}", output_tail(&out))];
    }
    let (a, b) = (files(&split.ws), files(&again));
    let mut problems = Vec::new();
    for (name, bytes) in &b {
        if name == "Cargo.lock" || name.starts_with("target/") {
            continue;
        }
        if a.get(name) != Some(bytes) {
            problems.push(format!(
                "[{}] {name} differs between two generations",
                split.preset
            ));
        }
        let text = String::from_utf8_lossy(bytes);
        for absolute in [repo().display().to_string(), e2e.root.display().to_string()] {
            if text.contains(&absolute) {
                problems.push(format!(
                    "[{}] {name} contains the absolute path {absolute}",
                    split.preset
                ));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&again);
    problems
}

// ---------------------------------------------------------------------------
// Timings

#[derive(Default)]
struct Timings(Vec<(String, Duration)>);

impl Timings {
    fn add(&mut self, what: &str, since: Instant) {
        self.0.push((what.to_owned(), since.elapsed()));
    }

    fn render(&self) -> String {
        let mut out = String::from("timings:\n");
        for (what, took) in &self.0 {
            out.push_str(&format!("  {:>7.1}s  {what}\n", took.as_secs_f64()));
        }
        out
    }
}

#[allow(clippy::print_stderr)] // progress and notes of a long test; shown with --nocapture
fn progress(message: &str) {
    eprintln!("{message}");
}

/// A function's routes with the `HEAD` events `template.yaml` adds: one
/// beside each `GET` route (the monolith answers HEAD there, and the
/// `cargo lambda watch` router sends it to the GET route's function),
/// unless the plan has a `HEAD` route of that shape.
fn with_head(routes: &[String], plan_routes: &[&String]) -> Vec<String> {
    use cleave_analyzer::partition::route_shape;
    let mut planned: BTreeSet<String> = plan_routes.iter().map(|r| route_shape(r)).collect();
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
