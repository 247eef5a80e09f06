//! C3: the access log. Every read or change of a user's data by someone
//! else leaves exactly one entry; the user's own requests, refused
//! requests and listings leave none.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{body, Account, TestApp, PASSWORD};
use crate::on_both_backends;

/// The whole log of `user`, newest first, as `reader` sees it.
async fn log_of(app: &TestApp, user: &str, reader: &Account) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/users/{user}/access-log?limit=100"), &reader.token).await;
    assert_eq!(res.status(), StatusCode::OK, "the log of {user}");
    body(res).await.as_array().unwrap().clone()
}

/// Runs a request and checks that it left exactly one new entry on
/// `user`'s log, with this actor, action, scope and via.
struct Walk<'a> {
    app: &'a TestApp,
    user: String,
    reader: &'a Account,
    seen: usize,
}

impl Walk<'_> {
    async fn expect(
        &mut self,
        status: reqwest::Response,
        want_status: u16,
        actor: &Account,
        action: &str,
        via: &str,
    ) -> Value {
        let got = status.status().as_u16();
        let text = status.text().await.unwrap();
        assert_eq!(got, want_status, "{action}: {text}");
        let log = log_of(self.app, &self.user, self.reader).await;
        assert_eq!(log.len(), self.seen + 1, "{action} left exactly one entry: {log:#?}");
        self.seen += 1;
        let entry = &log[0];
        let scope = domain::access_log::Action::ALL
            .iter()
            .find(|a| a.as_str() == action)
            .unwrap_or_else(|| panic!("{action} is an action"))
            .scope()
            .map(|s| s.as_str());
        assert_eq!(entry["action"], json!(action));
        assert_eq!(entry["actor_id"], json!(actor.id), "{action}: actor");
        assert_eq!(entry["user_id"], json!(self.user), "{action}: user");
        assert_eq!(entry["scope"], json!(scope), "{action}: scope");
        assert_eq!(entry["via"], json!(via), "{action}: via");
        let mut keys: Vec<&str> = entry.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["action", "actor_display_name", "actor_id", "at", "id", "scope", "user_id", "via"]);
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        }
    }

    /// A request that must leave no entry.
    async fn none(&self, res: reqwest::Response, want_status: u16, why: &str) {
        assert_eq!(res.status().as_u16(), want_status, "{why}");
        let log = log_of(self.app, &self.user, self.reader).await;
        assert_eq!(log.len(), self.seen, "{why} left no entry: {log:#?}");
    }
}

on_both_backends! {
    async fn every_action_leaves_one_entry_with_its_actor_scope_and_via(app) {
        let ada = app.account("ada@example.org").await;
        let coach = app.account("coach@example.org").await;
        let bea = app.account("bea@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let mut walk = Walk { app: &app, user: kim.clone(), reader: &ada, seen: 0 };
        let u = format!("/api/v1/users/{kim}");

        // Creating the user is the manager's own act: nothing yet.
        walk.none(app.get("/api/v1/users/", &ada.token).await, 200, "the user list").await;
        walk.expect(app.get(&u, &ada.token).await, 200, &ada, "user.read", "manager").await;
        walk.expect(app.put_json(&u, &ada.token, &json!({"last_name": "Lee"})).await, 200, &ada, "user.update", "manager").await;
        let share = walk.expect(app.post_json("/api/v1/shares/", Some(&ada.token),
            &json!({"grantee_email": "coach@example.org", "scopes": ["data:read", "data:write"], "user_id": kim})).await,
            201, &ada, "share.create", "manager").await;
        let share = share["id"].as_str().unwrap().to_owned();
        walk.none(app.get("/api/v1/shares/", &ada.token).await, 200, "the shares list").await;

        // The grantee, through the share.
        walk.expect(app.get(&format!("{u}/activities"), &coach.token).await, 200, &coach, "activity.list", "share").await;
        let activity = walk.expect(app.post_json(&format!("{u}/activities"), Some(&coach.token),
            &json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"})).await,
            201, &coach, "activity.create", "share").await;
        let a = format!("{u}/activities/{}", activity["id"].as_str().unwrap());
        walk.expect(app.get(&a, &coach.token).await, 200, &coach, "activity.read", "share").await;
        let trace = json!([{"time": "2026-11-28T07:00:00Z", "lat": 1.0, "lon": 2.0, "heart_rate": 120}]);
        walk.expect(app.request(Method::PUT, &format!("{a}/trace"), Some(&coach.token)).json(&trace).send().await.unwrap(),
            204, &coach, "trace.write", "share").await;
        walk.expect(app.get(&format!("{a}/trace"), &coach.token).await, 200, &coach, "trace.read", "share").await;
        // Refused requests leave none: a 422, a 404 for a missing activity.
        walk.none(app.post_json(&format!("{u}/activities"), Some(&coach.token), &json!({"name": ""})).await, 422, "a 422").await;
        walk.none(app.get(&format!("{u}/activities/{}", uuid::Uuid::new_v4()), &coach.token).await, 404, "a 404").await;
        walk.expect(app.delete(&a, &coach.token).await, 204, &coach, "activity.delete", "share").await;
        walk.expect(app.put_json(&format!("/api/v1/shares/{share}"), &ada.token, &json!({"scopes": ["data:read"]})).await,
            200, &ada, "share.update", "manager").await;
        walk.none(app.post_json(&format!("{u}/activities"), Some(&coach.token),
            &json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"})).await, 403, "a 403").await;

        // C1: an invitation, its acceptance, a manager leaving.
        let invitation = walk.expect(app.post_json(&format!("{u}/managers"), Some(&ada.token),
            &json!({"email": "bea@example.org"})).await, 201, &ada, "manager.invite", "manager").await;
        let invitation = invitation["id"].as_str().unwrap().to_owned();
        walk.none(app.get(&format!("{u}/managers"), &ada.token).await, 200, "the managers list").await;
        walk.none(app.get("/api/v1/invitations/", &bea.token).await, 200, "the invitations list").await;
        walk.expect(app.request(Method::POST, &format!("/api/v1/invitations/{invitation}/accept"), Some(&bea.token))
            .send().await.unwrap(), 200, &bea, "manager.join", "manager").await;
        walk.expect(app.delete(&format!("{u}/managers/{}", bea.id), &bea.token).await, 204, &bea, "manager.leave", "manager").await;
        // A declined invitation leaves nothing.
        let res = app.post_json(&format!("{u}/managers"), Some(&ada.token), &json!({"email": "bea@example.org"})).await;
        let again = walk.expect(res, 201, &ada, "manager.invite", "manager").await;
        walk.none(app.delete(&format!("/api/v1/invitations/{}", again["id"].as_str().unwrap()), &bea.token).await,
            204, "a declined invitation").await;

        // The grantee leaves its share.
        walk.expect(app.delete(&format!("/api/v1/shares/{share}"), &coach.token).await, 204, &coach, "share.delete", "share").await;

        // C2: a claim code, voided, issued again and redeemed.
        let cc = format!("{u}/claim-code");
        walk.expect(app.post_json(&cc, Some(&ada.token), &json!({})).await, 201, &ada, "claim_code.issue", "manager").await;
        walk.expect(app.delete(&cc, &ada.token).await, 204, &ada, "claim_code.void", "manager").await;
        let code = walk.expect(app.post_json(&cc, Some(&ada.token), &json!({"keep_scopes": ["data:read"]})).await,
            201, &ada, "claim_code.issue", "manager").await;
        let res = app.post_json("/api/v1/auth/claim", None,
            &json!({"code": code["code"], "email": "kim@example.org", "password": PASSWORD})).await;
        assert_eq!(res.status(), StatusCode::CREATED);

        // Kim now reads her own log: the claim is its newest entry, by the
        // issuing manager; Ada, a grantee now, may not read it.
        let res = app.sign_in("kim@example.org", PASSWORD).await;
        let kim_token = body(res).await["access_token"].as_str().unwrap().to_owned();
        let kim_account = Account { id: kim.clone(), token: kim_token };
        let log = log_of(&app, &kim, &kim_account).await;
        assert_eq!(log.len(), walk.seen + 1);
        assert_eq!((&log[0]["action"], &log[0]["actor_id"], &log[0]["via"], &log[0]["scope"]),
            (&json!("user.claim"), &json!(ada.id), &json!("manager"), &Value::Null));
        assert_eq!(log[0]["actor_display_name"], json!("ada"));
        let res = app.get(&format!("{u}/access-log"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "a grantee may not read the log");
        // Kim's own reads leave none.
        app.get(&format!("{u}/activities"), &kim_account.token).await;
        assert_eq!(log_of(&app, &kim, &kim_account).await.len(), log.len(), "the user's own requests leave none");
        // Every action of the contract but user.delete (whose log goes
        // with its user) was walked.
        let mut actions: Vec<String> = log.iter().map(|e| e["action"].as_str().unwrap().to_owned()).collect();
        actions.sort();
        actions.dedup();
        assert_eq!(actions.len(), domain::access_log::Action::ALL.len() - 1, "{actions:?}");
    }

    async fn an_accounts_own_data_read_through_a_share_is_on_its_log(app) {
        let ada = app.account("ada@example.org").await;
        let coach = app.account("coach@example.org").await;
        let res = app.post_json("/api/v1/shares/", Some(&ada.token),
            &json!({"grantee_email": "coach@example.org", "scopes": ["data:read"]})).await;
        assert_eq!(res.status(), StatusCode::CREATED, "a share of oneself is one's own act");
        assert!(log_of(&app, &ada.id, &ada).await.is_empty());
        app.get(&format!("/api/v1/users/{}/activities", ada.id), &ada.token).await;
        assert!(log_of(&app, &ada.id, &ada).await.is_empty(), "one's own read leaves none");
        let res = app.get(&format!("/api/v1/users/{}/activities", ada.id), &coach.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let log = log_of(&app, &ada.id, &ada).await;
        assert_eq!(log.len(), 1);
        assert_eq!((&log[0]["action"], &log[0]["via"], &log[0]["actor_display_name"]),
            (&json!("activity.list"), &json!("share"), &json!("coach")));
        // The coach deletes its account: the entry stays, without an actor,
        // beside the one of the share that went with the account.
        let res = app.request(Method::DELETE, "/api/v1/auth/me", Some(&coach.token))
            .json(&json!({"password": PASSWORD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let log = log_of(&app, &ada.id, &ada).await;
        assert_eq!(log.len(), 2);
        assert_eq!(log[1]["action"], json!("activity.list"));
        assert_eq!(log[1]["actor_id"], Value::Null, "the actor is gone");
        assert_eq!(log[1]["actor_display_name"], json!("coach"), "its name as it was");
        assert_eq!((&log[0]["action"], &log[0]["via"]), (&json!("share.delete"), &json!("share")));
    }

    async fn an_account_deleted_leaves_an_entry_on_each_user_it_leaves(app) {
        let ada = app.account("ada@example.org").await;
        let coach = app.account("coach@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        app.co_manage(&ada, &kim, &coach, "coach@example.org").await;
        let solo = app.managed(&coach, "Solo").await;
        for (user, scopes) in [(ada.id.as_str(), json!(["data:read"])), (kim.as_str(), json!(["data:write"]))] {
            let res = app.post_json("/api/v1/shares/", Some(&ada.token),
                &json!({"grantee_email": "coach@example.org", "scopes": scopes, "user_id": user})).await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        // An ended share grants nothing: its going is no one's access.
        let ended = (chrono::Utc::now() + chrono::Duration::seconds(1)).to_rfc3339();
        let ben = app.managed(&ada, "Ben").await;
        let res = app.post_json("/api/v1/shares/", Some(&ada.token),
            &json!({"grantee_email": "coach@example.org", "scopes": ["data:read"], "user_id": ben, "expires_at": ended})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let (kim_before, ben_before) = (log_of(&app, &kim, &ada).await.len(), log_of(&app, &ben, &ada).await.len());
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

        let res = app.request(Method::DELETE, "/api/v1/auth/me", Some(&coach.token))
            .json(&json!({"password": PASSWORD})).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let entry = |e: &Value| (e["action"].clone(), e["via"].clone(), e["scope"].clone(), e["actor_id"].clone(),
            e["actor_display_name"].clone());
        let gone = |action: &str, via: &str| (json!(action), json!(via), Value::Null, Value::Null, json!("coach"));
        let log = log_of(&app, &kim, &ada).await;
        assert_eq!(log.len(), kim_before + 2, "Kim's co-manager and grantee left: {log:#?}");
        let mut newest: Vec<_> = log[..2].iter().map(entry).collect();
        newest.sort_by_key(|e| e.0.to_string());
        assert_eq!(newest, [gone("manager.leave", "manager"), gone("share.delete", "share")]);
        let log = log_of(&app, &ada.id, &ada).await;
        assert_eq!(log.iter().map(entry).collect::<Vec<_>>(), [gone("share.delete", "share")], "Ada's own share");
        assert_eq!(log_of(&app, &ben, &ada).await.len(), ben_before, "an ended share leaves no entry as it goes");
        let res = app.get(&format!("/api/v1/users/{solo}"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "the user it managed alone went with it");
    }

    async fn concurrent_reads_leave_one_entry_each(app) {
        // Reads' entries are written in batches (api::read_log): many at
        // once still leave exactly one each.
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let path = format!("/api/v1/users/{kim}/activities");
        let reads = (0..40).map(|_| app.get(&path, &ada.token));
        for res in futures_util::future::join_all(reads).await {
            assert_eq!(res.status(), StatusCode::OK);
        }
        let res = app.get(&format!("/api/v1/users/{kim}/access-log?limit=100"), &ada.token).await;
        let log = body(res).await;
        assert_eq!(log.as_array().unwrap().len(), 40);
        let ids: std::collections::HashSet<&str> = log.as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 40, "each its own entry");
    }

    async fn the_log_pages_newest_first_and_goes_with_its_user(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        for _ in 0..5 {
            assert_eq!(app.get(&format!("/api/v1/users/{kim}"), &ada.token).await.status(), StatusCode::OK);
        }
        let all = log_of(&app, &kim, &ada).await;
        assert_eq!(all.len(), 5);
        let ats: Vec<&str> = all.iter().map(|e| e["at"].as_str().unwrap()).collect();
        assert!(ats.windows(2).all(|w| w[0] >= w[1]), "newest first: {ats:?}");
        let page = |q: String| { let app = &app; let t = ada.token.clone(); let kim = kim.clone();
            async move { app.get(&format!("/api/v1/users/{kim}/access-log{q}"), &t).await } };
        let first = body(page("?limit=2".into()).await).await;
        assert_eq!(first.as_array().unwrap().len(), 2);
        let last = first[1]["id"].as_str().unwrap();
        let second = body(page(format!("?limit=2&before={last}")).await).await;
        let third = body(page(format!("?limit=2&before={}", second[1]["id"].as_str().unwrap())).await).await;
        let paged: Vec<Value> = [first, second, third].iter().flat_map(|p| p.as_array().unwrap().clone()).collect();
        assert_eq!(paged, all, "pages neither skip nor repeat");
        for (q, loc) in [("?limit=0", "limit"), ("?limit=101", "limit"), ("?limit=x", "limit"), ("?before=nope", "before"),
            (&format!("?before={}", uuid::Uuid::new_v4()), "before")] {
            let res = page(q.to_owned()).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
            assert_eq!(body(res).await["detail"][0]["loc"], json!(["query", loc]), "{q}");
        }

        // Deleting the user deletes its log.
        let lee = app.managed(&ada, "Lee").await;
        app.get(&format!("/api/v1/users/{lee}"), &ada.token).await;
        let stored = |app: &TestApp, user: &str| {
            let id: domain::UserId = user.parse().unwrap();
            app.pool.get().unwrap().run(|c| persistence::access_log::page(c, id, 100, None)).unwrap().unwrap().len()
        };
        assert_eq!(stored(&app, &lee), 1);
        assert_eq!(app.delete(&format!("/api/v1/users/{lee}"), &ada.token).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(stored(&app, &lee), 0, "the log went with its user");

        // Retention: purge-expired drops entries past it, and only those.
        let keep = server::batch::Retention::of(&server::Config::default());
        let now = persistence::now();
        assert_eq!(server::batch::purge_expired(&app.pool, now, keep).unwrap().access_log, 0);
        let later = now + keep.access_log + chrono::Duration::minutes(1);
        assert_eq!(server::batch::purge_expired(&app.pool, later, keep).unwrap().access_log, 5);
        assert_eq!(stored(&app, &kim), 0);

    }

    async fn an_entry_that_cannot_be_written_fails_the_request(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let u = format!("/api/v1/users/{kim}");
        // The log's table refuses every insert from now on.
        app.db.execute(match app.db.backend() {
            persistence::Backend::Postgres => "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \
                $$ BEGIN RAISE EXCEPTION 'refused'; END $$; \
                CREATE TRIGGER refuse BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION refuse();",
            persistence::Backend::Sqlite => "CREATE TRIGGER refuse BEFORE INSERT ON access_log \
                BEGIN SELECT RAISE(ABORT, 'refused'); END;",
        });
        let res = app.get(&u, &ada.token).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "no read goes unrecorded");
        let res = app.put_json(&u, &ada.token, &json!({"last_name": "Lost"})).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE, "no write goes unrecorded");
        let res = app.post_json(&format!("{u}/activities"), Some(&ada.token),
            &json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"})).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        // Nothing of the refused writes is there; the user's own requests,
        // which leave no entry, are served.
        let listed = body(app.get("/api/v1/users/", &ada.token).await).await;
        let kim_row = listed.as_array().unwrap().iter().find(|x| x["id"] == json!(kim)).unwrap().clone();
        assert_eq!(kim_row["last_name"], Value::Null, "the update rolled back");
        let id: domain::UserId = kim.parse().unwrap();
        let acts = app.pool.get().unwrap().run(|c| persistence::activities::list(c, id, 100, None)).unwrap().unwrap();
        assert!(acts.is_empty(), "the activity rolled back");
    }
}
