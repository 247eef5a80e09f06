//! C3: the access log. Written by the API's one-hop helper (`api::act`)
//! with the decision it records: a change's entry inside the change's
//! transaction, a read's before the answer.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::access_log::{AccessEntry, Action, Via};
use domain::{AccessEntryId, Scope, User, UserId};

use crate::schema::{access_log, users};
use crate::types::{DbId, DbTime};
use crate::{columns, AnyConnection, RunOn, StoreError};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = access_log)]
struct EntryRow {
    id: DbId,
    user_id: DbId,
    at: DbTime,
    actor_id: Option<DbId>,
    actor_display_name: String,
    action: String,
    scope: Option<String>,
    via: String,
}

impl TryFrom<EntryRow> for AccessEntry {
    type Error = StoreError;

    fn try_from(row: EntryRow) -> Result<AccessEntry, StoreError> {
        let corrupt = |e: domain::access_log::UnknownWord| StoreError::Corrupt(format!("access log {}: {e}", row.id.0));
        Ok(AccessEntry {
            id: row.id.into(),
            at: row.at.0,
            actor: row.actor_id.map(UserId::from),
            actor_display_name: row.actor_display_name.clone(),
            user: row.user_id.into(),
            action: row.action.parse().map_err(corrupt)?,
            via: row.via.parse().map_err(corrupt)?,
            scope: match row.scope.as_deref() {
                None => None,
                Some(s) => Some(s.parse::<Scope>().map_err(|e| StoreError::Corrupt(format!("access log scope: {e}")))?),
            },
        })
    }
}

/// An entry to record: `actor` (with its display name now) did `action`
/// to `user`'s data, via a manager's standing or a share.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub user: UserId,
    pub actor: UserId,
    pub actor_display_name: String,
    pub action: Action,
    pub via: Via,
    pub at: DateTime<Utc>,
}

impl NewEntry {
    pub fn new(user: UserId, actor: &User, action: Action, via: Via, at: DateTime<Utc>) -> NewEntry {
        NewEntry { user, actor: actor.id, actor_display_name: actor.display_name(), action, via, at }
    }

    fn row(&self) -> EntryRow {
        EntryRow {
            id: AccessEntryId::for_time(self.at).into(),
            user_id: self.user.into(),
            at: self.at.into(),
            actor_id: Some(self.actor.into()),
            actor_display_name: self.actor_display_name.clone(),
            action: self.action.as_str().to_owned(),
            scope: self.action.scope().map(|s| s.as_str().to_owned()),
            via: self.via.as_str().to_owned(),
        }
    }
}

/// Records an entry on the connection's current transaction: a change's,
/// which commits with the change or not at all.
pub fn record(conn: &mut AnyConnection, entry: &NewEntry) -> Result<(), StoreError> {
    diesel::insert_into(access_log::table).values(entry.row()).execute_on(conn)?;
    Ok(())
}

/// Records, on the connection's current transaction, the entries of an
/// account that this transaction deletes (the co-managed users it leaves,
/// the shares it held): without its id and with the name it had, as
/// [`forget_actor`] leaves each of its earlier entries. One statement.
pub fn record_departed(conn: &mut AnyConnection, entries: &[NewEntry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows: Vec<EntryRow> = entries.iter().map(|e| EntryRow { actor_id: None, ..e.row() }).collect();
    match conn {
        AnyConnection::Postgres(c) => diesel::insert_into(access_log::table).values(&rows).execute(c)?,
        AnyConnection::Sqlite(c) => diesel::insert_into(access_log::table).values(&rows).execute(c)?,
    };
    Ok(())
}

/// The `VALUES` tuples of `entries`, for a statement that inserts them
/// among other things (see [`crate::trail`]), in the column order
/// `(id, user_id, at, actor_id, actor_display_name, action, scope, via)`.
pub(crate) fn values(mut q: crate::trail::Statement, entries: &[NewEntry]) -> crate::trail::Statement {
    use crate::trail::Bind;
    for (i, row) in entries.iter().map(NewEntry::row).enumerate() {
        q = q.sql(if i == 0 { "" } else { ", " }).tuple([
            Bind::Id(row.id.0),
            Bind::Id(row.user_id.0),
            Bind::Ts(row.at.0),
            Bind::OptId(row.actor_id.map(|a| a.0)),
            Bind::Text(row.actor_display_name),
            Bind::Text(row.action),
            Bind::OptText(row.scope),
            Bind::Text(row.via),
        ]);
    }
    q
}

/// Records reads' entries, many in one statement, which is its own
/// transaction. On PostgreSQL that transaction commits without waiting for
/// the disk (`synchronous_commit` off for it alone): a crash of the
/// database may lose the last fraction of a second of read entries, never
/// a change's; the reads are answered only after this returns, so a crash
/// of Steward loses none. All or none: `NotFound` when one of the entries'
/// users is gone (nothing is written then), and a caller that must tell
/// which entry failed records them one at a time.
pub fn record_reads(conn: &mut AnyConnection, entries: &[NewEntry]) -> Result<(), StoreError> {
    if entries.is_empty() {
        return Ok(());
    }
    match conn {
        // One statement, one round trip, its own transaction: the
        // setting lasts to the end of the transaction, which is this
        // statement, and its commit reads it.
        // As arrays: one shape of statement for any number of entries,
        // prepared once per connection.
        // The entries' users are locked as a foreign key's check would
        // (`FOR KEY SHARE`, which a deletion of the user waits for), once
        // for the batch instead of a check per entry (migration 000014);
        // when one is gone, none is written.
        AnyConnection::Postgres(c) => {
            use crate::trail::{Bind, Statement};
            let rows: Vec<EntryRow> = entries.iter().map(NewEntry::row).collect();
            let mut subjects: Vec<uuid::Uuid> = rows.iter().map(|r| r.user_id.0).collect();
            subjects.sort_unstable();
            subjects.dedup();
            let n = Statement::new(
                "WITH async AS (SELECT set_config('synchronous_commit', 'off', true)), \
                 wanted AS (SELECT ",
            )
            .bind(Bind::Ids(subjects))
            .sql(
                "::uuid[] AS ids), \
                 subjects AS (SELECT users.id FROM users, wanted WHERE users.id = ANY (wanted.ids) FOR KEY SHARE OF users) \
                 INSERT INTO access_log (id, user_id, at, actor_id, actor_display_name, action, scope, via) \
                 SELECT v.* FROM async, unnest(",
            )
            .bind(Bind::Ids(rows.iter().map(|r| r.id.0).collect()))
            .sql(", ")
            .bind(Bind::Ids(rows.iter().map(|r| r.user_id.0).collect()))
            .sql(", ")
            .bind(Bind::Tss(rows.iter().map(|r| r.at.0).collect()))
            .sql(", ")
            .bind(Bind::OptIds(rows.iter().map(|r| r.actor_id.map(|a| a.0)).collect()))
            .sql(", ")
            .bind(Bind::Texts(rows.iter().map(|r| r.actor_display_name.clone()).collect()))
            .sql(", ")
            .bind(Bind::Texts(rows.iter().map(|r| r.action.clone()).collect()))
            .sql(", ")
            .bind(Bind::OptTexts(rows.iter().map(|r| r.scope.clone()).collect()))
            .sql(", ")
            .bind(Bind::Texts(rows.iter().map(|r| r.via.clone()).collect()))
            .sql(
                ") AS v \
                 WHERE (SELECT count(*) FROM subjects) = (SELECT cardinality(ids) FROM wanted)",
            )
            .execute(c)?;
            if n == entries.len() {
                Ok(())
            } else {
                Err(StoreError::NotFound)
            }
        }
        // One multi-row statement: atomic on its own; the foreign key
        // refuses an entry of a user gone (`NotFound`).
        AnyConnection::Sqlite(c) => {
            let rows: Vec<EntryRow> = entries.iter().map(NewEntry::row).collect();
            diesel::insert_into(access_log::table).values(&rows).execute(c)?;
            Ok(())
        }
    }
}

/// A page of `user`'s log, newest first (`at`, then `id`), after `before`
/// (exclusive) when given. `Ok(None)` when `before` names no entry of
/// this user's log.
pub fn page(
    conn: &mut AnyConnection,
    user: UserId,
    limit: i64,
    before: Option<AccessEntryId>,
) -> Result<Option<Vec<AccessEntry>>, StoreError> {
    let user = DbId::from(user);
    // Newest first: an entry's id begins with its time
    // (`AccessEntryId::for_time`), so the ids' order is `(at, id)`'s and
    // a page is a range of the `(user_id, id)` key.
    let mut query = access_log::table
        .left_join(users::table.on(access_log::actor_id.eq(users::id.nullable())))
        .filter(access_log::user_id.eq(user))
        .order(access_log::id.desc())
        .limit(limit)
        .select((columns::<EntryRow>(), users::id.nullable()))
        .into_boxed();
    if let Some(before) = before {
        let before = DbId::from(before);
        let known: Option<DbId> = access_log::table
            .filter(access_log::user_id.eq(user))
            .filter(access_log::id.eq(before))
            .select(access_log::id)
            .first_on(conn)
            .optional()?;
        if known.is_none() {
            return Ok(None);
        }
        // Keyset pagination: strictly after the cursor in the list's
        // order, which reads only the rows it returns however deep the
        // page.
        query = query.filter(access_log::id.lt(before));
    }
    let rows = query.load(conn)?;
    rows.into_iter().map(entry_of).collect::<Result<Vec<_>, _>>().map(Some)
}

/// An entry as read with its actor's row, if that user still exists: the
/// actor of an entry written by a read that raced its actor's deletion
/// (after [`forget_actor`]) is shown as gone, as the others are.
fn entry_of((mut row, actor): (EntryRow, Option<DbId>)) -> Result<AccessEntry, StoreError> {
    if actor.is_none() {
        row.actor_id = None;
    }
    AccessEntry::try_from(row)
}

/// Nulls `actor`'s id in every entry it left (its account is being
/// deleted; run it in that transaction). The names stay, as the contract
/// keeps them.
pub fn forget_actor(conn: &mut AnyConnection, actor: UserId) -> Result<usize, StoreError> {
    let actor = DbId::from(actor);
    Ok(diesel::update(access_log::table.filter(access_log::actor_id.eq(actor)))
        .set(access_log::actor_id.eq(None::<DbId>))
        .execute_on(conn)?)
}

/// The whole logs of `users`, oldest first: for `steward export`, a
/// batch job (a request pages with [`page`]). One statement.
pub fn of_users(conn: &mut AnyConnection, users: &[UserId]) -> Result<Vec<AccessEntry>, StoreError> {
    let ids: Vec<DbId> = users.iter().copied().map(DbId::from).collect();
    let rows = access_log::table
        .left_join(users::table.on(access_log::actor_id.eq(users::id.nullable())))
        .filter(access_log::user_id.eq_any(&ids))
        .order((access_log::at.asc(), access_log::id.asc()))
        .select((columns::<EntryRow>(), users::id.nullable()))
        .load_on(conn)?;
    rows.into_iter().map(entry_of).collect()
}

/// Drops the entries recorded before `cutoff` (retention); how many.
pub fn purge_before(conn: &mut AnyConnection, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(access_log::table.filter(access_log::at.lt(DbTime::from(cutoff)))).execute_on(conn)?)
}
