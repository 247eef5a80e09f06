//! C2: claim codes, and a managed user taken over as an account in place.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{body, TestApp, PASSWORD};
use crate::on_both_backends;

const NEW_PASSWORD: &str = "a brand new passphrase";

fn code_path(user: &str) -> String {
    format!("/api/v1/users/{user}/claim-code")
}

async fn issue(app: &TestApp, token: &str, user: &str, keep: Value) -> String {
    let res = app.post_json(&code_path(user), Some(token), &json!({"keep_scopes": keep})).await;
    assert_eq!(res.status(), StatusCode::CREATED, "issue a code");
    body(res).await["code"].as_str().unwrap().to_owned()
}

async fn claim(app: &TestApp, code: &str, email: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/claim", None, &json!({"code": code, "email": email, "password": NEW_PASSWORD})).await
}

fn uid(id: &str) -> domain::UserId {
    id.parse().unwrap()
}

/// Makes `manager` a manager of `user` too, through the store (quicker
/// than C1's invitation and acceptance, which managers.rs tests).
fn add_manager(app: &TestApp, user: &str, manager: &str) {
    let (user, manager) = (uid(user), uid(manager));
    app.pool.get().unwrap().run(|c| persistence::managers::add(c, user, manager, persistence::now())).unwrap();
}

fn rows_naming(app: &TestApp, user: &str) -> i64 {
    let user = uid(user);
    app.pool.get().unwrap().run(|c| persistence::users::rows_naming(c, user)).unwrap()
}

on_both_backends! {
    async fn a_claim_code_is_issued_grouped_and_valid_for_seven_days(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let res = app.post_json(&code_path(&kim), Some(&ada.token), &json!({})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let b = body(res).await;
        assert_eq!(crate::helpers::keys(&b), ["code", "expires_at"]);
        let code = b["code"].as_str().unwrap();
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 7, "{code}");
        assert!(groups.iter().all(|g| g.len() == 4 && g.chars().all(|c| c.is_ascii_alphanumeric())), "{code}");
        let expires: chrono::DateTime<Utc> = b["expires_at"].as_str().unwrap().parse().unwrap();
        let left = expires - Utc::now();
        assert!(left > Duration::days(7) - Duration::minutes(1) && left <= Duration::days(7), "{left}");
    }

    async fn a_managed_user_is_claimed_in_place(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let coach = app.account("coach@example.org").await;
        let res = app
            .post_json("/api/v1/users/", Some(&ada.token), &json!({"first_name": "Kim", "last_name": "Lee"}))
            .await;
        let before = body(res).await;
        let kim = before["id"].as_str().unwrap().to_owned();
        let activity = json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"});
        let res = app.post_json(&format!("/api/v1/users/{kim}/activities"), Some(&ada.token), &activity).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let activity_id = body(res).await["id"].as_str().unwrap().to_owned();
        let trace = json!([{"time": "2026-11-28T07:00:00Z", "lat": 1.0, "lon": 2.0}]);
        let res = app.put_json(&format!("/api/v1/users/{kim}/activities/{activity_id}/trace"), &ada.token, &trace).await;
        assert!(res.status().is_success(), "trace: {}", res.status());
        // Bob holds a share on Kim before he co-manages it; the coach one.
        let share = |email: &str| json!({"grantee_email": email, "scopes": ["data:write"], "user_id": kim,
                                         "expires_at": "2099-01-01T00:00:00Z"});
        let res = app.post_json("/api/v1/shares/", Some(&ada.token), &share("bob@example.org")).await;
        let bobs_share = body(res).await["id"].as_str().unwrap().to_owned();
        let res = app.post_json("/api/v1/shares/", Some(&ada.token), &share("coach@example.org")).await;
        let coach_share = body(res).await["id"].as_str().unwrap().to_owned();
        add_manager(&app, &kim, &bob.id);

        let code = issue(&app, &ada.token, &kim, json!(["data:read"])).await;
        let typed = format!("  {}  ", code.to_uppercase().replace('-', " "));
        let res = claim(&app, &typed, "kim@example.org").await;
        assert_eq!(res.status(), StatusCode::CREATED, "case and spaces are ignored");
        let after = body(res).await;
        assert_eq!(after["id"], before["id"]);
        assert_eq!(after["first_name"], before["first_name"]);
        assert_eq!(after["last_name"], before["last_name"]);
        assert_eq!(after["registered_at"], before["registered_at"]);
        assert_eq!(after["is_managed"], json!(false));

        let res = app.sign_in("kim@example.org", NEW_PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "signs in with the new e-mail and password");
        let kim_token = body(res).await["access_token"].as_str().unwrap().to_owned();
        let me = body(app.get("/api/v1/auth/me", &kim_token).await).await;
        assert_eq!(me["id"], before["id"]);
        assert_eq!(me["is_managed"], json!(false));
        let list = body(app.get(&format!("/api/v1/users/{kim}/activities"), &kim_token).await).await;
        assert_eq!(list.as_array().unwrap().len(), 1, "activities kept");
        let res = app.get(&format!("/api/v1/users/{kim}/activities/{activity_id}/trace"), &kim_token).await;
        assert_eq!(res.status(), StatusCode::OK, "trace kept");

        for (who, token) in [("ada", &ada.token), ("bob", &bob.token)] {
            let res = app.get(&format!("/api/v1/users/{kim}"), token).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{who} no longer manages kim");
        }
        let shares = body(app.get("/api/v1/shares/", &kim_token).await).await;
        let granted = shares["granted"].as_array().unwrap();
        assert_eq!(granted.len(), 3, "{shares}");
        let to = |id: &str| granted.iter().find(|s| s["grantee_id"] == json!(id)).unwrap().clone();
        for (who, id) in [("ada", &ada.id), ("bob", &bob.id)] {
            let s = to(id);
            assert_eq!(s["scopes"], json!(["data:read"]), "{who} keeps the code's scopes");
            assert_eq!(s["expires_at"], Value::Null, "{who}'s share has no end");
            assert_eq!(s["subject_id"], json!(kim));
        }
        assert_eq!(to(&bob.id)["id"], json!(bobs_share), "bob's share keeps its id");
        let c = to(&coach.id);
        assert_eq!((c["id"].clone(), c["scopes"].clone()), (json!(coach_share), json!(["data:write"])), "untouched");
        let res = app.get(&format!("/api/v1/users/{kim}/activities"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK, "ada reads through her share");

        let adas = to(&ada.id)["id"].as_str().unwrap().to_owned();
        let res = app.put_json(&format!("/api/v1/shares/{adas}"), &kim_token, &json!({"scopes": ["data:write"]})).await;
        assert_eq!(res.status(), StatusCode::OK, "the new account changes a kept share");
        let res = app.delete(&format!("/api/v1/shares/{bobs_share}"), &kim_token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "and ends one");
        let res = claim(&app, &code, "other@example.org").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "a used code");
        assert_eq!(body(res).await, json!({"detail": "Claim code not found"}));
    }

    async fn a_claim_without_keep_scopes_leaves_no_share(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let res = app
            .post_json("/api/v1/shares/", Some(&ada.token), &json!({"grantee_email": "bob@example.org",
                "scopes": ["data:read"], "user_id": kim}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        add_manager(&app, &kim, &bob.id);
        let res = app.post_json(&code_path(&kim), Some(&ada.token), &json!({})).await;
        let code = body(res).await["code"].as_str().unwrap().to_owned();
        assert_eq!(claim(&app, &code, "kim@example.org").await.status(), StatusCode::CREATED);
        let token = body(app.sign_in("kim@example.org", NEW_PASSWORD).await).await["access_token"]
            .as_str().unwrap().to_owned();
        let shares = body(app.get("/api/v1/shares/", &token).await).await;
        assert_eq!(shares["granted"], json!([]), "no share, and bob's went: {shares}");
        for token in [&ada.token, &bob.token] {
            assert_eq!(app.get(&format!("/api/v1/users/{kim}"), token).await.status(), StatusCode::NOT_FOUND);
        }
    }

    async fn a_new_code_voids_the_old_and_delete_voids_it(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let first = issue(&app, &ada.token, &kim, json!([])).await;
        let second = issue(&app, &ada.token, &kim, json!([])).await;
        assert_ne!(first, second);
        assert_eq!(claim(&app, &first, "kim@example.org").await.status(), StatusCode::NOT_FOUND, "the old one");
        assert_eq!(app.delete(&code_path(&kim), &ada.token).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(claim(&app, &second, "kim@example.org").await.status(), StatusCode::NOT_FOUND, "voided");
        assert_eq!(app.delete(&code_path(&kim), &ada.token).await.status(), StatusCode::NO_CONTENT, "none left");
        let third = issue(&app, &ada.token, &kim, json!(["data:read", "data:write"])).await;
        assert_eq!(claim(&app, &third, "kim@example.org").await.status(), StatusCode::CREATED);
    }

    async fn a_code_goes_when_its_issuer_stops_managing_the_user(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        // Bob becomes a co-manager through C1's invitation, issues a code, leaves.
        let res = app.post_json(&format!("/api/v1/users/{kim}/managers"), Some(&ada.token),
            &json!({"email": "bob@example.org"})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let invitation = body(res).await["id"].as_str().unwrap().to_owned();
        let res = app.post_json(&format!("/api/v1/invitations/{invitation}/accept"), Some(&bob.token), &json!({})).await;
        assert_eq!(res.status(), StatusCode::OK);
        let bobs = issue(&app, &bob.token, &kim, json!(["data:read"])).await;
        let res = app.delete(&format!("/api/v1/users/{kim}/managers/{}", bob.id), &bob.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "bob leaves");
        assert_eq!(claim(&app, &bobs, "kim@example.org").await.status(), StatusCode::NOT_FOUND, "bob's code went");
        // A code whose issuer stays is unaffected by another manager leaving.
        let res = app.post_json(&format!("/api/v1/users/{kim}/managers"), Some(&ada.token),
            &json!({"email": "bob@example.org"})).await;
        let invitation = body(res).await["id"].as_str().unwrap().to_owned();
        app.post_json(&format!("/api/v1/invitations/{invitation}/accept"), Some(&bob.token), &json!({})).await;
        let adas = issue(&app, &ada.token, &kim, json!([])).await;
        let res = app.delete(&format!("/api/v1/users/{kim}/managers/{}", bob.id), &bob.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(claim(&app, &adas, "kim@example.org").await.status(), StatusCode::CREATED, "ada's code stays");
    }

    async fn an_expired_code_is_not_found(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let code = "abcd-efgh-jkmn-pqrs-tvwx-yz01-2345";
        let hash = api::routes::claims::code_hash(crate::helpers::SECRET.as_bytes(), code);
        let (user, by) = (uid(&kim), uid(&ada.id));
        let past = persistence::now() - Duration::days(8);
        app.pool
            .get()
            .unwrap()
            .run(|c| persistence::claims::issue(c, user, by, &hash, domain::ScopeSet::EMPTY, past, past + Duration::days(7)))
            .unwrap();
        assert_eq!(claim(&app, code, "kim@example.org").await.status(), StatusCode::NOT_FOUND, "expired");
        let live = persistence::now();
        app.pool
            .get()
            .unwrap()
            .run(|c| persistence::claims::issue(c, user, by, &hash, domain::ScopeSet::EMPTY, live, live + Duration::days(7)))
            .unwrap();
        assert_eq!(claim(&app, code, "kim@example.org").await.status(), StatusCode::CREATED, "the same code, live");
    }

    async fn a_refused_claim_leaves_the_code_valid(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let code = issue(&app, &ada.token, &kim, json!(["data:read"])).await;
        let res = claim(&app, &code, "ADA@example.org").await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "the e-mail is taken");
        let res = app
            .post_json("/api/v1/auth/claim", None, &json!({"code": code, "email": "kim@example.org", "password": "short"}))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "registration's password rules");
        let res = app.post_json("/api/v1/auth/claim", None, &json!({"code": code, "email": "not an e-mail",
            "password": NEW_PASSWORD})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "registration's e-mail rules");
        let res = app.post_json("/api/v1/auth/claim", None, &json!({"email": "kim@example.org"})).await;
        crate::helpers::assert_422(res, &[(json!(["body", "code"]), "missing"), (json!(["body", "password"]), "missing")],
            "missing fields").await;
        assert_eq!(app.get(&format!("/api/v1/users/{kim}"), &ada.token).await.status(), StatusCode::OK, "still managed");
        assert_eq!(claim(&app, &code, "kim@example.org").await.status(), StatusCode::CREATED, "the code still works");
    }

    async fn any_string_is_a_code_and_a_wrong_one_is_not_found(app) {
        for code in ["", "nope", "----", "ILO0-1", &"z".repeat(5000)] {
            let res = claim(&app, code, "kim@example.org").await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{:?}", &code[..code.len().min(8)]);
            assert_eq!(body(res).await, json!({"detail": "Claim code not found"}));
        }
        let res = app.post_json("/api/v1/auth/claim", None, &json!({"code": 7, "email": "kim@example.org",
            "password": NEW_PASSWORD})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "a code is a string");
    }

    async fn failed_claims_are_throttled_per_client_address(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let code = issue(&app, &ada.token, &kim, json!([])).await;
        let free = domain::throttle::Policy::CLIENT.free_failures;
        for i in 0..free {
            assert_eq!(claim(&app, "wrong", "kim@example.org").await.status(), StatusCode::NOT_FOUND, "failure {i}");
        }
        let res = claim(&app, "wrong", "kim@example.org").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().get("retry-after").is_some());
        let res = claim(&app, &code, "kim@example.org").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "even a good code waits");
        let res = app.sign_in("ada@example.org", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "sign-ins are counted apart");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        assert_eq!(claim(&app, &code, "kim@example.org").await.status(), StatusCode::CREATED, "after the wait");
    }

    async fn a_claim_code_is_stored_only_as_a_hash(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let code = issue(&app, &ada.token, &kim, json!(["data:read"])).await;
        let stored = app.pool.get().unwrap().run(persistence::claims::stored).unwrap();
        assert_eq!(stored.len(), 1);
        let normal = domain::claim::normalize(&code);
        for (hash, keep) in &stored {
            assert_eq!(hash.len(), 32, "an HMAC-SHA256");
            for text in [code.as_str(), normal.as_str(), &code.to_uppercase()] {
                assert!(!hash.windows(text.len()).any(|w| w == text.as_bytes()), "the hash holds no code");
                assert!(!keep.contains(text));
            }
        }
    }

    async fn only_a_manager_issues_or_voids_a_code(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let res = app.post_json("/api/v1/shares/", Some(&ada.token), &json!({"grantee_email": "bob@example.org",
            "scopes": ["data:read", "data:write"], "user_id": kim})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        for (why, path) in [("a grantee", code_path(&kim)), ("an account", code_path(&ada.id)),
                            ("oneself", code_path(&bob.id)), ("not a uuid", code_path("nope")),
                            ("unknown", code_path(&uuid::Uuid::new_v4().to_string()))] {
            let res = app.post_json(&path, Some(&bob.token), &json!({})).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "issue: {why}");
            assert_eq!(body(res).await, json!({"detail": "User not found"}));
            assert_eq!(app.delete(&path, &bob.token).await.status(), StatusCode::NOT_FOUND, "void: {why}");
        }
        let res = app.post_json(&code_path(&kim), None, &json!({})).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = app.request(reqwest::Method::DELETE, &code_path(&kim), None).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = app.post_json(&code_path(&kim), Some(&ada.token), &json!({"keep_scopes": ["data:all"]})).await;
        crate::helpers::assert_422(res, &[(json!(["body", "keep_scopes", 0]), "enum")], "an unknown scope").await;
        let res = app.post_json(&code_path(&kim), Some(&bob.token), &json!({"keep_scopes": "x"})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "422 before 404");
    }

    async fn two_redemptions_of_one_code_give_one_account(app) {
        let ada = app.account("ada@example.org").await;
        for round in 0..3 {
            let kim = app.managed(&ada, "Kim").await;
            let code = issue(&app, &ada.token, &kim, json!(["data:read"])).await;
            let (a, b) = (format!("kim{round}a@example.org"), format!("kim{round}b@example.org"));
            let (one, two) = tokio::join!(claim(&app, &code, &a), claim(&app, &code, &b));
            let mut got = [one.status(), two.status()];
            got.sort();
            assert_eq!(got, [StatusCode::CREATED, StatusCode::NOT_FOUND], "round {round}");
        }
    }

    async fn a_claim_racing_the_managers_delete_wins_whole_or_not_at_all(app) {
        let ada = app.account("ada@example.org").await;
        let (mut claimed, mut deleted) = (0, 0);
        for round in 0..6 {
            let kim = app.managed(&ada, "Kim").await;
            let res = app.post_json(&format!("/api/v1/users/{kim}/activities"), Some(&ada.token),
                &json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"})).await;
            assert_eq!(res.status(), StatusCode::CREATED);
            let code = issue(&app, &ada.token, &kim, json!(["data:read"])).await;
            let email = format!("kim{round}@example.org");
            let user_path = format!("/api/v1/users/{kim}");
            let (c, d) = tokio::join!(claim(&app, &code, &email), app.delete(&user_path, &ada.token));
            match (c.status(), d.status()) {
                (StatusCode::CREATED, StatusCode::NOT_FOUND) => {
                    claimed += 1;
                    let res = app.sign_in(&email, NEW_PASSWORD).await;
                    assert_eq!(res.status(), StatusCode::OK, "round {round}: the account is whole");
                    let token = body(res).await["access_token"].as_str().unwrap().to_owned();
                    let list = body(app.get(&format!("{user_path}/activities"), &token).await).await;
                    assert_eq!(list.as_array().unwrap().len(), 1, "round {round}: its activity kept");
                    let shares = body(app.get("/api/v1/shares/", &token).await).await;
                    assert_eq!(shares["granted"].as_array().unwrap().len(), 1, "round {round}: ada's share");
                }
                (StatusCode::NOT_FOUND, StatusCode::NO_CONTENT) => {
                    deleted += 1;
                    assert_eq!(rows_naming(&app, &kim), 0, "round {round}: nothing names the deleted user");
                    assert_eq!(app.sign_in(&email, NEW_PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
                }
                other => panic!("round {round}: claim and delete answered {other:?}"),
            }
        }
        assert_eq!(claimed + deleted, 6);
    }
}

mod closed_registration {
    use super::*;

    async fn check(backend: persistence::Backend) {
        let app = TestApp::spawn_with(backend, |c| c.registration_open = false).await;
        server::create_admin(&app.config, "root@example.org", "an admin passphrase").unwrap();
        let root = body(app.sign_in("root@example.org", "an admin passphrase").await).await;
        let root =
            crate::helpers::Account { id: String::new(), token: root["access_token"].as_str().unwrap().to_owned() };
        let res = app
            .post_json(
                "/api/v1/auth/register",
                Some(&root.token),
                &json!({"email": "ada@example.org", "password": PASSWORD}),
            )
            .await;
        let ada_id = body(res).await["id"].as_str().unwrap().to_owned();
        let ada =
            body(app.sign_in("ada@example.org", PASSWORD).await).await["access_token"].as_str().unwrap().to_owned();
        let ada = crate::helpers::Account { id: ada_id, token: ada };
        let kim = app.managed(&ada, "Kim").await;
        let res = app.post_json(&code_path(&kim), Some(&ada.token), &json!({})).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "a manager who is no admin");
        let res = app.post_json(&code_path(&kim), Some(&root.token), &json!({})).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "an admin who does not manage kim");
        let own = app.managed(&root, "Kit").await;
        let code = issue(&app, &root.token, &own, json!([])).await;
        assert_eq!(claim(&app, &code, "kit@example.org").await.status(), StatusCode::CREATED, "an admin's code");
        assert_eq!(app.delete(&code_path(&kim), &ada.token).await.status(), StatusCode::NO_CONTENT, "voiding is free");
    }

    #[actix_rt::test]
    async fn only_an_admin_issues_a_claim_code_postgres() {
        check(persistence::Backend::Postgres).await;
    }

    #[actix_rt::test]
    async fn only_an_admin_issues_a_claim_code_sqlite() {
        check(persistence::Backend::Sqlite).await;
    }
}
