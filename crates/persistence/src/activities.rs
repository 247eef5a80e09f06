//! Activities and their traces: the data that scopes protect.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{Activity, ActivityId, ActivityName, Sport, TracePoint, UserId};

use crate::schema::{activities, activity_traces};
use crate::types::{DbId, DbTime};
use crate::{columns, AnyConnection, RunOn, StoreError};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = activities)]
struct ActivityRow {
    id: DbId,
    user_id: DbId,
    name: String,
    sport: String,
    started_at: DbTime,
    duration_seconds: Option<i64>,
    distance_meters: Option<f64>,
    created_at: DbTime,
}

impl From<ActivityRow> for Activity {
    fn from(row: ActivityRow) -> Activity {
        Activity {
            id: row.id.into(),
            user_id: row.user_id.into(),
            name: row.name,
            sport: row.sport,
            started_at: row.started_at.0,
            duration_seconds: row.duration_seconds,
            distance_meters: row.distance_meters,
            created_at: row.created_at.0,
        }
    }
}

/// An activity to record.
pub struct NewActivity {
    pub name: ActivityName,
    pub sport: Sport,
    pub started_at: DateTime<Utc>,
    pub duration_seconds: Option<i64>,
    pub distance_meters: Option<f64>,
}

/// Records an activity of `user`. `NotFound` when the user was deleted
/// meanwhile (the foreign key refuses the row: nothing is left behind).
pub fn create(
    conn: &mut AnyConnection,
    user: UserId,
    new: &NewActivity,
    now: DateTime<Utc>,
) -> Result<Activity, StoreError> {
    let row = ActivityRow {
        id: ActivityId::new().into(),
        user_id: user.into(),
        name: new.name.as_str().to_owned(),
        sport: new.sport.as_str().to_owned(),
        started_at: new.started_at.into(),
        duration_seconds: new.duration_seconds,
        distance_meters: new.distance_meters,
        created_at: now.into(),
    };
    diesel::insert_into(activities::table).values(&row).execute_on(conn)?;
    Ok(row.into())
}

pub fn find(conn: &mut AnyConnection, user: UserId, id: ActivityId) -> Result<Option<Activity>, StoreError> {
    let row: Option<ActivityRow> = activities::table
        .find(DbId::from(id))
        .filter(activities::user_id.eq(DbId::from(user)))
        .select(columns::<ActivityRow>())
        .first_on(conn)
        .optional()?;
    Ok(row.map(Activity::from))
}

/// A page of `user`'s activities, newest first (`started_at`, then `id`),
/// after `before` (exclusive) when given. `Ok(None)` when `before` names
/// no activity of this user.
pub fn list(
    conn: &mut AnyConnection,
    user: UserId,
    limit: i64,
    before: Option<ActivityId>,
) -> Result<Option<Vec<Activity>>, StoreError> {
    let user = DbId::from(user);
    let mut query = activities::table
        .filter(activities::user_id.eq(user))
        .order((activities::started_at.desc(), activities::id.desc()))
        .limit(limit)
        .select(columns::<ActivityRow>())
        .into_boxed();
    if let Some(before) = before {
        let cursor: Option<(DbTime, DbId)> = activities::table
            .find(DbId::from(before))
            .filter(activities::user_id.eq(user))
            .select((activities::started_at, activities::id))
            .first_on(conn)
            .optional()?;
        let Some((started_at, id)) = cursor else {
            return Ok(None);
        };
        // Keyset pagination: strictly after the cursor in the list's order,
        // so pages neither skip nor repeat, whatever is added meanwhile.
        query = query.filter(
            activities::started_at.lt(started_at).or(activities::started_at.eq(started_at).and(activities::id.lt(id))),
        );
    }
    Ok(Some(query.load::<ActivityRow>(conn)?.into_iter().map(Activity::from).collect()))
}

/// Deletes an activity of `user` and its trace; `false` when there was no
/// such activity.
pub fn delete(conn: &mut AnyConnection, user: UserId, id: ActivityId) -> Result<bool, StoreError> {
    let n = diesel::delete(
        activities::table.filter(activities::id.eq(DbId::from(id))).filter(activities::user_id.eq(DbId::from(user))),
    )
    .execute_on(conn)?;
    Ok(n > 0)
}

/// Replaces the trace of an activity of `user` with `points`, whole;
/// `false` when there is no such activity. Callers keep a trace within
/// [`domain::TRACE_MAX_POINTS`] (the API refuses a longer one with a 422),
/// so a count too large for its column is a bug: `Corrupt`, not a
/// conflict of the request's.
pub fn put_trace(
    conn: &mut AnyConnection,
    user: UserId,
    activity: ActivityId,
    points: &[TracePoint],
) -> Result<bool, StoreError> {
    let count = i32::try_from(points.len())
        .map_err(|_| StoreError::Corrupt(format!("a trace of {} points does not fit its count", points.len())))?;
    let packed = encode(points);
    crate::transaction(conn, |conn| {
        if find(conn, user, activity)?.is_none() {
            return Ok(false);
        }
        diesel::delete(activity_traces::table.find(DbId::from(activity))).execute_on(conn)?;
        diesel::insert_into(activity_traces::table)
            .values((
                activity_traces::activity_id.eq(DbId::from(activity)),
                activity_traces::user_id.eq(DbId::from(user)),
                activity_traces::point_count.eq(count),
                activity_traces::points.eq(&packed),
            ))
            .execute_on(conn)?;
        Ok(true)
    })
}

/// The trace of an activity of `user` (empty when none was uploaded);
/// `None` when there is no such activity. One row, whatever its length.
pub fn get_trace(
    conn: &mut AnyConnection,
    user: UserId,
    activity: ActivityId,
) -> Result<Option<Vec<TracePoint>>, StoreError> {
    let row: Option<(DbId, Option<Vec<u8>>)> = activities::table
        .left_join(activity_traces::table)
        .filter(activities::id.eq(DbId::from(activity)))
        .filter(activities::user_id.eq(DbId::from(user)))
        .select((activities::id, activity_traces::points.nullable()))
        .first_on(conn)
        .optional()?;
    match row {
        None => Ok(None),
        Some((_, None)) => Ok(Some(Vec::new())),
        Some((_, Some(bytes))) => decode(&bytes).map(Some),
    }
}

// The packed trace: a version byte, then 34 bytes a point, little-endian:
// time (i64 microseconds since the epoch), lat, lon, elevation (f64; NaN
// for none: a stored elevation is always finite), heart rate (i16; 0 for
// none: a stored one is 20 to 300). 100,000 points are 3.4 MB.
const FORMAT_V1: u8 = 1;
const POINT_BYTES: usize = 34;

pub fn encode(points: &[TracePoint]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + points.len() * POINT_BYTES);
    out.push(FORMAT_V1);
    for p in points {
        out.extend_from_slice(&p.time.timestamp_micros().to_le_bytes());
        out.extend_from_slice(&p.lat.to_le_bytes());
        out.extend_from_slice(&p.lon.to_le_bytes());
        out.extend_from_slice(&p.elevation.unwrap_or(f64::NAN).to_le_bytes());
        let hr = p.heart_rate.and_then(|h| i16::try_from(h).ok()).unwrap_or(0);
        out.extend_from_slice(&hr.to_le_bytes());
    }
    out
}

pub fn decode(bytes: &[u8]) -> Result<Vec<TracePoint>, StoreError> {
    let corrupt = || StoreError::Corrupt("a stored trace does not decode".into());
    let (&version, body) = bytes.split_first().ok_or_else(corrupt)?;
    if version != FORMAT_V1 || body.len() % POINT_BYTES != 0 {
        return Err(corrupt());
    }
    let f64_at = |c: &[u8], i: usize| f64::from_le_bytes(c[i..i + 8].try_into().expect("8 bytes"));
    body.chunks_exact(POINT_BYTES)
        .map(|c| {
            let micros = i64::from_le_bytes(c[0..8].try_into().expect("8 bytes"));
            let elevation = f64_at(c, 24);
            let hr = i16::from_le_bytes(c[32..34].try_into().expect("2 bytes"));
            Ok(TracePoint {
                time: DateTime::from_timestamp_micros(micros).ok_or_else(corrupt)?,
                lat: f64_at(c, 8),
                lon: f64_at(c, 16),
                elevation: (!elevation.is_nan()).then_some(elevation),
                heart_rate: (hr != 0).then_some(i32::from(hr)),
            })
        })
        .collect()
}

/// Every activity of these users, newest first, each with its trace: what
/// an export hands over. Two statements, whatever the counts.
pub fn all_with_traces(
    conn: &mut AnyConnection,
    users: &[UserId],
) -> Result<Vec<(Activity, Vec<TracePoint>)>, StoreError> {
    let users: Vec<DbId> = users.iter().copied().map(DbId::from).collect();
    let activities: Vec<Activity> = activities::table
        .filter(activities::user_id.eq_any(&users))
        .order((activities::started_at.desc(), activities::id.desc()))
        .select(columns::<ActivityRow>())
        .load_on::<ActivityRow>(conn)?
        .into_iter()
        .map(Activity::from)
        .collect();
    let traces: Vec<(DbId, Vec<u8>)> = activity_traces::table
        .filter(activity_traces::user_id.eq_any(&users))
        .select((activity_traces::activity_id, activity_traces::points))
        .load_on(conn)?;
    let mut by_activity: std::collections::HashMap<ActivityId, Vec<TracePoint>> = std::collections::HashMap::new();
    for (id, bytes) in traces {
        by_activity.insert(id.into(), decode(&bytes)?);
    }
    Ok(activities
        .into_iter()
        .map(|a| {
            let trace = by_activity.remove(&a.id).unwrap_or_default();
            (a, trace)
        })
        .collect())
}
