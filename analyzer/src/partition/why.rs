//! Why a function's routes are together: one line per group, naming what
//! holds it together.
//!
//! Input: the analysis and a whole grouping (what one function deploys is
//! read against what the others deploy). Output: per group, its path
//! prefix; the code at least two of its routes run that no other function
//! deploys (its glue: lines, and the two modules holding most of it), or, when
//! every such line is deployed elsewhere too, the code its routes share; the
//! in-process state it keeps in one place; and, for `auto`, which preset it
//! is when it is one. Never reads files.

use std::collections::{BTreeMap, BTreeSet};

use super::{Chosen, Entries, Granularity, STATE_HAZARDS, reach_sorted, resource_of};
use crate::analysis::Analysis;

/// One line per group of `groups`, in order.
pub(super) fn whys(
    a: &Analysis,
    entries: &Entries,
    groups: &[Vec<String>],
    granularity: Granularity,
    chosen: Chosen,
) -> Vec<String> {
    let reaches: Vec<Vec<usize>> = groups
        .iter()
        .map(|rs| reach_sorted(a, entries, rs))
        .collect();
    let mut deployed_by = vec![0usize; a.fns.len()];
    for r in &reaches {
        for f in r {
            deployed_by[*f] += 1;
        }
    }
    groups
        .iter()
        .zip(&reaches)
        .map(|(routes, reach)| {
            let how = how(routes, granularity, chosen);
            let holds = holds(a, entries, routes, reach, &deployed_by);
            let state = state(a, routes);
            let mut line = format!("{how}; {holds}");
            if !state.is_empty() {
                line.push_str(&format!("; keeps {} in one function", state.join(", ")));
            }
            line
        })
        .collect()
}

/// The prefix, and where the grouping comes from.
fn how(routes: &[String], granularity: Granularity, chosen: Chosen) -> String {
    let how = match granularity {
        Granularity::Route => "one route".to_owned(),
        Granularity::Single => "every route in one function".to_owned(),
        Granularity::Resource | Granularity::Auto => paths(routes),
    };
    match chosen {
        Chosen::Clustered => how,
        Chosen::Preset(g) => format!("the {} preset's grouping scores best; {how}", g.name()),
        Chosen::Beaten(g) => format!(
            "the {} preset's grouping, which beats every clustering inside the size band on SM, X and D/M; {how}",
            g.name()
        ),
        Chosen::Bounded(g) => format!(
            "a clustering inside the size band you set, though the {} preset beats it on SM, X and D/M; {how}",
            g.name()
        ),
    }
}

/// What code holds the routes together.
fn holds(
    a: &Analysis,
    entries: &Entries,
    routes: &[String],
    reach: &[usize],
    deployed_by: &[usize],
) -> String {
    let lines = |f: &usize| u64::from(a.fns[*f].lines);
    let total: u64 = reach.iter().map(lines).sum();
    if reach.is_empty() {
        return "no workspace code reached".to_owned();
    }
    // How many of the routes run each fn.
    let mut runs: BTreeMap<usize, usize> = BTreeMap::new();
    for r in routes {
        for f in reach_sorted(a, entries, std::slice::from_ref(r)) {
            *runs.entry(f).or_default() += 1;
        }
    }
    let together = |f: &usize| routes.len() == 1 || runs.get(f).is_some_and(|n| *n >= 2);
    let glue: Vec<usize> = reach
        .iter()
        .filter(|f| together(f) && deployed_by[**f] == 1)
        .copied()
        .collect();
    if !glue.is_empty() {
        let (mods, n) = (top_modules(a, &glue), glue.iter().map(lines).sum::<u64>());
        return if routes.len() == 1 {
            format!(
                "its own code: {mods}, {n} lines no other function deploys (of {total} reachable)"
            )
        } else {
            format!(
                "held together by {mods}: {n} lines its routes share that no other function deploys (of {total} reachable)"
            )
        };
    }
    let shared: Vec<usize> = reach.iter().filter(|f| together(f)).copied().collect();
    if shared.is_empty() {
        return format!("its routes share no code (of {total} reachable lines)");
    }
    format!(
        "its routes share {}: {} lines other functions deploy too (of {total} reachable)",
        top_modules(a, &shared),
        shared.iter().map(lines).sum::<u64>()
    )
}

/// The two modules holding most of `fns`' lines, `a and b`.
fn top_modules(a: &Analysis, fns: &[usize]) -> String {
    let mut by_module: BTreeMap<&str, u64> = BTreeMap::new();
    for f in fns {
        *by_module.entry(a.fns[*f].module.as_str()).or_default() += u64::from(a.fns[*f].lines);
    }
    let mut top: Vec<(u64, &str)> = by_module.into_iter().map(|(m, l)| (l, m)).collect();
    top.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(y.1)));
    top.into_iter()
        .take(2)
        .map(|(_, m)| short_module(m))
        .collect::<Vec<_>>()
        .join(" and ")
}

/// The in-process state two or more of the routes write and no route
/// outside them does: `` `item` ``, sorted.
fn state(a: &Analysis, routes: &[String]) -> Vec<String> {
    let inside: BTreeSet<&str> = routes.iter().map(String::as_str).collect();
    let items: BTreeSet<String> = a
        .hazards
        .iter()
        .filter(|h| STATE_HAZARDS.contains(&h.code) && h.entrypoints.len() >= 2)
        .filter(|h| h.entrypoints.iter().all(|e| inside.contains(e.as_str())))
        .map(|h| format!("`{}`", short_module(&h.item)))
        .collect();
    items.into_iter().collect()
}

fn short_module(m: &str) -> String {
    match m.split_once("::") {
        Some((_, rest)) => rest.to_owned(),
        None => m.to_owned(),
    }
}

/// The routes' common path prefix, or, when they span resources, the
/// resources with the most routes.
fn paths(routes: &[String]) -> String {
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for r in routes {
        *count.entry(resource_of(r)).or_default() += 1;
    }
    if count.len() < 2 {
        return format!("prefix {}", common_prefix(routes));
    }
    let mut top: Vec<(usize, String)> = count.into_iter().map(|(k, n)| (n, k)).collect();
    top.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));
    let more = top.len().saturating_sub(3);
    let mut names: Vec<String> = top
        .into_iter()
        .take(3)
        .map(|(n, k)| format!("{k} ({n})"))
        .collect();
    if more > 0 {
        names.push(format!("{more} more"));
    }
    format!("resources {}", names.join(", "))
}

fn common_prefix(routes: &[String]) -> String {
    let paths: Vec<Vec<&str>> = routes
        .iter()
        .map(|r| {
            r.split_once(' ')
                .map(|(_, p)| p)
                .unwrap_or(r)
                .split('/')
                .filter(|s| !s.is_empty())
                .collect()
        })
        .collect();
    let Some(first) = paths.first() else {
        return "/".to_owned();
    };
    let mut n = first.len();
    for p in &paths[1..] {
        n = n.min(p.iter().zip(first).take_while(|(a, b)| a == b).count());
    }
    format!("/{}", first[..n].join("/"))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use crate::partition::{Granularity, propose};
    use crate::testing::synthetic;

    #[test]
    fn a_why_names_the_code_and_state_that_hold_a_function_together() {
        // Fns are in module `app::<name up to the first _>`.
        let a = synthetic(
            "fn orders_list 5 -> orders_repo db_pool
            fn orders_get 5 -> orders_repo db_pool
            fn orders_repo 60 -> db_pool
            fn users_list 5 -> users_repo db_pool
            fn users_create 5 -> users_repo db_pool
            fn users_repo 50 -> db_pool
            fn db_pool 30
            fn health 2
            GET /api/orders -> orders_list
            GET /api/orders/{id} -> orders_get
            GET /api/users -> users_list
            POST /api/users -> users_create
            GET /health -> health
            state SEQ: GET /api/users, POST /api/users",
        );
        let whys: Vec<String> = propose(&a, Granularity::Resource)
            .into_iter()
            .map(|g| format!("{}: {}", g.name, g.why))
            .collect();
        expect![[r#"
            health: prefix /health; its own code: health, 2 lines no other function deploys (of 2 reachable)
            orders: prefix /api/orders; held together by orders: 60 lines its routes share that no other function deploys (of 100 reachable)
            users: prefix /api/users; held together by users: 50 lines its routes share that no other function deploys (of 90 reachable); keeps `SEQ` in one function"#]]
        .assert_eq(&whys.join("\n"));
    }
}
