//! The wire protocol between Gerbang devices and the cloud: the only place wire types live.
//!
//! # Layout
//! - [`ids`]: validated identifiers (`DeviceId`, `SiteId`) that are safe inside MQTT topics.
//! - [`topic`]: the MQTT topic tree and its parser.
//! - [`event`]: the event envelope a device emits, and every event kind.
//! - [`command`]: commands from the cloud to a device, and their acks.
//! - [`state`]: the retained device state, the cloud's sync receipts and gallery notices.
//! - [`seal`]: signed frames — how every message is signed, size-checked, verified and parsed.
//! - [`sync`]: the HTTPS bodies: event batches and device enrolment.
//!
//! Every message is versioned JSON (`"v": 1`). Parsing untrusted bytes never panics: it
//! returns a [`ProtocolError`] that says what was wrong.

pub mod command;
pub mod error;
pub mod event;
pub mod ids;
pub mod seal;
pub mod state;
pub mod sync;
pub mod topic;

pub use command::{Command, CommandAck, CommandEnvelope, DoorMode, DoorSettings};
pub use error::ProtocolError;
pub use event::{
    AccessMethod, AccessResult, AttendanceDirection, BatteryLevel, DenyReason, Envelope, Event,
    EventKind, PersonRef,
};
pub use ids::{DeviceId, SiteId};
pub use seal::{open, seal, Keypair, PublicKey};
pub use state::{DeviceState, GalleryNotice, Receipt};
pub use topic::{Channel, Topic};

/// The protocol version this crate speaks. A message with any other `v` is refused.
pub const VERSION: u16 = 1;

/// The largest frame accepted from the wire, checked before any parsing.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
