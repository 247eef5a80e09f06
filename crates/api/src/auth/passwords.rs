//! Argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane: the `argon2`
//! crate's defaults). Each call costs tens of milliseconds of CPU, so the
//! handlers run them on the blocking pool.

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string())
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// Checks `password` against `hash`, or, when there is no account, against
/// a hash of nothing in particular, so that an unknown e-mail costs the
/// same time as a wrong password and timing does not tell who exists.
pub fn verify_password_or_dummy(password: &str, hash: Option<&str>) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    match hash {
        Some(hash) => verify_password(password, hash),
        None => {
            let dummy = DUMMY.get_or_init(|| hash_password("steward-dummy-password").expect("hash a constant"));
            verify_password(password, dummy);
            false
        }
    }
}
