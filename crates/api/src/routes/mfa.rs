//! C5: the caller's second factor (TOTP and recovery codes).
//!
//! Decisions where the contract is silent:
//! - Order on `recovery-codes` and `DELETE /auth/mfa`: 401, 422, the
//!   factor off (404, before any hashing), the password (403 "Incorrect
//!   password"; the code is not looked at), the code throttle (429), the
//!   code (403 "Incorrect code", counted).
//! - Confirm: 404 without a live enrollment, 409 when the factor is on,
//!   then the code throttle and the code.
//! - Every change of the factor takes the account's row first
//!   (`managers::lock_users`, PostgreSQL), as sign-in's last hop does.
//! - A wrong code's count commits although the answer is a refusal: the
//!   hop's closure returns the refusal as its value.

use actix_web::{delete, get, post, web, HttpResponse};
use domain::mfa::ENROLLMENT_LIFETIME;
use domain::sign_in::SecondFactor;
use persistence::mfa::Factor;
use persistence::{managers, mfa as store, sessions};

use crate::act::{Access, On};
use crate::auth::mfa::{self, MfaKey};
use crate::dto::{Mfa, MfaCheck, RecoveryCodes, TotpConfirm, TotpEnroll, TotpEnrollment};
use crate::error::Resource;
use crate::extract::Json;
use crate::routes::auth::check_password;
use crate::{ApiError, AppState, Caller};

const WRONG_CODE: ApiError = ApiError::Forbidden("Incorrect code");

/// The second factor
#[utoipa::path(
    tag = "auth", operation_id = "read_mfa_api_v1_auth_mfa_get",
    responses((status = 200, description = "The caller's second factor", body = Mfa)),
    security(("HTTPBearer" = []))
)]
#[get("/auth/mfa")]
pub async fn read_mfa(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mfa = state
        .db
        .act_as(&caller, Ok(()), On::Caller, |c, access, ()| {
            let me = access.caller.id;
            let enabled_at = store::find(c, me)?.and_then(|f| f.enabled_at);
            let left = if enabled_at.is_some() { store::recovery_codes_left(c, me)? } else { 0 };
            Ok(Mfa { totp: enabled_at.is_some(), enabled_at, recovery_codes_left: left })
        })
        .await?;
    Ok(HttpResponse::Ok().json(mfa))
}

/// Start a TOTP enrollment
///
/// A new secret, shown only here, to confirm within 10 minutes; starting
/// again replaces it.
#[utoipa::path(
    tag = "auth", operation_id = "enroll_totp_api_v1_auth_mfa_totp_post",
    request_body = TotpEnroll,
    responses(
        (status = 201, description = "The pending secret", body = TotpEnrollment),
        (status = 403, description = "The password is wrong", body = crate::dto::HttpErrorDoc),
        (status = 409, description = "The second factor is already on", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[post("/auth/mfa/totp")]
pub async fn enroll_totp(
    caller: Caller,
    body: Json<TotpEnroll>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_password(&state, &caller, body.into_inner(), |b: &TotpEnroll| b.password.clone()).await?;
    let secret = mfa::new_secret();
    let (key, issuer, shown) = (state.mfa_key.clone(), state.config.mfa_issuer.clone(), secret.clone());
    let (uri, expires_at) = state
        .db
        .write_as(&caller, Ok(()), On::Caller, move |c, access, ()| {
            let me = access.caller.id;
            managers::lock_users(c, &[me])?;
            let expires_at = access.now + ENROLLMENT_LIFETIME;
            if !store::start_enrollment(c, me, &key.seal(me, &secret), expires_at)? {
                return Err(ApiError::Conflict("second_factor"));
            }
            let email = access.caller.email.as_ref().map(|e| e.as_str().to_owned()).unwrap_or_default();
            Ok((secret.otpauth_uri(&issuer, &email), expires_at))
        })
        .await?;
    Ok(HttpResponse::Created().json(TotpEnrollment { secret: shown.base32(), otpauth_uri: uri, expires_at }))
}

/// Confirm the TOTP enrollment
///
/// A current code of the pending secret turns the factor on: every other
/// sign-in of the caller is revoked, and the caller's own counts as having
/// given it. Answers the first set of recovery codes.
#[utoipa::path(
    tag = "auth", operation_id = "confirm_totp_api_v1_auth_mfa_totp_confirm_post",
    request_body = TotpConfirm,
    responses(
        (status = 200, description = "On; the recovery codes, shown only here", body = RecoveryCodes),
        (status = 403, description = "Incorrect code", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "Enrollment not found", body = crate::dto::HttpErrorDoc),
        (status = 409, description = "The second factor is already on", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
        (status = 429, description = "Too many wrong codes", body = crate::dto::HttpErrorDoc,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("HTTPBearer" = []))
)]
#[post("/auth/mfa/totp/confirm")]
pub async fn confirm_totp(
    caller: Caller,
    body: Json<TotpConfirm>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let key = state.mfa_key.clone();
    let codes = state
        .db
        .write_as(&caller, body.into_inner(), On::Caller, move |c, access, body: TotpConfirm| {
            let (me, now) = (access.caller.id, access.now);
            managers::lock_users(c, &[me])?;
            let factor = store::find(c, me)?;
            match &factor {
                Some(f) if f.is_on() => return Err(ApiError::Conflict("second_factor")),
                Some(f) if f.is_live_enrollment(now) => {}
                _ => return Err(ApiError::NotFound(Resource::Enrollment)),
            }
            let factor = factor.expect("matched above");
            if let Some(secs) = mfa::code_wait(c, me, now)? {
                return Err(ApiError::TooManyCodes { retry_after_secs: secs });
            }
            let secret = key.open(me, &factor.secret_sealed)?;
            let step = domain::mfa::check_totp(&secret, &body.code, now.timestamp(), factor.last_step);
            let Some(step) = step else {
                mfa::count(c, me, false, now)?;
                return Ok(Err(WRONG_CODE));
            };
            if !store::confirm(c, me, step, now)? {
                return Err(ApiError::Conflict("second_factor"));
            }
            mfa::count(c, me, true, now)?;
            let (shown, hashes) = mfa::new_recovery_codes();
            store::replace_recovery_codes(c, me, &hashes)?;
            sessions::revoke_all(c, me, Some(access.session), now)?;
            sessions::set_second_factor(c, access.session, SecondFactor::Totp)?;
            Ok(Ok(shown))
        })
        .await??;
    Ok(HttpResponse::Ok().json(RecoveryCodes { recovery_codes: codes }))
}

/// New recovery codes
///
/// A new set of 10; the old set is void.
#[utoipa::path(
    tag = "auth", operation_id = "new_recovery_codes_api_v1_auth_mfa_recovery_codes_post",
    request_body = MfaCheck,
    responses(
        (status = 200, description = "The new codes, shown only here", body = RecoveryCodes),
        (status = 403, description = "Incorrect password or code", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "Second factor not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
        (status = 429, description = "Too many wrong codes", body = crate::dto::HttpErrorDoc,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("HTTPBearer" = []))
)]
#[post("/auth/mfa/recovery-codes")]
pub async fn new_recovery_codes(
    caller: Caller,
    body: Json<MfaCheck>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let codes = with_password_and_code(&state, &caller, body.into_inner(), |c, access| {
        let (shown, hashes) = mfa::new_recovery_codes();
        store::replace_recovery_codes(c, access.caller.id, &hashes)?;
        Ok(shown)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RecoveryCodes { recovery_codes: codes }))
}

/// Turn the second factor off
///
/// Its secret and recovery codes are deleted, and every other sign-in of
/// the caller is revoked. `code` may be an unused recovery code, so a lost
/// phone does not lock anyone out.
#[utoipa::path(
    tag = "auth", operation_id = "delete_mfa_api_v1_auth_mfa_delete",
    request_body = MfaCheck,
    responses(
        (status = 204, description = "Off"),
        (status = 403, description = "Incorrect password or code", body = crate::dto::HttpErrorDoc),
        (status = 404, description = "Second factor not found", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
        (status = 429, description = "Too many wrong codes", body = crate::dto::HttpErrorDoc,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security(("HTTPBearer" = []))
)]
#[delete("/auth/mfa")]
pub async fn delete_mfa(
    caller: Caller,
    body: Json<MfaCheck>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    with_password_and_code(&state, &caller, body.into_inner(), |c, access| {
        let me = access.caller.id;
        store::delete(c, me, false)?;
        sessions::revoke_all(c, me, Some(access.session), access.now)?;
        Ok(())
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The factor of the caller when it is on; 404 otherwise.
fn factor_on(c: &mut persistence::AnyConnection, access: &Access) -> Result<Factor, ApiError> {
    store::find(c, access.caller.id)?.filter(Factor::is_on).ok_or(ApiError::NotFound(Resource::SecondFactor))
}

/// Runs `act` once the factor is on (404), the password right (403, two
/// hops around Argon2 as a password change takes), the code throttle open
/// (429) and the code good (403, counted): then in the code's transaction.
async fn with_password_and_code<T: Send + 'static>(
    state: &AppState,
    caller: &Caller,
    body: Result<MfaCheck, ApiError>,
    act: impl FnOnce(&mut persistence::AnyConnection, &Access) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let (body, given, hash) = state
        .db
        .act_as(caller, body, On::Caller, |c, access, body: MfaCheck| {
            factor_on(c, access)?;
            let given = body.password.clone();
            Ok((body, given, persistence::users::password_hash(c, access.caller.id)?))
        })
        .await?;
    if !crate::auth::verify(given, hash).await? {
        return Err(ApiError::Forbidden("Incorrect password"));
    }
    let key: MfaKey = state.mfa_key.clone();
    state
        .db
        .write_as(caller, Ok(()), On::Caller, move |c, access, ()| {
            let (me, now) = (access.caller.id, access.now);
            managers::lock_users(c, &[me])?;
            let factor = factor_on(c, access)?;
            if let Some(secs) = mfa::code_wait(c, me, now)? {
                return Err(ApiError::TooManyCodes { retry_after_secs: secs });
            }
            if mfa::check_code(c, &key, me, &factor, &body.code, now)?.is_none() {
                return Ok(Err(WRONG_CODE));
            }
            act(c, access).map(Ok)
        })
        .await?
}
