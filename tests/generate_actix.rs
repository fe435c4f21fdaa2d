//! `cleave generate` on fixtures/forum-actix (actix-web), measured end to end.
//!
//! For the presets `auto`, `route` and `single`: analyze into a plan,
//! generate a workspace, `cargo build --workspace` it unedited, then replay
//! one request script against the monolith and against the generated
//! functions, each on its own port, and compare status, content type and
//! body (JSON as values; tokens and timestamps masked). The script covers
//! every route of `expected/routes.txt`: auth successes and failures (401,
//! 403), the handler mounted on two routes (`get_post`, `list_items`), the
//! closure route (`/healthz`), the any-method route (`/api/v1/status`), the
//! `default_service` 404 and a 405. Every function must answer 404 for a
//! route another function owns.
//!
//! The forum keeps its state in memory, per process: a session made by the
//! function that owns `login` is unknown to every other function. That is
//! the in-process-state hazard cleave reports, and the test shows it (a
//! token from `auth` gets 401 from `misc`; the monolith answers 200). So the
//! comparison is per function: each function gets the steps of the script
//! on the routes it owns (plus the route-less steps), and so does a fresh
//! monolith started for that function alone; both begin from the same
//! bootstrap state and see the same requests. With `auto` and `route`, a
//! step that needs a session on a function without `login` is therefore
//! compared on its failure (401) only; the `single` plan (one function with
//! every route) replays the whole script, successes included, through the
//! server shim and its guard.
//!
//! Then the Lambda path: the `auto` workspace under `cargo lambda watch`
//! (the real Lambda runtime API, so the `lambda_http` handler, the channel
//! to the actix thread and the conversions), every function's steps at the
//! original URLs and through `/lambda-url/<fn>/..`, compared with a fresh
//! monolith per function; the shim's own unit tests (`cargo test -p ..`
//! in the generated workspace); and `template.yaml` parsed and checked
//! against the plan.
//!
//! Builds use `CARGO_TARGET_DIR` when set, else `target/e2e` in this
//! repository. The generated workspaces live in a temp directory that is
//! stable per target dir (locked while in use), so reruns reuse their
//! artifacts. cargo-lambda is found through `CARGO_LAMBDA` or
//! `.venv/bin/cargo-lambda`.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const FIXTURE: &str = "fixtures/forum-actix";
const ADMIN_PASSWORD: &str = "e2e-admin-password";
const START_TIMEOUT: Duration = Duration::from_secs(60);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Through `cargo lambda watch`, a function's first request starts it (and may build it).
const WATCH_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

// ---------------------------------------------------------------------------
// The tests

#[test]
fn generated_actix_functions_answer_like_the_monolith() {
    let cargo_lambda = cargo_lambda();
    let e2e = E2e::new();
    let mut timings = Timings::default();
    let mut problems: Vec<String> = Vec::new();
    let script = script();
    check_coverage(&script);

    let t = Instant::now();
    let monolith = build_monolith(&e2e);
    timings.add("build the monolith", t);

    let mut auto_ws = None;
    for preset in ["auto", "route", "single"] {
        let t = Instant::now();
        let (ws, plan) = generate_preset(&e2e, preset);
        timings.add(&format!("[{preset}] analyze + generate"), t);
        let t = Instant::now();
        build_workspace(&e2e, &ws, preset);
        timings.add(
            &format!("[{preset}] cargo build --workspace ({} fns)", plan.len()),
            t,
        );
        let t = Instant::now();
        let run = e2e.root.join(format!("run-{preset}"));
        reset_dir(&run);
        for function in &plan {
            let steps = steps_for(&script, &plan, Some(&function.name));
            let mono = Proc::start("monolith", &monolith, &run);
            let fun = Proc::start(&function.name, &e2e.bin(&function.name), &run);
            let label = format!("[{preset}] {}", function.name);
            let statuses = replay(
                &steps,
                &mut Side::new(mono.port, ""),
                &mut Side::new(fun.port, ""),
                &label,
                &mut problems,
            );
            if plan.len() == 1 {
                check_expectations(&steps, &statuses, &label, &mut problems);
            }
            foreign_routes_are_404(&plan, function, fun.port, &label, &mut problems);
        }
        timings.add(&format!("[{preset}] replay against the monolith"), t);
        if preset == "auto" {
            let t = Instant::now();
            in_process_state_is_per_function(&plan, &monolith, &e2e, &run, &mut problems);
            shim_unit_tests_pass(&e2e, &ws, &mut problems);
            timings.add("[auto] state hazard + the shim's unit tests", t);
            auto_ws = Some((ws, plan));
        }
    }

    if let Some((ws, plan)) = auto_ws {
        let t = Instant::now();
        lambda_path(
            &e2e,
            &cargo_lambda,
            &ws,
            &plan,
            &script,
            &monolith,
            &mut problems,
        );
        timings.add("[auto] cargo lambda watch", t);
    }
    timings.report();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn sam_template_has_one_function_per_plan_entry_and_an_event_per_route() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for preset in ["auto", "route"] {
        let plan_path = tmp.path().join(format!("{preset}.toml"));
        analyze(preset, &plan_path);
        let plan = parse_plan(&fs::read_to_string(&plan_path).expect("plan"));
        let out = tmp.path().join(format!("out-{preset}"));
        generate(&plan_path, &out);
        let template = fs::read_to_string(out.join("template.yaml")).expect("template.yaml");
        let problems = check_template(&parse_yaml(&template), &plan);
        assert!(
            problems.is_empty(),
            "[{preset}] template.yaml:\n{}",
            problems.join("\n")
        );
        // Same input, same bytes; nothing names the directories involved.
        let again = tmp.path().join(format!("again-{preset}"));
        generate(&plan_path, &again);
        let (a, b) = (files(&out), files(&again));
        assert_eq!(
            a.keys().collect::<Vec<_>>(),
            b.keys().collect::<Vec<_>>(),
            "[{preset}] file lists differ"
        );
        for (name, bytes) in &a {
            assert!(b[name] == *bytes, "[{preset}] {name} differs between runs");
            let text = String::from_utf8_lossy(bytes);
            for dir in [tmp.path(), &repo()] {
                assert!(
                    !text.contains(&*dir.to_string_lossy()),
                    "[{preset}] {name} names {}",
                    dir.display()
                );
            }
        }
        // Each function's `main` lists exactly its own routes and runs the
        // monolith's `main`, whose source is the monolith's, not rewritten.
        for f in &plan {
            let main = fs::read_to_string(out.join(format!("functions/{}/src/main.rs", f.name)))
                .expect("main.rs");
            for route in &f.routes {
                let (m, p) = split_route(route);
                assert!(
                    main.contains(&format!("(\"{m}\", \"{p}\")")),
                    "[{preset}] {}: main.rs lacks {route}",
                    f.name
                );
            }
            assert!(
                main.contains("::cleave_lambda::init(ROUTES, ELSEWHERE);")
                    && main.contains("::__cleave_main()"),
                "[{preset}] {}:\n{main}",
                f.name
            );
        }
        let original =
            fs::read_to_string(repo().join(FIXTURE).join("crates/forum-server/src/main.rs"))
                .expect("the monolith's main.rs");
        let copied = fs::read_to_string(out.join("crates/forum-server-main/src/main.rs"))
            .expect("the serving binary's main.rs, once");
        // The housekeeping loop's wait is taken over by its worker function
        // (`[[worker]] housekeeping`), on the same line.
        let gated = "::cleave_lambda::gate(\"housekeeping\").await; \
                     if !::cleave_lambda::paced(\"housekeeping\") { tick.tick().await; }";
        assert!(
            copied.contains(gated),
            "[{preset}] the worker's loop is gated:\n{copied}"
        );
        let unedited = copied.replace(gated, "tick.tick().await;");
        assert!(
            unedited.starts_with(&original) && copied.contains("pub fn __cleave_main()"),
            "[{preset}] the serving binary's source is the monolith's plus `__cleave_main`:\n{copied}"
        );
    }
}

// ---------------------------------------------------------------------------
// Steps of the end-to-end test

fn generate_preset(e2e: &E2e, preset: &str) -> (PathBuf, Vec<PlanFunction>) {
    let plan_path = e2e.root.join(format!("{preset}.toml"));
    let _ = fs::remove_file(&plan_path);
    analyze(preset, &plan_path);
    let plan = parse_plan(&fs::read_to_string(&plan_path).expect("plan"));
    assert!(!plan.is_empty(), "[{preset}] empty plan");
    let ws = e2e.root.join(preset);
    reset_dir(&ws);
    generate(&plan_path, &ws);
    (ws, plan)
}

fn build_workspace(e2e: &E2e, ws: &Path, preset: &str) {
    let out = e2e
        .cargo()
        .args(["build", "--workspace"])
        .current_dir(ws)
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "[{preset}] the generated workspace does not build:\n{}",
        tail(&String::from_utf8_lossy(&out.stderr), 60)
    );
}

fn build_monolith(e2e: &E2e) -> PathBuf {
    let out = e2e
        .cargo()
        .args(["build", "--locked", "-p", "forum-server", "--manifest-path"])
        .arg(repo().join(FIXTURE).join("Cargo.toml"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building the monolith failed:\n{}",
        tail(&String::from_utf8_lossy(&out.stderr), 60)
    );
    e2e.bin("forum-server")
}

/// Every function answers 404 for routes other functions own (where the
/// monolith would answer them).
fn foreign_routes_are_404(
    plan: &[PlanFunction],
    function: &PlanFunction,
    port: u16,
    label: &str,
    problems: &mut Vec<String>,
) {
    let probes = [
        ("GET /healthz", "GET", "/healthz"),
        ("GET /api/v1/boards", "GET", "/api/v1/boards"),
        ("ANY /api/v1/status", "PATCH", "/api/v1/status"),
        (
            "DELETE /api/v1/posts/{post_id}",
            "DELETE",
            "/api/v1/posts/1",
        ),
        (
            "POST /api/v1/boards/{board_id}/threads",
            "POST",
            "/api/v1/boards/2/threads",
        ),
    ];
    let mut probed = 0;
    for (route, method, path) in probes {
        if owner(plan, route) == Some(function.name.as_str()) {
            continue;
        }
        probed += 1;
        // The route as written, and spellings a router or a layer in front
        // of it may resolve to it: actix routes `/%68ealthz` to `/healthz`.
        let first = &path[1..2];
        let spellings = [
            path.to_owned(),
            format!("/%{:02X}{}", first.as_bytes()[0], &path[2..]),
            format!("/{path}"),
            format!("/.{path}"),
            format!("{path}/"),
        ];
        for path in &spellings {
            match send(port, method, path, &[], b"", REQUEST_TIMEOUT) {
                Ok(reply) if reply.status == 404 => {}
                Ok(reply) => problems.push(format!(
                    "{label}: {method} {path} (owned by another function) answered {}, not 404",
                    reply.status
                )),
                Err(e) => problems.push(format!("{label}: {method} {path}: {e}")),
            }
        }
    }
    if plan.len() > 1 && probed == 0 {
        problems.push(format!("{label}: no foreign route was probed"));
    }
}

/// The hazard, shown: a session made by the function that owns `login` is
/// unknown to the function that owns `/me`; the monolith knows it.
fn in_process_state_is_per_function(
    plan: &[PlanFunction],
    monolith: &Path,
    e2e: &E2e,
    run: &Path,
    problems: &mut Vec<String>,
) {
    let (Some(login_fn), Some(me_fn)) = (
        owner(plan, "POST /api/v1/auth/login"),
        owner(plan, "GET /api/v1/me"),
    ) else {
        problems.push("[auto] login or /me has no owner".to_owned());
        return;
    };
    if login_fn == me_fn {
        return;
    }
    let mono = Proc::start("monolith", monolith, run);
    let auth = Proc::start(login_fn, &e2e.bin(login_fn), run);
    let me = Proc::start(me_fn, &e2e.bin(me_fn), run);
    let login = format!(r#"{{"username":"admin","password":"{ADMIN_PASSWORD}"}}"#);
    let token_from = |port: u16| -> Option<String> {
        let reply = send(
            port,
            "POST",
            "/api/v1/auth/login",
            &[("content-type", "application/json".to_owned())],
            login.as_bytes(),
            REQUEST_TIMEOUT,
        )
        .ok()?;
        let body: Value = serde_json::from_slice(&reply.body).ok()?;
        body["token"].as_str().map(str::to_owned)
    };
    let me_status = |port: u16, token: &str| {
        send(
            port,
            "GET",
            "/api/v1/me",
            &[("authorization", format!("Bearer {token}"))],
            b"",
            REQUEST_TIMEOUT,
        )
        .map(|r| r.status)
        .unwrap_or(0)
    };
    let (Some(mono_token), Some(fn_token)) = (token_from(mono.port), token_from(auth.port)) else {
        problems.push("[auto] logging in failed".to_owned());
        return;
    };
    let (a, b) = (
        me_status(mono.port, &mono_token),
        me_status(me.port, &fn_token),
    );
    if (a, b) != (200, 401) {
        problems.push(format!(
            "[auto] in-process state: /me with a fresh session answered {a} on the monolith and {b} on `{me_fn}` (token from `{login_fn}`); expected 200 and 401"
        ));
    }
    let migration = fs::read_to_string(e2e.root.join("auto/MIGRATION.md")).unwrap_or_default();
    if !migration.contains("in-process-state") {
        problems.push("[auto] MIGRATION.md does not list the in-process-state hazard".to_owned());
    }
}

/// The shim's own tests, inside the generated workspace: the guard
/// (`cleave-lambda`) and the actix facade's Lambda conversions.
fn shim_unit_tests_pass(e2e: &E2e, ws: &Path, problems: &mut Vec<String>) {
    for (package, features, prefix, at_least) in [
        ("cleave-lambda", "", "guard::tests::", 6),
        ("cleave-lambda-actix-web", "native", "lambda::tests::", 2),
    ] {
        let mut cargo = e2e.cargo();
        cargo.args(["test", "-p", package]);
        if !features.is_empty() {
            cargo.args(["--features", features]);
        }
        let out = cargo.current_dir(ws).output().expect("cargo runs");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let ran = stdout.matches(prefix).count();
        if !out.status.success() || ran < at_least {
            problems.push(format!(
                "[auto] `cargo test -p {package}` in the generated workspace (ran {ran} tests):\n{}\n{}",
                tail(&stdout, 30),
                tail(&String::from_utf8_lossy(&out.stderr), 30)
            ));
        }
    }
}

/// The `auto` workspace under `cargo lambda watch`: the `lambda_http`
/// handler, the channel to the actix thread and the conversions.
fn lambda_path(
    e2e: &E2e,
    cargo_lambda: &Path,
    ws: &Path,
    plan: &[PlanFunction],
    script: &[Step],
    monolith: &Path,
    problems: &mut Vec<String>,
) {
    let run = e2e.root.join("run-watch");
    reset_dir(&run);
    let watch = Watch::start(e2e, cargo_lambda, ws, &run);
    for function in plan {
        let label = format!("[watch] {}", function.name);
        // At the original URLs, through the workspace's watch router. The
        // router matches methods exactly, so an `ANY` route (listed as
        // method "ANY") is not routed; those steps use the function URL.
        let steps = steps_for(script, plan, None)
            .into_iter()
            .filter(|s| s.route.and_then(|r| owner(plan, r)) == Some(function.name.as_str()))
            .collect::<Vec<_>>();
        let prefix = format!("/lambda-url/{}", function.name);
        let mono = Proc::start("monolith", monolith, &run);
        let mut side = Side::new(watch.port, "");
        side.any_prefix = prefix.clone();
        side.timeout = WATCH_REQUEST_TIMEOUT;
        replay(
            &steps,
            &mut Side::new(mono.port, ""),
            &mut side,
            &label,
            problems,
        );
        // Through the function URL, the default service and a foreign route.
        let mut side = Side::new(watch.port, &prefix);
        side.timeout = WATCH_REQUEST_TIMEOUT;
        let route_less: Vec<Step> = script
            .iter()
            .filter(|s| s.route.is_none())
            .cloned()
            .collect();
        replay(
            &route_less,
            &mut Side::new(mono.port, ""),
            &mut side,
            &format!("{label} via {prefix}"),
            problems,
        );
        let foreign = plan
            .iter()
            .filter(|f| f.name != function.name)
            .flat_map(|f| f.routes.iter())
            .find_map(|r| concrete_get(r));
        if let Some(path) = foreign {
            match send(
                watch.port,
                "GET",
                &format!("{prefix}{path}"),
                &[],
                b"",
                WATCH_REQUEST_TIMEOUT,
            ) {
                Ok(r) if r.status == 404 => {}
                Ok(r) => problems.push(format!(
                    "{label}: GET {prefix}{path} (another function's route) answered {}",
                    r.status
                )),
                Err(e) => problems.push(format!("{label}: GET {prefix}{path}: {e}")),
            }
        }
    }
    drop(watch);
}

/// A GET path for `route` when it is a GET route: parameters become `1`.
fn concrete_get(route: &str) -> Option<String> {
    let (m, p) = split_route(route);
    (m == "GET").then(|| {
        p.split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    })
}

// ---------------------------------------------------------------------------
// The request script

#[derive(Clone, Copy, Debug)]
enum Auth {
    None,
    /// The token an earlier step captured under this name, or a token no
    /// session has when it did not run on this side.
    As(&'static str),
    Raw(&'static str),
}

#[derive(Clone, Debug)]
struct Step {
    /// The route of `expected/routes.txt` this request hits; `None` for a
    /// request no route matches (the default service, a 405).
    route: Option<&'static str>,
    method: &'static str,
    path: &'static str,
    json: Option<&'static str>,
    raw_body: Option<&'static str>,
    auth: Auth,
    /// Keep the response's `token` under this name.
    capture: Option<&'static str>,
    /// What the monolith answers when it runs the whole script.
    expect: u16,
}

fn step(
    route: Option<&'static str>,
    method: &'static str,
    path: &'static str,
    expect: u16,
) -> Step {
    Step {
        route,
        method,
        path,
        json: None,
        raw_body: None,
        auth: Auth::None,
        capture: None,
        expect,
    }
}

impl Step {
    fn json(mut self, body: &'static str) -> Self {
        self.json = Some(body);
        self
    }
    fn raw(mut self, body: &'static str) -> Self {
        self.raw_body = Some(body);
        self
    }
    fn auth(mut self, who: &'static str) -> Self {
        self.auth = Auth::As(who);
        self
    }
    fn bearer(mut self, token: &'static str) -> Self {
        self.auth = Auth::Raw(token);
        self
    }
    fn capture(mut self, name: &'static str) -> Self {
        self.capture = Some(name);
        self
    }
}

/// Ids are the store's one counter: admin 1, board `general` 2, alice 3,
/// board `e2e` 4, thread 5 with its first post 6, the reply 7.
fn script() -> Vec<Step> {
    const STATUS: Option<&str> = Some("ANY /api/v1/status");
    const LOGIN: Option<&str> = Some("POST /api/v1/auth/login");
    const REGISTER: Option<&str> = Some("POST /api/v1/auth/register");
    const ME: Option<&str> = Some("GET /api/v1/me");
    const STATS: Option<&str> = Some("GET /api/v1/admin/stats");
    const NEW_BOARD: Option<&str> = Some("POST /api/v1/admin/boards");
    const NEW_THREAD: Option<&str> = Some("POST /api/v1/boards/{board_id}/threads");
    const NEW_POST: Option<&str> = Some("POST /api/v1/threads/{thread_id}/posts");
    const POST: Option<&str> = Some("GET /api/v1/posts/{post_id}");
    const THREAD_POST: Option<&str> = Some("GET /api/v1/threads/{thread_id}/posts/{post_id}");
    const PUT_POST: Option<&str> = Some("PUT /api/v1/posts/{post_id}");
    const DELETE_POST: Option<&str> = Some("DELETE /api/v1/posts/{post_id}");
    const LOCK: Option<&str> = Some("POST /api/v1/admin/threads/{thread_id}/lock");
    const BAN: Option<&str> = Some("DELETE /api/v1/admin/users/{user_id}");
    const LOGOUT: Option<&str> = Some("POST /api/v1/auth/logout");
    const ADMIN: &str = r#"{"username":"admin","password":"e2e-admin-password"}"#;
    const ALICE: &str = r#"{"username":"alice","password":"alice-password"}"#;
    vec![
        // The closure route and the any-method route.
        step(Some("GET /healthz"), "GET", "/healthz", 200),
        step(STATUS, "GET", "/api/v1/status", 200),
        step(STATUS, "POST", "/api/v1/status", 200),
        step(STATUS, "DELETE", "/api/v1/status", 200),
        step(STATUS, "PATCH", "/api/v1/status?x=1", 200),
        // `list_items` on two routes.
        step(Some("GET /api/v1/boards"), "GET", "/api/v1/boards", 200),
        step(
            Some("GET /api/v1/boards"),
            "GET",
            "/api/v1/boards?offset=1&limit=500",
            200,
        ),
        step(
            Some("GET /api/v1/users"),
            "GET",
            "/api/v1/users?limit=1",
            200,
        ),
        step(
            Some("GET /api/v1/boards/{board_id}"),
            "GET",
            "/api/v1/boards/2",
            200,
        ),
        step(
            Some("GET /api/v1/boards/{board_id}"),
            "GET",
            "/api/v1/boards/99",
            404,
        ),
        step(
            Some("GET /api/v1/boards/{board_id}"),
            "GET",
            "/api/v1/boards/abc",
            404,
        ),
        step(
            Some("GET /api/v1/users/{user_id}"),
            "GET",
            "/api/v1/users/1",
            200,
        ),
        step(
            Some("GET /api/v1/users/{user_id}"),
            "GET",
            "/api/v1/users/99",
            404,
        ),
        // Accounts and sessions.
        step(REGISTER, "POST", "/api/v1/auth/register", 201).json(ALICE),
        step(REGISTER, "POST", "/api/v1/auth/register", 409).json(ALICE),
        step(REGISTER, "POST", "/api/v1/auth/register", 422)
            .json(r#"{"username":"bob","password":"short"}"#),
        step(REGISTER, "POST", "/api/v1/auth/register", 400).json("{not json"),
        step(LOGIN, "POST", "/api/v1/auth/login", 401)
            .json(r#"{"username":"admin","password":"wrong-password"}"#),
        step(LOGIN, "POST", "/api/v1/auth/login", 200)
            .json(ADMIN)
            .capture("admin"),
        step(LOGIN, "POST", "/api/v1/auth/login", 200)
            .json(ALICE)
            .capture("alice"),
        step(ME, "GET", "/api/v1/me", 401),
        step(ME, "GET", "/api/v1/me", 401).bearer("not-a-session"),
        step(ME, "GET", "/api/v1/me", 200).auth("alice"),
        // The admin scope's middleware: 401 without a session, 403 for a member.
        step(STATS, "GET", "/api/v1/admin/stats", 401),
        step(STATS, "GET", "/api/v1/admin/stats", 403).auth("alice"),
        step(STATS, "GET", "/api/v1/admin/stats", 200).auth("admin"),
        step(NEW_BOARD, "POST", "/api/v1/admin/boards", 403)
            .auth("alice")
            .json(r#"{"slug":"nope","title":"Nope"}"#),
        step(NEW_BOARD, "POST", "/api/v1/admin/boards", 201)
            .auth("admin")
            .json(r#"{"slug":"e2e","title":"End to end"}"#),
        step(NEW_BOARD, "POST", "/api/v1/admin/boards", 409)
            .auth("admin")
            .json(r#"{"slug":"e2e","title":"Again"}"#),
        // Threads and posts.
        step(NEW_THREAD, "POST", "/api/v1/boards/4/threads", 401)
            .json(r#"{"title":"Hello","body":"First post"}"#),
        step(NEW_THREAD, "POST", "/api/v1/boards/4/threads", 201)
            .auth("alice")
            .json(r#"{"title":"Hello","body":"First post"}"#),
        step(
            Some("GET /api/v1/boards/{board_id}/threads"),
            "GET",
            "/api/v1/boards/4/threads",
            200,
        ),
        step(
            Some("GET /api/v1/threads/{thread_id}"),
            "GET",
            "/api/v1/threads/5",
            200,
        ),
        step(
            Some("GET /api/v1/threads/{thread_id}"),
            "GET",
            "/api/v1/threads/6",
            404,
        ),
        step(NEW_POST, "POST", "/api/v1/threads/5/posts", 201)
            .auth("admin")
            .json(r#"{"body":"A reply"}"#),
        step(
            Some("GET /api/v1/threads/{thread_id}/posts"),
            "GET",
            "/api/v1/threads/5/posts",
            200,
        ),
        // `get_post` on two routes.
        step(POST, "GET", "/api/v1/posts/7", 200),
        step(THREAD_POST, "GET", "/api/v1/threads/5/posts/7", 200),
        step(THREAD_POST, "GET", "/api/v1/threads/4/posts/7", 404),
        step(PUT_POST, "PUT", "/api/v1/posts/6", 200)
            .auth("alice")
            .json(r#"{"body":"Edited"}"#),
        step(PUT_POST, "PUT", "/api/v1/posts/7", 403)
            .auth("alice")
            .json(r#"{"body":"Not mine"}"#),
        step(LOCK, "POST", "/api/v1/admin/threads/5/lock", 401).json("{}"),
        step(LOCK, "POST", "/api/v1/admin/threads/5/lock", 200)
            .auth("admin")
            .json(r#"{"locked":true}"#),
        step(NEW_POST, "POST", "/api/v1/threads/5/posts", 423)
            .auth("alice")
            .json(r#"{"body":"Too late"}"#),
        step(DELETE_POST, "DELETE", "/api/v1/posts/7", 403).auth("alice"),
        step(DELETE_POST, "DELETE", "/api/v1/posts/7", 204).auth("admin"),
        step(POST, "GET", "/api/v1/posts/7", 404),
        step(BAN, "DELETE", "/api/v1/admin/users/3", 401),
        step(BAN, "DELETE", "/api/v1/admin/users/3", 200).auth("admin"),
        step(ME, "GET", "/api/v1/me", 401).auth("alice"),
        step(LOGOUT, "POST", "/api/v1/auth/logout", 401),
        step(LOGOUT, "POST", "/api/v1/auth/logout", 204).auth("admin"),
        step(LOGOUT, "POST", "/api/v1/auth/logout", 401).auth("admin"),
        // No route: the App's default service (JSON 404), also for a method a
        // resource does not have (actix hands that to the default service too).
        step(None, "GET", "/nope", 404),
        step(None, "POST", "/api/v1/unknown/deeper?q=1", 404).raw("x"),
        step(None, "POST", "/api/v1/boards/2", 404),
    ]
}

fn check_coverage(script: &[Step]) {
    let text =
        fs::read_to_string(repo().join(FIXTURE).join("expected/routes.txt")).expect("routes.txt");
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let route = line.split(" -> ").next().unwrap_or(line).trim();
        assert!(
            script.iter().any(|s| s.route == Some(route)),
            "the script has no request for {route}"
        );
    }
}

/// The steps one function gets: those on its routes and the route-less ones
/// (`None`: every step).
fn steps_for(script: &[Step], plan: &[PlanFunction], function: Option<&str>) -> Vec<Step> {
    script
        .iter()
        .filter(|s| match (function, s.route) {
            (None, _) | (_, None) => true,
            (Some(f), Some(r)) => owner(plan, r) == Some(f),
        })
        .cloned()
        .collect()
}

fn check_expectations(steps: &[Step], statuses: &[u16], label: &str, problems: &mut Vec<String>) {
    for (s, &got) in steps.iter().zip(statuses) {
        if got != s.expect {
            problems.push(format!(
                "{label}: the script expects the monolith to answer {} {} with {}, it answered {got}",
                s.method, s.path, s.expect
            ));
        }
    }
}

/// One server the script runs against, and what it captured.
struct Side {
    port: u16,
    prefix: String,
    /// The prefix for steps on an `ANY` route.
    any_prefix: String,
    timeout: Duration,
    tokens: HashMap<&'static str, String>,
}

impl Side {
    fn new(port: u16, prefix: &str) -> Self {
        Self {
            port,
            prefix: prefix.to_owned(),
            any_prefix: prefix.to_owned(),
            timeout: REQUEST_TIMEOUT,
            tokens: HashMap::new(),
        }
    }

    fn prefix_for(&self, s: &Step) -> &str {
        match s.route {
            Some(r) if r.starts_with("ANY ") => &self.any_prefix,
            _ => &self.prefix,
        }
    }

    fn run(&mut self, s: &Step) -> io::Result<Reply> {
        let mut headers = Vec::new();
        let token = match s.auth {
            Auth::None => None,
            Auth::As(who) => Some(
                self.tokens
                    .get(who)
                    .cloned()
                    .unwrap_or_else(|| "no-session-here".to_owned()),
            ),
            Auth::Raw(t) => Some(t.to_owned()),
        };
        if let Some(t) = token {
            headers.push(("authorization", format!("Bearer {t}")));
        }
        let body = match (s.json, s.raw_body) {
            (Some(json), _) => {
                headers.push(("content-type", "application/json".to_owned()));
                json.as_bytes()
            }
            (None, Some(raw)) => {
                headers.push(("content-type", "text/plain".to_owned()));
                raw.as_bytes()
            }
            (None, None) => b"",
        };
        let path = format!("{}{}", self.prefix_for(s), s.path);
        let reply = send(self.port, s.method, &path, &headers, body, self.timeout)?;
        if let Some(name) = s.capture
            && let Ok(v) = serde_json::from_slice::<Value>(&reply.body)
            && let Some(t) = v["token"].as_str()
        {
            self.tokens.insert(name, t.to_owned());
        }
        Ok(reply)
    }
}

/// Sends every step to both sides and compares; returns the monolith's statuses.
fn replay(
    steps: &[Step],
    monolith: &mut Side,
    function: &mut Side,
    label: &str,
    problems: &mut Vec<String>,
) -> Vec<u16> {
    let mut statuses = Vec::new();
    for s in steps {
        let want = monolith.run(s);
        let got = function.run(s);
        match (want, got) {
            (Ok(want), Ok(got)) => {
                statuses.push(want.status);
                let (a, b) = (view(&want), view(&got));
                if a != b {
                    problems.push(format!(
                        "{label}: {} {}{}\n    monolith: {a}\n    function: {b}",
                        s.method,
                        function.prefix_for(s),
                        s.path
                    ));
                }
            }
            (want, got) => {
                statuses.push(0);
                problems.push(format!(
                    "{label}: {} {}: monolith {:?}, function {:?}",
                    s.method,
                    s.path,
                    want.map(|r| r.status),
                    got.map(|r| r.status)
                ));
            }
        }
    }
    statuses
}

/// What is compared: status, content type, body (JSON with tokens and times masked).
fn view(reply: &Reply) -> String {
    let content_type = reply.header("content-type").unwrap_or("-").to_owned();
    let body = match serde_json::from_slice::<Value>(&reply.body) {
        Ok(mut v) => {
            mask(&mut v);
            v.to_string()
        }
        Err(_) => String::from_utf8_lossy(&reply.body).into_owned(),
    };
    format!("{} {content_type} {body}", reply.status)
}

/// Genuinely varying values: session tokens, clock readings. And
/// `last_snapshot` of `/admin/stats`: the monolith's housekeeping worker
/// (`rt::spawn` in `main`) has taken one, a function has none, because
/// cleave takes background workers out of functions (the background-task
/// hazard in MIGRATION.md: deploy it as a scheduled function).
fn mask(v: &mut Value) {
    const VARYING: [&str; 7] = [
        "token",
        "expires_at",
        "created_at",
        "joined_at",
        "edited_at",
        "taken_at",
        "uptime_secs",
    ];
    match v {
        Value::Object(map) => {
            for (k, x) in map.iter_mut() {
                if k == "last_snapshot" || (VARYING.contains(&k.as_str()) && !x.is_null()) {
                    *x = Value::String("<varies>".to_owned());
                } else {
                    mask(x);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// The plan and the SAM template

#[derive(Debug, Default)]
struct PlanFunction {
    name: String,
    routes: Vec<String>,
    memory_mb: u64,
    timeout_s: u64,
}

/// The subset of TOML a cleave plan uses: `[[function]]` tables of
/// strings, integers and (multi-line) string arrays.
fn parse_plan(text: &str) -> Vec<PlanFunction> {
    let mut out: Vec<PlanFunction> = Vec::new();
    let mut in_routes = false;
    let mut in_function = false;
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or(line).trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line == "[[function]]" {
            out.push(PlanFunction::default());
            in_function = true;
            continue;
        }
        // Another table (`[[worker]]`, `[deploy]`): not a function's keys.
        if !in_routes && line.starts_with('[') && !line.contains('=') {
            in_function = false;
            continue;
        }
        let Some(f) = out.last_mut().filter(|_| in_function) else {
            continue;
        };
        if in_routes {
            if line.starts_with(']') {
                in_routes = false;
            } else {
                f.routes
                    .push(line.trim_end_matches(',').trim_matches('"').to_owned());
            }
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "name" => f.name = value.trim_matches('"').to_owned(),
            "memory_mb" => f.memory_mb = value.parse().expect("memory_mb"),
            "timeout_s" => f.timeout_s = value.parse().expect("timeout_s"),
            "routes" if value == "[" => in_routes = true,
            "routes" => {
                f.routes = value
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .split(',')
                    .map(|r| r.trim().trim_matches('"').to_owned())
                    .filter(|r| !r.is_empty())
                    .collect();
            }
            _ => {}
        }
    }
    out
}

fn owner<'p>(plan: &'p [PlanFunction], route: &str) -> Option<&'p str> {
    plan.iter()
        .find(|f| f.routes.iter().any(|r| r == route))
        .map(|f| f.name.as_str())
}

fn split_route(route: &str) -> (&str, &str) {
    route.split_once(' ').expect("`METHOD /path`")
}

#[path = "support/sam_yaml.rs"]
mod sam_yaml;
use sam_yaml::{Yaml, parse_yaml};

fn check_template(doc: &Yaml, plan: &[PlanFunction]) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(Yaml::Map(resources)) = doc.get("Resources") else {
        return vec!["no Resources map".to_owned()];
    };
    let functions: Vec<&Yaml> = resources
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.at(&["Type"]).and_then(Yaml::text) == Some("AWS::Serverless::Function"))
        // Scheduled workers' functions are checked by tests/generate_workers.rs.
        .filter(|r| r.str_at(&["Properties", "Events", "Schedule", "Type"]) != Some("Schedule"))
        .collect();
    if functions.len() != plan.len() {
        problems.push(format!(
            "{} functions for {} plan entries",
            functions.len(),
            plan.len()
        ));
    }
    // Functions holding the API's default route (an HttpApi event with no
    // path and method): the first of the plan, and only it.
    let mut default_routes: Vec<String> = Vec::new();
    for f in plan {
        let Some(r) = functions.iter().find(|r| {
            r.at(&["Metadata", "BuildProperties", "Binary"])
                .and_then(Yaml::text)
                == Some(&f.name)
        }) else {
            problems.push(format!("{}: no function", f.name));
            continue;
        };
        let text = |path: &[&str]| r.at(path).and_then(Yaml::text).unwrap_or("").to_owned();
        let want = [
            (
                vec!["Metadata", "BuildMethod"],
                "rust-cargolambda".to_owned(),
            ),
            (
                vec!["Metadata", "BuildProperties", "Binary"],
                f.name.clone(),
            ),
            (vec!["Properties", "Runtime"], "provided.al2023".to_owned()),
            (vec!["Properties", "Handler"], "bootstrap".to_owned()),
            (vec!["Properties", "MemorySize"], f.memory_mb.to_string()),
            (vec!["Properties", "Timeout"], f.timeout_s.to_string()),
        ];
        for (path, value) in want {
            if text(&path) != value {
                problems.push(format!(
                    "{}: {} is {:?}, want {value:?}",
                    f.name,
                    path.join("."),
                    text(&path)
                ));
            }
        }
        let Some(Yaml::Map(events)) = r.at(&["Properties", "Events"]) else {
            problems.push(format!("{}: no Events", f.name));
            continue;
        };
        let mut got: Vec<String> = Vec::new();
        for (id, e) in events {
            if e.get("Type").and_then(Yaml::text) != Some("HttpApi") {
                problems.push(format!("{}: event {id} is not HttpApi", f.name));
            }
            if e.get("Properties").is_none() {
                default_routes.push(f.name.clone());
                continue;
            }
            let p = |k: &str| e.at(&["Properties", k]).and_then(Yaml::text).unwrap_or("");
            got.push(format!("{} {}", p("Method"), p("Path")));
        }
        let plan_routes: Vec<&String> = plan.iter().flat_map(|f| &f.routes).collect();
        let mut want: Vec<String> = with_head(&f.routes, &plan_routes)
            .iter()
            .map(|r| {
                let (m, p) = split_route(r);
                let p = p
                    .split('/')
                    .map(|s| match s.strip_prefix("{*") {
                        Some(rest) => format!("{{{}+}}", rest.trim_end_matches('}')),
                        None => s.to_owned(),
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                format!("{m} {p}")
            })
            .collect();
        got.sort();
        want.sort();
        if got != want {
            problems.push(format!("{}: events {got:?}, routes {want:?}", f.name));
        }
    }
    let first: Vec<String> = plan.iter().take(1).map(|f| f.name.clone()).collect();
    if default_routes != first {
        problems.push(format!(
            "the API's default route is on {default_routes:?}, expected the first function {first:?}"
        ));
    }
    problems
}

// ---------------------------------------------------------------------------
// Where things are, and the tools

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target dir and the (stable, locked) directory for generated workspaces.
struct E2e {
    target: PathBuf,
    root: PathBuf,
    _lock: File,
}

impl E2e {
    fn new() -> Self {
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if PathBuf::from(&dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => repo().join(dir),
            None => repo().join("target/e2e"),
        };
        let mut hasher = DefaultHasher::new();
        target.hash(&mut hasher);
        let root = std::env::temp_dir().join(format!("cleave-e2e-actix-{:016x}", hasher.finish()));
        fs::create_dir_all(&root).expect("e2e dir");
        let lock = File::create(root.join(".lock")).expect("lock file");
        lock.lock().expect("lock the e2e dir");
        Self {
            target,
            root,
            _lock: lock,
        }
    }

    fn cargo(&self) -> Command {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.env("CARGO_TARGET_DIR", &self.target);
        cargo
    }

    fn bin(&self, name: &str) -> PathBuf {
        self.target.join("debug").join(name)
    }
}

fn cargo_lambda() -> PathBuf {
    let path = std::env::var_os("CARGO_LAMBDA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".venv/bin/cargo-lambda"));
    assert!(
        path.is_file(),
        "cargo-lambda not found at {} (set CARGO_LAMBDA, or: python3 -m venv .venv && \
         .venv/bin/pip install cargo-lambda)",
        path.display()
    );
    path
}

fn cleave(args: &[&std::ffi::OsStr]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_cleave"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("cleave runs");
    assert!(
        out.status.success(),
        "cleave {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn analyze(preset: &str, plan: &Path) {
    cleave(&[
        "analyze".as_ref(),
        FIXTURE.as_ref(),
        "--granularity".as_ref(),
        preset.as_ref(),
        "--plan".as_ref(),
        plan.as_os_str(),
    ]);
}

fn generate(plan: &Path, out: &Path) {
    cleave(&[
        "generate".as_ref(),
        FIXTURE.as_ref(),
        "--plan".as_ref(),
        plan.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
}

fn reset_dir(dir: &Path) {
    if dir.exists() {
        fs::remove_dir_all(dir).expect("remove old dir");
    }
    fs::create_dir_all(dir).expect("create dir");
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in fs::read_dir(dir).expect("read_dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .expect("prefix")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs::read(&p).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[derive(Default)]
struct Timings(Vec<(String, Duration)>);

impl Timings {
    fn add(&mut self, what: &str, since: Instant) {
        let took = since.elapsed();
        progress(&format!("{what}: {:.1}s", took.as_secs_f64()));
        self.0.push((what.to_owned(), took));
    }

    fn report(&self) {
        let mut text = String::from("timings:\n");
        for (what, took) in &self.0 {
            let _ = writeln!(text, "  {:>7.1}s  {what}", took.as_secs_f64());
        }
        let total: Duration = self.0.iter().map(|(_, d)| *d).sum();
        let _ = writeln!(text, "  {:>7.1}s  total", total.as_secs_f64());
        progress(&text);
    }
}

#[allow(clippy::print_stderr)]
fn progress(message: &str) {
    eprintln!("generate_actix: {message}");
}

// ---------------------------------------------------------------------------
// Processes

fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

fn wait_until_listening(name: &str, child: &mut Child, port: u16, log: &Path) {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{name} exited ({status}) before listening on {port}:\n{}",
                tail(&fs::read_to_string(log).unwrap_or_default(), 40)
            );
        }
        assert!(
            Instant::now() < deadline,
            "{name} did not listen on {port} within {START_TIMEOUT:?}:\n{}",
            tail(&fs::read_to_string(log).unwrap_or_default(), 40)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn logged(command: &mut Command, log: &Path) -> Child {
    let out = File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"))
}

/// A local server (the monolith or one function), killed when dropped.
struct Proc {
    child: Child,
    port: u16,
}

impl Proc {
    fn start(name: &str, bin: &Path, run: &Path) -> Self {
        let port = free_port();
        let log = run.join(format!("{name}-{port}.log"));
        let mut command = Command::new(bin);
        command
            .env("PORT", port.to_string())
            .env("FORUM_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env_remove("AWS_LAMBDA_RUNTIME_API");
        let mut proc = Self {
            child: logged(&mut command, &log),
            port,
        };
        wait_until_listening(name, &mut proc.child, port, &log);
        proc
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cargo lambda watch` in its own process group (with the functions it
/// starts); the group is stopped with SIGTERM, then SIGKILL, when dropped.
struct Watch {
    child: Child,
    port: u16,
}

impl Watch {
    fn start(e2e: &E2e, cargo_lambda: &Path, ws: &Path, run: &Path) -> Self {
        let port = free_port();
        let log = run.join("watch.log");
        let mut command = Command::new(cargo_lambda);
        command
            .args([
                "lambda",
                "watch",
                "-A",
                "127.0.0.1",
                "-P",
                &port.to_string(),
            ])
            .arg("--env-var")
            .arg(format!("FORUM_ADMIN_PASSWORD={ADMIN_PASSWORD}"))
            .current_dir(ws)
            .env("CARGO_TARGET_DIR", &e2e.target)
            .env("CARGO", env!("CARGO"))
            .process_group(0);
        let mut watch = Self {
            child: logged(&mut command, &log),
            port,
        };
        wait_until_listening("cargo lambda watch", &mut watch.child, port, &log);
        watch
    }

    fn signal_group(&self, signal: &str) {
        let _ = Command::new("kill")
            .args([signal, "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.signal_group("-TERM");
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(100));
        }
        self.signal_group("-KILL");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------
// A small blocking HTTP/1.1 client

struct Reply {
    status: u16,
    /// Lower-case names.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn send(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
    timeout: Duration,
) -> io::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n");
    if !body.is_empty() || !matches!(method, "GET" | "HEAD" | "DELETE") {
        let _ = write!(head, "content-length: {}\r\n", body.len());
    }
    for (name, value) in headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body)?;
    stream.flush()?;

    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
    let mut reply = Reply {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    };
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::other("connection closed inside the headers"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| io::Error::other(format!("bad header {header:?}")))?;
        reply
            .headers
            .push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    if method == "HEAD" || matches!(status, 100..=199 | 204 | 304) {
        return Ok(reply);
    }
    let chunked = reply
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                break;
            }
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            chunk.truncate(size);
            reply.body.extend_from_slice(&chunk);
        }
    } else if let Some(length) = reply.header("content-length").and_then(|v| v.parse().ok()) {
        reply.body.resize(length, 0);
        reader.read_exact(&mut reply.body)?;
    } else {
        reader.read_to_end(&mut reply.body)?;
    }
    Ok(reply)
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
