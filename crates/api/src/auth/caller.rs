use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use chrono::{DateTime, Utc};
use domain::sign_in::SecondFactor;
use domain::{SessionId, UserId};

use super::Claims;
use crate::{ApiError, AppState};

pub const REFRESHED_TOKEN: &str = "refreshed-token";

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Bearer,
    RefreshedHeader,
    Cookie,
}

/// A request's token, verified: well signed, ours, unexpired. Declaring it
/// in a handler makes the handler answer 401 to a request without one.
/// Whether its sign-in is still live and its user still an account is
/// read from the database in the handler's one blocking hop
/// ([`crate::Db::act_as`]), which answers 401 when not: this extractor
/// reads nothing from the database.
#[derive(Clone)]
pub struct Caller {
    id: UserId,
    session: SessionId,
    claims: Claims,
    source: TokenSource,
    touch: Touch,
    req: HttpRequest,
}

/// When a live sign-in ends and how it gave a second factor: what a
/// sliding refresh needs from the authentication.
pub type SessionEnds = (DateTime<Utc>, Option<SecondFactor>);

/// What a request moves on its sign-in when the sign-in's `last_used_at`
/// is older than `period` (C5): `last_used_at` and `last_ip`, the client's
/// network as the sign-in throttle sees the client.
#[derive(Debug, Clone)]
pub struct Touch {
    ip: Option<String>,
    period: chrono::Duration,
}

impl Touch {
    /// The one conditional write, only when `last_used_at` (as the
    /// authentication read it) is stale: no statement otherwise.
    pub fn apply(
        &self,
        conn: &mut persistence::AnyConnection,
        session: SessionId,
        last_used_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), persistence::StoreError> {
        let stale_before = now - self.period;
        if last_used_at < stale_before {
            persistence::sessions::touch(conn, session, self.ip.as_deref(), now, stale_before)?;
        }
        Ok(())
    }
}

impl Caller {
    /// The user the token names (authenticated only inside the hop).
    pub fn id(&self) -> UserId {
        self.id
    }

    pub fn session(&self) -> SessionId {
        self.session
    }

    /// What the request moves on its sign-in (see [`Touch`]).
    pub fn touch(&self) -> Touch {
        self.touch.clone()
    }

    /// Called once the sign-in is known live and ends at `session_ends`:
    /// a token past half of its lifetime is replaced (sliding refresh),
    /// the fresh one put on the response by [`add_refreshed_token`].
    /// The fresh token's `amr` is the sign-in's `factor` as stored now.
    pub(crate) fn confirmed(
        &self,
        session_ends: DateTime<Utc>,
        factor: Option<SecondFactor>,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        let Some(state) = self.req.app_data::<web::Data<AppState>>() else { return Ok(()) };
        if state.tokens.needs_refresh(&self.claims, now) {
            let fresh =
                state.tokens.issue(self.id, self.session, now, session_ends, factor).map_err(ApiError::internal)?;
            self.req.extensions_mut().insert(Refresh {
                token: fresh.token,
                expires_in: fresh.expires_in,
                to_cookie: self.source == TokenSource::Cookie,
            });
        }
        Ok(())
    }
}

/// A fresh token to hand back with the response (sliding refresh).
#[derive(Clone)]
struct Refresh {
    token: String,
    expires_in: i64,
    to_cookie: bool,
}

/// The value of an `Authorization: <scheme> <value>` header, for this
/// scheme (any case).
pub(crate) fn authorization<'r>(req: &'r HttpRequest, scheme: &str) -> Option<&'r str> {
    req.headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(s, _)| s.eq_ignore_ascii_case(scheme))
        .map(|(_, value)| value.trim())
}

/// The token of a request: the Bearer header, then the `refreshed-token`
/// header, then the `token` cookie. Never the query string.
fn find_token(req: &HttpRequest) -> Option<(String, TokenSource)> {
    if let Some(bearer) = authorization(req, "bearer") {
        return Some((bearer.to_owned(), TokenSource::Bearer));
    }
    if let Some(raw) = req.headers().get(REFRESHED_TOKEN).and_then(|v| v.to_str().ok()) {
        return Some((raw.trim().to_owned(), TokenSource::RefreshedHeader));
    }
    req.cookie(super::cookie::TOKEN_COOKIE).map(|c| (c.value().to_owned(), TokenSource::Cookie))
}

fn verify(req: &HttpRequest) -> Result<Caller, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().expect("AppState is configured");
    let (token, source) = find_token(req).ok_or(ApiError::not_authenticated())?;
    let claims = state.tokens.verify(&token).ok_or(ApiError::invalid_token())?;
    let (Ok(id), Ok(session)) = (claims.sub.parse::<UserId>(), claims.sid.parse::<SessionId>()) else {
        return Err(ApiError::invalid_token());
    };
    let address = super::credentials::client_address(req, state.config.trust_forwarded_for);
    let touch = Touch { ip: domain::sign_in::network(&address), period: state.config.sign_in_touch };
    Ok(Caller { id, session, claims, source, touch, req: req.clone() })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(verify(req))
    }
}

/// Drops a pending sliding refresh (on logout, the refreshed token would
/// belong to a sign-in that no longer exists).
pub(crate) fn cancel_refresh(req: &HttpRequest) {
    req.extensions_mut().remove::<Refresh>();
}

/// Middleware: puts a sliding refresh decided by [`Caller`] on the
/// response, as the `refreshed-token` header and, when the token came from
/// the cookie, a new cookie.
pub async fn add_refreshed_token(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let secure = req.app_data::<web::Data<AppState>>().is_some_and(|s| s.config.cookie_secure);
    let mut res = next.call(req).await?;
    let refresh = res.request().extensions().get::<Refresh>().cloned();
    if let Some(refresh) = refresh {
        if let Ok(value) = HeaderValue::from_str(&refresh.token) {
            res.headers_mut().insert(HeaderName::from_static(REFRESHED_TOKEN), value);
        }
        if refresh.to_cookie {
            let cookie = super::cookie::token_cookie(refresh.token, refresh.expires_in, secure);
            let _ = res.response_mut().add_cookie(&cookie);
        }
    }
    Ok(res)
}
