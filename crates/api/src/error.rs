//! The one place errors become HTTP responses.
//!
//! Handlers return `Result<_, ApiError>` and use `?` on storage, domain and
//! validation errors; `impl ResponseError for ApiError` below is the only
//! code that picks a status or writes an error body. A lost database is a
//! 503 with the process kept up; a 500 is a bug and is logged here, once.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use domain::access::AccessError;
use persistence::StoreError;
use serde::Serialize;
use serde_json::json;

/// One entry of a 422 body (`ValidationError` in the OpenAPI document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub loc: Vec<Loc>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A step of a `loc`: a name, or an index into a list (or a byte offset).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Loc {
    Name(String),
    Index(usize),
}

impl From<&str> for Loc {
    fn from(s: &str) -> Self {
        Loc::Name(s.to_owned())
    }
}

impl From<usize> for Loc {
    fn from(i: usize) -> Self {
        Loc::Index(i)
    }
}

impl FieldError {
    pub fn new(loc: Vec<Loc>, kind: &'static str, msg: impl Into<String>) -> Self {
        FieldError { loc, msg: msg.into(), kind }
    }
}

/// Which challenge a 401 carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    Bearer,
    Basic,
}

/// What a 404 is about; its `detail` names it. The same body answers "does
/// not exist" and "the caller may not know it exists", so a 404 never tells
/// which.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Activity,
    Share,
    /// A manager of the user a path names (C1).
    Manager,
    /// A live invitation to co-manage (C1).
    Invitation,
    /// No account has the e-mail a request names (a share's grantee).
    Account,
    /// A path no route serves.
    Path,
    /// A claim code that is unknown, used, voided or expired (C2).
    ClaimCode,
}

impl Resource {
    fn detail(self) -> &'static str {
        match self {
            Resource::User => "User not found",
            Resource::Activity => "Activity not found",
            Resource::Share => "Share not found",
            Resource::Manager => "Manager not found",
            Resource::Invitation => "Invitation not found",
            Resource::Account => "No account has that e-mail",
            Resource::Path => "Not Found",
            Resource::ClaimCode => "Claim code not found",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("unauthorized: {detail}")]
    Unauthorized { detail: &'static str, challenge: Challenge },
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found: {0:?}")]
    NotFound(Resource),
    /// A row the request named went away while it ran (a concurrent
    /// delete). The one-hop helper (`Db::act_as`) answers it as its
    /// subject's 404; elsewhere it is a plain 404.
    #[error("gone meanwhile")]
    Vanished,
    /// A path that is served, with a method it does not serve: `Allow`
    /// lists those it does.
    #[error("method not allowed")]
    MethodNotAllowed(String),
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("payload too large")]
    PayloadTooLarge(usize),
    /// Request headers over the limit (`header_limit::MAX_HEADER_BYTES`).
    #[error("request headers too large")]
    HeadersTooLarge(usize),
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// The database is unreachable or overloaded; `lost` when a statement
    /// found its connection's server gone (the pool then drops it).
    #[error("service unavailable: {why}")]
    Unavailable { why: String, lost: bool },
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// The 401 for a request without credentials, or with bad ones.
    pub const fn not_authenticated() -> ApiError {
        ApiError::Unauthorized { detail: "Not authenticated", challenge: Challenge::Bearer }
    }

    pub const fn invalid_token() -> ApiError {
        ApiError::Unauthorized { detail: "Could not validate credentials", challenge: Challenge::Bearer }
    }

    /// The 404 for a user: the same body whether the user does not exist,
    /// is not the caller's, or the id is not a UUID.
    pub const fn user_not_found() -> ApiError {
        ApiError::NotFound(Resource::User)
    }

    pub fn internal(err: impl std::fmt::Display) -> ApiError {
        ApiError::Internal(err.to_string())
    }

    pub fn validation(loc: Vec<Loc>, kind: &'static str, msg: impl Into<String>) -> ApiError {
        ApiError::Validation(vec![FieldError::new(loc, kind, msg)])
    }

    /// The 404 or 403 of a refusal by the access rules, about `resource`.
    pub fn refused(err: AccessError, resource: Resource) -> ApiError {
        match err {
            AccessError::NoAccess => ApiError::NotFound(resource),
            AccessError::MissingScope(_) | AccessError::NotTheirs => {
                ApiError::Forbidden("Not enough permissions for this action")
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::Vanished,
            StoreError::Conflict(what) => ApiError::Conflict(what),
            StoreError::Unavailable(why) => ApiError::Unavailable { why, lost: false },
            StoreError::ConnectionLost(why) => ApiError::Unavailable { why, lost: true },
            StoreError::Query(e) => ApiError::Internal(e.to_string()),
            StoreError::Corrupt(why) => ApiError::Internal(why),
        }
    }
}

impl persistence::Failure for ApiError {
    fn connection_lost(&self) -> bool {
        matches!(self, ApiError::Unavailable { lost: true, .. })
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::Vanished => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        let body = match self {
            ApiError::Unauthorized { detail, challenge } => {
                let value = match challenge {
                    Challenge::Bearer => "Bearer",
                    Challenge::Basic => "Basic",
                };
                res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static(value)));
                json!({ "detail": detail })
            }
            ApiError::Forbidden(d) => json!({ "detail": d }),
            ApiError::NotFound(resource) => json!({ "detail": resource.detail() }),
            ApiError::Vanished => json!({ "detail": "Not found" }),
            ApiError::MethodNotAllowed(allow) => {
                if let Ok(value) = HeaderValue::from_str(allow) {
                    res.insert_header((header::ALLOW, value));
                }
                json!({ "detail": "Method Not Allowed" })
            }
            ApiError::Conflict(what) => json!({ "detail": conflict_detail(what) }),
            ApiError::PayloadTooLarge(limit) => {
                json!({ "detail": format!("Request body is larger than the limit of {limit} bytes") })
            }
            ApiError::HeadersTooLarge(limit) => {
                json!({ "detail": format!("Request headers are larger than {limit} bytes") })
            }
            ApiError::UnsupportedMediaType => {
                json!({ "detail": "Content-Type must be application/json" })
            }
            ApiError::Validation(errors) => json!({ "detail": errors }),
            ApiError::TooManyRequests { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
                json!({ "detail": "Too many failed sign-ins; try again later" })
            }
            ApiError::Unavailable { why, .. } => {
                tracing::warn!(error = %why, "database unavailable");
                res.insert_header((header::RETRY_AFTER, "1"));
                json!({ "detail": "Service temporarily unavailable" })
            }
            ApiError::Internal(why) => {
                tracing::error!(error = %why, "internal error");
                json!({ "detail": "Internal server error" })
            }
        };
        res.json(body)
    }
}

fn conflict_detail(what: &str) -> &str {
    match what {
        "email" => "Email already registered",
        "share" => "The grantee already holds a share on this user",
        "manager" => "That account already manages this user",
        "invitation" => "That account already holds a live invitation for this user",
        other => other,
    }
}
