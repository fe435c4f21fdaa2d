//! Partition: [`Analysis`] -> groups of HTTP routes, one group per function,
//! by a preset (`route`, `resource`, `single`, `auto`), each with a one-line
//! *why*; and the metrics of any grouping (a preset's or a human's plan).
//!
//! Deterministic: every choice is ordered by route name. Knows nothing of
//! TOML or files: `plan` turns groups into a `cleave.toml`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use crate::analysis::Analysis;
use crate::hash::FastHash;

mod cluster;
mod moves;
mod why;
use cluster::Quality;
pub use cluster::{Chosen, size_band};
pub use moves::{Move, moves};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Auto,
    Route,
    Resource,
    Single,
}

impl Granularity {
    pub const ALL: [Granularity; 4] = [
        Granularity::Route,
        Granularity::Resource,
        Granularity::Single,
        Granularity::Auto,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Granularity::Auto => "auto",
            Granularity::Route => "route",
            Granularity::Resource => "resource",
            Granularity::Single => "single",
        }
    }
}

/// A proposed function: a crate-safe name, its routes, and why they are together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub name: String,
    /// `"METHOD /path"`, sorted.
    pub routes: Vec<String>,
    pub why: String,
}

/// Hazard codes whose items are in-process mutable state: routes that write
/// the same one should run in the same function.
pub const STATE_HAZARDS: &[&str] = &["global-mutable-state", "in-process-state"];

/// Groups the HTTP routes of `a` by `granularity`.
pub fn propose(a: &Analysis, granularity: Granularity) -> Vec<Group> {
    propose_within(a, granularity, (None, None))
}

/// [`propose`], with `auto`'s size band overridden: `(at least, at most)`
/// functions (see [`size_band`] for the defaults).
pub fn propose_within(
    a: &Analysis,
    granularity: Granularity,
    band: (Option<usize>, Option<usize>),
) -> Vec<Group> {
    let routes = route_names(a);
    if routes.is_empty() {
        return Vec::new();
    }
    let mut chosen = Chosen::Clustered;
    let groups: Vec<(String, Vec<String>)> = match granularity {
        Granularity::Single => vec![(a.project.name.clone(), routes.clone())],
        Granularity::Route => routes
            .iter()
            .map(|r| (route_slug(r), vec![r.clone()]))
            .collect(),
        Granularity::Resource => by_resource(&routes),
        Granularity::Auto => {
            let (lo, hi) = size_band(routes.len());
            // A floor above the default ceiling raises the ceiling.
            let hi = band.1.unwrap_or(hi.max(band.0.unwrap_or(0))).max(1);
            let lo = band.0.unwrap_or(lo).clamp(1, hi);
            let user_band = band.0.is_some() || band.1.is_some();
            let auto = cluster::auto(a, &routes, (lo, hi), user_band);
            chosen = auto.chosen;
            auto.groups
        }
    };
    let groups = join_same_shape(groups);
    // A function crate sits beside the monolith's packages in the generated
    // workspace, so it may not take one of their names.
    let packages: BTreeSet<String> = a.packages.iter().map(|p| crate_safe(&p.name)).collect();
    let mut used = BTreeSet::new();
    let groups: Vec<(String, Vec<String>)> = groups
        .into_iter()
        .map(|(name, mut routes)| {
            routes.sort();
            routes.dedup();
            let mut base = crate_safe(&name);
            if packages.contains(&base) {
                base = crate_safe(&format!("{base}-fn"));
            }
            (unique_name(&base, &mut used), routes)
        })
        .collect();
    let route_sets: Vec<Vec<String>> = groups.iter().map(|(_, rs)| rs.clone()).collect();
    let whys = why::whys(a, &route_entries(a), &route_sets, granularity, chosen);
    let mut out: Vec<Group> = groups
        .into_iter()
        .zip(whys)
        .map(|((name, routes), why)| Group { name, routes, why })
        .collect();
    out.sort_by(|x, y| x.name.cmp(&y.name));
    out
}

/// `"GET /notes/{id}"` -> `"GET /notes/{}"`: what a gateway matches on.
/// Routes of one shape (rocket's ranked `/<id>` and `/<slug>`, handlers told
/// apart by guards) answer the same requests, so API Gateway can send them
/// to one function only.
pub fn route_shape(route: &str) -> String {
    let (method, path) = route.split_once(' ').unwrap_or(("", route));
    let path: Vec<&str> = path
        .split('/')
        .map(|seg| match Segment::of(seg) {
            Segment::Rest { .. } => "{*}",
            Segment::Param(_) => "{}",
            Segment::Literal => seg,
        })
        .collect();
    format!("{method} {}", path.join("/"))
}

/// One `/`-separated segment of a route path in cleave's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment<'a> {
    /// Matched as written.
    Literal,
    /// `{id}`, or actix's `{id:\d+}`: one segment, named.
    Param(&'a str),
    /// The rest of the path: `{*rest}` (axum, rocket's `<rest..>`) or an
    /// actix regex that can cross `/` (`{tail:.*}`). `empty`: the regex
    /// also matches no segment at all (`.*`); whether `{*rest}` does
    /// depends on the framework (rocket's does, axum's does not).
    Rest { name: &'a str, empty: bool },
}

impl<'a> Segment<'a> {
    /// A parameter after literal text in one segment (actix's
    /// `call{route:.*}`) is read as the parameter alone: API Gateway matches
    /// whole segments, so the route takes what the parameter would.
    pub fn of(seg: &'a str) -> Self {
        let seg = match seg.find('{') {
            Some(at) if at > 0 && seg.ends_with('}') => &seg[at..],
            _ => seg,
        };
        let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
            return Segment::Literal;
        };
        if let Some(name) = inner.strip_prefix('*') {
            return Segment::Rest { name, empty: false };
        }
        match inner.split_once(':') {
            // actix: a regex that can take `/` matches the rest of the path.
            Some((name, regex)) => match crate::entrypoints::regex_tail(regex) {
                Some(empty) => Segment::Rest { name, empty },
                None => Segment::Param(name),
            },
            None => Segment::Param(inner),
        }
    }
}

/// Merges groups holding routes of one shape into the first of them.
fn join_same_shape(groups: Vec<(String, Vec<String>)>) -> Vec<(String, Vec<String>)> {
    // Union-find over group indices; the smaller index is the root.
    let mut parent: Vec<usize> = (0..groups.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first: BTreeMap<String, usize> = BTreeMap::new();
    for (i, (_, routes)) in groups.iter().enumerate() {
        for r in routes {
            let j = *first.entry(route_shape(r)).or_insert(i);
            let (a, b) = (root(&mut parent, i), root(&mut parent, j));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let roots: Vec<usize> = (0..groups.len()).map(|i| root(&mut parent, i)).collect();
    let mut out: Vec<Option<(String, Vec<String>)>> = Vec::new();
    let mut slot: BTreeMap<usize, usize> = BTreeMap::new();
    for (i, (name, routes)) in groups.into_iter().enumerate() {
        match slot.get(&roots[i]) {
            Some(&k) => {
                if let Some((_, rs)) = out[k].as_mut() {
                    rs.extend(routes);
                }
            }
            None => {
                slot.insert(roots[i], out.len());
                out.push(Some((name, routes)));
            }
        }
    }
    out.into_iter().flatten().collect()
}

/// Every distinct `"METHOD /path"` of the analysis, sorted.
pub fn route_names(a: &Analysis) -> Vec<String> {
    let set: BTreeSet<String> = a
        .entrypoints
        .iter()
        .filter(|e| e.kind.is_route())
        .map(|e| e.route())
        .collect();
    set.into_iter().collect()
}

/// Path segments that name an API's version or root rather than a resource.
fn is_prefix_segment(s: &str) -> bool {
    let s = s.to_ascii_lowercase();
    s == "api"
        || s == "rest"
        || s == "public"
        || (s.starts_with('v') && s.len() > 1 && s[1..].chars().all(|c| c.is_ascii_digit()))
}

/// The resource a route belongs to: its first static path segment after
/// `api`/`v1`-style prefixes (`/api/v1/orders/{id}` -> `orders`).
pub fn resource_of(route: &str) -> String {
    let path = route.split_once(' ').map(|(_, p)| p).unwrap_or(route);
    path.split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .find(|s| !is_prefix_segment(s))
        .map(str::to_owned)
        .unwrap_or_else(|| "root".to_owned())
}

fn by_resource(routes: &[String]) -> Vec<(String, Vec<String>)> {
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in routes {
        groups.entry(resource_of(r)).or_default().push(r.clone());
    }
    groups.into_iter().collect()
}

fn second_resource(route: &str) -> String {
    let path = route.split_once(' ').map(|(_, p)| p).unwrap_or(route);
    let statics: Vec<&str> = path
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{') && !is_prefix_segment(s))
        .collect();
    match statics.as_slice() {
        [] => "root".to_owned(),
        [one] => (*one).to_owned(),
        [a, b, ..] => format!("{a}-{b}"),
    }
}

/// The fns a set of routes reaches together.
pub fn reach_of(a: &Analysis, routes: &[String]) -> BTreeSet<usize> {
    reach_in(a, &route_entries(a), routes)
}

/// Each route's entry points (by index), by its text.
type Entries = HashMap<String, Vec<usize>, FastHash>;

/// Each route's entry points (by index), its text formatted once.
fn route_entries(a: &Analysis) -> Entries {
    let mut out = Entries::default();
    for (i, e) in a.http_routes() {
        out.entry(e.route()).or_default().push(i);
    }
    out
}

/// [`reach_in`] as a sorted list without repeats (cheaper to build).
fn reach_sorted(a: &Analysis, entries: &Entries, routes: &[String]) -> Vec<usize> {
    let wanted: BTreeSet<&str> = routes.iter().map(String::as_str).collect();
    let mut out: Vec<usize> = wanted
        .iter()
        .filter_map(|r| entries.get(*r))
        .flatten()
        .flat_map(|i| a.reach[*i].iter().copied())
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// [`reach_of`] with the routes' entry points looked up in `entries`.
fn reach_in(a: &Analysis, entries: &Entries, routes: &[String]) -> BTreeSet<usize> {
    let wanted: BTreeSet<&str> = routes.iter().map(String::as_str).collect();
    let mut out = BTreeSet::new();
    for i in wanted.iter().filter_map(|r| entries.get(*r)).flatten() {
        out.extend(a.reach[*i].iter().copied());
    }
    out
}

/// `GET /orders/{id}` -> `get-orders-id`.
pub fn route_slug(route: &str) -> String {
    crate_safe(&route.to_ascii_lowercase())
}

/// Makes a crate-safe function name: `[a-z][a-z0-9-]*`, at most 48 chars.
pub fn crate_safe(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.to_ascii_lowercase().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out = out.trim_matches('-').to_owned();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert_str(0, "fn-");
    }
    out.truncate(48);
    out.trim_end_matches('-').to_owned()
}

fn unique_name(base: &str, used: &mut BTreeSet<String>) -> String {
    let mut name = base.to_owned();
    let mut n = 2;
    while used.contains(&name) {
        let suffix = format!("-{n}");
        let mut b = base.to_owned();
        b.truncate(48 - suffix.len());
        name = format!("{}{suffix}", b.trim_end_matches('-'));
        n += 1;
    }
    used.insert(name.clone());
    name
}

/// Per-function numbers for a grouping.
#[derive(Debug, Clone, Serialize)]
pub struct FunctionMetrics {
    pub name: String,
    #[serde(rename = "route_count")]
    pub routes: usize,
    /// Lines of workspace code the function's routes reach.
    pub reachable_lines: u64,
    /// Of those, lines no other function reaches.
    pub exclusive_lines: u64,
    pub shared_lines: u64,
    /// Hazards reached by the function's routes.
    pub hazards: usize,
}

/// Whole-plan numbers (formulas in README.md).
#[derive(Debug, Clone, Serialize)]
pub struct PlanMetrics {
    pub functions: usize,
    pub routes_per_function: f64,
    pub reachable_lines_per_function: f64,
    /// Sum over functions of reachable lines, over the monolith's lines.
    pub deployed_over_monolith: f64,
    /// Share of call edges between owned fns that cross functions.
    pub cross_function_edges: f64,
    /// Structural modularity (higher is better).
    pub sm: f64,
    /// Interface number: routes per function.
    pub ifn: f64,
    /// Non-extreme distribution: share of functions owning fewer than 5 or more than 20 fns (lower is better).
    pub ned: f64,
    pub hazards_per_function: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub functions: Vec<FunctionMetrics>,
    pub plan: PlanMetrics,
}

/// Metrics of a grouping of routes.
pub fn metrics(a: &Analysis, groups: &[(String, Vec<String>)]) -> Metrics {
    Measure::new(a).metrics(groups)
}

/// The metrics of groupings of one analysis, for a caller that weighs many
/// (`auto`'s cuts, review's moves): what every grouping's numbers read is
/// built once, each route's entry points and each fn's callers.
pub(crate) struct Measure<'a> {
    a: &'a Analysis,
    /// Each route's reach (fns, sorted), by its text.
    reach: HashMap<String, Vec<usize>, FastHash>,
    /// The fns some route reaches, in order: no grouping's function
    /// reaches any other, so a grouping's numbers are counted over these
    /// alone, each by its place here (its live index).
    live: Vec<usize>,
    /// Each fn's live index (`usize::MAX` for a fn no route reaches).
    dense: Vec<usize>,
    /// `a.edges` between live fns by callee: the callers of live fn `y` are
    /// `callers[callers_at[y]..callers_at[y + 1]]`, in `a.edges` order, as
    /// live indexes.
    callers_at: Vec<usize>,
    callers: Vec<usize>,
    /// Live callers (live indexes) of an edge whose callee is no fn of the
    /// analysis or one no route reaches: no function owns that callee.
    dangling: Vec<usize>,
}

impl<'a> Measure<'a> {
    pub(crate) fn new(a: &'a Analysis) -> Self {
        let entries = route_entries(a);
        let reach: HashMap<String, Vec<usize>, FastHash> = entries
            .keys()
            .map(|r| {
                (
                    r.clone(),
                    reach_sorted(a, &entries, std::slice::from_ref(r)),
                )
            })
            .collect();
        let mut dense = vec![usize::MAX; a.fns.len()];
        for f in reach.values().flatten() {
            dense[*f] = 0;
        }
        let mut live = Vec::new();
        for (f, d) in dense.iter_mut().enumerate() {
            if *d == 0 {
                *d = live.len();
                live.push(f);
            }
        }
        let n = live.len();
        let mut callers_at = vec![0usize; n + 1];
        let mut dangling = Vec::new();
        // A caller no route reaches is no function's: its edge counts for
        // nothing.
        let edges = || {
            a.edges.iter().filter_map(|(x, y)| {
                dense
                    .get(*x)
                    .filter(|d| **d != usize::MAX)
                    .map(|d| (*d, *y))
            })
        };
        let live_callee = |y: usize| dense.get(y).copied().filter(|d| *d != usize::MAX);
        for (x, y) in edges() {
            match live_callee(y) {
                Some(y) => callers_at[y + 1] += 1,
                None => dangling.push(x),
            }
        }
        for i in 0..n {
            callers_at[i + 1] += callers_at[i];
        }
        let mut next = callers_at.clone();
        let mut callers = vec![0usize; callers_at[n]];
        for (x, y) in edges() {
            if let Some(y) = live_callee(y) {
                callers[next[y]] = x;
                next[y] += 1;
            }
        }
        Measure {
            a,
            reach,
            live,
            dense,
            callers_at,
            callers,
            dangling,
        }
    }

    /// The fns a route reaches, sorted.
    pub(crate) fn route_reach(&self, route: &str) -> &[usize] {
        self.reach.get(route).map_or(&[], Vec::as_slice)
    }

    /// The fns a set of routes reaches together, sorted.
    pub(crate) fn reach(&self, routes: &[String]) -> Vec<usize> {
        let members = routes.iter().filter_map(|r| self.reach.get(r));
        let mut out = union(
            members.map(Vec::as_slice),
            &mut vec![0; self.a.fns.len()],
            1,
        );
        out.sort_unstable();
        out
    }

    /// Each group's routes' reaches (a route the analysis does not know
    /// reaches nothing).
    fn members<'m>(&'m self, groups: &'m [(String, Vec<String>)]) -> Vec<Vec<&'m [usize]>> {
        groups
            .iter()
            .map(|(_, rs)| {
                rs.iter()
                    .filter_map(|r| self.reach.get(r))
                    .map(Vec::as_slice)
                    .collect()
            })
            .collect()
    }

    /// Who reaches what in a grouping, each function given as the reaches
    /// of its members (routes, or larger parts whose reaches are unions of
    /// routes').
    fn reached(&self, groups: &[Vec<&[usize]>], scratch: &mut Scratch) -> Reached {
        let nl = self.live.len();
        if scratch.seen.len() != self.a.fns.len() {
            scratch.seen = vec![0; self.a.fns.len()];
            scratch.mark = 0;
        }
        let reaches: Vec<Vec<usize>> = groups
            .iter()
            .map(|members| {
                scratch.mark += 1;
                union(members.iter().copied(), &mut scratch.seen, scratch.mark)
            })
            .collect();
        let mut at = vec![0usize; nl + 1];
        for r in &reaches {
            for f in r {
                at[self.dense[*f] + 1] += 1;
            }
        }
        for i in 0..nl {
            at[i + 1] += at[i];
        }
        let mut by = vec![0usize; at[nl]];
        let mut next = at.clone();
        for (gi, r) in reaches.iter().enumerate() {
            for f in r {
                let d = self.dense[*f];
                by[next[d]] = gi;
                next[d] += 1;
            }
        }
        let owner = (0..nl)
            .map(|f| match at[f + 1] - at[f] {
                1 => by[at[f]],
                _ => usize::MAX,
            })
            .collect();
        Reached {
            reaches,
            at,
            by,
            owner,
        }
    }

    /// The plan-level numbers `auto` and review's moves judge a grouping
    /// by, its functions given as in [`Measure::reached`].
    pub(crate) fn quality(&self, groups: &[Vec<&[usize]>], scratch: &mut Scratch) -> Quality {
        let r = self.reached(groups, scratch);
        let (sm, x) = self.structure(&r, scratch);
        Quality {
            sm,
            x,
            dm: self.deployed(r.reaches.iter().map(|fs| self.lines(fs))),
        }
    }

    /// Lines of a set of fns.
    fn lines(&self, fns: &[usize]) -> u64 {
        fns.iter().map(|f| u64::from(self.a.fns[*f].lines)).sum()
    }

    /// D/M: lines deployed by the functions (given in order) over the monolith's.
    fn deployed(&self, reachable: impl Iterator<Item = u64>) -> f64 {
        let monolith = self.a.project.lines.max(1) as f64;
        round(reachable.map(|l| l as f64).sum::<f64>() / monolith)
    }

    pub(crate) fn metrics(&self, groups: &[(String, Vec<String>)]) -> Metrics {
        let a = self.a;
        let mut scratch = Scratch::default();
        let r = self.reached(&self.members(groups), &mut scratch);
        // How many hazards touch a route of each function.
        let mut groups_of: HashMap<&str, Vec<usize>, FastHash> = HashMap::default();
        for (gi, (_, routes)) in groups.iter().enumerate() {
            for r in routes {
                groups_of.entry(r.as_str()).or_default().push(gi);
            }
        }
        let mut hazards = vec![0usize; groups.len()];
        let mut counted = vec![usize::MAX; groups.len()];
        for (hi, h) in a.hazards.iter().enumerate() {
            for gi in h
                .entrypoints
                .iter()
                .filter_map(|e| groups_of.get(e.as_str()))
                .flatten()
            {
                if counted[*gi] != hi {
                    counted[*gi] = hi;
                    hazards[*gi] += 1;
                }
            }
        }
        let mut functions = Vec::new();
        for (gi, (name, routes)) in groups.iter().enumerate() {
            let reach = &r.reaches[gi];
            let reachable = self.lines(reach);
            let exclusive: u64 = reach
                .iter()
                .filter(|f| r.by(self.dense[**f]).len() == 1)
                .map(|f| u64::from(a.fns[*f].lines))
                .sum();
            functions.push(FunctionMetrics {
                name: name.clone(),
                routes: routes.len(),
                reachable_lines: reachable,
                exclusive_lines: exclusive,
                shared_lines: reachable - exclusive,
                hazards: hazards[gi],
            });
        }
        let k = groups.len().max(1) as f64;
        let (sm, cross_function_edges) = self.structure(&r, &mut scratch);
        let total_routes: usize = groups.iter().map(|(_, r)| r.len()).sum();
        let plan = PlanMetrics {
            functions: groups.len(),
            routes_per_function: round(total_routes as f64 / k),
            reachable_lines_per_function: round(
                functions
                    .iter()
                    .map(|f| f.reachable_lines as f64)
                    .sum::<f64>()
                    / k,
            ),
            deployed_over_monolith: self.deployed(functions.iter().map(|f| f.reachable_lines)),
            cross_function_edges,
            sm,
            ifn: round(total_routes as f64 / k),
            ned: round(if groups.is_empty() {
                0.0
            } else {
                let owned = self.owned_fns(&r);
                owned.iter().filter(|n| !(5..=20).contains(*n)).count() as f64 / k
            }),
            hazards_per_function: round(
                functions.iter().map(|f| f.hazards as f64).sum::<f64>() / k,
            ),
        };
        Metrics { functions, plan }
    }

    /// How many fns each function owns (reaches alone).
    fn owned_fns(&self, r: &Reached) -> Vec<u64> {
        let mut owned = vec![0u64; r.reaches.len()];
        for g in &r.owner {
            if let Some(n) = owned.get_mut(*g) {
                *n += 1;
            }
        }
        owned
    }

    /// SM and X of a grouping (see [`PlanMetrics`]), rounded.
    fn structure(&self, r: &Reached, scratch: &mut Scratch) -> (f64, f64) {
        let nf = self.live.len();
        let n = r.reaches.len();
        let k = n.max(1) as f64;
        let mut intra = vec![0u64; n];
        // Calls from function `i`'s own code into shared code function `j`
        // deploys too, at `i * n + j` (the diagonal counts for nothing).
        // All zeros between groupings: the sum below takes every entry it
        // reads, and the diagonal.
        let calls_into = &mut scratch.calls_into;
        if calls_into.len() < n * n {
            calls_into.resize(n * n, 0);
        }
        // A fn owned by one function only calls code of that function or
        // shared code, so coupling is measured as calls from a function's own
        // code into shared code that other functions deploy too. Calls into
        // one shared fn are counted per calling function first, then spread
        // over the functions deploying it.
        let (mut owned_edges, mut crossing) = (0u64, 0u64);
        let mut calls = vec![0u64; n];
        let mut calling = Vec::new();
        // Calls into fns every function deploys (the core), per calling
        // function: counted in each of its pairs when they are summed.
        let mut into_all = vec![0u64; n];
        for y in 0..nf {
            let callers = &self.callers[self.callers_at[y]..self.callers_at[y + 1]];
            if callers.is_empty() {
                continue;
            }
            let owner_y = r.owner(y);
            for x in callers {
                let Some(gx) = r.owner(*x) else { continue };
                owned_edges += 1;
                match owner_y {
                    Some(gy) if gy == gx => intra[gx] += 1,
                    Some(_) => {}
                    None => {
                        crossing += 1;
                        if calls[gx] == 0 {
                            calling.push(gx);
                        }
                        calls[gx] += 1;
                    }
                }
            }
            let everyone = r.by(y).len() == n;
            for gx in calling.drain(..) {
                let c = std::mem::take(&mut calls[gx]);
                if everyone {
                    into_all[gx] += c;
                    continue;
                }
                let row = &mut calls_into[gx * n..(gx + 1) * n];
                for gy in r.by(y) {
                    row[*gy] += c;
                }
            }
        }
        for x in &self.dangling {
            if r.owner(*x).is_some() {
                owned_edges += 1;
                crossing += 1;
            }
        }
        let owned_fns = self.owned_fns(r);
        let cohesion: f64 = (0..n)
            .map(|i| {
                if owned_fns[i] == 0 {
                    0.0
                } else {
                    intra[i] as f64 / (owned_fns[i] as f64).powi(2)
                }
            })
            .sum::<f64>()
            / k;
        let pairs = k * (k - 1.0) / 2.0;
        let coupling: f64 = if pairs > 0.0 {
            // The crossing calls between functions i < j: each one's into
            // code the other deploys, and each one's into the core. Summed
            // pair by pair, row by row, from the first term on (an empty
            // sum is `Sum`'s own).
            let weight: Vec<f64> = owned_fns.iter().map(|o| (*o).max(1) as f64).collect();
            // Every term is positive, so starting from the empty sum adds
            // nothing to the first.
            let mut total: f64 = std::iter::empty::<f64>().sum();
            for i in 0..n {
                let wi = 2.0 * weight[i];
                let (head, below) = calls_into.split_at_mut((i + 1) * n);
                head[i * n + i] = 0;
                let (ui, row) = (into_all[i], &mut head[i * n + i + 1..]);
                // Column `i` from row `i + 1` down.
                let column = below.get_mut(i..).unwrap_or_default().iter_mut();
                let rest = row.iter_mut().zip(column.step_by(n));
                let rest = rest.zip(&into_all[i + 1..]).zip(&weight[i + 1..]);
                for (((ij, ji), uj), wj) in rest {
                    let c = std::mem::take(ij) + std::mem::take(ji) + ui + uj;
                    if c > 0 {
                        total += c as f64 / (wi * wj);
                    }
                }
            }
            total / pairs
        } else {
            calls_into[..n * n].fill(0);
            0.0
        };
        (
            round(cohesion - coupling),
            round(if owned_edges == 0 {
                0.0
            } else {
                crossing as f64 / owned_edges as f64
            }),
        )
    }
}

/// Buffers a thread reuses from one grouping it weighs to the next (`auto`
/// weighs hundreds of cuts, review a grouping per move), allocated once.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Per fn of the analysis: the last mark [`union`] gave it.
    seen: Vec<usize>,
    /// The last mark handed out.
    mark: usize,
    /// [`Measure::structure`]'s calls between functions.
    calls_into: Vec<u64>,
}

/// Which functions of one grouping reach each fn.
struct Reached {
    /// Per function, in order: the fns it reaches, each once, unsorted.
    reaches: Vec<Vec<usize>>,
    /// The functions reaching live fn `f`, in order: `by[at[f]..at[f + 1]]`.
    at: Vec<usize>,
    by: Vec<usize>,
    /// The one function reaching each live fn (`usize::MAX` for shared
    /// fns and fns none reaches), as [`Reached::owner`] gives it.
    owner: Vec<usize>,
}

impl Reached {
    fn by(&self, f: usize) -> &[usize] {
        &self.by[self.at[f]..self.at[f + 1]]
    }

    /// The one function reaching live fn `f` (shared fns, and fns none
    /// reaches, have none).
    fn owner(&self, f: usize) -> Option<usize> {
        Some(self.owner[f]).filter(|g| *g != usize::MAX)
    }
}

/// The fns of `members`, each once, in the order found; `seen` marks each
/// fn found with `mark` (a caller reusing `seen` passes a new nonzero mark
/// each time).
fn union<'m>(
    members: impl Iterator<Item = &'m [usize]> + Clone,
    seen: &mut [usize],
    mark: usize,
) -> Vec<usize> {
    // Room for every member's fns: the list is not grown a step at a time.
    let mut out = Vec::with_capacity(members.clone().map(<[usize]>::len).sum());
    for f in members.flatten() {
        if seen[*f] != mark {
            seen[*f] = mark;
            out.push(*f);
        }
    }
    out
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(name: &str, routes: &[&str]) -> (String, Vec<String>) {
        (
            name.to_owned(),
            routes.iter().map(|r| r.to_string()).collect(),
        )
    }

    #[test]
    fn shapes_ignore_parameter_names_but_not_methods_or_catch_alls() {
        assert_eq!(route_shape("GET /notes/{id}"), "GET /notes/{}");
        assert_eq!(route_shape("GET /notes/{slug}"), "GET /notes/{}");
        assert_ne!(
            route_shape("PUT /notes/{id}"),
            route_shape("GET /notes/{id}")
        );
        assert_eq!(route_shape("GET /files/{*rest}"), "GET /files/{*}");
        assert_eq!(route_shape("GET /files/{tail:.*}"), "GET /files/{*}");
        assert_eq!(route_shape("GET /users/{id:\\d+}"), "GET /users/{}");
        assert_ne!(
            route_shape("GET /notes/search"),
            route_shape("GET /notes/{id}")
        );
    }

    #[test]
    fn groups_sharing_a_shape_join_the_first_and_keep_its_name() {
        let joined = join_same_shape(vec![
            group("by-id", &["GET /notes/{id}"]),
            group("tags", &["GET /tags"]),
            group("by-slug", &["GET /notes/{slug}", "GET /files/{*p}"]),
            group("files", &["GET /files/{*path}"]),
        ]);
        assert_eq!(
            joined,
            vec![
                group(
                    "by-id",
                    &[
                        "GET /notes/{id}",
                        "GET /notes/{slug}",
                        "GET /files/{*p}",
                        "GET /files/{*path}"
                    ]
                ),
                group("tags", &["GET /tags"]),
            ]
        );
    }
}
