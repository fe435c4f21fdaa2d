//! ### What it does
//! Finds request bodies that can be larger than Lambda accepts: handlers
//! taking uploads or raw bodies (`Multipart`, `TypedMultipart`, actix
//! `MultipartForm`/`web::Payload`, Rocket `TempFile` and by-value `Data`, a
//! by-value `Bytes` body in an async handler when the app raises a body
//! limit somewhere (else the framework caps it: axum at 2 MB, actix at
//! 256 KiB); a fn taking `self` is no handler), and body limits raised past
//! 6 MB or switched off (`DefaultBodyLimit::max(N)`/`disable()`,
//! `RequestBodyLimitLayer::new(N)`, actix `PayloadConfig::new(N)` and
//! `.limit(N)` on `JsonConfig`/`PayloadConfig`/`FormConfig`, Rocket
//! `Limits::limit("file", N.mebibytes())`). A limit whose size is not
//! spelled out is reported too: the code raises it.
//!
//! ### Why is this bad on Lambda
//! A synchronous invocation carries at most 6 MB of request and 6 MB of
//! response (API Gateway REST: 10 MB, cut to 6 MB by Lambda), and binary
//! bodies travel base64-encoded, so about 4.5 MB of raw upload fits. Larger
//! requests are rejected with 413 before the handler runs, whatever limit
//! the framework is configured with.
//!
//! ### Example
//! ```text
//! async fn upload(State(st): State<AppState>, body: Bytes) -> .. { .. }
//! Router::new().route("/upload", post(upload)).layer(DefaultBodyLimit::max(50 * 1024 * 1024));
//! ```
//!
//! ### Use instead
//! Let clients upload straight to S3 with a presigned URL (the function only
//! signs it and reacts to the S3 event); stream large downloads from S3 too.

use super::{Ctx, Finding, Lint, Scope, Subject, ends, mentions_any, ty_text};
use crate::diagnostic::Severity;
use crate::syntax::{Expr, Ty};

pub(crate) static LINT: Lint = Lint {
    code: "large-payload",
    severity: Severity::Warning,
    summary: "request bodies that may exceed Lambda's 6 MB payload limit",
    advice: "Upload to S3 with a presigned URL issued by the function (and process the object \
             from the S3 event); serve large downloads from S3 as well.",
    check,
};

/// Lambda's synchronous invocation payload limit.
const LIMIT: u64 = 6 * 1024 * 1024;

fn check(ctx: &Ctx<'_>, out: &mut Vec<Finding>) {
    // `Bytes` bodies, kept only when the app raises a body limit somewhere.
    let mut raw = Vec::new();
    let mut raised = false;
    for (f, data) in ctx.defs.fns.iter().enumerate() {
        let scope = ctx.scope(f);
        // Upload and raw-body extractors in the handler's signature. A fn
        // taking `self` is no handler (frameworks call free fns and
        // associated fns with extractors); what it takes is its caller's.
        let params = if data.def.receiver.is_some() {
            &[][..]
        } else {
            &data.def.params[..]
        };
        for (pat, ty) in params {
            let Some(what) = body_kind(ctx, scope, ty, data.def.is_async) else {
                continue;
            };
            let param = super::bound_name(pat).unwrap_or("_");
            let message = format!(
                "`{}` takes {what} (`{param}: {}`): Lambda accepts at most 6 MB per request \
                 (about 4.5 MB of binary data once base64-encoded); larger bodies get a 413 \
                 before the handler runs",
                data.name,
                ty_text(ty)
            );
            let finding = Finding::new(data.file, data.line, Subject::Fn(f), message);
            if what == RAW_BYTES {
                raw.push(finding);
            } else {
                out.push(finding);
            }
        }
        if data.def.body.is_none() {
            continue;
        }
        ctx.walk_body(f, |e| {
            let Some((what, size, line)) = raised_limit(ctx, scope, e) else {
                return;
            };
            let message = match size {
                Some(Size::Bytes(n)) if n <= LIMIT => return,
                Some(Size::Bytes(n)) => format!(
                    "`{}` raises the body limit to {} (`{what}`): Lambda rejects requests over \
                     6 MB whatever the framework allows",
                    data.name,
                    human(n)
                ),
                Some(Size::Off) => format!(
                    "`{}` turns the body limit off (`{what}`): Lambda still rejects requests \
                     over 6 MB",
                    data.name
                ),
                None => format!(
                    "`{}` sets a body limit cleave cannot evaluate (`{what}`): Lambda rejects \
                     requests over 6 MB whatever the framework allows",
                    data.name
                ),
            };
            raised = true;
            out.push(Finding::new(data.file, line, Subject::Fn(f), message));
        });
    }
    // The framework caps a `Bytes` body at its default limit (axum 2 MB,
    // actix 256 KiB), under Lambda's: only an app that raises a limit takes
    // bodies larger than Lambda accepts.
    if raised {
        out.extend(raw);
    }
}

/// What [`body_kind`] calls a `Bytes` body.
const RAW_BYTES: &str = "the raw request body as bytes";

/// What kind of body a parameter type takes in, if it is an upload or a raw body.
fn body_kind(ctx: &Ctx<'_>, scope: Scope, ty: &Ty, is_async: bool) -> Option<&'static str> {
    // By value only: `&mut Data<'_>` in a Rocket fairing is not a request body.
    let Ty::Path(p) = ty else { return None };
    let names = ctx.expand(scope, p)?;
    let last = names.last()?.as_str();
    // axum / axum_extra / actix_multipart `Multipart`, `TypedMultipart<T>`, `MultipartForm<T>`.
    if matches!(
        last,
        "Multipart" | "TypedMultipart" | "MultipartForm" | "BaseMultipart"
    ) {
        return Some("a multipart upload");
    }
    // actix `web::Payload`: the raw body stream.
    if last == "Payload" && mentions_any(&names, &["web", "actix_web"]) {
        return Some("the raw request body");
    }
    // Rocket `Data<'_>` by value: the raw body stream of a handler.
    if last == "Data" && mentions_any(&names, &["rocket"]) && p.segments.last()?.generics.is_empty()
    {
        return Some("the raw request body");
    }
    // axum / actix / hyper `Bytes` taken by an async handler.
    if last == "Bytes" && is_async {
        return Some(RAW_BYTES);
    }
    // Rocket `TempFile<'_>` or `Form<Upload<'_>>` holding one.
    let mut temp = false;
    let mut check = |t: &Ty| {
        if let Ty::Path(q) = t
            && q.last() == Some("TempFile")
        {
            temp = true;
        }
    };
    check(ty);
    for seg in &p.segments {
        seg.generics.iter().for_each(&mut check);
    }
    for t in ctx.workspace_types(scope, ty) {
        for (_, fty) in ctx.fields_of(t) {
            check(fty);
        }
    }
    temp.then_some("a file upload")
}

#[derive(Debug, Clone, Copy)]
enum Size {
    Bytes(u64),
    Off,
}

/// A body-limit setting: what was written, the size when it can be read, the line.
fn raised_limit(ctx: &Ctx<'_>, scope: Scope, e: &Expr) -> Option<(String, Option<Size>, u32)> {
    match e {
        Expr::Call { .. } => {
            let (names, args, line) = ctx.ext_call(scope, e)?;
            let called = names.join("::");
            // axum `DefaultBodyLimit::disable()`.
            if ends(&names, &["DefaultBodyLimit", "disable"]) {
                return Some((called, Some(Size::Off), line));
            }
            // axum `DefaultBodyLimit::max(n)`, tower-http `RequestBodyLimitLayer::new(n)`,
            // actix `PayloadConfig::new(n)`.
            if ends(&names, &["DefaultBodyLimit", "max"])
                || ends(&names, &["RequestBodyLimitLayer", "new"])
                || ends(&names, &["PayloadConfig", "new"])
            {
                let size = args
                    .first()
                    .and_then(|a| ctx.eval_u64(scope, a))
                    .map(Size::Bytes);
                return Some((called, size, line));
            }
            None
        }
        Expr::MethodCall {
            receiver,
            method,
            args,
            line,
            ..
        } if method == "limit" || method == "total_limit" || method == "memory_limit" => {
            // Rocket `Limits::default().limit("file", 10.mebibytes())`.
            if args.len() == 2 && args.first().and_then(Expr::as_str).is_some() {
                let size = ctx.eval_u64(scope, &args[1]).map(Size::Bytes);
                let kind = args.first().and_then(Expr::as_str).unwrap_or("");
                return Some((format!("Limits::limit(\"{kind}\", ..)"), size, *line));
            }
            // actix `web::JsonConfig::default().limit(n)`, `PayloadConfig`, `FormConfig`,
            // `MultipartFormConfig::default().total_limit(n)`.
            let (root, _, _) = ctx.ext_call(scope, super::chain_root(receiver))?;
            let owner = root.iter().rev().nth(1)?;
            if owner.ends_with("Config") && args.len() == 1 {
                let size = args
                    .first()
                    .and_then(|a| ctx.eval_u64(scope, a))
                    .map(Size::Bytes);
                return Some((format!("{owner}::{method}(..)"), size, *line));
            }
            None
        }
        _ => None,
    }
}

fn human(n: u64) -> String {
    if n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n.is_multiple_of(1_000_000) {
        format!("{} MB", n / 1_000_000)
    } else {
        format!("{n} bytes")
    }
}
