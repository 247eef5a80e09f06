//! Counts of failed sign-ins, per key (an account, a client address),
//! kept in the database so that every replica sees the same counts. What
//! the counts mean is the domain's [`domain::throttle`] policy.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};
use domain::throttle::Failures;

use crate::schema::signin_throttle;
use crate::types::{DbTime, Ts};
use crate::{columns, per_backend, AnyConnection, RunOn, StoreError};

#[derive(QueryableByName, Queryable, Selectable)]
#[diesel(table_name = signin_throttle)]
struct Row {
    #[diesel(sql_type = Integer)]
    failures: i32,
    #[diesel(sql_type = Ts)]
    window_started_at: DbTime,
    #[diesel(sql_type = Ts)]
    last_failed_at: DbTime,
}

impl From<Row> for Failures {
    fn from(row: Row) -> Failures {
        Failures {
            count: u32::try_from(row.failures).unwrap_or(0),
            window_started_at: row.window_started_at.0,
            last_failed_at: row.last_failed_at.0,
        }
    }
}

// One atomic statement, so that concurrent failures on several replicas
// all count. A window older than `$3` starts afresh. Placeholders are
// numbered in order of first use, which SQLite reads the same way
// (`$N` names a parameter; names get indexes in order of appearance).
const RECORD_FAILURE: &str = "\
INSERT INTO signin_throttle (key, failures, window_started_at, last_failed_at) VALUES ($1, 1, $2, $2)
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN signin_throttle.window_started_at <= $3 THEN 1 ELSE signin_throttle.failures + 1 END,
    window_started_at = CASE WHEN signin_throttle.window_started_at <= $3 THEN excluded.window_started_at
                             ELSE signin_throttle.window_started_at END,
    last_failed_at = excluded.last_failed_at
RETURNING failures, window_started_at, last_failed_at";

/// Counts one failure for `key` at `now`; a window that began at or before
/// `window_cutoff` is over and starts again. Returns the count so far.
pub fn record_failure(
    conn: &mut AnyConnection,
    key: &str,
    now: DateTime<Utc>,
    window_cutoff: DateTime<Utc>,
) -> Result<Failures, StoreError> {
    let (now, cutoff) = (DbTime::from(now), DbTime::from(window_cutoff));
    let row: Row = per_backend!(conn, |c| diesel::sql_query(RECORD_FAILURE)
        .bind::<Text, _>(key)
        .bind::<Ts, _>(now)
        .bind::<Ts, _>(cutoff)
        .get_result(c))?;
    Ok(row.into())
}

/// The failures recorded for each of `keys`, in the order of `keys`
/// (`None` for a key without any).
pub fn failures(conn: &mut AnyConnection, keys: &[&str]) -> Result<Vec<Option<Failures>>, StoreError> {
    let rows: Vec<(String, Row)> = signin_throttle::table
        .filter(signin_throttle::key.eq_any(keys))
        .select((signin_throttle::key, columns::<Row>()))
        .load_on(conn)?;
    let mut by_key: std::collections::HashMap<String, Failures> =
        rows.into_iter().map(|(k, row)| (k, Failures::from(row))).collect();
    Ok(keys.iter().map(|k| by_key.remove(*k)).collect())
}

/// Forgets the failures of `key` (after a successful sign-in).
pub fn clear(conn: &mut AnyConnection, key: &str) -> Result<(), StoreError> {
    diesel::delete(signin_throttle::table.filter(signin_throttle::key.eq(key))).execute_on(conn)?;
    Ok(())
}

/// Drops the counts whose window began before `cutoff`: they no longer
/// slow anyone down. Keys starting with one of `longer` are left alone:
/// their policy's window is longer (the second-factor codes' day), and
/// [`purge_prefixed`] drops them.
pub fn purge(conn: &mut AnyConnection, cutoff: DateTime<Utc>, longer: &[&str]) -> Result<usize, StoreError> {
    let mut query = diesel::delete(signin_throttle::table)
        .filter(signin_throttle::window_started_at.lt(DbTime::from(cutoff)))
        .into_boxed();
    for prefix in longer {
        query = query.filter(signin_throttle::key.not_like(format!("{prefix}%")));
    }
    Ok(query.execute(conn)?)
}

/// Drops the counts of keys starting with `prefix` whose window began
/// before `cutoff`.
pub fn purge_prefixed(conn: &mut AnyConnection, prefix: &str, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        signin_throttle::table
            .filter(signin_throttle::key.like(format!("{prefix}%")))
            .filter(signin_throttle::window_started_at.lt(DbTime::from(cutoff))),
    )
    .execute_on(conn)?)
}
