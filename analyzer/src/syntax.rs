//! The lowered syntax tree: a small, owned, `Send` copy of what cleave needs
//! from a parsed file.
//!
//! `syn` trees cannot leave the thread that parsed them (proc-macro2 types are
//! `!Send`, and with `span-locations` their line numbers live in a
//! thread-local source map), so `parse` lowers each file into these types on
//! the worker thread. Later stages (resolve, callgraph, entrypoints, hazards)
//! read only this tree. It keeps names, paths, types as written, string
//! literals, call and method-call shapes, closures, macro arguments it could
//! parse, and 1-based line numbers. It never keeps spans or token streams.

use std::fmt;

mod name;
mod text;

pub use name::{Name, Names};
pub use text::{expr_text, pat_text, path_text, ty_text};

/// A path as written: `crate::db::Repo::insert`, `Vec::<u8>::new`, `::std::fs`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Path {
    pub leading_colon: bool,
    /// A boxed slice: a path is never grown once lowered, and this keeps a
    /// path (inside most expressions and types) at three words.
    pub segments: Box<[Segment]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub name: Name,
    /// Generic arguments written on this segment (`::<T>` or `<T>` in
    /// types); a boxed slice, empty on almost every segment.
    pub generics: Box<[Ty]>,
}

impl Path {
    pub fn from_names<I: IntoIterator<Item = S>, S: AsRef<str>>(names: I) -> Self {
        Path {
            leading_colon: false,
            segments: names
                .into_iter()
                .map(|n| Segment {
                    name: Name::from(n.as_ref()),
                    generics: Box::default(),
                })
                .collect(),
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().map(|s| s.name.as_str())
    }

    pub fn last(&self) -> Option<&str> {
        self.segments.last().map(|s| s.name.as_str())
    }

    pub fn is_ident(&self, name: &str) -> bool {
        !self.leading_colon && self.segments.len() == 1 && self.segments[0].name == name
    }

    /// Whether the path ends with these segment names (`ends_with(&["web", "get"])`).
    pub fn ends_with(&self, names: &[&str]) -> bool {
        self.segments.len() >= names.len()
            && self.segments[self.segments.len() - names.len()..]
                .iter()
                .zip(names)
                .all(|(s, n)| s.name == *n)
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.leading_colon {
            f.write_str("::")?;
        }
        for (i, s) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str("::")?;
            }
            f.write_str(&s.name)?;
        }
        Ok(())
    }
}

/// A type as written, reduced to what name resolution can use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// `Foo`, `Arc<Repo>`, `State<AppState>`, `<T as Trait>::Out` (qualified self dropped).
    Path(Path),
    /// `&T`, `&mut T`, `*const T`.
    Ref(Box<Ty>),
    /// `dyn A + B`.
    Dyn(Vec<Path>),
    /// `impl A + B`.
    Impl(Vec<Path>),
    Tuple(Vec<Ty>),
    /// `[T]`, `[T; N]`.
    Slice(Box<Ty>),
    /// `fn(..)`, `!`, `_`, macros.
    Other,
}

/// A pattern, reduced to the bindings it makes and the type it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pat {
    Ident(String),
    /// `State(state)`, `Some(x)`.
    TupleStruct(Path, Vec<Pat>),
    /// `Point { x, y: py }`.
    Struct(Path, Vec<(String, Pat)>),
    Tuple(Vec<Pat>),
    /// `&x`, `(x)`, `x @ ..`, `mut x` collapse to their inner pattern.
    Ref(Box<Pat>),
    /// `a | b`: the first alternative.
    Or(Vec<Pat>),
    Path(Path),
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Int(u64),
    Bool(bool),
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Path {
        path: Path,
        line: u32,
    },
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        line: u32,
    },
    MethodCall {
        receiver: Box<Expr>,
        method: Name,
        /// Boxed slice: empty on almost every call, so it costs no allocation.
        turbofish: Box<[Ty]>,
        args: Vec<Expr>,
        line: u32,
    },
    Field {
        base: Box<Expr>,
        member: Name,
    },
    Closure {
        params: Vec<(Pat, Option<Ty>)>,
        body: Box<Expr>,
        is_async: bool,
        line: u32,
    },
    Block {
        block: Block,
        is_async: bool,
    },
    Lit {
        lit: Lit,
        line: u32,
    },
    /// A macro invocation; `args` are the expressions cleave could read in its tokens.
    Macro {
        path: Path,
        args: Vec<Expr>,
        line: u32,
        /// The tokens inside its delimiters, as text, for expanding a
        /// workspace `macro_rules!`; `None` for the standard library's macros.
        tokens: Option<Box<str>>,
    },
    Struct {
        path: Path,
        fields: Vec<(String, Expr)>,
        rest: Option<Box<Expr>>,
    },
    /// `if let P = e` / `let` in conditions.
    Let {
        pat: Box<Pat>,
        expr: Box<Expr>,
    },
    Match {
        expr: Box<Expr>,
        arms: Vec<(Pat, Expr)>,
    },
    If {
        cond: Box<Expr>,
        then: Block,
        els: Option<Box<Expr>>,
    },
    /// `loop`, `while`, `for`.
    Loop {
        pat: Option<Box<Pat>>,
        iter: Option<Box<Expr>>,
        body: Block,
        line: u32,
    },
    /// `e.await`, `e?`, `&e`, `*e`, `(e)`, `e as T`, `-e`, `return e`, `break e`.
    Wrap {
        kind: WrapKind,
        inner: Box<Expr>,
    },
    /// Anything else: its direct sub-expressions.
    Other(Vec<Expr>),
}

/// One `(matcher) => { transcriber }` rule of a `macro_rules!`, each side's
/// tokens inside its delimiters, as text (syn's tokens are `!Send`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroRule {
    pub matcher: Box<str>,
    pub transcriber: Box<str>,
    /// Whether its body with `$var`s made plain reads as statements (`$e
    /// $tt` pieces such as `ErrorEvent $event` do not, until substituted).
    pub plain_reads: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WrapKind {
    Await,
    Try,
    Ref,
    Deref,
    Paren,
    Cast,
    Unary,
    Return,
    Break,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// First and last line of each statement (same order as `stmts`), where known.
    pub lines: Box<[(u32, u32)]>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    Let {
        pat: Box<Pat>,
        ty: Option<Box<Ty>>,
        init: Option<Expr>,
        els: Option<Box<Block>>,
    },
    /// An expression without a trailing semicolon (a block's tail when last).
    Expr(Expr),
    /// An expression statement ending in `;`.
    Semi(Expr),
    Item(Box<Item>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vis {
    Public,
    /// `pub(crate)`, `pub(super)`, `pub(in ..)`.
    Restricted,
    Private,
}

/// An attribute: `#[get("/p", rank = 2)]` has path `get`, `strings = ["/p"]`,
/// `named = [("rank", "2")]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    pub path: Path,
    pub strings: Vec<String>,
    pub named: Vec<(String, String)>,
    /// Bare paths in the argument list (`#[derive(Clone, Debug)]`).
    pub words: Vec<String>,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub name: String,
    pub kind: ItemKind,
    pub vis: Vis,
    /// The line of the item itself, after attributes and doc comments.
    pub line: u32,
    pub end_line: u32,
    pub attrs: Vec<Attr>,
    /// `cfg(...)` conditions on the item, as written (`test`, `feature = "x"`).
    pub cfg: Vec<String>,
}

impl Item {
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.path.last() == Some(name))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    Fn(Box<FnDef>),
    Mod {
        /// `Some` for `mod x { .. }`, `None` for `mod x;`.
        inline: Option<Vec<Item>>,
        /// `#[path = ".."]`.
        path_attr: Option<String>,
    },
    Use(Vec<UseEntry>),
    Struct {
        fields: Vec<(String, Ty)>,
        generics: Vec<Generic>,
        /// The attributes of fields that say where a value comes from
        /// (clap's `#[arg(env = "X")]`, `#[serde(default)]`), by field
        /// index; empty on almost every struct.
        field_attrs: Box<[(usize, Attr)]>,
    },
    Enum {
        variants: Vec<String>,
        /// Each variant's fields (`"0"`, `"1"` for tuple variants).
        variant_fields: Vec<Vec<(String, Ty)>>,
        /// clap's attributes on variants (`#[command(name = "up")]`), by
        /// variant index; empty on almost every enum.
        variant_attrs: Box<[(usize, Attr)]>,
    },
    Union,
    Trait {
        items: Vec<Item>,
        supertraits: Vec<Path>,
    },
    Impl(Box<ImplDef>),
    Static {
        ty: Ty,
        init: Box<Expr>,
        mutable: bool,
    },
    Const {
        ty: Ty,
        init: Box<Expr>,
    },
    TypeAlias {
        ty: Ty,
        /// Its type parameters (`T` of `type ApiResult<T> = Result<T, Error>`).
        params: Vec<String>,
    },
    MacroRules {
        /// Each rule's transcriber, read as statements where possible.
        bodies: Vec<Block>,
        /// The rules as written, for expanding one call (`parse::expand_macro`).
        rules: Vec<MacroRule>,
    },
    ExternCrate {
        krate: String,
    },
    /// An item-position macro call (`lazy_static! {..}`, `thread_local! {..}`):
    /// the items its tokens read as. (Its tokens are not also read as
    /// expressions, as an expression macro's are: no stage looks for calls in
    /// an item macro outside its items, and on a large workspace that second
    /// reading was a sixth of all lowering.)
    MacroCall {
        path: Path,
        items: Vec<Item>,
        text: String,
    },
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ImplDef {
    pub self_ty: Ty,
    pub trait_: Option<Path>,
    pub generics: Vec<Generic>,
    pub items: Vec<Item>,
}

/// A generic parameter and its trait bounds (`T: Repo + Send`), including `where` clauses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generic {
    pub name: String,
    pub bounds: Vec<Path>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FnDef {
    pub is_async: bool,
    /// `Some` when the fn takes `self`.
    pub receiver: Option<Receiver>,
    pub params: Vec<(Pat, Ty)>,
    pub ret: Option<Ty>,
    pub generics: Vec<Generic>,
    /// `None` for a trait method without a default body.
    pub body: Option<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Receiver {
    /// `self: Arc<Self>` gives that type; plain `self`/`&self` give `Self`.
    pub ty: Ty,
}

/// One leaf of a `use` tree: `use a::{b as c, d::*}` gives two entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseEntry {
    pub leading_colon: bool,
    pub path: Vec<String>,
    pub kind: UseKind,
    pub line: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UseKind {
    /// `use a::b;` (`alias` = `b`) or `use a::b as c;` (`alias` = `c`).
    /// `use a::b::{self}` is a `Name` with the last path segment.
    Name {
        alias: String,
    },
    Glob,
}

/// A parsed source file.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    pub items: Vec<Item>,
    /// `#![cfg(..)]` and other inner attributes.
    pub inner_attrs: Vec<Attr>,
    pub lines: u32,
}

impl Expr {
    /// Calls `f` on this expression and every expression inside it, including
    /// closures, async blocks, nested blocks and macro arguments (not nested items).
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Path { .. } | Expr::Lit { .. } => {}
            Expr::Call { func, args, .. } => {
                func.walk(f);
                args.iter().for_each(|a| a.walk(f));
            }
            Expr::MethodCall { receiver, args, .. } => {
                receiver.walk(f);
                args.iter().for_each(|a| a.walk(f));
            }
            Expr::Field { base, .. } => base.walk(f),
            Expr::Closure { body, .. } => body.walk(f),
            Expr::Block { block, .. } => block.walk(f),
            Expr::Macro { args, .. } | Expr::Other(args) => args.iter().for_each(|a| a.walk(f)),
            Expr::Struct { fields, rest, .. } => {
                fields.iter().for_each(|(_, e)| e.walk(f));
                if let Some(r) = rest {
                    r.walk(f);
                }
            }
            Expr::Let { expr, .. } => expr.walk(f),
            Expr::Match { expr, arms } => {
                expr.walk(f);
                arms.iter().for_each(|(_, e)| e.walk(f));
            }
            Expr::If { cond, then, els } => {
                cond.walk(f);
                then.walk(f);
                if let Some(e) = els {
                    e.walk(f);
                }
            }
            Expr::Loop { iter, body, .. } => {
                if let Some(i) = iter {
                    i.walk(f);
                }
                body.walk(f);
            }
            Expr::Wrap { inner, .. } => inner.walk(f),
        }
    }

    /// The line of the expression's head, where known.
    pub fn line(&self) -> Option<u32> {
        match self {
            Expr::Path { line, .. }
            | Expr::Call { line, .. }
            | Expr::MethodCall { line, .. }
            | Expr::Closure { line, .. }
            | Expr::Lit { line, .. }
            | Expr::Macro { line, .. }
            | Expr::Loop { line, .. } => Some(*line),
            Expr::Field { base, .. } => base.line(),
            Expr::Wrap { inner, .. } => inner.line(),
            Expr::Other(xs) => xs.iter().find_map(Expr::line),
            _ => None,
        }
    }

    /// The string value of a literal (through parens and references).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Expr::Lit {
                lit: Lit::Str(s), ..
            } => Some(s),
            Expr::Wrap { inner, .. } => inner.as_str(),
            _ => None,
        }
    }

    /// The expression without `(..)`, `&`, `.await`, `?` around it.
    pub fn peel(&self) -> &Expr {
        match self {
            Expr::Wrap {
                kind: WrapKind::Paren | WrapKind::Ref | WrapKind::Await | WrapKind::Try,
                inner,
            } => inner.peel(),
            _ => self,
        }
    }
}

impl Block {
    /// Calls `f` on every expression of the block (see [`Expr::walk`]), not nested items.
    pub fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        for stmt in &self.stmts {
            match stmt {
                Stmt::Let { init, els, .. } => {
                    if let Some(e) = init {
                        e.walk(f);
                    }
                    if let Some(b) = els {
                        b.walk(f);
                    }
                }
                Stmt::Expr(e) | Stmt::Semi(e) => e.walk(f),
                Stmt::Item(_) => {}
            }
        }
    }

    /// Every block inside this one, itself first (closures and async blocks
    /// included).
    pub fn blocks(&self) -> Vec<&Block> {
        let mut out = vec![self];
        self.walk(&mut |e| match e {
            Expr::Block { block, .. } => out.push(block),
            Expr::If { then, .. } => out.push(then),
            Expr::Loop { body, .. } => out.push(body),
            _ => {}
        });
        out
    }

    /// The block's tail expression, if it has one.
    pub fn tail(&self) -> Option<&Expr> {
        match self.stmts.last() {
            Some(Stmt::Expr(e)) => Some(e),
            _ => None,
        }
    }
}
