//! The persistence suite: every test runs on PostgreSQL and on SQLite,
//! each on a database of its own.

use chrono::{Duration, Utc};
use domain::throttle::Policy;
use domain::{ActivityName, ScopeSet, Sport, TracePoint};
use domain::{Email, PersonName, UserId};
use persistence::activities::{self, NewActivity};
use persistence::testing::TestDb;
use persistence::users::{NameChanges, NewAccount};
use persistence::{now, sessions, shares, throttle, users, AnyConnection, Backend, StoreError};

/// Writes each test once, as a function of a connection, and runs it on
/// both backends.
macro_rules! on_both_backends {
    ($($name:ident: $body:expr;)*) => {$(
        mod $name {
            use super::*;
            #[test]
            fn postgres() {
                run(Backend::Postgres, $body);
            }
            #[test]
            fn sqlite() {
                run(Backend::Sqlite, $body);
            }
        }
    )*};
}

fn run(backend: Backend, test: impl FnOnce(&mut AnyConnection)) {
    let mut db = TestDb::new(backend);
    let mut conn = db.pool().get().expect("connection");
    conn.run(|c| {
        test(c);
        Ok::<_, StoreError>(())
    })
    .expect("the test's connection");
}

fn account(conn: &mut AnyConnection, email: &str) -> domain::User {
    let email = Email::parse(email).unwrap();
    let first = PersonName::parse("Ada").unwrap();
    let new = NewAccount {
        email: &email,
        password_hash: "$argon2id$fake",
        first_name: Some(&first),
        last_name: None,
        admin: false,
    };
    users::create_account(conn, &new, now()).expect("create account")
}

fn managed(conn: &mut AnyConnection, manager: UserId, first: &str) -> domain::User {
    users::create_managed(conn, manager, &PersonName::parse(first).unwrap(), None, now(), |_| {
        persistence::trail::Trail::none()
    })
    .expect("create managed")
}

on_both_backends! {
    a_factor_takes_each_step_once_and_each_recovery_code_once: |conn| {
        use persistence::mfa;
        let ada = account(conn, "ada@example.org");
        let t = now();
        assert!(mfa::find(conn, ada.id).unwrap().is_none());
        assert!(!mfa::take_step(conn, ada.id, 1).unwrap(), "no factor: no step");
        assert!(mfa::start_enrollment(conn, ada.id, b"one", t + Duration::minutes(10)).unwrap());
        assert!(mfa::start_enrollment(conn, ada.id, b"two", t + Duration::minutes(10)).unwrap(), "replaced");
        let pending = mfa::find(conn, ada.id).unwrap().unwrap();
        assert_eq!((pending.secret_sealed.as_slice(), pending.is_on()), (b"two".as_slice(), false));
        assert!(!mfa::take_step(conn, ada.id, 1).unwrap(), "a pending factor takes no step at sign-in");
        assert!(!mfa::confirm(conn, ada.id, 10, t + Duration::minutes(11)).unwrap(), "expired");
        assert!(mfa::confirm(conn, ada.id, 10, t).unwrap());
        assert!(!mfa::confirm(conn, ada.id, 11, t).unwrap(), "already on");
        assert!(!mfa::start_enrollment(conn, ada.id, b"three", t).unwrap(), "on: no new enrollment");
        assert!(!mfa::take_step(conn, ada.id, 10).unwrap(), "the confirming step is used");
        assert!(mfa::take_step(conn, ada.id, 11).unwrap());
        assert!(!mfa::take_step(conn, ada.id, 11).unwrap(), "never twice");
        assert!(!mfa::take_step(conn, ada.id, 9).unwrap(), "never an earlier one");
        mfa::replace_recovery_codes(conn, ada.id, &[b"a".to_vec(), b"b".to_vec()]).unwrap();
        assert!(mfa::use_recovery_code(conn, ada.id, b"a").unwrap());
        assert!(!mfa::use_recovery_code(conn, ada.id, b"a").unwrap(), "once");
        assert_eq!(mfa::recovery_codes_left(conn, ada.id).unwrap(), 1);
        mfa::replace_recovery_codes(conn, ada.id, &[b"c".to_vec()]).unwrap();
        assert!(!mfa::use_recovery_code(conn, ada.id, b"b").unwrap(), "the old set is void");
        assert!(mfa::delete(conn, ada.id, false).unwrap());
        assert!(mfa::find(conn, ada.id).unwrap().is_none());
        assert_eq!(mfa::recovery_codes_left(conn, ada.id).unwrap(), 0, "the codes went with it");
    };

    users_round_trip_ids_names_and_times: |conn| {
        let created = account(conn, "Ada@Example.org");
        let found = users::find(conn, created.id).unwrap().expect("found");
        assert_eq!(found, created, "what is read back equals what was written, to the microsecond");
        assert_eq!(found.email.as_deref(), Some("Ada@Example.org"));
        assert!(users::find(conn, UserId::new()).unwrap().is_none());
    };
    emails_are_unique_in_any_case: |conn| {
        account(conn, "ada@example.org");
        let email = Email::parse("ADA@example.ORG").unwrap();
        let new = NewAccount { email: &email, password_hash: "x", first_name: None, last_name: None, admin: false };
        assert!(matches!(users::create_account(conn, &new, now()), Err(StoreError::Conflict("email"))));
        let (user, hash) = users::find_account_by_email(conn, "ada@example.org").unwrap().expect("by e-mail");
        assert_eq!(user.email.as_deref(), Some("ada@example.org"));
        assert_eq!(hash, "$argon2id$fake");
    };
    managed_users_are_listed_oldest_first_then_by_id: |conn| {
        let boss = account(conn, "boss@example.org");
        let other = account(conn, "other@example.org");
        let a = managed(conn, boss.id, "A");
        let b = managed(conn, boss.id, "B");
        managed(conn, other.id, "Not mine");
        let listed = users::list_managed(conn, boss.id).unwrap();
        assert_eq!(listed.iter().map(|u| u.id).collect::<Vec<_>>(), vec![a.id, b.id]);
        assert!(listed.iter().all(|u| u.managed && u.email.is_none()));
        let managers = persistence::managers::of_user(conn, a.id).unwrap();
        assert_eq!(managers.iter().map(|(m, _)| m.id).collect::<Vec<_>>(), [boss.id], "its creator is its manager");
    };
    name_changes_skip_clear_and_set: |conn| {
        let boss = account(conn, "boss@example.org");
        let kid = users::create_managed(conn, boss.id, &PersonName::parse("Kim").unwrap(), Some(&PersonName::parse("Lee").unwrap()), now(), |_| persistence::trail::Trail::none()).unwrap();
        let same = users::update_names(conn, kid.id, &NameChanges::default()).unwrap();
        assert_eq!(same, kid, "no change leaves the user as it was");
        let cleared = users::update_names(conn, kid.id, &NameChanges { first_name: None, last_name: Some(None) }).unwrap();
        assert_eq!((cleared.first_name.as_deref(), cleared.last_name.as_deref()), (Some("Kim"), None));
        let set = users::update_names(conn, kid.id, &NameChanges { first_name: Some(Some("Jo".into())), last_name: None }).unwrap();
        assert_eq!(set.first_name.as_deref(), Some("Jo"));
        assert!(matches!(users::update_names(conn, UserId::new(), &NameChanges::default()), Err(StoreError::NotFound)));
    };
    deleting_an_account_removes_its_managed_users_and_sign_ins: |conn| {
        let boss = account(conn, "boss@example.org");
        let kid = managed(conn, boss.id, "Kim");
        let keep = account(conn, "keep@example.org");
        let shared = managed(conn, boss.id, "Sam");
        persistence::managers::add(conn, shared.id, keep.id, now()).unwrap();
        sessions::create(conn, boss.id, now(), now() + Duration::days(30)).unwrap();
        users::delete_account(conn, boss.id, persistence::now()).unwrap();
        assert_eq!(users::rows_naming(conn, boss.id).unwrap(), 0, "no row names the account");
        assert_eq!(users::rows_naming(conn, kid.id).unwrap(), 0, "no row names the user it managed alone");
        assert!(users::find(conn, keep.id).unwrap().is_some(), "others stay");
        let managers = persistence::managers::of_user(conn, shared.id).unwrap();
        assert_eq!(managers.iter().map(|(m, _)| m.id).collect::<Vec<_>>(), [keep.id], "a co-managed user stays");
        assert!(matches!(users::delete_account(conn, boss.id, persistence::now()), Err(StoreError::NotFound)));
    };
    sessions_authenticate_until_revoked_or_expired: |conn| {
        let ada = account(conn, "ada@example.org");
        let t = now();
        let s1 = sessions::create(conn, ada.id, t, t + Duration::days(30)).unwrap();
        let s2 = sessions::create(conn, ada.id, t, t + Duration::days(30)).unwrap();
        let live = sessions::authenticate(conn, s1, ada.id, t).unwrap().expect("live");
        assert_eq!(live.user, ada);
        assert!(sessions::authenticate(conn, s1, UserId::new(), t).unwrap().is_none(), "sub must match");
        assert!(sessions::authenticate(conn, s1, ada.id, t + Duration::days(31)).unwrap().is_none(), "past the absolute limit");
        sessions::revoke(conn, ada.id, s1, t).unwrap();
        assert!(sessions::authenticate(conn, s1, ada.id, t).unwrap().is_none(), "revoked");
        assert!(sessions::authenticate(conn, s2, ada.id, t).unwrap().is_some(), "the other sign-in stays");
        let s3 = sessions::create(conn, ada.id, t, t + Duration::days(30)).unwrap();
        assert_eq!(sessions::revoke_all(conn, ada.id, Some(s3), t).unwrap(), 1);
        assert!(sessions::authenticate(conn, s2, ada.id, t).unwrap().is_none());
        assert!(sessions::authenticate(conn, s3, ada.id, t).unwrap().is_some(), "the kept one stays");
    };
    throttle_counts_failures_within_a_window: |conn| {
        let t = Utc::now();
        let p = Policy::ACCOUNT;
        for i in 1..=3 {
            let f = throttle::record_failure(conn, "acct:a", t, p.window_cutoff(t)).unwrap();
            assert_eq!(f.count, i);
        }
        let later = t + Duration::minutes(16);
        let f = throttle::record_failure(conn, "acct:a", later, p.window_cutoff(later)).unwrap();
        assert_eq!(f.count, 1, "a new window starts afresh");
        let both = throttle::failures(conn, &["acct:b", "acct:a"]).unwrap();
        assert!(both[0].is_none() && both[1].is_some_and(|f| f.count == 1), "in the order asked: {both:?}");
        throttle::clear(conn, "acct:a").unwrap();
        assert_eq!(throttle::failures(conn, &["acct:a"]).unwrap(), vec![None]);
    };
    shares_are_unique_per_pair_and_expired_ones_are_replaced: |conn| {
        let ada = account(conn, "ada@example.org");
        let bob = account(conn, "bob@example.org");
        let t = now();
        let read: ScopeSet = [domain::Scope::DataRead].into_iter().collect();
        let first = shares::create(conn, ada.id, bob.id, read, Some(t + Duration::seconds(1)), t).unwrap();
        assert!(matches!(shares::create(conn, ada.id, bob.id, ScopeSet::ALL, None, t), Err(StoreError::Conflict("share"))));
        let later = t + Duration::seconds(2);
        assert!(persistence::access::share(conn, ada.id, first.id, later).unwrap().is_none(), "expired: absent");
        let second = shares::create(conn, ada.id, bob.id, ScopeSet::ALL, None, later).expect("replaces the expired one");
        assert_ne!(second.id, first.id);
        let received = shares::received_by(conn, bob.id, later).unwrap();
        assert_eq!(received.len(), 1);
        assert_eq!((received[0].0.scopes, received[0].1.id), (ScopeSet::ALL, ada.id));
        let standing = persistence::access::standing(conn, bob.id, ada.id, later).unwrap().expect("ada exists");
        assert_eq!((standing.subject.id, standing.grant.map(|g| g.scopes)), (ada.id, Some(ScopeSet::ALL)));
        assert!(persistence::access::standing(conn, ada.id, bob.id, later).unwrap().unwrap().grant.is_none());
        assert!(persistence::access::standing(conn, ada.id, UserId::new(), later).unwrap().is_none());
        let (share, subject, managers) = persistence::access::share(conn, ada.id, second.id, later).unwrap().expect("live");
        assert_eq!(managers, domain::access::Managers::default(), "ada is an account");
        assert_eq!((share.id, subject.id), (second.id, ada.id));
        let updated = shares::update(conn, second.id, read, Some(Some(later + Duration::days(1)))).unwrap();
        assert_eq!((updated.scopes, updated.expires_at), (read, Some(later + Duration::days(1))));
        let kept = shares::update(conn, second.id, ScopeSet::ALL, None).unwrap();
        assert_eq!(kept.expires_at, updated.expires_at, "an absent end stays");
        assert_eq!(shares::granted_by(conn, ada.id, later).unwrap().len(), 1);
    };
    activities_page_newest_first_without_skipping_or_repeating: |conn| {
        let ada = account(conn, "ada@example.org");
        let t0 = now();
        let mut made = Vec::new();
        for i in 0..7 {
            // Two activities share each start time, so the id decides.
            let new = NewActivity {
                name: ActivityName::parse(&format!("run {i}")).unwrap(),
                sport: Sport::parse("running").unwrap(),
                started_at: t0 + Duration::minutes(i / 2),
                duration_seconds: Some(60),
                distance_meters: None,
            };
            made.push(activities::create(conn, ada.id, &new, now()).unwrap());
        }
        let mut seen = Vec::new();
        let mut before = None;
        loop {
            let page = activities::list(conn, ada.id, 3, before).unwrap().expect("cursor exists");
            if page.is_empty() {
                break;
            }
            before = page.last().map(|a| a.id);
            seen.extend(page);
        }
        let mut want = made.clone();
        want.sort_by_key(|a| std::cmp::Reverse((a.started_at, a.id)));
        assert_eq!(seen.iter().map(|a| a.id).collect::<Vec<_>>(), want.iter().map(|a| a.id).collect::<Vec<_>>());
        assert!(activities::list(conn, ada.id, 3, Some(domain::ActivityId::new())).unwrap().is_none());
    };
    traces_round_trip_in_one_row: |conn| {
        let ada = account(conn, "ada@example.org");
        let new = NewActivity {
            name: ActivityName::parse("ride").unwrap(),
            sport: Sport::parse("cycling").unwrap(),
            started_at: now(),
            duration_seconds: None,
            distance_meters: Some(12.5),
        };
        let act = activities::create(conn, ada.id, &new, now()).unwrap();
        assert_eq!(activities::get_trace(conn, ada.id, act.id).unwrap(), Some(vec![]));
        let t0 = now();
        let points: Vec<TracePoint> = (0..100_000)
            .map(|i| TracePoint {
                time: t0 + Duration::seconds(i),
                lat: 45.0 + i as f64 * 1e-6,
                lon: -73.0,
                elevation: (i % 2 == 0).then_some(12.25),
                heart_rate: (i % 3 == 0).then_some(140),
            })
            .collect();
        activities::put_trace(conn, ada.id, act.id, &points).unwrap();
        assert_eq!(activities::get_trace(conn, ada.id, act.id).unwrap().unwrap(), points);
        activities::put_trace(conn, ada.id, act.id, &points[..2]).unwrap();
        assert_eq!(activities::get_trace(conn, ada.id, act.id).unwrap().unwrap(), points[..2], "replaced whole");
        let other = account(conn, "other@example.org");
        assert!(activities::get_trace(conn, other.id, act.id).unwrap().is_none(), "only the owner's activity");
    };
    corrupt_stored_data_is_corrupt_not_unavailable: |conn| {
        use diesel::prelude::*;
        use persistence::schema::activity_traces;
        let corrupt = |r: Result<_, StoreError>| matches!(r, Err(StoreError::Corrupt(_)));
        let ada = account(conn, "ada@example.org");
        let bob = account(conn, "bob@example.org");
        let t = now();
        let share = shares::create(conn, ada.id, bob.id, ScopeSet::ALL, None, t).unwrap();
        diesel::sql_query("UPDATE shares SET scopes = 'data:read data:everything'").execute(conn).unwrap();
        assert!(corrupt(persistence::access::share(conn, ada.id, share.id, t).map(drop)), "a share by id");
        assert!(corrupt(shares::received_by(conn, bob.id, t).map(drop)), "shares received");
        assert!(corrupt(shares::granted_by(conn, ada.id, t).map(drop)), "shares granted");
        assert!(corrupt(persistence::access::standing(conn, bob.id, ada.id, t).map(drop)), "the grant access reads");

        let new = NewActivity {
            name: ActivityName::parse("run").unwrap(),
            sport: Sport::parse("running").unwrap(),
            started_at: t,
            duration_seconds: None,
            distance_meters: None,
        };
        let act = activities::create(conn, ada.id, &new, t).unwrap();
        let p = TracePoint { time: t, lat: 1.0, lon: 2.0, elevation: None, heart_rate: None };
        activities::put_trace(conn, ada.id, act.id, &[p]).unwrap();
        let mut packed = activities::encode(&[p]);
        packed[0] = 2; // a format version this code does not know
        diesel::update(activity_traces::table).set(activity_traces::points.eq(&packed)).execute(conn).unwrap();
        assert!(corrupt(activities::get_trace(conn, ada.id, act.id).map(drop)), "a trace of an unknown version");
        assert!(corrupt(activities::all_with_traces(conn, &[ada.id]).map(drop)), "the traces an export reads");
        packed[0] = 1;
        packed.pop(); // a point cut short
        diesel::update(activity_traces::table).set(activity_traces::points.eq(&packed)).execute(conn).unwrap();
        assert!(corrupt(activities::get_trace(conn, ada.id, act.id).map(drop)), "a trace cut short");
    };
    deleting_a_user_leaves_no_row_that_names_them: |conn| {
        let ada = account(conn, "ada@example.org");
        let bob = account(conn, "bob@example.org");
        let kid = managed(conn, ada.id, "Kim");
        for who in [ada.id, kid.id] {
            let new = NewActivity {
                name: ActivityName::parse("walk").unwrap(),
                sport: Sport::parse("walking").unwrap(),
                started_at: now(),
                duration_seconds: None,
                distance_meters: None,
            };
            let act = activities::create(conn, who, &new, now()).unwrap();
            let p = TracePoint { time: now(), lat: 1.0, lon: 2.0, elevation: None, heart_rate: None };
            activities::put_trace(conn, who, act.id, &[p]).unwrap();
            shares::create(conn, who, bob.id, ScopeSet::ALL, None, now()).unwrap();
        }
        shares::create(conn, bob.id, ada.id, ScopeSet::ALL, None, now()).unwrap();
        sessions::create(conn, ada.id, now(), now() + Duration::days(1)).unwrap();
        assert!(users::rows_naming(conn, ada.id).unwrap() > 0);
        users::delete_account(conn, ada.id, persistence::now()).unwrap();
        assert_eq!(users::rows_naming(conn, ada.id).unwrap(), 0, "the account");
        assert_eq!(users::rows_naming(conn, kid.id).unwrap(), 0, "its managed user");
        assert_eq!(users::rows_naming(conn, bob.id).unwrap(), 1, "bob keeps only himself");
        let gone = activities::create(conn, kid.id, &NewActivity {
            name: ActivityName::parse("late").unwrap(),
            sport: Sport::parse("x").unwrap(),
            started_at: now(),
            duration_seconds: None,
            distance_meters: None,
        }, now());
        assert!(matches!(gone, Err(StoreError::NotFound)), "a write for a deleted user leaves nothing behind: {gone:?}");
    };

    an_actor_deleted_leaves_entries_without_its_id_even_one_written_after: |conn| {
        use domain::access_log::{Action, Via};
        use persistence::access_log::{self, NewEntry};
        let ada = account(conn, "ada@example.org");
        let coach = account(conn, "coach@example.org");
        let kid = managed(conn, ada.id, "Kim");
        let read = |who: &domain::User| NewEntry::new(kid.id, who, Action::UserRead, Via::Share, now());
        access_log::record_reads(conn, &[read(&coach)]).unwrap();
        let late = read(&coach);
        users::delete_account(conn, coach.id, persistence::now()).unwrap();
        // A read by the coach that raced its deletion: written after it.
        access_log::record_reads(conn, &[late]).unwrap();
        let log = access_log::page(conn, kid.id, 10, None).unwrap().unwrap();
        assert_eq!(log.len(), 2);
        for entry in &log {
            assert_eq!(entry.actor, None, "no id of a deleted actor is shown");
            assert_eq!(entry.actor_display_name, "Ada", "its name stays");
        }
        let exported = access_log::of_users(conn, &[kid.id]).unwrap();
        assert!(exported.iter().all(|e| e.actor.is_none()), "nor exported");
        // A live actor's id is shown.
        access_log::record_reads(conn, &[read(&ada)]).unwrap();
        let log = access_log::page(conn, kid.id, 10, None).unwrap().unwrap();
        assert_eq!(log[0].actor, Some(ada.id));
    };

    a_batch_of_reads_entries_with_a_user_gone_writes_none: |conn| {
        use domain::access_log::{Action, Via};
        use persistence::access_log::{self, NewEntry};
        let ada = account(conn, "ada@example.org");
        let (kim, lou) = (managed(conn, ada.id, "Kim"), managed(conn, ada.id, "Lou"));
        let read = |user: &domain::User| NewEntry::new(user.id, &ada, Action::UserRead, Via::Manager, now());
        let batch = [read(&kim), read(&lou), read(&kim)];
        users::delete(conn, lou.id).unwrap();
        // On PostgreSQL the batch's lock of its users stands for the
        // foreign key (migration 000014): all or none, as the key made it.
        assert!(matches!(access_log::record_reads(conn, &batch), Err(StoreError::NotFound)));
        assert!(access_log::page(conn, kim.id, 10, None).unwrap().unwrap().is_empty(), "none written");
        access_log::record_reads(conn, &[read(&kim), read(&kim)]).unwrap();
        assert_eq!(access_log::page(conn, kim.id, 10, None).unwrap().unwrap().len(), 2);
        assert!(matches!(access_log::record_reads(conn, &[read(&lou)]), Err(StoreError::NotFound)));
    };

    an_update_tells_the_row_it_made_also_when_another_change_came_first: |conn| {
        use persistence::events::{self, NewEvent};
        use persistence::trail::Trail;
        let ada = account(conn, "ada@example.org");
        let seen = managed(conn, ada.id, "Kim");
        let told = |user: &domain::User| {
            let data = format!("{:?} {:?}", user.first_name, user.last_name);
            vec![NewEvent { kind: domain::EventType::UserUpdated, user: user.id, actor: Some(ada.id), data }]
        };
        let no_entry = || Trail { events: Vec::new(), at: now(), entry: None };
        let first = |name: &str| NameChanges { first_name: Some(Some(name.into())), ..Default::default() };
        let last_event = |conn: &mut AnyConnection| {
            events::sequence(conn).unwrap();
            events::after(conn, 0, 1000).unwrap().pop().unwrap().data
        };
        let lone = persistence::lone_statements_on_this_thread;
        // Another change between the decision's read (`seen`) and this one:
        // the update makes both, and its event tells both.
        let lee = NameChanges { last_name: Some(Some("Lee".into())), ..Default::default() };
        users::update_names(conn, seen.id, &lee).unwrap();
        let before = (events::count(conn).unwrap(), lone());
        let user = users::update_names_traced(conn, &seen, &first("Kit"), no_entry(), told).unwrap();
        let ran = lone() - before.1;
        assert_eq!((user.first_name.as_deref(), user.last_name.as_deref()), (Some("Kit"), Some("Lee")));
        assert_eq!(users::find(conn, seen.id).unwrap().as_ref(), Some(&user), "what it returns is the row");
        assert_eq!(events::count(conn).unwrap(), before.0 + 1, "one event");
        assert_eq!(last_event(conn), r#"Some("Kit") Some("Lee")"#);
        // Nothing in between: the same, in one statement on PostgreSQL (a
        // transaction's statements, SQLite's here, count for nothing).
        let before = lone();
        let user = users::update_names_traced(conn, &user, &first("Kai"), no_entry(), told).unwrap();
        if let AnyConnection::Postgres(_) = conn {
            assert_eq!((ran, lone() - before), (1, 1), "one statement outside a transaction, either way");
        }
        assert_eq!(users::find(conn, seen.id).unwrap().as_ref(), Some(&user));
        assert_eq!(last_event(conn), r#"Some("Kai") Some("Lee")"#);
        // A user claimed since (an account now, C2: its names are its own)
        // is not found, by the update that sees its row changed and by one
        // with nothing to change; the row stays as the claim left it, and
        // there is no event.
        let before = events::count(conn).unwrap();
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "UPDATE users SET email = 'kim@example.org', email_normalized = 'kim@example.org', \
             password_hash = '$argon2id$fake' WHERE email IS NULL",
        )
        .execute(conn)
        .unwrap();
        let claimed = users::find(conn, seen.id).unwrap().unwrap();
        assert!(matches!(users::update_names_traced(conn, &user, &first("Kip"), no_entry(), told), Err(StoreError::NotFound)));
        let unchanged = NameChanges::default();
        assert!(matches!(users::update_names_traced(conn, &user, &unchanged, no_entry(), told), Err(StoreError::NotFound)));
        assert_eq!(users::find(conn, seen.id).unwrap().as_ref(), Some(&claimed));
        assert_eq!(events::count(conn).unwrap(), before);
        diesel::sql_query(
            "UPDATE users SET email = NULL, email_normalized = NULL, password_hash = NULL \
             WHERE email_normalized = 'kim@example.org'",
        )
        .execute(conn)
        .unwrap();
        // And a user gone since is not found, with no event.
        let before = events::count(conn).unwrap();
        users::delete(conn, seen.id).unwrap();
        assert!(matches!(users::update_names_traced(conn, &user, &first("Kip"), no_entry(), told), Err(StoreError::NotFound)));
        assert_eq!(events::count(conn).unwrap(), before);
    };

    a_change_that_is_its_own_statement_leaves_its_trail_only_with_the_change: |conn| {
        use persistence::events::{self, NewEvent};
        use persistence::trail::Trail;
        let ada = account(conn, "ada@example.org");
        let kim = managed(conn, ada.id, "Kim");
        let deleted = |user| Trail {
            events: vec![NewEvent { kind: domain::EventType::UserDeleted, user, actor: Some(ada.id), data: "{}".into() }],
            at: now(),
            entry: None,
        };
        // Outside any transaction, as the API runs it on PostgreSQL: an
        // account is not a managed user, and a deleted user is gone.
        let before = events::count(conn).unwrap();
        assert!(matches!(users::delete_managed(conn, ada.id, &deleted(ada.id)), Err(StoreError::NotFound)));
        users::delete_managed(conn, kim.id, &deleted(kim.id)).unwrap();
        assert!(matches!(users::delete_managed(conn, kim.id, &deleted(kim.id)), Err(StoreError::NotFound)));
        assert_eq!(events::count(conn).unwrap(), before + 1, "one event, of the one deletion");
        assert!(users::find(conn, ada.id).unwrap().is_some());
    };
}

/// A change's trail, and reads' entries, are prepared once per connection
/// on PostgreSQL, not planned anew at every call as `sql_query` would be.
#[test]
fn trails_and_read_entries_are_prepared_once_per_connection() {
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    use domain::access_log::{Action, Via};
    use persistence::access_log::{self, NewEntry};
    use persistence::trail::Trail;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut db = TestDb::new(Backend::Postgres);
    let mut conn = db.pool().get().expect("connection");
    conn.run(|c| {
        let ada = account(c, "ada@example.org");
        for _ in 0..3 {
            let kim = managed(c, ada.id, "Kim");
            let entry = NewEntry::new(kim.id, &ada, Action::UserUpdate, Via::Manager, now());
            persistence::trail::append(c, &Trail { events: Vec::new(), at: now(), entry: Some(entry) }).unwrap();
            let reads: Vec<NewEntry> =
                (0..3).map(|_| NewEntry::new(kim.id, &ada, Action::UserRead, Via::Manager, now())).collect();
            access_log::record_reads(c, &reads[..1 + kim.id.as_uuid().as_bytes()[0] as usize % 3]).unwrap();
        }
        let AnyConnection::Postgres(pg) = c else { unreachable!() };
        let mut count = |like: &str| {
            diesel::sql_query(format!("SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE '{like}'"))
                .get_result::<Count>(pg)
                .unwrap()
                .n
        };
        assert_eq!(count("WITH trail AS%logged AS%"), 1, "one trail shape, prepared once");
        assert_eq!(count("WITH async AS%unnest%"), 1, "reads' entries: one statement for any number");
        Ok::<_, StoreError>(())
    })
    .unwrap();
}

/// Erasure sees an event committed by a writer the deletion waited for: a
/// change of the user's names holds its row, commits its event with the new
/// names, and only then does the waiting deletion go on (PostgreSQL; at
/// READ COMMITTED a statement's own parts would miss that event).
#[test]
fn a_deletion_that_waited_for_a_change_erases_that_changes_event() {
    use persistence::events::{self, NewEvent};
    use persistence::trail::Trail;
    let mut db = TestDb::new(Backend::Postgres);
    let pool = db.pool().clone();
    let (ada, kim) = pool
        .get()
        .unwrap()
        .run(|c| {
            let ada = account(c, "ada@example.org");
            let kim = managed(c, ada.id, "Kim");
            Ok::<_, StoreError>((ada, kim))
        })
        .unwrap();
    let (kim_id, ada_id) = (kim.id, ada.id);
    let event = move |kind, data: &str| NewEvent { kind, user: kim_id, actor: Some(ada_id), data: data.into() };
    let mut writer = pool.get().unwrap();
    let (held, release) = std::sync::mpsc::channel::<()>();
    let change = std::thread::spawn(move || {
        writer
            .run(|c| {
                persistence::transaction(c, |c| {
                    let names = NameChanges { first_name: None, last_name: Some(Some("Secret".into())) };
                    users::update_names(c, kim_id, &names)?;
                    events::append(c, &[event(domain::EventType::UserUpdated, r#"{"last_name":"Secret"}"#)], now())?;
                    held.send(()).unwrap();
                    // Long enough for the deletion to be waiting on the row.
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    Ok(())
                })
            })
            .unwrap();
    });
    release.recv().unwrap();
    let deleted =
        NewEvent { kind: domain::EventType::UserDeleted, user: kim.id, actor: Some(ada.id), data: "{}".into() };
    pool.get()
        .unwrap()
        .run(|c| users::delete_managed(c, kim.id, &Trail { events: vec![deleted], at: now(), entry: None }))
        .unwrap();
    change.join().unwrap();
    let feed = pool
        .get()
        .unwrap()
        .run(|c| {
            events::sequence(c)?;
            events::after(c, 0, 100)
        })
        .unwrap();
    let about_kim: Vec<&str> = feed.iter().filter(|e| e.user == kim.id).map(|e| e.data.as_str()).collect();
    assert_eq!(about_kim, ["{}", "{}"], "the update's event is erased too: {feed:#?}");
}

/// The erasure rewrites a deleted user's earlier events in place
/// (PostgreSQL): the events' pages keep room (migration 000013), so the
/// blanked version stays on its page, a heap-only update that adds no
/// index entry. On a page filled to the brim it would move to another page,
/// with a new entry in each of the table's indexes.
#[test]
fn the_erasure_rewrites_events_on_their_own_page() {
    use diesel::sql_types::BigInt;
    use diesel::RunQueryDsl;
    use persistence::events::{self, NewEvent};
    use persistence::trail::Trail;
    #[derive(diesel::QueryableByName)]
    struct Number {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    run(Backend::Postgres, |c| {
        let ada = account(c, "ada@example.org");
        let kim = managed(c, ada.id, "Kim");
        let created = |user| NewEvent {
            kind: domain::EventType::UserCreated,
            user,
            actor: Some(ada.id),
            data: r#"{"first_name":"Kim","last_name":"Private"}"#.into(),
        };
        events::append(c, &[created(kim.id)], now()).unwrap();
        // Then events already blank, each as large as Kim's will be once
        // erased: without room kept, the first page holds as many as fit
        // and then has less free than one more of them.
        let blank = NewEvent { data: "{}".into(), ..created(ada.id) };
        for _ in 0..4 {
            events::append(c, &vec![blank.clone(); 100], now()).unwrap();
        }
        let kims_block = |c: &mut AnyConnection| {
            let AnyConnection::Postgres(pg) = c else { unreachable!() };
            diesel::sql_query(format!(
                "SELECT (ctid::text::point)[0]::bigint AS n FROM events WHERE user_id = '{}' AND type = 'user.created'",
                kim.id.as_uuid()
            ))
            .get_result::<Number>(pg)
            .unwrap()
            .n
        };
        let before = kims_block(c);
        users::delete_managed(c, kim.id, &Trail::none()).unwrap();
        let AnyConnection::Postgres(pg) = &mut *c else { unreachable!() };
        let kept: Number = diesel::sql_query(format!(
            "SELECT count(*) AS n FROM events WHERE user_id = '{}' AND data <> '{{}}'",
            kim.id.as_uuid()
        ))
        .get_result(pg)
        .unwrap();
        assert_eq!(kept.n, 0, "Kim's events are erased");
        assert_eq!(kims_block(c), before, "the erased version stays on its page");
    });
}
