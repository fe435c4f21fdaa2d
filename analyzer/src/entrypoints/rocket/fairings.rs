//! Fairings: the workspace fn a request meets in an attached fairing (a
//! `Fairing` impl's callback, or the fn an `AdHoc` is given).

use super::*;
#[allow(unused_imports)]
use super::{lists::*, mounts::*};

impl<'d, 'a> Cx<'d, 'a> {
    /// The workspace fn a fairing runs: the `Fairing` impl of a workspace
    /// type (`RequestCounter`, `Counter::new()`, `Counter { .. }`, a fn
    /// returning one), or the fn an `AdHoc` is given by name.
    pub(super) fn fairing_handler(&self, f: FnId, e: &Expr) -> Option<String> {
        let defs = self.defs;
        let module = defs.fns[f].module;
        match e.peel() {
            // A unit struct: `.attach(RequestCounter)`.
            Expr::Path { path, .. } => defs
                .resolve_type_path(module, path)
                .and_then(|t| self.fairing_impl(t)),
            // `.attach(Counter { hits: 0 })`
            Expr::Struct { path, .. } => defs
                .resolve_type_path(module, path)
                .and_then(|t| self.fairing_impl(t)),
            Expr::Call { func, args, .. } => {
                let Expr::Path { path, .. } = func.peel() else {
                    return None;
                };
                // `AdHoc::on_ignite("migrations", run_migrations)`: the named fn.
                if path.names().any(|n| n == "AdHoc") {
                    if path.last().is_some_and(|n| ADHOC_BESIDE.contains(&n)) {
                        return None;
                    }
                    return args.iter().find_map(|a| match a.peel() {
                        Expr::Path { path, .. } => defs
                            .resolve_fn_path(f, path)
                            .first()
                            .map(|g| defs.fns[*g].id.clone()),
                        _ => None,
                    });
                }
                // A tuple struct: `.attach(Counter(0))`.
                if let Some(t) = defs.resolve_type_path(module, path) {
                    return self.fairing_impl(t);
                }
                // A constructor or a fn returning the fairing: `Counter::new()`, `cors()`.
                for g in defs.resolve_fn_path(f, path) {
                    let data = &defs.fns[g];
                    let owner = data
                        .impl_
                        .and_then(|i| defs.impls[i].self_def)
                        .filter(|_| returns_self(data.def.ret.as_ref()));
                    let ret = match data.def.ret.as_ref() {
                        Some(Ty::Path(p)) => defs.resolve_type_path(data.module, p),
                        _ => None,
                    };
                    if let Some(h) = owner.or(ret).and_then(|t| self.fairing_impl(t)) {
                        return Some(h);
                    }
                }
                None
            }
            // A builder: `Cors::new().allow_origin(..)`.
            Expr::MethodCall { receiver, .. } => self.fairing_handler(f, receiver),
            _ => None,
        }
    }

    /// The first callback of `t`'s `impl Fairing` that a request meets
    /// (`on_ignite` for one that only prepares the app).
    pub(super) fn fairing_impl(&self, t: TypeId) -> Option<String> {
        let defs = self.defs;
        let imp = defs.impls.iter().find(|i| {
            i.self_def == Some(t) && i.trait_path.and_then(Path::last) == Some("Fairing")
        })?;
        FAIRING_METHODS
            .iter()
            .find_map(|m| imp.methods.get(m))
            .map(|g| defs.fns[*g].id.clone())
    }
}

/// Whether a fn returns `Self` (or `Result<Self, _>`), so the impl's type is what it builds.
pub(super) fn returns_self(ret: Option<&Ty>) -> bool {
    match ret {
        Some(Ty::Path(p)) => {
            p.is_ident("Self")
                || p.segments
                    .last()
                    .is_some_and(|s| s.generics.first().is_some_and(|g| returns_self(Some(g))))
        }
        _ => false,
    }
}
