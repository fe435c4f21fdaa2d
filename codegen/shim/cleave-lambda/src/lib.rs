//! cleave's server shim, shared by the framework facades
//! (`cleave-lambda-axum`, `cleave-lambda-actix-web`, `cleave-lambda-rocket`).
//!
//! Each function binary calls [`init`] with its own routes and the routes
//! other functions own before the monolith's `main` runs; a facade asks
//! [`refuses`] for each request and answers 404 when another function owns
//! the route. Without `init` (the monolith's own binaries, tests) nothing is
//! refused. With the `native` feature this crate also holds what every
//! facade needs on Lambda: whether it runs there, and the caller's address;
//! with `forward`, the loop that forwards events to an app's own server on
//! 127.0.0.1, for frameworks that cannot answer an event in-process.

#[cfg(feature = "forward")]
pub mod forward;
mod guard;
mod worker;

use std::sync::OnceLock;

pub use guard::{Framework, Guard};
pub use worker::{
    CronText, Round, every_second, gate, gate_blocking, init_worker, pace, paced, round, worker,
};
#[cfg(feature = "native")]
pub use lambda_http;

/// `(method, path)` pairs in cleave's form.
pub type Routes = &'static [(&'static str, &'static str)];

static ROUTES: OnceLock<(Routes, Routes)> = OnceLock::new();
static GUARDS: [OnceLock<Guard>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];

/// Called by a function's `main` before the monolith's: the routes it
/// serves, and the monolith's routes other functions serve (404 here).
pub fn init(own: Routes, elsewhere: Routes) {
    let _ = ROUTES.set((own, elsewhere));
}

/// Called by a function's `main` after [`init`] when the serving binary's
/// `main` is a CLI that serves on a subcommand: started with no arguments,
/// as Lambda starts it, the process runs itself again with `args` (the
/// plan's `args`), so the binary's own argument parsing picks the serving
/// subcommand. Started with arguments, it goes on as given.
pub fn start_with(args: &[&str]) {
    if args.is_empty() || std::env::args_os().nth(1).is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| fail("cannot find this binary", e));
    let mut command = std::process::Command::new(exe);
    command.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        fail("cannot start again with the plan's `args`", error);
    }
    #[cfg(not(unix))]
    {
        let status = command
            .status()
            .unwrap_or_else(|e| fail("cannot start again with the plan's `args`", e));
        std::process::exit(status.code().unwrap_or(1));
    }
}

/// The route sets given to [`init`] (empty without it).
pub fn routes() -> (Routes, Routes) {
    ROUTES.get().copied().unwrap_or((&[], &[]))
}

/// Whether a request of `method` to `path` (the request target) belongs to
/// another function and is answered 404 here.
pub fn refuses(framework: Framework, method: &str, path: &str) -> bool {
    let (own, elsewhere) = routes();
    if elsewhere.is_empty() {
        return false;
    }
    let slot = match framework {
        Framework::Axum => 0,
        Framework::ActixWeb => 1,
        Framework::Rocket => 2,
    };
    GUARDS[slot]
        .get_or_init(|| Guard::new(framework, own, elsewhere))
        .refuses(method, path)
}

/// Whether the route `(method, path)` in cleave's form is another
/// function's and not this one's (rocket's backstop asks by pattern).
pub fn route_is_foreign(method: &str, path: &str) -> bool {
    let (own, elsewhere) = routes();
    let listed = |list: Routes| {
        list.iter()
            .any(|(m, p)| *p == path && (*m == "ANY" || *m == method))
    };
    !listed(own) && listed(elsewhere)
}

/// Whether the facades serve Lambda events: under a Lambda runtime
/// (`cargo lambda watch` sets `AWS_LAMBDA_RUNTIME_API` too), in a function
/// that serves routes. Always `false` behind the Lambda Web Adapter, where
/// the function is a plain HTTP server, and in a worker function, whose
/// events are scheduled rounds of a loop (`worker`): there the app's server
/// starts as off Lambda and no event reaches it.
pub fn on_lambda() -> bool {
    lambda_env() && worker::worker().is_none()
}

/// Whether the process runs under a Lambda runtime, whatever it serves.
fn lambda_env() -> bool {
    cfg!(feature = "native") && std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some()
}

/// The caller's address as API Gateway saw it (port 0).
#[cfg(feature = "native")]
pub fn source_ip(request: &lambda_http::Request) -> Option<std::net::IpAddr> {
    use lambda_http::request::RequestContext;
    use lambda_http::RequestExt;
    let ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.http.source_ip.clone(),
        Some(RequestContext::ApiGatewayV1(c)) => c.identity.source_ip.clone(),
        _ => None,
    };
    ip.and_then(|ip| ip.parse().ok())
}

/// Ends the process when serving on Lambda failed: an app that cannot
/// serve exits non-zero instead of answering errors forever.
pub fn fail(what: &str, error: impl std::fmt::Display) -> ! {
    eprintln!("cleave-lambda: {what}: {error}");
    std::process::exit(1)
}
