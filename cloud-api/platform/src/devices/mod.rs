//! Devices: enrolment (one-time codes → credentials), the cache of known devices that
//! ingest and the broker's auth hook consult, device bearer tokens on HTTPS, sequence-gap
//! reports, and retained state.

mod auth;
mod cache;
mod gaps;
pub(crate) mod routes;
mod service;
mod state;

pub use auth::{device_from_headers, device_from_mqtt_credentials};
pub use cache::{DeviceCache, KnownDevice};
pub use gaps::{advance_contiguous, gap_report, GapReport};
pub use routes::router;
pub use service::{create_device, enroll, list_devices, DeviceSummary, EnrollmentCode};
pub use state::handle_state;
