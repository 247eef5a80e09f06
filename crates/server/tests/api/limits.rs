//! Limits on every input: headers, slow clients, sign-in attempts per
//! client address. (Body limits are in validation.rs and activities.rs.)

use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, PASSWORD};

fn port_of(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

/// Sends raw bytes and reads the answer until the server closes (async:
/// the server under test runs on this test's runtime).
pub async fn raw(app: &TestApp, request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port_of(app))).await.unwrap();
    s.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[actix_rt::test]
async fn oversized_headers_are_refused_with_a_4xx() {
    let app = TestApp::spawn(persistence::Backend::Sqlite).await;
    let big = "x".repeat(64 * 1024);
    let answer =
        raw(&app, format!("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\nConnection: close\r\n\r\n").as_bytes())
            .await;
    let status: u16 = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!((400..500).contains(&status), "a 4xx for 64 KiB of headers: {:?}", &answer[..answer.len().min(80)]);
    let many: String = (0..200).map(|i| format!("X-H{i}: v\r\n")).collect();
    let answer =
        raw(&app, format!("GET /healthz HTTP/1.1\r\nHost: x\r\n{many}Connection: close\r\n\r\n").as_bytes()).await;
    let status: u16 = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    assert!((400..500).contains(&status), "a 4xx for 200 headers: {:?}", &answer[..answer.len().min(80)]);
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK, "and it stays up");
}

#[actix_rt::test]
async fn slow_clients_are_cut_off_by_the_request_timeout() {
    let app =
        TestApp::spawn_with(persistence::Backend::Sqlite, |c| c.request_timeout = Duration::from_millis(500)).await;
    let mut s = TcpStream::connect(("127.0.0.1", port_of(&app))).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap(); // and never the end of the head
    let started = std::time::Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "a 408: {answer:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "cut off soon after the timeout: {:?}", started.elapsed());
}

#[actix_rt::test]
async fn sign_ins_are_throttled_per_client_address_too() {
    let app = TestApp::spawn(persistence::Backend::Postgres).await;
    app.account("ada@example.org").await;
    // 20 failures from one address, each on a different account: no account
    // reaches its own limit, the address does.
    for i in 0..20 {
        let res = app.sign_in(&format!("guess{i}@example.org"), "wrong password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "failure {i}");
    }
    let res = app.sign_in("ada@example.org", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the address must wait, whatever the account");
    assert!(res.headers().contains_key("retry-after"));
}
