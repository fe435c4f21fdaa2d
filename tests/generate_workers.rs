//! Scheduled workers end to end: each fixture's interval loop becomes a
//! function of its own, which `cargo lambda watch` runs and `cargo lambda
//! invoke` drives with EventBridge's scheduled-event sample from the
//! `aws_lambda_events` crate; each invocation runs one round of the loop,
//! after the monolith's own start-up.
//!
//! shop-axum: `cart-expiry-sweep` deletes the carts of its SQLite database
//! idle longer than `CART_TTL_SECS`: a stale row written between two
//! invocations is gone after the second, a fresh one stays. forum-actix
//! keeps its state in memory: each invocation's round prints its
//! housekeeping line once. notes-rocket's `write-heartbeat` is a
//! job_scheduler_ng cron job (`0 */5 * * * *`, EventBridge's
//! `cron(0/5 * * * ? *)`) appending a line to a file: one line per event,
//! none between events. The plan, `template.yaml` and MIGRATION.md list
//! each worker with its schedule and its loop's or job's `file:line`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use support::{
    E2e, Proc, analyze, cargo_lambda, free_port, generate, parse_plan_workers, parse_yaml,
    progress, read, repo, reset_dir, tail, template_functions,
};

const TEST: &str = "workers";

/// EventBridge's scheduled event, as the `aws_lambda_events` crate ships
/// it among its test fixtures (its source is in cargo's registry once the
/// generated workspace is built).
fn scheduled_event() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME");
    let mut found: Vec<PathBuf> = std::fs::read_dir(home.join("registry/src"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|index| {
            std::fs::read_dir(index.path())
                .into_iter()
                .flatten()
                .flatten()
        })
        .filter(|c| {
            c.file_name()
                .to_string_lossy()
                .starts_with("aws_lambda_events-")
        })
        .map(|c| {
            c.path()
                .join("src/fixtures/example-eventbridge-schedule.json")
        })
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found
        .pop()
        .expect("aws_lambda_events' example-eventbridge-schedule.json in cargo's registry")
}

/// A generated workspace with its worker built, and the plan's workers.
fn prepare(e2e: &E2e, fixture: &str, worker: &str) -> (PathBuf, Vec<(String, String)>) {
    let dir = e2e.root.join(fixture);
    reset_dir(&dir);
    let plan = dir.join("cleave.toml");
    analyze(&repo().join("fixtures").join(fixture), &plan);
    let workers = parse_plan_workers(&read(&plan));
    let ws = dir.join("gen");
    generate(&repo().join("fixtures").join(fixture), &plan, &ws, None);
    progress(TEST, &format!("{fixture}: building `{worker}`"));
    e2e.build(
        e2e.cargo().args(["build", "-p", worker]).current_dir(&ws),
        fixture,
        &[worker],
    );
    (ws, workers)
}

/// `cargo lambda watch` on the workspace, with the app's variables.
fn watch(e2e: &E2e, ws: &Path, env: &[(&str, String)]) -> (Proc, u16) {
    let port = free_port();
    let mut command = Command::new(cargo_lambda());
    command
        .args([
            "lambda",
            "watch",
            "-A",
            "127.0.0.1",
            "-P",
            &port.to_string(),
        ])
        .current_dir(ws)
        .env("CARGO_TARGET_DIR", &e2e.target)
        .env("CARGO", env!("CARGO"));
    for (k, v) in env {
        command.arg("--env-var").arg(format!("{k}={v}"));
    }
    let mut proc = Proc::spawn("cargo lambda watch", &mut command, &ws.join("watch.log"));
    proc.wait_until_listening(port);
    (proc, port)
}

/// One scheduled event to `function`; returns its answer.
fn invoke(watch: &Proc, port: u16, function: &str) -> String {
    let out = Command::new(cargo_lambda())
        .args([
            "lambda",
            "invoke",
            function,
            "--invoke-address",
            "127.0.0.1",
        ])
        .args(["--invoke-port", &port.to_string(), "--data-file"])
        .arg(scheduled_event())
        .output()
        .expect("cargo lambda invoke runs");
    assert!(
        out.status.success(),
        "invoke {function} failed: {}\n{}\nwatch:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        watch.log_tail(40)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The worker's function in `template.yaml`: its one event, a schedule.
fn check_template(ws: &Path, name: &str, schedule: &str) {
    let functions = template_functions(&parse_yaml(&read(&ws.join("template.yaml"))));
    let f = functions
        .get(name)
        .unwrap_or_else(|| panic!("template.yaml has no function `{name}`"));
    let events = f["Properties"]["Events"].as_hash().expect("events");
    assert_eq!(events.len(), 1, "{name}: {events:?}");
    let event = &f["Properties"]["Events"]["Schedule"];
    assert_eq!(event["Type"].as_str(), Some("Schedule"));
    assert_eq!(event["Properties"]["Schedule"].as_str(), Some(schedule));
}

fn sqlite(db: &Path, sql: &str) -> String {
    let out = Command::new("sqlite3")
        .arg(db)
        .arg(sql)
        .output()
        .expect("the sqlite3 command-line tool (apt-get install sqlite3)");
    assert!(
        out.status.success(),
        "sqlite3 {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn shop_cart_sweep_deletes_stale_carts_one_round_per_event() {
    let e2e = E2e::new(TEST);
    let (ws, workers) = prepare(&e2e, "shop-axum", "cart-expiry-sweep");
    assert_eq!(
        workers,
        [("cart-expiry-sweep".to_owned(), "rate(5 minutes)".to_owned())]
    );
    check_template(&ws, "cart-expiry-sweep", "rate(5 minutes)");
    let migration = read(&ws.join("MIGRATION.md"));
    assert!(
        migration.contains("| `cart-expiry-sweep` | `rate(5 minutes)`")
            && migration.contains("`src/jobs.rs:14`"),
        "MIGRATION.md lists the worker with its schedule and loop:\n{}",
        tail(&migration, 40)
    );
    let db = ws.join("shop.db");
    let env = [
        ("DATABASE_URL", format!("sqlite:{}?mode=rwc", db.display())),
        ("UPLOAD_DIR", ws.join("uploads").display().to_string()),
        ("ADMIN_EMAIL", "admin@example.com".to_owned()),
        ("ADMIN_PASSWORD", "admin-password-1".to_owned()),
        ("CART_TTL_SECS", "600".to_owned()),
        ("PORT", free_port().to_string()),
    ];
    let (watch, port) = watch(&e2e, &ws, &env);
    // The first event starts the function: the monolith's start-up creates
    // the schema, then a round finds nothing to sweep.
    let answer = invoke(&watch, port, "cart-expiry-sweep");
    assert!(answer.contains("one round done"), "{answer}");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    sqlite(
        &db,
        &format!(
            "INSERT INTO carts (created_at, updated_at) VALUES ({old}, {old}), ({now}, {now});",
            old = now - 3600
        ),
    );
    assert_eq!(sqlite(&db, "SELECT COUNT(*) FROM carts;"), "2");
    let answer = invoke(&watch, port, "cart-expiry-sweep");
    assert!(answer.contains("one round done"), "{answer}");
    assert_eq!(
        sqlite(&db, "SELECT updated_at FROM carts;"),
        now.to_string(),
        "the round deleted the stale cart and kept the fresh one\n{}",
        watch.log_tail(30)
    );
}

#[test]
fn forum_housekeeping_runs_once_per_event() {
    let e2e = E2e::new(TEST);
    let (ws, workers) = prepare(&e2e, "forum-actix", "housekeeping");
    assert_eq!(
        workers,
        [("housekeeping".to_owned(), "rate(1 minute)".to_owned())]
    );
    check_template(&ws, "housekeeping", "rate(1 minute)");
    let env = [("PORT", free_port().to_string())];
    let (watch, port) = watch(&e2e, &ws, &env);
    let rounds = || {
        read(&watch.log)
            .lines()
            .filter(|l| l.starts_with("housekeeping: purged"))
            .count()
    };
    for round in 1..=2 {
        let answer = invoke(&watch, port, "housekeeping");
        assert!(answer.contains("one round done"), "{answer}");
        // The round printed its line before the loop was back at its gate;
        // `cargo lambda watch` relays it to its log.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while rounds() < round && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(rounds(), round, "{}", watch.log_tail(30));
    }
}

#[test]
fn notes_heartbeat_cron_job_runs_once_per_event() {
    let e2e = E2e::new(TEST);
    let (ws, workers) = prepare(&e2e, "notes-rocket", "write-heartbeat");
    assert_eq!(
        workers,
        [(
            "write-heartbeat".to_owned(),
            "cron(0/5 * * * ? *)".to_owned()
        )]
    );
    check_template(&ws, "write-heartbeat", "cron(0/5 * * * ? *)");
    let migration = read(&ws.join("MIGRATION.md"));
    assert!(
        migration.contains("| `write-heartbeat` | `cron(0/5 * * * ? *)` | `src/main.rs:26` |"),
        "MIGRATION.md lists the worker with its schedule and job:\n{}",
        tail(&migration, 40)
    );
    let beat = ws.join("heartbeat.log");
    let env = [
        ("NOTES_HEARTBEAT_FILE", beat.display().to_string()),
        ("PORT", free_port().to_string()),
    ];
    let (watch, port) = watch(&e2e, &ws, &env);
    let lines = || std::fs::read_to_string(&beat).map_or(0, |t| t.lines().count());
    for round in 1..=2 {
        let answer = invoke(&watch, port, "write-heartbeat");
        assert!(answer.contains("one round done"), "{answer}");
        // The event is answered when the job's run ends: its line is written.
        assert_eq!(lines(), round, "{}", watch.log_tail(30));
    }
    // Between events the scheduler looks for one every second and runs nothing.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(lines(), 2, "{}", watch.log_tail(30));
}
