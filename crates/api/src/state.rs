use actix_web::web;
use persistence::{AnyConnection, Pool, StoreError};

use crate::auth::Tokens;
use crate::ApiError;

/// What the API needs from the server that runs it.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Whether anyone may register (`REGISTRATION=open`), or only admins.
    pub registration_open: bool,
    /// Sets `Secure` on the `token` cookie (`COOKIE_SECURE`).
    pub cookie_secure: bool,
    /// The largest JSON body accepted, in bytes.
    pub body_limit: usize,
    /// The largest trace upload, in bytes.
    pub trace_body_limit: usize,
    /// Take the client address for sign-in throttling from
    /// `X-Forwarded-For` (only behind a proxy that sets it).
    pub trust_forwarded_for: bool,
    /// The issuer in TOTP enrollment URIs (`MFA_ISSUER`; no `:`).
    pub mfa_issuer: String,
    /// How stale a sign-in's `last_used_at` may get before a request moves
    /// it (`SIGN_IN_TOUCH_SECONDS`).
    pub sign_in_touch: chrono::Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            registration_open: true,
            cookie_secure: false,
            body_limit: 64 * 1024,
            trace_body_limit: 16 * 1024 * 1024,
            trust_forwarded_for: false,
            mfa_issuer: "Steward".into(),
            sign_in_touch: chrono::Duration::seconds(300),
        }
    }
}

/// Shared by every worker.
pub struct AppState {
    pub db: Db,
    pub tokens: Tokens,
    /// Seals TOTP secrets at rest (C5).
    pub mfa_key: crate::auth::mfa::MfaKey,
    pub config: ApiConfig,
    pub metrics: crate::metrics::Metrics,
}

/// The database, reached only from the blocking pool.
#[derive(Clone)]
pub struct Db {
    pub(crate) pool: Pool,
    /// On SQLite, writers take turns here (see [`Db::write`]).
    pub(crate) writer: Option<std::sync::Arc<std::sync::Mutex<()>>>,
    pub(crate) wait: prometheus::Histogram,
    pub(crate) timeouts: prometheus::IntCounter,
    /// Where reads' access-log entries are written, in batches.
    pub(crate) read_log: std::sync::Arc<crate::read_log::ReadLog>,
    /// Told after every write commits: the relay wakes on it at once
    /// (other replicas' writes it finds by polling).
    pub(crate) written: std::sync::Arc<tokio::sync::Notify>,
}

impl Db {
    pub fn new(pool: Pool, metrics: &crate::metrics::Metrics) -> Db {
        let writer: Option<std::sync::Arc<std::sync::Mutex<()>>> =
            (pool.backend() == persistence::Backend::Sqlite).then(Default::default);
        let read_log = std::sync::Arc::new(crate::read_log::ReadLog::start(pool.clone(), writer.clone()));
        Db {
            pool,
            writer,
            wait: metrics.pool_wait.clone(),
            timeouts: metrics.pool_timeouts.clone(),
            read_log,
            written: Default::default(),
        }
    }

    /// Notified after every write that committed (it may have appended
    /// events). A waiter that was not waiting still finds the notice.
    pub fn written(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.written.clone()
    }

    /// On SQLite, the turn writers take (see [`Db::write`]), for writers
    /// outside a request (the relay's cursor); `None` on PostgreSQL.
    pub fn writer_turn(&self) -> Option<std::sync::Arc<std::sync::Mutex<()>>> {
        self.writer.clone()
    }

    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Runs `f` on a pooled connection on the blocking pool, for work
    /// without a caller (sign-in, registration, readiness); a request with
    /// a caller goes through [`Db::act_as`] or [`Db::write_as`].
    pub async fn run<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.on_connection(move |c| f(c).map_err(ApiError::from)).await
    }
}

impl Db {
    /// [`Db::run`] for work that writes. SQLite has one writer at a time:
    /// concurrent writers used to find the file locked and sleep in
    /// SQLite's busy handler (1, 2, 5, 10 … ms), which made a write's p99
    /// 5-8x its median. Here they take turns on a lock held only while the
    /// statements run (a turn taken before the blocking hop would be held
    /// while the hop waits for a thread), and each starts the moment the
    /// previous one ends; the busy handler is left for other processes (a
    /// batch job). PostgreSQL locks rows, not the database: no turn there.
    pub async fn write<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let done = match self.writer.clone() {
            None => self.run(f).await,
            Some(writer) => {
                self.run(move |c| {
                    let _turn = writer.lock().unwrap_or_else(|e| e.into_inner());
                    f(c)
                })
                .await
            }
        }?;
        self.written.notify_one();
        Ok(done)
    }
}

/// Runs CPU-heavy work (Argon2) on the blocking pool.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    web::block(f).await.map_err(ApiError::internal)
}
