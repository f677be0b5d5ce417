//! The camera's moving parts in one process: the object store snapshots are kept in (a local
//! directory by default, through `object_store`), a broadcast of newly stored snapshots
//! (captures wait on it), and one live relay per device (MJPEG viewers subscribe to it).

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use axum::body::Bytes;
use object_store::{path::Path as ObjectPath, ObjectStore};
use protocol::DeviceId;
use tokio::sync::broadcast;
use uuid::Uuid;

/// Frames buffered per viewer before the slowest one skips ahead.
const FRAMES_BUFFERED: usize = 8;

/// A snapshot just stored: which command it answered and its record id.
#[derive(Debug, Clone, Copy)]
pub struct Stored {
    pub command_id: Option<Uuid>,
    pub record_id: Uuid,
}

pub struct CameraHub {
    pub store: Arc<dyn ObjectStore>,
    stored: broadcast::Sender<Stored>,
    streams: Mutex<HashMap<DeviceId, broadcast::Sender<Bytes>>>,
}

impl std::fmt::Debug for CameraHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CameraHub").finish_non_exhaustive()
    }
}

/// The object key of a snapshot: made by the cloud from a device id and a UUID only, so no
/// request can name a path of its own.
pub fn object_key(device: &str, id: Uuid) -> ObjectPath {
    let file = format!("{id}.jpg");
    ObjectPath::from_iter(["snapshots", device, file.as_str()])
}

impl CameraHub {
    pub fn with_store(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            stored: broadcast::channel(64).0,
            streams: Mutex::new(HashMap::new()),
        }
    }

    /// Subscribe before asking a device for a snapshot, so its upload cannot be missed.
    pub fn subscribe_stored(&self) -> broadcast::Receiver<Stored> {
        self.stored.subscribe()
    }

    pub fn announce_stored(&self, stored: Stored) {
        let _ = self.stored.send(stored);
    }

    /// Joins `device`'s live relay; `true` when this call created it (the caller then asks
    /// the device to stream).
    pub fn join_stream(&self, device: &DeviceId) -> (broadcast::Receiver<Bytes>, bool) {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = streams.get(device) {
            return (tx.subscribe(), false);
        }
        let (tx, rx) = broadcast::channel(FRAMES_BUFFERED);
        streams.insert(device.clone(), tx);
        (rx, true)
    }

    /// How many viewers watch `device` now.
    pub fn viewers(&self, device: &DeviceId) -> usize {
        let streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        streams.get(device).map_or(0, |tx| tx.receiver_count())
    }

    /// Ends `device`'s relay (its last viewer left, or the device could not be reached).
    pub fn close_stream(&self, device: &DeviceId) {
        let mut streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        streams.remove(device);
    }

    /// Relays a frame; `false` when nobody watches `device`.
    pub fn relay(&self, device: &DeviceId, frame: Bytes) -> bool {
        let streams = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        match streams.get(device) {
            Some(tx) => tx.send(frame).is_ok(),
            None => false,
        }
    }
}
