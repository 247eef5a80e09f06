//! A lost database: requests fail fast with 503, the process stays up,
//! and service comes back by itself when the database does.

use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::helpers::{body, TestApp};

#[actix_rt::test]
async fn a_lost_database_answers_503_fast_and_recovers_by_itself() {
    let app = TestApp::spawn(persistence::Backend::Postgres).await;
    let ada = app.account("ada@example.org").await;
    assert_eq!(app.get("/api/v1/users/", &ada.token).await.status(), StatusCode::OK);

    app.db.cut();
    let started = Instant::now();
    let res = app.get("/api/v1/users/", &ada.token).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(body(res).await["detail"].is_string());
    assert!(
        started.elapsed() < app.config.pool_timeout + Duration::from_secs(2),
        "no longer than the pool timeout: {:?}",
        started.elapsed()
    );
    // Under load: twenty requests at once, each failing fast.
    let timed = (0..20).map(|_| async {
        let started = Instant::now();
        let status = app.get("/api/v1/users/", &ada.token).await.status();
        (status, started.elapsed())
    });
    for (status, took) in futures_util::future::join_all(timed).await {
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(took < app.config.pool_timeout + Duration::from_secs(2), "none waits past the timeout: {took:?}");
    }
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK, "the process is up");

    app.db.restore();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = app.get("/api/v1/users/", &ada.token).await.status();
        if status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "recovered within 5 s (last: {status})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}

/// A server restart ends every pooled connection. Connections in use are
/// not pinged before each checkout (persistence::ALIVE_BYPASS), so
/// the first request on a dead one fails; that loss marks every other
/// pooled connection for a ping, so one request sees the restart, not one
/// per pooled connection. A pool idle for longer than the window pings
/// first and loses none.
#[actix_rt::test]
async fn a_server_restart_costs_at_most_one_request() {
    let app = TestApp::spawn(persistence::Backend::Postgres).await;
    let ada = app.account("ada@example.org").await;
    // The server's own pool: four connections open, all just used.
    let fill_pool = || async {
        let held: Vec<_> = (0..4).map(|_| app.pool.get().unwrap()).collect();
        drop(held);
    };
    let pooled = || app.pool.state().connections;

    // Busy: the restart lands between two requests on fresh connections.
    fill_pool().await;
    let before = pooled();
    assert!(before >= 2, "several pooled connections: {before}");
    app.db.end_connections();
    // pg_terminate_backend signals; give the backends time to be gone,
    // well inside the window.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut statuses = Vec::new();
    for _ in 0..(before + 4) {
        statuses.push(app.get("/api/v1/users/", &ada.token).await.status());
    }
    let failed = statuses.iter().filter(|s| **s != StatusCode::OK).count();
    assert!(failed <= 1, "at most one request fails after the restart: {statuses:?}");
    assert!(statuses.iter().all(|s| *s == StatusCode::OK || *s == StatusCode::SERVICE_UNAVAILABLE), "{statuses:?}");

    // Idle: the restart happens while nothing runs; no request fails.
    fill_pool().await;
    app.db.end_connections();
    tokio::time::sleep(persistence::ALIVE_BYPASS + Duration::from_millis(200)).await;
    for _ in 0..(pooled() + 4) {
        assert_eq!(app.get("/api/v1/users/", &ada.token).await.status(), StatusCode::OK);
    }
}

/// Reads' access-log entries are written on the writer's own connection
/// (api::read_log), which a restart ends too: the reads after it are
/// answered, each with its entry, as the pool's are (at most one fails).
#[actix_rt::test]
async fn a_server_restart_costs_reads_their_entries_at_most_one_request() {
    let app = TestApp::spawn(persistence::Backend::Postgres).await;
    let ada = app.account("ada@example.org").await;
    let kim = app.managed(&ada, "Kim").await;
    let bo = app.account("bo@example.org").await;
    app.co_manage(&ada, &kim, &bo, "bo@example.org").await;
    let entries = || async {
        let res = app.get(&format!("/api/v1/users/{kim}/access-log?limit=100"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        body(res).await.as_array().unwrap().iter().filter(|e| e["action"] == "user.read").count()
    };
    // Bo's read opens the writer's connection and leaves an entry.
    assert_eq!(app.get(&format!("/api/v1/users/{kim}"), &bo.token).await.status(), StatusCode::OK);
    assert_eq!(entries().await, 1);

    app.db.end_connections();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(app.get(&format!("/api/v1/users/{kim}"), &bo.token).await.status());
    }
    let failed = statuses.iter().filter(|s| **s != StatusCode::OK).count();
    assert!(failed <= 1, "at most one read fails after the restart: {statuses:?}");
    let answered = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(entries().await, 1 + answered, "every answered read has its entry: {statuses:?}");
}
