//! The migrations of both backends, embedded in the binary and applied at
//! start.

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::{AnyConnection, StoreError};

const PG_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");

/// Applies the pending migrations of this connection's backend; the names
/// of those applied.
pub(crate) fn migrate(conn: &mut AnyConnection) -> Result<Vec<String>, StoreError> {
    let failed =
        |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Unavailable(format!("migration failed: {e}"));
    let applied = match conn {
        AnyConnection::Postgres(c) => {
            // Any constant will do; it only has to be the same on every replica.
            c.batch_execute("SELECT pg_advisory_lock(7355608)")?;
            let result = c.run_pending_migrations(PG_MIGRATIONS).map(|v| v.iter().map(|m| m.to_string()).collect());
            c.batch_execute("SELECT pg_advisory_unlock(7355608)")?;
            result.map_err(failed)?
        }
        AnyConnection::Sqlite(c) => {
            // WAL lets readers and one writer work at once; it is a property
            // of the file, so setting it once here is enough.
            c.batch_execute("PRAGMA journal_mode = WAL;")?;
            c.run_pending_migrations(SQLITE_MIGRATIONS)
                .map(|v| v.iter().map(|m| m.to_string()).collect())
                .map_err(failed)?
        }
    };
    Ok(applied)
}

/// Applies the pending migrations up to and including `version` (a
/// migration folder's leading date and number, e.g. `2026-11-29-000003`):
/// a database as an older release left it, for the tests that migrate
/// data forward. Returns the names applied.
#[cfg(feature = "testing")]
pub fn migrate_up_to(conn: &mut AnyConnection, version: &str) -> Result<Vec<String>, StoreError> {
    use diesel::migration::Migration;
    let failed = |e: Box<dyn std::error::Error + Send + Sync>| StoreError::Unavailable(format!("migration: {e}"));
    let wanted = version.replace('-', "");
    fn run<DB: diesel::backend::Backend, C: MigrationHarness<DB>>(
        c: &mut C,
        source: EmbeddedMigrations,
        wanted: &str,
    ) -> diesel::migration::Result<Vec<String>> {
        let mut applied = Vec::new();
        for m in c.pending_migrations(source)? {
            let name = m.name().to_string();
            if m.name().version().to_string().replace('-', "").as_str() > wanted {
                break;
            }
            c.run_migration(&*m)?;
            applied.push(name);
        }
        Ok(applied)
    }
    match conn {
        AnyConnection::Postgres(c) => run(c, PG_MIGRATIONS, &wanted),
        AnyConnection::Sqlite(c) => run(c, SQLITE_MIGRATIONS, &wanted),
    }
    .map_err(failed)
}
