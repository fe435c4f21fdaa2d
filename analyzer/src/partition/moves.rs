//! What moving a route to another function would cost: the change in the
//! plan's SM, X and D/M, so a person can see the best next edit.
//!
//! Input: the analysis and a grouping (a plan's functions). Output: for
//! every route that can move, one [`Move`] to the function whose code it
//! shares most, with the metrics' change, best first. Routes that must run
//! together (one gateway shape, in-process state they write) move as one;
//! a move that would empty its function is not offered (that is a merge).

use std::collections::BTreeMap;

use serde::Serialize;

use super::cluster::{Quality, must_links};
use super::{Measure, Scratch, route_shape};
use crate::analysis::Analysis;

/// One route (or routes that must move together) into another function.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    pub routes: Vec<String>,
    pub from: String,
    pub to: String,
    /// Lines of the routes' reach the target already deploys.
    pub shared_lines: u64,
    /// Change of the plan's SM (higher is better), X and D/M (lower is better).
    pub sm: f64,
    pub x: f64,
    pub dm: f64,
}

impl Move {
    /// The change of `SM - 0.05 (X + D/M)`, what `auto` ranks plans by.
    pub fn gain(&self) -> f64 {
        Quality {
            sm: self.sm,
            x: self.x,
            dm: self.dm,
        }
        .score()
    }
}

/// Every move of a route into the function whose code it shares most,
/// best first (ties by route). `groups` is a valid plan: each route of the
/// analysis in one group.
pub fn moves(a: &Analysis, groups: &[(String, Vec<String>)]) -> Vec<Move> {
    let measure = Measure::new(a);
    let reaches: Vec<Vec<usize>> = groups.iter().map(|(_, rs)| measure.reach(rs)).collect();
    let scratch = &mut Scratch::default();
    let base = Quality::of(&measure, groups, scratch);
    let all: Vec<String> = groups.iter().flat_map(|(_, rs)| rs.clone()).collect();
    let links = must_links(a, &all);
    let lines = |fs: &[usize]| -> u64 { fs.iter().map(|f| u64::from(a.fns[*f].lines)).sum() };
    let mut out = Vec::new();
    for (gi, (from, routes)) in groups.iter().enumerate() {
        for unit in units(routes, &all, &links) {
            if unit.len() == routes.len() {
                continue;
            }
            let reach = measure.reach(&unit);
            // The other function already deploying most of the unit's code.
            let Some((gj, shared)) = (0..groups.len())
                .filter(|gj| *gj != gi)
                .map(|gj| (gj, lines(&intersect(&reach, &reaches[gj]))))
                .fold(None, |best: Option<(usize, u64)>, c| match best {
                    Some(b) if b.1 >= c.1 => Some(b),
                    _ => Some(c),
                })
            else {
                continue;
            };
            let mut moved = groups.to_vec();
            moved[gi].1.retain(|r| !unit.contains(r));
            moved[gj].1.extend(unit.iter().cloned());
            let after = Quality::of(&measure, &moved, scratch);
            out.push(Move {
                routes: unit,
                from: from.clone(),
                to: groups[gj].0.clone(),
                shared_lines: shared,
                sm: round(after.sm - base.sm),
                x: round(after.x - base.x),
                dm: round(after.dm - base.dm),
            });
        }
    }
    out.sort_by(|x, y| y.gain().total_cmp(&x.gain()).then(x.routes.cmp(&y.routes)));
    out
}

/// `routes` in sets that move together: one gateway shape, or state
/// `links` (indexes into `all`) ties them.
fn units(routes: &[String], all: &[String], links: &[Vec<usize>]) -> Vec<Vec<String>> {
    let mut unit_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut of_shape: BTreeMap<String, usize> = BTreeMap::new();
    let mut units: Vec<Vec<String>> = Vec::new();
    for r in routes {
        let at = *of_shape.entry(route_shape(r)).or_insert_with(|| {
            units.push(Vec::new());
            units.len() - 1
        });
        units[at].push(r.clone());
        unit_of.insert(r.clone(), at);
    }
    // Join units that share a state link.
    for link in links {
        let held: Vec<usize> = link
            .iter()
            .filter_map(|i| unit_of.get(&all[*i]).copied())
            .collect();
        let Some(&first) = held.iter().min() else {
            continue;
        };
        for u in held {
            if u != first {
                let rs = std::mem::take(&mut units[u]);
                for r in &rs {
                    unit_of.insert(r.clone(), first);
                }
                units[first].extend(rs);
            }
        }
    }
    units.retain(|u| !u.is_empty());
    for u in &mut units {
        u.sort();
    }
    units
}

fn intersect(x: &[usize], y: &[usize]) -> Vec<usize> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(x[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::moves;
    use crate::testing::synthetic;

    fn group(name: &str, routes: &[&str]) -> (String, Vec<String>) {
        (
            name.to_owned(),
            routes.iter().map(|r| r.to_string()).collect(),
        )
    }

    #[test]
    fn a_route_in_the_wrong_function_is_the_best_move_and_goes_home() {
        let a = synthetic(
            "fn users 40 -> users_a
            fn users_a 40
            fn orders 40 -> orders_a
            fn orders_a 40
            GET /users -> users
            POST /users -> users
            GET /orders -> orders
            POST /orders -> orders
            GET /orders/{id} -> orders
            GET /orders/{slug} -> orders",
        );
        let plan = [
            group(
                "users",
                &[
                    "GET /orders/{id}",
                    "GET /orders/{slug}",
                    "GET /users",
                    "POST /users",
                ],
            ),
            group("orders", &["GET /orders", "POST /orders"]),
        ];
        let all = moves(&a, &plan);
        let best = &all[0];
        // One gateway shape moves as one.
        assert_eq!(best.routes, ["GET /orders/{id}", "GET /orders/{slug}"]);
        assert_eq!((best.from.as_str(), best.to.as_str()), ("users", "orders"));
        // Users no longer deploys the orders code.
        assert!(best.dm < 0.0, "{best:?}");
        assert!(best.gain() > 0.0);
        assert_eq!(best.shared_lines, 80);
        // No other move helps (orders' routes into users, which already
        // deploys their code, changes nothing); moving a users route
        // deploys the users code twice.
        assert!(all[1..].iter().all(|m| m.gain() <= 0.0), "{all:?}");
        let users = all
            .iter()
            .find(|m| m.routes == ["GET /users"])
            .expect("users move");
        assert!(users.dm > 0.0 && users.gain() < 0.0, "{users:?}");
    }
}
