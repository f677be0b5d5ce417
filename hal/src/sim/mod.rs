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
pub use camera::{FramePacer, SimCamera, SimCameraConfig};
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
