//! The platform core shared by every domain: configuration-driven startup pieces, database,
//! identity and sessions, the audit trail, security layers, devices, ingest, commands,
//! notifications, realtime (Socket.IO), MQTT, metrics, OpenAPI and the HTTP plumbing.

pub mod audit;
pub mod clock;
pub mod commands;
pub mod db;
pub mod devices;
pub mod error;
pub mod export;
pub mod health;
pub mod http;
pub mod i18n;
pub mod identity;
pub mod ingest;
pub mod metrics;
pub mod mqtt;
pub mod notifications;
pub mod openapi;
pub mod realtime;
pub mod secrets;
pub mod security;
pub mod sql;
pub mod state;
