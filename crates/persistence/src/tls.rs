//! TLS for PostgreSQL connections.

/// Initialises OpenSSL (which libpq uses for TLS to PostgreSQL) before
/// libpq does, without its exit handler: at process exit that handler frees
/// per-thread state while pool and worker threads may still be using it,
/// and the process dies with a double free or a segfault after a clean
/// stop. Idempotent; call before the first PostgreSQL connection.
pub fn init_tls() {
    openssl_sys::init();
}
