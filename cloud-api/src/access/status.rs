//! Seed 000's `Door_Status`, kept per device from its events and retained state. Every field
//! remembers the seq that last set it, so the newest seq wins however late events arrive.

use protocol::{DeviceState, Envelope, Event};
use sea_orm::{
    entity::prelude::*, sea_query::OnConflict, ConnectionTrait, DbErr, EntityTrait, QueryOrder, Set,
};
use serde::Serialize;
use time::OffsetDateTime;

/// The `door_status` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "door_status")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub device_id: String,
        pub locked: Option<bool>,
        pub battery_level: Option<i32>,
        pub door_open: Option<bool>,
        pub camera_active: Option<bool>,
        pub mode: Option<String>,
        pub last_update: Option<TimeDateTimeWithTimeZone>,
        pub locked_seq: i64,
        pub battery_seq: i64,
        pub door_seq: i64,
        pub mode_seq: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What one event or state message says about the door.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DoorUpdate {
    pub seq: i64,
    pub ts: Option<OffsetDateTime>,
    pub locked: Option<bool>,
    pub battery_level: Option<i32>,
    pub door_open: Option<bool>,
    pub camera_active: Option<bool>,
    pub mode: Option<String>,
}

fn mode_name(mode: protocol::DoorMode) -> String {
    serde_json::to_value(mode)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "normal".into())
}

impl DoorUpdate {
    /// The door facts an event carries, if any.
    pub fn from_event(envelope: &Envelope) -> Option<Self> {
        let base = DoorUpdate {
            seq: envelope.seq.min(i64::MAX as u64) as i64,
            ts: Some(envelope.ts),
            ..Default::default()
        };
        let update = match &envelope.event {
            Event::Relay { locked, .. } => DoorUpdate {
                locked: Some(*locked),
                ..base
            },
            Event::Battery { percent, .. } => DoorUpdate {
                battery_level: Some(i32::from(*percent)),
                ..base
            },
            Event::DoorOpened | Event::ForcedOpen | Event::HeldOpen { .. } => DoorUpdate {
                door_open: Some(true),
                ..base
            },
            Event::DoorClosed { .. } => DoorUpdate {
                door_open: Some(false),
                ..base
            },
            Event::DeviceStatus { mode, .. } => DoorUpdate {
                mode: Some(mode_name(*mode)),
                ..base
            },
            _ => return None,
        };
        Some(update)
    }

    /// The door facts of a retained state message; they hold as of its `last_seq`.
    pub fn from_state(state: &DeviceState) -> Self {
        DoorUpdate {
            seq: state.last_seq.min(i64::MAX as u64) as i64,
            ts: Some(state.ts),
            locked: Some(state.locked),
            battery_level: state.battery_percent.map(i32::from),
            door_open: Some(state.door_open),
            camera_active: Some(state.camera_active),
            mode: Some(mode_name(state.mode)),
        }
    }
}

/// Folds updates (any order) into the device's door status.
pub async fn apply(
    db: &impl ConnectionTrait,
    device: &str,
    updates: &[DoorUpdate],
) -> Result<(), DbErr> {
    if updates.is_empty() {
        return Ok(());
    }
    let current = entity::Entity::find_by_id(device.to_owned())
        .one(db)
        .await?;
    let mut row = current.unwrap_or(entity::Model {
        device_id: device.to_owned(),
        locked: None,
        battery_level: None,
        door_open: None,
        camera_active: None,
        mode: None,
        last_update: None,
        locked_seq: 0,
        battery_seq: 0,
        door_seq: 0,
        mode_seq: 0,
    });
    for u in updates {
        if let Some(v) = u.locked.filter(|_| u.seq >= row.locked_seq) {
            row.locked = Some(v);
            row.locked_seq = u.seq;
        }
        if let Some(v) = u.battery_level.filter(|_| u.seq >= row.battery_seq) {
            row.battery_level = Some(v);
            row.battery_seq = u.seq;
        }
        if let Some(v) = u.door_open.filter(|_| u.seq >= row.door_seq) {
            row.door_open = Some(v);
            row.door_seq = u.seq;
        }
        if let Some(v) = u.mode.as_ref().filter(|_| u.seq >= row.mode_seq) {
            row.mode = Some(v.clone());
            row.mode_seq = u.seq;
        }
        if let Some(v) = u.camera_active {
            row.camera_active = Some(v);
        }
        if let Some(ts) = u.ts {
            if row.last_update.is_none_or(|prev| ts > prev) {
                row.last_update = Some(ts);
            }
        }
    }
    use entity::Column as C;
    let active = entity::ActiveModel {
        device_id: Set(row.device_id),
        locked: Set(row.locked),
        battery_level: Set(row.battery_level),
        door_open: Set(row.door_open),
        camera_active: Set(row.camera_active),
        mode: Set(row.mode),
        last_update: Set(row.last_update),
        locked_seq: Set(row.locked_seq),
        battery_seq: Set(row.battery_seq),
        door_seq: Set(row.door_seq),
        mode_seq: Set(row.mode_seq),
    };
    entity::Entity::insert(active)
        .on_conflict(
            OnConflict::column(C::DeviceId)
                .update_columns([
                    C::Locked,
                    C::BatteryLevel,
                    C::DoorOpen,
                    C::CameraActive,
                    C::Mode,
                    C::LastUpdate,
                    C::LockedSeq,
                    C::BatterySeq,
                    C::DoorSeq,
                    C::ModeSeq,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// A door as `GET /api/door/status` shows it (seed 000 `Door_Status` plus a few fields).
#[derive(Debug, Clone, Serialize)]
pub struct DoorStatusView {
    /// The device id (seed 000 `id`).
    pub id: String,
    pub device_id: String,
    pub site: String,
    pub name: String,
    pub locked: Option<bool>,
    pub battery_level: Option<i32>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_update: Option<OffsetDateTime>,
    pub camera_active: Option<bool>,
    pub door_open: Option<bool>,
    pub mode: Option<String>,
    pub online: bool,
}

/// Every device's door status, in device order; `only` narrows to one device.
pub async fn list(
    db: &DatabaseConnection,
    only: Option<&str>,
) -> Result<Vec<DoorStatusView>, DbErr> {
    use crate::platform::db::entities::device;
    let mut query = device::Entity::find();
    if let Some(id) = only {
        query = query.filter(device::Column::Id.eq(id));
    }
    let devices = query.order_by_asc(device::Column::Id).all(db).await?;
    let statuses = entity::Entity::find().all(db).await?;
    Ok(devices
        .into_iter()
        .map(|d| {
            let s = statuses.iter().find(|s| s.device_id == d.id);
            DoorStatusView {
                id: d.id.clone(),
                device_id: d.id,
                site: d.site,
                name: d.name,
                locked: s.and_then(|s| s.locked),
                battery_level: s.and_then(|s| s.battery_level),
                last_update: s.and_then(|s| s.last_update),
                camera_active: s.and_then(|s| s.camera_active),
                door_open: s.and_then(|s| s.door_open),
                mode: s.and_then(|s| s.mode.clone()),
                online: d.online,
            }
        })
        .collect())
}
