//! The camera tables: camera records (snapshots in the object store, with the person an
//! access decision tied them to) and system settings (door settings per device).
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
    PersonId,
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

/// Migration 16 (camera): `camera_records.person_id`, the person an access decision tied a
/// snapshot to (set by the camera's projector in the ingest transaction), indexed for a
/// person's erasure and export.
pub struct M0016CameraRecordsPerson;

impl MigrationName for M0016CameraRecordsPerson {
    fn name(&self) -> &str {
        "m0016_camera_records_person"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0016CameraRecordsPerson {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CameraRecords::Table)
                    .add_column(string_null(CameraRecords::PersonId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_camera_records_person")
                    .table(CameraRecords::Table)
                    .col(CameraRecords::PersonId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum CameraEvidence {
    Table,
    Id,
    DeviceId,
    PersonId,
    Erased,
    ClaimedAt,
}

/// Migration 30 (camera): `camera_evidence`, where an access decision and the evidence
/// snapshot a device named with its own id meet, whichever arrives first (see
/// `crate::evidence`).
pub struct M0030CameraEvidence;

impl MigrationName for M0030CameraEvidence {
    fn name(&self) -> &str {
        "m0030_camera_evidence"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0030CameraEvidence {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CameraEvidence::Table)
                    .col(pk_uuid(CameraEvidence::Id))
                    .col(string(CameraEvidence::DeviceId))
                    .col(string_null(CameraEvidence::PersonId))
                    .col(boolean(CameraEvidence::Erased).default(false))
                    .col(timestamp_with_time_zone(CameraEvidence::ClaimedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_camera_evidence_person")
                    .table(CameraEvidence::Table)
                    .col(CameraEvidence::PersonId)
                    .to_owned(),
            )
            .await
    }
}
