use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{Connection, InstrumentationEvent, SimpleConnection};
use diesel::r2d2::R2D2Connection;
use diesel::{PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::StoreError;

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Initialises OpenSSL (which libpq uses for TLS to PostgreSQL) before
/// libpq does, without its exit handler: at process exit that handler frees
/// per-thread state while pool and worker threads may still be using it,
/// and the process dies with a double free or a segfault after a clean
/// stop. Idempotent; call before the first PostgreSQL connection.
pub fn init_tls() {
    openssl_sys::init();
}

/// A connection to either backend. Queries are written once against it.
#[derive(diesel::MultiConnection)]
pub enum AnyConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

/// A pooled connection: the Diesel connection, and what the pool needs to
/// know of it to hand it out without asking the database first.
pub struct Conn {
    inner: AnyConnection,
    /// When it was last given back to the pool (or opened).
    last_used: Instant,
    /// Set when a statement found the server gone: the pool drops it
    /// instead of handing it out again.
    lost: bool,
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
    /// Runs `f` on this connection; when it fails because the server is
    /// gone, the connection is marked lost, so the pool drops it on return.
    pub fn run<T, E: Failure>(&mut self, f: impl FnOnce(&mut AnyConnection) -> Result<T, E>) -> Result<T, E> {
        let result = f(&mut self.inner);
        if result.as_ref().is_err_and(Failure::connection_lost) {
            self.lost = true;
        }
        result
    }
}

impl std::ops::Deref for Conn {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl std::ops::DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

/// An error that may say the connection's server went away: what
/// [`Conn::run`] needs to know of the errors of the closures it runs,
/// whoever's error type they use.
pub trait Failure {
    fn connection_lost(&self) -> bool;
}

impl Failure for StoreError {
    fn connection_lost(&self) -> bool {
        matches!(self, StoreError::ConnectionLost(_))
    }
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` and `postgresql://` select PostgreSQL; anything else is
    /// a SQLite file (`sqlite://path`, `sqlite:path` or a plain path).
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// The file path of a SQLite URL.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url)
}

/// Pool settings. A short checkout timeout makes a lost database answer
/// 503 fast instead of holding requests.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self { max_size: 10, connection_timeout: Duration::from_secs(5) }
    }
}

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
                // foreign_keys makes ON DELETE CASCADE work; busy_timeout makes
                // writers wait for each other instead of failing at once.
                // A page cache of 512 KiB per connection instead of 2 MiB:
                // ten connections' caches were 20 MiB of the process on a
                // large database, and a page they miss comes from the
                // kernel's cache with one pread.
                c.batch_execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; \
                     PRAGMA cache_size = -512;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                AnyConnection::Sqlite(c)
            }
        };
        let statements = Arc::clone(&self.statements);
        conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { .. } = event {
                statements.fetch_add(1, Ordering::Relaxed);
            }
        });
        Ok(Conn { inner: conn, last_used: Instant::now(), lost: false })
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

/// A pool of connections to one database, and a count of the SQL
/// statements run through it (for tests and metrics).
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    backend: Backend,
    statements: Arc<AtomicU64>,
}

pub type PooledConnection = r2d2::PooledConnection<Manager>;

impl Pool {
    /// Opens a pool on `url`. Does not wait for the database: a pool on a
    /// database that is down is made at once and answers `Unavailable`
    /// until the database is back.
    pub fn open(url: &str, options: &PoolOptions) -> Result<Pool, StoreError> {
        let backend = Backend::of_url(url);
        if backend == Backend::Sqlite {
            // The embedded default needs no setup: make the folder it lives in.
            if let Some(dir) = Path::new(sqlite_path(url)).parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
            }
        }
        let statements = Arc::new(AtomicU64::new(0));
        let manager = Manager {
            backend,
            url: url.to_owned(),
            statements: Arc::clone(&statements),
            born: Instant::now(),
            last_loss: AtomicU64::new(0),
        };
        let inner = r2d2::Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(0))
            .connection_timeout(options.connection_timeout)
            // An idle connection is checked before use, so one that died
            // with the database is replaced instead of failing a request
            // (`Manager::is_valid`: connections in use skip the check).
            .test_on_check_out(true)
            .build_unchecked(manager);
        Ok(Pool { inner, backend, statements })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection, waiting at most the configured timeout.
    pub fn get(&self) -> Result<PooledConnection, StoreError> {
        Ok(self.inner.get()?)
    }

    /// A connection, waiting until `deadline` at most (a caller that
    /// queued before asking spends the configured timeout once, not twice).
    pub fn get_by(&self, deadline: Instant) -> Result<PooledConnection, StoreError> {
        match deadline.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Ok(self.inner.get_timeout(left)?),
            _ => Err(StoreError::Unavailable("timed out waiting for a database connection".into())),
        }
    }

    /// How long [`Pool::get`] waits for a connection.
    pub fn timeout(&self) -> Duration {
        self.inner.connection_timeout()
    }

    /// How many SQL statements have been started through this pool.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    pub fn state(&self) -> r2d2::State {
        self.inner.state()
    }

    pub fn max_size(&self) -> u32 {
        self.inner.max_size()
    }

    /// Applies the pending migrations of this backend. Safe to run from
    /// several replicas at once on PostgreSQL: an advisory lock lets one
    /// migrate while the others wait.
    pub fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.get()?;
        migrate(&mut conn)
    }

    /// Checks that the database answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.get()?.run(crate::ping)
    }
}

pub(crate) fn migrate(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    let failed =
        |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Unavailable(format!("migration failed: {e}"));
    let applied = match conn {
        AnyConnection::Postgres(c) => {
            // Any constant will do; it only has to be the same on every replica.
            c.batch_execute("SELECT pg_advisory_lock(7355608)")?;
            let result = c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.iter().map(|m| m.to_string()).collect());
            c.batch_execute("SELECT pg_advisory_unlock(7355608)")?;
            result.map_err(failed)?
        }
        AnyConnection::Sqlite(c) => {
            // WAL lets readers and one writer work at once; it is a property
            // of the file, so setting it once here is enough.
            c.batch_execute("PRAGMA journal_mode = WAL;")?;
            c.run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect())
                .map_err(failed)?
        }
    };
    Ok(applied)
}
