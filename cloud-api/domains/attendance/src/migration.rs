//! The attendance table: one record per person per site-local day (seed 001), and the
//! day's last check-out.
//!
//! Until the domains became crates, `m0010_people` created this table; `m0010_attendance`
//! creates it only where it does not exist yet, so databases of either age end the same.

use sea_orm_migration::{prelude::*, schema::*};

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

/// Migration 10 (attendance): the table and its one-per-day index.
pub struct M0010Attendance;

impl MigrationName for M0010Attendance {
    fn name(&self) -> &str {
        "m0010_attendance"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0010Attendance {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .if_not_exists()
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
                    .if_not_exists()
                    .name("uq_attendance_user_day")
                    .table(Attendance::Table)
                    .col(Attendance::UserId)
                    .col(Attendance::LocalDate)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}

/// Migration 11: the day's last check-out on the attendance record (kiosks send check-outs
/// too; the day's record keeps the first check-in and the last check-out).
pub struct M0011AttendanceCheckOut;

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
