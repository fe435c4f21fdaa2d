//! `Name`: an identifier of the lowered tree (a path segment, a method, a
//! field), shared rather than copied.
//!
//! A workspace writes the same few names (`self`, `new`, `Ok`, `clone`,
//! `String`) tens of thousands of times; as `String`s they were a third of
//! the lowered tree's allocations. `parse` interns them (see
//! [`Names`]), so each distinct name is stored once per parsing thread and
//! a `Name` is a shared pointer to it. It reads like a `&str`. Interning is
//! invisible in every output: names compare, order and print by their text.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::hash::FastHash;

///
/// One pointer wide (the text sits behind the shared count), so that path
/// segments and method calls, the commonest nodes, stay small.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Name(Arc<Box<str>>);

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// As a `String` prints: the lowered tree's `Debug` is unchanged.
impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Self {
        Name(Arc::new(Box::from(s)))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Self {
        Name(Arc::new(s.into_boxed_str()))
    }
}

impl From<Name> for String {
    fn from(n: Name) -> Self {
        n.0.to_string()
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Name> for str {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        self == other.as_str()
    }
}

/// The interner of the thread that parses: one per thread, emptied when
/// the thread enters a new session ([`Names::enter`]), so it holds the
/// names of one load at most.
#[derive(Debug)]
pub struct Names {
    session: u64,
    set: HashSet<Name, FastHash>,
    /// Where [`Names::intern_display`] writes a name before looking it up.
    scratch: String,
}

static SESSION: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static NAMES: RefCell<Names> = RefCell::new(Names {
        session: 0,
        set: HashSet::default(),
        scratch: String::new(),
    });
}

impl Names {
    /// A new session id: names interned under it are shared with each
    /// other and with nothing interned before.
    pub fn session() -> u64 {
        SESSION.fetch_add(1, Ordering::Relaxed)
    }

    /// Makes `session` this thread's current one.
    pub fn enter(session: u64) {
        NAMES.with(|names| {
            let mut names = names.borrow_mut();
            if names.session != session {
                names.session = session;
                names.set.clear();
            }
        });
    }

    /// The shared `Name` of `text` in this thread's current session.
    pub fn intern(text: &str) -> Name {
        NAMES.with(|names| names.borrow_mut().get(text))
    }

    /// [`Names::intern`] of what `x` prints (an identifier), without
    /// allocating when the name is known.
    pub fn intern_display(x: &impl fmt::Display) -> Name {
        Self::intern_display_without(x, "")
    }

    /// [`Names::intern_display`] with `prefix` taken off the text when it
    /// starts with it (`r#` of a raw identifier).
    pub fn intern_display_without(x: &impl fmt::Display, prefix: &str) -> Name {
        NAMES.with(|names| {
            let mut names = names.borrow_mut();
            let mut scratch = std::mem::take(&mut names.scratch);
            scratch.clear();
            let _ = fmt::Write::write_fmt(&mut scratch, format_args!("{x}"));
            let text = scratch.strip_prefix(prefix).unwrap_or(&scratch);
            let n = names.get(text);
            names.scratch = scratch;
            n
        })
    }

    fn get(&mut self, text: &str) -> Name {
        if let Some(n) = self.set.get(text) {
            return n.clone();
        }
        let n = Name::from(text);
        self.set.insert(n.clone());
        n
    }
}

#[cfg(test)]
mod tests {
    use super::{Name, Names};

    #[test]
    fn interned_names_are_shared_within_a_session_and_read_as_text() {
        Names::enter(Names::session());
        let a = Names::intern("clone");
        let b = Names::intern("clone");
        assert!(std::sync::Arc::ptr_eq(&a.0, &b.0));
        Names::enter(Names::session());
        let c = Names::intern("clone");
        assert!(!std::sync::Arc::ptr_eq(&a.0, &c.0));
        assert_eq!(a, c);
        assert_eq!(a, "clone");
        assert_eq!("clone", a);
        assert_eq!(a.as_str(), "clone");
        assert_eq!(format!("{a} {a:?}"), "clone \"clone\"");
        let (x, y) = (Name::from("a"), Name::from("b"));
        assert!(x < y);
    }
}
