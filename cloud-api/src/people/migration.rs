//! The people, attendance and camera tables: access profiles (weekly windows), encrypted
//! face templates, the gallery version, attendance records (one per person per site-local
//! day), camera records (snapshots in the object store) and system settings (door settings).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
enum PeopleProfiles {
    Table,
    UserId,
    Windows,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum FaceTemplates {
    Table,
    Id,
    UserId,
    EmbedderSha256,
    Sealed,
    CreatedAt,
}

#[derive(DeriveIden)]
enum GalleryState {
    Table,
    Id,
    Version,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Attendance {
    Table,
    Id,
    UserId,
    LocalDate,
    Timestamp,
    Status,
    Source,
    DeviceId,
    Direction,
    Late,
    Score,
    CreatedAt,
    CheckOut,
}

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

pub(crate) struct M0010People;

impl MigrationName for M0010People {
    fn name(&self) -> &str {
        "m0010_people"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0010People {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PeopleProfiles::Table)
                    .col(pk_uuid(PeopleProfiles::UserId))
                    .col(text(PeopleProfiles::Windows))
                    .col(timestamp_with_time_zone(PeopleProfiles::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FaceTemplates::Table)
                    .col(pk_uuid(FaceTemplates::Id))
                    .col(uuid(FaceTemplates::UserId))
                    .col(string(FaceTemplates::EmbedderSha256))
                    .col(blob(FaceTemplates::Sealed))
                    .col(timestamp_with_time_zone(FaceTemplates::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_face_templates_user")
                    .table(FaceTemplates::Table)
                    .col(FaceTemplates::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GalleryState::Table)
                    .col(integer(GalleryState::Id).primary_key())
                    .col(big_integer(GalleryState::Version).default(0))
                    .col(timestamp_with_time_zone_null(GalleryState::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(GalleryState::Table)
            .columns([GalleryState::Id, GalleryState::Version])
            .values_panic([1.into(), 0i64.into()])
            .to_owned();
        manager.exec_stmt(insert).await?;
        manager
            .create_table(
                Table::create()
                    .table(Attendance::Table)
                    .col(pk_uuid(Attendance::Id))
                    .col(uuid(Attendance::UserId))
                    .col(string(Attendance::LocalDate))
                    .col(timestamp_with_time_zone(Attendance::Timestamp))
                    .col(string(Attendance::Status))
                    .col(string(Attendance::Source))
                    .col(string_null(Attendance::DeviceId))
                    .col(string(Attendance::Direction))
                    .col(boolean(Attendance::Late).default(false))
                    .col(double_null(Attendance::Score))
                    .col(timestamp_with_time_zone(Attendance::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // One record per person per site-local day, whichever way it arrived.
        manager
            .create_index(
                Index::create()
                    .name("uq_attendance_user_day")
                    .table(Attendance::Table)
                    .col(Attendance::UserId)
                    .col(Attendance::LocalDate)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
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
                    .name("idx_camera_records_time")
                    .table(CameraRecords::Table)
                    .col(CameraRecords::Timestamp)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
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

/// Migration 11: the day's last check-out on the attendance record (kiosks send check-outs
/// too; the day's record keeps the first check-in and the last check-out).
pub(crate) struct M0011AttendanceCheckOut;

impl MigrationName for M0011AttendanceCheckOut {
    fn name(&self) -> &str {
        "m0011_attendance_check_out"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0011AttendanceCheckOut {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Attendance::Table)
                    .add_column(timestamp_with_time_zone_null(Attendance::CheckOut))
                    .to_owned(),
            )
            .await
    }
}
