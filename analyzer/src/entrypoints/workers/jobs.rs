//! Jobs handed to a scheduler library, one worker each: tokio-cron-scheduler
//! (`Job::new_async("0 */5 * * * *", |_, _| Box::pin(async move { .. }))`,
//! `Job::new`, `Job::new_repeated(d, ..)`), job_scheduler and
//! job_scheduler_ng (`Job::new("..".parse().unwrap(), || ..)`), clokwerk
//! (`scheduler.every(10.minutes()).run(|| ..)`, `every(1.day()).at("3:20 pm")`)
//! and actix's `ctx.run_interval(d, |act, ctx| ..)` in the `started` of an
//! actor `main` starts.
//!
//! Input: a call the worker scan meets in code reachable from `main`.
//! Output: a [`Work`] whose schedule is the job's own (its cron expression
//! converted by [`crate::schedule::from_cron`], its interval as a rate)
//! and whose [`JobGate`] names the pace argument and the closure a worker
//! function edits; or why none can be generated. A loop that only pumps a
//! scheduler (`sched.tick()`, `scheduler.run_pending()`) is no worker of
//! its own: its jobs are. Reads the lowered syntax only.

use super::work::{self, ArgAt, JobGate, Work};
use super::{FnCx, Workers, local};
use crate::entrypoints::{EntryKind, EntryPoint};
use crate::resolve::{Def, FnId};
use crate::schedule;
use crate::syntax::{Expr, ItemKind, Lit, Path, WrapKind};

/// Crates whose `Job::new*` takes a cron expression.
const CRON_CRATES: &[&str] = &["tokio_cron_scheduler", "job_scheduler", "job_scheduler_ng"];

/// tokio-cron-scheduler's constructors taking a cron expression first.
const CRON_CTORS: &[&str] = &[
    "new",
    "new_async",
    "new_tz",
    "new_async_tz",
    "new_cron_job",
    "new_cron_job_async",
    "new_cron_job_async_tz",
];

/// tokio-cron-scheduler's constructors taking a `Duration` first.
const REPEATED_CTORS: &[&str] = &["new_repeated", "new_repeated_async"];

/// clokwerk's modifiers that time a job beyond its interval.
const CLOKWERK_TIMING: &[&str] = &["at", "try_at", "at_time", "plus", "and_every"];

/// A job found at a call: how its pace is written, and its closure.
struct Job<'a> {
    /// The registering call's name and line (the plan's source line).
    call: &'a str,
    line: u32,
    pace: Pace<'a>,
    /// The call taking the closure, its line, and the closure's index
    /// among its arguments.
    closure_call: &'a str,
    closure_line: u32,
    closure_index: usize,
    closure: &'a Expr,
    /// What the pace argument becomes in the job's worker function.
    driven: &'static str,
    /// Why the job's pace cannot be taken over, when it cannot.
    fixed: Option<String>,
}

enum Pace<'a> {
    /// A cron expression argument (`Job::new_async("0 */5 * * * *", ..)`).
    Cron(&'a Expr),
    /// A `Duration` argument (`run_interval(d, ..)`).
    Duration(&'a Expr),
    /// clokwerk's `every(..)` argument and its `.at("..")`, if any.
    Clokwerk(&'a Expr, Option<&'a Expr>),
}

impl<'a> Workers<'_, 'a> {
    /// Reports the job `e` registers, if it is one; `true` when it was.
    pub(super) fn job(&mut self, cx: &FnCx<'a>, e: &'a Expr) -> bool {
        let Some(job) = self.job_at(cx, e) else {
            return false;
        };
        let file = self.defs.fns[cx.f].file;
        let (schedule, every_s, note, err) = self.schedule(cx, &job.pace);
        let mut w = Work {
            schedule,
            every_s,
            note,
            gate: None,
            job: None,
            blocked: None,
        };
        let pace_call = match job.pace {
            Pace::Clokwerk(..) => "every",
            _ => job.call,
        };
        w.blocked = if let Some(why) = err.or(job.fixed) {
            Some(format!("{why} ({file}:{})", job.line))
        } else if let Expr::Closure { body, line, .. } = job.closure.peel() {
            if self.spawns(cx, body) {
                Some(format!(
                    "the job spawns its work as a task of its own, which an invocation would not \
                     wait for; await or call the work in the job instead ({file}:{line})"
                ))
            } else {
                work::carried_in(body).map(|(name, at)| {
                    format!(
                        "the job keeps `{name}` from one run to the next ({file}:{}); a function \
                     starts afresh on each cold start, so it would lose it",
                        if at == 0 { *line } else { at }
                    )
                })
            }
        } else {
            Some(format!(
                "the job is `{}`, not a closure cleave can edit; write it as a closure calling \
                 it ({file}:{})",
                crate::syntax::expr_text(job.closure),
                job.line
            ))
        };
        if w.blocked.is_none() {
            w.job = Some(JobGate {
                file: file.to_owned(),
                line: job.line,
                pace: ArgAt {
                    call: pace_call.to_owned(),
                    line: job.line,
                    index: 0,
                },
                driven: job.driven.to_owned(),
                closure: ArgAt {
                    call: job.closure_call.to_owned(),
                    line: job.closure_line,
                    index: job.closure_index,
                },
            });
        }
        let body = match job.closure.peel() {
            Expr::Closure { body, .. } => Some(body.as_ref()),
            _ => None,
        };
        let called = body
            .map(|b| self.workspace_calls(cx, b))
            .unwrap_or_default();
        let named = match job.closure.peel() {
            Expr::Path { path, .. } => self.defs.resolve_fn_path(cx.f, path),
            _ => called,
        };
        let data = &self.defs.fns[cx.f];
        let (handler, at, root) = match named.as_slice() {
            [g] => {
                let d = &self.defs.fns[*g];
                (d.id.clone(), self.loc_of(*g), *g)
            }
            _ => (
                format!("{}::{{closure}}", data.id),
                self.loc(cx.f, job.closure.line().unwrap_or(job.line)),
                cx.f,
            ),
        };
        let registered = self.loc(cx.f, job.line);
        self.works.insert((handler.clone(), registered.clone()), w);
        self.found.push(EntryPoint {
            kind: EntryKind::Schedule,
            framework: None,
            method: String::new(),
            path: String::new(),
            handler,
            at,
            registered,
            middleware: Vec::new(),
            root: Some(root),
        });
        true
    }

    /// The job a call registers: a scheduler crate's `Job::new*(pace, f)`,
    /// clokwerk's `.every(i)[.at(t)].run(f)`, actix's `.run_interval(d, f)`.
    fn job_at(&self, cx: &FnCx<'a>, e: &'a Expr) -> Option<Job<'a>> {
        match e {
            Expr::Call { func, args, line } => {
                let Expr::Path { path, .. } = func.peel() else {
                    return None;
                };
                let full = self.dependency(cx, path)?;
                let krate = full.first()?.as_str();
                let [.., ty, ctor] = full.as_slice() else {
                    return None;
                };
                if !CRON_CRATES.contains(&krate) || ty != "Job" {
                    return None;
                }
                let (pace, driven) = if krate == "tokio_cron_scheduler" {
                    if CRON_CTORS.contains(&ctor.as_str()) {
                        (Pace::Cron(args.first()?), "::cleave_lambda::every_second()")
                    } else if REPEATED_CTORS.contains(&ctor.as_str()) {
                        (
                            Pace::Duration(args.first()?),
                            "::std::time::Duration::from_secs(1)",
                        )
                    } else {
                        return None;
                    }
                } else if ctor == "new" {
                    (
                        Pace::Cron(args.first()?),
                        "\"* * * * * *\".parse().unwrap()",
                    )
                } else {
                    return None;
                };
                let call = path.last()?;
                Some(Job {
                    call,
                    line: *line,
                    pace,
                    closure_call: call,
                    closure_line: *line,
                    closure_index: args.len().checked_sub(1)?,
                    closure: args.last()?,
                    driven,
                    fixed: None,
                })
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                line,
                ..
            } => match (method.as_str(), args.as_slice()) {
                ("run_interval", [d, f]) => Some(Job {
                    call: "run_interval",
                    line: *line,
                    pace: Pace::Duration(d),
                    closure_call: "run_interval",
                    closure_line: *line,
                    closure_index: 1,
                    closure: f,
                    driven: "::std::time::Duration::from_secs(1)",
                    fixed: None,
                }),
                ("run", [f]) => {
                    let (every, every_line, at, timing) = clokwerk_chain(receiver)?;
                    Some(Job {
                        call: "every",
                        line: every_line,
                        pace: Pace::Clokwerk(every, at),
                        closure_call: "run",
                        closure_line: *line,
                        closure_index: 0,
                        closure: f,
                        driven: "::clokwerk::Interval::Seconds(1)",
                        fixed: timing.map(|m| {
                            format!(
                                "clokwerk's `.{m}(..)` times the job itself, so a worker \
                                 function cannot take over its pace; keep it in a service or \
                                 write the job with an interval only"
                            )
                        }),
                    })
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// The job's schedule, its period in seconds when it has one, a note on
    /// how it was read, and why EventBridge cannot run it, if it cannot.
    fn schedule(
        &self,
        cx: &FnCx<'a>,
        pace: &Pace<'a>,
    ) -> (String, Option<u64>, Option<String>, Option<String>) {
        let guess = |what: &str| {
            (
                work::DEFAULT_SCHEDULE.to_owned(),
                None,
                Some(format!(
                    "the code computes its schedule at run time ({what}); {} is a guess, set \
                     `schedule`",
                    work::DEFAULT_SCHEDULE
                )),
                None,
            )
        };
        match pace {
            Pace::Cron(e) => match self.string(cx, e, 0) {
                Some(expr) => match schedule::from_cron(&expr) {
                    Ok(c) => (c.expression, None, c.note, None),
                    Err(why) => (work::DEFAULT_SCHEDULE.to_owned(), None, None, Some(why)),
                },
                None => guess(&crate::syntax::expr_text(e)),
            },
            Pace::Duration(d) => match work::duration_secs(self.defs, cx.f, &cx.lets, d, 0) {
                Some(secs) => {
                    let c = schedule::rate(secs);
                    (c.expression, Some(secs), c.note, None)
                }
                None => guess(&crate::syntax::expr_text(d)),
            },
            Pace::Clokwerk(every, at) => {
                let at = at.map(|a| self.string(cx, a, 0));
                match clokwerk_schedule(every, at) {
                    Some((c, secs)) => (c.expression, secs, c.note, None),
                    None => guess(&crate::syntax::expr_text(every)),
                }
            }
        }
    }

    /// A string the code writes for an argument: a literal, the literal a
    /// `.parse()` or `from_str(..)` reads, a local or a `const` bound to one.
    fn string(&self, cx: &FnCx<'a>, e: &Expr, depth: u32) -> Option<String> {
        if depth > 4 {
            return None;
        }
        match e.peel() {
            Expr::Lit {
                lit: Lit::Str(s), ..
            } => Some(s.clone()),
            // `"..".parse().unwrap()`, `expr.to_string()`
            Expr::MethodCall { receiver, .. } => self.string(cx, receiver, depth + 1),
            Expr::Wrap { inner, .. } => self.string(cx, inner, depth + 1),
            // `Schedule::from_str("..").unwrap()`
            Expr::Call { func, args, .. } => match (func.peel(), args.as_slice()) {
                (Expr::Path { path, .. }, [a])
                    if matches!(path.last(), Some("from_str" | "from" | "new")) =>
                {
                    self.string(cx, a, depth + 1)
                }
                _ => None,
            },
            Expr::Path { path, .. } => {
                if let Some(init) = local(path).and_then(|n| cx.lets.get(n)) {
                    return self.string(cx, init, depth + 1);
                }
                let names: Vec<&str> = path.names().collect();
                self.defs
                    .resolve_names(self.defs.fns[cx.f].module, &names, false)
                    .into_iter()
                    .find_map(|d| match d {
                        Def::Static(s) => match &self.defs.statics[s].item.kind {
                            ItemKind::Const { init, .. } | ItemKind::Static { init, .. } => {
                                self.string(cx, init, depth + 1)
                            }
                            _ => None,
                        },
                        _ => None,
                    })
            }
            _ => None,
        }
    }

    /// Whether a job's closure hands its work to a runtime's spawn
    /// (`tokio::spawn(..)`, `runtime.spawn(..)`).
    fn spawns(&self, cx: &FnCx<'a>, body: &'a Expr) -> bool {
        let mut found = false;
        body.walk(&mut |x| match x {
            Expr::Call { func, .. } => {
                if let Expr::Path { path, .. } = func.peel() {
                    found |= self.is_spawn_fn(cx, path);
                }
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } => {
                found |= super::SPAWN_FNS.contains(&method.as_str())
                    && args.len() == 1
                    && self.is_spawner(cx, receiver, 0);
            }
            _ => {}
        });
        found
    }

    fn dependency(&self, cx: &FnCx<'a>, path: &Path) -> Option<Vec<String>> {
        let module = self.defs.fns[cx.f].module;
        super::dependency_path(self.defs, module, &cx.uses, path)
    }

    fn loc_of(&self, g: FnId) -> crate::entrypoints::Location {
        let d = &self.defs.fns[g];
        crate::entrypoints::Location {
            file: d.file.to_owned(),
            line: d.line,
        }
    }

    /// Whether a loop only drives a scheduler: `scheduler.run_pending()`
    /// (clokwerk), or `sched.tick()` not awaited on a local made by
    /// `JobScheduler::new()` (job_scheduler). Its jobs are the workers.
    pub(super) fn pumps_scheduler(&self, cx: &FnCx<'a>, roots: &[&Expr]) -> bool {
        roots.iter().any(|e| self.pumps(cx, e))
    }

    fn pumps(&self, cx: &FnCx<'a>, e: &Expr) -> bool {
        let mut pumps = false;
        let mut awaited: Vec<*const Expr> = Vec::new();
        e.walk(&mut |x| {
            if let Expr::Wrap {
                kind: WrapKind::Await,
                inner,
            } = x
            {
                awaited.push(inner.as_ref());
            }
        });
        e.walk(&mut |x| {
            let Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } = x
            else {
                return;
            };
            if method == "run_pending" && args.is_empty() {
                pumps = true;
            }
            if method == "tick"
                && args.is_empty()
                && !awaited.contains(&(x as *const Expr))
                && let Expr::Path { path, .. } = receiver.peel()
                && let Some(init) = local(path).and_then(|n| cx.lets.get(n))
            {
                let mut scheduler = false;
                init.walk(&mut |y| {
                    if let Expr::Path { path, .. } = y
                        && path.names().any(|n| n == "JobScheduler")
                    {
                        scheduler = true;
                    }
                });
                pumps |= scheduler;
            }
        });
        pumps
    }

    /// The `started` of the actor an expression starts (`Monitor.start()`,
    /// `Monitor::new(..).start()`, `Monitor::create(..)`), when `main`'s
    /// code starts a workspace actor.
    pub(super) fn actor_started(&self, cx: &FnCx<'a>, e: &'a Expr) -> Option<FnId> {
        let ty_path = match e {
            Expr::MethodCall {
                receiver, method, ..
            } if method == "start" => self.actor_type(cx, receiver, 0)?,
            Expr::Call { func, .. } => match func.peel() {
                Expr::Path { path, .. }
                    if matches!(path.last(), Some("create" | "start" | "start_default"))
                        && path.segments.len() >= 2 =>
                {
                    parent(path)
                }
                _ => return None,
            },
            _ => return None,
        };
        let module = self.defs.fns[cx.f].module;
        let ty = self.defs.resolve_type_path(module, &ty_path)?;
        self.defs.impls.iter().find_map(|imp| {
            (imp.self_def == Some(ty) && imp.trait_path.and_then(Path::last) == Some("Actor"))
                .then(|| imp.methods.get("started").copied())
                .flatten()
        })
    }

    fn actor_type(&self, cx: &FnCx<'a>, e: &'a Expr, depth: u32) -> Option<Path> {
        if depth > 4 {
            return None;
        }
        match e.peel() {
            Expr::Struct { path, .. } => Some(path.clone()),
            Expr::Call { func, .. } => match func.peel() {
                Expr::Path { path, .. } if path.segments.len() >= 2 => Some(parent(path)),
                _ => None,
            },
            Expr::Path { path, .. } => match local(path).and_then(|n| cx.lets.get(n)) {
                Some(init) => self.actor_type(cx, init, depth + 1),
                // A unit struct.
                None => Some(path.clone()),
            },
            _ => None,
        }
    }
}

/// A path without its last segment (`Monitor::new` -> `Monitor`).
fn parent(path: &Path) -> Path {
    let mut p = path.clone();
    let n = p.segments.len().saturating_sub(1);
    p.segments = p.segments[..n].to_vec().into_boxed_slice();
    p
}

/// clokwerk's chain before `.run(f)`: the `every(..)` argument and its
/// line, the `.at(..)` argument, and the first modifier that times the
/// job beyond its interval.
fn clokwerk_chain(receiver: &Expr) -> Option<(&Expr, u32, Option<&Expr>, Option<&'static str>)> {
    let mut at = None;
    let mut timing = None;
    let mut e = receiver;
    loop {
        match e.peel() {
            Expr::MethodCall {
                receiver,
                method,
                args,
                line,
                ..
            } => {
                if method == "every"
                    && let [i] = args.as_slice()
                {
                    return Some((i, *line, at, timing));
                }
                if let Some(m) = CLOKWERK_TIMING.iter().find(|m| **m == method.as_str()) {
                    timing = Some(*m);
                    if matches!(*m, "at" | "try_at") {
                        at = args.first();
                    }
                }
                e = receiver;
            }
            Expr::Wrap { inner, .. } => e = inner,
            _ => return None,
        }
    }
}

/// clokwerk's interval (`10.minutes()`, `1.day()`, `Monday`, `Weekday`,
/// `Interval::Hours(2)`) and `.at("3:20 pm")` as a schedule, with the
/// period in seconds when it is a rate; `at` is `Some(None)` when the time
/// is not a literal. `None` when cleave cannot read it.
fn clokwerk_schedule(
    every: &Expr,
    at: Option<Option<String>>,
) -> Option<(schedule::Converted, Option<u64>)> {
    let (n, unit) = match every.peel() {
        Expr::MethodCall {
            receiver, method, ..
        } => match receiver.peel() {
            Expr::Lit {
                lit: Lit::Int(n), ..
            } => (*n, method.as_str()),
            _ => return None,
        },
        Expr::Call { func, args, .. } => match (func.peel(), args.as_slice()) {
            (
                Expr::Path { path, .. },
                [
                    Expr::Lit {
                        lit: Lit::Int(n), ..
                    },
                ],
            ) => (*n, path.last()?),
            _ => return None,
        },
        Expr::Path { path, .. } => (1, path.last()?),
        _ => return None,
    };
    let secs = match unit.to_ascii_lowercase().trim_end_matches('s') {
        "second" => Some(1),
        "minute" => Some(60),
        "hour" => Some(3600),
        "day" => Some(86_400),
        "week" => Some(7 * 86_400),
        _ => None,
    };
    let day = match unit {
        "Monday" | "Tuesday" | "Wednesday" | "Thursday" | "Friday" | "Saturday" | "Sunday" => {
            Some(unit[..3].to_ascii_uppercase())
        }
        "Weekday" => Some("MON-FRI".to_owned()),
        _ => None,
    };
    let (hour, minute) = match &at {
        None => (0, 0),
        Some(Some(t)) => time_of_day(t)?,
        Some(None) => return None,
    };
    match (secs, day) {
        (Some(s), _) if at.is_none() => {
            let secs = n.checked_mul(s)?;
            Some((schedule::rate(secs), Some(secs)))
        }
        (Some(86_400), _) => {
            let dom = if n == 1 {
                "*".to_owned()
            } else {
                format!("1/{n}")
            };
            let mut c = schedule::Converted {
                expression: format!("cron({minute} {hour} {dom} * ? *)"),
                note: None,
            };
            if n > 1 {
                c.note = Some(format!(
                    "every {n} days from the start of each month: EventBridge counts days of \
                     the month, clokwerk counts from start-up"
                ));
            }
            Some((c, None))
        }
        (None, Some(day)) if n == 1 => Some((
            schedule::Converted {
                expression: format!("cron({minute} {hour} ? * {day} *)"),
                note: None,
            },
            None,
        )),
        _ => None,
    }
}

/// `3:20 pm`, `15:20`, `3:20:00 pm`, `03:20 AM` as hour and minute.
fn time_of_day(t: &str) -> Option<(u32, u32)> {
    let t = t.trim().to_ascii_lowercase();
    let (clock, half) = match t.strip_suffix("pm") {
        Some(c) => (c.trim(), Some(12)),
        None => match t.strip_suffix("am") {
            Some(c) => (c.trim(), Some(0)),
            None => (t.as_str(), None),
        },
    };
    let mut parts = clock.split(':');
    let hour: u32 = parts.next()?.trim().parse().ok()?;
    let minute: u32 = parts.next()?.trim().parse().ok()?;
    let hour = match half {
        Some(h) if (1..=12).contains(&hour) => hour % 12 + h,
        Some(_) => return None,
        None => hour,
    };
    (hour < 24 && minute < 60).then_some((hour, minute))
}
