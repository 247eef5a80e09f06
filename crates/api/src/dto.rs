//! The wire types. They are not rows: a column rename never changes the
//! wire. Their `ToSchema` derives write the OpenAPI document; Part A's
//! names, fields and required lists are those of the reference page.
//!
//! One module per resource; every type is re-exported here, so handlers
//! name them `crate::dto::X` whichever module holds them.

use domain::Scope;
use utoipa::ToSchema;

mod access_log;
mod activities;
mod auth;
mod claims;
mod errors;
mod events;
mod managers;
mod mfa;
mod shares;
mod trace;
mod users;

pub use access_log::{AccessActionDoc, AccessEntry, AccessViaDoc};
pub use activities::{ActivityCreate, ActivityResponse, TracePointDto};
pub use auth::{AccountDelete, PasswordChange, RegisterRequest, TokenResponse};
pub use claims::{ClaimCodeCreate, ClaimCodeResponse, ClaimRequest, KeepScopes};
pub use errors::{HttpErrorDoc, HttpValidationErrorDoc, ValidationErrorDoc};
pub use events::Event;
pub use managers::{Invitation, InvitationsList, Manager, ManagerInvite};
pub use mfa::{Mfa, MfaCheck, RecoveryCodes, SignIn, TotpConfirm, TotpEnroll, TotpEnrollment};
pub use shares::{ShareCreate, ShareResponse, ShareUpdate, SharesList};
pub use trace::Trace;
pub use users::{ManagedUserCreate, ManagedUserUpdate, UserResponse, UserSummary};

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

/// Kept so the document lists `Scope` even where only sets are used.
pub fn _scope_is_documented(_: Scope) {}
