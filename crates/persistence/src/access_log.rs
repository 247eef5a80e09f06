//! C3: the access log. Written by the API's one-hop helper (`api::act`)
//! with the decision it records: a change's entry inside the change's
//! transaction, a read's before the answer.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::access_log::{AccessEntry, Action, Via};
use domain::{AccessEntryId, Scope, User, UserId};

use crate::schema::access_log;
use crate::types::{DbId, DbTime};
use crate::{AnyConnection, StoreError};

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

/// An entry to record: `actor` did `action` to `user`'s data, via a
/// manager's standing or a share.
pub struct NewEntry<'a> {
    pub user: UserId,
    pub actor: &'a User,
    pub action: Action,
    pub via: Via,
    pub at: DateTime<Utc>,
}

impl NewEntry<'_> {
    fn row(&self) -> EntryRow {
        EntryRow {
            id: AccessEntryId::new().into(),
            user_id: self.user.into(),
            at: self.at.into(),
            actor_id: Some(self.actor.id.into()),
            actor_display_name: self.actor.display_name(),
            action: self.action.as_str().to_owned(),
            scope: self.action.scope().map(|s| s.as_str().to_owned()),
            via: self.via.as_str().to_owned(),
        }
    }
}

/// Records an entry on the connection's current transaction: a change's,
/// which commits with the change or not at all.
pub fn record(conn: &mut AnyConnection, entry: &NewEntry) -> Result<(), StoreError> {
    diesel::insert_into(access_log::table).values(entry.row()).execute(conn)?;
    Ok(())
}

/// Records a read's entry in a transaction of its own, outside any
/// other. On PostgreSQL that transaction commits without waiting for
/// the disk (`synchronous_commit` off for it alone, set in the same
/// statement): a crash of the database may lose the last fraction of a
/// second of read entries, never a change's, and the read is answered
/// only after the insert returns, so a crash of Steward loses none.
pub fn record_read(conn: &mut AnyConnection, entry: &NewEntry) -> Result<(), StoreError> {
    match conn {
        AnyConnection::Postgres(c) => {
            use crate::types::{Id, Ts};
            use diesel::sql_types::{Nullable, Text};
            let row = entry.row();
            diesel::sql_query(RECORD_READ)
                .bind::<Id, _>(row.id)
                .bind::<Id, _>(row.user_id)
                .bind::<Ts, _>(row.at)
                .bind::<Nullable<Id>, _>(row.actor_id)
                .bind::<Text, _>(row.actor_display_name)
                .bind::<Text, _>(row.action)
                .bind::<Nullable<Text>, _>(row.scope)
                .bind::<Text, _>(row.via)
                .execute(c)?;
            Ok(())
        }
        AnyConnection::Sqlite(_) => record(conn, entry),
    }
}

/// The insert of a read's entry, its transaction (the statement's own)
/// committed asynchronously: `set_config(..., true)` lasts to the end of
/// the transaction, which is this statement, and the commit reads it.
const RECORD_READ: &str = "\
WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
INSERT INTO access_log (id, user_id, at, actor_id, actor_display_name, action, scope, via)
SELECT $1, $2, $3, $4, $5, $6, $7, $8 FROM async";

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
    let mut query = access_log::table
        .filter(access_log::user_id.eq(user))
        .order((access_log::at.desc(), access_log::id.desc()))
        .limit(limit)
        .select(EntryRow::as_select())
        .into_boxed();
    if let Some(before) = before {
        let cursor: Option<(DbTime, DbId)> = access_log::table
            .find(DbId::from(before))
            .filter(access_log::user_id.eq(user))
            .select((access_log::at, access_log::id))
            .first(conn)
            .optional()?;
        let Some((at, id)) = cursor else {
            return Ok(None);
        };
        // Keyset pagination, as for activities: strictly after the cursor.
        query = query.filter(access_log::at.lt(at).or(access_log::at.eq(at).and(access_log::id.lt(id))));
    }
    let rows = query.load(conn)?;
    rows.into_iter().map(AccessEntry::try_from).collect::<Result<Vec<_>, _>>().map(Some)
}

/// Drops the entries recorded before `cutoff` (retention); how many.
pub fn purge_before(conn: &mut AnyConnection, cutoff: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(access_log::table.filter(access_log::at.lt(DbTime::from(cutoff)))).execute(conn)?)
}
