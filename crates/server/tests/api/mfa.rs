//! C5: the second factor. Codes are computed from the enrollment's secret
//! at chosen times (`domain::mfa`), never waited for.

use base64::Engine;
use domain::mfa::TotpSecret;
use reqwest::header::HeaderMap;
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{body, Account, TestApp, PASSWORD, SECRET};
use crate::on_both_backends;

/// The factor of an account that turned it on.
pub struct Factor {
    pub secret: TotpSecret,
    pub recovery: Vec<String>,
}

pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The code of the step `offset` steps from now.
pub fn code(secret: &TotpSecret, offset: i64) -> String {
    secret.code_at(unix_now() + 30 * offset)
}

/// Waits, when a step ends within 4 s, for the next one: a test that uses
/// the steps around "now" must not see "now" move under it. At most 4 s,
/// never a whole step.
pub async fn early_in_a_step() {
    let into = unix_now().rem_euclid(30);
    if into >= 26 {
        tokio::time::sleep(std::time::Duration::from_millis(((30 - into) * 1000 + 100) as u64)).await;
    }
}

pub async fn enroll(app: &TestApp, who: &Account) -> Value {
    let res = app.post_json("/api/v1/auth/mfa/totp", Some(&who.token), &json!({"password": PASSWORD})).await;
    assert_eq!(res.status(), StatusCode::CREATED, "enroll");
    body(res).await
}

/// Turns the factor on for `who`, confirming with the previous step's code
/// (good: one step of drift), so the current and next steps are left for
/// the sign-ins the test makes.
pub async fn turn_on(app: &TestApp, who: &Account) -> Factor {
    early_in_a_step().await;
    let enrollment = enroll(app, who).await;
    let secret = TotpSecret::from_base32(enrollment["secret"].as_str().unwrap()).unwrap();
    let res =
        app.post_json("/api/v1/auth/mfa/totp/confirm", Some(&who.token), &json!({"code": code(&secret, -1)})).await;
    assert_eq!(res.status(), StatusCode::OK, "confirm");
    let recovery =
        body(res).await["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    Factor { secret, recovery }
}

/// A sign-in by the form, with `otp` in the field and/or the header.
pub async fn sign_in_with(
    app: &TestApp,
    email: &str,
    password: &str,
    field: Option<&str>,
    header: Option<&str>,
) -> Response {
    let mut form = vec![("username", email), ("password", password)];
    if let Some(f) = field {
        form.push(("otp", f));
    }
    let mut req = app.request(Method::POST, "/api/v1/auth/token", None).form(&form);
    if let Some(h) = header {
        req = req.header("x-otp", h);
    }
    req.send().await.unwrap()
}

/// A sign-in by Basic with the `X-OTP` header.
pub async fn basic_with(app: &TestApp, email: &str, otp: &str) -> Response {
    app.request(Method::POST, "/api/v1/auth/token", None)
        .basic_auth(email, Some(PASSWORD))
        .header("x-otp", otp)
        .send()
        .await
        .unwrap()
}

pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub async fn token_of(res: Response) -> String {
    assert_eq!(res.status(), StatusCode::OK, "signed in");
    body(res).await["access_token"].as_str().unwrap().to_owned()
}

async fn assert_second_factor_401(res: Response, required: bool, why: &str) {
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{why}");
    let headers: HeaderMap = res.headers().clone();
    assert_eq!(headers.get("www-authenticate").unwrap(), "Basic", "{why}");
    assert_eq!(headers.get("x-otp").map(|v| v.to_str().unwrap()), required.then_some("required"), "{why}");
    let want = if required {
        json!({"detail": "Second factor required", "error": "mfa_required"})
    } else {
        json!({"detail": "Incorrect second factor", "error": "mfa_invalid"})
    };
    assert_eq!(body(res).await, want, "{why}");
}

async fn assert_bad_password(res: Response, why: &str) {
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{why}");
    assert_eq!(res.headers().get("www-authenticate").unwrap(), "Basic", "{why}");
    assert!(res.headers().get("x-otp").is_none(), "{why}");
    assert_eq!(body(res).await, json!({"detail": "Incorrect email or password"}), "{why}");
}

async fn mfa_of(app: &TestApp, token: &str) -> Value {
    let res = app.get("/api/v1/auth/mfa", token).await;
    assert_eq!(res.status(), StatusCode::OK);
    body(res).await
}

/// A token for the sign-in of `token`, issued long ago and past half its
/// life: the next request refreshes it.
fn aged(token: &str) -> String {
    let mut c = claims(token);
    let now = unix_now();
    c["iat"] = json!(now - 3000);
    c["exp"] = json!(now + 600);
    c.as_object_mut().unwrap().remove("amr");
    let key = jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &c, &key).unwrap()
}

on_both_backends! {
    async fn enrolling_needs_the_password_and_confirming_a_code_of_the_pending_secret(app) {
        let ada = app.account("ada@example.org").await;
        let other = token_of(app.sign_in("ada@example.org", PASSWORD).await).await;
        assert_eq!(mfa_of(&app, &ada.token).await, json!({"totp": false, "enabled_at": null, "recovery_codes_left": 0}));
        assert_eq!(claims(&ada.token)["amr"], json!(["pwd"]));

        let res = app.post_json("/api/v1/auth/totp/confirm", Some(&ada.token), &json!({"code": "123456"})).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "no such path");
        let res = app.post_json("/api/v1/auth/mfa/totp/confirm", Some(&ada.token), &json!({"code": "123456"})).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "no enrollment yet");
        assert_eq!(body(res).await, json!({"detail": "Enrollment not found"}));
        let res = app.post_json("/api/v1/auth/mfa/totp", Some(&ada.token), &json!({"password": "wrong password"})).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(body(res).await, json!({"detail": "Incorrect password"}));

        early_in_a_step().await;
        let first = enroll(&app, &ada).await;
        let again = enroll(&app, &ada).await;
        assert_ne!(first["secret"], again["secret"], "starting again replaces the enrollment");
        let secret_text = again["secret"].as_str().unwrap();
        assert_eq!(secret_text.len(), 32, "160 bits in base32 without padding");
        assert!(secret_text.bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)), "{secret_text}");
        assert_eq!(
            again["otpauth_uri"],
            json!(format!("otpauth://totp/Steward:ada%40example.org?secret={secret_text}&issuer=Steward&algorithm=SHA1&digits=6&period=30"))
        );
        let expires = chrono::DateTime::parse_from_rfc3339(again["expires_at"].as_str().unwrap()).unwrap();
        let left = expires.timestamp() - unix_now();
        assert!((590..=600).contains(&left), "10 minutes: {left}");
        let stale = TotpSecret::from_base32(first["secret"].as_str().unwrap()).unwrap();
        let secret = TotpSecret::from_base32(secret_text).unwrap();

        for (wrong, why) in [(code(&stale, 0), "the replaced secret's"), (code(&secret, 2), "two steps ahead"), ("12345".into(), "five digits")] {
            let res = app.post_json("/api/v1/auth/mfa/totp/confirm", Some(&ada.token), &json!({"code": wrong})).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{why}");
            assert_eq!(body(res).await, json!({"detail": "Incorrect code"}), "{why}");
        }
        let res = app.post_json("/api/v1/auth/mfa/totp/confirm", Some(&ada.token), &json!({"code": code(&secret, 0)})).await;
        assert_eq!(res.status(), StatusCode::OK);
        let codes = body(res).await["recovery_codes"].as_array().unwrap().clone();
        assert_eq!(codes.len(), 10);
        for c in &codes {
            let c = c.as_str().unwrap();
            let groups: Vec<&str> = c.split('-').collect();
            assert!(groups.len() == 4 && groups.iter().all(|g| g.len() == 6), "{c}");
        }

        let mfa = mfa_of(&app, &ada.token).await;
        assert_eq!((&mfa["totp"], &mfa["recovery_codes_left"]), (&json!(true), &json!(10)));
        assert!(mfa["enabled_at"].is_string());
        assert_eq!(app.get("/api/v1/auth/me", &other).await.status(), StatusCode::UNAUTHORIZED, "other sign-ins are revoked");
        let res = app.post_json("/api/v1/auth/mfa/totp", Some(&ada.token), &json!({"password": PASSWORD})).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "already on");
        let res = app.post_json("/api/v1/auth/mfa/totp/confirm", Some(&ada.token), &json!({"code": code(&secret, 1)})).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "already on");

        // The caller's own sign-in counts as having given the factor.
        let list = body(app.get("/api/v1/auth/sign-ins", &ada.token).await).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!((&list[0]["second_factor"], &list[0]["current"]), (&json!("totp"), &json!(true)));
        let res = app.get("/api/v1/auth/me", &aged(&ada.token)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let refreshed = res.headers().get("refreshed-token").expect("refreshed").to_str().unwrap().to_owned();
        assert_eq!(claims(&refreshed)["amr"], json!(["pwd", "otp"]), "refreshed tokens carry the factor");
        assert_eq!(claims(&refreshed)["sid"], claims(&ada.token)["sid"]);
        // The confirming code's step counts as used.
        assert_second_factor_401(sign_in_with(&app, "ada@example.org", PASSWORD, Some(&code(&secret, 0)), None).await, false, "the confirming code").await;
    }

    async fn signing_in_with_the_factor_on_checks_password_then_code(app) {
        let ada = app.account("ada@example.org").await;
        let f = turn_on(&app, &ada).await;
        let email = "ada@example.org";
        let now_code = code(&f.secret, 0);

        assert_bad_password(sign_in_with(&app, email, "wrong password", Some(&now_code), None).await, "wrong password, right code").await;
        assert_bad_password(sign_in_with(&app, email, "wrong password", None, None).await, "wrong password, no code").await;
        assert_second_factor_401(sign_in_with(&app, email, PASSWORD, None, None).await, true, "no code").await;
        assert_second_factor_401(sign_in_with(&app, email, PASSWORD, Some(""), Some("")).await, true, "empty codes are absent").await;
        assert_second_factor_401(app.sign_in(email, PASSWORD).await, true, "Basic without a code").await;
        for (wrong, why) in [(code(&f.secret, 2), "two steps ahead"), (code(&f.secret, -2), "two steps behind"),
                             ("12345".to_owned(), "five digits"), (format!(" {now_code}"), "a space"), ("abcdef".into(), "letters")] {
            assert_second_factor_401(sign_in_with(&app, email, PASSWORD, Some(&wrong), None).await, false, why).await;
        }

        // The code a wrong password came with was never looked at: still good.
        let token = token_of(sign_in_with(&app, email, PASSWORD, Some(&now_code), None).await).await;
        assert_eq!(claims(&token)["amr"], json!(["pwd", "otp"]));
        assert_second_factor_401(basic_with(&app, email, &now_code).await, false, "a code works once").await;
        // The next step's code, by Basic and the header; the field wins over the header.
        let next = code(&f.secret, 1);
        assert_second_factor_401(sign_in_with(&app, email, PASSWORD, Some("000000"), Some(&next)).await, false, "the field wins").await;
        let token = token_of(basic_with(&app, email, &next).await).await;
        assert_eq!(claims(&token)["amr"], json!(["pwd", "otp"]));
        assert_eq!(app.get("/api/v1/auth/me", &token).await.status(), StatusCode::OK);

        // An account without the factor: a code is ignored.
        let bob = app.account("bob@example.org").await;
        let token = token_of(sign_in_with(&app, "bob@example.org", PASSWORD, Some("garbage"), Some("123456")).await).await;
        assert_eq!(claims(&token)["amr"], json!(["pwd"]));
        let _ = bob;
    }

    async fn recovery_codes_sign_in_once_each_and_a_new_set_voids_the_old(app) {
        let ada = app.account("ada@example.org").await;
        let f = turn_on(&app, &ada).await;
        let email = "ada@example.org";
        let typed = f.recovery[0].to_uppercase().replace('-', " ");
        let res = sign_in_with(&app, email, PASSWORD, Some(&typed), None).await;
        assert_eq!(res.status(), StatusCode::OK);
        let b = body(res).await;
        assert_eq!(b["recovery_codes_left"], json!(9));
        let token = b["access_token"].as_str().unwrap().to_owned();
        assert_eq!(claims(&token)["amr"], json!(["pwd", "otp"]), "a recovery code counts as otp");
        let list = body(app.get("/api/v1/auth/sign-ins", &token).await).await;
        let mine = list.as_array().unwrap().iter().find(|s| s["current"] == json!(true)).unwrap();
        assert_eq!(mine["second_factor"], json!("recovery_code"));
        assert_second_factor_401(basic_with(&app, email, &f.recovery[0]).await, false, "used up").await;
        let res = basic_with(&app, email, &f.recovery[1]).await;
        assert!(body(res).await["recovery_codes_left"] == json!(8), "by the header too");
        let without = token_of(sign_in_with(&app, email, PASSWORD, Some(&code(&f.secret, 0)), None).await).await;
        assert!(!body(app.request(Method::POST, "/api/v1/auth/token", None).basic_auth(email, Some(PASSWORD))
            .header("x-otp", code(&f.secret, 1)).send().await.unwrap()).await.as_object().unwrap().contains_key("recovery_codes_left"),
            "only after a recovery code");
        let _ = without;

        let path = "/api/v1/auth/mfa/recovery-codes";
        let res = app.post_json(path, Some(&token), &json!({"password": "wrong password", "code": f.recovery[2]})).await;
        assert_eq!((res.status(), body(res).await), (StatusCode::FORBIDDEN, json!({"detail": "Incorrect password"})));
        let res = app.post_json(path, Some(&token), &json!({"password": PASSWORD, "code": "000000"})).await;
        assert_eq!((res.status(), body(res).await), (StatusCode::FORBIDDEN, json!({"detail": "Incorrect code"})));
        let res = app.post_json(path, Some(&token), &json!({"password": PASSWORD, "code": f.recovery[2]})).await;
        assert_eq!(res.status(), StatusCode::OK);
        let fresh: Vec<String> = body(res).await["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        assert_eq!(fresh.len(), 10);
        assert_eq!(mfa_of(&app, &token).await["recovery_codes_left"], json!(10));
        assert_second_factor_401(basic_with(&app, email, &f.recovery[3]).await, false, "the old set is void").await;
        let res = basic_with(&app, email, &fresh[0]).await;
        assert_eq!(body(res).await["recovery_codes_left"], json!(9));
    }

    async fn turning_the_factor_off_needs_password_and_code_and_revokes_other_sign_ins(app) {
        let ada = app.account("ada@example.org").await;
        let email = "ada@example.org";
        for (method, path) in [(Method::DELETE, "/api/v1/auth/mfa"), (Method::POST, "/api/v1/auth/mfa/recovery-codes")] {
            let res = app.request(method, path, Some(&ada.token)).json(&json!({"password": PASSWORD, "code": "123456"})).send().await.unwrap();
            assert_eq!((res.status(), body(res).await), (StatusCode::NOT_FOUND, json!({"detail": "Second factor not found"})), "{path} off");
        }
        let f = turn_on(&app, &ada).await;
        let other = token_of(sign_in_with(&app, email, PASSWORD, Some(&code(&f.secret, 0)), None).await).await;
        let off = |token: String, password: &'static str, code: String| {
            let req = app.request(Method::DELETE, "/api/v1/auth/mfa", Some(&token)).json(&json!({"password": password, "code": code}));
            async move { req.send().await.unwrap() }
        };
        let res = off(ada.token.clone(), "wrong password", f.recovery[0].clone()).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "wrong password");
        let res = off(ada.token.clone(), PASSWORD, code(&f.secret, 0)).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "a used code");
        // A lost phone: a recovery code turns it off.
        assert_eq!(off(ada.token.clone(), PASSWORD, f.recovery[0].clone()).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get("/api/v1/auth/me", &other).await.status(), StatusCode::UNAUTHORIZED, "other sign-ins revoked");
        assert_eq!(mfa_of(&app, &ada.token).await, json!({"totp": false, "enabled_at": null, "recovery_codes_left": 0}));
        let token = token_of(app.sign_in(email, PASSWORD).await).await;
        assert_eq!(claims(&token)["amr"], json!(["pwd"]), "the password alone again");
        assert_eq!(off(ada.token.clone(), PASSWORD, f.recovery[1].clone()).await.status(), StatusCode::NOT_FOUND, "already off");
        // PUT /auth/password needs no code.
        let g = turn_on(&app, &ada).await;
        let res = app.put_json("/api/v1/auth/password", &ada.token, &json!({"current_password": PASSWORD, "new_password": "another good passphrase"})).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let _ = g;
    }

    async fn wrong_codes_are_throttled_per_account_apart_from_passwords(app) {
        let ada = app.account("ada@example.org").await;
        let email = "ada@example.org";
        let f = turn_on(&app, &ada).await;
        let wrong_delete = || app.request(Method::DELETE, "/api/v1/auth/mfa", Some(&ada.token))
            .json(&json!({"password": PASSWORD, "code": "not-a-code"})).send();
        // Three wrong at sign-in, three at DELETE /auth/mfa: the sixth earns
        // a wait of 2^(6-6) = 1 s.
        for i in 0..3 {
            assert_second_factor_401(basic_with(&app, email, "000000").await, false, &format!("wrong {i}")).await;
        }
        for i in 0..3 {
            assert_eq!(wrong_delete().await.unwrap().status(), StatusCode::FORBIDDEN, "wrong at DELETE {i}");
        }
        let res = basic_with(&app, email, &code(&f.secret, 0)).await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "waiting: even a right code");
        let wait: u64 = res.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
        assert_eq!(wait, 1);
        assert_eq!(body(res).await, json!({"detail": "Too many wrong codes; try again later"}));
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let token = token_of(basic_with(&app, email, &code(&f.secret, 0)).await).await;
        assert_eq!(claims(&token)["amr"], json!(["pwd", "otp"]), "after the wait, a right code");

        // A success cleared the count: five wrong ones are free again.
        for i in 0..5 {
            assert_second_factor_401(basic_with(&app, email, "000000").await, false, &format!("after clearing {i}")).await;
        }
        // Four more, counted in the shared rows as another replica would:
        // nine, a wait of 8 s, which every code check answers.
        let key = domain::throttle::code_key(ada.id.parse().unwrap());
        for _ in 0..4 {
            let now = persistence::now();
            let cutoff = domain::throttle::Policy::CODE.window_cutoff(now);
            app.pool.get().unwrap().run(|c| persistence::throttle::record_failure(c, &key, now, cutoff)).unwrap();
        }
        for (res, why) in [
            (basic_with(&app, email, &code(&f.secret, 1)).await, "sign-in"),
            (wrong_delete().await.unwrap(), "DELETE /auth/mfa"),
            (app.post_json("/api/v1/auth/mfa/recovery-codes", Some(&ada.token), &json!({"password": PASSWORD, "code": f.recovery[0]})).await, "recovery-codes"),
        ] {
            assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{why}");
            let wait: u64 = res.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
            assert!((6..=8).contains(&wait), "{why}: {wait}");
        }
        // A stranger never sees the code throttle: a wrong password is Part B's 401.
        assert_bad_password(sign_in_with(&app, email, "wrong password", Some("000000"), None).await, "a wrong password while codes wait").await;
        let res = app.post_json("/api/v1/auth/mfa/recovery-codes", Some(&ada.token), &json!({"password": "wrong password", "code": "x"})).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "the password before the code throttle");
    }

    async fn one_code_in_two_sign_ins_at_once_works_once(app) {
        let ada = app.account("ada@example.org").await;
        let f = turn_on(&app, &ada).await;
        let now_code = code(&f.secret, 0);
        let (a, b) = tokio::join!(basic_with(&app, "ada@example.org", &now_code), basic_with(&app, "ada@example.org", &now_code));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 401], "one sign-in gets the step");
        let code = f.recovery[0].clone();
        let (a, b) = tokio::join!(basic_with(&app, "ada@example.org", &code), basic_with(&app, "ada@example.org", &code));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 401], "one recovery code, one success");
    }

    async fn two_confirmations_at_once_turn_the_factor_on_once(app) {
        let ada = app.account("ada@example.org").await;
        early_in_a_step().await;
        let secret = TotpSecret::from_base32(enroll(&app, &ada).await["secret"].as_str().unwrap()).unwrap();
        let (one, two) = (json!({"code": code(&secret, 0)}), json!({"code": code(&secret, 1)}));
        let path = "/api/v1/auth/mfa/totp/confirm";
        let (a, b) = tokio::join!(app.post_json(path, Some(&ada.token), &one), app.post_json(path, Some(&ada.token), &two));
        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409]);
        assert_eq!(mfa_of(&app, &ada.token).await["recovery_codes_left"], json!(10), "one set of codes");
    }

    async fn a_sign_in_racing_the_factor_turning_on_is_judged_wholly_before_or_after(app) {
        let ada = app.account("ada@example.org").await;
        early_in_a_step().await;
        let secret = TotpSecret::from_base32(enroll(&app, &ada).await["secret"].as_str().unwrap()).unwrap();
        let now_code = json!({"code": code(&secret, 0)});
        let confirm = app.post_json("/api/v1/auth/mfa/totp/confirm", Some(&ada.token), &now_code);
        let signs = futures_util::future::join_all((0..4).map(|_| app.sign_in("ada@example.org", PASSWORD)));
        let (confirmed, signs) = tokio::join!(confirm, signs);
        assert_eq!(confirmed.status(), StatusCode::OK);
        for res in signs {
            match res.status() {
                // Before: its sign-in was then revoked with the others.
                StatusCode::OK => {
                    let token = body(res).await["access_token"].as_str().unwrap().to_owned();
                    assert_eq!(app.get("/api/v1/auth/me", &token).await.status(), StatusCode::UNAUTHORIZED, "revoked by the change");
                }
                // After: the factor is needed.
                StatusCode::UNAUTHORIZED => assert_eq!(body(res).await["error"], json!("mfa_required")),
                other => panic!("{other}"),
            }
        }
    }

    async fn the_secret_never_reaches_an_export_or_an_error_body(app) {
        let ada = app.account("ada@example.org").await;
        let enrollment = enroll(&app, &ada).await;
        let secret_text = enrollment["secret"].as_str().unwrap().to_owned();
        let secret = TotpSecret::from_base32(&secret_text).unwrap();
        let res = app.post_json("/api/v1/auth/mfa/totp/confirm", Some(&ada.token), &json!({"code": code(&secret, 0)})).await;
        let recovery = body(res).await["recovery_codes"][0].as_str().unwrap().to_owned();
        let doc = server::batch::export(&app.pool, ada.id.parse().unwrap()).unwrap().unwrap();
        assert_eq!(doc["second_factor"]["totp"], json!(true));
        assert_eq!(doc["second_factor"]["recovery_codes_left"], json!(10));
        assert_eq!(doc["sign_ins"][0]["second_factor"], json!("totp"), "what the person sees of each sign-in");
        assert_eq!(doc["sign_ins"][0]["ip"], json!("127.0.0.0"));
        let text = doc.to_string();
        let raw_hex: String = secret.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        for leak in [secret_text.as_str(), &secret_text.to_lowercase(), &raw_hex, "secret", "sealed", "code_hash", &recovery] {
            assert!(!text.contains(leak), "the export holds {leak:?}");
        }
        // Error bodies: the secret and codes never come back.
        for req in [
            app.post_json("/api/v1/auth/mfa/totp", Some(&ada.token), &json!({"password": PASSWORD})).await,
            app.post_json("/api/v1/auth/mfa/totp/confirm", Some(&ada.token), &json!({"code": "x".repeat(300)})).await,
            app.request(Method::DELETE, "/api/v1/auth/mfa", Some(&ada.token)).json(&json!({"password": PASSWORD, "code": "000000"})).send().await.unwrap(),
        ] {
            assert!(req.status().is_client_error());
            let text = req.text().await.unwrap();
            assert!(!text.contains(&secret_text) && !text.contains(&raw_hex), "{text}");
        }
    }
}

/// The secret, the codes and the recovery codes never reach a log line,
/// even at `RUST_LOG=debug` and with a 500 logged.
#[actix_rt::test]
async fn the_secret_and_codes_never_reach_a_log() {
    let proc = crate::operations::Process::start(&[("RUST_LOG", "trace")]);
    let client = reqwest::Client::new();
    let res = client
        .post(proc.url("/api/v1/auth/register"))
        .json(&json!({"email": "ada@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = token_of(
        client.post(proc.url("/api/v1/auth/token")).basic_auth("ada@example.org", Some(PASSWORD)).send().await.unwrap(),
    )
    .await;
    early_in_a_step().await;
    let res = client
        .post(proc.url("/api/v1/auth/mfa/totp"))
        .bearer_auth(&token)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let secret_text = body(res).await["secret"].as_str().unwrap().to_owned();
    let secret = TotpSecret::from_base32(&secret_text).unwrap();
    let confirm_code = code(&secret, 0);
    let res = client
        .post(proc.url("/api/v1/auth/mfa/totp/confirm"))
        .bearer_auth(&token)
        .json(&json!({"code": confirm_code}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let recovery: Vec<String> =
        body(res).await["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    let next = code(&secret, 1);
    let res = client
        .post(proc.url("/api/v1/auth/token"))
        .basic_auth("ada@example.org", Some(PASSWORD))
        .header("x-otp", &next)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = client
        .post(proc.url("/api/v1/auth/token"))
        .basic_auth("ada@example.org", Some(PASSWORD))
        .header("x-otp", &recovery[0])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let logs = proc.logs();
    assert!(logs.contains("/api/v1/auth/mfa/totp/confirm"), "the requests were logged: {logs}");
    let raw_hex: String = secret.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
    for leak in [secret_text.as_str(), &raw_hex, &recovery[0], &recovery[1]] {
        assert!(!logs.contains(leak), "a log holds {leak:?}");
    }
    // A 6-digit code, not as part of a longer number (a timestamp's
    // microseconds may hold any six digits).
    for leak in [&confirm_code, &next] {
        let alone = logs.match_indices(leak.as_str()).any(|(i, _)| {
            let before = logs[..i].chars().next_back().is_none_or(|c| !c.is_ascii_digit());
            let after = logs[i + 6..].chars().next().is_none_or(|c| !c.is_ascii_digit());
            before && after
        });
        assert!(!alone, "a log holds the code {leak}");
    }
}

/// Sign-in with a code costs one Argon2id run, as one without: read from
/// `steward_argon2_runs_total` of a process of its own (the hashers are
/// the process's, so other tests' sign-ins must not count).
#[actix_rt::test]
async fn a_sign_in_with_a_code_costs_one_argon2_run_like_one_without() {
    let proc = crate::operations::Process::start(&[("JWT_SECRET", SECRET)]);
    let client = reqwest::Client::new();
    let runs = || {
        let (client, url) = (client.clone(), proc.url("/metrics"));
        async move {
            let text = client.get(url).send().await.unwrap().text().await.unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("steward_argon2_runs_total "))
                .expect("the metric is served")
                .trim()
                .parse::<u64>()
                .unwrap()
        }
    };
    let sign_in = |email: &'static str, otp: Option<String>| {
        let (client, url) = (client.clone(), proc.url("/api/v1/auth/token"));
        async move {
            let mut form = vec![("username", email.to_owned()), ("password", PASSWORD.to_owned())];
            if let Some(otp) = otp {
                form.push(("otp", otp));
            }
            client.post(url).form(&form).send().await.unwrap()
        }
    };
    for email in ["ada@example.org", "bob@example.org"] {
        let res = client
            .post(proc.url("/api/v1/auth/register"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    early_in_a_step().await;
    let token = body(sign_in("ada@example.org", None).await).await["access_token"].as_str().unwrap().to_owned();
    let res = client
        .post(proc.url("/api/v1/auth/mfa/totp"))
        .bearer_auth(&token)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let secret = TotpSecret::from_base32(body(res).await["secret"].as_str().unwrap()).unwrap();
    let res = client
        .post(proc.url("/api/v1/auth/mfa/totp/confirm"))
        .bearer_auth(&token)
        .json(&json!({"code": code(&secret, -1)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let cases = [
        ("bob@example.org", None, 200, "no factor"),
        ("ada@example.org", Some(code(&secret, 0)), 200, "the right code"),
        ("ada@example.org", Some("000000".to_owned()), 401, "a wrong code"),
        ("ada@example.org", None, 401, "no code"),
    ];
    for (email, otp, want, why) in cases {
        let before = runs().await;
        let res = sign_in(email, otp).await;
        assert_eq!(res.status().as_u16(), want, "{why}");
        assert_eq!(runs().await - before, 1, "{why}: one Argon2id run");
    }
}
