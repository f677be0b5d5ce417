//! The access domain's tables: the door status of seed 000 (`Door_Status`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum DoorStatus {
    Table,
    DeviceId,
    Locked,
    BatteryLevel,
    DoorOpen,
    CameraActive,
    Mode,
    LastUpdate,
    LockedSeq,
    BatterySeq,
    DoorSeq,
    ModeSeq,
}

pub(crate) struct M0002Access;

impl MigrationName for M0002Access {
    fn name(&self) -> &str {
        "m0002_access"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0002Access {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Each field remembers the seq of the event that last set it, so an older event
        // delivered late never overwrites a newer value.
        manager
            .create_table(
                Table::create()
                    .table(DoorStatus::Table)
                    .col(string(DoorStatus::DeviceId).primary_key())
                    .col(boolean_null(DoorStatus::Locked))
                    .col(integer_null(DoorStatus::BatteryLevel))
                    .col(boolean_null(DoorStatus::DoorOpen))
                    .col(boolean_null(DoorStatus::CameraActive))
                    .col(string_null(DoorStatus::Mode))
                    .col(timestamp_with_time_zone_null(DoorStatus::LastUpdate))
                    .col(big_integer(DoorStatus::LockedSeq).default(0))
                    .col(big_integer(DoorStatus::BatterySeq).default(0))
                    .col(big_integer(DoorStatus::DoorSeq).default(0))
                    .col(big_integer(DoorStatus::ModeSeq).default(0))
                    .to_owned(),
            )
            .await
    }
}

/// On PostgreSQL, triggers that `NOTIFY` a door's id on every change a status answer shows
/// (its `door_status` row; its registration, name, site or online flag in `devices`), so
/// every replica's [`crate::board::DoorBoard`] hears of it on commit. Nothing on SQLite.
pub(crate) struct M0031DoorStatusNotify;

impl MigrationName for M0031DoorStatusNotify {
    fn name(&self) -> &str {
        "m0031_door_status_notify"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0031DoorStatusNotify {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let channel = crate::board::CHANNEL;
        let notify = |column: &str| {
            format!(
                "BEGIN
                   IF TG_OP = 'DELETE' THEN
                     PERFORM pg_notify('{channel}', OLD.{column});
                   ELSE
                     PERFORM pg_notify('{channel}', NEW.{column});
                   END IF;
                   RETURN NULL;
                 END"
            )
        };
        let statements = [
            format!(
                "CREATE OR REPLACE FUNCTION gerbang_door_status_changed() RETURNS trigger AS $$ {} $$ LANGUAGE plpgsql",
                notify("device_id")
            ),
            format!(
                "CREATE OR REPLACE FUNCTION gerbang_door_device_changed() RETURNS trigger AS $$ {} $$ LANGUAGE plpgsql",
                notify("id")
            ),
            "CREATE TRIGGER door_status_notify AFTER INSERT OR UPDATE OR DELETE ON door_status \
             FOR EACH ROW EXECUTE FUNCTION gerbang_door_status_changed()"
                .into(),
            "CREATE TRIGGER devices_door_notify AFTER INSERT OR DELETE ON devices \
             FOR EACH ROW EXECUTE FUNCTION gerbang_door_device_changed()"
                .into(),
            // Ingest updates `devices` on every batch (counters, last seen): only the columns
            // a status answer shows wake the replicas.
            "CREATE TRIGGER devices_door_notify_update AFTER UPDATE ON devices FOR EACH ROW \
             WHEN (OLD.online IS DISTINCT FROM NEW.online OR OLD.name IS DISTINCT FROM NEW.name \
             OR OLD.site IS DISTINCT FROM NEW.site OR OLD.id IS DISTINCT FROM NEW.id) \
             EXECUTE FUNCTION gerbang_door_device_changed()"
                .into(),
        ];
        for statement in statements {
            manager
                .get_connection()
                .execute_unprepared(&statement)
                .await?;
        }
        Ok(())
    }
}
