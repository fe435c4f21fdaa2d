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

/// A listener bound off Lambda, and how the real server is to serve it:
/// each of actix's `listen*` calls, replayed at `run()`.
enum Listener {
    Plain(TcpListener),
    AutoH2c(TcpListener),
    #[cfg(any(feature = "rustls", feature = "rustls-0_20"))]
    Rustls020(TcpListener, Rustls020),
    #[cfg(feature = "rustls-0_21")]
    Rustls021(TcpListener, Rustls021),
    #[cfg(feature = "rustls-0_22")]
    Rustls022(TcpListener, Rustls022),
    #[cfg(feature = "rustls-0_23")]
    Rustls023(TcpListener, Rustls023),
    #[cfg(feature = "openssl")]
    Openssl(TcpListener, SslAcceptorBuilder),
    /// `bind_openssl` to several sockets: an `SslAcceptorBuilder` is not
    /// `Clone`, so the real server binds them again (checked free here).
    #[cfg(feature = "openssl")]
    OpensslBind(Vec<SocketAddr>, SslAcceptorBuilder),
    #[cfg(unix)]
    Uds(std::os::unix::net::UnixListener),
}

// The TLS configurations actix-web's binds take, as its signatures name
// them: `actix-tls` re-exports, whose modules actix-web's TLS feature of
// the same name enables (the facade's feature forwards to it).
#[cfg(any(feature = "rustls", feature = "rustls-0_20"))]
type Rustls020 = ::actix_tls::accept::rustls::reexports::ServerConfig;
#[cfg(feature = "rustls-0_21")]
type Rustls021 = ::actix_tls::accept::rustls_0_21::reexports::ServerConfig;
#[cfg(feature = "rustls-0_22")]
type Rustls022 = ::actix_tls::accept::rustls_0_22::reexports::ServerConfig;
#[cfg(feature = "rustls-0_23")]
type Rustls023 = ::actix_tls::accept::rustls_0_23::reexports::ServerConfig;
#[cfg(feature = "openssl")]
type SslAcceptorBuilder = ::actix_tls::accept::openssl::reexports::SslAcceptorBuilder;

impl Listener {
    /// Its addresses, as actix reports them (a Unix socket as 127.0.0.1:8080).
    fn addrs(&self) -> Vec<SocketAddr> {
        let tcp = match self {
            Listener::Plain(l) | Listener::AutoH2c(l) => l,
            #[cfg(any(feature = "rustls", feature = "rustls-0_20"))]
            Listener::Rustls020(l, _) => l,
            #[cfg(feature = "rustls-0_21")]
            Listener::Rustls021(l, _) => l,
            #[cfg(feature = "rustls-0_22")]
            Listener::Rustls022(l, _) => l,
            #[cfg(feature = "rustls-0_23")]
            Listener::Rustls023(l, _) => l,
            #[cfg(feature = "openssl")]
            Listener::Openssl(l, _) => l,
            #[cfg(feature = "openssl")]
            Listener::OpensslBind(addrs, _) => return addrs.clone(),
            #[cfg(unix)]
            Listener::Uds(_) => return vec![SocketAddr::from(([127, 0, 0, 1], 8080))],
        };
        tcp.local_addr().into_iter().collect()
    }
}

/// `bind_rustls*` and `listen_rustls*` for one rustls version: bound as
/// `bind` and `listen` are, served with `config` by the real server.
macro_rules! rustls_binds {
    ($feature:meta, $bind:ident, $listen:ident, $listener:ident) => {
        #[cfg($feature)]
        pub fn $bind<A: ToSocketAddrs>(mut self, addrs: A, config: $listener) -> io::Result<Self> {
            for lst in self.bind_now(addrs)? {
                self.listeners
                    .push(Listener::$listener(lst, config.clone()));
            }
            Ok(self)
        }

        #[cfg($feature)]
        pub fn $listen(self, lst: TcpListener, config: $listener) -> io::Result<Self> {
            self.take(lst, |lst| Listener::$listener(lst, config))
        }
    };
}

/// Stands in for `actix_web::HttpServer`: the same builder, the same
/// listeners; `run()` gives a [`Server`].
pub struct HttpServer<F, T, B> {
    factory: F,
    settings: Settings,
    listeners: Vec<Listener>,
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
        self.listeners.iter().flat_map(Listener::addrs).collect()
    }

    pub fn bind<A: ToSocketAddrs>(mut self, addrs: A) -> io::Result<Self> {
        for lst in self.bind_now(addrs)? {
            self.listeners.push(Listener::Plain(lst));
        }
        Ok(self)
    }

    pub fn bind_auto_h2c<A: ToSocketAddrs>(mut self, addrs: A) -> io::Result<Self> {
        for lst in self.bind_now(addrs)? {
            self.listeners.push(Listener::AutoH2c(lst));
        }
        Ok(self)
    }

    rustls_binds!(
        any(feature = "rustls", feature = "rustls-0_20"),
        bind_rustls,
        listen_rustls,
        Rustls020
    );
    rustls_binds!(
        feature = "rustls-0_21",
        bind_rustls_021,
        listen_rustls_0_21,
        Rustls021
    );
    rustls_binds!(
        feature = "rustls-0_22",
        bind_rustls_0_22,
        listen_rustls_0_22,
        Rustls022
    );
    rustls_binds!(
        feature = "rustls-0_23",
        bind_rustls_0_23,
        listen_rustls_0_23,
        Rustls023
    );

    #[cfg(feature = "openssl")]
    pub fn bind_openssl<A: ToSocketAddrs>(
        mut self,
        addrs: A,
        builder: SslAcceptorBuilder,
    ) -> io::Result<Self> {
        let mut bound = self.bind_now(addrs)?;
        let listener = match bound.len() {
            0 => return Ok(self),
            1 => Listener::Openssl(bound.remove(0), builder),
            _ => Listener::OpensslBind(
                bound.iter().filter_map(|l| l.local_addr().ok()).collect(),
                builder,
            ),
        };
        self.listeners.push(listener);
        Ok(self)
    }

    /// Binds now, as actix does, so a taken port fails here: the listeners
    /// for the real server. On Lambda nothing is bound; the addresses are
    /// kept for `addrs()`.
    fn bind_now<A: ToSocketAddrs>(&mut self, addrs: A) -> io::Result<Vec<TcpListener>> {
        let addrs: Vec<SocketAddr> = addrs.to_socket_addrs()?.collect();
        if ::cleave_lambda::on_lambda() {
            self.addrs.extend(addrs);
            return Ok(Vec::new());
        }
        let mut error = None;
        let mut bound = Vec::new();
        for addr in addrs {
            match TcpListener::bind(addr) {
                Ok(listener) => bound.push(listener),
                Err(e) => error = Some(e),
            }
        }
        match (bound.is_empty(), error) {
            (true, Some(e)) => Err(e),
            (true, None) => Err(io::Error::other("can not bind to address")),
            _ => Ok(bound),
        }
    }

    /// Opens the Unix socket at `uds_path` now, removing a stale file first,
    /// as actix does (the app may set its permissions next); on Lambda
    /// nothing is opened.
    #[cfg(unix)]
    pub fn bind_uds<A: AsRef<std::path::Path>>(mut self, uds_path: A) -> io::Result<Self> {
        if ::cleave_lambda::on_lambda() {
            return Ok(self);
        }
        match std::fs::remove_file(uds_path.as_ref()) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let lst = std::os::unix::net::UnixListener::bind(uds_path)?;
        self.listeners.push(Listener::Uds(lst));
        Ok(self)
    }

    #[cfg(unix)]
    pub fn listen_uds(mut self, lst: std::os::unix::net::UnixListener) -> io::Result<Self> {
        if !::cleave_lambda::on_lambda() {
            self.listeners.push(Listener::Uds(lst));
        }
        Ok(self)
    }

    pub fn listen(self, lst: TcpListener) -> io::Result<Self> {
        self.take(lst, Listener::Plain)
    }

    pub fn listen_auto_h2c(self, lst: TcpListener) -> io::Result<Self> {
        self.take(lst, Listener::AutoH2c)
    }

    #[cfg(feature = "openssl")]
    pub fn listen_openssl(self, lst: TcpListener, builder: SslAcceptorBuilder) -> io::Result<Self> {
        self.take(lst, |lst| Listener::Openssl(lst, builder))
    }

    /// A listener the app bound itself, kept for the real server to serve
    /// as `kind` says; on Lambda only its address is kept.
    fn take(
        mut self,
        lst: TcpListener,
        kind: impl FnOnce(TcpListener) -> Listener,
    ) -> io::Result<Self> {
        if ::cleave_lambda::on_lambda() {
            self.addrs.extend(lst.local_addr().ok());
        } else {
            self.listeners.push(kind(lst));
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
        for listener in self.listeners {
            server = match listener {
                Listener::Plain(lst) => server.listen(lst)?,
                #[cfg(feature = "http2")]
                Listener::AutoH2c(lst) => server.listen_auto_h2c(lst)?,
                // `listen_auto_h2c` needs actix-web's `http2` feature, which
                // the facade forwards when asked; without it, plain HTTP/1.
                #[cfg(not(feature = "http2"))]
                Listener::AutoH2c(lst) => server.listen(lst)?,
                #[cfg(any(feature = "rustls", feature = "rustls-0_20"))]
                Listener::Rustls020(lst, config) => server.listen_rustls(lst, config)?,
                #[cfg(feature = "rustls-0_21")]
                Listener::Rustls021(lst, config) => server.listen_rustls_0_21(lst, config)?,
                #[cfg(feature = "rustls-0_22")]
                Listener::Rustls022(lst, config) => server.listen_rustls_0_22(lst, config)?,
                #[cfg(feature = "rustls-0_23")]
                Listener::Rustls023(lst, config) => server.listen_rustls_0_23(lst, config)?,
                #[cfg(feature = "openssl")]
                Listener::Openssl(lst, builder) => server.listen_openssl(lst, builder)?,
                #[cfg(feature = "openssl")]
                Listener::OpensslBind(addrs, builder) => {
                    server.bind_openssl(&addrs[..], builder)?
                }
                #[cfg(unix)]
                Listener::Uds(lst) => server.listen_uds(lst)?,
            };
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
