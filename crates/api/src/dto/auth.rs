use domain::{Email, Password, PersonName};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::validation::{email, given_password, new_password, nullable, person_name, Fields, FromJson};

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
        f.finish(|| PasswordChange { current_password: current.unwrap(), new_password: new.unwrap() })
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
        f.finish(|| AccountDelete { password: password.unwrap() })
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
