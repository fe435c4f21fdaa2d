//! The served app's scope: with entry points to tell them apart, findings
//! in code only other binaries run, exits and state only start-up touches
//! are left out, and code behind calls the call graph cannot pin stays in.

use super::*;

/// Findings in code only another binary runs (a CLI beside the server) are
/// left out once entry points show what the served app runs; the server's
/// own are kept.
#[test]
fn findings_outside_the_served_app_are_left_out() {
    let fixture = format!(
        "{MANIFEST}{}",
        r#"
//- /src/main.rs
use axum::{routing::post, Router};
async fn upload() {
    std::fs::write("uploads/x", b"x").unwrap();
}
#[tokio::main]
async fn main() {
    let app = Router::new().route("/upload", post(upload));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
//- /src/bin/admin.rs
fn dump() {
    std::fs::write("dump.sql", b"").unwrap();
}
fn main() {
    dump();
    std::process::exit(0);
}
"#
    );
    let files = |hs: &[Hazard]| -> BTreeSet<(String, String)> {
        hs.iter()
            .map(|h| (h.code.to_owned(), h.file.clone()))
            .collect()
    };
    // Without entry points nothing tells served code apart: the CLI's too.
    let all = files(&run(&fixture));
    assert!(
        all.contains(&("local-filesystem".to_owned(), "src/bin/admin.rs".to_owned())),
        "{all:?}"
    );
    let served = run_with(&fixture, |defs| {
        crate::entrypoints::detect(defs).entrypoints
    });
    let served_files = files(&served);
    assert!(
        served_files.contains(&("local-filesystem".to_owned(), "src/main.rs".to_owned())),
        "{served_files:?}"
    );
    assert!(
        served.iter().all(|h| h.file != "src/bin/admin.rs"),
        "{served:?}"
    );
}

/// With entry points to tell request code from start-up: an exit only
/// start-up runs (a failed start) is left out, one a handler runs is kept; a spawn only start-up runs is a
/// worker of the process, not of a request.
#[test]
fn start_up_exits_are_left_out_and_start_up_spawns_say_so() {
    let fixture = format!(
        "{MANIFEST}{}",
        r#"
//- /src/main.rs
use axum::{routing::post, Router};
async fn reset() {
    std::process::exit(0);
}
fn start_jobs() {
    tokio::spawn(async { loop { sweep().await } });
}
async fn sweep() {}
async fn shutdown() {
    tokio::signal::ctrl_c().await.unwrap();
}
#[tokio::main]
async fn main() {
    if std::env::var("DATABASE_URL").is_err() {
        std::process::exit(1);
    }
    start_jobs();
    let app = Router::new().route("/reset", post(reset));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).with_graceful_shutdown(shutdown()).await.unwrap();
}
"#
    );
    let served = run_with(&fixture, |defs| {
        crate::entrypoints::detect(defs).entrypoints
    });
    let lines: Vec<(&str, u32)> = served.iter().map(|h| (h.code, h.line)).collect();
    assert!(lines.contains(&("process-lifecycle", 3)), "{served:#?}");
    // A signal hook at start-up stays: the shutdown work never runs on Lambda.
    assert!(lines.contains(&("process-lifecycle", 10)), "{served:#?}");
    assert!(!lines.contains(&("process-lifecycle", 15)), "{served:#?}");
    let spawn = served
        .iter()
        .find(|h| h.code == "background-task" && h.line == 6)
        .unwrap_or_else(|| panic!("{served:#?}"));
    assert!(spawn.message.contains("while the app starts"), "{spawn:?}");
    // Without entry points every finding stays as the lint wrote it.
    let all: Vec<(&str, u32)> = run(&fixture)
        .iter()
        .map(|h| (h.code, h.line))
        .collect::<Vec<_>>();
    assert!(all.contains(&("process-lifecycle", 15)), "{all:?}");
}

/// A flag only start-up code sets (from the command line) is the same on
/// every instance; a counter requests change is not.
#[test]
fn a_static_only_start_up_changes_is_not_global_state() {
    let fixture = format!(
        "{MANIFEST}{}",
        r#"
//- /src/main.rs
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use axum::{routing::get, Router};
static SKIP_VALIDATION: AtomicBool = AtomicBool::new(false);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
fn parse_args() {
    if std::env::args().any(|a| a == "-v") {
        SKIP_VALIDATION.store(true, Ordering::Relaxed);
    }
}
async fn create() -> String {
    if SKIP_VALIDATION.load(Ordering::Relaxed) {
        return String::new();
    }
    NEXT_ID.fetch_add(1, Ordering::Relaxed).to_string()
}
#[tokio::main]
async fn main() {
    parse_args();
    let app = Router::new().route("/items", get(create));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#
    );
    let served = run_with(&fixture, |defs| {
        crate::entrypoints::detect(defs).entrypoints
    });
    let items: Vec<&str> = served
        .iter()
        .filter(|h| h.code == "global-mutable-state")
        .map(|h| h.item.as_str())
        .collect();
    assert_eq!(items, vec!["app::NEXT_ID"], "{served:#?}");
    // Without entry points both are reported: nothing tells start-up apart.
    let all = run(&fixture)
        .iter()
        .filter(|h| h.code == "global-mutable-state")
        .count();
    assert_eq!(all, 2);
}

/// A method call the call graph cannot pin to one fn (two workspace types
/// have the method, the receiver's type is hidden) may run either: the
/// served app's scope keeps both.
#[test]
fn code_behind_an_unresolved_method_call_stays_in_scope() {
    let fixture = format!(
        "{MANIFEST}{}",
        r#"
//- /src/main.rs
use axum::{routing::post, Router};
pub struct Relay;
pub struct Mailer;
impl Relay {
    pub fn send_update(&self) {
        tokio::spawn(async {});
    }
}
impl Mailer {
    pub fn send_update(&self) {}
}
async fn save() {
    let notify = external::notifier();
    notify.send_update();
}
#[tokio::main]
async fn main() {
    let app = Router::new().route("/save", post(save));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#
    );
    let served = run_with(&fixture, |defs| {
        crate::entrypoints::detect(defs).entrypoints
    });
    assert!(
        served
            .iter()
            .any(|h| h.code == "background-task" && h.item == "app::Relay::send_update"),
        "{served:#?}"
    );
}

/// A serving `main` that is also a CLI: what its subcommands that do not
/// serve run (a `match` arm beside the serving one, an `if let` block that
/// returns before the server is built) is not the served app, whether the
/// code sits in `main` or in a fn only that arm calls; the serving arm's and
/// the shared start-up's are kept.
#[test]
fn subcommands_of_a_serving_main_that_do_not_serve_are_left_out() {
    let fixture = format!(
        "{MANIFEST}{}",
        r#"
//- /src/main.rs
use axum::{routing::post, Router};
enum Command {
    GenApi { output: Option<String> },
    Migrate,
    Revert { id: String },
    InitConfig { output: String },
}
struct Args {
    command: Option<Command>,
    db_url: String,
}
async fn upload() {
    std::fs::write("uploads/x", b"x").unwrap();
}
fn init_config(output: &str) {
    std::fs::write(output, "port = 3000").unwrap();
}
async fn migrate(db_url: &str) {
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(5).connect(db_url).await.unwrap();
    sqlx::migrate!().run(&pool).await.unwrap();
}
async fn run(args: Args) {
    std::fs::create_dir_all("data").unwrap();
    let app = Router::new().route("/upload", post(upload));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
fn parse() -> Args {
    todo!()
}
#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = parse();
    if let Some(Command::GenApi { output }) = &args.command {
        match output {
            Some(path) => std::fs::write(path, "{}")?,
            None => println!("{{}}"),
        }
        return Ok(());
    }
    match args.command {
        Some(Command::Migrate) => migrate(&args.db_url).await,
        Some(Command::Revert { id }) => {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(5)
                .connect(&args.db_url)
                .await
                .unwrap();
            let _ = (pool, id);
        }
        Some(Command::InitConfig { output }) => init_config(&output),
        Some(Command::GenApi { .. }) | None => run(args).await,
    }
    Ok(())
}
"#
    );
    let served: BTreeSet<(String, u32)> = run_with(&fixture, |defs| {
        crate::entrypoints::detect(defs).entrypoints
    })
    .iter()
    .map(|h| (h.code.to_owned(), h.line))
    .collect();
    let all: BTreeSet<(String, u32)> = run(&fixture)
        .iter()
        .map(|h| (h.code.to_owned(), h.line))
        .collect();
    // Without entry points every branch is reported.
    for cli in [
        ("local-filesystem", 16),
        ("connection-pool", 19),
        ("startup-work", 20),
        ("local-filesystem", 36),
        ("connection-pool", 44),
    ] {
        let cli = (cli.0.to_owned(), cli.1);
        assert!(all.contains(&cli), "{cli:?} in {all:?}");
        assert!(!served.contains(&cli), "{cli:?} in {served:?}");
    }
    // The serving arm's start-up and the routes' code stay.
    for kept in [("local-filesystem", 13), ("local-filesystem", 23)] {
        let kept = (kept.0.to_owned(), kept.1);
        assert!(served.contains(&kept), "{kept:?} not in {served:?}");
    }
}

/// A static's initializer runs when the served code first uses the static
/// (`static SETTINGS: LazyLock<Settings> = LazyLock::new(|| Settings::init())`,
/// read by a handler): what it calls is the served app's too.
#[test]
fn what_a_static_initializer_calls_is_in_scope() {
    let fixture = format!(
        "{MANIFEST}{}",
        r#"
//- /src/main.rs
use std::sync::LazyLock;
use axum::{routing::get, Router};
pub struct Settings {
    pub hostname: String,
}
impl Settings {
    fn init() -> Settings {
        let hostname = std::fs::read_to_string("config/config.hjson").unwrap();
        Settings { hostname }
    }
}
static SETTINGS: LazyLock<Settings> = LazyLock::new(|| Settings::init());
async fn site() -> String {
    SETTINGS.hostname.clone()
}
#[tokio::main]
async fn main() {
    let app = Router::new().route("/site", get(site));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#
    );
    let served = run_with(&fixture, |defs| {
        crate::entrypoints::detect(defs).entrypoints
    });
    let lines: Vec<(&str, u32)> = served.iter().map(|h| (h.code, h.line)).collect();
    assert!(lines.contains(&("local-filesystem", 8)), "{served:#?}");
}

/// Handlers reach a State-held hub through a type alias of the guard
/// (`type Notify<'a> = &'a State<Arc<WebSocketUsers>>`); what its methods
/// spawn runs for the request.
#[test]
fn methods_on_a_state_guard_behind_a_type_alias_are_in_scope() {
    let fixture = format!(
        "{MANIFEST}{}",
        r#"
//- /src/main.rs
mod notifications;
mod push;
use notifications::{Notify, WebSocketUsers};
use std::sync::Arc;
#[rocket::post("/ciphers")]
async fn post_cipher(nt: Notify<'_>) -> &'static str {
    nt.send_cipher_update(1).await;
    "ok"
}
#[rocket::main]
async fn main() {
    let _ = rocket::build()
        .manage(Arc::new(WebSocketUsers::default()))
        .mount("/api", rocket::routes![post_cipher])
        .launch()
        .await;
}
//- /src/notifications.rs
use std::sync::Arc;
use crate::push::push_cipher_update;
pub type Notify<'a> = &'a rocket::State<Arc<WebSocketUsers>>;
#[derive(Default)]
pub struct WebSocketUsers {
    count: u32,
}
impl WebSocketUsers {
    pub async fn send_cipher_update(&self, id: u32) {
        push_cipher_update(id).await;
    }
}
//- /src/push.rs
pub async fn push_cipher_update(id: u32) {
    tokio::task::spawn(send_to_push_relay(id));
}
async fn send_to_push_relay(_id: u32) {}
"#
    );
    let served = run_with(&fixture, |defs| {
        crate::entrypoints::detect(defs).entrypoints
    });
    let found: Vec<(&str, &str, u32)> = served
        .iter()
        .map(|h| (h.code, h.file.as_str(), h.line))
        .collect();
    assert!(
        found.contains(&("background-task", "src/push.rs", 2)),
        "{served:#?}"
    );
}
