//! Bad input gets a clear 4xx in the contract's shape, never a 500.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_422, body};
use crate::on_both_backends;

on_both_backends! {
    async fn bodies_that_are_not_json_are_one_json_invalid_fault(app) {
        let ada = app.account("ada@example.org").await;
        let send = |raw: Vec<u8>| app.request(Method::POST, "/api/v1/users/", Some(&ada.token))
            .header("content-type", "application/json").body(raw).send();
        let res = send(br#"{"first_name": "Kim", "last_name": }"#.to_vec()).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b = body(res).await;
        assert_eq!(b["detail"].as_array().unwrap().len(), 1);
        assert_eq!(b["detail"][0]["type"], json!("json_invalid"));
        assert_eq!(b["detail"][0]["loc"], json!(["body", 35]), "the byte offset of the fault");

        let deep = "[".repeat(10_000);
        for (raw, why) in [(vec![0xff, 0xfe, b'{'], "not UTF-8"), (deep.into_bytes(), "nested too deep"), (b"nul".to_vec(), "a bare word")] {
            let res = send(raw).await.unwrap();
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
            let b = body(res).await;
            assert_eq!(b["detail"][0]["type"], json!("json_invalid"), "{why}");
            assert_eq!(b["detail"][0]["loc"][0], json!("body"), "{why}");
        }
        let res = app.request(Method::POST, "/api/v1/users/", Some(&ada.token)).send().await.unwrap();
        assert_422(res, &[(json!(["body"]), "missing")], "no body at all").await;
        let res = app.post_json("/api/v1/users/", Some(&ada.token), &json!(["Kim"])).await;
        assert_422(res, &[(json!(["body"]), "model_attributes_type")], "an array, not an object").await;
    }

    async fn names_are_checked_after_trimming(app) {
        let ada = app.account("ada@example.org").await;
        let cases = [
            (json!("   "), "string_too_short", "blank"),
            (json!(""), "string_too_short", "empty"),
            (json!("a".repeat(101)), "string_too_long", "101 characters"),
            (json!("Kim\u{0}"), "value_error", "NUL"),
            (json!("Ki\nm"), "value_error", "newline"),
            (json!(5), "string_type", "a number"),
            (json!(["Kim"]), "string_type", "a list"),
        ];
        for (name, kind, why) in cases {
            let res = app.post_json("/api/v1/users/", Some(&ada.token), &json!({"first_name": name, "last_name": name})).await;
            assert_422(res, &[(json!(["body", "first_name"]), kind), (json!(["body", "last_name"]), kind)], why).await;
        }
        let res = app.post_json("/api/v1/users/", Some(&ada.token), &json!({"first_name": "é".repeat(100), "last_name": null})).await;
        assert_eq!(res.status(), StatusCode::CREATED, "100 characters of two bytes each are fine");
    }

    async fn form_and_text_bodies_are_refused(app) {
        let ada = app.account("ada@example.org").await;
        for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
            let res = app.request(Method::POST, "/api/v1/users/", Some(&ada.token))
                .header("content-type", ct).body(r#"{"first_name":"Kim","last_name":null}"#).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE, "{ct}");
            assert!(body(res).await["detail"].is_string());
        }
        let list = body(app.get("/api/v1/users/", &ada.token).await).await;
        assert_eq!(list.as_array().unwrap().len(), 1, "nothing was created");
    }

    async fn bodies_over_64_kib_are_413(app) {
        let ada = app.account("ada@example.org").await;
        let big = json!({"first_name": "Kim", "last_name": "x".repeat(70_000)});
        let res = app.post_json("/api/v1/users/", Some(&ada.token), &big).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(body(res).await["detail"].is_string());
    }

    async fn authentication_comes_before_the_shape_of_the_request(app) {
        let res = app.request(Method::POST, "/api/v1/users/", None)
            .header("content-type", "application/json").body("{not json").send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let big = json!({"first_name": "x".repeat(70_000)});
        let res = app.post_json("/api/v1/users/", Some("garbage"), &big).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let ada = app.account("ada@example.org").await;
        let res = app.put_json("/api/v1/users/not-a-uuid", &ada.token, &json!({"first_name": null})).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "the body's shape before whether the user exists");
    }

    async fn health_and_readiness_answer_without_authentication(app) {
        assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), StatusCode::OK);
        assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), StatusCode::OK);
        let res = app.client.get(app.url("/nowhere")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(body(res).await["detail"].is_string());
    }
}

#[actix_rt::test]
async fn a_method_a_path_does_not_serve_is_405_with_allow() {
    let app = crate::helpers::TestApp::spawn(persistence::Backend::Sqlite).await;
    for (method, path, allow) in [
        (Method::PATCH, "/api/v1/users/", "GET, POST"),
        (Method::POST, "/api/v1/users/00000000-0000-0000-0000-000000000000", "GET, PUT, DELETE"),
        (Method::GET, "/api/v1/shares/anything", "PUT, DELETE"),
        (Method::OPTIONS, "/api/v1/auth/me", "GET, DELETE"),
    ] {
        let res = app.request(method.clone(), path, None).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(res.headers()["allow"], allow, "{method} {path}");
        assert_eq!(body(res).await, json!({"detail": "Method Not Allowed"}));
    }
}
