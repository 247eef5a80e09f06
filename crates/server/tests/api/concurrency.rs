//! Races that must leave the database whole.

use reqwest::StatusCode;
use serde_json::json;

use crate::on_both_backends;

on_both_backends! {
    async fn deleting_a_user_while_its_activities_are_written_leaves_no_orphan_rows(app) {
        let ada = app.account("ada@example.org").await;
        let kim = app.managed(&ada, "Kim").await;
        let path = format!("/api/v1/users/{kim}/activities");
        let activity = json!({"name": "run", "sport": "running", "started_at": "2026-11-28T07:00:00Z"});
        let writers = (0..12).map(|_| app.post_json(&path, Some(&ada.token), &activity));
        let user_path = format!("/api/v1/users/{kim}");
        let delete = app.delete(&user_path, &ada.token);
        let (writes, deleted) = tokio::join!(futures_util::future::join_all(writers), delete);
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        for res in writes {
            let status = res.status();
            assert!(
                status == StatusCode::CREATED || status == StatusCode::NOT_FOUND,
                "each write either happened before the delete or finds the user gone: {status}"
            );
        }
        let mut conn = app.pool.get().unwrap();
        assert_eq!(persistence::users::rows_naming(&mut conn, kim.parse().unwrap()).unwrap(), 0, "no orphan rows");
    }
}
