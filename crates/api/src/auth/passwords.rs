//! Argon2id at one of OWASP's parameter sets (12 MiB, 3 passes, 1 lane;
//! see [`argon2`]). Each call costs tens of milliseconds of CPU, so the
//! handlers run them on the blocking pool ([`hash`], [`verify`]), at most
//! one per core at a time: more would only share the same cores, hold
//! 12 MiB each (64 at once are 768 MiB), and starve every other request of
//! CPU. A hash waits for its turn as a future, not on a blocking thread,
//! so a flood of sign-ins never takes the threads the queries need.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::Semaphore;

use crate::ApiError;

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

/// The per-core hashing turns, and the working memory of finished hashes
/// kept for the next one.
struct Slots {
    turns: Semaphore,
    waiting: AtomicUsize,
    /// Memory handed from a finished hash to a waiting one. Without it
    /// every verification maps 12 MiB afresh and faults in its 3,072 pages
    /// (the allocator returns such a block to the kernel on free), which
    /// cost a quarter of the sign-in rate. Kept only while hashes wait
    /// (`spare.len() <= waiting`), so an idle process holds none of it.
    spare: Mutex<Vec<Blocks>>,
}

fn slots() -> &'static Slots {
    static SLOTS: OnceLock<Slots> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Slots { turns: Semaphore::new(cores), waiting: AtomicUsize::new(0), spare: Mutex::new(Vec::new()) }
    })
}

fn spare() -> std::sync::MutexGuard<'static, Vec<Blocks>> {
    slots().spare.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` on the blocking pool once a hashing turn is free, with working
/// memory left by an earlier hash when there is some.
async fn in_turn<T: Send + 'static>(f: impl FnOnce(&mut Blocks) -> T + Send + 'static) -> Result<T, ApiError> {
    let slots = slots();
    slots.waiting.fetch_add(1, Ordering::SeqCst);
    let turn = slots.turns.acquire().await;
    slots.waiting.fetch_sub(1, Ordering::SeqCst);
    let _turn = turn.map_err(ApiError::internal)?;
    let mut blocks = spare().pop().unwrap_or_default();
    let (result, blocks) = crate::state::blocking(move || {
        let result = f(&mut blocks);
        (result, blocks)
    })
    .await?;
    let mut spare = spare();
    if spare.len() < slots.waiting.load(Ordering::SeqCst) {
        spare.push(blocks);
    } else {
        drop(spare);
        drop(blocks); // freed outside the lock
    }
    Ok(result)
}

/// Argon2id of `password` with a fresh salt, in the PHC string format.
pub async fn hash(password: String) -> Result<String, ApiError> {
    in_turn(move |blocks| hash_with(&password, blocks)).await?.map_err(ApiError::internal)
}

/// Checks `password` against `hash`, or, when there is no account, against
/// a hash of nothing in particular, so that an unknown e-mail costs the
/// same time as a wrong password and timing does not tell who exists.
pub async fn verify(password: String, hash: Option<String>) -> Result<bool, ApiError> {
    in_turn(move |blocks| match hash {
        Some(hash) => verify_with(&password, &hash, blocks),
        None => {
            verify_with(&password, dummy(), blocks);
            false
        }
    })
    .await
}

/// The hash an unknown e-mail is checked against; [`warm_up`] makes it
/// before the first sign-in.
fn dummy() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("steward-dummy-password").expect("hash a constant"))
}

/// Makes the dummy hash (call once at start-up, off the start-up path).
pub fn warm_up() {
    dummy();
}

/// [`hash`] for callers without a runtime (the CLI): on this thread, on
/// memory of its own.
pub fn hash_password(password: &str) -> Result<String, argon2::password_hash::Error> {
    hash_with(password, &mut Vec::new())
}

/// [`verify`] of an existing hash, on this thread, on memory of its own.
pub fn verify_password(password: &str, hash: &str) -> bool {
    verify_with(password, hash, &mut Vec::new())
}

/// Runs `argon2` on `blocks`, grown to what its parameters need.
fn compute(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
    blocks: &mut Blocks,
) -> argon2::Result<()> {
    let needed = argon2.params().block_count();
    if blocks.len() < needed {
        blocks.resize(needed, Block::new());
    }
    argon2.hash_password_into_with_memory(password, salt, out, &mut blocks[..needed])
}

/// What the crate's `PasswordHasher::hash_password` makes, on `blocks`.
fn hash_with(password: &str, blocks: &mut Blocks) -> Result<String, argon2::password_hash::Error> {
    let argon2 = argon2();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt.as_salt().decode_b64(&mut salt_bytes)?;
    let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
        compute(&argon2, password.as_bytes(), salt_raw, out, blocks).map_err(Into::into)
    })?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(hash.to_string())
}

/// What the crate's `PasswordVerifier::verify_password` does, on `blocks`:
/// the parameters, salt and output length come from the stored hash, and
/// the outputs are compared in constant time (`Output`'s `==`).
fn verify_with(password: &str, hash: &str, blocks: &mut Blocks) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(parsed.algorithm), Params::try_from(&parsed)) else {
        return false;
    };
    let Ok(version) = parsed.version.map_or(Ok(Version::default()), Version::try_from) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params);
    Output::init_with(expected.len(), |out| {
        compute(&argon2, password.as_bytes(), salt, out, blocks).map_err(Into::into)
    })
    .is_ok_and(|computed| computed == expected)
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
            let hash = argon2::PasswordHasher::hash_password(&argon2, b"pw one", &salt).unwrap().to_string();
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

    #[actix_web::test]
    async fn the_async_calls_agree_with_the_sync_ones_and_keep_memory_only_while_hashes_wait() {
        let hash = hash("pw one".into()).await.unwrap();
        assert!(verify_password("pw one", &hash));
        let checks = (0..6).map(|i| verify(if i % 2 == 0 { "pw one" } else { "pw two" }.into(), Some(hash.clone())));
        let results = futures_util::future::join_all(checks).await;
        assert_eq!(
            results.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            [true, false, true, false, true, false]
        );
        assert!(!verify("pw one".into(), None).await.unwrap(), "no account: never true");
        // Other tests may be hashing meanwhile: the invariant, not zero.
        assert!(spare().len() <= slots().waiting.load(Ordering::SeqCst), "memory kept only for hashes that wait");
    }
}
