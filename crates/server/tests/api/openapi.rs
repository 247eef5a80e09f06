//! The served OpenAPI document against the published reference
//! (`../shared/seed/users-api.openapi.json`): every Part A path,
//! operation, parameter, schema, field, type and required list as there.

use serde_json::Value;

use crate::helpers::{body, TestApp};

fn reference() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/seed/users-api.openapi.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("the reference document at {path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[actix_rt::test]
async fn the_served_document_matches_the_reference_for_part_a() {
    let app = TestApp::spawn(persistence::Backend::Sqlite).await;
    let res = app.client.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let ours = body(res).await;
    let theirs = reference();
    assert_eq!(ours["openapi"].as_str().map(|v| &v[..3]), Some("3.1"), "OpenAPI 3.1");

    for (name, schema) in theirs["components"]["schemas"].as_object().unwrap() {
        assert_eq!(&ours["components"]["schemas"][name], schema, "schema {name}");
    }
    for (name, scheme) in theirs["components"]["securitySchemes"].as_object().unwrap() {
        assert_eq!(&ours["components"]["securitySchemes"][name], scheme, "security scheme {name}");
    }
    for (path, item) in theirs["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let mine = &ours["paths"][path][method];
            let at = format!("{method} {path}");
            assert!(mine.is_object(), "{at} is served");
            for key in ["tags", "summary", "operationId", "security", "parameters", "requestBody"] {
                assert_eq!(&mine[key], &op[key], "{at}: {key}");
            }
            if let Some(description) = op.get("description") {
                let ours = mine["description"].as_str().unwrap_or_default();
                assert!(ours.starts_with(description.as_str().unwrap()), "{at}: description {ours:?}");
            }
            // Ours may say more (a documented `Location` header): every
            // key of the reference's response is there, equal.
            for (status, response) in op["responses"].as_object().unwrap() {
                for (key, value) in response.as_object().unwrap() {
                    assert_eq!(&mine["responses"][status][key], value, "{at}: response {status}: {key}");
                }
            }
        }
    }
}

/// Generated clients (openapi-python-client) demand an authenticated client
/// for any operation that declares a security scheme: sign-in and
/// registration, which need none, declare none, and say that Basic works.
#[actix_rt::test]
async fn signing_in_and_registering_declare_no_security() {
    let doc = api::openapi::document();
    for path in ["/api/v1/auth/token", "/api/v1/auth/register"] {
        let op = &doc["paths"][path]["post"];
        assert!(op.get("security").is_none(), "{path}: {}", op["security"]);
    }
    let description = doc["paths"]["/api/v1/auth/token"]["post"]["description"].as_str().unwrap();
    assert!(description.contains("HTTP") && description.contains("Basic"), "{description}");
}

#[actix_rt::test]
async fn every_operation_documents_its_statuses() {
    let doc = api::openapi::document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let statuses: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
            let authenticated =
                op["security"].as_array().is_some_and(|s| s.iter().any(|r| r.get("HTTPBearer").is_some()));
            if authenticated {
                for s in ["401", "503"] {
                    assert!(statuses.iter().any(|x| *x == s), "{method} {path} documents {s}: {statuses:?}");
                }
            }
            let checked_params = op["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query" || p["in"] == "path"));
            if op.get("requestBody").is_some() || checked_params {
                assert!(statuses.iter().any(|x| *x == "422"), "{method} {path} documents 422");
            }
        }
    }
}
