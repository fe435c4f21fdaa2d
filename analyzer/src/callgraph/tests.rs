use expect_test::{Expect, expect};

use crate::callgraph::{EdgeKind, build};
use crate::resolve::DefMap;
use crate::testing::write_fixture;

/// Renders the graph as sorted one-line facts: `from -> to (kind)` and `? from: call`.
fn check(fixture: &str, expect: Expect) {
    check_with(fixture, &[], expect);
}

/// [`check`] with `features` on, as `--features` asks.
fn check_with(fixture: &str, features: &[&str], expect: Expect) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), fixture);
    let features: Vec<String> = features.iter().map(|f| (*f).to_owned()).collect();
    let project = crate::load::load_with(dir.path(), &features).expect("load");
    let defs = DefMap::build(&project);
    let graph = build(&defs);
    let mut lines: Vec<String> = graph
        .edges()
        .into_iter()
        .map(|(a, b, e)| {
            let kind = match e.kind {
                EdgeKind::Call => "call",
                EdgeKind::Ref => "ref",
                EdgeKind::Dyn => "dyn",
            };
            format!("{} -> {} ({kind})", defs.fns[a].id, defs.fns[b].id)
        })
        .collect();
    for u in &graph.unresolved {
        lines.push(format!("? {}: {}", defs.fns[u.from].id, u.call));
    }
    for d in &project.diagnostics {
        lines.push(format!("! {d}"));
    }
    lines.sort();
    expect.assert_eq(&(lines.join("\n") + "\n"));
}

const MANIFEST: &str =
    "//- /Cargo.toml\n[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

#[test]
fn lock_guard_and_field_receivers() {
    check(
        &format!(
            "{MANIFEST}{}",
            r#"
//- /src/lib.rs
use std::sync::{Arc, Mutex};
pub struct Store;
impl Store {
    pub fn insert(&mut self, s: &str) -> u32 { 0 }
}
pub struct AppState { pub store: Arc<Mutex<Store>> }
fn insert_locked(st: &AppState, body: &str) -> u32 {
    st.store.lock().unwrap().insert(body)
}
"#
        ),
        expect![[r#"
            app::insert_locked -> app::Store::insert (call)
        "#]],
    );
}

fn lib(src: &str) -> String {
    format!("{MANIFEST}//- /src/lib.rs\n{src}")
}

#[test]
fn reexport_chains_resolve_to_the_definition() {
    check(
        r#"
//- /Cargo.toml
[package]
name = "shop-app"
version = "0.1.0"
//- /src/lib.rs
pub mod handlers;
pub mod routes;
pub use handlers::*;
//- /src/handlers.rs
mod products;
pub use self::products::*;
//- /src/handlers/products.rs
pub fn list() {}
pub fn delete() {}
//- /src/routes.rs
use crate::{delete, list as list_all};
pub fn router() {
    list_all();
    delete();
    crate::handlers::list();
}
"#,
        expect![[r#"
            shop_app::routes::router -> shop_app::handlers::products::delete (call)
            shop_app::routes::router -> shop_app::handlers::products::list (call)
        "#]],
    );
}

#[test]
fn glob_cycles_terminate_and_super_paths_resolve() {
    check(
        &lib(r#"
pub mod a {
    pub use super::b::*;
    pub fn fa() {}
    pub mod inner {
        pub fn deep() { super::fa(); super::super::b::fb(); }
    }
}
pub mod b {
    pub use super::a::*;
    pub fn fb() { fa(); inner::deep(); }
}
"#),
        expect![[r#"
            app::a::inner::deep -> app::a::fa (call)
            app::a::inner::deep -> app::b::fb (call)
            app::b::fb -> app::a::fa (call)
            app::b::fb -> app::a::inner::deep (call)
        "#]],
    );
}

#[test]
fn trait_dispatch_static_generic_and_dyn() {
    check(
        &lib(r#"
use std::sync::Arc;
pub trait Repo { fn save(&self); fn log(&self) { self.save(); } }
pub struct Sql;
pub struct Mem;
impl Repo for Sql { fn save(&self) {} }
impl Repo for Mem { fn save(&self) {} fn log(&self) {} }
pub fn generic<R: Repo>(r: &R) { r.save(); }
pub fn boxed(r: Arc<dyn Repo>) { r.save(); }
pub fn qualified(s: &Sql) { <Sql as Repo>::save(s); Repo::log(s); }
pub fn concrete() { let s = Sql; s.save(); Mem.log(); }
pub fn uses() { generic(&Sql); }
pub fn never_instantiated<R: Repo>(r: &R) { r.log(); }
"#),
        expect![[r#"
            app::Repo::log -> <app::Mem as app::Repo>::save (call)
            app::Repo::log -> <app::Sql as app::Repo>::save (call)
            app::boxed -> <app::Mem as app::Repo>::save (dyn)
            app::boxed -> <app::Sql as app::Repo>::save (dyn)
            app::concrete -> <app::Mem as app::Repo>::log (call)
            app::concrete -> <app::Sql as app::Repo>::save (call)
            app::generic -> <app::Mem as app::Repo>::save (call)
            app::generic -> <app::Sql as app::Repo>::save (call)
            app::never_instantiated -> <app::Mem as app::Repo>::log (dyn)
            app::never_instantiated -> app::Repo::log (dyn)
            app::qualified -> <app::Mem as app::Repo>::log (call)
            app::qualified -> <app::Sql as app::Repo>::save (call)
            app::qualified -> app::Repo::log (call)
            app::uses -> app::generic (call)
        "#]],
    );
}

#[test]
fn receivers_from_fields_constructors_extractors_and_lets() {
    check(
        &lib(r#"
use std::sync::Arc;
pub struct Repo;
impl Repo {
    pub fn new() -> Self { Repo }
    pub fn insert(&self) {}
}
pub struct Service { repo: Arc<Repo> }
impl Service {
    pub fn create(&self) { self.repo.insert(); }
}
#[derive(Clone)]
pub struct AppState { pub service: Service }
use axum::extract::State;
pub async fn handler(State(state): State<AppState>) { state.service.create(); }
pub fn chained() { Repo::new().insert(); let r: Repo = make(); r.insert(); }
fn make() -> Repo { Repo::new() }
"#),
        expect![[r#"
            app::Service::create -> app::Repo::insert (call)
            app::chained -> app::Repo::insert (call)
            app::chained -> app::Repo::new (call)
            app::chained -> app::make (call)
            app::handler -> app::Service::create (call)
            app::make -> app::Repo::new (call)
        "#]],
    );
}

#[test]
fn closures_async_blocks_turbofish_and_refs() {
    check(
        &lib(r#"
pub fn parse<T>(s: &str) -> Option<T> { None }
fn helper(x: u32) -> u32 { x }
fn convert(x: u32) -> u32 { x }
pub async fn fetch() -> u32 { 1 }
pub async fn run(xs: Vec<u32>) {
    let ys: Vec<u32> = xs.iter().map(|x| helper(*x)).collect();
    let zs: Vec<u32> = ys.into_iter().map(convert).collect();
    let n = async { fetch().await }.await;
    let _ = parse::<u8>("1");
    std::thread::spawn(move || helper(n));
}
"#),
        expect![[r#"
            app::run -> app::convert (ref)
            app::run -> app::fetch (call)
            app::run -> app::helper (call)
            app::run -> app::parse (call)
        "#]],
    );
}

#[test]
fn calls_inside_macro_arguments_and_user_macros() {
    check(
        &lib(r#"
fn a() -> u32 { 1 }
fn b() -> u32 { 2 }
fn c() -> u32 { 3 }
fn d() -> bool { true }
fn e() {}
#[macro_export]
macro_rules! twice {
    ($x:expr) => {{ $crate::e(); $crate::e(); }};
}
pub async fn f() {
    println!("{} {}", a(), b());
    let v = vec![c()];
    assert!(d(), "msg {}", a());
    let j = json!({ "total": b(), "items": [c()] });
    tokio::select! {
        x = fetch() => { e(); }
        _ = other() => {}
    }
    twice!(1);
}
async fn fetch() {}
async fn other() {}
"#),
        expect![[r#"
            app::f -> app::a (call)
            app::f -> app::b (call)
            app::f -> app::c (call)
            app::f -> app::d (call)
            app::f -> app::e (call)
            app::f -> app::fetch (call)
            app::f -> app::other (call)
        "#]],
    );
}

/// An `expr` fragment may hold commas outside any group (closure
/// parameters, generic arguments): the rule is picked as rustc picks it.
#[test]
fn expr_fragments_holding_commas_pick_their_rule() {
    check(
        &lib(r#"
pub fn one() {}
pub fn two() {}
pub fn conv<A, B>() -> u8 { 0 }
#[macro_export]
macro_rules! pick {
    ($f:expr, $g:expr) => { $crate::two() };
    ($f:expr) => { $crate::one() };
}
pub fn both() {
    pick!(|a, b| a + b, conv::<u8, u16>());
}
pub fn single() {
    pick!(|a, b| a + b);
}
"#),
        expect![[r#"
            app::both -> app::conv (call)
            app::both -> app::two (call)
            app::single -> app::one (call)
        "#]],
    );
}

#[test]
fn ambiguous_methods_are_unresolved_not_guessed() {
    check(
        &lib(r#"
pub struct A;
pub struct B;
impl A { pub fn frobnicate(&self) {} pub fn only_on_a(&self) {} }
impl B { pub fn frobnicate(&self) {} }
pub fn f(x: Vec<u8>) {
    let y = unknown();
    y.frobnicate();
    y.only_on_a();
}
"#),
        expect![[r#"
            ? app::f: unknown
            ? app::f: y.frobnicate
            app::f -> app::A::only_on_a (call)
        "#]],
    );
}

#[test]
fn workspace_crates_call_each_other_through_path_and_renamed_dependencies() {
    check(
        r#"
//- /Cargo.toml
[workspace]
members = ["crates/*"]
[workspace.dependencies]
domain = { path = "crates/domain", package = "forum-domain" }
//- /crates/domain/Cargo.toml
[package]
name = "forum-domain"
version = "0.1.0"
//- /crates/domain/src/lib.rs
pub mod services;
pub use services::create_post;
//- /crates/domain/src/services.rs
pub fn create_post() {}
pub struct Store;
impl Store { pub fn save(&self) {} }
//- /crates/web/Cargo.toml
[package]
name = "forum-web"
version = "0.1.0"
[dependencies]
domain.workspace = true
serde = "1"
//- /crates/web/src/lib.rs
extern crate domain as dom;
use domain::services::Store;
pub fn handler(store: &Store) {
    domain::create_post();
    dom::services::create_post();
    store.save();
    serde::Serialize::serialize();
}
"#,
        expect![[r#"
            forum_web::handler -> forum_domain::services::Store::save (call)
            forum_web::handler -> forum_domain::services::create_post (call)
        "#]],
    );
}

#[test]
fn bad_files_are_diagnostics_and_the_rest_is_still_graphed() {
    check(
        &lib(r#"
mod broken;
mod missing;
#[path = "../../outside.rs"]
mod escape;
pub fn ok() { helper() }
fn helper() {}
//- /src/broken.rs
pub fn f( {
"#),
        expect![[r#"
            ! error[missing-module]: src/lib.rs:3: module `missing`: none of src/missing.rs, src/missing/mod.rs exists; create it or remove the `mod` line
            ! error[path-escapes-root]: src/lib.rs:5: `#[path]` of module `escape` points outside the analysed directory; it is not read
            ! error[syntax-error]: src/broken.rs:1: cannot parse: cannot parse string into token stream; this file is skipped
            app::ok -> app::helper (call)
        "#]],
    );
}

#[test]
fn closure_params_and_loop_variables_take_the_element_type() {
    check(
        &lib(r#"
use std::collections::HashMap;
pub struct Order;
pub struct Invoice;
impl Order { pub fn total(&self) -> u32 { 1 } }
impl Invoice { pub fn total(&self) -> u32 { 2 } }
pub fn sum(orders: &[Order], by_id: HashMap<u32, Invoice>) -> u32 {
    let a: u32 = orders.iter().map(|o| o.total()).sum();
    let mut b = 0;
    for (_, inv) in &by_id { b += inv.total(); }
    let firsts: Vec<Order> = Vec::new();
    if let Some(o) = firsts.first() { b += o.total(); }
    a + b
}
"#),
        expect![[r#"
            app::sum -> app::Invoice::total (call)
            app::sum -> app::Order::total (call)
        "#]],
    );
}

#[test]
fn a_module_does_not_hide_a_fn_of_its_name_from_a_glob() {
    // zero2prod's layout: `mod login; pub use login::*;` where the module
    // re-exports a fn `login`: `routes::login` is both, in two namespaces.
    check(
        &format!(
            "{MANIFEST}{}",
            r#"
//- /src/lib.rs
pub mod routes;
pub mod startup;
//- /src/routes/mod.rs
mod login;
pub use login::*;
//- /src/routes/login/mod.rs
mod post;
pub use post::login;
//- /src/routes/login/post.rs
pub fn login() -> u32 { 1 }
//- /src/startup.rs
use crate::routes::login;
pub fn run() -> u32 { login() }
"#
        ),
        expect![[r#"
            app::startup::run -> app::routes::login::post::login (call)
        "#]],
    );
}

/// A lazy static derefs to its value (`SETTINGS.database_url()` on a
/// `LazyLock<Settings>`, `CACHE.lock()` on a `Lazy<Mutex<..>>`); a
/// receiver of a type nothing defines or imports (a struct a workspace
/// `macro_rules!` generates) is unknown, so a method name only one
/// workspace impl has is that method; a type alias of an outside type reads
/// as what it names.
#[test]
fn lazy_statics_aliases_and_types_nothing_defines() {
    check(
        &lib(r#"
use std::sync::{Arc, LazyLock, Mutex};
pub struct Settings;
impl Settings {
    pub fn database_url(&self) -> String { String::new() }
}
pub struct Store;
impl Store {
    pub fn add(&mut self, n: u32) {}
}
static SETTINGS: LazyLock<Settings> = LazyLock::new(|| Settings);
static STORE: LazyLock<Mutex<Store>> = LazyLock::new(|| Mutex::new(Store));
static CONFIG: LazyLock<Config> = LazyLock::new(|| todo!());
impl Config {
    pub fn update_config(&self) {}
}
pub type Hub<'a> = &'a Arc<Settings>;
fn connect() -> String {
    STORE.lock().unwrap().add(1);
    SETTINGS.database_url()
}
fn admin_save() {
    CONFIG.update_config();
}
fn notify(hub: Hub<'_>) -> String {
    hub.database_url()
}
"#),
        expect![[r#"
            app::admin_save -> app::Config::update_config (call)
            app::connect -> app::Settings::database_url (call)
            app::connect -> app::Store::add (call)
            app::notify -> app::Settings::database_url (call)
        "#]],
    );
}

/// A workspace error macro with several rules: each call takes the calls of
/// the rule the compiler would pick (by the count and kind of its
/// arguments), with `$crate` paths read in the crate that defines it, also
/// through a macro that forwards to it, and from another crate.
#[test]
fn workspace_macros_expand_the_rule_the_call_selects() {
    check(
        r#"
//- /Cargo.toml
[workspace]
members = ["crates/*"]
//- /crates/base/Cargo.toml
[package]
name = "base"
version = "0.1.0"
//- /crates/base/src/lib.rs
pub mod error;
pub mod log;
#[macro_export]
macro_rules! fail {
    ($kind:ident, $msg:expr) => {{
        return Err($crate::error::Failure::new($msg).kind($crate::error::Kind::$kind));
    }};
    ($msg:expr) => {{
        $crate::log::note($msg);
        return Err($crate::error::Failure::new($msg));
    }};
    ($msg:expr, Event $event:tt) => {{
        return Err($crate::error::Failure::new($msg).with_event($crate::error::Event $event));
    }};
    ($msg:expr, $detail:expr $(,)?) => {{
        $crate::log::note_detail($msg, &$detail);
        return Err($crate::error::Failure::with_detail($msg, $detail));
    }};
}
#[macro_export]
macro_rules! fail_quiet {
    ($($arg:tt)+) => {{ $crate::fail!($($arg)+) }};
}
//- /crates/base/src/error.rs
pub enum Kind { Gone, Denied }
pub struct Event { pub code: u32 }
pub struct Failure;
impl Failure {
    pub fn new(msg: &str) -> Self { Failure }
    pub fn with_detail(msg: &str, detail: String) -> Self { Failure }
    pub fn kind(self, k: Kind) -> Self { self }
    pub fn with_event(self, e: Event) -> Self { self }
}
//- /crates/base/src/log.rs
pub fn note(msg: &str) {}
pub fn note_detail(msg: &str, detail: &str) {}
//- /crates/web/Cargo.toml
[package]
name = "web"
version = "0.1.0"
[dependencies]
base = { path = "../base" }
//- /crates/web/src/lib.rs
use base::error::Failure;
use base::{fail, fail_quiet};
fn detail() -> String { String::new() }
pub fn create() -> Result<(), Failure> {
    fail!("no name")
}
pub fn update() -> Result<(), Failure> {
    fail!("bad", detail());
}
pub fn remove() -> Result<(), Failure> {
    fail!(Gone, "deleted")
}
pub fn hide() -> Result<(), Failure> {
    fail_quiet!("hidden", detail())
}
pub fn audit() -> Result<(), Failure> {
    fail!("audited", Event { code: 7 })
}
"#,
        expect![[r#"
            web::audit -> base::error::Failure::new (call)
            web::audit -> base::error::Failure::with_event (call)
            web::create -> base::error::Failure::new (call)
            web::create -> base::log::note (call)
            web::hide -> base::error::Failure::with_detail (call)
            web::hide -> base::log::note_detail (call)
            web::hide -> web::detail (call)
            web::remove -> base::error::Failure::kind (call)
            web::remove -> base::error::Failure::new (call)
            web::update -> base::error::Failure::with_detail (call)
            web::update -> base::log::note_detail (call)
            web::update -> web::detail (call)
        "#]],
    );
}

/// Methods of the workspace's traits implemented for outside types
/// (`Result`, a framework's router) are found on values of those types; a
/// chain of an outside type's own methods stays outside, so a method name
/// only one workspace type has is not guessed at its end.
#[test]
fn extension_traits_on_outside_types_and_outside_chains() {
    check(
        &lib(r#"
pub struct Failure;
pub trait ResultExt<T> {
    fn or_fail(self, msg: &str) -> Result<T, Failure>;
}
impl<T, E> ResultExt<T> for Result<T, E> {
    fn or_fail(self, msg: &str) -> Result<T, Failure> { todo!() }
}
pub trait RouterExt {
    fn with_tracing(self) -> Self;
}
impl RouterExt for axum::Router {
    fn with_tracing(self) -> Self { self }
}
pub struct Pool;
impl Pool {
    pub fn port(&self) -> u16 { 0 }
    pub fn size(&self) -> u16 { 0 }
}
fn load(s: &str) -> Result<u32, Failure> {
    let n: Result<u32, std::num::ParseIntError> = s.parse();
    let v = n.or_fail("bad")?;
    Ok(v)
}
fn serve(router: axum::Router) -> axum::Router {
    router.with_tracing()
}
fn bind() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
fn pool_size(p: &Pool) -> u16 {
    p.size()
}
"#),
        expect![[r#"
            app::load -> <app::Result<T, E> as app::ResultExt>::or_fail (call)
            app::pool_size -> app::Pool::size (call)
            app::serve -> <app::axum::Router as app::RouterExt>::with_tracing (call)
        "#]],
    );
}

/// A `lazy_static!` value used from a child module through `use super::`,
/// a value taken out of a `match` on a `Result`, and `i64::from(&x)` /
/// `String::from(x)` landing in the workspace's `From` impl for that outside
/// type, chosen by the argument's type (a literal argument is std's own).
#[test]
fn lazy_static_values_match_results_and_from_impls_for_outside_types() {
    check(
        &lib(r#"
use lazy_static::lazy_static;
pub struct Db;
impl Db {
    pub fn open() -> Result<Db, String> { Ok(Db) }
    pub fn get(&self, id: &str) -> Option<u32> { None }
}
pub struct Stamp(pub u64);
pub enum Status { New, Refused }
impl From<&Stamp> for i64 {
    fn from(s: &Stamp) -> i64 { 0 }
}
impl From<Status> for String {
    fn from(s: Status) -> Self { String::new() }
}
lazy_static! {
    static ref DB: Db = Db::open().unwrap();
    /**
    A doc comment.
    */
    static ref COUNT: u32 = 0;
}
pub mod web {
    use super::{DB, Status, Stamp};
    pub fn lookup(id: &str) -> Option<u32> {
        DB.get(id)
    }
    pub fn stamp(s: &Stamp) -> String {
        let n = i64::from(s);
        String::from(Status::New)
    }
    pub fn label() -> String {
        String::from("x")
    }
}
pub fn check(id: &str) -> Option<u32> {
    let db = match Db::open() {
        Ok(db) => db,
        Err(_) => return None,
    };
    db.get(id)
}
"#),
        expect![[r#"
            app::check -> app::Db::get (call)
            app::check -> app::Db::open (call)
            app::web::lookup -> app::Db::get (call)
            app::web::stamp -> <app::String as From>::from (call)
            app::web::stamp -> <app::i64 as From>::from (call)
        "#]],
    );
}

/// Of two inline modules of one name for different targets, the one for
/// another OS than Lambda's Linux is not graphed.
#[test]
fn a_module_for_another_os_is_left_out() {
    check(
        &lib(r#"
pub fn run() {
    import::go()
}
#[cfg(not(target_os = "android"))]
mod import {
    pub fn go() {}
}
#[cfg(target_os = "android")]
mod import {
    pub fn go() {}
}
"#),
        expect![[r#"
            app::run -> app::import::go (call)
        "#]],
    );
}

/// A generic alias of `Result` (`type Outcome<T> = Result<T, Failure>`)
/// gives its argument through `.await?`.
#[test]
fn generic_result_aliases_carry_their_argument() {
    check(
        &lib(r#"
pub struct Failure;
pub type Outcome<T> = Result<T, Failure>;
pub type Empty = Outcome<()>;
pub struct Account;
impl Account {
    pub async fn find(id: u32) -> Option<Self> { None }
    pub async fn store(&self) -> Empty { Ok(()) }
}
pub struct Device;
impl Device {
    pub async fn store(&self) -> Empty { Ok(()) }
}
async fn account_or_404(id: u32) -> Outcome<Account> {
    if let Some(a) = Account::find(id).await { Ok(a) } else { Err(Failure) }
}
pub async fn disable(id: u32) -> Empty {
    let account = account_or_404(id).await?;
    account.store().await
}
"#),
        expect![[r#"
            app::account_or_404 -> app::Account::find (call)
            app::disable -> app::Account::store (call)
            app::disable -> app::account_or_404 (call)
        "#]],
    );
}

/// An extension trait implemented for both `Option` and `Result` (a
/// `map_res(msg)` turning either into the app's `Result`): the impl for
/// the receiver's wrapper, and the value it gives through `?`; `ok_or`
/// keeps the value; a closure of `Option::map` gets the value; a tuple
/// pattern takes the parts of a tuple element.
#[test]
fn extension_traits_on_option_and_result_keep_the_value() {
    check(
        &lib(r#"
pub struct Failure;
pub trait MapRes<S> {
    fn map_res(self, msg: &str) -> Result<S, Failure>;
}
impl<S, E> MapRes<S> for Result<S, E> {
    fn map_res(self, msg: &str) -> Result<S, Failure> { todo!() }
}
impl<S> MapRes<S> for Option<S> {
    fn map_res(self, msg: &str) -> Result<S, Failure> { todo!() }
}
pub struct Org;
impl Org {
    pub async fn find(id: u32) -> Option<Self> { None }
    pub async fn delete(&self) -> Result<(), Failure> { Ok(()) }
    pub fn name(&self) -> String { String::new() }
}
pub struct Team;
impl Team {
    pub async fn delete(&self) -> Result<(), Failure> { Ok(()) }
    pub fn name(&self) -> String { String::new() }
}
pub async fn remove(id: u32) -> Result<(), Failure> {
    let org = Org::find(id).await.map_res("no such org")?;
    org.delete().await
}
pub async fn remove_quietly(id: u32) -> Result<(), Failure> {
    let org = Org::find(id).await.ok_or(Failure)?;
    org.delete().await
}
pub async fn label(id: u32) -> Option<String> {
    Org::find(id).await.map(|o| o.name())
}
pub async fn all_with_teams() -> Vec<(Org, Option<Team>)> { Vec::new() }
pub async fn names() -> Vec<String> {
    let mut out = Vec::new();
    for (org, _) in all_with_teams().await {
        out.push(org.name());
    }
    out
}
"#),
        expect![[r#"
            app::label -> app::Org::find (call)
            app::label -> app::Org::name (call)
            app::names -> app::Org::name (call)
            app::names -> app::all_with_teams (call)
            app::remove -> <app::Option<S> as app::MapRes>::map_res (call)
            app::remove -> app::Org::delete (call)
            app::remove -> app::Org::find (call)
            app::remove_quietly -> app::Org::delete (call)
            app::remove_quietly -> app::Org::find (call)
        "#]],
    );
}

/// Code under `#[cfg(feature = ..)]` is graphed as `cargo build` of the
/// workspace has it: each package's default features, what the packages
/// depending on it ask, and what those enable, on; its other declared
/// features off; a feature it does not declare, or a cfg a build script
/// sets, keeps the code.
#[test]
fn features_off_by_default_leave_their_code_out() {
    check(
        FEATURES,
        expect![[r#"
            store::Store::open_plain -> store::Store::open (call)
            store::by_build_script -> store::Store::open (call)
            store::complete -> store::Store::open (call)
            store::quick -> store::Store::open (call)
            store::unknown -> store::Store::open (call)
            web::serve -> store::complete (call)
        "#]],
    );
}

/// `--features`: a name turns the feature on in every package declaring
/// it, `package/name` in that package; what it enables follows.
#[test]
fn asked_features_turn_their_code_on() {
    check_with(
        FEATURES,
        &["encryption"],
        expect![[r#"
            store::Store::open_encrypted -> store::Store::open (call)
            store::by_build_script -> store::Store::open (call)
            store::complete -> store::Store::open (call)
            store::quick -> store::Store::open (call)
            store::unknown -> store::Store::open (call)
            store::with_keys -> store::Store::open (call)
            web::serve -> store::complete (call)
        "#]],
    );
    check_with(
        FEATURES,
        &["store/encryption-vendored"],
        expect![[r#"
            store::Store::open_encrypted -> store::Store::open (call)
            store::Store::open_plain -> store::Store::open (call)
            store::by_build_script -> store::Store::open (call)
            store::complete -> store::Store::open (call)
            store::quick -> store::Store::open (call)
            store::unknown -> store::Store::open (call)
            store::with_keys -> store::Store::open (call)
            web::serve -> store::complete (call)
        "#]],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    write_fixture(dir.path(), FEATURES);
    let err = crate::load::load_with(dir.path(), &["web/encryption".to_owned()])
        .expect_err("web declares no such feature");
    let text = err.to_string();
    assert!(
        text.contains("feature `web/encryption`: no package of the workspace declares it")
            && text.contains("store/encryption-vendored"),
        "{text}"
    );
}

const FEATURES: &str = r#"
//- /Cargo.toml
[workspace]
members = ["crates/*"]
//- /crates/store/Cargo.toml
[package]
name = "store"
version = "0.1.0"
[features]
default = ["bundled"]
bundled = ["fast"]
fast = []
full = []
encryption = ["dep:keys"]
encryption-vendored = ["dep:keys"]
[dependencies]
keys = { version = "1", optional = true }
//- /crates/store/src/lib.rs
pub struct Store;
impl Store {
    #[cfg(any(feature = "encryption", feature = "encryption-vendored"))]
    pub fn open_encrypted() -> Self { Store::open() }
    #[cfg(not(feature = "encryption"))]
    pub fn open_plain() -> Self { Store::open() }
    pub fn open() -> Self { Store }
}
#[cfg(feature = "fast")]
pub fn quick() { Store::open(); }
#[cfg(all(feature = "fast", not(feature = "bundled")))]
pub fn never() { Store::open(); }
#[cfg(feature = "full")]
pub fn complete() { Store::open(); }
#[cfg(feature = "keys")]
pub fn with_keys() { Store::open(); }
#[cfg(feature = "undeclared")]
pub fn unknown() { Store::open(); }
#[cfg(sqlite)]
pub fn by_build_script() { Store::open(); }
//- /crates/web/Cargo.toml
[package]
name = "web"
version = "0.1.0"
[dependencies]
store = { path = "../store", features = ["full"] }
//- /crates/web/src/lib.rs
pub fn serve() { store::complete(); }
"#;

/// In a trait's default body, `Self::assoc()` and `self.method()` land in
/// the trait's own items (its default bodies and every impl's).
#[test]
fn self_in_trait_default_bodies() {
    check(
        &lib(r#"
pub trait Store {
    fn table() -> &'static str;
    fn key(&self) -> String;
    fn describe(&self) -> String {
        format!("{}:{}", Self::table(), self.key())
    }
    fn prefix() -> String {
        Self::table().to_owned()
    }
}
pub struct Users;
impl Store for Users {
    fn table() -> &'static str { "users" }
    fn key(&self) -> String { String::new() }
}
"#),
        expect![[r#"
            app::Store::describe -> <app::Users as app::Store>::key (call)
            app::Store::describe -> <app::Users as app::Store>::table (call)
            app::Store::prefix -> <app::Users as app::Store>::table (call)
        "#]],
    );
}

/// A type a workspace macro writes (`make_error! { .. }`), with its
/// `impl` blocks written out: its associated fns are reached by its name,
/// also from a macro body's `$crate::` path.
#[test]
fn associated_fns_of_a_type_a_macro_writes() {
    check(
        &lib(r#"
#[macro_use]
pub mod error {
    macro_rules! make_error {
        ($($name:ident),+) => { pub struct Failure { $($name: String),+ } };
    }
    make_error!(message, detail);
    impl Failure {
        pub fn new_msg(m: &str) -> Self { todo!() }
    }
    #[macro_export]
    macro_rules! fail {
        ($msg:expr) => {{ return Err($crate::error::Failure::new_msg($msg)); }};
    }
}
pub use error::Failure;
pub mod api {
    use crate::error::Failure;
    pub fn create() -> Result<(), Failure> {
        fail!("no name")
    }
    pub fn update() -> Result<(), Failure> {
        Err(Failure::new_msg("bad"))
    }
    pub fn parse(s: &str) -> Result<u32, crate::Failure> {
        s.parse().map_err(|_| crate::Failure::new_msg("not a number"))
    }
}
"#),
        expect![[r#"
            app::api::create -> app::error::Failure::new_msg (call)
            app::api::parse -> app::error::Failure::new_msg (call)
            app::api::update -> app::error::Failure::new_msg (call)
        "#]],
    );
}

/// A `use` inside a fn body brings its name in for that body; a struct
/// literal written `Self { .. }` is of the impl's type; `into_inner()` of
/// an extractor gives what it holds; a `match` arm binding nothing and an
/// `if` give their branch's value (`if let Some(v) = x { v }` what x wraps).
#[test]
fn uses_inside_bodies_and_self_literals() {
    check(
        &lib(r#"
pub mod util {
    pub fn format_date(d: &u64) -> String { String::new() }
}
pub struct Group { pub id: u32 }
impl Group {
    pub fn new(id: u32) -> Self {
        let mut g = Self { id };
        g.set_external_id(None);
        g
    }
    pub fn set_external_id(&mut self, id: Option<String>) {}
    pub fn to_json(&self) -> String {
        use crate::util::format_date;
        format_date(&0)
    }
}
pub struct Team;
impl Team {
    pub fn set_external_id(&mut self, id: Option<String>) {}
    pub fn rename(&self) {}
}
pub struct Request { pub team: Team }
impl Request {
    pub fn rename(&self) {}
}
pub fn post_group(data: axum::Json<Request>) {
    let req = data.into_inner();
    req.rename();
}
pub fn find(id: u32) -> Option<Request> { None }
fn audit() {}
pub fn register(id: u32, open: bool) {
    let req = match find(id) {
        Some(r) => {
            audit();
            r
        }
        None => {
            if open { Request { team: Team } } else { return; }
        }
    };
    req.rename();
}
pub fn rename_found(id: u32) {
    let req = if let Some(found) = find(id) { found } else { return };
    req.rename();
}
"#),
        expect![[r#"
            app::Group::new -> app::Group::set_external_id (call)
            app::Group::to_json -> app::util::format_date (call)
            app::post_group -> app::Request::rename (call)
            app::register -> app::Request::rename (call)
            app::register -> app::audit (call)
            app::register -> app::find (call)
            app::rename_found -> app::Request::rename (call)
            app::rename_found -> app::find (call)
        "#]],
    );
}

/// A body's `use` of a module under another name, its glob `use`, and its
/// block-scoped `extern crate self as ..`: calls through them resolve (in
/// any block of the fn), as do the same paths from the module.
#[test]
fn calls_through_a_bodys_imports_resolve() {
    check(
        &lib(r#"
mod web {
    pub mod router {
        pub fn build() {}
        pub fn layers() {}
    }
}
pub fn serve() {
    use crate::web::router as r;
    r::build();
    {
        extern crate self as me;
        me::web::router::layers();
    }
}
pub fn serve_glob() {
    if true {
        use crate::web::router::*;
        build();
    }
}
"#),
        expect![[r#"
            app::serve -> app::web::router::build (call)
            app::serve -> app::web::router::layers (call)
            app::serve_glob -> app::web::router::build (call)
        "#]],
    );
}
