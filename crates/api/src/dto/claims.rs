//! Taking over (C2): claim codes and their redemption.

use chrono::{DateTime, Utc};
use domain::{Email, Password, ScopeSet};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::ScopeDoc;
use crate::validation::body::{Faults, Wire};
use crate::validation::request;

/// The scopes each former manager keeps: a list of scopes that, unlike a
/// share's, may be empty (then no one keeps a share).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepScopes(pub ScopeSet);

impl Wire for KeepScopes {
    fn read(value: &Value) -> Result<Self, Faults> {
        match value.as_array() {
            Some(items) if items.is_empty() => Ok(KeepScopes(ScopeSet::EMPTY)),
            _ => ScopeSet::read(value).map(KeepScopes),
        }
    }
}

request! {
    pub struct ClaimCodeCreate {
        /// What each former manager keeps as a share with no end once the
        /// code is redeemed; absent or empty: nothing.
        #[schema(value_type = Vec<ScopeDoc>)]
        pub keep_scopes: KeepScopes = Defaulted,
    }
}

/// A new claim code: shown only here, stored only as a hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClaimCodeResponse {
    /// 28 Crockford base32 characters in seven groups of four, lowercase;
    /// case, spaces and hyphens are ignored when it is redeemed, and I, L
    /// and O read as 1, 1 and 0.
    pub code: String,
    pub expires_at: DateTime<Utc>,
}

request! {
    pub struct ClaimRequest {
        /// Any string: one that matches no live code is a 404.
        pub code: String = Required,
        #[schema(value_type = String, format = "email")]
        pub email: Email = Required,
        #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
        pub password: Password = Required,
    }
}
