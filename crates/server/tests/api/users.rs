//! Part A: the Users API.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{assert_422, body, keys};
use crate::on_both_backends;

const SUMMARY_KEYS: [&str; 6] = ["display_name", "first_name", "id", "is_managed", "last_name", "scopes"];
const RESPONSE_KEYS: [&str; 7] =
    ["admin", "display_name", "first_name", "id", "is_managed", "last_name", "registered_at"];

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap().to_owned()).collect()
}

on_both_backends! {
    async fn list_users_starts_with_the_caller_then_managed_users_oldest_first(app) {
        let ada = app.account("ada@example.org").await;
        let a = app.managed(&ada, "Kim").await;
        let b = app.managed(&ada, "Lee").await;
        let other = app.account("other@example.org").await;
        app.managed(&other, "Not Ada's").await;

        let res = app.get("/api/v1/users/", &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let list = body(res).await;
        assert_eq!(ids(&list), vec![ada.id.clone(), a, b]);
        for user in list.as_array().unwrap() {
            assert_eq!(keys(user), SUMMARY_KEYS, "exact field set");
            assert_eq!(user["scopes"], json!(["data:read", "data:write"]), "default scopes, in order");
            assert!(user["display_name"].is_string() && user["is_managed"].is_boolean());
        }
        assert_eq!(list[0]["is_managed"], json!(false));
        assert_eq!(list[0]["display_name"], json!("ada"), "no names: the e-mail before the @");
        assert_eq!(list[0]["first_name"], Value::Null);
        assert_eq!(list[1]["is_managed"], json!(true));
        assert_eq!(list[1]["display_name"], json!("Kim"));
    }

    async fn list_users_flags_accept_every_spelling_of_a_boolean(app) {
        let ada = app.account("ada@example.org").await;
        app.managed(&ada, "Kim").await;
        for (raw, managed) in [("true", true), ("TRUE", true), ("1", true), ("yes", true), ("On", true),
                               ("false", false), ("False", false), ("0", false), ("no", false), ("OFF", false)] {
            let res = app.get(&format!("/api/v1/users/?include_managed={raw}&include_shared={raw}"), &ada.token).await;
            assert_eq!(res.status(), StatusCode::OK, "{raw}");
            let n = body(res).await.as_array().unwrap().len();
            assert_eq!(n, if managed { 2 } else { 1 }, "include_managed={raw}");
        }
    }

    async fn list_users_rejects_other_booleans_listing_every_fault(app) {
        let ada = app.account("ada@example.org").await;
        for bad in ["maybe", "t", "2", ""] {
            let res = app.get(&format!("/api/v1/users/?include_managed={bad}"), &ada.token).await;
            assert_422(res, &[(json!(["query", "include_managed"]), "bool_parsing")], bad).await;
        }
        let res = app.get("/api/v1/users/?include_managed=x&include_shared=y", &ada.token).await;
        assert_422(res, &[(json!(["query", "include_managed"]), "bool_parsing"),
                          (json!(["query", "include_shared"]), "bool_parsing")], "both").await;
    }

    async fn create_managed_user_answers_201_with_location_and_the_user(app) {
        let ada = app.account("ada@example.org").await;
        let res = app.post_json("/api/v1/users/", Some(&ada.token), &json!({"first_name": "  Kim ", "last_name": "Lee"})).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let location = res.headers()["location"].to_str().unwrap().to_owned();
        let user = body(res).await;
        assert_eq!(keys(&user), RESPONSE_KEYS);
        assert_eq!(location, format!("/api/v1/users/{}", user["id"].as_str().unwrap()));
        assert_eq!(user["first_name"], json!("Kim"), "names are trimmed");
        assert_eq!(user["display_name"], json!("Kim Lee"));
        assert_eq!((user["is_managed"].clone(), user["admin"].clone()), (json!(true), json!(false)));
        let at = user["registered_at"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "RFC 3339: {at}");
        let id = user["id"].as_str().unwrap();
        assert_eq!(id, id.to_lowercase());
        assert!(uuid::Uuid::parse_str(id).is_ok());
    }

    async fn create_managed_user_needs_both_keys(app) {
        let ada = app.account("ada@example.org").await;
        let res = app.post_json("/api/v1/users/", Some(&ada.token), &json!({"first_name": "Kim"})).await;
        assert_422(res, &[(json!(["body", "last_name"]), "missing")], "last_name must be present").await;
        let res = app.post_json("/api/v1/users/", Some(&ada.token), &json!({"first_name": null, "last_name": null})).await;
        assert_422(res, &[(json!(["body", "first_name"]), "string_type")], "first_name is a string").await;
        let res = app.post_json("/api/v1/users/", Some(&ada.token), &json!({})).await;
        assert_422(res, &[(json!(["body", "first_name"]), "missing"), (json!(["body", "last_name"]), "missing")], "{}").await;
    }

    async fn get_managed_user_answers_its_manager(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let res = app.get(&format!("/api/v1/users/{kim}"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let user = body(res).await;
        assert_eq!(keys(&user), RESPONSE_KEYS);
        assert_eq!(user["id"], json!(kim));
        let upper = kim.to_uppercase();
        let res = app.get(&format!("/api/v1/users/{upper}"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK, "any spelling of the UUID");
    }

    async fn get_managed_user_answers_the_same_404_to_everyone_else(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let eve = app.account("eve@example.org").await;
        let eves_kid = app.managed(&eve, "Mallory").await;
        let cases = [
            (format!("/api/v1/users/{kim}"), &eve.token, "another manager's user"),
            (format!("/api/v1/users/{eves_kid}"), &ada.token, "not yours"),
            (format!("/api/v1/users/{}", uuid::Uuid::new_v4()), &ada.token, "does not exist"),
            ("/api/v1/users/not-a-uuid".to_owned(), &ada.token, "not a UUID"),
            (format!("/api/v1/users/{}", ada.id), &ada.token, "yourself: not a managed user"),
        ];
        let mut bodies = Vec::new();
        for (path, token, why) in cases {
            for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
                let res = app.request(method.clone(), &path, Some(token)).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method} {why}");
                bodies.push(res.bytes().await.unwrap());
            }
            let res = app.put_json(&path, token, &json!({"last_name": "X"})).await;
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "PUT {why}");
            bodies.push(res.bytes().await.unwrap());
        }
        assert!(bodies.windows(2).all(|w| w[0] == w[1]), "byte-identical 404s");
        assert_eq!(serde_json::from_slice::<Value>(&bodies[0]).unwrap(), json!({"detail": "User not found"}));
        let res = app.get(&format!("/api/v1/users/{kim}"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK, "nothing above changed Kim");
    }

    async fn update_managed_user_has_put_semantics_per_field(app) {
        let ada = app.account("ada@example.org").await;
        let res = app.post_json("/api/v1/users/", Some(&ada.token), &json!({"first_name": "Kim", "last_name": "Lee"})).await;
        let kim = body(res).await["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/users/{kim}");

        let res = app.put_json(&path, &ada.token, &json!({})).await;
        assert_eq!(res.status(), StatusCode::OK);
        let user = body(res).await;
        assert_eq!((user["first_name"].clone(), user["last_name"].clone()), (json!("Kim"), json!("Lee")), "absent: unchanged");
        assert_eq!(keys(&user), RESPONSE_KEYS);

        let user = body(app.put_json(&path, &ada.token, &json!({"last_name": null})).await).await;
        assert_eq!((user["first_name"].clone(), user["last_name"].clone()), (json!("Kim"), Value::Null), "null clears");
        assert_eq!(user["display_name"], json!("Kim"));

        let user = body(app.put_json(&path, &ada.token, &json!({"first_name": " Jo ", "last_name": "Park"})).await).await;
        assert_eq!(user["display_name"], json!("Jo Park"));

        let res = app.put_json(&path, &ada.token, &json!({"first_name": null})).await;
        assert_422(res, &[(json!(["body", "first_name"]), "string_type")], "a managed user always has a first name").await;
        let user = body(app.get(&path, &ada.token).await).await;
        assert_eq!(user["first_name"], json!("Jo"), "a 422 changes nothing");
    }

    async fn delete_managed_user_removes_it_and_answers_404_after(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let path = format!("/api/v1/users/{kim}");
        let res = app.delete(&path, &ada.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(res.bytes().await.unwrap().is_empty(), "204 has no body");
        assert_eq!(app.delete(&path, &ada.token).await.status(), StatusCode::NOT_FOUND, "again: 404");
        assert_eq!(app.get(&path, &ada.token).await.status(), StatusCode::NOT_FOUND);
        let list = body(app.get("/api/v1/users/", &ada.token).await).await;
        assert_eq!(ids(&list), vec![ada.id.clone()]);
        let id: domain::UserId = kim.parse().unwrap();
        let mut conn = app.pool.get().unwrap();
        assert_eq!(conn.run(|c| persistence::users::rows_naming(c, id)).unwrap(), 0, "no row names the deleted user");
    }

    async fn list_users_runs_the_same_number_of_statements_for_1_and_1000_managed_users(app) {
        let ada = app.account("ada@example.org").await;
        let manager: domain::UserId = ada.id.parse().unwrap();
        add_managed(&app, manager, 1);
        let with_one = statements_for_list(&app, &ada.token, 2).await;
        add_managed(&app, manager, 999);
        let with_thousand = statements_for_list(&app, &ada.token, 1001).await;
        assert_eq!(with_one, with_thousand, "statements do not grow with the users listed");
        // The authentication query, then the managed and shared users; no
        // liveness ping on connections in use (persistence::ALIVE_BYPASS).
        assert_eq!(with_one, 3, "authentication and a fixed number of reads");
    }
}

fn add_managed(app: &crate::helpers::TestApp, manager: domain::UserId, n: usize) {
    let mut conn = app.pool.get().unwrap();
    let name = domain::PersonName::parse("Kid").unwrap();
    conn.run(|c| {
        persistence::transaction(c, |c| {
            for _ in 0..n {
                persistence::users::create_managed(c, manager, &name, None, persistence::now(), |_| {
                    persistence::trail::Trail::none()
                })?;
            }
            Ok(())
        })
    })
    .unwrap();
}

/// The SQL statements one `GET /api/v1/users/` runs, on connections in
/// use (the fewest of three requests in a row: a connection idle for
/// longer than the bypass window, after a stall of the machine, is pinged
/// first).
async fn statements_for_list(app: &crate::helpers::TestApp, token: &str, expected_len: usize) -> u64 {
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        let before = app.pool.statement_count();
        let res = app.get("/api/v1/users/", token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(body(res).await.as_array().unwrap().len(), expected_len);
        fewest = fewest.min(app.pool.statement_count() - before);
    }
    fewest
}
