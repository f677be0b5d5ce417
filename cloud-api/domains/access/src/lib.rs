//! The access domain (seed 000, smart door): door status and remote door control under
//! `/api/door/...`. The door status is a read model kept by [`DoorProjector`] inside the
//! ingest transaction, from device events and retained state, and served from the
//! [`board::DoorBoard`] in memory on PostgreSQL.

pub mod board;
pub(crate) mod migration;
pub(crate) mod routes;
pub mod status;

use std::sync::Arc;

use board::DoorBoard;
use platform::{
    domain::{Domain, DomainStates, PrepareContext, Projector},
    state::AppState,
    CloudError,
};
use protocol::{DeviceId, DeviceState, Envelope};
use sea_orm::{DatabaseTransaction, DbErr};
use sea_orm_migration::MigrationTrait;
use time::OffsetDateTime;
use utoipa::OpenApi;

pub use routes::router;
use status::DoorUpdate;

/// The access domain.
#[derive(Debug, Default)]
pub struct Access {
    board: Arc<DoorBoard>,
}

#[derive(OpenApi)]
#[openapi(
    paths(routes::door_status, routes::door_control),
    tags((name = "access", description = "Seed 000 door domain"))
)]
struct ApiDoc;

#[async_trait::async_trait]
impl Domain for Access {
    fn name(&self) -> &'static str {
        "access"
    }

    /// `dashboard.js`: its pages, served at `/assets/domains/access.js`.
    fn dashboard(&self) -> Option<platform::domain::DashboardModule> {
        Some(platform::domain::DashboardModule {
            name: "access",
            source: include_str!("../dashboard.js"),
        })
    }

    fn roles(&self) -> &'static [&'static str] {
        &["admin", "member"]
    }

    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(migration::M0002Access),
            Box::new(migration::M0031DoorStatusNotify),
        ]
    }

    async fn prepare(
        &self,
        _context: &PrepareContext<'_>,
        states: &mut DomainStates,
    ) -> Result<(), CloudError> {
        states.insert(self.board.clone());
        Ok(())
    }

    fn spawn(&self, platform: &AppState, shutdown: &tokio_util::sync::CancellationToken) {
        let board = self.board.clone();
        let db = platform.db.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move { board.listen(db, shutdown).await });
    }

    fn router(&self) -> axum::Router<AppState> {
        routes::router()
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        ApiDoc::openapi()
    }

    fn projector(&self) -> Option<Arc<dyn Projector>> {
        Some(Arc::new(DoorProjector {
            board: self.board.clone(),
        }))
    }
}

/// Keeps each door's status from its events and its retained state.
#[derive(Debug)]
pub struct DoorProjector {
    board: Arc<DoorBoard>,
}

#[async_trait::async_trait]
impl Projector for DoorProjector {
    async fn events(
        &self,
        _platform: &platform::state::Platform,
        txn: &DatabaseTransaction,
        events: &[&Envelope],
        _now: OffsetDateTime,
    ) -> Result<(), DbErr> {
        // Per device, in event order: the batch may hold several doors.
        let mut per_device: Vec<(&DeviceId, Vec<DoorUpdate>)> = Vec::new();
        for envelope in events {
            let Some(update) = DoorUpdate::from_event(envelope) else {
                continue;
            };
            match per_device.iter_mut().find(|(d, _)| **d == envelope.device) {
                Some((_, updates)) => updates.push(update),
                None => per_device.push((&envelope.device, vec![update])),
            }
        }
        for (device, updates) in per_device {
            status::apply(txn, device.as_str(), &updates).await?;
        }
        Ok(())
    }

    async fn device_state(
        &self,
        txn: &DatabaseTransaction,
        device: &DeviceId,
        state: &DeviceState,
    ) -> Result<(), DbErr> {
        status::apply(txn, device.as_str(), &[DoorUpdate::from_state(state)]).await
    }

    fn committed(&self, devices: &[&DeviceId]) {
        for device in devices {
            self.board.changed(device.as_str());
        }
    }
}
