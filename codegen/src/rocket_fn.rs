//! The runner of a rocket 0.5 function (`src/cleave_lambda.rs`): the same
//! `Rocket` (mounts, managed state, fairings, catchers) behind a route guard
//! that answers 404 for the routes other functions own. On Lambda with the
//! `native` adapter it answers each event through rocket's in-process local
//! client, with `lambda_http::run` on a tokio runtime of its own thread (not
//! inside `#[rocket::main]`); elsewhere (and always, with the web adapter)
//! it launches on 127.0.0.1:$PORT with rocket's own server. Built with
//! `quote`, formatted with `prettyplease`.
//!
//! The guard has two halves. A route tried before all others (rank
//! `isize::MIN`, `/<_..>`, every method) answers 404 through the app's
//! catchers when only other functions' routes can match the request, so none
//! of their handlers runs. When this function's routes and another's can
//! both match (ranked routes split between functions), it lets the request
//! through, and a response fairing turns an answer from the other
//! function's route into the 404 afterwards. Rocket cannot unmount routes,
//! and neither a request guard nor an `on_request` fairing can skip one
//! route and keep routing, so this is the closest to "the function never
//! had the route".
//!
//! `serve(APP)` has the output of `APP.launch().await`,
//! `Result<Rocket<Ignite>, rocket::Error>`, so whatever `main` does with it
//! (`?` into `rocket::Error`, binding the ignited `Rocket`, `.map(|_| ())`,
//! `.unwrap()`) still compiles. On Lambda (`native`) it only returns on
//! failure (an `ErrorKind::Io` error when the runtime itself stopped).

use syn::visit::Visit;

use crate::runner::{Backend, Runner, dep};
use crate::workspace::Adapter;

pub const BACKEND: Option<Backend> = Some(Backend {
    replace_serve,
    render,
    deps: |adapter| match adapter {
        Adapter::Native => vec![dep("lambda_http", "1.3", &[])],
        Adapter::WebAdapter => Vec::new(),
    },
    expects: "`ROCKET.launch()` (a `Rocket<Build>` launched in `main`)",
    guard: "mounts a guard route, tried before all others, that answers 404 through the app's own catchers when only other functions' routes match a request; where ranked routes of this function and another's both match, a response fairing turns an answer from the other function's route into that 404.",
    in_process: "On Lambda each event is answered through rocket's in-process local client; there is no extra HTTP hop.",
});

/// In `stmt`, replaces `EXPR.launch()` with `call(EXPR)`, keeping what
/// follows (`.await?`). Rocket has no listener, so the second value is empty.
pub fn replace_serve(stmt: &str, call: &str) -> Option<(String, String)> {
    // Parsed as the statements of a block: `{` on a line of its own keeps
    // the columns of `stmt` and shifts its lines by one.
    let block: syn::Block = syn::parse_str(&format!("{{\n{stmt}\n}}")).ok()?;
    let mut find = FindLaunch(None);
    for s in &block.stmts {
        find.visit_stmt(s);
    }
    let call_expr = find.0?;
    let lines: Vec<&str> = stmt.split('\n').collect();
    let offset = |lc: proc_macro2::LineColumn| -> Option<usize> {
        let line = lc.line.checked_sub(2)?;
        let before: usize = lines.get(..line)?.iter().map(|l| l.len() + 1).sum();
        let text = lines.get(line)?;
        let col = text
            .char_indices()
            .nth(lc.column)
            .map(|(i, _)| i)
            .unwrap_or(text.len());
        Some(before + col)
    };
    let (first, last) = token_bounds(&call_expr.receiver)?;
    let start = offset(first)?;
    let receiver_end = offset(last)?;
    let end = offset(call_expr.paren_token.span.close().end())?;
    let receiver = stmt.get(start..receiver_end)?.trim_end();
    let out = format!(
        "{}{call}({receiver}){}",
        stmt.get(..start)?,
        stmt.get(end..)?
    );
    Some((out, String::new()))
}

/// Where the first token of `expr` starts and its last one ends (a group,
/// such as the `(..)` of a call, is one token).
fn token_bounds(expr: &syn::Expr) -> Option<(proc_macro2::LineColumn, proc_macro2::LineColumn)> {
    let tokens: Vec<proc_macro2::TokenTree> =
        quote::ToTokens::to_token_stream(expr).into_iter().collect();
    Some((tokens.first()?.span().start(), tokens.last()?.span().end()))
}

/// The first `.launch()` call (no arguments) in visiting order.
struct FindLaunch(Option<syn::ExprMethodCall>);

impl<'ast> Visit<'ast> for FindLaunch {
    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        if self.0.is_some() {
            return;
        }
        if node.method == "launch" && node.args.is_empty() && node.turbofish.is_none() {
            self.0 = Some(node.clone());
            return;
        }
        syn::visit::visit_expr_method_call(self, node);
    }
}

pub fn render(r: &Runner<'_>) -> String {
    let route_items = crate::runner::route_items(r);
    let in_process = r.adapter == Adapter::Native;
    let imports = if in_process {
        quote::quote! {
            use std::net::{IpAddr, Ipv4Addr, SocketAddr};
            use std::sync::Arc;

            use lambda_http::{Body, RequestExt};
            use rocket::fairing::{Fairing, Info, Kind};
            use rocket::http::uri::Host;
            use rocket::http::{Cookie, Header, Method, Status};
            use rocket::local::asynchronous::{Client, LocalRequest, LocalResponse};
            use rocket::route::{Handler, Outcome, Route};
            use rocket::{Build, Data, Ignite, Request, Response, Rocket};
        }
    } else {
        quote::quote! {
            use std::net::Ipv4Addr;

            use rocket::fairing::{Fairing, Info, Kind};
            use rocket::http::{Method, Status};
            use rocket::route::{Handler, Outcome, Route};
            use rocket::{Build, Data, Ignite, Request, Response, Rocket};
        }
    };
    let serve = serve_fn(in_process);
    let lambda = if in_process {
        lambda_items()
    } else {
        proc_macro2::TokenStream::new()
    };
    let guard = guard_items();
    let tests = test_items(in_process);
    let file: syn::File = syn::parse_quote! {
        #imports

        #route_items

        type Routes = &'static [(&'static str, &'static str)];

        #serve

        #lambda

        #guard

        #[cfg(test)]
        mod tests {
            #tests
        }
    };
    format!("{}\n{}", r.header, prettyplease::unparse(&file))
}

/// `serve`, on Lambda too with the `native` adapter.
fn serve_fn(in_process: bool) -> proc_macro2::TokenStream {
    let (doc, on_lambda): (&[&str], _) = if in_process {
        (
            &[
                " Stands in for `ROCKET.launch()` and has its output. On Lambda",
                " (`AWS_LAMBDA_RUNTIME_API` set) it answers the events with the app",
                " through rocket's local client and only returns on failure;",
                " elsewhere it launches the app with the app's own configuration,",
                " bound to 127.0.0.1 (and to port `$PORT` when that is set).",
            ],
            quote::quote! {
                if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
                    return on_lambda(rocket).await;
                }
            },
        )
    } else {
        (
            &[
                " Stands in for `ROCKET.launch()` and has its output: launches the",
                " app with the app's own configuration, bound to 127.0.0.1 (and to",
                " port `$PORT` when that is set; on Lambda the Lambda Web Adapter",
                " forwards each event there).",
            ],
            proc_macro2::TokenStream::new(),
        )
    };
    quote::quote! {
        #(#[doc = #doc])*
        pub async fn serve(rocket: Rocket<Build>) -> Result<Rocket<Ignite>, rocket::Error> {
            let rocket = guarded(rocket, own_routes(), other_routes());
            #on_lambda
            let mut figment = rocket
                .figment()
                .clone()
                .merge(("address", Ipv4Addr::LOCALHOST));
            if let Some(port) = std::env::var("PORT")
                .ok()
                .and_then(|p| p.trim().parse::<u16>().ok())
            {
                figment = figment.merge(("port", port));
            }
            rocket.configure(figment).launch().await
        }
    }
}

/// With the `native` adapter: answering Lambda events through rocket's
/// local client, and the conversions between the two.
fn lambda_items() -> proc_macro2::TokenStream {
    quote::quote! {
        fn failure(message: String) -> rocket::Error {
            rocket::Error::from(rocket::error::ErrorKind::Io(std::io::Error::other(message)))
        }

        /// `lambda_http::run` needs a plain tokio runtime, so it gets one on a
        /// thread of its own; the app is launched there too, so whatever it
        /// starts (pools, tasks) lives on the runtime that serves the requests.
        async fn on_lambda(rocket: Rocket<Build>) -> Result<Rocket<Ignite>, rocket::Error> {
            let (done, finished) = rocket::tokio::sync::oneshot::channel();
            let thread = std::thread::Builder::new()
                .name("lambda".to_owned())
                .spawn(move || {
                    let outcome = match rocket::tokio::runtime::Builder::new_multi_thread()
                        .enable_all()
                        .build()
                    {
                        Ok(runtime) => runtime.block_on(run_lambda(rocket)),
                        Err(e) => Err(failure(format!("cannot start a tokio runtime: {e}"))),
                    };
                    let _ = done.send(outcome);
                });
            if let Err(e) = thread {
                return Err(failure(format!("cannot start the Lambda thread: {e}")));
            }
            match finished.await {
                Ok(Err(e)) => Err(e),
                Ok(Ok(())) => Err(failure("the Lambda runtime stopped".to_owned())),
                Err(_) => Err(failure("the Lambda runtime panicked".to_owned())),
            }
        }

        /// An untracked client: Lambda requests are independent, so no cookie
        /// jar is carried from one to the next (each request's own `Cookie`
        /// header is passed on; each response's `Set-Cookie` headers are kept).
        async fn run_lambda(rocket: Rocket<Build>) -> Result<(), rocket::Error> {
            let client = Arc::new(Client::untracked(rocket).await?);
            lambda_http::run(lambda_http::service_fn(move |request: lambda_http::Request| {
                let client = Arc::clone(&client);
                async move { Ok::<_, lambda_http::Error>(respond(&client, request).await) }
            }))
            .await
            .map_err(|e| failure(format!("the Lambda runtime failed: {e}")))
        }

        /// One Lambda request through the app.
        pub async fn respond(client: &Client, request: lambda_http::Request) -> lambda_http::Response<Body> {
            match to_local(client, request) {
                Ok(local) => from_local(local.dispatch().await).await,
                Err(status) => empty(status),
            }
        }

        fn empty(status: Status) -> lambda_http::Response<Body> {
            let mut response = lambda_http::Response::new(Body::Empty);
            *response.status_mut() = lambda_http::http::StatusCode::from_u16(status.code)
                .unwrap_or(lambda_http::http::StatusCode::INTERNAL_SERVER_ERROR);
            response
        }

        /// A Lambda request as a local request: method, path and query, every
        /// header (cookies and host also parsed, as rocket's server does), the
        /// body bytes, and the caller's address when the event has it. A method
        /// rocket does not know is a 400, as from rocket's server.
        pub fn to_local(client: &Client, request: lambda_http::Request) -> Result<LocalRequest<'_>, Status> {
            let source_ip = match request.request_context_ref() {
                Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => {
                    context.http.source_ip.clone()
                }
                Some(lambda_http::request::RequestContext::ApiGatewayV1(context)) => {
                    context.identity.source_ip.clone()
                }
                _ => None,
            };
            let (parts, body) = request.into_parts();
            let method: Method = parts
                .method
                .as_str()
                .parse()
                .map_err(|_| Status::BadRequest)?;
            let uri = parts
                .uri
                .path_and_query()
                .map_or("/", |pq| pq.as_str())
                .to_owned();
            let mut local = client.req(method, uri);
            for (name, value) in &parts.headers {
                let Ok(value) = value.to_str() else {
                    continue;
                };
                if name == lambda_http::http::header::COOKIE {
                    for pair in value.split(';').map(str::trim) {
                        if let Ok(cookie) = Cookie::parse_encoded(pair) {
                            local = local.cookie(cookie.into_owned());
                        }
                    }
                }
                if name == lambda_http::http::header::HOST {
                    if let Ok(host) = Host::parse_owned(value.to_owned()) {
                        local.set_host(host);
                    }
                }
                local.add_header(Header::new(name.as_str().to_owned(), value.to_owned()));
            }
            if let Some(ip) = source_ip.and_then(|ip| ip.parse::<IpAddr>().ok()) {
                local.set_remote(SocketAddr::new(ip, 0));
            }
            let bytes: &[u8] = body.as_ref();
            if !bytes.is_empty() {
                local.set_body(bytes);
            }
            Ok(local)
        }

        /// A local response as the Lambda response: status, every header (each
        /// `Set-Cookie` on its own), the body bytes. `lambda_http` sends a
        /// textual body (by `Content-Type`) as text and the rest base64-encoded.
        pub async fn from_local(response: LocalResponse<'_>) -> lambda_http::Response<Body> {
            let mut out = empty(response.status());
            for header in response.headers().iter() {
                let name = lambda_http::http::HeaderName::from_bytes(header.name().as_str().as_bytes());
                let value = lambda_http::http::HeaderValue::from_str(header.value());
                if let (Ok(name), Ok(value)) = (name, value) {
                    out.headers_mut().append(name, value);
                }
            }
            let bytes = response.into_bytes().await.unwrap_or_default();
            if !bytes.is_empty() {
                *out.body_mut() = Body::Binary(bytes);
            }
            out
        }
    }
}

/// The route guard: the fence routes and the backstop fairing.
fn guard_items() -> proc_macro2::TokenStream {
    quote::quote! {
        /// A route's path in cleave's form: `<id>` -> `{id}`, `<path..>` -> `{*path}`,
        /// no trailing slash.
        fn normalise(path: &str) -> String {
            let segments: Vec<String> = path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| match s.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                    Some(name) => match name.strip_suffix("..") {
                        Some(name) => format!("{{*{name}}}"),
                        None => format!("{{{name}}}"),
                    },
                    None => s.to_owned(),
                })
                .collect();
            format!("/{}", segments.join("/"))
        }

        fn listed(list: Routes, method: &str, path: &str) -> bool {
            list.iter()
                .any(|(m, p)| *p == path && (*m == "ANY" || *m == method))
        }

        /// Whether `route` is one that another function serves and this one does not.
        fn foreign(route: &Route, own: Routes, elsewhere: Routes) -> bool {
            let method = route.method.as_str();
            let path = normalise(route.uri.path());
            !listed(own, method, &path) && listed(elsewhere, method, &path)
        }

        /// Whether `route` can match `req` by method and path, as rocket's router
        /// decides (format and query are not looked at, so it may say yes too often).
        fn may_match(route: &Route, req: &Request<'_>) -> bool {
            if route.method != req.method() {
                return false;
            }
            let pattern: Vec<&str> = route
                .uri
                .path()
                .split('/')
                .filter(|s| !s.is_empty())
                .collect();
            let path: Vec<&str> = req.uri().path().segments().collect();
            let trailing = pattern
                .last()
                .is_some_and(|s| s.starts_with('<') && s.ends_with("..>"));
            if (trailing && path.len() + 1 < pattern.len()) || (!trailing && path.len() != pattern.len()) {
                return false;
            }
            pattern
                .iter()
                .zip(&path)
                .all(|(p, s)| (p.starts_with('<') && p.ends_with('>')) || p == s)
        }

        /// The name of the guard's routes.
        const GUARD: &str = "cleave_route_guard";

        /// The guard's first half, tried before every other route. When only
        /// routes of other functions can match the request, it answers 404 (the
        /// app's 404 catcher renders it) before any of their handlers runs;
        /// otherwise it forwards and routing goes on as in the monolith.
        #[derive(Clone)]
        struct Fence {
            own: Routes,
            elsewhere: Routes,
        }

        #[rocket::async_trait]
        impl Handler for Fence {
            async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
                let mut theirs = false;
                for route in req.rocket().routes() {
                    if route.name.as_deref() == Some(GUARD) || !may_match(route, req) {
                        continue;
                    }
                    if !foreign(route, self.own, self.elsewhere) {
                        return Outcome::Forward((data, Status::NotFound));
                    }
                    theirs = true;
                }
                if theirs {
                    Outcome::Error(Status::NotFound)
                } else {
                    Outcome::Forward((data, Status::NotFound))
                }
            }
        }

        /// The guard's second half, for a request that routes of this function
        /// and of another can both match (ranked routes split between
        /// functions): when the route that answered is the other function's, its
        /// response becomes the app's 404 (its `Set-Cookie` and `Location`
        /// headers dropped). Its handler has run.
        struct Backstop {
            own: Routes,
            elsewhere: Routes,
        }

        #[rocket::async_trait]
        impl Fairing for Backstop {
            fn info(&self) -> Info {
                Info {
                    name: "cleave: routes of other functions answer 404",
                    kind: Kind::Response,
                }
            }

            async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
                if req
                    .route()
                    .is_some_and(|route| foreign(route, self.own, self.elsewhere))
                {
                    let not_found = not_found(req).await;
                    res.remove_header("Set-Cookie");
                    res.remove_header("Location");
                    res.merge(not_found);
                }
            }
        }

        /// What the app's catchers answer for a 404 on `req`, chosen as rocket
        /// does: the longest matching base, a `404` catcher over a default one.
        async fn not_found<'r>(req: &'r Request<'_>) -> Response<'r> {
            let path: Vec<&str> = req.uri().path().segments().collect();
            let mut best: Option<((usize, bool), &rocket::Catcher)> = None;
            for catcher in req.rocket().catchers() {
                if catcher.code.is_some_and(|code| code != 404) {
                    continue;
                }
                let base: Vec<&str> = catcher.base.path().segments().collect();
                if base.len() > path.len() || base.iter().zip(&path).any(|(a, b)| a != b) {
                    continue;
                }
                let key = (base.len(), catcher.code.is_some());
                if best.is_none_or(|(have, _)| key > have) {
                    best = Some((key, catcher));
                }
            }
            let plain = || Response::build().status(Status::NotFound).finalize();
            match best {
                Some((_, catcher)) => catcher
                    .handler
                    .handle(Status::NotFound, req)
                    .await
                    .unwrap_or_else(|_| plain()),
                None => plain(),
            }
        }

        /// `rocket` with the guard: its routes (every method) and its fairing.
        fn guarded(rocket: Rocket<Build>, own: Routes, elsewhere: Routes) -> Rocket<Build> {
            let methods = [
                Method::Get,
                Method::Put,
                Method::Post,
                Method::Delete,
                Method::Options,
                Method::Head,
                Method::Trace,
                Method::Connect,
                Method::Patch,
            ];
            let fences: Vec<Route> = methods
                .into_iter()
                .map(|method| {
                    let mut route = Route::ranked(isize::MIN, method, "/<_..>", Fence { own, elsewhere });
                    route.name = Some(GUARD.into());
                    route
                })
                .collect();
            rocket
                .mount("/", fences)
                .attach(Backstop { own, elsewhere })
        }
    }
}

fn test_items(in_process: bool) -> proc_macro2::TokenStream {
    let (imports, lambda_tests) = if in_process {
        (
            quote::quote! {
                use rocket::http::ContentType;
            },
            lambda_tests(),
        )
    } else {
        (
            quote::quote! {
                use rocket::local::asynchronous::Client;
            },
            proc_macro2::TokenStream::new(),
        )
    };
    quote::quote! {
        use std::sync::atomic::{AtomicUsize, Ordering};

        #imports
        use rocket::response::Responder;
        use rocket::route::BoxFuture;
        use rocket::Catcher;

        use super::*;

        #lambda_tests

        /// How many times a handler of another function's route ran.
        struct Ran(AtomicUsize);

        fn reply<'r>(req: &'r Request<'_>, text: &'static str) -> BoxFuture<'r> {
            Outcome::from(req, text).pin()
        }

        fn own<'r>(req: &'r Request<'_>, _: Data<'r>) -> BoxFuture<'r> {
            reply(req, "own")
        }

        fn free<'r>(req: &'r Request<'_>, _: Data<'r>) -> BoxFuture<'r> {
            reply(req, "free")
        }

        fn slug<'r>(req: &'r Request<'_>, _: Data<'r>) -> BoxFuture<'r> {
            reply(req, "slug")
        }

        fn count(req: &Request<'_>) {
            if let Some(ran) = req.rocket().state::<Ran>() {
                ran.0.fetch_add(1, Ordering::SeqCst);
            }
        }

        fn theirs<'r>(req: &'r Request<'_>, _: Data<'r>) -> BoxFuture<'r> {
            count(req);
            reply(req, "theirs")
        }

        /// Rank 1 on `/shared/<id>`: numbers only; anything else is forwarded.
        fn by_id<'r>(req: &'r Request<'_>, data: Data<'r>) -> BoxFuture<'r> {
            count(req);
            match req.uri().path().segments().nth(1).map(|s| s.parse::<u64>()) {
                Some(Ok(_)) => reply(req, "id"),
                _ => Outcome::forward(data, Status::UnprocessableEntity).pin(),
            }
        }

        fn caught<'r>(_: Status, req: &'r Request<'_>) -> rocket::catcher::BoxFuture<'r> {
            let body = format!("caught {}", req.uri().path());
            Box::pin(async move { (Status::NotFound, body).respond_to(req) })
        }

        const OWN: Routes = &[("GET", "/own"), ("GET", "/shared/{slug}")];
        const THEIRS: Routes = &[("GET", "/theirs"), ("DELETE", "/theirs"), ("GET", "/shared/{id}")];

        async fn guarded_client() -> Client {
            let rocket = rocket::build()
                .manage(Ran(AtomicUsize::new(0)))
                .mount(
                    "/",
                    vec![
                        Route::new(Method::Get, "/own", own),
                        Route::new(Method::Get, "/free", free),
                        Route::new(Method::Get, "/theirs", theirs),
                        Route::new(Method::Delete, "/theirs", theirs),
                        Route::ranked(1, Method::Get, "/shared/<id>", by_id),
                        Route::ranked(2, Method::Get, "/shared/<slug>", slug),
                    ],
                )
                .register("/", vec![Catcher::new(404, caught)]);
            Client::untracked(guarded(rocket, OWN, THEIRS))
                .await
                .expect("the test app launches")
        }

        async fn call(client: &Client, method: Method, path: &'static str) -> (u16, String) {
            let response = client.req(method, path).dispatch().await;
            (response.status().code, response.into_string().await.unwrap_or_default())
        }

        fn ran(client: &Client) -> usize {
            client
                .rocket()
                .state::<Ran>()
                .map_or(0, |r| r.0.load(Ordering::SeqCst))
        }

        #[rocket::async_test]
        async fn the_guard_answers_404_for_other_functions_routes() {
            let client = guarded_client().await;
            let answer = |status: u16, body: &str| (status, body.to_owned());
            assert_eq!(call(&client, Method::Get, "/own").await, answer(200, "own"));
            assert_eq!(call(&client, Method::Get, "/free").await, answer(200, "free"));
            assert_eq!(call(&client, Method::Get, "/theirs").await, answer(404, "caught /theirs"));
            assert_eq!(call(&client, Method::Delete, "/theirs").await, answer(404, "caught /theirs"));
            assert_eq!(call(&client, Method::Head, "/theirs").await, answer(404, ""));
            assert_eq!(call(&client, Method::Head, "/own").await, answer(200, ""));
            assert_eq!(call(&client, Method::Get, "/nowhere").await, answer(404, "caught /nowhere"));
            assert_eq!(ran(&client), 0, "no handler of another function ran");
            // Ranked routes split between functions: the other function's rank-1
            // route runs and forwards to this function's rank-2 route ...
            assert_eq!(call(&client, Method::Get, "/shared/abc").await, answer(200, "slug"));
            // ... and when it answers, the answer becomes the 404.
            assert_eq!(call(&client, Method::Get, "/shared/42").await, answer(404, "caught /shared/42"));
            assert_eq!(ran(&client), 2);
        }

        #[test]
        fn route_paths_in_cleaves_form() {
            assert_eq!(normalise("/api/notes/<id>"), "/api/notes/{id}");
            assert_eq!(normalise("/static/<path..>"), "/static/{*path}");
            assert_eq!(normalise("/api/notes/"), "/api/notes");
            assert_eq!(normalise("/"), "/");
        }
    }
}

/// Tests of the conversions between Lambda and rocket (`native` adapter only).
fn lambda_tests() -> proc_macro2::TokenStream {
    quote::quote! {
        /// Answers 201 with what it received: method, path, query, headers,
        /// cookies, host and caller in `X-` headers, the body as the body; and
        /// sets two cookies.
        fn echo<'r>(req: &'r Request<'_>, data: Data<'r>) -> BoxFuture<'r> {
            Box::pin(async move {
                let body = match data.open(rocket::data::ByteUnit::max_value()).into_bytes().await {
                    Ok(bytes) => bytes.into_inner(),
                    Err(_) => return Outcome::Error(Status::BadRequest),
                };
                let mut cookies: Vec<String> = req
                    .cookies()
                    .iter()
                    .map(|c| format!("{}={}", c.name(), c.value()))
                    .collect();
                cookies.sort();
                let custom: Vec<&str> = req.headers().get("X-Custom").collect();
                let response = Response::build()
                    .status(Status::Created)
                    .raw_header("X-Method", req.method().as_str())
                    .raw_header("X-Path", req.uri().path().to_string())
                    .raw_header("X-Query", req.uri().query().map(|q| q.to_string()).unwrap_or_default())
                    .raw_header("X-Custom-Seen", custom.join(","))
                    .raw_header("X-Cookies", cookies.join(";"))
                    .raw_header("X-Host", req.host().map(|h| h.to_string()).unwrap_or_default())
                    .raw_header("X-Remote", req.remote().map(|r| r.ip().to_string()).unwrap_or_default())
                    .raw_header_adjoin("Set-Cookie", "a=1; Path=/")
                    .raw_header_adjoin("Set-Cookie", "b=2; HttpOnly")
                    .header(ContentType::Binary)
                    .sized_body(body.len(), std::io::Cursor::new(body))
                    .finalize();
                Outcome::Success(response)
            })
        }

        async fn echo_client() -> Client {
            let routes: Vec<Route> = [Method::Get, Method::Put, Method::Post]
                .into_iter()
                .map(|method| Route::new(method, "/echo/<_..>", echo))
                .collect();
            Client::untracked(rocket::build().mount("/", routes))
                .await
                .expect("the test app launches")
        }

        #[rocket::async_test]
        async fn conversions_keep_method_path_query_headers_cookies_body_and_status() {
            let client = echo_client().await;
            let bytes = vec![0u8, 159, 146, 150, 255, b'\n'];
            let request = lambda_http::http::Request::builder()
                .method("PUT")
                .uri("https://example.com/echo/a%20b/c?x=1&y=two")
                .header("host", "example.com")
                .header("x-custom", "one")
                .header("x-custom", "two")
                .header("cookie", "a=1; b=hello%20world")
                .header("content-type", "application/octet-stream")
                .body(Body::Binary(bytes.clone()))
                .expect("a request");
            let response = respond(&client, request).await;
            assert_eq!(response.status().as_u16(), 201);
            let header = |name: &str| -> Vec<String> {
                response
                    .headers()
                    .get_all(name)
                    .iter()
                    .map(|v| v.to_str().unwrap_or("?").to_owned())
                    .collect()
            };
            assert_eq!(header("x-method"), ["PUT"]);
            assert_eq!(header("x-path"), ["/echo/a%20b/c"]);
            assert_eq!(header("x-query"), ["x=1&y=two"]);
            assert_eq!(header("x-custom-seen"), ["one,two"]);
            assert_eq!(header("x-cookies"), ["a=1;b=hello world"]);
            assert_eq!(header("x-host"), ["example.com"]);
            assert_eq!(header("set-cookie"), ["a=1; Path=/", "b=2; HttpOnly"]);
            assert_eq!(header("content-type"), ["application/octet-stream"]);
            assert_eq!(response.body().as_ref(), bytes.as_slice());
        }

        #[rocket::async_test]
        async fn an_empty_body_and_an_unknown_method() {
            let client = echo_client().await;
            let request = lambda_http::http::Request::builder()
                .method("GET")
                .uri("/echo")
                .body(Body::Empty)
                .expect("a request");
            let response = respond(&client, request).await;
            assert_eq!(response.status().as_u16(), 201);
            assert!(response.body().is_empty());
            let request = lambda_http::http::Request::builder()
                .method("PROPFIND")
                .uri("/echo")
                .body(Body::Empty)
                .expect("a request");
            assert_eq!(respond(&client, request).await.status().as_u16(), 400);
        }

        #[rocket::async_test]
        async fn a_function_url_event_keeps_cookies_base64_body_and_caller() {
            let client = echo_client().await;
            let event = r#"{
                "version": "2.0",
                "routeKey": "$default",
                "rawPath": "/echo/x",
                "rawQueryString": "q=1&q=2",
                "cookies": ["a=1", "b=two"],
                "headers": {"host": "abc.lambda-url.eu-west-1.on.aws", "content-type": "application/octet-stream"},
                "requestContext": {
                    "accountId": "123456789012",
                    "apiId": "abc",
                    "domainName": "abc.lambda-url.eu-west-1.on.aws",
                    "domainPrefix": "abc",
                    "http": {"method": "POST", "path": "/echo/x", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7", "userAgent": "test"},
                    "requestId": "id",
                    "routeKey": "$default",
                    "stage": "$default",
                    "time": "01/Jan/2025:00:00:00 +0000",
                    "timeEpoch": 1735689600000
                },
                "body": "AP+AAQ==",
                "isBase64Encoded": true
            }"#;
            let request = lambda_http::request::from_str(event).expect("a function URL event");
            let response = respond(&client, request).await;
            assert_eq!(response.status().as_u16(), 201);
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("?")
                    .to_owned()
            };
            assert_eq!(header("x-method"), "POST");
            assert_eq!(header("x-path"), "/echo/x");
            assert_eq!(header("x-query"), "q=1&q=2");
            assert_eq!(header("x-cookies"), "a=1;b=two");
            assert_eq!(header("x-host"), "abc.lambda-url.eu-west-1.on.aws");
            assert_eq!(header("x-remote"), "203.0.113.7");
            assert_eq!(response.body().as_ref(), [0u8, 255, 128, 1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_calls_are_replaced_with_the_runner() {
        let cases = [
            (
                "    let _rocket = notes::rocket().configure(server_figment()).launch().await?;",
                "    let _rocket = cleave_lambda::serve(notes::rocket().configure(server_figment())).await?;",
            ),
            (
                "    rocket::build()\n        .mount(\"/\", routes![a])\n        .launch()\n        .await\n        .map(|_| ())",
                "    cleave_lambda::serve(rocket::build()\n        .mount(\"/\", routes![a]))\n        .await\n        .map(|_| ())",
            ),
            (
                "    app()\n        // started here\n        .launch()\n        .await\n        .expect(\"launch\");",
                "    cleave_lambda::serve(app())\n        .await\n        .expect(\"launch\");",
            ),
            (
                "    if let Err(e) = app(\"é\").launch().await { drop(e) }",
                "    if let Err(e) = cleave_lambda::serve(app(\"é\")).await { drop(e) }",
            ),
        ];
        for (input, want) in cases {
            let (got, listener) = replace_serve(input, "cleave_lambda::serve").expect("replaced");
            assert_eq!(got, want);
            assert_eq!(listener, "");
        }
        assert!(replace_serve("server.launch(1)", "x").is_none());
        assert!(replace_serve("axum::serve(l, app).await", "x").is_none());
        assert!(replace_serve("let x = (", "x").is_none());
    }

    #[test]
    fn the_runner_lists_the_routes_and_is_deterministic() {
        let own = vec![("GET".to_owned(), "/api/notes/{id}".to_owned())];
        let elsewhere = vec![("POST".to_owned(), "/auth/login".to_owned())];
        let runner = Runner {
            header: "// @generated by cleave from `x` with plan `p.toml`.",
            own: &own,
            elsewhere: &elsewhere,
            adapter: Adapter::Native,
            routes_from: crate::runner::RouteSource::Consts,
        };
        let text = render(&runner);
        assert_eq!(text, render(&runner));
        assert!(text.starts_with("// @generated by cleave"));
        assert!(
            text.contains(r#"pub const ROUTES: &[(&str, &str)] = &[("GET", "/api/notes/{id}")];"#)
        );
        assert!(
            text.contains(r#"pub const ELSEWHERE: &[(&str, &str)] = &[("POST", "/auth/login")];"#)
        );
        assert!(text.contains(
            "pub async fn serve(rocket: Rocket<Build>) -> Result<Rocket<Ignite>, rocket::Error>"
        ));
        assert!(text.contains("mod tests {"));
        syn::parse_file(text.trim_start_matches(|c| c != '\n')).expect("valid Rust");
    }
}
