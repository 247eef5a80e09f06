use chrono::{DateTime, Duration, Utc};

use crate::{InvitationId, UserId};

/// How long an invitation to co-manage stays open (C1).
pub const INVITATION_LIFETIME: Duration = Duration::days(7);

/// An invitation, sent by one of a managed user's managers, for an
/// account to become one too. It stays open when its sender stops
/// managing the user, and goes with the sender's account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub id: InvitationId,
    /// The managed user to co-manage.
    pub user: UserId,
    pub invitee: UserId,
    pub invited_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Invitation {
    /// The end of an invitation made at `created_at`.
    pub fn expiry(created_at: DateTime<Utc>) -> DateTime<Utc> {
        created_at + INVITATION_LIFETIME
    }

    /// An invitation ends at `expires_at`: from that instant on it counts
    /// as absent everywhere.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.expires_at
    }
}
