//! Object-level authorization, as a matrix: every route of the served
//! OpenAPI document × every way a caller can stand to the object, with
//! the contract's status for each. A route the matrix does not cover fails
//! the test, so a new endpoint cannot ship without its row.

use std::collections::{BTreeSet, HashMap};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{body, Account, TestApp};
use crate::on_both_backends;

/// How the caller stands to the object of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Rel {
    Itself,
    Manager,
    OtherManagersUser,
    GranteeRead,
    GranteeWrite,
    ExpiredGrant,
    Stranger,
    Nonexistent,
    Malformed,
}

const RELS: [Rel; 9] = [
    Rel::Itself,
    Rel::Manager,
    Rel::OtherManagersUser,
    Rel::GranteeRead,
    Rel::GranteeWrite,
    Rel::ExpiredGrant,
    Rel::Stranger,
    Rel::Nonexistent,
    Rel::Malformed,
];

/// What decides a route's answer.
#[derive(Clone, Copy)]
enum Rule {
    /// Only the manager of the `{user_id}` (Part A).
    ManagerOnly(u16),
    /// Needs this scope on `{user_id}`; the success status.
    Scope(domain::Scope, u16),
    /// The caller's own account or list; the relation does not enter.
    Caller(u16),
}

struct Route {
    method: Method,
    path: &'static str,
    rule: Rule,
}

fn routes() -> Vec<Route> {
    use domain::Scope::{DataRead as R, DataWrite as W};
    let r = |method, path, rule| Route { method, path, rule };
    vec![
        r(Method::GET, "/api/v1/users/", Rule::Caller(200)),
        r(Method::POST, "/api/v1/users/", Rule::Caller(201)),
        r(Method::GET, "/api/v1/users/{user_id}", Rule::ManagerOnly(200)),
        r(Method::PUT, "/api/v1/users/{user_id}", Rule::ManagerOnly(200)),
        r(Method::GET, "/api/v1/users/{user_id}/activities", Rule::Scope(R, 200)),
        r(Method::POST, "/api/v1/users/{user_id}/activities", Rule::Scope(W, 201)),
        r(Method::GET, "/api/v1/users/{user_id}/activities/{activity_id}", Rule::Scope(R, 200)),
        r(Method::PUT, "/api/v1/users/{user_id}/activities/{activity_id}/trace", Rule::Scope(W, 204)),
        r(Method::GET, "/api/v1/users/{user_id}/activities/{activity_id}/trace", Rule::Scope(R, 200)),
        r(Method::DELETE, "/api/v1/users/{user_id}/activities/{activity_id}", Rule::Scope(W, 204)),
        // Last: it deletes the subject.
        r(Method::DELETE, "/api/v1/users/{user_id}", Rule::ManagerOnly(204)),
        r(Method::GET, "/api/v1/shares/", Rule::Caller(200)),
        r(Method::GET, "/api/v1/auth/me", Rule::Caller(200)),
    ]
}

/// Routes whose object is not a user, with their own tests: the share
/// matrix below, and the caller's own account (auth.rs), which the caller
/// reaches only through their own token.
const COVERED_ELSEWHERE: [(&str, &str); 18] = [
    ("post", "/api/v1/shares/"),
    ("put", "/api/v1/shares/{share_id}"),
    ("delete", "/api/v1/shares/{share_id}"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/logout"),
    ("put", "/api/v1/auth/password"),
    ("delete", "/api/v1/auth/me"),
    ("get", "/api/v1/auth/me"),
    // C1, with their own authorization tests in managers.rs (for now).
    ("get", "/api/v1/users/{user_id}/managers"),
    ("post", "/api/v1/users/{user_id}/managers"),
    ("delete", "/api/v1/users/{user_id}/managers/{manager_id}"),
    ("get", "/api/v1/invitations/"),
    ("post", "/api/v1/invitations/{invitation_id}/accept"),
    ("delete", "/api/v1/invitations/{invitation_id}"),
    // C2, tested in claims.rs until the matrix takes them.
    ("post", "/api/v1/users/{user_id}/claim-code"),
    ("delete", "/api/v1/users/{user_id}/claim-code"),
    ("post", "/api/v1/auth/claim"),
];

const PUBLIC: [(&str, &str); 2] = [("get", "/healthz"), ("get", "/readyz")];

fn expected(rule: Rule, rel: Rel) -> u16 {
    use Rel::*;
    match rule {
        Rule::Caller(ok) => ok,
        Rule::ManagerOnly(ok) => {
            if rel == Manager {
                ok
            } else {
                404
            }
        }
        Rule::Scope(scope, ok) => match rel {
            Itself | Manager => ok,
            GranteeRead if scope == domain::Scope::DataRead => ok,
            GranteeWrite if scope == domain::Scope::DataWrite => ok,
            GranteeRead | GranteeWrite => 403,
            _ => 404,
        },
    }
}

fn body_for(route: &Route) -> Option<Value> {
    match (route.method.as_str(), route.path) {
        ("POST", "/api/v1/users/") => Some(json!({"first_name": "New", "last_name": null})),
        ("PUT", "/api/v1/users/{user_id}") => Some(json!({"last_name": "Changed"})),
        ("POST", "/api/v1/users/{user_id}/activities") => {
            Some(json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"}))
        }
        ("PUT", _) => Some(json!([{"time": "2026-11-28T07:00:00Z", "lat": 1.0, "lon": 2.0}])),
        _ => None,
    }
}

/// The caller and, for each relation, a subject and the token of whoever
/// may write its data.
struct World {
    caller: Account,
    subjects: HashMap<Rel, (String, Option<String>)>,
}

async fn share(app: &TestApp, owner: &Account, grantee: &str, scopes: Value, extra: Value) {
    let mut body = json!({"grantee_email": grantee, "scopes": scopes});
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let res = app.post_json("/api/v1/shares/", Some(&owner.token), &body).await;
    assert_eq!(res.status(), StatusCode::CREATED, "share to {grantee}");
}

async fn world(app: &TestApp) -> World {
    let caller = app.account("caller@example.org").await;
    let managed = app.managed(&caller, "Kid").await;
    let other = app.account("other@example.org").await;
    let others_kid = app.managed(&other, "Other kid").await;
    let reader_owner = app.account("r@example.org").await;
    let writer_owner = app.account("w@example.org").await;
    let expired_owner = app.account("e@example.org").await;
    let stranger = app.account("s@example.org").await;
    share(app, &reader_owner, "caller@example.org", json!(["data:read"]), json!({})).await;
    share(app, &writer_owner, "caller@example.org", json!(["data:write"]), json!({})).await;
    let soon = (chrono::Utc::now() + chrono::Duration::milliseconds(1500)).to_rfc3339();
    share(app, &expired_owner, "caller@example.org", json!(["data:read", "data:write"]), json!({"expires_at": soon}))
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(1600)).await;
    let mut subjects = HashMap::new();
    subjects.insert(Rel::Itself, (caller.id.clone(), Some(caller.token.clone())));
    subjects.insert(Rel::Manager, (managed, Some(caller.token.clone())));
    subjects.insert(Rel::OtherManagersUser, (others_kid, Some(other.token.clone())));
    subjects.insert(Rel::GranteeRead, (reader_owner.id.clone(), Some(reader_owner.token.clone())));
    subjects.insert(Rel::GranteeWrite, (writer_owner.id.clone(), Some(writer_owner.token.clone())));
    subjects.insert(Rel::ExpiredGrant, (expired_owner.id.clone(), Some(expired_owner.token.clone())));
    subjects.insert(Rel::Stranger, (stranger.id.clone(), Some(stranger.token.clone())));
    subjects.insert(Rel::Nonexistent, (uuid::Uuid::new_v4().to_string(), None));
    subjects.insert(Rel::Malformed, ("not-a-uuid".into(), None));
    World { caller, subjects }
}

/// An activity of `user`, made by whoever may write it (a random id when
/// nobody can).
async fn activity_of(app: &TestApp, user: &str, owner_token: Option<&str>) -> String {
    let Some(token) = owner_token else { return uuid::Uuid::new_v4().to_string() };
    let res = app
        .post_json(
            &format!("/api/v1/users/{user}/activities"),
            Some(token),
            &json!({"name": "seed", "sport": "running", "started_at": "2026-11-27T07:00:00Z"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    body(res).await["id"].as_str().unwrap().to_owned()
}

fn served_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.clone(), path.clone()));
        }
    }
    ops
}

on_both_backends! {
    async fn every_route_answers_every_relation_as_the_contract_says(app) {
        let doc = body(app.client.get(app.url("/openapi.json")).send().await.unwrap()).await;
        let matrix = routes();
        let mut covered: BTreeSet<(String, String)> =
            matrix.iter().map(|r| (r.method.as_str().to_lowercase(), r.path.to_owned())).collect();
        covered.extend(COVERED_ELSEWHERE.iter().chain(PUBLIC.iter()).map(|(m, p)| ((*m).to_owned(), (*p).to_owned())));
        let missing: Vec<_> = served_operations(&doc).difference(&covered).cloned().collect();
        assert!(missing.is_empty(), "routes without a row in the authorization matrix: {missing:?}");

        let w = world(&app).await;
        let mut not_found_bodies: HashMap<&str, Vec<Vec<u8>>> = HashMap::new();
        let mut checked = 0;
        for route in &matrix {
            for rel in RELS {
                let (user, owner_token) = &w.subjects[&rel];
                let mut path = route.path.replace("{user_id}", user);
                if path.contains("{activity_id}") {
                    let activity = activity_of(&app, user, owner_token.as_deref()).await;
                    path = path.replace("{activity_id}", &activity);
                }
                let mut req = app.request(route.method.clone(), &path, Some(&w.caller.token));
                if let Some(b) = body_for(route) {
                    req = req.json(&b);
                }
                let res = req.send().await.unwrap();
                let want = expected(route.rule, rel);
                assert_eq!(res.status().as_u16(), want, "{} {} as {rel:?}", route.method, route.path);
                if want == 404 {
                    not_found_bodies.entry(route.path).or_default().push(res.bytes().await.unwrap().to_vec());
                }
                checked += 1;
            }
            // Without a token, every route is a 401.
            let path = route.path.replace("{user_id}", &w.caller.id).replace("{activity_id}", &uuid::Uuid::new_v4().to_string());
            let res = app.request(route.method.clone(), &path, None).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{} {} without a token", route.method, route.path);
        }
        assert_eq!(checked, matrix.len() * RELS.len());
        for (path, bodies) in not_found_bodies {
            assert!(bodies.windows(2).all(|b| b[0] == b[1]), "{path}: every 404 is byte-identical");
        }
    }

    async fn shares_answer_granter_grantee_and_others_as_the_contract_says(app) {
        let ada = app.account("ada@example.org").await;
        let bob = app.account("bob@example.org").await;
        let eve = app.account("eve@example.org").await;
        let kid = app.managed(&ada, "Kid").await;
        let evekid = app.managed(&eve, "Eve's kid").await;
        // Granting: on oneself and on one's managed user only.
        for (user_id, want, why) in [
            (json!(null), 201, "on oneself"),
            (json!(kid), 201, "on a managed user"),
            (json!(evekid), 404, "on another manager's user"),
            (json!(bob.id), 404, "on another account"),
            (json!(uuid::Uuid::new_v4().to_string()), 404, "on nobody"),
            (json!("not-a-uuid"), 422, "a malformed id"),
        ] {
            let grantee = if why == "on oneself" { "bob@example.org" } else { "eve@example.org" };
            let res = app.post_json("/api/v1/shares/", Some(&ada.token),
                &json!({"grantee_email": grantee, "scopes": ["data:read"], "user_id": user_id})).await;
            assert_eq!(res.status().as_u16(), want, "grant {why}");
        }
        let shares = body(app.get("/api/v1/shares/", &ada.token).await).await;
        let to_bob = shares["granted"].as_array().unwrap().iter()
            .find(|s| s["grantee_id"] == json!(bob.id)).unwrap()["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/shares/{to_bob}");
        let change = json!({"scopes": ["data:read", "data:write"]});
        let mut bodies = Vec::new();
        for (token, want_put, why) in [(&eve.token, 404, "a stranger"), (&bob.token, 403, "the grantee"), (&ada.token, 200, "the granter")] {
            let res = app.put_json(&path, token, &change).await;
            assert_eq!(res.status().as_u16(), want_put, "PUT by {why}");
            if want_put == 404 {
                bodies.push(res.bytes().await.unwrap());
            }
        }
        for raw in [uuid::Uuid::new_v4().to_string(), "not-a-uuid".to_owned()] {
            let res = app.put_json(&format!("/api/v1/shares/{raw}"), &ada.token, &change).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "PUT {raw}");
            bodies.push(res.bytes().await.unwrap());
            let res = app.delete(&format!("/api/v1/shares/{raw}"), &ada.token).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "DELETE {raw}");
            bodies.push(res.bytes().await.unwrap());
        }
        let res = app.delete(&path, &eve.token).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "DELETE by a stranger");
        bodies.push(res.bytes().await.unwrap());
        assert!(bodies.windows(2).all(|b| b[0] == b[1]), "every share 404 is byte-identical");
        assert_eq!(app.delete(&path, &bob.token).await.status(), StatusCode::NO_CONTENT, "the grantee leaves");
        assert_eq!(app.delete(&path, &ada.token).await.status(), StatusCode::NOT_FOUND, "it is gone");
    }
}
