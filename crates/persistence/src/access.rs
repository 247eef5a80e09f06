//! The facts that access is decided on, each read in one statement, for
//! the API's one-hop helper (`api::act`) to hand to `domain::access`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::access::{Grant, Managers};
use domain::{ScopeSet, Share, ShareId, User, UserId};

use crate::schema::{shares, user_managers, users};
use crate::shares::ShareRow;
use crate::types::{DbId, DbTime};
use crate::users::UserRow;
use crate::{AnyConnection, StoreError};

/// How a subject stands to a caller: the subject's row, who manages it as
/// far as the caller's access needs to know, and the live grant it gave
/// the caller, if any.
pub struct Standing {
    pub subject: User,
    pub managers: Managers,
    pub grant: Option<Grant>,
}

/// `subject` and whether `caller` manages it, without the caller's grant:
/// for the decisions that no share can change (only a manager may read a
/// managed user, share it, see its managers), one index probe fewer than
/// [`standing`]. `grant` is `None`.
pub fn management(conn: &mut AnyConnection, caller: UserId, subject: UserId) -> Result<Option<Standing>, StoreError> {
    let row: Option<(UserRow, bool)> = users::table
        .filter(users::id.eq(DbId::from(subject)))
        .select((UserRow::as_select(), caller_manages(DbId::from(caller))))
        .first(conn)
        .optional()?;
    Ok(row.map(|(subject, by_caller)| {
        let subject = User::from(subject);
        let managers = Managers { any: subject.managed, caller: by_caller };
        Standing { subject, managers, grant: None }
    }))
}

/// A live grant's scopes and end, as stored.
type GrantColumns = (String, Option<DbTime>);

/// `subject` as `caller` finds it at `now`; `None` when there is no such
/// user. One statement, however many managers it has: the user by its key,
/// whether the caller is among its managers by the relation's key, and the
/// caller's live share on it by the unique (subject, grantee) index.
pub fn standing(
    conn: &mut AnyConnection,
    caller: UserId,
    subject: UserId,
    now: DateTime<Utc>,
) -> Result<Option<Standing>, StoreError> {
    let caller_id = DbId::from(caller);
    let now = DbTime::from(now);
    let row: Option<(UserRow, Option<GrantColumns>, bool)> = users::table
        .left_join(
            shares::table.on(shares::subject_id
                .eq(users::id)
                .and(shares::grantee_id.eq(caller_id))
                .and(shares::expires_at.is_null().or(shares::expires_at.gt(now)))),
        )
        .filter(users::id.eq(DbId::from(subject)))
        .select((UserRow::as_select(), (shares::scopes, shares::expires_at).nullable(), caller_manages(caller_id)))
        .first(conn)
        .optional()?;
    let Some((subject, grant, by_caller)) = row else { return Ok(None) };
    let subject = User::from(subject);
    let managers = Managers { any: subject.managed, caller: by_caller };
    let grant = grant
        .map(|(scopes, expires_at)| {
            let scopes = ScopeSet::from_storage(&scopes)
                .map_err(|_| StoreError::Corrupt("a share holds unknown scopes".into()))?;
            Ok::<_, StoreError>(Grant { grantee: caller, scopes, expires_at: expires_at.map(|t| t.0) })
        })
        .transpose()?;
    Ok(Some(Standing { subject, managers, grant }))
}

/// The `EXISTS` of [`caller_manages`].
type CallerManages = diesel::dsl::exists<
    diesel::dsl::Filter<
        diesel::dsl::Filter<user_managers::table, diesel::dsl::Eq<user_managers::user_id, users::id>>,
        diesel::dsl::Eq<user_managers::manager_id, DbId>,
    >,
>;

/// Whether `caller` is among the managers of the `users` row at hand (by
/// the relation's primary key).
fn caller_manages(caller: DbId) -> CallerManages {
    diesel::dsl::exists(
        user_managers::table.filter(user_managers::user_id.eq(users::id)).filter(user_managers::manager_id.eq(caller)),
    )
}

/// A live share and its subject, with who manages the subject as far as
/// `caller` needs to know, in one statement; `None` when there is no such
/// share or it has ended.
pub fn share(
    conn: &mut AnyConnection,
    caller: UserId,
    id: ShareId,
    now: DateTime<Utc>,
) -> Result<Option<(Share, User, Managers)>, StoreError> {
    let now = DbTime::from(now);
    let row: Option<(ShareRow, UserRow, bool)> = shares::table
        .inner_join(users::table.on(users::id.eq(shares::subject_id)))
        .filter(shares::id.eq(DbId::from(id)))
        .filter(shares::expires_at.is_null().or(shares::expires_at.gt(now)))
        .select((ShareRow::as_select(), UserRow::as_select(), caller_manages(DbId::from(caller))))
        .first(conn)
        .optional()?;
    row.map(|(share, subject, by_caller)| {
        let subject = User::from(subject);
        let managers = Managers { any: subject.managed, caller: by_caller };
        Ok((Share::try_from(share)?, subject, managers))
    })
    .transpose()
}
