//! Part B: sharing, how a user gains shared access.

use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_422, body, keys, Account, TestApp};
use crate::on_both_backends;

pub(crate) const SHARE_KEYS: [&str; 8] = [
    "created_at",
    "expires_at",
    "grantee_display_name",
    "grantee_id",
    "id",
    "scopes",
    "subject_display_name",
    "subject_id",
];

/// `POST /api/v1/shares/` with `body`, by `granter`.
pub(crate) async fn post_share(app: &TestApp, granter: &Account, body: &Value) -> Response {
    app.post_json("/api/v1/shares/", Some(&granter.token), body).await
}

/// Grants `scopes` on `subject` (the granter when `None`) to the account
/// with `email`; asserts a 201 and returns the share.
pub(crate) async fn share(
    app: &TestApp,
    granter: &Account,
    email: &str,
    scopes: &[&str],
    subject: Option<&str>,
) -> Value {
    let mut req = json!({"grantee_email": email, "scopes": scopes});
    if let Some(subject) = subject {
        req["user_id"] = json!(subject);
    }
    let res = post_share(app, granter, &req).await;
    assert_eq!(res.status(), StatusCode::CREATED, "grant {scopes:?} to {email}");
    body(res).await
}

/// Asserts a 422 whose entries sit at exactly these `loc`s, in any order
/// (the contract names none), whatever machine `type` each carries (for
/// faults whose type the contract leaves open); each entry still has a
/// non-empty `msg` and `type`.
pub(crate) async fn assert_422_at(res: Response, want: &[Value], why: &str) {
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    let b = body(res).await;
    let mut got: Vec<Value> = b["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("{why}: detail is a list: {b}"))
        .iter()
        .map(|e| {
            assert!(e["msg"].as_str().is_some_and(|m| !m.is_empty()), "{why}: msg is a non-empty string: {e}");
            assert!(e["type"].as_str().is_some_and(|t| !t.is_empty()), "{why}: type is a non-empty string: {e}");
            e["loc"].clone()
        })
        .collect();
    let mut want = want.to_vec();
    got.sort_by_key(Value::to_string);
    want.sort_by_key(Value::to_string);
    assert_eq!(got, want, "{why}: {b}");
}

/// An RFC 3339 time `secs` seconds from now.
pub(crate) fn seconds_from_now(secs: i64) -> (DateTime<Utc>, String) {
    use chrono::SubsecRound;
    let at = (Utc::now() + chrono::Duration::seconds(secs)).trunc_subsecs(6);
    (at, at.to_rfc3339_opts(SecondsFormat::Micros, true))
}

fn instant(v: &Value) -> DateTime<FixedOffset> {
    let s = v.as_str().unwrap_or_else(|| panic!("a time string: {v}"));
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("RFC 3339 ({e}): {s}"))
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_owned()).collect()
}

/// The items of a JSON list, sorted by `id`.
fn by_id(list: &Value) -> Vec<Value> {
    let mut items = list.as_array().unwrap_or_else(|| panic!("a list: {list}")).clone();
    items.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    items
}

async fn status_and_body(res: Response) -> (StatusCode, Value) {
    (res.status(), body(res).await)
}

on_both_backends! {
    async fn creating_a_share_answers_201_with_location_and_the_share(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let res = post_share(&app, &ada, &json!({"grantee_email": "Bob@EXAMPLE.org", "scopes": ["data:write", "data:read"]})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let location = res.headers().get("location").expect("a Location header").to_str().unwrap().to_owned();
        let share = body(res).await;
        assert_eq!(keys(&share), SHARE_KEYS, "exact field set of Share");
        let id = share["id"].as_str().unwrap();
        assert!(uuid::Uuid::parse_str(id).is_ok() && id == id.to_lowercase(), "a lower-case UUID: {id}");
        assert_eq!(location, format!("/api/v1/shares/{id}"));
        assert_eq!(share["subject_id"], json!(ada.id), "no user_id: the caller is the subject");
        assert_eq!(share["grantee_id"], json!(bob.id), "the e-mail is compared case-insensitively");
        assert_eq!(share["subject_display_name"], json!("ada"));
        assert_eq!(share["grantee_display_name"], json!("bob"));
        assert_eq!(share["scopes"], json!(["data:read", "data:write"]), "scopes in the order of Scope");
        assert_eq!(share["expires_at"], Value::Null, "no expires_at: no end");
        let created = instant(&share["created_at"]);
        assert!((Utc::now() - created.with_timezone(&Utc)).num_seconds().abs() < 60, "created now: {created}");

        let carol = app.account("carol@example.org").await;
        let (end, end_text) = seconds_from_now(3600);
        let res = post_share(&app, &ada, &json!({"grantee_email": "carol@example.org", "scopes": ["data:read"], "expires_at": end_text})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let share = body(res).await;
        assert_eq!(share["grantee_id"], json!(carol.id));
        assert_eq!(share["scopes"], json!(["data:read"]));
        assert_eq!(instant(&share["expires_at"]), end, "expires_at as given");
        let res = post_share(&app, &ada, &json!({"grantee_email": "dan@example.org", "scopes": ["data:read"], "user_id": null, "expires_at": null})).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "null user_id is the caller; dan has no account");
    }

    async fn a_manager_shares_a_managed_user_and_the_grantee_lists_it_as_shared(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let bob = app.account("bob@example.org").await;
        let share = share(&app, &ada, "bob@example.org", &["data:read"], Some(&kim)).await;
        assert_eq!(share["subject_id"], json!(kim));
        assert_eq!(share["subject_display_name"], json!("Kim"));
        assert_eq!(share["grantee_id"], json!(bob.id));

        let list = body(app.get("/api/v1/users/", &bob.token).await).await;
        assert_eq!(ids(&list), vec![bob.id.clone(), kim.clone()], "the caller, then the shared user");
        let shared = &list[1];
        assert_eq!(shared["is_managed"], json!(true));
        assert_eq!(shared["scopes"], json!(["data:read"]), "the granted scopes");
        assert_eq!(shared["display_name"], json!("Kim"));
        let list = body(app.get("/api/v1/users/?include_shared=false", &bob.token).await).await;
        assert_eq!(ids(&list), vec![bob.id.clone()], "include_shared=false leaves it out");
        let list = body(app.get("/api/v1/users/?include_managed=false", &bob.token).await).await;
        assert_eq!(ids(&list), vec![bob.id.clone(), kim.clone()], "a shared user is not a managed one of bob's");
        let res = app.get(&format!("/api/v1/users/{kim}/activities"), &bob.token).await;
        assert_eq!(res.status(), StatusCode::OK, "the grantee may read the managed user's data");
    }

    async fn sharing_a_user_the_caller_does_not_manage_or_an_unknown_email_is_404(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let eve = app.account("eve@example.org").await;
        let mallory = app.managed(&eve, "Mallory").await;
        let unknown = uuid::Uuid::new_v4().to_string();
        let cases = [
            (json!({"grantee_email": "bob@example.org", "scopes": ["data:read"], "user_id": mallory}), "someone else's managed user"),
            (json!({"grantee_email": "bob@example.org", "scopes": ["data:read"], "user_id": unknown}), "an unknown user_id"),
            (json!({"grantee_email": "bob@example.org", "scopes": ["data:read"], "user_id": eve.id}), "another account"),
        ];
        for (req, why) in cases {
            let (status, b) = status_and_body(post_share(&app, &ada, &req).await).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{why}");
            assert_eq!(b, json!({"detail": "User not found"}), "{why}");
        }
        let (status, b) = status_and_body(post_share(&app, &ada, &json!({"grantee_email": "nobody@example.org", "scopes": ["data:read"]})).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no account has that e-mail");
        assert!(b["detail"].is_string(), "{b}");
        let (status, _) = status_and_body(post_share(&app, &eve, &json!({"grantee_email": "nobody@example.org", "scopes": ["data:read"], "user_id": mallory})).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "no account has that e-mail, on a managed subject");
        let shares = body(app.get("/api/v1/shares/", &bob.token).await).await;
        assert_eq!(shares, json!({"granted": [], "received": []}), "nothing was granted");
    }

    async fn share_bodies_are_checked_listing_every_fault(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        app.account("bob@example.org").await;
        let cases = [
            (json!({"grantee_email": "bob@example.org", "scopes": []}),
             vec![(json!(["body", "scopes"]), "too_short")], "empty scopes"),
            (json!({"grantee_email": "bob@example.org", "scopes": ["data:read", "data:delete"]}),
             vec![(json!(["body", "scopes", 1]), "enum")], "an unknown scope"),
            (json!({"grantee_email": "bob@example.org", "scopes": ["admin", "data:read", "data:Write"]}),
             vec![(json!(["body", "scopes", 0]), "enum"), (json!(["body", "scopes", 2]), "enum")], "two unknown scopes"),
            (json!({}),
             vec![(json!(["body", "grantee_email"]), "missing"), (json!(["body", "scopes"]), "missing")], "an empty object"),
            (json!({"scopes": ["data:read"]}),
             vec![(json!(["body", "grantee_email"]), "missing")], "no grantee_email"),
            (json!({"grantee_email": "bob@example.org"}),
             vec![(json!(["body", "scopes"]), "missing")], "no scopes"),
            (json!({"grantee_email": "nobody@example.org", "scopes": []}),
             vec![(json!(["body", "scopes"]), "too_short")], "the shape (422) comes before an unknown e-mail (404)"),
            (json!({"grantee_email": "bob@example.org", "scopes": [], "user_id": uuid::Uuid::new_v4().to_string()}),
             vec![(json!(["body", "scopes"]), "too_short")], "the shape (422) comes before an unknown user (404)"),
        ];
        for (req, want, why) in cases {
            assert_422(post_share(&app, &ada, &req).await, &want, why).await;
        }
        let past = "2020-01-01T00:00:00Z";
        let loc_cases = [
            (json!({"grantee_email": "ada@example.org", "scopes": ["data:read"]}),
             vec![json!(["body", "grantee_email"])], "a grant to yourself"),
            (json!({"grantee_email": "ADA@example.org", "scopes": ["data:read"]}),
             vec![json!(["body", "grantee_email"])], "a grant to yourself, in another case"),
            (json!({"grantee_email": "ada@example.org", "scopes": ["data:read"], "user_id": kim}),
             vec![json!(["body", "grantee_email"])], "a grant of your managed user to yourself"),
            (json!({"grantee_email": "bob@example.org", "scopes": ["data:read"], "expires_at": past}),
             vec![json!(["body", "expires_at"])], "expires_at in the past"),
            (json!({"grantee_email": "bob@example.org", "scopes": ["data:read"], "expires_at": "2099-01-01T00:00:00"}),
             vec![json!(["body", "expires_at"])], "expires_at without an offset"),
            (json!({"grantee_email": "not-an-email", "scopes": ["x", "data:read", "y"], "user_id": "nope", "expires_at": past}),
             vec![json!(["body", "grantee_email"]), json!(["body", "scopes", 0]), json!(["body", "scopes", 2]),
                  json!(["body", "user_id"]), json!(["body", "expires_at"])], "every fault of one body, listed together"),
            (json!({"grantee_email": 7, "scopes": "data:read"}),
             vec![json!(["body", "grantee_email"]), json!(["body", "scopes"])], "wrong types"),
        ];
        for (req, want, why) in loc_cases {
            assert_422_at(post_share(&app, &ada, &req).await, &want, why).await;
        }
        let shares = body(app.get("/api/v1/shares/", &ada.token).await).await;
        assert_eq!(shares, json!({"granted": [], "received": []}), "a 422 grants nothing");
    }

    async fn a_second_grant_to_the_same_grantee_on_the_same_subject_is_409(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let bob = app.account("bob@example.org").await;
        let first = share(&app, &ada, "bob@example.org", &["data:read"], None).await;
        for (req, why) in [
            (json!({"grantee_email": "bob@example.org", "scopes": ["data:read"]}), "the same grant"),
            (json!({"grantee_email": "BOB@example.org", "scopes": ["data:write"]}), "other scopes"),
            (json!({"grantee_email": "bob@example.org", "scopes": ["data:read"], "user_id": ada.id}), "user_id spelled out"),
        ] {
            let (status, b) = status_and_body(post_share(&app, &ada, &req).await).await;
            assert_eq!(status, StatusCode::CONFLICT, "{why}");
            assert!(b["detail"].is_string(), "{why}: {b}");
        }
        share(&app, &ada, "bob@example.org", &["data:write"], Some(&kim)).await;
        let received = body(app.get("/api/v1/shares/", &bob.token).await).await["received"].clone();
        assert_eq!(received.as_array().unwrap().len(), 2, "one share per subject: {received}");
        assert_eq!(received[0], first, "the first share is unchanged by the 409s");
    }

    async fn list_shares_shows_what_was_granted_and_received_from_both_sides(app) {
        let res = app.request(reqwest::Method::GET, "/api/v1/shares/", None).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let dan = app.account("dan@example.org").await;
        let ada_to_bob = share(&app, &ada, "bob@example.org", &["data:read"], None).await;
        let kim_to_carol = share(&app, &ada, "carol@example.org", &["data:read", "data:write"], Some(&kim)).await;
        let bob_to_ada = share(&app, &bob, "ada@example.org", &["data:write"], None).await;

        let cases = [
            (&ada, vec![ada_to_bob.clone(), kim_to_carol.clone()], vec![bob_to_ada.clone()], "ada: owner and manager"),
            (&bob, vec![bob_to_ada.clone()], vec![ada_to_bob.clone()], "bob"),
            (&carol, vec![], vec![kim_to_carol.clone()], "carol: a grantee only"),
            (&dan, vec![], vec![], "dan: a stranger"),
        ];
        for (who, granted, received, why) in cases {
            let res = app.get("/api/v1/shares/", &who.token).await;
            assert_eq!(res.status(), StatusCode::OK, "{why}");
            let list = body(res).await;
            assert_eq!(keys(&list), ["granted", "received"], "{why}");
            // The contract names no order for these lists: compare as sets.
            assert_eq!(by_id(&list["granted"]), by_id(&json!(granted)), "{why}: granted");
            assert_eq!(by_id(&list["received"]), by_id(&json!(received)), "{why}: received");
            for s in list["granted"].as_array().unwrap().iter().chain(list["received"].as_array().unwrap()) {
                assert_eq!(keys(s), SHARE_KEYS, "{why}");
            }
        }
    }

    async fn an_expired_share_grants_nothing_and_counts_as_absent_everywhere(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let activities = format!("/api/v1/users/{}/activities", ada.id);
        let run = json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"});
        assert_eq!(app.post_json(&activities, Some(&ada.token), &run).await.status(), StatusCode::CREATED);
        let (end, end_text) = seconds_from_now(2);
        let res = post_share(&app, &ada, &json!({"grantee_email": "bob@example.org", "scopes": ["data:read"], "expires_at": end_text})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let old = body(res).await;
        let share_path = format!("/api/v1/shares/{}", old["id"].as_str().unwrap());

        let res = app.get(&activities, &bob.token).await;
        assert_eq!(res.status(), StatusCode::OK, "before its end the share works");
        assert_eq!(body(res).await.as_array().unwrap().len(), 1);
        assert_eq!(ids(&body(app.get("/api/v1/users/", &bob.token).await).await), vec![bob.id.clone(), ada.id.clone()]);
        assert_eq!(body(app.get("/api/v1/shares/", &bob.token).await).await["received"], json!([old.clone()]));
        assert!(Utc::now() < end, "the checks above ran before the end; make the share last longer");

        let wait = (end - Utc::now()).to_std().unwrap_or_default() + Duration::from_millis(300);
        tokio::time::sleep(wait).await;

        let (status, b) = status_and_body(app.get(&activities, &bob.token).await).await;
        assert_eq!((status, b), (StatusCode::NOT_FOUND, json!({"detail": "User not found"})), "after its end: no access at all");
        let res = app.get(&format!("{activities}/{}", uuid::Uuid::new_v4()), &bob.token).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(ids(&body(app.get("/api/v1/users/", &bob.token).await).await), vec![bob.id.clone()], "not listed in users");
        for who in [&ada, &bob] {
            let list = body(app.get("/api/v1/shares/", &who.token).await).await;
            assert_eq!(list, json!({"granted": [], "received": []}), "not listed in shares");
        }
        let res = app.put_json(&share_path, &ada.token, &json!({"scopes": ["data:read"], "expires_at": null})).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "PUT of an expired share");
        assert_eq!(app.delete(&share_path, &bob.token).await.status(), StatusCode::NOT_FOUND, "DELETE by its grantee");
        assert_eq!(app.delete(&share_path, &ada.token).await.status(), StatusCode::NOT_FOUND, "DELETE by its granter");
        assert_eq!(app.get(&activities, &bob.token).await.status(), StatusCode::NOT_FOUND, "the PUT revived nothing");

        let res = post_share(&app, &ada, &json!({"grantee_email": "bob@example.org", "scopes": ["data:write"]})).await;
        assert_eq!(res.status(), StatusCode::CREATED, "a new grant replaces the expired one (201, not 409)");
        let new = body(res).await;
        assert_eq!((new["scopes"].clone(), new["expires_at"].clone()), (json!(["data:write"]), Value::Null));
        let list = body(app.get("/api/v1/shares/", &ada.token).await).await;
        assert_eq!(list["granted"], json!([new]), "only the new share is listed");
        let res = app.post_json(&activities, Some(&bob.token), &run).await;
        assert_eq!(res.status(), StatusCode::CREATED, "the new share works");
    }

    async fn put_share_changes_scopes_and_end_for_the_granter_only(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let res = post_share(&app, &ada, &json!({"grantee_email": "bob@example.org", "scopes": ["data:read"], "expires_at": "2099-01-01T00:00:00Z"})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let created = body(res).await;
        let path = format!("/api/v1/shares/{}", created["id"].as_str().unwrap());

        let res = app.put_json(&path, &ada.token, &json!({"scopes": ["data:write", "data:read"]})).await;
        assert_eq!(res.status(), StatusCode::OK);
        let changed = body(res).await;
        assert_eq!(keys(&changed), SHARE_KEYS);
        for same in ["id", "subject_id", "grantee_id", "created_at", "subject_display_name", "grantee_display_name"] {
            assert_eq!(changed[same], created[same], "{same} is unchanged");
        }
        assert_eq!(changed["scopes"], json!(["data:read", "data:write"]), "new scopes, in the order of Scope");
        assert_eq!(instant(&changed["expires_at"]), instant(&json!("2099-01-01T00:00:00Z")), "absent expires_at: the end stays");
        let list = body(app.get("/api/v1/users/", &bob.token).await).await;
        assert_eq!(list[1]["scopes"], json!(["data:read", "data:write"]), "the grantee holds the new scopes");

        let changed = body(app.put_json(&path, &ada.token, &json!({"scopes": ["data:write"], "expires_at": null})).await).await;
        assert_eq!((changed["scopes"].clone(), changed["expires_at"].clone()), (json!(["data:write"]), Value::Null), "null removes the end");
        let changed = body(app.put_json(&path, &ada.token, &json!({"scopes": ["data:read"], "expires_at": "2098-06-01T12:00:00+02:00"})).await).await;
        assert_eq!(instant(&changed["expires_at"]), instant(&json!("2098-06-01T10:00:00Z")), "a time sets the end");
        let changed = body(app.put_json(&path, &ada.token, &json!({"scopes": ["data:read"]})).await).await;
        assert_eq!(instant(&changed["expires_at"]), instant(&json!("2098-06-01T10:00:00Z")), "absent again: it stays");

        let (status, b) = status_and_body(app.put_json(&path, &bob.token, &json!({"scopes": ["data:read", "data:write"]})).await).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "the grantee may not change a share");
        assert!(b["detail"].is_string(), "{b}");
        let res = app.put_json(&path, &carol.token, &json!({"scopes": ["data:read"]})).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "a stranger may not know the share exists");
        let stranger = res.bytes().await.unwrap();
        let unknown = app.put_json(&format!("/api/v1/shares/{}", uuid::Uuid::new_v4()), &ada.token, &json!({"scopes": ["data:read"]})).await;
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND, "an unknown id");
        let not_uuid = app.put_json("/api/v1/shares/not-a-uuid", &ada.token, &json!({"scopes": ["data:read"]})).await;
        assert_eq!(not_uuid.status(), StatusCode::NOT_FOUND, "a non-UUID id");
        assert_eq!(unknown.bytes().await.unwrap(), stranger, "the same 404 for a stranger and an unknown id");
        assert_eq!(not_uuid.bytes().await.unwrap(), stranger, "the same 404 for a non-UUID id");
        assert!(serde_json::from_slice::<Value>(&stranger).unwrap()["detail"].is_string());

        assert_422(app.put_json(&path, &ada.token, &json!({"scopes": []})).await,
                   &[(json!(["body", "scopes"]), "too_short")], "empty scopes").await;
        assert_422(app.put_json(&path, &ada.token, &json!({})).await,
                   &[(json!(["body", "scopes"]), "missing")], "no scopes").await;
        assert_422(app.put_json(&path, &ada.token, &json!({"scopes": ["data:read", "root"]})).await,
                   &[(json!(["body", "scopes", 1]), "enum")], "an unknown scope").await;
        assert_422_at(app.put_json(&path, &ada.token, &json!({"scopes": ["data:read"], "expires_at": "2020-01-01T00:00:00Z"})).await,
                      &[json!(["body", "expires_at"])], "an end in the past").await;
        assert_422(app.put_json(&path, &carol.token, &json!({"scopes": []})).await,
                   &[(json!(["body", "scopes"]), "too_short")], "the shape (422) comes before access (404)").await;
        let list = body(app.get("/api/v1/shares/", &ada.token).await).await;
        assert_eq!(list["granted"][0]["scopes"], json!(["data:read"]), "no refused PUT changed the share");
        assert_eq!(instant(&list["granted"][0]["expires_at"]), instant(&json!("2098-06-01T10:00:00Z")));

        let on_kim = share(&app, &ada, "bob@example.org", &["data:read"], Some(&kim)).await;
        let res = app.put_json(&format!("/api/v1/shares/{}", on_kim["id"].as_str().unwrap()), &ada.token, &json!({"scopes": ["data:write"]})).await;
        assert_eq!(res.status(), StatusCode::OK, "the manager changes a share on a managed user");
        assert_eq!(body(res).await["scopes"], json!(["data:write"]));
    }

    async fn delete_share_by_its_grantee_or_granter_and_no_one_else(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let data = format!("/api/v1/users/{}/activities", ada.id);

        let first = share(&app, &ada, "bob@example.org", &["data:read"], None).await;
        let path = format!("/api/v1/shares/{}", first["id"].as_str().unwrap());
        assert_eq!(app.get(&data, &bob.token).await.status(), StatusCode::OK);
        let (status, b) = status_and_body(app.delete(&path, &carol.token).await).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a stranger");
        assert!(b["detail"].is_string());
        assert_eq!(app.delete(&format!("/api/v1/shares/{}", uuid::Uuid::new_v4()), &ada.token).await.status(), StatusCode::NOT_FOUND, "an unknown id");
        assert_eq!(app.delete("/api/v1/shares/not-a-uuid", &ada.token).await.status(), StatusCode::NOT_FOUND, "a non-UUID id");
        assert_eq!(app.get(&data, &bob.token).await.status(), StatusCode::OK, "the refused DELETEs changed nothing");

        let res = app.delete(&path, &bob.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "the grantee leaves");
        assert!(res.bytes().await.unwrap().is_empty(), "204 has no body");
        assert_eq!(app.get(&data, &bob.token).await.status(), StatusCode::NOT_FOUND, "no access after leaving");
        assert_eq!(app.delete(&path, &bob.token).await.status(), StatusCode::NOT_FOUND, "leaving again");
        for who in [&ada, &bob] {
            assert_eq!(body(app.get("/api/v1/shares/", &who.token).await).await, json!({"granted": [], "received": []}));
        }

        let second = share(&app, &ada, "bob@example.org", &["data:read", "data:write"], None).await;
        let path = format!("/api/v1/shares/{}", second["id"].as_str().unwrap());
        let res = app.delete(&path, &ada.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "the granter ends it");
        assert!(res.bytes().await.unwrap().is_empty(), "204 has no body");
        assert_eq!(app.get(&data, &bob.token).await.status(), StatusCode::NOT_FOUND, "no access after the end");
        assert_eq!(app.delete(&path, &ada.token).await.status(), StatusCode::NOT_FOUND, "ending again");
        assert_eq!(ids(&body(app.get("/api/v1/users/", &bob.token).await).await), vec![bob.id.clone()]);

        let on_kim = share(&app, &ada, "bob@example.org", &["data:read"], Some(&kim)).await;
        let path = format!("/api/v1/shares/{}", on_kim["id"].as_str().unwrap());
        assert_eq!(app.delete(&path, &carol.token).await.status(), StatusCode::NOT_FOUND, "a stranger, on a managed user");
        assert_eq!(app.delete(&path, &ada.token).await.status(), StatusCode::NO_CONTENT, "the manager ends a share on a managed user");
        let res = app.get(&format!("/api/v1/users/{kim}/activities"), &bob.token).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(body(res).await, json!({"detail": "User not found"}));
    }

    async fn two_identical_grants_at_once_make_one_share_and_one_409(app) {
        let ada = app.account("ada@example.org").await;
        for round in 0..4 {
            let email = format!("grantee{round}@example.org");
            let grantee = app.account(&email).await;
            let req = json!({"grantee_email": email, "scopes": ["data:read"]});
            let (a, b) = tokio::join!(post_share(&app, &ada, &req), post_share(&app, &ada, &req));
            let mut statuses = [a.status(), b.status()];
            statuses.sort();
            assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "round {round}: exactly one 201 and one 409");
            let received = body(app.get("/api/v1/shares/", &grantee.token).await).await["received"].clone();
            assert_eq!(received.as_array().unwrap().len(), 1, "round {round}: one share: {received}");
        }
    }
}
