//! Steward's SQL types: one Rust type per column kind, native on each
//! backend. PostgreSQL keeps `uuid` and `timestamptz`; SQLite, which has
//! neither, stores ids as 16-byte blobs and times as fixed-width UTC text
//! that sorts as it should.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{self, HasSqlType};
use diesel::sqlite::Sqlite;
use uuid::Uuid;

use crate::connection::MultiBackend;

/// An id column: `uuid` on PostgreSQL, a 16-byte `blob` on SQLite.
#[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 2950, array_oid = 2951))]
#[diesel(sqlite_type(name = "Binary"))]
pub struct Id;

/// A time column: `timestamptz` on PostgreSQL, UTC text on SQLite.
#[derive(Debug, Clone, Copy, Default, diesel::sql_types::SqlType, diesel::query_builder::QueryId)]
#[diesel(postgres_type(oid = 1184, array_oid = 1185))]
#[diesel(sqlite_type(name = "Text"))]
pub struct Ts;

impl HasSqlType<Id> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<Id>(lookup)
    }
}

impl HasSqlType<Ts> for MultiBackend {
    fn metadata(lookup: &mut Self::MetadataLookup) -> Self::TypeMetadata {
        MultiBackend::lookup_sql_type::<Ts>(lookup)
    }
}

/// A UUID as stored. Store functions take and give domain ids; this type
/// stays inside the crate's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Id)]
pub struct DbId(pub Uuid);

/// A UTC time as stored, to the microsecond.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Ts)]
pub struct DbTime(pub DateTime<Utc>);

macro_rules! id_conversions {
    ($($id:ty),*) => {$(
        impl From<$id> for DbId {
            fn from(id: $id) -> Self {
                DbId(*id.as_uuid())
            }
        }
        impl From<DbId> for $id {
            fn from(id: DbId) -> Self {
                <$id>::from_uuid(id.0)
            }
        }
    )*};
}
id_conversions!(
    domain::UserId,
    domain::ShareId,
    domain::SessionId,
    domain::ActivityId,
    domain::InvitationId,
    domain::AccessEntryId,
    domain::EventId
);

impl From<DateTime<Utc>> for DbTime {
    fn from(t: DateTime<Utc>) -> Self {
        DbTime(truncate(t))
    }
}

/// Cuts a time to whole microseconds, the precision both backends keep.
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    domain::time::micros(t)
}

// Fixed width, so text order is time order; always UTC with a `Z`.
const SQLITE_TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

impl ToSql<Id, Pg> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <Uuid as ToSql<sql_types::Uuid, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Id, Pg> for DbId {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <Uuid as FromSql<sql_types::Uuid, Pg>>::from_sql(value).map(DbId)
    }
}

impl ToSql<Id, Sqlite> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.as_bytes().as_slice());
        Ok(IsNull::No)
    }
}

impl FromSql<Id, Sqlite> for DbId {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let bytes = <Vec<u8> as FromSql<sql_types::Binary, Sqlite>>::from_sql(value)?;
        Ok(DbId(Uuid::from_slice(&bytes)?))
    }
}

impl ToSql<Ts, Pg> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<sql_types::Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Ts, Pg> for DbTime {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <DateTime<Utc> as FromSql<sql_types::Timestamptz, Pg>>::from_sql(value).map(DbTime)
    }
}

impl ToSql<Ts, Sqlite> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.format(SQLITE_TIME_FORMAT).to_string());
        Ok(IsNull::No)
    }
}

impl FromSql<Ts, Sqlite> for DbTime {
    fn from_sql(value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<sql_types::Text, Sqlite>>::from_sql(value)?;
        let naive = NaiveDateTime::parse_from_str(&text, SQLITE_TIME_FORMAT)?;
        Ok(DbTime(naive.and_utc()))
    }
}

impl ToSql<Id, MultiBackend> for DbId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Id, self));
        Ok(IsNull::No)
    }
}

impl FromSql<Id, MultiBackend> for DbId {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<DbId, Id>()
    }
}

impl ToSql<Ts, MultiBackend> for DbTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Ts, self));
        Ok(IsNull::No)
    }
}

impl FromSql<Ts, MultiBackend> for DbTime {
    fn from_sql(bytes: <MultiBackend as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        bytes.from_sql::<DbTime, Ts>()
    }
}
