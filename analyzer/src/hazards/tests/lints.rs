//! Each lint over marked fixtures (`//~ <code>`): background tasks, long-running
//! work, process lifecycle, the local filesystem, long-lived connections, large
//! payloads, connection pools and start-up work.

use super::*;

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
