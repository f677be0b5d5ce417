//! Seed 000's camera and door settings: device snapshot uploads (`POST
//! protocol::sync::SNAPSHOTS_PATH`), `POST /api/camera/capture`, `GET /api/camera/recordings`
//! (+ the image, `DELETE`), the live MJPEG relay `GET /api/camera/stream`, and
//! `PUT /api/door/settings` (persisted, pushed to the device, answered after its ack).
//!
//! Snapshots are stored through `object_store` (a local directory by default) under keys the
//! cloud makes from the device id and a UUID; rows in `camera_records` point at them.

mod hub;
pub(crate) mod routes;
pub(crate) mod settings;

pub use hub::{object_key, CameraHub, Stored};
pub use routes::{capture_snapshot, resolve_device, RecordingView};
pub use settings::{door_settings, update_door_settings};

use axum::Router;

use crate::platform::state::AppState;

pub fn router() -> Router<AppState> {
    routes::router().merge(settings::router())
}
