//! C5: the second factor. TOTP codes (RFC 6238: HMAC-SHA-1, 6 digits,
//! 30-second steps from the Unix epoch, a 160-bit secret) and recovery
//! codes, as pure functions: the clock and the randomness come from the
//! caller, so a test checks a code at any time it chooses.
//!
//! Where the contract is silent, this module decides:
//! - A code is checked against its step and one step either side, and only
//!   against steps later than the last one accepted ([`check_totp`]); the
//!   caller then takes the step by compare-and-set in the database, which
//!   is what makes "no code works twice" hold across sign-ins at once.
//! - A recovery code is 120 random bits as 24 Crockford base32 characters
//!   in four groups of six (`4f7q2m-9rtd4w-h3zn8p-c5vb1e`); typed, it is
//!   read as claim codes are ([`crate::claim::normalize`]: case, spaces and
//!   hyphens ignored, I and L as 1, O as 0).

use crate::claim::{encode, CROCKFORD};

/// A TOTP secret's length: 160 bits.
pub const SECRET_BYTES: usize = 20;
/// Seconds in a TOTP step.
pub const STEP_SECONDS: i64 = 30;
/// Digits in a TOTP code.
pub const DIGITS: usize = 6;
/// How many recovery codes a set holds.
pub const RECOVERY_CODES: usize = 10;
/// Random bytes a recovery code is made from: 120 bits.
pub const RECOVERY_CODE_ENTROPY_BYTES: usize = 15;
/// How long an enrollment waits for its confirmation.
pub const ENROLLMENT_LIFETIME: chrono::Duration = chrono::Duration::minutes(10);

const RFC4648: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const RECOVERY_CHARS: usize = 24;
const RECOVERY_GROUP: usize = 6;

/// A raw TOTP secret. Its `Debug` hides it: it never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; SECRET_BYTES]);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// The secret made of `random` (which must come from a CSPRNG).
    pub fn from_bytes(random: [u8; SECRET_BYTES]) -> TotpSecret {
        TotpSecret(random)
    }

    /// The secret stored as `raw`, when it has the right length.
    pub fn from_slice(raw: &[u8]) -> Option<TotpSecret> {
        raw.try_into().ok().map(TotpSecret)
    }

    pub fn as_bytes(&self) -> &[u8; SECRET_BYTES] {
        &self.0
    }

    /// RFC 4648 base32 without padding (160 bits are 32 characters, none
    /// needed): what authenticator apps read.
    pub fn base32(&self) -> String {
        encode(&self.0, RFC4648, SECRET_BYTES * 8 / 5, 0)
    }

    /// The secret of a base32 text (any case, no padding), for tests and
    /// clients that compute codes.
    pub fn from_base32(text: &str) -> Option<TotpSecret> {
        let (mut acc, mut bits, mut out) = (0u32, 0u32, Vec::with_capacity(SECRET_BYTES));
        for c in text.trim_end_matches('=').bytes() {
            let v = RFC4648.iter().position(|a| *a == c.to_ascii_uppercase())? as u32;
            acc = (acc << 5) | v;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        TotpSecret::from_slice(&out)
    }

    /// The `otpauth://` URI an authenticator app reads from a QR code.
    /// `issuer` must hold no `:` (the configuration checks it).
    pub fn otpauth_uri(&self, issuer: &str, email: &str) -> String {
        let issuer = percent_encode(issuer);
        format!(
            "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            percent_encode(email),
            self.base32(),
        )
    }

    fn totp(&self) -> totp_rs::Totp {
        // Skew 0: [`check_totp`] picks the steps itself, so that one already
        // used is never tried.
        totp_rs::Builder::new()
            .with_algorithm(totp_rs::Algorithm::SHA1)
            .with_digits(DIGITS as u8)
            .with_skew(0)
            .with_step_duration(STEP_SECONDS as u64)
            .with_secret(self.0)
            .build()
            .expect("a 160-bit secret, 6 digits and 30 s steps are valid")
    }

    /// The code of the step holding `unix_seconds`.
    pub fn code_at(&self, unix_seconds: i64) -> String {
        self.totp().generate(unix_seconds.max(0) as u64).to_string()
    }
}

/// The step a time falls in.
pub fn step_of(unix_seconds: i64) -> i64 {
    unix_seconds.div_euclid(STEP_SECONDS)
}

/// Whether `code` is a TOTP code's shape: exactly 6 ASCII digits.
pub fn is_totp_shape(code: &str) -> bool {
    code.len() == DIGITS && code.bytes().all(|b| b.is_ascii_digit())
}

/// The step `code` is good for at `unix_seconds`: the current step or one
/// either side, later than `last_step` (the last one accepted on the
/// account), earliest first. `None`: a wrong, reused or malformed code.
pub fn check_totp(secret: &TotpSecret, code: &str, unix_seconds: i64, last_step: Option<i64>) -> Option<i64> {
    if !is_totp_shape(code) {
        return None;
    }
    let totp = secret.totp();
    let now = step_of(unix_seconds);
    (now - 1..=now + 1)
        .filter(|step| *step >= 0 && last_step.is_none_or(|last| *step > last))
        .find(|step| totp.check(code, (*step * STEP_SECONDS) as u64).is_some())
}

/// A fresh recovery code, as shown once. Its `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode(String);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode(..)")
    }
}

impl RecoveryCode {
    /// The code written from `random` (which must come from a CSPRNG).
    pub fn from_entropy(random: [u8; RECOVERY_CODE_ENTROPY_BYTES]) -> RecoveryCode {
        RecoveryCode(encode(&random, CROCKFORD, RECOVERY_CHARS, RECOVERY_GROUP))
    }

    /// As shown: grouped, lowercase.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The normal form of a recovery code as typed (what is hashed), when it
/// can be one: 24 characters of the alphabet once case, spaces and hyphens
/// are set aside. Anything else matches no code.
pub fn recovery_normal_form(typed: &str) -> Option<String> {
    let normal = crate::claim::normalize(typed);
    let fits = normal.len() == RECOVERY_CHARS && normal.bytes().all(|b| CROCKFORD.contains(&b.to_ascii_lowercase()));
    fits.then_some(normal)
}

/// Percent-encodes all but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238's appendix B: the SHA-1 secret is "12345678901234567890".
    const RFC_SECRET: [u8; 20] = *b"12345678901234567890";

    #[test]
    fn codes_are_rfc_6238s() {
        let s = TotpSecret::from_bytes(RFC_SECRET);
        // The RFC's 8-digit values, cut to their last 6 digits.
        for (t, code) in
            [(59, "287082"), (1_111_111_109, "081804"), (1_234_567_890, "005924"), (2_000_000_000, "279037")]
        {
            assert_eq!(s.code_at(t), code, "at {t}");
        }
    }

    #[test]
    fn a_code_is_good_one_step_either_side_and_not_two() {
        let s = TotpSecret::from_bytes([7; 20]);
        let t = 1_800_000_015; // inside step 60,000,000
        let step = step_of(t);
        let code = s.code_at(t);
        assert_eq!(check_totp(&s, &code, t, None), Some(step));
        assert_eq!(check_totp(&s, &code, t - 30, None), Some(step), "one step early");
        assert_eq!(check_totp(&s, &code, t + 30, None), Some(step), "one step late");
        assert_eq!(check_totp(&s, &code, t + 60, None), None, "two steps late");
        assert_eq!(check_totp(&s, &code, t - 60, None), None, "two steps early");
    }

    #[test]
    fn no_step_at_or_before_the_last_accepted_one_is_tried() {
        let s = TotpSecret::from_bytes([9; 20]);
        let t = 1_800_000_000;
        let code = s.code_at(t);
        assert_eq!(check_totp(&s, &code, t, Some(step_of(t) - 1)), Some(step_of(t)));
        assert_eq!(check_totp(&s, &code, t, Some(step_of(t))), None, "used: never twice");
        let next = s.code_at(t + 30);
        assert_eq!(
            check_totp(&s, &next, t, Some(step_of(t))),
            Some(step_of(t) + 1),
            "the next step's code still works"
        );
    }

    #[test]
    fn only_six_ascii_digits_are_a_code() {
        let s = TotpSecret::from_bytes([1; 20]);
        let t = 1_800_000_000;
        let code = s.code_at(t);
        for bad in [format!(" {code}"), format!("{code}0"), code[..5].to_owned(), "+12345".into(), "١٢٣٤٥٦".into()]
        {
            assert_eq!(check_totp(&s, &bad, t, None), None, "{bad:?}");
        }
    }

    #[test]
    fn the_secret_is_base32_without_padding_and_reads_back() {
        let s = TotpSecret::from_bytes(RFC_SECRET);
        assert_eq!(s.base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(TotpSecret::from_base32(&s.base32().to_lowercase()), Some(s.clone()));
        assert_eq!(TotpSecret::from_base32("GEZD"), None, "too short");
        assert_eq!(format!("{s:?}"), "TotpSecret(..)");
    }

    #[test]
    fn the_uri_is_what_apps_read() {
        let s = TotpSecret::from_bytes(RFC_SECRET);
        assert_eq!(
            s.otpauth_uri("Steward Health", "ada+1@example.org"),
            "otpauth://totp/Steward%20Health:ada%2B1%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=Steward%20Health&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn recovery_codes_are_24_crockford_characters_in_four_groups() {
        let code = RecoveryCode::from_entropy([0xA5; 15]);
        let groups: Vec<&str> = code.as_str().split('-').collect();
        assert_eq!(groups.len(), 4, "{}", code.as_str());
        assert!(groups.iter().all(|g| g.len() == 6));
        assert_eq!(RecoveryCode::from_entropy([0; 15]).as_str(), "000000-000000-000000-000000");
        assert_eq!(RecoveryCode::from_entropy([0xFF; 15]).as_str(), "zzzzzz-zzzzzz-zzzzzz-zzzzzz");
        let typed = format!(" {} ", code.as_str().to_uppercase().replace('-', " "));
        assert_eq!(recovery_normal_form(&typed), recovery_normal_form(code.as_str()));
        assert!(recovery_normal_form(code.as_str()).is_some());
        assert_eq!(recovery_normal_form("123456"), None);
        assert_eq!(recovery_normal_form(&format!("{}u", &code.as_str()[1..])), None, "U is not in the alphabet");
        assert_eq!(format!("{code:?}"), "RecoveryCode(..)");
    }
}
