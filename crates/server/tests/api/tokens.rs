//! Tokens: where they are taken from, what is refused, sliding refresh,
//! and revocation that every replica sees.

use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{body, TestApp, PASSWORD, SECRET};
use crate::on_both_backends;

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn sign(claims: &Value, secret: &str) -> String {
    jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

async fn assert_401(app: &TestApp, token: &str, why: &str) {
    let res = app.get("/api/v1/users/", token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{why}");
    assert_eq!(res.headers()["www-authenticate"], "Bearer", "{why}");
    assert!(body(res).await["detail"].is_string(), "{why}");
}

on_both_backends! {
    async fn requests_without_a_good_token_are_401(app) {
        let ada = app.account("ada@example.org").await;
        let res = app.request(Method::GET, "/api/v1/users/", None).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        assert_eq!(body(res).await, json!({"detail": "Not authenticated"}));

        let claims = claims_of(&ada.token);
        let with = |f: &dyn Fn(&mut Value)| { let mut c = claims.clone(); f(&mut c); c };
        let none_header = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = ada.token.split('.').nth(1).unwrap();
        let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap();
        let mut tampered = ada.token.clone();
        tampered.insert(ada.token.rfind('.').unwrap(), 'x');
        let cases: Vec<(String, &str)> = vec![
            ("garbage".into(), "garbage"),
            (format!("{none_header}.{payload}."), "alg none"),
            (hs512, "an algorithm other than the server's"),
            (sign(&claims, "another-secret-that-is-at-least-32-bytes"), "wrongly signed"),
            (tampered, "tampered"),
            (sign(&with(&|c| { c["exp"] = json!(now() - 10); c["iat"] = json!(now() - 100); }), SECRET), "expired"),
            (sign(&with(&|c| { c["nbf"] = json!(now() + 600); }), SECRET), "not yet valid"),
            (sign(&with(&|c| { c["iss"] = json!("someone-else"); }), SECRET), "wrong issuer"),
            (sign(&with(&|c| { c["aud"] = json!("someone-else"); }), SECRET), "wrong audience"),
            (sign(&with(&|c| { c["sid"] = json!(uuid::Uuid::new_v4().to_string()); }), SECRET), "unknown sign-in"),
            (sign(&with(&|c| { c["sub"] = json!(uuid::Uuid::new_v4().to_string()); }), SECRET), "sub of another user"),
            (sign(&with(&|c| { c.as_object_mut().unwrap().remove("exp"); }), SECRET), "no exp"),
            (format!("{}.{}", ada.token, "x".repeat(5000)), "oversize"),
        ];
        for (token, why) in cases {
            assert_401(&app, &token, why).await;
        }
        let res = app.client.get(app.url(&format!("/api/v1/users/?token={}", ada.token))).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "never from the query string");
    }

    async fn a_managed_users_token_is_refused(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let mut claims = claims_of(&ada.token);
        claims["sub"] = json!(kim);
        assert_401(&app, &sign(&claims, SECRET), "a managed user cannot sign in").await;
    }

    async fn tokens_are_taken_from_bearer_then_header_then_cookie(app) {
        let ada = app.account("ada@example.org").await;
        let res = app.client.get(app.url("/api/v1/auth/me")).header("refreshed-token", &ada.token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "refreshed-token header");
        let res = app.client.get(app.url("/api/v1/auth/me")).header("cookie", format!("token={}", ada.token)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "token cookie");
        let res = app.client.get(app.url("/api/v1/auth/me")).bearer_auth("garbage")
            .header("cookie", format!("token={}", ada.token)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "the Bearer header comes first, even when bad");
    }

    async fn a_token_past_half_its_life_is_refreshed_with_the_same_sign_in(app) {
        let ada = app.account("ada@example.org").await;
        let fresh = app.get("/api/v1/auth/me", &ada.token).await;
        assert!(fresh.headers().get("refreshed-token").is_none(), "a young token is not refreshed");

        let mut old = claims_of(&ada.token);
        old["iat"] = json!(now() - 2000);
        old["exp"] = json!(now() + 1600);
        let old = sign(&old, SECRET);
        let res = app.get("/api/v1/auth/me", &old).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers().get("set-cookie").is_none(), "no cookie when the token came from a header");
        let refreshed = res.headers()["refreshed-token"].to_str().unwrap().to_owned();
        let (a, b) = (claims_of(&old), claims_of(&refreshed));
        assert_eq!(a["sid"], b["sid"], "same sign-in");
        assert_ne!(a["jti"], b["jti"], "a new token id");
        assert!(b["exp"].as_i64().unwrap() > a["exp"].as_i64().unwrap());
        assert_eq!(app.get("/api/v1/auth/me", &refreshed).await.status(), StatusCode::OK);

        let res = app.client.get(app.url("/api/v1/auth/me")).header("cookie", format!("token={old}")).send().await.unwrap();
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(cookie.starts_with("token=") && cookie.contains("HttpOnly"), "a cookie refreshes the cookie: {cookie}");

        let res = app.request(Method::POST, "/api/v1/auth/logout", Some(&refreshed)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        for t in [&ada.token, &old, &refreshed] {
            assert_401(&app, t, "every token of a revoked sign-in").await;
        }
    }

    async fn a_token_works_on_every_replica_and_revocation_survives_a_restart(app) {
        let ada = app.account("ada@example.org").await;
        let other = body(app.sign_in("ada@example.org", PASSWORD).await).await["access_token"].as_str().unwrap().to_owned();
        let res = app.request(Method::POST, "/api/v1/auth/logout", Some(&other)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        // A second server on the same database: another replica, or this one restarted.
        let replica = server::build(&app.config).expect("a second replica starts");
        let url = format!("http://127.0.0.1:{}/api/v1/auth/me", replica.port);
        actix_rt::spawn(replica.server);
        let res = app.client.get(&url).bearer_auth(&ada.token).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "a token issued by one replica works on another");
        let res = app.client.get(&url).bearer_auth(&other).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "a revocation holds on another replica");
    }
}
