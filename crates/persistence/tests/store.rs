//! The persistence suite: every test runs on PostgreSQL and on SQLite,
//! each on a database of its own.

use chrono::{Duration, Utc};
use domain::throttle::Policy;
use domain::{Email, PersonName, UserId};
use persistence::testing::TestDb;
use persistence::users::{NameChanges, NewAccount};
use persistence::{now, sessions, throttle, users, AnyConnection, Backend, StoreError};

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
    test(&mut conn);
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
    users::create_managed(
        conn,
        manager,
        &PersonName::parse(first).unwrap(),
        None,
        now(),
    )
    .expect("create managed")
}

on_both_backends! {
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
        assert!(listed.iter().all(|u| u.manager_id == Some(boss.id) && u.email.is_none()));
    };
    name_changes_skip_clear_and_set: |conn| {
        let boss = account(conn, "boss@example.org");
        let kid = users::create_managed(conn, boss.id, &PersonName::parse("Kim").unwrap(), Some(&PersonName::parse("Lee").unwrap()), now()).unwrap();
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
        sessions::create(conn, boss.id, now(), now() + Duration::days(30)).unwrap();
        users::delete(conn, boss.id).unwrap();
        assert_eq!(users::rows_naming(conn, boss.id).unwrap(), 0, "no row names the account");
        assert_eq!(users::rows_naming(conn, kid.id).unwrap(), 0, "no row names its managed user");
        assert!(users::find(conn, keep.id).unwrap().is_some(), "others stay");
        assert!(matches!(users::delete(conn, boss.id), Err(StoreError::NotFound)));
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
        assert_eq!(throttle::failures(conn, &["acct:a", "acct:b"]).unwrap().len(), 1);
        throttle::clear(conn, "acct:a").unwrap();
        assert!(throttle::failures(conn, &["acct:a"]).unwrap().is_empty());
    };
}
