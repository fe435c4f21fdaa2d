//! Plan tests: the plan a CLI-started app gets (`args`), read back, kept
//! and merged; and what a bad `args` value gets.

use expect_test::expect;

/// An axum app whose `main` serves on the `serve` subcommand.
const CLI_APP: &str = r#"
//- /Cargo.toml
[package]
name = "links"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
tokio = "1"
clap = { version = "4", features = ["derive"] }
//- /src/main.rs
use axum::{routing::get, Router};
use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Migrate,
    Serve,
}

async fn list() -> &'static str {
    "[]"
}

async fn serve() {
    let app = Router::new().route("/links", get(list));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, app).await.unwrap();
}

#[tokio::main]
async fn main() {
    match Cli::parse().command {
        Command::Migrate => println!("migrated"),
        Command::Serve => serve().await,
    }
}
"#;

fn analysis() -> crate::analysis::Analysis {
    crate::testing::analyze(CLI_APP, "")
}

fn groups(a: &crate::analysis::Analysis) -> Vec<crate::partition::Group> {
    crate::partition::propose(a, crate::partition::Granularity::Route)
}

#[test]
fn a_cli_app_gets_its_serving_arguments_in_the_plan() {
    let a = analysis();
    let text = super::render(&a, &groups(&a), "route");
    let head: String = text.lines().skip(3).take(5).collect::<Vec<_>>().join("\n");
    expect![[r#"
        version = 1
        target = "aws-lambda"

        # How each function starts `links`, whose `main` serves on a subcommand (src/main.rs:30); Lambda passes no arguments.
        args = ["serve"]"#]]
    .assert_eq(&head);
    let (plan, diags) = super::parse(&text, "cleave.toml");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(plan.expect("a plan").args, ["serve"]);
}

#[test]
fn re_analysis_adds_missing_arguments_and_keeps_edited_ones() {
    let a = analysis();
    let proposal = groups(&a);
    let fresh = super::render(&a, &proposal, "route");
    // A plan from before `args` existed gets them, marked as new.
    let old: String = fresh
        .lines()
        .filter(|l| !l.starts_with("args") && !l.starts_with("# How each"))
        .map(|l| format!("{l}\n"))
        .collect();
    let (merged, _) = super::merge(&old, &a, &proposal).expect("merge");
    assert!(
        merged.contains("# new: proposed by cleave\n# How each function starts `links`"),
        "{merged}"
    );
    let (plan, diags) = super::parse(&merged, "cleave.toml");
    assert!(diags.is_empty(), "{diags:?}\n{merged}");
    assert_eq!(plan.expect("a plan").args, ["serve"]);
    // Arguments a person wrote are theirs.
    let edited = fresh.replace(
        "args = [\"serve\"]",
        "args = [\"serve\", \"--port\", \"9000\"]",
    );
    let (merged, _) = super::merge(&edited, &a, &proposal).expect("merge");
    let (plan, _) = super::parse(&merged, "cleave.toml");
    assert_eq!(plan.expect("a plan").args, ["serve", "--port", "9000"]);
}

#[test]
fn args_that_are_not_a_list_of_strings_are_an_error_at_their_line() {
    let text = "version = 1\ntarget = \"aws-lambda\"\nargs = \"serve\"\n\n[[function]]\nname = \"a\"\nroutes = []\n";
    let (_, diags) = super::parse(text, "cleave.toml");
    let errors: Vec<String> = diags.iter().map(ToString::to_string).collect();
    expect![[r#"
        [
            "error[plan]: cleave.toml:3: `args` must be a list of strings: args = [\"serve\"]",
        ]
    "#]]
    .assert_debug_eq(&errors);
}

/// Two services in one package: `api` (axum) and `files` (actix-web), and
/// a health route both mount from the library.
const TWO_SERVICES: &str = r#"
//- /Cargo.toml
[package]
name = "suite"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
actix-web = "4"
tokio = "1"
//- /src/lib.rs
pub async fn health() -> &'static str {
    "ok"
}
pub fn health_routes() -> axum::Router {
    axum::Router::new().route("/health", axum::routing::get(health))
}
//- /src/bin/api.rs
use axum::{routing::get, Router};

async fn list() -> &'static str {
    "[]"
}

#[tokio::main]
async fn main() {
    let app = Router::new()
        .route("/orders", get(list))
        .merge(suite::health_routes());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, app).await.unwrap();
}
//- /src/bin/files.rs
use actix_web::{web, App, HttpServer};

async fn upload() -> &'static str {
    "stored"
}

async fn fetch() -> &'static str {
    "bytes"
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| {
        App::new()
            .route("/files", web::post().to(upload))
            .route("/files/{id}", web::get().to(fetch))
    })
    .bind("127.0.0.1:0")?
    .run()
    .await
}
"#;

fn routes_with(options: &crate::analysis::Options) -> (Vec<String>, crate::analysis::Analysis) {
    let a = crate::testing::analyze_with(TWO_SERVICES, "", options);
    (crate::partition::route_names(&a), a)
}

#[test]
fn a_workspace_of_services_is_split_one_binary_at_a_time() {
    // By default, the binary serving the most routes; here they tie (two
    // each), and the first of them is kept.
    let (routes, a) = routes_with(&crate::analysis::Options::default());
    assert_eq!(routes, ["GET /health", "GET /orders"]);
    assert_eq!(a.project.frameworks, [crate::entrypoints::Framework::Axum]);
    let text = super::render(&a, &groups(&a), "route");
    let bin: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("bin") || l.contains("Several binaries"))
        .collect();
    expect![[r##"
        [
            "# Several binaries serve routes: `api` (2 routes), `files` (2 routes). This plan splits `api`'s; name another here and run `cleave analyze` again for its own plan.",
            "bin = \"api\"",
        ]
    "##]]
    .assert_debug_eq(&bin);
    assert_eq!(a.serving_mains()[0].krate, "api");

    // The plan names the other one: its routes, its framework, it serves first.
    let (_, diags) = super::parse(
        &text.replace("bin = \"api\"", "bin = \"files\""),
        "cleave.toml",
    );
    assert!(diags.is_empty(), "{diags:?}");
    let options = super::options(&text.replace("bin = \"api\"", "bin = \"files\""));
    let (routes, a) = routes_with(&options);
    assert_eq!(routes, ["GET /files/{id}", "POST /files"]);
    assert_eq!(
        a.project.frameworks,
        [crate::entrypoints::Framework::ActixWeb]
    );
    assert_eq!(a.serving_mains()[0].krate, "files");

    // A name that serves nothing is an error at its line.
    let bad = text.replace("bin = \"api\"", "bin = \"nope\"");
    let (plan, _) = super::parse(&bad, "cleave.toml");
    let errors: Vec<String> = super::validate(&plan.expect("a plan"), &a, "cleave.toml")
        .iter()
        .filter(|d| d.message.contains("bin"))
        .map(ToString::to_string)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("bin `nope` is not a binary that serves (serving: `files`, `api`)"),
        "{errors:?}"
    );
}

/// The binary serving the most routes is the plan's by default, whichever
/// comes first: a small admin front end beside the API is not the service.
#[test]
fn the_binary_serving_the_most_routes_is_split_by_default() {
    let three = TWO_SERVICES.replace(
        ".route(\"/files/{id}\", web::get().to(fetch))",
        ".route(\"/files/{id}\", web::get().to(fetch))\n            .route(\"/files/{id}/meta\", web::get().to(fetch))",
    );
    assert_ne!(three, TWO_SERVICES);
    let a = crate::testing::analyze_with(&three, "", &crate::analysis::Options::default());
    assert_eq!(
        crate::partition::route_names(&a),
        ["GET /files/{id}", "GET /files/{id}/meta", "POST /files"]
    );
    assert_eq!(a.serving_mains()[0].krate, "files");
    assert_eq!(
        a.route_binaries(),
        (vec![("api", 2), ("files", 3)], Some("files"))
    );
}

/// Two binaries start one router, and serve as many routes: the service
/// package's own `src/main.rs` is split, not a test harness's
/// `src/bin/start_fake.rs` that comes first by name.
#[test]
fn of_binaries_serving_alike_the_packages_own_is_split() {
    const HARNESS_AND_SERVICE: &str = r#"
//- /Cargo.toml
[workspace]
members = ["harness", "mintd", "routes"]
//- /routes/Cargo.toml
[package]
name = "routes"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
//- /routes/src/lib.rs
async fn info() -> &'static str {
    "{}"
}
pub fn create_router() -> axum::Router {
    axum::Router::new().route("/v1/info", axum::routing::get(info))
}
//- /harness/Cargo.toml
[package]
name = "harness"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
tokio = "1"
routes = { path = "../routes" }
//- /harness/src/lib.rs
pub fn fake_backend() {}
//- /harness/src/bin/start_fake.rs
#[tokio::main]
async fn main() {
    harness::fake_backend();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, routes::create_router()).await.unwrap();
}
//- /mintd/Cargo.toml
[package]
name = "mintd"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
tokio = "1"
routes = { path = "../routes" }
//- /mintd/src/main.rs
#[tokio::main]
async fn main() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, routes::create_router()).await.unwrap();
}
"#;
    let a = crate::testing::analyze_with(
        HARNESS_AND_SERVICE,
        "",
        &crate::analysis::Options::default(),
    );
    assert_eq!(crate::partition::route_names(&a), ["GET /v1/info"]);
    assert_eq!(
        a.route_binaries(),
        (vec![("start_fake", 1), ("mintd", 1)], Some("mintd"))
    );
    assert_eq!(a.serving_mains()[0].krate, "mintd");
}

/// An actix attribute route (`#[get("/")]` above its handler) is served by
/// the binaries whose `main` reaches the handler: the example binary's
/// route is not the service's.
#[test]
fn attribute_routes_belong_to_the_binary_reaching_their_handler() {
    const SERVICE_AND_EXAMPLE: &str = r#"
//- /Cargo.toml
[package]
name = "svc"
version = "0.1.0"
edition = "2021"

[dependencies]
actix-web = "4"
//- /src/main.rs
use actix_web::{get, post, App, HttpResponse, HttpServer};

#[get("/config")]
async fn config() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[post("/context")]
async fn context() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| App::new().service(config).service(context))
        .bind(("127.0.0.1", 8080))?
        .run()
        .await
}
//- /src/bin/demo.rs
use actix_web::{get, App, HttpResponse, HttpServer};

#[get("/")]
async fn home() -> HttpResponse {
    HttpResponse::Ok().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| App::new().service(home))
        .bind(("127.0.0.1", 8081))?
        .run()
        .await
}
"#;
    let a = crate::testing::analyze_with(
        SERVICE_AND_EXAMPLE,
        "",
        &crate::analysis::Options::default(),
    );
    assert_eq!(
        crate::partition::route_names(&a),
        ["GET /config", "POST /context"]
    );
    assert_eq!(
        a.route_binaries(),
        (vec![("demo", 1), ("svc", 2)], Some("svc"))
    );
}

/// A route no binary is seen to serve leaves the chosen binary's plan when
/// only other serving binaries build the package registering it: a
/// test-support package's mock server (started by a trait impl, which
/// cleave cannot tie to a `main`) that a tool serves is not the service's;
/// a package whose binary serves through an outside transport (no server
/// start cleave knows) keeps its routes; a worker an `xtask`
/// binary's own `main` spawns is not the service's.
#[test]
fn unserved_routes_leave_only_for_packages_other_servers_build() {
    const SERVICE_AND_MOCKS: &str = r#"
//- /Cargo.toml
[workspace]
members = ["svc", "test-support", "tool", "admin", "server", "xtask"]
//- /xtask/Cargo.toml
[package]
name = "xtask"
version = "0.1.0"
edition = "2021"

[dependencies]
tokio = "1"
//- /xtask/src/main.rs
async fn watch() {
    loop {
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
#[tokio::main]
async fn main() {
    tokio::spawn(watch()).await.unwrap();
}
//- /admin/Cargo.toml
[package]
name = "admin"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
tokio = "1"
hyper-util = "0.1"
quic-transport = "0.1"
//- /admin/src/lib.rs
use axum::{routing::get, Router};
async fn deployments() {}
pub async fn run() {
    let router = Router::new().route("/deployments", get(deployments));
    let service = hyper_util::service::TowerToHyperService::new(router.into_service());
    quic_transport::serve(service).await
}
//- /server/Cargo.toml
[package]
name = "server"
version = "0.1.0"
edition = "2021"

[dependencies]
tokio = "1"
admin = { path = "../admin" }
//- /server/src/main.rs
#[tokio::main]
async fn main() {
    admin::run().await
}
//- /svc/Cargo.toml
[package]
name = "svc"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
tokio = "1"
//- /svc/src/main.rs
use axum::{routing::get, Router};
async fn orders() {}
#[tokio::main]
async fn main() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, Router::new().route("/orders", get(orders))).await.unwrap();
}
//- /test-support/Cargo.toml
[package]
name = "test-support"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
tokio = "1"
//- /test-support/src/lib.rs
use axum::{routing::get, Router};
async fn delay() {}
pub async fn with_router(router: Router) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, router).await.unwrap();
}
pub fn test_router() -> Router {
    Router::new().route("/delay/{time}", get(delay))
}
pub struct Mock;
impl Default for Mock {
    fn default() -> Self {
        tokio::spawn(with_router(test_router()));
        Mock
    }
}
//- /tool/Cargo.toml
[package]
name = "tool"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
tokio = "1"
test-support = { path = "../test-support" }
//- /tool/src/main.rs
use axum::{routing::get, Router};
async fn ping() {}
#[tokio::main]
async fn main() {
    test_support::with_router(Router::new().route("/ping", get(ping))).await
}
"#;
    let a =
        crate::testing::analyze_with(SERVICE_AND_MOCKS, "", &crate::analysis::Options::default());
    assert_eq!(
        crate::partition::route_names(&a),
        ["GET /deployments", "GET /orders"]
    );
    let workers: Vec<&str> = a
        .entrypoints
        .iter()
        .filter(|e| !e.kind.is_route())
        .map(|e| e.registered.file.as_str())
        .collect();
    assert!(
        workers.iter().all(|f| !f.starts_with("xtask/")),
        "{workers:?}"
    );
}

/// A fn joined beside the server that spawns an interval loop and waits on
/// it: two start sites (the join arm and the spawn) reach one loop.
const JOINED_SWEEP: &str = r#"
//- /Cargo.toml
[package]
name = "outbox"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
tokio = "1"
//- /src/main.rs
use axum::{routing::get, Router};
use std::time::Duration;

async fn list() -> &'static str {
    "[]"
}

async fn flush() {}

pub async fn schedule_sweep(every_ms: u64) -> Result<(), tokio::task::JoinError> {
    let task = tokio::task::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_millis(every_ms));
        loop {
            interval.tick().await;
            flush().await;
        }
    });
    task.await
}

#[tokio::main]
async fn main() {
    let sweep = schedule_sweep(500);
    let app = Router::new().route("/items", get(list));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = async { axum::serve(l, app).await };
    let _ = tokio::join!(sweep, server);
}
"#;

#[test]
fn a_loop_reached_from_two_start_sites_gets_one_worker() {
    let a = crate::testing::analyze(JOINED_SWEEP, "");
    let starts = a.workers.iter().filter(|w| super::source_of(w).is_some());
    assert_eq!(starts.count(), 2, "both start sites reach the loop");
    let text = super::render(&a, &groups(&a), "route");
    let workers: Vec<&str> = text
        .lines()
        .skip_while(|l| *l != "[[worker]]")
        .filter(|l| l.starts_with("name = ") || l.starts_with("source = "))
        .collect();
    expect![[r#"
        ["name = \"flush\"", "source = \"src/main.rs:13\""]"#]]
    .assert_eq(&format!("{workers:?}"));
    let (plan, diags) = super::parse(&text, "cleave.toml");
    let plan = plan.expect("a plan");
    let problems = super::validate(&plan, &a, "cleave.toml");
    assert!(
        diags.is_empty() && problems.is_empty(),
        "{diags:?} {problems:?}"
    );
}

/// `features = [..]`: written by `analyze --features`, read back as the
/// analysis's options, kept on re-analysis; anything but a list of names
/// is an error at its line.
#[test]
fn features_go_into_the_plan_and_back_into_the_analysis() {
    let fixture = CLI_APP.replace(
        "[dependencies]",
        "[features]\nsqlite = []\n\n[dependencies]",
    );
    let options = crate::analysis::Options {
        features: vec!["sqlite".to_owned()],
        ..Default::default()
    };
    let a = crate::testing::analyze_with(&fixture, "", &options);
    let text = super::render(&a, &groups(&a), "route");
    assert!(text.contains("\nfeatures = [\"sqlite\"]\n"), "{text}");
    assert_eq!(super::options(&text).features, ["sqlite"]);
    let (plan, diags) = super::parse(&text, "cleave.toml");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(plan.expect("a plan").features, ["sqlite"]);
    let (merged, _) = super::merge(&text, &a, &groups(&a)).expect("merge");
    assert_eq!(
        merged, text,
        "re-analysis with the same features keeps the plan"
    );

    let bad = text.replace("features = [\"sqlite\"]", "features = \"sqlite\"");
    let (_, diags) = super::parse(&bad, "cleave.toml");
    let errors: Vec<String> = diags.iter().map(ToString::to_string).collect();
    let line = bad
        .lines()
        .position(|l| l.starts_with("features"))
        .expect("the key")
        + 1;
    assert_eq!(
        errors,
        [format!(
            "error[plan]: cleave.toml:{line}: `features` must be a list of feature names: features = [\"sqlite\"]"
        )]
    );
}

/// A function whose routes all went elsewhere (or vanished from the app) is
/// kept in the plan, as a person wrote it, but would deploy nothing.
#[test]
fn a_function_without_routes_is_a_warning_at_its_name() {
    let a = analysis();
    let text = "version = 1\ntarget = \"aws-lambda\"\nargs = [\"serve\"]\n\n[[function]]\nname = \"list\"\nroutes = [\"GET /links\"]\n\n[[function]]\nname = \"gone\"\nroutes = []\n";
    let (plan, diags) = super::parse(text, "cleave.toml");
    assert!(diags.is_empty(), "{diags:?}");
    let found: Vec<String> = super::validate(&plan.expect("a plan"), &a, "cleave.toml")
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        found,
        [
            "warning[plan]: cleave.toml:10: function `gone` has no routes: it would deploy a function that serves nothing; remove it or move routes into it"
        ]
    );
}

/// A plan a person wrote with only a `[prefix]` table (as a runtime-prefix
/// warning advises) gets the proposal's functions; the table is kept.
#[test]
fn a_plan_with_settings_only_gets_the_proposed_functions() {
    let a = analysis();
    let proposal = groups(&a);
    let started = "[prefix]\n\"src/main.rs:38\" = \"/base\"\n";
    let (merged, report) = super::merge(started, &a, &proposal).expect("merge");
    assert!(merged.contains(started), "{merged}");
    assert_eq!(
        crate::plan::options(&merged)
            .prefixes
            .get("src/main.rs:38")
            .map(String::as_str),
        Some("/base")
    );
    assert!(report.added.is_empty() && report.removed.is_empty());
    let (plan, diags) = super::parse(&merged, "cleave.toml");
    assert!(diags.is_empty(), "{diags:?}\n{merged}");
    let plan = plan.expect("a plan");
    let routes: Vec<&str> = plan
        .functions
        .iter()
        .flat_map(|f| f.routes.iter().map(String::as_str))
        .collect();
    assert_eq!(routes, ["GET /links"]);
    assert_eq!(plan.args, ["serve"]);
}
