//! The access rules, as plain functions of facts the caller already holds.
//!
//! Every endpoint decides access here and nowhere else. A caller holds
//! every scope on themselves and on the users they manage (a managed user
//! has one or more managers, all equal), and the granted scopes of a live
//! share on its subject; nothing on anyone else. Holding
//! no scope at all means the caller may not even learn that the subject
//! exists ([`AccessError::NoAccess`], answered as 404); holding some but
//! not the one needed is [`AccessError::MissingScope`] (403).

use chrono::{DateTime, Utc};

use crate::{Scope, ScopeSet, Share, User, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The caller may not know the subject exists.
    #[error("no access")]
    NoAccess,
    /// The caller can see the subject but lacks this scope.
    #[error("missing scope {0}")]
    MissingScope(Scope),
    /// The caller can see the subject, but what it asks is the subject's
    /// or its managers' alone (a grantee reading the access log).
    #[error("not the subject's or a manager's")]
    NotTheirs,
}

/// A grant of some scopes on a subject to a grantee, until an optional end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    pub grantee: UserId,
    pub scopes: ScopeSet,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Grant {
    /// A grant ends at `expires_at`: from that instant on it grants nothing.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }
}

/// How a subject is managed, as a decision needs to know it: by anyone
/// at all (a managed user), and by the caller. The store computes both
/// without loading the whole set; [`Managers::of`] makes them from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Managers {
    /// The subject has managers: it is a managed user, not an account.
    pub any: bool,
    /// The caller is one of them.
    pub caller: bool,
}

impl Managers {
    /// From the whole set of a subject's managers.
    pub fn of(caller: UserId, managers: &[UserId]) -> Managers {
        Managers { any: !managers.is_empty(), caller: managers.contains(&caller) }
    }
}

/// How the caller stands to a subject, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The caller is the subject.
    Itself,
    /// The caller is one of the subject's managers.
    Manager,
    /// The subject (or one of its managers) shared it with the caller.
    Grantee(ScopeSet),
    /// None of the above.
    Stranger,
}

impl Relation {
    pub fn of(caller: UserId, subject: UserId, managers: Managers, grants: &[Grant], now: DateTime<Utc>) -> Relation {
        if caller == subject {
            return Relation::Itself;
        }
        if managers.caller {
            return Relation::Manager;
        }
        let granted: ScopeSet = grants
            .iter()
            .filter(|g| g.grantee == caller && g.is_live(now))
            .fold(ScopeSet::EMPTY, |acc, g| acc.union(g.scopes));
        if granted.is_empty() {
            Relation::Stranger
        } else {
            Relation::Grantee(granted)
        }
    }

    /// The scopes this relation holds.
    pub fn scopes(self) -> ScopeSet {
        match self {
            Relation::Itself | Relation::Manager => ScopeSet::ALL,
            Relation::Grantee(scopes) => scopes,
            Relation::Stranger => ScopeSet::EMPTY,
        }
    }
}

/// Which scopes `caller` holds on `subject` now: every scope on themselves
/// and on users they manage, the union of live grants otherwise.
pub fn held_scopes(caller: UserId, subject: UserId, managers: Managers, grants: &[Grant]) -> ScopeSet {
    Relation::of(caller, subject, managers, grants, Utc::now()).scopes()
}

/// Whether holding `held` allows an action that needs `needed`.
pub fn require(held: ScopeSet, needed: Scope) -> Result<(), AccessError> {
    if held.is_empty() {
        Err(AccessError::NoAccess)
    } else if !held.contains(needed) {
        Err(AccessError::MissingScope(needed))
    } else {
        Ok(())
    }
}

/// Part A's rule for `GET`/`PUT`/`DELETE /api/v1/users/{id}`, and C1's for
/// a user's managers and claim code: only a manager of a managed user.
/// Everyone else, the user itself included, is answered as if it did not
/// exist.
pub fn may_manage(managers: Managers) -> Result<(), AccessError> {
    if managers.caller {
        Ok(())
    } else {
        Err(AccessError::NoAccess)
    }
}

/// Who may grant, change or revoke shares on a subject: the subject itself
/// when it is an account, or any of its managers.
pub fn may_grant(caller: UserId, subject: UserId, managers: Managers) -> Result<(), AccessError> {
    match Relation::of(caller, subject, managers, &[], Utc::now()) {
        Relation::Itself if !managers.any => Ok(()),
        Relation::Manager => Ok(()),
        _ => Err(AccessError::NoAccess),
    }
}

/// What the caller may do with a live share: its granter (whoever may
/// grant on its subject) anything, its grantee only leave it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShareRole {
    Granter,
    Grantee,
}

/// How `caller` stands to a live share on `subject`; anyone else may not
/// know it exists.
pub fn share_role(
    caller: UserId,
    subject: UserId,
    managers: Managers,
    grantee: UserId,
) -> Result<ShareRole, AccessError> {
    if may_grant(caller, subject, managers).is_ok() {
        Ok(ShareRole::Granter)
    } else if grantee == caller {
        Ok(ShareRole::Grantee)
    } else {
        Err(AccessError::NoAccess)
    }
}

/// What the caller may do with a live invitation: its invitee accept or
/// decline it, any manager of its user withdraw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationRole {
    Invitee,
    Manager,
}

/// How `caller` stands to a live invitation for `invitee` on a user with
/// `managers`; anyone else (its sender too, once no longer a manager) may
/// not know it exists. A user that is no longer managed (claimed
/// meanwhile) has no invitations to act on.
pub fn invitation_role(caller: UserId, invitee: UserId, managers: Managers) -> Result<InvitationRole, AccessError> {
    if !managers.any {
        Err(AccessError::NoAccess)
    } else if caller == invitee {
        Ok(InvitationRole::Invitee)
    } else if managers.caller {
        Ok(InvitationRole::Manager)
    } else {
        Err(AccessError::NoAccess)
    }
}

/// C3's rule for a user's access log: the user itself and any of its
/// managers read it; a grantee, who can see the user, may not (403);
/// anyone else may not know the user exists.
pub fn may_read_log(relation: Relation) -> Result<(), AccessError> {
    match relation {
        Relation::Itself | Relation::Manager => Ok(()),
        Relation::Grantee(_) => Err(AccessError::NotTheirs),
        Relation::Stranger => Err(AccessError::NoAccess),
    }
}

/// Whether a manager may leave a user: not when it is the last one (the
/// user would be managed by no one; delete it, or let it take over).
pub fn may_leave(managers_left_after: usize) -> Result<(), LeaveError> {
    if managers_left_after == 0 {
        Err(LeaveError::LastManager)
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LeaveError {
    #[error("the last manager cannot leave")]
    LastManager,
}

/// The users a caller reaches, for the user list: itself first, then the
/// users it manages, then the subjects shared with it, each with the
/// scopes it holds there. A user reached twice appears once, where first
/// reached, with the union of the scopes.
pub fn reachable(
    caller: User,
    managed: impl IntoIterator<Item = User>,
    shared: impl IntoIterator<Item = (Share, User)>,
) -> Vec<(User, ScopeSet)> {
    let all = std::iter::once((caller, Relation::Itself.scopes()))
        .chain(managed.into_iter().map(|u| (u, Relation::Manager.scopes())))
        .chain(shared.into_iter().map(|(share, subject)| (subject, share.scopes)));
    let mut out: Vec<(User, ScopeSet)> = Vec::new();
    let mut position: std::collections::HashMap<UserId, usize> = std::collections::HashMap::new();
    for (user, scopes) in all {
        match position.get(&user.id) {
            Some(&i) => out[i].1 = out[i].1.union(scopes),
            None => {
                position.insert(user.id, out.len());
                out.push((user, scopes));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn set(scopes: &[Scope]) -> ScopeSet {
        scopes.iter().copied().collect()
    }

    #[test]
    fn the_access_log_is_the_users_and_its_managers() {
        let cases = [
            (Relation::Itself, Ok(())),
            (Relation::Manager, Ok(())),
            (Relation::Grantee(ScopeSet::ALL), Err(AccessError::NotTheirs)),
            (Relation::Stranger, Err(AccessError::NoAccess)),
        ];
        for (relation, want) in cases {
            assert_eq!(may_read_log(relation), want, "{relation:?}");
        }
    }

    #[test]
    fn access_rules_as_a_table() {
        let now = Utc::now();
        let me = UserId::new();
        let other_manager = UserId::new();
        let subject = UserId::new();
        let read = set(&[Scope::DataRead]);
        let write = set(&[Scope::DataWrite]);
        let grant = |scopes, expires_at| Grant { grantee: me, scopes, expires_at };
        let past = Some(now - Duration::seconds(1));
        let future = Some(now + Duration::hours(1));
        let account = Managers::default();
        let mine = Managers::of(me, &[me]);
        let ours = Managers::of(me, &[other_manager, me]);
        let theirs = Managers::of(me, &[other_manager]);

        use AccessError::*;
        type Want = (Result<(), AccessError>, Result<(), AccessError>);
        type Case<'a> = (&'a str, UserId, Managers, Vec<Grant>, Want);
        // (description, subject, its managers, grants, want for read, want for write)
        let cases: Vec<Case> = vec![
            ("self", me, account, vec![], (Ok(()), Ok(()))),
            ("manager", subject, mine, vec![], (Ok(()), Ok(()))),
            ("co-manager", subject, ours, vec![], (Ok(()), Ok(()))),
            ("managed by another", subject, theirs, vec![], (Err(NoAccess), Err(NoAccess))),
            ("stranger", subject, account, vec![], (Err(NoAccess), Err(NoAccess))),
            (
                "grantee with data:read",
                subject,
                account,
                vec![grant(read, None)],
                (Ok(()), Err(MissingScope(Scope::DataWrite))),
            ),
            (
                "grantee with data:write",
                subject,
                account,
                vec![grant(write, None)],
                (Err(MissingScope(Scope::DataRead)), Ok(())),
            ),
            ("grantee with both", subject, account, vec![grant(ScopeSet::ALL, future)], (Ok(()), Ok(()))),
            ("expired grant", subject, account, vec![grant(ScopeSet::ALL, past)], (Err(NoAccess), Err(NoAccess))),
            (
                "grant ending now",
                subject,
                account,
                vec![grant(ScopeSet::ALL, Some(now))],
                (Err(NoAccess), Err(NoAccess)),
            ),
            (
                "grant to someone else",
                subject,
                account,
                vec![Grant { grantee: other_manager, scopes: ScopeSet::ALL, expires_at: None }],
                (Err(NoAccess), Err(NoAccess)),
            ),
            (
                "grantee of a managed user",
                subject,
                theirs,
                vec![grant(read, None)],
                (Ok(()), Err(MissingScope(Scope::DataWrite))),
            ),
        ];
        for (why, subject, managers, grants, (want_read, want_write)) in cases {
            let held = Relation::of(me, subject, managers, &grants, now).scopes();
            assert_eq!(require(held, Scope::DataRead), want_read, "{why}: read");
            assert_eq!(require(held, Scope::DataWrite), want_write, "{why}: write");
        }
    }

    #[test]
    fn only_a_manager_manages() {
        let (me, other) = (UserId::new(), UserId::new());
        assert_eq!(may_manage(Managers::of(me, &[me])), Ok(()));
        assert_eq!(may_manage(Managers::of(me, &[other, me])), Ok(()), "one of several");
        assert_eq!(may_manage(Managers::of(me, &[other])), Err(AccessError::NoAccess));
        assert_eq!(may_manage(Managers::of(me, &[])), Err(AccessError::NoAccess), "an account is managed by no one");
    }

    #[test]
    fn an_invitation_is_for_its_invitee_and_the_users_managers() {
        let (me, other, invitee) = (UserId::new(), UserId::new(), UserId::new());
        let mine = Managers::of(me, &[me]);
        let theirs = Managers::of(me, &[other]);
        assert_eq!(invitation_role(me, me, theirs), Ok(InvitationRole::Invitee), "addressed to me");
        assert_eq!(invitation_role(me, invitee, mine), Ok(InvitationRole::Manager), "on a user I manage");
        assert_eq!(invitation_role(me, invitee, Managers::of(me, &[other, me])), Ok(InvitationRole::Manager));
        assert_eq!(invitation_role(me, invitee, theirs), Err(AccessError::NoAccess), "someone else's");
        assert_eq!(invitation_role(me, me, Managers::default()), Err(AccessError::NoAccess), "the user was claimed");
    }

    #[test]
    fn the_last_manager_stays() {
        assert_eq!(may_leave(1), Ok(()));
        assert_eq!(may_leave(0), Err(LeaveError::LastManager));
    }

    #[test]
    fn the_reachable_users_merge_scopes_and_keep_the_first_place() {
        let user = |name: &str| User {
            id: UserId::new(),
            email: None,
            first_name: Some(name.into()),
            last_name: None,
            admin: false,
            managed: false,
            registered_at: Utc::now(),
        };
        let (me, kid, friend) = (user("me"), user("kid"), user("friend"));
        let share = |subject: &User, scopes: &[Scope]| Share {
            id: crate::ShareId::new(),
            subject: subject.id,
            grantee: me.id,
            scopes: set(scopes),
            created_at: Utc::now(),
            expires_at: None,
        };
        let got = reachable(
            me.clone(),
            [kid.clone()],
            [
                (share(&friend, &[Scope::DataWrite]), friend.clone()),
                (share(&kid, &[Scope::DataRead]), kid.clone()),
                (share(&friend, &[Scope::DataRead]), friend.clone()),
            ],
        );
        let got: Vec<_> = got.into_iter().map(|(u, s)| (u.id, s)).collect();
        assert_eq!(got, [(me.id, ScopeSet::ALL), (kid.id, ScopeSet::ALL), (friend.id, ScopeSet::ALL)]);
    }

    #[test]
    fn a_share_is_changed_by_its_granter_and_left_by_its_grantee() {
        let (me, child, other) = (UserId::new(), UserId::new(), UserId::new());
        let account = Managers::default();
        assert_eq!(share_role(me, me, account, other), Ok(ShareRole::Granter), "my own share");
        assert_eq!(share_role(me, child, Managers::of(me, &[other, me]), other), Ok(ShareRole::Granter), "my child's");
        assert_eq!(share_role(me, other, account, me), Ok(ShareRole::Grantee), "granted to me");
        assert_eq!(share_role(me, other, account, child), Err(AccessError::NoAccess), "someone else's");
    }

    #[test]
    fn accounts_and_managers_grant_others_do_not() {
        let me = UserId::new();
        let child = UserId::new();
        let other = UserId::new();
        assert_eq!(may_grant(me, me, Managers::default()), Ok(()), "an account shares itself");
        assert_eq!(may_grant(me, child, Managers::of(me, &[me])), Ok(()), "a manager shares a managed user");
        assert_eq!(may_grant(me, child, Managers::of(me, &[other, me])), Ok(()), "so does a co-manager");
        assert_eq!(may_grant(me, child, Managers::of(me, &[other])), Err(AccessError::NoAccess));
        assert_eq!(may_grant(me, child, Managers::default()), Err(AccessError::NoAccess));
    }
}
