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

/// An address that takes the connection but never answers (a server
/// hung, a firewall that swallows the startup): a connection outside the
/// pool gives up after the pool's timeout (libpq's `connect_timeout`,
/// rounded up to whole seconds) instead of waiting as long as the kernel
/// would, and so do the reads waiting on the read log's writer.
#[test]
fn a_connection_to_a_server_that_never_answers_gives_up_after_the_timeout() {
    // Never accepted: the kernel completes the handshake into the backlog,
    // and the startup message is never read.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("postgres://postgres@{}/steward", silent.local_addr().unwrap());
    let options = persistence::PoolOptions { max_size: 1, connection_timeout: Duration::from_secs(2) };
    let pool = persistence::Pool::open(&url, &options).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let started = std::time::Instant::now();
    std::thread::spawn(move || {
        let _ = tx.send(pool.dedicated().map(|_| ()));
    });
    let outcome = rx.recv_timeout(Duration::from_secs(20)).expect("the attempt ends, it does not hang");
    assert!(matches!(outcome, Err(StoreError::Unavailable(_))), "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(10), "gave up after {:?}", started.elapsed());
    drop(silent);
}
