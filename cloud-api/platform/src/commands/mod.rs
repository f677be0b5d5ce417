//! Commands to devices: sealed with the cloud's key, published QoS 1, stored, and answered
//! by the device's sealed ack (or a timeout).

pub(crate) mod routes;
mod service;

pub use routes::router;
pub use service::{handle_ack, send_command, CommandOutcome, PendingCommands, COMMAND_TTL};
