//! ### What it does
//! Finds code that manages the process itself: `std::process::exit` and
//! `abort`, signal handling (`tokio::signal::ctrl_c`,
//! `tokio::signal::unix::signal`, `actix_rt::signal`, `ctrlc::set_handler`,
//! `signal_hook` registration), and sockets bound beside the HTTP server
//! (`TcpListener::bind`, `UdpSocket::bind`, `UnixListener::bind` whose
//! listener is not the one handed to `axum::serve`/`from_tcp`/`listen`/
//! `listen_openssl`, in the same fn or through a workspace fn it is passed
//! to, as in `run(listener, pool)`).
//!
//! ### Why is this bad on Lambda
//! The Lambda runtime owns the process: it starts it, feeds it events and
//! freezes or kills it. `exit` ends the instance mid-invocation (the request
//! fails and the next one pays a cold start); shutdown hooks on SIGINT/SIGTERM
//! mostly never run (Lambda sends SIGTERM only to functions with an
//! extension, with 500 ms to react); nothing can connect to an extra port
//! opened inside a function (metrics endpoints, admin listeners, UDP
//! receivers).
//!
//! ### Example
//! ```text
//! if config.is_invalid() { std::process::exit(1) }
//! let metrics = TcpListener::bind("0.0.0.0:9100").await?;
//! tokio::signal::ctrl_c().await?;
//! ```
//!
//! ### Use instead
//! Return an error from the handler (or from init, which fails the cold
//! start visibly); flush and clean up at the end of each invocation instead
//! of at shutdown; publish metrics through CloudWatch (EMF logs) rather than
//! a scrape endpoint.

use super::{AtStartup, Ctx, Finding, Lint, Subject, bound_name, ends, mentions_any};
use crate::diagnostic::Severity;
use crate::resolve::FnId;
use crate::syntax::{Expr, Stmt};

pub(crate) static LINT: Lint = Lint {
    code: "process-lifecycle",
    severity: Severity::Warning,
    summary: "code that exits the process, handles signals or opens extra listeners",
    advice: "Let the Lambda runtime own the process: return errors instead of exiting, do cleanup \
             per invocation instead of on shutdown signals, and publish metrics through CloudWatch \
             instead of an extra listener.",
    check,
};

fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (f, _) in ctx.bodies() {
        let scope = ctx.scope(f);
        let name = ctx.fn_name(f);
        let served = served_names(ctx, f);
        let mut served_calls: Vec<*const Expr> = Vec::new();
        ctx.walk_body(f, |e| {
            // `axum::serve(TcpListener::bind(addr).await?, app)`: the server's own listener.
            if is_server_call(e) {
                e.walk(&mut |inner| {
                    if !std::ptr::eq(inner, e) {
                        served_calls.push(inner as *const Expr);
                    }
                });
            }
        });
        let mut bind_lets: Vec<(*const Expr, &str)> = Vec::new();
        for b in ctx.body_blocks(f) {
            for s in &b.stmts {
                if let Stmt::Let {
                    pat,
                    init: Some(init),
                    ..
                } = s
                    && let Some(n) = bound_name(pat)
                {
                    init.walk(&mut |x| bind_lets.push((x as *const Expr, n)));
                }
            }
        }
        ctx.walk_body(f, |e| {
            let Some((names, _, line)) = ctx.ext_call(scope, e) else {
                return;
            };
            let called = names.join("::");
            let mut severity = None;
            let message = if is_exit(&names) {
                // `std::process::exit(1)`, `process::abort()`.
                format!(
                    "`{name}` ends the process (`{called}`): on Lambda that kills the instance \
                     mid-invocation; the request fails and the next one pays a cold start"
                )
            } else if is_signal(&names) {
                // `tokio::signal::ctrl_c()`, `signal(SignalKind::terminate())`, `ctrlc::set_handler`.
                format!(
                    "`{name}` handles process signals (`{called}`): the Lambda runtime owns the \
                     process and freezes it between invocations; shutdown hooks mostly never run"
                )
            } else if is_bind(&names) {
                // `TcpListener::bind(addr)` not handed to the HTTP server.
                let ptr = e as *const Expr;
                let for_server = served_calls.contains(&ptr)
                    || bind_lets.iter().any(|(p, n)| {
                        *p == ptr && (served.contains(n) || handed_to_server(ctx, f, n, 0))
                    });
                if for_server {
                    return;
                }
                // Nothing can reach it: it does not work at all.
                severity = Some(Severity::Error);
                format!(
                    "`{name}` opens a listener beside the HTTP server (`{called}`): nothing can \
                     connect to a port inside a Lambda function"
                )
            } else {
                return;
            };
            let mut finding = Finding::new(ctx.fn_file(f), line, Subject::Fn(f), message);
            // Exiting while starting up is a failed start, not a request's
            // problem. (A signal hook at start-up stays: the shutdown work it
            // does, flushing or draining, never runs on Lambda.)
            if is_exit(&names) {
                finding = finding.at_startup(AtStartup::Drop);
            }
            out.push(match severity {
                Some(s) => finding.severity(s),
                None => finding,
            });
        });
    }
}

fn is_exit(names: &[String]) -> bool {
    ends(names, &["process", "exit"]) || ends(names, &["process", "abort"])
}

pub(super) fn is_signal(names: &[String]) -> bool {
    ends(names, &["signal", "ctrl_c"])
        || ends(names, &["unix", "signal"])
        || ends(names, &["windows", "ctrl_c"])
        || ends(names, &["ctrlc", "set_handler"])
        || (mentions_any(names, &["signal_hook", "signal_hook_tokio"])
            && matches!(
                names.last().map(String::as_str),
                Some("register" | "new" | "flag")
            ))
}

fn is_bind(names: &[String]) -> bool {
    ends(names, &["TcpListener", "bind"])
        || ends(names, &["UdpSocket", "bind"])
        || ends(names, &["UnixListener", "bind"])
}

/// `axum::serve(..)`, `Server::from_tcp(..)`, `.listen(..)`, `.serve(..)`: a call that
/// hands a listener to the HTTP server.
fn is_server_call(e: &Expr) -> bool {
    match e {
        Expr::Call { func, .. } => match func.peel() {
            Expr::Path { path, .. } => {
                matches!(path.last(), Some("serve" | "from_tcp" | "from_listener"))
            }
            _ => false,
        },
        // actix `HttpServer::listen(l)`, `listen_openssl(l, ..)`, `listen_rustls_0_23(l, ..)`,
        // `listen_uds(l)`, `listen_auto_h2c(l)`.
        Expr::MethodCall { method, .. } => {
            matches!(method.as_str(), "serve" | "from_tcp" | "incoming")
                || method.starts_with("listen")
        }
        _ => false,
    }
}

/// Names of locals handed to the HTTP server (`axum::serve(listener, app)`).
fn served_names<'a>(ctx: &Ctx<'a>, f: FnId) -> Vec<&'a str> {
    let mut out = Vec::new();
    ctx.walk_body(f, |e| {
        if !is_server_call(e) {
            return;
        }
        let args = match e {
            Expr::Call { args, .. } | Expr::MethodCall { args, .. } => args,
            _ => return,
        };
        for a in args {
            if let Expr::Path { path, .. } = a.peel()
                && path.segments.len() == 1
                && let Some(n) = path.last()
            {
                out.push(n);
            }
        }
    });
    out
}

/// Whether local `name` of fn `f` is passed to a workspace fn that hands
/// that parameter to the HTTP server (`run(listener, pool)` with
/// `fn run(listener: TcpListener, ..) { HttpServer::new(..).listen(listener) }`),
/// a few calls deep. Only asked about a listener not served in `f` itself,
/// which is rare, so the walk stays off the common path.
fn handed_to_server(ctx: &Ctx<'_>, f: FnId, name: &str, depth: u32) -> bool {
    if depth > 3 {
        return false;
    }
    let mut found = false;
    ctx.walk_body(f, |e| {
        if found {
            return;
        }
        let Expr::Call { func, args, .. } = e else {
            return;
        };
        let Expr::Path { path, .. } = func.peel() else {
            return;
        };
        let Some(i) = args
            .iter()
            .position(|a| matches!(a.peel(), Expr::Path { path: p, .. } if p.is_ident(name)))
        else {
            return;
        };
        for g in ctx.defs.resolve_fn_path(f, path) {
            let def = ctx.defs.fns[g].def;
            // `Type::method(self_arg, ..)`: the receiver takes the first argument.
            let at = if def.receiver.is_some() {
                i.checked_sub(1)
            } else {
                Some(i)
            };
            let Some(param) = at
                .and_then(|at| def.params.get(at))
                .and_then(|(p, _)| bound_name(p))
            else {
                continue;
            };
            if served_names(ctx, g).contains(&param) || handed_to_server(ctx, g, param, depth + 1) {
                found = true;
            }
        }
    });
    found
}
