//! `axum_server::tls_openssl` with the shim: the module re-exports
//! axum-server's (`OpenSSLConfig`, `OpenSSLAcceptor`, ...) and shadows
//! `bind_openssl`, which makes the shim's [`Server`].

pub use ::axum_server_real::tls_openssl::*;

// No private import may name what the glob above re-exports.
use crate::server::Server;
use ::axum_server_real::Address;

/// Stands in for `axum_server::bind_openssl`.
pub fn bind_openssl<A: Address>(addr: A, config: OpenSSLConfig) -> Server<A, OpenSSLAcceptor> {
    crate::server::bind(addr).acceptor(OpenSSLAcceptor::new(config))
}
