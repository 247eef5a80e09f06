//! Text that PostgreSQL cannot store: a NUL character, in every input that
//! reaches a statement. Each is decided at the edge, on both backends
//! alike: at sign-in the ordinary 401 (counted by the throttle), a 422
//! where the contract validates the field, a 404 for a path id, a 400 from
//! the HTTP parser for a header. Never a 500.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_422, body, TestApp, PASSWORD};
use crate::on_both_backends;

async fn form_sign_in(app: &TestApp, form: &str) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/auth/token", None)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_owned())
        .send()
        .await
        .unwrap()
}

async fn assert_bad_credentials(res: reqwest::Response, why: &str) {
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{why}");
    assert_eq!(res.headers()["www-authenticate"], "Basic", "{why}");
    assert_eq!(body(res).await, json!({"detail": "Incorrect email or password"}), "{why}");
}

fn nul_at(loc: Value) -> (Value, &'static str) {
    (loc, "value_error")
}

on_both_backends! {
    async fn a_sign_in_form_with_a_nul_is_the_ordinary_401(app) {
        app.account("ada@example.org").await;
        let res = form_sign_in(&app, "username=a%00%40b.c&password=xxxxxxxxxx").await;
        assert_bad_credentials(res, "a NUL in the e-mail").await;
        let res = form_sign_in(&app, &format!("username=ada%40example.org&password={}%00", PASSWORD.replace(' ', "+"))).await;
        assert_bad_credentials(res, "the right password with a NUL after it").await;
        let res = form_sign_in(&app, "username=%00&password=%00").await;
        assert_bad_credentials(res, "nothing but NULs").await;
        let res = app.sign_in("ada@example.org", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "the account still signs in");
    }

    async fn basic_credentials_with_a_nul_are_the_ordinary_401(app) {
        app.account("ada@example.org").await;
        let res = app.sign_in("ada\0@example.org", PASSWORD).await;
        assert_bad_credentials(res, "a NUL in the Basic e-mail").await;
        let res = app.sign_in("ada@example.org", &format!("{PASSWORD}\0")).await;
        assert_bad_credentials(res, "a NUL in the Basic password").await;
    }

    async fn sign_ins_with_a_nul_are_counted_by_the_throttle(app) {
        // Five failures for one account are free; the sixth attempt waits.
        for i in 0..5 {
            let res = form_sign_in(&app, "username=a%00%40b.c&password=xxxxxxxxxx").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "failure {i}");
        }
        // The first wait is 1 s. A loaded machine can take longer than that
        // between two requests; then that attempt is a counted failure and
        // the wait doubles, so one of the next few is throttled all the same
        // (were the NUL sign-ins not counted, none ever would be).
        let mut throttled = None;
        for i in 0..4 {
            let res = form_sign_in(&app, "username=a%00%40b.c&password=xxxxxxxxxx").await;
            if res.status() == StatusCode::TOO_MANY_REQUESTS {
                throttled = Some(res);
                break;
            }
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "attempt {} after the free ones, past its wait", i + 1);
        }
        let res = throttled.expect("an attempt after the five free failures is throttled");
        assert!(res.headers().contains_key("retry-after"));
        // A key of its own: the same address without the NUL is not throttled.
        let res = form_sign_in(&app, "username=a%40b.c&password=xxxxxxxxxx").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "another account's count");
    }

    async fn registration_refuses_a_nul_in_every_field(app) {
        let res = app.post_json("/api/v1/auth/register", None, &json!({
            "email": "ada\u{0}@example.org", "password": "correct horse\u{0}battery",
            "first_name": "A\u{0}da", "last_name": "\u{0}",
        })).await;
        assert_422(res, &[
            // The fields' own rules first (a NUL is a control character
            // to them), then the faults only the NUL guard finds.
            nul_at(json!(["body", "email"])),
            nul_at(json!(["body", "first_name"])),
            nul_at(json!(["body", "last_name"])),
            nul_at(json!(["body", "password"])),
        ], "every field with a NUL").await;
        let res = app.post_json("/api/v1/auth/register", None, &json!({
            "email": "ada@example.org", "password": PASSWORD, "nickname": "x\u{0}",
        })).await;
        assert_422(res, &[nul_at(json!(["body", "nickname"]))], "a field the API does not read").await;
        assert_eq!(app.register("ada@example.org", PASSWORD).await.status(), StatusCode::CREATED, "nothing was stored");
    }

    async fn names_activities_shares_and_traces_refuse_a_nul(app) {
        let ada = app.account("ada@example.org").await;
        app.account("coach@example.org").await;
        let kid = app.managed(&ada, "Kim").await;
        let t = Some(ada.token.as_str());
        let res = app.post_json("/api/v1/users/", t, &json!({"first_name": "K\u{0}im", "last_name": "L\u{0}"})).await;
        assert_422(res, &[nul_at(json!(["body", "first_name"])), nul_at(json!(["body", "last_name"]))], "create").await;
        let res = app.put_json(&format!("/api/v1/users/{kid}"), &ada.token, &json!({"last_name": "\u{0}"})).await;
        assert_422(res, &[nul_at(json!(["body", "last_name"]))], "update").await;
        let res = app.post_json("/api/v1/shares/", t, &json!({
            "grantee_email": "coach@example.org\u{0}", "scopes": ["data:read\u{0}"],
        })).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "share");
        let b = body(res).await;
        let locs: Vec<&Value> = b["detail"].as_array().unwrap().iter().map(|e| &e["loc"]).collect();
        assert_eq!(locs, [&json!(["body", "grantee_email"]), &json!(["body", "scopes", 0])], "{b}");
        let activities = format!("/api/v1/users/{kid}/activities");
        let res = app.post_json(&activities, t, &json!({
            "name": "Run\u{0}", "sport": "\u{0}running", "started_at": "2026-11-28T07:00:00Z",
        })).await;
        assert_422(res, &[nul_at(json!(["body", "name"])), nul_at(json!(["body", "sport"]))], "activity").await;
        let res = app.post_json(&activities, t, &json!({
            "name": "Run", "sport": "running", "started_at": "2026-11-28T07:00:00Z",
        })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let run = body(res).await["id"].as_str().unwrap().to_owned();
        let trace = format!("{activities}/{run}/trace");
        let res = app.put_json(&trace, &ada.token, &json!([
            {"time": "2026-11-28T07:00:00Z\u{0}", "lat": 1.0, "lon": 2.0},
            {"time": "2026-11-28T07:00:01Z", "lat": 1.0, "lon": 2.0, "note": "\u{0}"},
        ])).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "trace");
        let b = body(res).await;
        let locs: Vec<&Value> = b["detail"].as_array().unwrap().iter().map(|e| &e["loc"]).collect();
        assert_eq!(locs, [&json!(["body", 0, "time"]), &json!(["body", 1, "note"])], "{b}");
        let res = app.put_json(&trace, &ada.token, &json!([{"time": "2026-11-28T07:00:00Z", "lat": 1.0, "lon": 2.0, "x": "\u{0}"}])).await;
        assert_422(res, &[nul_at(json!(["body", 0, "x"]))], "a valid trace with a NUL in an unread field").await;
    }

    async fn passwords_being_checked_refuse_a_nul(app) {
        let ada = app.account("ada@example.org").await;
        let res = app.put_json("/api/v1/auth/password", &ada.token, &json!({
            "current_password": format!("{PASSWORD}\u{0}"), "new_password": "another good passphrase",
        })).await;
        assert_422(res, &[nul_at(json!(["body", "current_password"]))], "current password").await;
        let res = app.request(Method::DELETE, "/api/v1/auth/me", Some(&ada.token))
            .json(&json!({"password": "\u{0}"})).send().await.unwrap();
        assert_422(res, &[nul_at(json!(["body", "password"]))], "account deletion").await;
        assert_eq!(app.get("/api/v1/auth/me", &ada.token).await.status(), StatusCode::OK, "nothing happened");
    }

    async fn query_strings_with_a_nul_are_a_422_at_their_parameter(app) {
        let ada = app.account("ada@example.org").await;
        let kid = app.managed(&ada, "Kim").await;
        let res = app.get("/api/v1/users/?include_managed=%00&include_shared=true%00", &ada.token).await;
        assert_422(res, &[nul_at(json!(["query", "include_managed"])), nul_at(json!(["query", "include_shared"]))], "list").await;
        let res = app.get(&format!("/api/v1/users/{kid}/activities?limit=1%00&before=%00"), &ada.token).await;
        assert_422(res, &[nul_at(json!(["query", "limit"])), nul_at(json!(["query", "before"]))], "activities").await;
        let res = app.request(Method::POST, "/api/v1/auth/logout?all=%00", Some(&ada.token)).send().await.unwrap();
        assert_422(res, &[nul_at(json!(["query", "all"]))], "logout").await;
        let res = app.get("/api/v1/users/?unread=%00", &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK, "a parameter the API does not read is ignored");
    }

    async fn path_ids_with_a_nul_are_ids_that_do_not_exist(app) {
        let ada = app.account("ada@example.org").await;
        for path in ["/api/v1/users/%00", "/api/v1/users/00000000-0000-0000-0000-000000000000%00/activities",
                     "/api/v1/shares/%00"] {
            let method = if path.starts_with("/api/v1/shares") { Method::DELETE } else { Method::GET };
            let res = app.request(method, path, Some(&ada.token)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        }
    }

    async fn a_header_with_a_nul_is_refused_by_the_http_parser(app) {
        for header in ["X-Request-Id: abc\0def", "X-Forwarded-For: 203.0.113.7\0", "Authorization: Basic\0 x"] {
            let request = format!(
                "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\n{header}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let answer = crate::limits::raw(&app, request.as_bytes()).await;
            assert!(answer.starts_with("HTTP/1.1 400"), "{header:?}: {answer}");
        }
    }
}

/// Behind a proxy, the client address comes from `X-Forwarded-For` and
/// keys the throttle: whatever it holds makes a key PostgreSQL stores.
#[actix_rt::test]
async fn forwarded_addresses_key_the_throttle_on_postgres() {
    let app = TestApp::spawn_with(persistence::Backend::Postgres, |c| c.trust_forwarded_for = true).await;
    for forwarded in ["203.0.113.7%00", "100%", "x".repeat(300).as_str()] {
        let res = app
            .request(Method::POST, "/api/v1/auth/token", None)
            .basic_auth("nobody@example.org", Some("wrong password"))
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{forwarded:?}");
    }
}
