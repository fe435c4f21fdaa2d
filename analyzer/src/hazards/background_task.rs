//! ### What it does
//! Finds tasks and threads started and left running: `tokio::spawn`,
//! `tokio::task::spawn_local`/`spawn_blocking`, `actix_web::rt::spawn`,
//! `actix_rt::spawn`, `async_std::task::spawn`, `smol::spawn`,
//! `rayon::spawn`, `std::thread::spawn`, `thread::Builder::new().spawn(..)`,
//! `Handle::current().spawn(..)`, unless the handle is awaited or joined in
//! the same fn (a handle that is one branch of a `select!` is not: the task
//! runs beside the others), or returned to callers that await it (one that
//! keeps it in a struct leaves the task running). A spawn in `main` (or a rocket fairing's `on_liftoff`, which
//! runs once after launch) is a worker started at startup; anywhere else it
//! is work that outlives the call that started it.
//!
//! ### Why is this bad on Lambda
//! Lambda runs code only while an invocation is in flight: as soon as the
//! handler returns its response the instance is frozen, and it may be
//! thawed much later or never. A task spawned while handling a request
//! stalls mid-way (holding locks, connections, half-written data) and may
//! never finish; a worker started by `main` runs only in the slivers of
//! time when a request happens to be in flight, never on its own schedule.
//!
//! ### Example
//! ```text
//! async fn place_order(State(st): State<AppState>, ..) -> .. {
//!     tokio::spawn(send_confirmation_email(order.clone()));
//!     Ok(Json(order))
//! }
//! ```
//!
//! ### Use instead
//! Await the work before returning, or hand it to a queue (SQS, EventBridge)
//! processed by its own function; run periodic jobs as a scheduled function
//! (EventBridge Scheduler).

use super::{AtStartup, Ctx, Finding, Lint, Subject, bound_name, chain_root, ends, mentions_any};
use crate::diagnostic::Severity;
use crate::framework::ServerKind;
use crate::resolve::FnId;
use crate::syntax::{Expr, Pat, Stmt, WrapKind};

pub(crate) static LINT: Lint = Lint {
    code: "background-task",
    severity: Severity::Warning,
    summary: "a spawned task or thread outlives the invocation; Lambda freezes it",
    advice: "Await the work before returning the response, or send it to a queue (SQS, \
             EventBridge) handled by its own function; run periodic work as a scheduled \
             function (EventBridge Scheduler).",
    check,
};

fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (f, _) in ctx.bodies() {
        let scope = ctx.scope(f);
        let mut spawns: Vec<(*const Expr, u32, String)> = Vec::new();
        ctx.walk_body(f, |e| {
            if let Some((names, _, line)) = ctx.ext_call(scope, e)
                && is_spawn_fn(&names)
            {
                spawns.push((e as *const Expr, line, names.join("::")));
            }
            // `thread::Builder::new().name(..).spawn(..)`, `Handle::current().spawn(..)`,
            // `runtime.spawn(..)` on a runtime built with `Runtime::new()`.
            if let Expr::MethodCall { method, line, .. } = e
                && matches!(method.as_str(), "spawn" | "spawn_blocking")
                && let Some((root, _, _)) = ctx.ext_call(scope, chain_root(e))
                && (ends(&root, &["Builder", "new"]) && mentions_any(&root, &["thread", "std"])
                    || ends(&root, &["Handle", "current"])
                    || ends(&root, &["Runtime", "new"]))
            {
                spawns.push((
                    e as *const Expr,
                    *line,
                    format!("{}(..).{method}", root.join("::")),
                ));
            }
        });
        if spawns.is_empty() {
            continue;
        }
        let joined = joined_spawns(ctx, f);
        let returns = returned(ctx, f);
        let name = ctx.fn_name(f);
        for (ptr, line, what) in spawns {
            // A handle the fn returns is its callers' to await
            // (`fn spawn_blocking_with_tracing(f) -> JoinHandle<R> { spawn_blocking(..) }`),
            // unless one of them keeps it and lets the task run.
            let kept = returns.contains(&ptr) && !callers_join(ctx, f);
            if (joined.contains(&ptr) && !kept) || not_background(ctx, f, ptr) {
                continue;
            }
            let finding = if ctx.is_main(f) || is_liftoff(ctx, f) {
                let message = format!(
                    "`{name}` starts a background worker (`{what}`): on Lambda there is no \
                     long-lived process; the instance is frozen between invocations, so the \
                     worker runs only while some request is in flight, never on its own schedule"
                );
                Finding::new(ctx.fn_file(f), line, Subject::Fn(f), message).advice(
                    "Run this work as its own scheduled function (EventBridge Scheduler -> \
                     Lambda), or as a queue consumer if requests feed it.",
                )
            } else {
                let message = format!(
                    "`{name}` spawns work that outlives the call (`{what}`): Lambda freezes the \
                     instance once the response is returned, so the task stalls mid-way and may \
                     never finish if the instance is recycled"
                );
                // Reached only by start-up (`run_server` spawning its jobs):
                // a worker of the process, not of a request.
                let startup = format!(
                    "`{name}` starts a background worker while the app starts (`{what}`): on \
                     Lambda there is no long-lived process; the instance is frozen between \
                     invocations, so the worker runs only while some request is in flight, never \
                     on its own schedule"
                );
                Finding::new(ctx.fn_file(f), line, Subject::Fn(f), message).at_startup(
                    AtStartup::Reword(
                        startup,
                        "Run this work as its own scheduled function (EventBridge Scheduler -> \
                         Lambda), or as a queue consumer if requests feed it."
                            .to_owned(),
                    ),
                )
            };
            out.push(finding);
        }
    }
}

/// Spawned futures that are not work of their own: the HTTP server itself
/// (`tokio::spawn(server)` after `HttpServer::new(..).run()` or
/// `axum::serve(..)`, or a workspace fn that builds it: the shim serves it), a wait for a process signal (the
/// process-lifecycle lint reports it), and a database connection's driver
/// (`let (client, conn) = tokio_postgres::connect(..)` then
/// `spawn(async move { conn.await })`: it ends with the client).
fn not_background(ctx: &Ctx<'_>, f: FnId, spawn: *const Expr) -> bool {
    let mut arg: Option<&Expr> = None;
    ctx.walk_body(f, |e| {
        if std::ptr::eq(e, spawn) {
            arg = match e {
                Expr::Call { args, .. } | Expr::MethodCall { args, .. } => args.first(),
                _ => None,
            };
        }
    });
    let Some(arg) = arg else { return false };
    let scope = ctx.scope(f);
    // Locals the spawned future names, and what each was bound to.
    let mut bound: Vec<(&str, &Expr, bool)> = Vec::new();
    for b in ctx.body_blocks(f) {
        for st in &b.stmts {
            if let Stmt::Let {
                pat,
                init: Some(init),
                ..
            } = st
            {
                match &**pat {
                    Pat::Ident(n) => bound.push((n, init, false)),
                    // `let (client, conn) = connect(..)`: the second is the driver.
                    Pat::Tuple(ps) if ps.len() == 2 => {
                        if let Pat::Ident(n) = &ps[1] {
                            bound.push((n, init, true));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let mut named: Vec<&str> = Vec::new();
    arg.walk(&mut |x| {
        if let Expr::Path { path, .. } = x
            && path.segments.len() == 1
        {
            named.push(path.segments[0].name.as_str());
        }
    });
    // A server item of a framework profile (`axum::serve`, `HttpServer`),
    // or a workspace fn building the server (`Application::build(config)`).
    let serves = |e: &Expr| serves_in(ctx, f, e, 0);
    let connects = |e: &Expr| {
        let mut found = false;
        e.walk(&mut |x| {
            if let Some((names, _, _)) = ctx.ext_call(scope, x)
                && names
                    .last()
                    .is_some_and(|n| n == "connect" || n == "connect_with")
            {
                found = true;
            }
        });
        found
    };
    let mut signal = false;
    arg.walk(&mut |x| {
        if let Some((names, _, _)) = ctx.ext_call(scope, x)
            && super::process_lifecycle::is_signal(&names)
        {
            signal = true;
        }
    });
    signal
        || serves(arg)
        || named.iter().any(|n| {
            bound.iter().any(|(b, init, driver)| {
                b == n
                    && (if *driver {
                        connects(init)
                    } else {
                        serves(init)
                    })
            })
        })
}

/// Whether `e` (in fn `f`) names a server item of a framework profile
/// (`axum::serve`, `HttpServer`), itself or in a workspace fn it calls, a
/// few calls deep (`Application::build(config).await?.run_until_stopped()`
/// where `build` binds the `HttpServer`).
fn serves_in(ctx: &Ctx<'_>, f: FnId, e: &Expr, depth: u32) -> bool {
    let scope = ctx.scope(f);
    let mut found = false;
    e.walk(&mut |x| {
        if found {
            return;
        }
        if let Some((names, _, _)) = ctx.ext_call(scope, x) {
            found = crate::framework::PROFILES.iter().any(|p| {
                p.servers.iter().any(|item| {
                    let last = item.path.last().copied().unwrap_or_default();
                    match item.kind {
                        // In a callee, only the item's whole path: a fn
                        // named `bind` there is no server.
                        ServerKind::Fn if depth > 0 => ends(&names, item.path),
                        ServerKind::Fn => names.last().is_some_and(|n| n == last),
                        ServerKind::Type if depth > 0 => {
                            names.windows(item.path.len()).any(|w| w == item.path)
                        }
                        ServerKind::Type => names.iter().any(|n| n == last),
                        ServerKind::Method | ServerKind::Attribute | ServerKind::Connection => {
                            false
                        }
                    }
                })
            });
        } else if depth < 3
            && let Expr::Call { func, .. } = x
            && let Expr::Path { path, .. } = func.peel()
        {
            found =
                ctx.defs.resolve_fn_path(f, path).into_iter().any(|g| {
                    ctx.defs.fns[g].def.body.as_ref().is_some_and(|b| {
                        b.stmts.iter().any(|st| stmt_serves(ctx, g, st, depth + 1))
                    })
                });
        }
    });
    found
}

fn stmt_serves(ctx: &Ctx<'_>, f: FnId, st: &Stmt, depth: u32) -> bool {
    match st {
        Stmt::Let { init, .. } => init.as_ref().is_some_and(|e| serves_in(ctx, f, e, depth)),
        Stmt::Expr(e) | Stmt::Semi(e) => serves_in(ctx, f, e, depth),
        Stmt::Item(_) => false,
    }
}

/// A rocket fairing's `on_liftoff`: like `main`, it runs once beside the server.
fn is_liftoff(ctx: &Ctx<'_>, f: FnId) -> bool {
    let data = &ctx.defs.fns[f];
    data.name == "on_liftoff"
        && data.impl_.is_some_and(|i| {
            let imp = &ctx.defs.impls[i];
            imp.trait_.is_none() && imp.trait_path.and_then(|p| p.last()) == Some("Fairing")
        })
}

/// `tokio::spawn`, `task::spawn_blocking`, `rt::spawn`, `thread::spawn`, ...
fn is_spawn_fn(names: &[String]) -> bool {
    let n = names.len();
    if n < 2 {
        return false;
    }
    let owner = names[n - 2].as_str();
    matches!(
        names[n - 1].as_str(),
        "spawn" | "spawn_local" | "spawn_blocking"
    ) && matches!(
        owner,
        "tokio"
            | "task"
            | "rt"
            | "actix_rt"
            | "actix"
            | "thread"
            | "async_std"
            | "smol"
            | "rayon"
            | "runtime"
            | "glommio"
    )
}

/// Spawn calls whose handle is awaited or joined here: `spawn(x).await`,
/// `spawn(x).join()`, or `let h = spawn(x); .. h.await` / `h.join()` /
/// `join!(h, ..)` (not `select!`, which waits for one branch of several).
fn joined_spawns(ctx: &Ctx<'_>, f: FnId) -> Vec<*const Expr> {
    let mut out = Vec::new();
    let mut handles: Vec<(&str, *const Expr)> = Vec::new();
    for b in ctx.body_blocks(f) {
        for s in &b.stmts {
            if let Stmt::Let {
                pat,
                init: Some(init),
                ..
            } = s
                && let Some(name) = bound_name(pat)
            {
                handles.push((name, strip_unwrap(init) as *const Expr));
            }
        }
    }
    let mut used: Vec<&str> = Vec::new();
    ctx.walk_body(f, |e| match e {
        Expr::Wrap {
            kind: WrapKind::Await,
            inner,
        } => {
            out.push(strip_unwrap(inner) as *const Expr);
            if let Expr::Path { path, .. } = inner.peel()
                && let Some(n) = path.last()
            {
                used.push(n);
            }
        }
        Expr::MethodCall {
            receiver, method, ..
        } if method == "join" || method == "await" => {
            out.push(strip_unwrap(receiver) as *const Expr);
            if let Expr::Path { path, .. } = receiver.peel()
                && let Some(n) = path.last()
            {
                used.push(n);
            }
        }
        // `select!` waits for the first branch only: a task whose handle
        // is one of its branches runs on beside the others, and on after
        // the select has picked another (a dropped handle does not stop it).
        Expr::Macro { path, args, .. } if matches!(path.last(), Some("join" | "try_join")) => {
            for a in args {
                if let Expr::Path { path, .. } = a.peel()
                    && let Some(n) = path.last()
                {
                    used.push(n);
                }
            }
        }
        _ => {}
    });
    for (name, ptr) in handles {
        if used.contains(&name) {
            out.push(ptr);
        }
    }
    out.extend(returned(ctx, f));
    out
}

/// What the fn returns: its tail and `return` values.
fn returned(ctx: &Ctx<'_>, f: FnId) -> Vec<*const Expr> {
    let mut out = Vec::new();
    if let Some(Stmt::Expr(tail)) = ctx.defs.fns[f]
        .def
        .body
        .as_ref()
        .and_then(|b| b.stmts.last())
    {
        out.push(strip_unwrap(tail) as *const Expr);
    }
    ctx.walk_body(f, |e| {
        if let Expr::Wrap {
            kind: WrapKind::Return,
            inner,
        } = e
        {
            out.push(strip_unwrap(inner) as *const Expr);
        }
    });
    out
}

/// For a fn that returns a spawn's handle: whether its callers join it
/// (`spawn_blocking_with_tracing(..).await`). A caller that keeps the
/// handle in a struct (`gc_handle: Arc::new(Self::garbage_collector(..))`)
/// leaves the task running; with no caller in sight the handle is taken to
/// be the caller's to await.
fn callers_join(ctx: &Ctx<'_>, f: FnId) -> bool {
    let name = ctx.fn_name(f);
    let mut calls = 0;
    let mut joined = 0;
    for (g, _) in ctx.bodies() {
        let mut sites: Vec<*const Expr> = Vec::new();
        ctx.walk_body(g, |e| {
            if let Expr::Call { func, .. } = e
                && let Expr::Path { path, .. } = func.peel()
                && path.last() == Some(name)
                && ctx.defs.resolve_fn_path(g, path).contains(&f)
            {
                sites.push(e as *const Expr);
            }
        });
        if sites.is_empty() {
            continue;
        }
        let done = joined_spawns(ctx, g);
        calls += sites.len();
        joined += sites.iter().filter(|s| done.contains(s)).count();
    }
    joined == calls
}

/// `e`, without `(..)`, `?`, `.await` and `.unwrap()`/`.expect(..)` around it.
fn strip_unwrap(e: &Expr) -> &Expr {
    match e.peel() {
        Expr::MethodCall {
            receiver, method, ..
        } if method == "unwrap" || method == "expect" => strip_unwrap(receiver),
        other => other,
    }
}
