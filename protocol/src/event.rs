//! The event envelope a device emits, and every kind of event it can carry.
//!
//! An envelope is `{v, id, device, boot_id, seq, ts, mono_ms, clock_synced, kind, body}`.
//! `seq` is per device and gapless across restarts, so the cloud can tell a missing event
//! from a duplicate; `id` (UUIDv7) makes ingest idempotent.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{command::DoorMode, DeviceId};

/// One event from one device, with everything needed to order, deduplicate and date it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub v: u16,
    /// Unique event id (UUIDv7); the cloud stores each id once.
    pub id: Uuid,
    pub device: DeviceId,
    /// Changes on every start of the daemon; with `mono_ms` it dates events stamped before
    /// the clock was synchronised.
    pub boot_id: Uuid,
    /// Per-device sequence number, gapless from 1.
    pub seq: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub ts: OffsetDateTime,
    /// Milliseconds since this boot started (monotonic clock).
    pub mono_ms: u64,
    /// False when `ts` was taken before the device's clock was synchronised.
    pub clock_synced: bool,
    #[serde(flatten)]
    pub event: Event,
}

/// What happened. Serialised as `"kind": "...", "body": {...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "body", rename_all = "snake_case")]
pub enum Event {
    /// Someone asked to pass and the device decided.
    AccessDecision {
        result: AccessResult,
        method: AccessMethod,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        person: Option<PersonRef>,
        /// Why access was denied; absent when granted.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<DenyReason>,
        /// Similarity to the best gallery match, when a face was seen.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        score: Option<f32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        liveness: Option<f32>,
        /// Key of a snapshot uploaded separately over HTTPS: one the device chose (a UUID,
        /// uploaded with `?evidence=`, possibly after the event) or one the cloud returned.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        snapshot: Option<String>,
    },
    /// A person checked in or out at a kiosk.
    Attendance {
        person: PersonRef,
        direction: AttendanceDirection,
        /// The site-local calendar day the attendance counts for (`YYYY-MM-DD`).
        local_date: String,
        late: bool,
    },
    /// The lock relay changed state.
    Relay {
        locked: bool,
        cause: String,
    },
    DoorOpened,
    DoorClosed {
        /// How long the door stood open.
        open_ms: u64,
    },
    /// The door opened while the lock was engaged.
    ForcedOpen,
    /// The door has stood open longer than allowed.
    HeldOpen {
        open_secs: u64,
    },
    Battery {
        percent: u8,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        millivolts: Option<u32>,
        charging: bool,
        level: BatteryLevel,
    },
    DeviceStatus {
        status: String,
        firmware: String,
        mode: DoorMode,
    },
    /// The outbox was full and these unsynced events were discarded, oldest first.
    Dropped {
        count: u64,
        first_seq: u64,
        last_seq: u64,
    },
}

/// The `kind` of an event, for storage and filtering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    AccessDecision,
    Attendance,
    Relay,
    DoorOpened,
    DoorClosed,
    ForcedOpen,
    HeldOpen,
    Battery,
    DeviceStatus,
    Dropped,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::AccessDecision => "access_decision",
            EventKind::Attendance => "attendance",
            EventKind::Relay => "relay",
            EventKind::DoorOpened => "door_opened",
            EventKind::DoorClosed => "door_closed",
            EventKind::ForcedOpen => "forced_open",
            EventKind::HeldOpen => "held_open",
            EventKind::Battery => "battery",
            EventKind::DeviceStatus => "device_status",
            EventKind::Dropped => "dropped",
        }
    }
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::AccessDecision { .. } => EventKind::AccessDecision,
            Event::Attendance { .. } => EventKind::Attendance,
            Event::Relay { .. } => EventKind::Relay,
            Event::DoorOpened => EventKind::DoorOpened,
            Event::DoorClosed { .. } => EventKind::DoorClosed,
            Event::ForcedOpen => EventKind::ForcedOpen,
            Event::HeldOpen { .. } => EventKind::HeldOpen,
            Event::Battery { .. } => EventKind::Battery,
            Event::DeviceStatus { .. } => EventKind::DeviceStatus,
            Event::Dropped { .. } => EventKind::Dropped,
        }
    }
}

/// A person as the device knows them from its gallery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessResult {
    Granted,
    Denied,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccessMethod {
    Face,
    /// Unlocked by a command from the cloud.
    Remote,
    /// Unlocked from the local installer API.
    Local,
    /// Someone inside pressed the request-to-exit button.
    ExitButton,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DenyReason {
    UnknownFace,
    LivenessFailed,
    UserDisabled,
    OutsideSchedule,
    LockedDown,
    PoorQuality,
    /// The door's gallery has not been confirmed with the cloud for longer than its
    /// configured maximum age: someone erased since might still be in it, so faces are
    /// not trusted until it is current again.
    GalleryStale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendanceDirection {
    CheckIn,
    CheckOut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BatteryLevel {
    Normal,
    Low,
    Critical,
}
