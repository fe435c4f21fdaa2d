//! Hazard tests, clippy style: each fixture marks the lines a lint must
//! report with `//~ <code>` at the end of the line; every other line must
//! stay quiet. Plus entry-point attribution, the JSON shape, a tidy test over
//! the lint files, and golden tests against `expected/hazards.txt` of the
//! bundled fixtures.

use std::collections::BTreeSet;

use expect_test::expect;

use super::{Hazard, LINTS, check};
use crate::callgraph;
use crate::diagnostic::Severity;
use crate::entrypoints::{EntryKind, EntryPoint, Framework, Location, Middleware};
use crate::resolve::DefMap;
use crate::testing::write_fixture;

const MANIFEST: &str = r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
actix-web = "4"
rocket = "0.5"
tokio = "1"
sqlx = "0.8"
r2d2 = "0.8"
tower-http = "0.6"
dashmap = "6"
lazy_static = "1"
moka = { version = "0.12", features = ["sync"] }
"#;

/// Runs every lint over a fixture, with no entry points.
fn run(fixture: &str) -> Vec<Hazard> {
    run_with(fixture, |_| Vec::new())
}

/// Runs every lint over a fixture, with the entry points `eps` builds.
fn run_with(fixture: &str, eps: impl Fn(&DefMap<'_>) -> Vec<EntryPoint>) -> Vec<Hazard> {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), fixture);
    let project = crate::load(dir.path()).expect("load");
    assert!(
        project.diagnostics.is_empty(),
        "fixture does not load cleanly: {:?}",
        project.diagnostics
    );
    let defs = DefMap::build(&project);
    let graph = callgraph::build(&defs);
    check(&defs, &graph, &eps(&defs))
}

/// `(code, file, line)` of every `//~ code` marker, lines counted per file.
fn markers(fixture: &str) -> BTreeSet<(String, String, u32)> {
    let mut out = BTreeSet::new();
    let mut file: Option<&str> = None;
    let mut line = 0;
    for text in fixture.lines() {
        if let Some(path) = text.trim_start().strip_prefix("//- /") {
            file = Some(path.trim());
            line = 0;
            continue;
        }
        let Some(f) = file else { continue };
        line += 1;
        if let Some((_, codes)) = text.split_once("//~") {
            for code in codes.split_whitespace() {
                out.insert((code.to_owned(), f.to_owned(), line));
            }
        }
    }
    out
}

/// Asserts that the hazards found are exactly the marked lines.
fn check_marked(fixture: &str) {
    let fixture = format!("{MANIFEST}{fixture}");
    let hazards = run(&fixture);
    for h in &hazards {
        assert!(
            !h.message.is_empty() && !h.advice.is_empty() && !h.item.is_empty(),
            "{h:?}"
        );
    }
    let found: BTreeSet<(String, String, u32)> = hazards
        .iter()
        .map(|h| (h.code.to_owned(), h.file.clone(), h.line))
        .collect();
    let want = markers(&fixture);
    if found != want {
        let mut report = String::new();
        for (code, file, line) in want.difference(&found) {
            report.push_str(&format!("  missing:    {code} {file}:{line}\n"));
        }
        for h in &hazards {
            let key = (h.code.to_owned(), h.file.clone(), h.line);
            if !want.contains(&key) {
                report.push_str(&format!(
                    "  unexpected: {} {}:{} ({})\n",
                    h.code, h.file, h.line, h.message
                ));
            }
        }
        panic!("hazards differ from the `//~` markers:\n{report}");
    }
}

#[test]
fn global_mutable_state() {
    check_marked(
        r#"
//- /src/lib.rs
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, OnceLock};

use dashmap::DashMap;

static HITS: AtomicU64 = AtomicU64::new(0); //~ global-mutable-state
static SESSIONS: LazyLock<Mutex<HashMap<String, u64>>> = LazyLock::new(Default::default); //~ global-mutable-state
static mut COUNT: u32 = 0; //~ global-mutable-state
static USERS: LazyLock<DashMap<u64, String>> = LazyLock::new(DashMap::new); //~ global-mutable-state
static TABLE: LazyLock<HashMap<&str, u32>> = LazyLock::new(HashMap::new);
static CONFIG: OnceLock<String> = OnceLock::new();
static NAME: &str = "shop";
const LIMIT: usize = 10;
const START: AtomicU64 = AtomicU64::new(0);

pub struct Store {
    rows: std::sync::RwLock<Vec<u64>>,
}
pub struct Plain {
    rows: Vec<u64>,
}
static STORE: LazyLock<Store> = LazyLock::new(|| Store { rows: Default::default() }); //~ global-mutable-state
static PLAIN: LazyLock<Plain> = LazyLock::new(|| Plain { rows: Vec::new() });

thread_local! {
    static BUF: RefCell<Vec<u8>> = RefCell::new(Vec::new()); //~ global-mutable-state
}

lazy_static::lazy_static! {
    static ref CACHE: Mutex<Vec<u8>> = Mutex::new(Vec::new()); //~ global-mutable-state
    static ref ROUTES: Vec<&'static str> = vec!["/"];
}

pub fn next_id() -> u64 {
    static SEQ: AtomicU64 = AtomicU64::new(1); //~ global-mutable-state
    SEQ.fetch_add(1, Ordering::Relaxed)
}
"#,
    );
}

#[test]
fn in_process_state_axum() {
    check_marked(
        r#"
//- /src/lib.rs
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use tokio::sync::broadcast;

#[derive(Clone)]
pub struct AppState { //~ in-process-state
    pub cache: Arc<Mutex<HashMap<u64, String>>>,
    pub config: Arc<Config>,
    pub repo: Arc<dyn Repo>,
    pub events: Events,
}

pub struct Config {
    pub name: String,
}

#[derive(Clone)]
pub struct Events { //~ in-process-state
    tx: broadcast::Sender<u64>,
}

pub trait Repo: Send + Sync {
    fn get(&self) -> u64;
}

pub struct MemRepo { //~ in-process-state
    rows: std::sync::RwLock<Vec<u64>>,
}
impl Repo for MemRepo {
    fn get(&self) -> u64 {
        0
    }
}

pub struct PgRepo {
    url: String,
}
impl Repo for PgRepo {
    fn get(&self) -> u64 {
        1
    }
}

/// Holds a lock, but is never handed to handlers as state.
pub struct Scratch {
    buf: Mutex<Vec<u8>>,
}

async fn show(State(state): State<AppState>) -> String {
    state.config.name.clone()
}

pub fn app(state: AppState) -> Router {
    Router::new().route("/", get(show)).with_state(state)
}
"#,
    );
}

#[test]
fn in_process_state_in_middleware() {
    check_marked(
        r#"
//- /src/lib.rs
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix_web::dev::{Service, ServiceRequest, Transform};
use dashmap::DashMap;
use rocket::fairing::{Fairing, Info, Kind};

pub struct RateLimit { //~ in-process-state
    clients: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}
#[rocket::async_trait]
impl Fairing for RateLimit {
    fn info(&self) -> Info { Info { name: "rate", kind: Kind::Request } }
    async fn on_request(&self, req: &mut rocket::Request<'_>, _: &mut rocket::Data<'_>) {
        self.clients.lock().unwrap().clear();
    }
}

pub struct Headers;
#[rocket::async_trait]
impl Fairing for Headers {
    fn info(&self) -> Info { Info { name: "headers", kind: Kind::Response } }
}

pub struct Throttle {
    hits: Arc<DashMap<String, u64>>,
}
pub struct ThrottleService<S> { //~ in-process-state
    service: S,
    hits: Arc<DashMap<String, u64>>,
}
impl<S> Transform<S, ServiceRequest> for Throttle {
    type Transform = ThrottleService<S>;
    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ThrottleService { service, hits: self.hits.clone() }))
    }
}
impl<S> Service<ServiceRequest> for ThrottleService<S> {
    fn call(&self, req: ServiceRequest) -> Self::Future { self.service.call(req) }
}

pub struct Logging;
pub struct LoggingService<S> { service: S }
impl<S> Transform<S, ServiceRequest> for Logging {
    fn new_transform(&self, service: S) -> Self::Future { ready(Ok(LoggingService { service })) }
}
impl<S> Service<ServiceRequest> for LoggingService<S> {
    fn call(&self, req: ServiceRequest) -> Self::Future { self.service.call(req) }
}

#[derive(Clone)]
pub struct CountLayer { //~ in-process-state
    seen: Arc<Mutex<u64>>,
}
impl<S> tower::Layer<S> for CountLayer {
    type Service = S;
    fn layer(&self, inner: S) -> S { inner }
}
"#,
    );
}

#[test]
fn middleware_state_and_liftoff_work_are_reached_as_the_app_runs_them() {
    let hazards = run_with(
        &format!(
            "{MANIFEST}{}",
            r#"
//- /src/main.rs
#[macro_use] extern crate rocket;
use std::collections::HashMap;
use std::sync::Mutex;
use rocket::fairing::{Fairing, Info, Kind};

pub struct RateLimit {
    clients: Mutex<HashMap<String, u32>>,
}
#[rocket::async_trait]
impl Fairing for RateLimit {
    fn info(&self) -> Info { Info { name: "rate", kind: Kind::Request } }
    async fn on_request(&self, _r: &mut rocket::Request<'_>, _d: &mut rocket::Data<'_>) {
        self.clients.lock().unwrap().clear();
    }
}

pub struct Cleanup;
#[rocket::async_trait]
impl Fairing for Cleanup {
    fn info(&self) -> Info { Info { name: "cleanup", kind: Kind::Liftoff } }
    async fn on_liftoff(&self, _r: &rocket::Rocket<rocket::Orbit>) {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                every.tick().await;
                sweep().await;
            }
        });
    }
}
async fn sweep() {}

#[get("/a")] fn a() {}
#[get("/b")] fn b() {}

#[launch]
fn rocket() -> _ {
    rocket::build()
        .attach(RateLimit { clients: Mutex::new(HashMap::new()) })
        .attach(Cleanup)
        .mount("/", routes![a, b])
}
"#
        ),
        |defs| crate::entrypoints::detect(defs).entrypoints,
    );
    expect![[r#"
        in-process-state src/main.rs:6 app::RateLimit <- [GET /a, GET /b]
        background-task src/main.rs:22 <app::Cleanup as Fairing>::on_liftoff <- []
        long-running src/main.rs:24 <app::Cleanup as Fairing>::on_liftoff <- []
    "#]]
    .assert_eq(&render(&hazards));
}

#[test]
fn in_process_state_behind_a_lock() {
    check_marked(
        r#"
//- /src/lib.rs
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use axum::extract::State;
use tokio::sync::Mutex;

pub struct Store {
    items: HashMap<String, String>,
}

type Shared = Arc<RwLock<Store>>; //~ in-process-state

pub async fn get(State(store): State<Shared>) -> usize {
    0
}

pub struct Counter { //~ in-process-state
    n: u64,
}

pub async fn bump(State(counter): State<Arc<Mutex<Counter>>>) {}

pub struct Settings {
    name: String,
}

pub async fn settings(State(s): State<Arc<Settings>>) {}
"#,
    );
}

/// A lock around a client of another service guards a handle, not data;
/// a lock around data beside it in the same state is reported.
#[test]
fn in_process_state_locks_around_clients_are_handles() {
    check_marked(
        r#"
//- /src/lib.rs
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use tokio::sync::Mutex;

type ConfiguredCoreClient = openidconnect::Client<String>;

pub struct OAuth2Handler {
    client: Mutex<Arc<ConfiguredCoreClient>>,
    client_id: String,
}

struct LockedSentinelClient(Mutex<redis::sentinel::SentinelClient>);

pub struct Redis {
    client: LockedSentinelClient,
    shared: Arc<Mutex<redis::sentinel::SentinelClient>>,
}

pub struct AppState { //~ in-process-state
    oauth: Arc<OAuth2Handler>,
    redis: Redis,
    seen: Mutex<HashMap<String, u64>>,
}

pub async fn callback(State(state): State<AppState>) {}
"#,
    );
}

#[test]
fn in_process_state_actix_and_rocket() {
    check_marked(
        r#"
//- /src/lib.rs
pub mod actix;
pub mod rocket_app;
//- /src/actix.rs
use std::sync::atomic::AtomicUsize;

use actix_web::{web, App, HttpServer};

pub struct Hits { //~ in-process-state
    n: AtomicUsize,
}

impl Hits {
    pub fn new() -> Self {
        Hits { n: AtomicUsize::new(0) }
    }
}

pub struct Unused {
    n: AtomicUsize,
}

pub async fn run() -> std::io::Result<()> {
    let hits = web::Data::new(Hits::new());
    HttpServer::new(move || App::new().app_data(hits.clone()))
        .bind(("127.0.0.1", 8080))?
        .run()
        .await
}
//- /src/rocket_app.rs
use std::collections::HashMap;
use std::sync::Mutex;

use rocket::State;

#[derive(Default)]
pub struct Sessions { //~ in-process-state
    tokens: Mutex<HashMap<String, u64>>,
}

pub struct Counter { //~ in-process-state
    seen: std::sync::atomic::AtomicU64,
}

pub fn me(sessions: &State<Sessions>) -> usize {
    0
}

pub fn build() -> rocket::Rocket<rocket::Build> {
    rocket::build()
        .manage(Sessions::default())
        .manage(Counter { seen: Default::default() })
}
"#,
    );
}

/// One line per hazard: `code file:line item <- routes`.
fn render(hazards: &[Hazard]) -> String {
    let mut out = String::new();
    for h in hazards {
        out.push_str(&format!(
            "{} {}:{} {} <- [{}]\n",
            h.code,
            h.file,
            h.line,
            h.item,
            h.entrypoints.join(", ")
        ));
    }
    out
}

mod lints;
mod report;
mod scope;
mod shapes;
