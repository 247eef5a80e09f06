//! What operators rely on: metrics, request ids, logs without secrets,
//! and graceful shutdown.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{body, TestApp, PASSWORD};

#[actix_rt::test]
async fn metrics_count_requests_by_route_and_status_and_show_the_pool_and_sign_ins() {
    let app = TestApp::spawn(persistence::Backend::Sqlite).await;
    let ada = app.account("ada@example.org").await;
    let kim = app.managed(&ada, "Kim").await;
    assert_eq!(app.get(&format!("/api/v1/users/{kim}"), &ada.token).await.status(), StatusCode::OK);
    assert_eq!(app.sign_in("ada@example.org", "wrong password").await.status(), StatusCode::UNAUTHORIZED);
    let res = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.unwrap();
    for want in [
        r#"steward_http_requests_total{endpoint="/api/v1/users/{user_id}",method="GET",status="200"} 1"#,
        r#"steward_http_requests_total{endpoint="/api/v1/auth/token",method="POST",status="401"} 1"#,
        "steward_http_requests_duration_seconds_bucket",
        "steward_db_pool_connections",
        "steward_db_pool_max_connections 5",
        "steward_db_pool_wait_seconds_count",
        "steward_db_statements_total",
        "steward_signin_failures_total 1",
        "steward_signin_throttled_total 0",
    ] {
        assert!(text.contains(want), "/metrics has {want}:\n{text}");
    }
    assert!(!text.contains(&kim), "route templates, never raw paths with ids");
}

#[actix_rt::test]
async fn metrics_can_be_turned_off_or_moved_to_another_address() {
    let off = TestApp::spawn_with(persistence::Backend::Sqlite, |c| c.metrics = false).await;
    assert_eq!(off.client.get(off.url("/metrics")).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    let moved = TestApp::spawn_with(persistence::Backend::Sqlite, |c| {
        c.metrics_bind_addr = Some("127.0.0.1:0".into());
    })
    .await;
    assert_eq!(moved.client.get(moved.url("/metrics")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let port = moved.metrics_port.expect("a metrics listener");
    let res = moved.client.get(format!("http://127.0.0.1:{port}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("steward_db_pool_connections"));
}

#[actix_rt::test]
async fn every_response_carries_a_request_id_and_a_sane_incoming_one_is_kept() {
    let app = TestApp::spawn(persistence::Backend::Sqlite).await;
    let res = app.client.get(app.url("/healthz")).header("x-request-id", "abc-123").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "abc-123");
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "generated: {generated}");
    let res = app.client.get(app.url("/healthz")).header("x-request-id", "bad id\twith spaces").send().await.unwrap();
    assert_ne!(res.headers()["x-request-id"], "bad id\twith spaces", "an unsafe id is replaced");
}

/// The `steward` binary, serving on a free port over a fresh SQLite file,
/// its log lines collected as they come.
pub(crate) struct Process {
    child: Child,
    pub port: u16,
    logs: Arc<Mutex<Vec<String>>>,
    dir: std::path::PathBuf,
    owns_dir: bool,
}

impl Process {
    pub fn start(env: &[(&str, &str)]) -> Process {
        let dir = std::env::temp_dir().join(format!("steward-proc-{}", uuid::Uuid::new_v4().simple()));
        let mut proc = Process::start_in(&dir, env);
        proc.owns_dir = true;
        proc
    }

    /// Starts over the database in `dir`, which outlives the process.
    pub fn start_in(dir: &std::path::Path, env: &[(&str, &str)]) -> Process {
        let dir = dir.to_path_buf();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_steward"));
        cmd.current_dir(std::env::temp_dir())
            .env("DATABASE_URL", format!("sqlite://{}/steward.db", dir.display()))
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "debug")
            .env_remove("JWT_SECRET")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start steward");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = Arc::clone(&logs);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if line.contains("steward listening") {
                    let _ = tx.send(line.clone());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("steward says where it listens");
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON log lines");
        let port = v["fields"]["port"].as_u64().expect("the port in the start-up line") as u16;
        Process { child, port, logs, dir, owns_dir: false }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn signal(&self, name: &str) {
        let status = Command::new("kill").args([&format!("-{name}"), &self.child.id().to_string()]).status().unwrap();
        assert!(status.success());
    }

    pub fn wait(&mut self) -> std::process::ExitStatus {
        for _ in 0..300 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("steward did not stop within 30 s");
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[actix_rt::test]
async fn logs_have_one_line_per_request_and_never_a_token_password_or_cookie() {
    let mut proc = Process::start(&[]);
    let client = reqwest::Client::new();
    let register = json!({"email": "ada@example.org", "password": PASSWORD});
    let res = client.post(proc.url("/api/v1/auth/register")).json(&register).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res =
        client.post(proc.url("/api/v1/auth/token")).basic_auth("ada@example.org", Some(PASSWORD)).send().await.unwrap();
    let token = body(res).await["access_token"].as_str().unwrap().to_owned();
    let res = client
        .get(proc.url("/api/v1/users/"))
        .bearer_auth(&token)
        .header("x-request-id", "trace-me-42")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client.get(proc.url("/api/v1/auth/me")).header("cookie", format!("token={token}")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let leaky = "Leaky-Passw0rd-Never-Logged";
    let bad = json!({"email": "not-an-email", "password": leaky});
    let res = client.post(proc.url("/api/v1/auth/register")).json(&bad).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = client.get(proc.url(&format!("/api/v1/users/?token={token}"))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res =
        client.post(proc.url("/api/v1/auth/token")).basic_auth("ada@example.org", Some(leaky)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    proc.signal("TERM");
    assert!(proc.wait().success());
    let logs = proc.logs();
    let request_lines: Vec<&str> = logs.lines().filter(|l| l.contains("request finished")).collect();
    assert!(request_lines.len() >= 7, "one line per request:\n{logs}");
    let listed = request_lines.iter().find(|l| l.contains("trace-me-42")).expect("the caller's request id is logged");
    let v: serde_json::Value = serde_json::from_str(listed).unwrap();
    assert_eq!(v["span"]["route"], json!("/api/v1/users/"), "the route template: {listed}");
    assert_eq!(v["span"]["method"], json!("GET"));
    assert_eq!(v["fields"]["status"], json!(200));
    assert!(v["fields"]["latency_ms"].is_number());
    let payload = token.split('.').nth(1).unwrap();
    for secret in [token.as_str(), payload, PASSWORD, leaky, "Basic ", "ada@example.org"] {
        assert!(!logs.contains(secret), "the logs never hold {secret:?}:\n{logs}");
    }
}

/// Starts requests whose bodies are half sent, signals, then sends the
/// rest: the requests are provably in flight when the signal lands.
async fn finishes_requests_in_flight_on(signal: &str) {
    use std::io::{Read, Write};
    let mut proc = Process::start(&[("SHUTDOWN_GRACE_SECONDS", "20"), ("WORKERS", "2")]);
    let client = reqwest::Client::new();
    let register = json!({"email": "ada@example.org", "password": PASSWORD});
    let res = client.post(proc.url("/api/v1/auth/register")).json(&register).send().await.unwrap();
    let ada = body(res).await["id"].as_str().unwrap().to_owned();
    let res =
        client.post(proc.url("/api/v1/auth/token")).basic_auth("ada@example.org", Some(PASSWORD)).send().await.unwrap();
    let token = body(res).await["access_token"].as_str().unwrap().to_owned();

    let activity = br#"{"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"}"#;
    let mut streams: Vec<std::net::TcpStream> = (0..3)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", proc.port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let head = format!(
                "POST /api/v1/users/{ada}/activities HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\
                 Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                activity.len()
            );
            s.write_all(head.as_bytes()).unwrap();
            s.write_all(&activity[..10]).unwrap();
            s
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    proc.signal(signal);
    std::thread::sleep(Duration::from_millis(300));
    assert!(std::net::TcpStream::connect(("127.0.0.1", proc.port)).is_err(), "no new connections once shutting down");
    for s in streams.iter_mut() {
        s.write_all(&activity[10..]).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 201"), "an in-flight request is answered, not cut: {answer}");
    }
    assert!(proc.wait().success(), "a clean exit");
    let logs = proc.logs();
    assert!(logs.contains("shutting down"), "{logs}");
    assert!(logs.contains("\"stopped\""), "{logs}");
}

#[actix_rt::test]
async fn sigterm_finishes_requests_in_flight_then_exits() {
    finishes_requests_in_flight_on("TERM").await;
}

#[actix_rt::test]
async fn ctrl_c_also_finishes_requests_in_flight_then_exits() {
    finishes_requests_in_flight_on("INT").await;
}

/// Text logs to a file or a pipe carry no terminal colour codes.
#[test]
fn text_logs_off_a_terminal_have_no_colour_codes() {
    let dir = std::env::temp_dir().join(format!("steward-text-{}", uuid::Uuid::new_v4().simple()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .current_dir(std::env::temp_dir())
        .env("DATABASE_URL", format!("sqlite://{}/steward.db", dir.display()))
        .env("BIND_ADDR", "127.0.0.1:0")
        .env_remove("LOG_FORMAT")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start steward");
    let stderr = child.stderr.take().unwrap();
    let line = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("steward listening"))
        .expect("the start-up line");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(line.contains("INFO"), "a text line: {line}");
    assert!(!line.contains('\u{1b}'), "no escape codes: {line:?}");
}
