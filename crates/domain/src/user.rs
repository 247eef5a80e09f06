use chrono::{DateTime, Utc};

use crate::UserId;

/// A person Steward knows: an account that signs in with an e-mail and a
/// password, or a managed user (a child, a parent, an athlete) whose data
/// its manager looks after and who never signs in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    /// Set for accounts, never for managed users.
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub admin: bool,
    /// A managed user: it has one or more managers (who they are is a
    /// relation of its own) and no e-mail or password.
    pub managed: bool,
    pub registered_at: DateTime<Utc>,
}

impl User {
    pub fn is_managed(&self) -> bool {
        self.managed
    }

    pub fn display_name(&self) -> String {
        display_name(self.first_name.as_deref(), self.last_name.as_deref(), self.email.as_deref())
    }
}

/// The name shown for a user; derived, never stored: first and last name
/// joined by one space when both are set, else the one that is set, else
/// the e-mail address before the `@`, else `"User"`.
pub fn display_name(first: Option<&str>, last: Option<&str>, email: Option<&str>) -> String {
    match (first, last) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => {
            email.and_then(|e| e.split('@').next()).filter(|local| !local.is_empty()).unwrap_or("User").to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_name_as_a_table() {
        let cases = [
            (Some("Ada"), Some("Lovelace"), Some("ada@example.org"), "Ada Lovelace"),
            (Some("Ada"), None, Some("ada@example.org"), "Ada"),
            (None, Some("Lovelace"), Some("ada@example.org"), "Lovelace"),
            (None, None, Some("ada.l@example.org"), "ada.l"),
            (None, None, None, "User"),
            (None, None, Some("@example.org"), "User"),
            (Some("Ada"), Some("Lovelace"), None, "Ada Lovelace"),
        ];
        for (first, last, email, want) in cases {
            assert_eq!(display_name(first, last, email), want, "{first:?} {last:?} {email:?}");
        }
    }

    #[test]
    fn a_user_is_managed_exactly_when_it_has_a_manager() {
        let mut user = User {
            id: UserId::new(),
            email: None,
            first_name: Some("Kim".into()),
            last_name: None,
            admin: false,
            managed: false,
            registered_at: Utc::now(),
        };
        assert!(!user.is_managed());
        user.managed = true;
        assert!(user.is_managed());
        assert_eq!(user.display_name(), "Kim");
    }
}
