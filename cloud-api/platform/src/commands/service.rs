//! Sending a command and waiting for its ack. Acks may arrive at another replica (shared
//! subscriptions), so the waiter also watches the command's row, not only its own channel.

use std::{collections::HashMap, sync::Mutex, time::Duration};

use protocol::{Channel, Command, CommandAck, CommandEnvelope, DeviceId, Topic};
use sea_orm::{sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use time::OffsetDateTime;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::{
    db::entities::command,
    error::{DbContext, ServiceError},
    i18n::Msg,
    state::Platform,
};

/// How long a command stays valid on the device side.
pub const COMMAND_TTL: Duration = Duration::from_secs(30);

/// Commands waiting for their ack in this process.
#[derive(Debug, Default)]
pub struct PendingCommands {
    waiters: Mutex<HashMap<Uuid, oneshot::Sender<CommandAck>>>,
}

impl PendingCommands {
    fn register(&self, id: Uuid) -> oneshot::Receiver<CommandAck> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut waiters) = self.waiters.lock() {
            waiters.insert(id, tx);
        }
        rx
    }

    fn remove(&self, id: &Uuid) -> Option<oneshot::Sender<CommandAck>> {
        self.waiters.lock().ok()?.remove(id)
    }
}

/// What became of a command.
#[derive(Debug, Clone, Serialize)]
pub struct CommandOutcome {
    pub id: Uuid,
    /// `acked` or `failed` (the device refused or could not do it).
    pub status: &'static str,
    pub ack: CommandAck,
}

/// Seals, stores and publishes `command`, then waits up to the configured timeout for the ack.
pub async fn send_command(
    platform: &Platform,
    device_id: &DeviceId,
    command: Command,
) -> Result<CommandOutcome, ServiceError> {
    if let Command::Unlock { duration_ms } = command {
        if duration_ms == 0 || duration_ms > protocol::command::MAX_UNLOCK_MS {
            return Err(ServiceError::Invalid(Msg::owned(
                format!("duration_ms harus 1–{}", protocol::command::MAX_UNLOCK_MS),
                format!("duration_ms must be 1–{}", protocol::command::MAX_UNLOCK_MS),
            )));
        }
    }
    let device = platform
        .devices
        .get(&platform.db, device_id)
        .await?
        .ok_or_else(|| {
            ServiceError::NotFound(Msg::new(
                "Perangkat tidak ditemukan atau belum terdaftar",
                "Device not found or not enrolled",
            ))
        })?;
    let now = OffsetDateTime::now_utc();
    let envelope = CommandEnvelope {
        v: protocol::VERSION,
        id: Uuid::now_v7(),
        device: device.id.clone(),
        issued_at: now,
        expires_at: now + COMMAND_TTL,
        command,
    };
    command::ActiveModel {
        id: Set(envelope.id),
        device_id: Set(device.id.to_string()),
        command: Set(serde_json::to_string(&envelope.command).unwrap_or_default()),
        issued_at: Set(envelope.issued_at),
        expires_at: Set(envelope.expires_at),
        status: Set("pending".into()),
        acked_at: Set(None),
        error: Set(None),
    }
    .insert(&platform.db)
    .await
    .db("storing a command")?;

    let ack_rx = platform.commands.register(envelope.id);
    let topic = Topic::new(&device.site, &device.id, Channel::Commands).to_string();
    let frame = protocol::seal(&envelope, &platform.cloud_key);
    if let Err(err) = platform.mqtt.publish(topic, false, frame).await {
        platform.commands.remove(&envelope.id);
        let _ = command::Entity::update_many()
            .col_expr(command::Column::Status, Expr::value("failed"))
            .col_expr(
                command::Column::Error,
                Expr::value("could not publish to the broker"),
            )
            .filter(command::Column::Id.eq(envelope.id))
            .exec(&platform.db)
            .await;
        return Err(ServiceError::Broker {
            context: "publishing a command",
            message: err.to_string(),
        });
    }
    platform.metrics.commands_sent.inc();
    tracing::info!(device = %device.id, command = envelope.command.name(), id = %envelope.id, "Command sent.");

    let timeout = platform.config.command_timeout();
    let ack = tokio::time::timeout(timeout, wait_for_ack(platform, envelope.id, ack_rx)).await;
    platform.commands.remove(&envelope.id);
    match ack {
        Ok(Some(ack)) => Ok(CommandOutcome {
            id: envelope.id,
            status: if ack.ok { "acked" } else { "failed" },
            ack,
        }),
        _ => {
            command::Entity::update_many()
                .col_expr(command::Column::Status, Expr::value("expired"))
                .filter(command::Column::Id.eq(envelope.id))
                .filter(command::Column::Status.eq("pending"))
                .exec(&platform.db)
                .await
                .db("expiring a command")?;
            tracing::warn!(device = %device.id, id = %envelope.id, "Command not acked in time.");
            Err(ServiceError::DeviceTimeout {
                secs: timeout.as_secs(),
            })
        }
    }
}

/// The ack from this process's MQTT loop, or — when another replica received it — from the
/// command's row.
async fn wait_for_ack(
    platform: &Platform,
    id: Uuid,
    mut rx: oneshot::Receiver<CommandAck>,
) -> Option<CommandAck> {
    let mut poll = tokio::time::interval(Duration::from_millis(500));
    poll.tick().await;
    loop {
        tokio::select! {
            ack = &mut rx => return ack.ok(),
            _ = poll.tick(), if platform.mqtt.external => {
                if let Ok(Some(row)) = command::Entity::find_by_id(id).one(&platform.db).await {
                    if row.status == "acked" || row.status == "failed" {
                        return Some(CommandAck {
                            v: protocol::VERSION,
                            command_id: id,
                            device: DeviceId::parse(&row.device_id).ok()?,
                            ok: row.status == "acked",
                            error: row.error,
                            ts: row.acked_at.unwrap_or_else(OffsetDateTime::now_utc),
                            // The row does not keep the lock state; the door status has it.
                            locked: !matches!(
                                serde_json::from_str::<Command>(&row.command),
                                Ok(Command::Unlock { .. })
                            ),
                        });
                    }
                }
            }
        }
    }
}

/// Handles a frame from an `acks` topic: verify, record, wake the waiter.
pub async fn handle_ack(platform: &Platform, topic: &Topic, payload: &[u8]) {
    let device = match platform.devices.get(&platform.db, &topic.device).await {
        Ok(Some(device)) if device.site == topic.site => device,
        Ok(_) => {
            tracing::warn!(%topic, "Ack from an unknown device or wrong site dropped.");
            return;
        }
        Err(err) => {
            tracing::error!(error = %err, "Device lookup failed for an ack.");
            return;
        }
    };
    let ack: CommandAck = match protocol::open(payload, &device.public_key) {
        Ok(ack) => ack,
        Err(err) => {
            tracing::warn!(%topic, bytes = payload.len(), error = %err, "Ack rejected.");
            return;
        }
    };
    if ack.device != device.id {
        tracing::warn!(%topic, claimed = %ack.device, "Ack names another device; dropped.");
        return;
    }
    let status = if ack.ok { "acked" } else { "failed" };
    let updated = command::Entity::update_many()
        .col_expr(command::Column::Status, Expr::value(status))
        .col_expr(
            command::Column::AckedAt,
            Expr::value(OffsetDateTime::now_utc()),
        )
        .col_expr(command::Column::Error, Expr::value(ack.error.clone()))
        .filter(command::Column::Id.eq(ack.command_id))
        .filter(command::Column::DeviceId.eq(device.id.as_str()))
        .filter(command::Column::Status.eq("pending"))
        .exec(&platform.db)
        .await;
    if let Err(err) = updated {
        tracing::error!(error = %err, "Recording an ack failed.");
    }
    tracing::info!(device = %device.id, id = %ack.command_id, ok = ack.ok, "Command acked.");
    if let Some(waiter) = platform.commands.remove(&ack.command_id) {
        let _ = waiter.send(ack);
    }
}
