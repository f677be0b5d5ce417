//! Access history and analytics (seed 000 "History & Analytics"): the `access_logs` read
//! model fed by ingest in the same transaction as the events, the filtered history with a
//! keyset cursor, the dashboard and reports, and CSV/XLSX/PDF exports. Handlers are thin;
//! the service functions ([`service`], [`analytics`], [`export`]) are what other modules
//! (the admin dashboard) call. See `README.md` in this folder.

pub mod analytics;
pub mod export;
pub mod filter;
pub(crate) mod migration;
pub mod privacy;
pub(crate) mod routes;
pub mod service;
pub mod store;

use std::sync::Arc;

use platform::{
    domain::{Domain, PersonalData, Projector, RetentionPolicy},
    ingest::clock::ClockCorrection,
    state::AppState,
};
use protocol::Envelope;
use sea_orm::{DatabaseTransaction, DbErr};
use sea_orm_migration::MigrationTrait;
use time::OffsetDateTime;
use utoipa::OpenApi;

pub use filter::{AccessFilter, FilterParams};
pub use routes::router;
pub use store::record;

/// The access history domain.
#[derive(Debug)]
pub struct History;

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::access_history,
        routes::dashboard,
        routes::reports,
        routes::export_file
    ),
    tags((name = "history", description = "Seed 000 access history, analytics and exports"))
)]
struct ApiDoc;

#[async_trait::async_trait]
impl Domain for History {
    fn name(&self) -> &'static str {
        "history"
    }

    /// `dashboard.js`: its pages, served at `/assets/domains/history.js`.
    fn dashboard(&self) -> Option<platform::domain::DashboardModule> {
        Some(platform::domain::DashboardModule {
            name: "history",
            source: include_str!("../dashboard.js"),
        })
    }

    /// History is read by the access admins; it has no roles of its own.
    fn roles(&self) -> &'static [&'static str] {
        &[]
    }

    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(migration::M0004History),
            Box::new(migration::M0013NameStatistics),
        ]
    }

    fn router(&self) -> axum::Router<AppState> {
        routes::router()
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        ApiDoc::openapi()
    }

    fn projector(&self) -> Option<Arc<dyn Projector>> {
        Some(Arc::new(AccessLogProjector))
    }

    /// A person's access-log rows: exported, pseudonymised on erasure.
    fn personal_data(&self) -> Option<Arc<dyn PersonalData>> {
        Some(Arc::new(privacy::AccessLogRecords))
    }

    /// Access-log rows lose the person after a year.
    fn retention(&self) -> Vec<Arc<dyn RetentionPolicy>> {
        vec![Arc::new(privacy::AccessLogRetention)]
    }
}

/// Writes the access log in the ingest transaction.
#[derive(Debug)]
pub struct AccessLogProjector;

#[async_trait::async_trait]
impl Projector for AccessLogProjector {
    async fn events(
        &self,
        _platform: &platform::state::Platform,
        txn: &DatabaseTransaction,
        events: &[&Envelope],
        now: OffsetDateTime,
    ) -> Result<(), DbErr> {
        store::record(txn, events.iter().copied(), now)
            .await
            .map(|_| ())
    }

    /// The access log moves to the times the cloud dated the events at.
    async fn clock_corrected(
        &self,
        _platform: &platform::state::Platform,
        txn: &DatabaseTransaction,
        corrections: &[ClockCorrection],
    ) -> Result<(), DbErr> {
        store::redate(txn, corrections).await
    }
}
