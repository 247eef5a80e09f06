//! Authentication: tokens, passwords, and the [`Caller`] extractor.

mod caller;
mod passwords;
mod tokens;

pub use caller::{add_refreshed_token, Caller, TokenSource, REFRESHED_TOKEN, TOKEN_COOKIE as TOKEN_COOKIE_NAME};
pub(crate) use caller::{cancel_refresh, token_cookie};
pub use passwords::{hash, hash_password, verify, verify_password, warm_up};
pub use tokens::{Claims, IssuedToken, TokenConfig, Tokens};
