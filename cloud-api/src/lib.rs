//! The Gerbang cloud API: a modular monolith hosting the platform core and every business
//! domain, with an embedded MQTT broker and SQLite by default.
//!
//! # Layout
//! - [`config`]: [`CloudConfig`] (defaults → TOML → `GERBANG_*` environment).
//! - [`start`] / [`Cloud`]: start everything, ask for the real addresses, stop cleanly.
//! - [`platform`]: the core every domain uses — database and migrations, identity and
//!   sessions, the audit trail, security layers, devices and enrolment, event ingest (MQTT +
//!   HTTPS), commands, notifications, realtime (Socket.IO), the broker, metrics, OpenAPI,
//!   HTTP plumbing.
//! - [`people`]: users for doors and kiosks, face registration, the device gallery.
//! - [`attendance`]: seed 001 (register, login, profile, attendance).
//! - [`camera`]: snapshots, capture, recordings, the live relay, door settings.
//! - [`access`]: seed 000's door domain (`/api/door/...`). Each later domain gets its own
//!   folder with its own `router()`, entities and migrations.
//! - [`dashboard`]: the admin pages at `/` (embedded HTML, CSS and JavaScript over the API).
//! - [`history`]: seed 000's access history, analytics and exports (`/api/history/...`,
//!   `/api/analytics/...`), fed by ingest.
//! - `testkit` (feature `testkit`): fresh databases, a whole cloud on port 0, test macros.

pub mod access;
pub mod attendance;
pub mod camera;
mod cloud;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod history;
pub mod people;
pub mod platform;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use cloud::{start, Cloud};
pub use config::{CloudConfig, GoogleConfig, MqttConfig, SecurityConfig};
pub use error::CloudError;
pub use platform::devices::EnrollmentCode;
