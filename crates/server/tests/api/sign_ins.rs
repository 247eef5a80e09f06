//! C5: the sign-ins a person can see and end.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{body, TestApp, PASSWORD};
use crate::mfa::{claims, token_of};
use crate::on_both_backends;

async fn sign_in_from(app: &TestApp, email: &str, forwarded: &str, agent: &str) -> String {
    let res = app
        .request(Method::POST, "/api/v1/auth/token", None)
        .basic_auth(email, Some(PASSWORD))
        .header("x-forwarded-for", forwarded)
        .header("user-agent", reqwest::header::HeaderValue::from_bytes(agent.as_bytes()).unwrap())
        .send()
        .await
        .unwrap();
    token_of(res).await
}

async fn list(app: &TestApp, token: &str) -> Vec<Value> {
    let res = app.get("/api/v1/auth/sign-ins", token).await;
    assert_eq!(res.status(), StatusCode::OK);
    body(res).await.as_array().unwrap().clone()
}

fn sid(token: &str) -> String {
    claims(token)["sid"].as_str().unwrap().to_owned()
}

async fn spawn_behind_a_proxy(backend: persistence::Backend) -> TestApp {
    TestApp::spawn_with(backend, |c| c.trust_forwarded_for = true).await
}

mod behind_a_proxy {
    use super::*;

    #[actix_rt::test]
    async fn postgres() {
        sign_ins_show_networks_agents_and_the_current_one(spawn_behind_a_proxy(persistence::Backend::Postgres).await)
            .await;
    }

    #[actix_rt::test]
    async fn sqlite() {
        sign_ins_show_networks_agents_and_the_current_one(spawn_behind_a_proxy(persistence::Backend::Sqlite).await)
            .await;
    }
}

async fn sign_ins_show_networks_agents_and_the_current_one(app: TestApp) {
    app.register("ada@example.org", PASSWORD).await;
    let phone = sign_in_from(&app, "ada@example.org", "203.0.113.7, 10.0.0.1", "Phone\tApp\u{85}/1.0").await;
    let laptop = sign_in_from(&app, "ada@example.org", "2001:db8:1:2::7", &"L".repeat(300)).await;
    let mine = list(&app, &laptop).await;
    assert_eq!(mine.len(), 2);
    let keys: Vec<&str> = {
        let mut k: Vec<&str> = mine[0].as_object().unwrap().keys().map(String::as_str).collect();
        k.sort();
        k
    };
    assert_eq!(
        keys,
        ["created_at", "current", "expires_at", "id", "ip", "last_ip", "last_used_at", "second_factor", "user_agent"]
    );
    // Most recently used first: the laptop signed in last.
    assert_eq!(mine[0]["id"], json!(sid(&laptop)));
    assert_eq!((&mine[0]["current"], &mine[1]["current"]), (&json!(true), &json!(false)));
    assert_eq!((&mine[0]["ip"], &mine[0]["last_ip"]), (&json!("2001:db8:1::"), &json!("2001:db8:1::")));
    assert_eq!(mine[0]["user_agent"].as_str().unwrap().chars().count(), 256);
    assert_eq!(mine[1]["id"], json!(sid(&phone)));
    assert_eq!(mine[1]["ip"], json!("203.0.113.0"));
    assert_eq!(mine[1]["user_agent"], json!("PhoneApp/1.0"), "control characters removed");
    assert_eq!(mine[1]["second_factor"], json!(null));
    let created = chrono::DateTime::parse_from_rfc3339(mine[1]["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(mine[1]["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_days(), 30, "the absolute limit");
    // Not a network: null.
    let odd = sign_in_from(&app, "ada@example.org", "unknown", "x").await;
    let found = list(&app, &odd).await.into_iter().find(|s| s["id"] == json!(sid(&odd))).unwrap();
    assert_eq!(found["ip"], json!(null));
}

on_both_backends! {
    async fn a_sign_in_is_ended_by_its_account_only(app) {
        let ada = app.account("ada@example.org").await;
        let other = token_of(app.sign_in("ada@example.org", PASSWORD).await).await;
        let bob = app.account("bob@example.org").await;
        assert_eq!(list(&app, &bob.token).await.len(), 1, "Bob sees only his");
        let mut bodies = Vec::new();
        for (id, why) in [(sid(&ada.token), "another account's"), ("not-a-uuid".into(), "malformed"), (uuid::Uuid::new_v4().to_string(), "unknown")] {
            let res = app.delete(&format!("/api/v1/auth/sign-ins/{id}"), &bob.token).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{why}");
            bodies.push(res.bytes().await.unwrap());
        }
        assert_eq!(serde_json::from_slice::<Value>(&bodies[0]).unwrap(), json!({"detail": "Sign-in not found"}));
        assert!(bodies.windows(2).all(|b| b[0] == b[1]), "every 404 is byte-identical");
        assert_eq!(app.get("/api/v1/auth/me", &ada.token).await.status(), StatusCode::OK, "Bob ended nothing");

        let path = format!("/api/v1/auth/sign-ins/{}", sid(&other));
        assert_eq!(app.delete(&path, &ada.token).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/v1/auth/me", &other).await.status(), StatusCode::UNAUTHORIZED, "its tokens are refused");
        let res = app.delete(&path, &ada.token).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "an ended one");
        assert_eq!(list(&app, &ada.token).await.len(), 1, "ended sign-ins are not listed");

        // One's own: a logout.
        let res = app.delete(&format!("/api/v1/auth/sign-ins/{}", sid(&ada.token)), &ada.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
        assert!(cookie.starts_with("token=;") || cookie.contains("Max-Age=0"), "{cookie}");
        assert_eq!(app.get("/api/v1/auth/me", &ada.token).await.status(), StatusCode::UNAUTHORIZED);
    }

    async fn ending_all_other_sign_ins_keeps_the_current_one(app) {
        let ada = app.account("ada@example.org").await;
        for res in futures_util::future::join_all((0..3).map(|_| app.sign_in("ada@example.org", PASSWORD))).await {
            assert_eq!(res.status(), StatusCode::OK);
        }
        let two = token_of(app.sign_in("ada@example.org", PASSWORD).await).await;
        assert_eq!(list(&app, &ada.token).await.len(), 5);
        let res = app.delete("/api/v1/auth/sign-ins", &ada.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/v1/auth/me", &two).await.status(), StatusCode::UNAUTHORIZED);
        let left = list(&app, &ada.token).await;
        assert_eq!(left.len(), 1);
        assert_eq!(left[0]["id"], json!(sid(&ada.token)));
    }

    async fn a_hundred_and_first_sign_in_revokes_the_least_recently_used(app) {
        let ada = app.account("ada@example.org").await;
        let id: domain::UserId = ada.id.parse().unwrap();
        // 99 more sign-ins straight in the store (each by HTTP would hash a
        // password), used long ago, the oldest first.
        let t = persistence::now();
        app.pool.get().unwrap().run(|c| {
            for i in 0..99 {
                let at = t - chrono::Duration::hours(100 - i);
                persistence::sessions::record(c, &persistence::sessions::NewSignIn {
                    user: id, created_at: at, expires_at: at + chrono::Duration::days(30), ip: None, user_agent: None, second_factor: None,
                })?;
            }
            Ok::<_, persistence::StoreError>(())
        }).unwrap();
        let before = list(&app, &ada.token).await;
        assert_eq!(before.len(), 100);
        let oldest = before.last().unwrap()["id"].clone();
        let newest = token_of(app.sign_in("ada@example.org", PASSWORD).await).await;
        let after = list(&app, &newest).await;
        assert_eq!(after.len(), 100, "at most 100");
        assert!(!after.iter().any(|s| s["id"] == oldest), "the least recently used went");
        assert!(after.iter().any(|s| s["id"] == json!(sid(&ada.token))), "the recently used one stays");
        assert_eq!(after[0]["id"], json!(sid(&newest)));
    }

    async fn last_used_at_moves_once_the_period_is_over(app) {
        let ada = app.account("ada@example.org").await;
        let first = list(&app, &ada.token).await[0]["last_used_at"].clone();
        assert_eq!(list(&app, &ada.token).await[0]["last_used_at"], first, "within the period: no write");
        // A sign-in last used 301 s ago (made in the store), and a token for it.
        let user: domain::UserId = ada.id.parse().unwrap();
        let at = persistence::now() - chrono::Duration::seconds(301);
        let new = persistence::sessions::NewSignIn {
            user, created_at: at, expires_at: at + chrono::Duration::days(30), ip: Some("198.51.100.0"), user_agent: None, second_factor: None,
        };
        let id = app.pool.get().unwrap().run(|c| persistence::sessions::record(c, &new)).unwrap();
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"sub": ada.id, "sid": id.to_string(), "jti": uuid::Uuid::new_v4().to_string(),
                            "iat": now, "exp": now + 600, "iss": "steward", "aud": "steward"});
        let key = jsonwebtoken::EncodingKey::from_secret(crate::helpers::SECRET.as_bytes());
        let token = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key).unwrap();
        let stale = list(&app, &ada.token).await.into_iter().find(|s| s["id"] == json!(id.to_string())).unwrap();
        assert_eq!(stale["last_ip"], json!("198.51.100.0"));

        let moved = list(&app, &token).await;
        assert_eq!(moved[0]["id"], json!(id.to_string()), "now the most recently used");
        let used = chrono::DateTime::parse_from_rfc3339(moved[0]["last_used_at"].as_str().unwrap()).unwrap();
        assert!((chrono::Utc::now() - used.with_timezone(&chrono::Utc)).num_seconds() < 10, "moved to now: {used}");
        assert_eq!((&moved[0]["ip"], &moved[0]["last_ip"]), (&json!("198.51.100.0"), &json!("127.0.0.0")), "and last_ip with it");
        assert_eq!(list(&app, &token).await[0]["last_used_at"], moved[0]["last_used_at"], "once per period");
        // The conditional write moves it at most once per period.
        let now = persistence::now();
        let stale_before = now - chrono::Duration::seconds(300);
        let again = app.pool.get().unwrap().run(|c| persistence::sessions::touch(c, id, None, now, stale_before)).unwrap();
        assert!(!again, "a second write in the period changes nothing");
    }
}
