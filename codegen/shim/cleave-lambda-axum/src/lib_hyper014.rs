//! axum 0.3 to 0.6 with cleave's server shim. Generated workspaces rename
//! their `axum` dependency to this crate, so `axum::Server` (hyper 0.14's
//! `Server`, which these axum series re-export) resolves here:
//! `axum::Server::bind(&addr).serve(app.into_make_service())`, `try_bind`,
//! `from_tcp`, the builder's settings and `.with_graceful_shutdown(..)`
//! compile unchanged. Everything else is the real axum, re-exported whole.
//!
//! Off Lambda the server is hyper's, on the address asked for, with the
//! route guard in front of each connection's service. On Lambda
//! (`AWS_LAMBDA_RUNTIME_API` set, `native` feature) it listens on
//! 127.0.0.1 instead (a free port; a listener handed to `from_tcp` is kept)
//! and `cleave_lambda`'s loop forwards each event to it, with `X-Real-IP`
//! set to the event's source IP.

pub use ::axum_real::*;

// Private names here would shadow the glob re-export above: only a module.
mod server;

pub use self::server::Server;
