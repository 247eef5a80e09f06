use chrono::{DateTime, Utc};
use domain::{PersonName, ScopeSet, User, UserId};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::ScopeDoc;
use crate::error::FieldError;
use crate::validation::{nullable, person_name, Fields, FromJson};

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
        f.finish(|| ManagedUserCreate { first_name: first_name.unwrap(), last_name: last_name.unwrap() })
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
                Err(crate::validation::Fault::new("string_type", "Input should be a valid string"))
            } else {
                person_name(v)
            }
        });
        let last_name = f.optional("last_name", nullable(person_name));
        f.finish(|| ManagedUserUpdate { first_name: first_name.unwrap(), last_name: last_name.unwrap() })
    }
}
