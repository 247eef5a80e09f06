//! `steward`: the users-and-access service. `steward --help` explains
//! each command; configuration comes from the environment (see README).

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Context;
use clap::{Parser, Subcommand};
use server::Config;

#[derive(Parser)]
#[command(name = "steward", version, about = "Steward: users, managed users and sharing for personal health data.")]
#[command(long_about = "Steward: users, managed users and sharing for personal health data.\n\n\
Configuration comes from the environment and from a .env file in the working directory: \
BIND_ADDR, DATABASE_URL, JWT_SECRET, TOKEN_TTL_SECONDS, REGISTRATION, COOKIE_SECURE, RUST_LOG, \
LOG_FORMAT and more (see README.md).")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (the default): applies pending migrations, then
    /// listens on BIND_ADDR.
    Serve,
    /// Apply pending migrations to DATABASE_URL and exit.
    Migrate,
    /// Create an admin account (or make an existing account an admin).
    /// The password is read from the terminal, or from the first line of
    /// standard input when it is not a terminal.
    CreateAdmin {
        /// The admin's e-mail address.
        #[arg(long)]
        email: String,
    },
    /// Turn off an account's second factor (TOTP and recovery codes) and
    /// revoke all of its sign-ins: for a person who lost both phone and
    /// recovery codes. Check who is asking first.
    MfaOff {
        /// The account's e-mail address.
        email: String,
    },
    /// Print the OpenAPI document and exit.
    Openapi,
    /// Drop expired shares, sign-ins that can no longer authenticate, stale
    /// sign-in failure counts, and events older than EVENTS_RETENTION_DAYS
    /// (with EVENTS_NATS_URL set, only published ones). Safe to run at any
    /// time, from cron.
    PurgeExpired,
    /// Print every row that belongs to a user (and the users it manages)
    /// as one JSON document: what a person gets when asking for their data.
    Export {
        /// The user's id.
        #[arg(long)]
        user: String,
    },
}

fn main() -> anyhow::Result<()> {
    // Argon2 allocates 12 MiB per hash. glibc raises its mmap threshold past
    // that after the first free, and from then on keeps each hash's memory
    // in a per-thread arena: gigabytes under a burst of sign-ins. A fixed
    // threshold keeps large blocks mmapped, so they go back to the system.
    // SAFETY: mallopt only sets an allocator parameter; called before any
    // other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let log_writer = init_logging();
    let config = Config::from_env().context("configuration")?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config, log_writer),
        Command::Migrate => {
            let pool = persistence::Pool::open(&config.database_url, &persistence::PoolOptions::default())?;
            let applied = pool.migrate()?;
            println!("applied {} migration(s)", applied.len());
            Ok(())
        }
        Command::CreateAdmin { email } => {
            let password = read_password()?;
            let user = server::create_admin(&config, &email, &password)?;
            println!("admin {} ({})", user.id, email);
            Ok(())
        }
        Command::MfaOff { email } => {
            let was_on = server::mfa_off(&config, &email)?;
            if was_on {
                println!("second factor off for {email}; all of its sign-ins revoked");
            } else {
                println!("{email} had no second factor on; all of its sign-ins revoked");
            }
            Ok(())
        }
        Command::PurgeExpired => {
            let pool = open_pool(&config)?;
            let keep = server::batch::Retention::of(&config);
            let purged = server::batch::purge_expired(&pool, persistence::now(), keep)?;
            println!(
                "purged {} expired share(s), {} sign-in(s), {} throttle count(s), {} invitation(s), {} claim code(s), \
                 {} second-factor enrollment(s), {} access-log entries, {} event(s)",
                purged.shares,
                purged.sessions,
                purged.throttles,
                purged.invitations,
                purged.claim_codes,
                purged.enrollments,
                purged.access_log,
                purged.events
            );
            Ok(())
        }
        Command::Export { user } => {
            let id: domain::UserId = user.parse().context("--user must be a user id (a UUID)")?;
            let pool = open_pool(&config)?;
            match server::batch::export(&pool, id)? {
                Some(doc) => {
                    println!("{}", serde_json::to_string_pretty(&doc)?);
                    Ok(())
                }
                None => anyhow::bail!("no user {id}"),
            }
        }
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&api::openapi::document())?);
            Ok(())
        }
    }
}

fn serve(config: Config, log_writer: tracing_appender::non_blocking::WorkerGuard) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        let running = server::build(&config)?;
        tracing::info!(addr = %config.bind_addr, port = running.port, config = ?config, "steward listening");
        let handle = running.server.handle();
        let metrics = running.metrics_server.map(|(server, port)| {
            tracing::info!(port, "metrics listening");
            let handle = server.handle();
            actix_web::rt::spawn(server);
            handle
        });
        // SIGTERM and Ctrl-C both stop gracefully: no new connections, the
        // requests in flight finish (within SHUTDOWN_GRACE_SECONDS), then
        // the workers end and the pools close as they are dropped.
        actix_web::rt::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: finishing requests in flight");
            if let Some(metrics) = metrics {
                metrics.stop(true).await;
            }
            handle.stop(true).await;
        });
        running.server.await.context("server")?;
        tracing::info!("stopped");
        Ok::<(), anyhow::Error>(())
    })?;
    // Every request is answered and the workers (with their pools) are
    // gone. Leave without running C exit handlers: OpenSSL's (linked in by
    // libpq) can free per-thread state that exiting blocking-pool threads
    // are still freeing, and abort with "double free" after a clean stop.
    drop(log_writer); // writes out the lines still queued
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    // SAFETY: _exit ends the process at once; nothing after it runs.
    unsafe { libc::_exit(0) }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install the SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// A pool on DATABASE_URL, migrated: the jobs run against the current schema.
fn open_pool(config: &Config) -> anyhow::Result<persistence::Pool> {
    let pool = persistence::Pool::open(&config.database_url, &persistence::PoolOptions::default())?;
    pool.migrate()?;
    Ok(pool)
}

fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Password: ");
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Logs to standard error from a thread of their own: a request formats
/// its line and queues it, and never waits on the write (6 % of the list
/// endpoint's throughput when it did). Lines are never dropped: past 8,192
/// queued, loggers wait. (The crate's default queue of 128,000 lines is
/// allocated and touched up front: 4 MiB of resident memory, a fifth of
/// the idle process.) The guard writes out what is queued when dropped, so
/// keep it until the end.
fn init_logging() -> tracing_appender::non_blocking::WorkerGuard {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .buffered_lines_limit(8192)
        .thread_name("steward-log")
        .finish(std::io::stderr());
    // Colours only on a terminal: in a file or a log collector the escape
    // codes are noise (and cost formatting time on every line).
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(ansi);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
    guard
}
