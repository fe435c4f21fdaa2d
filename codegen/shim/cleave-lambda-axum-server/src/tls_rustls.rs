//! `axum_server::tls_rustls` with the shim: the module re-exports
//! axum-server's (`RustlsConfig`, `RustlsAcceptor`, ...) and shadows the
//! fns that make a server, which make the shim's [`Server`].

pub use ::axum_server_real::tls_rustls::*;

// No private import may name what the glob above re-exports.
use crate::server::Server;
use ::axum_server_real::Address;

/// Stands in for `axum_server::bind_rustls`.
pub fn bind_rustls<A: Address>(addr: A, config: RustlsConfig) -> Server<A, RustlsAcceptor> {
    crate::server::bind(addr).acceptor(RustlsAcceptor::new(config))
}

/// Stands in for `axum_server::from_tcp_rustls`.
pub fn from_tcp_rustls(
    listener: std::net::TcpListener,
    config: RustlsConfig,
) -> std::io::Result<Server<std::net::SocketAddr, RustlsAcceptor>> {
    Ok(crate::server::from_tcp(listener)?.acceptor(RustlsAcceptor::new(config)))
}

/// Stands in for `axum_server::from_unix_rustls`.
#[cfg(unix)]
pub fn from_unix_rustls(
    listener: std::os::unix::net::UnixListener,
    config: RustlsConfig,
) -> std::io::Result<Server<std::os::unix::net::SocketAddr, RustlsAcceptor>> {
    Ok(crate::server::from_unix(listener)?.acceptor(RustlsAcceptor::new(config)))
}
