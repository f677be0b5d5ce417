//! The last line of relay safety: a process-wide panic hook that drives every registered
//! relay to its failure state ([`FailMode`], the `door.fail_mode` setting) before the panic
//! unwinds.
//!
//! A panic anywhere (a bug, a poisoned assumption) means the daemon can no longer vouch for
//! the door, so the relay goes where the site wants a door nobody controls: locked for
//! fail-secure, released for fail-safe. The previous hook (the usual message) runs after.

use std::sync::{
    atomic::{AtomicU64, Ordering},
    Arc, Mutex, Once,
};

use hal::Relay;
use serde::{Deserialize, Serialize};

/// The state the lock takes when the daemon is not in control of it (clean stop, panic).
/// At start the daemon always drives the lock engaged (or released in `held_open` mode).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailMode {
    /// Locked on failure: strikes and bolts on doors that must stay secure.
    #[default]
    FailSecure,
    /// Released on failure: maglocks on escape routes, where fire codes want free egress.
    FailSafe,
}

impl FailMode {
    /// Whether the lock is engaged in the failure state.
    pub fn locked_on_failure(self) -> bool {
        self == FailMode::FailSecure
    }
}

type Registry = Vec<(u64, Arc<dyn Relay>, bool)>;

static REGISTRY: Mutex<Registry> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static HOOK: Once = Once::new();

/// Keeps a relay under the panic hook's protection; dropping it ends the protection.
#[derive(Debug)]
pub struct RelayGuard {
    id: u64,
}

/// Puts `relay` under the panic hook: on a panic it is set to `locked_on_failure`.
pub fn protect(relay: Arc<dyn Relay>, locked_on_failure: bool) -> RelayGuard {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            fail_all();
            previous(info);
        }));
    });
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    registry().push((id, relay, locked_on_failure));
    RelayGuard { id }
}

impl Drop for RelayGuard {
    fn drop(&mut self) {
        registry().retain(|(id, _, _)| *id != self.id);
    }
}

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Drives every registered relay to its failure state. `try_lock`: a panic while the
/// registry itself is held must not deadlock the hook.
fn fail_all() {
    let relays: Registry = match REGISTRY.try_lock() {
        Ok(registry) => registry.clone(),
        Err(std::sync::TryLockError::Poisoned(poisoned)) => poisoned.into_inner().clone(),
        Err(std::sync::TryLockError::WouldBlock) => return,
    };
    for (_, relay, locked) in relays {
        // Nothing more can be done about an error here; the message goes to stderr.
        if let Err(e) = relay.set_locked(locked) {
            eprintln!("gerbang: could not drive the relay to its failure state: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hal::sim::SimRelay;

    #[test]
    fn a_panic_drives_protected_relays_to_their_failure_state_only_while_guarded() {
        let secure = SimRelay::new(false);
        let safe = SimRelay::new(true);
        let released_later = SimRelay::new(false);
        let guard_secure = protect(Arc::new(secure.clone()), true);
        let _guard_safe = protect(Arc::new(safe.clone()), false);
        {
            let _short = protect(Arc::new(released_later.clone()), true);
        }
        let result = std::thread::spawn(|| panic!("simulated bug in the door task")).join();
        assert!(result.is_err());
        assert!(
            secure.is_locked(),
            "fail-secure relay locked by the panic hook"
        );
        assert!(
            !safe.is_locked(),
            "fail-safe relay released by the panic hook"
        );
        assert!(
            !released_later.is_locked(),
            "a relay whose guard was dropped is left alone"
        );
        drop(guard_secure);
    }
}
