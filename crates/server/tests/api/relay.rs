//! C4's relay: every event reaches JetStream exactly once (JetStream drops
//! what is published twice), in position order, across a NATS restart and
//! the death of the publishing replica. Each test runs its own
//! `nats-server -js` on a free loopback port.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::events::feed;
use crate::helpers::{body, TestApp, PASSWORD, SECRET};
use crate::operations::Process;

pub const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// A `nats-server -js` of the test's own, its store in a temporary folder
/// that outlives a restart.
pub struct Nats {
    child: Option<Child>,
    pub port: u16,
    dir: std::path::PathBuf,
}

impl Nats {
    pub fn start() -> Nats {
        assert!(std::path::Path::new(NATS_SERVER).exists(), "{NATS_SERVER} is missing: apt-get install nats-server");
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dir = std::env::temp_dir().join(format!("steward-nats-{}", uuid::Uuid::new_v4().simple()));
        let mut nats = Nats { child: None, port, dir };
        nats.restart();
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it (again), on the same port and store, and waits until it
    /// takes connections.
    pub fn restart(&mut self) {
        assert!(self.child.is_none());
        let child = Command::new(NATS_SERVER)
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server does not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops it as an operator does (SIGTERM: what it acknowledged is on
    /// disk), and waits until it has gone.
    pub fn stop(&mut self) {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "nats-server does not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Every message of the stream, in stream order, once it holds `n`: each
/// checked for its subject and `Nats-Msg-Id`, and given as the event it
/// carries.
pub async fn stream_events(url: &str, n: usize) -> Vec<Value> {
    let client = async_nats::connect(url).await.expect("connect to NATS");
    let js = async_nats::jetstream::new(client);
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut stream = loop {
        match js.get_stream("STEWARD_EVENTS").await {
            Ok(stream) => break stream,
            Err(e) => assert!(Instant::now() < deadline, "no stream: {e}"),
        }
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    };
    let state = loop {
        let state = stream.info().await.expect("stream info").state.clone();
        if state.messages as usize >= n {
            break state;
        }
        assert!(Instant::now() < deadline, "{} messages in the stream, of {n}", state.messages);
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    };
    let mut events = Vec::new();
    for seq in state.first_sequence..=state.last_sequence {
        let message = stream.get_raw_message(seq).await.expect("a stored message");
        let event: Value = serde_json::from_slice(&message.payload).expect("an event as JSON");
        assert_eq!(message.subject.as_str(), format!("steward.events.{}", event["type"].as_str().unwrap()));
        let id = message.headers.get("Nats-Msg-Id").expect("Nats-Msg-Id").as_str().to_owned();
        assert_eq!(json!(id), event["id"], "Nats-Msg-Id is the event's id");
        events.push(event);
    }
    events
}

fn positions_and_ids(events: &[Value]) -> Vec<(Value, Value)> {
    events.iter().map(|e| (e["position"].clone(), e["id"].clone())).collect()
}

/// A write that must not wait for NATS.
async fn create(app: &TestApp, token: &str, name: &str) {
    let started = Instant::now();
    let res = app.post_json("/api/v1/users/", Some(token), &json!({"first_name": name, "last_name": null})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(started.elapsed() < Duration::from_secs(2), "a request never waits for NATS: {:?}", started.elapsed());
}

#[actix_rt::test]
async fn the_relay_publishes_every_event_once_in_order_across_a_nats_restart_postgres() {
    publishes_across_a_nats_restart(persistence::Backend::Postgres).await;
}

#[actix_rt::test]
async fn the_relay_publishes_every_event_once_in_order_across_a_nats_restart_sqlite() {
    publishes_across_a_nats_restart(persistence::Backend::Sqlite).await;
}

async fn publishes_across_a_nats_restart(backend: persistence::Backend) {
    let mut nats = Nats::start();
    let url = nats.url();
    let app = TestApp::spawn_with(backend, |c| {
        c.events_nats_url = Some(url.clone());
        c.events_retention = chrono::Duration::days(3);
    })
    .await;
    let root = app.admin("root@example.org").await;
    for i in 0..10 {
        create(&app, &root.token, &format!("Kid{i}")).await;
    }
    let first = stream_events(&nats.url(), 11).await;
    assert_eq!(positions_and_ids(&first), positions_and_ids(&feed(&app, &root, 11).await));

    // NATS goes away: requests go on, the outbox keeps what waits.
    nats.stop();
    for i in 10..20 {
        create(&app, &root.token, &format!("Kid{i}")).await;
    }
    nats.restart();
    for i in 20..25 {
        create(&app, &root.token, &format!("Kid{i}")).await;
    }
    let all = feed(&app, &root, 26).await;
    let published = stream_events(&nats.url(), 26).await;
    assert_eq!(positions_and_ids(&published), positions_and_ids(&all), "every event once, in position order");
    assert_eq!(published[5]["data"], all[5]["data"], "the event as the feed has it");

    let client = async_nats::connect(nats.url()).await.unwrap();
    let mut stream = async_nats::jetstream::new(client).get_stream("STEWARD_EVENTS").await.unwrap();
    let config = stream.info().await.unwrap().config.clone();
    assert_eq!(config.subjects, vec!["steward.events.>".to_owned()]);
    assert_eq!(config.max_age, Duration::from_secs(3 * 86_400), "EVENTS_RETENTION_DAYS");
}

/// Two replicas on one PostgreSQL database: one publishes; when it is
/// killed, the other takes over from the stored cursor, and the stream
/// holds every event once, in order.
#[actix_rt::test]
async fn another_replica_takes_over_when_the_publisher_dies() {
    let nats = Nats::start();
    let mut db = persistence::testing::TestDb::new(persistence::Backend::Postgres);
    let env = [
        ("DATABASE_URL", db.url().to_owned()),
        ("JWT_SECRET", SECRET.to_owned()),
        ("EVENTS_NATS_URL", nats.url()),
        ("RUST_LOG", "info".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut replicas = vec![Process::start(&env), Process::start(&env)];
    let client = reqwest::Client::new();
    let publisher = |replicas: &[Process]| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(i) = replicas.iter().position(|r| r.logs().contains("this replica holds the relay lock")) {
                return i;
            }
            assert!(Instant::now() < deadline, "no replica publishes");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let first = publisher(&replicas);
    let other = 1 - first;
    assert!(!replicas[other].logs().contains("this replica holds the relay lock"), "one publishes at a time");

    let mut written = 0;
    for (i, replica) in replicas.iter().enumerate() {
        for n in 0..5 {
            let res = client
                .post(replica.url("/api/v1/auth/register"))
                .json(&json!({"email": format!("r{i}n{n}@example.org"), "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::CREATED, "{}", body(res).await);
            written += 1;
        }
    }
    // Some published, most likely not all: the publisher dies mid-stream; the survivor goes on writing.
    stream_events(&nats.url(), 1).await;
    let dead = replicas.remove(first);
    dead.signal("KILL");
    drop(dead);
    let survivor = &replicas[0];
    for n in 0..10 {
        let res = client
            .post(survivor.url("/api/v1/auth/register"))
            .json(&json!({"email": format!("after{n}@example.org"), "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        written += 1;
    }
    let published = stream_events(&nats.url(), written).await;
    let positions: Vec<i64> = published.iter().map(|e| e["position"].as_i64().unwrap()).collect();
    assert_eq!(positions, (1..=written as i64).collect::<Vec<_>>(), "every event once, in position order");
    let pool = db.pool();
    let stored = pool.get().unwrap().run(persistence::events::count).unwrap();
    assert_eq!(stored as usize, written);
    assert!(survivor.logs().contains("this replica holds the relay lock"), "the survivor took over");
}
