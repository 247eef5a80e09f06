//! What a change writes beside itself, in its own transaction: its events
//! (C4) and the access-log entry of the request that made it (C3).
//!
//! On PostgreSQL each write is a round trip, and a change's throughput
//! follows the number of round trips in its transaction. So the trail goes
//! in one statement ([`append`]), and where a change is one statement of
//! its own (a managed user's creation, its deletion) the trail rides in
//! that statement, as more parts of its `WITH` ([`Ctes`]). SQLite runs in
//! the process: a statement each there.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::RunQueryDsl;

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
            Ctes::new("WITH trail AS (SELECT 1)", 0).trail(trail).finish("SELECT 1").execute(c)?;
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

/// A PostgreSQL statement built as a `WITH` of data-modifying parts, with
/// numbered parameters: a change's own parts first, then its trail's.
pub(crate) struct Ctes {
    query: BoxedSqlQuery<'static, Pg, SqlQuery>,
    /// Parameters bound so far.
    params: usize,
}

impl Ctes {
    /// `head`: `WITH` and the change's own parts, which use `$1` to
    /// `$params`; bind those with [`Ctes::query`].
    pub(crate) fn new(head: &str, params: usize) -> Ctes {
        Ctes { query: diesel::sql_query(head.to_owned()).into_boxed(), params }
    }

    /// Binds the change's own parameters, in order.
    pub(crate) fn query(
        mut self,
        bind: impl FnOnce(BoxedSqlQuery<'static, Pg, SqlQuery>) -> BoxedSqlQuery<'static, Pg, SqlQuery>,
    ) -> Ctes {
        self.query = bind(self.query);
        self
    }

    /// `n` placeholders, `($k, …)`, after those bound so far.
    pub(crate) fn tuple(&mut self, n: usize) -> String {
        let list: Vec<String> = (1..=n).map(|i| format!("${}", self.params + i)).collect();
        self.params += n;
        format!("({})", list.join(", "))
    }

    /// Appends raw SQL.
    pub(crate) fn sql(mut self, sql: &str) -> Ctes {
        self.query = self.query.sql(sql);
        self
    }

    /// Appends the trail's parts: `, events_added AS (INSERT …)` and
    /// `, logged AS (INSERT …)`, for what it holds.
    pub(crate) fn trail(self, trail: &Trail) -> Ctes {
        self.trail_when(trail, "true")
    }

    /// [`Ctes::trail`], inserting only when `condition` holds (SQL over the
    /// change's parts, such as `EXISTS (SELECT 1 FROM gone)`): a statement
    /// that is its own transaction and may change nothing must then leave
    /// no trail either.
    pub(crate) fn trail_when(mut self, trail: &Trail, condition: &str) -> Ctes {
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

    /// The statement, ending with its main part `tail`.
    pub(crate) fn finish(self, tail: &str) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        self.query.sql(format!(" {tail}"))
    }
}
