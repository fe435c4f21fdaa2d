//! Routes registered otherwise than by `.route(path, method(handler))`:
//! services and file services, nested method routers, statements under a
//! `cfg`, loops over fixed lists, Router extension methods, Leptos pages,
//! oasgen's builder, prefixes chosen among literals.

use expect_test::expect;

use super::{check, with_manifest};

#[test]
fn services_are_routes_for_every_method() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::{get, get_service};
use axum::Router;
use tower_http::services::ServeDir;
async fn ws() {}
async fn h() {}
fn docs() -> Router {
    Router::new().route("/index", get(h))
}
pub fn app() -> Router {
    Router::new()
        .route_service("/ws", tower::service_fn(ws))
        .route_service("/static", ServeDir::new("static"))
        .nest_service("/assets", ServeDir::new("assets"))
        .nest_service("/docs", docs())
        .route("/file", get_service(ServeDir::new("f")))
}
"#,
        ),
        expect![[r#"
            ANY /assets -> static ServeDir::new("assets")
            ANY /assets/{*rest} -> static ServeDir::new("assets")
            ANY /static -> static ServeDir::new("static")
            ANY /ws -> app::ws
            GET /docs/index -> app::h
            GET /file -> static ServeDir::new("f")
        "#]],
    );
}

/// A file service a workspace fn builds (with caching headers around it) is
/// files, not a handler; a workspace fn making a plain service is not; a
/// method router nested as a service answers its own methods below the
/// prefix.
#[test]
fn a_file_service_built_by_a_workspace_fn_is_static() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::{get, get_service, MethodRouter};
use axum::Router;
use tower_http::services::ServeDir;
fn static_file_service(root: &str, max_age: u32) -> MethodRouter {
    let files = ServeDir::new(root).precompressed_gzip();
    let with_caching = SetResponseHeader::if_not_present(files, CACHE_CONTROL, max_age);
    get_service(with_caching)
}
async fn ws() {}
fn socket() -> BoxCloneService {
    BoxCloneService::new(tower::service_fn(ws))
}
pub fn app() -> Router {
    let asset_files = static_file_service("build/assets", 1);
    Router::new()
        .nest_service("/assets", asset_files)
        .route_service("/ws", socket())
        .nest_service("/static", get(embedded))
}
async fn embedded() {}
"#,
        ),
        expect![[r#"
            ANY /assets -> static app::static_file_service
            ANY /assets/{*rest} -> static app::static_file_service
            ANY /ws -> app::socket
            GET /static -> app::embedded
            GET /static/{*rest} -> app::embedded
        "#]],
    );
}

/// A statement under a feature that stays off is not in the build: the
/// routes it adds are not served; one under a feature that is on (a
/// default), or under a cfg cleave cannot decide, is.
#[test]
fn statements_under_a_feature_that_is_off_add_no_routes() {
    check(
        r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"

[features]
default = ["web"]
web = []
device-flow = []

[dependencies]
axum = "0.8"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
pub fn app() -> Router {
    let mut router = Router::new().route("/", get(h));
    #[cfg(feature = "device-flow")]
    let router = router.route("/device", get(h));
    #[cfg(not(feature = "device-flow"))]
    let router = router.route("/no-device", get(h));
    #[cfg(feature = "web")]
    {
        router = router.route("/web", get(h));
    }
    #[cfg(feature = "device-flow")]
    router = router.route("/device/poll", get(h));
    #[cfg(unix)]
    let router = router.route("/unix", get(h));
    router
}
"#,
        expect![[r#"
            GET / -> app::h
            GET /no-device -> app::h
            GET /unix -> app::h
            GET /web -> app::h
        "#]],
    );
}

/// Routes registered in a loop over a fixed list of strings: one per
/// string, the path formatted from it; a loop over anything else is read
/// once, with a warning.
#[test]
fn a_loop_over_a_fixed_list_of_pages_registers_each() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
use tower_http::services::ServeFile;
async fn h() {}
pub fn app(dir: &str, extra: Vec<String>) -> Router {
    let html_pages = [
        "index.html",
        "cpu_tree.html",
    ];
    let mut router = Router::new();
    for page in html_pages.iter() {
        router = router.route_service(&format!("/{page}"), ServeFile::new(page));
    }
    for name in vec!["a", "b"] {
        router = router.route(&format!("/api/{name}"), get(h));
    }
    for e in extra {
        router = router.route(&format!("/x/{e}"), get(h));
    }
    router
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:18: the path `&format!("/x/{e}")` is computed at runtime, so the routes it registers (`GET <path> -> app::h`) are not listed; write it as a literal or const, or add the routes to cleave.toml by hand
            ANY /cpu_tree.html -> static ServeFile::new(page)
            ANY /index.html -> static ServeFile::new(page)
            GET /api/a -> app::h
            GET /api/b -> app::h
        "#]],
    );
}

/// A loop over a list of `(path, method router)` pairs registers each: the
/// list's literal, what `.push` and `.extend` add to it (a field of the
/// struct another module's fn returns, its handlers named there); a list
/// grown by something cleave cannot read is read once, with a warning.
#[test]
fn a_loop_over_a_fixed_list_of_path_handler_pairs_registers_each() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::{get, post, MethodRouter};
use axum::Router;
mod openai {
    use axum::routing::{post, MethodRouter};
    pub struct RouteHandlers {
        pub routes: Vec<(&'static str, MethodRouter)>,
    }
    async fn chat() {}
    pub fn openai_routes() -> RouteHandlers {
        RouteHandlers {
            routes: vec![("/openai/v1/chat/completions", post(chat))],
        }
    }
}
async fn inference() {}
async fn feedback() {}
async fn health() {}
pub fn app(more: Vec<(&'static str, MethodRouter)>) -> Router {
    let mut routes = vec![
        ("/inference", post(inference)),
        ("/feedback", post(feedback)),
    ];
    routes.extend(openai::openai_routes().routes);
    routes.push(("/health", get(health)));
    let mut router = Router::new();
    let mut names = Vec::new();
    for (path, handler) in routes {
        names.push(path);
        router = router.route(path, handler);
    }
    let mut unread = vec![("/status", get(health))];
    unread.extend(more);
    for (path, handler) in unread {
        router = router.route(path, handler);
    }
    router
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:34: the path `path` is computed at runtime, so the routes it registers are not listed; write it as a literal or const, or add the routes to cleave.toml by hand
            GET /health -> app::health
            POST /feedback -> app::feedback
            POST /inference -> app::inference
            POST /openai/v1/chat/completions -> app::openai::chat
        "#]],
    );
}

/// A workspace extension method of `Router` whose body hands the router to
/// code cleave cannot resolve (ruma's `handler.add_routes(self)`, a trait
/// implemented by a macro for every handler type): a warning at each call,
/// and the routes around it kept.
#[test]
fn an_extension_method_cleave_cannot_follow_keeps_the_routes_around_it() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
async fn whoami() {}
pub trait RouterExt {
    fn ruma_route<H: RumaHandler>(self, handler: &'static H) -> Self;
}
impl RouterExt for Router {
    fn ruma_route<H: RumaHandler>(self, handler: &'static H) -> Self {
        handler.add_routes(self)
    }
}
pub fn app() -> Router {
    Router::new()
        .route("/", get(h))
        .ruma_route(&whoami)
        .route("/health", get(h))
}
"#,
        ),
        expect![[r#"
            ! warning[unresolved-router]: src/lib.rs:16: cleave cannot follow what the router method `.ruma_route(..)` adds (its body hands the router to code cleave cannot resolve); routes added before it are kept, the ones it adds are not listed
            GET / -> app::h
            GET /health -> app::h
        "#]],
    );
}

/// leptos_axum: the pages of the `App` component's `view!` route list are
/// GET routes, served by the handler given.
#[test]
fn leptos_route_lists_are_get_routes() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use leptos_router::components::{Route, Router as LRouter, Routes};
use leptos_router::path;
#[component]
pub fn App() -> impl IntoView {
    view! {
        <LRouter>
            <Routes fallback=|| "Page not found.".into_view()>
                <Route path=path!("/") view=Home />
                <Route path=path!("/article/:title") view=Article />
            </Routes>
        </LRouter>
    }
}
async fn render() {}
async fn health() {}
pub fn app() -> Router {
    let routes = generate_route_list(App);
    Router::new()
        .route("/health", get(health))
        .leptos_routes_with_handler(routes, get(render))
}
"#,
        ),
        expect![[r#"
            GET / -> app::render
            GET /article/{title} -> app::render
            GET /health -> app::health
        "#]],
    );
}

/// oasgen's `Server::axum()` registers each route by `.get(path, handler)`
/// and serves its OpenAPI document by `.route_json_spec(path)` (a route the
/// outside crate makes); `.freeze().into_router()` is an axum `Router`. A
/// workspace type of that name is not oasgen's.
#[test]
fn oasgen_builder_routes_are_axum_routes() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::{routing::get, Router};
use oasgen::Server;
mod own {
    pub struct Server;
    impl Server {
        pub fn axum() -> Server {
            Server
        }
        pub fn get(self, _path: &str, _h: fn()) -> Server {
            self
        }
        pub fn into_router(self) -> axum::Router {
            axum::Router::new()
        }
    }
}
async fn search() {}
async fn add_tags() {}
async fn remove_tags() {}
async fn ws() {}
pub fn app() -> Router {
    let server = Server::axum()
        .get("/search", search)
        .post("/tags/:kind/:id", add_tags)
        .delete("/tags/:kind/:id", remove_tags)
        .route_json_spec("/openapi.json")
        .freeze();
    let own = own::Server::axum().get("/own", search);
    Router::new()
        .merge(server.into_router())
        .merge(own.into_router())
        .route("/ws", get(ws))
}
"#,
        ),
        expect![[r#"
            DELETE /tags/{kind}/{id} -> app::remove_tags
            GET /openapi.json -> other oasgen::Server::route_json_spec
            GET /search -> app::search
            GET /ws -> app::ws
            POST /tags/{kind}/{id} -> app::add_tags
        "#]],
    );
}

/// A prefix chosen by a `match` (or `if`) among string literals: the
/// routes are listed under each, with a warning; a prefix computed
/// otherwise is settled as before (its runtime part assumed empty).
#[test]
fn a_prefix_chosen_among_literals_lists_the_routes_under_each() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::{routing::get, Router};
pub enum Tenancy {
    Multi,
    Single,
}
async fn tail() {}
async fn health() {}
pub fn app(tenancy: Tenancy, base: String) -> Router {
    let datasets = Router::new().route("/tail", get(tail));
    Router::new()
        .nest(
            match tenancy {
                Tenancy::Multi => "/{account_name}/{dataset_name}",
                Tenancy::Single => "/{dataset_name}",
            },
            datasets,
        )
        .nest(&base, Router::new().route("/health", get(health)))
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:11: the prefix is chosen at runtime among `/{account_name}/{dataset_name}`, `/{dataset_name}`; cleave lists the routes under each
            ! warning[runtime-prefix]: src/lib.rs:18: the prefix `&base` is computed at runtime (`base`): cleave assumes it is empty, the default deployment, and lists its routes under "/"; if the app is served under another path, set the whole prefix in cleave.toml: [prefix] "src/lib.rs:18" = "/base"
            GET /health -> app::health
            GET /{account_name}/{dataset_name}/tail -> app::tail
            GET /{dataset_name}/tail -> app::tail
        "#]],
    );
}

/// A router cleave cannot follow nested at `/` is listed, and named in its
/// warning, at `/` and `/{*rest}` (not `//{*rest}`).
#[test]
fn an_unfollowed_router_nested_at_the_root_is_named_by_its_real_paths() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::Router;
pub fn app(endpoint: plugins::Endpoint) -> Router {
    Router::new().nest("/", endpoint.into_router())
}
"#,
        ),
        expect![[r#"
            ! warning[unresolved-router]: src/lib.rs:3: cleave cannot follow the router `endpoint.into_router()` nested at `/`; it is listed as ANY / and ANY /{*rest}
            ANY / -> endpoint.into_router()
            ANY /{*rest} -> endpoint.into_router()
        "#]],
    );
}
