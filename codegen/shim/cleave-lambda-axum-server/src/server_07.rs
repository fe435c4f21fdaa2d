//! `axum_server::Server` (0.6, 0.7) with the shim: the same constructors
//! and builder methods, over axum-server's own server. `serve` puts the
//! route guard in front of the app off Lambda and answers events
//! in-process on Lambda, where it binds nothing.

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;

use ::axum_server_real::accept::{Accept, DefaultAcceptor};
use ::axum_server_real::service::SendService;
use ::cleave_lambda_axum::__cleave::{GuardedService, LambdaApp, guarded, on_lambda};
use ::cleave_lambda_axum::http::Request;
use ::cleave_lambda_axum::response::Response;
use ::hyper::body::Incoming;
use ::hyper_util::rt::TokioExecutor;
use ::hyper_util::server::conn::auto::Builder;
use ::tokio::io::{AsyncRead, AsyncWrite};
use ::tokio::net::TcpStream;
use ::tower_service::Service;

use crate::handle::Handle;

/// Stands in for `axum_server::bind`.
pub fn bind(addr: SocketAddr) -> Server {
    Server::bind(addr)
}

/// Stands in for `axum_server::from_tcp`.
pub fn from_tcp(listener: std::net::TcpListener) -> Server {
    Server::from_tcp(listener)
}

/// Stands in for `axum_server::Server`: axum-server's server, the handle
/// the app gives it, and the address it is to listen on.
pub struct Server<Acc = DefaultAcceptor> {
    real: ::axum_server_real::Server<Acc>,
    handle: Handle,
    /// What `Handle::listening` reports on Lambda: the address asked for
    /// (`bind`) or already bound (`from_tcp`).
    addr: Option<SocketAddr>,
}

impl<Acc> fmt::Debug for Server<Acc> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

impl Server {
    pub fn bind(addr: SocketAddr) -> Self {
        Self::wrap(::axum_server_real::Server::bind(addr), Some(addr))
    }

    pub fn from_tcp(listener: std::net::TcpListener) -> Self {
        let addr = listener.local_addr().ok();
        Self::wrap(::axum_server_real::Server::from_tcp(listener), addr)
    }
}

impl<Acc> Server<Acc> {
    fn wrap(real: ::axum_server_real::Server<Acc>, addr: Option<SocketAddr>) -> Self {
        Self {
            real,
            handle: Handle::new(),
            addr,
        }
    }

    pub fn acceptor<Acceptor>(self, acceptor: Acceptor) -> Server<Acceptor> {
        Server {
            real: self.real.acceptor(acceptor),
            handle: self.handle,
            addr: self.addr,
        }
    }

    pub fn map<Acceptor, F>(self, acceptor: F) -> Server<Acceptor>
    where
        F: FnOnce(Acc) -> Acceptor,
    {
        Server {
            real: self.real.map(acceptor),
            handle: self.handle,
            addr: self.addr,
        }
    }

    pub fn get_ref(&self) -> &Acc {
        self.real.get_ref()
    }

    pub fn get_mut(&mut self) -> &mut Acc {
        self.real.get_mut()
    }

    pub fn http_builder(&mut self) -> &mut Builder<TokioExecutor> {
        self.real.http_builder()
    }

    pub fn handle(self, handle: Handle) -> Self {
        Self { handle, ..self }
    }

    /// Serves `make_service` (`Router::into_make_service()`, or
    /// `into_make_service_with_connect_info::<SocketAddr>()`): off Lambda
    /// through axum-server behind the route guard, on Lambda in-process.
    pub async fn serve<M, S>(self, make_service: M) -> io::Result<()>
    where
        M: Service<SocketAddr, Response = S> + LambdaApp,
        M::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        S: Service<Request<Incoming>, Response = Response, Error = Infallible>
            + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        Acc: Accept<TcpStream, GuardedService<S>> + Clone + Send + Sync + 'static,
        Acc::Stream: AsyncRead + AsyncWrite + Unpin + Send,
        Acc::Service: SendService<Request<Incoming>> + Send,
        Acc::Future: Send,
    {
        let Self { real, handle, addr } = self;
        if ::cleave_lambda::on_lambda() {
            drop(real);
            handle.report(addr);
            return on_lambda(make_service).await;
        }
        real.handle(handle.into_real())
            .serve(guarded(make_service))
            .await
    }
}
