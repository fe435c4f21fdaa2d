//! A rocket app in the shape of rocket's own examples: everything in
//! `src/main.rs`, no library, and no `main` — a `#[launch] fn rocket() -> _`
//! instead. `cleave generate` must turn it into functions that build and
//! keep to their routes with the source left as written: the binary becomes
//! a library whose `main` is the one `#[launch]` generates (and expands to
//! `rocket::async_main`, the server shim's), run by each function's `main`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const MAIN_RS: &str = r#"#[macro_use]
extern crate rocket;

use rocket::State;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Hits(AtomicUsize);

#[get("/")]
fn index(hits: &State<Hits>) -> String {
    let n = hits.0.fetch_add(1, Ordering::Relaxed) + 1;
    format!("hello, visit {n}")
}

#[get("/hello/<name>/<age>")]
fn hello(name: &str, age: u8) -> String {
    format!("{name} is {age}")
}

#[post("/echo", data = "<body>")]
fn echo(body: String) -> String {
    body
}

#[launch]
async fn rocket() -> _ {
    rocket::build()
        .manage(Hits(AtomicUsize::new(0)))
        .mount("/", routes![index, hello])
        .mount("/api", routes![echo])
}
"#;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn cleave(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cleave"))
        .args(args)
        .output()
        .expect("cleave runs")
}

/// The app, with the rocket fixture's lockfile so that the shared target
/// directory already holds its dependencies.
fn write_app(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"hello-rocket\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [dependencies]\nrocket = { version = \"0.5\", features = [\"json\"] }\n\n[workspace]\n",
    )
    .expect("manifest");
    std::fs::write(dir.join("src/main.rs"), MAIN_RS).expect("main.rs");
    std::fs::copy(
        repo().join("fixtures/notes-rocket/Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .expect("lockfile");
}

fn generate(app: &Path, root: &Path) -> PathBuf {
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
    ws
}

#[test]
fn a_launch_fn_stays_as_written_and_every_function_runs_its_main() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    write_app(&app);
    let ws = generate(&app, tmp.path());
    let functions: Vec<String> = std::fs::read_dir(ws.join("functions"))
        .expect("functions/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(functions.len(), 3, "one function per route: {functions:?}");
    let lib = std::fs::read_to_string(ws.join("crates/hello-rocket-main/src/main.rs"))
        .expect("the binary's modules, once");
    assert!(lib.starts_with(MAIN_RS), "{lib}");
    assert!(
        lib.contains("pub fn __cleave_main() -> impl ::std::process::Termination {\n    main()\n}"),
        "{lib}"
    );
    for f in &functions {
        let main = std::fs::read_to_string(ws.join("functions").join(f).join("src/main.rs"))
            .expect("main.rs");
        assert!(
            main.contains("::hello_rocket::__cleave_main()"),
            "{f}:\n{main}"
        );
    }
    let manifest =
        std::fs::read_to_string(ws.join("crates/hello-rocket-main/Cargo.toml")).expect("manifest");
    assert!(
        manifest.contains("rocket = { package = \"cleave-lambda-rocket\", path = \"../cleave-lambda-rocket\", features = [\"json\"] }"),
        "{manifest}"
    );
    let migration = std::fs::read_to_string(ws.join("MIGRATION.md")).expect("MIGRATION.md");
    assert!(
        migration.contains("`src/main.rs:")
            && migration.contains("appended `pub fn __cleave_main()"),
        "{migration}"
    );
}

/// Builds one function and checks it answers its own route like the app and
/// 404s a route another function owns.
#[test]
fn the_generated_function_builds_and_keeps_to_its_routes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = tmp.path().join("app");
    write_app(&app);
    let ws = generate(&app, tmp.path());
    let plan = std::fs::read_to_string(tmp.path().join("plan.toml")).expect("plan");
    let owner = |route: &str| -> String {
        let mut name = String::new();
        for line in plan.lines() {
            if let Some(n) = line.strip_prefix("name = \"") {
                name = n.trim_end_matches('"').to_owned();
            }
            if line.contains(&format!("\"{route}\"")) {
                return name;
            }
        }
        panic!("no function owns {route}:\n{plan}");
    };
    let function = owner("GET /hello/{name}/{age}");
    assert_ne!(function, owner("GET /"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tmp.path().join("target"));
    let status = Command::new(env!("CARGO"))
        .args(["build", "--quiet", "-p", &function])
        .current_dir(&ws)
        .env("CARGO_TARGET_DIR", &target)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build -p {function} failed");
    let port = free_port();
    // The function listens where the app does: this app reads rocket's own
    // configuration (`ROCKET_PORT`), not `PORT`.
    let server = Server(
        Command::new(target.join("debug").join(&function))
            .env("ROCKET_PORT", port.to_string())
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the function starts"),
    );
    wait_for(port);
    let (status, body) = get(port, "/hello/ada/36");
    assert_eq!(status, 200, "{body}");
    assert!(body.ends_with("ada is 36"), "{body}");
    let (status, _) = get(port, "/");
    assert_eq!(status, 404, "`GET /` belongs to another function");
    drop(server);
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
