//! Shapes from real code each lint must read right: what is and is not a
//! hazard when the code looks like one (caches, retries, signal waits, handles
//! a caller keeps, storage backends, code for another OS).

use super::*;

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
