//! Taking over (C2): the one-time code a manager hands to the person a
//! managed user is, and what a redemption gives each former manager.
//!
//! The code is 140 random bits written as 28 Crockford base32 characters
//! (digits and letters without I, L, O, U), lowercase, in seven groups of
//! four joined by `-`: `7k2m-9rtd-4wh3-zn8p-c5vb-1e6q-a0xs`. Where the
//! contract is silent, this module decides: case, spaces and hyphens are
//! ignored, and I and L read as 1, O as 0 (Crockford's decoding), so a
//! code read aloud or copied from paper still matches. Any other string is
//! still a code, one that matches nothing.
//!
//! The randomness comes from the caller (the API takes it from the OS's
//! CSPRNG), so this crate stays free of I/O.

use chrono::Duration;

use crate::{ScopeSet, ShareId};

/// How long a claim code is valid.
pub const CLAIM_CODE_LIFETIME: Duration = Duration::days(7);

/// Random bytes a code is made from: 144 bits, of which the code keeps 140.
pub const CLAIM_CODE_ENTROPY_BYTES: usize = 18;

/// Crockford's base32 alphabet, lowercase.
pub(crate) const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const CHARS: usize = 28;
const GROUP: usize = 4;

/// The first `chars` 5-bit groups of `bytes` (most significant bit first)
/// in `alphabet`, a `-` before every `group` characters but the first
/// (`group` 0: none). Claim codes, recovery codes (Crockford) and TOTP
/// secrets (RFC 4648) are all written by this one function.
pub(crate) fn encode(bytes: &[u8], alphabet: &[u8; 32], chars: usize, group: usize) -> String {
    let mut out = String::with_capacity(chars + chars.checked_div(group).unwrap_or(0));
    let (mut acc, mut bits, mut written) = (0u32, 0u32, 0usize);
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 && written < chars {
            bits -= 5;
            if group > 0 && written > 0 && written % group == 0 {
                out.push('-');
            }
            out.push(alphabet[((acc >> bits) & 31) as usize] as char);
            written += 1;
        }
        acc &= (1 << bits) - 1;
    }
    out
}

/// A freshly made claim code, as shown once to its issuer.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimCode(String);

impl std::fmt::Debug for ClaimCode {
    // A code is a credential: it never reaches a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClaimCode(..)")
    }
}

impl ClaimCode {
    /// The code written from `random` (which must come from a CSPRNG).
    pub fn from_entropy(random: [u8; CLAIM_CODE_ENTROPY_BYTES]) -> ClaimCode {
        ClaimCode(encode(&random, CROCKFORD, CHARS, GROUP))
    }

    /// The code as shown: grouped, lowercase.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its normal form, what is hashed and looked up.
    pub fn normalized(&self) -> String {
        normalize(&self.0)
    }
}

/// The normal form of a code as typed: uppercase, without whitespace and
/// hyphens, with I and L as 1 and O as 0. Every string has one.
pub fn normalize(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            other => other,
        })
        .collect()
}

/// What a redemption does for one former manager, given the code's
/// `keep_scopes` and the share the manager may already hold on the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Nothing to keep and nothing held.
    Nothing,
    /// A new share with `keep_scopes` and no end.
    Create(ScopeSet),
    /// The share held keeps its id, now with `keep_scopes` and no end.
    Replace(ShareId, ScopeSet),
    /// Nothing to keep: the share held goes.
    Remove(ShareId),
}

/// The plan for one former manager (see [`Keep`]).
pub fn keep(keep_scopes: ScopeSet, held: Option<ShareId>) -> Keep {
    match (keep_scopes.is_empty(), held) {
        (true, None) => Keep::Nothing,
        (true, Some(id)) => Keep::Remove(id),
        (false, None) => Keep::Create(keep_scopes),
        (false, Some(id)) => Keep::Replace(id, keep_scopes),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scope;

    #[test]
    fn a_code_is_28_characters_in_seven_groups_of_the_alphabet() {
        let code = ClaimCode::from_entropy([0xA5; CLAIM_CODE_ENTROPY_BYTES]);
        let groups: Vec<&str> = code.as_str().split('-').collect();
        assert_eq!(groups.len(), 7, "{}", code.as_str());
        assert!(groups.iter().all(|g| g.len() == 4));
        assert!(code.as_str().bytes().all(|b| b == b'-' || CROCKFORD.contains(&b)));
        assert_eq!(ClaimCode::from_entropy([0; 18]).as_str(), "0000-0000-0000-0000-0000-0000-0000");
        assert_eq!(ClaimCode::from_entropy([0xFF; 18]).as_str(), "zzzz-zzzz-zzzz-zzzz-zzzz-zzzz-zzzz");
    }

    #[test]
    fn different_entropy_gives_different_codes() {
        let mut one = [0u8; 18];
        one[17] = 0x10; // the last bit the code keeps (140 of 144)
        assert_ne!(ClaimCode::from_entropy(one), ClaimCode::from_entropy([0; 18]));
    }

    #[test]
    fn the_normal_form_ignores_case_spaces_hyphens_and_reads_i_l_o() {
        let code = ClaimCode::from_entropy([0x3C; 18]);
        let typed = format!(" {} ", code.as_str().to_uppercase().replace('-', " - "));
        assert_eq!(normalize(&typed), code.normalized());
        assert_eq!(normalize("o1-Il"), "0111");
        assert_eq!(normalize(""), "");
        assert!(!code.normalized().contains('-'));
    }

    #[test]
    fn the_debug_form_hides_the_code() {
        assert_eq!(format!("{:?}", ClaimCode::from_entropy([7; 18])), "ClaimCode(..)");
    }

    #[test]
    fn each_former_manager_keeps_what_the_code_says() {
        let id = ShareId::new();
        let read = {
            let mut s = ScopeSet::EMPTY;
            s.insert(Scope::DataRead);
            s
        };
        assert_eq!(keep(ScopeSet::EMPTY, None), Keep::Nothing);
        assert_eq!(keep(ScopeSet::EMPTY, Some(id)), Keep::Remove(id));
        assert_eq!(keep(read, None), Keep::Create(read));
        assert_eq!(keep(read, Some(id)), Keep::Replace(id, read));
    }
}
