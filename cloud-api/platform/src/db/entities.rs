//! SeaORM entities of the platform core's tables (events are written with batched SQL in
//! `platform::ingest::store` instead of through an entity).

pub mod audit;
pub mod command;
pub mod device;
pub mod enrollment_code;
pub mod notification;
pub mod refresh_token;
pub mod secret;
pub mod user;
