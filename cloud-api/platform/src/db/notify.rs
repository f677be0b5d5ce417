//! Following PostgreSQL `NOTIFY`s: the means by which a replica keeps answers in memory and
//! still hears of every change, whoever made it (another replica, a job, maintenance SQL).
//! Triggers notify a channel on commit; [`follow`] `LISTEN`s and tells a [`ChangeSink`]
//! what it heard, and — as important — when it may have missed something (before the
//! `LISTEN` took effect, or after the connection dropped), so the sink serves nothing from
//! memory until it hears again. On SQLite nothing is followed and the sink stays off.
//!
//! [`Generation`] is the simplest sink: a counter that moves on every change, for caches
//! whose entries all depend on the same tables.

use std::{
    sync::atomic::{AtomicBool, AtomicU64, Ordering},
    time::Duration,
};

use sea_orm::{sqlx::postgres::PgListener, ConnectionTrait, DatabaseConnection, DbBackend};
use tokio_util::sync::CancellationToken;

/// What a follower of a channel is told.
pub trait ChangeSink: Send + Sync {
    /// A notification: `payload` is what the trigger sent (often a row's id).
    fn changed(&self, payload: &str);
    /// Anything may have changed unheard (the listener just (re)started or stopped).
    fn forget_all(&self);
    /// Whether every change is being heard from now on.
    fn set_live(&self, live: bool);
}

/// Listens on `channel` and tells `sink` until `shutdown`, reconnecting with back-off. On
/// SQLite it returns at once and the sink is never live.
pub async fn follow(
    db: DatabaseConnection,
    channel: &str,
    sink: &dyn ChangeSink,
    shutdown: CancellationToken,
) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let pool = db.get_postgres_connection_pool().clone();
    let mut backoff = Duration::from_millis(200);
    while !shutdown.is_cancelled() {
        let connected = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(channel).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        }
        .await;
        let mut listener = match connected {
            Ok(listener) => listener,
            Err(err) => {
                tracing::warn!(error = %err, channel, "Cannot listen for changes; reading the database.");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        backoff = Duration::from_millis(200);
        // Whatever changed before the LISTEN took effect is unknown: start afresh.
        sink.forget_all();
        sink.set_live(true);
        tracing::debug!(channel, "Following changes.");
        loop {
            let received = tokio::select! {
                () = shutdown.cancelled() => None,
                received = listener.try_recv() => Some(received),
            };
            match received {
                None => break,
                Some(Ok(Some(notification))) => sink.changed(notification.payload()),
                Some(Ok(None)) | Some(Err(_)) => {
                    // The connection dropped; notifications may have been lost with it.
                    sink.set_live(false);
                    sink.forget_all();
                    tracing::warn!(channel, "Change notifications interrupted; reconnecting.");
                    break;
                }
            }
        }
    }
    sink.set_live(false);
}

/// A counter that moves on every change heard or made here; `None` while changes may go
/// unheard. A cache stores an entry under the generation taken *before* computing it and
/// serves it only while the generation is the same, so nothing stale is ever served.
#[derive(Debug, Default)]
pub struct Generation {
    live: AtomicBool,
    value: AtomicU64,
}

impl Generation {
    /// The current generation, or `None` when nothing may be served from memory.
    pub fn current(&self) -> Option<u64> {
        let value = self.value.load(Ordering::Acquire);
        self.live.load(Ordering::Acquire).then_some(value)
    }

    /// Something changed: every entry stored so far is out of date.
    pub fn bump(&self) {
        self.value.fetch_add(1, Ordering::AcqRel);
    }
}

impl ChangeSink for Generation {
    fn changed(&self, _payload: &str) {
        self.bump();
    }

    fn forget_all(&self) {
        self.bump();
    }

    fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generation_serves_nothing_until_live_and_moves_on_every_change() {
        let generation = Generation::default();
        assert_eq!(generation.current(), None);
        generation.set_live(true);
        let first = generation.current();
        assert!(first.is_some());
        generation.changed("42");
        assert_ne!(generation.current(), first);
        let second = generation.current();
        generation.forget_all();
        assert_ne!(generation.current(), second);
        generation.set_live(false);
        assert_eq!(generation.current(), None);
    }
}
