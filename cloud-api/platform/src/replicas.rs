//! What the cloud's replicas share through Redis when `redis_url` (`GERBANG_REDIS_URL`) is
//! set: the sign-in rate limits (one GCRA state per key, kept in Redis, so a guesser who
//! spreads attempts over every replica meets one limit) and session changes (a user disabled
//! or removed on one replica is locked out on all of them at once: each replica's epoch
//! cache hears the change and closes that user's sockets). Without Redis each replica keeps
//! its own — exact for the single replica that is the default.
//!
//! When Redis goes away the limits fall back to each replica's own and every replica drops
//! its epoch cache as soon as it hears Redis again (it may have missed a change meanwhile),
//! so an outage costs precision, never a lockout that does not end.

use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use redis::{aio::ConnectionManager, AsyncCommands, Script};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{identity::epochs::Standing, state::Platform};

// Everything lives under the deployment's `redis_namespace` (default `gerbang`), so several
// deployments (or test runs) can share one Redis: session changes go out on
// `{namespace}:sessions`; the rate limits' states live at
// `{namespace}:limit:{kind}:{sha256 of the key}` (account identifiers are personal data;
// Redis only ever sees their hash).

/// GCRA in one atomic step: KEYS[1] holds the theoretical arrival time in ms; ARGV[1] is
/// the emission interval in ms and ARGV[2] the burst. Answers 0 when the attempt is
/// allowed (and records it), else the milliseconds until one would be. Redis's own clock
/// judges, so replicas whose clocks disagree still share one limit.
const GCRA: &str = r"
local now_parts = redis.call('TIME')
local now = now_parts[1] * 1000 + math.floor(now_parts[2] / 1000)
local interval = tonumber(ARGV[1])
local tolerance = interval * (tonumber(ARGV[2]) - 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then return allow_at - now end
local next_tat = tat + interval
redis.call('SET', KEYS[1], next_tat, 'PX', next_tat - now)
return 0
";

/// A session change as it crosses between replicas.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
struct SessionChange {
    user: Uuid,
    epoch: i64,
    active: bool,
}

/// The link to Redis, when one is configured.
#[derive(Clone)]
pub struct Replicas {
    shared: Option<Shared>,
}

#[derive(Clone)]
struct Shared {
    client: redis::Client,
    conn: ConnectionManager,
    gcra: Arc<Script>,
    namespace: Arc<str>,
}

impl Shared {
    fn sessions_channel(&self) -> String {
        format!("{}:sessions", self.namespace)
    }
}

impl std::fmt::Debug for Replicas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replicas")
            .field("redis", &self.shared.is_some())
            .finish()
    }
}

impl Replicas {
    /// Every replica for itself (no Redis).
    pub fn alone() -> Self {
        Self { shared: None }
    }

    /// Connects to Redis at `url` (checked with a PING, so a wrong URL fails the start); the
    /// deployment's keys and channels live under `namespace`.
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let mut conn = ConnectionManager::new(client.clone()).await?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(Self {
            shared: Some(Shared {
                client,
                conn,
                gcra: Arc::new(Script::new(GCRA)),
                namespace: namespace.into(),
            }),
        })
    }

    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// One attempt against the shared limit `kind`/`key` of `burst` attempts, one more
    /// every `interval`: `Some(Ok)` allowed, `Some(Err(wait))` refused, `None` when there is
    /// no Redis or it did not answer (the caller's own limiter decides).
    pub async fn limit(
        &self,
        kind: &str,
        key: &str,
        burst: u32,
        interval: Duration,
    ) -> Option<Result<(), Duration>> {
        let shared = self.shared.as_ref()?;
        let redis_key = format!(
            "{}:limit:{kind}:{}",
            shared.namespace,
            crate::secrets::sha256_hex(key.as_bytes())
        );
        let interval_ms = u64::try_from(interval.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut conn = shared.conn.clone();
        let answer: Result<u64, _> = shared
            .gcra
            .key(redis_key)
            .arg(interval_ms)
            .arg(burst.max(1))
            .invoke_async(&mut conn)
            .await;
        match answer {
            Ok(0) => Some(Ok(())),
            Ok(wait_ms) => Some(Err(Duration::from_millis(wait_ms))),
            Err(e) => {
                tracing::warn!(error = %e, "Redis did not answer a rate-limit check; this replica's own limit applies.");
                None
            }
        }
    }

    /// Tells the other replicas that `user`'s sessions changed.
    pub async fn publish_session_change(&self, user: Uuid, standing: Standing) {
        let Some(shared) = &self.shared else { return };
        let change = SessionChange {
            user,
            epoch: standing.epoch,
            active: standing.active,
        };
        let Ok(payload) = serde_json::to_string(&change) else {
            return;
        };
        let mut conn = shared.conn.clone();
        if let Err(e) = conn
            .publish::<_, _, ()>(shared.sessions_channel(), payload)
            .await
        {
            tracing::warn!(error = %e, %user, "Could not tell the other replicas of a session change.");
        }
    }

    /// Applies the other replicas' session changes to `platform` until `shutdown`,
    /// resubscribing after Redis drops (with the epoch cache emptied each time).
    pub fn spawn_listener(&self, platform: Arc<Platform>, shutdown: CancellationToken) {
        let Some(shared) = self.shared.clone() else {
            return;
        };
        tokio::spawn(async move {
            let mut backoff = Duration::from_millis(200);
            while !shutdown.is_cancelled() {
                match listen(&shared, &platform, &shutdown).await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "Lost the replicas' session channel; retrying.");
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        });
    }
}

/// One subscription: returns `Ok` on shutdown, `Err` when Redis goes away.
async fn listen(
    shared: &Shared,
    platform: &Platform,
    shutdown: &CancellationToken,
) -> Result<(), redis::RedisError> {
    let mut pubsub = shared.client.get_async_pubsub().await?;
    pubsub.subscribe(shared.sessions_channel()).await?;
    // Changes published while this replica was not listening are unknown: start over.
    platform.sessions.forget_all();
    let mut messages = pubsub.on_message();
    loop {
        let message = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            message = messages.next() => message,
        };
        let Some(message) = message else {
            return Err(redis::RedisError::from((
                redis::ErrorKind::Io,
                "the subscription ended",
            )));
        };
        let payload: String = match message.get_payload() {
            Ok(payload) => payload,
            Err(e) => {
                tracing::warn!(error = %e, "An unreadable session change; ignored.");
                continue;
            }
        };
        match serde_json::from_str::<SessionChange>(&payload) {
            Ok(change) => {
                platform.sessions.record(
                    change.user,
                    Standing {
                        epoch: change.epoch,
                        active: change.active,
                    },
                );
                platform.realtime.disconnect_user(change.user).await;
            }
            Err(e) => tracing::warn!(error = %e, "A malformed session change; ignored."),
        }
    }
}
