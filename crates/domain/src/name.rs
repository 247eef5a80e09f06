use crate::text::{checked_text, TextError};

/// The longest name, in characters (Unicode scalar values), after trimming.
pub const NAME_MAX_CHARS: usize = 100;

/// A first or last name: trimmed of Unicode white space, 1 to 100
/// characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, TextError> {
        checked_text(raw, NAME_MAX_CHARS).map(|name| Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl AsRef<str> for PersonName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_rules_as_a_table() {
        let long = "a".repeat(101);
        let longest = "é".repeat(100);
        let cases: &[(&str, Result<&str, TextError>, &str)] = &[
            ("Ada", Ok("Ada"), "a plain name is kept"),
            ("  Ada \t", Ok("Ada"), "ASCII white space is trimmed"),
            ("\u{3000}Ada\u{a0}", Ok("Ada"), "Unicode white space is trimmed"),
            ("Mary Ann", Ok("Mary Ann"), "inner spaces stay"),
            ("", Err(TextError::Empty), "empty is refused"),
            ("   ", Err(TextError::Empty), "blank is refused"),
            (&long, Err(TextError::TooLong(100)), "101 characters are refused"),
            (&longest, Ok(&longest), "100 two-byte characters are allowed"),
            ("Ad\u{0}a", Err(TextError::ControlChar), "NUL is refused"),
            ("Ad\na", Err(TextError::ControlChar), "an inner newline is refused"),
            ("Ad\u{7f}a", Err(TextError::ControlChar), "DEL is refused"),
            ("Ad\u{85}a", Err(TextError::ControlChar), "C1 controls are refused"),
        ];
        for (raw, want, why) in cases {
            let got = PersonName::parse(raw);
            assert_eq!(got.as_ref().map(PersonName::as_str).map_err(|e| *e), *want, "{why}");
        }
    }
}
