//! On Lambda: the `App` on its own actix `System` thread, answering the
//! events a `lambda_http` loop (on a thread and runtime of its own) sends
//! it over a channel; the conversions between the two.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::rc::Rc;

use ::actix_web_real::body::MessageBody;
use ::actix_web_real::dev::{Service, ServiceFactory, ServiceRequest, ServiceResponse};
use ::actix_web_real::http::header::{HeaderName, HeaderValue};
use ::actix_web_real::http::{Method, Uri};
use ::actix_web_real::test::TestRequest;
use ::actix_web_real::web::Bytes;
use ::actix_web_real::{App, HttpResponse};
use ::cleave_lambda::lambda_http;
use ::tokio::sync::{mpsc, oneshot};

/// A request on its way to the app thread, and where its response goes.
type Job = (Incoming, oneshot::Sender<Outgoing>);

/// Starts the app thread and the Lambda loop; the future ends when either
/// stops (with an error: on Lambda the runtime owns the process).
pub(crate) fn serve<F, T, B>(factory: F) -> Pin<Box<dyn Future<Output = io::Result<()>> + Send>>
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
    let (jobs, mut inbox) = mpsc::channel::<Job>(64);
    let (ready, started) = oneshot::channel::<()>();
    let app = std::thread::Builder::new()
        .name("actix-app".to_owned())
        .spawn(move || {
            ::actix_web_real::rt::System::new().block_on(async move {
                let app = Rc::new(
                    ::actix_web_real::test::init_service(crate::server::guarded(factory())).await,
                );
                let _ = ready.send(());
                while let Some((incoming, reply)) = inbox.recv().await {
                    let app = Rc::clone(&app);
                    ::actix_web_real::rt::spawn(async move {
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
        });
    if let Err(e) = app {
        return Box::pin(async move { Err(e) });
    }
    let (done, finished) = oneshot::channel::<io::Result<()>>();
    let lambda = std::thread::Builder::new()
        .name("lambda".to_owned())
        .spawn(move || {
            let outcome = match ::tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime.block_on(async move {
                    started
                        .await
                        .map_err(|_| io::Error::other("the actix App failed to start"))?;
                    lambda_http::run(handler(jobs))
                        .await
                        .map_err(io::Error::other)
                }),
                Err(e) => Err(e),
            };
            let _ = done.send(outcome);
        });
    if let Err(e) = lambda {
        return Box::pin(async move { Err(e) });
    }
    Box::pin(async move {
        match finished.await {
            Ok(outcome) => outcome,
            Err(_) => Err(io::Error::other("the Lambda loop panicked")),
        }
    })
}

fn handler(
    jobs: mpsc::Sender<Job>,
) -> impl tower_service::Service<
    lambda_http::Request,
    Response = lambda_http::Response<lambda_http::Body>,
    Error = lambda_http::Error,
    Future = impl Future<
        Output = Result<lambda_http::Response<lambda_http::Body>, lambda_http::Error>,
    > + Send,
> {
    lambda_http::service_fn(move |request: lambda_http::Request| {
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
    })
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
    /// The caller's address (API Gateway's source IP, port 0).
    pub peer: Option<SocketAddr>,
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
    let peer = ::cleave_lambda::source_ip(&request).map(|ip: IpAddr| SocketAddr::new(ip, 0));
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
        peer,
    }
}

/// The actix request for `incoming`; `Err` says why it is not valid HTTP.
fn to_actix(incoming: Incoming) -> Result<TestRequest, String> {
    let method = Method::from_bytes(incoming.method.as_bytes())
        .map_err(|_| format!("invalid method `{}`", incoming.method))?;
    Uri::try_from(incoming.uri.as_str())
        .map_err(|_| format!("invalid request target `{}`", incoming.uri))?;
    let mut request = TestRequest::default().method(method).uri(&incoming.uri);
    if let Some(peer) = incoming.peer {
        request = request.peer_addr(peer);
    }
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
        match ::actix_web_real::body::to_bytes(response.into_body()).await {
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
    Outgoing {
        status,
        headers,
        body,
    }
}

/// The Lambda response: every header (each `set-cookie` on its own), the
/// body as bytes (`lambda_http` sends text or base64 by content type).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn block_on<F: Future>(future: F) -> F::Output {
        ::actix_web_real::rt::System::new().block_on(future)
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
        assert_eq!(
            header(&incoming.headers, "cookie"),
            [b"session=abc; theme=dark".as_slice()]
        );
        assert_eq!(
            header(&incoming.headers, "x-multi"),
            [b"one".as_slice(), b"two".as_slice()]
        );
        assert_eq!(incoming.body.as_ref(), b"{\"n\":[1,2,3]}");
        let (request, _) = to_actix(incoming).expect("valid").to_http_parts();
        assert_eq!(request.method(), Method::PUT);
        assert_eq!(request.path(), "/items/42");
        assert_eq!(request.query_string(), "q=a%20b&tag=x&tag=y");
        let multi: Vec<&[u8]> = request
            .headers()
            .get_all("x-multi")
            .map(|v| v.as_bytes())
            .collect();
        assert_eq!(multi, [b"one".as_slice(), b"two".as_slice()]);
    }

    #[test]
    fn a_response_keeps_status_every_cookie_and_a_binary_body() {
        let response = HttpResponse::Created()
            .content_type("application/octet-stream")
            .append_header(("set-cookie", "a=1; Path=/"))
            .append_header(("set-cookie", "b=2; HttpOnly"))
            .body(vec![0u8, 159, 146, 150]);
        let outgoing = block_on(from_actix(response, false));
        assert_eq!(outgoing.status, 201);
        assert_eq!(header(&outgoing.headers, "set-cookie").len(), 2);
        let lambda = to_lambda(outgoing).expect("response");
        assert_eq!(lambda.headers().get_all("set-cookie").iter().count(), 2);
        match lambda.body() {
            lambda_http::Body::Binary(bytes) => assert_eq!(bytes, &[0u8, 159, 146, 150]),
            other => panic!("body: {other:?}"),
        }
        let head = block_on(from_actix(HttpResponse::Ok().body("x"), true));
        assert!(head.body.is_empty());
    }
}
