//! Signing in with a password: the credentials (HTTP Basic, or the OAuth2
//! password form that interactive docs send), and the throttle around
//! checking them. The handler (`routes::auth::login`) only answers.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, FromRequest, HttpRequest};
use base64::Engine;
use chrono::{DateTime, Utc};
use domain::throttle::{self, Policy};
use domain::{Email, SessionId, User};
use persistence::{sessions, users};

use crate::error::{Challenge, FieldError, Loc};
use crate::extract::last;
use crate::validation::storable;
use crate::{ApiError, AppState};

/// The 401 of a wrong e-mail or password: the same for both.
pub const BAD_CREDENTIALS: ApiError =
    ApiError::Unauthorized { detail: "Incorrect email or password", challenge: Challenge::Basic };

/// A password longer than this is no account's (registration allows 128
/// characters): refused before it is hashed.
const MAX_PASSWORD_BYTES: usize = 1024;

/// An e-mail and a password, as the client sent them.
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl Credentials {
    /// Whether some account could have these. Text with a NUL can be no
    /// account's (no account can be made with one) and cannot be looked up
    /// on PostgreSQL, whose `text` holds no NUL.
    fn possible(&self) -> bool {
        storable(&self.username) && storable(&self.password)
    }
}

/// The credentials of a sign-in: the OAuth2 password form's `username` and
/// `password` when the body is that form and has both, else HTTP Basic.
/// Beside the form, an OAuth2 client sends its own client credentials as
/// Basic (Swagger UI's default sends an empty `:`), so Basic never overrides
/// the form's.
pub async fn read(
    req: &HttpRequest,
    payload: &mut actix_web::dev::Payload,
    limit: usize,
) -> Result<Credentials, ApiError> {
    let basic = crate::auth::authorization(req, "basic").map(str::to_owned);
    let decode = |b64: String| -> Result<Credentials, ApiError> {
        let decoded = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| BAD_CREDENTIALS)?;
        let text = String::from_utf8(decoded).map_err(|_| BAD_CREDENTIALS)?;
        let (user, pass) = text.split_once(':').ok_or(BAD_CREDENTIALS)?;
        Ok(Credentials { username: user.to_owned(), password: pass.to_owned() })
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
    let (username, password) = (last(&form, "username"), last(&form, "password"));
    if let (Some(username), Some(password)) = (username, password) {
        return Ok(Credentials { username: username.to_owned(), password: password.to_owned() });
    }
    if let Some(b64) = basic {
        return decode(b64);
    }
    let mut errors = Vec::new();
    for (name, value) in [("username", username), ("password", password)] {
        if value.is_none() {
            errors.push(FieldError::new(vec![Loc::from("body"), Loc::from(name)], "missing", "Field required"));
        }
    }
    Err(ApiError::Validation(errors))
}

/// The client address a sign-in (or a claim) is throttled by.
pub(crate) fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> String {
    let forwarded = trust_forwarded_for
        .then(|| req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()))
        .flatten()
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_owned());
    let peer = req.peer_addr().map(|a| a.ip().to_string());
    forwarded.or(peer).unwrap_or_else(|| "unknown".into())
}

/// A new sign-in: its id and when it ends, whatever refreshes follow.
pub struct SignIn {
    pub user: User,
    pub session: SessionId,
    pub ends: DateTime<Utc>,
}

/// Checks `credentials` and records a sign-in, throttled per account and
/// per client address (`domain::throttle`): a key still waiting is a 429
/// before anything is hashed; a failure is counted for both keys; a success
/// clears the account's count. An unknown e-mail costs what a wrong
/// password does (a dummy hash is verified), so timing tells nobody who
/// has an account.
pub async fn sign_in(state: &AppState, req: &HttpRequest, credentials: Credentials) -> Result<SignIn, ApiError> {
    if credentials.password.len() > MAX_PASSWORD_BYTES {
        return Err(BAD_CREDENTIALS);
    }
    let possible = credentials.possible();
    let normalized = Email::normalize(&credentials.username);
    let account_key = throttle::account_key(&normalized);
    let client_key = throttle::client_key(&client_address(req, state.config.trust_forwarded_for));
    let now = persistence::now();

    let keys = [account_key.clone(), client_key.clone()];
    let (failures, found) = state
        .db
        .run(move |c| {
            let failures = persistence::throttle::failures(c, &[keys[0].as_str(), keys[1].as_str()])?;
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
    let ok = crate::auth::verify(credentials.password, hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        state
            .db
            .write(move |c| {
                persistence::throttle::record_failure(c, &account_key, now, Policy::ACCOUNT.window_cutoff(now))?;
                persistence::throttle::record_failure(c, &client_key, now, Policy::CLIENT.window_cutoff(now))
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
            persistence::throttle::clear(c, &account_key)?;
            sessions::create(c, user_id, now, ends)
        })
        .await?;
    Ok(SignIn { user, session, ends })
}
