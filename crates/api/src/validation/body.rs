//! Request bodies, each declared once with `request!`.
//!
//! One declaration gives two structs. The request type itself, which
//! handlers get, with its fields' own types and `ToSchema` for the OpenAPI
//! document; and its *shape*, the same fields each wrapped in a [`Field`],
//! which serde derives from the body. A `Field`'s `Deserialize` never fails:
//! it keeps what it found (missing, refused with its faults, or a value), so
//! one read of a body finds the faults of every field, where serde alone
//! stops at the first. Then each field is taken in the order it is declared,
//! and the request type is built only when none was refused: no `unwrap`.
//!
//! Who checks what:
//! - A value's type reads it ([`Wire`]): a JSON type that is not the
//!   field's, and every rule a domain type holds ([`domain::PersonName`] is
//!   1 to 100 characters *after trimming*; an [`domain::Email`] is trimmed,
//!   capped and free of control characters before validator's e-mail check,
//!   which it calls; a [`domain::Password`] is not a common one). These stay
//!   the domain types' own parse: validator's `length` counts before
//!   trimming and its `email` does not trim, so they cannot give the same
//!   answers, and a domain type must check itself anyway.
//! - validator's derive, on the shape, checks what only the wire asks for:
//!   a bound on a plain value (`length`, `range`) or a check of our own
//!   (`custom`). Its errors become faults in the one mapping in
//!   [`crate::validation`], after the value has been read, so a field has
//!   one fault at most: its type's, else validator's.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use domain::{ActivityName, Email, Password, PersonName, Scope, ScopeError, ScopeSet, Sport, UserId};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use validator::{Validate, ValidateLength, ValidateRange, ValidationErrors, ValidationErrorsKind};

use super::Fault;
use crate::error::{FieldError, Loc};

/// The faults of one value, each at its path below the value: empty for
/// the value itself, an index for an item of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Faults(Vec<(Vec<Loc>, Fault)>);

impl From<Fault> for Faults {
    fn from(fault: Fault) -> Faults {
        Faults(vec![(Vec::new(), fault)])
    }
}

/// A type as a JSON body writes it, read the way the original framework
/// reads it, with its faults.
pub trait Wire: Sized {
    fn read(value: &Value) -> Result<Self, Faults>;
}

fn string(value: &Value) -> Result<&str, Fault> {
    value.as_str().ok_or_else(|| Fault::new("string_type", "Input should be a valid string"))
}

/// Any string. (A password being checked, not set, is one; its bound is
/// validator's.)
impl Wire for String {
    fn read(value: &Value) -> Result<Self, Faults> {
        Ok(string(value)?.to_owned())
    }
}

impl Wire for PersonName {
    fn read(value: &Value) -> Result<Self, Faults> {
        Ok(PersonName::parse(string(value)?).map_err(Fault::from)?)
    }
}

impl Wire for ActivityName {
    fn read(value: &Value) -> Result<Self, Faults> {
        Ok(ActivityName::parse(string(value)?).map_err(Fault::from)?)
    }
}

impl Wire for Sport {
    fn read(value: &Value) -> Result<Self, Faults> {
        Ok(Sport::parse(string(value)?).map_err(Fault::from)?)
    }
}

impl Wire for Email {
    fn read(value: &Value) -> Result<Self, Faults> {
        Ok(Email::parse(string(value)?).map_err(Fault::from)?)
    }
}

/// A password being set.
impl Wire for Password {
    fn read(value: &Value) -> Result<Self, Faults> {
        Ok(Password::parse(string(value)?).map_err(Fault::from)?)
    }
}

impl Wire for UserId {
    fn read(value: &Value) -> Result<Self, Faults> {
        Ok(string(value)?.parse().map_err(|_| Fault::new("uuid_parsing", "Input should be a valid UUID"))?)
    }
}

/// A date-time with an offset (RFC 3339), in UTC, cut to the microsecond
/// so that what is answered equals what is stored.
impl Wire for DateTime<Utc> {
    fn read(value: &Value) -> Result<Self, Faults> {
        let s = value.as_str().ok_or_else(|| Fault::new("datetime_type", "Input should be a valid datetime"))?;
        match DateTime::parse_from_rfc3339(s.trim()) {
            Ok(t) => Ok(domain::time::micros(t.with_timezone(&Utc))),
            Err(_) if chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M:%S%.f").is_ok() => {
                Err(Fault::new("timezone_aware", "Input should have timezone info").into())
            }
            Err(e) => Err(Fault::new("datetime_parsing", format!("Input should be a valid datetime, {e}")).into()),
        }
    }
}

/// A whole number. `10.0` counts as whole, as it does for the original
/// framework.
impl Wire for i64 {
    fn read(value: &Value) -> Result<Self, Faults> {
        let n = match value {
            Value::Number(n) => {
                n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9e15).map(|f| f as i64))
            }
            _ => None,
        };
        Ok(n.ok_or_else(|| Fault::new("int_type", "Input should be a valid integer"))?)
    }
}

/// A whole number, saturated to `i32`'s range. Every `i32` field has bounds
/// far inside that range (a heart rate is 20 to 300), so a saturated value
/// fails its bound with the same fault as the exact one would.
impl Wire for i32 {
    fn read(value: &Value) -> Result<Self, Faults> {
        Ok(i64::read(value)?.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32)
    }
}

impl Wire for f64 {
    fn read(value: &Value) -> Result<Self, Faults> {
        Ok(value.as_f64().ok_or_else(|| Fault::new("float_type", "Input should be a valid number"))?)
    }
}

/// A list of scopes: non-empty, each a known scope (duplicates collapse),
/// every unknown one a fault at its index.
impl Wire for ScopeSet {
    fn read(value: &Value) -> Result<Self, Faults> {
        let items = value.as_array().ok_or_else(|| Fault::new("list_type", "Input should be a valid list"))?;
        if items.is_empty() {
            return Err(Fault::new("too_short", "List should have at least 1 item after validation").into());
        }
        let mut set = ScopeSet::EMPTY;
        let mut faults = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.as_str().ok_or(ScopeError).and_then(str::parse::<Scope>) {
                Ok(scope) => set.insert(scope),
                Err(e) => faults.push((vec![Loc::Index(i)], Fault::from(e))),
            }
        }
        if faults.is_empty() {
            Ok(set)
        } else {
            Err(Faults(faults))
        }
    }
}

/// `null`, or a `T`.
impl<T: Wire> Wire for Option<T> {
    fn read(value: &Value) -> Result<Self, Faults> {
        if value.is_null() {
            Ok(None)
        } else {
            T::read(value).map(Some)
        }
    }
}

/// What a field's absence means, written after its type in `request!`
/// (`pub name: T = Required`).
pub mod presence {
    /// Absent is a fault (`missing`). `null` is what `T` makes of it: a
    /// fault, unless `T` is an `Option`.
    pub enum Required {}
    /// Absent is `None`, told apart from `null`: the field is an
    /// `Option<T>` and a present value, `null` included, is read as a `T`.
    /// PUT's "absent leaves it as it is".
    pub enum Optional {}
    /// Absent is `T`'s default: for an `Option`, absent and `null` are one.
    pub enum Defaulted {}
}

/// How a field with presence `Self` is read, and what its absence gives.
pub trait Presence<T> {
    fn read(value: &Value) -> Result<T, Faults>;
    fn absent() -> Result<T, Faults>;
}

impl<T: Wire> Presence<T> for presence::Required {
    fn read(value: &Value) -> Result<T, Faults> {
        T::read(value)
    }

    fn absent() -> Result<T, Faults> {
        Err(Fault::new("missing", "Field required").into())
    }
}

impl<T: Wire> Presence<Option<T>> for presence::Optional {
    fn read(value: &Value) -> Result<Option<T>, Faults> {
        T::read(value).map(Some)
    }

    fn absent() -> Result<Option<T>, Faults> {
        Ok(None)
    }
}

impl<T: Wire + Default> Presence<T> for presence::Defaulted {
    fn read(value: &Value) -> Result<T, Faults> {
        T::read(value)
    }

    fn absent() -> Result<T, Faults> {
        Ok(T::default())
    }
}

/// One field of a body's shape, as found: absent, refused with its faults,
/// or a value. `P` (a [`presence`]) says how it is read and what absence
/// means.
pub struct Field<T, P> {
    found: Found<T>,
    presence: PhantomData<P>,
}

enum Found<T> {
    Missing,
    Invalid(Faults),
    Value(T),
}

impl<T, P> Field<T, P> {
    /// The value, when one was read.
    pub fn value(&self) -> Option<&T> {
        match &self.found {
            Found::Value(v) => Some(v),
            Found::Missing | Found::Invalid(_) => None,
        }
    }
}

impl<T, P: Presence<T>> Field<T, P> {
    fn take(self) -> Result<T, Faults> {
        match self.found {
            Found::Missing => P::absent(),
            Found::Invalid(faults) => Err(faults),
            Found::Value(v) => Ok(v),
        }
    }
}

/// A field the body does not have; a shape is `#[serde(default)]`, so
/// serde leaves these.
impl<T, P> Default for Field<T, P> {
    fn default() -> Self {
        Field { found: Found::Missing, presence: PhantomData }
    }
}

impl<'de, T, P: Presence<T>> Deserialize<'de> for Field<T, P> {
    /// Never fails on a value: a refused one is kept with its faults.
    /// Through a `Value` because the readers take one: a copy of the field,
    /// in a body of at most 64 KiB (a trace, up to 16 MiB, is read this way
    /// only once serde's typed fast path has refused it).
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        let found = match P::read(&value) {
            Ok(v) => Found::Value(v),
            Err(faults) => Found::Invalid(faults),
        };
        Ok(Field { found, presence: PhantomData })
    }
}

/// validator copies a checked value into its error (`params["value"]`).
/// The faults made from its errors never show it, and a field may hold a
/// password, so a field copies as `null`.
impl<T, P> Serialize for Field<T, P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }
}

/// validator's `length`, on a value that was read; nothing to check
/// otherwise.
impl<T: ValidateLength<u64>, P> ValidateLength<u64> for Field<T, P> {
    fn length(&self) -> Option<u64> {
        self.value()?.length()
    }
}

/// validator's `range`, on a value that was read.
impl<N, T: ValidateRange<N>, P> ValidateRange<N> for Field<T, P> {
    fn greater_than(&self, max: N) -> Option<bool> {
        self.value()?.greater_than(max)
    }

    fn less_than(&self, min: N) -> Option<bool> {
        self.value()?.less_than(min)
    }
}

/// A request body declared with `request!`, which writes this impl.
pub trait Request: Sized {
    /// The body as serde reads it: every field a [`Field`].
    type Shape: DeserializeOwned + Validate;
    /// Every field taken from the shape: `None` where it was refused.
    type Fields: Default;

    fn fields(shape: Self::Shape, reading: &mut Reading<'_>) -> Self::Fields;

    /// The request, when no field was refused.
    fn from_fields(fields: Self::Fields) -> Option<Self>;
}

/// Reads `value`, found at `loc`, as `T`'s fields; every fault goes to
/// `faults`, in the order of `T`'s fields. Anything but an object is one
/// fault at `loc`, and no field.
pub fn read_object<T: Request>(value: &Value, loc: Vec<Loc>, faults: &mut Vec<FieldError>) -> T::Fields {
    // serde would take a list too, as the fields in order.
    let shape = if value.is_object() { T::Shape::deserialize(value).ok() } else { None };
    let Some(shape) = shape else {
        faults.push(FieldError::new(
            loc,
            "model_attributes_type",
            "Input should be a valid dictionary or object to extract fields from",
        ));
        return T::Fields::default();
    };
    let checks = shape.validate().err().unwrap_or_default();
    T::fields(shape, &mut Reading { loc, checks, faults })
}

/// One object being read: where it is, validator's verdict on its shape,
/// and the faults found so far.
pub struct Reading<'a> {
    loc: Vec<Loc>,
    checks: ValidationErrors,
    faults: &'a mut Vec<FieldError>,
}

impl Reading<'_> {
    /// The value of field `name`, or `None` and its faults: its type's,
    /// else validator's.
    pub fn field<T, P: Presence<T>>(&mut self, name: &'static str, field: Field<T, P>) -> Option<T> {
        let mut loc = self.loc.clone();
        loc.push(Loc::from(name));
        match field.take() {
            Err(Faults(faults)) => {
                for (below, fault) in faults {
                    let mut at = loc.clone();
                    at.extend(below);
                    self.faults.push(FieldError::new(at, fault.kind, fault.msg));
                }
                None
            }
            Ok(value) => match self.checks.errors().get(name) {
                Some(ValidationErrorsKind::Field(errors)) => {
                    for e in errors {
                        let fault = Fault::from(e);
                        self.faults.push(FieldError::new(loc.clone(), fault.kind, fault.msg));
                    }
                    None
                }
                Some(_) | None => Some(value),
            },
        }
    }
}

/// Declares a request body once: the request type, with `ToSchema` (and
/// `Debug`), and its reading, every fault listed (see the
/// [module](crate::validation::body)).
///
/// ```text
/// request! {
///     #[schema(as = Name)]                    // the type's attributes
///     pub struct ShareUpdate {
///         /// Doc comments.                   // each field's attributes, in
///         #[serde(...)]                       // this order: doc, serde (when
///         #[schema(...)]                      // the type derives serde too),
///         #[validate(...)]                    // schema, validate
///         pub expires_at: Option<Option<DateTime<Utc>>> = Optional,
///     }
/// }
/// ```
/// After each field's type comes its [`presence`]: `Required`, `Optional`
/// or `Defaulted`. `#[validate(...)]` is validator's, on the shape; the
/// others go on the request type.
macro_rules! request {
    (
        $(#[$attr:meta])*
        pub struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $(#[serde $serde:tt])*
                $(#[schema $schema:tt])*
                $(#[validate $validate:tt])*
                pub $field:ident : $ty:ty = $presence:ident
            ),* $(,)?
        }
    ) => {
        // First: a derive must come before the attributes of its helpers.
        #[derive(Debug, ::utoipa::ToSchema)]
        $(#[$attr])*
        pub struct $name {
            $(
                $(#[doc = $doc])*
                $(#[serde $serde])*
                $(#[schema $schema])*
                pub $field: $ty,
            )*
        }

        // Paths in full: an import here would also name the fields' types.
        const _: () = {
            #[derive(::serde::Deserialize, ::validator::Validate, Default)]
            #[serde(default)]
            pub struct Shape {
                $(
                    $(#[validate $validate])*
                    $field: $crate::validation::body::Field<$ty, $crate::validation::body::presence::$presence>,
                )*
            }

            #[derive(Default)]
            pub struct Fields {
                $( pub $field: Option<$ty>, )*
            }

            impl $crate::validation::body::Request for $name {
                type Shape = Shape;
                type Fields = Fields;

                fn fields(shape: Shape, reading: &mut $crate::validation::body::Reading<'_>) -> Fields {
                    Fields { $( $field: reading.field(stringify!($field), shape.$field), )* }
                }

                fn from_fields(fields: Fields) -> Option<Self> {
                    match fields {
                        Fields { $( $field: Some($field), )* } => Some($name { $( $field, )* }),
                        _ => None,
                    }
                }
            }
        };
    };
}
pub(crate) use request;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::validation::FromJson;

    request! {
        pub struct Probe {
            #[schema(value_type = String)]
            pub first_name: PersonName = Required,
            #[schema(value_type = Option<String>)]
            pub last_name: Option<PersonName> = Required,
            pub absent: String = Required,
        }
    }

    #[test]
    fn every_fault_of_an_object_is_listed() {
        let body = json!({"first_name": 5, "last_name": ""});
        let errors = Probe::from_json(&body).unwrap_err();
        let kinds: Vec<_> = errors.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["string_type", "string_too_short", "missing"]);
        assert_eq!(errors[2].loc, vec![Loc::from("body"), Loc::from("absent")]);

        let body = json!({"first_name": " Ada ", "last_name": null, "absent": "here", "unread": 1});
        let Probe { first_name, last_name, absent } = Probe::from_json(&body).unwrap();
        assert_eq!((first_name.as_str(), last_name, absent.as_str()), ("Ada", None, "here"));
    }
}
