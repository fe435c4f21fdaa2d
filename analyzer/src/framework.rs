//! Framework profiles: what each web framework cleave reads looks like from
//! the outside — the packages that bring it, the types its routers are
//! built from, and the items that start it serving.
//!
//! One profile per framework, read by every stage that needs to know a
//! framework: the route detectors (which crates can build routes), the
//! worker detector and hazards (what a server start looks like), startup
//! and codegen (which binary serves, which items the server shim mirrors).
//! No other module lists a framework's packages or server items. This
//! module holds data and lookups over a [`Project`]'s manifests only; it
//! reads no syntax and knows nothing of Lambda.

use crate::entrypoints::Framework;
use crate::load::{Package, Project};

/// How an item starts a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// A fn whose call serves (`axum::serve`).
    Fn,
    /// A type whose constructors and builder methods make a server
    /// (`actix_web::HttpServer`, `axum::Server`).
    Type,
    /// A method called on the framework's app value (`rocket`'s `.launch()`).
    Method,
    /// An attribute that turns a fn into a serving `main` (`#[launch]`).
    Attribute,
    /// A method serving one accepted connection, called in a hand-written
    /// accept loop (hyper's `builder.serve_connection(io, service)`, with
    /// an axum router as the service).
    Connection,
}

/// An item of a framework's API that starts (or is) a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerItem {
    /// The path as the framework's crate exports it (crate name with `_`).
    pub path: &'static [&'static str],
    pub kind: ServerKind,
    /// Whether cleave's server shim mirrors it (the generated functions
    /// serve on Lambda through it); `false` for servers the shim does not
    /// shadow (`hyper::Server`, which no facade's package re-exports).
    pub mirrored: bool,
}

/// Everything cleave knows about one framework's outside.
#[derive(Debug)]
pub struct Profile {
    pub framework: Framework,
    /// Packages (as Cargo names them) whose presence in a package's
    /// dependencies means its crates can use the framework.
    pub packages: &'static [&'static str],
    /// Types routes are registered on (including OpenAPI wrappers that share
    /// the framework's methods).
    pub router_types: &'static [&'static str],
    /// Items that start serving, in the order a reader meets them.
    pub servers: &'static [ServerItem],
    /// Types of services that serve files from a directory or a single file
    /// (a `static` entry point rather than a handler).
    pub file_services: &'static [&'static str],
}

const fn item(path: &'static [&'static str], kind: ServerKind) -> ServerItem {
    ServerItem {
        path,
        kind,
        mirrored: true,
    }
}

/// A server item the shim does not mirror.
const fn foreign(path: &'static [&'static str], kind: ServerKind) -> ServerItem {
    ServerItem {
        path,
        kind,
        mirrored: false,
    }
}

/// axum 0.4 to 0.8; aide's `ApiRouter` and utoipa-axum's `OpenApiRouter`
/// wrap its `Router`; axum <= 0.6 serves through hyper 0.14's `Server`
/// (re-exported as `axum::Server`); the `axum-server` crate serves axum
/// apps too (`bind`, `bind_rustls`, `from_tcp`, .. make its `Server`); an
/// accept loop of the workspace's own hands each connection to hyper 1's
/// `serve_connection`.
pub static AXUM: Profile = Profile {
    framework: Framework::Axum,
    packages: &["axum", "shuttle-axum"],
    router_types: &["Router", "ApiRouter", "OpenApiRouter"],
    servers: &[
        item(&["axum", "serve"], ServerKind::Fn),
        item(&["axum", "Server"], ServerKind::Type),
        foreign(&["hyper", "Server"], ServerKind::Type),
        item(&["axum_server", "bind"], ServerKind::Fn),
        item(&["axum_server", "bind_rustls"], ServerKind::Fn),
        item(&["axum_server", "bind_openssl"], ServerKind::Fn),
        item(&["axum_server", "from_tcp"], ServerKind::Fn),
        item(&["axum_server", "from_tcp_rustls"], ServerKind::Fn),
        item(&["axum_server", "from_unix"], ServerKind::Fn),
        item(&["axum_server", "from_unix_rustls"], ServerKind::Fn),
        item(&["axum_server", "Server"], ServerKind::Type),
        foreign(&["hyper", "serve_connection"], ServerKind::Connection),
    ],
    file_services: &[
        "ServeDir",
        "ServeFile",
        "ServeEmbed",
        "MemoryServe",
        "SpaRouter",
    ],
};

/// actix-web 4.
pub static ACTIX_WEB: Profile = Profile {
    framework: Framework::ActixWeb,
    packages: &["actix-web"],
    router_types: &["App", "Scope", "Resource"],
    servers: &[
        item(&["actix_web", "HttpServer"], ServerKind::Type),
        item(&["actix_web", "dev", "Server"], ServerKind::Type),
        item(&["actix_web", "dev", "ServerHandle"], ServerKind::Type),
    ],
    // actix-files; actix-web-static-files' `ResourceFiles` (files embedded
    // at build time).
    file_services: &["Files", "NamedFile", "ResourceFiles"],
};

/// rocket 0.5: `#[launch]` and `#[rocket::main]` both expand to
/// `rocket::async_main(..)`; `.launch()` is an inherent method of `Rocket`.
pub static ROCKET: Profile = Profile {
    framework: Framework::Rocket,
    packages: &["rocket"],
    router_types: &["Rocket"],
    servers: &[
        item(&["rocket", "launch"], ServerKind::Attribute),
        item(&["rocket", "main"], ServerKind::Attribute),
        item(&["rocket", "async_main"], ServerKind::Fn),
        item(&["rocket", "Rocket", "launch"], ServerKind::Method),
    ],
    file_services: &["FileServer", "StaticFiles"],
};

/// Every profile, in [`Framework`] order.
pub static PROFILES: [&Profile; 3] = [&AXUM, &ACTIX_WEB, &ROCKET];

/// The profile of a framework.
pub fn profile(framework: Framework) -> &'static Profile {
    match framework {
        Framework::Axum => &AXUM,
        Framework::ActixWeb => &ACTIX_WEB,
        Framework::Rocket => &ROCKET,
    }
}

impl Profile {
    /// Whether a package depends on the framework directly (by package
    /// name, or under its usual crate name through a rename).
    pub fn used_by(&self, package: &Package) -> bool {
        package.dependencies.iter().any(|d| {
            self.packages.contains(&d.package.as_str())
                || self
                    .packages
                    .iter()
                    .any(|p| p.replace('-', "_") == d.extern_name)
        })
    }

    /// Whether a crate's package depends on the framework directly.
    pub fn used_by_crate(&self, project: &Project, krate: usize) -> bool {
        project
            .crates
            .get(krate)
            .and_then(|c| project.packages.get(c.package))
            .is_some_and(|p| self.used_by(p))
    }

    /// Whether any package of the project depends on the framework directly.
    pub fn used_in(&self, project: &Project) -> bool {
        project.packages.iter().any(|p| self.used_by(p))
    }

    /// The server items named by the last segments of a written path
    /// (`serve`, `axum::serve`, `HttpServer`), as the framework exports them.
    pub fn server_named(&self, names: &[&str]) -> Option<&'static ServerItem> {
        let last = names.last()?;
        self.servers
            .iter()
            .find(|s| s.path.last() == Some(last) && (names.len() == 1 || s.path.ends_with(names)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::Dependency;

    fn package(deps: &[(&str, &str)]) -> Package {
        Package {
            name: "app".into(),
            dir: String::new(),
            dependencies: deps
                .iter()
                .map(|(extern_name, package)| Dependency {
                    extern_name: (*extern_name).into(),
                    package: (*package).into(),
                    version: None,
                    path: None,
                    features: Vec::new(),
                })
                .collect(),
            features: Default::default(),
            declared: Default::default(),
        }
    }

    #[test]
    fn a_package_uses_a_framework_by_package_or_crate_name() {
        let plain = package(&[("actix_web", "actix-web")]);
        let renamed = package(&[("web", "actix-web")]);
        let other = package(&[("clap", "clap")]);
        assert!(ACTIX_WEB.used_by(&plain));
        assert!(ACTIX_WEB.used_by(&renamed));
        assert!(!ACTIX_WEB.used_by(&other));
        assert!(!AXUM.used_by(&plain));
        assert!(AXUM.used_by(&package(&[("axum", "shuttle-axum")])));
    }

    #[test]
    fn server_items_are_found_by_the_path_as_written() {
        let serve = AXUM.server_named(&["axum", "serve"]).map(|s| s.kind);
        assert_eq!(serve, Some(ServerKind::Fn));
        assert_eq!(
            AXUM.server_named(&["serve"]).map(|s| s.path),
            Some(&["axum", "serve"][..])
        );
        assert_eq!(
            ACTIX_WEB.server_named(&["dev", "Server"]).map(|s| s.path),
            Some(&["actix_web", "dev", "Server"][..])
        );
        assert_eq!(AXUM.server_named(&["tokio", "serve"]), None);
        assert_eq!(ROCKET.server_named(&["get"]), None);
    }
}
