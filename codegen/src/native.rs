//! Dependencies that link a C library of the build machine. Lambda runs
//! `provided.al2023` on arm64 (the template's default): `cargo lambda build
//! --arm64` cross-links with zig against no system libraries, and the
//! runtime image has no libpq or libmysqlclient, so a function that links
//! one fails to build, or to start. Read from the monolith's `Cargo.lock`
//! (what is linked) and its manifests (the features that build the library
//! from source instead); each finding names the chain from the crate the
//! app depends on and the Lambda-ready alternative.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use toml_edit::{DocumentMut, Item};

/// One `-sys` crate that links a system library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeDep {
    pub package: String,
    pub version: String,
    /// The library, for people (`OpenSSL (libssl, libcrypto)`).
    pub library: &'static str,
    /// From a dependency the app's manifests name down to `package`.
    pub chain: Vec<String>,
    /// Empty when always linked; else the features of the app's packages
    /// that link it (``feature `postgresql` of `vaultwarden` ``).
    pub when: Vec<String>,
    /// Features of the app's packages that build it from source instead.
    pub bundled_when: Vec<String>,
    /// When not surely linked: the app's dependencies it is reached
    /// through, whose own features cleave cannot see (a registry crate's
    /// manifest is not in the project).
    pub maybe_through: Vec<String>,
    pub advice: &'static str,
}

impl NativeDep {
    /// One line: `openssl-sys 0.9.99 (reqwest -> native-tls -> openssl-sys) links ...`.
    pub fn line(&self) -> String {
        let when = match self.when.as_slice() {
            [] => String::new(),
            w => format!(" with {}", w.join(" or ")),
        };
        let bundled = match self.bundled_when.as_slice() {
            [] => String::new(),
            b => format!(" ({} builds it from source instead)", b.join(" or ")),
        };
        let links = match self.maybe_through.as_slice() {
            [] => "links".to_owned(),
            t => format!(
                "may link (through {}, whose features cleave cannot see)",
                t.iter()
                    .map(|d| format!("`{d}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        format!(
            "{} {} ({}) {links} the system's {}{when}: {}{bundled}",
            self.package,
            self.version,
            self.chain.join(" -> "),
            self.library,
            self.advice
        )
    }
}

/// `(dependency, feature)`: a feature the app asks of a dependency; a
/// feature ending in `*` is a prefix (`bundled*`).
type FeatureOf = (&'static str, &'static str);

/// A system library, which features of which dependencies link it or
/// build it from source instead, and advice.
struct Library {
    package: &'static str,
    library: &'static str,
    /// Dependencies that link it only with one of these features (diesel
    /// links libpq with `postgres`, not with `postgres_backend`). Reached
    /// through any other dependency of the app, it is linked.
    linked_by: &'static [FeatureOf],
    /// Dependencies that always link it (`rusqlite` links SQLite): reached
    /// through another dependency of the app, without a `linked_by` entry,
    /// it may be linked.
    always_by: &'static [&'static str],
    /// Features that build the library from source (`rusqlite` `bundled`).
    bundled_by: &'static [FeatureOf],
    advice: &'static str,
}

const LIBRARIES: &[Library] = &[
    Library {
        package: "openssl-sys",
        always_by: &[
            "openssl-sys",
            "openssl",
            "native-tls",
            "hyper-openssl",
            "tokio-openssl",
            "postgres-openssl",
        ],
        library: "OpenSSL (libssl, libcrypto)",
        linked_by: &[],
        bundled_by: &[
            ("openssl", "vendored"),
            ("openssl-sys", "vendored"),
            ("native-tls", "vendored"),
            ("git2", "vendored-openssl"),
            ("reqwest", "native-tls-vendored"),
        ],
        advice: "use rustls instead (reqwest `rustls-tls`, sqlx `tls-rustls`, lettre `tokio1-rustls-tls`, tokio-postgres `tokio-postgres-rustls`), or build OpenSSL from source with `openssl = { version = \"0.10\", features = [\"vendored\"] }`",
    },
    Library {
        package: "pq-sys",
        always_by: &["pq-sys"],
        library: "libpq (PostgreSQL's client library)",
        linked_by: &[("diesel", "postgres"), ("diesel_migrations", "postgres")],
        bundled_by: &[("pq-sys", "bundled*")],
        advice: "use diesel-async (tokio-postgres, no libpq), or build libpq from source with pq-sys's `bundled` feature (pq-sys 0.6 and later)",
    },
    Library {
        package: "mysqlclient-sys",
        always_by: &["mysqlclient-sys"],
        library: "libmysqlclient",
        linked_by: &[("diesel", "mysql"), ("diesel_migrations", "mysql")],
        bundled_by: &[("mysqlclient-sys", "bundled*")],
        advice: "use diesel-async (mysql_async, no libmysqlclient), or build it from source with mysqlclient-sys's `bundled` feature (0.4 and later)",
    },
    Library {
        package: "libsqlite3-sys",
        always_by: &["libsqlite3-sys", "rusqlite"],
        library: "SQLite (libsqlite3)",
        linked_by: &[
            ("diesel", "sqlite"),
            ("diesel_migrations", "sqlite"),
            ("sqlx", "sqlite"),
            ("sqlx", "sqlite-unbundled"),
            ("sea-orm", "sqlx-sqlite"),
            ("sea-orm", "sqlx-all"),
        ],
        // sqlx's `sqlite` feature bundles SQLite (sea-orm's `sqlx-sqlite`
        // asks it); `sqlite-unbundled` does not.
        bundled_by: &[
            ("rusqlite", "bundled*"),
            ("libsqlite3-sys", "bundled*"),
            ("sqlx", "sqlite"),
            ("sea-orm", "sqlx-sqlite"),
            ("sea-orm", "sqlx-all"),
        ],
        advice: "build SQLite from source with the `bundled` feature (`rusqlite = { features = [\"bundled\"] }`, or `libsqlite3-sys = { features = [\"bundled\"] }` beside diesel); the database file itself does not survive on Lambda (see the hazards)",
    },
    Library {
        package: "libz-sys",
        always_by: &["libz-sys"],
        library: "zlib",
        linked_by: &[],
        bundled_by: &[("libz-sys", "static"), ("libz-sys", "zlib-ng*")],
        advice: "use flate2's default pure-Rust backend (`miniz_oxide`), or libz-sys's `static` feature",
    },
];

/// Whether `feature` is what `pattern` names.
fn matches(pattern: &str, feature: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => feature.starts_with(prefix),
        None => feature == pattern,
    }
}

/// How the app asks `pattern` of `dep`: always (`Some(vec![])`), only
/// with some of its own packages' features (`Some(features)`), or never.
fn asked_how(asked: &Asked, (dep, pattern): FeatureOf) -> Option<Vec<String>> {
    let features = asked.get(dep)?;
    let mut when = Vec::new();
    for (feature, via) in features {
        if !matches(pattern, feature) {
            continue;
        }
        match via {
            None => return Some(Vec::new()),
            Some(via) => when.push(via.clone()),
        }
    }
    when.sort();
    when.dedup();
    (!when.is_empty()).then_some(when)
}

/// The system libraries the monolith links that its manifests do not
/// build from source, in the order of [`LIBRARIES`]. `lock` is the
/// monolith's `Cargo.lock`, which holds every package any feature of its
/// members could need; `manifests` are its `Cargo.toml` texts, whose
/// dependency tables and `[features]` say which of those are built. A lock
/// or manifest that cannot be read gives nothing.
pub fn scan(lock: &str, manifests: &[String]) -> Vec<NativeDep> {
    let Ok(doc) = lock.parse::<DocumentMut>() else {
        return Vec::new();
    };
    let packages = locked(&doc);
    let (asked, present) = features_asked(manifests);
    let members: BTreeSet<&str> = packages
        .iter()
        .filter(|p| p.member)
        .map(|p| p.name.as_str())
        .collect();
    let mut out = Vec::new();
    for lib in LIBRARIES {
        let Some(found) = packages.iter().find(|p| p.name == lib.package) else {
            continue;
        };
        // The app's direct dependencies it is reached through.
        let above = ancestors(&packages, &found.name);
        let mut linked_always = false;
        let mut when: Vec<String> = Vec::new();
        let mut maybe_through: Vec<String> = Vec::new();
        // Through the app's own packages (path dependencies between
        // members) nothing is decided: their manifests are read too.
        let through = present
            .iter()
            .filter(|(d, _)| above.contains(d.as_str()) && !members.contains(d.as_str()));
        for (dep, built) in through {
            let gates: Vec<FeatureOf> = lib
                .linked_by
                .iter()
                .copied()
                .filter(|(d, _)| d == dep)
                .collect();
            let always_built = built.contains(&None);
            if gates.is_empty() {
                match (lib.always_by.contains(&dep.as_str()), always_built) {
                    (true, true) => linked_always = true,
                    // An optional dependency: linked with what enables it.
                    (true, false) => when.extend(built.iter().flatten().cloned()),
                    (false, true) => maybe_through.push(dep.clone()),
                    // Optional and not known to link it: left out.
                    (false, false) => {}
                }
                continue;
            }
            for gate in gates {
                match asked_how(&asked, gate) {
                    Some(w) if w.is_empty() && always_built => linked_always = true,
                    Some(w) if w.is_empty() => when.extend(built.iter().flatten().cloned()),
                    Some(w) => when.extend(w),
                    None => {}
                }
            }
        }
        if !linked_always && when.is_empty() && maybe_through.is_empty() {
            continue;
        }
        let mut bundled_when = Vec::new();
        let mut bundled = false;
        for &b in lib.bundled_by {
            match asked_how(&asked, b) {
                Some(w) if w.is_empty() => bundled = true,
                Some(w) => bundled_when.extend(w),
                None => {}
            }
        }
        // sqlx 0.7 always bundles SQLite.
        let sqlx_07 = lib.package == "libsqlite3-sys"
            && packages
                .iter()
                .any(|p| p.name == "sqlx-sqlite" && p.version.starts_with("0.7."));
        if bundled || sqlx_07 {
            continue;
        }
        when.sort();
        when.dedup();
        bundled_when.sort();
        bundled_when.dedup();
        out.push(NativeDep {
            package: found.name.clone(),
            version: found.version.clone(),
            library: lib.library,
            chain: chain(&packages, &members, &found.name),
            // Surely linked, else maybe through a dependency always built,
            // else only with the features that enable it.
            when: if linked_always || !maybe_through.is_empty() {
                Vec::new()
            } else {
                when
            },
            maybe_through: if linked_always {
                Vec::new()
            } else {
                maybe_through
            },
            bundled_when,
            advice: lib.advice,
        });
    }
    out
}

struct Locked {
    name: String,
    version: String,
    /// A path package (a workspace member or path dependency): no `source`.
    member: bool,
    /// Dependency names (the `"name version"` form cut to the name).
    deps: Vec<String>,
}

fn locked(doc: &DocumentMut) -> Vec<Locked> {
    doc.get("package")
        .and_then(Item::as_array_of_tables)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let name = t.get("name").and_then(Item::as_str)?.to_owned();
            let version = t
                .get("version")
                .and_then(Item::as_str)
                .unwrap_or("")
                .to_owned();
            let deps = t
                .get("dependencies")
                .and_then(Item::as_array)
                .into_iter()
                .flatten()
                .filter_map(|d| d.as_str())
                .map(|d| d.split(' ').next().unwrap_or(d).to_owned())
                .collect();
            Some(Locked {
                name,
                version,
                member: t.get("source").is_none(),
                deps,
            })
        })
        .collect()
}

/// Features asked of each dependency (by package name): `None` when a
/// dependency table asks it (or a member's `default` features do), else
/// which member feature asks it (``feature `sqlite` of `app` ``).
type Asked = BTreeMap<String, Vec<(String, Option<String>)>>;

/// Whether each dependency (by package name) is built: `None` in the list
/// when always (a non-optional dependency, or one `default` enables), else
/// the member features that enable an optional one.
type Present = BTreeMap<String, Vec<Option<String>>>;

/// What all `manifests` ask of their dependencies: every `*dependencies`
/// table (also `[workspace.dependencies]` and `[target.*.dependencies]`),
/// and `[features]` entries `dep/feature` and `dep?/feature`. A dependency
/// named with no features is listed with none.
fn features_asked(manifests: &[String]) -> (Asked, Present) {
    let mut out: Asked = BTreeMap::new();
    let mut present: Present = BTreeMap::new();
    for text in manifests {
        let Ok(doc) = text.parse::<DocumentMut>() else {
            continue;
        };
        let root = doc.as_table();
        let mut tables: Vec<&dyn toml_edit::TableLike> = Vec::new();
        collect_dependency_tables(root, &mut tables);
        if let Some(t) = root.get("workspace").and_then(Item::as_table_like) {
            collect_dependency_tables(t, &mut tables);
        }
        if let Some(t) = root.get("target").and_then(Item::as_table_like) {
            for (_, cfg) in t.iter() {
                if let Some(cfg) = cfg.as_table_like() {
                    collect_dependency_tables(cfg, &mut tables);
                }
            }
        }
        let name = root
            .get("package")
            .and_then(|p| p.get("name"))
            .and_then(Item::as_str)
            .unwrap_or("the workspace");
        let features = root.get("features").and_then(Item::as_table_like);
        let defaults = features.map(default_features).unwrap_or_default();
        let via = |feature: &str| {
            (!defaults.contains(feature)).then(|| format!("feature `{feature}` of `{name}`"))
        };
        // Dependency keys (which may be renames) -> package names.
        let mut renamed: BTreeMap<String, String> = BTreeMap::new();
        let mut optional: BTreeSet<String> = BTreeSet::new();
        for table in tables {
            for (name, dep) in table.iter() {
                let spec = dep.as_table_like();
                let package = spec
                    .and_then(|d| d.get("package"))
                    .and_then(Item::as_str)
                    .unwrap_or(name)
                    .to_owned();
                renamed.insert(name.to_owned(), package.clone());
                let is_optional = spec
                    .and_then(|d| d.get("optional"))
                    .and_then(Item::as_bool)
                    .unwrap_or(false);
                if is_optional {
                    optional.insert(name.to_owned());
                } else {
                    present.entry(package.clone()).or_default().push(None);
                }
                let entry = out.entry(package).or_default();
                let features = spec
                    .and_then(|d| d.get("features"))
                    .and_then(Item::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f.as_str());
                entry.extend(features.map(|f| (f.to_owned(), None)));
            }
        }
        let Some(features) = features else {
            continue;
        };
        for (feature, values) in features.iter() {
            // An optional dependency's implicit feature has its name.
            if let Some(package) = renamed.get(feature).filter(|_| optional.contains(feature)) {
                present
                    .entry(package.clone())
                    .or_default()
                    .push(via(feature));
            }
            for value in values
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str())
            {
                if let Some(dep) = value.strip_prefix("dep:") {
                    if let Some(package) = renamed.get(dep) {
                        present
                            .entry(package.clone())
                            .or_default()
                            .push(via(feature));
                    }
                    continue;
                }
                let Some((dep, wanted)) = value.split_once('/') else {
                    continue;
                };
                let weak = dep.ends_with('?');
                let dep = dep.trim_end_matches('?');
                let package = renamed.get(dep).cloned().unwrap_or_else(|| dep.to_owned());
                if !weak && optional.contains(dep) {
                    present
                        .entry(package.clone())
                        .or_default()
                        .push(via(feature));
                }
                out.entry(package)
                    .or_default()
                    .push((wanted.to_owned(), via(feature)));
            }
        }
    }
    (out, present)
}

/// The features `default` turns on, through the features it names.
fn default_features(features: &dyn toml_edit::TableLike) -> BTreeSet<String> {
    let mut on = BTreeSet::new();
    let mut todo = vec!["default".to_owned()];
    while let Some(f) = todo.pop() {
        if !on.insert(f.clone()) {
            continue;
        }
        let values = features.get(&f).and_then(Item::as_array);
        for v in values.into_iter().flatten().filter_map(|v| v.as_str()) {
            if !v.contains('/') && !v.starts_with("dep:") {
                todo.push(v.to_owned());
            }
        }
    }
    on
}

/// Every package that depends on `target`, at any depth.
fn ancestors<'a>(packages: &'a [Locked], target: &str) -> BTreeSet<&'a str> {
    let mut out: BTreeSet<&str> = BTreeSet::new();
    let mut todo = vec![target.to_owned()];
    while let Some(at) = todo.pop() {
        for p in packages {
            if p.deps.contains(&at) && out.insert(p.name.as_str()) {
                todo.push(p.name.clone());
            }
        }
    }
    if let Some(p) = packages.iter().find(|p| p.name == target) {
        out.insert(p.name.as_str());
    }
    out
}

fn collect_dependency_tables<'a>(
    table: &'a dyn toml_edit::TableLike,
    out: &mut Vec<&'a dyn toml_edit::TableLike>,
) {
    for key in ["dependencies", "build-dependencies"] {
        if let Some(t) = table.get(key).and_then(Item::as_table_like) {
            out.push(t);
        }
    }
}

/// The shortest chain from a member's direct dependency down to `target`
/// (`reqwest -> native-tls -> openssl-sys`); just `target` when a member
/// names it itself or nothing leads to it.
fn chain(packages: &[Locked], members: &BTreeSet<&str>, target: &str) -> Vec<String> {
    let mut dependents: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in packages {
        for d in &p.deps {
            dependents
                .entry(d.as_str())
                .or_default()
                .insert(p.name.as_str());
        }
    }
    // Breadth first upwards; `up[x]` is the package x was reached from.
    let mut up: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([target]);
    let mut top = None;
    while let Some(at) = queue.pop_front() {
        let users = dependents.get(at).cloned().unwrap_or_default();
        if users.iter().any(|u| members.contains(u)) {
            top = Some(at);
            break;
        }
        for u in users {
            if u != target && !up.contains_key(u) {
                up.insert(u, at);
                queue.push_back(u);
            }
        }
    }
    let mut out = Vec::new();
    let mut at = top.unwrap_or(target);
    out.push(at.to_owned());
    while at != target {
        let Some(&below) = up.get(at) else { break };
        at = below;
        out.push(at.to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 3

[[package]]
name = "app"
version = "0.1.0"
dependencies = ["diesel", "reqwest"]

[[package]]
name = "diesel"
version = "2.2.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["pq-sys"]

[[package]]
name = "native-tls"
version = "0.2.12"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["openssl", "openssl-sys"]

[[package]]
name = "openssl"
version = "0.10.66"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["openssl-sys"]

[[package]]
name = "openssl-sys"
version = "0.9.103"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = []

[[package]]
name = "pq-sys"
version = "0.6.1"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "reqwest"
version = "0.12.5"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["hyper-tls", "native-tls 0.2.12"]

[[package]]
name = "hyper-tls"
version = "0.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = ["native-tls"]
"#;

    const MANIFEST: &str = r#"
[package]
name = "app"
[dependencies]
diesel = { version = "2", features = ["postgres"] }
reqwest = "0.12"
"#;

    #[test]
    fn system_libraries_are_named_with_the_chain_that_links_them() {
        let found = scan(LOCK, &[MANIFEST.to_owned()]);
        let lines: Vec<String> = found.iter().map(NativeDep::line).collect();
        assert_eq!(found.len(), 2, "{lines:#?}");
        assert_eq!(found[0].package, "openssl-sys");
        assert_eq!(found[0].chain, ["reqwest", "native-tls", "openssl-sys"]);
        // reqwest's own features (native-tls or rustls) are not in the project.
        assert_eq!(found[0].maybe_through, ["reqwest"]);
        assert!(
            lines[0].contains(") may link (through `reqwest`, whose features"),
            "{}",
            lines[0]
        );
        assert_eq!(found[1].package, "pq-sys");
        assert_eq!(found[1].chain, ["diesel", "pq-sys"]);
        assert!(lines[1].starts_with("pq-sys 0.6.1 (diesel -> pq-sys) links the system's libpq"));
    }

    #[test]
    fn a_library_built_from_source_is_not_reported() {
        let manifest = format!(
            "{MANIFEST}openssl = {{ version = \"0.10\", features = [\"vendored\"] }}\npq-sys = {{ version = \"0.6\", features = [\"bundled\"] }}\n"
        );
        assert_eq!(scan(LOCK, &[manifest]), Vec::new());
    }

    #[test]
    fn a_backend_chosen_by_a_feature_is_linked_only_with_it() {
        // The lock holds every backend any feature could need; diesel
        // links libpq only with its `postgres` feature, asked here by the
        // app's own `postgresql` feature, and `default` asks none.
        let manifest = r#"
[package]
name = "app"
[features]
default = []
postgresql = ["diesel/postgres"]
vendored_openssl = ["openssl/vendored"]
[dependencies]
diesel = { version = "2", features = ["chrono"] }
reqwest = "0.12"
openssl = "0.10"
"#;
        let found = scan(LOCK, &[manifest.to_owned()]);
        let lines: Vec<String> = found.iter().map(NativeDep::line).collect();
        assert_eq!(found.len(), 2, "{lines:#?}");
        assert_eq!(found[0].when, Vec::<String>::new());
        assert_eq!(
            found[0].bundled_when,
            ["feature `vendored_openssl` of `app`"]
        );
        assert_eq!(found[1].when, ["feature `postgresql` of `app`"]);
        assert!(
            lines[1].contains(
                "libpq (PostgreSQL's client library) with feature `postgresql` of `app`: "
            ),
            "{}",
            lines[1]
        );
        // Without any feature asking diesel for `postgres`, libpq is not linked.
        let mysql_only = manifest.replace("diesel/postgres", "diesel/mysql_backend");
        let found = scan(LOCK, &[mysql_only]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].package, "openssl-sys");
    }

    #[test]
    fn an_optional_dependency_is_linked_with_the_feature_that_enables_it() {
        let lock = r#"
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["libsqlite3-sys"]

[[package]]
name = "libsqlite3-sys"
version = "0.37.0"
source = "registry+x"
"#;
        let manifest = r#"
[package]
name = "app"
[features]
sqlite = ["dep:libsqlite3-sys", "libsqlite3-sys/bundled"]
sqlite_system = ["dep:libsqlite3-sys"]
[dependencies]
libsqlite3-sys = { version = "0.37", optional = true }
"#;
        let found = scan(lock, &[manifest.to_owned()]);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(
            found[0].when,
            [
                "feature `sqlite_system` of `app`",
                "feature `sqlite` of `app`"
            ]
        );
        assert_eq!(found[0].bundled_when, ["feature `sqlite` of `app`"]);
        let on = manifest.replace("[features]", "[features]\ndefault = [\"sqlite\"]");
        assert_eq!(scan(lock, &[on]), Vec::new());
    }

    #[test]
    fn sqlite_is_bundled_by_the_feature_a_manifest_asks() {
        let lock = r#"
[[package]]
name = "app"
version = "0.1.0"
dependencies = ["rusqlite"]

[[package]]
name = "rusqlite"
version = "0.31.0"
source = "registry+x"
dependencies = ["libsqlite3-sys"]

[[package]]
name = "libsqlite3-sys"
version = "0.28.0"
source = "registry+x"
"#;
        let plain = "[dependencies]\nrusqlite = \"0.31\"\n".to_owned();
        let found = scan(lock, &[plain]);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].chain, ["rusqlite", "libsqlite3-sys"]);
        let bundled = "[workspace.dependencies]\nrusqlite = { version = \"0.31\", features = [\"bundled\"] }\n"
            .to_owned();
        assert_eq!(scan(lock, &[bundled]), Vec::new());
        // sqlx 0.8: `sqlite` bundles, `sqlite-unbundled` links the system's,
        // and a Postgres-only app builds no SQLite though the lock has it.
        let sqlx_lock = lock
            .replace("rusqlite", "sqlx")
            .replace("0.31.0", "0.8.2")
            .replace("[\"libsqlite3-sys\"]", "[\"sqlx-sqlite\"]")
            + "\n[[package]]\nname = \"sqlx-sqlite\"\nversion = \"0.8.2\"\nsource = \"registry+x\"\ndependencies = [\"libsqlite3-sys\"]\n";
        let sqlx = |features: &str| {
            let manifest = format!(
                "[dependencies]\nsqlx = {{ version = \"0.8\", features = [{features}] }}\n"
            );
            scan(&sqlx_lock, &[manifest]).len()
        };
        assert_eq!(sqlx("\"sqlite-unbundled\""), 1);
        assert_eq!(sqlx("\"sqlite\""), 0);
        assert_eq!(sqlx("\"postgres\""), 0);
    }

    #[test]
    fn unreadable_input_gives_nothing() {
        assert_eq!(scan("not [ toml", &[]), Vec::new());
        assert_eq!(scan("", &["[[[".to_owned()]), Vec::new());
    }
}
