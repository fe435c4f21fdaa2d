//! Config tests: each discovery shape in a small app, the variables
//! rendered one per line (`NAME need [secret] [build-time] <- reads; by`).

use expect_test::{Expect, expect};

/// Analyses `fixture` (a `Cargo.toml` for an axum app is prepended unless
/// the fixture has one) and compares its variables with `expect`.
fn check(fixture: &str, expect: Expect) {
    let analysis = crate::testing::analyze(fixture, MANIFEST);
    let mut out = String::new();
    for v in &analysis.config {
        let need = match (&v.required, &v.default) {
            (true, _) => "required".to_owned(),
            (false, Some(d)) => format!("default={d:?}"),
            (false, None) => "optional".to_owned(),
        };
        let reads: Vec<String> = v
            .reads
            .iter()
            .map(|r| format!("{}:{} {}", r.file, r.line, r.how))
            .collect();
        let mut by: Vec<String> = v.entrypoints.clone();
        if v.startup {
            by.insert(0, "startup".to_owned());
        }
        out.push_str(&format!(
            "{} {need}{}{} <- {}; by {}\n",
            v.name,
            if v.secret { " secret" } else { "" },
            if v.build_time { " build-time" } else { "" },
            reads.join(", "),
            by.join(", ")
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
dotenvy = "0.15"
envy = "0.4"
config = "0.14"
clap = { version = "4", features = ["derive", "env"] }
serde = "1"
"#;

#[test]
fn std_env_var_with_defaults_and_requirements() {
    check(
        r#"
//- /src/main.rs
use std::env;
use axum::{Router, routing::get};

const SECRET_VAR: &str = "SESSION_SECRET";
const DEFAULT_PORT: u16 = 8080;

#[tokio::main]
async fn main() {
    let url = env::var("DATABASE_URL").expect("DATABASE_URL must be set");
    let port: u16 = env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(DEFAULT_PORT);
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".to_string());
    let secret = env::var(SECRET_VAR).unwrap();
    let origin = match env::var("FRONTEND_ORIGIN") {
        Ok(o) => o,
        Err(_) => String::from("http://localhost:3000"),
    };
    let app = Router::new().route("/orders", get(orders));
    let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await.unwrap();
    axum::serve(listener, app).await.unwrap();
    let _ = (url, secret, origin);
}

async fn orders() -> String {
    if let Ok(flag) = env::var("ORDERS_BETA") {
        return flag;
    }
    let _key = std::env::var_os("STRIPE_API_KEY").map(|k| k.len()).unwrap_or_default();
    "[]".to_owned()
}
"#,
        expect![[r#"
            DATABASE_URL required secret <- src/main.rs:9 std::env::var; by startup
            FRONTEND_ORIGIN default="http://localhost:3000" <- src/main.rs:13 std::env::var; by startup
            HOST default="127.0.0.1" <- src/main.rs:11 std::env::var; by startup
            ORDERS_BETA optional <- src/main.rs:24 std::env::var; by GET /orders
            PORT default="8080" <- src/main.rs:10 std::env::var; by startup
            SESSION_SECRET required secret <- src/main.rs:12 std::env::var; by startup
            STRIPE_API_KEY optional secret <- src/main.rs:27 std::env::var_os; by GET /orders
        "#]],
    );
}

#[test]
fn helper_fns_that_take_the_name_and_the_default() {
    check(
        r#"
//- /src/main.rs
use axum::{Router, routing::get};
use std::time::Duration;

mod config;

#[tokio::main]
async fn main() {
    let cfg = config::Config::from_env();
    let app = Router::new().route("/health", get(health));
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", cfg.port)).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}

async fn health() -> &'static str {
    "ok"
}
//- /src/config.rs
use std::time::Duration;

pub struct Config {
    pub database_url: String,
    pub port: u16,
    pub ttl: Duration,
    pub admin_password: String,
}

impl Config {
    pub fn from_env() -> Self {
        Self {
            database_url: env_or("DATABASE_URL", "sqlite:shop.db?mode=rwc"),
            port: env_or("PORT", "3000").parse().unwrap_or(3000),
            ttl: secs_from_env("CART_TTL_SECS", 24 * 60 * 60),
            admin_password: required("ADMIN_PASSWORD"),
        }
    }
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key).unwrap_or_else(|_| default.to_string())
}

fn secs_from_env(key: &str, default: u64) -> Duration {
    let secs = std::env::var(key)
        .ok()
        .and_then(|raw| raw.parse().ok())
        .unwrap_or(default);
    Duration::from_secs(secs)
}

fn required(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}
"#,
        expect![[r#"
            ADMIN_PASSWORD required secret <- src/config.rs:16 std::env::var in `required`; by startup
            CART_TTL_SECS default="86400" <- src/config.rs:15 std::env::var in `secs_from_env`; by startup
            DATABASE_URL default="sqlite:shop.db?mode=rwc" secret <- src/config.rs:13 std::env::var in `env_or`; by startup
            PORT default="3000" <- src/config.rs:14 std::env::var in `env_or`; by startup
        "#]],
    );
}

#[test]
fn dotenv_files_and_cargo_config_env() {
    check(
        r#"
//- /src/main.rs
use axum::{Router, routing::get};

#[tokio::main]
async fn main() {
    dotenvy::dotenv().ok();
    let url = std::env::var("DATABASE_URL").expect("set DATABASE_URL");
    let app = Router::new().route("/", get(|| async { "hi" }));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
    let _ = url;
}
//- /.env
# local development
DATABASE_URL=postgres://localhost/app
export RUST_LOG="info,app=debug"
JWT_SECRET=
//- /.env.example
DATABASE_URL=postgres://user:pass@host/db
SMTP_HOST=smtp.example.com # the relay
//- /.env.test
TEST_ONLY=1
//- /.cargo/config.toml
[env]
APP_ENV = "development"
ASSETS_DIR = { value = "assets", relative = true }
"#,
        expect![[r#"
            APP_ENV default="development" <- .cargo/config.toml:2 [env] in .cargo/config.toml; by startup
            ASSETS_DIR default="assets" <- .cargo/config.toml:3 [env] in .cargo/config.toml; by startup
            DATABASE_URL required secret <- .env:2 .env, .env.example:1 .env.example, src/main.rs:6 std::env::var; by startup
            JWT_SECRET required secret <- .env:4 .env; by startup
            RUST_LOG default="info,app=debug" <- .env:3 .env; by startup
            SMTP_HOST default="smtp.example.com" <- .env.example:2 .env.example; by startup
        "#]],
    );
}

#[test]
fn dotenv_file_without_a_dotenv_call_is_not_read() {
    check(
        r#"
//- /src/main.rs
use axum::{Router, routing::get};

#[tokio::main]
async fn main() {
    let app = Router::new().route("/", get(|| async { "hi" }));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
//- /.env
DATABASE_URL=postgres://localhost/app
"#,
        expect![""],
    );
}

#[test]
fn envy_structs_with_and_without_prefix() {
    check(
        r#"
//- /src/main.rs
use axum::{Router, routing::get};
use serde::Deserialize;

#[derive(Deserialize)]
struct Settings {
    database_url: String,
    #[serde(default)]
    workers: usize,
    sentry_dsn: Option<String>,
}

#[derive(Deserialize)]
struct Mail {
    host: String,
    #[serde(rename = "pass")]
    password: String,
}

fn mail() -> Result<Mail, envy::Error> {
    envy::prefixed("SMTP_").from_env::<Mail>()
}

#[tokio::main]
async fn main() {
    let settings: Settings = envy::from_env().expect("configuration");
    let _ = mail().unwrap();
    let app = Router::new().route("/", get(|| async { "hi" }));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
    let _ = settings.database_url;
}
"#,
        expect![[r#"
            DATABASE_URL required secret <- src/main.rs:25 envy; by startup
            SENTRY_DSN optional secret <- src/main.rs:25 envy; by startup
            SMTP_HOST required <- src/main.rs:20 envy; by startup
            SMTP_PASS required secret <- src/main.rs:20 envy; by startup
            WORKERS optional <- src/main.rs:25 envy; by startup
        "#]],
    );
}

#[test]
fn config_crate_environment_with_prefix_and_separator() {
    check(
        r#"
//- /src/main.rs
use axum::{Router, routing::get};
use config::{Config, Environment, File};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub application: ApplicationSettings,
}

#[derive(Deserialize)]
pub struct DatabaseSettings {
    pub username: String,
    pub password: String,
    pub port: u16,
}

#[derive(Deserialize)]
pub struct ApplicationSettings {
    pub port: u16,
    pub base_url: String,
}

pub fn get_configuration() -> Result<Settings, config::ConfigError> {
    let settings = Config::builder()
        .add_source(File::with_name("configuration/base"))
        .add_source(
            Environment::with_prefix("APP")
                .prefix_separator("_")
                .separator("__"),
        )
        .build()?;
    settings.try_deserialize::<Settings>()
}

fn flat() -> Result<ApplicationSettings, config::ConfigError> {
    let c = Config::builder().add_source(Environment::with_prefix("WEB")).build()?;
    c.try_deserialize()
}

fn opaque() {
    let _ = Config::builder().add_source(Environment::with_prefix("EXTRA")).build();
}

#[tokio::main]
async fn main() {
    let settings = get_configuration().expect("configuration");
    let _ = flat();
    opaque();
    let app = Router::new().route("/", get(|| async { "hi" }));
    let listener = tokio::net::TcpListener::bind(("0.0.0.0", settings.application.port)).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#,
        expect![[r#"
            APP_APPLICATION__BASE_URL optional <- src/main.rs:28 config::Environment; by startup
            APP_APPLICATION__PORT optional <- src/main.rs:28 config::Environment; by startup
            APP_DATABASE__PASSWORD optional secret <- src/main.rs:28 config::Environment; by startup
            APP_DATABASE__PORT optional <- src/main.rs:28 config::Environment; by startup
            APP_DATABASE__USERNAME optional <- src/main.rs:28 config::Environment; by startup
            EXTRA_* optional <- src/main.rs:42 config::Environment; by startup
            WEB_BASE_URL optional <- src/main.rs:37 config::Environment; by startup
            WEB_PORT optional <- src/main.rs:37 config::Environment; by startup
        "#]],
    );
}

#[test]
fn clap_env_attributes_and_compile_time_reads() {
    check(
        r#"
//- /src/main.rs
use axum::{Router, routing::get};
use clap::Parser;

#[derive(Parser)]
struct Cli {
    /// Where to listen.
    #[arg(long, env = "LISTEN_ADDR", default_value = "0.0.0.0:8080")]
    listen: String,
    #[arg(long, env)]
    database_url: String,
    #[clap(long, env = "API_TOKEN")]
    api_token: Option<String>,
    #[arg(long)]
    verbose: bool,
}

const BUILD: &str = env!("GIT_COMMIT");
pub const DATA_DIR: Option<&str> = option_env!("APP_COMPTIME_DATA_DIR");

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let app = Router::new().route("/version", get(version));
    let listener = tokio::net::TcpListener::bind(cli.listen.as_str()).await.unwrap();
    axum::serve(listener, app).await.unwrap();
}

async fn version() -> String {
    let channel = option_env!("RELEASE_CHANNEL").unwrap_or("stable");
    format!("{} {} {} {:?}", env!("CARGO_PKG_VERSION"), BUILD, channel, DATA_DIR)
}
"#,
        expect![[r#"
            API_TOKEN optional secret <- src/main.rs:11 clap `Cli::api_token`; by startup
            APP_COMPTIME_DATA_DIR optional build-time <- src/main.rs:18 option_env!; by GET /version
            DATABASE_URL required secret <- src/main.rs:9 clap `Cli::database_url`; by startup
            GIT_COMMIT required build-time <- src/main.rs:17 env!; by GET /version
            LISTEN_ADDR default="0.0.0.0:8080" <- src/main.rs:7 clap `Cli::listen`; by startup
            RELEASE_CHANNEL default="stable" build-time <- src/main.rs:29 option_env!; by GET /version
        "#]],
    );
}

#[test]
fn reads_the_served_app_never_runs_are_left_out() {
    check(
        r#"
//- /src/main.rs
use axum::{Router, routing::get};

#[tokio::main]
async fn main() {
    let app = Router::new().route("/", get(index));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}

async fn index() -> String {
    std::env::var("GREETING").unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads() {
        let _ = std::env::var("TEST_DATABASE_URL");
    }
}
//- /src/bin/seed.rs
fn main() {
    let _ = std::env::var("SEED_FILE").unwrap();
}
"#,
        expect![[r#"
            GREETING optional <- src/main.rs:11 std::env::var; by GET /
        "#]],
    );
}

#[test]
fn clap_env_attributes_of_a_subcommands_arguments() {
    // `main` names only `Cli` and `Command`; the serving subcommand's own
    // argument struct is parsed from the same tree.
    check(
        r#"
//- /src/main.rs
use axum::{Router, routing::get};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Serve(ServeArgs),
    Migrate,
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, env = "ADMIN_TOKEN", default_value = "change-me")]
    admin_token: String,
    #[arg(long, env = "PORT", default_value_t = 3000)]
    port: u16,
}

async fn index() -> &'static str {
    "hi"
}

#[tokio::main]
async fn main() {
    match Cli::parse().command {
        Command::Serve(args) => {
            let _ = (args.admin_token, args.port);
            let app = Router::new().route("/", get(index));
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            axum::serve(l, app).await.unwrap();
        }
        Command::Migrate => {}
    }
}
"#,
        expect![[r#"
            ADMIN_TOKEN default="change-me" secret <- src/main.rs:18 clap `ServeArgs::admin_token`; by startup
            PORT default="3000" <- src/main.rs:20 clap `ServeArgs::port`; by startup
        "#]],
    );
}
