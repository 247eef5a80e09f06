//! The r2d2 connection manager: opens connections, decides which to check
//! before handing them out, and which to drop when they come back.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// A manager for `url`, counting every statement it runs in
    /// `statements`. A PostgreSQL connection gives up after `connect_timeout`
    /// (see [`with_connect_timeout`]).
    pub(crate) fn new(backend: Backend, url: &str, statements: Arc<AtomicU64>, connect_timeout: Duration) -> Manager {
        let url = match backend {
            Backend::Postgres => with_connect_timeout(url, connect_timeout),
            Backend::Sqlite => url.to_owned(),
        };
        Manager { backend, url, statements, born: Instant::now(), last_loss: AtomicU64::new(0) }
    }

    fn nanos_since_born(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.born).as_nanos()).unwrap_or(u64::MAX)
    }
}

/// `url` with libpq's `connect_timeout` set to `timeout` (whole seconds,
/// rounded up; libpq's least is 2), unless the URL sets one itself.
/// Without it libpq waits as long as the kernel does (minutes) for an
/// address that drops packets, and so would whatever waits on the
/// connection: a connection outside the pool (the read log's writer, the
/// relay) and the reads waiting for it, or the pool's own few threads that
/// open connections, which a hung attempt keeps from opening others after
/// the database is back. The pool's checkout timeout bounds a request's
/// wait, not the attempt.
fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    // The parameters follow the first `?` after the user information,
    // which ends at an `@` met before any `/` (as libpq reads it: a
    // password may hold a `?` or a `#`). libpq knows no fragment, so a
    // parameter goes at the very end.
    let authority = url.find("://").map_or(0, |i| i + 3);
    let hosts = match url[authority..].find(['@', '/']) {
        Some(i) if url[authority + i..].starts_with('@') => authority + i + 1,
        _ => authority,
    };
    let query = url[hosts..].split_once('?').map(|(_, q)| q);
    if query.is_some_and(|q| q.split('&').any(|pair| pair.split('=').next() == Some("connect_timeout"))) {
        return url.to_owned();
    }
    let seconds = timeout.as_secs() + u64::from(timeout.subsec_nanos() > 0);
    let separator = match query {
        None => "?",
        Some("") => "",
        Some(_) => "&",
    };
    format!("{url}{separator}connect_timeout={}", seconds.max(2))
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
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| match event {
            InstrumentationEvent::StartQuery { .. } => {
                statements.fetch_add(1, Ordering::Relaxed);
                ON_THIS_THREAD.with(|t| t.started());
            }
            // Diesel announces a transaction's (or savepoint's) start and
            // end before it sends their SQL.
            InstrumentationEvent::BeginTransaction { .. } => ON_THIS_THREAD.with(|t| t.open.set(t.open.get() + 1)),
            InstrumentationEvent::CommitTransaction { .. } | InstrumentationEvent::RollbackTransaction { .. } => {
                ON_THIS_THREAD.with(|t| t.closing.set(true))
            }
            _ => {}
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

/// What this thread's connections have run, for [`lone_statements_on_this_thread`].
struct OnThisThread {
    /// Statements started outside any transaction.
    lone: Cell<u64>,
    /// Transactions and savepoints open.
    open: Cell<u32>,
    /// A commit or rollback announced: the next statement is its own, the
    /// last inside what it closes.
    closing: Cell<bool>,
}

impl OnThisThread {
    fn started(&self) {
        if self.closing.replace(false) {
            self.open.set(self.open.get().saturating_sub(1));
        } else if self.open.get() == 0 {
            self.lone.set(self.lone.get() + 1);
        }
    }
}

thread_local! {
    static ON_THIS_THREAD: OnThisThread =
        const { OnThisThread { lone: Cell::new(0), open: Cell::new(0), closing: Cell::new(false) } };
}

/// How many statements this thread has started outside a transaction, on
/// any connection: a blocking hop runs on one thread, so the difference
/// across a closure is what it ran on its own (`api::act` checks that a
/// single-statement write is one; a transaction it falls back to, with
/// its `BEGIN` and `COMMIT`, counts for nothing).
pub fn lone_statements_on_this_thread() -> u64 {
    ON_THIS_THREAD.with(|t| t.lone.get())
}

#[cfg(test)]
mod tests {
    use super::with_connect_timeout;
    use std::time::Duration;

    #[test]
    fn the_connect_timeout_is_added_in_whole_seconds_unless_the_url_sets_one() {
        let five = Duration::from_secs(5);
        assert_eq!(with_connect_timeout("postgres://h/db", five), "postgres://h/db?connect_timeout=5");
        assert_eq!(
            with_connect_timeout("postgres://h/db?sslmode=require", five),
            "postgres://h/db?sslmode=require&connect_timeout=5"
        );
        assert_eq!(with_connect_timeout("postgres://h/db?", five), "postgres://h/db?connect_timeout=5");
        // A password's `?` and `#` are the password's.
        assert_eq!(with_connect_timeout("postgres://u:p?w#d@h/db", five), "postgres://u:p?w#d@h/db?connect_timeout=5");
        assert_eq!(
            with_connect_timeout("postgres://u:p?w@h/db?sslmode=require", five),
            "postgres://u:p?w@h/db?sslmode=require&connect_timeout=5"
        );
        // Rounded up, and never under libpq's least.
        assert_eq!(
            with_connect_timeout("postgres://h/db", Duration::from_millis(2500)),
            "postgres://h/db?connect_timeout=3"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db", Duration::from_millis(300)),
            "postgres://h/db?connect_timeout=2"
        );
        // An `@` in a parameter is the parameter's.
        assert_eq!(
            with_connect_timeout("postgres://h/db?user=a@b", five),
            "postgres://h/db?user=a@b&connect_timeout=5"
        );
        // The operator's own setting wins.
        assert_eq!(
            with_connect_timeout("postgres://h/db?connect_timeout=30", five),
            "postgres://h/db?connect_timeout=30"
        );
        assert_eq!(
            with_connect_timeout("postgres://h/db?a=1&connect_timeout=0", five),
            "postgres://h/db?a=1&connect_timeout=0"
        );
        // A parameter that only ends like it is not it.
        assert_eq!(
            with_connect_timeout("postgres://h/db?tcp_connect_timeout=1", five),
            "postgres://h/db?tcp_connect_timeout=1&connect_timeout=5"
        );
    }
}
