//! C1's migration: a database that an older release left (one manager per
//! managed user, `users.manager_id`), with data in it, is migrated by a
//! server starting on it, and every row and every right is as before.

use persistence::testing::TestDb;
use persistence::{Backend, Pool};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{body, TestApp, PASSWORD};

/// The last migration of the schema before several managers.
const BEFORE_MANAGERS: &str = "2026-11-29-000003";

/// SQL literals, as each backend stores them (uuid / 16-byte blob,
/// timestamptz / fixed-width UTC text, bytea / blob).
struct Sql(Backend);

impl Sql {
    fn id(&self, id: uuid::Uuid) -> String {
        match self.0 {
            Backend::Postgres => format!("'{id}'"),
            Backend::Sqlite => format!("X'{}'", id.simple()),
        }
    }
    fn time(&self, t: &str) -> String {
        let t = chrono::DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&chrono::Utc);
        match self.0 {
            Backend::Postgres => format!("'{}'", t.to_rfc3339()),
            Backend::Sqlite => format!("'{}'", t.format("%Y-%m-%dT%H:%M:%S%.6fZ")),
        }
    }
    fn bytes(&self, b: &[u8]) -> String {
        let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
        match self.0 {
            Backend::Postgres => format!("'\\x{hex}'::bytea"),
            Backend::Sqlite => format!("X'{hex}'"),
        }
    }
    fn bool(&self, b: bool) -> &'static str {
        match (self.0, b) {
            (Backend::Postgres, true) => "true",
            (Backend::Postgres, false) => "false",
            (Backend::Sqlite, true) => "1",
            (Backend::Sqlite, false) => "0",
        }
    }
}

struct Seeded {
    kim: uuid::Uuid,
    lou: uuid::Uuid,
    run: uuid::Uuid,
    points: Vec<domain::TracePoint>,
}

/// Two parents' accounts (Ada, Bob), a coach, Ada's two children (Kim with
/// two activities and a trace, Lou), Bob's child, and two shares: Kim to the
/// coach (read), Ada herself to the coach (read and write).
fn seed(db: &TestDb) -> Seeded {
    let q = Sql(db.backend());
    let hash = api::auth::hash_password(PASSWORD).unwrap();
    let (ada, bob, coach) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let (kim, lou, bobs) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let (run, ride) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-11-28T07:00:00Z").unwrap().with_timezone(&chrono::Utc);
    let points: Vec<domain::TracePoint> = (0..3)
        .map(|i| domain::TracePoint {
            time: t0 + chrono::Duration::seconds(i),
            lat: 48.85 + i as f64 / 1000.0,
            lon: 2.35,
            elevation: (i == 1).then_some(35.5),
            heart_rate: Some(120 + i as i32),
        })
        .collect();
    let account = |id, email: &str, at| {
        format!(
            "INSERT INTO users (id, email, email_normalized, password_hash, first_name, admin, manager_id, registered_at) \
             VALUES ({}, '{email}', '{email}', '{hash}', 'P', {}, NULL, {});",
            q.id(id),
            q.bool(false),
            q.time(at)
        )
    };
    let managed = |id, manager, name: &str, at| {
        format!(
            "INSERT INTO users (id, first_name, admin, manager_id, registered_at) VALUES ({}, '{name}', {}, {}, {});",
            q.id(id),
            q.bool(false),
            q.id(manager),
            q.time(at)
        )
    };
    let activity = |id, user, name: &str| {
        format!(
            "INSERT INTO activities (id, user_id, name, sport, started_at, duration_seconds, distance_meters, created_at) \
             VALUES ({}, {}, '{name}', 'running', {}, 1800, 5000.0, {});",
            q.id(id),
            q.id(user),
            q.time("2026-11-28T07:00:00Z"),
            q.time("2026-11-28T08:00:00Z")
        )
    };
    let share = |subject, grantee, scopes: &str| {
        format!(
            "INSERT INTO shares (id, subject_id, grantee_id, scopes, created_at, expires_at) \
             VALUES ({}, {}, {}, '{scopes}', {}, NULL);",
            q.id(uuid::Uuid::new_v4()),
            q.id(subject),
            q.id(grantee),
            q.time("2026-11-28T09:00:00Z")
        )
    };
    let sql = [
        account(ada, "ada@example.org", "2026-11-01T00:00:00Z"),
        account(bob, "bob@example.org", "2026-11-02T00:00:00Z"),
        account(coach, "coach@example.org", "2026-11-03T00:00:00Z"),
        managed(kim, ada, "Kim", "2026-11-10T00:00:00Z"),
        managed(lou, ada, "Lou", "2026-11-11T00:00:00Z"),
        managed(bobs, bob, "Bo", "2026-11-12T00:00:00Z"),
        activity(run, kim, "Morning run"),
        activity(ride, kim, "Ride"),
        format!(
            "INSERT INTO activity_traces (activity_id, user_id, point_count, points) VALUES ({}, {}, 3, {});",
            q.id(run),
            q.id(kim),
            q.bytes(&persistence::activities::encode(&points))
        ),
        share(kim, coach, "data:read"),
        share(ada, coach, "data:read data:write"),
    ]
    .join("\n");
    db.execute(&sql);
    Seeded { kim, lou, run, points }
}

async fn token(app: &TestApp, email: &str) -> String {
    let res = app.sign_in(email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK, "{email} signs in after the migration");
    body(res).await["access_token"].as_str().unwrap().to_owned()
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array().unwrap().iter().map(|u| u["id"].as_str().unwrap()).collect()
}

async fn migrates_every_row_and_right(backend: Backend) {
    let db = TestDb::empty(backend);
    {
        let pool = Pool::open(db.url(), &Default::default()).unwrap();
        let applied = pool.get().unwrap().run(|c| persistence::migrate_up_to(c, BEFORE_MANAGERS)).unwrap();
        assert_eq!(applied.len(), 3, "the schema before several managers: {applied:?}");
    }
    let seeded = seed(&db);
    let (kim, lou) = (seeded.kim.to_string(), seeded.lou.to_string());

    // The server migrates the rest at start.
    let app = TestApp::spawn_on(backend, db, |_| {}).await;
    let ada = token(&app, "ada@example.org").await;
    let bob = token(&app, "bob@example.org").await;
    let coach = token(&app, "coach@example.org").await;

    // Ada still manages both children, with every scope, oldest first.
    let list = body(app.get("/api/v1/users/", &ada).await).await;
    assert_eq!(ids(&list)[1..], [kim.as_str(), lou.as_str()], "{list}");
    assert!(list[1]["is_managed"].as_bool().unwrap());
    assert_eq!(list[1]["scopes"], json!(["data:read", "data:write"]));
    let res = app.get(&format!("/api/v1/users/{kim}"), &ada).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await["registered_at"], "2026-11-10T00:00:00Z");
    let managers = app.pool.get().unwrap().run(|c| persistence::managers::of_user(c, kim.parse().unwrap())).unwrap();
    assert_eq!(managers.len(), 1, "one manager");
    assert_eq!(managers[0].0.email.as_deref(), Some("ada@example.org"));
    assert_eq!(managers[0].1.to_rfc3339(), "2026-11-10T00:00:00+00:00", "a manager since the child was made");

    // Kim's activities and trace are all there, to the bit.
    let acts = body(app.get(&format!("/api/v1/users/{kim}/activities"), &ada).await).await;
    assert_eq!(acts.as_array().unwrap().len(), 2, "{acts}");
    let trace = body(app.get(&format!("/api/v1/users/{kim}/activities/{}/trace", seeded.run), &ada).await).await;
    let points = trace.as_array().unwrap();
    assert_eq!(points.len(), seeded.points.len());
    for (got, want) in points.iter().zip(&seeded.points) {
        assert_eq!(got["lat"].as_f64(), Some(want.lat));
        assert_eq!(got["heart_rate"].as_i64(), want.heart_rate.map(i64::from));
        assert_eq!(got.get("elevation").and_then(Value::as_f64), want.elevation);
    }

    // The coach keeps exactly the granted scopes, on both subjects.
    let list = body(app.get("/api/v1/users/", &coach).await).await;
    let kim_row = list.as_array().unwrap().iter().find(|u| u["id"] == kim.as_str()).expect("kim is shared");
    assert_eq!(kim_row["scopes"], json!(["data:read"]));
    assert_eq!(app.get(&format!("/api/v1/users/{kim}/activities"), &coach).await.status(), StatusCode::OK);
    let write = app
        .post_json(
            &format!("/api/v1/users/{kim}/activities"),
            Some(&coach),
            &json!({"name": "x", "sport": "y", "started_at": "2026-11-28T07:00:00Z"}),
        )
        .await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN, "read-only stays read-only");
    assert_eq!(app.get(&format!("/api/v1/users/{kim}"), &coach).await.status(), StatusCode::NOT_FOUND);
    let shares = body(app.get("/api/v1/shares/", &ada).await).await;
    assert_eq!(shares["granted"].as_array().unwrap().len(), 2, "Ada's and Kim's shares: {shares}");

    // Bob, another parent, still sees none of Ada's children.
    assert_eq!(app.get(&format!("/api/v1/users/{kim}"), &bob).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(body(app.get("/api/v1/users/", &bob).await).await.as_array().unwrap().len(), 2, "Bob and Bo");

    // And the new rules work on the old rows: deleting Ada's account takes
    // the children she managed alone, with their data.
    let res = app
        .request(reqwest::Method::DELETE, "/api/v1/auth/me", Some(&ada))
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let left = app.pool.get().unwrap().run(|c| persistence::users::rows_naming(c, kim.parse().unwrap())).unwrap();
    assert_eq!(left, 0, "no row names Kim");
}

#[actix_rt::test]
async fn a_database_of_one_manager_each_migrates_with_every_row_and_right_on_postgres() {
    migrates_every_row_and_right(Backend::Postgres).await;
}

#[actix_rt::test]
async fn a_database_of_one_manager_each_migrates_with_every_row_and_right_on_sqlite() {
    migrates_every_row_and_right(Backend::Sqlite).await;
}

/// The last migration before the access log's ids were made from their time.
const BEFORE_KEYED_LOG: &str = "2026-12-03-000013";

/// Migration 000014 makes each access-log entry's id again from its `at`
/// (the log's order is its ids' order since): a log written with random
/// ids pages newest first after it, every entry kept with its fields, and
/// entries written after it sort among the old ones by time.
async fn an_access_log_with_random_ids_pages_newest_first_after_its_migration(backend: Backend) {
    use domain::access_log::{Action, Via};
    use persistence::access_log::{self, NewEntry};
    let db = TestDb::empty(backend);
    let pool = Pool::open(db.url(), &Default::default()).unwrap();
    let applied = pool.get().unwrap().run(|c| persistence::migrate_up_to(c, BEFORE_KEYED_LOG)).unwrap();
    assert_eq!(applied.len(), 13, "{applied:?}");
    let q = Sql(backend);
    let (ada, kim) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let t0 = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00.000250Z").unwrap().with_timezone(&chrono::Utc);
    // Times a microsecond, a millisecond and seconds apart, inserted out of
    // order, with random ids.
    let offsets_us = [3_000_000_i64, 1, 0, 1_000, 999, 2_000_000, 1_001];
    let mut sql = format!(
        "INSERT INTO users (id, email, email_normalized, password_hash, registered_at) \
         VALUES ({}, 'ada@example.org', 'ada@example.org', 'x', {});
         INSERT INTO users (id, first_name, registered_at) VALUES ({}, 'Kim', {});
         INSERT INTO user_managers (user_id, manager_id, since) VALUES ({}, {}, {});",
        q.id(ada),
        q.time("2026-11-01T00:00:00Z"),
        q.id(kim),
        q.time("2026-11-02T00:00:00Z"),
        q.id(kim),
        q.id(ada),
        q.time("2026-11-02T00:00:00Z"),
    );
    for (i, us) in offsets_us.iter().enumerate() {
        let at = (t0 + chrono::Duration::microseconds(*us)).to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        sql += &format!(
            "INSERT INTO access_log (id, user_id, at, actor_id, actor_display_name, action, scope, via) \
             VALUES ({}, {}, {}, {}, 'Ada {i}', 'user.read', 'data:read', 'manager');",
            q.id(uuid::Uuid::new_v4()),
            q.id(kim),
            q.time(&at),
            q.id(ada),
        );
    }
    db.execute(&sql);
    let applied = pool.get().unwrap().run(|c| persistence::migrate_up_to(c, "2026-12-04-000014")).unwrap();
    assert_eq!(applied.len(), 1, "000014 and no other: {applied:?}");

    let kim_id: domain::UserId = kim.to_string().parse().unwrap();
    let log = pool.get().unwrap().run(|c| access_log::page(c, kim_id, 100, None)).unwrap().unwrap();
    let mut want: Vec<(i64, String)> = offsets_us.iter().enumerate().map(|(i, us)| (*us, format!("Ada {i}"))).collect();
    want.sort_by_key(|w| std::cmp::Reverse(w.0));
    let got: Vec<(i64, String)> =
        log.iter().map(|e| ((e.at - t0).num_microseconds().unwrap(), e.actor_display_name.clone())).collect();
    assert_eq!(got, want, "newest first, to the microsecond, every entry kept");
    for entry in &log {
        let made = domain::AccessEntryId::for_time(entry.at).to_string();
        assert_eq!(entry.id.to_string()[..17], made[..17], "the id begins with its time");
        assert_eq!(entry.actor, Some(ada.to_string().parse().unwrap()));
    }
    // Paged two at a time, the same entries.
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = pool.get().unwrap().run(|c| access_log::page(c, kim_id, 2, before)).unwrap().unwrap();
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        paged.extend(page.iter().map(|e| e.id));
    }
    assert_eq!(paged, log.iter().map(|e| e.id).collect::<Vec<_>>());

    // A new entry between two old ones, by time.
    let actor = pool.get().unwrap().run(|c| persistence::users::find(c, ada.to_string().parse().unwrap())).unwrap();
    let actor = actor.expect("ada");
    let between = t0 + chrono::Duration::microseconds(1_500_000);
    let entry = NewEntry::new(kim_id, &actor, Action::UserRead, Via::Manager, between);
    pool.get().unwrap().run(|c| access_log::record_reads(c, &[entry])).unwrap();
    let log = pool.get().unwrap().run(|c| access_log::page(c, kim_id, 100, None)).unwrap().unwrap();
    let ats: Vec<i64> = log.iter().map(|e| (e.at - t0).num_microseconds().unwrap()).collect();
    assert_eq!(ats, [3_000_000, 2_000_000, 1_500_000, 1_001, 1_000, 999, 1, 0]);
}

#[actix_rt::test]
async fn an_access_log_with_random_ids_pages_newest_first_after_its_migration_on_postgres() {
    an_access_log_with_random_ids_pages_newest_first_after_its_migration(Backend::Postgres).await;
}

#[actix_rt::test]
async fn an_access_log_with_random_ids_pages_newest_first_after_its_migration_on_sqlite() {
    an_access_log_with_random_ids_pages_newest_first_after_its_migration(Backend::Sqlite).await;
}
