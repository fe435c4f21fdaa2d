//! Apps that start their server in many shapes: `main` calls a library fn
//! that serves (realworld's `http::serve(config, db)`), a module of the
//! binary serves, a fn in `main`'s file serves under a sync `main`, the
//! binary is `src/bin/api.rs`, a fn builds the server and returns it
//! unawaited for `main` to await (zero2prod's `run(listener)`). None of the
//! code is edited: the framework dependency is renamed to the server shim's
//! facade, and each generated function builds and keeps to its routes.
//! Every app here listens on `PORT`, as the functions then do.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MANIFEST: &str = "[package]\nname = \"todo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
[dependencies]\naxum = \"0.8\"\ntokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"net\"] }\n\n[workspace]\n";

const ROUTES: &str = r#"use axum::{routing::get, Router};

pub fn router() -> Router {
    Router::new()
        .route("/todos", get(list).post(create))
        .route("/health", get(health))
}

async fn list() -> &'static str {
    "[]"
}

async fn create() -> &'static str {
    "created"
}

async fn health() -> &'static str {
    "ok"
}
"#;

/// The library serves: `todo::startup::run(port)`.
const LIB_SERVES: &[(&str, &str)] = &[
    ("src/lib.rs", "pub mod routes;\npub mod startup;\n"),
    (
        "src/startup.rs",
        r#"use tokio::net::TcpListener;

pub async fn run(port: u16) -> std::io::Result<()> {
    let app = crate::routes::router();
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    axum::serve(listener, app).await
}
"#,
    ),
    (
        "src/main.rs",
        r#"#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    todo::startup::run(port).await
}
"#,
    ),
];

/// A module of the binary serves: `server::start()`.
const BIN_SERVES: &[(&str, &str)] = &[
    ("src/lib.rs", "pub mod routes;\n"),
    (
        "src/server.rs",
        r#"pub async fn start() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    axum::serve(listener, todo::routes::router()).await?;
    Ok(())
}
"#,
    ),
    (
        "src/main.rs",
        r#"mod server;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    server::start().await
}
"#,
    ),
];

/// `main`'s own file serves, from a fn written above a sync `main` that
/// blocks on it (`rt.block_on(async_main())`); the package's name has a
/// hyphen (`todo-app`, whose lib is `todo_app`).
const MAIN_FILE_SERVES: &[(&str, &str)] = &[
    ("src/lib.rs", "pub mod routes;\n"),
    (
        "src/main.rs",
        r#"use tokio::net::TcpListener;

async fn async_main(port: u16) -> std::io::Result<()> {
    // Read while compiling: files the function needs beside its sources.
    let _schema = include_str!("../migrations/0001_init.sql");
    let _banner = include_str!("banner.txt");
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let app = todo_app::routes::router();
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>()).await?;
    Ok(())
}

fn main() -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let port = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    rt.block_on(async_main(port))
}
"#,
    ),
];

/// The binary is `src/bin/api.rs`, not `src/main.rs`.
const BIN_DIR_SERVES: &[(&str, &str)] = &[
    ("src/lib.rs", "pub mod routes;\n"),
    (
        "src/bin/api.rs",
        r#"use axum::{serve, Router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let app: Router = todo::routes::router();
    serve(listener, app)
        .with_graceful_shutdown(std::future::pending())
        .await
}
"#,
    ),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cleave(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cleave"))
        .args(args)
        .output()
        .expect("cleave runs")
}

/// The app, with the axum fixture's lockfile so that the shared target
/// directory already holds its dependencies.
fn write_app(dir: &Path, files: &[(&str, &str)]) {
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    std::fs::write(dir.join("Cargo.toml"), MANIFEST).expect("manifest");
    std::fs::write(dir.join("src/routes.rs"), ROUTES).expect("routes");
    for (path, text) in files {
        std::fs::write(dir.join(path), text).expect("source");
    }
    std::fs::copy(
        repo().join("fixtures/shop-axum/Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .expect("lockfile");
}

/// Generates with one function per route; returns the workspace and the
/// function owning `GET /todos`.
fn generate(app: &Path, root: &Path) -> (PathBuf, String) {
    let plan = root.join("plan.toml");
    let out = cleave(&[
        "analyze".as_ref(),
        app.as_os_str(),
        "--granularity".as_ref(),
        "route".as_ref(),
        "--plan".as_ref(),
        plan.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "analyze: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ws = root.join("ws");
    let out = cleave(&[
        "generate".as_ref(),
        app.as_os_str(),
        "--plan".as_ref(),
        plan.as_os_str(),
        "--out".as_ref(),
        ws.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "generate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&plan).expect("plan");
    let mut name = String::new();
    for line in text.lines() {
        if let Some(n) = line.strip_prefix("name = \"") {
            name = n.trim_end_matches('"').to_owned();
        }
        if line.contains("\"GET /todos\"") {
            return (ws, name);
        }
    }
    panic!("no function owns GET /todos:\n{text}");
}

/// Builds `function`, starts it on a free port and checks it answers its
/// own route and 404s the others'.
fn builds_and_keeps_to_its_routes(ws: &Path, function: &str, tmp: &Path) {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.join("target"));
    let out = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", function])
        .current_dir(ws)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .expect("cargo runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "cargo build -p {function} failed:\n{stderr}"
    );
    // The app builds without warnings; so does what cleave made of it.
    assert!(
        !stderr.contains("warning"),
        "cargo build -p {function} warns:\n{stderr}"
    );
    let port = free_port();
    let server = Server(
        Command::new(target.join("debug").join(function))
            .env("PORT", port.to_string())
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the function starts"),
    );
    wait_for(port);
    assert_eq!(get(port, "/todos"), (200, "[]".to_owned()));
    assert_eq!(
        get(port, "/health").0,
        404,
        "`GET /health` is another function's"
    );
    drop(server);
}

/// A file of the monolith and its copy in the generated workspace are the same.
fn unedited(app: &Path, ws: &Path, from: &str, to: &str) {
    let original = std::fs::read_to_string(app.join(from)).expect("the monolith's file");
    let copy = std::fs::read_to_string(ws.join(to)).expect("the copy");
    assert_eq!(original, copy, "{to} is {from} as written");
}

#[test]
fn a_library_fn_that_serves_is_left_as_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    write_app(&app, LIB_SERVES);
    let (ws, function) = generate(&app, tmp.path());
    unedited(
        &app,
        &ws,
        "src/startup.rs",
        "crates/todo-core/src/startup.rs",
    );
    unedited(&app, &ws, "src/lib.rs", "crates/todo-core/src/lib.rs");
    let manifest =
        std::fs::read_to_string(ws.join("crates/todo-core/Cargo.toml")).expect("manifest");
    assert!(
        manifest.contains(
            "axum = { package = \"cleave-lambda-axum\", path = \"../cleave-lambda-axum\" }"
        ),
        "{manifest}"
    );
    let main = std::fs::read_to_string(ws.join("functions").join(&function).join("src/main.rs"))
        .expect("main.rs");
    assert!(
        main.contains("::cleave_lambda::init(ROUTES, ELSEWHERE);")
            && main.contains("::todo_main::__cleave_main()"),
        "{main}"
    );
    let migration = std::fs::read_to_string(ws.join("MIGRATION.md")).expect("MIGRATION.md");
    assert!(
        migration.contains("renamed to `cleave-lambda-axum`"),
        "{migration}"
    );
    builds_and_keeps_to_its_routes(&ws, &function, tmp.path());
}

#[test]
fn a_binary_module_that_serves_is_shared_once() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    write_app(&app, BIN_SERVES);
    let (ws, function) = generate(&app, tmp.path());
    unedited(&app, &ws, "src/server.rs", "crates/todo-main/src/server.rs");
    // The binary's modules are the library's, not the functions'.
    assert!(
        !ws.join("functions")
            .join(&function)
            .join("src/server.rs")
            .exists()
    );
    builds_and_keeps_to_its_routes(&ws, &function, tmp.path());
}

#[test]
fn a_fn_in_mains_own_file_that_serves_keeps_connect_info() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    write_app(&app, MAIN_FILE_SERVES);
    std::fs::create_dir_all(app.join("migrations")).expect("mkdir");
    std::fs::write(
        app.join("migrations/0001_init.sql"),
        "create table todo (id int);\n",
    )
    .expect("migration");
    std::fs::write(app.join("src/banner.txt"), "todo\n").expect("banner");
    // `GET /todos` reads the caller's address, which the monolith's server
    // gave it (`into_make_service_with_connect_info`): so must the functions.
    let routes = ROUTES
        .replace(
            "async fn list() -> &'static str {",
            "async fn list(axum::extract::ConnectInfo(_peer): axum::extract::ConnectInfo<std::net::SocketAddr>) -> &'static str {",
        );
    assert_ne!(routes, ROUTES);
    std::fs::write(app.join("src/routes.rs"), routes).expect("routes");
    let manifest = MANIFEST.replace("name = \"todo\"", "name = \"todo-app\"");
    std::fs::write(app.join("Cargo.toml"), manifest).expect("manifest");
    let (ws, function) = generate(&app, tmp.path());
    let main =
        std::fs::read_to_string(ws.join("crates/todo-app-main/src/main.rs")).expect("main.rs");
    let original = std::fs::read_to_string(app.join("src/main.rs")).expect("main.rs");
    assert!(main.starts_with(&original), "{main}");
    assert!(
        ws.join("crates/todo-app-main/migrations/0001_init.sql")
            .is_file()
    );
    assert!(ws.join("crates/todo-app-main/src/banner.txt").is_file());
    builds_and_keeps_to_its_routes(&ws, &function, tmp.path());
}

#[test]
fn a_binary_under_src_bin_keeps_its_file_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    std::fs::create_dir_all(app.join("src/bin")).expect("mkdir");
    write_app(&app, BIN_DIR_SERVES);
    let (ws, function) = generate(&app, tmp.path());
    let dir = ws.join("crates/api-main");
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
    assert!(manifest.contains("path = \"src/bin/api.rs\""), "{manifest}");
    assert!(dir.join("src/bin/api.rs").is_file());
    builds_and_keeps_to_its_routes(&ws, &function, tmp.path());
}

#[test]
fn a_server_returned_unawaited_and_awaited_later_is_served() {
    // zero2prod: `run` builds the server and returns it for `main` to await.
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    write_app(
        &app,
        &[
            ("src/lib.rs", "pub mod routes;\npub mod startup;\n"),
            (
                "src/startup.rs",
                r#"use tokio::net::TcpListener;

pub fn run(listener: TcpListener) -> axum::serve::Serve<TcpListener, axum::Router, axum::Router> {
    let app = crate::routes::router();
    axum::serve(listener, app)
}
"#,
            ),
            (
                "src/main.rs",
                r#"#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let server = todo::startup::run(listener);
    println!("listening on {}", server.local_addr()?);
    server.await
}
"#,
            ),
        ],
    );
    let (ws, function) = generate(&app, tmp.path());
    unedited(
        &app,
        &ws,
        "src/startup.rs",
        "crates/todo-core/src/startup.rs",
    );
    builds_and_keeps_to_its_routes(&ws, &function, tmp.path());
}

#[test]
fn an_axum_07_app_is_served_through_the_07_facade() {
    // axum 0.7's `serve` takes a tokio `TcpListener` and has `tcp_nodelay`.
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    write_app(
        &app,
        &[
            ("src/lib.rs", "pub mod routes;\n"),
            (
                "src/main.rs",
                r#"#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await?;
    let server: axum::serve::Serve<axum::Router, axum::Router> =
        axum::serve(listener, todo::routes::router());
    server.tcp_nodelay(true).await
}
"#,
            ),
        ],
    );
    std::fs::write(
        app.join("Cargo.toml"),
        MANIFEST.replace("axum = \"0.8\"", "axum = \"0.7\""),
    )
    .expect("manifest");
    std::fs::remove_file(app.join("Cargo.lock")).expect("no 0.8 lockfile");
    let (ws, function) = generate(&app, tmp.path());
    let facade = std::fs::read_to_string(ws.join("crates/cleave-lambda-axum/src/serve.rs"))
        .expect("the facade's serve module");
    assert!(facade.contains("pub fn tcp_nodelay"), "{facade}");
    builds_and_keeps_to_its_routes(&ws, &function, tmp.path());
}

/// An app on an axum series without `serve` (0.3 to 0.6), served with
/// hyper 0.14's `Server` as axum re-exports it; `main` is `main_rs`.
fn hyper_server_app(app: &Path, axum: &str, main_rs: &str) {
    write_app(
        app,
        &[
            ("src/lib.rs", "pub mod routes;\n"),
            ("src/main.rs", main_rs),
        ],
    );
    std::fs::write(
        app.join("Cargo.toml"),
        MANIFEST.replace("axum = \"0.8\"", &format!("axum = \"{axum}\"")),
    )
    .expect("manifest");
    std::fs::remove_file(app.join("Cargo.lock")).expect("no 0.8 lockfile");
}

#[test]
fn an_axum_06_app_served_by_axum_server_bind_is_served_through_the_shim() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    hyper_server_app(
        &app,
        "0.6",
        r#"use std::net::SocketAddr;

/// zero2prod's shape: the server's own type, kept in a struct, awaited later.
pub type AppServer =
    axum::Server<hyper::server::conn::AddrIncoming, axum::routing::IntoMakeService<axum::Router>>;

pub struct Application {
    server: AppServer,
}

impl Application {
    pub fn build(port: u16) -> Application {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let server = axum::Server::bind(&addr)
            .tcp_nodelay(true)
            .http1_keepalive(true)
            .serve(todo::routes::router().into_make_service());
        Application { server }
    }

    pub async fn run_until_stopped(self) -> Result<(), hyper::Error> {
        println!("listening on {}", self.server.local_addr());
        if std::env::var_os("GRACEFUL").is_some() {
            self.server.with_graceful_shutdown(std::future::pending()).await
        } else {
            self.server.await
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000);
    Application::build(port).run_until_stopped().await?;
    Ok(())
}
"#,
    );
    let manifest = std::fs::read_to_string(app.join("Cargo.toml")).expect("manifest");
    std::fs::write(
        app.join("Cargo.toml"),
        manifest.replace(
            "[dependencies]\n",
            "[dependencies]\nhyper = { version = \"0.14\", features = [\"server\", \"tcp\", \"http1\"] }\n",
        ),
    )
    .expect("manifest");
    let (ws, function) = generate(&app, tmp.path());
    let main = std::fs::read_to_string(ws.join("crates/todo-main/src/main.rs")).expect("main.rs");
    let original = std::fs::read_to_string(app.join("src/main.rs")).expect("main.rs");
    assert!(main.starts_with(&original), "{main}");
    let lib = std::fs::read_to_string(ws.join("crates/cleave-lambda-axum/src/lib.rs"))
        .expect("the facade's lib.rs");
    assert!(lib.contains("pub use self::server::Server;"), "{lib}");
    builds_and_keeps_to_its_routes(&ws, &function, tmp.path());
}

#[test]
fn an_axum_03_app_served_from_a_std_listener_keeps_connect_info() {
    // realworld-axum-sqlx's series; the listener is bound by the app and
    // handed to `Server::from_tcp`, the app reads the caller's address.
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    hyper_server_app(
        &app,
        "0.3",
        r#"use std::net::SocketAddr;

#[tokio::main]
async fn main() -> anyhow_free::Result {
    let port = std::env::var("PORT").unwrap_or_else(|_| "3000".to_owned());
    let listener = std::net::TcpListener::bind(format!("127.0.0.1:{port}"))?;
    axum::Server::from_tcp(listener)?
        .serve(todo::routes::router().into_make_service_with_connect_info::<SocketAddr, _>())
        .await?;
    Ok(())
}

mod anyhow_free {
    pub type Result = std::result::Result<(), Box<dyn std::error::Error>>;
}
"#,
    );
    let routes = ROUTES.replace(
        "async fn list() -> &'static str {",
        "async fn list(axum::extract::ConnectInfo(_peer): axum::extract::ConnectInfo<std::net::SocketAddr>) -> &'static str {",
    );
    assert_ne!(routes, ROUTES);
    std::fs::write(app.join("src/routes.rs"), routes).expect("routes");
    let (ws, function) = generate(&app, tmp.path());
    builds_and_keeps_to_its_routes(&ws, &function, tmp.path());
}

#[test]
fn an_actix_server_returned_unawaited_and_awaited_later_is_served() {
    // zero2prod's shape on actix-web: `run` builds the `HttpServer`, runs it
    // and returns the `dev::Server` for `main` to await.
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    std::fs::create_dir_all(app.join("src")).expect("mkdir");
    std::fs::write(
        app.join("Cargo.toml"),
        "[package]\nname = \"board\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nactix-web = { version = \"4.11\", default-features = false, features = [\"macros\"] }\n\n[workspace]\n",
    )
    .expect("manifest");
    std::fs::write(
        app.join("src/lib.rs"),
        r#"use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::{web, App, HttpServer};

async fn list() -> &'static str {
    "[]"
}

async fn health() -> &'static str {
    "ok"
}

pub fn run(listener: TcpListener) -> std::io::Result<Server> {
    let server = HttpServer::new(|| {
        App::new()
            .route("/todos", web::get().to(list))
            .route("/health", web::get().to(health))
    })
    .workers(1)
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    Ok(server)
}
"#,
    )
    .expect("lib.rs");
    std::fs::write(
        app.join("src/main.rs"),
        r#"#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".to_owned());
    let listener = std::net::TcpListener::bind(format!("127.0.0.1:{port}"))?;
    let server = board::run(listener)?;
    let _handle: actix_web::dev::ServerHandle = server.handle();
    server.await
}
"#,
    )
    .expect("main.rs");
    std::fs::copy(
        repo().join("fixtures/forum-actix/Cargo.lock"),
        app.join("Cargo.lock"),
    )
    .expect("lockfile");
    let (ws, function) = generate(&app, tmp.path());
    unedited(&app, &ws, "src/lib.rs", "crates/board-core/src/lib.rs");
    builds_and_keeps_to_its_routes(&ws, &function, tmp.path());
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_for(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the function did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A plain HTTP/1.0 GET: status and body.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("read");
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_owned())
}
