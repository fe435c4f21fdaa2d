//! Parse: source text -> [`SourceFile`], the lowered syntax tree.
//!
//! Input is one file's text; output is its items with line numbers, or the
//! line and message of the first syntax error. Runs `syn` on the calling
//! thread and lowers the tree before returning, because syn's nodes are
//! `!Send`; then clears proc-macro2's thread-local source map so memory does
//! not grow with the number of files parsed. Macro invocations are read as
//! far as their tokens parse as expressions or statements; what cannot be
//! read is skipped (the caller decides whether that deserves a diagnostic).
//! Doc comments are not kept; identifiers of paths, methods and fields are
//! interned ([`Names`]); `load` has inline test modules cut to the modules
//! they declare ([`parse_source_in`]). A file nested too deeply to walk (see
//! `parse/nesting.rs`) is refused like a syntax error. Never touches the disk.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use proc_macro2::{Delimiter, Spacing, TokenStream, TokenTree};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;

mod docs;
mod lines;
mod macro_rules;
mod nesting;

pub use macro_rules::{Expansion, expand as expand_macro, rule_of as macro_rule_of};

use crate::load::Package;
use crate::syntax::{
    Attr, Block, Expr, FnDef, Generic, ImplDef, Item, ItemKind, Lit, Names, Pat, Path, Receiver,
    Segment, SourceFile, Stmt, Ty, UseEntry, UseKind, Vis, WrapKind,
};

/// A syntax error: where and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: u32,
    pub message: String,
}

/// Parses and lowers one file. Call on any thread; the result is `Send`.
/// A file nested deeper than `nesting::MAX_NESTING` is refused as a
/// syntax error at the line where it gets too deep.
pub fn parse_source(text: &str) -> Result<SourceFile, SyntaxError> {
    parse_source_in(text, Names::session(), false, None)
}

/// [`parse_source`], sharing its names with every file parsed in the same
/// interning `session` on this thread ([`Names`]). With `cut_tests`, an
/// inline `#[cfg(test)]` module keeps only the modules it declares (see
/// `module_items`): for a caller that reads test modules no further. With
/// the file's `package`, a statement under a `cfg` its features leave out is
/// not lowered (see `kept`).
pub fn parse_source_in(
    text: &str,
    session: u64,
    cut_tests: bool,
    package: Option<&Arc<Package>>,
) -> Result<SourceFile, SyntaxError> {
    Names::enter(session);
    CUT_TESTS.with(|c| c.set(cut_tests));
    GATE.with(|g| *g.borrow_mut() = package.cloned());
    let read = match nesting::scan(text, nesting::MAX_NESTING) {
        Ok(read) => read,
        Err(line) => {
            return Err(SyntaxError {
                line,
                message: format!(
                    "code nested deeper than cleave reads (about {} levels)",
                    nesting::MAX_NESTING
                ),
            });
        }
    };
    let result = match syn::parse_file(&read) {
        Ok(file) => Ok(SourceFile {
            items: module_items(&file.items),
            inner_attrs: list(file.attrs.iter().filter(|a| !is_doc(a)).map(attr)),
            lines: line_count(text),
        }),
        Err(err) => Err(SyntaxError {
            line: err.span().start().line as u32,
            message: err.to_string(),
        }),
    };
    proc_macro2::extra::invalidate_current_thread_spans();
    GATE.with(|g| *g.borrow_mut() = None);
    result
}

/// `text.lines().count()`, counted as bytes (a tenth of the time).
fn line_count(text: &str) -> u32 {
    let newlines = text.bytes().filter(|b| *b == b'\n').count();
    (newlines + usize::from(!text.is_empty() && !text.ends_with('\n'))) as u32
}

/// The first line of a node. `Spanned::span` prints the node to tokens to
/// find its ends, so it costs as much as the node is big: use it only on
/// small nodes, and [`line_at`] with a token's own span everywhere else.
fn line_of<T: Spanned>(node: &T) -> u32 {
    node.span().start().line as u32
}

/// The line a span starts on.
fn line_at(span: proc_macro2::Span) -> u32 {
    span.start().line as u32
}

/// The line a span ends on.
fn end_at(span: proc_macro2::Span) -> u32 {
    span.end().line as u32
}

/// The line of a path's first token (`::` or its first segment).
fn path_line(p: &syn::Path) -> u32 {
    match (&p.leading_colon, p.segments.first()) {
        (Some(c), _) => line_at(c.spans[0]),
        (None, Some(s)) => line_at(s.ident.span()),
        (None, None) => line_of(p),
    }
}

/// Where a braced or delimited body ends.
fn close_line(d: &proc_macro2::extra::DelimSpan) -> u32 {
    end_at(d.close())
}

/// The line of the first token of an item that prints `attrs`, then `vis`,
/// then `first` (the item's keyword).
fn item_start(attrs: &[syn::Attribute], v: &syn::Visibility, first: proc_macro2::Span) -> u32 {
    if let Some(a) = attrs
        .iter()
        .find(|a| matches!(a.style, syn::AttrStyle::Outer))
    {
        return line_at(a.pound_token.span);
    }
    match v {
        syn::Visibility::Public(t) => line_at(t.span),
        syn::Visibility::Restricted(r) => line_at(r.pub_token.span),
        syn::Visibility::Inherited => line_at(first),
    }
}

/// Where a macro invocation ends: its `;`, else its closing delimiter.
fn mac_end(m: &syn::Macro, semi: Option<&syn::Token![;]>) -> u32 {
    match semi {
        Some(s) => end_at(s.span),
        None => close_line(m.delimiter.span()),
    }
}

fn vis(v: &syn::Visibility) -> Vis {
    match v {
        syn::Visibility::Public(_) => Vis::Public,
        syn::Visibility::Restricted(_) => Vis::Restricted,
        syn::Visibility::Inherited => Vis::Private,
    }
}

/// The item line as the call-graph contract defines it: the first of `vis`,
/// `defaultness`, `sig`, whichever is written.
fn fn_line(
    v: &syn::Visibility,
    defaultness: Option<&syn::Token![default]>,
    sig: &syn::Signature,
) -> u32 {
    match v {
        syn::Visibility::Public(t) => return line_at(t.span),
        syn::Visibility::Restricted(r) => return line_at(r.pub_token.span),
        syn::Visibility::Inherited => {}
    }
    if let Some(d) = defaultness {
        return line_at(d.span);
    }
    // The signature's first token, as `Spanned` would find it.
    let first = sig
        .constness
        .map(|t| t.span)
        .or(sig.asyncness.map(|t| t.span))
        .or(match &sig.safety {
            syn::Safety::Safe(t) => Some(t.span),
            syn::Safety::Unsafe(t) => Some(t.span),
            syn::Safety::Default => None,
        })
        .or(sig.abi.as_ref().map(|a| a.extern_token.span))
        .unwrap_or(sig.fn_token.span);
    line_at(first)
}

fn attr(a: &syn::Attribute) -> Attr {
    let mut out = Attr {
        path: path(a.path()),
        strings: Vec::new(),
        named: Vec::new(),
        words: Vec::new(),
        line: line_at(a.pound_token.span),
    };
    match &a.meta {
        syn::Meta::Path(_) => {}
        syn::Meta::NameValue(nv) => {
            if let syn::Expr::Lit(l) = &nv.value
                && let syn::Lit::Str(s) = &l.lit
            {
                out.strings.push(s.value());
            }
        }
        syn::Meta::List(list) => {
            let args = plain_args(&list.tokens).unwrap_or_else(|| list_args(&list.tokens));
            (out.strings, out.named, out.words) = args;
        }
    }
    out
}

/// An attribute's arguments read as a comma list of expressions: strings,
/// `name = value` pairs and the rest as words; tokens that are no such
/// list are one word.
fn list_args(tokens: &TokenStream) -> PlainArgs {
    let (mut strings, mut named, mut words) = (Vec::new(), Vec::new(), Vec::new());
    let parsed = Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated.parse2(tokens.clone());
    let Ok(args) = parsed else {
        return (strings, named, vec![tokens.to_string()]);
    };
    for arg in args {
        match arg {
            syn::Expr::Lit(l) => {
                if let syn::Lit::Str(s) = &l.lit {
                    strings.push(s.value());
                }
            }
            syn::Expr::Assign(a) => {
                let name = expr_text(&a.left);
                let value = match &*a.right {
                    syn::Expr::Lit(l) => match &l.lit {
                        syn::Lit::Str(s) => s.value(),
                        other => quote::ToTokens::to_token_stream(other).to_string(),
                    },
                    other => expr_text(other),
                };
                named.push((name, value));
            }
            syn::Expr::Path(p) => words.push(path(&p.path).to_string()),
            other => words.push(expr_text(&other)),
        }
    }
    (strings, named, words)
}

/// The arguments of an attribute list made only of plain identifiers and
/// paths, `name = "string"` pairs and strings (`derive(Debug, Clone)`,
/// `serde(rename = "id", default)`, `get("/x")`), read off the tokens:
/// what reading each as an expression gives (strings, named strings,
/// words), without the expression parser. `None` for anything else,
/// keywords included (`true`, `self`, `_`), so that the caller parses
/// those ([`list_args`]).
fn plain_args(tokens: &TokenStream) -> Option<PlainArgs> {
    // Sorted, for `binary_search`.
    #[rustfmt::skip]
    const KEYWORDS: [&str; 58] = [
        "Self", "_", "abstract", "as", "async", "auto", "await", "become", "box", "break",
        "const", "continue", "crate", "do", "dyn", "else", "enum", "extern", "false", "final",
        "fn", "for", "gen", "if", "impl", "in", "let", "loop", "macro", "macro_rules", "match",
        "mod", "move", "mut", "override", "priv", "pub", "raw", "ref", "return", "safe", "self",
        "static", "struct", "super", "trait", "true", "try", "type", "typeof", "union",
        "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
    ];
    let word = |i: proc_macro2::Ident| {
        let w = i.to_string();
        let keyword = w.starts_with("r#") || KEYWORDS.binary_search(&w.as_str()).is_ok();
        (!keyword).then_some(w)
    };
    let string = |tt: Option<TokenTree>| match tt {
        Some(TokenTree::Literal(l)) => match syn::Lit::new(l) {
            syn::Lit::Str(s) => Some(s.value()),
            _ => None,
        },
        _ => None,
    };
    let (mut strings, mut named, mut words) = (Vec::new(), Vec::new(), Vec::new());
    let mut tts = tokens.clone().into_iter().peekable();
    while let Some(tt) = tts.next() {
        match tt {
            TokenTree::Ident(i) => {
                // A word, or a path of words (`serde::Serialize`).
                let mut w = word(i)?;
                while let Some(TokenTree::Punct(p)) = tts.peek()
                    && p.as_char() == ':'
                {
                    tts.next();
                    match (tts.next(), tts.next()) {
                        (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(i)))
                            if p.as_char() == ':' =>
                        {
                            w.push_str("::");
                            w.push_str(&word(i)?);
                        }
                        _ => return None,
                    }
                }
                match tts.peek() {
                    Some(TokenTree::Punct(p)) if p.as_char() == '=' => {
                        if p.spacing() != Spacing::Alone {
                            return None;
                        }
                        tts.next();
                        named.push((w, string(tts.next())?));
                    }
                    _ => words.push(w),
                }
            }
            lit @ TokenTree::Literal(_) => strings.push(string(Some(lit))?),
            _ => return None,
        }
        match tts.next() {
            None => break,
            Some(TokenTree::Punct(p)) if p.as_char() == ',' => {}
            Some(_) => return None,
        }
    }
    Some((strings, named, words))
}

/// An attribute's arguments as [`Attr`] keeps them: strings, named
/// strings, words.
type PlainArgs = (Vec<String>, Vec<(String, String)>, Vec<String>);

fn expr_text(e: &syn::Expr) -> String {
    quote::ToTokens::to_token_stream(e)
        .to_string()
        .replace(' ', "")
}

fn cfgs(attrs: &[Attr]) -> Vec<String> {
    list(attrs.iter().filter(|a| a.path.is_ident("cfg")).map(|a| {
        if let Some((k, v)) = a.named.first() {
            format!("{k} = \"{v}\"")
        } else {
            a.words.join(", ")
        }
    }))
}

/// Collects a lowered list with no spare room. `collect` keeps room for at
/// least four items when the iterator is not `TrustedLen` (syn's
/// `Punctuated`, `filter`), and a lowered file is mostly short lists, so
/// spare room would be most of its memory.
fn list<T>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let items = items.into_iter();
    let (low, high) = items.size_hint();
    let mut out = Vec::with_capacity(high.unwrap_or(low));
    out.extend(items);
    out.shrink_to_fit();
    out
}

fn new_item(
    name: String,
    kind: ItemKind,
    v: Vis,
    line: u32,
    end_line: u32,
    attrs: &[syn::Attribute],
) -> Item {
    let attrs: Vec<Attr> = list(attrs.iter().filter(|a| !is_doc(a)).map(attr));
    Item {
        name,
        kind,
        vis: v,
        line,
        end_line,
        cfg: cfgs(&attrs),
        attrs,
    }
}

fn end_of<T: Spanned>(node: &T) -> u32 {
    node.span().end().line as u32
}

/// Doc comments (`///`, `//!`, `#[doc = ..]`): nothing downstream reads them,
/// and they are a third of a well-documented crate, so they are not lowered.
fn is_doc(a: &syn::Attribute) -> bool {
    a.path().is_ident("doc")
}

fn item(it: &syn::Item) -> Item {
    match it {
        syn::Item::Fn(f) => new_item(
            id(&f.sig.ident),
            ItemKind::Fn(Box::new(fn_def(&f.sig, Some(&f.block)))),
            vis(&f.vis),
            fn_line(&f.vis, None, &f.sig),
            close_line(&f.block.brace_token.span),
            &f.attrs,
        ),
        syn::Item::Mod(m) => module(m, module_items),
        syn::Item::Use(u) => {
            let mut entries = Vec::new();
            use_tree(
                &u.tree,
                &mut Vec::new(),
                u.leading_colon.is_some(),
                &mut entries,
            );
            entries.shrink_to_fit();
            new_item(
                String::new(),
                ItemKind::Use(entries),
                vis(&u.vis),
                item_start(&u.attrs, &u.vis, u.use_token.span),
                end_at(u.semi_token.span),
                &u.attrs,
            )
        }
        syn::Item::Struct(s) => new_item(
            id(&s.ident),
            ItemKind::Struct {
                fields: fields(&s.fields),
                generics: generics(&s.generics),
                field_attrs: field_attrs(&s.fields),
            },
            vis(&s.vis),
            line_at(s.ident.span()),
            match (&s.fields, &s.semi_token) {
                (_, Some(semi)) => end_at(semi.span),
                (syn::Fields::Named(f), None) => close_line(&f.brace_token.span),
                _ => end_of(s),
            },
            &s.attrs,
        ),
        syn::Item::Enum(e) => new_item(
            id(&e.ident),
            ItemKind::Enum {
                variants: list(e.variants.iter().map(|v| id(&v.ident))),
                variant_fields: list(e.variants.iter().map(|v| fields(&v.fields))),
                variant_attrs: e
                    .variants
                    .iter()
                    .enumerate()
                    .flat_map(|(i, v)| kept_attrs(&v.attrs, &CLAP_ATTRS).map(move |a| (i, a)))
                    .collect(),
            },
            vis(&e.vis),
            line_at(e.ident.span()),
            close_line(&e.brace_token.span),
            &e.attrs,
        ),
        syn::Item::Union(u) => new_item(
            id(&u.ident),
            ItemKind::Union,
            vis(&u.vis),
            line_at(u.ident.span()),
            close_line(&u.fields.brace_token.span),
            &u.attrs,
        ),
        syn::Item::Trait(t) => new_item(
            id(&t.ident),
            ItemKind::Trait {
                items: {
                    let mut items: Vec<Item> = list(t.items.iter().filter_map(trait_item));
                    async_trait_lines(&t.attrs, &mut items);
                    items
                },
                supertraits: bounds(t.supertraits.iter()),
            },
            vis(&t.vis),
            line_at(t.ident.span()),
            close_line(&t.brace_token.span),
            &t.attrs,
        ),
        syn::Item::Impl(i) => {
            let mut items: Vec<Item> = list(i.items.iter().filter_map(impl_item));
            async_trait_lines(&i.attrs, &mut items);
            new_item(
                String::new(),
                ItemKind::Impl(Box::new(ImplDef {
                    self_ty: ty(&i.self_ty),
                    trait_: i.trait_.as_ref().map(|(p, _)| path(p)),
                    generics: generics(&i.generics),
                    items,
                })),
                Vis::Private,
                line_at(i.impl_token.span),
                close_line(&i.brace_token.span),
                &i.attrs,
            )
        }
        syn::Item::Static(s) => new_item(
            id(&s.ident),
            ItemKind::Static {
                ty: ty(&s.ty),
                init: Box::new(expr(&s.expr)),
                mutable: matches!(s.mutability, syn::StaticMutability::Mut(_)),
            },
            vis(&s.vis),
            line_at(s.ident.span()),
            end_at(s.semi_token.span),
            &s.attrs,
        ),
        syn::Item::Const(c) => new_item(
            id(&c.ident),
            ItemKind::Const {
                ty: ty(&c.ty),
                init: Box::new(expr(&c.expr)),
            },
            vis(&c.vis),
            line_at(c.ident.span()),
            end_at(c.semi_token.span),
            &c.attrs,
        ),
        syn::Item::Type(t) => new_item(
            id(&t.ident),
            ItemKind::TypeAlias {
                ty: ty(&t.ty),
                params: list(t.generics.type_params().map(|g| id(&g.ident))),
            },
            vis(&t.vis),
            line_at(t.ident.span()),
            end_at(t.semi_token.span),
            &t.attrs,
        ),
        syn::Item::ExternCrate(e) => new_item(
            e.rename
                .as_ref()
                .map(|(_, r)| id(r))
                .unwrap_or_else(|| id(&e.ident)),
            ItemKind::ExternCrate {
                krate: id(&e.ident),
            },
            vis(&e.vis),
            line_at(e.ident.span()),
            end_at(e.semi_token.span),
            &e.attrs,
        ),
        syn::Item::Macro(m) => {
            let line = path_line(&m.mac.path);
            if m.mac.path.is_ident("macro_rules") {
                let name = m
                    .ident
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                return new_item(
                    name,
                    ItemKind::MacroRules {
                        bodies: macro_rules_bodies(&m.mac.tokens),
                        rules: macro_rules::rules(&m.mac.tokens),
                    },
                    Vis::Private,
                    line,
                    mac_end(&m.mac, m.semi_token.as_ref()),
                    &m.attrs,
                );
            }
            let items = parse_items(strip_static_ref(m.mac.tokens.clone()))
                .map(|xs| list(xs.iter().map(item)))
                .or_else(|| cfg_arm_items(&m.mac))
                .unwrap_or_default();
            new_item(
                m.ident
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                ItemKind::MacroCall {
                    path: path(&m.mac.path),
                    items,
                    text: m.mac.tokens.to_string(),
                },
                Vis::Private,
                line,
                mac_end(&m.mac, m.semi_token.as_ref()),
                &m.attrs,
            )
        }
        other => new_item(
            String::new(),
            ItemKind::Other,
            Vis::Private,
            line_of(other),
            end_of(other),
            &[],
        ),
    }
}

/// Tokens read as a list of items.
fn parse_items(tokens: TokenStream) -> Option<Vec<syn::Item>> {
    Parser::parse2(
        |input: syn::parse::ParseStream| {
            let mut items = Vec::new();
            while !input.is_empty() {
                items.push(input.parse::<syn::Item>()?);
            }
            Ok(items)
        },
        tokens,
    )
    .ok()
}

/// The items of every arm of `cfg_if! { if #[cfg(p)] { .. } else { .. } }`
/// and `cfg_select! { p => { .. } _ => { .. } }`, each under the cfg that
/// selects its arm: its own predicate and `not(..)` of every arm before it
/// (so the `else` of `#[cfg(windows)]` is Linux's). `None` for other macros
/// and for tokens of another shape.
fn cfg_arm_items(mac: &syn::Macro) -> Option<Vec<Item>> {
    let name = id(&mac.path.segments.last()?.ident);
    let tokens: Vec<TokenTree> = mac.tokens.clone().into_iter().collect();
    let arms = match name.as_str() {
        "cfg_if" => cfg_if_arms(&tokens)?,
        "cfg_select" => cfg_select_arms(&tokens)?,
        _ => return None,
    };
    let mut out = Vec::new();
    let mut before: Vec<TokenStream> = Vec::new();
    for (pred, body) in arms {
        let mut cfg: Vec<String> = before
            .iter()
            .filter_map(|p| cfg_string(&quote::quote!(not(#p))))
            .collect();
        if let Some(p) = &pred {
            cfg.extend(cfg_string(p));
            before.push(p.clone());
        }
        for syn_item in parse_items(body)? {
            let mut it = item(&syn_item);
            it.cfg.extend(cfg.iter().cloned());
            out.push(it);
        }
    }
    Some(out)
}

/// `if #[cfg(p)] { .. } else if #[cfg(q)] { .. } else { .. }`: (predicate, body) per arm.
fn cfg_if_arms(tokens: &[TokenTree]) -> Option<Vec<(Option<TokenStream>, TokenStream)>> {
    let mut arms = Vec::new();
    let mut i = 0;
    loop {
        let pred = match tokens.get(i) {
            Some(TokenTree::Ident(kw)) if kw == "if" => {
                let (Some(TokenTree::Punct(pound)), Some(TokenTree::Group(attr))) =
                    (tokens.get(i + 1), tokens.get(i + 2))
                else {
                    return None;
                };
                if pound.as_char() != '#' || attr.delimiter() != Delimiter::Bracket {
                    return None;
                }
                let inner: Vec<TokenTree> = attr.stream().into_iter().collect();
                let [TokenTree::Ident(cfg), TokenTree::Group(args)] = inner.as_slice() else {
                    return None;
                };
                if cfg != "cfg" || args.delimiter() != Delimiter::Parenthesis {
                    return None;
                }
                i += 3;
                Some(args.stream())
            }
            _ if !arms.is_empty() => None,
            _ => return None,
        };
        let Some(TokenTree::Group(body)) = tokens.get(i) else {
            return None;
        };
        if body.delimiter() != Delimiter::Brace {
            return None;
        }
        let last = pred.is_none();
        arms.push((pred, body.stream()));
        i += 1;
        match tokens.get(i) {
            None => return Some(arms),
            Some(TokenTree::Ident(kw)) if kw == "else" && !last => i += 1,
            Some(_) => return None,
        }
    }
}

/// `p => { .. } q => { .. } _ => { .. }` (commas between arms allowed):
/// (predicate, body) per arm, `None` for `_`.
fn cfg_select_arms(tokens: &[TokenTree]) -> Option<Vec<(Option<TokenStream>, TokenStream)>> {
    let mut arms = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let start = i;
        // The predicate runs up to `=>`.
        while !matches!(
            (tokens.get(i), tokens.get(i + 1)),
            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                if a.as_char() == '=' && a.spacing() == Spacing::Joint && b.as_char() == '>'
        ) {
            if i >= tokens.len() {
                return None;
            }
            i += 1;
        }
        let pred: TokenStream = tokens[start..i].iter().cloned().collect();
        let Some(TokenTree::Group(body)) = tokens.get(i + 2) else {
            return None;
        };
        if body.delimiter() != Delimiter::Brace || start == i {
            return None;
        }
        let wildcard = matches!(&tokens[start..i], [TokenTree::Ident(w)] if w == "_");
        arms.push(((!wildcard).then_some(pred), body.stream()));
        i += 3;
        if matches!(tokens.get(i), Some(TokenTree::Punct(c)) if c.as_char() == ',') {
            i += 1;
        }
    }
    Some(arms)
}

/// A cfg predicate as [`cfgs`] writes the one of `#[cfg(p)]`.
fn cfg_string(pred: &TokenStream) -> Option<String> {
    let attrs = Parser::parse2(syn::Attribute::parse_outer, quote::quote!(#[cfg(#pred)])).ok()?;
    let lowered: Vec<Attr> = list(attrs.iter().map(attr));
    cfgs(&lowered).into_iter().next()
}

/// A `mod` item; `contents` lowers the items of an inline one.
fn module(m: &syn::ItemMod, contents: fn(&[syn::Item]) -> Vec<Item>) -> Item {
    let attrs: Vec<Attr> = list(m.attrs.iter().map(attr));
    let path_attr = attrs
        .iter()
        .find(|a| a.path.is_ident("path"))
        .and_then(|a| a.strings.first().cloned());
    new_item(
        id(&m.ident),
        ItemKind::Mod {
            inline: m.content.as_ref().map(|(_, items)| contents(items)),
            path_attr,
        },
        vis(&m.vis),
        line_at(m.ident.span()),
        match &m.content {
            Some((brace, _)) => close_line(&brace.span),
            None => m.semi.map_or_else(|| end_of(m), |t| end_at(t.span)),
        },
        &m.attrs,
    )
}

thread_local! {
    /// Whether the file lowered on this thread may cut test modules.
    static CUT_TESTS: Cell<bool> = const { Cell::new(false) };
    /// The package whose features decide the `cfg`s of the statements of
    /// the file lowered on this thread (`None`: every statement is kept).
    static GATE: RefCell<Option<Arc<Package>>> = const { RefCell::new(None) };
}

/// Whether a statement is lowered: one under a `cfg` the package's features
/// leave out (`#[cfg(feature = "cors")] let app = app.wrap(cors());` with
/// `cors` off) is not, as `resolve` leaves out such items. Items in a body
/// keep their `cfg` for `resolve` to decide.
fn kept(s: &syn::Stmt) -> bool {
    let attrs: &[syn::Attribute] = match s {
        syn::Stmt::Local(l) => &l.attrs,
        syn::Stmt::Macro(m) => &m.attrs,
        syn::Stmt::Expr(e, _) => expr_attrs(e),
        syn::Stmt::Item(_) => return true,
    };
    if !attrs.iter().any(|a| a.path().is_ident("cfg")) {
        return true;
    }
    GATE.with(|g| match &*g.borrow() {
        Some(package) => {
            let cfg = cfgs(&list(attrs.iter().map(attr)));
            !crate::resolve::left_out(&cfg, package)
        }
        None => true,
    })
}

/// The outer attributes of an expression statement: syn puts them on the
/// leftmost operand of an assignment, a binary operation or a cast
/// (`#[cfg(..)] router = router.route(..);` holds them on `router`).
fn expr_attrs(mut e: &syn::Expr) -> &[syn::Attribute] {
    loop {
        e = match e {
            syn::Expr::Assign(x) => &x.left,
            syn::Expr::Binary(x) => &x.left,
            syn::Expr::Cast(x) => &x.expr,
            _ => break,
        };
    }
    match e {
        syn::Expr::Async(x) => &x.attrs,
        syn::Expr::Await(x) => &x.attrs,
        syn::Expr::Block(x) => &x.attrs,
        syn::Expr::Call(x) => &x.attrs,
        syn::Expr::Field(x) => &x.attrs,
        syn::Expr::ForLoop(x) => &x.attrs,
        syn::Expr::If(x) => &x.attrs,
        syn::Expr::Index(x) => &x.attrs,
        syn::Expr::Loop(x) => &x.attrs,
        syn::Expr::Macro(x) => &x.attrs,
        syn::Expr::Match(x) => &x.attrs,
        syn::Expr::MethodCall(x) => &x.attrs,
        syn::Expr::Paren(x) => &x.attrs,
        syn::Expr::Path(x) => &x.attrs,
        syn::Expr::Reference(x) => &x.attrs,
        syn::Expr::Try(x) => &x.attrs,
        syn::Expr::Unary(x) => &x.attrs,
        syn::Expr::Unsafe(x) => &x.attrs,
        syn::Expr::While(x) => &x.attrs,
        _ => &[],
    }
}

/// The items of a file or of an inline module.
///
/// When cutting ([`parse_source_in`]), an inline `#[cfg(test)] mod` keeps
/// only the modules it declares (its `mod` items and item macros, which
/// `load` follows): no later stage reads a test module's items (`resolve`
/// skips test modules, and every other stage reaches modules through it),
/// and test modules are a sixth of a well-tested crate. Only a test module
/// with no sibling of its name and no item macro beside it (which could
/// declare one) is cut; `load` checks that no module of the crate shares a
/// path with another, and reads the files again uncut if one does.
fn module_items(items: &[syn::Item]) -> Vec<Item> {
    if !CUT_TESTS.with(Cell::get) {
        return list(items.iter().map(item));
    }
    let macros = items
        .iter()
        .any(|i| matches!(i, syn::Item::Macro(m) if !m.mac.path.is_ident("macro_rules")));
    let mods: Vec<&syn::Ident> = items
        .iter()
        .filter_map(|i| match i {
            syn::Item::Mod(m) => Some(&m.ident),
            _ => None,
        })
        .collect();
    list(items.iter().map(|i| match i {
        syn::Item::Mod(m)
            if !macros
                && m.content.is_some()
                && mods.iter().filter(|n| **n == &m.ident).count() == 1
                && is_cfg_test(&m.attrs) =>
        {
            module(m, test_module_items)
        }
        other => item(other),
    }))
}

/// What `load` reads of a test module's items: the modules they declare.
fn test_module_items(items: &[syn::Item]) -> Vec<Item> {
    list(items.iter().filter_map(|i| match i {
        syn::Item::Mod(m) => Some(module(m, test_module_items)),
        syn::Item::Macro(m) if !m.mac.path.is_ident("macro_rules") => Some(item(i)),
        _ => None,
    }))
}

/// Whether the attributes hold `#[cfg(test)]` (as [`cfgs`] spells it: `test`).
fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg") && {
            let lowered = attr(a);
            cfgs(std::slice::from_ref(&lowered))
                .iter()
                .any(|c| c == "test")
        }
    })
}

/// `#[async_trait]` rewrites the async fns of the impl or trait it is on, and
/// rustc then reports them at the attribute's line; cleave follows rustc so
/// that its nodes match the compiler's.
fn async_trait_lines(attrs: &[syn::Attribute], items: &mut [Item]) {
    let Some(at) = attrs.iter().find(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "async_trait")
    }) else {
        return;
    };
    let line = line_of(at);
    for item in items {
        if let ItemKind::Fn(f) = &item.kind
            && f.is_async
        {
            item.line = line;
        }
    }
}

/// `lazy_static!`'s `static ref X: T = e;` reads as a plain static once `ref` is dropped.
fn strip_static_ref(tokens: TokenStream) -> TokenStream {
    let mut out = Vec::new();
    let mut prev_static = false;
    for tt in tokens {
        if prev_static && matches!(&tt, TokenTree::Ident(i) if i == "ref") {
            prev_static = false;
            continue;
        }
        prev_static = matches!(&tt, TokenTree::Ident(i) if i == "static");
        out.push(tt);
    }
    out.into_iter().collect()
}

fn trait_item(ti: &syn::TraitItem) -> Option<Item> {
    match ti {
        syn::TraitItem::Fn(f) => Some(new_item(
            id(&f.sig.ident),
            ItemKind::Fn(Box::new(fn_def(&f.sig, f.default.as_ref()))),
            Vis::Public,
            fn_line(
                &syn::Visibility::Inherited,
                f.modifiers.defaultness.as_ref(),
                &f.sig,
            ),
            match (&f.default, &f.semi_token) {
                (Some(b), _) => close_line(&b.brace_token.span),
                (None, Some(semi)) => end_at(semi.span),
                (None, None) => end_of(f),
            },
            &f.attrs,
        )),
        _ => None,
    }
}

fn impl_item(ii: &syn::ImplItem) -> Option<Item> {
    match ii {
        syn::ImplItem::Fn(f) => Some(new_item(
            id(&f.sig.ident),
            ItemKind::Fn(Box::new(fn_def(&f.sig, Some(&f.block)))),
            vis(&f.vis),
            fn_line(&f.vis, f.modifiers.defaultness.as_ref(), &f.sig),
            close_line(&f.block.brace_token.span),
            &f.attrs,
        )),
        syn::ImplItem::Const(c) => Some(new_item(
            id(&c.ident),
            ItemKind::Const {
                ty: ty(&c.ty),
                init: Box::new(expr(&c.expr)),
            },
            vis(&c.vis),
            line_at(c.ident.span()),
            end_at(c.semi_token.span),
            &c.attrs,
        )),
        _ => None,
    }
}

fn fn_def(sig: &syn::Signature, body: Option<&syn::Block>) -> FnDef {
    let mut receiver = None;
    let mut params = Vec::with_capacity(sig.inputs.len());
    for input in &sig.inputs {
        match input {
            syn::FnArg::Receiver(r) => {
                let t = match &r.kind {
                    syn::ReceiverKind::Typed(_, t) => match ty(t) {
                        Ty::Ref(inner) => *inner,
                        other => other,
                    },
                    _ => Ty::Path(Path::from_names(["Self"])),
                };
                receiver = Some(Receiver { ty: t });
            }
            syn::FnArg::Typed(pt) => params.push((pat(&pt.pat), ty(&pt.ty))),
        }
    }
    params.shrink_to_fit();
    FnDef {
        is_async: sig.asyncness.is_some(),
        receiver,
        params,
        ret: match &sig.output {
            syn::ReturnType::Default => None,
            syn::ReturnType::Type(_, t) => Some(ty(t)),
        },
        generics: generics(&sig.generics),
        body: body.map(body_block),
    }
}

fn generics(g: &syn::Generics) -> Vec<Generic> {
    let mut out: Vec<Generic> = list(g.type_params().map(|tp| Generic {
        name: id(&tp.ident),
        bounds: bounds(tp.bounds.iter()),
    }));
    if let Some(wc) = &g.where_clause {
        for pred in &wc.predicates {
            if let syn::WherePredicate::Type(pt) = pred
                && let Ty::Path(p) = ty(&pt.bounded_ty)
                && p.segments.len() == 1
            {
                let name = p.segments[0].name.to_string();
                let extra = bounds(pt.bounds.iter());
                match out.iter_mut().find(|g| g.name == name) {
                    Some(g) => {
                        g.bounds.extend(extra);
                        g.bounds.shrink_to_fit();
                    }
                    None => out.push(Generic {
                        name,
                        bounds: extra,
                    }),
                }
            }
        }
        out.shrink_to_fit();
    }
    out
}

fn bounds<'a>(bs: impl Iterator<Item = &'a syn::TypeParamBound>) -> Vec<Path> {
    list(bs.filter_map(|b| match b {
        syn::TypeParamBound::Trait(t) => Some(path(&t.path)),
        _ => None,
    }))
}

/// An identifier as the code names it: `r#move` is the module `move`.
fn id(i: &syn::Ident) -> String {
    let s = i.to_string();
    match s.strip_prefix("r#") {
        Some(bare) => bare.to_owned(),
        None => s,
    }
}

/// [`id`], interned.
fn id_name(i: &syn::Ident) -> crate::syntax::Name {
    Names::intern_display_without(i, "r#")
}

fn fields(f: &syn::Fields) -> Vec<(String, Ty)> {
    list(f.iter().enumerate().map(|(i, field)| {
        let name = field
            .ident
            .as_ref()
            .map(id)
            .unwrap_or_else(|| i.to_string());
        (name, ty(&field.ty))
    }))
}

/// The attributes of fields that tell where a value comes from: clap's and
/// structopt's (`env = ".."`), envconfig's and serde's (`default`, `rename`),
/// derive_builder's and typed-builder's (`default = ".."`).
fn field_attrs(f: &syn::Fields) -> Box<[(usize, Attr)]> {
    const KEPT: [&str; 6] = ["arg", "clap", "structopt", "envconfig", "serde", "builder"];
    f.iter()
        .enumerate()
        .flat_map(|(i, field)| kept_attrs(&field.attrs, &KEPT).map(move |a| (i, a)))
        .collect()
}

/// clap's and structopt's attributes on a subcommand variant.
const CLAP_ATTRS: [&str; 3] = ["command", "clap", "structopt"];

/// The attributes among `attrs` named by one of `kept`.
fn kept_attrs<'a>(
    attrs: &'a [syn::Attribute],
    kept: &'a [&str],
) -> impl Iterator<Item = Attr> + 'a {
    attrs
        .iter()
        .filter(|a| {
            a.path()
                .get_ident()
                .is_some_and(|id| kept.iter().any(|k| id == k))
        })
        .map(attr)
}

fn use_tree(
    t: &syn::UseTree,
    prefix: &mut Vec<String>,
    leading_colon: bool,
    out: &mut Vec<UseEntry>,
) {
    match t {
        syn::UseTree::Path(p) => {
            prefix.push(id(&p.ident));
            use_tree(&p.tree, prefix, leading_colon, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = id(&n.ident);
            if name == "self" {
                if let Some(last) = prefix.last() {
                    out.push(UseEntry {
                        leading_colon,
                        path: prefix.clone(),
                        kind: UseKind::Name {
                            alias: last.clone(),
                        },
                        line: line_at(n.ident.span()),
                    });
                }
            } else {
                let mut path = prefix.clone();
                path.push(name.clone());
                out.push(UseEntry {
                    leading_colon,
                    path,
                    kind: UseKind::Name { alias: name },
                    line: line_at(n.ident.span()),
                });
            }
        }
        syn::UseTree::Rename(r) => {
            let name = id(&r.ident);
            let mut path = prefix.clone();
            if name != "self" {
                path.push(name);
            }
            out.push(UseEntry {
                leading_colon,
                path,
                kind: UseKind::Name {
                    alias: id(&r.rename),
                },
                line: line_at(r.ident.span()),
            });
        }
        syn::UseTree::Glob(g) => out.push(UseEntry {
            leading_colon,
            path: prefix.clone(),
            kind: UseKind::Glob,
            line: line_at(g.star_token.span),
        }),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                use_tree(t, prefix, leading_colon, out);
            }
        }
    }
}

fn path(p: &syn::Path) -> Path {
    Path {
        leading_colon: p.leading_colon.is_some(),
        segments: list(p.segments.iter().map(|s| {
            Segment {
                name: id_name(&s.ident),
                generics: match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => a
                        .args
                        .iter()
                        .filter_map(|g| match g {
                            syn::GenericArgument::Type(t) => Some(ty(t)),
                            _ => None,
                        })
                        .collect(),
                    _ => Box::default(),
                },
            }
        }))
        .into_boxed_slice(),
    }
}

/// `<T as Trait>::m` -> `T::Trait::m` would be wrong; cleave writes it as
/// `Trait::m` with the self type first in the generics of a `<qself>` segment.
fn qpath(q: Option<&syn::QSelf>, p: &syn::Path) -> Path {
    let mut out = path(p);
    if let Some(q) = q {
        let self_ty = ty(&q.ty);
        if q.position == 0 {
            // `<T>::m`: the type itself.
            let mut segs = match self_ty {
                Ty::Path(tp) => tp.segments.into_vec(),
                _ => vec![Segment {
                    name: Names::intern("<qself>"),
                    generics: Box::new([self_ty]),
                }],
            };
            segs.extend(out.segments);
            out.segments = segs.into_boxed_slice();
            out.leading_colon = false;
        } else {
            // `<T as Trait>::m`: keep the trait path, remember T.
            let mut segs = Vec::with_capacity(out.segments.len() + 1);
            segs.push(Segment {
                name: Names::intern("<qself>"),
                generics: Box::new([self_ty]),
            });
            segs.extend(out.segments);
            out.segments = segs.into_boxed_slice();
            out.leading_colon = false;
        }
    }
    out
}

fn ty(t: &syn::Type) -> Ty {
    match t {
        syn::Type::Path(p) => Ty::Path(qpath(p.qself.as_ref(), &p.path)),
        syn::Type::Reference(r) => Ty::Ref(Box::new(ty(&r.elem))),
        syn::Type::Ptr(p) => Ty::Ref(Box::new(ty(&p.elem))),
        syn::Type::Paren(p) => ty(&p.elem),
        syn::Type::Group(g) => ty(&g.elem),
        syn::Type::TraitObject(o) => Ty::Dyn(bounds(o.bounds.iter())),
        syn::Type::ImplTrait(i) => Ty::Impl(bounds(i.bounds.iter())),
        syn::Type::Tuple(t) => Ty::Tuple(list(t.elems.iter().map(ty))),
        syn::Type::Slice(s) => Ty::Slice(Box::new(ty(&s.elem))),
        syn::Type::Array(a) => Ty::Slice(Box::new(ty(&a.elem))),
        _ => Ty::Other,
    }
}

fn pat(p: &syn::Pat) -> Pat {
    match p {
        syn::Pat::Ident(i) => match &i.subpat {
            Some((_, sub)) => pat(sub),
            None => Pat::Ident(id(&i.ident)),
        },
        syn::Pat::TupleStruct(ts) => Pat::TupleStruct(
            qpath(ts.qself.as_ref(), &ts.path),
            list(ts.elems.iter().map(pat)),
        ),
        syn::Pat::Struct(s) => Pat::Struct(
            qpath(s.qself.as_ref(), &s.path),
            list(s.fields.iter().map(|f| {
                let name = match &f.member {
                    syn::Member::Named(n) => id(n),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                };
                (name, pat(&f.pat))
            })),
        ),
        syn::Pat::Tuple(t) => Pat::Tuple(list(t.elems.iter().map(pat))),
        syn::Pat::Reference(r) => Pat::Ref(Box::new(pat(&r.pat))),
        syn::Pat::Paren(p) => pat(&p.pat),
        syn::Pat::Guard(g) => pat(&g.pat),
        syn::Pat::Type(t) => pat(&t.pat),
        syn::Pat::Or(o) => Pat::Or(list(o.cases.iter().map(pat))),
        syn::Pat::Path(p) => Pat::Path(qpath(p.qself.as_ref(), &p.path)),
        _ => Pat::Other,
    }
}

/// A block inside a body: its statements, without their lines.
fn block(b: &syn::Block) -> Block {
    Block {
        stmts: b.stmts.iter().filter(|s| kept(s)).map(stmt).collect(),
        lines: Box::default(),
    }
}

/// A fn's body, with the first and last line of each statement (nested
/// blocks keep none, but the bodies of `loop` and `while`, where a
/// scheduled worker's function edits its wait).
fn body_block(b: &syn::Block) -> Block {
    Block {
        stmts: b.stmts.iter().filter(|s| kept(s)).map(stmt).collect(),
        lines: b
            .stmts
            .iter()
            .filter(|s| kept(s))
            .map(lines::stmt_lines)
            .collect(),
    }
}

fn stmt(s: &syn::Stmt) -> Stmt {
    match s {
        syn::Stmt::Local(l) => {
            let (p, t) = match &l.pat {
                syn::Pat::Type(pt) => (pat(&pt.pat), Some(ty(&pt.ty))),
                other => (pat(other), None),
            };
            Stmt::Let {
                pat: Box::new(p),
                ty: t.map(Box::new),
                init: l.init.as_ref().map(|i| expr(&i.expr)),
                els: l
                    .init
                    .as_ref()
                    .and_then(|i| i.diverge.as_ref())
                    .map(|(_, e)| {
                        Box::new(Block {
                            stmts: vec![Stmt::Expr(expr(e))],
                            lines: Box::default(),
                        })
                    }),
            }
        }
        syn::Stmt::Item(i) => Stmt::Item(Box::new(item(i))),
        syn::Stmt::Expr(e, None) => Stmt::Expr(expr(e)),
        syn::Stmt::Expr(e, Some(_)) => Stmt::Semi(expr(e)),
        syn::Stmt::Macro(m) => Stmt::Semi(mac(&m.mac)),
    }
}

fn exprs<'a>(xs: impl IntoIterator<Item = &'a syn::Expr>) -> Vec<Expr> {
    list(xs.into_iter().map(expr))
}

fn wrap(kind: WrapKind, e: &syn::Expr) -> Expr {
    Expr::Wrap {
        kind,
        inner: Box::new(expr(e)),
    }
}

fn expr(e: &syn::Expr) -> Expr {
    match e {
        syn::Expr::Path(p) => Expr::Path {
            path: qpath(p.qself.as_ref(), &p.path),
            line: path_line(&p.path),
        },
        syn::Expr::Call(c) => Expr::Call {
            func: Box::new(expr(&c.func)),
            args: exprs(&c.args),
            line: match &*c.func {
                syn::Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => path_line(&p.path),
                other => line_of(other),
            },
        },
        syn::Expr::MethodCall(m) => Expr::MethodCall {
            receiver: Box::new(expr(&m.receiver)),
            method: id_name(&m.method),
            turbofish: m
                .turbofish
                .as_ref()
                .map(|t| {
                    t.args
                        .iter()
                        .filter_map(|g| match g {
                            syn::GenericArgument::Type(t) => Some(ty(t)),
                            _ => None,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            args: exprs(&m.args),
            line: line_at(m.method.span()),
        },
        syn::Expr::Field(f) => Expr::Field {
            base: Box::new(expr(&f.base)),
            member: match &f.member {
                syn::Member::Named(n) => id_name(n),
                syn::Member::Unnamed(i) => Names::intern_display(&i.index),
            },
        },
        syn::Expr::Closure(c) => Expr::Closure {
            params: list(c.inputs.iter().map(|p| match p {
                syn::Pat::Type(pt) => (pat(&pt.pat), Some(ty(&pt.ty))),
                other => (pat(other), None),
            })),
            body: Box::new(expr(&c.body)),
            is_async: c.asyncness.is_some(),
            line: line_at(c.inputs_begin.span),
        },
        syn::Expr::Async(a) => Expr::Block {
            block: block(&a.block),
            is_async: true,
        },
        syn::Expr::Block(b) => Expr::Block {
            block: block(&b.block),
            is_async: false,
        },
        syn::Expr::Unsafe(u) => Expr::Block {
            block: block(&u.block),
            is_async: false,
        },
        syn::Expr::TryBlock(t) => Expr::Block {
            block: block(&t.block),
            is_async: false,
        },
        syn::Expr::Const(c) => Expr::Block {
            block: block(&c.block),
            is_async: false,
        },
        syn::Expr::Lit(l) => Expr::Lit {
            lit: match &l.lit {
                syn::Lit::Str(s) => Lit::Str(s.value()),
                syn::Lit::Int(i) => i.base10_parse::<u64>().map(Lit::Int).unwrap_or(Lit::Other),
                syn::Lit::Bool(b) => Lit::Bool(b.value),
                _ => Lit::Other,
            },
            line: match l.attrs.first() {
                Some(a) => line_at(a.pound_token.span),
                None => line_at(l.lit.span()),
            },
        },
        syn::Expr::Macro(m) => mac(&m.mac),
        syn::Expr::Struct(s) => Expr::Struct {
            path: qpath(s.qself.as_ref(), &s.path),
            fields: list(s.fields.iter().map(|f| {
                let name = match &f.member {
                    syn::Member::Named(n) => id(n),
                    syn::Member::Unnamed(i) => i.index.to_string(),
                };
                (name, expr(&f.expr))
            })),
            rest: s.rest.as_ref().map(|r| Box::new(expr(r))),
        },
        syn::Expr::Let(l) => Expr::Let {
            pat: Box::new(pat(&l.pat)),
            expr: Box::new(expr(&l.expr)),
        },
        syn::Expr::Match(m) => Expr::Match {
            expr: Box::new(expr(&m.expr)),
            arms: m
                .arms
                .iter()
                .map(|a| {
                    let body = match &a.pat {
                        syn::Pat::Guard(g) => Expr::Other(vec![expr(&g.guard), expr(&a.body)]),
                        _ => expr(&a.body),
                    };
                    (pat(&a.pat), body)
                })
                .collect(),
        },
        syn::Expr::If(i) => Expr::If {
            cond: Box::new(expr(&i.cond)),
            then: block(&i.then_branch),
            els: i.else_branch.as_ref().map(|(_, e)| Box::new(expr(e))),
        },
        syn::Expr::ForLoop(f) => Expr::Loop {
            pat: Some(Box::new(pat(&f.pat))),
            iter: Some(Box::new(expr(&f.expr))),
            body: block(&f.body),
            line: line_at(f.for_token.span),
        },
        syn::Expr::While(w) => Expr::Loop {
            pat: None,
            iter: Some(Box::new(expr(&w.cond))),
            body: body_block(&w.body),
            line: line_at(w.while_token.span),
        },
        syn::Expr::Loop(l) => Expr::Loop {
            pat: None,
            iter: None,
            body: body_block(&l.body),
            line: line_at(l.loop_token.span),
        },
        syn::Expr::Await(a) => wrap(WrapKind::Await, &a.base),
        syn::Expr::Try(t) => wrap(WrapKind::Try, &t.expr),
        syn::Expr::Reference(r) => wrap(WrapKind::Ref, &r.expr),
        syn::Expr::RawAddr(r) => wrap(WrapKind::Ref, &r.expr),
        syn::Expr::Paren(p) => wrap(WrapKind::Paren, &p.expr),
        syn::Expr::Group(g) => wrap(WrapKind::Paren, &g.expr),
        syn::Expr::Cast(c) => wrap(WrapKind::Cast, &c.expr),
        syn::Expr::Unary(u) => match u.op {
            syn::UnOp::Deref(_) => wrap(WrapKind::Deref, &u.expr),
            _ => wrap(WrapKind::Unary, &u.expr),
        },
        syn::Expr::Return(r) => match &r.expr {
            Some(e) => wrap(WrapKind::Return, e),
            None => Expr::Other(Vec::new()),
        },
        syn::Expr::Break(b) => match &b.expr {
            Some(e) => wrap(WrapKind::Break, e),
            None => Expr::Other(Vec::new()),
        },
        syn::Expr::Array(a) => Expr::Other(exprs(&a.elems)),
        syn::Expr::Tuple(t) => Expr::Other(exprs(&t.elems)),
        syn::Expr::Assign(a) => Expr::Other(vec![expr(&a.left), expr(&a.right)]),
        syn::Expr::Binary(b) => Expr::Other(vec![expr(&b.left), expr(&b.right)]),
        syn::Expr::Index(i) => Expr::Other(vec![expr(&i.expr), expr(&i.index)]),
        syn::Expr::Range(r) => {
            Expr::Other(list(r.start.iter().chain(r.end.iter()).map(|e| expr(e))))
        }
        syn::Expr::Repeat(r) => Expr::Other(vec![expr(&r.expr), expr(&r.len)]),
        syn::Expr::Yield(y) => Expr::Other(list(y.expr.iter().map(|e| expr(e)))),
        _ => Expr::Other(Vec::new()),
    }
}

/// The standard library's macros: never a workspace `macro_rules!`, so
/// their tokens are not kept for expanding.
const STD_MACROS: &[&str] = &[
    "assert",
    "assert_eq",
    "assert_ne",
    "cfg",
    "column",
    "compile_error",
    "concat",
    "dbg",
    "debug_assert",
    "debug_assert_eq",
    "debug_assert_ne",
    "env",
    "eprint",
    "eprintln",
    "file",
    "format",
    "format_args",
    "include",
    "include_bytes",
    "include_str",
    "line",
    "matches",
    "module_path",
    "option_env",
    "panic",
    "print",
    "println",
    "stringify",
    "todo",
    "unimplemented",
    "unreachable",
    "vec",
    "write",
    "writeln",
];

fn mac(m: &syn::Macro) -> Expr {
    let std = m
        .path
        .get_ident()
        .is_some_and(|i| STD_MACROS.iter().any(|s| i == s));
    Expr::Macro {
        path: path(&m.path),
        args: macro_exprs(m.tokens.clone()),
        line: path_line(&m.path),
        tokens: (!std).then(|| m.tokens.to_string().into()),
    }
}

/// Reads the expressions inside a macro's tokens: first as a comma list of
/// expressions (`format!`, `vec!`, `assert!`), then as statements, then by
/// splitting at top-level separators (`,` `;` `=>` `=` `:`) and reading each
/// piece, descending into groups that still do not parse (`json!({..})`,
/// `tokio::select! { x = f() => .. }`).
pub(crate) fn macro_exprs(tokens: TokenStream) -> Vec<Expr> {
    macro_exprs_depth(tokens, 0, false)
}

/// `read_as_stmts`: the caller already tried the tokens as statements
/// (they did not parse, and would not the second time).
fn macro_exprs_depth(tokens: TokenStream, depth: u32, read_as_stmts: bool) -> Vec<Expr> {
    if tokens.is_empty() || depth > 32 {
        return Vec::new();
    }
    let tts: Vec<TokenTree> = tokens.clone().into_iter().collect();
    // A `;` outside any group ends every comma list of expressions: not
    // worth parsing as one.
    let has_semi = tts
        .iter()
        .any(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'));
    if !has_semi
        && let Ok(list) =
            Punctuated::<syn::Expr, syn::Token![,]>::parse_terminated.parse2(tokens.clone())
    {
        return exprs(&list);
    }
    if !read_as_stmts && let Ok(stmts) = syn::Block::parse_within.parse2(tokens.clone()) {
        return vec![Expr::Block {
            block: Block {
                stmts: stmts.iter().map(stmt).collect(),
                lines: Box::default(),
            },
            is_async: false,
        }];
    }
    let count = tts.len();
    let pieces = split_top_level(tts);
    // One piece holding every token (no separator at the top): it is the
    // comma list that just failed to parse, and fails as one expression too.
    let whole = pieces.len() == 1 && pieces[0].len() == count;
    let mut out = Vec::new();
    for piece in pieces {
        if !whole {
            let stream: TokenStream = piece.iter().cloned().collect();
            if let Ok(e) = syn::parse2::<syn::Expr>(stream) {
                out.push(expr(&e));
                continue;
            }
        }
        for tt in piece {
            if let TokenTree::Group(g) = tt {
                out.extend(macro_exprs_depth(g.stream(), depth + 1, false));
            }
        }
    }
    out.shrink_to_fit();
    out
}

fn split_top_level(tts: Vec<TokenTree>) -> Vec<Vec<TokenTree>> {
    let mut pieces = Vec::new();
    let mut cur = Vec::new();
    let mut i = 0;
    while i < tts.len() {
        let tt = &tts[i];
        if let TokenTree::Punct(p) = tt {
            let c = p.as_char();
            let next = match tts.get(i + 1) {
                Some(TokenTree::Punct(n)) if p.spacing() == Spacing::Joint => Some(n.as_char()),
                _ => None,
            };
            let prev_joint =
                matches!(cur.last(), Some(TokenTree::Punct(q)) if q.spacing() == Spacing::Joint);
            let is_sep = match c {
                ',' | ';' => true,
                '=' => !prev_joint && !matches!(next, Some('=') | Some('>')),
                ':' => !prev_joint && next != Some(':'),
                _ => false,
            };
            if c == '=' && next == Some('>') {
                pieces.push(std::mem::take(&mut cur));
                i += 2;
                continue;
            }
            if is_sep {
                pieces.push(std::mem::take(&mut cur));
                i += 1;
                continue;
            }
        }
        cur.push(tt.clone());
        i += 1;
    }
    pieces.push(cur);
    pieces.retain(|p| !p.is_empty());
    pieces
}

/// A `macro_rules!` definition's transcribers, with `$var` made plain and
/// `$( .. ) sep *` repetitions reduced to one copy, read as statements.
fn macro_rules_bodies(tokens: &TokenStream) -> Vec<Block> {
    let mut out = Vec::new();
    let tts: Vec<TokenTree> = tokens.clone().into_iter().collect();
    // rules: (matcher) => {transcriber} ;
    let mut i = 0;
    while i < tts.len() {
        if let TokenTree::Group(_) = &tts[i]
            && matches!(tts.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '=')
            && matches!(tts.get(i + 2), Some(TokenTree::Punct(p)) if p.as_char() == '>')
            && let Some(TokenTree::Group(body)) = tts.get(i + 3)
        {
            out.push(transcribed_block(demacro(body.stream())));
            i += 4;
            continue;
        }
        i += 1;
    }
    out.shrink_to_fit();
    out
}

/// A macro's transcribed tokens read as statements, else as the
/// expressions cleave can read in them.
fn transcribed_block(tokens: TokenStream) -> Block {
    let stmts = match syn::Block::parse_within.parse2(tokens.clone()) {
        Ok(stmts) => stmts.iter().map(stmt).collect(),
        Err(_) => list(
            macro_exprs_depth(tokens, 0, true)
                .into_iter()
                .map(Stmt::Semi),
        ),
    };
    Block {
        stmts,
        lines: Box::default(),
    }
}

fn demacro(tokens: TokenStream) -> TokenStream {
    let tts: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out: Vec<TokenTree> = Vec::new();
    let mut i = 0;
    while i < tts.len() {
        match &tts[i] {
            TokenTree::Punct(p) if p.as_char() == '$' => {
                match tts.get(i + 1) {
                    // `$( .. ) sep? *|+|?`
                    Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                        out.extend(demacro(g.stream()));
                        i += 2;
                        // skip an optional separator and the repetition operator
                        let mut skipped = 0;
                        while skipped < 2 {
                            match tts.get(i) {
                                Some(TokenTree::Punct(q))
                                    if matches!(q.as_char(), '*' | '+' | '?') =>
                                {
                                    i += 1;
                                    break;
                                }
                                Some(TokenTree::Punct(q)) if q.as_char() != '$' => {
                                    i += 1;
                                    skipped += 1;
                                }
                                _ => break,
                            }
                        }
                    }
                    // `$crate` stays a path root; `$x` becomes `x`.
                    Some(TokenTree::Ident(_)) => i += 1,
                    _ => i += 1,
                }
            }
            TokenTree::Group(g) => {
                let mut ng = proc_macro2::Group::new(g.delimiter(), demacro(g.stream()));
                ng.set_span(g.span());
                out.push(TokenTree::Group(ng));
                i += 1;
            }
            other => {
                out.push(other.clone());
                i += 1;
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_attribute_arguments_read_as_the_expression_parser_reads_them() {
        let plain = [
            "",
            "Debug, Clone, serde::Serialize",
            "Debug, Clone,",
            r#"rename = "f0", default"#,
            r#"rename_all = "camelCase", deny_unknown_fields"#,
            r#"default, skip_serializing_if = "Vec::is_empty""#,
            r#""/orders/{id}""#,
            r#""/a", "/b", name = r"x\y", c"#,
            r#"tag = "error", content = "detail\n", rename_all = "snake_case""#,
            r#"suffixed = "x"s"#,
            r#"a::b = "x", c::d::e"#,
        ];
        for text in plain {
            let tokens: TokenStream = text.parse().unwrap_or_default();
            assert_eq!(plain_args(&tokens), Some(list_args(&tokens)), "{text}");
        }
        let parsed = [
            "true",
            "r#type",
            "crate = \"x\"",
            "a = 1",
            "a == \"x\"",
            "a = b",
            "skip(self), level = \"debug\"",
            "1, 2",
            ", a",
            "a,, b",
            "a \"x\"",
            "b\"x\"",
            "-1",
            "a::<T>",
            "::a",
            "a:b",
            "a:::b",
            "a::self",
        ];
        for text in parsed {
            let tokens: TokenStream = text.parse().unwrap_or_default();
            assert_eq!(plain_args(&tokens), None, "{text}");
        }
    }

    #[test]
    fn line_count_is_the_count_of_lines() {
        for text in ["", "a", "a\n", "a\nb", "a\r\nb\r\n", "\n\n", "a\n\nb"] {
            assert_eq!(line_count(text) as usize, text.lines().count(), "{text:?}");
        }
    }
}
