use chrono::{DateTime, Utc};
use domain::{Email, Scope, ScopeSet, User, UserId};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::ScopeDoc;
use crate::error::FieldError;
use crate::validation::{email, nullable, Fields, FromJson};

/// A list of scopes: non-empty, each a known scope (duplicates collapse).
fn scopes(value: &Value, loc: &[crate::Loc], errors: &mut Vec<FieldError>) -> Option<ScopeSet> {
    use crate::Loc;
    let at = |extra: Option<usize>| {
        let mut l = loc.to_vec();
        l.push(Loc::from("scopes"));
        l.extend(extra.map(Loc::Index));
        l
    };
    let Some(items) = value.as_array() else {
        errors.push(FieldError::new(at(None), "list_type", "Input should be a valid list"));
        return None;
    };
    if items.is_empty() {
        errors.push(FieldError::new(at(None), "too_short", "List should have at least 1 item after validation"));
        return None;
    }
    let mut set = ScopeSet::EMPTY;
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match item.as_str().ok_or(domain::ScopeError).and_then(str::parse::<Scope>) {
            Ok(scope) => set.insert(scope),
            Err(e) => {
                ok = false;
                let fault = crate::validation::Fault::from(e);
                errors.push(FieldError::new(at(Some(i)), fault.kind, fault.msg));
            }
        }
    }
    ok.then_some(set)
}

/// The required `scopes` field of `f`, every fault listed.
fn required_scopes(f: &mut Fields<'_>) -> Option<ScopeSet> {
    let loc = f.loc().to_vec();
    let value = f.required("scopes", Ok)?;
    let mut errors = Vec::new();
    let set = scopes(value, &loc, &mut errors);
    for e in errors {
        f.push(e.loc, crate::validation::Fault::new(e.kind, e.msg));
    }
    set
}

/// An end that is still ahead.
fn future_datetime(value: &Value) -> Result<DateTime<Utc>, crate::validation::Fault> {
    let t = crate::validation::datetime(value)?;
    if t <= Utc::now() {
        return Err(crate::validation::Fault::new("value_error", "Value error, expires_at must be in the future"));
    }
    Ok(t)
}

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

#[derive(Debug, ToSchema)]
pub struct ShareCreate {
    #[schema(value_type = String, format = "email")]
    pub grantee_email: Email,
    #[schema(value_type = Vec<ScopeDoc>, min_items = 1)]
    pub scopes: ScopeSet,
    /// The subject: the caller when absent, else a user the caller manages.
    #[schema(value_type = Option<String>)]
    pub user_id: Option<UserId>,
    /// The end of the share; none when absent or null.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl FromJson for ShareCreate {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let grantee_email = f.required("grantee_email", email);
        let scopes = required_scopes(&mut f);
        let user_id = f.optional("user_id", nullable(crate::validation::uuid::<UserId>));
        let expires_at = f.optional("expires_at", nullable(future_datetime));
        f.finish(|| ShareCreate {
            grantee_email: grantee_email.unwrap(),
            scopes: scopes.unwrap(),
            user_id: user_id.unwrap().flatten(),
            expires_at: expires_at.unwrap().flatten(),
        })
    }
}

#[derive(Debug, ToSchema)]
pub struct ShareUpdate {
    #[schema(value_type = Vec<ScopeDoc>, min_items = 1)]
    pub scopes: ScopeSet,
    /// Absent: the end stays; null: no end; a time: that end.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

impl FromJson for ShareUpdate {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let scopes = required_scopes(&mut f);
        let expires_at = f.optional("expires_at", nullable(future_datetime));
        f.finish(|| ShareUpdate { scopes: scopes.unwrap(), expires_at: expires_at.unwrap() })
    }
}
