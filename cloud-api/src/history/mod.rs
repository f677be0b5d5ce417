//! Access history and analytics (seed 000 "History & Analytics"): the `access_logs` read
//! model fed by ingest in the same transaction as the events, the filtered history with a
//! keyset cursor, the dashboard and reports, and CSV/XLSX/PDF exports. Handlers are thin;
//! the service functions ([`service`], [`analytics`], [`export`]) are what other modules
//! (the admin dashboard) call. See `README.md` in this folder.

pub mod analytics;
pub mod export;
pub mod filter;
pub(crate) mod migration;
pub(crate) mod routes;
pub mod service;
pub mod store;

pub use filter::{AccessFilter, FilterParams};
pub use routes::router;
pub use store::record;
