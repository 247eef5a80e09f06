//! Part B: accounts and sign-in.

use actix_web::http::header::LOCATION;
use actix_web::{delete, get, post, put};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use domain::access_log::{Action, Via};
use domain::EventType;
use persistence::access_log::{self, NewEntry};
use persistence::{sessions, users};

use crate::act::On;
use crate::auth::{self, credentials, Caller};
use crate::dto::{AccountDelete, PasswordChange, RegisterRequest, TokenResponse, UserResponse};
use crate::events::{deleted, emit, event};
use crate::extract::{query_bools, Json};
use crate::{ApiError, AppState};

/// Register
///
/// Creates an account. When registration is closed, only an admin may.
#[utoipa::path(
    tag = "auth", operation_id = "register_api_v1_auth_register_post",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new account", body = UserResponse),
        (status = 401, description = "Registration is closed and no admin is signed in", body = crate::dto::HttpErrorDoc),
        (status = 403, description = "Registration is closed and the caller is not an admin", body = crate::dto::HttpErrorDoc),
        (status = 409, description = "Email already registered", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    )
)]
#[post("/auth/register")]
pub async fn register(
    req: HttpRequest,
    body: Json<RegisterRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.config.registration_open {
        let caller = Caller::extract(&req).await?;
        let admin = state.db.act_as(&caller, Ok(()), On::Caller, |_, access, ()| Ok(access.caller.admin)).await?;
        if !admin {
            return Err(ApiError::Forbidden("Registration is closed"));
        }
    }
    let new = body.into_inner()?;
    let hash = auth::hash(new.password.expose().to_owned()).await?;
    let user = state
        .db
        .write(move |c| {
            let account = users::NewAccount {
                email: &new.email,
                password_hash: &hash,
                first_name: new.first_name.as_ref(),
                last_name: new.last_name.as_ref(),
                admin: false,
            };
            let now = persistence::now();
            // The account and its event commit together.
            persistence::transaction(c, |c| {
                let user = users::create_account(c, &account, now)?;
                let registered = event(EventType::AccountRegistered, user.id, None, &UserResponse::from(&user));
                persistence::events::append(c, &[registered], now)?;
                Ok(user)
            })
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((LOCATION, "/api/v1/auth/me")).json(UserResponse::from(&user)))
}

/// Sign in
///
/// Exchanges an e-mail and password (the OAuth2 password form, or HTTP
/// Basic) for a token, also set as the `token` cookie. With a second
/// factor on, a code is needed too: the form's `otp` field or the `X-OTP`
/// header (a TOTP code or an unused recovery code). In these docs, use
/// "Try it out" here with `otp` (the `token` cookie then carries later
/// calls), or paste `access_token` into Authorize's bearer box: the
/// password box has no field for a code.
// No `security` is declared: the form alone signs in, and a generated
// client reads any declared scheme (even beside an empty requirement) as
// "this call needs an authenticated client", which for the call that makes
// one it cannot have. Basic is named in the description instead.
#[utoipa::path(
    tag = "auth", operation_id = "login_api_v1_auth_token_post",
    request_body(content = inline(TokenForm), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Incorrect email or password; or the second factor is required \
            (`error`: `mfa_required`, header `X-OTP: required`) or wrong (`mfa_invalid`)", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
        (status = 429, description = "Too many failed sign-ins, or too many wrong codes", body = crate::dto::HttpErrorDoc,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    params(("X-OTP" = Option<String>, Header, nullable = false,
        description = "A second factor's code, when not in the form's `otp`")),
)]
#[post("/auth/token")]
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut payload = payload.into_inner();
    let given = credentials::read(&req, &mut payload, state.config.body_limit).await?;
    let signed_in = credentials::sign_in(&state, &req, given).await?;
    let now = persistence::now();
    let issued = state
        .tokens
        .issue(signed_in.user.id, signed_in.session, now, signed_in.ends, signed_in.factor)
        .map_err(ApiError::internal)?;
    let cookie = auth::token_cookie(issued.token.clone(), issued.expires_in, state.config.cookie_secure);
    Ok(HttpResponse::Ok().cookie(cookie).json(TokenResponse {
        access_token: issued.token,
        token_type: "bearer",
        expires_in: issued.expires_in,
        recovery_codes_left: signed_in.recovery_codes_left,
    }))
}

/// The OAuth2 password form.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct TokenForm {
    /// The account's e-mail address.
    username: String,
    #[schema(format = Password)]
    password: String,
    /// A second factor's code (TOTP or recovery), when the account has one on.
    #[schema(nullable = false)]
    otp: Option<String>,
}

#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogoutQuery {
    /// Revoke every sign-in of the caller.
    #[param(default = false, required = false)]
    pub all: bool,
}

/// Sign out
///
/// Revokes the sign-in the token descends from, or with `all=true` every
/// sign-in of the caller, and clears the cookie.
#[utoipa::path(
    tag = "auth", operation_id = "logout_api_v1_auth_logout_post",
    params(LogoutQuery),
    responses(
        (status = 204, description = "Signed out"),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(caller: Caller, req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let query = query_bools(&req, [("all", false)]);
    state
        .db
        .write_as(&caller, query, On::Caller, |c, access, [all]| {
            let (me, now) = (access.caller.id, access.now);
            if all {
                sessions::revoke_all(c, me, None, now)?;
            } else {
                sessions::revoke(c, me, access.session, now)?;
            }
            Ok(())
        })
        .await?;
    auth::cancel_refresh(&req);
    Ok(HttpResponse::NoContent().cookie(auth::cleared_cookie(state.config.cookie_secure)).finish())
}

/// Change password
///
/// Sets a new password and revokes every other sign-in of the caller.
#[utoipa::path(
    tag = "auth", operation_id = "change_password_api_v1_auth_password_put",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "The current password is wrong", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[put("/auth/password")]
pub async fn change_password(
    caller: Caller,
    body: Json<PasswordChange>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    // Argon2 runs between reading the hash and writing the new one, off
    // the blocking pool: two hops, each authenticating the caller, so a
    // sign-in revoked meanwhile stops the change.
    let change =
        check_password(&state, &caller, body.into_inner(), |c: &PasswordChange| c.current_password.clone()).await?;
    let hash = auth::hash(change.new_password.expose().to_owned()).await?;
    state
        .db
        .write_as(&caller, Ok(()), On::Caller, move |c, access, ()| {
            let me = access.caller.id;
            users::set_password_hash(c, me, &hash)?;
            Ok(sessions::revoke_all(c, me, Some(access.session), access.now)?)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The request's input, once the caller is authenticated, the input valid
/// and the password it gives (`password` of it) the account's; 403 when
/// the password is wrong.
pub(crate) async fn check_password<I: Send + 'static>(
    state: &AppState,
    caller: &Caller,
    input: Result<I, ApiError>,
    password: impl FnOnce(&I) -> String + Send + 'static,
) -> Result<I, ApiError> {
    let (input, given, hash) = state
        .db
        .act_as(caller, input, On::Caller, move |c, access, input| {
            let given = password(&input);
            Ok((input, given, users::password_hash(c, access.caller.id)?))
        })
        .await?;
    if auth::verify(given, hash).await? {
        Ok(input)
    } else {
        Err(ApiError::Forbidden("Incorrect password"))
    }
}

/// Who am I
#[utoipa::path(
    tag = "auth", operation_id = "read_me_api_v1_auth_me_get",
    responses(
        (status = 200, description = "The caller's account", body = UserResponse),
    ),
    security(("HTTPBearer" = []))
)]
#[get("/auth/me")]
pub async fn read_me(caller: Caller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let me = state.db.act_as(&caller, Ok(()), On::Caller, |_, access, ()| Ok(access.caller.clone())).await?;
    Ok(HttpResponse::Ok().json(UserResponse::from(&me)))
}

/// Delete my account
///
/// Deletes the caller's account and every user it manages alone, with all
/// of their data, in one transaction; the users it manages with others
/// stay, with one manager fewer.
#[utoipa::path(
    tag = "auth", operation_id = "delete_me_api_v1_auth_me_delete",
    request_body = AccountDelete,
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The password is wrong", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
#[delete("/auth/me")]
pub async fn delete_me(
    caller: Caller,
    req: HttpRequest,
    body: Json<AccountDelete>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    check_password(&state, &caller, body.into_inner(), |d: &AccountDelete| d.password.clone()).await?;
    state
        .db
        .write_as(&caller, Ok(()), On::Caller, |c, access, ()| {
            let me = access.caller.id;
            let done = users::delete_account(c, me, access.now)?;
            // The access log of each user that stays (C3): it left them as
            // their manager and as their grantee.
            let entry = |user, action, via| NewEntry::new(user, &access.caller, action, via, access.now);
            let entries: Vec<NewEntry> = (done.left.iter().map(|(u, _)| entry(*u, Action::ManagerLeave, Via::Manager)))
                .chain(done.shares_left.iter().map(|u| entry(*u, Action::ShareDelete, Via::Share)))
                .collect();
            access_log::record_departed(c, &entries)?;
            // Who left the users it co-managed: the account as it was.
            let left = |since| crate::dto::Manager::new(&access.caller, since);
            let events =
                done.removed.iter().map(|u| deleted(EventType::UserDeleted, *u, Some(me))).chain(
                    done.left.iter().map(|(u, since)| event(EventType::ManagerLeft, *u, Some(me), &left(*since))),
                );
            emit(c, access, events)
        })
        .await?;
    auth::cancel_refresh(&req);
    Ok(HttpResponse::NoContent().cookie(auth::cleared_cookie(state.config.cookie_secure)).finish())
}
