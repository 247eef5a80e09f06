//! Steward's domain: the people it knows, the scopes they hold, and who may
//! do what to whom.
//!
//! This crate has no web, database or async dependency, so a batch job can
//! link it alone and decide access exactly as the service does:
//!
//! ```
//! use domain::{access, Scope, UserId};
//!
//! let parent = UserId::new();
//! let child = UserId::new();
//! // The child is managed by the parent: the parent holds every scope.
//! let held = access::held_scopes(parent, child, access::Managers::of(parent, &[parent]), &[]);
//! assert!(access::require(held, Scope::DataWrite).is_ok());
//! ```
//!
//! Every value type here checks itself when it is made: if you hold a
//! [`PersonName`], an [`Email`] or a [`Password`], it is valid.

pub mod access;
pub mod access_log;
mod activity;
pub mod claim;
mod email;
pub mod event;
mod ids;
mod invitation;
pub mod mfa;
mod name;
mod password;
mod scope;
mod share;
pub mod sign_in;
mod text;
pub mod throttle;
pub mod time;
mod user;

pub use activity::{check_trace, Activity, ActivityName, PointError, Sport, TraceFault, TracePoint, TRACE_MAX_POINTS};
pub use email::{Email, EmailError};
pub use event::EventType;
pub use ids::{AccessEntryId, ActivityId, EventId, InvitationId, SessionId, ShareId, UserId};
pub use invitation::{Invitation, INVITATION_LIFETIME};
pub use name::{PersonName, NAME_MAX_CHARS};
pub use password::{Password, PasswordError, PASSWORD_MAX_CHARS, PASSWORD_MIN_CHARS};
pub use scope::{Scope, ScopeError, ScopeSet};
pub use share::Share;
pub use text::TextError;
pub use user::{display_name, User};
