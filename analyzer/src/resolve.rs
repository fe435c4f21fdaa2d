//! Resolve: [`Project`] -> [`DefMap`]: every module's scope, every fn,
//! type, trait, impl, static and `macro_rules!` of the workspace, with
//! canonical names, and path resolution over them.
//!
//! Scopes come from items and `use` trees (groups, globs, renames,
//! re-exports, `self`/`super`/`crate`, `extern crate x as y`), resolved to a
//! fixpoint, so glob cycles terminate. Names of dependencies outside the
//! workspace resolve to [`Def::External`], never to "unresolved". Workspace
//! crates see each other through their path dependencies. Code under
//! `#[cfg(test)]` and `#[test]` fns are left out: they never deploy.
//! Visibility is not checked: cleave reads code that compiles.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;

use crate::hash::FastHash;
use crate::load::{Package, Project, TargetKind};
use crate::syntax::{FnDef, Generic, Item, ItemKind, Path, Ty, UseKind};

pub type ModId = usize;
pub type FnId = usize;
pub type TypeId = usize;
pub type TraitId = usize;
pub type ImplId = usize;
pub type StaticId = usize;
pub type MacroId = usize;

/// What a name can stand for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Def {
    Mod(ModId),
    Fn(FnId),
    Type(TypeId),
    Variant(TypeId),
    Trait(TraitId),
    /// A trait's method named through the trait (`Trait::m`), with or without a default body.
    TraitMethod(TraitId, u32),
    Static(StaticId),
    Macro(MacroId),
    /// Something outside the workspace (a dependency, std).
    External,
}

/// The namespaces of Rust's scopes: a module and a fn of one name coexist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Namespace {
    Type,
    Value,
    Macro,
}

/// A def's namespace; `None` for an external one, which may be in any.
fn namespace(d: Def) -> Option<Namespace> {
    match d {
        Def::Mod(_) | Def::Type(_) | Def::Trait(_) => Some(Namespace::Type),
        Def::Fn(_) | Def::Static(_) | Def::TraitMethod(..) | Def::Variant(_) => {
            Some(Namespace::Value)
        }
        Def::Macro(_) => Some(Namespace::Macro),
        Def::External => None,
    }
}

#[derive(Debug)]
pub struct ModData<'a> {
    pub krate: usize,
    pub path: &'a [String],
    pub file: &'a str,
    pub parent: Option<ModId>,
    pub canonical: String,
    /// Names borrow the syntax tree's strings: a workspace has tens of
    /// thousands of (module, name) pairs, most of them glob imports.
    explicit: Scope<'a>,
    globs: Scope<'a>,
    /// A glob import from outside the workspace: unknown names may come from it.
    pub has_external_glob: bool,
    /// `use a::b as c;`: `c` -> `b`, for names whose original says what
    /// they are (`use axum::Router as AxumRouter`).
    renames: Vec<(&'a str, &'a str)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FnKind {
    Fn,
    Method,
}

#[derive(Debug)]
pub struct FnData<'a> {
    pub id: String,
    pub name: &'a str,
    pub kind: FnKind,
    pub module: ModId,
    pub file: &'a str,
    pub line: u32,
    pub end_line: u32,
    pub def: &'a FnDef,
    pub item: &'a Item,
    pub impl_: Option<ImplId>,
    /// For a trait's default method: the trait.
    pub trait_: Option<TraitId>,
    /// Fns declared inside this fn's body.
    pub local_fns: BTreeMap<String, FnId>,
    /// The `use` and `extern crate` items of its body (any block of it):
    /// names they bring read as they do from the fn's module, anywhere in
    /// the fn ([`DefMap::resolve_in_fn`]).
    pub local_imports: Vec<&'a Item>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeKind {
    Struct,
    Enum,
    Union,
    Alias,
}

#[derive(Debug)]
pub struct TypeData<'a> {
    pub name: &'a str,
    pub kind: TypeKind,
    pub module: ModId,
    pub canonical: String,
    pub fields: &'a [(String, Ty)],
    pub variants: &'a [String],
    pub variant_fields: &'a [Vec<(String, Ty)>],
    pub alias_of: Option<&'a Ty>,
    pub item: &'a Item,
}

#[derive(Debug)]
pub struct TraitData<'a> {
    pub name: &'a str,
    pub module: ModId,
    pub canonical: String,
    /// Method names, with the default body's fn where there is one.
    pub methods: Vec<(&'a str, Option<FnId>)>,
    pub supertraits: Vec<TraitId>,
    supertrait_paths: &'a [Path],
}

#[derive(Debug)]
pub struct ImplData<'a> {
    pub module: ModId,
    pub self_ty: &'a Ty,
    pub self_def: Option<TypeId>,
    pub trait_: Option<TraitId>,
    pub trait_path: Option<&'a Path>,
    pub generics: &'a [Generic],
    pub methods: BTreeMap<&'a str, FnId>,
}

#[derive(Debug)]
pub struct StaticData<'a> {
    pub name: &'a str,
    pub module: ModId,
    pub canonical: String,
    pub item: &'a Item,
}

#[derive(Debug)]
pub struct MacroData<'a> {
    pub name: &'a str,
    pub module: ModId,
    pub item: &'a Item,
}

/// Every definition of the workspace and the scopes that name them.
#[derive(Debug)]
pub struct DefMap<'a> {
    pub project: &'a Project,
    pub mods: Vec<ModData<'a>>,
    pub fns: Vec<FnData<'a>>,
    pub types: Vec<TypeData<'a>>,
    pub traits: Vec<TraitData<'a>>,
    pub impls: Vec<ImplData<'a>>,
    pub statics: Vec<StaticData<'a>>,
    pub macros: Vec<MacroData<'a>>,
    /// Root module of each crate.
    pub crate_roots: Vec<ModId>,
    /// Per crate: extern names it can write -> the workspace crate, or `None` for external.
    externs: Vec<BTreeMap<String, Option<usize>>>,
    /// Type -> method name -> fns (inherent and trait impls).
    methods_by_type: HashMap<TypeId, HashMap<&'a str, Vec<FnId>, FastHash>, FastHash>,
    /// Trait -> its impls.
    impls_by_trait: BTreeMap<TraitId, Vec<ImplId>>,
    /// Method name -> every impl or trait method of that name.
    methods_by_name: HashMap<&'a str, Vec<FnId>, FastHash>,
    /// `macro_rules!` name -> every macro of that name, in id order.
    macros_by_name: BTreeMap<&'a str, Vec<MacroId>>,
}

/// Names of the std prelude and std macros: resolve to external.
const PRELUDE: &[&str] = &[
    "Some",
    "None",
    "Ok",
    "Err",
    "Box",
    "Vec",
    "String",
    "Option",
    "Result",
    "drop",
    "Default",
    "Clone",
    "Copy",
    "Send",
    "Sync",
    "Sized",
    "Iterator",
    "IntoIterator",
    "From",
    "Into",
    "TryFrom",
    "TryInto",
    "ToString",
    "ToOwned",
    "AsRef",
    "AsMut",
    "Fn",
    "FnMut",
    "FnOnce",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Debug",
    "Extend",
    "std",
    "core",
    "alloc",
    "self",
    "Self",
    "bool",
    "char",
    "str",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "DoubleEndedIterator",
    "ExactSizeIterator",
    "Unpin",
    "FromIterator",
];

pub fn is_prelude(name: &str) -> bool {
    PRELUDE.contains(&name)
}

/// Whether an item's `cfg` leaves it out of the build the functions
/// deploy: test code, and code for another OS than Lambda's Linux
/// (`#[cfg(windows)]`, `#[cfg(not(unix))]`, `target_os = "macos"`, ..).
fn is_test_cfg(cfg: &[String]) -> bool {
    cfg.iter().any(|c| {
        matches!(
            c.as_str(),
            "test"
                | "windows"
                | "not(unix)"
                | "target_os = \"windows\""
                | "target_os = \"macos\""
                | "target_os = \"ios\""
                | "target_os = \"android\""
        )
    })
}

/// Whether code under these `cfg`s is out of the build cleave assumes:
/// [`is_test_cfg`], or a `feature = ".."` predicate (through `not`, `any`,
/// `all`) false with the package's features on (`Package::features`, as
/// cargo unifies them from the defaults). A predicate on anything else
/// (`unix`, a cfg a build script sets, a feature the package does not
/// declare) keeps the code.
pub(crate) fn left_out(cfg: &[String], package: &Package) -> bool {
    is_test_cfg(cfg)
        || cfg.iter().any(|c| {
            c.contains("feature")
                && syn::parse_str::<syn::Meta>(c)
                    .ok()
                    .and_then(|m| cfg_value(&m, package))
                    == Some(false)
        })
}

/// A `cfg` predicate's value with the package's features on, where only
/// features it declares decide it.
fn cfg_value(pred: &syn::Meta, package: &Package) -> Option<bool> {
    use syn::punctuated::Punctuated;
    match pred {
        syn::Meta::NameValue(nv) if nv.path.is_ident("feature") => match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => {
                let name = s.value();
                package
                    .declared
                    .contains(&name)
                    .then(|| package.features.contains(&name))
            }
            _ => None,
        },
        syn::Meta::List(l) => {
            let args = l
                .parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
                .ok()?;
            let values: Vec<Option<bool>> = args.iter().map(|a| cfg_value(a, package)).collect();
            if l.path.is_ident("not") {
                match values.as_slice() {
                    [v] => v.map(|b| !b),
                    _ => None,
                }
            } else if l.path.is_ident("any") {
                if values.contains(&Some(true)) {
                    Some(true)
                } else if values.iter().all(|v| *v == Some(false)) {
                    Some(false)
                } else {
                    None
                }
            } else if l.path.is_ident("all") {
                if values.contains(&Some(false)) {
                    Some(false)
                } else if values.iter().all(|v| *v == Some(true)) {
                    Some(true)
                } else {
                    None
                }
            } else {
                None
            }
        }
        _ => None,
    }
}

fn is_test_fn(item: &Item, package: &Package) -> bool {
    item.attrs
        .iter()
        .any(|a| a.path.last() == Some("test") || a.path.last() == Some("bench"))
        || left_out(&item.cfg, package)
}

impl<'a> DefMap<'a> {
    pub fn build(project: &'a Project) -> Self {
        let mut map = DefMap {
            project,
            mods: Vec::new(),
            fns: Vec::new(),
            types: Vec::new(),
            traits: Vec::new(),
            impls: Vec::new(),
            statics: Vec::new(),
            macros: Vec::new(),
            crate_roots: Vec::new(),
            externs: Vec::new(),
            methods_by_type: HashMap::default(),
            impls_by_trait: BTreeMap::new(),
            methods_by_name: HashMap::default(),
            macros_by_name: BTreeMap::new(),
        };
        map.collect_modules();
        map.collect_externs();
        let uses = map.collect_items();
        map.resolve_uses(&uses);
        map.resolve_impls();
        map.dedup_ids();
        for (id, m) in map.macros.iter().enumerate() {
            map.macros_by_name.entry(m.name).or_default().push(id);
        }
        map
    }

    fn collect_modules(&mut self) {
        let project = self.project;
        let mut index: BTreeMap<(usize, &[String]), ModId> = BTreeMap::new();
        for (ci, krate) in project.crates.iter().enumerate() {
            let package = &project.packages[krate.package];
            for m in &krate.modules {
                if left_out(&m.cfg, package) {
                    continue;
                }
                let id = self.mods.len();
                index.insert((ci, m.path.as_slice()), id);
                let mut canonical = krate.name.clone();
                for p in &m.path {
                    canonical.push_str("::");
                    canonical.push_str(p);
                }
                self.mods.push(ModData {
                    krate: ci,
                    path: &m.path,
                    file: &m.file,
                    parent: None,
                    canonical,
                    explicit: Scope::default(),
                    globs: Scope::default(),
                    has_external_glob: false,
                    renames: Vec::new(),
                });
            }
            self.crate_roots
                .push(index.get(&(ci, &[][..])).copied().unwrap_or(usize::MAX));
        }
        for id in 0..self.mods.len() {
            let m = &self.mods[id];
            if let Some((_, parent)) = m.path.split_last() {
                let parent = index.get(&(m.krate, parent)).copied();
                self.mods[id].parent = parent;
                if let Some(p) = parent {
                    let name = self.mods[id].path.last().map_or("", String::as_str);
                    self.mods[p]
                        .explicit
                        .entry(name)
                        .or_default()
                        .insert(Def::Mod(id));
                }
            }
        }
    }

    fn collect_externs(&mut self) {
        let project = self.project;
        for krate in &project.crates {
            let pkg = &project.packages[krate.package];
            let mut names = BTreeMap::new();
            for dep in &pkg.dependencies {
                let target = project.crates.iter().position(|c| {
                    c.kind == TargetKind::Lib
                        && project.packages[c.package].name == dep.package
                        && (dep.path.is_none()
                            || dep.path.as_deref()
                                == Some(project.packages[c.package].dir.as_str()))
                });
                names.insert(dep.extern_name.clone(), target);
            }
            if krate.kind == TargetKind::Bin
                && let Some(lib) = project
                    .crates
                    .iter()
                    .position(|c| c.package == krate.package && c.kind == TargetKind::Lib)
            {
                names.insert(project.crates[lib].name.clone(), Some(lib));
            }
            self.externs.push(names);
        }
    }

    /// Registers every item; returns the `use` entries still to resolve.
    fn collect_items(&mut self) -> Vec<(ModId, &'a crate::syntax::UseEntry)> {
        let project = self.project;
        let mut uses = Vec::new();
        let mut mod_ids = BTreeMap::new();
        for (id, m) in self.mods.iter().enumerate() {
            mod_ids.insert((m.krate, m.path), id);
        }
        for (ci, krate) in project.crates.iter().enumerate() {
            let package = &project.packages[krate.package];
            for m in &krate.modules {
                // A left-out module shares its path with the kept one of
                // its name (`#[cfg(target_os = "android")] mod imp`).
                if left_out(&m.cfg, package) {
                    continue;
                }
                let Some(&mid) = mod_ids.get(&(ci, m.path.as_slice())) else {
                    continue;
                };
                for item in &m.items {
                    self.collect_item(mid, &m.file, item, &mut uses);
                }
            }
        }
        uses
    }

    fn add(&mut self, module: ModId, name: &'a str, def: Def) {
        self.mods[module]
            .explicit
            .entry(name)
            .or_default()
            .insert(def);
    }

    fn collect_item(
        &mut self,
        mid: ModId,
        file: &'a str,
        item: &'a Item,
        uses: &mut Vec<(ModId, &'a crate::syntax::UseEntry)>,
    ) {
        let project = self.project;
        let package = &project.packages[project.crates[self.mods[mid].krate].package];
        if left_out(&item.cfg, package) {
            return;
        }
        match &item.kind {
            ItemKind::Fn(def) => {
                if is_test_fn(item, package) {
                    return;
                }
                let id = self.new_fn(
                    self.item_path(mid, &item.name),
                    FnKind::Fn,
                    mid,
                    file,
                    item,
                    def,
                    None,
                    None,
                );
                self.add(mid, &item.name, Def::Fn(id));
            }
            ItemKind::Struct { fields, .. } => {
                let id = self.new_type(item, TypeKind::Struct, mid, fields, &[], None);
                self.add(mid, &item.name, Def::Type(id));
            }
            ItemKind::Enum {
                variants,
                variant_fields,
                ..
            } => {
                let id = self.new_type(item, TypeKind::Enum, mid, &[], variants, None);
                self.types[id].variant_fields = variant_fields;
                self.add(mid, &item.name, Def::Type(id));
            }
            ItemKind::Union => {
                let id = self.new_type(item, TypeKind::Union, mid, &[], &[], None);
                self.add(mid, &item.name, Def::Type(id));
            }
            ItemKind::TypeAlias { ty, .. } => {
                let id = self.new_type(item, TypeKind::Alias, mid, &[], &[], Some(ty));
                self.add(mid, &item.name, Def::Type(id));
            }
            ItemKind::Trait { items, supertraits } => {
                let tid = self.traits.len();
                let canonical = self.item_path(mid, &item.name);
                self.traits.push(TraitData {
                    name: &item.name,
                    module: mid,
                    canonical: canonical.clone(),
                    methods: Vec::new(),
                    supertraits: Vec::new(),
                    supertrait_paths: supertraits,
                });
                for ti in items {
                    if let ItemKind::Fn(def) = &ti.kind {
                        let f = def.body.as_ref().map(|_| {
                            self.new_fn(
                                format!("{canonical}::{}", ti.name),
                                FnKind::Method,
                                mid,
                                file,
                                ti,
                                def,
                                None,
                                Some(tid),
                            )
                        });
                        self.traits[tid].methods.push((&ti.name, f));
                    }
                }
                self.add(mid, &item.name, Def::Trait(tid));
            }
            ItemKind::Impl(imp) => {
                let iid = self.impls.len();
                self.impls.push(ImplData {
                    module: mid,
                    self_ty: &imp.self_ty,
                    self_def: None,
                    trait_: None,
                    trait_path: imp.trait_.as_ref(),
                    generics: &imp.generics,
                    methods: BTreeMap::new(),
                });
                for ii in &imp.items {
                    if let ItemKind::Fn(def) = &ii.kind {
                        if is_test_fn(ii, package) {
                            continue;
                        }
                        // Named properly once the self type and trait are resolved.
                        let f = self.new_fn(
                            String::new(),
                            FnKind::Method,
                            mid,
                            file,
                            ii,
                            def,
                            Some(iid),
                            None,
                        );
                        self.impls[iid].methods.insert(&ii.name, f);
                    }
                }
            }
            ItemKind::Static { .. } | ItemKind::Const { .. } => {
                let id = self.statics.len();
                self.statics.push(StaticData {
                    name: &item.name,
                    module: mid,
                    canonical: self.item_path(mid, &item.name),
                    item,
                });
                self.add(mid, &item.name, Def::Static(id));
            }
            ItemKind::MacroRules { .. } => {
                let id = self.macros.len();
                self.macros.push(MacroData {
                    name: &item.name,
                    module: mid,
                    item,
                });
                self.add(mid, &item.name, Def::Macro(id));
            }
            ItemKind::MacroCall { items, .. } => {
                for inner in items {
                    self.collect_item(mid, file, inner, uses);
                }
            }
            ItemKind::ExternCrate { krate } => {
                let target = self.resolve_extern(self.mods[mid].krate, krate);
                self.add(mid, &item.name, target);
            }
            ItemKind::Use(entries) => {
                for e in entries {
                    uses.push((mid, e));
                }
            }
            ItemKind::Mod { .. } | ItemKind::Other => {}
        }
    }

    /// `crate::module::name`.
    fn item_path(&self, module: ModId, name: &str) -> String {
        let prefix = &self.mods[module].canonical;
        let mut out = String::with_capacity(prefix.len() + 2 + name.len());
        out.push_str(prefix);
        out.push_str("::");
        out.push_str(name);
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn new_fn(
        &mut self,
        id: String,
        kind: FnKind,
        module: ModId,
        file: &'a str,
        item: &'a Item,
        def: &'a FnDef,
        impl_: Option<ImplId>,
        trait_: Option<TraitId>,
    ) -> FnId {
        let fid = self.fns.len();
        self.fns.push(FnData {
            id: id.clone(),
            name: &item.name,
            kind,
            module,
            file,
            line: item.line,
            end_line: item.end_line,
            def,
            item,
            impl_,
            trait_,
            local_fns: BTreeMap::new(),
            local_imports: def.body.as_ref().map_or_else(Vec::new, local_imports),
        });
        // Fns declared in the body: `fn outer() { fn inner() {} }`.
        if let Some(body) = &def.body {
            let mut locals = Vec::new();
            collect_local_fns(body, &mut locals);
            for local in locals {
                if let ItemKind::Fn(ldef) = &local.kind {
                    let base = if id.is_empty() {
                        format!("{{impl}}::{}", item.name)
                    } else {
                        id.clone()
                    };
                    let lid = self.new_fn(
                        format!("{base}::{}", local.name),
                        FnKind::Fn,
                        module,
                        file,
                        local,
                        ldef,
                        None,
                        None,
                    );
                    self.fns[fid].local_fns.insert(local.name.clone(), lid);
                }
            }
        }
        fid
    }

    fn new_type(
        &mut self,
        item: &'a Item,
        kind: TypeKind,
        module: ModId,
        fields: &'a [(String, Ty)],
        variants: &'a [String],
        alias_of: Option<&'a Ty>,
    ) -> TypeId {
        let id = self.types.len();
        self.types.push(TypeData {
            name: &item.name,
            kind,
            module,
            canonical: format!("{}::{}", self.mods[module].canonical, item.name),
            fields,
            variants,
            variant_fields: &[],
            alias_of,
            item,
        });
        id
    }

    fn resolve_extern(&self, krate: usize, name: &str) -> Def {
        match self.externs.get(krate).and_then(|m| m.get(name)) {
            Some(Some(target)) => match self.crate_roots.get(*target) {
                Some(&root) if root != usize::MAX => Def::Mod(root),
                _ => Def::External,
            },
            _ => Def::External,
        }
    }

    /// The name `name` was imported under in `module` renames, else itself:
    /// `AxumRouter` after `use axum::Router as AxumRouter` is `Router`.
    pub fn original_name<'n>(&'n self, module: ModId, name: &'n str) -> &'n str {
        self.mods[module]
            .renames
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name, |(_, original)| original)
    }

    fn resolve_uses(&mut self, uses: &[(ModId, &'a crate::syntax::UseEntry)]) {
        for (m, u) in uses {
            if let UseKind::Name { alias } = &u.kind
                && let Some(last) = u.path.last()
                && alias != last
                && alias != "_"
            {
                self.mods[*m].renames.push((alias.as_str(), last.as_str()));
            }
        }
        // Fixpoint: each round adds only new (name, def) pairs, so cycles of
        // glob re-exports end once nothing new arrives. Each round visits
        // the entries in order, as every round did, but an entry is
        // resolved again only if a scope it read has changed since it was
        // last resolved: otherwise it resolves the same, and adds nothing.
        let mut changed_at = vec![0u64; self.mods.len()];
        let mut clock = 0u64;
        // Per entry: when it was last resolved, and the scopes it read.
        let mut last: Vec<Option<(u64, Vec<ModId>)>> = vec![None; uses.len()];
        for _round in 0..64 {
            let mut changed = false;
            for (i, &(mid, entry)) in uses.iter().enumerate() {
                if let Some((at, read)) = &last[i]
                    && read.iter().all(|m| changed_at[*m] <= *at)
                {
                    continue;
                }
                let at = clock;
                let mut read = Vec::new();
                // What changed, to stamp once the entry is done.
                let mut touched: Vec<ModId> = Vec::new();
                match &entry.kind {
                    UseKind::Name { alias } => {
                        let defs = self.resolve_names_reading(
                            mid,
                            &entry.path,
                            entry.leading_colon,
                            &mut |m| read.push(m),
                        );
                        if alias != "_" && !defs.is_empty() {
                            let explicit = &mut self.mods[mid].explicit;
                            let added = match explicit.get_mut(alias.as_str()) {
                                Some(known) => {
                                    let mut added = false;
                                    for d in defs {
                                        added |= known.insert(d);
                                    }
                                    added
                                }
                                None => {
                                    explicit.insert(alias, defs.into_iter().collect());
                                    true
                                }
                            };
                            if added {
                                touched.push(mid);
                            }
                        }
                    }
                    UseKind::Glob => {
                        read.push(mid);
                        let targets = self.resolve_names_reading(
                            mid,
                            &entry.path,
                            entry.leading_colon,
                            &mut |m| read.push(m),
                        );
                        if targets.is_empty() && !entry.path.is_empty() {
                            let first = &entry.path[0];
                            let known = self.lookup(mid, first).iter().any(|d| *d != Def::External);
                            if !known && !self.mods[mid].has_external_glob {
                                self.mods[mid].has_external_glob = true;
                                touched.push(mid);
                            }
                        }
                        for t in targets {
                            match t {
                                Def::Mod(src) if src != mid => {
                                    read.push(src);
                                    let (src, dst) = two_mut(&mut self.mods, src, mid);
                                    let mut added = false;
                                    if src.has_external_glob && !dst.has_external_glob {
                                        dst.has_external_glob = true;
                                        added = true;
                                    }
                                    for (n, ds) in src.explicit.iter().chain(src.globs.iter()) {
                                        if ds.is_empty() {
                                            continue;
                                        }
                                        match dst.globs.get_mut(n) {
                                            Some(known) => {
                                                for d in ds {
                                                    added |= known.insert(*d);
                                                }
                                            }
                                            None => {
                                                dst.globs.insert(n, ds.clone());
                                                added = true;
                                            }
                                        }
                                    }
                                    if added {
                                        touched.push(mid);
                                    }
                                }
                                Def::Type(t) => {
                                    for v in self.types[t].variants {
                                        if self.mods[mid]
                                            .globs
                                            .entry(v.as_str())
                                            .or_default()
                                            .insert(Def::Variant(t))
                                        {
                                            touched.push(mid);
                                        }
                                    }
                                }
                                Def::External if !self.mods[mid].has_external_glob => {
                                    self.mods[mid].has_external_glob = true;
                                    touched.push(mid);
                                }
                                _ => {}
                            }
                        }
                    }
                }
                for m in touched {
                    clock += 1;
                    changed_at[m] = clock;
                    changed = true;
                }
                read.sort_unstable();
                read.dedup();
                last[i] = Some((at, read));
            }
            if !changed {
                break;
            }
        }
    }

    /// The definitions a name has in a module's scope: its items and imports
    /// first, glob imports only when those have none.
    pub fn lookup(&self, module: ModId, name: &str) -> Vec<Def> {
        let mut out = Vec::new();
        self.scope_defs_into(module, name, &mut out);
        out
    }

    /// What a name denotes in a module's scope, added to `out`: its items
    /// and imports, and what glob imports bring in the namespaces those
    /// leave free (`mod login;` beside `pub use login::*;` bringing the fn
    /// `login`: a module does not hide a fn). Whether anything was found.
    fn scope_defs_into(&self, module: ModId, name: &str, out: &mut Vec<Def>) -> bool {
        let m = &self.mods[module];
        let explicit = m.explicit.get(name).filter(|d| !d.is_empty());
        let glob = m.globs.get(name).filter(|d| !d.is_empty());
        match (explicit, glob) {
            (Some(e), None) | (None, Some(e)) => out.extend(e.iter().copied()),
            (Some(e), Some(g)) => {
                let start = out.len();
                out.extend(e.iter().copied());
                // An external def may be in any namespace: it hides them all.
                let taken = |ns: Namespace| e.iter().any(|d| namespace(*d).is_none_or(|n| n == ns));
                let before = out.len();
                out.extend(
                    g.iter()
                        .copied()
                        .filter(|d| namespace(*d).is_some_and(|ns| !taken(ns))),
                );
                if out.len() > before {
                    out[start..].sort_unstable();
                    out.dedup();
                }
            }
            (None, None) => return false,
        }
        true
    }

    /// Resolves a path written in `module` (as names) to what it may denote.
    pub fn resolve_names<S: AsRef<str>>(
        &self,
        module: ModId,
        names: &[S],
        leading_colon: bool,
    ) -> Vec<Def> {
        self.resolve_names_reading(module, names, leading_colon, &mut |_| {})
    }

    /// Whether a path written in `module` names something outside the
    /// workspace: a dependency's item, or a name nothing in the workspace
    /// gives while a glob import of a dependency's module is in scope
    /// (`use rocket_okapi::swagger_ui::*; .. make_swagger_ui(..)`).
    pub fn names_external<S: AsRef<str>>(
        &self,
        module: ModId,
        names: &[S],
        leading_colon: bool,
    ) -> bool {
        let defs = self.resolve_names(module, names, leading_colon);
        defs.contains(&Def::External) || (defs.is_empty() && self.mods[module].has_external_glob)
    }

    /// [`DefMap::resolve_names`], telling `read` each module whose scope it
    /// looks a name up in: what the result depends on, besides what never
    /// changes once items are collected.
    fn resolve_names_reading<S: AsRef<str>>(
        &self,
        module: ModId,
        names: &[S],
        leading_colon: bool,
        read: &mut dyn FnMut(ModId),
    ) -> Vec<Def> {
        let Some((first, rest)) = names.split_first() else {
            return vec![Def::Mod(module)];
        };
        let first = first.as_ref();
        let krate = self.mods[module].krate;
        let mut cur: Vec<Def> = if leading_colon {
            vec![self.resolve_extern(krate, first)]
        } else {
            match first {
                "crate" => vec![Def::Mod(self.crate_roots[krate])],
                "self" => vec![Def::Mod(module)],
                "super" => self.mods[module].parent.map(Def::Mod).into_iter().collect(),
                name => {
                    read(module);
                    let mut found = Vec::new();
                    if self.scope_defs_into(module, name, &mut found) {
                        found
                    } else if self.externs[krate].contains_key(name) {
                        vec![self.resolve_extern(krate, name)]
                    } else if is_prelude(name) {
                        vec![Def::External]
                    } else {
                        Vec::new()
                    }
                }
            }
        };
        // Each step's defs, sorted and without repeats (as a set would give).
        let mut next = Vec::new();
        for seg in rest {
            let seg = seg.as_ref();
            next.clear();
            for d in &cur {
                match *d {
                    Def::Mod(m) if seg == "super" => {
                        if let Some(p) = self.mods[m].parent {
                            next.push(Def::Mod(p));
                        }
                    }
                    Def::Mod(m) => {
                        read(m);
                        self.scope_defs_into(m, seg, &mut next);
                    }
                    Def::Type(t) => {
                        let t = self.unalias_reading(t, read);
                        if self.types[t].variants.iter().any(|v| v == seg) {
                            next.push(Def::Variant(t));
                        }
                        if let Some(fs) = self.methods_by_type.get(&t).and_then(|m| m.get(seg)) {
                            next.extend(fs.iter().map(|f| Def::Fn(*f)));
                        }
                    }
                    Def::Trait(tr) => {
                        if let Some(i) = self.traits[tr].methods.iter().position(|(n, _)| *n == seg)
                        {
                            next.push(Def::TraitMethod(tr, i as u32));
                        }
                    }
                    Def::External => next.push(Def::External),
                    _ => {}
                }
            }
            next.sort_unstable();
            next.dedup();
            std::mem::swap(&mut cur, &mut next);
        }
        cur
    }

    /// Follows type aliases to the type they name, where that is a workspace type.
    pub fn unalias(&self, t: TypeId) -> TypeId {
        self.unalias_reading(t, &mut |_| {})
    }

    fn unalias_reading(&self, t: TypeId, read: &mut dyn FnMut(ModId)) -> TypeId {
        let mut t = t;
        for _ in 0..8 {
            let data = &self.types[t];
            let Some(Ty::Path(p)) = data.alias_of else {
                return t;
            };
            let names: Vec<&str> = p.names().collect();
            match self
                .resolve_names_reading(data.module, &names, p.leading_colon, read)
                .into_iter()
                .find_map(|d| match d {
                    Def::Type(n) => Some(n),
                    _ => None,
                }) {
                Some(n) if n != t => t = n,
                _ => return t,
            }
        }
        t
    }

    /// Resolves a type path in a module to a workspace type, if it names one.
    pub fn resolve_type_path(&self, module: ModId, p: &Path) -> Option<TypeId> {
        let names: Vec<&str> = p.names().collect();
        self.resolve_names(module, &names, p.leading_colon)
            .into_iter()
            .find_map(|d| match d {
                Def::Type(t) => Some(self.unalias(t)),
                _ => None,
            })
    }

    pub fn resolve_trait_path(&self, module: ModId, p: &Path) -> Option<TraitId> {
        let names: Vec<&str> = p.names().collect();
        self.resolve_names(module, &names, p.leading_colon)
            .into_iter()
            .find_map(|d| match d {
                Def::Trait(t) => Some(t),
                _ => None,
            })
    }

    fn resolve_impls(&mut self) {
        for tid in 0..self.traits.len() {
            let module = self.traits[tid].module;
            let supers: Vec<TraitId> = self.traits[tid]
                .supertrait_paths
                .iter()
                .filter_map(|p| self.resolve_trait_path(module, p))
                .collect();
            self.traits[tid].supertraits = supers;
        }
        // What each impl is for and of, and the ids of its methods: reading
        // scopes only (the methods of types, filled below, never make a path
        // name a type or a trait), so all impls at once, on all cores.
        let named: Vec<ImplNames> = self
            .impls
            .par_iter()
            .map(|imp| {
                let self_def = match imp.self_ty {
                    Ty::Path(p) => self.resolve_type_path(imp.module, p),
                    Ty::Ref(inner) => match &**inner {
                        Ty::Path(p) => self.resolve_type_path(imp.module, p),
                        _ => None,
                    },
                    _ => None,
                };
                let trait_ = imp
                    .trait_path
                    .and_then(|p| self.resolve_trait_path(imp.module, p));
                let self_name = match self_def {
                    Some(t) => self.types[t].canonical.clone(),
                    None => format!(
                        "{}::{}",
                        self.mods[imp.module].canonical,
                        ty_text(imp.self_ty)
                    ),
                };
                let base = match (trait_, imp.trait_path) {
                    (Some(t), _) => format!("<{self_name} as {}>", self.traits[t].canonical),
                    (None, Some(p)) => format!("<{self_name} as {p}>"),
                    _ => self_name,
                };
                let mut ids = Vec::new();
                for (name, f) in &imp.methods {
                    ids.push((*f, format!("{base}::{name}")));
                    for (lname, lid) in &self.fns[*f].local_fns {
                        ids.push((*lid, format!("{base}::{name}::{lname}")));
                    }
                }
                ImplNames {
                    self_def,
                    trait_,
                    ids,
                }
            })
            .collect();
        for (iid, named) in named.into_iter().enumerate() {
            let ImplNames {
                self_def,
                trait_,
                ids,
            } = named;
            self.impls[iid].self_def = self_def;
            self.impls[iid].trait_ = trait_;
            if let Some(t) = trait_ {
                self.impls_by_trait.entry(t).or_default().push(iid);
            }
            for (f, id) in ids {
                self.fns[f].id = id;
            }
            let methods: Vec<(&'a str, FnId)> = self.impls[iid]
                .methods
                .iter()
                .map(|(k, v)| (*k, *v))
                .collect();
            for (name, f) in methods {
                if let Some(t) = self_def {
                    self.methods_by_type
                        .entry(t)
                        .or_default()
                        .entry(name)
                        .or_default()
                        .push(f);
                }
                self.methods_by_name.entry(name).or_default().push(f);
            }
        }
        // Default trait methods are callable on every implementing type.
        for (tid, impls) in &self.impls_by_trait {
            for (name, default) in &self.traits[*tid].methods {
                let Some(f) = default else { continue };
                for iid in impls {
                    let imp = &self.impls[*iid];
                    if imp.methods.contains_key(name) {
                        continue;
                    }
                    if let Some(t) = imp.self_def {
                        self.methods_by_type
                            .entry(t)
                            .or_default()
                            .entry(name)
                            .or_default()
                            .push(*f);
                    }
                }
            }
        }
        for t in &self.traits {
            for (name, default) in &t.methods {
                if let Some(f) = default {
                    self.methods_by_name.entry(name).or_default().push(*f);
                }
            }
        }
        for list in self.methods_by_name.values_mut() {
            list.sort();
            list.dedup();
        }
        for m in self.methods_by_type.values_mut() {
            for list in m.values_mut() {
                list.sort();
                list.dedup();
            }
        }
    }

    /// Makes node ids unique (a lib and a bin may share a crate name).
    fn dedup_ids(&mut self) {
        // The n-th fn (n > 1) with an id takes `id#n`, counted by the ids as
        // they were before any renaming.
        let mut seen: HashMap<&str, u32, FastHash> = HashMap::default();
        let mut renames = Vec::new();
        for (i, f) in self.fns.iter().enumerate() {
            let n = seen.entry(f.id.as_str()).or_insert(0);
            *n += 1;
            if *n > 1 {
                renames.push((i, *n));
            }
        }
        drop(seen);
        for (i, n) in renames {
            let f = &mut self.fns[i];
            f.id = format!("{}#{}", f.id, n);
        }
    }

    pub fn methods_of(&self, t: TypeId, name: &str) -> &[FnId] {
        self.methods_by_type
            .get(&t)
            .and_then(|m| m.get(name))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The workspace `macro_rules!` a macro path names from `module`: by
    /// its scopes, else a `#[macro_export]`ed or textually scoped macro of
    /// that name in the same crate.
    pub fn workspace_macro(&self, module: ModId, path: &Path) -> Option<MacroId> {
        let names: Vec<&str> = path.names().collect();
        let mut found = self.resolve_names(module, &names, path.leading_colon);
        if found.is_empty() && names.len() == 1 {
            found = self
                .macros_named(names[0])
                .iter()
                .filter(|i| self.mods[self.macros[**i].module].krate == self.mods[module].krate)
                .map(|i| Def::Macro(*i))
                .collect();
        }
        found.into_iter().find_map(|d| match d {
            Def::Macro(m) => Some(m),
            _ => None,
        })
    }

    /// Every `macro_rules!` of the workspace with this name, in id order.
    pub fn macros_named(&self, name: &str) -> &[MacroId] {
        self.macros_by_name
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn methods_named(&self, name: &str) -> &[FnId] {
        self.methods_by_name
            .get(name)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    pub fn impls_of_trait(&self, t: TraitId) -> &[ImplId] {
        self.impls_by_trait
            .get(&t)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// The fns a call to trait method `name` of `t` can land in: each impl's
    /// own method, or the trait's default body where an impl does not override it.
    pub fn trait_method_targets(&self, t: TraitId, name: &str) -> Vec<FnId> {
        let mut out = Vec::new();
        let default = self.traits[t]
            .methods
            .iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, f)| *f);
        for iid in self.impls_of_trait(t) {
            match self.impls[*iid].methods.get(name) {
                Some(f) => out.push(*f),
                None => out.extend(default),
            }
        }
        if out.is_empty() {
            out.extend(default);
        }
        out.sort();
        out.dedup();
        out
    }

    /// A trait and all its supertraits.
    pub fn trait_closure(&self, t: TraitId) -> Vec<TraitId> {
        let mut out = vec![t];
        let mut i = 0;
        while i < out.len() {
            for s in &self.traits[out[i]].supertraits {
                if !out.contains(s) {
                    out.push(*s);
                }
            }
            i += 1;
        }
        out
    }

    /// The workspace fns a path names when written inside fn `from`: local
    /// fns of its body, free fns, `Type::assoc`, `Self::assoc` (in an impl),
    /// `Trait::method` (every impl). Empty for locals, std and dependencies.
    pub fn resolve_fn_path(&self, from: FnId, path: &Path) -> Vec<FnId> {
        let data = &self.fns[from];
        let names: Vec<&str> = path.names().collect();
        if names.len() == 1
            && let Some(f) = data.local_fns.get(names[0])
        {
            return vec![*f];
        }
        if names.len() == 2
            && names[0] == "Self"
            && let Some(t) = data.impl_.and_then(|i| self.impls[i].self_def)
        {
            return self.methods_of(t, names[1]).to_vec();
        }
        // In a trait's default method `Self` is whichever type implements
        // the trait: `Self::configure_routes(cfg)` is every impl's method
        // (or the default body where an impl keeps it).
        if names.len() == 2
            && names[0] == "Self"
            && let Some(t) = data.trait_
            && self.traits[t].methods.iter().any(|(n, _)| *n == names[1])
        {
            return self.trait_method_targets(t, names[1]);
        }
        let mut out = Vec::new();
        for d in self.resolve_in_fn(from, data.module, &names, path.leading_colon) {
            match d {
                Def::Fn(f) => out.push(f),
                Def::TraitMethod(t, i) => {
                    out.extend(self.trait_method_targets(t, self.traits[t].methods[i as usize].0))
                }
                _ => {}
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// What `names` denote as written in fn `f`, read in `module` (the fn's
    /// own, or a workspace macro's that its body expands): through a `use`
    /// or `extern crate` of its body (`use crate::web::router as r;` then
    /// `r::build()`) when read in its own module, else from the module.
    pub fn resolve_in_fn<S: AsRef<str>>(
        &self,
        f: FnId,
        module: ModId,
        names: &[S],
        leading_colon: bool,
    ) -> Vec<Def> {
        let data = &self.fns[f];
        let Some(first) = names.first().map(AsRef::as_ref) else {
            return Vec::new();
        };
        if module != data.module {
            return self.resolve_names(module, names, leading_colon);
        }
        let rest = || names[1..].iter().map(AsRef::as_ref);
        if !leading_colon {
            for item in &data.local_imports {
                match &item.kind {
                    ItemKind::Use(entries) => {
                        for e in entries.iter() {
                            if matches!(&e.kind, UseKind::Name { alias } if alias == first) {
                                let path: Vec<&str> =
                                    e.path.iter().map(String::as_str).chain(rest()).collect();
                                let defs = self.resolve_names(module, &path, e.leading_colon);
                                if !defs.is_empty() {
                                    return defs;
                                }
                            }
                        }
                    }
                    ItemKind::ExternCrate { krate } if item.name == first => {
                        let own = self.mods[module].krate;
                        let root = match self.crate_roots.get(own) {
                            // `extern crate self as me;`
                            Some(&r) if krate == "self" && r != usize::MAX => Def::Mod(r),
                            _ => self.resolve_extern(own, krate),
                        };
                        return match root {
                            Def::Mod(m) if names.len() > 1 => {
                                self.resolve_names(m, &rest().collect::<Vec<_>>(), false)
                            }
                            _ if names.len() == 1 => vec![root],
                            _ => Vec::new(),
                        };
                    }
                    _ => {}
                }
            }
        }
        let defs = self.resolve_names(module, names, leading_colon);
        if !defs.is_empty() || leading_colon {
            return defs;
        }
        // `use super::handlers::*;` in the body.
        for item in &data.local_imports {
            if let ItemKind::Use(entries) = &item.kind {
                for e in entries.iter().filter(|e| matches!(e.kind, UseKind::Glob)) {
                    let path: Vec<&str> = e
                        .path
                        .iter()
                        .map(String::as_str)
                        .chain(names.iter().map(AsRef::as_ref))
                        .collect();
                    let defs = self.resolve_names(module, &path, e.leading_colon);
                    if !defs.is_empty() {
                        return defs;
                    }
                }
            }
        }
        Vec::new()
    }

    pub fn crate_name(&self, module: ModId) -> &str {
        &self.project.crates[self.mods[module].krate].name
    }
}

/// The names of one module's scope (its items and imports, or its glob
/// imports) and what each denotes. Looked up by name, by far the commonest
/// operation of name resolution, and never iterated into an output (only
/// into other scopes, where order does not matter): a hash map.
type Scope<'a> = HashMap<&'a str, Defs, FastHash>;

/// The defs a name has in one scope, sorted, each once: a set that is
/// almost always of one def, so a vector rather than a tree.
#[derive(Debug, Clone, Default)]
struct Defs(Vec<Def>);

impl Defs {
    /// Adds `d`; whether it was new.
    fn insert(&mut self, d: Def) -> bool {
        match self.0.binary_search(&d) {
            Ok(_) => false,
            Err(i) => {
                self.0.reserve_exact(1);
                self.0.insert(i, d);
                true
            }
        }
    }

    fn iter(&self) -> std::slice::Iter<'_, Def> {
        self.0.iter()
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FromIterator<Def> for Defs {
    fn from_iter<I: IntoIterator<Item = Def>>(iter: I) -> Self {
        let mut v: Vec<Def> = iter.into_iter().collect();
        v.sort_unstable();
        v.dedup();
        v.shrink_to_fit();
        Defs(v)
    }
}

impl<'s> IntoIterator for &'s Defs {
    type Item = &'s Def;
    type IntoIter = std::slice::Iter<'s, Def>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// An impl resolved: its self type, its trait, and the ids of its methods
/// (and of the fns declared in their bodies).
struct ImplNames {
    self_def: Option<TypeId>,
    trait_: Option<TraitId>,
    ids: Vec<(FnId, String)>,
}

/// Two distinct elements of a slice, both mutable.
fn two_mut<T>(xs: &mut [T], a: usize, b: usize) -> (&mut T, &mut T) {
    debug_assert_ne!(a, b);
    if a < b {
        let (lo, hi) = xs.split_at_mut(b);
        (&mut lo[a], &mut hi[0])
    } else {
        let (lo, hi) = xs.split_at_mut(a);
        (&mut hi[0], &mut lo[b])
    }
}

/// The `use` and `extern crate` items of a body, in every block of it.
fn local_imports(body: &crate::syntax::Block) -> Vec<&Item> {
    use crate::syntax::Stmt;
    let mut out = Vec::new();
    for b in body.blocks() {
        for s in &b.stmts {
            if let Stmt::Item(item) = s
                && matches!(item.kind, ItemKind::Use(_) | ItemKind::ExternCrate { .. })
            {
                out.push(&**item);
            }
        }
    }
    out
}

fn collect_local_fns<'a>(block: &'a crate::syntax::Block, out: &mut Vec<&'a Item>) {
    for s in &block.stmts {
        if let crate::syntax::Stmt::Item(item) = s
            && matches!(item.kind, ItemKind::Fn(_))
        {
            out.push(item);
        }
    }
}

pub use crate::syntax::ty_text;
