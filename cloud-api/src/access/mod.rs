//! The access domain (seed 000, smart door): door status and remote door control under
//! `/api/door/...`. Later issues add users' face registration, access history, analytics.

pub(crate) mod migration;
pub(crate) mod routes;
pub mod status;

pub use routes::router;
