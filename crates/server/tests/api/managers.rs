//! C1: several managers of a managed user, and invitations to become one.

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_422, body, keys, Account, TestApp, PASSWORD};
use crate::on_both_backends;

async fn invite(app: &TestApp, from: &Account, user: &str, email: &str) -> Response {
    app.post_json(&format!("/api/v1/users/{user}/managers"), Some(&from.token), &json!({"email": email})).await
}

/// Invites `email` to co-manage `user`; the invitation's id.
async fn invited(app: &TestApp, from: &Account, user: &str, email: &str) -> String {
    let res = invite(app, from, user, email).await;
    assert_eq!(res.status(), StatusCode::CREATED, "invite {email}");
    body(res).await["id"].as_str().unwrap().to_owned()
}

async fn accept(app: &TestApp, who: &Account, invitation: &str) -> Response {
    let path = format!("/api/v1/invitations/{invitation}/accept");
    app.request(Method::POST, &path, Some(&who.token)).send().await.unwrap()
}

/// Makes `who` (signed up as `email`) a co-manager of `user`.
async fn join(app: &TestApp, manager: &Account, user: &str, who: &Account, email: &str) {
    app.co_manage(manager, user, who, email).await;
}

async fn manager_ids(app: &TestApp, token: &str, user: &str) -> Vec<String> {
    let res = app.get(&format!("/api/v1/users/{user}/managers"), token).await;
    assert_eq!(res.status(), StatusCode::OK);
    body(res).await.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect()
}

async fn invitations(app: &TestApp, who: &Account) -> Value {
    let res = app.get("/api/v1/invitations/", &who.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    body(res).await
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

async fn detail(res: Response) -> String {
    body(res).await["detail"].as_str().unwrap_or_default().to_owned()
}

fn leave_path(user: &str, manager: &str) -> String {
    format!("/api/v1/users/{user}/managers/{manager}")
}

on_both_backends! {
    async fn a_manager_lists_the_managers_oldest_first_and_others_get_404(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let res = app.get(&format!("/api/v1/users/{kim}/managers"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let list = body(res).await;
        assert_eq!(keys(&list[0]), ["display_name", "id", "since"]);
        assert_eq!(list[0]["display_name"], "ada");
        join(&app, &ada, &kim, &bob, "bob@example.org").await;
        assert_eq!(manager_ids(&app, &bob.token, &kim).await, [ada.id.clone(), bob.id.clone()], "oldest first");

        let share = json!({"grantee_email": "carol@example.org", "scopes": ["data:read", "data:write"], "user_id": kim});
        assert_eq!(app.post_json("/api/v1/shares/", Some(&ada.token), &share).await.status(), StatusCode::CREATED);
        let dave = app.account("dave@example.org").await;
        for (why, token, path) in [
            ("a grantee", &carol.token, format!("/api/v1/users/{kim}/managers")),
            ("a stranger", &dave.token, format!("/api/v1/users/{kim}/managers")),
            ("an account itself", &ada.token, format!("/api/v1/users/{}/managers", ada.id)),
            ("a malformed id", &ada.token, "/api/v1/users/nope/managers".to_owned()),
        ] {
            let res = app.get(&path, token).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{why}");
            assert_eq!(detail(res).await, "User not found", "{why}");
        }
    }

    async fn an_invitation_is_answered_with_201_and_listed_for_both_sides(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        join(&app, &ada, &kim, &bob, "bob@example.org").await;
        let res = invite(&app, &ada, &kim, "Carol@Example.org").await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let inv = body(res).await;
        assert_eq!(location, format!("/api/v1/invitations/{}", inv["id"].as_str().unwrap()));
        assert_eq!(keys(&inv), ["created_at", "expires_at", "id", "invited_by_display_name", "invited_by_id",
            "invitee_display_name", "invitee_id", "user_display_name", "user_id"]);
        assert_eq!((inv["user_id"].as_str().unwrap(), inv["user_display_name"].as_str().unwrap()), (kim.as_str(), "Kim"));
        assert_eq!((inv["invitee_id"].as_str().unwrap(), inv["invitee_display_name"].as_str().unwrap()), (carol.id.as_str(), "carol"));
        assert_eq!((inv["invited_by_id"].as_str().unwrap(), inv["invited_by_display_name"].as_str().unwrap()), (ada.id.as_str(), "ada"));
        let at = |k: &str| inv[k].as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
        assert_eq!(at("expires_at") - at("created_at"), Duration::days(7), "an invitation lasts 7 days");

        let theirs = app.account("dave@example.org").await;
        let other_kid = app.managed(&theirs, "Lea").await;
        let later = invited(&app, &theirs, &other_kid, "carol@example.org").await;
        let listed = invitations(&app, &carol).await;
        assert_eq!(keys(&listed), ["received", "sent"]);
        assert_eq!(ids(&listed["received"]), [inv["id"].as_str().unwrap().to_owned(), later], "oldest first");
        assert_eq!(listed["received"][0], inv, "listed as answered");
        assert_eq!(ids(&listed["sent"]), Vec::<String>::new());
        let by_bob = invitations(&app, &bob).await;
        assert_eq!(by_bob["sent"][0], inv, "whoever of the managers sent it");
        assert_eq!(ids(&by_bob["received"]), Vec::<String>::new(), "a used invitation is gone");
        assert_eq!(ids(&invitations(&app, &ada).await["sent"]), [inv["id"].as_str().unwrap().to_owned()]);
    }

    async fn inviting_is_refused_as_the_contract_says(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let share = json!({"grantee_email": "carol@example.org", "scopes": ["data:read", "data:write"], "user_id": kim});
        assert_eq!(app.post_json("/api/v1/shares/", Some(&ada.token), &share).await.status(), StatusCode::CREATED);
        for (why, who, user) in [("a stranger", &bob, kim.as_str()), ("a grantee", &carol, kim.as_str()),
            ("an account itself", &ada, ada.id.as_str()), ("a malformed id", &ada, "nope")] {
            let res = invite(&app, who, user, "dave@example.org").await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{why}");
            assert_eq!(detail(res).await, "User not found", "{why}");
        }
        let res = invite(&app, &ada, &kim, "nobody@example.org").await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(detail(res).await, "No account has that e-mail");
        assert_422(invite(&app, &ada, &kim, "ADA@example.org").await, &[(json!(["body", "email"]), "value_error")],
            "the caller's own e-mail").await;
        assert_422(invite(&app, &ada, &kim, "not-an-email").await, &[(json!(["body", "email"]), "value_error")],
            "a malformed e-mail").await;
        let res = app.post_json(&format!("/api/v1/users/{kim}/managers"), Some(&ada.token), &json!({})).await;
        assert_422(res, &[(json!(["body", "email"]), "missing")], "no e-mail").await;

        invited(&app, &ada, &kim, "carol@example.org").await;
        assert_eq!(invite(&app, &ada, &kim, "carol@example.org").await.status(), StatusCode::CONFLICT, "a live invitation");
        join(&app, &ada, &kim, &bob, "bob@example.org").await;
        let res = invite(&app, &ada, &kim, "bob@example.org").await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "already a manager");
        assert_eq!(detail(res).await, "That account already manages this user");
        assert_eq!(invite(&app, &bob, &kim, "carol@example.org").await.status(), StatusCode::CONFLICT, "from any manager");
    }

    async fn a_co_manager_has_every_right_of_the_manager(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        app.account("coach@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let id = invited(&app, &ada, &kim, "bob@example.org").await;
        let res = accept(&app, &bob, &id).await;
        assert_eq!(res.status(), StatusCode::OK);
        let user = body(res).await;
        assert_eq!((user["id"].as_str().unwrap(), user["is_managed"].as_bool().unwrap()), (kim.as_str(), true));
        assert_eq!(user["display_name"], "Kim");

        let path = format!("/api/v1/users/{kim}");
        assert_eq!(app.get(&path, &bob.token).await.status(), StatusCode::OK, "get");
        let res = app.put_json(&path, &bob.token, &json!({"first_name": "Kimberly"})).await;
        assert_eq!(res.status(), StatusCode::OK, "update");
        let listed = body(app.get("/api/v1/users/", &bob.token).await).await;
        let listed: Vec<&str> = listed.as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect();
        assert_eq!(listed, [bob.id.as_str(), kim.as_str()], "the list has the co-managed user");
        let activity = json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"});
        let res = app.post_json(&format!("{path}/activities"), Some(&bob.token), &activity).await;
        assert_eq!(res.status(), StatusCode::CREATED, "create an activity");
        let act = body(res).await["id"].as_str().unwrap().to_owned();
        let res = app.get(&format!("{path}/activities"), &ada.token).await;
        assert_eq!(body(res).await.as_array().unwrap().len(), 1, "the first manager sees it");
        assert_eq!(app.get(&format!("{path}/activities/{act}"), &bob.token).await.status(), StatusCode::OK);
        let share = json!({"grantee_email": "coach@example.org", "scopes": ["data:read"], "user_id": kim});
        let res = app.post_json("/api/v1/shares/", Some(&bob.token), &share).await;
        assert_eq!(res.status(), StatusCode::CREATED, "share it");
        let share = body(res).await["id"].as_str().unwrap().to_owned();
        let granted = body(app.get("/api/v1/shares/", &ada.token).await).await;
        assert_eq!(ids(&granted["granted"]), vec![share.clone()], "the other manager sees the share");
        let share_path = format!("/api/v1/shares/{share}");
        let res = app.put_json(&share_path, &ada.token, &json!({"scopes": ["data:read", "data:write"]})).await;
        assert_eq!(res.status(), StatusCode::OK, "and changes it");
        assert_eq!(app.delete(&share_path, &bob.token).await.status(), StatusCode::NO_CONTENT, "ends it");
        assert_eq!(app.delete(&format!("{path}/activities/{act}"), &bob.token).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.delete(&path, &bob.token).await.status(), StatusCode::NO_CONTENT, "delete the user");
        assert_eq!(app.get(&path, &ada.token).await.status(), StatusCode::NOT_FOUND, "gone for every manager");
    }

    async fn only_the_invitee_accepts_a_live_invitation(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let id = invited(&app, &ada, &kim, "bob@example.org").await;
        for (why, who, inv) in [("its sender", &ada, id.as_str()), ("a stranger", &carol, id.as_str()),
            ("a malformed id", &bob, "nope"), ("an unknown id", &bob, "00000000-0000-4000-8000-000000000000")] {
            let res = accept(&app, who, inv).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{why}");
            assert_eq!(detail(res).await, "Invitation not found", "{why}");
        }
        assert_eq!(accept(&app, &bob, &id).await.status(), StatusCode::OK);
        assert_eq!(accept(&app, &bob, &id).await.status(), StatusCode::NOT_FOUND, "a used invitation");
        let again = invited(&app, &ada, &kim, "carol@example.org").await;
        assert_eq!(app.delete(&format!("/api/v1/invitations/{again}"), &carol.token).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(accept(&app, &carol, &again).await.status(), StatusCode::NOT_FOUND, "a declined invitation");
        assert_eq!(manager_ids(&app, &ada.token, &kim).await, [ada.id.clone(), bob.id.clone()]);
    }

    async fn the_invitee_declines_and_any_manager_withdraws(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let dave = app.account("dave@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        join(&app, &ada, &kim, &bob, "bob@example.org").await;
        let id = invited(&app, &ada, &kim, "carol@example.org").await;
        let path = format!("/api/v1/invitations/{id}");
        for (why, who, path) in [("a stranger", &dave, path.clone()), ("a malformed id", &ada, "/api/v1/invitations/nope".to_owned())] {
            let res = app.delete(&path, &who.token).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{why}");
            assert_eq!(detail(res).await, "Invitation not found", "{why}");
        }
        assert_eq!(app.delete(&path, &bob.token).await.status(), StatusCode::NO_CONTENT, "another manager withdraws it");
        assert_eq!(app.delete(&path, &bob.token).await.status(), StatusCode::NOT_FOUND, "once");
        assert_eq!(ids(&invitations(&app, &carol).await["received"]), Vec::<String>::new());
        let id = invited(&app, &bob, &kim, "carol@example.org").await;
        assert_eq!(app.delete(&format!("/api/v1/invitations/{id}"), &carol.token).await.status(), StatusCode::NO_CONTENT, "declined");
        assert_eq!(ids(&invitations(&app, &ada).await["sent"]), Vec::<String>::new());
    }

    async fn an_invitation_outlives_its_senders_management_but_not_its_account(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        join(&app, &ada, &kim, &bob, "bob@example.org").await;
        let id = invited(&app, &bob, &kim, "carol@example.org").await;
        assert_eq!(app.delete(&leave_path(&kim, &bob.id), &bob.token).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(ids(&invitations(&app, &carol).await["received"]), vec![id.clone()], "it stays when its sender leaves");
        assert_eq!(ids(&invitations(&app, &ada).await["sent"]), vec![id.clone()]);
        assert_eq!(app.delete(&format!("/api/v1/invitations/{id}"), &bob.token).await.status(), StatusCode::NOT_FOUND,
            "its sender, no longer a manager, may not withdraw it");

        let res = app.request(Method::DELETE, "/api/v1/auth/me", Some(&bob.token)).json(&json!({"password": PASSWORD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(ids(&invitations(&app, &carol).await["received"]), Vec::<String>::new(), "it goes with its sender's account");
    }

    async fn a_manager_leaves_but_removes_no_other_and_the_last_one_stays(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let res = app.delete(&leave_path(&kim, &ada.id), &ada.token).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "the last manager");
        assert!(detail(res).await.contains("last manager"));
        join(&app, &ada, &kim, &bob, "bob@example.org").await;
        let res = app.delete(&leave_path(&kim, &bob.id), &ada.token).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "another manager");
        for (why, who, user, manager, want) in [
            ("a stranger", &carol, kim.as_str(), carol.id.as_str(), "User not found"),
            ("a stranger naming a manager", &carol, kim.as_str(), ada.id.as_str(), "User not found"),
            ("a malformed user", &ada, "nope", ada.id.as_str(), "User not found"),
            ("no manager of the user", &ada, kim.as_str(), carol.id.as_str(), "Manager not found"),
            ("a malformed manager", &ada, kim.as_str(), "nope", "Manager not found"),
        ] {
            let res = app.delete(&leave_path(user, manager), &who.token).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{why}");
            assert_eq!(detail(res).await, want, "{why}");
        }
        assert_eq!(app.delete(&leave_path(&kim, &ada.id), &ada.token).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(manager_ids(&app, &bob.token, &kim).await, vec![bob.id.clone()]);
        assert_eq!(app.get(&format!("/api/v1/users/{kim}"), &ada.token).await.status(), StatusCode::NOT_FOUND, "no longer ada's");
        assert_eq!(app.delete(&leave_path(&kim, &ada.id), &ada.token).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.delete(&leave_path(&kim, &bob.id), &bob.token).await.status(), StatusCode::CONFLICT);
    }

    async fn an_expired_invitation_counts_as_absent_and_is_replaced(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let (user, invitee, sender): (domain::UserId, domain::UserId, domain::UserId) =
            (kim.parse().unwrap(), bob.id.parse().unwrap(), ada.id.parse().unwrap());
        let past = persistence::now() - Duration::days(7) - Duration::seconds(1);
        let old = app.pool.get().unwrap()
            .run(|c| persistence::invitations::create(c, user, invitee, sender, past))
            .unwrap();
        let old = old.id.to_string();
        assert_eq!(ids(&invitations(&app, &bob).await["received"]), Vec::<String>::new(), "not listed");
        assert_eq!(ids(&invitations(&app, &ada).await["sent"]), Vec::<String>::new());
        assert_eq!(accept(&app, &bob, &old).await.status(), StatusCode::NOT_FOUND, "not accepted");
        assert_eq!(app.delete(&format!("/api/v1/invitations/{old}"), &ada.token).await.status(), StatusCode::NOT_FOUND);
        let new = invited(&app, &ada, &kim, "bob@example.org").await;
        assert_ne!(new, old, "replaced");
        assert_eq!(accept(&app, &bob, &new).await.status(), StatusCode::OK);
    }

    async fn deleting_an_account_keeps_its_co_managed_users_and_its_invitations_go(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let lea = app.managed(&ada, "Lea").await;
        join(&app, &ada, &kim, &bob, "bob@example.org").await;
        invited(&app, &ada, &kim, "carol@example.org").await;
        let carols = app.managed(&carol, "Cai").await;
        invited(&app, &carol, &carols, "ada@example.org").await;
        let res = app.request(Method::DELETE, "/api/v1/auth/me", Some(&ada.token)).json(&json!({"password": PASSWORD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.get(&format!("/api/v1/users/{kim}"), &bob.token).await.status(), StatusCode::OK, "co-managed: stays");
        assert_eq!(manager_ids(&app, &bob.token, &kim).await, vec![bob.id.clone()], "with one manager fewer");
        let mut conn = app.pool.get().unwrap();
        assert_eq!(conn.run(|c| persistence::users::rows_naming(c, lea.parse().unwrap())).unwrap(), 0, "managed alone: gone");
        assert_eq!(conn.run(|c| persistence::users::rows_naming(c, ada.id.parse().unwrap())).unwrap(), 0, "nothing names ada");
        let carols = invitations(&app, &carol).await;
        assert_eq!((ids(&carols["received"]), ids(&carols["sent"])), (vec![], vec![]), "sent by or to ada: gone");
        assert_eq!(ids(&invitations(&app, &bob).await["sent"]), Vec::<String>::new());
    }

    async fn the_user_list_runs_the_same_statements_with_one_and_twenty_co_managers(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let user: domain::UserId = kim.parse().unwrap();
        add_co_managers(&app, user, 0..1);
        let with_one = statements_for_list(&app, &ada.token).await;
        add_co_managers(&app, user, 1..20);
        assert_eq!(manager_ids(&app, &ada.token, &kim).await.len(), 21);
        let with_twenty = statements_for_list(&app, &ada.token).await;
        assert_eq!((with_one, with_twenty), (3, 3), "authentication, the managed users, the shares");
    }

    async fn two_last_managers_leaving_at_once_leave_one(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        for round in 0..5 {
            let kim = app.managed(&ada, "Kim").await;
            join(&app, &ada, &kim, &bob, "bob@example.org").await;
            let (a, b) = (leave_path(&kim, &ada.id), leave_path(&kim, &bob.id));
            let (a, b) = tokio::join!(app.delete(&a, &ada.token), app.delete(&b, &bob.token));
            let mut got = [a.status().as_u16(), b.status().as_u16()];
            got.sort();
            assert_eq!(got, [204, 409], "round {round}");
            let user: domain::UserId = kim.parse().unwrap();
            let left = app.pool.get().unwrap().run(|c| persistence::managers::count(c, user)).unwrap();
            assert_eq!(left, 1, "round {round}: one manager left");
        }
    }

    async fn accepting_one_invitation_twice_at_once_makes_one_manager(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        for round in 0..3 {
            let kim = app.managed(&ada, "Kim").await;
            let id = invited(&app, &ada, &kim, "bob@example.org").await;
            let (a, b) = tokio::join!(accept(&app, &bob, &id), accept(&app, &bob, &id));
            let mut got = [a.status().as_u16(), b.status().as_u16()];
            got.sort();
            assert_eq!(got, [200, 404], "round {round}");
            assert_eq!(manager_ids(&app, &ada.token, &kim).await, [ada.id.clone(), bob.id.clone()], "round {round}");
        }
    }
}

/// Adds accounts `co<i>@example.org` for `range` as managers of `user`,
/// through the store (registering twenty through the API would hash twenty
/// passwords).
fn add_co_managers(app: &TestApp, user: domain::UserId, range: std::ops::Range<usize>) {
    let mut conn = app.pool.get().unwrap();
    conn.run(|c| {
        persistence::transaction(c, |c| {
            for i in range {
                let email = domain::Email::parse(&format!("co{i}@example.org")).unwrap();
                let new = persistence::users::NewAccount {
                    email: &email,
                    password_hash: "x",
                    first_name: None,
                    last_name: None,
                    admin: false,
                };
                let account = persistence::users::create_account(c, &new, persistence::now())?;
                persistence::managers::add(c, user, account.id, persistence::now())?;
            }
            Ok(())
        })
    })
    .unwrap();
}

/// The fewest SQL statements of three `GET /api/v1/users/` in a row (see
/// users.rs: a connection idle for long is pinged first).
async fn statements_for_list(app: &TestApp, token: &str) -> u64 {
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        let before = app.pool.statement_count();
        let res = app.get("/api/v1/users/", token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(body(res).await.as_array().unwrap().len(), 2);
        fewest = fewest.min(app.pool.statement_count() - before);
    }
    fewest
}
