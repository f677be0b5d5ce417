//! Who is in which ChatMe room right now, kept in memory by the process that holds the
//! sockets: the users in each live and party room (a user with two tabs counts once), each
//! live room's session and host, and whether the host is away (the auto-end timer asks).

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use uuid::Uuid;

/// The session a live room belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveRoom {
    pub session: Uuid,
    pub host: Uuid,
}

#[derive(Debug, Default)]
struct Room {
    live: Option<LiveRoom>,
    /// Sockets in the room per user.
    members: HashMap<Uuid, usize>,
    /// Bumped whenever the host leaves; an auto-end timer only fires for the absence it
    /// was started for.
    host_absence: u64,
}

impl Room {
    fn viewers(&self) -> usize {
        let host = self.live.map(|l| l.host);
        self.members.keys().filter(|u| Some(**u) != host).count()
    }

    fn host_present(&self) -> bool {
        self.live
            .is_some_and(|l| self.members.contains_key(&l.host))
    }
}

/// What a join changed.
#[derive(Debug, Clone, Copy)]
pub struct Joined {
    /// The user's first socket in the room (announce them).
    pub first: bool,
    /// Distinct users in the room other than the host.
    pub viewers: usize,
}

/// What a leave changed.
#[derive(Debug, Clone, Copy)]
pub struct Left {
    /// The user's last socket left the room (announce it).
    pub last: bool,
    pub viewers: usize,
    /// The host's last socket left: the absence to time, if the room is live.
    pub host_away: Option<(LiveRoom, u64)>,
}

/// Room membership of every socket of this process.
#[derive(Debug, Default)]
pub struct Hub {
    rooms: Mutex<HashMap<String, Room>>,
}

impl Hub {
    fn rooms(&self) -> MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One more socket of `user` in `room`.
    pub fn join(&self, room: &str, live: Option<LiveRoom>, user: Uuid) -> Joined {
        let mut rooms = self.rooms();
        let entry = rooms.entry(room.to_owned()).or_default();
        if entry.live.is_none() {
            entry.live = live;
        }
        let sockets = entry.members.entry(user).or_default();
        *sockets += 1;
        Joined {
            first: *sockets == 1,
            viewers: entry.viewers(),
        }
    }

    /// One socket of `user` fewer in `room` (`None` when it was not there).
    pub fn leave(&self, room: &str, user: Uuid) -> Option<Left> {
        let mut rooms = self.rooms();
        let entry = rooms.get_mut(room)?;
        let sockets = entry.members.get_mut(&user)?;
        *sockets -= 1;
        let last = *sockets == 0;
        if last {
            entry.members.remove(&user);
        }
        let mut host_away = None;
        if let Some(live) = entry.live {
            if last && live.host == user {
                entry.host_absence += 1;
                host_away = Some((live, entry.host_absence));
            }
        }
        let left = Left {
            last,
            viewers: entry.viewers(),
            host_away,
        };
        if entry.members.is_empty() && entry.live.is_none() {
            rooms.remove(room);
        }
        Some(left)
    }

    /// True when the host is still away since the absence `absence` began.
    pub fn still_away(&self, room: &str, absence: u64) -> bool {
        self.rooms()
            .get(room)
            .is_some_and(|r| !r.host_present() && r.host_absence == absence)
    }

    /// Distinct viewers in `room` now.
    pub fn viewers(&self, room: &str) -> usize {
        self.rooms().get(room).map_or(0, Room::viewers)
    }

    /// The room's session ended: it is forgotten (its sockets are told by the caller).
    pub fn close(&self, room: &str) {
        self.rooms().remove(room);
    }
}
