//! Seed 001's face attendance on the platform's users: register, login with the 7-day
//! `token` cookie, logout, profile, and attendance — one record per person per site-local
//! day (`people.time_zone`, Asia/Jakarta by default), from the web (photo checked against the
//! enrolled face) or from a kiosk's `Attendance` event (recorded by ingest) — and, for
//! admins, a day's table of who was present, late or absent (`daily`).

pub mod daily;
pub(crate) mod routes;
pub mod service;

pub use routes::router;
pub use service::{check_in, record_device_event, records_of, AttendanceView};
