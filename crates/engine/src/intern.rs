//! Interning of repeated strings (customer ids, order ids, brands, agencies)
//! into dense integer ids, so that the hot loops work on integers only.
//!
//! Written by hand rather than with a map of owned strings: all texts live in
//! one arena and the hash table holds only `(hash, id)` pairs, so interning a
//! new string never allocates on its own and millions of order ids cost a
//! few bytes each beyond their text.

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;
use std::hash::BuildHasher;

/// The id standing for a missing value.
pub const NONE: u32 = u32::MAX;

/// A string interner: each distinct `(scope, text)` gets the next integer id.
/// Scopes let order ids be distinct per customer; other uses keep scope 0.
#[derive(Default, Debug, Clone)]
pub struct Interner {
    table: HashTable<(u64, u32)>,
    text: String,
    ends: Vec<usize>,
    scopes: Vec<u32>,
}

fn hash(scope: u32, text: &str) -> u64 {
    FxBuildHasher.hash_one((scope, text))
}

impl Interner {
    /// The id of `text`, adding it if new.
    pub fn intern(&mut self, text: &str) -> u32 {
        self.intern_scoped(0, text)
    }

    /// The id of `text` within `scope`, adding it if new.
    pub fn intern_scoped(&mut self, scope: u32, text: &str) -> u32 {
        match self.find_scoped(scope, text) {
            Some(id) => id,
            None => {
                let id = self.push_unindexed(scope, text);
                self.index(id);
                id
            }
        }
    }

    /// The id of `text` within `scope`, if it was indexed.
    pub fn find_scoped(&self, scope: u32, text: &str) -> Option<u32> {
        self.table
            .find(hash(scope, text), |&(_, id)| {
                self.scopes[id as usize] == scope && self.name(id) == text
            })
            .map(|&(_, id)| id)
    }

    /// Adds `text` under a new id without indexing it: [`Interner::find_scoped`]
    /// will not see it until [`Interner::index`] is called. For callers that
    /// find recent texts faster by themselves.
    pub fn push_unindexed(&mut self, scope: u32, text: &str) -> u32 {
        let id = self.ends.len() as u32;
        self.text.push_str(text);
        self.ends.push(self.text.len());
        self.scopes.push(scope);
        id
    }

    /// Makes an id pushed by [`Interner::push_unindexed`] findable.
    pub fn index(&mut self, id: u32) {
        let h = hash(self.scopes[id as usize], self.name(id));
        self.table.insert_unique(h, (h, id), |&(h, _)| h);
    }

    /// The id of `text` (scope 0), if known.
    pub fn get(&self, text: &str) -> Option<u32> {
        self.find_scoped(0, text)
    }

    /// The text of an id.
    pub fn name(&self, id: u32) -> &str {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends[id - 1] };
        &self.text[start..self.ends[id]]
    }

    /// The scope of an id.
    pub fn scope(&self, id: u32) -> u32 {
        self.scopes[id as usize]
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// The bytes of every name together.
    pub fn text_bytes(&self) -> usize {
        self.text.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_dense_and_stable() {
        let mut interner = Interner::default();
        let words = ["b", "a", "", "b", "ab", "a"];
        let ids: Vec<u32> = words.iter().map(|w| interner.intern(w)).collect();
        assert_eq!(ids, [0, 1, 2, 0, 3, 1]);
        assert_eq!(interner.name(3), "ab");
        assert_eq!(interner.name(2), "");
        assert_eq!(interner.get("ab"), Some(3));
        assert_eq!(interner.get("zz"), None);
    }

    #[test]
    fn scopes_keep_equal_texts_apart() {
        let mut interner = Interner::default();
        let a = interner.intern_scoped(1, "O1");
        let b = interner.intern_scoped(2, "O1");
        assert_ne!(a, b);
        assert_eq!(interner.intern_scoped(1, "O1"), a);
        assert_eq!((interner.scope(a), interner.scope(b)), (1, 2));
        assert_eq!(interner.get("O1"), None, "get looks in scope 0 only");
    }

    #[test]
    fn many_strings_survive_growth() {
        let mut interner = Interner::default();
        for i in 0..10_000 {
            assert_eq!(interner.intern(&format!("C{i}")), i);
        }
        for i in (0..10_000).rev() {
            assert_eq!(interner.intern(&format!("C{i}")), i);
            assert_eq!(interner.name(i), format!("C{i}"));
        }
    }
}
