//! Steward's storage: one set of Diesel queries over PostgreSQL (production)
//! and SQLite (the embedded default).
//!
//! The two backends meet in [`AnyConnection`], a Diesel `MultiConnection`.
//! Ids and times use Steward's own SQL types ([`types::Id`], [`types::Ts`]),
//! which are `uuid` and `timestamptz` on PostgreSQL and a 16-byte blob and
//! fixed-width UTC text on SQLite, so every query in the table modules is
//! written once. Rows become domain types inside this crate: callers see
//! [`domain::User`], never a row.
//!
//! Everything here is blocking. The API runs it on the blocking pool.

pub mod access;
pub mod access_log;
pub mod activities;
mod backend;
pub mod claims;
mod connection;
mod error;
pub mod events;
pub mod invitations;
mod manager;
pub mod managers;
pub mod mfa;
mod migrate;
mod pool;
pub mod schema;
pub mod sessions;
pub mod shares;
pub mod throttle;
mod tls;
pub mod trail;
pub mod types;
pub mod users;

#[cfg(feature = "testing")]
pub mod testing;

pub use backend::{sqlite_path as sqlite_file, Backend};
pub use connection::{columns, AnyConnection, Conn, RunOn, ALIVE_BYPASS};
pub use error::{Failure, StoreError};
pub use manager::{lone_statements_on_this_thread, Manager};
#[cfg(feature = "testing")]
pub use migrate::migrate_up_to;
pub use pool::{Pool, PoolOptions, PooledConnection};
pub use tls::init_tls;

/// The current time, cut to the microsecond that both backends store, so a
/// value handed back from a write equals the one read later.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    types::truncate(chrono::Utc::now())
}

/// Runs `$body` with `$c` bound to the concrete connection inside an
/// [`AnyConnection`]. For the few statements whose DSL Diesel does not
/// offer on its multi-backend (upserts): the body is written once and type
/// checked against each backend.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::AnyConnection::Postgres($c) => $body,
            $crate::AnyConnection::Sqlite($c) => $body,
        }
    };
}

/// Checks that the database answers, on a connection already held.
pub fn ping(conn: &mut AnyConnection) -> Result<(), StoreError> {
    use diesel::r2d2::R2D2Connection;
    conn.ping().map(|_| ()).map_err(StoreError::from)
}

/// Runs `f` in a transaction: all of it happens, or none.
pub fn transaction<T>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    transaction_with(conn, f)
}

/// [`transaction`] for a closure that fails with an error type of its
/// caller's (the API's, with refusals decided inside the transaction): it
/// rolls back all the same.
pub fn transaction_with<T, E: From<StoreError>>(
    conn: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, E>,
) -> Result<T, E> {
    use diesel::Connection;
    /// Diesel's own errors (BEGIN, COMMIT) beside the caller's.
    enum Failed<E> {
        Store(StoreError),
        Caller(E),
    }
    impl<E> From<diesel::result::Error> for Failed<E> {
        fn from(e: diesel::result::Error) -> Self {
            Failed::Store(e.into())
        }
    }
    conn.transaction(|c| f(c).map_err(Failed::Caller)).map_err(|e| match e {
        Failed::Store(e) => E::from(e),
        Failed::Caller(e) => e,
    })
}
