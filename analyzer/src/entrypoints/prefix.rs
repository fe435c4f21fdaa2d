//! Mount prefixes: the string a `.mount(..)`, `.nest(..)` or
//! `web::scope(..)` prefix evaluates to, part by part, and what cleave
//! assumes for the parts only known at runtime.
//!
//! Input: the prefix expression, the fn it is written in, and the plan's
//! `[prefix]` table (whole prefixes keyed by `file:line` of the mount).
//! Output: the prefix to join routes under and, when a part was assumed, a
//! warning naming the site, the runtime parts and the assumption. A part
//! that cannot be fixed statically (a config field, an env var, a method
//! call) is assumed empty — the default deployment of apps that serve under
//! a configurable base path — unless the plan says otherwise. It never
//! guesses a non-empty value.

use std::collections::BTreeMap;

use super::locals::find_let;
use crate::diagnostic::{Diagnostic, Severity};
use crate::resolve::{Def, DefMap, FnId, ModId};
use crate::syntax::{Expr, ItemKind, Pat, Path, expr_text};

/// The plan's `[prefix]` table: `"src/main.rs:585" = "/vault/api"`.
pub type Overrides = BTreeMap<String, String>;

/// How deep consts, locals and concatenations are followed.
const MAX_DEPTH: u32 = 8;

/// One piece of a prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// Fixed in the source.
    Known(String),
    /// Computed at runtime: the expression as written.
    Runtime(String),
}

/// The pieces of a prefix expression, in order.
pub(crate) fn parts(defs: &DefMap<'_>, f: FnId, e: &Expr) -> Vec<Part> {
    let mut out = Vec::new();
    Eval { defs, f }.push(e, 0, &mut out);
    // Adjacent known parts read as one.
    let mut merged: Vec<Part> = Vec::with_capacity(out.len());
    for p in out {
        match (merged.last_mut(), p) {
            (Some(Part::Known(a)), Part::Known(b)) => a.push_str(&b),
            (_, p) => merged.push(p),
        }
    }
    merged
}

/// Whether a route path's runtime parts are only a base in front of a fixed
/// path (`{base}/orders/{{id}}`): such a path is a prefix plus a route,
/// unlike a segment that varies (`/{name}`, as in a loop over names).
pub(crate) fn is_based(parts: &[Part]) -> bool {
    let runtime = parts
        .iter()
        .take_while(|p| matches!(p, Part::Runtime(_)))
        .count();
    runtime > 0
        && parts.len() > runtime
        && parts[runtime..].iter().all(|p| matches!(p, Part::Known(_)))
        && matches!(&parts[runtime], Part::Known(s) if s.starts_with('/'))
}

/// The prefix a mount at `file:line` serves under: the plan's override, the
/// known parts with runtime parts assumed empty (with a warning), or the
/// fixed prefix.
pub(crate) fn settle(
    parts: &[Part],
    written: &Expr,
    file: &str,
    line: u32,
    overrides: &Overrides,
    diags: &mut Vec<Diagnostic>,
) -> String {
    let runtime: Vec<&str> = parts
        .iter()
        .filter_map(|p| match p {
            Part::Runtime(t) => Some(t.as_str()),
            Part::Known(_) => None,
        })
        .collect();
    let key = format!("{file}:{line}");
    if let Some(given) = overrides.get(&key) {
        if !runtime.is_empty() {
            diags.push(Diagnostic::new(
                "runtime-prefix",
                Severity::Note,
                file,
                line,
                format!(
                    "the prefix `{}` is computed at runtime; the plan's [prefix] \"{key}\" sets it \
                     to {given:?}",
                    expr_text(written)
                ),
            ));
        }
        return given.clone();
    }
    let assumed: String = parts
        .iter()
        .filter_map(|p| match p {
            Part::Known(s) => Some(s.as_str()),
            Part::Runtime(_) => None,
        })
        .collect();
    if !runtime.is_empty() {
        let shown = if assumed.is_empty() { "/" } else { &assumed };
        let example = format!("/base{}", assumed.trim_end_matches('/'));
        diags.push(Diagnostic::warning(
            "runtime-prefix",
            file,
            line,
            format!(
                "the prefix `{}` is computed at runtime ({}): cleave assumes {} empty, the \
                 default deployment, and lists its routes under {shown:?}; if the app is served \
                 under another path, set the whole prefix in cleave.toml: [prefix] \"{key}\" = \
                 \"{example}\"",
                expr_text(written),
                runtime
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if runtime.len() == 1 {
                    "it is"
                } else {
                    "they are"
                },
            ),
        ));
    }
    assumed
}

struct Eval<'d, 'a> {
    defs: &'d DefMap<'a>,
    f: FnId,
}

impl Eval<'_, '_> {
    fn runtime(&self, e: &Expr, out: &mut Vec<Part>) {
        out.push(Part::Runtime(expr_text(e)));
    }

    fn push(&self, e: &Expr, depth: u32, out: &mut Vec<Part>) {
        if depth > MAX_DEPTH {
            return self.runtime(e, out);
        }
        let e = e.peel();
        if let Some(s) = e.as_str() {
            out.push(Part::Known(s.to_owned()));
            return;
        }
        match e {
            Expr::Path { path, .. } => self.path(&expr_text(e), path, depth, out),
            // `concat!("/api", "/v1")`
            Expr::Macro { path, args, .. } if path.last() == Some("concat") => {
                for a in args {
                    self.push(a, depth + 1, out);
                }
            }
            // `format!("{}/api", base)`, `format!("{base}/api")`
            Expr::Macro { path, args, .. } if path.last() == Some("format") => {
                self.format(e, args, depth, out);
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } => match (method.as_str(), args.as_slice()) {
                // `[&base, "/api"].concat()`, `[a, b].join("")`
                ("concat", []) => self.pieces(receiver, depth, out),
                ("join", [sep]) if sep.as_str() == Some("") => self.pieces(receiver, depth, out),
                (
                    "to_string" | "to_owned" | "as_str" | "into" | "clone" | "as_ref" | "borrow",
                    [],
                ) => self.push(receiver, depth + 1, out),
                _ => self.runtime(e, out),
            },
            // `String::from("/api")`, `"/api".to_owned()` handled above.
            Expr::Call { func, args, .. }
                if matches!(func.peel(), Expr::Path { path, .. }
                    if path.ends_with(&["String", "from"]) || path.ends_with(&["str", "to_owned"]))
                    && args.len() == 1 =>
            {
                self.push(&args[0], depth + 1, out)
            }
            // `base_path()`: a workspace fn of no arguments, read from the
            // end of its body (`format!("/{API}/{VERSION}")` of consts).
            Expr::Call { func, args, .. } if args.is_empty() => {
                let callee = match func.peel() {
                    Expr::Path { path, .. } => match self.defs.resolve_fn_path(self.f, path)[..] {
                        [g] => Some(g),
                        _ => None,
                    },
                    _ => None,
                };
                let tail = callee.and_then(|g| {
                    let def = self.defs.fns[g].def;
                    let tail = def.body.as_ref()?.tail()?;
                    (def.params.is_empty() && def.receiver.is_none()).then_some((g, tail))
                });
                match tail {
                    Some((g, tail)) => Eval {
                        defs: self.defs,
                        f: g,
                    }
                    .push(tail, depth + 1, out),
                    None => self.runtime(e, out),
                }
            }
            // `base + "/api"`: the only expression of two or more pieces a
            // prefix can be (an array or tuple is no string).
            Expr::Other(xs) if !xs.is_empty() => self.pieces(e, depth, out),
            _ => self.runtime(e, out),
        }
    }

    /// The elements of an array (or the operands of `+`), in order.
    fn pieces(&self, e: &Expr, depth: u32, out: &mut Vec<Part>) {
        match e.peel() {
            Expr::Other(xs) => {
                for x in xs {
                    self.push(x, depth + 1, out);
                }
            }
            Expr::Macro { path, args, .. } if path.last() == Some("vec") => {
                for x in args {
                    self.push(x, depth + 1, out);
                }
            }
            other => self.push(other, depth + 1, out),
        }
    }

    /// A local or a const; `written` names it when it is neither.
    fn path(&self, written: &str, path: &Path, depth: u32, out: &mut Vec<Part>) {
        let data = &self.defs.fns[self.f];
        if path.segments.len() == 1
            && !path.leading_colon
            && let Some(body) = &data.def.body
            && let Some(init) = find_let(body, &path.segments[0].name)
        {
            return self.push(init, depth + 1, out);
        }
        if path.segments.len() == 1
            && !path.leading_colon
            && let Some(param) = data
                .def
                .params
                .iter()
                .position(|(p, _)| matches!(p, Pat::Ident(n) if *n == *path.segments[0].name))
            && let Some(parts) = self.argument(param, depth)
        {
            out.extend(parts);
            return;
        }
        match self.const_init(data.module, path, depth) {
            Some((module, init)) => {
                // A const's initialiser is read in its own module.
                let before = out.len();
                Eval {
                    defs: self.defs,
                    f: self.f,
                }
                .const_expr(module, init, depth + 1, out);
                if out.len() == before {
                    out.push(Part::Runtime(written.to_owned()));
                }
            }
            None => out.push(Part::Runtime(written.to_owned())),
        }
    }

    /// A parameter's value, when every call of the fn (by its name, in the
    /// workspace: `fn mount_api(base: &str)`, or an extension method
    /// `.mount_metrics("/metrics")`) passes the same fixed string: one call
    /// site is the common case, a helper that mounts at a caller's base.
    fn argument(&self, param: usize, depth: u32) -> Option<Vec<Part>> {
        let data = &self.defs.fns[self.f];
        let method = data.def.receiver.is_some();
        let mut found: Option<String> = None;
        let mut calls = 0;
        for (caller, c) in self.defs.fns.iter().enumerate() {
            let Some(body) = &c.def.body else { continue };
            let mut args: Vec<&Expr> = Vec::new();
            body.walk(&mut |e| match e {
                Expr::MethodCall {
                    method: m, args: a, ..
                } if method && m.as_str() == data.name => args.extend(a.get(param)),
                Expr::Call { func, args: a, .. }
                    if !method
                        && matches!(func.peel(), Expr::Path { path, .. }
                            if path.last() == Some(data.name)) =>
                {
                    args.extend(a.get(param))
                }
                _ => {}
            });
            for a in args {
                calls += 1;
                let mut parts = Vec::new();
                Eval {
                    defs: self.defs,
                    f: caller,
                }
                .push(a, depth + 1, &mut parts);
                let mut s = String::new();
                for p in &parts {
                    match p {
                        Part::Known(k) => s.push_str(k),
                        Part::Runtime(_) => return None,
                    }
                }
                if found.as_ref().is_some_and(|f| *f != s) {
                    return None;
                }
                found = Some(s);
            }
        }
        (calls > 0).then_some(())?;
        found.map(|s| vec![Part::Known(s)])
    }

    /// A const's value: literals, `concat!` and other consts only.
    fn const_expr(&self, module: ModId, e: &Expr, depth: u32, out: &mut Vec<Part>) {
        if depth > MAX_DEPTH {
            return self.runtime(e, out);
        }
        let e = e.peel();
        if let Some(s) = e.as_str() {
            out.push(Part::Known(s.to_owned()));
            return;
        }
        match e {
            Expr::Path { path, .. } => match self.const_init(module, path, depth) {
                Some((m, init)) => self.const_expr(m, init, depth + 1, out),
                None => self.runtime(e, out),
            },
            Expr::Macro { path, args, .. } if path.last() == Some("concat") => {
                for a in args {
                    self.const_expr(module, a, depth + 1, out);
                }
            }
            _ => self.runtime(e, out),
        }
    }

    /// The initialiser of the `const`/`static` a path names, and its module.
    fn const_init(&self, module: ModId, path: &Path, depth: u32) -> Option<(ModId, &Expr)> {
        if depth > MAX_DEPTH {
            return None;
        }
        let names: Vec<&str> = path.names().collect();
        self.defs
            .resolve_names(module, &names, path.leading_colon)
            .into_iter()
            .find_map(|d| match d {
                Def::Static(s) => {
                    let data = &self.defs.statics[s];
                    match &data.item.kind {
                        ItemKind::Const { init, .. } | ItemKind::Static { init, .. } => {
                            Some((data.module, &**init))
                        }
                        _ => None,
                    }
                }
                _ => None,
            })
    }

    /// `format!` with `{}` / `{0}` / `{name}` holes and no format specs.
    fn format(&self, e: &Expr, args: &[Expr], depth: u32, out: &mut Vec<Part>) {
        let Some((template, rest)) = args.split_first() else {
            return self.runtime(e, out);
        };
        let Some(template) = template.as_str() else {
            return self.runtime(e, out);
        };
        let mut next = 0usize;
        let mut text = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    text.push('}');
                }
                '{' => {
                    let mut hole = String::new();
                    for h in chars.by_ref() {
                        if h == '}' {
                            break;
                        }
                        hole.push(h);
                    }
                    if !text.is_empty() {
                        out.push(Part::Known(std::mem::take(&mut text)));
                    }
                    let arg = if hole.is_empty() {
                        next += 1;
                        rest.get(next - 1)
                    } else if let Ok(i) = hole.parse::<usize>() {
                        rest.get(i)
                    } else {
                        None
                    };
                    match arg {
                        Some(a) if !hole.contains(':') => self.push(a, depth + 1, out),
                        // `{base}` captures a local: read it like a path.
                        None if !hole.contains(':') && is_ident(&hole) => {
                            let p = Path::from_names([hole.as_str()]);
                            self.path(&hole, &p, depth + 1, out);
                        }
                        _ => out.push(Part::Runtime(format!("{{{hole}}}"))),
                    }
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            out.push(Part::Known(text));
        }
    }
}

fn is_ident(s: &str) -> bool {
    s.chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::write_fixture;

    /// The prefix of the first `.mount(P, ..)` in `fn main`, evaluated and settled.
    fn check(src: &str, overrides: &[(&str, &str)]) -> (String, Vec<String>) {
        let dir = tempfile::tempdir().expect("tempdir");
        write_fixture(
            dir.path(),
            &format!("//- /Cargo.toml\n{CARGO}//- /src/main.rs\n{src}"),
        );
        let project = crate::load(dir.path()).expect("load");
        let defs = DefMap::build(&project);
        let f = defs
            .fns
            .iter()
            .position(|d| d.name == "main")
            .expect("a main");
        let body = defs.fns[f].def.body.as_ref().expect("a body");
        let mut site = None;
        body.walk(&mut |e| {
            if let Expr::MethodCall {
                method, args, line, ..
            } = e
                && method == "mount"
                && site.is_none()
            {
                site = Some((&args[0], *line));
            }
        });
        let (prefix, line) = site.expect("a mount");
        let overrides: Overrides = overrides
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut diags = Vec::new();
        let parts = parts(&defs, f, prefix);
        let got = settle(&parts, prefix, "src/main.rs", line, &overrides, &mut diags);
        (got, diags.into_iter().map(|d| d.to_string()).collect())
    }

    const CARGO: &str = "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

    #[test]
    fn known_parts_join_and_runtime_parts_are_assumed_empty_with_a_warning() {
        let (got, diags) = check(
            r#"
const API: &str = "/api";
const V1: &str = concat!("/v", "1");
fn main() {
    let base_path = CONFIG.domain_path();
    let r = rocket();
    r.mount([&base_path, API, V1].concat(), routes![]);
}
"#,
            &[],
        );
        assert_eq!(got, "/api/v1");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].contains("src/main.rs:7"), "{diags:?}");
        assert!(diags[0].contains("`CONFIG.domain_path()`"), "{diags:?}");
        assert!(
            diags[0].contains("[prefix] \"src/main.rs:7\" = \"/base/api/v1\""),
            "{diags:?}"
        );
    }

    #[test]
    fn a_workspace_fn_of_no_arguments_is_read_from_its_tail() {
        let src = r#"
const API: &str = "api";
const VERSION: &str = "v1";
pub fn base_path() -> String {
    format!("/{API}/{VERSION}")
}
fn main() {
    app.mount(&base_path(), x);
}
"#;
        assert_eq!(check(src, &[]), ("/api/v1".to_owned(), Vec::new()));
    }

    #[test]
    fn format_holes_and_plus_are_read() {
        let (got, diags) = check(
            r#"
const ROOT: &str = "/svc";
fn main() {
    let ver = "v2";
    app.mount(format!("{}/{ver}/{}", cfg.base, ROOT), x);
}
"#,
            &[],
        );
        assert_eq!(got, "/v2//svc");
        assert_eq!(diags.len(), 1, "{diags:?}");
        assert!(diags[0].contains("`cfg.base`"), "{diags:?}");

        let (got, diags) = check(
            "fn main() { let p = String::from(\"/a\"); app.mount(p + \"/b\", x); }",
            &[],
        );
        assert_eq!(got, "/a/b");
        assert!(diags.is_empty(), "{diags:?}");
    }

    #[test]
    fn the_plan_overrides_a_runtime_prefix_by_its_site() {
        let src = "fn main() {\n    app.mount(&settings.base, x);\n}\n";
        let (got, diags) = check(src, &[("src/main.rs:2", "/vault")]);
        assert_eq!(got, "/vault");
        assert!(
            diags.len() == 1 && diags[0].contains("sets it to \"/vault\""),
            "{diags:?}"
        );
        // Another site's override does not apply.
        let (got, _) = check(src, &[("src/main.rs:3", "/vault")]);
        assert_eq!(got, "");
    }
}
