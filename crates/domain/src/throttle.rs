//! The sign-in throttle policy, as a pure function of the failures counted
//! for one key (an account or a client address).
//!
//! Within a window, the first `free_failures` failures cost nothing. Each
//! failure after that makes the key wait before the next attempt, twice as
//! long each time (1 s, 2 s, 4 s, ...), up to `max_delay`. A window ends
//! `window` after its first failure, and a successful sign-in clears the
//! account's count.

use chrono::{DateTime, Duration, Utc};

/// The key an account's failures are counted under, from the e-mail as
/// typed at sign-in (normalised): whatever was typed, a real address or
/// not, so that a miss is counted like a hit.
pub fn account_key(email_normalized: &str) -> String {
    format!("account:{}", escape(email_normalized))
}

/// The key a client address's failures are counted under.
pub fn client_key(address: &str) -> String {
    format!("client:{}", escape(address))
}

/// The key a client address's failed claim-code redemptions (C2) are
/// counted under: apart from its failed sign-ins, so that one does not
/// lock out the other.
pub fn claim_client_key(address: &str) -> String {
    format!("claim-client:{}", escape(address))
}

/// The key an account's wrong second-factor codes (C5) are counted under:
/// apart from its password failures, which a stranger can cause.
pub fn code_key(user: crate::UserId) -> String {
    format!("code:{user}")
}

/// Keys are stored as text, and a key comes from what a client sent. `%`
/// and every control character are percent-escaped: the key never holds a
/// NUL (which PostgreSQL's `text` cannot store) and two different inputs
/// never share a key.
fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c == '%' || c.is_control() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The failures counted for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub window_started_at: DateTime<Utc>,
    pub last_failed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub free_failures: u32,
    pub window: Duration,
    pub max_delay: Duration,
}

impl Policy {
    /// Per account: 5 failures in 15 minutes, then a growing wait.
    pub const ACCOUNT: Policy =
        Policy { free_failures: 5, window: Duration::minutes(15), max_delay: Duration::minutes(15) };
    /// Per client address: more room, since many people may share one.
    pub const CLIENT: Policy =
        Policy { free_failures: 20, window: Duration::minutes(15), max_delay: Duration::minutes(15) };

    /// Per account, for wrong second-factor codes (C5): 5 free, then after
    /// failure n > 5 a wait of 2^(n-6) s, at most an hour, in a 24-hour
    /// window. (`free_failures` counts the failure whose wait is 1 s.)
    pub const CODE: Policy = Policy { free_failures: 6, window: Duration::hours(24), max_delay: Duration::hours(1) };

    /// How long the key must still wait at `now`; `None` when it may try.
    pub fn retry_after(&self, failures: &Failures, now: DateTime<Utc>) -> Option<Duration> {
        if now >= failures.window_started_at + self.window || failures.count < self.free_failures {
            return None;
        }
        let over = failures.count - self.free_failures; // 0 for the first over the line
        let delay = Duration::seconds(1i64 << over.min(20)).min(self.max_delay);
        let until = failures.last_failed_at + delay;
        (now < until).then(|| until - now)
    }

    /// Where a window that is still open at `now` must have begun.
    pub fn window_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.window
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_hold_no_nul_and_never_collide() {
        assert_eq!(account_key("ada@example.org"), "account:ada@example.org");
        assert_eq!(account_key("a\0@b.c"), "account:a%00@b.c");
        assert_eq!(account_key("a%00@b.c"), "account:a%2500@b.c", "an escape typed by hand is escaped again");
        assert_eq!(client_key("203.0.113.7"), "client:203.0.113.7");
        assert_eq!(client_key("x\u{85}y"), "client:x%C2%85y");
        assert_eq!(claim_client_key("203.0.113.7"), "claim-client:203.0.113.7");
        assert!(!account_key("\0\0").contains('\0'));
    }

    #[test]
    fn waits_grow_after_the_free_failures_and_end_with_the_window() {
        let t0 = Utc::now();
        let p = Policy::ACCOUNT;
        let at =
            |count, last: i64| Failures { count, window_started_at: t0, last_failed_at: t0 + Duration::seconds(last) };
        assert_eq!(p.retry_after(&at(4, 10), t0 + Duration::seconds(10)), None, "four failures are free");
        assert_eq!(p.retry_after(&at(5, 10), t0 + Duration::seconds(10)), Some(Duration::seconds(1)));
        assert_eq!(p.retry_after(&at(6, 10), t0 + Duration::seconds(10)), Some(Duration::seconds(2)));
        assert_eq!(p.retry_after(&at(8, 10), t0 + Duration::seconds(11)), Some(Duration::seconds(7)));
        assert_eq!(p.retry_after(&at(5, 10), t0 + Duration::seconds(12)), None, "the wait is over");
        assert_eq!(p.retry_after(&at(60, 10), t0 + Duration::seconds(10)), Some(Duration::minutes(15)), "capped");
        assert_eq!(p.retry_after(&at(60, 10), t0 + Duration::minutes(15)), None, "the window is over");
    }

    #[test]
    fn wrong_codes_wait_after_the_fifth_for_up_to_an_hour_in_a_day() {
        let t0 = Utc::now();
        let p = Policy::CODE;
        let at = |count| Failures { count, window_started_at: t0, last_failed_at: t0 };
        assert_eq!(p.retry_after(&at(5), t0), None, "five are free");
        assert_eq!(p.retry_after(&at(6), t0), Some(Duration::seconds(1)), "2^(6-6)");
        assert_eq!(p.retry_after(&at(8), t0), Some(Duration::seconds(4)), "2^(8-6)");
        assert_eq!(p.retry_after(&at(30), t0), Some(Duration::hours(1)), "capped");
        assert_eq!(p.retry_after(&at(30), t0 + Duration::hours(24)), None, "the window is over");
        assert_eq!(code_key(crate::UserId::from_uuid(uuid::Uuid::nil())).len(), "code:".len() + 36);
    }
}
