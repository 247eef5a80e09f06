//! The `token` cookie: set at sign-in and on a sliding refresh, cleared at
//! sign-out. One builder, so the three never differ in their attributes.

use actix_web::cookie::{Cookie, SameSite};

/// The cookie's name, kept from the seed for existing clients (not a
/// `__Host-` name).
pub const TOKEN_COOKIE: &str = "token";

/// The `token` cookie: `HttpOnly` (no script reads it), `SameSite=Lax`
/// (no cross-site write carries it), `Path=/`, `Secure` when configured.
pub fn token_cookie(token: String, max_age_secs: i64, secure: bool) -> Cookie<'static> {
    Cookie::build(TOKEN_COOKIE, token)
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::seconds(max_age_secs))
        .finish()
}

/// The cookie that removes it (sign-out, account deletion).
pub fn cleared_cookie(secure: bool) -> Cookie<'static> {
    let mut cookie = token_cookie(String::new(), 0, secure);
    cookie.make_removal();
    cookie
}
