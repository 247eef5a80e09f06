//! Access decisions for handlers: load the facts, ask the domain.
//!
//! Every endpoint that touches a user's data asks [`require`] and nothing
//! else, so no handler decides access on its own.

use domain::access::{self, AccessError, Relation};
use domain::{Scope, ScopeSet, UserId};
use persistence::shares;

use crate::{ApiError, AppState, Caller};

/// Which scopes the caller holds on `subject` now (one statement): all on
/// themselves and the users they manage, the granted ones on a live share,
/// none otherwise (also when the subject does not exist).
pub async fn scopes_on(state: &AppState, caller: &Caller, subject: UserId) -> Result<ScopeSet, ApiError> {
    let me = caller.id();
    if me == subject {
        return Ok(Relation::Itself.scopes());
    }
    let now = persistence::now();
    let facts = state.db.run(move |c| shares::access_facts(c, me, subject, now)).await?;
    Ok(facts.map_or(ScopeSet::EMPTY, |f| Relation::of(me, subject, f.manager, f.grant.as_slice(), now).scopes()))
}

/// Ok when the caller holds `needed` on `subject`; else 404 as if the
/// subject did not exist (no scope at all) or 403 (some, not this one).
pub async fn require(state: &AppState, caller: &Caller, subject: UserId, needed: Scope) -> Result<(), ApiError> {
    let held = scopes_on(state, caller, subject).await?;
    access::require(held, needed).map_err(|e| match e {
        AccessError::NoAccess => ApiError::user_not_found(),
        AccessError::MissingScope(_) => ApiError::Forbidden("Not enough permissions for this action"),
    })
}
