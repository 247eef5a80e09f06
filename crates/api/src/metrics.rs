//! Prometheus metrics beyond the per-route ones (which the server's
//! `actix-web-prom` middleware records): the database pool and sign-ins.

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge, Opts, Registry};

/// Handles to Steward's own metrics, all in one registry.
#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    /// Sign-ins refused for a wrong e-mail or password.
    pub signin_failures: IntCounter,
    /// Sign-ins refused by the throttle (429).
    pub signin_throttled: IntCounter,
    /// How long requests waited for a database connection.
    pub pool_wait: Histogram,
    /// Requests that got no connection within the timeout (answered 503).
    pub pool_timeouts: IntCounter,
}

impl Metrics {
    pub fn new(pool: &persistence::Pool) -> Result<Metrics, prometheus::Error> {
        let registry = Registry::new();
        let signin_failures =
            IntCounter::with_opts(Opts::new("steward_signin_failures_total", "Sign-ins refused for bad credentials"))?;
        let signin_throttled = IntCounter::with_opts(Opts::new(
            "steward_signin_throttled_total",
            "Sign-ins refused by the throttle (429)",
        ))?;
        let pool_wait = Histogram::with_opts(
            HistogramOpts::new("steward_db_pool_wait_seconds", "Time spent waiting for a database connection")
                .buckets(vec![0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]),
        )?;
        let pool_timeouts = IntCounter::with_opts(Opts::new(
            "steward_db_pool_timeouts_total",
            "Requests that got no database connection in time",
        ))?;
        registry.register(Box::new(signin_failures.clone()))?;
        registry.register(Box::new(signin_throttled.clone()))?;
        registry.register(Box::new(pool_wait.clone()))?;
        registry.register(Box::new(pool_timeouts.clone()))?;
        registry.register(Box::new(PoolCollector::new(pool.clone())?))?;
        Ok(Metrics { registry, signin_failures, signin_throttled, pool_wait, pool_timeouts })
    }

    /// The registry's metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        use prometheus::Encoder;
        let mut out = Vec::new();
        let _ = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Reads the pool's state when scraped, so the figures are never stale.
struct PoolCollector {
    pool: persistence::Pool,
    size: IntGauge,
    idle: IntGauge,
    max: IntGauge,
    statements: prometheus::IntCounter,
    argon2: prometheus::IntCounter,
}

impl PoolCollector {
    fn new(pool: persistence::Pool) -> Result<Self, prometheus::Error> {
        Ok(PoolCollector {
            pool,
            size: IntGauge::new("steward_db_pool_connections", "Open database connections")?,
            idle: IntGauge::new("steward_db_pool_idle_connections", "Idle database connections")?,
            max: IntGauge::new("steward_db_pool_max_connections", "The pool's configured size")?,
            statements: IntCounter::new("steward_db_statements_total", "SQL statements run")?,
            argon2: IntCounter::new(
                "steward_argon2_runs_total",
                "Argon2id hashes and verifications this process started",
            )?,
        })
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        [&self.size, &self.idle, &self.max]
            .into_iter()
            .flat_map(|g| g.desc())
            .chain(self.statements.desc())
            .chain(self.argon2.desc())
            .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let state = self.pool.state();
        self.size.set(i64::from(state.connections));
        self.idle.set(i64::from(state.idle_connections));
        self.max.set(i64::from(self.pool.max_size()));
        let total = self.pool.statement_count();
        let seen = self.statements.get();
        self.statements.inc_by(total.saturating_sub(seen));
        let runs = crate::auth::argon2_runs();
        self.argon2.inc_by(runs.saturating_sub(self.argon2.get()));
        [&self.size, &self.idle, &self.max]
            .into_iter()
            .flat_map(|g| g.collect())
            .chain(self.statements.collect())
            .chain(self.argon2.collect())
            .collect()
    }
}
