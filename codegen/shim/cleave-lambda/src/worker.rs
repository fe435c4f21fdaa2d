//! Scheduled workers: a worker function runs one round of one interval
//! loop of the app per EventBridge event.
//!
//! cleave edits the loop twice: [`gate`] (or [`gate_blocking`]) before the
//! first statement of its body, and the loop's own wait run only when
//! [`paced`] is false. Off Lambda both do nothing. On Lambda, in the
//! worker function named after the loop ([`init_worker`]), the gate waits
//! for the next event and tells the previous one that its round is done;
//! in every other function it never opens, so the loop no longer runs
//! beside requests. The worker function's app starts as everywhere, its
//! server serving nothing: the events reach the event loop that
//! [`init_worker`] starts on a thread of its own.
//!
//! A job of a scheduler library (tokio-cron-scheduler, job_scheduler,
//! clokwerk, actix's `run_interval`) has no loop to gate: its library calls
//! it. cleave wraps its pace in [`pace`] (every second in its worker
//! function on Lambda, its own elsewhere) and starts its work with
//! [`round`], which lets a run through only when an event waits there; the
//! event is answered when the run's [`Round`] drops.

use std::sync::OnceLock;

static WORKER: OnceLock<&'static str> = OnceLock::new();

/// Called by a worker function's `main` before the monolith's: this
/// function runs the loop `name`, one round per event.
pub fn init_worker(name: &'static str) {
    let _ = WORKER.set(name);
    #[cfg(feature = "native")]
    if crate::lambda_env() {
        rounds::start(name);
    }
}

/// The loop this function runs, when it is a worker function.
pub fn worker() -> Option<&'static str> {
    WORKER.get().copied()
}

#[derive(PartialEq)]
enum Role {
    /// Off Lambda: the loop runs at its own pace.
    Free,
    /// On Lambda, in another function: the loop never starts a round.
    Idle,
    /// On Lambda, in its worker function: one round per event.
    Driven,
}

fn role(name: &str) -> Role {
    if !crate::lambda_env() {
        Role::Free
    } else if worker() == Some(name) {
        Role::Driven
    } else {
        Role::Idle
    }
}

/// The first statement of each round of the loop `name`.
pub async fn gate(name: &str) {
    match role(name) {
        Role::Free => {}
        Role::Idle => std::future::pending::<()>().await,
        Role::Driven => {
            #[cfg(feature = "native")]
            rounds::next().await
        }
    }
}

/// [`gate`], for a loop on a thread of its own (`std::thread::sleep`).
pub fn gate_blocking(name: &str) {
    match role(name) {
        Role::Free => {}
        Role::Idle => loop {
            std::thread::park();
        },
        Role::Driven => {
            #[cfg(feature = "native")]
            rounds::next_blocking()
        }
    }
}

/// Whether the events pace the loop `name`, so that its own wait is skipped.
pub fn paced(name: &str) -> bool {
    role(name) == Role::Driven
}

/// The pace of the job `name`: `driven` (every second) in its worker
/// function on Lambda, so that its runs look for events often; else `own`.
pub fn pace<T>(name: &str, own: T, driven: T) -> T {
    if role(name) == Role::Driven {
        driven
    } else {
        own
    }
}

/// A cron expression that fires every second, in the type the job's own
/// expression has (`&str`, `String`, `&String`), for [`pace`]'s `driven`.
pub fn every_second<T: CronText>() -> T {
    T::every_second()
}

/// Types a scheduler library takes its cron expression as.
pub trait CronText {
    fn every_second() -> Self;
}

const EVERY_SECOND: &str = "* * * * * *";

impl CronText for &str {
    fn every_second() -> Self {
        EVERY_SECOND
    }
}

impl CronText for String {
    fn every_second() -> Self {
        EVERY_SECOND.to_owned()
    }
}

impl CronText for &String {
    fn every_second() -> Self {
        static TEXT: OnceLock<String> = OnceLock::new();
        TEXT.get_or_init(|| EVERY_SECOND.to_owned())
    }
}

/// One run of the job `name`, while it lasts: in its worker function on
/// Lambda the event it answers is done when it drops.
pub struct Round {
    driven: bool,
}

impl Drop for Round {
    fn drop(&mut self) {
        #[cfg(feature = "native")]
        if self.driven {
            rounds::end();
        }
    }
}

/// Whether a run of the job `name` does its work: off Lambda always; on
/// Lambda in its worker function when an event waits, in other functions
/// never.
pub fn round(name: &str) -> Option<Round> {
    match role(name) {
        Role::Free => Some(Round { driven: false }),
        Role::Idle => None,
        Role::Driven => driven_round(),
    }
}

#[cfg(feature = "native")]
fn driven_round() -> Option<Round> {
    rounds::try_next().then_some(Round { driven: true })
}

#[cfg(not(feature = "native"))]
fn driven_round() -> Option<Round> {
    None
}

#[cfg(feature = "native")]
mod rounds {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};
    // The scheduled event says nothing a round needs, and reading it as
    // `aws_lambda_events`' `EventBridgeEvent` would pull in chrono 0.4.35+,
    // upgrading the monolith's own locked chrono (and its warnings) with it.
    use serde::de::IgnoredAny;
    use tokio::sync::{Mutex, Notify, mpsc};

    struct Rounds {
        start: mpsc::UnboundedSender<()>,
        started: Mutex<mpsc::UnboundedReceiver<()>>,
        done: Notify,
        in_round: AtomicBool,
    }

    fn rounds() -> &'static Rounds {
        static ROUNDS: OnceLock<Rounds> = OnceLock::new();
        ROUNDS.get_or_init(|| {
            let (start, started) = mpsc::unbounded_channel();
            Rounds {
                start,
                started: Mutex::new(started),
                done: Notify::new(),
                in_round: AtomicBool::new(false),
            }
        })
    }

    /// The event loop, on a thread and runtime of its own: the app's
    /// runtime (a single thread under actix) may be busy with the round.
    pub(super) fn start(name: &'static str) {
        let spawned = std::thread::Builder::new()
            .name("cleave-worker".to_owned())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap_or_else(|e| crate::fail("cannot start the worker's runtime", e));
                let handler = service_fn(move |_: LambdaEvent<IgnoredAny>| round(name));
                if let Err(e) = runtime.block_on(lambda_runtime::run(handler)) {
                    crate::fail("the worker's event loop stopped", e);
                }
            });
        if let Err(e) = spawned {
            crate::fail("cannot start the worker's event loop", e);
        }
    }

    /// One event: lets the loop start a round and waits until it is back at its gate.
    async fn round(name: &'static str) -> Result<String, lambda_runtime::Error> {
        let r = rounds();
        r.start
            .send(())
            .map_err(|_| format!("worker `{name}`: the loop is gone"))?;
        r.done.notified().await;
        Ok(format!("worker `{name}`: one round done"))
    }

    fn end_round(r: &Rounds) {
        if r.in_round.swap(false, Ordering::SeqCst) {
            r.done.notify_one();
        }
    }

    pub(super) async fn next() {
        let r = rounds();
        end_round(r);
        let mut started = r.started.lock().await;
        if started.recv().await.is_none() {
            std::future::pending::<()>().await;
        }
        r.in_round.store(true, Ordering::SeqCst);
    }

    /// Takes the waiting event, if one waits, without waiting.
    pub(super) fn try_next() -> bool {
        let r = rounds();
        let Ok(mut started) = r.started.try_lock() else {
            return false;
        };
        if started.try_recv().is_err() {
            return false;
        }
        r.in_round.store(true, Ordering::SeqCst);
        true
    }

    /// The job's run is over: answers its event.
    pub(super) fn end() {
        end_round(rounds());
    }

    pub(super) fn next_blocking() {
        let r = rounds();
        end_round(r);
        let mut started = r.started.blocking_lock();
        if started.blocking_recv().is_none() {
            loop {
                std::thread::park();
            }
        }
        r.in_round.store(true, Ordering::SeqCst);
    }
}
