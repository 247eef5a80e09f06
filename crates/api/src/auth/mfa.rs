//! C5: the second factor's secrets and checks, shared by sign-in and the
//! `/auth/mfa` routes.
//!
//! Where the contract is silent:
//! - The secret is sealed with XChaCha20-Poly1305 (a random 24-byte nonce
//!   per seal, so nonces never repeat in practice) with the user's id as
//!   associated data: a sealed secret copied to another account's row
//!   does not open. The key is `MFA_ENCRYPTION_KEY` (32 bytes, as 64 hex
//!   digits), else HKDF-SHA256 of the token-signing secret with
//!   [`KEY_INFO`]. Changing it makes every stored secret unreadable (a
//!   logged 500 at the next code check): turn factors off with `steward
//!   mfa-off` first, or keep the key.
//! - Recovery codes are stored as plain SHA-256 of their normal form: each
//!   is 120 random bits, so a stolen hash cannot be searched back.
//! - A code check: 6 ASCII digits are a TOTP code, anything else is tried
//!   as a recovery code.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use domain::mfa::{self, RecoveryCode, TotpSecret, RECOVERY_CODES, RECOVERY_CODE_ENTROPY_BYTES, SECRET_BYTES};
use domain::sign_in::SecondFactor;
use domain::throttle::{self, Policy};
use domain::UserId;
use persistence::mfa::Factor;
use persistence::{AnyConnection, StoreError};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// HKDF's `info` for the key that seals TOTP secrets, when
/// `MFA_ENCRYPTION_KEY` is not set.
pub const KEY_INFO: &[u8] = b"steward/totp-secret/xchacha20poly1305/v1";

const NONCE_BYTES: usize = 24;

/// The key TOTP secrets are sealed with. Its `Debug` hides it.
#[derive(Clone)]
pub struct MfaKey([u8; 32]);

impl std::fmt::Debug for MfaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MfaKey(***)")
    }
}

impl MfaKey {
    pub fn from_bytes(key: [u8; 32]) -> MfaKey {
        MfaKey(key)
    }

    /// The key derived from the token-signing secret.
    pub fn derived_from(signing_secret: &[u8]) -> MfaKey {
        let mut key = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(None, signing_secret)
            .expand(KEY_INFO, &mut key)
            .expect("32 bytes is a valid HKDF length");
        MfaKey(key)
    }

    /// A key written as 64 hex digits.
    pub fn from_hex(text: &str) -> Option<MfaKey> {
        let text = text.trim();
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(MfaKey(key))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// `secret` sealed for `user`: nonce, then ciphertext and tag.
    pub fn seal(&self, user: UserId, secret: &TotpSecret) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(&XNonce::from(nonce), Payload { msg: secret.as_bytes(), aad: user.as_uuid().as_bytes() })
            .expect("sealing 20 bytes cannot fail");
        [nonce.as_slice(), &sealed].concat()
    }

    /// The secret sealed for `user`; a logged 500 when it does not open
    /// (another key, or a row altered by hand).
    pub fn open(&self, user: UserId, sealed: &[u8]) -> Result<TotpSecret, StoreError> {
        let corrupt = || StoreError::Corrupt("a stored TOTP secret does not open with MFA_ENCRYPTION_KEY".into());
        if sealed.len() < NONCE_BYTES {
            return Err(corrupt());
        }
        let (nonce, body) = sealed.split_at(NONCE_BYTES);
        let nonce = XNonce::from(<[u8; NONCE_BYTES]>::try_from(nonce).map_err(|_| corrupt())?);
        let raw = self
            .cipher()
            .decrypt(&nonce, Payload { msg: body, aad: user.as_uuid().as_bytes() })
            .map_err(|_| corrupt())?;
        TotpSecret::from_slice(&raw).ok_or_else(corrupt)
    }
}

/// A fresh secret from the OS's CSPRNG.
pub fn new_secret() -> TotpSecret {
    let mut raw = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    TotpSecret::from_bytes(raw)
}

/// The stored hash of a recovery code's normal form.
fn recovery_hash(normal: &str) -> Vec<u8> {
    Sha256::digest(normal.as_bytes()).to_vec()
}

/// A new set of recovery codes: as shown, and as stored.
pub fn new_recovery_codes() -> (Vec<String>, Vec<Vec<u8>>) {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut random = [0u8; RECOVERY_CODE_ENTROPY_BYTES];
            rand::rngs::OsRng.fill_bytes(&mut random);
            let code = RecoveryCode::from_entropy(random);
            let normal = mfa::recovery_normal_form(code.as_str()).expect("a made code is well formed");
            (code.as_str().to_owned(), recovery_hash(&normal))
        })
        .unzip()
}

/// Seconds `user` must still wait before a code is checked, when its
/// wrong codes have earned a wait (rounded up: a client that waits
/// `Retry-After` gets through).
pub fn code_wait(conn: &mut AnyConnection, user: UserId, now: DateTime<Utc>) -> Result<Option<u64>, StoreError> {
    let key = throttle::code_key(user);
    let failures = persistence::throttle::failures(conn, &[key.as_str()])?;
    let wait = failures.first().and_then(Option::as_ref).and_then(|f| Policy::CODE.retry_after(f, now));
    Ok(wait.map(|w| ((w.num_milliseconds() + 999) / 1000).max(1) as u64))
}

/// Checks `code` against `user`'s factor that is on at `now` and, when it
/// is good, uses it up: a TOTP code's step is taken by compare-and-set, a
/// recovery code deleted. The factor it was; `None` for a wrong, reused or
/// malformed code. Counts the failure, or clears the count on success.
pub fn check_code(
    conn: &mut AnyConnection,
    key: &MfaKey,
    user: UserId,
    factor: &Factor,
    code: &str,
    now: DateTime<Utc>,
) -> Result<Option<SecondFactor>, StoreError> {
    let used = if mfa::is_totp_shape(code) {
        let secret = key.open(user, &factor.secret_sealed)?;
        match mfa::check_totp(&secret, code, now.timestamp(), factor.last_step) {
            Some(step) if persistence::mfa::take_step(conn, user, step)? => Some(SecondFactor::Totp),
            _ => None,
        }
    } else {
        match mfa::recovery_normal_form(code) {
            Some(normal) if persistence::mfa::use_recovery_code(conn, user, &recovery_hash(&normal))? => {
                Some(SecondFactor::RecoveryCode)
            }
            _ => None,
        }
    };
    count(conn, user, used.is_some(), now)?;
    Ok(used)
}

/// Counts a wrong code for `user`, or clears the count after a good one.
pub fn count(conn: &mut AnyConnection, user: UserId, good: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
    let key = throttle::code_key(user);
    if good {
        persistence::throttle::clear(conn, &key)
    } else {
        persistence::throttle::record_failure(conn, &key, now, Policy::CODE.window_cutoff(now)).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_for_its_user_and_key_only() {
        let key = MfaKey::derived_from(b"a signing secret of at least 32 bytes..");
        let (ada, bob) = (UserId::new(), UserId::new());
        let secret = new_secret();
        let sealed = key.seal(ada, &secret);
        assert!(!sealed.windows(SECRET_BYTES).any(|w| w == secret.as_bytes()), "the raw secret is not in the row");
        assert_eq!(key.open(ada, &sealed).unwrap(), secret);
        assert!(key.open(bob, &sealed).is_err(), "another user's row");
        assert!(MfaKey::from_bytes([1; 32]).open(ada, &sealed).is_err(), "another key");
        assert_ne!(key.seal(ada, &secret), sealed, "a fresh nonce each time");
        assert_eq!(format!("{key:?}"), "MfaKey(***)");
    }

    #[test]
    fn a_configured_key_is_64_hex_digits() {
        assert!(MfaKey::from_hex(&"ab".repeat(32)).is_some());
        assert!(MfaKey::from_hex(&"ab".repeat(31)).is_none());
        assert!(MfaKey::from_hex(&"zz".repeat(32)).is_none());
        assert!(MfaKey::from_hex(&"é".repeat(32)).is_none());
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_hashed_by_their_normal_form() {
        let (shown, stored) = new_recovery_codes();
        assert_eq!(shown.len(), 10);
        assert_eq!(stored.iter().collect::<std::collections::HashSet<_>>().len(), 10);
        let typed = shown[0].to_uppercase().replace('-', " ");
        assert_eq!(recovery_hash(&mfa::recovery_normal_form(&typed).unwrap()), stored[0]);
    }
}
