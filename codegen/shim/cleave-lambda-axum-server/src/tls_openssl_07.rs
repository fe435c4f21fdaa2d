//! `axum_server::tls_openssl` (0.6, 0.7) with the shim: the module
//! re-exports axum-server's (`OpenSSLConfig`, `OpenSSLAcceptor`, ...) and
//! shadows `bind_openssl`, which makes the shim's [`Server`].

pub use ::axum_server_real::tls_openssl::*;

// No private import may name what the glob above re-exports.
use crate::server::Server;

/// Stands in for `axum_server::bind_openssl`.
pub fn bind_openssl(addr: std::net::SocketAddr, config: OpenSSLConfig) -> Server<OpenSSLAcceptor> {
    crate::server::bind(addr).acceptor(OpenSSLAcceptor::new(config))
}
