//! C3: entries of a user's access log.

use chrono::{DateTime, Utc};
use domain::access_log::AccessEntry as Entry;
use domain::{AccessEntryId, Scope, UserId};
use serde::Serialize;
use utoipa::ToSchema;

/// One read or change of a user's data by someone other than that user.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessEntry {
    #[schema(value_type = String)]
    pub id: AccessEntryId,
    pub at: DateTime<Utc>,
    /// Null once the actor's account is deleted.
    #[schema(value_type = Option<String>, required = true)]
    pub actor_id: Option<UserId>,
    /// The actor's display name when the entry was made.
    pub actor_display_name: String,
    #[schema(value_type = String)]
    pub user_id: UserId,
    #[schema(value_type = AccessActionDoc)]
    pub action: &'static str,
    /// The scope the request needed, or null.
    #[schema(value_type = Option<crate::dto::ScopeDoc>, required = true)]
    pub scope: Option<Scope>,
    #[schema(value_type = AccessViaDoc)]
    pub via: &'static str,
}

impl From<&Entry> for AccessEntry {
    fn from(e: &Entry) -> Self {
        AccessEntry {
            id: e.id,
            at: e.at,
            actor_id: e.actor,
            actor_display_name: e.actor_display_name.clone(),
            user_id: e.user,
            action: e.action.as_str(),
            scope: e.scope,
            via: e.via.as_str(),
        }
    }
}

/// What the request did (`AccessEntry.action`).
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(as = AccessAction)]
pub enum AccessActionDoc {
    #[schema(rename = "user.read")]
    UserRead,
    #[schema(rename = "user.update")]
    UserUpdate,
    #[schema(rename = "user.delete")]
    UserDelete,
    #[schema(rename = "activity.list")]
    ActivityList,
    #[schema(rename = "activity.read")]
    ActivityRead,
    #[schema(rename = "activity.create")]
    ActivityCreate,
    #[schema(rename = "activity.delete")]
    ActivityDelete,
    #[schema(rename = "trace.read")]
    TraceRead,
    #[schema(rename = "trace.write")]
    TraceWrite,
    #[schema(rename = "share.create")]
    ShareCreate,
    #[schema(rename = "share.update")]
    ShareUpdate,
    #[schema(rename = "share.delete")]
    ShareDelete,
    #[schema(rename = "manager.invite")]
    ManagerInvite,
    #[schema(rename = "manager.join")]
    ManagerJoin,
    #[schema(rename = "manager.leave")]
    ManagerLeave,
    #[schema(rename = "claim_code.issue")]
    ClaimCodeIssue,
    #[schema(rename = "claim_code.void")]
    ClaimCodeVoid,
    #[schema(rename = "user.claim")]
    UserClaim,
}

/// How the actor reached the user (`AccessEntry.via`).
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(as = AccessVia)]
pub enum AccessViaDoc {
    #[schema(rename = "manager")]
    Manager,
    #[schema(rename = "share")]
    Share,
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    /// The document's list of actions is the domain's, word for word.
    #[test]
    fn the_documented_actions_are_the_domains() {
        let doc = serde_json::to_value(super::AccessActionDoc::schema()).unwrap();
        let listed: Vec<&str> = doc["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        let words: Vec<&str> = domain::access_log::Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(listed, words);
    }
}
