//! C4: an event of the feed.

use chrono::{DateTime, Utc};
use domain::{EventId, UserId};
use serde::Serialize;
use utoipa::ToSchema;

/// A change, as other services hear of it: `data` is the resource after
/// the change (`{}` for a deletion, and once the user it is about is
/// deleted; `share.deleted` carries the `Share` as it was).
#[derive(Debug, Serialize, ToSchema)]
pub struct Event {
    /// Increasing, gap-free: page with `after` = the last one read.
    pub position: i64,
    #[schema(value_type = String, format = Uuid)]
    pub id: EventId,
    /// `user.created`, `user.updated`, `user.deleted`, `user.claimed`,
    /// `account.registered`, `share.created`, `share.updated`,
    /// `share.deleted`, `manager.invited`, `manager.joined`, `manager.left`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
    pub at: DateTime<Utc>,
    /// The user the change is about (a share's subject).
    #[schema(value_type = String, format = Uuid)]
    pub user_id: UserId,
    /// Who made it; null without a caller (registration, a claim).
    #[schema(value_type = Option<String>, format = Uuid, required = true)]
    pub actor_id: Option<UserId>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl Event {
    /// The feed's event; stored data that is not JSON is corrupt (a 500).
    pub fn new(e: persistence::events::Event) -> Result<Event, persistence::StoreError> {
        let data = serde_json::from_str(&e.data)
            .map_err(|_| persistence::StoreError::Corrupt(format!("event {} holds data that is not JSON", e.id)))?;
        Ok(Event {
            position: e.position,
            id: e.id,
            kind: e.kind.as_str().to_owned(),
            at: e.at,
            user_id: e.user,
            actor_id: e.actor,
            data,
        })
    }
}
