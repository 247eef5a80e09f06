//! Claim codes (C2): the one live code per managed user, stored only as a
//! keyed hash, and the redemption that turns the user into an account in
//! place.
//!
//! Every statement here is on an index: `claim_codes`' primary key
//! (`user_id`) or its unique `code_hash`, `users`' primary key and unique
//! `email_normalized`, `shares`' unique (subject, grantee), `user_managers`'
//! primary key and `invitations`' unique (user, invitee).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use domain::claim::{self, Keep};
use domain::{Email, ScopeSet, Share, User, UserId};

use crate::schema::{claim_codes, invitations, shares, user_managers, users};
use crate::types::{DbId, DbTime};
use crate::{columns, managers, AnyConnection, RunOn, StoreError};

/// A live code, found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveCode {
    pub user: UserId,
    pub keep_scopes: ScopeSet,
    pub issued_by: UserId,
    pub expires_at: DateTime<Utc>,
}

/// Gives `user` a code (its hash) issued by `issued_by`, replacing any it
/// had: one live code per user. Run it in a transaction.
pub fn issue(
    conn: &mut AnyConnection,
    user: UserId,
    issued_by: UserId,
    code_hash: &[u8],
    keep_scopes: ScopeSet,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    void(conn, user)?;
    diesel::insert_into(claim_codes::table)
        .values((
            claim_codes::user_id.eq(DbId::from(user)),
            claim_codes::code_hash.eq(code_hash),
            claim_codes::keep_scopes.eq(keep_scopes.to_storage()),
            claim_codes::issued_by.eq(DbId::from(issued_by)),
            claim_codes::created_at.eq(DbTime::from(now)),
            claim_codes::expires_at.eq(DbTime::from(expires_at)),
        ))
        .execute_on(conn)?;
    Ok(())
}

/// Voids `user`'s code. Whether there was one.
pub fn void(conn: &mut AnyConnection, user: UserId) -> Result<bool, StoreError> {
    let n = diesel::delete(claim_codes::table.filter(claim_codes::user_id.eq(DbId::from(user)))).execute_on(conn)?;
    Ok(n > 0)
}

/// Drops the codes that had expired by `now` (`purge-expired`): an expired
/// code redeems nothing, so this only reclaims space. How many. On
/// `claim_codes_expires_idx`.
pub fn purge_expired(conn: &mut AnyConnection, now: DateTime<Utc>) -> Result<usize, StoreError> {
    Ok(diesel::delete(claim_codes::table.filter(claim_codes::expires_at.le(DbTime::from(now)))).execute_on(conn)?)
}

/// The code with this hash, when it is still live at `now`.
pub fn find_live(
    conn: &mut AnyConnection,
    code_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Option<LiveCode>, StoreError> {
    let row: Option<(DbId, String, DbId, DbTime)> = claim_codes::table
        .filter(claim_codes::code_hash.eq(code_hash))
        .filter(claim_codes::expires_at.gt(DbTime::from(now)))
        .select((claim_codes::user_id, claim_codes::keep_scopes, claim_codes::issued_by, claim_codes::expires_at))
        .first_on(conn)
        .optional()?;
    row.map(|(user, keep, by, expires_at)| {
        Ok(LiveCode {
            user: user.into(),
            keep_scopes: ScopeSet::from_storage(&keep)
                .map_err(|_| StoreError::Corrupt(format!("the claim code of {} holds unknown scopes", user.0)))?,
            issued_by: by.into(),
            expires_at: expires_at.0,
        })
    })
    .transpose()
}

/// The credentials a redemption gives.
pub struct Credentials<'a> {
    pub email: &'a Email,
    pub password_hash: &'a str,
}

/// What a redemption did.
#[derive(Debug, Clone)]
pub struct Redeemed {
    /// The account the user now is.
    pub user: User,
    /// The issuer of the code (a manager until now: a code goes when its
    /// issuer stops managing the user).
    pub issued_by: User,
    /// Per former manager, what it kept.
    pub kept: Vec<(UserId, Keep)>,
    /// The shares it made, changed (as they now are) or removed (as they
    /// were), in the order of `kept`.
    pub changed: Vec<(Keep, Share)>,
}

/// Redeems the live code with this hash at `now`, in the caller's
/// transaction: the managed user becomes an account with `credentials`,
/// keeping its id and everything it has; each former manager gets the
/// code's `keep_scopes` as a share with no end ([`domain::claim::keep`]);
/// its managers, invitations and codes go.
///
/// `NotFound` when no live code has this hash (unknown, used, voided,
/// expired, or its user deleted meanwhile); `Conflict("email")` when the
/// e-mail is taken: then the caller's transaction rolls back and the code
/// stays. On PostgreSQL the user's row is locked first, as every change of
/// who manages a user does ([`managers::lock_users`]): a second redemption
/// of the code then finds it gone, and a delete of the user waits for this
/// one (and then finds an account: see `users::delete_managed`).
pub fn redeem(
    conn: &mut AnyConnection,
    code_hash: &[u8],
    credentials: &Credentials<'_>,
    now: DateTime<Utc>,
) -> Result<Redeemed, StoreError> {
    let code = find_live(conn, code_hash, now)?.ok_or(StoreError::NotFound)?;
    let user = DbId::from(code.user);
    managers::lock_users(conn, &[code.user])?;
    // Taken under the lock: of two redemptions, the second finds nothing.
    let taken = diesel::delete(
        claim_codes::table
            .filter(claim_codes::code_hash.eq(code_hash))
            .filter(claim_codes::user_id.eq(user))
            .filter(claim_codes::expires_at.gt(DbTime::from(now))),
    )
    .execute_on(conn)?;
    if taken == 0 {
        return Err(StoreError::NotFound);
    }
    let n = diesel::update(users::table.find(user).filter(users::email.is_null()))
        .set((
            users::email.eq(credentials.email.as_str()),
            users::email_normalized.eq(credentials.email.normalized()),
            users::password_hash.eq(credentials.password_hash),
        ))
        .execute_on(conn)
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict(_) => StoreError::Conflict("email"),
            other => other,
        })?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }

    let former: Vec<User> = managers::of_user(conn, code.user)?.into_iter().map(|(m, _)| m).collect();
    let issued_by = former
        .iter()
        .find(|m| m.id == code.issued_by)
        .cloned()
        .ok_or_else(|| StoreError::Corrupt("a claim code outlived its issuer's management".into()))?;
    let former: Vec<UserId> = former.into_iter().map(|m| m.id).collect();
    let ids: Vec<DbId> = former.iter().copied().map(DbId::from).collect();
    let held: Vec<Share> = if ids.is_empty() {
        Vec::new()
    } else {
        let rows: Vec<crate::shares::ShareRow> = shares::table
            .filter(shares::subject_id.eq(user))
            .filter(shares::grantee_id.eq_any(&ids))
            .select(columns::<crate::shares::ShareRow>())
            .load_on(conn)?;
        rows.into_iter().map(Share::try_from).collect::<Result<_, _>>()?
    };
    let mut kept = Vec::with_capacity(former.len());
    let mut changed = Vec::new();
    for manager in former {
        let share = held.iter().find(|s| s.grantee == manager);
        let plan = claim::keep(code.keep_scopes, share.map(|s| s.id));
        match plan {
            Keep::Nothing => {}
            Keep::Create(scopes) => {
                changed.push((plan, crate::shares::create(conn, code.user, manager, scopes, None, now)?));
            }
            Keep::Replace(id, scopes) => {
                changed.push((plan, crate::shares::update(conn, id, scopes, Some(None))?));
            }
            Keep::Remove(id) => {
                crate::shares::delete(conn, id)?;
                changed.push((plan, share.expect("a share to remove is held").clone()));
            }
        }
        kept.push((manager, plan));
    }
    diesel::delete(user_managers::table.filter(user_managers::user_id.eq(user))).execute_on(conn)?;
    diesel::delete(invitations::table.filter(invitations::user_id.eq(user))).execute_on(conn)?;
    diesel::delete(claim_codes::table.filter(claim_codes::user_id.eq(user))).execute_on(conn)?;
    let user = crate::users::find(conn, code.user)?.ok_or(StoreError::NotFound)?;
    Ok(Redeemed { user, issued_by, kept, changed })
}

/// Every stored code's hash and kept scopes, for tests that check a code
/// is stored only as a hash. Reads the whole table: not for requests.
pub fn stored(conn: &mut AnyConnection) -> Result<Vec<(Vec<u8>, String)>, StoreError> {
    Ok(claim_codes::table.select((claim_codes::code_hash, claim_codes::keep_scopes)).load_on(conn)?)
}

/// A code as an export shows it: never its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub user: UserId,
    pub keep_scopes: ScopeSet,
    pub issued_by: UserId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The codes on or issued by one of `users`. One statement.
pub fn naming(conn: &mut AnyConnection, users: &[UserId]) -> Result<Vec<Issued>, StoreError> {
    let ids: Vec<DbId> = users.iter().copied().map(DbId::from).collect();
    let rows: Vec<(DbId, String, DbId, DbTime, DbTime)> = claim_codes::table
        .filter(claim_codes::user_id.eq_any(&ids).or(claim_codes::issued_by.eq_any(&ids)))
        .order((claim_codes::created_at.asc(), claim_codes::user_id.asc()))
        .select((
            claim_codes::user_id,
            claim_codes::keep_scopes,
            claim_codes::issued_by,
            claim_codes::created_at,
            claim_codes::expires_at,
        ))
        .load_on(conn)?;
    rows.into_iter()
        .map(|(user, keep, by, created, expires)| {
            Ok(Issued {
                user: user.into(),
                keep_scopes: ScopeSet::from_storage(&keep)
                    .map_err(|_| StoreError::Corrupt("a claim code holds unknown scopes".into()))?,
                issued_by: by.into(),
                created_at: created.0,
                expires_at: expires.0,
            })
        })
        .collect()
}
