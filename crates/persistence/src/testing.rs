//! Throw-away databases for tests: each [`TestDb`] is a database of its
//! own, migrated, and dropped when the value is dropped.
//!
//! PostgreSQL comes from `TEST_DATABASE_URL` (default
//! `postgres://postgres:postgres@127.0.0.1:5432/postgres`, what
//! `docker compose up -d db` publishes; a local trust-auth server answers
//! too). Each test database is copied from a template migrated once per
//! migration set, which is much faster than migrating each one. SQLite
//! databases are temporary files (with `:memory:`, every pooled connection
//! would open a database of its own).

use std::sync::{Mutex, OnceLock};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::PgConnection;

use crate::{Backend, Pool, PoolOptions};

const DEFAULT_URL: &str = "postgres://postgres:postgres@127.0.0.1:5432/postgres";

/// A database that lives as long as this value.
pub struct TestDb {
    backend: Backend,
    url: String,
    name: String,
    pool: Option<Pool>,
}

fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned())
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn admin_connection() -> PgConnection {
    crate::init_tls();
    let url = admin_url();
    PgConnection::establish(&url).unwrap_or_else(|e| {
        panic!(
            "\n\nThe PostgreSQL tests need a server at TEST_DATABASE_URL ({url}): {e}\n\
             Start one with `docker compose up -d db`, or a local server \
             (`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`),\n\
             or point TEST_DATABASE_URL at one. These tests never pass by being skipped.\n\n"
        )
    })
}

/// A name for the template that changes whenever a migration does.
fn template_name() -> String {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for dir in ["postgres"] {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations/");
        let mut entries: Vec<_> =
            std::fs::read_dir(format!("{root}{dir}")).expect("migrations folder").flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries {
            for file in ["up.sql", "down.sql"] {
                std::fs::read_to_string(path.join(file)).unwrap_or_default().hash(&mut hasher);
            }
        }
    }
    format!("steward_template_{:016x}", hasher.finish())
}

/// Makes the template once per process; several processes may race, so an
/// advisory lock lets one build it while the others wait.
fn template() -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let name = template_name();
        let mut admin = admin_connection();
        admin.batch_execute("SELECT pg_advisory_lock(7355609)").expect("advisory lock");
        sweep_leftovers(&mut admin);
        let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
            "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
        )))
        .get_result(&mut admin)
        .expect("look for the template");
        if !exists {
            let building = format!("{name}_building");
            // Two calls: PostgreSQL runs a multi-statement string as one
            // transaction, and neither statement may run inside one.
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                .expect("drop old template");
            admin.batch_execute(&format!("CREATE DATABASE {building}")).expect("create the template");
            let pool = Pool::open(&with_database(&admin_url(), &building), &PoolOptions::default()).unwrap();
            pool.migrate().expect("migrate the template");
            drop(pool);
            // Renamed only once complete, so a crash never leaves a half-made template.
            admin.batch_execute(&format!("ALTER DATABASE {building} RENAME TO {name}")).expect("rename template");
        }
        admin.batch_execute("SELECT pg_advisory_unlock(7355609)").expect("advisory unlock");
        name
    })
}

/// Drops test databases left by processes that died before dropping them
/// (their names carry the pid; a pid that no longer runs left them).
fn sweep_leftovers(admin: &mut PgConnection) {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let names: Vec<Name> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%'")
        .load(admin)
        .unwrap_or_default();
    for Name { datname } in names {
        let pid = datname.split('_').nth(1).and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)"));
            }
        }
    }
}

impl TestDb {
    /// A fresh PostgreSQL database, migrated. Panics, saying how to start
    /// a server, when none answers.
    pub fn postgres() -> TestDb {
        let template = template();
        let name = format!("test_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
        // CREATE DATABASE refuses to copy a template that another CREATE
        // is copying at the same moment; take turns within the process.
        static CREATING: Mutex<()> = Mutex::new(());
        {
            let _turn = CREATING.lock().unwrap_or_else(|e| e.into_inner());
            admin_connection()
                .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .expect("create test database");
        }
        let url = with_database(&admin_url(), &name);
        TestDb { backend: Backend::Postgres, url, name, pool: None }
    }

    /// A fresh SQLite database in a temporary file, migrated.
    pub fn sqlite() -> TestDb {
        let name = format!("steward-test-{}-{}.db", std::process::id(), uuid::Uuid::new_v4().simple());
        let path = std::env::temp_dir().join(name);
        let url = format!("sqlite://{}", path.display());
        let pool = Pool::open(&url, &PoolOptions::default()).expect("open sqlite");
        pool.migrate().expect("migrate sqlite");
        TestDb { backend: Backend::Sqlite, url, name: path.display().to_string(), pool: Some(pool) }
    }

    /// A fresh, empty database: no migration applied (for a test that
    /// builds one at an older schema, see [`crate::migrate_up_to`]).
    pub fn empty(backend: Backend) -> TestDb {
        match backend {
            Backend::Postgres => {
                let name = format!("test_{}_{}", std::process::id(), uuid::Uuid::new_v4().simple());
                admin_connection().batch_execute(&format!("CREATE DATABASE {name}")).expect("create test database");
                let url = with_database(&admin_url(), &name);
                TestDb { backend, url, name, pool: None }
            }
            Backend::Sqlite => {
                let name = format!("steward-test-{}-{}.db", std::process::id(), uuid::Uuid::new_v4().simple());
                let path = std::env::temp_dir().join(name);
                let url = format!("sqlite://{}", path.display());
                TestDb { backend, url, name: path.display().to_string(), pool: None }
            }
        }
    }

    /// Runs `sql` (several statements) on this database, on a connection
    /// of its own, without a pool's checks: for seeding a database at an
    /// older schema.
    pub fn execute(&self, sql: &str) {
        let mut conn = crate::AnyConnection::establish(match self.backend {
            Backend::Postgres => self.url.as_str(),
            Backend::Sqlite => crate::sqlite_file(&self.url),
        })
        .expect("connect");
        conn.batch_execute(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    }

    pub fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Postgres => TestDb::postgres(),
            Backend::Sqlite => TestDb::sqlite(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name (PostgreSQL) or file (SQLite).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Cuts the database off (PostgreSQL): ends every connection to it and
    /// refuses new ones, as if the server were gone. [`TestDb::restore`]
    /// lets connections in again.
    pub fn cut(&self) {
        admin_connection()
            .batch_execute(&format!("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false", self.name))
            .expect("refuse connections");
        self.end_connections();
    }

    /// Ends every open connection to this database, as a server restart
    /// does, and goes on accepting new ones.
    pub fn end_connections(&self) {
        admin_connection()
            .batch_execute(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}'",
                self.name
            ))
            .expect("end connections");
    }

    pub fn restore(&self) {
        admin_connection()
            .batch_execute(&format!("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true", self.name))
            .expect("allow connections");
    }

    /// A pool on this database, made on first use.
    pub fn pool(&mut self) -> &Pool {
        let url = self.url.clone();
        self.pool.get_or_insert_with(|| Pool::open(&url, &PoolOptions::default()).expect("open test pool"))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        // Close our pool first: PostgreSQL refuses DROP DATABASE while we
        // hold connections (FORCE ends anyone else's, such as a server
        // under test that is still shutting down).
        self.pool.take();
        match self.backend {
            Backend::Postgres => {
                if let Ok(mut admin) = PgConnection::establish(&admin_url()) {
                    let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
                }
            }
            Backend::Sqlite => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.name));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_names_are_replaced_in_urls() {
        assert_eq!(with_database("postgres://u:p@h:5432/postgres", "x"), "postgres://u:p@h:5432/x");
        assert_eq!(with_database("postgres://h/db?sslmode=disable", "x"), "postgres://h/x?sslmode=disable");
        assert_eq!(with_database("postgres://h:5432", "x"), "postgres://h:5432/x");
    }
}
