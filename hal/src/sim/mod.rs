//! Simulated hardware for tests and the demo.
//!
//! Every simulator is a cheap, cloneable handle (an `Arc` inside): the daemon holds one clone
//! as `Arc<dyn Relay>` (…) while a test or the demo's "world" drives another, and both see the
//! same device. All are `Send + Sync`. Time-dependent simulators ([`SimBattery`], [`SimClock`])
//! follow `tokio::time::Instant`, so a test that pauses tokio's clock moves them with
//! `tokio::time::advance` instead of sleeping; they can also be stepped explicitly.
//!
//! Each simulator can be told to fail (`set_fault`) so the daemon's error paths are testable.

mod battery;
mod camera;
mod clock;
mod door;
mod relay;

pub use battery::{SimBattery, SimBatteryConfig, SimTime};
pub use camera::{SimCamera, SimCameraConfig, STALL_TIMEOUT};
pub use clock::SimClock;
pub use door::SimDoor;
pub use relay::{SimRelay, Switching};

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks a simulator's state. A panic in another thread while it held the lock (a failed
/// assertion in a test) must not cascade into every later call, so poisoning is ignored:
/// the state is plain data and stays consistent between statements.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Battery, Camera, Clock, DoorSensor, Relay};
    use std::sync::Arc;

    fn handle<T: Send + Sync + Clone + std::fmt::Debug + 'static>() {}

    #[test]
    fn every_simulator_is_a_shareable_handle() {
        handle::<SimRelay>();
        handle::<SimDoor>();
        handle::<SimBattery>();
        handle::<SimCamera>();
        handle::<SimClock>();
        // And each fits where the daemon wants it.
        let _: Arc<dyn Relay> = Arc::new(SimRelay::default());
        let _: Arc<dyn DoorSensor> = Arc::new(SimDoor::default());
        let _: Arc<dyn Battery> = Arc::new(SimBattery::default());
        let _: Arc<dyn Camera> = Arc::new(SimCamera::default());
        let _: Arc<dyn Clock> = Arc::new(SimClock::frozen(time::OffsetDateTime::UNIX_EPOCH, false));
    }

    #[test]
    fn the_world_drives_a_camera_the_daemon_reads_on_another_thread() {
        let camera = SimCamera::new(SimCameraConfig {
            fps: 0.0,
            ..SimCameraConfig::default()
        });
        let daemon: Arc<dyn Camera> = Arc::new(camera.clone());
        let reader = std::thread::spawn(move || {
            (0..200)
                .map(|_| daemon.capture().map(|f| f.image.width()))
                .collect::<Result<Vec<_>, _>>()
        });
        for i in 0..50 {
            camera.show(image::RgbImage::new(10 + i, 10));
            camera.clear();
        }
        let widths = reader.join().expect("reader thread").expect("captures");
        // Every frame is a whole image: the background or one of the shown ones.
        assert!(widths.iter().all(|&w| w == 640 || (10..60).contains(&w)));
    }
}
