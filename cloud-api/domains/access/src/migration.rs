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
