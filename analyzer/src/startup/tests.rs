//! Startup tests: each binary's `main`, whether it serves, and the
//! arguments that make a CLI `main` serve, rendered one binary per line
//! (`crate main@line [serves] args=[..]@line foreign=item@line`).

use expect_test::{Expect, expect};

/// Analyses `fixture` (an axum + clap manifest is prepended unless the
/// fixture has one) and renders its binaries.
fn check(fixture: &str, expect: Expect) {
    let analysis = crate::testing::analyze(fixture, MANIFEST);
    let mut out = String::new();
    for (i, m) in analysis.mains.iter().enumerate() {
        let serves = if analysis.serving.contains(&i) {
            " serves"
        } else {
            ""
        };
        let args = match &m.serve_args {
            Some(a) => format!(" args={:?}@{}:{}", a.args, a.file, a.line),
            None => String::new(),
        };
        let foreign = match &m.foreign_server {
            Some((file, line, item)) => format!(" foreign={item}@{file}:{line}"),
            None => String::new(),
        };
        out.push_str(&format!(
            "{} {}:{}{serves}{args}{foreign}\n",
            m.krate, m.file, m.line
        ));
    }
    expect.assert_eq(&out);
}

const MANIFEST: &str = r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
tokio = "1"
clap = { version = "4", features = ["derive"] }
"#;

#[test]
fn a_subcommand_arm_that_serves_through_a_library_is_the_arguments() {
    check(
        r#"
//- /src/lib.rs
pub mod server {
    pub async fn run(port: u16) -> std::io::Result<()> {
        listen(port).await
    }
    async fn listen(port: u16) -> std::io::Result<()> {
        let l = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        axum::serve(l, axum::Router::new()).await
    }
}
pub fn migrate() {}
//- /src/main.rs
use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Migrate,
    CreateKey { owner: String },
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    port: u16,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    match Cli::parse().command {
        Command::Migrate => app::migrate(),
        Command::CreateKey { owner } => println!("{owner}"),
        Command::Serve(args) => {
            app::server::run(args.port).await?;
        }
    }
    Ok(())
}
"#,
        expect![[r#"
            app src/main.rs:22 serves args=["serve"]@src/main.rs:27
        "#]],
    );
}

#[test]
fn a_renamed_nested_subcommand_in_a_fn_main_calls_appends() {
    // `main` only blocks on `run`, which dispatches; the serving variant
    // is renamed and holds a nested subcommand enum.
    check(
        r#"
//- /src/main.rs
use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    #[command(name = "http")]
    HttpApi(Http),
    PrintSpec,
}

#[derive(Subcommand)]
enum Http {
    CheckConfig,
    StartServer,
}

async fn serve() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, axum::Router::new()).await.unwrap();
}

async fn run(cli: Cli) {
    match cli.cmd {
        Some(Cmd::HttpApi(http)) => match http {
            Http::CheckConfig => println!("ok"),
            Http::StartServer => serve().await,
        },
        Some(Cmd::PrintSpec) => println!("{{}}"),
        None => println!("usage"),
    }
}

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(run(Cli::parse()));
}
"#,
        expect![[r#"
            app src/main.rs:38 serves args=["http", "start-server"]@src/main.rs:31
        "#]],
    );
}

#[test]
fn a_server_started_without_a_subcommand_needs_no_arguments() {
    // The `None` arm serves (calagopus's shape); a plain `main` serves too.
    check(
        r#"
//- /src/main.rs
use clap::{Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    Version,
    Diagnostics,
}

async fn serve() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, axum::Router::new()).await.unwrap();
}

#[tokio::main]
async fn main() {
    match Cli::parse().cmd {
        Some(Cmd::Version) => println!("1"),
        Some(Cmd::Diagnostics) => println!("ok"),
        None => serve().await,
    }
}
//- /src/bin/plain.rs
#[tokio::main]
async fn main() {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, axum::Router::new()).await.unwrap();
}
"#,
        expect![[r#"
            app src/main.rs:21 serves
            plain src/bin/plain.rs:2 serves
        "#]],
    );
}

#[test]
fn a_match_whose_every_arm_serves_is_no_dispatch() {
    // Both arms serve (a flag picks TLS or not): no arguments to choose.
    check(
        r#"
//- /src/main.rs
async fn serve(tls: bool) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let _ = tls;
    axum::serve(l, axum::Router::new()).await.unwrap();
}

#[derive(clap::Subcommand)]
enum Mode {
    Plain,
    Tls,
}

#[tokio::main]
async fn main() {
    let mode = Mode::Plain;
    match mode {
        Mode::Plain => serve(false).await,
        Mode::Tls => serve(true).await,
    }
}
"#,
        expect![[r#"
            app src/main.rs:14 serves
        "#]],
    );
}

#[test]
fn a_server_the_shim_does_not_mirror_is_named() {
    // `api` serves only through hyper 0.14's own `Server`; `both` also
    // through `axum::serve` (hyper behind a flag), which the shim mirrors.
    check(
        r#"
//- /src/lib.rs
pub async fn plain(app: axum::Router) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, app).await.unwrap();
}
pub async fn bare(app: axum::Router) {
    let addr = "127.0.0.1:0".parse().unwrap();
    hyper::Server::bind(&addr).serve(app.into_make_service()).await.unwrap();
}
//- /src/bin/api.rs
#[tokio::main]
async fn main() {
    app::bare(axum::Router::new()).await;
}
//- /src/bin/both.rs
#[tokio::main]
async fn main() {
    if std::env::var_os("BARE").is_some() {
        app::bare(axum::Router::new()).await;
    } else {
        app::plain(axum::Router::new()).await;
    }
}
"#,
        expect![[r#"
            api src/bin/api.rs:2 serves foreign=hyper::Server@src/lib.rs:5
            both src/bin/both.rs:2 serves
        "#]],
    );
}

/// A hand-written accept loop handing each connection to hyper 1's
/// `serve_connection` (an axum router as the service) starts a server the
/// shim does not mirror: the binary reaching it serves, and says with what.
#[test]
fn a_hyper_accept_loop_serves_and_is_named() {
    check(
        r#"
//- /src/lib.rs
pub async fn run_hyper_server(app: axum::Router) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let builder = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
    let service = hyper_util::service::TowerToHyperService::new(app.into_service());
    loop {
        let (stream, _) = l.accept().await.unwrap();
        let _ = builder
            .serve_connection(hyper_util::rt::TokioIo::new(stream), service.clone())
            .await;
    }
}
//- /src/bin/server.rs
#[tokio::main]
async fn main() {
    app::run_hyper_server(axum::Router::new()).await;
}
//- /src/bin/bench.rs
fn main() {}
"#,
        expect![[r#"
            bench src/bin/bench.rs:1
            server src/bin/server.rs:2 serves foreign=hyper::serve_connection@src/lib.rs:1
        "#]],
    );
}

#[test]
fn axum_server_starts_are_mirrored() {
    // `tls` awaits `bind_rustls(..).serve(..)`; `admin` spawns a server made
    // from a bound listener, with a handle kept to shut it down.
    check(
        r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
axum = "0.8"
axum-server = { version = "0.8", features = ["tls-rustls"] }
tokio = "1"
//- /src/lib.rs
use axum_server::tls_rustls::RustlsConfig;

pub async fn tls(app: axum::Router, config: RustlsConfig) -> std::io::Result<()> {
    let addr = std::net::SocketAddr::from(([0, 0, 0, 0], 8443));
    axum_server::bind_rustls(addr, config)
        .serve(app.into_make_service())
        .await
}

pub struct Admin {
    handle: axum_server::Handle<std::net::SocketAddr>,
}

impl Admin {
    pub fn start(app: axum::Router) -> std::io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let handle = axum_server::Handle::new();
        let server = axum_server::from_tcp(listener)?;
        tokio::spawn(
            server
                .handle(handle.clone())
                .serve(app.into_make_service_with_connect_info::<std::net::SocketAddr>()),
        );
        Ok(Self { handle })
    }
}
//- /src/bin/tls.rs
#[tokio::main]
async fn main() {
    let config = todo!();
    app::tls(axum::Router::new(), config).await.unwrap();
}
//- /src/bin/admin.rs
#[tokio::main]
async fn main() {
    let _admin = app::Admin::start(axum::Router::new()).unwrap();
    tokio::signal::ctrl_c().await.unwrap();
}
//- /src/bin/tool.rs
fn main() {
    println!("no server");
}
"#,
        expect![[r#"
            admin src/bin/admin.rs:2 serves
            tls src/bin/tls.rs:2 serves
            tool src/bin/tool.rs:1
        "#]],
    );
}

#[test]
fn clap_spells_variants_in_kebab_case() {
    let words: Vec<String> = ["Serve", "CreateKey", "GenAPI", "V2Import", "HTTPServer"]
        .iter()
        .map(|w| super::kebab(w))
        .collect();
    assert_eq!(
        words,
        ["serve", "create-key", "gen-api", "v2-import", "http-server"]
    );
}

/// `main` hands the command line to a framework outside the workspace,
/// which parses it and runs the chosen subcommand's trait method through a
/// derive: the one variant whose type's method serves is the arguments,
/// and that method is where `main`'s reach continues.
#[test]
fn a_subcommand_dispatched_by_an_outside_framework_is_found_by_its_type() {
    check(
        r#"
//- /src/main.rs
fn main() {
    runner::boot(&app::APP);
}
//- /src/lib.rs
pub static APP: runner::Cell<Entry> = runner::Cell::new();

#[derive(clap::Parser, Debug)]
pub struct Entry {
    #[command(subcommand)]
    cmd: Cmd,
    #[arg(short)]
    verbose: bool,
}

#[derive(clap::Subcommand, Debug, runner::Runnable)]
pub enum Cmd {
    Users(UsersCmd),
    #[command(name = "start")]
    StartServer(ServeCmd),
}

#[derive(clap::Parser, Debug)]
pub struct UsersCmd;
#[derive(clap::Parser, Debug)]
pub struct ServeCmd;

impl runner::Runnable for UsersCmd {
    fn run(&self) {
        println!("users");
    }
}

impl runner::Runnable for ServeCmd {
    fn run(&self) {
        runner::block_on(self.serve());
    }
}

impl ServeCmd {
    async fn serve(&self) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
        axum::serve(l, axum::Router::new()).await.unwrap();
    }
}
"#,
        expect![[r#"
            app src/main.rs:1 serves args=["start"]@src/lib.rs:30
        "#]],
    );
}

/// Two serving subcommands, or none: cleave cannot tell, so no arguments.
#[test]
fn two_serving_subcommands_dispatched_outside_are_left_alone() {
    check(
        r#"
//- /src/main.rs
fn main() {
    runner::boot(&app::APP);
}
//- /src/lib.rs
#[derive(clap::Parser, Debug)]
pub enum Cmd {
    Api(Api),
    Admin(Admin),
}
pub struct Api;
pub struct Admin;
impl runner::Runnable for Api {
    fn run(&self) {
        serve()
    }
}
impl runner::Runnable for Admin {
    fn run(&self) {
        serve()
    }
}
fn serve() {
    let _ = axum::serve(std_listener(), axum::Router::new());
}
fn std_listener() -> tokio::net::TcpListener {
    todo!()
}
"#,
        expect![[r#"
            app src/main.rs:1
        "#]],
    );
}

/// Two `main`s under opposite cfgs of a feature the package declares off:
/// the binary's `main` is the one the build compiles.
#[test]
fn of_two_mains_under_opposite_cfgs_the_built_one_is_main() {
    check(
        r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"

[features]
uring = []

[dependencies]
axum = "0.8"
tokio = "1"
//- /src/lib.rs
pub struct Config;
impl Config {
    pub fn load() -> std::io::Result<Self> { Ok(Config) }
    pub async fn run(self) -> std::io::Result<()> {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        axum::serve(l, axum::Router::new()).await
    }
}
//- /src/main.rs
#[cfg(feature = "uring")]
fn main() -> std::io::Result<()> {
    uring_rt::block_on(async move { app::Config::load()?.run().await })
}

#[cfg(not(feature = "uring"))]
fn main() -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move { app::Config::load()?.run().await })
}
"#,
        expect![[r#"
            app src/main.rs:7 serves
        "#]],
    );
}

/// A fn that serves, appended to each `main` of the tests below.
const SERVE: &str = r#"
fn serve() {
    let _ = axum::serve(listener(), axum::Router::new());
}
fn listener() -> tokio::net::TcpListener {
    todo!()
}
"#;

/// The `cli-arguments` warnings of an analysis (`main` then [`SERVE`]), one per line.
fn cli_warnings(main: &str) -> String {
    let fixture = format!("{main}{SERVE}");
    let analysis = crate::testing::analyze(&fixture, MANIFEST);
    analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == "cli-arguments")
        .map(|d| format!("{d}\n"))
        .collect()
}

/// clap's builder API (`Some(("start", m))`) and a derive dispatch where
/// two subcommands serve: cleave cannot choose the arguments, and says so
/// at the first serving arm; one derive subcommand that serves needs no
/// warning (its arguments are in the plan).
#[test]
fn serving_under_a_dispatch_cleave_cannot_read_is_a_warning() {
    let builder = cli_warnings(
        r#"
//- /src/main.rs
fn main() {
    let matches = clap::Command::new("app").get_matches();
    match matches.subcommand() {
        Some(("start", _)) => serve(),
        Some(("migrate", _)) => println!("migrated"),
        _ => unreachable!(),
    }
}
"#,
    );
    expect![[r#"
        warning[cli-arguments]: src/main.rs:4: `app` starts its server under a command-line dispatch cleave cannot read into arguments (several subcommands serve, or clap's builder API); Lambda starts each function with no arguments: set `args = [..]` in cleave.toml
    "#]]
    .assert_eq(&builder);
    let two = cli_warnings(
        r#"
//- /src/main.rs
#[derive(clap::Parser)]
enum Cmd {
    Api,
    Init,
    Migrate,
}
fn main() {
    match <Cmd as clap::Parser>::parse() {
        Cmd::Api => serve(),
        Cmd::Init => serve(),
        Cmd::Migrate => println!("migrated"),
    }
}
"#,
    );
    expect![[r#"
        warning[cli-arguments]: src/main.rs:9: `app` starts its server under a command-line dispatch cleave cannot read into arguments (several subcommands serve, or clap's builder API); Lambda starts each function with no arguments: set `args = [..]` in cleave.toml
    "#]]
    .assert_eq(&two);
    let one = cli_warnings(
        r#"
//- /src/main.rs
#[derive(clap::Parser)]
enum Cmd {
    Api,
    Migrate,
}
fn main() {
    match <Cmd as clap::Parser>::parse() {
        Cmd::Api => serve(),
        Cmd::Migrate => println!("migrated"),
    }
}
"#,
    );
    assert_eq!(one, "");
}

/// Arms calling fns of one name in different modules: only the arm whose
/// call resolves to the serving fn serves (`tools::run` is not `server::run`).
#[test]
fn an_arm_serves_by_the_fn_its_call_resolves_to_not_by_its_name() {
    check(
        r#"
//- /src/main.rs
#[derive(clap::Parser)]
enum Cmd {
    Serve,
    Bootstrap,
}
mod server {
    pub fn run() {
        let _ = axum::serve(listener(), axum::Router::new());
    }
    fn listener() -> tokio::net::TcpListener {
        todo!()
    }
}
mod tools {
    pub fn run() {
        println!("bootstrapped");
    }
}
fn main() {
    match <Cmd as clap::Parser>::parse() {
        Cmd::Bootstrap => tools::run(),
        Cmd::Serve => server::run(),
    }
}
"#,
        expect![[r#"
            app src/main.rs:19 serves args=["serve"]@src/main.rs:22
        "#]],
    );
}
