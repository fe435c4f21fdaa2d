use expect_test::{Expect, expect};

use crate::entrypoints::{EntryKind, Framework, detect};
use crate::resolve::DefMap;
use crate::testing::write_fixture;

/// Renders rocket routes as sorted one-line facts:
/// `METHOD /path -> handler [kind:name=handler, ..] @registered` and `! diagnostic`.
fn check(fixture: &str, expect: Expect) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), fixture);
    let project = crate::load(dir.path()).expect("load");
    let defs = DefMap::build(&project);
    let found = detect(&defs);
    let mut lines: Vec<String> = found
        .entrypoints
        .iter()
        .filter(|e| e.framework == Some(Framework::Rocket))
        .map(|e| {
            let mw: Vec<String> = e
                .middleware
                .iter()
                .map(|m| match &m.handler {
                    Some(h) => format!("{}:{}={h}", m.kind, m.name),
                    None => format!("{}:{}", m.kind, m.name),
                })
                .collect();
            let mw = if mw.is_empty() {
                String::new()
            } else {
                format!(" [{}]", mw.join(", "))
            };
            let kind = match e.kind {
                EntryKind::Static => "static ",
                EntryKind::External => "external ",
                _ => "",
            };
            format!(
                "{} {} -> {kind}{}{mw} @{}:{}",
                e.method, e.path, e.handler, e.registered.file, e.registered.line
            )
        })
        .collect();
    for d in &found.diagnostics {
        lines.push(format!("! {d}"));
    }
    lines.sort();
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    expect.assert_eq(&text);
}

const MANIFEST: &str = "//- /Cargo.toml\n[package]\nname = \"app\"\nversion = \"0.1.0\"\n\
     edition = \"2021\"\n[dependencies]\nrocket = { version = \"0.5\", features = [\"json\"] }\n";

fn lib(src: &str) -> String {
    format!("{MANIFEST}//- /src/lib.rs\n{src}")
}

#[test]
fn mount_prefix_joins_attribute_path() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
#[get("/")]
fn index() -> &'static str { "hi" }
#[get("/health")]
fn health() -> &'static str { "ok" }
#[get("/")]
fn list() -> &'static str { "[]" }
#[post("/", format = "json", data = "<note>")]
fn create(note: String) -> String { note }
pub fn app() -> rocket::Rocket<rocket::Build> {
    rocket::build()
        .mount("/", routes![index, health])
        .mount("/api/notes", routes![list, create])
}
"#),
        expect![[r#"
            GET / -> app::index @src/lib.rs:13
            GET /api/notes -> app::list @src/lib.rs:14
            GET /health -> app::health @src/lib.rs:13
            POST /api/notes -> app::create @src/lib.rs:14
        "#]],
    );
}

#[test]
fn every_method_attribute_and_generic_route() {
    check(
        &lib(r#"
use rocket::{get, put, delete, patch, head, options, route, routes};
#[put("/<id>")] fn a(id: u32) {}
#[delete("/<id>")] fn b(id: u32) {}
#[patch("/<id>")] fn c(id: u32) {}
#[head("/")] fn d() {}
#[options("/")] fn e() {}
#[route(GET, uri = "/generic")] fn f() {}
#[route("/later", method = POST)] fn g() {}
#[rocket::get("/qualified")] fn h() {}
pub fn app() -> rocket::Rocket<rocket::Build> {
    rocket::Rocket::build().mount("/x", routes![a, b, c, d, e, f, g, h])
}
"#),
        expect![[r#"
            DELETE /x/{id} -> app::b @src/lib.rs:12
            GET /x/generic -> app::f @src/lib.rs:12
            GET /x/qualified -> app::h @src/lib.rs:12
            HEAD /x -> app::d @src/lib.rs:12
            OPTIONS /x -> app::e @src/lib.rs:12
            PATCH /x/{id} -> app::c @src/lib.rs:12
            POST /x/later -> app::g @src/lib.rs:12
            PUT /x/{id} -> app::a @src/lib.rs:12
        "#]],
    );
}

#[test]
fn query_is_dropped_and_segments_catch_all() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
#[get("/?<page..>")] fn list() {}
#[get("/search?<q>&<limit>")] fn search(q: &str, limit: Option<usize>) {}
#[get("/static/<path..>")] fn files(path: std::path::PathBuf) {}
#[get("/<id>", rank = 1)] fn by_id(id: u64) {}
#[get("/<slug>", rank = 2)] fn by_slug(slug: &str) {}
#[launch]
fn rocket() -> _ {
    rocket::build().mount("/api", routes![list, search, files, by_id, by_slug])
}
"#),
        expect![[r#"
            GET /api -> app::list @src/lib.rs:10
            GET /api/search -> app::search @src/lib.rs:10
            GET /api/static/{*path} -> app::files @src/lib.rs:10
            GET /api/{id} -> app::by_id @src/lib.rs:10
            GET /api/{slug} -> app::by_slug @src/lib.rs:10
        "#]],
    );
}

#[test]
fn route_lists_combine_across_fns() {
    check(
        &format!(
            "{MANIFEST}{}",
            r#"
//- /src/lib.rs
#[macro_use] extern crate rocket;
mod routes;
pub fn app() -> rocket::Rocket<rocket::Build> {
    rocket::custom(rocket::Config::default())
        .mount("/auth", routes::auth())
        .mount("/", routes::root())
        .mount("/admin", routes::admin())
        .mount("/all", routes::all())
}
//- /src/routes.rs
use rocket::Route;
pub fn auth() -> Vec<Route> {
    let public = routes![login];
    let private = routes![logout];
    public.into_iter().chain(private).collect()
}
pub fn root() -> Vec<Route> {
    let mut v = routes![index];
    v.extend(assets());
    v
}
fn assets() -> Vec<Route> { routes![files] }
pub fn admin() -> Vec<Route> {
    let mut v = routes![stats];
    #[cfg(debug_assertions)]
    v.append(&mut routes![reset]);
    v
}
pub fn all() -> Vec<Route> {
    [routes![index], vec![routes![stats]].concat()].concat()
}
#[post("/login")] fn login() {}
#[post("/logout")] fn logout() {}
#[get("/")] fn index() {}
#[get("/files/<p..>")] fn files(p: std::path::PathBuf) {}
#[get("/stats")] fn stats() {}
#[cfg(debug_assertions)]
#[post("/reset")] fn reset() {}
"#
        ),
        expect![[r#"
            GET / -> app::routes::index @src/routes.rs:8
            GET /admin/stats -> app::routes::stats @src/routes.rs:14
            GET /all -> app::routes::index @src/routes.rs:20
            GET /all/stats -> app::routes::stats @src/routes.rs:20
            GET /files/{*p} -> app::routes::files @src/routes.rs:12
            POST /admin/reset -> app::routes::reset @src/routes.rs:16
            POST /auth/login -> app::routes::login @src/routes.rs:3
            POST /auth/logout -> app::routes::logout @src/routes.rs:4
        "#]],
    );
}

#[test]
fn routes_macro_resolves_through_module_scope() {
    check(
        &format!(
            "{MANIFEST}{}",
            r#"
//- /src/lib.rs
#[macro_use] extern crate rocket;
mod handlers;
mod api {
    pub use crate::handlers::notes::*;
}
use handlers::users as people;
pub fn app() -> rocket::Rocket<rocket::Build> {
    rocket::build().mount("/", routes![api::get_note, people::me, handlers::users::logout])
}
//- /src/handlers.rs
pub mod notes;
pub mod users;
//- /src/handlers/notes.rs
#[get("/notes/<id>")] pub fn get_note(id: u64) {}
//- /src/handlers/users.rs
#[get("/me")] pub fn me() {}
#[post("/logout")] pub fn logout() {}
"#
        ),
        expect![[r#"
            GET /me -> app::handlers::users::me @src/lib.rs:8
            GET /notes/{id} -> app::handlers::notes::get_note @src/lib.rs:8
            POST /logout -> app::handlers::users::logout @src/lib.rs:8
        "#]],
    );
}

#[test]
fn fairings_wrap_every_route_in_attach_order() {
    check(
        &format!(
            "{MANIFEST}{}",
            r#"
//- /src/lib.rs
#[macro_use] extern crate rocket;
use rocket::fairing::{AdHoc, Fairing, Info, Kind};
pub struct Counter;
#[rocket::async_trait]
impl Fairing for Counter {
    fn info(&self) -> Info { Info { name: "c", kind: Kind::Request } }
    async fn on_request(&self, _r: &mut rocket::Request<'_>, _d: &mut rocket::Data<'_>) {}
}
pub struct Timer { pub slow_ms: u64 }
impl Timer { pub fn new() -> Self { Timer { slow_ms: 5 } } }
#[rocket::async_trait]
impl Fairing for Timer {
    fn info(&self) -> Info { Info { name: "t", kind: Kind::Response } }
    async fn on_response<'r>(&self, _r: &'r rocket::Request<'_>, _s: &mut rocket::Response<'r>) {}
}
async fn migrate(r: rocket::Rocket<rocket::Build>) -> rocket::fairing::Result { Ok(r) }
#[get("/")] fn index() {}
pub fn build() -> rocket::Rocket<rocket::Build> {
    rocket::build()
        .attach(Counter)
        .attach(AdHoc::on_response("version", |_req, res| Box::pin(async move {})))
        .mount("/", routes![index])
}
pub fn app() -> rocket::Rocket<rocket::Build> {
    build()
        .attach(Timer::new())
        .attach(AdHoc::try_on_ignite("db", migrate))
}
"#
        ),
        expect![[r#"
            GET / -> app::index [fairing:Counter=<app::Counter as Fairing>::on_request, fairing:AdHoc::on_response("version", |_req, res| ..), fairing:Timer::new()=<app::Timer as Fairing>::on_response, fairing:AdHoc::try_on_ignite("db", migrate)=app::migrate] @src/lib.rs:22
        "#]],
    );
}

#[test]
fn liftoff_and_shutdown_fairings_are_not_request_middleware() {
    check(
        &format!(
            "{MANIFEST}{}",
            r#"
//- /src/lib.rs
#[macro_use] extern crate rocket;
use rocket::fairing::{AdHoc, Fairing, Info, Kind};
pub struct Cleanup;
#[rocket::async_trait]
impl Fairing for Cleanup {
    fn info(&self) -> Info { Info { name: "c", kind: Kind::Liftoff | Kind::Shutdown } }
    async fn on_liftoff(&self, _r: &rocket::Rocket<rocket::Orbit>) {}
    async fn on_shutdown(&self, _r: &rocket::Rocket<rocket::Orbit>) {}
}
pub struct Both;
#[rocket::async_trait]
impl Fairing for Both {
    fn info(&self) -> Info { Info { name: "b", kind: Kind::Liftoff | Kind::Request } }
    async fn on_liftoff(&self, _r: &rocket::Rocket<rocket::Orbit>) {}
    async fn on_request(&self, _r: &mut rocket::Request<'_>, _d: &mut rocket::Data<'_>) {}
}
async fn start_jobs(_r: &rocket::Rocket<rocket::Orbit>) {}
#[get("/")] fn index() {}
pub fn app() -> rocket::Rocket<rocket::Build> {
    rocket::build()
        .attach(Cleanup)
        .attach(Both)
        .attach(AdHoc::on_liftoff("jobs", start_jobs))
        .mount("/", routes![index])
}
"#
        ),
        expect![[r#"
            GET / -> app::index [fairing:Cleanup, fairing:Both=<app::Both as Fairing>::on_request, fairing:AdHoc::on_liftoff("jobs", start_jobs)] @src/lib.rs:24
        "#]],
    );
}

#[test]
fn cfg_gated_route_is_kept() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
#[cfg(debug_assertions)]
#[post("/reset")]
fn reset() {}
#[cfg(test)]
#[get("/only-in-tests")]
fn test_only() {}
pub fn app() -> rocket::Rocket<rocket::Build> {
    rocket::build().mount("/admin", routes![reset])
}
"#),
        expect![[r#"
            POST /admin/reset -> app::reset @src/lib.rs:10
        "#]],
    );
}

#[test]
fn unmounted_handler_is_a_diagnostic_not_a_route() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
#[get("/")] fn index() {}
#[get("/forgotten")] fn forgotten() {}
fn unused() -> Vec<rocket::Route> { routes![forgotten] }
pub fn app() -> rocket::Rocket<rocket::Build> {
    rocket::build().mount("/", routes![index])
}
"#),
        expect![[r#"
            ! warning[unmounted-route]: src/lib.rs:4: `app::forgotten` has a route attribute (GET /forgotten) but cleave found no `.mount(..)` of a `routes![..]` naming it, so it is not listed as a route; mount it, delete it, or add the route to the plan by hand if it is mounted in code cleave cannot read
            GET / -> app::index @src/lib.rs:7
        "#]],
    );
}

#[test]
fn const_prefix_resolves_and_runtime_prefix_is_reported() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
mod paths { pub const API: &str = "/api/v1"; }
#[get("/a")] fn a() {}
#[get("/b")] fn b() {}
pub fn app(version: &str) -> rocket::Rocket<rocket::Build> {
    let admin = "/admin";
    rocket::build()
        .mount(paths::API, routes![a])
        .mount(admin, routes![a])
        .mount(format!("/{version}"), routes![b])
}
"#),
        expect![[r#"
            ! warning[runtime-prefix]: src/lib.rs:11: the prefix `format!("/{version}")` is computed at runtime (`version`): cleave assumes it is empty, the default deployment, and lists its routes under "/"; if the app is served under another path, set the whole prefix in cleave.toml: [prefix] "src/lib.rs:11" = "/base"
            GET /admin/a -> app::a @src/lib.rs:10
            GET /api/v1/a -> app::a @src/lib.rs:9
            GET /b -> app::b @src/lib.rs:11
        "#]],
    );
}

#[test]
fn routes_chosen_by_if_are_all_listed_with_a_diagnostic() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
#[get("/a")] fn a() {}
#[get("/b")] fn b() {}
#[get("/c")] fn c() {}
fn routes(extra: bool) -> Vec<rocket::Route> {
    let mut v = routes![a];
    if extra {
        v.extend(routes![b]);
    }
    v
}
fn picked(x: bool) -> Vec<rocket::Route> {
    if x { routes![c] } else { Vec::new() }
}
pub fn app() -> rocket::Rocket<rocket::Build> {
    rocket::build().mount("/", routes(true)).mount("/p", picked(false))
}
"#),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:14: the route list is chosen by an `if`: cleave lists the routes of every branch
            ! warning[dynamic-route]: src/lib.rs:8: routes are added under an `if`: cleave lists the routes of every branch
            GET /a -> app::a @src/lib.rs:7
            GET /b -> app::b @src/lib.rs:9
            GET /p/c -> app::c @src/lib.rs:14
        "#]],
    );
}

#[test]
fn unknown_names_in_routes_and_opaque_lists_are_reported() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
#[get("/a")] fn a() {}
fn plain() {}
fn opaque() -> Vec<rocket::Route> { make_routes!() }
pub fn app() -> rocket::Rocket<rocket::Build> {
    rocket::build()
        .mount("/", routes![a, plain, generated])
        .mount("/o", opaque())
}
"#),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:9: `.mount("/o", opaque())`: cleave cannot see which routes this mounts (not a `routes![..]` list it can follow); add them to the plan by hand
            ! warning[unresolved-route]: src/lib.rs:8: `routes![..]` names `generated`, but cleave finds no fn with a route attribute (`#[get(..)]`, `#[route(..)]`, ..) by that name; its route is not listed (is it made by a macro?)
            ! warning[unresolved-route]: src/lib.rs:8: `routes![..]` names `plain`, but cleave finds no fn with a route attribute (`#[get(..)]`, `#[route(..)]`, ..) by that name; its route is not listed (is it made by a macro?)
            GET /a -> app::a @src/lib.rs:8
        "#]],
    );
}

#[test]
fn other_frameworks_get_attributes_are_not_rocket_routes() {
    check(
        r#"
//- /Cargo.toml
[package]
name = "web"
version = "0.1.0"
[dependencies]
actix-web = "4"
//- /src/lib.rs
use actix_web::{get, App};
#[get("/")]
async fn index() -> &'static str { "hi" }
pub fn app() -> App<()> { App::new().service(index) }
"#,
        expect![[""]],
    );
}

#[test]
fn actix_get_in_a_rocket_crate_is_not_reported_unmounted() {
    check(
        &lib(r#"
use actix_web::get;
#[get("/")]
async fn index() -> &'static str { "hi" }
"#),
        expect![[""]],
    );
}

#[test]
fn conditional_mounts_file_servers_and_shadowed_lists() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
use rocket::fs::FileServer;
#[get("/a")] fn a() {}
#[get("/b")] fn b() {}
fn list() -> Vec<rocket::Route> {
    let v = routes![a];
    let v = v.clone();
    v
}
pub fn app(admin: bool) -> rocket::Rocket<rocket::Build> {
    let mut r = rocket::build().mount("/", list());
    if admin {
        r = r.mount("/admin", routes![b]);
    }
    r.mount("/static", FileServer::from("static"))
}
"#),
        expect![[r#"
            ! warning[dynamic-route]: src/lib.rs:14: `.mount("/admin", ..)` is under an `if`, `match` or loop: cleave lists its routes as always mounted
            GET /a -> app::a @src/lib.rs:7
            GET /admin/b -> app::b @src/lib.rs:14
            GET /static -> static FileServer::from("static") @src/lib.rs:16
            GET /static/{*path} -> static FileServer::from("static") @src/lib.rs:16
        "#]],
    );
}

#[test]
fn helpers_called_together_build_one_rocket() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
use rocket::{Build, Rocket};
use rocket::fairing::AdHoc;
#[get("/x")] fn x() {}
fn base() -> Rocket<Build> {
    rocket::build().attach(AdHoc::on_liftoff("hello", |_| Box::pin(async {})))
}
fn with_api(r: Rocket<Build>) -> Rocket<Build> {
    r.mount("/api", routes![x])
}
#[launch]
fn launch() -> _ {
    with_api(base())
}
"#),
        expect![[r#"
            GET /api/x -> app::x [fairing:AdHoc::on_liftoff("hello", |_| ..)] @src/lib.rs:10
        "#]],
    );
}

/// The bundled rocket fixture: every route of `expected/routes.txt`, exactly.
#[test]
fn golden_notes_rocket() {
    let root = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/notes-rocket"
    ));
    let project = crate::load(root).expect("load fixture");
    let defs = DefMap::build(&project);
    let found = detect(&defs);
    let mut got: Vec<String> = found
        .entrypoints
        .iter()
        .filter(|e| e.kind == EntryKind::Http && e.framework == Some(Framework::Rocket))
        .map(|e| format!("{} {} -> {}", e.method, e.path, e.handler))
        .collect();
    got.sort();
    got.dedup();
    let text = std::fs::read_to_string(root.join("expected/routes.txt")).expect("routes.txt");
    let mut want: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    want.sort();
    let missing: Vec<&String> = want.iter().filter(|w| !got.contains(w)).collect();
    let extra: Vec<&String> = got.iter().filter(|g| !want.contains(g)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "routes differ from expected/routes.txt\nmissing:\n{missing:#?}\nextra:\n{extra:#?}"
    );
    // Both fairings wrap every route, in attach order; no route is unmounted.
    for e in found
        .entrypoints
        .iter()
        .filter(|e| e.framework == Some(Framework::Rocket))
    {
        let names: Vec<&str> = e.middleware.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "RequestCounter",
                "AdHoc::on_response(\"API version header\", |_req, res| ..)"
            ],
            "{}",
            e.route()
        );
    }
    let rocket_diags: Vec<String> = found
        .diagnostics
        .iter()
        .filter(|d| d.code.ends_with("-route"))
        .map(ToString::to_string)
        .collect();
    assert!(rocket_diags.is_empty(), "{rocket_diags:#?}");
}

/// A base path read from configuration at runtime (`[&base_path, "/api"].concat()`):
/// the routes are listed under the known parts, one warning per mount.
#[test]
fn runtime_base_path_is_assumed_empty_and_its_routes_are_listed() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
mod api {
    #[get("/alive")] pub fn alive() {}
    pub fn routes() -> Vec<rocket::Route> { routes![alive] }
}
#[get("/")] fn index() {}
pub fn launch(cfg: &Config) -> rocket::Rocket<rocket::Build> {
    let base_path = cfg.domain_path();
    rocket::build()
        .mount([&base_path, "/"].concat(), routes![index])
        .mount([&base_path, "/api"].concat(), api::routes())
}
"#),
        expect![[r#"
            ! warning[runtime-prefix]: src/lib.rs:11: the prefix `...concat()` is computed at runtime (`cfg.domain_path()`): cleave assumes it is empty, the default deployment, and lists its routes under "/"; if the app is served under another path, set the whole prefix in cleave.toml: [prefix] "src/lib.rs:11" = "/base"
            ! warning[runtime-prefix]: src/lib.rs:12: the prefix `...concat()` is computed at runtime (`cfg.domain_path()`): cleave assumes it is empty, the default deployment, and lists its routes under "/api"; if the app is served under another path, set the whole prefix in cleave.toml: [prefix] "src/lib.rs:12" = "/base/api"
            GET / -> app::index @src/lib.rs:11
            GET /api/alive -> app::api::alive @src/lib.rs:5
        "#]],
    );
}

/// A helper that mounts at its caller's base: an extension method on
/// `Rocket<Build>` (`.mount_metrics("/metrics")`) and a fn called twice
/// with the same base read the argument; a fn called with two different
/// bases stays a runtime prefix.
#[test]
fn a_base_passed_by_every_caller_is_the_prefix() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
#[get("/")] fn index() {}
#[get("/up")] fn up() {}
#[get("/v")] fn version() {}
pub trait MountMetrics { fn mount_metrics(self, base: &str) -> Self; }
impl MountMetrics for rocket::Rocket<rocket::Build> {
    fn mount_metrics(self, base: &str) -> Self {
        self.mount(base, routes![up])
    }
}
fn mount_info(r: rocket::Rocket<rocket::Build>, at: &str) -> rocket::Rocket<rocket::Build> {
    r.mount(at, routes![version])
}
pub fn launch() -> rocket::Rocket<rocket::Build> {
    let r = rocket::build().mount("/", routes![index]).mount_metrics("/metrics");
    let r = mount_info(r, "/info");
    mount_info(r, "/about")
}
"#),
        expect![[r#"
            ! warning[runtime-prefix]: src/lib.rs:13: the prefix `at` is computed at runtime (`at`): cleave assumes it is empty, the default deployment, and lists its routes under "/"; if the app is served under another path, set the whole prefix in cleave.toml: [prefix] "src/lib.rs:13" = "/base"
            GET / -> app::index @src/lib.rs:16
            GET /metrics/up -> app::up @src/lib.rs:9
            GET /v -> app::version @src/lib.rs:13
        "#]],
    );
}

/// rocket_okapi: `openapi_get_routes![..]` lists handlers and adds the spec
/// route; `openapi_get_routes_spec![..]` lists handlers (with their spec,
/// built with the settings a `settings:` first argument names)
/// for `mount_endpoints_and_merged_docs!`, which mounts each under its base
/// and serves the merged spec at the base.
#[test]
fn rocket_okapi_route_macros_and_merged_docs_mounts() {
    check(
        &lib(r#"
#[macro_use] extern crate rocket;
use rocket_okapi::{openapi, openapi_get_routes, openapi_get_routes_spec};
use rocket_okapi::mount_endpoints_and_merged_docs;
mod users {
    use super::*;
    #[openapi(tag = "Users")]
    #[get("/<id>")] pub fn fetch(id: String) {}
    #[openapi(tag = "Users")]
    #[patch("/@me")] pub fn edit() {}
    pub fn routes(settings: &OpenApiSettings) -> (Vec<rocket::Route>, OpenApi) {
        openapi_get_routes_spec![settings: fetch, edit]
    }
}
#[openapi] #[get("/")] fn root() {}
#[openapi] #[get("/health")] fn health() {}
pub fn api(mut rocket: rocket::Rocket<rocket::Build>) -> rocket::Rocket<rocket::Build> {
    let settings = OpenApiSettings::default();
    mount_endpoints_and_merged_docs! {
        rocket, "/0.8".to_owned(), settings,
        "" => openapi_get_routes_spec![root],
        "/users" => users::routes(&settings),
    };
    rocket.mount("/api", openapi_get_routes![health])
}
"#),
        expect![[r#"
            GET /0.8 -> app::root @src/lib.rs:21
            GET /0.8/openapi.json -> rocket_okapi::handlers::OpenApiHandler @src/lib.rs:19
            GET /0.8/users/{id} -> app::users::fetch @src/lib.rs:12
            GET /api/health -> app::health @src/lib.rs:24
            GET /api/openapi.json -> rocket_okapi::handlers::OpenApiHandler @src/lib.rs:24
            PATCH /0.8/users/@me -> app::users::edit @src/lib.rs:12
        "#]],
    );
}

/// A library builds two rockets: the one its binary launches, and one only
/// its integration tests call. Only the launched one's routes are served.
#[test]
fn a_rocket_no_binary_builds_is_not_served() {
    check(
        &format!(
            "{MANIFEST}//- /src/lib.rs\n{}//- /src/main.rs\n{}",
            r#"
#[macro_use] extern crate rocket;
#[get("/version")] fn version() {}
#[get("/debug")] fn debug() {}
pub async fn create_rocket() -> rocket::Rocket<rocket::Build> {
    rocket::build().mount("/api", routes![version])
}
pub async fn create_test_rocket() -> rocket::Rocket<rocket::Build> {
    rocket::build().mount("/", routes![version, debug])
}
"#,
            r#"
#[macro_use] extern crate rocket;
#[launch]
async fn rocket() -> _ { app::create_rocket().await }
"#
        ),
        expect![[r#"
            ! note[unserved-router]: src/lib.rs:8: `app::create_test_rocket` mounts routes, but no binary's `main` reaches it: cleave does not list them as served routes
            ! warning[unmounted-route]: src/lib.rs:4: `app::debug` has a route attribute (GET /debug) but cleave found no `.mount(..)` of a `routes![..]` naming it, so it is not listed as a route; mount it, delete it, or add the route to the plan by hand if it is mounted in code cleave cannot read
            GET /api/version -> app::version @src/lib.rs:6
        "#]],
    );
}

/// Routes a crate outside the workspace makes, mounted whole, are one
/// `external` entry point under the prefix (the fn named through a path, or
/// through a glob import of the crate's module); a file server is `static`.
#[test]
fn external_crate_routes_and_file_servers_are_entry_points_of_their_own_kinds() {
    check(
        &format!(
            "{}rocket_authifier = \"1\"\nrocket_okapi = \"0.8\"\n//- /src/lib.rs\n{}",
            MANIFEST,
            r#"
#[macro_use] extern crate rocket;
use rocket::fs::FileServer;
#[get("/")] fn index() {}
pub fn app() -> rocket::Rocket<rocket::Build> {
    rocket::build()
        .mount("/", routes![index])
        .mount("/auth/account", rocket_authifier::routes::account::routes())
        .mount("/static", FileServer::from("static"))
}
pub fn with_docs(rocket: rocket::Rocket<rocket::Build>) -> rocket::Rocket<rocket::Build> {
    let swagger = rocket_authifier::swagger_ui(&Default::default());
    rocket.mount("/swagger", swagger)
}
mod ui {
    // A glob import of a dependency's module: the one place the name comes from.
    use rocket_okapi::swagger_ui::*;
    pub fn with_ui(rocket: rocket::Rocket<rocket::Build>) -> rocket::Rocket<rocket::Build> {
        rocket.mount("/ui/", make_swagger_ui(&SwaggerUIConfig { url: "../openapi.json".to_owned(), ..Default::default() }))
    }
}
"#
        ),
        expect![[r#"
            ANY /auth/account -> external rocket_authifier::routes::account::routes @src/lib.rs:8
            ANY /auth/account/{*rest} -> external rocket_authifier::routes::account::routes @src/lib.rs:8
            ANY /swagger -> external rocket_authifier::swagger_ui @src/lib.rs:13
            ANY /swagger/{*rest} -> external rocket_authifier::swagger_ui @src/lib.rs:13
            ANY /ui -> external make_swagger_ui @src/lib.rs:19
            ANY /ui/{*rest} -> external make_swagger_ui @src/lib.rs:19
            GET / -> app::index @src/lib.rs:7
            GET /static -> static FileServer::from("static") @src/lib.rs:9
            GET /static/{*path} -> static FileServer::from("static") @src/lib.rs:9
        "#]],
    );
}

/// A fairing mounts a hand-built route when the app ignites
/// (`Route::ranked(1, Method::Get, "/", FairingErrorRoute {})`): a route
/// at the mount prefix, handled by the handler type's `handle`.
#[test]
fn hand_built_routes_mounted_by_a_fairing() {
    check(
        &format!(
            "{MANIFEST}//- /src/lib.rs\n{}//- /src/main.rs\n{}",
            r#"
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::Method;
use rocket::route::{Handler, Outcome, Route};
use rocket::{Build, Data, Request, Rocket};
static FAIRING_ROUTE_BASE: &str = "/apikey_fairing";
#[derive(Clone)]
struct FairingErrorRoute {}
#[rocket::async_trait]
impl Handler for FairingErrorRoute {
    async fn handle<'r>(&self, request: &'r Request<'_>, _: Data<'r>) -> Outcome<'r> {
        Outcome::from(request, ())
    }
}
fn fairing_route() -> Route {
    Route::ranked(1, Method::Get, "/", FairingErrorRoute {})
}
pub struct ApiKeyCheck;
#[rocket::async_trait]
impl Fairing for ApiKeyCheck {
    fn info(&self) -> Info { Info { name: "k", kind: Kind::Ignite } }
    async fn on_ignite(&self, rocket: Rocket<Build>) -> rocket::fairing::Result {
        Ok(rocket.mount(FAIRING_ROUTE_BASE, vec![fairing_route()]))
    }
}
pub fn build() -> Rocket<Build> {
    rocket::build().attach(ApiKeyCheck)
}
"#,
            r#"
#[rocket::launch]
fn rocket() -> _ { app::build() }
"#
        ),
        expect![[r#"
            GET /apikey_fairing -> <app::FairingErrorRoute as Handler>::handle @src/lib.rs:16
        "#]],
    );
}
