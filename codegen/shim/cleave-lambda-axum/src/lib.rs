//! axum 0.8 with cleave's server shim. Generated workspaces rename their
//! `axum` dependency to this crate, so `axum::serve` (and every other path
//! naming it: `use axum::{Router, serve}`, `axum::serve(..)
//! .with_graceful_shutdown(..)`) resolves here; everything else is the real
//! axum, re-exported whole.
//!
//! Off Lambda, [`serve`] is axum's: same listener, same behaviour, with the
//! route guard in front of the app. On Lambda (`AWS_LAMBDA_RUNTIME_API`
//! set, `native` feature) it serves the same app in-process through
//! `lambda_http`, with `ConnectInfo<SocketAddr>` taken from the event's
//! source IP (port 0).

pub use ::axum_real::*;

// `axum::serve` names a module (`axum::serve::Serve`, `Listener`) and a fn;
// both are the shim's, the module re-exporting the rest of axum's.
pub mod serve;

pub use self::serve::serve;

/// For the facades of crates that serve axum apps
/// (`cleave-lambda-axum-server`): the guard and the in-process Lambda
/// answer `serve` uses, so each lives once.
#[doc(hidden)]
pub mod __cleave {
    pub use crate::serve::shared::{GuardedService, LambdaApp, guarded, on_lambda};
}
