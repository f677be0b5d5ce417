//! The shared state every handler and background task sees.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use sea_orm::DatabaseConnection;

use super::{
    clock::Clock, commands::PendingCommands, devices::DeviceCache, identity::epochs::Standing,
    identity::google::GoogleVerifier, identity::JwtKeys, identity::SessionEpochs, metrics::Metrics,
    mqtt::MqttHandle, realtime::Realtime, replicas::Replicas, security::RateLimits,
};
use crate::{
    config::CloudConfig,
    domain::{DomainStates, PersonalData, Projector, RetentionPolicy, RoleCatalog},
};

/// Handlers get this through `State<AppState>`.
pub type AppState = Arc<Platform>;

/// The platform core: database, keys, broker client, caches and metrics.
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
    /// What the replicas share through Redis (rate limits, session changes), if configured.
    pub replicas: Replicas,
    /// Google ID token verification.
    pub google: GoogleVerifier,
    /// Socket.IO push.
    pub realtime: Realtime,
    /// Every domain's roles.
    pub roles: RoleCatalog,
    /// The domains' read models of device events, run inside the ingest transaction.
    pub projectors: Vec<Arc<dyn Projector>>,
    /// What each domain keeps about users, by domain name.
    pub personal_data: Vec<(&'static str, Arc<dyn PersonalData>)>,
    /// What the platform and each domain keep for a limited time (the retention job).
    pub retention: Vec<Arc<dyn RetentionPolicy>>,
    /// What each domain keeps while running (see [`Platform::domain`]).
    pub domains: DomainStates,
}

impl std::fmt::Debug for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Platform")
            .field("config", &self.config)
            .field("public_url", &self.public_url)
            .field("device_mqtt_url", &self.device_mqtt_url)
            .field("roles", &self.roles)
            .field("projectors", &self.projectors.len())
            .field(
                "personal_data",
                &self
                    .personal_data
                    .iter()
                    .map(|(n, _)| n)
                    .collect::<Vec<_>>(),
            )
            .field("domains", &self.domains)
            .finish_non_exhaustive()
    }
}

impl Platform {
    /// Tells every projector that a transaction touching these devices committed.
    pub fn committed(&self, devices: &[&protocol::DeviceId]) {
        for projector in &self.projectors {
            projector.committed(devices);
        }
    }

    /// The runtime state of type `T` that a domain put in [`crate::domain::Domain::prepare`].
    ///
    /// # Panics
    /// When no domain put one: the assembly forgot to register the domain, which every test
    /// of that domain shows at once.
    pub fn domain<T: std::any::Any + Send + Sync>(&self) -> &T {
        match self.domains.get::<T>() {
            Some(value) => value,
            None => panic!(
                "no domain registered a {}: is its domain in the assembly's list?",
                std::any::type_name::<T>()
            ),
        }
    }

    /// The personal data of the domain `name`, if it is registered and keeps any.
    pub fn personal_data_of(&self, name: &str) -> Option<&dyn PersonalData> {
        self.personal_data
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, data)| data.as_ref())
    }

    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// After a transaction that ended `user`'s sessions has committed: the epoch cache of
    /// every replica learns their new standing and their open sockets close.
    pub async fn sessions_ended(&self, user: uuid::Uuid, standing: Standing) {
        self.sessions.record(user, standing);
        self.replicas.publish_session_change(user, standing).await;
        self.realtime.disconnect_user(user).await;
    }
}
