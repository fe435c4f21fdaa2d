//! The report's graph of the plan: functions (their routes grouped) on an
//! outer ring, the shared core between them as modules on an inner ring,
//! and an edge from a function to each module whose shared code it deploys,
//! as thick as the lines it deploys from it.
//!
//! Input: a [`Review`]; output: a [`GraphView`] of integer coordinates the
//! template `report/graph.svg` lays out. Deterministic: functions in plan
//! order, modules by lines (the review's order); no randomness, no forces.

use cleave_analyzer::review::Review;

/// Modules drawn one by one; the rest of the core is one node.
const MODULES_SHOWN: usize = 12;
const WIDTH: i32 = 960;
/// Width of a label's character, about (12px monospace).
const CHAR_W: i32 = 8;

#[derive(Debug)]
pub(super) struct GraphView {
    pub width: i32,
    pub height: i32,
    pub functions: Vec<Node>,
    pub modules: Vec<Node>,
    pub edges: Vec<Edge>,
}

#[derive(Debug)]
pub(super) struct Node {
    pub x: i32,
    pub y: i32,
    pub r: i32,
    pub label: String,
    pub label_x: i32,
    pub label_y: i32,
    /// `start`, `middle` or `end`: labels sit outside their ring.
    pub anchor: &'static str,
    pub title: String,
    /// The function's card (function nodes only).
    pub href: String,
}

#[derive(Debug)]
pub(super) struct Edge {
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
    /// Stroke width, one decimal.
    pub width: String,
    pub title: String,
}

impl GraphView {
    pub fn new(review: &Review, card: impl Fn(usize) -> String) -> GraphView {
        let n = review.functions.len();
        // Room left and right of the outer ring for the longest label.
        let longest = review
            .functions
            .iter()
            .map(|f| f.name.chars().count() + 6)
            .max()
            .unwrap_or(0);
        let room =
            (i32::try_from(longest).unwrap_or(i32::MAX / CHAR_W) * CHAR_W + 30).clamp(120, 330);
        let outer = (WIDTH / 2 - room, 210);
        let inner = (outer.0 / 2, outer.1 / 2);
        let (cx, cy) = (WIDTH / 2, outer.1 + 40);
        let height = cy + outer.1 + 40;

        // The core: the largest modules, then the rest as one node.
        let mut core: Vec<(String, u64, Vec<u64>)> = Vec::new();
        for (i, m) in review.core_modules.iter().enumerate() {
            let per_function: Vec<u64> = review
                .functions
                .iter()
                .map(|f| {
                    m.deployed_by
                        .iter()
                        .find(|u| u.function == f.name)
                        .map_or(0, |u| u.lines)
                })
                .collect();
            if i < MODULES_SHOWN {
                core.push((m.module.clone(), m.lines, per_function));
            } else {
                if i == MODULES_SHOWN {
                    core.push((String::new(), 0, vec![0; n]));
                }
                if let Some(rest) = core.last_mut() {
                    rest.1 += m.lines;
                    for (sum, l) in rest.2.iter_mut().zip(per_function) {
                        *sum += l;
                    }
                }
            }
        }
        let others = review.core_modules.len().saturating_sub(MODULES_SHOWN);
        if let Some(rest) = core.get_mut(MODULES_SHOWN) {
            rest.0 = format!("{others} more modules");
        }

        let biggest = review
            .functions
            .iter()
            .map(|f| f.metrics.reachable_lines)
            .max()
            .unwrap_or(0);
        let functions: Vec<Node> = review
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (x, y, dx, dy) = on_ring((cx, cy), outer, i, n);
                let r = radius(f.metrics.reachable_lines, biggest, 6, 18);
                let routes = f.routes.len();
                let (label_x, label_y, anchor) = label_at(x, y, dx, dy, r);
                Node {
                    x,
                    y,
                    r,
                    label: format!("{} ({routes})", f.name),
                    label_x,
                    label_y,
                    anchor,
                    title: format!(
                        "{}: {routes} route{}, {} reachable lines ({} its own)",
                        f.name,
                        if routes == 1 { "" } else { "s" },
                        f.metrics.reachable_lines,
                        f.metrics.exclusive_lines
                    ),
                    href: card(i),
                }
            })
            .collect();
        let largest = core.iter().map(|c| c.1).max().unwrap_or(0);
        let modules: Vec<Node> = core
            .iter()
            .enumerate()
            .map(|(i, (name, lines, _))| {
                let (x, y, dx, dy) = if core.len() == 1 {
                    (cx, cy, 0, 1)
                } else {
                    on_ring((cx, cy), inner, i, core.len())
                };
                let r = radius(*lines, largest, 4, 14);
                let (label_x, label_y, anchor) = label_at(x, y, dx, dy, r);
                Node {
                    x,
                    y,
                    r,
                    label: last_segment(name).to_owned(),
                    label_x,
                    label_y,
                    anchor,
                    title: format!("shared core: {}, {lines} lines", short(name)),
                    href: String::new(),
                }
            })
            .collect();
        let heaviest = core
            .iter()
            .flat_map(|c| c.2.iter().copied())
            .max()
            .unwrap_or(0);
        let mut edges = Vec::new();
        for (m, (name, _, per_function)) in core.iter().enumerate() {
            for (f, lines) in per_function.iter().enumerate() {
                if *lines == 0 {
                    continue;
                }
                let width = 0.6 + 5.4 * *lines as f64 / heaviest.max(1) as f64;
                edges.push(Edge {
                    x1: functions[f].x,
                    y1: functions[f].y,
                    x2: modules[m].x,
                    y2: modules[m].y,
                    width: format!("{width:.1}"),
                    title: format!(
                        "{} deploys {lines} shared lines of {}",
                        review.functions[f].name,
                        short(name)
                    ),
                });
            }
        }
        GraphView {
            width: WIDTH,
            height,
            functions,
            modules,
            edges,
        }
    }
}

/// Point `i` of `n` on an ellipse around `c`, from the top clockwise, and
/// its offset from the centre.
fn on_ring(c: (i32, i32), radii: (i32, i32), i: usize, n: usize) -> (i32, i32, i32, i32) {
    let angle = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n.max(1) as f64;
    let dx = (f64::from(radii.0) * angle.cos()).round() as i32;
    let dy = (f64::from(radii.1) * angle.sin()).round() as i32;
    (c.0 + dx, c.1 + dy, dx, dy)
}

/// A label away from the centre: beside a node on the sides, above or
/// below one near the top or bottom.
fn label_at(x: i32, y: i32, dx: i32, dy: i32, r: i32) -> (i32, i32, &'static str) {
    if dx.abs() < 12 {
        let below = dy.signum().max(0);
        (x, y + if below == 1 { r + 14 } else { -r - 6 }, "middle")
    } else {
        (x + dx.signum() * (r + 5), y + 4, side(dx))
    }
}

/// A radius between `min` and `max` whose area follows `value / top`.
fn radius(value: u64, top: u64, min: i32, max: i32) -> i32 {
    let share = (value as f64 / top.max(1) as f64).sqrt();
    min + (f64::from(max - min) * share).round() as i32
}

/// Where a label starts relative to its node: away from the centre.
fn side(dx: i32) -> &'static str {
    match dx.signum() {
        1 => "start",
        -1 => "end",
        _ => "middle",
    }
}

/// A module's own name: `shop::repo::orders` -> `orders`.
fn last_segment(module: &str) -> &str {
    module.rsplit("::").next().unwrap_or(module)
}

/// A module path without its crate: `shop::repo::orders` -> `repo::orders`.
fn short(module: &str) -> String {
    match module.split_once("::") {
        Some((_, rest)) => rest.to_owned(),
        None => module.to_owned(),
    }
}
