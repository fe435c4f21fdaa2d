//! The runner of an axum function (`src/cleave_lambda.rs`): runs the
//! monolith's router under `lambda_http` on Lambda, or on 127.0.0.1:$PORT
//! elsewhere (always, with the web adapter), behind a guard that answers
//! 404 for the routes other functions own. Built with `quote`, formatted
//! with `prettyplease`.

use quote::quote;

use crate::runner::{Backend, Runner, dep};
use crate::workspace::Adapter;

pub const BACKEND: Backend = Backend {
    replace_serve: crate::mainrs::replace_serve,
    render,
    deps: |adapter| {
        let tokio = dep("tokio", "1", &["macros", "rt-multi-thread", "net"]);
        match adapter {
            Adapter::Native => vec![dep("lambda_http", "1.3", &[]), tokio],
            Adapter::WebAdapter => vec![tokio],
        }
    },
    expects: "`axum::serve(listener, app)`",
    guard: "installs a guard (`route_layer` on `MatchedPath`) that answers 404 for the routes other functions own, before their handlers or the middleware around them run.",
    in_process: "",
};

pub fn render(r: &Runner<'_>) -> String {
    let route_items = crate::runner::route_items(r);
    let (port_doc, shutdown_doc, on_lambda) = match r.adapter {
        Adapter::Native => (
            " The port of the local server when not on Lambda (`PORT` overrides it).",
            " Used by the local server only; Lambda manages the process itself.",
            quote! {
                if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
                    let app = app.layer(axum::middleware::map_request(connect_info_on_lambda));
                    return lambda_http::run(app).await.map_err(std::io::Error::other);
                }
            },
        ),
        Adapter::WebAdapter => (
            " The port when `PORT` is not set (`template.yaml` sets it for the Lambda Web Adapter).",
            " Shuts the server down gracefully when `signal` completes, as axum's `serve` does.",
            quote!(),
        ),
    };
    let connect_info_fn = match r.adapter {
        Adapter::Native => quote! {
            /// The caller's address as `ConnectInfo<SocketAddr>`, which handlers had
            /// from `into_make_service_with_connect_info`: on Lambda, the source IP
            /// API Gateway saw (port 0).
            async fn connect_info_on_lambda(mut request: Request) -> Request {
                use lambda_http::RequestExt;
                use lambda_http::request::RequestContext;
                let ip = match request.request_context_ref() {
                    Some(RequestContext::ApiGatewayV2(c)) => c.http.source_ip.clone(),
                    Some(RequestContext::ApiGatewayV1(c)) => c.identity.source_ip.clone(),
                    _ => None,
                };
                let ip = ip
                    .and_then(|ip| ip.parse().ok())
                    .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
                request
                    .extensions_mut()
                    .insert(axum::extract::ConnectInfo(std::net::SocketAddr::new(ip, 0)));
                request
            }
        },
        Adapter::WebAdapter => quote!(),
    };
    let file: syn::File = syn::parse_quote! {
        use std::future::{Future, IntoFuture};
        use std::pin::Pin;

        use axum::extract::{MatchedPath, Request};
        use axum::middleware::Next;
        use axum::response::{IntoResponse, Response};

        #route_items

        #[doc = #port_doc]
        const DEFAULT_PORT: u16 = 3000;

        /// A matched route pattern in cleave's form: `:id` -> `{id}`, `*rest` -> `{*rest}`,
        /// no trailing slash.
        fn normalise(path: &str) -> String {
            let segments: Vec<String> = path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if let Some(name) = s.strip_prefix(':') {
                        format!("{{{name}}}")
                    } else if let Some(name) = s.strip_prefix('*') {
                        format!("{{*{name}}}")
                    } else {
                        s.to_owned()
                    }
                })
                .collect();
            format!("/{}", segments.join("/"))
        }

        fn listed(list: &[(&str, &str)], method: &str, path: &str) -> bool {
            list.iter().any(|(m, p)| {
                *p == path && (*m == "ANY" || *m == method || (method == "HEAD" && *m == "GET"))
            })
        }

        /// Lets through this function's routes; a route another function owns gets 404,
        /// as it would from a function that never had it.
        async fn only_this_function(request: Request, next: Next) -> Response {
            let matched = request
                .extensions()
                .get::<MatchedPath>()
                .map(|p| normalise(p.as_str()));
            if let Some(path) = matched {
                let method = request.method().as_str();
                if !listed(own_routes(), method, &path) && listed(other_routes(), method, &path) {
                    return axum::http::StatusCode::NOT_FOUND.into_response();
                }
            }
            next.run(request).await
        }

        #connect_info_fn

        /// Stands in for `axum::serve(listener, app)`; awaiting it serves `app`.
        pub struct Serve {
            app: axum::Router,
            shutdown: Option<Pin<Box<dyn Future<Output = ()> + Send>>>,
        }

        pub fn serve(app: axum::Router) -> Serve {
            Serve { app, shutdown: None }
        }

        impl Serve {
            #[doc = #shutdown_doc]
            #[allow(dead_code)]
            pub fn with_graceful_shutdown<F>(mut self, signal: F) -> Self
            where
                F: Future<Output = ()> + Send + 'static,
            {
                self.shutdown = Some(Box::pin(signal));
                self
            }
        }

        impl IntoFuture for Serve {
            type Output = std::io::Result<()>;
            type IntoFuture = Pin<Box<dyn Future<Output = Self::Output>>>;

            fn into_future(self) -> Self::IntoFuture {
                Box::pin(async move {
                    let app = self.app.route_layer(axum::middleware::from_fn(only_this_function));
                    #on_lambda
                    let port = std::env::var("PORT")
                        .ok()
                        .and_then(|p| p.parse().ok())
                        .unwrap_or(DEFAULT_PORT);
                    let listener =
                        tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port)).await?;
                    // Handlers may read the peer's address (`ConnectInfo<SocketAddr>`).
                    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
                    match self.shutdown {
                        Some(signal) => axum::serve(listener, app).with_graceful_shutdown(signal).await,
                        None => axum::serve(listener, app).await,
                    }
                })
            }
        }
    };
    format!("{}\n{}", r.header, prettyplease::unparse(&file))
}
