//! The `steward` server: configuration, start-up and the operator's
//! commands. [`build`] is what `steward serve` runs, and what the tests run
//! on port 0.

pub mod batch;
mod config;
pub mod relay;

use std::net::TcpListener;
use std::time::Duration;

use actix_web::middleware::{from_fn, Compress};
use actix_web::{web, App, HttpServer};
use actix_web_prom::PrometheusMetricsBuilder;
use api::auth::{TokenConfig, Tokens};
use api::{ApiConfig, AppState, Db};
use persistence::{Pool, PoolOptions};
use utoipa_actix_web::AppExt;

pub use config::{Config, ConfigError};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("database: {0}")]
    Store(#[from] persistence::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: String, source: std::io::Error },
    #[error("{0}")]
    Other(String),
}

/// A server made by [`build`], not yet awaited.
pub struct Running {
    pub server: actix_web::dev::Server,
    pub port: u16,
    /// The metrics listener, when `METRICS_BIND_ADDR` puts it apart.
    pub metrics_server: Option<(actix_web::dev::Server, u16)>,
    pub pool: Pool,
    /// The event relay, when `EVENTS_NATS_URL` is set; dropping it stops it.
    pub relay: Option<relay::Relay>,
}

fn other(e: impl std::fmt::Display) -> StartError {
    StartError::Other(e.to_string())
}

/// Opens the pool, applies migrations, and binds the HTTP server.
pub fn build(config: &Config) -> Result<Running, StartError> {
    let secret = config.signing_secret()?;
    let pool = Pool::open(
        &config.database_url,
        &PoolOptions { max_size: config.pool_size, connection_timeout: config.pool_timeout },
    )?;
    let applied = pool.migrate()?;
    if !applied.is_empty() {
        tracing::info!(migrations = ?applied, "applied migrations");
    }
    let mfa_key = config.mfa_key(&secret);
    let tokens = Tokens::new(TokenConfig {
        secret,
        ttl: config.token_ttl,
        max_session: config.max_session,
        issuer: "steward".into(),
        audience: "steward".into(),
    })
    .map_err(StartError::Other)?;
    let metrics = api::metrics::Metrics::new(&pool).map_err(other)?;
    // Make the dummy hash now, off the start-up path, so that even the first
    // sign-in for an unknown e-mail costs what a wrong password does.
    std::thread::spawn(api::auth::warm_up);
    let db = Db::new(pool.clone(), &metrics);
    let relay = match &config.events_nats_url {
        None => None,
        Some(url) => {
            let relay_config =
                relay::RelayConfig { nats_url: url.clone(), max_age: config.events_retention.to_std().map_err(other)? };
            Some(relay::Relay::start(relay_config, pool.clone(), db.written(), db.writer_turn()).map_err(other)?)
        }
    };
    let state = web::Data::new(AppState {
        db,
        metrics: metrics.clone(),
        tokens,
        mfa_key,
        config: ApiConfig {
            registration_open: config.registration_open,
            cookie_secure: config.cookie_secure,
            body_limit: config.body_limit,
            trace_body_limit: config.trace_body_limit,
            trust_forwarded_for: config.trust_forwarded_for,
            mfa_issuer: config.mfa_issuer.clone(),
            sign_in_touch: config.sign_in_touch,
        },
    });
    let listener = TcpListener::bind(&config.bind_addr)
        .map_err(|source| StartError::Bind { addr: config.bind_addr.clone(), source })?;
    let port = listener.local_addr().map_err(|e| StartError::Other(e.to_string()))?.port();
    let body_limit = config.body_limit;
    // Requests by route template (never the raw path: ids would make a
    // series per user) and status, and their latency.
    let mut prometheus = PrometheusMetricsBuilder::new("steward")
        .registry(metrics.registry.clone())
        .mask_unmatched_patterns("UNMATCHED")
        // The docs' assets are static files, not API traffic.
        .exclude_regex("^/docs")
        .buckets(&[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]);
    if config.metrics && config.metrics_bind_addr.is_none() {
        prometheus = prometheus.endpoint("/metrics");
    }
    let prometheus = prometheus.build().map_err(other)?;
    let mut server = HttpServer::new(move || {
        App::new()
            .into_utoipa_app()
            .configure(api::configure)
            .into_app()
            .app_data(state.clone())
            // The form extractor of the sign-in endpoint obeys the same limit.
            .app_data(web::FormConfig::default().limit(body_limit))
            .wrap(from_fn(api::auth::add_refreshed_token))
            .wrap(Compress::default())
            .wrap(from_fn(api::header_limit::limit_headers))
            .wrap(prometheus.clone())
            // Outermost, so the request's span covers every layer; the id
            // header is set just inside it.
            .wrap(from_fn(api::request_log::return_request_id))
            .wrap(api::request_log::logger())
    })
    .listen(listener)
    .map_err(|source| StartError::Bind { addr: config.bind_addr.clone(), source })?
    // Signals are the binary's business (`main` stops gracefully on both
    // SIGTERM and Ctrl-C; actix would force-stop on SIGINT).
    .disable_signals()
    .client_request_timeout(config.request_timeout)
    .client_disconnect_timeout(Duration::from_secs(1))
    .shutdown_timeout(config.shutdown_grace.as_secs());
    let workers = config.workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    server = server.workers(workers).worker_max_blocking_threads(blocking_threads(config.pool_size, workers));
    let metrics_server = match (&config.metrics_bind_addr, config.metrics) {
        (Some(addr), true) => Some(metrics_server(addr, metrics)?),
        _ => None,
    };
    Ok(Running { server: server.run(), port, metrics_server, pool, relay })
}

/// Blocking threads per worker, so that the process has about as many as
/// pooled connections plus hashing turns (one per core). Queries wait for a
/// connection in the blocking pool's queue, where a thread that finishes
/// one task takes the next without sleeping; with actix's default (512 in
/// all) they waited on the connection pool instead, 90 threads under 64
/// connections, and each checkout cost two context switches. Measured on
/// the list endpoint: +25 % requests/s. Argon2 runs on threads of its own
/// (api::auth::hash), so sign-ins never hold these threads.
pub fn blocking_threads(pool_size: u32, workers: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (pool_size as usize + cores).div_ceil(workers.max(1)).max(2)
}

/// `GET /metrics` alone, on its own address (e.g. one only the monitoring
/// network reaches).
fn metrics_server(addr: &str, metrics: api::metrics::Metrics) -> Result<(actix_web::dev::Server, u16), StartError> {
    let listener = TcpListener::bind(addr).map_err(|source| StartError::Bind { addr: addr.to_owned(), source })?;
    let port = listener.local_addr().map_err(other)?.port();
    let server = HttpServer::new(move || {
        let metrics = metrics.clone();
        App::new().route(
            "/metrics",
            web::get().to(move || {
                let body = metrics.render();
                async move { actix_web::HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(body) }
            }),
        )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .map_err(|source| StartError::Bind { addr: addr.to_owned(), source })?
    .run();
    Ok((server, port))
}

/// Turns off the second factor of the account with this e-mail and
/// revokes all of its sign-ins: for a person who lost both phone and
/// recovery codes. Whether a factor was on; an error when no account has
/// the e-mail. For `steward mfa-off`.
pub fn mfa_off(config: &Config, email: &str) -> Result<bool, StartError> {
    let normalized = domain::Email::normalize(email);
    let pool = Pool::open(&config.database_url, &PoolOptions::default())?;
    pool.migrate()?;
    let mut conn = pool.get()?;
    let was_on = conn.run(|c| {
        persistence::transaction(c, |c| {
            let Some((user, _)) = persistence::users::find_account_by_email(c, &normalized)? else {
                return Ok(None);
            };
            persistence::managers::lock_users(c, &[user.id])?;
            let was_on = persistence::mfa::delete(c, user.id, true)?;
            persistence::sessions::revoke_all(c, user.id, None, persistence::now())?;
            Ok(Some(was_on))
        })
    })?;
    was_on.ok_or_else(|| StartError::Other(format!("no account has the e-mail {email}")))
}

/// Creates an admin account, or makes an existing account an admin and
/// sets its password. For `steward create-admin`.
pub fn create_admin(config: &Config, email: &str, password: &str) -> Result<domain::User, StartError> {
    let email = domain::Email::parse(email).map_err(|e| StartError::Other(format!("e-mail: {e}")))?;
    let password = domain::Password::parse(password).map_err(|e| StartError::Other(format!("password: {e}")))?;
    let pool = Pool::open(&config.database_url, &PoolOptions::default())?;
    pool.migrate()?;
    let hash = api::auth::hash_password(password.expose()).map_err(|e| StartError::Other(e.to_string()))?;
    let mut conn = pool.get()?;
    let user = conn.run(|c| {
        persistence::transaction(c, |c| match persistence::users::find_account_by_email(c, email.normalized())? {
            Some((user, _)) => {
                persistence::users::set_password_hash(c, user.id, &hash)?;
                persistence::users::set_admin(c, user.id, true)?;
                Ok(domain::User { admin: true, ..user })
            }
            None => {
                let new = persistence::users::NewAccount {
                    email: &email,
                    password_hash: &hash,
                    first_name: None,
                    last_name: None,
                    admin: true,
                };
                persistence::users::create_account(c, &new, persistence::now())
            }
        })
    })?;
    Ok(user)
}
