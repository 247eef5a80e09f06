//! The connection the queries are written against, and the pooled
//! connection that wraps it.

use std::time::{Duration, Instant};

use diesel::{PgConnection, SqliteConnection};

use crate::Failure;

/// A connection to either backend. Queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
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
