use std::fmt;
use std::str::FromStr;

/// What a holder may do with a subject's data. The order of the variants is
/// the order the API lists them in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    DataRead,
    DataWrite,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Input should be 'data:read' or 'data:write'")]
pub struct ScopeError;

impl Scope {
    /// Every scope, in order: the *default scopes* of the contract.
    pub const ALL: [Scope; 2] = [Scope::DataRead, Scope::DataWrite];

    pub const fn as_str(self) -> &'static str {
        match self {
            Scope::DataRead => "data:read",
            Scope::DataWrite => "data:write",
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Scope::DataRead => 1,
            Scope::DataWrite => 2,
        }
    }
}

impl FromStr for Scope {
    type Err = ScopeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or(ScopeError)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A set of scopes. Iterates, serialises and stores in the order of
/// [`Scope`], whatever order the scopes were added in, so a union is
/// always written the same way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ScopeSet(u8);

impl ScopeSet {
    pub const EMPTY: ScopeSet = ScopeSet(0);
    pub const ALL: ScopeSet = ScopeSet(3);

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0 |= scope.bit();
    }

    pub fn union(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 | other.0)
    }

    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The stored form: the scopes' names, in order, joined by a space
    /// (the way OAuth writes a scope list).
    pub fn to_storage(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }

    /// Reads the stored form back; unknown words are errors, not ignored,
    /// so a corrupted row is noticed rather than silently narrowed.
    pub fn from_storage(stored: &str) -> Result<ScopeSet, ScopeError> {
        stored.split_whitespace().map(Scope::from_str).collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = ScopeSet::EMPTY;
        iter.into_iter().for_each(|s| set.insert(s));
        set
    }
}

impl serde::Serialize for ScopeSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_and_write_their_names() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        for bad in ["", "data", "DATA:READ", "data:read ", "admin"] {
            assert!(bad.parse::<Scope>().is_err(), "{bad:?} is not a scope");
        }
    }

    #[test]
    fn sets_keep_the_order_of_scope_and_round_trip() {
        let set: ScopeSet = [Scope::DataWrite, Scope::DataRead].into_iter().collect();
        assert_eq!(set.iter().collect::<Vec<_>>(), Scope::ALL);
        assert_eq!(set.to_storage(), "data:read data:write");
        assert_eq!(ScopeSet::from_storage("data:write data:read"), Ok(ScopeSet::ALL));
        assert_eq!(ScopeSet::from_storage(""), Ok(ScopeSet::EMPTY));
        assert!(ScopeSet::from_storage("data:read bogus").is_err());
        let read: ScopeSet = [Scope::DataRead].into_iter().collect();
        let write: ScopeSet = [Scope::DataWrite].into_iter().collect();
        assert_eq!(read.union(write), ScopeSet::ALL);
    }
}
