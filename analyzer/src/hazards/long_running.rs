//! ### What it does
//! Finds code that waits or runs without end: `sleep` calls
//! (`tokio::time::sleep`, `std::thread::sleep`, `actix_web::rt::time::sleep`,
//! `async_std::task::sleep`, `sleep_until`), `loop { .. }` with no `break`
//! and no `return` in it or paced by a ticker (`interval.tick().await`), and
//! `while let` loops that wait on a channel, a stream, a ticker or a
//! listener (`rx.recv().await`, `stream.next().await`, `listener.accept().await`,
//! also through a workspace fn that ends with such a wait).
//! A bare `continue` cannot be told from a bare `break` in cleave's syntax
//! tree, so an endless loop whose only way out looks like one is missed.
//! Not reported: a loop that waits for a process signal each round (a
//! signal handler, idle between signals: process-lifecycle reports it), a
//! known pause of two seconds or less (a literal, a const, a fn returning
//! one, a product of bounded numbers, a number drawn from a range or
//! counted by a `for` over one with a known bound), alone
//! or as a round of a bounded loop (a retry: a `for`, or a `loop` that
//! returns or breaks and no ticker paces) — one pacing an endless loop is
//! reported — and a `while let` over a stream that reads one HTTP body
//! (`bytes_stream()`, `into_data_stream()`, `.take(n)`) or stops early
//! (`break` at a size limit) — a channel or listener loop is reported
//! whatever its way out.
//!
//! ### Why is this bad on Lambda
//! An invocation ends at its timeout: 29-30 s behind API Gateway, 15 min at
//! most. A loop meant to run for the life of the process is cut off (and
//! retried, or reported as an error), and every second spent sleeping or
//! waiting is billed while the caller waits.
//!
//! ### Example
//! ```text
//! loop {
//!     ticker.tick().await;
//!     sweep_expired(&state).await;
//! }
//! ```
//!
//! ### Use instead
//! Do one pass per invocation and let a schedule (EventBridge Scheduler) or
//! a queue trigger the next; replace polling and back-off sleeps with Step
//! Functions waits or SQS delivery delays; keep request handlers well under
//! the API Gateway timeout.

use std::collections::BTreeMap;

use super::{Ctx, Finding, Lint, Subject, ends};
use crate::diagnostic::Severity;
use crate::syntax::{Block, Expr, Stmt, WrapKind};

pub(crate) static LINT: Lint = Lint {
    code: "long-running",
    severity: Severity::Warning,
    summary: "code that sleeps or loops without end; a Lambda invocation is cut off at its timeout",
    advice: "Do one unit of work per invocation and let a schedule (EventBridge Scheduler) or a \
             queue (SQS) trigger the next; replace sleeps with Step Functions waits or SQS delays; \
             keep request handlers well under API Gateway's 29 s.",
    check,
};

fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (f, _) in ctx.bodies() {
        let scope = ctx.scope(f);
        let name = ctx.fn_name(f);
        // Per expression inside a loop: whether the innermost loop around
        // it is bounded (a `for`, a `while` on a plain condition, a `loop`
        // that breaks or returns and no ticker paces) or may run without end.
        // Loops come in pre-order, so an inner loop overwrites its outer one.
        let mut bounded: BTreeMap<*const Expr, bool> = BTreeMap::new();
        ctx.walk_body(f, |e| {
            if let Expr::Loop {
                pat, iter, body, ..
            } = e
            {
                let ends = match (pat, iter) {
                    (Some(_), _) => true,
                    (None, Some(cond)) => awaited_source(cond).is_none(),
                    (None, None) => exits(body) && !paced(body),
                };
                body.walk(&mut |x| {
                    bounded.insert(x as *const Expr, ends);
                });
            }
        });
        ctx.walk_body(f, |e| {
            // `tokio::time::sleep(d)`, `thread::sleep(d)`, `rt::time::sleep(d)`, `sleep_until(t)`.
            // A known pause of two seconds or less, on its own or as one round
            // of a bounded loop (a retry: `for attempt in 0..3`, or a `loop`
            // that returns once the call succeeds), waits far less than any
            // timeout: not reported. One pacing an endless loop is.
            let ptr = e as *const Expr;
            if let Some((names, args, line)) = ctx.ext_call(scope, e)
                && is_sleep(&names)
                && (bounded.get(&ptr) == Some(&false)
                    || args
                        .first()
                        .and_then(|a| duration_ms(ctx, scope, a, 0))
                        .is_none_or(|ms| ms > SHORT_MS))
            {
                let how_long = args
                    .first()
                    .and_then(|a| duration_text(ctx, scope, a))
                    .map(|d| format!(" for {d}"))
                    .unwrap_or_default();
                let message = format!(
                    "`{name}` sleeps{how_long} (`{}`): the wait is billed and counts toward the \
                     invocation's timeout (29 s behind API Gateway)",
                    names.join("::")
                );
                // A sleep is billed waiting, not broken: a note.
                let finding = Finding::new(ctx.fn_file(f), line, Subject::Fn(f), message);
                out.push(finding.severity(Severity::Note));
            }
            let Expr::Loop {
                pat,
                iter,
                body,
                line,
                ..
            } = e
            else {
                return;
            };
            match (pat, iter) {
                // `loop { .. }` that nothing inside leaves, or one paced by `ticker.tick().await`.
                (None, None) => {
                    if waits_on_signal(ctx, f, body) {
                        return;
                    }
                    let what = if paced(body) {
                        "a `loop` paced by a timer (`.tick().await`)"
                    } else if !exits(body) {
                        "a `loop` with no `break` or `return`"
                    } else {
                        return;
                    };
                    let message = format!(
                        "`{name}` has {what}: it runs for the life of the process, but a Lambda \
                         invocation ends at its timeout (29 s behind API Gateway, 15 min at most)"
                    );
                    out.push(Finding::new(ctx.fn_file(f), *line, Subject::Fn(f), message));
                }
                // `while let Some(msg) = rx.recv().await { .. }`: waits as long as the source lives.
                // A body read (`resp.bytes_stream()`, `into_data_stream()`),
                // or a stream read that stops early (`break` at a size limit),
                // ends with what it reads; a channel or listener does not.
                (None, Some(cond)) => {
                    if let Some(waits_on) =
                        awaited_source(cond).or_else(|| wrapped_source(ctx, f, cond))
                        && !reads_a_body(ctx, f, cond)
                        && !(waits_on == "next" && exits(body))
                    {
                        let message = format!(
                            "`{name}` loops on `.{waits_on}().await`: it waits for as long as \
                             the source stays open, past the invocation's timeout"
                        );
                        out.push(Finding::new(ctx.fn_file(f), *line, Subject::Fn(f), message));
                    }
                }
                _ => {}
            }
        });
    }
}

fn is_sleep(names: &[String]) -> bool {
    let n = names.len();
    n >= 2
        && matches!(names[n - 1].as_str(), "sleep" | "sleep_until" | "sleep_ms")
        && matches!(
            names[n - 2].as_str(),
            "time"
                | "thread"
                | "task"
                | "tokio"
                | "async_std"
                | "actix_rt"
                | "rt"
                | "smol"
                | "Timer"
        )
        || ends(names, &["Delay", "new"])
}

/// `Duration::from_secs(300)` -> "300 s".
/// Sleeps up to this long are pauses, not waits worth reporting: far
/// under any timeout (a random 0.9-1.1 s pause against timing attacks).
const SHORT_MS: u64 = 2_000;

/// A `Duration::from_*(n)` with a known `n`, in milliseconds; `n` may be a
/// local drawn from a range (`rng.random_range(900..=1100)`: its upper
/// bound). Through a const holding one (`const WAIT: Duration = ..`) and a
/// workspace fn returning one (`fn wait() -> Duration { .. }`).
fn duration_ms(ctx: &Ctx<'_>, scope: super::Scope, e: &Expr, depth: u32) -> Option<u64> {
    if depth > 4 {
        return None;
    }
    match e.peel() {
        Expr::Path { path, .. } => {
            let s = ctx.const_named(scope, path)?;
            duration_ms(ctx, s.scope, s.init, depth + 1)
        }
        Expr::Call { func, args, .. } => {
            let Some((names, _, _)) = ctx.ext_call(scope, e.peel()) else {
                // A workspace fn with no arguments: what its body ends with.
                let Expr::Path { path, .. } = func.peel() else {
                    return None;
                };
                let from = scope.fn_?;
                if !args.is_empty() {
                    return None;
                }
                let callee = *ctx.defs.resolve_fn_path(from, path).first()?;
                let tail = ctx.defs.fns[callee].def.body.as_ref()?.tail()?;
                return duration_ms(ctx, ctx.scope(callee), tail, depth + 1);
            };
            let n = upper_bound(ctx, scope, args.first()?, 0)?;
            match names.last()?.as_str() {
                "from_secs" => n.checked_mul(1_000),
                "from_millis" => Some(n),
                "from_micros" => Some(n / 1_000),
                "from_nanos" => Some(n / 1_000_000),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The largest value a number can take, when the code bounds it: a known
/// number, a product of bounded factors (`200 * attempt as u64`), a local
/// drawn from a range or counted by a `for` over one.
fn upper_bound(ctx: &Ctx<'_>, scope: super::Scope, e: &Expr, depth: u32) -> Option<u64> {
    if depth > 4 {
        return None;
    }
    if let Some(n) = ctx.eval_u64(scope, e) {
        return Some(n);
    }
    match e.peel() {
        // The lowered tree keeps no operator: sizes and pauses are products.
        Expr::Other(xs) if xs.len() == 2 => upper_bound(ctx, scope, &xs[0], depth + 1)?
            .checked_mul(upper_bound(ctx, scope, &xs[1], depth + 1)?),
        Expr::Wrap {
            kind: WrapKind::Cast,
            inner,
        } => upper_bound(ctx, scope, inner, depth + 1),
        _ => drawn_bound(ctx, scope, e),
    }
}

/// For a local bound to a number drawn from a range
/// (`let ms = rng.random_range(900..=1100)`) or counted by a `for` over one
/// (`for attempt in 1..=3`): the range's upper bound.
fn drawn_bound(ctx: &Ctx<'_>, scope: super::Scope, e: &Expr) -> Option<u64> {
    let Expr::Path { path, .. } = e.peel() else {
        return None;
    };
    let name = path.last().filter(|_| path.segments.len() == 1)?;
    let f = scope.fn_?;
    let body = ctx.defs.fns[f].def.body.as_ref()?;
    let mut bound = None;
    crate::entrypoints::find_local(body, name, &mut |init| {
        if let Expr::MethodCall { method, args, .. } = init.peel()
            && matches!(method.as_str(), "random_range" | "gen_range")
            && let Some(Expr::Other(ends)) = args.first().map(Expr::peel)
            && let [_, high] = ends.as_slice()
        {
            bound = ctx.eval_u64(scope, high);
        }
    });
    if bound.is_none() {
        ctx.walk_body(f, |x| {
            if let Expr::Loop {
                pat: Some(pat),
                iter: Some(iter),
                ..
            } = x
                && super::bound_name(pat) == Some(name)
                && let Expr::Other(ends) = iter.peel()
                && let [_, high] = ends.as_slice()
            {
                bound = ctx.eval_u64(scope, high);
            }
        });
    }
    bound
}

/// Methods that turn an HTTP body (a response's, a request's) into a
/// stream of chunks: it ends when the body does.
const BODY_STREAMS: &[&str] = &[
    "bytes_stream",
    "into_data_stream",
    "into_stream",
    "into_body",
    "body_mut",
    "take",
];

/// Whether the stream a `while let` condition awaits is a body: named in
/// the condition (`resp.bytes_stream()`) or by the `let` that bound it.
fn reads_a_body(ctx: &Ctx<'_>, f: crate::resolve::FnId, cond: &Expr) -> bool {
    let mut sources: Vec<&Expr> = vec![cond];
    cond.walk(&mut |e| {
        if let Expr::Path { path, .. } = e
            && path.segments.len() == 1
            && let Some(body) = &ctx.defs.fns[f].def.body
        {
            crate::entrypoints::find_local(body, &path.segments[0].name, &mut |init| {
                sources.push(init)
            });
        }
    });
    sources.iter().any(|s| {
        let mut body = false;
        s.walk(&mut |x| {
            if let Expr::MethodCall { method, .. } = x
                && BODY_STREAMS.contains(&method.as_str())
            {
                body = true;
            }
        });
        body
    })
}

fn duration_text(ctx: &Ctx<'_>, scope: super::Scope, e: &Expr) -> Option<String> {
    let (names, args, _) = ctx.ext_call(scope, e)?;
    let n = ctx.eval_u64(scope, args.first()?)?;
    let unit = match names.last()?.as_str() {
        "from_secs" => "s",
        "from_millis" => "ms",
        "from_micros" => "us",
        "from_nanos" => "ns",
        _ => return None,
    };
    Some(format!("{n} {unit}"))
}

/// Whether a `break` or `return` leaves this loop body (a `break` of a
/// nested loop does not; a `return` inside a closure or async block does not).
/// The lowered tree keeps `break x`/`return x` but not a bare `break`,
/// `return` or `continue` (all three are an empty `Other`): in the loop's own
/// body such a statement counts as an exit, so a bounded loop is never
/// reported (and an endless loop with a bare `continue` is missed).
fn exits(body: &Block) -> bool {
    block_leaves(body, true)
}

/// Whether the loop waits for a process signal (`sig.recv().await` on
/// `let mut sig = signal(SignalKind::user_defined1())?`): a signal handler,
/// idle between signals, which process-lifecycle reports.
fn waits_on_signal(ctx: &Ctx<'_>, f: crate::resolve::FnId, body: &Block) -> bool {
    let scope = ctx.scope(f);
    let Some(fn_body) = ctx.defs.fns[f].def.body.as_ref() else {
        return false;
    };
    let is_signal = |e: &Expr| {
        let mut found = false;
        e.walk(&mut |x| {
            if let Some((names, _, _)) = ctx.ext_call(scope, x)
                && super::process_lifecycle::is_signal(&names)
            {
                found = true;
            }
        });
        found
    };
    let mut found = false;
    body.walk(&mut |e| {
        if let Expr::Wrap {
            kind: WrapKind::Await,
            inner,
        } = e
            && let Expr::MethodCall {
                receiver, method, ..
            } = inner.peel()
            && method == "recv"
            && let Expr::Path { path, .. } = receiver.peel()
            && path.segments.len() == 1
        {
            crate::entrypoints::find_local(fn_body, &path.segments[0].name, &mut |init| {
                found |= is_signal(init);
            });
        }
    });
    found
}

/// Whether the loop waits on a ticker each round (`interval.tick().await`):
/// a periodic job, whatever condition may end it.
fn paced(body: &Block) -> bool {
    let mut found = false;
    body.walk(&mut |e| {
        if let Expr::Wrap {
            kind: WrapKind::Await,
            inner,
        } = e
            && let Expr::MethodCall { method, .. } = inner.peel()
            && method == "tick"
        {
            found = true;
        }
    });
    found
}

fn block_leaves(body: &Block, breaks: bool) -> bool {
    body.stmts.iter().any(|s| match s {
        Stmt::Let { init, els, .. } => {
            init.as_ref().is_some_and(|e| leaves(e, breaks))
                || els.as_ref().is_some_and(|b| block_leaves(b, breaks))
        }
        Stmt::Expr(e) | Stmt::Semi(e) => leaves(e, breaks),
        Stmt::Item(_) => false,
    })
}

/// Whether `e` holds a `return` (or, when `breaks`, a `break`) of the enclosing loop.
fn leaves(e: &Expr, breaks: bool) -> bool {
    let any = |xs: &[Expr]| xs.iter().any(|x| leaves(x, breaks));
    match e {
        Expr::Wrap {
            kind: WrapKind::Return,
            ..
        } => true,
        Expr::Wrap {
            kind: WrapKind::Break,
            inner,
        } => breaks || leaves(inner, breaks),
        Expr::Wrap { inner, .. } => leaves(inner, breaks),
        // A bare `break`, `return` or `continue` (see `exits`).
        Expr::Other(xs) if xs.is_empty() => breaks,
        // A nested loop: its `break`s are its own, but a `return` still leaves ours.
        Expr::Loop { body, iter, .. } => {
            iter.as_deref().is_some_and(|x| leaves(x, breaks)) || block_leaves(body, false)
        }
        Expr::Closure { .. } | Expr::Block { is_async: true, .. } => false,
        Expr::Block { block, .. } => block_leaves(block, breaks),
        Expr::If { cond, then, els } => {
            leaves(cond, breaks)
                || block_leaves(then, breaks)
                || els.as_deref().is_some_and(|x| leaves(x, breaks))
        }
        Expr::Match { expr, arms } => {
            leaves(expr, breaks) || arms.iter().any(|(_, a)| leaves(a, breaks))
        }
        Expr::Call { func, args, .. } => leaves(func, breaks) || any(args),
        Expr::MethodCall { receiver, args, .. } => leaves(receiver, breaks) || any(args),
        Expr::Field { base, .. } => leaves(base, breaks),
        Expr::Macro { args, .. } | Expr::Other(args) => any(args),
        Expr::Struct { fields, rest, .. } => {
            fields.iter().any(|(_, x)| leaves(x, breaks))
                || rest.as_deref().is_some_and(|x| leaves(x, breaks))
        }
        Expr::Let { expr, .. } => leaves(expr, breaks),
        Expr::Path { .. } | Expr::Lit { .. } => false,
    }
}

/// `while let Some(x) = Queue::take().await` where the workspace fn
/// `take` ends by waiting on a source itself (`lock.recv().await`): the
/// method it waits on.
fn wrapped_source(ctx: &Ctx<'_>, f: crate::resolve::FnId, cond: &Expr) -> Option<String> {
    let mut found = None;
    cond.walk(&mut |e| {
        if found.is_some() {
            return;
        }
        if let Expr::Wrap {
            kind: WrapKind::Await,
            inner,
        } = e
            && let Expr::Call { func, .. } = inner.peel()
            && let Expr::Path { path, .. } = func.peel()
        {
            found = ctx.defs.resolve_fn_path(f, path).into_iter().find_map(|g| {
                let tail = ctx.defs.fns[g].def.body.as_ref()?.tail()?;
                awaited_source(tail)
            });
        }
    });
    found
}

/// `rx.recv().await`, `stream.next().await`, `ticker.tick().await`,
/// `listener.accept().await` in a loop condition: the method waited on.
fn awaited_source(cond: &Expr) -> Option<String> {
    let mut found = None;
    cond.walk(&mut |e| {
        if let Expr::Wrap {
            kind: WrapKind::Await,
            inner,
        } = e
            && let Expr::MethodCall { method, .. } = inner.peel()
            && matches!(
                method.as_str(),
                "recv" | "next" | "tick" | "accept" | "message" | "recv_async" | "changed"
            )
            && found.is_none()
        {
            found = Some(method.to_string());
        }
    });
    found
}
