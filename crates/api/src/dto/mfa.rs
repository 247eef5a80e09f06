//! C5: the second factor and the sign-ins a person can see.

use chrono::{DateTime, Utc};
use domain::SessionId;
use serde::Serialize;
use utoipa::ToSchema;

use crate::validation::request;

/// The caller's second factor.
#[derive(Debug, Serialize, ToSchema)]
pub struct Mfa {
    /// Whether TOTP is on.
    pub totp: bool,
    /// When it was turned on.
    pub enabled_at: Option<DateTime<Utc>>,
    /// Unused recovery codes.
    pub recovery_codes_left: i64,
}

request! {
    pub struct TotpEnroll {
        #[schema(format = Password)]
        #[validate(length(max = 1024))]
        pub password: String = Required,
    }
}

/// A pending enrollment: the secret is shown only here.
#[derive(Serialize, ToSchema)]
pub struct TotpEnrollment {
    /// The secret, RFC 4648 base32 without padding.
    pub secret: String,
    /// The `otpauth://totp/...` URI for a QR code.
    pub otpauth_uri: String,
    /// Confirm before this.
    pub expires_at: DateTime<Utc>,
}

request! {
    pub struct TotpConfirm {
        /// The current code of the pending secret.
        #[validate(length(max = 256))]
        pub code: String = Required,
    }
}

/// A new set of recovery codes, shown only here; each works once.
#[derive(Serialize, ToSchema)]
pub struct RecoveryCodes {
    pub recovery_codes: Vec<String>,
}

request! {
    pub struct MfaCheck {
        #[schema(format = Password)]
        #[validate(length(max = 1024))]
        pub password: String = Required,
        /// A current TOTP code, or an unused recovery code (then used up).
        #[validate(length(max = 256))]
        pub code: String = Required,
    }
}

/// One of the caller's sign-ins.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignIn {
    /// The sign-in's id: its tokens' `sid`.
    #[schema(value_type = String, format = Uuid)]
    pub id: SessionId,
    /// When the password was given.
    pub created_at: DateTime<Utc>,
    /// When it was last used, to within `SIGN_IN_TOUCH_SECONDS`.
    pub last_used_at: DateTime<Utc>,
    /// Its absolute limit.
    pub expires_at: DateTime<Utc>,
    /// The client's network at sign-in (/24 or /48).
    pub ip: Option<String>,
    /// The client's network at `last_used_at`.
    pub last_ip: Option<String>,
    /// The sign-in's `User-Agent`, at most 256 characters.
    pub user_agent: Option<String>,
    /// `totp`, `recovery_code`, or null (the password alone).
    pub second_factor: Option<&'static str>,
    /// Whether this is the request's own sign-in.
    pub current: bool,
}

impl SignIn {
    pub fn of(s: persistence::sessions::SignIn, current: SessionId) -> SignIn {
        SignIn {
            id: s.id,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            ip: s.ip,
            last_ip: s.last_ip,
            user_agent: s.user_agent,
            second_factor: s.second_factor.map(|f| f.as_str()),
            current: s.id == current,
        }
    }
}
