//! The cache of `GET /performance/data`: in process by default, in Redis when a URL is
//! configured (`[sakip] redis_url` or `GERBANG_REDIS_URL`), so that every replica sees
//! the others' invalidations.
//!
//! Invalidation needs no key scans: every entry is stored under two generation counters,
//! taken *before* it was computed, and a write bumps the counters it affects after its
//! transaction commits, so an entry computed before a write is never read after it; old
//! entries simply expire (five minutes, the seed's TTL). An OPD's read (`opd_id` given or
//! implied by the caller's scope) depends on that OPD's counter (its indicators and targets,
//! any year) and on its (OPD, year) counter (its achievements of the year); a read of every
//! OPD depends on the all-OPD counter and the year's. An achievement write bumps its (OPD,
//! year) and its year; an indicator or target write bumps its OPD and the all-OPD counter. So
//! one OPD's write never drops another OPD's entries. In Redis the counters are `INCR`ed
//! (in one pipeline) and an entry's key carries them.
//!
//! A failed invalidation in Redis (an `INCR` that did not go through) leaves entries that
//! would be stale: the counter is remembered, the cache is bypassed (reads go to the
//! database and are not stored) and the `INCR` is tried again on each read until it goes
//! through; only then are entries served again.
//!
//! Entries are the answer's bytes, already serialised (envelope included), so a hit costs a
//! reference-count increment in process and one `GET` in Redis, never a re-serialisation.

use std::{
    collections::{BTreeSet, HashMap},
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::body::Bytes;
use redis::{aio::ConnectionManager, AsyncCommands};

const TTL: Duration = Duration::from_secs(300);
const MAX_ENTRIES: usize = 4096;

/// The generations an entry was computed under (see the module's counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    wide: u64,
    narrow: u64,
}

/// The two counters a read of `year` (one OPD's, or every OPD's) depends on.
fn counters(year: i32, opd: Option<i32>) -> [String; 2] {
    match opd {
        Some(opd) => [
            format!("gen:opd:{opd}"),
            format!("gen:opd:{opd}:year:{year}"),
        ],
        None => ["gen:all".to_owned(), format!("gen:year:{year}")],
    }
}

#[derive(Debug, Default)]
struct Inner {
    gens: HashMap<String, u64>,
    entries: HashMap<String, (Stamp, Instant, Bytes)>,
}

/// Redis: the connection and the key prefix of this deployment.
#[derive(Clone)]
struct Shared {
    conn: ConnectionManager,
    prefix: String,
}

/// The performance-data cache (one per cloud).
#[derive(Default)]
pub struct PerformanceCache {
    inner: Mutex<Inner>,
    redis: Option<Shared>,
    /// Redis counters whose `INCR` failed: while any is left, the cache is bypassed.
    unbumped: Mutex<BTreeSet<String>>,
}

impl std::fmt::Debug for PerformanceCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerformanceCache")
            .field("redis", &self.redis.is_some())
            .finish()
    }
}

impl PerformanceCache {
    /// A cache in Redis at `url`, its keys below `prefix`; fails when Redis does not answer.
    pub async fn redis(url: &str, prefix: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let mut conn = ConnectionManager::new(client).await?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(Self {
            inner: Mutex::default(),
            redis: Some(Shared {
                conn,
                prefix: prefix.to_owned(),
            }),
            unbumped: Mutex::default(),
        })
    }

    /// `None` in process; else whether Redis answers a PING.
    pub async fn redis_up(&self) -> Option<bool> {
        let shared = self.redis.as_ref()?;
        let mut conn = shared.conn.clone();
        Some(
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .is_ok(),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current generations of a read of `year` (of `opd`, or of every OPD); take it
    /// before reading the database. `None` when Redis does not answer or an invalidation is
    /// still owed (the read then goes to the database and is not cached).
    pub async fn stamp(&self, year: i32, opd: Option<i32>) -> Option<Stamp> {
        let [wide, narrow] = counters(year, opd);
        let Some(shared) = &self.redis else {
            let inner = self.lock();
            let gen = |c: &String| inner.gens.get(c).copied().unwrap_or(0);
            return Some(Stamp {
                wide: gen(&wide),
                narrow: gen(&narrow),
            });
        };
        if !self.settle(shared).await {
            return None;
        }
        let mut conn = shared.conn.clone();
        let keys = [
            format!("{}:{wide}", shared.prefix),
            format!("{}:{narrow}", shared.prefix),
        ];
        match conn.mget::<_, Vec<Option<u64>>>(&keys).await {
            Ok(gens) => Some(Stamp {
                wide: gens.first().copied().flatten().unwrap_or(0),
                narrow: gens.get(1).copied().flatten().unwrap_or(0),
            }),
            Err(err) => {
                tracing::warn!(error = %err, "SAKIP cache: Redis did not answer; reading through.");
                None
            }
        }
    }

    fn redis_key(prefix: &str, key: &str, stamp: Stamp) -> String {
        format!("{prefix}:perf:{}:{}:{key}", stamp.wide, stamp.narrow)
    }

    /// The entry under `key` if it was computed under `stamp` and is fresh.
    pub async fn get(&self, key: &str, stamp: Stamp) -> Option<Bytes> {
        let Some(shared) = &self.redis else {
            let inner = self.lock();
            let (at, when, value) = inner.entries.get(key)?;
            return (*at == stamp && when.elapsed() < TTL).then(|| value.clone());
        };
        let mut conn = shared.conn.clone();
        let raw: Option<Vec<u8>> = conn
            .get(Self::redis_key(&shared.prefix, key, stamp))
            .await
            .ok()?;
        raw.map(Bytes::from)
    }

    /// Stores the serialised answer `value` under `key`, computed under `stamp`.
    pub async fn put(&self, key: String, stamp: Stamp, value: &Bytes) {
        let Some(shared) = &self.redis else {
            let mut inner = self.lock();
            if inner.entries.len() >= MAX_ENTRIES {
                inner.entries.clear();
            }
            inner
                .entries
                .insert(key, (stamp, Instant::now(), value.clone()));
            return;
        };
        let mut conn = shared.conn.clone();
        let stored: Result<(), _> = conn
            .set_ex(
                Self::redis_key(&shared.prefix, &key, stamp),
                value.as_ref(),
                TTL.as_secs(),
            )
            .await;
        if let Err(err) = stored {
            tracing::warn!(error = %err, "SAKIP cache: could not store an entry.");
        }
    }

    fn unbumped(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.unbumped.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `INCR`s `counters` in one pipeline.
    async fn incr(shared: &Shared, counters: &[String]) -> Result<(), redis::RedisError> {
        let mut pipe = redis::pipe();
        for counter in counters {
            pipe.incr(format!("{}:{counter}", shared.prefix), 1)
                .ignore();
        }
        let mut conn = shared.conn.clone();
        pipe.query_async::<()>(&mut conn).await
    }

    /// Tries the invalidations still owed again; answers whether none is left (entries may
    /// be served).
    async fn settle(&self, shared: &Shared) -> bool {
        let owed: Vec<String> = self.unbumped().iter().cloned().collect();
        if owed.is_empty() {
            return true;
        }
        if Self::incr(shared, &owed).await.is_err() {
            return false;
        }
        let mut left = self.unbumped();
        for counter in &owed {
            left.remove(counter);
        }
        tracing::info!(
            counters = owed.len(),
            "SAKIP cache: owed invalidations done."
        );
        left.is_empty()
    }

    async fn bump(&self, counters: [String; 2]) {
        let Some(shared) = &self.redis else {
            let mut inner = self.lock();
            for counter in counters {
                *inner.gens.entry(counter).or_insert(0) += 1;
            }
            return;
        };
        if let Err(err) = Self::incr(shared, &counters).await {
            // Owed: the cache is bypassed until the `INCR` goes through (see `settle`).
            tracing::error!(error = %err, ?counters, "SAKIP cache: invalidation failed; bypassing the cache until it goes through.");
            self.unbumped().extend(counters);
        }
    }

    /// After a write to `opd`'s achievements of `year`: its reads of that year and the reads
    /// of every OPD of that year.
    pub async fn invalidate_achievements(&self, opd: i32, year: i32) {
        let [_, of_opd] = counters(year, Some(opd));
        let [_, of_year] = counters(year, None);
        self.bump([of_opd, of_year]).await;
    }

    /// After a write to `opd`'s indicators or targets (any year): its reads and the reads of
    /// every OPD.
    pub async fn invalidate_indicators(&self, opd: i32) {
        let [of_opd, _] = counters(0, Some(opd));
        let [all, _] = counters(0, None);
        self.bump([of_opd, all]).await;
    }
}
