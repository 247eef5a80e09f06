//! The r2d2 connection manager: opens connections, decides which to check
//! before handing them out, and which to drop when they come back.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use diesel::connection::{Connection, InstrumentationEvent, SimpleConnection};
use diesel::r2d2::R2D2Connection;
use diesel::{PgConnection, SqliteConnection};

use crate::backend::{sqlite_path, Backend, SQLITE_PRAGMAS};
use crate::connection::{AnyConnection, Conn, ALIVE_BYPASS};
use crate::init_tls;

/// The r2d2 manager: builds connections of one backend, never the other. (Diesel's own
/// manager tries each backend in turn, and SQLite would happily open a
/// file named `postgres://...` when PostgreSQL is down.)
pub struct Manager {
    backend: Backend,
    url: String,
    statements: Arc<AtomicU64>,
    /// When the pool was made: the origin of `last_loss`.
    born: Instant,
    /// When a connection was last found lost, in nanoseconds after `born`
    /// (0: never). A server that ended one connection has most likely
    /// ended all of them, so every connection last used before then is
    /// pinged at its next checkout, whatever its age: one request sees the
    /// loss, not one per pooled connection.
    last_loss: AtomicU64,
}

impl Manager {
    /// A manager for `url`, counting every statement it runs in `statements`.
    pub(crate) fn new(backend: Backend, url: &str, statements: Arc<AtomicU64>) -> Manager {
        Manager { backend, url: url.to_owned(), statements, born: Instant::now(), last_loss: AtomicU64::new(0) }
    }

    fn nanos_since_born(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.born).as_nanos()).unwrap_or(u64::MAX)
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Conn, Self::Error> {
        let mut conn = match self.backend {
            Backend::Postgres => AnyConnection::Postgres({
                init_tls();
                PgConnection::establish(&self.url).map_err(diesel::r2d2::Error::ConnectionError)?
            }),
            Backend::Sqlite => {
                let mut c = SqliteConnection::establish(sqlite_path(&self.url))
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // Per connection: SQLite forgets these when a connection closes.
                c.batch_execute(SQLITE_PRAGMAS).map_err(diesel::r2d2::Error::QueryError)?;
                AnyConnection::Sqlite(c)
            }
        };
        let statements = Arc::clone(&self.statements);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { .. } = event {
                statements.fetch_add(1, Ordering::Relaxed);
                ON_THIS_THREAD.with(|n| n.set(n.get() + 1));
            }
        });
        Ok(Conn::new(conn))
    }

    /// Called at every checkout: pings only a connection that has been
    /// idle longer than [`ALIVE_BYPASS`].
    fn is_valid(&self, conn: &mut Conn) -> Result<(), Self::Error> {
        let since_loss = self.nanos_since_born(conn.last_used) > self.last_loss.load(Ordering::Relaxed);
        if since_loss && conn.last_used.elapsed() < ALIVE_BYPASS {
            return Ok(());
        }
        conn.inner.ping().map(|_| ()).map_err(diesel::r2d2::Error::QueryError)
    }

    /// Called at every return: a lost connection, or one left inside a
    /// transaction, is dropped.
    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.last_used = Instant::now();
        if conn.lost {
            self.last_loss.store(self.nanos_since_born(conn.last_used), Ordering::Relaxed);
        }
        conn.lost || conn.inner.is_broken()
    }
}

thread_local! {
    static ON_THIS_THREAD: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many statements this thread has started, on any connection: a
/// blocking hop runs on one thread, so the difference across a closure is
/// what it ran (`api::act` checks that a single-statement write is one).
pub fn statements_on_this_thread() -> u64 {
    ON_THIS_THREAD.with(|n| n.get())
}
