//! MQTT: the embedded rumqttd broker (default), an external one, or a NATS cluster's MQTT
//! listener; the cloud's own client (MQTT, or NATS with JetStream) whose loop feeds ingest,
//! device state and command acks; `dynsec`: doors' own logins and topics on Mosquitto's
//! dynamic-security plugin.

mod broker;
mod client;
pub mod dynsec;
pub mod nats;

pub use broker::{start_embedded, AuthRequest, EmbeddedBroker, SERVICE_USER};
pub use client::{connect, parse_url, run_loop, BrokerLink, BrokerUrl, MqttHandle, PublishError};
