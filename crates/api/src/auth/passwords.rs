//! Argon2id at OWASP's parameters (19 MiB, 2 passes, 1 lane: the `argon2`
//! crate's defaults). Each call costs tens of milliseconds of CPU, so the
//! handlers run them on the blocking pool, and at most one per core at a
//! time: more would only share the same cores, hold 19 MiB each (64 at
//! once are 1.2 GiB), and starve every other request of CPU.

use std::sync::{Condvar, Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

/// Runs `f` once one of the per-core hashing slots is free.
fn with_hashing_slot<T>(f: impl FnOnce() -> T) -> T {
    static SLOTS: OnceLock<(Mutex<usize>, Condvar)> = OnceLock::new();
    let (free, freed) = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (Mutex::new(cores), Condvar::new())
    });
    {
        let mut n = freed
            .wait_while(free.lock().unwrap_or_else(|e| e.into_inner()), |n| *n == 0)
            .unwrap_or_else(|e| e.into_inner());
        *n -= 1;
    }
    struct Release<'a>(&'a Mutex<usize>, &'a Condvar);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) += 1;
            self.1.notify_one();
        }
    }
    let _release = Release(free, freed);
    f()
}

pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    with_hashing_slot(|| Ok(Argon2::default().hash_password(password.as_bytes(), &salt)?.to_string()))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        with_hashing_slot(|| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
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
