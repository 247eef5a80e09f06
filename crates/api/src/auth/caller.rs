use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue, AUTHORIZATION};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use domain::{SessionId, User, UserId};
use futures_util::future::LocalBoxFuture;
use persistence::sessions;

use crate::{ApiError, AppState};

pub const REFRESHED_TOKEN: &str = "refreshed-token";
pub const TOKEN_COOKIE: &str = "token";

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Bearer,
    RefreshedHeader,
    Cookie,
}

/// The signed-in account making the request. Declaring it in a handler
/// makes the handler answer 401 to anyone else.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub session: SessionId,
}

impl Caller {
    pub fn id(&self) -> UserId {
        self.user.id
    }
}

/// A fresh token to hand back with the response (sliding refresh).
#[derive(Clone)]
struct Refresh {
    token: String,
    expires_in: i64,
    to_cookie: bool,
}

/// The token of a request: the Bearer header, then the `refreshed-token`
/// header, then the `token` cookie. Never the query string.
fn find_token(req: &HttpRequest) -> Option<(String, TokenSource)> {
    if let Some(bearer) = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
    {
        return Some((bearer, TokenSource::Bearer));
    }
    if let Some(raw) = req.headers().get(REFRESHED_TOKEN).and_then(|v| v.to_str().ok()) {
        return Some((raw.trim().to_owned(), TokenSource::RefreshedHeader));
    }
    req.cookie(TOKEN_COOKIE).map(|c| (c.value().to_owned(), TokenSource::Cookie))
}

async fn authenticate(req: HttpRequest) -> Result<Caller, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().expect("AppState is configured").clone();
    let (token, source) = find_token(&req).ok_or(ApiError::not_authenticated())?;
    let claims = state.tokens.verify(&token).ok_or(ApiError::invalid_token())?;
    let (Ok(user_id), Ok(session)) = (claims.sub.parse::<UserId>(), claims.sid.parse::<SessionId>()) else {
        return Err(ApiError::invalid_token());
    };
    let now = persistence::now();
    let live = state
        .db
        .run(move |conn| sessions::authenticate(conn, session, user_id, now))
        .await?
        .ok_or(ApiError::invalid_token())?;
    if state.tokens.needs_refresh(&claims, now) {
        let fresh = state.tokens.issue(user_id, session, now, live.expires_at).map_err(ApiError::internal)?;
        req.extensions_mut().insert(Refresh {
            token: fresh.token,
            expires_in: fresh.expires_in,
            to_cookie: source == TokenSource::Cookie,
        });
    }
    Ok(Caller { user: live.user, session })
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Caller, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        Box::pin(authenticate(req.clone()))
    }
}

/// Drops a pending sliding refresh (on logout, the refreshed token would
/// belong to a sign-in that no longer exists).
pub(crate) fn cancel_refresh(req: &HttpRequest) {
    req.extensions_mut().remove::<Refresh>();
}

/// The `token` cookie, as sign-in and refresh set it.
pub(crate) fn token_cookie(token: String, max_age_secs: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(TOKEN_COOKIE, token)
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age_secs))
        .finish()
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
            let cookie = token_cookie(refresh.token, refresh.expires_in, secure);
            let _ = res.response_mut().add_cookie(&cookie);
        }
    }
    Ok(res)
}
