//! What a change writes beside itself, in its own transaction: its events
//! (C4) and the access-log entry of the request that made it (C3).
//!
//! On PostgreSQL each write is a round trip, and a change's throughput
//! follows the number of round trips in its transaction. So the trail goes
//! in one statement ([`append`]), and where a change is one statement of
//! its own (a managed user's creation, its deletion) the trail rides in
//! that statement, as more parts of its `WITH` (`Statement`, private to
//! this crate). SQLite runs in the process: a statement each there.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};
use uuid::Uuid;

use crate::access_log::NewEntry;
use crate::events::NewEvent;
use crate::{AnyConnection, StoreError};

/// A change's events, at the change's time, and its access-log entry, if
/// the request leaves one.
#[derive(Debug)]
pub struct Trail {
    pub events: Vec<NewEvent>,
    pub at: DateTime<Utc>,
    pub entry: Option<NewEntry>,
}

impl Trail {
    /// No events and no entry: a change that leaves no trail (a batch
    /// job's, a test's).
    pub fn none() -> Trail {
        Trail { events: Vec::new(), at: DateTime::<Utc>::UNIX_EPOCH, entry: None }
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.entry.is_none()
    }
}

/// Writes `trail` on the change's connection, in its transaction: one
/// statement on PostgreSQL, nothing for an empty trail.
pub fn append(conn: &mut AnyConnection, trail: &Trail) -> Result<(), StoreError> {
    if trail.is_empty() {
        return Ok(());
    }
    match conn {
        AnyConnection::Postgres(c) => {
            Statement::new("WITH trail AS (SELECT 1)").trail(trail).sql(" SELECT 1").execute(c)?;
            Ok(())
        }
        AnyConnection::Sqlite(_) => append_each(conn, trail),
    }
}

/// [`append`] a statement at a time: SQLite's way, after its change.
pub(crate) fn append_each(conn: &mut AnyConnection, trail: &Trail) -> Result<(), StoreError> {
    crate::events::append(conn, &trail.events, trail.at)?;
    if let Some(entry) = &trail.entry {
        crate::access_log::record(conn, entry)?;
    }
    Ok(())
}

/// A value bound to a [`Statement`].
pub(crate) enum Bind {
    Bool(bool),
    Id(Uuid),
    OptId(Option<Uuid>),
    Text(String),
    OptText(Option<String>),
    Ts(DateTime<Utc>),
    Ids(Vec<Uuid>),
    OptIds(Vec<Option<Uuid>>),
    Texts(Vec<String>),
    OptTexts(Vec<Option<String>>),
    Tss(Vec<DateTime<Utc>>),
}

enum Piece {
    Sql(String),
    Bind(Bind),
}

/// A PostgreSQL statement built at run time: SQL and bound values in
/// turn. Unlike `sql_query`, which Diesel prepares anew at every call (it
/// cannot know how many texts one call site makes), a statement is
/// prepared once per connection and then found by its text: its shapes
/// are few (a trail of up to [`CACHED_EVENTS`] events; a batch of reads'
/// entries is one shape, as arrays). Planning a change's `WITH` of
/// several parts, and the cascades of a deletion, at every call cost more
/// than the events they carry.
pub(crate) struct Statement {
    pieces: Vec<Piece>,
    cacheable: bool,
}

/// Trails with more events than this (an account's deletion, removing
/// many users) are prepared for their one call only.
const CACHED_EVENTS: usize = 4;

impl Statement {
    pub(crate) fn new(sql: &str) -> Statement {
        Statement { pieces: vec![Piece::Sql(sql.to_owned())], cacheable: true }
    }

    /// Appends SQL.
    pub(crate) fn sql(mut self, sql: &str) -> Statement {
        self.pieces.push(Piece::Sql(sql.to_owned()));
        self
    }

    /// Appends a bound value (its placeholder, `$n`).
    pub(crate) fn bind(mut self, value: Bind) -> Statement {
        self.pieces.push(Piece::Bind(value));
        self
    }

    /// Appends `(v1, v2, …)`.
    pub(crate) fn tuple(mut self, values: impl IntoIterator<Item = Bind>) -> Statement {
        self = self.sql("(");
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self = self.sql(", ");
            }
            self = self.bind(value);
        }
        self.sql(")")
    }

    /// Appends the trail's parts: `, events_added AS (INSERT …)` and
    /// `, logged AS (INSERT …)`, for what it holds.
    pub(crate) fn trail(self, trail: &Trail) -> Statement {
        self.trail_when(trail, "true")
    }

    /// [`Statement::trail`], inserting only when `condition` holds (SQL over
    /// the change's parts, such as `EXISTS (SELECT 1 FROM gone)`): a
    /// statement that is its own transaction and may change nothing must
    /// then leave no trail either.
    pub(crate) fn trail_when(mut self, trail: &Trail, condition: &str) -> Statement {
        if trail.events.len() > CACHED_EVENTS {
            self.cacheable = false;
        }
        if !trail.events.is_empty() {
            self = self.sql(
                ", events_added AS (INSERT INTO events (id, type, at, user_id, actor_id, data) SELECT v.* FROM (VALUES ",
            );
            self = crate::events::values(self, &trail.events, trail.at).sql(&format!(") AS v WHERE {condition})"));
        }
        if let Some(entry) = &trail.entry {
            self = self.sql(
                ", logged AS (INSERT INTO access_log \
                 (id, user_id, at, actor_id, actor_display_name, action, scope, via) SELECT v.* FROM (VALUES ",
            );
            self =
                crate::access_log::values(self, std::slice::from_ref(entry)).sql(&format!(") AS v WHERE {condition})"));
        }
        self
    }
}

impl QueryId for Statement {
    type QueryId = ();
    // No static id: Diesel caches it by its SQL text.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Statement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Array, Nullable, Text, Timestamptz, Uuid as PgUuid};
        if !self.cacheable {
            out.unsafe_to_cache_prepared();
        }
        for piece in &self.pieces {
            match piece {
                Piece::Sql(sql) => out.push_sql(sql),
                Piece::Bind(Bind::Bool(v)) => out.push_bind_param::<diesel::sql_types::Bool, _>(v)?,
                Piece::Bind(Bind::Id(v)) => out.push_bind_param::<PgUuid, _>(v)?,
                Piece::Bind(Bind::OptId(v)) => out.push_bind_param::<Nullable<PgUuid>, _>(v)?,
                Piece::Bind(Bind::Text(v)) => out.push_bind_param::<Text, _>(v)?,
                Piece::Bind(Bind::OptText(v)) => out.push_bind_param::<Nullable<Text>, _>(v)?,
                Piece::Bind(Bind::Ts(v)) => out.push_bind_param::<Timestamptz, _>(v)?,
                Piece::Bind(Bind::Ids(v)) => out.push_bind_param::<Array<PgUuid>, _>(v)?,
                Piece::Bind(Bind::OptIds(v)) => out.push_bind_param::<Array<Nullable<PgUuid>>, _>(v)?,
                Piece::Bind(Bind::Texts(v)) => out.push_bind_param::<Array<Text>, _>(v)?,
                Piece::Bind(Bind::OptTexts(v)) => out.push_bind_param::<Array<Nullable<Text>>, _>(v)?,
                Piece::Bind(Bind::Tss(v)) => out.push_bind_param::<Array<Timestamptz>, _>(v)?,
            }
        }
        Ok(())
    }
}

impl<Conn> RunQueryDsl<Conn> for Statement {}
