//! Helpers of tests/generate_rocket.rs: where things live, child processes
//! that are always stopped (a `Drop` guard each, also while a test unwinds),
//! a small blocking HTTP/1.1 client, and a reader for the block-style YAML
//! that cleave writes to `template.yaml`. (Cargo also builds this file as
//! a test target of its own; its two tests run there too.)

use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target dir every build shares (`CARGO_TARGET_DIR`, else
/// `target/e2e`), and a directory for generated workspaces that is stable
/// per target dir: cargo hashes a path package's location into its artifact
/// names, so a fresh directory per run would leave a new set of binaries in
/// the target dir each time. Locked while a test uses it.
#[derive(Debug)]
pub struct E2e {
    pub target: PathBuf,
    pub root: PathBuf,
    _lock: File,
}

impl E2e {
    pub fn new(name: &str) -> Self {
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(dir) if Path::new(&dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => repo().join(dir),
            None => repo().join("target/e2e"),
        };
        let mut hasher = DefaultHasher::new();
        target.hash(&mut hasher);
        let root = std::env::temp_dir().join(format!("cleave-e2e-{name}-{:016x}", hasher.finish()));
        fs::create_dir_all(&root).expect("e2e dir");
        let lock = File::create(root.join(".lock")).expect("lock file");
        lock.lock().expect("lock the e2e dir");
        Self {
            target,
            root,
            _lock: lock,
        }
    }

    /// `cargo` with the shared target dir, passed explicitly.
    pub fn cargo(&self) -> Command {
        let mut cargo = Command::new(env!("CARGO"));
        cargo.env("CARGO_TARGET_DIR", &self.target);
        cargo
    }
}

pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind port 0");
    listener.local_addr().expect("local addr").port()
}

fn spawn_logged(command: &mut Command, log: &Path) -> Child {
    let out = File::create(log).expect("log file");
    let err = out.try_clone().expect("log file");
    command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {command:?}: {e}"))
}

/// Waits until `port` accepts connections; fails with the log if `child` exits first.
fn wait_until_listening(name: &str, child: &mut Child, port: u16, log: &Path, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        let log_tail = || tail(&fs::read_to_string(log).unwrap_or_default(), 40);
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{name} exited ({status}) before listening on {port}:\n{}",
                log_tail()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{name} did not listen on {port} within {within:?}:\n{}",
            log_tail()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A server process on 127.0.0.1:`port` (given as `PORT`), killed when dropped.
#[derive(Debug)]
pub struct Server {
    pub name: String,
    pub port: u16,
    pub log: PathBuf,
    child: Child,
}

impl Server {
    pub fn start(name: &str, binary: &Path, log: PathBuf) -> Self {
        let port = free_port();
        let mut command = Command::new(binary);
        command
            .env("PORT", port.to_string())
            .env("ROCKET_CLI_COLORS", "false")
            .env_remove("ROCKET_PORT")
            .env_remove("ROCKET_ADDRESS")
            .env_remove("AWS_LAMBDA_RUNTIME_API");
        let mut child = spawn_logged(&mut command, &log);
        wait_until_listening(name, &mut child, port, &log, Duration::from_secs(60));
        Self {
            name: name.to_owned(),
            port,
            log,
            child,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cargo lambda watch` and everything it started (cargo, the function
/// processes): SIGTERM first, then whatever is left is killed by pid.
#[derive(Debug)]
pub struct Watch {
    pub port: u16,
    pub log: PathBuf,
    child: Child,
}

impl Watch {
    pub fn start(cargo_lambda: &Path, ws: &Path, target: &Path, log: PathBuf) -> Self {
        let port = free_port();
        let mut command = Command::new(cargo_lambda);
        command
            .args([
                "lambda",
                "watch",
                "--ignore-changes",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .current_dir(ws)
            .env("CARGO_TARGET_DIR", target)
            .env("CARGO", env!("CARGO"))
            .env("ROCKET_CLI_COLORS", "false")
            .env_remove("PORT")
            .env_remove("AWS_LAMBDA_RUNTIME_API");
        let mut child = spawn_logged(&mut command, &log);
        wait_until_listening(
            "cargo lambda watch",
            &mut child,
            port,
            &log,
            Duration::from_secs(120),
        );
        Self { port, log, child }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let below = descendants(self.child.id());
        signal("TERM", self.child.id());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && matches!(self.child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(100));
        }
        for pid in below {
            if Path::new(&format!("/proc/{pid}")).exists() {
                signal("KILL", pid);
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn signal(name: &str, pid: u32) {
    let _ = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .stderr(Stdio::null())
        .status();
}

/// Every process below `root` (read from Linux `/proc`; elsewhere none).
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let after = stat
            .rfind(')')
            .map(|at| &stat[at + 1..])
            .unwrap_or_default();
        if let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = vec![root];
    let mut at = 0;
    while at < found.len() {
        let parent = found[at];
        for &(pid, ppid) in &parent_of {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
            }
        }
        at += 1;
    }
    found.split_off(1)
}

// ---------------------------------------------------------------------------
// HTTP/1.1, one request per connection

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Lower-case names, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

pub fn send(port: u16, request: &Request, timeout: Duration) -> io::Result<Reply> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        request.method,
        request.path,
        request.body.len()
    );
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(&request.body)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    parse_reply(&raw, request.method == "HEAD")
}

fn parse_reply(raw: &[u8], head_only: bool) -> io::Result<Reply> {
    let bad = |what: &str| io::Error::new(io::ErrorKind::InvalidData, what.to_owned());
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if head_only {
        Vec::new()
    } else if chunked {
        dechunk(rest).ok_or_else(|| bad("bad chunked body"))?
    } else {
        rest.to_vec()
    };
    Ok(Reply {
        status,
        headers,
        body,
    })
}

fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size_text = String::from_utf8_lossy(&rest[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

// ---------------------------------------------------------------------------
// template.yaml, as a plain tree.

#[path = "support/sam_yaml.rs"]
mod sam_yaml;
pub use sam_yaml::{Yaml, parse_yaml};

#[test]
fn yaml_reader_reads_what_cleave_writes() {
    let doc = parse_yaml(
        "# c\nA: \"x: y\"\nB:\n  C: 1\n  D:\n    - arm64\n  E:\n  - a\n\"F\": plain # note\n",
    );
    assert_eq!(doc.str_at(&["A"]), Some("x: y"));
    assert_eq!(doc.str_at(&["B", "C"]), Some("1"));
    assert_eq!(
        doc.at(&["B", "D"]),
        Some(&Yaml::List(vec![Yaml::Scalar("arm64".to_owned())]))
    );
    assert_eq!(
        doc.at(&["B", "E"]),
        Some(&Yaml::List(vec![Yaml::Scalar("a".to_owned())]))
    );
    assert_eq!(doc.str_at(&["F"]), Some("plain"));
}

#[test]
fn chunked_bodies_are_joined() {
    let reply = parse_reply(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        false,
    )
    .expect("parses");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"abcde");
}
