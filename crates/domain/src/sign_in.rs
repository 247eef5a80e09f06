//! C5: what a sign-in records about where it came from, reduced to what a
//! person needs to recognise it: the client's network, not its address,
//! and a bounded, printable `User-Agent`.

use std::net::IpAddr;

/// The most characters of a `User-Agent` kept.
pub const USER_AGENT_MAX_CHARS: usize = 256;

/// The network of a client address, as stored: its /24 (IPv4) or /48
/// (IPv6). An IPv4 address written as IPv6 (`::ffff:203.0.113.7`) is
/// IPv4's. `None` when `raw` is no address (a proxy's garbage).
pub fn network(raw: &str) -> Option<String> {
    let ip: IpAddr = raw.trim().parse().ok()?;
    Some(match ip.to_canonical() {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            std::net::Ipv4Addr::new(a, b, c, 0).to_string()
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            std::net::Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0).to_string()
        }
    })
}

/// A `User-Agent` as stored: control characters removed, then cut to
/// [`USER_AGENT_MAX_CHARS`]; `None` when nothing is left.
pub fn user_agent(raw: &str) -> Option<String> {
    let kept: String = raw.chars().filter(|c| !c.is_control()).take(USER_AGENT_MAX_CHARS).collect();
    (!kept.trim().is_empty()).then_some(kept)
}

/// How a sign-in gave its second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
}

impl SecondFactor {
    pub fn as_str(self) -> &'static str {
        match self {
            SecondFactor::Totp => "totp",
            SecondFactor::RecoveryCode => "recovery_code",
        }
    }

    pub fn parse(s: &str) -> Option<SecondFactor> {
        match s {
            "totp" => Some(SecondFactor::Totp),
            "recovery_code" => Some(SecondFactor::RecoveryCode),
            _ => None,
        }
    }

    /// The token's `amr` (RFC 8176) for a sign-in with this factor, or
    /// without one: a recovery code counts as `otp`.
    pub fn amr(factor: Option<SecondFactor>) -> Vec<String> {
        match factor {
            None => vec!["pwd".into()],
            Some(_) => vec!["pwd".into(), "otp".into()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_cut_to_their_network() {
        assert_eq!(network("203.0.113.7").as_deref(), Some("203.0.113.0"));
        assert_eq!(network("2001:db8:1:2::7").as_deref(), Some("2001:db8:1::"));
        assert_eq!(network("::ffff:203.0.113.7").as_deref(), Some("203.0.113.0"));
        assert_eq!(network(" 198.51.100.200 ").as_deref(), Some("198.51.100.0"));
        assert_eq!(network("unknown"), None);
        assert_eq!(network("203.0.113.7:443"), None);
    }

    #[test]
    fn user_agents_lose_control_characters_and_are_cut() {
        assert_eq!(user_agent("curl/8.0").as_deref(), Some("curl/8.0"));
        assert_eq!(user_agent("a\u{0}b\u{7}c\u{85}d").as_deref(), Some("abcd"));
        let long = "é".repeat(300);
        assert_eq!(user_agent(&long).unwrap().chars().count(), USER_AGENT_MAX_CHARS);
        assert_eq!(user_agent("\u{1}\u{2}"), None);
        assert_eq!(user_agent(""), None);
    }

    #[test]
    fn amr_names_the_factor() {
        assert_eq!(SecondFactor::amr(None), ["pwd"]);
        assert_eq!(SecondFactor::amr(Some(SecondFactor::RecoveryCode)), ["pwd", "otp"]);
        for f in [SecondFactor::Totp, SecondFactor::RecoveryCode] {
            assert_eq!(SecondFactor::parse(f.as_str()), Some(f));
        }
    }
}
