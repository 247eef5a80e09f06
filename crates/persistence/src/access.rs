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
use crate::{columns, AnyConnection, RunOn, StoreError};

/// How a subject stands to a caller: the subject's row, who manages it as
/// far as the caller's access needs to know, and the live grant it gave
/// the caller, if any.
pub struct Standing {
    pub subject: User,
    pub managers: Managers,
    pub grant: Option<Grant>,
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
        .select((columns::<UserRow>(), (shares::scopes, shares::expires_at).nullable(), caller_manages(caller_id)))
        .first_on(conn)
        .optional()?;
    let Some((subject, grant, by_caller)) = row else { return Ok(None) };
    Standing::of(caller, subject, grant, by_caller).map(Some)
}

impl Standing {
    /// From the columns a standing is read as: the subject's row, the
    /// caller's live grant on it, whether the caller manages it.
    fn of(
        caller: UserId,
        subject: UserRow,
        grant: Option<GrantColumns>,
        by_caller: bool,
    ) -> Result<Standing, StoreError> {
        let subject = User::from(subject);
        let managers = Managers { any: subject.managed, caller: by_caller };
        let grant = grant
            .map(|(scopes, expires_at)| {
                let scopes = ScopeSet::from_storage(&scopes)
                    .map_err(|_| StoreError::Corrupt("a share holds unknown scopes".into()))?;
                Ok::<_, StoreError>(Grant { grantee: caller, scopes, expires_at: expires_at.map(|t| t.0) })
            })
            .transpose()?;
        Ok(Standing { subject, managers, grant })
    }
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
        .select((columns::<ShareRow>(), columns::<UserRow>(), caller_manages(DbId::from(caller))))
        .first_on(conn)
        .optional()?;
    row.map(|(share, subject, by_caller)| {
        let subject = User::from(subject);
        let managers = Managers { any: subject.managed, caller: by_caller };
        Ok((Share::try_from(share)?, subject, managers))
    })
    .transpose()
}

diesel::alias!(users as subjects: SubjectsAlias);

/// A subject's columns, as [`UserRow`] reads them.
type SubjectColumns = (DbId, Option<String>, Option<String>, Option<String>, bool, DbTime);

/// What [`authenticate_with_standing`] reads: the caller's row, its
/// sign-in's end, last use and factor, then the subject, the caller's
/// grant on it, and whether the caller manages it.
type SignInAndStanding = (UserRow, DbTime, DbTime, Option<String>, Option<SubjectColumns>, Option<GrantColumns>, bool);

/// [`crate::sessions::authenticate`] and [`standing`] in one statement:
/// the caller's live sign-in and account, and, when the sign-in is live,
/// `subject` as the caller finds it (its row, whether the caller manages
/// it, the caller's live grant on it). One round trip where a request on
/// a user took two. `None`: the sign-in is not live (401); `Some((_,
/// None))`: there is no such subject.
pub fn authenticate_with_standing(
    conn: &mut AnyConnection,
    session: domain::SessionId,
    caller: UserId,
    subject: UserId,
    now: DateTime<Utc>,
) -> Result<Option<(crate::sessions::LiveSession, Option<Standing>)>, StoreError> {
    use crate::schema::sessions;
    let caller_id = DbId::from(caller);
    let at = DbTime::from(now);
    let s = subjects;
    let row: Option<SignInAndStanding> = sessions::table
        .inner_join(users::table)
        .left_join(s.on(s.field(users::id).eq(DbId::from(subject))))
        .left_join(
            shares::table.on(shares::subject_id
                .eq(s.field(users::id))
                .and(shares::grantee_id.eq(caller_id))
                .and(shares::expires_at.is_null().or(shares::expires_at.gt(at)))),
        )
        .filter(sessions::id.eq(DbId::from(session)))
        .filter(sessions::user_id.eq(caller_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(at))
        .filter(users::password_hash.is_not_null())
        .select((
            columns::<UserRow>(),
            sessions::expires_at,
            sessions::last_used_at,
            sessions::second_factor,
            s.fields((
                users::id,
                users::email,
                users::first_name,
                users::last_name,
                users::admin,
                users::registered_at,
            ))
            .nullable(),
            (shares::scopes, shares::expires_at).nullable(),
            diesel::dsl::exists(
                user_managers::table
                    .filter(user_managers::user_id.eq(s.field(users::id)))
                    .filter(user_managers::manager_id.eq(caller_id)),
            ),
        ))
        .first_on(conn)
        .optional()?;
    let Some((me, expires_at, last_used_at, factor, subject_row, grant, by_caller)) = row else { return Ok(None) };
    let live = crate::sessions::LiveSession::from_columns(me, expires_at, last_used_at, factor);
    let Some((id, email, first_name, last_name, admin, registered_at)) = subject_row else {
        return Ok(Some((live, None)));
    };
    let subject = UserRow { id, email, first_name, last_name, admin, registered_at };
    Ok(Some((live, Some(Standing::of(caller, subject, grant, by_caller)?))))
}
