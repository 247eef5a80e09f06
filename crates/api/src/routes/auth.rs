//! Part B: accounts and sign-in.

use actix_web::cookie::Cookie;
use actix_web::http::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION};
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use base64::Engine;
use domain::throttle::{self as throttle_key, Policy};
use domain::Email;
use persistence::{sessions, throttle, users};

use crate::auth::{self, Caller, TOKEN_COOKIE_NAME};
use crate::dto::{AccountDelete, PasswordChange, RegisterRequest, TokenResponse, UserResponse};
use crate::error::{Challenge, FieldError, Loc};
use crate::extract::{query_bools, Json};
use crate::validation::storable;
use crate::{ApiError, AppState};

const BAD_CREDENTIALS: ApiError =
    ApiError::Unauthorized { detail: "Incorrect email or password", challenge: Challenge::Basic };

/// Register
///
/// Creates an account. When registration is closed, only an admin may.
#[utoipa::path(
    post, path = "/api/v1/auth/register", tag = "auth", operation_id = "register_api_v1_auth_register_post",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "The new account", body = UserResponse),
        (status = 401, description = "Registration is closed and no admin is signed in", body = crate::dto::HttpErrorDoc),
        (status = 403, description = "Registration is closed and the caller is not an admin", body = crate::dto::HttpErrorDoc),
        (status = 409, description = "Email already registered", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    )
)]
pub async fn register(
    req: HttpRequest,
    body: Json<RegisterRequest>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    if !state.config.registration_open {
        let caller = Caller::extract(&req).await?;
        if !caller.user.admin {
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
            users::create_account(c, &account, persistence::now())
        })
        .await?;
    Ok(HttpResponse::Created().insert_header((LOCATION, "/api/v1/auth/me")).json(UserResponse::from(&user)))
}

/// The credentials of a sign-in: the OAuth2 password form's `username` and
/// `password` when the body is that form and has both, else HTTP Basic.
/// Beside the form, an OAuth2 client sends its own client credentials as
/// Basic (Swagger UI's default sends an empty `:`), so Basic never overrides
/// the form's.
async fn credentials(
    req: &HttpRequest,
    payload: &mut actix_web::dev::Payload,
    limit: usize,
) -> Result<(String, String), ApiError> {
    let basic = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, b64)| b64.trim().to_owned());
    let decode = |b64: String| -> Result<(String, String), ApiError> {
        let decoded = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| BAD_CREDENTIALS)?;
        let text = String::from_utf8(decoded).map_err(|_| BAD_CREDENTIALS)?;
        let (user, pass) = text.split_once(':').ok_or(BAD_CREDENTIALS)?;
        Ok((user.to_owned(), pass.to_owned()))
    };
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return match basic {
            Some(b64) => decode(b64),
            None => Err(ApiError::Unauthorized { detail: "Not authenticated", challenge: Challenge::Basic }),
        };
    }
    let form = web::Form::<Vec<(String, String)>>::from_request(req, payload).await.map_err(|e| {
        if e.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(limit)
        } else {
            ApiError::validation(vec![Loc::from("body")], "value_error", "Input should be a valid form body")
        }
    })?;
    let field = |name: &str| form.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let (username, password) = (field("username"), field("password"));
    if let (Some(username), Some(password)) = (&username, &password) {
        return Ok((username.clone(), password.clone()));
    }
    if let Some(b64) = basic {
        return decode(b64);
    }
    let mut errors = Vec::new();
    for (name, value) in [("username", &username), ("password", &password)] {
        if value.is_none() {
            errors.push(FieldError::new(vec![Loc::from("body"), Loc::from(name)], "missing", "Field required"));
        }
    }
    Err(ApiError::Validation(errors))
}

/// The client address used for throttling.
fn client_key(req: &HttpRequest, state: &AppState) -> String {
    let forwarded = state
        .config
        .trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned());
    let peer = req.peer_addr().map(|a| a.ip().to_string());
    throttle_key::client_key(&forwarded.or(peer).unwrap_or_else(|| "unknown".into()))
}

/// Sign in
///
/// Exchanges an e-mail and password (HTTP Basic, or the OAuth2 password
/// form) for a token, also set as the `token` cookie.
#[utoipa::path(
    post, path = "/api/v1/auth/token", tag = "auth", operation_id = "login_api_v1_auth_token_post",
    request_body(content = inline(TokenForm), content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Signed in", body = TokenResponse),
        (status = 401, description = "Incorrect email or password", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
        (status = 429, description = "Too many failed sign-ins", body = crate::dto::HttpErrorDoc,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
    security((), ("HTTPBasic" = []))
)]
pub async fn login(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut payload = payload.into_inner();
    let (username, password) = credentials(&req, &mut payload, state.config.body_limit).await?;
    if password.len() > 1024 {
        return Err(BAD_CREDENTIALS);
    }
    let normalized = Email::normalize(&username);
    let account_key = throttle_key::account_key(&normalized);
    let client_key = client_key(&req, &state);
    let now = persistence::now();
    // Text with a NUL can be no account's e-mail or password (no account
    // can be made with one) and cannot be looked up on PostgreSQL: it is
    // not looked up, and fails below like any wrong password, as slowly
    // and counted by the throttle.
    let possible = storable(&username) && storable(&password);

    let keys = [account_key.clone(), client_key.clone()];
    let (failures, found) = state
        .db
        .run(move |c| {
            let failures = throttle::failures(c, &[keys[0].as_str(), keys[1].as_str()])?;
            let found = if possible { users::find_account_by_email(c, &normalized)? } else { None };
            Ok((failures, found))
        })
        .await?;
    // Each key is judged by its own policy (`failures` keeps the order of
    // the keys asked for); the longest wait wins.
    let wait = failures
        .iter()
        .zip([Policy::ACCOUNT, Policy::CLIENT])
        .filter_map(|(f, p)| f.as_ref().and_then(|f| p.retry_after(f, now)))
        .max();
    if let Some(wait) = wait {
        // Round up: a client that waits Retry-After seconds must get through.
        let secs = (wait.num_milliseconds() + 999) / 1000;
        state.metrics.signin_throttled.inc();
        return Err(ApiError::TooManyRequests { retry_after_secs: secs.max(1) as u64 });
    }

    let (user, hash) = found.map_or((None, None), |(u, h)| (Some(u), Some(h)));
    let ok = auth::verify(password, hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        state
            .db
            .write(move |c| {
                throttle::record_failure(c, &account_key, now, Policy::ACCOUNT.window_cutoff(now))?;
                throttle::record_failure(c, &client_key, now, Policy::CLIENT.window_cutoff(now))
            })
            .await?;
        state.metrics.signin_failures.inc();
        return Err(BAD_CREDENTIALS);
    };

    let ends = now + state.tokens.config().max_session;
    let user_id = user.id;
    let session = state
        .db
        .write(move |c| {
            throttle::clear(c, &account_key)?;
            sessions::create(c, user_id, now, ends)
        })
        .await?;
    let issued = state.tokens.issue(user_id, session, now, ends).map_err(ApiError::internal)?;
    let cookie = auth::token_cookie(issued.token.clone(), issued.expires_in, state.config.cookie_secure);
    Ok(HttpResponse::Ok().cookie(cookie).json(TokenResponse {
        access_token: issued.token,
        token_type: "bearer",
        expires_in: issued.expires_in,
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
}

fn cleared_cookie() -> Cookie<'static> {
    let mut cookie = Cookie::build(TOKEN_COOKIE_NAME, "").path("/").http_only(true).finish();
    cookie.make_removal();
    cookie
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
    post, path = "/api/v1/auth/logout", tag = "auth", operation_id = "logout_api_v1_auth_logout_post",
    params(LogoutQuery),
    responses(
        (status = 204, description = "Signed out"),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn logout(caller: Caller, req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let [all] = query_bools(&req, [("all", false)])?;
    let (user, session, now) = (caller.id(), caller.session, persistence::now());
    state
        .db
        .write(move |c| {
            if all {
                sessions::revoke_all(c, user, None, now).map(drop)
            } else {
                sessions::revoke(c, user, session, now)
            }
        })
        .await?;
    auth::cancel_refresh(&req);
    Ok(HttpResponse::NoContent().cookie(cleared_cookie()).finish())
}

/// Change password
///
/// Sets a new password and revokes every other sign-in of the caller.
#[utoipa::path(
    put, path = "/api/v1/auth/password", tag = "auth", operation_id = "change_password_api_v1_auth_password_put",
    request_body = PasswordChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 403, description = "The current password is wrong", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn change_password(
    caller: Caller,
    body: Json<PasswordChange>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let change = body.into_inner()?;
    let id = caller.id();
    check_password(&state, id, change.current_password).await?;
    let new = change.new_password;
    let hash = auth::hash(new.expose().to_owned()).await?;
    let (keep, now) = (caller.session, persistence::now());
    state
        .db
        .write(move |c| {
            persistence::transaction(c, |c| {
                users::set_password_hash(c, id, &hash)?;
                sessions::revoke_all(c, id, Some(keep), now)
            })
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// 403 unless `password` is the account's.
async fn check_password(state: &AppState, id: domain::UserId, password: String) -> Result<(), ApiError> {
    let hash = state.db.run(move |c| users::password_hash(c, id)).await?;
    let ok = auth::verify(password, hash).await?;
    if ok {
        Ok(())
    } else {
        Err(ApiError::Forbidden("Incorrect password"))
    }
}

/// Who am I
#[utoipa::path(
    get, path = "/api/v1/auth/me", tag = "auth", operation_id = "read_me_api_v1_auth_me_get",
    responses(
        (status = 200, description = "The caller's account", body = UserResponse),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn read_me(caller: Caller) -> HttpResponse {
    HttpResponse::Ok().json(UserResponse::from(&caller.user))
}

/// Delete my account
///
/// Deletes the caller's account, every user it manages, and all of their
/// data, in one transaction.
#[utoipa::path(
    delete, path = "/api/v1/auth/me", tag = "auth", operation_id = "delete_me_api_v1_auth_me_delete",
    request_body = AccountDelete,
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "The password is wrong", body = crate::dto::HttpErrorDoc),
        (status = 422, description = "Validation Error", body = crate::dto::HttpValidationErrorDoc),
    ),
    security(("HTTPBearer" = []))
)]
pub async fn delete_me(
    caller: Caller,
    req: HttpRequest,
    body: Json<AccountDelete>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let AccountDelete { password } = body.into_inner()?;
    let id = caller.id();
    check_password(&state, id, password).await?;
    state.db.write(move |c| users::delete(c, id)).await?;
    auth::cancel_refresh(&req);
    Ok(HttpResponse::NoContent().cookie(cleared_cookie()).finish())
}
