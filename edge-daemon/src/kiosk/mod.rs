//! The kiosk seam: what the screen at the door shows, published by the rest of the daemon.
//!
//! [`KioskFeed`] is cheap to clone and carries three things:
//! - a broadcast of [`KioskMessage`]s (granted, denied, checked in/out, look at the camera…),
//!   each one a moment of feedback for the person standing at the door;
//! - a watch of the latest camera preview JPEG (`None` until the first frame);
//! - a watch of the [`DeviceStatus`] (cloud link, battery, door, camera).
//!
//! Publishing never blocks and never fails: with nobody watching, messages are dropped.
//! The texts the person reads are Indonesian and made here ([`KioskMessage::title`],
//! [`KioskMessage::detail`]) so every screen says the same thing.
//!
//! # Layout
//! - this file: the feed and its types;
//! - [`server`]: the HTTP server for the screen (page, SSE, MJPEG preview) and its settings;
//! - [`api`]: the installer's local API on the same server, behind [`token`].

use std::sync::Arc;

use bytes::Bytes;
use protocol::{AttendanceDirection, DenyReason};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{broadcast, watch};

pub mod api;
pub mod server;
pub mod token;

pub use server::{KioskError, KioskServer, KioskSettings};

/// How many messages a slow screen may fall behind before it skips to the newest.
const MESSAGE_BACKLOG: usize = 32;

/// One moment of feedback for the person at the door.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum KioskMessage {
    /// Nobody in front of the camera: the resting screen.
    Idle,
    /// A face is seen but not good enough yet (too far, turned away, too dark).
    LookAtCamera,
    /// A face is being checked.
    Checking,
    /// The door opens for this person.
    Granted { name: String },
    /// The door stays shut.
    Denied { reason: DenyReason },
    /// Attendance recorded.
    Attendance {
        name: String,
        direction: AttendanceDirection,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// This person already checked in (or out) today; nothing new was recorded.
    AlreadyRecorded {
        name: String,
        direction: AttendanceDirection,
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    /// The door was opened from elsewhere (cloud command, installer, exit button).
    Unlocked,
    /// Free text for installers and rare situations, shown as is.
    Notice { text: String },
}

/// How a message should look: calm, good news or bad news.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tone {
    Neutral,
    Success,
    Failure,
}

impl KioskMessage {
    /// The big line on the screen, in Indonesian.
    pub fn title(&self) -> String {
        match self {
            Self::Idle => "Selamat datang".into(),
            Self::LookAtCamera => "Silakan lihat ke kamera".into(),
            Self::Checking => "Mohon tunggu…".into(),
            Self::Granted { name } => name.clone(),
            Self::Denied { .. } => "Akses ditolak".into(),
            Self::Attendance { name, .. } | Self::AlreadyRecorded { name, .. } => name.clone(),
            Self::Unlocked => "Pintu terbuka".into(),
            Self::Notice { text } => text.clone(),
        }
    }

    /// The smaller line under the title, in Indonesian; empty when there is none. Times are
    /// not in here: the page formats [`KioskMessage::at`] in the screen's own time zone.
    pub fn detail(&self) -> &'static str {
        match self {
            Self::Idle => "Hadapkan wajah Anda ke kamera",
            Self::LookAtCamera => "Wajah belum terlihat jelas",
            Self::Checking => "Sedang memeriksa wajah",
            Self::Granted { .. } | Self::Unlocked => "Silakan masuk",
            Self::Denied { reason } => match reason {
                DenyReason::UnknownFace => "Wajah tidak dikenali",
                DenyReason::LivenessFailed => "Wajah tidak dapat diverifikasi",
                DenyReason::UserDisabled => "Akun Anda tidak aktif",
                DenyReason::OutsideSchedule => "Di luar jadwal akses Anda",
                DenyReason::LockedDown => "Pintu sedang dikunci",
                DenyReason::PoorQuality => "Gambar kurang jelas, coba lagi",
                DenyReason::GalleryStale => "Data wajah belum diperbarui; hubungi petugas",
            },
            Self::Attendance { direction, .. } => match direction {
                AttendanceDirection::CheckIn => "Absen masuk tercatat",
                AttendanceDirection::CheckOut => "Absen pulang tercatat",
            },
            Self::AlreadyRecorded { .. } => "Anda sudah absen hari ini",
            Self::Notice { .. } => "",
        }
    }

    pub fn tone(&self) -> Tone {
        match self {
            Self::Idle | Self::LookAtCamera | Self::Checking | Self::Notice { .. } => Tone::Neutral,
            Self::Granted { .. } | Self::Attendance { .. } | Self::Unlocked => Tone::Success,
            Self::AlreadyRecorded { .. } => Tone::Neutral,
            Self::Denied { .. } => Tone::Failure,
        }
    }

    /// The time the message is about, when it is about one (attendance).
    pub fn at(&self) -> Option<OffsetDateTime> {
        match self {
            Self::Attendance { at, .. } | Self::AlreadyRecorded { at, .. } => Some(*at),
            _ => None,
        }
    }
}

/// The device as the kiosk shows it in its status bar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// Connected to the cloud broker right now.
    pub cloud_online: bool,
    pub battery_percent: Option<u8>,
    /// Running on external power (`Some(false)`: on battery).
    pub charging: Option<bool>,
    pub door_locked: bool,
    pub door_open: bool,
    pub camera_active: bool,
}

/// The handle every part of the daemon uses to talk to the kiosk screen. Cheap to clone.
#[derive(Debug, Clone)]
pub struct KioskFeed {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    messages: broadcast::Sender<KioskMessage>,
    preview: watch::Sender<Option<Bytes>>,
    status: watch::Sender<DeviceStatus>,
}

impl Default for KioskFeed {
    fn default() -> Self {
        Self::new()
    }
}

impl KioskFeed {
    pub fn new() -> Self {
        let (messages, _) = broadcast::channel(MESSAGE_BACKLOG);
        let (preview, _) = watch::channel(None);
        let (status, _) = watch::channel(DeviceStatus {
            door_locked: true,
            ..DeviceStatus::default()
        });
        Self {
            inner: Arc::new(Inner {
                messages,
                preview,
                status,
            }),
        }
    }

    /// Shows `message` on every open screen. Dropped when no screen is open.
    pub fn publish(&self, message: KioskMessage) {
        let _ = self.inner.messages.send(message);
    }

    /// Messages published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<KioskMessage> {
        self.inner.messages.subscribe()
    }

    /// Replaces the preview with a new JPEG frame.
    pub fn set_preview(&self, jpeg: Bytes) {
        self.inner.preview.send_replace(Some(jpeg));
    }

    /// Clears the preview (camera stopped).
    pub fn clear_preview(&self) {
        self.inner.preview.send_replace(None);
    }

    /// The latest preview JPEG, and changes to it.
    pub fn preview(&self) -> watch::Receiver<Option<Bytes>> {
        self.inner.preview.subscribe()
    }

    /// Changes the device status in place; screens are told only when it really changed.
    pub fn update_status(&self, change: impl FnOnce(&mut DeviceStatus)) {
        self.inner.status.send_if_modified(|status| {
            let before = status.clone();
            change(status);
            *status != before
        });
    }

    /// The current device status, and changes to it.
    pub fn status(&self) -> watch::Receiver<DeviceStatus> {
        self.inner.status.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn published_messages_reach_subscribers_and_vanish_without_them() {
        let feed = KioskFeed::new();
        feed.publish(KioskMessage::Idle); // nobody listening: dropped, no error
        let mut rx = feed.clone().subscribe();
        feed.publish(KioskMessage::Granted {
            name: "Sari".into(),
        });
        let got = rx.recv().await.expect("message");
        assert_eq!(got.title(), "Sari");
        assert_eq!(got.detail(), "Silakan masuk");
        assert!(
            rx.try_recv().is_err(),
            "the dropped message must not arrive"
        );
    }

    #[tokio::test]
    async fn status_changes_notify_only_when_something_changed() {
        let feed = KioskFeed::new();
        let mut rx = feed.status();
        rx.mark_unchanged();
        feed.update_status(|s| s.door_locked = true);
        assert!(!rx.has_changed().expect("open"));
        feed.update_status(|s| s.cloud_online = true);
        assert!(rx.has_changed().expect("open"));
        assert!(rx.borrow_and_update().cloud_online);
    }

    #[test]
    fn messages_serialise_with_a_kind_tag() {
        let json = serde_json::to_value(KioskMessage::Denied {
            reason: DenyReason::UnknownFace,
        })
        .expect("json");
        assert_eq!(json["kind"], "denied");
        assert_eq!(json["reason"], "unknown_face");
    }
}
