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

/// C3: kills Steward with SIGKILL while a grantee records activities on
/// someone else's account, restarts it on the same database, and checks
/// that every acknowledged write has its access-log entry and every entry
/// its write: the activities and the `activity.create` entries are the
/// same in number, and every acknowledged activity is there.
async fn a_sigkill_leaves_no_write_without_its_entry(env: &[(&str, &str)]) {
    let dir = std::env::temp_dir().join(format!("steward-kill-log-{}", uuid::Uuid::new_v4().simple()));
    let mut proc = Process::start_in(&dir, env);
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    for email in ["ada@example.org", "coach@example.org"] {
        let res = client
            .post(proc.url("/api/v1/auth/register"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = client.post(proc.url("/api/v1/auth/token")).basic_auth(email, Some(PASSWORD)).send().await.unwrap();
        tokens.push(body(res).await["access_token"].as_str().unwrap().to_owned());
    }
    let (ada, coach) = (tokens[0].clone(), tokens[1].clone());
    let me = body(client.get(proc.url("/api/v1/auth/me")).bearer_auth(&ada).send().await.unwrap()).await;
    let ada_id = me["id"].as_str().unwrap().to_owned();
    let res = client
        .post(proc.url("/api/v1/shares/"))
        .bearer_auth(&ada)
        .json(&json!({"grantee_email": "coach@example.org", "scopes": ["data:read", "data:write"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);

    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let writer = |n: usize| {
        let (client, token, url) =
            (client.clone(), coach.clone(), proc.url(&format!("/api/v1/users/{ada_id}/activities")));
        let acknowledged = acknowledged.clone();
        async move {
            for i in 0.. {
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(
                        &json!({"name": format!("W{n} {i}"), "sport": "running", "started_at": "2026-11-28T07:00:00Z"}),
                    )
                    .send()
                    .await;
                let Ok(res) = res else { break };
                if res.status() != StatusCode::CREATED {
                    break;
                }
                let id = body(res).await["id"].as_str().unwrap().to_owned();
                acknowledged.lock().unwrap().push(id);
            }
        }
    };
    let kill = async {
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        proc.signal("KILL");
    };
    tokio::join!(writer(0), writer(1), writer(2), writer(3), kill);
    proc.wait();
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 10, "the writers got going before the kill: {}", acknowledged.len());

    let proc = Process::start_in(&dir, env);
    let pages = |path: String| {
        let (client, url, token) = (client.clone(), proc.url(&path), ada.clone());
        async move {
            let mut all: Vec<serde_json::Value> = Vec::new();
            loop {
                let before = all.last().map(|e| format!("&before={}", e["id"].as_str().unwrap())).unwrap_or_default();
                let res = client.get(format!("{url}?limit=100{before}")).bearer_auth(&token).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::OK);
                let page = body(res).await.as_array().unwrap().clone();
                if page.is_empty() {
                    return all;
                }
                all.extend(page);
            }
        }
    };
    let activities = pages(format!("/api/v1/users/{ada_id}/activities")).await;
    let ids: HashSet<&str> = activities.iter().map(|a| a["id"].as_str().unwrap()).collect();
    for id in &acknowledged {
        assert!(ids.contains(id.as_str()), "an acknowledged write is there after the kill: {id}");
    }
    let log = pages(format!("/api/v1/users/{ada_id}/access-log")).await;
    let created = log.iter().filter(|e| e["action"] == json!("activity.create")).count();
    assert_eq!(created, activities.len(), "one entry per write, no entry without its write");
    drop(proc);
    let _ = std::fs::remove_dir_all(&dir);
}

#[actix_rt::test]
async fn a_sigkill_leaves_no_write_without_its_access_log_entry_sqlite() {
    a_sigkill_leaves_no_write_without_its_entry(&[("JWT_SECRET", "a-fixed-secret-so-tokens-survive-the-restart")])
        .await;
}

#[actix_rt::test]
async fn a_sigkill_leaves_no_write_without_its_access_log_entry_postgres() {
    let db = persistence::testing::TestDb::new(persistence::Backend::Postgres);
    a_sigkill_leaves_no_write_without_its_entry(&[
        ("JWT_SECRET", "a-fixed-secret-so-tokens-survive-the-restart"),
        ("DATABASE_URL", db.url()),
    ])
    .await;
}
