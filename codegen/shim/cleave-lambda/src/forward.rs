//! On Lambda, for facades whose framework cannot answer an event in-process
//! (rocket's `launch`, hyper 0.14's `Server`): the app's own server runs on
//! 127.0.0.1, and a `lambda_http` loop on a thread and runtime of its own
//! forwards each event to it over HTTP/1.1, with `X-Real-IP` set to the
//! event's source IP.

use std::time::{Duration, Instant};

use ::http_body_util::{BodyExt, Full};
use ::hyper::body::Bytes;
use ::hyper_util::rt::TokioIo;
use ::lambda_http::{self, Body};

/// How long the first event waits for the app to listen.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts the forwarding loop: each event goes to the app at 127.0.0.1 on
/// the port `port()` returns when the event arrives (the app may report
/// its port only once it listens), unless `refuse(method, path)` says the
/// route is another function's (404 here).
pub fn start(
    port: impl Fn() -> u16 + Send + Sync + 'static,
    refuse: impl Fn(&str, &str) -> bool + Send + Sync + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("lambda".to_owned())
        .spawn(move || {
            let runtime = ::tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap_or_else(|e| crate::fail("cannot start a tokio runtime", e));
            let port = &port;
            let refuse = &refuse;
            let handler =
                lambda_http::service_fn(move |request: lambda_http::Request| async move {
                    if refuse(request.method().as_str(), request.uri().path()) {
                        return Ok(status(404));
                    }
                    forward(request, port()).await
                });
            if let Err(e) = runtime.block_on(lambda_http::run(handler)) {
                crate::fail("the Lambda runtime failed", e);
            }
            crate::fail("the Lambda runtime stopped", "");
        });
    if let Err(e) = spawned {
        crate::fail("cannot start the Lambda thread", e);
    }
}

/// A free port on 127.0.0.1 (bound, then released for the app to bind).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| crate::fail("no free local port", e))
}

fn status(code: u16) -> lambda_http::Response<Body> {
    let mut response = lambda_http::Response::new(Body::Empty);
    *response.status_mut() = lambda_http::http::StatusCode::from_u16(code)
        .unwrap_or(lambda_http::http::StatusCode::BAD_GATEWAY);
    response
}

/// One event through the app listening on `port`.
async fn forward(
    request: lambda_http::Request,
    port: u16,
) -> Result<lambda_http::Response<Body>, lambda_http::Error> {
    let out = to_http(request)?;
    let stream = connect(port).await?;
    let (mut sender, connection) =
        ::hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    ::tokio::spawn(connection);
    let response = sender.send_request(out).await?;
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await?.to_bytes();
    Ok(to_lambda(parts, bytes))
}

/// The event as the HTTP/1.1 request to the app: method, path and query,
/// every header (repeated ones and cookies included) but the framing ones,
/// `Host` when the event has none, `X-Real-IP` from the source IP, the body.
fn to_http(
    request: lambda_http::Request,
) -> Result<lambda_http::http::Request<Full<Bytes>>, lambda_http::http::Error> {
    let ip = crate::source_ip(&request);
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let mut out = lambda_http::http::Request::builder()
        .method(parts.method)
        .uri(target);
    for (name, value) in &parts.headers {
        if name != lambda_http::http::header::CONTENT_LENGTH
            && name != lambda_http::http::header::TRANSFER_ENCODING
            && name.as_str() != "x-real-ip"
        {
            out = out.header(name, value);
        }
    }
    if !parts.headers.contains_key(lambda_http::http::header::HOST) {
        out = out.header(lambda_http::http::header::HOST, "localhost");
    }
    if let Some(ip) = ip {
        out = out.header("x-real-ip", ip.to_string());
    }
    let bytes: &[u8] = body.as_ref();
    out.body(Full::new(Bytes::copy_from_slice(bytes)))
}

/// The app's response as the Lambda response: status, every header (each
/// `Set-Cookie` on its own), the body bytes (`lambda_http` sends text or
/// base64 by content type).
fn to_lambda(
    parts: lambda_http::http::response::Parts,
    bytes: Bytes,
) -> lambda_http::Response<Body> {
    let mut answer = lambda_http::Response::from_parts(parts, Body::Empty);
    if !bytes.is_empty() {
        *answer.body_mut() = Body::Binary(bytes.to_vec());
    }
    answer
}

/// A connection to the app on `port`, waiting for it to listen.
async fn connect(port: u16) -> std::io::Result<::tokio::net::TcpStream> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        match ::tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            Ok(stream) => return Ok(stream),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => ::tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_becomes_the_request_the_app_would_have_had() {
        let event = lambda_http::http::Request::builder()
            .method("PUT")
            .uri("https://example.com/notes/7?tag=a&tag=b")
            .header("cookie", "session=abc; theme=dark")
            .header("x-multi", "one")
            .header("x-multi", "two")
            .header("x-real-ip", "10.0.0.1")
            .header("content-length", "13")
            .body(Body::Binary(b"{\"n\":[1,2,3]}".to_vec()))
            .expect("an event");
        let request = to_http(event).expect("a request");
        assert_eq!(request.method(), "PUT");
        assert_eq!(request.uri(), "/notes/7?tag=a&tag=b");
        let all = |name: &str| -> Vec<&[u8]> {
            request
                .headers()
                .get_all(name)
                .iter()
                .map(|v| v.as_bytes())
                .collect()
        };
        assert_eq!(all("x-multi"), [b"one".as_slice(), b"two".as_slice()]);
        assert_eq!(all("cookie"), [b"session=abc; theme=dark".as_slice()]);
        assert_eq!(all("host"), [b"localhost".as_slice()]);
        // Not the caller's to set: without a source IP there is none.
        assert!(all("x-real-ip").is_empty());
        assert!(all("content-length").is_empty());
    }

    #[test]
    fn a_response_keeps_every_cookie_and_a_binary_body() {
        let response = lambda_http::http::Response::builder()
            .status(201)
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .header("content-type", "application/octet-stream")
            .body(())
            .expect("a response");
        let (parts, ()) = response.into_parts();
        let answer = to_lambda(parts, Bytes::from_static(&[0, 159, 146, 150]));
        assert_eq!(answer.status(), 201);
        assert_eq!(answer.headers().get_all("set-cookie").iter().count(), 2);
        match answer.body() {
            Body::Binary(bytes) => assert_eq!(bytes, &[0u8, 159, 146, 150]),
            other => panic!("body: {other:?}"),
        }
        let (parts, ()) = lambda_http::http::Response::builder()
            .status(204)
            .body(())
            .expect("a response")
            .into_parts();
        assert!(matches!(to_lambda(parts, Bytes::new()).body(), Body::Empty));
    }
}
