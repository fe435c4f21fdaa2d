//! The `auto` proposal: an agglomerative clustering of routes that
//! optimises what the report measures.
//!
//! Input: the analysis (each route's reachable fns, hazards) and its routes.
//! Output: groups of routes. It starts from resources (first path segment)
//! with must-links for in-process state (routes that write the same state
//! stay together unless most routes touch it), splits resources by their
//! second segment while the proposal is below the size band, then merges
//! the two groups sharing the most reachable code (leaving out the core most
//! routes run, such as middleware), one pair at a time:
//! while above the band, and inside it while the pair shares at least half
//! of the smaller group's code (groups that mostly deploy the same code are
//! one function's worth). Last, if the `resource` or `route` preset is at
//! least as good on SM, X and D/M (see [`metrics`]) and better on one, that
//! preset is proposed instead. Deterministic: ties go to the lower index.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    STATE_HAZARDS, by_resource, majority_resource, metrics, resource_of, route_slug,
    second_resource,
};
use crate::analysis::Analysis;

/// Inside the size band, two groups merge only when they share at least
/// this part of the smaller one's reachable code (lines).
const MERGE_AFFINITY: f64 = 0.5;

/// How many functions a team can run for `routes` routes: at most
/// max(6, routes/4), at least routes/20 from 40 routes up.
pub fn size_band(routes: usize) -> (usize, usize) {
    let hi = (routes / 4).max(6).min(routes.max(1));
    let lo = if routes >= 40 { routes / 20 } else { 1 };
    (lo.max(1), hi.max(lo.max(1)))
}

/// The plan-level numbers a grouping is judged on.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Quality {
    sm: f64,
    x: f64,
    dm: f64,
}

impl Quality {
    fn of(a: &Analysis, groups: &[(String, Vec<String>)]) -> Quality {
        let m = metrics(a, groups).plan;
        Quality {
            sm: m.sm,
            x: m.cross_function_edges,
            dm: m.deployed_over_monolith,
        }
    }

    /// At least as good on all three, better on one.
    fn dominates(self, o: Quality) -> bool {
        self.sm >= o.sm
            && self.x <= o.x
            && self.dm <= o.dm
            && (self.sm > o.sm || self.x < o.x || self.dm < o.dm)
    }
}

pub fn auto(a: &Analysis, routes: &[String], band: (usize, usize)) -> Vec<(String, Vec<String>)> {
    let (lo, hi) = band;
    let mut groups = linked_resources(a, routes);
    split_to_band(&mut groups, lo);

    // Each route's reachable fns, and a fn's lines.
    let mut route_reach: BTreeMap<String, BTreeSet<usize>> = BTreeMap::new();
    for (i, e) in a.http_routes() {
        route_reach
            .entry(e.route())
            .or_default()
            .extend(a.reach[i].iter().copied());
    }
    // Code most routes run (middleware, the app's core) is deployed with
    // every function whatever the split: it says nothing about which
    // routes belong together.
    let mut runs: BTreeMap<usize, usize> = BTreeMap::new();
    for fs in route_reach.values() {
        for f in fs {
            *runs.entry(*f).or_default() += 1;
        }
    }
    let core: BTreeSet<usize> = runs
        .into_iter()
        .filter(|(_, n)| n * 2 > route_reach.len())
        .map(|(f, _)| f)
        .collect();
    let lines =
        |fs: &BTreeSet<usize>| -> u64 { fs.iter().map(|f| u64::from(a.fns[*f].lines)).sum() };
    let mut reach: Vec<BTreeSet<usize>> = groups
        .iter()
        .map(|rs| {
            rs.iter()
                .filter_map(|r| route_reach.get(r))
                .flatten()
                .filter(|f| !core.contains(f))
                .copied()
                .collect()
        })
        .collect();

    let named = |gs: &[Vec<String>]| -> Vec<(String, Vec<String>)> {
        gs.iter()
            .map(|rs| (majority_resource(rs), rs.clone()))
            .collect()
    };
    loop {
        if groups.len() <= lo || groups.len() < 2 {
            break;
        }
        // The pair sharing the largest part of the smaller one's code (a
        // shared resource counts as sharing all of it); ties go to the
        // smaller pair, then the lower indexes.
        let mut pick = (0usize, 1usize);
        let mut pick_key = (f64::MIN, 0usize);
        for i in 0..groups.len() {
            for j in i + 1..groups.len() {
                let shared = lines(&reach[i].intersection(&reach[j]).copied().collect());
                let smaller = lines(&reach[i]).min(lines(&reach[j]));
                // Two groups that run nothing but the core (health checks,
                // version pages) belong together as much as any.
                let code = match (lines(&reach[i]), lines(&reach[j])) {
                    (0, 0) => 1.0,
                    _ if smaller == 0 => 0.0,
                    _ => shared as f64 / smaller as f64,
                };
                let affinity = code.max(
                    if resource_of(&groups[i][0]) == resource_of(&groups[j][0]) {
                        1.0
                    } else {
                        0.0
                    },
                );
                let size = usize::MAX - (groups[i].len() + groups[j].len());
                if (affinity, size) > pick_key {
                    pick_key = (affinity, size);
                    pick = (i, j);
                }
            }
        }
        // Inside the band, only groups that mostly run the same code merge.
        if groups.len() <= hi && pick_key.0 < MERGE_AFFINITY {
            break;
        }
        let (i, j) = pick;
        let moved = groups.remove(j);
        groups[i].extend(moved);
        groups[i].sort();
        let r = reach.remove(j);
        reach[i].extend(r);
    }
    let chosen = named(&groups);

    // A preset that beats the clustering on every count is the better proposal.
    let q = Quality::of(a, &chosen);
    let presets = [
        by_resource(routes),
        routes
            .iter()
            .map(|r| (route_slug(r), vec![r.clone()]))
            .collect(),
    ];
    for preset in presets {
        if Quality::of(a, &preset).dominates(q) {
            return preset;
        }
    }
    chosen
}

/// Resources, joined where routes write the same in-process state (unless
/// most routes do: no split keeps that together, and review flags it).
fn linked_resources(a: &Analysis, routes: &[String]) -> Vec<Vec<String>> {
    let index: BTreeMap<&str, usize> = routes
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_str(), i))
        .collect();
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
    let mut first_of: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in routes.iter().enumerate() {
        let j = *first_of.entry(resource_of(r)).or_insert(i);
        union(&mut parent, i, j);
    }
    for h in &a.hazards {
        if !STATE_HAZARDS.contains(&h.code) {
            continue;
        }
        let touched: Vec<usize> = h
            .entrypoints
            .iter()
            .filter_map(|r| index.get(r.as_str()).copied())
            .collect();
        if touched.len() < 2 || touched.len() * 2 > routes.len() {
            continue;
        }
        for w in touched.windows(2) {
            union(&mut parent, w[0], w[1]);
        }
    }
    let mut groups: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, r) in routes.iter().enumerate() {
        let root = find(&mut parent, i);
        groups.entry(root).or_default().push(r.clone());
    }
    groups.into_values().collect()
}

/// Splits the largest group by its routes' second path segment until there
/// are at least `lo` groups or nothing splits further. Groups held together
/// by state are split too only when their second segments differ; callers
/// that need the must-links run before this only on small apps (`lo` is 1
/// below 40 routes).
fn split_to_band(groups: &mut Vec<Vec<String>>, lo: usize) {
    let mut unsplittable: BTreeSet<Vec<String>> = BTreeSet::new();
    while groups.len() < lo {
        let Some(i) = (0..groups.len())
            .filter(|i| !unsplittable.contains(&groups[*i]))
            .max_by_key(|i| (groups[*i].len(), usize::MAX - i))
        else {
            break;
        };
        let mut parts: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in &groups[i] {
            parts.entry(second_resource(r)).or_default().push(r.clone());
        }
        if parts.len() < 2 {
            unsplittable.insert(groups[i].clone());
            continue;
        }
        groups.remove(i);
        groups.extend(parts.into_values());
    }
}

#[cfg(test)]
mod tests {
    use super::size_band;
    use crate::partition::{Granularity, propose};
    use crate::testing::write_fixture;

    /// The proposal for a fixture app, as `name: routes` lines.
    fn proposal(fixture: &str, granularity: Granularity) -> Vec<String> {
        let dir = tempfile::tempdir().expect("tempdir");
        write_fixture(dir.path(), fixture);
        let a = crate::analysis::analyze(dir.path()).expect("analyze");
        propose(&a, granularity)
            .into_iter()
            .map(|g| format!("{}: {}", g.name, g.routes.join(", ")))
            .collect()
    }

    /// Four resources over two bodies of code: `/users` and `/profiles`
    /// run the accounts code, `/orders` and `/invoices` the billing code.
    /// The best split is those two functions, not four (each pair would
    /// deploy the same code twice) nor one.
    const TWO_DOMAINS: &str = r#"
//- /Cargo.toml
[package]
name = "app"
version = "0.1.0"
edition = "2021"
[dependencies]
axum = "0.8"
tokio = { version = "1", features = ["full"] }
//- /src/main.rs
mod accounts;
mod billing;
use axum::{routing::get, Router};
#[tokio::main]
async fn main() {
    let app = Router::new()
        .route("/users", get(accounts::list_users))
        .route("/users/{id}", get(accounts::get_user))
        .route("/profiles/{id}", get(accounts::get_profile))
        .route("/orders", get(billing::list_orders))
        .route("/orders/{id}", get(billing::get_order))
        .route("/invoices/{id}", get(billing::get_invoice));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
//- /src/accounts.rs
pub async fn list_users() -> String { load(0) }
pub async fn get_user() -> String { load(1) }
pub async fn get_profile() -> String { load(2) }
fn load(n: u32) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("{i}"));
        s.push_str(&format!("{i}"));
        s.push_str(&format!("{i}"));
        s.push_str(&format!("{i}"));
        s.push_str(&format!("{i}"));
        s.push_str(&format!("{i}"));
    }
    check(&s);
    s
}
fn check(s: &str) {
    assert!(s.len() < 100);
    assert!(s.len() < 200);
    assert!(s.len() < 300);
    assert!(s.len() < 400);
}
//- /src/billing.rs
pub async fn list_orders() -> String { total(0) }
pub async fn get_order() -> String { total(1) }
pub async fn get_invoice() -> String { total(2) }
fn total(n: u64) -> String {
    let mut t = 0u64;
    for i in 0..n {
        t += i;
        t += i * 2;
        t += i * 3;
        t += i * 4;
        t += i * 5;
    }
    round(t)
}
fn round(t: u64) -> String {
    let t = t / 10 * 10;
    let t = t / 10 * 10;
    let t = t / 10 * 10;
    format!("{t}")
}
"#;

    #[test]
    fn routes_running_the_same_code_form_one_function() {
        let auto = proposal(TWO_DOMAINS, Granularity::Auto);
        assert_eq!(
            auto,
            vec![
                "orders: GET /invoices/{id}, GET /orders, GET /orders/{id}",
                "users: GET /profiles/{id}, GET /users, GET /users/{id}",
            ]
        );
        // The resource preset keeps the four resources apart.
        assert_eq!(proposal(TWO_DOMAINS, Granularity::Resource).len(), 4);
    }

    #[test]
    fn the_size_band_follows_the_route_count() {
        assert_eq!(size_band(12), (1, 6));
        assert_eq!(size_band(3), (1, 3));
        assert_eq!(size_band(40), (2, 10));
        assert_eq!(size_band(301), (15, 75));
    }
}
