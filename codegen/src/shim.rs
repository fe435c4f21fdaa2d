//! The server shim in the generated workspace: `crates/cleave-lambda` (the
//! route guard and what every facade needs on Lambda) and one facade per
//! framework, `crates/cleave-lambda-<framework>`, a crate that re-exports
//! the real framework whole and shadows its server entry points.
//!
//! The copied code reaches the shim by a dependency rename, never a source
//! edit: every manifest's framework dependency becomes
//! `axum = { package = "cleave-lambda-axum", path = .. }`, so each path that
//! names `axum::serve` (in any fn, any crate, `use` groups and macros
//! included) resolves to the facade. The facade depends on the real
//! framework at the monolith's locked version, with `default` and every
//! feature the workspace asks for forwarded to it.
//!
//! The sources are real files of this repository (`codegen/shim/`),
//! embedded here and compiled by the end-to-end tests that build generated
//! workspaces; the guard is also unit-tested inside this crate.

use std::collections::{BTreeMap, BTreeSet};

use cleave_analyzer::entrypoints::Framework;
use toml_edit::{DocumentMut, InlineTable, Item, Table, Value, value};

use crate::Tree;
use crate::docs::Edit;
use crate::manifest;

/// Where the shim's crates go in the generated workspace.
pub const SHIM_DIR: &str = "crates/cleave-lambda";

const GUARD_RS: &str = include_str!("../shim/cleave-lambda/src/guard.rs");
const LIB_RS: &str = include_str!("../shim/cleave-lambda/src/lib.rs");
const FORWARD_RS: &str = include_str!("../shim/cleave-lambda/src/forward.rs");
const WORKER_RS: &str = include_str!("../shim/cleave-lambda/src/worker.rs");

type Sources = &'static [(&'static str, &'static str)];
type Deps = &'static [(&'static str, &'static str, &'static [&'static str], bool)];

/// One facade's crate for a series of the framework's versions.
#[derive(Debug)]
struct Series {
    /// The version requirements it mirrors, by prefix (`0.7.` and `0.7`);
    /// empty for the newest series, which takes any other version.
    versions: &'static [&'static str],
    /// Features of the real framework the facade's own code needs.
    real_features: &'static [&'static str],
    /// The facade's dependencies besides the framework and `cleave-lambda`:
    /// `(name, version, features, only with the native adapter)`.
    deps: Deps,
    /// `cleave-lambda` features its `native` feature also enables
    /// (`forward`: the loop that forwards events to a local server).
    shim_features: &'static [&'static str],
    /// Features the facade always declares (its code tests them), and
    /// whether each is forwarded to the real framework even when the
    /// workspace does not ask for it (the real framework has it) or
    /// declared empty unless asked (this series of the framework lacks
    /// it). The features of [`FEATURE_DEPS`] are declared too.
    declared: &'static [(&'static str, bool)],
    /// `src/` files, relative path and text.
    sources: Sources,
}

/// One framework's facade.
#[derive(Debug)]
pub struct Facade {
    /// The framework's package, as manifests name it (`actix-web`).
    pub package: &'static str,
    /// The facade's package and directory name (`cleave-lambda-actix-web`).
    pub name: &'static str,
    /// The real framework's dependency key inside the facade.
    real: &'static str,
    /// The series it mirrors, newest first.
    series: &'static [Series],
    /// For MIGRATION.md: how a function keeps to its routes, completing
    /// "Every function builds the monolith's whole app (...) and" (a
    /// companion's: a sentence of its own, after its framework's).
    pub guard: &'static str,
    /// For MIGRATION.md, native adapter: how a Lambda event reaches the app.
    pub in_process: &'static str,
}

const AXUM_LIB: (&str, &str) = (
    "lib.rs",
    include_str!("../shim/cleave-lambda-axum/src/lib.rs"),
);

/// What axum 0.7's and 0.8's `serve` modules share.
const AXUM_SERVE_SHARED: (&str, &str) = (
    "serve_shared.rs",
    include_str!("../shim/cleave-lambda-axum/src/serve_shared.rs"),
);

pub static AXUM: Facade = Facade {
    package: "axum",
    name: "cleave-lambda-axum",
    real: "axum_real",
    series: &[
        Series {
            versions: &[],
            real_features: &["tokio", "http1"],
            deps: &[
                ("tower", "0.5", &["util"], false),
                ("tokio", "1", &["rt"], false),
            ],
            shim_features: &[],
            declared: &[],
            sources: &[
                AXUM_LIB,
                AXUM_SERVE_SHARED,
                (
                    "serve.rs",
                    include_str!("../shim/cleave-lambda-axum/src/serve.rs"),
                ),
            ],
        },
        // axum 0.7: `serve` takes a tokio `TcpListener` (no `Listener`
        // trait), `Serve<M, S>` has `tcp_nodelay`; tower 0.4.
        Series {
            versions: &["0.7"],
            real_features: &["tokio", "http1"],
            deps: &[
                ("tower", "0.4", &["util"], false),
                ("tokio", "1", &["rt", "net"], false),
            ],
            shim_features: &[],
            declared: &[],
            sources: &[
                AXUM_LIB,
                AXUM_SERVE_SHARED,
                (
                    "serve.rs",
                    include_str!("../shim/cleave-lambda-axum/src/serve_07.rs"),
                ),
            ],
        },
        // axum 0.3 to 0.6: no `serve`; `axum::Server` is hyper 0.14's. On
        // Lambda the server listens on 127.0.0.1 and events are forwarded.
        Series {
            versions: &["0.6", "0.5", "0.4", "0.3"],
            real_features: &[],
            deps: &[
                ("hyper", "0.14", &["server", "tcp", "http1"], false),
                ("tower-service", "0.3", &[], false),
            ],
            shim_features: &["forward"],
            declared: &[],
            sources: &[
                (
                    "lib.rs",
                    include_str!("../shim/cleave-lambda-axum/src/lib_hyper014.rs"),
                ),
                (
                    "server.rs",
                    include_str!("../shim/cleave-lambda-axum/src/server.rs"),
                ),
            ],
        },
    ],
    guard: "serves it through `cleave-lambda-axum`'s `serve` (or `Server`, axum 0.6 and older; the crate the workspace's `axum` dependency is renamed to), which answers 404 for the routes other functions own before the app sees the request.",
    in_process: "On Lambda `serve` answers each event in-process through `lambda_http`, with `ConnectInfo<SocketAddr>` from the event's source IP (port 0); with axum 0.6 and older, `Server` listens on 127.0.0.1 and each event is forwarded to it over local HTTP with `X-Real-IP` set to the event's source IP.",
};

const ACTIX_WEB_SOURCES: Sources = &[
    (
        "lib.rs",
        include_str!("../shim/cleave-lambda-actix-web/src/lib.rs"),
    ),
    (
        "server.rs",
        include_str!("../shim/cleave-lambda-actix-web/src/server.rs"),
    ),
    (
        "lambda.rs",
        include_str!("../shim/cleave-lambda-actix-web/src/lambda.rs"),
    ),
];

const ACTIX_WEB_DEPS: Deps = &[
    ("tokio", "1", &["sync", "rt"], true),
    ("tower-service", "0.3", &[], true),
];

/// actix-web's TLS features: `bind_openssl`, `bind_rustls_0_23` and the
/// rest exist under them, in the facade as in actix-web (4.0 to 4.3 have
/// only `openssl` and `rustls`).
const ACTIX_WEB_TLS: [&str; 6] = [
    "openssl",
    "rustls",
    "rustls-0_20",
    "rustls-0_21",
    "rustls-0_22",
    "rustls-0_23",
];

pub static ACTIX_WEB: Facade = Facade {
    package: "actix-web",
    name: "cleave-lambda-actix-web",
    real: "actix_web_real",
    series: &[
        Series {
            versions: &[],
            real_features: &[],
            deps: ACTIX_WEB_DEPS,
            shim_features: &[],
            declared: &[("http2", true)],
            sources: ACTIX_WEB_SOURCES,
        },
        // actix-web 4.0 to 4.3 have no `http2` feature (HTTP/2 came with
        // `rustls`/`openssl`): the facade declares it empty.
        Series {
            versions: &["4.0", "4.1", "4.2", "4.3"],
            real_features: &[],
            deps: ACTIX_WEB_DEPS,
            shim_features: &[],
            declared: &[("http2", false)],
            sources: ACTIX_WEB_SOURCES,
        },
    ],
    guard: "serves it through `cleave-lambda-actix-web`'s `HttpServer` (the crate the workspace's `actix-web` dependency is renamed to), which wraps the `App` in a guard that answers 404 for the routes other functions own before their handlers run.",
    in_process: "On Lambda `run()` binds nothing: the `App` runs on its own actix `System` thread and each event is answered in-process (`HttpRequest::peer_addr` is the event's source IP); there is no extra HTTP hop.",
};

/// Optional dependencies that features of a facade enable: `(framework,
/// dependency, version, the features)`. The real framework's feature of
/// the same name enables that crate, with the features it needs, there;
/// both see one crate. Every series declares the features, empty unless
/// asked, and the dependency only when one is, so no other lock gains it.
/// actix-web's TLS binds take configurations that only `actix-tls`'s
/// re-exports name.
const FEATURE_DEPS: [(&str, &str, &str, &[&str]); 1] =
    [("actix-web", "actix-tls", "3", &ACTIX_WEB_TLS)];

/// The rocket facade's files every series shares.
macro_rules! rocket_sources {
    ($outcome:literal) => {
        &[
            (
                "lib.rs",
                include_str!("../shim/cleave-lambda-rocket/src/lib.rs"),
            ),
            (
                "guard.rs",
                include_str!("../shim/cleave-lambda-rocket/src/guard.rs"),
            ),
            (
                "lambda.rs",
                include_str!("../shim/cleave-lambda-rocket/src/lambda.rs"),
            ),
            ("route_outcome.rs", include_str!($outcome)),
        ]
    };
}

pub static ROCKET: Facade = Facade {
    package: "rocket",
    name: "cleave-lambda-rocket",
    real: "rocket_real",
    series: &[
        Series {
            versions: &[],
            real_features: &[],
            deps: &[],
            shim_features: &["forward"],
            declared: &[],
            sources: rocket_sources!("../shim/cleave-lambda-rocket/src/route_outcome.rs"),
        },
        // The release candidates before rc.4 spell a route's outcomes
        // `Outcome::Failure(status)` and `Outcome::Forward(data)`.
        Series {
            versions: &["0.5.0-rc.1", "0.5.0-rc.2", "0.5.0-rc.3"],
            real_features: &[],
            deps: &[],
            shim_features: &["forward"],
            declared: &[],
            sources: rocket_sources!("../shim/cleave-lambda-rocket/src/route_outcome_rc.rs"),
        },
    ],
    guard: "builds it through `cleave-lambda-rocket`'s `rocket::build()`/`rocket::custom()` (the crate the workspace's `rocket` dependency is renamed to), which attach a guard: a route tried before all others answers 404 through the app's own catchers when only other functions' routes match a request, and where ranked routes of this function and another's both match, a response fairing turns an answer from the other function's route into that 404. An app built with `Rocket::build()` or `Rocket::custom()` (rocket's associated fns, which nothing can shadow) gets no guard off Lambda.",
    in_process: "On Lambda `rocket::async_main` (what `#[launch]` and `#[rocket::main]` expand to) sets `ROCKET_ADDRESS=127.0.0.1` and `ROCKET_PORT` to a free port before the app's code runs, and forwards each event to the launched server over local HTTP with `X-Real-IP` set to the event's source IP (`Request::client_ip()` reads it): `.launch()` is rocket's inherent method and cannot be shadowed, so this is one extra local hop per request.",
};

/// axum-server's facade: `bind`, `bind_rustls`, `from_tcp`, `Server`,
/// `Handle` and the rest over the real axum-server, `serve` through the
/// axum facade's guard and Lambda answer (`cleave_lambda_axum::__cleave`).
pub static AXUM_SERVER: Facade = Facade {
    package: "axum-server",
    name: "cleave-lambda-axum-server",
    real: "axum_server_real",
    series: &[
        Series {
            versions: &[],
            real_features: &[],
            deps: &[
                ("hyper", "1", &[], false),
                ("hyper-util", "0.1", &["server-auto", "tokio"], false),
                ("tokio", "1", &["sync"], false),
                ("tower-service", "0.3", &[], false),
            ],
            shim_features: &[],
            declared: &[
                ("tls-openssl", true),
                ("tls-rustls", true),
                ("tls-rustls-no-provider", true),
            ],
            sources: &[
                (
                    "lib.rs",
                    include_str!("../shim/cleave-lambda-axum-server/src/lib.rs"),
                ),
                (
                    "handle.rs",
                    include_str!("../shim/cleave-lambda-axum-server/src/handle.rs"),
                ),
                (
                    "server.rs",
                    include_str!("../shim/cleave-lambda-axum-server/src/server.rs"),
                ),
                (
                    "tls_openssl.rs",
                    include_str!("../shim/cleave-lambda-axum-server/src/tls_openssl.rs"),
                ),
                (
                    "tls_rustls.rs",
                    include_str!("../shim/cleave-lambda-axum-server/src/tls_rustls.rs"),
                ),
            ],
        },
        // axum-server 0.7: one address type (`Server<Acceptor>`, `Handle`),
        // `from_tcp` cannot fail, no unix sockets.
        Series {
            versions: &["0.7"],
            real_features: &[],
            deps: AXUM_SERVER_07_DEPS,
            shim_features: &[],
            declared: &[
                ("tls-openssl", true),
                ("tls-rustls", true),
                ("tls-rustls-no-provider", true),
            ],
            sources: AXUM_SERVER_07_SOURCES,
        },
        // axum-server 0.6: 0.7's API, without `tls-rustls-no-provider`.
        Series {
            versions: &["0.6"],
            real_features: &[],
            deps: AXUM_SERVER_07_DEPS,
            shim_features: &[],
            declared: &[
                ("tls-openssl", true),
                ("tls-rustls", true),
                ("tls-rustls-no-provider", false),
            ],
            sources: AXUM_SERVER_07_SOURCES,
        },
    ],
    guard: "An app served with axum-server goes through `cleave-lambda-axum-server`'s `Server::serve` (the crate the workspace's `axum-server` dependency is renamed to), with the same guard in front of it; TLS and the handle work as before.",
    in_process: "On Lambda that `serve` binds nothing and answers each event in-process as `serve` does; `Handle::listening()` reports the address the server was given.",
};

const AXUM_SERVER_07_DEPS: Deps = &[
    ("hyper", "1", &[], false),
    ("hyper-util", "0.1", &["server-auto", "tokio"], false),
    ("tokio", "1", &["sync", "net"], false),
    ("tower-service", "0.3", &[], false),
];

const AXUM_SERVER_07_SOURCES: Sources = &[
    (
        "lib.rs",
        include_str!("../shim/cleave-lambda-axum-server/src/lib_07.rs"),
    ),
    (
        "handle.rs",
        include_str!("../shim/cleave-lambda-axum-server/src/handle_07.rs"),
    ),
    (
        "server.rs",
        include_str!("../shim/cleave-lambda-axum-server/src/server_07.rs"),
    ),
    (
        "tls_openssl.rs",
        include_str!("../shim/cleave-lambda-axum-server/src/tls_openssl_07.rs"),
    ),
    (
        "tls_rustls.rs",
        include_str!("../shim/cleave-lambda-axum-server/src/tls_rustls_07.rs"),
    ),
];

/// Facades of packages that serve a framework's apps, each with the
/// framework facade it builds on (whose guard and Lambda answer it uses):
/// rendered when the workspace's manifests name the package.
static COMPANIONS: [(&Facade, &Facade); 1] = [(&AXUM_SERVER, &AXUM)];

/// The companions of the framework whose facade is `framework`.
pub fn companions(framework: &Facade) -> impl Iterator<Item = &'static Facade> + '_ {
    COMPANIONS
        .iter()
        .filter(move |(_, base)| base.package == framework.package)
        .map(|(companion, _)| *companion)
}

/// The framework facade a companion builds on.
fn base_of(companion: &Facade) -> Option<&'static Facade> {
    COMPANIONS
        .iter()
        .find(|(c, _)| c.package == companion.package)
        .map(|(_, base)| *base)
}

impl Facade {
    /// The series for the framework's `version` requirement (`=0.7.9`,
    /// `0.8`): the one whose prefix it has, else the newest.
    fn for_version(&self, version: &str) -> &'static Series {
        let bare = version.trim_start_matches(['=', '^', '~', ' ']);
        let newest = &self.series[0];
        self.series
            .iter()
            .find(|s| {
                s.versions
                    .iter()
                    .any(|v| bare == *v || bare.starts_with(&format!("{v}.")))
            })
            .unwrap_or(newest)
    }
}

pub fn facade(framework: Framework) -> &'static Facade {
    match framework {
        Framework::Axum => &AXUM,
        Framework::ActixWeb => &ACTIX_WEB,
        Framework::Rocket => &ROCKET,
    }
}

/// The directory of `facade` in the generated workspace.
pub fn facade_dir(facade: &Facade) -> String {
    format!("crates/{}", facade.name)
}

/// Dependency tables of a manifest, top-level and per target.
fn dep_tables(doc: &mut DocumentMut) -> Vec<&mut dyn toml_edit::TableLike> {
    const KEYS: [&str; 2] = ["dependencies", "dev-dependencies"];
    let mut out: Vec<&mut dyn toml_edit::TableLike> = Vec::new();
    let (top, targets): (Vec<_>, Vec<_>) = doc
        .as_table_mut()
        .iter_mut()
        .partition(|(k, _)| k.get() != "target");
    for (k, item) in top {
        if KEYS.contains(&k.get())
            && let Some(t) = item.as_table_like_mut()
        {
            out.push(t);
        }
    }
    for (_, item) in targets {
        let Some(targets) = item.as_table_like_mut() else {
            continue;
        };
        for (_, target) in targets.iter_mut() {
            let Some(target) = target.as_table_like_mut() else {
                continue;
            };
            for (k, t) in target.iter_mut() {
                if KEYS.contains(&k.get())
                    && let Some(t) = t.as_table_like_mut()
                {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// Whether a dependency entry `key = spec` is the framework's package.
fn names_package(key: &str, spec: &Item, package: &str) -> bool {
    match spec.as_table_like().and_then(|t| t.get("package")) {
        Some(p) => p.as_str() == Some(package),
        None => key == package,
    }
}

/// What a framework dependency spec asks of the framework: its version
/// requirement and features.
#[derive(Debug, Default)]
pub struct Asked {
    pub versions: BTreeSet<String>,
    pub features: BTreeSet<String>,
    /// Whether any manifest names the package (a companion's facade is
    /// rendered only then).
    pub named: bool,
}

/// What the manifests ask of each facade's package, by facade name.
pub type AskedOf = BTreeMap<&'static str, Asked>;

/// Points every dependency in `doc` on the framework, and on the packages
/// of its [`companions`], at their facades ([`point_at_facade`]), recording
/// what each asks in `asked`. Returns MIGRATION.md's edits for the
/// manifest `path` (as read, `text`).
pub fn point_at_facades(
    doc: &mut DocumentMut,
    dir: &str,
    framework: &'static Facade,
    asked: &mut AskedOf,
    (path, text): (&str, &str),
) -> Vec<Edit> {
    let mut edits = Vec::new();
    for facade in std::iter::once(framework).chain(companions(framework)) {
        let keys = point_at_facade(doc, dir, facade, asked.entry(facade.name).or_default());
        edits.extend(rename_edits(path, text, &keys, facade));
    }
    edits
}

/// Points every dependency on the framework in `doc` (a manifest that will
/// sit in `dir`) at the facade: `package` and `path` replace the version
/// and source; `features`, `default-features` and `optional` stay. A
/// `workspace = true` entry is left to the workspace's own table. Returns
/// the keys it rewrote, and records what they asked in `asked`.
fn point_at_facade(
    doc: &mut DocumentMut,
    dir: &str,
    facade: &Facade,
    asked: &mut Asked,
) -> Vec<String> {
    let path = manifest::relative(dir, &facade_dir(facade));
    let mut keys: Vec<String> = Vec::new();
    for table in dep_tables(doc) {
        for (key, spec) in table.iter_mut() {
            if !names_package(key.get(), spec, facade.package) {
                continue;
            }
            asked.named = true;
            if let Some(rewritten) = rewrite_spec(spec, &path, facade, asked) {
                *spec = rewritten;
                keys.push(key.get().to_owned());
            }
        }
    }
    // `[features]` entries naming the framework's features (`axum/json`).
    if let Some(features) = doc.get("features").and_then(Item::as_table_like) {
        for (_, list) in features.iter() {
            for v in list.as_array().into_iter().flatten() {
                if let Some((dep, feature)) = v.as_str().and_then(|s| s.split_once('/'))
                    && keys.iter().any(|k| k == dep.trim_end_matches('?'))
                {
                    asked.features.insert(feature.to_owned());
                }
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The MIGRATION.md edits for the framework dependencies `keys` renamed in
/// the manifest `path` (as read, `text`): one per key, at the line that
/// declares it (`axum = ..`, `axum.workspace = true`, `[dependencies.axum]`).
fn rename_edits(path: &str, text: &str, keys: &[String], facade: &Facade) -> Vec<Edit> {
    keys.iter()
        .map(|key| {
            let line = text
                .lines()
                .position(|l| {
                    let l = l.trim_start();
                    l.strip_prefix(key.as_str())
                        .is_some_and(|rest| rest.trim_start().starts_with(['=', '.']))
                        || (l.starts_with('[') && l.trim_end().ends_with(&format!(".{key}]")))
                })
                .map_or(1, |i| i as u32 + 1);
            Edit {
                file: path.to_owned(),
                line,
                what: format!(
                    "dependency `{key}` renamed to `{}` (`{key} = {{ package = \"{}\", path = .. }}`)",
                    facade.name, facade.name
                ),
                why: format!(
                    "`{}` re-exports {} whole and shadows its server entry points, so the code reaches cleave's server shim without a source edit",
                    facade.name, facade.package
                ),
            }
        })
        .collect()
}

/// The facade spec for one dependency spec, or `None` to leave it
/// (`workspace = true`, whose features are still recorded).
fn rewrite_spec(spec: &Item, path: &str, facade: &Facade, asked: &mut Asked) -> Option<Item> {
    let table = manifest::inline_spec(spec);
    if let Some(list) = table.get("features").and_then(Value::as_array) {
        for f in list.iter().filter_map(Value::as_str) {
            asked.features.insert(f.to_owned());
        }
    }
    if table.get("workspace").is_some() {
        return None;
    }
    if let Some(v) = table.get("version").and_then(Value::as_str) {
        asked.versions.insert(v.to_owned());
    }
    let mut out = InlineTable::new();
    out.insert("package", facade.name.into());
    out.insert("path", path.into());
    for key in [
        "default-features",
        "default_features",
        "features",
        "optional",
    ] {
        if let Some(v) = table.get(key) {
            out.insert(key, v.clone());
        }
    }
    out.fmt();
    Some(Item::Value(Value::InlineTable(out)))
}

/// Whether the monolith uses the framework at a version the facade mirrors
/// (axum 0.3 to 0.8, axum-server from 0.6, the first on hyper 1,
/// actix-web 4, rocket 0.5 from its first release candidate, 0.5.0-rc.1;
/// 0.4 is another framework).
pub fn supported(facade: &Facade, version: &str) -> bool {
    let bare = version.trim_start_matches(['=', '^', '~', ' ']);
    let mut parts = bare.split('.');
    let major = parts.next().and_then(|p| p.parse::<u32>().ok());
    let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
    match (facade.package, major, minor) {
        ("axum", Some(0), Some(m)) => m >= 3,
        ("axum-server", Some(0), Some(m)) => m >= 6,
        ("actix-web", Some(4), _) => !bare.contains('-'),
        ("rocket", Some(0), Some(5)) => !bare.contains('-') || bare.starts_with("0.5.0-rc."),
        _ => false,
    }
}

/// What the shim's crates are rendered from.
#[derive(Debug)]
pub struct ShimCrates<'a> {
    /// The `// @generated ...` line of sources.
    pub header: &'a str,
    /// The `# @generated ...` line of manifests.
    pub header_toml: &'a str,
    pub facade: &'a Facade,
    /// The framework's version requirement for the facade's real dependency
    /// (`=0.8.9` when the monolith's `Cargo.lock` pins one version).
    pub version: &'a str,
    /// Every feature the workspace asks of the framework.
    pub features: &'a BTreeSet<String>,
    /// Without the native adapter the shim has no Lambda side at all.
    pub native: bool,
}

/// `crates/cleave-lambda/` and the facade's crate, into `tree`.
pub fn render(tree: &mut Tree, s: &ShimCrates<'_>) {
    render_shim(tree, s);
    render_facade(tree, s);
}

/// `crates/cleave-lambda/`, into `tree`.
fn render_shim(tree: &mut Tree, s: &ShimCrates<'_>) {
    tree.insert(
        format!("{SHIM_DIR}/Cargo.toml"),
        shim_manifest(s.header_toml, s.native).into_bytes(),
    );
    for (file, text) in [
        ("forward.rs", FORWARD_RS),
        ("guard.rs", GUARD_RS),
        ("lib.rs", LIB_RS),
        ("worker.rs", WORKER_RS),
    ] {
        tree.insert(
            format!("{SHIM_DIR}/src/{file}"),
            headed(s.header, text).into_bytes(),
        );
    }
}

/// The facade's crate alone, into `tree` (a companion's, beside the
/// framework's).
pub fn render_facade(tree: &mut Tree, s: &ShimCrates<'_>) {
    let dir = facade_dir(s.facade);
    tree.insert(format!("{dir}/Cargo.toml"), facade_manifest(s).into_bytes());
    for (file, text) in s.facade.for_version(s.version).sources {
        tree.insert(
            format!("{dir}/src/{file}"),
            headed(s.header, text).into_bytes(),
        );
    }
}

/// A shim source with the generated-file header line.
fn headed(header: &str, text: &str) -> String {
    format!("{header}\n{text}")
}

fn package(name: &str, version: &str) -> Table {
    let mut pkg = Table::new();
    pkg.insert("name", value(name));
    pkg.insert("version", value(version));
    pkg.insert("edition", value("2021"));
    pkg.insert("publish", value(false));
    pkg
}

fn dep(version: &str, features: &[&str], optional: bool) -> Item {
    let mut t = InlineTable::new();
    t.insert("version", version.into());
    if !features.is_empty() {
        t.insert("features", strings(features.iter().copied()));
    }
    if optional {
        t.insert("optional", true.into());
    }
    Item::Value(Value::InlineTable(t))
}

fn strings<'s>(items: impl IntoIterator<Item = &'s str>) -> Value {
    let mut a = toml_edit::Array::new();
    for s in items {
        a.push(s);
    }
    Value::Array(a)
}

/// `cleave-lambda`'s manifest; behind the web adapter its `native` and
/// `forward` features enable nothing and `lambda_http` is not a dependency.
fn shim_manifest(header: &str, native: bool) -> String {
    /// What `forward` needs: `(name, version, features)`.
    const FORWARD: [(&str, &str, &[&str]); 4] = [
        ("http-body-util", "0.1", &[]),
        ("hyper", "1", &["client", "http1"]),
        ("hyper-util", "0.1", &["tokio"]),
        ("tokio", "1", &["rt", "net", "time", "sync"]),
    ];
    let mut doc = DocumentMut::new();
    doc.decor_mut().set_prefix(format!("{header}\n"));
    doc.insert("package", Item::Table(package("cleave-lambda", "0.1.0")));
    let mut features = Table::new();
    let (native_enables, forward_enables): (Vec<String>, Vec<String>) = if native {
        let mut forward = vec!["native".to_owned()];
        forward.extend(FORWARD.iter().map(|d| format!("dep:{}", d.0)));
        // `tokio` and `serde` run scheduled workers' rounds.
        (
            ["dep:lambda_http", "dep:tokio", "dep:serde"]
                .map(str::to_owned)
                .to_vec(),
            forward,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    features.insert(
        "forward",
        value(strings(forward_enables.iter().map(String::as_str))),
    );
    features.insert(
        "native",
        value(strings(native_enables.iter().map(String::as_str))),
    );
    doc.insert("features", Item::Table(features));
    let mut deps = Table::new();
    if native {
        for (name, version, features) in FORWARD {
            deps.insert(name, dep(version, features, true));
        }
        deps.insert("lambda_http", dep("1.3", &[], true));
        deps.insert("serde", dep("1", &[], true));
    }
    deps.insert("matchit", dep("0.8", &[], false));
    doc.insert("dependencies", Item::Table(deps));
    doc.to_string()
}

fn facade_manifest(s: &ShimCrates<'_>) -> String {
    let f = s.facade;
    let real = f.real;
    let mut doc = DocumentMut::new();
    doc.decor_mut().set_prefix(format!("{}\n", s.header_toml));
    let version = s.version.trim_start_matches(['=', '^', '~', ' ']);
    let version = if version.split('.').count() == 3 {
        version
    } else {
        "0.0.0"
    };
    doc.insert("package", Item::Table(package(f.name, version)));
    let mut features = Table::new();
    features.insert(
        "default",
        value(strings([format!("{real}/default").as_str()])),
    );
    let series = f.for_version(s.version);
    let mut native: Vec<String> = vec!["cleave-lambda/native".to_owned()];
    let base = base_of(f);
    native.extend(base.map(|b| format!("{}/native", b.name)));
    native.extend(
        series
            .shim_features
            .iter()
            .map(|f| format!("cleave-lambda/{f}")),
    );
    native.extend(
        series
            .deps
            .iter()
            .filter(|d| d.3)
            .map(|d| format!("dep:{}", d.0)),
    );
    features.insert("native", value(strings(native.iter().map(String::as_str))));
    let forwarded: BTreeSet<&str> = s
        .features
        .iter()
        .map(String::as_str)
        .chain(series.declared.iter().filter(|d| d.1).map(|d| d.0))
        .filter(|f| !matches!(*f, "default" | "native"))
        .collect();
    let feature_deps: Vec<_> = FEATURE_DEPS
        .iter()
        .filter(|d| d.0 == f.package && d.3.iter().any(|e| forwarded.contains(e)))
        .collect();
    for feature in &forwarded {
        let mut enables = vec![format!("{real}/{feature}")];
        enables.extend(
            feature_deps
                .iter()
                .filter(|d| d.3.contains(feature))
                .map(|d| format!("dep:{}", d.1)),
        );
        features.insert(feature, value(strings(enables.iter().map(String::as_str))));
    }
    let optional = FEATURE_DEPS
        .iter()
        .filter(|d| d.0 == f.package)
        .flat_map(|d| d.3.iter());
    for feature in series.declared.iter().map(|d| &d.0).chain(optional) {
        if !forwarded.contains(feature) {
            features.insert(feature, value(strings([])));
        }
    }
    doc.insert("features", Item::Table(features));
    let mut deps = Table::new();
    let mut r = InlineTable::new();
    r.insert("package", f.package.into());
    r.insert("version", s.version.into());
    r.insert("default-features", false.into());
    if !series.real_features.is_empty() {
        r.insert("features", strings(series.real_features.iter().copied()));
    }
    deps.insert(real, Item::Value(Value::InlineTable(r)));
    let mut shim = InlineTable::new();
    shim.insert("path", "../cleave-lambda".into());
    deps.insert("cleave-lambda", Item::Value(Value::InlineTable(shim)));
    if let Some(base) = base {
        // Its features are the workspace's to choose, through its own rename.
        let mut dep = InlineTable::new();
        dep.insert("path", format!("../{}", base.name).into());
        dep.insert("default-features", false.into());
        deps.insert(base.name, Item::Value(Value::InlineTable(dep)));
    }
    for (name, version, features, optional) in series.deps {
        deps.insert(name, dep(version, features, *optional));
    }
    for (_, name, version, _) in feature_deps {
        let mut t = InlineTable::new();
        t.insert("version", (*version).into());
        t.insert("default-features", false.into());
        t.insert("optional", true.into());
        deps.insert(name, Item::Value(Value::InlineTable(t)));
    }
    doc.insert("dependencies", Item::Table(deps));
    doc.to_string()
}

/// What a function's `src/main.rs` is made of.
#[derive(Debug)]
pub struct FunctionMain<'a> {
    pub header: &'a str,
    pub name: &'a str,
    /// The serving binary's library (`serving::main_crate`).
    pub main_lib: &'a str,
    pub own: &'a [(String, String)],
    pub elsewhere: &'a [(String, String)],
    /// The plan's `args`: what the binary is started with when Lambda
    /// starts it with none.
    pub args: &'a [String],
    /// For a worker function: the worker's name and its loop's `file:line`.
    pub worker: Option<(&'a str, &'a str)>,
}

/// Packages the shim's Lambda crates use beyond what their manifests ask:
/// `lambda_runtime` compiles against these versions and up (a monolith
/// locked at tracing-subscriber 0.3.8 fails on `EnvFilter::builder`; one
/// locked at tower-layer 0.3.2 gets tower 0.5.0, which needs 0.3.3).
const LOCK_FLOORS: [(&str, [u64; 3]); 6] = [
    ("tower-layer", [0, 3, 3]),
    ("tower-service", [0, 3, 3]),
    ("tracing", [0, 1, 41]),
    ("tracing-attributes", [0, 1, 28]),
    ("tracing-core", [0, 1, 33]),
    ("tracing-subscriber", [0, 3, 19]),
];

/// The monolith's `Cargo.lock` for the generated workspace: every locked
/// version kept, but entries of [`LOCK_FLOORS`] packages older than their
/// floor, which cargo then resolves afresh (to the newest compatible
/// version). A lock that is not TOML is kept as it is.
pub fn lock_floors(lock: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(lock) else {
        return lock.to_vec();
    };
    let Ok(mut doc) = text.parse::<DocumentMut>() else {
        return lock.to_vec();
    };
    let Some(packages) = doc
        .get_mut("package")
        .and_then(Item::as_array_of_tables_mut)
    else {
        return lock.to_vec();
    };
    let below = |t: &Table| {
        let name = t.get("name").and_then(Item::as_str).unwrap_or("");
        let version: Vec<u64> = t
            .get("version")
            .and_then(Item::as_str)
            .unwrap_or("")
            .split(['.', '-', '+'])
            .take(3)
            .map(|p| p.parse().unwrap_or(0))
            .collect();
        LOCK_FLOORS
            .iter()
            .any(|(n, floor)| *n == name && version.as_slice() < floor.as_slice())
    };
    let before = packages.len();
    packages.retain(|t| !below(t));
    if packages.len() == before {
        return lock.to_vec();
    }
    doc.to_string().into_bytes()
}

/// A function's `src/main.rs`: its route sets handed to the shim, the
/// plan's arguments when started without any, then the monolith's `main`
/// (made a library fn by `serving::main_crate`).
pub fn function_main(m: &FunctionMain<'_>) -> String {
    let FunctionMain {
        header,
        name,
        main_lib,
        own,
        elsewhere,
        args,
        worker,
    } = *m;
    let pairs = |list: &[(String, String)]| {
        let items = list.iter().map(|(m, p)| quote::quote!((#m, #p)));
        quote::quote!(&[#(#items),*])
    };
    let own = pairs(own);
    let elsewhere = pairs(elsewhere);
    let lib = proc_macro2::Ident::new(main_lib, proc_macro2::Span::call_site());
    let doc = format!(
        " Function `{name}`: the monolith's `main`, with this function's routes handed to the server shim first."
    );
    let mut file: syn::File = syn::parse_quote! {
        #![doc = #doc]

        /// The routes this function serves: `(method, path)`.
        const ROUTES: &[(&str, &str)] = #own;

        /// The monolith's routes that other functions serve: answered with 404 here.
        const ELSEWHERE: &[(&str, &str)] = #elsewhere;

        fn main() -> std::process::ExitCode {
            ::cleave_lambda::init(ROUTES, ELSEWHERE);
            std::process::Termination::report(::#lib::__cleave_main())
        }
    };
    if let Some((worker, source)) = worker {
        let doc = format!(
            " Worker `{name}`: the monolith's `main`, running one round of the loop at \
             {source} per scheduled event."
        );
        file = syn::parse_quote! {
            #![doc = #doc]

            fn main() -> std::process::ExitCode {
                ::cleave_lambda::init_worker(#worker);
                std::process::Termination::report(::#lib::__cleave_main())
            }
        };
    }
    if !args.is_empty() {
        let items = args.iter();
        // Just before `main`.
        let at = file.items.len().saturating_sub(1);
        file.items.insert(
            at,
            syn::parse_quote! {
                /// The plan's `args`: the serving binary's `main` is a CLI that serves on
                /// this subcommand, and Lambda starts a function with no arguments.
                const ARGS: &[&str] = &[#(#items),*];
            },
        );
        if let Some(syn::Item::Fn(main)) = file.items.last_mut() {
            main.block.stmts.insert(
                1,
                syn::parse_quote! {
                    ::cleave_lambda::start_with(ARGS);
                },
            );
        }
    }
    format!("{header}\n{}", prettyplease::unparse(&file))
}

#[cfg(test)]
#[path = "../shim/cleave-lambda/src/guard.rs"]
mod guard;

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(text: &str) -> (String, Asked) {
        let mut doc: DocumentMut = text.parse().expect("toml");
        let mut asked = Asked::default();
        point_at_facade(&mut doc, "crates/app", &AXUM, &mut asked);
        (doc.to_string(), asked)
    }

    #[test]
    fn the_framework_dependency_is_renamed_in_every_form() {
        let (text, asked) = rewritten(
            "[dependencies]\naxum = { version = \"0.8\", features = [\"macros\"] }\nweb = { package = \"axum\", version = \"0.8.1\", default-features = false }\ntokio = \"1\"\n\n[target.'cfg(unix)'.dependencies]\naxum = \"0.8\"\n\n[features]\nws = [\"axum/ws\"]\n",
        );
        assert!(text.contains("axum = { package = \"cleave-lambda-axum\", path = \"../cleave-lambda-axum\", features = [\"macros\"] }"), "{text}");
        assert!(text.contains("web = { package = \"cleave-lambda-axum\", path = \"../cleave-lambda-axum\", default-features = false }"), "{text}");
        assert!(text.contains("tokio = \"1\""), "{text}");
        assert_eq!(
            text.matches("package = \"cleave-lambda-axum\"").count(),
            3,
            "{text}"
        );
        assert_eq!(asked.features.iter().collect::<Vec<_>>(), ["macros", "ws"]);
        assert_eq!(asked.versions.len(), 2);
    }

    #[test]
    fn each_renamed_dependency_is_an_edit_at_its_line() {
        let text = "[package]\nname = \"a\"\n\n[dependencies]\naxum-extra = \"0.9\"\naxum = \"0.8\"\n\n[dependencies.web]\npackage = \"axum\"\nversion = \"0.8\"\n";
        let mut doc: DocumentMut = text.parse().expect("toml");
        let keys = point_at_facade(&mut doc, "", &AXUM, &mut Asked::default());
        let lines: Vec<u32> = rename_edits("Cargo.toml", text, &keys, &AXUM)
            .iter()
            .map(|e| e.line)
            .collect();
        assert_eq!(keys, ["axum", "web"]);
        assert_eq!(lines, [6, 8]);
    }

    #[test]
    fn a_workspace_dependency_is_left_to_the_workspace_table() {
        let (text, asked) =
            rewritten("[dependencies]\naxum = { workspace = true, features = [\"json\"] }\n");
        assert!(text.contains("axum = { workspace = true"), "{text}");
        assert!(asked.features.contains("json"));
    }

    #[test]
    fn the_facade_forwards_default_and_asked_features_to_the_real_framework() {
        let features: BTreeSet<String> = ["macros".to_owned()].into();
        let text = facade_manifest(&ShimCrates {
            header: "// @generated",
            header_toml: "# @generated",
            facade: &ACTIX_WEB,
            version: "=4.18.1",
            features: &features,
            native: true,
        });
        assert!(
            text.contains("default = [\"actix_web_real/default\"]"),
            "{text}"
        );
        assert!(
            text.contains("macros = [\"actix_web_real/macros\"]"),
            "{text}"
        );
        assert!(
            text.contains("http2 = [\"actix_web_real/http2\"]"),
            "{text}"
        );
        assert!(text.contains("actix_web_real = { package = \"actix-web\", version = \"=4.18.1\", default-features = false }"), "{text}");
        assert!(text.contains("version = \"4.18.1\""), "{text}");
        // actix-web 4.3 has no `http2` feature: declared, not forwarded.
        let text = facade_manifest(&ShimCrates {
            header: "// @generated",
            header_toml: "# @generated",
            facade: &ACTIX_WEB,
            version: "=4.3.1",
            features: &features,
            native: true,
        });
        assert!(text.contains("http2 = []"), "{text}");
        assert!(!text.contains("actix_web_real/http2"), "{text}");
    }

    #[test]
    fn actix_webs_tls_features_are_forwarded_with_actix_tls_only_when_asked() {
        let manifest = |version, asked: &[&str]| {
            let features: BTreeSet<String> = asked.iter().map(|f| (*f).to_owned()).collect();
            facade_manifest(&ShimCrates {
                header: "// @generated",
                header_toml: "# @generated",
                facade: &ACTIX_WEB,
                version,
                features: &features,
                native: true,
            })
        };
        let text = manifest("=4.13.0", &["macros", "rustls-0_23"]);
        for line in [
            "rustls-0_23 = [\"actix_web_real/rustls-0_23\", \"dep:actix-tls\"]",
            "macros = [\"actix_web_real/macros\"]",
            "openssl = []",
            "rustls = []",
            "rustls-0_22 = []",
            "actix-tls = { version = \"3\", default-features = false, optional = true }",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
        // No TLS asked: every TLS feature declared empty, no `actix-tls`.
        let plain = manifest("=4.13.0", &["macros"]);
        assert!(plain.contains("rustls-0_23 = []"), "{plain}");
        assert!(plain.contains("openssl = []"), "{plain}");
        assert!(!plain.contains("actix-tls"), "{plain}");
        // actix-web 4.3: `rustls` (rustls 0.20) and `openssl` only.
        let old = manifest("=4.3.1", &["rustls", "openssl"]);
        for line in [
            "rustls = [\"actix_web_real/rustls\", \"dep:actix-tls\"]",
            "openssl = [\"actix_web_real/openssl\", \"dep:actix-tls\"]",
            "rustls-0_20 = []",
            "rustls-0_23 = []",
            "http2 = []",
        ] {
            assert!(old.contains(line), "{line}\n{old}");
        }
        assert_eq!(old.matches("actix-tls = {").count(), 1, "{old}");
    }

    #[test]
    fn every_feature_a_facades_code_tests_is_declared_in_each_series() {
        let none = BTreeSet::new();
        for facade in [&AXUM, &AXUM_SERVER, &ACTIX_WEB, &ROCKET] {
            for series in facade.series {
                let manifest = facade_manifest(&ShimCrates {
                    header: "// @generated",
                    header_toml: "# @generated",
                    facade,
                    version: series.versions.first().copied().unwrap_or("=99.0.0"),
                    features: &none,
                    native: true,
                });
                for (file, text) in series.sources {
                    for tested in text.split("feature = \"").skip(1) {
                        let name = tested.split('"').next().unwrap_or_default();
                        assert!(
                            manifest.contains(&format!("\n{name} = [")),
                            "{}: {file} tests feature `{name}`, which {:?} does not declare:\n{manifest}",
                            facade.name,
                            series.versions
                        );
                    }
                }
            }
        }
        // And the other way round: each of actix-web's TLS features gates
        // the facade's binds.
        let server = ACTIX_WEB.series[0]
            .sources
            .iter()
            .find(|(f, _)| *f == "server.rs")
            .map(|(_, text)| *text)
            .unwrap_or_default();
        for feature in ACTIX_WEB_TLS {
            assert!(
                server.contains(&format!("feature = \"{feature}\"")),
                "{feature}"
            );
        }
    }

    #[test]
    fn a_function_main_hands_its_routes_to_the_shim_first() {
        let own = vec![("GET".to_owned(), "/a/{id}".to_owned())];
        let elsewhere = vec![("POST".to_owned(), "/b".to_owned())];
        let main = |args: &[String]| {
            function_main(&FunctionMain {
                header: "// @generated",
                name: "reads",
                main_lib: "shop",
                own: &own,
                elsewhere: &elsewhere,
                args,
                worker: None,
            })
        };
        let text = main(&[]);
        assert!(!text.contains("ARGS"), "{text}");
        let with_args = main(&["serve".to_owned(), "--port=80".to_owned()]);
        assert!(
            with_args.contains("const ARGS: &[&str] = &[\"serve\", \"--port=80\"];"),
            "{with_args}"
        );
        assert!(
            with_args.contains(
                "::cleave_lambda::init(ROUTES, ELSEWHERE);\n    ::cleave_lambda::start_with(ARGS);"
            ),
            "{with_args}"
        );
        syn::parse_file(&with_args).expect("valid Rust");
        assert!(text.starts_with("// @generated\n"), "{text}");
        assert!(
            text.contains("const ROUTES: &[(&str, &str)] = &[(\"GET\", \"/a/{id}\")];"),
            "{text}"
        );
        assert!(
            text.contains("::cleave_lambda::init(ROUTES, ELSEWHERE);"),
            "{text}"
        );
        assert!(text.contains("::shop::__cleave_main()"), "{text}");
        syn::parse_file(&text).expect("valid Rust");
    }

    #[test]
    fn each_axum_series_gets_its_own_server() {
        let series = AXUM.for_version("=0.7.9");
        assert!(
            series
                .sources
                .iter()
                .any(|(_, t)| t.contains("tcp_nodelay"))
        );
        assert!(series.deps.iter().any(|d| d.0 == "tower" && d.1 == "0.4"));
        let series = AXUM.for_version("0.8");
        assert!(
            !series
                .sources
                .iter()
                .any(|(_, t)| t.contains("tcp_nodelay"))
        );
        assert!(series.deps.iter().any(|d| d.0 == "tower" && d.1 == "0.5"));
        assert_eq!(
            AXUM.for_version("0.7").deps.first().map(|d| d.1),
            Some("0.4")
        );
        // A version that only starts like a series is not it.
        assert_eq!(
            AXUM.for_version("0.70").deps.first().map(|d| d.1),
            Some("0.5")
        );
        for old in ["=0.3.4", "0.6", "0.6.20", "^0.5"] {
            let series = AXUM.for_version(old);
            assert_eq!(series.shim_features, ["forward"], "{old}");
            assert!(
                series.sources.iter().any(|(f, _)| *f == "server.rs"),
                "{old}"
            );
        }
    }

    #[test]
    fn rockets_release_candidates_before_rc4_get_their_outcome_spelling() {
        let outcome = |version| {
            ROCKET
                .for_version(version)
                .sources
                .iter()
                .find(|(f, _)| *f == "route_outcome.rs")
                .map(|(_, text)| *text)
                .unwrap_or_default()
        };
        for old in ["=0.5.0-rc.1", "0.5.0-rc.2", "^0.5.0-rc.3"] {
            assert!(outcome(old).contains("Outcome::Failure("), "{old}");
        }
        for new in ["=0.5.0-rc.4", "0.5.0", "=0.5.1"] {
            assert!(outcome(new).contains("Outcome::Error("), "{new}");
        }
    }

    #[test]
    fn a_facade_that_forwards_enables_the_shims_forward_feature() {
        let features = BTreeSet::new();
        let manifest = |facade, version, native| {
            facade_manifest(&ShimCrates {
                header: "// @generated",
                header_toml: "# @generated",
                facade,
                version,
                features: &features,
                native,
            })
        };
        let old = manifest(&AXUM, "=0.6.20", true);
        assert!(
            old.contains("native = [\"cleave-lambda/native\", \"cleave-lambda/forward\"]"),
            "{old}"
        );
        assert!(old.contains("hyper = { version = \"0.14\""), "{old}");
        let new = manifest(&AXUM, "=0.8.4", true);
        assert!(new.contains("native = [\"cleave-lambda/native\"]"), "{new}");
        let rocket = manifest(&ROCKET, "=0.5.1", true);
        assert!(rocket.contains("cleave-lambda/forward"), "{rocket}");
        let shim = shim_manifest("# @generated", true);
        assert!(
            shim.contains("forward = [\"native\", \"dep:http-body-util\""),
            "{shim}"
        );
        let adapter = shim_manifest("# @generated", false);
        assert!(
            adapter.contains("forward = []") && !adapter.contains("hyper"),
            "{adapter}"
        );
    }

    #[test]
    fn lock_entries_older_than_the_shims_floor_are_resolved_afresh() {
        let lock = "version = 4\n\n[[package]]\nname = \"tracing-subscriber\"\nversion = \"0.3.8\"\n\n[[package]]\nname = \"tracing\"\nversion = \"0.1.44\"\n\n[[package]]\nname = \"tracing-core\"\nversion = \"0.1.100\"\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.1\"\n";
        let out = String::from_utf8(lock_floors(lock.as_bytes())).expect("utf-8");
        assert!(!out.contains("tracing-subscriber"), "{out}");
        assert!(
            out.contains("name = \"tracing\"\nversion = \"0.1.44\""),
            "{out}"
        );
        // Compared by number, not as text.
        assert!(out.contains("version = \"0.1.100\""), "{out}");
        assert!(out.contains("name = \"serde\""), "{out}");
        // Nothing below a floor: the lock byte for byte.
        let kept = "version = 4\n\n[[package]]\nname = \"serde\"\nversion = \"1.0.1\"\n";
        assert_eq!(lock_floors(kept.as_bytes()), kept.as_bytes());
        assert_eq!(lock_floors(b"not toml ["), b"not toml [");
    }

    #[test]
    fn axum_server_is_pointed_at_its_own_facade_beside_axum() {
        let text = "[package]\nname = \"api\"\n\n[dependencies]\naxum = \"0.8\"\naxum-server = { version = \"0.8.0\", features = [\"tls-rustls\"] }\n\n[features]\nbare-tls = [\"axum-server/tls-rustls-no-provider\"]\n";
        let mut doc: DocumentMut = text.parse().expect("toml");
        let mut asked = AskedOf::new();
        let edits = point_at_facades(
            &mut doc,
            "crates/api",
            &AXUM,
            &mut asked,
            ("api/Cargo.toml", text),
        );
        let doc = doc.to_string();
        assert!(
            doc.contains(
                "axum = { package = \"cleave-lambda-axum\", path = \"../cleave-lambda-axum\" }"
            ),
            "{doc}"
        );
        assert!(doc.contains("axum-server = { package = \"cleave-lambda-axum-server\", path = \"../cleave-lambda-axum-server\", features = [\"tls-rustls\"] }"), "{doc}");
        let lines: Vec<(u32, bool)> = edits
            .iter()
            .map(|e| (e.line, e.what.contains("cleave-lambda-axum-server")))
            .collect();
        assert_eq!(lines, [(5, false), (6, true)]);
        let server = &asked["cleave-lambda-axum-server"];
        assert!(server.named);
        assert_eq!(
            server.features.iter().collect::<Vec<_>>(),
            ["tls-rustls", "tls-rustls-no-provider"]
        );
        assert_eq!(server.versions.iter().collect::<Vec<_>>(), ["0.8.0"]);
        assert!(!asked["cleave-lambda-axum"].features.contains("tls-rustls"));
        // A workspace without axum-server names no companion.
        let mut doc: DocumentMut = "[dependencies]\naxum = \"0.8\"\n".parse().expect("toml");
        let mut asked = AskedOf::new();
        point_at_facades(&mut doc, "", &AXUM, &mut asked, ("Cargo.toml", ""));
        assert!(!asked["cleave-lambda-axum-server"].named);
        assert!(asked["cleave-lambda-axum"].named);
        assert_eq!(companions(&ACTIX_WEB).count(), 0);
        assert_eq!(companions(&ROCKET).count(), 0);
    }

    #[test]
    fn the_axum_server_facade_builds_on_the_axum_facade() {
        let features: BTreeSet<String> = ["tls-rustls".to_owned()].into();
        let manifest = |version| {
            facade_manifest(&ShimCrates {
                header: "// @generated",
                header_toml: "# @generated",
                facade: &AXUM_SERVER,
                version,
                features: &features,
                native: true,
            })
        };
        let text = manifest("=0.8.0");
        for line in [
            "axum_server_real = { package = \"axum-server\", version = \"=0.8.0\", default-features = false }",
            "cleave-lambda-axum = { path = \"../cleave-lambda-axum\", default-features = false }",
            "native = [\"cleave-lambda/native\", \"cleave-lambda-axum/native\"]",
            "tls-rustls = [\"axum_server_real/tls-rustls\"]",
            "tls-rustls-no-provider = [\"axum_server_real/tls-rustls-no-provider\"]",
            "tls-openssl = [\"axum_server_real/tls-openssl\"]",
            "hyper-util = { version = \"0.1\", features = [\"server-auto\", \"tokio\"] }",
        ] {
            assert!(text.contains(line), "{line}\n{text}");
        }
        // The axum facade's own manifest depends on no other facade.
        let axum = facade_manifest(&ShimCrates {
            header: "// @generated",
            header_toml: "# @generated",
            facade: &AXUM,
            version: "=0.8.9",
            features: &BTreeSet::new(),
            native: true,
        });
        assert!(
            axum.contains("native = [\"cleave-lambda/native\"]"),
            "{axum}"
        );
        assert!(!axum.contains("cleave-lambda-axum ="), "{axum}");
        // 0.6 has no `tls-rustls-no-provider`: declared, not forwarded.
        let old = manifest("=0.6.0");
        assert!(old.contains("tls-rustls-no-provider = []"), "{old}");
        let servers = |version| {
            AXUM_SERVER
                .for_version(version)
                .sources
                .iter()
                .find(|(f, _)| *f == "server.rs")
                .map(|(_, text)| *text)
                .unwrap_or_default()
        };
        // One address type before 0.8 (`Server<Acceptor>`), any after.
        for version in ["=0.6.0", "=0.7.1", "0.7"] {
            assert!(
                servers(version).contains("pub struct Server<Acc = DefaultAcceptor>"),
                "{version}"
            );
        }
        assert!(servers("=0.8.0").contains("pub struct Server<A: Address, Acc = DefaultAcceptor>"));
        assert!(supported(&AXUM_SERVER, "=0.8.0"));
        assert!(supported(&AXUM_SERVER, "0.6"));
        assert!(!supported(&AXUM_SERVER, "=0.5.0"));
    }

    #[test]
    fn versions_the_facades_mirror() {
        assert!(supported(&AXUM, "0.8"));
        assert!(supported(&AXUM, "=0.8.9"));
        assert!(supported(&AXUM, "=0.7.9"));
        assert!(supported(&AXUM, "0.6.20"));
        assert!(supported(&AXUM, "=0.3.4"));
        assert!(!supported(&AXUM, "0.2.8"));
        assert!(supported(&ACTIX_WEB, "4.11"));
        assert!(supported(&ROCKET, "0.5.1"));
        assert!(supported(&ROCKET, "=0.5.0"));
        assert!(supported(&ROCKET, "=0.5.0-rc.1"));
        assert!(!supported(&ROCKET, "=0.5.0-dev"));
        assert!(!supported(&ACTIX_WEB, "4.0.0-beta.21"));
        assert!(!supported(&ROCKET, "0.4"));
    }
}
