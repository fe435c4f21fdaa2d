//! `axum::serve` with the shim: the module re-exports axum's (`Listener`,
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

/// Stands in for `axum::serve`: same arguments, same contract.
pub fn serve<L, M, S>(listener: L, make_service: M) -> Serve<L, M, S>
where
    L: Listener,
    M: for<'a> Service<IncomingStream<'a, L>, Error = Infallible, Response = S> + LambdaApp,
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    Serve {
        listener,
        make_service,
        _marker: std::marker::PhantomData,
    }
}

/// What [`serve`] returns: awaiting it serves the app (`io::Result<()>`).
#[must_use = "futures must be awaited"]
pub struct Serve<L, M, S> {
    listener: L,
    make_service: M,
    _marker: std::marker::PhantomData<fn() -> S>,
}

impl<L: Listener, M, S> Serve<L, M, S> {
    /// Serves until `signal` completes, then shuts down gracefully (off
    /// Lambda; Lambda ends the process itself).
    pub fn with_graceful_shutdown<F>(self, signal: F) -> WithGracefulShutdown<L, M, S, F>
    where
        F: Future<Output = ()> + Send + 'static,
    {
        WithGracefulShutdown {
            serve: self,
            signal,
        }
    }

    /// The listener's address, as axum's `Serve::local_addr`.
    pub fn local_addr(&self) -> io::Result<L::Addr> {
        self.listener.local_addr()
    }
}

impl<L, M, S> Debug for Serve<L, M, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Serve").finish_non_exhaustive()
    }
}

/// [`Serve::with_graceful_shutdown`]'s future.
#[must_use = "futures must be awaited"]
pub struct WithGracefulShutdown<L, M, S, F> {
    serve: Serve<L, M, S>,
    signal: F,
}

impl<L: Listener, M, S, F> WithGracefulShutdown<L, M, S, F> {
    pub fn local_addr(&self) -> io::Result<L::Addr> {
        self.serve.listener.local_addr()
    }
}

impl<L, M, S, F> Debug for WithGracefulShutdown<L, M, S, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithGracefulShutdown")
            .finish_non_exhaustive()
    }
}

impl<L, M, S> IntoFuture for Serve<L, M, S>
where
    L: Listener,
    L::Addr: Debug,
    M: for<'a> Service<IncomingStream<'a, L>, Error = Infallible, Response = S>
        + LambdaApp
        + Send
        + 'static,
    for<'a> <M as Service<IncomingStream<'a, L>>>::Future: Send,
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
            ::axum_real::serve(self.listener, guarded(self.make_service)).await
        })
    }
}

impl<L, M, S, F> IntoFuture for WithGracefulShutdown<L, M, S, F>
where
    L: Listener,
    L::Addr: Debug,
    M: for<'a> Service<IncomingStream<'a, L>, Error = Infallible, Response = S>
        + LambdaApp
        + Send
        + 'static,
    for<'a> <M as Service<IncomingStream<'a, L>>>::Future: Send,
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
            ::axum_real::serve(serve.listener, guarded(serve.make_service))
                .with_graceful_shutdown(signal)
                .await
        })
    }
}
