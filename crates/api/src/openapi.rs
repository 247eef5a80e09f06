//! The OpenAPI 3.1 document, generated from the handlers' and types'
//! annotations, then written in the original framework's dialect so that
//! existing clients and the reference page agree with it field by field:
//! nullable fields as `anyOf [T, null]`, a `title` on every schema and
//! property, and the authentication extractor's inputs (the
//! `refreshed-token` header, the `token` cookie) listed on each operation
//! that takes them.

use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use utoipa_actix_web::AppExt;

use crate::dto;

#[derive(OpenApi)]
#[openapi(
    info(title = "Steward", description = "Users and access for personal health data."),
    components(schemas(dto::ScopeDoc, dto::UserSummary, dto::UserResponse, dto::ManagedUserCreate,
        dto::ManagedUserUpdate, dto::RegisterRequest, dto::PasswordChange, dto::AccountDelete,
        dto::TokenResponse, dto::HttpErrorDoc, dto::ValidationErrorDoc, dto::HttpValidationErrorDoc,
        dto::ShareResponse, dto::SharesList, dto::ShareCreate, dto::ShareUpdate,
        dto::ActivityResponse, dto::ActivityCreate, dto::TracePointDto,
        dto::Manager, dto::Invitation, dto::InvitationsList, dto::ManagerInvite,
        dto::ClaimCodeCreate, dto::ClaimCodeResponse, dto::ClaimRequest,
        dto::AccessEntry, dto::AccessActionDoc, dto::AccessViaDoc,
        dto::Mfa, dto::TotpEnroll, dto::TotpEnrollment, dto::TotpConfirm, dto::RecoveryCodes, dto::MfaCheck,
        dto::SignIn, dto::Event)),
    modifiers(&SecuritySchemes),
    tags((name = "users", description = "Part A: the published Users API"),
         (name = "auth", description = "Accounts and sign-in"),
         (name = "shares", description = "Sharing a user's data with scopes"),
         (name = "activities", description = "Activities and traces: the data scopes protect"),
         (name = "managers", description = "Several managers of a managed user, and invitations"),
         (name = "events", description = "What other services hear: the feed of changes"),
         (name = "operations", description = "Health and readiness")),
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "HTTPBearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "HTTPBasic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
    }
}

/// The document served at `/openapi.json`: the paths of the routes as
/// they are registered ([`crate::routes()`]), the schemas and schemes above.
pub fn document() -> Value {
    let (_, registered) =
        actix_web::App::new().into_utoipa_app().openapi(ApiDoc::openapi()).configure(crate::routes).split_for_parts();
    let mut doc = serde_json::to_value(registered).expect("the document serialises");
    doc["info"]["version"] = json!(env!("CARGO_PKG_VERSION"));
    if let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) {
        for (name, schema) in schemas.iter_mut() {
            if let Some(obj) = schema.as_object_mut() {
                obj.entry("title").or_insert_with(|| json!(name));
            }
            titled_properties(name, schema);
        }
    }
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for item in paths.values_mut().filter_map(Value::as_object_mut) {
            for op in item.values_mut().filter_map(Value::as_object_mut) {
                operation(op);
            }
        }
    }
    nullable_as_any_of(&mut doc);
    doc
}

/// The methods a path is served with, as `Allow` lists them, when some
/// registered route has that path; `None` for a path no route has.
pub fn allowed_methods(path: &str) -> Option<String> {
    static ROUTES: std::sync::OnceLock<Vec<(actix_web::dev::ResourceDef, String)>> = std::sync::OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        let doc = document();
        let order = ["get", "post", "put", "patch", "delete"];
        doc["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .map(|(template, item)| {
                        let allow = order
                            .iter()
                            .filter(|m| item.get(**m).is_some())
                            .map(|m| m.to_ascii_uppercase())
                            .collect::<Vec<_>>()
                            .join(", ");
                        (actix_web::dev::ResourceDef::new(template.as_str()), allow)
                    })
                    .collect()
            })
            .unwrap_or_default()
    });
    routes.iter().find(|(def, _)| def.is_match(path)).map(|(_, allow)| allow.clone())
}

/// The document behind the interactive docs at `/docs`: the served one,
/// plus an OAuth2 password flow against `POST /api/v1/auth/token`, offered
/// on every operation that takes a Bearer token, so that the docs'
/// "Authorize" signs in with an e-mail and password. (`/openapi.json`
/// keeps the reference page's security schemes exactly.)
pub fn docs_document() -> Value {
    let mut doc = document();
    doc["components"]["securitySchemes"]["OAuth2PasswordBearer"] = json!({
        "type": "oauth2",
        "description": "Sign in with your e-mail (as username) and password.",
        "flows": {"password": {"tokenUrl": "/api/v1/auth/token", "scopes": {}}},
    });
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        for op in paths.values_mut().filter_map(Value::as_object_mut).flat_map(|item| item.values_mut()) {
            if let Some(security) = op.get_mut("security").and_then(Value::as_array_mut) {
                if security.iter().any(|r| r.get("HTTPBearer").is_some()) {
                    security.push(json!({"OAuth2PasswordBearer": []}));
                }
            }
        }
    }
    doc
}

/// FastAPI's titles: `first_name` is "First Name".
fn title_case(name: &str) -> String {
    name.split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_uppercase().chain(c).collect::<String>()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The titles pydantic gives `ValidationError`'s fields, which are not
/// derived from their names; every other field's title is its name's.
fn property_title(schema: &str, name: &str) -> String {
    match (schema, name) {
        ("ValidationError", "loc") => "Location".to_owned(),
        ("ValidationError", "msg") => "Message".to_owned(),
        ("ValidationError", "type") => "Error Type".to_owned(),
        (_, other) => title_case(other),
    }
}

fn titled_properties(schema_name: &str, schema: &mut Value) {
    if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
        for (name, prop) in props.iter_mut() {
            if let Some(p) = prop.as_object_mut() {
                if !p.contains_key("$ref") {
                    p.entry("title").or_insert_with(|| json!(property_title(schema_name, name)));
                }
            }
        }
    }
}

fn operation(op: &mut Map<String, Value>) {
    let op_id = op.get("operationId").and_then(Value::as_str).unwrap_or_default().to_owned();
    // The first line of a handler's doc is its summary, the rest its
    // description; utoipa puts both where FastAPI puts them.
    let authenticated =
        op.get("security").and_then(Value::as_array).is_some_and(|s| s.iter().any(|r| r.get("HTTPBearer").is_some()));
    let params = op.entry("parameters").or_insert_with(|| json!([]));
    if let Some(list) = params.as_array_mut() {
        for p in list.iter_mut() {
            let name = p["name"].as_str().unwrap_or_default().to_owned();
            if let Some(schema) = p.get_mut("schema").and_then(Value::as_object_mut) {
                schema.entry("title").or_insert_with(|| json!(title_case(&name)));
            }
            if p["in"] == "path" {
                p.as_object_mut().map(|o| o.remove("description"));
            }
        }
        if authenticated {
            for (name, location) in [("refreshed-token", "header"), ("token", "cookie")] {
                list.push(json!({
                    "name": name,
                    "in": location,
                    "required": false,
                    "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": title_case_dash(name)},
                }));
            }
        }
        if list.is_empty() {
            op.remove("parameters");
        }
    }
    let json_body = op.get("requestBody").and_then(|b| b.pointer("/content/application~1json")).is_some();
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        // The answers every operation of a kind can give, written once here
        // rather than on each handler.
        let error = |description: &str| {
            json!({"description": description,
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPError"}}}})
        };
        if authenticated {
            responses.entry("401").or_insert_with(|| error("Not authenticated"));
        }
        if json_body {
            responses.entry("413").or_insert_with(|| error("Body too large"));
            responses.entry("415").or_insert_with(|| error("Body is not JSON"));
        }
        if !op_id.starts_with("healthz") && !op_id.starts_with("readyz") {
            responses.entry("503").or_insert_with(|| error("Database unavailable"));
        }
        for response in responses.values_mut() {
            if let Some(schema) =
                response.pointer_mut("/content/application~1json/schema").and_then(Value::as_object_mut)
            {
                if !schema.contains_key("$ref") {
                    schema.entry("title").or_insert_with(|| json!(format!("Response {}", title_case(&op_id))));
                }
            }
        }
    }
}

fn title_case_dash(name: &str) -> String {
    name.split('-').map(title_case).collect::<Vec<_>>().join("-")
}

/// `{"type": ["string", "null"]}` becomes `{"anyOf": [{"type": "string"},
/// {"type": "null"}]}`, the form the reference page uses.
fn nullable_as_any_of(value: &mut Value) {
    match value {
        Value::Object(obj) => {
            let pair = obj
                .get("type")
                .and_then(Value::as_array)
                .filter(|t| t.len() == 2 && t.contains(&json!("null")))
                .cloned();
            if let Some(types) = pair {
                let inner = types.into_iter().find(|t| t != "null").unwrap_or(json!("string"));
                obj.remove("type");
                let mut first = Map::new();
                first.insert("type".into(), inner);
                for key in ["format", "minLength", "maxLength", "items"] {
                    if let Some(v) = obj.remove(key) {
                        first.insert(key.into(), v);
                    }
                }
                obj.insert("anyOf".into(), json!([Value::Object(first), {"type": "null"}]));
            }
            // utoipa writes `Option<$ref>` as `oneOf [null, $ref]`.
            obj.values_mut().for_each(nullable_as_any_of);
        }
        Value::Array(items) => items.iter_mut().for_each(nullable_as_any_of),
        _ => {}
    }
}
