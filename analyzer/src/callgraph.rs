//! Call graph: [`DefMap`] -> [`CallGraph`]: nodes are the workspace's own fns
//! and methods; an edge says the caller's body (closures, async blocks and
//! readable macro arguments included) calls (`call`), names as a value
//! (`ref`), or calls through a trait object (`dyn`) the callee.
//!
//! Method calls are resolved by the receiver's type where the syntax shows
//! it (`self`, `Self::`, typed `let`, parameters and their extractor
//! wrappers, struct fields, constructor and call results, `<T as Trait>::m`,
//! `Trait::m(&x)`, generic bounds); then by a unique method name among the
//! workspace's impls; what stays ambiguous is recorded as unresolved with
//! its text, never guessed. Knows nothing about web frameworks.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

pub mod render;
#[cfg(test)]
mod tests;

use petgraph::graph::{DiGraph, NodeIndex};
use rayon::prelude::*;
use serde::Serialize;

use crate::hash::FastHash;
use crate::parse::Expansion;
use crate::resolve::{
    Def, DefMap, FnId, FnKind, ImplId, MacroId, ModId, TraitId, TypeId, is_prelude,
};
use crate::syntax::{Block, Expr, Generic, ItemKind, Pat, Path, Stmt, Ty, WrapKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    Call,
    Ref,
    Dyn,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Edge {
    pub kind: EdgeKind,
    /// The line of the first call site.
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Unresolved {
    pub from: FnId,
    pub call: String,
    pub line: u32,
}

/// The workspace's call graph; node weights are [`FnId`]s of the [`DefMap`].
#[derive(Debug)]
pub struct CallGraph {
    pub graph: DiGraph<FnId, Edge>,
    node_of: Vec<NodeIndex>,
    pub unresolved: Vec<Unresolved>,
}

impl CallGraph {
    pub fn node(&self, f: FnId) -> NodeIndex {
        self.node_of[f]
    }

    /// Edges as `(from, to, edge)`, sorted.
    pub fn edges(&self) -> Vec<(FnId, FnId, Edge)> {
        let mut out: Vec<(FnId, FnId, Edge)> = self
            .graph
            .edge_indices()
            .filter_map(|e| {
                let (a, b) = self.graph.edge_endpoints(e)?;
                Some((self.graph[a], self.graph[b], self.graph[e].clone()))
            })
            .collect();
        out.sort();
        out
    }

    /// Every fn reachable from `roots` (the roots included), sorted.
    pub fn reachable(&self, roots: &[FnId]) -> Vec<FnId> {
        self.reachable_with(roots, &mut Seen::default())
    }

    /// [`CallGraph::reachable`], marking what it sees in `seen`, which a
    /// caller walking from every entry point reuses from walk to walk.
    pub fn reachable_with(&self, roots: &[FnId], seen: &mut Seen) -> Vec<FnId> {
        if seen.marks.len() != self.node_of.len() {
            *seen = Seen {
                marks: vec![0; self.node_of.len()],
                mark: 0,
            };
        }
        seen.mark += 1;
        let mut out = Vec::new();
        let mut stack: Vec<FnId> = roots.to_vec();
        while let Some(f) = stack.pop() {
            if std::mem::replace(&mut seen.marks[f], seen.mark) == seen.mark {
                continue;
            }
            out.push(f);
            for n in self.graph.neighbors(self.node_of[f]) {
                stack.push(self.graph[n]);
            }
        }
        out.sort_unstable();
        out
    }
}

/// What walks of one call graph have seen: each fn's last walk (by its
/// mark), so that a new walk needs no new buffer.
#[derive(Debug, Default)]
pub struct Seen {
    marks: Vec<usize>,
    mark: usize,
}

/// What a call `x.m()` on a receiver of unknown type can land in, from the
/// method name alone: the workspace's methods of that name that take `self`,
/// where an impl of a trait from outside the workspace (`IntoResponse`,
/// `Display`) is as likely called on an outside type, so never a guess.
#[derive(Debug, Clone, Copy)]
enum ByName {
    /// No such method.
    Nothing,
    /// Only impls of outside traits.
    ForeignOnly,
    /// Exactly one of the workspace's own.
    One(FnId),
    /// Several of the workspace's own.
    Many,
}

/// Lookups by name that every walk makes, computed once rather than per call.
#[derive(Debug)]
struct Index<'a> {
    /// Method name -> what a call on an unknown receiver can be.
    by_name: BTreeMap<&'a str, ByName>,
    /// Last segment of an outside trait's path -> the workspace's impls of
    /// it, in id order.
    foreign_impls: BTreeMap<&'a str, Vec<ImplId>>,
    /// Method name -> the workspace's trait methods implemented for a type
    /// from outside the workspace (`impl RouterExt for Router`, `impl<T>
    /// OptionExt for Option<T>`): what a method an outside type lacks can be.
    extensions: BTreeMap<&'a str, Vec<FnId>>,
    /// Last segment of an outside type -> the workspace's trait impls for
    /// it (`impl From<Status> for String`), in id order.
    outside_impls: BTreeMap<&'a str, Vec<ImplId>>,
    /// Calls of workspace macros expanded so far, by macro and tokens: a
    /// call written alike in many fns is expanded once.
    expansions: Mutex<Expansions>,
}

/// Expansions by macro and call tokens (`None`: no rule takes them).
type Expansions = HashMap<(MacroId, Box<str>), Arc<Option<Expansion>>, FastHash>;

impl<'a> Index<'a> {
    /// The expansion of a call of workspace macro `m` whose tokens are
    /// `call`, which `expand` computes: once per macro and tokens (the
    /// expansion depends on nothing else).
    fn expansion(
        &self,
        m: MacroId,
        call: &str,
        expand: impl FnOnce() -> Option<Expansion>,
    ) -> Arc<Option<Expansion>> {
        let key = (m, Box::<str>::from(call));
        if let Some(done) = self
            .expansions
            .lock()
            .ok()
            .and_then(|c| c.get(&key).cloned())
        {
            return done;
        }
        let done = Arc::new(expand());
        if let Ok(mut c) = self.expansions.lock() {
            c.entry(key).or_insert_with(|| Arc::clone(&done));
        }
        done
    }

    fn new(defs: &DefMap<'a>) -> Self {
        let mut foreign_impls: BTreeMap<&'a str, Vec<ImplId>> = BTreeMap::new();
        for (i, imp) in defs.impls.iter().enumerate() {
            if imp.trait_.is_none()
                && let Some(name) = imp.trait_path.and_then(Path::last)
            {
                foreign_impls.entry(name).or_default().push(i);
            }
        }
        let mut extensions: BTreeMap<&'a str, Vec<FnId>> = BTreeMap::new();
        let mut outside_impls: BTreeMap<&'a str, Vec<ImplId>> = BTreeMap::new();
        for (i, imp) in defs.impls.iter().enumerate() {
            if imp.self_def.is_some() {
                continue;
            }
            if let Ty::Path(p) = peel_ref(imp.self_ty)
                && let Some(name) = p.last()
            {
                outside_impls.entry(name).or_default().push(i);
            }
            if imp.trait_.is_none() {
                continue;
            }
            for (name, f) in &imp.methods {
                if defs.fns[*f].def.receiver.is_some() {
                    extensions.entry(name).or_default().push(*f);
                }
            }
        }
        Index {
            by_name: by_name(defs),
            expansions: Mutex::default(),
            foreign_impls,
            extensions,
            outside_impls,
        }
    }
}

/// [`ByName`] for every method name.
fn by_name<'a>(defs: &DefMap<'a>) -> BTreeMap<&'a str, ByName> {
    let implements_foreign_trait = |f: FnId| {
        defs.fns[f]
            .impl_
            .is_some_and(|i| defs.impls[i].trait_.is_none() && defs.impls[i].trait_path.is_some())
    };
    let names: BTreeSet<&'a str> = defs
        .fns
        .iter()
        .filter(|f| f.kind == FnKind::Method)
        .map(|f| f.name)
        .collect();
    names
        .into_iter()
        .map(|name| {
            let (own, foreign): (Vec<FnId>, Vec<FnId>) = defs
                .methods_named(name)
                .iter()
                .copied()
                .filter(|f| {
                    defs.fns[*f].kind == FnKind::Method && defs.fns[*f].def.receiver.is_some()
                })
                .partition(|f| !implements_foreign_trait(*f));
            let kind = match own.as_slice() {
                [] if foreign.is_empty() => ByName::Nothing,
                [] => ByName::ForeignOnly,
                [f] => ByName::One(*f),
                _ => ByName::Many,
            };
            (name, kind)
        })
        .collect()
}

pub fn build(defs: &DefMap<'_>) -> CallGraph {
    let index = Index::new(defs);
    let mut graph = DiGraph::new();
    let node_of: Vec<NodeIndex> = (0..defs.fns.len()).map(|f| graph.add_node(f)).collect();
    let mut edges: BTreeMap<(FnId, FnId, EdgeKind), u32> = BTreeMap::new();
    let mut unresolved = BTreeSet::new();
    // Calls dispatched through a generic bound (`r.save()` with `R: Repo`), per caller.
    let mut bound: BTreeMap<FnId, BTreeSet<FnId>> = BTreeMap::new();
    // Each fn's walk reads the DefMap only: walks run on all cores and are
    // merged in fn order.
    let walks: Vec<_> = (0..defs.fns.len())
        .into_par_iter()
        .map(|f| {
            let mut w = Walker::new(defs, &index, f);
            w.run();
            (w.edges, w.bound_calls, w.unresolved)
        })
        .collect();
    for (f, (walk_edges, bound_calls, walk_unresolved)) in walks.into_iter().enumerate() {
        for ((to, kind), line) in walk_edges {
            let e = edges.entry((f, to, kind)).or_insert(line);
            *e = (*e).min(line);
        }
        if !bound_calls.is_empty() {
            bound.insert(f, bound_calls);
        }
        for (call, line) in walk_unresolved {
            unresolved.insert(Unresolved {
                from: f,
                call,
                line,
            });
        }
    }
    // A generic fn nothing in the workspace calls is never instantiated:
    // its bound-dispatched calls are only potential, like calls through a
    // trait object, so they are `dyn` edges (every impl that could stand
    // behind the bound), not calls.
    let called: BTreeSet<FnId> = edges
        .keys()
        .filter(|(a, b, _)| a != b)
        .map(|(_, b, _)| *b)
        .collect();
    let edges: BTreeMap<(FnId, FnId, EdgeKind), u32> = edges
        .into_iter()
        .map(|((from, to, kind), line)| {
            // A trait's default body is compiled for every impl that keeps
            // it, called or not: its calls on `self` are calls.
            let potential = kind == EdgeKind::Call
                && !called.contains(&from)
                && defs.fns[from].trait_.is_none()
                && bound.get(&from).is_some_and(|b| b.contains(&to));
            (
                (from, to, if potential { EdgeKind::Dyn } else { kind }),
                line,
            )
        })
        .collect();
    for ((from, to, kind), line) in edges {
        graph.add_edge(node_of[from], node_of[to], Edge { kind, line });
    }
    CallGraph {
        graph,
        node_of,
        unresolved: unresolved.into_iter().collect(),
    }
}

/// What cleave knows of an expression's type.
#[derive(Debug, Clone, PartialEq)]
enum T {
    Known(TypeId),
    /// A generic parameter or `impl Trait`: any impl of these traits.
    Bound(Vec<TraitId>),
    /// `dyn Trait`.
    Dyn(Vec<TraitId>),
    /// `Option<T>` / `Result<T, _>` (which one, when known): `?`,
    /// `.unwrap()` and friends give the inner type.
    Wrapped(Box<T>, Wrap),
    /// `Mutex<T>`, `RwLock<T>`, `RefCell<T>`: locking gives (a guard of) the inner type.
    Cell(Box<T>),
    /// `Vec<T>`, `[T]`, sets: a collection of `T`.
    Seq(Box<T>),
    /// `HashMap<K, V>` and friends: values of type `V`.
    Map(Box<T>),
    /// An iterator over `T`.
    Iter(Box<T>),
    /// `(A, B)`: a pattern takes its parts.
    Tuple(Vec<T>),
    /// A type from outside the workspace.
    External,
    Unknown,
}

/// Which wrapper a [`T::Wrapped`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrap {
    Option,
    Result,
    /// A lock's result or guard: which, cleave does not say.
    Either,
}

impl Wrap {
    fn names(self) -> &'static [&'static str] {
        match self {
            Wrap::Option => &["Option"],
            Wrap::Result => &["Result"],
            Wrap::Either => &["Option", "Result"],
        }
    }
}

/// Wrappers that deref (or extract) to their first type argument.
const TRANSPARENT: &[&str] = &[
    "Arc",
    "Rc",
    "Box",
    "State",
    "Data",
    "Extension",
    "Json",
    "Path",
    "Query",
    "Form",
    "Cow",
    "Pin",
    "ReqData",
    "Valid",
    "Inner",
    // A lazy static derefs to its value (`CONFIG.get_url()` on a `LazyLock<Config>`).
    "LazyLock",
    "Lazy",
];
/// Interior-mutability wrappers; [`LOCKS`] reach what they hold.
const CELLS: &[&str] = &["Mutex", "RwLock", "RefCell", "Cell", "OnceCell", "OnceLock"];
const LOCKS: &[&str] = &[
    "lock",
    "read",
    "write",
    "try_lock",
    "try_read",
    "try_write",
    "blocking_lock",
    "blocking_read",
    "blocking_write",
    "borrow",
    "borrow_mut",
    "get",
    "get_mut",
    "get_or_init",
    "force",
];
/// Collections of one element type, and maps (their values matter).
const SEQS: &[&str] = &[
    "Vec",
    "VecDeque",
    "HashSet",
    "BTreeSet",
    "IndexSet",
    "LinkedList",
    "BinaryHeap",
    "SmallVec",
];
const MAPS: &[&str] = &["HashMap", "BTreeMap", "IndexMap", "DashMap"];
/// Iterator adapters that keep the element type.
const ITER_SAME: &[&str] = &[
    "filter",
    "skip",
    "take",
    "rev",
    "peekable",
    "cloned",
    "copied",
    "chain",
    "skip_while",
    "take_while",
    "inspect",
    "step_by",
    "fuse",
    "by_ref",
    "cycle",
];
/// Iterator methods that give one element (as an `Option`).
const ITER_ONE: &[&str] = &[
    "next",
    "last",
    "find",
    "nth",
    "max_by_key",
    "min_by_key",
    "max_by",
    "min_by",
    "max",
    "min",
];
/// Methods whose closure argument receives an element.
const ITER_CLOSURE: &[&str] = &[
    "map",
    "for_each",
    "filter",
    "filter_map",
    "flat_map",
    "any",
    "all",
    "find",
    "find_map",
    "position",
    "inspect",
    "take_while",
    "skip_while",
    "max_by_key",
    "min_by_key",
    "try_for_each",
    "partition",
    "sort_by_key",
    "retain",
    "sum_by",
    "fold",
    // `Option`/`Result`: the closure gets the value inside.
    "and_then",
    "map_or",
    "is_some_and",
    "is_ok_and",
];
/// Methods on `Option`/`Result` that give the inner value.
const UNWRAP: &[&str] = &[
    "unwrap",
    "expect",
    "unwrap_or_default",
    "unwrap_or",
    "unwrap_or_else",
    "unwrap_unchecked",
];
/// Methods that give back the receiver's own type.
const SAME: &[&str] = &[
    "clone",
    "to_owned",
    "as_ref",
    "as_mut",
    "borrow",
    "borrow_mut",
    "by_ref",
];
/// Names so common on std types that an untyped receiver proves nothing.
const STD_METHODS: &[&str] = &[
    "get",
    "insert",
    "remove",
    "len",
    "is_empty",
    "push",
    "pop",
    "iter",
    "iter_mut",
    "into_iter",
    "map",
    "clone",
    "contains",
    "contains_key",
    "entry",
    "extend",
    "clear",
    "send",
    "recv",
    "lock",
    "read",
    "write",
    "next",
    "collect",
    "filter",
    "find",
    "update",
    "delete",
    "set",
    "take",
    "replace",
    "join",
    "split",
    "parse",
    "to_string",
    "new",
    "from",
    "into",
    "default",
    "build",
    "run",
    "call",
    "fmt",
    "eq",
    "cmp",
    "hash",
    "keys",
    "values",
    "first",
    "last",
    "sort",
    "flush",
    "close",
    "open",
    "start",
    "stop",
    "execute",
    "fetch",
    "fetch_one",
    "fetch_all",
    "fetch_optional",
    "bind",
    "and_then",
    "ok",
    "err",
    "as_str",
    "as_bytes",
    "finish",
    "list",
    "create",
    "count",
    "sum",
    "min",
    "max",
];

struct Walker<'d, 'a> {
    defs: &'d DefMap<'a>,
    /// Lookups by name, computed once for all walks.
    index: &'d Index<'a>,
    f: FnId,
    module: ModId,
    self_ty: T,
    generics: BTreeMap<String, Vec<TraitId>>,
    env: Vec<BTreeMap<String, T>>,
    edges: BTreeMap<(FnId, EdgeKind), u32>,
    /// The keys of `edges`, in the order they were first added.
    added: Vec<(FnId, EdgeKind)>,
    unresolved: BTreeSet<(String, u32)>,
    macro_depth: u32,
    /// Inside a macro that names fns without calling them (`uri!(handler(..))`).
    refs_only: bool,
    /// Targets of calls dispatched through a generic bound.
    bound_calls: BTreeSet<FnId>,
    /// Types already inferred for call, field and wrapper expressions (by
    /// address), with the bindings and module they were inferred under: a
    /// chain `x.a().b().c()` is inferred once, not once per link.
    inferred: RefCell<BTreeMap<usize, (Scoping, T)>>,
    /// Bumped by every binding, so that inferences made before it are redone.
    bindings: u64,
    /// A generic type alias's parameters, as its use gives them
    /// (`ApiResult<User>`: `T` is `User`).
    subst: BTreeMap<String, T>,
}

/// What an inference depends on besides the expression: the bindings made so far,
/// how many scopes are open, the module names resolve in.
type Scoping = (u64, usize, ModId);

/// Macros whose arguments name fns without running them: rocket's `uri!`
/// builds a route's URI from the handler's name and arguments.
const NAMING_MACROS: &[&str] = &[
    "uri",
    "stringify",
    "concat",
    "include_str",
    "include_bytes",
    "env",
    "cfg",
];

impl<'d, 'a> Walker<'d, 'a> {
    fn new(defs: &'d DefMap<'a>, index: &'d Index<'a>, f: FnId) -> Self {
        let data = &defs.fns[f];
        let module = data.module;
        let mut w = Walker {
            defs,
            index,
            f,
            module,
            self_ty: T::Unknown,
            generics: BTreeMap::new(),
            env: vec![BTreeMap::new()],
            edges: BTreeMap::new(),
            added: Vec::new(),
            unresolved: BTreeSet::new(),
            macro_depth: 0,
            refs_only: false,
            bound_calls: BTreeSet::new(),
            inferred: RefCell::default(),
            bindings: 0,
            subst: BTreeMap::new(),
        };
        if let Some(i) = data.impl_ {
            let imp = &defs.impls[i];
            w.add_generics(imp.generics);
            w.self_ty = match imp.self_def {
                Some(t) => T::Known(t),
                None => w.ty(imp.self_ty),
            };
        } else if let Some(tr) = data.trait_ {
            w.self_ty = T::Bound(vec![tr]);
        }
        w.add_generics(&data.def.generics);
        w
    }

    fn add_generics(&mut self, gs: &[Generic]) {
        for g in gs {
            let traits = g
                .bounds
                .iter()
                .filter_map(|b| self.defs.resolve_trait_path(self.module, b))
                .collect();
            self.generics.insert(g.name.clone(), traits);
        }
    }

    fn run(&mut self) {
        let def = self.defs.fns[self.f].def;
        if def.receiver.is_some() {
            let st = match def.receiver.as_ref().map(|r| &r.ty) {
                Some(Ty::Path(p)) if p.is_ident("Self") => self.self_ty.clone(),
                Some(t) => self.ty(t),
                None => T::Unknown,
            };
            self.bind_name("self", st);
        }
        for (pat, ty) in &def.params {
            let t = self.ty(ty);
            self.bind(pat, t);
        }
        if let Some(body) = &def.body {
            self.block(body);
        }
    }

    // ----- types -----

    fn ty(&self, t: &Ty) -> T {
        match t {
            Ty::Ref(inner) => self.ty(inner),
            Ty::Slice(inner) => T::Seq(Box::new(self.ty(inner))),
            Ty::Tuple(parts) if !parts.is_empty() => {
                T::Tuple(parts.iter().map(|p| self.ty(p)).collect())
            }
            Ty::Dyn(bounds) => T::Dyn(self.traits(bounds)),
            Ty::Impl(bounds) => T::Bound(self.traits(bounds)),
            Ty::Path(p) => self.path_ty(p),
            _ => T::Unknown,
        }
    }

    fn traits(&self, bounds: &[Path]) -> Vec<TraitId> {
        bounds
            .iter()
            .filter_map(|b| self.defs.resolve_trait_path(self.module, b))
            .collect()
    }

    fn path_ty(&self, p: &Path) -> T {
        if p.is_ident("Self") {
            return self.self_ty.clone();
        }
        if p.segments.len() == 1
            && let Some(t) = self.subst.get(p.segments[0].name.as_str())
        {
            return t.clone();
        }
        if p.segments.len() == 1
            && let Some(bounds) = self.generics.get(p.segments[0].name.as_str())
        {
            return T::Bound(bounds.clone());
        }
        if let Some(t) = self.defs.resolve_type_path(self.module, p) {
            let args = p.segments.last().map(|s| &s.generics[..]).unwrap_or(&[]);
            return self.alias_target(t, args).unwrap_or(T::Known(t));
        }
        let last = p.segments.last();
        let first_arg = last.and_then(|s| s.generics.first());
        match (p.last(), first_arg) {
            (Some(name), Some(arg)) if TRANSPARENT.contains(&name) => self.ty(arg),
            (Some("Option"), Some(arg)) => T::Wrapped(Box::new(self.ty(arg)), Wrap::Option),
            (Some("Result"), Some(arg)) => T::Wrapped(Box::new(self.ty(arg)), Wrap::Result),
            (Some(name), Some(arg)) if CELLS.contains(&name) => T::Cell(Box::new(self.ty(arg))),
            (Some(name), Some(arg)) if SEQS.contains(&name) => T::Seq(Box::new(self.ty(arg))),
            (Some(name), Some(_)) if MAPS.contains(&name) => {
                let value = last
                    .and_then(|s| s.generics.get(1))
                    .map(|t| self.ty(t))
                    .unwrap_or(T::Unknown);
                T::Map(Box::new(value))
            }
            // A name nothing defines or imports (a struct a workspace
            // `macro_rules!` generates): unknown, not a dependency's type.
            (Some(_), _)
                if p.segments.len() == 1
                    && !p.leading_colon
                    && self.resolve_value(p).is_empty()
                    && !is_prelude(&p.segments[0].name)
                    && !self.defs.mods[self.module].has_external_glob =>
            {
                T::Unknown
            }
            (Some(_), _) => T::External,
            _ => T::Unknown,
        }
    }

    /// For an alias of a type outside the workspace (`type Notify<'a> =
    /// &'a State<Arc<WebSocketUsers>>`, which `unalias` keeps): the type it
    /// names, read in the alias's module.
    fn alias_target(&self, t: TypeId, args: &[Ty]) -> Option<T> {
        thread_local! {
            /// Aliases being expanded on this thread: a cycle (`type A = B; type B = A;`) stops.
            static DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
        }
        let data = &self.defs.types[t];
        let target = data.alias_of?;
        let depth = DEPTH.with(|d| d.get());
        if depth >= 8 {
            return None;
        }
        DEPTH.with(|d| d.set(depth + 1));
        let mut w = Walker::new(self.defs, self.index, self.f);
        w.module = data.module;
        if let ItemKind::TypeAlias { params, .. } = &data.item.kind {
            for (name, arg) in params.iter().zip(args) {
                w.subst.insert(name.clone(), self.ty(arg));
            }
        }
        let out = w.ty(target);
        DEPTH.with(|d| d.set(depth));
        Some(out)
    }

    fn fn_ret(&self, f: FnId, recv: &T) -> T {
        let data = &self.defs.fns[f];
        let Some(ret) = &data.def.ret else {
            return T::External;
        };
        // Resolve in the callee's own scope.
        let mut w = Walker::new(self.defs, self.index, f);
        if matches!(recv, T::Known(_)) && data.impl_.is_none() {
            w.self_ty = recv.clone();
        }
        // `impl<S> Ext<S> for Option<S>`: S is what the receiver holds.
        if let Some(i) = data.impl_
            && let Ty::Path(p) = peel_ref(self.defs.impls[i].self_ty)
            && let Some(T::Wrapped(held, _) | T::Seq(held) | T::Iter(held)) = Some(recv)
            && let Some(Ty::Path(arg)) = p.segments.last().and_then(|s| s.generics.first())
            && let [param] = arg.segments.as_ref()
            && self.defs.impls[i]
                .generics
                .iter()
                .any(|g| g.name == param.name.as_str())
        {
            w.subst.insert(param.name.to_string(), (**held).clone());
        }
        w.ty(ret)
    }

    fn field_ty(&self, t: TypeId, member: &str) -> T {
        let data = &self.defs.types[t];
        let Some((_, fty)) = data.fields.iter().find(|(n, _)| n == member) else {
            return T::Unknown;
        };
        let mut generics = BTreeMap::new();
        if let ItemKind::Struct { generics: gs, .. } = &data.item.kind {
            for g in gs {
                let traits = g
                    .bounds
                    .iter()
                    .filter_map(|b| self.defs.resolve_trait_path(data.module, b))
                    .collect();
                generics.insert(g.name.clone(), traits);
            }
        }
        for (k, v) in &self.generics {
            if !v.is_empty() {
                generics.insert(k.clone(), v.clone());
            }
        }
        let w = Walker {
            defs: self.defs,
            index: self.index,
            f: self.f,
            module: data.module,
            self_ty: T::Known(t),
            generics,
            env: Vec::new(),
            edges: BTreeMap::new(),
            added: Vec::new(),
            unresolved: BTreeSet::new(),
            macro_depth: 0,
            refs_only: false,
            bound_calls: BTreeSet::new(),
            inferred: RefCell::default(),
            bindings: 0,
            subst: BTreeMap::new(),
        };
        w.ty(fty)
    }

    fn variant_field_ty(&self, t: TypeId, variant: &str, index: usize) -> T {
        let data = &self.defs.types[t];
        let Some(v) = data.variants.iter().position(|n| n == variant) else {
            return T::Unknown;
        };
        let Some((_, fty)) = data.variant_fields.get(v).and_then(|fs| fs.get(index)) else {
            return T::Unknown;
        };
        let mut w = Walker::new(self.defs, self.index, self.f);
        w.module = data.module;
        w.ty(fty)
    }

    fn lookup_var(&self, name: &str) -> Option<&T> {
        self.env.iter().rev().find_map(|s| s.get(name))
    }

    fn bind_name(&mut self, name: &str, t: T) {
        self.bindings += 1;
        if let Some(scope) = self.env.last_mut() {
            scope.insert(name.to_owned(), t);
        }
    }

    fn bind(&mut self, pat: &Pat, t: T) {
        match pat {
            Pat::Ident(n) => self.bind_name(n, t),
            Pat::Ref(inner) => self.bind(inner, t),
            Pat::Or(alts) => {
                for a in alts {
                    self.bind(a, t.clone());
                }
            }
            Pat::Tuple(elems) => {
                for (i, e) in elems.iter().enumerate() {
                    let et = match &t {
                        T::Tuple(ts) if ts.len() == elems.len() => ts[i].clone(),
                        _ => T::Unknown,
                    };
                    self.bind(e, et);
                }
            }
            Pat::TupleStruct(path, elems) => {
                let struct_ty = self.defs.resolve_type_path(self.module, path);
                let defs = self.resolve_value(path);
                let variant = defs.iter().find_map(|d| match d {
                    Def::Variant(t) => Some(*t),
                    _ => None,
                });
                let foreign = defs.is_empty() || defs.iter().all(|d| *d == Def::External);
                for (i, e) in elems.iter().enumerate() {
                    if let Some(vt) = variant {
                        let et = self.variant_field_ty(vt, path.last().unwrap_or_default(), i);
                        self.bind(e, et);
                        continue;
                    }
                    let et = match (struct_ty, &t) {
                        (Some(st), _) if self.defs.types[st].variants.is_empty() => {
                            self.field_ty(st, &i.to_string())
                        }
                        (_, T::Wrapped(inner, _)) if matches!(path.last(), Some("Some" | "Ok")) => {
                            (**inner).clone()
                        }
                        (None, _)
                            if foreign
                                && elems.len() == 1
                                && !matches!(path.last(), Some("Some" | "Ok" | "Err")) =>
                        {
                            t.clone()
                        }
                        _ => T::Unknown,
                    };
                    self.bind(e, et);
                }
            }
            Pat::Struct(path, fields) => {
                let st = self.defs.resolve_type_path(self.module, path);
                for (name, p) in fields {
                    let ft = st.map(|s| self.field_ty(s, name)).unwrap_or(T::Unknown);
                    self.bind(p, ft);
                }
            }
            Pat::Path(_) | Pat::Other => {}
        }
    }

    fn infer(&self, e: &Expr) -> T {
        if !matches!(
            e,
            Expr::Call { .. } | Expr::MethodCall { .. } | Expr::Field { .. } | Expr::Wrap { .. }
        ) {
            return self.infer_uncached(e);
        }
        let key = e as *const Expr as usize;
        let scoping = (self.bindings, self.env.len(), self.module);
        if let Some((at, t)) = self.inferred.borrow().get(&key)
            && *at == scoping
        {
            return t.clone();
        }
        let t = self.infer_uncached(e);
        self.inferred.borrow_mut().insert(key, (scoping, t.clone()));
        t
    }

    fn infer_uncached(&self, e: &Expr) -> T {
        match e {
            Expr::Path { path, .. } => {
                if path.segments.len() == 1 {
                    let name = &path.segments[0].name;
                    if let Some(t) = self.lookup_var(name) {
                        return t.clone();
                    }
                }
                for d in self.resolve_value(path) {
                    // `Status::Paid` and a unit struct `Sql` used as values.
                    if let Def::Variant(t) | Def::Type(t) = d {
                        return T::Known(t);
                    }
                    if let Def::Static(s) = d
                        && let ItemKind::Static { ty, .. } | ItemKind::Const { ty, .. } =
                            &self.defs.statics[s].item.kind
                    {
                        // Its type names what the static's module sees.
                        let mut w = Walker::new(self.defs, self.index, self.f);
                        w.module = self.defs.statics[s].module;
                        return w.ty(ty);
                    }
                }
                T::Unknown
            }
            Expr::Call { func, args, .. } => {
                let Expr::Path { path, .. } = func.peel() else {
                    return T::Unknown;
                };
                if let [f] = self.path_fns(path).as_slice() {
                    return self.fn_ret(*f, &self.assoc_self(path));
                }
                let defs = self.resolve_value(path);
                if let Some(Def::Variant(t)) = defs.first() {
                    return T::Known(*t);
                }
                if let Some(Def::Type(t)) = defs.first() {
                    return T::Known(*t);
                }
                if defs.first() == Some(&Def::External) {
                    return T::External;
                }
                // `Arc::new(x)`, `Box::new(x)`: the wrapped value's type.
                if path.segments.len() >= 2 {
                    let owner = &path.segments[path.segments.len() - 2].name;
                    if TRANSPARENT.contains(&owner.as_str())
                        && let Some(a) = args.first()
                    {
                        return self.infer(a);
                    }
                    // `Repo::default()` and other associated fns from derives or std traits.
                    let owner_path = Path {
                        leading_colon: path.leading_colon,
                        segments: path.segments[..path.segments.len() - 1].into(),
                    };
                    if let Some(t) = self.defs.resolve_type_path(self.module, &owner_path) {
                        return T::Known(t);
                    }
                }
                T::Unknown
            }
            Expr::MethodCall {
                receiver,
                method,
                turbofish,
                ..
            } => {
                let rt = self.infer(receiver);
                if let T::Cell(inner) = &rt
                    && LOCKS.contains(&method.as_str())
                {
                    return T::Wrapped(inner.clone(), Wrap::Either);
                }
                if SAME.contains(&method.as_str()) {
                    return rt;
                }
                if let T::Wrapped(inner, w) = &rt
                    && let Some(t) = combinator(inner, *w, method)
                {
                    return t;
                }
                if let Some(t) = collection_method(&rt, method) {
                    return t;
                }
                if UNWRAP.contains(&method.as_str()) {
                    return match rt {
                        T::Wrapped(inner, _) => *inner,
                        other => other,
                    };
                }
                let (targets, _) = self.method_targets(&rt, method);
                match targets.as_slice() {
                    [f] => self.fn_ret(*f, &rt),
                    [] => match self.extension(&rt, method) {
                        Some(f) => self.fn_ret(f, &rt),
                        // A framework wrapper read as what it holds
                        // (`data.into_inner()` of a `Json<T>`).
                        None if matches!(rt, T::Known(_)) && method == "into_inner" => rt,
                        // An outside type's own method gives an outside
                        // type, unless told which (`.get::<User>()`).
                        None if rt == T::External && turbofish.is_empty() => T::External,
                        None => T::Unknown,
                    },
                    _ => T::Unknown,
                }
            }
            Expr::Field { base, member } => match self.infer(base) {
                T::Known(t) => self.field_ty(t, member),
                _ => T::Unknown,
            },
            Expr::Struct { path, .. } if path.is_ident("Self") => self.self_ty.clone(),
            Expr::Struct { path, .. } => self
                .defs
                .resolve_type_path(self.module, path)
                .map(T::Known)
                .unwrap_or(T::Unknown),
            Expr::Wrap {
                kind: WrapKind::Try,
                inner,
            } => match self.infer(inner) {
                T::Wrapped(t, _) => *t,
                other => other,
            },
            Expr::Wrap {
                kind: WrapKind::Await | WrapKind::Paren | WrapKind::Ref | WrapKind::Deref,
                inner,
            } => self.infer(inner),
            Expr::Block {
                block,
                is_async: false,
            } => block.tail().map(|t| self.infer(t)).unwrap_or(T::Unknown),
            Expr::Match { expr, arms } => self.match_ty(expr, arms.iter().map(|(p, e)| (p, e))),
            // The first branch that gives a type cleave knows; `if let
            // Some(v) = x { v }` gives what x wraps.
            Expr::If { cond, then, els } => {
                let t = match (&**cond, then.tail()) {
                    (Expr::Let { pat, expr }, Some(tail)) => {
                        self.match_ty(expr, std::iter::once((&**pat, tail)))
                    }
                    (_, Some(tail)) => self.infer(tail),
                    _ => T::Unknown,
                };
                if t != T::Unknown {
                    return t;
                }
                els.as_ref().map(|e| self.infer(e)).unwrap_or(T::Unknown)
            }
            _ => T::Unknown,
        }
    }

    /// A `match`'s value: the first arm that gives one cleave knows,
    /// `Ok(v) => v` / `Some(v) => v` giving what the scrutinee wraps.
    fn match_ty<'e>(
        &self,
        scrutinee: &Expr,
        arms: impl IntoIterator<Item = (&'e Pat, &'e Expr)>,
    ) -> T {
        let mut st = None;
        for (pat, body) in arms {
            let t = match (pat, body) {
                (Pat::TupleStruct(p, elems), Expr::Path { path, .. })
                    if matches!(p.last(), Some("Ok" | "Some"))
                        && matches!(elems.as_slice(), [Pat::Ident(n)] if path.is_ident(n)) =>
                {
                    match st.get_or_insert_with(|| self.infer(scrutinee)) {
                        T::Wrapped(inner, _) => (**inner).clone(),
                        _ => T::Unknown,
                    }
                }
                // A binding of the pattern would not be known here: only
                // arms that bind nothing (`None`, `_`, a constant).
                (Pat::Path(_) | Pat::Other, b) => self.infer(b),
                (Pat::Ident(n), b) if n.starts_with(char::is_uppercase) => self.infer(b),
                _ => T::Unknown,
            };
            if t != T::Unknown {
                return t;
            }
        }
        T::Unknown
    }

    /// For `Type::assoc(..)`, the type the path names before the fn.
    fn assoc_self(&self, path: &Path) -> T {
        if path.segments.len() < 2 {
            return T::Unknown;
        }
        let owner = Path {
            leading_colon: path.leading_colon,
            segments: path.segments[..path.segments.len() - 1].into(),
        };
        self.path_ty(&owner)
    }

    // ----- resolution -----

    fn resolve_value(&self, path: &Path) -> Vec<Def> {
        let names: Vec<&str> = path.names().collect();
        if names.first() == Some(&"<qself>") {
            return Vec::new();
        }
        if names.len() == 1
            && let Some(f) = self.defs.fns[self.f].local_fns.get(names[0])
        {
            return vec![Def::Fn(*f)];
        }
        self.defs
            .resolve_in_fn(self.f, self.module, &names, path.leading_colon)
    }

    /// The fns `recv.method()` may call, and whether the call is dynamic.
    fn method_targets(&self, recv: &T, method: &str) -> (Vec<FnId>, bool) {
        match recv {
            T::Known(t) => (self.defs.methods_of(*t, method).to_vec(), false),
            // A lock guard or unwrapped value derefs to what it holds.
            T::Wrapped(inner, _) => self.method_targets(inner, method),
            T::Bound(traits) | T::Dyn(traits) => {
                let mut out = Vec::new();
                for tr in traits {
                    for t in self.defs.trait_closure(*tr) {
                        if self.defs.traits[t]
                            .methods
                            .iter()
                            .any(|(n, _)| *n == method)
                        {
                            out.extend(self.defs.trait_method_targets(t, method));
                        }
                    }
                }
                out.sort();
                out.dedup();
                (out, matches!(recv, T::Dyn(_)))
            }
            _ => (Vec::new(), false),
        }
    }

    fn edge(&mut self, to: FnId, kind: EdgeKind, line: u32) {
        let kind = if self.refs_only { EdgeKind::Ref } else { kind };
        let e = self.edges.entry((to, kind)).or_insert_with(|| {
            self.added.push((to, kind));
            line
        });
        *e = (*e).min(line);
    }

    // ----- walking -----

    fn block(&mut self, b: &Block) {
        self.env.push(BTreeMap::new());
        for s in &b.stmts {
            match s {
                Stmt::Let { pat, ty, init, els } => {
                    if let Some(e) = init {
                        self.expr(e);
                    }
                    if let Some(b) = els {
                        self.block(b);
                    }
                    let t = match (ty, init) {
                        (Some(ty), _) => self.ty(ty),
                        (None, Some(e)) => self.infer(e),
                        _ => T::Unknown,
                    };
                    self.bind(pat, t);
                }
                Stmt::Expr(e) | Stmt::Semi(e) => self.expr(e),
                // Its `use`s are the fn's (`DefMap::resolve_in_fn`).
                Stmt::Item(_) => {}
            }
        }
        self.env.pop();
    }

    fn expr(&mut self, e: &Expr) {
        match e {
            Expr::Path { path, line } => self.path_ref(path, *line),
            Expr::Call { func, args, line } => {
                match func.peel() {
                    Expr::Path { path, .. } => self.path_call(path, args, *line),
                    other => self.expr(other),
                }
                for a in args {
                    self.expr(a);
                }
            }
            Expr::MethodCall {
                receiver,
                method,
                args,
                line,
                ..
            } => {
                self.expr(receiver);
                self.method_call(receiver, method, *line);
                // `xs.iter().map(|x| x.total())`: the closure gets an element.
                let element = if ITER_CLOSURE.contains(&method.as_str()) {
                    element_of(&self.infer(receiver))
                } else {
                    None
                };
                for a in args {
                    match (a, &element) {
                        (Expr::Closure { params, body, .. }, Some(el)) => {
                            self.closure(params, body, Some(el.clone()))
                        }
                        _ => self.expr(a),
                    }
                }
            }
            Expr::Field { base, .. } => self.expr(base),
            Expr::Closure { params, body, .. } => self.closure(params, body, None),
            Expr::Block { block, .. } => self.block(block),
            Expr::Lit { .. } => {}
            Expr::Macro {
                path,
                args,
                line,
                tokens,
            } => {
                self.user_macro(path, tokens.as_deref(), *line);
                let names_only = path.last().is_some_and(|m| NAMING_MACROS.contains(&m));
                let before = self.refs_only;
                self.refs_only |= names_only;
                for a in args {
                    self.expr(a);
                }
                self.refs_only = before;
            }
            Expr::Struct { fields, rest, .. } => {
                for (_, f) in fields {
                    self.expr(f);
                }
                if let Some(r) = rest {
                    self.expr(r);
                }
            }
            Expr::Let { pat, expr } => {
                self.expr(expr);
                let t = self.infer(expr);
                self.bind(pat, t);
            }
            Expr::Match { expr, arms } => {
                self.expr(expr);
                let t = self.infer(expr);
                for (p, body) in arms {
                    self.env.push(BTreeMap::new());
                    self.bind(p, t.clone());
                    self.expr(body);
                    self.env.pop();
                }
            }
            Expr::If { cond, then, els } => {
                self.env.push(BTreeMap::new());
                self.expr(cond);
                self.block(then);
                self.env.pop();
                if let Some(e) = els {
                    self.expr(e);
                }
            }
            Expr::Loop {
                pat, iter, body, ..
            } => {
                self.env.push(BTreeMap::new());
                if let Some(i) = iter {
                    self.expr(i);
                }
                if let Some(p) = pat {
                    // `for x in xs`, `for (k, v) in map`
                    let t = iter.as_ref().map(|i| self.infer(i)).unwrap_or(T::Unknown);
                    match (&t, &**p) {
                        (T::Map(v), Pat::Tuple(parts)) if parts.len() == 2 => {
                            self.bind(&parts[0], T::Unknown);
                            self.bind(&parts[1], (**v).clone());
                        }
                        _ => {
                            let el = element_of(&t).unwrap_or(T::Unknown);
                            self.bind(p, el);
                        }
                    }
                }
                self.block(body);
                self.env.pop();
            }
            Expr::Wrap { inner, .. } => self.expr(inner),
            Expr::Other(xs) => {
                for x in xs {
                    self.expr(x);
                }
            }
        }
    }

    /// A closure's body, its first parameter typed by `first` when the
    /// syntax does not say (an iterator element).
    fn closure(&mut self, params: &[(Pat, Option<Ty>)], body: &Expr, first: Option<T>) {
        self.env.push(BTreeMap::new());
        for (i, (p, t)) in params.iter().enumerate() {
            let t = match (t, i, &first) {
                (Some(t), _, _) => self.ty(t),
                (None, 0, Some(f)) => f.clone(),
                _ => T::Unknown,
            };
            self.bind(p, t);
        }
        self.expr(body);
        self.env.pop();
    }

    /// A path used as a value: a fn named (`get(handler)`) is a `ref` edge.
    fn path_ref(&mut self, path: &Path, line: u32) {
        if path.segments.len() == 1 && self.lookup_var(&path.segments[0].name).is_some() {
            return;
        }
        for d in self.path_fns(path) {
            self.edge(d, EdgeKind::Ref, line);
        }
    }

    fn path_call(&mut self, path: &Path, args: &[Expr], line: u32) {
        if path.segments.len() == 1 && self.lookup_var(&path.segments[0].name).is_some() {
            return;
        }
        let mut targets = self.path_fns(path);
        if targets.is_empty() {
            targets = self.outside_assoc(path, args);
        } else if targets.len() > 1 {
            // `Stamp::from(x)` with several `From` impls: the one for x's type.
            let picked = self.by_argument(&targets, args);
            if !picked.is_empty() {
                targets = picked;
            }
        }
        // `T::create()` with `T: Repo`: dispatched through the bound.
        if path.segments.len() == 2 && self.generics.contains_key(path.segments[0].name.as_str()) {
            self.bound_calls.extend(targets.iter().copied());
        }
        if targets.is_empty()
            && self.resolve_value(path) == [Def::External]
            && self.foreign_trait_call(path, line)
        {
            return;
        }
        if !targets.is_empty() {
            let dynamic = false;
            for f in targets {
                self.edge(
                    f,
                    if dynamic {
                        EdgeKind::Dyn
                    } else {
                        EdgeKind::Call
                    },
                    line,
                );
            }
            return;
        }
        // Unknown single names that no import explains.
        if path.segments.len() == 1 {
            let name = &path.segments[0].name;
            let defs = self.resolve_value(path);
            if defs.is_empty()
                && !is_prelude(name)
                && !self.defs.mods[self.module].has_external_glob
            {
                self.unresolved.insert((name.to_string(), line));
            }
        }
    }

    /// The workspace fns a path names: free fns, `Type::assoc`, `Self::m`,
    /// `Trait::m` / `<T as Trait>::m` (every impl), `T::m` on a generic.
    fn path_fns(&self, path: &Path) -> Vec<FnId> {
        let segs = &path.segments;
        if segs.is_empty() {
            return Vec::new();
        }
        // `<T as Trait>::m` and `<T>::m`.
        if segs[0].name == "<qself>" {
            let self_t = segs[0]
                .generics
                .first()
                .map(|t| self.ty(t))
                .unwrap_or(T::Unknown);
            let method = segs.last().map(|s| s.name.as_str()).unwrap_or_default();
            let trait_path = Path {
                leading_colon: false,
                segments: segs[1..segs.len() - 1].into(),
            };
            if let T::Known(t) = self_t {
                let fs = self.defs.methods_of(t, method);
                if !fs.is_empty() {
                    return fs.to_vec();
                }
            }
            if let Some(tr) = self.defs.resolve_trait_path(self.module, &trait_path) {
                return self.defs.trait_method_targets(tr, method);
            }
            return Vec::new();
        }
        // `Self::m`, `T::m` on a generic parameter.
        if segs.len() == 2 {
            let owner = &segs[0].name;
            let method = &segs[1].name;
            let owner_t = if owner == "Self" {
                Some(self.self_ty.clone())
            } else {
                self.generics
                    .get(owner.as_str())
                    .map(|b| T::Bound(b.clone()))
            };
            if let Some(t) = owner_t {
                return self.method_targets(&t, method).0;
            }
        }
        let mut out = Vec::new();
        for d in self.resolve_value(path) {
            match d {
                Def::Fn(f) => out.push(f),
                Def::TraitMethod(tr, i) => {
                    let name = self.defs.traits[tr].methods[i as usize].0;
                    out.extend(self.defs.trait_method_targets(tr, name));
                }
                _ => {}
            }
        }
        if out.is_empty() {
            out = self.generated_type_assoc(path);
        }
        out.sort();
        out.dedup();
        out
    }

    /// `Error::new_msg(..)` / `crate::error::Error::new(..)` where `Error` is
    /// written by a workspace macro (`make_error! { .. }`), so nothing
    /// defines it that cleave reads, but `impl Error { .. }` blocks of the
    /// crate are written out: an inherent impl can only be of a type of the
    /// crate, so the fns of the inherent impls of that name, when they all
    /// sit in one module (the path's module when it names one).
    fn generated_type_assoc(&self, path: &Path) -> Vec<FnId> {
        let [prefix @ .., owner, method] = path.segments.as_ref() else {
            return Vec::new();
        };
        if self
            .defs
            .resolve_type_path(
                self.module,
                &Path {
                    leading_colon: path.leading_colon,
                    segments: path.segments[..path.segments.len() - 1].into(),
                },
            )
            .is_some()
        {
            return Vec::new();
        }
        let in_module = if prefix.is_empty() {
            None
        } else {
            let names: Vec<&str> = prefix.iter().map(|s| s.name.as_str()).collect();
            match self
                .defs
                .resolve_names(self.module, &names, path.leading_colon)
                .as_slice()
            {
                [Def::Mod(m)] => Some(*m),
                _ => return Vec::new(),
            }
        };
        let krate = self.defs.mods[self.module].krate;
        let inherent: Vec<&crate::resolve::ImplData<'_>> = self
            .index
            .outside_impls
            .get(owner.name.as_str())
            .into_iter()
            .flatten()
            .map(|i| &self.defs.impls[*i])
            .filter(|imp| {
                imp.trait_path.is_none()
                    && self.defs.mods[imp.module].krate == krate
                    && matches!(imp.self_ty, Ty::Path(p) if p.segments.len() == 1)
            })
            .collect();
        // The path's module may re-export it (`crate::Error` of `pub use error::Error`).
        let there: Vec<_> = inherent
            .iter()
            .copied()
            .filter(|imp| in_module.is_none_or(|m| imp.module == m))
            .collect();
        let impls = if there.is_empty() { inherent } else { there };
        let Some(first) = impls.first() else {
            return Vec::new();
        };
        if impls.iter().any(|imp| imp.module != first.module) {
            return Vec::new();
        }
        impls
            .iter()
            .filter_map(|imp| imp.methods.get(method.name.as_str()).copied())
            .collect()
    }

    fn method_call(&mut self, receiver: &Expr, method: &str, line: u32) {
        let rt = self.infer(receiver);
        let (targets, dynamic) = self.method_targets(&rt, method);
        if matches!(rt, T::Bound(_)) {
            self.bound_calls.extend(targets.iter().copied());
        }
        if !targets.is_empty() {
            for f in targets {
                self.edge(
                    f,
                    if dynamic {
                        EdgeKind::Dyn
                    } else {
                        EdgeKind::Call
                    },
                    line,
                );
            }
            return;
        }
        if let Some(f) = self.extension(&rt, method) {
            self.edge(f, EdgeKind::Call, line);
            return;
        }
        if matches!(
            rt,
            T::Known(_)
                | T::External
                | T::Wrapped(..)
                | T::Tuple(_)
                | T::Cell(_)
                | T::Seq(_)
                | T::Map(_)
                | T::Iter(_)
        ) {
            return; // a method of a type cleave knows is not the workspace's (derives, std)
        }
        if let T::Bound(_) | T::Dyn(_) = rt {
            return;
        }
        // Unknown receiver: a unique method name among the workspace's impls.
        match self
            .index
            .by_name
            .get(method)
            .copied()
            .unwrap_or(ByName::Nothing)
        {
            ByName::Nothing => {}
            ByName::One(f) if !STD_METHODS.contains(&method) => self.edge(f, EdgeKind::Call, line),
            ByName::ForeignOnly | ByName::One(_) | ByName::Many => {
                self.unresolved
                    .insert((format!("{}.{method}", receiver_text(receiver)), line));
            }
        }
    }

    /// `String::from(status)`, `i64::from(&stamp)`: an associated fn of a
    /// type from outside the workspace that lands in one of the workspace's
    /// trait impls for that type, when the argument's type picks exactly
    /// one (`String::from("x")` is std's own). An impl whose trait takes no
    /// type argument is the one when it is the only one.
    fn outside_assoc(&self, path: &Path, args: &[Expr]) -> Vec<FnId> {
        let [.., owner, method] = path.segments.as_ref() else {
            return Vec::new();
        };
        if !owner.generics.is_empty() || self.resolve_value(path).first() != Some(&Def::External) {
            return Vec::new();
        }
        let cands: Vec<FnId> = self
            .index
            .outside_impls
            .get(owner.name.as_str())
            .into_iter()
            .flatten()
            .filter_map(|i| {
                self.defs.impls[*i]
                    .methods
                    .get(method.name.as_str())
                    .copied()
            })
            .collect();
        let untyped = |f: &FnId| {
            let imp = self.defs.fns[*f].impl_.map(|i| &self.defs.impls[i]);
            imp.and_then(|i| i.trait_path)
                .and_then(|p| p.segments.last())
                .is_none_or(|s| s.generics.is_empty())
        };
        match cands.as_slice() {
            [] => Vec::new(),
            [f] if untyped(f) => vec![*f],
            _ => self.by_argument(&cands, args),
        }
    }

    /// Of trait impl fns (`impl From<X> for T`), those whose trait's type
    /// argument is the first argument's type, when that is a workspace type.
    fn by_argument(&self, cands: &[FnId], args: &[Expr]) -> Vec<FnId> {
        let Some(T::Known(at)) = args.first().map(|a| self.infer(a)) else {
            return Vec::new();
        };
        cands
            .iter()
            .copied()
            .filter(|f| {
                let Some(imp) = self.defs.fns[*f].impl_.map(|i| &self.defs.impls[i]) else {
                    return false;
                };
                let Some(arg) = imp
                    .trait_path
                    .and_then(|p| p.segments.last())
                    .and_then(|s| s.generics.first())
                else {
                    return false;
                };
                let mut w = Walker::new(self.defs, self.index, *f);
                w.module = imp.module;
                w.ty(arg) == T::Known(at)
            })
            .collect()
    }

    /// On a value of a type from outside the workspace (`Option<_>`, a
    /// framework's `Router`), a method that only one of the workspace's
    /// traits implemented for outside types has.
    /// The impl's type must be of the receiver's kind (`Option`/`Result`
    /// for a wrapped value, a collection for a sequence) or a generic
    /// parameter (a blanket impl); on an outside type cleave knows no more
    /// of, a name common on std types proves nothing.
    fn extension(&self, rt: &T, method: &str) -> Option<FnId> {
        let kinds: &[&str] = match rt {
            T::Wrapped(_, w) => w.names(),
            T::Seq(_) => SEQS,
            T::Map(_) => MAPS,
            T::Cell(_) => CELLS,
            T::External if !STD_METHODS.contains(&method) => &[],
            _ => return None,
        };
        let fits = |f: FnId| {
            let Some(i) = self.defs.fns[f].impl_ else {
                return false;
            };
            let imp = &self.defs.impls[i];
            let Ty::Path(p) = peel_ref(imp.self_ty) else {
                return matches!(rt, T::External);
            };
            let blanket = p.segments.len() == 1
                && imp
                    .generics
                    .iter()
                    .any(|g| g.name == p.segments[0].name.as_str());
            blanket || kinds.is_empty() || p.last().is_some_and(|n| kinds.contains(&n))
        };
        let mut found = self
            .index
            .extensions
            .get(method)?
            .iter()
            .copied()
            .filter(|f| fits(*f));
        match (found.next(), found.next()) {
            (Some(f), None) => Some(f),
            _ => None,
        }
    }

    /// `ExternalTrait::method(x)` where the workspace implements that trait:
    /// the impl when there is one, unresolved when there are several.
    fn foreign_trait_call(&mut self, path: &Path, line: u32) -> bool {
        if path.segments.len() < 2 {
            return false;
        }
        let trait_name = &path.segments[path.segments.len() - 2].name;
        let method = &path.segments[path.segments.len() - 1].name;
        let mut targets: Vec<FnId> = self
            .index
            .foreign_impls
            .get(trait_name.as_str())
            .into_iter()
            .flatten()
            .filter_map(|i| self.defs.impls[*i].methods.get(method.as_str()).copied())
            .collect();
        targets.sort();
        targets.dedup();
        match targets.as_slice() {
            [] => false,
            [f] => {
                self.edge(*f, EdgeKind::Call, line);
                true
            }
            _ => {
                self.unresolved.insert((path.to_string(), line));
                true
            }
        }
    }

    /// `my_macro!(..)` of the workspace: the calls in the rule its tokens
    /// select, expanded (`parse::expand_macro`), count for the caller; when
    /// no rule is known to take them, the calls in every rule's body.
    fn user_macro(&mut self, path: &Path, tokens: Option<&str>, line: u32) {
        if self.macro_depth > 4 {
            return;
        }
        let Some(m) = self.defs.workspace_macro(self.module, path) else {
            return;
        };
        let ItemKind::MacroRules { bodies, rules } = &self.defs.macros[m].item.kind else {
            return;
        };
        let calls_macro = |rule: usize| {
            let mut found = false;
            if let Some(b) = bodies.get(rule) {
                b.walk(&mut |e| {
                    if let Expr::Macro { path, .. } = e {
                        found |= self
                            .defs
                            .workspace_macro(self.defs.macros[m].module, path)
                            .is_some();
                    }
                });
            }
            found
        };
        let expanded = tokens.map(|t| {
            self.index
                .expansion(m, t, || crate::parse::expand_macro(rules, t, calls_macro))
        });
        self.macro_depth += 1;
        // Edges first added from here on are the macro body's.
        let before = self.added.len();
        // `$crate::..` and the macro's own helpers resolve where it is defined.
        let caller_module = std::mem::replace(&mut self.module, self.defs.macros[m].module);
        // What the body leaves unresolved is not the caller's (nothing reads
        // the set while walking: it is set aside, not copied).
        let unresolved = std::mem::take(&mut self.unresolved);
        match expanded.as_deref().and_then(Option::as_ref) {
            Some(Expansion::Rule(i)) => self.block(&bodies[*i]),
            Some(Expansion::Block(b)) => {
                // The expansion is dropped after this walk: what was inferred
                // by its addresses must not outlive it.
                let inferred = self.inferred.take();
                self.block(b);
                self.inferred.replace(inferred);
            }
            None => {
                for b in bodies {
                    self.block(b);
                }
            }
        }
        self.unresolved = unresolved;
        self.module = caller_module;
        // Calls written in the macro body are attributed to the invocation line.
        for k in &self.added[before..] {
            self.edges.insert(*k, line);
        }
        self.macro_depth -= 1;
    }
}

fn peel_ref(t: &Ty) -> &Ty {
    match t {
        Ty::Ref(inner) => peel_ref(inner),
        other => other,
    }
}

/// The element type of a collection or iterator.
fn element_of(t: &T) -> Option<T> {
    match t {
        T::Seq(e) | T::Iter(e) | T::Wrapped(e, _) => Some((**e).clone()),
        _ => None,
    }
}

/// What `Option`/`Result`'s own combinators give back, where the inner
/// type stays (`ok_or`, `map_err`, `ok`, `filter`, `or_else`..).
fn combinator(inner: &T, w: Wrap, method: &str) -> Option<T> {
    let to = match method {
        "ok_or" | "ok_or_else" => Wrap::Result,
        "ok" if w == Wrap::Result => Wrap::Option,
        "map_err" | "or" | "or_else" | "filter" | "inspect" | "inspect_err" | "take"
        | "as_deref" => w,
        _ => return None,
    };
    Some(T::Wrapped(Box::new(inner.clone()), to))
}

/// What std's collection and iterator methods give back.
fn collection_method(t: &T, method: &str) -> Option<T> {
    match (t, method) {
        (T::Seq(e), "iter" | "into_iter" | "iter_mut" | "drain") => Some(T::Iter(e.clone())),
        (T::Seq(e), "first" | "last" | "get" | "get_mut" | "pop" | "first_mut" | "last_mut") => {
            Some(T::Wrapped(e.clone(), Wrap::Option))
        }
        (T::Map(v), "values" | "values_mut" | "into_values") => Some(T::Iter(v.clone())),
        (T::Map(v), "get" | "get_mut" | "remove") => Some(T::Wrapped(v.clone(), Wrap::Option)),
        (T::Iter(e), m) if ITER_SAME.contains(&m) => Some(T::Iter(e.clone())),
        (T::Iter(e), m) if ITER_ONE.contains(&m) => Some(T::Wrapped(e.clone(), Wrap::Option)),
        (T::Iter(e), "collect") => Some(T::Seq(e.clone())),
        (T::Seq(_) | T::Map(_) | T::Iter(_), _) => Some(T::External),
        _ => None,
    }
}

fn receiver_text(e: &Expr) -> String {
    match e {
        Expr::Path { path, .. } => path.to_string(),
        Expr::Field { base, member } => format!("{}.{member}", receiver_text(base)),
        Expr::MethodCall {
            receiver, method, ..
        } => format!("{}.{method}()", receiver_text(receiver)),
        Expr::Call { func, .. } => format!("{}(..)", receiver_text(func)),
        Expr::Wrap { inner, .. } => receiver_text(inner),
        _ => "_".into(),
    }
}
