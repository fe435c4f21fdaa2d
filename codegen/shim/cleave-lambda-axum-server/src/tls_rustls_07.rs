//! `axum_server::tls_rustls` (0.6, 0.7) with the shim: the module
//! re-exports axum-server's (`RustlsConfig`, `RustlsAcceptor`, ...) and
//! shadows the fns that make a server, which make the shim's [`Server`].

pub use ::axum_server_real::tls_rustls::*;

// No private import may name what the glob above re-exports.
use crate::server::Server;

/// Stands in for `axum_server::bind_rustls`.
pub fn bind_rustls(addr: std::net::SocketAddr, config: RustlsConfig) -> Server<RustlsAcceptor> {
    crate::server::bind(addr).acceptor(RustlsAcceptor::new(config))
}

/// Stands in for `axum_server::from_tcp_rustls`.
pub fn from_tcp_rustls(
    listener: std::net::TcpListener,
    config: RustlsConfig,
) -> Server<RustlsAcceptor> {
    crate::server::from_tcp(listener).acceptor(RustlsAcceptor::new(config))
}
