//! Runs commands from the cloud after checking they are for this device, fresh and new,
//! and answers each with an ack. Camera commands (`capture`, `stream`) and gallery reloads
//! need the camera loop; without it they are refused with a clear reason.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use hal::Clock;
use protocol::{
    AccessMethod, AccessResult, Command, CommandAck, CommandEnvelope, DeviceId, Event, VERSION,
};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::{
    door::DoorHandle,
    gallery::GallerySync,
    snapshot::{self, Purpose, SnapshotClient},
    store::Outbox,
    sync::SyncHandle,
    vision::CameraHandle,
};

/// What camera and gallery commands work with, when the camera loop runs.
#[derive(Debug, Clone)]
pub struct Vision {
    pub camera: CameraHandle,
    pub gallery: GallerySync,
    pub snapshots: SnapshotClient,
    /// Caps for `stream`.
    pub max_stream_secs: u32,
    pub max_stream_fps: u8,
    pub quality: u8,
    /// One live stream at a time.
    pub streaming: Arc<AtomicBool>,
    pub shutdown: tokio_util::sync::CancellationToken,
}

/// How far in the future a command's issue time may lie (clock skew between cloud and device).
const MAX_SKEW: time::Duration = time::Duration::minutes(5);

/// Why a command was refused before running.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("addressed to device {0}, not this one")]
    WrongDevice(DeviceId),
    #[error("expired at {0}")]
    Expired(OffsetDateTime),
    #[error("issued in the future ({0}); check the clocks")]
    FromTheFuture(OffsetDateTime),
    #[error("already received (replay)")]
    Replayed,
}

/// Checks addressing and freshness. When the device clock is not synchronised the times
/// cannot be judged, so only the replay check (done by the caller) protects.
pub fn check(
    command: &CommandEnvelope,
    device: &DeviceId,
    now: OffsetDateTime,
    clock_synced: bool,
) -> Result<(), Refusal> {
    if &command.device != device {
        return Err(Refusal::WrongDevice(command.device.clone()));
    }
    if clock_synced {
        if now > command.expires_at {
            return Err(Refusal::Expired(command.expires_at));
        }
        if command.issued_at > now + MAX_SKEW {
            return Err(Refusal::FromTheFuture(command.issued_at));
        }
    }
    Ok(())
}

/// Serves commands until the channel closes.
pub async fn serve(
    mut commands: mpsc::Receiver<CommandEnvelope>,
    device: DeviceId,
    door: DoorHandle,
    outbox: Outbox,
    clock: std::sync::Arc<dyn Clock>,
    sync: SyncHandle,
    vision: Option<Vision>,
) {
    while let Some(command) = commands.recv().await {
        let outcome = run_one(
            &command,
            &device,
            &door,
            &outbox,
            clock.as_ref(),
            vision.as_ref(),
        )
        .await;
        if let Err(error) = &outcome {
            warn!(command = %command.id, kind = command.command.name(), %error, "Command refused.");
        } else {
            info!(command = %command.id, kind = command.command.name(), "Command done.");
        }
        let ack = CommandAck {
            v: VERSION,
            command_id: command.id,
            device: device.clone(),
            ok: outcome.is_ok(),
            error: outcome.err(),
            ts: clock.now(),
            locked: door.snapshot().borrow().locked,
        };
        sync.publish_ack(&ack).await;
    }
}

async fn run_one(
    envelope: &CommandEnvelope,
    device: &DeviceId,
    door: &DoorHandle,
    outbox: &Outbox,
    clock: &dyn Clock,
    vision: Option<&Vision>,
) -> Result<(), String> {
    let now = clock.now();
    check(envelope, device, now, clock.is_synced()).map_err(|e| e.to_string())?;
    let (id, expires) = (envelope.id, envelope.expires_at.unix_timestamp());
    let fresh = outbox
        .write(move |w| w.remember_command(id, expires, now.unix_timestamp()))
        .await
        .map_err(|e| e.to_string())?
        .0;
    if !fresh {
        return Err(Refusal::Replayed.to_string());
    }
    match &envelope.command {
        Command::Unlock { duration_ms } => {
            let decision = Event::AccessDecision {
                result: AccessResult::Granted,
                method: AccessMethod::Remote,
                person: None,
                reason: None,
                score: None,
                liveness: None,
                snapshot: None,
            };
            door.unlock(
                Duration::from_millis(u64::from(*duration_ms)),
                AccessMethod::Remote,
                Some(decision),
            )
            .await
            .map_err(|e| e.to_string())
        }
        Command::Lock => door.lock("remote").await.map_err(|e| e.to_string()),
        Command::UpdateSettings { settings } => door
            .apply_settings(settings.clone())
            .await
            .map_err(|e| e.to_string()),
        Command::Capture => {
            let vision = vision.ok_or(NO_CAMERA)?;
            capture(vision, envelope.id).await
        }
        Command::Stream { seconds, fps } => {
            let vision = vision.ok_or(NO_CAMERA)?;
            stream(vision, envelope.id, *seconds, *fps)
        }
        Command::ReloadGallery { version } => {
            let vision = vision.ok_or("this device has no face gallery configured")?;
            let now = vision
                .gallery
                .refresh(false)
                .await
                .map_err(|e| e.to_string())?;
            if now < *version {
                return Err(format!(
                    "the cloud served gallery version {now}, older than the {version} asked for"
                ));
            }
            Ok(())
        }
    }
}

const NO_CAMERA: &str = "this device has no camera pipeline configured";

/// Uploads the newest frame as the answer to a `capture` command.
async fn capture(vision: &Vision, command: uuid::Uuid) -> Result<(), String> {
    let frame = vision
        .camera
        .latest()
        .ok_or("the camera has not produced a frame yet")?;
    let quality = vision.quality;
    let jpeg = tokio::task::spawn_blocking(move || snapshot::encode_jpeg(&frame.image, quality))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let key = vision
        .snapshots
        .upload(jpeg, Purpose::Command(command), Duration::from_secs(10))
        .await
        .map_err(|e| e.to_string())?;
    info!(%command, %key, "Snapshot uploaded.");
    Ok(())
}

/// Starts a live stream in the background (capped in length and rate) and answers at once.
fn stream(vision: &Vision, command: uuid::Uuid, seconds: u32, fps: u8) -> Result<(), String> {
    if vision.streaming.swap(true, Ordering::AcqRel) {
        return Err("a live stream is already running".into());
    }
    let seconds = seconds.clamp(1, vision.max_stream_secs.max(1));
    let fps = fps.clamp(1, vision.max_stream_fps.max(1));
    let vision = vision.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1) / u32::from(fps));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let end = tokio::time::Instant::now() + Duration::from_secs(u64::from(seconds));
        let (mut sent, mut failed) = (0u32, 0u32);
        while tokio::time::Instant::now() < end {
            tokio::select! {
                _ = vision.shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            let Some(frame) = vision.camera.latest() else {
                continue;
            };
            let quality = vision.quality;
            let jpeg = match tokio::task::spawn_blocking(move || {
                snapshot::encode_jpeg(&frame.image, quality)
            })
            .await
            {
                Ok(Ok(jpeg)) => jpeg,
                _ => continue,
            };
            match vision
                .snapshots
                .upload(jpeg, Purpose::Stream(command), Duration::from_secs(2))
                .await
            {
                Ok(_) => sent += 1,
                Err(error) => {
                    failed += 1;
                    if failed == 1 {
                        warn!(%command, %error, "Live stream frame not delivered.");
                    }
                }
            }
        }
        vision.streaming.store(false, Ordering::Release);
        info!(%command, sent, failed, "Live stream ended.");
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn command(device: &str, issued: OffsetDateTime, ttl_secs: i64) -> CommandEnvelope {
        CommandEnvelope {
            v: VERSION,
            id: Uuid::now_v7(),
            device: DeviceId::parse(device).unwrap(),
            issued_at: issued,
            expires_at: issued + time::Duration::seconds(ttl_secs),
            command: Command::Lock,
        }
    }

    #[test]
    fn refuses_other_devices_expired_and_future_commands() {
        let me = DeviceId::parse("door-1").unwrap();
        let now = OffsetDateTime::now_utc();
        assert_eq!(check(&command("door-1", now, 30), &me, now, true), Ok(()));
        assert!(matches!(
            check(&command("door-2", now, 30), &me, now, true),
            Err(Refusal::WrongDevice(_))
        ));
        let old = now - time::Duration::minutes(2);
        assert!(matches!(
            check(&command("door-1", old, 30), &me, now, true),
            Err(Refusal::Expired(_))
        ));
        let future = now + time::Duration::hours(1);
        assert!(matches!(
            check(&command("door-1", future, 30), &me, now, true),
            Err(Refusal::FromTheFuture(_))
        ));
        // Without a synchronised clock, times cannot be judged.
        assert_eq!(check(&command("door-1", old, 30), &me, now, false), Ok(()));
    }
}
