use std::time::Duration;

use persistence::testing::TestDb;
use persistence::{Backend, Pool};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

pub const SECRET: &str = "test-secret-that-is-at-least-32-bytes-long";
pub const PASSWORD: &str = "correct horse battery";

/// Writes a test once and runs it on both backends, each on a database of
/// its own.
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($app:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[actix_rt::test]
            async fn postgres() {
                let $app = $crate::helpers::TestApp::spawn(persistence::Backend::Postgres).await;
                $body
            }
            #[actix_rt::test]
            async fn sqlite() {
                let $app = $crate::helpers::TestApp::spawn(persistence::Backend::Sqlite).await;
                $body
            }
        }
    )*};
}

pub struct TestApp {
    pub address: String,
    /// The metrics listener's port, when metrics have an address of their own.
    pub metrics_port: Option<u16>,
    pub client: Client,
    pub pool: Pool,
    pub config: server::Config,
    /// The event relay, when the config names a NATS server; stopped
    /// before the database goes. Held for its Drop.
    #[allow(dead_code)]
    pub relay: Option<server::relay::Relay>,
    // Held for its Drop, which drops the database; declared last so it
    // goes after the pool.
    pub db: TestDb,
}

/// A signed-in account.
pub struct Account {
    pub id: String,
    pub token: String,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut server::Config)) -> TestApp {
        Self::spawn_on(backend, TestDb::new(backend), tweak).await
    }

    /// A server over `db`, which it migrates at start as the binary does.
    pub async fn spawn_on(_backend: Backend, db: TestDb, tweak: impl FnOnce(&mut server::Config)) -> TestApp {
        let mut config = server::Config {
            bind_addr: "127.0.0.1:0".into(),
            database_url: db.url().to_owned(),
            jwt_secret: Some(SECRET.into()),
            workers: Some(2),
            pool_size: 5,
            pool_timeout: Duration::from_secs(2),
            shutdown_grace: Duration::from_secs(1),
            ..server::Config::default()
        };
        tweak(&mut config);
        let running = server::build(&config).expect("the server starts");
        let address = format!("http://127.0.0.1:{}", running.port);
        actix_rt::spawn(running.server);
        let metrics_port = running.metrics_server.map(|(metrics, port)| {
            actix_rt::spawn(metrics);
            port
        });
        // Idle connections are dropped well before the server's 5 s
        // keep-alive ends them: otherwise, on a loaded machine, a request
        // can go out on a connection the server is closing at that moment.
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        TestApp { address, metrics_port, client, pool: running.pool, config, relay: running.relay, db }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let req = self.client.request(method, self.url(path));
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.request(Method::GET, path, Some(token)).send().await.unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.request(Method::DELETE, path, Some(token)).send().await.unwrap()
    }

    pub async fn post_json(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.request(Method::POST, path, token).json(body).send().await.unwrap()
    }

    pub async fn put_json(&self, path: &str, token: &str, body: &Value) -> Response {
        self.request(Method::PUT, path, Some(token)).json(body).send().await.unwrap()
    }

    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post_json("/api/v1/auth/register", None, &json!({"email": email, "password": password})).await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.request(Method::POST, "/api/v1/auth/token", None).basic_auth(email, Some(password)).send().await.unwrap()
    }

    /// Registers `email` and signs in.
    pub async fn account(&self, email: &str) -> Account {
        let res = self.register(email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::CREATED, "register {email}");
        let id = body(res).await["id"].as_str().unwrap().to_owned();
        let res = self.sign_in(email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "sign in {email}");
        let token = body(res).await["access_token"].as_str().unwrap().to_owned();
        Account { id, token }
    }

    /// Registers `email`, makes it an admin (as the operator does) and
    /// signs in.
    pub async fn admin(&self, email: &str) -> Account {
        let account = self.account(email).await;
        let id: domain::UserId = account.id.parse().unwrap();
        self.pool.get().unwrap().run(|c| persistence::users::set_admin(c, id, true)).unwrap();
        account
    }

    /// Creates a managed user of `manager`; returns its id.
    pub async fn managed(&self, manager: &Account, first: &str) -> String {
        let res = self
            .post_json("/api/v1/users/", Some(&manager.token), &json!({"first_name": first, "last_name": null}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        body(res).await["id"].as_str().unwrap().to_owned()
    }

    /// Makes `who` (signed up as `email`) a co-manager of `user`: invited
    /// by `manager` (C1), then accepted.
    pub async fn co_manage(&self, manager: &Account, user: &str, who: &Account, email: &str) {
        let res = self
            .post_json(&format!("/api/v1/users/{user}/managers"), Some(&manager.token), &json!({"email": email}))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED, "invite {email}");
        let invitation = body(res).await["id"].as_str().unwrap().to_owned();
        let res = self
            .request(reqwest::Method::POST, &format!("/api/v1/invitations/{invitation}/accept"), Some(&who.token))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{email} accepts");
    }
}

pub async fn body(res: Response) -> Value {
    let text = res.text().await.unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text:?}"))
}

/// The keys of a JSON object, sorted.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    k.sort();
    k
}

/// Asserts a 422 whose entries have these (loc, type) pairs, in order.
pub async fn assert_422(res: Response, want: &[(Value, &str)], why: &str) {
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{why}");
    let b = body(res).await;
    let got: Vec<(Value, String)> = b["detail"]
        .as_array()
        .unwrap_or_else(|| panic!("{why}: detail is a list: {b}"))
        .iter()
        .map(|e| {
            assert!(e["msg"].as_str().is_some_and(|m| !m.is_empty()), "{why}: msg is a non-empty string: {e}");
            (e["loc"].clone(), e["type"].as_str().unwrap().to_owned())
        })
        .collect();
    let want: Vec<(Value, String)> = want.iter().map(|(l, t)| (l.clone(), (*t).to_owned())).collect();
    assert_eq!(got, want, "{why}: {b}");
}
