//! Jobs that run without the HTTP server, on the domain and persistence
//! crates directly: what the platform's batch jobs do with Steward's data.

use chrono::{DateTime, Utc};
use domain::throttle::Policy;
use domain::{Activity, Share, TracePoint, User, UserId};
use persistence::{activities, sessions, shares, throttle, users, Pool, StoreError};
use serde_json::{json, Value};

/// The prefix of the second-factor throttle's keys (`throttle::code_key`).
const CODE_PREFIX: &str = "code:";

/// What `purge-expired` removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Purged {
    pub shares: usize,
    pub sessions: usize,
    pub throttles: usize,
    pub invitations: usize,
    pub claim_codes: usize,
    pub enrollments: usize,
    pub access_log: usize,
    pub events: usize,
}

/// How long kept records live, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Access-log entries (`ACCESS_LOG_RETENTION_DAYS`).
    pub access_log: chrono::Duration,
    /// Events (`EVENTS_RETENTION_DAYS`).
    pub events: chrono::Duration,
    /// Drop only the events the relay has published (`EVENTS_NATS_URL` is
    /// set).
    pub events_published_only: bool,
}

impl Retention {
    pub fn of(config: &crate::Config) -> Retention {
        Retention {
            access_log: config.access_log_retention,
            events: config.events_retention,
            events_published_only: config.events_nats_url.is_some(),
        }
    }
}

/// Drops expired shares, sign-ins that can no longer authenticate (revoked
/// or past their limit), sign-in failure counts whose window is over,
/// expired invitations and claim codes, and second-factor enrollments that
/// expired unconfirmed (none of them grants or refuses anything any more:
/// this reclaims space),
/// access-log entries older than their retention, and events older than
/// theirs (with a relay, only those it has published).
pub fn purge_expired(pool: &Pool, now: DateTime<Utc>, keep: Retention) -> Result<Purged, StoreError> {
    pool.get()?.run(|c| {
        persistence::transaction(c, |c| {
            Ok(Purged {
                shares: shares::purge_expired(c, now)?,
                sessions: sessions::purge(c, now)?,
                // Second-factor counts live a day; every other key 15 minutes.
                throttles: throttle::purge(c, Policy::ACCOUNT.window_cutoff(now), &[CODE_PREFIX])?
                    + throttle::purge_prefixed(c, CODE_PREFIX, Policy::CODE.window_cutoff(now))?,
                invitations: persistence::invitations::purge_expired(c, now)?,
                claim_codes: persistence::claims::purge_expired(c, now)?,
                enrollments: persistence::mfa::purge_expired_enrollments(c, now)?,
                access_log: persistence::access_log::purge_before(c, now - keep.access_log)?,
                events: persistence::events::purge(c, now - keep.events, keep.events_published_only)?,
            })
        })
    })
}

fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "display_name": user.display_name(),
        "admin": user.admin,
        "is_managed": user.is_managed(),
        "registered_at": user.registered_at,
    })
}

fn share_json(share: &Share) -> Value {
    json!({
        "id": share.id,
        "subject_id": share.subject,
        "grantee_id": share.grantee,
        "scopes": share.scopes,
        "created_at": share.created_at,
        "expires_at": share.expires_at,
    })
}

/// Who manages whom since when: (user, manager, since).
type Management = (UserId, UserId, DateTime<Utc>);

/// Everything an export loads, for all of its users at once.
struct Loaded {
    shares: Vec<Share>,
    activities: Vec<(Activity, Vec<TracePoint>)>,
    managements: Vec<Management>,
    invitations: Vec<domain::Invitation>,
    claim_codes: Vec<persistence::claims::Issued>,
    access_log: Vec<domain::access_log::AccessEntry>,
}

/// One user's part of an export, from data loaded for all at once.
fn data_json(user: &User, sign_ins: &[sessions::SessionInfo], loaded: &Loaded) -> Value {
    let (all_shares, all_activities) = (&loaded.shares, &loaded.activities);
    let managements = |pick: fn(&Management) -> (UserId, UserId)| {
        loaded
            .managements
            .iter()
            .filter(|m| pick(m).0 == user.id)
            .map(|m| json!({"id": pick(m).1, "since": m.2}))
            .collect::<Vec<_>>()
    };
    json!({
        "user": user_json(user),
        "managers": managements(|m| (m.0, m.1)),
        "manages": managements(|m| (m.1, m.0)),
        "invitations": loaded.invitations.iter()
            .filter(|i| [i.user, i.invitee, i.invited_by].contains(&user.id))
            .map(|i| json!({
                "id": i.id, "user_id": i.user, "invitee_id": i.invitee, "invited_by_id": i.invited_by,
                "created_at": i.created_at, "expires_at": i.expires_at,
            }))
            .collect::<Vec<_>>(),
        // A claim code's hash is never exported (nor stored as the code).
        "claim_codes": loaded.claim_codes.iter()
            .filter(|c| c.user == user.id || c.issued_by == user.id)
            .map(|c| json!({
                "user_id": c.user, "issued_by_id": c.issued_by, "keep_scopes": c.keep_scopes,
                "created_at": c.created_at, "expires_at": c.expires_at,
            }))
            .collect::<Vec<_>>(),
        // Who else read or changed this user's data (C3), oldest first.
        "access_log": loaded.access_log.iter().filter(|e| e.user == user.id).map(|e| json!({
            "id": e.id, "at": e.at, "actor_id": e.actor, "actor_display_name": e.actor_display_name,
            "action": e.action.as_str(), "scope": e.scope, "via": e.via.as_str(),
        })).collect::<Vec<_>>(),
        "sign_ins": sign_ins.iter().map(|s| json!({
            "id": s.id, "created_at": s.created_at, "expires_at": s.expires_at, "revoked_at": s.revoked_at,
            "last_used_at": s.seen.last_used_at, "ip": s.seen.ip, "last_ip": s.seen.last_ip,
            "user_agent": s.seen.user_agent, "second_factor": s.seen.second_factor.map(|f| f.as_str()),
        })).collect::<Vec<_>>(),
        "shares": all_shares.iter().filter(|s| s.subject == user.id || s.grantee == user.id).map(share_json).collect::<Vec<_>>(),
        "activities": all_activities.iter().filter(|(a, _)| a.user_id == user.id).map(|(a, trace)| json!({
            "id": a.id,
            "name": a.name,
            "sport": a.sport,
            "started_at": a.started_at,
            "duration_seconds": a.duration_seconds,
            "distance_meters": a.distance_meters,
            "created_at": a.created_at,
            "trace": trace.iter().map(|p| json!({
                "time": p.time, "lat": p.lat, "lon": p.lon, "elevation": p.elevation, "heart_rate": p.heart_rate,
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Every row that belongs to a user, as one JSON document: what a person
/// gets when asking for their data. An account's document holds the users
/// it manages, each with their own data. Password hashes are not data the
/// person gave in a usable form and are left out; tokens are never stored.
/// `Ok(None)` when there is no such user. Read in one transaction, so the
/// document is a consistent snapshot.
pub fn export(pool: &Pool, id: UserId) -> Result<Option<Value>, StoreError> {
    pool.get()?.run(|c| {
        persistence::transaction(c, |c| {
            let Some(user) = users::find(c, id)? else { return Ok(None) };
            // A fixed number of statements, however many users it manages.
            let managed = users::list_managed(c, id)?;
            let everyone: Vec<UserId> = std::iter::once(id).chain(managed.iter().map(|m| m.id)).collect();
            let loaded = Loaded {
                shares: shares::naming(c, &everyone)?,
                activities: activities::all_with_traces(c, &everyone)?,
                managements: persistence::managers::naming(c, &everyone)?,
                invitations: persistence::invitations::naming(c, &everyone)?,
                claim_codes: persistence::claims::naming(c, &everyone)?,
                access_log: persistence::access_log::of_users(c, &everyone)?,
            };
            let mut doc = data_json(&user, &sessions::of_user(c, id)?, &loaded);
            // The second factor's state, never its secret (sealed or not)
            // nor its recovery codes' hashes.
            let enabled_at = persistence::mfa::find(c, id)?.and_then(|f| f.enabled_at);
            let left = persistence::mfa::recovery_codes_left(c, id)?;
            doc["second_factor"] =
                json!({"totp": enabled_at.is_some(), "enabled_at": enabled_at, "recovery_codes_left": left});
            doc["managed_users"] = managed.iter().map(|m| data_json(m, &[], &loaded)).collect::<Vec<_>>().into();
            doc["exported_at"] = json!(persistence::now());
            Ok(Some(doc))
        })
    })
}
