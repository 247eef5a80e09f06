//! Users: accounts and managed users, one table.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{Email, PersonName, User, UserId};

use crate::schema::users;
use crate::trail::{Bind, Statement, Trail};
use crate::types::{DbId, DbTime};
use crate::{columns, AnyConnection, RunOn, StoreError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(crate) struct UserRow {
    pub(crate) id: DbId,
    pub(crate) email: Option<String>,
    pub(crate) first_name: Option<String>,
    pub(crate) last_name: Option<String>,
    pub(crate) admin: bool,
    pub(crate) registered_at: DbTime,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> User {
        User {
            id: row.id.into(),
            // A user is managed exactly when it has no credentials (the
            // users table's CHECK): no join to its managers is needed.
            managed: row.email.is_none(),
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            admin: row.admin,
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

impl NameChanges {
    /// `user` with these changes made.
    pub fn applied_to(&self, user: &User) -> User {
        User {
            first_name: self.first_name.clone().unwrap_or_else(|| user.first_name.clone()),
            last_name: self.last_name.clone().unwrap_or_else(|| user.last_name.clone()),
            ..user.clone()
        }
    }
}

fn insert(conn: &mut AnyConnection, row: NewUserRow<'_>) -> Result<User, StoreError> {
    let user = User {
        id: row.id.into(),
        email: row.email.map(str::to_owned),
        first_name: row.first_name.map(str::to_owned),
        last_name: row.last_name.map(str::to_owned),
        admin: row.admin,
        managed: row.email.is_none(),
        registered_at: row.registered_at.0,
    };
    diesel::insert_into(users::table).values(&row).execute_on(conn).map_err(|e| match StoreError::from(e) {
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
            registered_at: at.into(),
        },
    )
}

/// Creates a user managed by `manager` (its first manager, since `at`): no
/// e-mail, no password, never admin; with the [`Trail`] that `trail` makes
/// of it. One statement on PostgreSQL, its own transaction; several on
/// SQLite, run in a transaction.
pub fn create_managed(
    conn: &mut AnyConnection,
    manager: UserId,
    first_name: &PersonName,
    last_name: Option<&PersonName>,
    at: DateTime<Utc>,
    trail: impl FnOnce(&User) -> Trail,
) -> Result<User, StoreError> {
    let row = NewUserRow {
        id: UserId::new().into(),
        email: None,
        email_normalized: None,
        password_hash: None,
        first_name: Some(first_name.as_str()),
        last_name: last_name.map(PersonName::as_str),
        admin: false,
        registered_at: at.into(),
    };
    match conn {
        // One round trip for the user, its manager and the trail (a
        // data-modifying CTE): the create scenario's throughput fell by a
        // quarter when a managed user took two inserts instead of one.
        AnyConnection::Postgres(c) => {
            let user = User {
                id: row.id.into(),
                email: None,
                first_name: row.first_name.map(str::to_owned),
                last_name: row.last_name.map(str::to_owned),
                admin: false,
                managed: true,
                registered_at: row.registered_at.0,
            };
            let trail = trail(&user);
            let at = row.registered_at.0;
            Statement::new(
                "WITH created AS (INSERT INTO users (id, first_name, last_name, admin, registered_at) VALUES (",
            )
            .bind(Bind::Id(row.id.0))
            .sql(", ")
            .bind(Bind::Text(first_name.as_str().to_owned()))
            .sql(", ")
            .bind(Bind::OptText(row.last_name.map(str::to_owned)))
            .sql(", false, ")
            .bind(Bind::Ts(at))
            .sql(") RETURNING id), managed AS (INSERT INTO user_managers (user_id, manager_id, since) SELECT id, ")
            .bind(Bind::Id(*manager.as_uuid()))
            .sql(", ")
            .bind(Bind::Ts(at))
            .sql(" FROM created)")
            .trail(&trail)
            .sql(" SELECT 1")
            .execute(c)?;
            Ok(user)
        }
        AnyConnection::Sqlite(_) => {
            let user = insert(conn, row)?;
            crate::managers::add(conn, user.id, manager, at)?;
            crate::trail::append_each(conn, &trail(&user))?;
            Ok(user)
        }
    }
}

pub fn find(conn: &mut AnyConnection, id: UserId) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> =
        users::table.find(DbId::from(id)).select(columns::<UserRow>()).first_on(conn).optional()?;
    Ok(row.map(User::from))
}

/// The account with this (normalised) e-mail, with its password hash.
pub fn find_account_by_email(
    conn: &mut AnyConnection,
    email_normalized: &str,
) -> Result<Option<(User, String)>, StoreError> {
    let row: Option<(UserRow, Option<String>)> = users::table
        .filter(users::email_normalized.eq(email_normalized))
        .select((columns::<UserRow>(), users::password_hash))
        .first_on(conn)
        .optional()?;
    Ok(row.and_then(|(user, hash)| hash.map(|h| (user.into(), h))))
}

/// The password hash of an account; `None` for a managed or missing user.
pub fn password_hash(conn: &mut AnyConnection, id: UserId) -> Result<Option<String>, StoreError> {
    let hash = users::table.find(DbId::from(id)).select(users::password_hash).first_on(conn).optional()?;
    Ok(hash.flatten())
}

pub fn set_password_hash(conn: &mut AnyConnection, id: UserId, hash: &str) -> Result<(), StoreError> {
    let n = diesel::update(users::table.find(DbId::from(id))).set(users::password_hash.eq(hash)).execute_on(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub fn set_admin(conn: &mut AnyConnection, id: UserId, admin: bool) -> Result<(), StoreError> {
    diesel::update(users::table.find(DbId::from(id))).set(users::admin.eq(admin)).execute_on(conn)?;
    Ok(())
}

/// The users `manager` manages, alone or with others, oldest first
/// (`registered_at`, then `id`), in one statement.
pub fn list_managed(conn: &mut AnyConnection, manager: UserId) -> Result<Vec<User>, StoreError> {
    use crate::schema::user_managers;
    let rows: Vec<UserRow> = user_managers::table
        .inner_join(users::table.on(users::id.eq(user_managers::user_id)))
        .filter(user_managers::manager_id.eq(DbId::from(manager)))
        .order((users::registered_at.asc(), users::id.asc()))
        .select(columns::<UserRow>())
        .load_on(conn)?;
    Ok(rows.into_iter().map(User::from).collect())
}

/// Applies `changes` to the managed user `id` and returns the user as it
/// now is: `NotFound` when there is no such managed user, gone or claimed
/// (C2) since the caller's decision read it. A claimed user is an account
/// whose names are its own, and its former managers' standing went with
/// the claim: a change that waited on the claim's row lock finds an account
/// and changes nothing, as [`delete_managed`] does. Two statements: run it
/// in a transaction (as [`update_names_traced`] does), so the answer is the
/// row this change made.
pub fn update_names(conn: &mut AnyConnection, id: UserId, changes: &NameChanges) -> Result<User, StoreError> {
    let managed = users::table.find(DbId::from(id)).filter(users::email.is_null());
    if changes.first_name.is_none() && changes.last_name.is_none() {
        // Nothing to change: the row as it is, held against a claim to the
        // transaction's end on PostgreSQL (SQLite's writers take turns).
        let row: Option<UserRow> = match conn {
            AnyConnection::Postgres(c) => managed.select(columns::<UserRow>()).for_share().first(c).optional()?,
            AnyConnection::Sqlite(c) => managed.select(columns::<UserRow>()).first(c).optional()?,
        };
        return row.map(User::from).ok_or(StoreError::NotFound);
    }
    let update = diesel::update(managed).set(changes);
    match conn {
        // The row as changed, in the same round trip.
        AnyConnection::Postgres(c) => {
            let row: Option<UserRow> = update.returning(columns::<UserRow>()).get_result(c).optional()?;
            row.map(User::from).ok_or(StoreError::NotFound)
        }
        AnyConnection::Sqlite(_) => {
            if update.execute_on(conn)? == 0 {
                return Err(StoreError::NotFound);
            }
            find(conn, id)?.ok_or(StoreError::NotFound)
        }
    }
}

/// [`update_names`] of `seen`, the user as the request's decision read it,
/// with the change's trail: `trail` (its access-log entry, if any) with
/// `events` of the user as changed. On PostgreSQL one statement, its own
/// transaction: the update holds only while the row is still the one
/// `seen` shows, so the events, made from `seen` with `changes`, are of
/// the row as it now is. When it is not (another change came between the
/// decision and this one), the update and the trail run as two statements
/// in a transaction of their own, the events made from the row the update
/// returned. On SQLite, run it in a transaction (the API's write hop is
/// one). `NotFound` when the user is gone.
pub fn update_names_traced(
    conn: &mut AnyConnection,
    seen: &User,
    changes: &NameChanges,
    mut trail: Trail,
    events: impl Fn(&User) -> Vec<crate::events::NewEvent>,
) -> Result<User, StoreError> {
    let in_order = |conn: &mut AnyConnection, mut trail: Trail| {
        let user = update_names(conn, seen.id, changes)?;
        trail.events = events(&user);
        crate::trail::append(conn, &trail)?;
        Ok(user)
    };
    let nothing_to_change = changes.first_name.is_none() && changes.last_name.is_none();
    let AnyConnection::Postgres(c) = conn else { return in_order(conn, trail) };
    if nothing_to_change {
        return crate::transaction_with(conn, |c| in_order(c, trail));
    }
    let changed = changes.applied_to(seen);
    trail.events = events(&changed);
    let text = |t: &Option<String>| Bind::OptText(t.clone());
    let n = Statement::new("WITH updated AS (UPDATE users SET first_name = ")
        .bind(text(&changed.first_name))
        .sql(", last_name = ")
        .bind(text(&changed.last_name))
        .sql(" WHERE id = ")
        .bind(Bind::Id(*seen.id.as_uuid()))
        .sql(" AND first_name IS NOT DISTINCT FROM ")
        .bind(text(&seen.first_name))
        .sql(" AND last_name IS NOT DISTINCT FROM ")
        .bind(text(&seen.last_name))
        .sql(" AND email IS NOT DISTINCT FROM ")
        .bind(text(&seen.email))
        .sql(" AND admin = ")
        .bind(Bind::Bool(seen.admin))
        .sql(" RETURNING id)")
        .trail_when(&trail, "EXISTS (SELECT 1 FROM updated)")
        .sql(" SELECT id FROM updated")
        .execute(c)?;
    if n == 1 {
        return Ok(changed);
    }
    trail.events.clear();
    crate::transaction_with(conn, |c| in_order(c, trail))
}

/// Deletes a user and everything that names them (through the foreign
/// keys' `ON DELETE CASCADE`, every row of every other table): its
/// sign-ins, shares, activities, traces, its place among others'
/// managers, invitations and claim codes, and its access log (on
/// PostgreSQL the deletion's trigger, migration 000014, after the
/// cascades and the writers they waited for); nulls the actor of the
/// entries it left in others' logs ([`crate::access_log::forget_actor`]);
/// and its events stay with their data blanked (`{}`: the deletion's
/// trigger, migration 000011, which sees every event committed before the
/// row was deleted, also one whose writer the deletion waited for). So it happens whole or not at
/// all, run it in a transaction. `NotFound` when there was no such user.
/// (An account's deletion, which must also delete the users it manages
/// alone, is [`delete_account`].)
pub fn delete(conn: &mut AnyConnection, id: UserId) -> Result<(), StoreError> {
    let n = diesel::delete(users::table.find(DbId::from(id))).execute_on(conn)?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    crate::access_log::forget_actor(conn, id)?;
    Ok(())
}

/// [`delete`] of a user that is still managed, with its [`Trail`]:
/// `NotFound` when it is not (any more). On PostgreSQL a delete that
/// waited on the row of a user being claimed (C2) would otherwise go on
/// and delete the account it has just become; this way it finds an account
/// and answers 404. One statement on PostgreSQL (the deletion and the
/// trail, which is written only with a deletion; the erasure is the
/// deletion's trigger), its own transaction; several on SQLite, run in a
/// transaction.
pub fn delete_managed(conn: &mut AnyConnection, id: UserId, trail: &Trail) -> Result<(), StoreError> {
    let n = match conn {
        // The deletion and its trail; the erasure of the user's earlier
        // events is the deletion's trigger (migration 000011).
        AnyConnection::Postgres(c) => Statement::new("WITH gone AS (DELETE FROM users WHERE id = ")
            .bind(Bind::Id(*id.as_uuid()))
            .sql(" AND email IS NULL RETURNING id)")
            .trail_when(trail, "EXISTS (SELECT 1 FROM gone)")
            .sql(" SELECT id FROM gone")
            .execute(c)?,
        AnyConnection::Sqlite(_) => {
            let n =
                diesel::delete(users::table.find(DbId::from(id)).filter(users::email.is_null())).execute_on(conn)?;
            if n == 1 {
                crate::trail::append_each(conn, trail)?;
            }
            n
        }
    };
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// What an account's deletion did, for its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDeleted {
    /// Every user removed: those it managed alone, then the account.
    pub removed: Vec<UserId>,
    /// The users it managed with others, which stay with one manager
    /// fewer, each with the time it had become one.
    pub left: Vec<(UserId, DateTime<Utc>)>,
    /// The users that stay whose live shares it had received: those
    /// shares go with it, as if it had left each (C3's `share.delete`).
    pub shares_left: Vec<UserId>,
}

/// Deletes an account and the users it manages alone, each with all their
/// data (and their events' data blanked); the users it manages with others
/// stay, with one manager fewer. Run it in a transaction. On PostgreSQL
/// the managed users' rows are locked first, so a co-manager leaving one
/// of them at the same time either sees this account still there (and
/// leaves it to it, which then deletes it) or has left before it is
/// counted: never a user left with no manager. (SQLite's writers take
/// turns.)
pub fn delete_account(conn: &mut AnyConnection, id: UserId, now: DateTime<Utc>) -> Result<AccountDeleted, StoreError> {
    let managed = crate::managers::managed_by(conn, id)?;
    let ids: Vec<UserId> = managed.iter().map(|(u, _)| *u).collect();
    crate::managers::lock_users(conn, &ids)?;
    let alone = crate::managers::managed_alone(conn, id, &ids)?;
    if !alone.is_empty() {
        let gone: Vec<DbId> = alone.iter().copied().map(DbId::from).collect();
        diesel::delete(users::table.filter(users::id.eq_any(gone))).execute_on(conn)?;
    }
    // Read after the users it managed alone are gone (their shares with
    // them), before its own row goes (its shares by cascade).
    let shares_left = crate::shares::subjects_received(conn, id, now)?;
    delete(conn, id)?;
    let left = managed.into_iter().filter(|(u, _)| !alone.contains(u)).collect();
    let mut removed = alone;
    removed.push(id);
    Ok(AccountDeleted { removed, left, shares_left })
}

/// How many rows in all of Steward's tables name `id`: 0 after a delete
/// (but for an access-log entry written by a read that raced `id`'s own
/// deletion as its actor, whose id reads hide; see
/// [`crate::access_log::page`]).
/// For tests and for the operator's checks.
pub fn rows_naming(conn: &mut AnyConnection, id: UserId) -> Result<i64, StoreError> {
    use crate::schema::{
        access_log, activities, activity_traces, claim_codes, invitations, sessions, shares, user_managers,
    };
    let id = DbId::from(id);
    let counts = [
        access_log::table
            .filter(access_log::user_id.eq(id).or(access_log::actor_id.eq(id)))
            .count()
            .get_result_on(conn)?,
        users::table.filter(users::id.eq(id)).count().get_result_on::<i64>(conn)?,
        user_managers::table
            .filter(user_managers::user_id.eq(id).or(user_managers::manager_id.eq(id)))
            .count()
            .get_result_on(conn)?,
        sessions::table.filter(sessions::user_id.eq(id)).count().get_result_on(conn)?,
        shares::table.filter(shares::subject_id.eq(id).or(shares::grantee_id.eq(id))).count().get_result_on(conn)?,
        activities::table.filter(activities::user_id.eq(id)).count().get_result_on(conn)?,
        activity_traces::table.filter(activity_traces::user_id.eq(id)).count().get_result_on(conn)?,
        invitations::table
            .filter(invitations::user_id.eq(id).or(invitations::invitee_id.eq(id)).or(invitations::invited_by.eq(id)))
            .count()
            .get_result_on(conn)?,
        claim_codes::table
            .filter(claim_codes::user_id.eq(id).or(claim_codes::issued_by.eq(id)))
            .count()
            .get_result_on(conn)?,
    ];
    Ok(counts.iter().sum())
}
