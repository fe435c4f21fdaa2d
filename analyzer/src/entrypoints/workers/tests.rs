use expect_test::{Expect, expect};

use crate::entrypoints::{Detection, EntryKind, detect};
use crate::resolve::DefMap;
use crate::testing::write_fixture;

/// Workers and schedules as sorted one-line facts:
/// `worker handler (at file:line) @registered-file:line`, plus `! diagnostic`.
fn render(found: &Detection, with_diagnostics: bool) -> String {
    let mut lines: Vec<String> = found
        .entrypoints
        .iter()
        .filter(|e| e.kind != EntryKind::Http)
        .map(|e| {
            format!(
                "{} (at {}:{}) @{}:{}",
                e.route(),
                e.at.file,
                e.at.line,
                e.registered.file,
                e.registered.line
            )
        })
        .collect();
    if with_diagnostics {
        for d in &found.diagnostics {
            lines.push(format!("! {d}"));
        }
    }
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

fn check(fixture: &str, expect: Expect) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), fixture);
    let project = crate::load(dir.path()).expect("load");
    let defs = DefMap::build(&project);
    expect.assert_eq(&render(&detect(&defs), true));
}

const MANIFEST: &str = "//- /Cargo.toml\n[package]\nname = \"app\"\nversion = \"0.1.0\"\n\
     edition = \"2021\"\n[dependencies]\ntokio = \"1\"\nactix-web = \"4\"\n";

/// A package with a lib (`src/lib.rs`) and a bin (`src/main.rs`).
fn app(lib: &str, main: &str) -> String {
    format!("{MANIFEST}//- /src/lib.rs\n{lib}\n//- /src/main.rs\n{main}")
}

const JOBS: &str = r#"
pub mod jobs {
    pub async fn sweep(every: std::time::Duration) {
        let mut ticker = tokio::time::interval(every);
        loop {
            ticker.tick().await;
            purge().await;
        }
    }
    pub async fn purge() {}
    pub async fn send_mail() {}
}
pub async fn serve() {}
"#;

#[test]
fn spawned_workspace_fn_with_interval_loop_is_a_schedule() {
    check(
        &app(
            JOBS,
            r#"
#[tokio::main]
async fn main() {
    tokio::spawn(app::jobs::sweep(std::time::Duration::from_secs(60)));
    tokio::task::spawn(app::jobs::send_mail());
    app::serve().await;
}
"#,
        ),
        expect![[r#"
            schedule app::jobs::sweep (at src/lib.rs:3) @src/main.rs:4
            worker app::jobs::send_mail (at src/lib.rs:11) @src/main.rs:5
        "#]],
    );
}

#[test]
fn async_block_calling_one_fn_names_that_fn() {
    check(
        &app(
            JOBS,
            r#"
use std::time::Duration;
#[tokio::main]
async fn main() {
    let every = Duration::from_secs(5);
    tokio::spawn(async move { app::jobs::sweep(every).await });
    tokio::spawn(async move {
        app::jobs::purge().await;
        app::jobs::send_mail().await;
    });
}
"#,
        ),
        expect![[r#"
            schedule app::jobs::sweep (at src/lib.rs:3) @src/main.rs:6
            worker app::main::{closure} (at src/main.rs:7) @src/main.rs:7
        "#]],
    );
}

#[test]
fn imported_spawn_paths_resolve_through_use() {
    check(
        &app(
            JOBS,
            r#"
use actix_web::rt;
use tokio::spawn;
use tokio::task::spawn_blocking as blocking;
#[actix_web::main]
async fn main() {
    rt::spawn(async move {
        let mut tick = rt::time::interval(std::time::Duration::from_secs(60));
        loop {
            tick.tick().await;
            eprintln!("tick");
        }
    });
    spawn(app::jobs::purge());
    blocking(|| std::fs::remove_file("x"));
}
"#,
        ),
        expect![[r#"
            schedule app::main::{closure} (at src/main.rs:7) @src/main.rs:7
            worker app::jobs::purge (at src/lib.rs:10) @src/main.rs:14
            worker app::main::{closure} (at src/main.rs:15) @src/main.rs:15
        "#]],
    );
}

#[test]
fn threads_and_runtime_handles() {
    check(
        &app(
            JOBS,
            r#"
fn main() {
    std::thread::spawn(|| {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(app::jobs::send_mail());
    });
    std::thread::Builder::new()
        .name("mailer".into())
        .spawn(move || loop { std::thread::sleep(std::time::Duration::from_secs(1)); })
        .unwrap();
    let handle = tokio::runtime::Handle::current();
    handle.spawn(app::jobs::purge());
}
"#,
        ),
        expect![[r#"
            schedule app::main::{closure} (at src/main.rs:9) @src/main.rs:9
            worker app::jobs::purge (at src/lib.rs:10) @src/main.rs:12
            worker app::jobs::send_mail (at src/lib.rs:11) @src/main.rs:3
        "#]],
    );
}

#[test]
fn spawns_two_calls_deep_are_found_three_are_not() {
    check(
        &app(
            r#"
pub async fn run() { start_jobs(); }
fn start_jobs() {
    tokio::spawn(jobs::mail());
    deeper();
}
fn deeper() { tokio::spawn(jobs::too_deep()); }
pub mod jobs {
    pub async fn mail() {}
    pub async fn too_deep() {}
}
"#,
            r#"
#[tokio::main]
async fn main() { app::run().await }
"#,
        ),
        expect![[r#"
            worker app::jobs::mail (at src/lib.rs:9) @src/lib.rs:4
        "#]],
    );
}

#[test]
fn spawns_outside_main_and_in_request_handlers_are_not_workers() {
    check(
        r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
[dependencies]
tokio = "1"
//- /src/lib.rs
pub async fn handler() {
    tokio::spawn(audit());
}
async fn audit() {}
pub fn never_called() {
    tokio::spawn(audit());
}
"#,
        expect![[""]],
    );
}

#[test]
fn select_and_join_arms_beside_the_server() {
    check(
        &app(
            JOBS,
            r#"
#[tokio::main]
async fn main() {
    let server = axum::serve(listener(), router());
    let mail = tokio::spawn(app::jobs::send_mail());
    tokio::select! {
        res = server => { report(res) }
        _ = app::jobs::purge() => {}
        _ = mail => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tokio::join!(
        axum::serve(listener(), router()),
        async { loop { tokio::time::sleep(std::time::Duration::from_secs(1)).await; app::jobs::purge().await; } },
    );
    tokio::join!(app::jobs::send_mail(), app::jobs::purge());
}
fn report<T>(_: T) {}
fn listener() {}
fn router() {}
"#,
        ),
        expect![[r#"
            schedule app::jobs::purge (at src/lib.rs:10) @src/main.rs:12
            worker app::jobs::purge (at src/lib.rs:10) @src/main.rs:8
            worker app::jobs::send_mail (at src/lib.rs:11) @src/main.rs:5
        "#]],
    );
}

#[test]
fn spawned_servers_are_not_workers() {
    check(
        &app(
            JOBS,
            r#"
async fn run_http() {
    axum::serve(listener(), router()).await;
}
fn listener() {}
fn router() {}
#[actix_web::main]
async fn main() {
    let srv = actix_web::HttpServer::new(|| actix_web::App::new()).bind("0:80").unwrap().run();
    tokio::spawn(srv);
    tokio::spawn(run_http());
    tokio::spawn(async move { axum::serve(listener(), router()).await });
    tokio::spawn(app::jobs::purge());
}
"#,
        ),
        expect![[r#"
            worker app::jobs::purge (at src/lib.rs:10) @src/main.rs:13
        "#]],
    );
}

#[test]
fn spawns_per_connection_and_per_item_are_reported() {
    check(
        &app(
            JOBS,
            r#"
async fn handle(_s: ()) {}
#[tokio::main]
async fn main() {
    let listener = tokio::net::TcpListener::bind("0:80").await.unwrap();
    for shard in 0..4 {
        tokio::spawn(app::jobs::purge());
    }
    loop {
        let (socket, _) = listener.accept().await.unwrap();
        tokio::spawn(handle(socket));
    }
}
"#,
        ),
        expect![[r#"
            ! warning[custom-server]: src/main.rs:9: `app::main` accepts connections in a loop and spawns a task for each (line 11): a hand-written server whose routes cleave cannot see; its tasks are not listed as workers
            ! warning[dynamic-worker]: src/main.rs:7: work is spawned inside a loop (line 6): each iteration starts another task; cleave lists this spawn once
            worker app::jobs::purge (at src/lib.rs:10) @src/main.rs:7
        "#]],
    );
}

#[test]
fn interval_loop_run_by_main_itself_is_a_schedule() {
    check(
        &app(
            JOBS,
            r#"
#[tokio::main]
async fn main() {
    let conn = loop {
        match connect().await {
            Ok(c) => break c,
            Err(_) => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
        }
    };
    let mut ticker = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        ticker.tick().await;
        app::jobs::purge().await;
    }
}
async fn connect() -> Result<(), ()> { Ok(()) }
"#,
        ),
        expect![[r#"
            schedule app::main (at src/main.rs:3) @src/main.rs:11
        "#]],
    );
}

/// A `for` loop that sleeps between its items (a countdown before the
/// server starts, a bounded retry) runs its items, not a schedule.
#[test]
fn for_loops_that_sleep_between_items_are_not_schedules() {
    check(
        &app(
            JOBS,
            r#"
#[tokio::main]
async fn main() {
    for c in "3.. 2.. 1..".chars() {
        print!("{c}");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    tokio::spawn(async {
        for _attempt in 0..5 {
            app::jobs::purge().await;
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
    });
    app::serve().await;
}
"#,
        ),
        expect![[r#"
            worker app::jobs::purge (at src/lib.rs:10) @src/main.rs:8
        "#]],
    );
}

#[test]
fn rocket_liftoff_fairings_start_workers() {
    check(
        &format!(
            "//- /Cargo.toml\n[package]\nname = \"app\"\nversion = \"0.1.0\"\n\
             edition = \"2021\"\n[dependencies]\ntokio = \"1\"\nrocket = \"0.5\"\n{}",
            r#"
//- /src/main.rs
#[macro_use] extern crate rocket;
use rocket::fairing::{AdHoc, Fairing, Info, Kind};
use std::time::Duration;

mod sessions { pub async fn delete_expired(db: &Db) -> Result<u64, ()> { Ok(0) } }
async fn warm_cache(r: &rocket::Rocket<rocket::Orbit>) { tokio::spawn(refresh()); }
async fn refresh() {}

pub struct SessionCleanup;
#[rocket::async_trait]
impl Fairing for SessionCleanup {
    fn info(&self) -> Info { Info { name: "cleanup", kind: Kind::Liftoff } }
    async fn on_liftoff(&self, rocket: &rocket::Rocket<rocket::Orbit>) {
        let db = rocket.state::<Db>().unwrap().clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(Duration::from_secs(3600));
            loop {
                interval.tick().await;
                let _ = sessions::delete_expired(&db).await;
            }
        });
    }
}

#[get("/")] fn index() {}

#[launch]
fn rocket() -> _ {
    rocket::build()
        .attach(SessionCleanup)
        .attach(AdHoc::on_liftoff("cache", warm_cache))
        .mount("/", routes![index])
}
"#
        ),
        expect![[r#"
            schedule app::sessions::delete_expired (at src/main.rs:5) @src/main.rs:15
            worker app::refresh (at src/main.rs:7) @src/main.rs:6
        "#]],
    );
}

#[test]
fn a_workspace_fn_named_spawn_is_not_a_runtime_spawn() {
    check(
        &app(
            "pub fn spawn<F>(_f: F) {}\npub async fn job() {}",
            r#"
use app::spawn;
fn main() {
    spawn(app::job());
}
"#,
        ),
        expect![[""]],
    );
}

/// Runs the whole detector registry on a bundled fixture; returns its workers.
fn fixture_workers(name: &str) -> String {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name);
    let project = crate::load(&root).expect("load fixture");
    let defs = DefMap::build(&project);
    render(&detect(&defs), false)
}

#[test]
fn golden_shop_axum_sweep_job() {
    // `main` spawns `jobs::cart_expiry_sweep`, a `tokio::time::interval` loop.
    expect![[r#"
        schedule shop::jobs::cart_expiry_sweep (at src/jobs.rs:11) @src/main.rs:20
    "#]]
    .assert_eq(&fixture_workers("shop-axum"));
}

#[test]
fn golden_forum_actix_housekeeping() {
    // `rt::spawn(async move { .. interval .. worker_state.housekeeping() .. })`
    // after `use actix_web::{rt, ..}`: one workspace fn is called in the loop.
    expect![[r#"
        schedule forum_http::state::AppState::housekeeping (at crates/forum-http/src/state.rs:47) @crates/forum-server/src/main.rs:22
    "#]]
    .assert_eq(&fixture_workers("forum-actix"));
}

#[test]
fn golden_notes_rocket_heartbeat_job() {
    // `start_jobs` hands a job_scheduler_ng job calling `jobs::write_heartbeat`
    // to a scheduler a thread ticks: the job is the worker, the tick loop none.
    expect![[r#"
        schedule notes::jobs::write_heartbeat (at src/jobs.rs:9) @src/main.rs:26
    "#]]
    .assert_eq(&fixture_workers("notes-rocket"));
}

/// What each schedule does per round, one line each: schedule, pace,
/// gate lines or why none.
fn check_work(fixture: &str, expect: Expect) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), fixture);
    let project = crate::load(dir.path()).expect("load");
    let defs = DefMap::build(&project);
    let found = detect(&defs);
    let mut lines: Vec<String> = found
        .works
        .iter()
        .map(|((handler, at), w)| {
            let how = match (&w.gate, &w.blocked) {
                (None, None) if w.job.is_some() => {
                    let j = w.job.as_ref().expect("job");
                    format!(
                        "job {}:{} pace {}@{}#{} -> {} closure {}@{}#{}",
                        j.file,
                        j.line,
                        j.pace.call,
                        j.pace.line,
                        j.pace.index,
                        j.driven,
                        j.closure.call,
                        j.closure.line,
                        j.closure.index
                    )
                }
                (Some(g), _) => format!(
                    "gate {}:{} first {} wait {}-{}{}",
                    g.file,
                    g.loop_line,
                    g.first,
                    g.wait.0,
                    g.wait.1,
                    if g.awaits { "" } else { " blocking" }
                ),
                (None, Some(why)) => format!("blocked: {why}"),
                (None, None) => "neither".to_owned(),
            };
            format!(
                "{handler} @{}:{} {} every {:?} {how}",
                at.file, at.line, w.schedule, w.every_s
            )
        })
        .collect();
    lines.sort();
    expect.assert_eq(&lines.iter().map(|l| format!("{l}\n")).collect::<String>());
}

#[test]
fn a_loops_pace_becomes_a_rate_and_its_wait_a_gate() {
    check_work(
        &app(
            r#"
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
pub async fn sweep() {
    let mut ticker = tokio::time::interval(EVERY);
    loop {
        ticker.tick().await;
        purge().await;
    }
}
pub async fn poll_queue() {
    loop {
        while take_one().await {}
        tokio::time::sleep(std::time::Duration::from_secs(20)).await;
    }
}
pub fn blocking_reaper() {
    loop {
        purge_now();
        std::thread::sleep(std::time::Duration::from_millis(90_000));
    }
}
pub async fn purge() {}
pub fn purge_now() {}
pub async fn take_one() -> bool { false }
"#,
            r#"
#[tokio::main]
async fn main() {
    tokio::spawn(app::sweep());
    tokio::spawn(app::poll_queue());
    std::thread::spawn(|| app::blocking_reaper());
    axum::serve(listener, router).await.unwrap();
}
"#,
        ),
        expect![[r#"
            app::blocking_reaper @src/main.rs:6 rate(2 minutes) every Some(90) gate src/lib.rs:17 first 18 wait 19-19 blocking
            app::poll_queue @src/main.rs:5 rate(1 minute) every Some(20) gate src/lib.rs:11 first 12 wait 13-13
            app::sweep @src/main.rs:4 rate(1 hour) every Some(3600) gate src/lib.rs:5 first 6 wait 6-6
        "#]],
    );
}

#[test]
fn state_carried_between_rounds_or_a_wait_in_a_select_rules_a_function_out() {
    check_work(
        &app(
            r#"
pub async fn since_last(every: std::time::Duration) {
    let mut last = 0;
    let mut ticker = tokio::time::interval(every);
    loop {
        ticker.tick().await;
        last = export_after(last).await;
    }
}
pub async fn raced(every: std::time::Duration) {
    let mut ticker = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = ticker.tick() => purge().await,
        }
    }
}
pub async fn export_after(n: u64) -> u64 { n }
pub async fn purge() {}
"#,
            r#"
#[tokio::main]
async fn main() {
    tokio::spawn(app::since_last(std::time::Duration::from_secs(60)));
    tokio::spawn(app::raced(std::time::Duration::from_secs(60)));
    axum::serve(listener, router).await.unwrap();
}
"#,
        ),
        expect![[r#"
            app::raced @src/main.rs:5 rate(5 minutes) every None blocked: the loop waits inside an expression (a `select!`, a `match`), not in a statement of its own, so cleave cannot take over its pace (src/lib.rs:12)
            app::since_last @src/main.rs:4 rate(5 minutes) every None blocked: the loop carries `last` from one round to the next (src/lib.rs:7); a function starts afresh on each cold start, so it would lose it
        "#]],
    );
}

/// A package with tokio, and the scheduler crates of these tests.
fn jobs_app(lib: &str, main: &str) -> String {
    format!(
        "//- /Cargo.toml\n[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
         [dependencies]\ntokio = \"1\"\naxum = \"0.7\"\nactix = \"0.13\"\n\
         tokio-cron-scheduler = \"0.13\"\njob_scheduler_ng = \"2\"\nclokwerk = \"0.4\"\n\
         //- /src/lib.rs\n{lib}\n//- /src/main.rs\n{main}"
    )
}

const TASKS: &str = r#"
pub mod tasks {
    pub async fn purge_expired(pool: &Pool) {}
    pub async fn send_digest(pool: &Pool) {}
    pub fn rotate_logs() {}
    pub fn refresh_rates() {}
}
pub struct Pool;
"#;

#[test]
fn tokio_cron_scheduler_jobs_are_schedules_with_their_cron_converted() {
    let main = r#"
use std::time::Duration;
use tokio_cron_scheduler::{Job, JobScheduler};

const NIGHTLY: &str = "0 30 3 * * *";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let pool = app::Pool;
    let sched = JobScheduler::new().await?;
    let p = pool.clone();
    sched
        .add(Job::new_async("0 */5 * * * *", move |_uuid, _l| {
            let p = p.clone();
            Box::pin(async move {
                app::tasks::purge_expired(&p).await;
            })
        })?)
        .await?;
    let digest = Job::new_async(NIGHTLY, move |_uuid, _l| {
        let pool = pool.clone();
        Box::pin(async move {
            app::tasks::send_digest(&pool).await;
        })
    })?;
    sched.add(digest).await?;
    sched.add(Job::new_repeated(Duration::from_secs(600), |_uuid, _l| {
        app::tasks::rotate_logs();
    })?).await?;
    sched.add(Job::new("*/10 * * * * *", |_uuid, _l| {
        app::tasks::refresh_rates();
    })?).await?;
    let mut runs = 0;
    sched.add(Job::new("0 0 * * * *", move |_uuid, _l| {
        runs += 1;
        println!("{runs}");
    })?).await?;
    sched.start().await?;
    axum::serve(listener, router).await?;
    Ok(())
}
"#;
    check(
        &jobs_app(TASKS, main),
        expect![[r#"
            schedule app::main::{closure} (at src/main.rs:34) @src/main.rs:34
            schedule app::tasks::purge_expired (at src/lib.rs:3) @src/main.rs:13
            schedule app::tasks::refresh_rates (at src/lib.rs:6) @src/main.rs:30
            schedule app::tasks::rotate_logs (at src/lib.rs:5) @src/main.rs:27
            schedule app::tasks::send_digest (at src/lib.rs:4) @src/main.rs:20
        "#]],
    );
    check_work(
        &jobs_app(TASKS, main),
        expect![[r#"
            app::main::{closure} @src/main.rs:34 cron(0 * * * ? *) every None blocked: the job keeps `runs` from one run to the next (src/main.rs:34); a function starts afresh on each cold start, so it would lose it
            app::tasks::purge_expired @src/main.rs:13 cron(0/5 * * * ? *) every None job src/main.rs:13 pace new_async@13#0 -> ::cleave_lambda::every_second() closure new_async@13#1
            app::tasks::refresh_rates @src/main.rs:30 rate(5 minutes) every None blocked: `*/10 * * * * *` runs more than once a minute (seconds `*/10`); EventBridge schedules whole minutes at best (src/main.rs:30)
            app::tasks::rotate_logs @src/main.rs:27 rate(10 minutes) every Some(600) job src/main.rs:27 pace new_repeated@27#0 -> ::std::time::Duration::from_secs(1) closure new_repeated@27#1
            app::tasks::send_digest @src/main.rs:20 cron(30 3 * * ? *) every None job src/main.rs:20 pace new_async@20#0 -> ::cleave_lambda::every_second() closure new_async@20#1
        "#]],
    );
}

#[test]
fn job_scheduler_jobs_are_schedules_and_its_tick_loop_is_none() {
    let main = r#"
use std::str::FromStr;
use std::time::Duration;
use job_scheduler_ng::{Job, JobScheduler, Schedule};

fn main() {
    let mut sched = JobScheduler::new();
    sched.add(Job::new("0 15 2 * * Mon-Fri".parse().unwrap(), || {
        app::tasks::rotate_logs();
    }));
    let hourly = Schedule::from_str("0 0 * * * *").unwrap();
    sched.add(Job::new(hourly, move || app::tasks::refresh_rates()));
    loop {
        sched.tick();
        std::thread::sleep(Duration::from_millis(500));
    }
}
"#;
    check(
        &jobs_app(TASKS, main),
        expect![[r#"
            schedule app::tasks::refresh_rates (at src/lib.rs:6) @src/main.rs:12
            schedule app::tasks::rotate_logs (at src/lib.rs:5) @src/main.rs:8
        "#]],
    );
    check_work(
        &jobs_app(TASKS, main),
        expect![[r#"
        app::tasks::refresh_rates @src/main.rs:12 cron(0 * * * ? *) every None job src/main.rs:12 pace new@12#0 -> "* * * * * *".parse().unwrap() closure new@12#1
        app::tasks::rotate_logs @src/main.rs:8 cron(15 2 ? * MON-FRI *) every None job src/main.rs:8 pace new@8#0 -> "* * * * * *".parse().unwrap() closure new@8#1
    "#]],
    );
}

#[test]
fn clokwerk_intervals_are_rates_and_times_of_day_crons() {
    let main = r#"
use clokwerk::{AsyncScheduler, Job, Scheduler, TimeUnits};
use clokwerk::Interval::*;
use std::time::Duration;

#[tokio::main]
async fn main() {
    let pool = app::Pool;
    let mut scheduler = Scheduler::new();
    scheduler.every(10.minutes()).run(|| app::tasks::rotate_logs());
    scheduler
        .every(1.day())
        .at("3:20 pm")
        .run(|| app::tasks::refresh_rates());
    let _thread = scheduler.watch_thread(Duration::from_millis(100));
    let mut jobs = AsyncScheduler::new();
    jobs.every(Tuesday).at("7:00").run(move || {
        let pool = pool.clone();
        async move { app::tasks::send_digest(&pool).await }
    });
    tokio::spawn(async move {
        loop {
            jobs.run_pending().await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    axum::serve(listener, router).await.unwrap();
}
"#;
    check(
        &jobs_app(TASKS, main),
        expect![[r#"
            schedule app::tasks::refresh_rates (at src/lib.rs:6) @src/main.rs:12
            schedule app::tasks::rotate_logs (at src/lib.rs:5) @src/main.rs:10
            schedule app::tasks::send_digest (at src/lib.rs:4) @src/main.rs:17
        "#]],
    );
    check_work(
        &jobs_app(TASKS, main),
        expect![[r#"
        app::tasks::refresh_rates @src/main.rs:12 cron(20 15 * * ? *) every None blocked: clokwerk's `.at(..)` times the job itself, so a worker function cannot take over its pace; keep it in a service or write the job with an interval only (src/main.rs:12)
        app::tasks::rotate_logs @src/main.rs:10 rate(10 minutes) every Some(600) job src/main.rs:10 pace every@10#0 -> ::clokwerk::Interval::Seconds(1) closure run@10#0
        app::tasks::send_digest @src/main.rs:17 cron(0 7 ? * TUE *) every None blocked: clokwerk's `.at(..)` times the job itself, so a worker function cannot take over its pace; keep it in a service or write the job with an interval only (src/main.rs:17)
    "#]],
    );
}

#[test]
fn actix_run_interval_in_a_started_actor_is_a_schedule() {
    let lib = r#"
use std::time::Duration;
use actix::prelude::*;

const EVERY: Duration = Duration::from_secs(3600);

pub struct Janitor { pub pool: Pool }
pub struct Pool;
impl Actor for Janitor {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(EVERY, |act, _ctx| {
            act.sweep();
        });
    }
}
impl Janitor {
    fn sweep(&self) {}
}

/// A per-connection actor, started by a route: its heartbeat is no worker.
pub struct Session;
impl Actor for Session {
    type Context = Context<Self>;
    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(Duration::from_secs(5), |_act, _ctx| {});
    }
}
"#;
    let main = r#"
#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let _janitor = app::Janitor { pool: app::Pool }.start();
    HttpServer::new(|| App::new()).bind(("0.0.0.0", 8080))?.run().await
}
"#;
    check(
        &jobs_app(lib, main),
        expect![[r#"
            schedule app::Janitor::sweep (at src/lib.rs:18) @src/lib.rs:12
        "#]],
    );
    check_work(
        &jobs_app(lib, main),
        expect![[r#"
        app::Janitor::sweep @src/lib.rs:12 rate(1 hour) every Some(3600) job src/lib.rs:12 pace run_interval@12#0 -> ::std::time::Duration::from_secs(1) closure run_interval@12#1
    "#]],
    );
}

#[test]
fn jobs_of_a_scheduler_run_in_a_spawned_fn_or_thread_are_found_and_spawning_jobs_left_out() {
    let lib = r#"
use clokwerk::{AsyncScheduler, TimeUnits};
pub mod tasks {
    pub async fn purge_expired(pool: &super::Pool) {}
    pub async fn send_digest(pool: &super::Pool) {}
}
#[derive(Clone)]
pub struct Pool;

pub async fn setup(pool: Pool) {
    let mut scheduler = AsyncScheduler::new();
    scheduler.every(TimeUnits::minutes(10)).run(move || {
        let pool = pool.clone();
        async move {
            tasks::purge_expired(&pool).await;
        }
    });
    loop {
        scheduler.run_pending().await;
        tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    }
}

pub fn schedule_jobs(pool: Pool) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    std::thread::Builder::new()
        .name("job-scheduler".to_owned())
        .spawn(move || {
            use job_scheduler_ng::{Job, JobScheduler};
            let mut sched = JobScheduler::new();
            sched.add(Job::new("0 0 4 * * *".parse().unwrap(), || {
                runtime.spawn(tasks::send_digest(&pool));
            }));
            loop {
                sched.tick();
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
        })
        .expect("scheduler thread");
}
"#;
    let main = r#"
#[tokio::main]
async fn main() {
    let pool = app::Pool;
    let _tasks = tokio::task::spawn(app::setup(pool.clone()));
    app::schedule_jobs(pool);
    axum::serve(listener, router).await.unwrap();
}
"#;
    check(
        &jobs_app(lib, main),
        expect![[r#"
        schedule app::tasks::purge_expired (at src/lib.rs:4) @src/lib.rs:12
        schedule app::tasks::send_digest (at src/lib.rs:5) @src/lib.rs:31
    "#]],
    );
    check_work(
        &jobs_app(lib, main),
        expect![[r#"
        app::tasks::purge_expired @src/lib.rs:12 rate(10 minutes) every Some(600) job src/lib.rs:12 pace every@12#0 -> ::clokwerk::Interval::Seconds(1) closure run@12#0
        app::tasks::send_digest @src/lib.rs:31 cron(0 4 * * ? *) every None blocked: the job spawns its work as a task of its own, which an invocation would not wait for; await or call the work in the job instead (src/lib.rs:31)
    "#]],
    );
}
