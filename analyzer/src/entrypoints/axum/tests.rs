use expect_test::{Expect, expect};

use crate::entrypoints::{Detection, EntryKind, Framework, detect};
use crate::resolve::DefMap;
use crate::testing::write_fixture;

fn run(fixture: &str, f: impl FnOnce(&DefMap<'_>, &Detection)) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), fixture);
    let project = crate::load(dir.path()).expect("load");
    let defs = DefMap::build(&project);
    let found = detect(&defs);
    f(&defs, &found);
}

/// Renders axum's entry points as sorted lines:
/// `METHOD /path -> handler [kind:name=fn, ..]` (outermost layer first),
/// and `! diagnostic` lines.
fn check(fixture: &str, expect: Expect) {
    run(fixture, |_, found| {
        let mut lines: Vec<String> = found
            .entrypoints
            .iter()
            .filter(|e| e.framework == Some(Framework::Axum))
            .map(|e| {
                let kind = match e.kind {
                    EntryKind::Http => "",
                    EntryKind::Static => "static ",
                    _ => "other ",
                };
                let mut line = format!("{} {} -> {kind}{}", e.method, e.path, e.handler);
                if !e.middleware.is_empty() {
                    let mw: Vec<String> = e
                        .middleware
                        .iter()
                        .map(|m| match &m.handler {
                            Some(h) => format!("{}:{}={h}", m.kind, m.name),
                            None => format!("{}:{}", m.kind, m.name),
                        })
                        .collect();
                    line.push_str(&format!(" [{}]", mw.join(", ")));
                }
                line
            })
            .collect();
        for d in &found.diagnostics {
            lines.push(format!("! {d}"));
        }
        lines.sort();
        if lines.is_empty() {
            lines.push("(nothing)".to_owned());
        }
        expect.assert_eq(&(lines.join("\n") + "\n"));
    });
}

const MANIFEST: &str = "//- /Cargo.toml\n[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naxum = \"0.8\"\ntower-http = \"0.6\"\n";

fn with_manifest(src: &str) -> String {
    format!("{MANIFEST}{src}")
}

#[test]
fn method_routers_and_chains() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::{self, any, get, on, MethodFilter};
use axum::Router;
async fn list() {}
async fn create() {}
async fn remove() {}
async fn all() {}
async fn both() {}
async fn h() {}
pub fn app() -> Router {
    Router::new()
        .route("/items", get(list).post(create).delete(remove))
        .route("/any", any(all))
        .route("/on", on(MethodFilter::GET.or(MethodFilter::POST), both))
        .route("/put", routing::put(h))
        .route("/patch", axum::routing::patch(h).head(h).options(h))
}
"#,
        ),
        expect![[r#"
            ANY /any -> app::all
            DELETE /items -> app::remove
            GET /items -> app::list
            GET /on -> app::both
            HEAD /patch -> app::h
            OPTIONS /patch -> app::h
            PATCH /patch -> app::h
            POST /items -> app::create
            POST /on -> app::both
            PUT /put -> app::h
        "#]],
    );
}

#[test]
fn old_and_new_path_syntax_and_nest_root() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
fn inner() -> Router {
    Router::new()
        .route("/", get(h))
        .route("/:id", get(h))
        .route("/files/*rest", get(h))
        .route("/{id}/tags/{*tail}", get(h))
        .route("/slash/", get(h))
}
fn ui() -> Router {
    Router::new().route("/", get(h)).route("/assets/app.js", get(h))
}
pub fn app() -> Router {
    Router::new().nest("/api", inner()).nest("/web/", ui())
}
"#,
        ),
        expect![[r#"
            GET /api -> app::h
            GET /api/files/{*rest} -> app::h
            GET /api/slash/ -> app::h
            GET /api/{id} -> app::h
            GET /api/{id}/tags/{*tail} -> app::h
            GET /web/ -> app::h
            GET /web/assets/app.js -> app::h
        "#]],
    );
}

#[test]
fn nest_and_merge_follow_router_fns_across_modules() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
pub mod routes;
use axum::Router;
#[derive(Clone)]
pub struct AppState;
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(routes::router())
        .nest("/orders", routes::orders::routes(state.clone()))
        .nest("/admin", routes::Admin::routes())
        .with_state(state)
}
//- /src/routes/mod.rs
pub mod orders;
use axum::routing::get;
use axum::Router;
use crate::AppState;
async fn version() {}
pub fn router() -> Router<AppState> {
    Router::new().route("/version", get(version))
}
pub struct Admin;
impl Admin {
    pub fn routes() -> Router<AppState> {
        Self::inner().route("/stats", get(stats))
    }
    fn inner() -> Router<AppState> {
        Router::new().route("/users", get(stats))
    }
}
async fn stats() {}
//- /src/routes/orders.rs
use axum::routing::{get, post};
use axum::Router;
use crate::AppState;
async fn list() {}
async fn place() {}
async fn one() {}
pub fn routes(_state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(list).post(place))
        .nest("/{id}", item())
}
fn item() -> Router<AppState> {
    Router::new().route("/", get(one))
}
"#,
        ),
        expect![[r#"
            GET /admin/stats -> app::routes::stats
            GET /admin/users -> app::routes::stats
            GET /orders -> app::routes::orders::list
            GET /orders/{id} -> app::routes::orders::one
            GET /version -> app::routes::version
            POST /orders -> app::routes::orders::place
        "#]],
    );
}

#[test]
fn handlers_resolve_through_reexports_globs_turbofish_and_closures() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
pub mod handlers;
use axum::routing::{delete, get, post};
use axum::Router;
use handlers::public;
pub fn app() -> Router {
    Router::new()
        .route("/a", get(public::list))
        .route("/b", post(handlers::create))
        .route("/c", get(handlers::typed::<u32>))
        .route("/d", delete(handlers::products::delete))
        .route("/health", get(|| async { "ok" }))
        .route("/e", get({
            let greeting = "hi";
            move || async move { greeting }
        }))
}
//- /src/handlers/mod.rs
pub mod products;
pub mod public;
pub use self::products::*;
pub async fn typed<T>() {}
//- /src/handlers/products.rs
pub async fn list() {}
pub async fn create() {}
pub async fn delete() {}
//- /src/handlers/public.rs
pub use super::list;
"#,
        ),
        expect![[r#"
            DELETE /d -> app::handlers::products::delete
            GET /a -> app::handlers::products::list
            GET /c -> app::handlers::typed
            GET /e -> app::app::{closure}
            GET /health -> app::app::{closure}
            POST /b -> app::handlers::products::create
        "#]],
    );
}

#[test]
fn closure_handler_locations_and_roots() {
    let fixture = with_manifest(
        r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn named() {}
pub fn app() -> Router {
    Router::new()
        .route("/c", get(|| async { "ok" }))
        .route("/n", get(named))
}
"#,
    );
    run(&fixture, |defs, found| {
        let eps: Vec<_> = found
            .entrypoints
            .iter()
            .filter(|e| e.kind == EntryKind::Http)
            .collect();
        assert_eq!(eps.len(), 2, "{eps:#?}");
        let c = eps.iter().find(|e| e.path == "/c").expect("/c");
        assert_eq!(c.handler, "app::app::{closure}");
        assert_eq!((c.at.file.as_str(), c.at.line), ("src/lib.rs", 6));
        assert_eq!(
            (c.registered.file.as_str(), c.registered.line),
            ("src/lib.rs", 6)
        );
        assert_eq!(c.root.map(|f| defs.fns[f].id.as_str()), Some("app::app"));
        let n = eps.iter().find(|e| e.path == "/n").expect("/n");
        assert_eq!((n.at.file.as_str(), n.at.line), ("src/lib.rs", 3));
        assert_eq!(
            (n.registered.file.as_str(), n.registered.line),
            ("src/lib.rs", 7)
        );
        assert_eq!(n.root.map(|f| defs.fns[f].id.as_str()), Some("app::named"));
        assert_eq!(found.frameworks, vec![Framework::Axum]);
    });
}

#[test]
fn layers_wrap_the_routes_added_before_them_outermost_first() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::middleware::{self, from_fn, from_fn_with_state};
use axum::routing::get;
use axum::Router;
use tower_http::trace::TraceLayer;
async fn h() {}
async fn auth() {}
async fn request_id() {}
async fn timing() {}
fn admin(state: u32) -> Router {
    Router::new()
        .route("/stats", get(h))
        .route_layer(from_fn_with_state(state, auth))
        .route("/open", get(h))
}
pub fn app() -> Router {
    Router::new()
        .route("/before", get(h).layer(from_fn(timing)).post(h))
        .nest("/admin", admin(1))
        .layer(middleware::from_fn(request_id))
        .route("/after", get(h))
        .layer(TraceLayer::new_for_http())
}
"#,
        ),
        expect![[r#"
            GET /admin/open -> app::h [layer:TraceLayer::new_for_http(), layer:middleware::from_fn(request_id)=app::request_id]
            GET /admin/stats -> app::h [layer:TraceLayer::new_for_http(), layer:middleware::from_fn(request_id)=app::request_id, route_layer:from_fn_with_state(state, auth)=app::auth]
            GET /after -> app::h [layer:TraceLayer::new_for_http()]
            GET /before -> app::h [layer:TraceLayer::new_for_http(), layer:middleware::from_fn(request_id)=app::request_id, layer:from_fn(timing)=app::timing]
            POST /before -> app::h [layer:TraceLayer::new_for_http(), layer:middleware::from_fn(request_id)=app::request_id]
        "#]],
    );
}

#[test]
fn routers_flow_through_lets_reassignments_and_parameters() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
fn with_health(router: Router) -> Router {
    router.route("/health", get(h))
}
fn api() -> Router {
    let users = Router::new().route("/users", get(h));
    let orders = Router::new().route("/orders", get(h));
    users.merge(orders)
}
#[tokio::main]
async fn main() {
    let mut app = Router::new().route("/", get(h));
    app = app.nest("/api", api());
    let app = with_health(app);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app.into_make_service()).await.unwrap();
}
"#,
        ),
        expect![[r#"
            GET / -> app::h
            GET /api/orders -> app::h
            GET /api/users -> app::h
            GET /health -> app::h
        "#]],
    );
}

#[test]
fn an_if_keeps_both_branches_with_a_diagnostic() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
async fn debug() {}
pub fn app(dev: bool) -> Router {
    let mut app = Router::new().route("/", get(h));
    if dev {
        app = app.route("/debug", get(debug));
    }
    let extra = if dev {
        Router::new().route("/a", get(h))
    } else {
        Router::new().route("/b", get(h))
    };
    app.merge(extra)
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:10: routes or layers are chosen by an `if`; cleave lists the routes of every branch (check which ones the deployed configuration enables)
            ! warning[dynamic-route]: src/lib.rs:7: routes or layers are chosen by an `if`; cleave lists the routes of every branch (check which ones the deployed configuration enables)
            GET / -> app::h
            GET /a -> app::h
            GET /b -> app::h
            GET /debug -> app::debug
        "#]],
    );
}

#[test]
fn fallbacks_are_not_routes() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
async fn not_found() {}
fn spa() -> Router {
    Router::new().route("/spa", get(h))
}
pub fn app(state: u32) -> Router {
    Router::new()
        .route("/", get(h).fallback(not_found))
        .fallback(not_found)
        .fallback_service(spa())
        .with_state(state)
}
"#,
        ),
        expect![[r#"
            GET / -> app::h
        "#]],
    );
}

#[test]
fn paths_from_consts_and_formats_resolve_runtime_paths_are_diagnosed() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
const API: &str = "/api/v1";
const USERS: &str = "/users";
async fn h() {}
pub fn app(prefix: String, names: Vec<String>) -> Router {
    let mut app = Router::new()
        .route(USERS, get(h))
        .route(&format!("{API}/items"), get(h))
        .route(concat!("/a", "/b"), get(h))
        .nest(&prefix, Router::new().route("/x", get(h)));
    for name in names {
        app = app.route(&format!("/{}", name), get(h));
    }
    for _ in 0..2 {
        app = app.route("/loop", get(h));
    }
    app
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:13: the path `&format!("/{}", name)` is computed at runtime, so the routes it registers (`GET <path> -> app::h`) are not listed; write it as a literal or const, or add the routes to cleave.toml by hand
            ! warning[dynamic-route]: src/lib.rs:15: routes are registered in a loop; cleave lists what one pass registers (routes whose path comes from the loop are reported separately)
            ! warning[runtime-prefix]: src/lib.rs:11: the prefix `&prefix` is computed at runtime (`prefix`): cleave assumes it is empty, the default deployment, and lists its routes under "/"; if the app is served under another path, set the whole prefix in cleave.toml: [prefix] "src/lib.rs:11" = "/base"
            GET /a/b -> app::h
            GET /api/v1/items -> app::h
            GET /loop -> app::h
            GET /users -> app::h
            GET /x -> app::h
        "#]],
    );
}

#[test]
fn recursive_router_fns_terminate() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
pub fn tree(depth: u32) -> Router {
    if depth == 0 {
        return Router::new().route("/leaf", get(h));
    }
    Router::new().nest("/node", tree(depth - 1))
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:5: routes or layers are chosen by an `if`; cleave lists the routes of every branch (check which ones the deployed configuration enables)
            ! warning[router-recursion]: src/lib.rs:8: `app::tree` builds its router recursively; cleave does not follow it again, so routes it adds here are not listed
            ! warning[unresolved-router]: src/lib.rs:8: cleave cannot follow the router `tree(..)` nested at `/node`; it is listed as ANY /node and ANY /node/{*rest}
            ANY /node -> tree(..)
            ANY /node/{*rest} -> tree(..)
            GET /leaf -> app::h
        "#]],
    );
}

#[test]
fn crates_without_axum_are_not_read() {
    check(
        r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"
//- /src/lib.rs
pub struct Router;
impl Router {
    pub fn new() -> Self { Router }
    pub fn route(self, _p: &str, _h: fn()) -> Self { self }
}
fn h() {}
pub fn app() -> Router {
    Router::new().route("/x", h)
}
"#,
        expect![[r#"
            (nothing)
        "#]],
    );
}

#[test]
fn routers_leaving_through_serve_and_spawn_are_roots_and_unreached_fns_are_not() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
pub fn public() -> Router {
    Router::new().route("/public", get(h))
}
pub fn unused_elsewhere() -> Router {
    Router::new().route("/lib-only", get(h))
}
//- /src/main.rs
use axum::routing::get;
use axum::Router;
async fn metrics() {}
#[tokio::main]
async fn main() {
    let metrics_app = Router::new().route("/metrics", get(metrics));
    tokio::spawn(async move {
        let l = tokio::net::TcpListener::bind("0.0.0.0:9000").await.unwrap();
        axum::serve(l, metrics_app).await.unwrap();
    });
    let l = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(l, app::public()).await.unwrap();
}
"#,
        ),
        expect![[r#"
            ! note[unserved-router]: src/lib.rs:7: `app::unused_elsewhere` builds routes, but no binary's `main` reaches it: cleave does not list them as served routes
            GET /metrics -> app::metrics
            GET /public -> app::h
        "#]],
    );
}

#[test]
fn routers_cleave_cannot_follow_are_diagnosed() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
pub fn app(extra: Router) -> Router {
    Router::new()
        .route("/", get(h))
        .nest("/docs", swagger::router())
        .merge(utoipa::ui())
        .route("/m", external::method_router())
        .route("/u", get(missing))
}
"#,
        ),
        expect![[r#"
            ! warning[unresolved-handler]: src/lib.rs:10: cleave cannot resolve the handler `missing` to a workspace fn (route `GET /u`); it is listed by its text
            ! warning[unresolved-router]: src/lib.rs:7: cleave cannot follow the router `swagger::router()` nested at `/docs`; it is listed as ANY /docs and ANY /docs/{*rest}
            ! warning[unresolved-router]: src/lib.rs:8: cleave cannot follow the router `utoipa::ui()` merged here; its routes are not listed
            ! warning[unresolved-router]: src/lib.rs:9: cleave cannot read the method router `external::method_router()` of `/m`; the route is listed as ANY
            ANY /docs -> swagger::router()
            ANY /docs/{*rest} -> swagger::router()
            ANY /m -> external::method_router()
            GET / -> app::h
            GET /u -> missing
        "#]],
    );
}

#[test]
fn builder_methods_and_router_extension_traits_are_followed() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
pub struct App { name: String }
impl App {
    pub fn new() -> Self { App { name: String::new() } }
    pub fn router(&self) -> Router {
        Router::new().route("/inner", get(h)).with_docs()
    }
}
pub trait RouterExt {
    fn with_docs(self) -> Self;
}
impl RouterExt for Router {
    fn with_docs(self) -> Self {
        self.route("/docs", get(h))
    }
}
pub fn app() -> Router {
    let client = reqwest::Client::builder().build();
    Router::new().nest("/v1", App::new().router())
}
"#,
        ),
        expect![[r#"
            GET /v1/docs -> app::h
            GET /v1/inner -> app::h
        "#]],
    );
}

#[test]
fn handlers_bound_to_variables() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
pub mod handlers { pub async fn list() {} }
use axum::routing::get;
use axum::Router;
pub fn app() -> Router {
    let list = handlers::list;
    let health = || async { "ok" };
    let users = get(list).post(handlers::list);
    Router::new()
        .route("/users", users)
        .route("/health", get(health))
}
"#,
        ),
        expect![[r#"
            GET /health -> app::app::{closure}
            GET /users -> app::handlers::list
            POST /users -> app::handlers::list
        "#]],
    );
}

#[test]
fn axum_extra_typed_routes_take_the_path_of_their_typed_path() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::Router;
use axum_extra::routing::{RouterExt, TypedPath};
#[derive(TypedPath, serde::Deserialize)]
#[typed_path("/users/:id")]
pub struct UserPath { id: u32 }
async fn show(UserPath { id }: UserPath) {}
async fn untyped() {}
pub trait Parts { fn id(&self) -> u32; }
impl Parts for UserPath { fn id(&self) -> u32 { self.id } }
pub fn app() -> Router {
    Router::new().typed_get(show).typed_delete(untyped).typed_put(handlers::generic::<UserPath>)
}
mod handlers {
    // The path type is named where the turbofish is written, not here.
    pub async fn generic<P: super::Parts>(path: P) -> String { path.id().to_string() }
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:11: cleave cannot find the `#[typed_path]` of `app::untyped`'s argument, so its `DELETE` route is not listed
            GET /users/{id} -> app::show
            PUT /users/{id} -> app::handlers::generic
        "#]],
    );
}

#[test]
fn aide_and_utoipa_routers_are_axum_routers() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use aide::axum::routing::{get_with, post};
use aide::axum::ApiRouter;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
async fn list() {}
async fn create() {}
#[utoipa::path(get, path = "/todos")]
async fn todos() {}
#[utoipa::path(method(put, patch), path = "/todos/{id}")]
async fn edit() {}
fn docs() -> ApiRouter {
    ApiRouter::new().api_route("/items", get_with(list, |op| op).post(create))
}
fn openapi() -> Router {
    let (router, _api) = OpenApiRouter::new()
        .routes(routes!(todos))
        .routes(routes!(edit))
        .split_for_parts();
    router
}
pub fn app() -> Router {
    let mut api = aide::openapi::OpenApi::default();
    Router::new()
        .nest("/v1", docs().finish_api(&mut api))
        .nest("/v2", openapi())
}
"#,
        ),
        expect![[r#"
            GET /v1/items -> app::list
            GET /v2/todos -> app::todos
            PATCH /v2/todos/{id} -> app::edit
            POST /v1/items -> app::create
            PUT /v2/todos/{id} -> app::edit
        "#]],
    );
}

#[test]
fn let_bound_layers_and_workspace_tower_layers_name_their_fn() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::middleware::from_fn;
use axum::routing::get;
use axum::Router;
async fn h() {}
async fn require_auth(req: Request, next: Next) -> Response { next.run(req).await }
pub struct CountLayer { seen: Arc<Mutex<u64>> }
impl CountLayer { pub fn new() -> Self { CountLayer { seen: Default::default() } } }
pub struct Count<S> { inner: S, seen: Arc<Mutex<u64>> }
impl<S> tower::Layer<S> for CountLayer {
    type Service = Count<S>;
    fn layer(&self, inner: S) -> Self::Service { Count { inner, seen: self.seen.clone() } }
}
impl<S> tower::Service<Request> for Count<S> {
    fn call(&mut self, req: Request) -> Self::Future { self.inner.call(req) }
}
pub fn app() -> Router {
    let auth = from_fn(require_auth);
    Router::new()
        .route("/x", get(h))
        .layer(auth)
        .layer(CountLayer::new())
}
"#,
        ),
        expect![[r#"
            GET /x -> app::h [layer:CountLayer::new()=<app::Count as tower::Service>::call, layer:from_fn(require_auth)=app::require_auth]
        "#]],
    );
}

#[test]
fn utoipa_paths_with_generic_bodies_are_read() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
#[utoipa::path(
    get,
    path = "/api/v1/reservations",
    responses((status = OK, description = "all, paged", body = Vec<ReservationResponse>)),
    params(("X-User-Name", Header, description = "user name")),
)]
async fn list() {}
#[utoipa::path(method(put, patch), path = "/api/v1/reservations/{uid}", request_body = HashMap<String, Reservation>)]
async fn edit() {}
#[utoipa::path(post, path = "/api/v1/reservations", responses((status = CREATED, body = CreateReservationResponse)))]
async fn create() {}
pub fn app() -> Router {
    let (router, _api) = OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(edit))
        .split_for_parts();
    router
}
"#,
        ),
        expect![[r#"
            GET /api/v1/reservations -> app::list
            PATCH /api/v1/reservations/{uid} -> app::edit
            POST /api/v1/reservations -> app::create
            PUT /api/v1/reservations/{uid} -> app::edit
        "#]],
    );
}

#[test]
fn wrapped_handlers_name_the_wrapped_fn() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
pub mod controllers { pub mod krate { pub fn search() {} pub fn publish() {} } }
use axum::routing::{get, put};
use axum::Router;
use crate::controllers::*;
struct C(pub fn());
pub fn router(state: u32) -> Router {
    let conduit = |handler| ConduitHandler::wrap(C(handler));
    Router::new()
        .route("/api/v1/crates", get(conduit(krate::search)))
        .route("/api/v1/crates/new", put(ConduitHandler::wrap(C(krate::publish))))
        .with_state(state)
}
"#,
        ),
        expect![[r#"
            GET /api/v1/crates -> app::controllers::krate::search
            PUT /api/v1/crates/new -> app::controllers::krate::publish
        "#]],
    );
}

#[test]
fn routers_moved_into_workspace_fns_and_services_through_lets() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use axum::routing::{get, MethodRouter};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;
fn route(path: &str, method_router: MethodRouter<()>) -> Router {
    Router::new().route(path, method_router)
}
fn root() -> Router {
    async fn handler() -> &'static str { "hi" }
    route("/", get(handler))
}
fn assets() -> Router {
    let serve_dir = ServeDir::new("assets").not_found_service(ServeFile::new("index.html"));
    Router::new()
        .nest_service("/assets", serve_dir.clone())
        .fallback_service(serve_dir)
}
async fn serve(app: Router, port: u16) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    axum::serve(listener, app.layer(TraceLayer::new_for_http())).await.unwrap();
}
#[tokio::main]
async fn main() {
    tokio::join!(serve(root(), 3001), serve(assets(), 3002));
}
"#,
        ),
        expect![[r#"
            ANY /assets -> static ServeDir::new("assets").not_found_service(ServeFile::new("index.html")) [layer:TraceLayer::new_for_http()]
            ANY /assets/{*rest} -> static ServeDir::new("assets").not_found_service(ServeFile::new("index.html")) [layer:TraceLayer::new_for_http()]
            GET / -> app::root::handler [layer:TraceLayer::new_for_http()]
        "#]],
    );
}

#[test]
fn one_router_served_by_two_bins_is_listed_once_with_every_layer() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
use axum::Router;
async fn h() {}
pub fn app() -> Router {
    Router::new().route("/", get(h))
}
//- /src/main.rs
#[tokio::main]
async fn main() {
    let app = app::app().layer(tower_http::trace::TraceLayer::new_for_http());
    let l = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(l, app).await.unwrap();
}
//- /src/bin/lambda.rs
#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_http::run(app::app()).await
}
"#,
        ),
        expect![[r#"
            GET / -> app::h [layer:tower_http::trace::TraceLayer::new_for_http()]
        "#]],
    );
}

#[test]
fn a_workspace_router_type_is_not_axums_and_macros_are_diagnosed() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::get;
pub mod own {
    pub struct Router;
    impl Router {
        pub fn new() -> Self { Router }
        pub fn route(self, _p: &str, _h: u32) -> Self { self }
    }
}
async fn h() {}
pub fn own_router() -> own::Router {
    own::Router::new().route("/not-axum", 1)
}
pub fn app() -> axum::Router {
    let app = axum::Router::new().route("/", get(h));
    register_admin!(app)
}
pub async fn handle(req: http::Request<axum::body::Body>) {
    let app = axum::Router::new().route("/lambda", get(h));
    app.oneshot(req).await;
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:15: a router is passed to the macro `register_admin!`; routes it adds are not listed (write them as `.route(..)` calls, or add them to cleave.toml by hand)
            GET / -> app::h
            GET /lambda -> app::h
        "#]],
    );
}

/// The bundled fixture's routes equal its `expected/routes.txt`, line for line.
#[test]
fn golden_shop_axum() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/shop-axum");
    let project = crate::load(std::path::Path::new(root)).expect("load fixture");
    let defs = DefMap::build(&project);
    let found = detect(&defs);
    let mut got: Vec<String> = found
        .entrypoints
        .iter()
        .filter(|e| e.kind == EntryKind::Http && e.framework == Some(Framework::Axum))
        .map(|e| format!("{} {} -> {}", e.method, e.path, e.handler))
        .collect();
    got.sort();
    let text = std::fs::read_to_string(format!("{root}/expected/routes.txt")).expect("routes.txt");
    let mut want: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    want.sort();
    let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && got.len() == want.len(),
        "routes differ from expected/routes.txt\nmissing:\n{missing:#?}\nextra:\n{extra:#?}"
    );
    let diags: Vec<String> = found.diagnostics.iter().map(ToString::to_string).collect();
    assert!(diags.is_empty(), "unexpected diagnostics: {diags:#?}");
    // Middleware of an admin route, outermost first.
    let stats = found
        .entrypoints
        .iter()
        .find(|e| e.path == "/api/admin/stats")
        .expect("admin stats");
    let mw: Vec<(&str, Option<&str>)> = stats
        .middleware
        .iter()
        .map(|m| (m.kind.as_str(), m.handler.as_deref()))
        .collect();
    assert_eq!(
        mw,
        vec![
            ("layer", None),
            ("layer", Some("shop::middleware::request_id")),
            ("route_layer", Some("shop::middleware::require_admin")),
        ]
    );
}

/// Every route path starts with a base path from configuration
/// (`format!("{root_path}/realms/{{realm_name}}")`): the base is assumed
/// empty, one warning per site; a segment that varies is still not guessed.
#[test]
fn a_configured_base_in_front_of_each_route_path_is_a_prefix() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::routing::{get, post};
use axum::Router;
async fn h() {}
pub fn realm_routes(root_path: &str) -> Router {
    Router::new()
        .route(&format!("{root_path}/realms/{{realm_name}}"), get(h))
        .route(&format!("{}/realms/{{realm_name}}/users", root_path), post(h))
        .route(&format!("/tenants/{}", root_path), get(h))
}
pub fn app(cfg: &Config) -> Router {
    Router::new().merge(realm_routes(&cfg.server.root_path))
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:8: the path `&format!("/tenants/{}", root_path)` is computed at runtime, so the routes it registers (`GET <path> -> app::h`) are not listed; write it as a literal or const, or add the routes to cleave.toml by hand
            ! warning[runtime-prefix]: src/lib.rs:6: the prefix `&format!("{root_path}/realms/{{realm_name}}")` is computed at runtime (`root_path`): cleave assumes it is empty, the default deployment, and lists its routes under "/realms/{realm_name}"; if the app is served under another path, set the whole prefix in cleave.toml: [prefix] "src/lib.rs:6" = "/base/realms/{realm_name}"
            ! warning[runtime-prefix]: src/lib.rs:7: the prefix `&format!("{}/realms/{{realm_name}}/users", root_path)` is computed at runtime (`root_path`): cleave assumes it is empty, the default deployment, and lists its routes under "/realms/{realm_name}/users"; if the app is served under another path, set the whole prefix in cleave.toml: [prefix] "src/lib.rs:7" = "/base/realms/{realm_name}/users"
            GET /realms/{realm_name} -> app::h
            POST /realms/{realm_name}/users -> app::h
        "#]],
    );
}

/// A CLI whose `generate-openapi` arm builds the served router again under
/// its prefix only to read the spec (`_ = ApiRouter::new().nest(..).finish_api(..)`):
/// those routes are not served a second time. aide's `nest_api_service`
/// nests like `nest`.
#[test]
fn a_router_built_and_thrown_away_for_its_spec_is_not_served() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use aide::axum::{ApiRouter, routing::get_with};
async fn list() {}
fn v1() -> ApiRouter { ApiRouter::new().api_route("/app", get_with(list, |op| op)) }
enum Command { GenerateOpenapi, Serve }
async fn main() {
    let mut openapi = OpenApi::default();
    match parse() {
        Command::GenerateOpenapi => {
            _ = ApiRouter::new().nest("/api/v1", v1()).finish_api(&mut openapi);
            let _ = ApiRouter::new().nest("/api/v2", v1()).finish_api(&mut openapi);
        }
        Command::Serve => {
            let app = ApiRouter::new().nest_api_service("/api/v1", v1()).finish_api(&mut openapi);
            let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
            axum::serve(listener, app).await.unwrap();
        }
    }
}
"#,
        ),
        expect![[r#"
            ! note[unserved-router]: src/main.rs:10: the router `ApiRouter::new().nest("/api/v2", v1()).finish_api(&openapi)` is built and thrown away (`_ = ..`), never served: its 1 route(s) are not listed
            ! note[unserved-router]: src/main.rs:9: the router `ApiRouter::new().nest("/api/v1", v1()).finish_api(&openapi)` is built and thrown away (`_ = ..`), never served: its 1 route(s) are not listed
            GET /api/v1/app -> app::list
        "#]],
    );
}

/// utoipa-axum: `routes!(h).layer(l)` registers `h`'s route wrapped in `l`.
#[test]
fn utoipa_routes_wrapped_in_a_layer_are_read() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::extract::DefaultBodyLimit;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
#[utoipa::path(post, path = "/upload/file")]
async fn upload() {}
#[utoipa::path(get, path = "/upload/status")]
async fn status() {}
pub fn router() -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(upload).layer(DefaultBodyLimit::disable()))
        .routes(routes!(status))
}
"#,
        ),
        expect![[r#"
            GET /upload/status -> app::status
            POST /upload/file -> app::upload [layer:DefaultBodyLimit::disable()]
        "#]],
    );
}

/// Raw identifiers name what they name without the `r#`: `mod r#move;` is
/// the file `move.rs`, `r#move::router()` its fn, `r#type` a field.
#[test]
fn raw_identifiers_name_modules_fns_and_fields() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
mod r#move;
use axum::{routing::post, Router};
pub struct Body { pub r#type: String }
async fn r#ref() {}
pub fn app() -> Router {
    Router::new()
        .nest("/items/{id}/move", r#move::router())
        .route("/ref", post(r#ref))
}
//- /src/move.rs
use axum::{routing::post, Router};
async fn move_item() {}
pub fn router() -> Router {
    Router::new().route("/", post(move_item))
}
"#,
        ),
        expect![[r#"
            POST /items/{id}/move -> app::move::move_item
            POST /ref -> app::ref
        "#]],
    );
}

/// `nest_service` of a workspace fn that builds a `Router` (imported under
/// another name) nests its routes, as `nest` does.
#[test]
fn nest_service_of_a_router_built_by_a_fn_nests_its_routes() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
mod statics;
use axum::{routing::get, Router};
async fn home() {}
fn root_dir() -> std::io::Result<std::path::PathBuf> { Ok(".".into()) }
pub fn app() -> std::io::Result<Router> {
    Ok(Router::new()
        .route("/", get(home))
        .nest_service("/-/static", statics::build_static_router(root_dir()?)))
}
//- /src/statics.rs
use axum::{routing::get, Router as AxumRouter};
use std::path::Path;
pub(crate) fn build_static_router(root: impl AsRef<Path>) -> AxumRouter {
    let _root = root.as_ref();
    AxumRouter::new()
        .route("/style.css", get(|| async { "css" }))
        .route("/menu.js", get(|| async { "js" }))
}
"#,
        ),
        expect![[r#"
            GET / -> app::home
            GET /-/static/menu.js -> app::statics::build_static_router::{closure}
            GET /-/static/style.css -> app::statics::build_static_router::{closure}
        "#]],
    );
}

/// axum-extra's `route_with_tsr` also routes the path with its trailing
/// slash toggled (any method, a redirect); `/` has no twin.
#[test]
fn route_with_tsr_adds_the_trailing_slash_twin() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::{routing::get, Router};
use axum_extra::routing::RouterExt;
async fn home() {}
async fn about() {}
async fn krate() {}
pub fn app() -> Router {
    Router::new()
        .route_with_tsr("/", get(home))
        .route_with_tsr("/about", get(about))
        .route_with_tsr("/crate/{name}/", get(krate))
}
"#,
        ),
        expect![[r#"
            ANY /about/ -> axum_extra::routing::RouterExt::route_with_tsr
            ANY /crate/{name} -> axum_extra::routing::RouterExt::route_with_tsr
            GET / -> app::home
            GET /about -> app::about
            GET /crate/{name}/ -> app::krate
        "#]],
    );
}

/// A router built by a workspace `macro_rules!`, handed the router to extend.
#[test]
fn a_router_built_by_a_workspace_macro() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::{routing::get, Router};
async fn list() {}
async fn health() {}
macro_rules! with_health {
    ($router:expr, $path:expr) => {
        $router.route($path, get(health))
    };
}
pub fn app() -> Router {
    let api = Router::new().route("/items", get(list));
    with_health!(api, "/health")
}
"#,
        ),
        expect![[r#"
            GET /health -> app::health
            GET /items -> app::list
        "#]],
    );
}

/// With a binary, a router no binary's start reaches (a library's public
/// generic builder only its tests call) is not served, and a note says so;
/// a server started from a trait impl's method (a CLI framework calls
/// `Runnable::run`) is.
#[test]
fn routers_no_binary_reaches_are_not_served() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
use axum::{routing::get, Router};
async fn list() {}
async fn stats() {}
pub fn router_for<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/items", get(list)).route("/stats", get(stats))
}
pub fn router() -> Router {
    Router::new().route("/items", get(list))
}
pub trait Runnable { fn run(&self); }
pub struct Serve;
impl Runnable for Serve {
    fn run(&self) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(serve());
    }
}
async fn serve() {
    let app = Router::new().nest("/api", router());
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    axum::serve(l, app).await.unwrap();
}
//- /src/main.rs
fn main() {
    framework::boot();
}
"#,
        ),
        expect![[r#"
            ! note[unserved-router]: src/lib.rs:4: `app::router_for` builds routes, but no binary's `main` reaches it: cleave does not list them as served routes
            GET /api/items -> app::list
        "#]],
    );
}

mod registration;
