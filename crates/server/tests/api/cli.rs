//! The `steward` binary's commands.

use std::io::Write;
use std::process::{Command, Stdio};

fn steward() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_steward"));
    // A clean slate: no .env from the working directory, no inherited config.
    cmd.current_dir(std::env::temp_dir());
    for var in ["DATABASE_URL", "JWT_SECRET", "BIND_ADDR", "REGISTRATION"] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn help_explains_every_command() {
    let out = steward().arg("--help").output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for word in ["serve", "migrate", "create-admin", "mfa-off", "openapi", "DATABASE_URL", "JWT_SECRET"] {
        assert!(text.contains(word), "--help mentions {word}:\n{text}");
    }
}

#[test]
fn openapi_prints_the_document() {
    let out = steward().arg("openapi").output().unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(doc["paths"]["/api/v1/users/"].is_object());
}

#[test]
fn postgres_without_a_secret_refuses_to_start_with_a_clear_message() {
    let out = steward()
        .args(["serve"])
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
        .env("BIND_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("JWT_SECRET"), "{err}");
}

#[test]
fn a_short_secret_is_refused() {
    let out =
        steward().args(["serve"]).env("JWT_SECRET", "too-short").env("BIND_ADDR", "127.0.0.1:0").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("at least 32 bytes"));
}

#[test]
fn create_admin_reads_the_password_from_stdin_and_migrate_is_idempotent() {
    let dir = std::env::temp_dir().join(format!("steward-cli-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/steward.db", dir.display());
    let out = steward().arg("migrate").env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let again = steward().arg("migrate").env("DATABASE_URL", &url).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("applied 0"), "nothing left to apply");

    let mut child = steward()
        .args(["create-admin", "--email", "root@example.org"])
        .env("DATABASE_URL", &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"an admin passphrase\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("root@example.org"));

    let pool = persistence::Pool::open(&url, &persistence::PoolOptions::default()).unwrap();
    let mut conn = pool.get().unwrap();
    let (user, _) = conn.run(|c| persistence::users::find_account_by_email(c, "root@example.org")).unwrap().unwrap();
    assert!(user.admin);
    drop(conn);
    drop(pool);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn the_batch_commands_run_without_the_server() {
    let dir = std::env::temp_dir().join(format!("steward-cli-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/steward.db", dir.display());
    let out = steward().arg("purge-expired").env("DATABASE_URL", &url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("purged 0 expired share(s)"));
    let missing = uuid::Uuid::new_v4();
    let out = steward().args(["export", "--user", &missing.to_string()]).env("DATABASE_URL", &url).output().unwrap();
    assert!(!out.status.success(), "no such user");
    assert!(String::from_utf8_lossy(&out.stderr).contains(&missing.to_string()));
    let out = steward().args(["export", "--user", "nope"]).env("DATABASE_URL", &url).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("UUID"));
    let _ = std::fs::remove_dir_all(dir);
}

/// `steward mfa-off`, through the binary, on a database a server uses.
#[actix_rt::test]
async fn mfa_off_turns_the_factor_off_and_revokes_every_sign_in() {
    use crate::helpers::{body, TestApp, PASSWORD};
    let app = TestApp::spawn(persistence::Backend::Sqlite).await;
    let ada = app.account("ada@example.org").await;
    crate::mfa::turn_on(&app, &ada).await;
    assert_eq!(app.sign_in("ada@example.org", PASSWORD).await.status(), reqwest::StatusCode::UNAUTHORIZED);

    let out = steward().args(["mfa-off", "nobody@example.org"]).env("DATABASE_URL", app.db.url()).output().unwrap();
    assert!(!out.status.success(), "no such account");
    assert!(String::from_utf8_lossy(&out.stderr).contains("nobody@example.org"));

    let out = steward().args(["mfa-off", "Ada@Example.org"]).env("DATABASE_URL", app.db.url()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("second factor off"));
    assert_eq!(
        app.get("/api/v1/auth/me", &ada.token).await.status(),
        reqwest::StatusCode::UNAUTHORIZED,
        "sign-ins revoked"
    );
    let res = app.sign_in("ada@example.org", PASSWORD).await;
    assert_eq!(res.status(), reqwest::StatusCode::OK, "the password alone again");
    let token = body(res).await["access_token"].as_str().unwrap().to_owned();
    let mfa = body(app.get("/api/v1/auth/mfa", &token).await).await;
    assert_eq!(mfa, serde_json::json!({"totp": false, "enabled_at": null, "recovery_codes_left": 0}));

    let out = steward().args(["mfa-off", "ada@example.org"]).env("DATABASE_URL", app.db.url()).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("had no second factor on"));
}
