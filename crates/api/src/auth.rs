//! Authentication: tokens, passwords, and the [`Caller`] extractor.

mod caller;
mod passwords;
mod tokens;

pub use caller::{add_refreshed_token, Caller, TokenSource, REFRESHED_TOKEN, TOKEN_COOKIE as TOKEN_COOKIE_NAME};
pub(crate) use caller::{cancel_refresh, token_cookie};
pub use passwords::{hash_password, verify_password, verify_password_or_dummy};
pub use tokens::{Claims, IssuedToken, TokenConfig, Tokens};
