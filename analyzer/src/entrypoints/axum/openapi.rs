//! The OpenAPI families that wrap axum's router: utoipa-axum's
//! `routes!(..)` with the method and path of `#[utoipa::path]`, and
//! axum-extra's typed paths (`#[typed_path]`). aide's `ApiRouter` shares
//! axum's method names and is read by `router.rs`.

use super::*;
#[allow(unused_imports)]
use super::{eval::*, handlers::*, router::*};

impl<'d, 'a> Detector<'d, 'a> {
    /// The `#[typed_path("/users/{id}")]` of a handler's argument type
    /// (axum-extra). A generic handler named with a turbofish
    /// (`get_item::<ItemPath>`, `async fn get_item<P: Parts>(path: P)`)
    /// takes the type the turbofish gives its argument's type parameter,
    /// named as in `caller`, the module the turbofish is written in.
    pub(super) fn typed_path(&self, f: FnId, turbofish: &[Ty], caller: ModId) -> Option<String> {
        let data = &self.defs.fns[f];
        data.def.params.iter().find_map(|(_, ty)| {
            let Ty::Path(p) = ty else { return None };
            let (mut p, mut module) = (p, data.module);
            if let [only] = &*p.segments
                && let Some(i) = data.def.generics.iter().position(|g| *g.name == *only.name)
                && let Some(Ty::Path(given)) = turbofish.get(i)
            {
                (p, module) = (given, caller);
            }
            let t = self.defs.resolve_type_path(module, p)?;
            self.defs.types[t]
                .item
                .attr("typed_path")
                .and_then(|a| a.strings.first().cloned())
        })
    }

    /// Methods and path of a handler's `#[utoipa::path(get, path = "/x")]`
    /// (utoipa 5 also writes `method(get, head)`).
    pub(super) fn utoipa_path(&self, f: FnId) -> Option<(Vec<String>, String)> {
        let item = self.defs.fns[f].item;
        let attr = item
            .attrs
            .iter()
            .find(|a| a.path.ends_with(&["utoipa", "path"]))?;
        let Some(path) = attr
            .named
            .iter()
            .find(|(k, _)| k == "path")
            .map(|(_, v)| v.clone())
        else {
            // Arguments that are not Rust expressions (`body = Vec<Reservation>`)
            // come as the raw tokens: read the method and `path = ".."` from them.
            return attr.words.iter().find_map(|w| utoipa_tokens(w));
        };
        let mut methods = Vec::new();
        for w in &attr.words {
            let inner = w
                .strip_prefix("method(")
                .and_then(|x| x.strip_suffix(')'))
                .unwrap_or(w);
            for m in inner.split(',').map(str::trim) {
                if METHOD_FNS.contains(&m) && m != "any" {
                    methods.push(m.to_uppercase());
                }
            }
        }
        (!methods.is_empty()).then_some((methods, path))
    }
}

/// Methods and path from the raw tokens of a `#[utoipa::path(..)]` whose
/// arguments do not parse as expressions: the top-level arguments (split at
/// commas outside brackets and string literals) that are a method
/// (`get`, `method(get, head)`) and `path = "/x"`.
pub(super) fn utoipa_tokens(tokens: &str) -> Option<(Vec<String>, String)> {
    let mut args: Vec<String> = vec![String::new()];
    let (mut depth, mut in_str, mut escaped) = (0u32, false, false);
    for c in tokens.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else {
            match c {
                '"' => in_str = true,
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth = depth.saturating_sub(1),
                ',' if depth == 0 => {
                    args.push(String::new());
                    continue;
                }
                _ => {}
            }
        }
        if let Some(last) = args.last_mut() {
            last.push(c);
        }
    }
    let mut methods = Vec::new();
    let mut path = None;
    for arg in &args {
        let arg = arg.trim();
        if let Some((key, value)) = arg.split_once('=')
            && key.trim() == "path"
        {
            let value = value.trim();
            path = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .map(str::to_owned);
            continue;
        }
        let inner = arg
            .strip_prefix("method")
            .map(str::trim_start)
            .and_then(|x| x.strip_prefix('('))
            .and_then(|x| x.strip_suffix(')'))
            .unwrap_or(arg);
        for m in inner.split(',').map(str::trim) {
            if METHOD_FNS.contains(&m) && m != "any" {
                methods.push(m.to_uppercase());
            }
        }
    }
    let path = path?;
    (!methods.is_empty()).then_some((methods, path))
}

/// Layers around a route list, innermost first: `("layer" | "route_layer", layer)`.
pub(super) type Layers<'e> = Vec<(&'static str, &'e Expr)>;

/// utoipa-axum's `routes!(a, b)`, possibly wrapped in `.layer(l)` /
/// `.route_layer(l)` calls: the handlers, and the layers innermost first.
pub(super) fn routes_macro(e: &Expr) -> Option<(&[Expr], Layers<'_>)> {
    let mut layers = Vec::new();
    let mut e = e.peel();
    loop {
        match e {
            Expr::Macro { path, args, .. } if path.last() == Some("routes") => {
                layers.reverse();
                return Some((args, layers));
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                ..
            } if args.len() == 1 && (method == "layer" || method == "route_layer") => {
                let kind = if method == "layer" {
                    "layer"
                } else {
                    "route_layer"
                };
                layers.push((kind, &args[0]));
                e = receiver.peel();
            }
            _ => return None,
        }
    }
}
