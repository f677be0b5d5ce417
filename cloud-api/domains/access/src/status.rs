//! Seed 000's `Door_Status`, kept per device from its events and retained state. Every field
//! remembers the seq that last set it, so the newest seq wins however late events arrive.

use protocol::{DeviceState, Envelope, Event};
use sea_orm::{
    entity::prelude::*, sea_query::OnConflict, ConnectionTrait, DbErr, EntityTrait,
    FromQueryResult, Set,
};
use serde::Serialize;
use time::OffsetDateTime;

use platform::sql::stmt;

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

/// One row of the devices ⟕ door status join.
#[derive(Debug, FromQueryResult)]
struct DoorRow {
    id: String,
    site: String,
    name: String,
    online: bool,
    locked: Option<bool>,
    battery_level: Option<i32>,
    last_update: Option<OffsetDateTime>,
    camera_active: Option<bool>,
    door_open: Option<bool>,
    mode: Option<String>,
}

/// Every device's door status, in device order; `only` narrows to one device. One query
/// (a device with no status yet has every door field `null`), so the answer is as current
/// as the tables ingest writes in its transaction.
pub async fn list(
    db: &DatabaseConnection,
    only: Option<&str>,
) -> Result<Vec<DoorStatusView>, DbErr> {
    let mut sql = String::from(
        "SELECT d.id, d.site, d.name, d.online, s.locked, s.battery_level, s.last_update, \
         s.camera_active, s.door_open, s.mode \
         FROM devices d LEFT JOIN door_status s ON s.device_id = d.id",
    );
    let mut values = Vec::new();
    if let Some(id) = only {
        sql.push_str(" WHERE d.id = ?");
        values.push(id.into());
    }
    sql.push_str(" ORDER BY d.id");
    let rows = DoorRow::find_by_statement(stmt(db.get_database_backend(), &sql, values))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| DoorStatusView {
            id: r.id.clone(),
            device_id: r.id,
            site: r.site,
            name: r.name,
            locked: r.locked,
            battery_level: r.battery_level,
            last_update: r.last_update,
            camera_active: r.camera_active,
            door_open: r.door_open,
            mode: r.mode,
            online: r.online,
        })
        .collect())
}
