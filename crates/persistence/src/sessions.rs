//! Sign-ins. A token is good only while the sign-in it descends from is
//! here, unrevoked and within its absolute limit, and its user is an
//! account: so revocation, password changes and deleted users take effect
//! on every replica at once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::sign_in::SecondFactor;
use domain::{SessionId, User, UserId};

use crate::schema::{sessions, users};
use crate::types::{DbId, DbTime};
use crate::users::UserRow;
use crate::{columns, AnyConnection, RunOn, StoreError};

#[derive(Insertable)]
#[diesel(table_name = sessions)]
struct NewSessionRow<'a> {
    id: DbId,
    user_id: DbId,
    created_at: DbTime,
    expires_at: DbTime,
    revoked_at: Option<DbTime>,
    last_used_at: DbTime,
    ip: Option<&'a str>,
    last_ip: Option<&'a str>,
    user_agent: Option<&'a str>,
    second_factor: Option<&'a str>,
}

/// The most live sign-ins an account keeps: a new one past it revokes the
/// least recently used.
pub const MAX_LIVE_PER_ACCOUNT: i64 = 100;

/// A sign-in to record: where it came from (already cut to what is kept:
/// `domain::sign_in`) and how it gave a second factor.
#[derive(Debug, Clone, Copy)]
pub struct NewSignIn<'a> {
    pub user: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub second_factor: Option<SecondFactor>,
}

/// Records a sign-in that ends at `expires_at` whatever refreshes follow,
/// with nothing known of where it came from.
pub fn create(
    conn: &mut AnyConnection,
    user: UserId,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<SessionId, StoreError> {
    record(conn, &NewSignIn { user, created_at, expires_at, ip: None, user_agent: None, second_factor: None })
}

/// Records a sign-in, then revokes the account's least recently used live
/// ones past [`MAX_LIVE_PER_ACCOUNT`]. Two statements while the account
/// holds fewer (the second finds nothing to revoke); call it in a
/// transaction.
pub fn record(conn: &mut AnyConnection, new: &NewSignIn<'_>) -> Result<SessionId, StoreError> {
    let id = SessionId::new();
    let user = DbId::from(new.user);
    diesel::insert_into(sessions::table)
        .values(NewSessionRow {
            id: id.into(),
            user_id: user,
            created_at: new.created_at.into(),
            expires_at: new.expires_at.into(),
            revoked_at: None,
            last_used_at: new.created_at.into(),
            ip: new.ip,
            last_ip: new.ip,
            user_agent: new.user_agent,
            second_factor: new.second_factor.map(SecondFactor::as_str),
        })
        .execute_on(conn)?;
    let now = DbTime::from(new.created_at);
    let surplus: Vec<DbId> = sessions::table
        .filter(sessions::user_id.eq(user))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .order((sessions::last_used_at.desc(), sessions::id.desc()))
        .offset(MAX_LIVE_PER_ACCOUNT)
        .limit(1000)
        .select(sessions::id)
        .load_on(conn)?;
    if !surplus.is_empty() {
        diesel::update(sessions::table.filter(sessions::id.eq_any(surplus)))
            .set(sessions::revoked_at.eq(Some(now)))
            .execute_on(conn)?;
    }
    Ok(id)
}

/// A live sign-in: the account it belongs to, when it ends, when it was
/// last seen used (to [`touch`] when stale) and how it gave a second
/// factor (its tokens' `amr`).
pub struct LiveSession {
    pub user: User,
    pub expires_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub second_factor: Option<SecondFactor>,
}

/// The account behind a token's `sub` and `sid`, if the sign-in is live
/// at `now` and the user is still an account. One statement.
pub fn authenticate(
    conn: &mut AnyConnection,
    session: SessionId,
    user: UserId,
    now: DateTime<Utc>,
) -> Result<Option<LiveSession>, StoreError> {
    let now = DbTime::from(now);
    let found: Option<(UserRow, DbTime, DbTime, Option<String>)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(DbId::from(session)))
        .filter(sessions::user_id.eq(DbId::from(user)))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::password_hash.is_not_null())
        .select((columns::<UserRow>(), sessions::expires_at, sessions::last_used_at, sessions::second_factor))
        .first_on(conn)
        .optional()?;
    Ok(found.map(|(user, expires_at, last_used_at, factor)| {
        LiveSession::from_columns(user, expires_at, last_used_at, factor)
    }))
}

impl LiveSession {
    /// From the columns [`authenticate`] reads (also read with a
    /// subject's standing, `access::authenticate_with_standing`).
    pub(crate) fn from_columns(
        user: UserRow,
        expires_at: DbTime,
        last_used_at: DbTime,
        factor: Option<String>,
    ) -> LiveSession {
        LiveSession {
            user: user.into(),
            expires_at: expires_at.0,
            last_used_at: last_used_at.0,
            second_factor: factor.as_deref().and_then(SecondFactor::parse),
        }
    }
}

/// Moves a sign-in's `last_used_at` to `now` and its `last_ip` to `ip`,
/// unless another request did so after `stale_before`: at most one write
/// per sign-in per period, however many requests race. Whether it moved.
pub fn touch(
    conn: &mut AnyConnection,
    session: SessionId,
    ip: Option<&str>,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let n = diesel::update(
        sessions::table
            .filter(sessions::id.eq(DbId::from(session)))
            .filter(sessions::last_used_at.lt(DbTime::from(stale_before))),
    )
    .set((sessions::last_used_at.eq(DbTime::from(now)), sessions::last_ip.eq(ip)))
    .execute_on(conn)?;
    Ok(n > 0)
}

/// A sign-in as its account sees it (`GET /auth/sign-ins`).
#[derive(Debug, Clone)]
pub struct SignIn {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ip: Option<String>,
    pub last_ip: Option<String>,
    pub user_agent: Option<String>,
    pub second_factor: Option<SecondFactor>,
}

type SignInRow = (DbId, DbTime, DbTime, DbTime, Option<String>, Option<String>, Option<String>, Option<String>);

const SIGN_IN_COLUMNS: (
    sessions::id,
    sessions::created_at,
    sessions::last_used_at,
    sessions::expires_at,
    sessions::ip,
    sessions::last_ip,
    sessions::user_agent,
    sessions::second_factor,
) = (
    sessions::id,
    sessions::created_at,
    sessions::last_used_at,
    sessions::expires_at,
    sessions::ip,
    sessions::last_ip,
    sessions::user_agent,
    sessions::second_factor,
);

fn sign_in(row: SignInRow) -> SignIn {
    let (id, created_at, last_used_at, expires_at, ip, last_ip, user_agent, factor) = row;
    SignIn {
        id: id.into(),
        created_at: created_at.0,
        last_used_at: last_used_at.0,
        expires_at: expires_at.0,
        ip,
        last_ip,
        user_agent,
        second_factor: factor.as_deref().and_then(SecondFactor::parse),
    }
}

/// The live sign-ins of `user` at `now`, most recently used first, then
/// by id. At most [`MAX_LIVE_PER_ACCOUNT`] (the cap), on the account's index.
pub fn live_of(conn: &mut AnyConnection, user: UserId, now: DateTime<Utc>) -> Result<Vec<SignIn>, StoreError> {
    let rows: Vec<SignInRow> = sessions::table
        .filter(sessions::user_id.eq(DbId::from(user)))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(DbTime::from(now)))
        .order((sessions::last_used_at.desc(), sessions::id.asc()))
        .select(SIGN_IN_COLUMNS)
        .load_on(conn)?;
    Ok(rows.into_iter().map(sign_in).collect())
}

/// Revokes one live sign-in of `user`; whether there was one.
pub fn revoke_live(
    conn: &mut AnyConnection,
    user: UserId,
    session: SessionId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let now = DbTime::from(now);
    let n = diesel::update(
        sessions::table
            .filter(sessions::id.eq(DbId::from(session)))
            .filter(sessions::user_id.eq(DbId::from(user)))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now)),
    )
    .set(sessions::revoked_at.eq(Some(now)))
    .execute_on(conn)?;
    Ok(n > 0)
}

/// Marks a sign-in as having given a second factor (turning the factor on
/// counts as having given it).
pub fn set_second_factor(conn: &mut AnyConnection, session: SessionId, factor: SecondFactor) -> Result<(), StoreError> {
    diesel::update(sessions::table.filter(sessions::id.eq(DbId::from(session))))
        .set(sessions::second_factor.eq(Some(factor.as_str())))
        .execute_on(conn)?;
    Ok(())
}

/// Revokes one sign-in of `user`.
pub fn revoke(
    conn: &mut AnyConnection,
    user: UserId,
    session: SessionId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::update(
        sessions::table
            .filter(sessions::id.eq(DbId::from(session)))
            .filter(sessions::user_id.eq(DbId::from(user)))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(DbTime::from(now))))
    .execute_on(conn)?;
    Ok(())
}

/// Revokes every sign-in of `user`, but `keep` when given.
pub fn revoke_all(
    conn: &mut AnyConnection,
    user: UserId,
    keep: Option<SessionId>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut query = diesel::update(sessions::table)
        .filter(sessions::user_id.eq(DbId::from(user)))
        .filter(sessions::revoked_at.is_null())
        .into_boxed();
    if let Some(keep) = keep {
        query = query.filter(sessions::id.ne(DbId::from(keep)));
    }
    Ok(query.set(sessions::revoked_at.eq(Some(DbTime::from(now)))).execute(conn)?)
}

/// A sign-in as the operator sees it (no secrets: tokens are never stored).
#[derive(Debug, Clone)]
pub struct SessionInfo {
    pub id: SessionId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// What its account sees of it (C5).
    pub seen: SignIn,
}

/// Every sign-in of `user`, oldest first.
pub fn of_user(conn: &mut AnyConnection, user: UserId) -> Result<Vec<SessionInfo>, StoreError> {
    let rows: Vec<(SignInRow, Option<DbTime>)> = sessions::table
        .filter(sessions::user_id.eq(DbId::from(user)))
        .order((sessions::created_at.asc(), sessions::id.asc()))
        .select((SIGN_IN_COLUMNS, sessions::revoked_at))
        .load_on(conn)?;
    Ok(rows
        .into_iter()
        .map(|(row, revoked_at)| {
            let seen = sign_in(row);
            SessionInfo {
                id: seen.id,
                created_at: seen.created_at,
                expires_at: seen.expires_at,
                revoked_at: revoked_at.map(|t| t.0),
                seen,
            }
        })
        .collect())
}

/// Drops sign-ins that can no longer authenticate anyone: revoked, or past
/// their absolute limit. A token naming a dropped sign-in is refused just
/// as a revoked one is, so this only reclaims space.
pub fn purge(conn: &mut AnyConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let now = DbTime::from(now);
    Ok(diesel::delete(sessions::table.filter(sessions::revoked_at.is_not_null().or(sessions::expires_at.le(now))))
        .execute_on(conn)?)
}
