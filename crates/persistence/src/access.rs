//! The facts that access is decided on, each read in one statement, for
//! the API's one-hop helper (`api::act`) to hand to `domain::access`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::access::Grant;
use domain::{ScopeSet, Share, ShareId, User, UserId};

use crate::schema::{shares, users};
use crate::shares::ShareRow;
use crate::types::{DbId, DbTime};
use crate::users::UserRow;
use crate::{AnyConnection, StoreError};

/// How a subject stands to a caller: the subject's row, and the live grant
/// it gave the caller, if any.
pub struct Standing {
    pub subject: User,
    pub grant: Option<Grant>,
}

/// A live grant's scopes and end, as stored.
type GrantColumns = (String, Option<DbTime>);

/// `subject` as `caller` finds it at `now`; `None` when there is no such
/// user. One statement: the user by its key, and the caller's live share
/// on it by the unique (subject, grantee) index.
pub fn standing(
    conn: &mut AnyConnection,
    caller: UserId,
    subject: UserId,
    now: DateTime<Utc>,
) -> Result<Option<Standing>, StoreError> {
    let caller_id = DbId::from(caller);
    let now = DbTime::from(now);
    let row: Option<(UserRow, Option<GrantColumns>)> = users::table
        .left_join(
            shares::table.on(shares::subject_id
                .eq(users::id)
                .and(shares::grantee_id.eq(caller_id))
                .and(shares::expires_at.is_null().or(shares::expires_at.gt(now)))),
        )
        .filter(users::id.eq(DbId::from(subject)))
        .select((UserRow::as_select(), (shares::scopes, shares::expires_at).nullable()))
        .first(conn)
        .optional()?;
    let Some((subject, grant)) = row else { return Ok(None) };
    let grant = grant
        .map(|(scopes, expires_at)| {
            let scopes = ScopeSet::from_storage(&scopes)
                .map_err(|_| StoreError::Corrupt("a share holds unknown scopes".into()))?;
            Ok::<_, StoreError>(Grant { grantee: caller, scopes, expires_at: expires_at.map(|t| t.0) })
        })
        .transpose()?;
    Ok(Some(Standing { subject: subject.into(), grant }))
}

/// A live share and its subject, in one statement; `None` when there is no
/// such share or it has ended.
pub fn share(conn: &mut AnyConnection, id: ShareId, now: DateTime<Utc>) -> Result<Option<(Share, User)>, StoreError> {
    let now = DbTime::from(now);
    let row: Option<(ShareRow, UserRow)> = shares::table
        .inner_join(users::table.on(users::id.eq(shares::subject_id)))
        .filter(shares::id.eq(DbId::from(id)))
        .filter(shares::expires_at.is_null().or(shares::expires_at.gt(now)))
        .select((ShareRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()?;
    row.map(|(share, subject)| Ok((Share::try_from(share)?, User::from(subject)))).transpose()
}
