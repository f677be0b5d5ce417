//! A simulated door contact, with optional contact bounce.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::lock;
use crate::{DoorSensor, HalError};

#[derive(Debug)]
struct State {
    open: bool,
    /// Readings still to be returned before the contact settles on `open`.
    bounce: VecDeque<bool>,
    reads: u64,
    fault: Option<String>,
}

/// A reed switch in memory. Raw like the real one: the daemon is the one that debounces.
///
/// Bounce is counted in readings, not in time, so a test gets the same sequence whatever its
/// polling period: after [`SimDoor::set_open_bouncing`]`(open, n)` the next `2n` readings
/// alternate `open`, `!open`, … and then every reading is `open`.
#[derive(Debug, Clone)]
pub struct SimDoor {
    state: Arc<Mutex<State>>,
}

impl SimDoor {
    /// A contact that reads `open` until told otherwise.
    pub fn new(open: bool) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                open,
                bounce: VecDeque::new(),
                reads: 0,
                fault: None,
            })),
        }
    }

    /// Opens or closes the door cleanly (any bounce still pending is dropped).
    pub fn set_open(&self, open: bool) {
        let mut state = lock(&self.state);
        state.open = open;
        state.bounce.clear();
    }

    /// Moves the door to `open` with `bounces` make-and-break bounces of the contact first:
    /// the next `2 × bounces` readings alternate `open`, `!open`, then it stays `open`.
    pub fn set_open_bouncing(&self, open: bool, bounces: u32) {
        let mut state = lock(&self.state);
        state.open = open;
        state.bounce = (0..bounces).flat_map(|_| [open, !open]).collect();
    }

    /// Where the door settles, ignoring any bounce still pending.
    pub fn settled_open(&self) -> bool {
        lock(&self.state).open
    }

    /// How many times the sensor has been read (successful or not).
    pub fn reads(&self) -> u64 {
        lock(&self.state).reads
    }

    /// Makes readings fail with [`HalError::Io`] carrying `reason`, or (`None`) work again.
    pub fn set_fault(&self, reason: Option<String>) {
        lock(&self.state).fault = reason;
    }
}

impl Default for SimDoor {
    /// Closed.
    fn default() -> Self {
        Self::new(false)
    }
}

impl DoorSensor for SimDoor {
    fn is_open(&self) -> Result<bool, HalError> {
        let mut state = lock(&self.state);
        state.reads += 1;
        if let Some(reason) = &state.fault {
            return Err(HalError::Io {
                device: "door sensor",
                reason: reason.clone(),
            });
        }
        let settled = state.open;
        Ok(state.bounce.pop_front().unwrap_or(settled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_n(door: &SimDoor, n: usize) -> Vec<bool> {
        (0..n).map(|_| door.is_open().unwrap()).collect()
    }

    #[test]
    fn clean_changes() {
        let door = SimDoor::default();
        assert!(!door.is_open().unwrap());
        door.set_open(true);
        assert_eq!(read_n(&door, 3), [true, true, true]);
        assert_eq!(door.reads(), 4);
    }

    #[test]
    fn bounce_alternates_then_settles() {
        let door = SimDoor::new(false);
        door.set_open_bouncing(true, 2);
        assert!(door.settled_open());
        assert_eq!(read_n(&door, 6), [true, false, true, false, true, true]);
        door.set_open_bouncing(false, 1);
        assert_eq!(read_n(&door, 3), [false, true, false]);
    }

    #[test]
    fn set_open_cancels_pending_bounce() {
        let door = SimDoor::new(false);
        door.set_open_bouncing(true, 5);
        door.set_open(false);
        assert_eq!(read_n(&door, 2), [false, false]);
    }

    #[test]
    fn fault_fails_reads() {
        let door = SimDoor::new(false);
        door.set_fault(Some("wire cut".into()));
        let err = door.is_open().unwrap_err();
        assert_eq!(err.to_string(), "door sensor failed: wire cut");
        door.set_fault(None);
        assert!(!door.is_open().unwrap());
    }

    #[test]
    fn clones_share_state() {
        let door = SimDoor::new(false);
        let daemon: Arc<dyn DoorSensor> = Arc::new(door.clone());
        door.set_open(true);
        assert!(daemon.is_open().unwrap());
    }
}
