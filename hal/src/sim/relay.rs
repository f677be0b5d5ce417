//! A simulated lock relay that remembers every command it was given.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::lock;
use crate::{HalError, Relay};

/// One successful command to the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Switching {
    pub at: Instant,
    pub locked: bool,
}

#[derive(Debug)]
struct State {
    locked: bool,
    history: Vec<Switching>,
    fault: Option<String>,
}

/// A relay in memory. Every successful [`Relay::set_locked`] is recorded, including one that
/// repeats the current state, because re-asserting "locked" is itself behaviour the daemon's
/// safety tests look for. While a fault is set, commands fail and change nothing.
#[derive(Debug, Clone)]
pub struct SimRelay {
    state: Arc<Mutex<State>>,
}

impl SimRelay {
    /// A relay whose last commanded state is `locked`, with an empty history.
    pub fn new(locked: bool) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                locked,
                history: Vec::new(),
                fault: None,
            })),
        }
    }

    /// Every successful command so far, oldest first.
    pub fn history(&self) -> Vec<Switching> {
        lock(&self.state).history.clone()
    }

    /// Forgets the history (the state is kept).
    pub fn clear_history(&self) {
        lock(&self.state).history.clear();
    }

    /// Makes later commands fail with [`HalError::Io`] carrying `reason`, or (`None`) work again.
    pub fn set_fault(&self, reason: Option<String>) {
        lock(&self.state).fault = reason;
    }
}

impl Default for SimRelay {
    /// Locked: the safe state of a door.
    fn default() -> Self {
        Self::new(true)
    }
}

impl Relay for SimRelay {
    fn set_locked(&self, locked: bool) -> Result<(), HalError> {
        let mut state = lock(&self.state);
        if let Some(reason) = &state.fault {
            return Err(HalError::Io {
                device: "relay",
                reason: reason.clone(),
            });
        }
        state.locked = locked;
        state.history.push(Switching {
            at: Instant::now(),
            locked,
        });
        Ok(())
    }

    fn is_locked(&self) -> bool {
        lock(&self.state).locked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_in_the_given_state_with_no_history() {
        assert!(SimRelay::new(true).is_locked());
        assert!(!SimRelay::new(false).is_locked());
        assert!(SimRelay::default().is_locked());
        assert!(SimRelay::new(true).history().is_empty());
    }

    #[test]
    fn records_every_command_in_order() {
        let relay = SimRelay::new(true);
        relay.set_locked(false).unwrap();
        relay.set_locked(true).unwrap();
        relay.set_locked(true).unwrap();
        let history = relay.history();
        let states: Vec<bool> = history.iter().map(|s| s.locked).collect();
        assert_eq!(states, [false, true, true]);
        assert!(history.windows(2).all(|w| w[0].at <= w[1].at));
        relay.clear_history();
        assert!(relay.history().is_empty());
        assert!(relay.is_locked());
    }

    #[test]
    fn a_fault_fails_commands_and_changes_nothing() {
        let relay = SimRelay::new(true);
        relay.set_fault(Some("coil open".into()));
        let err = relay.set_locked(false).unwrap_err();
        assert!(matches!(
            err,
            HalError::Io {
                device: "relay",
                ..
            }
        ));
        assert_eq!(err.to_string(), "relay failed: coil open");
        assert!(relay.is_locked());
        assert!(relay.history().is_empty());
        relay.set_fault(None);
        relay.set_locked(false).unwrap();
        assert!(!relay.is_locked());
    }

    #[test]
    fn clones_share_the_device_behind_a_trait_object() {
        let relay = SimRelay::new(true);
        let daemon: Arc<dyn Relay> = Arc::new(relay.clone());
        daemon.set_locked(false).unwrap();
        assert!(!relay.is_locked());
        assert_eq!(relay.history().len(), 1);
    }
}
