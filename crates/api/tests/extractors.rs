//! Properties of the request readers over arbitrary bytes: they never
//! panic, and every refusal is a 4xx in the contract's shape.

use actix_web::ResponseError;
use api::dto::{ManagedUserCreate, RegisterRequest, ShareCreate, Trace};
use api::validation::{query_bool, FromJson};
use proptest::prelude::*;

fn check<T: FromJson>(bytes: &[u8]) -> Result<(), TestCaseError> {
    match T::from_bytes(bytes) {
        Ok(_) => Ok(()),
        Err(e) => {
            let status = e.status_code().as_u16();
            prop_assert!((400..500).contains(&status), "a 4xx, not {status}");
            if let api::ApiError::Validation(faults) = e {
                prop_assert!(!faults.is_empty(), "a 422 lists at least one fault");
                for f in faults {
                    prop_assert!(!f.msg.is_empty() && !f.kind.is_empty());
                    prop_assert!(matches!(f.loc.first(), Some(api::Loc::Name(n)) if n == "body"));
                }
            }
            Ok(())
        }
    }
}

/// JSON-ish text: mostly well-formed objects with odd values, sometimes not.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        Just("null".to_owned()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| format!("{f:?}")),
        "\\PC{0,150}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("[]".to_owned()),
        Just("{}".to_owned()),
        Just("true".to_owned()),
    ];
    let key = prop_oneof![
        Just("first_name"),
        Just("last_name"),
        Just("email"),
        Just("password"),
        Just("grantee_email"),
        Just("scopes"),
        Just("user_id"),
        Just("expires_at"),
        Just("time"),
        Just("lat"),
        Just("lon"),
        Just("heart_rate"),
        Just("x"),
    ];
    prop_oneof![
        prop::collection::vec((key, value), 0..6).prop_map(|kv| {
            let body: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
            format!("{{{}}}", body.join(", ")).into_bytes()
        }),
        any::<Vec<u8>>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn bodies_never_panic_and_refusals_are_4xx(bytes in jsonish()) {
        check::<ManagedUserCreate>(&bytes)?;
        check::<RegisterRequest>(&bytes)?;
        check::<ShareCreate>(&bytes)?;
        let as_list = [b"[".as_slice(), &bytes, b"]".as_slice()].concat();
        check::<Trace>(&as_list)?;
    }

    #[test]
    fn query_booleans_accept_exactly_the_contracts_words(raw in "\\PC{0,8}") {
        let known = ["true", "false", "1", "0", "yes", "no", "on", "off"];
        prop_assert_eq!(query_bool(&raw).is_ok(), known.contains(&raw.to_ascii_lowercase().as_str()));
    }
}
