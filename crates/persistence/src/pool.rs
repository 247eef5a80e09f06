//! The pool of connections to one database.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::backend::sqlite_path;
use crate::{Backend, Manager, StoreError};

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

/// A pool of connections to one database, and a count of the SQL
/// statements run through it (for tests and metrics).
#[derive(Clone)]
pub struct Pool {
    inner: r2d2::Pool<Manager>,
    backend: Backend,
    statements: Arc<AtomicU64>,
    url: Arc<str>,
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
        let manager = Manager::new(backend, url, Arc::clone(&statements), options.connection_timeout);
        let inner = r2d2::Pool::builder()
            .max_size(options.max_size)
            .min_idle(Some(0))
            .connection_timeout(options.connection_timeout)
            // An idle connection is checked before use, so one that died
            // with the database is replaced instead of failing a request
            // (`Manager::is_valid`: connections in use skip the check).
            .test_on_check_out(true)
            .build_unchecked(manager);
        Ok(Pool { inner, backend, statements, url: url.into() })
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
        self.get()?.run(crate::migrate::migrate)
    }

    /// A connection of its own, outside the pool, set up as pooled ones
    /// are: for work that must hold a session (the relay's advisory lock),
    /// which a pooled connection would hand to the next request.
    pub fn dedicated(&self) -> Result<crate::Conn, StoreError> {
        use r2d2::ManageConnection;
        Manager::new(self.backend, &self.url, Arc::clone(&self.statements), self.timeout())
            .connect()
            .map_err(|e| StoreError::Unavailable(e.to_string()))
    }

    /// Checks that the database answers.
    pub fn ping(&self) -> Result<(), StoreError> {
        self.get()?.run(crate::ping)
    }
}
