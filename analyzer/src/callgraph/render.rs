//! Renders a [`CallGraph`] as the `cleave.callgraph/1` JSON document or as
//! Graphviz DOT. Sorted output; files relative to the analysed root.

use serde::Serialize;

use super::{CallGraph, EdgeKind};
use crate::resolve::{DefMap, FnKind};

pub const SCHEMA: &str = "cleave.callgraph/1";

#[derive(Debug, Serialize)]
pub struct Document {
    pub schema: &'static str,
    pub root: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<EdgeOut>,
    pub unresolved: Vec<UnresolvedOut>,
}

#[derive(Debug, Serialize)]
pub struct Node {
    pub id: String,
    pub kind: &'static str,
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Serialize)]
pub struct EdgeOut {
    pub from: String,
    pub to: String,
    pub kind: EdgeKind,
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Serialize)]
pub struct UnresolvedOut {
    pub from: String,
    pub call: String,
    pub file: String,
    pub line: u32,
}

/// The graph document, optionally restricted to the fns in `only`.
pub fn document(
    defs: &DefMap<'_>,
    graph: &CallGraph,
    root: &str,
    only: Option<&[usize]>,
) -> Document {
    let keep = |f: usize| only.is_none_or(|o| o.binary_search(&f).is_ok());
    let mut nodes: Vec<Node> = defs
        .fns
        .iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, f)| Node {
            id: f.id.clone(),
            kind: match f.kind {
                FnKind::Fn => "fn",
                FnKind::Method => "method",
            },
            file: f.file.to_owned(),
            line: f.line,
        })
        .collect();
    nodes.sort_by(|a, b| (&a.file, a.line, &a.id).cmp(&(&b.file, b.line, &b.id)));
    let mut edges: Vec<EdgeOut> = graph
        .edges()
        .into_iter()
        .filter(|(a, b, _)| keep(*a) && keep(*b))
        .map(|(a, b, e)| EdgeOut {
            from: defs.fns[a].id.clone(),
            to: defs.fns[b].id.clone(),
            kind: e.kind,
            file: defs.fns[a].file.to_owned(),
            line: e.line,
        })
        .collect();
    edges.sort_by(|a, b| (&a.from, &a.to, a.kind).cmp(&(&b.from, &b.to, b.kind)));
    let mut unresolved: Vec<UnresolvedOut> = graph
        .unresolved
        .iter()
        .filter(|u| keep(u.from))
        .map(|u| UnresolvedOut {
            from: defs.fns[u.from].id.clone(),
            call: u.call.clone(),
            file: defs.fns[u.from].file.to_owned(),
            line: u.line,
        })
        .collect();
    unresolved.sort_by(|a, b| {
        (&a.file, a.line, &a.from, &a.call).cmp(&(&b.file, b.line, &b.from, &b.call))
    });
    Document {
        schema: SCHEMA,
        root: root.to_owned(),
        nodes,
        edges,
        unresolved,
    }
}

/// Graphviz DOT: one node per fn (labelled with its id), edges styled by kind.
pub fn dot(doc: &Document) -> String {
    let mut out =
        String::from("digraph callgraph {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n");
    for n in &doc.nodes {
        out.push_str(&format!(
            "  {} [label={}];\n",
            quote(&n.id),
            quote(&format!("{}\\n{}:{}", n.id, n.file, n.line))
        ));
    }
    for e in &doc.edges {
        let style = match e.kind {
            EdgeKind::Call => "solid",
            EdgeKind::Ref => "dashed",
            EdgeKind::Dyn => "dotted",
        };
        out.push_str(&format!(
            "  {} -> {} [style={style}];\n",
            quote(&e.from),
            quote(&e.to)
        ));
    }
    out.push_str("}\n");
    out
}

fn quote(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    q.push('"');
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => {
                // keep `\n` label breaks written above, escape the rest
                q.push('\\');
            }
            _ => q.push(c),
        }
    }
    q.push('"');
    q
}

/// Why [`graph`] produced no document.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    #[error("{path}: no entry point \"{route}\" (known: {known})")]
    NoEntry {
        path: String,
        route: String,
        known: String,
    },
}

/// The call graph of the project at `root` as a [`Document`], with the
/// loader's diagnostics; with `entry` (a route, `"GET /orders"`) only what
/// that entry point reaches, counted as `analyze` counts a route's reach:
/// its handler's code and that of the middleware around it. `features`:
/// on beside the defaults, as `cargo build --features`.
pub fn graph(
    root: &std::path::Path,
    entry: Option<&str>,
    features: &[String],
) -> Result<(Document, Vec<crate::Diagnostic>), GraphError> {
    let project = crate::load::load_with(root, features)?;
    let defs = DefMap::build(&project);
    let graph = super::build(&defs);
    let only = match entry {
        None => None,
        Some(route) => {
            let detection = crate::entrypoints::detect(&defs);
            let by_id: std::collections::BTreeMap<&str, usize> = defs
                .fns
                .iter()
                .enumerate()
                .map(|(i, f)| (f.id.as_str(), i))
                .collect();
            let mut roots: Vec<usize> = Vec::new();
            for e in detection.entrypoints.iter().filter(|e| e.route() == route) {
                roots.extend(e.root);
                roots.extend(crate::entrypoints::reach_roots(&defs, e));
                roots.extend(
                    e.middleware
                        .iter()
                        .filter_map(|m| m.handler.as_deref())
                        .filter_map(|h| by_id.get(h).copied()),
                );
            }
            roots.sort_unstable();
            roots.dedup();
            if roots.is_empty() {
                let known: Vec<String> = detection.entrypoints.iter().map(|e| e.route()).collect();
                return Err(GraphError::NoEntry {
                    path: root.display().to_string(),
                    route: route.to_owned(),
                    known: if known.is_empty() {
                        "none".to_owned()
                    } else {
                        known.join(", ")
                    },
                });
            }
            Some(graph.reachable(&roots))
        }
    };
    let doc = document(&defs, &graph, &project.root_display, only.as_deref());
    Ok((doc, project.diagnostics.clone()))
}
