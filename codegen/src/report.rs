//! The self-contained HTML review report.
//!
//! Input: a [`Review`] and the source lines around each hazard
//! ([`Excerpts`], read by the binary); output: one HTML page as a `String`,
//! rendered with askama (`templates/report.html`, HTML escaping on). The page
//! carries its CSS, a few lines of JS and its SVG inline: it never loads
//! anything from the network, and its Content-Security-Policy forbids it.
//! Deterministic: no timestamps, no maps with hash order; the only paths are
//! those in the review. Everything the template shows is computed here into
//! plain view structs, so the template only lays it out.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use cleave_analyzer::diagnostic::Severity;
use cleave_analyzer::partition::{Move, PlanMetrics};
use cleave_analyzer::review::{FunctionReview, Review};

mod graph;
use graph::GraphView;

/// How many moves the report lists.
const MOVES_SHOWN: usize = 20;

/// Source lines around each hazard: `(file, line)` -> `[(line number, text)]`.
pub type Excerpts = BTreeMap<(String, u32), Vec<(u32, String)>>;

/// Renders the review as one HTML page with inline CSS and SVG.
pub fn render_html(review: &Review, excerpts: &Excerpts) -> String {
    let page = ReportPage::new(review, excerpts);
    // Rendering into a String fails only if a Display impl fails; ours do not.
    page.render().unwrap_or_else(|e| {
        format!("<!doctype html><title>cleave review</title><p>cannot render the review: {e}</p>\n")
    })
}

#[derive(Debug, Template)]
#[template(path = "report.html")]
struct ReportPage<'a> {
    version: &'static str,
    project: &'a str,
    plan_file: &'a str,
    ok: bool,
    errors: usize,
    warnings: usize,
    notes: usize,
    diagnostics: Vec<DiagnosticView<'a>>,
    route_count: usize,
    functions: Vec<FunctionView<'a>>,
    shared_core: Vec<ModuleGroup>,
    shared_core_count: usize,
    hazards: Vec<HazardView<'a>>,
    comparison: Vec<MetricsRow>,
    map: MapView,
    graph: GraphView,
    moves: Vec<MoveView<'a>>,
    /// Moves left out of the table.
    moves_more: usize,
}

/// A move of routes to another function: each change as `(text, class)`,
/// the class saying whether the plan gets `better` or `worse` on it.
#[derive(Debug)]
struct MoveView<'a> {
    routes: &'a [String],
    from: &'a str,
    to: &'a str,
    shared_lines: u64,
    sm: (String, &'static str),
    x: (String, &'static str),
    dm: (String, &'static str),
}

impl<'a> MoveView<'a> {
    fn new(m: &'a Move) -> Self {
        // `up`: whether a rise is better.
        let delta = |d: f64, up: bool| {
            let class = if d == 0.0 {
                ""
            } else if (d > 0.0) == up {
                "better"
            } else {
                "worse"
            };
            (format!("{d:+.3}"), class)
        };
        MoveView {
            routes: &m.routes,
            from: &m.from,
            to: &m.to,
            shared_lines: m.shared_lines,
            sm: delta(m.sm, true),
            x: delta(m.x, false),
            dm: delta(m.dm, false),
        }
    }
}

#[derive(Debug)]
struct DiagnosticView<'a> {
    severity: &'static str,
    code: &'static str,
    location: String,
    message: Vec<Span<'a>>,
}

/// A piece of a message: `code` for what the message wrote in backticks.
#[derive(Debug)]
struct Span<'a> {
    code: bool,
    text: &'a str,
}

#[derive(Debug)]
struct FunctionView<'a> {
    anchor: String,
    name: &'a str,
    routes: &'a [String],
    memory_mb: u32,
    timeout_s: u32,
    reachable_lines: u64,
    exclusive_lines: u64,
    shared_lines: u64,
    /// Share of reachable lines that are exclusive, in percent.
    exclusive_percent: u64,
    hazards: Vec<HazardRef>,
    exclusive_groups: Vec<ModuleGroup>,
    exclusive_count: usize,
}

/// A link to a hazard card.
#[derive(Debug)]
struct HazardRef {
    anchor: String,
    code: &'static str,
    severity: &'static str,
    location: String,
}

/// Fn ids under one module (or one impl's self type).
#[derive(Debug)]
struct ModuleGroup {
    module: String,
    items: Vec<ModuleItem>,
}

#[derive(Debug)]
struct ModuleItem {
    /// What is shown: the last path segment, or `method (as Trait)`.
    name: String,
    /// The full canonical id, shown on hover.
    id: String,
}

#[derive(Debug)]
struct HazardView<'a> {
    anchor: String,
    code: &'static str,
    severity: &'static str,
    location: String,
    item: &'a str,
    message: Vec<Span<'a>>,
    advice: Vec<Span<'a>>,
    routes: &'a [String],
    functions: Vec<(String, &'a str)>,
    excerpt: Vec<ExcerptLine<'a>>,
}

#[derive(Debug)]
struct ExcerptLine<'a> {
    number: u32,
    text: &'a str,
    hit: bool,
}

/// One row of the preset comparison, numbers already formatted.
#[derive(Debug)]
struct MetricsRow {
    label: String,
    is_plan: bool,
    functions: usize,
    routes_per_function: String,
    reachable_lines_per_function: String,
    deployed_over_monolith: String,
    cross_function_edges: String,
    sm: String,
    ifn: String,
    ned: String,
    hazards_per_function: String,
}

/// The picture: one row per function (its exclusive and shared lines as a
/// stacked bar) and one column per hazard code (how many hazards of that code
/// the function reaches). Geometry in px, computed here.
#[derive(Debug)]
struct MapView {
    width: u32,
    height: u32,
    /// Baseline of the column headings.
    header_y: u32,
    name_x: u32,
    routes_x: u32,
    bar_x: u32,
    row_h: u32,
    row_width: u32,
    rows: Vec<MapRow>,
    columns: Vec<MapColumn>,
    legend_y: u32,
    legend: Vec<LegendItem>,
}

#[derive(Debug)]
struct MapRow {
    y: u32,
    text_y: u32,
    striped: bool,
    anchor: String,
    label: String,
    name: String,
    routes: usize,
    exclusive_w: u32,
    shared_x: u32,
    shared_w: u32,
    bar_label_x: u32,
    reachable_lines: u64,
    exclusive_lines: u64,
    shared_lines: u64,
    cells: Vec<MapCell>,
}

#[derive(Debug)]
struct MapColumn {
    code: &'static str,
    severity: &'static str,
    /// Centre of the column.
    x: u32,
}

#[derive(Debug)]
struct MapCell {
    x: u32,
    count: usize,
    severity: &'static str,
    code: &'static str,
}

#[derive(Debug)]
struct LegendItem {
    x: u32,
    class: &'static str,
    label: &'static str,
}

const ROW_H: u32 = 24;
const PAD: u32 = 16;
const NAME_CHAR_W: f64 = 7.3;
const CODE_CHAR_W: f64 = 6.7;
const ROUTES_W: u32 = 56;
const BAR_W: u32 = 300;
const BAR_LABEL_W: u32 = 84;
const CELL_W: u32 = 26;
const NAME_MAX_W: u32 = 260;

impl<'a> ReportPage<'a> {
    fn new(review: &'a Review, excerpts: &'a Excerpts) -> Self {
        let count = |s: Severity| {
            review
                .diagnostics
                .iter()
                .filter(|d| d.severity == s)
                .count()
        };
        let diagnostics = review
            .diagnostics
            .iter()
            .map(|d| DiagnosticView {
                severity: severity_name(d.severity),
                code: d.code,
                location: location(&d.file, d.line),
                message: spans(&d.message),
            })
            .collect();
        // Which hazards each function reaches (as review.rs decides: a hazard
        // is reached when one of its entry points is one of the routes).
        let reached: Vec<Vec<usize>> = review
            .functions
            .iter()
            .map(|f| hazards_reached(review, f))
            .collect();
        let functions = review
            .functions
            .iter()
            .zip(&reached)
            .enumerate()
            .map(|(i, (f, hs))| FunctionView::new(review, i, f, hs))
            .collect();
        let owner: BTreeMap<&str, usize> = review
            .functions
            .iter()
            .enumerate()
            .flat_map(|(i, f)| f.routes.iter().map(move |r| (r.as_str(), i)))
            .collect();
        let hazards = review
            .hazards
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let holders: BTreeSet<usize> = h
                    .entrypoints
                    .iter()
                    .filter_map(|r| owner.get(r.as_str()).copied())
                    .collect();
                let excerpt = excerpts
                    .get(&(h.file.clone(), h.line))
                    .map(|lines| {
                        lines
                            .iter()
                            .map(|(n, text)| ExcerptLine {
                                number: *n,
                                text,
                                hit: *n == h.line,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                HazardView {
                    anchor: hazard_anchor(i),
                    code: h.code,
                    severity: severity_name(h.severity),
                    location: location(&h.file, h.line),
                    item: &h.item,
                    message: spans(&h.message),
                    advice: spans(&h.advice),
                    routes: &h.entrypoints,
                    functions: holders
                        .into_iter()
                        .map(|f| (function_anchor(f), review.functions[f].name.as_str()))
                        .collect(),
                    excerpt,
                }
            })
            .collect();
        let mut comparison = vec![MetricsRow::new(
            "this plan".to_owned(),
            true,
            &review.metrics,
        )];
        comparison.extend(
            review
                .presets
                .iter()
                .map(|p| MetricsRow::new(format!("preset: {}", p.preset), false, &p.metrics)),
        );
        ReportPage {
            version: env!("CARGO_PKG_VERSION"),
            project: &review.project,
            plan_file: &review.plan_file,
            ok: review.ok,
            errors: count(Severity::Error),
            warnings: count(Severity::Warning),
            notes: count(Severity::Note),
            diagnostics,
            route_count: review.functions.iter().map(|f| f.routes.len()).sum(),
            functions,
            shared_core: group_by_module(&review.shared_core),
            shared_core_count: review.shared_core.len(),
            hazards,
            comparison,
            map: MapView::new(review, &reached),
            graph: GraphView::new(review, function_anchor),
            moves: review
                .moves
                .iter()
                .take(MOVES_SHOWN)
                .map(MoveView::new)
                .collect(),
            moves_more: review.moves.len().saturating_sub(MOVES_SHOWN),
        }
    }
}

impl<'a> FunctionView<'a> {
    fn new(review: &'a Review, index: usize, f: &'a FunctionReview, hazards: &[usize]) -> Self {
        let m = &f.metrics;
        FunctionView {
            anchor: function_anchor(index),
            name: &f.name,
            routes: &f.routes,
            memory_mb: f.memory_mb,
            timeout_s: f.timeout_s,
            reachable_lines: m.reachable_lines,
            exclusive_lines: m.exclusive_lines,
            shared_lines: m.shared_lines,
            exclusive_percent: (m.exclusive_lines * 100)
                .checked_div(m.reachable_lines)
                .unwrap_or(0),
            hazards: hazards
                .iter()
                .map(|&i| {
                    let h = &review.hazards[i];
                    HazardRef {
                        anchor: hazard_anchor(i),
                        code: h.code,
                        severity: severity_name(h.severity),
                        location: location(&h.file, h.line),
                    }
                })
                .collect(),
            exclusive_groups: group_by_module(&f.exclusive_fns),
            exclusive_count: f.exclusive_fns.len(),
        }
    }
}

impl MetricsRow {
    fn new(label: String, is_plan: bool, m: &PlanMetrics) -> Self {
        MetricsRow {
            label,
            is_plan,
            functions: m.functions,
            routes_per_function: format!("{:.2}", m.routes_per_function),
            reachable_lines_per_function: format!("{:.0}", m.reachable_lines_per_function),
            deployed_over_monolith: format!("{:.2}", m.deployed_over_monolith),
            cross_function_edges: format!("{:.3}", m.cross_function_edges),
            sm: format!("{:.3}", m.sm),
            ifn: format!("{:.2}", m.ifn),
            ned: format!("{:.2}", m.ned),
            hazards_per_function: format!("{:.2}", m.hazards_per_function),
        }
    }
}

impl MapView {
    fn new(review: &Review, reached: &[Vec<usize>]) -> Self {
        // Columns: every hazard code in the review, most severe first.
        let mut codes: BTreeMap<&'static str, Severity> = BTreeMap::new();
        for h in &review.hazards {
            let s = codes.entry(h.code).or_insert(h.severity);
            *s = (*s).min(h.severity);
        }
        let mut codes: Vec<(&'static str, Severity)> = codes.into_iter().collect();
        codes.sort_by_key(|&(code, s)| (s, code));

        let longest_name = review
            .functions
            .iter()
            .map(|f| f.name.chars().count())
            .max()
            .unwrap_or(8)
            .max(8);
        let name_w = (px(longest_name, NAME_CHAR_W) + 12).min(NAME_MAX_W);
        let name_chars = ((f64::from(name_w - 12)) / NAME_CHAR_W) as usize;
        let longest_code = codes.iter().map(|(c, _)| c.len()).max().unwrap_or(0);
        // Codes are drawn at -45°: they rise and run right by len * w / √2.
        let slant = px(longest_code, CODE_CHAR_W * std::f64::consts::FRAC_1_SQRT_2);
        let header_y = (slant + 16).max(44);
        let top = header_y + 10;

        let name_x = PAD;
        let routes_x = name_x + name_w;
        let bar_x = routes_x + ROUTES_W;
        let matrix_x = bar_x + BAR_W + BAR_LABEL_W;
        let n_codes = u32::try_from(codes.len()).unwrap_or(u32::MAX / CELL_W);
        let matrix_w = n_codes * CELL_W;
        let row_width = matrix_x + matrix_w - name_x;
        let width = (matrix_x + matrix_w + slant + PAD).max(name_x + 640 + PAD);

        let max_lines = review
            .functions
            .iter()
            .map(|f| f.metrics.exclusive_lines + f.metrics.shared_lines)
            .max()
            .unwrap_or(0)
            .max(1);
        let scale = |lines: u64| -> u32 {
            let w = (lines as f64 / max_lines as f64 * f64::from(BAR_W)).round() as u32;
            if lines > 0 { w.max(1) } else { 0 }
        };

        let columns: Vec<MapColumn> = codes
            .iter()
            .zip(0u32..)
            .map(|(&(code, s), i)| MapColumn {
                code,
                severity: severity_name(s),
                x: matrix_x + i * CELL_W + CELL_W / 2,
            })
            .collect();
        let rows: Vec<MapRow> = review
            .functions
            .iter()
            .zip(reached)
            .zip(0u32..)
            .map(|((f, hs), i)| {
                let m = &f.metrics;
                let y = top + i * ROW_H;
                let exclusive_w = scale(m.exclusive_lines);
                let shared_w = scale(m.shared_lines);
                let cells = codes
                    .iter()
                    .zip(&columns)
                    .map(|(&(code, _), col)| {
                        let mine: Vec<Severity> = hs
                            .iter()
                            .map(|&h| &review.hazards[h])
                            .filter(|h| h.code == code)
                            .map(|h| h.severity)
                            .collect();
                        MapCell {
                            x: col.x,
                            count: mine.len(),
                            severity: severity_name(
                                mine.iter().copied().min().unwrap_or(Severity::Note),
                            ),
                            code,
                        }
                    })
                    .collect();
                MapRow {
                    y,
                    text_y: y + ROW_H / 2 + 4,
                    striped: i.is_multiple_of(2),
                    anchor: function_anchor(i as usize),
                    label: truncate(&f.name, name_chars),
                    name: f.name.clone(),
                    routes: f.routes.len(),
                    exclusive_w,
                    shared_x: bar_x + exclusive_w,
                    shared_w,
                    bar_label_x: bar_x + exclusive_w + shared_w + 6,
                    reachable_lines: m.reachable_lines,
                    exclusive_lines: m.exclusive_lines,
                    shared_lines: m.shared_lines,
                    cells,
                }
            })
            .collect();
        let n_rows = u32::try_from(rows.len()).unwrap_or(u32::MAX / ROW_H / 2);
        let legend_y = top + n_rows.max(1) * ROW_H + 22;
        let legend_labels: [(&'static str, &'static str, u32); 5] = [
            ("exclusive", "exclusive lines", 130),
            ("shared", "shared lines", 150),
            ("error", "error hazard", 120),
            ("warning", "warning hazard", 130),
            ("note", "note hazard", 0),
        ];
        let mut x = name_x;
        let legend = legend_labels
            .iter()
            .map(|&(class, label, step)| {
                let item = LegendItem { x, class, label };
                x += step;
                item
            })
            .collect();
        MapView {
            width,
            height: legend_y + 14,
            header_y,
            name_x,
            routes_x,
            bar_x,
            row_h: ROW_H,
            row_width,
            rows,
            columns,
            legend_y,
            legend,
        }
    }
}

/// Indices into `review.hazards` of the hazards `f`'s routes reach.
fn hazards_reached(review: &Review, f: &FunctionReview) -> Vec<usize> {
    let routes: BTreeSet<&str> = f.routes.iter().map(String::as_str).collect();
    review
        .hazards
        .iter()
        .enumerate()
        .filter(|(_, h)| h.entrypoints.iter().any(|e| routes.contains(e.as_str())))
        .map(|(i, _)| i)
        .collect()
}

/// Groups canonical fn ids by module path (all but the last segment); a
/// trait method `<T as Trait>::m` goes under `T`, shown as `m (as Trait)`.
fn group_by_module(ids: &[String]) -> Vec<ModuleGroup> {
    let mut groups: BTreeMap<String, Vec<ModuleItem>> = BTreeMap::new();
    for id in ids {
        let (module, name) = split_id(id);
        groups.entry(module).or_default().push(ModuleItem {
            name,
            id: id.clone(),
        });
    }
    groups
        .into_iter()
        .map(|(module, mut items)| {
            items.sort_by(|a, b| (&a.name, &a.id).cmp(&(&b.name, &b.id)));
            ModuleGroup { module, items }
        })
        .collect()
}

/// `(module, shown name)` of a canonical id.
fn split_id(id: &str) -> (String, String) {
    let Some(cut) = last_top_level_sep(id) else {
        return (String::new(), id.to_owned());
    };
    let (head, leaf) = (&id[..cut], &id[cut + 2..]);
    if let Some(inner) = head.strip_prefix('<').and_then(|h| h.strip_suffix('>'))
        && let Some((self_ty, trait_path)) = inner.split_once(" as ")
    {
        let trait_name =
            last_top_level_sep(trait_path).map_or(trait_path, |c| &trait_path[c + 2..]);
        return (self_ty.to_owned(), format!("{leaf} (as {trait_name})"));
    }
    (head.to_owned(), leaf.to_owned())
}

/// Byte offset of the last `::` outside angle brackets.
fn last_top_level_sep(s: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0i32;
    let mut found = None;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => depth += 1,
            b'>' => depth -= 1,
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                found = Some(i);
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Splits a message at its backticks; unbalanced backticks stay text.
fn spans(message: &str) -> Vec<Span<'_>> {
    let parts: Vec<&str> = message.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return vec![Span {
            code: false,
            text: message,
        }];
    }
    parts
        .into_iter()
        .enumerate()
        .filter(|(_, text)| !text.is_empty())
        .map(|(i, text)| Span {
            code: !i.is_multiple_of(2),
            text,
        })
        .collect()
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

fn location(file: &str, line: u32) -> String {
    if line > 0 {
        format!("{file}:{line}")
    } else {
        file.to_owned()
    }
}

fn function_anchor(i: usize) -> String {
    format!("fn-{}", i + 1)
}

fn hazard_anchor(i: usize) -> String {
    format!("hazard-{}", i + 1)
}

/// `chars` characters at most, ending in `…` when cut.
fn truncate(s: &str, chars: usize) -> String {
    if s.chars().count() <= chars {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(chars.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Width in whole px of `n` characters of width `w`.
fn px(n: usize, w: f64) -> u32 {
    (n as f64 * w).ceil() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleave_analyzer::diagnostic::Diagnostic;
    use cleave_analyzer::hazards::Hazard;
    use cleave_analyzer::partition::FunctionMetrics;
    use cleave_analyzer::review::{CoreModule, CoreUse, PresetMetrics};

    fn plan_metrics() -> PlanMetrics {
        PlanMetrics {
            functions: 2,
            routes_per_function: 1.5,
            reachable_lines_per_function: 120.0,
            deployed_over_monolith: 1.25,
            cross_function_edges: 0.1,
            sm: 0.4,
            ifn: 1.5,
            ned: 0.5,
            hazards_per_function: 0.5,
        }
    }

    fn function(name: &str, routes: &[&str], exclusive: &[&str]) -> FunctionReview {
        FunctionReview {
            name: name.to_owned(),
            routes: routes.iter().map(|r| (*r).to_owned()).collect(),
            memory_mb: 256,
            timeout_s: 29,
            metrics: FunctionMetrics {
                name: name.to_owned(),
                routes: routes.len(),
                reachable_lines: 150,
                exclusive_lines: 100,
                shared_lines: 50,
                hazards: 1,
            },
            hazards: Vec::new(),
            exclusive_fns: exclusive.iter().map(|r| (*r).to_owned()).collect(),
        }
    }

    /// A review whose user-controlled strings try to load from the network.
    fn hostile_review() -> Review {
        Review {
            schema: "cleave.review/1",
            project: "shop<img src=\"https://example.com/x.png\">".to_owned(),
            plan_file: "cleave.toml".to_owned(),
            ok: false,
            diagnostics: vec![Diagnostic::new(
                "unknown-route",
                Severity::Error,
                "cleave.toml",
                12,
                "route `GET /x` <script src=\"http://example.com/a.js\"></script>",
            )],
            functions: vec![
                function(
                    "orders",
                    &["GET /orders", "POST /orders"],
                    &[
                        "shop::orders::list",
                        "<shop::repo::Sql as shop::repo::Repo>::insert",
                    ],
                ),
                function("users", &["GET /users"], &["shop::users::get"]),
            ],
            metrics: plan_metrics(),
            presets: vec![PresetMetrics {
                preset: "route",
                metrics: plan_metrics(),
            }],
            moves: vec![Move {
                routes: vec!["GET /users".to_owned()],
                from: "users".to_owned(),
                to: "orders".to_owned(),
                shared_lines: 12,
                sm: 0.012,
                x: 0.0,
                dm: 0.034,
            }],
            shared_core: vec!["shop::db::pool".to_owned(), "shop::db::now".to_owned()],
            core_modules: vec![CoreModule {
                module: "shop::db".to_owned(),
                fns: 2,
                lines: 9,
                deployed_by: vec![
                    CoreUse {
                        function: "orders".to_owned(),
                        lines: 9,
                    },
                    CoreUse {
                        function: "users".to_owned(),
                        lines: 4,
                    },
                ],
            }],
            hazards: vec![Hazard {
                code: "local-filesystem",
                severity: Severity::Warning,
                file: "src/orders.rs".to_owned(),
                line: 3,
                item: "shop::orders::list".to_owned(),
                message: "writes <a href=\"https://example.com\">here</a>".to_owned(),
                advice: "use S3".to_owned(),
                entrypoints: vec!["GET /orders".to_owned()],
                pool: None,
            }],
        }
    }

    fn excerpts() -> Excerpts {
        let mut e = Excerpts::new();
        e.insert(
            ("src/orders.rs".to_owned(), 3),
            vec![
                (2, "fn list() {".to_owned()),
                (3, "    std::fs::write(\"/tmp/x\", b\"<\")".to_owned()),
                (4, "}".to_owned()),
            ],
        );
        e
    }

    /// Values of `attr="…"` attributes in `html`.
    fn attribute_values<'h>(html: &'h str, attr: &str) -> Vec<&'h str> {
        let needle = format!("{attr}=\"");
        html.match_indices(&needle)
            .filter_map(|(at, _)| {
                let rest = &html[at + needle.len()..];
                rest.find('"').map(|end| &rest[..end])
            })
            .collect()
    }

    #[test]
    fn loads_nothing_from_the_network() {
        let html = render_html(&hostile_review(), &excerpts());
        for attr in ["src", "href", "xlink:href", "action", "poster"] {
            for v in attribute_values(&html, attr) {
                assert!(
                    v.starts_with('#') || v.starts_with("data:"),
                    "{attr}=\"{v}\" loads a resource"
                );
            }
        }
        assert!(!html.contains("url("), "CSS must not load urls");
        assert!(!html.contains("@import"));
        assert!(!html.contains("<img"), "user text must be escaped");
        assert!(!html.contains("<script src"));
    }

    #[test]
    fn shows_the_review() {
        let html = render_html(&hostile_review(), &excerpts());
        for want in [
            "orders",
            "users",
            "GET /orders",
            "local-filesystem",
            "src/orders.rs:3",
            "insert (as Repo)",
            "shop::db",
            "<svg",
            "preset: route",
        ] {
            assert!(html.contains(want), "missing {want}");
        }
        assert!(html.contains("class=\"hit\""), "the hazard line is marked");
    }

    #[test]
    fn draws_the_functions_and_the_core_between_them_and_costs_the_moves() {
        let html = render_html(&hostile_review(), &excerpts());
        let graph = &html[html.find("<svg id=\"function-graph\"").expect("graph")..];
        let graph = &graph[..graph.find("</svg>").expect("end")];
        // Two functions, one core module, an edge from each function to it.
        assert_eq!(graph.matches("class=\"function\"").count(), 2);
        assert_eq!(graph.matches("<g class=\"core\">").count(), 1);
        assert_eq!(graph.matches("<line class=\"edge\"").count(), 2);
        assert!(graph.contains("orders deploys 9 shared lines of db"));
        assert!(graph.contains("href=\"#fn-1\""));
        // The move: SM up is better, D/M up is worse.
        assert!(html.contains("<td class=\"delta better\">+0.012</td>"));
        assert!(html.contains("<td class=\"delta worse\">+0.034</td>"));
    }

    #[test]
    fn renders_an_empty_plan() {
        let mut review = hostile_review();
        review.functions.clear();
        review.hazards.clear();
        review.shared_core.clear();
        let html = render_html(&review, &Excerpts::new());
        assert!(html.contains("The plan has no functions."));
        assert!(html.contains("No hazards found."));
        assert!(html.contains("<svg"));
    }

    #[test]
    fn is_deterministic() {
        let a = render_html(&hostile_review(), &excerpts());
        let b = render_html(&hostile_review(), &excerpts());
        assert_eq!(a, b);
    }

    #[test]
    fn splits_ids_into_module_and_name() {
        assert_eq!(
            split_id("shop::db::now"),
            ("shop::db".to_owned(), "now".to_owned())
        );
        assert_eq!(
            split_id("<shop::a::S as shop::b::T<u8>>::get"),
            ("shop::a::S".to_owned(), "get (as T<u8>)".to_owned())
        );
        assert_eq!(split_id("main"), (String::new(), "main".to_owned()));
    }
}
