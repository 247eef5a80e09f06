//! Deciding access and acting, in one place and one blocking hop.
//!
//! Every endpoint with a caller goes through [`Db::act_as`] (reads),
//! [`Db::write_as`] (writes) or [`Db::write_one_as`] (a write that is one
//! statement). On one pooled connection, in one trip to the blocking pool,
//! they
//! 1. authenticate: the token's sign-in is live and its user an account
//!    (401 otherwise);
//! 2. answer the request's input fault, if any (422): after 401, as the
//!    contract orders;
//! 3. decide access to what the request acts [`On`], with the rules of
//!    `domain::access` (404 as if it did not exist, 403 for a missing
//!    scope);
//! 4. act: the handler's closure, handed the decided [`Access`]; its
//!    conflicts are the last answers (409).
//!
//! 5. record: when the caller is not the user acted on, an entry in that
//!    user's access log (C3), with the [`Action`] that the request's
//!    [`On`] names and how the caller reached the user.
//!
//! A write does all five in one transaction (on PostgreSQL a
//! [`Db::write_one_as`] change is that transaction, after the reads that
//! decided it): what it decided on holds for what it writes, and its
//! access-log entry commits with it or not at all.
//! A read records its entry after reading and before answering, batched
//! with other reads' entries in a transaction of their own (committed
//! without waiting for the disk on PostgreSQL, see `read_log`);
//! an entry that cannot be written fails the request (503),
//! and a refused request (any 4xx) leaves none. Because the action is
//! part of [`On`], an endpoint that acts on someone's data cannot forget
//! its entry: the only requests without one are the caller's own and the
//! listings the contract leaves off the log ([`On::listing`]). On SQLite,
//! writers take turns in the process (see [`Db::write`]).

use std::cell::RefCell;
use std::time::Instant;

use actix_web::web;
use chrono::{DateTime, Utc};
use domain::access::{self, InvitationRole, Relation, ShareRole};
use domain::access_log::{self as log, Action, Via};
use domain::{Invitation, InvitationId, Scope, SessionId, Share, ShareId, User, UserId};
use persistence::access_log::NewEntry;
use persistence::events::NewEvent;
use persistence::trail::Trail;
use persistence::{sessions, AnyConnection};

use crate::error::Resource;
use crate::{ApiError, Caller, Db};

/// What a caller must hold on a user to act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// This scope on the user's data (activities, traces).
    Scope(Scope),
    /// To be one of its managers (Part A's get, update and delete; its
    /// managers and claim code).
    Manage,
    /// To be allowed to grant shares on it: the account itself, or any of
    /// its managers.
    Grant,
    /// To read its access log: the user itself or any of its managers (a
    /// grantee: 403).
    Log,
}

impl Need {
    /// What a request with `action` on a user needs there: Part A's rule
    /// (a manager) for the user itself and C1/C2 on it, a grant for a new
    /// share, the action's scope for activities and traces.
    fn of(action: Action) -> Need {
        use Action::*;
        match action {
            UserRead | UserUpdate | UserDelete | ManagerInvite | ManagerLeave | ClaimCodeIssue | ClaimCodeVoid => {
                Need::Manage
            }
            ShareCreate => Need::Grant,
            ActivityList | ActivityRead | TraceRead => Need::Scope(Scope::DataRead),
            ActivityCreate | ActivityDelete | TraceWrite => Need::Scope(Scope::DataWrite),
            // Not about a user named by a path: a share, an invitation,
            // a claim (no caller).
            ShareUpdate | ShareDelete | ManagerJoin | UserClaim => Need::Manage,
        }
    }
}

/// What a request acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    /// The caller's own account, and the lists it sees.
    Caller,
    /// A user, what the caller needs there, and the action its access log
    /// records (`None`: a listing, which the log leaves out). A user
    /// named by an id that is not a UUID (`None`) is answered as a user
    /// that does not exist.
    User(Option<UserId>, Need, Option<Action>),
    /// A live share, and the action on it (`None`: a malformed id).
    Share(Option<ShareId>, Action),
    /// A live invitation to co-manage (`None`: a malformed id), and the
    /// action on it (`None`: declining or withdrawing, which C4 and C3
    /// leave unrecorded).
    Invitation(Option<InvitationId>, Option<Action>),
}

impl On {
    /// `action` on the user of a path's `{user_id}`; it needs what the
    /// action needs (`Need::of`).
    pub fn user(raw: &str, action: Action) -> On {
        On::User(raw.parse().ok(), Need::of(action), Some(action))
    }

    /// A listing about the user of a path's `{user_id}` (its managers,
    /// its access log), which leaves no access-log entry.
    pub fn listing(raw: &str, need: Need) -> On {
        On::User(raw.parse().ok(), need, None)
    }

    /// `action` on the share of a path's `{share_id}`.
    pub fn share(raw: &str, action: Action) -> On {
        On::Share(raw.parse().ok(), action)
    }

    /// The invitation of a path's `{invitation_id}`.
    pub fn invitation(raw: &str, action: Option<Action>) -> On {
        On::Invitation(raw.parse().ok(), action)
    }

    /// The user whose standing a request by `caller` must read, if any:
    /// none for oneself (every scope, no lookup), but Part A's rule
    /// refuses a caller managing itself, so that one is read too.
    fn lookup(self, caller: UserId) -> Option<UserId> {
        match self {
            On::User(Some(id), need, _) if id != caller || need == Need::Manage => Some(id),
            _ => None,
        }
    }

    /// What the access log records of a request on this.
    fn action(self) -> Option<Action> {
        match self {
            On::Caller => None,
            On::User(_, _, action) | On::Invitation(_, action) => action,
            On::Share(_, action) => Some(action),
        }
    }

    /// The 404 of what this names, when it is missing.
    fn not_found(self) -> ApiError {
        match self {
            // The caller's own account went while the request ran.
            On::Caller => ApiError::invalid_token(),
            On::User(..) => ApiError::NotFound(Resource::User),
            On::Share(..) => ApiError::NotFound(Resource::Share),
            On::Invitation(..) => ApiError::NotFound(Resource::Invitation),
        }
    }
}

/// How a hop runs: see [`Db::act_as`], [`Db::write_as`] and
/// [`Db::write_one_as`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Read,
    Write,
    WriteOne,
}

/// What was decided, for the handler's closure to act on.
#[derive(Debug)]
pub struct Access {
    /// The signed-in account.
    pub caller: User,
    /// Its sign-in.
    pub session: SessionId,
    /// The user acted on: the caller for [`On::Caller`], a share's subject.
    pub subject: User,
    /// How the caller stands to the subject.
    pub relation: Relation,
    /// For [`On::Share`]: the share, and what the caller may do with it.
    pub share: Option<(Share, ShareRole)>,
    /// For [`On::Invitation`]: the invitation, and how the caller stands
    /// to it; its user is the subject.
    pub invitation: Option<(Invitation, InvitationRole)>,
    /// The request's time: what expiry is judged at.
    pub now: DateTime<Utc>,
    /// A write's access-log entry, until it is written: by the change's
    /// [`Access::trail`] (in the change's own statement, see
    /// `persistence::trail`), or else by the helper after the closure.
    entry: RefCell<Option<NewEntry>>,
}

impl Access {
    /// The trail of this request's change: `events`, at the request's time,
    /// and the access-log entry, which goes with the first trail taken.
    /// For a store function that writes it in the change's statement, or
    /// for [`crate::events::emit`].
    pub fn trail(&self, events: impl IntoIterator<Item = NewEvent>) -> Trail {
        Trail { events: events.into_iter().collect(), at: self.now, entry: self.entry.take() }
    }
}

impl Access {
    /// The 404 or 403 of a refusal about the subject.
    /// `fetched`: the user of an [`On::User`], read with the sign-in
    /// ([`On::lookup`]); read here when absent.
    fn of(
        conn: &mut AnyConnection,
        caller: User,
        session: SessionId,
        on: On,
        now: DateTime<Utc>,
        fetched: Option<Option<persistence::access::Standing>>,
    ) -> Result<Access, ApiError> {
        let me = caller.id;
        let access = |subject, relation, share| Access {
            caller: caller.clone(),
            session,
            subject,
            relation,
            share,
            invitation: None,
            now,
            entry: RefCell::new(None),
        };
        match on {
            On::Caller => Ok(access(caller.clone(), Relation::Itself, None)),
            On::User(None, ..) | On::Share(None, _) => Err(on.not_found()),
            // Oneself: every scope, an account shares itself and reads
            // its own log; but no account is managed, so Part A's rule
            // refuses it.
            On::User(Some(id), need, _) if id == me && need != Need::Manage => {
                Ok(access(caller.clone(), Relation::Itself, None))
            }
            On::User(Some(id), need, _) => {
                // Only a scope, or a grantee's 403 at the log, come from
                // a share: the other needs are decided on the user and its
                // managers alone (the grant read with them goes unused).
                let standing = match fetched {
                    Some(fetched) => fetched,
                    None => persistence::access::standing(conn, me, id, now)?,
                }
                .ok_or(on.not_found())?;
                let managers = standing.managers;
                let relation = Relation::of(me, id, managers, standing.grant.as_slice(), now);
                match need {
                    Need::Scope(scope) => access::require(relation.scopes(), scope),
                    Need::Manage => access::may_manage(managers),
                    Need::Grant => access::may_grant(me, id, managers),
                    Need::Log => access::may_read_log(relation),
                }
                .map_err(|e| ApiError::refused(e, Resource::User))?;
                Ok(access(standing.subject, relation, None))
            }
            On::Share(Some(id), _) => {
                let (share, subject, managers) =
                    persistence::access::share(conn, me, id, now)?.ok_or(on.not_found())?;
                let role = access::share_role(me, subject.id, managers, share.grantee)
                    .map_err(|e| ApiError::refused(e, Resource::Share))?;
                let relation = Relation::of(me, subject.id, managers, &[share.grant()], now);
                Ok(access(subject, relation, Some((share, role))))
            }
            On::Invitation(None, _) => Err(on.not_found()),
            On::Invitation(Some(id), _) => {
                let (invitation, subject, managers) =
                    persistence::invitations::find_live(conn, me, id, now)?.ok_or(on.not_found())?;
                let role = access::invitation_role(me, invitation.invitee, managers)
                    .map_err(|e| ApiError::refused(e, Resource::Invitation))?;
                let relation = Relation::of(me, subject.id, managers, &[], now);
                Ok(Access { invitation: Some((invitation, role)), ..access(subject, relation, None) })
            }
        }
    }
}

/// The access-log entry of a request that did `action` to the subject's
/// data, if it leaves one: none for the caller's own requests, and none
/// for `user.delete` (deleting a user deletes its log in that very
/// transaction, so there is nothing to record it in).
fn entry_of(on: On, access: &Access) -> Option<NewEntry> {
    let action = on.action().filter(|a| *a != Action::UserDelete)?;
    let via: Via = log::via(action, access.relation)?;
    Some(NewEntry::new(access.subject.id, &access.caller, action, via, access.now))
}

/// Fail closed: a request whose entry cannot be written is not served
/// (503, and a write rolls back). The subject deleted meanwhile is the
/// acted-on resource's 404.
pub(crate) fn unrecorded(e: persistence::StoreError) -> ApiError {
    use persistence::StoreError;
    match e {
        StoreError::NotFound => ApiError::Vanished,
        e @ (StoreError::Unavailable(_) | StoreError::ConnectionLost(_)) => e.into(),
        other => ApiError::Unavailable { why: format!("the access log cannot be written: {other}"), lost: false },
    }
}

impl Db {
    /// Authenticates `caller`, answers `input`'s fault, decides access to
    /// `on`, and runs `act` with what was decided: in one blocking hop, on
    /// one pooled connection (see the module's doc). For reads.
    pub async fn act_as<I, T, F>(
        &self,
        caller: &Caller,
        input: Result<I, ApiError>,
        on: On,
        act: F,
    ) -> Result<T, ApiError>
    where
        I: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, &Access, I) -> Result<T, ApiError> + Send + 'static,
    {
        self.hop(caller, input, on, Mode::Read, act).await
    }

    /// [`Db::act_as`] for a request that writes: all of it in one
    /// transaction, on SQLite in turn with the process's other writers.
    pub async fn write_as<I, T, F>(
        &self,
        caller: &Caller,
        input: Result<I, ApiError>,
        on: On,
        act: F,
    ) -> Result<T, ApiError>
    where
        I: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, &Access, I) -> Result<T, ApiError> + Send + 'static,
    {
        self.hop(caller, input, on, Mode::Write, act).await
    }

    /// [`Db::write_as`] for a change that is one statement on PostgreSQL,
    /// its trail included ([`Access::trail`] handed to a store function
    /// that writes it in the change's statement, as
    /// `persistence::users::create_managed` does): that statement is its
    /// own transaction, and the hop makes no `BEGIN` and `COMMIT` round
    /// trips around it. The reads before it (the sign-in, the decision)
    /// take no locks, so at READ COMMITTED a transaction around them would
    /// hold nothing more for the change than this does (the sign-in's
    /// `last_used_at` touch, when due, commits on its own here: a sign-in
    /// used by a request whose change failed was used all the same). The
    /// request's access-log entry goes with the first [`Access::trail`]
    /// taken, so it commits in the change's statement; a store function
    /// that must fall back to several statements (a change that found its
    /// row changed since the decision read it) runs them in a transaction
    /// of its own. SQLite's hop is one transaction, in turn, as for every
    /// write. Debug builds check that the closure ran at most one statement
    /// outside a transaction and that its trail took the entry.
    pub async fn write_one_as<I, T, F>(
        &self,
        caller: &Caller,
        input: Result<I, ApiError>,
        on: On,
        act: F,
    ) -> Result<T, ApiError>
    where
        I: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, &Access, I) -> Result<T, ApiError> + Send + 'static,
    {
        self.hop(caller, input, on, Mode::WriteOne, act).await
    }

    async fn hop<I, T, F>(
        &self,
        caller: &Caller,
        input: Result<I, ApiError>,
        on: On,
        mode: Mode,
        act: F,
    ) -> Result<T, ApiError>
    where
        I: Send + 'static,
        T: Send + 'static,
        F: FnOnce(&mut AnyConnection, &Access, I) -> Result<T, ApiError> + Send + 'static,
    {
        let (user, session, now) = (caller.id(), caller.session(), persistence::now());
        let touch = caller.touch();
        let write = mode != Mode::Read;
        let writer = if write { self.writer.clone() } else { None };
        // PostgreSQL's single-statement write: no transaction around the hop.
        let single = mode == Mode::WriteOne && writer.is_none();
        type Done<T> = (T, crate::auth::SessionEnds, Option<NewEntry>);
        let work = move |c: &mut AnyConnection| -> Result<Done<T>, ApiError> {
            // The sign-in, and the user acted on when there is one to
            // look up, in one statement.
            let (live, fetched) = match on.lookup(user) {
                Some(subject) => {
                    let (live, standing) =
                        persistence::access::authenticate_with_standing(c, session, user, subject, now)?
                            .ok_or(ApiError::invalid_token())?;
                    (live, Some(standing))
                }
                None => (sessions::authenticate(c, session, user, now)?.ok_or(ApiError::invalid_token())?, None),
            };
            touch.apply(c, session, live.last_used_at, now)?;
            let ends = (live.expires_at, live.second_factor);
            let input = input?;
            let access = Access::of(c, live.user, session, on, now, fetched)?;
            // A write's entry is taken by its change's trail, if it has
            // one, and so written in the change's statement.
            if write {
                access.entry.replace(entry_of(on, &access));
            }
            // A row gone meanwhile (the subject, deleted by someone else)
            // is the acted-on resource's 404, for the entry too.
            let vanished = |e| match e {
                ApiError::Vanished => on.not_found(),
                other => other,
            };
            if !write {
                let done = act(c, &access, input).map_err(vanished)?;
                return Ok((done, ends, entry_of(on, &access)));
            }
            // A write's entry commits with the write: here, unless its
            // trail took it.
            let act_and_record = |c: &mut AnyConnection| {
                let done = act(c, &access, input).map_err(vanished)?;
                if let Some(entry) = access.entry.take() {
                    // A single-statement write's trail takes its entry
                    // (`write_one_as`'s contract), so that the two commit
                    // together. Tests run debug builds; in service the
                    // entry is written all the same, after its change.
                    debug_assert!(!single, "a single-statement write left its access-log entry to the hop");
                    if single {
                        tracing::error!(action = ?on.action(), "a single-statement write left its access-log entry");
                    }
                    persistence::access_log::record(c, &entry).map_err(unrecorded).map_err(vanished)?;
                }
                Ok::<_, ApiError>(done)
            };
            let done = if !single {
                act_and_record(c)?
            } else {
                let before = persistence::lone_statements_on_this_thread();
                let done = act_and_record(c)?;
                let ran = persistence::lone_statements_on_this_thread() - before;
                debug_assert!(ran <= 1, "a single-statement write ran {ran} statements outside a transaction");
                done
            };
            Ok((done, ends, None))
        };
        let (done, (session_ends, factor), read_entry) = self
            .on_connection(move |c| match (mode, writer) {
                (Mode::Read, _) => work(c),
                (_, Some(writer)) => {
                    let _turn = writer.lock().unwrap_or_else(|e| e.into_inner());
                    persistence::transaction_with(c, work)
                }
                (Mode::Write, None) => persistence::transaction_with(c, work),
                (Mode::WriteOne, None) => work(c),
            })
            .await?;
        if write {
            self.written.notify_one();
        }
        // A read's entry is stored before the answer, with other reads'
        // (see `read_log`), the connection already back in the pool.
        if let Some(entry) = read_entry {
            self.read_log.record(entry).await.map_err(unrecorded).map_err(|e| match e {
                ApiError::Vanished => on.not_found(),
                other => other,
            })?;
        }
        caller.confirmed(session_ends, factor, now)?;
        Ok(done)
    }

    /// Runs `f` on a pooled connection on the blocking pool: Diesel is
    /// synchronous, and a query on an async worker would stall every
    /// request on it. The connection is taken inside the closure, and the
    /// pool's timeout counts from the call: a task that queued for a
    /// blocking thread (there are about as many as connections, see
    /// `server::blocking_threads`) waits only what is left of it.
    pub(crate) async fn on_connection<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let deadline = Instant::now() + self.pool.timeout();
        let (pool, wait, timeouts) = (self.pool.clone(), self.wait.clone(), self.timeouts.clone());
        let span = tracing::Span::current();
        let asked = Instant::now();
        web::block(move || {
            span.in_scope(|| {
                let mut conn = pool.get_by(deadline).inspect_err(|_| timeouts.inc())?;
                wait.observe(asked.elapsed().as_secs_f64());
                conn.run(f)
            })
        })
        .await
        .map_err(ApiError::internal)?
    }
}
