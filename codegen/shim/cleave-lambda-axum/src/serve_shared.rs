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
pub fn guarded<M, S>(
    make_service: M,
) -> ::tower::util::MapResponse<M, fn(S) -> GuardedService<S>> {
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

/// Answers Lambda events with the app until the runtime stops. The
/// runtime's future is not provably `Send` (a higher-ranked lifetime in
/// `lambda_runtime`), and `serve`'s future must be: it runs on a blocking
/// thread of the app's own runtime, so the app's pools and tasks stay on
/// the runtime that made them.
#[cfg(feature = "native")]
pub fn on_lambda<M: LambdaApp>(app: M) -> BoxFuture<io::Result<()>> {
    use ::cleave_lambda::lambda_http;
    let app = std::sync::Arc::new(app);
    let handler = lambda_http::service_fn(move |request: lambda_http::Request| {
        let ip =
            ::cleave_lambda::source_ip(&request).unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        let answer = if refused(request.method().as_str(), request.uri().path()) {
            None
        } else {
            Some(app.respond(
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
