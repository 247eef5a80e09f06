//! C4: every change is an event, written with it; the feed for admins;
//! erasure; what a reader paging through the feed sees while others write.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_422, body, Account, TestApp, PASSWORD};
use crate::on_both_backends;

/// One page of the feed.
pub async fn page(app: &TestApp, admin: &Account, after: i64, limit: i64) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/events?after={after}&limit={limit}"), &admin.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    body(res).await.as_array().unwrap().clone()
}

/// The whole feed, paged, as it is now.
pub async fn feed_now(app: &TestApp, admin: &Account) -> Vec<Value> {
    let mut all: Vec<Value> = Vec::new();
    loop {
        let after = all.last().map_or(0, |e| e["position"].as_i64().unwrap());
        let next = page(app, admin, after, 1000).await;
        if next.is_empty() {
            return all;
        }
        all.extend(next);
    }
}

/// The whole feed once it holds `n` events. On PostgreSQL an event shows
/// once every transaction that began before it has ended, anywhere in the
/// cluster (other tests' too), so what was just written may take a moment.
pub async fn feed(app: &TestApp, admin: &Account, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let all = feed_now(app, admin).await;
        if all.len() >= n {
            assert_eq!(all.len(), n, "{all:#?}");
            return all;
        }
        assert!(std::time::Instant::now() < deadline, "{} events of {n}: {all:#?}", all.len());
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

/// (type, user_id) of each event.
fn kinds(events: &[Value]) -> Vec<(String, String)> {
    events.iter().map(|e| (e["type"].as_str().unwrap().to_owned(), e["user_id"].as_str().unwrap().to_owned())).collect()
}

fn pair(kind: &str, user: &str) -> (String, String) {
    (kind.to_owned(), user.to_owned())
}

on_both_backends! {
    async fn the_feed_is_for_admins_and_checks_its_query(app) {
        let root = app.admin("root@example.org").await;
        let ada = app.account("ada@example.org").await;
        let res = app.request(Method::GET, "/api/v1/events", None).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "no token");
        let res = app.get("/api/v1/events", &ada.token).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "an account that is not an admin");
        feed(&app, &root, 2).await;
        let res = app.get("/api/v1/events", &root.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let events = body(res).await;
        assert_eq!(events.as_array().unwrap().len(), 2, "both registrations: {events}");
        let first = &events[0];
        let mut keys: Vec<&str> = first.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["actor_id", "at", "data", "id", "position", "type", "user_id"]);
        assert_eq!(first["position"], json!(1));
        assert!(uuid::Uuid::parse_str(first["id"].as_str().unwrap()).is_ok());
        assert!(chrono::DateTime::parse_from_rfc3339(first["at"].as_str().unwrap()).is_ok());

        for (query, loc, kind) in [
            ("after=-1", "after", "greater_than_equal"),
            ("after=x", "after", "int_parsing"),
            ("limit=0", "limit", "greater_than_equal"),
            ("limit=1001", "limit", "less_than_equal"),
            ("limit=ten", "limit", "int_parsing"),
        ] {
            let res = app.get(&format!("/api/v1/events?{query}"), &root.token).await;
            assert_422(res, &[(json!(["query", loc]), kind)], query).await;
        }
        let res = app.get("/api/v1/events?after=x&limit=0", &ada.token).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "422 before 403, as everywhere");
        assert_eq!(page(&app, &root, 1, 1000).await.len(), 1, "after is exclusive");
        assert_eq!(page(&app, &root, 0, 1).await.len(), 1, "limit");
        assert_eq!(page(&app, &root, 2, 1000).await.len(), 0, "nothing after the last");
    }

    async fn every_change_is_an_event_carrying_the_resource_after_it(app) {
        let root = app.admin("root@example.org").await;
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let res = app.put_json(&format!("/api/v1/users/{kim}"), &ada.token, &json!({"last_name": "Lee"})).await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.post_json("/api/v1/shares/", Some(&ada.token),
            &json!({"grantee_email": "bob@example.org", "scopes": ["data:read"], "user_id": kim})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let share = body(res).await;
        let share_id = share["id"].as_str().unwrap().to_owned();
        let res = app.put_json(&format!("/api/v1/shares/{share_id}"), &ada.token,
            &json!({"scopes": ["data:read", "data:write"]})).await;
        assert_eq!(res.status(), StatusCode::OK);
        let changed_share = body(res).await;
        let res = app.post_json(&format!("/api/v1/users/{kim}/managers"), Some(&ada.token),
            &json!({"email": "bob@example.org"})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let invitation = body(res).await;
        let res = app.request(Method::POST, &format!("/api/v1/invitations/{}/accept", invitation["id"].as_str().unwrap()),
            Some(&bob.token)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res = app.delete(&format!("/api/v1/users/{kim}/managers/{}", bob.id), &bob.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        // Declined: its invitation is an event, the decline is none.
        let res = app.post_json(&format!("/api/v1/users/{kim}/managers"), Some(&ada.token),
            &json!({"email": "bob@example.org"})).await;
        let again = body(res).await;
        let res = app.delete(&format!("/api/v1/invitations/{}", again["id"].as_str().unwrap()), &bob.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = app.delete(&format!("/api/v1/shares/{share_id}"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        // Sign-ins, sign-outs and claim codes are no events.
        let other = body(app.sign_in("bob@example.org", PASSWORD).await).await["access_token"].as_str().unwrap().to_owned();
        let res = app.request(Method::POST, "/api/v1/auth/logout", Some(&other)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = app.post_json(&format!("/api/v1/users/{kim}/claim-code"), Some(&ada.token),
            &json!({"keep_scopes": ["data:read"]})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let code = body(res).await["code"].as_str().unwrap().to_owned();
        let res = app.post_json("/api/v1/auth/claim", None,
            &json!({"code": code, "email": "kim@example.org", "password": PASSWORD})).await;
        assert_eq!(res.status(), StatusCode::CREATED);

        let events = feed(&app, &root, 14).await;
        assert_eq!(kinds(&events), vec![
            pair("account.registered", &root.id),
            pair("account.registered", &ada.id),
            pair("account.registered", &bob.id),
            pair("user.created", &kim),
            pair("user.updated", &kim),
            pair("share.created", &kim),
            pair("share.updated", &kim),
            pair("manager.invited", &kim),
            pair("manager.joined", &kim),
            pair("manager.left", &kim),
            pair("manager.invited", &kim),
            pair("share.deleted", &kim),
            pair("user.claimed", &kim),
            pair("share.created", &kim),
        ]);
        let positions: Vec<i64> = events.iter().map(|e| e["position"].as_i64().unwrap()).collect();
        assert_eq!(positions, (1..=events.len() as i64).collect::<Vec<_>>(), "gap-free, from 1");
        let actors: Vec<&Value> = events.iter().map(|e| &e["actor_id"]).collect();
        assert_eq!(actors[1], &Value::Null, "registration has no caller");
        assert_eq!(actors[3], &json!(ada.id));
        assert_eq!(actors[8], &json!(bob.id), "the invitee joins");
        assert_eq!(actors[12], &Value::Null, "a claim has no caller");
        assert_eq!(actors[13], &Value::Null);

        assert_eq!(events[1]["data"]["id"], json!(ada.id), "a UserResponse");
        assert_eq!(events[1]["data"]["is_managed"], json!(false));
        assert_eq!(events[3]["data"]["first_name"], json!("Kim"));
        assert_eq!(events[3]["data"]["is_managed"], json!(true));
        assert_eq!(events[4]["data"]["display_name"], json!("Kim Lee"), "the user after the change");
        assert_eq!(events[5]["data"], share, "the Share, as answered");
        assert_eq!(events[6]["data"], changed_share);
        assert_eq!(events[7]["data"], invitation, "the Invitation");
        assert_eq!(events[8]["data"]["id"], json!(bob.id), "the Manager who joined");
        assert_eq!(events[9]["data"]["id"], json!(bob.id), "the Manager who left");
        assert_eq!(events[9]["data"]["since"], events[8]["data"]["since"]);
        assert_eq!(events[11]["data"], changed_share, "share.deleted carries the share as it was");
        assert_eq!(events[12]["data"]["is_managed"], json!(false), "the account it became");
        assert_eq!(events[13]["data"]["grantee_id"], json!(ada.id), "the former manager's share");
        assert_eq!(events[13]["data"]["scopes"], json!(["data:read"]));
    }

    async fn deletions_emit_one_event_per_removed_user_and_erase_their_data(app) {
        let root = app.admin("root@example.org").await;
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let lou = app.managed(&ada, "Lou").await;
        let zed = app.managed(&ada, "Zed").await;
        let max = app.managed(&bob, "Max").await;
        let res = app.post_json(&format!("/api/v1/users/{max}/managers"), Some(&bob.token),
            &json!({"email": "ada@example.org"})).await;
        let invitation = body(res).await["id"].as_str().unwrap().to_owned();
        let res = app.request(Method::POST, &format!("/api/v1/invitations/{invitation}/accept"), Some(&ada.token))
            .send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        // 2 registrations and 3 creations, the invitation, the joining.
        let before = feed(&app, &root, 8).await.len();

        let res = app.delete(&format!("/api/v1/users/{lou}"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = app.request(Method::DELETE, "/api/v1/auth/me", Some(&ada.token))
            .json(&json!({"password": PASSWORD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);

        let events = feed(&app, &root, before + 4).await;
        assert_eq!(kinds(&events[before..]), vec![
            pair("user.deleted", &lou),
            pair("user.deleted", &zed),
            pair("user.deleted", &ada.id),
            pair("manager.left", &max),
        ]);
        for e in &events[before..] {
            assert_eq!(e["actor_id"], json!(ada.id));
        }
        assert_eq!(events[before + 3]["data"]["id"], json!(ada.id), "the Manager who left, as it was");
        assert_eq!(events[before + 3]["data"]["display_name"], json!("ada"));
        for e in &events {
            let about = e["user_id"].as_str().unwrap();
            if [lou.as_str(), zed.as_str(), ada.id.as_str()].contains(&about) {
                assert_eq!(e["data"], json!({}), "erased: {e}");
            } else {
                assert_ne!(e["data"], json!({}), "events about others keep what they carry: {e}");
            }
        }
        let joined = events.iter().find(|e| e["type"] == "manager.joined").unwrap();
        assert_eq!(joined["data"]["display_name"], json!("ada"), "about max, not erased");
    }

    async fn a_refused_change_leaves_no_event(app) {
        let root = app.admin("root@example.org").await;
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let before = feed(&app, &root, 3).await.len();
        // 409: the last manager cannot leave; 404: no such account to share with.
        let res = app.delete(&format!("/api/v1/users/{kim}/managers/{}", ada.id), &ada.token).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        let res = app.post_json("/api/v1/shares/", Some(&ada.token),
            &json!({"grantee_email": "nobody@example.org", "scopes": ["data:read"]})).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = app.register("ada@example.org", PASSWORD).await;
        assert_eq!(res.status(), StatusCode::CONFLICT);
        // A change after them: had they left an event, it would come first.
        let res = app.put_json(&format!("/api/v1/users/{kim}"), &ada.token, &json!({"last_name": "Lee"})).await;
        assert_eq!(res.status(), StatusCode::OK);
        let events = feed(&app, &root, before + 1).await;
        assert_eq!(events[before]["type"], json!("user.updated"));
    }

    async fn a_paging_reader_sees_every_event_of_concurrent_writers_in_order(app) {
        let root = app.admin("root@example.org").await;
        let mut writers = Vec::new();
        for i in 0..4 {
            writers.push(app.account(&format!("w{i}@example.org")).await);
        }
        let done = std::cell::Cell::new(false);
        let app = &app;
        let write = async {
            let work = writers.iter().map(|w| async move {
                for n in 0..12 {
                    let kid = app.managed(w, &format!("Kid{n}")).await;
                    let res = app.put_json(&format!("/api/v1/users/{kid}"), &w.token, &json!({"last_name": "X"})).await;
                    assert_eq!(res.status(), StatusCode::OK);
                    if n % 3 == 0 {
                        assert_eq!(app.delete(&format!("/api/v1/users/{kid}"), &w.token).await.status(), StatusCode::NO_CONTENT);
                    }
                }
            });
            futures_util::future::join_all(work).await;
            done.set(true);
        };
        // 5 registrations, then per writer 12 creates, 12 updates, 4 deletes.
        let total = 5 + 4 * 28;
        let read = async {
            let mut seen: Vec<Value> = Vec::new();
            let mut pages = 0;
            let deadline = std::time::Instant::now() + Duration::from_secs(60);
            while seen.len() < total {
                assert!(std::time::Instant::now() < deadline, "{} of {total} read", seen.len());
                let after = seen.last().map_or(0, |e| e["position"].as_i64().unwrap());
                let next = page(app, &root, after, 7).await;
                if next.is_empty() {
                    actix_rt::time::sleep(Duration::from_millis(5)).await;
                } else if !done.get() {
                    pages += 1;
                }
                seen.extend(next);
            }
            (seen, pages)
        };
        let ((), (seen, pages)) = futures_util::future::join(write, read).await;
        assert!(pages > 1, "the reader paged while the writers wrote");
        let all = feed(app, &root, total).await;
        // Erasure may blank an event after the reader read it: compare ids.
        let ids = |v: &[Value]| v.iter().map(|e| (e["position"].clone(), e["id"].clone())).collect::<Vec<_>>();
        assert_eq!(ids(&seen), ids(&all), "the reader missed or reordered nothing");
        let positions: Vec<i64> = all.iter().map(|e| e["position"].as_i64().unwrap()).collect();
        assert_eq!(positions, (1..=all.len() as i64).collect::<Vec<_>>());
    }

    async fn purge_expired_drops_old_events_but_never_the_newest_or_an_unpublished_one(app) {
        use server::batch::{purge_expired, Retention};
        let root = app.admin("root@example.org").await;
        app.account("ada@example.org").await;
        app.account("bob@example.org").await;
        feed(&app, &root, 3).await;
        // Sign-ins last 30 days: a day's retention, two days on, keeps them.
        let later = persistence::now() + chrono::Duration::days(2);
        let day = chrono::Duration::days(1);
        let relayed = Retention { events: day, events_published_only: true, ..Retention::of(&app.config) };
        let purged = purge_expired(&app.pool, persistence::now(), relayed).unwrap();
        assert_eq!(purged.events, 0, "nothing is a day old");
        let purged = purge_expired(&app.pool, later, relayed).unwrap();
        assert_eq!(purged.events, 0, "with a relay, nothing it has not published");
        let mut conn = app.pool.get().unwrap();
        conn.run(|c| persistence::events::advance_relay(c, 1)).unwrap();
        let purged = purge_expired(&app.pool, later, relayed).unwrap();
        assert_eq!(purged.events, 1, "what the relay has published");

        let purged = purge_expired(&app.pool, later, Retention { events_published_only: false, ..relayed }).unwrap();
        assert_eq!(purged.events, 1, "without a relay, all that is old but the newest");
        let left = feed(&app, &root, 1).await;
        assert_eq!(left[0]["position"], json!(3), "the newest stays");
        app.account("cat@example.org").await;
        let next = feed(&app, &root, 2).await.split_off(1);
        assert_eq!(next[0]["position"], json!(4), "a position is never given twice");
    }
}

/// PostgreSQL: a writer takes no lock that another writer waits on; an
/// event committed while an earlier transaction is still open is shown at
/// once, and the open one's event, once committed, comes after it: a
/// reader who has read past the first still finds it.
#[actix_rt::test]
async fn writers_never_wait_on_each_other_and_a_late_commit_lands_after_what_was_read() {
    use diesel::connection::SimpleConnection;
    let app = TestApp::spawn(persistence::Backend::Postgres).await;
    let root = app.admin("root@example.org").await;
    let ada = app.account("ada@example.org").await;
    let start = feed(&app, &root, 2).await.len();

    // A write transaction, left open, with an event in it.
    let mut held = app.pool.dedicated().unwrap();
    let someone = domain::UserId::new();
    held.run(|c| {
        c.batch_execute("BEGIN").unwrap();
        let event = persistence::events::NewEvent {
            kind: domain::EventType::UserUpdated,
            user: someone,
            actor: None,
            data: "{\"held\":true}".into(),
        };
        persistence::events::append(c, &[event], persistence::now())
    })
    .unwrap();

    // Another writer commits at once, while the first is open.
    let res = tokio::time::timeout(
        Duration::from_secs(5),
        app.post_json("/api/v1/users/", Some(&ada.token), &json!({"first_name": "Kim", "last_name": null})),
    )
    .await
    .expect("a write to another user does not wait for the open transaction");
    assert_eq!(res.status(), StatusCode::CREATED);
    let kim = body(res).await["id"].as_str().unwrap().to_owned();
    let read = feed(&app, &root, start + 1).await;
    assert_eq!(kinds(&read[start..]), vec![pair("user.created", &kim)], "the committed event, not the open one's");
    let last = read[start]["position"].as_i64().unwrap();

    held.run(|c| c.batch_execute("COMMIT").map_err(persistence::StoreError::from)).unwrap();
    let events = feed(&app, &root, start + 2).await;
    assert_eq!(kinds(&events[start..]), vec![pair("user.created", &kim), pair("user.updated", &someone.to_string())]);
    let next = page(&app, &root, last, 10).await;
    assert_eq!(next.len(), 1, "a reader paging after what it read finds the late one");
    assert_eq!(next[0]["data"], json!({"held": true}));
    assert_eq!(next[0]["position"], json!(last + 1));
}
