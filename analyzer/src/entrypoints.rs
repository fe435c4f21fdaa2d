//! Entry points: [`DefMap`] -> every way work enters the program: HTTP
//! routes (one detector per framework) and workers started beside the server.
//!
//! A detector reads the lowered syntax of the workspace (router-building
//! code, attribute macros) and resolves handlers through the [`DefMap`] to
//! their definitions. It never runs code and never guesses: a route set it
//! cannot fix statically (a prefix computed at runtime, routes chosen by an
//! `if` or registered in a loop, a macro it cannot read) yields every
//! variant it found plus a [`Diagnostic`] saying so. Paths come out
//! normalised (`{param}`, `{*rest}`) whatever the framework wrote.

pub mod actix;
pub mod axum;
mod leptos;
mod locals;
pub mod prefix;
pub mod rocket;
pub mod workers;

use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::resolve::{DefMap, FnId};
use crate::syntax::Expr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    Http,
    /// Files served from a directory or file (`ServeDir`, `actix_files::Files`,
    /// rocket's `FileServer`): a route with no workspace handler.
    Static,
    /// Routes made by a crate outside the workspace and mounted whole
    /// (`.mount("/auth", auth_crate::routes())`), under `ANY prefix/{*rest}`.
    External,
    /// Work started from `main` that outlives requests.
    Worker,
    /// A worker that runs on an interval or a cron schedule.
    Schedule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Framework {
    #[serde(rename = "axum")]
    Axum,
    #[serde(rename = "actix-web")]
    ActixWeb,
    #[serde(rename = "rocket")]
    Rocket,
}

impl Framework {
    pub fn name(self) -> &'static str {
        match self {
            Framework::Axum => "axum",
            Framework::ActixWeb => "actix-web",
            Framework::Rocket => "rocket",
        }
    }
}

/// The fns a binary's start can run: every workspace fn reachable from a
/// binary crate's `main` (or a rocket `#[launch]` fn, which becomes it), or
/// from a trait impl's method, through calls and fns named as values. Method calls reach every
/// workspace method of that name, so the set errs on the side of "runs".
/// `None` when the workspace has no binary (a library: whatever serves it
/// is outside).
pub(crate) fn run_by_binaries(defs: &DefMap<'_>) -> Option<std::collections::BTreeSet<FnId>> {
    let mut stack = binary_mains(defs);
    if stack.is_empty() {
        return None;
    }
    // A trait impl's method may be called by a framework (a fairing's
    // `on_ignite`, a CLI framework's `Runnable::run`), not by workspace code.
    stack.extend((0..defs.fns.len()).filter(|&f| {
        defs.fns[f]
            .impl_
            .is_some_and(|i| defs.impls[i].trait_path.is_some())
    }));
    let mut seen: std::collections::BTreeSet<FnId> = stack.iter().copied().collect();
    while let Some(f) = stack.pop() {
        let Some(body) = &defs.fns[f].def.body else {
            continue;
        };
        let mut next = Vec::new();
        body.walk(&mut |e| match e {
            Expr::Path { path, .. } => next.extend(defs.resolve_fn_path(f, path)),
            Expr::MethodCall { method, .. } => {
                next.extend(defs.methods_named(method).iter().copied())
            }
            _ => {}
        });
        for g in next {
            if seen.insert(g) {
                stack.push(g);
            }
        }
    }
    Some(seen)
}

/// The note for routes fn `f` builds (`what`: "builds", "mounts") that no
/// binary's start reaches ([`run_by_binaries`]): they are not listed.
pub(crate) fn unserved_note(defs: &DefMap<'_>, f: FnId, what: &str) -> Diagnostic {
    let data = &defs.fns[f];
    Diagnostic::new(
        "unserved-router",
        crate::diagnostic::Severity::Note,
        data.file,
        data.line,
        format!(
            "`{}` {what} routes, but no binary's `main` reaches it: cleave does not list them \
             as served routes",
            data.id
        ),
    )
}

/// The fns a binary starts at: each binary crate's `main`, or the rocket
/// `#[launch]` fn that becomes it. In fn id order.
pub(crate) fn binary_mains(defs: &DefMap<'_>) -> Vec<FnId> {
    let project = defs.project;
    (0..defs.fns.len())
        .filter(|&f| {
            let d = &defs.fns[f];
            let m = &defs.mods[d.module];
            project.crates[m.krate].kind == crate::load::TargetKind::Bin
                && m.parent.is_none()
                && d.impl_.is_none()
                && (d.name == "main"
                    || d.item.attrs.iter().any(|a| a.path.last() == Some("launch")))
        })
        .collect()
}

/// Calls `f` with the initialiser of each `let NAME = ..` in a block
/// (nested blocks and closures included), for readers outside the
/// detectors (hazards).
pub fn find_local<'e>(b: &'e crate::syntax::Block, name: &str, f: &mut dyn FnMut(&'e Expr)) {
    locals::lets_in_block(b, &mut |n, init| {
        if n == name {
            f(init);
        }
    });
}

/// Whether a service expression builds one of the framework's file services
/// (`ServeDir::new("assets")`, `get_service(ServeFile::new(..)).layer(..)`).
pub(crate) fn serves_files(profile: &crate::framework::Profile, e: &Expr) -> bool {
    let mut found = false;
    e.walk(&mut |x| found |= is_file_service(profile, x));
    found
}

/// Whether a workspace fn's body builds a file service: `fn assets(dir)
/// -> MethodRouter { get_service(ServeDir::new(dir)) }`, called where a
/// service is mounted.
pub(crate) fn fn_serves_files(
    profile: &crate::framework::Profile,
    f: &crate::syntax::FnDef,
) -> bool {
    let mut found = false;
    if let Some(body) = &f.body {
        body.walk(&mut |x| found |= is_file_service(profile, x));
    }
    found
}

/// `ServeDir::new(..)` and the like: a call naming one of the profile's file services.
fn is_file_service(profile: &crate::framework::Profile, x: &Expr) -> bool {
    matches!(x, Expr::Call { func, .. }
        if matches!(func.peel(), Expr::Path { path, .. }
            if path.names().any(|n| profile.file_services.contains(&n))))
}

/// A place in the analysed source.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// Relative to the analysed root, `/`-separated.
    pub file: String,
    pub line: u32,
}

/// A middleware around a route: axum `layer`/`route_layer`, actix `wrap`,
/// rocket fairings and request guards.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Middleware {
    /// How it is attached: `layer`, `route_layer`, `wrap`, `wrap_fn`, `fairing`, `guard`.
    pub kind: String,
    /// As written, on one line: `TraceLayer::new_for_http()`,
    /// `from_fn_with_state(state.clone(), require_admin)`.
    pub name: String,
    /// The workspace fn that implements it, where the syntax names one (canonical path).
    pub handler: Option<String>,
    #[serde(flatten)]
    pub at: Location,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EntryPoint {
    pub kind: EntryKind,
    /// `None` for workers.
    pub framework: Option<Framework>,
    /// Upper-case (`GET`, `ANY`); empty for workers.
    pub method: String,
    /// The full path after all nesting, normalised; empty for workers.
    pub path: String,
    /// Canonical path of the handler's definition (`shop::routes::orders::create`),
    /// or `<enclosing fn>::{closure}` for a closure.
    pub handler: String,
    /// Where the handler is defined (for a closure: the closure itself).
    #[serde(flatten)]
    pub at: Location,
    /// Where the route is registered (the `.route(..)`, `#[get]`, `.spawn(..)`).
    pub registered: Location,
    /// Outermost first: the order a request passes through them.
    pub middleware: Vec<Middleware>,
    /// The call-graph node the entry point starts at (the handler, or the
    /// fn enclosing a closure handler). Not serialised: ids are per run.
    #[serde(skip)]
    pub root: Option<FnId>,
}

impl EntryKind {
    /// Whether entry points of this kind are requests a function answers
    /// (placed in the plan by `METHOD /path`), as opposed to work beside them.
    pub fn is_route(self) -> bool {
        matches!(
            self,
            EntryKind::Http | EntryKind::Static | EntryKind::External
        )
    }
}

impl EntryPoint {
    /// `"GET /orders/{id}"` for routes, `"worker shop::jobs::sweep"` for workers.
    pub fn route(&self) -> String {
        match self.kind {
            EntryKind::Http | EntryKind::Static | EntryKind::External => {
                format!("{} {}", self.method, self.path)
            }
            EntryKind::Worker => format!("worker {}", self.handler),
            EntryKind::Schedule => format!("schedule {}", self.handler),
        }
    }
}

/// What the detectors found.
#[derive(Debug, Default)]
pub struct Detection {
    pub entrypoints: Vec<EntryPoint>,
    pub diagnostics: Vec<Diagnostic>,
    /// Frameworks whose routes were found.
    pub frameworks: Vec<Framework>,
    /// What each scheduled worker does per round, by its handler and
    /// where it is started (`EntryPoint::registered`).
    pub works: std::collections::BTreeMap<(String, Location), workers::work::Work>,
}

/// Runs every detector over the workspace. Output is sorted.
pub fn detect(defs: &DefMap<'_>) -> Detection {
    detect_with(defs, &prefix::Overrides::new())
}

/// [`detect`], with the plan's `[prefix]` table for prefixes computed at runtime.
pub fn detect_with(defs: &DefMap<'_>, overrides: &prefix::Overrides) -> Detection {
    let mut out = Detection::default();
    axum::detect(defs, overrides, &mut out);
    actix::detect(defs, overrides, &mut out);
    rocket::detect(defs, overrides, &mut out);
    workers::detect(defs, &mut out);
    out.entrypoints.sort_by(|a, b| {
        (a.kind, &a.path, &a.method, &a.handler, &a.registered).cmp(&(
            b.kind,
            &b.path,
            &b.method,
            &b.handler,
            &b.registered,
        ))
    });
    out.entrypoints.dedup();
    for e in &out.entrypoints {
        if let Some(f) = e.framework
            && !out.frameworks.contains(&f)
        {
            out.frameworks.push(f);
        }
    }
    out.frameworks.sort();
    out.diagnostics.sort();
    out.diagnostics.dedup();
    out
}

/// What each entry point runs, in order: the workspace fns reachable from
/// its handler and from the middleware handlers around it, sorted.
pub fn reach_all(
    defs: &DefMap<'_>,
    graph: &crate::callgraph::CallGraph,
    entrypoints: &[EntryPoint],
) -> Vec<Vec<FnId>> {
    // Middleware handlers by id (built only when some entry point has middleware).
    let by_id: std::collections::BTreeMap<&str, FnId> = if entrypoints
        .iter()
        .any(|e| e.middleware.iter().any(|m| m.handler.is_some()))
    {
        defs.fns
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.as_str(), i))
            .collect()
    } else {
        std::collections::BTreeMap::new()
    };
    let mut seen = crate::callgraph::Seen::default();
    entrypoints
        .iter()
        .map(|e| {
            let mut roots = reach_roots(defs, e);
            roots.extend(
                e.middleware
                    .iter()
                    .filter_map(|m| m.handler.as_deref())
                    .filter_map(|h| by_id.get(h).copied()),
            );
            graph.reachable_with(&roots, &mut seen)
        })
        .collect()
}

/// Where an entry point's reach starts in the call graph: its handler; for a
/// closure, the workspace fns the closure's body names (not the fn around
/// it, which is often the whole router).
pub fn reach_roots(defs: &DefMap<'_>, e: &EntryPoint) -> Vec<FnId> {
    match e.root {
        Some(f) if e.handler.ends_with("::{closure}") => closure_calls(defs, f, e.at.line),
        Some(f) => {
            let mut roots = vec![f];
            if e.kind == EntryKind::Http {
                roots.extend(extractors(defs, f));
            }
            roots
        }
        None => Vec::new(),
    }
}

/// The framework calls these on a handler's parameter types before the
/// handler runs: axum's `FromRequestParts`/`FromRequest`, actix-web's
/// `FromRequest`, rocket's request, data and parameter guards.
const EXTRACTOR_METHODS: [&str; 5] = [
    "from_request_parts",
    "from_request",
    "from_data",
    "from_param",
    "from_segments",
];

/// The workspace's extractor methods of a handler's parameter types
/// (`AuthUser`, `Option<AdminUser>`, `&Session`): code a request runs
/// before the handler, which no call in the handler shows.
fn extractors(defs: &DefMap<'_>, f: FnId) -> Vec<FnId> {
    let data = &defs.fns[f];
    let mut out = Vec::new();
    for (_, ty) in &data.def.params {
        let mut ty = ty;
        // `&T`, and `Option<T>` / `Result<T, E>`, extract what `T` does.
        loop {
            match ty {
                crate::syntax::Ty::Ref(inner) => ty = inner,
                crate::syntax::Ty::Path(p)
                    if matches!(p.last(), Some("Option" | "Result"))
                        && p.segments.last().is_some_and(|s| !s.generics.is_empty()) =>
                {
                    ty = &p.segments[p.segments.len() - 1].generics[0];
                }
                _ => break,
            }
        }
        let crate::syntax::Ty::Path(p) = ty else {
            continue;
        };
        let Some(t) = defs.resolve_type_path(data.module, p) else {
            continue;
        };
        for name in EXTRACTOR_METHODS {
            out.extend(defs.methods_of(t, name).iter().copied());
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The workspace fns named inside the closure that starts at `line` in fn `f`.
fn closure_calls(defs: &DefMap<'_>, f: FnId, line: u32) -> Vec<FnId> {
    let Some(body) = &defs.fns[f].def.body else {
        return Vec::new();
    };
    let mut closure = None;
    body.walk(&mut |e| {
        if closure.is_none()
            && let Expr::Closure { line: l, .. } = e
            && *l == line
        {
            closure = Some(e);
        }
    });
    let mut out = Vec::new();
    if let Some(c) = closure {
        c.walk(&mut |e| match e {
            Expr::Call { func, .. } => {
                if let Expr::Path { path, .. } = func.peel() {
                    out.extend(defs.resolve_fn_path(f, path));
                }
            }
            Expr::Path { path, .. } => out.extend(defs.resolve_fn_path(f, path)),
            _ => {}
        });
    }
    out.sort();
    out.dedup();
    out
}

/// A hole of a `format!` template: `{}` and `{0}` are positional, `{name}` named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hole<'s> {
    Index(usize),
    Named(&'s str),
}

/// A call of a workspace `macro_rules!` (`build_app!(state, cors)`), for
/// the route interpreters: the body of the rule the call's tokens select,
/// its `$var`s plain. A `macro_rules!` body names items as written where it
/// is called, so the caller evaluates it in its own frame, with `params`
/// bound: the matcher's variables, one per argument of the call, when the
/// matcher is plain `$name:fragment` pieces between commas (else none).
pub(crate) struct MacroCall<'a> {
    pub body: &'a crate::syntax::Block,
    pub params: Vec<&'a str>,
}

/// How deep macro calls are followed inside macro bodies.
pub(crate) const MACRO_DEPTH: u32 = 4;

pub(crate) fn macro_call<'a>(
    defs: &DefMap<'a>,
    module: crate::resolve::ModId,
    path: &crate::syntax::Path,
    tokens: Option<&str>,
    args: usize,
) -> Option<MacroCall<'a>> {
    let tokens = tokens?;
    let m = defs.workspace_macro(module, path)?;
    let crate::syntax::ItemKind::MacroRules { bodies, rules } = &defs.macros[m].item.kind else {
        return None;
    };
    // The rule's body as read once, `$var`s plain: a rule whose body does
    // not read so is not evaluated.
    let i = crate::parse::macro_rule_of(rules, tokens).filter(|i| rules[*i].plain_reads)?;
    let body = bodies.get(i)?;
    let params = matcher_params(&rules.get(i)?.matcher)
        .filter(|p| p.len() == args)
        .unwrap_or_default();
    Some(MacroCall { body, params })
}

/// `$a:expr, $b:ident` -> `[a, b]`; `None` for a matcher with anything else
/// (literal tokens, groups, repetitions).
fn matcher_params(matcher: &str) -> Option<Vec<&str>> {
    if matcher.contains(['(', '[', '{']) {
        return None;
    }
    matcher
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (name, fragment) = p.strip_prefix('$')?.split_once(':')?;
            let (name, fragment) = (name.trim(), fragment.trim());
            let word =
                |w: &str| !w.is_empty() && w.chars().all(|c| c.is_alphanumeric() || c == '_');
            (word(name) && word(fragment)).then_some(name)
        })
        .collect()
}

/// Expands a `format!` template with `fill` giving each hole's text;
/// `None` as soon as one hole is unknown. `{{`/`}}` are literal braces; a
/// format spec (`{0:>5}`) is ignored.
pub(crate) fn expand_format(
    template: &str,
    mut fill: impl FnMut(Hole<'_>) -> Option<String>,
) -> Option<String> {
    let mut out = String::new();
    let mut next = 0usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '{' => {
                let mut hole = String::new();
                for d in chars.by_ref() {
                    if d == '}' {
                        break;
                    }
                    hole.push(d);
                }
                let name = hole.split(':').next().unwrap_or("").trim();
                let text = if name.is_empty() {
                    next += 1;
                    fill(Hole::Index(next - 1))
                } else if let Ok(i) = name.parse::<usize>() {
                    fill(Hole::Index(i))
                } else if name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    fill(Hole::Named(name))
                } else {
                    None
                };
                out.push_str(&text?);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// Normalises a route path to cleave's form: `{name}` for parameters and
/// `{*name}` for wildcards, whatever the framework wrote (axum `:id`,
/// `*rest`, `{id}`, `{*rest}`; actix `{id}`, `{id:\d+}`, `{tail:.*}`, `{tail}*`;
/// rocket `<id>`, `<path..>`). A query part (`?<q>`) is dropped. Leading
/// slash ensured; duplicate slashes collapsed; no trailing slash unless the
/// path is `/` (callers that must keep a framework's trailing slash add it).
pub fn normalise_path(raw: &str) -> String {
    let raw = raw.split('?').next().unwrap_or("");
    let mut segments = Vec::new();
    for seg in raw.split('/') {
        if seg.is_empty() {
            continue;
        }
        segments.push(normalise_segment(seg));
    }
    format!("/{}", segments.join("/"))
}

fn normalise_segment(seg: &str) -> String {
    // actix: a parameter after literal text in one segment (`call{route:.*}`).
    if let Some(at) = seg.find('{').filter(|&at| at > 0)
        && (seg.ends_with('}') || seg.ends_with("}*"))
        && seg[at + 1..]
            .find('{')
            .is_none_or(|i| seg[at + 1..][..i].contains(':'))
    {
        return format!("{}{}", &seg[..at], normalise_segment(&seg[at..]));
    }
    if let Some(name) = seg.strip_prefix(':') {
        return format!("{{{name}}}");
    }
    if let Some(name) = seg.strip_prefix('*') {
        return format!("{{*{name}}}");
    }
    if let Some(inner) = seg.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
        return match inner.strip_suffix("..") {
            Some(name) => format!("{{*{name}}}"),
            None => format!("{{{inner}}}"),
        };
    }
    // actix: a tail segment `{name}*` matches the rest of the path.
    if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix("}*")) {
        let name = inner.split(':').next().unwrap_or(inner);
        return format!("{{*{name}}}");
    }
    if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        if let Some(name) = inner.strip_prefix('*') {
            return format!("{{*{name}}}");
        }
        // actix: `{name:regex}`; a regex that matches slashes makes a wildcard.
        return match inner.split_once(':') {
            Some((name, re)) if regex_tail(re).is_some() => format!("{{*{name}}}"),
            Some((name, _)) => format!("{{{name}}}"),
            None => format!("{{{inner}}}"),
        };
    }
    seg.to_owned()
}

/// Whether an actix parameter's regex can take `/`, so that it matches the
/// rest of the path: a repeated `.` (`.*`, `.+`), or a repeated class that
/// holds `/` or, negated, does not exclude it (`[^{}]+`).
/// `Some(true)` when it may also take nothing (`*`).
pub(crate) fn regex_tail(re: &str) -> Option<bool> {
    let chars: Vec<char> = re.chars().collect();
    let repeated = |at: usize| match chars.get(at) {
        Some('*') => Some(true),
        Some('+') => Some(false),
        _ => None,
    };
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '.' => {
                if let Some(empty) = repeated(i + 1) {
                    return Some(empty);
                }
                i += 1;
            }
            '[' => {
                let negated = chars.get(i + 1) == Some(&'^');
                let mut j = i + 1 + usize::from(negated);
                let mut slash = false;
                // A `]` first in the class is a member, not its end.
                let mut first = true;
                while j < chars.len() && (chars[j] != ']' || first) {
                    if chars[j] == '\\' {
                        j += 1;
                    }
                    slash |= chars.get(j) == Some(&'/');
                    first = false;
                    j += 1;
                }
                if slash != negated
                    && let Some(empty) = repeated(j + 1)
                {
                    return Some(empty);
                }
                i = j + 1;
            }
            _ => i += 1,
        }
    }
    None
}

/// Joins a prefix and a path the way nesting does: `/api` + `/users` = `/api/users`,
/// `/api` + `/` = `/api`.
pub fn join_paths(prefix: &str, path: &str) -> String {
    normalise_path(&format!("{prefix}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_from_every_framework() {
        let cases = [
            ("/users/:id", "/users/{id}"),
            ("/files/*rest", "/files/{*rest}"),
            ("/files/{*rest}", "/files/{*rest}"),
            ("/notes/<id>", "/notes/{id}"),
            ("/static/<path..>", "/static/{*path}"),
            ("/search?<q>&<limit>", "/search"),
            ("/posts/{id:\\d+}", "/posts/{id}"),
            ("/tail/{tail:.*}", "/tail/{*tail}"),
            ("/dav/{tail}*", "/dav/{*tail}"),
            ("/plugins/{id}/call{route:.*}", "/plugins/{id}/call{*route}"),
            ("/files/{name:[a-z]+}.png", "/files/{name:[a-z]+}.png"),
            ("/download/{path:[^{}]+}", "/download/{*path}"),
            ("/v/{id:[^.]+}", "/v/{*id}"),
            ("/w/{id:[0-9a-f]+}", "/w/{id}"),
            ("/x/{n:\\.+}", "/x/{n}"),
            ("/y/{n:[.]+}", "/y/{n}"),
            ("//a//b/", "/a/b"),
            ("", "/"),
        ];
        for (raw, want) in cases {
            assert_eq!(normalise_path(raw), want, "{raw}");
        }
        assert_eq!(join_paths("/api", "/"), "/api");
        assert_eq!(join_paths("/api/", "/users"), "/api/users");
    }
}
