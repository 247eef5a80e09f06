//! Authentication: tokens, passwords, and the [`Caller`] extractor.

mod caller;
mod cookie;
pub mod credentials;
pub mod mfa;
mod passwords;
mod tokens;

pub use caller::{add_refreshed_token, Caller, SessionEnds, TokenSource, Touch, REFRESHED_TOKEN};
pub(crate) use caller::{authorization, cancel_refresh};
pub use cookie::{cleared_cookie, token_cookie, TOKEN_COOKIE as TOKEN_COOKIE_NAME};
pub use passwords::{hash, hash_password, runs as argon2_runs, verify, verify_password, warm_up};
pub use tokens::{Claims, IssuedToken, TokenConfig, Tokens};
