//! The shared state every handler and background task sees.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use sea_orm::DatabaseConnection;

use super::{
    clock::Clock, commands::PendingCommands, devices::DeviceCache, identity::epochs::Standing,
    identity::google::GoogleVerifier, identity::JwtKeys, identity::SessionEpochs, metrics::Metrics,
    mqtt::MqttHandle, realtime::Realtime, security::RateLimits,
};
use crate::config::CloudConfig;

/// Handlers get this through `State<AppState>`.
pub type AppState = Arc<Platform>;

/// The platform core: database, keys, broker client, caches and metrics.
#[derive(Debug)]
pub struct Platform {
    pub config: CloudConfig,
    pub db: DatabaseConnection,
    /// Seals commands and receipts; devices verify with its public half.
    pub cloud_key: protocol::Keypair,
    pub jwt: JwtKeys,
    /// Every user's session epoch, cached (disabled users' tokens stop working at once).
    pub sessions: Arc<SessionEpochs>,
    pub metrics: Metrics,
    pub devices: DeviceCache,
    pub mqtt: MqttHandle,
    pub commands: PendingCommands,
    /// Base URL devices are told (enrolment command).
    pub public_url: String,
    /// Broker URL devices are told at enrolment.
    pub device_mqtt_url: String,
    /// False once shutdown has begun.
    pub running: AtomicBool,
    /// The clock sessions are judged by (tests move it forward).
    pub clock: Arc<Clock>,
    /// Sign-in rate limits.
    pub limits: RateLimits,
    /// Google ID token verification.
    pub google: GoogleVerifier,
    /// Socket.IO push.
    pub realtime: Realtime,
    /// People, attendance and camera runtime (template cipher, time zone, camera hub).
    pub people: crate::people::PeopleRuntime,
}

impl Platform {
    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// After a transaction that ended `user`'s sessions has committed: the epoch cache
    /// learns their new standing and their open sockets close.
    pub async fn sessions_ended(&self, user: uuid::Uuid, standing: Standing) {
        self.sessions.record(user, standing);
        self.realtime.disconnect_user(user).await;
    }
}
