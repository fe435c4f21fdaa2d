//! ### What it does
//! Finds responses that keep the connection open: server-sent events (axum
//! `Sse::new`, actix-web-lab `Sse::from_stream`/`from_receiver`, Rocket
//! `EventStream!`), websockets (axum/warp `.on_upgrade(..)`, actix
//! `ws::start`, `WsResponseBuilder`, `actix_ws::handle`, a `WebSocketUpgrade`
//! or rocket_ws `WebSocket` parameter) and streamed bodies
//! (`Body::from_stream`, `StreamBody::new`, actix `.streaming(..)` and
//! `BodyStream::new`, Rocket `TextStream!`/`ByteStream!`/`ReaderStream!`;
//! not reqwest's `Body::wrap_stream`, a body the app sends out).
//!
//! ### Why is this bad on Lambda
//! A Lambda invocation behind API Gateway returns one buffered response and
//! ends at the 29-30 s timeout; it cannot hold a socket open. An SSE feed
//! or a websocket is cut off (or never upgrades), and a streamed body is
//! buffered whole (up to the 6 MB response limit) before anything reaches
//! the client.
//!
//! ### Example
//! ```text
//! async fn events(State(st): State<AppState>) -> Sse<impl Stream<Item = ..>> {
//!     Sse::new(BroadcastStream::new(st.events.subscribe()))
//! }
//! ```
//!
//! ### Use instead
//! Push through API Gateway WebSocket APIs (connections kept by API Gateway,
//! one invocation per message) or AWS IoT/AppSync subscriptions; let clients
//! poll; for large or slow bodies use Lambda response streaming (function
//! URLs, `lambda_runtime::streaming`) or presigned S3 URLs.

use super::{Ctx, Finding, Lint, Scope, Subject, ends, mentions_any};
use crate::diagnostic::Severity;
use crate::syntax::{Expr, Ty};

pub(crate) static LINT: Lint = Lint {
    code: "long-lived-connection",
    // It does not work at all behind API Gateway's buffered request/response.
    severity: Severity::Error,
    summary: "a response that keeps the connection open (SSE, websocket, streamed body)",
    advice: "Use API Gateway WebSocket APIs (or AppSync/IoT subscriptions) for pushes, polling \
             for feeds, and Lambda response streaming or presigned S3 URLs for large bodies.",
    check,
};

fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    for (f, _) in ctx.bodies() {
        let scope = ctx.scope(f);
        let name = ctx.fn_name(f);
        let before = out.len();
        ctx.walk_body(f, |e| {
            let Some((what, line)) = kind_of(ctx, scope, e) else {
                return;
            };
            let message = format!(
                "`{name}` answers with {what}: a Lambda invocation behind API Gateway returns \
                 one buffered response and ends at its timeout, so the connection cannot stay open"
            );
            out.push(Finding::new(ctx.fn_file(f), line, Subject::Fn(f), message));
        });
        if out.len() > before {
            continue;
        }
        // No constructor in the body: the signature (`ws: WebSocketUpgrade`, `-> EventStream![]`).
        let data = &ctx.defs.fns[f];
        let sig = data
            .def
            .params
            .iter()
            .map(|(_, t)| t)
            .chain(data.def.ret.as_ref());
        let found = sig
            .filter_map(|t| signature_kind(ctx, scope, t))
            // axum/actix handlers are async; a sync helper taking the upgrade is not the handler.
            .find(|(_, rocket)| *rocket || data.def.is_async)
            .map(|(what, _)| what);
        if let Some(what) = found {
            let message = format!(
                "`{name}` takes or returns {what}: a Lambda invocation behind API Gateway \
                 returns one buffered response and cannot keep the connection open"
            );
            out.push(Finding::new(
                ctx.fn_file(f),
                data.line,
                Subject::Fn(f),
                message,
            ));
        }
    }
}

/// What the expression opens, and its line.
fn kind_of(ctx: &Ctx<'_>, scope: Scope, e: &Expr) -> Option<(&'static str, u32)> {
    match e {
        Expr::Call { .. } => {
            let (names, _, line) = ctx.ext_call(scope, e)?;
            let what = if [
                "new",
                "from_stream",
                "from_receiver",
                "from_infallible_receiver",
                "from_infallible_stream",
            ]
            .iter()
            .any(|m| ends(&names, &["Sse", m]))
            {
                // axum `Sse::new(stream)`, actix-web-lab `Sse::from_stream(..)`.
                "server-sent events"
            } else if ends(&names, &["ws", "start"])
                || ends(&names, &["ws", "start_with_addr"])
                || ends(&names, &["WsResponseBuilder", "new"])
                || ends(&names, &["actix_ws", "handle"])
            {
                // actix `ws::start(actor, &req, stream)`, `actix_ws::handle(&req, body)`.
                "a websocket"
            } else if (ends(&names, &["Body", "from_stream"])
                || ends(&names, &["Body", "wrap_stream"]))
                && !mentions_any(&names, &["reqwest"])
                || ends(&names, &["StreamBody", "new"])
                || ends(&names, &["BodyStream", "new"])
            {
                // axum/hyper `Body::from_stream(s)`, axum 0.6 `StreamBody::new(s)`,
                // actix `BodyStream::new(s)`; reqwest's `Body` is a request
                // body the app sends out, not its response.
                "a streamed body"
            } else {
                return None;
            };
            Some((what, line))
        }
        // axum/warp `ws.on_upgrade(|socket| ..)`; actix `HttpResponse::Ok().streaming(s)`.
        Expr::MethodCall { method, line, .. } => match method.as_str() {
            "on_upgrade" => Some(("a websocket", *line)),
            "streaming" => Some(("a streamed body", *line)),
            _ => None,
        },
        // Rocket `EventStream! { .. }`, `TextStream!`, `ByteStream!`, `ReaderStream!`.
        Expr::Macro { path, line, .. } => match path.last()? {
            "EventStream" => Some(("server-sent events", *line)),
            "TextStream" | "ByteStream" | "ReaderStream" => Some(("a streamed body", *line)),
            _ => None,
        },
        _ => None,
    }
}

/// `WebSocketUpgrade`, rocket_ws `WebSocket`, `Sse<..>`, `EventStream<..>` in a
/// signature; and whether it is Rocket's (whose handlers may be sync).
fn signature_kind(ctx: &Ctx<'_>, scope: Scope, ty: &Ty) -> Option<(&'static str, bool)> {
    let Ty::Path(p) = ty else { return None };
    let names = ctx.expand(scope, p)?;
    let rocket = mentions_any(&names, &["rocket", "rocket_ws"]);
    let what = match names.last()?.as_str() {
        // axum `WebSocketUpgrade` extractor.
        "WebSocketUpgrade" => "a websocket",
        // rocket_ws `WebSocket` guard (axum's `WebSocket` is the socket inside `on_upgrade`).
        "WebSocket" if mentions_any(&names, &["rocket_ws"]) => "a websocket",
        // axum `Sse<S>`, Rocket `EventStream<S>`.
        "Sse" | "EventStream" => "server-sent events",
        // Rocket `TextStream<S>`, `ByteStream<S>`, `ReaderStream<S>`.
        "TextStream" | "ByteStream" | "ReaderStream" => "a streamed body",
        _ => return None,
    };
    Some((what, rocket))
}
