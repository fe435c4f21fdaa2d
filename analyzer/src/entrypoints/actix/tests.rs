use expect_test::{Expect, expect};

use crate::entrypoints::{EntryKind, EntryPoint, Framework, detect};
use crate::resolve::DefMap;
use crate::testing::write_fixture;

fn mw_text(e: &EntryPoint) -> String {
    if e.middleware.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = e
        .middleware
        .iter()
        .map(|m| match &m.handler {
            Some(h) => format!("{}:{}@{h}", m.kind, m.name),
            None => format!("{}:{}", m.kind, m.name),
        })
        .collect();
    format!(" [{}]", parts.join(", "))
}

/// Renders actix entry points as sorted one-line facts:
/// `METHOD /path -> handler [kind:name@middleware-fn, ..]` and `! diagnostic`.
fn check(fixture: &str, expect: Expect) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), fixture);
    let project = crate::load(dir.path()).expect("load");
    let defs = DefMap::build(&project);
    let found = detect(&defs);
    let mut lines: Vec<String> = found
        .entrypoints
        .iter()
        .filter(|e| e.kind.is_route() && e.framework == Some(Framework::ActixWeb))
        .map(|e| {
            let kind = if e.kind == EntryKind::Static {
                "static "
            } else {
                ""
            };
            format!(
                "{} {} -> {kind}{}{}",
                e.method,
                e.path,
                e.handler,
                mw_text(e)
            )
        })
        .collect();
    for d in project.diagnostics.iter().chain(&found.diagnostics) {
        lines.push(format!("! {d}"));
    }
    lines.sort();
    let text = if lines.is_empty() {
        String::new()
    } else {
        lines.join("\n") + "\n"
    };
    expect.assert_eq(&text);
}

const MANIFEST: &str = "//- /Cargo.toml\n[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nactix-web = \"4\"\n";

fn with_manifest(files: &str) -> String {
    format!("{MANIFEST}{files}")
}

#[test]
fn attribute_handlers_registered_with_service() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{delete, get, head, patch, post, put, route, App, HttpResponse, HttpServer};

#[get("/a")]
async fn a() -> HttpResponse { HttpResponse::Ok().finish() }
#[post("/b")]
async fn b() -> HttpResponse { HttpResponse::Ok().finish() }
#[put("/c")]
async fn c() -> HttpResponse { HttpResponse::Ok().finish() }
#[delete("/d/{id}")]
async fn d() -> HttpResponse { HttpResponse::Ok().finish() }
#[patch("/e")]
async fn e() -> HttpResponse { HttpResponse::Ok().finish() }
#[head("/f")]
async fn f() -> HttpResponse { HttpResponse::Ok().finish() }
#[route("/g", method = "GET", method = "POST")]
async fn g() -> HttpResponse { HttpResponse::Ok().finish() }
#[actix_web::routes]
#[get("/h")]
#[put("/h2")]
async fn h() -> HttpResponse { HttpResponse::Ok().finish() }

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(move || {
        App::new().service(a).service(b).service(c).service(d).service(e).service(f).service(g).service(h)
    })
    .bind(("127.0.0.1", 8080))?
    .run()
    .await
}
"#,
        ),
        expect![[r#"
            DELETE /d/{id} -> app::d
            GET /a -> app::a
            GET /g -> app::g
            GET /h -> app::h
            HEAD /f -> app::f
            PATCH /e -> app::e
            POST /b -> app::b
            POST /g -> app::g
            PUT /c -> app::c
            PUT /h2 -> app::h
        "#]],
    );
}

#[test]
fn nested_scopes_and_middleware_order() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{middleware, web, App, HttpResponse, HttpServer};

async fn h() -> HttpResponse { HttpResponse::Ok().finish() }
async fn auth(req: ServiceRequest, next: Next<BoxBody>) -> Result<ServiceResponse, Error> { next.call(req).await }

fn main() {
    HttpServer::new(|| {
        App::new()
            .wrap(middleware::Logger::default())
            .service(
                web::scope("/api")
                    .wrap(middleware::from_fn(auth))
                    .wrap(middleware::Compress::default())
                    .service(web::scope("v1").service(web::scope("/deep").route("/x", web::get().to(h)))),
            )
            .route("/top", web::get().to(h))
            .wrap(middleware::NormalizePath::trim())
    });
}
"#,
        ),
        expect![[r#"
            GET /api/v1/deep/x -> app::h [wrap:middleware::NormalizePath::trim(), wrap:middleware::Logger::default(), wrap:middleware::Compress::default(), wrap:middleware::from_fn(auth)@app::auth]
            GET /top -> app::h [wrap:middleware::NormalizePath::trim(), wrap:middleware::Logger::default()]
        "#]],
    );
}

#[test]
fn resources_routes_shortcuts_and_guards() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{guard, http::Method, web, App, HttpResponse, HttpServer};

async fn list() -> HttpResponse { HttpResponse::Ok().finish() }
async fn create() -> HttpResponse { HttpResponse::Ok().finish() }
async fn any() -> HttpResponse { HttpResponse::Ok().finish() }
async fn edit() -> HttpResponse { HttpResponse::Ok().finish() }
async fn show() -> HttpResponse { HttpResponse::Ok().finish() }
async fn remove() -> HttpResponse { HttpResponse::Ok().finish() }
async fn files() -> HttpResponse { HttpResponse::Ok().finish() }
async fn replace() -> HttpResponse { HttpResponse::Ok().finish() }
async fn not_found() -> HttpResponse { HttpResponse::NotFound().finish() }

fn main() {
    HttpServer::new(|| {
        App::new()
            .service(
                web::scope("/api")
                    .service(web::resource("").route(web::get().to(list)).route(web::post().to(create)))
                    .service(web::resource("/").to(any))
                    .service(
                        web::resource("/items/{id:\\d+}")
                            .route(web::method(Method::PATCH).to(edit))
                            .get(show)
                            .delete(remove),
                    )
                    .service(
                        web::resource("/files/{tail:.*}")
                            .route(web::route().guard(guard::Any(guard::Get()).or(guard::Head())).to(files)),
                    )
                    .service(web::resource(["/x", "y"]).put(replace))
                    .default_service(web::to(not_found)),
            )
            .default_service(web::to(not_found))
    });
}
"#,
        ),
        expect![[r#"
            ANY /api/ -> app::any
            DELETE /api/items/{id} -> app::remove
            GET /api -> app::list
            GET /api/files/{*tail} -> app::files
            GET /api/items/{id} -> app::show
            HEAD /api/files/{*tail} -> app::files
            PATCH /api/items/{id} -> app::edit
            POST /api -> app::create
            PUT /api/x -> app::replace
            PUT /api/y -> app::replace
        "#]],
    );
}

#[test]
fn configure_fns_closures_and_generic_config() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
pub mod routes;
pub trait Kind {}
pub struct User;
impl Kind for User {}
//- /src/routes.rs
use actix_web::web;

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/health", web::get().to(health)).configure(nested);
}

fn nested(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/n").to(health));
}

pub fn listing<T: crate::Kind>(cfg: &mut web::ServiceConfig, base: &str) {
    cfg.service(web::scope(base).route("", web::get().to(list::<T>)));
}

pub async fn list<T: crate::Kind>() -> &'static str { "" }
pub async fn health() -> &'static str { "ok" }

/// Never passed to `configure`: its route is not served.
pub fn orphan(cfg: &mut web::ServiceConfig) {
    cfg.route("/orphan", web::get().to(health));
}
//- /src/main.rs
use actix_web::{web, App, HttpServer};

fn main() {
    HttpServer::new(|| {
        App::new()
            .configure(app::routes::config)
            .service(web::scope("/v1").configure(|cfg| app::routes::listing::<app::User>(cfg, "/users")))
            .route("/top", web::get().to(app::routes::health))
    });
}
"#,
        ),
        expect![[r#"
            ANY /n -> app::routes::health
            GET /health -> app::routes::health
            GET /top -> app::routes::health
            GET /v1/users -> app::routes::list
        "#]],
    );
}

#[test]
fn handlers_resolve_through_reexports_closures_and_outside() {
    check(
        &with_manifest(
            r#"
//- /src/lib.rs
mod handlers;
pub use handlers::*;
//- /src/handlers/mod.rs
mod users;
pub use users::*;
//- /src/handlers/users.rs
use actix_web::{get, HttpResponse};

#[get("/users/{id}")]
pub async fn show() -> HttpResponse { HttpResponse::Ok().finish() }
pub async fn list() -> HttpResponse { HttpResponse::Ok().finish() }
//- /src/main.rs
use actix_web::{web, App, HttpResponse, HttpServer};

fn main() {
    HttpServer::new(|| {
        App::new()
            .service(app::show)
            .route("/users", web::get().to(app::list))
            .route("/ping", web::get().to(|| async { HttpResponse::Ok().finish() }))
            .route("/ok", web::get().to(HttpResponse::Ok))
    });
}
"#,
        ),
        expect![[r#"
            ! warning[unresolved-handler]: src/main.rs:9: actix handler `HttpResponse::Ok` is not a workspace fn cleave can find; the route is listed with the handler as written
            GET /ok -> HttpResponse::Ok
            GET /ping -> app::main::{closure}
            GET /users -> app::handlers::users::list
            GET /users/{id} -> app::handlers::users::show
        "#]],
    );
}

#[test]
fn closure_handler_location_is_the_closure() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(
        dir.path(),
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{web, App, HttpServer};

fn main() {
    HttpServer::new(|| {
        App::new().route(
            "/ping",
            web::get().to(|| async { "pong" }),
        )
    });
}
"#,
        ),
    );
    let project = crate::load(dir.path()).expect("load");
    let defs = DefMap::build(&project);
    let found = detect(&defs);
    let e = found.entrypoints.first().expect("one route");
    assert_eq!(e.handler, "app::main::{closure}");
    assert_eq!((e.at.file.as_str(), e.at.line), ("src/main.rs", 7));
    // Registered where `.route(..)` is written.
    assert_eq!(e.registered.line, 5);
    let root = e.root.expect("closure root");
    assert_eq!(defs.fns[root].id, "app::main");
}

#[test]
fn factory_fn_is_counted_once_through_its_caller() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{dev::ServiceFactory, middleware, web, App, HttpServer};

fn app() -> App<impl ServiceFactory<actix_web::dev::ServiceRequest>> {
    App::new().route("/a", web::get().to(a))
}

async fn a() -> &'static str { "" }

fn main() {
    HttpServer::new(|| app().wrap(middleware::Logger::default()));
}
"#,
        ),
        expect![[r#"
            GET /a -> app::a [wrap:middleware::Logger::default()]
        "#]],
    );
}

#[test]
fn unregistered_attribute_handler_is_a_note_not_a_route() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{get, App, HttpServer};

#[get("/used")]
async fn used() -> &'static str { "" }

#[get("/unused")]
async fn unused() -> &'static str { "" }

mod other {
    // Not actix's `get`: no note.
    #[rocket::get("/r")]
    pub fn r() {}
}

fn main() {
    HttpServer::new(|| App::new().service(used));
}
"#,
        ),
        expect![[r#"
            ! note[unregistered-handler]: src/main.rs:6: `#[get("/unused")]` on `app::unused`: handler attribute but not registered with `.service(..)` from any actix-web App cleave can see; it is not listed as a route
            GET /used -> app::used
        "#]],
    );
}

#[test]
fn runtime_prefixes_branches_and_loops_are_listed_with_diagnostics() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{web, App, HttpServer};

async fn h() -> &'static str { "" }

fn main() {
    let prefix = if std::env::var("X").is_ok() { "/a" } else { "/b" };
    HttpServer::new(move || {
        let mut app = App::new().service(web::scope(prefix).route("/x", web::get().to(h)));
        for name in ["/p", "/q"] {
            app = app.route(name, web::get().to(h));
        }
        app.service(web::scope(&std::env::var("BASE").unwrap()).route("/y", web::get().to(h)))
    });
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/main.rs:6: actix routes are chosen by an `if` here: cleave lists every variant it found; check which ones are live
            ! warning[dynamic-route]: src/main.rs:9: actix routes are chosen by a loop here: cleave lists every variant it found; check which ones are live
            ! warning[runtime-prefix]: src/main.rs:12: the prefix `&std::env::var("BASE").unwrap()` is computed at runtime (`std::env::var("BASE").unwrap()`): cleave assumes it is empty, the default deployment, and lists its routes under "/"; if the app is served under another path, set the whole prefix in cleave.toml: [prefix] "src/main.rs:12" = "/base"
            GET /a/x -> app::h
            GET /b/x -> app::h
            GET /p -> app::h
            GET /q -> app::h
            GET /y -> app::h
        "#]],
    );
}

#[test]
fn scope_building_fns_tuples_and_same_handler_twice() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{get, web, App, HttpServer, Scope};

#[get("/a")]
async fn a() -> &'static str { "" }
#[get("/b")]
async fn b() -> &'static str { "" }
#[get("/c")]
async fn c() -> &'static str { "" }
async fn h() -> &'static str { "" }

const API: &str = "/api";

fn api() -> Scope {
    web::scope(API)
        .service((a, b))
        .service(vec![web::resource("/r").to(h)])
}

fn main() {
    HttpServer::new(|| {
        App::new()
            .service(api())
            .service(web::services![c])
            .route("/again", web::get().to(h))
            .service(actix_files::Files::new("/static", "."))
    });
}
"#,
        ),
        expect![[r#"
            ANY /api/r -> app::h
            GET /again -> app::h
            GET /api/a -> app::a
            GET /api/b -> app::b
            GET /c -> app::c
            GET /static -> static actix_files::Files::new("/static", ".")
            GET /static/{*path} -> static actix_files::Files::new("/static", ".")
        "#]],
    );
}

#[test]
fn wrap_fn_resource_wrap_and_attribute_wrap() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{dev::Service, get, middleware::Logger, web, App, HttpServer};

#[get("/w", wrap = "Logger::default()")]
async fn w() -> &'static str { "" }
async fn h() -> &'static str { "" }

fn main() {
    HttpServer::new(|| {
        App::new()
            .wrap_fn(|req, srv| srv.call(req))
            .service(web::resource("/r").wrap(Cors::permissive()).to(h))
            .service(w)
    });
}
"#,
        ),
        expect![[r#"
            ANY /r -> app::h [wrap_fn:|req, srv| .., wrap:Cors::permissive()]
            GET /w -> app::w [wrap_fn:|req, srv| .., wrap:Logger::default()]
        "#]],
    );
}

#[test]
fn let_bound_middleware_constructors_closures_and_transforms_name_their_fn() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{dev::{Service, Transform}, middleware, web, App, HttpServer};
use actix_web_httpauth::middleware::HttpAuthentication;

async fn h() -> &'static str { "" }
async fn validate_jwt(req: ServiceRequest, c: BearerAuth) -> Result<ServiceRequest, Error> { Ok(req) }
async fn check_basic(req: ServiceRequest, c: BasicAuth) -> Result<ServiceRequest, Error> { Ok(req) }
async fn extract(req: &mut ServiceRequest) -> Result<Claims, Error> { todo!() }
async fn timing(req: ServiceRequest, next: Next<BoxBody>) -> Result<ServiceResponse, Error> { next.call(req).await }
fn audit(req: &ServiceRequest) {}

pub struct RateLimit { limit: u32 }
impl RateLimit { pub fn new(limit: u32) -> Self { RateLimit { limit } } }
pub struct RateLimitService<S> { service: S }
impl<S> Transform<S, ServiceRequest> for RateLimit {
    type Transform = RateLimitService<S>;
    fn new_transform(&self, service: S) -> Self::Future { ready(Ok(RateLimitService { service })) }
}
impl<S> Service<ServiceRequest> for RateLimitService<S> {
    fn call(&self, req: ServiceRequest) -> Self::Future { self.service.call(req) }
}

fn main() {
    let basic = HttpAuthentication::basic(check_basic);
    HttpServer::new(move || {
        let auth = HttpAuthentication::bearer(validate_jwt);
        let limits = RateLimit::new(5);
        App::new()
            .wrap(middleware::from_fn(timing))
            .wrap_fn(|req, srv| { audit(&req); srv.call(req) })
            .service(web::scope("/api").wrap(auth).route("/user", web::get().to(h)))
            .service(web::scope("/basic").wrap(basic.clone()).route("", web::get().to(h)))
            .service(
                web::scope("/claims")
                    .wrap(HttpAuthentication::with_fn(extract))
                    .wrap(limits)
                    .route("", web::get().to(h)),
            )
    });
}
"#,
        ),
        expect![[r#"
            GET /api/user -> app::h [wrap_fn:|req, srv| ..@app::audit, wrap:middleware::from_fn(timing)@app::timing, wrap:HttpAuthentication::bearer(validate_jwt)@app::validate_jwt]
            GET /basic -> app::h [wrap_fn:|req, srv| ..@app::audit, wrap:middleware::from_fn(timing)@app::timing, wrap:HttpAuthentication::basic(check_basic)@app::check_basic]
            GET /claims -> app::h [wrap_fn:|req, srv| ..@app::audit, wrap:middleware::from_fn(timing)@app::timing, wrap:RateLimit::new(5)@<app::RateLimitService as Service>::call, wrap:HttpAuthentication::with_fn(extract)@app::extract]
        "#]],
    );
}

#[test]
fn configure_method_on_a_struct_and_let_bound_scope() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{web, App, HttpServer};

async fn h() -> &'static str { "" }

struct Module;
impl Module {
    fn routes(&self, cfg: &mut web::ServiceConfig) {
        cfg.route("/m", web::post().to(h));
    }
}

fn main() {
    let module = Module;
    HttpServer::new(move || {
        let admin = web::scope("/admin").route("/x", web::delete().to(h));
        App::new().service(admin).configure(|cfg| module.routes(cfg))
    });
}
"#,
        ),
        expect![[r#"
            DELETE /admin/x -> app::h
            POST /m -> app::h
        "#]],
    );
}

#[test]
fn no_actix_dependency_no_routes() {
    check(
        r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"
//- /src/main.rs
fn main() {
    let _ = App::new().service(web::resource("/x").to(h));
}
async fn h() {}
"#,
        expect![[""]],
    );
}

#[test]
fn app_chosen_by_an_if_gets_later_calls_on_each_branch() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{middleware::Logger, web, App, HttpServer};

async fn h() -> &'static str { "" }

fn main() {
    HttpServer::new(|| {
        let app = if std::env::var("ADMIN").is_ok() {
            App::new().route("/admin", web::get().to(h))
        } else {
            App::new()
        };
        app.wrap(Logger::default()).route("/", web::get().to(h))
    });
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/main.rs:7: actix routes are chosen by an `if` here: cleave lists every variant it found; check which ones are live
            GET / -> app::h [wrap:Logger::default()]
            GET /admin -> app::h [wrap:Logger::default()]
        "#]],
    );
}

#[test]
fn config_handed_to_code_cleave_cannot_follow_is_reported() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{web, App, HttpServer};

async fn h() -> &'static str { "" }

fn main() {
    HttpServer::new(|| {
        App::new()
            .configure(|cfg| {
                plugin::install(cfg);
                routes!(cfg);
            })
            .configure(external::config)
            .route("/ok", web::get().to(h))
    });
}
"#,
        ),
        expect![[r#"
            ! warning[unknown-config]: src/main.rs:10: actix builder handed to macro `routes!`, which cleave cannot expand; the routes it registers are not listed
            ! warning[unknown-config]: src/main.rs:12: actix `configure(external::config)`: cleave cannot find this configure fn in the workspace; the routes it registers are not listed
            ! warning[unknown-config]: src/main.rs:9: actix `ServiceConfig` handed to `plugin::install(..)`, which is not a workspace fn; the routes it registers are not listed
            GET /ok -> app::h
        "#]],
    );
}

#[test]
fn malformed_builder_calls_do_not_panic() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{web, App, HttpServer};

fn main() {
    HttpServer::new(|| {
        App::new()
            .service()
            .route()
            .configure()
            .wrap()
            .service(web::scope())
            .service(web::resource("/r").route().to().get())
            .route("/x", web::get().to())
            .service(web::scope("/s").service(web::resource("/t").route(web::method().to(missing))))
    });
    let _ = App::new().configure(recurse);
}

fn recurse(cfg: &mut web::ServiceConfig) { cfg.configure(recurse); }
"#,
        ),
        expect![[r#"
            ! warning[unknown-service]: src/main.rs:10: actix `.service(web::scope())`: cleave cannot read this service; the routes it serves are not listed
            ! warning[unknown-service]: src/main.rs:11: actix `.route(..)` without a route: nothing is listed
            ! warning[unknown-service]: src/main.rs:13: actix route `web::method().to(missing)`: cleave cannot read this route; it is not listed
            ! warning[unknown-service]: src/main.rs:7: actix `.route(..)` without a route: nothing is listed
        "#]],
    );
}

/// The bundled fixture: every actix route, exactly as `expected/routes.txt` lists them.
#[test]
fn forum_actix_routes_match_expected() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/forum-actix");
    let project = crate::load(std::path::Path::new(root)).expect("load fixture");
    let defs = DefMap::build(&project);
    let found = detect(&defs);
    let mut got: Vec<String> = found
        .entrypoints
        .iter()
        .filter(|e| e.kind == EntryKind::Http && e.framework == Some(Framework::ActixWeb))
        .map(|e| format!("{} {} -> {}", e.method, e.path, e.handler))
        .collect();
    got.sort();
    let text = std::fs::read_to_string(format!("{root}/expected/routes.txt")).expect("routes.txt");
    let mut want: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    want.sort();
    if got != want {
        let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
        let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
        panic!(
            "forum-actix routes differ from expected/routes.txt\nmissing:\n{}\nextra:\n{}\n(got {} lines, want {})",
            missing
                .iter()
                .map(|s| format!("- {s}"))
                .collect::<Vec<_>>()
                .join("\n"),
            extra
                .iter()
                .map(|s| format!("+ {s}"))
                .collect::<Vec<_>>()
                .join("\n"),
            got.len(),
            want.len()
        );
    }
}

/// The fixture's middleware: Logger on every route, `require_bearer` (a
/// `from_fn` middleware) inside it on the admin scope only.
#[test]
fn forum_actix_middleware() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/forum-actix");
    let project = crate::load(std::path::Path::new(root)).expect("load fixture");
    let defs = DefMap::build(&project);
    let found = detect(&defs);
    let actix: Vec<&EntryPoint> = found
        .entrypoints
        .iter()
        .filter(|e| e.framework == Some(Framework::ActixWeb))
        .collect();
    assert_eq!(actix.len(), 23);
    let ours: Vec<String> = found
        .diagnostics
        .iter()
        .filter(|d| d.message.starts_with("actix") || d.code == "unregistered-handler")
        .map(ToString::to_string)
        .collect();
    assert!(ours.is_empty(), "unexpected diagnostics: {ours:#?}");
    for e in &actix {
        let names: Vec<String> = e
            .middleware
            .iter()
            .map(|m| {
                format!(
                    "{}:{}@{}",
                    m.kind,
                    m.name,
                    m.handler.clone().unwrap_or_default()
                )
            })
            .collect();
        if e.path.starts_with("/api/v1/admin/") {
            assert_eq!(
                names,
                [
                    "wrap:middleware::Logger::default()@",
                    "wrap:from_fn(require_bearer)@forum_http::middleware::require_bearer"
                ],
                "{}",
                e.route()
            );
        } else {
            assert_eq!(
                names,
                ["wrap:middleware::Logger::default()@"],
                "{}",
                e.route()
            );
        }
    }
}

/// `web::redirect(from, to)` answers any method at `from`; a scope's
/// method guard keeps out the routes of other methods inside it.
#[test]
fn redirects_and_scope_method_guards() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{guard, web, App, HttpServer};
async fn login() -> &'static str { "" }
async fn change_password() -> &'static str { "" }
async fn info() -> &'static str { "" }
fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/nodeinfo/2.1", web::get().to(info))
        .service(web::redirect("/version", "/nodeinfo/2.1"))
        .service(
            web::scope("/account/auth")
                .guard(guard::Post())
                .route("/login", web::post().to(login))
                .route("/change_password", web::put().to(change_password))
                .route("/any", web::route().to(login)),
        );
}
fn main() {
    HttpServer::new(|| App::new().configure(config));
}
"#,
        ),
        expect![[r#"
            ANY /version -> actix_web::web::Redirect
            GET /nodeinfo/2.1 -> app::info
            POST /account/auth/any -> app::login
            POST /account/auth/login -> app::login
        "#]],
    );
}

/// The app is built by a workspace `macro_rules!` in the server factory,
/// its arguments bound to the rule's variables, and resource paths come
/// from a fn that builds them from a constant (regex segments included).
#[test]
fn an_app_built_by_a_workspace_macro_with_paths_from_a_string_fn() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{web, App, HttpResponse, HttpServer};

const ID_RE: &str = "[0-9]{1,10}";

async fn items() -> HttpResponse { HttpResponse::Ok().finish() }
async fn item() -> HttpResponse { HttpResponse::Ok().finish() }
async fn beat() -> HttpResponse { HttpResponse::Ok().finish() }

pub fn versioned(path: &str) -> String {
    let path = path.replace("{item}", &format!("{{item:{}}}", ID_RE));
    format!("/v2/{{owner:{}}}{}", ID_RE, path)
}

#[macro_export]
macro_rules! build_app {
    ($state: expr, $beat_path: expr) => {
        App::new()
            .app_data(web::Data::new($state))
            .service(web::resource(&versioned("/items")).route(web::get().to(items)))
            .service(web::resource(&versioned("/items/{item}")).route(web::delete().to(item)))
            .service(web::resource($beat_path).route(web::get().to(beat)))
    };
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(move || {
        let state = 1u32;
        build_app!(state, "/__heartbeat__")
    })
    .bind("127.0.0.1:8080")?
    .run()
    .await
}
"#,
        ),
        expect![[r#"
            DELETE /v2/{owner}/items/{item} -> app::item
            GET /__heartbeat__ -> app::beat
            GET /v2/{owner}/items -> app::items
        "#]],
    );
}

/// `configure(service(state.clone()))`: a workspace fn returning the
/// configure closure (`-> impl Fn(&mut ServiceConfig)`), which itself
/// configures a closure another fn returns.
#[test]
fn configure_closures_returned_by_fns() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{web, App, HttpServer};

#[derive(Clone)]
pub struct State { pub base: String }

pub fn service(state: State) -> impl Fn(&mut web::ServiceConfig) {
    move |cfg| {
        cfg.service(web::scope("/files").configure(setup(state.clone())));
    }
}

pub fn setup(state: State) -> Box<dyn Fn(&mut web::ServiceConfig) + Send + Sync> {
    Box::new(move |cfg: &mut web::ServiceConfig| {
        cfg.route("/", web::post().to(create));
        cfg.route("/{id}/", web::get().to(fetch));
    })
}

async fn create() -> &'static str { "" }
async fn fetch() -> &'static str { "" }
async fn health() -> &'static str { "ok" }

fn main() {
    let state = State { base: String::new() };
    HttpServer::new(move || {
        App::new()
            .route("/health", web::get().to(health))
            .configure(service(state.clone()))
    });
}
"#,
        ),
        expect![[r#"
            GET /files/{id}/ -> app::fetch
            GET /health -> app::health
            POST /files/ -> app::create
        "#]],
    );
}

/// A trait's default method builds the app and hands its config to
/// `Self::configure_routes`, which each server type implements (one is
/// chosen at runtime): every implementation's routes are listed, with a
/// warning; the prefix comes from a workspace fn of consts.
#[test]
fn self_method_in_a_trait_default_is_every_implementation() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{web, App, HttpServer};
const API: &str = "api";
pub fn base_path() -> String {
    format!("/{API}/v1")
}
async fn h() {}
trait Server {
    fn configure_routes(cfg: &mut web::ServiceConfig);
    async fn start(&self) -> std::io::Result<()> {
        HttpServer::new(|| App::new().configure(|c| Self::configure_routes(c)))
            .bind("0.0.0.0:8000")?
            .run()
            .await
    }
}
struct All;
struct Query;
impl Server for All {
    fn configure_routes(cfg: &mut web::ServiceConfig) {
        cfg.service(web::scope(&base_path()).route("/logs", web::post().to(h)));
    }
}
impl Server for Query {
    fn configure_routes(cfg: &mut web::ServiceConfig) {
        cfg.service(web::scope(&base_path()).route("/cluster", web::get().to(h)));
    }
}
#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let server: Box<dyn Server> = if std::env::args().count() > 1 { Box::new(Query) } else { Box::new(All) };
    server.start().await
}
"#,
        ),
        expect![[r#"
            ! warning[dynamic-route]: src/main.rs:10: `Self::configure_routes` is one of 2 fns (the implementations of a trait method, chosen by the type at runtime): cleave lists the routes of every one; check which one the deployed binary runs
            GET /api/v1/cluster -> app::h
            POST /api/v1/logs -> app::h
        "#]],
    );
}

/// Files embedded at build time (actix-web-static-files' `ResourceFiles`),
/// built by a workspace fn the app's `.service(..)` calls: static files
/// under the mount path, as `actix_files::Files`.
#[test]
fn embedded_files_a_workspace_fn_builds_are_static() {
    check(
        &with_manifest(
            r#"
//- /src/main.rs
use actix_web::{web, App, HttpServer};
use actix_web_static_files::ResourceFiles;
include!(concat!(env!("OUT_DIR"), "/generated.rs"));
async fn about() -> &'static str { "about" }
struct Server;
impl Server {
    pub fn get_generated() -> ResourceFiles {
        ResourceFiles::new("/", generate()).resolve_not_found_to_root()
    }
}
#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| {
        App::new()
            .route("/about", web::get().to(about))
            .service(Server::get_generated())
    })
    .bind("0.0.0.0:8000")?
    .run()
    .await
}
"#,
        ),
        expect![[r#"
            GET / -> static ResourceFiles::new("/", generate())
            GET /about -> app::about
            GET /{*path} -> static ResourceFiles::new("/", generate())
        "#]],
    );
}

mod extension;
