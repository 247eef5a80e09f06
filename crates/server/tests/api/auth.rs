//! Part B: accounts and sign-in.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_422, body, keys, TestApp, PASSWORD};
use crate::on_both_backends;

fn set_cookie(res: &reqwest::Response) -> String {
    res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>().join("\n")
}

on_both_backends! {
    async fn register_creates_an_account_and_refuses_a_taken_email_in_any_case(app) {
        let res = app.post_json("/api/v1/auth/register", None,
            &json!({"email": "Ada@Example.org", "password": PASSWORD, "first_name": "Ada", "last_name": null})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let user = body(res).await;
        assert_eq!(keys(&user), ["admin", "display_name", "first_name", "id", "is_managed", "last_name", "registered_at"]);
        assert_eq!((user["display_name"].clone(), user["admin"].clone(), user["is_managed"].clone()),
                   (json!("Ada"), json!(false), json!(false)));
        let res = app.register("ada@EXAMPLE.org", "another good passphrase").await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        assert!(body(res).await["detail"].is_string());
    }

    async fn register_lists_every_fault_of_its_body(app) {
        let res = app.post_json("/api/v1/auth/register", None,
            &json!({"email": "not-an-email", "password": "short", "first_name": "", "last_name": 7})).await;
        assert_422(res, &[
            (json!(["body", "email"]), "value_error"),
            (json!(["body", "password"]), "string_too_short"),
            (json!(["body", "first_name"]), "string_too_short"),
            (json!(["body", "last_name"]), "string_type"),
        ], "all four").await;
        let res = app.register("ada@example.org", "password123").await;
        assert_422(res, &[(json!(["body", "password"]), "value_error")], "a common password").await;
        let res = app.register("ada@example.org", &"x".repeat(129)).await;
        assert_422(res, &[(json!(["body", "password"]), "string_too_long")], "129 characters").await;
        let res = app.post_json("/api/v1/auth/register", None, &json!({})).await;
        assert_422(res, &[(json!(["body", "email"]), "missing"), (json!(["body", "password"]), "missing")], "empty").await;
    }

    async fn a_422_never_repeats_a_password(app) {
        let secret = "zq".repeat(70);
        let res = app.register("bad", &secret).await;
        let text = res.text().await.unwrap();
        assert!(!text.contains(&secret), "{text}");
    }

    async fn sign_in_gives_a_token_and_a_safe_cookie(app) {
        app.account("ada@example.org").await;
        let res = app.sign_in("ADA@example.org", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "e-mail is case-insensitive");
        let cookie = set_cookie(&res);
        let b = body(res).await;
        assert_eq!(keys(&b), ["access_token", "expires_in", "token_type"]);
        assert_eq!(b["token_type"], json!("bearer"));
        assert_eq!(b["expires_in"], json!(3600));
        assert!(cookie.starts_with(&format!("token={}", b["access_token"].as_str().unwrap())), "{cookie}");
        for attr in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(attr), "{attr} in {cookie}");
        }
        assert!(!cookie.contains("Secure"), "not Secure unless configured: {cookie}");
        let me = app.get("/api/v1/auth/me", b["access_token"].as_str().unwrap()).await;
        assert_eq!(body(me).await["display_name"], json!("ada"));
    }

    async fn sign_in_takes_the_oauth2_password_form(app) {
        app.account("ada@example.org").await;
        let res = app.request(Method::POST, "/api/v1/auth/token", None)
            .form(&[("username", "ada@example.org"), ("password", PASSWORD), ("grant_type", "password")])
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        // An OAuth2 client sends its own (here empty) client credentials as
        // Basic beside the form, as the interactive docs do: the form's
        // user signs in.
        let res = app.request(Method::POST, "/api/v1/auth/token", None)
            .header("authorization", "Basic Og==")
            .form(&[("username", "ada@example.org"), ("password", PASSWORD), ("grant_type", "password")])
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "the form wins over client credentials");
        let res = app.request(Method::POST, "/api/v1/auth/token", None)
            .form(&[("username", "ada@example.org")]).send().await.unwrap();
        assert_422(res, &[(json!(["body", "password"]), "missing")], "form without password").await;
    }

    async fn wrong_password_and_unknown_email_get_the_same_401(app) {
        app.account("ada@example.org").await;
        let wrong = app.sign_in("ada@example.org", "not the password").await;
        let unknown = app.sign_in("nobody@example.org", "not the password").await;
        for res in [&wrong, &unknown] {
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(res.headers()["www-authenticate"], "Basic");
        }
        let (a, b) = (wrong.bytes().await.unwrap(), unknown.bytes().await.unwrap());
        assert_eq!(a, b);
        assert_eq!(serde_json::from_slice::<Value>(&a).unwrap(), json!({"detail": "Incorrect email or password"}));
    }

    async fn repeated_failed_sign_ins_are_refused_with_retry_after(app) {
        app.account("ada@example.org").await;
        for i in 0..5 {
            let res = app.sign_in("ada@example.org", "wrong password").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "failure {i} is only a 401");
        }
        let res = app.sign_in("ada@example.org", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
        let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry), "Retry-After {retry}");
        tokio::time::sleep(std::time::Duration::from_secs(retry)).await;
        let res = app.sign_in("ada@example.org", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "after Retry-After seconds the right password works");
    }

    async fn logout_revokes_that_sign_in_only_and_clears_the_cookie(app) {
        let ada = app.account("ada@example.org").await;
        let second = body(app.sign_in("ada@example.org", PASSWORD).await).await["access_token"].as_str().unwrap().to_owned();
        let res = app.request(Method::POST, "/api/v1/auth/logout", Some(&ada.token)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let cookie = set_cookie(&res);
        assert!(cookie.starts_with("token=;") || cookie.starts_with("token=\"\""), "{cookie}");
        assert!(cookie.contains("Max-Age=0") || cookie.contains("Expires="), "{cookie}");
        assert_eq!(app.get("/api/v1/auth/me", &ada.token).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.get("/api/v1/auth/me", &second).await.status(), StatusCode::OK, "the other sign-in stays");
    }

    async fn logout_all_revokes_every_sign_in(app) {
        let ada = app.account("ada@example.org").await;
        let second = body(app.sign_in("ada@example.org", PASSWORD).await).await["access_token"].as_str().unwrap().to_owned();
        let res = app.request(Method::POST, "/api/v1/auth/logout?all=true", Some(&ada.token)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        for t in [&ada.token, &second] {
            assert_eq!(app.get("/api/v1/auth/me", t).await.status(), StatusCode::UNAUTHORIZED);
        }
        let res = app.request(Method::POST, "/api/v1/auth/logout?all=maybe", Some(&second)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "401 comes before 422");
    }

    async fn changing_the_password_revokes_every_other_sign_in(app) {
        let ada = app.account("ada@example.org").await;
        let other = body(app.sign_in("ada@example.org", PASSWORD).await).await["access_token"].as_str().unwrap().to_owned();
        let new = "a brand new passphrase";
        let res = app.put_json("/api/v1/auth/password", &ada.token, &json!({"current_password": "wrong", "new_password": new})).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.put_json("/api/v1/auth/password", &ada.token, &json!({"current_password": PASSWORD, "new_password": "password"})).await;
        assert_422(res, &[(json!(["body", "new_password"]), "value_error")], "a common new password").await;
        let res = app.put_json("/api/v1/auth/password", &ada.token, &json!({"current_password": PASSWORD, "new_password": new})).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/v1/auth/me", &ada.token).await.status(), StatusCode::OK, "this sign-in stays");
        assert_eq!(app.get("/api/v1/auth/me", &other).await.status(), StatusCode::UNAUTHORIZED, "others are revoked");
        assert_eq!(app.sign_in("ada@example.org", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.sign_in("ada@example.org", new).await.status(), StatusCode::OK);
    }

    async fn deleting_my_account_removes_it_its_users_and_its_tokens(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let res = app.request(Method::DELETE, "/api/v1/auth/me", Some(&ada.token)).json(&json!({"password": "wrong"})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = app.request(Method::DELETE, "/api/v1/auth/me", Some(&ada.token)).json(&json!({"password": PASSWORD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/v1/auth/me", &ada.token).await.status(), StatusCode::UNAUTHORIZED);
        let mut conn = app.pool.get().unwrap();
        for id in [&ada.id, &kim] {
            assert_eq!(conn.run(|c| persistence::users::rows_naming(c, id.parse().unwrap())).unwrap(), 0);
        }
        assert_eq!(app.sign_in("ada@example.org", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(app.register("ada@example.org", PASSWORD).await.status(), StatusCode::CREATED, "the address is free again");
    }
}

mod closed_registration {
    use super::*;

    async fn check(backend: persistence::Backend) {
        let app = TestApp::spawn_with(backend, |c| c.registration_open = false).await;
        let res = app.register("ada@example.org", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no token");
        server::create_admin(&app.config, "root@example.org", "an admin passphrase").unwrap();
        let admin = body(app.sign_in("root@example.org", "an admin passphrase").await).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let me = body(app.get("/api/v1/auth/me", &admin).await).await;
        assert_eq!(me["admin"], json!(true));
        let res = app
            .post_json(
                "/api/v1/auth/register",
                Some(&admin),
                &json!({"email": "ada@example.org", "password": PASSWORD}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "an admin may register accounts");
        let ada =
            body(app.sign_in("ada@example.org", PASSWORD).await).await["access_token"].as_str().unwrap().to_owned();
        let res = app
            .post_json("/api/v1/auth/register", Some(&ada), &json!({"email": "bob@example.org", "password": PASSWORD}))
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "a non-admin may not");
    }

    #[actix_rt::test]
    async fn postgres() {
        check(persistence::Backend::Postgres).await;
    }

    #[actix_rt::test]
    async fn sqlite() {
        check(persistence::Backend::Sqlite).await;
    }
}
