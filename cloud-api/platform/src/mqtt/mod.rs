//! MQTT: the embedded rumqttd broker (default) or an external one, and the cloud's own client
//! whose loop feeds ingest, device state and command acks.

mod broker;
mod client;

pub use broker::{start_embedded, AuthRequest, EmbeddedBroker, SERVICE_USER};
pub use client::{connect, parse_url, run_loop, BrokerUrl, MqttHandle};
