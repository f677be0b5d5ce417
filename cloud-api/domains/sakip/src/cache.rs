//! The cache of `GET /performance/data`: in process by default, in Redis when a URL is
//! configured (`[sakip] redis_url` or `GERBANG_REDIS_URL`), so that every replica sees
//! the others' invalidations.
//!
//! Invalidation needs no key scans: every entry is stored under the generations of its year
//! and of everything (the global one), taken *before* it was computed. A write bumps its
//! year's generation (or the global one, for a change to targets or indicators) after its
//! transaction commits, so an entry computed before a write is never read after it; old
//! entries simply expire (five minutes, the seed's TTL). In Redis the generations are
//! counters (`INCR`) and an entry's key carries them.
//!
//! Entries are the answer's bytes, already serialised (envelope included), so a hit costs a
//! reference-count increment in process and one `GET` in Redis, never a re-serialisation.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use axum::body::Bytes;
use redis::{aio::ConnectionManager, AsyncCommands};

const TTL: Duration = Duration::from_secs(300);
const MAX_ENTRIES: usize = 4096;

/// The generations an entry was computed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    global: u64,
    year: u64,
}

#[derive(Debug, Default)]
struct Inner {
    global: u64,
    years: HashMap<i32, u64>,
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

    /// The current generations of `year`; take it before reading the database. `None` when
    /// Redis does not answer (the read then goes to the database and is not cached).
    pub async fn stamp(&self, year: i32) -> Option<Stamp> {
        let Some(shared) = &self.redis else {
            let inner = self.lock();
            return Some(Stamp {
                global: inner.global,
                year: inner.years.get(&year).copied().unwrap_or(0),
            });
        };
        let mut conn = shared.conn.clone();
        let keys = [
            format!("{}:gen:global", shared.prefix),
            format!("{}:gen:year:{year}", shared.prefix),
        ];
        match conn.mget::<_, Vec<Option<u64>>>(&keys).await {
            Ok(gens) => Some(Stamp {
                global: gens.first().copied().flatten().unwrap_or(0),
                year: gens.get(1).copied().flatten().unwrap_or(0),
            }),
            Err(err) => {
                tracing::warn!(error = %err, "SAKIP cache: Redis did not answer; reading through.");
                None
            }
        }
    }

    fn redis_key(prefix: &str, key: &str, stamp: Stamp) -> String {
        format!("{prefix}:perf:{}:{}:{key}", stamp.global, stamp.year)
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

    async fn bump(&self, counter: String) {
        let Some(shared) = &self.redis else {
            return;
        };
        let mut conn = shared.conn.clone();
        let bumped: Result<u64, _> = conn.incr(format!("{}:{counter}", shared.prefix), 1).await;
        if let Err(err) = bumped {
            // Entries stay readable until their TTL: say so loudly.
            tracing::error!(error = %err, %counter, "SAKIP cache: invalidation failed; entries may be stale until they expire.");
        }
    }

    /// After a write to `year`'s achievements.
    pub async fn invalidate_year(&self, year: i32) {
        if self.redis.is_some() {
            return self.bump(format!("gen:year:{year}")).await;
        }
        let mut inner = self.lock();
        *inner.years.entry(year).or_insert(0) += 1;
    }

    /// After a write that may touch any year (targets, indicators).
    pub async fn invalidate_all(&self) {
        if self.redis.is_some() {
            return self.bump("gen:global".into()).await;
        }
        let mut inner = self.lock();
        inner.global += 1;
        inner.entries.clear();
    }
}
