//! Properties of the validators, over arbitrary input: they never panic,
//! and what they accept satisfies every rule.

use domain::{ActivityName, Email, Password, PersonName, Scope, ScopeSet};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn an_accepted_name_obeys_every_rule(raw in any::<String>()) {
        if let Ok(name) = PersonName::parse(&raw) {
            let s = name.as_str();
            prop_assert_eq!(s, s.trim(), "trimmed");
            prop_assert!((1..=100).contains(&s.chars().count()));
            prop_assert!(!s.chars().any(char::is_control));
            prop_assert_eq!(PersonName::parse(s).unwrap(), name.clone(), "parsing is idempotent");
        }
    }

    #[test]
    fn a_name_is_refused_exactly_when_a_rule_is_broken(raw in "\\PC{0,120}|[ \\t\\n\\x00-\\x1f]{0,5}") {
        let t = raw.trim();
        let ok = (1..=100).contains(&t.chars().count()) && !t.chars().any(char::is_control);
        prop_assert_eq!(PersonName::parse(&raw).is_ok(), ok);
    }

    #[test]
    fn an_accepted_email_is_normalised_and_stable(raw in any::<String>()) {
        if let Ok(email) = Email::parse(&raw) {
            prop_assert_eq!(email.normalized(), email.as_str().to_lowercase());
            prop_assert!(email.as_str().contains('@'));
            prop_assert!(!email.as_str().chars().any(char::is_control));
            prop_assert_eq!(Email::parse(email.as_str()).unwrap(), email.clone());
        }
    }

    #[test]
    fn an_accepted_password_has_8_to_128_characters(raw in any::<String>()) {
        if let Ok(p) = Password::parse(&raw) {
            prop_assert!((8..=128).contains(&p.expose().chars().count()));
            prop_assert_eq!(p.expose(), raw.as_str(), "taken as typed");
        }
    }

    #[test]
    fn activity_names_never_panic(raw in any::<String>()) {
        let _ = ActivityName::parse(&raw);
    }

    #[test]
    fn scope_sets_round_trip_through_storage(bits in 0u8..4) {
        let set: ScopeSet = Scope::ALL.into_iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, s)| s).collect();
        prop_assert_eq!(ScopeSet::from_storage(&set.to_storage()), Ok(set));
    }
}
