//! Retained `state` messages: online/offline (the device's last will says `online: false`)
//! and the door facts they carry; pushed to the access admins, and a device going offline
//! notifies them.

use protocol::{DeviceId, DeviceState, Topic};
use sea_orm::{sea_query::Expr, ColumnTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait};
use time::OffsetDateTime;

use crate::{
    db::entities::device,
    notifications::{self, NotificationView},
    state::Platform,
};

/// Handles a frame from a `state` topic. Bad frames are logged, counted and dropped.
pub async fn handle_state(platform: &Platform, topic: &Topic, payload: &[u8]) {
    if payload.is_empty() {
        // A cleared retained message.
        return;
    }
    let known = match platform.devices.get(&platform.db, &topic.device).await {
        Ok(Some(known)) => known,
        Ok(None) => {
            platform.metrics.rejected("unknown_device");
            tracing::warn!(%topic, "State from an unknown device dropped.");
            return;
        }
        Err(err) => {
            tracing::error!(error = %err, "Device lookup failed for a state message.");
            return;
        }
    };
    if known.site != topic.site {
        platform.metrics.rejected("wrong_site");
        tracing::warn!(%topic, expected = %known.site, "State on another site's topic dropped.");
        return;
    }
    let state: DeviceState = match protocol::open(payload, &known.public_key) {
        Ok(state) => state,
        Err(err) => {
            let reason = super::super::ingest::Rejection::Protocol(err);
            platform.metrics.rejected(reason.reason());
            tracing::warn!(%topic, bytes = payload.len(), error = %reason, "State rejected.");
            return;
        }
    };
    if state.device != known.id {
        platform.metrics.rejected("wrong_device");
        tracing::warn!(%topic, claimed = %state.device, "State names another device; dropped.");
        return;
    }
    // Online flag and door facts change together, so readers never see one without the other.
    let notifications = match record(platform, &known.id, &state).await {
        Ok(notifications) => notifications,
        Err(err) => {
            tracing::error!(error = %err, "Recording device state failed.");
            return;
        }
    };
    tracing::debug!(device = %known.id, online = state.online, "Device state updated.");
    notifications::push(platform, &notifications).await;
    platform
        .realtime
        .to_access_admins(
            "device:state",
            &serde_json::json!({
                "device": known.id,
                "site": known.site,
                "online": state.online,
                "locked": state.locked,
                "door_open": state.door_open,
                "battery_percent": state.battery_percent,
                "camera_active": state.camera_active,
                "mode": state.mode,
                "last_seq": state.last_seq,
            }),
        )
        .await;
}

/// Records the state; a device going from online to offline notifies the access admins.
async fn record(
    platform: &Platform,
    device_id: &DeviceId,
    state: &DeviceState,
) -> Result<Vec<NotificationView>, DbErr> {
    // Read before the transaction: on SQLite a transaction that reads first and writes later
    // fails with SQLITE_BUSY when another writer committed in between. State messages are
    // handled one at a time, so nothing changes `online` between this read and the update.
    let was_online = device::Entity::find_by_id(device_id.as_str())
        .one(&platform.db)
        .await?
        .is_some_and(|d| d.online);
    let txn = platform.db.begin().await?;
    // Ingest's lock order (`ingest::store`): the projectors' rows (door status), then the
    // device's. The other way round, a state message and an event batch of the same door
    // deadlocked on PostgreSQL and the state was lost.
    for projector in &platform.projectors {
        projector.device_state(&txn, device_id, state).await?;
    }
    device::Entity::update_many()
        .col_expr(device::Column::Online, Expr::value(state.online))
        .col_expr(
            device::Column::LastSeen,
            Expr::value(OffsetDateTime::now_utc()),
        )
        .col_expr(
            device::Column::Firmware,
            Expr::value(state.firmware.chars().take(100).collect::<String>()),
        )
        .filter(device::Column::Id.eq(device_id.as_str()))
        .exec(&txn)
        .await?;
    let notifications = if was_online && !state.online {
        notifications::notify_admins(
            &txn,
            &[notifications::offline_alert(device_id.as_str())],
            OffsetDateTime::now_utc(),
        )
        .await?
    } else {
        Vec::new()
    };
    txn.commit().await?;
    platform.committed(&[device_id]);
    Ok(notifications)
}
