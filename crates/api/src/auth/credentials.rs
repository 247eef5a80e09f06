//! Signing in with a password: the credentials (HTTP Basic, or the OAuth2
//! password form that interactive docs send), and the throttle around
//! checking them. The handler (`routes::auth::login`) only answers.

use actix_web::http::header::{CONTENT_TYPE, USER_AGENT};
use actix_web::{web, FromRequest, HttpRequest};
use base64::Engine;
use chrono::{DateTime, Utc};
use domain::sign_in::SecondFactor;
use domain::throttle::{self, Policy};
use domain::{Email, SessionId, User};
use persistence::{sessions, users};

use super::mfa;
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

/// An e-mail and a password, as the client sent them, and a second
/// factor's code (C5) when one came.
pub struct Credentials {
    pub username: String,
    pub password: String,
    /// The form's `otp` field, else the `X-OTP` header; an empty one is
    /// absent.
    pub otp: Option<String>,
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
        Ok(Credentials { username: user.to_owned(), password: pass.to_owned(), otp: None })
    };
    // Either carrier with either credential form; the field wins.
    let header_otp = req.headers().get("x-otp").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let with_otp = |mut given: Credentials, field: Option<&str>| {
        given.otp = field.map(str::to_owned).or(header_otp).filter(|c| !c.is_empty());
        given
    };
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return match basic {
            Some(b64) => decode(b64).map(|given| with_otp(given, None)),
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
    let field = last(&form, "otp").filter(|c| !c.is_empty());
    if let (Some(username), Some(password)) = (username, password) {
        let given = Credentials { username: username.to_owned(), password: password.to_owned(), otp: None };
        return Ok(with_otp(given, field));
    }
    if let Some(b64) = basic {
        return decode(b64).map(|given| with_otp(given, field));
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
    /// The second factor given, if the account has one on.
    pub factor: Option<SecondFactor>,
    /// After a recovery code: how many are left.
    pub recovery_codes_left: Option<i64>,
}

/// What the sign-in's last hop decided, committed either way (a wrong
/// code's count must stay).
enum Verdict {
    SignedIn(SessionId, Option<SecondFactor>, Option<i64>),
    Wait(u64),
    Refused(ApiError),
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

    // C5: the second factor, judged with the sign-in's row written in one
    // transaction that holds the account's row (PostgreSQL), as turning
    // the factor on or off does: a sign-in racing that change is judged
    // wholly before or wholly after it. Only now that the password is
    // right is the code throttle looked at, so a stranger never sees it.
    let ends = now + state.tokens.config().max_session;
    let user_id = user.id;
    let address = client_address(req, state.config.trust_forwarded_for);
    let ip = domain::sign_in::network(&address);
    let user_agent =
        req.headers().get(USER_AGENT).and_then(|v| domain::sign_in::user_agent(&String::from_utf8_lossy(v.as_bytes())));
    let (key, otp) = (state.mfa_key.clone(), credentials.otp);
    let verdict = state
        .db
        .write(move |c| {
            persistence::transaction(c, |c| {
                persistence::managers::lock_users(c, &[user_id])?;
                let factor = persistence::mfa::find(c, user_id)?.filter(|f| f.is_on());
                let mut used = None;
                if let Some(factor) = factor {
                    if let Some(wait) = mfa::code_wait(c, user_id, now)? {
                        return Ok(Verdict::Wait(wait));
                    }
                    let Some(code) = otp else {
                        return Ok(Verdict::Refused(ApiError::SecondFactor { required: true }));
                    };
                    match mfa::check_code(c, &key, user_id, &factor, &code, now)? {
                        Some(kind) => used = Some(kind),
                        None => return Ok(Verdict::Refused(ApiError::SecondFactor { required: false })),
                    }
                }
                persistence::throttle::clear(c, &account_key)?;
                let new = sessions::NewSignIn {
                    user: user_id,
                    created_at: now,
                    expires_at: ends,
                    ip: ip.as_deref(),
                    user_agent: user_agent.as_deref(),
                    second_factor: used,
                };
                let session = sessions::record(c, &new)?;
                let left = match used {
                    Some(SecondFactor::RecoveryCode) => Some(persistence::mfa::recovery_codes_left(c, user_id)?),
                    _ => None,
                };
                Ok(Verdict::SignedIn(session, used, left))
            })
        })
        .await?;
    match verdict {
        Verdict::SignedIn(session, factor, recovery_codes_left) => {
            Ok(SignIn { user, session, ends, factor, recovery_codes_left })
        }
        Verdict::Wait(secs) => {
            state.metrics.signin_throttled.inc();
            Err(ApiError::TooManyCodes { retry_after_secs: secs })
        }
        Verdict::Refused(refusal) => {
            if matches!(refusal, ApiError::SecondFactor { required: false }) {
                state.metrics.signin_failures.inc();
            }
            Err(refusal)
        }
    }
}
