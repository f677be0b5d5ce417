//! Event ingest from MQTT and HTTPS: every frame is checked (device known, topic's site,
//! signature, envelope's device), stored idempotently on its event id in batches, and
//! answered with a receipt carrying the device's `contiguous_seq`, the only signal on which a
//! device may delete events from its outbox. Events stamped before a device's clock was set
//! are dated from their boot's offset (`clock`).

pub mod clock;
pub mod forget;
mod pipeline;
pub(crate) mod routes;
mod store;
mod verify;

pub use pipeline::{
    publish_receipts, run_batcher, IncomingFrame, Settle, MAX_BATCH, MAX_BATCH_WAIT,
};
pub use routes::router;
pub use store::{store_events, DeviceOutcome, StoreOutcome};
pub use verify::{verify_frame, Rejection, VerifiedEvent};
