//! Which database a URL names, and what each backend needs set on a new
//! connection.

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` and `postgresql://` select PostgreSQL; anything else is
    /// a SQLite file (`sqlite://path`, `sqlite:path` or a plain path).
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// The file path of a SQLite URL.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url)
}

/// Set on every new SQLite connection. foreign_keys makes ON DELETE
/// CASCADE work; busy_timeout makes writers wait for each other instead of
/// failing at once. A page cache of 512 KiB per connection instead of
/// 2 MiB: ten connections' caches were 20 MiB of the process on a large
/// database, and a page they miss comes from the kernel's cache with one
/// pread.
pub(crate) const SQLITE_PRAGMAS: &str =
    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -512;";
