//! ### What it does
//! Finds code that waits or runs without end: `sleep` calls
//! (`tokio::time::sleep`, `std::thread::sleep`, `actix_web::rt::time::sleep`,
//! `async_std::task::sleep`, `sleep_until`), `loop { .. }` with no `break`
//! and no `return` in it or paced by a ticker (`interval.tick().await`), and
//! `while let` loops that wait on a channel, a stream, a ticker or a
//! listener (`rx.recv().await`, `stream.next().await`, `listener.accept().await`).
//! A bare `continue` cannot be told from a bare `break` in cleave's syntax
//! tree, so an endless loop whose only way out looks like one is missed.
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
        ctx.walk_body(f, |e| {
            // `tokio::time::sleep(d)`, `thread::sleep(d)`, `rt::time::sleep(d)`, `sleep_until(t)`.
            if let Some((names, args, line)) = ctx.ext_call(scope, e)
                && is_sleep(&names)
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
                (None, Some(cond)) => {
                    if let Some(waits_on) = awaited_source(cond) {
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
