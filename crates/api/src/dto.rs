//! The wire types. They are not rows: a column rename never changes the
//! wire. Their `ToSchema` derives write the OpenAPI document; Part A's
//! names, fields and required lists are those of the reference page.

use chrono::{DateTime, Utc};
use domain::{Email, Password, PersonName, Scope, ScopeSet, User, UserId};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::validation::{email, given_password, new_password, nullable, person_name, Fields, FromJson};

// `Scope` in the document: the values a scope may take.
#[derive(ToSchema)]
#[schema(as = Scope)]
#[allow(dead_code)]
pub enum ScopeDoc {
    #[schema(rename = "data:read")]
    DataRead,
    #[schema(rename = "data:write")]
    DataWrite,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    #[schema(value_type = String)]
    pub id: UserId,
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    pub admin: bool,
    pub registered_at: DateTime<Utc>,
    #[schema(read_only)]
    pub display_name: String,
    #[schema(read_only)]
    pub is_managed: bool,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        UserResponse {
            id: user.id,
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            admin: user.admin,
            registered_at: user.registered_at,
            display_name: user.display_name(),
            is_managed: user.is_managed(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserSummary {
    #[schema(value_type = String)]
    pub id: UserId,
    #[schema(required = true)]
    pub first_name: Option<String>,
    #[schema(required = true)]
    pub last_name: Option<String>,
    #[schema(value_type = Vec<ScopeDoc>)]
    pub scopes: ScopeSet,
    #[schema(read_only)]
    pub display_name: String,
    #[schema(read_only)]
    pub is_managed: bool,
}

impl UserSummary {
    pub fn new(user: &User, scopes: ScopeSet) -> Self {
        UserSummary {
            id: user.id,
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            scopes,
            display_name: user.display_name(),
            is_managed: user.is_managed(),
        }
    }
}

/// Kept so the document lists `Scope` even where only sets are used.
pub fn _scope_is_documented(_: Scope) {}

#[derive(Debug, ToSchema)]
pub struct ManagedUserCreate {
    #[schema(value_type = String)]
    pub first_name: PersonName,
    #[schema(value_type = Option<String>, required = true)]
    pub last_name: Option<PersonName>,
}

impl FromJson for ManagedUserCreate {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let first_name = f.required("first_name", person_name);
        let last_name = f.required("last_name", nullable(person_name));
        f.finish(|| ManagedUserCreate { first_name: first_name.unwrap(), last_name: last_name.unwrap() })
    }
}

// PUT semantics per field: absent leaves it, `null` clears it (a 422 for
// `first_name`: a managed user always has one), a string sets it. (Plain
// comments on Part A types: a doc comment would become a `description`
// that the reference page does not have.)
#[derive(Debug, ToSchema)]
#[schema(as = Body_update_managed_user_api_v1_users__user_id__put)]
pub struct ManagedUserUpdate {
    #[schema(value_type = Option<String>)]
    pub first_name: Option<PersonName>,
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<PersonName>>,
}

impl FromJson for ManagedUserUpdate {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let first_name = f.optional("first_name", |v| {
            if v.is_null() {
                Err(crate::validation::Fault::new("string_type", "Input should be a valid string"))
            } else {
                person_name(v)
            }
        });
        let last_name = f.optional("last_name", nullable(person_name));
        f.finish(|| ManagedUserUpdate { first_name: first_name.unwrap(), last_name: last_name.unwrap() })
    }
}

#[derive(Debug, ToSchema)]
pub struct RegisterRequest {
    #[schema(value_type = String, format = "email")]
    pub email: Email,
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub password: Password,
    #[schema(value_type = Option<String>)]
    pub first_name: Option<PersonName>,
    #[schema(value_type = Option<String>)]
    pub last_name: Option<PersonName>,
}

impl FromJson for RegisterRequest {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let email = f.required("email", email);
        let password = f.required("password", new_password);
        let first_name = f.optional("first_name", nullable(person_name));
        let last_name = f.optional("last_name", nullable(person_name));
        f.finish(|| RegisterRequest {
            email: email.unwrap(),
            password: password.unwrap(),
            first_name: first_name.unwrap().flatten(),
            last_name: last_name.unwrap().flatten(),
        })
    }
}

#[derive(Debug, ToSchema)]
pub struct PasswordChange {
    #[schema(value_type = String, format = Password)]
    pub current_password: String,
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub new_password: Password,
}

impl FromJson for PasswordChange {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let current = f.required("current_password", given_password);
        let new = f.required("new_password", new_password);
        f.finish(|| PasswordChange { current_password: current.unwrap(), new_password: new.unwrap() })
    }
}

#[derive(Debug, ToSchema)]
pub struct AccountDelete {
    #[schema(format = Password)]
    pub password: String,
}

impl FromJson for AccountDelete {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let password = f.required("password", given_password);
        f.finish(|| AccountDelete { password: password.unwrap() })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: i64,
}

/// The body of every error but 422.
#[derive(Serialize, ToSchema)]
#[schema(as = HTTPError)]
pub struct HttpErrorDoc {
    pub detail: String,
}

// `ValidationError` in the document.
#[derive(ToSchema)]
#[schema(as = ValidationError)]
#[allow(dead_code)]
pub struct ValidationErrorDoc {
    #[schema(schema_with = loc_schema)]
    loc: Vec<Value>,
    msg: String,
    r#type: String,
}

/// A `loc`: field names and list indexes.
fn loc_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            AnyOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(Type::String))
                .item(ObjectBuilder::new().schema_type(Type::Integer)),
        )
        .build()
}

// `HTTPValidationError` in the document.
#[derive(ToSchema)]
#[schema(as = HTTPValidationError)]
#[allow(dead_code)]
pub struct HttpValidationErrorDoc {
    #[schema(required = false)]
    detail: Vec<ValidationErrorDoc>,
}

/// A list of scopes: non-empty, each a known scope (duplicates collapse).
fn scopes(value: &Value, loc: &[crate::Loc], errors: &mut Vec<FieldError>) -> Option<ScopeSet> {
    use crate::Loc;
    let at = |extra: Option<usize>| {
        let mut l = loc.to_vec();
        l.push(Loc::from("scopes"));
        l.extend(extra.map(Loc::Index));
        l
    };
    let Some(items) = value.as_array() else {
        errors.push(FieldError::new(at(None), "list_type", "Input should be a valid list"));
        return None;
    };
    if items.is_empty() {
        errors.push(FieldError::new(at(None), "too_short", "List should have at least 1 item after validation"));
        return None;
    }
    let mut set = ScopeSet::EMPTY;
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        match item.as_str().ok_or(domain::ScopeError).and_then(str::parse::<Scope>) {
            Ok(scope) => set.insert(scope),
            Err(e) => {
                ok = false;
                let fault = crate::validation::Fault::from(e);
                errors.push(FieldError::new(at(Some(i)), fault.kind, fault.msg));
            }
        }
    }
    ok.then_some(set)
}

/// The required `scopes` field of `f`, every fault listed.
fn required_scopes(f: &mut Fields<'_>) -> Option<ScopeSet> {
    let loc = f.loc().to_vec();
    let value = f.required("scopes", Ok)?;
    let mut errors = Vec::new();
    let set = scopes(value, &loc, &mut errors);
    for e in errors {
        f.push(e.loc, crate::validation::Fault::new(e.kind, e.msg));
    }
    set
}

/// An end that is still ahead.
fn future_datetime(value: &Value) -> Result<DateTime<Utc>, crate::validation::Fault> {
    let t = crate::validation::datetime(value)?;
    if t <= Utc::now() {
        return Err(crate::validation::Fault::new("value_error", "Value error, expires_at must be in the future"));
    }
    Ok(t)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShareResponse {
    #[schema(value_type = String)]
    pub id: domain::ShareId,
    #[schema(value_type = String)]
    pub subject_id: UserId,
    #[schema(value_type = String)]
    pub grantee_id: UserId,
    pub grantee_display_name: String,
    pub subject_display_name: String,
    #[schema(value_type = Vec<ScopeDoc>)]
    pub scopes: ScopeSet,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl ShareResponse {
    /// `users` must hold the share's subject and grantee.
    pub fn new(share: &domain::Share, users: &std::collections::HashMap<UserId, User>) -> Self {
        let name = |id: &UserId| users.get(id).map_or_else(|| "User".to_owned(), User::display_name);
        ShareResponse {
            id: share.id,
            subject_id: share.subject,
            grantee_id: share.grantee,
            grantee_display_name: name(&share.grantee),
            subject_display_name: name(&share.subject),
            scopes: share.scopes,
            created_at: share.created_at,
            expires_at: share.expires_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SharesList {
    pub granted: Vec<ShareResponse>,
    pub received: Vec<ShareResponse>,
}

#[derive(Debug, ToSchema)]
pub struct ShareCreate {
    #[schema(value_type = String, format = "email")]
    pub grantee_email: Email,
    #[schema(value_type = Vec<ScopeDoc>, min_items = 1)]
    pub scopes: ScopeSet,
    /// The subject: the caller when absent, else a user the caller manages.
    #[schema(value_type = Option<String>)]
    pub user_id: Option<UserId>,
    /// The end of the share; none when absent or null.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<DateTime<Utc>>,
}

impl FromJson for ShareCreate {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let grantee_email = f.required("grantee_email", email);
        let scopes = required_scopes(&mut f);
        let user_id = f.optional("user_id", nullable(crate::validation::uuid::<UserId>));
        let expires_at = f.optional("expires_at", nullable(future_datetime));
        f.finish(|| ShareCreate {
            grantee_email: grantee_email.unwrap(),
            scopes: scopes.unwrap(),
            user_id: user_id.unwrap().flatten(),
            expires_at: expires_at.unwrap().flatten(),
        })
    }
}

#[derive(Debug, ToSchema)]
pub struct ShareUpdate {
    #[schema(value_type = Vec<ScopeDoc>, min_items = 1)]
    pub scopes: ScopeSet,
    /// Absent: the end stays; null: no end; a time: that end.
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub expires_at: Option<Option<DateTime<Utc>>>,
}

impl FromJson for ShareUpdate {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        let mut f = Fields::of_body(body)?;
        let scopes = required_scopes(&mut f);
        let expires_at = f.optional("expires_at", nullable(future_datetime));
        f.finish(|| ShareUpdate { scopes: scopes.unwrap(), expires_at: expires_at.unwrap() })
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivityResponse {
    #[schema(value_type = String)]
    pub id: domain::ActivityId,
    #[schema(value_type = String)]
    pub user_id: UserId,
    pub name: String,
    pub sport: String,
    pub started_at: DateTime<Utc>,
    #[schema(required = true)]
    pub duration_seconds: Option<i64>,
    #[schema(required = true)]
    pub distance_meters: Option<f64>,
    pub created_at: DateTime<Utc>,
}

impl From<&domain::Activity> for ActivityResponse {
    fn from(a: &domain::Activity) -> Self {
        ActivityResponse {
            id: a.id,
            user_id: a.user_id,
            name: a.name.clone(),
            sport: a.sport.clone(),
            started_at: a.started_at,
            duration_seconds: a.duration_seconds,
            distance_meters: a.distance_meters,
            created_at: a.created_at,
        }
    }
}

#[derive(Debug, ToSchema)]
pub struct ActivityCreate {
    #[schema(value_type = String, min_length = 1, max_length = 200)]
    pub name: domain::ActivityName,
    #[schema(value_type = String, min_length = 1, max_length = 50)]
    pub sport: domain::Sport,
    pub started_at: DateTime<Utc>,
    #[schema(minimum = 0)]
    pub duration_seconds: Option<i64>,
    #[schema(minimum = 0.0)]
    pub distance_meters: Option<f64>,
}

impl FromJson for ActivityCreate {
    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        use crate::validation::{datetime, int_at_least, number_at_least, string};
        let mut f = Fields::of_body(body)?;
        let name = f.required("name", |v| Ok(domain::ActivityName::parse(string(v)?)?));
        let sport = f.required("sport", |v| Ok(domain::Sport::parse(string(v)?)?));
        let started_at = f.required("started_at", datetime);
        let duration = f.optional("duration_seconds", nullable(int_at_least(0)));
        let distance = f.optional("distance_meters", nullable(number_at_least(0.0)));
        f.finish(|| ActivityCreate {
            name: name.unwrap(),
            sport: sport.unwrap(),
            started_at: started_at.unwrap(),
            duration_seconds: duration.unwrap().flatten(),
            distance_meters: distance.unwrap().flatten(),
        })
    }
}

/// One GPS fix, as the wire writes it.
#[derive(Debug, Clone, serde::Deserialize, Serialize, ToSchema)]
#[schema(as = TracePoint)]
pub struct TracePointDto {
    pub time: DateTime<Utc>,
    #[schema(minimum = -90.0, maximum = 90.0)]
    pub lat: f64,
    #[schema(minimum = -180.0, maximum = 180.0)]
    pub lon: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elevation: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 20, maximum = 300)]
    pub heart_rate: Option<i32>,
}

impl From<&domain::TracePoint> for TracePointDto {
    fn from(p: &domain::TracePoint) -> Self {
        TracePointDto { time: p.time, lat: p.lat, lon: p.lon, elevation: p.elevation, heart_rate: p.heart_rate }
    }
}

impl From<TracePointDto> for domain::TracePoint {
    fn from(p: TracePointDto) -> Self {
        domain::TracePoint {
            time: domain::time::micros(p.time),
            lat: p.lat,
            lon: p.lon,
            elevation: p.elevation,
            heart_rate: p.heart_rate,
        }
    }
}

/// Whether a JSON text may hold an escaped NUL (`\u0000`, any case): a
/// scan of the backslashes, which a trace has none of.
fn may_hold_nul(body: &[u8]) -> bool {
    body.iter()
        .enumerate()
        .any(|(i, &b)| b == b'\\' && body.get(i + 1..i + 6).is_some_and(|tail| tail.eq_ignore_ascii_case(b"u0000")))
}

/// A whole trace: up to 100,000 points in time order.
#[derive(Debug)]
pub struct Trace(pub Vec<domain::TracePoint>);

fn trace_faults(points: &[domain::TracePoint]) -> Vec<FieldError> {
    use crate::Loc;
    domain::check_trace(points)
        .into_iter()
        .map(|f| {
            let fault = crate::validation::Fault::from(f.error);
            FieldError::new(
                vec![Loc::from("body"), Loc::Index(f.index), Loc::from(f.error.field())],
                fault.kind,
                fault.msg,
            )
        })
        .collect()
}

/// Where a field's faults stand among a point's: the domain's order.
fn field_rank(loc: &[crate::Loc]) -> (usize, usize) {
    use crate::Loc;
    let index = match loc.get(1) {
        Some(Loc::Index(i)) => *i,
        _ => 0,
    };
    let rank = match loc.get(2) {
        Some(Loc::Name(n)) => {
            ["lat", "lon", "elevation", "heart_rate", "time"].iter().position(|f| f == n).unwrap_or(5)
        }
        _ => 6,
    };
    (index, rank)
}

fn too_many_points() -> FieldError {
    FieldError::new(
        vec![crate::Loc::from("body")],
        "too_long",
        format!("List should have at most {} items after validation", domain::TRACE_MAX_POINTS),
    )
}

impl FromJson for Trace {
    const LIMIT: crate::validation::BodyLimit = crate::validation::BodyLimit::Trace;

    /// Good input takes the fast path: serde straight into typed points,
    /// then the domain's checks. Only input serde refuses is walked value
    /// by value, to list every fault.
    fn from_bytes(body: &[u8]) -> Result<Self, crate::ApiError> {
        // A NUL can only be written `\u0000` in JSON; a body that may hold
        // one (in any field, read or not) is walked, like every other body.
        if may_hold_nul(body) {
            return crate::validation::read_value(&crate::extract::parse_json(body)?);
        }
        match serde_json::from_slice::<Vec<TracePointDto>>(body) {
            Ok(points) => {
                if points.len() > domain::TRACE_MAX_POINTS {
                    return Err(crate::ApiError::Validation(vec![too_many_points()]));
                }
                let points: Vec<domain::TracePoint> = points.into_iter().map(Into::into).collect();
                let faults = trace_faults(&points);
                if faults.is_empty() {
                    Ok(Trace(points))
                } else {
                    Err(crate::ApiError::Validation(faults))
                }
            }
            // Serde's typed points hold no text (a time that does not
            // parse, a NUL in it included, takes this path), so only this
            // path needs the guard of `read_value`.
            Err(_) => crate::validation::read_value(&crate::extract::parse_json(body)?),
        }
    }

    fn from_json(body: &Value) -> Result<Self, Vec<FieldError>> {
        use crate::validation::{datetime, int_at_least, number};
        use crate::Loc;
        let Some(items) = body.as_array() else {
            return Err(vec![FieldError::new(vec![Loc::from("body")], "list_type", "Input should be a valid list")]);
        };
        if items.len() > domain::TRACE_MAX_POINTS {
            return Err(vec![too_many_points()]);
        }
        // Every point is checked whole: a field that does not parse gets a
        // harmless stand-in (the previous time, 0 for a coordinate, none for
        // the optional ones) so the domain's checks still run on the rest,
        // and the domain's faults on stand-ins are dropped. So one response
        // lists every fault of every point.
        let mut errors = Vec::new();
        let mut points = Vec::with_capacity(items.len());
        let mut stand_ins: std::collections::HashSet<(usize, &str)> = Default::default();
        let mut last_time = chrono::DateTime::<Utc>::MIN_UTC;
        for (i, item) in items.iter().enumerate() {
            let mut mark = |field| {
                stand_ins.insert((i, field));
            };
            let f = Fields::at(item, vec![Loc::from("body"), Loc::Index(i)]);
            let (time, lat, lon, elevation, heart_rate) = match f {
                Ok(mut f) => {
                    let fields = (
                        f.required("time", datetime),
                        f.required("lat", number),
                        f.required("lon", number),
                        f.optional("elevation", nullable(number)),
                        f.optional("heart_rate", nullable(int_at_least(i64::MIN))),
                    );
                    if let Err(e) = f.finish(|| ()) {
                        errors.extend(e);
                    }
                    fields
                }
                Err(e) => {
                    errors.extend(e);
                    (None, None, None, None, None)
                }
            };
            let time = time.unwrap_or_else(|| {
                mark("time");
                last_time
            });
            last_time = time;
            let point = domain::TracePoint {
                time,
                lat: lat.unwrap_or_else(|| {
                    mark("lat");
                    0.0
                }),
                lon: lon.unwrap_or_else(|| {
                    mark("lon");
                    0.0
                }),
                elevation: elevation
                    .unwrap_or_else(|| {
                        mark("elevation");
                        None
                    })
                    .flatten(),
                heart_rate: heart_rate
                    .unwrap_or_else(|| {
                        mark("heart_rate");
                        None
                    })
                    .flatten()
                    .map(|h| h.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32),
            };
            points.push(point);
        }
        errors.extend(trace_faults(&points).into_iter().filter(|e| match (&e.loc[1], &e.loc[2]) {
            (Loc::Index(i), Loc::Name(field)) => !stand_ins.contains(&(*i, field.as_str())),
            _ => true,
        }));
        errors.sort_by_key(|e| field_rank(&e.loc));
        if errors.is_empty() {
            Ok(Trace(points))
        } else {
            Err(errors)
        }
    }
}
