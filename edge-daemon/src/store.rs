//! The device's SQLite store: the event outbox and the state it records, written together.
//!
//! Every event is sealed and appended in the same transaction as the state change it
//! records, with a gapless per-device `seq`. Rows leave the outbox only when the cloud
//! confirms it has stored them (a receipt over MQTT, or a 2xx batch answer over HTTPS).
//! Disk is bounded: when the unsynced rows reach the cap, the oldest are dropped and a
//! `dropped` event saying so is queued in their place — never silently.

use std::{
    path::Path,
    sync::{Arc, Mutex, MutexGuard},
    time::Instant,
};

use hal::Clock;
use protocol::{seal, DeviceId, Envelope, Event, Keypair, VERSION};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::{de::DeserializeOwned, Serialize};
use tokio::sync::Notify;
use uuid::Uuid;

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored state {key:?} is unreadable: {reason}")]
    CorruptState { key: String, reason: String },
    #[error("the store's writer thread stopped")]
    Closed,
    #[error(
        "the store has layout {found}, newer than this edge-daemon knows ({SCHEMA_VERSION}); \
         run the edge-daemon that wrote it or a newer one"
    )]
    NewerSchema { found: i64 },
}

/// The store's layout, kept in SQLite's `user_version`: 1 the first, 2 with parked rows
/// dated. A backup names it; a restore, like the store itself, refuses a newer one.
pub const SCHEMA_VERSION: i64 = 2;

/// How hard each commit pushes data to the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Durability {
    /// fsync on every commit: survives power loss (the default).
    Full,
    /// fsync at WAL checkpoints only: survives a crash of the process, not of the power.
    Normal,
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Unsynced events kept at most; beyond it the oldest are dropped (and reported).
    pub max_unsynced: u64,
    pub durability: Durability,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_unsynced: 500_000,
            durability: Durability::Full,
        }
    }
}

/// One sealed event waiting for the cloud.
#[derive(Debug, Clone)]
pub struct PendingFrame {
    pub seq: u64,
    pub frame: Vec<u8>,
}

/// Who this device is, for sealing events.
#[derive(Debug, Clone)]
pub struct Signer {
    pub device: DeviceId,
    pub key: Keypair,
}

/// This run of the daemon: events are dated against it when the clock is not yet synced.
#[derive(Debug, Clone, Copy)]
pub struct Boot {
    pub id: Uuid,
    pub started: Instant,
}

impl Boot {
    pub fn now() -> Self {
        Self {
            id: Uuid::now_v7(),
            started: Instant::now(),
        }
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    kind TEXT NOT NULL,
    frame BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS parked (
    seq INTEGER PRIMARY KEY,
    frame BLOB NOT NULL,
    error TEXT NOT NULL,
    parked_at INTEGER
);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seen_commands (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('next_seq', 1);
";

/// The synchronous store. Use [`Outbox`] from async code.
pub struct Store {
    conn: Connection,
    signer: Signer,
    boot: Boot,
    clock: Arc<dyn Clock>,
    options: StoreOptions,
    /// Rows in `outbox`, kept in memory because `COUNT(*)` scans the table.
    pending: u64,
    /// Write transactions SQLite refused (a full disk, an I/O error) not yet reported.
    failed_writes: u64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("device", &self.signer.device)
            .field("pending", &self.pending)
            .finish()
    }
}

impl Store {
    pub fn open(
        path: &Path,
        signer: Signer,
        boot: Boot,
        clock: Arc<dyn Clock>,
        options: StoreOptions,
    ) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = match options.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema { found });
        }
        conn.execute_batch(SCHEMA)?;
        // A store written before parked rows were dated gets the column; its rows count from
        // now.
        let dated: bool = conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('parked') WHERE name = 'parked_at'",
            [],
            |r| r.get(0),
        )?;
        if !dated {
            conn.execute_batch("ALTER TABLE parked ADD COLUMN parked_at INTEGER")?;
        }
        conn.execute(
            "UPDATE parked SET parked_at = ?1 WHERE parked_at IS NULL",
            [clock.now().unix_timestamp()],
        )?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        let pending: i64 = conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
        Ok(Self {
            conn,
            signer,
            boot,
            clock,
            options,
            pending: pending as u64,
            failed_writes: 0,
        })
    }

    /// Runs `f` in one transaction; the events it emits are committed with its state changes
    /// or not at all. A transaction SQLite refuses (a full disk) is counted, with a warning
    /// at the first of a run, until [`Store::report_failed_writes`] has reported it.
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<(T, Vec<Envelope>), StoreError> {
        let result = self.try_write(f);
        if let Err(StoreError::Sqlite(error)) = &result {
            self.failed_writes += 1;
            if self.failed_writes == 1 {
                tracing::warn!(%error, "The store cannot write (is the disk full?); what fails to be recorded is counted.");
            }
        }
        result
    }

    /// Write transactions refused since the last report.
    pub fn failed_writes(&self) -> u64 {
        self.failed_writes
    }

    /// Once the store writes again, records `report(failed)` for the writes it refused and
    /// forgets them; `Ok(0)` when there were none. A report that cannot be written either
    /// is not counted itself.
    pub fn report_failed_writes(
        &mut self,
        report: impl FnOnce(u64) -> Event,
    ) -> Result<u64, StoreError> {
        let failed = self.failed_writes;
        if failed == 0 {
            return Ok(0);
        }
        self.try_write(|w| w.emit(report(failed)))?;
        self.failed_writes = 0;
        Ok(failed)
    }

    fn try_write<T>(
        &mut self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError>,
    ) -> Result<(T, Vec<Envelope>), StoreError> {
        let tx = self.conn.transaction()?;
        let mut writer = Writer {
            tx,
            signer: &self.signer,
            boot: self.boot,
            clock: self.clock.as_ref(),
            max_unsynced: self.options.max_unsynced,
            pending: self.pending,
            emitted: Vec::new(),
        };
        let value = f(&mut writer)?;
        let Writer {
            tx,
            pending,
            emitted,
            ..
        } = writer;
        tx.commit()?;
        self.pending = pending;
        Ok((value, emitted))
    }

    /// Appends one event in a transaction of its own.
    pub fn emit(&mut self, event: Event) -> Result<Envelope, StoreError> {
        let (envelope, _) = self.write(|w| w.emit(event))?;
        Ok(envelope)
    }

    /// Up to `limit` unsynced frames with `seq > after`, oldest first.
    pub fn pending_after(&self, after: u64, limit: usize) -> Result<Vec<PendingFrame>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, frame FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
        let rows = stmt.query_map(params![after as i64, limit as i64], |row| {
            Ok(PendingFrame {
                seq: row.get::<_, i64>(0)? as u64,
                frame: row.get(1)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Unsynced events in the outbox.
    pub fn pending_count(&self) -> u64 {
        self.pending
    }

    /// The oldest unsynced seq, if any.
    pub fn oldest_pending(&self) -> Result<Option<u64>, StoreError> {
        let seq: Option<i64> = self
            .conn
            .query_row("SELECT MIN(seq) FROM outbox", [], |r| r.get(0))?;
        Ok(seq.map(|s| s as u64))
    }

    /// The newest seq ever written (0 before the first event).
    pub fn last_seq(&self) -> Result<u64, StoreError> {
        let next: i64 =
            self.conn
                .query_row("SELECT value FROM meta WHERE key = 'next_seq'", [], |r| {
                    r.get(0)
                })?;
        Ok(next as u64 - 1)
    }

    /// The cloud has stored every event up to `seq`: forget them. Returns how many went.
    pub fn confirm_upto(&mut self, seq: u64) -> Result<u64, StoreError> {
        let gone = self
            .conn
            .execute("DELETE FROM outbox WHERE seq <= ?1", [seq as i64])? as u64;
        self.pending -= gone;
        Ok(gone)
    }

    /// The cloud has stored exactly these events (an HTTPS batch answer).
    pub fn confirm(&mut self, seqs: &[u64]) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let mut gone = 0;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?;
            for seq in seqs {
                gone += stmt.execute([*seq as i64])? as u64;
            }
        }
        tx.commit()?;
        self.pending -= gone;
        Ok(gone)
    }

    /// The cloud refused this frame for good (it will never accept it): move it aside so it
    /// no longer blocks the queue, but keep it on the device for an installer to inspect.
    pub fn park(&mut self, seq: u64, error: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let moved = tx.execute(
            "INSERT OR REPLACE INTO parked (seq, frame, error, parked_at) \
             SELECT seq, frame, ?2, ?3 FROM outbox WHERE seq = ?1",
            params![seq as i64, error, self.clock.now().unix_timestamp()],
        )?;
        tx.execute("DELETE FROM outbox WHERE seq = ?1", [seq as i64])?;
        tx.commit()?;
        self.pending -= moved as u64;
        Ok(())
    }

    /// Removes what the device kept past its period: unsynced events older than
    /// `unsynced_max_age` (dropped oldest first, with a `dropped` event for the cloud, as
    /// when the outbox is full) and parked frames older than `parked_max_age`. `None` keeps
    /// them. `now` is the device's clock.
    pub fn enforce_retention(
        &mut self,
        now: time::OffsetDateTime,
        unsynced_max_age: Option<std::time::Duration>,
        parked_max_age: Option<std::time::Duration>,
    ) -> Result<Retained, StoreError> {
        let mut outcome = Retained::default();
        if let Some(age) = parked_max_age {
            let cutoff = now.unix_timestamp() - age.as_secs() as i64;
            outcome.parked_removed = self
                .conn
                .execute("DELETE FROM parked WHERE parked_at < ?1", [cutoff])?
                as u64;
        }
        if let Some(age) = unsynced_max_age {
            let cutoff = now - age;
            // Events are appended in time order: the expired ones are a prefix of the queue.
            // Their ids are UUIDv7, which carry the time they were written. A `dropped`
            // event in that prefix stays (it accounts for seqs before it): the runs around
            // it are dropped one by one.
            let mut runs: Vec<(i64, i64)> = Vec::new();
            let mut run: Option<(i64, i64)> = None;
            {
                let mut stmt = self
                    .conn
                    .prepare("SELECT seq, id, kind FROM outbox ORDER BY seq")?;
                let mut rows = stmt.query([])?;
                while let Some(row) = rows.next()? {
                    let (seq, id, kind): (i64, String, String) =
                        (row.get(0)?, row.get(1)?, row.get(2)?);
                    if kind == "dropped" {
                        runs.extend(run.take());
                        continue;
                    }
                    let written = Uuid::parse_str(&id)
                        .ok()
                        .and_then(|id| id.get_timestamp())
                        .map(|t| t.to_unix().0 as i64);
                    // An event written before the clock was set (a Pi booting in 1970)
                    // has no age to judge: it and what follows stay.
                    if written.is_none_or(|at| {
                        at >= cutoff.unix_timestamp() || at < hal::PLAUSIBLE_SINCE_UNIX
                    }) {
                        break;
                    }
                    run = Some(run.map_or((seq, seq), |(first, _)| (first, seq)));
                }
            }
            runs.extend(run);
            if !runs.is_empty() {
                let (dropped, _) = self.write(|w| {
                    let mut dropped = 0;
                    for (first, last) in runs {
                        dropped += w.drop_range(first, last)?;
                    }
                    Ok(dropped)
                })?;
                outcome.unsynced_dropped = dropped;
            }
        }
        if outcome.parked_removed > 0 || outcome.unsynced_dropped > 0 {
            tracing::info!(
                unsynced_dropped = outcome.unsynced_dropped,
                parked_removed = outcome.parked_removed,
                "Outbox leftovers past their retention period removed."
            );
        }
        Ok(outcome)
    }

    pub fn parked_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM parked", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    /// Reads a piece of state written with [`Writer::set`].
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        read_state(&self.conn, key)
    }

    pub fn device(&self) -> &DeviceId {
        &self.signer.device
    }

    pub fn boot(&self) -> Boot {
        self.boot
    }
}

fn read_state<T: DeserializeOwned>(conn: &Connection, key: &str) -> Result<Option<T>, StoreError> {
    let raw: Option<String> = conn
        .query_row("SELECT value FROM state WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?;
    raw.map(|raw| {
        serde_json::from_str(&raw).map_err(|e| StoreError::CorruptState {
            key: key.to_owned(),
            reason: e.to_string(),
        })
    })
    .transpose()
}

/// What [`Store::enforce_retention`] removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Retained {
    pub unsynced_dropped: u64,
    pub parked_removed: u64,
}

/// One open transaction of the store.
pub struct Writer<'a> {
    tx: Transaction<'a>,
    signer: &'a Signer,
    boot: Boot,
    clock: &'a dyn Clock,
    max_unsynced: u64,
    pending: u64,
    emitted: Vec<Envelope>,
}

impl Writer<'_> {
    /// Seals and appends an event with the next seq, making room first if the outbox is full.
    pub fn emit(&mut self, event: Event) -> Result<Envelope, StoreError> {
        if self.pending >= self.max_unsynced {
            self.drop_oldest()?;
        }
        self.append(event)
    }

    fn append(&mut self, event: Event) -> Result<Envelope, StoreError> {
        let seq: i64 =
            self.tx
                .query_row("SELECT value FROM meta WHERE key = 'next_seq'", [], |r| {
                    r.get(0)
                })?;
        self.tx.execute(
            "UPDATE meta SET value = value + 1 WHERE key = 'next_seq'",
            [],
        )?;
        let envelope = Envelope {
            v: VERSION,
            id: Uuid::now_v7(),
            device: self.signer.device.clone(),
            boot_id: self.boot.id,
            seq: seq as u64,
            ts: self.clock.now(),
            mono_ms: self.boot.started.elapsed().as_millis() as u64,
            clock_synced: self.clock.is_synced(),
            event,
        };
        let frame = seal(&envelope, &self.signer.key);
        self.tx.execute(
            "INSERT INTO outbox (seq, id, kind, frame) VALUES (?1, ?2, ?3, ?4)",
            params![
                seq,
                envelope.id.to_string(),
                envelope.event.kind().as_str(),
                frame
            ],
        )?;
        self.pending += 1;
        self.emitted.push(envelope.clone());
        Ok(envelope)
    }

    /// Drops the oldest 1% of the cap (at least one row) and records that it did.
    fn drop_oldest(&mut self) -> Result<(), StoreError> {
        let batch = (self.max_unsynced / 100).max(1);
        let (first, last): (Option<i64>, Option<i64>) = self.tx.query_row(
            "SELECT MIN(seq), MAX(seq) FROM (SELECT seq FROM outbox ORDER BY seq LIMIT ?1)",
            [batch as i64],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let (Some(first), Some(last)) = (first, last) else {
            return Ok(());
        };
        let count = self.drop_range(first, last)?;
        tracing::warn!(
            count,
            first_seq = first,
            last_seq = last,
            "Outbox full: dropped the oldest unsynced events."
        );
        Ok(())
    }

    /// Drops the unsynced events `first..=last` and records that it did (a `dropped` event
    /// the cloud counts as accounted for); returns how many went.
    fn drop_range(&mut self, first: i64, last: i64) -> Result<u64, StoreError> {
        let count = self.tx.execute(
            "DELETE FROM outbox WHERE seq BETWEEN ?1 AND ?2",
            params![first, last],
        )? as u64;
        self.pending -= count;
        self.append(Event::Dropped {
            count,
            first_seq: first as u64,
            last_seq: last as u64,
        })?;
        Ok(count)
    }

    /// Writes a piece of state in this transaction.
    pub fn set<T: Serialize>(&mut self, key: &str, value: &T) -> Result<(), StoreError> {
        let raw = serde_json::to_string(value).map_err(|e| StoreError::CorruptState {
            key: key.to_owned(),
            reason: e.to_string(),
        })?;
        self.tx.execute(
            "INSERT INTO state (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, raw],
        )?;
        Ok(())
    }

    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        read_state(&self.tx, key)
    }

    /// Records a command id as used; false if it was seen before (a replay). Ids whose
    /// command has expired are forgotten, since an expired command is refused anyway.
    pub fn remember_command(
        &mut self,
        id: Uuid,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        self.tx
            .execute("DELETE FROM seen_commands WHERE expires_at < ?1", [now])?;
        let inserted = self.tx.execute(
            "INSERT OR IGNORE INTO seen_commands (id, expires_at) VALUES (?1, ?2)",
            params![id.to_string(), expires_at],
        )?;
        Ok(inserted == 1)
    }
}

/// The store shared by the daemon's tasks; writes run on blocking threads and wake the syncer.
#[derive(Clone, Debug)]
pub struct Outbox {
    store: Arc<Mutex<Store>>,
    appended: Arc<Notify>,
}

impl Outbox {
    pub fn new(store: Store) -> Self {
        Self {
            store: Arc::new(Mutex::new(store)),
            appended: Arc::new(Notify::new()),
        }
    }

    /// Locks the store for a short synchronous operation.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave SQLite half-written (the transaction
        // rolls back), so a poisoned lock is safe to keep using.
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs a write transaction on a blocking thread and wakes the syncer if events were added.
    pub async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Writer<'_>) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<(T, Vec<Envelope>), StoreError> {
        let this = self.clone();
        let result = tokio::task::spawn_blocking(move || this.lock().write(f))
            .await
            .map_err(|_| StoreError::Closed)??;
        if !result.1.is_empty() {
            self.appended.notify_one();
        }
        Ok(result)
    }

    pub async fn emit(&self, event: Event) -> Result<Envelope, StoreError> {
        let (envelope, _) = self.write(move |w| w.emit(event)).await?;
        Ok(envelope)
    }

    /// [`Store::report_failed_writes`] on a blocking thread; wakes the syncer for the report.
    pub async fn report_failed_writes(
        &self,
        report: impl FnOnce(u64) -> Event + Send + 'static,
    ) -> Result<u64, StoreError> {
        let this = self.clone();
        let failed = tokio::task::spawn_blocking(move || this.lock().report_failed_writes(report))
            .await
            .map_err(|_| StoreError::Closed)??;
        if failed > 0 {
            self.appended.notify_one();
        }
        Ok(failed)
    }

    /// Runs a read or bookkeeping operation on a blocking thread.
    pub async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let this = self.clone();
        tokio::task::spawn_blocking(move || f(&mut this.lock()))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    /// Resolves when events have been appended since the last call.
    pub async fn appended(&self) {
        self.appended.notified().await;
    }
}
