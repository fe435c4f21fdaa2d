//! `axum::Server` (hyper 0.14) with the shim: the same constructors and
//! builder settings; `serve` puts the route guard in front of the app and
//! returns hyper's own `Server` future (`with_graceful_shutdown`,
//! `local_addr`, awaiting it serves).

use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::hyper::server::conn::{AddrIncoming, AddrStream};
use ::hyper::{Body, Request, Response, StatusCode};
use ::tower_service::Service;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Stands in for `axum::Server` (hyper's `Server<I, S>`): its constructors
/// return a [`Builder`], whose `serve` returns this, the server future
/// (so `type AppServer = Server<AddrIncoming, IntoMakeService<Router>>`
/// still names what `serve` returns).
pub struct Server<I, S> {
    /// Until first polled (or turned into a graceful server).
    ready: Option<Box<::hyper::Server<I, GuardedMakeService<S>>>>,
    running: Option<Pin<Box<::hyper::Server<I, GuardedMakeService<S>>>>>,
}

impl<I, S> std::fmt::Debug for Server<I, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

impl Server<AddrIncoming, ()> {
    /// Binds `addr` (panics if it cannot, as hyper's `Server::bind` does).
    pub fn bind(addr: &SocketAddr) -> Builder {
        Self::try_bind(addr).unwrap_or_else(|e| panic!("error binding to {addr}: {e}"))
    }

    /// Binds `addr`.
    pub fn try_bind(addr: &SocketAddr) -> ::hyper::Result<Builder> {
        let addr = listen_addr(*addr);
        match std::net::TcpListener::bind(addr) {
            Ok(listener) => Self::from_tcp(listener),
            // hyper's own error for it (its constructors are private).
            Err(_) => ::hyper::Server::try_bind(&addr).map(|inner| Builder {
                inner,
                port: addr.port(),
            }),
        }
    }

    /// Serves on a listener the app bound itself.
    pub fn from_tcp(listener: std::net::TcpListener) -> ::hyper::Result<Builder> {
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let inner = ::hyper::Server::from_tcp(listener)?;
        #[cfg(feature = "native")]
        if ::cleave_lambda::on_lambda() {
            ::cleave_lambda::forward::start(move || port, |_, _| false);
        }
        Ok(Builder { inner, port })
    }
}

impl<S> Server<AddrIncoming, S> {
    /// The address the server listens on, as hyper's `Server::local_addr`.
    pub fn local_addr(&self) -> SocketAddr {
        match (&self.ready, &self.running) {
            (Some(s), _) => s.local_addr(),
            (None, Some(s)) => s.local_addr(),
            (None, None) => SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl<M, S, ME, F, B> Server<AddrIncoming, M>
where
    M: for<'a> Service<&'a AddrStream, Response = S, Error = ME, Future = F>,
    ME: Into<Box<dyn StdError + Send + Sync>> + 'static,
    F: Future<Output = Result<S, ME>> + Send + 'static,
    S: Service<Request<Body>, Response = Response<B>> + Send + 'static,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    S::Future: Send + 'static,
    B: ::hyper::body::HttpBody + Default + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    /// Serves until `signal` completes, then shuts down gracefully, as
    /// hyper's `Server::with_graceful_shutdown` (hyper's own future).
    pub fn with_graceful_shutdown<G>(
        mut self,
        signal: G,
    ) -> impl Future<Output = ::hyper::Result<()>>
    where
        G: Future<Output = ()>,
    {
        let server = self
            .ready
            .take()
            .expect("a server is not polled before this");
        (*server).with_graceful_shutdown(signal)
    }
}

impl<I, S> Future for Server<I, S>
where
    ::hyper::Server<I, GuardedMakeService<S>>: Future<Output = ::hyper::Result<()>>,
{
    type Output = ::hyper::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if let Some(server) = this.ready.take() {
            this.running = Some(Box::into_pin(server));
        }
        match this.running.as_mut() {
            Some(server) => server.as_mut().poll(cx),
            None => Poll::Ready(Ok(())),
        }
    }
}

/// Where to listen: on Lambda 127.0.0.1 on a free port, the only address
/// the forwarding loop calls; elsewhere `addr`.
fn listen_addr(addr: SocketAddr) -> SocketAddr {
    if ::cleave_lambda::on_lambda() {
        SocketAddr::from(([127, 0, 0, 1], 0))
    } else {
        addr
    }
}

/// hyper's server builder, bound; [`Builder::serve`] guards the app.
#[derive(Debug)]
pub struct Builder {
    inner: ::hyper::server::Builder<AddrIncoming>,
    port: u16,
}

macro_rules! settings {
    ($($name:ident($ty:ty)),* $(,)?) => {
        $(
            /// As hyper's `Builder` method of the same name.
            pub fn $name(self, value: $ty) -> Self {
                Builder { inner: self.inner.$name(value), port: self.port }
            }
        )*
    };
}

impl Builder {
    settings!(
        http1_keepalive(bool),
        http1_half_close(bool),
        http1_max_buf_size(usize),
        http1_pipeline_flush(bool),
        http1_writev(bool),
        http1_title_case_headers(bool),
        http1_preserve_header_case(bool),
        http1_only(bool),
        tcp_keepalive(Option<Duration>),
        tcp_nodelay(bool),
        tcp_sleep_on_accept_errors(bool),
    );

    /// The port the server listens on.
    pub fn local_port(&self) -> u16 {
        self.port
    }

    /// Serves the app made by `make_service` (`app.into_make_service()`,
    /// `into_make_service_with_connect_info::<SocketAddr>()`), with the
    /// route guard in front of each connection's service.
    pub fn serve<M, S, ME, F, B>(self, make_service: M) -> Server<AddrIncoming, M>
    where
        M: for<'a> Service<&'a AddrStream, Response = S, Error = ME, Future = F>,
        ME: Into<Box<dyn StdError + Send + Sync>> + 'static,
        F: Future<Output = Result<S, ME>> + Send + 'static,
        S: Service<Request<Body>, Response = Response<B>> + Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        S::Future: Send + 'static,
        B: ::hyper::body::HttpBody + Default + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        Server {
            ready: Some(Box::new(self.inner.serve(GuardedMakeService(make_service)))),
            running: None,
        }
    }
}

/// Makes each connection's service, guarded.
#[derive(Debug, Clone)]
pub struct GuardedMakeService<M>(M);

impl<'a, M, S, ME, F> Service<&'a AddrStream> for GuardedMakeService<M>
where
    M: Service<&'a AddrStream, Response = S, Error = ME, Future = F>,
    F: Future<Output = Result<S, ME>> + Send + 'static,
{
    type Response = GuardedService<S>;
    type Error = ME;
    type Future = BoxFuture<Result<GuardedService<S>, ME>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), ME>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, target: &'a AddrStream) -> Self::Future {
        let made = self.0.call(target);
        Box::pin(async move { made.await.map(GuardedService) })
    }
}

/// The per-connection service: answers 404 itself for another function's
/// routes, passes every other request to the app.
#[derive(Debug, Clone)]
pub struct GuardedService<S>(S);

impl<S, B> Service<Request<Body>> for GuardedService<S>
where
    S: Service<Request<Body>, Response = Response<B>>,
    S::Future: Send + 'static,
    B: Default + 'static,
{
    type Response = Response<B>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<B>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if ::cleave_lambda::refuses(
            ::cleave_lambda::Framework::Axum,
            request.method().as_str(),
            request.uri().path(),
        ) {
            return Box::pin(async {
                let mut response = Response::new(B::default());
                *response.status_mut() = StatusCode::NOT_FOUND;
                Ok(response)
            });
        }
        Box::pin(self.0.call(request))
    }
}
