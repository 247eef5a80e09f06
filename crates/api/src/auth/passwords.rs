//! Argon2id at one of OWASP's parameter sets (12 MiB, 3 passes, 1 lane;
//! see [`argon2`]). Each call costs tens of milliseconds of CPU, so the
//! handlers run them on the blocking pool, and at most one per core at a
//! time: more would only share the same cores, hold 12 MiB each (64 at
//! once are 768 MiB), and starve every other request of CPU.

use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Argon2's working memory: 12,288 blocks of 1 KiB at Steward's parameters.
type Blocks = Vec<Block>;

/// Memory in KiB, passes, lanes of new hashes.
pub const PARAMS: (u32, u32, u32) = (12 * 1024, 3, 1);

/// The hasher for new passwords. OWASP's cheat sheet lists m=19 MiB t=2,
/// m=12 MiB t=3, m=9 MiB t=4 (1 lane each) as equal in the defence they
/// give; Steward takes 12 MiB x 3: the same CPU per hash as 19 x 2, and a
/// third less memory for each hash in flight, which is what bounds the
/// process's peak under a sign-in flood (one hash per core). Hashes made
/// with other parameters (the crate's default, 19 MiB x 2) still verify:
/// the stored hash names its own.
pub fn argon2() -> Argon2<'static> {
    let (m, t, p) = PARAMS;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(m, t, p, None).expect("valid Argon2 parameters"))
}

/// The per-core hashing slots, and the working memory of finished hashes
/// kept for the next one.
struct Slots {
    state: Mutex<SlotState>,
    freed: Condvar,
}

struct SlotState {
    free: usize,
    waiting: usize,
    /// Memory handed from a finished hash to a waiting one. Without it
    /// every verification maps 12 MiB afresh and faults in its 3,072 pages
    /// (the allocator returns such a block to the kernel on free), which
    /// cost a quarter of the sign-in rate. Kept only while hashes queue,
    /// so an idle process holds none of it.
    spare: Vec<Blocks>,
}

fn slots() -> &'static Slots {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Slots { state: Mutex::new(SlotState { free: cores, waiting: 0, spare: Vec::new() }), freed: Condvar::new() }
    })
}

fn lock(slots: &Slots) -> MutexGuard<'_, SlotState> {
    slots.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` once one of the per-core hashing slots is free, with working
/// memory left by an earlier hash when there is some.
fn with_hashing_slot<T>(f: impl FnOnce(&mut Blocks) -> T) -> T {
    let slots = slots();
    let blocks = {
        let mut state = lock(slots);
        state.waiting += 1;
        let mut state = slots.freed.wait_while(state, |s| s.free == 0).unwrap_or_else(|e| e.into_inner());
        state.waiting -= 1;
        state.free -= 1;
        state.spare.pop().unwrap_or_default()
    };
    // Gives the slot back even when `f` panics.
    struct Release<'a>(&'a Slots, Option<Blocks>);
    impl Drop for Release<'_> {
        fn drop(&mut self) {
            let mut state = lock(self.0);
            state.free += 1;
            let blocks = self.1.take();
            let unused = match blocks {
                // At most one spare per waiting hash: `spare.len() <= waiting`.
                Some(b) if state.spare.len() < state.waiting && !b.is_empty() => {
                    state.spare.push(b);
                    None
                }
                other => other,
            };
            drop(state);
            self.0.freed.notify_one();
            drop(unused); // freed outside the lock
        }
    }
    let mut release = Release(slots, Some(blocks));
    f(release.1.as_mut().expect("set just above"))
}

pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    with_hashing_slot(|_| Ok(argon2().hash_password(password.as_bytes(), &salt)?.to_string()))
}

/// What `PasswordVerifier::verify_password` does, on memory kept between
/// calls: the parameters, salt and output length come from the stored
/// hash, and the outputs are compared in constant time (`Output`'s `==`).
fn verify_with(password: &[u8], parsed: &PasswordHash<'_>, blocks: &mut Blocks) -> bool {
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm), Params::try_from(parsed)) else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::default()), Version::try_from) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let needed = params.block_count();
    if blocks.len() < needed {
        blocks.resize(needed, Block::new());
    }
    let argon2 = Argon2::new(algorithm, version, params);
    Output::init_with(expected.len(), |out| {
        argon2.hash_password_into_with_memory(password, salt, out, &mut blocks[..needed]).map_err(Into::into)
    })
    .is_ok_and(|computed| computed == expected)
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .is_ok_and(|parsed| with_hashing_slot(|blocks| verify_with(password.as_bytes(), &parsed, blocks)))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_what_it_hashed_and_nothing_else() {
        let hash = hash_password("correct horse battery staple").unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery staple", &hash));
        assert!(!verify_password("correct horse battery stapler", &hash));
        assert!(!verify_password("", &hash));
    }

    #[test]
    fn verifies_hashes_made_with_other_parameters_on_reused_memory() {
        // Smaller and larger memory than the kept blocks, another variant
        // and version: each answered as the argon2 crate's own verifier does.
        let salt = SaltString::generate(&mut OsRng);
        for (algorithm, version, m) in [
            (Algorithm::Argon2id, Version::V0x13, 8_192),
            (Algorithm::Argon2id, Version::V0x13, 19_456),
            (Algorithm::Argon2id, Version::V0x13, 32_768),
            (Algorithm::Argon2i, Version::V0x10, 4_096),
            (Algorithm::Argon2d, Version::V0x13, 19_456),
        ] {
            let argon2 = Argon2::new(algorithm, version, Params::new(m, 2, 1, None).unwrap());
            let hash = argon2.hash_password(b"pw one", &salt).unwrap().to_string();
            for _ in 0..2 {
                assert!(verify_password("pw one", &hash), "{hash}");
                assert!(!verify_password("pw two", &hash), "{hash}");
            }
        }
    }

    #[test]
    fn refuses_what_is_not_a_whole_hash() {
        let hash = hash_password("pw one").unwrap();
        let without_output = hash.rsplit_once('$').unwrap().0;
        for bad in
            ["", "plain", "$argon2id$v=19$m=19456,t=2,p=1$", without_output, "$scrypt$ln=4,r=8,p=1$c2FsdA$aGFzaA"]
        {
            assert!(!verify_password("pw one", bad), "{bad}");
        }
    }

    #[test]
    fn keeps_memory_only_while_hashes_queue() {
        let hash = hash_password("pw one").unwrap();
        let threads: Vec<_> = (0..6)
            .map(|_| {
                let hash = hash.clone();
                std::thread::spawn(move || assert!(verify_password("pw one", &hash)))
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // Other tests may be hashing meanwhile: the invariant, not zero.
        let state = lock(slots());
        assert!(state.spare.len() <= state.waiting, "memory kept only for hashes that wait");
    }
}
