//! Who is in which ChatMe room right now, kept in memory by the process that holds the
//! sockets: the users in each live and party room (a user with two tabs counts once), each
//! live room's session and host, and which users have a socket connected here (a host with
//! one is present: the sweeper refreshes their session's `host_seen_ms`).

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
}

impl Room {
    fn viewers(&self) -> usize {
        let host = self.live.map(|l| l.host);
        self.members.keys().filter(|u| Some(**u) != host).count()
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
}

/// Room membership of every socket of this process.
#[derive(Debug, Default)]
pub struct Hub {
    rooms: Mutex<HashMap<String, Room>>,
    /// Connected sockets per user.
    online: Mutex<HashMap<Uuid, usize>>,
}

impl Hub {
    fn rooms(&self) -> MutexGuard<'_, HashMap<String, Room>> {
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn online(&self) -> MutexGuard<'_, HashMap<Uuid, usize>> {
        self.online.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// One more socket of `user` connected.
    pub fn connect(&self, user: Uuid) {
        *self.online().entry(user).or_default() += 1;
    }

    /// One socket of `user` fewer; true when it was their last.
    pub fn disconnect(&self, user: Uuid) -> bool {
        let mut online = self.online();
        let Some(sockets) = online.get_mut(&user) else {
            return false;
        };
        *sockets -= 1;
        let last = *sockets == 0;
        if last {
            online.remove(&user);
        }
        last
    }

    /// True while `user` has a socket connected to this process.
    pub fn is_online(&self, user: Uuid) -> bool {
        self.online().contains_key(&user)
    }

    /// The live rooms this process knows.
    pub fn live_rooms(&self) -> Vec<String> {
        self.rooms()
            .iter()
            .filter(|(_, r)| r.live.is_some())
            .map(|(name, _)| name.clone())
            .collect()
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
        let left = Left {
            last,
            viewers: entry.viewers(),
        };
        if entry.members.is_empty() && entry.live.is_none() {
            rooms.remove(room);
        }
        Some(left)
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
