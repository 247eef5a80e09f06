//! Part A's users: the reference page's schemas, field for field.

use chrono::{DateTime, Utc};
use domain::{PersonName, ScopeSet, User, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use super::ScopeDoc;
use crate::validation::request;

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

request! {
    pub struct ManagedUserCreate {
        #[schema(value_type = String)]
        pub first_name: PersonName = Required,
        #[schema(value_type = Option<String>, required = true)]
        pub last_name: Option<PersonName> = Required,
    }
}

// PUT semantics per field: absent leaves it, `null` clears it (a 422 for
// `first_name`: a managed user always has one), a string sets it. (Plain
// comments on Part A types: a doc comment would become a `description`
// that the reference page does not have.)
request! {
    #[schema(as = Body_update_managed_user_api_v1_users__user_id__put)]
    pub struct ManagedUserUpdate {
        #[schema(value_type = Option<String>)]
        pub first_name: Option<PersonName> = Optional,
        #[schema(value_type = Option<String>)]
        pub last_name: Option<Option<PersonName>> = Optional,
    }
}
