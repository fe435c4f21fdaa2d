//! Leptos (`leptos_axum`, `leptos_actix`): `.leptos_routes(..)` and its
//! variants register one GET route per page of the route list
//! `generate_route_list(App)` makes from the `App` component: the `<Route
//! path=path!("..") ../>` (or `path="/.."`) elements of its `view!`, under
//! the paths of the `<ParentRoute>`s around them. Any element whose name
//! ends in `Route` counts (apps wrap `Route` in their own guards). The
//! framework interpreters find the call; this module reads the pages.

use super::join_paths;
use crate::resolve::{DefMap, FnId};
use crate::syntax::Expr;

/// The pages of a `generate_route_list(App)` call written in `caller`, and
/// how many `Route` elements have a path cleave cannot read (computed at
/// runtime); `None` when `call` is no such call of a workspace component.
pub(crate) fn route_list_pages(
    defs: &DefMap<'_>,
    caller: FnId,
    call: &Expr,
) -> Option<(Vec<String>, usize)> {
    let Expr::Call { func, args, .. } = call.peel() else {
        return None;
    };
    route_list_call(defs, caller, func, args)
}

/// [`route_list_pages`] of a call given as its fn and arguments.
pub(crate) fn route_list_call(
    defs: &DefMap<'_>,
    caller: FnId,
    func: &Expr,
    args: &[Expr],
) -> Option<(Vec<String>, usize)> {
    let Expr::Path { path, .. } = func.peel() else {
        return None;
    };
    if !path.last()?.starts_with("generate_route_list") {
        return None;
    }
    let Expr::Path { path: app, .. } = args.first()?.peel() else {
        return None;
    };
    let f = *defs.resolve_fn_path(caller, app).first()?;
    let body = defs.fns[f].def.body.as_ref()?;
    let mut pages = Vec::new();
    let mut unread = 0;
    body.walk(&mut |x| {
        if let Expr::Macro {
            path,
            tokens: Some(t),
            ..
        } = x
            && path.last() == Some("view")
        {
            let (p, u) = route_paths(t.as_ref());
            pages.extend(p);
            unread += u;
        }
    });
    Some((pages, unread))
}

/// The warning for route elements whose paths are computed.
pub(crate) fn leptos_unread(n: usize) -> String {
    format!(
        "{n} Leptos route(s) of this route list have a path computed at runtime (`path=format!(..)`); cleave does not list them: add them to cleave.toml by hand"
    )
}

/// The leaf routes' paths of a `view!`'s tokens (as proc-macro2 prints
/// them: `< Route path = path ! ("/a/:id") view = A / >`), and how many
/// route elements have a path that is no literal.
fn route_paths(view: &str) -> (Vec<String>, usize) {
    let toks = lex(view);
    let mut out = Vec::new();
    let mut unread = 0;
    // Open `<ParentRoute path=..>` elements: name and full path.
    let mut parents: Vec<(&str, String)> = Vec::new();
    let mut i = 0;
    while i + 1 < toks.len() {
        if toks[i] != "<" {
            i += 1;
            continue;
        }
        if toks[i + 1] == "/" {
            if let (Some(name), Some((open, _))) = (toks.get(i + 2), parents.last())
                && name == open
            {
                parents.pop();
            }
            i += 2;
            continue;
        }
        let name = toks[i + 1];
        if !name.ends_with("Route") || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            i += 1;
            continue;
        }
        // The element's attributes, to its `>` outside any bracket.
        let mut j = i + 2;
        let mut depth = 0i32;
        let mut path = None;
        let mut has_path = false;
        while j < toks.len() {
            match toks[j] {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                ">" if depth == 0 => break,
                "path" if depth == 0 && toks.get(j + 1) == Some(&"=") => {
                    has_path = true;
                    path = path_value(&toks[j + 2..]);
                }
                _ => {}
            }
            j += 1;
        }
        if has_path && path.is_none() {
            unread += 1;
        }
        let self_closing = toks.get(j.saturating_sub(1)) == Some(&"/");
        let base = parents.last().map_or("", |(_, p)| p.as_str());
        if let Some(p) = path {
            let full = join_paths(base, &p);
            if self_closing {
                out.push(full);
            } else {
                parents.push((name, full));
            }
        }
        i = j + 1;
    }
    (out, unread)
}

/// `path ! ("/a/:id")` or `"/a"`: the string.
fn path_value(toks: &[&str]) -> Option<String> {
    let lit = match toks {
        ["path", "!", "(", s, ")", ..] => s,
        [s, ..] => s,
        [] => return None,
    };
    lit.strip_prefix('"')?.strip_suffix('"').map(str::to_owned)
}

/// Whitespace-separated tokens, a string literal one token however many
/// spaces it holds; `<`, `>`, `/`, `=` and brackets alone.
fn lex(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            out.push(&s[start..i]);
        } else if c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80 {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] >= 0x80) {
                i += 1;
            }
            out.push(&s[start..i]);
        } else {
            out.push(&s[i..i + 1]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn leaf_routes_under_their_parents() {
        let view = r#"< Router > < Routes fallback = | | "x" . into_view () > < Route path = path ! ("/") view = { Lazy :: < Home > :: new () } / > < GuardedRoute path = path ! ("/article/:title/edit") view = Edit / > < ParentRoute path = path ! ("/user/:name") view = User > < Route path = path ! ("/posts") view = Posts / > < Route path = path ! ("") view = Profile / > < / ParentRoute > < Route path = path ! ("/files/*rest") view = F / > < Route path = "/about" view = About / > < Route path = format ! ("/{}" , join (parts)) view = Computed / > < / Routes > < / Router >"#;
        let (pages, unread) = super::route_paths(view);
        assert_eq!(
            pages,
            [
                "/",
                "/article/{title}/edit",
                "/user/{name}/posts",
                "/user/{name}",
                "/files/{*rest}",
                "/about"
            ]
        );
        // `path=format!(..)`: computed, not a page cleave can list.
        assert_eq!(unread, 1);
    }
}
