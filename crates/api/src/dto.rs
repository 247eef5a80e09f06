//! The wire types. They are not rows: a column rename never changes the
//! wire. Their `ToSchema` derives write the OpenAPI document; Part A's
//! names, fields and required lists are those of the reference page.

use chrono::{DateTime, Utc};
use domain::{Email, Password, PersonName, Scope, ScopeSet, User, UserId};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::validation::{
    email, given_password, new_password, nullable, person_name, Fields, FromJson,
};

// `Scope` in the document: the values a scope may take.
#[derive(ToSchema)]
#[schema(as = Scope)]
#[allow(dead_code)]
pub enum ScopeDoc {
    #[schema(rename = "data:read")]
    DataRead,
    #[schema(rename = "data:write")]
    DataWrite,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    #[schema(value_type = String)]
    pub id: UserId,
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    pub admin: bool,
    pub registered_at: DateTime<Utc>,
    #[schema(read_only)]
    pub display_name: String,
    #[schema(read_only)]
    pub is_managed: bool,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        UserResponse {
            id: user.id,
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            admin: user.admin,
            registered_at: user.registered_at,
            display_name: user.display_name(),
            is_managed: user.is_managed(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    #[schema(value_type = String)]
    pub id: UserId,
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    #[schema(value_type = Vec<ScopeDoc>)]
    pub scopes: ScopeSet,
    #[schema(read_only)]
    pub display_name: String,
    #[schema(read_only)]
    pub is_managed: bool,
}

impl UserSummary {
    pub fn new(user: &User, scopes: ScopeSet) -> Self {
        UserSummary {
            id: user.id,
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            scopes,
            display_name: user.display_name(),
            is_managed: user.is_managed(),
        }
    }
}

/// Kept so the document lists `Scope` even where only sets are used.
pub fn _scope_is_documented(_: Scope) {}

#[derive(Debug, ToSchema)]
pub struct ManagedUserCreate {
    #[schema(value_type = String)]
    pub first_name: PersonName,
    #[schema(value_type = Option<String>, required = true)]
    pub last_name: Option<PersonName>,
}

impl FromJson for ManagedUserCreate {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let first_name = f.required("first_name", person_name);
        let last_name = f.required("last_name", nullable(person_name));
        f.finish(|| ManagedUserCreate {
            first_name: first_name.unwrap(),
            last_name: last_name.unwrap(),
        })
    }
}

// PUT semantics per field: absent leaves it, `null` clears it (a 422 for
// `first_name`: a managed user always has one), a string sets it. (Plain
// comments on Part A types: a doc comment would become a `description`
// that the reference page does not have.)
#[derive(Debug, ToSchema)]
#[schema(as = Body_update_managed_user_api_v1_users__user_id__put)]
pub struct ManagedUserUpdate {
    #[schema(value_type = Option<String>)]
    pub first_name: Option<PersonName>,
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<PersonName>>,
}

impl FromJson for ManagedUserUpdate {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let first_name = f.optional("first_name", |v| {
            if v.is_null() {
                Err(crate::validation::Fault::new(
                    "string_type",
                    "Input should be a valid string",
                ))
            } else {
                person_name(v)
            }
        });
        let last_name = f.optional("last_name", nullable(person_name));
        f.finish(|| ManagedUserUpdate {
            first_name: first_name.unwrap(),
            last_name: last_name.unwrap(),
        })
    }
}

#[derive(Debug, ToSchema)]
pub struct RegisterRequest {
    #[schema(value_type = String, format = "email")]
    pub email: Email,
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub password: Password,
    #[schema(value_type = Option<String>)]
    pub first_name: Option<PersonName>,
    #[schema(value_type = Option<String>)]
    pub last_name: Option<PersonName>,
}

impl FromJson for RegisterRequest {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let email = f.required("email", email);
        let password = f.required("password", new_password);
        let first_name = f.optional("first_name", nullable(person_name));
        let last_name = f.optional("last_name", nullable(person_name));
        f.finish(|| RegisterRequest {
            email: email.unwrap(),
            password: password.unwrap(),
            first_name: first_name.unwrap().flatten(),
            last_name: last_name.unwrap().flatten(),
        })
    }
}

#[derive(Debug, ToSchema)]
pub struct PasswordChange {
    #[schema(value_type = String, format = Password)]
    pub current_password: String,
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub new_password: Password,
}

impl FromJson for PasswordChange {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let current = f.required("current_password", given_password);
        let new = f.required("new_password", new_password);
        f.finish(|| PasswordChange {
            current_password: current.unwrap(),
            new_password: new.unwrap(),
        })
    }
}

#[derive(Debug, ToSchema)]
pub struct AccountDelete {
    #[schema(format = Password)]
    pub password: String,
}

impl FromJson for AccountDelete {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let password = f.required("password", given_password);
        f.finish(|| AccountDelete {
            password: password.unwrap(),
        })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

/// The body of every error but 422.
#[derive(Serialize, ToSchema)]
#[schema(as = HTTPError)]
pub struct HttpErrorDoc {
    pub detail: String,
}

// `ValidationError` in the document.
#[derive(ToSchema)]
#[schema(as = ValidationError)]
#[allow(dead_code)]
pub struct ValidationErrorDoc {
    #[schema(schema_with = loc_schema)]
    loc: Vec<Value>,
    msg: String,
    r#type: String,
}

/// A `loc`: field names and list indexes.
fn loc_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            AnyOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::String))
                .item(ObjectBuilder::new().schema_type(Type::Integer)),
        )
        .build()
}

// `HTTPValidationError` in the document.
#[derive(ToSchema)]
#[schema(as = HTTPValidationError)]
#[allow(dead_code)]
pub struct HttpValidationErrorDoc {
    #[schema(required = false)]
    detail: Vec<ValidationErrorDoc>,
}
