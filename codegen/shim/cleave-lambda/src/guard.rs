//! The route guard: given a function's own routes and the routes other
//! functions own (cleave's form: `GET /notes/{id}`, `{*rest}`, actix
//! `{id:\d+}`), decides whether a request is one another function answers.
//! Framework-independent apart from two facts per framework: how it reads
//! the request path before routing (axum: raw; actix-web: percent-decoded
//! except `%`, `/`, `+`; rocket: decoded segments) and whether a rest
//! segment also matches nothing (rocket's `<path..>`, actix's `{tail:.*}`).
//!
//! Routes are matched with `matchit` (axum's router), one table per method
//! holding both sets, so the most specific route wins as in the framework
//! (`/notes/new` over `/notes/{id}`). A request is refused when any
//! normalised form of its path (the framework's own, percent-decoded, dot
//! segments resolved, duplicate slashes merged, trailing slash trimmed)
//! lands on another function's route: a layer in front of the router (a
//! path-normalising middleware, a proxy) may route on any of them. Own
//! routes and requests no route matches reach the app.

use std::collections::BTreeMap;

/// The web framework whose path semantics the guard follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framework {
    Axum,
    ActixWeb,
    Rocket,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    Own,
    Other,
}

/// The compiled route tables of one function.
pub struct Guard {
    framework: Framework,
    by_method: BTreeMap<String, matchit::Router<Owner>>,
    /// Routes for any method, for a request method no route names.
    any: matchit::Router<Owner>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard")
            .field("framework", &self.framework)
            .field("methods", &self.by_method.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Guard {
    /// `own` and `elsewhere` are `(method, path)` pairs; `ANY` is every method.
    pub fn new(framework: Framework, own: &[(&str, &str)], elsewhere: &[(&str, &str)]) -> Self {
        let tagged: Vec<(&str, &str, Owner)> = own
            .iter()
            .map(|(m, p)| (*m, *p, Owner::Own))
            .chain(elsewhere.iter().map(|(m, p)| (*m, *p, Owner::Other)))
            .collect();
        let insert = |router: &mut matchit::Router<Owner>, method: &str| {
            // Own routes first, method-specific ones before `ANY`: on an exact
            // clash the first inserted keeps the pattern.
            for any in [false, true] {
                for (m, p, owner) in &tagged {
                    let wanted = if any { *m == "ANY" } else { *m == method };
                    if wanted {
                        for pattern in patterns(framework, p) {
                            let _ = router.insert(pattern, *owner);
                        }
                    }
                }
            }
        };
        let mut by_method = BTreeMap::new();
        for (m, _, _) in &tagged {
            if *m != "ANY" && !by_method.contains_key(*m) {
                let mut router = matchit::Router::new();
                insert(&mut router, m);
                by_method.insert((*m).to_owned(), router);
            }
        }
        let mut any = matchit::Router::new();
        insert(&mut any, "ANY");
        Self {
            framework,
            by_method,
            any,
        }
    }

    /// Whether a request of `method` to `path` (the request target, query
    /// allowed) is answered 404 here: some form of its path routes to a
    /// route another function owns.
    pub fn refuses(&self, method: &str, path: &str) -> bool {
        let path = path.split(['?', '#']).next().unwrap_or("");
        candidates(self.framework, path)
            .iter()
            .any(|p| self.owner(method, p) == Some(Owner::Other))
    }

    fn owner(&self, method: &str, path: &str) -> Option<Owner> {
        let router = self.by_method.get(method).unwrap_or(&self.any);
        if let Ok(m) = router.at(path) {
            return Some(*m.value);
        }
        // HEAD is answered by GET routes.
        match (method, self.by_method.get("GET")) {
            ("HEAD", Some(get)) => get.at(path).ok().map(|m| *m.value),
            _ => None,
        }
    }
}

/// The matchit patterns of a route in cleave's form: parameters named by
/// position (matchit refuses two names at one place), rest segments as
/// `{*rest}`, and the bare prefix too where the rest may match nothing.
fn patterns(framework: Framework, path: &str) -> Vec<String> {
    let mut out = String::new();
    let mut n = 0;
    let mut empty_rest = None;
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        let inner = seg
            .strip_prefix('{')
            .and_then(|s| s.strip_suffix('}'))
            .or_else(|| seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')));
        let Some(inner) = inner else {
            out.push_str(&seg.replace('{', "{{").replace('}', "}}"));
            continue;
        };
        let rocket_rest = seg.starts_with('<') && inner.ends_with("..");
        let (rest, may_be_empty) = if rocket_rest {
            (true, true)
        } else if inner.starts_with('*') {
            (true, framework == Framework::Rocket)
        } else {
            match inner.split_once(':') {
                Some((_, re)) if re.contains(".*") => (true, true),
                Some((_, re)) if re.contains(".+") => (true, false),
                _ => (false, false),
            }
        };
        if rest {
            if may_be_empty {
                empty_rest = Some(out.trim_end_matches('/').to_owned());
            }
            out.push_str("{*rest}");
            break;
        }
        n += 1;
        out.push_str(&format!("{{p{n}}}"));
    }
    let mut all = vec![out];
    if let Some(bare) = empty_rest {
        all.push(format!("{bare}/"));
        all.push(if bare.is_empty() {
            "/".to_owned()
        } else {
            bare
        });
    }
    all
}

/// Every form of `path` a router may see: the framework's own reading of
/// it, percent-decoded, and each with dot segments resolved, duplicate
/// slashes merged and the trailing slash trimmed (alone and together).
fn candidates(framework: Framework, path: &str) -> Vec<String> {
    let own = match framework {
        Framework::Axum => path.to_owned(),
        Framework::ActixWeb => decode(path, b"%/+"),
        Framework::Rocket => decode(path, b"/"),
    };
    let decoded = decode(path, b"/");
    let mut out: Vec<String> = Vec::new();
    for base in [own, decoded, path.to_owned()] {
        for mask in 0..8u8 {
            let mut p = base.clone();
            if mask & 1 != 0 {
                p = resolve_dots(&p);
            }
            if mask & 2 != 0 {
                p = merge_slashes(&p);
            }
            if mask & 4 != 0 && p.len() > 1 {
                p = p.trim_end_matches('/').to_owned();
                if p.is_empty() {
                    p.push('/');
                }
            }
            if !out.contains(&p) {
                out.push(p);
            }
        }
    }
    out
}

/// Decodes `%XX` escapes except those of the bytes in `keep`; the path as
/// it was when the result would not be UTF-8.
fn decode(path: &str, keep: &[u8]) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| (b as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                let b = (h * 16 + l) as u8;
                if !keep.contains(&b) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| path.to_owned())
}

/// `/a/./b/../c` -> `/a/c` (RFC 3986 remove_dot_segments, on a path only).
fn resolve_dots(path: &str) -> String {
    let mut stack: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing = false;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => trailing = i == last,
            ".." => {
                stack.pop();
                trailing = i == last;
            }
            s => {
                stack.push(s);
                trailing = false;
            }
        }
    }
    let mut out = format!("/{}", stack.join("/"));
    if trailing && !out.ends_with('/') {
        out.push('/');
    }
    out
}

fn merge_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: &[(&str, &str)] = &[
        ("GET", "/api/profile"),
        ("GET", "/api/notes/{id}"),
        ("ANY", "/hooks/{name}"),
    ];

    fn guard(framework: Framework, elsewhere: &[(&str, &str)]) -> Guard {
        Guard::new(framework, OWN, elsewhere)
    }

    /// What every framework's guard must refuse: the foreign route and the
    /// spellings of it a router or a layer in front of it may resolve.
    const FOREIGN_VARIANTS: [&str; 9] = [
        "/api/user",
        "/api/user?x=1",
        "/api/%75ser",
        "/api/%75%73er",
        "/api//user",
        "//api/user",
        "/api/./user",
        "/api/x/../user",
        "/api/user/",
    ];

    fn check_framework(framework: Framework, elsewhere: &[(&str, &str)]) {
        let g = guard(framework, elsewhere);
        for path in FOREIGN_VARIANTS {
            assert!(g.refuses("GET", path), "{framework:?}: GET {path}");
            assert!(g.refuses("HEAD", path), "{framework:?}: HEAD {path}");
        }
        // Own routes, other methods and unmatched paths reach the app.
        for (method, path) in [
            ("GET", "/api/profile"),
            ("GET", "/api/profile/"),
            ("GET", "/api/notes/7"),
            ("HEAD", "/api/notes/7"),
            ("DELETE", "/hooks/x"),
            ("POST", "/api/user"),
            ("GET", "/api/users"),
            ("GET", "/api/%2Fuser"),
            ("GET", "/nowhere"),
            ("GET", "/"),
        ] {
            assert!(!g.refuses(method, path), "{framework:?}: {method} {path}");
        }
    }

    #[test]
    fn axum_foreign_routes_and_their_spellings_are_refused() {
        check_framework(
            Framework::Axum,
            &[("GET", "/api/user"), ("PUT", "/api/notes/{id}")],
        );
        let g = guard(
            Framework::Axum,
            &[("GET", "/api/user"), ("PUT", "/api/notes/{id}")],
        );
        assert!(g.refuses("PUT", "/api/notes/3"));
        assert!(!g.refuses("GET", "/api/notes/3"));
    }

    #[test]
    fn actix_foreign_routes_and_their_spellings_are_refused() {
        let elsewhere = &[
            ("GET", "/api/user"),
            ("GET", "/files/{tail:.*}"),
            ("GET", "/n/{id:\\d+}"),
        ];
        check_framework(Framework::ActixWeb, elsewhere);
        let g = guard(Framework::ActixWeb, elsewhere);
        assert!(g.refuses("GET", "/files"));
        assert!(g.refuses("GET", "/files/a/b"));
        assert!(g.refuses("GET", "/n/12"));
        // actix keeps `%2B` encoded, the decoded form is a candidate anyway.
        assert!(g.refuses("GET", "/api/us%65r"));
    }

    #[test]
    fn rocket_foreign_routes_and_their_spellings_are_refused() {
        let elsewhere = &[
            ("GET", "/api/user"),
            ("GET", "/static/{*path}"),
            ("GET", "/notes/new"),
        ];
        check_framework(Framework::Rocket, elsewhere);
        let g = Guard::new(Framework::Rocket, &[("GET", "/notes/{id}")], elsewhere);
        // `<path..>` matches nothing too.
        assert!(g.refuses("GET", "/static"));
        assert!(g.refuses("GET", "/static/a.css"));
        // The most specific route decides, as in the router.
        assert!(g.refuses("GET", "/notes/new"));
        assert!(g.refuses("GET", "/notes/%6Eew"));
        assert!(!g.refuses("GET", "/notes/7"));
    }

    #[test]
    fn any_routes_and_explicit_methods() {
        let g = Guard::new(
            Framework::Axum,
            &[("POST", "/items")],
            &[("ANY", "/items"), ("ANY", "/hook")],
        );
        assert!(!g.refuses("POST", "/items"));
        assert!(g.refuses("GET", "/items"));
        assert!(g.refuses("PATCH", "/hook"));
        assert!(g.refuses("BREW", "/hook"));
    }

    #[test]
    fn routes_of_one_shape_with_other_names_do_not_clash() {
        let g = Guard::new(
            Framework::Rocket,
            &[("GET", "/n/{id}")],
            &[("DELETE", "/n/{slug}")],
        );
        assert!(g.refuses("DELETE", "/n/a"));
        assert!(!g.refuses("GET", "/n/a"));
    }

    #[test]
    fn path_helpers() {
        assert_eq!(resolve_dots("/a/./b/../c"), "/a/c");
        assert_eq!(resolve_dots("/a/b/.."), "/a/");
        assert_eq!(merge_slashes("//a///b/"), "/a/b/");
        assert_eq!(decode("/a%2Fb%41", b"/"), "/a%2FbA");
        assert_eq!(decode("/%ff", b"/"), "/%ff");
        assert_eq!(decode("/%4", b"/"), "/%4");
    }
}
