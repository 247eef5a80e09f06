//! C5: an account's TOTP factor and its recovery codes. The secret arrives
//! sealed (the API encrypts it) and leaves sealed; codes arrive hashed.
//! Every change that must not happen twice is one conditional statement
//! whose row count is the verdict: taking a step, confirming, using a
//! recovery code.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Binary, Nullable};
use domain::UserId;

use crate::schema::{recovery_codes, totp_factors};
use crate::types::{DbId, DbTime, Id, Ts};
use crate::{per_backend, AnyConnection, RunOn, StoreError};

/// An account's factor row: on when `enabled_at` is set, else an
/// enrollment live until `enroll_expires_at`.
#[derive(Clone)]
pub struct Factor {
    pub secret_sealed: Vec<u8>,
    pub enabled_at: Option<DateTime<Utc>>,
    pub enroll_expires_at: Option<DateTime<Utc>>,
    pub last_step: Option<i64>,
}

impl std::fmt::Debug for Factor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Factor")
            .field("secret_sealed", &"***")
            .field("enabled_at", &self.enabled_at)
            .field("last_step", &self.last_step)
            .finish()
    }
}

impl Factor {
    pub fn is_on(&self) -> bool {
        self.enabled_at.is_some()
    }

    /// An enrollment that may still be confirmed at `now`.
    pub fn is_live_enrollment(&self, now: DateTime<Utc>) -> bool {
        self.enabled_at.is_none() && self.enroll_expires_at.is_some_and(|t| t > now)
    }
}

type FactorRow = (Vec<u8>, Option<DbTime>, Option<DbTime>, Option<i64>);

/// The factor row of `user`, on or pending.
pub fn find(conn: &mut AnyConnection, user: UserId) -> Result<Option<Factor>, StoreError> {
    let row: Option<FactorRow> = totp_factors::table
        .find(DbId::from(user))
        .select((
            totp_factors::secret_sealed,
            totp_factors::enabled_at,
            totp_factors::enroll_expires_at,
            totp_factors::last_step,
        ))
        .first_on(conn)
        .optional()?;
    Ok(row.map(|(secret_sealed, enabled_at, expires, last_step)| Factor {
        secret_sealed,
        enabled_at: enabled_at.map(|t| t.0),
        enroll_expires_at: expires.map(|t| t.0),
        last_step,
    }))
}

// Replaces a pending enrollment (or makes one), never a factor that is
// on: then no row is written, and the caller answers 409. One statement,
// so an enrollment racing a confirmation cannot overwrite the confirmed
// secret. Placeholders numbered in order of first use (see throttle.rs).
const START_ENROLLMENT: &str = "\
INSERT INTO totp_factors (user_id, secret_sealed, enabled_at, enroll_expires_at, last_step)
VALUES ($1, $2, NULL, $3, NULL)
ON CONFLICT (user_id) DO UPDATE SET
    secret_sealed = excluded.secret_sealed,
    enroll_expires_at = excluded.enroll_expires_at,
    last_step = NULL
WHERE totp_factors.enabled_at IS NULL";

/// Starts (or restarts) an enrollment of `user` with this sealed secret,
/// live until `expires_at`. `false`: the factor is on, nothing changed.
pub fn start_enrollment(
    conn: &mut AnyConnection,
    user: UserId,
    secret_sealed: &[u8],
    expires_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (id, expires) = (DbId::from(user), DbTime::from(expires_at));
    let n = per_backend!(conn, |c| diesel::sql_query(START_ENROLLMENT)
        .bind::<Id, _>(id)
        .bind::<Binary, _>(secret_sealed)
        .bind::<Nullable<Ts>, _>(Some(expires))
        .execute(c))?;
    Ok(n > 0)
}

/// Turns the pending enrollment of `user` on at `now`, with `step` (the
/// confirming code's) as the last one used. One conditional statement:
/// of two confirmations at once, one turns it on and the other finds it
/// on (`false`).
pub fn confirm(conn: &mut AnyConnection, user: UserId, step: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let now = DbTime::from(now);
    let n = diesel::update(
        totp_factors::table
            .filter(totp_factors::user_id.eq(DbId::from(user)))
            .filter(totp_factors::enabled_at.is_null())
            .filter(totp_factors::enroll_expires_at.gt(now))
            .filter(totp_factors::last_step.is_null().or(totp_factors::last_step.lt(step))),
    )
    .set((
        totp_factors::enabled_at.eq(Some(now)),
        totp_factors::enroll_expires_at.eq(None::<DbTime>),
        totp_factors::last_step.eq(Some(step)),
    ))
    .execute_on(conn)?;
    Ok(n == 1)
}

/// Takes `step` as the last one accepted on `user`'s factor, by
/// compare-and-set: only when it is later than the last one. `true` (one
/// row) is the code accepted; of two sign-ins with one code at once, one
/// gets it.
pub fn take_step(conn: &mut AnyConnection, user: UserId, step: i64) -> Result<bool, StoreError> {
    let n = diesel::update(
        totp_factors::table
            .filter(totp_factors::user_id.eq(DbId::from(user)))
            .filter(totp_factors::enabled_at.is_not_null())
            .filter(totp_factors::last_step.is_null().or(totp_factors::last_step.lt(step))),
    )
    .set(totp_factors::last_step.eq(Some(step)))
    .execute_on(conn)?;
    Ok(n == 1)
}

/// Turns `user`'s factor off: its secret and recovery codes go (the codes
/// by cascade). A pending enrollment counts too when `pending_too`.
/// Whether a factor was on.
pub fn delete(conn: &mut AnyConnection, user: UserId, pending_too: bool) -> Result<bool, StoreError> {
    let id = DbId::from(user);
    // Explicit, beside the cascade: SQLite enforces foreign keys only on
    // connections that asked for it (Steward's all do; a batch tool might not).
    let on = totp_factors::table.filter(totp_factors::user_id.eq(id)).filter(totp_factors::enabled_at.is_not_null());
    let was_on = diesel::select(diesel::dsl::exists(on)).get_result_on::<bool>(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(id))).execute_on(conn)?;
    let mut gone = diesel::delete(totp_factors::table).filter(totp_factors::user_id.eq(id)).into_boxed();
    if !pending_too {
        gone = gone.filter(totp_factors::enabled_at.is_not_null());
    }
    gone.execute(conn)?;
    Ok(was_on)
}

/// Drops the enrollments that had expired by `now` and were never
/// confirmed (`purge-expired`): such a secret can no longer be confirmed,
/// and a factor that is on is never touched. How many. On
/// `totp_factors_enroll_expires_idx`.
pub fn purge_expired_enrollments(conn: &mut AnyConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let pending = totp_factors::enabled_at.is_null().and(totp_factors::enroll_expires_at.le(DbTime::from(now)));
    Ok(diesel::delete(totp_factors::table.filter(pending)).execute_on(conn)?)
}

/// Replaces `user`'s recovery codes with these hashes: the old set is void.
pub fn replace_recovery_codes(conn: &mut AnyConnection, user: UserId, hashes: &[Vec<u8>]) -> Result<(), StoreError> {
    let id = DbId::from(user);
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(id))).execute_on(conn)?;
    let rows: Vec<_> =
        hashes.iter().map(|h| (recovery_codes::user_id.eq(id), recovery_codes::code_hash.eq(h.as_slice()))).collect();
    // A batch insert: Diesel offers it per backend, not on the multi-backend.
    per_backend!(conn, |c| diesel::insert_into(recovery_codes::table).values(&rows).execute(c))?;
    Ok(())
}

/// Uses up the recovery code with this hash: one conditional delete, so a
/// code used twice at once works once. Whether it was there.
pub fn use_recovery_code(conn: &mut AnyConnection, user: UserId, hash: &[u8]) -> Result<bool, StoreError> {
    let n = diesel::delete(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(DbId::from(user)))
            .filter(recovery_codes::code_hash.eq(hash)),
    )
    .execute_on(conn)?;
    Ok(n == 1)
}

/// How many unused recovery codes `user` has.
pub fn recovery_codes_left(conn: &mut AnyConnection, user: UserId) -> Result<i64, StoreError> {
    Ok(recovery_codes::table.filter(recovery_codes::user_id.eq(DbId::from(user))).count().get_result_on(conn)?)
}
