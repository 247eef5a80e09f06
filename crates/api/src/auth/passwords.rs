//! Argon2id at one of OWASP's parameter sets (12 MiB, 3 passes, 1 lane;
//! see [`argon2`]). Each call costs tens of milliseconds of CPU, so the
//! handlers ([`hash`], [`verify`]) queue them for a thread per core
//! (`hashers`): more at once would only share the same cores, hold 12 MiB
//! each (64 at once are 768 MiB), and starve every other request of CPU.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::ApiError;

/// Argon2's working memory: 12,288 blocks of 1 KiB at Steward's parameters.
type Blocks = Vec<Block>;

/// Memory in KiB, passes, lanes of new hashes.
const PARAMS: (u32, u32, u32) = (12 * 1024, 3, 1);

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

/// A hash to compute, on a hasher's working memory.
type Job = Box<dyn FnOnce(&mut Blocks) + Send>;

/// The hashers: one thread per core, each taking the next queued hash the
/// moment it finishes one. (A turn handed from one request's future to the
/// next left each core idle between hashes while the async workers, short
/// of CPU under a sign-in flood, got round to passing it on: sign-ins ran
/// at 0.75-0.8 of the bare Argon2id rate.) Requests wait for their result
/// as futures, so a flood of sign-ins holds no thread that queries need.
struct Hashers {
    jobs: Mutex<mpsc::Sender<Job>>,
    queued: Arc<AtomicUsize>,
}

fn hashers() -> &'static Hashers {
    static HASHERS: OnceLock<Hashers> = OnceLock::new();
    HASHERS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (tx, rx) = mpsc::channel::<Job>();
        let (rx, queued) = (Arc::new(Mutex::new(rx)), Arc::new(AtomicUsize::new(0)));
        for i in 0..cores {
            let (rx, queued) = (Arc::clone(&rx), Arc::clone(&queued));
            std::thread::Builder::new()
                .name(format!("steward-argon2-{i}"))
                .spawn(move || hasher(&rx, &queued))
                .expect("start a hashing thread");
        }
        Hashers { jobs: Mutex::new(tx), queued }
    })
}

/// One hasher's loop. Its working memory is kept from one hash to the next
/// while hashes are queued: without that every verification maps 12 MiB
/// afresh and faults in its 3,072 pages (the allocator returns such a
/// block to the kernel on free), which cost a quarter of the sign-in rate.
/// When the queue is empty the memory goes, so an idle process holds none.
fn hasher(jobs: &Mutex<mpsc::Receiver<Job>>, queued: &AtomicUsize) {
    let mut blocks = Blocks::new();
    loop {
        let job = match jobs.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        queued.fetch_sub(1, Ordering::SeqCst);
        // A panicking hash answers its request with a 500 (its result
        // sender is dropped) and leaves the hasher running.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut blocks)));
        if queued.load(Ordering::SeqCst) == 0 {
            blocks = Blocks::new();
        }
    }
}

/// Argon2id runs (hashes and verifications) this process has started on
/// its hashers: `steward_argon2_runs_total`, so an operator sees what
/// sign-ins cost, and a test that a sign-in with a code costs one.
static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many Argon2id runs this process has started (see `RUNS`).
pub fn runs() -> u64 {
    RUNS.load(Ordering::Relaxed)
}

/// Runs `f` on a hasher, in turn with the other hashes.
async fn in_turn<T: Send + 'static>(f: impl FnOnce(&mut Blocks) -> T + Send + 'static) -> Result<T, ApiError> {
    RUNS.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |blocks| {
        let _ = tx.send(f(blocks));
    });
    let hashers = hashers();
    hashers.queued.fetch_add(1, Ordering::SeqCst);
    let sent = hashers.jobs.lock().unwrap_or_else(|e| e.into_inner()).send(job);
    if sent.is_err() {
        hashers.queued.fetch_sub(1, Ordering::SeqCst);
        return Err(ApiError::internal("the hashing threads are gone"));
    }
    rx.await.map_err(|_| ApiError::internal("a password hash failed"))
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
    async fn the_async_calls_agree_with_the_sync_ones() {
        let hash = hash("pw one".into()).await.unwrap();
        assert!(verify_password("pw one", &hash));
        let checks = (0..6).map(|i| verify(if i % 2 == 0 { "pw one" } else { "pw two" }.into(), Some(hash.clone())));
        let results = futures_util::future::join_all(checks).await;
        assert_eq!(
            results.into_iter().map(Result::unwrap).collect::<Vec<_>>(),
            [true, false, true, false, true, false]
        );
        assert!(!verify("pw one".into(), None).await.unwrap(), "no account: never true");
        // Only this test queues hashes in this binary; each is counted out
        // when a hasher takes it, before its answer is sent.
        assert_eq!(hashers().queued.load(Ordering::SeqCst), 0, "nothing left counted as queued");
    }
}
