//! The multi-crate shape of the bench corpus (`analyze --generate-workspace
//! DIR`): a 40-crate workspace written from nothing, deterministically (the
//! same bytes on every run, nothing copied from a real app).
//!
//! It has what large service workspaces have and the pinned crates of
//! `tools/bench-corpus` lack: many small crates with path dependencies
//! between members (through `[workspace.dependencies]`), a shared crate of
//! `macro_rules!` invoked everywhere (items, statements, `json!`-like
//! arguments that parse as no expression), derive-heavy types with serde
//! attributes, `#[tracing::instrument]` and actix `#[get(..)]` attribute
//! macros, and an actix app crate on top that mounts every domain.
//!
//! Layout: `crates/macros`, `crates/kernel`, 37 domain crates
//! `crates/<domain>` (each: `lib.rs`, `error.rs`, one `model/<entity>.rs`
//! per entity, `repo.rs`, `service.rs`, `handlers.rs`), and `crates/app`.

use std::fmt::Write as _;
use std::path::Path;

/// Domain crates (37, plus `macros`, `kernel` and `app`: 40).
const DOMAINS: [&str; 37] = [
    "accounts",
    "audit",
    "billing",
    "catalog",
    "checkout",
    "comments",
    "coupons",
    "delivery",
    "disputes",
    "documents",
    "emails",
    "exports",
    "feeds",
    "files",
    "gifts",
    "imports",
    "inbox",
    "invoices",
    "ledger",
    "loyalty",
    "media",
    "members",
    "orders",
    "payouts",
    "pricing",
    "profiles",
    "quotas",
    "ratings",
    "refunds",
    "reports",
    "reviews",
    "search",
    "shipping",
    "stock",
    "tickets",
    "vendors",
    "webhooks",
];

/// Entities of a domain are named from these, `ENTITIES` per crate.
const NOUNS: [&str; 12] = [
    "record", "draft", "batch", "entry", "note", "rule", "slot", "token", "event", "label",
    "period", "limit",
];
const ENTITIES: usize = 8;

/// Writes the workspace under `dir` (which must not exist or be empty);
/// returns the number of files written.
pub fn generate(dir: &Path) -> Result<usize, String> {
    let mut files: Vec<(String, String)> = Vec::new();
    let mut members = String::new();
    for d in ["macros", "kernel"].iter().chain(DOMAINS.iter()) {
        writeln!(members, "{d} = {{ path = \"crates/{d}\" }}").ok();
    }
    files.push((
        "Cargo.toml".into(),
        format!(
            "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n\n\
             [workspace.dependencies]\n\
             actix-web = \"4\"\nserde = {{ version = \"1\", features = [\"derive\"] }}\n\
             serde_json = \"1\"\ntracing = \"0.1\"\ntokio = {{ version = \"1\", features = [\"full\"] }}\n\
             {members}"
        ),
    ));
    files.push(manifest("macros", &[]));
    files.push(("crates/macros/src/lib.rs".into(), MACROS.into()));
    files.push(manifest("kernel", &["macros", "serde"]));
    files.push(("crates/kernel/src/lib.rs".into(), KERNEL.into()));
    for (i, d) in DOMAINS.iter().enumerate() {
        let deps = domain_deps(i);
        let mut names: Vec<&str> = vec!["macros", "kernel", "serde", "serde_json", "tracing"];
        names.push("actix-web");
        names.extend(deps.iter().map(|&j| DOMAINS[j]));
        files.push(manifest(d, &names));
        domain(i, &mut files);
    }
    let mut app_deps: Vec<&str> = vec!["actix-web", "tokio", "tracing", "kernel"];
    app_deps.extend(DOMAINS);
    files.push(manifest("app", &app_deps));
    files.push(("crates/app/src/main.rs".into(), app()));

    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(files.len())
}

/// The earlier domains domain `i` depends on (a DAG: one to three edges down).
fn domain_deps(i: usize) -> Vec<usize> {
    let mut deps: Vec<usize> = [i.checked_sub(1), i.checked_sub(3), Some(i / 4)]
        .into_iter()
        .flatten()
        .filter(|&j| j < i)
        .collect();
    deps.sort_unstable();
    deps.dedup();
    deps
}

fn manifest(name: &str, deps: &[&str]) -> (String, String) {
    let mut text = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n"
    );
    for d in deps {
        writeln!(text, "{d}.workspace = true").ok();
    }
    (format!("crates/{name}/Cargo.toml"), text)
}

/// `order_line` -> `OrderLine`.
fn camel(s: &str) -> String {
    s.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn entities(i: usize) -> Vec<String> {
    (0..ENTITIES)
        .map(|k| {
            let noun = NOUNS[(i * 5 + k) % NOUNS.len()];
            let stem = DOMAINS[i].trim_end_matches('s');
            format!("{stem}_{noun}")
        })
        .collect()
}

fn domain(i: usize, files: &mut Vec<(String, String)>) {
    let d = DOMAINS[i];
    let es = entities(i);
    let base = format!("crates/{d}/src");
    let mut lib = format!(
        "//! The {d} domain: models, storage, service and HTTP handlers.\n\n\
         #![forbid(unsafe_code)]\n\n\
         pub mod error;\npub mod handlers;\npub mod model;\npub mod repo;\npub mod service;\n\n\
         pub use error::Error;\npub use service::Service;\n\n\
         /// What this domain exports to its dependents.\n\
         pub type Result<T> = std::result::Result<T, Error>;\n\n\
         #[cfg(test)]\nmod tests {{\n    use super::*;\n\n    #[test]\n    fn errors_display() {{\n\
         \x20       assert_eq!(Error::NotFound(\"x\".into()).to_string(), \"not found: x\");\n    }}\n}}\n"
    );
    lib.push('\n');
    files.push((format!("{base}/lib.rs"), lib));
    files.push((format!("{base}/error.rs"), error_rs(i)));
    let mut model = String::from("//! Records of this domain, one module each.\n\n");
    for e in &es {
        writeln!(model, "pub mod {e};").ok();
    }
    model.push('\n');
    for e in &es {
        writeln!(model, "pub use {e}::{{{}, {}Id}};", camel(e), camel(e)).ok();
    }
    files.push((format!("{base}/model.rs"), model));
    for (k, e) in es.iter().enumerate() {
        files.push((format!("{base}/model/{e}.rs"), model_rs(i, k, e)));
    }
    files.push((format!("{base}/repo.rs"), repo_rs(i, &es)));
    files.push((format!("{base}/service.rs"), service_rs(i, &es)));
    files.push((format!("{base}/handlers.rs"), handlers_rs(i, &es)));
}

fn error_rs(i: usize) -> String {
    let d = DOMAINS[i];
    let mut s = format!(
        "//! Errors of the {d} domain.\n\nuse macros::impl_error;\n\n\
         #[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]\n\
         #[serde(tag = \"error\", content = \"detail\", rename_all = \"snake_case\")]\n\
         pub enum Error {{\n    NotFound(String),\n    Invalid(&'static str),\n    Conflict {{ id: String, version: u64 }},\n\
         \x20   Storage(kernel::StorageError),\n"
    );
    for j in domain_deps(i) {
        writeln!(s, "    {}({}::Error),", camel(DOMAINS[j]), DOMAINS[j]).ok();
    }
    s.push_str("}\n\nimpl_error! {\n    Error,\n    NotFound(x) => \"not found: {}\", x;\n    Invalid(x) => \"invalid: {}\", x;\n}\n\n");
    s.push_str("macros::impl_from! { Error: kernel::StorageError => Storage }\n");
    for j in domain_deps(i) {
        writeln!(
            s,
            "macros::impl_from! {{ Error: {}::Error => {} }}",
            DOMAINS[j],
            camel(DOMAINS[j])
        )
        .ok();
    }
    s.push_str(
        "\nimpl actix_web::ResponseError for Error {\n    fn status_code(&self) -> actix_web::http::StatusCode {\n\
         \x20       match self {\n            Error::NotFound(_) => actix_web::http::StatusCode::NOT_FOUND,\n\
         \x20           Error::Invalid(_) => actix_web::http::StatusCode::BAD_REQUEST,\n\
         \x20           Error::Conflict { .. } => actix_web::http::StatusCode::CONFLICT,\n\
         \x20           _ => actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,\n        }\n    }\n}\n",
    );
    s
}

fn model_rs(i: usize, k: usize, e: &str) -> String {
    let t = camel(e);
    let d = DOMAINS[i];
    let fields = 10 + (i + k) % 7;
    let mut s = format!(
        "//! A {e} of the {d} domain.\n\n\
         use kernel::{{Money, Page, Timestamp}};\nuse macros::{{define_id, ensure, entity}};\n\
         use serde::{{Deserialize, Serialize}};\n\nuse crate::Error;\n\n\
         define_id!({t}Id, \"{}\");\n\n",
        &e[..3]
    );
    // The record, derive-heavy, with serde attributes on its fields.
    s.push_str(
        "#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]\n\
         #[serde(rename_all = \"camelCase\", deny_unknown_fields)]\n",
    );
    writeln!(s, "pub struct {t} {{\n    pub id: {t}Id,\n    pub owner: kernel::OwnerId,\n    #[serde(default)]\n    pub name: String,\n    pub status: {t}Status,\n    pub amount: Money,\n    pub created_at: Timestamp,\n    #[serde(skip_serializing_if = \"Option::is_none\")]\n    pub note: Option<String>,\n    #[serde(default, skip_serializing_if = \"Vec::is_empty\")]\n    pub tags: Vec<String>,").ok();
    for f in 0..fields {
        let ty = ["u64", "String", "bool", "Option<u32>", "Vec<u8>", "i64"][f % 6];
        if f % 3 == 0 {
            writeln!(s, "    #[serde(rename = \"f{f}\", default)]").ok();
        }
        writeln!(s, "    pub field_{f}: {ty},").ok();
    }
    s.push_str("}\n\n");
    writeln!(s, "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]\n#[serde(rename_all = \"snake_case\")]\npub enum {t}Status {{\n    #[default]\n    Draft,\n    Active,\n    Suspended,\n    Archived,\n}}\n").ok();
    // The entity! macro: an item-position invocation that generates items.
    writeln!(s, "entity! {{\n    {t} {{\n        id: {t}Id,\n        name: String,\n        amount: Money,\n        status: {t}Status,\n    }}\n}}\n").ok();
    writeln!(s, "/// What a client sends to create a {e}.\n#[derive(Debug, Clone, Deserialize, Serialize)]\n#[serde(rename_all = \"camelCase\")]\npub struct New{t} {{\n    pub name: String,\n    pub amount: Money,\n    #[serde(default)]\n    pub note: Option<String>,\n    #[serde(default)]\n    pub tags: Vec<String>,\n}}\n").ok();
    writeln!(s, "/// A page of {e}s.\n#[derive(Debug, Clone, Serialize)]\npub struct {t}Page {{\n    pub items: Vec<{t}>,\n    pub page: Page,\n}}\n").ok();
    writeln!(s, "impl {t} {{").ok();
    writeln!(s, "    pub fn new(owner: kernel::OwnerId, input: New{t}, now: Timestamp) -> Result<Self, Error> {{\n        ensure!(!input.name.is_empty(), Error::Invalid(\"name\"));\n        ensure!(input.amount.cents >= 0, Error::Invalid(\"amount\"));\n        Ok(Self {{\n            id: {t}Id::generate(),\n            owner,\n            name: input.name.trim().to_owned(),\n            status: {t}Status::Draft,\n            amount: input.amount,\n            created_at: now,\n            note: input.note,\n            tags: input.tags,").ok();
    for f in 0..fields {
        writeln!(s, "            field_{f}: Default::default(),").ok();
    }
    s.push_str("        })\n    }\n\n");
    writeln!(s, "    pub fn validate(&self) -> Result<(), Error> {{\n        ensure!(self.name.len() <= 200, Error::Invalid(\"name too long\"));\n        ensure!(self.tags.len() <= 16, Error::Invalid(\"too many tags\"));\n        if self.status == {t}Status::Archived && self.amount.cents != 0 {{\n            return Err(Error::Conflict {{ id: self.id.to_string(), version: 0 }});\n        }}\n        Ok(())\n    }}\n").ok();
    writeln!(s, "    pub fn transition(&mut self, to: {t}Status) -> Result<(), Error> {{\n        let allowed = matches!(\n            (self.status, to),\n            ({t}Status::Draft, {t}Status::Active)\n                | ({t}Status::Active, {t}Status::Suspended)\n                | ({t}Status::Suspended, {t}Status::Active)\n                | (_, {t}Status::Archived)\n        );\n        ensure!(allowed, Error::Invalid(\"transition\"));\n        macros::log_event!(target: \"{d}\", \"{e} {{}} -> {{:?}}\", self.id, to; level = info);\n        self.status = to;\n        Ok(())\n    }}\n").ok();
    writeln!(s, "    pub fn summary(&self) -> serde_json::Value {{\n        macros::payload!({{\n            \"id\": self.id.to_string(),\n            \"name\": self.name,\n            \"status\": format!(\"{{:?}}\", self.status),\n            \"amount\": {{ \"cents\": self.amount.cents, \"currency\": self.amount.currency }},\n            \"tags\": [self.tags.len(), 0],\n        }})\n    }}").ok();
    for f in 0..fields {
        let ty = ["u64", "String", "bool", "Option<u32>", "Vec<u8>", "i64"][f % 6];
        writeln!(
            s,
            "\n    pub fn field_{f}(&self) -> &{ty} {{\n        &self.field_{f}\n    }}"
        )
        .ok();
    }
    s.push_str("}\n");
    s
}

fn repo_rs(i: usize, es: &[String]) -> String {
    let d = DOMAINS[i];
    let mut s = format!(
        "//! Storage of the {d} domain.\n\nuse kernel::{{Page, Pool, StorageError}};\nuse macros::sql;\n\nuse crate::model::*;\n\n\
         #[derive(Clone)]\npub struct Repo {{\n    pool: Pool,\n}}\n\nimpl Repo {{\n    pub fn new(pool: Pool) -> Self {{\n        Self {{ pool }}\n    }}\n"
    );
    for e in es {
        let t = camel(e);
        writeln!(s, "\n    #[tracing::instrument(level = \"debug\", skip(self))]\n    pub async fn find_{e}(&self, id: &{t}Id) -> Result<Option<{t}>, StorageError> {{\n        let row = sql!(self.pool, \"SELECT * FROM {e} WHERE id = $1\", id.as_str())?;\n        tracing::debug!(found = row.is_some(), \"find_{e}\");\n        Ok(row.map(|r| r.decode::<{t}>()).transpose()?)\n    }}").ok();
        writeln!(s, "\n    #[tracing::instrument(level = \"debug\", skip(self))]\n    pub async fn list_{e}(&self, page: Page) -> Result<Vec<{t}>, StorageError> {{\n        let rows = sql!(self.pool, \"SELECT * FROM {e} ORDER BY created_at LIMIT $1 OFFSET $2\", page.limit, page.offset)?;\n        rows.into_iter().map(|r| r.decode::<{t}>()).collect()\n    }}").ok();
        writeln!(s, "\n    #[tracing::instrument(level = \"debug\", skip(self, value), fields(id = %value.id))]\n    pub async fn save_{e}(&self, value: &{t}) -> Result<(), StorageError> {{\n        value.validate().map_err(|_| StorageError::Rejected)?;\n        let mut tx = self.pool.begin().await?;\n        sql!(tx, \"INSERT INTO {e} (id, name, amount) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = $2\", value.id.as_str(), &value.name, value.amount.cents)?;\n        tx.commit().await?;\n        Ok(())\n    }}").ok();
        writeln!(s, "\n    pub async fn delete_{e}(&self, id: &{t}Id) -> Result<bool, StorageError> {{\n        let n = sql!(self.pool, \"DELETE FROM {e} WHERE id = $1\", id.as_str())?;\n        Ok(n.affected() > 0)\n    }}").ok();
    }
    s.push_str("}\n");
    s
}

fn service_rs(i: usize, es: &[String]) -> String {
    let d = DOMAINS[i];
    let deps = domain_deps(i);
    let mut s = format!(
        "//! The {d} service: rules over the repository and the domains it calls.\n\n\
         use std::sync::Arc;\n\nuse kernel::{{Clock, Page}};\nuse macros::{{ensure, log_event, retry}};\n\n\
         use crate::model::*;\nuse crate::repo::Repo;\nuse crate::{{Error, Result}};\n\n\
         #[derive(Clone)]\npub struct Service {{\n    repo: Repo,\n    clock: Arc<dyn Clock>,\n"
    );
    for &j in &deps {
        writeln!(s, "    {}: {}::Service,", DOMAINS[j], DOMAINS[j]).ok();
    }
    s.push_str("}\n\nimpl Service {\n    pub fn new(repo: Repo, clock: Arc<dyn Clock>");
    for &j in &deps {
        write!(s, ", {}: {}::Service", DOMAINS[j], DOMAINS[j]).ok();
    }
    s.push_str(") -> Self {\n        Self {\n            repo,\n            clock,\n");
    for &j in &deps {
        writeln!(s, "            {},", DOMAINS[j]).ok();
    }
    s.push_str("        }\n    }\n");
    for (k, e) in es.iter().enumerate() {
        let t = camel(e);
        writeln!(s, "\n    #[tracing::instrument(skip(self), fields(domain = \"{d}\"))]\n    pub async fn get_{e}(&self, id: &str) -> Result<{t}> {{\n        let id: {t}Id = id.parse().map_err(|_| Error::Invalid(\"id\"))?;\n        self.repo\n            .find_{e}(&id)\n            .await?\n            .ok_or_else(|| Error::NotFound(id.to_string()))\n    }}").ok();
        writeln!(s, "\n    #[tracing::instrument(skip(self))]\n    pub async fn list_{e}(&self, page: Page) -> Result<{t}Page> {{\n        ensure!(page.limit <= 100, Error::Invalid(\"limit\"));\n        let items = retry!(3, self.repo.list_{e}(page.clone()).await)?;\n        Ok({t}Page {{ items, page }})\n    }}").ok();
        write!(s, "\n    #[tracing::instrument(skip(self, input), fields(owner = %owner))]\n    pub async fn create_{e}(&self, owner: kernel::OwnerId, input: New{t}) -> Result<{t}> {{\n        let value = {t}::new(owner, input, self.clock.now())?;\n").ok();
        if let Some(&j) = deps.get(k % deps.len().max(1)) {
            let other = entities(j)[k % ENTITIES].clone();
            writeln!(s, "        let related = self.{}.list_{other}(Page::first(1)).await?;\n        log_event!(target: \"{d}\", \"checked {{}} related\", related.items.len(); level = debug);", DOMAINS[j]).ok();
        }
        writeln!(s, "        self.repo.save_{e}(&value).await?;\n        log_event!(target: \"{d}\", \"created {e} {{}}\", value.id; level = info);\n        Ok(value)\n    }}").ok();
        writeln!(s, "\n    #[tracing::instrument(skip(self))]\n    pub async fn archive_{e}(&self, id: &str) -> Result<{t}> {{\n        let mut value = self.get_{e}(id).await?;\n        value.transition({t}Status::Archived)?;\n        self.repo.save_{e}(&value).await?;\n        Ok(value)\n    }}").ok();
        writeln!(s, "\n    pub async fn delete_{e}(&self, id: &str) -> Result<()> {{\n        let value = self.get_{e}(id).await?;\n        let gone = self.repo.delete_{e}(&value.id).await?;\n        ensure!(gone, Error::Conflict {{ id: value.id.to_string(), version: 1 }});\n        Ok(())\n    }}").ok();
    }
    s.push_str("}\n");
    s
}

fn handlers_rs(i: usize, es: &[String]) -> String {
    let d = DOMAINS[i];
    let mut s = format!(
        "//! HTTP handlers of the {d} domain (actix-web attribute routes).\n\n\
         use actix_web::{{delete, get, post, web, HttpResponse}};\nuse kernel::{{OwnerId, Page}};\n\n\
         use crate::model::*;\nuse crate::{{Result, Service}};\n\n\
         /// Mounts this domain's routes under `/{d}`.\npub fn configure(cfg: &mut web::ServiceConfig) {{\n    cfg.service(\n        web::scope(\"/{d}\")"
    );
    for e in es {
        write!(s, "\n            .service(get_{e})\n            .service(list_{e})\n            .service(create_{e})\n            .service(delete_{e})").ok();
    }
    s.push_str(",\n    );\n}\n");
    for e in es {
        let t = camel(e);
        let url = e.replace('_', "-");
        writeln!(s, "\n#[get(\"/{url}/{{id}}\")]\nasync fn get_{e}(svc: web::Data<Service>, id: web::Path<String>) -> Result<HttpResponse> {{\n    let value = svc.get_{e}(&id).await?;\n    Ok(HttpResponse::Ok().json(value))\n}}").ok();
        writeln!(s, "\n#[get(\"/{url}\")]\nasync fn list_{e}(svc: web::Data<Service>, page: web::Query<Page>) -> Result<HttpResponse> {{\n    let page = svc.list_{e}(page.into_inner()).await?;\n    Ok(HttpResponse::Ok().json(page))\n}}").ok();
        writeln!(s, "\n#[post(\"/{url}\")]\nasync fn create_{e}(\n    svc: web::Data<Service>,\n    owner: OwnerId,\n    body: web::Json<New{t}>,\n) -> Result<HttpResponse> {{\n    let value = svc.create_{e}(owner, body.into_inner()).await?;\n    Ok(HttpResponse::Created().json(value.summary()))\n}}").ok();
        writeln!(s, "\n#[delete(\"/{url}/{{id}}\")]\nasync fn delete_{e}(svc: web::Data<Service>, id: web::Path<String>) -> Result<HttpResponse> {{\n    svc.delete_{e}(&id).await?;\n    Ok(HttpResponse::NoContent().finish())\n}}").ok();
    }
    s
}

fn app() -> String {
    let mut s = String::from(
        "//! The app: every domain's routes on one actix server.\n\n\
         use std::sync::Arc;\n\nuse actix_web::{web, App, HttpServer};\n\n\
         #[actix_web::main]\nasync fn main() -> std::io::Result<()> {\n\
         \x20   let pool = kernel::Pool::connect(&std::env::var(\"DATABASE_URL\").unwrap_or_default());\n\
         \x20   let clock: Arc<dyn kernel::Clock> = Arc::new(kernel::SystemClock);\n",
    );
    for (i, d) in DOMAINS.iter().enumerate() {
        write!(
            s,
            "    let {d} = {d}::Service::new({d}::repo::Repo::new(pool.clone()), clock.clone()"
        )
        .ok();
        for j in domain_deps(i) {
            write!(s, ", {}.clone()", DOMAINS[j]).ok();
        }
        s.push_str(");\n");
    }
    s.push_str("    HttpServer::new(move || {\n        App::new()\n");
    for d in DOMAINS {
        writeln!(s, "            .app_data(web::Data::new({d}.clone()))\n            .configure({d}::handlers::configure)").ok();
    }
    s.push_str("    })\n    .bind((\"0.0.0.0\", 8080))?\n    .run()\n    .await\n}\n");
    s
}

/// The shared macros, invoked from every domain crate.
const MACROS: &str = r#"//! Macros shared by every crate of the workspace.

/// A typed string id with a prefix: `define_id!(OrderId, "ord");`.
#[macro_export]
macro_rules! define_id {
    ($name:ident, $prefix:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn generate() -> Self {
                Self(format!("{}_{}", $prefix, kernel::next_id()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();
            fn from_str(s: &str) -> Result<Self, ()> {
                if s.starts_with($prefix) { Ok(Self(s.to_owned())) } else { Err(()) }
            }
        }
    };
}

/// Returns `Err($err)` unless `$cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $err:expr $(,)?) => {
        if !$cond {
            return Err($err.into());
        }
    };
}

/// Accessors and a change log for a record's listed fields.
#[macro_export]
macro_rules! entity {
    ($ty:ident { $($field:ident : $fty:ty),* $(,)? }) => {
        impl $ty {
            $(
                pub fn $field(&self) -> &$fty {
                    &self.$field
                }
            )*
            pub fn changed_fields(&self, other: &Self) -> Vec<&'static str> {
                let mut out = Vec::new();
                $( if self.$field != other.$field { out.push(stringify!($field)); } )*
                out
            }
        }
    };
}

/// A structured log line: `log_event!(target: "x", "fmt {}", a; level = info)`.
#[macro_export]
macro_rules! log_event {
    (target: $target:literal, $($arg:expr),+ ; level = $level:ident) => {
        tracing::event!(target: $target, tracing::Level::INFO, level = stringify!($level), message = format!($($arg),+))
    };
}

/// A JSON value from JSON-like tokens.
#[macro_export]
macro_rules! payload {
    ($($json:tt)+) => {
        serde_json::json!($($json)+)
    };
}

/// Runs a query on a pool or transaction.
#[macro_export]
macro_rules! sql {
    ($conn:expr, $query:literal $(, $arg:expr)* $(,)?) => {
        $conn.execute($query, &[$(&$arg as &dyn kernel::ToSql),*])
    };
}

/// Retries an expression that returns a `Result` up to `$n` times.
#[macro_export]
macro_rules! retry {
    ($n:expr, $e:expr) => {{
        let mut left = $n;
        loop {
            match $e {
                Ok(v) => break Ok(v),
                Err(e) if left > 1 => {
                    left -= 1;
                    tracing::warn!(error = ?e, left, "retrying");
                }
                Err(e) => break Err(e),
            }
        }
    }};
}

/// `Display` for an error enum from `Variant(x) => "fmt", x;` rules.
#[macro_export]
macro_rules! impl_error {
    ($ty:ident, $($variant:ident($x:ident) => $fmt:literal, $arg:expr;)*) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    $( $ty::$variant($x) => write!(f, $fmt, $arg), )*
                    other => write!(f, "{:?}", other),
                }
            }
        }
        impl std::error::Error for $ty {}
    };
}

/// `From<$from> for $ty` through the variant `$variant`.
#[macro_export]
macro_rules! impl_from {
    ($ty:ident : $from:ty => $variant:ident) => {
        impl From<$from> for $ty {
            fn from(e: $from) -> Self {
                $ty::$variant(e)
            }
        }
    };
}
"#;

/// The kernel every domain builds on.
const KERNEL: &str = r#"//! Types every domain shares: money, time, paging, storage.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

static NEXT: AtomicU64 = AtomicU64::new(1);

pub fn next_id() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct Money {
    pub cents: i64,
    pub currency: [u8; 3],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct Timestamp(pub i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct OwnerId(pub u64);

impl std::fmt::Display for OwnerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "owner-{}", self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub limit: u32,
    pub offset: u32,
}

impl Page {
    pub fn first(limit: u32) -> Self {
        Page { limit, offset: 0 }
    }
}

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(d.as_secs() as i64)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum StorageError {
    Unavailable,
    Rejected,
}

pub trait ToSql {}

pub struct Row;

impl Row {
    pub fn decode<T>(self) -> Result<T, StorageError> {
        Err(StorageError::Unavailable)
    }
}

#[derive(Clone)]
pub struct Pool {
    url: String,
}

impl Pool {
    pub fn connect(url: &str) -> Self {
        Pool { url: url.to_owned() }
    }
    pub async fn begin(&self) -> Result<Pool, StorageError> {
        Ok(self.clone())
    }
    pub async fn commit(self) -> Result<(), StorageError> {
        Ok(())
    }
    pub fn execute(&self, _query: &str, _args: &[&dyn ToSql]) -> Result<Rows, StorageError> {
        let _ = &self.url;
        Err(StorageError::Unavailable)
    }
}

pub struct Rows(Vec<Row>);

impl Rows {
    pub fn affected(&self) -> usize {
        self.0.len()
    }
    pub fn is_some(&self) -> bool {
        !self.0.is_empty()
    }
}
"#;
