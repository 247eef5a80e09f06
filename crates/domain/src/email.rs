use validator::ValidateEmail;

/// The longest address accepted (RFC 5321's limit on a path).
const EMAIL_MAX_CHARS: usize = 254;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("value is not a valid email address")]
    Invalid,
}

/// An e-mail address as the person typed it (trimmed), with the normalised
/// form that uniqueness and sign-in compare: addresses are compared
/// case-insensitively, so `Ada@Example.org` and `ada@example.org` are one
/// account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    display: String,
    normalized: String,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let email = raw.trim();
        if email.chars().count() > EMAIL_MAX_CHARS || email.chars().any(char::is_control) || !email.validate_email() {
            return Err(EmailError::Invalid);
        }
        Ok(Self { display: email.to_owned(), normalized: Self::normalize(email) })
    }

    /// The key an address is looked up by. Sign-in uses it on whatever the
    /// caller typed, valid or not, so that a miss costs the same as a hit.
    pub fn normalize(raw: &str) -> String {
        raw.trim().to_lowercase()
    }

    pub fn as_str(&self) -> &str {
        &self.display
    }

    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rules_as_a_table() {
        let long = format!("{}@example.org", "a".repeat(250));
        let cases: &[(&str, bool, &str)] = &[
            ("ada@example.org", true, "a plain address"),
            ("  Ada@Example.org ", true, "trimmed"),
            ("ada+tag@sub.example.org", true, "plus and subdomain"),
            ("ada", false, "no @"),
            ("@example.org", false, "no local part"),
            ("ada@", false, "no domain"),
            ("ada @example.org", false, "space inside"),
            ("ada@exa\nmple.org", false, "control character"),
            (&long, false, "over 254 characters"),
            ("", false, "empty"),
        ];
        for (raw, ok, why) in cases {
            assert_eq!(Email::parse(raw).is_ok(), *ok, "{why}: {raw:?}");
        }
    }

    #[test]
    fn addresses_compare_case_insensitively() {
        let a = Email::parse("Ada@Example.org").unwrap();
        let b = Email::parse("ada@example.ORG").unwrap();
        assert_eq!(a.normalized(), b.normalized());
        assert_eq!(a.as_str(), "Ada@Example.org", "the typed form is kept for display");
        assert_eq!(Email::normalize(" ADA@example.org"), "ada@example.org");
    }
}
