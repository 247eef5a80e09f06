//! C1: a managed user's managers, and invitations to become one.

use chrono::{DateTime, Utc};
use domain::{Email, InvitationId, User, UserId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::validation::request;

/// One of a managed user's managers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Manager {
    #[schema(value_type = String)]
    pub id: UserId,
    pub display_name: String,
    /// When they became one.
    pub since: DateTime<Utc>,
}

impl Manager {
    pub fn new(user: &User, since: DateTime<Utc>) -> Self {
        Manager { id: user.id, display_name: user.display_name(), since }
    }
}

/// An invitation to co-manage a user, live for 7 days.
#[derive(Debug, Serialize, ToSchema)]
pub struct Invitation {
    #[schema(value_type = String)]
    pub id: InvitationId,
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub user_display_name: String,
    #[schema(value_type = String)]
    pub invitee_id: UserId,
    pub invitee_display_name: String,
    #[schema(value_type = String)]
    pub invited_by_id: UserId,
    pub invited_by_display_name: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Invitation {
    /// With the display names of its user, invitee and sender.
    pub fn new(invitation: &domain::Invitation, user: String, invitee: String, invited_by: String) -> Self {
        Invitation {
            id: invitation.id,
            user_id: invitation.user,
            user_display_name: user,
            invitee_id: invitation.invitee,
            invitee_display_name: invitee,
            invited_by_id: invitation.invited_by,
            invited_by_display_name: invited_by,
            created_at: invitation.created_at,
            expires_at: invitation.expires_at,
        }
    }
}

impl From<persistence::invitations::Listed> for Invitation {
    fn from(l: persistence::invitations::Listed) -> Self {
        Invitation::new(&l.invitation, l.user_name, l.invitee_name, l.invited_by_name)
    }
}

/// The caller's live invitations: addressed to it, and on the users it
/// manages (whoever of their managers sent them), oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationsList {
    pub received: Vec<Invitation>,
    pub sent: Vec<Invitation>,
}

request! {
    pub struct ManagerInvite {
        /// The account invited to co-manage.
        #[schema(value_type = String, format = "email")]
        pub email: Email = Required,
    }
}
