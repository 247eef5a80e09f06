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
    /// C3's access log: the user itself or a manager; a grantee 403.
    Log,
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
        r(Method::GET, "/api/v1/users/{user_id}/access-log", Rule::Log),
        // Last: it deletes the subject.
        r(Method::DELETE, "/api/v1/users/{user_id}", Rule::ManagerOnly(204)),
        r(Method::GET, "/api/v1/shares/", Rule::Caller(200)),
        r(Method::GET, "/api/v1/auth/me", Rule::Caller(200)),
    ]
}

/// Routes whose object is not a user, with their own tests: the share
/// matrix below, and the caller's own account (auth.rs), which the caller
/// reaches only through their own token, and the events feed (admins
/// only: events.rs). C1's and C2's routes are
/// [`c_routes`], in the second matrix below.
const COVERED_ELSEWHERE: [(&str, &str); 10] = [
    ("post", "/api/v1/shares/"),
    ("put", "/api/v1/shares/{share_id}"),
    ("delete", "/api/v1/shares/{share_id}"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/logout"),
    ("put", "/api/v1/auth/password"),
    ("delete", "/api/v1/auth/me"),
    ("get", "/api/v1/auth/me"),
    // Admins only, whoever the events are about: events.rs.
    ("get", "/api/v1/events"),
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
        Rule::Log => match rel {
            Itself | Manager => 200,
            GranteeRead | GranteeWrite => 403,
            _ => 404,
        },
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
        covered.extend(c_routes().iter().map(|r| (r.method.as_str().to_lowercase(), r.path.to_owned())));
        covered.extend(C5_ROUTES.iter().map(|(m, p)| (m.as_str().to_lowercase(), (*p).to_owned())));
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

// C1 and C2: the second matrix. Its objects are a managed user's
// managers, an invitation and a claim code, each of which a successful
// call may consume, so every cell that can succeed gets a fresh
// [`Family`]; the accounts are made once (each costs two Argon2 hashes).

/// What decides the answer of a C1 or C2 route.
#[derive(Clone, Copy, Debug)]
enum CRule {
    /// Only a manager of the `{user_id}` (C1: any of them); the success
    /// status. Everyone else: Part A's 404 "User not found".
    AnyManager(u16),
    /// `DELETE .../managers/{manager_id}`: as `AnyManager`, then by
    /// [`Target`].
    Leave,
    /// The invitee's accept.
    Accept,
    /// The invitee's decline or a manager's withdrawal.
    Withdraw,
    /// The caller's own invitations.
    ListInvitations,
    /// `POST /auth/claim`, without a token.
    Claim,
}

struct CRoute {
    method: Method,
    path: &'static str,
    rule: CRule,
}

/// Every route of C1 and C2; the first matrix counts them as covered,
/// and the second fails when one of them has no cell.
fn c_routes() -> Vec<CRoute> {
    let r = |method, path, rule| CRoute { method, path, rule };
    vec![
        r(Method::GET, "/api/v1/users/{user_id}/managers", CRule::AnyManager(200)),
        r(Method::POST, "/api/v1/users/{user_id}/managers", CRule::AnyManager(201)),
        r(Method::DELETE, "/api/v1/users/{user_id}/managers/{manager_id}", CRule::Leave),
        r(Method::POST, "/api/v1/users/{user_id}/claim-code", CRule::AnyManager(201)),
        r(Method::DELETE, "/api/v1/users/{user_id}/claim-code", CRule::AnyManager(204)),
        r(Method::GET, "/api/v1/invitations/", CRule::ListInvitations),
        r(Method::POST, "/api/v1/invitations/{invitation_id}/accept", CRule::Accept),
        r(Method::DELETE, "/api/v1/invitations/{invitation_id}", CRule::Withdraw),
        r(Method::POST, "/api/v1/auth/claim", CRule::Claim),
    ]
}

/// How the caller stands to a managed user (and to its invitation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// Its creator, the first manager; the invitation's sender.
    Manager,
    /// A second manager, who accepted an invitation.
    CoManager,
    /// Holds a live invitation to co-manage it, not accepted.
    Invitee,
    /// Holds a share on it with every scope.
    Grantee,
    /// An account with no relation to it.
    Stranger,
    /// A managed user that claimed its account, calling on itself.
    Graduated,
    /// Its creator calling on the graduated user, now holding a share on
    /// it with every scope (the code's `keep_scopes`).
    FormerManager,
    /// A manager, on a well-formed id of nobody.
    Nonexistent,
    /// A manager, on an id that is not a UUID.
    Malformed,
}

const WHOS: [Who; 9] = [
    Who::Manager,
    Who::CoManager,
    Who::Invitee,
    Who::Grantee,
    Who::Stranger,
    Who::Graduated,
    Who::FormerManager,
    Who::Nonexistent,
    Who::Malformed,
];

/// The relations an invitation has: the graduated user has none left
/// (a claim ends its invitations), so they are C1's on the family's.
const INVITATION_WHOS: [Who; 7] =
    [Who::Invitee, Who::Manager, Who::CoManager, Who::Grantee, Who::Stranger, Who::Nonexistent, Who::Malformed];

/// The `{manager_id}` of a leave.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    /// The caller: 204 by a manager.
    Me,
    /// The other manager: 403.
    Other,
    /// The caller, once the other manager has left: 409.
    Last,
    /// An account that manages nothing: 404 "Manager not found".
    NotAManager,
    /// A well-formed id of nobody: 404 "Manager not found".
    Nobody,
    /// Not a UUID: 404 "Manager not found" (where the contract is silent:
    /// an id that names no manager of the user, as a path's malformed
    /// `{user_id}` is a 404 and not a 422).
    Malformed,
}

const TARGETS: [Target; 6] =
    [Target::Me, Target::Other, Target::Last, Target::NotAManager, Target::Nobody, Target::Malformed];

/// The accounts of the second matrix, made once.
struct People {
    ada: Account,
    bob: Account,
    carol: Account,
    gina: Account,
    sam: Account,
    /// The graduated user, signed in as the account it became.
    grad: Account,
}

const INVITE_TARGET: &str = "tara@example.org";

/// A managed user of Ada's, co-managed by Bob, with a live invitation
/// from Ada to Carol and a share with every scope to Gina.
struct Family {
    kid: String,
    invitation: String,
}

async fn invitation_to(app: &TestApp, from: &Account, user: &str, email: &str) -> String {
    let res =
        app.post_json(&format!("/api/v1/users/{user}/managers"), Some(&from.token), &json!({"email": email})).await;
    assert_eq!(res.status(), StatusCode::CREATED, "invite {email}");
    body(res).await["id"].as_str().unwrap().to_owned()
}

async fn family(app: &TestApp, p: &People) -> Family {
    let kid = app.managed(&p.ada, "Kid").await;
    let to_bob = invitation_to(app, &p.ada, &kid, "bob@example.org").await;
    let path = format!("/api/v1/invitations/{to_bob}/accept");
    let res = app.request(Method::POST, &path, Some(&p.bob.token)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "Bob accepts");
    let invitation = invitation_to(app, &p.ada, &kid, "carol@example.org").await;
    share(app, &p.ada, "gina@example.org", json!(["data:read", "data:write"]), json!({"user_id": kid})).await;
    Family { kid, invitation }
}

async fn people(app: &TestApp) -> People {
    let ada = app.account("ada@example.org").await;
    let bob = app.account("bob@example.org").await;
    let carol = app.account("carol@example.org").await;
    let gina = app.account("gina@example.org").await;
    let sam = app.account("sam@example.org").await;
    app.account(INVITE_TARGET).await;
    // The graduated user: Ada's, claimed with a code that keeps her every
    // scope. Redeemed with Sam's token on the request, which the claim
    // ignores (the new account is not Sam's, and Sam is not a manager).
    let grad = app.managed(&ada, "Grad").await;
    let res = app
        .post_json(
            &format!("/api/v1/users/{grad}/claim-code"),
            Some(&ada.token),
            &json!({"keep_scopes": ["data:read", "data:write"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "issue the graduate's code");
    let code = body(res).await["code"].as_str().unwrap().to_owned();
    let res = app
        .post_json(
            "/api/v1/auth/claim",
            Some(&sam.token),
            &json!({"code": code, "email": "grad@example.org", "password": crate::helpers::PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED, "POST /api/v1/auth/claim with a valid code and a token");
    let claimed = body(res).await;
    assert_eq!((claimed["id"].as_str(), &claimed["is_managed"]), (Some(grad.as_str()), &json!(false)));
    let res = app.sign_in("grad@example.org", crate::helpers::PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK, "the graduate signs in");
    let token = body(res).await["access_token"].as_str().unwrap().to_owned();
    People { ada, bob, carol, gina, sam, grad: Account { id: grad, token } }
}

/// The caller and the `{user_id}` of `who`.
fn standing<'a>(p: &'a People, f: &Family, who: Who) -> (&'a Account, String) {
    match who {
        Who::Manager => (&p.ada, f.kid.clone()),
        Who::CoManager => (&p.bob, f.kid.clone()),
        Who::Invitee => (&p.carol, f.kid.clone()),
        Who::Grantee => (&p.gina, f.kid.clone()),
        Who::Stranger => (&p.sam, f.kid.clone()),
        Who::Graduated => (&p.grad, p.grad.id.clone()),
        Who::FormerManager => (&p.ada, p.grad.id.clone()),
        Who::Nonexistent => (&p.ada, uuid::Uuid::new_v4().to_string()),
        Who::Malformed => (&p.ada, "not-a-uuid".to_owned()),
    }
}

fn is_manager(who: Who) -> bool {
    matches!(who, Who::Manager | Who::CoManager)
}

fn c_body_for(route: &CRoute) -> Option<Value> {
    match (route.method.as_str(), route.path) {
        ("POST", "/api/v1/users/{user_id}/managers") => Some(json!({"email": INVITE_TARGET})),
        ("POST", "/api/v1/users/{user_id}/claim-code") => Some(json!({"keep_scopes": []})),
        _ => None,
    }
}

/// The 404s of the second matrix, by detail; each kind byte-identical.
#[derive(Default)]
struct NotFounds(HashMap<&'static str, Vec<Vec<u8>>>);

impl NotFounds {
    async fn push(&mut self, detail: &'static str, res: reqwest::Response, why: &str) {
        let bytes = res.bytes().await.unwrap().to_vec();
        let got: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(got, json!({"detail": detail}), "{why}");
        self.0.entry(detail).or_default().push(bytes);
    }
}

async fn received(app: &TestApp, who: &Account) -> Value {
    let res = app.get("/api/v1/invitations/", &who.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    body(res).await
}

fn lists(list: &Value, id: &str) -> bool {
    list.as_array().unwrap().iter().any(|i| i["id"] == json!(id))
}

on_both_backends! {
    async fn every_c1_and_c2_route_answers_every_relation_as_the_contract_says(app) {
        let p = people(&app).await;
        let mut nf = NotFounds::default();
        // Part A's 404, which C1's and C2's "as for Part A" must match byte for byte.
        let res = app.get(&format!("/api/v1/users/{}", uuid::Uuid::new_v4()), &p.ada.token).await;
        nf.push("User not found", res, "Part A's GET of nobody").await;
        let mut cells: HashMap<String, usize> = HashMap::new();

        for route in c_routes() {
            let why_route = format!("{} {}", route.method, route.path);
            match route.rule {
                CRule::AnyManager(ok) => {
                    for who in WHOS {
                        let f = family(&app, &p).await;
                        let (caller, user) = standing(&p, &f, who);
                        let path = route.path.replace("{user_id}", &user);
                        let mut req = app.request(route.method.clone(), &path, Some(&caller.token));
                        if let Some(b) = c_body_for(&route) {
                            req = req.json(&b);
                        }
                        let res = req.send().await.unwrap();
                        let why = format!("{why_route} as {who:?}");
                        let want = if is_manager(who) { ok } else { 404 };
                        assert_eq!(res.status().as_u16(), want, "{why}");
                        if want == 404 {
                            nf.push("User not found", res, &why).await;
                        }
                        *cells.entry(why_route.clone()).or_default() += 1;
                    }
                }
                CRule::Leave => {
                    for target in TARGETS {
                        for who in WHOS {
                            let f = family(&app, &p).await;
                            let (caller, user) = standing(&p, &f, who);
                            let other = if caller.id == p.ada.id { &p.bob } else { &p.ada };
                            if target == Target::Last && is_manager(who) {
                                let path = format!("/api/v1/users/{user}/managers/{}", other.id);
                                assert_eq!(app.delete(&path, &other.token).await.status(), StatusCode::NO_CONTENT,
                                    "the other manager leaves first");
                            }
                            let manager_id = match target {
                                Target::Me | Target::Last => caller.id.clone(),
                                Target::Other => other.id.clone(),
                                Target::NotAManager => p.sam.id.clone(),
                                Target::Nobody => uuid::Uuid::new_v4().to_string(),
                                Target::Malformed => "not-a-uuid".to_owned(),
                            };
                            // A stranger calling with its own id as the manager's is Target::NotAManager's
                            // case as well: both are Part A's 404, as for every non-manager.
                            let path = route.path.replace("{user_id}", &user).replace("{manager_id}", &manager_id);
                            let res = app.delete(&path, &caller.token).await;
                            let why = format!("{why_route} as {who:?} on {target:?}");
                            let want = match (is_manager(who), target) {
                                (false, _) => 404,
                                (true, Target::Me) => 204,
                                (true, Target::Other) => 403,
                                (true, Target::Last) => 409,
                                (true, _) => 404,
                            };
                            assert_eq!(res.status().as_u16(), want, "{why}");
                            if want == 404 {
                                let detail = if is_manager(who) { "Manager not found" } else { "User not found" };
                                nf.push(detail, res, &why).await;
                            }
                            if is_manager(who) && want != 204 {
                                // A refused leave removes nobody.
                                let res = app.get(&format!("/api/v1/users/{user}/managers"), &caller.token).await;
                                let left = body(res).await.as_array().unwrap().len();
                                assert_eq!(left, if target == Target::Last { 1 } else { 2 }, "{why}: managers after");
                            }
                            *cells.entry(why_route.clone()).or_default() += 1;
                        }
                    }
                }
                CRule::ListInvitations => {
                    // The list has no id: the relations are the five accounts'. Where the contract is
                    // silent: a grantee of the user sees none of its invitations.
                    let f = family(&app, &p).await;
                    for who in &INVITATION_WHOS[..5] {
                        let (caller, _) = standing(&p, &f, *who);
                        let res = app.get(route.path, &caller.token).await;
                        let why = format!("{why_route} as {who:?}");
                        assert_eq!(res.status(), StatusCode::OK, "{why}");
                        let list = body(res).await;
                        let want = match who {
                            Who::Invitee => (true, false),
                            Who::Manager | Who::CoManager => (false, true),
                            _ => (false, false),
                        };
                        let got = (lists(&list["received"], &f.invitation), lists(&list["sent"], &f.invitation));
                        assert_eq!(got, want, "{why}: (in received, in sent)");
                        *cells.entry(why_route.clone()).or_default() += 1;
                    }
                }
                CRule::Accept | CRule::Withdraw => {
                    for who in INVITATION_WHOS {
                        let f = family(&app, &p).await;
                        // Where the contract is silent: an id of nobody, or not a UUID, is tried by the
                        // invitee, who would succeed on the real one.
                        let (caller, invitation) = match who {
                            Who::Nonexistent => (&p.carol, uuid::Uuid::new_v4().to_string()),
                            Who::Malformed => (&p.carol, "not-a-uuid".to_owned()),
                            _ => (standing(&p, &f, who).0, f.invitation.clone()),
                        };
                        let path = route.path.replace("{invitation_id}", &invitation);
                        let res = app.request(route.method.clone(), &path, Some(&caller.token)).send().await.unwrap();
                        let why = format!("{why_route} as {who:?}");
                        let want = match (route.rule, who) {
                            (CRule::Accept, Who::Invitee) => 200,
                            (CRule::Withdraw, Who::Invitee | Who::Manager | Who::CoManager) => 204,
                            _ => 404,
                        };
                        assert_eq!(res.status().as_u16(), want, "{why}");
                        let still = lists(&received(&app, &p.carol).await["received"], &f.invitation);
                        if want == 404 {
                            nf.push("Invitation not found", res, &why).await;
                            assert!(still, "{why}: a refused call leaves the invitation live");
                        } else {
                            assert!(!still, "{why}: the invitation is gone");
                        }
                        if want == 200 {
                            let res = app.get(&format!("/api/v1/users/{}/managers", f.kid), &p.carol.token).await;
                            assert_eq!(res.status(), StatusCode::OK, "{why}: the invitee now manages the user");
                        }
                        *cells.entry(why_route.clone()).or_default() += 1;
                    }
                }
                CRule::Claim => {
                    // No token needed, and one is ignored, valid or not. A valid code with a token is
                    // the graduate's claim in `people` (201).
                    let wrong = json!({"code": "0000-0000-0000-0000-0000-0000-0000", "email": "x@example.org",
                                       "password": crate::helpers::PASSWORD});
                    let res = app.post_json(route.path, None, &json!({"email": "x@example.org",
                        "password": crate::helpers::PASSWORD})).await;
                    crate::helpers::assert_422(res, &[(json!(["body", "code"]), "missing")],
                        "POST /api/v1/auth/claim without a code").await;
                    for (token, why) in [(None, "without a token"), (Some(p.ada.token.as_str()), "with a manager's token"),
                                         (Some("not-a-token"), "with a garbage token")] {
                        let res = app.post_json(route.path, token, &wrong).await;
                        let why = format!("{why_route} with a wrong code, {why}");
                        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{why}");
                        nf.push("Claim code not found", res, &why).await;
                    }
                    *cells.entry(why_route.clone()).or_default() += 5;
                }
            }
            if !matches!(route.rule, CRule::Claim) {
                // Without a token, every route but the claim is a 401.
                let f = family(&app, &p).await;
                let path = route.path.replace("{user_id}", &f.kid).replace("{manager_id}", &p.ada.id)
                    .replace("{invitation_id}", &f.invitation);
                let mut req = app.request(route.method.clone(), &path, None);
                if let Some(b) = c_body_for(&route) {
                    req = req.json(&b);
                }
                let res = req.send().await.unwrap();
                assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{} {} without a token", route.method, route.path);
            }
        }

        for route in c_routes() {
            let key = format!("{} {}", route.method, route.path);
            assert!(cells.get(&key).is_some_and(|n| *n > 0), "{key} has no cell");
        }
        // 4 user routes × 9 + the leave's 6 targets × 9 + the list's 5 + accept and withdraw × 7 + the claim's 5.
        assert_eq!(cells.values().sum::<usize>(), 4 * 9 + 6 * 9 + 5 + 2 * 7 + 5);
        for (detail, bodies) in &nf.0 {
            assert!(bodies.windows(2).all(|b| b[0] == b[1]), "every {detail:?} 404 is byte-identical");
        }
    }
}

// C5: the second factor and the sign-ins. Every route acts on the caller's
// own account; the relation that matters is another account's, whose
// factor and sign-ins the caller must neither see nor change.

/// Every route of C5; the first matrix counts them as covered, and the
/// third fails when one of them has no cell.
const C5_ROUTES: [(Method, &str); 8] = [
    (Method::GET, "/api/v1/auth/mfa"),
    (Method::POST, "/api/v1/auth/mfa/totp"),
    (Method::POST, "/api/v1/auth/mfa/totp/confirm"),
    (Method::POST, "/api/v1/auth/mfa/recovery-codes"),
    (Method::DELETE, "/api/v1/auth/mfa"),
    (Method::GET, "/api/v1/auth/sign-ins"),
    (Method::DELETE, "/api/v1/auth/sign-ins/{sign_in_id}"),
    (Method::DELETE, "/api/v1/auth/sign-ins"),
];

fn sid_of(token: &str) -> String {
    crate::mfa::claims(token)["sid"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn every_c5_route_answers_only_for_the_callers_own_account(app) {
        use crate::mfa::{code, turn_on};
        let pw = crate::helpers::PASSWORD;
        // Ada has the factor on and two sign-ins; Bob none, and an enrollment
        // pending; Carol nothing.
        let ada = app.account("ada@example.org").await;
        let f = turn_on(&app, &ada).await;
        let res = app.request(Method::POST, "/api/v1/auth/token", None).basic_auth("ada@example.org", Some(pw))
            .header("x-otp", code(&f.secret, 0)).send().await.unwrap();
        let ada_other = crate::mfa::token_of(res).await;
        let bob = app.account("bob@example.org").await;
        let carol = app.account("carol@example.org").await;
        let mut cells: HashMap<String, usize> = HashMap::new();
        let mut cell = |m: &Method, p: &str| *cells.entry(format!("{m} {p}")).or_default() += 1;
        let alive = |token: String| { let app = &app; async move { app.get("/api/v1/auth/me", &token).await.status() } };

        // Without a token, each is a 401.
        for (method, path) in &C5_ROUTES {
            let path = path.replace("{sign_in_id}", &sid_of(&ada.token));
            let res = app.request(method.clone(), &path, None).json(&json!({"password": pw, "code": "123456"})).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{method} {path} without a token");
        }

        let get = |token: String| { let app = &app; async move { body(app.get("/api/v1/auth/mfa", &token).await).await } };
        assert_eq!(get(ada.token.clone()).await["totp"], json!(true), "Ada's own");
        assert_eq!(get(bob.token.clone()).await["totp"], json!(false), "Bob sees his, not Ada's");
        cell(&Method::GET, "/api/v1/auth/mfa");

        let enroll = |token: String| { let app = &app; async move {
            app.post_json("/api/v1/auth/mfa/totp", Some(&token), &json!({"password": pw})).await } };
        assert_eq!(enroll(ada.token.clone()).await.status(), StatusCode::CONFLICT, "Ada's is on");
        let res = enroll(bob.token.clone()).await;
        assert_eq!(res.status(), StatusCode::CREATED, "Bob's own, whatever Ada has");
        let bob_secret = domain::mfa::TotpSecret::from_base32(body(res).await["secret"].as_str().unwrap()).unwrap();
        cell(&Method::POST, "/api/v1/auth/mfa/totp");

        let confirm = "/api/v1/auth/mfa/totp/confirm";
        let res = app.post_json(confirm, Some(&carol.token), &json!({"code": code(&bob_secret, 0)})).await;
        assert_eq!((res.status(), body(res).await), (StatusCode::NOT_FOUND, json!({"detail": "Enrollment not found"})),
            "Bob's enrollment is not Carol's");
        let res = app.post_json(confirm, Some(&ada.token), &json!({"code": code(&bob_secret, 0)})).await;
        assert_eq!(res.status(), StatusCode::CONFLICT, "Ada's factor is on");
        let res = app.post_json(confirm, Some(&bob.token), &json!({"code": code(&bob_secret, 0)})).await;
        assert_eq!(res.status(), StatusCode::OK, "Bob confirms his own");
        assert_eq!(alive(ada_other.clone()).await, StatusCode::OK, "Bob's change revoked none of Ada's");
        cell(&Method::POST, confirm);

        let codes = "/api/v1/auth/mfa/recovery-codes";
        let res = app.post_json(codes, Some(&carol.token), &json!({"password": pw, "code": f.recovery[0]})).await;
        assert_eq!((res.status(), body(res).await), (StatusCode::NOT_FOUND, json!({"detail": "Second factor not found"})));
        let res = app.post_json(codes, Some(&bob.token), &json!({"password": pw, "code": f.recovery[0]})).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "Ada's recovery code is not Bob's");
        let res = app.post_json(codes, Some(&ada.token), &json!({"password": pw, "code": f.recovery[0]})).await;
        assert_eq!(res.status(), StatusCode::OK, "Bob's try did not use Ada's code up");
        let fresh = body(res).await["recovery_codes"][0].as_str().unwrap().to_owned();
        cell(&Method::POST, codes);

        // Sign-ins: each sees only its own.
        let ids = |token: String| { let app = &app; async move {
            let list = body(app.get("/api/v1/auth/sign-ins", &token).await).await;
            let mut ids: Vec<String> = list.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_owned()).collect();
            ids.sort();
            ids
        } };
        let mut want = vec![sid_of(&ada.token), sid_of(&ada_other)];
        want.sort();
        assert_eq!(ids(ada.token.clone()).await, want);
        assert_eq!(ids(carol.token.clone()).await, vec![sid_of(&carol.token)]);
        cell(&Method::GET, "/api/v1/auth/sign-ins");

        let one = |token: String, id: String| { let app = &app; async move {
            app.delete(&format!("/api/v1/auth/sign-ins/{id}"), &token).await } };
        let mut bodies = Vec::new();
        for (id, why) in [(sid_of(&ada_other), "another account's"), (uuid::Uuid::new_v4().to_string(), "nobody's"), ("not-a-uuid".to_owned(), "malformed")] {
            let res = one(carol.token.clone(), id).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{why}");
            bodies.push(res.bytes().await.unwrap());
        }
        assert!(bodies.windows(2).all(|b| b[0] == b[1]), "every sign-in 404 is byte-identical");
        assert_eq!(alive(ada_other.clone()).await, StatusCode::OK, "Carol ended none of Ada's");
        assert_eq!(one(ada.token.clone(), sid_of(&ada_other)).await.status(), StatusCode::NO_CONTENT, "Ada ends her own");
        assert_eq!(alive(ada_other.clone()).await, StatusCode::UNAUTHORIZED);
        cell(&Method::DELETE, "/api/v1/auth/sign-ins/{sign_in_id}");

        assert_eq!(app.delete("/api/v1/auth/sign-ins", &carol.token).await.status(), StatusCode::NO_CONTENT);
        assert_eq!(alive(ada.token.clone()).await, StatusCode::OK, "Carol's ends only Carol's others");
        assert_eq!(alive(bob.token.clone()).await, StatusCode::OK);
        cell(&Method::DELETE, "/api/v1/auth/sign-ins");

        let off = |token: String, code: String| { let app = &app; async move {
            app.request(Method::DELETE, "/api/v1/auth/mfa", Some(&token)).json(&json!({"password": pw, "code": code})).send().await.unwrap() } };
        let res = off(carol.token.clone(), fresh.clone()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "Carol has none to turn off");
        assert_eq!(off(bob.token.clone(), fresh.clone()).await.status(), StatusCode::FORBIDDEN, "Ada's code is not Bob's");
        assert_eq!(off(ada.token.clone(), fresh.clone()).await.status(), StatusCode::NO_CONTENT, "Ada turns hers off");
        assert_eq!(get(bob.token.clone()).await["totp"], json!(true), "Bob's stays on");
        cell(&Method::DELETE, "/api/v1/auth/mfa");

        for (method, path) in &C5_ROUTES {
            let key = format!("{method} {path}");
            assert!(cells.get(&key).is_some_and(|n| *n > 0), "{key} has no cell");
        }
    }
}
