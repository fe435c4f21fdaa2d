//! The `auto` proposal: an agglomerative clustering of routes whose cut is
//! chosen by the numbers the report shows.
//!
//! Input: the analysis (each route's reachable fns and their lines, the
//! in-process state routes share) and its routes. Output: groups of routes,
//! and which preset they are when a preset beat every clustering.
//!
//! 1. **Atoms**: routes that must run in one function (the same gateway
//!    shape, the same in-process state unless most routes touch it) or
//!    that sit under the same two path segments (`/orgs/{id}/users/..`);
//!    a route tied by state joins the routes sharing it, not its path too.
//! 2. **Features**: what an atom's routes run, leaving out the core most
//!    routes run (middleware, the app's core: deployed with every function
//!    whatever the split). A fn weighs its lines times how specific it is
//!    (`ln(N/n)/ln N` for code `n` of `N` routes run); each resource (first
//!    path segment) is one more feature, weighing [`PATH_WEIGHT`] times its
//!    routes' mean code, so a path holds code together in proportion to the
//!    code behind it and routes with no code join anything freely.
//! 3. **Merges**: the two groups whose merge costs least per route join,
//!    one pair at a time down to one group. Merging `i` and `j` makes each
//!    route carry the other group's code (`n_i (L_j - S) + n_j (L_i - S)`
//!    for `n` routes, `L` feature weight, `S` shared weight) and deploys the
//!    shared code once instead of twice (`S`, counted [`DUPLICATION_WEIGHT`]
//!    times per route of the app); divided by `n_i + n_j`, so two small
//!    groups that belong together join before two large ones that share
//!    much. Groups of unrelated code stay apart, groups with little code join.
//! 4. **Choice**: every cut of that sequence inside the size band, and the
//!    `route` and `resource` presets when inside it, judged by [`metrics`]:
//!    a candidate that a preset beats on SM, X and D/M together (at least as
//!    good on all three, better on one) is out; of the rest the one with the
//!    best `SM - COST_WEIGHT (X + D/M)` wins. When the presets beat every
//!    candidate, the best such preset is proposed instead, and said so.
//!
//! Deterministic: ties go to the smaller pair, then the lower index.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::{
    Granularity, Measure, STATE_HAZARDS, Scratch, by_resource, join_same_shape, resource_of,
    route_slug, second_resource,
};
use crate::analysis::Analysis;

/// A resource's path feature weighs this many times its routes' mean code.
const PATH_WEIGHT: f64 = 2.0;

/// A line two groups share, deployed once when they merge, saves this much
/// against a line a route carries that it does not run.
const DUPLICATION_WEIGHT: f64 = 0.5;

/// How much X and D/M count against SM when choosing a cut: a plan 0.1
/// lower on X or D/M is worth 0.005 of SM (SM moves by hundredths between
/// cuts, X and D/M by tenths).
const COST_WEIGHT: f64 = 0.05;

/// How many functions a team can run for `routes` routes: at most
/// max(6, routes/4), at least routes/20 from 40 routes up.
pub fn size_band(routes: usize) -> (usize, usize) {
    let hi = (routes / 4).max(6).min(routes.max(1));
    let lo = if routes >= 40 { routes / 20 } else { 1 };
    (lo.max(1), hi.max(lo.max(1)))
}

/// The plan-level numbers a grouping is judged on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Quality {
    pub sm: f64,
    pub x: f64,
    pub dm: f64,
}

impl Quality {
    pub fn of(
        measure: &Measure<'_>,
        groups: &[(String, Vec<String>)],
        scratch: &mut Scratch,
    ) -> Quality {
        measure.quality(&measure.members(groups), scratch)
    }

    /// At least as good on all three, better on one.
    pub fn dominates(self, o: Quality) -> bool {
        self.sm >= o.sm
            && self.x <= o.x
            && self.dm <= o.dm
            && (self.sm > o.sm || self.x < o.x || self.dm < o.dm)
    }

    /// The one number cuts are ranked by: SM first, X and D/M as costs.
    pub fn score(self) -> f64 {
        self.sm - COST_WEIGHT * (self.x + self.dm)
    }
}

/// What `auto` proposes.
#[derive(Debug, Clone, PartialEq)]
pub struct Auto {
    pub groups: Vec<(String, Vec<String>)>,
    pub chosen: Chosen,
}

/// Where `auto`'s groups come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    /// A cut of the clustering.
    Clustered,
    /// A preset inside the band that scores best.
    Preset(Granularity),
    /// A preset that beats every cut inside the default band on SM, X and
    /// D/M: proposed though outside the band.
    Beaten(Granularity),
    /// A cut inside the band the user set, which this preset beats.
    Bounded(Granularity),
}

/// A grouping, what it is, and its numbers.
type Candidate = (Option<Granularity>, Grouping, Quality);

/// A grouping `auto` weighs: a preset's, or a cut of the merges (groups of
/// atoms by index), named when it is chosen.
#[derive(Clone)]
enum Grouping {
    Named(Vec<(String, Vec<String>)>),
    Cut(Vec<Vec<usize>>),
}

impl Grouping {
    fn len(&self) -> usize {
        match self {
            Grouping::Named(groups) => groups.len(),
            Grouping::Cut(cut) => cut.len(),
        }
    }
}

/// `auto` for `routes` in `band` (at least, at most); `user_band`: the user
/// set it, and it holds even against a preset that beats every cut.
pub fn auto(a: &Analysis, routes: &[String], band: (usize, usize), user_band: bool) -> Auto {
    let (lo, hi) = band;
    // One function is the lambdalith: a proposal splits when it may.
    let lo = if hi >= 2 { lo.max(2) } else { lo };
    let measure = Measure::new(a);
    let features = Features::of(a, &measure, routes);
    let links = must_links(a, routes);
    let mut atoms = atoms(routes, &links, true);
    if atoms.len() < lo {
        atoms = self::atoms(routes, &links, false);
    }
    // The merges, and beside them the presets a proposal must not lose to,
    // unless they split state that must stay in one function.
    let (cuts, rivals) = rayon::join(
        || agglomerate(&features, &atoms, (lo, hi)),
        || -> Vec<Candidate> {
            [
                (Granularity::Route, presets_route(routes)),
                (Granularity::Resource, join_same_shape(by_resource(routes))),
            ]
            .into_par_iter()
            .filter(|(_, groups)| keeps_together(groups, routes, &links))
            .map(|(g, groups)| {
                let q = Quality::of(&measure, &groups, &mut Scratch::default());
                (Some(g), Grouping::Named(groups), q)
            })
            .collect()
        },
    );
    // Each cut is weighed on its own, on all cores, in order; an atom
    // reaches what its routes reach.
    let mut seen = vec![0; a.fns.len()];
    let atom_reach: Vec<Vec<usize>> = atoms
        .iter()
        .enumerate()
        .map(|(i, rs)| {
            let members = rs.iter().map(|r| measure.route_reach(&routes[*r]));
            super::union(members, &mut seen, i + 1)
        })
        .collect();
    let mut candidates: Vec<Candidate> = cuts
        .into_par_iter()
        .map_init(Scratch::default, |scratch, cut| {
            let members: Vec<Vec<&[usize]>> = cut
                .iter()
                .map(|g| g.iter().map(|i| atom_reach[*i].as_slice()).collect())
                .collect();
            let q = measure.quality(&members, scratch);
            (None, Grouping::Cut(cut), q)
        })
        .collect();
    candidates.extend(
        rivals
            .iter()
            .filter(|(_, groups, _)| (lo..=hi).contains(&groups.len()))
            .cloned(),
    );
    let names = RouteNames::of(routes);
    // The chosen grouping's routes, by name.
    let name = |grouping: &Grouping| match grouping {
        Grouping::Named(groups) => groups.clone(),
        Grouping::Cut(cut) => {
            let groups = cut
                .iter()
                .map(|g| {
                    let mut rs: Vec<usize> = g.iter().flat_map(|i| atoms[*i].clone()).collect();
                    rs.sort_unstable();
                    rs
                })
                .collect();
            named(groups, routes, &names)
        }
    };
    let beaten_by = |q: Quality| rivals.iter().find(|(_, _, p)| p.dominates(q));
    let unbeaten: Vec<&Candidate> = candidates
        .iter()
        .filter(|(_, _, q)| beaten_by(*q).is_none())
        .collect();
    if let Some((preset, groups, _)) = best(unbeaten) {
        return Auto {
            groups: name(groups),
            chosen: preset.map_or(Chosen::Clustered, Chosen::Preset),
        };
    }
    // Every candidate is beaten.
    if user_band && let Some((_, groups, q)) = best(candidates.iter().collect()) {
        let by = beaten_by(*q).and_then(|(g, _, _)| *g);
        return Auto {
            groups: name(groups),
            chosen: by.map_or(Chosen::Clustered, Chosen::Bounded),
        };
    }
    let winners: Vec<&Candidate> = rivals
        .iter()
        .filter(|(_, _, p)| candidates.iter().any(|(_, _, q)| p.dominates(*q)))
        .collect();
    match best(winners) {
        Some((Some(g), groups, _)) => Auto {
            groups: name(groups),
            chosen: Chosen::Beaten(*g),
        },
        // No cut inside the band at all (every route one shape): one group.
        _ => Auto {
            groups: named(vec![(0..routes.len()).collect()], routes, &names),
            chosen: Chosen::Clustered,
        },
    }
}

/// The candidate with the best score; ties to the first.
fn best(candidates: Vec<&Candidate>) -> Option<&Candidate> {
    candidates.into_iter().fold(None, |best, c| match best {
        Some(b) if b.2.score() >= c.2.score() => Some(b),
        _ => Some(c),
    })
}

/// Whether each must-link's routes are in one group.
fn keeps_together(
    groups: &[(String, Vec<String>)],
    routes: &[String],
    links: &[Vec<usize>],
) -> bool {
    let group_of: BTreeMap<&str, usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(i, (_, rs))| rs.iter().map(move |r| (r.as_str(), i)))
        .collect();
    links.iter().all(|link| {
        let held: BTreeSet<Option<&usize>> = link
            .iter()
            .map(|r| group_of.get(routes[*r].as_str()))
            .collect();
        held.len() <= 1
    })
}

fn presets_route(routes: &[String]) -> Vec<(String, Vec<String>)> {
    join_same_shape(
        routes
            .iter()
            .map(|r| (route_slug(r), vec![r.clone()]))
            .collect(),
    )
}

/// Each route's resource and its main two path segments, by route index.
struct RouteNames {
    resource: Vec<String>,
    second: Vec<String>,
}

impl RouteNames {
    fn of(routes: &[String]) -> RouteNames {
        RouteNames {
            resource: routes.iter().map(|r| resource_of(r)).collect(),
            second: routes.iter().map(|r| second_resource(r)).collect(),
        }
    }
}

/// Groups of routes (by index into `routes`) named by their main resource,
/// or, where two groups share one, by their main two path segments.
fn named(
    groups: Vec<Vec<usize>>,
    routes: &[String],
    names: &RouteNames,
) -> Vec<(String, Vec<String>)> {
    let first: Vec<&str> = groups
        .iter()
        .map(|rs| majority(rs.iter().map(|r| names.resource[*r].as_str())))
        .collect();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &first {
        *count.entry(n).or_default() += 1;
    }
    first
        .iter()
        .zip(groups)
        .map(|(n, rs)| {
            let name = if count[n] > 1 {
                majority(rs.iter().map(|r| names.second[*r].as_str()))
            } else {
                n
            };
            let rs = rs.into_iter().map(|r| routes[r].clone()).collect();
            (name.to_owned(), rs)
        })
        .collect()
}

/// The most frequent name, ties to the first in order.
fn majority<'n>(names: impl Iterator<Item = &'n str>) -> &'n str {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for n in names {
        *counts.entry(n).or_default() += 1;
    }
    let mut best: Option<(&str, usize)> = None;
    for (n, c) in counts {
        if best.is_none_or(|(_, b)| c > b) {
            best = Some((n, c));
        }
    }
    best.map_or("app", |(n, _)| n)
}

/// What each route runs, as weighted features (see the module doc).
struct Features {
    /// Per route (same order as the routes): feature ids, sorted.
    of_route: Vec<Vec<usize>>,
    weight: Vec<f64>,
}

impl Features {
    fn of(a: &Analysis, measure: &Measure<'_>, routes: &[String]) -> Features {
        let reach: Vec<Vec<usize>> = routes
            .iter()
            .map(|r| measure.route_reach(r).to_vec())
            .collect();
        let n = routes.len();
        let mut runs = vec![0usize; a.fns.len()];
        for fs in &reach {
            for f in fs {
                runs[*f] += 1;
            }
        }
        let specific = |k: usize| -> f64 {
            if n < 2 {
                1.0
            } else {
                (n as f64 / k as f64).ln() / (n as f64).ln()
            }
        };
        let mut weight: Vec<f64> = a
            .fns
            .iter()
            .zip(&runs)
            .map(|(f, k)| {
                if *k == 0 || k * 2 > n {
                    0.0
                } else {
                    f64::from(f.lines) * specific(*k)
                }
            })
            .collect();
        let mut of_route: Vec<Vec<usize>> = reach
            .into_iter()
            .map(|fs| fs.into_iter().filter(|f| weight[*f] > 0.0).collect())
            .collect();
        // One feature per resource, after the fns.
        let mut resources: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in routes.iter().enumerate() {
            resources.entry(resource_of(r)).or_default().push(i);
        }
        for members in resources.values() {
            let code: f64 = members
                .iter()
                .map(|i| of_route[*i].iter().map(|f| weight[*f]).sum::<f64>())
                .sum();
            let id = weight.len();
            weight.push(PATH_WEIGHT * code / members.len() as f64);
            for i in members {
                of_route[*i].push(id);
            }
        }
        Features { of_route, weight }
    }

    fn weigh(&self, ids: &[usize]) -> f64 {
        ids.iter().map(|f| self.weight[*f]).sum()
    }

    /// The weight two sorted feature lists share.
    fn shared(&self, x: &[usize], y: &[usize]) -> f64 {
        let (mut i, mut j, mut s) = (0, 0, 0.0);
        while i < x.len() && j < y.len() {
            match x[i].cmp(&y[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    s += self.weight[x[i]];
                    i += 1;
                    j += 1;
                }
            }
        }
        s
    }
}

/// Routes (by index) that write the same in-process state, per state item,
/// unless most routes do: no split keeps that together, and review flags it.
pub(super) fn must_links(a: &Analysis, routes: &[String]) -> Vec<Vec<usize>> {
    let index: BTreeMap<&str, usize> = routes
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
    a.hazards
        .iter()
        .filter(|h| STATE_HAZARDS.contains(&h.code))
        .map(|h| {
            let touched: BTreeSet<usize> = h
                .entrypoints
                .iter()
                .filter_map(|r| index.get(r.as_str()).copied())
                .collect();
            touched.into_iter().collect::<Vec<usize>>()
        })
        .filter(|t| t.len() >= 2 && t.len() * 2 <= routes.len())
        .collect()
}

/// Routes (by index) that must run together (one gateway shape, `links`)
/// or, `by_path`, sit under the same two path segments.
fn atoms(routes: &[String], links: &[Vec<usize>], by_path: bool) -> Vec<Vec<usize>> {
    let mut parent: Vec<usize> = (0..routes.len()).collect();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut x = x;
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    fn union(p: &mut [usize], a: usize, b: usize) {
        let (ra, rb) = (find(p, a), find(p, b));
        if ra != rb {
            p[ra.max(rb)] = ra.min(rb);
        }
    }
    // A route tied by state joins the routes it shares the state with,
    // not its path's other routes too.
    let linked: BTreeSet<usize> = links.iter().flatten().copied().collect();
    let mut first_of: BTreeMap<(bool, String), usize> = BTreeMap::new();
    for (i, r) in routes.iter().enumerate() {
        let j = *first_of.entry((false, super::route_shape(r))).or_insert(i);
        union(&mut parent, i, j);
        if by_path && !linked.contains(&i) {
            let j = *first_of.entry((true, second_resource(r))).or_insert(i);
            union(&mut parent, i, j);
        }
    }
    for link in links {
        for w in link.windows(2) {
            union(&mut parent, w[0], w[1]);
        }
    }
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..routes.len() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(i);
    }
    groups.into_values().collect()
}

/// Merges `atoms` pairwise, cheapest first, and returns every grouping of
/// `band.0..=band.1` groups on the way (most groups first), each group as
/// its atoms' indexes.
fn agglomerate(
    features: &Features,
    atoms: &[Vec<usize>],
    band: (usize, usize),
) -> Vec<Vec<Vec<usize>>> {
    struct Group {
        atoms: Vec<usize>,
        routes: usize,
        features: Vec<usize>,
        weight: f64,
    }
    let mut groups: Vec<Option<Group>> = atoms
        .iter()
        .enumerate()
        .map(|(i, rs)| {
            let mut fs: Vec<usize> = rs
                .iter()
                .flat_map(|r| features.of_route[*r].iter().copied())
                .collect();
            fs.sort_unstable();
            fs.dedup();
            Some(Group {
                atoms: vec![i],
                routes: rs.len(),
                weight: features.weigh(&fs),
                features: fs,
            })
        })
        .collect();
    let total_routes = features.of_route.len() as f64;
    let m = groups.len();
    let mut shared = vec![0.0f64; m * m];
    for i in 0..m {
        for j in i + 1..m {
            if let (Some(x), Some(y)) = (&groups[i], &groups[j]) {
                shared[i * m + j] = features.shared(&x.features, &y.features);
            }
        }
    }
    let names = |groups: &[Option<Group>]| -> Vec<Vec<usize>> {
        groups.iter().flatten().map(|g| g.atoms.clone()).collect()
    };
    let mut cuts = Vec::new();
    let mut alive = m;
    if (band.0..=band.1).contains(&alive) {
        cuts.push(names(&groups));
    }
    // What merging the live groups `i < j` costs, and the routes in the pair.
    let cost = |groups: &[Option<Group>], shared: &[f64], i: usize, j: usize| -> Option<Pair> {
        let (Some(x), Some(y)) = (&groups[i], &groups[j]) else {
            return None;
        };
        let s = shared[i * m + j];
        let (ni, nj) = (x.routes as f64, y.routes as f64);
        let carried = ni * (y.weight - s) + nj * (x.weight - s);
        // Per route of the pair: two small groups that belong together
        // merge before two large ones that share much.
        let cost = (carried - DUPLICATION_WEIGHT * total_routes * s) / (ni + nj);
        Some((cost, x.routes + y.routes, j))
    };
    // Each row's cheapest pair `(i, j > i)`, ties to the lower `j`: the
    // cheapest of the rows' (ties to the lower `i`) is the cheapest pair,
    // and a merge recomputes only the rows whose pairs it changed.
    let row = |groups: &[Option<Group>], shared: &[f64], i: usize| -> Option<Pair> {
        groups[i].as_ref()?;
        (i + 1..m)
            .filter_map(|j| cost(groups, shared, i, j))
            .fold(None, |best, p| cheaper(p, best))
    };
    let mut best: Vec<Option<Pair>> = (0..m).map(|i| row(&groups, &shared, i)).collect();
    while alive > band.0.max(1) {
        let pick = best
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.map(|(c, n, j)| (c, n, i, j)))
            .fold(None, |b: Option<(f64, usize, usize, usize)>, p| match b {
                Some((c, n, _, _)) if !p.0.total_cmp(&c).then(p.1.cmp(&n)).is_lt() => b,
                _ => Some(p),
            });
        let Some((_, _, i, j)) = pick else { break };
        let Some(y) = groups[j].take() else { break };
        if let Some(x) = groups[i].as_mut() {
            x.atoms.extend(y.atoms);
            x.routes += y.routes;
            let mut fs = std::mem::take(&mut x.features);
            fs.extend(y.features);
            fs.sort_unstable();
            fs.dedup();
            x.weight = features.weigh(&fs);
            x.features = fs;
        }
        alive -= 1;
        for k in 0..m {
            if k == i {
                continue;
            }
            if let (Some(x), Some(z)) = (&groups[i], &groups[k]) {
                let s = features.shared(&x.features, &z.features);
                shared[i.min(k) * m + i.max(k)] = s;
            }
        }
        best[j] = None;
        best[i] = row(&groups, &shared, i);
        for k in 0..m {
            if k == i || groups[k].is_none() {
                continue;
            }
            best[k] = match best[k] {
                // The row's best pair was one of the merged groups.
                Some((_, _, l)) if l == i || l == j => row(&groups, &shared, k),
                // Only its pair with `i` changed (`k < i`).
                b if k < i => cost(&groups, &shared, k, i).map_or(b, |p| cheaper(p, b)),
                b => b,
            };
        }
        if (band.0..=band.1).contains(&alive) {
            cuts.push(names(&groups));
        }
    }
    cuts
}

/// A pair of groups to merge: its cost, the routes in it, the second group.
type Pair = (f64, usize, usize);

/// The cheaper of a pair and the best so far: by cost, then routes, then
/// the lower second group.
fn cheaper(p: Pair, best: Option<Pair>) -> Option<Pair> {
    let order = |x: Pair, y: Pair| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2));
    match best {
        Some(b) if order(p, b).is_ge() => best,
        _ => Some(p),
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::{Chosen, Quality, auto, size_band};
    use crate::analysis::Analysis;
    use crate::partition::{Granularity, propose, propose_within, route_names};
    use crate::testing::synthetic;

    /// `auto`'s proposal for a synthetic route graph, one `name: routes`
    /// line per function, and where it came from.
    fn check(graph: &str, expect: Expect) {
        check_within(graph, (None, None), expect);
    }

    fn check_within(graph: &str, band: (Option<usize>, Option<usize>), expect: Expect) {
        let a = synthetic(graph);
        let mut out: Vec<String> = propose_within(&a, Granularity::Auto, band)
            .into_iter()
            .map(|g| format!("{}: {}", g.name, g.routes.join(", ")))
            .collect();
        let (lo, hi) = size_band(route_names(&a).len());
        let user_band = band.0.is_some() || band.1.is_some();
        let band = (band.0.unwrap_or(lo), band.1.unwrap_or(hi));
        out.push(format!(
            "chosen: {:?}",
            auto(&a, &route_names(&a), band, user_band).chosen
        ));
        expect.assert_eq(&out.join("\n"));
    }

    /// A lines-heavy body of code: `fn NAME 40 -> NAME_a NAME_b`.
    fn body(name: &str, lines: u32) -> String {
        format!(
            "fn {name} {lines} -> {name}_a {name}_b\nfn {name}_a {lines}\nfn {name}_b {lines}\n"
        )
    }

    #[test]
    fn resources_running_the_same_code_form_one_function() {
        // `/users` and `/profiles` run the accounts code, `/orders` and
        // `/invoices` the billing code: two functions, not four (each pair
        // would deploy the same code twice) nor one.
        let graph = format!(
            "{}{}
            GET /users -> accounts
            GET /users/{{id}} -> accounts
            GET /profiles/{{id}} -> accounts
            GET /orders -> billing
            GET /orders/{{id}} -> billing
            GET /invoices/{{id}} -> billing",
            body("accounts", 40),
            body("billing", 40)
        );
        check(
            &graph,
            expect![[r#"
                orders: GET /invoices/{id}, GET /orders, GET /orders/{id}
                users: GET /profiles/{id}, GET /users, GET /users/{id}
                chosen: Clustered"#]],
        );
    }

    #[test]
    fn routes_with_little_code_share_one_function_and_domains_stay_apart() {
        // Health, version and static pages run a small page helper: one
        // small function, not three, and not folded into a domain's
        // function (each route there would carry the domain's code).
        let graph = format!(
            "{}{}
            fn page 3 -> escape
            GET /health -> page
            GET /version -> page
            GET /static/{{*path}} -> page
            GET /users -> users
            POST /users -> users
            GET /orders -> orders
            POST /orders -> orders",
            body("users", 60),
            body("orders", 60)
        );
        check(
            &graph,
            expect![[r#"
                health: GET /health, GET /static/{*path}, GET /version
                orders: GET /orders, POST /orders
                users: GET /users, POST /users
                chosen: Clustered"#]],
        );
    }

    #[test]
    fn a_resource_whose_parts_run_separate_code_is_split() {
        // Under `/orgs/{id}`, members and collections run code of their own
        // and share only the org lookup: three functions.
        let graph = format!(
            "{}{}{}
            fn members 5 -> members_code lookup
            fn collections 5 -> collections_code lookup
            fn org 5 -> org_code lookup
            fn lookup 5
            GET /orgs/{{id}}/members -> members
            POST /orgs/{{id}}/members -> members
            DELETE /orgs/{{id}}/members/{{m}} -> members
            GET /orgs/{{id}}/collections -> collections
            POST /orgs/{{id}}/collections -> collections
            DELETE /orgs/{{id}}/collections/{{c}} -> collections
            GET /orgs/{{id}} -> org
            PUT /orgs/{{id}} -> org",
            body("members_code", 80),
            body("collections_code", 80),
            body("org_code", 80)
        );
        check(
            &graph,
            expect![[r#"
                orgs: GET /orgs/{id}, PUT /orgs/{id}
                orgs-collections: DELETE /orgs/{id}/collections/{c}, GET /orgs/{id}/collections, POST /orgs/{id}/collections
                orgs-members: DELETE /orgs/{id}/members/{m}, GET /orgs/{id}/members, POST /orgs/{id}/members
                chosen: Clustered"#]],
        );
    }

    #[test]
    fn routes_writing_the_same_in_process_state_stay_together() {
        // `/counter` and `/stats` write one in-process counter: splitting
        // them gives each function its own copy.
        let graph = format!(
            "{}{}{}
            GET /counter -> count
            GET /stats -> stats
            GET /users -> users
            POST /users -> users
            state COUNTER: GET /counter, GET /stats",
            body("count", 40),
            body("stats", 40),
            body("users", 40)
        );
        check(
            &graph,
            expect![[r#"
                counter: GET /counter, GET /stats
                users: GET /users, POST /users
                chosen: Clustered"#]],
        );
    }

    #[test]
    fn state_ties_the_routes_that_share_it_not_their_neighbours() {
        // A rate limiter is all `POST /accounts` and `POST /sends` run:
        // those two run in one function, while `/accounts/{id}` and
        // `/sends/{id}` (the same path segments) stay with their own code
        // rather than be pulled into one function through them.
        let graph = format!(
            "{}{}{}
            fn limit 5
            GET /accounts/{{id}} -> accounts
            PUT /accounts/{{id}} -> accounts
            POST /accounts -> limit
            GET /sends/{{id}} -> sends
            DELETE /sends/{{id}} -> sends
            POST /sends -> limit
            GET /users -> users
            POST /users -> users
            state LIMITER: POST /accounts, POST /sends",
            body("accounts", 50),
            body("sends", 50),
            body("users", 50)
        );
        check(
            &graph,
            expect![[r#"
                accounts: GET /accounts/{id}, PUT /accounts/{id}
                sends: DELETE /sends/{id}, GET /sends/{id}, POST /accounts, POST /sends
                users: GET /users, POST /users
                chosen: Clustered"#]],
        );
    }

    #[test]
    fn a_preset_that_beats_every_cut_is_proposed_and_said_so() {
        // Every route runs the same core through a one-line handler, all
        // under one resource: any split deploys the core twice and makes
        // every handler call shared code, so `resource` (one function,
        // below the band's two) beats each cut on SM, X and D/M.
        let graph = "
            fn core 100 -> core_a
            fn core_a 100
            GET /realm/a -> a
            GET /realm/b -> b
            GET /realm/c -> c
            GET /realm/d -> d
            fn a 1 -> core
            fn b 1 -> core
            fn c 1 -> core
            fn d 1 -> core";
        check(
            graph,
            expect![[r#"
                realm: GET /realm/a, GET /realm/b, GET /realm/c, GET /realm/d
                chosen: Beaten(Resource)"#]],
        );
        let a = synthetic(graph);
        assert!(
            propose(&a, Granularity::Auto)[0]
                .why
                .starts_with("the resource preset's grouping, which beats every clustering")
        );
    }

    #[test]
    fn the_band_caps_the_functions() {
        // Eight resources of separate code, at most three functions.
        let mut graph = String::new();
        for r in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            graph.push_str(&body(r, 30));
            graph.push_str(&format!("GET /{r} -> {r}\nPOST /{r} -> {r}\n"));
        }
        check_within(
            &graph,
            (None, Some(3)),
            expect![[r#"
                a: GET /a, GET /b, GET /c, GET /d, POST /a, POST /b, POST /c, POST /d
                e: GET /e, GET /f, POST /e, POST /f
                g: GET /g, GET /h, POST /g, POST /h
                chosen: Bounded(Resource)"#]],
        );
        let a = synthetic(&graph);
        let groups = propose_within(&a, Granularity::Auto, (Some(7), None));
        assert_eq!(groups.len(), 7);
    }

    /// A pseudo-random route graph: `routes` routes over `resources`
    /// resources, each resource's handlers drawn from its own ten fns,
    /// which call any of sixty.
    fn random_graph(seed: u64, routes: usize, resources: u64) -> Analysis {
        let mut s = seed;
        let mut next = move |n: u64| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) % n
        };
        let mut text = String::new();
        for f in 0..60 {
            let callees: Vec<String> = (0..next(4)).map(|_| format!("f{}", next(60))).collect();
            text.push_str(&format!(
                "fn f{f} {} -> {}\n",
                1 + next(60),
                callees.join(" ")
            ));
        }
        for r in 0..routes {
            let res = next(resources);
            let handlers: Vec<String> = (0..1 + next(2))
                .map(|_| format!("f{}", res * 10 + next(10)))
                .collect();
            text.push_str(&format!("GET /r{res}/p{r} -> {}\n", handlers.join(" ")));
        }
        synthetic(&text)
    }

    #[test]
    fn no_preset_beats_the_proposal_on_all_three_numbers() {
        for seed in 0..60 {
            let a = random_graph(seed, 6 + (seed as usize % 5) * 9, 1 + seed % 4);
            let proposed = |g: Granularity| -> Vec<(String, Vec<String>)> {
                propose(&a, g)
                    .into_iter()
                    .map(|g| (g.name, g.routes))
                    .collect()
            };
            let measure = crate::partition::Measure::new(&a);
            let scratch = &mut crate::partition::Scratch::default();
            let auto = Quality::of(&measure, &proposed(Granularity::Auto), scratch);
            for preset in [Granularity::Route, Granularity::Resource] {
                let q = Quality::of(&measure, &proposed(preset), scratch);
                assert!(
                    !q.dominates(auto),
                    "seed {seed}: {preset:?} {q:?} beats auto {auto:?}"
                );
            }
            let n = route_names(&a).len();
            let (lo, hi) = size_band(n);
            let functions = proposed(Granularity::Auto).len();
            let beaten = matches!(auto_chosen(&a), Chosen::Beaten(_));
            assert!(
                beaten || (lo.max(2).min(hi)..=hi).contains(&functions),
                "seed {seed}: {functions} functions outside {lo}..={hi}"
            );
        }
    }

    fn auto_chosen(a: &Analysis) -> Chosen {
        let routes = route_names(a);
        auto(a, &routes, size_band(routes.len()), false).chosen
    }

    #[test]
    fn the_size_band_follows_the_route_count() {
        assert_eq!(size_band(12), (1, 6));
        assert_eq!(size_band(3), (1, 3));
        assert_eq!(size_band(40), (2, 10));
        assert_eq!(size_band(301), (15, 75));
    }
}
