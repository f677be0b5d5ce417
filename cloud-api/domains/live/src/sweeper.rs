//! Ends live sessions whose host has gone: every host with a socket connected to this
//! process is present, and each sweep stamps their open session's `host_seen_ms` (so do
//! the start of the session and the host's last disconnect); a session whose host was last
//! present more than `host_grace_ms` ago — a host who never connected, left, or whose cloud
//! restarted — ends by itself and its room hears `live:ended`. The sweep runs at
//! startup and then every quarter of the grace period (at most 15 s), in every replica: the
//! stamps come from whichever replica holds the host's socket, and the ending is one
//! conditional `UPDATE … WHERE end_time IS NULL`, so a session ends once.

use std::{collections::HashSet, time::Duration};

use platform::state::AppState;
use tokio_util::sync::CancellationToken;

use crate::{
    error::LiveError,
    sessions::{end_open_sessions, open_sessions, sessions_seen, Ending},
    socket, unix_ms, LiveRuntime,
};

/// How often a process sweeps, for a grace period of `grace`.
pub fn period(grace: Duration) -> Duration {
    (grace / 4).clamp(Duration::from_millis(100), Duration::from_secs(15))
}

/// Sweeps now and then every [`period`] until `shutdown`.
pub fn spawn(state: &AppState, shutdown: &CancellationToken) {
    let state = state.clone();
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(period(state.domain::<LiveRuntime>().host_grace));
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if let Err(err) = sweep(&state).await {
                tracing::warn!(error = %err, "Sweeping abandoned live sessions failed.");
            }
        }
    });
}

/// One sweep: stamps the sessions whose host is connected here, forgets the rooms of
/// sessions another replica ended, and ends the abandoned ones. Answers how many it ended.
pub async fn sweep(state: &AppState) -> Result<usize, LiveError> {
    let runtime = state.domain::<LiveRuntime>();
    // Taken before the open sessions are read: a room known here whose session is then not
    // open has really ended.
    let known_rooms = runtime.hub.live_rooms();
    let open = open_sessions(&state.db).await?;
    let now_ms = unix_ms(&state.clock);
    let present: Vec<_> = open
        .iter()
        .filter(|(_, host, _)| runtime.hub.is_online(*host))
        .map(|(session, _, _)| *session)
        .collect();
    sessions_seen(&state.db, &present, now_ms).await?;
    let open_rooms: HashSet<&str> = open.iter().map(|(_, _, room)| room.as_str()).collect();
    for room in known_rooms {
        if !open_rooms.contains(room.as_str()) {
            socket::close_room(state, &room).await;
        }
    }
    let grace_ms = i64::try_from(runtime.host_grace.as_millis()).unwrap_or(i64::MAX);
    let ended = end_open_sessions(
        &state.db,
        Ending::AbandonedBefore(now_ms.saturating_sub(grace_ms)),
        state.clock.unix(),
    )
    .await?;
    for session in &ended {
        tracing::info!(room = %session["room_id"], host = %session["host_id"], "Live session ended: its host stayed away.");
        socket::announce_end(state, session, "host-disconnected").await;
    }
    Ok(ended.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_four_times_per_grace_period() {
        assert_eq!(period(Duration::from_secs(60)), Duration::from_secs(15));
        assert_eq!(period(Duration::from_secs(1)), Duration::from_millis(250));
        assert_eq!(period(Duration::ZERO), Duration::from_millis(100));
        assert_eq!(period(Duration::from_secs(3600)), Duration::from_secs(15));
    }
}
