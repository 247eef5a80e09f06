use chrono::{DateTime, Utc};

use crate::access::Grant;
use crate::{ScopeSet, ShareId, UserId};

/// A subject's data shared with a grantee, with some scopes, until an
/// optional end. The subject is an account or a user its manager manages;
/// only they (the account, or the manager) may grant, change or end it,
/// and the grantee may leave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub id: ShareId,
    pub subject: UserId,
    pub grantee: UserId,
    pub scopes: ScopeSet,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Share {
    /// An expired share grants nothing and counts as absent everywhere.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.grant().is_live(now)
    }

    pub fn grant(&self) -> Grant {
        Grant { grantee: self.grantee, scopes: self.scopes, expires_at: self.expires_at }
    }
}
