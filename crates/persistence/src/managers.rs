//! Who manages whom (C1): a managed user has one or more managers, each
//! since some time. The rules (who may see, invite, leave) are
//! `domain::access`'s; this module reads and writes the relation.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{User, UserId};

use crate::schema::{claim_codes, user_managers, users};
use crate::types::{DbId, DbTime};
use crate::users::UserRow;
use crate::{columns, AnyConnection, RunOn, StoreError};

/// Makes `manager` a manager of `user` since `at`. `Conflict("manager")`
/// when it already is one.
pub fn add(conn: &mut AnyConnection, user: UserId, manager: UserId, at: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::insert_into(user_managers::table)
        .values((
            user_managers::user_id.eq(DbId::from(user)),
            user_managers::manager_id.eq(DbId::from(manager)),
            user_managers::since.eq(DbTime::from(at)),
        ))
        .execute_on(conn)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict("manager"),
            other => other,
        })?;
    Ok(())
}

/// The managers of `user`, oldest first (`since`, then id), each with the
/// time it became one. One statement.
pub fn of_user(conn: &mut AnyConnection, user: UserId) -> Result<Vec<(User, DateTime<Utc>)>, StoreError> {
    let rows: Vec<(UserRow, DbTime)> = user_managers::table
        .inner_join(users::table.on(users::id.eq(user_managers::manager_id)))
        .filter(user_managers::user_id.eq(DbId::from(user)))
        .order((user_managers::since.asc(), user_managers::manager_id.asc()))
        .select((columns::<UserRow>(), user_managers::since))
        .load_on(conn)?;
    Ok(rows.into_iter().map(|(u, since)| (User::from(u), since.0)).collect())
}

/// The users `manager` manages, each with the time it became one, in id
/// order. One statement.
pub fn managed_by(conn: &mut AnyConnection, manager: UserId) -> Result<Vec<(UserId, DateTime<Utc>)>, StoreError> {
    let rows: Vec<(DbId, DbTime)> = user_managers::table
        .filter(user_managers::manager_id.eq(DbId::from(manager)))
        .order(user_managers::user_id.asc())
        .select((user_managers::user_id, user_managers::since))
        .load_on(conn)?;
    Ok(rows.into_iter().map(|(u, since)| (u.into(), since.0)).collect())
}

/// Every management of or by one of `users`: (user, manager, since). One
/// statement (an export's).
pub fn naming(conn: &mut AnyConnection, users: &[UserId]) -> Result<Vec<(UserId, UserId, DateTime<Utc>)>, StoreError> {
    let ids: Vec<DbId> = users.iter().copied().map(DbId::from).collect();
    let rows: Vec<(DbId, DbId, DbTime)> = user_managers::table
        .filter(user_managers::user_id.eq_any(&ids).or(user_managers::manager_id.eq_any(&ids)))
        .order((user_managers::since.asc(), user_managers::user_id.asc(), user_managers::manager_id.asc()))
        .select((user_managers::user_id, user_managers::manager_id, user_managers::since))
        .load_on(conn)?;
    Ok(rows.into_iter().map(|(u, m, since)| (u.into(), m.into(), since.0)).collect())
}

/// Whether `manager` manages `user`.
pub fn is_manager(conn: &mut AnyConnection, user: UserId, manager: UserId) -> Result<bool, StoreError> {
    let n: i64 = user_managers::table
        .filter(user_managers::user_id.eq(DbId::from(user)))
        .filter(user_managers::manager_id.eq(DbId::from(manager)))
        .count()
        .get_result_on(conn)?;
    Ok(n > 0)
}

/// Ends `manager`'s management of `user`, and the claim code it issued on
/// `user` (a code goes with its issuer's management). Whether it was a
/// manager. The caller has checked the last-manager rule under
/// [`lock_users`].
pub fn remove(conn: &mut AnyConnection, user: UserId, manager: UserId) -> Result<bool, StoreError> {
    let (user, manager) = (DbId::from(user), DbId::from(manager));
    diesel::delete(claim_codes::table.filter(claim_codes::user_id.eq(user)).filter(claim_codes::issued_by.eq(manager)))
        .execute_on(conn)?;
    let n = diesel::delete(
        user_managers::table.filter(user_managers::user_id.eq(user)).filter(user_managers::manager_id.eq(manager)),
    )
    .execute_on(conn)?;
    Ok(n > 0)
}

/// How many managers `user` has.
pub fn count(conn: &mut AnyConnection, user: UserId) -> Result<i64, StoreError> {
    Ok(user_managers::table.filter(user_managers::user_id.eq(DbId::from(user))).count().get_result_on(conn)?)
}

/// Locks these users' rows until the transaction ends, in id order (so two
/// transactions locking overlapping sets never deadlock): every change of
/// who manages a user takes this lock first, so the last-manager rule is
/// judged on a count no one else is changing. On SQLite, writers already
/// take turns, and this is nothing.
pub fn lock_users(conn: &mut AnyConnection, ids: &[UserId]) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<DbId> = ids.iter().copied().map(DbId::from).collect();
    ids.sort_by_key(|id| id.0);
    match conn {
        AnyConnection::Postgres(c) => {
            users::table
                .filter(users::id.eq_any(ids))
                .order(users::id.asc())
                .select(users::id)
                .for_update()
                .load::<DbId>(c)?;
        }
        AnyConnection::Sqlite(_) => {}
    }
    Ok(())
}

/// Those of `among` that `manager` manages with no one else.
pub fn managed_alone(conn: &mut AnyConnection, manager: UserId, among: &[UserId]) -> Result<Vec<UserId>, StoreError> {
    if among.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<DbId> = among.iter().copied().map(DbId::from).collect();
    let rows: Vec<(DbId, DbId)> = user_managers::table
        .filter(user_managers::user_id.eq_any(ids))
        .select((user_managers::user_id, user_managers::manager_id))
        .load_on(conn)?;
    let me = DbId::from(manager);
    let shared: std::collections::HashSet<DbId> = rows.iter().filter(|(_, m)| *m != me).map(|(u, _)| *u).collect();
    Ok(among.iter().copied().filter(|u| !shared.contains(&DbId::from(*u))).collect())
}
