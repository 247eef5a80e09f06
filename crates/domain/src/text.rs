//! The one rule for the short texts people type: a person's first and last
//! names, an activity's name, a sport. Each type holding such a text parses
//! through [`checked_text`] with its own longest length, so the rule and its
//! errors cannot drift apart between them.

/// Why a text is refused. The messages are the ones the API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("String should have at least 1 character")]
    Empty,
    #[error("String should have at most {0} characters")]
    TooLong(usize),
    #[error("Value error, must not contain control characters")]
    ControlChar,
}

/// `raw` trimmed of Unicode white space, when what remains is 1 to
/// `max_chars` characters (Unicode scalar values) and holds no control
/// character (a NUL included).
pub(crate) fn checked_text(raw: &str, max_chars: usize) -> Result<&str, TextError> {
    // `str::trim` trims Unicode White_Space, as the contract asks.
    let text = raw.trim();
    match text.chars().count() {
        0 => Err(TextError::Empty),
        n if n > max_chars => Err(TextError::TooLong(max_chars)),
        _ if text.chars().any(char::is_control) => Err(TextError::ControlChar),
        _ => Ok(text),
    }
}
