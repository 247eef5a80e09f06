//! Configuration from the environment (and a `.env` file, read by `main`).
//! Every variable, its default and its meaning is in the README's table
//! and in `.env.example`.

use std::path::Path;
use std::time::Duration;

use persistence::Backend;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {why}")]
    Invalid { name: &'static str, why: String },
    #[error(
        "JWT_SECRET is not set. With PostgreSQL, every replica must sign with the same secret: \
         set JWT_SECRET to at least 32 random bytes (e.g. `openssl rand -hex 32`)."
    )]
    MissingSecret,
    #[error("JWT_SECRET must be at least 32 bytes long (it is {0})")]
    ShortSecret(usize),
    #[error("cannot keep the signing secret at {path}: {why}")]
    SecretFile { path: String, why: String },
}

/// The default database: a SQLite file under `./data/`.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/steward.db";

#[derive(Clone)]
pub struct Config {
    pub bind_addr: String,
    pub database_url: String,
    pub jwt_secret: Option<String>,
    pub token_ttl: chrono::Duration,
    pub max_session: chrono::Duration,
    pub registration_open: bool,
    pub cookie_secure: bool,
    pub pool_size: u32,
    pub pool_timeout: Duration,
    pub body_limit: usize,
    pub trace_body_limit: usize,
    pub trust_forwarded_for: bool,
    pub shutdown_grace: Duration,
    pub workers: Option<usize>,
    /// How long a client has to send a request's head before a 408
    /// (`REQUEST_TIMEOUT_MS`): slow clients cannot hold connections open.
    pub request_timeout: Duration,
    /// Serve `GET /metrics` (`METRICS`).
    pub metrics: bool,
    /// Serve metrics on this address instead of `BIND_ADDR` (`METRICS_BIND_ADDR`).
    pub metrics_bind_addr: Option<String>,
    /// Publish events to NATS JetStream there (`EVENTS_NATS_URL`).
    pub events_nats_url: Option<String>,
    /// How long events are kept (`EVENTS_RETENTION_DAYS`): by
    /// `purge-expired`, and by the JetStream stream.
    pub events_retention: chrono::Duration,
    /// How long access-log entries are kept (`ACCESS_LOG_RETENTION_DAYS`,
    /// default six years); `purge-expired` drops older ones.
    pub access_log_retention: chrono::Duration,
    /// The issuer in TOTP enrollment URIs (`MFA_ISSUER`).
    pub mfa_issuer: String,
    /// The key sealing TOTP secrets, 64 hex digits (`MFA_ENCRYPTION_KEY`);
    /// without it, one derived from the signing secret.
    pub mfa_encryption_key: Option<String>,
    /// How stale a sign-in's `last_used_at` may get (`SIGN_IN_TOUCH_SECONDS`).
    pub sign_in_touch: chrono::Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind_addr", &self.bind_addr)
            .field("backend", &Backend::of_url(&self.database_url))
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "***"))
            .field("token_ttl", &self.token_ttl)
            .field("registration_open", &self.registration_open)
            .field("mfa_issuer", &self.mfa_issuer)
            .field("mfa_encryption_key", &self.mfa_encryption_key.as_ref().map(|_| "***"))
            .field("events_nats", &self.events_nats_url.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind_addr: "127.0.0.1:8080".into(),
            database_url: DEFAULT_DATABASE_URL.into(),
            jwt_secret: None,
            token_ttl: chrono::Duration::seconds(3600),
            max_session: chrono::Duration::days(30),
            registration_open: true,
            cookie_secure: false,
            pool_size: 10,
            pool_timeout: Duration::from_secs(5),
            body_limit: 64 * 1024,
            trace_body_limit: 16 * 1024 * 1024,
            trust_forwarded_for: false,
            shutdown_grace: Duration::from_secs(30),
            workers: None,
            request_timeout: Duration::from_secs(5),
            metrics: true,
            metrics_bind_addr: None,
            events_nats_url: None,
            events_retention: chrono::Duration::days(30),
            access_log_retention: chrono::Duration::days(2190),
            mfa_issuer: "Steward".into(),
            mfa_encryption_key: None,
            sign_in_touch: chrono::Duration::seconds(300),
        }
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn parse<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match var(name) {
        None => Ok(default),
        Some(v) => v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid { name, why: e.to_string() }),
    }
}

fn flag(name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(name).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if ["1", "true", "yes", "on"].contains(&v.as_str()) => Ok(true),
        Some(v) if ["0", "false", "no", "off"].contains(&v.as_str()) => Ok(false),
        Some(v) => Err(ConfigError::Invalid { name, why: format!("{v:?} is not a boolean") }),
    }
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        let d = Config::default();
        let registration = var("REGISTRATION").unwrap_or_else(|| "open".into()).to_ascii_lowercase();
        let registration_open = match registration.as_str() {
            "open" => true,
            "closed" => false,
            other => {
                return Err(ConfigError::Invalid {
                    name: "REGISTRATION",
                    why: format!("{other:?}: use open or closed"),
                })
            }
        };
        let ttl: i64 = parse("TOKEN_TTL_SECONDS", 3600)?;
        if !(60..=86_400).contains(&ttl) {
            return Err(ConfigError::Invalid { name: "TOKEN_TTL_SECONDS", why: "use 60 to 86400".into() });
        }
        let pool_size: u32 = parse("DATABASE_POOL_SIZE", d.pool_size)?;
        if pool_size == 0 {
            return Err(ConfigError::Invalid { name: "DATABASE_POOL_SIZE", why: "must be at least 1".into() });
        }
        Ok(Config {
            bind_addr: var("BIND_ADDR").unwrap_or(d.bind_addr),
            database_url: var("DATABASE_URL").unwrap_or(d.database_url),
            jwt_secret: var("JWT_SECRET"),
            token_ttl: chrono::Duration::seconds(ttl),
            max_session: match parse("SESSION_MAX_DAYS", 30i64)? {
                days @ 1..=365 => chrono::Duration::days(days),
                _ => return Err(ConfigError::Invalid { name: "SESSION_MAX_DAYS", why: "use 1 to 365".into() }),
            },
            registration_open,
            cookie_secure: flag("COOKIE_SECURE", d.cookie_secure)?,
            pool_size,
            pool_timeout: Duration::from_millis(parse("DATABASE_TIMEOUT_MS", 5000)?),
            body_limit: parse("BODY_LIMIT_BYTES", d.body_limit)?,
            trace_body_limit: parse("TRACE_BODY_LIMIT_BYTES", d.trace_body_limit)?,
            trust_forwarded_for: flag("TRUST_X_FORWARDED_FOR", d.trust_forwarded_for)?,
            shutdown_grace: Duration::from_secs(parse("SHUTDOWN_GRACE_SECONDS", 30)?),
            workers: match var("WORKERS") {
                None => None,
                Some(_) => match parse("WORKERS", 0usize)? {
                    n @ 1..=512 => Some(n),
                    _ => return Err(ConfigError::Invalid { name: "WORKERS", why: "use 1 to 512".into() }),
                },
            },
            request_timeout: Duration::from_millis(parse("REQUEST_TIMEOUT_MS", 5000)?),
            metrics: flag("METRICS", d.metrics)?,
            metrics_bind_addr: var("METRICS_BIND_ADDR"),
            events_nats_url: var("EVENTS_NATS_URL"),
            events_retention: match parse("EVENTS_RETENTION_DAYS", 30i64)? {
                days @ 1..=3650 => chrono::Duration::days(days),
                _ => return Err(ConfigError::Invalid { name: "EVENTS_RETENTION_DAYS", why: "use 1 to 3650".into() }),
            },
            access_log_retention: match parse("ACCESS_LOG_RETENTION_DAYS", 2190i64)? {
                days @ 1..=36_500 => chrono::Duration::days(days),
                _ => {
                    return Err(ConfigError::Invalid {
                        name: "ACCESS_LOG_RETENTION_DAYS",
                        why: "use 1 to 36500".into(),
                    })
                }
            },
            mfa_issuer: match var("MFA_ISSUER") {
                None => d.mfa_issuer,
                Some(v) if v.contains(':') => {
                    return Err(ConfigError::Invalid { name: "MFA_ISSUER", why: "must not contain ':'".into() })
                }
                Some(v) => v.trim().to_owned(),
            },
            mfa_encryption_key: match var("MFA_ENCRYPTION_KEY") {
                Some(v) if api::auth::mfa::MfaKey::from_hex(&v).is_none() => {
                    return Err(ConfigError::Invalid {
                        name: "MFA_ENCRYPTION_KEY",
                        why: "use 32 bytes as 64 hex digits (e.g. `openssl rand -hex 32`)".into(),
                    })
                }
                v => v,
            },
            sign_in_touch: match parse("SIGN_IN_TOUCH_SECONDS", 300i64)? {
                secs @ 1..=86_400 => chrono::Duration::seconds(secs),
                _ => return Err(ConfigError::Invalid { name: "SIGN_IN_TOUCH_SECONDS", why: "use 1 to 86400".into() }),
            },
        })
    }

    /// The key TOTP secrets are sealed with: `MFA_ENCRYPTION_KEY`, else
    /// HKDF of the signing secret (so replicas agree without more config).
    pub fn mfa_key(&self, signing_secret: &[u8]) -> api::auth::mfa::MfaKey {
        self.mfa_encryption_key
            .as_deref()
            .and_then(api::auth::mfa::MfaKey::from_hex)
            .unwrap_or_else(|| api::auth::mfa::MfaKey::derived_from(signing_secret))
    }

    /// The HS256 key. `JWT_SECRET` when set (at least 32 bytes). Without
    /// it, the embedded SQLite default makes a random one once and keeps
    /// it beside its database (mode 0600), so tokens survive restarts;
    /// PostgreSQL, where replicas must agree, refuses to start.
    pub fn signing_secret(&self) -> Result<Vec<u8>, ConfigError> {
        if let Some(secret) = &self.jwt_secret {
            if secret.len() < 32 {
                return Err(ConfigError::ShortSecret(secret.len()));
            }
            return Ok(secret.as_bytes().to_vec());
        }
        if Backend::of_url(&self.database_url) == Backend::Postgres {
            return Err(ConfigError::MissingSecret);
        }
        let db_path = persistence::sqlite_file(&self.database_url);
        let dir = Path::new(db_path).parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        load_or_create_secret(&dir.join("jwt-secret"))
    }
}

fn load_or_create_secret(path: &Path) -> Result<Vec<u8>, ConfigError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let err = |why: String| ConfigError::SecretFile { path: path.display().to_string(), why };
    if let Ok(existing) = std::fs::read_to_string(path) {
        let secret = existing.trim().to_owned();
        if secret.len() >= 32 {
            return Ok(secret.into_bytes());
        }
        return Err(err("the file holds fewer than 32 bytes".into()));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| err(e.to_string()))?;
    }
    let secret: String = {
        use rand::RngCore;
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    };
    // create_new: two processes starting at once do not overwrite each other.
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(mut file) => {
            file.write_all(secret.as_bytes()).map_err(|e| err(e.to_string()))?;
            Ok(secret.into_bytes())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_secret(path),
        Err(e) => Err(err(e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sqlite_config(dir: &Path) -> Config {
        Config { database_url: format!("sqlite://{}/steward.db", dir.display()), ..Config::default() }
    }

    #[test]
    fn the_embedded_default_keeps_one_secret_in_its_data_directory() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("steward-secret-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = sqlite_config(&dir).signing_secret().unwrap();
        let second = sqlite_config(&dir).signing_secret().unwrap();
        assert_eq!(first, second, "made once, then reused: tokens survive restarts");
        assert!(first.len() >= 32);
        let mode = std::fs::metadata(dir.join("jwt-secret")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by the owner only");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn postgres_needs_a_secret_of_32_bytes_or_more() {
        let pg = Config { database_url: "postgres://localhost/steward".into(), ..Config::default() };
        assert!(matches!(pg.signing_secret(), Err(ConfigError::MissingSecret)));
        let short = Config { jwt_secret: Some("x".repeat(31)), ..pg.clone() };
        assert!(matches!(short.signing_secret(), Err(ConfigError::ShortSecret(31))));
        let good = Config { jwt_secret: Some("x".repeat(32)), ..pg };
        assert_eq!(good.signing_secret().unwrap().len(), 32);
    }
}
