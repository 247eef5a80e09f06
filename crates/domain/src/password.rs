pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 128;

/// The most common passwords of 8 to 128 characters (11,611 of them),
/// lower-cased and sorted, from zxcvbn's frequency list (MIT; see
/// `data/common-passwords.LICENSE.txt`).
static COMMON: &str = include_str!("../data/common-passwords.txt");

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("String should have at least 8 characters")]
    TooShort,
    #[error("String should have at most 128 characters")]
    TooLong,
    #[error("Value error, this password is too common")]
    TooCommon,
}

/// A password that may be set: 8 to 128 characters and not one of the most
/// common passwords. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, PasswordError> {
        // Passwords are taken as typed: no trimming, so what signs in later
        // is exactly what was set.
        match raw.chars().count() {
            n if n < PASSWORD_MIN_CHARS => Err(PasswordError::TooShort),
            n if n > PASSWORD_MAX_CHARS => Err(PasswordError::TooLong),
            _ if is_common(raw) => Err(PasswordError::TooCommon),
            _ => Ok(Self(raw.to_owned())),
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

fn is_common(raw: &str) -> bool {
    static LIST: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    // The file is sorted by code point (a test checks), so one binary search
    // answers; the index of lines is built once, on first use.
    let list = LIST.get_or_init(|| COMMON.lines().collect());
    list.binary_search(&raw.to_lowercase().as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rules_as_a_table() {
        let cases: &[(String, Result<(), PasswordError>, &str)] = &[
            ("correct horse battery".into(), Ok(()), "a passphrase"),
            ("Tr0ub4dor&3x".into(), Ok(()), "an uncommon password"),
            ("short7!".into(), Err(PasswordError::TooShort), "7 characters"),
            ("ééééééé".into(), Err(PasswordError::TooShort), "7 two-byte characters"),
            ("x".repeat(129), Err(PasswordError::TooLong), "129 characters"),
            ("x".repeat(128), Ok(()), "128 characters"),
            ("password".into(), Err(PasswordError::TooCommon), "the classic"),
            ("PassWord".into(), Err(PasswordError::TooCommon), "any case"),
            ("12345678".into(), Err(PasswordError::TooCommon), "digits"),
            ("qwertyuiop".into(), Err(PasswordError::TooCommon), "keyboard walk"),
            ("  spaces kept  ".into(), Ok(()), "not trimmed"),
        ];
        for (raw, want, why) in cases {
            assert_eq!(Password::parse(raw).map(|_| ()), *want, "{why}");
        }
    }

    #[test]
    fn the_shipped_list_is_large_and_sorted() {
        let list: Vec<&str> = COMMON.lines().collect();
        assert!(list.len() >= 10_000, "the contract asks for at least 10,000: {}", list.len());
        assert!(list.windows(2).all(|w| w[0] < w[1]), "binary search needs a sorted list");
    }

    #[test]
    fn debug_hides_the_value() {
        let p = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}
