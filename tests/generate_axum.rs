//! `cleave generate` on fixtures/shop-axum, measured end to end.
//!
//! For each of the presets `route`, `resource` and `auto`: analyze into a
//! plan, generate a workspace, `cargo build --workspace` it unedited, then run
//! the monolith and all the generated functions side by side (each on its own
//! SQLite file and port) and replay one request script against both: every
//! route of `expected/routes.txt`, auth failures (401/403) and successes, the
//! SSE route, an upload served back through the catch-all, `/health`, the
//! fallback 404 and a 405. Each request goes to the function that owns its
//! route in the plan; responses are compared on status, content type,
//! location, set-cookie presence and body (JSON as values; tokens and
//! timestamps masked). Every function must 404 a route it does not own. The
//! `auto` workspace is then driven through `cargo lambda watch` (the real
//! Lambda runtime API) at the original URLs and one `/lambda-url/..` URL.
//! Separately: `template.yaml` against the plan, and byte-identical,
//! path-free output when generating twice.
//!
//! Builds use `CARGO_TARGET_DIR` when set, else `target/e2e` in this
//! repository. Generated workspaces live outside the repository, in a temp
//! directory that is stable per target dir (and locked while in use): cargo
//! hashes a path package's location into its artifact names, so a fresh
//! directory per run would leave another set of ~90 MB function binaries in
//! the shared target dir on every run. cargo-lambda is found through
//! `CARGO_LAMBDA` or `.venv/bin/cargo-lambda` (CI: `pip install cargo-lambda`);
//! without it the test fails.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const FIXTURE: &str = "fixtures/shop-axum";
const PRESETS: [&str; 3] = ["route", "resource", "auto"];
const ADMIN_EMAIL: &str = "admin@e2e.local";
const ADMIN_PASSWORD: &str = "e2e-admin-password";
/// How long a local server may take to accept connections after spawning.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// One request to a local server.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// One request through `cargo lambda watch`: the first one may compile.
const WATCH_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

// ---------------------------------------------------------------------------
// The tests

#[test]
fn generated_workspaces_build_and_answer_like_the_monolith() {
    let cargo_lambda = cargo_lambda();
    let e2e = E2e::new();
    let mut timings = Timings::default();
    let mut problems: Vec<String> = Vec::new();

    let started = Instant::now();
    let monolith = build_monolith(&e2e);
    timings.add("build the monolith", started);

    for preset in PRESETS {
        let dir = e2e.root.join(preset);
        reset_dir(&dir);
        let plan_path = dir.join("plan.toml");
        let ws = dir.join("ws");
        let run = dir.join("run");
        fs::create_dir_all(&run).expect("run dir");

        let started = Instant::now();
        let splits = analyze(&repo().join(FIXTURE), preset, &plan_path);
        generate(&repo().join(FIXTURE), &plan_path, &ws);
        let plan = parse_plan(&fs::read_to_string(&plan_path).expect("read plan"));
        assert!(!plan.is_empty(), "{preset}: the plan has no [[function]]");
        timings.add(&format!("{preset}: analyze + generate"), started);

        let started = Instant::now();
        let build = cargo_command(&e2e)
            .args(["build", "--workspace"])
            .current_dir(&ws)
            .output()
            .expect("cargo runs");
        timings.add(
            &format!(
                "{preset}: cargo build --workspace ({} functions)",
                plan.len()
            ),
            started,
        );
        if !build.status.success() {
            problems.push(format!(
                "[{preset}] `cargo build --workspace` of the generated workspace failed:\n{}",
                tail(&String::from_utf8_lossy(&build.stderr), 60)
            ));
            continue;
        }

        let (pinned, binaries) = pin_binaries(&e2e, preset, &plan);

        let started = Instant::now();
        let mono = Server::start(
            "monolith",
            Command::new(&monolith),
            &AppEnv::new(&run, "monolith"),
        );
        // One database and one upload dir for all functions, as they would
        // share a database and a bucket once deployed.
        let shared = AppEnv::new(&run, "functions");
        let mut deployed = Vec::new();
        for (function, binary) in plan.iter().zip(&binaries) {
            let mut env = shared.clone();
            env.log = run.join(format!("{}.log", function.name));
            let server = Server::start(&function.name, Command::new(binary), &env);
            deployed.push(Deployed {
                function: function.clone(),
                server,
            });
        }
        timings.add(
            &format!("{preset}: start the monolith and {} functions", plan.len()),
            started,
        );

        let started = Instant::now();
        let split = Split::Functions(&deployed);
        let (replay, explained) = replay(preset, &full_script(), mono.port, &split, &splits);
        // A difference is accepted only where cleave itself warned that the
        // split separates routes sharing in-process state (MIGRATION.md lists it).
        if !explained.is_empty() {
            progress(&format!(
                "[{preset}] {} difference(s) explained by state-split hazards:\n{}",
                explained.len(),
                explained.join("\n")
            ));
        }
        problems.extend(replay);
        problems.extend(foreign_routes_get_404(preset, &deployed));
        timings.add(&format!("{preset}: replay the script"), started);
        drop(deployed);
        drop(mono);
        let _ = fs::remove_dir_all(&pinned);

        if preset == "auto" {
            let started = Instant::now();
            problems.extend(shim_unit_tests(&e2e, &ws));
            timings.add("auto: the shim's unit tests", started);
            let started = Instant::now();
            problems.extend(through_cargo_lambda_watch(
                &e2e,
                &cargo_lambda,
                &monolith,
                &ws,
                &run,
                &plan,
                &splits,
            ));
            timings.add("auto: cargo lambda watch", started);
        }
    }

    assert!(
        problems.is_empty(),
        "{} problem(s) with the generated workspaces:\n\n{}\n\n{}",
        problems.len(),
        problems.join("\n\n"),
        timings.render()
    );
}

#[test]
fn sam_template_has_one_function_per_plan_entry_with_its_routes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut problems = Vec::new();
    for preset in PRESETS {
        let plan_path = tmp.path().join(format!("{preset}.toml"));
        analyze(&repo().join(FIXTURE), preset, &plan_path);
        // A human edit, so the check can tell "from the plan" from a default.
        let text = fs::read_to_string(&plan_path).expect("read plan");
        assert!(
            text.contains("memory_mb = 256") && text.contains("timeout_s = 29"),
            "{preset}: the proposal no longer uses memory_mb = 256 / timeout_s = 29; update this test"
        );
        let text = text
            .replacen("memory_mb = 256", "memory_mb = 512", 1)
            .replacen("timeout_s = 29", "timeout_s = 12", 1);
        fs::write(&plan_path, &text).expect("write plan");
        let plan = parse_plan(&text);
        assert!(plan.iter().any(|f| f.memory_mb == 512 && f.timeout_s == 12));

        let out = tmp.path().join(preset);
        generate(&repo().join(FIXTURE), &plan_path, &out);
        let template = fs::read_to_string(out.join("template.yaml")).expect("template.yaml");
        let yaml = parse_yaml(&template);
        problems.extend(
            check_template(&yaml, &plan)
                .into_iter()
                .map(|p| format!("[{preset}] template.yaml: {p}")),
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn generating_twice_gives_identical_trees_without_absolute_paths() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let fixture = repo().join(FIXTURE);
    let mut forbidden = vec![
        tmp.path().display().to_string(),
        repo().display().to_string(),
    ];
    for path in [tmp.path().to_path_buf(), repo()] {
        if let Ok(canonical) = path.canonicalize() {
            forbidden.push(canonical.display().to_string());
        }
    }
    forbidden.sort();
    forbidden.dedup();

    let mut problems = Vec::new();
    for preset in PRESETS {
        let plan_path = tmp.path().join(format!("{preset}.toml"));
        analyze(&fixture, preset, &plan_path);
        let first = tmp.path().join(format!("{preset}-first"));
        let second = tmp.path().join(format!("{preset}-second"));
        generate(&fixture, &plan_path, &first);
        generate(&fixture, &plan_path, &second);
        let a = files(&first);
        let b = files(&second);
        assert!(a.len() > 5, "{preset}: only {} files generated", a.len());
        let names = |t: &BTreeMap<String, Vec<u8>>| t.keys().cloned().collect::<Vec<_>>();
        if names(&a) != names(&b) {
            problems.push(format!(
                "[{preset}] the two runs wrote different file sets:\n first: {:?}\n second: {:?}",
                names(&a),
                names(&b)
            ));
        }
        for (name, bytes) in &a {
            if b.get(name).is_some_and(|other| other != bytes) {
                problems.push(format!("[{preset}] {name} differs between two runs"));
            }
            let text = String::from_utf8_lossy(bytes);
            for path in &forbidden {
                if text.contains(path.as_str()) {
                    problems.push(format!(
                        "[{preset}] {name} contains the absolute path {path}"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------
// Where things are and how the tools run

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared target dir and the (stable, locked) directory for generated workspaces.
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
        let root = std::env::temp_dir().join(format!("cleave-e2e-axum-{:016x}", hasher.finish()));
        fs::create_dir_all(&root).expect("e2e dir");
        let lock = File::create(root.join(".lock")).expect("lock file");
        lock.lock().expect("lock the e2e dir");
        Self {
            target,
            root,
            _lock: lock,
        }
    }
}

fn cargo_command(e2e: &E2e) -> Command {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.env("CARGO_TARGET_DIR", &e2e.target);
    cargo
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

fn build_monolith(e2e: &E2e) -> PathBuf {
    let out = cargo_command(e2e)
        .args(["build", "--bin", "shop", "--manifest-path"])
        .arg(repo().join(FIXTURE).join("Cargo.toml"))
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "building the monolith failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    e2e.target
        .join("debug")
        .join(format!("shop{}", std::env::consts::EXE_SUFFIX))
}

/// Hard links to the function binaries just built. Presets share function
/// names (`admin`, `carts`, ..) and so `target/debug/<name>`; a link keeps
/// this build's file even if another build replaces that path meanwhile.
/// Returns the directory of links (removed after the run) and the links.
fn pin_binaries(e2e: &E2e, preset: &str, plan: &[PlanFunction]) -> (PathBuf, Vec<PathBuf>) {
    let dir = e2e.target.join("cleave-e2e-bin").join(preset);
    reset_dir(&dir);
    let binaries = plan
        .iter()
        .map(|function| {
            let name = format!("{}{}", function.name, std::env::consts::EXE_SUFFIX);
            let built = e2e.target.join("debug").join(&name);
            let pinned = dir.join(&name);
            if fs::hard_link(&built, &pinned).is_err() {
                fs::copy(&built, &pinned)
                    .unwrap_or_else(|e| panic!("copy {}: {e}", built.display()));
            }
            pinned
        })
        .collect();
    (dir, binaries)
}

fn cleave(args: &[&std::ffi::OsStr]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_cleave"))
        .args(args)
        .current_dir(repo())
        .output()
        .expect("cleave runs");
    assert!(
        out.status.success(),
        "cleave {:?} failed:\n{}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Proposes a plan; returns the routes whose answers may differ once split
/// because in-process state they use is also used by routes of another
/// function (the `state-split` the review warns about), with the hazard.
fn analyze(fixture: &Path, preset: &str, plan: &Path) -> StateSplits {
    let out = cleave(&[
        "analyze".as_ref(),
        fixture.as_os_str(),
        "--granularity".as_ref(),
        preset.as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
        "--plan".as_ref(),
        plan.as_os_str(),
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("analysis json");
    let mut owner: HashMap<String, String> = HashMap::new();
    for f in doc["functions"].as_array().expect("functions") {
        for r in f["routes"].as_array().expect("routes") {
            owner.insert(
                r.as_str().expect("route").to_owned(),
                f["name"].as_str().expect("name").to_owned(),
            );
        }
    }
    let mut splits = StateSplits::new();
    for h in doc["hazards"].as_array().expect("hazards") {
        let code = h["code"].as_str().expect("code");
        if code != "in-process-state" && code != "global-mutable-state" {
            continue;
        }
        let routes: Vec<&str> = h["entrypoints"]
            .as_array()
            .expect("entrypoints")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut functions: Vec<&String> = routes.iter().filter_map(|r| owner.get(*r)).collect();
        functions.sort();
        functions.dedup();
        if functions.len() > 1 {
            for r in routes {
                splits.insert(
                    r.to_owned(),
                    format!(
                        "{code} `{}` ({}:{})",
                        h["item"].as_str().unwrap_or(""),
                        h["file"].as_str().unwrap_or(""),
                        h["line"]
                    ),
                );
            }
        }
    }
    splits
}

/// The shop keeps a product cache in `AppState` (`Arc<Mutex<HashMap>>`):
/// once admin and catalogue routes run in different functions, each has its
/// own copy, so these routes' answers may show stale or missing cache
/// entries. That is the `in-process-state` hazard the analysis reports and
/// the review's `state-split` warning; a difference on any other route, or
/// one the analysis did not warn about, fails the test.
const CACHE_READERS: &[&str] = &[
    "GET /api/products/{id}",
    "GET /api/admin/stats",
    "DELETE /api/admin/cache",
];

/// Route -> the state hazard that makes its answer depend on which instance serves it.
type StateSplits = BTreeMap<String, String>;

fn generate(fixture: &Path, plan: &Path, out: &Path) {
    cleave(&[
        "generate".as_ref(),
        fixture.as_os_str(),
        "--plan".as_ref(),
        plan.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
}

fn reset_dir(dir: &Path) {
    if dir.exists() {
        fs::remove_dir_all(dir).expect("remove the previous run");
    }
    fs::create_dir_all(dir).expect("create dir");
}

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).expect("read_dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(base, &path, out);
            } else {
                let name = path
                    .strip_prefix(base)
                    .expect("under base")
                    .to_string_lossy()
                    .into_owned();
                out.insert(name, fs::read(&path).expect("read file"));
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

#[allow(clippy::print_stderr)] // progress of a long test; shown with --nocapture
fn progress(message: &str) {
    eprintln!("[generate_axum] {message}");
}

#[derive(Default)]
struct Timings(Vec<(String, Duration)>);

impl Timings {
    fn add(&mut self, what: &str, since: Instant) {
        let took = since.elapsed();
        progress(&format!("{what}: {:.1}s", took.as_secs_f64()));
        self.0.push((what.to_owned(), took));
    }

    fn render(&self) -> String {
        let mut out = String::from("timings:");
        for (what, took) in &self.0 {
            let _ = write!(out, "\n  {:>7.1}s  {what}", took.as_secs_f64());
        }
        out
    }
}

// ---------------------------------------------------------------------------
// The plan (a small reader for the subset cleave writes: `[[function]]`
// tables of strings, integers and string arrays)

#[derive(Debug, Clone)]
struct PlanFunction {
    name: String,
    /// `"METHOD /path"`, as in the plan.
    routes: Vec<String>,
    memory_mb: u64,
    timeout_s: u64,
}

fn parse_plan(text: &str) -> Vec<PlanFunction> {
    let mut functions: Vec<PlanFunction> = Vec::new();
    let mut pending = String::new();
    let mut in_function = false;
    for (number, raw) in text.lines().enumerate() {
        let line = strip_toml_comment(raw).trim().to_owned();
        if line.is_empty() {
            continue;
        }
        if pending.is_empty() && line.starts_with('[') && !line.contains('=') {
            // Another table (`[[worker]]`, `[deploy]`) holds no function's keys.
            in_function = line == "[[function]]";
            if in_function {
                functions.push(PlanFunction {
                    name: String::new(),
                    routes: Vec::new(),
                    memory_mb: 0,
                    timeout_s: 0,
                });
            }
            continue;
        }
        if !in_function {
            continue;
        }
        pending.push_str(&line);
        pending.push(' ');
        let open = pending.matches('[').count();
        let close = pending.matches(']').count();
        if open > close {
            continue; // a multi-line array
        }
        let statement = std::mem::take(&mut pending);
        let (key, value) = statement
            .split_once('=')
            .unwrap_or_else(|| panic!("plan line {}: expected `key = value`", number + 1));
        let (key, value) = (key.trim(), value.trim());
        let Some(function) = functions.last_mut() else {
            continue; // top-level keys: version, target
        };
        match key {
            "name" => function.name = toml_strings(value).concat(),
            "routes" => function.routes = toml_strings(value),
            "memory_mb" => function.memory_mb = value.parse().expect("memory_mb"),
            "timeout_s" => function.timeout_s = value.parse().expect("timeout_s"),
            _ => {}
        }
    }
    for function in &functions {
        assert!(!function.name.is_empty(), "a [[function]] without a name");
    }
    functions
}

fn strip_toml_comment(line: &str) -> &str {
    let mut in_string = false;
    let mut escaped = false;
    for (at, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..at],
            _ => {}
        }
    }
    line
}

/// Every basic string in `value`, in order.
fn toml_strings(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    let mut escaped = false;
    for c in value.chars() {
        match (&mut current, c) {
            (Some(s), _) if escaped => {
                s.push(c);
                escaped = false;
            }
            (Some(_), '\\') => escaped = true,
            (Some(_), '"') => out.extend(current.take()),
            (Some(s), _) => s.push(c),
            (None, '"') => current = Some(String::new()),
            (None, _) => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Routes: matching concrete paths against `{id}` / `{*path}` patterns the way
// axum does (a static segment beats a parameter beats a catch-all)

/// The routes of `expected/routes.txt`, as `(METHOD, /pattern)`.
fn monolith_routes() -> Vec<(String, String)> {
    let text = fs::read_to_string(repo().join(FIXTURE).join("expected/routes.txt"))
        .expect("expected/routes.txt");
    let routes: Vec<(String, String)> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let route = line.split(" -> ").next().expect("route");
            let (method, path) = route.split_once(' ').expect("METHOD /path");
            (method.to_owned(), path.to_owned())
        })
        .collect();
    assert_eq!(
        routes.len(),
        31,
        "expected/routes.txt changed; update this test"
    );
    routes
}

/// How well `pattern` matches `path`: `None` if it does not; higher is more specific.
fn match_rank(pattern: &str, path: &str) -> Option<Vec<u8>> {
    let pattern: Vec<&str> = pattern.split('/').filter(|s| !s.is_empty()).collect();
    let path: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let mut rank = Vec::new();
    for (at, segment) in pattern.iter().enumerate() {
        if segment.starts_with("{*") {
            return (path.len() > at).then(|| {
                rank.push(0);
                rank
            });
        }
        let actual = path.get(at)?;
        if segment.starts_with('{') {
            rank.push(1);
        } else if segment == actual {
            rank.push(2);
        } else {
            return None;
        }
    }
    (pattern.len() == path.len()).then_some(rank)
}

/// The route pattern a request path hits, if any.
fn resolve<'a>(patterns: impl Iterator<Item = &'a str>, path: &str) -> Option<&'a str> {
    let path = path.split('?').next().unwrap_or_default();
    patterns
        .filter_map(|p| match_rank(p, path).map(|rank| (rank, p)))
        .max()
        .map(|(_, p)| p)
}

/// A concrete path for a pattern: parameters become `1`, a catch-all `a/b`.
fn concrete(pattern: &str) -> String {
    pattern
        .split('/')
        .map(|s| match s {
            s if s.starts_with("{*") => "a/b",
            s if s.starts_with('{') => "1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn split_route(route: &str) -> (&str, &str) {
    route.split_once(' ').expect("METHOD /path")
}

// ---------------------------------------------------------------------------
// Processes

/// The environment of one running copy of the shop.
#[derive(Clone)]
struct AppEnv {
    database: PathBuf,
    uploads: PathBuf,
    log: PathBuf,
}

impl AppEnv {
    fn new(run: &Path, name: &str) -> Self {
        Self {
            database: run.join(format!("{name}.db")),
            uploads: run.join(format!("uploads-{name}")),
            log: run.join(format!("{name}.log")),
        }
    }

    fn vars(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "DATABASE_URL",
                format!("sqlite:{}?mode=rwc", self.database.display()),
            ),
            ("UPLOAD_DIR", self.uploads.display().to_string()),
            ("ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
            ("ADMIN_PASSWORD", ADMIN_PASSWORD.to_owned()),
            ("CART_SWEEP_SECS", "86400".to_owned()),
            ("CART_TTL_SECS", "86400".to_owned()),
            ("RUST_LOG", "info".to_owned()),
        ]
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

fn spawn_logged(command: &mut Command, log: &Path) -> Child {
    let out = File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"))
}

/// Waits until `port` accepts connections; fails with the log if `child` exits first.
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
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A local server process, killed when dropped (also while a test unwinds).
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(name: &str, mut command: Command, env: &AppEnv) -> Self {
        let port = free_port();
        command
            .envs(env.vars())
            .env("PORT", port.to_string())
            .env_remove("AWS_LAMBDA_RUNTIME_API");
        let mut server = Self {
            child: spawn_logged(&mut command, &env.log),
            port,
        };
        wait_until_listening(name, &mut server.child, port, &env.log);
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cargo lambda watch` and the function processes it starts. Stopped with
/// SIGTERM (it then stops its functions), anything left is killed by pid.
struct Watch {
    child: Child,
}

impl Drop for Watch {
    fn drop(&mut self) {
        let descendants = descendants(self.child.id());
        signal("TERM", self.child.id());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(100));
        }
        for pid in descendants {
            if Path::new(&format!("/proc/{pid}")).exists() {
                signal("KILL", pid);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(name: &str, pid: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// Every process below `root` (Linux `/proc`; elsewhere none are found).
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let after = stat
            .rfind(')')
            .map(|at| &stat[at + 1..])
            .unwrap_or_default();
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut at = 0;
    while at < found.len() {
        let parent = found[at];
        for &(pid, ppid) in &parent_of {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
            }
        }
        at += 1;
    }
    found.split_off(1)
}

// ---------------------------------------------------------------------------
// A small blocking HTTP/1.1 client

struct Request {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Read the status and headers only (an endless SSE stream).
    headers_only: bool,
}

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

fn send(port: u16, request: &Request, timeout: Duration) -> io::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-length: {}\r\n",
        request.method,
        request.path,
        request.body.len()
    );
    for (name, value) in &request.headers {
        let _ = write!(head, "{name}: {value}\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&request.body)?;
    stream.flush()?;

    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
    let mut headers = Vec::new();
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
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut reply = Reply {
        status,
        headers,
        body: Vec::new(),
    };
    if request.headers_only || request.method == "HEAD" || matches!(status, 100..=199 | 204 | 304) {
        let _ = reader.get_ref().shutdown(Shutdown::Both);
        return Ok(reply);
    }
    let chunked = reply
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let length = reply.header("content-length").and_then(|v| v.parse().ok());
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size = line.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| io::Error::other(format!("bad chunk size {line:?}")))?;
            if size == 0 {
                while reader.read_line(&mut line)? > 2 {
                    line.clear(); // trailers
                }
                break;
            }
            let mut chunk = vec![0; size];
            reader.read_exact(&mut chunk)?;
            reply.body.extend_from_slice(&chunk);
            let mut crlf = [0; 2];
            reader.read_exact(&mut crlf)?;
        }
    } else if let Some(length) = length {
        reply.body.resize(length, 0);
        reader.read_exact(&mut reply.body)?;
    } else {
        reader.read_to_end(&mut reply.body)?;
    }
    Ok(reply)
}

// ---------------------------------------------------------------------------
// The request script

/// A fake PNG: the app checks only the declared content type.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\nnot-really-a-png";

#[derive(Clone)]
enum Payload {
    None,
    Json(String),
    Raw(&'static str, &'static [u8]),
}

/// One request; `${name}` in the path, body and token is replaced by what an
/// earlier step captured on the same side.
#[derive(Clone)]
struct Step {
    method: &'static str,
    path: String,
    /// The path on the non-monolith side, when it differs (`/lambda-url/..`).
    other_path: Option<String>,
    bearer: Option<String>,
    payload: Payload,
    /// What the monolith must answer: a check of the script itself.
    expect: u16,
    captures: Vec<(&'static str, &'static str)>,
    headers_only: bool,
}

impl Step {
    fn new(method: &'static str, path: &str, expect: u16) -> Self {
        Self {
            method,
            path: path.to_owned(),
            other_path: None,
            bearer: None,
            payload: Payload::None,
            expect,
            captures: Vec::new(),
            headers_only: false,
        }
    }

    fn json(mut self, body: &str) -> Self {
        self.payload = Payload::Json(body.to_owned());
        self
    }

    fn raw(mut self, content_type: &'static str, body: &'static [u8]) -> Self {
        self.payload = Payload::Raw(content_type, body);
        self
    }

    fn bearer(mut self, token: &str) -> Self {
        self.bearer = Some(token.to_owned());
        self
    }

    fn capture(mut self, var: &'static str, pointer: &'static str) -> Self {
        self.captures.push((var, pointer));
        self
    }

    fn expect(mut self, status: u16) -> Self {
        self.expect = status;
        self
    }

    fn headers_only(mut self) -> Self {
        self.headers_only = true;
        self
    }

    fn other_path(mut self, path: &str) -> Self {
        self.other_path = Some(path.to_owned());
        self
    }

    fn request(&self, vars: &Vars, path: &str) -> Request {
        let mut headers = Vec::new();
        if let Some(token) = &self.bearer {
            headers.push((
                "authorization".to_owned(),
                format!("Bearer {}", vars.fill(token)),
            ));
        }
        let body = match &self.payload {
            Payload::None => Vec::new(),
            Payload::Json(template) => {
                headers.push(("content-type".to_owned(), "application/json".to_owned()));
                vars.fill(template).into_bytes()
            }
            Payload::Raw(content_type, bytes) => {
                headers.push(("content-type".to_owned(), (*content_type).to_owned()));
                bytes.to_vec()
            }
        };
        Request {
            method: self.method.to_owned(),
            path: vars.fill(path),
            headers,
            body,
            headers_only: self.headers_only,
        }
    }
}

/// What one side captured (ids, tokens).
struct Vars {
    values: HashMap<String, String>,
    /// The monolith's side: a missing value is a bug in the script.
    strict: bool,
}

impl Vars {
    fn new(strict: bool) -> Self {
        Self {
            values: HashMap::new(),
            strict,
        }
    }

    fn fill(&self, template: &str) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').expect("`${name}` is closed");
            let name = &after[..end];
            match self.values.get(name) {
                Some(value) => out.push_str(value),
                None if self.strict => panic!("script: `{name}` used before it was captured"),
                // An earlier step already went wrong on this side (reported there).
                None => out.push('0'),
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        out
    }

    fn capture(&mut self, step: &Step, reply: &Reply) {
        if step.captures.is_empty() {
            return;
        }
        let Ok(json) = serde_json::from_slice::<Value>(&reply.body) else {
            return;
        };
        for (var, pointer) in &step.captures {
            let value = match json.pointer(pointer) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => continue,
            };
            self.values.insert((*var).to_owned(), value);
        }
    }
}

const ADMIN_ROUTES: [(&str, &str); 9] = [
    ("GET", "/api/admin/stats"),
    ("POST", "/api/admin/products"),
    ("PATCH", "/api/admin/products/1"),
    ("DELETE", "/api/admin/products/1"),
    ("POST", "/api/admin/products/1/image"),
    ("GET", "/api/admin/orders"),
    ("PATCH", "/api/admin/orders/1/status"),
    ("GET", "/api/admin/users"),
    ("DELETE", "/api/admin/cache"),
];

fn admin_login() -> Step {
    Step::new("POST", "/api/users/login", 200)
        .json(&format!(
            r#"{{"email":"{ADMIN_EMAIL}","password":"{ADMIN_PASSWORD}"}}"#
        ))
        .capture("admin", "/token")
}

fn new_product(sku: &str, category: &str, price: i64, stock: i64) -> Step {
    Step::new("POST", "/api/admin/products", 201)
        .bearer("${admin}")
        .json(&format!(
            r#"{{"sku":"{sku}","name":"Item {sku}","category":"{category}","price_cents":{price},"stock":{stock}}}"#
        ))
}

/// Every route of the monolith, with its failure modes, in the order a
/// client would use them; later steps build on ids and tokens from earlier ones.
fn full_script() -> Vec<Step> {
    let mut s = vec![
        // meta, fallback, 405
        Step::new("GET", "/health", 200),
        Step::new("GET", "/version", 200),
        Step::new("HEAD", "/version", 200),
        Step::new("GET", "/nope", 404),
        Step::new("GET", "/api/products/1/reviews", 404),
        Step::new("GET", "/api/admin/unknown", 404),
        Step::new("PUT", "/api/products", 405),
        // accounts
        Step::new("POST", "/api/users/login", 401).json(&format!(
            r#"{{"email":"{ADMIN_EMAIL}","password":"wrong password"}}"#
        )),
        admin_login(),
        Step::new("POST", "/api/users", 201)
            .json(r#"{"email":"Ann@Example.com","name":"Ann","password":"correct horse"}"#),
        Step::new("POST", "/api/users", 409)
            .json(r#"{"email":"ann@example.com","name":"Ann","password":"correct horse"}"#),
        Step::new("POST", "/api/users", 400)
            .json(r#"{"email":"x@y.z","name":"X","password":"short"}"#),
        Step::new("POST", "/api/users/login", 401)
            .json(r#"{"email":"ann@example.com","password":"wrong horse"}"#),
        Step::new("POST", "/api/users/login", 200)
            .json(r#"{"email":"ann@example.com","password":"correct horse"}"#)
            .capture("ann", "/token"),
        Step::new("POST", "/api/users", 201)
            .json(r#"{"email":"bob@example.com","name":"Bob","password":"hunter2hunter2"}"#),
        Step::new("POST", "/api/users/login", 200)
            .json(r#"{"email":"bob@example.com","password":"hunter2hunter2"}"#)
            .capture("bob", "/token"),
        Step::new("GET", "/api/users/me", 401),
        Step::new("GET", "/api/users/me", 401).bearer("not-a-token"),
        Step::new("GET", "/api/users/me", 200).bearer("${ann}"),
    ];
    // the admin guard: no token, a bad token, a customer's token
    for (method, path) in ADMIN_ROUTES {
        s.push(Step::new(method, path, 401));
        s.push(Step::new(method, path, 401).bearer("not-a-token"));
        s.push(Step::new(method, path, 403).bearer("${ann}"));
    }
    s.extend([
        // catalogue
        new_product("MUG-1", "kitchen", 1200, 5).capture("mug", "/id"),
        new_product("PAN-1", "kitchen", 3500, 2).capture("pan", "/id"),
        new_product("TEE-1", "apparel", 1900, 10).capture("tee", "/id"),
        new_product("MUG-1", "kitchen", 1, 1).expect(409),
        new_product("NEG-1", "kitchen", -1, 1).expect(400),
        Step::new("GET", "/api/products", 200),
        Step::new("GET", "/api/products?category=kitchen&limit=1", 200),
        Step::new("GET", "/api/products?q=TEE", 200),
        Step::new("GET", "/api/products?limit=1000", 400),
        Step::new("GET", "/api/products/${mug}", 200),
        Step::new("GET", "/api/products/999", 404),
        Step::new("GET", "/api/products/categories", 200),
        Step::new("PATCH", "/api/admin/products/${mug}", 200)
            .bearer("${admin}")
            .json(r#"{"price_cents":999}"#),
        Step::new("PATCH", "/api/admin/products/999", 404)
            .bearer("${admin}")
            .json(r#"{"price_cents":1}"#),
        Step::new("GET", "/api/products/${mug}", 200),
        // uploads, served back through the catch-all
        Step::new("POST", "/api/admin/products/${mug}/image", 400)
            .bearer("${admin}")
            .raw("text/plain", PNG),
        Step::new("POST", "/api/admin/products/${mug}/image", 201)
            .bearer("${admin}")
            .raw("image/png", PNG),
        Step::new("GET", "/uploads/products/${mug}.png", 200),
        Step::new("GET", "/uploads/products/missing.png", 404),
        Step::new("GET", "/uploads/products/..%2F..%2Fsecret", 400),
        // carts
        Step::new("POST", "/api/carts", 201).capture("cart", "/id"),
        Step::new("GET", "/api/carts/${cart}", 200),
        Step::new("POST", "/api/carts/${cart}/items", 200)
            .json(r#"{"product_id":${mug},"quantity":2}"#),
        Step::new("POST", "/api/carts/${cart}/items", 200).json(r#"{"product_id":${tee}}"#),
        Step::new("POST", "/api/carts/${cart}/items", 409)
            .json(r#"{"product_id":${mug},"quantity":9}"#),
        Step::new("POST", "/api/carts/${cart}/items", 400)
            .json(r#"{"product_id":${mug},"quantity":0}"#),
        Step::new("GET", "/api/carts/${cart}/items", 200),
        Step::new("PUT", "/api/carts/${cart}/items/${mug}", 200).json(r#"{"quantity":3}"#),
        Step::new("DELETE", "/api/carts/${cart}/items/${tee}", 200),
        Step::new("DELETE", "/api/carts/${cart}/items/${tee}", 404),
        Step::new("GET", "/api/carts/${cart}", 200),
        Step::new("DELETE", "/api/carts/${cart}/items", 200),
        Step::new("GET", "/api/carts/4242", 404),
        Step::new("GET", "/api/carts/4242/items", 404),
        // orders, and the event stream
        Step::new("GET", "/api/events", 200).headers_only(),
        Step::new("POST", "/api/carts", 201).capture("order_cart", "/id"),
        Step::new("POST", "/api/carts/${order_cart}/items", 200)
            .json(r#"{"product_id":${mug},"quantity":2}"#),
        Step::new("GET", "/api/orders", 401),
        Step::new("GET", "/api/orders", 401).bearer("not-a-token"),
        Step::new("POST", "/api/orders", 401).json(r#"{"cart_id":${order_cart}}"#),
        Step::new("POST", "/api/orders", 201)
            .bearer("${ann}")
            .json(r#"{"cart_id":${order_cart}}"#)
            .capture("order", "/id"),
        Step::new("POST", "/api/orders", 400)
            .bearer("${ann}")
            .json(r#"{"cart_id":${order_cart}}"#),
        Step::new("GET", "/api/orders", 200).bearer("${ann}"),
        Step::new("GET", "/api/orders/${order}", 200).bearer("${ann}"),
        Step::new("GET", "/api/orders/${order}", 404).bearer("${bob}"),
        Step::new("GET", "/api/orders/${order}", 401),
        Step::new("GET", "/api/products/${mug}", 200),
        Step::new("POST", "/api/orders/${order}/cancel", 401),
        Step::new("POST", "/api/orders/${order}/cancel", 200).bearer("${ann}"),
        Step::new("POST", "/api/orders/${order}/cancel", 409).bearer("${ann}"),
        // the admin area
        Step::new("POST", "/api/carts", 201).capture("ship_cart", "/id"),
        Step::new("POST", "/api/carts/${ship_cart}/items", 200)
            .json(r#"{"product_id":${mug},"quantity":1}"#),
        Step::new("POST", "/api/orders", 201)
            .bearer("${ann}")
            .json(r#"{"cart_id":${ship_cart}}"#)
            .capture("shipped", "/id"),
        Step::new("GET", "/api/admin/orders", 200).bearer("${admin}"),
        Step::new("GET", "/api/admin/orders?status=shipped", 200).bearer("${admin}"),
        Step::new("PATCH", "/api/admin/orders/${shipped}/status", 409)
            .bearer("${admin}")
            .json(r#"{"status":"shipped"}"#),
    ]);
    for next in ["paid", "shipped", "delivered"] {
        s.push(
            Step::new("PATCH", "/api/admin/orders/${shipped}/status", 200)
                .bearer("${admin}")
                .json(&format!(r#"{{"status":"{next}"}}"#)),
        );
    }
    s.extend([
        Step::new("PATCH", "/api/admin/orders/77/status", 404)
            .bearer("${admin}")
            .json(r#"{"status":"paid"}"#),
        Step::new("GET", "/api/orders/${shipped}", 200).bearer("${admin}"),
        Step::new("GET", "/api/admin/users", 200).bearer("${admin}"),
        Step::new("GET", "/api/admin/stats", 200).bearer("${admin}"),
        Step::new("DELETE", "/api/admin/cache", 200).bearer("${admin}"),
        Step::new("DELETE", "/api/admin/products/${pan}", 204).bearer("${admin}"),
        Step::new("DELETE", "/api/admin/products/${pan}", 404).bearer("${admin}"),
        Step::new("GET", "/api/products/${pan}", 404),
        // signing out
        Step::new("POST", "/api/users/logout", 401),
        Step::new("POST", "/api/users/logout", 204).bearer("${ann}"),
        Step::new("GET", "/api/users/me", 401).bearer("${ann}"),
    ]);
    s
}

/// Requests at the original URLs through `cargo lambda watch`'s router
/// (several functions), and one through `/lambda-url/<function>/..`.
fn watch_script(plan: &[PlanFunction]) -> Vec<Step> {
    let owner = |route: &str| {
        plan.iter()
            .find(|f| f.routes.iter().any(|r| r == route))
            .map(|f| f.name.clone())
            .unwrap_or_else(|| panic!("no function owns {route}"))
    };
    vec![
        Step::new("GET", "/health", 200),
        Step::new("GET", "/version", 200),
        admin_login(),
        Step::new("GET", "/api/admin/stats", 401),
        new_product("MUG-1", "kitchen", 1200, 5).capture("mug", "/id"),
        Step::new("GET", "/api/products", 200),
        Step::new("GET", "/api/products/${mug}", 200),
        Step::new("GET", "/api/products/999", 404),
        Step::new("POST", "/api/carts", 201).capture("cart", "/id"),
        Step::new("POST", "/api/carts/${cart}/items", 200)
            .json(r#"{"product_id":${mug},"quantity":2}"#),
        Step::new("GET", "/api/carts/${cart}", 200),
        Step::new("GET", "/uploads/products/missing.png", 404),
        Step::new("GET", "/api/products/categories", 200).other_path(&format!(
            "/lambda-url/{}/api/products/categories",
            owner("GET /api/products/categories")
        )),
    ]
}

// ---------------------------------------------------------------------------
// Replaying the script against the monolith and the split

struct Deployed {
    function: PlanFunction,
    server: Server,
}

enum Split<'a> {
    /// The generated functions, each on its own port.
    Functions(&'a [Deployed]),
    /// `cargo lambda watch` on one port.
    Watch(u16),
}

impl Split<'_> {
    /// Where a request goes: the function owning its route; for a path whose
    /// route exists with other methods (405), the functions owning that path;
    /// for a path no route matches (the fallback), every function.
    fn targets(&self, routes: &[(String, String)], method: &str, path: &str) -> Vec<(String, u16)> {
        let functions = match self {
            Split::Watch(port) => return vec![("cargo lambda watch".to_owned(), *port)],
            Split::Functions(functions) => functions,
        };
        let Some(pattern) = resolve(routes.iter().map(|(_, p)| p.as_str()), path) else {
            return functions
                .iter()
                .map(|d| (d.function.name.clone(), d.server.port))
                .collect();
        };
        let method = if method == "HEAD" { "GET" } else { method };
        let route = format!("{method} {pattern}");
        let owners: Vec<&Deployed> = functions
            .iter()
            .filter(|d| d.function.routes.contains(&route))
            .collect();
        let owners = if owners.is_empty() {
            functions
                .iter()
                .filter(|d| {
                    d.function
                        .routes
                        .iter()
                        .any(|r| split_route(r).1 == pattern)
                })
                .collect()
        } else {
            owners
        };
        owners
            .iter()
            .map(|d| (d.function.name.clone(), d.server.port))
            .collect()
    }

    fn timeout(&self) -> Duration {
        match self {
            Split::Functions(_) => REQUEST_TIMEOUT,
            Split::Watch(_) => WATCH_REQUEST_TIMEOUT,
        }
    }
}

/// The parts of a response that must match, with what is random masked.
#[derive(Debug, PartialEq)]
struct View {
    status: u16,
    content_type: Option<String>,
    location: Option<String>,
    set_cookie: bool,
    body: Body,
}

#[derive(Debug, PartialEq)]
enum Body {
    Json(Value),
    Bytes(Vec<u8>),
    NotRead,
}

impl View {
    fn of(reply: &Reply, read_body: bool) -> Self {
        let content_type = reply.header("content-type").map(str::to_owned);
        let body = if !read_body {
            Body::NotRead
        } else if content_type.as_deref().is_some_and(|t| t.contains("json")) {
            match serde_json::from_slice::<Value>(&reply.body) {
                Ok(mut json) => {
                    mask(&mut json);
                    Body::Json(json)
                }
                Err(_) => Body::Bytes(reply.body.clone()),
            }
        } else {
            Body::Bytes(reply.body.clone())
        };
        Self {
            status: reply.status,
            content_type,
            location: reply.header("location").map(str::to_owned),
            set_cookie: reply.header("set-cookie").is_some(),
            body,
        }
    }

    fn render(&self) -> String {
        let body = match &self.body {
            Body::Json(json) => json.to_string(),
            Body::Bytes(bytes) => format!("{:?}", String::from_utf8_lossy(bytes)),
            Body::NotRead => "(body not read)".to_owned(),
        };
        let mut body: String = body.chars().take(600).collect();
        if body.len() >= 600 {
            body.push('…');
        }
        format!(
            "{} content-type={:?} location={:?} set-cookie={} body={body}",
            self.status, self.content_type, self.location, self.set_cookie
        )
    }
}

/// Masks what differs between two correct runs: session tokens and timestamps.
fn mask(json: &mut Value) {
    match json {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match (key.as_str(), &*value) {
                    ("token", Value::String(_)) => *value = Value::from("<token>"),
                    ("created_at" | "updated_at", Value::Number(_)) => {
                        *value = Value::from("<timestamp>");
                    }
                    _ => mask(value),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask),
        _ => {}
    }
}

/// Replays `script` against the monolith and the split; returns every difference.
/// Replays `script`; returns the differences, and those explained by a
/// state split that `cleave analyze` reported (`splits`).
fn replay(
    label: &str,
    script: &[Step],
    monolith: u16,
    split: &Split,
    splits: &StateSplits,
) -> (Vec<String>, Vec<String>) {
    let routes = monolith_routes();
    let mut problems = Vec::new();
    let mut explained = Vec::new();
    let mut mono_vars = Vars::new(true);
    let mut split_vars = Vars::new(false);
    let mut covered: Vec<String> = Vec::new();

    for step in script {
        let request = step.request(&mono_vars, &step.path);
        let mono = send(monolith, &request, REQUEST_TIMEOUT).unwrap_or_else(|e| {
            panic!(
                "[{label}] monolith: {} {}: {e}",
                request.method, request.path
            )
        });
        assert_eq!(
            mono.status,
            step.expect,
            "script: the monolith answered {} {} with {} (body {}); the script expects {}",
            request.method,
            request.path,
            mono.status,
            String::from_utf8_lossy(&mono.body),
            step.expect
        );
        mono_vars.capture(step, &mono);
        if (200..300).contains(&mono.status)
            && let Some(pattern) = resolve(routes.iter().map(|(_, p)| p.as_str()), &request.path)
        {
            let method = if step.method == "HEAD" {
                "GET"
            } else {
                step.method
            };
            covered.push(format!("{method} {pattern}"));
        }
        let expected = View::of(&mono, !step.headers_only && step.method != "HEAD");

        let path = step.other_path.as_deref().unwrap_or(&step.path);
        let other = step.request(&split_vars, path);
        let targets = split.targets(&routes, step.method, &other.path);
        assert!(
            targets.len() == 1 || step.captures.is_empty(),
            "script: a step that captures must hit one function ({} {})",
            step.method,
            step.path
        );
        for (name, port) in &targets {
            let answer = match send(*port, &other, split.timeout()) {
                Ok(reply) => reply,
                Err(e) => {
                    problems.push(format!(
                        "[{label}] {} {} -> {name}: no answer: {e}\n  monolith: {}",
                        other.method,
                        other.path,
                        expected.render()
                    ));
                    continue;
                }
            };
            if targets.len() == 1 {
                split_vars.capture(step, &answer);
            }
            let actual = View::of(&answer, !step.headers_only && step.method != "HEAD");
            if actual != expected {
                let body = match &step.payload {
                    Payload::None => String::new(),
                    Payload::Json(_) => format!(" {}", String::from_utf8_lossy(&other.body)),
                    Payload::Raw(content_type, bytes) => {
                        format!(" ({} bytes of {content_type})", bytes.len())
                    }
                };
                let text = format!(
                    "[{label}] {} {}{body} -> {name}\n  monolith: {}\n  {name}: {}",
                    other.method,
                    other.path,
                    expected.render(),
                    actual.render()
                );
                let pattern = resolve(routes.iter().map(|(_, p)| p.as_str()), &other.path);
                let route = pattern.map(|p| format!("{} {p}", step.method));
                let why = route
                    .as_ref()
                    .filter(|r| CACHE_READERS.contains(&r.as_str()))
                    .and_then(|r| splits.get(r));
                match why {
                    Some(why) => explained.push(format!("{text}\n  explained by {why}")),
                    None => problems.push(text),
                }
            }
        }
    }

    if let Split::Functions(_) = split {
        let missing: Vec<String> = routes
            .iter()
            .map(|(m, p)| format!("{m} {p}"))
            .filter(|route| !covered.contains(route))
            .collect();
        assert!(
            missing.is_empty(),
            "script: no successful request for {missing:?}"
        );
    }
    (problems, explained)
}

/// Each function answers 404 to a route of the monolith that another function owns.
fn foreign_routes_get_404(label: &str, deployed: &[Deployed]) -> Vec<String> {
    let routes = monolith_routes();
    let mut problems = Vec::new();
    for d in deployed {
        let Some((method, pattern)) = routes
            .iter()
            .find(|(m, p)| !d.function.routes.contains(&format!("{m} {p}")))
        else {
            continue; // owns every route
        };
        let request = Request {
            method: method.clone(),
            path: concrete(pattern),
            headers: Vec::new(),
            body: Vec::new(),
            headers_only: false,
        };
        match send(d.server.port, &request, REQUEST_TIMEOUT) {
            Ok(reply) if reply.status == 404 => {}
            Ok(reply) => problems.push(format!(
                "[{label}] {} {} (owned by another function) -> {}: expected 404, got {}",
                request.method,
                request.path,
                d.function.name,
                View::of(&reply, true).render()
            )),
            Err(e) => problems.push(format!(
                "[{label}] {} {} -> {}: no answer: {e}",
                request.method, request.path, d.function.name
            )),
        }
    }
    problems
}

/// The shim's own tests in the generated workspace: the guard
/// (`cleave-lambda`) and the axum facade (its guard in front of a `Router`,
/// `ConnectInfo` on Lambda for each app shape `serve` accepts).
fn shim_unit_tests(e2e: &E2e, ws: &Path) -> Vec<String> {
    let out = cargo_command(e2e)
        .args(["test", "-p", "cleave-lambda", "-p", "cleave-lambda-axum"])
        .args(["--features", "cleave-lambda-axum/native"])
        .current_dir(ws)
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let guard = stdout.matches("guard::tests::").count();
    let facade = stdout.matches("serve::shared::tests::").count();
    if out.status.success() && guard >= 6 && facade >= 3 {
        return Vec::new();
    }
    vec![format!(
        "[auto] the shim's tests in the generated workspace (ran {guard} guard and {facade} facade tests):\n{}\n{}",
        tail(&stdout, 30),
        tail(&String::from_utf8_lossy(&out.stderr), 30)
    )]
}

/// The `auto` workspace under `cargo lambda watch`, against a fresh monolith.
fn through_cargo_lambda_watch(
    e2e: &E2e,
    cargo_lambda: &Path,
    monolith: &Path,
    ws: &Path,
    run: &Path,
    plan: &[PlanFunction],
    splits: &StateSplits,
) -> Vec<String> {
    let mono = Server::start(
        "monolith (for watch)",
        Command::new(monolith),
        &AppEnv::new(run, "watch-monolith"),
    );
    let env = AppEnv::new(run, "watch");
    let env_file = run.join("watch.env");
    // Quoted: cargo-lambda's reader rejects an unquoted `=` in a value (the URL's `?mode=rwc`).
    let lines: Vec<String> = env
        .vars()
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
        .current_dir(ws)
        .env("CARGO_TARGET_DIR", &e2e.target)
        .env("CARGO", env!("CARGO"))
        .env_remove("PORT")
        .env_remove("AWS_LAMBDA_RUNTIME_API");
    let log = run.join("watch.log");
    let mut watch = Watch {
        child: spawn_logged(&mut command, &log),
    };
    wait_until_listening("cargo lambda watch", &mut watch.child, port, &log);

    let (mut problems, explained) = replay(
        "auto, cargo lambda watch",
        &watch_script(plan),
        mono.port,
        &Split::Watch(port),
        splits,
    );
    if !explained.is_empty() {
        progress(&format!(
            "[watch] {} difference(s) explained by state-split hazards",
            explained.len()
        ));
    }
    if let Some(last) = problems.last_mut() {
        let _ = write!(
            last,
            "\n  (cargo lambda watch log, tail:)\n{}",
            tail(&fs::read_to_string(&log).unwrap_or_default(), 30)
        );
    }
    drop(watch);
    drop(mono);
    problems
}

// ---------------------------------------------------------------------------
// template.yaml, as a plain tree.

#[path = "support/sam_yaml.rs"]
mod sam_yaml;
use sam_yaml::{Yaml, parse_yaml};

/// API Gateway's path syntax: `{*rest}` is `{rest+}`.
fn api_gateway_path(path: &str) -> String {
    path.split('/')
        .map(|s| match s.strip_prefix("{*") {
            Some(rest) => format!("{{{}+}}", rest.trim_end_matches('}')),
            None => s.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn check_template(yaml: &Yaml, plan: &[PlanFunction]) -> Vec<String> {
    let mut problems = Vec::new();
    if yaml.str_at(&["Transform"]) != Some("AWS::Serverless-2016-10-31") {
        problems.push("Transform is not AWS::Serverless-2016-10-31".to_owned());
    }
    let Some(Yaml::Map(resources)) = yaml.get("Resources") else {
        return vec!["no Resources map".to_owned()];
    };
    let functions: Vec<(&String, &Yaml)> = resources
        .iter()
        .filter(|(_, r)| r.str_at(&["Type"]) == Some("AWS::Serverless::Function"))
        // Scheduled workers' functions are checked by tests/generate_workers.rs.
        .filter(|(_, r)| {
            r.str_at(&["Properties", "Events", "Schedule", "Type"]) != Some("Schedule")
        })
        .map(|(name, r)| (name, r))
        .collect();
    if functions.len() != plan.len() {
        problems.push(format!(
            "{} AWS::Serverless::Function resources for {} plan functions",
            functions.len(),
            plan.len()
        ));
    }
    // Functions holding the API's default route (an HttpApi event with no
    // path and method): the first of the plan, and only it.
    let mut default_routes: Vec<String> = Vec::new();
    for function in plan {
        let found: Vec<_> = functions
            .iter()
            .filter(|(_, r)| {
                r.str_at(&["Metadata", "BuildProperties", "Binary"]) == Some(&function.name)
            })
            .collect();
        let [(logical, resource)] = found.as_slice() else {
            problems.push(format!(
                "{} resources build the binary `{}` (Metadata.BuildProperties.Binary); expected 1",
                found.len(),
                function.name
            ));
            continue;
        };
        let mut expect = |path: &[&str], want: &str| {
            let got = resource.str_at(path);
            if got != Some(want) {
                problems.push(format!(
                    "{logical} ({}): {} is {got:?}, expected {want:?}",
                    function.name,
                    path.join(".")
                ));
            }
        };
        expect(&["Metadata", "BuildMethod"], "rust-cargolambda");
        expect(&["Properties", "Runtime"], "provided.al2023");
        expect(
            &["Properties", "MemorySize"],
            &function.memory_mb.to_string(),
        );
        expect(&["Properties", "Timeout"], &function.timeout_s.to_string());
        let arm64 = Yaml::List(vec![Yaml::Scalar("arm64".to_owned())]);
        if resource.at(&["Properties", "Architectures"]) != Some(&arm64) {
            problems.push(format!(
                "{logical}: Architectures is {:?}, expected [arm64]",
                resource.at(&["Properties", "Architectures"])
            ));
        }

        let mut events: Vec<String> = Vec::new();
        match resource.at(&["Properties", "Events"]) {
            Some(Yaml::Map(entries)) => {
                for (name, event) in entries {
                    if event.at(&["Properties"]).is_none() {
                        if event.str_at(&["Type"]) != Some("HttpApi") {
                            problems.push(format!("{logical}.{name}: Type is not HttpApi"));
                        }
                        default_routes.push(function.name.clone());
                        continue;
                    }
                    let method = event.str_at(&["Properties", "Method"]).unwrap_or_default();
                    let path = event.str_at(&["Properties", "Path"]).unwrap_or_default();
                    if event.str_at(&["Type"]) != Some("HttpApi") {
                        problems.push(format!("{logical}.{name}: Type is not HttpApi"));
                    }
                    if method != method.to_uppercase() {
                        problems.push(format!(
                            "{logical}.{name}: method {method} is not upper-case"
                        ));
                    }
                    events.push(format!("{method} {path}"));
                }
            }
            other => problems.push(format!("{logical}: Events is {other:?}")),
        }
        events.sort();
        let plan_routes: Vec<&String> = plan.iter().flat_map(|f| &f.routes).collect();
        let mut wanted: Vec<String> = with_head(&function.routes, &plan_routes)
            .iter()
            .map(|route| {
                let (method, path) = split_route(route);
                format!("{} {}", method.to_uppercase(), api_gateway_path(path))
            })
            .collect();
        wanted.sort();
        if events != wanted {
            problems.push(format!(
                "{logical}: HttpApi events {events:?}, expected one per plan route {wanted:?}"
            ));
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
