//! Reading request bodies the way the contract's 422s need: every fault
//! of a body is collected (serde stops at the first), each with its `loc`,
//! a plain `msg` and a machine `type`, in the vocabulary of the original
//! framework (pydantic): `missing`, `string_type`, `string_too_short`, ...
//!
//! Every body goes through [`read_value`], the NUL guard; a request type
//! reads itself as [`body`] describes, and a trace as `dto::Trace` does.

pub mod body;

use std::borrow::Cow;

use domain::{EmailError, PasswordError, PointError, ScopeError, TextError};
use serde_json::Value;

use crate::error::{FieldError, Loc};
pub(crate) use body::request;

/// A fault in one value, before it knows where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub kind: &'static str,
    pub msg: String,
}

impl Fault {
    pub fn new(kind: &'static str, msg: impl Into<String>) -> Fault {
        Fault { kind, msg: msg.into() }
    }
}

// The one mapping from the domain's errors to 422 entries: each error's
// `type` is picked here, in the original framework's vocabulary, and its
// `msg` is its own message (the domain words them as the API answers).

impl From<TextError> for Fault {
    fn from(e: TextError) -> Fault {
        let kind = match e {
            TextError::Empty => "string_too_short",
            TextError::TooLong(_) => "string_too_long",
            TextError::ControlChar => "value_error",
        };
        Fault::new(kind, e.to_string())
    }
}

impl From<EmailError> for Fault {
    fn from(e: EmailError) -> Fault {
        let kind = match e {
            EmailError::Invalid => "value_error",
        };
        Fault::new(kind, e.to_string())
    }
}

impl From<PasswordError> for Fault {
    fn from(e: PasswordError) -> Fault {
        let kind = match e {
            PasswordError::TooShort => "string_too_short",
            PasswordError::TooLong => "string_too_long",
            PasswordError::TooCommon => "value_error",
        };
        Fault::new(kind, e.to_string())
    }
}

impl From<ScopeError> for Fault {
    fn from(e: ScopeError) -> Fault {
        Fault::new("enum", e.to_string())
    }
}

impl From<PointError> for Fault {
    fn from(e: PointError) -> Fault {
        let kind = match e {
            PointError::Latitude | PointError::Longitude | PointError::OutOfOrder => "value_error",
            PointError::Elevation => "finite_number",
            PointError::HeartRateTooLow => "greater_than_equal",
            PointError::HeartRateTooHigh => "less_than_equal",
        };
        Fault::new(kind, e.to_string())
    }
}

/// validator's errors, from the checks on a body's shape (see [`body`]).
/// A bound is read from the error's parameters (its value is not kept:
/// see `Field`'s `Serialize`), so each `length` or `range` names one bound.
/// A check of our own (`custom`) words its fault itself: its code is the
/// `type`, its message the `msg`.
impl From<&validator::ValidationError> for Fault {
    fn from(e: &validator::ValidationError) -> Fault {
        let bound = |name: &str| e.params.get(name).map(as_written);
        match (e.code.as_ref(), bound("min"), bound("max")) {
            ("length", Some(min), None) => {
                let s = if min == "1" { "" } else { "s" };
                Fault::new("string_too_short", format!("String should have at least {min} character{s}"))
            }
            ("length", None, Some(max)) => {
                let s = if max == "1" { "" } else { "s" };
                Fault::new("string_too_long", format!("String should have at most {max} character{s}"))
            }
            ("range", Some(min), None) => {
                Fault::new("greater_than_equal", format!("Input should be greater than or equal to {min}"))
            }
            ("range", None, Some(max)) => {
                Fault::new("less_than_equal", format!("Input should be less than or equal to {max}"))
            }
            _ => {
                let kind = match &e.code {
                    Cow::Borrowed(code) => code,
                    Cow::Owned(_) => "value_error",
                };
                Fault::new(kind, e.message.as_deref().unwrap_or(kind))
            }
        }
    }
}

/// A bound as Rust writes it, so `0.0` is `0`, as the messages have it.
fn as_written(value: &Value) -> String {
    match value.as_i64() {
        Some(n) => n.to_string(),
        None => value.as_f64().map_or_else(|| value.to_string(), |f| f.to_string()),
    }
}

/// Which body limit a body type falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLimit {
    /// `BODY_LIMIT_BYTES` (64 KiB unless configured).
    Standard,
    /// `TRACE_BODY_LIMIT_BYTES` (16 MiB unless configured): 100,000 points.
    Trace,
}

/// A body type read from JSON with every fault listed: a request type
/// ([`body::Request`]), or a trace.
pub trait FromJson: Sized {
    const LIMIT: BodyLimit = BodyLimit::Standard;

    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>>;

    /// Reads the raw body. The default parses it to a `Value` first; a
    /// type with a faster path for good input may override this, but must
    /// end in [`read_value`] whenever the body holds text it keeps.
    fn from_bytes(body: &[u8]) -> Result<Self, crate::ApiError> {
        read_value(&crate::extract::parse_json(body)?)
    }
}

impl<T: body::Request> FromJson for T {
    fn from_json(value: &Value) -> Result<Self, Vec<FieldError>> {
        let mut faults = Vec::new();
        let fields = body::read_object::<T>(value, vec![Loc::from("body")], &mut faults);
        match T::from_fields(fields) {
            Some(request) if faults.is_empty() => Ok(request),
            _ => Err(faults),
        }
    }
}

/// Reads a parsed body as `T`, behind the guard that every JSON body goes
/// through: no string anywhere in it may hold a NUL character. PostgreSQL's
/// `text` cannot store one (it fails the statement: a 500), and no field of
/// the contract can hold one, so each is a 422 at its own `loc`, listed
/// with the type's own faults (one fault per `loc`: a name with a NUL is
/// already refused by the name's rule). Passwords, which are only ever
/// hashed, follow the same rule, so that no field is an exception.
pub fn read_value<T: FromJson>(value: &Value) -> Result<T, crate::ApiError> {
    let mut nul = Vec::new();
    nul_faults(value, &mut vec![Loc::from("body")], &mut nul);
    match T::from_json(value) {
        Ok(v) if nul.is_empty() => Ok(v),
        Ok(_) => Err(crate::ApiError::Validation(nul)),
        Err(mut faults) => {
            nul.retain(|n| !faults.iter().any(|f| f.loc == n.loc));
            faults.extend(nul);
            Err(crate::ApiError::Validation(faults))
        }
    }
}

/// The fault of a text that holds a NUL character.
pub fn nul_fault() -> Fault {
    Fault::new("value_error", "Value error, must not contain NUL characters")
}

/// Whether `text` may reach the database: PostgreSQL's `text` holds any
/// character but NUL.
pub fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// Every string under `value` (object keys are names, never stored, and
/// left alone) that holds a NUL, each at its `loc`.
fn nul_faults(value: &Value, loc: &mut Vec<Loc>, out: &mut Vec<FieldError>) {
    match value {
        Value::String(s) if !storable(s) => {
            let fault = nul_fault();
            out.push(FieldError::new(loc.clone(), fault.kind, fault.msg));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                loc.push(Loc::Index(i));
                nul_faults(item, loc, out);
                loc.pop();
            }
        }
        Value::Object(fields) => {
            for (name, item) in fields {
                loc.push(Loc::from(name.as_str()));
                nul_faults(item, loc, out);
                loc.pop();
            }
        }
        _ => {}
    }
}

/// A boolean as the query string spells it: `true/false/1/0/yes/no/on/off`
/// in any case.
pub fn query_bool(raw: &str) -> Result<bool, Fault> {
    match raw.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Fault::new("bool_parsing", "Input should be a valid boolean, unable to interpret input")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn validators_errors_become_the_original_frameworks_faults() {
        let cases = [
            ("length", "max", json!(1024), "string_too_long", "String should have at most 1024 characters"),
            ("length", "min", json!(1), "string_too_short", "String should have at least 1 character"),
            ("range", "min", json!(0), "greater_than_equal", "Input should be greater than or equal to 0"),
            ("range", "min", json!(0.0), "greater_than_equal", "Input should be greater than or equal to 0"),
            ("range", "max", json!(2.5), "less_than_equal", "Input should be less than or equal to 2.5"),
        ];
        for (code, bound, value, kind, msg) in cases {
            let mut e = validator::ValidationError::new(code);
            e.add_param(Cow::Borrowed(bound), &value);
            assert_eq!(Fault::from(&e), Fault::new(kind, msg), "{code} {bound} {value}");
        }
        let own = validator::ValidationError::new("value_error").with_message("Value error, no".into());
        assert_eq!(Fault::from(&own), Fault::new("value_error", "Value error, no"), "a check of our own");
    }

    #[test]
    fn query_booleans_accept_the_contracts_spellings_only() {
        for yes in ["true", "TRUE", "1", "yes", "On"] {
            assert_eq!(query_bool(yes), Ok(true), "{yes}");
        }
        for no in ["false", "False", "0", "no", "OFF"] {
            assert_eq!(query_bool(no), Ok(false), "{no}");
        }
        for bad in ["", "t", "2", "maybe", "truee"] {
            assert!(query_bool(bad).is_err(), "{bad}");
        }
    }
}
