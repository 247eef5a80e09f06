//! Faults: a process killed mid-write, a database file it cannot use.

use std::collections::HashSet;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{body, PASSWORD};
use crate::operations::Process;

/// Kills Steward with SIGKILL while writers create and delete managed
/// users, restarts it on the same database, and checks that every write
/// that was acknowledged is there, and every acknowledged delete is whole.
#[actix_rt::test]
async fn a_sigkill_during_writes_loses_no_acknowledged_write() {
    let dir = std::env::temp_dir().join(format!("steward-kill-{}", uuid::Uuid::new_v4().simple()));
    let secret = [("JWT_SECRET", "a-fixed-secret-so-tokens-survive-the-restart")];
    let mut proc = Process::start_in(&dir, &secret);
    let client = reqwest::Client::new();
    let res = client
        .post(proc.url("/api/v1/auth/register"))
        .json(&json!({"email": "ada@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res =
        client.post(proc.url("/api/v1/auth/token")).basic_auth("ada@example.org", Some(PASSWORD)).send().await.unwrap();
    let token = body(res).await["access_token"].as_str().unwrap().to_owned();

    let created = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let deleted = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let writer = |n: usize| {
        let (client, token, url) = (client.clone(), token.clone(), proc.url("/api/v1/users/"));
        let (created, deleted) = (created.clone(), deleted.clone());
        async move {
            for i in 0.. {
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"first_name": format!("W{n} {i}"), "last_name": null}))
                    .send()
                    .await;
                let Ok(res) = res else { break };
                if res.status() != StatusCode::CREATED {
                    break;
                }
                let id = body(res).await["id"].as_str().unwrap().to_owned();
                if i % 3 == 0 {
                    match client.delete(format!("{url}{id}")).bearer_auth(&token).send().await {
                        Ok(r) if r.status() == StatusCode::NO_CONTENT => deleted.lock().unwrap().push(id),
                        // The kill cut this delete short: it may have
                        // committed or not, so this user's fate is
                        // neither acknowledged write's.
                        _ => break,
                    }
                } else {
                    created.lock().unwrap().push(id);
                }
            }
        }
    };
    let kill = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        proc.signal("KILL");
    };
    tokio::join!(writer(0), writer(1), writer(2), writer(3), kill);
    proc.wait();

    let created = created.lock().unwrap().clone();
    let deleted = deleted.lock().unwrap().clone();
    assert!(created.len() > 10, "the writers got going before the kill: {}", created.len());

    let proc = Process::start_in(&dir, &secret);
    let res = client.get(proc.url("/api/v1/users/")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "the token survives the restart");
    let listed: HashSet<String> =
        body(res).await.as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect();
    for id in &created {
        assert!(listed.contains(id), "an acknowledged create is there after the kill: {id}");
    }
    for id in &deleted {
        assert!(!listed.contains(id), "an acknowledged delete stays deleted: {id}");
    }
    drop(proc);
    let pool = persistence::Pool::open(&format!("sqlite://{}/steward.db", dir.display()), &Default::default()).unwrap();
    let mut conn = pool.get().unwrap();
    for id in &deleted {
        assert_eq!(
            conn.run(|c| persistence::users::rows_naming(c, id.parse().unwrap())).unwrap(),
            0,
            "no half-deleted user"
        );
    }
    drop(conn);
    drop(pool);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A database file Steward cannot use is a clear error at start-up, never
/// a panic.
#[test]
fn an_unusable_sqlite_file_is_a_clear_error_at_start_up() {
    let dir = std::env::temp_dir().join(format!("steward-bad-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let garbage = dir.join("garbage.db");
    std::fs::write(&garbage, vec![0x42; 8192]).unwrap();
    let cases = [
        (format!("sqlite://{}", garbage.display()), "a file that is not a database"),
        ("sqlite:///dev/null/steward.db".to_owned(), "a folder that cannot exist"),
        (format!("sqlite://{}", dir.display()), "a directory, not a file"),
    ];
    for (url, why) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_steward"))
            .arg("serve")
            .current_dir(std::env::temp_dir())
            .env("DATABASE_URL", &url)
            .env("BIND_ADDR", "127.0.0.1:0")
            .env("JWT_SECRET", "a-secret-that-is-at-least-32-bytes-long")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{why}: refused");
        assert_eq!(out.status.code(), Some(1), "{why}: an error exit, not a panic (101): {stderr}");
        assert!(!stderr.contains("panicked"), "{why}: {stderr}");
        assert!(stderr.contains("Error: database"), "{why}: says the database is the problem: {stderr}");
    }
    let _ = std::fs::remove_dir_all(dir);
}
