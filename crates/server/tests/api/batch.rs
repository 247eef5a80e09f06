//! The batch jobs, on data made through the API.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::body;
use crate::on_both_backends;

/// The default retention, as `purge-expired` runs with no configuration.
fn keep() -> server::batch::Retention {
    server::batch::Retention::of(&server::Config::default())
}

on_both_backends! {
    async fn export_holds_every_row_of_a_user_and_its_managed_users(app) {
        let ada = app.account("ada@example.org").await;
        let coach = app.account("coach@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let res = app.post_json(&format!("/api/v1/users/{kim}/activities"), Some(&ada.token),
            &json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let act = body(res).await["id"].as_str().unwrap().to_owned();
        let trace = json!([{"time": "2026-11-28T07:00:00Z", "lat": 1.0, "lon": 2.0, "heart_rate": 100}]);
        let res = app.request(Method::PUT, &format!("/api/v1/users/{kim}/activities/{act}/trace"), Some(&ada.token))
            .json(&trace).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let res = app.post_json("/api/v1/shares/", Some(&ada.token),
            &json!({"grantee_email": "coach@example.org", "scopes": ["data:read"], "user_id": kim})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        // C1 and C2: an invitation to the coach, and a claim code.
        let res = app.post_json(&format!("/api/v1/users/{kim}/managers"), Some(&ada.token),
            &json!({"email": "coach@example.org"})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let invitation = body(res).await["id"].as_str().unwrap().to_owned();
        let res = app.post_json(&format!("/api/v1/users/{kim}/claim-code"), Some(&ada.token),
            &json!({"keep_scopes": ["data:read"]})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let code = body(res).await["code"].as_str().unwrap().to_owned();

        let doc = server::batch::export(&app.pool, ada.id.parse().unwrap()).unwrap().expect("ada exists");
        assert_eq!(doc["user"]["id"], json!(ada.id));
        assert_eq!(doc["user"]["email"], json!("ada@example.org"));
        assert_eq!(doc["sign_ins"].as_array().unwrap().len(), 1);
        let managed = &doc["managed_users"][0];
        assert_eq!(managed["user"]["id"], json!(kim));
        assert_eq!(managed["activities"][0]["id"], json!(act));
        assert_eq!(managed["activities"][0]["trace"][0]["heart_rate"], json!(100));
        assert_eq!(managed["shares"][0]["grantee_id"], json!(coach.id));
        assert_eq!(managed["managers"][0]["id"], json!(ada.id), "who manages Kim");
        assert_eq!(doc["manages"][0]["id"], json!(kim), "whom Ada manages");
        assert_eq!(managed["invitations"][0]["id"], json!(invitation));
        assert_eq!(doc["invitations"][0]["invitee_id"], json!(coach.id), "sent by Ada");
        assert_eq!(managed["claim_codes"][0]["keep_scopes"], json!(["data:read"]));
        // Kim's access log: nobody but her managers acted on her; the
        // coach reading her activities is on it.
        let res = app.get(&format!("/api/v1/users/{kim}/activities"), &coach.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let doc2 = server::batch::export(&app.pool, ada.id.parse().unwrap()).unwrap().unwrap();
        let log = doc2["managed_users"][0]["access_log"].as_array().unwrap();
        let last = log.last().unwrap();
        assert_eq!((&last["action"], &last["actor_id"], &last["via"]), (&json!("activity.list"), &json!(coach.id), &json!("share")));
        assert!(doc["access_log"].as_array().unwrap().is_empty(), "nobody acted on Ada's own data");
        let text = doc.to_string();
        assert!(!text.contains(&code) && !text.contains("code_hash"), "no claim code or its hash in an export");
        assert!(!text.contains("argon2"), "no password hash in an export");
        assert!(!text.contains(&ada.token), "no token in an export");
        assert!(server::batch::export(&app.pool, domain::UserId::new()).unwrap().is_none());
    }

    async fn purge_expired_drops_only_what_can_no_longer_grant_or_sign_in(app) {
        let ada = app.account("ada@example.org").await;
        app.account("coach@example.org").await;
        let soon = (Utc::now() + Duration::seconds(30)).to_rfc3339();
        let res = app.post_json("/api/v1/shares/", Some(&ada.token),
            &json!({"grantee_email": "coach@example.org", "scopes": ["data:read"], "expires_at": soon})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let other = body(app.sign_in("ada@example.org", crate::helpers::PASSWORD).await).await["access_token"]
            .as_str().unwrap().to_owned();
        let res = app.request(Method::POST, "/api/v1/auth/logout", Some(&other)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);

        let now = persistence::now();
        let purged = server::batch::purge_expired(&app.pool, now, keep()).unwrap();
        assert_eq!((purged.shares, purged.sessions), (0, 1), "the live share stays; the revoked sign-in goes");
        assert_eq!(app.get("/api/v1/auth/me", &ada.token).await.status(), StatusCode::OK, "live sign-ins stay");
        let purged = server::batch::purge_expired(&app.pool, now + Duration::minutes(1), keep()).unwrap();
        assert_eq!(purged.shares, 1, "the share has ended by then");
    }

    async fn purge_expired_drops_expired_invitations_claim_codes_and_enrollments(app) {
        let ada = app.account("ada@example.org").await;
        let coach = app.account("coach@example.org").await;
        let bea = app.account("bea@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let res = app.post_json(&format!("/api/v1/users/{kim}/managers"), Some(&ada.token),
            &json!({"email": "coach@example.org"})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = app.post_json(&format!("/api/v1/users/{kim}/claim-code"), Some(&ada.token), &json!({})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        crate::mfa::enroll(&app, &bea).await;
        crate::mfa::turn_on(&app, &coach).await;
        let dropped = |p: server::batch::Purged| (p.invitations, p.claim_codes, p.enrollments);

        let now = persistence::now();
        let purged = server::batch::purge_expired(&app.pool, now, keep()).unwrap();
        assert_eq!(dropped(purged), (0, 0, 0), "everything is live");
        let later = now + domain::mfa::ENROLLMENT_LIFETIME + Duration::seconds(1);
        let purged = server::batch::purge_expired(&app.pool, later, keep()).unwrap();
        assert_eq!(dropped(purged), (0, 0, 1), "Bea's enrollment has expired; the coach's factor is on and stays");
        let res = app.get("/api/v1/auth/mfa", &coach.token).await;
        assert_eq!(body(res).await["totp"], json!(true), "a factor that is on is never purged");
        let doc = server::batch::export(&app.pool, ada.id.parse().unwrap()).unwrap().unwrap();
        assert_eq!(doc["managed_users"][0]["invitations"].as_array().unwrap().len(), 1, "a week to accept");
        assert_eq!(doc["managed_users"][0]["claim_codes"].as_array().unwrap().len(), 1, "a week to redeem");

        let week = now + domain::INVITATION_LIFETIME.max(domain::claim::CLAIM_CODE_LIFETIME) + Duration::seconds(1);
        let purged = server::batch::purge_expired(&app.pool, week, keep()).unwrap();
        assert_eq!(dropped(purged), (1, 1, 0), "the invitation and the code have expired");
        let doc = server::batch::export(&app.pool, ada.id.parse().unwrap()).unwrap().unwrap();
        assert!(doc["managed_users"][0]["invitations"].as_array().unwrap().is_empty());
        assert!(doc["managed_users"][0]["claim_codes"].as_array().unwrap().is_empty());
        assert_eq!(doc["managed_users"][0]["managers"].as_array().unwrap().len(), 1, "Kim keeps her manager");
    }

    async fn purge_expired_keeps_wrong_code_counts_for_their_day(app) {
        let now = persistence::now();
        let code_key = domain::throttle::code_key(domain::UserId::new());
        let account_key = domain::throttle::account_key("ada@example.org");
        app.pool.get().unwrap().run(|c| {
            persistence::throttle::record_failure(c, &code_key, now, now - Duration::hours(24))?;
            persistence::throttle::record_failure(c, &account_key, now, now - Duration::minutes(15))
        }).unwrap();
        let purged = server::batch::purge_expired(&app.pool, now + Duration::minutes(20), keep()).unwrap();
        assert_eq!(purged.throttles, 1, "the password count's window is over, the code count's is not");
        let left = app.pool.get().unwrap().run(|c| persistence::throttle::failures(c, &[code_key.as_str()])).unwrap();
        assert!(left[0].is_some(), "a wrong code still counts");
        let purged = server::batch::purge_expired(&app.pool, now + Duration::hours(25), keep()).unwrap();
        assert_eq!(purged.throttles, 1, "after a day it goes too");
    }
}
