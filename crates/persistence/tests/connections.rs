//! What `Conn::run` tells the pool: a closure whose error says the
//! connection is lost has that connection dropped when it is given back,
//! and the other pooled connections checked before their next use,
//! whatever the closure's error type; any other failure leaves it pooled.

use std::time::Duration;

use persistence::testing::TestDb;
use persistence::{Backend, Failure, StoreError};

/// An error type of a caller's own, as the API's will be.
#[derive(Debug)]
enum CallerError {
    Store(StoreError),
    Refused,
}

impl Failure for CallerError {
    fn connection_lost(&self) -> bool {
        matches!(self, CallerError::Store(e) if e.connection_lost())
    }
}

#[test]
fn only_a_lost_connection_is_a_connection_lost_store_error() {
    assert!(StoreError::ConnectionLost("server closed the connection".into()).connection_lost());
    assert!(!StoreError::Unavailable("database is locked".into()).connection_lost(), "busy, not gone");
    assert!(!StoreError::NotFound.connection_lost());
}

fn failures_of_another_type_are_told_apart(backend: Backend) {
    let mut db = TestDb::new(backend);
    let pool = db.pool().clone();
    let mut conn = pool.get().unwrap();
    let refused = conn.run(|_| Err::<(), _>(CallerError::Refused));
    assert!(matches!(refused, Err(CallerError::Refused)));
    drop(conn);
    assert_eq!(pool.state().connections, 1, "a refusal leaves the connection pooled");

    let mut conn = pool.get().unwrap();
    let lost = conn.run(|_| Err::<(), _>(CallerError::Store(StoreError::ConnectionLost("gone".into()))));
    assert!(matches!(lost, Err(CallerError::Store(StoreError::ConnectionLost(_)))));
    drop(conn);
    assert_eq!(pool.state().connections, 0, "a lost connection is dropped on return");
}

#[test]
fn failures_of_another_type_are_told_apart_on_postgres() {
    failures_of_another_type_are_told_apart(Backend::Postgres);
}

#[test]
fn failures_of_another_type_are_told_apart_on_sqlite() {
    failures_of_another_type_are_told_apart(Backend::Sqlite);
}

/// A server that ended one connection has most likely ended them all: a
/// loss found by a closure that returns its own error type has the other
/// pooled connections pinged at their next checkout, however fresh, so the
/// next caller gets a working one.
#[test]
fn a_lost_connection_found_through_another_error_type_has_the_others_checked() {
    let mut db = TestDb::postgres();
    let pool = db.pool().clone();
    let (mut first, mut second) = (pool.get().unwrap(), pool.get().unwrap());
    second.run(persistence::ping).expect("the connection works");
    drop(second); // pooled, just used: handed out next without a ping
    db.end_connections();
    // pg_terminate_backend signals; give the backends time to be gone,
    // well inside ALIVE_BYPASS.
    std::thread::sleep(Duration::from_millis(100));
    let lost = first.run(|c| persistence::ping(c).map_err(CallerError::Store));
    assert!(matches!(lost, Err(CallerError::Store(StoreError::ConnectionLost(_)))), "{lost:?}");
    drop(first);
    assert_eq!(pool.state().connections, 1, "the lost connection is not pooled again");
    pool.get().unwrap().run(persistence::ping).expect("the other ended connection was replaced at checkout");
}
