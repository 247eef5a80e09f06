//! Load without loss: 64 connections of mixed traffic (creates, reads,
//! updates, deletes, grants) for `LOAD_SECONDS` (60 by default) on
//! PostgreSQL, and half of that on SQLite. No 5xx, and afterwards the
//! database holds exactly the users that were created and not deleted.
//! A test binary of its own, so it runs alone, after the others.

// The HTTP suite's harness; this binary uses only part of it.
#[allow(dead_code)]
#[path = "api/helpers.rs"]
mod helpers;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use helpers::{body, TestApp};
use reqwest::StatusCode;
use serde_json::json;

const CONNECTIONS: usize = 64;

struct Outcome {
    statuses: BTreeMap<u16, u64>,
    created: HashSet<String>,
    deleted: HashSet<String>,
    unexpected: Vec<String>,
}

async fn worker(app: &TestApp, n: usize, token: String, deadline: Instant) -> Outcome {
    let mut out =
        Outcome { statuses: BTreeMap::new(), created: HashSet::new(), deleted: HashSet::new(), unexpected: vec![] };
    let mut live: Vec<String> = Vec::new();
    let mut i: u64 = 0;
    while Instant::now() < deadline {
        i += 1;
        // A fixed mix, turned by a counter: 35 % list, 25 % create, 15 %
        // read one, 10 % update, 10 % delete, 5 % grant.
        let pick = (i * 7 + n as u64) % 20;
        let (what, res) = if pick < 7 || (pick >= 12 && live.is_empty()) {
            ("list", app.get("/api/v1/users/", &token).await)
        } else if pick < 12 {
            let res = app
                .post_json(
                    "/api/v1/users/",
                    Some(&token),
                    &json!({"first_name": format!("U{n}-{i}"), "last_name": null}),
                )
                .await;
            if res.status() == StatusCode::CREATED {
                let id = body(res).await["id"].as_str().unwrap().to_owned();
                out.created.insert(id.clone());
                live.push(id);
                *out.statuses.entry(201).or_default() += 1;
                continue;
            }
            ("create", res)
        } else if pick < 15 {
            let id = &live[(i as usize) % live.len()];
            ("get", app.get(&format!("/api/v1/users/{id}"), &token).await)
        } else if pick < 17 {
            let id = &live[(i as usize) % live.len()];
            ("put", app.put_json(&format!("/api/v1/users/{id}"), &token, &json!({"last_name": format!("L{i}")})).await)
        } else if pick < 19 {
            let id = live.swap_remove((i as usize) % live.len());
            let res = app.delete(&format!("/api/v1/users/{id}"), &token).await;
            if res.status() == StatusCode::NO_CONTENT {
                out.deleted.insert(id);
            }
            ("delete", res)
        } else {
            let grantee = format!("load{}@example.org", (n + 1) % CONNECTIONS);
            let res = app
                .post_json("/api/v1/shares/", Some(&token), &json!({"grantee_email": grantee, "scopes": ["data:read"]}))
                .await;
            ("grant", res)
        };
        let status = res.status().as_u16();
        *out.statuses.entry(status).or_default() += 1;
        let expected = match what {
            "grant" => status == 201 || status == 409,
            "delete" => status == 204,
            _ => status == 200,
        };
        if !expected {
            out.unexpected.push(format!("{what} -> {status}: {}", res.text().await.unwrap_or_default()));
        }
    }
    out
}

async fn run(backend: persistence::Backend, seconds: u64) {
    let app = TestApp::spawn_with(backend, |c| {
        c.pool_size = 10;
        c.pool_timeout = Duration::from_secs(5);
    })
    .await;
    let mut tokens = Vec::new();
    for n in 0..CONNECTIONS {
        tokens.push(app.account(&format!("load{n}@example.org")).await.token);
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let outcomes =
        futures_util::future::join_all(tokens.into_iter().enumerate().map(|(n, t)| worker(&app, n, t, deadline))).await;

    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let (mut created, mut deleted, mut unexpected) = (HashSet::new(), HashSet::new(), Vec::new());
    for o in outcomes {
        for (s, c) in o.statuses {
            *statuses.entry(s).or_default() += c;
        }
        created.extend(o.created);
        deleted.extend(o.deleted);
        unexpected.extend(o.unexpected);
    }
    let total: u64 = statuses.values().sum();
    let server_errors: u64 = statuses.iter().filter(|(s, _)| **s >= 500).map(|(_, c)| c).sum();
    println!("{backend:?}: {total} requests in {seconds} s at {CONNECTIONS} connections: {statuses:?}");
    assert_eq!(server_errors, 0, "no 5xx: {statuses:?}; {:?}", &unexpected[..unexpected.len().min(5)]);
    assert!(unexpected.is_empty(), "every answer as expected: {:?}", &unexpected[..unexpected.len().min(5)]);
    assert!(total > 1000, "the load ran: {total}");

    // Exactly the users created and not deleted, no more, no fewer.
    let mut conn = app.pool.get().unwrap();
    let mut held = HashSet::new();
    for n in 0..CONNECTIONS {
        let (manager, _) = conn
            .run(|c| persistence::users::find_account_by_email(c, &format!("load{n}@example.org")))
            .unwrap()
            .unwrap();
        held.extend(
            conn.run(|c| persistence::users::list_managed(c, manager.id))
                .unwrap()
                .into_iter()
                .map(|u| u.id.to_string()),
        );
    }
    let want: HashSet<String> = created.difference(&deleted).cloned().collect();
    assert_eq!(held.len(), want.len(), "rows lost or left behind");
    assert_eq!(held, want, "the database holds exactly the users created and not deleted");
    println!("{backend:?}: {} created, {} deleted, {} held; 0 lost", created.len(), deleted.len(), held.len());
}

fn seconds() -> u64 {
    std::env::var("LOAD_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(60)
}

#[actix_rt::test]
async fn sixty_seconds_of_mixed_load_on_postgres_lose_nothing() {
    run(persistence::Backend::Postgres, seconds()).await;
}

#[actix_rt::test]
async fn mixed_load_on_sqlite_loses_nothing() {
    run(persistence::Backend::Sqlite, seconds() / 2).await;
}
