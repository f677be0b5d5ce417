//! The in-process cache of `GET /performance/data`. Every entry carries the generation of
//! its year (and the global generation) taken *before* it was computed; a write bumps the
//! year it touched (or everything, for a change to targets or indicators) after its
//! transaction commits, so an entry computed before a write is never served after it —
//! no key scans needed. Entries also expire after five minutes (the seed's TTL).

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use serde_json::Value;

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
    entries: HashMap<String, (Stamp, Instant, Value)>,
}

/// The performance-data cache (one per cloud).
#[derive(Debug, Default)]
pub struct PerformanceCache {
    inner: Mutex<Inner>,
}

impl PerformanceCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The current generations of `year`; take it before reading the database.
    pub fn stamp(&self, year: i32) -> Stamp {
        let inner = self.lock();
        Stamp {
            global: inner.global,
            year: inner.years.get(&year).copied().unwrap_or(0),
        }
    }

    /// The entry under `key` if it was computed under `stamp` and is fresh.
    pub fn get(&self, key: &str, stamp: Stamp) -> Option<Value> {
        let inner = self.lock();
        let (at, when, value) = inner.entries.get(key)?;
        (*at == stamp && when.elapsed() < TTL).then(|| value.clone())
    }

    pub fn put(&self, key: String, stamp: Stamp, value: Value) {
        let mut inner = self.lock();
        if inner.entries.len() >= MAX_ENTRIES {
            inner.entries.clear();
        }
        inner.entries.insert(key, (stamp, Instant::now(), value));
    }

    /// After a write to `year`'s achievements.
    pub fn invalidate_year(&self, year: i32) {
        let mut inner = self.lock();
        *inner.years.entry(year).or_insert(0) += 1;
    }

    /// After a write that may touch any year (targets, indicators).
    pub fn invalidate_all(&self) {
        let mut inner = self.lock();
        inner.global += 1;
        inner.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_write_after_the_stamp_hides_the_entry() {
        let cache = PerformanceCache::default();
        let stamp = cache.stamp(2025);
        cache.invalidate_year(2025);
        cache.put("k".into(), stamp, Value::Bool(true));
        assert_eq!(cache.get("k", cache.stamp(2025)), None);
        let fresh = cache.stamp(2025);
        cache.put("k".into(), fresh, Value::Bool(false));
        assert_eq!(cache.get("k", cache.stamp(2025)), Some(Value::Bool(false)));
        cache.invalidate_year(2024);
        assert_eq!(cache.get("k", cache.stamp(2025)), Some(Value::Bool(false)));
        cache.invalidate_all();
        assert_eq!(cache.get("k", cache.stamp(2025)), None);
    }
}
