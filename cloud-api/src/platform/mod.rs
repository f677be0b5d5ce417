//! The platform core shared by every domain: configuration-driven startup pieces, database,
//! identity, devices, ingest, commands, MQTT, metrics and the HTTP plumbing.

pub mod commands;
pub mod db;
pub mod devices;
pub mod error;
pub mod health;
pub mod http;
pub mod i18n;
pub mod identity;
pub mod ingest;
pub mod metrics;
pub mod mqtt;
pub mod secrets;
pub mod sql;
pub mod state;
