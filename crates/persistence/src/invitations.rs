//! Invitations to co-manage a user (C1). Every read here takes `now` and
//! returns only live invitations: an expired one counts as absent
//! everywhere (and is replaced by the next of the same pair).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::access::Managers;
use domain::{Invitation, InvitationId, User, UserId};

use crate::schema::{invitations, user_managers, users};
use crate::types::{DbId, DbTime};
use crate::users::UserRow;
use crate::{columns, AnyConnection, RunOn, StoreError};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
struct InvitationRow {
    id: DbId,
    user_id: DbId,
    invitee_id: DbId,
    invited_by: DbId,
    created_at: DbTime,
    expires_at: DbTime,
}

impl From<InvitationRow> for Invitation {
    fn from(row: InvitationRow) -> Invitation {
        Invitation {
            id: row.id.into(),
            user: row.user_id.into(),
            invitee: row.invitee_id.into(),
            invited_by: row.invited_by.into(),
            created_at: row.created_at.0,
            expires_at: row.expires_at.0,
        }
    }
}

/// An invitation with the display names of its user, invitee and sender,
/// as a list answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub invitation: Invitation,
    pub user_name: String,
    pub invitee_name: String,
    pub invited_by_name: String,
}

diesel::alias!(users as invitees: Invitees, users as senders: Senders);

/// The name columns of a user, for `domain::display_name`.
type Names = (Option<String>, Option<String>, Option<String>);

fn name((first, last, email): Names) -> String {
    domain::display_name(first.as_deref(), last.as_deref(), email.as_deref())
}

/// Invites `invitee` to co-manage `user`, from `invited_by`, at `now`, for
/// `domain::INVITATION_LIFETIME`. An expired invitation of the same pair is
/// replaced; a live one is `Conflict("invitation")`.
pub fn create(
    conn: &mut AnyConnection,
    user: UserId,
    invitee: UserId,
    invited_by: UserId,
    now: DateTime<Utc>,
) -> Result<Invitation, StoreError> {
    let row = InvitationRow {
        id: InvitationId::new().into(),
        user_id: user.into(),
        invitee_id: invitee.into(),
        invited_by: invited_by.into(),
        created_at: now.into(),
        expires_at: Invitation::expiry(now).into(),
    };
    crate::transaction(conn, |conn| {
        diesel::delete(
            invitations::table
                .filter(invitations::user_id.eq(row.user_id))
                .filter(invitations::invitee_id.eq(row.invitee_id))
                .filter(invitations::expires_at.le(DbTime::from(now))),
        )
        .execute_on(conn)?;
        diesel::insert_into(invitations::table).values(&row).execute_on(conn).map_err(|e| {
            match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::Conflict("invitation"),
                other => other,
            }
        })?;
        Ok(Invitation::from(row))
    })
}

/// The live invitation `id`, its user, and who manages that user as far as
/// `caller` needs to know: what deciding on it needs, in one statement (by
/// the invitation's key, the user's, and the managers' relation's).
pub fn find_live(
    conn: &mut AnyConnection,
    caller: UserId,
    id: InvitationId,
    now: DateTime<Utc>,
) -> Result<Option<(Invitation, User, Managers)>, StoreError> {
    let caller = DbId::from(caller);
    let row: Option<(InvitationRow, UserRow, bool)> = invitations::table
        .inner_join(users::table.on(users::id.eq(invitations::user_id)))
        .filter(invitations::id.eq(DbId::from(id)))
        .filter(invitations::expires_at.gt(DbTime::from(now)))
        .select((
            columns::<InvitationRow>(),
            columns::<UserRow>(),
            diesel::dsl::exists(
                user_managers::table
                    .filter(user_managers::user_id.eq(invitations::user_id))
                    .filter(user_managers::manager_id.eq(caller)),
            ),
        ))
        .first_on(conn)
        .optional()?;
    Ok(row.map(|(invitation, user, by_caller)| {
        let user = User::from(user);
        let managers = Managers { any: user.managed, caller: by_caller };
        (Invitation::from(invitation), user, managers)
    }))
}

/// The invitations' rows with their three display names, as loaded.
type ListedRow = (InvitationRow, Names, Names, Names);

fn listed(rows: Vec<ListedRow>) -> Vec<Listed> {
    rows.into_iter()
        .map(|(row, user, invitee, sender)| Listed {
            invitation: row.into(),
            user_name: name(user),
            invitee_name: name(invitee),
            invited_by_name: name(sender),
        })
        .collect()
}

/// Live invitations addressed to `invitee`, oldest first, with their
/// names. One statement (on the invitee's index).
pub fn received_by(conn: &mut AnyConnection, invitee: UserId, now: DateTime<Utc>) -> Result<Vec<Listed>, StoreError> {
    let rows: Vec<ListedRow> = invitations::table
        .inner_join(users::table.on(users::id.eq(invitations::user_id)))
        .inner_join(invitees.on(invitees.field(users::id).eq(invitations::invitee_id)))
        .inner_join(senders.on(senders.field(users::id).eq(invitations::invited_by)))
        .filter(invitations::invitee_id.eq(DbId::from(invitee)))
        .filter(invitations::expires_at.gt(DbTime::from(now)))
        .order((invitations::created_at.asc(), invitations::id.asc()))
        .select((
            columns::<InvitationRow>(),
            (users::first_name, users::last_name, users::email),
            invitees.fields((users::first_name, users::last_name, users::email)),
            senders.fields((users::first_name, users::last_name, users::email)),
        ))
        .load_on(conn)?;
    Ok(listed(rows))
}

/// Live invitations on the users `manager` manages, whichever of their
/// managers sent them, oldest first, with their names. One statement (the
/// manager's users by its index, their invitations by the unique pair's).
pub fn sent_on(conn: &mut AnyConnection, manager: UserId, now: DateTime<Utc>) -> Result<Vec<Listed>, StoreError> {
    let rows: Vec<ListedRow> = invitations::table
        .inner_join(user_managers::table.on(user_managers::user_id.eq(invitations::user_id)))
        .inner_join(users::table.on(users::id.eq(invitations::user_id)))
        .inner_join(invitees.on(invitees.field(users::id).eq(invitations::invitee_id)))
        .inner_join(senders.on(senders.field(users::id).eq(invitations::invited_by)))
        .filter(user_managers::manager_id.eq(DbId::from(manager)))
        .filter(invitations::expires_at.gt(DbTime::from(now)))
        .order((invitations::created_at.asc(), invitations::id.asc()))
        .select((
            columns::<InvitationRow>(),
            (users::first_name, users::last_name, users::email),
            invitees.fields((users::first_name, users::last_name, users::email)),
            senders.fields((users::first_name, users::last_name, users::email)),
        ))
        .load_on(conn)?;
    Ok(listed(rows))
}

/// Uses the live invitation `id` of `invitee`: deletes it and makes the
/// invitee a manager of its user since `now`, in the caller's
/// transaction, under [`crate::managers::lock_users`] on that user. Of two
/// concurrent accepts, the second finds nothing to delete: `NotFound`.
pub fn accept(
    conn: &mut AnyConnection,
    id: InvitationId,
    invitee: UserId,
    now: DateTime<Utc>,
) -> Result<UserId, StoreError> {
    let target = invitations::table
        .filter(invitations::id.eq(DbId::from(id)))
        .filter(invitations::invitee_id.eq(DbId::from(invitee)))
        .filter(invitations::expires_at.gt(DbTime::from(now)));
    let user: Option<DbId> = target.select(invitations::user_id).first_on(conn).optional()?;
    let user: UserId = user.ok_or(StoreError::NotFound)?.into();
    crate::managers::lock_users(conn, &[user])?;
    // After the lock: a concurrent accept (or claim) that got there first
    // has deleted it, and this one deletes nothing.
    if diesel::delete(target).execute_on(conn)? == 0 {
        return Err(StoreError::NotFound);
    }
    crate::managers::add(conn, user, invitee, now)?;
    Ok(user)
}

/// Withdraws or declines the invitation `id`.
pub fn delete(conn: &mut AnyConnection, id: InvitationId) -> Result<(), StoreError> {
    match diesel::delete(invitations::table.find(DbId::from(id))).execute_on(conn)? {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Drops the invitations that had expired by `now` (`purge-expired`): one
/// that has expired already counts as absent everywhere, so this only
/// reclaims space. How many. On `invitations_expires_idx`.
pub fn purge_expired(conn: &mut AnyConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(invitations::table.filter(invitations::expires_at.le(DbTime::from(now)))).execute_on(conn)?)
}

/// Every invitation on, to or from one of `users`, live or not (an export
/// shows what is stored). One statement.
pub fn naming(conn: &mut AnyConnection, users: &[UserId]) -> Result<Vec<Invitation>, StoreError> {
    let ids: Vec<DbId> = users.iter().copied().map(DbId::from).collect();
    let rows: Vec<InvitationRow> = invitations::table
        .filter(
            invitations::user_id
                .eq_any(&ids)
                .or(invitations::invitee_id.eq_any(&ids))
                .or(invitations::invited_by.eq_any(&ids)),
        )
        .order((invitations::created_at.asc(), invitations::id.asc()))
        .select(columns::<InvitationRow>())
        .load_on(conn)?;
    Ok(rows.into_iter().map(Invitation::from).collect())
}
