//! What `serve` shares across axum series (0.7 and 0.8, whose `serve`
//! modules differ): the guard in front of each connection's service, and
//! the app answering Lambda events in-process. The facades of crates that
//! serve axum apps (`cleave-lambda-axum-server`) use them too, through
//! `crate::__cleave`.

use super::*;

/// The per-connection service: answers 404 itself for another function's
/// routes, passes every other request to the app.
#[derive(Debug, Clone)]
pub struct GuardedService<S>(S);

impl<S, B> Service<::axum_real::http::Request<B>> for GuardedService<S>
where
    S: Service<::axum_real::http::Request<B>, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: ::axum_real::http::Request<B>) -> Self::Future {
        if refused(request.method().as_str(), request.uri().path()) {
            return Box::pin(async { Ok(not_found()) });
        }
        Box::pin(self.0.call(request))
    }
}

fn not_found() -> Response {
    ::axum_real::http::StatusCode::NOT_FOUND.into_response()
}

fn refused(method: &str, path: &str) -> bool {
    ::cleave_lambda::refuses(::cleave_lambda::Framework::Axum, method, path)
}

/// The make service with each connection's service behind the guard.
pub fn guarded<M, S>(make_service: M) -> ::tower::util::MapResponse<M, fn(S) -> GuardedService<S>> {
    ::tower::util::MapResponse::new(make_service, GuardedService as fn(S) -> GuardedService<S>)
}

/// What `serve` accepts that can also answer Lambda events: a `Router`,
/// `into_make_service()` and `into_make_service_with_connect_info::<SocketAddr>()`.
#[cfg(feature = "native")]
pub trait LambdaApp: Clone + Send + Sync + 'static {
    /// Answers `request` from `peer` (its `ConnectInfo<SocketAddr>`).
    fn respond(&self, peer: std::net::SocketAddr, request: Request) -> BoxFuture<Response>;
}

/// Without the `native` feature nothing is served on Lambda: any make service.
#[cfg(not(feature = "native"))]
pub trait LambdaApp {}

#[cfg(not(feature = "native"))]
impl<T> LambdaApp for T {}

#[cfg(feature = "native")]
impl LambdaApp for ::axum_real::Router {
    fn respond(&self, peer: std::net::SocketAddr, mut request: Request) -> BoxFuture<Response> {
        request
            .extensions_mut()
            .insert(::axum_real::extract::ConnectInfo(peer));
        let app = self.clone();
        Box::pin(async move {
            match ::tower::ServiceExt::oneshot(app, request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        })
    }
}

#[cfg(feature = "native")]
impl LambdaApp for ::axum_real::routing::IntoMakeService<::axum_real::Router> {
    fn respond(&self, peer: std::net::SocketAddr, request: Request) -> BoxFuture<Response> {
        ready(Service::<()>::call(&mut self.clone(), ())).respond(peer, request)
    }
}

#[cfg(feature = "native")]
impl LambdaApp
    for ::axum_real::extract::connect_info::IntoMakeServiceWithConnectInfo<
        ::axum_real::Router,
        std::net::SocketAddr,
    >
{
    fn respond(&self, peer: std::net::SocketAddr, request: Request) -> BoxFuture<Response> {
        // The router with `ConnectInfo(peer)`, as the make service adds it.
        let app = ready(Service::<std::net::SocketAddr>::call(
            &mut self.clone(),
            peer,
        ));
        Box::pin(async move {
            match ::tower::ServiceExt::oneshot(app, request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        })
    }
}

/// The output of a make-service future, which axum's are ready at once.
#[cfg(feature = "native")]
fn ready<T>(future: impl Future<Output = Result<T, Infallible>>) -> T {
    let mut future = std::pin::pin!(future);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(Ok(out)) => return out,
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => std::thread::yield_now(),
        }
    }
}

/// An app's answer, as every app served in this process gives it.
#[cfg(feature = "native")]
type Responder =
    std::sync::Arc<dyn Fn(std::net::SocketAddr, Request) -> BoxFuture<Response> + Send + Sync>;

/// Every app served in this process on Lambda, in the order they started.
/// A process that starts several servers (an API beside an admin server,
/// `serve` called twice) has one Lambda loop: the runtime hands each event
/// to one poller, so a loop per server would give events to the wrong app.
#[cfg(feature = "native")]
static APPS: std::sync::Mutex<Vec<Responder>> = std::sync::Mutex::new(Vec::new());

/// Answers a request from the first app whose answer is not 404, in the
/// order they started (the last app's answer stands). With one app the
/// request goes to it as it is; with more, its body is buffered once so
/// each app can be asked.
#[cfg(feature = "native")]
async fn respond_first(
    apps: Vec<Responder>,
    peer: std::net::SocketAddr,
    request: Request,
) -> Response {
    let [rest @ .., last] = apps.as_slice() else {
        return not_found();
    };
    if rest.is_empty() {
        return last(peer, request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = ::axum_real::body::to_bytes(body, usize::MAX).await else {
        return ::axum_real::http::StatusCode::BAD_REQUEST.into_response();
    };
    let copy = || Request::from_parts(parts.clone(), ::axum_real::body::Body::from(bytes.clone()));
    for app in rest {
        let response = app(peer, copy()).await;
        if response.status() != ::axum_real::http::StatusCode::NOT_FOUND {
            return response;
        }
    }
    last(peer, copy()).await
}

/// Answers Lambda events with the app until the runtime stops. The
/// runtime's future is not provably `Send` (a higher-ranked lifetime in
/// `lambda_runtime`), and `serve`'s future must be: it runs on a blocking
/// thread of the app's own runtime, so the app's pools and tasks stay on
/// the runtime that made them. The first app served starts the loop; each
/// later one joins it (see [`APPS`]) and its `serve` waits forever, as a
/// server does.
#[cfg(feature = "native")]
pub fn on_lambda<M: LambdaApp>(app: M) -> BoxFuture<io::Result<()>> {
    use ::cleave_lambda::lambda_http;
    let first = {
        let mut apps = APPS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        apps.push(std::sync::Arc::new(move |peer, request| {
            app.respond(peer, request)
        }));
        apps.len() == 1
    };
    if !first {
        return Box::pin(std::future::pending());
    }
    let handler = lambda_http::service_fn(move |request: lambda_http::Request| {
        let ip =
            ::cleave_lambda::source_ip(&request).unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        let answer = if refused(request.method().as_str(), request.uri().path()) {
            None
        } else {
            let apps = APPS
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone();
            Some(respond_first(
                apps,
                std::net::SocketAddr::new(ip, 0),
                request.map(::axum_real::body::Body::new),
            ))
        };
        async move {
            let response = match answer {
                Some(answer) => answer.await,
                None => not_found(),
            };
            // Buffered as lambda_http would (text or base64 by content type),
            // here so that the runtime's future stays `Send`.
            Ok::<_, Infallible>(lambda_http::IntoResponse::into_response(response).await)
        }
    });
    let runtime = ::tokio::runtime::Handle::current();
    let run = ::tokio::task::spawn_blocking(move || {
        runtime
            .block_on(lambda_http::run(handler))
            .map_err(io::Error::other)
    });
    Box::pin(async move { run.await.map_err(io::Error::other)? })
}

#[cfg(not(feature = "native"))]
pub fn on_lambda<M>(_app: M) -> BoxFuture<io::Result<()>> {
    Box::pin(async { Ok(()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        ::tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime")
            .block_on(future)
    }

    /// A handler per route that answers with the caller's address, if any.
    fn app() -> ::axum_real::Router {
        async fn peer(request: Request) -> String {
            request
                .extensions()
                .get::<::axum_real::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|i| i.0.ip().to_string())
                .unwrap_or_default()
        }
        ::axum_real::Router::new()
            .route("/mine", ::axum_real::routing::get(peer))
            .route("/theirs", ::axum_real::routing::get(peer))
    }

    fn request(path: &str) -> Request {
        ::axum_real::http::Request::builder()
            .uri(path)
            .body(::axum_real::body::Body::empty())
            .expect("a request")
    }

    async fn text(response: Response) -> (u16, String) {
        let status = response.status().as_u16();
        let body = ::axum_real::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("the body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn init() {
        ::cleave_lambda::init(&[("GET", "/mine")], &[("GET", "/theirs")]);
    }

    #[test]
    fn the_guard_answers_404_for_another_functions_route_and_its_spellings() {
        init();
        let status = |path: &str| {
            block_on(async {
                let response = ::tower::ServiceExt::oneshot(GuardedService(app()), request(path))
                    .await
                    .unwrap_or_else(|never| match never {});
                text(response).await.0
            })
        };
        assert_eq!(status("/mine"), 200);
        for path in ["/theirs", "/%74heirs", "//theirs", "/./theirs", "/theirs/"] {
            assert_eq!(status(path), 404, "{path}");
        }
    }

    /// Two servers in one process: each request is answered by the first
    /// app that has its route, the body reaching whichever answers.
    #[cfg(feature = "native")]
    #[test]
    fn on_lambda_several_apps_answer_from_the_first_that_has_the_route() {
        init();
        async fn echo(body: String) -> String {
            format!("admin got {body}")
        }
        let api: Responder = {
            let router = app();
            std::sync::Arc::new(move |peer, request| LambdaApp::respond(&router, peer, request))
        };
        let admin: Responder = {
            let router = ::axum_real::Router::new()
                .route("/admin", ::axum_real::routing::post(echo))
                .route("/mine", ::axum_real::routing::get(|| async { "admin's" }));
            std::sync::Arc::new(move |peer, request| LambdaApp::respond(&router, peer, request))
        };
        let peer = std::net::SocketAddr::from(([203, 0, 113, 9], 0));
        let post = |path: &str, body: &str| {
            ::axum_real::http::Request::builder()
                .method("POST")
                .uri(path)
                .body(::axum_real::body::Body::from(body.to_owned()))
                .expect("a request")
        };
        let answers = block_on(async {
            vec![
                text(respond_first(vec![api.clone(), admin.clone()], peer, request("/mine")).await)
                    .await,
                text(
                    respond_first(
                        vec![api.clone(), admin.clone()],
                        peer,
                        post("/admin", "x=1"),
                    )
                    .await,
                )
                .await,
                text(respond_first(vec![api.clone(), admin.clone()], peer, request("/none")).await)
                    .await,
                text(respond_first(vec![admin.clone()], peer, request("/theirs")).await).await,
                text(respond_first(Vec::new(), peer, request("/mine")).await).await,
            ]
        });
        assert_eq!(answers[0], (200, "203.0.113.9".to_owned()));
        assert_eq!(answers[1], (200, "admin got x=1".to_owned()));
        assert_eq!(answers[2].0, 404);
        assert_eq!(answers[3].0, 404);
        assert_eq!(answers[4].0, 404);
    }

    #[cfg(feature = "native")]
    #[test]
    fn on_lambda_every_app_shape_gets_the_callers_address() {
        init();
        let peer = std::net::SocketAddr::from(([203, 0, 113, 9], 0));
        let router = app();
        let answers = block_on(async {
            vec![
                text(LambdaApp::respond(&router, peer, request("/mine")).await).await,
                text(
                    LambdaApp::respond(&router.clone().into_make_service(), peer, request("/mine"))
                        .await,
                )
                .await,
                text(
                    LambdaApp::respond(
                        &router
                            .clone()
                            .into_make_service_with_connect_info::<std::net::SocketAddr>(),
                        peer,
                        request("/mine"),
                    )
                    .await,
                )
                .await,
            ]
        });
        for answer in answers {
            assert_eq!(answer, (200, "203.0.113.9".to_owned()));
        }
    }
}
