//! axum-server 0.6 and 0.7 with cleave's server shim. Generated workspaces
//! rename their `axum-server` dependency to this crate, so the paths that
//! start a server (`axum_server::bind(addr)`, `bind_rustls`,
//! `from_tcp(listener)`, `from_tcp_rustls`, `Server::bind`,
//! `Server::from_tcp`, and `Handle` beside them) resolve here and compile
//! unchanged; everything else (`tls_rustls::RustlsConfig`, `accept`,
//! `service`) is the real axum-server, re-exported whole.
//!
//! Off Lambda, `Server::serve` is axum-server's: same listener, same
//! acceptor (TLS included), same handle, with cleave's route guard in front
//! of each connection's service. On Lambda (`AWS_LAMBDA_RUNTIME_API` set,
//! the axum facade's `native` feature) it binds nothing and answers each
//! event in-process through the app's router, as `axum::serve` does: the
//! guard and the Lambda answer are the axum facade's
//! (`cleave_lambda_axum::__cleave`), not a copy.

pub use ::axum_server_real::*;

// Private names here would shadow the glob re-export above: only modules.
mod handle;
mod server;
#[cfg(feature = "tls-openssl")]
pub mod tls_openssl;
#[cfg(any(feature = "tls-rustls", feature = "tls-rustls-no-provider"))]
pub mod tls_rustls;

pub use self::handle::Handle;
pub use self::server::{Server, bind, from_tcp};
#[cfg(feature = "tls-openssl")]
pub use self::tls_openssl::bind_openssl;
#[cfg(any(feature = "tls-rustls", feature = "tls-rustls-no-provider"))]
pub use self::tls_rustls::{bind_rustls, from_tcp_rustls};
