//! Every lookup is indexed: on a PostgreSQL database with tens of
//! thousands of rows per table (and fresh statistics), each store function
//! runs without a single sequential scan of a large table. The check reads
//! PostgreSQL's own per-table scan counters around each call, so it sees
//! the statements the code really runs, cascades included.

use chrono::Duration;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use domain::{ActivityId, ActivityName, PersonName, ScopeSet, Sport, TracePoint};
use persistence::activities::{self, NewActivity};
use persistence::testing::TestDb;
use persistence::users::NameChanges;
use persistence::{claims, invitations, mfa, now, sessions, shares, users, AnyConnection, StoreError};

const LARGE: [&str; 12] = [
    "users",
    "sessions",
    "shares",
    "activities",
    "activity_traces",
    "user_managers",
    "invitations",
    "claim_codes",
    "access_log",
    "totp_factors",
    "recovery_codes",
    "events",
];

#[derive(QueryableByName)]
struct Scans {
    #[diesel(sql_type = diesel::sql_types::Text)]
    relname: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    seq_scan: i64,
}

fn seq_scans(conn: &mut AnyConnection) -> Vec<(String, i64)> {
    conn.batch_execute("SELECT pg_stat_clear_snapshot()").unwrap();
    let mut rows: Vec<Scans> = diesel::sql_query(
        "SELECT relname::text AS relname, COALESCE(seq_scan, 0) AS seq_scan FROM pg_stat_user_tables ORDER BY relname",
    )
    .load(conn)
    .unwrap();
    rows.retain(|r| LARGE.contains(&r.relname.as_str()));
    rows.into_iter().map(|r| (r.relname, r.seq_scan)).collect()
}

/// Runs `f` on `conn` and returns the large tables it scanned sequentially.
fn scanned_by<T>(
    conn: &mut AnyConnection,
    observer: &mut AnyConnection,
    f: impl FnOnce(&mut AnyConnection) -> Result<T, StoreError>,
) -> Vec<String> {
    let before = seq_scans(observer);
    f(conn).expect("the store call succeeds");
    // Statistics reach shared memory when a backend goes idle; make this
    // one report now, then let it go idle once more.
    conn.batch_execute("SELECT pg_stat_force_next_flush()").unwrap();
    conn.batch_execute("SELECT 1").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let after = seq_scans(observer);
    before.iter().zip(after.iter()).filter(|(b, a)| a.1 > b.1).map(|(b, _)| b.0.clone()).collect()
}

const SEED: &str = "
INSERT INTO users (id, email, email_normalized, password_hash, registered_at)
  SELECT gen_random_uuid(), 'user' || i || '@example.org', 'user' || i || '@example.org', 'x',
         now() - (i || ' minutes')::interval
  FROM generate_series(1, 20000) AS i;
CREATE TEMP TABLE kid_of AS
  SELECT gen_random_uuid() AS kid, id AS manager, row_number() OVER (ORDER BY id) AS n, registered_at
  FROM users WHERE email IS NOT NULL;
INSERT INTO users (id, first_name, registered_at) SELECT kid, 'Kid', registered_at FROM kid_of;
INSERT INTO user_managers (user_id, manager_id, since) SELECT kid, manager, registered_at FROM kid_of;
INSERT INTO invitations (id, user_id, invitee_id, invited_by, created_at, expires_at)
  SELECT gen_random_uuid(), a.kid, b.manager, a.manager, now(), now() + interval '7 days'
  FROM kid_of a JOIN kid_of b ON b.n = a.n + 1;
INSERT INTO claim_codes (user_id, code_hash, keep_scopes, issued_by, created_at, expires_at)
  SELECT kid, decode(md5(kid::text), 'hex'), '', manager, now(), now() + interval '7 days' FROM kid_of;
INSERT INTO sessions (id, user_id, created_at, expires_at)
  SELECT gen_random_uuid(), id, now(), now() + interval '30 days' FROM users WHERE email IS NOT NULL;
INSERT INTO activities (id, user_id, name, sport, started_at, created_at)
  SELECT gen_random_uuid(), u.id, 'run', 'running', now() - (g || ' hours')::interval, now()
  FROM users u CROSS JOIN generate_series(1, 2) AS g;
INSERT INTO activity_traces (activity_id, user_id, point_count, points)
  SELECT id, user_id, 0, '\\x01'::bytea FROM activities;
WITH numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM users WHERE email IS NOT NULL)
INSERT INTO shares (id, subject_id, grantee_id, scopes, created_at)
  SELECT gen_random_uuid(), a.id, b.id, 'data:read', now() FROM numbered a JOIN numbered b ON b.n = a.n + 1;
INSERT INTO access_log (id, user_id, at, actor_id, actor_display_name, action, scope, via)
  SELECT steward_access_entry_id(now() - (g || ' minutes')::interval), kid, now() - (g || ' minutes')::interval,
         manager, 'user', 'user.read', 'data:read', 'manager'
  FROM kid_of CROSS JOIN generate_series(1, 3) AS g;
INSERT INTO totp_factors (user_id, secret_sealed, enabled_at, last_step)
  SELECT id, '\\x00'::bytea, now(), 1 FROM users WHERE email IS NOT NULL;
INSERT INTO recovery_codes (user_id, code_hash)
  SELECT user_id, decode(md5(user_id::text || g), 'hex') FROM totp_factors CROSS JOIN generate_series(1, 3) AS g;
INSERT INTO events (position, id, type, at, user_id, data)
  SELECT i, gen_random_uuid(), 'user.updated', now() - ((20001 - i) || ' seconds')::interval, gen_random_uuid(), '{}'
  FROM generate_series(1, 20000) AS i;
ANALYZE;
";

#[test]
fn no_store_function_scans_a_large_table_sequentially() {
    let mut db = TestDb::postgres();
    let pool = db.pool().clone();
    let (mut conn, mut observer) = (pool.get().unwrap(), pool.get().unwrap());
    conn.run(|conn| {
        observer.run(|observer| {
            check_every_store_function(conn, observer);
            Ok::<_, StoreError>(())
        })
    })
    .unwrap();
}

/// Seeds the database through `conn`, then runs each store function on it,
/// reading the scan counters through `observer`.
fn check_every_store_function(conn: &mut AnyConnection, observer: &mut AnyConnection) {
    conn.batch_execute(SEED).expect("seed");

    let ada = users::create_account(
        conn,
        &users::NewAccount {
            email: &domain::Email::parse("ada@example.org").unwrap(),
            password_hash: "x",
            first_name: None,
            last_name: None,
            admin: false,
        },
        now(),
    )
    .unwrap();
    let coach = users::find_account_by_email(conn, "user7@example.org").unwrap().unwrap().0;
    let kid = users::create_managed(conn, ada.id, &PersonName::parse("Kim").unwrap(), None, now(), |_| {
        persistence::trail::Trail::none()
    })
    .unwrap();
    let session = sessions::create(conn, ada.id, now(), now() + Duration::days(1)).unwrap();
    let share = shares::create(conn, kid.id, coach.id, ScopeSet::ALL, None, now()).unwrap();
    let new = NewActivity {
        name: ActivityName::parse("run").unwrap(),
        sport: Sport::parse("running").unwrap(),
        started_at: now(),
        duration_seconds: None,
        distance_meters: None,
    };
    let act = activities::create(conn, kid.id, &new, now()).unwrap();
    let point = TracePoint { time: now(), lat: 1.0, lon: 2.0, elevation: None, heart_rate: None };

    let (a, k, co, s, t) = (ada.id, kid.id, coach.id, share.id, now());
    let mut failures = Vec::new();
    let mut check = |name: &str, scanned: Vec<String>| {
        if !scanned.is_empty() {
            failures.push(format!("{name} scanned {scanned:?}"));
        }
    };
    let (cn, ob) = (conn, observer);
    check("users::find", scanned_by(cn, ob, |c| users::find(c, a)));
    check(
        "users::find_account_by_email",
        scanned_by(cn, ob, |c| users::find_account_by_email(c, "user99@example.org")),
    );
    check("users::list_managed", scanned_by(cn, ob, |c| users::list_managed(c, a)));
    check("users::password_hash", scanned_by(cn, ob, |c| users::password_hash(c, a)));
    let changes = NameChanges { first_name: Some(Some("Kay".into())), last_name: None };
    check("users::update_names", scanned_by(cn, ob, |c| users::update_names(c, k, &changes)));
    check("sessions::authenticate", scanned_by(cn, ob, |c| sessions::authenticate(c, session, a, t)));
    check("sessions::revoke_all", scanned_by(cn, ob, |c| sessions::revoke_all(c, a, Some(session), t)));
    let new = sessions::NewSignIn {
        user: a,
        created_at: t,
        expires_at: t + Duration::days(1),
        ip: Some("203.0.113.0"),
        user_agent: Some("curl"),
        second_factor: None,
    };
    check("sessions::record (and the cap)", scanned_by(cn, ob, |c| sessions::record(c, &new)));
    check("sessions::live_of", scanned_by(cn, ob, |c| sessions::live_of(c, a, t)));
    check("sessions::touch", scanned_by(cn, ob, |c| sessions::touch(c, session, None, t, t)));
    check(
        "sessions::set_second_factor",
        scanned_by(cn, ob, |c| sessions::set_second_factor(c, session, domain::sign_in::SecondFactor::Totp)),
    );
    check("sessions::revoke_live", scanned_by(cn, ob, |c| sessions::revoke_live(c, a, session, t)));
    let soon = t + Duration::minutes(10);
    check("mfa::start_enrollment", scanned_by(cn, ob, |c| mfa::start_enrollment(c, a, b"sealed", soon)));
    check("mfa::find", scanned_by(cn, ob, |c| mfa::find(c, a)));
    check("mfa::confirm", scanned_by(cn, ob, |c| mfa::confirm(c, a, 5, t)));
    check("mfa::take_step", scanned_by(cn, ob, |c| mfa::take_step(c, a, 6)));
    let hashes = vec![b"h1".to_vec(), b"h2".to_vec()];
    check("mfa::replace_recovery_codes", scanned_by(cn, ob, |c| mfa::replace_recovery_codes(c, a, &hashes)));
    check("mfa::use_recovery_code", scanned_by(cn, ob, |c| mfa::use_recovery_code(c, a, b"h1")));
    check("mfa::recovery_codes_left", scanned_by(cn, ob, |c| mfa::recovery_codes_left(c, a)));
    check("mfa::delete", scanned_by(cn, ob, |c| mfa::delete(c, a, true)));
    check("access::standing", scanned_by(cn, ob, |c| persistence::access::standing(c, co, k, t)));
    check(
        "access::authenticate_with_standing",
        scanned_by(cn, ob, |c| persistence::access::authenticate_with_standing(c, session, a, k, t)),
    );
    check("shares::received_by", scanned_by(cn, ob, |c| shares::received_by(c, co, t)));
    check("shares::granted_by", scanned_by(cn, ob, |c| shares::granted_by(c, a, t)));
    check("access::share", scanned_by(cn, ob, |c| persistence::access::share(c, a, s, t)));
    check("shares::update", scanned_by(cn, ob, |c| shares::update(c, s, ScopeSet::ALL, None)));
    check("activities::find", scanned_by(cn, ob, |c| activities::find(c, k, act.id)));
    check("activities::list", scanned_by(cn, ob, |c| activities::list(c, k, 50, None)));
    check("activities::list before", scanned_by(cn, ob, |c| activities::list(c, k, 50, Some(act.id))));
    check(
        "activities::list unknown before",
        scanned_by(cn, ob, |c| activities::list(c, k, 50, Some(ActivityId::new()))),
    );
    check("activities::put_trace", scanned_by(cn, ob, |c| activities::put_trace(c, k, act.id, &[point])));
    check("activities::get_trace", scanned_by(cn, ob, |c| activities::get_trace(c, k, act.id)));
    check("shares::delete", scanned_by(cn, ob, |c| shares::delete(c, s)));
    check("activities::delete", scanned_by(cn, ob, |c| activities::delete(c, k, act.id)));
    check("managers::of_user", scanned_by(cn, ob, |c| persistence::managers::of_user(c, k)));
    check("managers::is_manager", scanned_by(cn, ob, |c| persistence::managers::is_manager(c, k, co)));
    check("managers::count", scanned_by(cn, ob, |c| persistence::managers::count(c, k)));
    check("managers::lock_users", scanned_by(cn, ob, |c| persistence::managers::lock_users(c, &[k])));
    check("managers::managed_alone", scanned_by(cn, ob, |c| persistence::managers::managed_alone(c, a, &[k])));
    let account = |c: &mut AnyConnection, email: &str| users::find_account_by_email(c, email).unwrap().unwrap().0.id;
    let (other, third) = (account(cn, "user8@example.org"), account(cn, "user9@example.org"));
    let declined = invitations::create(cn, k, co, a, t).unwrap();
    let accepted = invitations::create(cn, k, other, a, t).unwrap();
    check("invitations::create", scanned_by(cn, ob, |c| invitations::create(c, k, third, a, t)));
    check("invitations::find_live", scanned_by(cn, ob, |c| invitations::find_live(c, co, declined.id, t)));
    check("invitations::received_by", scanned_by(cn, ob, |c| invitations::received_by(c, co, t)));
    check("invitations::sent_on", scanned_by(cn, ob, |c| invitations::sent_on(c, a, t)));
    check("invitations::delete", scanned_by(cn, ob, |c| invitations::delete(c, declined.id)));
    check("invitations::accept", scanned_by(cn, ob, |c| invitations::accept(c, accepted.id, other, t)));
    check("managers::add", scanned_by(cn, ob, |c| persistence::managers::add(c, k, co, t)));
    check("managers::remove", scanned_by(cn, ob, |c| persistence::managers::remove(c, k, co)));
    let kai = users::create_managed(cn, a, &PersonName::parse("Kai").unwrap(), None, t, |_| {
        persistence::trail::Trail::none()
    })
    .unwrap();
    persistence::managers::add(cn, kai.id, co, t).unwrap();
    shares::create(cn, kai.id, co, ScopeSet::ALL, None, t).unwrap();
    let week = t + Duration::days(7);
    check("claims::issue", scanned_by(cn, ob, |c| claims::issue(c, kai.id, a, b"one", ScopeSet::ALL, t, week)));
    check("claims::find_live", scanned_by(cn, ob, |c| claims::find_live(c, b"one", t)));
    check("claims::void", scanned_by(cn, ob, |c| claims::void(c, kai.id)));
    claims::issue(cn, kai.id, a, b"two", ScopeSet::ALL, t, week).unwrap();
    let email = domain::Email::parse("kai@example.org").unwrap();
    let given = claims::Credentials { email: &email, password_hash: "x" };
    check(
        "claims::redeem",
        scanned_by(cn, ob, |c| persistence::transaction(c, |c| claims::redeem(c, b"two", &given, t))),
    );
    use domain::access_log::{Action, Via};
    let ada_user = users::find(cn, a).unwrap().unwrap();
    let entry = persistence::access_log::NewEntry::new(k, &ada_user, Action::UserRead, Via::Manager, t);
    check("access_log::record", scanned_by(cn, ob, |c| persistence::access_log::record(c, &entry)));
    let batch = vec![entry.clone(); 3];
    check("access_log::record_reads", scanned_by(cn, ob, |c| persistence::access_log::record_reads(c, &batch)));
    let first = persistence::access_log::page(cn, k, 1, None).unwrap().unwrap()[0].id;
    check("access_log::page", scanned_by(cn, ob, |c| persistence::access_log::page(c, k, 50, None)));
    check("access_log::page before", scanned_by(cn, ob, |c| persistence::access_log::page(c, k, 50, Some(first))));
    check(
        "access_log::page unknown before",
        scanned_by(cn, ob, |c| persistence::access_log::page(c, k, 50, Some(domain::AccessEntryId::new()))),
    );
    check("access_log::of_users", scanned_by(cn, ob, |c| persistence::access_log::of_users(c, &[k, a])));
    let event = persistence::events::NewEvent {
        kind: domain::EventType::UserUpdated,
        user: k,
        actor: Some(a),
        data: "{}".into(),
    };
    check("events::append", scanned_by(cn, ob, |c| persistence::events::append(c, &[event], t)));
    // A backlog of unnumbered events, more than one call numbers: the
    // planner's own choice for the sequencer's join would then be a hash
    // of the table's unnumbered rows, read sequentially.
    cn.batch_execute(
        "INSERT INTO events (id, type, at, user_id, data)
           SELECT gen_random_uuid(), 'user.updated', now(), gen_random_uuid(), '{}' FROM generate_series(1, 40000);
         ANALYZE events;",
    )
    .expect("a backlog");
    check("events::sequence (a backlog)", scanned_by(cn, ob, persistence::events::sequence));
    check("events::sequence", scanned_by(cn, ob, persistence::events::sequence));
    check("events::after", scanned_by(cn, ob, |c| persistence::events::after(c, 19_990, 100)));
    check("events::last_position", scanned_by(cn, ob, persistence::events::last_position));
    check("events::advance_relay", scanned_by(cn, ob, |c| persistence::events::advance_relay(c, 10)));
    let old = t - Duration::seconds(19_000);
    check("events::purge", scanned_by(cn, ob, |c| persistence::events::purge(c, old, false)));
    check("events::purge published", scanned_by(cn, ob, |c| persistence::events::purge(c, old, true)));
    // purge-expired: each of its deletions on an index (migration 000012).
    let (past, future) = (t - Duration::days(8), t + Duration::days(8));
    check("shares::purge_expired", scanned_by(cn, ob, |c| shares::purge_expired(c, past)));
    check("sessions::purge", scanned_by(cn, ob, |c| sessions::purge(c, past)));
    check("invitations::purge_expired", scanned_by(cn, ob, |c| invitations::purge_expired(c, past)));
    check("claims::purge_expired", scanned_by(cn, ob, |c| claims::purge_expired(c, past)));
    check("mfa::purge_expired_enrollments", scanned_by(cn, ob, |c| mfa::purge_expired_enrollments(c, future)));
    check("access_log::purge_before", scanned_by(cn, ob, |c| persistence::access_log::purge_before(c, past)));
    let kit = users::create_managed(cn, a, &PersonName::parse("Kit").unwrap(), None, t, |_| {
        persistence::trail::Trail::none()
    })
    .unwrap();
    check(
        "users::delete_managed (cascades)",
        scanned_by(cn, ob, |c| users::delete_managed(c, kit.id, &persistence::trail::Trail::none())),
    );
    check("users::delete (cascades)", scanned_by(cn, ob, |c| users::delete(c, k)));
    check("users::delete_account (cascades)", scanned_by(cn, ob, |c| users::delete_account(c, a, t)));
    assert!(failures.is_empty(), "sequential scans of large tables:\n{}", failures.join("\n"));
}
