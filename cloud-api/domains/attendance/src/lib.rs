//! Seed 001's face attendance on the platform's users: register, login with the 7-day
//! `token` cookie, logout, profile, and attendance — one record per person per site-local
//! day (`people.time_zone`, Asia/Jakarta by default), from the web (photo checked against the
//! enrolled face) or from a kiosk's `Attendance` event (recorded by ingest) — and, for
//! admins, a day's table of who was present, late or absent (`daily`).

pub mod daily;
pub mod entities;
pub(crate) mod migration;
pub(crate) mod routes;
pub mod service;

use std::{collections::HashMap, sync::Arc, time::Duration};

use people::PeopleRuntime;
use platform::{
    domain::{Domain, DomainStates, PersonalData, PrepareContext, Projector},
    identity::JwtKeys,
    ingest::clock::ClockCorrection,
    state::{AppState, Platform},
    CloudError,
};
use protocol::{Envelope, Event};
use sea_orm::{
    sea_query::Expr, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use sea_orm_migration::MigrationTrait;
use time::OffsetDateTime;
use utoipa::OpenApi;
use uuid::Uuid;

use entities::attendance;
pub use routes::router;
pub use service::{check_in, record_device_event, records_of, AttendanceView};

platform::policy! {
    /// Attendance admins (seed 001).
    AttendanceAdmin => "attendance" ["admin"];
}

/// The attendance domain.
#[derive(Debug)]
pub struct Attendance;

/// The `token` cookie of seed 001 is valid for 7 days.
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Signs the 7-day `token` cookie (with the platform's access-token secret, so the
/// platform's guards accept it too).
#[derive(Debug)]
pub struct AttendanceSessions {
    pub keys: JwtKeys,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::register,
        routes::login,
        routes::logout,
        routes::profile,
        routes::update_profile,
        routes::check_in,
        routes::list,
        routes::daily
    ),
    tags((name = "attendance", description = "Seed 001 face attendance: register, login (`token` cookie, 7 days), logout, profile, attendance; the daily table for admins"))
)]
struct ApiDoc;

#[async_trait::async_trait]
impl Domain for Attendance {
    fn name(&self) -> &'static str {
        "attendance"
    }

    /// `dashboard.js`: its pages, served at `/assets/domains/attendance.js`.
    fn dashboard(&self) -> Option<platform::domain::DashboardModule> {
        Some(platform::domain::DashboardModule {
            name: "attendance",
            source: include_str!("../dashboard.js"),
        })
    }

    fn roles(&self) -> &'static [&'static str] {
        &["admin", "mahasiswa"]
    }

    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(migration::M0010Attendance),
            Box::new(migration::M0011AttendanceCheckOut),
        ]
    }

    async fn prepare(
        &self,
        context: &PrepareContext<'_>,
        states: &mut DomainStates,
    ) -> Result<(), CloudError> {
        states.insert(AttendanceSessions {
            keys: JwtKeys::with_ttl(context.jwt_secret, SESSION_TTL),
        });
        Ok(())
    }

    fn router(&self) -> axum::Router<AppState> {
        routes::router()
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        ApiDoc::openapi()
    }

    fn projector(&self) -> Option<Arc<dyn Projector>> {
        Some(Arc::new(AttendanceRecords))
    }

    fn personal_data(&self) -> Option<Arc<dyn PersonalData>> {
        Some(Arc::new(AttendanceRecords))
    }
}

/// The attendance records: kept from kiosk events in the ingest transaction, counted per
/// person for the admin list, removed with their person.
#[derive(Debug)]
pub struct AttendanceRecords;

#[async_trait::async_trait]
impl Projector for AttendanceRecords {
    /// One attendance record per person per day, whichever way it arrived.
    async fn events(
        &self,
        platform: &Platform,
        txn: &DatabaseTransaction,
        events: &[&Envelope],
        _now: OffsetDateTime,
    ) -> Result<(), DbErr> {
        for envelope in events {
            if matches!(envelope.event, Event::Attendance { .. }) {
                record_device_event(txn, platform.domain::<PeopleRuntime>(), envelope).await?;
            }
        }
        Ok(())
    }

    /// Kiosk events stamped before the kiosk's clock was set move to their day.
    async fn clock_corrected(
        &self,
        platform: &Platform,
        txn: &DatabaseTransaction,
        corrections: &[ClockCorrection],
    ) -> Result<(), DbErr> {
        service::redate_device_events(txn, platform.domain::<PeopleRuntime>(), corrections).await
    }
}

#[async_trait::async_trait]
impl PersonalData for AttendanceRecords {
    async fn count(
        &self,
        db: &DatabaseConnection,
        users: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, u64>, DbErr> {
        let mut counts = attendance::Entity::find()
            .select_only()
            .column(attendance::Column::UserId)
            .column_as(Expr::col(attendance::Column::Id).count(), "n")
            .group_by(attendance::Column::UserId);
        if let Some(users) = users {
            counts = counts.filter(attendance::Column::UserId.is_in(users.iter().copied()));
        }
        Ok(counts
            .into_tuple::<(Uuid, i64)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, n)| (id, n.max(0) as u64))
            .collect())
    }

    async fn export(
        &self,
        db: &DatabaseConnection,
        user: Uuid,
    ) -> Result<Vec<platform::domain::ExportFile>, DbErr> {
        let rows = attendance::Entity::find()
            .filter(attendance::Column::UserId.eq(user))
            .order_by_asc(attendance::Column::Id)
            .into_json()
            .all(db)
            .await?;
        Ok(vec![platform::domain::ExportFile::json(
            "attendance.json",
            &rows,
        )])
    }

    async fn erase(&self, txn: &DatabaseTransaction, user: Uuid) -> Result<(), DbErr> {
        attendance::Entity::delete_many()
            .filter(attendance::Column::UserId.eq(user))
            .exec(txn)
            .await
            .map(|_| ())
    }
}
