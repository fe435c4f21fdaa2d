//! Mounts: which fns build one rocket together, and the entry points a
//! `.mount(prefix, list)` (or rocket_okapi's merged-docs mount) makes:
//! routes, files (`static`) and external crates' routes (`external`).

use super::*;
#[allow(unused_imports)]
use super::{fairings::*, lists::*};

impl<'d, 'a> Cx<'d, 'a> {
    /// Groups the fns with mounts or attaches into rockets: fns that call
    /// one another (`notes::rocket()` from `main`, `with_api(rocket::build())`),
    /// or that one fn calls together (`api::mount(base())`), build the same
    /// rocket. Each group is ordered callees first, so a helper's fairings
    /// come before those its caller attaches afterwards.
    pub(super) fn components(&self, sites: &BTreeMap<FnId, Vec<Site<'a>>>) -> Vec<Vec<FnId>> {
        let defs = self.defs;
        let mut calls: BTreeMap<FnId, BTreeSet<FnId>> = BTreeMap::new();
        let mut parent: BTreeMap<FnId, FnId> = sites.keys().map(|f| (*f, *f)).collect();
        for (f, data) in defs.fns.iter().enumerate() {
            if !uses_rocket(defs, defs.mods[data.module].krate) {
                continue;
            }
            let Some(body) = &data.def.body else {
                continue;
            };
            let mut callees = BTreeSet::new();
            body.walk(&mut |e| {
                if let Expr::Call { func, .. } = e
                    && let Expr::Path { path, .. } = func.peel()
                {
                    for g in defs.resolve_fn_path(f, path) {
                        if g != f && sites.contains_key(&g) {
                            callees.insert(g);
                        }
                    }
                }
            });
            let mut it = callees.iter();
            if sites.contains_key(&f) {
                for g in &callees {
                    union(&mut parent, f, *g);
                }
                calls.insert(f, callees);
            } else if let Some(first) = it.next() {
                for g in it {
                    union(&mut parent, *first, *g);
                }
            }
        }
        let mut groups: BTreeMap<FnId, BTreeSet<FnId>> = BTreeMap::new();
        for f in sites.keys() {
            groups.entry(find(&parent, *f)).or_default().insert(*f);
        }
        let mut out = Vec::new();
        for members in groups.values() {
            let called: BTreeSet<FnId> = members
                .iter()
                .flat_map(|f| calls.get(f).into_iter().flatten().copied())
                .collect();
            let mut order = Vec::new();
            let mut seen = BTreeSet::new();
            let starts = members
                .iter()
                .filter(|f| !called.contains(f))
                .chain(members.iter());
            for f in starts {
                postorder(*f, &calls, &mut seen, &mut order);
            }
            out.push(order);
        }
        out
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn mount(
        &mut self,
        site: &MountSite<'_>,
        fairings: &[Middleware],
        mounted: &mut BTreeSet<FnId>,
        out: &mut Detection,
    ) {
        let MountSite {
            f,
            base,
            prefix,
            routes,
            line,
        } = *site;
        let mut env = self.fn_env(f);
        // The okapi macro itself stands for its merged spec route at the base.
        let spec_only = std::ptr::eq(prefix, routes);
        let listed = if spec_only {
            vec![Listed {
                handler: None,
                at: self.loc(f, line),
                manual: None,
            }]
        } else {
            self.expr(f, routes, &mut env, 0)
        };
        let mut parts = match base {
            Some(b) => crate::entrypoints::prefix::parts(self.defs, f, b),
            None => Vec::new(),
        };
        if !spec_only {
            parts.extend(crate::entrypoints::prefix::parts(self.defs, f, prefix));
        }
        let written = base.filter(|_| spec_only).unwrap_or(prefix);
        let prefix = crate::entrypoints::prefix::settle(
            &parts,
            written,
            self.defs.fns[f].file,
            line,
            self.overrides,
            &mut self.diags,
        );
        let empty_list = matches!(routes.peel(), Expr::Macro { path, args, .. }
            if path.last() == Some("routes") && args.is_empty());
        let at = self.loc(f, line);
        // `.mount("/static", FileServer::from(relative!("static")))`: files
        // from disk, answered for GET at the prefix and below it.
        if crate::entrypoints::serves_files(&ROCKET, routes) {
            for path in [prefix.clone(), join_paths(&prefix, "{*path}")] {
                out.entrypoints.push(EntryPoint {
                    kind: EntryKind::Static,
                    framework: Some(Framework::Rocket),
                    method: "GET".into(),
                    path: normalise_path(&path),
                    handler: expr_text(routes),
                    at: at.clone(),
                    registered: at.clone(),
                    middleware: fairings.to_vec(),
                    root: None,
                });
            }
        } else if let Some(krate) = self
            .external_routes(f, routes)
            .filter(|_| listed.is_empty())
        {
            // `.mount("/auth", auth_crate::routes())`: a crate's own routes,
            // whatever they are, under the prefix.
            for path in [prefix.clone(), join_paths(&prefix, "{*rest}")] {
                out.entrypoints.push(EntryPoint {
                    kind: EntryKind::External,
                    framework: Some(Framework::Rocket),
                    method: "ANY".into(),
                    path: normalise_path(&path),
                    handler: krate.clone(),
                    at: at.clone(),
                    registered: at.clone(),
                    middleware: fairings.to_vec(),
                    root: None,
                });
            }
        } else if listed.is_empty() && !empty_list {
            self.diag(
                "dynamic-route",
                f,
                line,
                format!(
                    "`.mount({prefix:?}, {})`: cleave cannot see which routes this mounts (not a \
                     `routes![..]` list it can follow); add them to the plan by hand",
                    expr_text(routes)
                ),
            );
        }
        for l in listed {
            if let Some((method, path, written)) = &l.manual {
                let (handler, at) = match l.handler.map(|h| &self.defs.fns[h]) {
                    Some(d) => (
                        d.id.clone(),
                        Location {
                            file: d.file.to_owned(),
                            line: d.line,
                        },
                    ),
                    None => (written.clone(), l.at.clone()),
                };
                out.entrypoints.push(EntryPoint {
                    kind: EntryKind::Http,
                    framework: Some(Framework::Rocket),
                    method: method.clone(),
                    path: join_paths(&prefix, path),
                    handler,
                    at,
                    registered: l.at,
                    middleware: fairings.to_vec(),
                    root: l.handler,
                });
                continue;
            }
            let Some(h) = l.handler else {
                out.entrypoints.push(EntryPoint {
                    kind: EntryKind::Http,
                    framework: Some(Framework::Rocket),
                    method: "GET".into(),
                    path: join_paths(&prefix, OKAPI_SPEC_PATH),
                    handler: OKAPI_SPEC_HANDLER.into(),
                    at: l.at.clone(),
                    registered: l.at,
                    middleware: fairings.to_vec(),
                    root: None,
                });
                continue;
            };
            let Some(attr) = self.attrs.get(&h) else {
                continue;
            };
            mounted.insert(h);
            let data = &self.defs.fns[h];
            out.entrypoints.push(EntryPoint {
                kind: EntryKind::Http,
                framework: Some(Framework::Rocket),
                method: attr.method.clone(),
                path: join_paths(&prefix, &attr.path),
                handler: data.id.clone(),
                at: Location {
                    file: data.file.to_owned(),
                    line: data.line,
                },
                registered: l.at,
                middleware: fairings.to_vec(),
                root: Some(h),
            });
        }
    }
}

pub(super) fn find(parent: &BTreeMap<FnId, FnId>, f: FnId) -> FnId {
    let mut cur = f;
    for _ in 0..parent.len() + 1 {
        match parent.get(&cur) {
            Some(p) if *p != cur => cur = *p,
            _ => break,
        }
    }
    cur
}

pub(super) fn union(parent: &mut BTreeMap<FnId, FnId>, a: FnId, b: FnId) {
    let (ra, rb) = (find(parent, a), find(parent, b));
    if ra != rb {
        let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent.insert(hi, lo);
    }
}

pub(super) fn postorder(
    f: FnId,
    calls: &BTreeMap<FnId, BTreeSet<FnId>>,
    seen: &mut BTreeSet<FnId>,
    out: &mut Vec<FnId>,
) {
    if !seen.insert(f) {
        return;
    }
    for g in calls.get(&f).into_iter().flatten() {
        postorder(*g, calls, seen, out);
    }
    out.push(f);
}
