//! A workspace `macro_rules!` expanded at one call, as the compiler picks
//! its rule: the first rule whose matcher takes the call's tokens. Its body
//! as read once (`$var`s plain) says what the expansion calls; where it
//! calls another workspace macro, which must see the tokens passed on, the
//! transcriber is substituted instead: every `$var` replaced by the tokens
//! it matched (`$( .. ) sep *` repeated as often as its variables
//! matched), read as statements. Fragments are matched the way rustc's parser takes them: an
//! `expr` is the longest run of tokens up to a `,` `;` `=>` (or the end)
//! that parses as an expression, likewise `ty`, `path`, `pat`; `ident`,
//! `literal`, `lifetime`, `block`, `tt` are one token (tree). `$crate`
//! becomes `crate`: the caller walks the expansion in the macro's module.
//!
//! Rules and calls are kept as token text (syn's tokens are `!Send`) and
//! lexed again here; what does not lex, or no rule takes, is `None`, and the
//! caller falls back to the rules' plain bodies.

use std::collections::BTreeMap;
use std::rc::Rc;

use proc_macro2::{Delimiter, Group, Ident, Spacing, Span, TokenStream, TokenTree};

use syn::parse::Parser;

use super::{demacro, transcribed_block};
use crate::syntax::{Block, MacroRule};

/// The rules of a `macro_rules!` body (`(..) => {..};` ...), as text.
pub(super) fn rules(tokens: &TokenStream) -> Vec<MacroRule> {
    let tts: Vec<TokenTree> = tokens.clone().into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < tts.len() {
        if let TokenTree::Group(m) = &tts[i]
            && is_punct(tts.get(i + 1), '=')
            && is_punct(tts.get(i + 2), '>')
            && let Some(TokenTree::Group(body)) = tts.get(i + 3)
        {
            out.push(MacroRule {
                matcher: m.stream().to_string().into(),
                transcriber: body.stream().to_string().into(),
                plain_reads: syn::Block::parse_within
                    .parse2(demacro(body.stream()))
                    .is_ok(),
            });
            i += 4;
            continue;
        }
        i += 1;
    }
    out
}

/// What a call of a `macro_rules!` expands to.
#[derive(Debug)]
pub enum Expansion {
    /// The rule at this index, whose body (read once, `$var`s plain) holds
    /// what the expansion calls.
    Rule(usize),
    /// The rule's transcriber with the call's tokens substituted, read as
    /// statements: for a rule whose body calls another workspace macro,
    /// which must see the tokens this call passes on.
    Block(Block),
}

/// The index of the first rule whose matcher takes a call's tokens (inside
/// its delimiters), as [`expand`] picks it; `None` when no rule does.
pub fn rule_of(rules: &[MacroRule], call: &str) -> Option<usize> {
    let input: Vec<TokenTree> = call.parse::<TokenStream>().ok()?.into_iter().collect();
    let found = rules.iter().position(|rule| takes(rule, &input).is_some());
    proc_macro2::extra::invalidate_current_thread_spans();
    found
}

/// The bindings of `rule`'s matcher taking all of `input`.
fn takes(rule: &MacroRule, input: &[TokenTree]) -> Option<Binds> {
    let matcher = rule.matcher.parse::<TokenStream>().ok()?;
    let ms = compile(&matcher.into_iter().collect::<Vec<_>>());
    let mut budget = 10_000;
    whole(&ms, input, Binds::new(), &mut budget)
}

/// The expansion of a call whose tokens (inside its delimiters) are `call`:
/// the first rule that takes them; substituted (`Expansion::Block`) when
/// `substitute(rule index)` says so or its plain body does not read as
/// statements. `None` when no rule takes them.
pub fn expand(
    rules: &[MacroRule],
    call: &str,
    substitute: impl Fn(usize) -> bool,
) -> Option<Expansion> {
    let input: Vec<TokenTree> = call.parse::<TokenStream>().ok()?.into_iter().collect();
    let mut expanded = None;
    for (i, rule) in rules.iter().enumerate() {
        let Some(binds) = takes(rule, &input) else {
            continue;
        };
        if rule.plain_reads && !substitute(i) {
            expanded = Some(Expansion::Rule(i));
            break;
        }
        let Ok(body) = rule.transcriber.parse::<TokenStream>() else {
            break;
        };
        let mut out = Vec::new();
        if transcribe(&body.into_iter().collect::<Vec<_>>(), &binds, &mut out, 0).is_some() {
            expanded = Some(Expansion::Block(transcribed_block(
                out.into_iter().collect(),
            )));
        }
        break;
    }
    proc_macro2::extra::invalidate_current_thread_spans();
    expanded
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// What a `$name:frag` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frag {
    Ident,
    Lifetime,
    Literal,
    Tt,
    Block,
    Vis,
    Expr,
    Ty,
    Path,
    Pat,
    Item,
    Meta,
}

fn frag(name: &str) -> Frag {
    match name {
        "ident" => Frag::Ident,
        "lifetime" => Frag::Lifetime,
        "literal" => Frag::Literal,
        "block" => Frag::Block,
        "vis" => Frag::Vis,
        "expr" | "expr_2021" | "stmt" => Frag::Expr,
        "ty" => Frag::Ty,
        "path" => Frag::Path,
        "pat" | "pat_param" => Frag::Pat,
        "item" => Frag::Item,
        "meta" => Frag::Meta,
        _ => Frag::Tt,
    }
}

/// A matcher, compiled.
#[derive(Debug)]
enum M {
    Tok(TokenTree),
    Group(Delimiter, Vec<M>),
    Var(String, Frag),
    Rep {
        inner: Vec<M>,
        sep: Option<TokenTree>,
        op: char,
    },
}

fn compile(tts: &[TokenTree]) -> Vec<M> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tts.len() {
        match (&tts[i], tts.get(i + 1)) {
            (TokenTree::Punct(p), Some(TokenTree::Ident(name)))
                if p.as_char() == '$' && name != "crate" =>
            {
                let (f, used) = match (tts.get(i + 2), tts.get(i + 3)) {
                    (Some(TokenTree::Punct(c)), Some(TokenTree::Ident(f)))
                        if c.as_char() == ':' =>
                    {
                        (frag(&f.to_string()), 4)
                    }
                    _ => (Frag::Tt, 2),
                };
                out.push(M::Var(name.to_string(), f));
                i += used;
            }
            (TokenTree::Punct(p), Some(TokenTree::Group(g)))
                if p.as_char() == '$' && g.delimiter() == Delimiter::Parenthesis =>
            {
                let inner = compile(&g.stream().into_iter().collect::<Vec<_>>());
                let (sep, op, used) = repetition(&tts[i + 2..]);
                out.push(M::Rep { inner, sep, op });
                i += 2 + used;
            }
            (TokenTree::Group(g), _) => {
                out.push(M::Group(
                    g.delimiter(),
                    compile(&g.stream().into_iter().collect::<Vec<_>>()),
                ));
                i += 1;
            }
            (t, _) => {
                out.push(M::Tok(t.clone()));
                i += 1;
            }
        }
    }
    out
}

/// After `$( .. )`: the separator (if any), the operator, and how many
/// tokens they took.
fn repetition(after: &[TokenTree]) -> (Option<TokenTree>, char, usize) {
    let op_of = |t: Option<&TokenTree>| match t {
        Some(TokenTree::Punct(p)) if matches!(p.as_char(), '*' | '+' | '?') => Some(p.as_char()),
        _ => None,
    };
    if let Some(op) = op_of(after.first()) {
        return (None, op, 1);
    }
    match (after.first(), op_of(after.get(1))) {
        (Some(sep), Some(op)) => (Some(sep.clone()), op, 2),
        _ => (None, '*', 0),
    }
}

/// What a variable matched: tokens, or one binding per repetition.
#[derive(Debug, Clone)]
enum B {
    One(Vec<TokenTree>, Frag),
    Seq(Vec<B>),
}

type Binds = BTreeMap<String, B>;

/// The bindings of a match of `ms` that takes all of `toks`.
fn whole(ms: &[M], toks: &[TokenTree], binds: Binds, budget: &mut u32) -> Option<Binds> {
    seq(ms, toks, 0, Some(toks.len()), binds, budget)
        .into_iter()
        .find(|(end, _)| *end == toks.len())
        .map(|(_, b)| b)
}

/// Every way `ms` matches a prefix of `toks[at..]`: where it ends and what
/// it bound, longer repetitions first; with `end`, only the ways that end
/// there (the others are not built). `budget` bounds the work.
fn seq(
    ms: &[M],
    toks: &[TokenTree],
    at: usize,
    end: Option<usize>,
    binds: Binds,
    budget: &mut u32,
) -> Vec<(usize, Binds)> {
    if *budget == 0 {
        return Vec::new();
    }
    *budget -= 1;
    let Some((m, rest)) = ms.split_first() else {
        return if end.is_none_or(|e| e == at) {
            vec![(at, binds)]
        } else {
            Vec::new()
        };
    };
    match m {
        M::Tok(t) => match toks.get(at) {
            Some(x) if same(t, x) => seq(rest, toks, at + 1, end, binds, budget),
            _ => Vec::new(),
        },
        M::Group(d, inner) => match toks.get(at) {
            Some(TokenTree::Group(g)) if g.delimiter() == *d => {
                let inside: Vec<TokenTree> = g.stream().into_iter().collect();
                match whole(inner, &inside, binds, budget) {
                    Some(b) => seq(rest, toks, at + 1, end, b, budget),
                    None => Vec::new(),
                }
            }
            _ => Vec::new(),
        },
        M::Var(name, f) => match fragment(*f, &toks[at.min(toks.len())..]) {
            Some(n) => {
                let mut b = binds;
                b.insert(name.clone(), B::One(toks[at..at + n].to_vec(), *f));
                seq(rest, toks, at + n, end, b, budget)
            }
            None => Vec::new(),
        },
        M::Rep { inner, sep, op } => {
            let r = Repeat {
                inner,
                sep: sep.as_ref(),
                op: *op,
                rest,
                end,
            };
            r.from(toks, at, &Done::default(), &binds, budget)
        }
    }
}

/// A repetition being matched, and what follows it.
struct Repeat<'m> {
    inner: &'m [M],
    sep: Option<&'m TokenTree>,
    op: char,
    rest: &'m [M],
    /// Where the whole match must end, if anywhere in particular.
    end: Option<usize>,
}

/// The iterations of a repetition matched so far, the last first: shared,
/// so that trying one more copies none of them.
#[derive(Default)]
struct Done(Option<Rc<Iteration>>);

struct Iteration {
    binds: Binds,
    before: Done,
}

impl Done {
    fn then(&self, binds: Binds) -> Done {
        Done(Some(Rc::new(Iteration {
            binds,
            before: Done(self.0.clone()),
        })))
    }

    /// The iterations, first to last.
    fn in_order(&self) -> Vec<&Binds> {
        let mut out = Vec::new();
        let mut at = self.0.as_deref();
        while let Some(it) = at {
            out.push(&it.binds);
            at = it.before.0.as_deref();
        }
        out.reverse();
        out
    }
}

impl Repeat<'_> {
    /// Matches from `at` after `done` iterations: one more first (greedy),
    /// then stopping here and matching what follows.
    fn from(
        &self,
        toks: &[TokenTree],
        at: usize,
        done: &Done,
        binds: &Binds,
        budget: &mut u32,
    ) -> Vec<(usize, Binds)> {
        let mut out = Vec::new();
        if self.op != '?' || done.0.is_none() {
            let start = match (done.0.is_none(), self.sep) {
                (false, Some(s)) => toks.get(at).filter(|x| same(s, x)).map(|_| at + 1),
                _ => Some(at),
            };
            if let Some(start) = start {
                for (end, b) in seq(self.inner, toks, start, None, Binds::new(), budget) {
                    if end == at {
                        continue;
                    }
                    out.extend(self.from(toks, end, &done.then(b), binds, budget));
                }
            }
        }
        if self.op != '+' || done.0.is_some() {
            // Nothing follows and the match must end elsewhere: the step
            // `seq` would take is counted, the bindings it would drop are
            // not built.
            if self.rest.is_empty() && self.end.is_some_and(|e| e != at) {
                *budget = budget.saturating_sub(1);
                return out;
            }
            let mut b = binds.clone();
            let mut names = Vec::new();
            var_names(self.inner, &mut names);
            let done = done.in_order();
            for name in names {
                let each = done
                    .iter()
                    .map(|d| d.get(&name).cloned().unwrap_or(B::Seq(Vec::new())))
                    .collect();
                b.insert(name, B::Seq(each));
            }
            out.extend(seq(self.rest, toks, at, self.end, b, budget));
        }
        out
    }
}

fn var_names(ms: &[M], out: &mut Vec<String>) {
    for m in ms {
        match m {
            M::Var(n, _) => out.push(n.clone()),
            M::Group(_, inner) | M::Rep { inner, .. } => var_names(inner, out),
            M::Tok(_) => {}
        }
    }
}

fn same(a: &TokenTree, b: &TokenTree) -> bool {
    match (a, b) {
        (TokenTree::Ident(x), TokenTree::Ident(y)) => x == y,
        (TokenTree::Punct(x), TokenTree::Punct(y)) => x.as_char() == y.as_char(),
        (TokenTree::Literal(x), TokenTree::Literal(y)) => x.to_string() == y.to_string(),
        (TokenTree::Group(x), TokenTree::Group(y)) => {
            x.delimiter() == y.delimiter() && x.stream().to_string() == y.stream().to_string()
        }
        _ => false,
    }
}

/// How many of `toks` a fragment takes, if it matches there.
fn fragment(f: Frag, toks: &[TokenTree]) -> Option<usize> {
    let first = toks.first();
    match f {
        Frag::Tt => first.map(|_| 1),
        Frag::Ident => matches!(first, Some(TokenTree::Ident(i)) if i != "_").then_some(1),
        Frag::Lifetime => {
            (is_punct(first, '\'') && matches!(toks.get(1), Some(TokenTree::Ident(_)))).then_some(2)
        }
        Frag::Literal => match (first, toks.get(1)) {
            (Some(TokenTree::Literal(_)), _) => Some(1),
            (Some(TokenTree::Ident(i)), _) if i == "true" || i == "false" => Some(1),
            (Some(TokenTree::Punct(p)), Some(TokenTree::Literal(_))) if p.as_char() == '-' => {
                Some(2)
            }
            _ => None,
        },
        Frag::Block => {
            matches!(first, Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace)
                .then_some(1)
        }
        Frag::Vis => match (first, toks.get(1)) {
            (Some(TokenTree::Ident(i)), Some(TokenTree::Group(g)))
                if i == "pub" && g.delimiter() == Delimiter::Parenthesis =>
            {
                Some(2)
            }
            (Some(TokenTree::Ident(i)), _) if i == "pub" => Some(1),
            _ => Some(0),
        },
        Frag::Expr => longest(toks, Follow::Expr, |ts| {
            syn::parse2::<syn::Expr>(ts).is_ok()
        }),
        Frag::Ty => longest(toks, Follow::Ty, |ts| syn::parse2::<syn::Type>(ts).is_ok()),
        Frag::Path => longest(toks, Follow::Ty, |ts| syn::parse2::<syn::Path>(ts).is_ok()),
        Frag::Pat => longest(toks, Follow::Pat, |ts| {
            Parser::parse2(syn::Pat::parse_multi_with_leading_vert, ts).is_ok()
        }),
        Frag::Item => longest(toks, Follow::Any, |ts| syn::parse2::<syn::Item>(ts).is_ok()),
        Frag::Meta => longest(toks, Follow::Any, |ts| syn::parse2::<syn::Meta>(ts).is_ok()),
    }
}

/// Which tokens may follow a fragment (rustc's follow sets, roughly).
#[derive(Clone, Copy)]
enum Follow {
    Expr,
    Ty,
    Pat,
    Any,
}

fn may_follow(f: Follow, toks: &[TokenTree], at: usize) -> bool {
    let arrow = is_punct(toks.get(at), '=') && is_punct(toks.get(at + 1), '>');
    match (f, &toks[at]) {
        (Follow::Any, _) => true,
        (_, TokenTree::Punct(p)) if arrow || matches!(p.as_char(), ',' | ';') => {
            // `=>` or a separator; a `;` never follows a pattern.
            !(matches!(f, Follow::Pat) && p.as_char() == ';')
        }
        (Follow::Ty, TokenTree::Punct(p)) => {
            matches!(p.as_char(), '=' | '|' | ':' | '>')
                && !(p.as_char() == ':' && p.spacing() == Spacing::Joint)
        }
        (Follow::Ty, TokenTree::Group(g)) => {
            matches!(g.delimiter(), Delimiter::Brace | Delimiter::Bracket)
        }
        (Follow::Ty, TokenTree::Ident(i)) => i == "as" || i == "where",
        (Follow::Pat, TokenTree::Punct(p)) => matches!(p.as_char(), '=' | '|'),
        (Follow::Pat, TokenTree::Ident(i)) => i == "if" || i == "in",
        _ => false,
    }
}

/// The longest prefix of `toks` that ends where the fragment may end and
/// `parses`.
///
/// An expression, type, path or pattern (every `Follow` but `Any`) holds no
/// `;` outside a group, and a `,` outside a group only between `|`s (closure
/// parameters) or after a `<` (generic arguments): a prefix that breaks this
/// is not parsed, which keeps a comma list of `k` arguments from being
/// parsed `k` times over.
fn longest(toks: &[TokenTree], f: Follow, parses: impl Fn(TokenStream) -> bool) -> Option<usize> {
    let first = |c: &[char]| {
        toks.iter()
            .position(|t| matches!(t, TokenTree::Punct(p) if c.contains(&p.as_char())))
            .unwrap_or(toks.len())
    };
    let (semi, comma, opens) = (first(&[';']), first(&[',']), first(&['<', '|']));
    let never = |n: usize| !matches!(f, Follow::Any) && (n > semi || (n > comma && n <= opens));
    let ends = (1..=toks.len())
        .rev()
        .filter(|&n| n == toks.len() || may_follow(f, toks, n))
        .take(64);
    for n in ends {
        if !never(n) && parses(toks[..n].iter().cloned().collect()) {
            return Some(n);
        }
    }
    None
}

/// Writes the transcriber `ts` with `binds` substituted; `None` when a
/// repetition's variables disagree on its count.
fn transcribe(ts: &[TokenTree], binds: &Binds, out: &mut Vec<TokenTree>, depth: u32) -> Option<()> {
    if depth > 16 {
        return None;
    }
    let mut i = 0;
    while i < ts.len() {
        match (&ts[i], ts.get(i + 1)) {
            (TokenTree::Punct(p), Some(TokenTree::Ident(name))) if p.as_char() == '$' => {
                let name = name.to_string();
                match binds.get(&name) {
                    _ if name == "crate" => {
                        out.push(TokenTree::Ident(Ident::new("crate", Span::call_site())));
                    }
                    Some(B::One(toks, Frag::Expr)) if toks.len() > 1 => {
                        // An expression stays one operand (`$a * 2` with `$a` = `x + 1`).
                        let g = Group::new(Delimiter::Parenthesis, toks.iter().cloned().collect());
                        out.push(TokenTree::Group(g));
                    }
                    Some(B::One(toks, _)) => out.extend(toks.iter().cloned()),
                    Some(B::Seq(_)) => return None,
                    None => out.push(TokenTree::Ident(Ident::new(&name, Span::call_site()))),
                }
                i += 2;
            }
            (TokenTree::Punct(p), Some(TokenTree::Group(g)))
                if p.as_char() == '$' && g.delimiter() == Delimiter::Parenthesis =>
            {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                let (sep, _, used) = repetition(&ts[i + 2..]);
                let mut names = Vec::new();
                used_vars(&inner, &mut names);
                let mut count = None;
                for n in &names {
                    if let Some(B::Seq(xs)) = binds.get(n) {
                        if count.is_some_and(|c| c != xs.len()) {
                            return None;
                        }
                        count = Some(xs.len());
                    }
                }
                for k in 0..count? {
                    if k > 0
                        && let Some(s) = &sep
                    {
                        out.push(s.clone());
                    }
                    let mut each = binds.clone();
                    for n in &names {
                        if let Some(B::Seq(xs)) = binds.get(n) {
                            each.insert(n.clone(), xs[k].clone());
                        }
                    }
                    transcribe(&inner, &each, out, depth + 1)?;
                }
                i += 2 + used;
            }
            (TokenTree::Group(g), _) => {
                let mut inner = Vec::new();
                transcribe(
                    &g.stream().into_iter().collect::<Vec<_>>(),
                    binds,
                    &mut inner,
                    depth + 1,
                )?;
                out.push(TokenTree::Group(Group::new(
                    g.delimiter(),
                    inner.into_iter().collect(),
                )));
                i += 1;
            }
            (t, _) => {
                out.push(t.clone());
                i += 1;
            }
        }
    }
    Some(())
}

/// The `$name`s written in a transcriber's tokens.
fn used_vars(ts: &[TokenTree], out: &mut Vec<String>) {
    for (i, t) in ts.iter().enumerate() {
        match (t, ts.get(i + 1)) {
            (TokenTree::Punct(p), Some(TokenTree::Ident(name))) if p.as_char() == '$' => {
                out.push(name.to_string());
            }
            (TokenTree::Group(g), _) => {
                used_vars(&g.stream().into_iter().collect::<Vec<_>>(), out);
            }
            _ => {}
        }
    }
}
