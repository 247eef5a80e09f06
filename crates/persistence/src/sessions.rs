//! Sign-ins. A token is good only while the sign-in it descends from is
//! here, unrevoked and within its absolute limit, and its user is an
//! account: so revocation, password changes and deleted users take effect
//! on every replica at once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{SessionId, User, UserId};

use crate::schema::{sessions, users};
use crate::types::{DbId, DbTime};
use crate::users::UserRow;
use crate::{AnyConnection, StoreError};

#[derive(Insertable)]
#[diesel(table_name = sessions)]
struct NewSessionRow {
    id: DbId,
    user_id: DbId,
    created_at: DbTime,
    expires_at: DbTime,
    revoked_at: Option<DbTime>,
}

/// Records a sign-in that ends at `expires_at` whatever refreshes follow.
pub fn create(
    conn: &mut AnyConnection,
    user: UserId,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<SessionId, StoreError> {
    let id = SessionId::new();
    diesel::insert_into(sessions::table)
        .values(NewSessionRow {
            id: id.into(),
            user_id: user.into(),
            created_at: created_at.into(),
            expires_at: expires_at.into(),
            revoked_at: None,
        })
        .execute(conn)?;
    Ok(id)
}

/// A live sign-in: the account it belongs to and when it ends.
pub struct LiveSession {
    pub user: User,
    pub expires_at: DateTime<Utc>,
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
    let found: Option<(UserRow, DbTime)> = sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(DbId::from(session)))
        .filter(sessions::user_id.eq(DbId::from(user)))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(users::password_hash.is_not_null())
        .select((UserRow::as_select(), sessions::expires_at))
        .first(conn)
        .optional()?;
    Ok(found.map(|(user, expires_at)| LiveSession { user: user.into(), expires_at: expires_at.0 }))
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
    .execute(conn)?;
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
}

/// Every sign-in of `user`, oldest first.
pub fn of_user(conn: &mut AnyConnection, user: UserId) -> Result<Vec<SessionInfo>, StoreError> {
    let rows: Vec<(DbId, DbTime, DbTime, Option<DbTime>)> = sessions::table
        .filter(sessions::user_id.eq(DbId::from(user)))
        .order((sessions::created_at.asc(), sessions::id.asc()))
        .select((sessions::id, sessions::created_at, sessions::expires_at, sessions::revoked_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, created_at, expires_at, revoked_at)| SessionInfo {
            id: id.into(),
            created_at: created_at.0,
            expires_at: expires_at.0,
            revoked_at: revoked_at.map(|t| t.0),
        })
        .collect())
}

/// Drops sign-ins that can no longer authenticate anyone: revoked, or past
/// their absolute limit. A token naming a dropped sign-in is refused just
/// as a revoked one is, so this only reclaims space.
pub fn purge(conn: &mut AnyConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    let now = DbTime::from(now);
    Ok(diesel::delete(sessions::table.filter(sessions::revoked_at.is_not_null().or(sessions::expires_at.le(now))))
        .execute(conn)?)
}
