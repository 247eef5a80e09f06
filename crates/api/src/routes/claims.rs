//! C2: taking over. A manager issues a claim code for a managed user; the
//! person redeems it and the user becomes their account, in place.
//!
//! Decisions where the contract is silent:
//! - The code: see `domain::claim` (140 random bits from the OS, 28
//!   Crockford base32 characters; case, spaces and hyphens ignored, I/L
//!   read as 1 and O as 0).
//! - Its hash: HMAC-SHA256 of the code's normal form under a key derived
//!   (HKDF-SHA256, [`KEY_INFO`]) from the token-signing secret. A fast
//!   keyed hash suits a random 140-bit code (nothing to brute-force), and
//!   without the secret a stolen table matches nothing. Changing the
//!   secret voids every live code, as it ends every sign-in.
//! - `POST /auth/claim` answers a body's faults (422) before the throttle
//!   (429), as sign-in does; only a code that matches nothing live (the
//!   404) counts as a failed attempt, per client address under a key of
//!   its own (`domain::throttle::claim_client_key`, `Policy::CLIENT`): a
//!   409 or 422 needs a real code or none, and leaves the code valid. The
//!   code is looked up before the password is hashed (Argon2), so a failed
//!   attempt costs no Argon2; that timing tells only what the 404 says.
//! - Issuing with registration closed: 404 to a non-manager first, then
//!   403 to a manager who is not an admin (the contract's 404-before-403).

use actix_web::http::header::LOCATION;
use actix_web::{delete, post};
use actix_web::{web, HttpRequest, HttpResponse};
use domain::claim::{self, ClaimCode, CLAIM_CODE_ENTROPY_BYTES, CLAIM_CODE_LIFETIME};
use domain::throttle::{self, Policy};
use domain::EventType;
use hmac::{Hmac, Mac};
use persistence::{claims, StoreError};
use rand::RngCore;
use sha2::Sha256;

use crate::act::On;
use crate::auth::credentials::client_address;
use crate::dto::{ClaimCodeCreate, ClaimCodeResponse, ClaimRequest, UserResponse};
use crate::error::Resource;
use crate::extract::Json;
use crate::{ApiError, AppState, Caller};
use domain::access_log::{Action, Via};
use persistence::access_log::NewEntry;

/// HKDF's `info` for the claim-code hashing key: a key of its own, apart
/// from the signing key it comes from.
pub const KEY_INFO: &[u8] = b"steward/claim-code/hmac-sha256/v1";

/// The stored hash of a code as typed: HMAC-SHA256 of its normal form
/// under the key derived from `secret`.
pub fn code_hash(secret: &[u8], typed: &str) -> Vec<u8> {
    let mut key = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(None, secret).expand(KEY_INFO, &mut key).expect("32 bytes is a valid HKDF length");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(claim::normalize(typed).as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A new code, from the OS's CSPRNG.
fn new_code() -> ClaimCode {
    let mut random = [0u8; CLAIM_CODE_ENTROPY_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut random);
    ClaimCode::from_entropy(random)
}

/// Issue a claim code
///
/// A one-time code, valid 7 days, with which the person this managed user
/// is takes it over as their account. It replaces the user's previous
/// code. Shown only in this answer. By a manager; with registration
/// closed, only by an admin.
#[utoipa::path(
    tag = "users", operation_id = "issue_claim_code_api_v1_users__user_id__claim_code_post",
    params(("user_id" = String, Path)),
    request_body = ClaimCodeCreate,
    responses(
        (status = 201, description = "The code, shown only here", body = ClaimCodeResponse),
        (status = 403, description = "Registration is closed and the caller is not an admin", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[post("/users/{user_id}/claim-code")]
pub async fn issue_claim_code(
    caller: Caller,
    path: web::Path<String>,
    body: Json<ClaimCodeCreate>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let open = state.config.registration_open;
    let code = new_code();
    let hash = code_hash(&state.tokens.config().secret, code.as_str());
    let on = On::user(&path, Action::ClaimCodeIssue);
    let expires_at = state
        .db
        .write_as(&caller, body.into_inner(), on, move |c, access, new: ClaimCodeCreate| {
            // A claim must not mint an account that registration would refuse.
            if !open && !access.caller.admin {
                return Err(ApiError::Forbidden("Registration is closed: only an admin may issue a claim code"));
            }
            let expires_at = access.now + CLAIM_CODE_LIFETIME;
            claims::issue(c, access.subject.id, access.caller.id, &hash, new.keep_scopes.0, access.now, expires_at)?;
            Ok(expires_at)
        })
        .await?;
    Ok(HttpResponse::Created().json(ClaimCodeResponse { code: code.as_str().to_owned(), expires_at }))
}

/// Void the claim code
///
/// By a manager; also when there is none.
#[utoipa::path(
    tag = "users", operation_id = "void_claim_code_api_v1_users__user_id__claim_code_delete",
    params(("user_id" = String, Path)),
    responses(
        (status = 204, description = "No live code any more"),
        (status = 404, description = "User not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[delete("/users/{user_id}/claim-code")]
pub async fn void_claim_code(
    caller: Caller,
    path: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let on = On::user(&path, Action::ClaimCodeVoid);
    state.db.write_as(&caller, Ok(()), on, |c, access, ()| Ok(claims::void(c, access.subject.id)?)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Claim a managed user
///
/// Redeems a claim code: the managed user becomes an account in place
/// (same id, names, data), signing in with this e-mail and password. Its
/// former managers stop managing it and each keeps the code's scopes as a
/// share. No token. Failed attempts (unknown, used, voided or expired
/// codes) are throttled per client address.
#[utoipa::path(
    tag = "auth", operation_id = "claim_api_v1_auth_claim_post",
    request_body = ClaimRequest,
    responses(
        (status = 201, description = "The new account", body = UserResponse,
            headers(("Location" = String, description = "The account's URL"))),
        (status = 404, description = "Claim code not found", body = crate::dto::HttpErrorDoc),
        (status = 409, description = "Email already registered", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
        (status = 429, description = "Too many failed claims from this address", body = crate::dto::HttpErrorDoc,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
#[post("/auth/claim")]
pub async fn redeem_claim_code(
    req: HttpRequest,
    body: Json<ClaimRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let claim = body.into_inner()?;
    let key = throttle::claim_client_key(&client_address(&req, state.config.trust_forwarded_for));
    let secret = state.tokens.config().secret.clone();
    let now = persistence::now();

    // The throttle first, then the code's hash and lookup, in one hop.
    let (k, typed) = (key.clone(), claim.code.clone());
    let looked = state
        .db
        .run(move |c| {
            let failures = persistence::throttle::failures(c, &[k.as_str()])?;
            if let Some(wait) =
                failures.first().and_then(Option::as_ref).and_then(|f| Policy::CLIENT.retry_after(f, now))
            {
                return Ok(Err(wait));
            }
            let hash = code_hash(&secret, &typed);
            let live = claims::find_live(c, &hash, now)?.is_some();
            Ok(Ok(live.then_some(hash)))
        })
        .await?;
    let hash = match looked {
        Err(wait) => {
            // Round up: a client that waits Retry-After seconds gets through.
            let secs = (wait.num_milliseconds() + 999) / 1000;
            return Err(ApiError::TooManyRequests { retry_after_secs: secs.max(1) as u64 });
        }
        Ok(None) => return Err(failed(&state, key, now).await),
        Ok(Some(hash)) => hash,
    };

    let password_hash = crate::auth::hash(claim.password.expose().to_owned()).await?;
    let email = claim.email;
    let redeemed = state
        .db
        .write(move |c| {
            let given = claims::Credentials { email: &email, password_hash: &password_hash };
            // Outside the transaction: a 404 or 409 rolls all of it back.
            // The claim is the issuing manager's act on the user's data
            // (C3): its entry commits with it.
            let redeem = |c: &mut persistence::AnyConnection| {
                let redeemed = claims::redeem(c, &hash, &given, now)?;
                let entry = NewEntry::new(redeemed.user.id, &redeemed.issued_by, Action::UserClaim, Via::Manager, now);
                persistence::access_log::record(c, &entry)?;
                claim_events(c, &redeemed, now)?;
                Ok(redeemed)
            };
            match persistence::transaction(c, redeem) {
                Err(StoreError::NotFound) => Ok(None),
                other => other.map(Some),
            }
        })
        .await?;
    // A code that went meanwhile (a second redemption, a void) fails too.
    let Some(redeemed) = redeemed else {
        return Err(failed(&state, key, now).await);
    };
    Ok(HttpResponse::Created().insert_header((LOCATION, "/api/v1/auth/me")).json(UserResponse::from(&redeemed.user)))
}

/// A claim's events: `user.claimed`, then per former manager the share it
/// was given, changed or lost. No actor: the claim has no caller.
fn claim_events(
    c: &mut persistence::AnyConnection,
    redeemed: &claims::Redeemed,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), StoreError> {
    use domain::claim::Keep;
    let user = redeemed.user.id;
    let mut events =
        vec![crate::events::event(EventType::UserClaimed, user, None, &UserResponse::from(&redeemed.user))];
    let shares: Vec<domain::Share> = redeemed.changed.iter().map(|(_, s)| s.clone()).collect();
    let bodies = if shares.is_empty() {
        Vec::new()
    } else {
        let mut ids: Vec<domain::UserId> = shares.iter().flat_map(|s| [s.subject, s.grantee]).collect();
        ids.sort();
        ids.dedup();
        let people = persistence::shares::users_by_id(c, &ids)?;
        shares.iter().map(|s| crate::dto::ShareResponse::new(s, &people)).collect()
    };
    for ((plan, _), body) in redeemed.changed.iter().zip(&bodies) {
        let kind = match plan {
            Keep::Create(_) => EventType::ShareCreated,
            Keep::Replace(..) => EventType::ShareUpdated,
            Keep::Remove(_) | Keep::Nothing => EventType::ShareDeleted,
        };
        events.push(crate::events::event(kind, user, None, body));
    }
    persistence::events::append(c, &events, now)
}

/// Counts a failed claim for the client's key and gives its 404.
async fn failed(state: &AppState, key: String, now: chrono::DateTime<chrono::Utc>) -> ApiError {
    let counted = state
        .db
        .write(move |c| persistence::throttle::record_failure(c, &key, now, Policy::CLIENT.window_cutoff(now)))
        .await;
    match counted {
        Ok(_) => ApiError::NotFound(Resource::ClaimCode),
        Err(e) => e,
    }
}
