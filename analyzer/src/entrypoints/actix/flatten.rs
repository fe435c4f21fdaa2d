//! Turns finished apps into entry points: prefixes joined with paths,
//! middleware outermost first, methods narrowed by guards.

use super::*;
#[allow(unused_imports)]
use super::{app::*, eval::*, handlers::*};

/// Turns finished apps into entry points.
pub(super) struct Flatten<'o, 'd, 'a> {
    pub(super) defs: &'d DefMap<'a>,
    pub(super) out: &'o mut BTreeSet<EntryPoint>,
    pub(super) registered: &'o mut BTreeSet<FnId>,
}

impl Flatten<'_, '_, '_> {
    /// `allowed`: the methods the enclosing scopes' guards let through
    /// (empty: any).
    pub(super) fn node(
        &mut self,
        node: &Node,
        prefixes: &[String],
        outer: &[Middleware],
        allowed: &[String],
    ) {
        let prefixes = cross(prefixes, &node.prefixes);
        let allowed = narrow(allowed, &node.methods);
        let mut mws = outer.to_vec();
        mws.extend(node.wraps.iter().rev().cloned());
        for child in &node.children {
            match child {
                Child::Scope(n) => self.node(n, &prefixes, &mws, &allowed),
                Child::Resource(r) => {
                    let paths = cross(&prefixes, &r.paths);
                    let allowed = narrow(&allowed, &r.methods);
                    let mut mws = mws.clone();
                    mws.extend(r.wraps.iter().rev().cloned());
                    for route in &r.routes {
                        let methods = narrow(&allowed, &route.methods);
                        // Guards that let no method through: never reached.
                        if methods.is_empty() && !(allowed.is_empty() && route.methods.is_empty()) {
                            continue;
                        }
                        for h in &route.handlers {
                            for p in &paths {
                                for m in methods_or_any(&methods) {
                                    self.push(&m, p, h, &route.registered, &mws);
                                }
                            }
                        }
                    }
                }
                Child::Attr(f) => self.attr(*f, &prefixes, &mws, &allowed),
            }
        }
    }

    pub(super) fn attr(
        &mut self,
        f: FnId,
        prefixes: &[String],
        outer: &[Middleware],
        allowed: &[String],
    ) {
        let Some(data) = self.defs.fns.get(f) else {
            return;
        };
        self.registered.insert(f);
        for attr in &data.item.attrs {
            let Some((methods, path)) = attr_route(attr) else {
                continue;
            };
            let registered = Location {
                file: data.file.to_owned(),
                line: attr.line,
            };
            // `#[get("/p", wrap = "Logger::default()")]`: resource-level middleware.
            let mut mws = outer.to_vec();
            for (k, v) in attr.named.iter().rev() {
                if k == "wrap" {
                    mws.push(Middleware {
                        kind: "wrap".to_owned(),
                        name: v.clone(),
                        handler: None,
                        at: registered.clone(),
                    });
                }
            }
            for p in cross(prefixes, std::slice::from_ref(&path)) {
                for m in methods
                    .iter()
                    .filter(|m| allowed.is_empty() || allowed.contains(m))
                {
                    self.push(m, &p, &Handler::Fn(f), &registered, &mws);
                }
            }
        }
    }

    pub(super) fn push(
        &mut self,
        method: &str,
        raw: &str,
        h: &Handler,
        registered: &Location,
        mws: &[Middleware],
    ) {
        let defs = self.defs;
        let (handler, at, root) = match h {
            Handler::Fn(f) => {
                let Some(d) = defs.fns.get(*f) else { return };
                (
                    d.id.clone(),
                    Location {
                        file: d.file.to_owned(),
                        line: d.line,
                    },
                    Some(*f),
                )
            }
            Handler::Closure { func, line } => {
                let Some(d) = defs.fns.get(*func) else { return };
                (
                    format!("{}::{{closure}}", d.id),
                    Location {
                        file: d.file.to_owned(),
                        line: *line,
                    },
                    Some(*func),
                )
            }
            Handler::Unresolved(text) | Handler::Files(text) => {
                (text.clone(), registered.clone(), None)
            }
        };
        self.out.insert(EntryPoint {
            kind: match h {
                Handler::Files(_) => EntryKind::Static,
                _ => EntryKind::Http,
            },
            framework: Some(Framework::ActixWeb),
            method: method.to_owned(),
            path: full_path(raw),
            handler,
            at,
            registered: registered.clone(),
            middleware: mws.to_vec(),
            root,
        });
    }
}

pub(super) fn methods_or_any(methods: &[String]) -> Vec<String> {
    if methods.is_empty() {
        vec!["ANY".to_owned()]
    } else {
        methods.to_vec()
    }
}

/// Every prefix joined with every path, the way actix nests: a scope's path
/// and a resource's path are concatenated (`/api` + `` = `/api`, `/api` +
/// `/` = `/api/`), a missing leading slash is added.
pub(super) fn cross(prefixes: &[String], paths: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for p in prefixes {
        for s in paths {
            let joined = if s.is_empty() {
                p.clone()
            } else if s.starts_with('/') {
                format!("{p}{s}")
            } else {
                format!("{p}/{s}")
            };
            if !out.contains(&joined) {
                out.push(joined);
            }
        }
    }
    out
}

/// Normalises a joined actix path, keeping a trailing slash actix would
/// match literally (`web::scope("/api").route("/", ..)` serves `/api/`, not `/api`).
pub(super) fn full_path(raw: &str) -> String {
    let norm = normalise_path(raw);
    if raw.ends_with('/') && norm != "/" {
        format!("{norm}/")
    } else {
        norm
    }
}
