//! `axum::serve` (axum 0.7) with the shim: the module re-exports axum's (`Listener`,
//! `IncomingStream`, ...) and shadows `serve`, `Serve` and
//! `WithGracefulShutdown`.

pub use ::axum_real::serve::*;

// No private import may name what the glob above re-exports.
use std::convert::Infallible;
use std::fmt::Debug;
use std::future::{Future, IntoFuture};
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use ::axum_real::extract::Request;
use ::axum_real::response::{IntoResponse, Response};
use ::tower::Service;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

// Shared by every axum series' `serve` module, and by the facades of
// crates that serve axum apps (`crate::__cleave`).
#[path = "serve_shared.rs"]
pub(crate) mod shared;

use self::shared::{guarded, on_lambda};
pub use self::shared::{GuardedService, LambdaApp};

/// Stands in for `axum::serve` (0.7): same arguments, same contract.
pub fn serve<M, S>(tcp_listener: ::tokio::net::TcpListener, make_service: M) -> Serve<M, S>
where
    M: for<'a> Service<IncomingStream<'a>, Error = Infallible, Response = S> + LambdaApp,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    Serve {
        listener: tcp_listener,
        make_service,
        tcp_nodelay: None,
        _marker: std::marker::PhantomData,
    }
}

/// What [`serve`] returns: awaiting it serves the app (`io::Result<()>`).
#[must_use = "futures must be awaited"]
pub struct Serve<M, S> {
    listener: ::tokio::net::TcpListener,
    make_service: M,
    tcp_nodelay: Option<bool>,
    _marker: std::marker::PhantomData<fn() -> S>,
}

impl<M, S> Serve<M, S> {
    /// Serves until `signal` completes, then shuts down gracefully (off
    /// Lambda; Lambda ends the process itself).
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<M, S, F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal,
        }
    }

    /// `TCP_NODELAY` on accepted connections, as axum's `Serve::tcp_nodelay`.
    pub fn tcp_nodelay(self, nodelay: bool) -> Self {
        Self {
            tcp_nodelay: Some(nodelay),
            ..self
        }
    }

    /// The listener's address, as axum's `Serve::local_addr`.
    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }
}

impl<M, S> Debug for Serve<M, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve").finish_non_exhaustive()
    }
}

/// [`Serve::with_graceful_shutdown`]'s future.
#[must_use = "futures must be awaited"]
pub struct WithGracefulShutdown<M, S, F> {
    serve: Serve<M, S>,
    signal: F,
}

impl<M, S, F> WithGracefulShutdown<M, S, F> {
    pub fn tcp_nodelay(self, nodelay: bool) -> Self {
        Self {
            serve: self.serve.tcp_nodelay(nodelay),
            signal: self.signal,
        }
    }

    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.serve.listener.local_addr()
    }
}

impl<M, S, F> Debug for WithGracefulShutdown<M, S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithGracefulShutdown")
            .finish_non_exhaustive()
    }
}

impl<M, S> IntoFuture for Serve<M, S>
where
    M: for<'a> Service<IncomingStream<'a>, Error = Infallible, Response = S>
        + LambdaApp
        + Send
        + 'static,
    for<'a> <M as Service<IncomingStream<'a>>>::Future: Send,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = BoxFuture<io::Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            if ::cleave_lambda::on_lambda() {
                drop(self.listener);
                return on_lambda(self.make_service).await;
            }
            let serve = ::axum_real::serve(self.listener, guarded(self.make_service));
            match self.tcp_nodelay {
                Some(nodelay) => serve.tcp_nodelay(nodelay).await,
                None => serve.await,
            }
        })
    }
}

impl<M, S, F> IntoFuture for WithGracefulShutdown<M, S, F>
where
    M: for<'a> Service<IncomingStream<'a>, Error = Infallible, Response = S>
        + LambdaApp
        + Send
        + 'static,
    for<'a> <M as Service<IncomingStream<'a>>>::Future: Send,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = BoxFuture<io::Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let Self { serve, signal } = self;
            if ::cleave_lambda::on_lambda() {
                drop(serve.listener);
                return on_lambda(serve.make_service).await;
            }
            let real = ::axum_real::serve(serve.listener, guarded(serve.make_service));
            let real = match serve.tcp_nodelay {
                Some(nodelay) => real.tcp_nodelay(nodelay),
                None => real,
            };
            real.with_graceful_shutdown(signal).await
        })
    }
}
