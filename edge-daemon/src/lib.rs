//! The Gerbang edge daemon: the program on the Raspberry Pi at a door or kiosk.
//!
//! # Layout
//! - [`config`]: defaults → TOML → `GERBANG_*` environment; it only gathers the sections,
//!   each settings type lives with the module it configures ([`door::DoorSettings`],
//!   [`relay_guard::FailMode`], [`sync::SyncSettings`], [`hardware::HalSettings`], …).
//! - [`identity`]: the enrolled credentials and device key on disk; [`enroll`] obtains them.
//! - [`store`]: the SQLite outbox and device state, written in one transaction.
//! - [`door`]: the task that owns the relay, the contact and the battery.
//! - [`sync`]: MQTT and HTTPS to the cloud; [`transport`] keeps credentials off plain TCP.
//! - [`commands`]: checks and runs commands from the cloud.
//! - [`vision`]: the camera loop (presence trigger, face pipeline, frame voting) and the
//!   decider; [`policy`] says who may pass when and keeps the attendance book; [`gallery`]
//!   is the local face gallery (encrypted at rest, pulled by version); [`evidence`] keeps
//!   denials' snapshots sealed on the device until [`snapshot`] has sent them to the cloud; [`relay_guard`] drives relays to their failure state on a panic.
//! - [`kiosk`]: what the screen at the door shows ([`kiosk::KioskFeed`]) and the installer's
//!   local API, which shows the [`metrics`] (frames captured, corrupt frames dropped).
//! - [`hardware`]: the `[hal]` settings and the real or simulated hardware built from them.
//! - [`sim`]: the simulated world for the `sim` hardware backend.
//! - [`daemon`]: wires it all together; [`watchdog`] keeps systemd informed.
//! - [`doctor`]: `edge-daemon doctor`, the installer's checklist; [`backup`]: `edge-daemon
//!   backup` and `restore`, the data directory (unsynced events included) onto a new card.
//!
//! The modules form no import cycle, and [`door`] reaches only [`relay_guard`] and
//! [`store`]: the safety-critical task never sees the camera, the kiosk or the cloud link
//! (`tests/module_graph.rs` checks both).

pub mod backoff;
pub mod backup;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod doctor;
pub mod door;
pub mod enroll;
pub mod evidence;
pub mod gallery;
pub mod hardware;
pub mod identity;
pub mod kiosk;
pub mod metrics;
pub mod policy;
pub mod relay_guard;
pub mod sim;
pub mod snapshot;
pub mod store;
pub mod sync;
pub mod transport;
pub mod vision;
pub mod watchdog;

/// Reported to the cloud in state and status events.
pub const FIRMWARE: &str = concat!("gerbang-edge/", env!("CARGO_PKG_VERSION"));

/// Resolves on Ctrl-C or SIGTERM (what systemd sends on stop).
pub async fn shutdown_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            tracing::warn!(error = %e, "No SIGTERM handler; only Ctrl-C stops the process.");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
