//! One-line text of lowered syntax, as close to the source as the lowered
//! tree allows: for middleware names, messages and generated comments.

use super::{Expr, Lit, Pat, Path, Ty, WrapKind};

/// A type as written, generics included: `Arc<Mutex<HashMap<i64, Product>>>`.
pub fn ty_text(ty: &Ty) -> String {
    match ty {
        Ty::Path(p) => {
            let mut s = String::new();
            if p.leading_colon {
                s.push_str("::");
            }
            for (i, seg) in p.segments.iter().enumerate() {
                if i > 0 {
                    s.push_str("::");
                }
                s.push_str(&seg.name);
                if !seg.generics.is_empty() {
                    let args: Vec<String> = seg.generics.iter().map(ty_text).collect();
                    s.push('<');
                    s.push_str(&args.join(", "));
                    s.push('>');
                }
            }
            s
        }
        Ty::Ref(inner) => format!("&{}", ty_text(inner)),
        Ty::Dyn(b) => format!(
            "dyn {}",
            b.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" + ")
        ),
        Ty::Impl(b) => format!(
            "impl {}",
            b.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" + ")
        ),
        Ty::Tuple(xs) => format!(
            "({})",
            xs.iter().map(ty_text).collect::<Vec<_>>().join(", ")
        ),
        Ty::Slice(inner) => format!("[{}]", ty_text(inner)),
        Ty::Other => "_".to_owned(),
    }
}

pub fn path_text(p: &Path) -> String {
    let mut s = String::new();
    if p.leading_colon {
        s.push_str("::");
    }
    for (i, seg) in p.segments.iter().enumerate() {
        if i > 0 {
            s.push_str("::");
        }
        s.push_str(&seg.name);
        if !seg.generics.is_empty() {
            let g: Vec<String> = seg.generics.iter().map(ty_text).collect();
            s.push_str(&format!("::<{}>", g.join(", ")));
        }
    }
    s
}

fn list(xs: &[Expr]) -> String {
    xs.iter().map(expr_text).collect::<Vec<_>>().join(", ")
}

pub fn pat_text(p: &Pat) -> String {
    match p {
        Pat::Ident(n) => n.clone(),
        Pat::TupleStruct(path, ps) => format!(
            "{}({})",
            path_text(path),
            ps.iter().map(pat_text).collect::<Vec<_>>().join(", ")
        ),
        Pat::Tuple(ps) => format!(
            "({})",
            ps.iter().map(pat_text).collect::<Vec<_>>().join(", ")
        ),
        Pat::Ref(x) => pat_text(x),
        Pat::Path(path) => path_text(path),
        _ => "_".to_owned(),
    }
}

/// An expression on one line, as close to the source as the lowered tree allows.
pub fn expr_text(e: &Expr) -> String {
    match e {
        Expr::Path { path, .. } => path_text(path),
        Expr::Call { func, args, .. } => format!("{}({})", expr_text(func), list(args)),
        Expr::MethodCall {
            receiver,
            method,
            turbofish,
            args,
            ..
        } => {
            let tf = if turbofish.is_empty() {
                String::new()
            } else {
                format!(
                    "::<{}>",
                    turbofish.iter().map(ty_text).collect::<Vec<_>>().join(", ")
                )
            };
            format!("{}.{method}{tf}({})", expr_text(receiver), list(args))
        }
        Expr::Field { base, member } => format!("{}.{member}", expr_text(base)),
        // A closure's body is elided: `|req, next| ..`.
        Expr::Closure {
            params, is_async, ..
        } => format!(
            "{}|{}| ..",
            if *is_async { "async " } else { "" },
            params
                .iter()
                .map(|(p, _)| pat_text(p))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        Expr::Block { block, is_async } => {
            let inner = match (block.stmts.len(), block.tail()) {
                (1, Some(t)) => expr_text(t),
                (0, _) => String::new(),
                _ => "..".to_owned(),
            };
            let kw = if *is_async { "async " } else { "" };
            if inner.is_empty() {
                format!("{kw}{{}}")
            } else {
                format!("{kw}{{ {inner} }}")
            }
        }
        Expr::Lit { lit, .. } => match lit {
            Lit::Str(s) => format!("{s:?}"),
            Lit::Int(i) => i.to_string(),
            Lit::Bool(b) => b.to_string(),
            Lit::Other => "..".to_owned(),
        },
        Expr::Macro { path, args, .. } => format!("{}!({})", path_text(path), list(args)),
        Expr::Struct { path, fields, rest } => {
            let mut parts: Vec<String> = fields
                .iter()
                .map(|(n, v)| format!("{n}: {}", expr_text(v)))
                .collect();
            if let Some(r) = rest {
                parts.push(format!("..{}", expr_text(r)));
            }
            format!("{} {{ {} }}", path_text(path), parts.join(", "))
        }
        Expr::Let { pat, expr } => format!("let {} = {}", pat_text(pat), expr_text(expr)),
        Expr::Match { expr, .. } => format!("match {} {{ .. }}", expr_text(expr)),
        Expr::If { cond, .. } => format!("if {} {{ .. }}", expr_text(cond)),
        Expr::Loop { .. } => "loop { .. }".to_owned(),
        Expr::Wrap { kind, inner } => {
            let i = expr_text(inner);
            match kind {
                WrapKind::Await => format!("{i}.await"),
                WrapKind::Try => format!("{i}?"),
                WrapKind::Ref => format!("&{i}"),
                WrapKind::Deref => format!("*{i}"),
                WrapKind::Paren => format!("({i})"),
                WrapKind::Cast | WrapKind::Unary => i,
                WrapKind::Return => format!("return {i}"),
                WrapKind::Break => format!("break {i}"),
            }
        }
        Expr::Other(_) => "..".to_owned(),
    }
}
