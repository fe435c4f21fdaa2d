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

#[test]
fn background_task() {
    check_marked(
        r#"
//- /src/lib.rs
use std::thread;

use tokio::task;

pub mod jobs {
    pub fn spawn() {}
}

pub async fn place_order() {
    tokio::spawn(async { send_email().await }); //~ background-task
    let _ = task::spawn_blocking(|| 1).await;
    let handle = tokio::spawn(async {});
    handle.await.ok();
    thread::spawn(|| {}); //~ background-task
    std::thread::spawn(|| {}).join().ok();
    thread::Builder::new().name("mailer".into()).spawn(|| {}); //~ background-task
    actix_web::rt::spawn(async {}); //~ background-task
    jobs::spawn();
}

/// The handle goes back to the caller, who awaits it (zero2prod's helper).
pub fn spawn_blocking_traced<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> task::JoinHandle<R> {
    task::spawn_blocking(f)
}

pub fn spawn_returned() -> task::JoinHandle<()> {
    if true {
        return tokio::spawn(async {});
    }
    tokio::spawn(async {})
}

async fn send_email() {}
//- /src/main.rs
#[tokio::main]
async fn main() {
    tokio::spawn(sweep()); //~ background-task
}

async fn sweep() {}
"#,
    );
}

#[test]
fn long_running() {
    check_marked(
        r#"
//- /src/lib.rs
use std::time::Duration;

use tokio::time::sleep;

pub async fn retry() {
    sleep(Duration::from_secs(5)).await; //~ long-running
    // A pause of a second or less is far under any timeout.
    std::thread::sleep(Duration::from_millis(10));
    // One round of a bounded retry.
    for _attempt in 0..3u64 {
        sleep(Duration::from_millis(200)).await;
    }
    // A back-off of unknown length is reported.
    for attempt in 0..3u64 {
        sleep(Duration::from_secs(2 * attempt)).await; //~ long-running
    }
}

pub async fn poll() {
    loop { //~ long-running
        // A short pause that paces an endless loop is part of it.
        sleep(Duration::from_millis(100)).await; //~ long-running
    }
}

pub async fn body_of(resp: reqwest::Response, limit: usize) -> Vec<u8> {
    // Reading one body ends when the body does.
    let mut stream = resp.bytes_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend(chunk.unwrap());
    }
    // So does a read that stops at a size limit.
    let mut rest = other_stream();
    while let Some(chunk) = rest.next().await {
        if out.len() > limit {
            break;
        }
        out.extend(chunk);
    }
    out
}

pub async fn consume(mut rx: tokio::sync::mpsc::Receiver<u32>) {
    while let Some(x) = rx.recv().await { //~ long-running
        let _ = x;
    }
    // A channel with a way out still waits as long as senders live.
    while let Some(x) = rx.recv().await { //~ long-running
        if x == 0 {
            break;
        }
    }
}

pub async fn forever() {
    loop { //~ long-running
        tick().await;
        for i in 0..3 {
            if i == 2 {
                break;
            }
        }
    }
}

pub fn bounded() -> u32 {
    let mut n = 0;
    loop {
        n += 1;
        if n > 10 {
            break;
        }
    }
    loop {
        if n > 20 {
            return n;
        }
        n += 1;
    }
}

pub async fn sweeper(mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(60));
    loop { //~ long-running
        ticker.tick().await;
        if *shutdown.borrow() {
            break;
        }
    }
}

pub fn until_done(mut items: Vec<u32>) {
    while !items.is_empty() {
        items.pop();
    }
    loop {
        match items.pop() {
            Some(_) => continue,
            None => break,
        }
    }
}

async fn tick() {}
"#,
    );
}

#[test]
fn process_lifecycle() {
    check_marked(
        r#"
//- /src/lib.rs
use tokio::net::TcpListener;

pub async fn serve_all() -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, axum::Router::new()).await?;
    let metrics = TcpListener::bind("0.0.0.0:9100").await?; //~ process-lifecycle
    tokio::signal::ctrl_c().await?; //~ process-lifecycle
    Ok(())
}

pub async fn inline() -> std::io::Result<()> {
    axum::serve(TcpListener::bind("127.0.0.1:3000").await?, axum::Router::new()).await
}

pub fn fail(code: i32) {
    if code != 0 {
        std::process::exit(code); //~ process-lifecycle
    }
}
"#,
    );
}

#[test]
fn process_lifecycle_listeners_handed_to_the_server_through_a_fn() {
    check_marked(
        r#"
//- /src/main.rs
use std::net::TcpListener;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let http = TcpListener::bind("0.0.0.0:8080")?;
    let https = TcpListener::bind("0.0.0.0:8443")?;
    let admin = TcpListener::bind("0.0.0.0:9000")?; //~ process-lifecycle
    let unused = TcpListener::bind("0.0.0.0:9001")?; //~ process-lifecycle
    keep(unused);
    app::start(http, https, admin)?.await
}

fn keep(l: TcpListener) {}

mod app {
    use std::net::TcpListener;
    pub fn start(http: TcpListener, tls: TcpListener, admin: TcpListener) -> std::io::Result<Server> {
        let server = run(http, tls)?;
        drop(admin);
        Ok(server)
    }
    fn run(plain: TcpListener, tls: TcpListener) -> std::io::Result<Server> {
        Ok(HttpServer::new(|| App::new())
            .listen(plain)?
            .listen_openssl(tls, builder())?
            .run())
    }
    fn builder() -> SslAcceptorBuilder { todo!() }
}
"#,
    );
}

#[test]
fn local_filesystem() {
    check_marked(
        r#"
//- /src/lib.rs
pub mod local;

use std::fs;
use std::io::Write;

use tokio::fs as afs;

pub async fn save(bytes: &[u8]) -> std::io::Result<()> {
    fs::write("uploads/x.png", bytes)?; //~ local-filesystem
    afs::create_dir_all("data").await?; //~ local-filesystem
    std::fs::write("/tmp/scratch", bytes)?;
    let scratch = std::env::temp_dir().join("x");
    fs::write(scratch.join("y"), bytes)?;
    let mut log = std::fs::OpenOptions::new().append(true).create(true).open("app.log")?; //~ local-filesystem
    log.write_all(bytes)?;
    let read_only = std::fs::OpenOptions::new().read(true).open("app.log")?;
    std::fs::File::create("out.csv")?; //~ local-filesystem
    Ok(())
}

pub fn config() -> String {
    fs::read_to_string("config.toml").unwrap_or_default() //~ local-filesystem
}

pub fn absolute() -> String {
    fs::read_to_string("/etc/app.toml").unwrap_or_default()
}

pub fn dynamic(p: &str) -> Vec<u8> {
    fs::read(p).unwrap_or_default()
}

pub fn assets() -> axum::Router {
    axum::Router::new().nest_service("/static", tower_http::services::ServeDir::new("static")) //~ local-filesystem
}

pub const DATABASE_URL: &str = "sqlite://data/app.db"; //~ local-filesystem

pub fn database_url() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| "sqlite:shop.db?mode=rwc".into()) //~ local-filesystem
}

pub fn test_database() -> &'static str {
    "sqlite::memory:"
}
//- /src/local.rs
pub mod fs {
    pub fn write(_path: &str, _bytes: &[u8]) {}
}

pub fn store() {
    fs::write("x", b"y");
}
"#,
    );
}

#[test]
fn local_filesystem_paths_built_from_relative_dirs_and_config_files() {
    check_marked(
        r#"
//- /src/lib.rs
use std::path::PathBuf;

use rocket::fs::NamedFile;

const ASSETS: &str = "assets";

pub async fn spa_fallback(_path: PathBuf) -> Option<NamedFile> {
    let web_dist = std::env::var("WEB_DIST_DIR")
        .unwrap_or_else(|_| "web/dist".to_string())
        .trim()
        .to_string();
    NamedFile::open(PathBuf::from(&web_dist).join("index.html")).await.ok() //~ local-filesystem
}

pub async fn favicon() -> Option<actix_files::NamedFile> {
    actix_files::NamedFile::open_async(format!("{}/favicon.ico", ASSETS)).await.ok() //~ local-filesystem
}

pub async fn page(name: &str) -> std::io::Result<String> {
    let dir = PathBuf::from("templates");
    tokio::fs::read_to_string(dir.join(name)).await //~ local-filesystem
}

pub async fn uploaded(root: PathBuf, name: &str) -> std::io::Result<Vec<u8>> {
    tokio::fs::read(root.join(name)).await
}

pub async fn absolute() -> std::io::Result<Vec<u8>> {
    let dir = std::env::var("DATA_DIR").unwrap_or_else(|_| "/srv/data".into());
    tokio::fs::read(PathBuf::from(dir).join("x")).await
}

pub fn settings() -> Result<config::Config, config::ConfigError> {
    let run_mode = std::env::var("RUN_MODE").unwrap_or_default();
    config::Config::builder()
        .add_source(config::File::with_name("configuration")) //~ local-filesystem
        .add_source(config::File::with_name(&format!("configuration/{run_mode}")).required(false))
        .add_source(config::Environment::with_prefix("APP"))
        .build()
}

pub fn from_path(base: PathBuf) -> Result<config::Config, config::ConfigError> {
    let local = base.join("local.toml");
    config::Config::builder()
        .add_source(config::File::from(PathBuf::from("config").join("base.toml"))) //~ local-filesystem
        .add_source(config::File::from(local))
        .build()
}

pub fn tls() -> SslAcceptorBuilder {
    let mut builder = SslAcceptor::mozilla_intermediate(SslMethod::tls()).unwrap();
    builder.set_private_key_file("key.pem", SslFiletype::PEM).unwrap(); //~ local-filesystem
    builder.set_certificate_chain_file("/etc/tls/cert.pem").unwrap();
    builder
}
"#,
    );
}

#[test]
fn long_lived_connection() {
    check_marked(
        r#"
//- /src/lib.rs
use std::convert::Infallible;

use axum::extract::ws::{WebSocket, WebSocketUpgrade};
use axum::response::sse::{Event, Sse};
use axum::response::Response;

pub async fn events() -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    Sse::new(futures::stream::empty()) //~ long-lived-connection
}

pub async fn socket(ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(handle) //~ long-lived-connection
}

async fn handle(_socket: WebSocket) {}

pub async fn upgrade_elsewhere(ws: WebSocketUpgrade) -> Response { //~ long-lived-connection
    finish(ws)
}

fn finish(_ws: WebSocketUpgrade) -> Response {
    todo!()
}

pub async fn json() -> axum::Json<u32> {
    axum::Json(1)
}

pub async fn feed() -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().streaming(futures::stream::empty()) //~ long-lived-connection
}

/// A proxy answering with the upstream body as it comes.
pub async fn proxy(client: reqwest::Client) -> actix_web::HttpResponse {
    let res = client.get("http://images/x").send().await.unwrap();
    actix_web::HttpResponse::Ok().body(actix_web::body::BodyStream::new(res.bytes_stream())) //~ long-lived-connection
}

/// Forwarding a stream upstream: the request the app sends, not its answer.
pub async fn forward(client: reqwest::Client) -> u32 {
    let body = reqwest::Body::wrap_stream(futures::stream::empty::<Result<Vec<u8>, std::io::Error>>());
    let _ = client.post("http://images/").body(body).send().await;
    0
}

pub fn rocket_events() -> u32 {
    let _ = rocket::response::stream::EventStream! { //~ long-lived-connection
        yield rocket::response::stream::Event::data("ping");
    };
    0
}
"#,
    );
}

#[test]
fn large_payload() {
    check_marked(
        r#"
//- /src/lib.rs
pub mod images;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart};
use rocket::fs::TempFile;
use rocket::Data;

const MAX_UPLOAD: usize = 20 * 1024 * 1024;

pub async fn upload(body: Bytes) -> u32 { //~ large-payload
    0
}

pub async fn form(mut multipart: Multipart) -> u32 { //~ large-payload
    0
}

pub fn parse(body: Bytes) -> usize {
    body.len()
}

pub async fn json(body: String) -> u32 {
    0
}

pub async fn rocket_file(file: TempFile<'_>) -> u32 { //~ large-payload
    0
}

pub async fn rocket_raw(data: Data<'_>) -> u32 { //~ large-payload
    0
}

pub async fn fairing_hook(data: &mut Data<'_>) {}

pub struct Storage;
impl Storage {
    /// A method is no handler: the body is its caller's.
    pub async fn put(&self, path: &str, data: Bytes) -> usize {
        data.len()
    }
}

pub fn router() -> axum::Router {
    axum::Router::new()
        .layer(DefaultBodyLimit::max(MAX_UPLOAD)) //~ large-payload
        .layer(DefaultBodyLimit::max(1024 * 1024))
        .layer(DefaultBodyLimit::disable()) //~ large-payload
}

pub fn actix_limits() {
    let _ = actix_web::web::PayloadConfig::new(10 * 1024 * 1024); //~ large-payload
    let _ = actix_web::web::JsonConfig::default().limit(4096);
}

pub fn rocket_limits() -> rocket::data::Limits {
    rocket::data::Limits::default()
        .limit("file", 64.mebibytes()) //~ large-payload
        .limit("json", 1.mebibytes())
}
//- /src/images.rs
use actix_web::{self, HttpRequest, web::*};

/// `Payload` comes in through the glob: actix's raw body stream.
pub async fn upload_image(req: HttpRequest, body: Payload) -> String { //~ large-payload
    String::new()
}
"#,
    );
}

#[test]
fn connection_pool() {
    check_marked(
        r#"
//- /src/lib.rs
use sqlx::postgres::PgPoolOptions;

pub async fn connect(url: &str) -> sqlx::PgPool {
    PgPoolOptions::new() //~ connection-pool
        .max_connections(50)
        .connect(url)
        .await
        .unwrap()
}

pub async fn lazy(url: &str) -> sqlx::PgPool {
    sqlx::PgPool::connect_lazy(url).unwrap() //~ connection-pool
}

pub fn blocking(manager: Manager) -> r2d2::Pool<Manager> {
    r2d2::Pool::builder().max_size(15).build(manager).unwrap() //~ connection-pool
}

#[derive(rocket_db_pools::Database)]
#[database("notes")]
pub struct Db(sqlx::SqlitePool); //~ connection-pool

pub struct Manager;

pub fn not_a_pool() -> Vec<u8> {
    Vec::with_capacity(50)
}
"#,
    );
}

#[test]
fn connection_pool_severity_follows_the_size() {
    let hazards = run(&format!(
        "{MANIFEST}{}",
        r#"
//- /src/lib.rs
pub async fn small(url: &str) {
    sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(url).await.unwrap();
}
pub async fn large(url: &str) {
    sqlx::postgres::PgPoolOptions::new().max_connections(40).connect(url).await.unwrap();
}
"#
    ));
    let got: Vec<(u32, Severity)> = hazards.iter().map(|h| (h.line, h.severity)).collect();
    assert_eq!(got, vec![(2, Severity::Note), (5, Severity::Warning)]);
    assert!(
        hazards[1].message.contains("up to 40 connections"),
        "{}",
        hazards[1].message
    );
}

/// Where each pool's size is written, or can be, for `[deploy] pool_max`:
/// one shape per library, as real apps write them.
#[test]
fn connection_pool_size_sites() {
    let hazards = run(&format!(
        "{MANIFEST}{}",
        r#"
//- /src/lib.rs
use sqlx::postgres::PgPoolOptions;
pub async fn sized(url: &str, cfg: &Config) {
    PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_secs(3))
        .max_connections(cfg.pool)
        .connect(url)
        .await
        .unwrap();
}
pub async fn unsized_options(url: &str) {
    sqlx::sqlite::SqlitePoolOptions::new().connect(url).await.unwrap();
}
pub async fn connect(url: &str) {
    sqlx::PgPool::connect(url).await.unwrap();
}
pub fn r2d2_builder(m: Manager) {
    diesel::r2d2::Pool::builder().build(m).unwrap();
}
pub fn r2d2_new(m: Manager) {
    r2d2::Pool::new(m).unwrap();
}
pub async fn bb8_sized(m: Manager) {
    bb8::Pool::builder().max_size(8).build(m).await.unwrap();
}
pub async fn sea(url: &str) {
    sea_orm::Database::connect(url).await.unwrap();
}
pub struct Manager;
pub struct Config { pub pool: u32 }
"#
    ));
    let got: Vec<String> = hazards
        .iter()
        .map(|h| format!("{} {:?}", h.line, h.pool))
        .collect();
    expect![[r#"
        [
            "3 Some(Cap { line: 5, method: \"max_connections\", value: None })",
            "11 Some(Insert { line: 11, ctor: \"new\", method: \"max_connections\" })",
            "14 Some(Options { line: 14, owner: \"PgPool\", call: \"connect\", options: \"::sqlx::postgres::PgPoolOptions\" })",
            "17 Some(Insert { line: 17, ctor: \"builder\", method: \"max_size\" })",
            "20 None",
            "23 Some(Cap { line: 23, method: \"max_size\", value: Some(8) })",
            "26 None",
        ]
    "#]]
    .assert_debug_eq(&got);
    assert!(
        hazards[4].advice.contains("Pool::builder().max_size(2)"),
        "{}",
        hazards[4].advice
    );
    assert!(
        hazards[6]
            .advice
            .contains("ConnectOptions::new(url).max_connections(2)"),
        "{}",
        hazards[6].advice
    );
}

/// Start-up work under the monolith's own development gate says so.
#[test]
fn startup_work_under_a_dev_gate_names_the_gate() {
    let hazards = run(&format!(
        "{MANIFEST}{}",
        r#"
//- /src/main.rs
pub struct Config { pub dev_mode: bool, pub env: String }
#[tokio::main]
async fn main() {
    let config = Config { dev_mode: false, env: String::new() };
    let pool = sqlx::PgPool::connect("postgres://").await.unwrap();
    if config.dev_mode {
        sqlx::query("DROP TABLE IF EXISTS users; CREATE TABLE users (id INT)").execute(&pool).await.unwrap();
    }
    if cfg!(debug_assertions) {
        sqlx::query("CREATE TABLE IF NOT EXISTS seed (id INT)").execute(&pool).await.unwrap();
    }
    if config.env == "development" {
        sqlx::query("CREATE TABLE IF NOT EXISTS demo (id INT)").execute(&pool).await.unwrap();
    }
    if config.env == "production" {
        sqlx::query("CREATE TABLE IF NOT EXISTS prod (id INT)").execute(&pool).await.unwrap();
    }
}
"#
    ));
    let got: Vec<String> = hazards
        .iter()
        .filter(|h| h.code == "startup-work")
        .map(|h| {
            let gate = h.message.split_once("; ").map_or("", |(_, g)| g);
            format!("{} {gate}", h.line)
        })
        .collect();
    expect![[r#"
        [
            "7 it runs only when `config.dev_mode` holds, the monolith's own development gate: keep that condition false in the deployed configuration",
            "10 it runs only when `cfg!(debug_assertions)` holds, a debug build: `cargo lambda build` (a release build) leaves it out",
            "13 it runs only when a condition on `\"development\"` holds, the monolith's own development gate: keep that condition false in the deployed configuration",
            "16 ",
        ]
    "#]]
    .assert_debug_eq(&got);
}

#[test]
fn startup_work() {
    check_marked(
        r#"
//- /src/lib.rs
const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS t (id INTEGER)",
    "CREATE INDEX IF NOT EXISTS t_id ON t(id)",
];
const SELECT_ALL: &str = "SELECT * FROM t";

pub async fn migrate(pool: &sqlx::PgPool) {
    sqlx::migrate!("./migrations").run(pool).await.unwrap(); //~ startup-work
    for statement in SCHEMA {
        sqlx::query(statement).execute(pool).await.unwrap(); //~ startup-work
    }
    sqlx::query("create unique index if not exists t_x on t(x)").execute(pool).await.unwrap(); //~ startup-work
    let ddl = "ALTER TABLE t ADD COLUMN x INT";
    sqlx::query(ddl) //~ startup-work
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(SELECT_ALL).fetch_all(pool).await.unwrap();
    sqlx::query("INSERT INTO created_tables VALUES (1)").execute(pool).await.unwrap();
}
"#,
    );
}

/// A scheduled job's temporary table (created, filled, dropped) is a
/// query's scratch space; the same `DROP TABLE` beside real schema work is
/// DDL.
#[test]
fn startup_work_temporary_tables_are_scratch() {
    check_marked(
        r#"
//- /src/lib.rs
use diesel::sql_query;

pub async fn process_aggregates(conn: &mut Conn, interval: (&str, &str)) {
    let temp_table = &format!("aggregates_temp_table_{}", interval.1);
    let drop_temp_table = &format!("DROP TABLE IF EXISTS {temp_table}");
    sql_query(drop_temp_table).execute(conn).await.ok();
    sql_query(format!(
        "CREATE TEMP TABLE {temp_table} AS SELECT id, count(*) FROM posts GROUP BY id"
    ))
    .execute(conn)
    .await
    .ok();
    sql_query(drop_temp_table).execute(conn).await.ok();
}

pub async fn reset(conn: &mut Conn) {
    sql_query("DROP TABLE IF EXISTS sessions").execute(conn).await.ok(); //~ startup-work
    sql_query("CREATE TABLE sessions (id TEXT)").execute(conn).await.ok(); //~ startup-work
}

pub struct Conn;
"#,
    );
}

#[test]
fn quiet_code_has_no_hazards() {
    check_marked(
        r#"
//- /src/lib.rs
use std::collections::HashMap;
use std::sync::LazyLock;

static STATUS: LazyLock<HashMap<&str, u16>> = LazyLock::new(|| HashMap::from([("ok", 200)]));

pub struct Config {
    pub url: String,
}

pub async fn handler(cfg: &Config) -> String {
    let mut total = 0;
    for i in 0..10 {
        total += i;
    }
    format!("{}{total}", cfg.url)
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

fn http(defs: &DefMap<'_>, method: &str, path: &str, handler: &str) -> EntryPoint {
    let root = defs.fns.iter().position(|f| f.id == handler);
    EntryPoint {
        kind: EntryKind::Http,
        framework: Some(Framework::Axum),
        method: method.to_owned(),
        path: path.to_owned(),
        handler: handler.to_owned(),
        at: Location {
            file: "src/lib.rs".to_owned(),
            line: 1,
        },
        registered: Location {
            file: "src/lib.rs".to_owned(),
            line: 1,
        },
        middleware: Vec::new(),
        root,
    }
}

#[test]
fn hazards_name_the_entry_points_that_reach_them() {
    let hazards = run_with(
        &format!(
            "{MANIFEST}{}",
            r#"
//- /src/lib.rs
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;

static HITS: AtomicU64 = AtomicU64::new(0);
static REQUEST_ID: AtomicU64 = AtomicU64::new(0);

#[derive(Clone)]
pub struct AppState {
    pub repo: Arc<dyn Repo>,
}

pub trait Repo: Send + Sync {
    fn put(&self, v: u64);
}

pub struct MemRepo {
    rows: Mutex<Vec<u64>>,
}

impl Repo for MemRepo {
    fn put(&self, v: u64) {
        self.rows.lock().unwrap().push(v);
    }
}

pub async fn hit(State(state): State<AppState>) {
    let n = HITS.fetch_add(1, Ordering::Relaxed);
    state.repo.put(n);
    notify();
}

pub async fn health() {}

fn notify() {
    tokio::spawn(async {});
}

pub async fn request_id() {
    REQUEST_ID.fetch_add(1, Ordering::Relaxed);
}

pub fn unused() {
    std::thread::sleep(std::time::Duration::from_secs(30));
}
"#
        ),
        |defs| {
            let mut hit = http(defs, "POST", "/hits", "app::hit");
            hit.middleware.push(Middleware {
                kind: "layer".to_owned(),
                name: "from_fn(request_id)".to_owned(),
                handler: Some("app::request_id".to_owned()),
                at: Location {
                    file: "src/lib.rs".to_owned(),
                    line: 1,
                },
            });
            vec![hit, http(defs, "GET", "/health", "app::health")]
        },
    );
    expect![[r#"
        global-mutable-state src/lib.rs:6 app::HITS <- [POST /hits]
        global-mutable-state src/lib.rs:7 app::REQUEST_ID <- [POST /hits]
        in-process-state src/lib.rs:18 app::MemRepo <- [POST /hits]
        background-task src/lib.rs:37 app::notify <- [POST /hits]
        long-running src/lib.rs:45 app::unused <- []
    "#]]
    .assert_eq(&render(&hazards));
}

#[test]
fn hazards_serialise_with_the_documented_fields() {
    let hazards = run(&format!(
        "{MANIFEST}{}",
        r#"
//- /src/lib.rs
static HITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
"#
    ));
    let json = serde_json::to_value(&hazards).expect("serialise");
    let first = json
        .as_array()
        .and_then(|a| a.first())
        .and_then(|h| h.as_object())
        .expect("one hazard");
    let keys: Vec<&str> = first.keys().map(String::as_str).collect();
    let mut want = vec![
        "code",
        "severity",
        "file",
        "line",
        "item",
        "message",
        "advice",
        "entrypoints",
    ];
    want.sort();
    let mut keys = keys;
    keys.sort();
    assert_eq!(keys, want);
    assert_eq!(first["severity"], "warning");
    assert_eq!(first["code"], "global-mutable-state");
}

/// Each lint: its own file with the four doc sections, registered once,
/// and at least one `//~` marked test.
#[test]
fn tidy_every_lint_is_documented_registered_and_tested() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/hazards");
    let tests = std::fs::read_to_string(format!("{dir}/tests.rs")).expect("read tests.rs");
    let mut codes = BTreeSet::new();
    for lint in LINTS {
        assert!(
            codes.insert(lint.code),
            "`{}` is registered twice",
            lint.code
        );
        assert!(
            lint.code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-'),
            "`{}` is not kebab-case",
            lint.code
        );
        assert!(
            !lint.summary.is_empty() && !lint.advice.is_empty(),
            "{}",
            lint.code
        );
        let file = format!("{dir}/{}.rs", lint.code.replace('-', "_"));
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("`{}` has no file {file}: {e}", lint.code));
        assert!(
            text.starts_with("//! ### What it does"),
            "{file} must open with its doc block"
        );
        let mut at = 0;
        for section in [
            "//! ### What it does",
            "//! ### Why is this bad on Lambda",
            "//! ### Example",
            "//! ### Use instead",
        ] {
            let found = text[at..]
                .find(section)
                .unwrap_or_else(|| panic!("{file} lacks `{section}` (in order)"));
            at += found + section.len();
        }
        assert!(
            text.contains(&format!("code: \"{}\"", lint.code)),
            "{file} does not define `{}`",
            lint.code
        );
        assert!(
            tests.contains(&format!("//~ {}", lint.code)),
            "`{}` has no `//~` marked test",
            lint.code
        );
    }
    // Every lint file is registered.
    for entry in std::fs::read_dir(dir).expect("read hazards dir") {
        let name = entry.expect("dir entry").file_name();
        let name = name.to_string_lossy();
        let Some(stem) = name.strip_suffix(".rs") else {
            continue;
        };
        if stem == "tests" {
            continue;
        }
        assert!(
            codes.contains(stem.replace('_', "-").as_str()),
            "hazards/{name} is not in LINTS"
        );
    }
}

/// `expected/hazards.txt` of a bundled fixture (written by hand from its
/// code) against what `check` finds, as `code file:line` lines.
fn golden(fixture: &str) {
    let root = format!("{}/../fixtures/{fixture}", env!("CARGO_MANIFEST_DIR"));
    let expected = std::fs::read_to_string(format!("{root}/expected/hazards.txt"))
        .expect("read expected/hazards.txt");
    let want: BTreeSet<String> = expected
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let project = crate::load(std::path::Path::new(&root)).expect("load fixture");
    let defs = DefMap::build(&project);
    let graph = callgraph::build(&defs);
    let hazards = check(&defs, &graph, &[]);
    let got: BTreeSet<String> = hazards
        .iter()
        .map(|h| format!("{} {}:{}", h.code, h.file, h.line))
        .collect();
    if got != want {
        let mut diff = String::new();
        for l in want.difference(&got) {
            diff.push_str(&format!("- {l}\n"));
        }
        for h in &hazards {
            let l = format!("{} {}:{}", h.code, h.file, h.line);
            if !want.contains(&l) {
                diff.push_str(&format!("+ {l}    ({})\n", h.message));
            }
        }
        panic!(
            "{fixture}: hazards differ from expected/hazards.txt (- expected, + found):\n{diff}"
        );
    }
}

#[test]
fn golden_shop_axum() {
    golden("shop-axum");
}

#[test]
fn golden_forum_actix() {
    golden("forum-actix");
}

#[test]
fn golden_notes_rocket() {
    golden("notes-rocket");
}

/// A bounded cache in a static is safe to lose and to differ per instance.
#[test]
fn a_static_cache_is_not_global_state() {
    check_marked(
        r#"
//- /src/lib.rs
use std::sync::LazyLock;
use std::sync::Mutex;
use moka::sync::Cache;
static ACTORS: LazyLock<Cache<String, String>> = LazyLock::new(|| Cache::new(10_000));
static SEEN: LazyLock<Mutex<Vec<String>>> = LazyLock::new(Default::default); //~ global-mutable-state
pub fn remember(s: String) {
    ACTORS.insert(s.clone(), s.clone());
    SEEN.lock().unwrap().push(s);
}
"#,
    );
}

/// Spawned futures that are not work of their own: the server itself, a
/// signal wait, a database connection's driver. A job is still reported.
#[test]
fn spawning_the_server_a_signal_wait_or_a_connection_driver_is_not_a_background_task() {
    check_marked(
        r#"
//- /src/lib.rs
use actix_web::{App, HttpServer};
pub async fn start() -> std::io::Result<actix_web::dev::ServerHandle> {
    let server = HttpServer::new(|| App::new()).bind("127.0.0.1:8080")?.run();
    let handle = server.handle();
    tokio::spawn(server);
    tokio::spawn(async move {
        tokio::signal::ctrl_c().await.unwrap(); //~ process-lifecycle
        handle.stop(true).await;
    });
    let (client, conn) = tokio_postgres::connect("host=db", tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("{e}");
        }
    });
    tokio::spawn(async move { client.execute("VACUUM", &[]).await }); //~ background-task
    Ok(server_handle())
}
fn server_handle() -> actix_web::dev::ServerHandle { todo!() }
"#,
    );
}

/// A task whose handle is one branch of a `select!` runs beside the
/// others (the zero2prod shape: the app and a delivery worker spawned from
/// `main`, then `select!` on whichever ends first); one joined with
/// `join!` is waited for.
#[test]
fn a_spawn_raced_in_select_is_a_background_task() {
    check_marked(
        r#"
//- /src/lib.rs
pub struct Worker;
impl Worker {
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        Ok(())
    }
}
pub async fn start(app: Worker, worker: Worker, other: Worker) -> std::io::Result<()> {
    let task_app = tokio::spawn(app.run_until_stopped()); //~ background-task
    let task_wrk = tokio::spawn(worker.run_until_stopped()); //~ background-task
    tokio::select! {
        o = task_app => report(o),
        o = task_wrk => report(o),
    }
    let joined = tokio::spawn(other.run_until_stopped());
    let _ = tokio::join!(joined);
    Ok(())
}
fn report<T>(_o: T) {}
"#,
    );
}

/// Code for another OS than Lambda's Linux is not in the deployed build.
#[test]
fn code_for_another_os_is_not_checked() {
    check_marked(
        r#"
//- /src/lib.rs
#[cfg(unix)]
pub fn on_shutdown() {
    tokio::spawn(async { cleanup().await }); //~ background-task
}
#[cfg(not(unix))]
pub fn on_shutdown() {
    tokio::spawn(async { cleanup().await });
}
#[cfg(windows)]
pub fn console() {
    std::process::exit(0);
}
async fn cleanup() {}
"#,
    );
}

/// Statics whose use shows they are not shared state: a memo (a fn returns
/// the held value when there and fills it otherwise; another fn only clears
/// it), a stamp only ever stored, a gauge of this process's in-flight work.
/// A store other fns fill, a counter handing out numbers and a lock a fn
/// reads without returning what it holds stay.
#[test]
fn memos_stamps_and_gauges_are_not_global_mutable_state() {
    check_marked(
        r#"
//- /src/lib.rs
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{LazyLock, Mutex, RwLock};
use std::time::Instant;

struct Token {
    access_token: String,
    valid_until: Instant,
}

pub async fn auth_token() -> String {
    static API_TOKEN: LazyLock<tokio::sync::RwLock<Token>> = LazyLock::new(|| {
        tokio::sync::RwLock::new(Token { access_token: String::new(), valid_until: Instant::now() })
    });
    let api_token = API_TOKEN.read().await;
    if api_token.valid_until > Instant::now() {
        return api_token.access_token.clone();
    }
    drop(api_token);
    let fresh = fetch().await;
    *API_TOKEN.write().await = Token { access_token: fresh.clone(), valid_until: Instant::now() };
    fresh
}

pub fn blocked(domain: &str, pattern: String) -> bool {
    static COMPILED: Mutex<Option<(String, regex::Regex)>> = Mutex::new(None);
    let mut guard = COMPILED.lock().unwrap();
    if let Some((value, regex)) = &*guard
        && value == &pattern
    {
        return regex.is_match(domain);
    }
    let regex = regex::Regex::new(&pattern).unwrap();
    let is_match = regex.is_match(domain);
    *guard = Some((pattern, regex));
    is_match
}

static CSS_CACHE: RwLock<Option<String>> = RwLock::new(None);

pub fn invalidate_css() {
    *CSS_CACHE.write().unwrap() = None;
}

pub fn css(reload: bool) -> String {
    if !reload
        && let Some(cached) = CSS_CACHE.read().unwrap().as_ref()
    {
        return cached.clone();
    }
    let css = render();
    *CSS_CACHE.write().unwrap() = Some(css.clone());
    css
}

pub static LAST_POLL: LazyLock<AtomicU64> = LazyLock::new(|| AtomicU64::new(0));

pub fn polled(now: u64) {
    LAST_POLL.swap(now, Ordering::Relaxed);
}

pub async fn deliver(limit: usize) {
    static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
    if IN_FLIGHT.load(Ordering::Relaxed) > limit {
        return;
    }
    IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
    fetch().await;
    IN_FLIGHT.fetch_sub(1, Ordering::Relaxed);
}

static SESSIONS: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default); //~ global-mutable-state

pub fn session(id: &str) -> Option<String> {
    if let Some(user) = SESSIONS.lock().unwrap().get(id) {
        return Some(user.clone());
    }
    None
}

pub fn login(id: String, user: String) {
    SESSIONS.lock().unwrap().insert(id, user);
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1); //~ global-mutable-state

pub fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

pub fn visits() -> u64 {
    static VISITS: Mutex<u64> = Mutex::new(0); //~ global-mutable-state
    let mut n = VISITS.lock().unwrap();
    if *n > 1000 {
        return 0;
    }
    *n += 1;
    *n
}

async fn fetch() -> String {
    String::new()
}
fn render() -> String {
    String::new()
}
"#,
    );
}

/// A short pause as one round of a loop that returns once its call works
/// (a bounded retry), or a random pause of about a second against timing
/// attacks, waits far less than any timeout; a back-off of unknown length in
/// the same loop, and a short pause pacing an endless loop, are reported.
#[test]
fn bounded_retries_and_short_random_pauses_are_not_long_running() {
    check_marked(
        r#"
//- /src/lib.rs
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::time::sleep;

const ATTEMPT_WAIT: Duration = Duration::from_millis(500);

const fn wait_duration() -> Duration {
    Duration::from_millis(200)
}

pub fn retry<F: FnMut() -> Result<u32, ()>>(mut func: F, max_tries: u32) -> Result<u32, ()> {
    let mut tries = 0;
    loop {
        match func() {
            ok @ Ok(_) => return ok,
            err @ Err(_) => {
                tries += 1;
                if tries >= max_tries {
                    return err;
                }
                Handle::current().block_on(sleep(Duration::from_millis(500)));
            }
        }
    }
}

pub async fn retry_db<F: FnMut() -> Result<u32, ()>>(mut func: F, max_tries: u32) -> Result<u32, ()> {
    let mut tries = 0;
    loop {
        match func() {
            ok @ Ok(_) => return ok,
            Err(e) => {
                tries += 1;
                if tries >= max_tries {
                    return Err(e);
                }
                sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

pub async fn wait_for(addr: &str) {
    loop {
        match tokio::net::TcpStream::connect(addr).await {
            Ok(_) => break,
            Err(_) => {
                sleep(ATTEMPT_WAIT).await;
                continue;
            }
        }
    }
}

pub async fn lock_loop(cache: &Cache) -> Option<u32> {
    loop {
        sleep(wait_duration()).await;
        if let Some(v) = cache.get() {
            return Some(v);
        }
    }
}

pub async fn password_hint(mail_enabled: bool) {
    if mail_enabled {
        use rand::{RngExt, rngs::SmallRng};
        let mut rng: SmallRng = rand::make_rng();
        let sleep_ms: u64 = rng.random_range(900..=1100);
        tokio::time::sleep(tokio::time::Duration::from_millis(sleep_ms)).await;
    }
}

pub async fn slow_hint() {
    let mut rng = rand::thread_rng();
    let ms: u64 = rng.gen_range(5000..9000);
    tokio::time::sleep(Duration::from_millis(ms)).await; //~ long-running
}

/// Three attempts, 200 ms more each: at most 600 ms a pause.
pub async fn read_archive() -> Option<u32> {
    for attempt in 1..=3 {
        if let Some(v) = Cache.get() {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(200 * attempt as u64)).await;
    }
    None
}

/// Ten attempts, ten seconds more each: long waits.
pub async fn read_slowly() -> Option<u32> {
    for attempt in 1..=10 {
        if let Some(v) = Cache.get() {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_secs(10 * attempt as u64)).await; //~ long-running
    }
    None
}

pub async fn migrate_with_backoff(mut backoff: Duration) {
    loop {
        if try_migrate().await {
            return;
        }
        sleep(backoff).await; //~ long-running
        backoff *= 2;
    }
}

pub async fn poll_forever() {
    loop { //~ long-running
        drain().await;
        sleep(wait_duration()).await; //~ long-running
    }
}

pub struct Cache;
impl Cache {
    pub fn get(&self) -> Option<u32> {
        None
    }
}
async fn try_migrate() -> bool {
    true
}
async fn drain() {}
"#,
    );
}

/// A SQLite file named only as a field's default, in the attributes of a
/// clap CLI, a derive_builder config or a serde config, is a SQLite file all
/// the same.
#[test]
fn sqlite_files_named_as_field_defaults_are_local_filesystem() {
    check_marked(
        r##"
//- /src/main.rs
use clap::Parser;
use serde::Deserialize;

#[derive(Debug, Parser)]
#[command(name = "links", version)]
struct Cli {
    /// The SQLite database.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite:links.db?mode=rwc", global = true)] //~ local-filesystem
    database_url: String,
    #[arg(long, default_value = "sqlite::memory:")]
    cache_url: String,
    #[arg(long, default_value_t = String::from("sqlite:///tmp/scratch.db"))]
    scratch_url: String,
    #[arg(long, default_value = "8080")]
    port: u16,
}

#[derive(Clone, derive_builder::Builder)]
#[builder(pattern = "owned")]
pub struct Configuration {
    #[builder(default = r#"String::from("::")"#)]
    pub http_host: String,
    #[builder(default = r#"DatabaseUrl::from("sqlite://users.db?mode=rwc")"#)] //~ local-filesystem
    pub database_url: DatabaseUrl,
}

#[derive(Clone)]
pub struct DatabaseUrl(String);

#[derive(Deserialize)]
pub struct Settings {
    #[serde(default = "default_database")]
    pub database: String,
    #[serde(default)]
    pub name: String,
}

fn default_database() -> String {
    "sqlite://data/settings.db".into() //~ local-filesystem
}

fn main() {
    let cli = Cli::parse();
    let config = ConfigurationBuilder::default().build();
    let settings: Settings = serde_json::from_str("{}").unwrap();
    println!("{:?} {}", cli, settings.database);
    let _ = config;
}
"##,
    );
}

/// A storage abstraction on its local-disk backend stores on the local disk.
#[test]
fn local_disk_storage_backends_are_local_filesystem() {
    check_marked(
        r#"
//- /src/lib.rs
use object_store::local::LocalFileSystem;
pub fn data_operator(path: &str) -> opendal::Operator {
    let builder = opendal::services::Fs::default().root(path); //~ local-filesystem
    opendal::Operator::new(builder).unwrap().finish()
}
pub fn crates(path: &str) -> LocalFileSystem {
    LocalFileSystem::new_with_prefix(path).unwrap() //~ local-filesystem
}
pub fn remote() -> opendal::Operator {
    opendal::Operator::new(opendal::services::S3::default()).unwrap().finish()
}
"#,
    );
}

/// Configuration files found under the working directory
/// (`env::current_dir()?.join("config")`) are not deployed with the binary.
#[test]
fn config_files_under_the_working_directory_are_local_filesystem() {
    check_marked(
        r#"
//- /src/lib.rs
use config::{Config, File};
pub fn settings() -> Config {
    let path = std::env::current_dir().expect("cwd");
    let config_dir = path.join("config");
    Config::builder()
        .add_source(File::from(config_dir.join("base.yaml")).required(true)) //~ local-filesystem
        .build()
        .unwrap()
}
"#,
    );
}

/// Items inside `cfg_if!` and `cfg_select!` arms are code like any other
/// (a crate that declares its modules and helpers under `feature = "full"`);
/// an arm for another OS than Lambda's Linux is not.
#[test]
fn items_inside_cfg_macros_are_checked() {
    check_marked(
        r#"
//- /src/lib.rs
cfg_select! {
  feature = "full" => {
    pub mod settings;
  }
  _ => {}
}

cfg_select! {
  feature = "full" => {
    pub fn spawn_try_task(task: impl std::future::Future<Output = ()> + Send + 'static) {
      tokio::spawn(async { //~ background-task
        task.await;
      });
    }
  }
  _ => {}
}

cfg_if::cfg_if! {
    if #[cfg(windows)] {
        pub fn scratch() {
            std::fs::create_dir_all("C:\\scratch").unwrap();
        }
    } else {
        pub fn scratch() {
            std::fs::create_dir_all("scratch").unwrap(); //~ local-filesystem
        }
    }
}
//- /src/settings.rs
pub fn load() -> String {
    std::fs::read_to_string("config/config.hjson").unwrap() //~ local-filesystem
}
"#,
    );
}

/// A consumer loop whose wait sits in a workspace fn of the queue
/// (`ActivityChannel::retrieve_activity()` ends with `lock.recv().await`)
/// waits on the channel all the same.
#[test]
fn a_loop_on_a_wrapped_receive_is_long_running() {
    check_marked(
        r#"
//- /src/lib.rs
use tokio::sync::{mpsc, Mutex};

pub struct ActivityChannel {
    receiver: Mutex<mpsc::UnboundedReceiver<u64>>,
}

impl ActivityChannel {
    pub async fn retrieve_activity(&self) -> Option<u64> {
        let mut lock = self.receiver.lock().await;
        lock.recv().await
    }
    pub async fn next_id() -> Option<u64> {
        Some(1)
    }
}

pub async fn handle_outgoing_activities(channel: ActivityChannel) {
    while let Some(data) = ActivityChannel::retrieve_activity(&channel).await { //~ long-running
        let _ = data;
    }
}

pub async fn drain_ids() {
    while let Some(id) = ActivityChannel::next_id().await {
        let _ = id;
    }
}
"#,
    );
}

/// The app built by a workspace fn (`Application::build(config)` binds the
/// `HttpServer`) and spawned from `main` beside a worker: the spawn of the
/// server is the server, the worker's is a background task.
#[test]
fn spawning_the_server_built_by_a_workspace_fn_is_not_a_background_task() {
    check_marked(
        r#"
//- /src/main.rs
use actix_web::dev::Server;
use actix_web::{App, HttpServer};

pub struct Application {
    server: Server,
}

impl Application {
    pub async fn build(port: u16) -> std::io::Result<Self> {
        let server = run(port)?;
        Ok(Self { server })
    }
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn run(port: u16) -> std::io::Result<Server> {
    Ok(HttpServer::new(|| App::new()).bind(("0.0.0.0", port))?.run())
}

pub struct DeliveryWorker;
impl DeliveryWorker {
    pub fn build() -> Self {
        DeliveryWorker
    }
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let task_app = tokio::spawn(Application::build(8080).await?.run_until_stopped());
    let task_wrk = tokio::spawn(DeliveryWorker::build().run_until_stopped()); //~ background-task
    tokio::select! {
        _ = task_app => {},
        _ = task_wrk => {},
    }
    Ok(())
}
"#,
    );
}

/// A `Bytes` body is capped by the framework's default limit (axum 2 MB,
/// actix 256 KiB) unless the app raises one: an inbox taking small JSON
/// as bytes is not a large payload.
#[test]
fn a_bytes_body_under_the_default_limit_is_not_a_large_payload() {
    check_marked(
        r#"
//- /src/lib.rs
use actix_web::web::Bytes;
use actix_web::HttpRequest;

pub async fn shared_inbox(request: HttpRequest, body: Bytes) -> String {
    String::from_utf8_lossy(&body).into_owned()
}
"#,
    );
}

/// A task that waits for SIGUSR1 and runs a backup each time is a signal
/// handler (process-lifecycle), idle between signals: not a loop that
/// runs for the life of the process.
#[test]
fn a_loop_waiting_for_a_signal_is_not_long_running() {
    check_marked(
        r#"
//- /src/lib.rs
use tokio::signal::unix::{signal, SignalKind};
pub fn on_user1() {
    tokio::spawn(async move {
        let mut signal_user1 = signal(SignalKind::user_defined1()).unwrap(); //~ process-lifecycle
        loop {
            let _ = signal_user1.recv().await;
            backup();
        }
    });
}
pub async fn drain(mut rx: tokio::sync::mpsc::Receiver<u32>) {
    loop { //~ long-running
        let _ = rx.recv().await;
        backup();
    }
}
fn backup() {}
"#,
    );
}

/// Login limits kept in a governor rate limiter behind a type alias
/// (`type Limiter<T> = RateLimiter<T, DashMapStateStore<T>, DefaultClock>`)
/// are counted per instance.
#[test]
fn a_rate_limiter_behind_a_type_alias_is_global_state() {
    check_marked(
        r#"
//- /src/lib.rs
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::LazyLock;
use governor::{clock::DefaultClock, state::keyed::DashMapStateStore, Quota, RateLimiter};

type Limiter<T = IpAddr> = RateLimiter<T, DashMapStateStore<T>, DefaultClock>;

static LIMITER_LOGIN: LazyLock<Limiter> = LazyLock::new(|| { //~ global-mutable-state
    RateLimiter::keyed(Quota::per_minute(NonZeroU32::new(10).unwrap()))
});

pub fn check_limit_login(ip: &IpAddr) -> bool {
    LIMITER_LOGIN.check_key(ip).is_ok()
}
"#,
    );
}

/// A spawn whose handle a fn returns is its callers' to await; a caller
/// that keeps the handle in a struct leaves the task running.
#[test]
fn a_returned_handle_a_caller_keeps_is_a_background_task() {
    check_marked(
        r#"
//- /src/lib.rs
use std::sync::Arc;
use tokio::task::JoinHandle;

pub struct Backend {
    gc_handle: Option<Arc<JoinHandle<()>>>,
}

impl Backend {
    pub fn new(enable_gc: bool) -> Self {
        let gc_handle = enable_gc.then(|| Arc::new(Backend::garbage_collector()));
        Backend { gc_handle }
    }

    fn garbage_collector() -> JoinHandle<()> {
        tokio::spawn(async move { //~ background-task
            sweep().await;
        })
    }
}

pub fn spawn_blocking_with_tracing<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    tokio::task::spawn_blocking(f)
}

pub async fn hash(password: String) -> usize {
    spawn_blocking_with_tracing(move || password.len()).await.unwrap()
}

async fn sweep() {}
"#,
    );
}

/// Files written through an opendal operator that a workspace fn builds on
/// the `Fs` backend (reached through a method of a config whose type cleave
/// may not see) land on the local disk; an operator handed in from
/// elsewhere is not known to be local.
#[test]
fn writes_through_a_local_storage_operator_are_local_filesystem() {
    check_marked(
        r#"
//- /src/lib.rs
pub struct Config;
impl Config {
    pub fn operator_for_path_type(&self, path: &str) -> Result<opendal::Operator, opendal::Error> {
        operator_for_path(path)
    }
}
pub fn operator_for_path(path: &str) -> Result<opendal::Operator, opendal::Error> {
    let builder = opendal::services::Fs::default().root(path); //~ local-filesystem
    Ok(opendal::Operator::new(builder)?.finish())
}
pub static CONFIG: Config = Config;
pub async fn save_key(key: Vec<u8>) -> Result<(), opendal::Error> {
    let operator = CONFIG.operator_for_path_type("data").map_err(|e| e)?;
    if operator.exists("rsa_key.pem").await? {
        return Ok(());
    }
    operator.write("rsa_key.pem", key).await?; //~ local-filesystem
    Ok(())
}
pub async fn save_config(text: String) -> Result<(), opendal::Error> {
    let operator = operator_for_path(".")?;
    operator.write("config.json", text).await?; //~ local-filesystem
    Ok(())
}
pub async fn mirror(op: opendal::Operator) -> Result<(), opendal::Error> {
    op.write("copy", Vec::<u8>::new()).await?;
    Ok(())
}
"#,
    );
}

mod scope;
