//! Turning device events into notifications, storing them per recipient, pushing them.

use protocol::{AccessResult, BatteryLevel, DenyReason, Envelope, Event};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    db::entities::{notification, user},
    state::Platform,
};

/// A notification about to be sent to every access admin.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub kind: &'static str,
    pub title: String,
    pub message: String,
    pub device_id: Option<String>,
    pub event_id: Option<Uuid>,
}

/// A notification as the API and the realtime push show it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    pub user_id: Uuid,
    /// `forced_open`, `held_open`, `battery_low`, `battery_critical`, `unknown_face`,
    /// `device_offline`, or an admin's own type.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub message: String,
    pub device_id: Option<String>,
    pub event_id: Option<Uuid>,
    pub read: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl From<notification::Model> for NotificationView {
    fn from(m: notification::Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            kind: m.kind,
            title: m.title,
            message: m.message,
            device_id: m.device_id,
            event_id: m.event_id,
            read: m.read,
            created_at: m.created_at,
        }
    }
}

/// The alert a device event raises, if any. Texts are in Indonesian (the seeds' language);
/// clients localise by `type`.
pub fn alert_for_event(envelope: &Envelope) -> Option<Alert> {
    let device = envelope.device.as_str();
    let (kind, title, message) = match &envelope.event {
        Event::ForcedOpen => (
            "forced_open",
            "Pintu dibuka paksa".to_owned(),
            format!("Pintu {device} terbuka saat terkunci."),
        ),
        Event::HeldOpen { open_secs } => (
            "held_open",
            "Pintu terbuka terlalu lama".to_owned(),
            format!("Pintu {device} terbuka selama {open_secs} detik."),
        ),
        Event::Battery {
            percent,
            level: BatteryLevel::Low,
            ..
        } => (
            "battery_low",
            "Baterai lemah".to_owned(),
            format!("Baterai {device} tinggal {percent}%."),
        ),
        Event::Battery {
            percent,
            level: BatteryLevel::Critical,
            ..
        } => (
            "battery_critical",
            "Baterai kritis".to_owned(),
            format!("Baterai {device} tinggal {percent}%, segera isi daya."),
        ),
        Event::AccessDecision {
            result: AccessResult::Denied,
            reason: Some(DenyReason::UnknownFace),
            ..
        } => (
            "unknown_face",
            "Wajah tidak dikenal".to_owned(),
            format!("Wajah tidak dikenal ditolak di {device}."),
        ),
        _ => return None,
    };
    Some(Alert {
        kind,
        title,
        message,
        device_id: Some(device.to_owned()),
        event_id: Some(envelope.id),
    })
}

/// The alert for a device that went offline.
pub fn offline_alert(device: &str) -> Alert {
    Alert {
        kind: "device_offline",
        title: "Perangkat offline".to_owned(),
        message: format!("Perangkat {device} terputus dari cloud."),
        device_id: Some(device.to_owned()),
        event_id: None,
    }
}

/// Stores one notification per access admin per alert (inside the caller's transaction).
pub async fn notify_admins(
    db: &impl ConnectionTrait,
    alerts: &[Alert],
    now: OffsetDateTime,
) -> Result<Vec<NotificationView>, DbErr> {
    if alerts.is_empty() {
        return Ok(Vec::new());
    }
    let admins: Vec<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::Roles.contains(r#""access":"admin""#))
        .filter(user::Column::Disabled.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    let mut created = Vec::with_capacity(admins.len() * alerts.len());
    for alert in alerts {
        for admin in &admins {
            created.push(notification::Model {
                id: Uuid::now_v7(),
                user_id: *admin,
                kind: alert.kind.to_owned(),
                title: alert.title.clone(),
                message: alert.message.clone(),
                device_id: alert.device_id.clone(),
                event_id: alert.event_id,
                read: false,
                created_at: now,
            });
        }
    }
    for chunk in created.chunks(200) {
        notification::Entity::insert_many(chunk.iter().cloned().map(|m| {
            notification::ActiveModel {
                id: Set(m.id),
                user_id: Set(m.user_id),
                kind: Set(m.kind),
                title: Set(m.title),
                message: Set(m.message),
                device_id: Set(m.device_id),
                event_id: Set(m.event_id),
                read: Set(m.read),
                created_at: Set(m.created_at),
            }
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(created.into_iter().map(NotificationView::from).collect())
}

/// Pushes stored notifications to their users (after the transaction committed).
pub async fn push(platform: &Platform, notifications: &[NotificationView]) {
    for n in notifications {
        platform
            .realtime
            .to_user(n.user_id, "notification", n)
            .await;
    }
}
