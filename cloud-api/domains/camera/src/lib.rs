//! Seed 000's camera and door settings: device snapshot uploads (`POST
//! protocol::sync::SNAPSHOTS_PATH`), `POST /api/camera/capture`, `GET /api/camera/recordings`
//! (+ the image, `DELETE`), the live MJPEG relay `GET /api/camera/stream`, and
//! `PUT /api/door/settings` (persisted, pushed to the device, answered after its ack).
//!
//! Snapshots are stored through `object_store` (a local directory by default) under keys the
//! cloud makes from the device id and a UUID — the cloud's own, or for a denial's evidence
//! the one the device chose (`?evidence=UUID`, see `evidence`); rows in `camera_records`
//! point at them.

pub mod entities;
mod evidence;
mod hub;
pub(crate) mod migration;
pub mod privacy;
pub(crate) mod routes;
pub(crate) mod settings;

pub use hub::{object_key, CameraHub, Stored};
pub use routes::{capture_snapshot, resolve_device, RecordingView};
pub use settings::{door_settings, update_door_settings};

use std::{path::PathBuf, sync::Arc};

use axum::Router;
use platform::{
    domain::{Domain, DomainStates, PersonalData, PrepareContext, Projector, RetentionPolicy},
    state::AppState,
    CloudError,
};
use sea_orm_migration::MigrationTrait;
use serde::Deserialize;
use utoipa::OpenApi;

pub fn router() -> Router<AppState> {
    routes::router().merge(settings::router())
}

/// The camera domain. Its object store, made in `prepare`, is shared with its personal data
/// and retention policy.
#[derive(Debug, Default)]
pub struct Camera {
    store: privacy::StoreCell,
}

/// `[camera]`: where snapshots are stored (`GERBANG_CAMERA_MEDIA_DIR`). An older
/// `[people] media_dir` is still honoured when `[camera]` does not set one.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CameraConfig {
    /// Local directory of the object store; default `{data_dir}/media`.
    pub media_dir: Option<PathBuf>,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::upload,
        routes::capture,
        routes::list_recordings,
        routes::recording_image,
        routes::delete_recording,
        routes::stream,
        settings::get_settings,
        settings::put_settings
    ),
    tags((name = "camera", description = "Seed 000 camera: capture, recordings, live MJPEG relay"))
)]
struct ApiDoc;

#[async_trait::async_trait]
impl Domain for Camera {
    fn name(&self) -> &'static str {
        "camera"
    }

    /// `dashboard.js`: its pages, served at `/assets/domains/camera.js`.
    fn dashboard(&self) -> Option<platform::domain::DashboardModule> {
        Some(platform::domain::DashboardModule {
            name: "camera",
            source: include_str!("../dashboard.js"),
        })
    }

    /// The camera is run by the access admins; it has no roles of its own.
    fn roles(&self) -> &'static [&'static str] {
        &[]
    }

    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(migration::M0010Camera),
            Box::new(migration::M0016CameraRecordsPerson),
            Box::new(migration::M0030CameraEvidence),
        ]
    }

    async fn prepare(
        &self,
        context: &PrepareContext<'_>,
        states: &mut DomainStates,
    ) -> Result<(), CloudError> {
        let own: CameraConfig = context.config.section("camera")?;
        let legacy: CameraConfig = context.config.section("people")?;
        let media_dir = own
            .media_dir
            .or(legacy.media_dir)
            .unwrap_or_else(|| context.config.data_dir.join("media"));
        let hub =
            CameraHub::with_store(platform::files::open(context.config, "media", &media_dir)?);
        // A second prepare of the same instance keeps the first store (never happens).
        let _ = self.store.set(hub.store.clone());
        states.insert(hub);
        Ok(())
    }

    fn router(&self) -> Router<AppState> {
        router()
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        ApiDoc::openapi()
    }

    /// Ties snapshots to the person their access decision names.
    fn projector(&self) -> Option<Arc<dyn Projector>> {
        Some(Arc::new(privacy::SnapshotOwners {
            store: self.store.clone(),
        }))
    }

    /// A person's snapshots: exported with the images, deleted on erasure.
    fn personal_data(&self) -> Option<Arc<dyn PersonalData>> {
        Some(Arc::new(privacy::SnapshotRecords {
            store: self.store.clone(),
        }))
    }

    /// Snapshots and recordings go after 30 days.
    fn retention(&self) -> Vec<Arc<dyn RetentionPolicy>> {
        vec![Arc::new(privacy::SnapshotRetention {
            store: self.store.clone(),
        })]
    }
}
