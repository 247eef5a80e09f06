//! Part B: the data that scopes protect, activities and their traces.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use reqwest::{Method, Response, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{assert_422, body, keys, TestApp};
use crate::on_both_backends;
use crate::shares::{assert_422_at, share};

const ACTIVITY_KEYS: [&str; 8] =
    ["created_at", "distance_meters", "duration_seconds", "id", "name", "sport", "started_at", "user_id"];

fn run(name: &str, started_at: &str) -> Value {
    json!({"name": name, "sport": "running", "started_at": started_at})
}

fn activities(user: &str) -> String {
    format!("/api/v1/users/{user}/activities")
}

/// Records an activity of `user`; asserts a 201 and returns it.
async fn record(app: &TestApp, token: &str, user: &str, activity: &Value) -> Value {
    let res = app.post_json(&activities(user), Some(token), activity).await;
    assert_eq!(res.status(), StatusCode::CREATED, "record {activity}");
    body(res).await
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("an id: {v}")).to_owned()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap_or_else(|| panic!("a list: {list}")).iter().map(id_of).collect()
}

fn instant(v: &Value) -> DateTime<FixedOffset> {
    let s = v.as_str().unwrap_or_else(|| panic!("a time string: {v}"));
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("RFC 3339 ({e}): {s}"))
}

/// `n` points one second apart from 2026-11-28T07:00:00Z; every other
/// point has an elevation and a heart rate.
fn trace(n: usize) -> Value {
    let t0 = DateTime::parse_from_rfc3339("2026-11-28T07:00:00Z").unwrap();
    Value::Array(
        (0..n)
            .map(|i| {
                let time = (t0 + chrono::Duration::seconds(i as i64)).to_rfc3339_opts(SecondsFormat::Secs, true);
                let mut p = json!({"time": time, "lat": 45.0 + i as f64 * 1e-6, "lon": 7.0 - i as f64 * 1e-6});
                if i % 2 == 0 {
                    p["elevation"] = json!(300.0 + (i % 1000) as f64 / 4.0);
                    p["heart_rate"] = json!(60 + (i % 200) as i64);
                }
                p
            })
            .collect(),
    )
}

type Point = (DateTime<FixedOffset>, f64, f64, Option<f64>, Option<i64>);

/// A trace as comparable values: times as instants, absent and null alike.
fn points(trace: &Value) -> Vec<Point> {
    trace
        .as_array()
        .unwrap_or_else(|| panic!("a trace is a list: {trace}"))
        .iter()
        .map(|p| {
            for k in p.as_object().expect("a point is an object").keys() {
                assert!(["time", "lat", "lon", "elevation", "heart_rate"].contains(&k.as_str()), "unknown key {k}");
            }
            (
                instant(&p["time"]),
                p["lat"].as_f64().expect("lat"),
                p["lon"].as_f64().expect("lon"),
                p.get("elevation").and_then(Value::as_f64),
                p.get("heart_rate").and_then(Value::as_i64),
            )
        })
        .collect()
}

/// How many activities `user` has (up to 100).
async fn count(app: &TestApp, token: &str, user: &str) -> usize {
    let res = app.get(&format!("{}?limit=100", activities(user)), token).await;
    assert_eq!(res.status(), StatusCode::OK);
    body(res).await.as_array().unwrap().len()
}

/// Asserts two traces hold the same points, naming the first that differs
/// (a 100,000-point assert_eq would drown the report). Times and heart
/// rates compare exactly, coordinates and elevations to 1e-9: the exact
/// decimal round trip has a test of its own.
fn assert_same_points(got: &Value, want: &Value, why: &str) {
    let (got_points, want_points) = (points(got), points(want));
    assert_eq!(got_points.len(), want_points.len(), "{why}: the number of points");
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9;
    let same = |g: &Point, w: &Point| {
        g.0 == w.0
            && close(g.1, w.1)
            && close(g.2, w.2)
            && match (g.3, w.3) {
                (Some(a), Some(b)) => close(a, b),
                (a, b) => a.is_none() && b.is_none(),
            }
            && g.4 == w.4
    };
    if let Some(i) = (0..got_points.len()).find(|&i| !same(&got_points[i], &want_points[i])) {
        panic!("{why}: point {i} differs: sent {}, got {}", want[i], got[i]);
    }
}

async fn status_and_body(res: Response) -> (StatusCode, Value) {
    (res.status(), body(res).await)
}

#[derive(Clone, Copy, Debug)]
enum Action {
    List,
    Create,
    Get,
    PutTrace,
    GetTrace,
    Delete,
}

const ACTIONS: [Action; 6] =
    [Action::List, Action::Create, Action::Get, Action::PutTrace, Action::GetTrace, Action::Delete];

async fn act(app: &TestApp, token: &str, user: &str, activity: &str, action: Action) -> Response {
    let base = activities(user);
    match action {
        Action::List => app.get(&base, token).await,
        Action::Create => app.post_json(&base, Some(token), &run("Run", "2026-11-28T07:00:00Z")).await,
        Action::Get => app.get(&format!("{base}/{activity}"), token).await,
        Action::PutTrace => app.put_json(&format!("{base}/{activity}/trace"), token, &trace(3)).await,
        Action::GetTrace => app.get(&format!("{base}/{activity}/trace"), token).await,
        Action::Delete => app.delete(&format!("{base}/{activity}"), token).await,
    }
}

on_both_backends! {
    async fn scopes_decide_who_may_read_and_write_a_users_activities(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let reader = app.account("reader@example.org").await;
        let writer = app.account("writer@example.org").await;
        let kim_reader = app.account("kimreader@example.org").await;
        let stranger = app.account("stranger@example.org").await;
        share(&app, &ada, "reader@example.org", &["data:read"], None).await;
        share(&app, &ada, "writer@example.org", &["data:write"], None).await;
        share(&app, &ada, "kimreader@example.org", &["data:read"], Some(&kim)).await;

        //                  list create get put-trace get-trace delete
        let all = [200, 201, 200, 204, 200, 204];
        let read_only = [200, 403, 200, 403, 200, 403];
        let write_only = [403, 201, 403, 204, 403, 204];
        let none = [404; 6];
        let cases = [
            ("self", &ada, &ada.id, all),
            ("manager, on a managed user", &ada, &kim, all),
            ("grantee with only data:read", &reader, &ada.id, read_only),
            ("grantee with only data:write", &writer, &ada.id, write_only),
            ("grantee with only data:read, on a managed user", &kim_reader, &kim, read_only),
            ("grantee of another subject, on a managed user", &reader, &kim, none),
            ("stranger", &stranger, &ada.id, none),
            ("stranger, on a managed user", &stranger, &kim, none),
        ];
        for (who, caller, subject, want) in cases {
            let before = count(&app, &ada.token, subject).await;
            let seed = id_of(&record(&app, &ada.token, subject, &run("Seed", "2026-11-27T07:00:00Z")).await);
            for (action, want) in ACTIONS.into_iter().zip(want) {
                let res = act(&app, &caller.token, subject, &seed, action).await;
                let why = format!("{who}: {action:?}");
                assert_eq!(res.status().as_u16(), want, "{why}");
                match want {
                    404 => assert_eq!(body(res).await, json!({"detail": "User not found"}), "{why}"),
                    403 => assert!(body(res).await["detail"].is_string(), "{why}"),
                    _ => {}
                }
            }
            let res = app.get(&format!("{}/{seed}", activities(subject)), &ada.token).await;
            let (created, deleted) = (want[1] == 201, want[5] == 204);
            assert_eq!(res.status(), if deleted { StatusCode::NOT_FOUND } else { StatusCode::OK }, "{who}: the seed is deleted only by a DELETE that was allowed");
            let after = count(&app, &ada.token, subject).await;
            assert_eq!(after, before + 1 + usize::from(created) - usize::from(deleted), "{who}: a refused create records nothing");
        }

        let res = app.post_json(&activities(&ada.id), Some(&stranger.token), &json!({})).await;
        assert_422(res, &[(json!(["body", "name"]), "missing"), (json!(["body", "sport"]), "missing"),
                          (json!(["body", "started_at"]), "missing")], "the shape (422) comes before access (404)").await;

        let existing = id_of(&record(&app, &ada.token, &ada.id, &run("Mine", "2026-11-28T07:00:00Z")).await);
        for (user, why) in [("not-a-uuid".to_owned(), "a non-UUID user_id"), (uuid::Uuid::new_v4().to_string(), "an unknown user id")] {
            for action in ACTIONS {
                let (status, b) = status_and_body(act(&app, &ada.token, &user, &existing, action).await).await;
                assert_eq!((status, b), (StatusCode::NOT_FOUND, json!({"detail": "User not found"})), "{why}: {action:?}");
            }
        }
    }

    async fn recording_an_activity_answers_201_with_the_activity(app) {
        let ada = app.account("ada@example.org").await;
        let res = app.post_json(&activities(&ada.id), Some(&ada.token), &json!({
            "name": "Morning run", "sport": "running", "started_at": "2026-11-28T09:00:00+02:00",
            "duration_seconds": 3600, "distance_meters": 10000.5
        })).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let a = body(res).await;
        assert_eq!(keys(&a), ACTIVITY_KEYS, "exact field set of Activity");
        let id = id_of(&a);
        assert!(uuid::Uuid::parse_str(&id).is_ok() && id == id.to_lowercase(), "a lower-case UUID: {id}");
        assert_eq!(a["user_id"], json!(ada.id));
        assert_eq!((a["name"].clone(), a["sport"].clone()), (json!("Morning run"), json!("running")));
        assert_eq!(instant(&a["started_at"]), instant(&json!("2026-11-28T07:00:00Z")), "the same instant");
        assert_eq!((a["duration_seconds"].clone(), a["distance_meters"].clone()), (json!(3600), json!(10000.5)));
        instant(&a["created_at"]);
        let res = app.get(&format!("{}/{id}", activities(&ada.id)), &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(body(res).await, a, "GET answers what POST answered");

        let a = record(&app, &ada.token, &ada.id, &run("Walk", "2026-11-28T07:00:00Z")).await;
        assert_eq!(keys(&a), ACTIVITY_KEYS, "optional fields are still there");
        assert_eq!((a["duration_seconds"].clone(), a["distance_meters"].clone()), (Value::Null, Value::Null), "absent: null");
        let accepted = [
            (json!({"name": "a".repeat(200), "sport": "s".repeat(50), "started_at": "2026-11-28T07:00:00Z"}), "200 and 50 characters"),
            (json!({"name": "x", "sport": "y", "started_at": "2026-11-28T07:00:00-05:00", "duration_seconds": 0, "distance_meters": 0}), "zeros"),
            (json!({"name": "x", "sport": "y", "started_at": "2026-11-28T07:00:00Z", "duration_seconds": null, "distance_meters": null}), "nulls"),
        ];
        for (req, why) in accepted {
            let res = app.post_json(&activities(&ada.id), Some(&ada.token), &req).await;
            assert_eq!(res.status(), StatusCode::CREATED, "{why}");
        }
    }

    async fn activity_bodies_are_checked_listing_every_fault(app) {
        let ada = app.account("ada@example.org").await;
        let path = activities(&ada.id);
        let at = "2026-11-28T07:00:00Z";
        let cases = [
            (json!({"name": "", "sport": "running", "started_at": at}), vec![(json!(["body", "name"]), "string_too_short")], "empty name"),
            (json!({"name": "a".repeat(201), "sport": "running", "started_at": at}), vec![(json!(["body", "name"]), "string_too_long")], "201-character name"),
            (json!({"name": "Run", "sport": "", "started_at": at}), vec![(json!(["body", "sport"]), "string_too_short")], "empty sport"),
            (json!({"name": "Run", "sport": "s".repeat(51), "started_at": at}), vec![(json!(["body", "sport"]), "string_too_long")], "51-character sport"),
            (json!({}), vec![(json!(["body", "name"]), "missing"), (json!(["body", "sport"]), "missing"), (json!(["body", "started_at"]), "missing")], "an empty object"),
        ];
        for (req, want, why) in cases {
            assert_422(app.post_json(&path, Some(&ada.token), &req).await, &want, why).await;
        }
        let loc_cases = [
            (json!({"name": "Run", "sport": "running", "started_at": "2026-11-28T07:00:00"}), vec![json!(["body", "started_at"])], "started_at without an offset"),
            (json!({"name": "Run", "sport": "running", "started_at": "yesterday"}), vec![json!(["body", "started_at"])], "started_at not a time"),
            (json!({"name": "Run", "sport": "running", "started_at": at, "duration_seconds": -1}), vec![json!(["body", "duration_seconds"])], "negative duration"),
            (json!({"name": "Run", "sport": "running", "started_at": at, "duration_seconds": 1.5}), vec![json!(["body", "duration_seconds"])], "a duration of 1.5"),
            (json!({"name": "Run", "sport": "running", "started_at": at, "distance_meters": -0.5}), vec![json!(["body", "distance_meters"])], "negative distance"),
            (json!({"name": "Run", "sport": "running", "started_at": at, "distance_meters": "far"}), vec![json!(["body", "distance_meters"])], "a distance that is not a number"),
            (json!({"name": "", "sport": "s".repeat(51), "started_at": "2026-11-28T07:00:00", "duration_seconds": 1.5, "distance_meters": -1}),
             vec![json!(["body", "name"]), json!(["body", "sport"]), json!(["body", "started_at"]), json!(["body", "duration_seconds"]), json!(["body", "distance_meters"])],
             "every fault of one body, listed together"),
        ];
        for (req, want, why) in loc_cases {
            assert_422_at(app.post_json(&path, Some(&ada.token), &req).await, &want, why).await;
        }
        let list = body(app.get(&path, &ada.token).await).await;
        assert_eq!(list, json!([]), "a 422 records nothing");
    }

    async fn activities_are_listed_newest_first_and_paged_without_skips_or_repeats(app) {
        let ada = app.account("ada@example.org").await;
        let path = activities(&ada.id);
        let starts = [
            "2026-11-01T08:00:00Z",
            "2026-11-03T08:00:00Z",
            "2026-11-03T08:00:00.5Z",
            "2026-11-03T10:00:00+02:00",
            "2026-11-02T07:59:59.5Z",
            "2026-11-04T00:00:00Z",
            "2026-11-03T08:00:00Z",
        ];
        let mut made = Vec::new();
        for (i, start) in starts.iter().enumerate() {
            let a = record(&app, &ada.token, &ada.id, &run(&format!("Run {i}"), start)).await;
            made.push((instant(&json!(start)), id_of(&a)));
        }
        made.sort_by(|a, b| b.cmp(a));
        let expected: Vec<String> = made.into_iter().map(|(_, id)| id).collect();

        let res = app.get(&path, &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let list = body(res).await;
        for a in list.as_array().unwrap() {
            assert_eq!(keys(a), ACTIVITY_KEYS);
        }
        assert_eq!(ids(&list), expected, "newest first by started_at (as instants), then by id");

        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut before: Option<String> = None;
        loop {
            let query = before.as_ref().map_or("?limit=3".to_owned(), |b| format!("?limit=3&before={b}"));
            let res = app.get(&format!("{path}{query}"), &ada.token).await;
            assert_eq!(res.status(), StatusCode::OK, "{query}");
            let page = ids(&body(res).await);
            sizes.push(page.len());
            if page.is_empty() {
                break;
            }
            if sizes.len() == 1 {
                record(&app, &ada.token, &ada.id, &run("Added while paging", "2026-12-01T00:00:00Z")).await;
            }
            before = page.last().cloned();
            seen.extend(page);
            assert!(sizes.len() < 10, "paging ends");
        }
        assert_eq!(sizes, [3, 3, 1, 0]);
        assert_eq!(seen, expected, "every activity once, in order, whatever was added meanwhile");

        let eve = app.account("eve@example.org").await;
        let eves = id_of(&record(&app, &eve.token, &eve.id, &run("Eve's", "2026-11-02T00:00:00Z")).await);
        for (query, why) in [
            (format!("?before={}", uuid::Uuid::new_v4()), "an unknown activity"),
            (format!("?before={eves}"), "another user's activity"),
            ("?before=not-a-uuid".to_owned(), "not a UUID"),
        ] {
            assert_422_at(app.get(&format!("{path}{query}"), &ada.token).await, &[json!(["query", "before"])], why).await;
        }
    }

    async fn the_list_holds_50_by_default_and_limit_is_1_to_100(app) {
        let ada = app.account("ada@example.org").await;
        let path = activities(&ada.id);
        for i in 0..51 {
            record(&app, &ada.token, &ada.id, &run("Run", &format!("2026-10-01T00:00:{:02}Z", i % 60))).await;
        }
        let len = |v: Value| v.as_array().unwrap().len();
        assert_eq!(len(body(app.get(&path, &ada.token).await).await), 50, "default limit");
        for (limit, n) in [("1", 1), ("100", 51), ("50", 50), ("51", 51)] {
            let res = app.get(&format!("{path}?limit={limit}"), &ada.token).await;
            assert_eq!(res.status(), StatusCode::OK, "limit={limit}");
            assert_eq!(len(body(res).await), n, "limit={limit}");
        }
        for bad in ["0", "101", "x", "-1", "", "1.5"] {
            assert_422_at(app.get(&format!("{path}?limit={bad}"), &ada.token).await, &[json!(["query", "limit"])], &format!("limit={bad}")).await;
        }
        assert_422_at(app.get(&format!("{path}?limit=0&before=nope"), &ada.token).await,
                      &[json!(["query", "limit"]), json!(["query", "before"])], "both faults listed").await;
    }

    async fn a_trace_of_100000_points_round_trips(app) {
        let ada = app.account("ada@example.org").await;
        let a = id_of(&record(&app, &ada.token, &ada.id, &run("Long run", "2026-11-28T07:00:00Z")).await);
        let path = format!("{}/{a}/trace", activities(&ada.id));
        let res = app.get(&path, &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(body(res).await, json!([]), "no trace yet: []");

        let big = trace(100_000);
        let res = app.put_json(&path, &ada.token, &big).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "100,000 points fit");
        assert!(res.bytes().await.unwrap().is_empty(), "204 has no body");
        let res = app.get(&path, &ada.token).await;
        assert_eq!(res.status(), StatusCode::OK);
        let got = body(res).await;
        assert_eq!(got.as_array().unwrap().len(), 100_000);
        assert_same_points(&got, &big, "the same 100,000 points come back");

        let small = json!([
            {"time": "2026-11-29T08:00:00Z", "lat": 90, "lon": -180, "heart_rate": 20},
            {"time": "2026-11-29T08:00:00Z", "lat": -90, "lon": 180, "elevation": -12.5, "heart_rate": 300},
            {"time": "2026-11-29T10:00:01+02:00", "lat": 0.5, "lon": 0.25, "elevation": null, "heart_rate": null}
        ]);
        let res = app.put_json(&path, &ada.token, &small).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "bounds are inclusive; equal times are in order");
        let got = body(app.get(&path, &ada.token).await).await;
        assert_same_points(&got, &small, "PUT replaces the whole trace");

        let medium = trace(1_000);
        let size = serde_json::to_vec(&medium).unwrap().len();
        assert!(size > 64 * 1024, "over the default body limit: {size}");
        let res = app.put_json(&path, &ada.token, &medium).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "a trace has its own body limit ({size} bytes)");
        assert_same_points(&body(app.get(&path, &ada.token).await).await, &medium, "a trace over 64 KiB");
    }

    async fn trace_points_are_checked_listing_every_fault(app) {
        let ada = app.account("ada@example.org").await;
        let a = id_of(&record(&app, &ada.token, &ada.id, &run("Run", "2026-11-28T07:00:00Z")).await);
        let path = format!("{}/{a}/trace", activities(&ada.id));
        let kept = trace(3);
        assert_eq!(app.put_json(&path, &ada.token, &kept).await.status(), StatusCode::NO_CONTENT);

        let with = |i: usize, field: &str, v: Value| {
            let mut t = trace(3);
            t[i][field] = v;
            t
        };
        let cases = [
            (with(1, "lat", json!(91)), vec![json!(["body", 1, "lat"])], "lat 91"),
            (with(0, "lat", json!(-90.5)), vec![json!(["body", 0, "lat"])], "lat -90.5"),
            (with(1, "lon", json!(-181)), vec![json!(["body", 1, "lon"])], "lon -181"),
            (with(2, "lon", json!(180.01)), vec![json!(["body", 2, "lon"])], "lon 180.01"),
            (with(1, "heart_rate", json!(19)), vec![json!(["body", 1, "heart_rate"])], "heart_rate 19"),
            (with(1, "heart_rate", json!(301)), vec![json!(["body", 1, "heart_rate"])], "heart_rate 301"),
            (with(1, "heart_rate", json!(80.5)), vec![json!(["body", 1, "heart_rate"])], "heart_rate 80.5"),
            (with(2, "time", json!("2026-11-28T06:59:59Z")), vec![json!(["body", 2, "time"])], "a time earlier than the previous point"),
            (with(1, "time", json!("2026-11-28T07:00:01")), vec![json!(["body", 1, "time"])], "a time without an offset"),
            (json!([{"time": "2026-11-28T07:00:00Z", "lat": 91, "lon": -181, "heart_rate": 19},
                    {"time": "2026-11-28T06:00:00Z", "lat": 0, "lon": 0, "heart_rate": 301}]),
             vec![json!(["body", 0, "lat"]), json!(["body", 0, "lon"]), json!(["body", 0, "heart_rate"]),
                  json!(["body", 1, "heart_rate"]), json!(["body", 1, "time"])],
             "every fault of one trace, listed together"),
            (json!([{}]), vec![json!(["body", 0, "time"]), json!(["body", 0, "lat"]), json!(["body", 0, "lon"])], "missing fields"),
        ];
        for (req, want, why) in cases {
            assert_422_at(app.put_json(&path, &ada.token, &req).await, &want, why).await;
        }
        let res = app.put_json(&path, &ada.token, &trace(100_001)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "more than 100,000 points");
        let b = body(res).await;
        assert_eq!(b["detail"][0]["loc"][0], json!("body"), "{}", b["detail"]);
        assert_eq!(b["detail"].as_array().unwrap().len(), 1, "one fault for the length, not one per point");
        let got = body(app.get(&path, &ada.token).await).await;
        assert_same_points(&got, &kept, "a refused trace changes nothing");
    }

    async fn a_wrong_type_in_a_trace_point_hides_none_of_the_other_faults(app) {
        let ada = app.account("ada@example.org").await;
        let a = id_of(&record(&app, &ada.token, &ada.id, &run("Run", "2026-11-28T07:00:00Z")).await);
        let path = format!("{}/{a}/trace", activities(&ada.id));
        let cases = [
            (json!([{"time": "2026-11-28T07:00:00Z", "lat": 91, "lon": -181, "heart_rate": 80.5},
                    {"time": "2026-11-28T07:00:01Z", "lat": 0, "lon": 0, "heart_rate": 301}]),
             vec![json!(["body", 0, "lat"]), json!(["body", 0, "lon"]), json!(["body", 0, "heart_rate"]),
                  json!(["body", 1, "heart_rate"])],
             "a wrong type beside range faults of the same point and of another"),
            (json!([{"time": "2026-11-28T07:00:00Z", "lat": 0, "lon": 0},
                    {"time": "2026-11-28T07:00:01Z", "lat": "north", "lon": 0},
                    {"time": "2026-11-28T07:00:02Z", "lat": 0, "lon": 200}]),
             vec![json!(["body", 1, "lat"]), json!(["body", 2, "lon"])],
             "a wrong type in one point, a range fault in the next"),
        ];
        for (req, want, why) in cases {
            assert_422_at(app.put_json(&path, &ada.token, &req).await, &want, why).await;
        }
    }

    async fn a_trace_over_16_mib_is_413_and_other_bodies_over_64_kib_too(app) {
        let ada = app.account("ada@example.org").await;
        let a = id_of(&record(&app, &ada.token, &ada.id, &run("Run", "2026-11-28T07:00:00Z")).await);
        let path = format!("{}/{a}/trace", activities(&ada.id));
        let mut huge = vec![b' '; 16 * 1024 * 1024 + 1];
        huge[0] = b'[';
        *huge.last_mut().unwrap() = b']';
        let res = app.request(Method::PUT, &path, Some(&ada.token))
            .header("content-type", "application/json").body(huge).send().await
            .expect("the server answers, not just closes the connection");
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "over 16 MiB");
        assert!(body(res).await["detail"].is_string());

        let big = json!({"name": "x".repeat(70_000), "sport": "running", "started_at": "2026-11-28T07:00:00Z"});
        let res = app.post_json(&activities(&ada.id), Some(&ada.token), &big).await;
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE, "an activity over 64 KiB");
        assert!(body(res).await["detail"].is_string());
        assert_eq!(body(app.get(&path, &ada.token).await).await, json!([]), "nothing stored");
    }

    async fn trace_coordinates_come_back_exactly_as_sent(app) {
        let ada = app.account("ada@example.org").await;
        let a = id_of(&record(&app, &ada.token, &ada.id, &run("Run", "2026-11-28T07:00:00Z")).await);
        let path = format!("{}/{a}/trace", activities(&ada.id));
        // 7.0 - 5023e-6 as f64, written the shortest way that reads back as
        // the same f64: a client that computes its coordinates sends this.
        let lon = 7.0 - 5023e-6_f64;
        assert_eq!(lon.to_string(), "6.9949770000000004");
        let raw = format!(r#"[{{"time": "2026-11-28T07:00:00Z", "lat": 45.005023, "lon": {lon}}}]"#);
        let res = app.request(Method::PUT, &path, Some(&ada.token))
            .header("content-type", "application/json").body(raw).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let text = app.get(&path, &ada.token).await.text().await.unwrap();
        assert!(text.contains(r#""lon":6.9949770000000004"#), "the number sent is the number stored: {text}");
    }

    async fn deleting_an_activity_removes_it_and_its_trace(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let a = id_of(&record(&app, &ada.token, &ada.id, &run("Run", "2026-11-28T07:00:00Z")).await);
        let other = id_of(&record(&app, &ada.token, &ada.id, &run("Other", "2026-11-28T08:00:00Z")).await);
        let one = format!("{}/{a}", activities(&ada.id));
        assert_eq!(app.put_json(&format!("{one}/trace"), &ada.token, &trace(10)).await.status(), StatusCode::NO_CONTENT);

        let res = app.delete(&one, &ada.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert!(res.bytes().await.unwrap().is_empty(), "204 has no body");
        let gone = json!({"detail": "Activity not found"});
        for (method, path, why) in [
            (Method::GET, one.clone(), "GET of the deleted activity"),
            (Method::GET, format!("{one}/trace"), "GET of its trace"),
            (Method::DELETE, one.clone(), "DELETE again"),
            (Method::GET, format!("{}/{}", activities(&ada.id), uuid::Uuid::new_v4()), "an unknown activity"),
            (Method::GET, format!("{}/not-a-uuid", activities(&ada.id)), "a non-UUID activity id"),
            (Method::GET, format!("{}/{other}", activities(&kim)), "an activity of another user"),
            (Method::GET, format!("{}/{other}/trace", activities(&kim)), "the trace of an activity of another user"),
        ] {
            let res = app.request(method, &path, Some(&ada.token)).send().await.unwrap();
            assert_eq!(status_and_body(res).await, (StatusCode::NOT_FOUND, gone.clone()), "{why}");
        }
        let res = app.put_json(&format!("{one}/trace"), &ada.token, &trace(2)).await;
        assert_eq!(status_and_body(res).await, (StatusCode::NOT_FOUND, gone.clone()), "PUT of its trace");
        let res = app.delete(&format!("{}/{other}", activities(&kim)), &ada.token).await;
        assert_eq!(status_and_body(res).await, (StatusCode::NOT_FOUND, gone.clone()), "DELETE under another user");
        assert_eq!(ids(&body(app.get(&activities(&ada.id), &ada.token).await).await), vec![other], "only the other is left");
    }

    async fn deleting_a_managed_user_leaves_no_row_naming_it(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let bob = app.account("bob@example.org").await;
        for i in 0..3 {
            let a = id_of(&record(&app, &ada.token, &kim, &run(&format!("Run {i}"), "2026-11-28T07:00:00Z")).await);
            let res = app.put_json(&format!("{}/{a}/trace", activities(&kim)), &ada.token, &trace(50)).await;
            assert_eq!(res.status(), StatusCode::NO_CONTENT);
        }
        share(&app, &ada, "bob@example.org", &["data:read", "data:write"], Some(&kim)).await;
        record(&app, &bob.token, &kim, &run("By bob", "2026-11-28T09:00:00Z")).await;
        let id: domain::UserId = kim.parse().unwrap();
        assert!(app.pool.get().unwrap().run(|c| persistence::users::rows_naming(c, id)).unwrap() > 0, "rows name kim before");

        let res = app.delete(&format!("/api/v1/users/{kim}"), &ada.token).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.pool.get().unwrap().run(|c| persistence::users::rows_naming(c, id)).unwrap(), 0, "no row names kim");
        assert_eq!(ids(&body(app.get("/api/v1/users/", &bob.token).await).await), vec![bob.id.clone()]);
        assert_eq!(body(app.get("/api/v1/shares/", &bob.token).await).await, json!({"granted": [], "received": []}));
        assert_eq!(body(app.get("/api/v1/shares/", &ada.token).await).await, json!({"granted": [], "received": []}));
        let res = app.get(&activities(&kim), &bob.token).await;
        assert_eq!(status_and_body(res).await, (StatusCode::NOT_FOUND, json!({"detail": "User not found"})));
    }
}
