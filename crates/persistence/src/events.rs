//! C4: the transactional outbox, its feed and the relay's cursor.
//!
//! A change appends its events with [`append`] on the connection of its own
//! transaction, so the change and its events commit together or not at all.
//! Writers take no lock for it.
//!
//! Visibility: a reader paging with `after` must never miss an event, so an
//! event may be seen only once no event with a lower position can still
//! appear.
//! - PostgreSQL: an event is inserted without a position. [`sequence`]
//!   numbers the committed events that have none, in insert order (`seq`),
//!   after the highest position given so far, in one transaction under an
//!   advisory lock that only sequencers take. It sees only committed rows,
//!   so whatever it numbers is final, and each run numbers above every
//!   earlier one: what a reader sees is always a prefix of the feed, and an
//!   event committed later gets a higher position than any already shown.
//!   Writers are never serialised, and a transaction still running holds
//!   nothing back (its events are numbered when it has committed, above
//!   what was numbered meanwhile). Causal order holds: a change made after
//!   another committed was inserted after it (`seq`), so it is numbered in
//!   the same run after it, or in a later run.
//! - SQLite: writers take turns in the process (`Db::write`) and the file
//!   has one writer at a time, so insert order is commit order and the
//!   position is the row's number (a generated column); nothing to
//!   sequence.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::{EventId, EventType, UserId};

use crate::schema::{event_relay, events};
use crate::types::{DbId, DbTime};
use crate::{AnyConnection, RunOn, StoreError};

/// An event to append: what the change is about, who made it (`None`: no
/// caller, as in registration and a claim) and the resource after it, as
/// JSON.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventType,
    pub user: UserId,
    pub actor: Option<UserId>,
    pub data: String,
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct NewEventRow<'a> {
    id: DbId,
    kind: &'a str,
    at: DbTime,
    user_id: DbId,
    actor_id: Option<DbId>,
    data: &'a str,
}

/// An event as the feed gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub position: i64,
    pub id: EventId,
    pub kind: EventType,
    pub at: DateTime<Utc>,
    pub user: UserId,
    pub actor: Option<UserId>,
    /// The stored JSON text.
    pub data: String,
}

type EventRow = (Option<i64>, DbId, String, DbTime, DbId, Option<DbId>, String);

fn event_of(row: EventRow) -> Result<Event, StoreError> {
    let (position, id, kind, at, user, actor, data) = row;
    Ok(Event {
        position: position.ok_or_else(|| StoreError::Corrupt("an event in the feed without a position".into()))?,
        id: id.into(),
        kind: EventType::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("an event of unknown type {kind:?}")))?,
        at: at.0,
        user: user.into(),
        actor: actor.map(UserId::from),
        data,
    })
}

fn rows(new: &[NewEvent], at: DateTime<Utc>) -> Vec<NewEventRow<'_>> {
    new.iter()
        .map(|e| NewEventRow {
            id: EventId::new().into(),
            kind: e.kind.as_str(),
            at: at.into(),
            user_id: e.user.into(),
            actor_id: e.actor.map(DbId::from),
            data: &e.data,
        })
        .collect()
}

/// The `VALUES` tuples of `new` at `at`, for a statement that inserts
/// them among other things (see [`crate::trail`]), in the column order
/// `(id, type, at, user_id, actor_id, data)`.
pub(crate) fn values(mut q: crate::trail::Statement, new: &[NewEvent], at: DateTime<Utc>) -> crate::trail::Statement {
    use crate::trail::Bind;
    for (i, row) in rows(new, at).into_iter().enumerate() {
        q = q.sql(if i == 0 { "" } else { ", " }).tuple([
            Bind::Id(row.id.0),
            Bind::Text(row.kind.to_owned()),
            Bind::Ts(row.at.0),
            Bind::Id(row.user_id.0),
            Bind::OptId(row.actor_id.map(|a| a.0)),
            Bind::Text(row.data.to_owned()),
        ]);
    }
    q
}

/// Appends `new` at `at`, in the caller's transaction: one statement for
/// all of them. Nothing to do for none. (A change with an access-log
/// entry too appends both with [`crate::trail::append`].)
pub fn append(conn: &mut AnyConnection, new: &[NewEvent], at: DateTime<Utc>) -> Result<(), StoreError> {
    if new.is_empty() {
        return Ok(());
    }
    let rows = rows(new, at);
    // SQLite's multi-row insert in Diesel is not offered on the
    // MultiConnection: one row at a time there (writers take turns anyway).
    match conn {
        AnyConnection::Postgres(c) => {
            diesel::insert_into(events::table).values(&rows).execute(c)?;
        }
        AnyConnection::Sqlite(c) => {
            for row in &rows {
                diesel::insert_into(events::table).values(row).execute(c)?;
            }
        }
    }
    Ok(())
}

/// The advisory lock key of the sequencers ("stewseq\0" as an integer).
const SEQUENCER_LOCK: i64 = 0x7374_6577_7365_7100;

/// Numbers the committed events that have no position yet (PostgreSQL;
/// SQLite's need none), at most 10,000 a call, and returns how many. Run it
/// outside any transaction: it is one of its own, and its statement must
/// see what the previous sequencer committed before this one took the
/// lock. Rows a deletion is blanking at that moment are skipped, not
/// waited for (numbered at the next call, above), so a sequencer never
/// waits on a writer.
pub fn sequence(conn: &mut AnyConnection) -> Result<usize, StoreError> {
    let AnyConnection::Postgres(_) = conn else { return Ok(0) };
    crate::transaction(conn, |c| {
        let AnyConnection::Postgres(pg) = c else { unreachable!("checked above") };
        // With the lock, for this transaction only, the join of the
        // statement below on the index (see there).
        diesel::sql_query(
            "SELECT pg_advisory_xact_lock($1), set_config('enable_hashjoin', 'off', true), \
             set_config('enable_mergejoin', 'off', true)",
        )
        .bind::<diesel::sql_types::BigInt, _>(SEQUENCER_LOCK)
        .execute(pg)?;
        Ok(diesel::sql_query(SEQUENCE).execute(pg)?)
    })
}

// Both halves run on `events_position_idx` (migration 000015), the one
// index on `position`: the candidates in its order (`ORDER BY position,
// seq`, all nulls here: the same as by `seq`) without a sort, and each
// found again by both its columns (`position IS NULL AND seq = …`; `seq`
// has no index of its own), a nested loop of 10,000 index probes at most.
// With many unnumbered events (a backlog, or statistics that say so) the
// planner would rather hash the whole table's unnumbered rows after a
// sequential scan (165 ms against 100 for 10,000 of 300,000 unnumbered),
// so the transaction turns hash and merge joins off. A candidate is
// locked, so its position is still null when the update finds it.
const SEQUENCE: &str = "\
WITH candidates AS (
    SELECT seq FROM events WHERE position IS NULL ORDER BY position, seq LIMIT 10000 FOR UPDATE SKIP LOCKED
), ready AS (
    SELECT seq, row_number() OVER (ORDER BY seq) AS rn FROM candidates
), top AS (
    SELECT coalesce(max(position), 0) AS m FROM events
)
UPDATE events e SET position = top.m + ready.rn FROM ready, top WHERE e.position IS NULL AND e.seq = ready.seq";

/// Up to `limit` events after `after`, in position order: only numbered
/// ones (run [`sequence`] first to number what has finished).
pub fn after(conn: &mut AnyConnection, after: i64, limit: i64) -> Result<Vec<Event>, StoreError> {
    let rows: Vec<EventRow> = events::table
        .filter(events::position.gt(after))
        .order(events::position.asc())
        .limit(limit)
        .select((
            events::position,
            events::id,
            events::kind,
            events::at,
            events::user_id,
            events::actor_id,
            events::data,
        ))
        .load_on(conn)?;
    rows.into_iter().map(event_of).collect()
}

/// The highest position given so far (0: none).
pub fn last_position(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(events::table.select(diesel::dsl::max(events::position)).first_on::<Option<i64>>(conn)?.unwrap_or(0))
}

/// The advisory lock of the publishing replica ("stewrel\0").
const RELAY_LOCK: i64 = 0x7374_6577_7265_6c00;

/// Takes the relay's session-level lock on this connection, if no other
/// session holds it: held until the connection closes (PostgreSQL; on
/// SQLite, one process, always `true`).
pub fn try_relay_lock(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    #[derive(QueryableByName)]
    struct Locked {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        locked: bool,
    }
    let AnyConnection::Postgres(pg) = conn else { return Ok(true) };
    let got: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<diesel::sql_types::BigInt, _>(RELAY_LOCK)
        .get_result(pg)?;
    Ok(got.locked)
}

/// The last position the relay has published (and had acknowledged).
pub fn relay_cursor(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(event_relay::table.find(1i16).select(event_relay::last_position).first_on(conn)?)
}

/// Moves the relay's cursor forward to `to` (never back: a replica that
/// lost its lock mid-batch cannot undo what another has published since).
pub fn advance_relay(conn: &mut AnyConnection, to: i64) -> Result<(), StoreError> {
    diesel::update(event_relay::table.find(1i16).filter(event_relay::last_position.lt(to)))
        .set(event_relay::last_position.eq(to))
        .execute_on(conn)?;
    Ok(())
}

/// Drops events from before `cutoff`; with `published_only`, only those the
/// relay has published. The newest numbered event always stays: the next
/// position is counted from it (PostgreSQL), so a reader's `after` keeps
/// its meaning even when everything else has expired.
pub fn purge(conn: &mut AnyConnection, cutoff: DateTime<Utc>, published_only: bool) -> Result<usize, StoreError> {
    let newest = last_position(conn)?;
    let old = events::table.filter(events::at.lt(DbTime::from(cutoff)));
    let n = if published_only {
        let cursor = relay_cursor(conn)?.min(newest - 1);
        diesel::delete(old.filter(events::position.le(cursor))).execute_on(conn)?
    } else {
        diesel::delete(old.filter(events::position.lt(newest).or(events::position.is_null()))).execute_on(conn)?
    };
    Ok(n)
}

/// How many events there are, numbered or not. For tests.
pub fn count(conn: &mut AnyConnection) -> Result<i64, StoreError> {
    Ok(events::table.count().get_result_on(conn)?)
}
