//! The runner of an actix-web function (`src/cleave_lambda.rs`).
//!
//! `HttpServer::new(FACTORY)<.bind(..)?, .workers(..), ..>.run()` in the
//! monolith's `main` becomes `cleave_lambda::serve(FACTORY)`; awaiting it
//! gives the `std::io::Result<()>` the server gave. Outside Lambda (and
//! always, with the web adapter) it is the same `HttpServer` on
//! 127.0.0.1:$PORT. On Lambda with the `native` adapter
//! (`AWS_LAMBDA_RUNTIME_API` set) the `App` lives on its own thread inside
//! an actix `System` (actix services are `!Send`) and is called in-process;
//! a `lambda_http` handler forwards each request over a channel and gets
//! the response back. Every way the `App` is wrapped with a guard that
//! answers 404 for the routes other functions own (by `match_pattern`, the
//! matched resource pattern). Built with `quote`, formatted with
//! `prettyplease`.

use quote::quote;

use crate::runner::{Backend, Runner, dep};
use crate::workspace::Adapter;

pub const BACKEND: Option<Backend> = Some(Backend {
    replace_serve,
    render,
    deps: |adapter| match adapter {
        Adapter::Native => vec![dep("lambda_http", "1.3", &[]), dep("tokio", "1", &["sync"])],
        Adapter::WebAdapter => Vec::new(),
    },
    expects: "`HttpServer::new(factory)...run()` in one statement",
    guard: "wraps the `App` (its scopes, `wrap`s, `configure` fns, `app_data` and default service) in a guard that compares each request's matched resource pattern (`match_pattern`) with the function's own routes and answers 404 for the routes other functions own, before their handlers run.",
    in_process: "On Lambda the `App` runs on its own actix `System` thread and each event is answered in-process; there is no extra HTTP hop.",
});

/// In `stmt`, replaces `HttpServer::new(FACTORY)<builder calls>.run()` with
/// `call(FACTORY)`, keeping what follows (`.await`, `?`); returns the text
/// and the listener passed to `.listen(..)` (empty when it binds an address).
pub fn replace_serve(stmt: &str, call: &str) -> Option<(String, String)> {
    const NEW: &str = "HttpServer::new";
    let bytes = stmt.as_bytes();
    let mut search = 0;
    while let Some(rel) = stmt.get(search..).and_then(|s| s.find(NEW)) {
        let at = search + rel;
        search = at + NEW.len();
        if stmt[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let start = path_start(stmt, at);
        let Some(open) = skip_trivia(bytes, at + NEW.len()).filter(|&i| bytes[i] == b'(') else {
            continue;
        };
        let Some(close) = matching(bytes, open) else {
            continue;
        };
        let factory = stmt[open + 1..close].trim();
        let Some((end, listener)) = chain_to_run(stmt, close + 1) else {
            continue;
        };
        let out = format!("{}{call}({factory}){}", &stmt[..start], &stmt[end..]);
        return Some((out, listener));
    }
    None
}

/// Walks back over a `a::b::` path in front of `at`.
fn path_start(stmt: &str, at: usize) -> usize {
    let mut start = at;
    while start >= 2 && stmt.get(start - 2..start) == Some("::") {
        let seg_end = start - 2;
        let seg_start = stmt[..seg_end]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map(|(i, _)| i)
            .unwrap_or(seg_end);
        if seg_start == seg_end {
            break;
        }
        start = seg_start;
    }
    start
}

/// From `from` (just after `HttpServer::new(..)`), follows the builder
/// chain (`.bind(..)?`, `.workers(4)`, `.listen(l)?`, ...) to the end of
/// `.run()`; returns that offset and the first argument of a `.listen*(..)`.
fn chain_to_run(stmt: &str, from: usize) -> Option<(usize, String)> {
    let bytes = stmt.as_bytes();
    let mut i = from;
    let mut listener = String::new();
    loop {
        i = skip_trivia(bytes, i)?;
        match bytes[i] {
            b'?' => i += 1,
            b'.' => {
                let name_start = skip_trivia(bytes, i + 1)?;
                let name_end = name_start
                    + stmt[name_start..]
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .unwrap_or(stmt.len() - name_start);
                let name = &stmt[name_start..name_end];
                let open = skip_trivia(bytes, name_end).filter(|&o| bytes[o] == b'(')?;
                let close = matching(bytes, open)?;
                if name == "run" {
                    return Some((close + 1, listener));
                }
                if name.starts_with("listen") && listener.is_empty() {
                    let args = &stmt[open + 1..close];
                    let first = args.split(',').next().unwrap_or("").trim();
                    if first.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        listener = first.to_owned();
                    }
                }
                i = close + 1;
            }
            _ => return None,
        }
    }
}

/// The next offset at or after `i` that is not whitespace or a comment.
fn skip_trivia(bytes: &[u8], mut i: usize) -> Option<usize> {
    loop {
        match bytes.get(i)? {
            c if c.is_ascii_whitespace() => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => i = block_comment_end(bytes, i)?,
            _ => return Some(i),
        }
    }
}

fn block_comment_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0u32;
    let mut i = open;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => i += 1,
        }
    }
    None
}

/// The offset of the bracket closing the one at `open`, skipping strings,
/// character literals and comments.
fn matching(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0i32;
    let mut i = open;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(bytes, i)?,
            b'r' if raw_string_hashes(bytes, i).is_some() => {
                let hashes = raw_string_hashes(bytes, i)?;
                let body = i + 1 + hashes + 1;
                let mut closing = vec![b'"'];
                closing.extend(std::iter::repeat_n(b'#', hashes));
                let rel = bytes[body..]
                    .windows(closing.len())
                    .position(|w| w == closing.as_slice())?;
                i = body + rel + closing.len();
            }
            b'\'' => {
                // A character literal (`'x'`, `'\n'`, `'\''`) or a lifetime.
                if bytes.get(i + 1) == Some(&b'\\') {
                    let close = bytes[i + 2..].iter().position(|&c| c == b'\'')?;
                    i += 2 + close.max(1) + 1;
                } else if bytes.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            b'/' if matches!(bytes.get(i + 1), Some(b'/') | Some(b'*')) => {
                i = skip_trivia(bytes, i)?;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// The offset just after the string literal opening at `open`.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// `r"`, `r#"`, ... at `i` (not part of an identifier): the number of `#`.
fn raw_string_hashes(bytes: &[u8], i: usize) -> Option<usize> {
    if i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_') {
        return None;
    }
    let hashes = bytes[i + 1..].iter().take_while(|&&c| c == b'#').count();
    (bytes.get(i + 1 + hashes) == Some(&b'"')).then_some(hashes)
}

pub fn render(r: &Runner<'_>) -> String {
    let route_items = crate::runner::route_items(r);
    let in_process = r.adapter == Adapter::Native;
    let imports = if in_process {
        quote! {
            use std::rc::Rc;

            use actix_web::body::{BoxBody, MessageBody};
            use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
            use actix_web::http::header::{HeaderName, HeaderValue};
            use actix_web::http::{Method, Uri};
            use actix_web::test::TestRequest;
            use actix_web::web::Bytes;
            use actix_web::{App, HttpResponse, HttpServer};
            use tokio::sync::{mpsc, oneshot};
        }
    } else {
        quote! {
            use actix_web::body::{BoxBody, MessageBody};
            use actix_web::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
            use actix_web::{App, HttpResponse, HttpServer};
        }
    };
    let (port_doc, serves, on_lambda) = if in_process {
        (
            " The port of the local server when not on Lambda (`PORT` overrides it).",
            " serves the app on Lambda, or on 127.0.0.1:$PORT elsewhere.",
            quote! {
                if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
                    return serve_lambda(factory).await;
                }
            },
        )
    } else {
        (
            " The port when `PORT` is not set (`template.yaml` sets it for the Lambda Web Adapter).",
            " serves the app on 127.0.0.1:$PORT (behind the Lambda Web Adapter on Lambda).",
            quote!(),
        )
    };
    let (lambda_items, lambda_tests, round_trip) = if in_process {
        (lambda_items(), lambda_tests(), round_trip_test())
    } else {
        (quote!(), quote!(), quote!())
    };
    let file: syn::File = syn::parse_quote! {
        #imports

        #route_items

        #[doc = #port_doc]
        const DEFAULT_PORT: u16 = 8080;

        /// A matched resource pattern in cleave's form: `{id:\d+}` -> `{id}`,
        /// `{tail:.*}` -> `{*tail}`, no trailing slash.
        fn normalise(pattern: &str) -> String {
            let pattern = pattern.split('?').next().unwrap_or("");
            let segments: Vec<String> = pattern
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if let Some(inner) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                        if let Some(name) = inner.strip_prefix('*') {
                            return format!("{{*{name}}}");
                        }
                        return match inner.split_once(':') {
                            Some((name, re)) if re.contains(".*") || re.contains(".+") => {
                                format!("{{*{name}}}")
                            }
                            Some((name, _)) => format!("{{{name}}}"),
                            None => format!("{{{inner}}}"),
                        };
                    }
                    s.to_owned()
                })
                .collect();
            format!("/{}", segments.join("/"))
        }

        fn listed(list: &[(&str, &str)], method: &str, path: &str) -> bool {
            list.iter().any(|(m, p)| {
                *p == path && (*m == "ANY" || *m == method || (method == "HEAD" && *m == "GET"))
            })
        }

        /// Whether a request to the resource `pattern` is answered 404 here: the
        /// route is another function's. Anything else (a 405, the default
        /// service) goes to the app, as in the monolith.
        fn refused(
            own: &[(&str, &str)],
            elsewhere: &[(&str, &str)],
            method: &str,
            pattern: Option<&str>,
        ) -> bool {
            match pattern.map(normalise) {
                Some(path) => !listed(own, method, &path) && listed(elsewhere, method, &path),
                None => false,
            }
        }

        /// The monolith's `App`, behind the guard that keeps the function to its routes.
        fn guarded<T, B>(
            app: App<T>,
        ) -> App<
            impl ServiceFactory<
                ServiceRequest,
                Config = (),
                Response = ServiceResponse<BoxBody>,
                Error = actix_web::Error,
                InitError = (),
            >,
        >
        where
            T: ServiceFactory<
                    ServiceRequest,
                    Config = (),
                    Response = ServiceResponse<B>,
                    Error = actix_web::Error,
                    InitError = (),
                >,
            B: MessageBody + 'static,
        {
            app.wrap_fn(|req: ServiceRequest, srv: &T::Service| {
                let pattern = req.match_pattern();
                let call = if refused(own_routes(), other_routes(), req.method().as_str(), pattern.as_deref()) {
                    Err(req)
                } else {
                    Ok(srv.call(req))
                };
                async move {
                    match call {
                        Ok(response) => response.await.map(ServiceResponse::map_into_boxed_body),
                        Err(req) => Ok(req.into_response(HttpResponse::NotFound().finish())),
                    }
                }
            })
        }


        /// Stands in for `HttpServer::new(factory).bind(..)?.run()`: awaiting it
        #[doc = #serves]
        pub async fn serve<F, T, B>(factory: F) -> std::io::Result<()>
        where
            F: Fn() -> App<T> + Send + Clone + 'static,
            T: ServiceFactory<
                    ServiceRequest,
                    Config = (),
                    Response = ServiceResponse<B>,
                    Error = actix_web::Error,
                    InitError = (),
                > + 'static,
            B: MessageBody + 'static,
        {
            #on_lambda
            let port = std::env::var("PORT")
                .ok()
                .and_then(|p| p.parse().ok())
                .unwrap_or(DEFAULT_PORT);
            HttpServer::new(move || guarded(factory()))
                .bind((std::net::Ipv4Addr::LOCALHOST, port))?
                .run()
                .await
        }

        #lambda_items

        #[cfg(test)]
        mod tests {
            use super::*;

            #lambda_tests

            #[test]
            fn patterns_normalise_to_cleaves_form() {
                assert_eq!(normalise("/a/{id}/b/"), "/a/{id}/b");
                assert_eq!(normalise("/a/{id:\\d+}"), "/a/{id}");
                assert_eq!(normalise("/files/{tail:.*}"), "/files/{*tail}");
                assert_eq!(normalise(""), "/");
            }

            #[test]
            fn only_routes_other_functions_own_are_refused() {
                let own = &[("GET", "/a/{id}"), ("ANY", "/any")];
                let elsewhere = &[("PUT", "/a/{id}"), ("GET", "/b"), ("ANY", "/c")];
                assert!(!refused(own, elsewhere, "GET", Some("/a/{id}")));
                assert!(!refused(own, elsewhere, "HEAD", Some("/a/{id}")));
                assert!(!refused(own, elsewhere, "DELETE", Some("/any")));
                assert!(refused(own, elsewhere, "PUT", Some("/a/{id}")));
                assert!(refused(own, elsewhere, "GET", Some("/b")));
                assert!(refused(own, elsewhere, "POST", Some("/c")));
                // Unlisted methods and paths reach the app (405 / default service).
                assert!(!refused(own, elsewhere, "POST", Some("/a/{id}")));
                assert!(!refused(own, elsewhere, "GET", None));
            }


            #round_trip
        }
    };
    format!("{}\n{}", r.header, prettyplease::unparse(&file))
}

/// With the `native` adapter: the `App` on its own thread and the
/// conversions between Lambda events and actix requests.
fn lambda_items() -> proc_macro2::TokenStream {
    quote! {
        /// A request on its way to the app thread, and where its response goes.
        type Job = (Incoming, oneshot::Sender<Outgoing>);

        async fn serve_lambda<F, T, B>(factory: F) -> std::io::Result<()>
        where
            F: Fn() -> App<T> + Send + Clone + 'static,
            T: ServiceFactory<
                    ServiceRequest,
                    Config = (),
                    Response = ServiceResponse<B>,
                    Error = actix_web::Error,
                    InitError = (),
                > + 'static,
            B: MessageBody + 'static,
        {
            let (jobs, mut inbox) = mpsc::channel::<Job>(64);
            let (ready, started) = oneshot::channel::<()>();
            std::thread::Builder::new()
                .name("actix-app".to_owned())
                .spawn(move || {
                    actix_web::rt::System::new().block_on(async move {
                        let app = Rc::new(actix_web::test::init_service(guarded(factory())).await);
                        let _ = ready.send(());
                        while let Some((incoming, reply)) = inbox.recv().await {
                            let app = Rc::clone(&app);
                            actix_web::rt::spawn(async move {
                                let head = incoming.method == "HEAD";
                                let response = match to_actix(incoming) {
                                    Ok(request) => match app.call(request.to_request()).await {
                                        Ok(response) => response.into_parts().1,
                                        Err(error) => HttpResponse::from_error(error),
                                    },
                                    Err(why) => HttpResponse::BadRequest().body(why),
                                };
                                let _ = reply.send(from_actix(response, head).await);
                            });
                        }
                    });
                })?;
            started
                .await
                .map_err(|_| std::io::Error::other("the actix App failed to start"))?;
            let handler = lambda_http::service_fn(move |request: lambda_http::Request| {
                let jobs = jobs.clone();
                async move {
                    let (reply, response) = oneshot::channel();
                    jobs.send((from_lambda(request), reply))
                        .await
                        .map_err(|_| lambda_http::Error::from("the actix App has stopped"))?;
                    let response = response
                        .await
                        .map_err(|_| lambda_http::Error::from("the actix App dropped the request"))?;
                    to_lambda(response)
                }
            });
            lambda_http::run(handler).await.map_err(std::io::Error::other)
        }

        /// A request, framework-neutral: what crosses the channel to the app thread.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Incoming {
            pub method: String,
            /// Path and query, as the client sent them.
            pub uri: String,
            /// Every header in order, repeated names included (cookies arrive as `cookie`).
            pub headers: Vec<(String, Vec<u8>)>,
            pub body: Bytes,
        }

        /// A response on its way back from the app thread.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Outgoing {
            pub status: u16,
            /// Every header in order, each `set-cookie` on its own.
            pub headers: Vec<(String, Vec<u8>)>,
            pub body: Bytes,
        }

        fn from_lambda(request: lambda_http::Request) -> Incoming {
            let (parts, body) = request.into_parts();
            let uri = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_else(|| "/".to_owned());
            let headers = parts
                .headers
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                .collect();
            let body = match body {
                lambda_http::Body::Empty => Bytes::new(),
                lambda_http::Body::Text(text) => Bytes::from(text),
                lambda_http::Body::Binary(bytes) => Bytes::from(bytes),
                other => Bytes::copy_from_slice(other.as_ref()),
            };
            Incoming {
                method: parts.method.as_str().to_owned(),
                uri,
                headers,
                body,
            }
        }

        /// The actix request for `incoming`; `Err` says why it is not valid HTTP.
        fn to_actix(incoming: Incoming) -> Result<TestRequest, String> {
            let method = Method::from_bytes(incoming.method.as_bytes())
                .map_err(|_| format!("invalid method `{}`", incoming.method))?;
            Uri::try_from(incoming.uri.as_str())
                .map_err(|_| format!("invalid request target `{}`", incoming.uri))?;
            let mut request = TestRequest::default().method(method).uri(&incoming.uri);
            let mut length = false;
            for (name, value) in &incoming.headers {
                // The body is complete here; its length is set from the bytes below.
                if name.eq_ignore_ascii_case("content-length") {
                    length = true;
                    continue;
                }
                if name.eq_ignore_ascii_case("transfer-encoding") {
                    continue;
                }
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| format!("invalid header name `{name}`"))?;
                let value = HeaderValue::from_bytes(value)
                    .map_err(|_| format!("invalid value for header `{name}`"))?;
                request = request.append_header((name, value));
            }
            if length || !incoming.body.is_empty() {
                request = request.set_payload(incoming.body);
            }
            Ok(request)
        }

        /// The framework-neutral form of the app's response (no body for `HEAD`).
        async fn from_actix<B: MessageBody>(response: HttpResponse<B>, head: bool) -> Outgoing {
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(name, value)| (name.as_str().to_owned(), value.as_bytes().to_vec()))
                .collect();
            let body = if head {
                Bytes::new()
            } else {
                match actix_web::body::to_bytes(response.into_body()).await {
                    Ok(bytes) => bytes,
                    Err(_) => {
                        return Outgoing {
                            status: 500,
                            headers: Vec::new(),
                            body: Bytes::new(),
                        };
                    }
                }
            };
            Outgoing { status, headers, body }
        }

        /// `lambda_http` sends the body as text when the content type is textual
        /// (JSON, `text/*`, ...) and base64-encoded otherwise.
        fn to_lambda(
            outgoing: Outgoing,
        ) -> Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error> {
            let mut response = lambda_http::Response::builder().status(outgoing.status);
            for (name, value) in &outgoing.headers {
                response = response.header(name.as_str(), value.as_slice());
            }
            let body = if outgoing.body.is_empty() {
                lambda_http::Body::Empty
            } else {
                lambda_http::Body::Binary(outgoing.body.to_vec())
            };
            Ok(response.body(body)?)
        }
    }
}

/// Tests of the conversions (`native` adapter only).
fn lambda_tests() -> proc_macro2::TokenStream {
    quote! {
        fn block_on<F: std::future::Future>(future: F) -> F::Output {
            actix_web::rt::System::new().block_on(future)
        }

        fn header<'a>(headers: &'a [(String, Vec<u8>)], name: &str) -> Vec<&'a [u8]> {
            headers
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, v)| v.as_slice())
                .collect()
        }

        fn lambda_request() -> lambda_http::Request {
            lambda_http::http::Request::builder()
                .method("PUT")
                .uri("https://example.com/items/42?q=a%20b&tag=x&tag=y")
                .header("content-type", "application/json")
                .header("cookie", "session=abc; theme=dark")
                .header("x-multi", "one")
                .header("x-multi", "two")
                .header("content-length", "13")
                .body(lambda_http::Body::Binary(b"{\"n\":[1,2,3]}".to_vec()))
                .expect("request")
        }

        #[test]
        fn a_lambda_request_keeps_method_path_query_headers_cookies_and_body() {
            let incoming = from_lambda(lambda_request());
            assert_eq!(incoming.method, "PUT");
            assert_eq!(incoming.uri, "/items/42?q=a%20b&tag=x&tag=y");
            assert_eq!(header(&incoming.headers, "cookie"), [b"session=abc; theme=dark".as_slice()]);
            assert_eq!(header(&incoming.headers, "x-multi"), [b"one".as_slice(), b"two".as_slice()]);
            assert_eq!(incoming.body.as_ref(), b"{\"n\":[1,2,3]}");
            let text = lambda_http::http::Request::builder()
                .uri("/t")
                .body(lambda_http::Body::Text("héllo".to_owned()))
                .expect("request");
            assert_eq!(from_lambda(text).body.as_ref(), "héllo".as_bytes());
            let empty = lambda_http::http::Request::builder()
                .uri("/")
                .body(lambda_http::Body::Empty)
                .expect("request");
            let empty = from_lambda(empty);
            assert_eq!((empty.method.as_str(), empty.uri.as_str()), ("GET", "/"));
            assert!(empty.body.is_empty());
        }

        #[test]
        fn the_actix_request_has_what_the_lambda_request_had() {
            let (request, _) = to_actix(from_lambda(lambda_request()))
                .expect("valid")
                .to_http_parts();
            assert_eq!(request.method(), Method::PUT);
            assert_eq!(request.path(), "/items/42");
            assert_eq!(request.query_string(), "q=a%20b&tag=x&tag=y");
            let cookie = request.headers().get("cookie").expect("cookie");
            assert_eq!(cookie.as_bytes(), b"session=abc; theme=dark");
            let multi: Vec<&[u8]> = request
                .headers()
                .get_all("x-multi")
                .map(|v| v.as_bytes())
                .collect();
            assert_eq!(multi, [b"one".as_slice(), b"two".as_slice()]);
            let lengths: Vec<_> = request.headers().get_all("content-length").collect();
            assert_eq!(lengths, [HeaderValue::from_static("13")]);
        }

        #[test]
        fn invalid_requests_are_refused_not_panicked_on() {
            let bad = Incoming {
                method: "GET".to_owned(),
                uri: "/a b".to_owned(),
                headers: Vec::new(),
                body: Bytes::new(),
            };
            assert!(to_actix(bad.clone()).is_err());
            let bad_method = Incoming {
                method: "G E T".to_owned(),
                uri: "/".to_owned(),
                ..bad
            };
            assert!(to_actix(bad_method).is_err());
        }

        #[test]
        fn a_response_keeps_status_headers_every_cookie_and_body() {
            let response = HttpResponse::Created()
                .content_type("application/octet-stream")
                .append_header(("set-cookie", "a=1; Path=/"))
                .append_header(("set-cookie", "b=2; HttpOnly"))
                .body(vec![0u8, 159, 146, 150]);
            let outgoing = block_on(from_actix(response, false));
            assert_eq!(outgoing.status, 201);
            assert_eq!(
                header(&outgoing.headers, "set-cookie"),
                [b"a=1; Path=/".as_slice(), b"b=2; HttpOnly".as_slice()]
            );
            assert_eq!(outgoing.body.as_ref(), [0u8, 159, 146, 150]);
            let lambda = to_lambda(outgoing).expect("response");
            assert_eq!(lambda.status(), 201);
            let cookies: Vec<_> = lambda.headers().get_all("set-cookie").iter().collect();
            assert_eq!(cookies.len(), 2);
            assert_eq!(
                lambda.headers().get("content-type").map(|v| v.as_bytes()),
                Some(b"application/octet-stream".as_slice())
            );
            match lambda.body() {
                lambda_http::Body::Binary(bytes) => assert_eq!(bytes, &[0u8, 159, 146, 150]),
                other => panic!("body: {other:?}"),
            }
            let head = block_on(from_actix(HttpResponse::Ok().body("x"), true));
            assert!(head.body.is_empty());
            let empty = to_lambda(block_on(from_actix(HttpResponse::NoContent().finish(), false)))
                .expect("response");
            assert_eq!(empty.status(), 204);
            assert!(matches!(empty.body(), lambda_http::Body::Empty));
        }
    }
}

/// A request through the guarded app and the conversions (`native` adapter only).
fn round_trip_test() -> proc_macro2::TokenStream {
    quote! {
        #[test]
        fn a_request_round_trips_through_an_app() {
            block_on(async {
                let app = actix_web::test::init_service(guarded(
                    App::new()
                        .route(
                            "/echo/{id}",
                            actix_web::web::post().to(
                                |req: actix_web::HttpRequest, body: Bytes| async move {
                                    let cookie = req
                                        .headers()
                                        .get("cookie")
                                        .and_then(|v| v.to_str().ok())
                                        .unwrap_or("")
                                        .to_owned();
                                    HttpResponse::Accepted()
                                        .append_header(("set-cookie", "a=1"))
                                        .append_header(("set-cookie", "b=2"))
                                        .body(format!(
                                            "{} {} {} {cookie} {}",
                                            req.method(),
                                            req.path(),
                                            req.query_string(),
                                            String::from_utf8_lossy(&body)
                                        ))
                                },
                            ),
                        ),
                ))
                .await;
                let incoming = Incoming {
                    method: "POST".to_owned(),
                    uri: "/echo/7?x=1".to_owned(),
                    headers: vec![("cookie".to_owned(), b"s=1; t=2".to_vec())],
                    body: Bytes::from_static(b"hello"),
                };
                let request = to_actix(incoming).expect("valid").to_request();
                let response = app.call(request).await.expect("response").into_parts().1;
                let outgoing = from_actix(response, false).await;
                assert_eq!(outgoing.status, 202);
                assert_eq!(outgoing.body.as_ref(), b"POST /echo/7 x=1 s=1; t=2 hello");
                assert_eq!(header(&outgoing.headers, "set-cookie").len(), 2);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_server_chains_become_the_runner() {
        let cases = [
            (
                "    HttpServer::new(move || {\n        App::new().service(x)\n    })\n    .bind((\"127.0.0.1\", port))?\n    .run()\n    .await",
                "    cleave_lambda::serve(move || {\n        App::new().service(x)\n    })\n    .await",
                "",
            ),
            (
                "actix_web::HttpServer::new(app).workers(4).bind(addr)?.run().await?;",
                "cleave_lambda::serve(app).await?;",
                "",
            ),
            (
                "let s = HttpServer::new(|| App::new() /* ) */ .route(\")\", web::get().to(h))).listen(listener)?.run();",
                "let s = cleave_lambda::serve(|| App::new() /* ) */ .route(\")\", web::get().to(h)));",
                "listener",
            ),
            (
                "web::HttpServer::new(f).bind_auto_h2c(a)\n  // comment (\n  .unwrap().run().await",
                "cleave_lambda::serve(f).await",
                "",
            ),
        ];
        for (input, want, listener) in cases {
            let got = replace_serve(input, "cleave_lambda::serve");
            assert_eq!(got, Some((want.to_owned(), listener.to_owned())), "{input}");
        }
        for bad in [
            "server.run().await",
            "MyHttpServer::new(f).run()",
            "HttpServer::new(f).bind(a)?",
            "HttpServer::new(f",
        ] {
            assert_eq!(replace_serve(bad, "x"), None, "{bad}");
        }
    }

    #[test]
    fn the_runner_lists_the_routes_and_is_deterministic() {
        let own = vec![("GET".to_owned(), "/a/{id}".to_owned())];
        let elsewhere = vec![("ANY".to_owned(), "/b".to_owned())];
        let runner = Runner {
            header: "// @generated by cleave",
            own: &own,
            elsewhere: &elsewhere,
            adapter: Adapter::Native,
            routes_from: crate::runner::RouteSource::Consts,
        };
        let text = render(&runner);
        assert!(text.starts_with("// @generated by cleave\n"));
        assert!(text.contains(r#"pub const ROUTES: &[(&str, &str)] = &[("GET", "/a/{id}")];"#));
        assert!(text.contains(r#"pub const ELSEWHERE: &[(&str, &str)] = &[("ANY", "/b")];"#));
        assert_eq!(text, render(&runner));
    }
}
