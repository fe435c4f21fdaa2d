//! `HttpServer`, `Server` and `ServerHandle` as actix-web's, with the guard.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use ::actix_web_real::body::{BoxBody, MessageBody};
use ::actix_web_real::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use ::actix_web_real::http::KeepAlive;
use ::actix_web_real::{App, HttpResponse};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The settings real apps give the builder, applied to the real server.
#[derive(Default)]
struct Settings {
    workers: Option<usize>,
    keep_alive: Option<KeepAlive>,
    shutdown_timeout: Option<u64>,
    backlog: Option<u32>,
    max_connections: Option<usize>,
    max_connection_rate: Option<usize>,
    client_request_timeout: Option<Duration>,
    client_disconnect_timeout: Option<Duration>,
    server_hostname: Option<String>,
    disable_signals: bool,
    system_exit: bool,
}

/// Stands in for `actix_web::HttpServer`: the same builder, the same
/// listeners; `run()` gives a [`Server`].
pub struct HttpServer<F, T, B> {
    factory: F,
    settings: Settings,
    /// Bound listeners, and whether each speaks h2c too.
    listeners: Vec<(TcpListener, bool)>,
    /// On Lambda nothing is bound; the addresses asked for, for `addrs()`.
    addrs: Vec<SocketAddr>,
    _app: std::marker::PhantomData<fn() -> (T, B)>,
}

impl<F, T, B> HttpServer<F, T, B>
where
    F: Fn() -> App<T> + Send + Clone + 'static,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = ::actix_web_real::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    pub fn new(factory: F) -> Self {
        Self {
            factory,
            settings: Settings::default(),
            listeners: Vec::new(),
            addrs: Vec::new(),
            _app: std::marker::PhantomData,
        }
    }

    pub fn workers(mut self, num: usize) -> Self {
        self.settings.workers = Some(num);
        self
    }

    pub fn keep_alive<K: Into<KeepAlive>>(mut self, val: K) -> Self {
        self.settings.keep_alive = Some(val.into());
        self
    }

    pub fn backlog(mut self, backlog: u32) -> Self {
        self.settings.backlog = Some(backlog);
        self
    }

    pub fn max_connections(mut self, num: usize) -> Self {
        self.settings.max_connections = Some(num);
        self
    }

    pub fn max_connection_rate(mut self, num: usize) -> Self {
        self.settings.max_connection_rate = Some(num);
        self
    }

    pub fn client_request_timeout(mut self, dur: Duration) -> Self {
        self.settings.client_request_timeout = Some(dur);
        self
    }

    pub fn client_disconnect_timeout(mut self, dur: Duration) -> Self {
        self.settings.client_disconnect_timeout = Some(dur);
        self
    }

    pub fn server_hostname<V: AsRef<str>>(mut self, val: V) -> Self {
        self.settings.server_hostname = Some(val.as_ref().to_owned());
        self
    }

    pub fn shutdown_timeout(mut self, sec: u64) -> Self {
        self.settings.shutdown_timeout = Some(sec);
        self
    }

    pub fn disable_signals(mut self) -> Self {
        self.settings.disable_signals = true;
        self
    }

    pub fn system_exit(mut self) -> Self {
        self.settings.system_exit = true;
        self
    }

    /// The addresses bound so far (on Lambda: the ones asked for).
    pub fn addrs(&self) -> Vec<SocketAddr> {
        if ::cleave_lambda::on_lambda() {
            return self.addrs.clone();
        }
        self.listeners
            .iter()
            .filter_map(|(l, _)| l.local_addr().ok())
            .collect()
    }

    pub fn bind<A: ToSocketAddrs>(self, addrs: A) -> io::Result<Self> {
        self.bind_as(addrs, false)
    }

    pub fn bind_auto_h2c<A: ToSocketAddrs>(self, addrs: A) -> io::Result<Self> {
        self.bind_as(addrs, true)
    }

    /// Binds now, as actix does, so a taken port fails here; on Lambda
    /// nothing is bound.
    fn bind_as<A: ToSocketAddrs>(mut self, addrs: A, h2c: bool) -> io::Result<Self> {
        let addrs: Vec<SocketAddr> = addrs.to_socket_addrs()?.collect();
        if ::cleave_lambda::on_lambda() {
            self.addrs.extend(addrs);
            return Ok(self);
        }
        let mut error = None;
        let mut bound = false;
        for addr in addrs {
            match TcpListener::bind(addr) {
                Ok(listener) => {
                    self.listeners.push((listener, h2c));
                    bound = true;
                }
                Err(e) => error = Some(e),
            }
        }
        match (bound, error) {
            (false, Some(e)) => Err(e),
            (false, None) => Err(io::Error::other("can not bind to address")),
            _ => Ok(self),
        }
    }

    pub fn listen(mut self, listener: TcpListener) -> io::Result<Self> {
        if let Ok(addr) = listener.local_addr() {
            self.addrs.push(addr);
        }
        if !::cleave_lambda::on_lambda() {
            self.listeners.push((listener, false));
        }
        Ok(self)
    }

    pub fn listen_auto_h2c(mut self, listener: TcpListener) -> io::Result<Self> {
        if let Ok(addr) = listener.local_addr() {
            self.addrs.push(addr);
        }
        if !::cleave_lambda::on_lambda() {
            self.listeners.push((listener, true));
        }
        Ok(self)
    }

    /// Starts serving, as actix's `run()`: off Lambda the real server on
    /// the listeners bound above, on Lambda the in-process loop.
    pub fn run(self) -> Server {
        if ::cleave_lambda::on_lambda() {
            return lambda_server(self.factory);
        }
        match self.real() {
            Ok(server) => {
                let handle = ServerHandle(Some(server.handle()));
                Server {
                    future: Box::pin(server),
                    handle,
                }
            }
            Err(e) => Server {
                future: Box::pin(async move { Err(e) }),
                handle: ServerHandle(None),
            },
        }
    }

    fn real(self) -> io::Result<::actix_web_real::dev::Server> {
        let factory = self.factory;
        let s = self.settings;
        let mut server = ::actix_web_real::HttpServer::new(move || guarded(factory()));
        if let Some(v) = s.workers {
            server = server.workers(v);
        }
        if let Some(v) = s.keep_alive {
            server = server.keep_alive(v);
        }
        if let Some(v) = s.shutdown_timeout {
            server = server.shutdown_timeout(v);
        }
        if let Some(v) = s.backlog {
            server = server.backlog(v);
        }
        if let Some(v) = s.max_connections {
            server = server.max_connections(v);
        }
        if let Some(v) = s.max_connection_rate {
            server = server.max_connection_rate(v);
        }
        if let Some(v) = s.client_request_timeout {
            server = server.client_request_timeout(v);
        }
        if let Some(v) = s.client_disconnect_timeout {
            server = server.client_disconnect_timeout(v);
        }
        if let Some(v) = s.server_hostname {
            server = server.server_hostname(v);
        }
        if s.disable_signals {
            server = server.disable_signals();
        }
        if s.system_exit {
            server = server.system_exit();
        }
        for (listener, h2c) in self.listeners {
            // `listen_auto_h2c` needs actix-web's `http2` feature (the facade
            // forwards it); without it the app could not have asked for h2c.
            #[cfg(feature = "http2")]
            {
                server = if h2c {
                    server.listen_auto_h2c(listener)?
                } else {
                    server.listen(listener)?
                };
            }
            #[cfg(not(feature = "http2"))]
            {
                let _ = h2c;
                server = server.listen(listener)?;
            }
        }
        Ok(server.run())
    }
}

#[cfg(feature = "native")]
fn lambda_server<F, T, B>(factory: F) -> Server
where
    F: Fn() -> App<T> + Send + Clone + 'static,
    T: ServiceFactory<
            ServiceRequest,
            Config = (),
            Response = ServiceResponse<B>,
            Error = ::actix_web_real::Error,
            InitError = (),
        > + 'static,
    B: MessageBody + 'static,
{
    Server {
        future: crate::lambda::serve(factory),
        handle: ServerHandle(None),
    }
}

#[cfg(not(feature = "native"))]
fn lambda_server<F>(_factory: F) -> Server {
    Server {
        future: Box::pin(async { Ok(()) }),
        handle: ServerHandle(None),
    }
}

/// Stands in for `actix_web::dev::Server`: awaiting it serves until the
/// server stops (`io::Result<()>`).
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Server {
    future: BoxFuture<io::Result<()>>,
    handle: ServerHandle,
}

impl Server {
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }
}

impl Future for Server {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.future.as_mut().poll(cx)
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").finish_non_exhaustive()
    }
}

/// Stands in for `actix_web::dev::ServerHandle`; on Lambda the runtime
/// owns the process and its methods do nothing.
#[derive(Debug, Clone)]
pub struct ServerHandle(Option<::actix_web_real::dev::ServerHandle>);

impl ServerHandle {
    pub fn pause(&self) -> impl Future<Output = ()> + use<> {
        let handle = self.0.clone();
        async move {
            if let Some(h) = handle {
                h.pause().await;
            }
        }
    }

    pub fn resume(&self) -> impl Future<Output = ()> + use<> {
        let handle = self.0.clone();
        async move {
            if let Some(h) = handle {
                h.resume().await;
            }
        }
    }

    pub fn stop(&self, graceful: bool) -> impl Future<Output = ()> + use<> {
        let handle = self.0.clone();
        async move {
            if let Some(h) = handle {
                h.stop(graceful).await;
            }
        }
    }
}

/// The monolith's `App`, behind the guard that keeps the function to its routes.
pub(crate) fn guarded<T, B>(
    app: App<T>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = ::actix_web_real::Error,
        InitError = (),
    >,
>
where
    T: ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<B>,
        Error = ::actix_web_real::Error,
        InitError = (),
    >,
    B: MessageBody + 'static,
{
    app.wrap_fn(|req: ServiceRequest, srv: &T::Service| {
        let refused = ::cleave_lambda::refuses(
            ::cleave_lambda::Framework::ActixWeb,
            req.method().as_str(),
            req.uri().path(),
        );
        let call = if refused { Err(req) } else { Ok(srv.call(req)) };
        async move {
            match call {
                Ok(response) => response.await.map(ServiceResponse::map_into_boxed_body),
                Err(req) => Ok(req.into_response(HttpResponse::NotFound().finish())),
            }
        }
    })
}
