//! Shares: a subject's data granted to a grantee, with scopes.

use chrono::{DateTime, Utc};
use domain::{Email, ScopeSet, User, UserId};
use serde::Serialize;
use utoipa::ToSchema;
use validator::ValidationError;

use super::ScopeDoc;
use crate::validation::body::Field;
use crate::validation::request;

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareResponse {
    #[schema(value_type = String)]
    pub id: domain::ShareId,
    #[schema(value_type = String)]
    pub subject_id: UserId,
    #[schema(value_type = String)]
    pub grantee_id: UserId,
    pub grantee_display_name: String,
    pub subject_display_name: String,
    #[schema(value_type = Vec<ScopeDoc>)]
    pub scopes: ScopeSet,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl ShareResponse {
    /// `users` must hold the share's subject and grantee.
    pub fn new(share: &domain::Share, users: &std::collections::HashMap<UserId, User>) -> Self {
        let name = |id: &UserId| users.get(id).map_or_else(|| "User".to_owned(), User::display_name);
        ShareResponse {
            id: share.id,
            subject_id: share.subject,
            grantee_id: share.grantee,
            grantee_display_name: name(&share.grantee),
            subject_display_name: name(&share.subject),
            scopes: share.scopes,
            created_at: share.created_at,
            expires_at: share.expires_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharesList {
    pub granted: Vec<ShareResponse>,
    pub received: Vec<ShareResponse>,
}

request! {
    pub struct ShareCreate {
        #[schema(value_type = String, format = "email")]
        pub grantee_email: Email = Required,
        #[schema(value_type = Vec<ScopeDoc>, min_items = 1)]
        pub scopes: ScopeSet = Required,
        /// The subject: the caller when absent, else a user the caller manages.
        #[schema(value_type = Option<String>)]
        pub user_id: Option<UserId> = Defaulted,
        /// The end of the share; none when absent or null.
        #[schema(value_type = Option<DateTime<Utc>>)]
        #[validate(custom(function = ahead))]
        pub expires_at: Option<DateTime<Utc>> = Defaulted,
    }
}

request! {
    pub struct ShareUpdate {
        #[schema(value_type = Vec<ScopeDoc>, min_items = 1)]
        pub scopes: ScopeSet = Required,
        /// Absent: the end stays; null: no end; a time: that end.
        #[schema(value_type = Option<DateTime<Utc>>)]
        #[validate(custom(function = ahead))]
        pub expires_at: Option<Option<DateTime<Utc>>> = Optional,
    }
}

/// validator's check of a share's end: still ahead, when there is one.
fn ahead<T: End, P>(field: &Field<T, P>) -> Result<(), ValidationError> {
    match field.value().and_then(End::end) {
        Some(end) if *end <= Utc::now() => {
            Err(ValidationError::new("value_error")
                .with_message("Value error, expires_at must be in the future".into()))
        }
        _ => Ok(()),
    }
}

/// A share's end as a request holds it: none (absent or null), or a time.
trait End {
    fn end(&self) -> Option<&DateTime<Utc>>;
}

impl End for Option<DateTime<Utc>> {
    fn end(&self) -> Option<&DateTime<Utc>> {
        self.as_ref()
    }
}

impl End for Option<Option<DateTime<Utc>>> {
    fn end(&self) -> Option<&DateTime<Utc>> {
        self.as_ref().and_then(Option::as_ref)
    }
}
