//! Accounts and sign-in.

use domain::{Email, Password, PersonName};
use serde::Serialize;
use utoipa::ToSchema;

use crate::validation::request;

request! {
    pub struct RegisterRequest {
        #[schema(value_type = String, format = "email")]
        pub email: Email = Required,
        #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
        pub password: Password = Required,
        #[schema(value_type = Option<String>)]
        pub first_name: Option<PersonName> = Defaulted,
        #[schema(value_type = Option<String>)]
        pub last_name: Option<PersonName> = Defaulted,
    }
}

// A password being checked, not set (`current_password` here, `password`
// in AccountDelete), is any string up to a sane length, so that a megabyte
// of "password" is not hashed.
request! {
    pub struct PasswordChange {
        #[schema(value_type = String, format = Password)]
        #[validate(length(max = 1024))]
        pub current_password: String = Required,
        #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
        pub new_password: Password = Required,
    }
}

request! {
    pub struct AccountDelete {
        #[schema(format = Password)]
        #[validate(length(max = 1024))]
        pub password: String = Required,
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// After a sign-in with a recovery code: how many are left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes_left: Option<i64>,
}
