//! Shares: a subject's data granted to a grantee with some scopes.
//!
//! Every read here takes `now` and returns only live shares: an expired
//! share counts as absent everywhere.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{ScopeSet, Share, ShareId, User, UserId};

use crate::schema::{shares, users};
use crate::types::{DbId, DbTime};
use crate::users::UserRow;
use crate::{columns, per_backend, AnyConnection, RunOn, StoreError};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = shares)]
pub(crate) struct ShareRow {
    id: DbId,
    subject_id: DbId,
    grantee_id: DbId,
    scopes: String,
    created_at: DbTime,
    expires_at: Option<DbTime>,
}

impl TryFrom<ShareRow> for Share {
    type Error = StoreError;

    fn try_from(row: ShareRow) -> Result<Share, StoreError> {
        Ok(Share {
            id: row.id.into(),
            subject: row.subject_id.into(),
            grantee: row.grantee_id.into(),
            scopes: ScopeSet::from_storage(&row.scopes)
                .map_err(|_| StoreError::Corrupt(format!("share {} holds unknown scopes", row.id.0)))?,
            created_at: row.created_at.0,
            expires_at: row.expires_at.map(|t| t.0),
        })
    }
}

fn shares_of(rows: Vec<ShareRow>) -> Result<Vec<Share>, StoreError> {
    rows.into_iter().map(Share::try_from).collect()
}

/// Live at `now`: no end, or an end still ahead.
macro_rules! live {
    ($now:expr) => {
        shares::expires_at.is_null().or(shares::expires_at.gt($now))
    };
}

/// Grants `scopes` on `subject` to `grantee`. An expired share of the same
/// pair is replaced; a live one is `Conflict("share")`.
pub fn create(
    conn: &mut AnyConnection,
    subject: UserId,
    grantee: UserId,
    scopes: ScopeSet,
    expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<Share, StoreError> {
    let row = ShareRow {
        id: ShareId::new().into(),
        subject_id: subject.into(),
        grantee_id: grantee.into(),
        scopes: scopes.to_storage(),
        created_at: now.into(),
        expires_at: expires_at.map(DbTime::from),
    };
    crate::transaction(conn, |conn| {
        diesel::delete(
            shares::table
                .filter(shares::subject_id.eq(row.subject_id))
                .filter(shares::grantee_id.eq(row.grantee_id))
                .filter(shares::expires_at.le(DbTime::from(now))),
        )
        .execute_on(conn)?;
        diesel::insert_into(shares::table).values(&row).execute_on(conn).map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict("share"),
            other => other,
        })?;
        Share::try_from(row)
    })
}

/// Changes a share's scopes and, when `expires_at` is given, its end
/// (`Some(None)` removes the end).
pub fn update(
    conn: &mut AnyConnection,
    id: ShareId,
    scopes: ScopeSet,
    expires_at: Option<Option<DateTime<Utc>>>,
) -> Result<Share, StoreError> {
    let target = shares::table.find(DbId::from(id));
    let n = match expires_at {
        Some(end) => diesel::update(target)
            .set((shares::scopes.eq(scopes.to_storage()), shares::expires_at.eq(end.map(DbTime::from))))
            .execute_on(conn)?,
        None => diesel::update(target).set(shares::scopes.eq(scopes.to_storage())).execute_on(conn)?,
    };
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    let row: ShareRow = shares::table.find(DbId::from(id)).select(columns::<ShareRow>()).first_on(conn)?;
    Share::try_from(row)
}

pub fn delete(conn: &mut AnyConnection, id: ShareId) -> Result<(), StoreError> {
    match diesel::delete(shares::table.find(DbId::from(id))).execute_on(conn)? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Live shares on the subjects `owner` owns or manages (alone or with
/// others), oldest first. One statement.
pub fn granted_by(conn: &mut AnyConnection, owner: UserId, now: DateTime<Utc>) -> Result<Vec<Share>, StoreError> {
    use crate::schema::user_managers;
    let (owner, now) = (DbId::from(owner), DbTime::from(now));
    // Two halves, each on an index (an OR of the two would scan shares):
    // the owner's own, and those on the users it manages. MultiConnection
    // has no UNION: the statement is written once and typed per backend.
    let mut rows: Vec<ShareRow> = per_backend!(conn, |c| {
        let own = shares::table.filter(shares::subject_id.eq(owner)).filter(live!(now)).select(columns::<ShareRow>());
        let managed = shares::table
            .inner_join(user_managers::table.on(user_managers::user_id.eq(shares::subject_id)))
            .filter(user_managers::manager_id.eq(owner))
            .filter(live!(now))
            .select(columns::<ShareRow>());
        own.union_all(managed).load(c)
    })?;
    rows.sort_by_key(|r| (r.created_at, r.id.0));
    shares_of(rows)
}

/// Live shares granted to `grantee`, oldest first, each with its subject.
/// One statement, whatever the number of shares.
pub fn received_by(
    conn: &mut AnyConnection,
    grantee: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<(Share, User)>, StoreError> {
    let rows: Vec<(ShareRow, UserRow)> = shares::table
        .inner_join(users::table.on(users::id.eq(shares::subject_id)))
        .filter(shares::grantee_id.eq(DbId::from(grantee)))
        .filter(live!(DbTime::from(now)))
        .order((shares::created_at.asc(), shares::id.asc()))
        .select((columns::<ShareRow>(), columns::<UserRow>()))
        .load_on(conn)?;
    rows.into_iter().map(|(s, u)| Ok((Share::try_from(s)?, User::from(u)))).collect()
}

/// The subjects of the live shares granted to `grantee`. One statement,
/// on `shares_grantee_idx`.
pub fn subjects_received(
    conn: &mut AnyConnection,
    grantee: UserId,
    now: DateTime<Utc>,
) -> Result<Vec<UserId>, StoreError> {
    let rows: Vec<DbId> = shares::table
        .filter(shares::grantee_id.eq(DbId::from(grantee)))
        .filter(live!(DbTime::from(now)))
        .order((shares::created_at.asc(), shares::id.asc()))
        .select(shares::subject_id)
        .load_on(conn)?;
    Ok(rows.into_iter().map(UserId::from).collect())
}

/// The users with these ids, by id, in one statement.
pub fn users_by_id(conn: &mut AnyConnection, ids: &[UserId]) -> Result<HashMap<UserId, User>, StoreError> {
    let ids: Vec<DbId> = ids.iter().copied().map(DbId::from).collect();
    let rows: Vec<UserRow> = users::table.filter(users::id.eq_any(ids)).select(columns::<UserRow>()).load_on(conn)?;
    Ok(rows.into_iter().map(User::from).map(|u| (u.id, u)).collect())
}

/// Drops shares that ended before `now` (the `purge-expired` job).
pub fn purge_expired(conn: &mut AnyConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(shares::table.filter(shares::expires_at.le(DbTime::from(now)))).execute_on(conn)?)
}

/// Every share that names one of `users`, as subject or grantee, expired
/// ones included (an export shows what is stored). One statement.
pub fn naming(conn: &mut AnyConnection, users: &[UserId]) -> Result<Vec<Share>, StoreError> {
    let ids: Vec<DbId> = users.iter().copied().map(DbId::from).collect();
    let rows = shares::table
        .filter(shares::subject_id.eq_any(&ids).or(shares::grantee_id.eq_any(&ids)))
        .order((shares::created_at.asc(), shares::id.asc()))
        .select(columns::<ShareRow>())
        .load_on(conn)?;
    shares_of(rows)
}
