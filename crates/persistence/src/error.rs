//! The storage errors, sorted from Diesel's and r2d2's so that the API can
//! map each to one status: `NotFound` to 404, `Conflict` to 409,
//! `Unavailable` and `ConnectionLost` to 503 (the database is gone or too
//! busy, the service stays up), and `Query` and `Corrupt` to 500 (a bug, or
//! stored data that does not decode: logged where it is answered, and no
//! use retrying).

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("row not found")]
    NotFound,
    /// A uniqueness conflict; the text names what was taken.
    #[error("already exists: {0}")]
    Conflict(&'static str),
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The connection's server went away mid-statement; the pool drops the
    /// connection (`Conn::run`).
    #[error("database connection lost: {0}")]
    ConnectionLost(String),
    /// Data that breaks what the code relies on: stored data that does
    /// not decode (a share's scopes, a packed trace), or a value a caller
    /// should have refused that cannot be stored (a trace too long for its
    /// count). A bug or corruption, not an outage, so never a 503 that
    /// invites a retry. The text says what is wrong.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Query(DieselError),
}

/// An error that tells whether the connection it came from is gone. The
/// closures [`Conn::run`](crate::Conn::run) takes return one, so that a
/// caller with an error type of its own (the API's) still has a dead
/// connection dropped by the pool instead of handed out again.
pub trait Failure {
    /// Whether the connection's server went away (the connection is of no
    /// further use).
    fn connection_lost(&self) -> bool;
}

impl Failure for StoreError {
    fn connection_lost(&self) -> bool {
        matches!(self, StoreError::ConnectionLost(_))
    }
}

impl From<DieselError> for StoreError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => StoreError::Conflict("unique"),
            // A row that names a user (or an activity) deleted meanwhile:
            // what it would belong to no longer exists.
            DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => StoreError::NotFound,
            DieselError::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => StoreError::ConnectionLost(info.message().to_owned()),
            // SQLite answers a write it could not lock within busy_timeout
            // with "database is locked": the database is overloaded, not
            // the request wrong.
            DieselError::DatabaseError(_, ref info) if is_unavailable(info.message()) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            // The server ended this connection (a restart, an administrator).
            DieselError::DatabaseError(_, ref info) if is_lost(info.message()) => {
                StoreError::ConnectionLost(info.message().to_owned())
            }
            other => StoreError::Query(other),
        }
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(err: r2d2::Error) -> Self {
        StoreError::Unavailable(err.to_string())
    }
}

fn is_unavailable(message: &str) -> bool {
    const MARKERS: [&str; 4] =
        ["database is locked", "database is busy", "could not connect", "the database system is"];
    MARKERS.iter().any(|m| message.contains(m))
}

fn is_lost(message: &str) -> bool {
    const MARKERS: [&str; 2] = ["server closed the connection", "terminating connection"];
    MARKERS.iter().any(|m| message.contains(m))
}
