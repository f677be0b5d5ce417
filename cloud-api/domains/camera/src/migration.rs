//! The camera tables: camera records (snapshots in the object store) and system settings
//! (door settings per device).
//!
//! Until the domains became crates, `m0010_people` created these tables; `m0010_camera`
//! creates them only where they do not exist yet, so databases of either age end the same.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum CameraRecords {
    Table,
    Id,
    DeviceId,
    ObjectKey,
    Filename,
    Timestamp,
    EventType,
    FileSize,
    CommandId,
}

#[derive(DeriveIden)]
enum SystemSettings {
    Table,
    Key,
    Value,
    UpdatedAt,
    UpdatedBy,
}

/// Migration 10 (camera): camera records and system settings.
pub struct M0010Camera;

impl MigrationName for M0010Camera {
    fn name(&self) -> &str {
        "m0010_camera"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0010Camera {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .if_not_exists()
                    .table(CameraRecords::Table)
                    .col(pk_uuid(CameraRecords::Id))
                    .col(string(CameraRecords::DeviceId))
                    .col(string(CameraRecords::ObjectKey))
                    .col(string(CameraRecords::Filename))
                    .col(timestamp_with_time_zone(CameraRecords::Timestamp))
                    .col(string(CameraRecords::EventType))
                    .col(big_integer(CameraRecords::FileSize))
                    .col(uuid_null(CameraRecords::CommandId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_camera_records_time")
                    .table(CameraRecords::Table)
                    .col(CameraRecords::Timestamp)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .if_not_exists()
                    .table(SystemSettings::Table)
                    .col(string(SystemSettings::Key).primary_key())
                    .col(text(SystemSettings::Value))
                    .col(timestamp_with_time_zone(SystemSettings::UpdatedAt))
                    .col(uuid_null(SystemSettings::UpdatedBy))
                    .to_owned(),
            )
            .await
    }
}
