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
    /// The id of a new entry at `at`: a version 7 UUID (RFC 9562) made from
    /// that time, to the microsecond. Its first 48 bits are `at`'s Unix
    /// milliseconds; after the version, the next 10 its microseconds within
    /// that millisecond (section 6.2, method 3: more clock precision in
    /// place of random bits); the rest random. So entries' ids sort as
    /// their `(at, id)` does (ties of one microsecond in random order), and
    /// the log needs one key, `(user_id, id)`, both to find an entry and to
    /// page a log newest first: each index is paid by every read's entry
    /// (bench/results/issue-13.md). An entry's id tells no more than its
    /// `at`. `steward_access_entry_id(at)` (PostgreSQL, migration 000014)
    /// makes the same ids.
    pub fn for_time(at: chrono::DateTime<chrono::Utc>) -> Self {
        let micros = u64::try_from(at.timestamp_micros()).unwrap_or(0);
        let (millis, sub) = (micros / 1000, (micros % 1000) as u16);
        let random = *Uuid::new_v4().as_bytes();
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
        bytes[6] = 0x70 | (sub >> 6) as u8;
        bytes[7] = ((sub & 0x3f) as u8) << 2 | (random[7] & 0x03);
        bytes[8] = 0x80 | (random[8] & 0x3f);
        bytes[9..].copy_from_slice(&random[9..]);
        Self(Uuid::from_bytes(bytes))
    }
}
id_type!(
    /// The id of an event (C4): what JetStream deduplicates on
    /// (`Nats-Msg-Id`).
    EventId
);

#[cfg(test)]
mod entry_id_tests {
    use chrono::{DateTime, Duration, Utc};

    use super::AccessEntryId;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn an_entry_id_is_version_7_made_of_its_time_to_the_microsecond() {
        let id = AccessEntryId::for_time(at("2026-12-04T04:05:06.789123Z"));
        let uuid = id.as_uuid();
        assert_eq!(uuid.get_version_num(), 7);
        assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
        // 1,796,357,106,789 ms = 0x01a23f3a2c65; 123 us = 0b0001111011:
        // its top 4 bits after the version, the other 6 atop byte 7.
        // (PostgreSQL's steward_access_entry_id makes the same prefix.)
        assert!(id.to_string().starts_with("01a23f3a-2c65-71e"), "{id}");
        assert_eq!(uuid.as_bytes()[7] & 0xfc, 0xec);
        let random = AccessEntryId::for_time(at("2026-12-04T04:05:06.789123Z"));
        assert_ne!(id, random, "the rest is random");
    }

    #[test]
    fn entry_ids_sort_as_their_times_do() {
        let start = at("2026-12-04T04:05:06.999998Z");
        let times: Vec<DateTime<Utc>> = (0..3000).map(|i| start + Duration::microseconds(i * 7)).collect();
        let ids: Vec<AccessEntryId> = times.iter().map(|t| AccessEntryId::for_time(*t)).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "a later microsecond, a greater id");
        let past = AccessEntryId::for_time(at("1999-01-01T00:00:00Z"));
        assert!(past < ids[0]);
    }
}
