use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new random (version 4) id.
            #[allow(clippy::new_without_default)]
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            /// Accepts any spelling of a UUID that the `uuid` crate reads
            /// (hyphenated, simple, braced, URN); written back lower-case
            /// and hyphenated.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(&self.0.hyphenated())
            }
        }
    };
}

id_type!(
    /// The id of a user: an account that signs in, or a managed user.
    UserId
);
id_type!(
    /// The id of a share (one subject's data granted to one grantee).
    ShareId
);
id_type!(
    /// The id of a sign-in: every token refreshed from one password entry
    /// carries it as `sid`, and revoking it refuses them all.
    SessionId
);
id_type!(
    /// The id of an activity (a run, a ride, a swim).
    ActivityId
);
id_type!(
    /// The id of an invitation to co-manage a user (C1).
    InvitationId
);
id_type!(
    /// The id of an entry in a user's access log (C3).
    AccessEntryId
);

impl AccessEntryId {
    /// A new time-ordered (version 7) id: its first 48 bits are the Unix
    /// time in milliseconds, the rest random. The log is the busiest insert
    /// of all, and a random id put each entry on a random page of the
    /// primary key's index (a page to read and, the first time after each
    /// checkpoint, to write whole into the WAL): time-ordered ids land on
    /// its newest pages. A manager's get kept 0.70 of its throughput
    /// without the log with random ids (bench/results/issue-13.md). An
    /// entry's id tells no more than its `at`.
    pub fn time_ordered() -> Self {
        Self(Uuid::now_v7())
    }
}
id_type!(
    /// The id of an event (C4): what JetStream deduplicates on
    /// (`Nats-Msg-Id`).
    EventId
);

#[cfg(test)]
mod time_ordered_tests {
    use super::AccessEntryId;

    #[test]
    fn access_entry_ids_are_version_7_and_rise_in_the_order_they_are_made() {
        let ids: Vec<AccessEntryId> = (0..1000).map(|_| AccessEntryId::time_ordered()).collect();
        assert!(ids.iter().all(|id| id.as_uuid().get_version_num() == 7));
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "each later than the one before");
    }
}
