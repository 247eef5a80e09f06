//! C4's relay: publishes the outbox to NATS JetStream, in position order,
//! at least once.
//!
//! - It runs on a thread of its own with a small tokio runtime, so neither
//!   a slow NATS nor the relay's work ever touches a request; Diesel runs
//!   on that runtime's blocking pool, never on its async thread.
//! - One replica publishes at a time: on PostgreSQL the relay holds a
//!   session-level advisory lock on a dedicated connection. When that
//!   connection or its process dies, PostgreSQL drops the lock, and another
//!   replica's relay, trying every second, takes over. (SQLite has one
//!   process: no lock.)
//! - Each batch: number what has finished (`events::sequence`), read after
//!   the stored cursor, publish every event with `Nats-Msg-Id` = its id,
//!   await the acks in order, then move the cursor to the last one acked.
//!   A crash between an ack and the cursor's move publishes some events
//!   again: JetStream drops them as duplicates (within its duplicate
//!   window, 2 minutes by default), and a consumer dedupes on the id.
//! - It wakes at once when this process commits a write, and polls every
//!   `POLL` for other replicas' writes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, message::PublishMessage, stream};
use persistence::events::{self, Event};
use persistence::{AnyConnection, Conn, Pool, StoreError};

/// The stream, and the subjects it takes.
pub const STREAM: &str = "STEWARD_EVENTS";
pub const SUBJECTS: &str = "steward.events.>";

/// How often the relay looks for other replicas' writes, and how long it
/// waits before trying again after a failure (no lock, NATS away).
const POLL: Duration = Duration::from_millis(200);
const RETRY: Duration = Duration::from_secs(1);
/// Events read and published per batch.
const BATCH: i64 = 500;

/// What the relay needs.
#[derive(Clone)]
pub struct RelayConfig {
    pub nats_url: String,
    /// The stream's maximum age (`EVENTS_RETENTION_DAYS`).
    pub max_age: Duration,
}

/// The running relay; dropping it stops it (within a poll).
pub struct Relay {
    stop: Arc<AtomicBool>,
    wake: Arc<tokio::sync::Notify>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    /// Starts the relay over `pool`, woken by `written` (`Db::written`);
    /// on SQLite, its cursor's writes take `turn` (`Db::writer_turn`).
    pub fn start(
        config: RelayConfig,
        pool: Pool,
        written: Arc<tokio::sync::Notify>,
        turn: Option<Arc<std::sync::Mutex<()>>>,
    ) -> std::io::Result<Relay> {
        let stop = Arc::new(AtomicBool::new(false));
        let (s, w) = (Arc::clone(&stop), Arc::clone(&written));
        let thread = std::thread::Builder::new().name("steward-relay".into()).spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .max_blocking_threads(2)
                .build()
                .expect("the relay's runtime");
            runtime.block_on(run(config, pool, w, turn, s));
        })?;
        Ok(Relay { stop, wake: written, thread: Some(thread) })
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Runs blocking work (Diesel) on the runtime's blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.expect("the relay's blocking work does not panic")
}

async fn pause(stop: &AtomicBool, wake: &tokio::sync::Notify, how_long: Duration) {
    if !stop.load(Ordering::SeqCst) {
        let _ = tokio::time::timeout(how_long, wake.notified()).await;
    }
}

async fn run(
    config: RelayConfig,
    pool: Pool,
    written: Arc<tokio::sync::Notify>,
    turn: Option<Arc<std::sync::Mutex<()>>>,
    stop: Arc<AtomicBool>,
) {
    let mut waiting_logged = false;
    while !stop.load(Ordering::SeqCst) {
        let p = pool.clone();
        let held = blocking(move || lock(&p)).await;
        let conn = match held {
            Ok(Some(conn)) => conn,
            Ok(None) => {
                if !waiting_logged {
                    tracing::info!("event relay: another replica publishes; standing by");
                    waiting_logged = true;
                }
                pause(&stop, &written, RETRY).await;
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "event relay: no database connection; retrying");
                pause(&stop, &written, RETRY).await;
                continue;
            }
        };
        waiting_logged = false;
        tracing::info!("event relay: publishing (this replica holds the relay lock)");
        match publish_while_held(&config, conn, &written, turn.clone(), &stop).await {
            Ok(()) => {}
            Err(e) => {
                tracing::warn!(error = %e, "event relay: stopped publishing; retrying");
                pause(&stop, &written, RETRY).await;
            }
        }
    }
}

/// A dedicated connection holding the relay lock, or `None` when another
/// replica holds it.
fn lock(pool: &Pool) -> Result<Option<Conn>, StoreError> {
    let mut conn = pool.dedicated()?;
    let got = conn.run(events::try_relay_lock)?;
    Ok(got.then_some(conn))
}

#[derive(Debug, thiserror::Error)]
enum RelayError {
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("NATS: {0}")]
    Nats(String),
}

fn nats(e: impl std::fmt::Display) -> RelayError {
    RelayError::Nats(e.to_string())
}

/// The stream, created when missing, its maximum age kept at `max_age`.
async fn ensure_stream(js: &jetstream::Context, max_age: Duration) -> Result<(), RelayError> {
    let wanted =
        stream::Config { name: STREAM.to_owned(), subjects: vec![SUBJECTS.to_owned()], max_age, ..Default::default() };
    let mut found = js.get_or_create_stream(wanted).await.map_err(nats)?;
    let info = found.info().await.map_err(nats)?;
    if info.config.max_age != max_age {
        let mut config = info.config.clone();
        config.max_age = max_age;
        js.update_stream(config).await.map_err(nats)?;
    }
    Ok(())
}

/// Publishes until something fails or the relay stops; dropping `conn`
/// (on return) gives the lock up.
async fn publish_while_held(
    config: &RelayConfig,
    mut conn: Conn,
    written: &tokio::sync::Notify,
    turn: Option<Arc<std::sync::Mutex<()>>>,
    stop: &AtomicBool,
) -> Result<(), RelayError> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        .connect(config.nats_url.as_str())
        .await
        .map_err(nats)?;
    let js = jetstream::ContextBuilder::new().ack_timeout(Duration::from_secs(5)).build(client);
    ensure_stream(&js, config.max_age).await?;
    while !stop.load(Ordering::SeqCst) {
        let (back, batch) = blocking(move || {
            let batch = conn.run(|c| -> Result<(i64, Vec<Event>), StoreError> {
                events::sequence(c)?;
                let cursor = events::relay_cursor(c)?;
                Ok((cursor, events::after(c, cursor, BATCH)?))
            });
            (conn, batch)
        })
        .await;
        conn = back;
        let (_cursor, batch) = batch?;
        if batch.is_empty() {
            pause(stop, written, POLL).await;
            continue;
        }
        let (acked, failure) = publish(&js, &batch).await;
        if let Some(last) = acked {
            let turn = turn.clone();
            let (back, moved) = blocking(move || {
                let moved = conn.run(|c: &mut AnyConnection| {
                    let _turn = turn.as_ref().map(|t| t.lock().unwrap_or_else(|e| e.into_inner()));
                    events::advance_relay(c, last)
                });
                (conn, moved)
            })
            .await;
            conn = back;
            moved?;
            let lag = (persistence::now() - batch.last().map_or(persistence::now(), |e| e.at)).num_milliseconds();
            tracing::debug!(position = last, lag_ms = lag, "event relay: published");
        }
        if let Some(e) = failure {
            return Err(e);
        }
    }
    Ok(())
}

/// Publishes `batch` with all its acks in flight, then awaits them in
/// order: the last position acknowledged without a gap, and the first
/// failure.
async fn publish(js: &jetstream::Context, batch: &[Event]) -> (Option<i64>, Option<RelayError>) {
    let mut pending = Vec::with_capacity(batch.len());
    let mut failure = None;
    for event in batch {
        let body = match api::dto::Event::new(event.clone()).map(|e| serde_json::to_vec(&e)) {
            Ok(Ok(body)) => body,
            Ok(Err(e)) => {
                failure = Some(nats(e));
                break;
            }
            Err(e) => {
                failure = Some(RelayError::Store(e));
                break;
            }
        };
        let message = PublishMessage::build().message_id(event.id.to_string()).payload(body.into());
        match js.send_publish(format!("steward.events.{}", event.kind.as_str()), message).await {
            Ok(ack) => pending.push((event.position, ack)),
            Err(e) => {
                failure = Some(nats(e));
                break;
            }
        }
    }
    let mut acked = None;
    for (position, ack) in pending {
        match ack.await {
            Ok(_) => acked = Some(position),
            Err(e) => {
                failure.get_or_insert(nats(e));
                break;
            }
        }
    }
    (acked, failure)
}
