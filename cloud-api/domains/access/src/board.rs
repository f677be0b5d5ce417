//! The door board: `GET /api/door/status` answers kept in memory, already serialised, so
//! an authenticated read costs no database round trip. It is used on PostgreSQL only,
//! where the database itself says what changed: triggers on `devices` and `door_status`
//! `NOTIFY` the changed device's id on commit (migration `m0031_door_status_notify`), and
//! every replica `LISTEN`s. That catches every writer — other replicas, maintenance SQL.
//! This replica's own commits also drop their entries at once (`DoorProjector::committed`),
//! so a client that wrote through this replica never reads what it wrote over.
//!
//! An entry is stored only if nothing changed while it was loaded (one counter, bumped by
//! every change), and while the listener is down nothing is served from memory: the route
//! reads the database as it does on SQLite, whose single in-process writer has no need of
//! a cache in front of an in-process query.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicBool, Ordering},
        RwLock,
    },
};

use axum::body::Bytes;
use platform::db::notify::{self, ChangeSink};
use sea_orm::{DatabaseConnection, DbErr};
use tokio_util::sync::CancellationToken;

use crate::status::{self, DoorStatusView};

/// The channel the triggers notify; the payload is the device id.
pub const CHANNEL: &str = "gerbang_door_status";

#[derive(Debug, Default)]
struct Entries {
    /// Bumped by every change; a load stores its answer only if this did not move.
    changes: u64,
    /// `?device_id=…`: each door's answer, looked up by the id as asked (no allocation).
    doors: HashMap<String, Bytes>,
    /// No `device_id`: the only door, or the list of them all.
    all: Option<Bytes>,
}

impl Entries {
    fn get(&self, device: Option<&str>) -> Option<&Bytes> {
        match device {
            Some(id) => self.doors.get(id),
            None => self.all.as_ref(),
        }
    }

    fn insert(&mut self, device: Option<&str>, body: Bytes) {
        match device {
            Some(id) => {
                self.doors.insert(id.to_owned(), body);
            }
            None => self.all = Some(body),
        }
    }
}

/// The board of one cloud replica.
#[derive(Debug, Default)]
pub struct DoorBoard {
    /// True while the listener hears every change (PostgreSQL, connected).
    live: AtomicBool,
    entries: RwLock<Entries>,
}

/// An answer of the status route: the body, or no door at all.
pub type Answer = Option<Bytes>;

impl DoorBoard {
    /// The answer for one door (`Some(id)`) or for all of them, from memory when the board
    /// is live, else from the database (and remembered when nothing changed meanwhile).
    pub async fn answer(
        &self,
        db: &DatabaseConnection,
        device: Option<&str>,
    ) -> Result<Answer, DbErr> {
        let live = self.live.load(Ordering::Acquire);
        let before = {
            let entries = self.read();
            if live {
                if let Some(body) = entries.get(device) {
                    return Ok(Some(body.clone()));
                }
            }
            entries.changes
        };
        let doors = status::list(db, device).await?;
        let Some(body) = render(device.is_some(), &doors) else {
            return Ok(None);
        };
        if live {
            let mut entries = self.write();
            if entries.changes == before && self.live.load(Ordering::Acquire) {
                entries.insert(device, body.clone());
            }
        }
        Ok(Some(body))
    }

    /// A device's status or registration changed: its answer and the list are dropped.
    pub fn changed(&self, device: &str) {
        let mut entries = self.write();
        entries.changes += 1;
        entries.doors.remove(device);
        entries.all = None;
    }

    /// Keeps the board in step with the database's notifications until `shutdown`; on
    /// SQLite it stays off and every read goes to the database.
    pub async fn listen(&self, db: DatabaseConnection, shutdown: CancellationToken) {
        notify::follow(db, CHANNEL, self, shutdown).await;
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl ChangeSink for DoorBoard {
    fn changed(&self, device: &str) {
        DoorBoard::changed(self, device);
    }

    /// Drops every answer (a change may have gone unheard).
    fn forget_all(&self) {
        let mut entries = self.write();
        entries.changes += 1;
        entries.doors.clear();
        entries.all = None;
    }

    fn set_live(&self, live: bool) {
        self.live.store(live, Ordering::Release);
    }
}

/// The body seed 000's route answers: the asked-for door, the only door, or the list; `None`
/// when there is no such door.
fn render(one: bool, doors: &[DoorStatusView]) -> Option<Bytes> {
    let body = match (one, doors) {
        (_, []) => return None,
        (true, [first, ..]) | (false, [first]) => serde_json::to_vec(first),
        (false, all) => serde_json::to_vec(all),
    };
    // Serialising these plain structs cannot fail.
    body.ok().map(Bytes::from)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn door(id: &str) -> DoorStatusView {
        DoorStatusView {
            id: id.into(),
            device_id: id.into(),
            site: "s".into(),
            name: id.into(),
            locked: Some(true),
            battery_level: None,
            last_update: None,
            camera_active: None,
            door_open: None,
            mode: None,
            online: false,
        }
    }

    #[test]
    fn one_door_is_an_object_and_several_a_list() {
        assert_eq!(render(false, &[]), None);
        let one: serde_json::Value =
            serde_json::from_slice(&render(false, &[door("a")]).unwrap()).unwrap();
        assert_eq!(one["id"], "a");
        let all: serde_json::Value =
            serde_json::from_slice(&render(false, &[door("a"), door("b")]).unwrap()).unwrap();
        assert_eq!(all.as_array().map(Vec::len), Some(2));
        let asked: serde_json::Value =
            serde_json::from_slice(&render(true, &[door("b")]).unwrap()).unwrap();
        assert_eq!(asked["id"], "b");
    }

    #[test]
    fn a_change_drops_the_door_and_the_list_but_not_the_others() {
        let board = DoorBoard::default();
        {
            let mut e = board.write();
            e.insert(Some("a"), Bytes::from_static(b"a"));
            e.insert(Some("b"), Bytes::from_static(b"b"));
            e.insert(None, Bytes::from_static(b"ab"));
        }
        board.changed("a");
        let e = board.read();
        assert_eq!(e.changes, 1);
        assert!(e.get(Some("a")).is_none());
        assert!(e.get(None).is_none());
        assert!(e.get(Some("b")).is_some());
    }
}
