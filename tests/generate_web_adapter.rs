//! `cleave generate --adapter web-adapter`, end to end.
//!
//! For each bundled fixture (shop-axum, forum-actix, notes-rocket): analyze
//! into a plan, generate with the web adapter, and check that `template.yaml`
//! puts every function of the plan behind the AWS Lambda Web Adapter layer
//! (region-substituted ARN, `PORT`/`AWS_LWA_PORT`, TCP readiness check, no
//! exec wrapper) and that no manifest depends on `lambda_http`.
//!
//! Then, for shop-axum only (the cheapest: `tests/generate_axum.rs` leaves
//! its dependencies in the shared target dir), one function is built (debug)
//! and started with `PORT` on a free port (and `AWS_LAMBDA_RUNTIME_API` set,
//! as on Lambda, which this runner must ignore) beside the monolith: it must
//! answer its own routes as the monolith does and 404 every route another
//! function owns.
//!
//! Builds use `CARGO_TARGET_DIR` when set, else `target/e2e` in this
//! repository. The generated workspace lives in a temp directory that is
//! stable per target dir (and locked while in use), as in
//! `generate_axum.rs`: cargo hashes a path package's location into its
//! artifact names, so a fresh directory per run would leave another set of
//! binaries in the shared target dir on every run.

use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const FIXTURES: [&str; 3] = [
    "fixtures/shop-axum",
    "fixtures/forum-actix",
    "fixtures/notes-rocket",
];
/// What every function of the template gets, after its `Timeout`.
const WEB_ADAPTER_PROPERTIES: &str = r#"      Layers:
        - !Sub arn:aws:lambda:${AWS::Region}:753240598075:layer:LambdaAdapterLayerArm64:30
      Environment:
        Variables:
          AWS_LWA_PORT: "8000"
          AWS_LWA_READINESS_CHECK_PROTOCOL: tcp
          PORT: "8000"
"#;
/// The shop route whose function is built, and the routes compared with the
/// monolith when that function owns them (neither touches the database).
const BUILT_FOR: &str = "GET /version";
const COMPARED: [&str; 2] = ["GET /version", "GET /health"];
/// How long a local server may take to accept connections after spawning.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// One request to a local server.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// The tests

#[test]
fn every_function_is_behind_the_layer_and_none_depends_on_lambda_http() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut problems = Vec::new();
    for fixture in FIXTURES {
        let label = fixture.trim_start_matches("fixtures/");
        let plan_path = tmp.path().join(format!("{label}.toml"));
        let ws = tmp.path().join(label);
        analyze(&repo().join(fixture), &plan_path);
        generate(&repo().join(fixture), &plan_path, &ws);
        let plan = parse_plan(&fs::read_to_string(&plan_path).expect("read plan"));
        assert!(!plan.is_empty(), "{label}: the plan has no [[function]]");
        problems.extend(
            check_template(&read(&ws.join("template.yaml")), &plan)
                .into_iter()
                .map(|p| format!("[{label}] template.yaml: {p}")),
        );
        let mut manifests = vec![ws.join("Cargo.toml")];
        manifests.extend(
            plan.iter()
                .map(|f| ws.join("functions").join(&f.name).join("Cargo.toml")),
        );
        for manifest in manifests {
            if read(&manifest).contains("lambda_http") {
                problems.push(format!(
                    "[{label}] {} depends on lambda_http",
                    manifest.strip_prefix(&ws).unwrap_or(&manifest).display()
                ));
            }
        }
        let readme = read(&ws.join("README.md"));
        if !readme.contains("Adapter: `web-adapter`") {
            problems.push(format!("[{label}] README.md does not name the web adapter"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_built_function_serves_its_routes_on_port_and_404s_the_others() {
    let fixture = repo().join("fixtures/shop-axum");
    let e2e = E2e::new();
    let plan_path = e2e.root.join("plan.toml");
    let ws = e2e.root.join("ws");
    let run = e2e.root.join("run");
    reset_dir(&run);
    if plan_path.exists() {
        fs::remove_file(&plan_path).expect("remove the previous plan");
    }
    analyze(&fixture, &plan_path);
    generate(&fixture, &plan_path, &ws);
    let plan = parse_plan(&fs::read_to_string(&plan_path).expect("read plan"));
    let function = plan
        .iter()
        .find(|f| f.routes.iter().any(|r| r == BUILT_FOR))
        .unwrap_or_else(|| panic!("no function owns {BUILT_FOR}"))
        .clone();

    let started = Instant::now();
    let monolith = build(
        &e2e,
        cargo(&e2e)
            .args(["build", "--bin", "shop", "--manifest-path"])
            .arg(fixture.join("Cargo.toml")),
        "shop",
    );
    let built = build(
        &e2e,
        cargo(&e2e)
            .args(["build", "-p", &function.name])
            .current_dir(&ws),
        &function.name,
    );
    progress(&format!(
        "built the monolith and function `{}` in {:.1?}",
        function.name,
        started.elapsed()
    ));

    let mono = Server::start("monolith", Command::new(&monolith), &run, None);
    let lambda_api = TcpListener::bind(("127.0.0.1", 0)).expect("bind");
    let fake_runtime_api = lambda_api.local_addr().expect("addr").to_string();
    let split = Server::start(
        &function.name,
        Command::new(&built),
        &run,
        Some(&fake_runtime_api),
    );

    let mut problems = Vec::new();
    let mut compared = 0;
    for route in COMPARED
        .iter()
        .filter(|r| function.routes.iter().any(|o| o == *r))
    {
        let (method, path) = route.split_once(' ').expect("METHOD /path");
        let want = send(mono.port, method, path);
        let got = send(split.port, method, path);
        match (want, got) {
            (Ok(want), Ok(got)) if want.status == 200 && got == want => compared += 1,
            (want, got) => problems.push(format!(
                "{route}: the monolith answered {}, function `{}` {}",
                show(&want),
                function.name,
                show(&got)
            )),
        }
    }
    assert!(compared > 0 || !problems.is_empty(), "nothing compared");

    let foreign: Vec<String> = plan
        .iter()
        .filter(|f| f.name != function.name)
        .flat_map(|f| f.routes.clone())
        .collect();
    assert!(!foreign.is_empty(), "the plan has one function");
    for route in &foreign {
        let (method, pattern) = route.split_once(' ').expect("METHOD /path");
        let method = if method == "ANY" { "GET" } else { method };
        let path = concrete(pattern);
        match send(split.port, method, &path) {
            Ok(reply) if reply.status == 404 => {}
            other => problems.push(format!(
                "{method} {path} (owned by another function) -> `{}`: expected 404, got {}",
                function.name,
                show(&other)
            )),
        }
    }
    progress(&format!(
        "`{}`: {compared} route(s) answered as by the monolith, {} route(s) of other functions tried",
        function.name,
        foreign.len()
    ));
    drop(split);
    drop(mono);
    assert!(
        problems.is_empty(),
        "{} problem(s) with function `{}` behind the web adapter:\n{}\nlog: {}",
        problems.len(),
        function.name,
        problems.join("\n"),
        run.display()
    );
}

// ---------------------------------------------------------------------------
// Where things are and how the tools run

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared target dir and the (stable, locked) directory for the generated workspace.
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
        let root =
            std::env::temp_dir().join(format!("cleave-e2e-web-adapter-{:016x}", hasher.finish()));
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

fn cargo(e2e: &E2e) -> Command {
    let mut cargo = Command::new(env!("CARGO"));
    cargo.env("CARGO_TARGET_DIR", &e2e.target);
    cargo
}

/// Runs a `cargo build` of `binary` and returns a hard link to it (another
/// build of the same name, e.g. by another test, may replace
/// `target/debug/<binary>` meanwhile).
fn build(e2e: &E2e, command: &mut Command, binary: &str) -> PathBuf {
    let out = command.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "{command:?} failed:\n{}",
        tail(&String::from_utf8_lossy(&out.stderr), 60)
    );
    let name = format!("{binary}{}", std::env::consts::EXE_SUFFIX);
    let built = e2e.target.join("debug").join(&name);
    let dir = e2e.target.join("cleave-e2e-bin").join("web-adapter");
    fs::create_dir_all(&dir).expect("bin dir");
    let pinned = dir.join(&name);
    let _ = fs::remove_file(&pinned);
    if fs::hard_link(&built, &pinned).is_err() {
        fs::copy(&built, &pinned).unwrap_or_else(|e| panic!("copy {}: {e}", built.display()));
    }
    pinned
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

fn analyze(fixture: &Path, plan: &Path) {
    cleave(&[
        "analyze".as_ref(),
        fixture.as_os_str(),
        "--plan".as_ref(),
        plan.as_os_str(),
    ]);
}

fn generate(fixture: &Path, plan: &Path, out: &Path) {
    cleave(&[
        "generate".as_ref(),
        fixture.as_os_str(),
        "--plan".as_ref(),
        plan.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--adapter".as_ref(),
        "web-adapter".as_ref(),
    ]);
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn reset_dir(dir: &Path) {
    if dir.exists() {
        fs::remove_dir_all(dir).expect("remove the previous run");
    }
    fs::create_dir_all(dir).expect("create dir");
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[allow(clippy::print_stderr)] // progress of a long test; shown with --nocapture
fn progress(message: &str) {
    eprintln!("[generate_web_adapter] {message}");
}

// ---------------------------------------------------------------------------
// The plan and the template

#[derive(Clone, Debug)]
struct PlanFunction {
    name: String,
    routes: Vec<String>,
}

/// The `[[function]]` tables of a plan cleave wrote: `name = "..."` and a
/// `routes = [...]` array with one quoted route per line.
fn parse_plan(text: &str) -> Vec<PlanFunction> {
    let mut functions: Vec<PlanFunction> = Vec::new();
    let mut in_routes = false;
    let mut in_function = false;
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or_default().trim();
        if line == "[[function]]" {
            functions.push(PlanFunction {
                name: String::new(),
                routes: Vec::new(),
            });
            in_routes = false;
            in_function = true;
        } else if !in_routes && line.starts_with('[') && !line.contains('=') {
            // Another table (`[[worker]]`, `[deploy]`) holds no function's keys.
            in_function = false;
        } else if let Some(f) = functions.last_mut().filter(|_| in_function) {
            if let Some(name) = line.strip_prefix("name = \"") {
                f.name = name.trim_end_matches('"').to_owned();
            } else if line.starts_with("routes = [") {
                in_routes = !line.ends_with(']');
            } else if in_routes && line == "]" {
                in_routes = false;
            } else if in_routes && let Some(route) = line.strip_prefix('"') {
                f.routes
                    .push(route.trim_end_matches(',').trim_end_matches('"').to_owned());
            }
        }
    }
    functions
}

/// The template's resources, `(logical id, its lines)`, and what each
/// function must have: its name from the plan, the SAM build and runtime
/// settings, and the web adapter's layer and environment.
fn check_template(template: &str, plan: &[PlanFunction]) -> Vec<String> {
    let mut problems = Vec::new();
    let (Some(start), Some(end)) = (template.find("\nResources:\n"), template.find("\nOutputs:"))
    else {
        return vec!["no Resources or Outputs".to_owned()];
    };
    let mut resources: Vec<(String, String)> = Vec::new();
    for line in template[start + 1..end].lines().skip(1) {
        if let Some(id) = line
            .strip_prefix("  ")
            .filter(|l| !l.starts_with(' '))
            .and_then(|l| l.strip_suffix(':'))
        {
            resources.push((id.to_owned(), String::new()));
        } else if let Some((_, body)) = resources.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    // The functions, not their log groups.
    resources.retain(|(_, body)| body.contains("    Type: AWS::Serverless::Function\n"));
    let mut names = Vec::new();
    for (id, body) in &resources {
        let name = body
            .lines()
            .find_map(|l| l.trim().strip_prefix("Binary: "))
            .map(|n| n.trim_matches('"').to_owned())
            .unwrap_or_default();
        for expected in [
            "      BuildMethod: rust-cargolambda\n",
            "      Handler: bootstrap\n",
            "      Runtime: provided.al2023\n",
            "      Architectures:\n        - arm64\n",
            WEB_ADAPTER_PROPERTIES,
        ] {
            if !body.contains(expected) {
                problems.push(format!("{id} (`{name}`) lacks\n{expected}"));
            }
        }
        names.push(name);
    }
    names.sort();
    let mut want: Vec<String> = plan.iter().map(|f| f.name.clone()).collect();
    want.sort();
    if names != want {
        problems.push(format!("functions {names:?}, the plan has {want:?}"));
    }
    if template
        .lines()
        .any(|l| !l.trim_start().starts_with('#') && l.contains("AWS_LAMBDA_EXEC_WRAPPER"))
    {
        problems.push("sets AWS_LAMBDA_EXEC_WRAPPER (not run on OS-only runtimes)".to_owned());
    }
    problems
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

// ---------------------------------------------------------------------------
// Processes and requests

fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

/// A local copy of the shop (its own SQLite file and upload dir under
/// `run`), killed when dropped (also while a test unwinds).
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    /// `runtime_api`: the `AWS_LAMBDA_RUNTIME_API` to set, else it is removed.
    fn start(name: &str, mut command: Command, run: &Path, runtime_api: Option<&str>) -> Self {
        let port = free_port();
        let log = run.join(format!("{name}.log"));
        let out = File::create(&log).expect("log file");
        let err = out.try_clone().expect("log file");
        command
            .env("PORT", port.to_string())
            .env(
                "DATABASE_URL",
                format!(
                    "sqlite:{}?mode=rwc",
                    run.join(format!("{name}.db")).display()
                ),
            )
            .env("UPLOAD_DIR", run.join(format!("uploads-{name}")))
            .env("CART_SWEEP_SECS", "86400")
            .env("CART_TTL_SECS", "86400")
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        match runtime_api {
            Some(api) => command.env("AWS_LAMBDA_RUNTIME_API", api),
            None => command.env_remove("AWS_LAMBDA_RUNTIME_API"),
        };
        let mut server = Self {
            child: command
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {name}: {e}")),
            port,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "{name} exited ({status}) before listening on {port}:\n{}",
                    tail(&fs::read_to_string(&log).unwrap_or_default(), 40)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not listen on {port} within {START_TIMEOUT:?}:\n{}",
                tail(&fs::read_to_string(&log).unwrap_or_default(), 40)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response as compared: the status, the content type and the body bytes
/// as sent (both servers are the same axum, so framing is comparable).
#[derive(Debug, PartialEq, Eq)]
struct Reply {
    status: u16,
    content_type: Option<String>,
    body: Vec<u8>,
}

fn show(reply: &io::Result<Reply>) -> String {
    match reply {
        Ok(r) => format!(
            "{} {} {:?}",
            r.status,
            r.content_type.as_deref().unwrap_or("-"),
            String::from_utf8_lossy(&r.body)
        ),
        Err(e) => format!("no answer ({e})"),
    }
}

/// One HTTP/1.1 request with an empty body, `connection: close`.
fn send(port: u16, method: &str, path: &str) -> io::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    )?;
    stream.flush()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| io::Error::other("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line in {head:?}")))?;
    let content_type = lines.find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("content-type")
            .then(|| value.trim().to_owned())
    });
    Ok(Reply {
        status,
        content_type,
        body: raw[split + 4..].to_vec(),
    })
}
