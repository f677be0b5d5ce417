//! The platform core of the Gerbang cloud, shared by every business domain and knowing none
//! of them: database and migrations, identity and sessions, the audit trail, security
//! layers, devices and enrolment, event ingest (MQTT + HTTPS), commands, notifications,
//! realtime (Socket.IO), the broker, metrics, OpenAPI and the HTTP plumbing.
//!
//! Domains plug in through [`domain::Domain`]; the assembly (`cloud-api`) lists them in a
//! [`domain::DomainSet`] and calls [`start`].

pub mod audit;
pub mod clock;
pub mod cloud;
pub mod commands;
pub mod config;
pub mod db;
pub mod devices;
pub mod domain;
pub mod error;
pub mod export;
pub mod files;
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
pub mod replicas;
pub mod retention;
pub mod secrets;
pub mod security;
pub mod sql;
pub mod start_error;
pub mod state;

pub use cloud::{start, Cloud};
pub use config::{CloudConfig, GoogleConfig, MqttConfig, SecurityConfig};
pub use devices::EnrollmentCode;
pub use start_error::CloudError;
