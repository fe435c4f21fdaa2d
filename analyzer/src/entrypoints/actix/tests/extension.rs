//! Routes reached through workspace code the actix builder methods do not
//! name: extension traits on `Scope`, methods returning a builder on values
//! cleave does not track, routes an outside crate's fn makes,
//! leptos_actix's pages, a renamed `App`, configs handed to trait objects
//! and `Redirect` services.

use expect_test::expect;

use super::{check, with_manifest};

/// `impl ScopeExt for Scope { fn api(self) -> Self { self.service(..) } }`:
/// the method runs with the scope as `self`, its services added to it (and
/// under a scope whose prefix nests it again).
#[test]
fn an_extension_trait_method_on_scope_adds_its_services() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{get, web::scope, App, HttpResponse, HttpServer, Scope};

#[get("")]
async fn list() -> HttpResponse { HttpResponse::Ok().finish() }
#[get("/{id}")]
async fn one() -> HttpResponse { HttpResponse::Ok().finish() }

trait ScopeExt {
    fn resource_routes(self) -> Self;
}

impl ScopeExt for Scope {
    fn resource_routes(self) -> Self {
        self.service(scope("/context").service(list).service(one))
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(move || {
        App::new().service(
            scope("")
                .resource_routes()
                .service(scope("/{org_id}").resource_routes()),
        )
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}
"#,
        ),
        expect![[r#"
            GET /context -> app::list
            GET /context/{id} -> app::one
            GET /{org_id}/context -> app::list
            GET /{org_id}/context/{id} -> app::one
        "#]],
    );
}

/// `.service(auth.routes())` on a value whose type cleave does not track:
/// each workspace method of that name returning a builder is a possible
/// value (an enum's variants, a trait's implementations), listed with a
/// warning; a method returning no builder is not followed.
#[test]
fn a_builder_method_on_an_untracked_value_lists_each_implementation() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{get, post, web, App, HttpResponse, HttpServer, Scope};

#[get("/oidc/login")]
async fn login() -> HttpResponse { HttpResponse::Ok().finish() }
#[post("/policy")]
async fn policy() -> HttpResponse { HttpResponse::Ok().finish() }

trait Authenticator {
    fn routes(&self) -> Scope;
}
struct Oidc;
struct NoAuth;
impl Authenticator for Oidc {
    fn routes(&self) -> Scope {
        web::scope("").service(login)
    }
}
impl Authenticator for NoAuth {
    fn routes(&self) -> Scope {
        web::scope("")
    }
}

enum AuthZ {
    Casbin,
    Disabled,
}
impl AuthZ {
    fn endpoints(&self) -> Scope {
        match self {
            AuthZ::Casbin => web::scope("/authz").service(policy),
            AuthZ::Disabled => Scope::new(""),
        }
    }
    fn name(&self) -> String {
        String::new()
    }
}

fn pick() -> Box<dyn Authenticator> {
    Box::new(Oidc)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let auth = pick();
    let authz = AuthZ::Casbin;
    HttpServer::new(move || {
        let _ = authz.name();
        App::new().service(auth.routes()).service(authz.endpoints())
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/main.rs:50: actix routes are chosen by the type of the receiver here: cleave lists every variant it found; check which ones are live
            GET /oidc/login -> app::login
            POST /authz/policy -> app::policy
        "#]],
    );
}

/// `.route("/fxn/{tail:.*}", leptos_actix::handle_server_fns())`: a route
/// an outside crate's fn makes is listed for any method, with a warning.
#[test]
fn a_route_made_by_an_outside_fn_is_listed_for_any_method() {
    check(
        &format!(
            "{}leptos_actix = \"0.6\"\n{}",
            super::MANIFEST,
            r#"
//- /src/main.rs
use actix_web::{App, HttpServer};

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(move || {
        App::new().route("/fxn/{tail:.*}", leptos_actix::handle_server_fns())
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}
"#,
        ),
        expect![[r#"
            ! warning[unresolved-handler]: src/main.rs:6: actix route `leptos_actix::handle_server_fns()` comes from outside the workspace; it is listed for any method, with the handler as written
            ANY /fxn/{*tail} -> leptos_actix::handle_server_fns()
        "#]],
    );
}

/// leptos_actix's `.leptos_routes(options, routes, app)` over
/// `generate_route_list(Root)`: one GET route per page of the component's
/// `view!` (leptos 0.6's `path="/.."`), the list carried into the server's
/// closure; a page whose path is computed is counted in a warning.
#[test]
fn leptos_pages_are_get_routes_of_an_actix_app() {
    check(
        &format!(
            "{}leptos = \"0.6\"\nleptos_actix = \"0.6\"\nleptos_router = \"0.6\"\n{}",
            super::MANIFEST,
            r#"
//- /src/main.rs
use actix_web::{App, HttpServer};
use leptos::*;
use leptos_actix::{generate_route_list, LeptosRoutes};
use leptos_router::*;

fn segment() -> String {
    "x".to_owned()
}

#[component]
fn Root() -> impl IntoView {
    view! {
        <Router>
            <Routes>
                <Route path="/" view=Home/>
                <Route path="/admin/:org_id/workspaces" view=Workspaces/>
                <Route path=format!("/{}", segment()) view=Other/>
            </Routes>
        </Router>
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let conf = get_configuration(None).await.unwrap();
    let routes = generate_route_list(Root);
    HttpServer::new(move || {
        let leptos_options = &conf.leptos_options;
        App::new().leptos_routes(leptos_options.to_owned(), routes.to_owned(), Root)
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/main.rs:29: 1 Leptos route(s) of this route list have a path computed at runtime (`path=format!(..)`); cleave does not list them: add them to cleave.toml by hand
            GET / -> routes.to_owned()
            GET /admin/{org_id}/workspaces -> routes.to_owned()
        "#]],
    );
}

/// actix's `App` imported under another name beside a workspace `App`
/// (`use actix_web::App as WebApp`); a configure closure handing the
/// config to each extension of a trait-object list (`ext.config_web(cfg)`:
/// every implementation with a body registers); `Redirect::new(from, to)`
/// as a service, any method at `from`.
#[test]
fn a_renamed_app_trait_object_configs_and_redirects() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::web::{self, Redirect, ServiceConfig};
use actix_web::{App as WebApp, HttpResponse, HttpServer};

pub struct App {
    name: String,
}

async fn index() -> HttpResponse { HttpResponse::Ok().finish() }
async fn metrics() -> HttpResponse { HttpResponse::Ok().finish() }

pub trait Extension {
    fn config_web(&mut self, _cfg: &mut ServiceConfig) {}
}
struct Metrics;
impl Extension for Metrics {
    fn config_web(&mut self, cfg: &mut ServiceConfig) {
        cfg.service(web::resource("/metrics").route(web::get().to(metrics)));
    }
}
struct Auth;
impl Extension for Auth {}

pub struct Extensions {
    list: Vec<Box<dyn Extension>>,
}
impl Extensions {
    pub fn call_config_web(&mut self, cfg: &mut ServiceConfig) {
        for ext in &mut self.list {
            ext.config_web(cfg);
        }
    }
}

fn create_web_app(mut extensions: Extensions) -> WebApp<()> {
    WebApp::new()
        .configure(|cfg| extensions.call_config_web(cfg))
        .service(web::resource("/").route(web::get().to(index)))
        .service(Redirect::new("/admin/manage", "/admin/manage/"))
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(move || create_web_app(Extensions { list: Vec::new() }))
        .bind(("127.0.0.1", 8080))?
        .run()
        .await
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/main.rs:28: actix routes are chosen by a loop here: cleave lists every variant it found; check which ones are live
            ANY /admin/manage -> actix_web::web::Redirect
            GET / -> app::index
            GET /metrics -> app::metrics
        "#]],
    );
}
