//! How a business domain plugs into the platform. A domain describes itself once — its
//! name, roles, migrations, router, OpenAPI document, the runtime state it keeps, an optional
//! projector that runs inside the ingest transaction, and its dashboard module — and the
//! assembly hands the list to [`crate::start`]. The platform depends on no domain.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    fmt,
    sync::Arc,
};

use axum::Router;
use protocol::{DeviceId, DeviceState, Envelope};
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};
use sea_orm_migration::MigrationTrait;
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::{
    config::CloudConfig,
    ingest::clock::ClockCorrection,
    start_error::CloudError,
    state::{AppState, Platform},
};

/// One business domain, as the platform sees it.
#[async_trait::async_trait]
pub trait Domain: Send + Sync + 'static {
    /// The key of the domain's role in a user's role map and of its configuration section
    /// (`[name]` in the TOML file, `GERBANG_NAME_*` in the environment).
    fn name(&self) -> &'static str;

    /// The roles a user may hold in this domain. The first is the domain's top role: the
    /// platform's bootstrap admin holds it.
    fn roles(&self) -> &'static [&'static str];

    /// The domain's migrations, in order. A released migration keeps its name forever, so
    /// existing databases upgrade in place.
    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }

    /// Builds what the domain keeps while the cloud runs (read its configuration section
    /// with [`CloudConfig::section`]) and puts it into `states`. Runs after migrations,
    /// before the HTTP listener opens.
    async fn prepare(
        &self,
        _context: &PrepareContext<'_>,
        _states: &mut DomainStates,
    ) -> Result<(), CloudError> {
        Ok(())
    }

    /// The domain's routes (paths are absolute: `/api/…`, `/meals/api/…`).
    fn router(&self) -> Router<AppState>;

    /// The OpenAPI document of [`Domain::router`], merged into `/openapi.json`.
    fn openapi(&self) -> utoipa::openapi::OpenApi;

    /// A projector run inside every ingest transaction, if the domain keeps a read model of
    /// device events or state.
    fn projector(&self) -> Option<Arc<dyn Projector>> {
        None
    }

    /// What the domain keeps about each user, so that removing a user reaches it.
    fn personal_data(&self) -> Option<Arc<dyn PersonalData>> {
        None
    }

    /// What the domain keeps only for a limited time: the platform's daily retention job
    /// ([`crate::retention`]) enforces each policy's period (`[retention] periods`).
    fn retention(&self) -> Vec<Arc<dyn RetentionPolicy>> {
        Vec::new()
    }

    /// Background work started once the cloud serves; it ends when `shutdown` is cancelled.
    fn spawn(&self, _platform: &AppState, _shutdown: &CancellationToken) {}

    /// The domain's dashboard module, if it has pages.
    fn dashboard(&self) -> Option<DashboardModule> {
        None
    }
}

/// What [`Domain::prepare`] may use.
#[derive(Debug)]
pub struct PrepareContext<'a> {
    pub config: &'a CloudConfig,
    pub db: &'a DatabaseConnection,
    /// The secret access tokens are signed with (for a domain's own session tokens).
    pub jwt_secret: &'a [u8],
}

/// A domain's part of the dashboard: an ES module served at
/// `/assets/domains/{name}.js`, which registers its routes, navigation and words.
#[derive(Debug, Clone, Copy)]
pub struct DashboardModule {
    pub name: &'static str,
    pub source: &'static str,
}

/// A read model kept in step with device events: it runs inside the ingest transaction,
/// so what it writes can never disagree with the events stored.
#[async_trait::async_trait]
pub trait Projector: Send + Sync + 'static {
    /// The events of one batch that were new (re-deliveries are left out), in order. An
    /// event with `clock_synced = false` carries the time the cloud dated it at (see
    /// [`crate::ingest::clock`]) when its boot's offset was known, the device's otherwise.
    async fn events(
        &self,
        _platform: &Platform,
        _txn: &DatabaseTransaction,
        _events: &[&Envelope],
        _now: OffsetDateTime,
    ) -> Result<(), DbErr> {
        Ok(())
    }

    /// Snapshot references taken out of access decisions that named an erased person
    /// (events a door recorded offline before it learned of the erasure): whatever the
    /// domain holds or will receive under them belongs to someone erased.
    async fn erased_snapshots(
        &self,
        _txn: &DatabaseTransaction,
        _snapshots: &[crate::ingest::forget::ErasedSnapshot],
    ) -> Result<(), DbErr> {
        Ok(())
    }

    /// Events stored earlier with a device's unsynchronised clock, now dated by the cloud
    /// (their boot's offset was just learned), in the ingest transaction that learned it.
    async fn clock_corrected(
        &self,
        _platform: &Platform,
        _txn: &DatabaseTransaction,
        _corrections: &[ClockCorrection],
    ) -> Result<(), DbErr> {
        Ok(())
    }

    /// A device's retained state message, inside the transaction that records it.
    async fn device_state(
        &self,
        _txn: &DatabaseTransaction,
        _device: &DeviceId,
        _state: &DeviceState,
    ) -> Result<(), DbErr> {
        Ok(())
    }

    /// After a transaction that stored these devices' events or state, or registered or
    /// enrolled them, committed: for what a domain keeps outside the database (its caches).
    fn committed(&self, _devices: &[&DeviceId]) {}
}

/// The records a domain keeps about users.
#[async_trait::async_trait]
pub trait PersonalData: Send + Sync + 'static {
    /// How many records the domain keeps about each of `users` (every user when `None`);
    /// users with none may be left out.
    async fn count(
        &self,
        db: &DatabaseConnection,
        users: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, u64>, DbErr>;

    /// Removes what the domain keeps about `user`, inside the transaction that removes the
    /// user. Records that must stay (an access event) lose the person instead
    /// (pseudonymised).
    async fn erase(&self, txn: &DatabaseTransaction, user: Uuid) -> Result<(), DbErr>;

    /// Removes or pseudonymises what the domain derived from `user`'s face (the doors'
    /// recognitions of them, their snapshots) when their face registration goes (consent
    /// withdrawn), inside that transaction. Default: nothing.
    async fn erase_face(&self, _txn: &DatabaseTransaction, _user: Uuid) -> Result<(), DbErr> {
        Ok(())
    }

    /// What the domain keeps about `user`, as files of the person's own data export
    /// (`GET /api/users/{id}/export`): JSON, original images — never a biometric template.
    /// Default: nothing.
    async fn export(
        &self,
        _db: &DatabaseConnection,
        _user: Uuid,
    ) -> Result<Vec<ExportFile>, DbErr> {
        Ok(Vec::new())
    }
}

/// What happens to a record past its period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetentionAction {
    /// The record (and any file it points at) is removed.
    Delete,
    /// The record stays without the person (name, id, snapshot reference).
    Pseudonymise,
}

/// One kind of record a domain keeps for a limited time.
#[async_trait::async_trait]
pub trait RetentionPolicy: Send + Sync + 'static {
    /// `domain_records` (`camera_snapshots`): its key in `[retention] periods` and in the job's report.
    fn name(&self) -> &'static str;

    /// The period when the configuration names none, in days.
    fn default_days(&self) -> u32;

    fn action(&self) -> RetentionAction;

    /// Deletes or pseudonymises the records older than `cutoff`; returns how many it
    /// changed. Runs in the retention job, once across replicas.
    async fn enforce(&self, db: &DatabaseConnection, cutoff: OffsetDateTime) -> Result<u64, DbErr>;
}

/// One file of a person's data export, named relative to its domain's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl ExportFile {
    /// `value` as pretty JSON in `name`.
    pub fn json(name: impl Into<String>, value: &impl serde::Serialize) -> ExportFile {
        ExportFile {
            name: name.into(),
            bytes: serde_json::to_vec_pretty(value).unwrap_or_default(),
        }
    }
}

/// The runtime state each domain keeps, one value per type, fixed once the cloud starts.
#[derive(Default)]
pub struct DomainStates {
    values: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl DomainStates {
    /// Adds `value`; a second value of the same type replaces the first.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        self.values.insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`, if a domain put one.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
    }
}

impl fmt::Debug for DomainStates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DomainStates")
            .field("values", &self.values.len())
            .finish()
    }
}

/// Every domain's roles, as data: what user management accepts and what the bootstrap
/// admin holds.
#[derive(Debug, Clone, Default)]
pub struct RoleCatalog {
    domains: Vec<(&'static str, &'static [&'static str])>,
}

impl RoleCatalog {
    pub fn new(domains: &[Arc<dyn Domain>]) -> Self {
        Self {
            domains: domains.iter().map(|d| (d.name(), d.roles())).collect(),
        }
    }

    /// This catalog with `domain`'s roles added, unless the domain is already in it.
    pub fn with(mut self, domain: &'static str, roles: &'static [&'static str]) -> Self {
        if !self.domains.iter().any(|(d, _)| *d == domain) {
            self.domains.push((domain, roles));
        }
        self
    }

    /// True when `role` is one of `domain`'s roles.
    pub fn is_valid(&self, domain: &str, role: &str) -> bool {
        self.domains
            .iter()
            .any(|(d, roles)| *d == domain && roles.contains(&role))
    }

    /// Each domain's top role: what the bootstrap admin holds.
    pub fn top_roles(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.domains
            .iter()
            .filter_map(|(d, roles)| roles.first().map(|r| (*d, *r)))
    }

    /// The domains and their roles, in registration order.
    pub fn domains(&self) -> &[(&'static str, &'static [&'static str])] {
        &self.domains
    }
}

/// The domains a cloud runs, fixed at compile time by the assembly. The migrator needs them
/// without an instance, hence a type rather than a value.
pub trait DomainSet: Send + Sync + 'static {
    fn domains() -> Vec<Arc<dyn Domain>>;
}
