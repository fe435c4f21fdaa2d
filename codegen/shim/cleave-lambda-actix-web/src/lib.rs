//! actix-web 4 with cleave's server shim. Generated workspaces rename their
//! `actix-web` dependency to this crate, so `actix_web::HttpServer` and
//! `actix_web::dev::{Server, ServerHandle}` (at any path, in `use` groups
//! and macros) resolve here; everything else is the real actix-web,
//! re-exported whole.
//!
//! Off Lambda, [`HttpServer`] builds the real server with the same
//! settings on the same listeners (TLS and Unix sockets included, each
//! bind under the feature or platform actix-web has it under), the `App`
//! behind the route guard. On Lambda (`AWS_LAMBDA_RUNTIME_API` set,
//! `native` feature) `run()` binds nothing: the `App` runs on its own actix `System` thread (actix services
//! are `!Send`, as in actix's own workers) and a `lambda_http` loop on a
//! thread of its own forwards each event to it over a channel.

pub use ::actix_web_real::*;

mod server;

pub use server::HttpServer;

/// actix-web's `dev` module, with the shim's `Server` and `ServerHandle`.
pub mod dev {
    pub use ::actix_web_real::dev::*;

    pub use crate::server::{Server, ServerHandle};
}

#[cfg(feature = "native")]
mod lambda;
