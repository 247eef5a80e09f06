//! C4: what other services hear. The kinds of event; the events
//! themselves are written by `persistence::events`.

/// The type of an event: its `type` on the wire, and the last token of its
/// NATS subject (`steward.events.<type>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    UserCreated,
    UserUpdated,
    UserDeleted,
    UserClaimed,
    AccountRegistered,
    ShareCreated,
    ShareUpdated,
    ShareDeleted,
    ManagerInvited,
    ManagerJoined,
    ManagerLeft,
}

impl EventType {
    pub const ALL: [EventType; 11] = [
        EventType::UserCreated,
        EventType::UserUpdated,
        EventType::UserDeleted,
        EventType::UserClaimed,
        EventType::AccountRegistered,
        EventType::ShareCreated,
        EventType::ShareUpdated,
        EventType::ShareDeleted,
        EventType::ManagerInvited,
        EventType::ManagerJoined,
        EventType::ManagerLeft,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::UserCreated => "user.created",
            EventType::UserUpdated => "user.updated",
            EventType::UserDeleted => "user.deleted",
            EventType::UserClaimed => "user.claimed",
            EventType::AccountRegistered => "account.registered",
            EventType::ShareCreated => "share.created",
            EventType::ShareUpdated => "share.updated",
            EventType::ShareDeleted => "share.deleted",
            EventType::ManagerInvited => "manager.invited",
            EventType::ManagerJoined => "manager.joined",
            EventType::ManagerLeft => "manager.left",
        }
    }

    pub fn parse(s: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_reads_back_and_is_a_subject_token() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t), "{t}");
            assert!(t.as_str().chars().all(|c| c.is_ascii_lowercase() || c == '.'), "{t}: no NATS wildcard or space");
        }
        assert_eq!(EventType::parse("user.read"), None);
    }
}
