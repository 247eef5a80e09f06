//! The access-log entries of reads, written in batches.
//!
//! A read's entry must be stored before the read is answered (C3), but a
//! statement per read would cost a read as much again as the read itself:
//! on PostgreSQL an insert is a write, with its WAL record, its commit and
//! its index updates. So reads hand their entries to one writer thread,
//! which inserts every entry waiting at that moment in one statement and
//! one transaction (committed without waiting for the disk), then tells
//! each read that its entry is stored. Reads that arrive while a batch is
//! being written form the next one, and while reads keep arriving together
//! the writer lets each batch fill for [`LINGER`] before it writes: under
//! load a batch holds many entries, and alone a read waits for one insert,
//! as it would anyway.
//!
//! Fail closed: a read whose entry was not stored is not answered (503;
//! the subject deleted meanwhile is its 404). When a batch fails, its
//! entries are retried one at a time, so one entry's fault (a user
//! deleted meanwhile) fails only its own read.
//!
//! The thread writes on a connection of its own, outside the pool
//! ([`Pool::dedicated`]), opened at its first batch and again after one is
//! lost: taking one from the pool for each batch put the writer in the
//! queue behind the very reads waiting for it, so under load every read
//! waited for a turn of the pool twice (a manager's get: 0.64 of its
//! throughput without the log, and in a later run reads timing out; 0.70
//! with its own connection; bench/results/issue-13.md). It ends when the [`ReadLog`] (the `Db`) is
//! dropped.

use std::sync::mpsc;
use std::time::Duration;

use persistence::access_log::{self, NewEntry};
use persistence::{Conn, Failure, Pool, StoreError};
use tokio::sync::oneshot;

/// The most entries one statement inserts (8 parameters each, well under
/// either backend's limit).
const BATCH_MAX: usize = 256;

/// How long the writer lets a batch fill when reads are arriving together
/// (the last batch held more than one): a batch's statement and commit
/// cost about as much as a few entries, so fewer, larger batches cost each
/// read less. A read alone is written at once.
/// (1 ms: +11 % reads/s over none, and 2 ms no better; bench/results/issue-13.md.)
const LINGER: Duration = Duration::from_millis(1);

type Reply = oneshot::Sender<Result<(), StoreError>>;

/// The sending side of the writer thread.
pub(crate) struct ReadLog {
    tx: mpsc::Sender<(NewEntry, Reply)>,
}

impl ReadLog {
    /// Starts the writer thread over `pool`. On SQLite, `writer` is the
    /// process's turn for writers, taken for each batch.
    pub(crate) fn start(pool: Pool, writer: Option<std::sync::Arc<std::sync::Mutex<()>>>) -> ReadLog {
        let (tx, rx) = mpsc::channel::<(NewEntry, Reply)>();
        std::thread::Builder::new()
            .name("steward-read-log".into())
            .spawn(move || {
                let mut together = false;
                let mut conn = Connection { pool, open: None };
                while let Ok(first) = rx.recv() {
                    if together {
                        std::thread::sleep(LINGER);
                    }
                    let mut batch = vec![first];
                    while batch.len() < BATCH_MAX {
                        match rx.try_recv() {
                            Ok(next) => batch.push(next),
                            Err(_) => break,
                        }
                    }
                    together = batch.len() > 1;
                    write(&mut conn, writer.as_deref(), batch);
                }
            })
            .expect("the read log's thread starts");
        ReadLog { tx }
    }

    /// Stores `entry`; returns once it is stored, or why it is not.
    pub(crate) async fn record(&self, entry: NewEntry) -> Result<(), StoreError> {
        let (reply, stored) = oneshot::channel();
        self.tx
            .send((entry, reply))
            .map_err(|_| StoreError::Unavailable("the read log's writer has stopped".into()))?;
        stored.await.map_err(|_| StoreError::Unavailable("the read log's writer has stopped".into()))?
    }
}

/// The writer's own connection: opened when first needed, and again when
/// it was lost (the database restarted) or, idle for a while, does not
/// answer a ping: what the pool does at checkout.
struct Connection {
    pool: Pool,
    open: Option<Conn>,
}

impl Connection {
    fn insert(&mut self, writer: Option<&std::sync::Mutex<()>>, entries: &[NewEntry]) -> Result<(), StoreError> {
        if !self.open.as_mut().is_some_and(Conn::usable) {
            self.open = Some(self.pool.dedicated()?);
        }
        let conn = self.open.as_mut().expect("opened above");
        let _turn = writer.map(|w| w.lock().unwrap_or_else(|e| e.into_inner()));
        conn.run(|c| access_log::record_reads(c, entries))
    }
}

/// Writes one batch and answers each of its reads.
fn write(conn: &mut Connection, writer: Option<&std::sync::Mutex<()>>, batch: Vec<(NewEntry, Reply)>) {
    let (entries, replies): (Vec<NewEntry>, Vec<Reply>) = batch.into_iter().unzip();
    let mut insert = |entries: &[NewEntry]| conn.insert(writer, entries);
    if let [_] = entries.as_slice() {
        let mut stored = insert(&entries);
        // The connection died since the last batch (a database restart
        // while reads kept coming, too soon for a ping): once more on a
        // new one, as a batch's entries are retried.
        if stored.as_ref().is_err_and(Failure::connection_lost) {
            stored = insert(&entries);
        }
        let _ = replies.into_iter().next().map(|reply| reply.send(stored));
        return;
    }
    match insert(&entries) {
        Ok(()) => {
            for reply in replies {
                let _ = reply.send(Ok(()));
            }
        }
        // One at a time, so that each read learns its own fate.
        Err(_) => {
            for (entry, reply) in entries.iter().zip(replies) {
                let _ = reply.send(insert(std::slice::from_ref(entry)));
            }
        }
    }
}
