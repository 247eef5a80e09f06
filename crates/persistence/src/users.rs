//! Users: accounts and managed users, one table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{Email, PersonName, User, UserId};

use crate::schema::users;
use crate::types::{DbId, DbTime};
use crate::{AnyConnection, StoreError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    id: DbId,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    admin: bool,
    manager_id: Option<DbId>,
    registered_at: DbTime,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> User {
        User {
            id: row.id.into(),
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            admin: row.admin,
            manager_id: row.manager_id.map(Into::into),
            registered_at: row.registered_at.0,
        }
    }
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct NewUserRow<'a> {
    id: DbId,
    email: Option<&'a str>,
    email_normalized: Option<&'a str>,
    password_hash: Option<&'a str>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    admin: bool,
    manager_id: Option<DbId>,
    registered_at: DbTime,
}

/// An account to create: it signs in with `email` and the password whose
/// Argon2id hash is `password_hash`.
pub struct NewAccount<'a> {
    pub email: &'a Email,
    pub password_hash: &'a str,
    pub first_name: Option<&'a PersonName>,
    pub last_name: Option<&'a PersonName>,
    pub admin: bool,
}

/// A change of names. The outer `None` leaves a name as it is; `Some(None)`
/// clears it; `Some(Some(name))` sets it.
#[derive(Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct NameChanges {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
}

fn insert(conn: &mut AnyConnection, row: NewUserRow<'_>) -> Result<User, StoreError> {
    let user = User {
        id: row.id.into(),
        email: row.email.map(str::to_owned),
        first_name: row.first_name.map(str::to_owned),
        last_name: row.last_name.map(str::to_owned),
        admin: row.admin,
        manager_id: row.manager_id.map(Into::into),
        registered_at: row.registered_at.0,
    };
    diesel::insert_into(users::table).values(&row).execute(conn).map_err(|e| match StoreError::from(e) {
        StoreError::Conflict(_) => StoreError::Conflict("email"),
        other => other,
    })?;
    Ok(user)
}

/// Creates an account. `Conflict("email")` when the address is taken, in
/// any letter case.
pub fn create_account(conn: &mut AnyConnection, new: &NewAccount<'_>, at: DateTime<Utc>) -> Result<User, StoreError> {
    insert(
        conn,
        NewUserRow {
            id: UserId::new().into(),
            email: Some(new.email.as_str()),
            email_normalized: Some(new.email.normalized()),
            password_hash: Some(new.password_hash),
            first_name: new.first_name.map(PersonName::as_str),
            last_name: new.last_name.map(PersonName::as_str),
            admin: new.admin,
            manager_id: None,
            registered_at: at.into(),
        },
    )
}

/// Creates a user managed by `manager`: no e-mail, no password, never admin.
pub fn create_managed(
    conn: &mut AnyConnection,
    manager: UserId,
    first_name: &PersonName,
    last_name: Option<&PersonName>,
    at: DateTime<Utc>,
) -> Result<User, StoreError> {
    insert(
        conn,
        NewUserRow {
            id: UserId::new().into(),
            email: None,
            email_normalized: None,
            password_hash: None,
            first_name: Some(first_name.as_str()),
            last_name: last_name.map(PersonName::as_str),
            admin: false,
            manager_id: Some(manager.into()),
            registered_at: at.into(),
        },
    )
}

pub fn find(conn: &mut AnyConnection, id: UserId) -> Result<Option<User>, StoreError> {
    let row = users::table.find(DbId::from(id)).select(UserRow::as_select()).first(conn).optional()?;
    Ok(row.map(User::from))
}

/// The account with this (normalised) e-mail, with its password hash.
pub fn find_account_by_email(
    conn: &mut AnyConnection,
    email_normalized: &str,
) -> Result<Option<(User, String)>, StoreError> {
    let row: Option<(UserRow, Option<String>)> = users::table
        .filter(users::email_normalized.eq(email_normalized))
        .select((UserRow::as_select(), users::password_hash))
        .first(conn)
        .optional()?;
    Ok(row.and_then(|(user, hash)| hash.map(|h| (user.into(), h))))
}

/// The password hash of an account; `None` for a managed or missing user.
pub fn password_hash(conn: &mut AnyConnection, id: UserId) -> Result<Option<String>, StoreError> {
    let hash = users::table.find(DbId::from(id)).select(users::password_hash).first(conn).optional()?;
    Ok(hash.flatten())
}

pub fn set_password_hash(conn: &mut AnyConnection, id: UserId, hash: &str) -> Result<(), StoreError> {
    let n = diesel::update(users::table.find(DbId::from(id))).set(users::password_hash.eq(hash)).execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn set_admin(conn: &mut AnyConnection, id: UserId, admin: bool) -> Result<(), StoreError> {
    diesel::update(users::table.find(DbId::from(id))).set(users::admin.eq(admin)).execute(conn)?;
    Ok(())
}

/// The users `manager` manages, oldest first (`registered_at`, then `id`),
/// in one statement.
pub fn list_managed(conn: &mut AnyConnection, manager: UserId) -> Result<Vec<User>, StoreError> {
    let rows = users::table
        .filter(users::manager_id.eq(DbId::from(manager)))
        .order((users::registered_at.asc(), users::id.asc()))
        .select(UserRow::as_select())
        .load(conn)?;
    Ok(rows.into_iter().map(User::from).collect())
}

/// Applies `changes` and returns the user as it now is.
pub fn update_names(conn: &mut AnyConnection, id: UserId, changes: &NameChanges) -> Result<User, StoreError> {
    conn.transaction(|conn| {
        if changes.first_name.is_some() || changes.last_name.is_some() {
            let n = diesel::update(users::table.find(DbId::from(id))).set(changes).execute(conn)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        }
        find(conn, id)?.ok_or(StoreError::NotFound)
    })
}

/// Deletes a user and everything that names them: the users they manage,
/// their sign-ins, and (through the foreign keys' `ON DELETE CASCADE`)
/// every row of every other table. One statement, so it happens whole or
/// not at all. `NotFound` when there was no such user.
pub fn delete(conn: &mut AnyConnection, id: UserId) -> Result<(), StoreError> {
    let n = diesel::delete(users::table.find(DbId::from(id))).execute(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// How many rows in all of Steward's tables name `id`: 0 after a delete.
/// For tests and for the operator's checks.
pub fn rows_naming(conn: &mut AnyConnection, id: UserId) -> Result<i64, StoreError> {
    use crate::schema::{activities, activity_traces, sessions, shares};
    let id = DbId::from(id);
    let counts = [
        users::table.filter(users::id.eq(id).or(users::manager_id.eq(id))).count().get_result::<i64>(conn)?,
        sessions::table.filter(sessions::user_id.eq(id)).count().get_result(conn)?,
        shares::table.filter(shares::subject_id.eq(id).or(shares::grantee_id.eq(id))).count().get_result(conn)?,
        activities::table.filter(activities::user_id.eq(id)).count().get_result(conn)?,
        activity_traces::table.filter(activity_traces::user_id.eq(id)).count().get_result(conn)?,
    ];
    Ok(counts.iter().sum())
}
