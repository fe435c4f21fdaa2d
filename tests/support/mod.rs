//! The end-to-end harness the `generate_*` tests share: where builds go,
//! running `cleave` and `cargo`, the plan and `template.yaml` as data,
//! local servers that die with the test, and an HTTP client.
//!
//! Builds use `CARGO_TARGET_DIR` when set, else `target/e2e` in this
//! repository. Generated workspaces live outside the repository, in a temp
//! directory that is stable per target dir and test (and locked while in
//! use): cargo hashes a path package's location into its artifact names, so
//! a fresh directory per run would leave another set of function binaries in
//! the shared target dir on every run. cargo-lambda is found through
//! `CARGO_LAMBDA` or `.venv/bin/cargo-lambda` (CI: `pip install cargo-lambda`).
//!
//! Crates chosen for the job rather than written here: `ureq` (HTTP/1.1,
//! no TLS), `yaml-rust2` (the template), `toml` (the plan), `nix` (signals).

// Each test binary that declares `mod support;` uses part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

/// How long a local server may take to accept connections after spawning.
pub const START_TIMEOUT: Duration = Duration::from_secs(90);
/// One request to a local server.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// Where things are

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared target dir and a stable, locked directory for one test's
/// generated workspaces.
#[derive(Debug)]
pub struct E2e {
    pub target: PathBuf,
    pub root: PathBuf,
    _lock: File,
}

impl E2e {
    /// `name` tells the tests apart: `cleave-e2e-<name>-<hash of the target dir>`.
    pub fn new(name: &str) -> Self {
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if PathBuf::from(&dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => repo().join(dir),
            None => repo().join("target/e2e"),
        };
        let mut hasher = DefaultHasher::new();
        target.hash(&mut hasher);
        let root = std::env::temp_dir().join(format!("cleave-e2e-{name}-{:016x}", hasher.finish()));
        fs::create_dir_all(&root).expect("e2e dir");
        let lock = File::create(root.join(".lock")).expect("lock file");
        lock.lock().expect("lock the e2e dir");
        Self {
            target,
            root,
            _lock: lock,
        }
    }

    /// `cargo` building into the shared target dir.
    pub fn cargo(&self) -> Command {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.env("CARGO_TARGET_DIR", &self.target);
        cargo
    }

    /// Runs a `cargo build` and returns a hard link (or copy) of each named
    /// binary under `cleave-e2e-bin/<label>/`: another build of the same
    /// name may replace `target/debug/<binary>` meanwhile.
    pub fn build(&self, command: &mut Command, label: &str, binaries: &[&str]) -> Vec<PathBuf> {
        let out = command.output().expect("cargo runs");
        assert!(
            out.status.success(),
            "{command:?} failed:\n{}",
            tail(&String::from_utf8_lossy(&out.stderr), 60)
        );
        let dir = self.target.join("cleave-e2e-bin").join(label);
        fs::create_dir_all(&dir).expect("bin dir");
        binaries
            .iter()
            .map(|binary| {
                let name = format!("{binary}{}", std::env::consts::EXE_SUFFIX);
                let built = self.target.join("debug").join(&name);
                let pinned = dir.join(&name);
                let _ = fs::remove_file(&pinned);
                if fs::hard_link(&built, &pinned).is_err() {
                    fs::copy(&built, &pinned)
                        .unwrap_or_else(|e| panic!("copy {}: {e}", built.display()));
                }
                pinned
            })
            .collect()
    }
}

pub fn cargo_lambda() -> PathBuf {
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

pub fn reset_dir(dir: &Path) {
    if dir.exists() {
        fs::remove_dir_all(dir).expect("remove the previous run");
    }
    fs::create_dir_all(dir).expect("create dir");
}

pub fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[allow(clippy::print_stderr)] // progress of a long test; shown with --nocapture
pub fn progress(test: &str, message: &str) {
    eprintln!("[{test}] {message}");
}

// ---------------------------------------------------------------------------
// cleave

pub fn cleave(args: &[&OsStr]) -> Output {
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

/// `cleave analyze` into `plan` (preset `auto`); returns the analysis JSON.
pub fn analyze(fixture: &Path, plan: &Path) -> Value {
    if plan.exists() {
        fs::remove_file(plan).expect("remove the previous plan");
    }
    let out = cleave(&[
        "analyze".as_ref(),
        fixture.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
        "--plan".as_ref(),
        plan.as_os_str(),
    ]);
    serde_json::from_slice(&out.stdout).expect("analysis json")
}

/// `cleave generate`, with `--adapter <adapter>` when given.
pub fn generate(fixture: &Path, plan: &Path, out: &Path, adapter: Option<&str>) {
    let mut args: Vec<&OsStr> = vec![
        "generate".as_ref(),
        fixture.as_os_str(),
        "--plan".as_ref(),
        plan.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    if let Some(adapter) = adapter {
        args.push("--adapter".as_ref());
        args.push(adapter.as_ref());
    }
    cleave(&args);
}

// ---------------------------------------------------------------------------
// The plan and the template

#[derive(Clone, Debug)]
pub struct PlanFunction {
    pub name: String,
    pub routes: Vec<String>,
}

/// The `[[function]]` tables of a `cleave.toml`.
pub fn parse_plan(text: &str) -> Vec<PlanFunction> {
    let doc: toml::Table = text.parse().expect("the plan is TOML");
    let functions = doc
        .get("function")
        .and_then(toml::Value::as_array)
        .expect("[[function]]");
    functions
        .iter()
        .map(|f| PlanFunction {
            name: f["name"].as_str().expect("name").to_owned(),
            routes: f["routes"]
                .as_array()
                .expect("routes")
                .iter()
                .map(|r| r.as_str().expect("route").to_owned())
                .collect(),
        })
        .collect()
}

/// The `[[worker]]` tables of a `cleave.toml`: `(name, schedule)`.
pub fn parse_plan_workers(text: &str) -> Vec<(String, String)> {
    let doc: toml::Table = text.parse().expect("the plan is TOML");
    doc.get("worker")
        .and_then(toml::Value::as_array)
        .map(|workers| {
            workers
                .iter()
                .map(|w| {
                    (
                        w["name"].as_str().expect("name").to_owned(),
                        w["schedule"].as_str().expect("schedule").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The function of `plan` that owns `route` (`METHOD /path`).
pub fn owner<'p>(plan: &'p [PlanFunction], route: &str) -> Option<&'p PlanFunction> {
    plan.iter().find(|f| f.routes.iter().any(|r| r == route))
}

/// `template.yaml` as a document (`!Sub` and other tags read as strings).
pub fn parse_yaml(text: &str) -> Yaml {
    let mut docs = YamlLoader::load_from_str(text).expect("template.yaml is YAML");
    assert_eq!(docs.len(), 1, "one YAML document");
    docs.remove(0)
}

/// The template's `AWS::Serverless::Function` resources, by the binary
/// each builds (the plan's function name; SAM names the functions).
pub fn template_functions(template: &Yaml) -> BTreeMap<String, Yaml> {
    let resources = template["Resources"]
        .as_hash()
        .expect("template.yaml has Resources");
    resources
        .values()
        .filter(|r| r["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|r| {
            let name = r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("BuildProperties.Binary")
                .to_owned();
            (name, r.clone())
        })
        .collect()
}

/// A concrete path for a route pattern: parameters become `1`, a catch-all `a/b`.
pub fn concrete(pattern: &str) -> String {
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
// Processes

pub fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

/// A process started by a test, stopped when dropped (also while the test
/// unwinds): SIGTERM to it, then SIGKILL to whatever of it and its
/// descendants is left (`cargo lambda watch` starts the functions).
#[derive(Debug)]
pub struct Proc {
    pub name: String,
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// Spawns `command` with stdout and stderr in `log`.
    pub fn spawn(name: &str, command: &mut Command, log: &Path) -> Self {
        let out = File::create(log).expect("log file");
        let err = out.try_clone().expect("log file");
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {name} ({command:?}): {e}"));
        Self {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
        }
    }

    /// Waits until `port` accepts connections; panics with the log's tail
    /// if the process exits first or the time runs out.
    pub fn wait_until_listening(&mut self, port: u16) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{} exited ({status}) before listening on {port}:\n{}",
                    self.name,
                    self.log_tail(40)
                );
            }
            assert!(
                Instant::now() < deadline,
                "{} did not listen on {port} within {START_TIMEOUT:?}:\n{}",
                self.name,
                self.log_tail(40)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log_tail(&self, lines: usize) -> String {
        tail(&fs::read_to_string(&self.log).unwrap_or_default(), lines)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        use nix::sys::signal::{Signal, kill};
        use nix::unistd::Pid;
        let pid = |p: u32| Pid::from_raw(i32::try_from(p).unwrap_or(i32::MAX));
        let descendants = descendants(self.child.id());
        let _ = kill(pid(self.child.id()), Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(50));
        }
        for p in descendants {
            let _ = kill(pid(p), Signal::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
// HTTP

/// One request as sent.
#[derive(Clone, Debug)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A response: status, lower-case header names, body bytes.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `request` to `127.0.0.1:port`: any status is an answer, and
/// redirects are returned, not followed.
pub fn send(port: u16, request: &Request, timeout: Duration) -> Result<Reply, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .build()
        .into();
    let mut builder = ureq::http::Request::builder()
        .method(request.method.as_str())
        .uri(format!("http://127.0.0.1:{port}{}", request.path));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    let built = builder
        .body(request.body.clone())
        .map_err(|e| e.to_string())?;
    let mut response = agent.run(built).map_err(|e| e.to_string())?;
    let headers = response
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(16 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| e.to_string())?;
    Ok(Reply {
        status,
        headers,
        body,
    })
}
