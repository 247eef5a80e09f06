//! C3: who saw what. Every read or change of a person's data by someone
//! other than that person leaves an entry in their access log; these are
//! the entry's words and the rule of which requests leave one.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::access::Relation;
use crate::{AccessEntryId, Scope, UserId};

macro_rules! words {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $word:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            /// Every value, in the contract's order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The word the contract spells it with.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownWord;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($word => Ok($name::$variant),)+
                    _ => Err(UnknownWord(s.to_owned())),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// A word that names no action or way of access: stored data that this
/// build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown word {0:?}")]
pub struct UnknownWord(pub String);

words!(
    /// What a request did to a user's data.
    Action {
        UserRead = "user.read",
        UserUpdate = "user.update",
        UserDelete = "user.delete",
        ActivityList = "activity.list",
        ActivityRead = "activity.read",
        ActivityCreate = "activity.create",
        ActivityDelete = "activity.delete",
        TraceRead = "trace.read",
        TraceWrite = "trace.write",
        ShareCreate = "share.create",
        ShareUpdate = "share.update",
        ShareDelete = "share.delete",
        ManagerInvite = "manager.invite",
        ManagerJoin = "manager.join",
        ManagerLeave = "manager.leave",
        ClaimCodeIssue = "claim_code.issue",
        ClaimCodeVoid = "claim_code.void",
        UserClaim = "user.claim",
    }
);

words!(
    /// How the actor reached the user: as one of its managers, or through
    /// a share.
    Via {
        Manager = "manager",
        Share = "share",
    }
);

impl Action {
    /// The scope a request with this action needs, as the log records it:
    /// reads need `data:read`, changes of the data `data:write`; sharing,
    /// managing and claiming need none of the two (`None`).
    pub const fn scope(self) -> Option<Scope> {
        use Action::*;
        match self {
            UserRead | ActivityList | ActivityRead | TraceRead => Some(Scope::DataRead),
            UserUpdate | UserDelete | ActivityCreate | ActivityDelete | TraceWrite => Some(Scope::DataWrite),
            ShareCreate | ShareUpdate | ShareDelete | ManagerInvite | ManagerJoin | ManagerLeave | ClaimCodeIssue
            | ClaimCodeVoid | UserClaim => None,
        }
    }

    /// Whether this action only reads. A read's entry may be committed
    /// without waiting for the disk; a change's commits with the change.
    pub const fn is_read(self) -> bool {
        matches!(self, Action::UserRead | Action::ActivityList | Action::ActivityRead | Action::TraceRead)
    }
}

/// Whether an allowed request with `action`, by a caller standing to the
/// user as `relation`, leaves an entry, and how it reached the user. The
/// user's own requests leave none. Accepting an invitation and a claim
/// are a manager's acts whatever else the actor holds; a caller who is
/// neither a manager nor the user got there through a share (a grantee
/// leaving a share it holds no scope of any more, too).
pub fn via(action: Action, relation: Relation) -> Option<Via> {
    match (action, relation) {
        (_, Relation::Itself) => None,
        (Action::ManagerJoin | Action::UserClaim, _) | (_, Relation::Manager) => Some(Via::Manager),
        (_, Relation::Grantee(_) | Relation::Stranger) => Some(Via::Share),
    }
}

/// One entry of a user's access log. `actor` is `None` once the actor's
/// account is deleted; its display name stays as it was. `scope` is what
/// the request needed when it was made (see [`Action::scope`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    pub id: AccessEntryId,
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub actor_display_name: String,
    pub user: UserId,
    pub action: Action,
    pub scope: Option<Scope>,
    pub via: Via,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScopeSet;

    #[test]
    fn words_read_back() {
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>(), Ok(*action));
        }
        for via in Via::ALL {
            assert_eq!(via.as_str().parse::<Via>(), Ok(*via));
        }
        assert_eq!(Action::ALL.len(), 18);
        assert!("user.READ".parse::<Action>().is_err());
    }

    #[test]
    fn scopes_as_the_contract_lists_them() {
        use Action::*;
        let read = [UserRead, ActivityList, ActivityRead, TraceRead];
        let write = [UserUpdate, UserDelete, ActivityCreate, ActivityDelete, TraceWrite];
        for action in Action::ALL {
            let want = if read.contains(action) {
                Some(Scope::DataRead)
            } else if write.contains(action) {
                Some(Scope::DataWrite)
            } else {
                None
            };
            assert_eq!(action.scope(), want, "{action}");
            assert_eq!(action.is_read(), read.contains(action), "{action}");
        }
    }

    #[test]
    fn who_leaves_an_entry_as_a_table() {
        let grantee = Relation::Grantee(ScopeSet::ALL);
        let cases = [
            (Action::UserRead, Relation::Itself, None),
            (Action::ShareDelete, Relation::Itself, None),
            (Action::UserRead, Relation::Manager, Some(Via::Manager)),
            (Action::TraceRead, grantee, Some(Via::Share)),
            (Action::ShareDelete, grantee, Some(Via::Share)),
            (Action::ShareDelete, Relation::Stranger, Some(Via::Share)),
            (Action::ManagerJoin, Relation::Stranger, Some(Via::Manager)),
            (Action::ManagerJoin, grantee, Some(Via::Manager)),
            (Action::UserClaim, Relation::Stranger, Some(Via::Manager)),
        ];
        for (action, relation, want) in cases {
            assert_eq!(via(action, relation), want, "{action} {relation:?}");
        }
    }
}
