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
