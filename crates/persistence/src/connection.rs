//! The connection the queries are written against, and the pooled
//! connection that wraps it.

use std::time::{Duration, Instant};

use diesel::dsl::Limit;
use diesel::query_dsl::methods::{ExecuteDsl, LimitDsl};
use diesel::query_dsl::LoadQuery;
use diesel::{PgConnection, QueryResult, RunQueryDsl, SqliteConnection};

use crate::Failure;

/// A connection to either backend. Queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// Diesel's `load`, `first`, `get_result` and `execute`, run on the
/// backend's own connection inside an [`AnyConnection`]: the queries of
/// this crate go through these (`.load_on(conn)` where Diesel's is
/// `.load(conn)`), selecting with [`columns`]. The exceptions are boxed
/// queries (a paged read's cursor, a filter added in a loop), whose type
/// names one backend: they run through the multi-connection as before, on
/// paths where a statement's rendering does not show.
///
/// Why not Diesel's own on the multi-connection: it wraps each statement
/// in a `SerializedQuery` that renders the whole SQL text, identifier by
/// identifier, on every pass Diesel makes over a statement (is it safe to
/// cache, collect its binds), even when the prepared statement is cached,
/// and converts every bind through the multi-backend. A profile of
/// `GET /api/v1/users/` put 15 % of Steward's CPU there. Run on the
/// backend's connection, a cached statement is found by its type and its
/// text is never built again. The query is still written once: it is type
/// checked against each backend, and the transaction, instrumentation and
/// statement cache are the inner connection's, as they were.
pub trait RunOn: Sized + RunQueryDsl<PgConnection> + RunQueryDsl<SqliteConnection> {
    fn load_on<'q, U>(self, conn: &mut AnyConnection) -> QueryResult<Vec<U>>
    where
        Self: LoadQuery<'q, PgConnection, U> + LoadQuery<'q, SqliteConnection, U>,
    {
        match conn {
            AnyConnection::Postgres(c) => RunQueryDsl::load(self, c),
            AnyConnection::Sqlite(c) => RunQueryDsl::load(self, c),
        }
    }

    fn get_result_on<'q, U>(self, conn: &mut AnyConnection) -> QueryResult<U>
    where
        Self: LoadQuery<'q, PgConnection, U> + LoadQuery<'q, SqliteConnection, U>,
    {
        match conn {
            AnyConnection::Postgres(c) => RunQueryDsl::get_result(self, c),
            AnyConnection::Sqlite(c) => RunQueryDsl::get_result(self, c),
        }
    }

    fn first_on<'q, U>(self, conn: &mut AnyConnection) -> QueryResult<U>
    where
        Self: LimitDsl,
        Limit<Self>: LoadQuery<'q, PgConnection, U> + LoadQuery<'q, SqliteConnection, U>,
    {
        match conn {
            AnyConnection::Postgres(c) => RunQueryDsl::first(self, c),
            AnyConnection::Sqlite(c) => RunQueryDsl::first(self, c),
        }
    }

    fn execute_on(self, conn: &mut AnyConnection) -> QueryResult<usize>
    where
        Self: ExecuteDsl<PgConnection> + ExecuteDsl<SqliteConnection>,
    {
        match conn {
            AnyConnection::Postgres(c) => RunQueryDsl::execute(self, c),
            AnyConnection::Sqlite(c) => RunQueryDsl::execute(self, c),
        }
    }
}

impl<T: RunQueryDsl<PgConnection> + RunQueryDsl<SqliteConnection>> RunOn for T {}

/// A row type's columns, for `.select(..)` and `.returning(..)` where
/// Diesel writes `columns::<Row>()`: the same tuple, in the order of the
/// struct's fields, but of no backend in particular, so that one query
/// value runs on either connection ([`RunOn`]). (`as_select()` names its
/// backend in its type, which one value for two backends cannot have.)
pub fn columns<T: diesel::Selectable<diesel::pg::Pg>>() -> T::SelectExpression {
    T::construct_selection()
}

/// A pooled connection: the Diesel connection, and what the pool needs to
/// know of it to hand it out without asking the database first. The Diesel
/// connection is reached only through [`Conn::run`] (no `Deref`), so no
/// statement can fail on a dead server without marking the connection
/// lost.
pub struct Conn {
    pub(crate) inner: AnyConnection,
    /// When it was last given back to the pool (or opened).
    pub(crate) last_used: Instant,
    /// Set when a statement found the server gone: the pool drops it
    /// instead of handing it out again.
    pub(crate) lost: bool,
}

/// A connection given back less than this long ago is handed out without
/// a liveness `SELECT 1`: under load every connection is that fresh, and
/// the ping would be one statement in three on the list endpoint. A
/// connection that died meanwhile fails its first statement, which marks it
/// lost (see [`Conn::run`]); the request gets a 503, like every request in
/// the moment the database went away. An idle connection (a database
/// restarted overnight) is pinged and replaced before use. HikariCP's
/// `aliveBypassWindowMs` does the same, with the same default.
pub const ALIVE_BYPASS: Duration = Duration::from_millis(500);

impl Conn {
    pub(crate) fn new(inner: AnyConnection) -> Conn {
        Conn { inner, last_used: Instant::now(), lost: false }
    }

    /// For a connection held outside the pool ([`crate::Pool::dedicated`]):
    /// whether it can be used now, as the pool would judge it at checkout:
    /// not lost, and either used within [`ALIVE_BYPASS`] or answering a
    /// ping. Counts as a use.
    pub fn usable(&mut self) -> bool {
        if self.lost || (self.last_used.elapsed() > ALIVE_BYPASS && self.run(crate::ping).is_err()) {
            return false;
        }
        self.last_used = Instant::now();
        true
    }

    /// Runs `f` on this connection; when it fails because the server is
    /// gone (its error says [`Failure::connection_lost`]), the connection
    /// is marked lost, so the pool drops it on return.
    pub fn run<T, E: Failure>(&mut self, f: impl FnOnce(&mut AnyConnection) -> Result<T, E>) -> Result<T, E> {
        let result = f(&mut self.inner);
        if result.as_ref().is_err_and(Failure::connection_lost) {
            self.lost = true;
        }
        result
    }
}
