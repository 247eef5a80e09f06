//! Races that must leave the database whole.

use reqwest::StatusCode;
use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn deleting_a_user_while_its_activities_are_written_and_read_leaves_no_orphan_rows(app) {
        // Each write and each read leaves an entry on Kim's log (Ada is
        // not Kim): on PostgreSQL the log has no foreign key to its user
        // (migration 000014), and this race is what the deletion's trigger
        // and the read batch's lock are for.
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let path = format!("/api/v1/users/{kim}/activities");
        let activity = json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"});
        let writers = (0..12).map(|_| app.post_json(&path, Some(&ada.token), &activity));
        let user_path = format!("/api/v1/users/{kim}");
        let readers = (0..12).map(|_| app.get(&user_path, &ada.token));
        let delete = app.delete(&user_path, &ada.token);
        let (writes, reads, deleted) =
            tokio::join!(futures_util::future::join_all(writers), futures_util::future::join_all(readers), delete);
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        for res in writes {
            let status = res.status();
            assert!(
                status == StatusCode::CREATED || status == StatusCode::NOT_FOUND,
                "each write either happened before the delete or finds the user gone: {status}"
            );
        }
        for res in reads {
            let status = res.status();
            assert!(
                status == StatusCode::OK || status == StatusCode::NOT_FOUND,
                "each read either happened before the delete or finds the user gone: {status}"
            );
        }
        let mut conn = app.pool.get().unwrap();
        assert_eq!(conn.run(|c| persistence::users::rows_naming(c, kim.parse().unwrap())).unwrap(), 0, "no orphan rows");
    }
}

/// Sends `n` copies of a request at once and counts the statuses.
async fn at_once<F, Fut>(n: usize, make: F) -> std::collections::BTreeMap<u16, usize>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = reqwest::Response>,
{
    let responses = futures_util::future::join_all((0..n).map(|_| make())).await;
    let mut counts = std::collections::BTreeMap::new();
    for res in responses {
        *counts.entry(res.status().as_u16()).or_insert(0) += 1;
    }
    counts
}

on_both_backends! {
    async fn twenty_deletes_of_one_user_at_once_give_one_204_and_404s(app) {
        let root = app.admin("root@example.org").await;
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let path = format!("/api/v1/users/{kim}");
        let counts = at_once(20, || app.delete(&path, &ada.token)).await;
        assert_eq!(counts, [(204, 1), (404, 19)].into_iter().collect(), "{counts:?}");
        // A 404 leaves no event, also one whose deletion found the user
        // gone only in its own statement (PostgreSQL makes no transaction
        // around it): two registrations, the creation, one deletion.
        let events = crate::events::feed(&app, &root, 4).await;
        let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["account.registered", "account.registered", "user.created", "user.deleted"]);
    }

    async fn twenty_registrations_of_one_email_at_once_give_one_201_and_409s(app) {
        let counts = at_once(20, || app.register("same@example.org", crate::helpers::PASSWORD)).await;
        assert_eq!(counts, [(201, 1), (409, 19)].into_iter().collect(), "{counts:?}");
    }

    async fn twenty_identical_grants_at_once_give_one_201_and_409s(app) {
        let ada = app.account("ada@example.org").await;
        app.account("coach@example.org").await;
        let grant = json!({"grantee_email": "coach@example.org", "scopes": ["data:read"]});
        let counts = at_once(20, || app.post_json("/api/v1/shares/", Some(&ada.token), &grant)).await;
        assert_eq!(counts, [(201, 1), (409, 19)].into_iter().collect(), "{counts:?}");
    }

    async fn concurrent_puts_leave_one_of_the_writes(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let path = format!("/api/v1/users/{kim}");
        let names: Vec<String> = (0..20).map(|i| format!("Name {i}")).collect();
        let bodies: Vec<_> = names.iter().map(|n| json!({"first_name": n, "last_name": n})).collect();
        let responses = futures_util::future::join_all(bodies.iter().map(|b| app.put_json(&path, &ada.token, b))).await;
        assert!(responses.iter().all(|r| r.status() == StatusCode::OK), "no 5xx, no conflict");
        let user = crate::helpers::body(app.get(&path, &ada.token).await).await;
        let first = user["first_name"].as_str().unwrap();
        assert!(names.iter().any(|n| n == first), "the final state is one of the writes: {user}");
        assert_eq!(user["last_name"], user["first_name"], "and all of one write, not a mix");
    }

    async fn concurrent_puts_of_different_names_each_tell_the_row_they_made(app) {
        let root = app.admin("root@example.org").await;
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let path = format!("/api/v1/users/{kim}");
        // Half change the first name, half the last: each PUT's answer and
        // event must be the row after it, the other's latest name included,
        // never the row as its decision read it.
        let bodies: Vec<_> = (0..20)
            .map(|i| if i % 2 == 0 { json!({"first_name": format!("F{i}")}) } else { json!({"last_name": format!("L{i}")}) })
            .collect();
        let responses = futures_util::future::join_all(bodies.iter().map(|b| app.put_json(&path, &ada.token, b))).await;
        for (body, res) in bodies.iter().zip(responses) {
            assert_eq!(res.status(), StatusCode::OK);
            let user = crate::helpers::body(res).await;
            let (field, value) = body.as_object().unwrap().iter().next().unwrap();
            assert_eq!(&user[field], value, "the answer has its own change: {user}");
        }
        let user = crate::helpers::body(app.get(&path, &ada.token).await).await;
        // Two registrations, the creation, twenty updates.
        let events = crate::events::feed(&app, &root, 23).await;
        let names = |d: &serde_json::Value| (d["first_name"].clone(), d["last_name"].clone());
        let mut last = (json!("Kim"), json!(null));
        for e in events.iter().filter(|e| e["type"] == "user.updated") {
            let now = names(&e["data"]);
            assert!(now.0 == last.0 || now.1 == last.1, "each event changes one name of the one before: {last:?} then {now:?}");
            last = now;
        }
        assert_eq!(last, names(&user), "the last event is the row");
    }
}

/// On SQLite, writes take turns in the process (api::Db::write), so none
/// waits in SQLite's sleeping busy handler; reads and PostgreSQL writes
/// run side by side.
#[actix_rt::test]
async fn sqlite_writes_take_turns_and_nothing_else_does() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    for backend in [persistence::Backend::Sqlite, persistence::Backend::Postgres] {
        let mut db = persistence::testing::TestDb::new(backend);
        let pool = db.pool().clone();
        let metrics = api::metrics::Metrics::new(&pool).unwrap();
        let store = api::Db::new(pool, &metrics);
        // Each task notes how many run at once while it sleeps in the closure.
        let most_at_once = |write: bool| {
            let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
            let tasks: Vec<_> = (0..6)
                .map(|_| {
                    let (now, most, store) = (Arc::clone(&now), Arc::clone(&most), store.clone());
                    async move {
                        let work = move |_: &mut persistence::AnyConnection| {
                            let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(n, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(30));
                            now.fetch_sub(1, Ordering::SeqCst);
                            Ok(())
                        };
                        if write { store.write(work).await } else { store.run(work).await }.unwrap();
                    }
                })
                .collect();
            async move {
                futures_util::future::join_all(tasks).await;
                most.load(Ordering::SeqCst)
            }
        };
        let writes = most_at_once(true).await;
        let reads = most_at_once(false).await;
        assert!(reads > 1, "{backend:?}: reads run side by side ({reads})");
        match backend {
            persistence::Backend::Sqlite => assert_eq!(writes, 1, "SQLite: one writer at a time"),
            persistence::Backend::Postgres => assert!(writes > 1, "PostgreSQL: writers side by side ({writes})"),
        }
    }
}
